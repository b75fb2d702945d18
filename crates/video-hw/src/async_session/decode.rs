//! [`AsyncDecoder`]: a [`DecodePipeline`] and its handles as a `Sink` of [`AsyncInput`] and
//! a `Stream` of frames. Kept for a release; use the pipeline's handles.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_sink::Sink;

use super::session::{AsyncSession, Cancel, SessionInput, SessionOutput};
use crate::config::DecoderConfig;
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::pipeline::ring::MAX_CAPACITY;
use crate::pipeline::{DecodeInput, DecodePipeline, InputSink, PipelineOptions, RingMemory};

/// An input item: input for the engine, or a drain marker. Kept for a release; use
/// [`DecodeInput`], whose [`DecodeInput::Flush`] is the drain.
#[derive(Debug, Clone)]
pub enum AsyncInput {
    /// Input for the engine.
    Data(DecodeInput),
    /// Drain: every frame of the input before it comes out before any frame after it; the
    /// session then takes a new stream ([`DecodeInput::Flush`]).
    Flush,
}

impl From<DecodeInput> for AsyncInput {
    fn from(input: DecodeInput) -> Self {
        AsyncInput::Data(input)
    }
}

impl From<AsyncInput> for DecodeInput {
    fn from(item: AsyncInput) -> Self {
        match item {
            AsyncInput::Data(input) => input,
            AsyncInput::Flush => DecodeInput::Flush,
        }
    }
}

impl AsyncInput {
    /// Annex-B bytes with an optional timestamp.
    pub fn annexb(data: impl Into<Vec<u8>>, pts: impl Into<Option<i64>>) -> Self {
        DecodeInput::annexb(data, pts).into()
    }
}

/// A [`DecodePipeline`] as a [`Sink`](futures_sink::Sink) of [`AsyncInput`] and a
/// [`Stream`](futures_core::Stream) of frames; the pipeline's error ends the stream. Kept for a
/// release; use [`DecodePipeline::input_sink`] and [`DecodePipeline::frame_stream`].
pub type AsyncDecoder = AsyncSession<AsyncInput, Frame>;

/// The input half of an [`AsyncDecoder`]. Kept for a release; use [`InputSink`].
pub type DecodeSink = SessionInput<AsyncInput>;

/// The output half of an [`AsyncDecoder`]. Kept for a release; use
/// [`FrameStream`](crate::pipeline::FrameStream).
pub type DecodeStream = SessionOutput<Frame>;

impl AsyncSession<AsyncInput, Frame> {
    /// Opens a decoder for `config` (blocking: call it where blocking is allowed) in a
    /// pipeline whose input queue and output ring hold `depth` items each.
    pub fn open(config: DecoderConfig, depth: usize) -> Result<Self> {
        Self::new(Decoder::open(config)?, depth)
    }

    /// Runs an open `decoder` in a pipeline whose input queue and output ring hold `depth`
    /// items each (1 to [`MAX_CAPACITY`]), its ring's memory [`RingMemory::Auto`].
    pub fn new(decoder: Decoder, depth: usize) -> Result<Self> {
        Self::with_memory(decoder, depth, RingMemory::Auto)
    }

    /// As [`new`](Self::new), with the ring's buffers in `memory`
    /// ([`PipelineOptions::memory`]).
    pub fn with_memory(decoder: Decoder, depth: usize, memory: RingMemory) -> Result<Self> {
        let depth = depth.clamp(1, MAX_CAPACITY);
        let options = PipelineOptions::default().queue_depth(depth).input_depth(depth).memory(memory);
        let pipeline = DecodePipeline::spawn(decoder, options, None)?;
        let sink = Items(pipeline.input_sink()?);
        let stream = pipeline.frame_stream();
        let (engine, backend) = (pipeline.engine(), pipeline.backend().to_string());
        Ok(AsyncSession::from_parts(sink, stream, Cancel::Decode(Some(pipeline)), engine, backend))
    }
}

/// The pipeline's sink taking [`AsyncInput`]; dropped, it ends the input.
struct Items(InputSink);

impl Sink<AsyncInput> for Items {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.0).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: AsyncInput) -> Result<()> {
        Pin::new(&mut self.0).start_send(item.into())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        self.0.end_input();
    }
}
