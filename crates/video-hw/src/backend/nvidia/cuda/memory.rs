//! Device and host memory: 2-D regions and copies, pitched device buffers, page-locked host
//! buffers.

use std::ffi::c_void;
use std::fmt;
use std::ptr::{self, NonNull};

use super::super::sys::cuda::{CU_MEMORYTYPE_DEVICE, CU_MEMORYTYPE_HOST, CUDA_MEMCPY2D, CUdeviceptr};
use super::*;
use crate::gpu_memory::{self, Charge, MemoryUse};
use crate::{Error, Result};

/// A 2-D region of device memory: `height` rows of `width_bytes`, `pitch` bytes apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeviceRegion {
    /// Device address of the first byte of the first row.
    pub(crate) ptr: CUdeviceptr,
    /// Distance between rows in bytes.
    pub(crate) pitch: usize,
    /// Bytes per row to copy.
    pub(crate) width_bytes: usize,
    /// Number of rows.
    pub(crate) height: usize,
}

/// Checks a 2-D copy between `device` and a host buffer of `host_len` bytes whose rows
/// are `host_pitch` apart: each row fits both pitches (`(source, destination)` pitch, for
/// the message) and every row lies inside the host buffer.
pub(crate) fn check_host_rows(
    device: &DeviceRegion,
    host_len: usize,
    host_pitch: usize,
    pitches: (usize, usize),
) -> Result<()> {
    if device.width_bytes > device.pitch || device.width_bytes > host_pitch {
        return Err(Error::invalid_input(format!(
            "2-D copy of {}-byte rows with source pitch {} and destination pitch {}",
            device.width_bytes, pitches.0, pitches.1
        )));
    }
    let needed = match device.height {
        0 => 0,
        h => (h - 1)
            .checked_mul(host_pitch)
            .and_then(|n| n.checked_add(device.width_bytes))
            .ok_or_else(|| Error::invalid_input("2-D copy size overflows"))?,
    };
    if needed > host_len {
        return Err(Error::invalid_input(format!("2-D copy needs {needed} bytes, the host buffer has {host_len}")));
    }
    Ok(())
}

/// A `CUDA_MEMCPY2D` from device `src` into host `dst` after checking that the rows fit
/// inside `dst`.
pub(crate) fn copy_desc(src: DeviceRegion, dst: &mut [u8], dst_pitch: usize) -> Result<CUDA_MEMCPY2D> {
    check_host_rows(&src, dst.len(), dst_pitch, (src.pitch, dst_pitch))?;
    Ok(CUDA_MEMCPY2D {
        srcMemoryType: CU_MEMORYTYPE_DEVICE,
        srcDevice: src.ptr,
        srcPitch: src.pitch,
        dstMemoryType: CU_MEMORYTYPE_HOST,
        dstHost: dst.as_mut_ptr().cast::<c_void>(),
        dstPitch: dst_pitch,
        WidthInBytes: src.width_bytes,
        Height: src.height,
        ..CUDA_MEMCPY2D::default()
    })
}

/// A `CUDA_MEMCPY2D` from host `src` (rows `src_pitch` apart) into device `dst` after
/// checking that the rows lie inside `src` (the twin of [`copy_desc`]).
pub(crate) fn upload_desc(src: &[u8], src_pitch: usize, dst: DeviceRegion) -> Result<CUDA_MEMCPY2D> {
    check_host_rows(&dst, src.len(), src_pitch, (src_pitch, dst.pitch))?;
    Ok(CUDA_MEMCPY2D {
        srcMemoryType: CU_MEMORYTYPE_HOST,
        srcHost: src.as_ptr().cast::<c_void>(),
        srcPitch: src_pitch,
        dstMemoryType: CU_MEMORYTYPE_DEVICE,
        dstDevice: dst.ptr,
        dstPitch: dst.pitch,
        WidthInBytes: dst.width_bytes,
        Height: dst.height,
        ..CUDA_MEMCPY2D::default()
    })
}

/// Copies `src` into `dst` (rows `dst_pitch` apart) and waits for the copy. Device
/// addresses are the driver's to validate; the host side is bounds-checked here.
pub(crate) fn copy_to_host(ctx: &Context, src: DeviceRegion, dst: &mut [u8], dst_pitch: usize) -> Result<()> {
    let desc = copy_desc(src, dst, dst_pitch)?;
    let _current = ctx.push()?;
    // SAFETY: `desc` writes only inside `dst` (checked by `copy_desc`), which the
    // exclusive borrow keeps alive for this synchronous call.
    check(unsafe { (ctx.api().cuMemcpy2D_v2)(&desc) }, "cuMemcpy2D")
}

