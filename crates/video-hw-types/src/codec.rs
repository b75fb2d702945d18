//! Plain data types shared by decode and encode: codecs, dimensions with cropping,
//! timebases and colour metadata. The pixel formats are in [`crate::pixels`]
//! (re-exported here, where they have always been named).

use std::fmt;
use std::str::FromStr;

/// Moved to [`crate::pixels::format`]; named here as well, where the crate and its users
/// have always imported them.
pub use crate::pixels::format::{Channels, PixelFormat, SampleType};

/// A video compression standard.
///
/// H.264, HEVC, AV1 and VP9 have parsers of their own here (`bitstream/`) and every
/// engine that decodes them; the others are decoded by the FFmpeg engine alone, from the
/// container's packets, wherever the loaded libavcodec has a decoder for them (see
/// `docs/media.md`, "Codecs"). Their names are FFmpeg's (what `ffprobe` says).
///
/// ```
/// use video_hw::Codec;
/// assert_eq!("hevc".parse::<Codec>().unwrap(), Codec::Hevc);
/// assert_eq!(Codec::H264.to_string(), "h264");
/// assert_eq!("mpeg2".parse::<Codec>().unwrap().to_string(), "mpeg2video");
/// assert_eq!("theora".parse::<Codec>().unwrap(), Codec::Other("theora"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Codec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    Hevc,
    /// AV1.
    Av1,
    /// VP9.
    Vp9,
    /// VP8 (FFmpeg engine only).
    Vp8,
    /// MPEG-2 video, H.262 (FFmpeg engine only; FFmpeg's `mpeg2video`).
    Mpeg2,
    /// MPEG-4 Part 2 Visual: Simple and Advanced Simple profiles, DivX, Xvid (FFmpeg engine
    /// only; FFmpeg's `mpeg4`).
    Mpeg4,
    /// Motion JPEG (FFmpeg engine only).
    Mjpeg,
    /// Apple ProRes, every flavour (FFmpeg engine only).
    ProRes,
    /// Another codec, by FFmpeg's name for it (`mpeg1video`, `h263`, `theora`, `ffv1`, …):
    /// the demuxers map the containers' identifiers of the codecs in [`Codec::OTHERS`] to
    /// it, and the FFmpeg engine opens libavcodec's decoder of that name.
    Other(&'static str),
}

impl Codec {
    /// The codecs every engine's probe knows (they have a parser and a probe keyframe of
    /// their own here), in a stable order (used by `probe`).
    pub const ALL: [Codec; 4] = [Codec::H264, Codec::Hevc, Codec::Av1, Codec::Vp9];

    /// The named codecs only the FFmpeg engine decodes.
    pub const FFMPEG_ONLY: [Codec; 5] = [Codec::Vp8, Codec::Mpeg2, Codec::Mpeg4, Codec::Mjpeg, Codec::ProRes];

    /// FFmpeg's names of the codecs the demuxers know beyond the named ones
    /// ([`Codec::Other`]); each is also the name of libavcodec's decoder.
    pub const OTHERS: [&'static str; 16] = [
        "mpeg1video",
        "h263",
        "h261",
        "theora",
        "ffv1",
        "huffyuv",
        "ffvhuff",
        "utvideo",
        "dnxhd",
        "msmpeg4v2",
        "msmpeg4v3",
        "wmv1",
        "wmv2",
        "wmv3",
        "vc1",
        "rawvideo",
    ];

