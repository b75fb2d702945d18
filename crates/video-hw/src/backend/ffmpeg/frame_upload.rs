//! Host frames into `AVFrame`s an encoder takes: the encoder's own software pixel format
//! (copied, or converted: NV12 ↔ I420, P010 ↔ yuv420p10le, RGB → I420), and for VA-API
//! one more step, an upload into a surface of the encoder's `hw_frames_ctx`.

use std::ffi::{CString, c_int};
use std::ptr;

use super::common::{self, AvError, av_error};
use super::sys::Ffmpeg;
use super::sys::codec::{CodecContext, CtxInt, Dictionary};
use super::sys::fns::AVBufferRef;
use super::sys::frame::Frame as AvFrame;
use super::sys::layout::write;
use crate::codec::{ColorInfo, PixelFormat};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::HostFrame;
use crate::pixels::convert::{self, YuvMatrix};

/// The software pixel formats frames are handed to encoders in (FFmpeg's numbers for them
/// differ between majors: [`Pixel::value`] looks them up by name).
#[allow(clippy::upper_case_acronyms, reason = "FFmpeg's names of the formats")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pixel {
    /// `yuv420p`.
    YUV420P,
    /// `nv12`.
    NV12,
    /// `p010le`.
    P010LE,
    /// `yuv420p10le`.
    YUV420P10LE,
}

impl Pixel {
    /// FFmpeg's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Pixel::YUV420P => "yuv420p",
            Pixel::NV12 => "nv12",
            Pixel::P010LE => "p010le",
            Pixel::YUV420P10LE => "yuv420p10le",
        }
    }

    /// The format of FFmpeg's `name`, if it is one of these.
    pub(crate) fn from_name(name: &str) -> Option<Pixel> {
        [Pixel::YUV420P, Pixel::NV12, Pixel::P010LE, Pixel::YUV420P10LE].into_iter().find(|p| p.name() == name)
    }

    /// The loaded FFmpeg's number for it.
    pub(crate) fn value(self, ff: &Ffmpeg) -> Result<c_int> {
        ff.pix_fmt(self.name())
            .ok_or_else(|| Error::unsupported(format!("{} frames", self.name()), "this FFmpeg lacks the format"))
    }
}

/// The software formats an encoder could be fed for `input`, best first.
fn candidates(input: PixelFormat) -> [Pixel; 2] {
    match input {
        PixelFormat::Nv12 => [Pixel::NV12, Pixel::YUV420P],
        PixelFormat::P010 => [Pixel::P010LE, Pixel::YUV420P10LE],
        PixelFormat::Yuv420p10 => [Pixel::YUV420P10LE, Pixel::P010LE],
        // Yuv420p, and the RGB layouts that `EncoderConfig::validate` lets through
        // (converted to I420 on the way in).
        _ => [Pixel::YUV420P, Pixel::NV12],
    }
}

/// The format to hand an encoder that takes `supported` (its `pix_fmts`; empty when it
/// does not say) for frames of `input`; `Unsupported` naming the encoder otherwise.
pub(crate) fn choose_format(encoder: &str, input: PixelFormat, supported: &[Pixel]) -> Result<Pixel> {
    let c = candidates(input);
    if supported.is_empty() {
        return Ok(c[0]);
    }
    c.into_iter().find(|p| supported.contains(p)).ok_or_else(|| {
        let names: Vec<&str> = supported.iter().map(|p| p.name()).collect();
        Error::unsupported(format!("{input} input with {encoder}"), format!("{encoder} takes {}", names.join(", ")))
    })
}

/// The VA-API surface format for `input`: NV12 for 8-bit, P010 for 10-bit.
pub(crate) fn surface_format(input: PixelFormat) -> Pixel {
    if input.bit_depth() > 8 { Pixel::P010LE } else { Pixel::NV12 }
}

/// Copies `rows` rows of `row_bytes` from `src` (stride `src_stride`) into `dst` (stride `dst_stride`).
fn copy_rows(src: &[u8], src_stride: usize, dst: &mut [u8], dst_stride: usize, row_bytes: usize, rows: usize) {
    for r in 0..rows {
        dst[r * dst_stride..][..row_bytes].copy_from_slice(&src[r * src_stride..][..row_bytes]);
    }
}

