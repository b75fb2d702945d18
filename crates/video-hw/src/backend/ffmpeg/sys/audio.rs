//! The audio fields of `AVCodecContext` and `AVFrame`, read and written through the loaded
//! major's layout: the rate, channel layout and sample format of a decoder, and the samples
//! of a decoded frame.
//!
//! Every field is reached through [`AudioFields`], which exists only where all of them were
//! measured for the loaded major (`layouts.rs`); without it audio is refused, never read at
//! a guessed offset.

use std::ffi::{c_int, c_void};

use super::codec::CodecContext;
use super::frame::Frame;
use super::layout::{Layout, read, write};

/// `AV_CHANNEL_ORDER_UNSPEC`: only the channel count is known (what demuxers give for
/// most tracks; every decoder used here takes it).
const CHANNEL_ORDER_UNSPEC: c_int = 0;

/// The offsets of every audio field used, all measured for the loaded major.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AudioFields {
    frame_nb_samples: usize,
    frame_extended_data: usize,
    frame_sample_rate: usize,
    frame_format: usize,
    frame_channels: usize,
    ctx_sample_rate: usize,
    ctx_order: usize,
    ctx_channels: usize,
    ctx_mask: usize,
}

impl AudioFields {
    /// The audio fields of `layout`; `Err` names the first one not measured for its major.
    pub(crate) fn of(layout: &Layout) -> Result<AudioFields, String> {
        let (f, c) = (&layout.frame, &layout.codec_context);
        let need = |v: Option<usize>, name: &str| {
            v.ok_or_else(|| {
                format!(
                    "{name} was not measured for libavcodec {} (its headers were not at hand; \
                     scripts/ffmpeg-layouts/README.md)",
                    layout.avcodec_major
                )
            })
        };
        Ok(AudioFields {
            frame_nb_samples: need(f.nb_samples, "AVFrame.nb_samples")?,
            frame_extended_data: need(f.extended_data, "AVFrame.extended_data")?,
            frame_sample_rate: need(f.sample_rate, "AVFrame.sample_rate")?,
            frame_format: need(f.format, "AVFrame.format")?,
            frame_channels: need(f.ch_layout_nb_channels, "AVFrame.ch_layout")?,
            ctx_sample_rate: need(c.sample_rate, "AVCodecContext.sample_rate")?,
            ctx_order: need(c.ch_layout_order, "AVCodecContext.ch_layout")?,
            ctx_channels: need(c.ch_layout_nb_channels, "AVCodecContext.ch_layout")?,
            ctx_mask: need(c.ch_layout_mask, "AVCodecContext.ch_layout")?,
        })
    }

    /// Sets a context's `sample_rate` and `ch_layout` (a count, in no stated order), as a
    /// demuxer's stream parameters set them; before opening. A zero is left unset.
    pub(crate) fn set_rate_and_channels(&self, ctx: &mut CodecContext, rate: u32, channels: u16) {
        let base = ctx.as_mut_ptr().cast::<c_void>();
        if let Ok(rate @ 1..) = c_int::try_from(rate) {
            // SAFETY: an int field of a live, unopened context of the loaded major, owned
            // by the caller.
            unsafe { write::<c_int>(base, self.ctx_sample_rate, rate) };
        }
        if channels > 0 {
            // SAFETY: the members of the context's AVChannelLayout (an enum, an int and a
            // union of a uint64_t mask and a pointer); the context is unopened and its
            // layout the zeroed one of allocation, so no custom map is dropped.
            unsafe {
                write::<c_int>(base, self.ctx_order, CHANNEL_ORDER_UNSPEC);
                write::<c_int>(base, self.ctx_channels, c_int::from(channels));
                write::<u64>(base, self.ctx_mask, 0);
            }
        }
    }

    /// A context's `sample_rate` and channel count (0 where not known yet).
    pub(crate) fn rate_and_channels(&self, ctx: &CodecContext) -> (u32, u16) {
        let base = ctx.as_ptr().cast::<c_void>();
        // SAFETY: int fields of a live context of the loaded major.
        let (rate, channels) =
            unsafe { (read::<c_int>(base, self.ctx_sample_rate), read::<c_int>(base, self.ctx_channels)) };
        (u32::try_from(rate).unwrap_or(0), u16::try_from(channels).unwrap_or(0))
    }

