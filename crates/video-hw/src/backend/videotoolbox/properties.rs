//! An [`EncoderConfig`] as VideoToolbox compression-session properties, and which changes a
//! live session takes in place.
//!
//! | setting | properties (`kVTCompressionPropertyKey_…`) |
//! |---|---|
//! | `Cbr { bitrate }` | `AverageBitRate` = bitrate, `DataRateLimits` = [bitrate / 8 bytes, 1 s]: the average held by a one-second window at the same rate, as the FFmpeg engine drives `h264_videotoolbox` (`b` = `maxrate`) |
//! | `Vbr { avg, max }` | `AverageBitRate` = avg, `DataRateLimits` = [max / 8 bytes, 1 s] |
//! | `ConstQuality { q }` | `Quality` = 1 − q / 51 (0 worst … 1 best; Apple silicon's encoders have it, Intel Macs' may refuse it: the session then fails to open, named) |
//! | `ConstQp` | refused: VideoToolbox has no fixed quantiser per picture type |
//! | `qp_range` | `MinAllowedFrameQP`, `MaxAllowedFrameQP` |
//! | `gop` | `MaxKeyFrameInterval` (frames) |
//! | `b_frames` | `AllowFrameReordering` = b_frames > 0 (VideoToolbox picks how many) |
//! | codec, input depth | `ProfileLevel`: H.264 High / HEVC Main or Main10, level chosen by the encoder (`…_AutoLevel`); H.264 `H264EntropyMode` = CABAC |
//! | `tuning` | `RealTime` = true for the low-latency tunings (also `MaxFrameDelayCount` = 0 for ultra-low-latency), false otherwise |
//! | `preset` | `PrioritizeEncodingSpeedOverQuality` = true for fastest/faster |
//! | `fps` | `ExpectedFrameRate` |
//! | `color` | `ColorPrimaries`, `TransferFunction`, `YCbCrMatrix` where the H.273 code point has a Core Video name; unspecified ones are left out |
//! | — | `AllowOpenGOP` = false (HEVC): every keyframe starts a closed GOP, so a segment can start there |
//!
//! In place ([`in_place`]): bitrate (within the same rate-control kind), frame rate and GOP,
//! set on the running session as Apple documents for `AverageBitRate` and
//! `DataRateLimits`; anything else makes the session drain and reopen.

use crate::codec::{Codec, ColorInfo, ColorPrimaries, MatrixCoefficients, TransferCharacteristics};
use crate::config::{EncoderConfig, Preset, RateControl, Tuning};
use crate::error::{Error, Result};

/// A profile with the level left to the encoder (`kVTProfileLevel_…_AutoLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProfileLevel {
    /// `kVTProfileLevel_H264_High_AutoLevel`.
    H264High,
    /// `kVTProfileLevel_HEVC_Main_AutoLevel`.
    HevcMain,
    /// `kVTProfileLevel_HEVC_Main10_AutoLevel`.
    HevcMain10,
}

/// Core Video's names for H.273 colour code points (`kCVImageBufferColorPrimaries_…`,
/// `kCVImageBufferTransferFunction_…`, `kCVImageBufferYCbCrMatrix_…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColorName {
    /// `ITU_R_709_2` (primaries, transfer, matrix).
    Itu709,
    /// `ITU_R_2020` (primaries, transfer, matrix).
    Itu2020,
    /// `SMPTE_C` primaries (SMPTE 170M).
    SmpteC,
    /// `EBU_3213` primaries (BT.470 BG).
    Ebu3213,
    /// `ITU_R_601_4` matrix (BT.470 BG and SMPTE 170M).
    Itu601,
    /// `SMPTE_ST_2084_PQ` transfer.
    Pq,
    /// `ITU_R_2100_HLG` transfer.
    Hlg,
}

