//! Decoding through libavcodec.

use crate::backend::DecoderBackend;
use crate::codec::Codec;
use crate::config::DecoderConfig;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::registry::ProbeInfo;

/// Whether `engine` can decode `codec` here.
pub(crate) fn probe(engine: Engine, codec: Codec, device: u32) -> Result<ProbeInfo> {
    let _ = device;
    Err(Error::unsupported(format!("{engine} {codec} decode"), "not implemented yet"))
}

/// Opens a decoder of the `engine` family.
pub(crate) fn open(engine: Engine, config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
    Err(Error::unsupported(format!("{engine} {} decode", config.codec), "not implemented yet"))
}
