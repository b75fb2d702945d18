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
//! Buffers are page-locked host memory when a CUDA driver is installed
//! ([`HostMemory::Auto`]), so a GPU engine can copy them by DMA; ordinary memory
//! otherwise. (Device-memory slots for CUDA frames are not offered yet: CUDA frames
//! already come from the decoder's own device pool and pass through the queue as they are.)
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
//! Locking is `parking_lot`'s `Mutex` and `Condvar`: one short critical section per
//! operation, timed waits, and no poisoning (a panicking thread cannot wedge the other
//! end of the ring).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::codec::PixelFormat;
use crate::config::FrameOptions;
use crate::error::{Error, Result};
use crate::frame::{Frame, HostBuffer, HostFrame};

/// The most frames a ring may queue.
pub const MAX_CAPACITY: usize = 1024;

/// What memory a ring's buffers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostMemory {
    /// Page-locked (pinned) host memory when a CUDA driver and GPU are present, ordinary
    /// memory otherwise.
    #[default]
    Auto,
    /// Always ordinary (pageable) memory.
    Pageable,
}

/// How to build a [`FrameRing`].
///
/// ```
/// use video_hw::pipeline::{FrameRing, HostMemory, RingConfig};
/// let ring = FrameRing::with_config(RingConfig::new(8).slots(12).memory(HostMemory::Pageable).name("capture"))?;
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
    pub memory: HostMemory,
    /// Name in errors, logs and the `queue` label of `video_hw_queue_depth`.
    pub name: String,
}

impl RingConfig {
    /// A ring of `capacity` frames, `capacity + 2` buffers, [`HostMemory::Auto`].
    pub fn new(capacity: usize) -> Self {
        RingConfig { capacity, slots: capacity.saturating_add(2), memory: HostMemory::Auto, name: "ring".into() }
    }

    /// Sets the number of reusable buffers.
    pub fn slots(mut self, slots: usize) -> Self {
        self.slots = slots;
        self
    }