    /// The short lower-case name used on the command line and in JSON: FFmpeg's name of
    /// the codec (`h264`, `hevc`, `av1`, `vp9`, `vp8`, `mpeg2video`, `mpeg4`, `mjpeg`,
    /// `prores`, or an [`Other`](Codec::Other)'s own).
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::Hevc => "hevc",
            Codec::Av1 => "av1",
            Codec::Vp9 => "vp9",
            Codec::Vp8 => "vp8",
            Codec::Mpeg2 => "mpeg2video",
            Codec::Mpeg4 => "mpeg4",
            Codec::Mjpeg => "mjpeg",
            Codec::ProRes => "prores",
            Codec::Other(name) => name,
        }
    }

    /// True for the codecs whose bitstreams are made of NAL units (H.264, HEVC).
    pub fn is_nal_based(self) -> bool {
        matches!(self, Codec::H264 | Codec::Hevc)
    }

    /// True for H.264, HEVC, AV1 and VP9, the codecs this crate parses and every engine
    /// may decode; false for those only the FFmpeg engine decodes, from whole packets.
    pub fn is_parsed(self) -> bool {
        matches!(self, Codec::H264 | Codec::Hevc | Codec::Av1 | Codec::Vp9)
    }

    /// The codec FFmpeg calls `name` (its codec name, as `ffprobe` prints it), if it is
    /// one of the named codecs or in [`Codec::OTHERS`].
    pub fn from_ffmpeg_name(name: &str) -> Option<Codec> {
        let named = Codec::ALL.into_iter().chain(Codec::FFMPEG_ONLY).find(|c| c.name() == name);
        named.or_else(|| Codec::OTHERS.iter().find(|n| **n == name).map(|n| Codec::Other(n)))
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
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "h264" | "avc" | "h.264" | "264" => Ok(Codec::H264),
            "hevc" | "h265" | "h.265" | "265" => Ok(Codec::Hevc),
            "av1" => Ok(Codec::Av1),
            "vp9" => Ok(Codec::Vp9),
            "vp8" => Ok(Codec::Vp8),
            "mpeg2" | "mpeg2video" | "h262" | "h.262" => Ok(Codec::Mpeg2),
            "mpeg4" | "mpeg-4" | "xvid" | "divx" => Ok(Codec::Mpeg4),
            "mjpeg" | "mjpg" => Ok(Codec::Mjpeg),
            "prores" => Ok(Codec::ProRes),
            other => Codec::from_ffmpeg_name(other).ok_or_else(|| {
                crate::Error::invalid_input(format!(
                    "unknown codec '{other}' (h264, hevc, av1, vp9, vp8, mpeg2, mpeg4, mjpeg, prores, {})",
                    Codec::OTHERS.join(", ")
                ))
            }),
        }
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
/// // Negative values round as positive ones do (an MP4 edit's priming is exact).
/// assert_eq!(Rational::new(1, 48_000).rescale(-1024, Rational::new(1, 48_000)), -1024);
/// assert_eq!(Rational::new(1, 2).rescale(-1, Rational::new(1, 4)), 0);
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
        // Halves round up, for negative values too: floor((2n + d) / 2d) with d made positive
        // (integer division truncates toward zero, which put -1024/48000 at -1023 samples).
        let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
        let q = (2 * n + d).div_euclid(2 * d);
        q.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The value as a float (for display only).
    pub fn as_f64(self) -> f64 {
        if self.den == 0 { 0.0 } else { self.num as f64 / self.den as f64 }
    }

    /// This value in lowest terms, its sign on the numerator and its denominator positive:
    /// `-6/-4` is `3/2`, `6/-4` is `-3/2`, `0/-5` is `0/1`.
    ///
    /// A zero denominator (`x/0`, `0/0`: no value) is returned as it is. So is the one kind
    /// of value whose positive-denominator form does not fit `i64`: `i64::MIN` over a
    /// negative odd number, or an odd number over `i64::MIN` (2^63 has no `i64`; such terms
    /// have no common factor, so they are already in lowest terms, only the sign's place
    /// differs). [`Rational::reduced_from_i128`] is the checked form.
    ///
    /// ```
    /// use video_hw::Rational;
    /// assert_eq!(Rational::new(60_000, 2_002).reduced(), Rational::new(30_000, 1_001));
    /// assert_eq!(Rational::new(6, -4).reduced(), Rational::new(-3, 2));
    /// assert_eq!(Rational::new(7, 0).reduced(), Rational::new(7, 0));
    /// ```
    pub fn reduced(self) -> Rational {
        Self::reduced_from_i128(self.num.into(), self.den.into()).unwrap_or(self)
    }

    /// `num/den` in lowest terms as [`Rational::reduced`] gives it (sign on the numerator,
    /// denominator positive), from wider terms (a rate scaled by counts): `None` when `den`
    /// is zero or the reduced terms do not fit `i64`.
    ///
    /// ```
    /// use video_hw::Rational;
    /// let wide = i128::from(i64::MAX) * 3;
    /// assert_eq!(Rational::reduced_from_i128(wide, 6), Some(Rational::new(i64::MAX, 2)));
    /// assert_eq!(Rational::reduced_from_i128(wide, 5), None);
    /// assert_eq!(Rational::reduced_from_i128(1, 0), None);
    /// ```
    pub fn reduced_from_i128(num: i128, den: i128) -> Option<Rational> {
        if den == 0 {
            return None;
        }
        // Magnitudes in u128 so that neither i128::MIN nor i64::MIN needs an `abs` that
        // overflows; the sign goes back on at the end.
        let (n, d) = (num.unsigned_abs(), den.unsigned_abs());
        let g = gcd_u128(n, d);
        let (n, d) = (n / g, d / g);
        let n = i128::try_from(n).ok()?;
        let n = if (num < 0) != (den < 0) { -n } else { n };
        Some(Rational::new(i64::try_from(n).ok()?, i64::try_from(d).ok()?))
    }
}

