//! Where each output sample reads from. A [`Plan`] holds, per plane and axis, the source
//! samples and weights of every output sample ([`AxisTaps`]); it is computed once per
//! transform, source format, size and colour, and reused for every frame of that kind.
//! Resampling is separable, so a 2-D weight is the product of the two axes' weights.
//!
//! Coordinates: luma sample `k` sits at position `k` and covers `[k − 0.5, k + 0.5)`.
//! A 4:2:0 chroma sample `j` sits at luma position `2j + offset`, the offset given by the
//! chroma siting ([`ChromaLocation::offset`]). Output sample `j` of a plane maps into the
//! source through the crop and the resize ratio; bilinear interpolates at that position,
//! area averages the source over the output sample's footprint.

use super::{Filter, Rect, Transform};
use crate::codec::{ColorInfo, PixelFormat};
use crate::error::{Error, Result};

/// For each output sample along one axis: the source samples it reads and their weights
/// (summing to 1). An output sample with no taps lies in a letterbox bar.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AxisTaps {
    /// `offsets[j]..offsets[j + 1]` indexes `index` and `weight` for output sample `j`.
    pub offsets: Vec<u32>,
    /// Source sample indices (along this axis, in the source plane).
    pub index: Vec<u32>,
    /// Weights, one per index.
    pub weight: Vec<f32>,
}

impl AxisTaps {
    /// Number of output samples.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no output samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The taps of output sample `j`: (source indices, weights); empty in a bar.
    pub fn taps(&self, j: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.offsets[j] as usize, self.offsets[j + 1] as usize);
        (&self.index[a..b], &self.weight[a..b])
    }

    /// The most taps any output sample has.
    pub fn max_taps(&self) -> usize {
        self.offsets.windows(2).map(|w| (w[1] - w[0]) as usize).max().unwrap_or(0)
    }
}

/// The taps of one output plane: horizontal and vertical.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlaneTaps {
    /// Along rows (one entry per output column).
    pub x: AxisTaps,
    /// Along columns (one entry per output row).
    pub y: AxisTaps,
}

/// Everything a transform needs to process frames of one source format, size and colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The source's pixel format (4:2:0 YUV).
    pub source: PixelFormat,
    /// The output's pixel format.
    pub output: PixelFormat,
    /// Output width, before the output is turned ([`Plan::rotation`]).
    pub width: u32,
    /// Output height, before the output is turned.
    pub height: u32,
    /// The colour conversion is done with (the stream's, overrides applied, the matrix
    /// resolved by the transform's [`ColorMatrix`](crate::ColorMatrix) rule).
    pub color: ColorInfo,
    /// Output luma (YUV) or output pixels (RGB) from the source's luma plane.
    pub luma: PlaneTaps,
    /// Output chroma samples (YUV) or output pixels (RGB) from the source's chroma planes.
    pub chroma: PlaneTaps,
    /// Where the picture sits in the output (the whole output unless letterboxed).
    pub content: Rect,
    /// Source code values → normalised Y' in [0, 1] and Cb/Cr in [−0.5, 0.5].
    pub coeffs: Coeffs,
    /// The letterbox fill: R, G, B in [0, 1].
    pub pad: [f32; 3],
    /// Quarter turns counter-clockwise the output is stored with (0-3): `width`, `height`
    /// and the taps are of the unturned output, [`Plan::output_size`] of the turned one.
    pub rotation: u8,
}

impl Plan {
    /// The size of the frames this plan makes: `width` × `height`, turned.
    pub fn output_size(&self) -> (u32, u32) {
        super::rotate::displayed(self.rotation, self.width, self.height)
    }
}

/// The arithmetic of YUV → RGB for one matrix, range and bit depth (H.273 equations).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coeffs {
    /// Subtracted from luma code values.
    pub y_off: f32,
    /// Multiplies luma after the offset (to [0, 1]).
    pub y_scale: f32,
    /// Subtracted from chroma code values.
    pub c_off: f32,
    /// Multiplies chroma after the offset (to [−0.5, 0.5]).
    pub c_scale: f32,
    /// `None` for the identity matrix (G = Y, B = Cb, R = Cr); else (Kr, Kb).
    pub k: Option<(f64, f64)>,
}

