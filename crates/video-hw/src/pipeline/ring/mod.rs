//! The frame ring: a bounded queue of frames plus a fixed set of reusable frame buffers.
//!
//! A producer (capture, network, a decoder) takes a buffer with
//! [`FrameRing::acquire`], fills it and hands it on with [`FrameRing::push`]; the
//! consumer (an encoder) takes frames with [`FrameRing::pop`] and drops them when done,
//! which returns their buffer to the ring. The producer blocks when every buffer is
//! taken or the queue is full, the consumer when the queue is empty; every wait has an
//! optional timeout and ends at once when the ring is closed. In steady state nothing is
//! allocated per frame: the ring owns at most [`slots`](FrameRing::slots) buffers and
//! reuses them (a buffer too small for a new frame size is replaced, once).
//!
//! What the buffers are ([`RingConfig::memory`]):
//!
//! - [`RingMemory::Auto`] (the default): page-locked host memory when a CUDA driver is
//!   installed, so a GPU engine can copy them by DMA; ordinary memory otherwise.
//!   [`RingMemory::Pageable`]: always ordinary memory. Taken with [`FrameRing::acquire`].
//! - [`RingMemory::Cuda`]: device memory of one GPU, pitched allocations in its primary
//!   context (the one NVDEC and NVENC sessions use). Taken with
//!   [`FrameRing::acquire_cuda`] as a [`Frame`] in CUDA memory whose drop gives the
//!   buffer back; the same waiting, timeouts, closing, reuse and figures as host
//!   buffers. A [`DecodePipeline`](super::DecodePipeline) with NVDEC CUDA output uses
//!   such a ring and NVDEC writes its slots directly, so the device memory decoded frames
//!   wait in is bounded by the ring. Without a CUDA driver or that GPU the ring is not
//!   made: [`Error::Unsupported`], with the reason.
//!
//! ```
//! use std::time::Duration;
//! use video_hw::pipeline::FrameRing;
//! use video_hw::{Frame, PixelFormat};
//!
//! let ring = FrameRing::new(4)?;
//! let consumer = {
//!     let ring = ring.clone();
//!     std::thread::spawn(move || {
//!         let mut n = 0;
//!         while let Some(frame) = ring.pop(None)? {
//!             assert_eq!(frame.pts, Some(n));
//!             n += 1; // dropping `frame` gives its buffer back to the ring
//!         }
//!         Ok::<_, video_hw::Error>(n)
//!     })
//! };
//! for i in 0..100 {
//!     let pixels = ring.acquire(PixelFormat::Nv12, 64, 32, Some(Duration::from_secs(5)))?;
//!     let mut frame = Frame::host(PixelFormat::Nv12, 64, 32, pixels);
//!     frame.pts = Some(i);
//!     ring.push(frame, None)?; // blocks while the consumer is 4 frames behind
//! }
//! ring.close(); // end of stream: the consumer drains what is queued, then sees `None`
//! assert_eq!(consumer.join().unwrap()?, 100);
//! assert!(ring.stats().allocations <= ring.slots() as u64);
//! # Ok::<(), video_hw::Error>(())
//! ```
//!
//! A device-memory ring between a producer and a consumer of CUDA frames:
//!
//! ```no_run
//! use video_hw::frame::HostFrame;
//! use video_hw::pipeline::{FrameRing, RingConfig, RingMemory};
//! use video_hw::PixelFormat;
//!
//! let ring = FrameRing::with_config(RingConfig::new(4).memory(RingMemory::Cuda { device: 0 }))?;
//! let picture = HostFrame::new_packed(PixelFormat::Nv12, 1920, 1080); // or a kernel of yours writes the slot
//! for i in 0..100 {
//!     let mut frame = ring.acquire_cuda(PixelFormat::Nv12, 1920, 1080, None)?; // waits while all 6 are lent
//!     frame.cuda_data_mut().expect("device memory").upload(&picture)?;
//!     frame.pts = Some(i);
//!     ring.push(frame, None)?;
//!     let frame = ring.pop(None)?.expect("a frame"); // elsewhere: a consumer thread, an encode pipeline
//!     let cuda = frame.cuda_data().expect("device memory");
//!     let _ = (cuda.plane_ptr(0), cuda.pitch()); // read it on the GPU; dropping it gives the slot back
//! }
//! assert!(ring.stats().allocations <= ring.slots() as u64); // no cuMemAlloc per frame
//! # Ok::<(), video_hw::Error>(())
//! ```
//!
//! The ring is two parts: the bounded queue of frames (`ring/queue.rs`) and the buffers
//! it lends, a pool of at most `slots` buffers generic over the slot memory
//! (`frame/pool.rs`, beside the frames whose storage they are, because engines take
//! their output frames from it without knowing of pipelines). The ring hands the pool its
//! allocators: page-locked host memory and device buffers (a small allocator trait) from
//! the device hooks of the engine whose frames are in device memory (the registry's
//! `device_hooks`: CUDA's, in `backend/nvidia/`), a fake device in the tests.
//!
//! Locking is `parking_lot`'s `Mutex` and `Condvar`: one short critical section per
//! operation, timed waits, and no poisoning (a panicking thread cannot wedge the other
//! end of the ring).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::codec::PixelFormat;
use crate::config::FrameOptions;
use crate::error::{Error, Result};
use crate::frame::memory::DeviceAllocator;
use crate::frame::pool::FrameSlots;
use crate::frame::{Frame, FrameData, HostFrame};

