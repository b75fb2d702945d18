//! # video-hw
//!
//! Hardware video decode and encode behind one backend-neutral API: NVIDIA NVDEC/NVENC
//! driven directly through the Video Codec SDK, Apple VideoToolbox, FFmpeg's libavcodec
//! (optional feature) and OpenH264 as the software default that builds anywhere. The best
//! engine on the machine is picked at run time; a fallback is logged (one WARN line) and
//! counted (`video_hw_fallback_total`); `require_hardware` or an explicit engine refuses
//! to fall back.
//!
//! ```no_run
//! use video_hw::{Codec, Decoder, DecoderConfig, Input, Output};
//!
//! let mut dec = Decoder::open(DecoderConfig::new(Codec::Hevc).output(Output::HOST_NV12))?;
//! let stream = std::fs::read("clip.h265")?;
//! for chunk in stream.chunks(1 << 16) {
//!     dec.submit(Input::annexb(chunk, None))?; // any byte split is fine
//!     while let Some(frame) = dec.try_reap()? {
//!         println!("frame {}x{} pts {:?}", frame.width, frame.height, frame.pts);
//!     }
//! }
//! let rest = dec.flush()?;
//! eprintln!("{} frames by {}", dec.stats().frames_out, dec.backend());
//! # Ok::<(), video_hw::Error>(())
//! ```
//!
//! [`pipeline`] runs sessions on their own threads behind a ring of reusable frame buffers
//! (decode, encode, and a transcode where both overlap); [`metrics`] lists what the
//! sessions emit through the `metrics` facade and keeps the same figures for `stats()`.
//!
//! The bitstream layer ([`bitstream`]) is usable on its own: an incremental Annex-B
//! splitter, H.264/HEVC parameter-set and slice-header parsing, access-unit assembly and
//! AVCC/HVCC conversion, all in safe Rust.
#![warn(missing_docs)]

pub mod async_session;
pub mod audio;
mod backend;
pub mod config;
pub mod decoder;
pub mod device_array;
pub mod device_choice;
pub mod diagnostics;
pub mod encoder;
pub mod engine;
pub mod env;
pub mod frame;
pub mod gpu_memory;
mod media_glue;
pub mod metrics;
pub mod pipeline;
pub mod pixels;
pub mod process;
pub mod reader;
mod records;
pub mod registry;
pub mod worker_threads;
// Used by the FFmpeg engine's fallback unit test (and by path from tests/common).
#[cfg(test)]
pub(crate) mod test_observe;

// The bottom layers are crates of their own (so Cargo keeps them from naming anything
// above), at the paths they have always had: the plain records (`crates/video-hw-types`)
// and the bitstream layer (`crates/video-hw-bitstream`), and the containers
// (`crates/video-hw-media`).
pub use video_hw_bitstream as bitstream;
pub use video_hw_types::{codec, error, packet};

/// Containers: demuxers (MP4/MOV, Matroska/WebM, MPEG-TS, AVI, IVF, raw streams, audio
/// files), muxers and the frame index with its cache. Everything here is the crate
/// `video-hw-media` (`crates/video-hw-media`), but for what needs the library: a track's
/// decoder configuration ([`TrackDecoderConfig`](media::TrackDecoderConfig),
/// `track.decoder_config()`) and the index cache's defaults from the environment
/// ([`index_cache`](media::index_cache)).
pub mod media {
    #[doc(inline)]
    pub use video_hw_media::*;

    pub use crate::media_glue::{TrackDecoderConfig, index_cache, install_cache_environment};
}

/// Moved to [`pixels::convert`]; kept for a release.
pub use pixels::convert;
/// Moved to [`pixels::pix_fmt`]; kept for a release.
pub use pixels::pix_fmt;
/// Moved to [`pixels::quality`]; kept for a release.
pub use pixels::quality;
/// Moved to [`pixels::transform`]; kept for a release.
pub use pixels::transform;

pub use codec::{
    Channels, ChromaLocation, Codec, ColorInfo, ColorMatrix, ColorPrimaries, ColorRange, Crop, Dimensions,
    MatrixCoefficients, PixelFormat, Rational, SampleType, TransferCharacteristics,
};
pub use config::{
    DecoderConfig, EncoderConfig, FrameOptions, Output, Preset, RateControl, StreamFormat, SwitchMode, Tuning,
};
pub use decoder::{Decoder, DecoderStats, Input};
pub use encoder::{Encoder, EncoderStats};
pub use engine::{Direction, Engine, EnginePreference};
pub use error::{Error, Result};
pub use frame::{CudaFrame, DeviceApi, DeviceFrame, Frame, FrameData, HostBuffer, HostFrame};
pub use packet::{Packet, PacketLayout};
