//! Copying CUDA frames to host memory in the order they come, several copies running at
//! once: how a reader that keeps decoded frames in device memory hands each one to its
//! caller in host memory only when the caller takes it (`reader::read_ahead`).
//!
//! Why a trait here: the frame layer sits below the engines, and only the NVIDIA backend
//! can queue device-to-host copies; a CUDA frame's owner makes the staging for its GPU
//! ([`DeviceFrameOwner::host_staging`](super::DeviceFrameOwner::host_staging)).

use super::Frame;
use crate::codec::PixelFormat;
use crate::error::Result;

/// Copies queued CUDA frames to host memory and gives them back in the order queued.
pub(crate) trait HostStaging: Send {
    /// Queues the copy of `frame` (CUDA, from this staging's GPU) into host memory as
    /// `format`, and returns without waiting: NV12 or P010 as `Nv12` or `Yuv420p` (a P010
    /// frame gives `P010` or `Yuv420p10`), RGB24 or planar RGB as itself. The frame's
    /// device memory is kept until its copy is done.
    fn start(&mut self, frame: Frame, format: PixelFormat) -> Result<()>;

    /// Waits for the oldest queued copy and returns its frame, in host memory (`None`
    /// when nothing is queued).
    fn finish(&mut self) -> Result<Option<Frame>>;
}
