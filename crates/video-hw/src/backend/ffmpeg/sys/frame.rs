//! `AVFrame`s owned here (freed on drop), and pixel-format descriptors, read through the
//! loaded major's layout.

use std::ffi::{c_int, c_void};
use std::ptr::NonNull;

use super::codec::AvError;
use super::fns::AVFrame;
use super::layout::{read, write};
use super::{Ffmpeg, NOPTS};

/// An `AVFrame` of the loaded FFmpeg.
pub(crate) struct Frame {
    ptr: NonNull<AVFrame>,
    ff: &'static Ffmpeg,
}

// SAFETY: an AVFrame has no thread affinity; this owner gives `&mut` access only.
unsafe impl Send for Frame {}

/// `AV_FRAME_FLAG_CORRUPT`.
pub(crate) const FLAG_CORRUPT: c_int = 1;
/// `AV_FRAME_FLAG_KEY` (libavutil 58.29 on; `key_frame` before).
const FLAG_KEY: c_int = 1 << 1;

/// An `int` field of `AVFrame`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IntField {
    /// `width`.
    Width,
    /// `height`.
    Height,
    /// `format`.
    Format,
    /// `pict_type`.
    PictType,
    /// `flags`.
    Flags,
    /// `decode_error_flags`.
    DecodeErrorFlags,
    /// `color_primaries`.
    ColorPrimaries,
    /// `color_trc`.
    ColorTrc,
    /// `colorspace`.
    Colorspace,
    /// `color_range`.
    ColorRange,
    /// `chroma_location`.
    ChromaLocation,
}

impl Frame {
    /// A new empty frame.
    pub(crate) fn empty(ff: &'static Ffmpeg) -> Result<Frame, AvError> {
        // SAFETY: allocation only.
        let p = unsafe { (ff.fns.av_frame_alloc)() };
        NonNull::new(p).map(|ptr| Frame { ptr, ff }).ok_or(AvError::ENOMEM)
    }

    /// A frame with its own buffers for a `format` picture of `width` x `height`.
    pub(crate) fn new_video(ff: &'static Ffmpeg, format: c_int, width: u32, height: u32) -> Result<Frame, AvError> {
        let mut f = Frame::empty(ff)?;
        f.set_int(IntField::Format, format);
        f.set_int(IntField::Width, c_int::try_from(width).map_err(|_| AvError::EINVAL)?);
        f.set_int(IntField::Height, c_int::try_from(height).map_err(|_| AvError::EINVAL)?);
        // SAFETY: the frame has its format and size set and no buffers yet.
        let r = unsafe { (ff.fns.av_frame_get_buffer)(f.ptr.as_ptr(), 0) };
        if r < 0 { Err(AvError(r)) } else { Ok(f) }
    }