mod coalesce;
mod queue;
pub(crate) use coalesce::Coalescer;
pub(crate) use queue::{Queue, register, wake_all};

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

/// The most frames a ring may queue.
pub const MAX_CAPACITY: usize = 1024;

/// What memory a ring's buffers are.
///
/// ```
/// use video_hw::pipeline::{FrameRing, RingConfig, RingMemory};
/// // Host memory: frames come from `acquire`.
/// let host = FrameRing::with_config(RingConfig::new(4).memory(RingMemory::Pageable))?;
/// assert_eq!(host.memory(), RingMemory::Pageable);
/// // Device memory needs a CUDA driver and the GPU: without them, a typed error.
/// match FrameRing::with_config(RingConfig::new(4).memory(RingMemory::Cuda { device: 0 })) {
///     Ok(ring) => assert_eq!(ring.stats().device, Some(0)),
///     Err(e) => assert!(matches!(e, video_hw::Error::Unsupported { .. }), "{e}"),
/// }
/// # Ok::<(), video_hw::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RingMemory {
    /// Host memory: page-locked (pinned) when a CUDA driver and GPU are present, ordinary
    /// memory otherwise. In [`PipelineOptions`](super::PipelineOptions), `Auto` also
    /// means: device memory ([`Cuda`](Self::Cuda)) for a decode pipeline whose NVDEC
    /// decoder outputs CUDA frames.
    #[default]
    Auto,
    /// Host memory, always ordinary (pageable).
    Pageable,
    /// Device memory of CUDA GPU `device` (pitched allocations in its primary context,
    /// the one the NVIDIA engines use): the ring lends CUDA frames
    /// ([`FrameRing::acquire_cuda`]) instead of host buffers.
    Cuda {
        /// CUDA device index.
        device: u32,
    },
}

/// The former name of [`RingMemory`], from when a ring only had host memory.
pub type HostMemory = RingMemory;

/// How to build a [`FrameRing`].
///
/// ```
/// use video_hw::pipeline::{FrameRing, RingConfig, RingMemory};
/// let ring = FrameRing::with_config(RingConfig::new(8).slots(12).memory(RingMemory::Pageable).name("capture"))?;
/// assert_eq!((ring.capacity(), ring.slots()), (8, 12));
/// # Ok::<(), video_hw::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingConfig {
    /// Frames the queue holds before `push` blocks (1..=[`MAX_CAPACITY`]).
    pub capacity: usize,
    /// Reusable buffers (≥ capacity); default capacity + 2: one being written by the
    /// producer and one held by the consumer while the queue is full.
    pub slots: usize,
    /// What memory the buffers are.
    pub memory: RingMemory,
    /// Name in errors, logs and the `queue` label of `video_hw_queue_depth`.
    pub name: String,
}

