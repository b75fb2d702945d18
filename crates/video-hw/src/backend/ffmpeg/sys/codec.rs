//! Codecs, codec contexts, packets and option dictionaries of the loaded FFmpeg, owned
//! here (freed on drop), their fields read and written through the loaded major's layout;
//! and FFmpeg's error codes.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr::NonNull;

use super::fns::{AVBufferRef, AVCodec, AVCodecContext, AVDictionary, AVPacket};
use super::frame::Frame;
use super::layout::{read, write};
use super::{Ffmpeg, NOPTS};

/// An FFmpeg error code (negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AvError(pub c_int);

/// FFmpeg's `FFERRTAG`: a negated four-character tag.
const fn tag(a: u8, b: u8, c: u8, d: u8) -> c_int {
    -((a as c_int) | ((b as c_int) << 8) | ((c as c_int) << 16) | ((d as c_int) << 24))
}

impl AvError {
    /// `AVERROR(EAGAIN)`.
    pub(crate) const EAGAIN: AvError = AvError(-libc_errno::EAGAIN);
    /// `AVERROR(ENOMEM)`.
    pub(crate) const ENOMEM: AvError = AvError(-libc_errno::ENOMEM);
    /// `AVERROR(ENOSYS)`: what this build cannot do on the loaded major.
    pub(crate) const ENOSYS: AvError = AvError(-libc_errno::ENOSYS);
    /// `AVERROR(EINVAL)`.
    pub(crate) const EINVAL: AvError = AvError(-libc_errno::EINVAL);
    /// `AVERROR_EOF`.
    pub(crate) const EOF: AvError = AvError(tag(b'E', b'O', b'F', b' '));
    /// `AVERROR_INVALIDDATA`.
    pub(crate) const INVALIDDATA: AvError = AvError(tag(b'I', b'N', b'D', b'A'));
    /// `AVERROR_PATCHWELCOME`.
    pub(crate) const PATCHWELCOME: AvError = AvError(tag(b'P', b'A', b'W', b'E'));
    /// `AVERROR_ENCODER_NOT_FOUND`.
    pub(crate) const ENCODER_NOT_FOUND: AvError = AvError(tag(0xF8, b'E', b'N', b'C'));
    /// `AVERROR_DECODER_NOT_FOUND`.
    pub(crate) const DECODER_NOT_FOUND: AvError = AvError(tag(0xF8, b'D', b'E', b'C'));
    /// `AVERROR_OPTION_NOT_FOUND`.
    pub(crate) const OPTION_NOT_FOUND: AvError = AvError(tag(0xF8, b'O', b'P', b'T'));

    /// The symbolic name: `AVERROR_INVALIDDATA`, `AVERROR(ENOMEM)`, …
    pub(crate) fn name(self) -> String {
        let fixed = [
            (tag(b'B', b'U', b'G', b'!'), "AVERROR_BUG"),
            (tag(b'B', b'U', b'G', b' '), "AVERROR_BUG"),
            (tag(b'U', b'N', b'K', b'N'), "AVERROR_UNKNOWN"),
            (-0x2bb2_afa8, "AVERROR_EXPERIMENTAL"),
            (tag(b'B', b'U', b'F', b'S'), "AVERROR_BUFFER_TOO_SMALL"),
            (Self::EOF.0, "AVERROR_EOF"),
            (tag(b'E', b'X', b'I', b'T'), "AVERROR_EXIT"),
            (tag(b'E', b'X', b'T', b' '), "AVERROR_EXTERNAL"),
            (Self::INVALIDDATA.0, "AVERROR_INVALIDDATA"),
            (Self::PATCHWELCOME.0, "AVERROR_PATCHWELCOME"),
            (-0x636e_6701, "AVERROR_INPUT_CHANGED"),
            (-0x636e_6702, "AVERROR_OUTPUT_CHANGED"),
            (Self::DECODER_NOT_FOUND.0, "AVERROR_DECODER_NOT_FOUND"),
            (Self::ENCODER_NOT_FOUND.0, "AVERROR_ENCODER_NOT_FOUND"),
            (Self::OPTION_NOT_FOUND.0, "AVERROR_OPTION_NOT_FOUND"),
        ];
        if let Some((_, n)) = fixed.iter().find(|(c, _)| *c == self.0) {
            return (*n).to_string();
        }
        let errno = -self.0;
        let name = match errno {
            libc_errno::EAGAIN => "EAGAIN",
            libc_errno::ENOMEM => "ENOMEM",
            libc_errno::EINVAL => "EINVAL",
            libc_errno::ENOSYS => "ENOSYS",
            libc_errno::ENOENT => "ENOENT",
            libc_errno::ENODEV => "ENODEV",
            libc_errno::EIO => "EIO",
            libc_errno::EPERM => "EPERM",
            libc_errno::EACCES => "EACCES",
            libc_errno::ERANGE => "ERANGE",
            libc_errno::ENOTSUP => "ENOTSUP",
            other => return format!("AVERROR({other})"),
        };
        format!("AVERROR({name})")
    }
}

