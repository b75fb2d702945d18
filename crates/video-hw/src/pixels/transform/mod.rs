//! Frame transforms: crop, resize, letterbox, colour conversion to RGB and normalisation,
//! done in one pass over a decoded picture.
//!
//! A [`Transform`] is a value: build it once, check it with [`Transform::validate`] (every
//! session that takes one does that when it opens, so a bad option fails at configuration,
//! never at the first frame), then apply it to each frame with [`Transform::apply`] (the
//! CPU path, for every engine) or let an engine that has its own path run it.
//!
//! What one transform does, in order:
//! 1. **crop** `(x, y, w, h)` of the displayed picture (in luma samples);
//! 2. **resize** to `(w, h)`: [`Filter::Bilinear`] with half-pixel centres (the sampling
//!    of OpenCV's `INTER_LINEAR`, torchvision's `antialias=False` and swscale's bilinear at
//!    these sizes), [`Filter::Area`], a box average over each output pixel's footprint
//!    for an axis that shrinks, or [`Filter::Triangle`], bilinear widened with the shrink
//!    (torchvision's antialiased bilinear); an axis that grows is bilinear with each;
//! 3. **letterbox** (optional): the picture keeps its aspect ratio inside the output size,
//!    centred, and the rest is filled with a colour;
//! 4. **format**: 4:2:0 YUV of any depth (a resized rendition for an encoder), or RGB/BGR/
//!    RGBA/BGRA, packed or planar, as uint8, float16 or float32;
//! 5. **normalise** (float output): `(v · scale − mean[c]) / std[c]` per channel, where `v`
//!    is the channel on the 0–255 scale; the default scale `1/255` gives values in [0, 1].
//!
//! A [`rotate`](Transform::rotate) (a container's display matrix, as ffmpeg's autorotate
//! applies it) turns the picture first: the crop and the size are then of the turned
//! picture, and frames come out turned (see `rotate.rs` for how it is fused).
//!
//! Colour comes from the stream's [`ColorInfo`]: the matrix (BT.601, BT.709, BT.2020 NCL,
//! FCC, SMPTE 240M, identity), the range (limited or full), the bit depth (8 or 10) and the
//! chroma siting (4:2:0 chroma is interpolated at its signalled position, the codecs'
//! default "left" where none is signalled). An unspecified matrix is BT.601, as FFmpeg's
//! swscale takes it ([`ColorMatrix::Auto`]); [`Transform::color_matrix`] chooses another
//! rule or a fixed matrix, and [`Transform::matrix`], [`Transform::range`] and
//! [`Transform::chroma_location`] override each.
//!
//! Accuracy: the CPU path computes in `f32` and equals a `f64` evaluation of the same
//! definitions within 1 LSB for uint8 and 1e-3 for float output (`tests/transform.rs`
//! checks every matrix × range × bit depth, odd sizes, crops and letterboxes).
//!
//! ```
//! use video_hw::pixels::transform::{Filter, Transform};
//! use video_hw::{Channels, PixelFormat, SampleType};
//!
//! // 224×224 planar RGB float32, normalised as ImageNet models expect.
//! let t = Transform::new()
//!     .resize(224, 224)
//!     .filter(Filter::Area)
//!     .rgb(Channels::Rgb, true, SampleType::F32)
//!     .normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
//! t.validate()?;
//! assert_eq!(t.output_format(PixelFormat::Nv12), PixelFormat::RgbPlanarF32);
//! assert_eq!(t.output_size(1920, 1080)?, (224, 224));
//! # Ok::<(), video_hw::Error>(())
//! ```

use crate::codec::{
    Channels, ChromaLocation, ColorInfo, ColorMatrix, ColorRange, MatrixCoefficients, PixelFormat, SampleType,
};
use crate::error::{Error, Result};

mod apply;
mod fixed_sum;
mod plan;
mod resample;
#[cfg(target_arch = "x86_64")]
mod resample_avx2;
pub(crate) mod rgb;
#[cfg(target_arch = "x86_64")]
mod rgb_avx2;
#[cfg(target_arch = "x86_64")]
mod rgb_avx512;
mod rgb_bands;
#[cfg(test)]
mod rgb_exact_tests;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod rgb_kernel;
#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod rgb_kernel_tests;
#[cfg(target_arch = "aarch64")]
mod rgb_neon;
mod rgb_pairs;
mod rgb_source;
#[cfg(test)]
mod rgb_tests;
pub(crate) mod rotate;
#[cfg(target_arch = "x86_64")]
mod store_avx2;

/// The largest output side a transform makes (as decoders' largest pictures).
pub const MAX_SIDE: u32 = 16384;