/// One compression-session property with its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Property {
    /// `RealTime`.
    RealTime(bool),
    /// `ProfileLevel`.
    ProfileLevel(ProfileLevel),
    /// `H264EntropyMode` = `kVTH264EntropyMode_CABAC`.
    H264Cabac,
    /// `AllowFrameReordering`.
    AllowFrameReordering(bool),
    /// `AllowOpenGOP`.
    AllowOpenGop(bool),
    /// `MaxKeyFrameInterval` (frames).
    MaxKeyFrameInterval(i32),
    /// `AverageBitRate` (bit/s).
    AverageBitRate(i64),
    /// `DataRateLimits`: at most `bytes` in any `seconds`.
    DataRateLimits {
        /// Bytes.
        bytes: i64,
        /// Window.
        seconds: f64,
    },
    /// `Quality` (0.0 … 1.0).
    Quality(f32),
    /// `MinAllowedFrameQP`.
    MinAllowedFrameQp(i32),
    /// `MaxAllowedFrameQP`.
    MaxAllowedFrameQp(i32),
    /// `ExpectedFrameRate` (frames per second).
    ExpectedFrameRate(f64),
    /// `MaxFrameDelayCount`.
    MaxFrameDelayCount(i32),
    /// `PrioritizeEncodingSpeedOverQuality`.
    PrioritizeSpeed(bool),
    /// `ColorPrimaries`.
    ColorPrimaries(ColorName),
    /// `TransferFunction`.
    TransferFunction(ColorName),
    /// `YCbCrMatrix`.
    YCbCrMatrix(ColorName),
}

impl Property {
    /// The key's name without `kVTCompressionPropertyKey_`, for logs and errors.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Property::RealTime(_) => "RealTime",
            Property::ProfileLevel(_) => "ProfileLevel",
            Property::H264Cabac => "H264EntropyMode",
            Property::AllowFrameReordering(_) => "AllowFrameReordering",
            Property::AllowOpenGop(_) => "AllowOpenGOP",
            Property::MaxKeyFrameInterval(_) => "MaxKeyFrameInterval",
            Property::AverageBitRate(_) => "AverageBitRate",
            Property::DataRateLimits { .. } => "DataRateLimits",
            Property::Quality(_) => "Quality",
            Property::MinAllowedFrameQp(_) => "MinAllowedFrameQP",
            Property::MaxAllowedFrameQp(_) => "MaxAllowedFrameQP",
            Property::ExpectedFrameRate(_) => "ExpectedFrameRate",
            Property::MaxFrameDelayCount(_) => "MaxFrameDelayCount",
            Property::PrioritizeSpeed(_) => "PrioritizeEncodingSpeedOverQuality",
            Property::ColorPrimaries(_) => "ColorPrimaries",
            Property::TransferFunction(_) => "TransferFunction",
            Property::YCbCrMatrix(_) => "YCbCrMatrix",
        }
    }

    /// Whether a session that refuses this property still encodes what was asked
    /// (a hint, not a requirement): the engine logs the refusal and goes on. Rate control,
    /// GOP, reordering and profile are requirements: their refusal fails the open.
    pub(crate) fn is_hint(&self) -> bool {
        matches!(
            self,
            Property::ExpectedFrameRate(_)
                | Property::PrioritizeSpeed(_)
                | Property::H264Cabac
                | Property::AllowOpenGop(_)
                | Property::MaxFrameDelayCount(_)
        )
    }
}

/// The properties for `config`, in the order they are set.
pub(crate) fn for_config(config: &EncoderConfig) -> Result<Vec<Property>> {
    let mut p = vec![Property::RealTime(matches!(config.tuning, Tuning::LowLatency | Tuning::UltraLowLatency))];
    p.push(Property::ProfileLevel(profile(config)?));
    if config.codec == Codec::H264 {
        p.push(Property::H264Cabac);
    } else {
        p.push(Property::AllowOpenGop(false));
    }
    p.push(Property::AllowFrameReordering(config.b_frame_count() > 0));
    if config.tuning == Tuning::UltraLowLatency {
        p.push(Property::MaxFrameDelayCount(0));
    }
    if let Some(gop) = config.gop {
        p.push(Property::MaxKeyFrameInterval(gop.min(i32::MAX as u32) as i32));
    }
    p.extend(rate_control(config)?);
    if let Some((min, max)) = config.qp_range {
        p.push(Property::MinAllowedFrameQp(min.into()));
        p.push(Property::MaxAllowedFrameQp(max.into()));
    }
    p.push(Property::ExpectedFrameRate(fps(config)));
    if config.preset <= Preset::Faster {
        p.push(Property::PrioritizeSpeed(true));
    }
    p.extend(color(&config.color));
    Ok(p)
}

/// The profile: H.264 High, HEVC Main or Main10 by the input's depth.
fn profile(config: &EncoderConfig) -> Result<ProfileLevel> {
    let ten_bit = config.input_format.bit_depth() > 8;
    match (config.codec, ten_bit) {
        (Codec::H264, false) => Ok(ProfileLevel::H264High),
        (Codec::Hevc, false) => Ok(ProfileLevel::HevcMain),
        (Codec::Hevc, true) => Ok(ProfileLevel::HevcMain10),
        (Codec::H264, true) => Err(Error::unsupported(
            "10-bit H.264 encode with videotoolbox",
            "VideoToolbox encodes H.264 in 8 bits; give 8-bit frames or encode HEVC",
        )),
        (other, _) => {
            Err(Error::unsupported(format!("{other} encode with videotoolbox"), "this engine encodes H.264 and HEVC"))
        }
    }
}

