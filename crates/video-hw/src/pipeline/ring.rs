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
//! The ring logic does not know which memory it lends: a pool of at most `slots`
//! buffers, generic over the slot memory; device buffers come from a small allocator
//! trait (the CUDA driver in `backend/nvidia/device_frames.rs`, a fake in the tests).
//!
//! Locking is `parking_lot`'s `Mutex` and `Condvar`: one short critical section per
//! operation, timed waits, and no poisoning (a panicking thread cannot wedge the other
//! end of the ring).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::codec::PixelFormat;
use crate::config::FrameOptions;
use crate::error::{Error, Result};
use crate::frame::{CudaFrame, DeviceFrameOwner, Frame, FrameData, HostBuffer, HostFrame};

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

// ---------------------------------------------------------------------------------------
// The bounded queue

/// How a queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    /// No more pushes; pops drain what is queued.
    Closed,
    /// Pushes and pops fail; what was queued was discarded.
    Cancelled,
}

struct QueueState<T> {
    items: VecDeque<T>,
    end: End,
    peak: usize,
    pushed: u64,
    popped: u64,
    push_waits: u64,
    push_wait: Duration,
    pop_waits: u64,
    pop_wait: Duration,
}

/// A bounded multi-producer multi-consumer queue with close, cancel, timeouts and
/// depth figures.
pub(crate) struct Queue<T> {
    name: String,
    capacity: usize,
    state: Mutex<QueueState<T>>,
    not_empty: Condvar,
    not_full: Condvar,
    depth_gauge: OnceLock<::metrics::Gauge>,
    /// Items queued, or `usize::MAX` once closed or cancelled: read without the lock by
    /// a thread about to wait, which spins briefly on it first (a wake-up through the
    /// kernel costs more than the other side usually takes).
    hint: AtomicUsize,
}

/// Brief busy-waiting before blocking: `SPINS` pause instructions, then `YIELDS` yields.
const SPINS: u32 = 64;
const YIELDS: u32 = 4;

