//! H.264 decoding with OpenH264.
//!
//! Each access unit goes to OpenH264 in one call and is then closed with an empty call,
//! so its picture is decoded at once; then every picture OpenH264 holds for reordering
//! is taken out (`FlushFrame`), so pictures leave OpenH264 in decoding order. They are
//! copied out of OpenH264's buffers at once and put in display order on this side
//! (`reorder.rs`: OpenH264's own reorder queue loses pictures at a resolution change).
//! Each access unit carries a sequence number as OpenH264's input timestamp, so every
//! picture is matched with its own access unit's pts, keyframe flag, colour description
//! and order count (`pictures.rs`).
//!
//! Error concealment is on, as in the reference decoder: a damaged picture is output
//! concealed, counted ([`DecoderBackend::concealed`]) and reported as
//! [`Error::InvalidBitstream`]. A picture the stream shows (the parser's
//! `PictureInfo::output`, or the recovery point start rule of [`RecoveryStart`]) that
//! OpenH264 did not output is reported the same way, never skipped silently; the error
//! may come with the next access unit (OpenH264 completes a damaged picture when the
//! next one starts) or after the flush. The stream facts (colour, reorder depth, and
//! what OpenH264 cannot decode) come from the crate's own SPS parse, which the assembler
//! attaches to each access unit.

use std::ffi::c_int;

use video_hw_openh264_sys as sys;

use super::ffi::RawDecoder;
use super::pictures::{AuMeta, Outbox};
use crate::backend::reorder::Placement;
use crate::backend::{DecoderBackend, software_threads};
use crate::bitstream::access_unit::{AccessUnit, StreamInfo};
use crate::bitstream::h264::RecoveryStart;
use crate::codec::Codec;
use crate::config::{DecoderConfig, Output};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::Frame;

/// The reorder depth assumed when the stream's SPS is not known (H.264's largest DPB).
const MAX_REORDER: usize = 16;

/// At most this many pictures are taken out of OpenH264 after one access unit (it holds
/// at most 16 for reordering).
const MAX_DRAIN: usize = 64;

/// The OpenH264 decode engine.
pub(crate) struct OpenH264Decoder {
    /// `None` between a flush and the next stream's first access unit: a decoder is made
    /// when one is needed, not at every flush (making one costs up to a millisecond,
    /// zeroing its buffers, which a stream that ends with the flush never uses).
    raw: Option<RawDecoder>,
    next_id: u64,
    out: Outbox,
    /// The previous picture held mmco 5: this one starts a new run of order counts.
    after_memory_reset: bool,
    /// Which pictures are shown when the stream starts at a recovery point.
    start: RecoveryStart,
    /// Counts the session among the software sessions open (the cores they share: its RGB
    /// conversion's bands, libavcodec's threads).
    _session: software_threads::Session,
}

impl OpenH264Decoder {
    /// Opens a decoder for `config` (H.264, host or metadata output).
    pub fn open(config: &DecoderConfig) -> Result<Self> {
        check_config(config.codec, config.output)?;
        Ok(OpenH264Decoder {
            // Made now, so that a library that cannot make one fails the open.
            raw: Some(RawDecoder::new()?),
            next_id: 1,
            out: Outbox::new(config.output),
            after_memory_reset: false,
            start: RecoveryStart::default(),
            _session: software_threads::Session::start(),
        })
    }

    fn decode_call(&mut self, data: Option<&[u8]>, id: u64) -> Result<c_int> {
        let raw = match &mut self.raw {
            Some(raw) => raw,
            raw => raw.insert(RawDecoder::new()?),
        };
        let (state, concealed, pic) = raw.decode(data, id)?;
        if concealed {
            self.out.completed_concealed();
        }
        if let Some(pic) = pic {
            self.out.take(&pic)?;
        }
        Ok(state)
    }

    /// Takes out every picture OpenH264 holds for reordering (it needs the empty call
    /// that ends an access unit first).
    fn drain_engine(&mut self) -> Result<()> {
        let Some(raw) = &mut self.raw else { return Ok(()) };
        for _ in 0..MAX_DRAIN {
            if raw.frames_in_buffer() == 0 {
                break;
            }
            let Some(pic) = raw.flush_one()? else { break };
            self.out.take(&pic)?;
        }
        Ok(())
    }
}

