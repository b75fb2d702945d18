//! Decoded FFmpeg pictures (host memory) to this crate's frames: the visible rectangle
//! (the decoder's crop, applied here to the exact sample, as ffmpeg's
//! `-flags unaligned` does), the pixel format the session asked for, and the colour
//! description.
//!
//! Sources read directly (by `pixels/planar.rs`, shared with rav1d): `yuv420p` /
//! `yuvj420p` and `yuv420p10le` (libavcodec's software decoders), `nv12` and `p010le`
//! (pictures downloaded from hardware); for RGB output also 4:2:2 and 4:4:4 at 8 and 10
//! bits, at full chroma resolution. Any other layout (4:0:0, 12-bit, …, and 4:2:2 / 4:4:4
//! for YUV output) goes through swscale to `yuv420p`, or `yuv420p10le` when deeper than 8
//! bits, first.

use super::sys::Ffmpeg;
use super::sys::buffers;
use super::sys::frame::{Frame as AvFrame, IntField};
use crate::backend::software_threads;
use crate::codec::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, PixelFormat, TransferCharacteristics,
};
use crate::config::Output;
use crate::error::{Error, Result};
use crate::frame::{FrameData, HostFrame, LentBytes, PlaneLayout};
use crate::pixels::convert::PlaneRef;
pub(super) use crate::pixels::planar::metadata_format;
use crate::pixels::planar::{self, Layout, Source};

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

/// The layout of an FFmpeg pixel format this module reads directly, by FFmpeg's name of
/// the format (the numbers differ between majors).
fn layout_of(format: &str) -> Option<Layout> {
    Some(match format {
        "yuv420p" | "yuvj420p" => Layout::I420,
        "yuv420p10le" => Layout::I420P10,
        "nv12" => Layout::Nv12,
        "p010le" => Layout::P010,
        "yuv422p" | "yuvj422p" => Layout::Planar { full: false, wide: false },
        "yuv444p" | "yuvj444p" => Layout::Planar { full: true, wide: false },
        "yuv422p10le" => Layout::Planar { full: false, wide: true },
        "yuv444p10le" => Layout::Planar { full: true, wide: true },
        _ => return None,
    })
}

/// The visible part of `frame`'s planes.
fn source_of(frame: &AvFrame, layout: Layout, vis: Visible) -> Result<Source<'_>> {
    let mut planes = Vec::with_capacity(layout.plane_count());
    for i in 0..layout.plane_count() {
        let linesize = frame.linesize(i);
        if linesize <= 0 || frame.planes() <= i {
            return Err(Error::backend("ffmpeg", "frame", format!("plane {i} missing or flipped ({linesize})")));
        }
        let stride = linesize as usize;
        let start = layout.offset(i, vis.left, vis.top, stride);
        planes.push(PlaneRef::new(frame.data(i).get(start..).unwrap_or(&[]), stride));
    }
    Ok(Source { layout, planes, width: vis.width, height: vis.height })
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
    // 4:2:2 and 4:4:4 are read directly for RGB output (at full chroma resolution), and
    // go through swscale to 4:2:0 for YUV output, which has no such layout here.
    let rgb_out = matches!(output, Output::Host(f) if !f.is_yuv());
    let layout = layout_of(frame.format_name()).filter(|l| rgb_out || l.pixel_format().is_some());
    let Some(layout) = layout else {
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
    if let Output::Metadata = output {
        return Ok((metadata_format(layout.depth()), FrameData::None));
    }
    planar::to_output(&source_of(frame, layout, vis)?, output, color, software_threads::conversion_spread(), "ffmpeg")
}

/// The picture as a frame over the decoder's own buffer, without a copy (see
/// `sys/buffers.rs`), when `output` asks for its layout as it is and the buffer holds
/// every plane; `None`: convert with [`to_output`].
///
/// Lent even where the thread produces into a frame ring whose slots may be page-locked:
/// copying into a slot costs what it would save a consumer that uploads to a GPU (the
/// driver stages ordinary memory with one copy), and most consumers never do.
pub(super) fn lend(frame: &AvFrame, vis: Visible, output: Output) -> Option<(PixelFormat, FrameData)> {
    let Output::Host(asked) = output else { return None };
    let layout = layout_of(frame.format_name())?;
    let target = output.format_for_depth(layout.depth()).unwrap_or(asked);
    if Some(target) != layout.pixel_format() {
        return None;
    }
    let lent = buffers::lend(frame)?;
    let start = lent.bytes().as_ptr() as usize;
    let src = source_of(frame, layout, vis).ok()?;
    let mut planes = Vec::with_capacity(layout.plane_count());
    for (i, p) in src.planes.iter().enumerate() {
        let (row_bytes, rows) = src.plane_extent(i);
        let offset = (p.data.as_ptr() as usize).checked_sub(start)?;
        planes.push(PlaneLayout { offset, stride: p.stride, row_bytes, rows });
    }
    let host = HostFrame::lent(Box::new(lent), &planes).ok()?;
    Some((target, FrameData::Host(host)))
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
    fn other_layouts_go_through_swscale() {
        let Some(f) = frame("gray", 4, 4, |_, _, _| 77) else { return };
        let (fmt, data) = to_output(&f, visible(&f), Output::HOST_YUV420P, &ColorInfo::default()).unwrap();
        assert_eq!(fmt, PixelFormat::Yuv420p);
        let FrameData::Host(h) = data else { panic!() };
        assert!(h.rows(0).all(|r| r.iter().all(|&y| y == 77)));
        assert!(h.rows(1).all(|r| r.iter().all(|&c| c == 128)));
    }
}
