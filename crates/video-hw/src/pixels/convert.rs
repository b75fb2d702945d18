//! Pixel-format conversions in portable safe Rust, shared by the engines: planar ↔
//! semi-planar 4:2:0 (I420 ↔ NV12), YUV → RGB for display and RGB → YUV for encoding,
//! with the matrix (BT.601 / BT.709 / BT.2020 / …) and range (limited / full) a stream
//! signals.
//!
//! Everything works on 8-bit samples; chroma is 4:2:0 and odd sizes round chroma up
//! the way [`PixelFormat::plane_size`] does. YUV → RGB is the conversion every host path
//! of the crate shares (`transform::rgb`): chroma interpolated bilinearly at its siting
//! (the codecs' default, "left", for [`i420_to_host`]; the stream's with [`i420_to_rgb`]),
//! fixed point, rounded once. RGB → YUV averages each 2×2 block, in fixed point (14
//! fractional bits) rounded to nearest. Results are reproducible on every platform.
//!
//! ```
//! use video_hw::pixels::convert::{host_to_i420, i420_to_host, I420Ref, YuvMatrix};
//! use video_hw::frame::HostFrame;
//! use video_hw::{ColorInfo, PixelFormat};
//!
//! // A 4x2 mid-grey picture in I420 …
//! let (y, u, v) = (vec![126u8; 8], vec![128u8; 2], vec![128u8; 2]);
//! let src = I420Ref::packed(&y, &u, &v, 4, 2)?;
//! let matrix = YuvMatrix::for_color(&ColorInfo::default())?;
//! // … becomes RGB …
//! let rgb = i420_to_host(&src, PixelFormat::Rgb24, &matrix)?;
//! assert!(rgb.as_bytes().iter().all(|&c| c == 128));
//! // … and back.
//! let rgb = HostFrame::from_packed(PixelFormat::Rgb24, 4, 2, rgb.into_buffer())?;
//! let mut i420 = Vec::new();
//! host_to_i420(&rgb, PixelFormat::Rgb24, 4, 2, &matrix, &mut i420)?;
//! assert_eq!(&i420[..8], &y[..]);
//! # Ok::<(), video_hw::Error>(())
//! ```

use crate::codec::{ColorInfo, ColorRange, MatrixCoefficients, PixelFormat};
use crate::error::{Error, Result};
use crate::frame::HostFrame;
use crate::pixels::transform::rgb;

/// Fractional bits of the fixed-point coefficients.
const SHIFT: u32 = 14;
const ONE: f64 = (1 << SHIFT) as f64;
const HALF: i32 = 1 << (SHIFT - 1);

/// A read-only 8-bit plane: `rows` rows of `row_bytes` bytes, `stride` bytes apart.
#[derive(Debug, Clone, Copy)]
pub struct PlaneRef<'a> {
    /// The samples (at least `stride * (rows - 1) + row_bytes` bytes).
    pub data: &'a [u8],
    /// Bytes from one row to the next.
    pub stride: usize,
}

impl<'a> PlaneRef<'a> {
    /// A plane over `data` with rows `stride` bytes apart.
    pub fn new(data: &'a [u8], stride: usize) -> Self {
        PlaneRef { data, stride }
    }

    /// The plane as the YUV → RGB conversion reads it (8-bit samples, one component).
    pub(crate) fn as_source(self) -> rgb::Src<'a> {
        rgb::Src { data: self.data, offset: 0, stride: self.stride, store: rgb::Store::U8, step: 1, phase: 0 }
    }

    /// Checks that `rows` rows of `row_bytes` fit.
    fn check(&self, name: &str, row_bytes: usize, rows: usize) -> Result<()> {
        if rows == 0 || row_bytes == 0 {
            return Ok(());
        }
        let need = self.stride.checked_mul(rows - 1).and_then(|n| n.checked_add(row_bytes));
        if self.stride < row_bytes || need.is_none_or(|n| n > self.data.len()) {
            return Err(Error::invalid_input(format!(
                "{name} plane: {rows} rows of {row_bytes} bytes at stride {} do not fit in {} bytes",
                self.stride,
                self.data.len()
            )));
        }
        Ok(())
    }

    /// Row `r` (`row_bytes` long); only called after [`check`](Self::check).
    fn row(&self, r: usize, row_bytes: usize) -> &'a [u8] {
        &self.data[r * self.stride..][..row_bytes]
    }
}

