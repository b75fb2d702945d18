//! Video format descriptions: made from a stream's parameter sets for decoding, and read
//! back (parameter sets, NAL length size) from the samples an encoder emits.

use std::ffi::c_int;
use std::ptr::{self, NonNull};

use objc2_core_foundation::CFRetained;
use objc2_core_media::{
    CMFormatDescription, CMVideoFormatDescriptionCreateFromH264ParameterSets,
    CMVideoFormatDescriptionCreateFromHEVCParameterSets, CMVideoFormatDescriptionGetH264ParameterSetAtIndex,
    CMVideoFormatDescriptionGetHEVCParameterSetAtIndex, kCMFormatDescriptionError_AllocationFailed,
    kCMFormatDescriptionError_InvalidParameter, kCMVideoCodecType_H264, kCMVideoCodecType_HEVC,
};
use objc2_video_toolbox::{kVTVideoDecoderUnsupportedDataFormatErr, kVTVideoEncoderMalfunctionErr};

use crate::codec::Codec;

use super::super::api::{DecodeFormat, OsStatus};
use super::cf;

/// The signature shared by `CMVideoFormatDescriptionGetH264ParameterSetAtIndex` and
/// `CMVideoFormatDescriptionGetHEVCParameterSetAtIndex`.
type GetParameterSet = unsafe extern "C-unwind" fn(
    &CMFormatDescription,
    usize,
    *mut *const u8,
    *mut usize,
    *mut usize,
    *mut c_int,
) -> OsStatus;

/// `CMVideoFormatDescriptionCreateFromH264ParameterSets` (SPS… then PPS…) or
/// `…FromHEVCParameterSets` (VPS, SPS, PPS; no extensions), in the order given.
pub(super) fn description(format: &DecodeFormat) -> Result<CFRetained<CMFormatDescription>, OsStatus> {
    let sets = &format.parameter_sets;
    // Core Media reads each set through its pointer: an empty set (or none at all) would
    // hand it a dangling one, so refuse them here.
    if sets.is_empty() || sets.iter().any(Vec::is_empty) {
        return Err(kCMFormatDescriptionError_InvalidParameter);
    }
    let pointers: Vec<NonNull<u8>> = sets.iter().map(|set| NonNull::from(set.as_slice()).cast::<u8>()).collect();
    let sizes: Vec<usize> = sets.iter().map(Vec::len).collect();
    let pointers_ptr = NonNull::from(pointers.as_slice()).cast::<NonNull<u8>>();
    let sizes_ptr = NonNull::from(sizes.as_slice()).cast::<usize>();
    let nal_length = c_int::from(format.nal_length_size);
    let mut out: *const CMFormatDescription = ptr::null();
    let status = match format.codec {
        // SAFETY: `pointers` and `sizes` hold `sets.len()` entries describing live,
        // non-empty byte slices borrowed from `format` for the duration of the call (Core
        // Media copies them into the description); `out` is a valid out parameter.
        Codec::H264 => unsafe {
            CMVideoFormatDescriptionCreateFromH264ParameterSets(
                None,
                sets.len(),
                pointers_ptr,
                sizes_ptr,
                nal_length,
                NonNull::from(&mut out),
            )
        },
        // SAFETY: as above; the extensions dictionary is optional (NULL).
        Codec::Hevc => unsafe {
            CMVideoFormatDescriptionCreateFromHEVCParameterSets(
                None,
                sets.len(),
                pointers_ptr,
                sizes_ptr,
                nal_length,
                None,
                NonNull::from(&mut out),
            )
        },
        _ => return Err(kVTVideoDecoderUnsupportedDataFormatErr),
    };
    // SAFETY: a Create function's out parameter: NULL or a +1 reference we now own.
    unsafe { cf::owned(status, out, kCMFormatDescriptionError_AllocationFailed) }
}

/// The parameter sets an encoder's format description carries: the NAL length size, and
/// the sets themselves (VPS, SPS, PPS in the description's order) when `copy` is set.
pub(super) fn parameter_sets(description: &CMFormatDescription, copy: bool) -> Result<(Vec<Vec<u8>>, u8), OsStatus> {
    // SAFETY: a plain getter on a live format description.
    let subtype = unsafe { description.media_sub_type() };
    let get: GetParameterSet = if subtype == kCMVideoCodecType_H264 {
        CMVideoFormatDescriptionGetH264ParameterSetAtIndex
    } else if subtype == kCMVideoCodecType_HEVC {
        CMVideoFormatDescriptionGetHEVCParameterSetAtIndex
    } else {
        return Err(kVTVideoEncoderMalfunctionErr);
    };
    let mut count = 0usize;
    let mut nal_length: c_int = 0;
    // SAFETY: index 0 with NULL pointer/size outputs (documented as allowed) asks only for
    // the count and the NAL unit header length, written to our two live locals.
    let status = unsafe { get(description, 0, ptr::null_mut(), ptr::null_mut(), &raw mut count, &raw mut nal_length) };
    cf::check(status)?;
    let nal_length_size = u8::try_from(nal_length).map_err(|_| kVTVideoEncoderMalfunctionErr)?;
    let mut sets = Vec::new();
    if copy {
        for index in 0..count {
            let mut data: *const u8 = ptr::null();
            let mut size = 0usize;
            // SAFETY: `index` is below the count Core Media reported; the outputs are live
            // locals and the count/length outputs may be NULL.
            let status =
                unsafe { get(description, index, &raw mut data, &raw mut size, ptr::null_mut(), ptr::null_mut()) };
            cf::check(status)?;
            if data.is_null() {
                return Err(kVTVideoEncoderMalfunctionErr);
            }
            // SAFETY: Core Media returned `size` bytes of the description's own memory,
            // valid while the description is retained: the caller's borrow holds it
            // through this copy.
            sets.push(unsafe { std::slice::from_raw_parts(data, size) }.to_vec());
        }
    }
    Ok((sets, nal_length_size))
}
