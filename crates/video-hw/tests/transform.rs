//! Transforms on the CPU against a float64 reference written from the definitions in
//! `video_hw::transform`'s documentation: within 1 LSB for uint8 and 1e-3 for float, for
//! every matrix × range × bit depth, odd sizes, crops, both filters, letterboxes, chroma
//! sitings and YUV renditions; and bad options refused at configuration by name.

mod common;

use common::XorShift;
use video_hw::frame::HostFrame;
use video_hw::transform::{Filter, Transform};
use video_hw::{
    Channels, ChromaLocation, ColorInfo, ColorRange, Error, Frame, FrameData, MatrixCoefficients, PixelFormat,
    SampleType,
};

/// A source picture as code values: Y (w × h), Cb and Cr (ceil(w/2) × ceil(h/2)).
struct Source {
    w: usize,
    h: usize,
    depth: u8,
    planes: [Vec<f64>; 3],
}

impl Source {
    /// Smooth gradients plus noise, covering the whole code range (clipping included).
    fn new(w: usize, h: usize, depth: u8, seed: u64) -> Self {
        let mut rng = XorShift(seed);
        let max = f64::from((1u32 << depth) - 1);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let mut plane = |pw: usize, ph: usize, phase: f64| {
            (0..pw * ph)
                .map(|k| {
                    let (x, y) = ((k % pw) as f64 / pw as f64, (k / pw) as f64 / ph as f64);
                    let smooth = 0.5 + 0.45 * ((x * 5.0 + phase).sin() * (y * 3.0 - phase).cos());
                    let noise = (rng.below(1000) as f64 / 1000.0 - 0.5) * 0.3;
                    ((smooth + noise) * max).round().clamp(0.0, max)
                })
                .collect()
        };
        let planes = [plane(w, h, 0.0), plane(cw, ch, 1.0), plane(cw, ch, 2.0)];
        Source { w, h, depth, planes }
    }

    /// As a host frame of `format` (a 4:2:0 YUV format of this depth).
    fn frame(&self, format: PixelFormat, color: ColorInfo) -> Frame {
        let (cw, ch) = (self.w.div_ceil(2), self.h.div_ceil(2));
        let mut bytes = Vec::new();
        let mut put = |v: f64| match format {
            PixelFormat::Nv12 | PixelFormat::Yuv420p => bytes.push(v as u8),
            PixelFormat::P010 => bytes.extend(((v as u16) << 6).to_le_bytes()),
            _ => bytes.extend((v as u16).to_le_bytes()),
        };
        self.planes[0].iter().for_each(|&v| put(v));
        if matches!(format, PixelFormat::Nv12 | PixelFormat::P010) {
            for k in 0..cw * ch {
                put(self.planes[1][k]);
                put(self.planes[2][k]);
            }
        } else {
            self.planes[1].iter().for_each(|&v| put(v));
            self.planes[2].iter().for_each(|&v| put(v));
        }
        let host = HostFrame::from_packed(format, self.w as u32, self.h as u32, bytes).unwrap();
        let mut f = Frame::host(format, self.w as u32, self.h as u32, host);
        f.color = color;
        f.pts = Some(42);
        f
    }
}

/// The reference's view of a transform (kept apart from the library's plan code).
#[derive(Clone, Copy)]
struct Spec {
    crop: (usize, usize, usize, usize),
    out: (usize, usize),
    area: bool,
    letterbox: Option<[u8; 3]>,
}

impl Spec {
    /// The picture's rectangle in the output: (x, y, w, h).
    fn content(&self) -> (f64, f64, f64, f64) {
        let (cw, ch) = (self.crop.2 as f64, self.crop.3 as f64);
        let (ow, oh) = (self.out.0 as f64, self.out.1 as f64);
        match self.letterbox {
            None => (0.0, 0.0, ow, oh),
            Some(_) => {
                let s = (ow / cw).min(oh / ch);
                let w = (cw * s).round().clamp(1.0, ow);
                let h = (ch * s).round().clamp(1.0, oh);
                (((ow - w) / 2.0).floor(), ((oh - h) / 2.0).floor(), w, h)
            }
        }
    }
}

