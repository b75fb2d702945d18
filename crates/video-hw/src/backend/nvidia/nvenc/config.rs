//! How an [`EncoderConfig`] becomes NVENC's `NV_ENC_INITIALIZE_PARAMS` and `NV_ENC_CONFIG`.
//!
//! One pure function, [`build_config`], does all of it: it starts from the configuration
//! NVIDIA's preset gives (`nvEncGetEncodePresetConfigEx(codec, preset, tuning)`, fetched
//! by the session with [`preset_guid`] and [`tuning_info`]) and overrides what the neutral
//! configuration says; it refuses what the GPU's capabilities ([`Caps`]) rule out with
//! `Error::Unsupported` naming the capability. Everything not in this table keeps the
//! preset's value (multi-pass, adaptive quantisation, reference counts, slices, level,
//! VBV size for CBR/VBR, entropy coding, …).
//!
//! | `EncoderConfig` | NVENC |
//! |---|---|
//! | `codec` H264 / Hevc | `encodeGUID` = `NV_ENC_CODEC_H264_GUID` / `NV_ENC_CODEC_HEVC_GUID`; Av1 → `Unsupported` (not in API 11.1), Vp9 → `Unsupported` (NVENC has no VP9) |
//! | `width`, `height` | `encodeWidth`/`encodeHeight`, `darWidth`/`darHeight` (square pixels, as NVIDIA's samples), `maxEncodeWidth`/`maxEncodeHeight` = the same (no in-place size change); checked against `NV_ENC_CAPS_WIDTH_MAX`/`HEIGHT_MAX`/`WIDTH_MIN`/`HEIGHT_MIN`/`MB_NUM_MAX`; odd sizes → `Unsupported` (4:2:0 output) |
//! | `fps` | `frameRateNum`/`frameRateDen` |
//! | `preset` Fastest … Slowest | `presetGUID` = `NV_ENC_PRESET_P1_GUID` … `NV_ENC_PRESET_P7_GUID` |
//! | `tuning` HighQuality / LowLatency / UltraLowLatency / Lossless | `tuningInfo` = `NV_ENC_TUNING_INFO_HIGH_QUALITY` / `_LOW_LATENCY` / `_ULTRA_LOW_LATENCY` / `_LOSSLESS` |
//! | `RateControl::Cbr { bitrate }` | `rateControlMode` = `NV_ENC_PARAMS_RC_CBR`, `averageBitRate` = `maxBitRate` = `bitrate`, `targetQuality` = 0 |
//! | `RateControl::Vbr { avg, max }` | `NV_ENC_PARAMS_RC_VBR`, `averageBitRate` = `avg`, `maxBitRate` = `max`, `targetQuality` = 0 |
//! | `RateControl::ConstQp { i, p, b }` | `NV_ENC_PARAMS_RC_CONSTQP`, `constQP` = { `qpIntra`: i, `qpInterP`: p, `qpInterB`: b }, bitrates 0 |
//! | `RateControl::ConstQuality { q }` | `NV_ENC_PARAMS_RC_VBR` with `targetQuality` = `q` (`targetQualityLSB` 0; q = 0 becomes 1, since 0 means "automatic" to NVENC), `averageBitRate` = `maxBitRate` = 0 (no cap), `vbvBufferSize` = `vbvInitialDelay` = 0 |
//! | `tuning` Lossless (any `rate_control`) | `NV_ENC_PARAMS_RC_CONSTQP` at QP 0 for I, P and B; H.264 also `qpPrimeYZeroTransformBypassFlag` = 1 and profile `NV_ENC_H264_PROFILE_HIGH_444_GUID` (as the header asks); needs `NV_ENC_CAPS_SUPPORT_LOSSLESS_ENCODE` |
//! | bitrate modes need | `NV_ENC_CAPS_SUPPORTED_RATECONTROL_MODES` to have the CBR / VBR bit |
//! | `qp_range: Some((lo, hi))` | `enableMinQP` = `enableMaxQP` = 1, `minQP` = lo and `maxQP` = hi for I, P and B (bitrate and quality modes; not used with constant QP or lossless) |
//! | `qp_range: None` | `enableMinQP` = `enableMaxQP` = 0 |
//! | `gop: Some(n)` / `None` | `gopLength` = n / the preset's; `idrPeriod` = `gopLength` (every GOP starts with an IDR) |
//! | `b_frames` | `frameIntervalP` = `b_frames` + 1 (0, intra only, when `gopLength` is 1); at most `NV_ENC_CAPS_NUM_MAX_BFRAMES`; B-frames with an infinite GOP → `InvalidInput` (the header wants `frameIntervalP` = 1 then) |
//! | `lookahead: Some(n)` | `enableLookahead` = (n > 0), `lookaheadDepth` = n; n ≤ 31 − `b_frames` (the header's range); needs `NV_ENC_CAPS_SUPPORT_LOOKAHEAD` |
//! | `lookahead: None` | the preset's look-ahead (P6/P7 may enable it), depth clamped to 31 − `b_frames` |
//! | `repeat_parameter_sets` (Annex-B) | `repeatSPSPPS` = the flag, `disableSPSPPS` = 0 |
//! | `layout` LengthPrefixed | `repeatSPSPPS` = 0, `disableSPSPPS` = 1: parameter sets only out of band, from `nvEncGetSequenceParams` |
//! | `color` | VUI: `videoSignalTypePresentFlag` = 1 when anything is specified (`videoFormat` = 5, unspecified), `videoFullRangeFlag` = (range is full), `colourDescriptionPresentFlag` = 1 when primaries, transfer or matrix is not 2 (unspecified), then `colourPrimaries`, `transferCharacteristics`, `colourMatrix` |
//! | `input_format` Nv12 / Yuv420p / P010 / Yuv420p10 / Bgra | `NV_ENC_BUFFER_FORMAT_NV12` / `_IYUV` / `_YUV420_10BIT` / `_YUV420_10BIT` (converted while copying) / `_ARGB`; Rgb24, RgbPlanar → `Unsupported` |
//! | 10-bit input | HEVC: profile `NV_ENC_HEVC_PROFILE_MAIN10_GUID`, `pixelBitDepthMinus8` = 2, needs `NV_ENC_CAPS_SUPPORT_10BIT_ENCODE`; H.264 → `Unsupported` (API 11.1 encodes H.264 at 8 bits) |
//! | 8-bit input | HEVC profile `NV_ENC_HEVC_PROFILE_MAIN_GUID`, `pixelBitDepthMinus8` = 0; H.264 profile `NV_ENC_CODEC_PROFILE_AUTOSELECT_GUID` (except lossless) |
//! | always | `version` fields (`NV_ENC_INITIALIZE_PARAMS_VER`, `NV_ENC_CONFIG_VER`, `NV_ENC_RC_PARAMS_VER`), `enablePTD` = 1 (NVENC decides picture types), `enableEncodeAsync` = 0 (synchronous; Linux has no asynchronous mode), `frameFieldMode` = `NV_ENC_PARAMS_FRAME_FIELD_MODE_FRAME`, `monoChromeEncoding` = 0, `chromaFormatIDC` = 1 (4:2:0) |
//! | `frames_in_flight` | not in these structures: the session keeps `b_frames` + look-ahead depth + `frames_in_flight` buffer pairs ([`pool_size`]) |

