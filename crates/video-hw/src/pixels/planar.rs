//! A decoded picture's planes in host memory, as a software decoder leaves them, to the
//! pixels a session asked for ([`Output`]): shared by the engines that decode on the CPU
//! (libavcodec, rav1d).
//!
//! Four 4:2:0 source layouts are read directly: planar 8-bit (`yuv420p`), planar 16-bit
//! words holding 10-bit values in their low bits (`yuv420p10le`, also dav1d's layout), and
//! the semi-planar `nv12` / `p010le` that hardware decoders download; for RGB output also
//! planar 4:2:2 and 4:4:4 at 8 and 10 bits, converted at their full chroma resolution. The
//! caller points [`Source`] at the visible rectangle (crop applied). RGB is made by the
//! conversion every host path shares (`transform::rgb`: chroma at its siting, 10-bit
//! samples as they are).

use crate::codec::{ColorInfo, MatrixCoefficients as M, PixelFormat};
use crate::config::Output;
use crate::error::{Error, Result};
use crate::frame::{FrameData, HostFrame};
use crate::pixels::convert::{self, I420Ref, PlaneRef, YuvMatrix};
use crate::pixels::transform::rgb::{self, Spread, Src, Store, YuvSource};

/// How the samples of a source picture lie in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Three planes, 8-bit samples (yuv420p, yuvj420p).
    I420,
    /// Three planes, 16-bit little-endian words holding the value in the low 10 bits.
    I420P10,
    /// Y plane and interleaved UV plane, 8-bit (nv12).
    Nv12,
    /// Y plane and interleaved UV plane, 16-bit words with the value in the high 10 bits.
    P010,
    /// Three planes, chroma of half the width (4:2:2) or full size (4:4:4, `full` true),
    /// 8-bit samples or (`wide`) 16-bit words holding the value in their low bits. Read
    /// for RGB output only (no output format of this crate keeps that chroma).
    Planar { full: bool, wide: bool },
}

impl Layout {
    /// Bits per sample.
    pub(crate) fn depth(self) -> u8 {
        match self {
            Layout::I420 | Layout::Nv12 | Layout::Planar { wide: false, .. } => 8,
            Layout::I420P10 | Layout::P010 | Layout::Planar { wide: true, .. } => 10,
        }
    }

    /// Bytes per sample in memory.
    pub(crate) fn bytes_per_sample(self) -> usize {
        if self.depth() > 8 { 2 } else { 1 }
    }

    /// Planes: three for planar layouts, two for semi-planar ones.
    pub(crate) fn plane_count(self) -> usize {
        if matches!(self, Layout::Nv12 | Layout::P010) { 2 } else { 3 }
    }

    /// Whether chroma has half the columns, and half the rows, of luma.
    pub(crate) fn halves(self) -> (bool, bool) {
        match self {
            Layout::Planar { full, .. } => (!full, false),
            _ => (true, true),
        }
    }

    /// This crate's name for the same memory layout (none for 4:2:2 and 4:4:4).
    pub(crate) fn pixel_format(self) -> Option<PixelFormat> {
        Some(match self {
            Layout::I420 => PixelFormat::Yuv420p,
            Layout::I420P10 => PixelFormat::Yuv420p10,
            Layout::Nv12 => PixelFormat::Nv12,
            Layout::P010 => PixelFormat::P010,
            Layout::Planar { .. } => return None,
        })
    }

    /// Byte offset of visible sample (`left`, `top`) in plane `i` with rows `stride` bytes
    /// apart: chroma planes have half the rows and (planar) half the columns of luma where
    /// [`halves`](Self::halves) says; an interleaved UV pair is as wide as two luma samples.
    pub(crate) fn offset(self, i: usize, left: u32, top: u32, stride: usize) -> usize {
        let bps = self.bytes_per_sample();
        let (hx, hy) = self.halves();
        let (cx, cy) = (left as usize >> u32::from(hx), top as usize >> u32::from(hy));
        let (x, y) = match i {
            0 => (left as usize * bps, top as usize),
            _ if self.plane_count() == 3 => (cx * bps, cy),
            _ => (cx * 2 * bps, cy),
        };
        y * stride + x
    }
}

/// The visible part of a source picture: its planes from the first visible sample on.
pub(crate) struct Source<'a> {
    /// How the samples lie.
    pub layout: Layout,
    /// Y, then U and V (planar) or UV (semi-planar).
    pub planes: Vec<PlaneRef<'a>>,
    /// Visible width.
    pub width: u32,
    /// Visible height.
    pub height: u32,
}

