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

use super::plan::AxisTaps;
use super::rgb::Src;

/// Taps past which the uniform form is not used (a shrink by more than ~60x, where the
/// padding could cost more than the indexing saves).
const MOST_TAPS: usize = 64;

/// One plane's horizontal taps in the uniform form (module docs).
#[derive(Debug, Clone)]
pub(super) struct RowTaps {
    /// Taps (slots) per output sample.
    k: usize,
    /// The first source sample the row pass reads; `start` counts from it.
    lo: usize,
    /// Source samples the row pass reads, from `lo`.
    span: usize,
    /// Per output sample, its first slot's source index less `lo`.
    start: Vec<u32>,
    /// `k` weights per output sample, four output samples at a time: the weights of
    /// samples `4g..4g + 4` at slot `t` are `weight[(g·k + t)·4..][..4]` (the last group
    /// padded with weight 0).
    weight: Vec<f32>,
    /// Output samples that keep the plan's list (see the module docs), with it.
    listed: Vec<usize>,
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
        let k = (0..n).filter(|&j| uniform[j]).map(span_of).max()?;
        let samples = taps.index.iter().max().map(|&i| i as usize + 1)?;
        if k == 0 || k > MOST_TAPS || k > samples {
            return None;
        }
        let groups = n.div_ceil(4);
        let mut start = vec![0u32; 4 * groups];
        let mut weight = vec![0f32; 4 * groups * k];
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
            let s = (first as usize).min(samples - k);
            start[j] = s as u32;
            for (&i, &wt) in idx.iter().zip(w) {
                weight[((j / 4) * k + (i as usize - s)) * 4 + j % 4] = wt;
            }
            (lo, hi) = (lo.min(s), hi.max(s + k));
        }
        if hi == 0 {
            return None;
        }
        // Every window, a bar's too (start 0, weights 0), lies in the span read.
        for s in &mut start {
            *s = s.saturating_sub(lo as u32);
        }
        Some(RowTaps { k, lo, span: hi - lo, start, weight, listed })
    }

    /// Filters source row `r` of `src` along x into `out` (one value per output sample),
    /// with `taps` (the plan's list, for the samples that keep it); `scratch` holds the
    /// row's samples.
    pub(super) fn pass(&self, src: &Src<'_>, r: usize, taps: &AxisTaps, scratch: &mut Scratch, out: &mut [f32]) {
        let Scratch { samples, values } = scratch;
        self.read(src, r, samples);
        values.resize(self.span, 0.0);
        for (v, &s) in values.iter_mut().zip(samples.iter()) {
            *v = f32::from(s);
        }
        self.filter(values, taps, out);
    }

    /// The sum over `rows` (source row, weight) of each row's samples times its weight, in
    /// the order given, into `out` filtered along x: a resize's output row with the
    /// vertical pass first (see [`vertical_first`]).
    pub(super) fn rows_then_pass(
        &self,
        src: &Src<'_>,
        rows: (&[u32], &[f32]),
        taps: &AxisTaps,
        scratch: &mut Scratch,
        out: &mut [f32],
    ) {
        let Scratch { samples, values } = scratch;
        values.clear();
        values.resize(self.span, 0.0);
        for (&r, &w) in rows.0.iter().zip(rows.1) {
            self.read(src, r as usize, samples);
            for (v, &s) in values.iter_mut().zip(samples.iter()) {
                *v += w * f32::from(s);
            }
        }
        self.filter(values, taps, out);
    }

    /// The samples of row `r` the pass reads.
    fn read(&self, src: &Src<'_>, r: usize, samples: &mut Vec<u16>) {
        samples.resize(self.span, 0);
        src.read(r, self.lo, samples);
    }

    /// `values` (samples `lo..lo + span` of a row) filtered along x into `out`.
    fn filter(&self, values: &[f32], taps: &AxisTaps, out: &mut [f32]) {
        match self.k {
            1 => dots::<1>(values, &self.start, &self.weight, out),
            2 => dots::<2>(values, &self.start, &self.weight, out),
            3 => dots::<3>(values, &self.start, &self.weight, out),
            4 => dots::<4>(values, &self.start, &self.weight, out),
            k => dots_of(k, values, &self.start, &self.weight, out),
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

/// Buffers a row pass reuses.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    samples: Vec<u16>,
    values: Vec<f32>,
}

/// `out[j] = Σ_t w(j, t) · values[start[j] + t]` for `t` in `0..K`, summed in order of
/// `t`, one output sample after the other: for a few taps, where a sample's chain of
/// additions is short.
#[inline(always)]
fn dots<const K: usize>(values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    for (g, (o, s)) in out.chunks_mut(4).zip(start.chunks_exact(4)).enumerate() {
        let w = &weight[4 * g * K..][..4 * K];
        for (l, (o, &s)) in o.iter_mut().zip(s).enumerate() {
            let v = &values[s as usize..][..K];
            let mut acc = 0.0f32;
            for t in 0..K {
                acc += w[4 * t + l] * v[t];
            }
            *o = acc;
        }
    }
}

/// [`dots`] for many taps (a `k` known at run time only): four output samples at a time,
/// so that four chains of additions run side by side (one output's chain alone waits on
/// each addition's latency) and each slot's four weights are one load (the weights'
/// layout, [`RowTaps::weight`]); each sample is still summed in order of `t`.
fn dots_of(k: usize, values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    let group = |g: usize| {
        let v: [&[f32]; 4] = std::array::from_fn(|l| &values[start[4 * g + l] as usize..][..k]);
        let w = &weight[4 * g * k..][..4 * k];
        let mut acc = [0.0f32; 4];
        for t in 0..k {
            let wt = &w[4 * t..4 * t + 4];
            for l in 0..4 {
                acc[l] += wt[l] * v[l][t];
            }
        }
        acc
    };
    let mut chunks = out.chunks_exact_mut(4);
    let mut g = 0;
    for o in &mut chunks {
        o.copy_from_slice(&group(g));
        g += 1;
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let acc = group(g);
        let n = rest.len();
        rest.copy_from_slice(&acc[..n]);
    }
}