impl RingConfig {
    /// A ring of `capacity` frames, `capacity + 2` buffers, [`RingMemory::Auto`].
    pub fn new(capacity: usize) -> Self {
        RingConfig { capacity, slots: capacity.saturating_add(2), memory: RingMemory::Auto, name: "ring".into() }
    }

    /// Sets the number of reusable buffers.
    pub fn slots(mut self, slots: usize) -> Self {
        self.slots = slots;
        self
    }

    /// Sets the buffer memory.
    pub fn memory(mut self, memory: RingMemory) -> Self {
        self.memory = memory;
        self
    }

    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    fn validate(&self) -> Result<()> {
        if self.capacity == 0 || self.capacity > MAX_CAPACITY {
            return Err(Error::invalid_input(format!("ring capacity {} (1..={MAX_CAPACITY})", self.capacity)));
        }
        if self.slots < self.capacity || self.slots > 2 * MAX_CAPACITY {
            return Err(Error::invalid_input(format!(
                "ring of {} frames with {} buffers (at least one buffer per frame, at most {})",
                self.capacity,
                self.slots,
                2 * MAX_CAPACITY
            )));
        }
        Ok(())
    }
}

/// Figures of a ring (or of a pipeline's queue) so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Frames the queue holds before `push` blocks.
    pub capacity: usize,
    /// Reusable buffers.
    pub slots: usize,
    /// Frames queued now.
    pub depth: usize,
    /// Most frames ever queued at once.
    pub peak: usize,
    /// Buffers lent out now (queued or held by producer or consumer).
    pub in_use: usize,
    /// Frames pushed.
    pub pushed: u64,
    /// Frames popped.
    pub popped: u64,
    /// Buffer allocations (at most `slots`, plus one per buffer outgrown by a size change).
    pub allocations: u64,
    /// Whether the buffers are page-locked host memory.
    pub pinned: bool,
    /// The GPU whose memory the buffers are, for a device-memory ring
    /// ([`RingMemory::Cuda`]).
    pub device: Option<u32>,
    /// Device-memory rings: CUDA frames made elsewhere (an engine's own buffer, taken
    /// while every slot was lent) that a pipeline copied into a slot on their way in,
    /// device to device, so that what waits in the ring is always ring memory.
    pub adopted: u64,
    /// Times the producer had to wait (full queue or no free buffer), and for how long.
    pub producer_waits: u64,
    /// Total time the producer waited.
    pub producer_wait: Duration,
    /// Times the consumer had to wait (empty queue), and for how long.
    pub consumer_waits: u64,
    /// Total time the consumer waited.
    pub consumer_wait: Duration,
}

struct RingInner {
    queue: Queue<(Frame, FrameOptions)>,
    memory: RingMemory,
    /// Shared with the engines of a pipeline thread producing into the ring
    /// ([`OutputScope`](crate::frame::output::OutputScope)).
    slots: Arc<FrameSlots>,
}

/// A bounded queue of frames with a fixed set of reusable buffers (page-locked host
/// memory where possible, or device memory); see the [module documentation](self).
/// Cloning gives another handle to the same ring (one for the producer, one for the
/// consumer).
#[derive(Clone)]
pub struct FrameRing {
    inner: Arc<RingInner>,
}

impl std::fmt::Debug for FrameRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameRing")
            .field("name", &self.inner.queue.name())
            .field("memory", &self.inner.memory)
            .field("capacity", &self.capacity())
            .field("slots", &self.slots())
            .field("depth", &self.depth())
            .finish()
    }
}

