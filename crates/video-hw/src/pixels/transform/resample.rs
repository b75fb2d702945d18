//! The horizontal pass of a resize in a form that runs fast: every output sample's taps as
//! the same number `K` of weights over `K` neighbouring source samples, and the source row
//! read into `f32` once, so that each output sample is a short dot product of two slices.
//!
//! Why: the taps as the plan holds them (`AxisTaps`: per output sample a list of source
//! indices and weights, of varying length) cost an index load and a sample conversion per
//! tap; that pass took 74-91 % of a resize's time, and our 1080p → 224×224 area resize
//! took 3.4x swscale's time, 1080p → 720p NV12 4x, 4K P010 → 1080p RGB 2.3x (one core,
//! bench/results/transform-cpu-20261128-01d9565.md).
//!
//! Exactness: the same products summed in the same order, so the same `f32` values, bit for
//! bit: a tap's weight goes to the slot of its source index, and a slot with no tap holds
//! weight 0, whose product adds `+0.0` (samples are never negative) and leaves the sum as
//! it was. An output sample whose taps do not rise strictly (a source index twice, which
//! edge clamping can give) keeps the plan's own list; where `K` is above [`MOST_TAPS`] or
//! the row's samples, the whole plane does.
//!
//! The same form serves a plane that shrinks along y the other way round
//! ([`vertical_first`]): the source rows summed first, one x pass per output row.
//!
//! How it runs fast (each step the same values): on x86-64 the x pass takes four output
//! samples at a time with SSE, a window of four values per load and a 4×4 transpose per
//! four slots ([`dots`]), eight at a time in AVX2's registers where the CPU has it
//! (`resample_avx2.rs`); windows wider than 4 are padded to an even number of slots, each
//! such size a constant (`with_const_k!`) so that the loop over them unrolls, the last
//! block of 4 transposed and multiplied only as far as its slots go (a window of 10 had
//! been padded to 12). The vertical sums are in fixed point where the weights
//! allow it (`fixed_sum.rs`: exact, 16 products an instruction with AVX2), else in `f32`
//! 64 columns at a time over all their rows ([`weighted_sum`]), reading 8-bit planes where
//! they lie. The row passes are `#[inline(always)]` so that they are compiled into each
//! build of `apply.rs`'s `run_plan` (the AVX2 one where the CPU has it; that build alone
//! passes `avx2` down to the kernels). Measured by
//! `cargo bench -p video-hw --bench transform_cpu` (records in bench/results).

use super::fixed_sum::{MOST_TAPS as MOST_FIXED, fixed_sum, fixed_weights};
use super::plan::AxisTaps;
use super::rgb::Src;

/// Values kept past a row's span, all 0: 3 for a window of four read whole where `k` is
/// not a multiple of 4, 16 for the AVX2 pass's two registers of values from a group's first
/// start (`resample_avx2.rs`'s `permuted`).
const PAST: usize = 16;

/// Taps past which the uniform form is not used (a shrink by more than ~60x, where the
/// padding could cost more than the indexing saves).
const MOST_TAPS: usize = 64;

/// One plane's horizontal taps in the uniform form (module docs).
#[derive(Debug, Clone)]
pub(super) struct RowTaps {
    /// Slots per output sample: the widest window of taps, made even above 4 (one of the
    /// constant sizes of `with_const_k!`; a slot past the window weighs 0, module docs).
    k: usize,
    /// The first source sample the row pass reads; `start` counts from it.
    lo: usize,
    /// Source samples the row pass reads, from `lo`.
    span: usize,
    /// Per output sample, its first slot's source index less `lo`.
    start: Vec<u32>,
    /// `k` weights per output sample, eight output samples at a time: the weights of
    /// samples `8p..8p + 8` at slot `t` are `weight[(p·k + t)·8..][..8]` (the last eight
    /// padded with weight 0), one load for AVX2's eight and half of one for SSE's four.
    weight: Vec<f32>,
    /// Output samples that keep the plan's list (see the module docs), with it.
    listed: Vec<usize>,
    /// Every whole group of eight outputs has its windows within the 16 values from its
    /// first start: the AVX2 x pass picks each slot's values out of two registers
    /// (`resample_avx2.rs`'s `permuted`).
    #[cfg_attr(not(target_arch = "x86_64"), expect(dead_code, reason = "AVX2 is x86-64's"))]
    near8: bool,
}

