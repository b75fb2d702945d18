//! [`AsyncSession`]: a pipeline and its two async handles in one value, and the two halves
//! [`split`](AsyncSession::split) gives. Kept for a release; use the pipelines' handles.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::pipeline::{DecodePipeline, EncodePipeline};
use crate::process::InProcess;

/// A pipeline behind a [`Sink`] of `I` and a [`Stream`] of `Result<O>`. Kept for a
/// release; use the pipelines' handles (module docs).
#[derive(Debug)]
pub struct AsyncSession<I, O> {
    input: SessionInput<I>,
    output: SessionOutput<O>,
    engine: Engine,
    backend: String,
}

/// The input half of an [`AsyncSession`]: the pipeline's sink. Closing it (or dropping it)
/// ends the input; the output stream ends after the engine is drained.
pub struct SessionInput<I> {
    sink: Pin<Box<dyn Sink<I, Error = Error> + Send + Sync>>,
}

/// The output half of an [`AsyncSession`]: the pipeline's stream. Dropping it cancels the
/// pipeline.
pub struct SessionOutput<O> {
    stream: Pin<Box<dyn Stream<Item = Result<O>> + Send + Sync>>,
    /// Dropped after the stream: cancels the pipeline (leaked in a child made by `fork`,
    /// whose queues may have been locked by the parent's threads at the fork).
    _pipeline: InProcess<Cancel>,
}

/// The pipeline a session runs, cancelled without waiting when dropped.
pub(super) enum Cancel {
    Decode(Option<DecodePipeline>),
    Encode(Option<EncodePipeline>),
}

impl Drop for Cancel {
    fn drop(&mut self) {
        match self {
            Cancel::Decode(p) => {
                if let Some(p) = p.take() {
                    p.cancel_detached();
                }
            }
            Cancel::Encode(p) => {
                if let Some(p) = p.take() {
                    p.cancel_detached();
                }
            }
        }
    }
}

impl<I> std::fmt::Debug for SessionInput<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionInput")
    }
}

impl<O> std::fmt::Debug for SessionOutput<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionOutput")
    }
}

impl<I, O> AsyncSession<I, O> {
    /// A session of a pipeline's two handles (`sink` ends the input when dropped).
    pub(super) fn from_parts(
        sink: impl Sink<I, Error = Error> + Send + Sync + 'static,
        stream: impl Stream<Item = Result<O>> + Send + Sync + 'static,
        pipeline: Cancel,
        engine: Engine,
        backend: String,
    ) -> Self {
        AsyncSession {
            input: SessionInput { sink: Box::pin(sink) },
            output: SessionOutput { stream: Box::pin(stream), _pipeline: InProcess::new(pipeline) },
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
        self.sink.as_mut().poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: I) -> Result<()> {
        self.sink.as_mut().start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.sink.as_mut().poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.sink.as_mut().poll_close(cx)
    }
}

impl<O> Stream for SessionOutput<O> {
    type Item = Result<O>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<O>>> {
        self.stream.as_mut().poll_next(cx)
    }
}

// The whole session is both: its halves need no split for one task that feeds and takes.
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
