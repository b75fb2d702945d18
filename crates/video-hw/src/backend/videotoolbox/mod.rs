//! Apple VideoToolbox, native: `VTDecompressionSession` and `VTCompressionSession` through
//! the objc2 bindings, for H.264 and HEVC (8- and 10-bit) on macOS.
//!
//! **Compiled for macOS in CI, never run**: there is no Mac here. `.ci/apple-check`
//! type-checks and lints this engine for `aarch64-apple-darwin` and `x86_64-apple-darwin`;
//! everything that is not a call into Apple's libraries runs in CI on Linux against a fake
//! VideoToolbox (`fake.rs`). docs/videotoolbox.md says what was verified and how a Mac user
//! runs the hardware test.
//!
//! - `api.rs`: the thin layer to Apple's libraries, as plain Rust types and traits.
//! - `ffi/` (Apple only): that layer over VideoToolbox, Core Media and Core Video.
//! - `format.rs`: access units as format descriptions and samples.
//! - `timing.rs`: timestamps as `CMTime`.
//! - `outbox.rs`: what the callbacks leave for the session's thread.
//! - `decoder.rs`, `encoder.rs`: the sessions.
//! - `properties.rs`: an encoder configuration as compression-session properties.
//! - `status.rs`: `OSStatus` codes as typed errors.

// Off Apple systems the registry does not reach this engine; the tests run all of it.
#![cfg_attr(not(target_vendor = "apple"), allow(dead_code))]

mod api;
mod decoder;
mod encoder;
#[cfg(test)]
mod fake;
#[cfg(target_vendor = "apple")]
mod ffi;
mod format;
mod outbox;
mod properties;
mod status;
#[cfg(test)]
mod tests;
mod timing;

use std::sync::Arc;

use crate::backend::descriptor::EngineDescriptor;
use crate::backend::{DecoderBackend, EncoderBackend, probe_streams};
use crate::bitstream::access_unit::AccessUnitAssembler;
use crate::codec::Codec;
use crate::config::{DecoderConfig, EncoderConfig, Output};
use crate::engine::Direction;
use crate::error::{Error, Result};
use crate::records::probe_info::ProbeInfo;

use api::Layer;

/// The layer over Apple's libraries; `None` off Apple systems.
#[cfg(target_vendor = "apple")]
fn apple() -> Option<Arc<dyn Layer>> {
    Some(Arc::new(ffi::Apple))
}

/// The layer over Apple's libraries; `None` off Apple systems.
#[cfg(not(target_vendor = "apple"))]
fn apple() -> Option<Arc<dyn Layer>> {
    None
}

fn layer() -> Result<Arc<dyn Layer>> {
    apple().ok_or_else(|| Error::unsupported("videotoolbox", "VideoToolbox exists only on Apple systems"))
}

/// VideoToolbox: hardware, host frames; on Apple systems VP9 and AV1 (and every codec with
/// `VIDEO_HW_VIDEOTOOLBOX=ffmpeg`) go through FFmpeg.
pub(crate) static DESCRIPTOR: EngineDescriptor = EngineDescriptor {
    uses_ffmpeg: cfg!(target_vendor = "apple"),
    ..EngineDescriptor::hardware(crate::engine::Engine::VideoToolbox)
};

/// Opens a native VideoToolbox decoder (the registry's entry point on Apple systems).
pub(crate) fn open_decoder(config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
    Ok(Box::new(decoder::VtDecoder::open(layer()?, config)?))
}

/// Opens a native VideoToolbox encoder (the registry's entry point on Apple systems).
pub(crate) fn open_encoder(config: &EncoderConfig) -> Result<Box<dyn EncoderBackend>> {
    Ok(Box::new(encoder::VtEncoder::open(layer()?, config)?))
}

/// The registry's probe.
pub(crate) fn probe(codec: Codec, direction: Direction, _device: u32) -> Result<ProbeInfo> {
    probe_with(layer()?, codec, direction)
}

/// The probe on a given layer: decode asks `VTIsHardwareDecodeSupported` and decodes the
/// 64x64 probe keyframe; encode looks for the codec in `VTCopyVideoEncoderList`.
fn probe_with(layer: Arc<dyn Layer>, codec: Codec, direction: Direction) -> Result<ProbeInfo> {
    if !matches!(codec, Codec::H264 | Codec::Hevc) {
        return Err(Error::unsupported(
            format!("{codec} {direction} with videotoolbox"),
            "this engine does H.264 and HEVC (the FFmpeg engine decodes VP9 and AV1 through VideoToolbox)",
        ));
    }
    let mut notes = vec!["native VideoToolbox (compiled for macOS in CI, never run before this machine)".to_string()];
    match direction {
        Direction::Decode => {
            if !layer.hardware_decode_supported(codec) {
                return Err(Error::unsupported(
                    format!("{codec} decode with videotoolbox"),
                    "VTIsHardwareDecodeSupported: no hardware decoder for it on this Mac",
                ));
            }
            probe_decode(layer, codec)?;
            Ok(ProbeInfo { device: Some("Apple media engine".into()), driver: Some("VideoToolbox".into()), notes })
        }
        Direction::Encode => {
            let want = u32::from_be_bytes(if codec == Codec::H264 { *b"avc1" } else { *b"hvc1" });
            let encoders = layer.encoders().map_err(|s| status::error("VTCopyVideoEncoderList", s, None))?;
            let found: Vec<_> = encoders.iter().filter(|e| e.codec_type == want).collect();
            let Some(best) = found.iter().find(|e| e.hardware).or(found.first()) else {
                return Err(Error::unsupported(
                    format!("{codec} encode with videotoolbox"),
                    "VTCopyVideoEncoderList lists no encoder for it",
                ));
            };
            if !best.hardware {
                notes.push("software encoder only (no hardware encoder listed)".into());
            }
            notes.push(format!("encoder {} ({})", best.name, best.id));
            Ok(ProbeInfo { device: Some(best.name.clone()), driver: Some("VideoToolbox".into()), notes })
        }
    }
}

/// Decodes the probe keyframe and checks its picture.
fn probe_decode(layer: Arc<dyn Layer>, codec: Codec) -> Result<()> {
    let stream: &[u8] = if codec == Codec::H264 { &probe_streams::H264 } else { &probe_streams::HEVC };
    let mut assembler = AccessUnitAssembler::new(codec)?;
    assembler.push_annexb(stream, Some(0));
    assembler.finish();
    let mut dec = decoder::VtDecoder::open(layer, &DecoderConfig::new(codec).output(Output::HOST_YUV420P))?;
    while let Some(au) = assembler.pop() {
        dec.decode(&au?)?;
    }
    let frames = dec.flush()?;
    if let Some(e) = dec.take_stream_error() {
        return Err(e);
    }
    let wrong = |why: &str| Error::backend("videotoolbox", "probe", format!("the probe keyframe {why}"));
    let frame = frames.first().ok_or_else(|| wrong("gave no picture"))?;
    let host = frame.host_data().ok_or_else(|| wrong("gave no pixels"))?;
    // Hardware may round the flat picture by one.
    if !probe_streams::is_flat_picture(frame.width, frame.height, host.as_bytes(), 1) {
        return Err(wrong("decoded to the wrong picture"));
    }
    Ok(())
}