    /// What a decoded frame holds: its samples per channel, channels, rate and format.
    pub(crate) fn frame_info(&self, frame: &Frame) -> FrameInfo {
        let base = frame.as_ptr().cast::<c_void>();
        // SAFETY: int fields of a live AVFrame of the loaded major.
        unsafe {
            FrameInfo {
                samples: usize::try_from(read::<c_int>(base, self.frame_nb_samples)).unwrap_or(0),
                channels: usize::try_from(read::<c_int>(base, self.frame_channels)).unwrap_or(0),
                rate: u32::try_from(read::<c_int>(base, self.frame_sample_rate)).unwrap_or(0),
                format: read::<c_int>(base, self.frame_format),
            }
        }
    }

    /// The bytes of plane `i` of a decoded frame described by `info`: channel `i` of a
    /// planar format, every channel interleaved in plane 0 of a packed one. Empty where the
    /// format is not one [`SampleFormat`] knows or the frame has no such plane.
    pub(crate) fn plane<'a>(&self, frame: &'a Frame, info: &FrameInfo, i: usize) -> &'a [u8] {
        let Some(fmt) = SampleFormat::from_av(info.format) else { return &[] };
        let planes = if fmt.planar { info.channels } else { 1 };
        let per_plane = if fmt.planar { 1 } else { info.channels };
        let Some(len) = info.samples.checked_mul(per_plane).and_then(|n| n.checked_mul(fmt.bytes)) else {
            return &[];
        };
        if i >= planes || len == 0 {
            return &[];
        }
        let base = frame.as_ptr().cast::<c_void>();
        // SAFETY: `extended_data` is a `uint8_t **` field of a live AVFrame of the loaded
        // major; for a decoded audio frame it points to one pointer per plane: `channels`
        // of them for a planar format, one for a packed one, and `i` is below that.
        let p = unsafe {
            let planes = read::<*const *const u8>(base, self.frame_extended_data);
            if planes.is_null() { std::ptr::null() } else { *planes.add(i) }
        };
        if p.is_null() {
            return &[];
        }
        // SAFETY: libavcodec allocates each plane of a decoded audio frame for at least
        // `nb_samples` samples of its format (times the channels for a packed one): `len`
        // bytes. The frame outlives the borrow.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

/// A decoded frame's sample format (`AVSampleFormat`): its values are fixed public ABI
/// (`libavutil/samplefmt.h`, unchanged since the planar ones were added in libavutil 51).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SampleFormat {
    /// How each sample is stored.
    pub kind: SampleKind,
    /// Bytes per sample.
    pub bytes: usize,
    /// One plane per channel (else channels interleaved in one plane).
    pub planar: bool,
}

/// How a sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SampleKind {
    /// `uint8_t`, 128 the zero.
    U8,
    /// `int16_t`.
    S16,
    /// `int32_t`.
    S32,
    /// `int64_t`.
    S64,
    /// `float`.
    F32,
    /// `double`.
    F64,
}

impl SampleFormat {
    /// The format of `AVSampleFormat` value `v`; `None` for `AV_SAMPLE_FMT_NONE` or one
    /// added after this was written.
    pub(crate) fn from_av(v: c_int) -> Option<SampleFormat> {
        use SampleKind::*;
        let (kind, bytes, planar) = match v {
            0 => (U8, 1, false),
            1 => (S16, 2, false),
            2 => (S32, 4, false),
            3 => (F32, 4, false),
            4 => (F64, 8, false),
            5 => (U8, 1, true),
            6 => (S16, 2, true),
            7 => (S32, 4, true),
            8 => (F32, 4, true),
            9 => (F64, 8, true),
            10 => (S64, 8, false),
            11 => (S64, 8, true),
            _ => return None,
        };
        Some(SampleFormat { kind, bytes, planar })
    }
}

/// What [`AudioFields::frame_info`] reads of a decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameInfo {
    /// `nb_samples`: samples per channel.
    pub samples: usize,
    /// `ch_layout.nb_channels`.
    pub channels: usize,
    /// `sample_rate`.
    pub rate: u32,
    /// `format` (`AVSampleFormat`).
    pub format: c_int,
}
