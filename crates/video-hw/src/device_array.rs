//! Device memory a caller owns: a GPU buffer frames are packed into, one after another
//! (a batch of decoded frames on the GPU, as the Python package hands them out).
//!
//! The memory and its copies come from the device hooks of the engine whose frames are in
//! CUDA memory (its `DeviceAllocator`), so this layer names no vendor API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::frame::memory::{DeviceAllocator, DeviceBlock};
use crate::frame::{Frame, FrameData};

/// Linear device memory on one GPU, in its primary context (where NVDEC's frames are).
/// Freed when dropped.
pub struct DeviceArray {
    block: DeviceBlock,
    memory: Arc<dyn DeviceAllocator>,
    len: usize,
}

impl std::fmt::Debug for DeviceArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceArray")
            .field("device", &self.memory.device_index())
            .field("ptr", &format_args!("{:#x}", self.block.ptr))
            .field("len", &self.len)
            .finish()
    }
}

/// The allocator of GPU `device`, made once per device and process (making one retains
/// the device's primary context; an encoder's per-frame download must not pay that).
fn memory_of(device: u32) -> Result<Arc<dyn DeviceAllocator>> {
    static MADE: OnceLock<Mutex<HashMap<u32, Arc<dyn DeviceAllocator>>>> = OnceLock::new();
    let mut made = MADE.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(memory) = made.get(&device) {
        return Ok(memory.clone());
    }
    let hooks = crate::registry::device_hooks().ok_or_else(|| {
        Error::unsupported(format!("device memory on GPU {device}"), "no engine of this build has CUDA frames")
    })?;
    let memory = (hooks.allocator)(device)?;
    made.insert(device, memory.clone());
    Ok(memory)
}

impl DeviceArray {
    /// `bytes` of device memory on GPU `device`.
    pub fn new(device: u32, bytes: usize) -> Result<DeviceArray> {
        DeviceArray::in_memory_of(memory_of(device)?, bytes)
    }

    /// `bytes` from `memory` (a fake device's in the tests).
    pub(crate) fn in_memory_of(memory: Arc<dyn DeviceAllocator>, bytes: usize) -> Result<DeviceArray> {
        Ok(DeviceArray { block: memory.alloc_delivered(bytes)?, memory, len: bytes })
    }

    /// The device address of the first byte.
    pub fn ptr(&self) -> u64 {
        self.block.ptr
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
        self.memory.device_index()
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

    /// Copies `frame` (a device frame of this GPU) tightly packed to byte `offset`, and
    /// waits for the copy. Returns the bytes written.
    pub fn put_packed(&self, offset: usize, frame: &Frame) -> Result<usize> {
        let FrameData::Device(device) = &frame.data else {
            return Err(Error::invalid_input("put_packed takes a device frame"));
        };
        if device.device_index() != self.device_index() {
            return Err(Error::invalid_input(format!(
                "a frame of GPU {} into memory of GPU {}",
                device.device_index(),
                self.device_index()
            )));
        }
        let need = Self::packed_size(frame);
        if offset.checked_add(need).is_none_or(|end| end > self.len) {
            return Err(Error::invalid_input(format!("{need} bytes at {offset} do not fit {} bytes", self.len)));
        }
        let mut at = offset;
        for i in 0..frame.format.plane_count() {
            let (row, rows) = frame.format.plane_size(i, frame.width, frame.height);
            let src = device.plane_ptr(i).ok_or_else(|| Error::invalid_input(format!("frame without plane {i}")))?;
            self.memory.copy_rows((src, device.pitch()), (self.block.ptr + at as u64, row.max(1)), row, rows)?;
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
    memory_of(device)?.download_rows((ptr, pitch), row_bytes, rows, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PixelFormat;
    use crate::frame::Frame;
    use crate::pipeline::ring::fake::FakeDevice;

    /// A frame in fake device memory with every byte numbered, packed into an array at an
    /// offset, reads back as the frame's packed planes: the rows leave their pitch behind.
    #[test]
    fn frames_go_into_the_array_packed_at_their_offset() {
        let device = FakeDevice::new(0);
        let (format, width, height) = (PixelFormat::Nv12, 6, 4);
        let pixels: Vec<u8> = (0..format.frame_size(width, height) as u32).map(|i| i as u8 + 1).collect();
        let frame = device.loose_frame(format, width, height);
        device.fill(&frame, &pixels);
        let frame = Frame::device(format, width, height, frame);
        let array = DeviceArray::in_memory_of(device.clone(), 100).unwrap();
        assert_eq!(DeviceArray::packed_size(&frame), pixels.len());
        assert_eq!(array.put_packed(10, &frame).unwrap(), pixels.len());
        let mut back = vec![0; 100];
        device.download_rows((array.ptr(), 100), 100, 1, &mut back).unwrap();
        assert_eq!(&back[10..10 + pixels.len()], &pixels[..]);
        assert!(back[..10].iter().all(|&b| b == 0) && back[10 + pixels.len()..].iter().all(|&b| b == 0));
        // Past the end, a host frame, a frame of another GPU: refused, nothing written.
        assert!(array.put_packed(100 - pixels.len() + 1, &frame).is_err());
        let host = Frame::host(format, width, height, crate::frame::HostFrame::new_packed(format, width, height));
        assert!(array.put_packed(0, &host).is_err());
        let other = FakeDevice::new(1);
        let elsewhere = Frame::device(format, width, height, other.loose_frame(format, width, height));
        assert!(array.put_packed(0, &elsewhere).unwrap_err().to_string().contains("GPU 1"));
    }
}
