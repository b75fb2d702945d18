//! The vertical sums of a shrinking resize (`resample.rs`'s `rows_then_pass`) in fixed
//! point: each output row's weights as 14-bit integers, the samples times them summed in
//! 32-bit integers, the sum turned back into `f32` for the horizontal pass.
//!
//! Why: in `f32` every sample of every row is converted before it is multiplied, and these
//! sums were half of a 1080p → 224×224 area resize's time (`perf` of
//! `cargo bench --bench transform_cpu -- area`, 2026-11-29). With AVX2, `vpmaddwd` multiplies
//! two rows' samples by their weights and adds the pairs, sixteen products an instruction,
//! straight from the bytes.
//!
//! Exactness: integer sums are exact and do not depend on their order, so the AVX2 kernel,
//! the portable loop and the baseline build give the same bits; a test holds the kernel to
//! the loop. Against the `f32` sums the difference is the weights' rounding, at most
//! `taps · max sample / 2^14` (the rounding of each weight, and its residue given to the
//! largest so that the weights sum to what the `f32` ones sum to and a flat area keeps
//! its value): below 0.1 of an 8-bit step at the 6 taps of a 1080p → 224 shrink.
//! [`fixed_weights`] refuses more than [`MOST_TAPS`] taps (where that bound passes a
//! quarter of a step), and those rows keep the `f32` sums.

/// Fraction bits of the fixed-point weights: a weight of 1 is `1 << 14`, which `i16` holds
/// (the filters' weights lie in 0..=1).
const FRACTION_BITS: u32 = 14;

/// The most taps summed in fixed point (module docs: the rounding's bound stays under a
/// quarter of an 8-bit step, 16 · 255 / 2^14).
pub(super) const MOST_TAPS: usize = 16;

/// `weight` in fixed point into `out`; false (and `out` unusable) where they do not fit:
/// more than [`MOST_TAPS`], or a weight outside 0..=1.99.
pub(super) fn fixed_weights(weight: &[f32], out: &mut Vec<i16>) -> bool {
    out.clear();
    if weight.is_empty() || weight.len() > MOST_TAPS {
        return false;
    }
    let one = f64::from(1u32 << FRACTION_BITS);
    let (mut sum, mut total) = (0i32, 0f64);
    for &w in weight {
        let q = (f64::from(w) * one).round();
        if !(0.0..=f64::from(i16::MAX)).contains(&q) {
            return false;
        }
        out.push(q as i16);
        sum += q as i32;
        total += f64::from(w);
    }
    // The weights' rounding, summed, goes to the largest weight: the fixed weights then sum
    // to what the weights sum to (1 for a resize), so a flat area keeps its value exactly.
    let big = (0..out.len()).max_by_key(|&k| out[k]).unwrap_or(0);
    let fixed = i32::from(out[big]) + (total * one).round() as i32 - sum;
    match i16::try_from(fixed) {
        Ok(v) if v >= 0 => {
            out[big] = v;
            true
        }
        _ => false,
    }
}

/// A sample as the fixed-point sums read it.
pub(super) trait Sample: Copy {
    /// The value `vpmaddwd` multiplies: a byte as it is; a 16-bit word as a signed one
    /// (samples are 10-bit; a word past `i16::MAX` is damaged input, summed the same way
    /// by the kernel and the loop).
    fn value(self) -> i32;

    /// Columns `0..n` of `out` made by the AVX2 kernel for this sample type, `n` a whole
    /// number of its blocks; the caller makes the rest.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn avx2(rows: &[&[Self]], w: &[i16], out: &mut [f32]) -> usize;
}

