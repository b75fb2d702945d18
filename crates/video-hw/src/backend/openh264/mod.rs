//! Cisco OpenH264, compiled from the C++ sources bundled in `openh264-sys2`, patched, by
//! the workspace crate `video-hw-openh264-sys`: the software engine that builds anywhere.
//! H.264 only: decode of 8-bit progressive 4:2:0 streams (Baseline, Main, High), encode
//! of 8-bit 4:2:0 without B-frames.
//!
//! Known limitation: OpenH264's decoded pictures differ slightly from the reference
//! decoder on some streams with B-slices (see `docs/openh264-conformance.md`); the probe
//! says so in its notes.

mod decoder;
mod encoder;
mod ffi;
mod pictures;
mod probe;
mod reorder;

use crate::backend::{DecoderBackend, EncoderBackend};
use crate::config::{DecoderConfig, EncoderConfig};
use crate::error::Result;

pub(crate) use probe::probe;

/// "openh264 2.7.0 (software)".
pub(crate) fn describe() -> String {
    format!("openh264 {} (software)", version_string())
}

/// The bundled OpenH264 version, "2.7.0".
pub(crate) fn version_string() -> String {
    let (major, minor, revision) = ffi::version();
    format!("{major}.{minor}.{revision}")
}

/// Opens an OpenH264 decoder (the registry's entry point).
pub(crate) fn open_decoder(config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
    Ok(Box::new(decoder::OpenH264Decoder::open(config)?))
}

/// Opens an OpenH264 encoder (the registry's entry point).
pub(crate) fn open_encoder(config: &EncoderConfig) -> Result<Box<dyn EncoderBackend>> {
    Ok(Box::new(encoder::OpenH264Encoder::open(config)?))
}