impl<'a> Source<'a> {
    /// Visible luma columns and rows.
    pub(crate) fn luma_size(&self) -> (usize, usize) {
        (self.width as usize, self.height as usize)
    }

    /// Visible chroma columns and rows.
    pub(crate) fn chroma_size(&self) -> (usize, usize) {
        let (hx, hy) = self.layout.halves();
        let (w, h) = (self.width as usize, self.height as usize);
        (if hx { w.div_ceil(2) } else { w }, if hy { h.div_ceil(2) } else { h })
    }

    /// Bytes of one visible row of plane `i`, and its rows (UV interleaved in plane 1 of
    /// the semi-planar layouts).
    pub(crate) fn plane_extent(&self, i: usize) -> (usize, usize) {
        let ((w, h), (cw, ch)) = (self.luma_size(), self.chroma_size());
        let bps = self.layout.bytes_per_sample();
        match (i, self.layout) {
            (0, _) => (w * bps, h),
            (_, Layout::Nv12 | Layout::P010) => (2 * cw * bps, ch),
            _ => (cw * bps, ch),
        }
    }

    /// The 8-bit planar view (I420 sources only).
    fn i420(&self) -> Result<I420Ref<'a>> {
        I420Ref::new(self.planes[0], self.planes[1], self.planes[2], self.width, self.height)
    }

    /// Every sample as a 16-bit value (the sample value, not shifted), tightly packed:
    /// Y, U, V.
    fn unpack16(&self) -> Result<[Vec<u16>; 3]> {
        let (w, h) = self.luma_size();
        let (cw, ch) = self.chroma_size();
        let read = |plane: PlaneRef<'_>, row_samples: usize, rows: usize, step: usize, first: usize, shift: u32| {
            let row_bytes = row_samples * step * 2;
            let mut out = Vec::with_capacity(row_samples * rows);
            for r in 0..rows {
                let row = plane
                    .data
                    .get(r * plane.stride..r * plane.stride + row_bytes)
                    .ok_or_else(|| Error::backend("decoder", "frame", "decoded plane smaller than its picture"))?;
                out.extend(
                    row.chunks_exact(2 * step).map(|s| u16::from_le_bytes([s[2 * first], s[2 * first + 1]]) >> shift),
                );
            }
            Ok::<_, Error>(out)
        };
        match self.layout {
            Layout::I420P10 => Ok([
                read(self.planes[0], w, h, 1, 0, 0)?,
                read(self.planes[1], cw, ch, 1, 0, 0)?,
                read(self.planes[2], cw, ch, 1, 0, 0)?,
            ]),
            Layout::P010 => Ok([
                read(self.planes[0], w, h, 1, 0, 6)?,
                read(self.planes[1], cw, ch, 2, 0, 6)?,
                read(self.planes[1], cw, ch, 2, 1, 6)?,
            ]),
            _ => Err(Error::backend("decoder", "frame", "not a 4:2:0 10-bit picture")),
        }
    }
}

/// Converts `src` to the pixels `output` asks for; `color` is the picture's colour
/// description (for RGB output), `spread` where an RGB conversion runs (the engine's
/// choice: it knows whether its own threads hold the cores), `engine` names the engine in
/// refusals. Returns the frame's format and data.
pub(crate) fn to_output(
    src: &Source<'_>,
    output: Output,
    color: &ColorInfo,
    spread: Spread,
    engine: &str,
) -> Result<(PixelFormat, FrameData)> {
    let asked = match output {
        Output::Host(f) => f,
        Output::Metadata => return Ok((metadata_format(src.layout.depth()), FrameData::None)),
        Output::Device(..) => {
            return Err(Error::unsupported(
                format!("{output:?} output with {engine}"),
                format!("{engine} decodes to host memory only"),
            ));
        }
    };
    let target = output.format_for_depth(src.layout.depth()).unwrap_or(asked);
    Ok((target, FrameData::Host(convert_source(src, target, color, spread)?)))
}

/// The format a metadata-only frame reports: the planar layout at `depth`.
pub(crate) fn metadata_format(depth: u8) -> PixelFormat {
    if depth > 8 { PixelFormat::Yuv420p10 } else { PixelFormat::Yuv420p }
}

