//! The async side shared by the decoder and the encoder: a session as a [`Sink`] of its
//! input and a [`Stream`] of its output, and the two halves [`split`](AsyncSession::split)
//! gives. [`AsyncDecoder`](super::AsyncDecoder) and [`AsyncEncoder`](super::AsyncEncoder)
//! are this type for their items.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::{Sink, Stream};

use super::worker::{Handles, session_gone};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// A session running on its own thread: a [`Sink`] of `I` and a [`Stream`] of
/// `Result<O>` (module docs: threads, backpressure, cancel safety).
#[derive(Debug)]
pub struct AsyncSession<I, O> {
    input: SessionInput<I>,
    output: SessionOutput<O>,
    engine: Engine,
    backend: String,
}

/// The input half of an [`AsyncSession`]: a [`Sink`] of its items. Closing it drains the
/// engine and ends the output stream.
#[derive(Debug)]
pub struct SessionInput<I> {
    tx: mpsc::Sender<I>,
    /// What the session does ("decode", "encode"), for the error once it has ended.
    what: &'static str,
}

/// The output half of an [`AsyncSession`]: a [`Stream`] of its output, or of the errors
/// the session met.
#[derive(Debug)]
pub struct SessionOutput<O> {
    rx: mpsc::Receiver<Result<O>>,
}

impl<I, O> AsyncSession<I, O> {
    /// The async side of a session thread `spawn` started.
    pub(super) fn from_handles(handles: Handles<I, O>, what: &'static str, engine: Engine, backend: String) -> Self {
        AsyncSession {
            input: SessionInput { tx: handles.input, what },
            output: SessionOutput { rx: handles.output },
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

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let what = self.what;
        Pin::new(&mut self.tx).poll_ready(cx).map_err(|_| session_gone(what))
    }

    fn start_send(mut self: Pin<&mut Self>, item: I) -> Result<()> {
        let what = self.what;
        Pin::new(&mut self.tx).start_send(item).map_err(|_| session_gone(what))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let what = self.what;
        Pin::new(&mut self.tx).poll_flush(cx).map_err(|_| session_gone(what))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let what = self.what;
        Pin::new(&mut self.tx).poll_close(cx).map_err(|_| session_gone(what))
    }
}

impl<O> Stream for SessionOutput<O> {
    type Item = Result<O>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<O>>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}

// The whole session is both: its halves need no split for one task that feeds and takes.
// (`mpsc::Sender` and `Receiver` are `Unpin`, so the halves are too.)
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