    /// The FFmpeg this frame belongs to.
    pub(crate) fn ffmpeg(&self) -> &'static Ffmpeg {
        self.ff
    }

    /// The raw pointer, for FFmpeg calls.
    pub(crate) fn as_ptr(&self) -> *const AVFrame {
        self.ptr.as_ptr()
    }

    /// The raw pointer, for FFmpeg calls that write the frame.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut AVFrame {
        self.ptr.as_ptr()
    }

    fn base(&self) -> *const c_void {
        self.ptr.as_ptr().cast()
    }

    fn int_offset(&self, field: IntField) -> Option<usize> {
        let l = &self.ff.layout.frame;
        match field {
            IntField::Width => l.width,
            IntField::Height => l.height,
            IntField::Format => l.format,
            IntField::PictType => l.pict_type,
            IntField::Flags => l.flags,
            IntField::DecodeErrorFlags => l.decode_error_flags,
            IntField::ColorPrimaries => l.color_primaries,
            IntField::ColorTrc => l.color_trc,
            IntField::Colorspace => l.colorspace,
            IntField::ColorRange => l.color_range,
            IntField::ChromaLocation => l.chroma_location,
        }
    }

    /// An `int` field (0 where this major lacks it).
    pub(crate) fn int(&self, field: IntField) -> c_int {
        match self.int_offset(field) {
            // SAFETY: a live AVFrame of the loaded major holds an int at this offset.
            Some(off) => unsafe { read::<c_int>(self.base(), off) },
            None => 0,
        }
    }

    /// Sets an `int` field (ignored where this major lacks it).
    pub(crate) fn set_int(&mut self, field: IntField, value: c_int) {
        if let Some(off) = self.int_offset(field) {
            // SAFETY: as in `int`; the frame is owned here.
            unsafe { write::<c_int>(self.ptr.as_ptr().cast(), off, value) };
        }
    }

    /// Picture width.
    pub(crate) fn width(&self) -> u32 {
        u32::try_from(self.int(IntField::Width)).unwrap_or(0)
    }

    /// Picture height.
    pub(crate) fn height(&self) -> u32 {
        u32::try_from(self.int(IntField::Height)).unwrap_or(0)
    }

    /// The pixel format's value (-1: none).
    pub(crate) fn format(&self) -> c_int {
        self.int(IntField::Format)
    }

    /// The pixel format's name.
    pub(crate) fn format_name(&self) -> &'static str {
        self.ff.pix_fmt_name(self.format())
    }

    /// The presentation timestamp.
    pub(crate) fn pts(&self) -> Option<i64> {
        let off = self.ff.layout.frame.pts?;
        // SAFETY: `pts` is an int64_t at this offset of a live AVFrame.
        let v = unsafe { read::<i64>(self.base(), off) };
        (v != NOPTS).then_some(v)
    }

    /// Sets the presentation timestamp.
    pub(crate) fn set_pts(&mut self, pts: Option<i64>) {
        if let Some(off) = self.ff.layout.frame.pts {
            // SAFETY: as in `pts`; the frame is owned here.
            unsafe { write::<i64>(self.ptr.as_ptr().cast(), off, pts.unwrap_or(NOPTS)) };
        }
    }

    /// Whether the decoder marked this picture a keyframe.
    pub(crate) fn is_key(&self) -> bool {
        match self.ff.layout.frame.key_frame {
            // Majors with `key_frame` still set both; the field is the older one.
            // SAFETY: `key_frame` is an int at this offset of a live AVFrame.
            Some(off) => unsafe { read::<c_int>(self.base(), off) != 0 },
            None => self.int(IntField::Flags) & FLAG_KEY != 0,
        }
    }

    /// The crop rectangle: left, right, top, bottom.
    pub(crate) fn crop(&self) -> (usize, usize, usize, usize) {
        let l = &self.ff.layout.frame;
        let get = |off: Option<usize>| match off {
            // SAFETY: the crop fields are size_t at these offsets of a live AVFrame.
            Some(off) => unsafe { read::<usize>(self.base(), off) },
            None => 0,
        };
        (get(l.crop_left), get(l.crop_right), get(l.crop_top), get(l.crop_bottom))
    }

    /// Sets the crop rectangle: left, right, top, bottom.
    pub(crate) fn set_crop(&mut self, crop: (usize, usize, usize, usize)) {
        let l = self.ff.layout.frame;
        let base = self.ptr.as_ptr().cast::<c_void>();
        for (off, v) in [(l.crop_left, crop.0), (l.crop_right, crop.1), (l.crop_top, crop.2), (l.crop_bottom, crop.3)] {
            if let Some(off) = off {
                // SAFETY: as in `crop`; the frame is owned here.
                unsafe { write::<usize>(base, off, v) };
            }
        }
    }

    /// `linesize[i]`.
    pub(crate) fn linesize(&self, i: usize) -> c_int {
        match self.ff.layout.frame.linesize {
            // SAFETY: linesize is int[8] at this offset of a live AVFrame.
            Some(off) if i < 8 => unsafe { read::<c_int>(self.base(), off + i * 4) },
            _ => 0,
        }
    }

    /// `data[i]`.
    pub(crate) fn data_ptr(&self, i: usize) -> *mut u8 {
        match self.ff.layout.frame.data {
            // SAFETY: data is uint8_t *[8] at this offset of a live AVFrame.
            Some(off) if i < 8 => unsafe { read::<*mut u8>(self.base(), off + i * std::mem::size_of::<*mut u8>()) },
            _ => std::ptr::null_mut(),
        }
    }

    /// Bytes from one row of plane `i` to the next (0 if flipped or absent).
    pub(crate) fn stride(&self, i: usize) -> usize {
        usize::try_from(self.linesize(i)).unwrap_or(0)
    }

    /// The number of planes of the frame's pixel format (0 for hardware surfaces).
    pub(crate) fn planes(&self) -> usize {
        match self.ff.pix_desc(self.format()) {
            Some(d) if !d.is_hwaccel() => d.planes(),
            _ => 0,
        }
    }

    /// Rows of plane `i`.
    pub(crate) fn plane_height(&self, i: usize) -> usize {
        let h = self.height() as usize;
        match self.ff.pix_desc(self.format()) {
            // Chroma planes of YUV formats are subsampled (not alpha: plane 3).
            Some(d) if (i == 1 || i == 2) && !d.is_rgb() => {
                let s = d.log2_chroma_h as u32;
                (h + (1 << s) - 1) >> s
            }
            _ => h,
        }
    }

    /// Plane `i`'s bytes: `stride(i) * plane_height(i)` (empty if absent or flipped).
    pub(crate) fn data(&self, i: usize) -> &[u8] {
        let (p, stride) = (self.data_ptr(i), self.stride(i));
        if p.is_null() || stride == 0 || i >= self.planes() {
            return &[];
        }
        // SAFETY: FFmpeg allocates plane i with `linesize[i]` bytes for each of its rows;
        // the frame lives as long as the borrow.
        unsafe { std::slice::from_raw_parts(p, stride * self.plane_height(i)) }
    }

    /// Plane `i`'s bytes, writable (the frame must own writable buffers, as
    /// [`Frame::new_video`] gives).
    pub(crate) fn data_mut(&mut self, i: usize) -> &mut [u8] {
        let (p, stride) = (self.data_ptr(i), self.stride(i));
        if p.is_null() || stride == 0 || i >= self.planes() {
            return &mut [];
        }
        // SAFETY: as in `data`, borrowed mutably through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(p, stride * self.plane_height(i)) }
    }

    /// Releases the frame's buffers (the frame can be reused).
    pub(crate) fn unref(&mut self) {
        // SAFETY: the frame is live and owned here.
        unsafe { (self.ff.fns.av_frame_unref)(self.ptr.as_ptr()) };
    }

    /// Whether the frame's buffers are its own to write (not shared with an encoder).
    pub(crate) fn is_writable(&mut self) -> bool {
        // SAFETY: the frame is live and owned here.
        unsafe { (self.ff.fns.av_frame_is_writable)(self.ptr.as_ptr()) > 0 }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        let mut p = self.ptr.as_ptr();
        // SAFETY: frees the frame allocated in `empty`, once.
        unsafe { (self.ff.fns.av_frame_free)(&mut p) };
    }
}

