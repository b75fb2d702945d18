//! The bitstream layer: pure safe Rust, shared by every engine.
//!
//! Bytes flow one way: [`annexb`] splits a byte stream into NAL units, [`h264`] and
//! [`hevc`] read parameter sets and slice headers, [`access_unit`] groups NAL units into
//! access units, and [`avcc`] converts between length-prefixed samples and Annex-B.
//! AV1 and VP9 have no NAL units: their packets go to the engine whole, [`packet`] reads
//! just their key-frame and show flags.

pub mod access_unit;
pub mod annexb;
pub mod av1;
pub mod avcc;
pub(crate) mod bits;
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
