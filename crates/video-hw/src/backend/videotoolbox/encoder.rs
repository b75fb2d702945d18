//! The VideoToolbox encode session: frames in, packets out in decoding order (the order
//! the compression callback delivers them, and the order muxers need).
//!
//! Each frame is submitted with a tag (`sourceFrameRefcon`) that keeps its pts and the
//! configuration generation it was submitted under, so every packet carries its own
//! frame's pts and generation whatever VideoToolbox reorders. Samples come back as NAL
//! units with 4-byte length prefixes and the parameter sets in the format description;
//! Annex-B output converts them and puts the parameter sets before each keyframe (every
//! keyframe with `repeat_parameter_sets`, else the first).
//!
//! Bitrate, frame rate and GOP change on the running session
//! ([`super::properties::in_place`]); other changes make the session layer drain this one
//! and open another (generations and switch modes live in [`crate::Encoder`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::EncoderConfig;
use crate::backend::EncoderBackend;
use crate::bitstream::avcc;
use crate::codec::PixelFormat;
use crate::config::FrameOptions;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, HostFrame};
use crate::packet::{Packet, PacketLayout};

use super::api::{EncodeSession, EncodeSetup, Encoded, InputPicture, Layer, SampleTiming, VtPixels};
use super::outbox::Outbox;
use super::{properties, status, timing};

/// How long `submit` and `flush` wait for VideoToolbox before declaring it stuck.
const STUCK_AFTER: Duration = Duration::from_secs(10);

/// What the session keeps of a submitted frame until its packet comes back.
#[derive(Debug, Clone, Copy)]
struct FrameMeta {
    pts: Option<i64>,
    generation: u64,
}

/// A VideoToolbox encode session.
pub(crate) struct VtEncoder {
    config: EncoderConfig,
    session: Box<dyn EncodeSession>,
    outbox: Arc<Outbox<Encoded>>,
    pixels: VtPixels,
    next_tag: u64,
    pending: BTreeMap<u64, FrameMeta>,
    ready: VecDeque<Packet>,
    /// The parameter sets of the last keyframe (VPS, SPS, PPS).
    parameter_sets: Vec<Vec<u8>>,
    /// Whether a keyframe has been output (Annex-B: the first one always gets the sets).
    keyframe_seen: bool,
    /// The NV12/P010 copy of a planar input frame.
    scratch: Vec<u8>,
    /// The first error not reported yet.
    error: Option<Error>,
    /// Frames VideoToolbox dropped (rate control), each logged.
    dropped: u64,
}

impl VtEncoder {
    /// Opens a compression session for `config` on `layer`.
    pub(crate) fn open(layer: Arc<dyn Layer>, config: &EncoderConfig) -> Result<Self> {
        let ten_bit = match config.input_format {
            PixelFormat::Nv12 | PixelFormat::Yuv420p => false,
            PixelFormat::P010 | PixelFormat::Yuv420p10 => true,
            other => {
                return Err(Error::unsupported(
                    format!("{other} input with videotoolbox"),
                    "give nv12 or yuv420p (p010 or yuv420p10 for 10-bit HEVC)",
                ));
            }
        };
        let pixels = VtPixels { ten_bit, full_range: config.color.range == crate::codec::ColorRange::Full };
        let setup = EncodeSetup {
            codec: config.codec,
            width: config.width,
            height: config.height,
            pixels,
            require_hardware: config.require_hardware,
            properties: properties::for_config(config)?,
        };
        let outbox = Arc::new(Outbox::default());
        let session = layer
            .open_encoder(&setup, outbox.clone())
            .map_err(|s| status::error("VTCompressionSessionCreate", s, None))?;
        Ok(VtEncoder {
            config: config.clone(),
            session,
            outbox,
            pixels,
            next_tag: 0,
            pending: BTreeMap::new(),
            ready: VecDeque::new(),
            parameter_sets: Vec::new(),
            keyframe_seen: false,
            scratch: Vec::new(),
            error: None,
            dropped: 0,
        })
    }

    /// Frames VideoToolbox dropped so far.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    fn note(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Takes every callback out of the outbox, in the order they came.
    fn take_results(&mut self) {
        while let Some(encoded) = self.outbox.try_pop() {
            self.packet(encoded);
        }
    }

