//! Pixel formats as ffmpeg users type them (`video-hw decode --pix-fmt`, Python's
//! `pixel_format`): ffmpeg's names, with ffmpeg's meaning. A
//! YUV name states the depth: `yuv420p` and `nv12` are 8-bit, a 10-bit stream's samples
//! then rounded to 8 bits; `yuv420p10le` and `p010le` are 10-bit, an 8-bit stream's
//! samples widened as ffmpeg widens them (`x << 2` planar, `x · 257` in P010's 16-bit
//! words); `gray` and `gray10le` are the luma plane in full range, as ffmpeg's `gray`
//! is. `yuv420p-auto` and `nv12-auto` keep the stream's own depth (what `yuv420p` meant
//! before). `gbrp` is planar RGB in ffmpeg's plane order, G then B then R (the engines
//! make planar R, G, B, named `rgbp`: the planes are reordered). The other RGB and float
//! names are the engines' own formats.
//!
//! Which bytes equal ffmpeg's (5.1, `-pix_fmt NAME`; tested in the CLI's
//! `tests/cli_pix_fmt.rs` and Python's `test_pix_fmt.py`):
//! every name at the stream's own depth; `yuv420p10le`, `p010le` and `gray` from 8-bit
//! streams. Not equal, within 1 of it (ffmpeg dithers, this rounds; ≥ 50 dB PSNR
//! against ffmpeg's): 10-bit streams as `yuv420p`, `nv12` and `gray`, and `gray10le`
//! (ffmpeg's scaler rounds its range expansion its own way).

use crate::codec::PixelFormat;
use crate::error::{Error, Result};

/// A YUV form with a stated depth, which frames are converted to after decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exact {
    /// `yuv420p`: 8-bit planar.
    Yuv420p,
    /// `nv12`: 8-bit, interleaved chroma.
    Nv12,
    /// `yuv420p10le`: 10-bit planar in 16-bit words.
    Yuv420p10,
    /// `p010le`: 10 bits at the top of 16-bit words, interleaved chroma.
    P010,
    /// `gray`: the luma plane, 8-bit full range.
    Gray,
    /// `gray10le`: the luma plane, 10-bit full range.
    Gray10,
    /// `gbrp`: planar 8-bit RGB in ffmpeg's order, the G plane, then B, then R.
    Gbrp,
}

impl Exact {
    /// ffmpeg's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Exact::Yuv420p => "yuv420p",
            Exact::Nv12 => "nv12",
            Exact::Yuv420p10 => "yuv420p10le",
            Exact::P010 => "p010le",
            Exact::Gray => "gray",
            Exact::Gray10 => "gray10le",
            Exact::Gbrp => "gbrp",
        }
    }

    /// Bits per sample written.
    pub fn bit_depth(self) -> u8 {
        match self {
            Exact::Yuv420p | Exact::Nv12 | Exact::Gray | Exact::Gbrp => 8,
            Exact::Yuv420p10 | Exact::P010 | Exact::Gray10 => 10,
        }
    }

    /// The library's format with these bytes; `None` for the luma-only forms and `gbrp`,
    /// which no engine makes (their bytes come from [`convert`] alone).
    pub fn format(self) -> Option<PixelFormat> {
        match self {
            Exact::Yuv420p => Some(PixelFormat::Yuv420p),
            Exact::Nv12 => Some(PixelFormat::Nv12),
            Exact::Yuv420p10 => Some(PixelFormat::Yuv420p10),
            Exact::P010 => Some(PixelFormat::P010),
            Exact::Gray | Exact::Gray10 | Exact::Gbrp => None,
        }
    }

    /// True when [`convert`] makes this form from decoded pictures of `format`: YUV
    /// pictures for the YUV and grey forms, planar R, G, B for `gbrp`.
    pub fn converts(self, format: PixelFormat) -> bool {
        match self {
            Exact::Gbrp => format == PixelFormat::RgbPlanar,
            _ => format.is_yuv(),
        }
    }

    /// True when [`convert`] writes new bytes for pictures of `format`; false where it
    /// keeps them as they are (a YUV form of the picture's own depth: its layout is the
    /// one the decoder was asked for), or does not apply.
    pub fn changes(self, format: PixelFormat) -> bool {
        self.converts(format) && !(self.format().is_some() && format.bit_depth() == self.bit_depth())
    }
}

/// What a name asks for: the format to ask the decoder for (its depth follows the
/// stream), and the stated-depth form frames are converted to, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutFormat {
    /// The decoder's output format.
    pub request: PixelFormat,
    /// The form written, when the name states a depth.
    pub exact: Option<Exact>,
}