impl Sample for u8 {
    #[inline(always)]
    fn value(self) -> i32 {
        i32::from(self)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn avx2(rows: &[&[u8]], w: &[i16], out: &mut [f32]) -> usize {
        let wide = is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && super::rgb_avx2::avx512_allowed();
        if !wide {
            // SAFETY: the caller's (the CPU has AVX2).
            return unsafe { bytes_avx2(rows, w, out) };
        }
        // SAFETY: the CPU has AVX-512 F and BW (checked just above).
        let done = unsafe { bytes_avx512(rows, w, out) };
        // The next 32 columns, where there are: rows and `out` from `done` on.
        let rest: [&[u8]; MOST_TAPS] = std::array::from_fn(|k| rows.get(k).map_or(&[][..], |r| &r[done..]));
        // SAFETY: the caller's (the CPU has AVX2).
        done + unsafe { bytes_avx2(&rest[..rows.len()], w, &mut out[done..]) }
    }
}

impl Sample for u16 {
    #[inline(always)]
    fn value(self) -> i32 {
        i32::from(self as i16)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn avx2(rows: &[&[u16]], w: &[i16], out: &mut [f32]) -> usize {
        // SAFETY: the caller's (the CPU has AVX2).
        unsafe { words_avx2(rows, w, out) }
    }
}

/// `out[i] = (Σ_k w[k] · rows[k][i]) / 2^14` (each row at least `out.len()` samples), the
/// sum in 32-bit integers (wrapping, as `vpaddd` does); with the AVX2 kernel where `avx2`
/// (the caller has checked the CPU).
#[inline(always)]
pub(super) fn fixed_sum<T: Sample>(rows: &[&[T]], w: &[i16], out: &mut [f32], avx2: bool) {
    assert!(rows.len() == w.len() && rows.iter().all(|r| r.len() >= out.len()), "a row per weight, each long enough");
    #[cfg(target_arch = "x86_64")]
    let done = if avx2 {
        // SAFETY: `avx2` is set only where the CPU has AVX2 (`apply.rs`'s `run_plan`).
        unsafe { T::avx2(rows, w, out) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = {
        let _ = avx2;
        0
    };
    fixed_sum_from(rows, w, out, done);
}

/// [`fixed_sum`]'s columns from `first`, portably.
#[inline(always)]
fn fixed_sum_from<T: Sample>(rows: &[&[T]], w: &[i16], out: &mut [f32], first: usize) {
    let scale = 1.0 / (1u32 << FRACTION_BITS) as f32;
    let n = out.len();
    let mut c = first;
    // 64 columns at a time, their sums on the stack.
    while c < n {
        let m = (n - c).min(64);
        let mut acc = [0i32; 64];
        for (row, &wk) in rows.iter().zip(w) {
            let wk = i32::from(wk);
            for (a, &x) in acc[..m].iter_mut().zip(&row[c..c + m]) {
                *a = a.wrapping_add(x.value() * wk);
            }
        }
        for (o, &a) in out[c..c + m].iter_mut().zip(&acc[..m]) {
            *o = a as f32 * scale;
        }
        c += m;
    }
}

/// The pair of weights `w[k]`, `w[k + 1]` (0 past the end) as `vpmaddwd` takes them: the
/// first in the low half of each 32-bit lane.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pair(w: &[i16], k: usize) -> i32 {
    let b = w.get(k + 1).copied().unwrap_or(0);
    (i32::from(b) << 16) | i32::from(w[k] as u16)
}

/// The 32 bytes from sample `c` of `row` (32 bytes or 16 words) in an AVX register (a
/// function, not a closure, so that it is compiled with the kernels' AVX2 and inlined).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn load<T: Sample>(row: &[T], c: usize) -> std::arch::x86_64::__m256i {
    let s = &row[c..c + 32 / size_of::<T>()];
    // SAFETY: reads the 32 bytes of `s` (`Sample` is `u8` or `u16`: plain bytes).
    unsafe { std::arch::x86_64::_mm256_loadu_si256(s.as_ptr().cast()) }
}

/// The AVX2 kernel over bytes: 32 columns at a time, two rows at a time (their bytes
/// interleaved, widened to 16-bit pairs, `vpmaddwd` by the pair of weights).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bytes_avx2(rows: &[&[u8]], w: &[i16], out: &mut [f32]) -> usize {
    use std::arch::x86_64::*;
    let n = out.len() / 32 * 32;
    let scale = _mm256_set1_ps(1.0 / (1u32 << FRACTION_BITS) as f32);
    let zero = _mm256_setzero_si256();
    for c in (0..n).step_by(32) {
        let mut acc = [_mm256_setzero_si256(); 4];
        for k in (0..w.len()).step_by(2) {
            let a = load(rows[k], c);
            // A last odd row is paired with itself at weight 0.
            let b = if k + 1 < w.len() { load(rows[k + 1], c) } else { a };
            let wp = _mm256_set1_epi32(pair(w, k));
            // Per 128-bit lane: columns 0-7 (16-23) of both rows interleaved, then 8-15 (24-31).
            let (lo, hi) = (_mm256_unpacklo_epi8(a, b), _mm256_unpackhi_epi8(a, b));
            let words = [
                _mm256_unpacklo_epi8(lo, zero), // columns 0-3 | 16-19, as (a, b) pairs
                _mm256_unpackhi_epi8(lo, zero), // 4-7 | 20-23
                _mm256_unpacklo_epi8(hi, zero), // 8-11 | 24-27
                _mm256_unpackhi_epi8(hi, zero), // 12-15 | 28-31
            ];
            for (s, x) in acc.iter_mut().zip(words) {
                *s = _mm256_add_epi32(*s, _mm256_madd_epi16(x, wp));
            }
        }
        // Back into column order: 0-7, 8-15, 16-23, 24-31.
        let sums = [
            _mm256_permute2x128_si256::<0x20>(acc[0], acc[1]),
            _mm256_permute2x128_si256::<0x20>(acc[2], acc[3]),
            _mm256_permute2x128_si256::<0x31>(acc[0], acc[1]),
            _mm256_permute2x128_si256::<0x31>(acc[2], acc[3]),
        ];
        let o: &mut [f32; 32] = (&mut out[c..c + 32]).try_into().expect("32 columns");
        for (q, s) in sums.into_iter().enumerate() {
            // SAFETY: writes eight of the 32 `f32` of `o`.
            unsafe { _mm256_storeu_ps(o.as_mut_ptr().add(8 * q), _mm256_mul_ps(_mm256_cvtepi32_ps(s), scale)) };
        }
    }
    n
}

/// [`bytes_avx2`] in AVX-512 registers: 64 columns at a time, half the shuffles per column
/// (the shuffles, on one port, bound the AVX2 kernel: the sums were 43 % of a 1080p →
/// 224×224 area resize's time after the x pass's permutes, 2026-11-29). The same integer
/// sums, converted and scaled the same way: the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn bytes_avx512(rows: &[&[u8]], w: &[i16], out: &mut [f32]) -> usize {
    use std::arch::x86_64::*;
    /// The 64 bytes from column `c` of `row`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn load64(row: &[u8], c: usize) -> __m512i {
        let s: &[u8; 64] = row[c..c + 64].try_into().expect("64 bytes");
        // SAFETY: reads the 64 bytes of `s`.
        unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
    }
    let n = out.len() / 64 * 64;
    let scale = _mm512_set1_ps(1.0 / (1u32 << FRACTION_BITS) as f32);
    let zero = _mm512_setzero_si512();
    for c in (0..n).step_by(64) {
        let mut acc = [_mm512_setzero_si512(); 4];
        for k in (0..w.len()).step_by(2) {
            let a = load64(rows[k], c);
            // A last odd row is paired with itself at weight 0.
            let b = if k + 1 < w.len() { load64(rows[k + 1], c) } else { a };
            let wp = _mm512_set1_epi32(pair(w, k));
            // Per 128-bit lane L: columns 16L + 0-7 of both rows interleaved, then 16L + 8-15.
            let (lo, hi) = (_mm512_unpacklo_epi8(a, b), _mm512_unpackhi_epi8(a, b));
            let words = [
                _mm512_unpacklo_epi8(lo, zero), // columns 16L + 0-3, as (a, b) pairs
                _mm512_unpackhi_epi8(lo, zero), // 16L + 4-7
                _mm512_unpacklo_epi8(hi, zero), // 16L + 8-11
                _mm512_unpackhi_epi8(hi, zero), // 16L + 12-15
            ];
            for (s, x) in acc.iter_mut().zip(words) {
                *s = _mm512_add_epi32(*s, _mm512_madd_epi16(x, wp));
            }
        }
        // Back into column order, a 4x4 transpose of 128-bit lanes: `acc[q]`'s lane L holds
        // columns 16L + 4q..; output block L is lane L of acc[0], acc[1], acc[2], acc[3].
        let t01 = _mm512_shuffle_i32x4::<0b01_00_01_00>(acc[0], acc[1]); // 0.L0 0.L1 1.L0 1.L1
        let t01h = _mm512_shuffle_i32x4::<0b11_10_11_10>(acc[0], acc[1]); // 0.L2 0.L3 1.L2 1.L3
        let t23 = _mm512_shuffle_i32x4::<0b01_00_01_00>(acc[2], acc[3]);
        let t23h = _mm512_shuffle_i32x4::<0b11_10_11_10>(acc[2], acc[3]);
        let sums = [
            _mm512_shuffle_i32x4::<0b10_00_10_00>(t01, t23),
            _mm512_shuffle_i32x4::<0b11_01_11_01>(t01, t23),
            _mm512_shuffle_i32x4::<0b10_00_10_00>(t01h, t23h),
            _mm512_shuffle_i32x4::<0b11_01_11_01>(t01h, t23h),
        ];
        let o: &mut [f32; 64] = (&mut out[c..c + 64]).try_into().expect("64 columns");
        for (q, s) in sums.into_iter().enumerate() {
            // SAFETY: writes 16 of the 64 `f32` of `o`.
            unsafe { _mm512_storeu_ps(o.as_mut_ptr().add(16 * q), _mm512_mul_ps(_mm512_cvtepi32_ps(s), scale)) };
        }
    }
    n
}

