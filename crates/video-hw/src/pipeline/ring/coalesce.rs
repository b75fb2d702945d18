//! When a worker thread may hand its output over without waking the consumer at once.
//!
//! A wake-up is most of what a hand-over between threads costs (a futex wake and an
//! inter-processor interrupt: a few microseconds on a virtual machine, paid on the
//! worker's own time). When frames come quickly and the consumer keeps up, it waits for
//! every one, so every frame costs one. A worker whose next input is already queued will
//! push again soon without waiting, so it may leave the consumer asleep for a few frames
//! ([`Queue::push_quiet`]; the queue wakes it at half full). It must wake it before it
//! could wait for input, which [`Coalescer::before_input`] does, and quiet pushes are only
//! chosen after an input that took little time, so a frame is held back for at most about
//! that long once more.

use std::time::{Duration, Instant};

use super::Queue;
use crate::error::Error;

/// Inputs that took longer than this have their output handed over at once (the next one
/// may take as long, and the consumer should not wait for it).
const FAST_INPUT: Duration = Duration::from_micros(200);

/// One worker's choice between quiet and waking pushes, input by input.
#[derive(Debug)]
pub(crate) struct Coalescer {
    started: Instant,
    held: bool,
}

impl Coalescer {
    pub(crate) fn new() -> Self {
        Coalescer { started: Instant::now(), held: false }
    }

    /// Call before taking the next input from `input` (the worker's own queue, which only it
    /// pops): if that may wait, the consumers of `output` are woken for what was pushed
    /// quietly.
    pub(crate) fn before_input<I, O>(&mut self, input: Option<&Queue<I>>, output: &Queue<O>) {
        if self.held && input.is_none_or(|q| q.depth() == 0) {
            self.flush(output);
        }
    }

    /// Call once an input is taken: its processing time starts.
    pub(crate) fn started(&mut self) {
        self.started = Instant::now();
    }

    /// Whether the output of the input now being processed may be pushed quietly: another
    /// input is queued on `input` and this one took little time.
    pub(crate) fn quiet<I>(&mut self, input: Option<&Queue<I>>) -> bool {
        let quiet = input.is_some_and(|q| q.depth() > 0) && self.started.elapsed() < FAST_INPUT;
        self.held |= quiet;
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
        if std::mem::take(&mut self.held) {
            output.wake_consumers();
        }
    }
}
