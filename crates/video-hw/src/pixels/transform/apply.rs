//! The CPU path: runs a [`Plan`] over a host frame in one pass per output row.
//!
//! Resampling is separable. Where a plane does not shrink along y, horizontal first: each
//! source row an output row needs is filtered along x once (kept in a small cache, since
//! neighbouring output rows share source rows when upscaling), then the output row is the
//! weighted sum of those rows. Where it shrinks along y, vertical first: each output row sums
//! its source rows and takes one x pass (`resample.rs` says why). The colour conversion and
//! output write follow per row.

use half::f16;

use super::Transform;
use super::plan::{AxisTaps, Plan};
use super::resample::{RowTaps, Scratch, vertical_first};
use super::rgb::{self, Src, Store, YuvSource};
use crate::codec::{ColorInfo, PixelFormat, SampleType};
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData, HostFrame};

/// Filters source row `r` of `src` along x with `taps` into `out` (one value per output column).
fn hpass(src: &Src<'_>, r: usize, taps: &AxisTaps, out: &mut [f32]) {
    let row = src.row(r);
    let (step, phase) = (src.step, src.phase);
    match src.store {
        Store::U8 => hpass_with(taps, out, |i| f32::from(row[i * step + phase])),
        Store::U16Low => hpass_with(taps, out, |i| {
            let k = 2 * (i * step + phase);
            f32::from(u16::from_le_bytes([row[k], row[k + 1]]))
        }),
        Store::U16High => hpass_with(taps, out, |i| {
            let k = 2 * (i * step + phase);
            f32::from(u16::from_le_bytes([row[k], row[k + 1]]) >> 6)
        }),
    }
}

#[inline(always)]
fn hpass_with(taps: &AxisTaps, out: &mut [f32], at: impl Fn(usize) -> f32) {
    for (o, span) in out.iter_mut().zip(taps.offsets.windows(2)) {
        let (a, b) = (span[0] as usize, span[1] as usize);
        *o = taps.index[a..b].iter().zip(&taps.weight[a..b]).map(|(&i, &w)| w * at(i as usize)).sum();
    }
}

/// The output columns in letterbox bars (no taps).
fn bars(taps: &AxisTaps) -> Vec<usize> {
    taps.offsets.windows(2).enumerate().filter(|(_, s)| s[0] == s[1]).map(|(j, _)| j).collect()
}

/// Source rows filtered along x, kept while output rows still need them.
struct RowCache {
    rows: Vec<(usize, Vec<f32>)>,
    width: usize,
    /// The x taps in the form the row pass runs fast (`resample.rs`), where they fit it.
    uniform: Option<RowTaps>,
    /// Output rows sum their source rows first, then take the x pass (`resample.rs`).
    vertical_first: bool,
    /// The AVX2 build: its vertical sums may use the AVX2 kernel (`fixed_sum.rs`).
    avx2: bool,
    scratch: Scratch,
}

impl RowCache {
    fn new(capacity: usize, width: usize, x: &AxisTaps, y: &AxisTaps, avx2: bool) -> Self {
        let uniform = RowTaps::new(x);
        let vertical_first = uniform.is_some() && vertical_first(y);
        RowCache {
            rows: Vec::with_capacity(capacity.max(1)),
            width,
            uniform,
            vertical_first,
            avx2,
            scratch: Scratch::default(),
        }
    }

    /// Row `r` of `src` filtered along x; computed when not cached. Output rows move down
    /// the source, so the row evicted is the one highest up.
    #[inline(always)]
    fn get(&mut self, src: &Src<'_>, r: usize, taps: &AxisTaps) -> &[f32] {
        if let Some(k) = self.rows.iter().position(|(row, _)| *row == r) {
            return &self.rows[k].1;
        }
        let k = if self.rows.len() < self.rows.capacity() {
            self.rows.push((r, vec![0.0; self.width]));
            self.rows.len() - 1
        } else {
            let k = (0..self.rows.len()).min_by_key(|&k| self.rows[k].0).unwrap_or(0);
            self.rows[k].0 = r;
            k
        };
        let out = &mut self.rows[k].1;
        match &self.uniform {
            Some(u) => u.pass(src, r, taps, &mut self.scratch, out, self.avx2),
            None => hpass(src, r, taps, out),
        }
        &self.rows[k].1
    }
}