/// Copies host `src` (rows of `dst.width_bytes`, `src_pitch` apart) into device `dst`
/// and waits for the copy. The host side is bounds-checked here; device addresses are
/// the driver's to validate.
pub(crate) fn copy_from_host(ctx: &Context, src: &[u8], src_pitch: usize, dst: DeviceRegion) -> Result<()> {
    let desc = upload_desc(src, src_pitch, dst)?;
    let _current = ctx.push()?;
    // SAFETY: `desc` reads only inside `src` (checked above), which the borrow keeps
    // alive for this synchronous call.
    check(unsafe { (ctx.api().cuMemcpy2D_v2)(&desc) }, "cuMemcpy2D")
}

/// The descriptor of a 2-D device-to-device copy of `src` into `dst`, whose row size and
/// count must agree (and fit their pitches).
pub(crate) fn device_copy_desc(src: DeviceRegion, dst: DeviceRegion) -> Result<CUDA_MEMCPY2D> {
    if src.width_bytes != dst.width_bytes
        || src.height != dst.height
        || src.width_bytes > src.pitch
        || dst.width_bytes > dst.pitch
    {
        return Err(Error::invalid_input(format!(
            "device copy of {}x{} into {}x{} (pitches {} / {})",
            src.width_bytes, src.height, dst.width_bytes, dst.height, src.pitch, dst.pitch
        )));
    }
    Ok(CUDA_MEMCPY2D {
        srcMemoryType: CU_MEMORYTYPE_DEVICE,
        srcDevice: src.ptr,
        srcPitch: src.pitch,
        dstMemoryType: CU_MEMORYTYPE_DEVICE,
        dstDevice: dst.ptr,
        dstPitch: dst.pitch,
        WidthInBytes: src.width_bytes,
        Height: src.height,
        ..CUDA_MEMCPY2D::default()
    })
}

/// Copies device `src` into device `dst` (the same row count and row bytes) and waits
/// for the copy. Addresses are the driver's to validate; the regions' shapes are checked.
pub(crate) fn copy_device(ctx: &Context, src: DeviceRegion, dst: DeviceRegion) -> Result<()> {
    let desc = device_copy_desc(src, dst)?;
    let _current = ctx.push()?;
    // SAFETY: device to device; the driver validates both ranges against its allocations.
    check(unsafe { (ctx.api().cuMemcpy2D_v2)(&desc) }, "cuMemcpy2D")
}

/// Device memory: `height` rows of at least `width_bytes`, `pitch` bytes apart (a
/// linear allocation is one row). Freed on drop. Counted in [`crate::gpu_memory`] under
/// the use it was made for while it lives.
pub(crate) struct DeviceBuffer {
    ctx: Context,
    ptr: CUdeviceptr,
    pitch: usize,
    width_bytes: usize,
    height: usize,
    charge: Charge,
}

