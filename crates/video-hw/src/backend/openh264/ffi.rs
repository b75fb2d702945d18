//! The only place that talks to OpenH264's C++ API (through the workspace crate
//! `video-hw-openh264-sys`, which compiles OpenH264 with its patches): small owned
//! wrappers around `ISVCDecoder` and `ISVCEncoder` that the rest of the engine uses
//! without `unsafe`.
//!
//! The safe `openh264` crate is not used on purpose: its decoder drops the input
//! timestamps (needed to match reordered output to access units) and decodes and
//! flushes in one call; its encoder initialises lazily and lacks max bitrate, fixed-QP
//! mode and parameter-set strategy.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;

use video_hw_openh264_sys as sys;

use crate::error::{Error, Result};

const ENGINE: &str = "openh264";

/// The bundled OpenH264 version, e.g. `(2, 7, 0)`.
pub(super) fn version() -> (u32, u32, u32) {
    let mut v = sys::OpenH264Version::default();
    // SAFETY: `WelsGetCodecVersionEx` only writes the four integers of `v`, which is a
    // valid, exclusively borrowed `OpenH264Version`.
    unsafe { sys::WelsGetCodecVersionEx(&mut v) };
    (v.uMajor, v.uMinor, v.uRevision)
}

/// Receives OpenH264's log lines (already formatted) and forwards them to `tracing`.
/// Never unwinds: nothing in it can panic.
unsafe extern "C" fn trace_to_tracing(_ctx: *mut c_void, level: c_int, message: *const c_char) {
    if message.is_null() {
        return;
    }
    // SAFETY: OpenH264 passes a NUL-terminated string that lives for the duration of
    // the call; it was checked for null above.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
    let text = text.trim_end();
    if level <= sys::WELS_LOG_ERROR {
        tracing::debug!(target: "video_hw::openh264", "{text}");
    } else {
        tracing::trace!(target: "video_hw::openh264", "{text}");
    }
}

/// One decoded picture, borrowed from the decoder until its next call.
#[derive(Debug)]
pub(super) struct DecodedPicture<'a> {
    /// Luma rows (cropped), `y_stride` apart.
    pub y: &'a [u8],
    /// Cb rows (cropped), `uv_stride` apart.
    pub u: &'a [u8],
    /// Cr rows (cropped), `uv_stride` apart.
    pub v: &'a [u8],
    /// Luma stride.
    pub y_stride: usize,
    /// Chroma stride.
    pub uv_stride: usize,
    /// Display width (cropping applied by OpenH264).
    pub width: u32,
    /// Display height.
    pub height: u32,
    /// The input timestamp of the access unit the picture came from.
    pub timestamp: u64,
}

/// OpenH264's error concealment: damaged or missing slices are filled by copying from
/// the previous picture along the motion vectors; no output freeze at a size change.
const CONCEALMENT: sys::ERROR_CON_IDC = sys::ERROR_CON_SLICE_MV_COPY_CROSS_IDR;

/// An owned, initialised OpenH264 decoder (single-threaded, error concealment on).
pub(super) struct RawDecoder {
    ptr: *mut sys::ISVCDecoder,
}

// SAFETY: an OpenH264 decoder instance has no thread affinity (no thread-local state);
// `RawDecoder` only uses it through `&mut self`, so it is never used from two threads
// at once.
unsafe impl Send for RawDecoder {}