/// The greatest common divisor of `a` and `b` (Euclid's), at least 1: `gcd(0, 0)` is 1 so
/// that dividing by it is always defined.
fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
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

    /// The luma weights (Kr, Kb) of this matrix (H.273 table 4): BT.709 (1), FCC (4),
    /// BT.601 (5, 6), SMPTE 240M (7), BT.2020 (9, and 10, whose constant-luminance form is
    /// treated as non-constant). `None` for identity, unspecified, reserved and the
    /// matrices that are not a pair of weights (YCgCo, ICtCp, …).
    pub fn kr_kb(self) -> Option<(f64, f64)> {
        Some(match self.0 {
            1 => (0.2126, 0.0722),
            4 => (0.30, 0.11),
            5 | 6 => (0.299, 0.114),
            7 => (0.212, 0.087),
            9 | 10 => (0.2627, 0.0593),
            _ => return None,
        })
    }
}

/// Where chroma samples sit relative to luma in 4:2:0 (H.273 `chroma_sample_loc_type`,
/// the VUI's `chroma_sample_loc_type_top_field`; ffmpeg's `AVChromaLocation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChromaLocation {
    /// Not signalled: H.264 and HEVC then infer [`Left`](Self::Left) (type 0).
    #[default]
    Unspecified,
    /// Type 0: co-sited with the left luma column, halfway between two rows (MPEG-2, the
    /// default for H.264, HEVC and most video).
    Left,
    /// Type 1: in the centre of its 2×2 luma block (MPEG-1, JPEG).
    Center,
    /// Type 2: co-sited with the top-left luma sample (BT.2020's 4:2:0).
    TopLeft,
    /// Type 3: co-sited with the top row, halfway between two columns.
    Top,
    /// Type 4: co-sited with the bottom-left luma sample.
    BottomLeft,
    /// Type 5: co-sited with the bottom row, halfway between two columns.
    Bottom,
}

impl ChromaLocation {
    /// From a VUI `chroma_sample_loc_type` (0-5; anything else is unspecified).
    pub fn from_h273(code: u32) -> Self {
        match code {
            0 => ChromaLocation::Left,
            1 => ChromaLocation::Center,
            2 => ChromaLocation::TopLeft,
            3 => ChromaLocation::Top,
            4 => ChromaLocation::BottomLeft,
            5 => ChromaLocation::Bottom,
            _ => ChromaLocation::Unspecified,
        }
    }

    /// The position of chroma sample (0, 0) in luma sample units, from luma sample
    /// (0, 0): x is 0 or 0.5, y is 0, 0.5 or 1. Unspecified is placed as `Left`.
    pub fn offset(self) -> (f64, f64) {
        match self {
            ChromaLocation::Unspecified | ChromaLocation::Left => (0.0, 0.5),
            ChromaLocation::Center => (0.5, 0.5),
            ChromaLocation::TopLeft => (0.0, 0.0),
            ChromaLocation::Top => (0.5, 0.0),
            ChromaLocation::BottomLeft => (0.0, 1.0),
            ChromaLocation::Bottom => (0.5, 1.0),
        }
    }
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
    /// Chroma siting of 4:2:0 pictures.
    pub chroma_location: ChromaLocation,
}

