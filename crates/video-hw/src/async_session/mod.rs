//! Async sessions (feature `async`): a [`Decoder`](crate::Decoder) as a [`Sink`] of
//! packets and a [`Stream`] of frames ([`AsyncDecoder`]), an [`Encoder`](crate::Encoder) as a
//! `Sink` of frames and a `Stream` of packets ([`AsyncEncoder`]).
//!
//! Runtime-agnostic: only the `futures` traits and channels are used, so the sessions run
//! under tokio (either flavour), async-std, smol or `futures::executor`, and no task of the
//! caller's runtime ever blocks. Each session runs its engine on a thread of its own, the
//! engine calls being blocking (a GPU copy, a software decode of a picture); two bounded
//! channels connect it to the async side.
//!
//! Backpressure: the channels are bounded (`depth` items each). When the consumer does not
//! take frames, the session thread waits on a full output channel, stops taking input, and
//! the input channel fills: the sink's `poll_ready` is then pending until there is room —
//! a waker is registered, nothing spins.
//!
//! Cancel safety: an item the sink accepted (`start_send` returned) is processed even if
//! the future that sent it is dropped before its flush. Closing the sink (`close()`, or
//! dropping the sender half) ends the stream after the engine is drained: every frame of
//! the accepted input comes out, then the stream ends. Dropping the session (or the stream
//! half) shuts the engine down on its thread without blocking the caller; what was still
//! inside is dropped with it. [`live_sessions`] counts the threads still running, for leak
//! checks.
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
mod worker;

pub use decode::{AsyncDecoder, AsyncInput, DecodeSink, DecodeStream};
pub use encode::{AsyncEncoder, EncodeItem, EncodeSink, EncodeStream};
pub use session::{AsyncSession, SessionInput, SessionOutput};
pub use worker::live_sessions;

pub use futures::{Sink, Stream};