/// Writes host pictures into reusable `AVFrame`s of one software format.
pub(crate) struct FrameWriter {
    input: PixelFormat,
    target: Pixel,
    width: u32,
    height: u32,
    frame: AvFrame,
    ff: &'static Ffmpeg,
    /// RGB input: the matrix it is converted with.
    matrix: Option<YuvMatrix>,
    scratch: Vec<u8>,
}

impl FrameWriter {
    /// A writer of `input` pictures of `width`×`height` as `target` (one of
    /// [`choose_format`]'s answers); RGB input is converted with `color`'s matrix.
    pub fn new(input: PixelFormat, target: Pixel, width: u32, height: u32, color: &ColorInfo) -> Result<Self> {
        let matrix = match input {
            PixelFormat::Bgra | PixelFormat::Rgb24 | PixelFormat::RgbPlanar => Some(YuvMatrix::for_color(color)?),
            _ => None,
        };
        let ff = common::ffmpeg(format!("{input} frames for an FFmpeg encoder"))?;
        let frame = new_frame(ff, target, width, height)?;
        Ok(FrameWriter { input, target, width, height, frame, ff, matrix, scratch: Vec::new() })
    }

    /// Writes `host` into the frame and returns it. When the encoder still holds the
    /// previous picture (its buffer is shared), a new buffer is taken instead of waiting.
    pub fn write(&mut self, host: &HostFrame) -> Result<&mut AvFrame> {
        // `make_writable` would copy the old picture first: a fresh frame is cheaper.
        if !self.frame.is_writable() {
            self.frame = new_frame(self.ff, self.target, self.width, self.height)?;
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let buf = host.as_bytes();
        let plane = |i: usize| {
            let p = host.plane(i);
            (&buf[p.offset..], p.stride)
        };
        let f = &mut self.frame;
        match (self.input, self.target) {
            (PixelFormat::Yuv420p, Pixel::YUV420P) | (PixelFormat::Yuv420p10, Pixel::YUV420P10LE) => {
                let bps = self.input.bytes_per_sample();
                for (i, (rb, rows)) in [(w * bps, h), (cw * bps, ch), (cw * bps, ch)].into_iter().enumerate() {
                    let (src, ss) = plane(i);
                    let ds = f.stride(i);
                    copy_rows(src, ss, f.data_mut(i), ds, rb, rows);
                }
            }
            (PixelFormat::Nv12, Pixel::NV12) | (PixelFormat::P010, Pixel::P010LE) => {
                let bps = self.input.bytes_per_sample();
                for (i, (rb, rows)) in [(w * bps, h), (cw * 2 * bps, ch)].into_iter().enumerate() {
                    let (src, ss) = plane(i);
                    let ds = f.stride(i);
                    copy_rows(src, ss, f.data_mut(i), ds, rb, rows);
                }
            }
            (PixelFormat::Nv12, Pixel::YUV420P) => {
                let (y, ys) = plane(0);
                let ds = f.stride(0);
                copy_rows(y, ys, f.data_mut(0), ds, w, h);
                let (uv, uvs) = plane(1);
                for (dst_plane, off) in [(1usize, 0usize), (2, 1)] {
                    let ds = f.stride(dst_plane);
                    let dst = f.data_mut(dst_plane);
                    for r in 0..ch {
                        let s = &uv[r * uvs..][..cw * 2];
                        for (d, pair) in dst[r * ds..][..cw].iter_mut().zip(s.chunks_exact(2)) {
                            *d = pair[off];
                        }
                    }
                }
            }
            (PixelFormat::P010, Pixel::YUV420P10LE) => {
                let (y, ys) = plane(0);
                let ds = f.stride(0);
                let dst = f.data_mut(0);
                for r in 0..h {
                    shift_row(&y[r * ys..][..w * 2], &mut dst[r * ds..][..w * 2], 1, 0, 6, false);
                }
                let (uv, uvs) = plane(1);
                for (dst_plane, off) in [(1usize, 0usize), (2, 1)] {
                    let ds = f.stride(dst_plane);
                    let dst = f.data_mut(dst_plane);
                    for r in 0..ch {
                        shift_row(&uv[r * uvs..][..cw * 4], &mut dst[r * ds..][..cw * 2], 2, off, 6, false);
                    }
                }
            }
            (PixelFormat::Yuv420p, Pixel::NV12) => {
                let (y, ys) = plane(0);
                let ds = f.stride(0);
                copy_rows(y, ys, f.data_mut(0), ds, w, h);
                let ((u, us), (v, vs)) = (plane(1), plane(2));
                let ds = f.stride(1);
                interleave(u, us, v, vs, f.data_mut(1), ds, cw, ch);
            }
            (PixelFormat::Yuv420p10, Pixel::P010LE) => {
                let (y, ys) = plane(0);
                let ds = f.stride(0);
                let dst = f.data_mut(0);
                for r in 0..h {
                    shift_row(&y[r * ys..][..w * 2], &mut dst[r * ds..][..w * 2], 1, 0, 6, true);
                }
                let ((u, us), (v, vs)) = (plane(1), plane(2));
                let ds = f.stride(1);
                let dst = f.data_mut(1);
                for r in 0..ch {
                    let row = &mut dst[r * ds..][..cw * 4];
                    for x in 0..cw {
                        for (k, (src, ss)) in [(u, us), (v, vs)].into_iter().enumerate() {
                            let s = u16::from_le_bytes([src[r * ss + 2 * x], src[r * ss + 2 * x + 1]]);
                            row[4 * x + 2 * k..][..2].copy_from_slice(&(s << 6).to_le_bytes());
                        }
                    }
                }
            }
            (PixelFormat::Bgra | PixelFormat::Rgb24 | PixelFormat::RgbPlanar, Pixel::YUV420P | Pixel::NV12) => {
                let matrix = self.matrix.as_ref().ok_or_else(|| Error::invalid_input("RGB input without a matrix"))?;
                convert::host_to_i420(host, self.input, self.width, self.height, matrix, &mut self.scratch)?;
                let (ys, rest) = self.scratch.split_at(w * h);
                let (us, vs) = rest.split_at(cw * ch);
                let ds = f.stride(0);
                copy_rows(ys, w, f.data_mut(0), ds, w, h);
                if self.target == Pixel::YUV420P {
                    for (i, src) in [(1usize, us), (2, vs)] {
                        let ds = f.stride(i);
                        copy_rows(src, cw, f.data_mut(i), ds, cw, ch);
                    }
                } else {
                    let ds = f.stride(1);
                    interleave(us, cw, vs, cw, f.data_mut(1), ds, cw, ch);
                }
            }
            (input, target) => {
                return Err(Error::unsupported(
                    format!("{input} input as {target:?}"),
                    "no conversion between these pixel formats",
                ));
            }
        }
        Ok(&mut self.frame)
    }
}

/// A frame with buffers for a `target` picture.
fn new_frame(ff: &'static Ffmpeg, target: Pixel, width: u32, height: u32) -> Result<AvFrame> {
    AvFrame::new_video(ff, target.value(ff)?, width, height)
        .map_err(|e| av_error(Engine::Ffmpeg, &format!("a {width}x{height} {} frame", target.name()), e))
}

/// Interleaves two chroma planes into an NV12 UV plane.
#[allow(clippy::too_many_arguments)]
fn interleave(u: &[u8], us: usize, v: &[u8], vs: usize, dst: &mut [u8], ds: usize, cw: usize, ch: usize) {
    for r in 0..ch {
        let (ur, vr) = (&u[r * us..][..cw], &v[r * vs..][..cw]);
        for (x, d) in dst[r * ds..][..cw * 2].chunks_exact_mut(2).enumerate() {
            d[0] = ur[x];
            d[1] = vr[x];
        }
    }
}

/// Copies every `step`-th 16-bit sample from `src` (starting at sample `offset`) into
/// consecutive samples of `dst`, shifted left (`left`) or right by `shift` bits.
fn shift_row(src: &[u8], dst: &mut [u8], step: usize, offset: usize, shift: u32, left: bool) {
    for (i, d) in dst.chunks_exact_mut(2).enumerate() {
        let at = 2 * (i * step + offset);
        let s = u16::from_le_bytes([src[at], src[at + 1]]);
        let v = if left { s << shift } else { s >> shift };
        d.copy_from_slice(&v.to_le_bytes());
    }
}

/// An owned `AVBufferRef` (a hardware device or frames context).
struct BufferRef(*mut AVBufferRef, &'static Ffmpeg);

// SAFETY: an AVBufferRef is reference counted with atomic counts, and the hardware
// contexts behind these refs are documented as usable from any thread (FFmpeg locks
// internally where needed); the pointer is only used by the owning encoder.
unsafe impl Send for BufferRef {}

impl Drop for BufferRef {
    fn drop(&mut self) {
        // SAFETY: the pointer came from av_hwdevice_ctx_create / av_hwframe_ctx_alloc and
        // is unreferenced exactly once, here.
        unsafe { (self.1.fns.av_buffer_unref)(&mut self.0) };
    }
}

/// An opened hardware device (`hw_device_ctx`).
pub(crate) struct HwDevice {
    buf: BufferRef,
}

impl HwDevice {
    /// Opens a device of `kind` (`AV_HWDEVICE_TYPE_*`) on `device` (a path, or none),
    /// with `options` (e.g. QSV's `child_device`); `engine` and `node` name a failure.
    pub fn open(
        engine: Engine,
        kind: &str,
        device: Option<&str>,
        options: &[(&str, &str)],
        node: &str,
    ) -> Result<Self> {
        let ff = common::ffmpeg(format!("{engine} encode"))?;
        let kind = ff.hw_device_type(kind).ok_or_else(|| {
            Error::unsupported(format!("{engine} encode"), format!("this FFmpeg has no {kind} device type"))
        })?;
        let c_device =
            device.map(CString::new).transpose().map_err(|_| Error::invalid_input("device path with a NUL byte"))?;
        let mut dict = Dictionary::new(ff);
        for (k, v) in options {
            dict.set(k, v).map_err(|e| av_error(engine, "device options", e))?;
        }
        let mut buf: *mut AVBufferRef = ptr::null_mut();
        // SAFETY: `buf` is a valid out pointer; the device string (or null) is a
        // NUL-terminated C string that outlives the call; av_hwdevice_ctx_create only
        // reads the options (freed when `dict` drops).
        let r = unsafe {
            (ff.fns.av_hwdevice_ctx_create)(
                &mut buf,
                kind,
                c_device.as_ref().map_or(ptr::null(), |d| d.as_ptr()),
                dict.as_ptr(),
                0,
            )
        };
        if r < 0 || buf.is_null() {
            return Err(Error::unsupported(
                format!("{engine} encode on {node}"),
                format!("{engine} device on {node} did not open: {}", AvError(r)),
            ));
        }
        Ok(HwDevice { buf: BufferRef(buf, ff) })
    }

    /// Gives the encoder context a reference to the device (before `avcodec_open2`).
    pub fn attach(&self, engine: Engine, ctx: &mut CodecContext) -> Result<()> {
        if !ctx.set_hw_device(self.buf.0) {
            return Err(av_error(engine, "av_buffer_ref", AvError::ENOMEM));
        }
        Ok(())
    }
}

/// A VA-API device and a pool of surfaces frames are uploaded into.
pub(crate) struct HwFrames {
    #[allow(dead_code)]
    device: HwDevice,
    frames: BufferRef,
    /// The render node, e.g. "/dev/dri/renderD128".
    pub node: String,
}

/// The DRM render nodes of this machine (`/dev/dri/renderD*`), sorted.
pub(crate) fn render_nodes() -> Vec<String> {
    let mut nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("renderD"))
                .map(|n| format!("/dev/dri/{n}"))
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    nodes
}

/// The render node for GPU `index`, or why there is none.
pub(crate) fn render_node(engine: Engine, index: u32) -> Result<String> {
    let nodes = render_nodes();
    if nodes.is_empty() {
        return Err(Error::unsupported(
            format!("{engine} encode"),
            format!("no /dev/dri/renderD* device ({engine} needs a DRM render node)"),
        ));
    }
    nodes.get(index as usize).cloned().ok_or_else(|| {
        Error::unsupported(
            format!("{engine} encode on GPU {index}"),
            format!("only {} render node(s): {}", nodes.len(), nodes.join(", ")),
        )
    })
}

impl HwFrames {
    /// Opens the VA-API device on `node` and a surface pool of `sw_format` pictures.
    pub fn vaapi(node: &str, sw_format: Pixel, width: u32, height: u32) -> Result<Self> {
        let engine = Engine::Vaapi;
        let device = HwDevice::open(engine, "vaapi", Some(node), &[], node)?;
        let ff = device.buf.1;
        let vaapi = ff
            .pix_fmt("vaapi")
            .ok_or_else(|| Error::unsupported("vaapi encode", "this FFmpeg lacks the vaapi pixel format"))?;
        let l = ff.layout.hw_frames;
        let (Some(f_format), Some(f_sw), Some(f_w), Some(f_h), Some(f_pool)) =
            (l.format, l.sw_format, l.width, l.height, l.initial_pool_size)
        else {
            return Err(Error::unsupported("vaapi encode", "AVHWFramesContext's layout is not known for this FFmpeg"));
        };
        // SAFETY: `device.buf.0` is a valid device context reference.
        let frames = unsafe { (ff.fns.av_hwframe_ctx_alloc)(device.buf.0) };
        if frames.is_null() {
            return Err(av_error(engine, "av_hwframe_ctx_alloc", AvError::ENOMEM));
        }
        let frames = BufferRef(frames, ff);
        let sw = sw_format.value(ff)?;
        // SAFETY: `frames.0->data` (the first field of AVBufferRef is `AVBuffer *buffer`,
        // the second `uint8_t *data`, in every major) is the AVHWFramesContext
        // av_hwframe_ctx_alloc made; it is filled in before av_hwframe_ctx_init, as the
        // API asks, through the loaded major's offsets.
        let r = unsafe {
            let ctx = *frames.0.cast::<*mut std::ffi::c_void>().add(1);
            write::<c_int>(ctx, f_format, vaapi);
            write::<c_int>(ctx, f_sw, sw);
            write::<c_int>(ctx, f_w, width as c_int);
            write::<c_int>(ctx, f_h, height as c_int);
            write::<c_int>(ctx, f_pool, 0);
            (ff.fns.av_hwframe_ctx_init)(frames.0)
        };
        if r < 0 {
            return Err(av_error(engine, &format!("VA-API surface pool {width}x{height} on {node}"), AvError(r)));
        }
        Ok(HwFrames { device, frames, node: node.to_string() })
    }

