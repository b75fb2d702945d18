//! Decoded FFmpeg pictures (host memory) to this crate's frames: the visible rectangle
//! (the decoder's crop, applied here to the exact sample, as ffmpeg's
//! `-flags unaligned` does), the pixel format the session asked for, and the colour
//! description.
//!
//! Sources read directly: `yuv420p` / `yuvj420p` and `yuv420p10le` (libavcodec's
//! software decoders), `nv12` and `p010le` (pictures downloaded from hardware). Any
//! other layout (4:0:0, 4:2:2, 4:4:4, 12-bit, …) goes through swscale to `yuv420p`, or
//! `yuv420p10le` when deeper than 8 bits, first. RGB output of a 10-bit picture is
//! made from its samples rounded to 8 bits.

use super::sys::Ffmpeg;
use super::sys::frame::{Frame as AvFrame, IntField};
use crate::codec::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, MatrixCoefficients as M, PixelFormat,
    TransferCharacteristics,
};
use crate::config::Output;
use crate::convert::{self, I420Ref, PlaneRef, YuvMatrix};
use crate::error::{Error, Result};
use crate::frame::{FrameData, HostFrame};

/// The displayed part of a decoded picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Visible {
    /// Columns skipped on the left.
    pub left: u32,
    /// Rows skipped at the top.
    pub top: u32,
    /// Displayed width.
    pub width: u32,
    /// Displayed height.
    pub height: u32,
}

/// The visible rectangle of `frame` from its crop fields (the whole picture when they
/// do not fit it; libavcodec already resets such crops).
pub(super) fn visible(frame: &AvFrame) -> Visible {
    let (l, r, t, b) = frame.crop();
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let fits = |a: usize, b: usize, size: usize| a.checked_add(b).is_some_and(|s| s < size);
    if fits(l, r, w) && fits(t, b, h) {
        Visible { left: l as u32, top: t as u32, width: (w - l - r) as u32, height: (h - t - b) as u32 }
    } else {
        Visible { left: 0, top: 0, width: w as u32, height: h as u32 }
    }
}

/// The colour description FFmpeg attached to `frame` (FFmpeg's enum values are the
/// H.273 code points this crate uses).
pub(super) fn color_of(frame: &AvFrame) -> ColorInfo {
    let (pri, trc, space, range, siting) = (
        frame.int(IntField::ColorPrimaries),
        frame.int(IntField::ColorTrc),
        frame.int(IntField::Colorspace),
        frame.int(IntField::ColorRange),
        frame.int(IntField::ChromaLocation),
    );
    let code = |v: i32| u8::try_from(v).unwrap_or(2);
    // AVCOL_RANGE_JPEG = 2.
    let full = range == 2 || frame.format_name() == "yuvj420p";
    ColorInfo {
        primaries: ColorPrimaries(code(pri)),
        transfer: TransferCharacteristics(code(trc)),
        matrix: MatrixCoefficients(code(space)),
        range: if full { ColorRange::Full } else { ColorRange::Limited },
        // AVChromaLocation is the H.273 type plus one (0 is unspecified).
        chroma_location: match siting {
            1..=6 => ChromaLocation::from_h273(siting as u32 - 1),
            _ => ChromaLocation::Unspecified,
        },
    }
}

/// Bits per sample of a pixel format (8 when unknown).
pub(super) fn depth_of(ff: &Ffmpeg, format: i32) -> u8 {
    ff.pix_desc(format).map(|d| d.depth()).filter(|&d| d > 0).unwrap_or(8)
}

/// How the samples of a source picture lie in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Three planes, 8-bit samples (yuv420p, yuvj420p).
    I420,
    /// Three planes, 16-bit little-endian words holding the value in the low 10 bits.
    I420P10,
    /// Y plane and interleaved UV plane, 8-bit (nv12).
    Nv12,
    /// Y plane and interleaved UV plane, 16-bit words with the value in the high 10 bits.
    P010,
}

impl Layout {
    /// By FFmpeg's name of the format (the numbers differ between majors).
    fn of(format: &str) -> Option<Layout> {
        Some(match format {
            "yuv420p" | "yuvj420p" => Layout::I420,
            "yuv420p10le" => Layout::I420P10,
            "nv12" => Layout::Nv12,
            "p010le" => Layout::P010,
            _ => return None,
        })
    }