/// Refuses codecs and outputs OpenH264 cannot serve.
pub(super) fn check_config(codec: Codec, output: Output) -> Result<()> {
    if codec != Codec::H264 {
        return Err(Error::unsupported(format!("{codec} decode with openh264"), "openh264 decodes H.264 only"));
    }
    if let Output::Device(api, f) = output {
        return Err(Error::unsupported(
            format!("{api} {f} output with openh264"),
            "openh264 decodes to host memory only",
        ));
    }
    Ok(())
}

/// Refuses streams OpenH264 cannot decode, naming the feature.
fn check_stream(info: &StreamInfo) -> Result<()> {
    let engine = "openh264 decodes 8-bit progressive 4:2:0 (and 4:0:0) H.264 only";
    if info.bit_depth_luma > 8 || info.bit_depth_chroma > 8 {
        return Err(Error::unsupported(
            format!(
                "{}-bit H.264 ({} profile) with openh264",
                info.bit_depth_luma.max(info.bit_depth_chroma),
                info.profile
            ),
            engine,
        ));
    }
    if info.chroma_format_idc > 1 {
        return Err(Error::unsupported(
            format!("{} H.264 ({} profile) with openh264", info.chroma_format_name(), info.profile),
            engine,
        ));
    }
    if info.interlaced {
        return Err(Error::unsupported("interlaced (field / MBAFF) H.264 with openh264", engine));
    }
    Ok(())
}

/// Describes OpenH264's state flags.
fn state_text(state: c_int) -> String {
    let names = [
        (sys::dsRefLost, "reference lost"),
        (sys::dsBitstreamError, "bitstream error"),
        (sys::dsDepLayerLost, "dependent layer lost"),
        (sys::dsNoParamSets, "no parameter sets"),
        (sys::dsDataErrorConcealed, "error concealed"),
        (sys::dsRefListNullPtrs, "reference list incomplete"),
        (sys::dsInvalidArgument, "invalid argument"),
        (sys::dsOutOfMemory, "out of memory"),
    ];
    let found: Vec<&str> = names.iter().filter(|(bit, _)| state & bit != 0).map(|(_, n)| *n).collect();
    format!("openh264: {} (state {state:#x})", found.join(", "))
}

impl DecoderBackend for OpenH264Decoder {
    fn engine(&self) -> Engine {
        Engine::OpenH264
    }

    fn describe(&self) -> String {
        super::describe()
    }

    fn decode(&mut self, au: &AccessUnit) -> Result<()> {
        self.decode_unit(au, true)
    }

    fn decode_unshown(&mut self, au: &AccessUnit) -> Result<()> {
        self.decode_unit(au, false)
    }

    fn decode_headers_only(&mut self, au: &AccessUnit) -> Result<()> {
        // OpenH264 decodes every picture it is given; what comes out is dropped.
        self.decode_unit(au, false)
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        Ok(self.out.ready.pop_front())
    }

    fn concealed(&self) -> u64 {
        self.out.concealed
    }

    fn take_stream_error(&mut self) -> Option<Error> {
        self.out.take_damage()
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        // Pictures leave OpenH264 after each access unit; this finds any left over.
        self.drain_engine()?;
        self.out.finish();
        self.after_memory_reset = false;
        self.start = RecoveryStart::default();
        // The next stream starts on a fresh decoder, made by its first access unit: nothing
        // of this one (parameter sets, references, error state) can leak into it.
        self.raw = None;
        Ok(self.out.ready.drain(..).collect())
    }
}

impl OpenH264Decoder {
    /// Decodes an access unit; `pixels`: whether its picture is taken with its pixels.
    fn decode_unit(&mut self, au: &AccessUnit, pixels: bool) -> Result<()> {
        let info = au.stream.as_deref();
        if let Some(info) = info {
            check_stream(info)?;
        }
        self.decode_with(au, info, pixels)
    }