impl FrameRing {
    /// A ring of `capacity` frames (see [`RingConfig::new`]).
    pub fn new(capacity: usize) -> Result<FrameRing> {
        FrameRing::with_config(RingConfig::new(capacity))
    }

    /// A ring as `config` says. Buffers are allocated on first use, at the size asked for.
    ///
    /// Errors: [`Error::InvalidInput`] for a bad capacity or slot count;
    /// for [`RingMemory::Cuda`], [`Error::Unsupported`] (with the reason) when there is
    /// no CUDA driver or no such GPU.
    pub fn with_config(config: RingConfig) -> Result<FrameRing> {
        config.validate()?;
        if let RingMemory::Cuda { device } = config.memory {
            let hooks = crate::registry::device_hooks().ok_or_else(|| {
                Error::unsupported(
                    format!("device-memory frame ring on GPU {device}"),
                    "no engine of this build has device frames",
                )
            })?;
            let alloc = (hooks.allocator)(device)?;
            return FrameRing::with_allocator(config, alloc);
        }
        let pin = crate::registry::device_hooks().filter(|_| config.memory == RingMemory::Auto).map(|h| h.pinned_host);
        let slots = FrameSlots::host(&config.name, config.slots, pin);
        Ok(FrameRing::build(config, slots))
    }

    /// A device-memory ring whose buffers come from `alloc` (the CUDA allocator, or a
    /// fake one in tests).
    pub(crate) fn with_allocator(config: RingConfig, alloc: Arc<dyn DeviceAllocator>) -> Result<FrameRing> {
        config.validate()?;
        let config = RingConfig { memory: RingMemory::Cuda { device: alloc.device_index() }, ..config };
        let slots = FrameSlots::device(&config.name, config.slots, alloc);
        Ok(FrameRing::build(config, slots))
    }

    fn build(config: RingConfig, slots: FrameSlots) -> FrameRing {
        FrameRing {
            inner: Arc::new(RingInner {
                queue: Queue::new(config.name, config.capacity),
                memory: config.memory,
                slots: Arc::new(slots),
            }),
        }
    }

    /// A buffer for a tightly packed `format` picture of `width` x `height`, waiting up
    /// to `timeout` (forever for `None`) while every buffer is lent out. Its contents are
    /// unspecified (an earlier frame's pixels). Wrap it with [`Frame::host`] and
    /// [`push`](Self::push) it; dropping it instead gives the buffer back.
    ///
    /// Errors: [`Error::Timeout`], [`Error::Closed`] once the ring is closed or
    /// cancelled, [`Error::InvalidInput`] for a zero or absurd size, or for a
    /// device-memory ring (use [`acquire_cuda`](Self::acquire_cuda)).
    pub fn acquire(
        &self,
        format: PixelFormat,
        width: u32,
        height: u32,
        timeout: Option<Duration>,
    ) -> Result<HostFrame> {
        let frame = self.inner.slots.acquire_host(format, width, height, Some(timeout))?;
        frame.ok_or(Error::Timeout(Duration::ZERO))
    }

    /// Like [`acquire`](Self::acquire) but never waits: `Ok(None)` when every buffer is
    /// lent out.
    pub fn try_acquire(&self, format: PixelFormat, width: u32, height: u32) -> Result<Option<HostFrame>> {
        self.inner.slots.acquire_host(format, width, height, None)
    }