use super::super::sys::nvenc::*;
use super::super::sys::nvenc_versions::*;
use super::caps::{Caps, codec_guid};
use crate::codec::{
    Codec, ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, PixelFormat, TransferCharacteristics,
};
use crate::config::{EncoderConfig, Preset, RateControl, Tuning};
use crate::error::{Error, Result};
use crate::packet::PacketLayout;

/// The largest `lookaheadDepth` plus B-frames the header allows ("range 0-(31 - number of B frames)").
pub(crate) const MAX_LOOKAHEAD_PLUS_B: u32 = 31;

/// `NV_ENC_PRESET_P1_GUID` … `NV_ENC_PRESET_P7_GUID` for `Fastest` … `Slowest`.
pub(crate) fn preset_guid(p: Preset) -> GUID {
    match p {
        Preset::Fastest => NV_ENC_PRESET_P1_GUID,
        Preset::Faster => NV_ENC_PRESET_P2_GUID,
        Preset::Fast => NV_ENC_PRESET_P3_GUID,
        Preset::Medium => NV_ENC_PRESET_P4_GUID,
        Preset::Slow => NV_ENC_PRESET_P5_GUID,
        Preset::Slower => NV_ENC_PRESET_P6_GUID,
        Preset::Slowest => NV_ENC_PRESET_P7_GUID,
    }
}

/// The `NV_ENC_TUNING_INFO` of a [`Tuning`].
pub(crate) fn tuning_info(t: Tuning) -> NV_ENC_TUNING_INFO {
    match t {
        Tuning::HighQuality => NV_ENC_TUNING_INFO_HIGH_QUALITY,
        Tuning::LowLatency => NV_ENC_TUNING_INFO_LOW_LATENCY,
        Tuning::UltraLowLatency => NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY,
        Tuning::Lossless => NV_ENC_TUNING_INFO_LOSSLESS,
    }
}

/// The NVENC input-buffer format host frames of `f` are copied into (`None`: not taken).
pub(crate) fn buffer_format(f: PixelFormat) -> Option<NV_ENC_BUFFER_FORMAT> {
    match f {
        PixelFormat::Nv12 => Some(NV_ENC_BUFFER_FORMAT_NV12),
        PixelFormat::Yuv420p => Some(NV_ENC_BUFFER_FORMAT_IYUV),
        PixelFormat::P010 | PixelFormat::Yuv420p10 => Some(NV_ENC_BUFFER_FORMAT_YUV420_10BIT),
        PixelFormat::Bgra => Some(NV_ENC_BUFFER_FORMAT_ARGB),
        _ => None,
    }
}

/// The H.264 member of the codec union.
pub(crate) fn h264(c: &NV_ENC_CONFIG) -> NV_ENC_CONFIG_H264 {
    // SAFETY: every member of the union is plain integers, arrays and raw pointers, for
    // which any bit pattern is valid, so reading any member is sound.
    unsafe { c.encodeCodecConfig.h264Config }
}

/// The HEVC member of the codec union.
pub(crate) fn hevc(c: &NV_ENC_CONFIG) -> NV_ENC_CONFIG_HEVC {
    // SAFETY: as in `h264`: any bit pattern is a valid value of every member.
    unsafe { c.encodeCodecConfig.hevcConfig }
}

/// B-frames between reference pictures in `c` (`frameIntervalP` − 1, at least 0).
pub(crate) fn b_frames(c: &NV_ENC_CONFIG) -> u32 {
    (c.frameIntervalP - 1).max(0).unsigned_abs()
}

/// The look-ahead depth in force in `c` (0 when look-ahead is off).
pub(crate) fn lookahead_depth(c: &NV_ENC_CONFIG) -> u32 {
    if c.rcParams.enableLookahead() != 0 { u32::from(c.rcParams.lookaheadDepth) } else { 0 }
}

/// Input/bitstream buffer pairs a session needs: the pictures NVENC holds back for
/// B-frames and look-ahead, plus `frames_in_flight`.
pub(crate) fn pool_size(c: &NV_ENC_CONFIG, frames_in_flight: u32) -> usize {
    (b_frames(c) + lookahead_depth(c) + frames_in_flight.max(1)) as usize
}

fn qp(i: u32, p: u32, b: u32) -> NV_ENC_QP {
    NV_ENC_QP { qpInterP: p, qpInterB: b, qpIntra: i }
}

fn bitrate(bps: u64) -> Result<u32> {
    u32::try_from(bps)
        .map_err(|_| Error::invalid_input(format!("bitrate {bps} bit/s (NVENC takes at most {})", u32::MAX)))
}

fn is_ten_bit(f: PixelFormat) -> bool {
    matches!(f, PixelFormat::P010 | PixelFormat::Yuv420p10)
}

