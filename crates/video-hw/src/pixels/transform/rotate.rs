//! Quarter-turn rotation of the displayed picture: what a container's display matrix asks
//! for (MP4 `tkhd`; [`crate::media::VideoInfo::rotation`]), applied as ffmpeg's autorotate
//! and torchcodec apply it.
//!
//! A transform with a rotation works in the displayed (turned) picture's coordinates: its
//! crop and output size are of the turned picture. It runs in the coded orientation (the
//! crop mapped back, the output size swapped for a quarter turn), so every step's
//! arithmetic is the unrotated one, and the result is turned as it is stored: the GPU
//! kernels write each pixel at its turned place; the CPU path turns the finished picture
//! (one permutation of the output's samples).
//!
//! Turning after converting equals converting after turning: bilinear and area sampling
//! with half-pixel centres are symmetric under a flip or a swap of axes, and the chroma
//! siting is the coded picture's, where the chroma samples are.

use super::Rect;
use crate::codec::PixelFormat;
use crate::error::{Error, Result};
use crate::frame::HostFrame;

/// Side of the square tiles [`turn`] copies in.
const TILE: usize = 32;

/// Counter-clockwise quarter turns (0-3) of `degrees` counter-clockwise; `None` unless a
/// multiple of 90 below 360.
pub(crate) fn quarter_turns(degrees: u16) -> Option<u8> {
    (degrees.is_multiple_of(90) && degrees < 360).then_some((degrees / 90) as u8)
}

/// The displayed size of a coded `width` × `height` picture turned `q` quarter turns.
pub(crate) fn displayed(q: u8, width: u32, height: u32) -> (u32, u32) {
    if q % 2 == 1 { (height, width) } else { (width, height) }
}

/// The rectangle of the coded `width` × `height` picture that shows as `r` of the picture
/// turned `q` quarter turns counter-clockwise (`r` fits the turned picture).
pub(crate) fn coded_rect(q: u8, r: Rect, width: u32, height: u32) -> Rect {
    match q {
        // Displayed (x, y) is coded column W-1-y, row x.
        1 => Rect { x: width - r.y - r.height, y: r.x, width: r.height, height: r.width },
        // Displayed (x, y) is coded column W-1-x, row H-1-y.
        2 => Rect { x: width - r.x - r.width, y: height - r.y - r.height, width: r.width, height: r.height },
        // Displayed (x, y) is coded column y, row H-1-x.
        3 => Rect { x: r.y, y: height - r.x - r.width, width: r.height, height: r.width },
        _ => r,
    }
}

/// The coded column and row shown at displayed (x, y) of a coded `w` × `h` plane turned `q`
/// quarter turns counter-clockwise.
fn source_of(q: u8, x: usize, y: usize, w: usize, h: usize) -> (usize, usize) {
    match q {
        1 => (w - 1 - y, x),
        2 => (w - 1 - x, h - 1 - y),
        3 => (y, h - 1 - x),
        _ => (x, y),
    }
}

/// Samples (or pixels, for packed RGB) in a row of plane `plane` of a `format` picture
/// `width` wide: 4:2:0 chroma has half as many (rounded up), NV12's interleaved pairs
/// counting as one.
fn elements(format: PixelFormat, plane: usize, width: u32) -> usize {
    if format.is_yuv() && plane > 0 { width.div_ceil(2) as usize } else { width as usize }
}

