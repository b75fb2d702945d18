//! Decoder creations per GPU: one `cuvidCreateDecoder` at a time, and the creation
//! barrier — a burst of sessions no larger than the GPU's NVDEC engines starts decoding
//! together, once its decoders exist (on by default; `VIDEO_HW_NVDEC_CREATE_BARRIER=0`
//! turns it off, `=all` holds every session while any creation is under way, for
//! measurements: [`BarrierRule`]).
//!
//! Why: decoders created while others decode slow those down. On an H200, 7 sessions
//! opened together on the benchmark clip, each creating its decoder as its stream starts,
//! decode at 6,700-6,800 fps (cold process; the sessions end at their own times, 960-1,070
//! fps each), and at 7,260-7,420 when each submits its first picture only once the burst's
//! creations are done (they end together at 1,040-1,060 fps). With more sessions than
//! engines the barrier costs more than it saves (14 streams: 6,450 fps when every session
//! waited for every creation, 6,740-6,830 when the first 7 went once created, 7,000-7,070
//! without it), so a session waits only while creations are under way on its GPU and the
//! sessions decoding, waiting and being created there fit its engines — and at most
//! [`BARRIER_WAIT`]. A session that reaches its first picture while no creation is under
//! way on its GPU, and sessions already decoding, are never held; a session counts as
//! decoding from its first picture until its stream is flushed or it is dropped
//! (bench/results/nvdec-ablation.md, section e248a5b).
//!
//! A session opened with `DecoderConfig::start_at_once` never waits: its caller waits on
//! its first frames, not on the burst's total. `FrameReader`'s sessions are such: its
//! read-ahead hands out the first GOP's frames while the GOPs after it decode, so that
//! GOP's session gates every frame. `video-hw decode` of the 3,030-frame HEVC clip (7
//! sessions, host YUV420P to /dev/null) had its first frame at ~500 ms of the process
//! with the barrier and ~255 ms without, and ended in ~1.66 s instead of ~1.90 s (H200,
//! 2026-11-22).

use std::sync::{Condvar, Mutex, MutexGuard};
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

/// Which sessions wait at the barrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BarrierRule {
    /// None (`VIDEO_HW_NVDEC_CREATE_BARRIER=0`).
    Off,
    /// A session waits while creations are under way and the sessions decoding, waiting
    /// and being created fit the engines (the default).
    FitsEngines,
    /// Every session waits while any creation is under way on its GPU, however many
    /// (`VIDEO_HW_NVDEC_CREATE_BARRIER=all`; for measuring large bursts).
    All,
}

/// The barrier rule in force: [`BarrierRule::FitsEngines`] unless
/// `VIDEO_HW_NVDEC_CREATE_BARRIER` says `0` or `all`.
pub(crate) fn barrier_rule() -> BarrierRule {
    match crate::env::settings().nvdec_create_barrier {
        crate::env::CreateBarrier::Off => BarrierRule::Off,
        crate::env::CreateBarrier::All => BarrierRule::All,
        crate::env::CreateBarrier::FitsEngines => BarrierRule::FitsEngines,
    }
}

/// Called before a session's first picture on `device`, whose codec has `engines` NVDEC
/// engines: waits at the barrier (see the module's comment; with it on, and unless the
/// session starts `at_once`), then counts the session as decoding there until the
/// returned guard drops.
pub(crate) fn start_decoding(device: u32, engines: u8, limit: Duration, at_once: bool) -> DecodingGuard {
    let started = Instant::now();
    let rule = if at_once { BarrierRule::Off } else { barrier_rule() };
    let (guard, wait) = PENDING.start(device as usize % GPUS, usize::from(engines.max(1)), rule, limit);
    if wait != Wait::None {
        super::super::call_times::CREATION_BARRIER.add(started.elapsed());
    }
    if wait == Wait::TimedOut {
        super::super::call_times::CREATION_BARRIER_TIMEOUTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!("nvdec: decoder creations still under way after {limit:?}");
    }
    guard
}

/// How a session passed the barrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// It did not wait.
    None,
    /// It waited until it could go.
    Done,
    /// It waited until the limit.
    TimedOut,
}

static PENDING: Pending = Pending::new();

