//! The VideoToolbox decode session: access units in, frames out in display order.
//!
//! Each access unit's parameter sets go into the format description ([`super::format`]),
//! its other NAL units become one sample, decoded asynchronously with a tag (a sequence
//! number, `sourceFrameRefCon`). The output callback leaves each picture in the outbox on
//! VideoToolbox's thread; the session takes them in tag order (decoding order), matches
//! each with its own unit's pts and keyframe flag, and puts them in display order with
//! the standard's output process ([`crate::backend::reorder`]). VideoToolbox's own
//! reordering (temporal processing) is left off, so every picture comes back as soon as
//! it is decoded.
//!
//! A parameter set that changes makes a new format description; when the session cannot
//! accept it (`VTDecompressionSessionCanAcceptFormatDescription`), as at a resolution
//! change, the session is finished (every picture it holds comes out) and a new one
//! opened.
//!
//! Damage becomes [`Error::InvalidBitstream`] with the unit's byte offset: a decode call
//! that fails, a callback with an error status, a picture VideoToolbox dropped, and a unit
//! whose picture never came back. Found late, they are returned by the next `decode` or
//! after the flush, never lost.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::DecoderBackend;
use crate::backend::reorder::{Placement, Reorder};
use crate::backend::software_threads;
use crate::bitstream::access_unit::{AccessUnit, StreamInfo};
use crate::codec::{Codec, Rational};
use crate::config::{DecoderConfig, Output};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::pixels::convert::PlaneRef;
use crate::pixels::planar::{self, Source};

use super::api::{DecodeFormat, DecodeSession, Decoded, Layer, Picture, SampleTiming};
use super::format::{self, ParameterSets};
use super::outbox::Outbox;
use super::{status, timing};

/// Samples sent whose pictures have not been taken out, at most: past it `decode` waits
/// for VideoToolbox (a session holds at most the DPB, 16 pictures, plus what its threads
/// work on).
const MAX_IN_FLIGHT: usize = 24;

/// How long `decode` waits for VideoToolbox to give back a picture before it declares the
/// picture lost (shorter in the tests, which lose callbacks on purpose).
const STUCK_AFTER: Duration = if cfg!(test) { Duration::from_millis(300) } else { Duration::from_secs(10) };

/// Pictures that may wait for display order at most (the DPB's size).
const MAX_REORDER: usize = 16;

/// What the session knows about a unit until its picture comes back.
#[derive(Debug, Clone)]
struct UnitMeta {
    pts: Option<i64>,
    keyframe: bool,
    offset: u64,
    place: Placement,
    /// The picture is output (not a RASL picture skipped at the start, etc.).
    show: bool,
    stream: Arc<StreamInfo>,
}

/// A VideoToolbox decode session.
pub(crate) struct VtDecoder {
    layer: Arc<dyn Layer>,
    codec: Codec,
    output: Output,
    timebase: Rational,
    session: Option<Box<dyn DecodeSession>>,
    format: Option<DecodeFormat>,
    sets: ParameterSets,
    outbox: Arc<Outbox<Decoded>>,
    next_tag: u64,
    /// Units sent whose pictures have not been taken, by tag (= decoding order).
    pending: BTreeMap<u64, UnitMeta>,
    /// Callbacks taken out of the outbox, waiting for the units before them.
    arrived: BTreeMap<u64, Decoded>,
    reorder: Reorder,
    ready: VecDeque<Frame>,
    /// The next picture starts a new sequence (after mmco 5 or an end of sequence).
    after_reset: bool,
    /// The first damage found and not reported yet.
    error: Option<Error>,
    /// Sessions opened so far (the first, and one per format it could not accept).
    sessions_opened: u64,
}

impl VtDecoder {
    /// A decoder for `config` (H.264 or HEVC) on `layer`; the VideoToolbox session opens
    /// with the first parameter sets.
    pub(crate) fn open(layer: Arc<dyn Layer>, config: &DecoderConfig) -> Result<Self> {
        if !matches!(config.codec, Codec::H264 | Codec::Hevc) {
            return Err(Error::unsupported(
                format!("{} decode with videotoolbox", config.codec),
                "this engine decodes H.264 and HEVC (VP9 and AV1 through the FFmpeg engine)",
            ));
        }
        if let Output::Device(..) = config.output {
            return Err(Error::unsupported(
                format!("{:?} output with videotoolbox", config.output),
                "videotoolbox decodes to host memory",
            ));
        }
        Ok(VtDecoder {
            layer,
            codec: config.codec,
            output: config.output,
            timebase: config.timebase,
            session: None,
            format: None,
            sets: ParameterSets::default(),
            outbox: Arc::new(Outbox::default()),
            next_tag: 0,
            pending: BTreeMap::new(),
            arrived: BTreeMap::new(),
            reorder: Reorder::default(),
            ready: VecDeque::new(),
            after_reset: false,
            error: None,
            sessions_opened: 0,
        })
    }

