//! # video-hw-types
//!
//! The plain records at the bottom of video-hw's layers: the error type ([`error`]),
//! codecs, geometry, timebases and colour ([`codec`]), encoded packets ([`packet`]), pixel
//! formats ([`pixels::format`]) and the stream facts a decoder is configured with
//! ([`StreamFormat`]). They name nothing of the library above them; Cargo sees to it.
//!
//! `video-hw` re-exports each at the path it has always had (`video_hw::error`,
//! `video_hw::codec`, `video_hw::packet`, `video_hw::pixels::format`,
//! `video_hw::config::StreamFormat`): use them from there. The bitstream layer
//! (`video-hw-bitstream`) is built on this crate alone.
#![warn(missing_docs)]

pub mod codec;
pub mod error;
pub mod packet;
pub mod pixels;
pub mod stream_format;

pub use codec::{
    Channels, ChromaLocation, Codec, ColorInfo, ColorMatrix, ColorPrimaries, ColorRange, Crop, Dimensions,
    MatrixCoefficients, PixelFormat, Rational, SampleType, TransferCharacteristics,
};
pub use error::{Error, Result};
pub use packet::{Packet, PacketLayout};
pub use stream_format::StreamFormat;
