//! Decoded pictures in buffers this crate gives libavcodec, one contiguous buffer per
//! picture, so that a picture is handed out as it is, without a copy ([`lend`]).
//!
//! Why: copying every picture out of libavcodec's buffers was the one cost `video-hw
//! decode` had over `ffmpeg -f null` (3.2% of the samples in `memmove` on the corpus's
//! 1080p HEVC camera clip; FFmpeg 5.1, 2 threads, 2026-11-25): 0.93x the ffmpeg tool's
//! speed with the copy, 1.03x with it left out.
//!
//! How: libavcodec asks `AVCodecContext.get_buffer2` for each picture's memory. Ours lays
//! the planes out as libavcodec's default allocator does (`avcodec_align_dimensions2`,
//! linesizes widened until aligned as it asks, 16 + 63 bytes of padding after each plane,
//! every plane 64-byte aligned), but in one buffer from the crate's recycling pool
//! (`frame::recycle`), wrapped in an `AVBuffer` that gives it back when the last reference
//! drops. Formats other than 8/10-bit 4:2:0, hardware surfaces and codecs without
//! `AV_CODEC_CAP_DR1` keep libavcodec's own allocator. Any picture whose planes all lie in
//! its first buffer is lent, whoever allocated it (libdav1d's pictures are such too).
//!
//! Three fields are not in the measured layout tables but found in the loaded library
//! itself, when it is loaded (so no header is needed for any major):
//! - `AVCodecContext.get_buffer2`: the one pointer-sized slot of a new context that holds
//!   `avcodec_default_get_buffer2`;
//! - `AVFrame.buf`: the one slot of a frame with buffers that holds what
//!   `av_frame_get_plane_buffer` gives for its first plane;
//! - `AVCodecContext.thread_safe_callbacks` (libavcodec 59 only; 60 on behaves as if it
//!   were set): the `int` after `active_thread_type` (648 in Debian 12's 5.1 headers, gcc),
//!   checked by the `execute` pointer 8 bytes on, which must hold `avcodec_default_execute`.
//!   Without it, frame threads would ask the main thread for every buffer.
//!
//! If any is not found as expected, pictures are copied as before and the reason is kept
//! ([`direct`]). `VIDEO_HW_FFMPEG_DIRECT=0` turns this off (for same-build comparisons).

use std::ffi::{c_int, c_void};
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;
use std::sync::OnceLock;

use super::Ffmpeg;
use super::codec::CodecContext;
use super::fns::{AVBufferRef, AVCodecContext, AVFrame};
use super::frame::Frame;
use super::layout::{read, write};
use crate::frame::LentBytes;
use crate::frame::recycle::Recycled;

/// Plane alignment (libavcodec's largest `STRIDE_ALIGN`, AVX-512).
const ALIGN: usize = 64;
/// Bytes after each plane that decoders may read past its end (libavcodec's default
/// allocator's `16 + STRIDE_ALIGN - 1`).
const PAD: usize = 16 + ALIGN - 1;
/// `AV_CODEC_CAP_DR1`: the decoder takes its pictures' memory from `get_buffer2`.
const CAP_DR1: c_int = 1 << 1;
/// The largest picture buffer made here (a bigger one falls back to libavcodec's).
const MAX_BYTES: usize = 1 << 31;
/// `AVBufferRef`'s public layout, fixed since libavutil 57: `AVBuffer *buffer; uint8_t
/// *data; size_t size;`.
const BUFFER_REF_DATA: usize = 8;
const BUFFER_REF_SIZE: usize = 16;

type GetBuffer2 = unsafe extern "C" fn(*mut AVCodecContext, *mut AVFrame, c_int) -> c_int;

/// What giving libavcodec our own picture buffers needs, found in the loaded library.
pub(crate) struct Direct {
    ff: &'static Ffmpeg,
    /// Offset of `AVCodecContext.get_buffer2`.
    get_buffer2: usize,
    /// Offset of `AVCodecContext.thread_safe_callbacks` (libavcodec 59).
    thread_safe_callbacks: Option<usize>,
    /// Offset of `AVFrame.buf`.
    frame_buf: usize,
    /// Offset of `AVFrame.extended_data`.
    extended_data: usize,
    default: GetBuffer2,
    /// `yuv420p`, `yuvj420p` and `yuv420p10le` in this major's numbering.
    formats: [c_int; 3],
}