impl RawDecoder {
    /// Creates and initialises a decoder for plain AVC streams.
    pub fn new() -> Result<Self> {
        let mut ptr: *mut sys::ISVCDecoder = ptr::null_mut();
        // SAFETY: `WelsCreateDecoder` writes a new decoder pointer into `ptr` (a valid
        // out-pointer) and returns non-zero on failure.
        let rc = unsafe { sys::WelsCreateDecoder(&mut ptr) };
        if rc != 0 || ptr.is_null() {
            return Err(Error::backend(ENGINE, rc, "WelsCreateDecoder failed"));
        }
        let mut dec = RawDecoder { ptr };
        // Route logging before Initialize so its messages do not go to stderr.
        dec.set_option_int(sys::DECODER_OPTION_TRACE_LEVEL, sys::WELS_LOG_ERROR)?;
        let mut callback: sys::WelsTraceCallback = Some(trace_to_tracing);
        // SAFETY: TRACE_CALLBACK reads one `WelsTraceCallback` from the pointer; the
        // callback is a `'static` function that never unwinds.
        let rc = unsafe {
            (dec.vtbl().SetOption.ok_or_else(missing)?)(
                dec.ptr,
                sys::DECODER_OPTION_TRACE_CALLBACK,
                (&mut callback as *mut sys::WelsTraceCallback).cast(),
            )
        };
        check(rc as c_int, "SetOption(TRACE_CALLBACK)")?;
        let param = sys::SDecodingParam {
            eEcActiveIdc: CONCEALMENT,
            sVideoProperty: sys::SVideoProperty {
                size: std::mem::size_of::<sys::SVideoProperty>() as u32,
                eVideoBsType: sys::VIDEO_BITSTREAM_AVC,
            },
            ..Default::default()
        };
        // SAFETY: `param` is a fully initialised `SDecodingParam` that outlives the call
        // (OpenH264 copies what it needs); `dec.ptr` is a live decoder.
        let rc = unsafe { (dec.vtbl().Initialize.ok_or_else(missing)?)(dec.ptr, &param) };
        check(rc as c_int, "Initialize")?;
        // Initialize resets the options; set them again.
        dec.set_option_int(sys::DECODER_OPTION_TRACE_LEVEL, sys::WELS_LOG_ERROR)?;
        dec.set_option_int(sys::DECODER_OPTION_ERROR_CON_IDC, CONCEALMENT)?;
        dec.set_option_int(sys::DECODER_OPTION_NUM_OF_THREADS, 0)?;
        Ok(dec)
    }

    fn vtbl(&self) -> &sys::ISVCDecoderVtbl {
        // SAFETY: `ptr` came from `WelsCreateDecoder` and is only destroyed in `Drop`;
        // it points to the object whose first field is the vtable pointer, which is
        // valid for the object's lifetime.
        unsafe { &**self.ptr }
    }

    fn set_option_int(&mut self, option: sys::DECODER_OPTION, value: c_int) -> Result<()> {
        let mut value = value;
        // SAFETY: every integer option reads one `int` through the pointer, which points
        // to a live local.
        let rc = unsafe {
            (self.vtbl().SetOption.ok_or_else(missing)?)(self.ptr, option, (&mut value as *mut c_int).cast())
        };
        check(rc as c_int, "SetOption")
    }

    /// Frames OpenH264 still holds for reordering.
    pub fn frames_in_buffer(&mut self) -> usize {
        let mut n: c_int = 0;
        // SAFETY: NUM_OF_FRAMES_REMAINING_IN_BUFFER writes one `int` to the pointer,
        // which points to a live local.
        let rc = unsafe {
            match self.vtbl().GetOption {
                Some(get) => {
                    get(self.ptr, sys::DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER, (&mut n as *mut c_int).cast())
                }
                None => return 0,
            }
        };
        if rc != 0 { 0 } else { n.max(0) as usize }
    }

    /// Pictures constructed so far with concealed macroblocks (OpenH264's statistics).
    fn concealed_pictures(&self) -> u64 {
        let mut stats = sys::SDecoderStatistics::default();
        // SAFETY: GET_STATISTICS copies one `SDecoderStatistics` to the pointer, which
        // points to a live local of that type.
        let rc = unsafe {
            match self.vtbl().GetOption {
                Some(get) => get(
                    self.ptr,
                    sys::DECODER_OPTION_GET_STATISTICS,
                    (&mut stats as *mut sys::SDecoderStatistics).cast(),
                ),
                None => return 0,
            }
        };
        if rc != 0 { 0 } else { u64::from(stats.uiEcFrameNum) }
    }