/// Output row `i` of one component: the vertical taps over the x-filtered source rows (or,
/// where the plane shrinks along y, the x pass over the vertical taps' sum: `resample.rs`).
#[inline(always)]
fn component_row(src: &Src<'_>, cache: &mut RowCache, x: &AxisTaps, y: &AxisTaps, i: usize, out: &mut [f32]) {
    if cache.vertical_first
        && let Some(u) = &cache.uniform
    {
        u.rows_then_pass(src, y.taps(i), x, &mut cache.scratch, out, cache.avx2);
        return;
    }
    out.iter_mut().for_each(|v| *v = 0.0);
    let (rows, weights) = y.taps(i);
    for (&r, &w) in rows.iter().zip(weights) {
        let h = cache.get(src, r as usize, x);
        for (o, v) in out.iter_mut().zip(h) {
            *o += w * v;
        }
    }
}

/// The source planes of a host YUV frame: (Y, Cb, Cr).
pub(super) fn source_planes<'a>(format: PixelFormat, host: &'a HostFrame) -> Result<[Src<'a>; 3]> {
    let data = host.as_bytes();
    let store = match format {
        PixelFormat::Nv12 | PixelFormat::Yuv420p => Store::U8,
        PixelFormat::P010 => Store::U16High,
        PixelFormat::Yuv420p10 => Store::U16Low,
        other => return Err(Error::unsupported(format!("transform from {other}"), "transforms take 4:2:0 YUV frames")),
    };
    let plane = |i: usize, step: usize, phase: usize| {
        let p = host.plane(i);
        Src { data, offset: p.offset, stride: p.stride, store, step, phase }
    };
    Ok(match format {
        PixelFormat::Nv12 | PixelFormat::P010 => [plane(0, 1, 0), plane(1, 2, 0), plane(1, 2, 1)],
        _ => [plane(0, 1, 0), plane(1, 1, 0), plane(2, 1, 0)],
    })
}

/// Checks that the frame's planes hold the rows and columns the plan reads.
fn check_source(plan: &Plan, host: &HostFrame, width: u32, height: u32) -> Result<()> {
    let n = plan.source.plane_count();
    if host.planes().len() != n {
        return Err(Error::invalid_input(format!("a {} frame needs {n} planes", plan.source)));
    }
    for i in 0..n {
        let (row_bytes, rows) = plan.source.plane_size(i, width, height);
        let p = host.plane(i);
        let need = p.offset + p.stride * rows.saturating_sub(1) + row_bytes;
        if p.stride < row_bytes || need > host.as_bytes().len() {
            return Err(Error::invalid_input(format!(
                "{} plane {i}: {rows} rows of {row_bytes} bytes at stride {} do not fit in {} bytes",
                plan.source,
                p.stride,
                host.as_bytes().len()
            )));
        }
    }
    Ok(())
}

/// Writes one output row of RGB values (each in [0, 1], clamped here) in the plan's format;
/// the flag: the CPU has AVX2 (set only in `run_plan`'s AVX2 build), and packed 3-byte rows
/// go through `store_avx2.rs`.
struct RgbWriter(
    rgb::Layout,
    #[cfg_attr(not(target_arch = "x86_64"), expect(dead_code, reason = "AVX2 is x86-64's"))] bool,
);

impl RgbWriter {
    fn new(t: &Transform, plan: &Plan, avx2: bool) -> Self {
        RgbWriter(rgb::Layout::new(plan.output, t.normalization()), avx2)
    }

    /// The first pixels of a packed 3-byte row with AVX2 where the CPU has it; how many.
    #[inline(always)]
    fn put_avx2(&self, row: &mut [u8], rgb: [&[f32]; 3]) -> usize {
        #[cfg(target_arch = "x86_64")]
        if self.1 && self.0.channels == 3 {
            // The channels by their place in a pixel.
            let mut by_place = rgb;
            for (c, &p) in self.0.positions.iter().enumerate() {
                by_place[p] = rgb[c];
            }
            // SAFETY: the flag is set only where the CPU has AVX2 (`run_plan`).
            return unsafe { super::store_avx2::put_rgb24(row, by_place) };
        }
        let _ = (row, rgb);
        0
    }

