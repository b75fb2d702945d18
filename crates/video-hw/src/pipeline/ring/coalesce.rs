//! When a worker thread may hand its output over without waking the consumer at once.
//!
//! A wake-up is most of what a hand-over between threads costs (a futex wake and an
//! inter-processor interrupt: a few microseconds on a virtual machine, paid on the
//! worker's own time). When frames come quickly and the consumer keeps up, it waits for
//! every one, so every frame costs one. A worker whose next input is already queued will
//! push again soon without waiting, so it may leave the consumer asleep for a few frames
//! ([`Queue::push_quiet`]; the queue wakes it at half full). It must wake it before it
//! could wait for input, which [`Coalescer::before_input`] does (and once held output has
//! waited [`HOLD`]), and before any other wait ([`Coalescer::flush`]: the consumer may be
//! the one to end it). Quiet pushes are chosen only while the first output held back, had
//! the next input take as long as this one, would be announced within [`HOLD`] of its push.

use std::time::{Duration, Instant};

use super::Queue;
use crate::error::Error;

/// How long output may wait, pushed quietly, before its consumer is woken. A 320x240
/// frame (~300 µs of decoding on one core) then wakes the consumer every third frame
/// instead of every frame; a frame that takes longer than this is announced at once.
const HOLD: Duration = Duration::from_millis(1);

/// One worker's choice between quiet and waking pushes, input by input.
#[derive(Debug)]
pub(crate) struct Coalescer {
    hold: Duration,
    started: Instant,
    /// When the first output pushed quietly since the consumers were last woken was pushed.
    held_since: Option<Instant>,
}

impl Coalescer {
    pub(crate) fn new() -> Self {
        Coalescer::with_hold(HOLD)
    }

    /// A coalescer that holds output back for `hold` at most (tests: a hold no preemption
    /// of a busy machine reaches).
    pub(crate) fn with_hold(hold: Duration) -> Self {
        Coalescer { hold, started: Instant::now(), held_since: None }
    }

    /// Call before taking the next input from `input` (the worker's own queue, which only it
    /// pops): if that may wait, the consumers of `output` are woken for what was pushed
    /// quietly.
    pub(crate) fn before_input<I, O>(&mut self, input: Option<&Queue<I>>, output: &Queue<O>) {
        // Also once the first held output has waited the hold: inputs that give no output
        // (damage dropped, a decoder's first pictures) must not keep it back.
        let overdue = self.held_since.is_some_and(|t| t.elapsed() >= self.hold);
        if self.held_since.is_some() && (overdue || input.is_none_or(|q| q.depth() == 0)) {
            self.flush(output);
        }
    }

    /// Call once an input is taken: its processing time starts.
    pub(crate) fn started(&mut self) {
        self.started = Instant::now();
    }

    /// Whether the output of the input now being processed may be pushed quietly: another
    /// input is queued on `input`, and the output held back so far (this one included)
    /// would still be announced within [`HOLD`] of the first's push were the next input to
    /// take as long as this one. A push that is not quiet wakes the consumers for all.
    pub(crate) fn quiet<I>(&mut self, input: Option<&Queue<I>>) -> bool {
        let now = Instant::now();
        let took = now.saturating_duration_since(self.started);
        let first = self.held_since.unwrap_or(now);
        let quiet = input.is_some_and(|q| q.depth() > 0) && now.saturating_duration_since(first) + took < self.hold;
        self.held_since = quiet.then_some(first);
        quiet
    }

    /// Pushes `item` onto `output`, waiting while it is full: quietly where [`quiet`](Self::quiet)
    /// allows it for `input` (`None`: output that must be announced at once, such as a
    /// flush's). On failure the item is handed back, as by [`Queue::push`].
    pub(crate) fn push<I, T>(
        &mut self,
        input: Option<&Queue<I>>,
        output: &Queue<T>,
        item: T,
    ) -> Result<(), (Error, T)> {
        if self.quiet(input) { output.push_quiet(item, None) } else { output.push(item, None) }
    }

    /// Wakes the consumers of `output` for anything pushed quietly (before the worker waits
    /// or stops).
    pub(crate) fn flush<O>(&mut self, output: &Queue<O>) {
        if self.held_since.take().is_some() {
            output.wake_consumers();
        }
    }
}