/// Spins until `ready()` or the budget is spent.
fn spin_until(ready: impl Fn() -> bool) {
    for i in 0..SPINS + YIELDS {
        if ready() {
            return;
        }
        if i < SPINS {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Waits on `cv` until `deadline` (forever for `None`); false when the deadline passed.
fn wait<T>(cv: &Condvar, guard: &mut MutexGuard<'_, T>, deadline: Option<Instant>) -> bool {
    match deadline {
        None => {
            cv.wait(guard);
            true
        }
        Some(d) => !cv.wait_until(guard, d).timed_out(),
    }
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    // A timeout too large to represent waits forever.
    timeout.and_then(|t| Instant::now().checked_add(t))
}

impl<T> Queue<T> {
    pub(crate) fn new(name: impl Into<String>, capacity: usize) -> Self {
        Queue {
            name: name.into(),
            capacity,
            state: Mutex::new(QueueState {
                items: VecDeque::with_capacity(capacity),
                end: End::Open,
                peak: 0,
                pushed: 0,
                popped: 0,
                push_waits: 0,
                push_wait: Duration::ZERO,
                pop_waits: 0,
                pop_wait: Duration::ZERO,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            depth_gauge: OnceLock::new(),
            hint: AtomicUsize::new(0),
        }
    }

    fn closed_error(&self) -> Error {
        Error::Closed(format!("{} is closed", self.name))
    }

    /// Reports the depth to `gauge` from now on.
    pub(crate) fn set_depth_gauge(&self, gauge: ::metrics::Gauge) {
        let _ = self.depth_gauge.set(gauge);
    }

    fn report_depth(&self, depth: usize) {
        if let Some(g) = self.depth_gauge.get() {
            g.set(depth as f64);
        }
    }

    /// Appends `item`, waiting while the queue is full. On failure the item is handed
    /// back (so the caller drops it outside the lock, or retries).
    pub(crate) fn push(&self, item: T, timeout: Option<Duration>) -> std::result::Result<(), (Error, T)> {
        if self.hint.load(Ordering::Relaxed) == self.capacity && timeout != Some(Duration::ZERO) {
            spin_until(|| self.hint.load(Ordering::Relaxed) != self.capacity);
        }
        let mut s = self.state.lock();
        if s.items.len() >= self.capacity && s.end == End::Open {
            let start = Instant::now();
            let until = deadline(timeout);
            s.push_waits += 1;
            while s.items.len() >= self.capacity && s.end == End::Open {
                if !wait(&self.not_full, &mut s, until) && s.items.len() >= self.capacity && s.end == End::Open {
                    s.push_wait += start.elapsed();
                    return Err((Error::Timeout(timeout.unwrap_or_default()), item));
                }
            }
            s.push_wait += start.elapsed();
        }
        if s.end != End::Open {
            return Err((self.closed_error(), item));
        }
        s.items.push_back(item);
        s.pushed += 1;
        let depth = s.items.len();
        self.hint.store(depth, Ordering::Relaxed);
        s.peak = s.peak.max(depth);
        drop(s);
        self.not_empty.notify_one();
        self.report_depth(depth);
        Ok(())
    }

    /// Takes the oldest item, waiting while the queue is empty. `Ok(None)`: closed and
    /// drained. `Err(Closed)`: cancelled. `Err(Timeout)`: nothing came in time.
    pub(crate) fn pop(&self, timeout: Option<Duration>) -> Result<Option<T>> {
        if self.hint.load(Ordering::Relaxed) == 0 && timeout != Some(Duration::ZERO) {
            spin_until(|| self.hint.load(Ordering::Relaxed) != 0);
        }
        let mut s = self.state.lock();
        if s.items.is_empty() && s.end == End::Open {
            let start = Instant::now();
            let until = deadline(timeout);
            s.pop_waits += 1;
            while s.items.is_empty() && s.end == End::Open {
                if !wait(&self.not_empty, &mut s, until) && s.items.is_empty() && s.end == End::Open {
                    s.pop_wait += start.elapsed();
                    return Err(Error::Timeout(timeout.unwrap_or_default()));
                }
            }
            s.pop_wait += start.elapsed();
        }
        match s.items.pop_front() {
            Some(item) => {
                s.popped += 1;
                let depth = s.items.len();
                if s.end == End::Open {
                    self.hint.store(depth, Ordering::Relaxed);
                }
                drop(s);
                self.not_full.notify_one();
                self.report_depth(depth);
                Ok(Some(item))
            }
            None if s.end == End::Cancelled => Err(self.closed_error()),
            None => Ok(None),
        }
    }

    /// Ends the stream: pushes fail from now on; pops drain what is queued, then
    /// return `None`.
    pub(crate) fn close(&self) {
        let mut s = self.state.lock();
        if s.end == End::Open {
            s.end = End::Closed;
        }
        self.hint.store(usize::MAX, Ordering::Relaxed);
        drop(s);
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    /// Stops everything: pushes and pops fail from now on. Returns what was queued, so
    /// the caller drops it outside the lock.
    pub(crate) fn cancel(&self) -> Vec<T> {
        let mut s = self.state.lock();
        s.end = End::Cancelled;
        self.hint.store(usize::MAX, Ordering::Relaxed);
        let items: Vec<T> = s.items.drain(..).collect();
        drop(s);
        self.not_empty.notify_all();
        self.not_full.notify_all();
        self.report_depth(0);
        items
    }

    /// Whether the queue was closed or cancelled and nothing is left in it.
    pub(crate) fn is_finished(&self) -> bool {
        let s = self.state.lock();
        s.end != End::Open && s.items.is_empty()
    }

    pub(crate) fn depth(&self) -> usize {
        self.state.lock().items.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Fills the queue part of `stats`.
    fn fill(&self, stats: &mut RingStats) {
        let s = self.state.lock();
        stats.capacity = self.capacity;
        stats.depth = s.items.len();
        stats.peak = s.peak;
        stats.pushed = s.pushed;
        stats.popped = s.popped;
        stats.producer_waits = s.push_waits;
        stats.producer_wait = s.push_wait;
        stats.consumer_waits = s.pop_waits;
        stats.consumer_wait = s.pop_wait;
    }

    pub(crate) fn stats(&self) -> RingStats {
        let mut stats = RingStats::default();
        self.fill(&mut stats);
        stats
    }
}

// ---------------------------------------------------------------------------------------
// The buffer pool

/// Memory a ring lends: host bytes ([`HostBuffer`]) or a device allocation
/// ([`DeviceBlock`]). The pool logic (waiting, closing, reuse, counting) is the same
/// for both.
pub(crate) trait SlotMemory: Send + Sync + Sized + 'static {
    /// What a lease asks for: a byte count (host) or row bytes and rows (device).
    type Size: Copy + Send + Sync + 'static;

    /// Whether this buffer holds a lease of `size`.
    fn fits(&self, size: Self::Size) -> bool;
}

impl SlotMemory for HostBuffer {
    type Size = usize;

    fn fits(&self, bytes: usize) -> bool {
        self.len() >= bytes
    }
}

struct PoolState<M> {
    free: Vec<M>,
    /// Buffers lent out.
    leased: usize,
    allocations: u64,
    waits: u64,
    wait: Duration,
    closed: bool,
}

/// At most `slots` buffers of memory `M`, lent out one at a time.
pub(crate) struct Pool<M: SlotMemory> {
    name: String,
    slots: usize,
    state: Mutex<PoolState<M>>,
    freed: Condvar,
}

/// One buffer lent by a ring; `size` of it belongs to a frame. Given back on drop.
pub(crate) struct Lease<M: SlotMemory> {
    buf: Option<M>,
    size: M::Size,
    pool: Arc<Pool<M>>,
}

/// A host buffer lent by a ring: `size` bytes of it belong to a frame.
pub(crate) type Slot = Lease<HostBuffer>;

impl<M: SlotMemory> Lease<M> {
    /// The buffer.
    pub(crate) fn memory(&self) -> Option<&M> {
        self.buf.as_ref()
    }

    /// Whether this lease comes from `pool`.
    fn is_from(&self, pool: &Arc<Pool<M>>) -> bool {
        Arc::ptr_eq(&self.pool, pool)
    }
}

impl Lease<HostBuffer> {
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.as_ref().map_or(&[][..], |b| &b.as_slice()[..self.size])
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        let len = self.size;
        self.buf.as_mut().map_or(&mut [][..], |b| &mut b.as_mut_slice()[..len])
    }

    pub(crate) fn is_pinned(&self) -> bool {
        self.buf.as_ref().is_some_and(HostBuffer::is_pinned)
    }

    /// The whole page-locked buffer (at least the slot's bytes), if it is one.
    pub(crate) fn pinned_mut(&mut self) -> Option<&mut crate::backend::nvidia::cuda::PinnedHostBuffer> {
        match self.buf.as_mut() {
            Some(HostBuffer::Pinned(p)) => Some(p),
            _ => None,
        }
    }
}

impl<M: SlotMemory> Drop for Lease<M> {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            let mut s = self.pool.state.lock();
            s.leased -= 1;
            s.free.push(buf);
            drop(s);
            self.pool.freed.notify_one();
        }
    }
}

impl<M: SlotMemory> Pool<M> {
    fn new(name: &str, slots: usize) -> Arc<Self> {
        Arc::new(Pool {
            name: name.to_string(),
            slots,
            state: Mutex::new(PoolState {
                free: Vec::with_capacity(slots),
                leased: 0,
                allocations: 0,
                waits: 0,
                wait: Duration::ZERO,
                closed: false,
            }),
            freed: Condvar::new(),
        })
    }

    /// Lends a buffer that fits `size`, waiting while all are lent out (`wait_for`
    /// `None`: `Ok(None)` instead of waiting; `Some(timeout)`: up to `timeout`, forever
    /// for `None`). A free buffer too small is replaced by one from `alloc`, as is a slot
    /// never used yet; `alloc` runs outside the lock.
    fn take(
        self: &Arc<Self>,
        size: M::Size,
        wait_for: Option<Option<Duration>>,
        alloc: impl FnOnce() -> Result<M>,
    ) -> Result<Option<Lease<M>>> {
        let mut s = self.state.lock();
        let mut waited: Option<Instant> = None;
        let until = wait_for.and_then(deadline);
        let reused = loop {
            if s.closed {
                return Err(Error::Closed(format!("{} is closed", self.name)));
            }
            if let Some(buf) = s.free.pop() {
                break Some(buf);
            }
            if s.leased < self.slots {
                break None;
            }
            let Some(timeout) = wait_for else { return Ok(None) };
            let start = *waited.get_or_insert_with(|| {
                s.waits += 1;
                Instant::now()
            });
            if !wait(&self.freed, &mut s, until) && s.free.is_empty() && s.leased >= self.slots && !s.closed {
                s.wait += start.elapsed();
                return Err(Error::Timeout(timeout.unwrap_or_default()));
            }
        };
        if let Some(start) = waited {
            s.wait += start.elapsed();
        }
        s.leased += 1;
        drop(s);
        let buf = match reused {
            Some(b) if b.fits(size) => b,
            // A new buffer (the first use of this slot, or one outgrown by a size change),
            // allocated outside the lock; the outgrown one is freed first.
            outgrown => {
                drop(outgrown);
                match alloc() {
                    Ok(b) => {
                        self.state.lock().allocations += 1;
                        b
                    }
                    Err(e) => {
                        self.state.lock().leased -= 1;
                        self.freed.notify_one();
                        return Err(e);
                    }
                }
            }
        };
        Ok(Some(Lease { buf: Some(buf), size, pool: self.clone() }))
    }

    fn close(&self) {
        self.state.lock().closed = true;
        self.freed.notify_all();
    }

    /// Fills the buffer part of `stats`.
    fn fill(&self, stats: &mut RingStats) {
        let p = self.state.lock();
        stats.slots = self.slots;
        stats.in_use = p.leased;
        stats.allocations = p.allocations;
        stats.producer_waits += p.waits;
        stats.producer_wait += p.wait;
    }
}

// ---------------------------------------------------------------------------------------
// Device memory

/// One device allocation a ring lends: `rows` rows of at least `width_bytes` bytes,
/// `pitch` bytes apart, at device address `ptr`.
pub(crate) struct DeviceBlock {
    /// Device address (`CUdeviceptr`).
    pub(crate) ptr: u64,
    /// Bytes between rows.
    pub(crate) pitch: usize,
    /// Bytes per row asked for.
    pub(crate) width_bytes: usize,
    /// Rows.
    pub(crate) rows: usize,
    /// The CUDA allocation, freed with the block; `None` only for the fake device memory
    /// of the tests (whose `ptr` is no device address: engines never write to it).
    pub(crate) buffer: Option<crate::backend::nvidia::cuda::DeviceBuffer>,
}

impl SlotMemory for DeviceBlock {
    type Size = (usize, usize);

    fn fits(&self, (width_bytes, rows): (usize, usize)) -> bool {
        self.width_bytes >= width_bytes && self.rows >= rows
    }
}

/// A device allocation lent by a ring (the lease of a ring-backed [`CudaFrame`]).
pub(crate) type DeviceSlot = Lease<DeviceBlock>;

/// Where a device-memory ring's buffers come from, and what it does with them: a trait so
/// that the ring logic is tested without a GPU (a fake in the tests; CUDA in
/// `backend/nvidia/device_frames.rs`).
pub(crate) trait DeviceAllocator: Send + Sync {
    /// The GPU the memory is on.
    fn device_index(&self) -> u32;

    /// `rows` rows of at least `width_bytes`, pitched.
    fn alloc(&self, width_bytes: usize, rows: usize) -> Result<DeviceBlock>;

    /// What downloads frames in this memory.
    fn owner(&self) -> Arc<dyn DeviceFrameOwner>;

    /// Copies the picture of `src` (a CUDA frame on the same GPU) into `dst` (same
    /// format and size), device to device, and waits until it is done (after the
    /// frame's ready event, if it has one). `Error::Timeout`: the copy may still run.
    fn copy_frame(&self, src: &CudaFrame, dst: &CudaFrame) -> Result<()>;
}

/// How a `format` picture lies in one pitched device allocation: its planes one under
/// the other, sharing the pitch (NVDEC's NV12 layout: chroma right below luma).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceLayout {
    /// The widest row of any plane, in bytes.
    pub(crate) width_bytes: usize,
    /// Rows of all planes together.
    pub(crate) rows: usize,
    /// First row of each plane.
    pub(crate) plane_rows: [usize; 3],
    /// Planes.
    pub(crate) planes: usize,
}

impl DeviceLayout {
    pub(crate) fn of(format: PixelFormat, width: u32, height: u32) -> DeviceLayout {
        let planes = format.plane_count().min(3);
        let mut layout = DeviceLayout { width_bytes: 0, rows: 0, plane_rows: [0; 3], planes };
        for i in 0..planes {
            let (row_bytes, rows) = format.plane_size(i, width, height);
            layout.plane_rows[i] = layout.rows;
            layout.rows += rows;
            layout.width_bytes = layout.width_bytes.max(row_bytes);
        }
        layout
    }
}

/// A device-memory ring's parts.
struct DeviceSlots {
    pool: Arc<Pool<DeviceBlock>>,
    alloc: Arc<dyn DeviceAllocator>,
    owner: Arc<dyn DeviceFrameOwner>,
    adopted: AtomicU64,
}

impl DeviceSlots {
    /// Lends a slot for a `format` picture (`wait_for` as in [`Pool::take`]) and wraps it
    /// as a CUDA frame.
    fn lease(
        &self,
        format: PixelFormat,
        width: u32,
        height: u32,
        wait_for: Option<Option<Duration>>,
    ) -> Result<Option<CudaFrame>> {
        frame_bytes(format, width, height)?;
        let layout = DeviceLayout::of(format, width, height);
        let size = (layout.width_bytes, layout.rows);
        let slot = self.pool.take(size, wait_for, || self.alloc.alloc(size.0, size.1))?;
        let index = self.alloc.device_index();
        Ok(slot.map(|slot| CudaFrame::in_slot(slot, index, format, width, height, self.owner.clone(), 0)))
    }

    /// Whether `frame` is in one of this ring's slots.
    fn owns(&self, frame: &CudaFrame) -> bool {
        frame.slot().is_some_and(|s| s.is_from(&self.pool))
    }
}

// ---------------------------------------------------------------------------------------
// The ring

/// The buffers of a ring.
enum Slots {
    Host {
        pool: Arc<Pool<HostBuffer>>,
        /// Whether to ask for page-locked memory.
        pin: bool,
        /// Whether some buffer is page-locked.
        pinned: AtomicBool,
    },
    Device(DeviceSlots),
}

struct RingInner {
    queue: Queue<(Frame, FrameOptions)>,
    memory: RingMemory,
    slots: Slots,
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
            .field("name", &self.inner.queue.name)
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
            let alloc = crate::backend::nvidia::device_frames::ring_allocator(device)?;
            return FrameRing::with_allocator(config, alloc);
        }
        let slots = Slots::Host {
            pool: Pool::new(&config.name, config.slots),
            pin: config.memory == RingMemory::Auto,
            pinned: AtomicBool::new(false),
        };
        Ok(FrameRing::build(config, slots))
    }

    /// A device-memory ring whose buffers come from `alloc` (the CUDA allocator, or a
    /// fake one in tests).
    pub(crate) fn with_allocator(config: RingConfig, alloc: Arc<dyn DeviceAllocator>) -> Result<FrameRing> {
        config.validate()?;
        let config = RingConfig { memory: RingMemory::Cuda { device: alloc.device_index() }, ..config };
        let slots = Slots::Device(DeviceSlots {
            pool: Pool::new(&config.name, config.slots),
            owner: alloc.owner(),
            alloc,
            adopted: AtomicU64::new(0),
        });
        Ok(FrameRing::build(config, slots))
    }

    fn build(config: RingConfig, slots: Slots) -> FrameRing {
        FrameRing {
            inner: Arc::new(RingInner {
                queue: Queue::new(config.name, config.capacity),
                memory: config.memory,
                slots,
            }),
        }
    }

    fn host_slot(&self, bytes: usize, wait_for: Option<Option<Duration>>) -> Result<Option<Slot>> {
        match &self.inner.slots {
            Slots::Host { pool, pin, pinned } => pool.take(bytes, wait_for, || {
                let b = HostBuffer::zeroed(bytes, *pin);
                if b.is_pinned() {
                    pinned.store(true, Ordering::Relaxed);
                }
                Ok(b)
            }),
            Slots::Device(_) => Err(Error::invalid_input(format!(
                "{} lends device memory: take its buffers with acquire_cuda",
                self.inner.queue.name
            ))),
        }
    }

    fn device_slots(&self) -> Result<&DeviceSlots> {
        match &self.inner.slots {
            Slots::Device(d) => Ok(d),
            Slots::Host { .. } => Err(Error::invalid_input(format!(
                "{} lends host memory: take its buffers with acquire (or open it with RingMemory::Cuda)",
                self.inner.queue.name
            ))),
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
        let bytes = frame_bytes(format, width, height)?;
        let slot = self.host_slot(bytes, Some(timeout))?.ok_or(Error::Timeout(Duration::ZERO))?;
        Ok(HostFrame::in_slot(format, width, height, slot))
    }

    /// Like [`acquire`](Self::acquire) but never waits: `Ok(None)` when every buffer is
    /// lent out.
    pub fn try_acquire(&self, format: PixelFormat, width: u32, height: u32) -> Result<Option<HostFrame>> {
        let bytes = frame_bytes(format, width, height)?;
        Ok(self.host_slot(bytes, None)?.map(|slot| HostFrame::in_slot(format, width, height, slot)))
    }

    /// A device buffer of a [`RingMemory::Cuda`] ring for a `format` picture of `width` x
    /// `height`, as a frame in CUDA memory ([`Frame::cuda_data`]), waiting up to
    /// `timeout` (forever for `None`) while every buffer is lent out.
    ///
    /// The planes lie one under the other in one pitched allocation
    /// ([`CudaFrame::plane_ptr`], [`CudaFrame::pitch`]); their contents are unspecified
    /// (an earlier frame's pixels). Write them from CUDA code of your own, finish that
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
        let cuda = self.device_slots()?.lease(format, width, height, Some(timeout))?;
        let cuda = cuda.ok_or(Error::Timeout(Duration::ZERO))?;
        Ok(Frame::cuda(format, width, height, cuda))
    }

    /// Like [`acquire_cuda`](Self::acquire_cuda) but never waits: `Ok(None)` when every
    /// buffer is lent out.
    pub fn try_acquire_cuda(&self, format: PixelFormat, width: u32, height: u32) -> Result<Option<Frame>> {
        let cuda = self.device_slots()?.lease(format, width, height, None)?;
        Ok(cuda.map(|c| Frame::cuda(format, width, height, c)))
    }

    /// A free device slot of at least `width_bytes` x `rows` for an engine on GPU
    /// `device`, without waiting: `None` for a host ring, another GPU, every slot lent
    /// out, or a failed allocation (the engine then uses memory of its own).
    pub(crate) fn lease_device(&self, device: u32, width_bytes: usize, rows: usize) -> Option<DeviceSlot> {
        let Slots::Device(d) = &self.inner.slots else { return None };
        if d.alloc.device_index() != device {
            return None;
        }
        d.pool.take((width_bytes, rows), None, || d.alloc.alloc(width_bytes, rows)).ok().flatten()
    }

    /// `frame`, in a slot of this ring: a CUDA frame on this device-memory ring's GPU
    /// that is not in one of its slots is copied (device to device) into one, waiting up
    /// to `timeout` for a free slot, and its own buffer is dropped. Any other frame is
    /// returned as it is. Pipelines pass what an engine made outside the ring (while
    /// every slot was lent) through this, so the device memory frames wait in is bounded
    /// by the ring.
    pub(crate) fn adopt(&self, frame: Frame, timeout: Option<Duration>) -> Result<Frame> {
        let Slots::Device(d) = &self.inner.slots else { return Ok(frame) };
        let FrameData::Cuda(src) = &frame.data else { return Ok(frame) };
        if src.device_index() != d.alloc.device_index() || d.owns(src) {
            return Ok(frame);
        }
        let (width, height) = src.size();
        let format = src.format();
        let copy = d.lease(format, width, height, Some(timeout))?.ok_or(Error::Timeout(Duration::ZERO))?;
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
        Ok(Frame { data: FrameData::Cuda(copy), ..frame })
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

    fn close_pool(&self) {
        match &self.inner.slots {
            Slots::Host { pool, .. } => pool.close(),
            Slots::Device(d) => d.pool.close(),
        }
    }

    /// Ends the stream: `push` and `acquire` fail from now on, `pop` returns what is
    /// queued and then `None`.
    pub fn close(&self) {
        self.close_pool();
        self.inner.queue.close();
    }

    /// Stops the ring: every blocked or later `push`, `pop` or `acquire` fails with
    /// [`Error::Closed`]; queued frames are dropped (their buffers come back).
    pub fn cancel(&self) {
        self.close_pool();
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
        match &self.inner.slots {
            Slots::Host { pool, .. } => pool.slots,
            Slots::Device(d) => d.pool.slots,
        }
    }

    /// What memory the buffers are ([`RingMemory::Cuda`] for a device-memory ring).
    pub fn memory(&self) -> RingMemory {
        self.inner.memory
    }

    /// Everything at once.
    pub fn stats(&self) -> RingStats {
        let mut stats = RingStats::default();
        self.inner.queue.fill(&mut stats);
        match &self.inner.slots {
            Slots::Host { pool, pinned, .. } => {
                pool.fill(&mut stats);
                stats.pinned = pinned.load(Ordering::Relaxed);
            }
            Slots::Device(d) => {
                d.pool.fill(&mut stats);
                stats.device = Some(d.alloc.device_index());
                stats.adopted = d.adopted.load(Ordering::Relaxed);
            }
        }
        stats
    }

    pub(crate) fn queue(&self) -> &Queue<(Frame, FrameOptions)> {
        &self.inner.queue
    }
}

fn frame_bytes(format: PixelFormat, width: u32, height: u32) -> Result<usize> {
    const MAX_DIM: u32 = 16384;
    if width == 0 || height == 0 || width > MAX_DIM || height > MAX_DIM {
        return Err(Error::invalid_input(format!("frame size {width}x{height} (each side 1..={MAX_DIM})")));
    }
    Ok(format.frame_size(width, height))
}

// ---------------------------------------------------------------------------------------
// Engines writing straight into a ring

thread_local! {
    /// The ring the current thread's engine output goes to, if any.
    static OUTPUT: RefCell<Option<FrameRing>> = const { RefCell::new(None) };
}

/// While alive, engines on this thread build their host output frames in free slots of
/// `ring` (see [`take_output_slot`]).
pub(crate) struct OutputScope {
    previous: Option<FrameRing>,
}

impl OutputScope {
    pub(crate) fn enter(ring: &FrameRing) -> OutputScope {
        let previous = OUTPUT.with(|o| o.borrow_mut().replace(ring.clone()));
        OutputScope { previous }
    }
}

impl Drop for OutputScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        OUTPUT.with(|o| *o.borrow_mut() = previous);
    }
}

