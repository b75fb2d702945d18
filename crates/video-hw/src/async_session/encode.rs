//! [`AsyncEncoder`]: an encode session as a [`Sink`] of frames and a [`Stream`] of packets.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::{Sink, Stream};

use super::worker::{BACKPRESSURE_RETRIES, BACKPRESSURE_WAIT, Ends, session_gone, spawn};
use crate::config::{EncoderConfig, FrameOptions};
use crate::encoder::Encoder;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::packet::Packet;

/// A frame to encode and its options (a frame alone converts, with its own pts).
#[derive(Debug)]
pub struct EncodeItem {
    /// The frame.
    pub frame: Frame,
    /// Its options; `pts: None` takes the frame's.
    pub options: FrameOptions,
}

impl From<Frame> for EncodeItem {
    fn from(frame: Frame) -> Self {
        EncodeItem { frame, options: FrameOptions::default() }
    }
}

/// An encode session driven from async code: a [`Sink`] of [`EncodeItem`] (frames) and a
/// [`Stream`] of packets. Closing the sink drains the encoder: its last packets come out,
/// then the stream ends (module docs: threads, backpressure, cancel safety).
#[derive(Debug)]
pub struct AsyncEncoder {
    input: EncodeInput,
    output: EncodeOutput,
    engine: Engine,
    backend: String,
}

/// The input half of an [`AsyncEncoder`]: a [`Sink`] of [`EncodeItem`].
#[derive(Debug)]
pub struct EncodeInput {
    tx: mpsc::Sender<EncodeItem>,
}

/// The output half of an [`AsyncEncoder`]: a [`Stream`] of packets in decode order, or the
/// error that ended the session.
#[derive(Debug)]
pub struct EncodeOutput {
    rx: mpsc::Receiver<Result<Packet>>,
}

impl AsyncEncoder {
    /// Opens a session for `config` (blocking) with channels of `depth` items.
    pub fn open(config: EncoderConfig, depth: usize) -> Result<Self> {
        Self::new(Encoder::open(config)?, depth)
    }

    /// Runs an open `encoder` on its own thread, with channels of `depth` items (at least 1).
    pub fn new(encoder: Encoder, depth: usize) -> Result<Self> {
        let engine = encoder.engine();
        let backend = encoder.backend().to_string();
        let handles = spawn("video-hw async encode", depth, move |ends| run(encoder, ends))?;
        Ok(AsyncEncoder {
            input: EncodeInput { tx: handles.input },
            output: EncodeOutput { rx: handles.output },
            engine,
            backend,
        })
    }

    /// The engine encoding.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The engine, described ([`Encoder::backend`]).
    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// The two halves, for a feeding task and a consuming task.
    pub fn split(self) -> (EncodeInput, EncodeOutput) {
        (self.input, self.output)
    }
}

/// The session thread: frames in order, packets out as the engine gives them; the
/// encoder is drained when the sink closes. Encoder errors end the session (a frame the
/// encoder refused cannot be skipped without changing the output).
fn run(mut encoder: Encoder, mut ends: Ends<EncodeItem, Packet>) {
    while let Some(EncodeItem { frame, options }) = ends.next_input() {
        let options = FrameOptions { pts: options.pts.or(frame.pts), ..options };
        let mut waits = 0;
        loop {
            match encoder.submit(&frame, options) {
                Ok(()) => break,
                Err(Error::Backpressure(_)) if waits < BACKPRESSURE_RETRIES => {
                    waits += 1;
                    match encoder.reap_timeout(BACKPRESSURE_WAIT) {
                        Ok(Some(p)) => {
                            if !ends.give(Ok(p)) {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            ends.give(Err(e));
                            return;
                        }
                    }
                }
                Err(e) => {
                    ends.give(Err(e));
                    return;
                }
            }
        }
        // The frame's memory is free for its owner again before the packets wait.
        drop(frame);
        loop {
            match encoder.try_reap() {
                Ok(Some(p)) => {
                    if !ends.give(Ok(p)) {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    ends.give(Err(e));
                    return;
                }
            }
        }
    }
    match encoder.flush() {
        Ok(packets) => {
            for p in packets {
                if !ends.give(Ok(p)) {
                    return;
                }
            }
        }
        Err(e) => {
            ends.give(Err(e));
        }
    }
}

impl Sink<EncodeItem> for EncodeInput {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.tx).poll_ready(cx).map_err(|_| session_gone("encode"))
    }

    fn start_send(mut self: Pin<&mut Self>, item: EncodeItem) -> Result<()> {
        Pin::new(&mut self.tx).start_send(item).map_err(|_| session_gone("encode"))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.tx).poll_flush(cx).map_err(|_| session_gone("encode"))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.tx).poll_close(cx).map_err(|_| session_gone("encode"))
    }
}

impl Stream for EncodeOutput {
    type Item = Result<Packet>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Packet>>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}

impl Sink<EncodeItem> for AsyncEncoder {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.input).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: EncodeItem) -> Result<()> {
        Pin::new(&mut self.input).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.input).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.input).poll_close(cx)
    }
}

impl Stream for AsyncEncoder {
    type Item = Result<Packet>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Packet>>> {
        Pin::new(&mut self.output).poll_next(cx)
    }
}