    /// One callback's sample as a packet, or the reason there is none.
    fn packet(&mut self, encoded: Encoded) {
        let Some(meta) = self.pending.remove(&encoded.tag) else { return };
        let sample = match (encoded.status, encoded.dropped, encoded.sample) {
            (0, false, Some(s)) => s,
            (0, true, _) => {
                self.dropped += 1;
                tracing::warn!(
                    engine = "videotoolbox",
                    pts = ?meta.pts,
                    dropped = self.dropped,
                    "VideoToolbox dropped a frame (its rate control); no packet for it"
                );
                return;
            }
            (0, false, None) => {
                return self.note(Error::backend(
                    "videotoolbox",
                    "sample",
                    "the encoder returned no sample for a frame",
                ));
            }
            (s, _, _) => return self.note(status::error("compression output callback", s, None)),
        };
        if sample.keyframe && !sample.parameter_sets.is_empty() {
            self.parameter_sets = sample.parameter_sets.clone();
        }
        let data = match self.config.layout {
            PacketLayout::LengthPrefixed if sample.nal_length_size == 4 => sample.data,
            PacketLayout::LengthPrefixed => {
                let mut annexb = Vec::with_capacity(sample.data.len());
                let converted = avcc::length_prefixed_to_annexb(&sample.data, sample.nal_length_size, &mut annexb)
                    .and_then(|()| avcc::annexb_to_length_prefixed(&annexb, 4));
                match converted {
                    Ok(d) => d,
                    Err(e) => return self.note(e),
                }
            }
            PacketLayout::AnnexB => {
                let mut out = Vec::with_capacity(sample.data.len() + 64);
                if sample.keyframe && (self.config.repeat_parameter_sets || !self.keyframe_seen) {
                    for set in &self.parameter_sets {
                        out.extend_from_slice(&[0, 0, 0, 1]);
                        out.extend_from_slice(set);
                    }
                }
                if let Err(e) = avcc::length_prefixed_to_annexb(&sample.data, sample.nal_length_size, &mut out) {
                    return self.note(e);
                }
                out
            }
        };
        self.keyframe_seen |= sample.keyframe;
        let dts = sample.timing.dts.and_then(|t| timing::from_media(t, self.config.timebase)).or(meta.pts);
        self.ready.push_back(Packet {
            codec: self.config.codec,
            layout: self.config.layout,
            data,
            pts: meta.pts,
            dts,
            keyframe: sample.keyframe,
            generation: meta.generation,
        });
    }

    /// Waits until at most `limit` frames are pending.
    fn wait_until_pending_at_most(&mut self, limit: usize) -> Result<()> {
        let deadline = Instant::now() + STUCK_AFTER;
        self.take_results();
        while self.pending.len() > limit {
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::backend(
                    "videotoolbox",
                    "timeout",
                    format!(
                        "no packet came back in {} s ({} frames pending)",
                        STUCK_AFTER.as_secs(),
                        self.pending.len()
                    ),
                ));
            }
            if let Some(encoded) = self.outbox.pop_timeout(deadline - now) {
                self.packet(encoded);
            }
            self.take_results();
        }
        Ok(())
    }

    /// The frame's planes as the session's pixel buffers hold them (NV12 or P010):
    /// semi-planar input as it is, planar input interleaved into `scratch`.
    fn planes<'a>(
        format: PixelFormat,
        host: &'a HostFrame,
        scratch: &'a mut Vec<u8>,
    ) -> Result<[(&'a [u8], usize); 2]> {
        let bytes = host.as_bytes();
        let plane = |i: usize| {
            let p = host.plane(i);
            bytes.get(p.offset..).map(|d| (d, p)).ok_or_else(|| Error::invalid_input("frame plane outside its buffer"))
        };
        match format {
            PixelFormat::Nv12 | PixelFormat::P010 => {
                let (y, yl) = plane(0)?;
                let (uv, uvl) = plane(1)?;
                Ok([(y, yl.stride), (uv, uvl.stride)])
            }
            PixelFormat::Yuv420p | PixelFormat::Yuv420p10 => {
                let wide = format == PixelFormat::Yuv420p10;
                let (u, ul) = plane(1)?;
                let (v, vl) = plane(2)?;
                interleave(u, ul.stride, v, vl.stride, ul.row_bytes, ul.rows, wide, scratch)?;
                let (y, yl) = plane(0)?;
                Ok([(y, yl.stride), (scratch.as_slice(), ul.row_bytes * 2)])
            }
            other => Err(Error::invalid_input(format!("{other} frame for a videotoolbox session"))),
        }
    }
}

/// Interleaves planar U and V rows (`row_bytes` each, `rows` rows) into one UV plane in
/// `out`: bytes for 8-bit; 16-bit words for 10-bit, moved from the low 10 bits
/// (yuv420p10le) to the high 10 bits (P010).
#[allow(clippy::too_many_arguments)]
fn interleave(
    u: &[u8],
    u_stride: usize,
    v: &[u8],
    v_stride: usize,
    row_bytes: usize,
    rows: usize,
    wide: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    out.reserve(row_bytes * 2 * rows);
    let short = || Error::invalid_input("chroma plane shorter than the picture");
    for r in 0..rows {
        let ur = u.get(r * u_stride..r * u_stride + row_bytes).ok_or_else(short)?;
        let vr = v.get(r * v_stride..r * v_stride + row_bytes).ok_or_else(short)?;
        if wide {
            for (a, b) in ur.chunks_exact(2).zip(vr.chunks_exact(2)) {
                out.extend_from_slice(&(u16::from_le_bytes([a[0], a[1]]) << 6).to_le_bytes());
                out.extend_from_slice(&(u16::from_le_bytes([b[0], b[1]]) << 6).to_le_bytes());
            }
        } else {
            for (a, b) in ur.iter().zip(vr) {
                out.push(*a);
                out.push(*b);
            }
        }
    }
    Ok(())
}