impl std::fmt::Display for AvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0 as c_char; 128];
        let text = super::get().ok().and_then(|ff| {
            // SAFETY: the buffer is writable for its length; av_strerror NUL-terminates.
            let r = unsafe { (ff.fns.av_strerror)(self.0, buf.as_mut_ptr(), buf.len()) };
            // SAFETY: NUL-terminated by av_strerror.
            (r == 0).then(|| unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned())
        });
        match text {
            Some(t) => f.write_str(&t),
            None => f.write_str(&self.name()),
        }
    }
}

/// The errno values FFmpeg wraps, per platform (FFmpeg uses the C library's).
mod libc_errno {
    use std::ffi::c_int;
    #[cfg(unix)]
    pub(crate) const EAGAIN: c_int = libc::EAGAIN;
    #[cfg(not(unix))]
    pub(crate) const EAGAIN: c_int = 11;
    pub(crate) const ENOMEM: c_int = 12;
    pub(crate) const EINVAL: c_int = 22;
    pub(crate) const EPERM: c_int = 1;
    pub(crate) const ENOENT: c_int = 2;
    pub(crate) const EIO: c_int = 5;
    pub(crate) const EACCES: c_int = 13;
    pub(crate) const ENODEV: c_int = 19;
    pub(crate) const ERANGE: c_int = 34;
    #[cfg(unix)]
    pub(crate) const ENOSYS: c_int = libc::ENOSYS;
    #[cfg(not(unix))]
    pub(crate) const ENOSYS: c_int = 40;
    #[cfg(unix)]
    pub(crate) const ENOTSUP: c_int = libc::ENOTSUP;
    #[cfg(not(unix))]
    pub(crate) const ENOTSUP: c_int = 129;
}

/// Turns an FFmpeg return code into a result.
pub(crate) fn check(code: c_int) -> Result<c_int, AvError> {
    if code < 0 { Err(AvError(code)) } else { Ok(code) }
}

/// A codec (decoder or encoder) registered in the loaded libavcodec.
#[derive(Clone, Copy)]
pub(crate) struct Codec {
    ptr: NonNull<AVCodec>,
    ff: &'static Ffmpeg,
}

// SAFETY: codecs are static, immutable tables of libavcodec.
unsafe impl Send for Codec {}
// SAFETY: as above.
unsafe impl Sync for Codec {}

/// One `AVCodecHWConfig` entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HwConfig {
    /// The hardware surface format.
    pub pix_fmt: c_int,
    /// `AV_CODEC_HW_CONFIG_METHOD_*`.
    pub methods: c_int,
    /// `AVHWDeviceType`.
    pub device_type: c_int,
}

/// `AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX`.
pub(crate) const HW_CONFIG_METHOD_HW_DEVICE_CTX: c_int = 1;