    /// A device buffer of a [`RingMemory::Cuda`] ring for a `format` picture of `width` x
    /// `height`, as a frame in CUDA memory ([`Frame::cuda_data`]), waiting up to
    /// `timeout` (forever for `None`) while every buffer is lent out.
    ///
    /// The planes lie one under the other in one pitched allocation
    /// ([`DeviceFrame::plane_ptr`](crate::frame::DeviceFrame::plane_ptr),
    /// [`DeviceFrame::pitch`](crate::frame::DeviceFrame::pitch)); their contents are
    /// unspecified (an earlier frame's pixels). Write them from CUDA code of your own, finish that
    /// work (synchronise your stream), set the frame's `pts`, and
    /// [`push`](Self::push) it. Dropping the frame — here, or after whoever pops it is
    /// done — gives the buffer back; nothing is allocated per frame in steady state.
    ///
    /// Errors: as [`acquire`](Self::acquire); [`Error::InvalidInput`] for a host ring;
    /// the driver's error when a first allocation fails.
    ///
    /// ```no_run
    /// use video_hw::pipeline::{FrameRing, RingConfig, RingMemory};
    /// use video_hw::PixelFormat;
    ///
    /// let ring = FrameRing::with_config(RingConfig::new(4).memory(RingMemory::Cuda { device: 0 }))?;
    /// let mut frame = ring.acquire_cuda(PixelFormat::Nv12, 1920, 1080, None)?;
    /// let cuda = frame.cuda_data().expect("device memory");
    /// let (luma, chroma, pitch) = (cuda.plane_ptr(0).unwrap(), cuda.plane_ptr(1).unwrap(), cuda.pitch());
    /// // … a kernel of yours writes the picture at `luma` / `chroma`, `pitch` bytes a row …
    /// # let _ = (luma, chroma, pitch);
    /// frame.pts = Some(0);
    /// ring.push(frame, None)?;
    /// # Ok::<(), video_hw::Error>(())
    /// ```
    pub fn acquire_cuda(
        &self,
        format: PixelFormat,
        width: u32,
        height: u32,
        timeout: Option<Duration>,
    ) -> Result<Frame> {
        let cuda = self.inner.slots.device_slots()?.lease(format, width, height, Some(timeout))?;
        let cuda = cuda.ok_or(Error::Timeout(Duration::ZERO))?;
        Ok(Frame::device(format, width, height, cuda))
    }

    /// Like [`acquire_cuda`](Self::acquire_cuda) but never waits: `Ok(None)` when every
    /// buffer is lent out.
    pub fn try_acquire_cuda(&self, format: PixelFormat, width: u32, height: u32) -> Result<Option<Frame>> {
        let cuda = self.inner.slots.device_slots()?.lease(format, width, height, None)?;
        Ok(cuda.map(|c| Frame::device(format, width, height, c)))
    }

    /// `frame`, in a slot of this ring: a CUDA frame on this device-memory ring's GPU
    /// that is not in one of its slots is copied (device to device) into one, waiting up
    /// to `timeout` for a free slot, and its own buffer is dropped. Any other frame is
    /// returned as it is. Pipelines pass what an engine made outside the ring (while
    /// every slot was lent) through this, so the device memory frames wait in is bounded
    /// by the ring.
    ///
    /// `before_waiting` runs first if no slot is free at once (a worker holding output
    /// back wakes its consumer then, who may be the one to free a slot).
    pub(crate) fn adopt_with(
        &self,
        frame: Frame,
        timeout: Option<Duration>,
        before_waiting: impl FnOnce(),
    ) -> Result<Frame> {
        let FrameSlots::Device(d) = &*self.inner.slots else { return Ok(frame) };
        let FrameData::Device(src) = &frame.data else { return Ok(frame) };
        if src.device_index() != d.alloc.device_index() || d.owns(src) {
            return Ok(frame);
        }
        let (width, height) = src.size();
        let format = src.format();
        let copy = match d.lease(format, width, height, None)? {
            Some(slot) => slot,
            None => {
                before_waiting();
                d.lease(format, width, height, Some(timeout))?.ok_or(Error::Timeout(Duration::ZERO))?
            }
        };
        match d.alloc.copy_frame(src, &copy) {
            Ok(()) => {}
            Err(e @ Error::Timeout(_)) => {
                // The copy may still be writing the slot: never lend it again.
                std::mem::forget(copy);
                return Err(e);
            }
            Err(e) => return Err(e),
        }
        d.adopted.fetch_add(1, Ordering::Relaxed);
        Ok(Frame { data: FrameData::Device(copy), ..frame })
    }

