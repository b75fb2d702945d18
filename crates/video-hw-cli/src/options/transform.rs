//! `--size`, `--crop`, `--scale-filter`, `--letterbox` and `--color-matrix` of `decode` and
//! `transcode`: the library's [`Transform`] applied to every decoded frame, and `--pix-fmt`
//! values that only a transform makes (bgr24, rgba, the float layouts).

use clap::Args;
use video_hw::pixels::transform::{Filter, Transform};
use video_hw::{ColorMatrix, DecoderConfig, Output, PixelFormat};

use crate::options::common::parse_dimensions;

/// The transform options.
#[derive(Args, Debug, Clone, Default)]
pub struct TransformOpts {
    /// Resize frames to WxH (1..=16384 each side) before writing them: bilinear with
    /// half-pixel centres, or area averaging with --scale-filter area. Colour conversion
    /// to an RGB --pix-fmt happens in the same pass.
    #[arg(long = "size", value_name = "WxH", value_parser = parse_dimensions)]
    pub size: Option<(u32, u32)>,
    /// Keep only the W×H rectangle at (X, Y) of each picture (before --size).
    #[arg(long, value_name = "X,Y,W,H", value_parser = parse_crop)]
    pub crop: Option<(u32, u32, u32, u32)>,
    /// Resize filter: bilinear (default), area (box average when shrinking) or triangle
    /// (bilinear widened with the shrink: torchvision's antialiased resize, swscale's
    /// bilinear).
    #[arg(long, value_name = "bilinear|area", value_parser = parse_filter)]
    pub scale_filter: Option<Filter>,
    /// With --size: keep the aspect ratio, centred, with black bars.
    #[arg(long, requires = "size")]
    pub letterbox: bool,
    /// The YUV -> RGB matrix of an RGB --pix-fmt: auto (default: the stream's, BT.601
    /// where it names none, as ffmpeg), auto-hd (untagged: BT.709 from 720 lines up,
    /// BT.601 below), or bt601, bt709, bt2020 (that matrix, whatever the stream says, as
    /// ffmpeg's in_color_matrix). YUV output ignores it.
    #[arg(long, value_name = "auto|auto-hd|bt601|bt709|bt2020", value_parser = parse_matrix)]
    pub color_matrix: Option<ColorMatrix>,
}

impl TransformOpts {
    /// True when any option asks for a transform.
    pub fn any(&self) -> bool {
        self.size.is_some() || self.crop.is_some() || self.scale_filter.is_some() || self.letterbox
    }

    /// The transform these options ask for, if any (`None` keeps frames as decoded).
    pub fn transform(&self) -> Option<Transform> {
        if !self.any() {
            return None;
        }
        let mut t = Transform::new().filter(self.scale_filter.unwrap_or_default());
        if let Some((x, y, w, h)) = self.crop {
            t = t.crop(x, y, w, h);
        }
        if let Some((w, h)) = self.size {
            t = t.resize(w, h);
        }
        if self.letterbox {
            t = t.letterbox([0, 0, 0]);
        }
        Some(t)
    }

    /// `cfg` with the output for `pix_fmt` and the transform: formats an engine outputs
    /// itself go to [`Output::Host`], the others (bgr24, rgba, float layouts) through a
    /// transform, which the options may also ask for (a matrix other than the default
    /// rule, for RGB, is one).
    pub fn apply(&self, cfg: DecoderConfig, pix_fmt: PixelFormat) -> DecoderConfig {
        let matrix = self.color_matrix.filter(|m| *m != ColorMatrix::Auto && !pix_fmt.is_yuv());
        let geometry = match (self.transform(), matrix) {
            (t, None) => t,
            (t, Some(m)) => Some(t.unwrap_or_default().color_matrix(m)),
        };
        let transform = match (geometry, Output::engines_make_on_host(pix_fmt)) {
            (None, true) => return cfg.output(Output::Host(pix_fmt)),
            (None, false) => Transform::new().format(pix_fmt),
            (Some(t), true) if pix_fmt.is_yuv() => t,
            (Some(t), _) => t.format(pix_fmt),
        };
        // YUV output keeps the stream's depth (yuv420p → yuv420p10le for 10-bit): the
        // engine decodes to `pix_fmt` and the transform keeps that format.
        let output = if pix_fmt.is_yuv() { Output::Host(pix_fmt) } else { Output::HOST_NV12 };
        cfg.output(output).transform(transform)
    }
}