    /// Row `i` of a `width` × `height` output from clamped R, G, B rows; `bytes` is scratch.
    ///
    /// Packed 3-byte rows go through [`Self::put_avx2`] first where the CPU has AVX2; the
    /// pixels it leaves have each channel's values quantised in a loop of their own (one the
    /// compiler vectorises), and are then put together byte by byte: written in place one
    /// channel at a time, three strided passes took most of a resize to RGB24.
    #[inline(always)]
    fn write(&self, buf: &mut [u8], width: usize, height: usize, i: usize, rgb: [&[f32]; 3], bytes: &mut [Vec<u8>; 3]) {
        let size = self.0.format.bytes_per_sample();
        // The value is within 0.5..=255.5. `max(0.0)` makes NaN 0, as the cast did (where
        // `clamp` keeps it).
        #[expect(clippy::manual_clamp, reason = "NaN to 0, which clamp does not do")]
        let quantise = |v: f32| floor_code(v.max(0.0).min(1.0) * 255.0 + 0.5) as u8;
        if self.0.format.sample_type() == SampleType::U8 && !self.0.planar {
            let ch = self.0.channels;
            let [p0, p1, p2] = self.0.positions;
            let row = &mut buf[i * width * ch..][..width * ch];
            // The first pixels with AVX2 where it serves, the rest here.
            let done = self.put_avx2(row, rgb);
            for (b, values) in bytes.iter_mut().zip(rgb) {
                b.resize(width - done, 0);
                for (o, &v) in b.iter_mut().zip(&values[done..]) {
                    *o = quantise(v);
                }
            }
            let row = &mut row[done * ch..];
            let [r, g, b] = bytes;
            for (((px, &r), &g), &b) in row.chunks_exact_mut(ch).zip(r.iter()).zip(g.iter()).zip(b.iter()) {
                (px[p0], px[p1], px[p2]) = (r, g, b);
                if ch == 4 {
                    // Opaque alpha (8-bit packed only).
                    px[3] = 255;
                }
            }
            return;
        }
        for (c, values) in rgb.iter().enumerate() {
            let pos = self.0.positions[c];
            let (start, step) = if self.0.planar {
                ((pos * height + i) * width * size, size)
            } else {
                ((i * width * self.0.channels + pos) * size, self.0.channels * size)
            };
            let (mul, add) = (self.0.mul[c], self.0.add[c]);
            let out = buf[start..].chunks_mut(step).take(width);
            match self.0.format.sample_type() {
                SampleType::U8 => out.zip(values.iter()).for_each(|(o, &v)| o[0] = quantise(v)),
                SampleType::F32 => out
                    .zip(values.iter())
                    .for_each(|(o, &v)| o[..4].copy_from_slice(&(v.clamp(0.0, 1.0) * mul + add).to_ne_bytes())),
                SampleType::F16 => out.zip(values.iter()).for_each(|(o, &v)| {
                    o[..2].copy_from_slice(&f16::from_f32(v.clamp(0.0, 1.0) * mul + add).to_ne_bytes())
                }),
                SampleType::U16 => unreachable!("no 16-bit integer RGB format"),
            }
        }
    }
}

/// Runs `plan` (of `t`) over a host frame, into a new host frame.
pub(super) fn run(t: &Transform, plan: &Plan, host: &HostFrame, width: u32, height: u32) -> Result<HostFrame> {
    let out = run_coded(&t.coded(width, height)?, plan, host, width, height)?;
    match plan.rotation {
        0 => Ok(out),
        q => super::rotate::turn(&out, plan.output, plan.width, plan.height, q),
    }
}

/// [`run`] in the coded orientation (`t` without its rotation).
fn run_coded(t: &Transform, plan: &Plan, host: &HostFrame, width: u32, height: u32) -> Result<HostFrame> {
    check_source(plan, host, width, height)?;
    let [y, cb, cr] = source_planes(plan.source, host)?;
    let crop = t.crop_for(width, height)?;
    let same_size = (plan.width, plan.height) == (crop.width, crop.height) && t.letterbox_pad().is_none();
    if !plan.output.is_yuv() && same_size {
        // No resampling of luma: the conversion every host path shares (`rgb.rs`), which
        // gives what the plan below gives (within 1 LSB), faster.
        let src = YuvSource {
            planes: [y, cb, cr],
            depth: plan.source.bit_depth(),
            half_width: true,
            half_height: true,
            width,
            height,
        };
        return rgb::convert(&src, crop, &plan.color, plan.output, t.normalization());
    }
    run_plan(t, plan, [y, cb, cr])
}