    /// Sessions opened so far.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn sessions_opened(&self) -> u64 {
        self.sessions_opened
    }

    fn note(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Makes sure a session takes samples of `format`: the current one if it accepts the
    /// format, else a new one (the old one finished first).
    fn use_format(&mut self, format: DecodeFormat) -> Result<()> {
        if self.format.as_ref() == Some(&format) && self.session.is_some() {
            return Ok(());
        }
        if let Some(session) = self.session.as_mut() {
            if session.accept(&format) {
                self.format = Some(format);
                return Ok(());
            }
            self.finish_session()?;
        }
        let session = self
            .layer
            .open_decoder(&format, self.outbox.clone())
            .map_err(|s| status::error("VTDecompressionSessionCreate", s, None))?;
        self.session = Some(session);
        self.format = Some(format);
        self.sessions_opened += 1;
        Ok(())
    }

    /// Finishes and closes the session: every picture it holds comes out first.
    fn finish_session(&mut self) -> Result<()> {
        if let Some(mut session) = self.session.take() {
            let finished = session.finish();
            drop(session); // invalidated: no callback comes after this
            self.take_results();
            self.lost_units();
            finished.map_err(|s| status::error("VTDecompressionSessionWaitForAsynchronousFrames", s, None))?;
        }
        self.reorder.drain(&mut self.ready);
        Ok(())
    }

    /// Units still pending after their session finished never had a callback: each is
    /// reported.
    fn lost_units(&mut self) {
        for (_, meta) in std::mem::take(&mut self.pending) {
            self.note(Error::invalid_bitstream(meta.offset, "videotoolbox gave no picture back for this access unit"));
        }
        self.arrived.clear();
    }

    /// Takes the callbacks out of the outbox and every picture now due, in decoding order.
    fn take_results(&mut self) {
        while let Some(d) = self.outbox.try_pop() {
            if self.pending.contains_key(&d.tag) {
                self.arrived.insert(d.tag, d);
            }
        }
        while let Some((&tag, _)) = self.pending.first_key_value() {
            let Some(decoded) = self.arrived.remove(&tag) else { break };
            let Some(meta) = self.pending.remove(&tag) else { break };
            self.place(decoded, meta);
        }
    }

    /// Puts one callback's picture in display order, or notes why there is none.
    fn place(&mut self, decoded: Decoded, meta: UnitMeta) {
        if meta.place.barrier {
            self.reorder.drain(&mut self.ready);
        }
        let picture = match (decoded.status, decoded.dropped, decoded.picture) {
            (0, false, Some(p)) => p,
            (0, true, _) => {
                return self.note(Error::invalid_bitstream(meta.offset, "videotoolbox dropped the picture"));
            }
            (0, false, None) => {
                return self.note(Error::invalid_bitstream(meta.offset, "videotoolbox gave no image for the picture"));
            }
            (s, _, _) => return self.note(status::error("decompression output callback", s, Some(meta.offset))),
        };
        if !meta.show {
            return;
        }
        match self.frame(&picture, &meta) {
            Ok(frame) => self.reorder.push(frame, meta.place, &mut self.ready),
            Err(e) => self.note(e),
        }
    }

    /// The frame the session hands back for `picture`.
    fn frame(&self, picture: &Picture, meta: &UnitMeta) -> Result<Frame> {
        let dims = &meta.stream.dimensions;
        let visible_w = dims.coded_width.saturating_sub(dims.crop.left + dims.crop.right);
        let visible_h = dims.coded_height.saturating_sub(dims.crop.top + dims.crop.bottom);
        // VideoToolbox gives buffers of the visible size; should one come at the coded
        // size, the crop is applied here.
        let (left, top) = if picture.width >= dims.coded_width
            && picture.height >= dims.coded_height
            && (visible_w, visible_h) != (picture.width, picture.height)
        {
            (dims.crop.left, dims.crop.top)
        } else {
            (0, 0)
        };
        let width = visible_w.min(picture.width.saturating_sub(left));
        let height = visible_h.min(picture.height.saturating_sub(top));
        if picture.planes.len() != 2 || width == 0 || height == 0 {
            return Err(Error::backend(
                "videotoolbox",
                "picture",
                "the decoded image is not a bi-planar 4:2:0 picture",
            ));
        }
        let mut planes = Vec::with_capacity(2);
        for (i, (bytes, stride)) in picture.planes.iter().enumerate() {
            let start = picture.layout.offset(i, left, top, *stride);
            let data = bytes
                .get(start..)
                .ok_or_else(|| Error::backend("videotoolbox", "picture", "crop outside the decoded image"))?;
            planes.push(PlaneRef::new(data, *stride));
        }
        let source = Source { layout: picture.layout, planes, width, height };
        let color = meta.stream.color;
        let (format, data) =
            planar::to_output(&source, self.output, &color, software_threads::conversion_spread(), "videotoolbox")?;
        Ok(Frame { format, width, height, pts: meta.pts, keyframe: meta.keyframe, color, data })
    }

    /// Waits until at most `limit` units are pending, taking pictures out meanwhile.
    fn wait_until_pending_at_most(&mut self, limit: usize) {
        let mut deadline = Instant::now() + STUCK_AFTER;
        self.take_results();
        while self.pending.len() > limit {
            let now = Instant::now();
            if now >= deadline {
                // The oldest unit's callback is overdue: it is reported lost (the units
                // after it are not held back by it any longer) and the wait starts again.
                if let Some((_, meta)) = self.pending.pop_first() {
                    self.note(Error::invalid_bitstream(
                        meta.offset,
                        format!("videotoolbox gave no picture back for this access unit in {STUCK_AFTER:?}"),
                    ));
                }
                self.take_results();
                deadline = Instant::now() + STUCK_AFTER;
                continue;
            }
            if let Some(d) = self.outbox.pop_timeout(deadline - now) {
                self.outbox_front(d);
            }
            self.take_results();
        }
    }

    /// Sends one access unit to the session (opening or replacing it when the format
    /// changed) and takes out what came back meanwhile.
    fn send(&mut self, au: &AccessUnit) -> Result<()> {
        self.take_results();
        let sample = format::split(self.codec, au, &mut self.sets)?;
        let Some(picture) = au.picture else {
            if au.ends_sequence {
                self.after_reset = true;
            }
            return Ok(());
        };
        let Some(stream) = au.stream.clone() else {
            return Err(Error::invalid_bitstream(au.offset, "a picture before the parameter sets it uses"));
        };
        if self.sets.take_changed() || self.session.is_none() {
            let Some(format) = format::decode_format(self.codec, &self.sets, au) else {
                return Err(Error::invalid_bitstream(au.offset, "a picture before the parameter sets it uses"));
            };
            self.use_format(format)?;
        }
        let place = Placement {
            poc: picture.poc,
            barrier: picture.idr || picture.memory_reset || self.after_reset,
            depth: (stream.num_reorder_frames as usize).min(MAX_REORDER),
        };
        self.after_reset = picture.memory_reset || au.ends_sequence;
        let tag = self.next_tag;
        self.next_tag += 1;
        let timing =
            SampleTiming { pts: au.pts.and_then(|p| timing::to_media(p, self.timebase)), dts: None, duration: None };
        let meta = UnitMeta {
            pts: au.pts,
            keyframe: au.is_keyframe(),
            offset: au.offset,
            place,
            show: picture.output,
            stream,
        };
        self.pending.insert(tag, meta);
        let Some(session) = self.session.as_mut() else {
            return Err(Error::backend("videotoolbox", "state", "no decompression session"));
        };
        if let Err(s) = session.decode(&sample.data, timing, tag) {
            self.pending.remove(&tag);
            return Err(status::error("VTDecompressionSessionDecodeFrame", s, Some(au.offset)));
        }
        self.wait_until_pending_at_most(MAX_IN_FLIGHT);
        Ok(())
    }

    /// Puts back a callback taken while waiting.
    fn outbox_front(&mut self, d: Decoded) {
        if self.pending.contains_key(&d.tag) {
            self.arrived.insert(d.tag, d);
        }
    }
}

impl DecoderBackend for VtDecoder {
    fn engine(&self) -> Engine {
        Engine::VideoToolbox
    }

    fn describe(&self) -> String {
        "videotoolbox (native VTDecompressionSession)".to_string()
    }

    fn decode(&mut self, au: &AccessUnit) -> Result<()> {
        self.send(au)?;
        // Damage found late (an earlier unit's callback) is reported once this unit is in.
        self.error.take().map_or(Ok(()), Err)
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        self.take_results();
        Ok(self.ready.pop_front())
    }

    fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Frame>> {
        self.take_results();
        if self.ready.is_empty()
            && !self.pending.is_empty()
            && let Some(d) = self.outbox.pop_timeout(timeout)
        {
            self.outbox_front(d);
            self.take_results();
        }
        Ok(self.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        self.finish_session()?;
        self.format = None;
        Ok(self.ready.drain(..).collect())
    }

    fn take_stream_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}