/// A borrowed planar 8-bit 4:2:0 picture (I420 / yuv420p), e.g. a decoder's output
/// buffer with its strides.
#[derive(Debug, Clone, Copy)]
pub struct I420Ref<'a> {
    /// Luma, `width` × `height`.
    pub y: PlaneRef<'a>,
    /// Cb, `ceil(width/2)` × `ceil(height/2)`.
    pub u: PlaneRef<'a>,
    /// Cr, `ceil(width/2)` × `ceil(height/2)`.
    pub v: PlaneRef<'a>,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
}

impl<'a> I420Ref<'a> {
    /// Wraps three planes with their strides; fails when a plane is too small.
    pub fn new(y: PlaneRef<'a>, u: PlaneRef<'a>, v: PlaneRef<'a>, width: u32, height: u32) -> Result<Self> {
        let r = I420Ref { y, u, v, width, height };
        let (w, h) = r.luma_size();
        let (cw, ch) = r.chroma_size();
        r.y.check("Y", w, h)?;
        r.u.check("U", cw, ch)?;
        r.v.check("V", cw, ch)?;
        Ok(r)
    }

    /// Wraps three tightly packed planes.
    pub fn packed(y: &'a [u8], u: &'a [u8], v: &'a [u8], width: u32, height: u32) -> Result<Self> {
        let cw = (width as usize).div_ceil(2);
        I420Ref::new(PlaneRef::new(y, width as usize), PlaneRef::new(u, cw), PlaneRef::new(v, cw), width, height)
    }

    /// Borrows a [`PixelFormat::Yuv420p`] host frame.
    pub fn from_host(frame: &'a HostFrame, width: u32, height: u32) -> Result<Self> {
        if frame.planes().len() != 3 {
            return Err(Error::invalid_input("an I420 picture needs three planes"));
        }
        let plane = |i: usize| {
            let p = frame.plane(i);
            PlaneRef::new(frame.as_bytes().get(p.offset..).unwrap_or(&[]), p.stride)
        };
        I420Ref::new(plane(0), plane(1), plane(2), width, height)
    }

    fn luma_size(&self) -> (usize, usize) {
        (self.width as usize, self.height as usize)
    }

    fn chroma_size(&self) -> (usize, usize) {
        ((self.width as usize).div_ceil(2), (self.height as usize).div_ceil(2))
    }
}

/// YUV ↔ RGB coefficients for one matrix and sample range, in fixed point.
///
/// | matrix (H.273 code point) | Kr | Kb |
/// |---|---|---|
/// | BT.709 (1) | 0.2126 | 0.0722 |
/// | FCC (4) | 0.30 | 0.11 |
/// | BT.470BG / SMPTE 170M, i.e. BT.601 (5, 6) | 0.299 | 0.114 |
/// | SMPTE 240M (7) | 0.212 | 0.087 |
/// | BT.2020 NCL / CL (9, 10; CL treated as NCL) | 0.2627 | 0.0593 |
/// | identity / GBR (0) | Y = G, Cb = B, Cr = R | |
///
/// Unspecified (2) and reserved (3) become BT.601, as FFmpeg's swscale takes them
/// ([`ColorInfo::effective_matrix`]; [`crate::ColorMatrix`] has the other rules); other
/// code points (YCgCo, ICtCp, …) are `Unsupported`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YuvMatrix {
    /// The matrix (H.273 code point) and range the coefficients are for.
    code: MatrixCoefficients,
    range: ColorRange,
    identity: bool,
    full_range: bool,
    /// Luma scale (RGB from Y), × 2^14.
    y_mul: i32,
    r_cr: i32,
    g_cb: i32,
    g_cr: i32,
    b_cb: i32,
    /// RGB → Y coefficients, × 2^14, range scale folded in.
    yr: i32,
    yg: i32,
    yb: i32,
    /// RGB → Cb / Cr coefficients, × 2^14, range scale folded in.
    ur: i32,
    ug: i32,
    ub: i32,
    vr: i32,
    vg: i32,
    vb: i32,
}