/// Weights along one axis for an output sample centred at `centre` (output luma edge
/// coordinates) from a plane with `sub`sampling and siting `off`; None outside the picture.
#[allow(clippy::too_many_arguments)]
fn weights(
    centre: f64,
    half_width: f64,
    content: (f64, f64),
    crop: (f64, f64),
    sub: f64,
    off: f64,
    n: usize,
    area: bool,
) -> Option<Vec<(usize, f64)>> {
    let (clo, clen) = content;
    if centre < clo || centre > clo + clen {
        return None;
    }
    let r = crop.1 / clen;
    let src = |x: f64| crop.0 + (x - clo) * r;
    let lo = ((crop.0 - off) / sub).floor().clamp(0.0, (n - 1) as f64);
    let hi = ((crop.0 + crop.1 - 1.0 - off) / sub).ceil().clamp(0.0, (n - 1) as f64);
    if area && r > 1.0 {
        // Integrate the box [a, b) over plane samples i spanning [i, i+1).
        let edge = |x: f64| (src(x) - off - 0.5) / sub + 0.5;
        let a = edge((centre - half_width).max(clo)).clamp(lo, hi + 1.0);
        let b = edge((centre + half_width).min(clo + clen)).clamp(lo, hi + 1.0);
        if b - a > 1e-9 {
            let mut out = Vec::new();
            for i in (a.floor() as usize)..=(b.ceil() as usize) {
                let overlap = b.min(i as f64 + 1.0) - a.max(i as f64);
                if overlap > 0.0 {
                    out.push(((i as f64).clamp(lo, hi) as usize, overlap / (b - a)));
                }
            }
            return Some(out);
        }
    }
    let p = ((src(centre) - 0.5 - off) / sub).clamp(lo, hi);
    let i0 = p.floor();
    let f = p - i0;
    Some(vec![(i0 as usize, 1.0 - f), ((i0 + 1.0).min(hi) as usize, f)])
}

/// The value of `plane` (pw wide) for output sample (ox, oy) of an output plane with
/// subsampling `osub` and siting `ooff`.
#[allow(clippy::too_many_arguments)]
fn sample(
    spec: &Spec,
    plane: &[f64],
    pw: usize,
    ph: usize,
    sub: f64,
    off: (f64, f64),
    ox: usize,
    oy: usize,
    osub: f64,
    ooff: (f64, f64),
) -> Option<f64> {
    let (cx, cy, cw, ch) = spec.content();
    let (x0, y0, w, h) = spec.crop;
    // One axis: output sample `o` (siting `oo`) of the picture placed at `content`.
    let axis = |o: usize, oo: f64, content: (f64, f64), crop: (usize, usize), off: f64, n: usize| {
        let centre = osub * o as f64 + oo + 0.5;
        weights(centre, osub / 2.0, content, (crop.0 as f64, crop.1 as f64), sub, off, n, spec.area)
    };
    let wx = axis(ox, ooff.0, (cx, cw), (x0, w), off.0, pw)?;
    let wy = axis(oy, ooff.1, (cy, ch), (y0, h), off.1, ph)?;
    let mut v = 0.0;
    for &(j, b) in &wy {
        for &(i, a) in &wx {
            v += a * b * plane[j * pw + i];
        }
    }
    Some(v)
}

/// R, G, B in [0, 1] (unclamped) of code values, H.273 equations in f64.
fn to_rgb(y: f64, cb: f64, cr: f64, matrix: u8, range: ColorRange, depth: u8) -> [f64; 3] {
    let unit = f64::from(1u32 << (depth - 8));
    let max = f64::from((1u32 << depth) - 1);
    let (yo, yd, co, cd) = match range {
        ColorRange::Limited => (16.0 * unit, 219.0 * unit, 128.0 * unit, 224.0 * unit),
        ColorRange::Full => (0.0, max, 128.0 * unit, max),
    };
    let yn = (y - yo) / yd;
    if matrix == 0 {
        return [(cr - yo) / yd, yn, (cb - yo) / yd];
    }
    let (kr, kb) = MatrixCoefficients(matrix).kr_kb().unwrap();
    let (u, v) = ((cb - co) / cd, (cr - co) / cd);
    let r = yn + 2.0 * (1.0 - kr) * v;
    let b = yn + 2.0 * (1.0 - kb) * u;
    let g = (yn - kr * r - kb * b) / (1.0 - kr - kb);
    [r, g, b]
}

