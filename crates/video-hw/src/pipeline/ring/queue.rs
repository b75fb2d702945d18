//! The bounded queue of a frame ring: multi-producer, multi-consumer, with close,
//! cancel, timeouts, a brief spin before blocking, and depth figures. Threads block on
//! it; async tasks poll it (`poll_pop`, `poll_push_ready`) and are woken by the other
//! side, so the same queue joins a worker thread to async code.
//!
//! Wake-ups are what an async hand-over costs most (a futex wake and, on an idle core, an
//! inter-processor interrupt: several microseconds on a virtual machine), so a producer
//! task waiting for room is woken once the queue has drained to half, not for every item
//! taken: it then refills half the queue in one go.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::RingStats;
use crate::error::{Error, Result};
use crate::frame::pool::{deadline, wait};

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
    /// Tasks waiting for an item (or the end).
    pop_wakers: Vec<Waker>,
    /// Tasks waiting for room (or the end).
    push_wakers: Vec<Waker>,
    /// Since when a task has been waiting for an item (for the consumer-wait figure).
    pop_pending_since: Option<Instant>,
    /// Since when a task has been waiting for room.
    push_pending_since: Option<Instant>,
}

impl<T> QueueState<T> {
    /// The producer tasks to wake after an item was taken: once the queue is down to
    /// half (or ended), all of them.
    fn producers_to_wake(&mut self, capacity: usize) -> Vec<Waker> {
        if self.push_wakers.is_empty() || (self.items.len() > capacity / 2 && self.end == End::Open) {
            return Vec::new();
        }
        if let Some(since) = self.push_pending_since.take() {
            self.push_wait += since.elapsed();
        }
        std::mem::take(&mut self.push_wakers)
    }

    /// The consumer tasks to wake after an item came (or the queue ended).
    fn consumers_to_wake(&mut self) -> Vec<Waker> {
        if self.pop_wakers.is_empty() {
            return Vec::new();
        }
        if let Some(since) = self.pop_pending_since.take() {
            self.pop_wait += since.elapsed();
        }
        std::mem::take(&mut self.pop_wakers)
    }
}

/// Keeps `waker` in `list` unless a waker of the same task is there already (a task
/// polled again while it waits must not grow the list).
pub(crate) fn register(list: &mut Vec<Waker>, waker: &Waker) {
    if !list.iter().any(|w| w.will_wake(waker)) {
        list.push(waker.clone());
    }
}

