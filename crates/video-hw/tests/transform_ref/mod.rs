//! The float64 reference of the transform tests, written from the definitions in
//! `video_hw::pixels::transform`'s documentation (kept apart from the library's plan code), and
//! the check that holds a transform's output to it: `tests/transform.rs` runs it on the
//! CPU path, `tests/gpu_transform.rs` on the GPU path.

#![allow(dead_code, reason = "each test binary uses its own part")]

use super::common::XorShift;
use video_hw::frame::HostFrame;
use video_hw::pixels::transform::{Filter, Transform};
use video_hw::{ChromaLocation, ColorInfo, ColorRange, Frame, FrameData, MatrixCoefficients, PixelFormat, SampleType};

/// A source picture as code values: Y (w × h), Cb and Cr (ceil(w/2) × ceil(h/2)).
pub struct Source {
    pub w: usize,
    pub h: usize,
    pub depth: u8,
    pub planes: [Vec<f64>; 3],
}

impl Source {
    /// Smooth gradients plus noise, covering the whole code range (clipping included).
    pub fn new(w: usize, h: usize, depth: u8, seed: u64) -> Self {
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
    pub fn frame(&self, format: PixelFormat, color: ColorInfo) -> Frame {
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
pub struct Spec {
    pub crop: (usize, usize, usize, usize),
    pub out: (usize, usize),
    pub filter: Filter,
    pub letterbox: Option<[u8; 3]>,
}

impl Spec {
    /// The picture's rectangle in the output: (x, y, w, h).
    pub fn content(&self) -> (f64, f64, f64, f64) {
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
pub fn weights(
    centre: f64,
    half_width: f64,
    content: (f64, f64),
    crop: (f64, f64),
    sub: f64,
    off: f64,
    n: usize,
    filter: Filter,
) -> Option<Vec<(usize, f64)>> {
    let (clo, clen) = content;
    if centre < clo || centre > clo + clen {
        return None;
    }
    let r = crop.1 / clen;
    let src = |x: f64| crop.0 + (x - clo) * r;
    let lo = ((crop.0 - off) / sub).floor().clamp(0.0, (n - 1) as f64);
    let hi = ((crop.0 + crop.1 - 1.0 - off) / sub).ceil().clamp(0.0, (n - 1) as f64);
    // Triangle: the tent `1 - |d| / s` over plane samples, `s` the output's spacing in
    // them, cut to the crop and normalised (torchvision's antialiased bilinear).
    let s = 2.0 * half_width * r / sub;
    if filter == Filter::Triangle && s > 1.0 {
        let p = (src(centre) - 0.5 - off) / sub;
        let mut out: Vec<(usize, f64)> = Vec::new();
        for i in (lo as usize)..=(hi as usize) {
            let w = 1.0 - (i as f64 - p).abs() / s;
            if w > 0.0 {
                out.push((i, w));
            }
        }
        let total: f64 = out.iter().map(|&(_, w)| w).sum();
        if total > 0.0 {
            return Some(out.into_iter().map(|(i, w)| (i, w / total)).collect());
        }
    }
    if filter == Filter::Area && r > 1.0 {
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
pub fn sample(
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
        weights(centre, osub / 2.0, content, (crop.0 as f64, crop.1 as f64), sub, off, n, spec.filter)
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
pub fn to_rgb(y: f64, cb: f64, cr: f64, matrix: u8, range: ColorRange, depth: u8) -> [f64; 3] {
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

/// The chroma sample nearest luma sample `x` along an axis where chroma sample `k` sits at
/// `2k + off`; halfway between two, the earlier one; clamped to `0..n`.
pub fn nearest_chroma(x: usize, off: f64, n: usize) -> usize {
    let p = (x as f64 - off) / 2.0;
    ((p - 0.5).ceil().max(0.0) as usize).min(n - 1)
}

/// The reference RGB output: (R, G, B) in [0, 1] per output pixel, row by row. With
/// `nearest`, an output of the crop's size (no letterbox) takes each pixel's nearest chroma
/// sample at the siting (the host conversion's rule) instead of interpolating.
pub fn reference_rgb(
    src: &Source,
    spec: &Spec,
    matrix: u8,
    range: ColorRange,
    siting: ChromaLocation,
    nearest: bool,
) -> Vec<[f64; 3]> {
    let (cw, ch) = (src.w.div_ceil(2), src.h.div_ceil(2));
    let off = siting.offset();
    let mut out = Vec::new();
    let (x0, y0, w, h) = spec.crop;
    if nearest && spec.out == (w, h) && spec.letterbox.is_none() {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let k = nearest_chroma(y, off.1, ch) * cw + nearest_chroma(x, off.0, cw);
                let [luma, cb, cr] = [&src.planes[0][y * src.w + x], &src.planes[1][k], &src.planes[2][k]];
                out.push(to_rgb(*luma, *cb, *cr, matrix, range, src.depth).map(|c| c.clamp(0.0, 1.0)));
            }
        }
        return out;
    }
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
pub fn read(frame: &Frame, k: usize, c: usize) -> f64 {
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
pub fn check_rgb(
    what: &str,
    src: &Source,
    format: PixelFormat,
    color: ColorInfo,
    t: &Transform,
    spec: &Spec,
    norm: ([f64; 3], [f64; 3], f64),
) -> f64 {
    check_rgb_on(&|f| f, what, src, format, color, t, spec, norm)
}

/// [`check_rgb`] with the source frame first given to `place` (which may upload it to a
/// GPU, where the transform then runs); a CUDA output is downloaded to be read.
#[allow(clippy::too_many_arguments)]
pub fn check_rgb_on(
    place: &dyn Fn(Frame) -> Frame,
    what: &str,
    src: &Source,
    format: PixelFormat,
    color: ColorInfo,
    t: &Transform,
    spec: &Spec,
    norm: ([f64; 3], [f64; 3], f64),
) -> f64 {
    let mut out = t.apply(&place(src.frame(format, color))).unwrap_or_else(|e| panic!("{what}: {e}"));
    // At the source's size every conversion, on the host and on the GPU, takes each
    // pixel's nearest chroma sample at the stream's siting (the GPU plan's chroma taps are
    // single along an axis at the source's scale); a resize interpolates.
    let nearest = true;
    if let FrameData::Device(c) = &out.data {
        out.data = FrameData::Host(c.download().unwrap_or_else(|e| panic!("{what}: download: {e}")));
    }
    assert_eq!((out.width as usize, out.height as usize), spec.out, "{what}");
    assert_eq!(out.pts, Some(42), "{what}");
    let resolved = t.color_for(&color, src.h as u32);
    let reference = reference_rgb(src, spec, resolved.matrix.0, resolved.range, resolved.chroma_location, nearest);
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

pub const MATRICES: [u8; 8] = [0, 1, 4, 5, 6, 7, 9, 10];

/// Crops, the three filters, an upscale, letterboxes with normalised float16 BGR (source as
/// `letterboxed`) and stretched planar uint8 BGR (source as `stretched`), for every chroma
/// siting, each against the reference (`place` and `label` as in [`check_rgb_on`]).
pub fn crop_area_letterbox_and_siting(
    place: &dyn Fn(Frame) -> Frame,
    label: &str,
    src: &Source,
    letterboxed: PixelFormat,
    stretched: PixelFormat,
) {
    use video_hw::Channels;
    let mean = [0.485f32, 0.456, 0.406];
    let std = [0.229f32, 0.224, 0.225];
    let norm = (mean.map(f64::from), std.map(f64::from), 1.0 / 255.0);
    for siting in [ChromaLocation::Left, ChromaLocation::Center, ChromaLocation::TopLeft, ChromaLocation::Bottom] {
        let color = ColorInfo { chroma_location: siting, ..ColorInfo::default() };
        for (filter, out) in [
            (Filter::Area, (24, 17)),
            (Filter::Bilinear, (24, 17)),
            (Filter::Triangle, (24, 17)),
            (Filter::Triangle, (61, 45)),
            (Filter::Area, (150, 40)),
            (Filter::Triangle, (150, 40)),
        ] {
            let crop = (5, 3, 101, 61);
            let what = format!("{label}{siting:?} {filter:?} {out:?}");
            let t = Transform::new()
                .crop(5, 3, 101, 61)
                .resize(out.0 as u32, out.1 as u32)
                .filter(filter)
                .letterbox([10, 20, 30])
                .rgb(Channels::Bgr, false, SampleType::F16)
                .normalize(mean, std);
            let spec = Spec { crop, out, filter, letterbox: Some([10, 20, 30]) };
            check_rgb_on(place, &what, src, letterboxed, color, &t, &spec, norm);
            let t = Transform::new().crop(5, 3, 101, 61).resize(out.0 as u32, out.1 as u32).filter(filter).rgb(
                Channels::Bgr,
                true,
                SampleType::U8,
            );
            let spec = Spec { crop, out, filter, letterbox: None };
            check_rgb_on(place, &what, src, stretched, color, &t, &spec, norm);
        }
    }
}