/// A rectangle of a picture, in luma samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// How a resize samples the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Filter {
    /// Bilinear with half-pixel centres: output pixel `i` samples source position
    /// `(i + 0.5) · in / out − 0.5`, edges clamped.
    #[default]
    Bilinear,
    /// Box average of each output pixel's footprint on an axis that shrinks (no aliasing
    /// when downscaling a lot); bilinear on an axis that grows or keeps its size.
    Area,
    /// Bilinear widened with the shrink (a tent filter `max(0, 1 − |d| / s)` over source
    /// samples at distance `d` from the output sample's centre, `s` the output's spacing in
    /// source samples, weights normalised over the picture) on an axis that shrinks;
    /// bilinear on an axis that grows or keeps its size. What torchvision's `Resize` with
    /// `antialias=True` (its default), PIL's bilinear and swscale's bilinear compute, so
    /// frames resized here look like theirs (torchcodec's decoder `Resize` is swscale's).
    Triangle,
}

/// A crop / resize / colour-conversion / normalisation chain for decoded frames. See the
/// [module documentation](self) for what each step does.
#[derive(Debug, Clone, Copy)]
pub struct Transform {
    crop: Option<Rect>,
    size: Option<(u32, u32)>,
    filter: Filter,
    letterbox: Option<[u8; 3]>,
    format: Option<PixelFormat>,
    scale: Option<f32>,
    mean: Option<[f32; 3]>,
    std: Option<[f32; 3]>,
    matrix: ColorMatrix,
    range: Option<ColorRange>,
    chroma_location: Option<ChromaLocation>,
    /// Degrees the picture is turned counter-clockwise before anything else.
    rotation: u16,
    /// An RGB layout asked for that no pixel format has (kept so `validate` can name it).
    impossible_rgb: Option<(Channels, bool, SampleType)>,
}

impl Transform {
    /// Every field, floats as their bit patterns (for equality and hashing).
    #[allow(clippy::type_complexity, reason = "a private key, compared as a whole")]
    fn key(
        &self,
    ) -> (
        (Option<Rect>, Option<(u32, u32)>, Filter, Option<[u8; 3]>, Option<PixelFormat>),
        (Option<u32>, Option<[u32; 3]>, Option<[u32; 3]>),
        (ColorMatrix, Option<ColorRange>, Option<ChromaLocation>, Option<(Channels, bool, SampleType)>),
        u16,
    ) {
        (
            (self.crop, self.size, self.filter, self.letterbox, self.format),
            (
                self.scale.map(f32::to_bits),
                self.mean.map(|m| m.map(f32::to_bits)),
                self.std.map(|s| s.map(f32::to_bits)),
            ),
            (self.matrix, self.range, self.chroma_location, self.impossible_rgb),
            self.rotation,
        )
    }
}

/// Equal when every option is (floats compared bit for bit).
impl PartialEq for Transform {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Transform {}

impl std::hash::Hash for Transform {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl Default for Transform {
    fn default() -> Self {
        Transform::new()
    }
}

impl Transform {
    /// The identity: no crop, no resize, the source's own format.
    pub fn new() -> Self {
        Transform {
            crop: None,
            size: None,
            filter: Filter::Bilinear,
            letterbox: None,
            format: None,
            scale: None,
            mean: None,
            std: None,
            matrix: ColorMatrix::Auto,
            range: None,
            chroma_location: None,
            rotation: 0,
            impossible_rgb: None,
        }
    }

    /// Keeps only `width` × `height` luma samples from `(x, y)` of the displayed picture.
    pub fn crop(mut self, x: u32, y: u32, width: u32, height: u32) -> Self {
        self.crop = Some(Rect { x, y, width, height });
        self
    }