/// Every name [`parse`] takes.
pub const NAMES: &str = "yuv420p, nv12, yuv420p10le, p010le, gray, gray10le, yuv420p-auto, nv12-auto, rgb24, bgr24, \
                     rgba, bgra, gbrp, rgbp, bgrp, rgbf32, bgrf32, rgbpf32, bgrpf32, rgbf16, bgrf16, rgbpf16, bgrpf16";

/// Parses a pixel-format name (case-insensitive); the error lists every name.
pub fn parse(s: &str) -> std::result::Result<OutFormat, String> {
    let exact = |request, e| Ok(OutFormat { request, exact: Some(e) });
    match s.to_ascii_lowercase().as_str() {
        "yuv420p" | "i420" => exact(PixelFormat::Yuv420p, Exact::Yuv420p),
        "nv12" => exact(PixelFormat::Nv12, Exact::Nv12),
        "yuv420p10le" | "yuv420p10" => exact(PixelFormat::Yuv420p, Exact::Yuv420p10),
        "p010le" | "p010" => exact(PixelFormat::Nv12, Exact::P010),
        "gray" | "gray8" => exact(PixelFormat::Yuv420p, Exact::Gray),
        "gray10le" | "gray10" => exact(PixelFormat::Yuv420p, Exact::Gray10),
        "gbrp" => exact(PixelFormat::RgbPlanar, Exact::Gbrp),
        "yuv420p-auto" => Ok(OutFormat { request: PixelFormat::Yuv420p, exact: None }),
        "nv12-auto" => Ok(OutFormat { request: PixelFormat::Nv12, exact: None }),
        other => match other.parse::<PixelFormat>() {
            Ok(f) if !f.is_yuv() => Ok(OutFormat { request: f, exact: None }),
            _ => Err(format!("unknown pixel format '{s}' ({NAMES})")),
        },
    }
}

/// Reads the 16-bit little-endian word `i` of `b`.
fn word(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[2 * i], b[2 * i + 1]])
}

