//! The bitstream layer: pure safe Rust, shared by every engine.
//!
//! Bytes flow one way: [`annexb`] splits a byte stream into NAL units, [`h264`] and
//! [`hevc`] read parameter sets and slice headers, [`access_unit`] groups NAL units into
//! access units, and [`avcc`] converts between length-prefixed samples and Annex-B.

pub mod access_unit;
pub mod annexb;
pub mod avcc;
mod common;
pub mod detect;
pub mod h264;
pub mod hevc;
pub mod nal;
pub mod rbsp;
pub mod summary;
