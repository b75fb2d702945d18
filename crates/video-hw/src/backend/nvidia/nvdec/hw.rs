//! One NVDEC decoder object (`CUvideodecoder`): creation sized from the parser's
//! sequence format, reconfiguration on a resolution change, picture decode, and
//! mapping decoded surfaces for copy-out or for lending to the caller (`zero_copy_frames`).

use crate::backend::nvidia::call_times;
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::super::cuda::{Context, check_cuvid};
use super::super::loader::CuvidApi;
use super::super::sys::cuvid::*;
use super::decoder_creation;
use crate::error::{Error, Result};

/// NVDEC decoder objects alive in this process (for leak checks).
pub(crate) static LIVE_DECODERS: AtomicUsize = AtomicUsize::new(0);

/// Device memory the output surfaces a decoder may lend to the caller take at most
/// (`zero_copy_frames`): 7 surfaces of an 8-bit 1080p picture (3 MiB each), 2 at 4K.
const LENDABLE_BYTES: u64 = 24 << 20;
/// The most output surfaces a decoder lends at once.
const MAX_LENDABLE: u64 = 7;

/// Output surfaces of a decoder for `width` x `height` pictures of `bit_depth_minus8`:
/// how many mapped pictures may exist at once. One is always kept for the copy-out; the
/// others may be lent to the caller as CUDA frames (`zero_copy_frames`), so that a caller that holds a
/// few frames (a 64 KiB submit of a 1080p stream gives ~5) costs no copies.
fn output_surfaces(width: u32, height: u32, bit_depth_minus8: u32) -> u32 {
    let bytes_per_sample = if bit_depth_minus8 > 0 { 2 } else { 1 };
    let picture = (u64::from(width) * u64::from(height) * 3 / 2 * bytes_per_sample).max(1);
    1 + (LENDABLE_BYTES / picture).clamp(1, MAX_LENDABLE) as u32
}

/// Bytes of one surface of `shape` at `width` x `height` as NVDEC lays it out (the coded
/// size rounded up to its macroblock/CTB grid, luma and chroma planes, 16-bit samples above
/// 8 bits): what a decoder's memory is estimated from where it cannot be measured.
fn surface_bytes(shape: Shape, width: u32, height: u32) -> u64 {
    let (w, h) = (u64::from(width.next_multiple_of(64)), u64::from(height.next_multiple_of(64)));
    let chroma_planes_x2 = match shape.chroma {
        c if c == cudaVideoChromaFormat_444 => 4,
        c if c == cudaVideoChromaFormat_422 => 2,
        c if c == cudaVideoChromaFormat_Monochrome => 0,
        _ => 1,
    };
    let sample = if shape.bit_depth_minus8 > 0 { 2 } else { 1 };
    w * h * sample * (2 + chroma_planes_x2) / 2
}

/// What a decoder's creation took from the GPU's free memory where that was measured and is
/// plausible (another thread's allocation or free in between can skew it: then, or beyond a
/// quarter to four times the estimate, the estimate).
fn measured_or(measured: Option<u64>, estimate: u64) -> u64 {
    match measured {
        Some(m) if m >= estimate / 4 && m <= estimate.saturating_mul(4) => m,
        _ => estimate,
    }
}

/// Extra decode surfaces beyond the parser's minimum and the display delay: room for
/// the copy-out of one picture while the next ones decode.
const EXTRA_SURFACES: u32 = 2;

/// [`EXTRA_SURFACES`], or `VIDEO_HW_NVDEC_EXTRA_SURFACES` (0..=8) for measuring what the
/// surface count costs (a decoder's memory and creation time; scripts/nvdec-ablation.sh).
fn extra_surfaces() -> u32 {
    crate::env::settings().nvdec_extra_surfaces.map_or(EXTRA_SURFACES, |n| n.min(8))
}

/// NVDEC's limit on decode surfaces.
const MAX_SURFACES: u32 = 32;

/// Decode surfaces of a decoder whose parser asks for at least `min` and holds
/// `display_delay` pictures back before display: both, [`extra_surfaces`] more, at most
/// NVDEC's limit.
pub(super) fn decode_surfaces(min: u32, display_delay: u32) -> u32 {
    (min + display_delay + extra_surfaces()).min(MAX_SURFACES)
}

