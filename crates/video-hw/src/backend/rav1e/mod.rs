//! rav1e, the AV1 encoder in Rust, built in (with its assembly under the `asm`
//! feature): AV1 encode on every machine, with no system library.
//!
//! - `encoder.rs`: the session and how the neutral configuration maps onto rav1e's.

mod encoder;

use crate::backend::EncoderBackend;
use crate::backend::descriptor::EngineDescriptor;
use crate::codec::{Codec, PixelFormat};
use crate::config::{EncoderConfig, FrameOptions, RateControl};
use crate::engine::Direction;
use crate::error::{Error, Result};
use crate::frame::{Frame, HostFrame};
use crate::records::probe_info::ProbeInfo;

/// rav1e: software, encode only.
pub(crate) static DESCRIPTOR: EngineDescriptor =
    EngineDescriptor { decodes: false, ..EngineDescriptor::software(crate::engine::Engine::Rav1e) };

/// "rav1e (software, built in)".
pub(crate) fn describe() -> String {
    "rav1e (software, built in)".to_string()
}

/// Opens a rav1e encoder (the registry's entry point).
pub(crate) fn open_encoder(config: &EncoderConfig) -> Result<Box<dyn EncoderBackend>> {
    Ok(Box::new(encoder::Rav1eEncoder::open(config)?))
}

/// The registry's probe: AV1 encode only, checked by encoding one small picture.
pub(crate) fn probe(codec: Codec, direction: Direction, _device: u32) -> Result<ProbeInfo> {
    if direction != Direction::Encode {
        return Err(Error::unsupported("rav1e decode", "rav1e encodes only (rav1d decodes AV1)"));
    }
    if codec != Codec::Av1 {
        return Err(Error::unsupported(format!("{codec} encode with rav1e"), "rav1e encodes AV1 only"));
    }
    let config = EncoderConfig::new(Codec::Av1, 64, 64)
        .input_format(PixelFormat::Yuv420p)
        .rate_control(RateControl::ConstQuality { q: 30 })
        .preset(crate::config::Preset::Fastest);
    let mut config = config;
    config.threads = Some(1);
    let mut enc = encoder::Rav1eEncoder::open(&config)?;
    let picture = HostFrame::new_packed(PixelFormat::Yuv420p, 64, 64);
    let frame = Frame::host(PixelFormat::Yuv420p, 64, 64, picture);
    enc.submit(&frame, FrameOptions { pts: Some(0), force_keyframe: true }, 0)?;
    let mut packets = Vec::new();
    while let Some(p) = enc.try_reap()? {
        packets.push(p);
    }
    packets.extend(enc.flush()?);
    if packets.len() != 1 || !packets[0].keyframe {
        return Err(Error::backend("rav1e", "probe", format!("one picture gave {} packets", packets.len())));
    }
    Ok(ProbeInfo {
        device: Some("software".to_string()),
        driver: Some("rav1e".to_string()),
        notes: vec!["built in".to_string()],
    })
}