    fn depth(self) -> u8 {
        match self {
            Layout::I420 | Layout::Nv12 => 8,
            Layout::I420P10 | Layout::P010 => 10,
        }
    }

    fn bytes_per_sample(self) -> usize {
        if self.depth() > 8 { 2 } else { 1 }
    }

    /// This crate's name for the same memory layout.
    fn pixel_format(self) -> PixelFormat {
        match self {
            Layout::I420 => PixelFormat::Yuv420p,
            Layout::I420P10 => PixelFormat::Yuv420p10,
            Layout::Nv12 => PixelFormat::Nv12,
            Layout::P010 => PixelFormat::P010,
        }
    }
}

/// The visible part of a source picture: its planes from the first visible sample on.
struct Source<'a> {
    layout: Layout,
    /// Y, then U and V (planar) or UV (semi-planar).
    planes: Vec<PlaneRef<'a>>,
    width: u32,
    height: u32,
}

impl<'a> Source<'a> {
    fn new(frame: &'a AvFrame, layout: Layout, vis: Visible) -> Result<Self> {
        let count = if matches!(layout, Layout::I420 | Layout::I420P10) { 3 } else { 2 };
        let bps = layout.bytes_per_sample();
        let mut planes = Vec::with_capacity(count);
        for i in 0..count {
            let linesize = frame.linesize(i);
            if linesize <= 0 || frame.planes() <= i {
                return Err(Error::backend("ffmpeg", "frame", format!("plane {i} missing or flipped ({linesize})")));
            }
            let data = frame.data(i);
            let stride = linesize as usize;
            // Chroma planes: half the rows and (for planar) half the columns of luma;
            // an interleaved UV pair is as wide as two luma samples.
            let (x, y) = match i {
                0 => (vis.left as usize * bps, vis.top as usize),
                _ if count == 3 => ((vis.left as usize >> 1) * bps, vis.top as usize >> 1),
                _ => ((vis.left as usize >> 1) * 2 * bps, vis.top as usize >> 1),
            };
            let start = y * stride + x;
            planes.push(PlaneRef::new(data.get(start..).unwrap_or(&[]), stride));
        }
        Ok(Source { layout, planes, width: vis.width, height: vis.height })
    }

    fn luma_size(&self) -> (usize, usize) {
        (self.width as usize, self.height as usize)
    }

    fn chroma_size(&self) -> (usize, usize) {
        ((self.width as usize).div_ceil(2), (self.height as usize).div_ceil(2))
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
                    .ok_or_else(|| Error::backend("ffmpeg", "frame", "decoded plane smaller than its picture"))?;
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
            Layout::I420 | Layout::Nv12 => Err(Error::backend("ffmpeg", "frame", "not a 10-bit picture")),
        }
    }
}

/// Converts a decoded host-memory picture to the pixels `output` asks for; `color` is
/// the picture's colour description (for RGB output). Returns the frame's format and
/// data.
pub(super) fn to_output(
    frame: &AvFrame,
    vis: Visible,
    output: Output,
    color: &ColorInfo,
) -> Result<(PixelFormat, FrameData)> {
    let Some(layout) = Layout::of(frame.format_name()) else {
        // Anything else goes through swscale first (4:2:2, 4:4:4, 4:0:0, 12-bit, …).
        let depth = depth_of(frame.ffmpeg(), frame.format());
        if let Output::Metadata = output {
            return Ok((metadata_format(depth), FrameData::None));
        }
        let mut converted = swscale_to_420(frame, depth)?;
        // The converted picture has the same size as the decoded one.
        converted.set_crop(frame.crop());
        return to_output(&converted, vis, output, color);
    };
    let asked = match output {
        Output::Host(f) => f,
        Output::Metadata => return Ok((metadata_format(layout.depth()), FrameData::None)),
        Output::Cuda(_) => {
            return Err(Error::unsupported(
                format!("{output:?} output with ffmpeg"),
                "ffmpeg decodes to host memory only",
            ));
        }
    };
    let target = output.format_for_depth(layout.depth()).unwrap_or(asked);
    let src = Source::new(frame, layout, vis)?;
    Ok((target, FrameData::Host(convert_source(&src, target, color)?)))
}

/// The format a metadata-only frame reports: libavcodec's planar layout at `depth`.
pub(super) fn metadata_format(depth: u8) -> PixelFormat {
    if depth > 8 { PixelFormat::Yuv420p10 } else { PixelFormat::Yuv420p }
}