/// What a decoder object was created for; a new sequence with the same shape and a
/// size within `max_*` is served by `cuvidReconfigureDecoder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub codec: cudaVideoCodec,
    pub chroma: cudaVideoChromaFormat,
    pub bit_depth_minus8: u32,
    pub surface_format: cudaVideoSurfaceFormat,
}

/// The driver's decoder handle, shared by the [`HwDecoder`] that decodes with it and the
/// frames lent from its output surfaces (`zero_copy_frames::LentSurface`): destroyed (with its context
/// current) once the last of them is gone, so a lent frame never outlives its surface.
pub(crate) struct DecoderObject {
    raw: CUvideodecoder,
    cuvid: &'static CuvidApi,
    ctx: Context,
    /// Held around map and unmap: a lent frame may be dropped (unmapped) on any thread
    /// while the session's thread maps the next picture.
    mapping: Mutex<()>,
    /// Output surfaces lent to the caller now.
    lent: AtomicU32,
    /// Output surfaces the decoder was created with.
    output_surfaces: u32,
    /// Its surfaces' device memory, counted in `crate::gpu_memory` while it lives.
    _charge: crate::gpu_memory::Charge,
}

// SAFETY: the handle is an opaque driver object. Decode, status and map calls on it are made
// only by the one session that owns the `HwDecoder` (through `&mut self`, or while its single
// thread runs the parser); map and unmap, which lent frames make from other threads, hold
// `mapping`. An unmap on another thread may thus run beside that session's
// `cuvidDecodePicture` or `cuvidGetDecodeStatus`: the design relies on the driver allowing
// calls on one decoder from several threads with the context current, as FFmpeg's NVDEC
// hwaccel does when it unmaps from a frame's free callback (GPU tests and the 14-stream soak
// exercise it).
unsafe impl Send for DecoderObject {}
// SAFETY: as above: the only calls made through `&DecoderObject` from several threads
// (map, unmap) are serialised by `mapping`; the counters are atomics.
unsafe impl Sync for DecoderObject {}

impl DecoderObject {
    /// Output surfaces lent to the caller now.
    pub fn lent(&self) -> u32 {
        self.lent.load(Ordering::SeqCst)
    }