/// Per GPU: creations under way, and sessions decoding or waiting for those creations.
struct Pending {
    slots: Mutex<[Slot; GPUS]>,
    changed: Condvar,
}

/// One GPU's creations under way and its sessions decoding or waiting at the barrier.
#[derive(Clone, Copy)]
struct Slot {
    pending: usize,
    decoding: usize,
    waiting: usize,
}

impl Slot {
    /// Whether a session waiting (counted in `waiting`) goes on under `rule`: nothing left
    /// to wait for, or (the default rule) a burst larger than the engines (waiting would
    /// leave engines idle).
    fn may_go(&self, engines: usize, rule: BarrierRule) -> bool {
        match rule {
            BarrierRule::Off => true,
            BarrierRule::All => self.pending == 0,
            BarrierRule::FitsEngines => self.pending == 0 || self.decoding + self.waiting + self.pending > engines,
        }
    }
}

/// Ends one [`pending`] when dropped.
pub(crate) struct PendingGuard {
    of: &'static Pending,
    slot: usize,
}

/// Ends one [`start_decoding`] when dropped.
pub(crate) struct DecodingGuard {
    of: &'static Pending,
    slot: usize,
}

impl Pending {
    const fn new() -> Pending {
        const IDLE: Slot = Slot { pending: 0, decoding: 0, waiting: 0 };
        Pending { slots: Mutex::new([IDLE; GPUS]), changed: Condvar::new() }
    }

    fn slots(&self) -> MutexGuard<'_, [Slot; GPUS]> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&'static self, slot: usize) -> PendingGuard {
        self.slots()[slot].pending += 1;
        // A larger burst releases the sessions waiting for a smaller one.
        self.changed.notify_all();
        PendingGuard { of: self, slot }
    }

    /// The barrier (under `rule`), then the session counted as decoding. A session leaves
    /// the waiting count and enters the decoding count at once, so the others see the same
    /// burst size.
    fn start(&'static self, slot: usize, engines: usize, rule: BarrierRule, limit: Duration) -> (DecodingGuard, Wait) {
        let deadline = Instant::now() + limit;
        let mut slots = self.slots();
        let mut how = Wait::None;
        slots[slot].waiting += 1;
        // One more session can make the burst larger than the engines: the others go too.
        self.changed.notify_all();
        while !slots[slot].may_go(engines, rule) {
            let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
                how = Wait::TimedOut;
                break;
            };
            how = Wait::Done;
            slots = self.changed.wait_timeout(slots, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        slots[slot].waiting -= 1;
        slots[slot].decoding += 1;
        (DecodingGuard { of: self, slot }, how)
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        let mut slots = self.of.slots();
        let slot = &mut slots[self.slot];
        slot.pending = slot.pending.saturating_sub(1);
        if slot.pending == 0 {
            self.of.changed.notify_all();
        }
    }
}

impl Drop for DecodingGuard {
    fn drop(&mut self) {
        let mut slots = self.of.slots();
        slots[self.slot].decoding = slots[self.slot].decoding.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn counts(p: &Pending, slot: usize) -> (usize, usize, usize) {
        let s = p.slots()[slot];
        (s.pending, s.decoding, s.waiting)
    }

    #[test]
    fn a_session_goes_at_once_with_nothing_pending_and_waits_at_most_the_limit_otherwise() {
        static P: Pending = Pending::new();
        assert_eq!(P.start(3, 7, BarrierRule::FitsEngines, Duration::ZERO).1, Wait::None);
        let creating = P.enter(3);
        let started = Instant::now();
        let (decoding, wait) = P.start(3, 7, BarrierRule::FitsEngines, Duration::from_millis(30));
        assert_eq!(wait, Wait::TimedOut, "a creation is pending");
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert_eq!(counts(&P, 3), (1, 1, 0), "counted as decoding after the time-out");
        assert_eq!(
            P.start(4, 7, BarrierRule::FitsEngines, Duration::ZERO).1,
            Wait::None,
            "other GPUs are not affected"
        );
        assert_eq!(P.start(3, 7, BarrierRule::Off, Duration::ZERO).1, Wait::None, "barrier off: no wait");
        drop((creating, decoding));
    }

    #[test]
    fn a_session_that_starts_at_once_does_not_wait_for_pending_creations() {
        // GPU 15 of the process-wide state: no other test uses it.
        let creating = pending(15);
        let started = Instant::now();
        let decoding = start_decoding(15, 7, 10 * SECOND, true);
        assert!(started.elapsed() < SECOND, "did not wait for the pending creation");
        assert_eq!(counts(&PENDING, 15), (1, 1, 0), "counted as decoding");
        drop((creating, decoding));
        assert_eq!(counts(&PENDING, 15), (0, 0, 0));
    }

    #[test]
    fn waiters_go_when_the_last_pending_creation_ends() {
        static P: Pending = Pending::new();
        let (a, b) = (P.enter(0), P.enter(0));
        let waiter = std::thread::spawn(|| P.start(0, 7, BarrierRule::FitsEngines, 10 * SECOND).1);
        std::thread::sleep(Duration::from_millis(20));
        drop(a);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "one creation is still pending");
        drop(b);
        assert_eq!(waiter.join().unwrap(), Wait::Done, "woken before the time limit");
        assert_eq!(counts(&P, 0), (0, 0, 0), "the waiter's decoding guard dropped with its thread");
    }