fn fps(config: &EncoderConfig) -> f64 {
    config.fps.num.max(1) as f64 / config.fps.den.max(1) as f64
}

/// The rate-control properties (see the table above).
fn rate_control(config: &EncoderConfig) -> Result<Vec<Property>> {
    let clamp = |b: u64| b.min(i64::MAX as u64) as i64;
    Ok(match config.rate_control {
        RateControl::Cbr { bitrate } => vec![
            Property::AverageBitRate(clamp(bitrate)),
            Property::DataRateLimits { bytes: clamp(bitrate.div_ceil(8)), seconds: 1.0 },
        ],
        RateControl::Vbr { avg, max } => vec![
            Property::AverageBitRate(clamp(avg)),
            Property::DataRateLimits { bytes: clamp(max.div_ceil(8)), seconds: 1.0 },
        ],
        RateControl::ConstQuality { q } => vec![Property::Quality(1.0 - f32::from(q.min(51)) / 51.0)],
        RateControl::ConstQp { .. } => {
            return Err(Error::unsupported(
                "constant QP with videotoolbox",
                "VideoToolbox has no fixed quantiser per picture type; use ConstQuality or a bitrate",
            ));
        }
    })
}

/// The colour properties Core Video has names for.
fn color(color: &ColorInfo) -> Vec<Property> {
    let mut p = Vec::new();
    let primaries = match color.primaries {
        ColorPrimaries::BT709 => Some(ColorName::Itu709),
        ColorPrimaries::BT2020 => Some(ColorName::Itu2020),
        ColorPrimaries::SMPTE170M => Some(ColorName::SmpteC),
        ColorPrimaries::BT470BG => Some(ColorName::Ebu3213),
        _ => None,
    };
    let transfer = match color.transfer {
        TransferCharacteristics::BT709 | TransferCharacteristics::SMPTE170M => Some(ColorName::Itu709),
        TransferCharacteristics::PQ => Some(ColorName::Pq),
        TransferCharacteristics::HLG => Some(ColorName::Hlg),
        _ => None,
    };
    let matrix = match color.matrix {
        MatrixCoefficients::BT709 => Some(ColorName::Itu709),
        MatrixCoefficients::BT2020_NCL => Some(ColorName::Itu2020),
        MatrixCoefficients::BT470BG | MatrixCoefficients::SMPTE170M => Some(ColorName::Itu601),
        _ => None,
    };
    p.extend(primaries.map(Property::ColorPrimaries));
    p.extend(transfer.map(Property::TransferFunction));
    p.extend(matrix.map(Property::YCbCrMatrix));
    p
}