impl Codec {
    /// The decoder named `name`, if this FFmpeg has it.
    pub(crate) fn decoder(ff: &'static Ffmpeg, name: &str) -> Option<Codec> {
        let c = CString::new(name).ok()?;
        // SAFETY: a lookup by NUL-terminated name; returns a static codec or null.
        NonNull::new(unsafe { (ff.fns.avcodec_find_decoder_by_name)(c.as_ptr()) }.cast_mut())
            .map(|ptr| Codec { ptr, ff })
    }

    /// The encoder named `name`, if this FFmpeg has it.
    pub(crate) fn encoder(ff: &'static Ffmpeg, name: &str) -> Option<Codec> {
        let c = CString::new(name).ok()?;
        // SAFETY: as above.
        NonNull::new(unsafe { (ff.fns.avcodec_find_encoder_by_name)(c.as_ptr()) }.cast_mut())
            .map(|ptr| Codec { ptr, ff })
    }

    /// `id` (`AVCodecID`; `None` where this major's table lacks it).
    pub(crate) fn id(&self) -> Option<c_int> {
        let off = self.ff.layout.codec.id?;
        // SAFETY: an enum (int) field of a static AVCodec of the loaded major.
        Some(unsafe { read::<c_int>(self.as_ptr().cast(), off) })
    }

    /// The decoder `avcodec_find_decoder` picks for codec id `id` (the first registered
    /// that is not experimental), as the ffmpeg tool picks one when told no name.
    pub(crate) fn default_decoder(ff: &'static Ffmpeg, id: c_int) -> Option<Codec> {
        // SAFETY: a lookup by id; returns a static codec or null.
        NonNull::new(unsafe { (ff.fns.avcodec_find_decoder)(id) }.cast_mut()).map(|ptr| Codec { ptr, ff })
    }

    /// The raw pointer.
    pub(crate) fn as_ptr(&self) -> *const AVCodec {
        self.ptr.as_ptr()
    }

    /// `capabilities` (`AV_CODEC_CAP_*`; 0 where this major's table lacks it).
    pub(crate) fn capabilities(&self) -> c_int {
        match self.ff.layout.codec.capabilities {
            // SAFETY: an int field of a static AVCodec of the loaded major.
            Some(off) => unsafe { read::<c_int>(self.as_ptr().cast(), off) },
            None => 0,
        }
    }

    /// The codec's name ("hevc", "libdav1d", …).
    pub(crate) fn name(&self) -> String {
        let Some(off) = self.ff.layout.codec.name else { return String::new() };
        // SAFETY: `name` of a static AVCodec: a static NUL-terminated string.
        let p = unsafe { read::<*const std::ffi::c_char>(self.as_ptr().cast(), off) };
        if p.is_null() {
            return String::new();
        }
        // SAFETY: as above.
        unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// The hardware configurations the codec offers.
    pub(crate) fn hw_configs(&self) -> Vec<HwConfig> {
        let l = &self.ff.layout.hw_config;
        let (Some(pf), Some(m), Some(dt)) = (l.pix_fmt, l.methods, l.device_type) else { return Vec::new() };
        let mut out = Vec::new();
        for i in 0..64 {
            // SAFETY: returns a static entry or null past the last.
            let c = unsafe { (self.ff.fns.avcodec_get_hw_config)(self.as_ptr(), i) };
            if c.is_null() {
                break;
            }
            let base = c.cast::<c_void>();
            // SAFETY: an AVCodecHWConfig of the loaded major: three ints at these offsets.
            out.push(unsafe {
                HwConfig { pix_fmt: read(base, pf), methods: read(base, m), device_type: read(base, dt) }
            });
        }
        out
    }

    /// The pixel formats the encoder takes (empty: any, or unknown).
    pub(crate) fn pix_fmts(&self) -> Vec<c_int> {
        let mut list: *const c_int = std::ptr::null();
        if let Some(get) = self.ff.fns.avcodec_get_supported_config {
            let mut n: c_int = 0;
            let mut out: *const c_void = std::ptr::null();
            // SAFETY: AV_CODEC_CONFIG_PIX_FORMAT (0) with a null context asks for the
            // codec's static list; `out` and `n` are valid out-pointers.
            let r = unsafe { get(std::ptr::null(), self.as_ptr(), 0, 0, &mut out, &mut n) };
            if r < 0 || out.is_null() {
                return Vec::new();
            }
            list = out.cast();
        } else if let Some(off) = self.ff.layout.codec.pix_fmts {
            // SAFETY: `pix_fmts` is a pointer field of the static AVCodec.
            list = unsafe { read::<*const c_int>(self.ptr.as_ptr().cast(), off) };
        }
        let mut out = Vec::new();
        if list.is_null() {
            return out;
        }
        // SAFETY: the list is terminated by AV_PIX_FMT_NONE (-1) and static; 512 bounds
        // the walk.
        unsafe {
            for i in 0..512 {
                let v = *list.add(i);
                if v < 0 {
                    break;
                }
                out.push(v);
            }
        }
        out
    }
}

/// A field of `AVCodecContext`, with its C type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CtxInt {
    /// `int width`.
    Width,
    /// `int height`.
    Height,
    /// `enum AVPixelFormat pix_fmt`.
    PixFmt,
    /// `enum AVPixelFormat sw_pix_fmt`.
    SwPixFmt,
    /// `int thread_count`.
    ThreadCount,
    /// `int thread_type`.
    ThreadType,
    /// `int active_thread_type`.
    ActiveThreadType,
    /// `int strict_std_compliance`.
    StrictStdCompliance,
    /// `int apply_cropping`.
    ApplyCropping,
}

