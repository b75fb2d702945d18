//! The CUDA side of an encode session: the context NVENC is opened on (and made current
//! around NVENC calls), and the device surfaces CUDA frames are staged in.
//!
//! Why a CUDA frame is copied (device to device, no host memory involved) into a surface
//! the session owns instead of being registered where it lies: `Encoder::submit` only
//! borrows the frame, and NVENC reads its input after `nvEncEncodePicture` returns (and
//! keeps it for B-frame reordering and look-ahead). A decoder's frame goes back to its pool,
//! and may be overwritten or freed, as soon as the caller drops it; the session's own
//! surfaces stay untouched until their picture has been locked out. The copy is a few
//! microseconds of device bandwidth per frame. Each surface is registered with
//! `nvEncRegisterResource` once (cached by device pointer) and unregistered at close.

use crate::gpu_memory::MemoryUse;
use std::ffi::c_void;
use std::time::Duration;

use super::super::cuda::{Context, CudaDriver, CurrentGuard, DeviceBuffer, DeviceRegion, Event, Stream, check};
use super::super::sys::cuda::CUevent;
use crate::codec::PixelFormat;
use crate::error::{Error, Result};
use crate::frame::DeviceFrame;

/// How long staging one frame may take.
const COPY_TIMEOUT: Duration = Duration::from_secs(10);

/// A device surface NVENC encodes from: `rows` of `pitch` bytes at `ptr`.
pub(crate) struct Surface {
    /// Device address.
    pub(crate) ptr: u64,
    /// Bytes between rows.
    pub(crate) pitch: usize,
    /// The allocation (none for a fake device).
    _buf: Option<DeviceBuffer>,
}

/// Rows of a staged surface of `format` and `height` (luma, then chroma right below it,
/// which is where NVENC looks for the chroma of a registered CUDA pointer).
pub(crate) fn surface_rows(format: PixelFormat, height: u32) -> usize {
    let h = height as usize;
    match format {
        PixelFormat::Nv12 | PixelFormat::P010 => h + h.div_ceil(2),
        _ => h,
    }
}

/// The CUDA context of a real session.
pub(crate) struct CudaSide {
    ctx: Context,
    stream: Stream,
    done: Event,
    index: u32,
}

/// A session's device: a real CUDA context, or (in tests) the fake NVENC's.
pub(crate) enum Device {
    /// A CUDA context on a GPU.
    Cuda(CudaSide),
    /// The fake NVENC of the tests: no CUDA at all.
    #[cfg(test)]
    Fake(super::fake::FakeDevice),
}

impl Device {
    /// The device of GPU `index`'s primary context (the one NVDEC frames live in).
    pub(crate) fn cuda(ctx: Context, index: u32) -> Result<Device> {
        let stream = Stream::new(&ctx)?;
        let done = Event::new(&ctx)?;
        Ok(Device::Cuda(CudaSide { ctx, stream, done, index }))
    }

    /// The `device` of `nvEncOpenEncodeSessionEx`: the `CUcontext`.
    pub(crate) fn session_device(&self) -> *mut c_void {
        match self {
            Device::Cuda(c) => c.ctx.raw().cast::<c_void>(),
            #[cfg(test)]
            Device::Fake(f) => f.session_device(),
        }
    }

    /// The GPU index.
    pub(crate) fn index(&self) -> u32 {
        match self {
            Device::Cuda(c) => c.index,
            #[cfg(test)]
            Device::Fake(_) => 0,
        }
    }

