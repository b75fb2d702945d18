//! Each [`Property`] as its `kVTCompressionPropertyKey_…` key and Core Foundation value,
//! set with `VTSessionSetProperty`.
//!
//! Every key is VideoToolbox's exported constant except the two introduced after macOS 11
//! (Rust's default deployment target for Apple silicon): `MinAllowedFrameQP` (macOS 13) and
//! `MaxAllowedFrameQP` (macOS 12). A reference to a data symbol is bound when the binary
//! loads, so on an older system nothing would start at all; these two are made from their
//! values instead, which are the key names (FFmpeg's VideoToolbox encoder falls back to the
//! same strings), and VideoToolbox compares keys by value. An older system then refuses
//! the property like any other it does not know.

use objc2_core_foundation::{CFRetained, CFString, CFType, Type};
use objc2_core_video::{
    kCVImageBufferColorPrimaries_EBU_3213, kCVImageBufferColorPrimaries_ITU_R_709_2,
    kCVImageBufferColorPrimaries_ITU_R_2020, kCVImageBufferColorPrimaries_SMPTE_C,
    kCVImageBufferTransferFunction_ITU_R_709_2, kCVImageBufferTransferFunction_ITU_R_2020,
    kCVImageBufferTransferFunction_ITU_R_2100_HLG, kCVImageBufferTransferFunction_SMPTE_ST_2084_PQ,
    kCVImageBufferYCbCrMatrix_ITU_R_601_4, kCVImageBufferYCbCrMatrix_ITU_R_709_2, kCVImageBufferYCbCrMatrix_ITU_R_2020,
};
use objc2_video_toolbox::{
    VTSession, VTSessionSetProperty, kVTCompressionPropertyKey_AllowFrameReordering,
    kVTCompressionPropertyKey_AllowOpenGOP, kVTCompressionPropertyKey_AverageBitRate,
    kVTCompressionPropertyKey_ColorPrimaries, kVTCompressionPropertyKey_DataRateLimits,
    kVTCompressionPropertyKey_ExpectedFrameRate, kVTCompressionPropertyKey_H264EntropyMode,
    kVTCompressionPropertyKey_MaxFrameDelayCount, kVTCompressionPropertyKey_MaxKeyFrameInterval,
    kVTCompressionPropertyKey_PrioritizeEncodingSpeedOverQuality, kVTCompressionPropertyKey_ProfileLevel,
    kVTCompressionPropertyKey_Quality, kVTCompressionPropertyKey_RealTime, kVTCompressionPropertyKey_TransferFunction,
    kVTCompressionPropertyKey_YCbCrMatrix, kVTH264EntropyMode_CABAC, kVTProfileLevel_H264_High_AutoLevel,
    kVTProfileLevel_HEVC_Main_AutoLevel, kVTProfileLevel_HEVC_Main10_AutoLevel, kVTPropertyNotSupportedErr,
};

use super::super::api::OsStatus;
use super::super::properties::{ColorName, ProfileLevel, Property};
use super::cf;

/// `VTSessionSetProperty(session, key, value)` for `property`; a value VideoToolbox has no
/// constant for (a colour name for the wrong key) is `kVTPropertyNotSupportedErr`.
pub(super) fn set_property(session: &VTSession, property: &Property) -> OsStatus {
    let (key, value) = match key(property).and_then(|key| value(property).map(|value| (key, value))) {
        Ok(pair) => pair,
        Err(status) => return status,
    };
    // SAFETY: `session` is a live VideoToolbox session, `key` a live CFString naming one of
    // its properties and `value` a live CF object of the type that key documents;
    // VideoToolbox retains or copies what it keeps, so dropping ours afterwards is fine.
    unsafe { VTSessionSetProperty(session, &key, Some(&value)) }
}

/// The key for `property`: VideoToolbox's constant, or for the two newest keys their value
/// (see the module documentation).
fn key(property: &Property) -> Result<CFRetained<CFString>, OsStatus> {
    // SAFETY: only reads VideoToolbox's exported constant keys (immutable CFStrings that
    // live for the whole process).
    let constant = unsafe {
        match property {
            Property::RealTime(_) => kVTCompressionPropertyKey_RealTime,
            Property::ProfileLevel(_) => kVTCompressionPropertyKey_ProfileLevel,
            Property::H264Cabac => kVTCompressionPropertyKey_H264EntropyMode,
            Property::AllowFrameReordering(_) => kVTCompressionPropertyKey_AllowFrameReordering,
            Property::AllowOpenGop(_) => kVTCompressionPropertyKey_AllowOpenGOP,
            Property::MaxKeyFrameInterval(_) => kVTCompressionPropertyKey_MaxKeyFrameInterval,
            Property::AverageBitRate(_) => kVTCompressionPropertyKey_AverageBitRate,
            Property::DataRateLimits { .. } => kVTCompressionPropertyKey_DataRateLimits,
            Property::Quality(_) => kVTCompressionPropertyKey_Quality,
            Property::MinAllowedFrameQp(_) => return cf::string("MinAllowedFrameQP"),
            Property::MaxAllowedFrameQp(_) => return cf::string("MaxAllowedFrameQP"),
            Property::ExpectedFrameRate(_) => kVTCompressionPropertyKey_ExpectedFrameRate,
            Property::MaxFrameDelayCount(_) => kVTCompressionPropertyKey_MaxFrameDelayCount,
            Property::PrioritizeSpeed(_) => kVTCompressionPropertyKey_PrioritizeEncodingSpeedOverQuality,
            Property::ColorPrimaries(_) => kVTCompressionPropertyKey_ColorPrimaries,
            Property::TransferFunction(_) => kVTCompressionPropertyKey_TransferFunction,
            Property::YCbCrMatrix(_) => kVTCompressionPropertyKey_YCbCrMatrix,
        }
    };
    Ok(constant.retain())
}