impl YuvMatrix {
    /// Coefficients for `matrix` (an explicit code point, not "unspecified") and `range`.
    pub fn new(matrix: MatrixCoefficients, range: ColorRange) -> Result<Self> {
        let (kr, kb) = match (matrix.0, matrix.kr_kb()) {
            (0, _) => (0.0, 0.0),
            (_, Some(k)) => k,
            (other, None) => {
                return Err(Error::unsupported(
                    format!("matrix coefficients {other}"),
                    "YUV/RGB conversion knows BT.601, BT.709, BT.2020, FCC, SMPTE 240M and identity",
                ));
            }
        };
        let full_range = range == ColorRange::Full;
        // Sample scales from 8-bit code values to [0, 1] (luma) and [-0.5, 0.5] (chroma).
        let (ys, cs) = if full_range { (1.0, 1.0) } else { (255.0 / 219.0, 255.0 / 224.0) };
        let fx = |v: f64| (v * ONE).round() as i32;
        if matrix.0 == 0 {
            return Ok(YuvMatrix {
                code: matrix,
                range,
                identity: true,
                full_range,
                y_mul: fx(ys),
                r_cr: 0,
                g_cb: 0,
                g_cr: 0,
                b_cb: 0,
                yr: 0,
                yg: fx(1.0 / ys),
                yb: 0,
                ur: 0,
                ug: 0,
                ub: fx(1.0 / ys),
                vr: fx(1.0 / ys),
                vg: 0,
                vb: 0,
            });
        }
        let kg = 1.0 - kr - kb;
        Ok(YuvMatrix {
            code: matrix,
            range,
            identity: false,
            full_range,
            y_mul: fx(ys),
            r_cr: fx(cs * 2.0 * (1.0 - kr)),
            g_cb: fx(cs * 2.0 * kb * (1.0 - kb) / kg),
            g_cr: fx(cs * 2.0 * kr * (1.0 - kr) / kg),
            b_cb: fx(cs * 2.0 * (1.0 - kb)),
            yr: fx(kr / ys),
            yg: fx(kg / ys),
            yb: fx(kb / ys),
            ur: fx(-kr / (2.0 * (1.0 - kb)) / cs),
            ug: fx(-kg / (2.0 * (1.0 - kb)) / cs),
            ub: fx(0.5 / cs),
            vr: fx(0.5 / cs),
            vg: fx(-kg / (2.0 * (1.0 - kr)) / cs),
            vb: fx(-kb / (2.0 * (1.0 - kr)) / cs),
        })
    }

    /// Coefficients for a stream's colour description; an unspecified matrix is BT.601
    /// ([`ColorInfo::effective_matrix`], FFmpeg's rule).
    pub fn for_color(color: &ColorInfo) -> Result<Self> {
        YuvMatrix::new(color.effective_matrix(), color.range)
    }

    /// The YUV → RGB coefficients as the GPU kernel takes them: luma offset, luma scale,
    /// Cr→R, Cb→G, Cr→G, Cb→B, all × 2^14 (None for the identity matrix, which the kernel
    /// does not handle).
    pub(crate) fn fixed_point(&self) -> Option<[i32; 6]> {
        if self.identity {
            return None;
        }
        Some([self.offsets().0, self.y_mul, self.r_cr, self.g_cb, self.g_cr, self.b_cb])
    }

    fn offsets(&self) -> (i32, i32) {
        if self.full_range { (0, 128) } else { (16, 128) }
    }

    /// One pixel to (R, G, B), chroma as it is (the tests' check of the coefficients;
    /// pictures convert through `transform::rgb`).
    #[cfg(test)]
    fn rgb(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let (yo, co) = self.offsets();
        let yy = (y as i32 - yo) * self.y_mul + HALF;
        if self.identity {
            let s = |c: u8| clamp8(((c as i32 - yo) * self.y_mul + HALF) >> SHIFT);
            return [s(cr), clamp8(yy >> SHIFT), s(cb)];
        }
        let u = cb as i32 - co;
        let v = cr as i32 - co;
        [
            clamp8((yy + self.r_cr * v) >> SHIFT),
            clamp8((yy - self.g_cb * u - self.g_cr * v) >> SHIFT),
            clamp8((yy + self.b_cb * u) >> SHIFT),
        ]
    }

    /// Luma of one RGB pixel.
    #[inline(always)]
    fn luma(&self, r: i32, g: i32, b: i32) -> u8 {
        let (yo, _) = self.offsets();
        clamp8(((self.yr * r + self.yg * g + self.yb * b + HALF) >> SHIFT) + yo)
    }