/// `cfg` (made by [`TransformOpts::apply`] for `pix_fmt`) with frames turned `degrees`
/// counter-clockwise first (a container's display matrix): the transform turns them, and
/// one that only turns is added where there was none.
pub fn rotated(cfg: DecoderConfig, degrees: u16, pix_fmt: PixelFormat) -> DecoderConfig {
    match (degrees, cfg.transform) {
        (0, _) => cfg,
        (r, Some(t)) => cfg.transform(t.rotate(r)),
        (r, None) if pix_fmt.is_yuv() => cfg.output(Output::Host(pix_fmt)).transform(Transform::new().rotate(r)),
        (r, None) => cfg.output(Output::HOST_NV12).transform(Transform::new().format(pix_fmt).rotate(r)),
    }
}

/// Where the frame sink can make the packed 8-bit RGB `cfg` asks for itself, band by band
/// (`FrameSink::rgb_in_bands`: each band written while it is in the cache, instead of a
/// whole picture written to memory and read back), `cfg` set to have the engine give YUV,
/// and the format for the sink; else `cfg` as it is and `None`. Only where the bytes are
/// the same as the engine's own: a plain conversion (no crop, resize, turn or matrix
/// override), an engine that decodes on the CPU (its RGB is the library's shared host
/// conversion; a GPU engine makes RGB on its device), and a stream `stream` says is 4:2:0
/// of 8 or 10 bits (the YUV the engine then gives; `None`, as for codecs whose headers
/// this crate does not read, keeps the engine's conversion). `stream` is asked last, only
/// where the rest holds: a container's answer reads the file's first packets.
pub fn rgb_in_sink(
    cfg: DecoderConfig,
    stream: impl FnOnce() -> Option<video_hw::bitstream::access_unit::StreamInfo>,
) -> (DecoderConfig, Option<PixelFormat>) {
    let asked = match (cfg.output, cfg.transform) {
        (Output::Host(f), None) => f,
        (Output::HOST_NV12, Some(t)) => match t.format_choice() {
            Some(f) if t == Transform::new().format(f) => f,
            _ => return (cfg, None),
        },
        _ => return (cfg, None),
    };
    let packed_bytes =
        video_hw::pixels::transform::writes_in_bands(asked) && asked.sample_type() == video_hw::pixels::SampleType::U8;
    let on_cpu = || video_hw::registry::decode_engine(&cfg).is_ok_and(|e| !e.is_hardware());
    let plain_420 = || {
        stream().is_some_and(|s| {
            s.chroma_format_idc == 1 && s.bit_depth_luma <= 10 && s.bit_depth_chroma == s.bit_depth_luma
        })
    };
    if !(packed_bytes && on_cpu() && plain_420()) {
        return (cfg, None);
    }
    tracing::debug!("{asked}: made by the frame sink from the engine's YUV, a band of rows at a time");
    let mut cfg = cfg.output(Output::HOST_YUV420P);
    cfg.transform = None;
    (cfg, Some(asked))
}

/// Refuses, before decoding, a crop that does not fit a picture of `size` (where the
/// container states it; else the first frame is checked by the decoder).
pub fn check_picture(cfg: &DecoderConfig, size: Option<(u32, u32)>) -> video_hw::Result<()> {
    if let (Some(t), Some((w, h))) = (cfg.transform, size) {
        t.output_size(w, h)?;
    }
    Ok(())
}