impl Coeffs {
    /// For `color` (its matrix already resolved) at `depth` bits.
    pub fn new(color: &ColorInfo, depth: u8) -> Result<Self> {
        let k = match (color.matrix.0, color.matrix.kr_kb()) {
            (0, _) => None,
            (_, Some(k)) => Some(k),
            (m, None) => {
                return Err(Error::unsupported(
                    format!("matrix coefficients {m}"),
                    "transforms know BT.601, BT.709, BT.2020, FCC, SMPTE 240M and identity",
                ));
            }
        };
        let unit = f64::from(1u32 << (depth - 8));
        let (y_off, y_div, c_off, c_div) = match color.range {
            crate::ColorRange::Limited => (16.0 * unit, 219.0 * unit, 128.0 * unit, 224.0 * unit),
            crate::ColorRange::Full => {
                let max = f64::from((1u32 << depth) - 1);
                (0.0, max, 128.0 * unit, max)
            }
        };
        Ok(Coeffs {
            y_off: y_off as f32,
            y_scale: (1.0 / y_div) as f32,
            c_off: c_off as f32,
            c_scale: (1.0 / c_div) as f32,
            k,
        })
    }

    /// (R, G, B) multipliers of (Y', Cb', Cr') as f32: r = y + rv·cr; g = y + gu·cb + gv·cr;
    /// b = y + bu·cb (identity: all zero, handled apart).
    pub fn rgb_factors(&self) -> (f32, f32, f32, f32) {
        match self.k {
            None => (0.0, 0.0, 0.0, 0.0),
            Some((kr, kb)) => {
                let kg = 1.0 - kr - kb;
                (
                    (2.0 * (1.0 - kr)) as f32,
                    (-2.0 * kb * (1.0 - kb) / kg) as f32,
                    (-2.0 * kr * (1.0 - kr) / kg) as f32,
                    (2.0 * (1.0 - kb)) as f32,
                )
            }
        }
    }

    /// R, G, B in [0, 1] → (Y, Cb, Cr) code values at this depth, unrounded.
    pub fn yuv_of(&self, rgb: [f32; 3]) -> [f64; 3] {
        let [r, g, b] = rgb.map(f64::from);
        let (y, cb, cr) = match self.k {
            None => (g, b - 0.5, r - 0.5),
            Some((kr, kb)) => {
                let y = kr * r + (1.0 - kr - kb) * g + kb * b;
                (y, (b - y) / (2.0 * (1.0 - kb)), (r - y) / (2.0 * (1.0 - kr)))
            }
        };
        let (yo, ys, co, cs) =
            (f64::from(self.y_off), f64::from(self.y_scale), f64::from(self.c_off), f64::from(self.c_scale));
        if self.k.is_none() {
            // Identity: every channel is scaled like luma.
            return [y / ys + yo, (cb + 0.5) / ys + yo, (cr + 0.5) / ys + yo];
        }
        [y / ys + yo, cb / cs + co, cr / cs + co]
    }
}

/// One axis of one plane: how output samples map to source samples.
struct Axis {
    /// Output plane samples along the axis.
    out_samples: usize,
    /// Output plane subsampling (1 or 2) and siting offset, in output luma samples.
    out_sub: f64,
    out_off: f64,
    /// The picture's place in the output, in output luma samples `[lo, lo + len)`.
    content_lo: f64,
    content_len: f64,
    /// The crop in source luma samples `[lo, lo + len)`.
    src_lo: f64,
    src_len: f64,
    /// Source plane subsampling, siting offset and sample count along the axis.
    src_sub: f64,
    src_off: f64,
    src_samples: usize,
    filter: Filter,
    /// Chroma read for RGB pixels at the source's scale: each pixel takes the chroma
    /// sample nearest to it at the siting (the earlier one where it lies halfway), the
    /// conversion every same-size path runs (`rgb.rs`; docs/transforms.md, "Chroma"), so
    /// that the taps (the GPU's transform kernel, a letterbox) give the same colours.
    nearest: bool,
}

