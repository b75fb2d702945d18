//! The AVX2 kernel's conversion (`rgb_avx2.rs`) in AVX-512 registers, 64 pixels of one or two
//! luma rows at a time, for CPUs with AVX-512 F, BW and VBMI (Intel since Ice Lake, AMD since
//! Zen 4): the same expression lane for lane, so the same bytes (`rgb_kernel_tests.rs` holds
//! both kernels to the portable loops).
//!
//! Why: the arithmetic was not what held the AVX2 kernel back; packing three channels into
//! RGB was (three byte shuffles, two ORs and a lane permute per 32 bytes of output, on the
//! two shuffle ports). VBMI's byte permutes across the whole register pack 64 bytes of RGB
//! from the channels in two instructions (`vpermt2b` for R and G, a masked `vpermb` for B),
//! and the wider registers halve the rest of the instructions.
//!
//! It converts the first `64 · ⌊w / 64⌋` pixels of each row; the AVX2 kernel does the next
//! 32 where there are, and the portable loops the rest (`rgb_avx2::convert`).

use std::arch::x86_64::*;

use super::rgb_avx2::{in_order, packed_at};
use super::rgb_kernel::{BGR, BGRA, Chroma, Fast, Out, RGB, slices_hold};

/// Whether the CPU has what [`rows`] needs.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vbmi")
}

/// For each of the three 64-byte blocks of 64 packed 3-byte pixels: the byte of the two
/// channel registers each output byte takes (pixel `p` of the first register is byte
/// [`packed_at`]`(p)`, of the second `64 +` that; a third-channel byte names its pixel's
/// byte, taken by the masked permute), and which bytes are of the third channel.
const fn packed3() -> ([[u8; 64]; 3], [u64; 3]) {
    let (mut idx, mut third) = ([[0u8; 64]; 3], [0u64; 3]);
    let mut m = 0;
    while m < 3 {
        let mut j = 0;
        while j < 64 {
            let q = 64 * m + j;
            let (pixel, channel) = (packed_at(q / 3) as u8, q % 3);
            idx[m][j] = if channel == 1 { 64 + pixel } else { pixel };
            if channel == 2 {
                third[m] |= 1 << j;
            }
            j += 1;
        }
        m += 1;
    }
    (idx, third)
}

/// [`packed3`] for 4-byte pixels (four blocks of 16 pixels), with the alpha bytes' mask.
const fn packed4() -> ([[u8; 64]; 4], [u64; 4], u64) {
    let (mut idx, mut third, mut alpha) = ([[0u8; 64]; 4], [0u64; 4], 0u64);
    let mut m = 0;
    while m < 4 {
        let mut j = 0;
        while j < 64 {
            let q = 64 * m + j;
            let (pixel, channel) = (packed_at(q / 4) as u8, q % 4);
            idx[m][j] = if channel == 1 { 64 + pixel } else { pixel };
            if channel == 2 {
                third[m] |= 1 << j;
            }
            if channel == 3 && m == 0 {
                alpha |= 1 << j;
            }
            j += 1;
        }
        m += 1;
    }
    (idx, third, alpha)
}

const PACKED3: ([[u8; 64]; 3], [u64; 3]) = packed3();
const PACKED4: ([[u8; 64]; 4], [u64; 4], u64) = packed4();
/// The byte permute that puts a channel's 64 pixels back in order (planar output).
const IN_ORDER: [u8; 64] = in_order::<64>();