/// `--crop X,Y,W,H`: W and H at least 1 (whether it fits is checked against the stream).
fn parse_crop(s: &str) -> Result<(u32, u32, u32, u32), String> {
    let v: Vec<u32> = s
        .split(',')
        .map(|p| p.trim().parse::<u32>().map_err(|_| format!("'{p}' is not a whole number")))
        .collect::<Result<_, _>>()?;
    match v[..] {
        [x, y, w, h] if w > 0 && h > 0 && w <= 16384 && h <= 16384 => Ok((x, y, w, h)),
        [_, _, _, _] => Err(format!("{s}: the width and height must be 1..=16384")),
        _ => Err(format!("{s}: expected X,Y,WIDTH,HEIGHT, e.g. 0,140,1920,800")),
    }
}

fn parse_matrix(s: &str) -> Result<ColorMatrix, String> {
    s.parse::<ColorMatrix>().map_err(|e| e.to_string())
}

fn parse_filter(s: &str) -> Result<Filter, String> {
    match s.to_ascii_lowercase().as_str() {
        "bilinear" | "linear" => Ok(Filter::Bilinear),
        "area" | "box" => Ok(Filter::Area),
        "triangle" | "tent" | "antialias" => Ok(Filter::Triangle),
        other => Err(format!("unknown filter '{other}' (bilinear, area, triangle)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use video_hw::Codec;

    #[test]
    fn options_build_the_transform_and_output() {
        let none = TransformOpts::default();
        let cfg = none.apply(DecoderConfig::new(Codec::H264), PixelFormat::Yuv420p);
        assert_eq!((cfg.output, cfg.transform), (Output::HOST_YUV420P, None));
        // A format only a transform makes.
        let cfg = none.apply(DecoderConfig::new(Codec::H264), PixelFormat::RgbPlanarF32);
        assert_eq!(cfg.transform, Some(Transform::new().format(PixelFormat::RgbPlanarF32)));
        let opts = TransformOpts { size: Some((224, 224)), crop: Some((0, 140, 1920, 800)), ..Default::default() };
        let cfg = opts.apply(DecoderConfig::new(Codec::H264), PixelFormat::Rgb24);
        let t = cfg.transform.unwrap();
        assert_eq!((t.size(), t.output_format(PixelFormat::Nv12)), (Some((224, 224)), PixelFormat::Rgb24));
        assert_eq!(cfg.output, Output::HOST_NV12);
        let cfg = opts.apply(DecoderConfig::new(Codec::H264), PixelFormat::Yuv420p);
        assert_eq!((cfg.output, cfg.transform.unwrap().format_choice()), (Output::HOST_YUV420P, None));
        // A matrix other than the default makes RGB through a transform; YUV ignores it.
        let bt709 = TransformOpts { color_matrix: Some("bt709".parse().unwrap()), ..Default::default() };
        let cfg = bt709.apply(DecoderConfig::new(Codec::H264), PixelFormat::Rgb24);
        let want = Transform::new().color_matrix(ColorMatrix::Fixed(video_hw::MatrixCoefficients::BT709));
        assert_eq!((cfg.output, cfg.transform), (Output::HOST_NV12, Some(want.format(PixelFormat::Rgb24))));
        let cfg = bt709.apply(DecoderConfig::new(Codec::H264), PixelFormat::Yuv420p);
        assert_eq!((cfg.output, cfg.transform), (Output::HOST_YUV420P, None));
        let auto = TransformOpts { color_matrix: Some(ColorMatrix::Auto), ..Default::default() };
        let cfg = auto.apply(DecoderConfig::new(Codec::H264), PixelFormat::Rgb24);
        assert_eq!((cfg.output, cfg.transform), (Output::HOST_RGB24, None));
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse_dimensions("0x10").is_err());
        assert!(parse_dimensions("225x17").is_ok());
        assert!(parse_crop("1,2,3").is_err());
        assert!(parse_crop("1,2,0,4").is_err());
        assert!(parse_filter("lanczos").is_err());
        assert_eq!(parse_filter("Triangle"), Ok(Filter::Triangle));
        assert!(parse_matrix("bt2021").is_err());
        assert_eq!(parse_matrix("AUTO-HD"), Ok(ColorMatrix::AutoHd));
    }
}
