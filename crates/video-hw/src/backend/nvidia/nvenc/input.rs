//! Copying host frames into a locked NVENC input buffer, row by row, respecting both
//! pitches. Pure code on byte slices: the session turns the locked pointer into a slice
//! of [`locked_len`] bytes.
//!
//! The layouts NVENC expects in a buffer created for `height` rows (those of NVIDIA's
//! samples, `NvEncoder::GetChromaSubPlaneOffsets` / `GetChromaPitch`):
//!
//! | format | planes |
//! |---|---|
//! | `NV12` | Y: `height` rows at 0; interleaved UV: ⌈height/2⌉ rows at `pitch * height`, same pitch |
//! | `YUV420_10BIT` | as NV12, 2 bytes a sample, value in the high 10 bits (P010) |
//! | `IYUV` | Y at 0; U at `pitch * height`, V right after U; chroma pitch ⌈pitch/2⌉, ⌈height/2⌉ rows |
//! | `ARGB` | one plane of `height` rows; B, G, R, A bytes (a little-endian A8R8G8B8 word) |

use crate::codec::PixelFormat;
use crate::error::{Error, Result};
use crate::frame::HostFrame;

/// Bytes of a locked input buffer of `height` rows and `pitch` in the layout host frames
/// of `format` are written to.
pub(crate) fn locked_len(format: PixelFormat, pitch: usize, height: u32) -> usize {
    let h = height as usize;
    let ch = h.div_ceil(2);
    match format {
        PixelFormat::Nv12 | PixelFormat::P010 | PixelFormat::Yuv420p10 => pitch * (h + ch),
        PixelFormat::Yuv420p => pitch * h + 2 * pitch.div_ceil(2) * ch,
        _ => pitch * h,
    }
}

/// Copies `rows` of `src` (an iterator of row slices) into `dst` at `offset`, `pitch` apart.
fn copy_rows<'a>(src: impl Iterator<Item = &'a [u8]>, dst: &mut [u8], offset: usize, pitch: usize) -> Result<()> {
    for (r, row) in src.enumerate() {
        let at = offset + r * pitch;
        let Some(d) = dst.get_mut(at..at + row.len()) else {
            return Err(Error::invalid_input("frame does not fit the NVENC input buffer"));
        };
        d.copy_from_slice(row);
    }
    Ok(())
}