/// The properties to set on the running session to go from `old` to `new`, or `None`
/// when the change needs a new session (size, codec, depth, profile, rate-control kind,
/// reordering, tuning, colour).
pub(crate) fn in_place(old: &EncoderConfig, new: &EncoderConfig) -> Result<Option<Vec<Property>>> {
    let same_kind = std::mem::discriminant(&old.rate_control) == std::mem::discriminant(&new.rate_control);
    let mut rest_old = old.clone();
    rest_old.rate_control = new.rate_control;
    rest_old.fps = new.fps;
    rest_old.gop = new.gop;
    if !same_kind || rest_old != *new || (old.gop.is_some() && new.gop.is_none()) {
        return Ok(None);
    }
    let mut p = Vec::new();
    if old.rate_control != new.rate_control {
        p.extend(rate_control(new)?);
    }
    if old.fps != new.fps {
        p.push(Property::ExpectedFrameRate(fps(new)));
    }
    if old.gop != new.gop
        && let Some(gop) = new.gop
    {
        p.push(Property::MaxKeyFrameInterval(gop.min(i32::MAX as u32) as i32));
    }
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{ColorRange, PixelFormat};

    fn cfg() -> EncoderConfig {
        EncoderConfig::new(Codec::H264, 1280, 720).fps(30, 1).gop(60)
    }

    #[test]
    fn cbr_is_an_average_held_by_a_one_second_limit() {
        let p = for_config(&cfg().rate_control(RateControl::Cbr { bitrate: 2_000_000 })).unwrap();
        assert!(p.contains(&Property::AverageBitRate(2_000_000)));
        assert!(p.contains(&Property::DataRateLimits { bytes: 250_000, seconds: 1.0 }));
        assert!(p.contains(&Property::MaxKeyFrameInterval(60)));
        assert!(p.contains(&Property::ProfileLevel(ProfileLevel::H264High)));
        assert!(p.contains(&Property::AllowFrameReordering(false)));
        assert!(p.contains(&Property::ExpectedFrameRate(30.0)));
    }

    #[test]
    fn vbr_quality_and_refusals() {
        let p = for_config(&cfg().rate_control(RateControl::Vbr { avg: 1_000_000, max: 3_000_000 })).unwrap();
        assert!(p.contains(&Property::AverageBitRate(1_000_000)));
        assert!(p.contains(&Property::DataRateLimits { bytes: 375_000, seconds: 1.0 }));
        let p = for_config(&cfg().rate_control(RateControl::ConstQuality { q: 0 })).unwrap();
        assert!(p.contains(&Property::Quality(1.0)));
        assert!(!p.iter().any(|p| matches!(p, Property::AverageBitRate(_))));
        assert!(for_config(&cfg().rate_control(RateControl::ConstQp { i: 20, p: 22, b: 24 })).is_err());
        assert!(for_config(&EncoderConfig::new(Codec::Av1, 64, 64)).is_err());
        let ten = EncoderConfig::new(Codec::H264, 64, 64).input_format(PixelFormat::P010);
        assert!(for_config(&ten).is_err());
        let hevc10 = EncoderConfig::new(Codec::Hevc, 64, 64).input_format(PixelFormat::P010);
        let p = for_config(&hevc10).unwrap();
        assert!(p.contains(&Property::ProfileLevel(ProfileLevel::HevcMain10)));
        assert!(p.contains(&Property::AllowOpenGop(false)));
    }

    #[test]
    fn tuning_preset_and_colour() {
        let mut c = cfg().b_frames(2);
        c.tuning = Tuning::UltraLowLatency;
        c.preset = Preset::Fastest;
        c.color = ColorInfo {
            primaries: ColorPrimaries::BT2020,
            transfer: TransferCharacteristics::PQ,
            matrix: MatrixCoefficients::BT2020_NCL,
            range: ColorRange::Limited,
            ..ColorInfo::default()
        };
        let p = for_config(&c).unwrap();
        for want in [
            Property::RealTime(true),
            Property::MaxFrameDelayCount(0),
            Property::AllowFrameReordering(true),
            Property::PrioritizeSpeed(true),
            Property::ColorPrimaries(ColorName::Itu2020),
            Property::TransferFunction(ColorName::Pq),
            Property::YCbCrMatrix(ColorName::Itu2020),
        ] {
            assert!(p.contains(&want), "{want:?} missing from {p:?}");
        }
        // Unspecified colour sets nothing; the default tuning is not real time.
        let p = for_config(&cfg()).unwrap();
        assert!(p.contains(&Property::RealTime(false)));
        assert!(!p.iter().any(|p| matches!(p, Property::ColorPrimaries(_) | Property::YCbCrMatrix(_))));
    }

    #[test]
    fn bitrate_frame_rate_and_gop_change_in_place_the_rest_reopens() {
        let old = cfg().rate_control(RateControl::Cbr { bitrate: 2_000_000 });
        let new = old.clone().rate_control(RateControl::Cbr { bitrate: 500_000 }).fps(25, 1).gop(50);
        let p = in_place(&old, &new).unwrap().unwrap();
        assert_eq!(
            p,
            vec![
                Property::AverageBitRate(500_000),
                Property::DataRateLimits { bytes: 62_500, seconds: 1.0 },
                Property::ExpectedFrameRate(25.0),
                Property::MaxKeyFrameInterval(50),
            ]
        );
        assert_eq!(in_place(&old, &old).unwrap(), Some(vec![]));
        let vbr = old.clone().rate_control(RateControl::Vbr { avg: 1, max: 2 });
        assert_eq!(in_place(&old, &vbr).unwrap(), None, "another rate-control kind reopens");
        let mut bigger = old.clone();
        bigger.width = 1920;
        assert_eq!(in_place(&old, &bigger).unwrap(), None);
        assert_eq!(in_place(&old, &old.clone().b_frames(2)).unwrap(), None);
    }

    #[test]
    fn hints_are_the_optional_properties() {
        assert!(Property::ExpectedFrameRate(30.0).is_hint());
        assert!(!Property::AverageBitRate(1).is_hint());
        assert_eq!(Property::PrioritizeSpeed(true).key(), "PrioritizeEncodingSpeedOverQuality");
    }
}
