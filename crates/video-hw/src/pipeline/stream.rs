//! The pipelines' async surface, the crate's only one: handles that poll a pipeline's
//! queues instead of blocking on them, so a task of any executor feeds a pipeline and takes
//! its output while the engine runs on the pipeline's own thread. The traits are those of
//! `futures-core` and `futures-sink` (what `futures`, tokio, async-std and smol use), so
//! the handles need no feature and no runtime.
//!
//! - [`DecodePipeline::input_sink`]: a [`Sink`] of [`DecodeInput`];
//!   [`DecodePipeline::frame_stream`]: a [`Stream`] of frames.
//! - [`EncodePipeline::frame_sink`]: a `Sink` of `(Frame, FrameOptions)`;
//!   [`EncodePipeline::packet_stream`]: a `Stream` of packets.
//! - [`Transcode::finished`]: a future that is ready when both sides have finished.
//!
//! What they promise, with an example, is in the `pipeline` module docs (section "Async").

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_core::stream::FusedStream;
use futures_sink::Sink;

use super::decode::{DecodeInput, DecodePipeline};
use super::encode::EncodePipeline;
use super::ring::Queue;
use super::{FrameRing, Status, Transcode, decode, encode};
use crate::config::FrameOptions;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::packet::Packet;

/// A [`Sink`] of [`DecodeInput`] for a [`DecodePipeline`]: the async
/// [`submit`](DecodePipeline::submit). Closing it ends the input.
pub struct InputSink {
    queue: Arc<Queue<DecodeInput>>,
    shared: Arc<decode::Shared>,
}

/// A [`Stream`] of a [`DecodePipeline`]'s frames: the async [`recv`](DecodePipeline::recv).
/// It ends after the last frame; the worker's error, if any, is its last item.
pub struct FrameStream {
    ring: FrameRing,
    shared: Arc<decode::Shared>,
    done: bool,
}

/// A [`Sink`] of frames (with their encode options) for an [`EncodePipeline`]: the async
/// [`submit`](EncodePipeline::submit). Closing it ends the input.
pub struct FrameSink {
    ring: FrameRing,
    shared: Arc<encode::Shared>,
}

/// A [`Stream`] of an [`EncodePipeline`]'s packets: the async
/// [`recv_packet`](EncodePipeline::recv_packet). It ends after the last packet; the
/// worker's error, if any, is its last item.
pub struct PacketStream {
    queue: Arc<Queue<Packet>>,
    shared: Arc<encode::Shared>,
    done: bool,
}

/// A future that is ready when both sides of a [`Transcode`] have finished (then
/// [`wait`](Transcode::wait) returns at once).
pub struct TranscodeFinished<'a> {
    transcode: &'a Transcode,
}

macro_rules! debug_as {
    ($($t:ty => $name:literal),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($name)
            }
        }
    )*};
}
debug_as!(InputSink => "InputSink", FrameStream => "FrameStream", FrameSink => "FrameSink",
    PacketStream => "PacketStream", TranscodeFinished<'_> => "TranscodeFinished");

impl DecodePipeline {
    /// An async handle feeding this pipeline (the [module docs](crate::pipeline#async)).
    /// `InvalidInput` for a pipeline that reads its own source.
    pub fn input_sink(&self) -> Result<InputSink> {
        let queue =
            self.input_queue().ok_or_else(|| Error::invalid_input("this decode pipeline reads its own source"))?;
        Ok(InputSink { queue: queue.clone(), shared: self.shared().clone() })
    }

    /// An async handle taking this pipeline's frames (the [module docs](crate::pipeline#async)).
    pub fn frame_stream(&self) -> FrameStream {
        FrameStream { ring: self.ring().clone(), shared: self.shared().clone(), done: false }
    }
}

impl EncodePipeline {
    /// An async handle feeding this pipeline (the [module docs](crate::pipeline#async)).
    pub fn frame_sink(&self) -> FrameSink {
        FrameSink { ring: self.ring().clone(), shared: self.shared().clone() }
    }

    /// An async handle taking this pipeline's packets (the [module docs](crate::pipeline#async)).
    /// `InvalidInput` for a pipeline whose packets go to a function.
    pub fn packet_stream(&self) -> Result<PacketStream> {
        let queue =
            self.packet_queue().ok_or_else(|| Error::invalid_input("this encode pipeline has a packet sink"))?;
        Ok(PacketStream { queue: queue.clone(), shared: self.shared().clone(), done: false })
    }
}

impl Transcode {
    /// A future that is ready when both workers have finished, for async code that would
    /// otherwise block in [`wait`](Self::wait); `wait` then returns at once with the
    /// outcome.
    pub fn finished(&self) -> TranscodeFinished<'_> {
        TranscodeFinished { transcode: self }
    }
}

