//! rav1d, the dav1d AV1 decoder ported to Rust, built in (with dav1d's assembly where
//! the `asm` feature is on): AV1 decode on every machine, with no system library. 8- and
//! 10-bit 4:2:0 (and 4:0:0) output, film grain applied as dav1d applies it unless the
//! session turns it off ([`crate::DecoderConfig::film_grain`]).
//!
//! - `ffi.rs`: the calls into rav1d's dav1d-compatible C API, and owners of what it
//!   hands out.
//! - `decoder.rs`: the session: temporal units in, pictures out, damage reported.
//! - `guard.rs`: input rav1d 1.1.0 would abort on, taken out before it sees it.

mod decoder;
mod ffi;
mod guard;

use crate::backend::DecoderBackend;
use crate::backend::descriptor::EngineDescriptor;
use crate::backend::probe_streams;
use crate::bitstream::access_unit::{AccessUnit, PictureInfo};
use crate::codec::Codec;
use crate::config::{DecoderConfig, Output};
use crate::engine::Direction;
use crate::error::{Error, Result};
use crate::records::probe_info::ProbeInfo;

/// rav1d: software, decode only.
pub(crate) static DESCRIPTOR: EngineDescriptor =
    EngineDescriptor { encodes: false, ..EngineDescriptor::software(crate::engine::Engine::Rav1d) };

/// "rav1d, dav1d 966d63c1 in Rust (software, built in)": rav1d reports the dav1d
/// release it ports (a git hash where it has none).
pub(crate) fn describe() -> String {
    format!("rav1d, dav1d {} in Rust (software, built in)", ffi::version())
}

/// Opens a rav1d decoder (the registry's entry point).
pub(crate) fn open_decoder(config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
    Ok(Box::new(decoder::Rav1dDecoder::open(config)?))
}

/// The registry's probe: AV1 decode only, checked by decoding the probe keyframe.
pub(crate) fn probe(codec: Codec, direction: Direction, _device: u32) -> Result<ProbeInfo> {
    if direction != Direction::Decode {
        return Err(Error::unsupported("rav1d encode", "rav1d decodes only (rav1e encodes AV1)"));
    }
    if codec != Codec::Av1 {
        return Err(Error::unsupported(format!("{codec} decode with rav1d"), "rav1d decodes AV1 only"));
    }
    let config = DecoderConfig::new(Codec::Av1).output(Output::HOST_YUV420P).threads(1);
    let mut dec = decoder::Rav1dDecoder::open(&config)?;
    let au = AccessUnit {
        data: probe_streams::AV1.to_vec(),
        pts: Some(0),
        picture: Some(PictureInfo { idr: true, irap: true, output: true, ..PictureInfo::default() }),
        ..AccessUnit::default()
    };
    dec.decode(&au)?;
    let mut frames = Vec::new();
    while let Some(f) = dec.try_reap()? {
        frames.push(f);
    }
    frames.extend(dec.flush()?);
    let wrong = |why: &str| Error::backend("rav1d", "probe", format!("the probe keyframe {why}"));
    let frame = frames.first().ok_or_else(|| wrong("gave no picture"))?;
    let host = frame.host_data().ok_or_else(|| wrong("gave no pixels"))?;
    if !probe_streams::is_flat_picture(frame.width, frame.height, host.as_bytes(), 0) {
        return Err(wrong("decoded to the wrong picture"));
    }
    Ok(ProbeInfo {
        device: Some("software".to_string()),
        driver: Some(format!("rav1d (dav1d {})", ffi::version())),
        notes: vec!["built in; AV1 input: one temporal unit at a time (Input::packet)".to_string()],
    })
}
