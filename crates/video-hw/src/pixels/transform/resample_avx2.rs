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

/// `resample.rs`'s `dots`, eight outputs at a time (the last one to seven as there); `near`:
/// every whole group of eight has its windows within the 16 values from its first start
/// (`RowTaps::near8`), served by [`permuted`], with AVX-512's two-register permute where
/// the CPU has it ([`two_register_permute`]).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn dots(k: usize, near: bool, values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    if near && two_register_permute() {
        // SAFETY: the CPU has AVX-512 F and VL (checked just above).
        return unsafe { dots_vl(k, values, start, weight, out) };
    }
    // SAFETY: this function runs with AVX2, which `dots8` needs.
    unsafe { with_const_k!(k, dots8::<false>(near, values, start, weight, out)) }
}

/// [`dots`] where every group is near and the CPU has AVX-512 F and VL.
///
/// # Safety
/// The CPU must have AVX2, AVX-512 F and AVX-512 VL.
#[target_feature(enable = "avx2,avx512f,avx512vl")]
unsafe fn dots_vl(k: usize, values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    // SAFETY: this function runs with what `dots8::<true>` needs.
    unsafe { with_const_k!(k, dots8::<true>(true, values, start, weight, out)) }
}

/// Whether [`permuted`] may take each slot's values with one AVX-512 VL permute of two
/// registers (`vpermt2ps`) instead of two AVX2 permutes and a blend: the CPU has AVX-512 F
/// and VL, and `VIDEO_HW_RGB_KERNEL` does not hold the CPU paths to AVX2.
fn two_register_permute() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl") && super::rgb_avx2::avx512_allowed()
}

/// [`dots`] for one `k`: inlined into it (always, which a `#[target_feature]` function
/// cannot be), so that it is compiled with its AVX2 and a constant `k`; `VL`: [`permuted`]
/// with AVX-512 VL.
///
/// # Safety
/// The CPU must have AVX2, and AVX-512 F and VL where `VL`.
#[inline(always)]
unsafe fn dots8<const VL: bool>(k: usize, near: bool, values: &[f32], start: &[u32], weight: &[f32], out: &mut [f32]) {
    let pairs = out.len() / 8;
    // Groups 2p and 2p + 1: their eight outputs, their starts, and their weights (k slots of
    // eight), walked together (indexing each had cost six bounds checks a pair).
    let (outs, starts) = (out.as_chunks_mut::<8>().0.iter_mut(), start.as_chunks::<8>().0);
    for ((o, s), w) in outs.zip(starts).zip(weight.chunks_exact(8 * k)) {
        // SAFETY: the CPU has AVX2 (the caller's); the store writes the eight `f32` of `o`.
        unsafe {
            let acc = if near { permuted::<VL>(k, values, s, w) } else { group8(k, values, s, w) };
            _mm256_storeu_ps(o.as_mut_ptr(), acc);
        }
    }
    // The last one to seven outputs: a group of four, then what is left.
    for (i, rest) in out[8 * pairs..].chunks_mut(4).enumerate() {
        let g = 2 * pairs + i;
        let acc = group(k, values, &start[4 * g..][..4], &weight[8 * pairs * k..][..8 * k], i);
        rest.copy_from_slice(&acc[..rest.len()]);
    }
}

/// Eight outputs whose windows (starts `s`) lie within the 16 values from the first start
/// (`RowTaps::near8`): the two registers of values loaded once, and each slot's values for
/// the eight picked out of them by two permutes and a blend, instead of a load of each
/// window and transposes (twice the instructions: where the x pass of a 1080p → 720p resize
/// spent its time, 2026-11-29). The same products, summed in the same order from 0.0 as
/// [`group8`]: the same bits. `VL`: one AVX-512 VL permute of the two registers instead.
///
/// # Safety
/// The CPU must have AVX2, and AVX-512 F and VL where `VL`.
#[inline(always)]
unsafe fn permuted<const VL: bool>(k: usize, values: &[f32], s: &[u32; 8], w: &[f32]) -> __m256 {
    let first = s[0] as usize;
    let v: &[f32; 16] = values[first..first + 16].try_into().expect("16 values");
    // SAFETY: the CPU has AVX2 (the caller's); the loads read the eight `u32` of `s` and the
    // 16 `f32` of `v`, and the weights' are bounds checked (`load8`).
    unsafe {
        let (lo, hi) = (_mm256_loadu_ps(v.as_ptr()), _mm256_loadu_ps(v.as_ptr().add(8)));
        let rel = _mm256_sub_epi32(_mm256_loadu_si256(s.as_ptr().cast()), _mm256_set1_epi32(first as i32));
        let mut acc = _mm256_setzero_ps();
        for t in 0..k {
            // Each window's slot t: at most 15 (`near8`), so bit 3 says which register
            // holds it; moved to the sign bit, it picks the permute of `hi` in the blend.
            let at = _mm256_add_epi32(rel, _mm256_set1_epi32(t as i32));
            let x = if VL {
                _mm256_permutex2var_ps(lo, at, hi)
            } else {
                let from_hi = _mm256_castsi256_ps(_mm256_slli_epi32::<28>(at));
                _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, at), _mm256_permutevar8x32_ps(hi, at), from_hi)
            };
            acc = _mm256_add_ps(acc, _mm256_mul_ps(load8(w, 8 * t), x));
        }
        acc
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
                acc = _mm256_add_ps(acc, _mm256_mul_ps(load8(w, 8 * (t + u)), v));
            }
        }
        acc
    }
}

/// `v[at..at + 8]` in an AVX register: a slot's weights for eight outputs.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn load8(v: &[f32], at: usize) -> __m256 {
    let v: &[f32; 8] = v[at..at + 8].try_into().expect("eight values");
    // SAFETY: reads the eight `f32` of `v`; the CPU has AVX (the caller's).
    unsafe { _mm256_loadu_ps(v.as_ptr()) }
}