impl EncoderBackend for VtEncoder {
    fn engine(&self) -> Engine {
        Engine::VideoToolbox
    }

    fn describe(&self) -> String {
        format!("videotoolbox (native VTCompressionSession, {})", if self.pixels.ten_bit { "10-bit" } else { "8-bit" })
    }

    fn submit(&mut self, frame: &Frame, options: FrameOptions, generation: u64) -> Result<()> {
        self.take_results();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if frame.format != self.config.input_format
            || frame.width != self.config.width
            || frame.height != self.config.height
        {
            return Err(Error::invalid_input(format!(
                "a {} {}x{} frame for a videotoolbox session opened for {} {}x{}",
                frame.format,
                frame.width,
                frame.height,
                self.config.input_format,
                self.config.width,
                self.config.height
            )));
        }
        let host = frame.to_host()?;
        let tag = self.next_tag;
        self.next_tag += 1;
        let pts = options.pts.or(frame.pts);
        let duration = timing::frame_duration(self.config.fps);
        // Without a timestamp the frame's index at the session's rate: VideoToolbox's rate
        // control needs increasing times.
        let media_pts = match pts {
            Some(p) => timing::to_media(p, self.config.timebase),
            None => duration.map(|d| super::api::MediaTime { value: tag as i64 * d.value, timescale: d.timescale }),
        };
        let planes = Self::planes(self.config.input_format, &host, &mut self.scratch)?;
        let picture = InputPicture { planes, width: frame.width, height: frame.height };
        self.pending.insert(tag, FrameMeta { pts, generation });
        let timing = SampleTiming { pts: media_pts, dts: None, duration };
        if let Err(s) = self.session.encode(&picture, timing, options.force_keyframe, tag) {
            self.pending.remove(&tag);
            return Err(status::error("VTCompressionSessionEncodeFrame", s, None));
        }
        self.wait_until_pending_at_most(self.config.frames_in_flight.max(1) as usize)
    }

    fn try_reap(&mut self) -> Result<Option<Packet>> {
        self.take_results();
        Ok(self.ready.pop_front())
    }

    fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Packet>> {
        self.take_results();
        if self.ready.is_empty()
            && !self.pending.is_empty()
            && let Some(encoded) = self.outbox.pop_timeout(timeout)
        {
            self.packet(encoded);
        }
        Ok(self.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Packet>> {
        let completed = self.session.complete();
        self.take_results();
        completed.map_err(|s| status::error("VTCompressionSessionCompleteFrames", s, None))?;
        if !self.pending.is_empty() {
            let lost = std::mem::take(&mut self.pending).len();
            self.note(Error::backend(
                "videotoolbox",
                "flush",
                format!("{lost} frames gave no packet and no drop report after VTCompressionSessionCompleteFrames"),
            ));
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(self.ready.drain(..).collect())
    }

    fn reconfigure(&mut self, config: &EncoderConfig) -> Result<bool> {
        let Some(changes) = properties::in_place(&self.config, config)? else { return Ok(false) };
        for property in &changes {
            if let Err(s) = self.session.set(property) {
                if property.is_hint() {
                    tracing::debug!(key = property.key(), status = %status::describe(s), "videotoolbox refused a hint");
                    continue;
                }
                // Half applied: the session layer drains this session and opens another.
                tracing::debug!(key = property.key(), status = %status::describe(s), "videotoolbox refused a change in place");
                return Ok(false);
            }
        }
        self.config = config.clone();
        Ok(true)
    }

    fn parameter_sets(&self) -> Vec<Vec<u8>> {
        self.parameter_sets.clone()
    }

    fn gop_length(&self) -> Option<u32> {
        self.config.gop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planar_chroma_interleaves_and_ten_bit_moves_to_the_high_bits() {
        let mut out = Vec::new();
        interleave(&[1, 2, 9, 3, 4, 9], 3, &[5, 6, 7, 8], 2, 2, 2, false, &mut out).unwrap();
        assert_eq!(out, [1, 5, 2, 6, 3, 7, 4, 8]);
        interleave(&[0xff, 0x03], 2, &[0x01, 0x00], 2, 2, 1, true, &mut out).unwrap();
        assert_eq!(out, [0xc0, 0xff, 0x40, 0x00]);
        assert!(interleave(&[1], 1, &[1], 1, 2, 1, false, &mut out).is_err());
    }
}