static DIRECT: OnceLock<Result<Direct, String>> = OnceLock::new();

/// Own picture buffers for the loaded FFmpeg, or why not.
pub(crate) fn direct(ff: &'static Ffmpeg) -> Result<&'static Direct, &'static str> {
    let found = DIRECT.get_or_init(|| {
        if !crate::env::settings().ffmpeg_direct {
            return Err("turned off (VIDEO_HW_FFMPEG_DIRECT=0)".into());
        }
        discover(ff)
    });
    match found {
        Ok(d) if std::ptr::eq(d.ff, ff) => Ok(d),
        Ok(_) => Err("found for another FFmpeg"),
        Err(why) => Err(why.as_str()),
    }
}

/// Offsets in `size` bytes at `base` (pointer-aligned) that hold the pointer `value`.
///
/// # Safety
///
/// `base` must point to `size` initialised bytes.
unsafe fn slots_holding(base: *const c_void, size: usize, value: usize) -> Vec<usize> {
    let step = std::mem::size_of::<usize>();
    (0..size.saturating_sub(step - 1))
        .step_by(step)
        // SAFETY: every offset read lies in the `size` bytes the caller vouches for.
        .filter(|&off| unsafe { read::<usize>(base, off) } == value)
        .collect()
}

fn the_one(what: &str, found: Vec<usize>) -> Result<usize, String> {
    match found[..] {
        [one] => Ok(one),
        _ => Err(format!("{what} not found once in the struct (at {found:?})")),
    }
}

fn discover(ff: &'static Ffmpeg) -> Result<Direct, String> {
    let f = &ff.fns;
    let lacks = |name: &str| format!("this FFmpeg lacks {name}");
    let default = f.avcodec_default_get_buffer2.ok_or_else(|| lacks("avcodec_default_get_buffer2"))?;
    let execute = f.avcodec_default_execute.ok_or_else(|| lacks("avcodec_default_execute"))?;
    let plane_buffer = f.av_frame_get_plane_buffer.ok_or_else(|| lacks("av_frame_get_plane_buffer"))?;
    for (name, have) in [
        ("avcodec_align_dimensions2", f.avcodec_align_dimensions2.is_some()),
        ("av_buffer_create", f.av_buffer_create.is_some()),
        ("av_image_fill_linesizes", f.av_image_fill_linesizes.is_some()),
        ("av_image_fill_plane_sizes", f.av_image_fill_plane_sizes.is_some()),
    ] {
        if !have {
            return Err(lacks(name));
        }
    }
    let l = ff.layout;
    let cc = &l.codec_context;

    // SAFETY: a context with no codec, freed below.
    let mut ctx = unsafe { (f.avcodec_alloc_context3)(std::ptr::null()) };
    if ctx.is_null() {
        return Err("allocating a codec context failed".into());
    }
    let base = ctx.cast::<c_void>().cast_const();
    // SAFETY: the context is `struct_size` bytes, initialised by avcodec_alloc_context3.
    let found = unsafe { slots_holding(base, cc.struct_size, default as usize) };
    let thread_safe = match (l.avcodec_major, cc.active_thread_type) {
        (59, Some(active)) => {
            let off = active + 4;
            // SAFETY: both offsets lie inside the context (checked against struct_size).
            let ok = off + 16 <= cc.struct_size
                && unsafe { read::<c_int>(base, off) } == 0
                && unsafe { read::<usize>(base, off + 8) } == execute as usize;
            Some(ok.then_some(off))
        }
        _ => None,
    };
    // SAFETY: allocated above.
    unsafe { (f.avcodec_free_context)(&mut ctx) };
    let get_buffer2 = the_one("AVCodecContext.get_buffer2", found)?;
    if Some(get_buffer2) == cc.get_format {
        return Err("get_buffer2 found where get_format is".into());
    }
    let thread_safe_callbacks = match thread_safe {
        Some(None) => return Err("AVCodecContext.thread_safe_callbacks is not where libavcodec 59 has it".into()),
        Some(found) => found,
        None => None,
    };

    let yuv420p = ff.pix_fmt("yuv420p").ok_or_else(|| lacks("yuv420p"))?;
    let frame = Frame::new_video(ff, yuv420p, 64, 64).map_err(|e| format!("allocating a test frame: {e}"))?;
    // SAFETY: the frame has buffers; the call only reads it.
    let first = unsafe { plane_buffer(frame.as_ptr(), 0) };
    if first.is_null() {
        return Err("a frame with buffers has no buffer for its first plane".into());
    }
    let fb = frame.as_ptr().cast::<c_void>();
    // SAFETY: av_frame_alloc gives `sizeof(AVFrame)` bytes, zeroed then filled.
    let frame_buf = the_one("AVFrame.buf", unsafe { slots_holding(fb, l.frame.struct_size, first as usize) })?;
    let data = l.frame.data.ok_or("AVFrame.data is not in the layout table")?;
    // `extended_data` follows data[8] and linesize[8] in every major; it points at `data`.
    let extended_data = data + 8 * std::mem::size_of::<usize>() + 8 * std::mem::size_of::<c_int>();
    // SAFETY: inside the frame (before `buf`, found above).
    if extended_data >= frame_buf || unsafe { read::<usize>(fb, extended_data) } != fb as usize + data {
        return Err("AVFrame.extended_data is not after data and linesize".into());
    }
    let formats = [yuv420p, ff.pix_fmt("yuvj420p").unwrap_or(yuv420p), ff.pix_fmt("yuv420p10le").unwrap_or(yuv420p)];
    Ok(Direct { ff, get_buffer2, thread_safe_callbacks, frame_buf, extended_data, default, formats })
}

