//! CUDA frames from an engine that decodes on the CPU.
//!
//! A session asked for CUDA output on a stream NVDEC cannot decode (AV1 on an H100 or H200,
//! whose NVDEC has no AV1; a GPU without NVDEC) still gives CUDA frames: a CPU engine
//! decodes into host memory in the format asked for, and each frame is copied into device
//! memory (a slot of the frame ring the thread produces into, else a buffer of this
//! session's pool, as NVDEC's own copies are). The caller's transforms then run on the GPU
//! as for NVDEC's frames. RGB formats are converted on the CPU before the upload: the CPU
//! conversion keeps 4:2:2 and 4:4:4 chroma whole and gives the same bytes as `device="cpu"`.
//!
//! The registry opens this wrapper ([`crate::registry`]) and says so: a WARN line and
//! `video_hw_fallback_total` when it is a fallback, and [`DecoderBackend::fallback`] for the
//! session's callers.

use std::time::Duration;

use super::cuda::CudaDriver;
use super::nvdec::output::CopyOut;
use crate::backend::DecoderBackend;
use crate::bitstream::access_unit::AccessUnit;
use crate::config::Output;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{DeviceApi, Frame, FrameData};

/// A CPU engine whose host frames are handed back as CUDA frames on one GPU.
pub(crate) struct HostUpload {
    inner: Box<dyn DecoderBackend>,
    copy: CopyOut,
    device_index: u32,
    gpu_name: String,
    /// Whether frames go to the GPU (`set_output` may switch to host frames and back).
    upload: bool,
    /// Why the session decodes on the CPU: None when the caller named the CPU engine.
    why: Option<String>,
}

/// Wraps `inner` (opened for host output in the format the caller asked for on the GPU)
/// so that its frames come out in CUDA memory of GPU `device_index`. `why`: the reason
/// the GPU's own decoder was not used, when this is a fallback. `Unsupported` without a
/// CUDA driver or that GPU.
pub(crate) fn open(
    inner: Box<dyn DecoderBackend>,
    device_index: u32,
    why: Option<String>,
) -> Result<Box<dyn DecoderBackend>> {
    let what = || format!("CUDA frames of {} (uploaded to GPU {device_index})", inner.engine());
    let driver = CudaDriver::get().map_err(|e| Error::unsupported(what(), e.to_string()))?;
    let count = driver.device_count()?;
    if device_index >= count {
        return Err(Error::unsupported(what(), format!("the CUDA driver lists {count} GPU(s)")));
    }
    let device = driver.device(device_index)?;
    let gpu_name = device.name()?;
    let ctx = device.primary_context()?;
    let copy = CopyOut::new(&ctx, device_index)?;
    Ok(Box::new(HostUpload { inner, copy, device_index, gpu_name, upload: true, why }))
}

impl HostUpload {
    /// The frame in device memory: host pixels are copied up; frames without pixels
    /// (unshown, metadata) pass as they are.
    fn up(&mut self, mut frame: Frame) -> Result<Frame> {
        if !self.upload {
            return Ok(frame);
        }
        if let FrameData::Host(host) = &frame.data {
            let cuda = self.copy.upload(host, frame.format, frame.width, frame.height)?;
            frame.data = FrameData::Device(cuda);
        }
        Ok(frame)
    }
}

impl DecoderBackend for HostUpload {
    fn engine(&self) -> Engine {
        self.inner.engine()
    }

    fn describe(&self) -> String {
        format!(
            "{} on the CPU, frames uploaded to GPU {} ({})",
            self.inner.describe(),
            self.device_index,
            self.gpu_name
        )
    }

    fn fallback(&self) -> Option<String> {
        self.why.clone()
    }

    fn decode(&mut self, au: &AccessUnit) -> Result<()> {
        self.inner.decode(au)
    }

    fn decode_headers_only(&mut self, au: &AccessUnit) -> Result<()> {
        self.inner.decode_headers_only(au)
    }

    fn decode_unshown(&mut self, au: &AccessUnit) -> Result<()> {
        self.inner.decode_unshown(au)
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        self.inner.try_reap()?.map(|f| self.up(f)).transpose()
    }

    fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Frame>> {
        self.inner.reap_timeout(timeout)?.map(|f| self.up(f)).transpose()
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        let frames = self.inner.flush()?;
        frames.into_iter().map(|f| self.up(f)).collect()
    }

    fn take_stream_error(&mut self) -> Option<Error> {
        self.inner.take_stream_error()
    }

    fn concealed(&self) -> u64 {
        self.inner.concealed()
    }

    fn left_out(&self) -> u64 {
        self.inner.left_out()
    }

    fn set_output(&mut self, output: Output, bounded_by_caller: bool) -> Result<()> {
        match output {
            Output::Device(DeviceApi::Cuda, f) => {
                self.inner.set_output(Output::Host(f), bounded_by_caller)?;
                self.copy.set_bounded_by_caller(bounded_by_caller);
                self.upload = true;
            }
            other => {
                self.inner.set_output(other, bounded_by_caller)?;
                self.upload = false;
            }
        }
        Ok(())
    }
}