/// The AVX2 kernel over 16-bit words: 16 columns at a time, two rows at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn words_avx2(rows: &[&[u16]], w: &[i16], out: &mut [f32]) -> usize {
    use std::arch::x86_64::*;
    let n = out.len() / 16 * 16;
    let scale = _mm256_set1_ps(1.0 / (1u32 << FRACTION_BITS) as f32);
    for c in (0..n).step_by(16) {
        let mut acc = [_mm256_setzero_si256(); 2];
        for k in (0..w.len()).step_by(2) {
            let a = load(rows[k], c);
            let b = if k + 1 < w.len() { load(rows[k + 1], c) } else { a };
            let wp = _mm256_set1_epi32(pair(w, k));
            // Per lane: columns 0-3 (8-11) of both rows interleaved, then 4-7 (12-15).
            acc[0] = _mm256_add_epi32(acc[0], _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp));
            acc[1] = _mm256_add_epi32(acc[1], _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp));
        }
        let sums =
            [_mm256_permute2x128_si256::<0x20>(acc[0], acc[1]), _mm256_permute2x128_si256::<0x31>(acc[0], acc[1])];
        let o: &mut [f32; 16] = (&mut out[c..c + 16]).try_into().expect("16 columns");
        for (q, s) in sums.into_iter().enumerate() {
            // SAFETY: writes eight of the 16 `f32` of `o`.
            unsafe { _mm256_storeu_ps(o.as_mut_ptr().add(8 * q), _mm256_mul_ps(_mm256_cvtepi32_ps(s), scale)) };
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Weights like a shrink's: `n` positive values summing to 1.
    fn weights(n: usize, seed: &mut u64) -> Vec<f32> {
        let raw: Vec<f64> = (0..n).map(|_| (noise(seed) % 1000 + 1) as f64).collect();
        let total: f64 = raw.iter().sum();
        raw.iter().map(|&r| (r / total) as f32).collect()
    }

    #[test]
    fn weights_sum_to_one_and_refuse_what_does_not_fit() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut q = Vec::new();
        for n in 1..=MOST_TAPS {
            let w = weights(n, &mut seed);
            assert!(fixed_weights(&w, &mut q));
            assert_eq!(q.iter().map(|&v| i32::from(v)).sum::<i32>(), 1 << FRACTION_BITS, "{w:?}");
        }
        assert!(fixed_weights(&[1.0], &mut q) && q == [1 << FRACTION_BITS]);
        assert!(!fixed_weights(&[0.1; MOST_TAPS + 1], &mut q));
        assert!(!fixed_weights(&[], &mut q));
        assert!(!fixed_weights(&[-0.5, 1.5], &mut q));
        assert!(!fixed_weights(&[f32::NAN], &mut q));
    }

    /// A flat area keeps its value exactly, and sums stay within the module's bound of the
    /// `f64` sums of the `f32` weights.
    #[test]
    fn sums_are_flat_where_the_rows_are_and_close_to_f64() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut q = Vec::new();
        for n in 1..=MOST_TAPS {
            let w = weights(n, &mut seed);
            assert!(fixed_weights(&w, &mut q));
            let flat = vec![vec![200u8; 40]; n];
            let mut out = vec![0.0; 40];
            fixed_sum(&flat.iter().map(|r| &r[..]).collect::<Vec<_>>(), &q, &mut out, false);
            assert!(out.iter().all(|&v| v == 200.0), "{n} taps: {out:?}");
            let rows: Vec<Vec<u8>> = (0..n).map(|_| (0..40).map(|_| noise(&mut seed) as u8).collect()).collect();
            fixed_sum(&rows.iter().map(|r| &r[..]).collect::<Vec<_>>(), &q, &mut out, false);
            for (i, &v) in out.iter().enumerate() {
                let want: f64 = (0..n).map(|k| f64::from(w[k]) * f64::from(rows[k][i])).sum();
                let bound = n as f64 * 255.0 / f64::from(1u32 << FRACTION_BITS);
                assert!((f64::from(v) - want).abs() <= bound, "{n} taps, column {i}: {v} against {want}");
            }
        }
    }

    /// The AVX2 kernels, and the AVX-512 one for bytes where the CPU has it, give the
    /// portable loop's bits: bytes and words (words past `i16::MAX` too), odd row counts,
    /// widths around the kernels' blocks.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernels_give_the_loops_bits() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut q = Vec::new();
        let mut compared = 0;
        for n in 1..=MOST_TAPS {
            for width in [1usize, 15, 16, 17, 31, 32, 33, 64, 100, 127, 224, 1920] {
                assert!(fixed_weights(&weights(n, &mut seed), &mut q));
                let bytes: Vec<Vec<u8>> =
                    (0..n).map(|_| (0..width).map(|_| noise(&mut seed) as u8).collect()).collect();
                let words: Vec<Vec<u16>> =
                    (0..n).map(|_| (0..width).map(|_| noise(&mut seed) as u16).collect()).collect();
                let (mut a, mut b) = (vec![0.0f32; width], vec![0.0f32; width]);
                let bytes: Vec<&[u8]> = bytes.iter().map(|r| &r[..]).collect();
                let words: Vec<&[u16]> = words.iter().map(|r| &r[..]).collect();
                fixed_sum(&bytes, &q, &mut a, false);
                // With AVX-512 where the CPU has it, then held to AVX2 alone.
                for avx2_only in [false, true] {
                    super::super::rgb_avx2::AVX2_ONLY.with(|c| c.set(avx2_only));
                    fixed_sum(&bytes, &q, &mut b, true);
                    let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "bytes, {n} taps, {width}, AVX2 only: {avx2_only}");
                }
                super::super::rgb_avx2::AVX2_ONLY.with(|c| c.set(false));
                fixed_sum(&words, &q, &mut a, false);
                fixed_sum(&words, &q, &mut b, true);
                assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()), "words, {n} taps, {width}");
                compared += 2;
            }
        }
        assert_eq!(compared, MOST_TAPS * 12 * 2);
    }
}
