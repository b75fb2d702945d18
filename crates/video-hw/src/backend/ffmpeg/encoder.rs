//! Encoding through libavcodec.

use crate::backend::EncoderBackend;
use crate::codec::Codec;
use crate::config::EncoderConfig;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::registry::ProbeInfo;

/// Whether `engine` can encode `codec` here.
pub(crate) fn probe(engine: Engine, codec: Codec, device: u32) -> Result<ProbeInfo> {
    let _ = device;
    Err(Error::unsupported(format!("{engine} {codec} encode"), "not implemented yet"))
}

/// Opens an encoder of the `engine` family.
pub(crate) fn open(engine: Engine, config: &EncoderConfig) -> Result<Box<dyn EncoderBackend>> {
    Err(Error::unsupported(format!("{engine} {} encode", config.codec), "not implemented yet"))
}
