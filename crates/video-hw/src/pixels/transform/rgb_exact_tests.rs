//! The 8-bit output of the shared conversion (`rgb.rs`), pinned byte for byte: a scalar
//! evaluation of its one 16-bit expression (`rgb_pairs.rs`: each pixel's nearest chroma
//! sample at the siting, the matrix split into an integer and a 15-bit fraction, products
//! floored to 1/64, saturating sums, one rounding), written here pixel by pixel without
//! rows, bands or vectors, against the conversion over random planes of every source
//! layout (planar, semi-planar, 8 and 10 bits low or high, 4:2:0, 4:2:2, 4:4:4), padded
//! strides, odd sizes, odd and even crops, every siting, matrix, range and 8-bit output.
//! However the conversion is vectorised or threaded, on any CPU, these bytes must not move.

use super::Rect;
use super::plan::Coeffs;
use super::rgb::{self, Src, Store, YuvSource};
use crate::codec::{ChromaLocation, ColorInfo, ColorRange, MatrixCoefficients, PixelFormat};

/// One coefficient as the conversion splits it: `(n, f)`, `c = n + f / 2^15`.
type Coef = (i16, i16);

/// The expression's constants for one matrix, range and depth.
struct Reference {
    shift: u32,
    identity: bool,
    yo: i16,
    co: i16,
    y: Coef,
    rv: Coef,
    gu: Coef,
    gv: Coef,
    bu: Coef,
}

impl Reference {
    fn new(color: &ColorInfo, depth: u8) -> Reference {
        let c = Coeffs::new(color, depth).unwrap();
        let split = |v: f64| -> Coef {
            let n = v.round();
            (n as i16, ((v - n) * 32768.0).round() as i16)
        };
        let unit = f64::from(1u32 << (depth - 8));
        let (rv, gu, gv, bu) = c.rgb_factors();
        let s = 255.0 * f64::from(c.c_scale) * unit;
        Reference {
            shift: 14 - u32::from(depth),
            identity: c.k.is_none(),
            yo: c.y_off as i16,
            co: c.c_off as i16,
            y: split(255.0 * f64::from(c.y_scale) * unit),
            rv: split(f64::from(rv) * s),
            gu: split(f64::from(gu) * s),
            gv: split(f64::from(gv) * s),
            bu: split(f64::from(bu) * s),
        }
    }

    /// `c · x` in 1/64 units: `n·x` plus the fraction's product floored.
    fn term(x: i16, (n, f): Coef) -> i16 {
        let frac = (i32::from(x) * 2 * i32::from(f)).div_euclid(65536) as i16;
        frac.wrapping_add(x.wrapping_mul(n))
    }

    fn code(v: i16) -> u8 {
        (v >> 6).clamp(0, 255) as u8
    }

    /// R, G, B of one pixel from its code values.
    fn rgb(&self, y: u16, cb: u16, cr: u16) -> [u8; 3] {
        let sh = self.shift;
        let luma = |s: u16| Self::term((s as i16 - self.yo) << sh, self.y).saturating_add(32);
        if self.identity {
            return [Self::code(luma(cr)), Self::code(luma(y)), Self::code(luma(cb))];
        }
        let (u, v) = ((cb as i16 - self.co) << sh, (cr as i16 - self.co) << sh);
        let l = luma(y);
        let g = Self::term(u, self.gu).wrapping_add(Self::term(v, self.gv));
        [
            Self::code(l.saturating_add(Self::term(v, self.rv))),
            Self::code(l.saturating_add(g)),
            Self::code(l.saturating_add(Self::term(u, self.bu))),
        ]
    }
}

/// Sample `i` of row `r` of `plane`, as a code value.
fn sample(plane: &Src<'_>, r: usize, i: usize) -> u16 {
    let row = plane.row(r);
    let k = i * plane.step + plane.phase;
    match plane.store {
        Store::U8 => u16::from(row[k]),
        Store::U16Low => u16::from_le_bytes([row[2 * k], row[2 * k + 1]]),
        Store::U16High => u16::from_le_bytes([row[2 * k], row[2 * k + 1]]) >> 6,
    }
}