    /// Decodes an access unit of a stream described by `info` (its active SPS, when
    /// known).
    fn decode_with(&mut self, au: &AccessUnit, info: Option<&StreamInfo>, pixels: bool) -> Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        let picture = au.picture;
        let memory_reset = picture.is_some_and(|p| p.memory_reset);
        let place = Placement {
            poc: picture.and_then(|p| p.poc),
            barrier: picture.is_some_and(|p| p.idr || p.memory_reset) || self.after_memory_reset,
            depth: info.map_or(MAX_REORDER, |i| (i.num_reorder_frames as usize).min(MAX_REORDER)),
        };
        if picture.is_some() {
            self.after_memory_reset = memory_reset;
        }
        let output = picture.is_some_and(|p| self.start.shows_picture(&p));
        let color = info.map(|i| i.color).unwrap_or_default();
        let meta = AuMeta {
            pts: au.pts,
            keyframe: au.is_keyframe(),
            color,
            output,
            place,
            offset: au.offset,
            concealed: false,
            pixels,
        };
        self.out.expect(id, meta);
        let mut state = self.decode_call(Some(&au.data), id)?;
        // The empty call tells OpenH264 the access unit is complete.
        state |= self.decode_call(None, id)?;
        self.drain_engine()?;
        // This access unit's picture may still come with the next one (a damaged picture
        // is completed when the next starts); earlier ones will not.
        self.out.lose_before(id);
        if state & sys::dsOutOfMemory != 0 {
            return Err(Error::backend("openh264", "dsOutOfMemory", "decoder ran out of memory"));
        }
        // A picture the stream does not show (before the first random access point, a
        // leading picture of the recovery point it started at) has expected damage: its
        // references are missing. Slices whose parameter sets never came are damage all
        // the same. A lost reference alone, with every macroblock decoded, is the intact
        // picture of a recovery point that starts a stream.
        let damaged = sys::dsBitstreamError
            | sys::dsDepLayerLost
            | sys::dsNoParamSets
            | sys::dsRefListNullPtrs
            | sys::dsInvalidArgument;
        let expected = if picture.is_none() || output { 0 } else { damaged & !sys::dsNoParamSets };
        if state & damaged & !expected != 0 {
            self.out.note(Error::invalid_bitstream(au.offset, state_text(state)));
        }
        self.out.take_damage().map_or(Ok(()), Err)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::bitstream::access_unit::PictureInfo;
    use crate::bitstream::annexb::split_all;

    /// Groups NAL units into access units the simple way (a new picture starts at a
    /// slice with first_mb_in_slice = 0, or at AUD/SPS/PPS/SEI after a slice): enough
    /// for progressive test streams without the H.264 parser.
    pub(crate) fn simple_access_units(stream: &[u8]) -> Vec<AccessUnit> {
        let mut out = Vec::new();
        let mut cur = AccessUnit::default();
        let mut has_vcl = false;
        for nal in split_all(stream) {
            let t = nal[0] & 0x1f;
            let vcl = matches!(t, 1 | 5);
            let starts = if vcl {
                has_vcl && nal.len() > 1 && nal[1] & 0x80 != 0
            } else {
                has_vcl && matches!(t, 6..=9 | 14..=18)
            };
            if starts {
                out.push(std::mem::take(&mut cur));
                has_vcl = false;
            }
            if vcl && !has_vcl {
                cur.picture = Some(PictureInfo { idr: t == 5, irap: t == 5, output: true, ..PictureInfo::default() });
            }
            has_vcl |= vcl;
            cur.data.extend_from_slice(&[0, 0, 0, 1]);
            let s = cur.data.len();
            cur.data.extend_from_slice(nal);
            cur.nals.push(s..cur.data.len());
            cur.nal_count += 1;
        }
        if cur.nal_count > 0 {
            out.push(cur);
        }
        for (i, au) in out.iter_mut().enumerate() {
            au.pts = Some(i as i64);
        }
        out
    }

    /// Decodes a whole stream without the H.264 parser; returns the frames and errors.
    pub(crate) fn decode_stream(stream: &[u8], output: Output) -> (Vec<Frame>, usize) {
        let mut dec = OpenH264Decoder::open(&DecoderConfig::new(Codec::H264).output(output)).unwrap();
        let mut frames = Vec::new();
        let mut errors = 0;
        for au in simple_access_units(stream) {
            if dec.decode_with(&au, None, true).is_err() {
                errors += 1;
            }
            while let Some(f) = dec.try_reap().unwrap() {
                frames.push(f);
            }
        }
        frames.extend(dec.flush().unwrap());
        (frames, errors)
    }
}