/// Writes the colour description into a VUI (see the module table).
fn apply_vui(vui: &mut NV_ENC_CONFIG_H264_VUI_PARAMETERS, color: &ColorInfo) {
    let described = color.primaries != ColorPrimaries::UNSPECIFIED
        || color.transfer != TransferCharacteristics::UNSPECIFIED
        || color.matrix != MatrixCoefficients::UNSPECIFIED;
    let full = color.range == ColorRange::Full;
    vui.videoSignalTypePresentFlag = u32::from(described || full);
    vui.videoFormat = 5;
    vui.videoFullRangeFlag = u32::from(full);
    vui.colourDescriptionPresentFlag = u32::from(described);
    vui.colourPrimaries = u32::from(color.primaries.0);
    vui.transferCharacteristics = u32::from(color.transfer.0);
    vui.colourMatrix = u32::from(color.matrix.0);
}

/// Refuses what this GPU's NVENC cannot do for `cfg`, naming the capability.
fn check_caps(cfg: &EncoderConfig, caps: &Caps) -> Result<()> {
    let codec = cfg.codec;
    let (w, h) = (cfg.width, cfg.height);
    let refuse = |what: String, why: String| Err(Error::unsupported(what, why));
    if w % 2 != 0 || h % 2 != 0 {
        return refuse(
            format!("odd picture size {w}x{h} with nvenc"),
            "NVENC encodes 4:2:0 and needs even sizes".into(),
        );
    }
    if w > caps.max_width || h > caps.max_height {
        return refuse(
            format!("{w}x{h} {codec} encode with nvenc"),
            format!(
                "NV_ENC_CAPS_WIDTH_MAX x NV_ENC_CAPS_HEIGHT_MAX is {}x{} on this GPU",
                caps.max_width, caps.max_height
            ),
        );
    }
    if w < caps.min_width || h < caps.min_height {
        return refuse(
            format!("{w}x{h} {codec} encode with nvenc"),
            format!(
                "NV_ENC_CAPS_WIDTH_MIN x NV_ENC_CAPS_HEIGHT_MIN is {}x{} on this GPU",
                caps.min_width, caps.min_height
            ),
        );
    }
    let mbs = u64::from(w.div_ceil(16)) * u64::from(h.div_ceil(16));
    if caps.max_mbs > 0 && mbs > u64::from(caps.max_mbs) {
        return refuse(
            format!("{w}x{h} {codec} encode with nvenc"),
            format!("{mbs} macroblocks, NV_ENC_CAPS_MB_NUM_MAX is {} on this GPU", caps.max_mbs),
        );
    }
    if cfg.b_frame_count() > caps.max_bframes {
        return refuse(
            format!("{} B-frames with nvenc {codec}", cfg.b_frame_count()),
            format!("NV_ENC_CAPS_NUM_MAX_BFRAMES is {} on this GPU", caps.max_bframes),
        );
    }
    if is_ten_bit(cfg.input_format) {
        if codec == Codec::H264 {
            return refuse(
                format!("10-bit H.264 ({} input) with nvenc", cfg.input_format),
                "NVENC API 11.1 encodes H.264 at 8 bits only; use HEVC".into(),
            );
        }
        if !caps.ten_bit {
            return refuse(
                format!("10-bit {codec} with nvenc"),
                "NV_ENC_CAPS_SUPPORT_10BIT_ENCODE is 0 on this GPU".into(),
            );
        }
    }
    if let Some(n) = cfg.lookahead.filter(|&n| n > 0) {
        if !caps.lookahead {
            return refuse(
                format!("look-ahead {n} with nvenc"),
                "NV_ENC_CAPS_SUPPORT_LOOKAHEAD is 0 on this GPU".into(),
            );
        }
        if n + cfg.b_frame_count() > MAX_LOOKAHEAD_PLUS_B {
            return refuse(
                format!("look-ahead {n} with {} B-frames with nvenc", cfg.b_frame_count()),
                format!("lookaheadDepth ranges 0..={} − B-frames", MAX_LOOKAHEAD_PLUS_B),
            );
        }
    }
    if cfg.tuning == Tuning::Lossless {
        if !caps.lossless {
            return refuse(
                format!("lossless {codec} with nvenc"),
                "NV_ENC_CAPS_SUPPORT_LOSSLESS_ENCODE is 0 on this GPU".into(),
            );
        }
        return Ok(());
    }
    let (mode, name) = match cfg.rate_control {
        RateControl::Cbr { .. } => (NV_ENC_PARAMS_RC_CBR, "CBR"),
        RateControl::Vbr { .. } | RateControl::ConstQuality { .. } => (NV_ENC_PARAMS_RC_VBR, "VBR"),
        RateControl::ConstQp { .. } => (NV_ENC_PARAMS_RC_CONSTQP, "constant QP"),
    };
    if !caps.has_rc_mode(mode) {
        return refuse(
            format!("{name} rate control with nvenc"),
            format!("NV_ENC_CAPS_SUPPORTED_RATECONTROL_MODES is {:#x} on this GPU", caps.rc_modes),
        );
    }
    Ok(())
}