/// Wakes tasks taken out of a queue's state (outside its lock).
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
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
                pop_wakers: Vec::new(),
                push_wakers: Vec::new(),
                pop_pending_since: None,
                push_pending_since: None,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            depth_gauge: OnceLock::new(),
            hint: AtomicUsize::new(0),
        }
    }

    /// The queue's name (the ring's).
    pub(crate) fn name(&self) -> &str {
        &self.name
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
        self.push_inner(item, timeout, false)
    }

    /// [`push`](Self::push) that leaves a waiting consumer (task or thread) asleep while
    /// the queue is less than half full: a producer about to push more at once saves a
    /// wake-up per item, and the consumer then takes several items per wake-up. The
    /// producer must call [`wake_consumers`](Self::wake_consumers) (or make a plain push)
    /// before it may stop pushing for long; a push that has to wait for room, `close` and
    /// `cancel` wake them too.
    pub(crate) fn push_quiet(&self, item: T, timeout: Option<Duration>) -> std::result::Result<(), (Error, T)> {
        self.push_inner(item, timeout, true)
    }

    /// Wakes the consumers that wait while items are queued (after [`push_quiet`](Self::push_quiet)).
    pub(crate) fn wake_consumers(&self) {
        let mut s = self.state.lock();
        if s.items.is_empty() {
            return;
        }
        let tasks = s.consumers_to_wake();
        drop(s);
        self.not_empty.notify_all();
        wake_all(tasks);
    }

    fn push_inner(&self, item: T, timeout: Option<Duration>, quiet: bool) -> std::result::Result<(), (Error, T)> {
        if self.hint.load(Ordering::Relaxed) == self.capacity && timeout != Some(Duration::ZERO) {
            spin_until(|| self.hint.load(Ordering::Relaxed) != self.capacity);
        }
        let mut s = self.state.lock();
        if s.items.len() >= self.capacity && s.end == End::Open {
            // Consumers left asleep by quiet pushes must run for room to appear.
            let tasks = s.consumers_to_wake();
            if !tasks.is_empty() || quiet {
                drop(s);
                self.not_empty.notify_all();
                wake_all(tasks);
                s = self.state.lock();
            }
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
        self.append(s, item, quiet);
        Ok(())
    }

    /// Queues `item`; a quiet append wakes nobody until the queue is half full.
    fn append(&self, mut s: parking_lot::MutexGuard<'_, QueueState<T>>, item: T, quiet: bool) {
        s.items.push_back(item);
        s.pushed += 1;
        let depth = s.items.len();
        self.hint.store(depth, Ordering::Relaxed);
        s.peak = s.peak.max(depth);
        if quiet && depth < self.capacity.div_ceil(2) {
            drop(s);
            self.report_depth(depth);
            return;
        }
        let tasks = s.consumers_to_wake();
        drop(s);
        if depth > 1 {
            // Several items wait (some pushed quietly): every waiting thread may take one.
            self.not_empty.notify_all();
        } else {
            self.not_empty.notify_one();
        }
        wake_all(tasks);
        self.report_depth(depth);
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
        self.take(s)
    }

    /// Takes the oldest item from the queue whose lock `s` is, then lets a waiting
    /// producer know; or says why there is none (`Ok(None)`: closed and drained;
    /// `Err(Closed)`: cancelled; `Ok(None)` too for an open empty queue, which callers
    /// rule out first).
    fn take(&self, mut s: parking_lot::MutexGuard<'_, QueueState<T>>) -> Result<Option<T>> {
        match s.items.pop_front() {
            Some(item) => {
                s.popped += 1;
                let depth = s.items.len();
                if s.end == End::Open {
                    self.hint.store(depth, Ordering::Relaxed);
                }
                let tasks = s.producers_to_wake(self.capacity);
                // Blocked producer threads, like tasks, are woken once the queue is down to
                // half (they then refill it in one go); one spinning on `hint` sees the room
                // at once without a wake-up.
                let wake_threads = depth <= self.capacity / 2;
                drop(s);
                if wake_threads {
                    self.not_full.notify_all();
                }
                wake_all(tasks);
                self.report_depth(depth);
                Ok(Some(item))
            }
            None if s.end == End::Cancelled => Err(self.closed_error()),
            None => Ok(None),
        }
    }

    /// The async [`pop`](Self::pop): the oldest item, or `Pending` (the task is woken
    /// when an item comes or the queue ends) while the queue is open and empty.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Result<Option<T>>> {
        let mut s = self.state.lock();
        if s.items.is_empty() && s.end == End::Open {
            if s.pop_pending_since.is_none() {
                s.pop_waits += 1;
                s.pop_pending_since = Some(Instant::now());
            }
            register(&mut s.pop_wakers, cx.waker());
            return Poll::Pending;
        }
        Poll::Ready(self.take(s))
    }

    /// Whether an item can be pushed now without waiting: `Ready(Ok)` while the queue
    /// has room, `Ready(Err(Closed))` once it is closed or cancelled, else `Pending`
    /// (the task is woken once the queue has drained to half, or ends).
    pub(crate) fn poll_push_ready(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut s = self.state.lock();
        if s.end != End::Open {
            return Poll::Ready(Err(self.closed_error()));
        }
        if s.items.len() < self.capacity {
            return Poll::Ready(Ok(()));
        }
        if s.push_pending_since.is_none() {
            s.push_waits += 1;
            s.push_pending_since = Some(Instant::now());
        }
        register(&mut s.push_wakers, cx.waker());
        Poll::Pending
    }

    /// Appends `item` without waiting, after [`poll_push_ready`](Self::poll_push_ready)
    /// said there was room (a blocking producer racing the task may have taken it: the
    /// queue then holds one item over its capacity, which bounds it still). Fails with
    /// `Closed` once the queue is closed or cancelled, handing the item back.
    pub(crate) fn push_now(&self, item: T) -> std::result::Result<(), (Error, T)> {
        let s = self.state.lock();
        if s.end != End::Open {
            return Err((self.closed_error(), item));
        }
        self.append(s, item, false);
        Ok(())
    }

    /// Ends the stream: pushes fail from now on; pops drain what is queued, then
    /// return `None`.
    pub(crate) fn close(&self) {
        let mut s = self.state.lock();
        if s.end == End::Open {
            s.end = End::Closed;
        }
        self.hint.store(usize::MAX, Ordering::Relaxed);
        let tasks = [s.consumers_to_wake(), s.producers_to_wake(self.capacity)];
        drop(s);
        self.not_empty.notify_all();
        self.not_full.notify_all();
        tasks.into_iter().for_each(wake_all);
    }

    /// Stops everything: pushes and pops fail from now on. Returns what was queued, so
    /// the caller drops it outside the lock.
    pub(crate) fn cancel(&self) -> Vec<T> {
        let mut s = self.state.lock();
        s.end = End::Cancelled;
        self.hint.store(usize::MAX, Ordering::Relaxed);
        let items: Vec<T> = s.items.drain(..).collect();
        let tasks = [s.consumers_to_wake(), s.producers_to_wake(self.capacity)];
        drop(s);
        self.not_empty.notify_all();
        self.not_full.notify_all();
        tasks.into_iter().for_each(wake_all);
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
    pub(super) fn fill(&self, stats: &mut RingStats) {
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