    /// Feeds `data` (one whole access unit, Annex-B; `None` ends the access unit so that
    /// it is decoded at once) with `timestamp`; returns OpenH264's state flags, whether
    /// the picture the call completed (if any) has concealed macroblocks, and a picture
    /// if one is ready for output.
    pub fn decode(&mut self, data: Option<&[u8]>, timestamp: u64) -> Result<(c_int, bool, Option<DecodedPicture<'_>>)> {
        let (src, len) = match data {
            Some(d) => {
                let len = c_int::try_from(d.len())
                    .map_err(|_| Error::invalid_input(format!("access unit of {} bytes is too large", d.len())))?;
                (d.as_ptr(), len)
            }
            None => (ptr::null(), 0),
        };
        let mut dst: [*mut u8; 3] = [ptr::null_mut(); 3];
        let mut info = sys::SBufferInfo { uiInBsTimeStamp: timestamp, ..Default::default() };
        let concealed_before = self.concealed_pictures();
        // SAFETY: `src` is null with length 0 or points to `len` readable bytes that
        // outlive the call (OpenH264 copies the bitstream into its own buffer); `dst`
        // and `info` are valid out-parameters.
        let state =
            unsafe { (self.vtbl().DecodeFrame2.ok_or_else(missing)?)(self.ptr, src, len, dst.as_mut_ptr(), &mut info) };
        let concealed = self.concealed_pictures() > concealed_before;
        Ok((state, concealed, self.picture(&dst, &info)))
    }

    /// Takes one picture OpenH264 holds for reordering (after the stream ended).
    pub fn flush_one(&mut self) -> Result<Option<DecodedPicture<'_>>> {
        let mut dst: [*mut u8; 3] = [ptr::null_mut(); 3];
        let mut info = sys::SBufferInfo::default();
        // SAFETY: `dst` and `info` are valid out-parameters; `self.ptr` is live.
        unsafe { (self.vtbl().FlushFrame.ok_or_else(missing)?)(self.ptr, dst.as_mut_ptr(), &mut info) };
        Ok(self.picture(&dst, &info))
    }

    /// Wraps OpenH264's output pointers, after checking them.
    fn picture(&self, dst: &[*mut u8; 3], info: &sys::SBufferInfo) -> Option<DecodedPicture<'_>> {
        if info.iBufferStatus != 1 || dst.iter().any(|p| p.is_null()) {
            return None;
        }
        // SAFETY: with iBufferStatus == 1 OpenH264 fills `sSystemBuffer`, the union's
        // only member.
        let sys_buf = unsafe { info.UsrData.sSystemBuffer };
        if sys_buf.iFormat != sys::videoFormatI420 {
            return None;
        }
        let (w, h) = (usize::try_from(sys_buf.iWidth).ok()?, usize::try_from(sys_buf.iHeight).ok()?);
        let (ys, uvs) = (usize::try_from(sys_buf.iStride[0]).ok()?, usize::try_from(sys_buf.iStride[1]).ok()?);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        if w == 0 || h == 0 || ys < w || uvs < cw {
            return None;
        }
        let y_len = ys * (h - 1) + w;
        let c_len = uvs * (ch - 1) + cw;
        // SAFETY: OpenH264 returned pointers to the cropped top-left sample of each
        // plane of a decoded picture of `w` x `h` with these strides; the planes span at
        // least these lengths. The picture stays untouched until the next call on this
        // decoder, which needs `&mut self` and so ends the borrow these slices carry.
        let (y, u, v) = unsafe {
            (
                std::slice::from_raw_parts(dst[0], y_len),
                std::slice::from_raw_parts(dst[1], c_len),
                std::slice::from_raw_parts(dst[2], c_len),
            )
        };
        Some(DecodedPicture {
            y,
            u,
            v,
            y_stride: ys,
            uv_stride: uvs,
            width: w as u32,
            height: h as u32,
            timestamp: info.uiOutYuvTimeStamp,
        })
    }
}

impl Drop for RawDecoder {
    fn drop(&mut self) {
        // SAFETY: `ptr` is the live decoder from `WelsCreateDecoder`; it is uninitialised
        // and destroyed exactly once, here.
        unsafe {
            if let Some(uninit) = self.vtbl().Uninitialize {
                uninit(self.ptr);
            }
            sys::WelsDestroyDecoder(self.ptr);
        }
    }
}