/// Builds the initialisation parameters and the encode configuration for `cfg` from the
/// preset's configuration (see the module table). The returned
/// `NV_ENC_INITIALIZE_PARAMS::encodeConfig` is null: the caller points it at the returned
/// config right before `nvEncInitializeEncoder` / `nvEncReconfigureEncoder`.
pub(crate) fn build_config(
    cfg: &EncoderConfig,
    caps: &Caps,
    preset_config: NV_ENC_CONFIG,
) -> Result<(NV_ENC_INITIALIZE_PARAMS, NV_ENC_CONFIG)> {
    let encode_guid =
        codec_guid(cfg.codec).map_err(|why| Error::unsupported(format!("{} encode with nvenc", cfg.codec), why))?;
    if buffer_format(cfg.input_format).is_none() {
        return Err(Error::unsupported(
            format!("{} input with nvenc", cfg.input_format),
            "NVENC takes nv12, yuv420p, p010, yuv420p10 or bgra",
        ));
    }
    check_caps(cfg, caps)?;
    let fps_num = u32::try_from(cfg.fps.num).ok().filter(|&n| n > 0);
    let fps_den = u32::try_from(cfg.fps.den).ok().filter(|&d| d > 0);
    let (Some(fps_num), Some(fps_den)) = (fps_num, fps_den) else {
        return Err(Error::invalid_input(format!("frame rate {} does not fit NVENC's 32-bit fields", cfg.fps)));
    };

    let mut init = NV_ENC_INITIALIZE_PARAMS {
        version: NV_ENC_INITIALIZE_PARAMS_VER,
        encodeGUID: encode_guid,
        presetGUID: preset_guid(cfg.preset),
        encodeWidth: cfg.width,
        encodeHeight: cfg.height,
        darWidth: cfg.width,
        darHeight: cfg.height,
        frameRateNum: fps_num,
        frameRateDen: fps_den,
        enableEncodeAsync: 0,
        enablePTD: 1,
        maxEncodeWidth: cfg.width,
        maxEncodeHeight: cfg.height,
        tuningInfo: tuning_info(cfg.tuning),
        ..Default::default()
    };
    init.encodeConfig = std::ptr::null_mut();

    let mut c = preset_config;
    c.version = NV_ENC_CONFIG_VER;
    c.monoChromeEncoding = 0;
    c.frameFieldMode = NV_ENC_PARAMS_FRAME_FIELD_MODE_FRAME;

    // GOP structure.
    let gop = cfg.gop.unwrap_or(c.gopLength);
    c.gopLength = gop;
    if gop == 1 {
        if cfg.b_frame_count() > 0 {
            return Err(Error::invalid_input("B-frames need a GOP longer than 1 frame"));
        }
        c.frameIntervalP = 0;
    } else {
        if gop == NVENC_INFINITE_GOPLENGTH && cfg.b_frame_count() > 0 {
            return Err(Error::invalid_input(
                "NVENC takes no B-frames with an infinite GOP (the preset's default); set EncoderConfig::gop",
            ));
        }
        c.frameIntervalP = i32::try_from(cfg.b_frame_count() + 1).unwrap_or(i32::MAX);
    }

    // Rate control.
    let rc = &mut c.rcParams;
    rc.version = NV_ENC_RC_PARAMS_VER;
    let lossless = cfg.tuning == Tuning::Lossless;
    let mut bounded = true;
    if lossless {
        rc.rateControlMode = NV_ENC_PARAMS_RC_CONSTQP;
        rc.constQP = qp(0, 0, 0);
        rc.averageBitRate = 0;
        rc.maxBitRate = 0;
        rc.vbvBufferSize = 0;
        rc.vbvInitialDelay = 0;
        rc.targetQuality = 0;
        rc.targetQualityLSB = 0;
        bounded = false;
    } else {
        match cfg.rate_control {
            RateControl::Cbr { bitrate: b } => {
                rc.rateControlMode = NV_ENC_PARAMS_RC_CBR;
                rc.averageBitRate = bitrate(b)?;
                rc.maxBitRate = bitrate(b)?;
                rc.targetQuality = 0;
                rc.targetQualityLSB = 0;
            }
            RateControl::Vbr { avg, max } => {
                rc.rateControlMode = NV_ENC_PARAMS_RC_VBR;
                rc.averageBitRate = bitrate(avg)?;
                rc.maxBitRate = bitrate(max)?;
                rc.targetQuality = 0;
                rc.targetQualityLSB = 0;
            }
            RateControl::ConstQp { i, p, b } => {
                rc.rateControlMode = NV_ENC_PARAMS_RC_CONSTQP;
                rc.constQP = qp(i.into(), p.into(), b.into());
                rc.averageBitRate = 0;
                rc.maxBitRate = 0;
                rc.targetQuality = 0;
                rc.targetQualityLSB = 0;
                bounded = false;
            }
            RateControl::ConstQuality { q } => {
                rc.rateControlMode = NV_ENC_PARAMS_RC_VBR;
                rc.targetQuality = q.max(1);
                rc.targetQualityLSB = 0;
                rc.averageBitRate = 0;
                rc.maxBitRate = 0;
                rc.vbvBufferSize = 0;
                rc.vbvInitialDelay = 0;
            }
        }
    }
    match cfg.qp_range.filter(|_| bounded) {
        Some((lo, hi)) => {
            rc.set_enableMinQP(1);
            rc.set_enableMaxQP(1);
            rc.minQP = qp(lo.into(), lo.into(), lo.into());
            rc.maxQP = qp(hi.into(), hi.into(), hi.into());
        }
        None => {
            rc.set_enableMinQP(0);
            rc.set_enableMaxQP(0);
            rc.minQP = qp(0, 0, 0);
            rc.maxQP = qp(0, 0, 0);
        }
    }

    // Look-ahead.
    let max_depth = MAX_LOOKAHEAD_PLUS_B.saturating_sub(cfg.b_frame_count());
    match cfg.lookahead {
        Some(n) => {
            rc.set_enableLookahead(u32::from(n > 0));
            rc.lookaheadDepth = u16::try_from(n.min(max_depth)).unwrap_or(0);
        }
        None => {
            if rc.enableLookahead() != 0 && caps.lookahead {
                rc.lookaheadDepth = rc.lookaheadDepth.min(u16::try_from(max_depth).unwrap_or(0));
            } else {
                rc.set_enableLookahead(0);
                rc.lookaheadDepth = 0;
            }
        }
    }

    // Codec specifics.
    let annexb = cfg.layout == PacketLayout::AnnexB;
    let repeat = u32::from(annexb && cfg.repeat_parameter_sets);
    let disable = u32::from(!annexb);
    match cfg.codec {
        Codec::H264 => {
            let mut h = h264(&c);
            h.idrPeriod = gop;
            h.set_repeatSPSPPS(repeat);
            h.set_disableSPSPPS(disable);
            h.chromaFormatIDC = 1;
            h.set_qpPrimeYZeroTransformBypassFlag(u32::from(lossless));
            apply_vui(&mut h.h264VUIParameters, &cfg.color);
            c.encodeCodecConfig.h264Config = h;
            c.profileGUID =
                if lossless { NV_ENC_H264_PROFILE_HIGH_444_GUID } else { NV_ENC_CODEC_PROFILE_AUTOSELECT_GUID };
        }
        _ => {
            let ten = is_ten_bit(cfg.input_format);
            let mut h = hevc(&c);
            h.idrPeriod = gop;
            h.set_repeatSPSPPS(repeat);
            h.set_disableSPSPPS(disable);
            h.set_chromaFormatIDC(1);
            h.set_pixelBitDepthMinus8(if ten { 2 } else { 0 });
            apply_vui(&mut h.hevcVUIParameters, &cfg.color);
            c.encodeCodecConfig.hevcConfig = h;
            c.profileGUID = if ten { NV_ENC_HEVC_PROFILE_MAIN10_GUID } else { NV_ENC_HEVC_PROFILE_MAIN_GUID };
        }
    }
    Ok((init, c))
}

