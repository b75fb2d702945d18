//! Plain data types shared by decode and encode: codecs, pixel formats,
//! dimensions with cropping, timebases and colour metadata.

use std::fmt;
use std::str::FromStr;

/// A video compression standard.
///
/// ```
/// use video_hw::Codec;
/// assert_eq!("hevc".parse::<Codec>().unwrap(), Codec::Hevc);
/// assert_eq!(Codec::H264.to_string(), "h264");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    Hevc,
    /// AV1.
    Av1,
    /// VP9.
    Vp9,
}

impl Codec {
    /// Every codec, in a stable order (used by `probe`).
    pub const ALL: [Codec; 4] = [Codec::H264, Codec::Hevc, Codec::Av1, Codec::Vp9];

    /// The short lower-case name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::Hevc => "hevc",
            Codec::Av1 => "av1",
            Codec::Vp9 => "vp9",
        }
    }

    /// True for the codecs whose bitstreams are made of NAL units (H.264, HEVC).
    pub fn is_nal_based(self) -> bool {
        matches!(self, Codec::H264 | Codec::Hevc)
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Codec {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "h264" | "avc" | "h.264" | "264" => Ok(Codec::H264),
            "hevc" | "h265" | "h.265" | "265" => Ok(Codec::Hevc),
            "av1" => Ok(Codec::Av1),
            "vp9" => Ok(Codec::Vp9),
            other => Err(crate::Error::invalid_input(format!("unknown codec '{other}' (h264, hevc, av1, vp9)"))),
        }
    }
}

/// The layout of decoded or to-be-encoded pixels.
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
}

impl PixelFormat {
    /// The name ffmpeg uses for the same layout (`nv12`, `yuv420p10le`, …).
    pub fn ffmpeg_name(self) -> &'static str {
        match self {
            PixelFormat::Nv12 => "nv12",
            PixelFormat::P010 => "p010le",
            PixelFormat::Yuv420p => "yuv420p",
            PixelFormat::Yuv420p10 => "yuv420p10le",
            PixelFormat::Bgra => "bgra",
            PixelFormat::Rgb24 => "rgb24",
            PixelFormat::RgbPlanar => "gbrp",
        }
    }

    /// Bits per sample (8 or 10).
    pub fn bit_depth(self) -> u8 {
        match self {
            PixelFormat::P010 | PixelFormat::Yuv420p10 => 10,
            _ => 8,
        }
    }

    /// Bytes per sample in memory (1, or 2 for the 10-bit formats).
    pub fn bytes_per_sample(self) -> usize {
        if self.bit_depth() > 8 { 2 } else { 1 }
    }

    /// Number of planes.
    pub fn plane_count(self) -> usize {
        match self {
            PixelFormat::Nv12 | PixelFormat::P010 => 2,
            PixelFormat::Yuv420p | PixelFormat::Yuv420p10 | PixelFormat::RgbPlanar => 3,
            PixelFormat::Bgra | PixelFormat::Rgb24 => 1,
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
            (PixelFormat::RgbPlanar, 0..=2) => (w, h),
            (PixelFormat::Bgra, 0) => (w * 4, h),
            (PixelFormat::Rgb24, 0) => (w * 3, h),
            _ => (0, 0),
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
            "gbrp" | "rgbp" | "planar-rgb" => PixelFormat::RgbPlanar,
            other => return Err(crate::Error::invalid_input(format!("unknown pixel format '{other}'"))),
        })
    }
}

/// Pixels removed from each edge of the coded picture to get the displayed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Crop {
    /// Columns removed on the left.
    pub left: u32,
    /// Columns removed on the right.
    pub right: u32,
    /// Rows removed at the top.
    pub top: u32,
    /// Rows removed at the bottom.
    pub bottom: u32,
}

/// Coded size (what the decoder works on) and the crop that gives the display size.
///
/// ```
/// use video_hw::{Crop, Dimensions};
/// let d = Dimensions { coded_width: 1920, coded_height: 1088, crop: Crop { bottom: 8, ..Crop::default() } };
/// assert_eq!((d.width(), d.height()), (1920, 1080));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Dimensions {
    /// Width of the decoded picture buffer, in luma samples.
    pub coded_width: u32,
    /// Height of the decoded picture buffer, in luma samples.
    pub coded_height: u32,
    /// Cropping from the coded to the displayed picture.
    pub crop: Crop,
}

impl Dimensions {
    /// Dimensions with no cropping.
    pub fn new(width: u32, height: u32) -> Self {
        Dimensions { coded_width: width, coded_height: height, crop: Crop::default() }
    }

    /// Displayed width (coded width less left and right crop).
    pub fn width(&self) -> u32 {
        self.coded_width.saturating_sub(self.crop.left.saturating_add(self.crop.right))
    }