impl Axis {
    fn taps(&self) -> AxisTaps {
        let mut t = AxisTaps { offsets: Vec::with_capacity(self.out_samples + 1), ..AxisTaps::default() };
        t.offsets.push(0);
        let r = self.src_len / self.content_len;
        let last = (self.src_samples - 1) as f64;
        // Plane coordinate (sample index units) of a source luma position.
        let plane = |s: f64| (s - self.src_off) / self.src_sub;
        let lo = plane(self.src_lo).floor().clamp(0.0, last);
        let hi = plane(self.src_lo + self.src_len - 1.0).ceil().clamp(0.0, last);
        let content_hi = self.content_lo + self.content_len;
        for j in 0..self.out_samples {
            // Output sample centre, in output luma edge coordinates (pixel k spans [k, k+1)).
            let centre = self.out_sub * j as f64 + self.out_off + 0.5;
            if centre < self.content_lo || centre > content_hi {
                t.offsets.push(t.index.len() as u32);
                continue;
            }
            let to_src = |x: f64| self.src_lo + (x - self.content_lo) * r;
            // The output's spacing in source plane samples: above 1 the axis shrinks in
            // this plane.
            let spacing = r * self.out_sub / self.src_sub;
            if self.filter == Filter::Triangle && spacing > 1.0 {
                // The tent over the plane samples within `spacing` of the centre, cut to
                // the crop and normalised (torchvision's antialiased bilinear; PIL's).
                let p = plane(to_src(centre) - 0.5);
                let (first, last) = ((p - spacing).floor().max(lo), (p + spacing).ceil().min(hi));
                let tent = |k: f64| (1.0 - (k - p).abs() / spacing).max(0.0);
                let sum: f64 = (first as u32..=last as u32).map(|k| tent(f64::from(k))).sum();
                if sum > 0.0 {
                    for k in first as u32..=last as u32 {
                        let w = tent(f64::from(k));
                        if w > 0.0 {
                            t.index.push(k);
                            t.weight.push((w / sum) as f32);
                        }
                    }
                    t.offsets.push(t.index.len() as u32);
                    continue;
                }
            }
            if self.filter == Filter::Area && r > 1.0 {
                // Footprint in output edge coordinates, clipped to the picture, then in
                // source plane edge coordinates (plane sample i spans [i, i+1)).
                let a = (centre - self.out_sub / 2.0).max(self.content_lo);
                let b = (centre + self.out_sub / 2.0).min(content_hi);
                let edge = |x: f64| (to_src(x) - self.src_off - 0.5) / self.src_sub + 0.5;
                let (pa, pb) = (edge(a).clamp(lo, hi + 1.0), edge(b).clamp(lo, hi + 1.0));
                if pb - pa > 1e-9 {
                    let mut k = pa.floor();
                    while k < pb {
                        let overlap = pb.min(k + 1.0) - pa.max(k);
                        if overlap > 0.0 {
                            t.index.push(k.clamp(lo, hi) as u32);
                            t.weight.push((overlap / (pb - pa)) as f32);
                        }
                        k += 1.0;
                    }
                    t.offsets.push(t.index.len() as u32);
                    continue;
                }
            }
            let p = plane(to_src(centre) - 0.5).clamp(lo, hi);
            let i0 = p.floor();
            let f = p - i0;
            if self.nearest {
                t.index.push(if f > 0.5 { (i0 + 1.0).min(hi) } else { i0 } as u32);
                t.weight.push(1.0);
                t.offsets.push(t.index.len() as u32);
                continue;
            }
            t.index.push(i0 as u32);
            t.weight.push((1.0 - f) as f32);
            if f > 0.0 {
                t.index.push((i0 + 1.0).min(hi) as u32);
                t.weight.push(f as f32);
            }
            t.offsets.push(t.index.len() as u32);
        }
        t
    }
}