/// An `AVCodecContext` (allocated for a codec; opened with [`CodecContext::open`]).
pub(crate) struct CodecContext {
    ptr: NonNull<AVCodecContext>,
    codec: Codec,
    ff: &'static Ffmpeg,
}

// SAFETY: a codec context has no thread affinity; this owner gives `&mut` access only.
unsafe impl Send for CodecContext {}

impl CodecContext {
    /// A new context for `codec`.
    pub(crate) fn new(codec: Codec) -> Result<CodecContext, AvError> {
        let ff = codec.ff;
        // SAFETY: allocation for a static codec.
        let p = unsafe { (ff.fns.avcodec_alloc_context3)(codec.as_ptr()) };
        NonNull::new(p).map(|ptr| CodecContext { ptr, codec, ff }).ok_or(AvError::ENOMEM)
    }

    fn base(&self) -> *mut c_void {
        self.ptr.as_ptr().cast()
    }

    /// The raw pointer, for reads of fields outside this file (`audio.rs`).
    pub(crate) fn as_ptr(&self) -> *const AVCodecContext {
        self.ptr.as_ptr()
    }

    /// The raw pointer, for writes of fields outside the layout tables (`buffers.rs`).
    pub(crate) fn as_mut_ptr(&mut self) -> *mut AVCodecContext {
        self.ptr.as_ptr()
    }

    /// The codec the context was allocated for.
    pub(crate) fn codec(&self) -> Codec {
        self.codec
    }

