//! CUDA frames outside a decoder: the device memory of a frame ring's slots
//! ([`crate::pipeline::RingMemory::Cuda`]), device-to-device copies of a frame into a
//! slot, and downloading any CUDA frame of this crate to the host.
//!
//! Ring slots are pitched allocations (`cuMemAllocPitch`) in the primary context of
//! their GPU, the context NVDEC and NVENC sessions use, so an engine can write a slot
//! (NVDEC copy-out) or read it (NVENC staging) without any peer mapping.

use crate::gpu_memory::MemoryUse;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::cuda::{
    Context, CudaDriver, DeviceBuffer, DeviceRegion, Event, Stream, check, copy_device, copy_from_host, copy_to_host,
};
use super::sys::cuda::CUevent;
use crate::error::{Error, Result};
use crate::frame::memory::{DeviceAllocator, DeviceBlock};
use crate::frame::{DeviceApi, DeviceFrame, DeviceFrameOwner, HostFrame};
use crate::metrics::{CopyDirection, Stage, record_copy, record_stage};

/// The longest a device-to-device copy of one frame may take.
const COPY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reports a device-to-host copy of `bytes` that began at `start` (the `download` stage
/// and `video_hw_bytes_copied_total{direction="d2h"}` of the session on this thread).
pub(crate) fn downloaded(start: Instant, bytes: usize) {
    record_stage(Stage::Download, start.elapsed());
    record_copy(CopyDirection::DeviceToHost, bytes as u64);
}

/// Downloads CUDA frames of one context to host memory (tightly packed).
pub(crate) struct Downloader {
    ctx: Context,
}

impl Downloader {
    pub(crate) fn new(ctx: &Context) -> Downloader {
        Downloader { ctx: ctx.clone() }
    }
}

impl DeviceFrameOwner for Downloader {
    fn api(&self) -> DeviceApi {
        DeviceApi::Cuda
    }

    fn transform(
        &self,
        frame: &DeviceFrame,
        transform: &crate::pixels::transform::Transform,
        plan: &crate::pixels::transform::Plan,
    ) -> Result<DeviceFrame> {
        let out = super::gpu_transform::for_context(&self.ctx)?.run(transform, plan, frame)?;
        let owner: Arc<dyn DeviceFrameOwner> = Arc::new(Downloader::new(&self.ctx));
        Ok(super::gpu_transform::output_frame(out, plan, frame.device_index(), owner))
    }

    fn download(&self, frame: &DeviceFrame) -> Result<HostFrame> {
        let (w, h) = frame.size();
        let format = frame.format();
        let start = Instant::now();
        let mut host = HostFrame::new_packed(format, w, h);
        for i in 0..format.plane_count() {
            let layout = host.plane(i);
            let src = DeviceRegion {
                ptr: frame.plane_ptr(i).unwrap_or(0),
                pitch: frame.pitch(),
                width_bytes: layout.row_bytes,
                height: layout.rows,
            };
            let dst = &mut host.as_bytes_mut()[layout.offset..layout.offset + layout.row_bytes * layout.rows];
            copy_to_host(&self.ctx, src, dst, layout.row_bytes)?;
        }
        downloaded(start, host.as_bytes().len());
        Ok(host)
    }

    fn host_staging(&self) -> Result<Box<dyn crate::frame::staging::HostStaging>> {
        Ok(Box::new(super::nvdec::staging::Staging::new(&self.ctx)?))
    }

    fn upload(&self, frame: &DeviceFrame, host: &HostFrame) -> Result<()> {
        let (w, h) = frame.size();
        let format = frame.format();
        for (i, plane) in host.planes().iter().enumerate() {
            let (width_bytes, rows) = format.plane_size(i, w, h);
            let ptr = frame
                .plane_ptr(i)
                .ok_or_else(|| Error::invalid_input(format!("CUDA {format} frame without plane {i}")))?;
            let dst = DeviceRegion { ptr, pitch: frame.pitch(), width_bytes, height: rows };
            let src = host.as_bytes().get(plane.offset..).unwrap_or_default();
            copy_from_host(&self.ctx, src, plane.stride, dst)?;
        }
        Ok(())
    }
}

/// Bytes of device memory free on GPU `device` now (`None` without a CUDA driver or that
/// GPU): what a reader may hold frames in (`reader::read_ahead`).
pub(crate) fn free_memory(device: u32) -> Option<u64> {
    let ctx = CudaDriver::get().ok()?.device(device).ok()?.primary_context().ok()?;
    ctx.mem_info().ok().map(|m| m.free)
}

/// Device memory of GPU `device` for the slots of a frame ring. Errors:
/// `Unsupported` (with the loader's or the driver's reason) without a CUDA driver or
/// without that GPU.
pub(crate) fn ring_allocator(device: u32) -> Result<Arc<dyn DeviceAllocator>> {
    let what = || format!("device-memory frame ring on GPU {device}");
    let unsupported = |e: Error| match e {
        Error::Unsupported { why, .. } => Error::unsupported(what(), why),
        other => other,
    };
    let driver = CudaDriver::get().map_err(unsupported)?;
    let count = driver.device_count().map_err(unsupported)?;
    if device >= count {
        return Err(Error::unsupported(what(), format!("the CUDA driver lists {count} GPU(s)")));
    }
    let ctx = driver.device(device)?.primary_context()?;
    Ok(Arc::new(RingAllocator { owner: Arc::new(Downloader::new(&ctx)), ctx, device, copier: Mutex::new(None) }))
}

/// [`DeviceAllocator`] on a GPU's primary context.
struct RingAllocator {
    ctx: Context,
    device: u32,
    owner: Arc<dyn DeviceFrameOwner>,
    /// The stream and event of `copy_frame`, made on first use.
    copier: Mutex<Option<(Stream, Event)>>,
}

impl DeviceAllocator for RingAllocator {
    fn device_index(&self) -> u32 {
        self.device
    }

    fn alloc(&self, width_bytes: usize, rows: usize) -> Result<DeviceBlock> {
        let buf = DeviceBuffer::alloc_pitched(&self.ctx, width_bytes, rows, MemoryUse::Frames)?;
        Ok(DeviceBlock { ptr: buf.ptr(), pitch: buf.pitch(), width_bytes, rows, buffer: Some(Box::new(buf)) })
    }

    fn owner(&self) -> Arc<dyn DeviceFrameOwner> {
        self.owner.clone()
    }

    fn copy_frame(&self, src: &DeviceFrame, dst: &DeviceFrame) -> Result<()> {
        let mut copier = self.copier.lock().unwrap_or_else(|p| p.into_inner());
        if copier.is_none() {
            *copier = Some((Stream::new(&self.ctx)?, Event::new(&self.ctx)?));
        }
        let Some((stream, done)) = copier.as_ref() else { unreachable!("made above") };
        copy_frame_on(stream, done, src, dst)
    }

    fn alloc_delivered(&self, bytes: usize) -> Result<DeviceBlock> {
        let buf = DeviceBuffer::alloc(&self.ctx, bytes.max(1), MemoryUse::Delivered)?;
        Ok(DeviceBlock { ptr: buf.ptr(), pitch: bytes, width_bytes: bytes, rows: 1, buffer: Some(Box::new(buf)) })
    }

    fn copy_rows(&self, src: (u64, usize), dst: (u64, usize), row_bytes: usize, rows: usize) -> Result<()> {
        let region = |(ptr, pitch): (u64, usize)| DeviceRegion { ptr, pitch, width_bytes: row_bytes, height: rows };
        copy_device(&self.ctx, region(src), region(dst))
    }

    fn download_rows(&self, (ptr, pitch): (u64, usize), row_bytes: usize, rows: usize, out: &mut [u8]) -> Result<()> {
        copy_to_host(&self.ctx, DeviceRegion { ptr, pitch, width_bytes: row_bytes, height: rows }, out, row_bytes)
    }
}

/// Copies the picture of `src` into `dst` plane by plane on `stream`, after `src`'s
/// ready event, and waits (with `done`) until the copies finished. Both frames must be
/// device memory of `stream`'s context (this crate's CUDA frames on its GPU are).
fn copy_frame_on(stream: &Stream, done: &Event, src: &DeviceFrame, dst: &DeviceFrame) -> Result<()> {
    let format = src.format();
    let (width, height) = src.size();
    if (dst.format(), dst.size()) != (format, (width, height)) || src.device_index() != dst.device_index() {
        return Err(Error::invalid_input(format!(
            "device copy of a {format} {width}x{height} frame on GPU {} into a {} {}x{} one on GPU {}",
            src.device_index(),
            dst.format(),
            dst.size().0,
            dst.size().1,
            dst.device_index()
        )));
    }
    let mut planes = Vec::with_capacity(3);
    for i in 0..format.plane_count() {
        let (width_bytes, rows) = format.plane_size(i, width, height);
        let (Some(s), Some(d)) = (src.plane_ptr(i), dst.plane_ptr(i)) else {
            return Err(Error::invalid_input(format!("CUDA {format} frame without plane {i}")));
        };
        planes.push((
            DeviceRegion { ptr: s, pitch: src.pitch(), width_bytes, height: rows },
            DeviceRegion { ptr: d, pitch: dst.pitch(), width_bytes, height: rows },
        ));
    }
    if src.ready_event() != 0 {
        let api = CudaDriver::get()?.api();
        let _current = stream.context().push()?;
        // SAFETY: both handles are live CUDA objects of this process: our stream, and
        // the event the frame's producer recorded after writing it (kept alive by the
        // frame, which the caller borrows for this call).
        let r = unsafe { (api.cuStreamWaitEvent)(stream.raw(), src.ready_event() as CUevent, 0) };
        check(r, "cuStreamWaitEvent")?;
    }
    for (s, d) in planes {
        // SAFETY: `s` lies inside the source frame's allocation and `d` inside the
        // destination's (each plane's rows at the frame's own pitch; the copy wrapper
        // checks both rows fit their pitch), both device memory of this context that the
        // borrowed frames keep alive until the wait below; the destination is a slot
        // lent to the caller alone, so nothing else uses it meanwhile.
        unsafe { stream.copy_device_async(s, d)? };
    }
    done.record(stream)?;
    done.wait_timeout(COPY_TIMEOUT)
}
