//! The shared conversion (`rgb.rs`) against a float64 evaluation of its definition (each
//! pixel's nearest chroma sample at the siting, H.273 equations): every matrix, range,
//! siting, source layout and depth, odd sizes and crops, within 1 LSB for uint8 and 1e-4
//! for float.

use super::apply::source_planes;
use super::rgb::{self, Src, Store, YuvSource};
use super::{Rect, Transform};
use crate::codec::{Channels, ChromaLocation, ColorInfo, ColorRange, MatrixCoefficients, PixelFormat, SampleType};
use crate::frame::HostFrame;

fn plane(data: &[u8], stride: usize) -> Src<'_> {
    Src { data, offset: 0, stride, store: Store::U8, step: 1, phase: 0 }
}

/// A frame of `format` with noise in every sample (a few flat runs, for clamping).
fn noise_frame(format: PixelFormat, w: u32, h: u32, seed: u32) -> HostFrame {
    let mut x = seed;
    let mut f = HostFrame::new_packed(format, w, h);
    let max = if format.bit_depth() > 8 { 1023u32 } else { 255 };
    let bytes = f.as_bytes_mut();
    let wide = format.bit_depth() > 8;
    let shift = if format == PixelFormat::P010 { 6 } else { 0 };
    let mut next = || {
        x = x.wrapping_mul(1664525).wrapping_add(1013904223);
        // Extremes one time in eight, so that clamping is exercised.
        match x >> 29 {
            0 => 0,
            1 => max,
            _ => (x >> 8) % (max + 1),
        }
    };
    if wide {
        for s in bytes.chunks_exact_mut(2) {
            s.copy_from_slice(&((next() as u16) << shift).to_le_bytes());
        }
    } else {
        bytes.iter_mut().for_each(|b| *b = next() as u8);
    }
    f
}

const SITINGS: [ChromaLocation; 6] = [
    ChromaLocation::Left,
    ChromaLocation::Center,
    ChromaLocation::TopLeft,
    ChromaLocation::Top,
    ChromaLocation::BottomLeft,
    ChromaLocation::Bottom,
];

/// R, G, B in [0, 1] of code values at `depth`, H.273 equations in f64.
fn to_rgb(y: f64, cb: f64, cr: f64, color: &ColorInfo, depth: u8) -> [f64; 3] {
    let unit = f64::from(1u32 << (depth - 8));
    let max = f64::from((1u32 << depth) - 1);
    let (yo, yd, co, cd) = match color.range {
        ColorRange::Limited => (16.0 * unit, 219.0 * unit, 128.0 * unit, 224.0 * unit),
        ColorRange::Full => (0.0, max, 128.0 * unit, max),
    };
    let yn = (y - yo) / yd;
    let Some((kr, kb)) = color.matrix.kr_kb().filter(|_| color.matrix.0 != 0) else {
        return [(cr - yo) / yd, yn, (cb - yo) / yd];
    };
    let (u, v) = ((cb - co) / cd, (cr - co) / cd);
    let r = yn + 2.0 * (1.0 - kr) * v;
    let b = yn + 2.0 * (1.0 - kb) * u;
    [r, (yn - kr * r - kb * b) / (1.0 - kr - kb), b]
}

/// The chroma sample nearest luma sample `x` where sample `k` sits at `2k + off`
/// (halfway: the earlier one), clamped.
fn nearest(x: u32, off: f64, n: usize) -> usize {
    let p = (f64::from(x) - off) / 2.0;
    ((p - 0.5).ceil().max(0.0) as usize).min(n - 1)
}

/// Sample `i` of row `r` of `plane`, as a value.
fn at(plane: &Src<'_>, r: usize, i: usize) -> f64 {
    let row = plane.row(r);
    let k = i * plane.step + plane.phase;
    match plane.store {
        Store::U8 => f64::from(row[k]),
        Store::U16Low => f64::from(u16::from_le_bytes([row[2 * k], row[2 * k + 1]])),
        Store::U16High => f64::from(u16::from_le_bytes([row[2 * k], row[2 * k + 1]]) >> 6),
    }
}

