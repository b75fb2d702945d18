//! The one place that calls rav1d: its dav1d-compatible C API, in process (rav1d is a
//! Rust crate, but its only public interface is dav1d's `extern "C"` functions). Owners
//! here free what they hold: [`Context`] closes the decoder, [`Picture`] releases its
//! reference, a [`Data`] not consumed is released.
//!
//! A panic inside rav1d cannot unwind through its `extern "C"` functions: the process
//! aborts. rav1d 1.1.0 panics on two kinds of damage that dav1d reports as errors
//! (`fuzz/fuzz_targets/av1_decode.rs` found both; docs/fuzzing.md, "AV1"): any frame
//! decode error with one frame context (memorysafety/rav1d issue 1497), which
//! `decoder.rs` avoids by never opening one, and an ITU-T T.35 metadata OBU too short
//! for its header, which `guard.rs` takes out before rav1d sees it.
//!
//! rav1d's C API also leaks the metadata reference of the empty picture it writes back
//! on `dav1d_picture_unref` and on `dav1d_get_picture` without a picture (48 bytes
//! each time); [`release_empty`] frees it.

use std::ffi::{CStr, c_int, c_uint};
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_FRAME_TYPE_KEY, DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib as dav1d;

/// `EAGAIN` as dav1d returns it (negated errno).
const EAGAIN: c_int = -(libc_errno::EAGAIN);

/// The errno values dav1d returns (negated), for messages; std has no errno table.
mod libc_errno {
    pub const EAGAIN: i32 = 11;
    pub const ENOMEM: i32 = 12;
    pub const EINVAL: i32 = 22;
    pub const ERANGE: i32 = 34;
    pub const ENOPROTOOPT: i32 = 92;
}

/// What dav1d's result code `code` (negative errno) means.
pub(super) fn describe_code(code: c_int) -> String {
    let what = match -code {
        libc_errno::EAGAIN => "needs more data or output taken first (EAGAIN)",
        libc_errno::ENOMEM => "out of memory (ENOMEM)",
        libc_errno::EINVAL => "invalid data (EINVAL)",
        libc_errno::ERANGE => "picture larger than the limit (ERANGE)",
        libc_errno::ENOPROTOOPT => "unsupported bitstream feature (ENOPROTOOPT)",
        1 => "generic error",
        _ => "error",
    };
    format!("{what}, code {code}")
}

/// rav1d's version ("1.1.0"), as dav1d reports it.
pub(super) fn version() -> String {
    // SAFETY: dav1d_version returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(dav1d::dav1d_version()) }.to_string_lossy().into_owned()
}

/// The settings a [`Context`] opens with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    /// Worker threads (0: one per core).
    pub threads: u32,
    /// Frames decoded at once (0: dav1d's choice from the thread count).
    pub max_frame_delay: u32,
    /// Apply film grain to output pictures.
    pub apply_grain: bool,
    /// Largest picture in samples (0: no limit).
    pub frame_size_limit: u32,
}

/// An open rav1d decoder.
pub(super) struct Context {
    raw: Dav1dContext,
}

// SAFETY: a dav1d context may be used from any thread, one call at a time; `Context`
// methods take `&mut self`, so calls never overlap.
unsafe impl Send for Context {}

/// The outcome of [`Context::send`].
pub(super) enum Sent {
    /// All the data was taken.
    Taken,
    /// The decoder holds output: take a picture, then send the same [`Data`] again.
    Full,
}

/// Input owned by dav1d's allocator, with the packet's sequence number and offset.
pub(super) struct Data {
    raw: Dav1dData,
}

// SAFETY: the buffer is reference counted by rav1d with atomic counts.
unsafe impl Send for Data {}

impl Data {
    /// A copy of `bytes` (not empty) carrying `timestamp` and `offset`.
    pub(super) fn new(bytes: &[u8], timestamp: i64, offset: u64) -> Option<Data> {
        let mut raw = Dav1dData::default();
        // SAFETY: `raw` is a valid Dav1dData to write to; a non-null result points to
        // `bytes.len()` writable bytes owned by `raw`.
        let ptr = unsafe { dav1d::dav1d_data_create(Some(NonNull::from(&mut raw)), bytes.len()) };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: `ptr` has room for `bytes.len()` bytes (above) and does not overlap
        // `bytes`, which the caller owns.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
        raw.m.timestamp = timestamp;
        raw.m.offset = offset as _;
        Some(Data { raw })
    }

    /// Bytes not yet taken by the decoder.
    pub(super) fn remaining(&self) -> usize {
        self.raw.sz
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        if self.raw.data.is_some() {
            // SAFETY: `raw` came from dav1d_data_create and is released once here.
            unsafe { dav1d::dav1d_data_unref(Some(NonNull::from(&mut self.raw))) };
        }
    }
}