impl RowTaps {
    /// The uniform form of `taps`, or `None` where it does not pay (module docs). The
    /// windows never reach past the highest source index a tap names.
    pub(super) fn new(taps: &AxisTaps) -> Option<RowTaps> {
        let n = taps.len();
        let rising = |idx: &[u32]| idx.windows(2).all(|p| p[0] < p[1]);
        // Output samples in the uniform form: taps that rise strictly (none in a bar).
        let uniform: Vec<bool> = (0..n).map(|j| rising(taps.taps(j).0)).collect();
        let span_of = |j: usize| match taps.taps(j).0 {
            [a, .., b] => (b - a) as usize + 1,
            [_] => 1,
            [] => 0,
        };
        let window = (0..n).filter(|&j| uniform[j]).map(span_of).max()?;
        let samples = taps.index.iter().max().map(|&i| i as usize + 1)?;
        if window == 0 || window > MOST_TAPS || window > samples {
            return None;
        }
        let k = if window <= 4 { window } else { window.next_multiple_of(2) };
        let eights = n.div_ceil(8);
        let mut start = vec![0u32; 8 * eights];
        let mut weight = vec![0f32; 8 * eights * k];
        let mut listed = Vec::new();
        let (mut lo, mut hi) = (usize::MAX, 0);
        for j in 0..n {
            let (idx, w) = taps.taps(j);
            let Some(&first) = idx.first() else { continue };
            if !uniform[j] {
                listed.push(j);
                let (a, b) = idx.iter().fold((usize::MAX, 0), |(a, b), &i| (a.min(i as usize), b.max(i as usize + 1)));
                (lo, hi) = (lo.min(a), hi.max(b));
                continue;
            }
            // The window starts at the first tap, or earlier where it would pass the
            // highest index (its slots before the first tap weigh 0).
            let s = (first as usize).min(samples - window);
            start[j] = s as u32;
            for (&i, &wt) in idx.iter().zip(w) {
                weight[((j / 8) * k + (i as usize - s)) * 8 + j % 8] = wt;
            }
            (lo, hi) = (lo.min(s), hi.max(s + window));
        }
        if hi == 0 {
            return None;
        }
        // Every window, a bar's too (start 0, weights 0), lies in the span read.
        for s in &mut start {
            *s = s.saturating_sub(lo as u32);
        }
        // Compared unsigned, so that a start before the group's first (a bar's 0) fails.
        let near8 = k <= 16
            && start[..n / 8 * 8].chunks_exact(8).all(|s| s.iter().all(|&x| x.wrapping_sub(s[0]) as usize <= 16 - k));
        Some(RowTaps { k, lo, span: hi - lo, start, weight, listed, near8 })
    }

    /// Filters source row `r` of `src` along x into `out` (one value per output sample),
    /// with `taps` (the plan's list, for the samples that keep it); `scratch` holds the
    /// row's samples.
    #[inline(always)]
    pub(super) fn pass(
        &self,
        src: &Src<'_>,
        r: usize,
        taps: &AxisTaps,
        scratch: &mut Scratch,
        out: &mut [f32],
        avx2: bool,
    ) {
        let Scratch { samples, values, .. } = scratch;
        self.read(src, r, samples);
        values.resize(self.span + PAST, 0.0);
        for (v, &s) in values.iter_mut().zip(samples.iter()) {
            *v = f32::from(s);
        }
        // What the windows read past the row: slots of weight 0, whose products are +0.0
        // only where the value is finite.
        values[self.span..].fill(0.0);
        self.filter(values, taps, out, avx2);
    }

    /// The sum over `rows` (source row, weight) of each row's samples times its weight
    /// into `out` filtered along x: a resize's output row with the vertical pass first
    /// (see [`vertical_first`]). In fixed point where the weights allow it
    /// ([`fixed_weights`]), with AVX2 where `avx2` says the CPU has it; else in `f32`, in
    /// the order given.
    #[inline(always)]
    pub(super) fn rows_then_pass(
        &self,
        src: &Src<'_>,
        rows: (&[u32], &[f32]),
        taps: &AxisTaps,
        scratch: &mut Scratch,
        out: &mut [f32],
        avx2: bool,
    ) {
        let Scratch { samples, values, fixed } = scratch;
        let span = self.span;
        // Every row's samples first, then the sums a block of columns at a time over all
        // the rows: the block's sums stay in registers instead of going through memory
        // once per row. Every sum below writes all of `values[..span]`: only the `PAST`
        // past it are set here (a clear and a resize had filled the whole row with zeros
        // first).
        values.resize(span + PAST, 0.0);
        values[span..].fill(0.0);
        // Bytes next to each other are summed where they lie; other samples are staged,
        // a row after another, as values.
        let bytes = src.bytes(0, self.lo, span).is_some();
        if !bytes {
            samples.resize(span * rows.0.len(), 0);
            for (&r, staged) in rows.0.iter().zip(samples.chunks_exact_mut(span)) {
                src.read(r as usize, self.lo, staged);
            }
        }
        let byte_row = |k: usize| src.bytes(rows.0[k] as usize, self.lo, span).expect("bytes");
        let samples = &samples[..];
        if fixed_weights(rows.1, fixed) {
            // The rows as slices (at most MOST_TAPS of them: `fixed_weights` refuses more).
            let w = &fixed[..];
            if bytes {
                let r: [&[u8]; MOST_FIXED] = std::array::from_fn(|k| if k < w.len() { byte_row(k) } else { &[] });
                fixed_sum(&r[..w.len()], w, &mut values[..span], avx2);
            } else {
                let r: [&[u16]; MOST_FIXED] =
                    std::array::from_fn(|k| if k < w.len() { &samples[k * span..][..span] } else { &[] });
                fixed_sum(&r[..w.len()], w, &mut values[..span], avx2);
            }
        } else if bytes {
            weighted_sum(byte_row, rows.1, &mut values[..span]);
        } else {
            weighted_sum(|k| &samples[k * span..][..span], rows.1, &mut values[..span]);
        }
        self.filter(values, taps, out, avx2);
    }