/// The reference RGB output: (R, G, B) in [0, 1] per output pixel, row by row.
fn reference_rgb(src: &Source, spec: &Spec, matrix: u8, range: ColorRange, siting: ChromaLocation) -> Vec<[f64; 3]> {
    let (cw, ch) = (src.w.div_ceil(2), src.h.div_ceil(2));
    let off = siting.offset();
    let mut out = Vec::new();
    for oy in 0..spec.out.1 {
        for ox in 0..spec.out.0 {
            let y = sample(spec, &src.planes[0], src.w, src.h, 1.0, (0.0, 0.0), ox, oy, 1.0, (0.0, 0.0));
            let Some(y) = y else {
                out.push(spec.letterbox.unwrap().map(|v| f64::from(v) / 255.0));
                continue;
            };
            let cb = sample(spec, &src.planes[1], cw, ch, 2.0, off, ox, oy, 1.0, (0.0, 0.0)).unwrap();
            let cr = sample(spec, &src.planes[2], cw, ch, 2.0, off, ox, oy, 1.0, (0.0, 0.0)).unwrap();
            out.push(to_rgb(y, cb, cr, matrix, range, src.depth).map(|c| c.clamp(0.0, 1.0)));
        }
    }
    out
}

/// Reads output channel `c` (R, G, B order) of pixel `k` as f64.
fn read(frame: &Frame, k: usize, c: usize) -> f64 {
    let FrameData::Host(h) = &frame.data else { panic!("host frame") };
    let bytes = h.as_bytes();
    let (channels, planar) = frame.format.rgb_layout().unwrap();
    let pos = channels.rgb_positions()[c];
    let n = (frame.width * frame.height) as usize;
    let size = frame.format.bytes_per_sample();
    let at = if planar { (pos * n + k) * size } else { (k * channels.count() + pos) * size };
    match frame.format.sample_type() {
        SampleType::U8 => f64::from(bytes[at]),
        SampleType::F32 => f64::from(f32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap())),
        SampleType::F16 => f64::from(half::f16::from_ne_bytes(bytes[at..at + 2].try_into().unwrap()).to_f32()),
        SampleType::U16 => unreachable!(),
    }
}

/// Applies `t` to `src` as `format` and compares with the reference; returns the largest
/// difference (in output units).
#[allow(clippy::too_many_arguments)]
fn check_rgb(
    what: &str,
    src: &Source,
    format: PixelFormat,
    color: ColorInfo,
    t: &Transform,
    spec: &Spec,
    norm: ([f64; 3], [f64; 3], f64),
) -> f64 {
    let out = t.apply(&src.frame(format, color)).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!((out.width as usize, out.height as usize), spec.out, "{what}");
    assert_eq!(out.pts, Some(42), "{what}");
    let mut resolved = t.color_for(&color);
    resolved.matrix = resolved.effective_matrix(src.h as u32);
    let reference = reference_rgb(src, spec, resolved.matrix.0, resolved.range, resolved.chroma_location);
    let float = out.format.sample_type() != SampleType::U8;
    let (mean, std, scale) = norm;
    let mut worst: f64 = 0.0;
    for (k, px) in reference.iter().enumerate() {
        for c in 0..3 {
            let want = if float { (px[c] * 255.0 * scale - mean[c]) / std[c] } else { (px[c] * 255.0).round() };
            let got = read(&out, k, c);
            let d = (got - want).abs();
            worst = worst.max(d);
            let tolerance = match out.format.sample_type() {
                SampleType::U8 => 1.0,
                // float16 keeps 11 significant bits: 1e-3 or its own rounding, whichever is larger.
                SampleType::F16 => 1e-3f64.max(want.abs() * 2f64.powi(-11)),
                _ => 1e-3,
            };
            assert!(
                d <= tolerance,
                "{what}: pixel {k} ({}, {}) channel {c}: got {got}, reference {want}",
                k % spec.out.0,
                k / spec.out.0
            );
        }
    }
    worst
}