/// One layer of an encoded frame: its NAL units, each with its start code.
#[derive(Debug)]
pub(super) struct EncodedLayer<'a> {
    /// True for slice data, false for parameter sets.
    pub vcl: bool,
    /// The NAL units, start codes included.
    pub nals: Vec<&'a [u8]>,
}

/// What one `EncodeFrame` produced.
#[derive(Debug)]
pub(super) struct EncodedFrame<'a> {
    /// `videoFrameType*` of the frame.
    pub frame_type: c_int,
    /// The layers in order.
    pub layers: Vec<EncodedLayer<'a>>,
}

/// A borrowed I420 picture to encode.
pub(super) struct SourcePicture<'a> {
    /// Luma, `width` x `height` at `y_stride`.
    pub y: &'a [u8],
    /// Cb at `uv_stride`.
    pub u: &'a [u8],
    /// Cr at `uv_stride`.
    pub v: &'a [u8],
    /// Luma stride.
    pub y_stride: usize,
    /// Chroma stride.
    pub uv_stride: usize,
    /// Width (even).
    pub width: u32,
    /// Height (even).
    pub height: u32,
    /// Timestamp in milliseconds.
    pub timestamp_ms: i64,
}

/// An owned OpenH264 encoder.
pub(super) struct RawEncoder {
    ptr: *mut sys::ISVCEncoder,
    initialised: bool,
    out: Box<sys::SFrameBSInfo>,
}

// SAFETY: an OpenH264 encoder instance has no thread affinity; `RawEncoder` uses it only
// through `&mut self` (its own worker threads, if any, are internal to OpenH264).
unsafe impl Send for RawEncoder {}

impl RawEncoder {
    /// Creates an encoder (not initialised yet).
    pub fn new() -> Result<Self> {
        let mut ptr: *mut sys::ISVCEncoder = ptr::null_mut();
        // SAFETY: `WelsCreateSVCEncoder` writes a new encoder pointer into `ptr` (a valid
        // out-pointer) and returns non-zero on failure.
        let rc = unsafe { sys::WelsCreateSVCEncoder(&mut ptr) };
        if rc != 0 || ptr.is_null() {
            return Err(Error::backend(ENGINE, rc, "WelsCreateSVCEncoder failed"));
        }
        let mut enc = RawEncoder { ptr, initialised: false, out: Box::default() };
        enc.set_option(sys::ENCODER_OPTION_TRACE_LEVEL, sys::WELS_LOG_ERROR)?;
        let callback: sys::WelsTraceCallback = Some(trace_to_tracing);
        enc.set_option(sys::ENCODER_OPTION_TRACE_CALLBACK, callback)?;
        Ok(enc)
    }

    fn vtbl(&self) -> &sys::ISVCEncoderVtbl {
        // SAFETY: `ptr` came from `WelsCreateSVCEncoder` and is only destroyed in `Drop`;
        // its first field is the vtable pointer, valid for the object's lifetime.
        unsafe { &**self.ptr }
    }

    /// OpenH264's defaults for an extended parameter set.
    pub fn default_params(&mut self) -> Result<sys::SEncParamExt> {
        let mut p = sys::SEncParamExt::default();
        // SAFETY: GetDefaultParams fills the `SEncParamExt` behind the pointer, which is
        // a live local.
        let rc = unsafe { (self.vtbl().GetDefaultParams.ok_or_else(missing)?)(self.ptr, &mut p) };
        check(rc, "GetDefaultParams")?;
        Ok(p)
    }

    /// Initialises the encoder with `params` (once).
    pub fn initialize(&mut self, params: &sys::SEncParamExt) -> Result<()> {
        // SAFETY: `params` is a fully initialised `SEncParamExt` that OpenH264 copies.
        let rc = unsafe { (self.vtbl().InitializeExt.ok_or_else(missing)?)(self.ptr, params) };
        check(rc, "InitializeExt")?;
        self.initialised = true;
        self.set_option(sys::ENCODER_OPTION_TRACE_LEVEL, sys::WELS_LOG_ERROR)?;
        self.set_option(sys::ENCODER_OPTION_DATAFORMAT, sys::videoFormatI420)
    }

