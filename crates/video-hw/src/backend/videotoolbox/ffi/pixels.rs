//! Pixel buffers: the attributes sessions ask theirs with, and copying planes out of a
//! decoded `CVPixelBuffer` and into one from an encoder's pool, under the base-address
//! lock Core Video requires for CPU access.

use std::ptr::NonNull;

use objc2_core_foundation::{CFDictionary, CFGetTypeID, CFRetained};
use objc2_core_video::{
    CVPixelBuffer, CVPixelBufferGetBaseAddressOfPlane, CVPixelBufferGetBytesPerRowOfPlane, CVPixelBufferGetHeight,
    CVPixelBufferGetHeightOfPlane, CVPixelBufferGetPixelFormatType, CVPixelBufferGetPlaneCount, CVPixelBufferGetTypeID,
    CVPixelBufferGetWidth, CVPixelBufferLockBaseAddress, CVPixelBufferLockFlags, CVPixelBufferUnlockBaseAddress,
    kCVPixelBufferHeightKey, kCVPixelBufferIOSurfacePropertiesKey, kCVPixelBufferPixelFormatTypeKey,
    kCVPixelBufferWidthKey, kCVPixelFormatType_420YpCbCr8BiPlanarFullRange,
    kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange, kCVPixelFormatType_420YpCbCr10BiPlanarFullRange,
    kCVPixelFormatType_420YpCbCr10BiPlanarVideoRange, kCVReturnInvalidArgument, kCVReturnInvalidPixelFormat,
    kCVReturnInvalidSize, kCVReturnSuccess,
};
use objc2_video_toolbox::kVTParameterErr;

use crate::pixels::planar::Layout;

use super::super::api::{InputPicture, OsStatus, Picture, VtPixels};
use super::cf;

/// Semi-planar 4:2:0: luma, then interleaved chroma.
const PLANES: usize = 2;

/// Pixel buffer attributes: the format, the size where given (an encoder's source buffers;
/// a decoder's are left at the picture's own size), and
/// `kCVPixelBufferIOSurfacePropertiesKey` (an empty dictionary) so that the buffers are
/// IOSurface-backed, which the hardware codecs read and write without a copy.
pub(super) fn attributes(pixels: VtPixels, size: Option<(u32, u32)>) -> Result<CFRetained<CFDictionary>, OsStatus> {
    let int = |value: u32| i32::try_from(value).map_err(|_| kVTParameterErr).and_then(cf::int32);
    // Core Video's pixel format numbers are OSTypes stored as SInt32 (all four of ours are
    // below 0x8000_0000).
    let format = int(pixels.four_cc())?;
    let surface = cf::dictionary(&[])?;
    // SAFETY: reads Core Video's exported constant keys (immutable CFStrings that live for
    // the whole process).
    let (format_key, width_key, height_key, surface_key) = unsafe {
        (
            kCVPixelBufferPixelFormatTypeKey,
            kCVPixelBufferWidthKey,
            kCVPixelBufferHeightKey,
            kCVPixelBufferIOSurfacePropertiesKey,
        )
    };
    match size {
        Some((width, height)) => {
            let (width, height) = (int(width)?, int(height)?);
            cf::dictionary(&[
                (format_key, &format),
                (width_key, &width),
                (height_key, &height),
                (surface_key, &surface),
            ])
        }
        None => cf::dictionary(&[(format_key, &format), (surface_key, &surface)]),
    }
}

/// A pixel buffer's base address, locked for CPU access until dropped (which unlocks it
/// with the same flags, as Core Video requires, on every path out).
struct Locked<'a> {
    /// The locked buffer.
    buffer: &'a CVPixelBuffer,
    /// The flags it was locked with (read-only or not), which unlocking must repeat.
    flags: CVPixelBufferLockFlags,
}

impl<'a> Locked<'a> {
    /// `CVPixelBufferLockBaseAddress`.
    fn new(buffer: &'a CVPixelBuffer, flags: CVPixelBufferLockFlags) -> Result<Self, OsStatus> {
        // SAFETY: `buffer` is a live pixel buffer; the lock is balanced by `Drop`.
        let status = unsafe { CVPixelBufferLockBaseAddress(buffer, flags) };
        if status == kCVReturnSuccess { Ok(Locked { buffer, flags }) } else { Err(status) }
    }

    /// Plane `index`'s base address, bytes per row and rows, checked: a buffer that is not
    /// two-plane 4:2:0, or a plane without memory, is an error.
    fn plane(&self, index: usize) -> Result<(NonNull<u8>, usize, usize), OsStatus> {
        if CVPixelBufferGetPlaneCount(self.buffer) != PLANES {
            return Err(kCVReturnInvalidPixelFormat);
        }
        let base = CVPixelBufferGetBaseAddressOfPlane(self.buffer, index);
        let base = NonNull::new(base.cast::<u8>()).ok_or(kCVReturnInvalidArgument)?;
        let stride = CVPixelBufferGetBytesPerRowOfPlane(self.buffer, index);
        let rows = CVPixelBufferGetHeightOfPlane(self.buffer, index);
        Ok((base, stride, rows))
    }