/// Converts one tightly packed decoded picture (`format`, `width` x `height`) to `exact`
/// in `out`; `Ok(false)` when it already is in that form (write `bytes` as they are).
pub fn convert(
    format: PixelFormat,
    width: u32,
    height: u32,
    bytes: &[u8],
    exact: Exact,
    out: &mut Vec<u8>,
) -> Result<bool> {
    use PixelFormat as P;
    let (w, h) = (width as usize, height as usize);
    let luma = w * h;
    if exact == Exact::Gbrp {
        // Planar R, G, B to ffmpeg's G, B, R.
        if format != P::RgbPlanar || bytes.len() < 3 * luma {
            return Err(Error::invalid_input(format!(
                "--pix-fmt gbrp from a {format} picture of {} bytes ({width}x{height})",
                bytes.len()
            )));
        }
        out.clear();
        out.extend_from_slice(&bytes[luma..3 * luma]);
        out.extend_from_slice(&bytes[..luma]);
        return Ok(true);
    }
    let chroma = 2 * w.div_ceil(2) * h.div_ceil(2);
    let samples = luma + chroma;
    let wide = format.bit_depth() > 8;
    let need = if wide { 2 * samples } else { samples };
    if bytes.len() < need || !matches!(format, P::Yuv420p | P::Nv12 | P::Yuv420p10 | P::P010) {
        return Err(Error::invalid_input(format!(
            "--pix-fmt {exact:?} from a {format} picture of {} bytes ({width}x{height})",
            bytes.len()
        )));
    }
    // A 10-bit sample of the picture (P010 keeps it in the top bits).
    let ten = |i: usize| if format == P::P010 { word(bytes, i) >> 6 } else { word(bytes, i) };
    out.clear();
    match (exact, wide) {
        (Exact::Yuv420p | Exact::Nv12, false) | (Exact::Yuv420p10 | Exact::P010, true) => return Ok(false),
        (Exact::Yuv420p | Exact::Nv12, true) => {
            // Rounded to 8 bits; the layout (planar or interleaved) is the decoder's.
            out.extend((0..samples).map(|i| ((ten(i) + 2) >> 2).min(255) as u8));
        }
        (Exact::Yuv420p10, false) => {
            out.reserve(2 * samples);
            for &b in &bytes[..samples] {
                out.extend_from_slice(&(u16::from(b) << 2).to_le_bytes());
            }
        }
        (Exact::P010, false) => {
            out.reserve(2 * samples);
            for &b in &bytes[..samples] {
                out.extend_from_slice(&(u16::from(b) * 257).to_le_bytes());
            }
        }
        (Exact::Gray, _) => {
            // Limited-range luma (16-235, or 64-940 in 10 bits) stretched to 0-255.
            let (low, span) = if wide { (64.0, 876.0) } else { (16.0, 219.0) };
            let sample = |i: usize| if wide { f64::from(ten(i)) } else { f64::from(bytes[i]) };
            out.extend((0..luma).map(|i| ((sample(i) - low) * 255.0 / span).round().clamp(0.0, 255.0) as u8));
        }
        (Exact::Gbrp, _) => unreachable!("handled above"),
        (Exact::Gray10, _) => {
            let (low, span) = if wide { (64.0, 876.0) } else { (16.0, 219.0) };
            let sample = |i: usize| if wide { f64::from(ten(i)) } else { f64::from(bytes[i]) };
            out.reserve(2 * luma);
            for i in 0..luma {
                let v = ((sample(i) - low) * 1023.0 / span).round().clamp(0.0, 1023.0) as u16;
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse("yuv420p10le").unwrap().exact, Some(Exact::Yuv420p10));
        assert_eq!(parse("P010LE").unwrap().request, PixelFormat::Nv12);
        assert_eq!(parse("yuv420p-auto").unwrap().exact, None);
        assert_eq!(parse("rgb24").unwrap().request, PixelFormat::Rgb24);
        assert_eq!(parse("gbrp").unwrap(), OutFormat { request: PixelFormat::RgbPlanar, exact: Some(Exact::Gbrp) });
        assert_eq!(parse("rgbp").unwrap(), OutFormat { request: PixelFormat::RgbPlanar, exact: None });
        assert!(parse("yuv444p").unwrap_err().contains("yuv420p10le"));
    }

    #[test]
    fn depths_as_ffmpeg_converts_them() {
        let mut out = Vec::new();
        // 2x2 8-bit I420: Y 16 235 0 255, U 128, V 128.
        let i420 = [16u8, 235, 0, 255, 128, 128];
        assert!(convert(PixelFormat::Yuv420p, 2, 2, &i420, Exact::Yuv420p10, &mut out).unwrap());
        assert_eq!(out[..4], [64, 0, 172, 3]);
        assert!(convert(PixelFormat::Nv12, 2, 2, &i420, Exact::P010, &mut out).unwrap());
        assert_eq!(&out[..2], &(16u16 * 257).to_le_bytes());
        assert!(convert(PixelFormat::Yuv420p, 2, 2, &i420, Exact::Gray, &mut out).unwrap());
        assert_eq!(out, [0, 255, 0, 255]);
        assert!(!convert(PixelFormat::Yuv420p, 2, 2, &i420, Exact::Yuv420p, &mut out).unwrap());
        // 10-bit to 8: rounded.
        let ten: Vec<u8> = [64u16, 941, 1023, 0, 512, 510].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert!(convert(PixelFormat::Yuv420p10, 2, 2, &ten, Exact::Yuv420p, &mut out).unwrap());
        assert_eq!(out, [16, 235, 255, 0, 128, 128]);
        let p010: Vec<u8> = [64u16, 941, 1023, 0, 512, 510].iter().flat_map(|v| (v << 6).to_le_bytes()).collect();
        assert!(convert(PixelFormat::P010, 2, 2, &p010, Exact::Nv12, &mut out).unwrap());
        assert_eq!(out, [16, 235, 255, 0, 128, 128]);
        assert!(convert(PixelFormat::Yuv420p10, 2, 2, &ten[..4], Exact::Yuv420p, &mut out).is_err());
    }

    #[test]
    fn gbrp_is_ffmpegs_plane_order() {
        let mut out = Vec::new();
        // 2x1 planar R, G, B.
        let rgbp = [1u8, 2, 3, 4, 5, 6];
        assert!(convert(PixelFormat::RgbPlanar, 2, 1, &rgbp, Exact::Gbrp, &mut out).unwrap());
        assert_eq!(out, [3, 4, 5, 6, 1, 2]);
        assert!(Exact::Gbrp.converts(PixelFormat::RgbPlanar) && !Exact::Gbrp.converts(PixelFormat::Rgb24));
        // `changes` says whether `convert` writes new bytes.
        for exact in [Exact::Yuv420p, Exact::Nv12, Exact::Yuv420p10, Exact::P010, Exact::Gray, Exact::Gray10] {
            for format in [PixelFormat::Yuv420p, PixelFormat::Nv12, PixelFormat::Yuv420p10, PixelFormat::P010] {
                let bytes = vec![0u8; format.frame_size(4, 2)];
                let wrote = convert(format, 4, 2, &bytes, exact, &mut Vec::new()).unwrap();
                assert_eq!(exact.changes(format), wrote, "{exact:?} from {format}");
            }
        }
        assert!(!Exact::Yuv420p.converts(PixelFormat::RgbPlanar) && Exact::Yuv420p.converts(PixelFormat::Nv12));
        assert!(convert(PixelFormat::Rgb24, 2, 1, &rgbp, Exact::Gbrp, &mut out).is_err());
    }
}
