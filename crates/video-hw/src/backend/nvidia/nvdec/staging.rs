//! [`HostStaging`] on NVIDIA GPUs: CUDA frames of this crate (NV12 / P010, RGB) copied to
//! host memory by DMA on a stream of their own, with the planar conversions run on the GPU
//! first, into page-locked memory that becomes the host frame.
//!
//! Why: a reader that decodes GOPs ahead of its caller holds hundreds of frames. Held in
//! host memory, each was copied twice (DMA into a page-locked staging buffer, then by the
//! CPU into fresh memory) and faulted in: ~0.7 ms of CPU a 1080p frame and gigabytes of
//! resident memory (bench/results/host-default-20261122-2581d58.md). Held in device memory
//! instead, each frame is copied once, as the caller takes it, into page-locked buffers
//! that come back when the caller drops its frame. The copies are those of
//! [`HostCopies`]: the same kernels, slots and staging buffers as a session's own host
//! frames. (Two streams taking frames in turn were measured no faster than one.)

use std::collections::VecDeque;

use super::super::cuda::{Context, DeviceRegion, Stream};
use super::host_copy::{Dest, HostCopies, InFlight};
use super::output::{Crop, Surface};
use crate::codec::PixelFormat;
use crate::config::Output;
use crate::error::{Error, Result};
use crate::frame::staging::HostStaging;
use crate::frame::{DeviceFrame, Frame, FrameData};

/// The staging of one GPU's frames (its primary context).
pub(crate) struct Staging {
    stream: Stream,
    copies: HostCopies,
    /// Frames in the order queued: the frame without its pixels, and its copy.
    queue: VecDeque<(Frame, InFlight)>,
}

impl Staging {
    pub(crate) fn new(ctx: &Context) -> Result<Staging> {
        Ok(Staging { stream: Stream::new(ctx)?, copies: HostCopies::new(ctx), queue: VecDeque::new() })
    }

    /// A page-locked slot for the frame, else a staging buffer (slots turned off, a
    /// measurement, still let the copy run without waiting).
    fn destination(&mut self, format: PixelFormat, width: u32, height: u32) -> Result<Dest> {
        match self.copies.destination(format, width, height)? {
            Some(dest) => Ok(dest),
            None => self.copies.staging_buffer(format.frame_size(width, height)),
        }
    }
}

/// The mapped-surface view of a two-plane CUDA frame (luma, then chroma further on).
fn surface_of(frame: &DeviceFrame) -> Result<Surface> {
    let bytes_per_sample = match frame.format() {
        PixelFormat::Nv12 => 1,
        PixelFormat::P010 => 2,
        other => {
            return Err(Error::unsupported(format!("staging a CUDA {other} frame to the host"), "NV12 and P010 are"));
        }
    };
    let (Some(luma), Some(chroma)) = (frame.plane_ptr(0), frame.plane_ptr(1)) else {
        return Err(Error::invalid_input("a CUDA 4:2:0 frame without its chroma plane"));
    };
    let chroma_offset = chroma
        .checked_sub(luma)
        .ok_or_else(|| Error::invalid_input("a CUDA frame whose chroma lies before its luma"))?;
    Ok(Surface { ptr: luma, pitch: frame.pitch(), chroma_offset: chroma_offset as usize, bytes_per_sample })
}

impl HostStaging for Staging {
    fn start(&mut self, mut frame: Frame, format: PixelFormat) -> Result<()> {
        let FrameData::Device(cuda) = std::mem::replace(&mut frame.data, FrameData::None) else {
            return Err(Error::invalid_input("staging a frame that is not in CUDA memory"));
        };
        if cuda.ready_event() != 0 {
            // SAFETY: the event was recorded by the frame's producer and lives as long as
            // the frame, which the copy keeps until it is done.
            unsafe { self.stream.wait_raw_event(cuda.ready_event() as _)? };
        }
        let (width, height) = cuda.size();
        let flight = match cuda.format() {
            PixelFormat::Nv12 | PixelFormat::P010 => {
                let surface = surface_of(&cuda)?;
                let bit_depth = if surface.bytes_per_sample == 2 { 10 } else { 8 };
                let format = HostCopies::format(Output::Host(format), bit_depth)
                    .ok_or_else(|| Error::unsupported(format!("staging to host {format}"), "nv12 and yuv420p are"))?;
                let dest = self.destination(format, width, height)?;
                let crop = Crop { left: 0, top: 0, width, height };
                self.copies.start(&self.stream, (surface, Box::new(cuda)), crop, (format, bit_depth), dest)?
            }
            // RGB made on the GPU: its planes as they are.
            rgb @ (PixelFormat::Rgb24 | PixelFormat::RgbPlanar) if rgb == format => {
                let planes = (0..rgb.plane_count())
                    .map(|i| {
                        let (width_bytes, rows) = rgb.plane_size(i, width, height);
                        let ptr =
                            cuda.plane_ptr(i).ok_or_else(|| Error::invalid_input("a CUDA frame without a plane"))?;
                        Ok(DeviceRegion { ptr, pitch: cuda.pitch(), width_bytes, height: rows })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let dest = self.destination(rgb, width, height)?;
                self.copies.start_planes(&self.stream, Box::new(cuda), &planes, (rgb, (width, height)), dest)?
            }
            other => {
                return Err(Error::unsupported(
                    format!("staging a CUDA {other} frame to host {format}"),
                    "NV12 / P010 to nv12 or yuv420p, and RGB to the same RGB, are",
                ));
            }
        };
        frame.format = flight.format();
        self.queue.push_back((frame, flight));
        Ok(())
    }

    fn finish(&mut self) -> Result<Option<Frame>> {
        let Some((mut frame, flight)) = self.queue.pop_front() else { return Ok(None) };
        frame.data = FrameData::Host(flight.finish(&mut self.copies)?);
        Ok(Some(frame))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Copies still running write into memory the queue owns: let them finish first.
        // A copy that times out keeps its memory (see `InFlight::finish`).
        while let Some((_, flight)) = self.queue.pop_front() {
            if let Err(e) = flight.finish(&mut self.copies) {
                tracing::warn!("a host copy left running at drop: {e}");
            }
        }
    }
}