    /// The samples of row `r` the pass reads.
    #[inline(always)]
    fn read(&self, src: &Src<'_>, r: usize, samples: &mut Vec<u16>) {
        samples.resize(self.span, 0);
        src.read(r, self.lo, samples);
    }

    /// `values` (samples `lo..lo + span` of a row) filtered along x into `out`; eight
    /// outputs at a time with AVX2 where `avx2` (the caller has checked the CPU).
    #[inline(always)]
    fn filter(&self, values: &[f32], taps: &AxisTaps, out: &mut [f32], avx2: bool) {
        let (start, weight) = (&self.start[..], &self.weight[..]);
        #[cfg(target_arch = "x86_64")]
        let done = avx2 && {
            // SAFETY: `avx2` is set only where the CPU has AVX2 (`apply.rs`'s `run_plan`).
            unsafe { super::resample_avx2::dots(self.k, self.near8, values, start, weight, out) };
            true
        };
        #[cfg(not(target_arch = "x86_64"))]
        let done = {
            let _ = avx2;
            false
        };
        if !done {
            with_const_k!(self.k, dots(values, start, weight, out));
        }
        for &j in &self.listed {
            let (idx, w) = taps.taps(j);
            out[j] = idx.iter().zip(w).map(|(&i, &w)| w * values[i as usize - self.lo]).sum();
        }
    }
}

/// Whether a plane's output rows are better made with the vertical pass first: each output
/// row sums its source rows over the span the horizontal taps read (contiguous, vectorised
/// multiply-adds), then takes one horizontal pass, instead of a horizontal pass per source
/// row (gathers of each tap's sample) summed afterwards. So where the plane shrinks along y:
/// fewer output rows than source rows read. The sums then run in the other order, which
/// gives values within `f32` rounding of the first order's (both within 1 LSB of a `f64`
/// evaluation, `tests/transform.rs`), not the same bits.
pub(super) fn vertical_first(y: &AxisTaps) -> bool {
    let (lo, hi) = y.index.iter().fold((u32::MAX, 0), |(a, b), &i| (a.min(i), b.max(i + 1)));
    lo < hi && y.len() < (hi - lo) as usize
}

/// Columns summed at a time by [`weighted_sum`]: 64 sums are 8 AVX registers (16 SSE
/// ones), independent chains of additions enough to hide each addition's latency. With 16
/// (two AVX chains) a 1080p → 224×224 area resize took 1.72-1.85x swscale's time, with 64
/// 1.35-1.53x (`cargo bench --bench transform_cpu -- area`, one core, three runs each).
const BLOCK: usize = 64;

/// `out[i] = Σ_k weight[k] · row(k)[i]`, summed in order of `k` from 0.0 (`row(k)`: the
/// samples of row `k`, at least `out.len()`).
#[inline(always)]
fn weighted_sum<'a, T: Copy + Into<f32> + 'a>(row: impl Fn(usize) -> &'a [T], weight: &[f32], out: &mut [f32]) {
    let n = out.len();
    let mut first = 0;
    for o in out.chunks_exact_mut(BLOCK) {
        let mut acc = [0.0f32; BLOCK];
        for (k, &w) in weight.iter().enumerate() {
            let x: &[T; BLOCK] = row(k)[first..][..BLOCK].try_into().expect("a block");
            for l in 0..BLOCK {
                acc[l] += w * x[l].into();
            }
        }
        o.copy_from_slice(&acc);
        first += BLOCK;
    }
    for (i, o) in out[first..n].iter_mut().enumerate() {
        let mut acc = 0.0f32;
        for (k, &w) in weight.iter().enumerate() {
            acc += w * row(k)[first + i].into();
        }
        *o = acc;
    }
}

/// Buffers a row pass reuses.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    samples: Vec<u16>,
    values: Vec<f32>,
    /// An output row's vertical weights in fixed point ([`fixed_weights`]).
    fixed: Vec<i16>,
}