/// Writes `src` as a tightly packed `target` picture.
fn convert_source(src: &Source<'_>, target: PixelFormat, color: &ColorInfo, spread: Spread) -> Result<HostFrame> {
    let (w, h) = src.luma_size();
    let (cw, ch) = src.chroma_size();
    if !target.is_yuv() {
        return rgb_of(src, target, color, spread);
    }
    // Same layout: plain row copies.
    if Some(target) == src.layout.pixel_format() {
        let mut out = HostFrame::for_output(target, src.width, src.height);
        let planes = out.planes().to_vec();
        let buf = out.as_bytes_mut();
        for (i, (p, dst)) in src.planes.iter().zip(&planes).enumerate() {
            let (row_bytes, rows) = src.plane_extent(i);
            convert::copy_plane(*p, row_bytes, rows, &mut buf[dst.offset..])?;
        }
        return Ok(out);
    }
    // Not used for YUV outputs.
    let matrix = YuvMatrix::new(M::BT709, color.range)?;
    match src.layout {
        // Software decoders' 8-bit output: every 8-bit target.
        Layout::I420 => convert::i420_to_host(&src.i420()?, target, &matrix),
        Layout::Nv12 => {
            let mut planar = vec![0u8; w * h + 2 * cw * ch];
            let (y, rest) = planar.split_at_mut(w * h);
            let (u, v) = rest.split_at_mut(cw * ch);
            convert::copy_plane(src.planes[0], w, h, y)?;
            convert::deinterleave_uv(src.planes[1], cw, ch, u, v)?;
            let (y, u, v) = (&planar[..w * h], &planar[w * h..w * h + cw * ch], &planar[w * h + cw * ch..]);
            convert::i420_to_host(&I420Ref::packed(y, u, v, src.width, src.height)?, target, &matrix)
        }
        Layout::I420P10 | Layout::P010 => {
            let [y, u, v] = src.unpack16()?;
            match target {
                PixelFormat::Yuv420p10 | PixelFormat::P010 => Ok(pack10(&y, &u, &v, src.width, src.height, target)),
                _ => {
                    // 8-bit YUV targets: the samples rounded to 8 bits.
                    let to8 = |p: &[u16]| p.iter().map(|&s| ((s + 2) >> 2).min(255) as u8).collect::<Vec<u8>>();
                    let (y, u, v) = (to8(&y), to8(&u), to8(&v));
                    convert::i420_to_host(&I420Ref::packed(&y, &u, &v, src.width, src.height)?, target, &matrix)
                }
            }
        }
        Layout::Planar { .. } => {
            Err(Error::unsupported(format!("{target} output of a 4:2:2 or 4:4:4 picture"), "RGB output"))
        }
    }
}

/// `src` to the RGB `target` through the conversion every host path shares, from the
/// samples as they are (10-bit ones, full-resolution chroma), on the threads `spread` says.
fn rgb_of(src: &Source<'_>, target: PixelFormat, color: &ColorInfo, spread: Spread) -> Result<HostFrame> {
    let store = match src.layout {
        Layout::I420 | Layout::Nv12 | Layout::Planar { wide: false, .. } => Store::U8,
        Layout::I420P10 | Layout::Planar { wide: true, .. } => Store::U16Low,
        Layout::P010 => Store::U16High,
    };
    let plane = |i: usize, step: usize, phase: usize| {
        let p = src.planes[i];
        Src { data: p.data, offset: 0, stride: p.stride, store, step, phase }
    };
    let planes = match src.layout.plane_count() {
        2 => [plane(0, 1, 0), plane(1, 2, 0), plane(1, 2, 1)],
        _ => [plane(0, 1, 0), plane(1, 1, 0), plane(2, 1, 0)],
    };
    let (half_width, half_height) = src.layout.halves();
    let source =
        YuvSource { planes, depth: src.layout.depth(), half_width, half_height, width: src.width, height: src.height };
    rgb::convert_whole(&source, color, target, spread)
}

