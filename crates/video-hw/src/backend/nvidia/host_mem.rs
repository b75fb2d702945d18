//! The allocator the frame ring hands its pool ([`crate::pipeline::FrameRing`]):
//! page-locked host memory from the CUDA driver where one is installed, so that frames in
//! a ring can be copied to and from a GPU by DMA without a staging copy; `None` without a
//! driver (the caller then uses ordinary memory).
//!
//! The memory belongs to the primary context of GPU 0 (retained for as long as any
//! buffer lives). It is page-locked for every context of that GPU; other GPUs see it as
//! ordinary memory.

use std::sync::OnceLock;

use super::cuda::{Context, CudaDriver, PinnedHostBuffer};
use crate::frame::memory::PinnedMemory;

/// The context pinned buffers are allocated in, or why there is none (remembered, so a
/// machine without a driver pays for the lookup once).
fn context() -> Option<&'static Context> {
    static CTX: OnceLock<Option<Context>> = OnceLock::new();
    CTX.get_or_init(|| {
        let driver = CudaDriver::get().ok()?;
        if driver.device_count().ok()? == 0 {
            return None;
        }
        match driver.device(0).and_then(|d| d.primary_context()) {
            Ok(ctx) => Some(ctx),
            Err(e) => {
                tracing::debug!(error = %e, "no CUDA context for page-locked frame buffers; using ordinary memory");
                None
            }
        }
    })
    .as_ref()
}

/// Whether page-locked memory can be had here (a CUDA driver and a GPU).
pub(crate) fn available() -> bool {
    context().is_some()
}

/// `len` zeroed bytes of page-locked host memory, or `None` when there is no driver or
/// the driver refused (the error is logged at debug level).
pub(crate) fn alloc(len: usize) -> Option<PinnedHostBuffer> {
    let ctx = context()?;
    match PinnedHostBuffer::new(ctx, len) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::debug!(error = %e, len, "page-locked allocation failed; using ordinary memory");
            None
        }
    }
}

/// How a ring slot's frame sees the buffer (its bytes), and how the NVDEC copy-out gets
/// it back as a `PinnedHostBuffer` to copy into by DMA.
impl PinnedMemory for PinnedHostBuffer {
    fn as_slice(&self) -> &[u8] {
        PinnedHostBuffer::as_slice(self)
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        PinnedHostBuffer::as_mut_slice(self)
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn falls_back_softly_or_pins() {
        match super::alloc(4096) {
            Some(b) => {
                assert!(super::available());
                assert_eq!(b.len(), 4096);
                assert!(b.as_slice().iter().all(|&x| x == 0));
            }
            None => assert!(!super::available() || std::env::var_os("VIDEO_HW_TEST_GPU").is_none()),
        }
    }
}
