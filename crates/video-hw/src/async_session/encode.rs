//! [`AsyncEncoder`]: an [`EncodePipeline`] and its handles as a `Sink` of frames and a
//! `Stream` of packets. Kept for a release; use the pipeline's handles.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_sink::Sink;

use super::session::{AsyncSession, Cancel, SessionInput, SessionOutput};
use crate::config::{EncoderConfig, FrameOptions};
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::packet::Packet;
use crate::pipeline::ring::MAX_CAPACITY;
use crate::pipeline::{EncodePipeline, FrameSink, PipelineOptions, RingMemory};

/// A frame to encode and its options (a frame alone converts, with its own pts). Kept for
/// a release; use the pair `(Frame, FrameOptions)` that [`FrameSink`] takes.
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

/// An [`EncodePipeline`] as a [`Sink`](futures_sink::Sink) of [`EncodeItem`] and a
/// [`Stream`](futures_core::Stream) of packets in decode order; closing the sink drains the
/// encoder, the pipeline's error ends the stream. Kept for a release; use
/// [`EncodePipeline::frame_sink`] and [`EncodePipeline::packet_stream`].
pub type AsyncEncoder = AsyncSession<EncodeItem, Packet>;

/// The input half of an [`AsyncEncoder`]. Kept for a release; use [`FrameSink`].
pub type EncodeSink = SessionInput<EncodeItem>;

/// The output half of an [`AsyncEncoder`]. Kept for a release; use
/// [`PacketStream`](crate::pipeline::PacketStream).
pub type EncodeStream = SessionOutput<Packet>;

impl AsyncSession<EncodeItem, Packet> {
    /// Opens an encoder for `config` (blocking) in a pipeline whose queues hold `depth`
    /// items.
    pub fn open(config: EncoderConfig, depth: usize) -> Result<Self> {
        Self::new(Encoder::open(config)?, depth)
    }

    /// Runs an open `encoder` in a pipeline whose input ring holds `depth` frames (1 to
    /// [`MAX_CAPACITY`]).
    pub fn new(encoder: Encoder, depth: usize) -> Result<Self> {
        let depth = depth.clamp(1, MAX_CAPACITY);
        // The frames come from the caller: the ring's own buffers are never lent, so they
        // need no page-locking.
        let options = PipelineOptions::default().queue_depth(depth).input_depth(depth).memory(RingMemory::Pageable);
        let engine = encoder.engine();
        let pipeline = EncodePipeline::from_encoder(encoder, options, None)?;
        let sink = Items(pipeline.frame_sink());
        let stream = pipeline.packet_stream()?;
        let backend = pipeline.backend();
        Ok(AsyncSession::from_parts(sink, stream, Cancel::Encode(Some(pipeline)), engine, backend))
    }
}

/// The pipeline's sink taking [`EncodeItem`]; dropped, it ends the input.
struct Items(FrameSink);

impl Sink<EncodeItem> for Items {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.0).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: EncodeItem) -> Result<()> {
        Pin::new(&mut self.0).start_send((item.frame, item.options))
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