    /// Sets an option whose value is one `int` or one pointer-sized value
    /// (as OpenH264 defines for `option`; callers in this module pass the matching type).
    fn set_option<T: Copy>(&mut self, option: sys::ENCODER_OPTION, value: T) -> Result<()> {
        let mut value = value;
        // SAFETY: OpenH264 reads one value of the option's type through the pointer; every
        // caller passes the type the option is defined with (`int` for levels, formats,
        // intervals and the first IDR QP floor, `SBitrateInfo` for bitrates, a function pointer for the trace
        // callback). The pointee is a live local.
        let rc =
            unsafe { (self.vtbl().SetOption.ok_or_else(missing)?)(self.ptr, option, (&mut value as *mut T).cast()) };
        check(rc, "SetOption")
    }

    /// Changes the target (or, with `max`, the maximum) bitrate of the whole stream.
    pub fn set_bitrate(&mut self, bps: c_int, max: bool) -> Result<()> {
        let info = sys::SBitrateInfo { iLayer: sys::SPATIAL_LAYER_ALL, iBitrate: bps };
        self.set_option(if max { sys::ENCODER_OPTION_MAX_BITRATE } else { sys::ENCODER_OPTION_BITRATE }, info)
    }

    /// Codes the first IDR picture at `qp` or above under rate control (patch 0012).
    pub fn set_first_idr_qp_floor(&mut self, qp: c_int) -> Result<()> {
        self.set_option(sys::ENCODER_OPTION_FIRST_IDR_QP_FLOOR, qp)
    }

    /// Changes the IDR period (0 = first frame only).
    pub fn set_idr_interval(&mut self, frames: c_int) -> Result<()> {
        self.set_option(sys::ENCODER_OPTION_IDR_INTERVAL, frames)
    }

    /// Makes the next frame an IDR.
    pub fn force_idr(&mut self) -> Result<()> {
        // SAFETY: ForceIntraFrame takes the live encoder and a flag.
        let rc = unsafe { (self.vtbl().ForceIntraFrame.ok_or_else(missing)?)(self.ptr, true) };
        check(rc, "ForceIntraFrame")
    }