/// Runs `plan` through its taps (resampling), whatever the sizes: compiled for AVX2 where
/// the CPU has it (and `VIDEO_HW_RGB_KERNEL` is not `portable`), else for the baseline.
///
/// Why two builds of one code: the baseline of x86-64 is SSE2, whose 4-wide loops convert
/// a byte to `f32` in three steps; with AVX2 the compiler makes the same loops 8 wide with
/// one-step conversions, and a resize took 0.75-0.9x the time (1080p → 224×224 RGB,
/// 1080p → 720p NV12, 4K P010 → 1080p RGB; `cargo bench --bench transform_cpu`). The
/// same operations in the same order, with no fused multiply-add (Rust never contracts
/// one), so the same bytes; a test holds the two builds to each other.
pub(super) fn run_plan(t: &Transform, plan: &Plan, srcs: [Src<'_>; 3]) -> Result<HostFrame> {
    #[cfg(target_arch = "x86_64")]
    if super::rgb_avx2::avx2_allowed() {
        // SAFETY: the CPU has AVX2 (`avx2_allowed` checked).
        return unsafe { run_plan_avx2(t, plan, srcs) };
    }
    run_plan_here(t, plan, srcs, false)
}

/// [`run_plan_here`] compiled for AVX2 (everything it calls is inlined into it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_plan_avx2(t: &Transform, plan: &Plan, srcs: [Src<'_>; 3]) -> Result<HostFrame> {
    run_plan_here(t, plan, srcs, true)
}

