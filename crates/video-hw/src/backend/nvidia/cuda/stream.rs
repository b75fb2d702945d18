//! Streams and events: queued copies, waits with a nap before polling, device-to-device copies.

use std::fmt;
use std::ptr;

use super::super::sys::cuda::{
    CU_EVENT_DISABLE_TIMING, CU_STREAM_NON_BLOCKING, CUDA_ERROR_NOT_READY, CUevent, CUstream,
};
use super::*;
use crate::{Error, Result};

/// A CUDA stream (non-blocking with respect to the legacy default stream).
pub(crate) struct Stream {
    ctx: Context,
    raw: CUstream,
}

// SAFETY: stream handles may be used from any thread with their context current,
// which every method here arranges; the handle is never dereferenced in Rust.
unsafe impl Send for Stream {}
// SAFETY: as above; the driver serialises concurrent use of a stream.
unsafe impl Sync for Stream {}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream").field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

impl Stream {
    /// Creates a stream in `ctx`.
    pub(crate) fn new(ctx: &Context) -> Result<Stream> {
        let _current = ctx.push()?;
        let mut raw: CUstream = ptr::null_mut();
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuStreamCreate)(&mut raw, CU_STREAM_NON_BLOCKING) }, "cuStreamCreate")?;
        Ok(Stream { ctx: ctx.clone(), raw })
    }

    /// The raw `CUstream` (for `CUVIDPROCPARAMS::output_stream`, NVENC, …).
    pub(crate) fn raw(&self) -> CUstream {
        self.raw
    }

    /// The context the stream belongs to.
    pub(crate) fn context(&self) -> &Context {
        &self.ctx
    }

    /// Waits until all work queued on the stream is done.
    pub(crate) fn synchronize(&self) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: `raw` is a live stream of the current context.
        check(unsafe { (self.ctx.api().cuStreamSynchronize)(self.raw) }, "cuStreamSynchronize")
    }

    /// Makes later work on this stream wait for a raw event handle (a frame's ready event,
    /// recorded on any stream).
    ///
    /// # Safety
    ///
    /// `event` must be a live `CUevent`.
    pub(crate) unsafe fn wait_raw_event(&self, event: CUevent) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: the stream is live, the caller vouches for the event; flags must be 0.
        check(unsafe { (self.ctx.api().cuStreamWaitEvent)(self.raw, event, 0) }, "cuStreamWaitEvent")
    }

    /// Makes later work on this stream wait for `event` (recorded on any stream).
    pub(crate) fn wait_event(&self, event: &Event) -> Result<()> {
        // SAFETY: the event is live while borrowed.
        unsafe { self.wait_raw_event(event.raw) }
    }

    /// Queues a 2-D copy of `src` into `dst` (rows of `src.width_bytes` bytes, `dst_pitch`
    /// apart, starting at byte `dst_offset`) on this stream and returns at once.
    ///
    /// # Safety
    ///
    /// The copy runs after this call returns: until [`Stream::synchronize`] (or an
    /// event recorded after it) says it finished, `dst` must be neither read, written
    /// nor dropped. `src` must describe memory of this stream's context.
    pub(crate) unsafe fn copy_to_host_async(
        &self,
        src: DeviceRegion,
        dst: &mut PinnedHostBuffer,
        dst_offset: usize,
        dst_pitch: usize,
    ) -> Result<()> {
        let dst_slice = dst.as_mut_slice();
        let dst_slice = dst_slice
            .get_mut(dst_offset..)
            .ok_or_else(|| Error::invalid_input(format!("copy offset {dst_offset} past a host buffer")))?;
        let desc = copy_desc(src, dst_slice, dst_pitch)?;
        let _current = self.ctx.push()?;
        // SAFETY: `desc` was bounds-checked by `copy_desc` against `dst`, which is
        // page-locked (required for a truly asynchronous copy); the caller keeps it
        // alive and untouched until the stream has finished.
        check(unsafe { (self.ctx.api().cuMemcpy2DAsync_v2)(&desc, self.raw) }, "cuMemcpy2DAsync")
    }
}

impl Stream {
    /// Queues a 2-D device-to-device copy of `src` into `dst` (same row size and count)
    /// on this stream and returns at once.
    ///
    /// # Safety
    ///
    /// Both regions must be device memory of this stream's context that stays allocated
    /// until the copy has finished, and `dst` must not be in use by other work meanwhile.
    pub(crate) unsafe fn copy_device_async(&self, src: DeviceRegion, dst: DeviceRegion) -> Result<()> {
        let desc = device_copy_desc(src, dst)?;
        let _current = self.ctx.push()?;
        // SAFETY: the descriptor is fully initialised with sizes checked above; the
        // caller guarantees both regions are live device memory of this context.
        check(unsafe { (self.ctx.api().cuMemcpy2DAsync_v2)(&desc, self.raw) }, "cuMemcpy2DAsync")
    }
}