/// Writes `frame` (`format`, `width` x `height`) into `dst`, a locked input buffer of
/// `height` rows with `pitch` (see the module table). `Yuv420p10` (value in the low bits,
/// planar) becomes P010 (value in the high bits, chroma interleaved) on the way.
pub(crate) fn write_host_frame(
    frame: &HostFrame,
    format: PixelFormat,
    width: u32,
    height: u32,
    dst: &mut [u8],
    pitch: usize,
) -> Result<()> {
    crate::frame::check_host_planes(frame, format, width, height)?;
    let h = height as usize;
    let luma_end = pitch * h;
    if dst.len() < locked_len(format, pitch, height) {
        return Err(Error::invalid_input("NVENC input buffer smaller than the frame"));
    }
    // The widest row written, against the pitch of the plane it goes to.
    let cw = (width as usize).div_ceil(2);
    let (luma_row, chroma_row, chroma_pitch) = match format {
        PixelFormat::Yuv420p => (width as usize, cw, pitch.div_ceil(2)),
        PixelFormat::Yuv420p10 => (2 * width as usize, 4 * cw, pitch),
        _ => (format.plane_size(0, width, height).0, format.plane_size(1, width, height).0, pitch),
    };
    if luma_row > pitch || chroma_row > chroma_pitch {
        return Err(Error::invalid_input(format!("NVENC input pitch {pitch} is below a row of {format} {width}")));
    }
    match format {
        PixelFormat::Nv12 | PixelFormat::P010 => {
            copy_rows(frame.rows(0), dst, 0, pitch)?;
            copy_rows(frame.rows(1), dst, luma_end, pitch)
        }
        PixelFormat::Yuv420p => {
            let cp = pitch.div_ceil(2);
            let ch = h.div_ceil(2);
            copy_rows(frame.rows(0), dst, 0, pitch)?;
            copy_rows(frame.rows(1), dst, luma_end, cp)?;
            copy_rows(frame.rows(2), dst, luma_end + cp * ch, cp)
        }
        PixelFormat::Bgra => copy_rows(frame.rows(0), dst, 0, pitch),
        PixelFormat::Yuv420p10 => {
            let to_p010 = |lo: &[u8]| (u16::from_le_bytes([lo[0], lo[1]]) & 0x3ff) << 6;
            for (r, row) in frame.rows(0).enumerate() {
                let at = r * pitch;
                let d = dst
                    .get_mut(at..at + row.len())
                    .ok_or_else(|| Error::invalid_input("frame does not fit the NVENC input buffer"))?;
                for (o, s) in d.chunks_exact_mut(2).zip(row.chunks_exact(2)) {
                    o.copy_from_slice(&to_p010(s).to_le_bytes());
                }
            }
            for (r, (u, v)) in frame.rows(1).zip(frame.rows(2)).enumerate() {
                let at = luma_end + r * pitch;
                let d = dst
                    .get_mut(at..at + 2 * u.len())
                    .ok_or_else(|| Error::invalid_input("frame does not fit the NVENC input buffer"))?;
                for ((o, us), vs) in d.chunks_exact_mut(4).zip(u.chunks_exact(2)).zip(v.chunks_exact(2)) {
                    o[..2].copy_from_slice(&to_p010(us).to_le_bytes());
                    o[2..].copy_from_slice(&to_p010(vs).to_le_bytes());
                }
            }
            Ok(())
        }
        other => Err(Error::unsupported(
            format!("{other} input with nvenc"),
            "NVENC takes nv12, yuv420p, p010, yuv420p10 or bgra",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::PlaneLayout;

    fn pattern(format: PixelFormat, w: u32, h: u32) -> HostFrame {
        let mut f = HostFrame::new_packed(format, w, h);
        for (i, b) in f.as_bytes_mut().iter_mut().enumerate() {
            *b = (i % 251) as u8 + 1;
        }
        f
    }

    #[test]
    fn nv12_and_p010_keep_rows_and_chroma_offset() {
        for format in [PixelFormat::Nv12, PixelFormat::P010] {
            let (w, h, pitch) = (6u32, 4u32, 32usize);
            let f = pattern(format, w, h);
            let mut dst = vec![0u8; locked_len(format, pitch, h)];
            write_host_frame(&f, format, w, h, &mut dst, pitch).unwrap();
            let bps = format.bytes_per_sample();
            for (r, row) in f.rows(0).enumerate() {
                assert_eq!(&dst[r * pitch..][..w as usize * bps], row, "{format} Y row {r}");
                assert!(dst[r * pitch + row.len()..(r + 1) * pitch].iter().all(|&b| b == 0), "padding untouched");
            }
            for (r, row) in f.rows(1).enumerate() {
                assert_eq!(&dst[pitch * h as usize + r * pitch..][..row.len()], row, "{format} UV row {r}");
            }
        }
    }

    #[test]
    fn i420_chroma_has_half_pitch() {
        let (w, h, pitch) = (6u32, 6u32, 33usize);
        let f = pattern(PixelFormat::Yuv420p, w, h);
        let mut dst = vec![0u8; locked_len(PixelFormat::Yuv420p, pitch, h)];
        assert_eq!(dst.len(), 33 * 6 + 2 * 17 * 3);
        write_host_frame(&f, PixelFormat::Yuv420p, w, h, &mut dst, pitch).unwrap();
        let (cp, luma) = (17, 33 * 6);
        for (r, row) in f.rows(1).enumerate() {
            assert_eq!(&dst[luma + r * cp..][..3], row);
        }
        for (r, row) in f.rows(2).enumerate() {
            assert_eq!(&dst[luma + cp * 3 + r * cp..][..3], row);
        }
    }

    #[test]
    fn strided_source_frames() {
        // A 4x2 BGRA frame with 4 bytes of padding per row.
        let buffer: Vec<u8> = (0..40).collect();
        let layout = PlaneLayout { offset: 0, stride: 20, row_bytes: 16, rows: 2 };
        let f = HostFrame::from_planes(buffer, vec![layout]).unwrap();
        let mut dst = vec![0u8; 64 * 2];
        write_host_frame(&f, PixelFormat::Bgra, 4, 2, &mut dst, 64).unwrap();
        assert_eq!(&dst[..16], &(0..16).collect::<Vec<u8>>()[..]);
        assert_eq!(&dst[64..80], &(20..36).collect::<Vec<u8>>()[..]);
    }

    #[test]
    fn yuv420p10_becomes_p010() {
        let (w, h, pitch) = (2u32, 2u32, 8usize);
        let words: [u16; 6] = [1, 2, 3, 1023, 5, 0xfc06];
        let bytes: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
        let f = HostFrame::from_packed(PixelFormat::Yuv420p10, w, h, bytes).unwrap();
        let mut dst = vec![0u8; locked_len(PixelFormat::Yuv420p10, pitch, h)];
        write_host_frame(&f, PixelFormat::Yuv420p10, w, h, &mut dst, pitch).unwrap();
        let word = |at: usize| u16::from_le_bytes([dst[at], dst[at + 1]]);
        assert_eq!((word(0), word(2), word(8), word(10)), (1 << 6, 2 << 6, 3 << 6, 1023 << 6));
        // U = 5, V = 0xfc06 & 0x3ff = 6, interleaved at pitch * height.
        assert_eq!((word(16), word(18)), (5 << 6, 6 << 6));
    }

    #[test]
    fn mismatches_are_errors_not_panics() {
        let f = pattern(PixelFormat::Nv12, 4, 4);
        let mut small = vec![0u8; 10];
        assert!(write_host_frame(&f, PixelFormat::Nv12, 4, 4, &mut small, 4).is_err());
        let mut dst = vec![0u8; 1024];
        assert!(write_host_frame(&f, PixelFormat::Nv12, 6, 4, &mut dst, 16).is_err(), "wrong size");
        assert!(write_host_frame(&f, PixelFormat::Yuv420p, 4, 4, &mut dst, 16).is_err(), "wrong format");
        assert!(write_host_frame(&f, PixelFormat::Nv12, 4, 4, &mut dst, 2).is_err(), "pitch below row size");
        let rgb = pattern(PixelFormat::Rgb24, 4, 4);
        assert!(matches!(
            write_host_frame(&rgb, PixelFormat::Rgb24, 4, 4, &mut dst, 16),
            Err(Error::Unsupported { .. })
        ));
    }
}