/// The conversion of `t` (crop and RGB format) on `frame` against the f64 reference; the
/// largest difference of any sample (uint8 in LSB, float in output units).
fn worst(t: Transform, format: PixelFormat, frame: &HostFrame, w: u32, h: u32, color: &ColorInfo) -> f64 {
    let planes = source_planes(format, frame).unwrap();
    let src = YuvSource { planes, depth: format.bit_depth(), half_width: true, half_height: true, width: w, height: h };
    let crop = t.crop_for(w, h).unwrap();
    let output = t.output_format(format);
    let got = rgb::convert(&src, crop, color, output, t.normalization()).unwrap();
    let (channels, planar) = output.rgb_layout().unwrap();
    let (scale, mean, std) = t.normalization();
    let (cw, ch) = ((w as usize).div_ceil(2), (h as usize).div_ceil(2));
    let off = color.chroma_location.offset();
    let bytes = got.as_bytes();
    let n = (crop.width * crop.height) as usize;
    let size = output.bytes_per_sample();
    let mut worst: f64 = 0.0;
    for y in 0..crop.height {
        for x in 0..crop.width {
            let (sx, sy) = (x + crop.x, y + crop.y);
            let (cx, cy) = (nearest(sx, off.0, cw), nearest(sy, off.1, ch));
            let luma = at(&planes[0], sy as usize, sx as usize);
            let want = to_rgb(luma, at(&planes[1], cy, cx), at(&planes[2], cy, cx), color, format.bit_depth());
            let k = (y * crop.width + x) as usize;
            for c in 0..3 {
                let pos = channels.rgb_positions()[c];
                let i = if planar { (pos * n + k) * size } else { (k * channels.count() + pos) * size };
                let v = want[c].clamp(0.0, 1.0);
                let d = if output.sample_type() == SampleType::U8 {
                    (f64::from(bytes[i]) - (v * 255.0).round()).abs()
                } else {
                    let got = f64::from(f32::from_ne_bytes(bytes[i..i + 4].try_into().unwrap()));
                    let want = (v * 255.0 * f64::from(scale) - f64::from(mean[c])) / f64::from(std[c]);
                    (got - want).abs()
                };
                worst = worst.max(d);
            }
        }
    }
    worst
}

#[test]
fn the_conversion_equals_the_reference_within_one_lsb() {
    for (format, seed) in
        [(PixelFormat::Yuv420p, 1), (PixelFormat::Nv12, 2), (PixelFormat::Yuv420p10, 3), (PixelFormat::P010, 4)]
    {
        for (w, h) in [(1, 1), (2, 2), (7, 5), (16, 4), (33, 9)] {
            let frame = noise_frame(format, w, h, seed + w * h);
            for matrix in [0u8, 1, 4, 5, 6, 7, 9] {
                for range in [ColorRange::Limited, ColorRange::Full] {
                    for siting in SITINGS {
                        let color = ColorInfo {
                            matrix: MatrixCoefficients(matrix),
                            range,
                            chroma_location: siting,
                            ..ColorInfo::default()
                        };
                        let at = format!("{format} {w}x{h} matrix {matrix} {range:?} {siting:?}");
                        for channels in [Channels::Rgb, Channels::Bgra] {
                            let t = Transform::new().rgb(channels, false, SampleType::U8);
                            let d = worst(t, format, &frame, w, h, &color);
                            assert!(d <= 1.0, "{at} {channels:?}: {d} LSB");
                        }
                        let t = Transform::new().rgb(Channels::Bgr, true, SampleType::U8);
                        assert!(worst(t, format, &frame, w, h, &color) <= 1.0, "{at} planar");
                        let t = Transform::new().rgb(Channels::Rgb, true, SampleType::F32);
                        let d = worst(t, format, &frame, w, h, &color);
                        assert!(d <= 1e-4, "{at} float32: {d}");
                    }
                }
            }
        }
    }
}