    /// Counts a surface lent out (`zero_copy_frames::LentSurface::new`).
    pub fn add_lent(&self) {
        self.lent.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a lent surface back (`zero_copy_frames::LentSurface`'s drop, after the unmap).
    pub fn remove_lent(&self) {
        self.lent.fetch_sub(1, Ordering::SeqCst);
    }

    /// Unmaps a surface `cuvidMapVideoFrame64` gave for this decoder; logs a failure (it
    /// runs from drops).
    pub fn unmap(&self, ptr: u64) {
        let _current = self.ctx.push();
        let _mapping = self.mapping.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: `ptr` came from cuvidMapVideoFrame64 on this live decoder and is unmapped
        // exactly once (its owner calls this from its drop). Our copies from it finished (a
        // timed-out one leaks the mapping instead); a lent frame's caller finished its own GPU
        // reads before dropping the frame, as `DeviceFrame`'s documentation asks. The stream the
        // surface was mapped on may be gone by now (its session closed): the unmap does not
        // use it.
        let r = call_times::UNMAP.time(|| unsafe { (self.cuvid.cuvidUnmapVideoFrame64)(self.raw, ptr) });
        if let Err(e) = check_cuvid(r, "cuvidUnmapVideoFrame64") {
            tracing::warn!("{e}");
        }
    }
}

impl Drop for DecoderObject {
    fn drop(&mut self) {
        let guard = self.ctx.push();
        if let Err(e) = &guard {
            tracing::warn!("destroying NVDEC decoder: {e}");
        }
        // SAFETY: `raw` is live and destroyed exactly once; no mapping outlives `self`
        // (a `Mapped` borrows its decoder, a lent surface holds this object).
        let r = call_times::DESTROY_DECODER.time(|| unsafe { (self.cuvid.cuvidDestroyDecoder)(self.raw) });
        if let Err(e) = check_cuvid(r, "cuvidDestroyDecoder") {
            tracing::warn!("{e}");
        }
        LIVE_DECODERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A live `CUvideodecoder` and what it was made for. The handle is destroyed when this
/// and every frame lent from it are gone.
pub(crate) struct HwDecoder {
    obj: Arc<DecoderObject>,
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

/// A decoded surface mapped for reading; unmapped on drop unless lent ([`Mapped::lend`]).
pub(crate) struct Mapped<'a> {
    dec: &'a HwDecoder,
    pub ptr: u64,
    pub pitch: usize,
}

impl Mapped<'_> {
    /// Hands the mapping to a frame: the surface stays mapped, and its decoder alive,
    /// until the returned lease is dropped.
    pub fn lend(self) -> super::zero_copy_frames::LentSurface {
        let lease = super::zero_copy_frames::LentSurface::new(self.dec.obj.clone(), self.ptr);
        std::mem::forget(self);
        lease
    }
}

impl Drop for Mapped<'_> {
    fn drop(&mut self) {
        self.dec.obj.unmap(self.ptr);
    }
}

impl HwDecoder {
    /// Creates a decoder writing `shape.surface_format` surfaces of the full coded size
    /// (cropping is applied when copying out, exactly, by the caller).
    pub fn create(ctx: &Context, shape: Shape, width: u32, height: u32, surfaces: u32) -> Result<HwDecoder> {
        let cuvid = CuvidApi::get()?;
        let output_surfaces = output_surfaces(width, height, shape.bit_depth_minus8);
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
            ulNumOutputSurfaces: output_surfaces.into(),
            ..CUVIDDECODECREATEINFO::default()
        };
        info.display_area.right = clamp_short(width);
        info.display_area.bottom = clamp_short(height);
        let _current = ctx.push()?;
        let device = ctx.device().ordinal();
        let _pending = decoder_creation::pending(device);
        let _turn = decoder_creation::turn(device);
        let mut raw: CUvideodecoder = ptr::null_mut();
        let free_before = ctx.mem_info().ok().map(|m| m.free);
        // SAFETY: `info` is a fully initialised create-info (layout checked by the sys
        // layout test); the out-pointer is a live local; the context is current.
        let r = call_times::CREATE_DECODER.time(|| unsafe { (cuvid.cuvidCreateDecoder)(&mut raw, &mut info) });
        check_cuvid(r, "cuvidCreateDecoder")?;
        let free_after = ctx.mem_info().ok().map(|m| m.free);
        if raw.is_null() {
            return Err(Error::backend("nvdec", "null decoder", "cuvidCreateDecoder returned no decoder"));
        }
        LIVE_DECODERS.fetch_add(1, Ordering::SeqCst);
        let estimate = surface_bytes(shape, width, height) * u64::from(surfaces + output_surfaces);
        let bytes = measured_or(free_before.zip(free_after).map(|(b, a)| b.saturating_sub(a)), estimate);
        tracing::debug!(width, height, surfaces, output_surfaces, bytes, estimate, "NVDEC decoder memory");
        let _charge = crate::gpu_memory::charge(device, crate::gpu_memory::MemoryUse::Decoders, bytes);
        let obj = DecoderObject {
            raw,
            cuvid,
            ctx: ctx.clone(),
            mapping: Mutex::new(()),
            lent: AtomicU32::new(0),
            output_surfaces,
            _charge,
        };
        Ok(HwDecoder { obj: Arc::new(obj), shape, width, height, max_width: width, max_height: height, surfaces })
    }

    /// Moves the decoder to a new coded size within its maximum (resolution change
    /// without destroying it). Returns false when the driver has no reconfigure call, or
    /// when frames lent from its output surfaces are still held (the surfaces are resized).
    pub fn reconfigure(&mut self, width: u32, height: u32) -> Result<bool> {
        let Some(reconfigure) = self.obj.cuvid.cuvidReconfigureDecoder else { return Ok(false) };
        if self.obj.lent() > 0 {
            return Ok(false);
        }
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
        let _current = self.obj.ctx.push()?;
        // SAFETY: `raw` is live; `info` is fully initialised; the context is current.
        let r = unsafe { reconfigure(self.obj.raw, &mut info) };
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
        let obj = &self.obj;
        // SAFETY: `raw` is live and the caller passes the parser's own, valid parameters.
        let r = call_times::DECODE_PICTURE.time(|| unsafe { (obj.cuvid.cuvidDecodePicture)(obj.raw, params) });
        check_cuvid(r, "cuvidDecodePicture")
    }

    /// Maps decoded picture `index` for reading (post-processing queued on `stream`).
    pub fn map(&self, index: i32, proc_params: &mut CUVIDPROCPARAMS) -> Result<Mapped<'_>> {
        let (mut ptr, mut pitch) = (0u64, 0u32);
        let obj = &self.obj;
        let _mapping = obj.mapping.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: `raw` is live; out-pointers are live locals; `proc_params` is a fully
        // initialised struct the driver reads; an out-of-range index is an error return.
        let r = call_times::MAP
            .time(|| unsafe { (obj.cuvid.cuvidMapVideoFrame64)(obj.raw, index, &mut ptr, &mut pitch, proc_params) });
        check_cuvid(r, "cuvidMapVideoFrame64")?;
        Ok(Mapped { dec: self, ptr, pitch: pitch as usize })
    }