/// The chroma sample nearest luma row `y` for chroma sample `k` sitting at `2k + off`
/// (halfway: the earlier one), clamped to `0..n`.
fn nearest_row(y: u32, off: f64, n: usize) -> usize {
    let p = (f64::from(y) - off) / 2.0;
    ((p - 0.5).ceil().max(0.0) as usize).min(n - 1)
}

/// `rect` of `src` in the 8-bit RGB `format`, pixel by pixel.
fn reference(src: &YuvSource<'_>, rect: Rect, color: &ColorInfo, format: PixelFormat) -> Vec<u8> {
    let r = Reference::new(color, src.depth);
    let (channels, planar) = format.rgb_layout().unwrap();
    let (n, pos) = (channels.count(), channels.rgb_positions());
    let ch = if src.half_height { (src.height as usize).div_ceil(2) } else { src.height as usize };
    let off = color.chroma_location.offset().1;
    let pixels = (rect.width * rect.height) as usize;
    let mut out = vec![255u8; pixels * if planar { 3 } else { n }];
    for y in 0..rect.height {
        for x in 0..rect.width {
            let (sx, sy) = ((x + rect.x) as usize, y + rect.y);
            let cx = if src.half_width { sx / 2 } else { sx };
            let cy = if src.half_height { nearest_row(sy, off, ch) } else { sy as usize };
            let [p0, p1, p2] = &src.planes;
            let rgb = r.rgb(sample(p0, sy as usize, sx), sample(p1, cy, cx), sample(p2, cy, cx));
            let k = (y * rect.width + x) as usize;
            for c in 0..3 {
                let at = if planar { pos[c] * pixels + k } else { k * n + pos[c] };
                out[at] = rgb[c];
            }
        }
    }
    out
}

/// Random bytes, a few extremes among them (for clamping).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            match x >> 29 {
                0 => 0,
                1 => 255,
                _ => (x >> 16) as u8,
            }
        })
        .collect()
}

/// A source layout: samples stored as `store`, chroma interleaved in one plane or not,
/// chroma halved across and down.
#[derive(Debug, Clone, Copy)]
struct Layout {
    store: Store,
    interleaved: bool,
    half_width: bool,
    half_height: bool,
}

/// Random planes of `layout` for a `w`×`h` picture (strides padded), in one buffer.
fn planes(layout: Layout, w: usize, h: usize, seed: u32) -> (Vec<u8>, [(usize, usize); 3]) {
    let bytes = if layout.store == Store::U8 { 1 } else { 2 };
    let cw = if layout.half_width { w.div_ceil(2) } else { w };
    let chh = if layout.half_height { h.div_ceil(2) } else { h };
    // Padded strides (odd ones for bytes; 16-bit rows stay aligned to their samples).
    let luma_stride = w * bytes + 5 * bytes;
    let chroma_stride = (cw * if layout.interleaved { 2 } else { 1 } + 3) * bytes;
    let luma = luma_stride * h;
    let chroma = chroma_stride * chh;
    let mut data = noise(luma + 2 * chroma, seed);
    if layout.store == Store::U16Low {
        // 10-bit values in the low bits, as decoders write them.
        data.chunks_exact_mut(2).for_each(|s| s[1] &= 3);
    }
    let second = if layout.interleaved { luma } else { luma + chroma };
    (data, [(0, luma_stride), (luma, chroma_stride), (second, chroma_stride)])
}

