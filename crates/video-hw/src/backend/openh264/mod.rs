//! Cisco OpenH264, compiled from the C++ sources bundled in `openh264-sys2`, patched, by
//! the workspace crate `video-hw-openh264-sys`: the software engine that builds anywhere.
//! H.264 only: decode of 8-bit progressive 4:2:0 streams (Baseline, Main, High), encode
//! of 8-bit 4:2:0 without B-frames.
//!
//! With the patches (`docs/openh264-patches.md`) decoding is bit-exact with the
//! reference decoder on every progressive 8-bit corpus stream and fixture, B-slices
//! included (`docs/openh264-conformance.md` lists the exceptions: one stream damaged by
//! design, one B-picture of one fixture stream).

mod decoder;
mod encoder;
mod ffi;
mod first_idr_qp;
mod one_frame_probe;
mod pictures;

use crate::backend::descriptor::EngineDescriptor;
use crate::backend::{DecoderBackend, EncoderBackend};
use crate::config::{DecoderConfig, EncoderConfig};
use crate::error::Result;

pub(crate) use one_frame_probe::probe;

/// OpenH264: software; each session decodes on one thread, so one session per CPU thread.
/// It waits for an IDR after a flush, so decoding starts at IDRs.
pub(crate) static DESCRIPTOR: EngineDescriptor = EngineDescriptor {
    sessions: |ask| ask.cpus,
    // One thread a session, whatever is open.
    threads_by_share: false,
    ..EngineDescriptor::software(crate::engine::Engine::OpenH264)
};

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