/// Has the decoder of `ctx` (not opened yet) take its pictures' memory from this module.
/// `Err` says why not (the decoder then uses libavcodec's own buffers).
pub(crate) fn install(ctx: &mut CodecContext) -> Result<(), String> {
    let ff = ctx.ffmpeg();
    let d = direct(ff)?;
    if ctx.codec().capabilities() & CAP_DR1 == 0 {
        return Err(format!("libavcodec's {} allocates its own pictures", ctx.codec().name()));
    }
    let base = ctx.as_mut_ptr().cast::<c_void>();
    // SAFETY: the offsets were found in a context of this library (`discover`); the
    // context is owned by the caller and not opened yet.
    unsafe {
        write::<GetBuffer2>(base, d.get_buffer2, get_buffer2);
        if let Some(off) = d.thread_safe_callbacks {
            write::<c_int>(base, off, 1);
        }
    }
    Ok(())
}

/// libavcodec's `get_buffer2`: our buffer for the formats [`Direct::fill`] lays out,
/// libavcodec's own for anything else. Called from libavcodec's frame threads.
unsafe extern "C" fn get_buffer2(ctx: *mut AVCodecContext, frame: *mut AVFrame, flags: c_int) -> c_int {
    let Some(Ok(d)) = DIRECT.get() else {
        // Never installed without `DIRECT`; AVERROR(EINVAL) all the same.
        return -22;
    };
    // SAFETY: libavcodec passes its live context and the frame to fill.
    let filled = std::panic::catch_unwind(AssertUnwindSafe(|| unsafe { d.fill(ctx, frame) }));
    if filled.unwrap_or(false) {
        return 0;
    }
    // SAFETY: the same arguments, to libavcodec's own allocator (`fill` wrote nothing).
    unsafe { (d.default)(ctx, frame, flags) }
}

/// Gives a picture buffer back to the recycling pool when libavcodec and every lent frame
/// are done with it.
unsafe extern "C" fn free_buffer(opaque: *mut c_void, _data: *mut u8) {
    // SAFETY: `opaque` is the boxed buffer `fill` gave away, freed once, by the last
    // reference's unref.
    let buffer = unsafe { Box::from_raw(opaque.cast::<Recycled>()) };
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| drop(buffer)));
}