/// [`run_plan`]'s work, inlined into each build; `avx2` in the AVX2 one (set only there:
/// it lets the vertical sums call their AVX2 kernel).
#[inline(always)]
fn run_plan_here(t: &Transform, plan: &Plan, [y, cb, cr]: [Src<'_>; 3], avx2: bool) -> Result<HostFrame> {
    let mut out = HostFrame::for_output(plan.output, plan.width, plan.height);
    if plan.output.is_yuv() {
        run_yuv(plan, [y, cb, cr], &mut out, avx2);
    } else {
        run_rgb(t, plan, [y, cb, cr], &mut out, avx2);
    }
    Ok(out)
}

#[inline(always)]
fn run_rgb(t: &Transform, plan: &Plan, [y, cb, cr]: [Src<'_>; 3], out: &mut HostFrame, avx2: bool) {
    let (w, h) = (plan.width as usize, plan.height as usize);
    let writer = RgbWriter::new(t, plan, avx2);
    let c = plan.coeffs;
    let (rv, gu, gv, bu) = c.rgb_factors();
    let mut caches = [
        RowCache::new(plan.luma.y.max_taps() + 1, w, &plan.luma.x, &plan.luma.y, avx2),
        RowCache::new(plan.chroma.y.max_taps() + 1, w, &plan.chroma.x, &plan.chroma.y, avx2),
        RowCache::new(plan.chroma.y.max_taps() + 1, w, &plan.chroma.x, &plan.chroma.y, avx2),
    ];
    let mut rows = [vec![0.0f32; w], vec![0.0f32; w], vec![0.0f32; w]];
    let mut rgb = [vec![0.0f32; w], vec![0.0f32; w], vec![0.0f32; w]];
    let buf = out.as_bytes_mut();
    let mut bytes = [Vec::with_capacity(w), Vec::with_capacity(w), Vec::with_capacity(w)];
    let bars = bars(&plan.luma.x);
    for i in 0..h {
        let [ry, rcb, rcr] = &mut rows;
        let [r, g, b] = &mut rgb;
        if plan.luma.y.taps(i).0.is_empty() {
            r.fill(plan.pad[0]);
            g.fill(plan.pad[1]);
            b.fill(plan.pad[2]);
        } else {
            component_row(&y, &mut caches[0], &plan.luma.x, &plan.luma.y, i, ry);
            component_row(&cb, &mut caches[1], &plan.chroma.x, &plan.chroma.y, i, rcb);
            component_row(&cr, &mut caches[2], &plan.chroma.x, &plan.chroma.y, i, rcr);
            // Whole rows with no branch inside, so that the loops are vectorised (the same
            // operations on each value, so the same values).
            let (r, g, b) = (&mut r[..w], &mut g[..w], &mut b[..w]);
            let (ry, rcb, rcr) = (&ry[..w], &rcb[..w], &rcr[..w]);
            if c.k.is_none() {
                // Identity (GBR): every channel scaled as luma.
                for j in 0..w {
                    r[j] = (rcr[j] - c.y_off) * c.y_scale;
                    g[j] = (ry[j] - c.y_off) * c.y_scale;
                    b[j] = (rcb[j] - c.y_off) * c.y_scale;
                }
            } else {
                for j in 0..w {
                    let yy = (ry[j] - c.y_off) * c.y_scale;
                    let u = (rcb[j] - c.c_off) * c.c_scale;
                    let v = (rcr[j] - c.c_off) * c.c_scale;
                    r[j] = yy + rv * v;
                    g[j] = yy + gu * u + gv * v;
                    b[j] = yy + bu * u;
                }
            }
            for &j in &bars {
                (r[j], g[j], b[j]) = (plan.pad[0], plan.pad[1], plan.pad[2]);
            }
        }
        writer.write(buf, w, h, i, [r, g, b], &mut bytes);
    }
}

#[inline(always)]
fn run_yuv(plan: &Plan, [y, cb, cr]: [Src<'_>; 3], out: &mut HostFrame, avx2: bool) {
    let (sd, od) = (plan.source.bit_depth(), plan.output.bit_depth());
    // Bit depth changes by shifting, as ffmpeg's format conversions do.
    let gain = 2f32.powi(i32::from(od) - i32::from(sd));
    let max = ((1u32 << od) - 1) as f32;
    // The letterbox fill in source code values (`store` converts the depth).
    let pad = plan.coeffs.yuv_of(plan.pad).map(|v| v as f32);
    let planes: Vec<_> = out.planes().to_vec();
    let format = plan.output;
    let buf = out.as_bytes_mut();
    // P010 holds the value in the high bits of its 16-bit words.
    let shift = if format == PixelFormat::P010 { 6 } else { 0 };
    let writer = YuvWriter { gain, max, shift, wide: od > 8, avx2 };
    let mut codes = [Vec::new(), Vec::new()];
    let cache_for =
        |taps: &super::plan::PlaneTaps| RowCache::new(taps.y.max_taps() + 1, taps.x.len(), &taps.x, &taps.y, avx2);
    // Luma, and planar chroma: a plane per component.
    let planar = !matches!(format, PixelFormat::Nv12 | PixelFormat::P010);
    let mut jobs = vec![(y, &plan.luma, planes[0], pad[0])];
    if planar {
        jobs.push((cb, &plan.chroma, planes[1], pad[1]));
        jobs.push((cr, &plan.chroma, planes[2], pad[2]));
    }
    for (src, taps, plane, pad_value) in jobs {
        let (w, h) = (taps.x.len(), taps.y.len());
        let mut cache = cache_for(taps);
        let mut row = vec![0.0f32; w];
        let bars_x = bars(&taps.x);
        for i in 0..h {
            padded_row(&src, taps, &mut cache, pad_value, &bars_x, i, &mut row);
            writer.put(&mut buf[plane.offset + i * plane.stride..], &row, &mut codes[0]);
        }
    }
    if planar {
        return;
    }
    // The interleaved chroma plane: both components' rows, then one pass that writes pairs.
    let taps = &plan.chroma;
    let (w, h) = (taps.x.len(), taps.y.len());
    let mut caches = [cache_for(taps), cache_for(taps)];
    let mut rows = [vec![0.0f32; w], vec![0.0f32; w]];
    let bars_x = bars(&taps.x);
    let plane = planes[1];
    for i in 0..h {
        for (c, src) in [cb, cr].iter().enumerate() {
            padded_row(src, taps, &mut caches[c], pad[1 + c], &bars_x, i, &mut rows[c]);
        }
        writer.put_pairs(&mut buf[plane.offset + i * plane.stride..], [&rows[0], &rows[1]], &mut codes);
    }
}

/// A component's output row `i` (filtered, the columns `bars` filled with `pad`) into `row`.
#[inline(always)]
fn padded_row(
    src: &Src<'_>,
    taps: &super::plan::PlaneTaps,
    cache: &mut RowCache,
    pad: f32,
    bars: &[usize],
    i: usize,
    row: &mut [f32],
) {
    if taps.y.taps(i).0.is_empty() {
        row.fill(pad);
    } else {
        component_row(src, cache, &taps.x, &taps.y, i, row);
        bars.iter().for_each(|&j| row[j] = pad);
    }
}

/// `x.floor()` as an integer, for `x` in `0.0..8_388_608.0` (2^23): what `x as u32` gives
/// there, in operations that vectorise. The cast does not: Rust's float-to-integer casts
/// saturate and make NaN 0, which the compiler builds from scalar conversions and branches
/// (perf showed them as most of a YUV resize's output step).
///
/// Adding 2^23 leaves `x` rounded to the nearest integer (ties to even) in the sum's low
/// mantissa bits, where `x < 2^23`; one less where that rounded up.
#[inline(always)]
pub(super) fn floor_code(x: f32) -> u32 {
    const TWO_23: f32 = 8_388_608.0;
    let sum = x + TWO_23;
    let nearest = sum.to_bits() - TWO_23.to_bits();
    nearest - u32::from(sum - TWO_23 > x)
}

/// Writes YUV output rows: values quantised to code values, then stored as the format holds
/// them. 8-bit rows are quantised and stored in one pass, with AVX2 where the CPU has it
/// (`store_avx2.rs`), else in one loop that the compiler vectorises (pairs too: each pair one
/// 2-byte store). 16-bit words go through a row of codes: quantising runs over a contiguous
/// row (a loop the compiler vectorises), apart from the stores: one interleaved with the
/// other's, it had been a scalar loop that took a third of a 1080p → 720p NV12 resize.
struct YuvWriter {
    /// Source code values to output code values (a power of two: depth changes shift).
    gain: f32,
    /// The largest output code value.
    max: f32,
    /// Left shift of a 16-bit word's value (P010).
    shift: u32,
    /// 16-bit words (above 8 bits per sample).
    wide: bool,
    /// The CPU has AVX2 (set only in `run_plan`'s AVX2 build): 8-bit rows go through
    /// `store_avx2.rs`.
    #[cfg_attr(not(target_arch = "x86_64"), expect(dead_code, reason = "AVX2 is x86-64's"))]
    avx2: bool,
}

impl YuvWriter {
    /// `v` as an output code value, rounded. `max(0.0)` makes NaN 0, as the cast `as u16`
    /// did.
    #[inline(always)]
    fn code(&self, v: f32) -> u32 {
        floor_code((v * self.gain + 0.5).max(0.0).min(self.max))
    }

    /// A planar row of `row`'s values at the start of `out`; `codes` is scratch.
    #[inline(always)]
    fn put(&self, out: &mut [u8], row: &[f32], codes: &mut Vec<u32>) {
        if self.wide {
            self.quantise(row, codes);
            for (o, &c) in out.chunks_exact_mut(2).zip(codes.iter()) {
                o.copy_from_slice(&((c as u16) << self.shift).to_le_bytes());
            }
        } else {
            let done = self.put_avx2(out, row);
            for (o, &v) in out[done..].iter_mut().zip(&row[done..]) {
                *o = self.code(v) as u8;
            }
        }
    }

    /// An interleaved row of pairs from `a` and `b` at the start of `out` (NV12, P010);
    /// `codes` is scratch.
    #[inline(always)]
    fn put_pairs(&self, out: &mut [u8], [a, b]: [&[f32]; 2], codes: &mut [Vec<u32>; 2]) {
        if self.wide {
            let [ca, cb] = codes;
            self.quantise(a, ca);
            self.quantise(b, cb);
            for ((o, &a), &b) in out.chunks_exact_mut(4).zip(ca.iter()).zip(cb.iter()) {
                let pair = ((b << self.shift) << 16) | (a << self.shift);
                o.copy_from_slice(&pair.to_le_bytes());
            }
        } else {
            let done = self.put_pairs_avx2(out, a, b);
            let (pairs, _) = out[2 * done..].as_chunks_mut::<2>();
            for ((o, &a), &b) in pairs.iter_mut().zip(&a[done..]).zip(&b[done..]) {
                *o = [self.code(a) as u8, self.code(b) as u8];
            }
        }
    }

    /// The start of an 8-bit planar row with AVX2 where the CPU has it; how many values.
    #[inline(always)]
    fn put_avx2(&self, out: &mut [u8], row: &[f32]) -> usize {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            let q = super::store_avx2::Quantiser { gain: self.gain, max: self.max };
            // SAFETY: `avx2` is set only where the CPU has AVX2 (`run_plan`).
            return unsafe { super::store_avx2::put(q, out, row) };
        }
        let _ = (out, row);
        0
    }

    /// The start of an 8-bit row of pairs with AVX2 where the CPU has it; how many pairs.
    #[inline(always)]
    fn put_pairs_avx2(&self, out: &mut [u8], a: &[f32], b: &[f32]) -> usize {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            let q = super::store_avx2::Quantiser { gain: self.gain, max: self.max };
            // SAFETY: `avx2` is set only where the CPU has AVX2 (`run_plan`).
            return unsafe { super::store_avx2::put_pairs(q, out, a, b) };
        }
        let _ = (out, a, b);
        0
    }

    /// `row`'s values as output code values, rounded, into `codes`.
    #[inline(always)]
    fn quantise(&self, row: &[f32], codes: &mut Vec<u32>) {
        codes.resize(row.len(), 0);
        for (o, &v) in codes.iter_mut().zip(row) {
            *o = self.code(v);
        }
    }
}

impl Transform {
    /// Applies the transform to a host frame (4:2:0 YUV), returning a new frame in the
    /// output format and size; `pts`, keyframe and colour description carry over. Plans
    /// are computed per call: a session that transforms many frames keeps a
    /// [`Transformer`], which reuses them.
    pub fn apply(&self, frame: &Frame) -> Result<Frame> {
        Transformer::new(*self)?.apply(frame)
    }
}

/// Applies one transform to a stream of frames, reusing the plan while the source format,
/// size and colour stay the same.
#[derive(Debug)]
pub struct Transformer {
    transform: Transform,
    plan: Option<(PixelFormat, u32, u32, ColorInfo, Plan)>,
    /// With no format named: planar YUV of the source's depth (NV12 → YUV420P, P010 →
    /// yuv420p10le) instead of the source's own layout. For frames that come semi-planar
    /// (NVDEC's, for the GPU path) to a caller who asked for planar YUV.
    planar_like_source: bool,
}

impl Transformer {
    /// A transformer for `transform` (validated here).
    pub fn new(transform: Transform) -> Result<Self> {
        transform.validate()?;
        Ok(Transformer { transform, plan: None, planar_like_source: false })
    }

    /// The transform this runs.
    pub fn transform(&self) -> &Transform {
        &self.transform
    }

    /// Frames of a source in a semi-planar layout come out in planar YUV of its depth when
    /// the transform names no format (see the field).
    pub(crate) fn planar_like_source(mut self) -> Self {
        self.planar_like_source = true;
        self
    }

    /// The transform as run on frames of `source`'s format.
    fn transform_for(&self, source: PixelFormat) -> Transform {
        match (self.planar_like_source, self.transform.format_choice(), source) {
            (true, None, PixelFormat::P010) => self.transform.format(PixelFormat::Yuv420p10),
            (true, None, PixelFormat::Nv12) => self.transform.format(PixelFormat::Yuv420p),
            _ => self.transform,
        }
    }

    /// The plan for frames of this kind (computed when the kind changes).
    pub fn plan_for(&mut self, format: PixelFormat, width: u32, height: u32, color: &ColorInfo) -> Result<&Plan> {
        let fresh = self.plan.as_ref().is_some_and(|(f, w, h, c, _)| (*f, *w, *h, c) == (format, width, height, color));
        if !fresh {
            let plan = self.transform_for(format).plan(format, width, height, color)?;
            self.plan = Some((format, width, height, *color, plan));
        }
        Ok(&self.plan.as_ref().expect("set above").4)
    }

    /// Transforms one frame (see [`Transform::apply`]): a host frame on the CPU, a CUDA
    /// frame on its GPU (by the engine that owns its memory); a frame with no pixels
    /// (metadata output) passes through.
    pub fn apply(&mut self, frame: &Frame) -> Result<Frame> {
        if let FrameData::None = &frame.data {
            let (width, height) = self.transform.output_size(frame.width, frame.height)?;
            return Ok(Frame {
                format: self.transform.output_format(frame.format),
                width,
                height,
                pts: frame.pts,
                keyframe: frame.keyframe,
                color: self.transform.color_for(&frame.color, frame.height),
                data: FrameData::None,
            });
        }
        let transform = self.transform_for(frame.format);
        let plan = self.plan_for(frame.format, frame.width, frame.height, &frame.color)?;
        let data = match &frame.data {
            FrameData::Host(host) => FrameData::Host(run(&transform, plan, host, frame.width, frame.height)?),
            FrameData::Device(c) => FrameData::Device(c.owner.transform(c, &transform, plan)?),
            FrameData::None => FrameData::None,
        };
        let (width, height) = plan.output_size();
        Ok(Frame {
            format: plan.output,
            width,
            height,
            pts: frame.pts,
            keyframe: frame.keyframe,
            color: plan.color,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::floor_code;

    /// `floor_code` is the cast it replaces wherever a code value can lie: integers, halves
    /// and their neighbouring floats up to 16 bits, and a spread of floats up to 2^23.
    #[test]
    fn floor_code_is_the_cast() {
        let mut xs = Vec::new();
        for n in 0..=65_536u32 {
            for x in [n as f32, n as f32 + 0.5] {
                xs.extend([x, x.next_up(), x.next_down().max(0.0)]);
            }
        }
        let top = 8_388_608f32.next_down().to_bits();
        xs.extend((0..=top).step_by(9_973).map(f32::from_bits));
        for x in xs {
            assert_eq!(floor_code(x), x as u32, "{x}");
        }
    }
    /// The AVX2 build of a resize gives the baseline build's bytes: every source format,
    /// output kind, filter, odd sizes, shrinks and growths, crops and letterboxes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_build_gives_the_baseline_bytes() {
        use super::{run_plan_avx2, run_plan_here, source_planes};
        use crate::frame::HostFrame;
        use crate::pixels::transform::{Filter, Transform};
        use crate::{Channels, ColorInfo, PixelFormat, SampleType};
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut compared = 0;
        for format in [PixelFormat::Nv12, PixelFormat::Yuv420p, PixelFormat::P010, PixelFormat::Yuv420p10] {
            for (w, h) in [(333u32, 211u32), (64, 48), (1280, 720)] {
                let mut host = HostFrame::new_packed(format, w, h);
                for b in host.as_bytes_mut().chunks_exact_mut(2) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // A 10-bit value, in the low bits (yuv420p10le) or the high (P010); two
                    // bytes of noise for 8-bit formats.
                    let v = (seed % 1024) as u16;
                    let v = if format == PixelFormat::P010 { v << 6 } else { v };
                    b.copy_from_slice(&if format.bit_depth() > 8 { v } else { seed as u16 }.to_le_bytes());
                }
                // The last: a shrink by 1.5 (1080p → 720p's), which the x pass serves from
                // two registers of values (`resample_avx2.rs`'s `permuted`).
                for (ow, oh) in [(224u32, 224u32), (500, 77), (7, 300), (w * 2 - 1, h + 3), (w * 2 / 3, h * 2 / 3)] {
                    for filter in [Filter::Bilinear, Filter::Area, Filter::Triangle] {
                        let base = Transform::new().resize(ow, oh).filter(filter);
                        for t in [
                            base.format(PixelFormat::Nv12),
                            base.format(PixelFormat::Yuv420p10),
                            base.format(PixelFormat::P010),
                            base.rgb(Channels::Rgb, false, SampleType::U8),
                            base.rgb(Channels::Bgr, false, SampleType::U8),
                            base.rgb(Channels::Bgra, false, SampleType::U8).letterbox([9, 8, 7]),
                            base.rgb(Channels::Rgb, true, SampleType::F32).normalize([0.4; 3], [0.2; 3]),
                            base.crop(w / 8, h / 8, w / 2, h / 2).format(PixelFormat::Yuv420p),
                        ] {
                            let plan = t.plan(format, w, h, &ColorInfo::default()).expect("plan");
                            let srcs = || source_planes(format, &host).expect("planes");
                            let here = run_plan_here(&t, &plan, srcs(), false).expect("baseline");
                            // With AVX-512 where the CPU has it, then held to AVX2 alone.
                            for avx2_only in [false, true] {
                                crate::pixels::transform::rgb_avx2::AVX2_ONLY.with(|c| c.set(avx2_only));
                                // SAFETY: the CPU has AVX2 (checked above).
                                let wide = unsafe { run_plan_avx2(&t, &plan, srcs()) }.expect("AVX2");
                                assert!(
                                    here.as_bytes() == wide.as_bytes(),
                                    "{format} {w}x{h} -> {ow}x{oh} {filter:?}, AVX2 only: {avx2_only}"
                                );
                            }
                            crate::pixels::transform::rgb_avx2::AVX2_ONLY.with(|c| c.set(false));
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 4 * 3 * 5 * 3 * 8);
    }
}
