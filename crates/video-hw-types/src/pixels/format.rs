//! The layout of pixels in memory ([`PixelFormat`]): the YUV formats engines decode to
//! and encode from, and the RGB formats they are converted to, with their sample types
//! ([`SampleType`]) and channel orders ([`Channels`]); plane sizes and ffmpeg's names.

use std::fmt;
use std::str::FromStr;

/// The layout of decoded or to-be-encoded pixels.
///
/// The YUV formats are what engines decode to and encode from. The RGB formats are
/// conversions of those: 8-bit ones from any engine's output, and 8-bit, float16 and
/// float32 ones (planar or interleaved, RGB or BGR order) from a
/// `Transform` (`video_hw::pixels::transform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PixelFormat {
    /// 8-bit 4:2:0, a Y plane then one interleaved UV plane.
    Nv12,
    /// 10-bit 4:2:0 in 16-bit little-endian words (value in the high bits), Y then interleaved UV.
    P010,
    /// 8-bit 4:2:0 planar: Y, U, V (also called I420).
    Yuv420p,
    /// 10-bit 4:2:0 planar, 16-bit little-endian words (value in the low bits).
    Yuv420p10,
    /// 8-bit packed B, G, R, A.
    Bgra,
    /// 8-bit packed R, G, B.
    Rgb24,
    /// 8-bit planar R, G, B (three full-size planes).
    RgbPlanar,
    /// 8-bit packed B, G, R (OpenCV's order).
    Bgr24,
    /// 8-bit packed R, G, B, A.
    Rgba,
    /// 8-bit planar B, G, R (three full-size planes).
    BgrPlanar,
    /// float32 packed R, G, B (native byte order; height × width × 3).
    RgbF32,
    /// float32 packed B, G, R.
    BgrF32,
    /// float32 planar R, G, B (3 × height × width, the layout models take).
    RgbPlanarF32,
    /// float32 planar B, G, R.
    BgrPlanarF32,
    /// IEEE float16 packed R, G, B (native byte order).
    RgbF16,
    /// float16 packed B, G, R.
    BgrF16,
    /// float16 planar R, G, B.
    RgbPlanarF16,
    /// float16 planar B, G, R.
    BgrPlanarF16,
}

/// The type of one sample of a [`PixelFormat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// Unsigned 8-bit.
    U8,
    /// Unsigned 16-bit little-endian words (the 10-bit YUV formats).
    U16,
    /// IEEE 754 binary16, native byte order.
    F16,
    /// IEEE 754 binary32, native byte order.
    F32,
}

impl SampleType {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            SampleType::U8 => 1,
            SampleType::U16 | SampleType::F16 => 2,
            SampleType::F32 => 4,
        }
    }

    /// The name NumPy and DLPack users know (`uint8`, `uint16`, `float16`, `float32`).
    pub fn name(self) -> &'static str {
        match self {
            SampleType::U8 => "uint8",
            SampleType::U16 => "uint16",
            SampleType::F16 => "float16",
            SampleType::F32 => "float32",
        }
    }
}

impl FromStr for SampleType {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "uint8" | "u8" => SampleType::U8,
            "uint16" | "u16" => SampleType::U16,
            "float16" | "f16" | "half" => SampleType::F16,
            "float32" | "f32" | "float" => SampleType::F32,
            other => {
                return Err(crate::Error::invalid_input(format!("unknown dtype '{other}' (uint8, float16, float32)")));
            }
        })
    }
}

/// The channel order of an RGB [`PixelFormat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channels {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red.
    Bgr,
    /// Red, green, blue, alpha (alpha opaque).
    Rgba,
    /// Blue, green, red, alpha (alpha opaque).
    Bgra,
}

impl Channels {
    /// Number of channels (3 or 4).
    pub fn count(self) -> usize {
        match self {
            Channels::Rgb | Channels::Bgr => 3,
            Channels::Rgba | Channels::Bgra => 4,
        }
    }

    /// Where red, green and blue sit among the channels.
    pub fn rgb_positions(self) -> [usize; 3] {
        match self {
            Channels::Rgb | Channels::Rgba => [0, 1, 2],
            Channels::Bgr | Channels::Bgra => [2, 1, 0],
        }
    }
}