/// Writes `src` as a tightly packed `target` picture.
fn convert_source(src: &Source<'_>, target: PixelFormat, color: &ColorInfo) -> Result<HostFrame> {
    let (w, h) = src.luma_size();
    let (cw, ch) = src.chroma_size();
    let bps = src.layout.bytes_per_sample();
    let is_rgb = matches!(target, PixelFormat::Rgb24 | PixelFormat::Bgra | PixelFormat::RgbPlanar);
    let matrix = || {
        if is_rgb {
            YuvMatrix::for_color(color, src.height)
        } else {
            // Not used for YUV outputs.
            YuvMatrix::new(M::BT709, color.range)
        }
    };

    // Same layout: plain row copies.
    if target == src.layout.pixel_format() {
        let mut out = HostFrame::for_output(target, src.width, src.height);
        let planes = out.planes().to_vec();
        let buf = out.as_bytes_mut();
        for (i, (p, dst)) in src.planes.iter().zip(&planes).enumerate() {
            let (row_bytes, rows) = match (i, src.layout) {
                (0, _) => (w * bps, h),
                (_, Layout::Nv12 | Layout::P010) => (2 * cw * bps, ch),
                _ => (cw * bps, ch),
            };
            convert::copy_plane(*p, row_bytes, rows, &mut buf[dst.offset..])?;
        }
        return Ok(out);
    }

    match src.layout {
        // Software decoders' 8-bit output: every 8-bit target.
        Layout::I420 => convert::i420_to_host(&src.i420()?, target, &matrix()?),
        Layout::Nv12 => {
            let mut planar = vec![0u8; w * h + 2 * cw * ch];
            let (y, rest) = planar.split_at_mut(w * h);
            let (u, v) = rest.split_at_mut(cw * ch);
            convert::copy_plane(src.planes[0], w, h, y)?;
            convert::deinterleave_uv(src.planes[1], cw, ch, u, v)?;
            let (y, u, v) = (&planar[..w * h], &planar[w * h..w * h + cw * ch], &planar[w * h + cw * ch..]);
            convert::i420_to_host(&I420Ref::packed(y, u, v, src.width, src.height)?, target, &matrix()?)
        }
        Layout::I420P10 | Layout::P010 => {
            let [y, u, v] = src.unpack16()?;
            match target {
                PixelFormat::Yuv420p10 | PixelFormat::P010 => Ok(pack10(&y, &u, &v, src.width, src.height, target)),
                _ => {
                    // 8-bit targets (RGB): round the samples to 8 bits first.
                    let to8 = |p: &[u16]| p.iter().map(|&s| ((s + 2) >> 2).min(255) as u8).collect::<Vec<u8>>();
                    let (y, u, v) = (to8(&y), to8(&u), to8(&v));
                    convert::i420_to_host(&I420Ref::packed(&y, &u, &v, src.width, src.height)?, target, &matrix()?)
                }
            }
        }
    }
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

/// Converts a picture of any layout to `yuv420p` (8-bit) or `yuv420p10le` (deeper)
/// with swscale, at the same size.
/// Bicubic chroma resampling (the flags of ffmpeg's `scale` filter); samples keep their
/// values: no range conversion (gray and yuvj formats count as full range in swscale),
/// as `scale=in_range=full:out_range=full` does.
fn swscale_to_420(frame: &AvFrame, depth: u8) -> Result<AvFrame> {
    let ff = frame.ffmpeg();
    let name = frame.format_name();
    let dst = ff.pix_fmt(if depth > 8 { "yuv420p10le" } else { "yuv420p" });
    let fail = |why: String| Error::unsupported(format!("ffmpeg output from a {name} picture"), why);
    let dst = dst.ok_or_else(|| fail("this FFmpeg lacks yuv420p".into()))?;
    super::sys::scale::convert(frame, dst).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(format: &str, w: u32, h: u32, fill: impl Fn(usize, usize, usize) -> u16) -> Option<AvFrame> {
        let ff = crate::backend::ffmpeg::test_ffmpeg()?;
        let format = ff.pix_fmt(format).unwrap();
        let mut f = AvFrame::new_video(ff, format, w, h).unwrap();
        let wide = depth_of(ff, format) > 8;
        for i in 0..f.planes() {
            let stride = f.stride(i);
            let rows = f.plane_height(i);
            let data = f.data_mut(i);
            for r in 0..rows {
                let row = &mut data[r * stride..(r + 1) * stride];
                if wide {
                    for (x, s) in row.chunks_exact_mut(2).enumerate() {
                        s.copy_from_slice(&fill(i, x, r).to_le_bytes());
                    }
                } else {
                    for (x, s) in row.iter_mut().enumerate() {
                        *s = fill(i, x, r) as u8;
                    }
                }
            }
        }
        Some(f)
    }

    fn set_crop(f: &mut AvFrame, l: usize, r: usize, t: usize, b: usize) {
        f.set_crop((l, r, t, b));
    }

    #[test]
    fn crop_takes_the_exact_rectangle() {
        // Y = 10 * row + column, chroma = 100 + plane.
        let Some(mut f) = frame("yuv420p", 8, 6, |p, x, r| if p == 0 { (10 * r + x) as u16 } else { 100 + p as u16 })
        else {
            return;
        };
        set_crop(&mut f, 2, 1, 2, 0);
        let vis = visible(&f);
        assert_eq!(vis, Visible { left: 2, top: 2, width: 5, height: 4 });
        let (fmt, data) = to_output(&f, vis, Output::HOST_YUV420P, &ColorInfo::default()).unwrap();
        assert_eq!(fmt, PixelFormat::Yuv420p);
        let FrameData::Host(h) = data else { panic!() };
        let rows: Vec<&[u8]> = h.rows(0).collect();
        assert_eq!(rows[0], &[22, 23, 24, 25, 26]);
        assert_eq!(rows[3], &[52, 53, 54, 55, 56]);
        assert!(h.rows(1).all(|r| r == [101, 101, 101]));
    }

    #[test]
    fn bad_crop_is_ignored() {
        let Some(mut f) = frame("yuv420p", 8, 6, |_, _, _| 0) else { return };
        set_crop(&mut f, 5, 5, 0, 0);
        assert_eq!(visible(&f), Visible { left: 0, top: 0, width: 8, height: 6 });
    }

    #[test]
    fn ten_bit_becomes_p010_and_back() {
        let Some(f) = frame("yuv420p10le", 4, 2, |p, x, _| (p * 300 + x) as u16) else { return };
        let vis = visible(&f);
        let (fmt, data) = to_output(&f, vis, Output::HOST_NV12, &ColorInfo::default()).unwrap();
        assert_eq!(fmt, PixelFormat::P010);
        let FrameData::Host(h) = data else { panic!() };
        let y: Vec<u16> = h.as_bytes()[..16].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(y, [0, 64, 128, 192, 0, 64, 128, 192]);
        let uv: Vec<u16> = h.as_bytes()[16..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]]) >> 6).collect();
        assert_eq!(uv, [300, 600, 301, 601]);

        let (fmt, data) = to_output(&f, vis, Output::HOST_YUV420P, &ColorInfo::default()).unwrap();
        assert_eq!(fmt, PixelFormat::Yuv420p10);
        let FrameData::Host(h) = data else { panic!() };
        assert_eq!(h.as_bytes().len(), 2 * (8 + 2 + 2));
    }

    #[test]
    fn nv12_source_to_planar_and_rgb() {
        let Some(f) = frame("nv12", 4, 2, |p, x, _| {
            if p == 0 {
                100
            } else if x % 2 == 0 {
                110
            } else {
                120
            }
        }) else {
            return;
        };
        let vis = visible(&f);
        let (_, data) = to_output(&f, vis, Output::HOST_YUV420P, &ColorInfo::default()).unwrap();
        let FrameData::Host(h) = data else { panic!() };
        assert_eq!(h.as_bytes(), &[100, 100, 100, 100, 100, 100, 100, 100, 110, 110, 120, 120]);
        let (fmt, _) = to_output(&f, vis, Output::HOST_RGB24, &ColorInfo::default()).unwrap();
        assert_eq!(fmt, PixelFormat::Rgb24);
    }

    #[test]
    fn other_layouts_go_through_swscale() {
        let Some(f) = frame("gray", 4, 4, |_, _, _| 77) else { return };
        let (fmt, data) = to_output(&f, visible(&f), Output::HOST_YUV420P, &ColorInfo::default()).unwrap();
        assert_eq!(fmt, PixelFormat::Yuv420p);
        let FrameData::Host(h) = data else { panic!() };
        assert!(h.rows(0).all(|r| r.iter().all(|&y| y == 77)));
        assert!(h.rows(1).all(|r| r.iter().all(|&c| c == 128)));
    }
}