const MATRICES: [u8; 8] = [0, 1, 4, 5, 6, 7, 9, 10];

#[test]
fn every_matrix_range_and_depth_matches_the_reference() {
    // Odd source and output sizes; downscale on one axis, upscale on the other.
    let (w, h) = (37, 23);
    let spec = Spec { crop: (0, 0, w, h), out: (19, 31), area: false, letterbox: None };
    let mut worst = (0.0f64, 0.0f64);
    for (format, depth) in
        [(PixelFormat::Nv12, 8), (PixelFormat::Yuv420p, 8), (PixelFormat::P010, 10), (PixelFormat::Yuv420p10, 10)]
    {
        let src = Source::new(w, h, depth, 7 + u64::from(depth));
        for matrix in MATRICES {
            for range in [ColorRange::Limited, ColorRange::Full] {
                let color = ColorInfo { matrix: MatrixCoefficients(matrix), range, ..ColorInfo::default() };
                let what = format!("{format} matrix {matrix} {range:?}");
                let t = Transform::new().resize(19, 31).rgb(Channels::Rgb, false, SampleType::U8);
                worst.0 =
                    worst.0.max(check_rgb(&what, &src, format, color, &t, &spec, ([0.0; 3], [1.0; 3], 1.0 / 255.0)));
                let t = Transform::new().resize(19, 31).rgb(Channels::Rgb, true, SampleType::F32);
                worst.1 =
                    worst.1.max(check_rgb(&what, &src, format, color, &t, &spec, ([0.0; 3], [1.0; 3], 1.0 / 255.0)));
            }
        }
    }
    println!("largest difference: uint8 {} LSB, float32 {:.2e}", worst.0, worst.1);
}

#[test]
fn crop_area_letterbox_normalise_and_siting_match_the_reference() {
    let src = Source::new(121, 67, 8, 3);
    let mean = [0.485f32, 0.456, 0.406];
    let std = [0.229f32, 0.224, 0.225];
    let norm = (mean.map(f64::from), std.map(f64::from), 1.0 / 255.0);
    for siting in [ChromaLocation::Left, ChromaLocation::Center, ChromaLocation::TopLeft, ChromaLocation::Bottom] {
        let color = ColorInfo { chroma_location: siting, ..ColorInfo::default() };
        for (area, out) in [(true, (24, 17)), (false, (24, 17)), (true, (150, 40))] {
            let crop = (5, 3, 101, 61);
            let what = format!("{siting:?} area {area} {out:?}");
            let filter = if area { Filter::Area } else { Filter::Bilinear };
            // Letterboxed, BGR packed float16, normalised.
            let t = Transform::new()
                .crop(5, 3, 101, 61)
                .resize(out.0 as u32, out.1 as u32)
                .filter(filter)
                .letterbox([10, 20, 30])
                .rgb(Channels::Bgr, false, SampleType::F16)
                .normalize(mean, std);
            let spec = Spec { crop, out, area, letterbox: Some([10, 20, 30]) };
            check_rgb(&what, &src, PixelFormat::Yuv420p, color, &t, &spec, norm);
            // Stretched, planar BGR uint8.
            let t = Transform::new().crop(5, 3, 101, 61).resize(out.0 as u32, out.1 as u32).filter(filter).rgb(
                Channels::Bgr,
                true,
                SampleType::U8,
            );
            let spec = Spec { crop, out, area, letterbox: None };
            check_rgb(&what, &src, PixelFormat::Nv12, color, &t, &spec, norm);
        }
    }
}