impl PixelFormat {
    /// The name ffmpeg uses for the same layout (`nv12`, `yuv420p10le`, …); formats ffmpeg
    /// lacks get a name in the same style (`bgrp`, `rgbpf16`, …).
    pub fn ffmpeg_name(self) -> &'static str {
        match self {
            PixelFormat::Nv12 => "nv12",
            PixelFormat::P010 => "p010le",
            PixelFormat::Yuv420p => "yuv420p",
            PixelFormat::Yuv420p10 => "yuv420p10le",
            PixelFormat::Bgra => "bgra",
            PixelFormat::Rgb24 => "rgb24",
            // ffmpeg's planar RGB (`gbrp`) orders its planes G, B, R: this is R, G, B.
            PixelFormat::RgbPlanar => "rgbp",
            PixelFormat::Bgr24 => "bgr24",
            PixelFormat::Rgba => "rgba",
            PixelFormat::BgrPlanar => "bgrp",
            PixelFormat::RgbF32 => "rgbf32",
            PixelFormat::BgrF32 => "bgrf32",
            PixelFormat::RgbPlanarF32 => "rgbpf32",
            PixelFormat::BgrPlanarF32 => "bgrpf32",
            PixelFormat::RgbF16 => "rgbf16",
            PixelFormat::BgrF16 => "bgrf16",
            PixelFormat::RgbPlanarF16 => "rgbpf16",
            PixelFormat::BgrPlanarF16 => "bgrpf16",
        }
    }

    /// The RGB format with these channels, planarity and sample type, if there is one
    /// (alpha comes only packed and 8-bit).
    pub fn rgb(channels: Channels, planar: bool, sample: SampleType) -> Option<PixelFormat> {
        use {Channels as C, PixelFormat as P, SampleType as S};
        Some(match (channels, planar, sample) {
            (C::Rgb, false, S::U8) => P::Rgb24,
            (C::Bgr, false, S::U8) => P::Bgr24,
            (C::Rgba, false, S::U8) => P::Rgba,
            (C::Bgra, false, S::U8) => P::Bgra,
            (C::Rgb, true, S::U8) => P::RgbPlanar,
            (C::Bgr, true, S::U8) => P::BgrPlanar,
            (C::Rgb, false, S::F32) => P::RgbF32,
            (C::Bgr, false, S::F32) => P::BgrF32,
            (C::Rgb, true, S::F32) => P::RgbPlanarF32,
            (C::Bgr, true, S::F32) => P::BgrPlanarF32,
            (C::Rgb, false, S::F16) => P::RgbF16,
            (C::Bgr, false, S::F16) => P::BgrF16,
            (C::Rgb, true, S::F16) => P::RgbPlanarF16,
            (C::Bgr, true, S::F16) => P::BgrPlanarF16,
            _ => return None,
        })
    }

    /// For an RGB format: its channels and whether it is planar; `None` for YUV.
    pub fn rgb_layout(self) -> Option<(Channels, bool)> {
        use {Channels as C, PixelFormat as P};
        Some(match self {
            P::Rgb24 | P::RgbF32 | P::RgbF16 => (C::Rgb, false),
            P::Bgr24 | P::BgrF32 | P::BgrF16 => (C::Bgr, false),
            P::Rgba => (C::Rgba, false),
            P::Bgra => (C::Bgra, false),
            P::RgbPlanar | P::RgbPlanarF32 | P::RgbPlanarF16 => (C::Rgb, true),
            P::BgrPlanar | P::BgrPlanarF32 | P::BgrPlanarF16 => (C::Bgr, true),
            P::Nv12 | P::P010 | P::Yuv420p | P::Yuv420p10 => return None,
        })
    }

    /// True for the 4:2:0 YUV formats engines decode to and encode from.
    pub fn is_yuv(self) -> bool {
        self.rgb_layout().is_none()
    }

    /// The type of one sample.
    pub fn sample_type(self) -> SampleType {
        use PixelFormat as P;
        match self {
            P::P010 | P::Yuv420p10 => SampleType::U16,
            P::RgbF32 | P::BgrF32 | P::RgbPlanarF32 | P::BgrPlanarF32 => SampleType::F32,
            P::RgbF16 | P::BgrF16 | P::RgbPlanarF16 | P::BgrPlanarF16 => SampleType::F16,
            _ => SampleType::U8,
        }
    }

    /// Significant bits per sample: 8 or 10 for the integer formats, 16 or 32 for float.
    pub fn bit_depth(self) -> u8 {
        match self {
            PixelFormat::P010 | PixelFormat::Yuv420p10 => 10,
            f => match f.sample_type() {
                SampleType::F16 => 16,
                SampleType::F32 => 32,
                _ => 8,
            },
        }
    }

    /// Bytes per sample in memory (1, 2 or 4).
    pub fn bytes_per_sample(self) -> usize {
        self.sample_type().size()
    }

    /// Number of planes.
    pub fn plane_count(self) -> usize {
        match self {
            PixelFormat::Nv12 | PixelFormat::P010 => 2,
            PixelFormat::Yuv420p | PixelFormat::Yuv420p10 => 3,
            f => match f.rgb_layout() {
                Some((_, true)) => 3,
                _ => 1,
            },
        }
    }

    /// Width in bytes and height in rows of plane `index` for a `width` x `height`
    /// picture, tightly packed. 4:2:0 chroma rounds odd sizes up, as ffmpeg does.
    ///
    /// ```
    /// use video_hw::PixelFormat;
    /// assert_eq!(PixelFormat::Yuv420p.plane_size(1, 301, 169), (151, 85));
    /// assert_eq!(PixelFormat::Nv12.plane_size(1, 301, 169), (302, 85));
    /// ```
    pub fn plane_size(self, index: usize, width: u32, height: u32) -> (usize, usize) {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let bps = self.bytes_per_sample();
        match (self, index) {
            (PixelFormat::Nv12 | PixelFormat::P010, 0) => (w * bps, h),
            (PixelFormat::Nv12 | PixelFormat::P010, 1) => (cw * 2 * bps, ch),
            (PixelFormat::Yuv420p | PixelFormat::Yuv420p10, 0) => (w * bps, h),
            (PixelFormat::Yuv420p | PixelFormat::Yuv420p10, 1 | 2) => (cw * bps, ch),
            (f, i) => match f.rgb_layout() {
                Some((_, true)) if i < 3 => (w * bps, h),
                Some((c, false)) if i == 0 => (w * c.count() * bps, h),
                _ => (0, 0),
            },
        }
    }

    /// Bytes of one tightly packed picture.
    pub fn frame_size(self, width: u32, height: u32) -> usize {
        (0..self.plane_count())
            .map(|i| {
                let (w, h) = self.plane_size(i, width, height);
                w * h
            })
            .sum()
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ffmpeg_name())
    }
}