    /// Resizes the (cropped) picture to `width` × `height`.
    pub fn resize(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    /// The resize filter (default bilinear).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// Keeps the aspect ratio inside the [`resize`](Self::resize) size, centred, and fills
    /// the bars with `pad` (R, G, B on the 0–255 scale; converted to the output's format).
    pub fn letterbox(mut self, pad: [u8; 3]) -> Self {
        self.letterbox = Some(pad);
        self
    }

    /// The output pixel format (default: the source's). A YUV format resizes in YUV (and
    /// converts bit depth by shifting); an RGB one converts with the stream's colour.
    pub fn format(mut self, format: PixelFormat) -> Self {
        self.format = Some(format);
        self.impossible_rgb = None;
        self
    }

    /// RGB output: `channels` order, planar or packed, and sample type. A combination
    /// with no [`PixelFormat`] (alpha as float or planar) is refused by
    /// [`validate`](Self::validate).
    pub fn rgb(mut self, channels: Channels, planar: bool, sample: SampleType) -> Self {
        self.format = PixelFormat::rgb(channels, planar, sample);
        self.impossible_rgb = self.format.is_none().then_some((channels, planar, sample));
        self
    }

    /// Float output is `v · scale` before the mean and std (`v` on the 0–255 scale);
    /// default `1/255`.
    pub fn scale(mut self, scale: f32) -> Self {
        self.scale = Some(scale);
        self
    }

    /// Float output is normalised per channel (in R, G, B order): `(v · scale − mean) / std`.
    pub fn normalize(mut self, mean: [f32; 3], std: [f32; 3]) -> Self {
        self.mean = Some(mean);
        self.std = Some(std);
        self
    }

    /// Uses `matrix` instead of the stream's (tagged or not): `color_matrix(ColorMatrix::Fixed(matrix))`.
    pub fn matrix(mut self, matrix: MatrixCoefficients) -> Self {
        self.matrix = ColorMatrix::Fixed(matrix);
        self
    }

    /// How the YUV → RGB matrix is chosen (default [`ColorMatrix::Auto`]: the stream's,
    /// BT.601 where it names none).
    pub fn color_matrix(mut self, rule: ColorMatrix) -> Self {
        self.matrix = rule;
        self
    }

    /// The matrix rule set by [`color_matrix`](Self::color_matrix) or [`matrix`](Self::matrix).
    pub fn color_matrix_rule(&self) -> ColorMatrix {
        self.matrix
    }

    /// Uses `range` instead of the stream's.
    pub fn range(mut self, range: ColorRange) -> Self {
        self.range = Some(range);
        self
    }

    /// Uses `location` instead of the stream's chroma siting.
    pub fn chroma_location(mut self, location: ChromaLocation) -> Self {
        self.chroma_location = Some(location);
        self
    }

    /// Turns the picture `degrees` counter-clockwise (0, 90, 180 or 270) before the other
    /// steps, as a display matrix asks ([`crate::media::VideoInfo::rotation`]: ffmpeg's
    /// autorotate and torchcodec turn frames by it). The crop and the output size are then
    /// of the turned picture: a 90° turn of 1920×1080 gives 1080×1920.
    pub fn rotate(mut self, degrees: u16) -> Self {
        self.rotation = degrees;
        self
    }

    /// Degrees the picture is turned counter-clockwise (0 when not turned).
    pub fn rotation(&self) -> u16 {
        self.rotation
    }

    /// Quarter turns counter-clockwise (0 for a rotation `validate` refuses).
    fn quarter_turns(&self) -> u8 {
        rotate::quarter_turns(self.rotation).unwrap_or(0)
    }

    /// This transform as it runs on a coded `width` × `height` picture: without the
    /// rotation, its crop mapped back to the coded picture and its size turned with it.
    pub(crate) fn coded(&self, width: u32, height: u32) -> Result<Transform> {
        let q = self.quarter_turns();
        if q == 0 {
            return Ok(*self);
        }
        let (dw, dh) = rotate::displayed(q, width, height);
        let crop = self.crop_for(dw, dh)?;
        let mut t = *self;
        t.rotation = 0;
        t.crop = self.crop.map(|_| rotate::coded_rect(q, crop, width, height));
        t.size = self.size.map(|(w, h)| rotate::displayed(q, w, h));
        Ok(t)
    }

    /// The crop, if any.
    pub fn crop_rect(&self) -> Option<Rect> {
        self.crop
    }

    /// The resize size, if any.
    pub fn size(&self) -> Option<(u32, u32)> {
        self.size
    }

    /// The letterbox fill, if letterboxing.
    pub fn letterbox_pad(&self) -> Option<[u8; 3]> {
        self.letterbox
    }

    /// The resize filter.
    pub fn resize_filter(&self) -> Filter {
        self.filter
    }

    /// The output format asked for, if any (else the source's).
    pub fn format_choice(&self) -> Option<PixelFormat> {
        self.format
    }

    /// The format frames come out in for a `source` format.
    pub fn output_format(&self, source: PixelFormat) -> PixelFormat {
        self.format.unwrap_or(source)
    }

    /// The output size for a decoded picture of `width` × `height` (turned first when
    /// the transform rotates); fails when the crop does not fit in it.
    pub fn output_size(&self, width: u32, height: u32) -> Result<(u32, u32)> {
        let (width, height) = rotate::displayed(self.quarter_turns(), width, height);
        let crop = self.crop_for(width, height)?;
        Ok(self.size.unwrap_or((crop.width, crop.height)))
    }

    /// The crop for a `width` × `height` picture (the whole picture when none is set), in
    /// the coordinates the crop is given in (the turned picture's when the transform
    /// rotates); fails, naming the option, when it does not fit.
    pub fn crop_for(&self, width: u32, height: u32) -> Result<Rect> {
        let Some(c) = self.crop else { return Ok(Rect { x: 0, y: 0, width, height }) };
        let fits = |start: u32, len: u32, total: u32| start.checked_add(len).is_some_and(|end| end <= total);
        if !fits(c.x, c.width, width) || !fits(c.y, c.height, height) {
            return Err(Error::invalid_option(
                "transform.crop",
                format!("{}x{} at ({}, {}) is outside the {width}x{height} picture", c.width, c.height, c.x, c.y),
            ));
        }
        Ok(c)
    }

    /// Checks every option on its own, without a picture; sessions call this when they
    /// open. The crop is checked against each picture size as it becomes known (a stream's
    /// first sequence header, before any frame of that size is output).
    pub fn validate(&self) -> Result<()> {
        let side = |v: u32| (1..=MAX_SIDE).contains(&v);
        if let Some(c) = self.crop
            && (!side(c.width) || !side(c.height))
        {
            return Err(Error::invalid_option(
                "transform.crop",
                format!("{}x{} (each side 1..={MAX_SIDE})", c.width, c.height),
            ));
        }
        if let Some((w, h)) = self.size
            && (!side(w) || !side(h))
        {
            return Err(Error::invalid_option("transform.size", format!("{w}x{h} (each side 1..={MAX_SIDE})")));
        }
        if self.letterbox.is_some() && self.size.is_none() {
            return Err(Error::invalid_option("transform.letterbox", "letterboxing needs an output size (resize)"));
        }
        if let Some((channels, planar, sample)) = self.impossible_rgb {
            return Err(Error::invalid_option(
                "transform.format",
                format!(
                    "{channels:?} {} as {} (alpha comes packed and uint8 only)",
                    if planar { "planar" } else { "packed" },
                    sample.name()
                ),
            ));
        }
        let float = self.format.is_some_and(|f| matches!(f.sample_type(), SampleType::F16 | SampleType::F32));
        let normalising = self.scale.is_some() || self.mean.is_some() || self.std.is_some();
        if normalising && !float {
            return Err(Error::invalid_option(
                "transform.normalize",
                format!(
                    "scale, mean and std apply to float16 or float32 output, not {}",
                    self.format.map_or("the source format".to_string(), |f| f.to_string())
                ),
            ));
        }
        if let Some(s) = self.scale
            && (!s.is_finite() || s == 0.0)
        {
            return Err(Error::invalid_option("transform.scale", format!("{s} (finite, not zero)")));
        }
        if let Some(m) = self.mean
            && m.iter().any(|v| !v.is_finite())
        {
            return Err(Error::invalid_option("transform.mean", format!("{m:?} (finite values)")));
        }
        if let Some(s) = self.std
            && s.iter().any(|v| !v.is_finite() || *v == 0.0)
        {
            return Err(Error::invalid_option("transform.std", format!("{s:?} (finite, not zero)")));
        }
        if rotate::quarter_turns(self.rotation).is_none() {
            return Err(Error::invalid_option(
                "transform.rotate",
                format!("{} degrees (0, 90, 180 or 270 counter-clockwise)", self.rotation),
            ));
        }
        if let ColorMatrix::Fixed(m) = self.matrix
            && m.0 != 0
            && m.kr_kb().is_none()
        {
            return Err(Error::invalid_option(
                "transform.matrix",
                format!("matrix coefficients {} (BT.601, BT.709, BT.2020, FCC, SMPTE 240M or identity)", m.0),
            ));
        }
        Ok(())
    }

    /// The colour a frame described by `color`, `height` lines tall, is converted with:
    /// the stream's, with the overrides of this transform, the matrix resolved.
    pub fn color_for(&self, color: &ColorInfo, height: u32) -> ColorInfo {
        ColorInfo {
            matrix: self.matrix.resolve(color, height),
            range: self.range.unwrap_or(color.range),
            chroma_location: self.chroma_location.unwrap_or(color.chroma_location),
            ..*color
        }
    }

    /// `(scale, mean, std)` of float output, defaults filled in (the defaults are the
    /// engines' own RGB output's: float values in [0, 1]).
    pub fn normalization(&self) -> (f32, [f32; 3], [f32; 3]) {
        let (scale, mean, std) = rgb::UNNORMALISED;
        (self.scale.unwrap_or(scale), self.mean.unwrap_or(mean), self.std.unwrap_or(std))
    }
}

pub use apply::Transformer;
pub use plan::{AxisTaps, Coeffs, Plan, PlaneTaps};
pub use rgb_bands::{rgb_bands, writes_in_bands};