impl Context {
    /// Opens a decoder with `settings`.
    pub(super) fn open(settings: Settings) -> Result<Context, c_int> {
        let mut s = MaybeUninit::<Dav1dSettings>::uninit();
        // SAFETY: dav1d_default_settings writes every field of `s` (it may be
        // uninitialised before).
        unsafe { dav1d::dav1d_default_settings(NonNull::new_unchecked(s.as_mut_ptr())) };
        // SAFETY: initialised just above.
        let mut s = unsafe { s.assume_init() };
        s.n_threads = settings.threads.min(256) as c_int;
        s.max_frame_delay = settings.max_frame_delay.min(256) as c_int;
        s.apply_grain = c_int::from(settings.apply_grain);
        s.frame_size_limit = settings.frame_size_limit as c_uint;
        // Operating point 0, its highest spatial layer only: what libavcodec's libdav1d
        // wrapper and libaom's reference decoder output.
        s.operating_point = 0;
        s.all_layers = 0;
        // SAFETY: the logger is a cookie pointer and a callback, both nullable (null
        // niche); all zeros is "no logger", so rav1d writes nothing to stderr. Errors
        // reach the caller through result codes.
        unsafe { std::ptr::write_bytes(std::ptr::addr_of_mut!(s.logger), 0, 1) };
        let mut out: Option<Dav1dContext> = None;
        // SAFETY: `out` and `s` are valid for writing and reading for the call.
        let r = unsafe { dav1d::dav1d_open(Some(NonNull::from(&mut out)), Some(NonNull::from(&mut s))) };
        match (r.0, out) {
            (0, Some(raw)) => Ok(Context { raw }),
            (0, None) => Err(-libc_errno::ENOMEM),
            (code, _) => Err(code),
        }
    }

    /// Offers `data` to the decoder.
    pub(super) fn send(&mut self, data: &mut Data) -> Result<Sent, c_int> {
        // SAFETY: `self.raw` is open; `data.raw` is a valid Dav1dData, updated in place.
        let r = unsafe { dav1d::dav1d_send_data(Some(self.raw), Some(NonNull::from(&mut data.raw))) };
        match r.0 {
            0 => Ok(Sent::Taken),
            EAGAIN => Ok(Sent::Full),
            code => Err(code),
        }
    }

    /// A decoded picture, `None` when none is ready (or, after the last data was sent,
    /// none is left: each call then waits for the pictures in flight).
    pub(super) fn picture(&mut self) -> Result<Option<Picture>, c_int> {
        let mut raw = Dav1dPicture::default();
        // SAFETY: `self.raw` is open; `raw` is valid for writing.
        let r = unsafe { dav1d::dav1d_get_picture(Some(self.raw), Some(NonNull::from(&mut raw))) };
        match r.0 {
            0 => Ok(Some(Picture { raw })),
            EAGAIN => {
                release_empty(&mut raw);
                Ok(None)
            }
            code => {
                release_empty(&mut raw);
                Err(code)
            }
        }
    }

    /// The sequence number and offset of the data whose decoding failed last.
    pub(super) fn error_source(&mut self) -> (i64, u64) {
        let mut props = MaybeUninit::uninit();
        // SAFETY: `self.raw` is open; `props` is valid for writing.
        let r = unsafe { dav1d::dav1d_get_decode_error_data_props(Some(self.raw), NonNull::new(props.as_mut_ptr())) };
        if r.0 != 0 {
            return (-1, 0);
        }
        // SAFETY: written by the successful call.
        let mut props = unsafe { props.assume_init() };
        let source = (props.timestamp, u64::try_from(props.offset).unwrap_or(0));
        // SAFETY: the props carry a reference to user data (none is set here), released once.
        unsafe { dav1d::dav1d_data_props_unref(Some(NonNull::from(&mut props))) };
        source
    }

    /// Forgets every picture, reference and header: the next data starts a new stream.
    pub(super) fn reset(&mut self) {
        // SAFETY: `self.raw` is open.
        unsafe { dav1d::dav1d_flush(self.raw) };
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        let mut raw = Some(self.raw);
        // SAFETY: closed once; dav1d_close joins its threads and frees the context.
        unsafe { dav1d::dav1d_close(Some(NonNull::from(&mut raw))) };
    }
}

/// Chroma subsampling of a decoded picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChromaLayout {
    /// Monochrome (no chroma planes).
    I400,
    /// 4:2:0.
    I420,
    /// 4:2:2.
    I422,
    /// 4:4:4.
    I444,
}

