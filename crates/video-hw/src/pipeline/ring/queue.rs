//! The bounded queue of a frame ring: multi-producer, multi-consumer, with close,
//! cancel, timeouts, a brief spin before blocking, and depth figures.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
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
