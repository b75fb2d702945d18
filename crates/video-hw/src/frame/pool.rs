//! The buffer pool behind frame rings: at most `slots` buffers of host or device memory,
//! lent out one at a time as the storage of frames ([`Slot`], [`DeviceSlot`]), waited
//! for when all are lent, given back when the frame drops, reused, and counted.
//!
//! [`FrameSlots`] is the set of buffers one ring lends, host or device. It lives here,
//! with the frames it makes, rather than in `pipeline` with the ring's queue: engines
//! take their output frames from it (see [`super::output`]) and frames give their slots
//! back to it, and neither may depend on the pipelines above them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::memory::{DeviceAllocator, DeviceBlock, DeviceLayout, HostBuffer, PinnedAlloc};
use super::{DeviceFrame, DeviceFrameOwner, HostFrame};
use crate::codec::PixelFormat;
use crate::error::{Error, Result};

/// Waits on `cv` until `deadline` (forever for `None`); false when the deadline passed.
pub(crate) fn wait<T>(cv: &Condvar, guard: &mut MutexGuard<'_, T>, deadline: Option<Instant>) -> bool {
    match deadline {
        None => {
            cv.wait(guard);
            true
        }
        Some(d) => !cv.wait_until(guard, d).timed_out(),
    }
}

/// The instant `timeout` from now (`None`: no deadline).
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    // A timeout too large to represent waits forever.
    timeout.and_then(|t| Instant::now().checked_add(t))
}

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

    /// The whole page-locked buffer (at least the slot's bytes) as the type its engine
    /// made, if it is one.
    pub(crate) fn pinned_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.buf.as_mut()?.pinned_mut()
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

    /// The pool's figures so far.
    fn figures(&self) -> SlotFigures {
        let p = self.state.lock();
        SlotFigures {
            slots: self.slots,
            in_use: p.leased,
            allocations: p.allocations,
            waits: p.waits,
            wait: p.wait,
            ..SlotFigures::default()
        }
    }
}

impl SlotMemory for DeviceBlock {
    type Size = (usize, usize);

    fn fits(&self, (width_bytes, rows): (usize, usize)) -> bool {
        self.width_bytes >= width_bytes && self.rows >= rows
    }
}

/// A device allocation lent by a ring (the lease of a ring-backed [`DeviceFrame`]).
pub(crate) type DeviceSlot = Lease<DeviceBlock>;

/// Checks a picture size and gives its tightly packed byte count.
fn frame_bytes(format: PixelFormat, width: u32, height: u32) -> Result<usize> {
    const MAX_DIM: u32 = 16384;
    if width == 0 || height == 0 || width > MAX_DIM || height > MAX_DIM {
        return Err(Error::invalid_input(format!("frame size {width}x{height} (each side 1..={MAX_DIM})")));
    }
    Ok(format.frame_size(width, height))
}

/// Figures of a set of slots so far (a ring's `RingStats` take them).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SlotFigures {
    /// Reusable buffers.
    pub(crate) slots: usize,
    /// Buffers lent out now.
    pub(crate) in_use: usize,
    /// Buffer allocations.
    pub(crate) allocations: u64,
    /// Times a taker waited for a free buffer.
    pub(crate) waits: u64,
    /// Total time takers waited.
    pub(crate) wait: Duration,
    /// Whether some host buffer is page-locked.
    pub(crate) pinned: bool,
    /// The GPU of a device-memory set.
    pub(crate) device: Option<u32>,
    /// Device sets: frames copied into a slot on their way in ([`DeviceSlots::adopted`]).
    pub(crate) adopted: u64,
}

/// The buffers one ring lends: host memory (page-locked where the ring's allocator gives
/// it) or device memory of one GPU.
pub(crate) enum FrameSlots {
    /// Host buffers.
    Host {
        pool: Arc<Pool<HostBuffer>>,
        /// Where page-locked memory comes from, when the ring asks for it.
        pin: Option<PinnedAlloc>,
        /// Whether some buffer is page-locked.
        pinned: AtomicBool,
    },
    /// Device buffers.
    Device(DeviceSlots),
}

impl FrameSlots {
    /// At most `slots` host buffers, page-locked from `pin` where it gives them; `name`
    /// is the ring's, for errors.
    pub(crate) fn host(name: &str, slots: usize, pin: Option<PinnedAlloc>) -> FrameSlots {
        FrameSlots::Host { pool: Pool::new(name, slots), pin, pinned: AtomicBool::new(false) }
    }

    /// At most `slots` device buffers from `alloc`.
    pub(crate) fn device(name: &str, slots: usize, alloc: Arc<dyn DeviceAllocator>) -> FrameSlots {
        FrameSlots::Device(DeviceSlots {
            pool: Pool::new(name, slots),
            owner: alloc.owner(),
            alloc,
            adopted: AtomicU64::new(0),
        })
    }

    /// A host slot of `bytes` (`wait_for` as in [`Pool::take`]), a new buffer coming from
    /// `alloc` (given the byte count); marks the slots pinned when it gives page-locked memory.
    fn host_slot(
        &self,
        bytes: usize,
        wait_for: Option<Option<Duration>>,
        alloc: impl FnOnce(usize) -> Result<HostBuffer>,
    ) -> Result<Option<Slot>> {
        match self {
            FrameSlots::Host { pool, pinned, .. } => pool.take(bytes, wait_for, || {
                let b = alloc(bytes)?;
                if b.is_pinned() {
                    pinned.store(true, Ordering::Relaxed);
                }
                Ok(b)
            }),
            FrameSlots::Device(d) => Err(Error::invalid_input(format!(
                "{} lends device memory: take its buffers with acquire_cuda",
                d.pool.name
            ))),
        }
    }

