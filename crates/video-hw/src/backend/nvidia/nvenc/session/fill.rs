//! The input side of a session: a frame into a slot (host frames copied into an input
//! buffer, CUDA frames staged and mapped), and the picture parameters of a submit.

use super::super::api::Handle;
use super::super::device::check_cuda_frame;
use super::super::input::{locked_len, write_host_frame};
use super::*;
use crate::codec::{Codec, PixelFormat};
use crate::error::{Error, Result};
use crate::frame::{DeviceFrame, HostFrame};

/// The NVENC buffer format a CUDA frame of `f` is registered as.
pub(super) fn device_format(f: PixelFormat) -> Option<NV_ENC_BUFFER_FORMAT> {
    match f {
        PixelFormat::Nv12 => Some(NV_ENC_BUFFER_FORMAT_NV12),
        PixelFormat::P010 => Some(NV_ENC_BUFFER_FORMAT_YUV420_10BIT),
        PixelFormat::Bgra => Some(NV_ENC_BUFFER_FORMAT_ARGB),
        _ => None,
    }
}

impl NvencEncoder {
    /// Copies a host frame into the slot's input buffer: `(input, format, pitch)`. This is
    /// the session's upload (host memory to the GPU's encoder): timed as the `upload`
    /// stage, its bytes counted as `h2d`.
    pub(super) fn fill_host(&mut self, slot: usize, host: &HostFrame) -> Result<(Handle, NV_ENC_BUFFER_FORMAT, u32)> {
        let start = std::time::Instant::now();
        let input = self.slots[slot].input;
        let (ptr, pitch) = self.api.lock_input(self.encoder, input).map_err(|f| self.fail(f))?;
        let len = locked_len(self.config.input_format, pitch, self.config.height);
        // SAFETY: NVENC locked an input buffer it created for `host_format` at the
        // session's width x height; in that format's layout (input.rs) a buffer of this
        // pitch spans `len` bytes from `ptr`. It is ours until the unlock below, and no
        // other view of it exists.
        let dst = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
        let (w, h) = (self.config.width, self.config.height);
        let written = write_host_frame(host, self.config.input_format, w, h, dst, pitch);
        let unlocked = self.api.unlock_input(self.encoder, input).map_err(|f| self.fail(f));
        written?;
        unlocked?;
        let pitch = u32::try_from(pitch).map_err(|_| Error::invalid_input("input pitch above 4 GiB"))?;
        crate::metrics::record_stage(crate::metrics::Stage::Upload, start.elapsed());
        let bytes: usize = host.planes().iter().map(|p| p.row_bytes * p.rows).sum();
        crate::metrics::record_copy(crate::metrics::CopyDirection::HostToDevice, bytes as u64);
        Ok((input, self.host_format, pitch))
    }

    /// Stages a CUDA frame in the slot's surface and maps it: `(mapped, format, pitch)`.
    pub(super) fn fill_device(
        &mut self,
        slot: usize,
        frame: &DeviceFrame,
    ) -> Result<(Handle, NV_ENC_BUFFER_FORMAT, u32)> {
        let format = frame.format();
        let Some(nv_format) = device_format(format) else {
            return Err(Error::unsupported(
                format!("CUDA {format} input with nvenc"),
                "NVENC takes CUDA frames in nv12, p010 or bgra",
            ));
        };
        check_cuda_frame(frame, self.device.index())?;
        let (w, h) = (self.config.width, self.config.height);
        if self.slots[slot].surface.is_none() {
            self.slots[slot].surface = Some(self.device.alloc(format, w, h)?);
        }
        let (ptr, pitch) = match &self.slots[slot].surface {
            Some(s) => (s.ptr, s.pitch),
            None => return Err(Error::backend("nvenc", "surface", "no device surface")),
        };
        let pitch = u32::try_from(pitch).map_err(|_| Error::invalid_input("surface pitch above 4 GiB"))?;
        let registered = match self.registered.get(&ptr) {
            Some(r) => *r,
            None => {
                let mut reg = NV_ENC_REGISTER_RESOURCE {
                    version: NV_ENC_REGISTER_RESOURCE_VER,
                    resourceType: NV_ENC_INPUT_RESOURCE_TYPE_CUDADEVICEPTR,
                    width: w,
                    height: h,
                    pitch,
                    resourceToRegister: ptr as *mut std::ffi::c_void,
                    bufferFormat: nv_format,
                    bufferUsage: NV_ENC_INPUT_IMAGE,
                    ..Default::default()
                };
                let r = self.api.register(self.encoder, &mut reg).map_err(|f| self.fail(f))?;
                self.registered.insert(ptr, r);
                r
            }
        };
        if let Some(surface) = &self.slots[slot].surface {
            self.device.stage(frame, surface)?;
        }
        let (mapped, mapped_format) = self.api.map(self.encoder, registered).map_err(|f| self.fail(f))?;
        self.slots[slot].mapped = Some(mapped);
        Ok((mapped, mapped_format, pitch))
    }

    /// `nvEncEncodePicture` with a few retries while the encoder is busy.
    pub(super) fn encode_with_retries(&self, pic: &mut NV_ENC_PIC_PARAMS) -> NVENCSTATUS {
        let mut status = self.api.encode(self.encoder, pic);
        for _ in 0..BUSY_RETRIES {
            if status != NV_ENC_ERR_ENCODER_BUSY {
                break;
            }
            std::thread::sleep(BUSY_PAUSE);
            status = self.api.encode(self.encoder, pic);
        }
        status
    }

    /// Fills the codec part of the picture parameters (the config's slicing).
    pub(super) fn codec_pic_params(&self, pic: &mut NV_ENC_PIC_PARAMS) {
        match self.config.codec {
            Codec::H264 => {
                let h = super::super::config::h264(&self.nv.0);
                let mut p = NV_ENC_PIC_PARAMS_H264 { sliceMode: h.sliceMode, ..Default::default() };
                p.sliceModeData = h.sliceModeData;
                pic.codecPicParams.h264PicParams = p;
            }
            _ => {
                let h = super::super::config::hevc(&self.nv.0);
                let mut p = NV_ENC_PIC_PARAMS_HEVC { sliceMode: h.sliceMode, ..Default::default() };
                p.sliceModeData = h.sliceModeData;
                pic.codecPicParams.hevcPicParams = p;
            }
        }
    }
}