impl Transform {
    /// The plan for frames of `source` format, displayed size `width` × `height` and
    /// colour `color`. Fails when the crop does not fit, the source is not 4:2:0 YUV, or
    /// an RGB output (or a letterbox fill) needs a matrix this crate does not know.
    pub fn plan(&self, source: PixelFormat, width: u32, height: u32, color: &ColorInfo) -> Result<Plan> {
        if width == 0 || height == 0 {
            return Err(Error::invalid_input(format!("transform of a {width}x{height} picture")));
        }
        let mut plan = self.coded(width, height)?.plan_coded(source, width, height, color)?;
        plan.rotation = super::rotate::quarter_turns(self.rotation()).unwrap_or(0);
        Ok(plan)
    }

    /// [`plan`](Self::plan) of this transform without its rotation.
    fn plan_coded(&self, source: PixelFormat, width: u32, height: u32, color: &ColorInfo) -> Result<Plan> {
        if !source.is_yuv() {
            return Err(Error::unsupported(format!("transform from {source}"), "transforms take 4:2:0 YUV frames"));
        }
        if width == 0 || height == 0 {
            return Err(Error::invalid_input(format!("transform of a {width}x{height} picture")));
        }
        let crop = self.crop_for(width, height)?;
        let (ow, oh) = self.output_size(width, height)?;
        let output = self.output_format(source);
        let color = self.color_for(color, height);
        let content = match self.letterbox {
            None => Rect { x: 0, y: 0, width: ow, height: oh },
            Some(_) => {
                let s = (f64::from(ow) / f64::from(crop.width)).min(f64::from(oh) / f64::from(crop.height));
                let w = ((f64::from(crop.width) * s).round() as u32).clamp(1, ow);
                let h = ((f64::from(crop.height) * s).round() as u32).clamp(1, oh);
                Rect { x: (ow - w) / 2, y: (oh - h) / 2, width: w, height: h }
            }
        };
        let rgb_out = !output.is_yuv();
        // Colour arithmetic is needed for RGB output and for a letterbox fill; a YUV
        // resize of a stream with an exotic matrix needs none.
        let coeffs = match Coeffs::new(&color, source.bit_depth()) {
            Ok(c) => c,
            Err(e) if rgb_out || self.letterbox.is_some() => return Err(e),
            Err(_) => {
                Coeffs::new(&ColorInfo { matrix: crate::MatrixCoefficients::BT709, ..color }, source.bit_depth())?
            }
        };
        let (cx, cy) = color.chroma_location.offset();
        let filter = self.filter;
        let axis = |horizontal: bool, chroma_src: bool, chroma_out: bool| {
            let (out_len, content_lo, content_len, src_lo, src_len, full) = if horizontal {
                (ow, content.x, content.width, crop.x, crop.width, width)
            } else {
                (oh, content.y, content.height, crop.y, crop.height, height)
            };
            let off = if horizontal { cx } else { cy };
            let sub = |c: bool| if c { 2.0 } else { 1.0 };
            let samples = |n: u32, c: bool| if c { n.div_ceil(2) } else { n } as usize;
            Axis {
                out_samples: samples(out_len, chroma_out),
                out_sub: sub(chroma_out),
                out_off: if chroma_out { off } else { 0.0 },
                content_lo: f64::from(content_lo),
                content_len: f64::from(content_len),
                src_lo: f64::from(src_lo),
                src_len: f64::from(src_len),
                src_sub: sub(chroma_src),
                src_off: if chroma_src { off } else { 0.0 },
                src_samples: samples(full, chroma_src),
                filter,
                nearest: rgb_out && chroma_src && src_len == content_len,
            }
            .taps()
        };
        let plane = |chroma_src: bool, chroma_out: bool| PlaneTaps {
            x: axis(true, chroma_src, chroma_out),
            y: axis(false, chroma_src, chroma_out),
        };
        let pad = self.letterbox.unwrap_or([0; 3]).map(|v| f32::from(v) / 255.0);
        Ok(Plan {
            source,
            output,
            width: ow,
            height: oh,
            color,
            luma: plane(false, false),
            chroma: plane(true, !rgb_out),
            content,
            coeffs,
            pad,
            rotation: 0,
        })
    }
}