/// A decoded picture, released when dropped.
pub(super) struct Picture {
    raw: Dav1dPicture,
}

// SAFETY: a picture's buffers are reference counted with atomic counts and never
// written after output.
unsafe impl Send for Picture {}

/// The colour description of a picture's sequence header, as H.273 code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SeqColor {
    pub primaries: u8,
    pub transfer: u8,
    pub matrix: u8,
    pub full_range: bool,
    /// dav1d's chroma sample position (0 unknown, 1 vertical/left, 2 co-located).
    pub chroma_position: u8,
}

impl Picture {
    /// Width and height in samples.
    pub(super) fn size(&self) -> (u32, u32) {
        (self.raw.p.w.max(0) as u32, self.raw.p.h.max(0) as u32)
    }

    /// Bits per sample (8, 10 or 12).
    pub(super) fn bit_depth(&self) -> u8 {
        self.raw.p.bpc.clamp(0, 16) as u8
    }

    /// Chroma subsampling.
    pub(super) fn layout(&self) -> ChromaLayout {
        match self.raw.p.layout {
            DAV1D_PIXEL_LAYOUT_I400 => ChromaLayout::I400,
            DAV1D_PIXEL_LAYOUT_I420 => ChromaLayout::I420,
            DAV1D_PIXEL_LAYOUT_I422 => ChromaLayout::I422,
            // DAV1D_PIXEL_LAYOUT_I444, the only other value.
            _ => ChromaLayout::I444,
        }
    }

    /// The sequence number of the data that showed this picture.
    pub(super) fn timestamp(&self) -> i64 {
        self.raw.m.timestamp
    }

    /// Whether the picture is a key frame.
    pub(super) fn is_key(&self) -> bool {
        // SAFETY: an output picture's frame header is valid while the picture is held.
        self.raw.frame_hdr.is_some_and(|h| unsafe { h.as_ref() }.frame_type == DAV1D_FRAME_TYPE_KEY)
    }

    /// The sequence header's colour description.
    pub(super) fn color(&self) -> Option<SeqColor> {
        // SAFETY: an output picture's sequence header is valid while the picture is held.
        let s = unsafe { self.raw.seq_hdr?.as_ref() };
        let code = |v: c_uint| u8::try_from(v).unwrap_or(2);
        Some(SeqColor {
            primaries: code(s.pri),
            transfer: code(s.trc),
            matrix: code(s.mtrx),
            full_range: s.color_range != 0,
            chroma_position: code(s.chr),
        })
    }

    /// Plane `i` (0 luma, 1 and 2 chroma; `None` for the chroma of a monochrome
    /// picture): its bytes from the first sample, and the stride. Each row holds
    /// `width * bytes per sample` bytes; `rows` rows are readable.
    pub(super) fn plane(&self, i: usize, rows: usize, row_bytes: usize) -> Option<(&[u8], usize)> {
        let ptr = self.raw.data.get(i).copied().flatten()?;
        let stride = usize::try_from(self.raw.stride[usize::from(i > 0)]).ok()?;
        if rows == 0 || stride < row_bytes {
            return None;
        }
        let len = stride.checked_mul(rows - 1)?.checked_add(row_bytes)?;
        // SAFETY: dav1d allocates each plane with `rows` rows of `stride` bytes (positive
        // strides: the default allocator), valid while the picture is held (`&self`).
        Some((unsafe { std::slice::from_raw_parts(ptr.as_ptr().cast::<u8>(), len) }, stride))
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: `raw` came from dav1d_get_picture and is released once here.
        unsafe { dav1d::dav1d_picture_unref(Some(NonNull::from(&mut self.raw))) };
        release_empty(&mut self.raw);
    }
}

/// Frees the metadata reference of an empty picture rav1d wrote into `raw` (after
/// `dav1d_picture_unref`, or `dav1d_get_picture` with no picture to give). rav1d makes
/// each empty picture with a freshly allocated, empty ITU-T T.35 list and hands its
/// reference over with the picture; nothing else holds it, and dav1d's API has no call
/// that frees it, so without this each picture leaks 48 bytes.
fn release_empty(raw: &mut Dav1dPicture) {
    // An empty picture: no planes. A real one's references belong to rav1d's unref.
    if raw.data.iter().any(Option::is_some) {
        return;
    }
    if let Some(r) = raw.itut_t35_ref.take() {
        raw.itut_t35 = None;
        raw.n_itut_t35 = 0;
        // SAFETY: rav1d made this reference with `RawArc::from_arc` when it converted the
        // empty picture for the C API, and gave it to `raw` alone; taken out of `raw`
        // above, it is turned back into its `Arc` once and dropped.
        drop(unsafe { r.into_arc() });
    }
}