impl Stream {
    /// Queues a 2-D copy of host `src` (rows of `dst.width_bytes`, `src_pitch` apart) into
    /// device `dst` on this stream and returns. From pageable memory the driver stages the
    /// bytes before it returns, but the copy into `dst` may still run: wait on an event
    /// recorded after it before `dst` is read.
    ///
    /// # Safety
    ///
    /// `dst` must be device memory of this stream's context that stays allocated, and is
    /// used by no other work, until the copy has finished; `src` must stay alive and
    /// unchanged until then too (a page-locked `src` is read by the copy itself).
    pub(crate) unsafe fn copy_from_host_async(&self, src: &[u8], src_pitch: usize, dst: DeviceRegion) -> Result<()> {
        let desc = upload_desc(src, src_pitch, dst)?;
        let _current = self.ctx.push()?;
        // SAFETY: `desc` reads only inside `src` (checked above); the caller keeps `src`
        // and `dst` alive and untouched until the stream has run the copy.
        check(unsafe { (self.ctx.api().cuMemcpy2DAsync_v2)(&desc, self.raw) }, "cuMemcpy2DAsync")
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let (api, raw) = (self.ctx.api(), self.raw);
        // SAFETY: the stream is live and dropped exactly once; queued work completes
        // before the driver releases it.
        destroy_in(&self.ctx, "cuStreamDestroy", || unsafe { (api.cuStreamDestroy_v2)(raw) });
    }
}

/// A CUDA event without timing (cheap; used for ordering and completion polling).
pub(crate) struct Event {
    ctx: Context,
    raw: CUevent,
}

// SAFETY: event handles may be used from any thread with their context current, which
// every method here arranges; the handle is never dereferenced in Rust.
unsafe impl Send for Event {}
// SAFETY: as above; the driver serialises concurrent use of an event.
unsafe impl Sync for Event {}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

impl Event {
    /// Creates an event in `ctx`.
    pub(crate) fn new(ctx: &Context) -> Result<Event> {
        let _current = ctx.push()?;
        let mut raw: CUevent = ptr::null_mut();
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuEventCreate)(&mut raw, CU_EVENT_DISABLE_TIMING) }, "cuEventCreate")?;
        Ok(Event { ctx: ctx.clone(), raw })
    }

    /// The raw `CUevent`.
    pub(crate) fn raw(&self) -> CUevent {
        self.raw
    }

    /// Records the event at the current end of `stream`.
    pub(crate) fn record(&self, stream: &Stream) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: both handles are live.
        check(unsafe { (self.ctx.api().cuEventRecord)(self.raw, stream.raw) }, "cuEventRecord")
    }

    /// Waits until the work before the last `record` is done.
    pub(crate) fn synchronize(&self) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: the event is live.
        check(unsafe { (self.ctx.api().cuEventSynchronize)(self.raw) }, "cuEventSynchronize")
    }

    /// Waits at most `timeout` for the work before the last `record`: spins briefly
    /// (copies take microseconds), then sleeps in short steps. `Error::Timeout` when the
    /// device does not finish in time, so no wait on the GPU can hang the caller.
    pub(crate) fn wait_timeout(&self, timeout: std::time::Duration) -> Result<()> {
        let start = std::time::Instant::now();
        let mut nap = std::time::Duration::from_micros(5);
        let mut polls = 0u32;
        loop {
            if self.is_complete()? {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(Error::Timeout(timeout));
            }
            polls += 1;
            if polls < 4 {
                std::thread::yield_now();
            } else {
                // Back off: short copies finish within the first naps; long waits cost
                // little CPU (at most one poll per millisecond).
                std::thread::sleep(nap);
                nap = (nap * 2).min(std::time::Duration::from_millis(1));
            }
        }
    }

    /// Like [`Event::wait_timeout`], for work that usually takes about `nap`: if the
    /// first poll finds it running, sleeps `nap` at once, then polls with short naps. A
    /// copy that takes ~80 µs then costs one or two wake-ups instead of six or seven (each
    /// a syscall and a context switch: CPU time per decoded frame). Returns whether the
    /// work was done by the first poll after the nap (the nap was long enough), so the
    /// caller can tune it ([`next_nap`]).
    pub(crate) fn wait_after_nap(&self, timeout: std::time::Duration, nap: std::time::Duration) -> Result<bool> {
        if self.is_complete()? {
            return Ok(true);
        }
        if nap.is_zero() {
            self.wait_timeout(timeout)?;
            return Ok(false);
        }
        std::thread::sleep(nap);
        if self.is_complete()? {
            return Ok(true);
        }
        self.wait_timeout(timeout.saturating_sub(nap))?;
        Ok(false)
    }

    /// Whether the work before the last `record` is done, without blocking.
    pub(crate) fn is_complete(&self) -> Result<bool> {
        let _current = self.ctx.push()?;
        // SAFETY: the event is live.
        let r = unsafe { (self.ctx.api().cuEventQuery)(self.raw) };
        if r == CUDA_ERROR_NOT_READY {
            return Ok(false);
        }
        check(r, "cuEventQuery").map(|()| true)
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        let (api, raw) = (self.ctx.api(), self.raw);
        // SAFETY: the event is live and dropped exactly once.
        destroy_in(&self.ctx, "cuEventDestroy", || unsafe { (api.cuEventDestroy_v2)(raw) });
    }
}