    /// Whether the hardware finished decoding picture `index`: `Some(true)` once it is
    /// decoded without errors, `Some(false)` while it is still decoding, `None` when the
    /// driver cannot tell (no `cuvidGetDecodeStatus`, a failed call) or the picture failed.
    pub fn decode_finished(&self, index: i32) -> Option<bool> {
        let status_fn = self.obj.cuvid.cuvidGetDecodeStatus?;
        let mut status = CUVIDGETDECODESTATUS::default();
        // SAFETY: `raw` is live; `status` is a live, zeroed out-struct.
        let r = call_times::DECODE_STATUS.time(|| unsafe { status_fn(self.obj.raw, index, &mut status) });
        match (r, status.decodeStatus) {
            (0, s) if s == cuvidDecodeStatus_Success => Some(true),
            (0, s) if s == cuvidDecodeStatus_InProgress => Some(false),
            _ => None,
        }
    }

    /// Whether the hardware reported picture `index` as decoded with errors (concealed
    /// or not); false when the driver cannot tell.
    pub fn had_errors(&self, index: i32) -> bool {
        let Some(status_fn) = self.obj.cuvid.cuvidGetDecodeStatus else { return false };
        let mut status = CUVIDGETDECODESTATUS::default();
        // SAFETY: `raw` is live; `status` is a live, zeroed out-struct.
        let r = call_times::DECODE_STATUS.time(|| unsafe { status_fn(self.obj.raw, index, &mut status) });
        let st = status.decodeStatus;
        r == 0 && (st == cuvidDecodeStatus_Error || st == cuvidDecodeStatus_Error_Concealed)
    }

    /// The CUDA context the decoder lives in.
    pub fn ctx(&self) -> &Context {
        &self.obj.ctx
    }

    /// Whether a mapped picture may be lent to the caller: an output surface stays free
    /// for the copy-out of the pictures after it.
    pub fn can_lend(&self) -> bool {
        self.obj.lent() + 1 < self.obj.output_surfaces
    }

    /// Byte offset of the chroma plane in a mapped surface of this decoder.
    pub fn chroma_offset(&self, pitch: usize) -> usize {
        pitch * (self.height as usize).next_multiple_of(2)
    }
}

fn clamp_short(v: u32) -> i16 {
    v.min(i16::MAX as u32) as i16
}

#[cfg(test)]
mod tests {
    use super::{decode_surfaces, output_surfaces};

    #[test]
    fn decode_surfaces_add_the_display_delay_and_room_for_a_copy_within_nvdecs_limit() {
        if crate::env::settings().nvdec_extra_surfaces.is_some() {
            return; // the figures below are the default's
        }
        assert_eq!(decode_surfaces(6, 4), 12, "the parser's 6, 4 held back, 2 for the copy-out");
        assert_eq!(decode_surfaces(17, 0), 19);
        assert_eq!(decode_surfaces(30, 4), 32, "never over NVDEC's 32");
    }

    #[test]
    fn output_surfaces_lend_a_few_pictures_within_the_memory_budget() {
        assert_eq!(output_surfaces(1920, 1088, 0), 8, "7 lendable 8-bit 1080p pictures of ~3 MiB");
        assert_eq!(output_surfaces(1920, 1088, 2), 5, "10-bit pictures take twice the bytes: 4 to lend");
        assert_eq!(output_surfaces(3840, 2160, 0), 3, "two 4K pictures of ~12 MiB to lend");
        assert_eq!(output_surfaces(8192, 8192, 2), 2, "never fewer than two");
        assert_eq!(output_surfaces(320, 240, 0), 8, "never more than 7 to lend");
    }
}
