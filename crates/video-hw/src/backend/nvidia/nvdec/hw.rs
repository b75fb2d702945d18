//! One NVDEC decoder object (`CUvideodecoder`): creation sized from the parser's
//! sequence format, reconfiguration on a resolution change, picture decode, and
//! mapping decoded surfaces for copy-out.

use crate::backend::nvidia::call_times;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::super::cuda::{Context, check_cuvid};
use super::super::loader::CuvidApi;
use super::super::sys::cuvid::*;
use super::creations;
use crate::error::{Error, Result};

/// NVDEC decoder objects alive in this process (for leak checks).
pub(crate) static LIVE_DECODERS: AtomicUsize = AtomicUsize::new(0);

/// What a decoder object was created for; a new sequence with the same shape and a
/// size within `max_*` is served by `cuvidReconfigureDecoder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub codec: cudaVideoCodec,
    pub chroma: cudaVideoChromaFormat,
    pub bit_depth_minus8: u32,
    pub surface_format: cudaVideoSurfaceFormat,
}

/// A live `CUvideodecoder`. Destroyed on drop (with its context current).
pub(crate) struct HwDecoder {
    raw: CUvideodecoder,
    cuvid: &'static CuvidApi,
    ctx: Context,
    pub shape: Shape,
    /// Coded size now in force (= the surfaces' target size).
    pub width: u32,
    pub height: u32,
    /// Largest coded size reconfiguration may move to.
    pub max_width: u32,
    pub max_height: u32,
    /// Decode surfaces allocated.
    pub surfaces: u32,
}

// SAFETY: the handle is an opaque driver object; NVDEC calls on it are made only through
// `&mut self` or while the owning session's single thread runs the parser, so there is no
// concurrent use, and the driver allows use from any thread with the context current.
unsafe impl Send for HwDecoder {}

/// A decoded surface mapped for reading; unmapped on drop.
pub(crate) struct Mapped<'a> {
    dec: &'a HwDecoder,
    pub ptr: u64,
    pub pitch: usize,
}

impl Drop for Mapped<'_> {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from cuvidMapVideoFrame64 on this live decoder and is unmapped
        // exactly once; the caller waited for every copy from it before dropping.
        let r = call_times::UNMAP.time(|| unsafe { (self.dec.cuvid.cuvidUnmapVideoFrame64)(self.dec.raw, self.ptr) });
        if let Err(e) = check_cuvid(r, "cuvidUnmapVideoFrame64") {
            tracing::warn!("{e}");
        }
    }
}

impl HwDecoder {
    /// Creates a decoder writing `shape.surface_format` surfaces of the full coded size
    /// (cropping is applied when copying out, exactly, by the caller).
    pub fn create(ctx: &Context, shape: Shape, width: u32, height: u32, surfaces: u32) -> Result<HwDecoder> {
        let cuvid = CuvidApi::get()?;
        let mut info = CUVIDDECODECREATEINFO {
            ulWidth: width.into(),
            ulHeight: height.into(),
            ulNumDecodeSurfaces: surfaces.into(),
            CodecType: shape.codec,
            ChromaFormat: shape.chroma,
            ulCreationFlags: cudaVideoCreate_PreferCUVID.into(),
            bitDepthMinus8: shape.bit_depth_minus8.into(),
            ulMaxWidth: width.into(),
            ulMaxHeight: height.into(),
            OutputFormat: shape.surface_format,
            // Weave keeps both fields of an interlaced frame, as a software decoder outputs it.
            DeinterlaceMode: cudaVideoDeinterlaceMode_Weave,
            ulTargetWidth: width.into(),
            ulTargetHeight: height.into(),
            ulNumOutputSurfaces: 2,
            ..CUVIDDECODECREATEINFO::default()
        };
        info.display_area.right = clamp_short(width);
        info.display_area.bottom = clamp_short(height);
        let _current = ctx.push()?;
        let device = ctx.device().ordinal();
        let _pending = creations::pending(device);
        let _turn = creations::turn(device);
        let mut raw: CUvideodecoder = ptr::null_mut();
        // SAFETY: `info` is a fully initialised create-info (layout checked by the sys
        // layout test); the out-pointer is a live local; the context is current.
        let r = call_times::CREATE_DECODER.time(|| unsafe { (cuvid.cuvidCreateDecoder)(&mut raw, &mut info) });
        check_cuvid(r, "cuvidCreateDecoder")?;
        if raw.is_null() {
            return Err(Error::backend("nvdec", "null decoder", "cuvidCreateDecoder returned no decoder"));
        }
        LIVE_DECODERS.fetch_add(1, Ordering::SeqCst);
        Ok(HwDecoder {
            raw,
            cuvid,
            ctx: ctx.clone(),
            shape,
            width,
            height,
            max_width: width,
            max_height: height,
            surfaces,
        })
    }

