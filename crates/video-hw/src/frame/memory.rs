//! The memory a pool lends a frame: host buffers (ordinary, or page-locked by a GPU
//! driver) and device allocations, and how a picture lies in one of those.
//!
//! Nothing here calls a driver, though page-locked host memory and device memory are the
//! NVIDIA backend's to make, and that backend sits above the frame types. The caller that
//! builds a pool hands the allocator in — the frame ring, in `pipeline`, which sits above
//! the backends and may use them — as a [`PinnedAlloc`] function for host slots and a
//! [`DeviceAllocator`] for device slots. The memory comes back behind a trait
//! ([`PinnedMemory`]) or as an opaque owner ([`DeviceBlock::allocation`]), and the backend
//! that writes into it by DMA downcasts it to its own type. So frames need nothing from
//! the code that allocates their memory, and the dependency points one way: backends and
//! pipelines know frames, frames know neither.

use std::any::Any;
use std::sync::Arc;

use super::{DeviceFrame, DeviceFrameOwner};
use crate::codec::PixelFormat;
use crate::error::Result;

/// Page-locked host memory made by an engine (the NVIDIA backend's `cuMemAllocHost`
/// buffer), zeroed at allocation and freed when dropped.
pub(crate) trait PinnedMemory: Send + Sync + 'static {
    /// The bytes.
    fn as_slice(&self) -> &[u8];

    /// The bytes, mutably.
    fn as_mut_slice(&mut self) -> &mut [u8];

    /// The buffer as its own type, for the engine that made it (to copy into it by DMA).
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Allocates `len` zeroed bytes of page-locked host memory, or `None` (no driver, or
/// the driver refused: the caller then uses ordinary memory).
pub(crate) type PinnedAlloc = fn(usize) -> Option<Box<dyn PinnedMemory>>;

/// Host memory for pixels: ordinary or page-locked (pinned by a GPU driver).
pub(crate) enum HostBuffer {
    /// Ordinary memory.
    Heap(Box<[u8]>),
    /// Page-locked memory (DMA to and from a GPU without a staging copy).
    Pinned(Box<dyn PinnedMemory>),
}

impl HostBuffer {
    /// `len` zeroed bytes: page-locked from `pinned` when it is given and it gives them,
    /// ordinary otherwise.
    pub(crate) fn zeroed(len: usize, pinned: Option<PinnedAlloc>) -> HostBuffer {
        if let Some(alloc) = pinned.filter(|_| len > 0)
            && let Some(p) = alloc(len)
        {
            return HostBuffer::Pinned(p);
        }
        HostBuffer::Heap(vec![0; len].into_boxed_slice())
    }

    /// Whether the memory is page-locked.
    pub(crate) fn is_pinned(&self) -> bool {
        matches!(self, HostBuffer::Pinned(_))
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            HostBuffer::Heap(b) => b,
            HostBuffer::Pinned(p) => p.as_slice(),
        }
    }

    /// The bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            HostBuffer::Heap(b) => b,
            HostBuffer::Pinned(p) => p.as_mut_slice(),
        }
    }

    /// Capacity in bytes.
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// The page-locked buffer as the type its engine made (`None` for ordinary memory or
    /// another type).
    pub(crate) fn pinned_mut<T: 'static>(&mut self) -> Option<&mut T> {
        match self {
            HostBuffer::Pinned(p) => p.as_any_mut().downcast_mut(),
            HostBuffer::Heap(_) => None,
        }
    }
}

/// One device allocation a ring lends: `rows` rows of at least `width_bytes` bytes,
/// `pitch` bytes apart, at device address `ptr`.
pub(crate) struct DeviceBlock {
    /// Device address (`CUdeviceptr`).
    pub(crate) ptr: u64,
    /// Bytes between rows.
    pub(crate) pitch: usize,
    /// Bytes per row asked for.
    pub(crate) width_bytes: usize,
    /// Rows.
    pub(crate) rows: usize,
    /// The allocation (the NVIDIA backend's CUDA `DeviceBuffer`), freed with the block;
    /// `None` only for the fake device memory of the tests (whose `ptr` is no device
    /// address: engines never write to it).
    pub(crate) buffer: Option<Box<dyn Any + Send + Sync>>,
}

impl DeviceBlock {
    /// The allocation as the type its allocator made (`None` for another type, or none).
    pub(crate) fn allocation<T: 'static>(&self) -> Option<&T> {
        self.buffer.as_ref()?.downcast_ref()
    }
}

/// Where a device-memory ring's buffers come from, and what it does with them: a trait so
/// that the ring logic is tested without a GPU (a fake in the tests; CUDA in
/// `backend/nvidia/device_frames.rs`).
pub(crate) trait DeviceAllocator: Send + Sync {
    /// The GPU the memory is on.
    fn device_index(&self) -> u32;

    /// `rows` rows of at least `width_bytes`, pitched.
    fn alloc(&self, width_bytes: usize, rows: usize) -> Result<DeviceBlock>;

    /// What downloads frames in this memory.
    fn owner(&self) -> Arc<dyn DeviceFrameOwner>;

    /// Copies the picture of `src` (a CUDA frame on the same GPU) into `dst` (same
    /// format and size), device to device, and waits until it is done (after the
    /// frame's ready event, if it has one). `Error::Timeout`: the copy may still run.
    fn copy_frame(&self, src: &DeviceFrame, dst: &DeviceFrame) -> Result<()>;

    /// `bytes` of linear memory handed to the caller for good
    /// ([`crate::device_array::DeviceArray`]: counted as delivered, never against a
    /// budget); `pitch` is `bytes`, one row.
    fn alloc_delivered(&self, bytes: usize) -> Result<DeviceBlock>;

    /// Copies `rows` rows of `row_bytes` bytes from `src` to `dst` (device addresses of
    /// this device, each with its pitch), device to device, and waits until it is done.
    fn copy_rows(&self, src: (u64, usize), dst: (u64, usize), row_bytes: usize, rows: usize) -> Result<()>;

    /// Copies `rows` rows of `row_bytes` bytes at `src` (a device address of this device
    /// and its pitch; memory of another library too) tightly packed into `out`, and waits.
    /// `out` holds `rows * row_bytes` bytes (checked by the caller).
    fn download_rows(&self, src: (u64, usize), row_bytes: usize, rows: usize, out: &mut [u8]) -> Result<()>;
}

/// How a `format` picture lies in one pitched device allocation: its planes one under
/// the other, sharing the pitch (NVDEC's NV12 layout: chroma right below luma).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceLayout {
    /// The widest row of any plane, in bytes.
    pub(crate) width_bytes: usize,
    /// Rows of all planes together.
    pub(crate) rows: usize,
    /// First row of each plane.
    pub(crate) plane_rows: [usize; 3],
    /// Planes.
    pub(crate) planes: usize,
}

impl DeviceLayout {
    pub(crate) fn of(format: PixelFormat, width: u32, height: u32) -> DeviceLayout {
        let planes = format.plane_count().min(3);
        let mut layout = DeviceLayout { width_bytes: 0, rows: 0, plane_rows: [0; 3], planes };
        for i in 0..planes {
            let (row_bytes, rows) = format.plane_size(i, width, height);
            layout.plane_rows[i] = layout.rows;
            layout.rows += rows;
            layout.width_bytes = layout.width_bytes.max(row_bytes);
        }
        layout
    }
}