    /// The FFmpeg the context belongs to.
    pub(crate) fn ffmpeg(&self) -> &'static Ffmpeg {
        self.ff
    }

    fn int_offset(&self, field: CtxInt) -> Option<usize> {
        let l = &self.ff.layout.codec_context;
        match field {
            CtxInt::Width => l.width,
            CtxInt::Height => l.height,
            CtxInt::PixFmt => l.pix_fmt,
            CtxInt::SwPixFmt => l.sw_pix_fmt,
            CtxInt::ThreadCount => l.thread_count,
            CtxInt::ThreadType => l.thread_type,
            CtxInt::ActiveThreadType => l.active_thread_type,
            CtxInt::StrictStdCompliance => l.strict_std_compliance,
            CtxInt::ApplyCropping => l.apply_cropping,
        }
    }

    /// An `int` field (0 where this major lacks it).
    pub(crate) fn int(&self, field: CtxInt) -> c_int {
        match self.int_offset(field) {
            // SAFETY: a live context of the loaded major holds an int there.
            Some(off) => unsafe { read::<c_int>(self.base(), off) },
            None => 0,
        }
    }

    /// Sets an `int` field (ignored where this major lacks it).
    pub(crate) fn set_int(&mut self, field: CtxInt, value: c_int) {
        if let Some(off) = self.int_offset(field) {
            // SAFETY: as in `int`; the context is owned here.
            unsafe { write::<c_int>(self.base(), off, value) };
        }
    }

    /// Sets `max_pixels` (int64_t).
    pub(crate) fn set_max_pixels(&mut self, value: i64) {
        if let Some(off) = self.ff.layout.codec_context.max_pixels {
            // SAFETY: an int64_t at this offset; the context is owned here.
            unsafe { write::<i64>(self.base(), off, value) };
        }
    }

    /// Sets `time_base` (an AVRational: two ints).
    pub(crate) fn set_time_base(&mut self, num: c_int, den: c_int) {
        if let Some(off) = self.ff.layout.codec_context.time_base {
            // SAFETY: an AVRational at this offset; the context is owned here.
            unsafe { write::<[c_int; 2]>(self.base(), off, [num, den]) };
        }
    }

    /// Sets `framerate` (an AVRational).
    pub(crate) fn set_framerate(&mut self, num: c_int, den: c_int) {
        if let Some(off) = self.ff.layout.codec_context.framerate {
            // SAFETY: an AVRational at this offset; the context is owned here.
            unsafe { write::<[c_int; 2]>(self.base(), off, [num, den]) };
        }
    }

    /// Gives the context a reference to `device` (`hw_device_ctx`); false if that failed.
    pub(crate) fn set_hw_device(&mut self, device: *mut AVBufferRef) -> bool {
        self.set_buffer(self.ff.layout.codec_context.hw_device_ctx, device)
    }

    /// Gives the context a reference to `frames` (`hw_frames_ctx`); false if that failed.
    pub(crate) fn set_hw_frames(&mut self, frames: *mut AVBufferRef) -> bool {
        self.set_buffer(self.ff.layout.codec_context.hw_frames_ctx, frames)
    }

    fn set_buffer(&mut self, off: Option<usize>, buf: *mut AVBufferRef) -> bool {
        let Some(off) = off else { return false };
        // SAFETY: `buf` is a live buffer reference of the caller's; the new reference is
        // owned by the context (freed by avcodec_free_context).
        let r = unsafe { (self.ff.fns.av_buffer_ref)(buf) };
        if r.is_null() {
            return false;
        }
        // SAFETY: a pointer field at this offset; the context is owned here and the field
        // was null (set once, before opening).
        unsafe { write::<*mut AVBufferRef>(self.base(), off, r) };
        true
    }

    /// Sets `opaque` and the `get_format` callback (hardware decoding picks its surface
    /// format there).
    pub(crate) fn set_get_format(&mut self, opaque: *mut c_void, callback: GetFormat) {
        let l = self.ff.layout.codec_context;
        if let (Some(o), Some(g)) = (l.opaque, l.get_format) {
            // SAFETY: a pointer and a function pointer field; the context is owned here.
            unsafe {
                write::<*mut c_void>(self.base(), o, opaque);
                write::<Option<GetFormat>>(self.base(), g, Some(callback));
            }
        }
    }

    /// Gives the context a copy of `data` as its `extradata` (before opening), with the
    /// zeroed padding libavcodec's bitstream readers may read past the end.
    pub(crate) fn set_extradata(&mut self, data: &[u8]) -> Result<(), AvError> {
        /// `AV_INPUT_BUFFER_PADDING_SIZE`, 64 in every supported major.
        const PADDING: usize = 64;
        let l = &self.ff.layout.codec_context;
        let (Some(d), Some(n)) = (l.extradata, l.extradata_size) else { return Err(AvError::ENOSYS) };
        let size = c_int::try_from(data.len()).map_err(|_| AvError::EINVAL)?;
        // SAFETY: an allocation of libavutil's, freed by avcodec_free_context with the
        // context.
        let p = unsafe { (self.ff.fns.av_mallocz)(data.len() + PADDING) }.cast::<u8>();
        if p.is_null() {
            return Err(AvError::ENOMEM);
        }
        // SAFETY: `p` holds `data.len() + PADDING` bytes; the context is owned here and
        // unopened, its `extradata` null (set once), so the pointer and size are set
        // together and the context owns the buffer from here on.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
            write::<*mut u8>(self.base(), d, p);
            write::<c_int>(self.base(), n, size);
        }
        Ok(())
    }

    /// `extradata` (empty if none).
    pub(crate) fn extradata(&self) -> Vec<u8> {
        let l = &self.ff.layout.codec_context;
        let (Some(d), Some(n)) = (l.extradata, l.extradata_size) else { return Vec::new() };
        // SAFETY: extradata is null or points to extradata_size bytes owned by the context.
        unsafe {
            let p = read::<*const u8>(self.base(), d);
            let n = read::<c_int>(self.base(), n);
            if p.is_null() || n <= 0 {
                return Vec::new();
            }
            std::slice::from_raw_parts(p, n as usize).to_vec()
        }
    }

    /// Sets an option of the context or its codec (`AV_OPT_SEARCH_CHILDREN`).
    pub(crate) fn set_option(&mut self, name: &str, value: &str) -> Result<(), AvError> {
        let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) else { return Err(AvError::EINVAL) };
        // SAFETY: the context is an AVClass object; both strings outlive the call and
        // av_opt_set copies what it keeps. 1 = AV_OPT_SEARCH_CHILDREN.
        check(unsafe { (self.ff.fns.av_opt_set)(self.base(), n.as_ptr(), v.as_ptr(), 1) }).map(|_| ())
    }

    /// Opens the context with its codec.
    pub(crate) fn open(&mut self) -> Result<(), AvError> {
        // SAFETY: a live, unopened context and the codec it was allocated for.
        check(unsafe { (self.ff.fns.avcodec_open2)(self.ptr.as_ptr(), self.codec.as_ptr(), std::ptr::null_mut()) })
            .map(|_| ())
    }

    /// `avcodec_send_packet` (`None`: the end of the stream).
    pub(crate) fn send_packet(&mut self, packet: Option<&Packet>) -> Result<(), AvError> {
        let p = packet.map_or(std::ptr::null(), |p| p.ptr.as_ptr().cast_const());
        // SAFETY: an opened context; the packet is live or null (drain).
        check(unsafe { (self.ff.fns.avcodec_send_packet)(self.ptr.as_ptr(), p) }).map(|_| ())
    }

    /// `avcodec_receive_frame`.
    pub(crate) fn receive_frame(&mut self, frame: &mut Frame) -> Result<(), AvError> {
        // SAFETY: an opened context and a live frame.
        check(unsafe { (self.ff.fns.avcodec_receive_frame)(self.ptr.as_ptr(), frame.as_mut_ptr()) }).map(|_| ())
    }

    /// `avcodec_send_frame` (`None`: the end of the stream).
    pub(crate) fn send_frame(&mut self, frame: Option<&Frame>) -> Result<(), AvError> {
        let f = frame.map_or(std::ptr::null(), Frame::as_ptr);
        // SAFETY: an opened context; the frame is live or null (drain).
        check(unsafe { (self.ff.fns.avcodec_send_frame)(self.ptr.as_ptr(), f) }).map(|_| ())
    }

    /// `avcodec_receive_packet`.
    pub(crate) fn receive_packet(&mut self, packet: &mut Packet) -> Result<(), AvError> {
        // SAFETY: an opened context and a live packet.
        check(unsafe { (self.ff.fns.avcodec_receive_packet)(self.ptr.as_ptr(), packet.ptr.as_ptr()) }).map(|_| ())
    }

    /// `avcodec_flush_buffers`.
    pub(crate) fn flush(&mut self) {
        // SAFETY: an opened context.
        unsafe { (self.ff.fns.avcodec_flush_buffers)(self.ptr.as_ptr()) };
    }
}