    /// Sets the buffer memory.
    pub fn memory(mut self, memory: HostMemory) -> Self {
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

struct PoolState {
    free: Vec<HostBuffer>,
    /// Buffers lent out.
    leased: usize,
    allocations: u64,
    waits: u64,
    wait: Duration,
    closed: bool,
    pinned: bool,
}

struct Pool {
    name: String,
    slots: usize,
    pinned: bool,
    state: Mutex<PoolState>,
    freed: Condvar,
}

/// One buffer lent by a ring: `len` bytes of it belong to a frame. Given back on drop.
pub(crate) struct Slot {
    buf: Option<HostBuffer>,
    len: usize,
    pool: Arc<Pool>,
}

impl Slot {
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.as_ref().map_or(&[][..], |b| &b.as_slice()[..self.len])
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        let len = self.len;
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

impl Drop for Slot {
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

impl Pool {
    /// Lends a buffer of at least `bytes`, waiting while all are lent out (`wait`
    /// false: `Ok(None)` instead of waiting).
    fn take(self: &Arc<Self>, bytes: usize, wait_for: Option<Option<Duration>>) -> Result<Option<Slot>> {
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
        let fits = reused.as_ref().is_some_and(|b| b.len() >= bytes);
        if !fits {
            s.allocations += 1;
        }
        drop(s);
        let buf = match reused {
            Some(b) if b.len() >= bytes => b,
            // A new buffer (the first use of this slot, or one outgrown by a size change);
            // allocated outside the lock.
            _ => {
                let b = HostBuffer::zeroed(bytes, self.pinned);
                if b.is_pinned() {
                    self.state.lock().pinned = true;
                }
                b
            }
        };
        Ok(Some(Slot { buf: Some(buf), len: bytes, pool: self.clone() }))
    }

    fn close(&self) {
        self.state.lock().closed = true;
        self.freed.notify_all();
    }
}

// ---------------------------------------------------------------------------------------
// The ring

struct RingInner {
    queue: Queue<(Frame, FrameOptions)>,
    pool: Arc<Pool>,
}

/// A bounded queue of frames with a fixed set of reusable (page-locked where possible)
/// buffers; see the [module documentation](self). Cloning gives another handle to the
/// same ring (one for the producer, one for the consumer).
#[derive(Clone)]
pub struct FrameRing {
    inner: Arc<RingInner>,
}

impl std::fmt::Debug for FrameRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameRing")
            .field("name", &self.inner.queue.name)
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
    pub fn with_config(config: RingConfig) -> Result<FrameRing> {
        config.validate()?;
        let pool = Arc::new(Pool {
            name: config.name.clone(),
            slots: config.slots,
            pinned: config.memory == HostMemory::Auto,
            state: Mutex::new(PoolState {
                free: Vec::with_capacity(config.slots),
                leased: 0,
                allocations: 0,
                waits: 0,
                wait: Duration::ZERO,
                closed: false,
                pinned: false,
            }),
            freed: Condvar::new(),
        });
        Ok(FrameRing { inner: Arc::new(RingInner { queue: Queue::new(config.name, config.capacity), pool }) })
    }

    /// A buffer for a tightly packed `format` picture of `width` x `height`, waiting up
    /// to `timeout` (forever for `None`) while every buffer is lent out. Its contents are
    /// unspecified (an earlier frame's pixels). Wrap it with [`Frame::host`] and
    /// [`push`](Self::push) it; dropping it instead gives the buffer back.
    ///
    /// Errors: [`Error::Timeout`], [`Error::Closed`] once the ring is closed or
    /// cancelled, [`Error::InvalidInput`] for a zero or absurd size.
    pub fn acquire(
        &self,
        format: PixelFormat,
        width: u32,
        height: u32,
        timeout: Option<Duration>,
    ) -> Result<HostFrame> {
        let bytes = frame_bytes(format, width, height)?;
        let slot = self.inner.pool.take(bytes, Some(timeout))?.ok_or(Error::Timeout(Duration::ZERO))?;
        Ok(HostFrame::in_slot(format, width, height, slot))
    }

    /// Like [`acquire`](Self::acquire) but never waits: `Ok(None)` when every buffer is
    /// lent out.
    pub fn try_acquire(&self, format: PixelFormat, width: u32, height: u32) -> Result<Option<HostFrame>> {
        let bytes = frame_bytes(format, width, height)?;
        Ok(self.inner.pool.take(bytes, None)?.map(|slot| HostFrame::in_slot(format, width, height, slot)))
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
        self.inner.pool.close();
        self.inner.queue.close();
    }

    /// Stops the ring: every blocked or later `push`, `pop` or `acquire` fails with
    /// [`Error::Closed`]; queued frames are dropped (their buffers come back).
    pub fn cancel(&self) {
        self.inner.pool.close();
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
        self.inner.pool.slots
    }

    /// Everything at once.
    pub fn stats(&self) -> RingStats {
        let mut stats = RingStats::default();
        self.inner.queue.fill(&mut stats);
        let p = self.inner.pool.state.lock();
        stats.slots = self.inner.pool.slots;
        stats.in_use = p.leased;
        stats.allocations = p.allocations;
        stats.pinned = p.pinned;
        stats.producer_waits += p.waits;
        stats.producer_wait += p.wait;
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
/// `None` (no ring, or every slot lent out: the engine then allocates, so a slow
/// consumer never blocks an engine in the middle of a call).
pub(crate) fn take_output_slot(format: PixelFormat, width: u32, height: u32) -> Option<HostFrame> {
    let ring = OUTPUT.with(|o| o.borrow().clone())?;
    ring.try_acquire(format, width, height).ok().flatten()
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
        let ring = FrameRing::with_config(RingConfig::new(1).slots(2).memory(HostMemory::Pageable)).unwrap();
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
        let ring = FrameRing::with_config(RingConfig::new(2).memory(HostMemory::Pageable)).unwrap();
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
}