#[test]
fn rgba_and_bgra_are_opaque_and_full_size_without_resize() {
    let src = Source::new(16, 10, 8, 9);
    for channels in [Channels::Rgba, Channels::Bgra] {
        let t = Transform::new().rgb(channels, false, SampleType::U8);
        let spec = Spec { crop: (0, 0, 16, 10), out: (16, 10), area: false, letterbox: None };
        check_rgb(
            &format!("{channels:?}"),
            &src,
            PixelFormat::Nv12,
            ColorInfo::default(),
            &t,
            &spec,
            ([0.0; 3], [1.0; 3], 1.0),
        );
        let out = t.apply(&src.frame(PixelFormat::Nv12, ColorInfo::default())).unwrap();
        let FrameData::Host(h) = &out.data else { panic!() };
        assert!(h.as_bytes().chunks_exact(4).all(|px| px[3] == 255));
    }
}

/// The reference for one plane of a YUV rendition (code values at the source depth).
fn reference_yuv_plane(src: &Source, spec: &Spec, plane: usize, siting: ChromaLocation) -> Vec<Option<f64>> {
    let (cw, ch) = (src.w.div_ceil(2), src.h.div_ceil(2));
    let (ow, oh) = if plane == 0 { spec.out } else { (spec.out.0.div_ceil(2), spec.out.1.div_ceil(2)) };
    let off = siting.offset();
    let mut out = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            out.push(if plane == 0 {
                sample(spec, &src.planes[0], src.w, src.h, 1.0, (0.0, 0.0), ox, oy, 1.0, (0.0, 0.0))
            } else {
                sample(spec, &src.planes[plane], cw, ch, 2.0, off, ox, oy, 2.0, off)
            });
        }
    }
    out
}