/// The value for `property`, of the type its key documents.
fn value(property: &Property) -> Result<CFRetained<CFType>, OsStatus> {
    Ok(match *property {
        Property::RealTime(on)
        | Property::AllowFrameReordering(on)
        | Property::AllowOpenGop(on)
        | Property::PrioritizeSpeed(on) => CFRetained::from(cf::boolean(on)?),
        Property::ProfileLevel(profile) => CFRetained::from(profile_level(profile)),
        // SAFETY: reads VideoToolbox's exported constant entropy-mode value.
        Property::H264Cabac => CFRetained::from(unsafe { kVTH264EntropyMode_CABAC }),
        Property::MaxKeyFrameInterval(n)
        | Property::MinAllowedFrameQp(n)
        | Property::MaxAllowedFrameQp(n)
        | Property::MaxFrameDelayCount(n) => cf::int32(n)?.into(),
        Property::AverageBitRate(bits) => cf::int64(bits)?.into(),
        // VideoToolbox reads alternating byte counts and windows in seconds.
        Property::DataRateLimits { bytes, seconds } => {
            let (bytes, seconds) = (cf::int64(bytes)?, cf::float64(seconds)?);
            cf::array(&[&bytes, &seconds])?.into()
        }
        Property::Quality(quality) => cf::float64(f64::from(quality))?.into(),
        Property::ExpectedFrameRate(fps) => cf::float64(fps)?.into(),
        Property::ColorPrimaries(name) => CFRetained::from(primaries(name)?),
        Property::TransferFunction(name) => CFRetained::from(transfer(name)?),
        Property::YCbCrMatrix(name) => CFRetained::from(matrix(name)?),
    })
}

/// `kVTProfileLevel_…_AutoLevel`.
fn profile_level(profile: ProfileLevel) -> &'static CFString {
    // SAFETY: reads VideoToolbox's exported constant profile values.
    unsafe {
        match profile {
            ProfileLevel::H264High => kVTProfileLevel_H264_High_AutoLevel,
            ProfileLevel::HevcMain => kVTProfileLevel_HEVC_Main_AutoLevel,
            ProfileLevel::HevcMain10 => kVTProfileLevel_HEVC_Main10_AutoLevel,
        }
    }
}

/// `kCVImageBufferColorPrimaries_…`: BT.601 has no primaries of its own (it is SMPTE C or
/// EBU 3213), and PQ and HLG are transfer functions.
fn primaries(name: ColorName) -> Result<&'static CFString, OsStatus> {
    // SAFETY: reads Core Video's exported constant colour names.
    unsafe {
        match name {
            ColorName::Itu709 => Ok(kCVImageBufferColorPrimaries_ITU_R_709_2),
            ColorName::Itu2020 => Ok(kCVImageBufferColorPrimaries_ITU_R_2020),
            ColorName::SmpteC => Ok(kCVImageBufferColorPrimaries_SMPTE_C),
            ColorName::Ebu3213 => Ok(kCVImageBufferColorPrimaries_EBU_3213),
            ColorName::Itu601 | ColorName::Pq | ColorName::Hlg => Err(kVTPropertyNotSupportedErr),
        }
    }
}

/// `kCVImageBufferTransferFunction_…`: the BT.709 curve also stands for SMPTE 170M (the
/// same function), which `properties.rs` already maps to `Itu709`.
fn transfer(name: ColorName) -> Result<&'static CFString, OsStatus> {
    // SAFETY: reads Core Video's exported constant colour names.
    unsafe {
        match name {
            ColorName::Itu709 => Ok(kCVImageBufferTransferFunction_ITU_R_709_2),
            ColorName::Itu2020 => Ok(kCVImageBufferTransferFunction_ITU_R_2020),
            ColorName::Pq => Ok(kCVImageBufferTransferFunction_SMPTE_ST_2084_PQ),
            ColorName::Hlg => Ok(kCVImageBufferTransferFunction_ITU_R_2100_HLG),
            ColorName::SmpteC | ColorName::Ebu3213 | ColorName::Itu601 => Err(kVTPropertyNotSupportedErr),
        }
    }
}

/// `kCVImageBufferYCbCrMatrix_…`: BT.601 serves both SMPTE C and EBU 3213 sources, but
/// those names are primaries, so only `Itu601` selects it.
fn matrix(name: ColorName) -> Result<&'static CFString, OsStatus> {
    // SAFETY: reads Core Video's exported constant colour names.
    unsafe {
        match name {
            ColorName::Itu709 => Ok(kCVImageBufferYCbCrMatrix_ITU_R_709_2),
            ColorName::Itu2020 => Ok(kCVImageBufferYCbCrMatrix_ITU_R_2020),
            ColorName::Itu601 => Ok(kCVImageBufferYCbCrMatrix_ITU_R_601_4),
            ColorName::SmpteC | ColorName::Ebu3213 | ColorName::Pq | ColorName::Hlg => Err(kVTPropertyNotSupportedErr),
        }
    }
}