    /// Sets the encoder context up for surfaces of this pool (before `avcodec_open2`).
    pub fn attach(&self, ctx: &mut CodecContext) -> Result<()> {
        let ff = self.frames.1;
        let vaapi = ff.pix_fmt("vaapi").unwrap_or(-1);
        ctx.set_int(CtxInt::PixFmt, vaapi);
        if !ctx.set_hw_frames(self.frames.0) {
            return Err(av_error(Engine::Vaapi, "av_buffer_ref", AvError::ENOMEM));
        }
        Ok(())
    }

    /// Uploads `sw` (NV12/P010) into a new surface of the pool, with its properties (pts,
    /// picture type).
    pub fn upload(&self, sw: &AvFrame) -> Result<AvFrame> {
        let ff = self.frames.1;
        let mut hw = AvFrame::empty(ff).map_err(|e| av_error(Engine::Vaapi, "av_frame_alloc", e))?;
        // SAFETY: `hw` is an allocated empty AVFrame; av_hwframe_get_buffer fills it with a
        // surface of the pool; av_hwframe_transfer_data copies `sw` (a valid software frame
        // of the pool's sw_format and size) into it; av_frame_copy_props copies metadata.
        let r = unsafe {
            let r = (ff.fns.av_hwframe_get_buffer)(self.frames.0, hw.as_mut_ptr(), 0);
            if r < 0 {
                r
            } else {
                let r = (ff.fns.av_hwframe_transfer_data)(hw.as_mut_ptr(), sw.as_ptr(), 0);
                if r < 0 { r } else { (ff.fns.av_frame_copy_props)(hw.as_mut_ptr(), sw.as_ptr()) }
            }
        };
        if r < 0 {
            return Err(av_error(Engine::Vaapi, &format!("upload to a VA-API surface on {}", self.node), AvError(r)));
        }
        Ok(hw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(format: PixelFormat, w: u32, h: u32) -> HostFrame {
        let mut f = HostFrame::new_packed(format, w, h);
        for (i, b) in f.as_bytes_mut().iter_mut().enumerate() {
            *b = (i * 13 % 251) as u8;
        }
        if format.bit_depth() > 8 {
            // Keep samples in range: P010 in the high bits, yuv420p10 in the low bits.
            let high = format == PixelFormat::P010;
            for pair in f.as_bytes_mut().chunks_exact_mut(2) {
                let v = u16::from_le_bytes([pair[0], pair[1]]) & 0x3ff;
                pair.copy_from_slice(&(if high { v << 6 } else { v }).to_le_bytes());
            }
        }
        f
    }

    /// The frame's planes, rows without padding.
    fn packed(frame: &AvFrame, rows: &[(usize, usize)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &(rb, n)) in rows.iter().enumerate() {
            for r in 0..n {
                out.extend_from_slice(&frame.data(i)[r * frame.stride(i)..][..rb]);
            }
        }
        out
    }

    #[test]
    fn formats_are_chosen_from_what_the_encoder_takes() {
        assert_eq!(choose_format("libx265", PixelFormat::Nv12, &[Pixel::YUV420P]).unwrap(), Pixel::YUV420P);
        assert_eq!(choose_format("x", PixelFormat::Nv12, &[Pixel::YUV420P, Pixel::NV12]).unwrap(), Pixel::NV12);
        assert_eq!(choose_format("x", PixelFormat::P010, &[Pixel::YUV420P10LE]).unwrap(), Pixel::YUV420P10LE);
        let e = choose_format("libfoo", PixelFormat::P010, &[Pixel::YUV420P]).unwrap_err();
        assert!(e.to_string().contains("libfoo takes yuv420p"), "{e}");
    }

    #[test]
    fn conversions_round_trip() {
        if crate::backend::ffmpeg::test_ffmpeg().is_none() {
            return;
        }
        let (w, h) = (18u32, 10u32);
        let (cw, ch) = (9usize, 5usize);
        // NV12 → I420 and I420 → NV12 give each other's layouts.
        let nv12 = host(PixelFormat::Nv12, w, h);
        let mut to_i420 = FrameWriter::new(PixelFormat::Nv12, Pixel::YUV420P, w, h, &ColorInfo::default()).unwrap();
        let i420_bytes = packed(to_i420.write(&nv12).unwrap(), &[(18, 10), (cw, ch), (cw, ch)]);
        let i420 = HostFrame::from_packed(PixelFormat::Yuv420p, w, h, i420_bytes).unwrap();
        let mut to_nv12 = FrameWriter::new(PixelFormat::Yuv420p, Pixel::NV12, w, h, &ColorInfo::default()).unwrap();
        let back = packed(to_nv12.write(&i420).unwrap(), &[(18, 10), (18, ch)]);
        assert_eq!(back, nv12.as_bytes());
        // P010 → yuv420p10 → P010.
        let p010 = host(PixelFormat::P010, w, h);
        let mut a = FrameWriter::new(PixelFormat::P010, Pixel::YUV420P10LE, w, h, &ColorInfo::default()).unwrap();
        let planar = packed(a.write(&p010).unwrap(), &[(36, 10), (18, ch), (18, ch)]);
        let planar = HostFrame::from_packed(PixelFormat::Yuv420p10, w, h, planar).unwrap();
        let mut b = FrameWriter::new(PixelFormat::Yuv420p10, Pixel::P010LE, w, h, &ColorInfo::default()).unwrap();
        let back = packed(b.write(&planar).unwrap(), &[(36, 10), (36, ch)]);
        assert_eq!(back, p010.as_bytes());
        // Same format: a plain copy.
        let mut c = FrameWriter::new(PixelFormat::Yuv420p, Pixel::YUV420P, w, h, &ColorInfo::default()).unwrap();
        assert_eq!(packed(c.write(&i420).unwrap(), &[(18, 10), (cw, ch), (cw, ch)]), i420.as_bytes());
    }

    #[test]
    fn rgb_is_converted_like_the_crate_converter() {
        if crate::backend::ffmpeg::test_ffmpeg().is_none() {
            return;
        }
        let (w, h) = (8u32, 6u32);
        let rgb = host(PixelFormat::Rgb24, w, h);
        let color = ColorInfo::default();
        let mut wtr = FrameWriter::new(PixelFormat::Rgb24, Pixel::YUV420P, w, h, &color).unwrap();
        let got = packed(wtr.write(&rgb).unwrap(), &[(8, 6), (4, 3), (4, 3)]);
        let mut want = Vec::new();
        let m = YuvMatrix::for_color(&color).unwrap();
        convert::host_to_i420(&rgb, PixelFormat::Rgb24, w, h, &m, &mut want).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn no_render_node_is_a_named_reason() {
        if !render_nodes().is_empty() {
            return;
        }
        let e = render_node(Engine::Vaapi, 0).unwrap_err();
        assert!(e.to_string().contains("no /dev/dri/renderD* device"), "{e}");
    }
}