#[test]
fn yuv_renditions_match_the_reference_and_convert_depth() {
    for (from, to, siting) in [
        (PixelFormat::Nv12, PixelFormat::Yuv420p, ChromaLocation::Left),
        (PixelFormat::Yuv420p, PixelFormat::Nv12, ChromaLocation::Center),
        (PixelFormat::P010, PixelFormat::Yuv420p10, ChromaLocation::TopLeft),
        (PixelFormat::Yuv420p10, PixelFormat::Nv12, ChromaLocation::Left),
        (PixelFormat::Nv12, PixelFormat::P010, ChromaLocation::Left),
    ] {
        let src = Source::new(53, 31, from.bit_depth(), 11);
        let color = ColorInfo { chroma_location: siting, ..ColorInfo::default() };
        for area in [false, true] {
            let filter = if area { Filter::Area } else { Filter::Bilinear };
            let t = Transform::new().crop(1, 2, 50, 27).resize(22, 14).filter(filter).letterbox([0, 0, 0]).format(to);
            let out = t.apply(&src.frame(from, color)).unwrap();
            assert_eq!((out.format, out.width, out.height), (to, 22, 14));
            let spec = Spec { crop: (1, 2, 50, 27), out: (22, 14), area, letterbox: Some([0, 0, 0]) };
            let FrameData::Host(h) = &out.data else { panic!() };
            let gain = 2f64.powi(i32::from(to.bit_depth()) - i32::from(from.bit_depth()));
            let unit = f64::from(1u32 << (to.bit_depth() - 8));
            for plane in 0..3 {
                let reference = reference_yuv_plane(&src, &spec, plane, siting);
                let ow = if plane == 0 { 22 } else { 11 };
                for (k, want) in reference.iter().enumerate() {
                    let (x, y) = (k % ow, k / ow);
                    let interleaved = matches!(to, PixelFormat::Nv12 | PixelFormat::P010);
                    let (p, col) = match (plane, interleaved) {
                        (0, _) => (0, x),
                        (c, true) => (1, 2 * x + c - 1),
                        (c, false) => (c, x),
                    };
                    let layout = h.plane(p);
                    let at = layout.offset + y * layout.stride + col * to.bytes_per_sample();
                    let got = match to {
                        PixelFormat::Nv12 | PixelFormat::Yuv420p => f64::from(h.as_bytes()[at]),
                        PixelFormat::P010 => {
                            f64::from(u16::from_le_bytes([h.as_bytes()[at], h.as_bytes()[at + 1]]) >> 6)
                        }
                        _ => f64::from(u16::from_le_bytes([h.as_bytes()[at], h.as_bytes()[at + 1]])),
                    };
                    // Letterbox bars are black: Y at 16, chroma at 128 (limited range).
                    let want = want.map_or(if plane == 0 { 16.0 * unit } else { 128.0 * unit }, |v| (v * gain).round());
                    assert!(
                        (got - want).abs() <= 1.0,
                        "{from}->{to} area {area} plane {plane} ({x}, {y}): {got} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn identity_and_pure_crop_are_exact() {
    let src = Source::new(30, 20, 8, 5);
    let frame = src.frame(PixelFormat::Nv12, ColorInfo::default());
    let out = Transform::new().apply(&frame).unwrap();
    let (FrameData::Host(a), FrameData::Host(b)) = (&frame.data, &out.data) else { panic!() };
    assert_eq!(a.as_bytes(), b.as_bytes());
    // A crop at even offsets copies samples exactly (chroma included).
    let out = Transform::new().crop(4, 2, 10, 8).format(PixelFormat::Yuv420p).apply(&frame).unwrap();
    let FrameData::Host(h) = &out.data else { panic!() };
    for y in 0..8 {
        for x in 0..10 {
            assert_eq!(f64::from(h.as_bytes()[y * 10 + x]), src.planes[0][(y + 2) * 30 + x + 4]);
        }
    }
    for y in 0..4 {
        for x in 0..5 {
            let at = h.plane(1).offset + y * h.plane(1).stride + x;
            assert_eq!(f64::from(h.as_bytes()[at]), src.planes[1][(y + 1) * 15 + x + 2]);
        }
    }
}

#[test]
fn unspecified_matrix_follows_the_height() {
    let sd = Transform::new().plan(PixelFormat::Nv12, 1280, 719, &ColorInfo::default()).unwrap();
    let hd = Transform::new().plan(PixelFormat::Nv12, 1280, 720, &ColorInfo::default()).unwrap();
    assert_eq!(sd.color.matrix, MatrixCoefficients::SMPTE170M);
    assert_eq!(hd.color.matrix, MatrixCoefficients::BT709);
    let forced = Transform::new().matrix(MatrixCoefficients::BT2020_NCL).range(ColorRange::Full);
    let p = forced.plan(PixelFormat::Nv12, 64, 64, &ColorInfo::default()).unwrap();
    assert_eq!((p.color.matrix, p.color.range), (MatrixCoefficients::BT2020_NCL, ColorRange::Full));
}

/// The option an error names.
fn option_of(e: Error) -> String {
    match e {
        Error::InvalidOption { option, .. } => option,
        other => panic!("expected InvalidOption, got {other}"),
    }
}

#[test]
fn bad_options_are_refused_at_configuration_by_name() {
    let cases: Vec<(Transform, &str)> = vec![
        (Transform::new().resize(0, 10), "transform.size"),
        (Transform::new().resize(10, 20000), "transform.size"),
        (Transform::new().crop(0, 0, 0, 5), "transform.crop"),
        (Transform::new().letterbox([0; 3]), "transform.letterbox"),
        (Transform::new().rgb(Channels::Rgba, false, SampleType::F32), "transform.format"),
        (Transform::new().rgb(Channels::Rgba, true, SampleType::U8), "transform.format"),
        (
            Transform::new().rgb(Channels::Rgb, true, SampleType::U8).normalize([0.5; 3], [0.5; 3]),
            "transform.normalize",
        ),
        (Transform::new().normalize([0.5; 3], [0.5; 3]), "transform.normalize"),
        (
            Transform::new().rgb(Channels::Rgb, true, SampleType::F32).normalize([0.5; 3], [0.0, 1.0, 1.0]),
            "transform.std",
        ),
        (
            Transform::new().rgb(Channels::Rgb, true, SampleType::F32).normalize([f32::NAN; 3], [1.0; 3]),
            "transform.mean",
        ),
        (Transform::new().rgb(Channels::Rgb, true, SampleType::F32).scale(0.0), "transform.scale"),
        (Transform::new().matrix(MatrixCoefficients(8)), "transform.matrix"),
    ];
    for (t, option) in cases {
        assert_eq!(option_of(t.validate().unwrap_err()), option, "{t:?}");
        assert_eq!(Error::invalid_option(option, "x").exit_code(), 2);
    }
    // A crop outside the picture is refused as soon as the picture's size is known,
    // before any pixel is touched.
    let t = Transform::new().crop(100, 0, 30, 10);
    t.validate().unwrap();
    assert_eq!(option_of(t.output_size(120, 50).unwrap_err()), "transform.crop");
    assert_eq!(option_of(t.plan(PixelFormat::Nv12, 120, 50, &ColorInfo::default()).unwrap_err()), "transform.crop");
    let t = Transform::new().crop(u32::MAX, 0, 30, 10);
    assert_eq!(option_of(t.output_size(120, 50).unwrap_err()), "transform.crop");
    // RGB sources are refused (transforms read 4:2:0 YUV).
    let rgb = Transform::new().plan(PixelFormat::Rgb24, 8, 8, &ColorInfo::default()).unwrap_err();
    assert!(matches!(rgb, Error::Unsupported { .. }), "{rgb}");
}

/// Decodes a whole Annex-B file with `config` into frames.
fn decode_all(path: &std::path::Path, config: video_hw::DecoderConfig) -> Vec<Frame> {
    let data = std::fs::read(path).unwrap();
    let mut dec = video_hw::Decoder::open(config).unwrap();
    let mut frames = Vec::new();
    for chunk in data.chunks(64 * 1024) {
        dec.submit(video_hw::Input::annexb(chunk, None)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    frames
}

fn bytes(f: &Frame) -> &[u8] {
    let FrameData::Host(h) = &f.data else { panic!("host frame") };
    h.as_bytes()
}

#[test]
fn decoders_apply_the_configured_transform_to_every_frame() {
    use video_hw::{Codec, DecoderConfig, EnginePreference, Output};
    let fixture =
        common::fixtures().into_iter().find(|f| f.codec == "h264" && f.bit_depth == 8).expect("an H.264 fixture");
    let base = DecoderConfig::new(Codec::H264).engine(EnginePreference::Auto);
    let plain = decode_all(&fixture.path, base.clone().output(Output::HOST_NV12));
    assert_eq!(plain.len() as u64, fixture.frames);
    let cases = [
        // RGB from `output`, size from the transform.
        (Output::HOST_RGB24, Transform::new().resize(64, 48), PixelFormat::Rgb24),
        // The transform's own format wins.
        (
            Output::HOST_NV12,
            Transform::new().resize(33, 17).rgb(Channels::Bgr, true, SampleType::F32),
            PixelFormat::BgrPlanarF32,
        ),
        // A YUV rendition in `output`'s format.
        (Output::HOST_YUV420P, Transform::new().crop(2, 2, 40, 30).resize(20, 14), PixelFormat::Yuv420p),
    ];
    for (output, t, want) in cases {
        let got = decode_all(&fixture.path, base.clone().output(output).transform(t));
        assert_eq!(got.len(), plain.len(), "{want}: every frame comes out");
        for (g, p) in got.iter().zip(&plain) {
            let expect = t.format(want).apply(p).unwrap();
            assert_eq!((g.format, g.width, g.height, g.pts), (want, expect.width, expect.height, p.pts));
            assert_eq!(bytes(g), bytes(&expect), "{want}: the same pixels as transforming the plain output");
        }
    }
    // Refused at configuration: a bad option, and a transform with CUDA output.
    let e = video_hw::Decoder::open(base.clone().transform(Transform::new().resize(0, 5))).unwrap_err();
    assert!(matches!(e, Error::InvalidOption { .. }), "{e}");
    let e = base.output(Output::CUDA_NV12).transform(Transform::new().resize(8, 8)).validate().unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
}