/// `src`, a `format` picture of `width` × `height` in the coded orientation, turned `q`
/// quarter turns counter-clockwise: a tightly packed picture of the displayed size. Each
/// plane is turned on its own (4:2:0 chroma planes as planes of their own size, NV12's
/// Cb/Cr pairs and packed RGB's pixels moved whole).
pub(crate) fn turn(src: &HostFrame, format: PixelFormat, width: u32, height: u32, q: u8) -> Result<HostFrame> {
    let (dw, dh) = displayed(q, width, height);
    let mut out = HostFrame::for_output(format, dw, dh);
    let planes = out.planes().to_vec();
    let bytes = src.as_bytes();
    let dst = out.as_bytes_mut();
    for (i, to) in planes.iter().enumerate() {
        let from = src
            .planes()
            .get(i)
            .copied()
            .ok_or_else(|| Error::invalid_input(format!("turning a {format} picture: plane {i} missing")))?;
        let (cols, rows) = (elements(format, i, width), from.rows);
        let size = from.row_bytes.checked_div(cols).unwrap_or(0);
        let (out_cols, out_rows) = (elements(format, i, dw), to.rows);
        if size == 0 || out_cols * size != to.row_bytes || (q % 2 == 1 && (out_cols, out_rows) != (rows, cols)) {
            return Err(Error::invalid_input(format!("turning a {format} picture of {width}x{height}: plane {i}")));
        }
        // In tiles, so that a quarter turn (which reads the source down its columns) reads
        // each source cache line once rather than once per output row.
        for ty in (0..out_rows).step_by(TILE) {
            for tx in (0..out_cols).step_by(TILE) {
                for y in ty..(ty + TILE).min(out_rows) {
                    let row = &mut dst[to.offset + y * to.stride..][..to.row_bytes];
                    for x in tx..(tx + TILE).min(out_cols) {
                        let (sx, sy) = source_of(q, x, y, cols, rows);
                        let at = from.offset + sy * from.stride + sx * size;
                        row[x * size..(x + 1) * size].copy_from_slice(&bytes[at..at + size]);
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packed `format` picture whose sample k of each plane is k (mod 256).
    fn counting(format: PixelFormat, w: u32, h: u32) -> HostFrame {
        let n = format.frame_size(w, h);
        HostFrame::from_packed(format, w, h, (0..n).map(|k| k as u8).collect()).unwrap()
    }

    #[test]
    fn quarter_turns_of_rgb_match_numpy_rot90() {
        // 3x2 RGB24, pixel (x, y) holds value 10y + x in every channel.
        let (w, h) = (3u32, 2u32);
        let mut bytes = Vec::new();
        for y in 0..h {
            for x in 0..w {
                bytes.extend([(10 * y + x) as u8; 3]);
            }
        }
        let src = HostFrame::from_packed(PixelFormat::Rgb24, w, h, bytes).unwrap();
        let values = |q: u8| {
            let t = turn(&src, PixelFormat::Rgb24, w, h, q).unwrap();
            t.as_bytes().chunks(3).map(|p| p[0]).collect::<Vec<u8>>()
        };
        // numpy.rot90(a, k) of a = [[0, 1, 2], [10, 11, 12]].
        assert_eq!(values(0), [0, 1, 2, 10, 11, 12]);
        assert_eq!(values(1), [2, 12, 1, 11, 0, 10]);
        assert_eq!(values(2), [12, 11, 10, 2, 1, 0]);
        assert_eq!(values(3), [10, 0, 11, 1, 12, 2]);
    }

    #[test]
    fn four_quarter_turns_are_the_identity_in_every_layout() {
        for format in
            [PixelFormat::Yuv420p, PixelFormat::Nv12, PixelFormat::P010, PixelFormat::RgbPlanarF32, PixelFormat::Bgra]
        {
            // Sizes within one tile and over several (odd, so 4:2:0 chroma rounds up).
            for (w, h) in [(7u32, 5u32), (71, 45)] {
                let src = counting(format, w, h);
                let mut f = src.clone();
                let (mut cw, mut ch) = (w, h);
                for _ in 0..4 {
                    f = turn(&f, format, cw, ch, 1).unwrap();
                    (cw, ch) = (ch, cw);
                }
                assert_eq!(f.as_bytes(), src.as_bytes(), "{format}");
                let half = turn(&turn(&src, format, w, h, 1).unwrap(), format, h, w, 1).unwrap();
                assert_eq!(half.as_bytes(), turn(&src, format, w, h, 2).unwrap().as_bytes(), "{format}");
            }
        }
    }

    #[test]
    fn rectangles_map_back_to_the_coded_picture() {
        let (w, h) = (8u32, 6u32);
        // The displayed picture's top-left 2x3 (it is 6 wide, 8 tall after a quarter turn).
        let r = Rect { x: 0, y: 0, width: 2, height: 3 };
        // Turned CCW, the displayed top rows are the coded right columns.
        assert_eq!(coded_rect(1, r, w, h), Rect { x: 5, y: 0, width: 3, height: 2 });
        assert_eq!(coded_rect(2, r, w, h), Rect { x: 6, y: 3, width: 2, height: 3 });
        assert_eq!(coded_rect(3, r, w, h), Rect { x: 0, y: 4, width: 3, height: 2 });
        assert_eq!(quarter_turns(270), Some(3));
        assert_eq!(quarter_turns(45), None);
        assert_eq!(quarter_turns(360), None);
    }
}