#[test]
fn crops_at_odd_and_even_offsets_equal_the_reference() {
    let (w, h) = (23, 17);
    for format in [PixelFormat::Nv12, PixelFormat::Yuv420p10] {
        let frame = noise_frame(format, w, h, 11);
        for siting in SITINGS {
            let color =
                ColorInfo { chroma_location: siting, matrix: MatrixCoefficients::BT709, ..ColorInfo::default() };
            for (x, y, cw, ch) in [(0, 0, 23, 17), (1, 1, 5, 3), (2, 3, 21, 14), (3, 0, 1, 17), (22, 16, 1, 1)] {
                let t = Transform::new().crop(x, y, cw, ch).rgb(Channels::Rgb, false, SampleType::U8);
                let d = worst(t, format, &frame, w, h, &color);
                assert!(d <= 1.0, "{format} {siting:?} crop {x},{y} {cw}x{ch}: {d} LSB");
                let t = t.rgb(Channels::Rgb, true, SampleType::F32).normalize([0.4, 0.5, 0.6], [0.2, 0.3, 0.25]);
                let d = worst(t, format, &frame, w, h, &color);
                assert!(d <= 5e-4, "{format} {siting:?} crop {x},{y} {cw}x{ch} normalised: {d}");
            }
        }
    }
}

/// 4:4:4 is read at full resolution (each pixel its own chroma) and 4:2:2 shares each
/// chroma sample between the two pixels of its pair, rows untouched.
#[test]
fn full_and_half_width_chroma_are_read_as_they_are() {
    let (w, h) = (6u32, 4u32);
    let y: Vec<u8> = (0..w * h).map(|i| (i * 9 % 256) as u8).collect();
    let full: Vec<u8> = (0..w * h).map(|i| (i * 37 % 256) as u8).collect();
    let whole = Rect { x: 0, y: 0, width: w, height: h };
    let color = ColorInfo { matrix: MatrixCoefficients::BT709, range: ColorRange::Full, ..ColorInfo::default() };
    let norm = Transform::new().normalization();
    let s444 = YuvSource {
        planes: [plane(&y, 6), plane(&full, 6), plane(&full, 6)],
        depth: 8,
        half_width: false,
        half_height: false,
        width: w,
        height: h,
    };
    let out = rgb::convert(&s444, whole, &color, PixelFormat::RgbPlanar, norm).unwrap();
    // Full range BT.709: R = Y + 1.5748 (Cr − 128).
    for i in 0..(w * h) as usize {
        let want = (f64::from(y[i]) + 1.5748 * (f64::from(full[i]) - 128.0)).round().clamp(0.0, 255.0);
        assert_eq!(f64::from(out.as_bytes()[i]), want, "4:4:4 pixel {i}");
    }
    // 4:2:2: each pair of columns on its chroma sample.
    let half: Vec<u8> = (0..3 * h).map(|i| (i * 50 % 256) as u8).collect();
    let s422 = YuvSource { planes: [plane(&y, 6), plane(&half, 3), plane(&half, 3)], half_width: true, ..s444 };
    let out = rgb::convert(&s422, whole, &color, PixelFormat::RgbPlanar, norm).unwrap();
    for r in 0..h as usize {
        for c in 0..w as usize {
            let k = r * 3 + c / 2;
            let cr = f64::from(half[k]);
            let want = (f64::from(y[r * 6 + c]) + 1.5748 * (cr - 128.0)).round().clamp(0.0, 255.0);
            assert_eq!(f64::from(out.as_bytes()[r * 6 + c]), want, "4:2:2 ({c}, {r})");
        }
    }
}

#[test]
fn bands_on_threads_equal_the_reference() {
    // Large enough to be split into bands.
    let (w, h) = (640, 360);
    let frame = noise_frame(PixelFormat::Nv12, w, h, 5);
    let color = ColorInfo { matrix: MatrixCoefficients(6), ..ColorInfo::default() };
    for channels in [Channels::Rgb, Channels::Rgba] {
        let t = Transform::new().rgb(channels, false, SampleType::U8);
        assert!(worst(t, PixelFormat::Nv12, &frame, w, h, &color) <= 1.0);
    }
    let t = Transform::new().rgb(Channels::Rgb, true, SampleType::F32);
    assert!(worst(t, PixelFormat::Nv12, &frame, w, h, &color) <= 1e-4);
}