    /// Displayed height (coded height less top and bottom crop).
    pub fn height(&self) -> u32 {
        self.coded_height.saturating_sub(self.crop.top.saturating_add(self.crop.bottom))
    }
}

/// A rational number `num/den`, used for timebases and frame rates.
///
/// ```
/// use video_hw::Rational;
/// let tb = Rational::new(1, 90_000);
/// assert_eq!(tb.rescale(3003, Rational::new(1, 30_000)), 9009);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    /// Numerator.
    pub num: i64,
    /// Denominator (never zero in a value built by [`Rational::new`] from valid input).
    pub den: i64,
}

impl Rational {
    /// `num/den`.
    pub const fn new(num: i64, den: i64) -> Self {
        Rational { num, den }
    }

    /// The 90 kHz clock of MPEG transport streams, the default timebase.
    pub const MPEG_90K: Rational = Rational::new(1, 90_000);

    /// Converts `value` from timebase `from` into this timebase, rounding to nearest.
    pub fn rescale(self, value: i64, from: Rational) -> i64 {
        // value * from.num / from.den * self.den / self.num, in i128 to avoid overflow.
        let n = value as i128 * from.num as i128 * self.den as i128;
        let d = from.den as i128 * self.num as i128;
        if d == 0 {
            return 0;
        }
        let q = (2 * n + d.signum() * d) / (2 * d);
        q.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The value as a float (for display only).
    pub fn as_f64(self) -> f64 {
        if self.den == 0 { 0.0 } else { self.num as f64 / self.den as f64 }
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// Colour primaries, with the code points of ITU-T H.273 (the VUI `colour_primaries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColorPrimaries(pub u8);
impl ColorPrimaries {
    /// BT.709 / sRGB.
    pub const BT709: Self = Self(1);
    /// Not specified.
    pub const UNSPECIFIED: Self = Self(2);
    /// BT.601 625-line (PAL).
    pub const BT470BG: Self = Self(5);
    /// BT.601 525-line (NTSC, SMPTE 170M).
    pub const SMPTE170M: Self = Self(6);
    /// BT.2020 / BT.2100.
    pub const BT2020: Self = Self(9);
}

/// Transfer characteristics, H.273 code points (the VUI `transfer_characteristics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferCharacteristics(pub u8);
impl TransferCharacteristics {
    /// BT.709.
    pub const BT709: Self = Self(1);
    /// Not specified.
    pub const UNSPECIFIED: Self = Self(2);
    /// SMPTE 170M / BT.601.
    pub const SMPTE170M: Self = Self(6);
    /// SMPTE ST 2084 (PQ, HDR10).
    pub const PQ: Self = Self(16);
    /// ARIB STD-B67 (HLG).
    pub const HLG: Self = Self(18);
}

/// Matrix coefficients, H.273 code points (the VUI `matrix_coeffs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatrixCoefficients(pub u8);
impl MatrixCoefficients {
    /// Identity (GBR).
    pub const IDENTITY: Self = Self(0);
    /// BT.709.
    pub const BT709: Self = Self(1);
    /// Not specified.
    pub const UNSPECIFIED: Self = Self(2);
    /// BT.601 625-line.
    pub const BT470BG: Self = Self(5);
    /// BT.601 525-line.
    pub const SMPTE170M: Self = Self(6);
    /// BT.2020 non-constant luminance.
    pub const BT2020_NCL: Self = Self(9);
}

/// Whether samples use the limited (studio, 16–235) or full (0–255) range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorRange {
    /// Studio swing: Y 16–235, chroma 16–240 (at 8 bits).
    #[default]
    Limited,
    /// Full swing: 0–255 (at 8 bits).
    Full,
}

/// Colour description of a stream or frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColorInfo {
    /// Colour primaries.
    pub primaries: ColorPrimaries,
    /// Transfer characteristics.
    pub transfer: TransferCharacteristics,
    /// Matrix coefficients (YUV ↔ RGB).
    pub matrix: MatrixCoefficients,
    /// Sample range.
    pub range: ColorRange,
}

impl Default for ColorInfo {
    fn default() -> Self {
        ColorInfo {
            primaries: ColorPrimaries::UNSPECIFIED,
            transfer: TransferCharacteristics::UNSPECIFIED,
            matrix: MatrixCoefficients::UNSPECIFIED,
            range: ColorRange::Limited,
        }
    }
}

impl ColorInfo {
    /// The matrix to use for YUV → RGB: the signalled one, or BT.709 for HD sizes and
    /// BT.601 for SD sizes when the stream does not say (the usual convention).
    pub fn effective_matrix(&self, height: u32) -> MatrixCoefficients {
        match self.matrix {
            MatrixCoefficients::UNSPECIFIED | MatrixCoefficients(3) => {
                if height > 576 {
                    MatrixCoefficients::BT709
                } else {
                    MatrixCoefficients::SMPTE170M
                }
            }
            m => m,
        }
    }
}