    /// Makes the context current on this thread until the guard drops (NVENC calls on a
    /// CUDA session are made with its context current, as NVIDIA's samples do).
    pub(crate) fn enter(&self) -> Result<Option<CurrentGuard<'_>>> {
        match self {
            Device::Cuda(c) => c.ctx.push().map(Some),
            #[cfg(test)]
            Device::Fake(_) => Ok(None),
        }
    }

    /// A surface for frames of `format` and size.
    pub(crate) fn alloc(&self, format: PixelFormat, width: u32, height: u32) -> Result<Surface> {
        let width_bytes = format.plane_size(0, width, height).0;
        let rows = surface_rows(format, height);
        match self {
            Device::Cuda(c) => {
                let buf = DeviceBuffer::alloc_pitched(&c.ctx, width_bytes, rows, MemoryUse::Encoders)?;
                Ok(Surface { ptr: buf.ptr(), pitch: buf.pitch(), _buf: Some(buf) })
            }
            #[cfg(test)]
            Device::Fake(f) => {
                let (ptr, pitch) = f.alloc(width_bytes, rows);
                Ok(Surface { ptr, pitch, _buf: None })
            }
        }
    }

    /// Copies `frame` into `dst` on the device and waits for the copy (after waiting for
    /// the frame's ready event, if it has one).
    pub(crate) fn stage(&self, frame: &DeviceFrame, dst: &Surface) -> Result<()> {
        let (width, height) = frame.size();
        let format = frame.format();
        let plane = |i: usize| -> Result<(DeviceRegion, DeviceRegion)> {
            let (width_bytes, rows) = format.plane_size(i, width, height);
            let src = frame
                .plane_ptr(i)
                .ok_or_else(|| Error::invalid_input(format!("CUDA {format} frame without plane {i}")))?;
            let dst_at = if i == 0 { dst.ptr } else { dst.ptr + (dst.pitch * height as usize) as u64 };
            Ok((
                DeviceRegion { ptr: src, pitch: frame.pitch(), width_bytes, height: rows },
                DeviceRegion { ptr: dst_at, pitch: dst.pitch, width_bytes, height: rows },
            ))
        };
        let planes = match format {
            PixelFormat::Nv12 | PixelFormat::P010 => vec![plane(0)?, plane(1)?],
            PixelFormat::Bgra => vec![plane(0)?],
            other => {
                return Err(Error::unsupported(
                    format!("CUDA {other} input with nvenc"),
                    "NVENC takes CUDA frames in nv12, p010 or bgra",
                ));
            }
        };
        match self {
            Device::Cuda(c) => {
                let _current = c.ctx.push()?;
                if frame.ready_event() != 0 {
                    let api = CudaDriver::get()?.api();
                    // SAFETY: both handles are live CUDA objects of this process: our
                    // stream, and the event the frame's producer recorded after writing it
                    // (kept alive by the frame, which the caller borrows for this call).
                    let r = unsafe { (api.cuStreamWaitEvent)(c.stream.raw(), frame.ready_event() as CUevent, 0) };
                    check(r, "cuStreamWaitEvent")?;
                }
                for (src, dst) in planes {
                    // SAFETY: `src` lies inside the frame's allocation (its own size and
                    // pitch), which the borrowed frame keeps alive until the wait below;
                    // `dst` lies inside the session's surface, which is not in use by
                    // NVENC (its slot is free) and outlives the copy.
                    unsafe { c.stream.copy_device_async(src, dst)? };
                }
                c.done.record(&c.stream)?;
                c.done.wait_timeout(COPY_TIMEOUT)
            }
            #[cfg(test)]
            Device::Fake(f) => {
                for (src, dst) in planes {
                    f.copy(src, dst);
                }
                Ok(())
            }
        }
    }
}

/// Checks that a CUDA frame can be staged for a session on GPU `device_index`.
pub(crate) fn check_cuda_frame(frame: &DeviceFrame, device_index: u32) -> Result<()> {
    if frame.device_index() != device_index {
        return Err(Error::invalid_input(format!(
            "CUDA frame on GPU {}, the encoder runs on GPU {device_index}",
            frame.device_index()
        )));
    }
    let (w, _) = frame.size();
    let row = frame.format().plane_size(0, w, 1).0;
    if frame.pitch() < row {
        return Err(Error::invalid_input(format!("CUDA frame pitch {} below its row of {row} bytes", frame.pitch())));
    }
    Ok(())
}
