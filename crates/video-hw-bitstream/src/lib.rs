//! The bitstream layer of video-hw: pure safe Rust, shared by every engine. `video-hw`
//! re-exports this crate as `video_hw::bitstream`: use it from there. It is built on the
//! plain records alone (`video-hw-types`), so Cargo keeps it from naming anything above.
//! Items marked `#[doc(hidden)]` are the library's internals (crate-private when this was a
//! module of `video-hw`): the engines use them; they are no part of the API.
//!
//! Bytes flow one way: [`annexb`] splits a byte stream into NAL units, [`h264`] and
//! [`hevc`] read parameter sets and slice headers, [`access_unit`] groups NAL units into
//! access units, and [`avcc`] converts between length-prefixed samples and Annex-B.
//! AV1 and VP9 have no NAL units: their packets go to the engine whole, [`packet`] reads
//! just their key-frame and show flags.
#![warn(missing_docs)]

pub mod access_unit;
pub mod annexb;
pub mod av1;
pub mod avcc;
#[doc(hidden)]
pub mod bits;
mod common;
pub mod detect;
pub mod h264;
pub mod hevc;
pub mod nal;
pub mod packet;
pub mod param_sets;
pub mod rbsp;
pub mod refs;
pub mod segments;
pub mod summary;