#[cfg(test)]
mod tests {
    use super::super::caps::same_guid;
    use super::*;

    /// A preset configuration with recognisable values everywhere the mapping must not
    /// touch, and values the mapping must override.
    fn preset() -> NV_ENC_CONFIG {
        let mut c = NV_ENC_CONFIG { version: 0, gopLength: 250, frameIntervalP: 3, ..Default::default() };
        c.mvPrecision = NV_ENC_MV_PRECISION_QUARTER_PEL;
        c.frameFieldMode = 0;
        c.profileGUID = NV_ENC_H264_PROFILE_MAIN_GUID;
        let rc = &mut c.rcParams;
        rc.rateControlMode = NV_ENC_PARAMS_RC_VBR;
        rc.averageBitRate = 1234;
        rc.maxBitRate = 5678;
        rc.vbvBufferSize = 999;
        rc.vbvInitialDelay = 777;
        rc.targetQuality = 30;
        rc.multiPass = NV_ENC_TWO_PASS_QUARTER_RESOLUTION;
        rc.set_enableAQ(1);
        rc.set_enableLookahead(1);
        rc.lookaheadDepth = 20;
        rc.set_enableMinQP(1);
        rc.minQP = qp(9, 9, 9);
        let mut h = h264(&c);
        h.idrPeriod = 250;
        h.maxNumRefFrames = 3;
        h.set_repeatSPSPPS(0);
        h.chromaFormatIDC = 0;
        h.h264VUIParameters.videoSignalTypePresentFlag = 1;
        h.h264VUIParameters.colourPrimaries = 7;
        c.encodeCodecConfig.h264Config = h;
        c
    }

    fn hevc_preset() -> NV_ENC_CONFIG {
        let mut c = preset();
        let mut h = hevc(&NV_ENC_CONFIG::default());
        h.idrPeriod = 250;
        h.maxNumRefFramesInDPB = 4;
        h.set_pixelBitDepthMinus8(7);
        c.encodeCodecConfig.hevcConfig = h;
        c
    }

    const RATE_CONTROLS: [RateControl; 4] = [
        RateControl::Cbr { bitrate: 8_000_000 },
        RateControl::Vbr { avg: 3_000_000, max: 6_000_000 },
        RateControl::ConstQp { i: 20, p: 23, b: 25 },
        RateControl::ConstQuality { q: 28 },
    ];
    const TUNINGS: [Tuning; 4] = [Tuning::HighQuality, Tuning::LowLatency, Tuning::UltraLowLatency, Tuning::Lossless];