    /// Plane `index`'s memory, read-only: `bytes per row × rows` bytes, and the stride.
    fn read(&self, index: usize) -> Result<(&[u8], usize), OsStatus> {
        let (base, stride, rows) = self.plane(index)?;
        let len = stride.checked_mul(rows).ok_or(kCVReturnInvalidSize)?;
        // SAFETY: while the base address is locked, a plane's memory spans its bytes per
        // row times its height from its base address, and stays valid; the slice borrows
        // `self`, so it cannot outlive the lock.
        Ok((unsafe { std::slice::from_raw_parts(base.as_ptr(), len) }, stride))
    }

    /// Plane `index`'s memory, writable, with its stride and rows.
    fn write(&mut self, index: usize) -> Result<(&mut [u8], usize, usize), OsStatus> {
        if self.flags.contains(CVPixelBufferLockFlags::ReadOnly) {
            return Err(kVTParameterErr);
        }
        let (base, stride, rows) = self.plane(index)?;
        let len = stride.checked_mul(rows).ok_or(kCVReturnInvalidSize)?;
        // SAFETY: as in `read`; the lock is writable (checked above), the buffer came from
        // a pool and has no other user until it is handed to the encoder, and the
        // exclusive borrow of `self` keeps this the only slice of any plane.
        Ok((unsafe { std::slice::from_raw_parts_mut(base.as_ptr(), len) }, stride, rows))
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // An unlock failure leaves nothing to do here (the copy is already made or failed).
        // SAFETY: balances the successful lock in `new`, with the same flags.
        let _ = unsafe { CVPixelBufferUnlockBaseAddress(self.buffer, self.flags) };
    }
}

/// A decoded picture, copied out: each plane's `bytes per row × rows` bytes with its
/// stride, in the buffer's own layout (NV12 or P010).
pub(super) fn copy_out(buffer: &CVPixelBuffer) -> Result<Picture, OsStatus> {
    // An image buffer need not be a pixel buffer (the CVPixelBuffer calls below assume one).
    if CFGetTypeID(Some(buffer)) != CVPixelBufferGetTypeID() {
        return Err(kCVReturnInvalidPixelFormat);
    }
    let format = CVPixelBufferGetPixelFormatType(buffer);
    let layout = if [kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange, kCVPixelFormatType_420YpCbCr8BiPlanarFullRange]
        .contains(&format)
    {
        Layout::Nv12
    } else if [kCVPixelFormatType_420YpCbCr10BiPlanarVideoRange, kCVPixelFormatType_420YpCbCr10BiPlanarFullRange]
        .contains(&format)
    {
        Layout::P010
    } else {
        return Err(kCVReturnInvalidPixelFormat);
    };
    let width = u32::try_from(CVPixelBufferGetWidth(buffer)).map_err(|_| kCVReturnInvalidSize)?;
    let height = u32::try_from(CVPixelBufferGetHeight(buffer)).map_err(|_| kCVReturnInvalidSize)?;
    let lock = Locked::new(buffer, CVPixelBufferLockFlags::ReadOnly)?;
    let mut planes = Vec::with_capacity(PLANES);
    for index in 0..PLANES {
        let (bytes, stride) = lock.read(index)?;
        planes.push((bytes.to_vec(), stride));
    }
    Ok(Picture { layout, width, height, planes })
}

/// Copies `picture` into a pool buffer of `pixels`' format: per plane, as many rows as both
/// have, each row the picture's visible bytes (no more than either stride). A source plane
/// too short for those rows is refused rather than read past.
pub(super) fn copy_in(buffer: &CVPixelBuffer, picture: &InputPicture<'_>, pixels: VtPixels) -> Result<(), OsStatus> {
    let sample_bytes: usize = if pixels.ten_bit { 2 } else { 1 };
    let width = usize::try_from(picture.width).map_err(|_| kVTParameterErr)?;
    let height = usize::try_from(picture.height).map_err(|_| kVTParameterErr)?;
    // Luma: `width` samples by `height` rows; chroma: `width / 2` interleaved pairs (as wide
    // as `width` luma samples, rounded up) by `height / 2` rows, rounded up.
    let shapes = [(width, height), (width.div_ceil(2).saturating_mul(2), height.div_ceil(2))];
    let mut lock = Locked::new(buffer, CVPixelBufferLockFlags::empty())?;
    for (index, (&(source, source_stride), &(samples, source_rows))) in picture.planes.iter().zip(&shapes).enumerate() {
        let row_bytes = samples.checked_mul(sample_bytes).ok_or(kVTParameterErr)?;
        let (destination, stride, rows) = lock.write(index)?;
        let bytes = row_bytes.min(source_stride).min(stride);
        for row in 0..source_rows.min(rows) {
            let from = row.checked_mul(source_stride).ok_or(kVTParameterErr)?;
            let to = row.checked_mul(stride).ok_or(kVTParameterErr)?;
            let source_row = from.checked_add(bytes).and_then(|end| source.get(from..end)).ok_or(kVTParameterErr)?;
            let destination_row =
                to.checked_add(bytes).and_then(|end| destination.get_mut(to..end)).ok_or(kVTParameterErr)?;
            destination_row.copy_from_slice(source_row);
        }
    }
    Ok(())
}