impl Default for ColorInfo {
    fn default() -> Self {
        ColorInfo {
            primaries: ColorPrimaries::UNSPECIFIED,
            transfer: TransferCharacteristics::UNSPECIFIED,
            matrix: MatrixCoefficients::UNSPECIFIED,
            range: ColorRange::Limited,
            chroma_location: ChromaLocation::Unspecified,
        }
    }
}

impl ColorInfo {
    /// The matrix YUV ↔ RGB conversion uses by default ([`ColorMatrix::Auto`]): the
    /// signalled one; where the stream does not say (unspecified or reserved), BT.601, as
    /// FFmpeg's swscale (and so `ffmpeg -pix_fmt rgb24`, torchcodec, PyAV and decord) does.
    pub fn effective_matrix(&self) -> MatrixCoefficients {
        ColorMatrix::Auto.resolve(self, 0)
    }

    /// Whether the stream names no matrix (unspecified, or the reserved code point 3).
    pub fn matrix_is_untagged(&self) -> bool {
        matches!(self.matrix, MatrixCoefficients::UNSPECIFIED | MatrixCoefficients(3))
    }
}

/// How the YUV → RGB matrix of a picture is chosen: the one rule every conversion of this
/// crate (CPU, NVDEC kernels, transforms) resolves a matrix through. Parsed from
/// `auto`, `auto-hd`, `bt601`, `bt709`, `bt2020` (Python's and the CLI's `color_matrix`).
///
/// | value | tagged stream | untagged stream |
/// |---|---|---|
/// | `Auto` (default) | its tag | BT.601 (FFmpeg's swscale) |
/// | `AutoHd` | its tag | BT.709 from 720 lines up, BT.601 below (what players assume) |
/// | `Fixed(m)` | `m` | `m` |
///
/// A named matrix overrides tags too, as swscale's `in_color_matrix` does: it is for
/// streams whose tags are wrong as much as for untagged ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorMatrix {
    /// The stream's matrix; BT.601 where it names none.
    #[default]
    Auto,
    /// The stream's matrix; where it names none, BT.709 for pictures 720 lines or
    /// taller and BT.601 below.
    AutoHd,
    /// This matrix, whatever the stream says.
    Fixed(MatrixCoefficients),
}

impl ColorMatrix {
    /// The matrix for a picture of `height` lines described by `color`.
    pub fn resolve(self, color: &ColorInfo, height: u32) -> MatrixCoefficients {
        match self {
            ColorMatrix::Fixed(m) => m,
            _ if !color.matrix_is_untagged() => color.matrix,
            ColorMatrix::AutoHd if height >= 720 => MatrixCoefficients::BT709,
            ColorMatrix::Auto | ColorMatrix::AutoHd => MatrixCoefficients::SMPTE170M,
        }
    }

    /// The name this parses from (`bt601`, …; an unnamed fixed code point as its number).
    pub fn name(self) -> String {
        match self {
            ColorMatrix::Auto => "auto".into(),
            ColorMatrix::AutoHd => "auto-hd".into(),
            ColorMatrix::Fixed(MatrixCoefficients::SMPTE170M) => "bt601".into(),
            ColorMatrix::Fixed(MatrixCoefficients::BT709) => "bt709".into(),
            ColorMatrix::Fixed(MatrixCoefficients::BT2020_NCL) => "bt2020".into(),
            ColorMatrix::Fixed(m) => m.0.to_string(),
        }
    }
}

impl fmt::Display for ColorMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for ColorMatrix {
    type Err = crate::Error;

