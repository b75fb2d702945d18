//! The session thread shared by the async decoder and encoder: its channels, its count,
//! and the blocking sends and receives it makes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::pipeline::ring::{Coalescer, Queue};

/// Session threads running now.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Async session threads still running (each holds an engine session until it ends): for
/// checking that dropped sessions shut down.
pub fn live_sessions() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// How many times an item is offered again to an engine that answers `Backpressure` (it
/// holds too many frames the consumer has not taken), 10 ms of waiting for output each
/// time, before the error is passed on.
pub(super) const BACKPRESSURE_RETRIES: u32 = 1000;
/// The wait for output between two such offers.
pub(super) const BACKPRESSURE_WAIT: Duration = Duration::from_millis(10);

/// The thread's side of the two queues (the pipelines' queue: the thread blocks on it,
/// after a brief spin; the async side polls it).
///
/// Output made while more input is queued may wait for the next few items before the
/// stream is woken (see [`Coalescer`]); when the thread ends, closing the output queue
/// wakes the stream for whatever is left.
pub(super) struct Ends<I, O> {
    input: Arc<Queue<I>>,
    output: Arc<Queue<Result<O>>>,
    coalescer: Coalescer,
}

impl<I, O> Ends<I, O> {
    /// The next input item; `None` once the sink side is closed (and drained) or the
    /// session was dropped.
    pub fn next_input(&mut self) -> Option<I> {
        self.coalescer.before_input(Some(&*self.input), &self.output);
        let item = self.input.pop(None).ok().flatten();
        self.coalescer.started();
        item
    }

    /// Wakes the stream for output held back, before the thread waits for something the
    /// consumer may be the one to bring (an engine that holds too many of its frames).
    pub fn wake_consumer(&mut self) {
        self.coalescer.flush(&self.output);
    }

    /// Hands an output item to the stream, waiting while the stream's queue is full
    /// (that wait is the backpressure). False when the stream side is gone: the session
    /// should end.
    pub fn give(&mut self, item: Result<O>) -> bool {
        self.coalescer.push(Some(&*self.input), &self.output, item).is_ok()
    }
}

/// The caller's side of the two queues.
pub(super) struct Handles<I, O> {
    pub input: Arc<Queue<I>>,
    pub output: Arc<Queue<Result<O>>>,
}

/// Starts `run` on a worker thread (named `name` while it runs) with queues of `depth`
/// items each.
pub(super) fn spawn<I, O, F>(name: &str, depth: usize, run: F) -> Result<Handles<I, O>>
where
    I: Send + 'static,
    O: Send + 'static,
    F: FnOnce(Ends<I, O>) + Send + 'static,
{
    let depth = depth.max(1);
    let input = Arc::new(Queue::new(format!("{name} input"), depth));
    let output = Arc::new(Queue::new(format!("{name} output"), depth));
    let ends = Ends { input: input.clone(), output: output.clone(), coalescer: Coalescer::new() };
    LIVE.fetch_add(1, Ordering::SeqCst);
    // A kept thread if one waits: a session started soon after another ended finds the
    // memory its engine needs already mapped there (crate::worker_threads).
    let spawned = crate::worker_threads::spawn(name, move || {
        // However `run` ends (a panic included): the sink refuses more input (what is
        // queued is dropped), the stream ends after what was handed out, and the count
        // goes down.
        struct Live<I, O>(Arc<Queue<I>>, Arc<Queue<Result<O>>>);
        impl<I, O> Drop for Live<I, O> {
            fn drop(&mut self) {
                drop(self.0.cancel());
                self.1.close();
                LIVE.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _live = Live(ends.input.clone(), ends.output.clone());
        run(ends);
    });
    if let Err(e) = spawned {
        LIVE.fetch_sub(1, Ordering::SeqCst);
        return Err(e);
    }
    Ok(Handles { input, output })
}

/// The error a sink gives once its session thread is gone.
pub(super) fn session_gone(what: &str) -> Error {
    Error::invalid_input(format!("the async {what} session has ended (its stream was dropped or it failed)"))
}
