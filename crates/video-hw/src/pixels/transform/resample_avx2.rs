//! The horizontal pass of a resize (`resample.rs`'s `dots`) eight outputs at a time, with
//! AVX2's 256-bit registers: two groups of four outputs side by side, one in each 128-bit
//! half, so that each transpose and each multiply-add serves eight outputs instead of four.
//!
//! Why: after the vertical sums went to fixed point (`fixed_sum.rs`), this pass was most of
//! a shrinking resize's time (70 % of a 1080p → 720p NV12 resize; `perf` of
//! `cargo bench --bench transform_cpu`, 2026-11-29), and there the shuffles of the 4×4
//! transposes were what it waited on.
//!
//! Exactness: each output's products are summed in the same order from 0.0 as in
//! `resample.rs`'s `group` (no fused multiply-add), so the same bits; the AVX2 build of a
//! resize is held to the baseline build by `apply.rs`'s tests.

use std::arch::x86_64::*;

use super::resample::{group, load4, with_const_k};

/// `resample.rs`'s `dots`, eight outputs at a time (the last one to seven as there).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn dots(k: usize, values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    // SAFETY: this function runs with AVX2, which `dots8` needs.
    unsafe { with_const_k!(k, dots8(values, start, weight, out)) }
}

/// [`dots`] for one `k`: inlined into it (always, which a `#[target_feature]` function
/// cannot be), so that it is compiled with its AVX2 and a constant `k`.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn dots8(k: usize, values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    let pairs = out.len() / 8;
    for p in 0..pairs {
        // Groups 2p and 2p + 1: their starts, and their weights (k slots of four each).
        let o: &mut [f32; 8] = (&mut out[8 * p..][..8]).try_into().expect("eight outputs");
        // SAFETY: the CPU has AVX2 (the caller's); the store writes the eight `f32` of `o`.
        unsafe {
            let acc = group8(k, values, &start[8 * p..][..8], &weight[8 * p * k..][..8 * k]);
            _mm256_storeu_ps(o.as_mut_ptr(), acc);
        }
    }
    // The last one to seven outputs: a group of four, then what is left.
    for (i, rest) in out[8 * pairs..].chunks_mut(4).enumerate() {
        let g = 2 * pairs + i;
        let acc = group(k, values, &start[4 * g..][..4], &weight[4 * g * k..][..4 * k]);
        rest.copy_from_slice(&acc[..rest.len()]);
    }
}

/// Two groups of four outputs: the windows of outputs 0-3 in the low halves, 4-7 in the
/// high, transposed per half as `group` transposes one group.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn group8(k: usize, values: &[f32], s: &[u32], w: &[f32]) -> __m256 {
    // SAFETY: the CPU has AVX2 (the caller's); the loads are bounds checked (`load4`).
    unsafe {
        let mut acc = _mm256_setzero_ps();
        for t in (0..k).step_by(4) {
            let win = |l: usize| load4(values, s[l] as usize + t);
            let (a, b) = (_mm256_set_m128(win(4), win(0)), _mm256_set_m128(win(5), win(1)));
            let (c, d) = (_mm256_set_m128(win(6), win(2)), _mm256_set_m128(win(7), win(3)));
            let (ab_lo, cd_lo) = (_mm256_unpacklo_ps(a, b), _mm256_unpacklo_ps(c, d));
            let (ab_hi, cd_hi) = (_mm256_unpackhi_ps(a, b), _mm256_unpackhi_ps(c, d));
            // Per half, as `_mm_movelh_ps` / `_mm_movehl_ps` in `group`: slot t, t + 1, t + 2, t + 3.
            let slots = [
                _mm256_shuffle_ps::<0b01_00_01_00>(ab_lo, cd_lo),
                _mm256_shuffle_ps::<0b11_10_11_10>(ab_lo, cd_lo),
                _mm256_shuffle_ps::<0b01_00_01_00>(ab_hi, cd_hi),
                _mm256_shuffle_ps::<0b11_10_11_10>(ab_hi, cd_hi),
            ];
            for (u, &v) in slots.iter().enumerate().take(k - t) {
                let wv = _mm256_set_m128(load4(w, 4 * k + 4 * (t + u)), load4(w, 4 * (t + u)));
                acc = _mm256_add_ps(acc, _mm256_mul_ps(wv, v));
            }
        }
        acc
    }
}