    /// Every field the mapping sets, for every preset × tuning × rate control, for both codecs.
    #[test]
    fn every_preset_tuning_and_rate_control() {
        let presets = [
            (Preset::Fastest, NV_ENC_PRESET_P1_GUID),
            (Preset::Faster, NV_ENC_PRESET_P2_GUID),
            (Preset::Fast, NV_ENC_PRESET_P3_GUID),
            (Preset::Medium, NV_ENC_PRESET_P4_GUID),
            (Preset::Slow, NV_ENC_PRESET_P5_GUID),
            (Preset::Slower, NV_ENC_PRESET_P6_GUID),
            (Preset::Slowest, NV_ENC_PRESET_P7_GUID),
        ];
        let tunings = [
            NV_ENC_TUNING_INFO_HIGH_QUALITY,
            NV_ENC_TUNING_INFO_LOW_LATENCY,
            NV_ENC_TUNING_INFO_ULTRA_LOW_LATENCY,
            NV_ENC_TUNING_INFO_LOSSLESS,
        ];
        let mut combos = 0;
        for codec in [Codec::H264, Codec::Hevc] {
            let caps = Caps::turing(codec);
            for (preset_kind, preset_id) in presets {
                for (tuning, tuning_id) in TUNINGS.into_iter().zip(tunings) {
                    for rc in RATE_CONTROLS {
                        let low_latency = matches!(tuning, Tuning::LowLatency | Tuning::UltraLowLatency);
                        let b = if low_latency { 0 } else { 2 };
                        let cfg = EncoderConfig::new(codec, 1920, 1080)
                            .fps(30000, 1001)
                            .preset(preset_kind)
                            .tuning(tuning)
                            .rate_control(rc)
                            .gop(120)
                            .b_frames(b);
                        let cfg = EncoderConfig { qp_range: Some((10, 40)), ..cfg };
                        cfg.validate().unwrap();
                        let base = if codec == Codec::H264 { preset() } else { hevc_preset() };
                        let (init, c) = build_config(&cfg, &caps, base).unwrap();
                        let ctx = format!("{codec} {preset_kind:?} {tuning:?} {rc:?}");
                        combos += 1;

                        // Initialisation parameters.
                        assert_eq!(init.version, NV_ENC_INITIALIZE_PARAMS_VER, "{ctx}");
                        let guid = if codec == Codec::H264 { NV_ENC_CODEC_H264_GUID } else { NV_ENC_CODEC_HEVC_GUID };
                        assert!(same_guid(&init.encodeGUID, &guid), "{ctx}");
                        assert!(same_guid(&init.presetGUID, &preset_id), "{ctx}");
                        assert_eq!(init.tuningInfo, tuning_id, "{ctx}");
                        assert_eq!((init.encodeWidth, init.encodeHeight), (1920, 1080), "{ctx}");
                        assert_eq!((init.darWidth, init.darHeight), (1920, 1080), "{ctx}");
                        assert_eq!((init.maxEncodeWidth, init.maxEncodeHeight), (1920, 1080), "{ctx}");
                        assert_eq!((init.frameRateNum, init.frameRateDen), (30000, 1001), "{ctx}");
                        assert_eq!((init.enableEncodeAsync, init.enablePTD), (0, 1), "{ctx}");
                        assert!(init.encodeConfig.is_null(), "{ctx}");
                        assert_eq!(init.bufferFormat, 0, "{ctx}: only for D3D12");

                        // Configuration.
                        assert_eq!(c.version, NV_ENC_CONFIG_VER, "{ctx}");
                        assert_eq!(c.gopLength, 120, "{ctx}");
                        assert_eq!(c.frameIntervalP, b as i32 + 1, "{ctx}");
                        assert_eq!(c.frameFieldMode, NV_ENC_PARAMS_FRAME_FIELD_MODE_FRAME, "{ctx}");
                        assert_eq!(c.mvPrecision, NV_ENC_MV_PRECISION_QUARTER_PEL, "{ctx}: preset value kept");
                        let r = &c.rcParams;
                        assert_eq!(r.version, NV_ENC_RC_PARAMS_VER, "{ctx}");
                        assert_eq!(r.multiPass, NV_ENC_TWO_PASS_QUARTER_RESOLUTION, "{ctx}: preset value kept");
                        assert_eq!(r.enableAQ(), 1, "{ctx}: preset value kept");
                        let qp_bounded = tuning != Tuning::Lossless && !matches!(rc, RateControl::ConstQp { .. });
                        if tuning == Tuning::Lossless {
                            assert_eq!(r.rateControlMode, NV_ENC_PARAMS_RC_CONSTQP, "{ctx}");
                            assert_eq!((r.constQP.qpIntra, r.constQP.qpInterP, r.constQP.qpInterB), (0, 0, 0), "{ctx}");
                            assert_eq!((r.averageBitRate, r.maxBitRate, r.targetQuality), (0, 0, 0), "{ctx}");
                        } else {
                            match rc {
                                RateControl::Cbr { bitrate } => {
                                    assert_eq!(r.rateControlMode, NV_ENC_PARAMS_RC_CBR, "{ctx}");
                                    assert_eq!((r.averageBitRate, r.maxBitRate), (bitrate as u32, bitrate as u32));
                                    assert_eq!(r.targetQuality, 0, "{ctx}");
                                    assert_eq!(r.vbvBufferSize, 999, "{ctx}: preset VBV kept");
                                }
                                RateControl::Vbr { avg, max } => {
                                    assert_eq!(r.rateControlMode, NV_ENC_PARAMS_RC_VBR, "{ctx}");
                                    assert_eq!((r.averageBitRate, r.maxBitRate), (avg as u32, max as u32));
                                    assert_eq!(r.targetQuality, 0, "{ctx}");
                                }
                                RateControl::ConstQp { i, p, b } => {
                                    assert_eq!(r.rateControlMode, NV_ENC_PARAMS_RC_CONSTQP, "{ctx}");
                                    let q = (r.constQP.qpIntra, r.constQP.qpInterP, r.constQP.qpInterB);
                                    assert_eq!(q, (i.into(), p.into(), b.into()), "{ctx}");
                                    assert_eq!((r.averageBitRate, r.maxBitRate), (0, 0), "{ctx}");
                                }
                                RateControl::ConstQuality { q } => {
                                    assert_eq!(r.rateControlMode, NV_ENC_PARAMS_RC_VBR, "{ctx}");
                                    assert_eq!((r.targetQuality, r.targetQualityLSB), (q, 0), "{ctx}");
                                    assert_eq!((r.averageBitRate, r.maxBitRate), (0, 0), "{ctx}");
                                    assert_eq!((r.vbvBufferSize, r.vbvInitialDelay), (0, 0), "{ctx}");
                                }
                            }
                        }
                        if qp_bounded {
                            assert_eq!((r.enableMinQP(), r.enableMaxQP()), (1, 1), "{ctx}");
                            assert_eq!((r.minQP.qpIntra, r.minQP.qpInterP, r.minQP.qpInterB), (10, 10, 10));
                            assert_eq!((r.maxQP.qpIntra, r.maxQP.qpInterP, r.maxQP.qpInterB), (40, 40, 40));
                        } else {
                            assert_eq!((r.enableMinQP(), r.enableMaxQP()), (0, 0), "{ctx}");
                        }
                        // lookahead None keeps the preset's (enabled, depth 20 ≤ 31 − b).
                        assert_eq!((r.enableLookahead(), r.lookaheadDepth), (1, 20), "{ctx}");
                        assert_eq!(pool_size(&c, 4), (b + 20 + 4) as usize, "{ctx}");

                        if codec == Codec::H264 {
                            let h = h264(&c);
                            assert_eq!(h.idrPeriod, 120, "{ctx}");
                            assert_eq!((h.repeatSPSPPS(), h.disableSPSPPS()), (1, 0), "{ctx}");
                            assert_eq!(h.chromaFormatIDC, 1, "{ctx}");
                            assert_eq!(h.maxNumRefFrames, 3, "{ctx}: preset value kept");
                            let v = h.h264VUIParameters;
                            assert_eq!((v.videoSignalTypePresentFlag, v.colourDescriptionPresentFlag), (0, 0), "{ctx}");
                            if tuning == Tuning::Lossless {
                                assert_eq!(h.qpPrimeYZeroTransformBypassFlag(), 1, "{ctx}");
                                assert!(same_guid(&c.profileGUID, &NV_ENC_H264_PROFILE_HIGH_444_GUID), "{ctx}");
                            } else {
                                assert_eq!(h.qpPrimeYZeroTransformBypassFlag(), 0, "{ctx}");
                                assert!(same_guid(&c.profileGUID, &NV_ENC_CODEC_PROFILE_AUTOSELECT_GUID), "{ctx}");
                            }
                        } else {
                            let h = hevc(&c);
                            assert_eq!(h.idrPeriod, 120, "{ctx}");
                            assert_eq!((h.repeatSPSPPS(), h.disableSPSPPS()), (1, 0), "{ctx}");
                            assert_eq!((h.chromaFormatIDC(), h.pixelBitDepthMinus8()), (1, 0), "{ctx}");
                            assert_eq!(h.maxNumRefFramesInDPB, 4, "{ctx}: preset value kept");
                            assert!(same_guid(&c.profileGUID, &NV_ENC_HEVC_PROFILE_MAIN_GUID), "{ctx}");
                        }
                    }
                }
            }
        }
        assert_eq!(combos, 2 * 7 * 4 * 4);
    }