/// What `AVPixFmtDescriptor` says of a pixel format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PixDesc {
    /// Components (Y, U, V, alpha…).
    pub nb_components: u8,
    /// Chroma subsampling, log2 of the vertical factor.
    pub log2_chroma_h: u8,
    /// `AV_PIX_FMT_FLAG_*`.
    pub flags: u64,
    /// Each component's plane and bit depth.
    pub comp: [(u8, u8); 4],
}

impl PixDesc {
    /// Bits per sample of the first component.
    pub(crate) fn depth(&self) -> u8 {
        self.comp[0].1
    }

    /// Planes used.
    pub(crate) fn planes(&self) -> usize {
        self.comp[..usize::from(self.nb_components.min(4))].iter().map(|c| usize::from(c.0) + 1).max().unwrap_or(0)
    }

    /// A hardware surface format.
    pub(crate) fn is_hwaccel(&self) -> bool {
        self.flags & (1 << 3) != 0
    }

    /// An RGB format.
    pub(crate) fn is_rgb(&self) -> bool {
        self.flags & (1 << 5) != 0
    }
}

impl Ffmpeg {
    /// The descriptor of pixel format `fmt`.
    pub(crate) fn pix_desc(&self, fmt: c_int) -> Option<PixDesc> {
        // SAFETY: returns a pointer to a static descriptor, or null.
        let d = unsafe { (self.fns.av_pix_fmt_desc_get)(fmt) };
        if d.is_null() {
            return None;
        }
        let l = &self.layout.pix_fmt_descriptor;
        let c = &self.layout.component;
        let base = d.cast::<c_void>();
        // SAFETY: `d` points to a static AVPixFmtDescriptor of the loaded major: a name
        // pointer, uint8_t counts, a uint64_t of flags and AVComponentDescriptor[4] (ints).
        unsafe {
            let mut comp = [(0u8, 0u8); 4];
            for (i, slot) in comp.iter_mut().enumerate() {
                let at = base.cast::<u8>().add(l.comp? + i * c.struct_size).cast::<c_void>();
                let plane = read::<c_int>(at, c.plane?);
                let depth = read::<c_int>(at, c.depth?);
                *slot = (u8::try_from(plane).unwrap_or(0), u8::try_from(depth).unwrap_or(0));
            }
            Some(PixDesc {
                nb_components: read::<u8>(base, l.nb_components?),
                log2_chroma_h: read::<u8>(base, l.log2_chroma_h?),
                flags: read::<u64>(base, l.flags?),
                comp,
            })
        }
    }
}