/// Converts the first `64 · ⌊w / 64⌋` pixels of each luma row in `luma` (one or two rows of
/// `w` samples that share the chroma row `chroma`) into `out` (one per luma row, laid out as
/// `LAYOUT`); returns how many pixels of each row it converted (0 where the slices are too
/// short for what their lengths promise, which the caller never passes).
///
/// Calling it is `unsafe` where these features are not known at compile time: the caller
/// checks [`available`].
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) fn rows<const LAYOUT: u8>(k: &Fast, luma: &[&[u8]], chroma: Chroma<'_>, out: &mut [Out<'_>]) -> usize {
    let Some(w) = luma.first().map(|y| y.len()) else { return 0 };
    let n = w / 64 * 64;
    // Every slice the loop reads or writes holds what `n` pixels need.
    if n == 0 || !slices_hold(n, LAYOUT, luma, chroma, out) {
        return 0;
    }
    let set = |(n, f): (i16, i16)| (_mm512_set1_epi16(n), _mm512_set1_epi16(f));
    let (rvn, rvf) = set(k.rv);
    let (gun, guf) = set(k.gu);
    let (gvn, gvf) = set(k.gv);
    let (bun, buf) = set(k.bu);
    let (yo, co, yf) = (_mm512_set1_epi16(k.yo), _mm512_set1_epi16(k.co), _mm512_set1_epi16(k.yf));
    let (half, low) = (_mm512_set1_epi16(32), _mm512_set1_epi16(0xff));
    // SAFETY: each table is 64 bytes.
    let load = |t: &[u8; 64]| unsafe { _mm512_loadu_si512(t.as_ptr().cast()) };
    let idx3 = [load(&PACKED3.0[0]), load(&PACKED3.0[1]), load(&PACKED3.0[2])];
    let idx4 = [load(&PACKED4.0[0]), load(&PACKED4.0[1]), load(&PACKED4.0[2]), load(&PACKED4.0[3])];
    let order = load(&IN_ORDER);
    let mut i = 0;
    while i < n {
        let c = i / 2;
        // 32 chroma samples as 16-bit lanes, in order.
        // SAFETY (loads): `c + 32 ≤ n / 2` samples (`2c + 64 ≤ n` bytes interleaved) lie in
        // the slices, checked above.
        let (u, v) = match chroma {
            Chroma::Planar(u, v) => unsafe {
                (
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(u.as_ptr().add(c).cast())),
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(v.as_ptr().add(c).cast())),
                )
            },
            Chroma::Interleaved(uv) => {
                let pairs = unsafe { _mm512_loadu_si512(uv.as_ptr().add(2 * c).cast()) };
                (_mm512_and_si512(pairs, low), _mm512_srli_epi16(pairs, 8))
            }
        };
        let (u, v) = (_mm512_slli_epi16(_mm512_sub_epi16(u, co), 6), _mm512_slli_epi16(_mm512_sub_epi16(v, co), 6));
        // Lane j of a term serves the even pixel 2j and the odd pixel 2j + 1 of its
        // 128-bit lane, which is where the luma's even and odd samples land below.
        let r_term = _mm512_add_epi16(term(v, rvn, rvf), half);
        let g_term = _mm512_add_epi16(_mm512_add_epi16(term(u, gun, guf), term(v, gvn, gvf)), half);
        let b_term = _mm512_add_epi16(term(u, bun, buf), half);
        for (y, o) in luma.iter().zip(out.iter_mut()) {
            // SAFETY: `i + 64 ≤ n ≤ y.len()`.
            let y = unsafe { _mm512_loadu_si512(y.as_ptr().add(i).cast()) };
            let luma = |y: __m512i| {
                let x = _mm512_sub_epi16(y, yo);
                _mm512_add_epi16(_mm512_mulhi_epi16(_mm512_slli_epi16(x, 7), yf), _mm512_slli_epi16(x, 6))
            };
            let (even, odd) = (luma(_mm512_and_si512(y, low)), luma(_mm512_srli_epi16(y, 8)));
            // 64 bytes of one channel, laid out as [`packed_at`] says (the permutes below
            // take each pixel from there).
            let channel = |t: __m512i| {
                let e = _mm512_srai_epi16(_mm512_adds_epi16(even, t), 6);
                _mm512_packus_epi16(e, _mm512_srai_epi16(_mm512_adds_epi16(odd, t), 6))
            };
            let (r, g, b) = (channel(r_term), channel(g_term), channel(b_term));
            let (first, third) = if LAYOUT == BGR || LAYOUT == BGRA { (b, r) } else { (r, b) };
            // SAFETY (stores): `i + 64 ≤ n` pixels of `per` bytes, or of each plane, fit the
            // rows, checked above.
            match o {
                Out::Packed(row) if LAYOUT == RGB || LAYOUT == BGR => {
                    for (m, idx) in idx3.iter().enumerate() {
                        let v = _mm512_permutex2var_epi8(first, *idx, g);
                        let v = _mm512_mask_permutexvar_epi8(v, PACKED3.1[m], *idx, third);
                        unsafe { _mm512_storeu_si512(row.as_mut_ptr().add(3 * i + 64 * m).cast(), v) };
                    }
                }
                Out::Packed(row) => {
                    let opaque = _mm512_set1_epi8(-1);
                    for (m, idx) in idx4.iter().enumerate() {
                        let v = _mm512_permutex2var_epi8(first, *idx, g);
                        let v = _mm512_mask_permutexvar_epi8(v, PACKED4.1[m], *idx, third);
                        let v = _mm512_mask_blend_epi8(PACKED4.2, v, opaque);
                        unsafe { _mm512_storeu_si512(row.as_mut_ptr().add(4 * i + 64 * m).cast(), v) };
                    }
                }
                Out::Planar([pr, pg, pb]) => unsafe {
                    _mm512_storeu_si512(pr.as_mut_ptr().add(i).cast(), _mm512_permutexvar_epi8(order, r));
                    _mm512_storeu_si512(pg.as_mut_ptr().add(i).cast(), _mm512_permutexvar_epi8(order, g));
                    _mm512_storeu_si512(pb.as_mut_ptr().add(i).cast(), _mm512_permutexvar_epi8(order, b));
                },
            }
        }
        i += 64;
    }
    n
}

/// `c · x` in 1/64 units (`rgb_avx2.rs`'s `term`).
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn term(x: __m512i, n: __m512i, f: __m512i) -> __m512i {
    _mm512_add_epi16(_mm512_mulhi_epi16(_mm512_add_epi16(x, x), f), _mm512_mullo_epi16(x, n))
}