impl fmt::Debug for DeviceBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceBuffer")
            .field("pitch", &self.pitch)
            .field("width_bytes", &self.width_bytes)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl DeviceBuffer {
    /// Allocates `bytes` of linear device memory for `use_`.
    pub(crate) fn alloc(ctx: &Context, bytes: usize, use_: MemoryUse) -> Result<DeviceBuffer> {
        if bytes == 0 {
            return Err(Error::invalid_input("zero-sized device allocation"));
        }
        let _current = ctx.push()?;
        let mut ptr: CUdeviceptr = 0;
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuMemAlloc_v2)(&mut ptr, bytes) }, "cuMemAlloc")?;
        let charge = gpu_memory::charge(ctx.device().ordinal(), use_, bytes as u64);
        Ok(DeviceBuffer { ctx: ctx.clone(), ptr, pitch: bytes, width_bytes: bytes, height: 1, charge })
    }

    /// Allocates `height` rows of `width_bytes` for `use_` with the pitch the driver picks
    /// for fast 2-D access (what NVDEC output copies and NVENC input want).
    pub(crate) fn alloc_pitched(
        ctx: &Context,
        width_bytes: usize,
        height: usize,
        use_: MemoryUse,
    ) -> Result<DeviceBuffer> {
        if width_bytes == 0 || height == 0 {
            return Err(Error::invalid_input(format!("zero-sized pitched allocation {width_bytes}x{height}")));
        }
        let _current = ctx.push()?;
        let (mut ptr, mut pitch): (CUdeviceptr, usize) = (0, 0);
        // SAFETY: both out-pointers are live locals; 16 is a valid element size (the
        // largest access the kernels make), which sets the pitch alignment.
        let r = super::super::call_times::ALLOC
            .time(|| unsafe { (ctx.api().cuMemAllocPitch_v2)(&mut ptr, &mut pitch, width_bytes, height, 16) });
        check(r, "cuMemAllocPitch")?;
        let charge = gpu_memory::charge(ctx.device().ordinal(), use_, (pitch * height) as u64);
        Ok(DeviceBuffer { ctx: ctx.clone(), ptr, pitch, width_bytes, height, charge })
    }

    /// The device address.
    pub(crate) fn ptr(&self) -> CUdeviceptr {
        self.ptr
    }

    /// The context the memory was allocated in.
    pub(crate) fn context(&self) -> &Context {
        &self.ctx
    }

    /// Bytes between rows.
    pub(crate) fn pitch(&self) -> usize {
        self.pitch
    }

    /// Bytes per row asked for.
    pub(crate) fn width_bytes(&self) -> usize {
        self.width_bytes
    }

    /// Number of rows.
    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// The whole buffer as a [`DeviceRegion`].
    pub(crate) fn region(&self) -> DeviceRegion {
        DeviceRegion { ptr: self.ptr, pitch: self.pitch, width_bytes: self.width_bytes, height: self.height }
    }

    /// Copies the buffer into `dst` (rows `dst_pitch` apart) and waits.
    pub(crate) fn copy_to_host(&self, dst: &mut [u8], dst_pitch: usize) -> Result<()> {
        copy_to_host(&self.ctx, self.region(), dst, dst_pitch)
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        let (api, ptr) = (self.ctx.api(), self.ptr);
        // SAFETY: the allocation is live and freed exactly once.
        destroy_in(&self.ctx, "cuMemFree", || unsafe { (api.cuMemFree_v2)(ptr) });
    }
}

/// Page-locked host memory (fast, truly asynchronous device↔host copies). Zeroed at
/// allocation; freed on drop.
pub(crate) struct PinnedHostBuffer {
    ctx: Context,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the buffer owns its allocation exclusively (like a `Box<[u8]>`); access goes
// through `&self`/`&mut self`, so the usual borrow rules make sharing sound.
unsafe impl Send for PinnedHostBuffer {}
// SAFETY: as above: `&PinnedHostBuffer` only gives out `&[u8]`.
unsafe impl Sync for PinnedHostBuffer {}

impl fmt::Debug for PinnedHostBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedHostBuffer").field("len", &self.len).finish_non_exhaustive()
    }
}

impl PinnedHostBuffer {
    /// Allocates `len` bytes of page-locked memory, zeroed.
    pub(crate) fn new(ctx: &Context, len: usize) -> Result<PinnedHostBuffer> {
        if len == 0 {
            return Err(Error::invalid_input("zero-sized pinned host allocation"));
        }
        let _current = ctx.push()?;
        let mut raw: *mut c_void = ptr::null_mut();
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuMemAllocHost_v2)(&mut raw, len) }, "cuMemAllocHost")?;
        let ptr = NonNull::new(raw.cast::<u8>())
            .ok_or_else(|| Error::backend("cuda", "CUDA_ERROR_OUT_OF_MEMORY", "cuMemAllocHost returned null"))?;
        // SAFETY: the driver just returned `len` writable bytes at `ptr`; zeroing them
        // makes every later `&[u8]` view read initialised memory.
        unsafe { ptr::write_bytes(ptr.as_ptr(), 0, len) };
        Ok(PinnedHostBuffer { ctx: ctx.clone(), ptr, len })
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty (never: zero-sized buffers are refused).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` initialised bytes owned by `self` for its lifetime.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for PinnedHostBuffer {
    fn drop(&mut self) {
        let (api, p) = (self.ctx.api(), self.ptr.as_ptr().cast::<c_void>());
        // SAFETY: the allocation is live and freed exactly once; no slice of it
        // outlives `self`.
        destroy_in(&self.ctx, "cuMemFreeHost", || unsafe { (api.cuMemFreeHost)(p) });
    }
}
