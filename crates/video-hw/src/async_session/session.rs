//! The async side shared by the decoder and the encoder: a session as a [`Sink`] of its
//! input and a [`Stream`] of its output, and the two halves [`split`](AsyncSession::split)
//! gives. [`AsyncDecoder`](super::AsyncDecoder) and [`AsyncEncoder`](super::AsyncEncoder)
//! are this type for their items.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Sink, Stream};

use super::worker::{Handles, session_gone};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::pipeline::ring::Queue;
use crate::process::Process;

/// A session running on its own thread: a [`Sink`] of `I` and a [`Stream`] of
/// `Result<O>` (module docs: threads, backpressure, cancel safety).
#[derive(Debug)]
pub struct AsyncSession<I, O> {
    input: SessionInput<I>,
    output: SessionOutput<O>,
    engine: Engine,
    backend: String,
}

/// The input half of an [`AsyncSession`]: a [`Sink`] of its items. Closing it (or
/// dropping it) drains the engine and ends the output stream.
pub struct SessionInput<I> {
    queue: Arc<Queue<I>>,
    /// What the session does ("decode", "encode"), for the error once it has ended.
    what: &'static str,
    /// The process whose thread runs the session: a child made by `fork` has no such
    /// thread, so there every call is an error and nothing waits.
    process: Process,
}

/// The output half of an [`AsyncSession`]: a [`Stream`] of its output, or of the errors
/// the session met. Dropping it shuts the session down.
pub struct SessionOutput<O> {
    queue: Arc<Queue<Result<O>>>,
    /// The input queue, cancelled with this half: a session nobody reads stops taking input.
    input: Arc<dyn Cancel>,
    /// As the input half's; the error is given once, then the stream ends.
    process: Process,
    forked_told: bool,
}

/// The input queue as the output half sees it (it does not know the input type).
trait Cancel: Send + Sync {
    fn cancel_all(&self);
}

impl<I: Send> Cancel for Queue<I> {
    fn cancel_all(&self) {
        drop(self.cancel());
    }
}

impl<I> std::fmt::Debug for SessionInput<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionInput").field("what", &self.what).field("queued", &self.queue.depth()).finish()
    }
}

impl<O> std::fmt::Debug for SessionOutput<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOutput").field("queued", &self.queue.depth()).finish()
    }
}

impl<I: Send + 'static, O> AsyncSession<I, O> {
    /// The async side of a session thread `spawn` started.
    pub(super) fn from_handles(handles: Handles<I, O>, what: &'static str, engine: Engine, backend: String) -> Self {
        AsyncSession {
            output: SessionOutput {
                queue: handles.output,
                input: handles.input.clone(),
                process: Process::current(),
                forked_told: false,
            },
            input: SessionInput { queue: handles.input, what, process: Process::current() },
            engine,
            backend,
        }
    }

    /// The engine running the session.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The engine, described (as the blocking session's `backend()`).
    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// The two halves, for a feeding task and a consuming task.
    pub fn split(self) -> (SessionInput<I>, SessionOutput<O>) {
        (self.input, self.output)
    }
}

impl<I> Sink<I> for SessionInput<I> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Err(e) = self.process.check("an async session") {
            return Poll::Ready(Err(e));
        }
        self.queue.poll_push_ready(cx).map_err(|_| session_gone(self.what))
    }

    fn start_send(self: Pin<&mut Self>, item: I) -> Result<()> {
        self.process.check("an async session")?;
        // On failure the item is dropped here, on the caller's side.
        self.queue.push_now(item).map_err(|_| session_gone(self.what))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        // An accepted item is in the queue, which the session thread empties by itself.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.process.check("an async session")?;
        // The thread drains what is queued, then the engine; the stream ends after that.
        self.queue.close();
        Poll::Ready(Ok(()))
    }
}

impl<I> Drop for SessionInput<I> {
    fn drop(&mut self) {
        if !self.process.is_current() {
            // A forked child: the queue is the parent's session's, and its lock may have been
            // held by the parent's session thread at the fork.
            return;
        }
        // No more input can come: as `close`.
        self.queue.close();
    }
}

impl<O> Stream for SessionOutput<O> {
    type Item = Result<O>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<O>>> {
        if let Err(e) = self.process.check("an async session") {
            // No thread of this process will ever fill the queue: say so once, then end.
            let told = std::mem::replace(&mut self.forked_told, true);
            return Poll::Ready((!told).then_some(Err(e)));
        }
        // The queue is only cancelled by this half's drop, so its errors cannot be seen here.
        self.queue.poll_pop(cx).map(|r| r.ok().flatten())
    }
}

impl<O> Drop for SessionOutput<O> {
    fn drop(&mut self) {
        if !self.process.is_current() {
            return; // as the input half's
        }
        // Nobody reads: the session thread's next hand-over fails and it ends, dropping
        // the engine there; input it had not taken is dropped.
        drop(self.queue.cancel());
        self.input.cancel_all();
    }
}

// The whole session is both: its halves need no split for one task that feeds and takes.
// (The halves hold `Arc`s only, so they are `Unpin`.)
impl<I, O> Sink<I> for AsyncSession<I, O> {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.input).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: I) -> Result<()> {
        Pin::new(&mut self.input).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.input).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.input).poll_close(cx)
    }
}

impl<I, O> Stream for AsyncSession<I, O> {
    type Item = Result<O>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<O>>> {
        Pin::new(&mut self.output).poll_next(cx)
    }
}