    /// Moves the decoder to a new coded size within its maximum (resolution change
    /// without destroying it). Returns false when the driver has no reconfigure call.
    pub fn reconfigure(&mut self, width: u32, height: u32) -> Result<bool> {
        let Some(reconfigure) = self.cuvid.cuvidReconfigureDecoder else { return Ok(false) };
        let mut info = CUVIDRECONFIGUREDECODERINFO {
            ulWidth: width,
            ulHeight: height,
            ulTargetWidth: width,
            ulTargetHeight: height,
            ulNumDecodeSurfaces: self.surfaces,
            ..CUVIDRECONFIGUREDECODERINFO::default()
        };
        info.display_area.right = clamp_short(width);
        info.display_area.bottom = clamp_short(height);
        let _current = self.ctx.push()?;
        // SAFETY: `raw` is live; `info` is fully initialised; the context is current.
        let r = unsafe { reconfigure(self.raw, &mut info) };
        check_cuvid(r, "cuvidReconfigureDecoder")?;
        self.width = width;
        self.height = height;
        Ok(true)
    }

    /// Kicks off decoding of one picture (called from the parser's decode callback).
    ///
    /// # Safety
    ///
    /// `params` must be the picture parameters the NVIDIA parser handed to the decode
    /// callback (they point into the parser's own buffers, valid during the callback).
    pub unsafe fn decode(&self, params: *mut CUVIDPICPARAMS) -> Result<()> {
        // SAFETY: `raw` is live and the caller passes the parser's own, valid parameters.
        let r = call_times::DECODE_PICTURE.time(|| unsafe { (self.cuvid.cuvidDecodePicture)(self.raw, params) });
        check_cuvid(r, "cuvidDecodePicture")
    }

    /// Maps decoded picture `index` for reading (post-processing queued on `stream`).
    pub fn map(&self, index: i32, proc_params: &mut CUVIDPROCPARAMS) -> Result<Mapped<'_>> {
        let (mut ptr, mut pitch) = (0u64, 0u32);
        // SAFETY: `raw` is live; out-pointers are live locals; `proc_params` is a fully
        // initialised struct the driver reads; an out-of-range index is an error return.
        let r = call_times::MAP
            .time(|| unsafe { (self.cuvid.cuvidMapVideoFrame64)(self.raw, index, &mut ptr, &mut pitch, proc_params) });
        check_cuvid(r, "cuvidMapVideoFrame64")?;
        Ok(Mapped { dec: self, ptr, pitch: pitch as usize })
    }

    /// Whether the hardware reported picture `index` as decoded with errors (concealed
    /// or not); false when the driver cannot tell.
    pub fn had_errors(&self, index: i32) -> bool {
        let Some(status_fn) = self.cuvid.cuvidGetDecodeStatus else { return false };
        let mut status = CUVIDGETDECODESTATUS::default();
        // SAFETY: `raw` is live; `status` is a live, zeroed out-struct.
        let r = call_times::DECODE_STATUS.time(|| unsafe { status_fn(self.raw, index, &mut status) });
        let st = status.decodeStatus;
        r == 0 && (st == cuvidDecodeStatus_Error || st == cuvidDecodeStatus_Error_Concealed)
    }

    /// The CUDA context the decoder lives in.
    pub fn ctx(&self) -> &Context {
        &self.ctx
    }

    /// Byte offset of the chroma plane in a mapped surface of this decoder.
    pub fn chroma_offset(&self, pitch: usize) -> usize {
        pitch * (self.height as usize).next_multiple_of(2)
    }
}

impl Drop for HwDecoder {
    fn drop(&mut self) {
        let guard = self.ctx.push();
        if let Err(e) = &guard {
            tracing::warn!("destroying NVDEC decoder: {e}");
        }
        // SAFETY: `raw` is live and destroyed exactly once; no mapping outlives `self`
        // (a `Mapped` borrows it).
        let r = call_times::DESTROY_DECODER.time(|| unsafe { (self.cuvid.cuvidDestroyDecoder)(self.raw) });
        if let Err(e) = check_cuvid(r, "cuvidDestroyDecoder") {
            tracing::warn!("{e}");
        }
        LIVE_DECODERS.fetch_sub(1, Ordering::SeqCst);
    }
}

fn clamp_short(v: u32) -> i16 {
    v.min(i16::MAX as u32) as i16
}