impl Drop for CodecContext {
    fn drop(&mut self) {
        let mut p = self.ptr.as_ptr();
        // SAFETY: frees the context allocated in `new`, once (with its buffers).
        unsafe { (self.ff.fns.avcodec_free_context)(&mut p) };
    }
}

/// The `get_format` callback's C type.
pub(crate) type GetFormat = unsafe extern "C" fn(*mut AVCodecContext, *const c_int) -> c_int;

/// The `opaque` field of a context, for `get_format` callbacks.
///
/// # Safety
///
/// `ctx` must be a live context of the loaded FFmpeg.
pub(crate) unsafe fn context_opaque(ctx: *mut AVCodecContext) -> *mut c_void {
    match super::get().ok().and_then(|ff| ff.layout.codec_context.opaque) {
        // SAFETY: the caller guarantees a live context of the loaded major.
        Some(off) => unsafe { read::<*mut c_void>(ctx.cast(), off) },
        None => std::ptr::null_mut(),
    }
}

/// An `AVPacket`.
pub(crate) struct Packet {
    ptr: NonNull<AVPacket>,
    ff: &'static Ffmpeg,
}

// SAFETY: a packet has no thread affinity; this owner gives `&mut` access only.
unsafe impl Send for Packet {}

/// `AV_PKT_FLAG_KEY`.
pub(crate) const PKT_FLAG_KEY: c_int = 1;