impl Direct {
    /// Gives `frame` one buffer of ours for its format and size; false (nothing written)
    /// for a format not laid out here or any failure.
    ///
    /// # Safety
    ///
    /// `ctx` and `frame` are what libavcodec passes `get_buffer2`.
    unsafe fn fill(&self, ctx: *mut AVCodecContext, frame: *mut AVFrame) -> bool {
        let f = &self.ff.fns;
        let (Some(align_dims), Some(create), Some(fill_linesizes), Some(plane_sizes)) =
            (f.avcodec_align_dimensions2, f.av_buffer_create, f.av_image_fill_linesizes, f.av_image_fill_plane_sizes)
        else {
            return false;
        };
        let (fl, cl) = (&self.ff.layout.frame, &self.ff.layout.codec_context);
        let (Some(fmt_off), Some(w_off), Some(h_off), Some(data_off), Some(ls_off), Some(ctx_fmt)) =
            (fl.format, fl.width, fl.height, fl.data, fl.linesize, cl.pix_fmt)
        else {
            return false;
        };
        let fb = frame.cast::<c_void>();
        // SAFETY: int fields of the live frame and context (offsets of this major).
        let (format, mut w, mut h, ctx_format) = unsafe {
            (
                read::<c_int>(fb, fmt_off),
                read::<c_int>(fb, w_off),
                read::<c_int>(fb, h_off),
                read::<c_int>(ctx.cast(), ctx_fmt),
            )
        };
        // avcodec_align_dimensions2 aligns for the context's format.
        if !self.formats.contains(&format) || format != ctx_format || w <= 0 || h <= 0 {
            return false;
        }
        let mut stride_align: [c_int; 8] = [0; 8];
        // SAFETY: the live context; three valid out-pointers (8 ints for the last).
        unsafe { align_dims(ctx, &mut w, &mut h, stride_align.as_mut_ptr()) };
        // Widen the rows until every linesize is a multiple of its alignment, as
        // libavcodec's own allocator does.
        let mut linesize: [c_int; 4] = [0; 4];
        let mut aligned = false;
        for _ in 0..32 {
            // SAFETY: four ints out.
            if unsafe { fill_linesizes(linesize.as_mut_ptr(), format, w) } < 0 {
                return false;
            }
            aligned = linesize.iter().zip(stride_align).all(|(&l, a)| a <= 0 || l % a == 0);
            if aligned {
                break;
            }
            w = match w.checked_add(w & w.wrapping_neg()) {
                Some(w) => w,
                None => return false,
            };
        }
        if !aligned {
            return false;
        }
        let pitches = linesize.map(|l| l as isize);
        let mut sizes = [0usize; 4];
        // SAFETY: four size_t out, four linesizes in.
        if unsafe { plane_sizes(sizes.as_mut_ptr(), format, h, pitches.as_ptr()) } < 0 {
            return false;
        }
        let mut offsets = [0usize; 4];
        let mut total = 0usize;
        for (i, &size) in sizes.iter().enumerate().filter(|(_, s)| **s > 0) {
            offsets[i] = total;
            total = match total.checked_add(size).and_then(|t| t.checked_add(PAD)) {
                Some(t) if t <= MAX_BYTES => t.next_multiple_of(ALIGN),
                _ => return false,
            };
        }
        let len = total + ALIGN;
        let mut buffer = Box::new(Recycled::for_overwrite(len));
        let start = buffer.bytes_mut().as_mut_ptr();
        let skip = start.align_offset(ALIGN);
        let opaque = Box::into_raw(buffer).cast::<c_void>();
        // SAFETY: `start` holds `len` bytes owned by the box behind `opaque`, which
        // `free_buffer` frees when the last reference goes.
        let buf = unsafe { create(start, len, Some(free_buffer), opaque, 0) };
        if buf.is_null() {
            // SAFETY: not given to FFmpeg: ours to free.
            drop(unsafe { Box::from_raw(opaque.cast::<Recycled>()) });
            return false;
        }
        let ptr = std::mem::size_of::<usize>();
        // SAFETY: fields of the frame libavcodec asked us to fill (offsets of this major,
        // `buf` and `extended_data` found in `discover`); planes inside the buffer.
        unsafe {
            write::<*mut AVBufferRef>(fb, self.frame_buf, buf);
            for (i, &size) in sizes.iter().enumerate().filter(|(_, s)| **s > 0) {
                write::<*mut u8>(fb, data_off + i * ptr, start.add(skip + offsets[i]));
                write::<c_int>(fb, ls_off + i * 4, linesize[i]);
                debug_assert!(skip + offsets[i] + size <= len);
            }
            write::<*mut c_void>(fb, self.extended_data, fb.cast::<u8>().add(data_off).cast());
        }
        true
    }
}