    /// Chroma of the mean of `n` RGB pixels given as sums.
    #[inline(always)]
    fn chroma(&self, r: i32, g: i32, b: i32, n: i32) -> (u8, u8) {
        let (yo, co) = self.offsets();
        if self.identity {
            let s = |c: i32| clamp8(((self.yg * c) / n + HALF) >> SHIFT) as i32 + yo;
            return (clamp8(s(b)), clamp8(s(r)));
        }
        let half = n * HALF;
        let u = (self.ur * r + self.ug * g + self.ub * b + half).div_euclid(n << SHIFT);
        let v = (self.vr * r + self.vg * g + self.vb * b + half).div_euclid(n << SHIFT);
        (clamp8(u + co), clamp8(v + co))
    }
}

#[inline(always)]
fn clamp8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Copies `rows` rows of `row_bytes` from `src` into a tightly packed `dst`.
pub fn copy_plane(src: PlaneRef<'_>, row_bytes: usize, rows: usize, dst: &mut [u8]) -> Result<()> {
    src.check("source", row_bytes, rows)?;
    if dst.len() < row_bytes * rows {
        return Err(Error::invalid_input("destination plane too small"));
    }
    for (r, out) in dst.chunks_exact_mut(row_bytes.max(1)).take(rows).enumerate() {
        out.copy_from_slice(src.row(r, row_bytes));
    }
    Ok(())
}

/// Interleaves two chroma planes (`cw` × `ch`) into one packed UV plane (NV12 order).
pub fn interleave_uv(u: PlaneRef<'_>, v: PlaneRef<'_>, cw: usize, ch: usize, dst: &mut [u8]) -> Result<()> {
    u.check("U", cw, ch)?;
    v.check("V", cw, ch)?;
    if dst.len() < 2 * cw * ch {
        return Err(Error::invalid_input("destination UV plane too small"));
    }
    for (r, out) in dst.chunks_exact_mut((2 * cw).max(1)).take(ch).enumerate() {
        for ((pair, &cb), &cr) in out.chunks_exact_mut(2).zip(u.row(r, cw)).zip(v.row(r, cw)) {
            pair[0] = cb;
            pair[1] = cr;
        }
    }
    Ok(())
}

/// Splits a packed UV plane (NV12 order, `cw` pairs per row) into two tightly packed planes.
pub fn deinterleave_uv(uv: PlaneRef<'_>, cw: usize, ch: usize, u: &mut [u8], v: &mut [u8]) -> Result<()> {
    uv.check("UV", 2 * cw, ch)?;
    if u.len() < cw * ch || v.len() < cw * ch {
        return Err(Error::invalid_input("destination chroma planes too small"));
    }
    for r in 0..ch {
        let row = uv.row(r, 2 * cw);
        for (x, pair) in row.chunks_exact(2).enumerate() {
            u[r * cw + x] = pair[0];
            v[r * cw + x] = pair[1];
        }
    }
    Ok(())
}

/// Converts an I420 picture to a tightly packed host frame of `format`: `Yuv420p`
/// (copy), `Nv12` (interleave), `Rgb24`, `Bgra` (alpha 255) or `RgbPlanar` (planes R,
/// G, B in that order, as [`PixelFormat::RgbPlanar`] documents).
pub fn i420_to_host(src: &I420Ref<'_>, format: PixelFormat, matrix: &YuvMatrix) -> Result<HostFrame> {
    let (w, h) = src.luma_size();
    let (cw, ch) = src.chroma_size();
    // In a decode pipeline's worker this is a free slot of the pipeline's frame ring
    // (every byte is written below), so decoding allocates nothing per frame.
    let mut out = HostFrame::for_output(format, src.width, src.height);
    let planes: Vec<_> = out.planes().to_vec();
    let buf = out.as_bytes_mut();
    match format {
        PixelFormat::Yuv420p => {
            copy_plane(src.y, w, h, &mut buf[planes[0].offset..])?;
            copy_plane(src.u, cw, ch, &mut buf[planes[1].offset..])?;
            copy_plane(src.v, cw, ch, &mut buf[planes[2].offset..])?;
        }
        PixelFormat::Nv12 => {
            copy_plane(src.y, w, h, &mut buf[planes[0].offset..])?;
            interleave_uv(src.u, src.v, cw, ch, &mut buf[planes[1].offset..])?;
        }
        PixelFormat::Rgb24 | PixelFormat::Bgra | PixelFormat::RgbPlanar => {
            // The codecs' default chroma siting (left): the caller who knows the stream's
            // calls `i420_to_rgb`.
            let color = ColorInfo { matrix: matrix.code, range: matrix.range, ..ColorInfo::default() };
            return i420_to_rgb(src, format, &color);
        }
        other => {
            return Err(Error::unsupported(
                format!("conversion from yuv420p to {other}"),
                "not an 8-bit output format",
            ));
        }
    }
    Ok(out)
}