impl Packet {
    /// An empty packet.
    pub(crate) fn empty(ff: &'static Ffmpeg) -> Result<Packet, AvError> {
        // SAFETY: allocation only.
        NonNull::new(unsafe { (ff.fns.av_packet_alloc)() }).map(|ptr| Packet { ptr, ff }).ok_or(AvError::ENOMEM)
    }

    /// A packet holding a copy of `data`.
    pub(crate) fn copy(ff: &'static Ffmpeg, data: &[u8]) -> Result<Packet, AvError> {
        let mut p = Packet::empty(ff)?;
        p.fill(data)?;
        Ok(p)
    }

    /// Makes this packet hold a copy of `data` alone, in a buffer of its own (what it held
    /// before is released: a decoder that kept a reference keeps its own). For a loop that
    /// sends packet after packet through one `AVPacket` rather than allocating each.
    pub(crate) fn fill(&mut self, data: &[u8]) -> Result<(), AvError> {
        let n = c_int::try_from(data.len()).map_err(|_| AvError::EINVAL)?;
        self.unref();
        // SAFETY: a live, blank packet (just unreferenced); av_new_packet allocates `n`
        // bytes plus padding.
        check(unsafe { (self.ff.fns.av_new_packet)(self.ptr.as_ptr(), n) })?;
        let dst = self.data_ptr();
        if !data.is_empty() && !dst.is_null() {
            // SAFETY: `dst` holds at least `n` bytes, allocated just above.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        }
        Ok(())
    }

    fn base(&self) -> *mut c_void {
        self.ptr.as_ptr().cast()
    }

    fn data_ptr(&self) -> *mut u8 {
        match self.ff.layout.packet.data {
            // SAFETY: a pointer field at this offset of a live packet.
            Some(off) => unsafe { read::<*mut u8>(self.base(), off) },
            None => std::ptr::null_mut(),
        }
    }

    /// The payload.
    pub(crate) fn data(&self) -> &[u8] {
        let p = self.data_ptr();
        let n = match self.ff.layout.packet.size {
            // SAFETY: an int at this offset of a live packet.
            Some(off) => unsafe { read::<c_int>(self.base(), off) },
            None => 0,
        };
        if p.is_null() || n <= 0 {
            return &[];
        }
        // SAFETY: `data` points to `size` bytes owned by the packet, alive for the borrow.
        unsafe { std::slice::from_raw_parts(p, n as usize) }
    }

    fn ts(&self, off: Option<usize>) -> Option<i64> {
        // SAFETY: an int64_t at this offset of a live packet.
        let v = unsafe { read::<i64>(self.base(), off?) };
        (v != NOPTS).then_some(v)
    }

    /// `pts`.
    pub(crate) fn pts(&self) -> Option<i64> {
        self.ts(self.ff.layout.packet.pts)
    }

    /// `dts`.
    pub(crate) fn dts(&self) -> Option<i64> {
        self.ts(self.ff.layout.packet.dts)
    }

    /// Sets `pts`.
    pub(crate) fn set_pts(&mut self, pts: Option<i64>) {
        if let Some(off) = self.ff.layout.packet.pts {
            // SAFETY: an int64_t at this offset; the packet is owned here.
            unsafe { write::<i64>(self.base(), off, pts.unwrap_or(NOPTS)) };
        }
    }

    /// `flags`.
    pub(crate) fn flags(&self) -> c_int {
        match self.ff.layout.packet.flags {
            // SAFETY: an int at this offset of a live packet.
            Some(off) => unsafe { read::<c_int>(self.base(), off) },
            None => 0,
        }
    }

    /// Sets `flags`.
    pub(crate) fn set_flags(&mut self, flags: c_int) {
        if let Some(off) = self.ff.layout.packet.flags {
            // SAFETY: an int at this offset; the packet is owned here.
            unsafe { write::<c_int>(self.base(), off, flags) };
        }
    }

    /// Releases the payload (the packet can be reused).
    pub(crate) fn unref(&mut self) {
        // SAFETY: a live packet owned here.
        unsafe { (self.ff.fns.av_packet_unref)(self.ptr.as_ptr()) };
    }
}

impl Drop for Packet {
    fn drop(&mut self) {
        let mut p = self.ptr.as_ptr();
        // SAFETY: frees the packet allocated in `empty`, once.
        unsafe { (self.ff.fns.av_packet_free)(&mut p) };
    }
}

/// An `AVDictionary` of options, freed on drop.
pub(crate) struct Dictionary {
    ptr: *mut AVDictionary,
    ff: &'static Ffmpeg,
}

impl Dictionary {
    /// An empty dictionary.
    pub(crate) fn new(ff: &'static Ffmpeg) -> Dictionary {
        Dictionary { ptr: std::ptr::null_mut(), ff }
    }

