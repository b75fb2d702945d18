//! 8-bit output rows of a resize (`apply.rs`'s writers) quantised and stored with AVX2, 32
//! values a register's worth at a time: YUV planes, NV12's interleaved pairs, and packed
//! 3-byte RGB.
//!
//! Why: the compiler's vectorising of the YUV row loop converted and stored eight values at
//! a time, with a shuffle and an extract for each eight; that step was a tenth of a
//! 1080p → 720p NV12 resize's time (`perf` of `cargo bench --bench transform_cpu`,
//! 2026-11-29). Here four registers of values go to one store of 32 bytes through three
//! packs and one permute. Packed RGB had been put together byte by byte, a third of the RGB
//! writer's time in a 1080p → 224×224 area resize; here it is `rgb_avx2.rs`'s interleave.
//!
//! Exactness: a YUV value is `(v · gain + 0.5)` clamped to `[0, max]`, an RGB one
//! `v` clamped to `[0, 1]`, times 255, plus 0.5 (NaN to 0 in both: `maxps` returns its
//! second operand where the first is NaN, as `f32::max` returns the number), then
//! truncated, which for a value in `[0, 2^23)` is the floor that `floor_code` gives: the
//! same bytes as the portable loops (`apply.rs`'s tests hold the AVX2 build to the
//! baseline).

use std::arch::x86_64::*;

/// How a row's values become 8-bit codes: `gain` and `max` of the `YuvWriter`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Quantiser {
    /// Source code values to output code values.
    pub gain: f32,
    /// The largest output code value (at most 255 here).
    pub max: f32,
}

/// Codes of eight values.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn codes8(q: Quantiser, v: &[f32; 8]) -> __m256i {
    // SAFETY: the CPU has AVX2 (the caller's); the load reads the eight `f32` of `v`.
    unsafe {
        let x = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v.as_ptr()), _mm256_set1_ps(q.gain)), _mm256_set1_ps(0.5));
        _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(x, _mm256_setzero_ps()), _mm256_set1_ps(q.max)))
    }
}

/// The codes of the first `32 · ⌊n / 32⌋` values of `row` into `out` (`n` the shorter's
/// length); returns how many.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn put(q: Quantiser, out: &mut [u8], row: &[f32]) -> usize {
    let mut done = 0;
    for (o, v) in out.as_chunks_mut::<32>().0.iter_mut().zip(row.as_chunks::<32>().0) {
        // SAFETY: the CPU has AVX2 (the caller's); the store writes the 32 bytes of `o`.
        unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), bytes32(v, |v| codes8(q, v))) };
        done += 32;
    }
    done
}

/// The codes of 32 values (each code at most 255, `code` of eight at a time) as 32 bytes in
/// order.
///
/// # Safety
/// The CPU must have AVX2, and `code` must be safe to call with it.
#[inline(always)]
unsafe fn bytes32(v: &[f32; 32], code: impl Fn(&[f32; 8]) -> __m256i) -> __m256i {
    let eight = |i: usize| -> &[f32; 8] { v[8 * i..][..8].try_into().expect("eight values") };
    let (a, b, c, d) = (code(eight(0)), code(eight(1)), code(eight(2)), code(eight(3)));
    // SAFETY: the CPU has AVX2 (the caller's).
    unsafe {
        // Per 128-bit half: a's four, b's, c's, d's (the low half 0–3 of each, the high
        // 4–7); the permute puts each register's eight together.
        let bytes = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
    }
}

/// The codes of the first `16 · ⌊n / 16⌋` values of `a` and `b` into `out` as pairs (a's
/// first), `n` pairs at most where `out` holds them; returns how many pairs.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn put_pairs(q: Quantiser, out: &mut [u8], a: &[f32], b: &[f32]) -> usize {
    let mut done = 0;
    let (a, b) = (a.as_chunks::<16>().0, b.as_chunks::<16>().0);
    for ((o, a), b) in out.as_chunks_mut::<32>().0.iter_mut().zip(a).zip(b) {
        let half = |v: &[f32; 16], i: usize| -> [f32; 8] { v[8 * i..][..8].try_into().expect("eight values") };
        // SAFETY: the CPU has AVX2 (the caller's); the store writes the 32 bytes of `o`.
        unsafe {
            // Each pair as one 16-bit word, a's code in the low byte (codes are at most 255).
            let pair = |i| _mm256_or_si256(codes8(q, &half(a, i)), _mm256_slli_epi32::<8>(codes8(q, &half(b, i))));
            let words = _mm256_packus_epi32(pair(0), pair(1));
            // Per 128-bit half: pairs 0–3 and 8–11, then 4–7 and 12–15; in order.
            _mm256_storeu_si256(o.as_mut_ptr().cast(), _mm256_permute4x64_epi64::<0b11_01_10_00>(words));
        }
        done += 16;
    }
    done
}

/// The RGB code of eight values: `⌊min(max(v, 0), 1) · 255 + 0.5⌋`.
///
/// # Safety
/// The CPU must have AVX2.
#[inline(always)]
unsafe fn rgb_codes8(v: &[f32; 8]) -> __m256i {
    // SAFETY: the CPU has AVX2 (the caller's); the load reads the eight `f32` of `v`.
    unsafe {
        let x = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(v.as_ptr()), _mm256_setzero_ps()), _mm256_set1_ps(1.0));
        _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(255.0)), _mm256_set1_ps(0.5)))
    }
}

/// The first `32 · ⌊n / 32⌋` pixels of a packed 3-byte RGB row into `out` from the values of
/// the channels at places 0, 1 and 2 of a pixel (`n` the pixels all hold); returns how many
/// pixels.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn put_rgb24(out: &mut [u8], [first, second, third]: [&[f32]; 3]) -> usize {
    let masks = super::rgb_avx2::interleave_masks(true);
    let mut done = 0;
    let channels = first.as_chunks::<32>().0.iter().zip(second.as_chunks::<32>().0).zip(third.as_chunks::<32>().0);
    for (o, ((a, b), c)) in out.as_chunks_mut::<96>().0.iter_mut().zip(channels) {
        // SAFETY: the CPU has AVX2 (the caller's); `store3` writes the 96 bytes of `o`.
        unsafe {
            let channel = |v: &[f32; 32]| bytes32(v, |v| rgb_codes8(v));
            super::rgb_avx2::store3(o.as_mut_ptr(), channel(a), channel(b), channel(c), &masks);
        }
        done += 32;
    }
    done
}