    /// [`adopt_with`](Self::adopt_with) with nothing to do before waiting.
    #[cfg(test)]
    pub(crate) fn adopt(&self, frame: Frame, timeout: Option<Duration>) -> Result<Frame> {
        self.adopt_with(frame, timeout, || {})
    }

    /// Queues `frame`, waiting up to `timeout` (forever for `None`) while the queue is
    /// full. On error the frame is dropped (a ring buffer goes back to the ring).
    /// Any frame may be pushed, ring-backed or not.
    pub fn push(&self, frame: Frame, timeout: Option<Duration>) -> Result<()> {
        self.push_with(frame, FrameOptions::default(), timeout)
    }

    /// [`push`](Self::push) with encode options that travel with the frame (an
    /// [`EncodePipeline`](crate::pipeline::EncodePipeline) reading this ring applies
    /// them).
    pub fn push_with(&self, frame: Frame, options: FrameOptions, timeout: Option<Duration>) -> Result<()> {
        // The frame is dropped here, outside the queue's lock, when the push fails.
        self.inner.queue.push((frame, options), timeout).map_err(|(e, _item)| e)
    }

    /// The oldest frame, waiting up to `timeout` (forever for `None`) while the queue is
    /// empty. `Ok(None)`: the ring was [closed](Self::close) and everything queued has
    /// been taken. Errors: [`Error::Timeout`]; [`Error::Closed`] after
    /// [`cancel`](Self::cancel).
    pub fn pop(&self, timeout: Option<Duration>) -> Result<Option<Frame>> {
        Ok(self.pop_with(timeout)?.map(|(f, _)| f))
    }

    /// [`pop`](Self::pop) with the options the frame was pushed with.
    pub fn pop_with(&self, timeout: Option<Duration>) -> Result<Option<(Frame, FrameOptions)>> {
        self.inner.queue.pop(timeout)
    }

    /// Ends the stream: `push` and `acquire` fail from now on, `pop` returns what is
    /// queued and then `None`.
    pub fn close(&self) {
        self.inner.slots.close();
        self.inner.queue.close();
    }

    /// Stops the ring: every blocked or later `push`, `pop` or `acquire` fails with
    /// [`Error::Closed`]; queued frames are dropped (their buffers come back).
    pub fn cancel(&self) {
        self.inner.slots.close();
        drop(self.inner.queue.cancel());
    }

    /// Whether the ring was closed or cancelled and nothing is left to pop.
    pub fn is_finished(&self) -> bool {
        self.inner.queue.is_finished()
    }

    /// Frames queued now.
    pub fn depth(&self) -> usize {
        self.inner.queue.depth()
    }

    /// Most frames ever queued at once.
    pub fn peak(&self) -> usize {
        self.inner.queue.stats().peak
    }

    /// Frames the queue holds before `push` blocks.
    pub fn capacity(&self) -> usize {
        self.inner.queue.capacity()
    }

    /// Reusable buffers.
    pub fn slots(&self) -> usize {
        self.inner.slots.slots()
    }

    /// What memory the buffers are ([`RingMemory::Cuda`] for a device-memory ring).
    pub fn memory(&self) -> RingMemory {
        self.inner.memory
    }

    /// Everything at once.
    pub fn stats(&self) -> RingStats {
        let mut stats = RingStats::default();
        self.inner.queue.fill(&mut stats);
        let f = self.inner.slots.figures();
        (stats.slots, stats.in_use, stats.allocations) = (f.slots, f.in_use, f.allocations);
        stats.producer_waits += f.waits;
        stats.producer_wait += f.wait;
        (stats.pinned, stats.device, stats.adopted) = (f.pinned, f.device, f.adopted);
        stats
    }

    pub(crate) fn queue(&self) -> &Queue<(Frame, FrameOptions)> {
        &self.inner.queue
    }

    /// The ring's buffers, for an [`OutputScope`](crate::frame::output::OutputScope).
    pub(crate) fn frame_slots(&self) -> &Arc<FrameSlots> {
        &self.inner.slots
    }
}