    /// Encodes one picture.
    pub fn encode(&mut self, pic: &SourcePicture<'_>) -> Result<EncodedFrame<'_>> {
        if !self.initialised {
            return Err(Error::backend(ENGINE, "cmInitExpected", "encoder used before initialisation"));
        }
        let (w, h) = (pic.width as usize, pic.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let fits = |len: usize, stride: usize, row: usize, rows: usize| {
            rows == 0
                || (stride >= row
                    && stride.checked_mul(rows - 1).and_then(|n| n.checked_add(row)).is_some_and(|n| n <= len))
        };
        if w == 0
            || h == 0
            || !fits(pic.y.len(), pic.y_stride, w, h)
            || !fits(pic.u.len(), pic.uv_stride, cw, ch)
            || !fits(pic.v.len(), pic.uv_stride, cw, ch)
        {
            return Err(Error::invalid_input("picture planes do not match its size"));
        }
        let stride = |s: usize| c_int::try_from(s).map_err(|_| Error::invalid_input("stride too large"));
        let (ys, uvs) = (stride(pic.y_stride)?, stride(pic.uv_stride)?);
        let src = sys::SSourcePicture {
            iColorFormat: sys::videoFormatI420,
            iStride: [ys, uvs, uvs, 0],
            // OpenH264 only reads the source planes.
            pData: [pic.y.as_ptr().cast_mut(), pic.u.as_ptr().cast_mut(), pic.v.as_ptr().cast_mut(), ptr::null_mut()],
            iPicWidth: pic.width as c_int,
            iPicHeight: pic.height as c_int,
            uiTimeStamp: pic.timestamp_ms,
            ..Default::default()
        };
        *self.out = sys::SFrameBSInfo::default();
        // SAFETY: the planes were checked above to hold a `w` x `h` I420 picture at these
        // strides and outlive the call; OpenH264 only reads them. `self.out` is a valid
        // `SFrameBSInfo` that OpenH264 fills with pointers into its own buffers.
        let rc = unsafe { (self.vtbl().EncodeFrame.ok_or_else(missing)?)(self.ptr, &src, &mut *self.out) };
        check(rc, "EncodeFrame")?;
        Ok(self.collect())
    }

    /// The SPS and PPS the encoder will use, without encoding a picture.
    pub fn encode_parameter_sets(&mut self) -> Result<EncodedFrame<'_>> {
        if !self.initialised {
            return Err(Error::backend(ENGINE, "cmInitExpected", "encoder used before initialisation"));
        }
        *self.out = sys::SFrameBSInfo::default();
        // SAFETY: `self.out` is a valid `SFrameBSInfo` that OpenH264 fills with pointers
        // into its own buffers.
        let rc = unsafe { (self.vtbl().EncodeParameterSets.ok_or_else(missing)?)(self.ptr, &mut *self.out) };
        check(rc, "EncodeParameterSets")?;
        Ok(self.collect())
    }

    /// Borrows the NAL units OpenH264 left in `self.out`.
    fn collect(&self) -> EncodedFrame<'_> {
        let out: &sys::SFrameBSInfo = &self.out;
        let mut layers = Vec::new();
        let layer_count = usize::try_from(out.iLayerNum).unwrap_or(0).min(out.sLayerInfo.len());
        for layer in &out.sLayerInfo[..layer_count] {
            let count = usize::try_from(layer.iNalCount).unwrap_or(0);
            if count == 0 || layer.pNalLengthInByte.is_null() || layer.pBsBuf.is_null() {
                continue;
            }
            // SAFETY: OpenH264 sets `pNalLengthInByte` to an array of `iNalCount` lengths
            // for this layer; it stays valid until the next EncodeFrame, which needs
            // `&mut self` and so ends the borrow of the returned frame.
            let lengths = unsafe { std::slice::from_raw_parts(layer.pNalLengthInByte, count) };
            let total: usize = lengths.iter().map(|&l| usize::try_from(l).unwrap_or(0)).sum();
            // SAFETY: the layer's NAL units lie back to back in `pBsBuf`, `total` bytes in
            // all, valid for the same time as the lengths.
            let buf = unsafe { std::slice::from_raw_parts(layer.pBsBuf, total) };
            let mut nals = Vec::with_capacity(count);
            let mut at = 0;
            for &l in lengths {
                let l = usize::try_from(l).unwrap_or(0);
                nals.push(&buf[at..at + l]);
                at += l;
            }
            layers.push(EncodedLayer { vcl: layer.uiLayerType == sys::VIDEO_CODING_LAYER as u8, nals });
        }
        EncodedFrame { frame_type: out.eFrameType, layers }
    }
}

impl Drop for RawEncoder {
    fn drop(&mut self) {
        // SAFETY: `ptr` is the live encoder from `WelsCreateSVCEncoder`; it is
        // uninitialised (when it was initialised) and destroyed exactly once, here.
        unsafe {
            if self.initialised
                && let Some(uninit) = self.vtbl().Uninitialize
            {
                uninit(self.ptr);
            }
            sys::WelsDestroySVCEncoder(self.ptr);
        }
    }
}

fn missing() -> Error {
    Error::backend(ENGINE, "vtable", "OpenH264 interface function missing")
}

fn check(rc: c_int, what: &str) -> Result<()> {
    if rc == 0 {
        return Ok(());
    }
    let code = match rc {
        1 => "cmInitParaError".to_string(),
        2 => "cmUnknownReason".to_string(),
        3 => "cmMallocMemeError".to_string(),
        4 => "cmInitExpected".to_string(),
        5 => "cmUnsupportedData".to_string(),
        other => other.to_string(),
    };
    Err(Error::backend(ENGINE, code, what))
}
