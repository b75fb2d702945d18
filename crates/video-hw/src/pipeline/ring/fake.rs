//! Device memory without a GPU, for the tests of device-memory rings: "device
//! addresses" name host byte vectors, which copies and downloads read and write.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::codec::PixelFormat;
use crate::error::{Error, Result};
use crate::frame::memory::{DeviceAllocator, DeviceBlock, DeviceLayout};
use crate::frame::{DeviceApi, DeviceFrame, DeviceFrameOwner, HostFrame};

/// Allocations by base address.
type Memory = Arc<Mutex<BTreeMap<u64, Vec<u8>>>>;

/// A fake GPU.
pub(crate) struct FakeDevice {
    index: u32,
    memory: Memory,
    next: AtomicU64,
    /// Allocations made.
    pub(crate) allocs: AtomicUsize,
    /// Frames copied device to device.
    pub(crate) copies: AtomicUsize,
    /// Makes the next allocations fail.
    pub(crate) fail: AtomicBool,
}

/// Reads or writes `rows` rows of `width` bytes, `pitch` apart, at `ptr`.
fn access(memory: &Memory, ptr: u64, pitch: usize, width: usize, rows: usize, mut f: impl FnMut(usize, &mut [u8])) {
    let mut m = memory.lock().unwrap();
    let (&base, bytes) = m.range_mut(..=ptr).next_back().expect("a fake allocation");
    let at = (ptr - base) as usize;
    for r in 0..rows {
        f(r, &mut bytes[at + r * pitch..][..width]);
    }
}

impl FakeDevice {
    pub(crate) fn new(index: u32) -> Arc<FakeDevice> {
        Arc::new(FakeDevice {
            index,
            memory: Arc::default(),
            next: AtomicU64::new(0x7000_0000),
            allocs: AtomicUsize::new(0),
            copies: AtomicUsize::new(0),
            fail: AtomicBool::new(false),
        })
    }

    /// Writes the packed picture `pixels` into `frame`'s planes.
    pub(crate) fn fill(&self, frame: &DeviceFrame, pixels: &[u8]) {
        let (w, h) = frame.size();
        let mut at = 0;
        for i in 0..frame.format().plane_count() {
            let (width, rows) = frame.format().plane_size(i, w, h);
            let ptr = frame.plane_ptr(i).unwrap();
            access(&self.memory, ptr, frame.pitch(), width, rows, |r, row| {
                row.copy_from_slice(&pixels[at + r * width..][..width]);
            });
            at += width * rows;
        }
    }

    /// `frame`'s planes, packed.
    pub(crate) fn read(&self, frame: &DeviceFrame) -> Vec<u8> {
        read(&self.memory, frame)
    }

    /// A frame in fake device memory of no ring's (as an engine's own pool lends).
    pub(crate) fn loose_frame(self: &Arc<Self>, format: PixelFormat, width: u32, height: u32) -> DeviceFrame {
        let layout = DeviceLayout::of(format, width, height);
        let block = self.alloc(layout.width_bytes, layout.rows).unwrap();
        let memory = (block.ptr, block.pitch);
        DeviceFrame::stacked(Box::new(block), memory, self.index, format, (width, height), self.owner(), 0)
    }
}

fn read(memory: &Memory, frame: &DeviceFrame) -> Vec<u8> {
    let (w, h) = frame.size();
    let mut out = Vec::new();
    for i in 0..frame.format().plane_count() {
        let (width, rows) = frame.format().plane_size(i, w, h);
        access(memory, frame.plane_ptr(i).unwrap(), frame.pitch(), width, rows, |_, row| {
            out.extend_from_slice(row);
        });
    }
    out
}

struct Downloads(Memory);

impl DeviceFrameOwner for Downloads {
    fn api(&self) -> DeviceApi {
        DeviceApi::Cuda
    }

    fn download(&self, frame: &DeviceFrame) -> Result<HostFrame> {
        let (w, h) = frame.size();
        HostFrame::from_packed(frame.format(), w, h, read(&self.0, frame))
    }

    fn upload(&self, frame: &DeviceFrame, host: &HostFrame) -> Result<()> {
        for (i, plane) in host.planes().iter().enumerate() {
            let rows: Vec<&[u8]> = host.rows(i).collect();
            access(&self.0, frame.plane_ptr(i).unwrap(), frame.pitch(), plane.row_bytes, plane.rows, |r, row| {
                row.copy_from_slice(rows[r]);
            });
        }
        Ok(())
    }
}

impl DeviceAllocator for FakeDevice {
    fn device_index(&self) -> u32 {
        self.index
    }

    fn alloc(&self, width_bytes: usize, rows: usize) -> Result<DeviceBlock> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::backend("cuda", "CUDA_ERROR_OUT_OF_MEMORY", "fake"));
        }
        self.allocs.fetch_add(1, Ordering::SeqCst);
        let pitch = width_bytes.next_multiple_of(64);
        let len = pitch * rows;
        let ptr = self.next.fetch_add(len.next_multiple_of(4096) as u64 + 4096, Ordering::SeqCst);
        self.memory.lock().unwrap().insert(ptr, vec![0; len]);
        Ok(DeviceBlock { ptr, pitch, width_bytes, rows, buffer: None })
    }

    fn owner(&self) -> Arc<dyn DeviceFrameOwner> {
        Arc::new(Downloads(self.memory.clone()))
    }

    fn copy_frame(&self, src: &DeviceFrame, dst: &DeviceFrame) -> Result<()> {
        assert_eq!((src.format(), src.size()), (dst.format(), dst.size()));
        let pixels = self.read(src);
        self.fill(dst, &pixels);
        self.copies.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn alloc_delivered(&self, bytes: usize) -> Result<DeviceBlock> {
        let block = self.alloc(bytes.max(1), 1)?;
        Ok(DeviceBlock { pitch: bytes, width_bytes: bytes, ..block })
    }

    fn copy_rows(&self, src: (u64, usize), dst: (u64, usize), row_bytes: usize, rows: usize) -> Result<()> {
        let mut read = vec![0; row_bytes * rows];
        self.download_rows(src, row_bytes, rows, &mut read)?;
        access(&self.memory, dst.0, dst.1, row_bytes, rows, |r, row| {
            row.copy_from_slice(&read[r * row_bytes..][..row_bytes]);
        });
        Ok(())
    }

    fn download_rows(&self, (ptr, pitch): (u64, usize), row_bytes: usize, rows: usize, out: &mut [u8]) -> Result<()> {
        access(&self.memory, ptr, pitch, row_bytes, rows, |r, row| {
            out[r * row_bytes..][..row_bytes].copy_from_slice(row);
        });
        Ok(())
    }
}