    #[test]
    fn gop_b_frames_and_lookahead() {
        let caps = Caps::turing(Codec::H264);
        let base = EncoderConfig::new(Codec::H264, 640, 360);
        // No GOP: the preset's, and the IDR period follows it.
        let (_, c) = build_config(&base, &caps, preset()).unwrap();
        assert_eq!((c.gopLength, c.frameIntervalP, h264(&c).idrPeriod), (250, 1, 250));
        // All-intra.
        let (_, c) = build_config(&base.clone().gop(1), &caps, preset()).unwrap();
        assert_eq!((c.gopLength, c.frameIntervalP), (1, 0));
        assert!(matches!(build_config(&base.clone().gop(1).b_frames(1), &caps, preset()), Err(Error::InvalidInput(_))));
        // Infinite GOP from the preset: no B-frames.
        let mut infinite = preset();
        infinite.gopLength = NVENC_INFINITE_GOPLENGTH;
        let (_, c) = build_config(&base, &caps, infinite).unwrap();
        assert_eq!((c.gopLength, c.frameIntervalP, h264(&c).idrPeriod), (u32::MAX, 1, u32::MAX));
        assert!(matches!(build_config(&base.clone().b_frames(2), &caps, infinite), Err(Error::InvalidInput(_))));
        // Look-ahead: explicit depth, explicit off, clamped preset depth.
        let explicit = EncoderConfig { lookahead: Some(8), ..base.clone().gop(60).b_frames(3) };
        let (_, c) = build_config(&explicit, &caps, preset()).unwrap();
        assert_eq!((c.rcParams.enableLookahead(), c.rcParams.lookaheadDepth, c.frameIntervalP), (1, 8, 4));
        assert_eq!(pool_size(&c, 4), 3 + 8 + 4);
        let off = EncoderConfig { lookahead: Some(0), ..base.clone() };
        let (_, c) = build_config(&off, &caps, preset()).unwrap();
        assert_eq!((c.rcParams.enableLookahead(), c.rcParams.lookaheadDepth), (0, 0));
        assert_eq!(pool_size(&c, 4), 4);
        let mut deep = preset();
        deep.rcParams.lookaheadDepth = 31;
        let (_, c) = build_config(&base.clone().gop(60).b_frames(4), &caps, deep).unwrap();
        assert_eq!(c.rcParams.lookaheadDepth, 27, "clamped to 31 − 4 B-frames");
        let too_deep = EncoderConfig { lookahead: Some(30), ..base.clone().gop(60).b_frames(2) };
        let e = build_config(&too_deep, &caps, preset()).err().expect("refused");
        assert!(matches!(&e, Error::Unsupported { why, .. } if why.contains("31")), "{e}");
        // A preset look-ahead on a GPU without it is turned off.
        let no_la = Caps { lookahead: false, ..caps.clone() };
        let (_, c) = build_config(&base, &no_la, preset()).unwrap();
        assert_eq!(c.rcParams.enableLookahead(), 0);
    }

    #[test]
    fn layout_and_parameter_sets() {
        for codec in [Codec::H264, Codec::Hevc] {
            let caps = Caps::turing(codec);
            let p = if codec == Codec::H264 { preset() } else { hevc_preset() };
            let flags = |c: &NV_ENC_CONFIG| match codec {
                Codec::H264 => (h264(c).repeatSPSPPS(), h264(c).disableSPSPPS()),
                _ => (hevc(c).repeatSPSPPS(), hevc(c).disableSPSPPS()),
            };
            let annexb = EncoderConfig::new(codec, 640, 360);
            assert_eq!(flags(&build_config(&annexb, &caps, p).unwrap().1), (1, 0));
            let once = EncoderConfig { repeat_parameter_sets: false, ..annexb.clone() };
            assert_eq!(flags(&build_config(&once, &caps, p).unwrap().1), (0, 0));
            let mp4 = annexb.clone().layout(PacketLayout::LengthPrefixed);
            assert_eq!(flags(&build_config(&mp4, &caps, p).unwrap().1), (0, 1));
        }
    }

    #[test]
    fn colour_description() {
        let caps = Caps::turing(Codec::Hevc);
        let mut cfg = EncoderConfig::new(Codec::Hevc, 640, 360);
        cfg.color = ColorInfo {
            primaries: ColorPrimaries::BT2020,
            transfer: TransferCharacteristics::PQ,
            matrix: MatrixCoefficients::BT2020_NCL,
            range: ColorRange::Limited,
            ..ColorInfo::default()
        };
        let v = hevc(&build_config(&cfg, &caps, hevc_preset()).unwrap().1).hevcVUIParameters;
        assert_eq!((v.videoSignalTypePresentFlag, v.videoFormat, v.videoFullRangeFlag), (1, 5, 0));
        assert_eq!(v.colourDescriptionPresentFlag, 1);
        assert_eq!((v.colourPrimaries, v.transferCharacteristics, v.colourMatrix), (9, 16, 9));
        // Full range alone: signal type present, no colour description.
        cfg.color = ColorInfo { range: ColorRange::Full, ..ColorInfo::default() };
        let v = hevc(&build_config(&cfg, &caps, hevc_preset()).unwrap().1).hevcVUIParameters;
        assert_eq!((v.videoSignalTypePresentFlag, v.videoFullRangeFlag, v.colourDescriptionPresentFlag), (1, 1, 0));
        // H.264 gets the same.
        let mut cfg = EncoderConfig::new(Codec::H264, 640, 360);
        cfg.color.matrix = MatrixCoefficients::BT709;
        let v = h264(&build_config(&cfg, &Caps::turing(Codec::H264), preset()).unwrap().1).h264VUIParameters;
        assert_eq!((v.videoSignalTypePresentFlag, v.colourDescriptionPresentFlag, v.colourMatrix), (1, 1, 1));
        assert_eq!((v.colourPrimaries, v.transferCharacteristics), (2, 2));
    }