impl FromStr for PixelFormat {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "nv12" => PixelFormat::Nv12,
            "p010" | "p010le" => PixelFormat::P010,
            "yuv420p" | "i420" => PixelFormat::Yuv420p,
            "yuv420p10" | "yuv420p10le" => PixelFormat::Yuv420p10,
            "bgra" => PixelFormat::Bgra,
            "rgb24" | "rgb" => PixelFormat::Rgb24,
            "rgbp" | "planar-rgb" => PixelFormat::RgbPlanar,
            "bgr24" | "bgr" => PixelFormat::Bgr24,
            "rgba" => PixelFormat::Rgba,
            "bgrp" => PixelFormat::BgrPlanar,
            "rgbf32" => PixelFormat::RgbF32,
            "bgrf32" => PixelFormat::BgrF32,
            "rgbpf32" => PixelFormat::RgbPlanarF32,
            "bgrpf32" => PixelFormat::BgrPlanarF32,
            "rgbf16" => PixelFormat::RgbF16,
            "bgrf16" => PixelFormat::BgrF16,
            "rgbpf16" => PixelFormat::RgbPlanarF16,
            "bgrpf16" => PixelFormat::BgrPlanarF16,
            other => return Err(crate::Error::invalid_input(format!("unknown pixel format '{other}'"))),
        })
    }
}