impl InputSink {
    /// Ends the input, as closing the sink does; nothing in a child made by `fork` (the
    /// queue's lock may have been held by the parent's worker at the fork). For handles
    /// whose drop ends the input.
    pub(crate) fn end_input(&self) {
        if self.shared.status.process.is_current() {
            self.queue.close();
        }
    }
}

impl FrameSink {
    /// As [`InputSink::end_input`].
    pub(crate) fn end_input(&self) {
        if self.shared.status.process.is_current() {
            self.ring.close();
        }
    }
}

/// `Ok` in the process the pipeline was started in; in a child made by `fork` since, the
/// error that says so (no worker thread is there to serve a handle).
fn in_process(status: &Status) -> Result<()> {
    status.process.check("an async pipeline handle")
}

/// A sink's error for a queue that refused an item: the worker's error if it stopped on
/// one, else `e` (closed after the end of input).
fn refused(status: &Status, e: Error) -> Error {
    match e {
        Error::Closed(_) => status.closed(e),
        e => e,
    }
}

/// A stream's next item from a queue poll: the item, or at the end the worker's error
/// once (then the end).
fn next_item<T>(
    status: &Status,
    poll: impl FnOnce() -> Poll<Result<Option<T>>>,
    done: &mut bool,
) -> Poll<Option<Result<T>>> {
    if *done {
        return Poll::Ready(None);
    }
    if let Err(e) = in_process(status) {
        // No thread of this process will ever fill the queue: say so once, then end.
        *done = true;
        return Poll::Ready(Some(Err(e)));
    }
    let item = match poll() {
        Poll::Pending => return Poll::Pending,
        Poll::Ready(Ok(Some(item))) => return Poll::Ready(Some(Ok(item))),
        Poll::Ready(Ok(None)) => status.take_error(),
        Poll::Ready(Err(e)) => Some(status.closed(e)),
    };
    *done = true;
    Poll::Ready(item.map(Err))
}

impl Sink<DecodeInput> for InputSink {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        in_process(&self.shared.status)?;
        self.queue.poll_push_ready(cx).map_err(|e| refused(&self.shared.status, e))
    }

    fn start_send(self: Pin<&mut Self>, item: DecodeInput) -> Result<()> {
        in_process(&self.shared.status)?;
        self.queue.push_now(item).map_err(|(e, _)| refused(&self.shared.status, e))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        // Accepted items are in the pipeline's queue, which its worker empties.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        in_process(&self.shared.status)?;
        self.queue.close();
        Poll::Ready(Ok(()))
    }
}

impl Stream for FrameStream {
    type Item = Result<Frame>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
        let this = &mut *self;
        let ring = &this.ring;
        let poll = || ring.queue().poll_pop(cx).map_ok(|item| item.map(|(frame, _)| frame));
        let next = next_item(&this.shared.status, poll, &mut this.done);
        if let Poll::Ready(Some(Ok(_))) = next {
            this.shared.status.arrivals.lock().tick();
        }
        next
    }
}

impl FusedStream for FrameStream {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl Sink<(Frame, FrameOptions)> for FrameSink {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        in_process(&self.shared.status)?;
        self.ring.queue().poll_push_ready(cx).map_err(|e| refused(&self.shared.status, e))
    }

    fn start_send(self: Pin<&mut Self>, item: (Frame, FrameOptions)) -> Result<()> {
        in_process(&self.shared.status)?;
        // A refused frame is dropped here (a ring buffer goes back to the ring).
        self.ring.queue().push_now(item).map_err(|(e, _)| refused(&self.shared.status, e))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        in_process(&self.shared.status)?;
        self.ring.close();
        Poll::Ready(Ok(()))
    }
}

impl Stream for PacketStream {
    type Item = Result<Packet>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Packet>>> {
        let this = &mut *self;
        let queue = &this.queue;
        next_item(&this.shared.status, || queue.poll_pop(cx), &mut this.done)
    }
}

impl FusedStream for PacketStream {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl Future for TranscodeFinished<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Both registered, so whichever side finishes last wakes the task.
        let decode = self.transcode.decode_status().poll_finished(cx);
        let encode = self.transcode.encode_status().poll_finished(cx);
        if decode.is_ready() && encode.is_ready() { Poll::Ready(()) } else { Poll::Pending }
    }
}