    /// `auto`, `auto-hd`, `bt601` (also `smpte170m`, `bt470bg`), `bt709`, `bt2020`
    /// (also `bt2020nc`), case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => ColorMatrix::Auto,
            "auto-hd" | "auto_hd" => ColorMatrix::AutoHd,
            "bt601" | "bt.601" | "smpte170m" | "bt470bg" => ColorMatrix::Fixed(MatrixCoefficients::SMPTE170M),
            "bt709" | "bt.709" => ColorMatrix::Fixed(MatrixCoefficients::BT709),
            "bt2020" | "bt.2020" | "bt2020nc" | "bt2020ncl" => ColorMatrix::Fixed(MatrixCoefficients::BT2020_NCL),
            other => {
                return Err(crate::Error::invalid_option(
                    "color_matrix",
                    format!("'{other}' (auto, auto-hd, bt601, bt709 or bt2020)"),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Rational;

    fn r(num: i64, den: i64) -> Rational {
        Rational::new(num, den)
    }

    #[test]
    fn reduced_puts_the_sign_on_the_numerator() {
        assert_eq!(r(6, 4).reduced(), r(3, 2));
        assert_eq!(r(-6, 4).reduced(), r(-3, 2));
        assert_eq!(r(6, -4).reduced(), r(-3, 2));
        assert_eq!(r(-6, -4).reduced(), r(3, 2));
        assert_eq!(r(30_000, 1_001).reduced(), r(30_000, 1_001));
        assert_eq!(r(1, 1).reduced(), r(1, 1));
    }

    #[test]
    fn reduced_zero_numerator_and_denominator() {
        assert_eq!(r(0, 5).reduced(), r(0, 1));
        assert_eq!(r(0, -5).reduced(), r(0, 1));
        // No value: left as it is.
        assert_eq!(r(0, 0).reduced(), r(0, 0));
        assert_eq!(r(7, 0).reduced(), r(7, 0));
        assert_eq!(r(-7, 0).reduced(), r(-7, 0));
        assert_eq!(Rational::reduced_from_i128(0, 0), None);
        assert_eq!(Rational::reduced_from_i128(3, 0), None);
        assert_eq!(Rational::reduced_from_i128(0, -9), Some(r(0, 1)));
    }

    #[test]
    fn reduced_i64_min_does_not_overflow() {
        assert_eq!(r(i64::MIN, i64::MIN).reduced(), r(1, 1));
        assert_eq!(r(i64::MIN, 2).reduced(), r(i64::MIN / 2, 1));
        assert_eq!(r(i64::MIN, -2).reduced(), r(1 << 62, 1));
        assert_eq!(r(4, i64::MIN).reduced(), r(-1, 1 << 61));
        assert_eq!(r(i64::MIN, 1).reduced(), r(i64::MIN, 1));
        assert_eq!(r(0, i64::MIN).reduced(), r(0, 1));
        // 2^63 has no i64: these are in lowest terms already and stay as they are.
        assert_eq!(r(i64::MIN, -1).reduced(), r(i64::MIN, -1));
        assert_eq!(r(i64::MIN, -3).reduced(), r(i64::MIN, -3));
        assert_eq!(r(1, i64::MIN).reduced(), r(1, i64::MIN));
        assert_eq!(r(-3, i64::MIN).reduced(), r(-3, i64::MIN));
        assert_eq!(Rational::reduced_from_i128(i64::MIN.into(), -1), None);
        assert_eq!(Rational::reduced_from_i128(1, i64::MIN.into()), None);
        assert_eq!(Rational::reduced_from_i128(i128::MIN, i128::MIN), Some(r(1, 1)));
        assert_eq!(Rational::reduced_from_i128(i128::MIN, 1), None);
        assert_eq!(Rational::reduced_from_i128(i128::MIN, -(1 << 70)), Some(r(1 << 57, 1)));
    }

    #[test]
    fn reduced_large_values() {
        assert_eq!(r(i64::MAX, i64::MAX).reduced(), r(1, 1));
        assert_eq!(r(i64::MAX - 1, 2).reduced(), r(i64::MAX / 2, 1));
        assert_eq!(r(-i64::MAX, i64::MAX).reduced(), r(-1, 1));
        // 2^31 - 1 is prime: nothing to take out.
        assert_eq!(r(i64::MAX, 2_147_483_647).reduced(), r(i64::MAX, 2_147_483_647));
        let (a, b) = (i128::from(i64::MAX) * 1_000_000_007, i128::from(i64::MAX - 1) * 1_000_000_007);
        assert_eq!(Rational::reduced_from_i128(a, b), Some(r(i64::MAX, i64::MAX - 1)));
        assert_eq!(Rational::reduced_from_i128(-a, b), Some(r(-i64::MAX, i64::MAX - 1)));
        assert_eq!(Rational::reduced_from_i128(a * 2, 1_000_000_007), None);
    }
}
