//! Decoder creations per GPU: one `cuvidCreateDecoder` at a time, and a count of those
//! under way that a burst of sessions can wait on before decoding (an experiment, off by
//! default: `VIDEO_HW_NVDEC_CREATE_BARRIER=1`).
//!
//! Why the barrier: on an H200, 7 sessions that take decoder objects created beforehand
//! decode the benchmark clip at 8,878 fps, while 7 that create theirs as their streams start
//! reach 7,300 in a warm process — and stay slower after the last creation, not only by the
//! ~0.35 s the serialised creations take (docs/nvdec-many-streams.md). With the barrier, a
//! session submits its first picture only once no creation already under way on its GPU
//! (waiting for its turn or running) is left, or after [`BARRIER_WAIT`]. Sessions opened
//! together reach their creation within a few milliseconds of each other, so a burst's
//! decoders are all created before any of them decodes; a session that parses its first
//! sequence later, and sessions already decoding, are not held.

use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// GPUs tracked (device ordinals are taken modulo this).
const GPUS: usize = 16;

/// Longest a session waits at the barrier: a creation takes ~40-600 ms, and a session must
/// never hang on another one's failure.
pub(crate) const BARRIER_WAIT: Duration = Duration::from_secs(2);

/// One `cuvidCreateDecoder` at a time per GPU in this process.
///
/// The driver time-slices concurrent creations: on an H200 one alone takes ~40-48 ms, 7
/// at once ~280 ms each and 14 at once ~590 ms each, so every session of a burst got its
/// first frame late. In turn, the first sessions decode while the later ones are created:
/// 14 streams 6,530-6,570 fps instead of 6,030-6,080 (7 at a time: 6,060-6,080), 7 streams
/// unchanged (bench/results/nvdec-ablation.md).
pub(crate) fn turn(device: u32) -> MutexGuard<'static, ()> {
    static TURN: [Mutex<()>; GPUS] = [const { Mutex::new(()) }; GPUS];
    TURN[device as usize % GPUS].lock().unwrap_or_else(|p| p.into_inner())
}

/// Marks a creation under way on `device` (waiting for its turn or running) until the
/// returned guard drops.
pub(crate) fn pending(device: u32) -> PendingGuard {
    PENDING.enter(device as usize % GPUS)
}

/// Whether sessions wait at the barrier (`VIDEO_HW_NVDEC_CREATE_BARRIER=1`).
pub(crate) fn barrier_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("VIDEO_HW_NVDEC_CREATE_BARRIER").is_ok_and(|v| v.trim() == "1"))
}

/// Waits (at most `limit`) until no creation is under way on `device`; false on timeout.
pub(crate) fn wait_until_none_pending(device: u32, limit: Duration) -> bool {
    PENDING.wait_idle(device as usize % GPUS, limit)
}

static PENDING: Pending = Pending::new();

/// Counts of work under way per slot, with a wait for a slot to reach zero.
struct Pending {
    counts: Mutex<[usize; GPUS]>,
    idle: Condvar,
}

/// Ends one [`Pending::enter`] when dropped.
pub(crate) struct PendingGuard {
    pending: &'static Pending,
    slot: usize,
}

impl Pending {
    const fn new() -> Pending {
        Pending { counts: Mutex::new([0; GPUS]), idle: Condvar::new() }
    }

    fn counts(&self) -> MutexGuard<'_, [usize; GPUS]> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&'static self, slot: usize) -> PendingGuard {
        self.counts()[slot] += 1;
        PendingGuard { pending: self, slot }
    }

    fn wait_idle(&self, slot: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut counts = self.counts();
        while counts[slot] > 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
                return false;
            };
            counts = self.idle.wait_timeout(counts, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        true
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        let mut counts = self.pending.counts();
        counts[self.slot] = counts[self.slot].saturating_sub(1);
        if counts[self.slot] == 0 {
            self.pending.idle.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_idle_returns_at_once_with_nothing_pending_and_times_out_while_something_is() {
        static P: Pending = Pending::new();
        assert!(P.wait_idle(3, Duration::ZERO));
        let guard = P.enter(3);
        let started = Instant::now();
        assert!(!P.wait_idle(3, Duration::from_millis(30)), "a creation is pending");
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(P.wait_idle(4, Duration::ZERO), "other GPUs are not affected");
        drop(guard);
        assert!(P.wait_idle(3, Duration::ZERO));
    }

    #[test]
    fn waiters_wake_when_the_last_pending_creation_ends() {
        static P: Pending = Pending::new();
        let (a, b) = (P.enter(0), P.enter(0));
        let waiter = std::thread::spawn(|| P.wait_idle(0, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        drop(a);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "one creation is still pending");
        drop(b);
        assert!(waiter.join().unwrap(), "woken before the time limit");
    }
}