/// A reference to a decoded picture's first buffer, holding the picture's bytes for a
/// [`crate::frame::HostFrame`]; the reference goes when it drops.
pub(crate) struct LentPicture {
    ff: &'static Ffmpeg,
    buf: NonNull<AVBufferRef>,
    data: *const u8,
    len: usize,
}

// SAFETY: the buffer is only read through this (decoders never write a picture after
// outputting it), and unref is thread-safe (an atomic count).
unsafe impl Send for LentPicture {}
// SAFETY: as above; shared access is reads only.
unsafe impl Sync for LentPicture {}

impl LentBytes for LentPicture {
    fn bytes(&self) -> &[u8] {
        // SAFETY: the buffer's `len` bytes live while this reference does.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

impl Drop for LentPicture {
    fn drop(&mut self) {
        let mut p = self.buf.as_ptr();
        // SAFETY: our own reference, dropped once.
        unsafe { (self.ff.fns.av_buffer_unref)(&mut p) };
    }
}

/// A new reference to `frame`'s first buffer when every one of its planes lies in it
/// (`None`: copy the picture instead).
pub(crate) fn lend(frame: &Frame) -> Option<LentPicture> {
    let ff = frame.ffmpeg();
    let d = direct(ff).ok()?;
    // SAFETY: `buf[0]` of the live frame (offset found in `discover`).
    let first = unsafe { read::<*const AVBufferRef>(frame.as_ptr().cast(), d.frame_buf) };
    if first.is_null() || frame.planes() == 0 {
        return None;
    }
    // SAFETY: a live AVBufferRef (public layout, `BUFFER_REF_*`).
    let (data, len) =
        unsafe { (read::<*const u8>(first.cast(), BUFFER_REF_DATA), read::<usize>(first.cast(), BUFFER_REF_SIZE)) };
    let (lo, hi) = (data as usize, (data as usize).checked_add(len)?);
    for i in 0..frame.planes() {
        let plane = frame.data(i);
        let (start, end) = (plane.as_ptr() as usize, plane.as_ptr() as usize + plane.len());
        if plane.is_empty() || start < lo || end > hi {
            return None;
        }
    }
    // SAFETY: a live buffer reference of the frame's; the new one is ours.
    let buf = NonNull::new(unsafe { (ff.fns.av_buffer_ref)(first) })?;
    Some(LentPicture { ff, buf, data, len })
}

#[cfg(test)]
mod tests {
    use super::super::frame::IntField;
    use super::*;

    #[test]
    fn fields_are_found_where_the_headers_put_them() {
        let Some(ff) = crate::backend::ffmpeg::test_ffmpeg() else { return };
        let d = match direct(ff) {
            Ok(d) => d,
            Err(why) => panic!("own picture buffers with {}: {why}", ff.release),
        };
        // Measured with gcc from Debian 12's libavcodec-dev 5.1 (libavcodec 59).
        if ff.layout.avcodec_major == 59 {
            assert_eq!((d.get_buffer2, d.thread_safe_callbacks, d.frame_buf), (408, Some(648), 224));
        } else {
            assert_eq!(d.thread_safe_callbacks, None);
        }
        // `buf[8]`, `extended_buf`, `nb_extended_buf`, `side_data`, `nb_side_data`, then
        // `flags`, in every major since 5.1.
        assert_eq!(Some(d.frame_buf + 92), ff.layout.frame.flags);
        assert_eq!(d.extended_data, 96);
    }

    #[test]
    fn a_frame_with_its_own_buffer_is_lent() {
        let Some(ff) = crate::backend::ffmpeg::test_ffmpeg() else { return };
        let f = Frame::new_video(ff, ff.pix_fmt("yuv420p").unwrap(), 64, 48).unwrap();
        let lent = lend(&f).expect("one buffer for every plane");
        let bytes = lent.bytes();
        assert!(bytes.as_ptr() as usize <= f.data_ptr(0) as usize);
        assert!(f.data_ptr(2) as usize + f.stride(2) * 24 <= bytes.as_ptr() as usize + bytes.len());
        assert_eq!(f.int(IntField::Width), 64);
    }
}
