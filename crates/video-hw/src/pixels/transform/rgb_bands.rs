//! A decoded host frame to packed RGB a band of rows at a time, each band handed on (written
//! to a file, hashed) while it is still in the cache.
//!
//! Why: a whole 1080p RGB24 picture is 6 MB. Converted in one piece and then written, every
//! byte goes out to memory and comes back for the write; the conversion then costs about as
//! much as swscale's, though its arithmetic is faster (bench/results/rgb-convert-cli-*). A
//! band of a few hundred KiB stays in the core's L2 between the conversion and its reader,
//! and one buffer serves every band of every frame. The bytes are those of the conversion
//! every host path shares (`rgb.rs`), so a frame written in bands equals the engine's own
//! RGB output of it.

use super::apply::source_planes;
use super::rgb::{Job, UNNORMALISED, YuvSource, as_engines};
use crate::codec::PixelFormat;
use crate::error::{Error, Result};
use crate::frame::{Frame, HostFrame};

/// Whether [`rgb_bands`] writes `format`: packed RGB (`rgb24`, `bgr24`, `rgba`, `bgra` and
/// the packed float forms), whose rows follow each other in one plane.
pub fn writes_in_bands(format: PixelFormat) -> bool {
    format.rgb_layout().is_some_and(|(_, planar)| !planar)
}

/// Converts `frame` (host memory, 4:2:0 YUV: `yuv420p`, `nv12`, `yuv420p10le` or `p010le`)
/// to the packed RGB `format`, about `band_bytes` of output at a time (whole rows, an even
/// number of them where the picture has more than one), handing each band's bytes to `each`
/// in order; `scratch` holds a band and may be reused from frame to frame. The bands
/// together are the bytes a software engine's own `Output::Host(format)` gives for the same
/// picture: the same conversion, its matrix resolved as the engines resolve it
/// ([`ColorInfo::effective_matrix`](crate::codec::ColorInfo::effective_matrix)). An error
/// from `each` ends the conversion and is returned.
pub fn rgb_bands(
    frame: &Frame,
    format: PixelFormat,
    band_bytes: usize,
    scratch: &mut Vec<u8>,
    each: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    if !writes_in_bands(format) {
        return Err(Error::unsupported(format!("{format} in bands"), "planar or YUV output"));
    }
    let host = frame.to_host()?;
    let src = source_of(frame, &host)?;
    let (color, whole) = as_engines(&frame.color, frame.width, frame.height);
    let job = Job::new(&src, whole, &color, format, UNNORMALISED, true)?;
    let row_bytes = job.row_bytes();
    let h = frame.height as usize;
    // Even bands keep each pair of rows that shares a chroma row together (the AVX2 kernel
    // converts such pairs at once).
    let rows = (band_bytes / row_bytes.max(1)).max(2) & !1;
    scratch.resize(rows.min(h) * row_bytes, 0);
    let mut first = 0;
    while first < h {
        let end = (first + rows).min(h);
        let band = &mut scratch[..(end - first) * row_bytes];
        job.rows(first, end, &mut [&mut band[..]]);
        each(band)?;
        first = end;
    }
    Ok(())
}

/// `frame`'s planes (in `host`, its host memory) as the conversion reads them.
fn source_of<'a>(frame: &Frame, host: &'a HostFrame) -> Result<YuvSource<'a>> {
    let [y, cb, cr] = source_planes(frame.format, host)?;
    Ok(YuvSource {
        planes: [y, cb, cr],
        depth: frame.format.bit_depth(),
        half_width: true,
        half_height: true,
        width: frame.width,
        height: frame.height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{ChromaLocation, ColorInfo, MatrixCoefficients};
    use crate::frame::FrameData;

    /// A `format` picture of `w`×`h` with every byte of its planes set from a simple hash.
    fn picture(format: PixelFormat, w: u32, h: u32, color: ColorInfo) -> Frame {
        let mut host = HostFrame::for_output(format, w, h);
        let wide = format.bit_depth() > 8;
        for (i, b) in host.as_bytes_mut().iter_mut().enumerate() {
            let v = (i.wrapping_mul(2_654_435_761) >> 7) as u8;
            // 10-bit samples in their low (yuv420p10le) or high (p010le) bits.
            *b = match (wide, format, i % 2) {
                (false, ..) => v,
                (true, PixelFormat::P010, 0) => v & 0xc0,
                (true, PixelFormat::P010, _) => v,
                (true, _, 0) => v,
                (true, _, _) => v & 3,
            };
        }
        Frame { format, width: w, height: h, pts: None, keyframe: true, color, data: FrameData::Host(host) }
    }

    /// What an engine's own RGB output of `frame` is: the whole-picture conversion.
    fn whole(frame: &Frame, format: PixelFormat) -> Vec<u8> {
        let host = frame.to_host().unwrap();
        let src = source_of(frame, &host).unwrap();
        super::super::rgb::convert_whole(&src, &frame.color, format, super::super::rgb::Spread::Cores)
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    #[test]
    fn the_bands_together_are_the_whole_conversion() {
        let tagged = ColorInfo { matrix: MatrixCoefficients::BT709, ..ColorInfo::default() };
        let sited = ColorInfo { chroma_location: ChromaLocation::Center, ..ColorInfo::default() };
        for source in [PixelFormat::Yuv420p, PixelFormat::Nv12, PixelFormat::Yuv420p10, PixelFormat::P010] {
            for (w, h) in [(64, 36), (67, 37), (1, 1), (2, 3), (130, 9)] {
                for color in [ColorInfo::default(), tagged, sited] {
                    let frame = picture(source, w, h, color);
                    for format in [PixelFormat::Rgb24, PixelFormat::Bgra, PixelFormat::RgbF32] {
                        let want = whole(&frame, format);
                        // Bands of 2 rows, an odd request (rounded down to even), and more
                        // than the picture.
                        for band_bytes in [1, 3 * w as usize * 16 * 5, 1 << 30] {
                            let (mut got, mut scratch, mut count) = (Vec::new(), Vec::new(), 0);
                            rgb_bands(&frame, format, band_bytes, &mut scratch, &mut |b| {
                                got.extend_from_slice(b);
                                count += 1;
                                Ok(())
                            })
                            .unwrap();
                            assert_eq!(got, want, "{source} {w}x{h} {color:?} to {format}, {band_bytes} bytes a band");
                            assert!(count >= 1 && count <= (h as usize).div_ceil(2).max(1));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn planar_yuv_and_other_sources_are_refused() {
        let frame = picture(PixelFormat::Yuv420p, 16, 16, ColorInfo::default());
        let mut scratch = Vec::new();
        for format in [PixelFormat::RgbPlanar, PixelFormat::Yuv420p, PixelFormat::Nv12] {
            assert!(!writes_in_bands(format));
            assert!(rgb_bands(&frame, format, 1 << 16, &mut scratch, &mut |_| Ok(())).is_err(), "{format}");
        }
        let rgb = picture(PixelFormat::Rgb24, 16, 16, ColorInfo::default());
        assert!(rgb_bands(&rgb, PixelFormat::Rgb24, 1 << 16, &mut scratch, &mut |_| Ok(())).is_err());
    }

    #[test]
    fn an_error_from_the_reader_ends_the_conversion() {
        let frame = picture(PixelFormat::Yuv420p, 32, 32, ColorInfo::default());
        let mut calls = 0;
        let e = rgb_bands(&frame, PixelFormat::Rgb24, 1, &mut Vec::new(), &mut |_| {
            calls += 1;
            Err(Error::invalid_input("stop"))
        });
        assert!(e.is_err());
        assert_eq!(calls, 1);
    }
}
