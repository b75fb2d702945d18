//! H.264 decoding with OpenH264.
//!
//! Each access unit goes to OpenH264 in one call and is then closed with an empty call,
//! so its picture is decoded at once. OpenH264 (2.x) reorders pictures into display
//! order itself for streams with B-slices; each access unit carries a sequence number
//! as OpenH264's input timestamp, so every picture that comes out is matched with its
//! own access unit's pts, keyframe flag and colour description. Pictures are copied
//! (and converted) out of OpenH264's buffers at once. The stream facts (colour, and
//! what OpenH264 cannot decode) come from the crate's own SPS parse, which the
//! assembler attaches to each access unit.

use std::collections::{HashMap, VecDeque};
use std::ffi::c_int;

use video_hw_openh264_sys as sys;

use super::ffi::{DecodedPicture, RawDecoder};
use crate::backend::DecoderBackend;
use crate::bitstream::access_unit::{AccessUnit, StreamInfo};
use crate::codec::{Codec, ColorInfo, PixelFormat};
use crate::config::{DecoderConfig, Output};
use crate::convert::{self, I420Ref, PlaneRef, YuvMatrix};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};

/// Pending access units older than this many access units are forgotten (their picture
/// was dropped by OpenH264, e.g. after a bitstream error).
const PENDING_LIMIT: u64 = 64;

/// What the session knows about an access unit until its picture comes out.
#[derive(Debug, Clone, Copy)]
struct AuMeta {
    pts: Option<i64>,
    keyframe: bool,
    color: ColorInfo,
}

/// The OpenH264 decode engine.
pub(crate) struct OpenH264Decoder {
    raw: RawDecoder,
    output: Output,
    next_id: u64,
    pending: HashMap<u64, AuMeta>,
    ready: VecDeque<Frame>,
}

impl OpenH264Decoder {
    /// Opens a decoder for `config` (H.264, host or metadata output).
    pub fn open(config: &DecoderConfig) -> Result<Self> {
        check_config(config.codec, config.output)?;
        Ok(OpenH264Decoder {
            raw: RawDecoder::new()?,
            output: config.output,
            next_id: 1,
            pending: HashMap::new(),
            ready: VecDeque::new(),
        })
    }

    fn decode_call(&mut self, data: Option<&[u8]>, id: u64) -> Result<c_int> {
        let (state, pic) = self.raw.decode(data, id)?;
        let frame = match pic {
            Some(pic) => Some(picture_to_frame(&pic, take_meta(&mut self.pending, pic.timestamp), self.output)?),
            None => None,
        };
        self.ready.extend(frame);
        Ok(state)
    }
}

/// The metadata of the access unit a picture came from (defaults when unknown, e.g. a
/// picture OpenH264 made up for a lost one).
fn take_meta(pending: &mut HashMap<u64, AuMeta>, id: u64) -> AuMeta {
    pending.remove(&id).unwrap_or(AuMeta { pts: None, keyframe: false, color: ColorInfo::default() })
}

/// Refuses codecs and outputs OpenH264 cannot serve.
pub(super) fn check_config(codec: Codec, output: Output) -> Result<()> {
    if codec != Codec::H264 {
        return Err(Error::unsupported(format!("{codec} decode with openh264"), "openh264 decodes H.264 only"));
    }
    if let Output::Cuda(f) = output {
        return Err(Error::unsupported(
            format!("CUDA {f} output with openh264"),
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

/// Builds the output frame of `pic` in the session's output format.
fn picture_to_frame(pic: &DecodedPicture<'_>, meta: AuMeta, output: Output) -> Result<Frame> {
    let (format, data) = match output {
        Output::Metadata => (PixelFormat::Yuv420p, FrameData::None),
        Output::Host(format) => {
            let src = I420Ref::new(
                PlaneRef::new(pic.y, pic.y_stride),
                PlaneRef::new(pic.u, pic.uv_stride),
                PlaneRef::new(pic.v, pic.uv_stride),
                pic.width,
                pic.height,
            )?;
            let matrix = match format {
                PixelFormat::Rgb24 | PixelFormat::RgbPlanar | PixelFormat::Bgra => {
                    YuvMatrix::for_color(&meta.color, pic.height)?
                }
                // Not used for YUV outputs.
                _ => YuvMatrix::new(crate::codec::MatrixCoefficients::BT709, meta.color.range)?,
            };
            (format, FrameData::Host(convert::i420_to_host(&src, format, &matrix)?))
        }
        Output::Cuda(f) => {
            return Err(Error::unsupported(
                format!("CUDA {f} output with openh264"),
                "openh264 decodes to host memory only",
            ));
        }
    };
    Ok(Frame {
        format,
        width: pic.width,
        height: pic.height,
        pts: meta.pts,
        keyframe: meta.keyframe,
        color: meta.color,
        data,
    })
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
        let info = au.stream.as_deref();
        if let Some(info) = info {
            check_stream(info)?;
        }
        self.decode_with(au, info.map(|i| i.color).unwrap_or_default())
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        Ok(self.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        // OpenH264 holds pictures for reordering until told the stream ended.
        let mut guard = 0;
        while self.raw.frames_in_buffer() > 0 && guard < 64 {
            guard += 1;
            let frame = match self.raw.flush_one()? {
                Some(pic) => picture_to_frame(&pic, take_meta(&mut self.pending, pic.timestamp), self.output)?,
                None => break,
            };
            self.ready.push_back(frame);
        }
        self.pending.clear();
        // A drained OpenH264 decoder is not reliably reusable: a third stream after two
        // flushes failed with dsOutOfMemory. Start the next stream on a fresh decoder.
        self.raw = RawDecoder::new()?;
        Ok(self.ready.drain(..).collect())
    }
}

impl OpenH264Decoder {
    /// Decodes an access unit whose pictures have the colour description `color`.
    fn decode_with(&mut self, au: &AccessUnit, color: ColorInfo) -> Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(id, AuMeta { pts: au.pts, keyframe: au.is_keyframe(), color });
        let mut state = self.decode_call(Some(&au.data), id)?;
        // The empty call tells OpenH264 the access unit is complete.
        state |= self.decode_call(None, id)?;
        if self.pending.len() as u64 > PENDING_LIMIT {
            let oldest = self.next_id.saturating_sub(PENDING_LIMIT);
            self.pending.retain(|&k, _| k >= oldest);
        }
        if state & sys::dsOutOfMemory != 0 {
            return Err(Error::backend("openh264", "dsOutOfMemory", "decoder ran out of memory"));
        }
        let damaged = sys::dsRefLost
            | sys::dsBitstreamError
            | sys::dsDepLayerLost
            | sys::dsNoParamSets
            | sys::dsRefListNullPtrs
            | sys::dsInvalidArgument;
        if state & damaged != 0 {
            return Err(Error::invalid_bitstream(au.offset, state_text(state)));
        }
        Ok(())
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
            if dec.decode_with(&au, ColorInfo::default()).is_err() {
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