    #[test]
    fn ten_bit_and_input_formats() {
        let caps = Caps::turing(Codec::Hevc);
        for f in [PixelFormat::P010, PixelFormat::Yuv420p10] {
            let cfg = EncoderConfig::new(Codec::Hevc, 640, 360).input_format(f);
            let c = build_config(&cfg, &caps, hevc_preset()).unwrap().1;
            assert_eq!(hevc(&c).pixelBitDepthMinus8(), 2);
            assert!(same_guid(&c.profileGUID, &NV_ENC_HEVC_PROFILE_MAIN10_GUID));
            let e = build_config(&cfg, &Caps { ten_bit: false, ..caps.clone() }, hevc_preset()).err().expect("refused");
            assert!(e.to_string().contains("NV_ENC_CAPS_SUPPORT_10BIT_ENCODE"), "{e}");
            let h264 = EncoderConfig::new(Codec::H264, 640, 360).input_format(f);
            let e = build_config(&h264, &Caps::turing(Codec::H264), preset()).err().expect("refused");
            assert!(matches!(&e, Error::Unsupported { why, .. } if why.contains("8 bits")), "{e}");
        }
        assert_eq!(buffer_format(PixelFormat::Nv12), Some(NV_ENC_BUFFER_FORMAT_NV12));
        assert_eq!(buffer_format(PixelFormat::Yuv420p), Some(NV_ENC_BUFFER_FORMAT_IYUV));
        assert_eq!(buffer_format(PixelFormat::P010), Some(NV_ENC_BUFFER_FORMAT_YUV420_10BIT));
        assert_eq!(buffer_format(PixelFormat::Bgra), Some(NV_ENC_BUFFER_FORMAT_ARGB));
        for f in [PixelFormat::Rgb24, PixelFormat::RgbPlanar] {
            let cfg = EncoderConfig::new(Codec::H264, 640, 360).input_format(f);
            let e = build_config(&cfg, &Caps::turing(Codec::H264), preset()).err().expect("refused");
            assert!(matches!(e, Error::Unsupported { .. }), "{f}");
        }
    }

    /// Every capability check names the capability that refused.
    #[test]
    fn impossible_configs_name_the_cap() {
        let caps = Caps::turing(Codec::H264);
        let base = EncoderConfig::new(Codec::H264, 1920, 1080);
        let cases: Vec<(EncoderConfig, Caps, &str)> = vec![
            (base.clone().gop(30).b_frames(2), Caps { max_bframes: 0, ..caps.clone() }, "NV_ENC_CAPS_NUM_MAX_BFRAMES"),
            (EncoderConfig::new(Codec::H264, 8200, 1080), caps.clone(), "NV_ENC_CAPS_WIDTH_MAX"),
            (EncoderConfig::new(Codec::H264, 64, 32), caps.clone(), "NV_ENC_CAPS_WIDTH_MIN"),
            (base.clone(), Caps { max_mbs: 8000, ..caps.clone() }, "NV_ENC_CAPS_MB_NUM_MAX"),
            (
                EncoderConfig { lookahead: Some(8), ..base.clone() },
                Caps { lookahead: false, ..caps.clone() },
                "NV_ENC_CAPS_SUPPORT_LOOKAHEAD",
            ),
            (base.clone().tuning(Tuning::Lossless), Caps { lossless: false, ..caps.clone() }, "LOSSLESS_ENCODE"),
            (base.clone(), Caps { rc_modes: NV_ENC_PARAMS_RC_VBR, ..caps.clone() }, "SUPPORTED_RATECONTROL_MODES"),
            (
                base.clone().rate_control(RateControl::ConstQuality { q: 20 }),
                Caps { rc_modes: NV_ENC_PARAMS_RC_CBR, ..caps.clone() },
                "SUPPORTED_RATECONTROL_MODES",
            ),
            (EncoderConfig::new(Codec::Av1, 640, 360), caps.clone(), "API 11.1"),
            (EncoderConfig::new(Codec::Vp9, 640, 360), caps.clone(), "VP9"),
        ];
        for (cfg, caps, needle) in cases {
            match build_config(&cfg, &caps, preset()) {
                Err(e @ Error::Unsupported { .. }) => assert!(e.to_string().contains(needle), "{needle}: {e}"),
                Err(e) => panic!("{needle}: {e}"),
                Ok(_) => panic!("{needle}: accepted"),
            }
        }
        // Constant QP needs no rate-control bit.
        let cqp = base.rate_control(RateControl::ConstQp { i: 1, p: 2, b: 3 });
        assert!(build_config(&cqp, &Caps { rc_modes: 0, ..caps }, preset()).is_ok());
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        let caps = Caps::turing(Codec::H264);
        let fast = EncoderConfig::new(Codec::H264, 640, 360).rate_control(RateControl::Cbr { bitrate: 1 << 33 });
        assert!(matches!(build_config(&fast, &caps, preset()), Err(Error::InvalidInput(_))));
        let mut odd_fps = EncoderConfig::new(Codec::H264, 640, 360);
        odd_fps.fps = crate::Rational::new(1 << 40, 1 << 35);
        assert!(matches!(build_config(&odd_fps, &caps, preset()), Err(Error::InvalidInput(_))));
        // q = 0 is NVENC's "automatic": it becomes 1.
        let q0 = EncoderConfig::new(Codec::H264, 640, 360).rate_control(RateControl::ConstQuality { q: 0 });
        assert_eq!(build_config(&q0, &caps, preset()).unwrap().1.rcParams.targetQuality, 1);
    }
}