/// Packs 10-bit sample values as `yuv420p10le` (value in the low bits) or `p010le`
/// (interleaved chroma, value in the high bits).
fn pack10(y: &[u16], u: &[u16], v: &[u16], width: u32, height: u32, target: PixelFormat) -> HostFrame {
    let mut out = HostFrame::for_output(target, width, height);
    let planes = out.planes().to_vec();
    let buf = out.as_bytes_mut();
    let put = |dst: &mut [u8], samples: &mut dyn Iterator<Item = u16>| {
        for (pair, s) in dst.chunks_exact_mut(2).zip(samples) {
            pair.copy_from_slice(&s.to_le_bytes());
        }
    };
    let y_end = planes[0].offset + y.len() * 2;
    if target == PixelFormat::P010 {
        put(&mut buf[planes[0].offset..y_end], &mut y.iter().map(|&s| s << 6));
        let uv = &mut buf[planes[1].offset..];
        put(uv, &mut u.iter().zip(v).flat_map(|(&a, &b)| [a << 6, b << 6]));
    } else {
        put(&mut buf[planes[0].offset..y_end], &mut y.iter().copied());
        put(&mut buf[planes[1].offset..], &mut u.iter().copied());
        put(&mut buf[planes[2].offset..], &mut v.iter().copied());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tightly packed source of `layout`, `w` x `h`, from `fill(plane, x, row)`.
    fn planes(layout: Layout, w: usize, h: usize, fill: impl Fn(usize, usize, usize) -> u16) -> Vec<Vec<u8>> {
        let bps = layout.bytes_per_sample();
        (0..layout.plane_count())
            .map(|i| {
                let (cols, rows) = match i {
                    0 => (w, h),
                    _ if layout.plane_count() == 3 => (w.div_ceil(2), h.div_ceil(2)),
                    _ => (2 * w.div_ceil(2), h.div_ceil(2)),
                };
                let mut p = Vec::with_capacity(cols * rows * bps);
                for r in 0..rows {
                    for x in 0..cols {
                        let v = fill(i, x, r);
                        if bps == 2 { p.extend(v.to_le_bytes()) } else { p.push(v as u8) }
                    }
                }
                p
            })
            .collect()
    }

    fn source<'a>(layout: Layout, data: &'a [Vec<u8>], w: u32, h: u32) -> Source<'a> {
        let bps = layout.bytes_per_sample();
        let planes = data
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let cols = match i {
                    0 => w as usize,
                    _ if layout.plane_count() == 3 => (w as usize).div_ceil(2),
                    _ => 2 * (w as usize).div_ceil(2),
                };
                PlaneRef::new(p, cols * bps)
            })
            .collect();
        Source { layout, planes, width: w, height: h }
    }

    #[test]
    fn ten_bit_becomes_p010_and_back() {
        let data = planes(Layout::I420P10, 4, 2, |p, x, _| (p * 300 + x) as u16);
        let src = source(Layout::I420P10, &data, 4, 2);
        let (fmt, data) = to_output(&src, Output::HOST_NV12, &ColorInfo::default(), Spread::Caller, "test").unwrap();
        assert_eq!(fmt, PixelFormat::P010);
        let FrameData::Host(h) = data else { panic!() };
        let y: Vec<u16> = h.as_bytes()[..16].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(y, [0, 64, 128, 192, 0, 64, 128, 192]);
        let uv: Vec<u16> = h.as_bytes()[16..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]]) >> 6).collect();
        assert_eq!(uv, [300, 600, 301, 601]);

        let (fmt, data) = to_output(&src, Output::HOST_YUV420P, &ColorInfo::default(), Spread::Caller, "test").unwrap();
        assert_eq!(fmt, PixelFormat::Yuv420p10);
        let FrameData::Host(h) = data else { panic!() };
        assert_eq!(h.as_bytes().len(), 2 * (8 + 2 + 2));
    }

    #[test]
    fn nv12_source_to_planar_and_rgb() {
        let data = planes(Layout::Nv12, 4, 2, |p, x, _| match (p, x % 2) {
            (0, _) => 100,
            (_, 0) => 110,
            _ => 120,
        });
        let src = source(Layout::Nv12, &data, 4, 2);
        let (_, data) = to_output(&src, Output::HOST_YUV420P, &ColorInfo::default(), Spread::Caller, "test").unwrap();
        let FrameData::Host(h) = data else { panic!() };
        assert_eq!(h.as_bytes(), &[100, 100, 100, 100, 100, 100, 100, 100, 110, 110, 120, 120]);
        let (fmt, _) = to_output(&src, Output::HOST_RGB24, &ColorInfo::default(), Spread::Caller, "test").unwrap();
        assert_eq!(fmt, PixelFormat::Rgb24);
    }

    #[test]
    fn offsets_point_at_the_visible_sample() {
        assert_eq!(Layout::I420.offset(0, 3, 2, 100), 203);
        assert_eq!(Layout::I420P10.offset(1, 4, 2, 100), 104);
        assert_eq!(Layout::P010.offset(1, 4, 2, 100), 108);
    }

    #[test]
    fn cuda_output_is_refused() {
        let data = planes(Layout::I420, 2, 2, |_, _, _| 0);
        let src = source(Layout::I420, &data, 2, 2);
        let e = to_output(&src, Output::CUDA_NV12, &ColorInfo::default(), Spread::Caller, "rav1d").unwrap_err();
        assert!(e.to_string().contains("rav1d decodes to host memory only"), "{e}");
    }
}
