//! The FFmpeg engine (feature `ffmpeg`): the system's libavcodec in process.
//!
//! One module serves several registry engines: [`Engine::Ffmpeg`] (software: libavcodec's
//! h264/hevc/av1 decoders, libx264, libx265, libsvtav1), and the hardware families FFmpeg
//! reaches — [`Engine::Qsv`], [`Engine::Vaapi`], [`Engine::VideoToolbox`], [`Engine::Amf`].
//! NVIDIA hardware is served by the native NVDEC/NVENC engines, which come first.
//!
//! - `common.rs`: one-time initialisation, FFmpeg errors as this crate's errors, versions.
//! - `decoder.rs`: decoding (software, and hardware through `hw_device_ctx`).
//! - `decode_hw.rs`: the hardware devices of decoding; `frame_convert.rs`: decoded
//!   pictures to this crate's frames; `probe_streams.rs`: the one-frame probe keyframes.
//! - `encoder.rs`: encoding; `encoder_options.rs`: the neutral-config → encoder-options
//!   table; `frame_upload.rs`: host frames into the encoder's format (and VA-API surfaces).

pub(crate) mod common;
mod decode_hw;
pub(crate) mod decoder;
pub(crate) mod encoder;
pub(crate) mod encoder_options;
mod frame_convert;
pub(crate) mod frame_upload;
mod probe_streams;

use crate::codec::Codec;
use crate::engine::{Direction, Engine};
use crate::error::Result;
use crate::probe::ProbeInfo;

/// Probes `engine` (one of the FFmpeg families) for `codec` in `direction`.
pub(crate) fn probe(engine: Engine, codec: Codec, direction: Direction, device: u32) -> Result<ProbeInfo> {
    match direction {
        Direction::Decode => decoder::probe(engine, codec, device),
        Direction::Encode => encoder::probe(engine, codec, device),
    }
}