    /// A host buffer for a tightly packed `format` picture as a frame (`wait_for` as in
    /// [`Pool::take`]). `InvalidInput` for a zero or absurd size, or device slots.
    pub(crate) fn acquire_host(
        &self,
        format: PixelFormat,
        width: u32,
        height: u32,
        wait_for: Option<Option<Duration>>,
    ) -> Result<Option<HostFrame>> {
        let bytes = frame_bytes(format, width, height)?;
        let pin = match self {
            FrameSlots::Host { pin, .. } => *pin,
            FrameSlots::Device(_) => None,
        };
        let slot = self.host_slot(bytes, wait_for, |n| Ok(HostBuffer::zeroed(n, pin)))?;
        Ok(slot.map(|slot| HostFrame::in_slot(format, width, height, slot)))
    }

    /// A host frame of `format` and size from these slots without waiting (`None` while
    /// every slot is lent out), a new buffer coming from `alloc` (given its byte count)
    /// instead of the allocator the slots were made with: for an engine that keeps slots of
    /// memory it makes itself (page-locked in its own context). `InvalidInput` for a zero
    /// or absurd size, or device slots.
    pub(crate) fn try_acquire_host_from(
        &self,
        format: PixelFormat,
        width: u32,
        height: u32,
        alloc: impl FnOnce(usize) -> Result<HostBuffer>,
    ) -> Result<Option<HostFrame>> {
        let bytes = frame_bytes(format, width, height)?;
        let slot = self.host_slot(bytes, None, alloc)?;
        Ok(slot.map(|slot| HostFrame::in_slot(format, width, height, slot)))
    }

    /// The device slots; `InvalidInput` for host slots.
    pub(crate) fn device_slots(&self) -> Result<&DeviceSlots> {
        match self {
            FrameSlots::Device(d) => Ok(d),
            FrameSlots::Host { pool, .. } => Err(Error::invalid_input(format!(
                "{} lends host memory: take its buffers with acquire (or open it with RingMemory::Cuda)",
                pool.name
            ))),
        }
    }

    /// A free device slot of at least `width_bytes` x `rows` for an engine on GPU
    /// `device`, without waiting: `None` for host slots, another GPU, every slot lent
    /// out, or a failed allocation (the engine then uses memory of its own).
    pub(crate) fn lease_device(&self, device: u32, width_bytes: usize, rows: usize) -> Option<DeviceSlot> {
        let FrameSlots::Device(d) = self else { return None };
        if d.alloc.device_index() != device {
            return None;
        }
        d.pool.take((width_bytes, rows), None, || d.alloc.alloc(width_bytes, rows)).ok().flatten()
    }

    /// Ends lending: every waiting and later take fails with `Closed`.
    pub(crate) fn close(&self) {
        match self {
            FrameSlots::Host { pool, .. } => pool.close(),
            FrameSlots::Device(d) => d.pool.close(),
        }
    }

    /// Reusable buffers.
    pub(crate) fn slots(&self) -> usize {
        match self {
            FrameSlots::Host { pool, .. } => pool.slots,
            FrameSlots::Device(d) => d.pool.slots,
        }
    }

    /// Figures so far.
    pub(crate) fn figures(&self) -> SlotFigures {
        match self {
            FrameSlots::Host { pool, pinned, .. } => {
                SlotFigures { pinned: pinned.load(Ordering::Relaxed), ..pool.figures() }
            }
            FrameSlots::Device(d) => SlotFigures {
                device: Some(d.alloc.device_index()),
                adopted: d.adopted.load(Ordering::Relaxed),
                ..d.pool.figures()
            },
        }
    }
}

/// A device-memory ring's buffers.
pub(crate) struct DeviceSlots {
    pool: Arc<Pool<DeviceBlock>>,
    /// Where the buffers come from (and what copies into them).
    pub(crate) alloc: Arc<dyn DeviceAllocator>,
    owner: Arc<dyn DeviceFrameOwner>,
    /// Frames made elsewhere that were copied into a slot on their way in.
    pub(crate) adopted: AtomicU64,
}

impl DeviceSlots {
    /// Lends a slot for a `format` picture (`wait_for` as in [`Pool::take`]) and wraps it
    /// as a CUDA frame.
    pub(crate) fn lease(
        &self,
        format: PixelFormat,
        width: u32,
        height: u32,
        wait_for: Option<Option<Duration>>,
    ) -> Result<Option<DeviceFrame>> {
        frame_bytes(format, width, height)?;
        let layout = DeviceLayout::of(format, width, height);
        let size = (layout.width_bytes, layout.rows);
        let slot = self.pool.take(size, wait_for, || self.alloc.alloc(size.0, size.1))?;
        let index = self.alloc.device_index();
        Ok(slot.map(|slot| DeviceFrame::in_slot(slot, index, format, width, height, self.owner.clone(), 0)))
    }

    /// Whether `frame` is in one of these slots.
    pub(crate) fn owns(&self, frame: &DeviceFrame) -> bool {
        frame.slot().is_some_and(|s| s.is_from(&self.pool))
    }
}