#[test]
fn eight_bit_output_equals_the_scalar_expression_byte_for_byte() {
    let layouts = [
        (Store::U8, false, true, true),
        (Store::U8, true, true, true),
        (Store::U8, false, true, false),
        (Store::U8, false, false, false),
        (Store::U16Low, false, true, true),
        (Store::U16High, true, true, true),
        (Store::U16Low, false, true, false),
        (Store::U16Low, false, false, false),
    ]
    .map(|(store, interleaved, half_width, half_height)| Layout { store, interleaved, half_width, half_height });
    let colors = [
        (0u8, ColorRange::Full),
        (1, ColorRange::Limited),
        (5, ColorRange::Full),
        (6, ColorRange::Limited),
        (9, ColorRange::Limited),
    ];
    let sitings = [ChromaLocation::Left, ChromaLocation::Center, ChromaLocation::TopLeft, ChromaLocation::Bottom];
    let outputs = [
        PixelFormat::Rgb24,
        PixelFormat::Bgr24,
        PixelFormat::Rgba,
        PixelFormat::Bgra,
        PixelFormat::RgbPlanar,
        PixelFormat::BgrPlanar,
    ];
    let mut seed = 0;
    for layout in layouts {
        for (w, h) in [(1u32, 1u32), (3, 2), (34, 3), (67, 5), (130, 2)] {
            seed += 1;
            let (data, at) = planes(layout, w as usize, h as usize, seed);
            let (step, store) = (if layout.interleaved { 2 } else { 1 }, layout.store);
            let plane = |i: usize, step: usize, phase: usize| Src {
                data: &data,
                offset: at[i].0,
                stride: at[i].1,
                store,
                step,
                phase,
            };
            let src = YuvSource {
                planes: [plane(0, 1, 0), plane(1, step, 0), plane(2, step, step - 1)],
                depth: if store == Store::U8 { 8 } else { 10 },
                half_width: layout.half_width,
                half_height: layout.half_height,
                width: w,
                height: h,
            };
            let mut rects = vec![Rect { x: 0, y: 0, width: w, height: h }];
            if w > 3 && h > 1 {
                rects.push(Rect { x: 1, y: 1, width: w - 1, height: h - 1 });
                rects.push(Rect { x: 2, y: 0, width: w - 3, height: h });
            }
            for (matrix, range) in colors {
                for siting in sitings {
                    let color = ColorInfo {
                        matrix: MatrixCoefficients(matrix),
                        range,
                        chroma_location: siting,
                        ..ColorInfo::default()
                    };
                    for rect in &rects {
                        for format in outputs {
                            let norm = super::Transform::new().normalization();
                            let got = rgb::convert(&src, *rect, &color, format, norm).unwrap();
                            let want = reference(&src, *rect, &color, format);
                            assert!(
                                got.as_bytes() == want.as_slice(),
                                "{layout:?} {w}x{h} {rect:?} matrix {matrix} {range:?} {siting:?} {format}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A picture large enough to be split into bands of rows, every row pinned.
#[test]
fn bands_on_threads_equal_the_scalar_expression() {
    let (w, h) = (642u32, 361u32);
    let layout = Layout { store: Store::U8, interleaved: true, half_width: true, half_height: true };
    let (data, at) = planes(layout, w as usize, h as usize, 77);
    let plane = |i: usize, step: usize, phase: usize| Src {
        data: &data,
        offset: at[i].0,
        stride: at[i].1,
        store: Store::U8,
        step,
        phase,
    };
    let src = YuvSource {
        planes: [plane(0, 1, 0), plane(1, 2, 0), plane(2, 2, 1)],
        depth: 8,
        half_width: true,
        half_height: true,
        width: w,
        height: h,
    };
    let color = ColorInfo { matrix: MatrixCoefficients::BT709, ..ColorInfo::default() };
    let whole = Rect { x: 0, y: 0, width: w, height: h };
    for format in [PixelFormat::Rgb24, PixelFormat::Rgba, PixelFormat::BgrPlanar] {
        let got = rgb::convert(&src, whole, &color, format, super::Transform::new().normalization()).unwrap();
        assert!(got.as_bytes() == reference(&src, whole, &color, format).as_slice(), "{format}");
    }
}

/// An empty rectangle is refused, not converted.
#[test]
fn an_empty_rectangle_is_an_error() {
    let data = vec![0u8; 64];
    let plane = Src { data: &data, offset: 0, stride: 4, store: Store::U8, step: 1, phase: 0 };
    let src = YuvSource { planes: [plane; 3], depth: 8, half_width: true, half_height: true, width: 4, height: 4 };
    let norm = super::Transform::new().normalization();
    for rect in [Rect { x: 2, y: 0, width: 0, height: 4 }, Rect { x: 0, y: 1, width: 4, height: 0 }] {
        assert!(rgb::convert(&src, rect, &ColorInfo::default(), PixelFormat::Rgb24, norm).is_err(), "{rect:?}");
    }
}