/// A free slot of the current thread's output ring as a packed `format` picture, or
/// `None` (no ring, a device-memory ring, or every slot lent out: the engine then
/// allocates, so a slow consumer never blocks an engine in the middle of a call).
pub(crate) fn take_output_slot(format: PixelFormat, width: u32, height: u32) -> Option<HostFrame> {
    let ring = OUTPUT.with(|o| o.borrow().clone())?;
    ring.try_acquire(format, width, height).ok().flatten()
}

/// Whether the current thread produces into a frame ring (engines then write their
/// frames into its slots).
pub(crate) fn has_output_ring() -> bool {
    OUTPUT.with(|o| o.borrow().is_some())
}

/// A free device slot of at least `width_bytes` x `rows` of the current thread's output
/// ring, for an engine on GPU `device`; `None` as in [`FrameRing::lease_device`] (the
/// engine then uses a buffer of its own, which the pipeline copies into a slot later).
pub(crate) fn take_output_device_slot(device: u32, width_bytes: usize, rows: usize) -> Option<DeviceSlot> {
    let ring = OUTPUT.with(|o| o.borrow().clone())?;
    ring.lease_device(device, width_bytes, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ring: &FrameRing, pts: i64) -> Frame {
        let pixels = ring.acquire(PixelFormat::Nv12, 16, 16, Some(Duration::from_secs(5))).unwrap();
        let mut f = Frame::host(PixelFormat::Nv12, 16, 16, pixels);
        f.pts = Some(pts);
        f
    }

    #[test]
    fn config_is_checked() {
        assert!(FrameRing::new(0).is_err());
        assert!(FrameRing::new(MAX_CAPACITY + 1).is_err());
        assert!(FrameRing::with_config(RingConfig::new(4).slots(3)).is_err());
        assert!(FrameRing::new(1).is_ok());
    }

    #[test]
    fn acquire_blocks_when_all_slots_are_lent_and_times_out() {
        let ring = FrameRing::with_config(RingConfig::new(1).slots(2).memory(RingMemory::Pageable)).unwrap();
        let a = ring.acquire(PixelFormat::Nv12, 16, 16, None).unwrap();
        let _b = ring.acquire(PixelFormat::Nv12, 16, 16, None).unwrap();
        assert!(ring.try_acquire(PixelFormat::Nv12, 16, 16).unwrap().is_none());
        let t = Instant::now();
        let e = ring.acquire(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(30))).unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e}");
        assert!(t.elapsed() >= Duration::from_millis(30));
        drop(a);
        let c = ring.try_acquire(PixelFormat::Nv12, 16, 16).unwrap();
        assert!(c.is_some_and(|c| c.is_pooled()));
        assert_eq!(ring.stats().allocations, 2);
    }

    #[test]
    fn push_blocks_when_full_pop_when_empty() {
        let ring = FrameRing::new(2).unwrap();
        ring.push(frame(&ring, 0), None).unwrap();
        ring.push(frame(&ring, 1), None).unwrap();
        let extra = frame(&ring, 2);
        let e = ring.push(extra, Some(Duration::from_millis(10))).unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e}");
        assert_eq!(ring.pop(None).unwrap().unwrap().pts, Some(0));
        assert_eq!(ring.pop(None).unwrap().unwrap().pts, Some(1));
        assert!(matches!(ring.pop(Some(Duration::from_millis(5))), Err(Error::Timeout(_))));
        let s = ring.stats();
        assert_eq!((s.peak, s.depth, s.in_use, s.pushed, s.popped), (2, 0, 0, 2, 2));
        assert!(s.producer_waits >= 1 && s.consumer_waits >= 1);
    }

    #[test]
    fn close_drains_then_ends_and_wakes_waiters() {
        let ring = FrameRing::new(4).unwrap();
        ring.push(frame(&ring, 7), None).unwrap();
        let waiter = {
            let ring = ring.clone();
            std::thread::spawn(move || {
                let first = ring.pop(None).unwrap().map(|f| f.pts);
                let second = ring.pop(None).unwrap().map(|f| f.pts);
                (first, second)
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        ring.close();
        assert_eq!(waiter.join().unwrap(), (Some(Some(7)), None));
        assert!(matches!(
            ring.push(Frame::host(PixelFormat::Nv12, 2, 2, HostFrame::new_packed(PixelFormat::Nv12, 2, 2)), None),
            Err(Error::Closed(_))
        ));
        assert!(ring.is_finished());
    }

    #[test]
    fn cancel_wakes_a_blocked_producer_and_returns_buffers() {
        let ring = FrameRing::with_config(RingConfig::new(1).slots(1)).unwrap();
        ring.push(frame(&ring, 0), None).unwrap();
        let producer = {
            let ring = ring.clone();
            std::thread::spawn(move || ring.acquire(PixelFormat::Nv12, 16, 16, None).map(|_| ()))
        };
        std::thread::sleep(Duration::from_millis(20));
        ring.cancel();
        assert!(matches!(producer.join().unwrap(), Err(Error::Closed(_))));
        assert!(matches!(ring.pop(None), Err(Error::Closed(_))));
        assert_eq!(ring.stats().in_use, 0);
    }

    #[test]
    fn buffers_are_reused_and_regrown_on_size_change() {
        let ring = FrameRing::with_config(RingConfig::new(2).memory(RingMemory::Pageable)).unwrap();
        for i in 0..100 {
            ring.push(frame(&ring, i), None).unwrap();
            drop(ring.pop(None).unwrap());
        }
        assert_eq!(ring.stats().allocations, 1);
        let big = ring.acquire(PixelFormat::Nv12, 64, 64, None).unwrap();
        assert_eq!(big.as_bytes().len(), PixelFormat::Nv12.frame_size(64, 64));
        drop(big);
        assert_eq!(ring.stats().allocations, 2);
        let small = ring.acquire(PixelFormat::Nv12, 16, 16, None).unwrap();
        assert_eq!(small.as_bytes().len(), PixelFormat::Nv12.frame_size(16, 16));
        assert_eq!(ring.stats().allocations, 2);
    }

    #[test]
    fn output_scope_routes_engine_frames_into_the_ring() {
        let ring = FrameRing::new(2).unwrap();
        assert!(take_output_slot(PixelFormat::Yuv420p, 8, 8).is_none());
        {
            let _scope = OutputScope::enter(&ring);
            let f = HostFrame::for_output(PixelFormat::Yuv420p, 8, 8);
            assert!(f.is_pooled());
            assert_eq!(f.planes().len(), 3);
        }
        assert!(!HostFrame::for_output(PixelFormat::Yuv420p, 8, 8).is_pooled());
    }

    #[test]
    fn pooled_frames_clone_into_owned_ones() {
        let ring = FrameRing::new(1).unwrap();
        let mut a = ring.acquire(PixelFormat::Yuv420p, 4, 2, None).unwrap();
        a.as_bytes_mut().fill(9);
        let b = a.clone();
        assert!(a.is_pooled() && !b.is_pooled());
        assert_eq!(a, b);
        assert_eq!(a.into_buffer(), vec![9; 12]);
        assert_eq!(ring.stats().in_use, 0);
    }
    // -----------------------------------------------------------------------------------
    // Device-memory rings, on the fake device of `fake`

    use super::fake::FakeDevice;

    fn device_ring(fake: &Arc<FakeDevice>, config: RingConfig) -> FrameRing {
        FrameRing::with_allocator(config, fake.clone()).unwrap()
    }

    fn pattern(len: usize, seed: u64) -> Vec<u8> {
        (0..len).map(|i| ((i as u64 * 7 + seed * 13) % 251) as u8).collect()
    }

    #[test]
    fn device_slots_are_cuda_frames_with_planes_one_under_the_other() {
        let fake = FakeDevice::new(3);
        let ring = device_ring(&fake, RingConfig::new(2));
        assert_eq!(ring.memory(), RingMemory::Cuda { device: 3 });
        let frame = ring.acquire_cuda(PixelFormat::Nv12, 33, 17, None).unwrap();
        assert_eq!((frame.format, frame.width, frame.height, frame.pts), (PixelFormat::Nv12, 33, 17, None));
        let c = frame.cuda_data().expect("device memory");
        assert!(c.is_pooled());
        assert_eq!((c.device_index(), c.format(), c.size()), (3, PixelFormat::Nv12, (33, 17)));
        // Rows of 34 bytes (chroma of an odd width) padded to the fake's 64-byte pitch.
        assert_eq!(c.pitch(), 64);
        assert_eq!(c.plane_ptr(1).unwrap() - c.plane_ptr(0).unwrap(), 64 * 17);
        assert_eq!(c.plane_ptr(2), None);
        let pixels = pattern(PixelFormat::Nv12.frame_size(33, 17), 1);
        fake.fill(c, &pixels);
        assert_eq!(c.download().unwrap().as_bytes(), &pixels[..]);
        assert_eq!(frame.to_host().unwrap().as_bytes(), &pixels[..]);
        let s = ring.stats();
        assert_eq!((s.device, s.pinned, s.in_use, s.allocations), (Some(3), false, 1, 1));
        drop(frame);
        assert_eq!(ring.stats().in_use, 0);
    }

    #[test]
    fn device_slots_are_reused_and_regrown_once_on_size_change() {
        let fake = FakeDevice::new(0);
        let ring = device_ring(&fake, RingConfig::new(2));
        let first = ring.acquire_cuda(PixelFormat::Nv12, 64, 32, None).unwrap().cuda_data().unwrap().plane_ptr(0);
        for _ in 0..100 {
            let f = ring.acquire_cuda(PixelFormat::Nv12, 64, 32, None).unwrap();
            assert_eq!(f.cuda_data().unwrap().plane_ptr(0), first, "the same buffer again");
            ring.push(f, None).unwrap();
            drop(ring.pop(None).unwrap());
        }
        assert_eq!((ring.stats().allocations, fake.allocs.load(Ordering::SeqCst)), (1, 1));
        let big = ring.acquire_cuda(PixelFormat::P010, 128, 64, None).unwrap();
        assert_eq!(big.cuda_data().unwrap().pitch(), 256);
        drop(big);
        assert_eq!(ring.stats().allocations, 2, "outgrown: replaced once");
        // Smaller pictures and other formats fit the grown buffer.
        for format in [PixelFormat::Nv12, PixelFormat::Yuv420p, PixelFormat::RgbPlanar, PixelFormat::Bgra] {
            let f = ring.acquire_cuda(format, 64, 32, None).unwrap();
            let c = f.cuda_data().unwrap();
            assert_eq!(c.format(), format);
            let pixels = pattern(format.frame_size(64, 32), 5);
            fake.fill(c, &pixels);
            assert_eq!(c.download().unwrap().as_bytes(), &pixels[..], "{format}");
        }
        assert_eq!((ring.stats().allocations, fake.allocs.load(Ordering::SeqCst)), (2, 2));
    }

    #[test]
    fn device_acquire_blocks_times_out_and_wakes_on_cancel() {
        let fake = FakeDevice::new(0);
        let ring = device_ring(&fake, RingConfig::new(1).slots(2));
        let a = ring.acquire_cuda(PixelFormat::Nv12, 16, 16, None).unwrap();
        let _b = ring.try_acquire_cuda(PixelFormat::Nv12, 16, 16).unwrap().expect("a second slot");
        assert!(ring.try_acquire_cuda(PixelFormat::Nv12, 16, 16).unwrap().is_none());
        let t = Instant::now();
        let e = ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(30))).unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e}");
        assert!(t.elapsed() >= Duration::from_millis(30));
        // A waiting producer gets the slot a consumer gives back.
        let waiter = {
            let ring = ring.clone();
            std::thread::spawn(move || ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_secs(5))))
        };
        std::thread::sleep(Duration::from_millis(20));
        drop(a);
        let _c = waiter.join().unwrap().unwrap();
        // And a cancel wakes one at once.
        let blocked = {
            let ring = ring.clone();
            std::thread::spawn(move || ring.acquire_cuda(PixelFormat::Nv12, 16, 16, None).map(|_| ()))
        };
        std::thread::sleep(Duration::from_millis(20));
        ring.cancel();
        assert!(matches!(blocked.join().unwrap(), Err(Error::Closed(_))));
        assert!(matches!(ring.try_acquire_cuda(PixelFormat::Nv12, 16, 16), Err(Error::Closed(_))));
        let s = ring.stats();
        assert!(s.producer_waits >= 3, "{s:?}");
        assert_eq!((s.allocations, s.in_use), (2, 2));
    }

    #[test]
    fn device_and_host_rings_refuse_each_others_acquire() {
        let fake = FakeDevice::new(0);
        let device = device_ring(&fake, RingConfig::new(1));
        assert!(matches!(device.acquire(PixelFormat::Nv12, 16, 16, None), Err(Error::InvalidInput(_))));
        assert!(matches!(device.try_acquire(PixelFormat::Nv12, 16, 16), Err(Error::InvalidInput(_))));
        assert!(matches!(device.acquire_cuda(PixelFormat::Nv12, 0, 16, None), Err(Error::InvalidInput(_))));
        let host = FrameRing::with_config(RingConfig::new(1).memory(RingMemory::Pageable)).unwrap();
        assert!(matches!(host.acquire_cuda(PixelFormat::Nv12, 16, 16, None), Err(Error::InvalidInput(_))));
        assert!(host.lease_device(0, 16, 24).is_none());
        assert_eq!(host.stats().device, None);
        assert_eq!(fake.allocs.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_failed_device_allocation_is_an_error_and_frees_the_slot() {
        let fake = FakeDevice::new(0);
        let ring = device_ring(&fake, RingConfig::new(1).slots(1));
        fake.fail.store(true, Ordering::SeqCst);
        let e = ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(10))).unwrap_err();
        assert!(matches!(e, Error::Backend { .. }), "{e}");
        assert_eq!((ring.stats().in_use, ring.stats().allocations), (0, 0));
        fake.fail.store(false, Ordering::SeqCst);
        assert!(ring.acquire_cuda(PixelFormat::Nv12, 16, 16, Some(Duration::from_millis(10))).is_ok());
        assert_eq!(ring.stats().allocations, 1);
    }

    #[test]
    fn cuda_rings_without_a_driver_or_gpu_are_unsupported() {
        let e = FrameRing::with_config(RingConfig::new(2).memory(RingMemory::Cuda { device: 999 })).unwrap_err();
        match e {
            Error::Unsupported { what, why } => {
                assert!(what.contains("GPU 999"), "{what}");
                assert!(!why.is_empty());
            }
            e => panic!("{e}"),
        }
        // Bad sizes are refused before any driver is asked.
        assert!(matches!(
            FrameRing::with_config(RingConfig::new(0).memory(RingMemory::Cuda { device: 0 })),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn device_ring_producer_consumer_stress_loses_nothing() {
        const FRAMES: i64 = 400;
        let fake = FakeDevice::new(0);
        let ring = device_ring(&fake, RingConfig::new(3).slots(4));
        let (w, h) = (24, 10);
        let bytes = PixelFormat::Nv12.frame_size(w, h);
        let consumer = {
            let (ring, fake) = (ring.clone(), fake.clone());
            std::thread::spawn(move || {
                let mut next = 0;
                while let Some(frame) = ring.pop(Some(Duration::from_secs(10))).unwrap() {
                    let pts = frame.pts.unwrap();
                    assert_eq!(pts, next, "in order, none lost or repeated");
                    let c = frame.cuda_data().unwrap();
                    assert!(c.is_pooled());
                    assert_eq!(fake.read(c), pattern(bytes, pts as u64), "frame {pts} intact");
                    if pts % 7 == 0 {
                        std::thread::sleep(Duration::from_micros(200)); // a slow consumer now and then
                    }
                    next += 1;
                }
                next
            })
        };
        for i in 0..FRAMES {
            let mut frame = ring.acquire_cuda(PixelFormat::Nv12, w, h, Some(Duration::from_secs(10))).unwrap();
            fake.fill(frame.cuda_data().unwrap(), &pattern(bytes, i as u64));
            frame.pts = Some(i);
            ring.push(frame, Some(Duration::from_secs(10))).unwrap();
        }
        ring.close();
        assert_eq!(consumer.join().unwrap(), FRAMES);
        let s = ring.stats();
        assert_eq!((s.pushed, s.popped, s.in_use, s.depth), (FRAMES as u64, FRAMES as u64, 0, 0));
        assert!(s.allocations <= s.slots as u64 && s.peak <= 3, "{s:?}");
        assert_eq!(fake.allocs.load(Ordering::SeqCst) as u64, s.allocations);
    }

    #[test]
    fn adopt_copies_loose_cuda_frames_into_slots() {
        let fake = FakeDevice::new(0);
        let ring = device_ring(&fake, RingConfig::new(1).slots(2));
        let (w, h) = (20, 8);
        let pixels = pattern(PixelFormat::Nv12.frame_size(w, h), 9);
        let loose = fake.loose_frame(PixelFormat::Nv12, w, h);
        fake.fill(&loose, &pixels);
        let mut frame = Frame::cuda(PixelFormat::Nv12, w, h, loose);
        (frame.pts, frame.keyframe) = (Some(42), true);
        let adopted = ring.adopt(frame, None).unwrap();
        assert_eq!((adopted.pts, adopted.keyframe, adopted.width), (Some(42), true, w));
        let c = adopted.cuda_data().unwrap();
        assert!(c.is_pooled());
        assert_eq!(fake.read(c), pixels);
        assert_eq!((ring.stats().adopted, fake.copies.load(Ordering::SeqCst)), (1, 1));
        // A frame already in a slot of this ring, and host frames, pass as they are.
        let ptr = c.plane_ptr(0);
        let again = ring.adopt(adopted, None).unwrap();
        assert_eq!(again.cuda_data().unwrap().plane_ptr(0), ptr);
        let host = Frame::host(PixelFormat::Nv12, 2, 2, HostFrame::new_packed(PixelFormat::Nv12, 2, 2));
        assert!(ring.adopt(host, None).unwrap().host_data().is_some());
        // So do CUDA frames of another GPU.
        let other = FakeDevice::new(1);
        let far = Frame::cuda(PixelFormat::Nv12, w, h, other.loose_frame(PixelFormat::Nv12, w, h));
        assert!(!ring.adopt(far, None).unwrap().cuda_data().unwrap().is_pooled());
        assert_eq!(ring.stats().adopted, 1);
        // With every slot held, adopting waits (here: times out), and a cancel ends it.
        let _held = ring.acquire_cuda(PixelFormat::Nv12, w, h, None).unwrap();
        let loose = Frame::cuda(PixelFormat::Nv12, w, h, fake.loose_frame(PixelFormat::Nv12, w, h));
        let e = ring.adopt(loose, Some(Duration::from_millis(20))).unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e}");
        let blocked = {
            let (ring, fake) = (ring.clone(), fake.clone());
            std::thread::spawn(move || {
                let loose = Frame::cuda(PixelFormat::Nv12, w, h, fake.loose_frame(PixelFormat::Nv12, w, h));
                ring.adopt(loose, None).map(|_| ())
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        ring.cancel();
        assert!(matches!(blocked.join().unwrap(), Err(Error::Closed(_))));
        drop(again);
        assert!(ring.stats().allocations <= 2);
    }

    #[test]
    fn engines_take_device_slots_of_their_threads_ring_without_waiting() {
        let fake = FakeDevice::new(2);
        let ring = device_ring(&fake, RingConfig::new(1).slots(1));
        assert!(take_output_device_slot(2, 64, 48).is_none(), "no output ring on this thread");
        let _scope = OutputScope::enter(&ring);
        assert!(take_output_slot(PixelFormat::Nv12, 8, 8).is_none(), "no host slots in a device ring");
        assert!(take_output_device_slot(0, 64, 48).is_none(), "another GPU");
        let slot = take_output_device_slot(2, 64, 48).expect("a free slot");
        assert!(slot.memory().is_some_and(|b| b.width_bytes >= 64 && b.rows >= 48));
        assert!(take_output_device_slot(2, 64, 48).is_none(), "every slot lent: no wait");
        drop(slot);
        assert!(take_output_device_slot(2, 32, 24).is_some());
        assert_eq!(ring.stats().allocations, 1);
    }

    #[test]
    fn host_pictures_upload_into_device_slots() {
        let fake = FakeDevice::new(0);
        let ring = device_ring(&fake, RingConfig::new(1));
        let (w, h) = (6, 4);
        // A strided YUV420P picture: 2 bytes of padding after every row.
        let mut planes = Vec::new();
        let mut buffer = Vec::new();
        for i in 0..3 {
            let (row_bytes, rows) = PixelFormat::Yuv420p.plane_size(i, w, h);
            planes.push(crate::frame::PlaneLayout { offset: buffer.len(), stride: row_bytes + 2, row_bytes, rows });
            for r in 0..rows {
                buffer.extend((0..row_bytes).map(|x| (i * 50 + r * 10 + x) as u8));
                buffer.extend([0xee, 0xee]);
            }
        }
        let host = HostFrame::from_planes(buffer, planes).unwrap();
        let mut packed = Vec::new();
        host.write_packed(&mut packed);
        let mut frame = ring.acquire_cuda(PixelFormat::Yuv420p, w, h, None).unwrap();
        frame.cuda_data_mut().unwrap().upload(&host).unwrap();
        assert_eq!(frame.to_host().unwrap().as_bytes(), &packed[..]);
        // Planes of another size or format are refused.
        let wrong = HostFrame::new_packed(PixelFormat::Nv12, w, h);
        let e = frame.cuda_data_mut().unwrap().upload(&wrong).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    }

    #[test]
    fn device_layouts_stack_planes() {
        let l = DeviceLayout::of(PixelFormat::Nv12, 33, 17);
        assert_eq!((l.width_bytes, l.rows, l.plane_rows, l.planes), (34, 17 + 9, [0, 17, 0], 2));
        let l = DeviceLayout::of(PixelFormat::P010, 32, 16);
        assert_eq!((l.width_bytes, l.rows, l.plane_rows), (64, 24, [0, 16, 0]));
        let l = DeviceLayout::of(PixelFormat::RgbPlanar, 10, 4);
        assert_eq!((l.width_bytes, l.rows, l.plane_rows, l.planes), (10, 12, [0, 4, 8], 3));
        let l = DeviceLayout::of(PixelFormat::Yuv420p, 10, 5);
        assert_eq!((l.width_bytes, l.rows, l.plane_rows), (10, 5 + 3 + 3, [0, 5, 8]));
        let l = DeviceLayout::of(PixelFormat::Bgra, 10, 4);
        assert_eq!((l.width_bytes, l.rows, l.planes), (40, 4, 1));
    }
}

/// Device memory without a GPU, for the tests of device-memory rings: "device
/// addresses" name host byte vectors, which copies and downloads read and write.
#[cfg(test)]
pub(crate) mod fake {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::{DeviceAllocator, DeviceBlock, DeviceLayout};
    use crate::codec::PixelFormat;
    use crate::error::{Error, Result};
    use crate::frame::{CudaFrame, DeviceFrameOwner, HostFrame};

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
        pub(crate) fn fill(&self, frame: &CudaFrame, pixels: &[u8]) {
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
        pub(crate) fn read(&self, frame: &CudaFrame) -> Vec<u8> {
            read(&self.memory, frame)
        }

        /// A frame in fake device memory of no ring's (as an engine's own pool lends).
        pub(crate) fn loose_frame(self: &Arc<Self>, format: PixelFormat, width: u32, height: u32) -> CudaFrame {
            let layout = DeviceLayout::of(format, width, height);
            let block = self.alloc(layout.width_bytes, layout.rows).unwrap();
            let memory = (block.ptr, block.pitch);
            CudaFrame::stacked(Box::new(block), memory, self.index, format, (width, height), self.owner(), 0)
        }
    }

    fn read(memory: &Memory, frame: &CudaFrame) -> Vec<u8> {
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
        fn download(&self, frame: &CudaFrame) -> Result<HostFrame> {
            let (w, h) = frame.size();
            HostFrame::from_packed(frame.format(), w, h, read(&self.0, frame))
        }

        fn upload(&self, frame: &CudaFrame, host: &HostFrame) -> Result<()> {
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

        fn copy_frame(&self, src: &CudaFrame, dst: &CudaFrame) -> Result<()> {
            assert_eq!((src.format(), src.size()), (dst.format(), dst.size()));
            let pixels = self.read(src);
            self.fill(dst, &pixels);
            self.copies.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
}