/// A stream of frames converted to RGB writes each into the buffer of the frame before it
/// once the caller has dropped that one (the host buffer pool, `frame/recycle.rs`): no new
/// memory to fault in and no zeroing per frame, and no bytes of the earlier picture left.
#[test]
fn a_stream_of_conversions_reuses_the_dropped_output_buffer() {
    use super::Transformer;
    use crate::frame::{Frame, FrameData};
    // A size no other test converts (the pool is process-wide and tests run at once).
    let (w, h) = (1102, 38);
    let frame = |seed| Frame {
        format: PixelFormat::Yuv420p,
        width: w,
        height: h,
        pts: Some(i64::from(seed)),
        keyframe: true,
        color: ColorInfo::default(),
        data: FrameData::Host(noise_frame(PixelFormat::Yuv420p, w, h, seed)),
    };
    let bytes = |f: &Frame| match &f.data {
        FrameData::Host(host) => host.as_bytes().to_vec(),
        _ => panic!("a host frame"),
    };
    let address = |f: &Frame| match &f.data {
        FrameData::Host(host) => host.as_bytes().as_ptr() as usize,
        _ => panic!("a host frame"),
    };
    let mut t = Transformer::new(Transform::new().format(PixelFormat::Rgb24)).expect("valid");
    let first = t.apply(&frame(1)).expect("converts");
    let first_at = address(&first);
    drop(first);
    let second = t.apply(&frame(2)).expect("converts");
    assert_eq!(address(&second), first_at, "the second frame is written into the first one's buffer");
    // Held while the same picture converts again: that one takes new memory, and both
    // hold the same bytes (nothing of the first picture was left in the reused buffer).
    let again = t.apply(&frame(2)).expect("converts");
    assert_ne!(address(&again), first_at);
    assert_eq!(bytes(&second), bytes(&again));
}

/// The taps at the source's scale read chroma as the shared conversion does (each pixel's
/// nearest sample at the siting), so the paths that run the taps there (the GPU's
/// transform kernel, a letterboxed frame) give its colours: `run_plan` against
/// `rgb::convert`, within 1 LSB, every siting, crops at odd offsets included.
#[test]
fn the_taps_at_the_same_size_give_the_shared_conversion() {
    let (w, h) = (23, 17);
    for format in [PixelFormat::Nv12, PixelFormat::Yuv420p] {
        let frame = noise_frame(format, w, h, 5);
        for siting in SITINGS {
            for matrix in [MatrixCoefficients::BT709, MatrixCoefficients(6)] {
                let color = ColorInfo { chroma_location: siting, matrix, ..ColorInfo::default() };
                for (x, y, cw, ch) in [(0, 0, 23, 17), (1, 1, 5, 3), (2, 3, 21, 14)] {
                    let t = Transform::new().crop(x, y, cw, ch).rgb(Channels::Rgb, false, SampleType::U8);
                    let plan = t.plan(format, w, h, &color).unwrap();
                    let planes = source_planes(format, &frame).unwrap();
                    let taps = super::apply::run_plan(&t, &plan, planes).unwrap();
                    let src = YuvSource { planes, depth: 8, half_width: true, half_height: true, width: w, height: h };
                    let crop = t.crop_for(w, h).unwrap();
                    let shared = rgb::convert(&src, crop, &plan.color, plan.output, t.normalization()).unwrap();
                    let d = taps.as_bytes().iter().zip(shared.as_bytes()).map(|(a, b)| a.abs_diff(*b)).max();
                    assert!(d <= Some(1), "{format} {siting:?} {matrix:?} crop {x},{y} {cw}x{ch}: {d:?} LSB");
                }
            }
        }
    }
}