/// Converts an I420 picture to RGB of any 8-bit or float [`PixelFormat`] (packed or
/// planar, any channel order), with `color`'s matrix (an unspecified one is BT.601, as
/// [`YuvMatrix::for_color`] takes it), range and chroma siting: chroma is interpolated at
/// its signalled position, as every host path of this crate does (docs/transforms.md).
pub fn i420_to_rgb(src: &I420Ref<'_>, format: PixelFormat, color: &ColorInfo) -> Result<HostFrame> {
    i420_to_rgb_spread(src, format, color, rgb::Spread::Cores)
}

/// [`i420_to_rgb`], its rows computed as `spread` says (a decoder's session converting
/// beside others takes its share of the cores).
pub(crate) fn i420_to_rgb_spread(
    src: &I420Ref<'_>,
    format: PixelFormat,
    color: &ColorInfo,
    spread: rgb::Spread,
) -> Result<HostFrame> {
    let plane = PlaneRef::as_source;
    let source = rgb::YuvSource {
        planes: [plane(src.y), plane(src.u), plane(src.v)],
        depth: 8,
        half_width: true,
        half_height: true,
        width: src.width,
        height: src.height,
    };
    rgb::convert_whole(&source, color, format, spread)
}

/// Converts a host picture of `format` (`Yuv420p`, `Nv12`, `Rgb24`, `Bgra`,
/// `RgbPlanar`) and size to tightly packed I420, replacing the contents of `out`.
/// RGB input is converted with `matrix` (its range decides the output range).
pub fn host_to_i420(
    frame: &HostFrame,
    format: PixelFormat,
    width: u32,
    height: u32,
    matrix: &YuvMatrix,
    out: &mut Vec<u8>,
) -> Result<()> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    if frame.planes().len() != format.plane_count() {
        return Err(Error::invalid_input(format!("a {format} picture needs {} planes", format.plane_count())));
    }
    let plane = |i: usize| {
        let p = frame.plane(i);
        PlaneRef::new(frame.as_bytes().get(p.offset..).unwrap_or(&[]), p.stride)
    };
    out.clear();
    out.resize(w * h + 2 * cw * ch, 0);
    let (yp, rest) = out.split_at_mut(w * h);
    let (up, vp) = rest.split_at_mut(cw * ch);
    match format {
        PixelFormat::Yuv420p => {
            copy_plane(plane(0), w, h, yp)?;
            copy_plane(plane(1), cw, ch, up)?;
            copy_plane(plane(2), cw, ch, vp)?;
        }
        PixelFormat::Nv12 => {
            copy_plane(plane(0), w, h, yp)?;
            deinterleave_uv(plane(1), cw, ch, up, vp)?;
        }
        PixelFormat::Rgb24 | PixelFormat::Bgra | PixelFormat::RgbPlanar => {
            // (offset of R, G, B within a pixel, bytes per pixel) for packed input.
            let packed = match format {
                PixelFormat::Rgb24 => Some(((0, 1, 2), 3)),
                PixelFormat::Bgra => Some(((2, 1, 0), 4)),
                _ => None,
            };
            let planes = match packed {
                Some((_, bpp)) => {
                    plane(0).check("RGB", w * bpp, h)?;
                    [plane(0), plane(0), plane(0)]
                }
                None => {
                    for i in 0..3 {
                        plane(i).check("RGB", w, h)?;
                    }
                    [plane(0), plane(1), plane(2)]
                }
            };
            let pixel = |x: usize, y: usize| -> (i32, i32, i32) {
                match packed {
                    Some(((ro, go, bo), bpp)) => {
                        let row = planes[0].row(y, w * bpp);
                        (row[x * bpp + ro] as i32, row[x * bpp + go] as i32, row[x * bpp + bo] as i32)
                    }
                    None => {
                        (planes[0].row(y, w)[x] as i32, planes[1].row(y, w)[x] as i32, planes[2].row(y, w)[x] as i32)
                    }
                }
            };
            for y in 0..h {
                for x in 0..w {
                    let (r, g, b) = pixel(x, y);
                    yp[y * w + x] = matrix.luma(r, g, b);
                }
            }
            for cy in 0..ch {
                for cx in 0..cw {
                    let (mut r, mut g, mut b, mut n) = (0, 0, 0, 0);
                    for y in 2 * cy..(2 * cy + 2).min(h) {
                        for x in 2 * cx..(2 * cx + 2).min(w) {
                            let p = pixel(x, y);
                            r += p.0;
                            g += p.1;
                            b += p.2;
                            n += 1;
                        }
                    }
                    let (u, v) = matrix.chroma(r, g, b, n.max(1));
                    up[cy * cw + cx] = u;
                    vp[cy * cw + cx] = v;
                }
            }
        }
        other => {
            return Err(Error::unsupported(format!("conversion from {other} to yuv420p"), "not an 8-bit input format"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bt(m: u8, range: ColorRange) -> YuvMatrix {
        YuvMatrix::new(MatrixCoefficients(m), range).unwrap()
    }

    #[test]
    fn limited_range_black_white_and_primaries() {
        let m = bt(1, ColorRange::Limited);
        assert_eq!(m.rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(m.rgb(235, 128, 128), [255, 255, 255]);
        // BT.709 red: Y=63, Cb=102, Cr=240 (limited).
        let [r, g, b] = m.rgb(63, 102, 240);
        assert!(r >= 253 && g <= 2 && b <= 2, "{r} {g} {b}");
        let m = bt(6, ColorRange::Limited);
        // BT.601 red: Y=81, Cb=90, Cr=240.
        let [r, g, b] = m.rgb(81, 90, 240);
        assert!(r >= 253 && g <= 2 && b <= 2, "{r} {g} {b}");
    }

    #[test]
    fn full_range_is_unscaled() {
        let m = bt(5, ColorRange::Full);
        assert_eq!(m.rgb(0, 128, 128), [0, 0, 0]);
        assert_eq!(m.rgb(255, 128, 128), [255, 255, 255]);
        assert_eq!(m.rgb(77, 128, 128), [77, 77, 77]);
    }

    #[test]
    fn rgb_yuv_round_trip_is_close_for_every_matrix() {
        for code in [1u8, 5, 6, 9, 4, 7] {
            for range in [ColorRange::Limited, ColorRange::Full] {
                let m = bt(code, range);
                for &(r, g, b) in &[(255, 0, 0), (0, 255, 0), (0, 0, 255), (200, 100, 50), (12, 240, 128)] {
                    let y = m.luma(r, g, b);
                    let (u, v) = m.chroma(r, g, b, 1);
                    let back = m.rgb(y, u, v);
                    for (got, want) in back.iter().zip([r, g, b]) {
                        assert!((*got as i32 - want).abs() <= 3, "matrix {code} {range:?}: {back:?} vs {r},{g},{b}");
                    }
                }
            }
        }
    }

    #[test]
    fn identity_matrix_maps_planes() {
        let m = bt(0, ColorRange::Full);
        assert_eq!(m.rgb(10, 20, 30), [30, 10, 20]);
        assert_eq!(m.luma(30, 10, 20), 10);
        assert_eq!(m.chroma(30, 10, 20, 1), (20, 30));
    }

    #[test]
    fn unknown_matrix_is_unsupported() {
        assert!(matches!(YuvMatrix::new(MatrixCoefficients(8), ColorRange::Limited), Err(Error::Unsupported { .. })));
    }

    #[test]
    fn unspecified_matrix_is_bt601_at_every_size() {
        let c = ColorInfo::default();
        assert_eq!(YuvMatrix::for_color(&c).unwrap(), bt(6, ColorRange::Limited));
        let reserved = ColorInfo { matrix: MatrixCoefficients(3), ..c };
        assert_eq!(YuvMatrix::for_color(&reserved).unwrap(), bt(6, ColorRange::Limited));
        let tagged = ColorInfo { matrix: MatrixCoefficients::BT709, ..c };
        assert_eq!(YuvMatrix::for_color(&tagged).unwrap(), bt(1, ColorRange::Limited));
    }

    fn sample_i420(w: u32, h: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (cw, ch) = (w.div_ceil(2) as usize, h.div_ceil(2) as usize);
        let y = (0..(w * h) as usize).map(|i| (i * 7 % 256) as u8).collect();
        let u = (0..cw * ch).map(|i| (i * 13 % 256) as u8).collect();
        let v = (0..cw * ch).map(|i| (i * 29 % 256) as u8).collect();
        (y, u, v)
    }

    #[test]
    fn i420_nv12_round_trip_with_odd_sizes() {
        let m = bt(1, ColorRange::Limited);
        for (w, h) in [(1, 1), (3, 5), (16, 16), (17, 9)] {
            let (y, u, v) = sample_i420(w, h);
            let src = I420Ref::packed(&y, &u, &v, w, h).unwrap();
            let nv12 = i420_to_host(&src, PixelFormat::Nv12, &m).unwrap();
            assert_eq!(nv12.as_bytes().len(), PixelFormat::Nv12.frame_size(w, h));
            let mut back = Vec::new();
            host_to_i420(&nv12, PixelFormat::Nv12, w, h, &m, &mut back).unwrap();
            assert_eq!(back, [y.clone(), u.clone(), v.clone()].concat(), "{w}x{h}");
            let yuv = i420_to_host(&src, PixelFormat::Yuv420p, &m).unwrap();
            assert_eq!(yuv.as_bytes(), &back[..]);
        }
    }

    #[test]
    fn strided_source_is_cropped_correctly() {
        // 4x2 picture inside rows of 8 bytes.
        let y: Vec<u8> = (0..16).collect();
        let u = vec![1, 2, 0, 0];
        let v = vec![3, 4, 0, 0];
        let src = I420Ref::new(PlaneRef::new(&y, 8), PlaneRef::new(&u, 4), PlaneRef::new(&v, 4), 4, 2).unwrap();
        let out = i420_to_host(&src, PixelFormat::Yuv420p, &bt(1, ColorRange::Limited)).unwrap();
        assert_eq!(out.as_bytes(), &[0, 1, 2, 3, 8, 9, 10, 11, 1, 2, 3, 4]);
    }

    #[test]
    fn rgb_formats_agree() {
        let m = bt(6, ColorRange::Limited);
        let (w, h) = (5, 3);
        let (y, u, v) = sample_i420(w, h);
        let src = I420Ref::packed(&y, &u, &v, w, h).unwrap();
        let rgb = i420_to_host(&src, PixelFormat::Rgb24, &m).unwrap();
        let bgra = i420_to_host(&src, PixelFormat::Bgra, &m).unwrap();
        let planar = i420_to_host(&src, PixelFormat::RgbPlanar, &m).unwrap();
        let n = (w * h) as usize;
        for i in 0..n {
            let p = &rgb.as_bytes()[i * 3..i * 3 + 3];
            assert_eq!(&bgra.as_bytes()[i * 4..i * 4 + 4], &[p[2], p[1], p[0], 255]);
            let pl = planar.as_bytes();
            assert_eq!([pl[i], pl[n + i], pl[2 * n + i]], [p[0], p[1], p[2]]);
        }
        // RGB back to I420 from all three layouts gives the same picture.
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut c = Vec::new();
        host_to_i420(&rgb, PixelFormat::Rgb24, w, h, &m, &mut a).unwrap();
        host_to_i420(&bgra, PixelFormat::Bgra, w, h, &m, &mut b).unwrap();
        host_to_i420(&planar, PixelFormat::RgbPlanar, w, h, &m, &mut c).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn short_planes_are_errors_not_panics() {
        let y = vec![0u8; 10];
        assert!(I420Ref::packed(&y, &[0; 4], &[0; 4], 4, 4).is_err());
        let f = HostFrame::new_packed(PixelFormat::Rgb24, 2, 2);
        let mut out = Vec::new();
        assert!(host_to_i420(&f, PixelFormat::Rgb24, 4, 4, &bt(1, ColorRange::Limited), &mut out).is_err());
        assert!(host_to_i420(&f, PixelFormat::Nv12, 2, 2, &bt(1, ColorRange::Limited), &mut out).is_err());
    }
}