    /// Sets `key` to `value`.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<(), AvError> {
        let (Ok(k), Ok(v)) = (CString::new(key), CString::new(value)) else { return Err(AvError::EINVAL) };
        // SAFETY: the strings are copied into the dictionary, which av_dict_set allocates.
        check(unsafe { (self.ff.fns.av_dict_set)(&mut self.ptr, k.as_ptr(), v.as_ptr(), 0) }).map(|_| ())
    }

    /// The raw pointer (null when empty).
    pub(crate) fn as_ptr(&self) -> *mut AVDictionary {
        self.ptr
    }
}

impl Drop for Dictionary {
    fn drop(&mut self) {
        // SAFETY: frees the dictionary (a no-op for null).
        unsafe { (self.ff.fns.av_dict_free)(&mut self.ptr) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_have_their_symbolic_names() {
        assert_eq!(AvError::INVALIDDATA.name(), "AVERROR_INVALIDDATA");
        assert_eq!(AvError::EOF.name(), "AVERROR_EOF");
        assert_eq!(AvError::ENOMEM.name(), "AVERROR(ENOMEM)");
        assert_eq!(AvError::EAGAIN.name(), "AVERROR(EAGAIN)");
        assert_eq!(AvError::ENCODER_NOT_FOUND.name(), "AVERROR_ENCODER_NOT_FOUND");
        assert_eq!(AvError(-9999).name(), "AVERROR(9999)");
    }
}
