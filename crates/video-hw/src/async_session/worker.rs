//! The session thread shared by the async decoder and encoder: its channels, its count,
//! and the blocking sends and receives it makes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::channel::mpsc;
use futures::executor::block_on;
use futures::{SinkExt, StreamExt};

use crate::error::{Error, Result};

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

/// The thread's side of the two channels.
pub(super) struct Ends<I, O> {
    input: mpsc::Receiver<I>,
    output: mpsc::Sender<Result<O>>,
}

impl<I, O> Ends<I, O> {
    /// The next input item; `None` once the sink side is closed or dropped.
    pub fn next_input(&mut self) -> Option<I> {
        // An item already queued is taken without parking the thread.
        match self.input.try_recv() {
            Ok(item) => Some(item),
            Err(mpsc::TryRecvError::Closed) => None,
            Err(mpsc::TryRecvError::Empty) => block_on(self.input.next()),
        }
    }

    /// Hands an output item to the stream, waiting while the stream's buffer is full
    /// (that wait is the backpressure). False when the stream side is gone: the session
    /// should end.
    pub fn give(&mut self, item: Result<O>) -> bool {
        // Room in the buffer: no parking; full: wait for the consumer.
        match self.output.try_send(item) {
            Ok(()) => true,
            Err(e) if e.is_full() => block_on(self.output.send(e.into_inner())).is_ok(),
            Err(_) => false,
        }
    }
}

/// The caller's side of the two channels.
pub(super) struct Handles<I, O> {
    pub input: mpsc::Sender<I>,
    pub output: mpsc::Receiver<Result<O>>,
}

/// Starts `run` on a thread named `name` with channels of `depth` items each.
pub(super) fn spawn<I, O, F>(name: &str, depth: usize, run: F) -> Result<Handles<I, O>>
where
    I: Send + 'static,
    O: Send + 'static,
    F: FnOnce(Ends<I, O>) + Send + 'static,
{
    // A channel holds its buffer plus one item per sender, so `depth - 1` makes `depth`.
    let buffer = depth.max(1) - 1;
    let (input_tx, input_rx) = mpsc::channel(buffer);
    let (output_tx, output_rx) = mpsc::channel(buffer);
    let ends = Ends { input: input_rx, output: output_tx };
    LIVE.fetch_add(1, Ordering::SeqCst);
    let spawned = std::thread::Builder::new().name(name.to_string()).spawn(move || {
        // Counted down however `run` ends (a panic included).
        struct Live;
        impl Drop for Live {
            fn drop(&mut self) {
                LIVE.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _live = Live;
        run(ends);
    });
    if let Err(e) = spawned {
        LIVE.fetch_sub(1, Ordering::SeqCst);
        return Err(Error::from(e).context(format!("starting the {name} thread")));
    }
    Ok(Handles { input: input_tx, output: output_rx })
}

/// The error a sink gives once its session thread is gone.
pub(super) fn session_gone(what: &str) -> Error {
    Error::invalid_input(format!("the async {what} session has ended (its stream was dropped or it failed)"))
}
