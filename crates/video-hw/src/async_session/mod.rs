//! The old async names, kept for a release: use the pipelines' handles
//! instead ([`DecodePipeline::input_sink`](crate::pipeline::DecodePipeline::input_sink) /
//! [`frame_stream`](crate::pipeline::DecodePipeline::frame_stream),
//! [`EncodePipeline::frame_sink`](crate::pipeline::EncodePipeline::frame_sink) /
//! [`packet_stream`](crate::pipeline::EncodePipeline::packet_stream); docs/async.md).
//!
//! [`AsyncDecoder`] and [`AsyncEncoder`] are a [`DecodePipeline`](crate::pipeline::DecodePipeline)
//! or [`EncodePipeline`](crate::pipeline::EncodePipeline) and its two handles in one value:
//! no engine code of their own. What they keep of their old behaviour:
//!
//! - `depth` sets both the input queue and the output ring of the pipeline.
//! - Dropping the input half ([`SessionInput`]) ends the input, as closing it does; the
//!   stream then ends after the engine is drained.
//! - Dropping the output half ([`SessionOutput`]), or the whole session, cancels the
//!   pipeline without waiting for its thread, which drops the engine when it stops.
//!
//! One change: damaged input is no longer an item of the decoder's stream. As in every
//! pipeline, the decoder drops it and goes on; the first such error is kept in the
//! pipeline's figures (`PipelineStats::bitstream_error`).
//!
//! ```no_run
//! # async fn example(packets: Vec<Vec<u8>>) -> video_hw::Result<()> {
//! use futures::{SinkExt, StreamExt};
//! use video_hw::async_session::{AsyncDecoder, AsyncInput};
//! use video_hw::{Codec, DecoderConfig};
//!
//! let decoder = AsyncDecoder::open(DecoderConfig::new(Codec::H264), 8)?;
//! let (mut input, mut frames) = decoder.split();
//! let feed = async move {
//!     for p in packets {
//!         input.send(AsyncInput::annexb(p, None)).await?;
//!     }
//!     input.close().await // drains the engine; the frame stream then ends
//! };
//! let take = async move {
//!     let mut n = 0;
//!     while let Some(frame) = frames.next().await {
//!         frame?;
//!         n += 1;
//!     }
//!     Ok::<_, video_hw::Error>(n)
//! };
//! let (fed, taken) = futures::future::join(feed, take).await;
//! fed?;
//! println!("{} frames", taken?);
//! # Ok(()) }
//! ```

mod decode;
mod encode;
mod session;

pub use decode::{AsyncDecoder, AsyncInput, DecodeSink, DecodeStream};
pub use encode::{AsyncEncoder, EncodeItem, EncodeSink, EncodeStream};
pub use session::{AsyncSession, SessionInput, SessionOutput};

pub use futures_core::Stream;
pub use futures_sink::Sink;

/// Pipeline workers still running. Kept for a release; use
/// [`pipeline::running_workers`](crate::pipeline::running_workers), which this is.
pub fn live_sessions() -> usize {
    crate::pipeline::running_workers()
}
