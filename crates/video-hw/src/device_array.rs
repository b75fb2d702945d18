//! Device memory a caller owns: a GPU buffer frames are packed into, one after another
//! (a batch of decoded frames on the GPU, as the Python package hands them out).

use crate::backend::nvidia::cuda::{CudaDriver, DeviceBuffer, DeviceRegion, copy_device, copy_to_host};
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};
use crate::gpu_memory::MemoryUse;

/// Linear device memory on one GPU, in its primary context (where NVDEC's frames are).
/// Freed when dropped.
#[derive(Debug)]
pub struct DeviceArray {
    buf: DeviceBuffer,
    device: u32,
    len: usize,
}

// SAFETY: the buffer is a device address and the context it belongs to; both may be
// used and freed from any thread (the driver's calls take the context explicitly).
unsafe impl Send for DeviceArray {}
// SAFETY: as above; `&DeviceArray` gives out only the address and copies that the
// driver serialises.
unsafe impl Sync for DeviceArray {}

impl DeviceArray {
    /// `bytes` of device memory on GPU `device`.
    pub fn new(device: u32, bytes: usize) -> Result<DeviceArray> {
        let ctx = CudaDriver::get()?.device(device)?.primary_context()?;
        Ok(DeviceArray { buf: DeviceBuffer::alloc(&ctx, bytes.max(1), MemoryUse::Delivered)?, device, len: bytes })
    }

    /// The device address of the first byte.
    pub fn ptr(&self) -> u64 {
        self.buf.ptr()
    }

    /// Bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty array.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The GPU it is on.
    pub fn device_index(&self) -> u32 {
        self.device
    }

    /// Bytes a frame takes tightly packed (rows of its format's row bytes, planes one
    /// after another).
    pub fn packed_size(frame: &Frame) -> usize {
        (0..frame.format.plane_count())
            .map(|i| {
                let (row, rows) = frame.format.plane_size(i, frame.width, frame.height);
                row * rows
            })
            .sum()
    }

    /// Copies `frame` (a CUDA frame of this GPU) tightly packed to byte `offset`, and waits
    /// for the copy. Returns the bytes written.
    pub fn put_packed(&self, offset: usize, frame: &Frame) -> Result<usize> {
        let FrameData::Cuda(cuda) = &frame.data else {
            return Err(Error::invalid_input("put_packed takes a CUDA frame"));
        };
        if cuda.device_index() != self.device {
            return Err(Error::invalid_input(format!(
                "a frame of GPU {} into memory of GPU {}",
                cuda.device_index(),
                self.device
            )));
        }
        let need = Self::packed_size(frame);
        if offset.checked_add(need).is_none_or(|end| end > self.len) {
            return Err(Error::invalid_input(format!("{need} bytes at {offset} do not fit {} bytes", self.len)));
        }
        let mut at = offset;
        for i in 0..frame.format.plane_count() {
            let (row, rows) = frame.format.plane_size(i, frame.width, frame.height);
            let src = cuda.plane_ptr(i).ok_or_else(|| Error::invalid_input(format!("frame without plane {i}")))?;
            let src = DeviceRegion { ptr: src, pitch: cuda.pitch(), width_bytes: row, height: rows };
            let dst =
                DeviceRegion { ptr: self.buf.ptr() + at as u64, pitch: row.max(1), width_bytes: row, height: rows };
            copy_device(self.buf.context(), src, dst)?;
            at += row * rows;
        }
        Ok(need)
    }
}

/// Copies `rows` rows of `row_bytes` bytes, `pitch` bytes apart from device address `ptr`
/// (memory of GPU `device`, such as another library's CUDA array), tightly packed into
/// `out`, and waits for the copy. The driver checks the device range; `out` must hold
/// `rows * row_bytes` bytes.
pub fn download(device: u32, ptr: u64, pitch: usize, row_bytes: usize, rows: usize, out: &mut [u8]) -> Result<()> {
    if row_bytes > pitch || out.len() < row_bytes.saturating_mul(rows) {
        return Err(Error::invalid_input(format!(
            "download of {rows} rows of {row_bytes} bytes ({pitch} apart) into {} bytes",
            out.len()
        )));
    }
    if rows == 0 || row_bytes == 0 {
        return Ok(());
    }
    let ctx = CudaDriver::get()?.device(device)?.primary_context()?;
    copy_to_host(&ctx, DeviceRegion { ptr, pitch, width_bytes: row_bytes, height: rows }, out, row_bytes)
}