    #[test]
    fn a_burst_larger_than_the_engines_does_not_wait() {
        static P: Pending = Pending::new();
        let creating: Vec<_> = (0..2).map(|_| P.enter(1)).collect();
        let first = std::thread::spawn(|| P.start(1, 3, BarrierRule::FitsEngines, 10 * SECOND).1);
        std::thread::sleep(Duration::from_millis(30));
        assert!(!first.is_finished(), "1 waiting + 2 being created fit 3 engines");
        let third = P.enter(1);
        assert_eq!(first.join().unwrap(), Wait::Done, "a fourth creation releases it");
        let (_decoding, wait) = P.start(1, 3, BarrierRule::FitsEngines, Duration::ZERO);
        assert_eq!(wait, Wait::None, "1 starting + 3 pending exceed 3 engines");
        drop((creating, third));
    }

    #[test]
    fn a_session_arriving_without_a_creation_releases_the_waiters_of_a_burst_it_overfills() {
        static P: Pending = Pending::new();
        let creating: Vec<_> = (0..2).map(|_| P.enter(5)).collect();
        let waiter = std::thread::spawn(|| {
            let started = Instant::now();
            (P.start(5, 3, BarrierRule::FitsEngines, 10 * SECOND).1, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(30));
        assert!(!waiter.is_finished(), "1 waiting + 2 being created fit 3 engines");
        // A session that took a parked decoder: no creation of its own, but 2 + 2 > 3.
        let (_reused, wait) = P.start(5, 3, BarrierRule::FitsEngines, Duration::ZERO);
        assert_eq!(wait, Wait::None);
        let (wait, waited) = waiter.join().unwrap();
        assert!(wait == Wait::Done && waited < 5 * SECOND, "woken by the arrival, not by its time limit");
        drop(creating);
    }

    #[test]
    fn under_the_all_rule_a_burst_larger_than_the_engines_waits_too() {
        static P: Pending = Pending::new();
        let creating: Vec<_> = (0..4).map(|_| P.enter(6)).collect();
        let (_decoding, wait) = P.start(6, 3, BarrierRule::All, Duration::from_millis(10));
        assert_eq!(wait, Wait::TimedOut, "4 creations pending: it waits, however many engines");
        drop(creating);
        assert_eq!(P.start(6, 3, BarrierRule::All, Duration::ZERO).1, Wait::None, "none pending");
    }

    #[test]
    fn sessions_decoding_count_towards_the_engines() {
        static P: Pending = Pending::new();
        let creating = P.enter(2);
        let busy: Vec<_> = (0..2).map(|_| P.start(2, 3, BarrierRule::FitsEngines, Duration::ZERO).0).collect();
        assert_eq!(counts(&P, 2), (1, 2, 0));
        assert_eq!(
            P.start(2, 3, BarrierRule::FitsEngines, Duration::ZERO).1,
            Wait::None,
            "2 decoding + 1 starting + 1 pending exceed 3"
        );
        drop(busy);
        assert_eq!(
            P.start(2, 3, BarrierRule::FitsEngines, Duration::from_millis(10)).1,
            Wait::TimedOut,
            "engines free again: it waits"
        );
        drop(creating);
    }
}
