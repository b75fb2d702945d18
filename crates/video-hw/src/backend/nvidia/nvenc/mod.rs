//! The NVENC encode engine: registry glue (probe, open) over [`session`].
//!
//! - [`api`]: the `NV_ENCODE_API_FUNCTION_LIST`, loaded at run time from
//!   `libnvidia-encode.so.1` (version-checked), or a test's fake; typed errors.
//! - [`caps`]: what a GPU's NVENC can do for a codec (the probe's notes).
//! - [`config`]: the pure mapping of an `EncoderConfig` onto NVENC's structures.
//! - [`input`]: host frames into locked input buffers.
//! - [`device`]: the CUDA context and the device surfaces CUDA frames are staged in.
//! - [`session`]: frames in flight, the reaper thread, reconfiguration.
//!
//! No GPU this code was written on has an NVENC unit (the H200 answers
//! `nvEncOpenEncodeSessionEx` with `NV_ENC_ERR_UNSUPPORTED_DEVICE`); what stands in for a
//! run on real hardware is listed in `docs/nvenc.md`.

pub(crate) mod api;
pub(crate) mod caps;
pub(crate) mod config;
pub(crate) mod device;
#[cfg(test)]
pub(crate) mod fake;
pub(crate) mod input;
pub(crate) mod session;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use self::api::{Api, version_name};
use self::caps::codec_guid;
use self::device::Device;
use super::cuda::CudaDriver;
use crate::backend::EncoderBackend;
use crate::codec::Codec;
use crate::config::EncoderConfig;
use crate::engine::Direction;
use crate::error::{Error, Result};
use crate::records::probe_info::ProbeInfo;

/// CUDA errors say "nvdec" (the loader's name for the CUDA library); here they are nvenc's.
fn as_nvenc(e: Error) -> Error {
    match e {
        Error::Unsupported { why, .. } => Error::unsupported("nvenc", why),
        other => other,
    }
}

/// GPU `index` as a session device, with its name.
fn cuda_device(index: u32) -> Result<(Device, String)> {
    let driver = CudaDriver::get().map_err(as_nvenc)?;
    let count = driver.device_count().map_err(as_nvenc)?;
    if index >= count {
        return Err(Error::unsupported("nvenc", format!("no GPU {index} (this machine has {count})")));
    }
    let device = driver.device(index).map_err(as_nvenc)?;
    let name = device.name().map_err(as_nvenc)?;
    let ctx = device.primary_context().map_err(as_nvenc)?;
    Ok((Device::cuda(ctx, index).map_err(as_nvenc)?, name))
}

/// Whether GPU `device` can encode `codec`: loads `libnvidia-encode.so.1` (checking its
/// API version), opens a session, queries the capabilities and closes it.
pub(crate) fn probe(codec: Codec, direction: Direction, device: u32) -> Result<ProbeInfo> {
    if direction != Direction::Encode {
        return Err(Error::unsupported("nvenc", "nvenc only encodes"));
    }
    codec_guid(codec).map_err(|why| Error::unsupported("nvenc", why))?;
    let api = Api::get()?;
    let (dev, name) = cuda_device(device)?;
    let gpu = format!("GPU {device} ({name})");
    let caps = session::probe_on(api, &dev, &gpu, codec)?;
    Ok(ProbeInfo {
        device: Some(format!("GPU {device}: {name}")),
        driver: Some(format!("driver speaks up to {}", version_name(api.driver_version()))),
        notes: caps.notes(),
    })
}

/// Opens an NVENC session for `config` (the registry's entry point).
pub(crate) fn open(config: &EncoderConfig) -> Result<Box<dyn EncoderBackend>> {
    codec_guid(config.codec).map_err(|why| Error::unsupported(format!("{} encode with nvenc", config.codec), why))?;
    let api = Api::get()?;
    let (dev, name) = cuda_device(config.device_index)?;
    let gpu = format!("GPU {} ({name})", config.device_index);
    Ok(Box::new(session::NvencEncoder::open_on(api, Arc::new(dev), gpu, config)?))
}