/// `$f(k, args…)` with `k` as a constant for the usual sizes, so that the loop over slots is
/// unrolled in each (the x passes, `dots` here and in `resample_avx2.rs`), else as it is.
macro_rules! with_const_k {
    ($k:expr, $f:ident $(::<$g:tt>)? ($($arg:expr),* $(,)?)) => {
        match $k {
            1 => $f $(::<$g>)? (1, $($arg),*),
            2 => $f $(::<$g>)? (2, $($arg),*),
            3 => $f $(::<$g>)? (3, $($arg),*),
            4 => $f $(::<$g>)? (4, $($arg),*),
            6 => $f $(::<$g>)? (6, $($arg),*),
            8 => $f $(::<$g>)? (8, $($arg),*),
            10 => $f $(::<$g>)? (10, $($arg),*),
            12 => $f $(::<$g>)? (12, $($arg),*),
            14 => $f $(::<$g>)? (14, $($arg),*),
            16 => $f $(::<$g>)? (16, $($arg),*),
            k => $f $(::<$g>)? (k, $($arg),*),
        }
    };
}
pub(super) use with_const_k;

/// `out[j] = Σ_t w(j, t) · values[start[j] + t]` for `t` in `0..k`, summed in order of
/// `t` from 0.0, four output samples at a time: on x86-64, each output's window of four
/// values is one load, and a 4×4 transpose turns four windows into the values of one slot
/// for four outputs, which multiply the slot's four weights (their layout,
/// [`RowTaps::weight`]) in one instruction. `values` holds [`PAST`] values past the last window
/// (a window read whole where `k` is not a multiple of 4).
#[inline(always)]
fn dots(k: usize, values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    for (g, (o, s)) in out.chunks_mut(4).zip(start.chunks_exact(4)).enumerate() {
        let acc = group(k, values, s, &weight[g / 2 * 8 * k..][..8 * k], g % 2);
        // A whole group's four as one copy of known size (not a call to `memcpy`).
        match <&mut [f32; 4]>::try_from(&mut *o) {
            Ok(o) => *o = acc,
            Err(_) => o.copy_from_slice(&acc[..o.len()]),
        }
    }
}

/// One group of [`dots`]: four outputs whose windows start at `s`, their weights half
/// `half` of each slot's eight in `w` (their eight's, [`RowTaps::weight`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn group(k: usize, values: &[f32], s: &[u32], w: &[f32], half: usize) -> [f32; 4] {
    use std::arch::x86_64::*;
    let mut out = [0.0f32; 4];
    // SAFETY: SSE is part of x86-64 itself (the intrinsics are `unsafe` for the target
    // features they name, which every x86-64 CPU has); the loads are bounds
    // checked (`load4`), and the store writes the four `f32` of `out`.
    unsafe {
        let mut acc = _mm_setzero_ps();
        for t in (0..k).step_by(4) {
            let at = |l: usize| s[l] as usize + t;
            let (a, b, c, d) = (load4(values, at(0)), load4(values, at(1)), load4(values, at(2)), load4(values, at(3)));
            let (ab_lo, cd_lo) = (_mm_unpacklo_ps(a, b), _mm_unpacklo_ps(c, d));
            let (ab_hi, cd_hi) = (_mm_unpackhi_ps(a, b), _mm_unpackhi_ps(c, d));
            let slots = [
                _mm_movelh_ps(ab_lo, cd_lo),
                _mm_movehl_ps(cd_lo, ab_lo),
                _mm_movelh_ps(ab_hi, cd_hi),
                _mm_movehl_ps(cd_hi, ab_hi),
            ];
            for (u, &v) in slots.iter().enumerate().take(k - t) {
                acc = _mm_add_ps(acc, _mm_mul_ps(load4(w, 8 * (t + u) + 4 * half), v));
            }
        }
        _mm_storeu_ps(out.as_mut_ptr(), acc);
    }
    out
}

/// `v[at..at + 4]` in an SSE register. A function, not a closure, so that it is always
/// inlined (a closure had been left out of line in the AVX2 build, 11 % of a resize).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn load4(v: &[f32], at: usize) -> std::arch::x86_64::__m128 {
    let v: &[f32; 4] = v[at..at + 4].try_into().expect("four values");
    // SAFETY: reads the four `f32` of `v`; SSE is part of x86-64 itself.
    unsafe { std::arch::x86_64::_mm_loadu_ps(v.as_ptr()) }
}

/// One group of [`dots`], portably: each output's sum in order of `t`, four side by side.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn group(k: usize, values: &[f32], s: &[u32], w: &[f32], half: usize) -> [f32; 4] {
    let v: [&[f32]; 4] = std::array::from_fn(|l| &values[s[l] as usize..][..k]);
    let mut acc = [0.0f32; 4];
    for t in 0..k {
        for l in 0..4 {
            acc[l] += w[8 * t + 4 * half + l] * v[l][t];
        }
    }
    acc
}
