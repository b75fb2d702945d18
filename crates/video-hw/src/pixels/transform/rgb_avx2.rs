//! 8-bit RGB output from 8-bit 4:2:0 and 4:2:2 sources in AVX2 registers: the same
//! expression as `rgb_pairs.rs` (bit for bit, `rgb_kernel_tests.rs`), 32 pixels of one or
//! two luma rows at a time.
//!
//! Why explicit vectors: the portable row loops, vectorised by the compiler, took
//! 0.59-0.64 ms per 1080p yuv420p → RGB24 conversion on one core of the 2-core AMD EPYC
//! (`cargo bench --bench rgb_convert`), this kernel 0.42-0.44 in the same runs. Here the
//! chroma terms of 16 chroma samples are computed in registers and serve the 32 pixels
//! under them on both rows of a 4:2:0 pair (no row of terms written and read back), the
//! luma term is two shifts, a high multiply and an add (the luma factor's integer part
//! is 1 for every matrix and range), the rounding half is added once per chroma sample
//! instead of per pixel, and the lanes stay in the order the byte pack leaves them, so
//! that no cross-lane permute comes before the interleave. The luma's even and odd
//! samples are split by masking and shifting (not unpacked), so a chroma sample's terms
//! serve its two pixels where they lie without being doubled, and the packing's byte
//! shuffles put the pixels in order ([`packed_at`]): five shuffles fewer per 32 pixels,
//! 4-6 % of the kernel's time on the 2-core Xeon VM (2026-11-28,
//! bench/results/rgb-kernel-even-odd-20261128-a28e6fe).
//!
//! What it covers: the jobs `rgb_kernel.rs` takes (`Kernel::for_job`, shared with the
//! NEON kernel), where the CPU has AVX2. It converts the first `32 · ⌊w / 32⌋` pixels of a
//! row; the caller does the rest with the portable loops. The rounding half is folded into
//! the chroma terms as `rgb_kernel.rs` explains.

use std::arch::x86_64::*;

use super::rgb_kernel::{BGR, BGRA, Chroma, Fast, Out, PLANES, RGB, RGBA, bytes_per_pixel, slices_hold};

/// Pixels [`rows`] converts at a time.
pub(super) const STEP: usize = 32;

/// What this CPU offers the kernels, found once per conversion.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cpu {
    /// The CPU has AVX-512 F, BW and VBMI: `rgb_avx512.rs` converts the first
    /// 64 · ⌊w / 64⌋ pixels, this kernel the next 32 where there are.
    wide: bool,
}

/// The kernels this CPU can run, where it has AVX2 and may use it ([`avx2_allowed`]).
pub(super) fn cpu() -> Option<Cpu> {
    avx2_allowed().then(|| Cpu { wide: wide_allowed() })
}

/// Whether the CPU paths may use AVX2: the CPU has it and `VIDEO_HW_RGB_KERNEL` does not
/// say `portable`. Both this kernel and the resize's AVX2 build (`apply::run_plan`) ask it.
pub(super) fn avx2_allowed() -> bool {
    is_x86_feature_detected!("avx2") && crate::env::settings().rgb_kernel != crate::env::RgbKernel::Portable
}

#[cfg(test)]
thread_local! {
    /// Tests on this thread use the AVX2 kernels alone (RGB, and the resize's x pass and
    /// vertical sums), where the CPU has AVX-512 too (so that both are held to the portable
    /// loops on such a CPU).
    pub(super) static AVX2_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether conversions may use the AVX-512 kernel here.
fn wide_allowed() -> bool {
    avx512_allowed() && super::rgb_avx512::available()
}

/// Whether the CPU paths may use AVX-512 where the CPU has what they need (each checks its
/// own features): `VIDEO_HW_RGB_KERNEL` does not hold them to AVX2 (nor, in tests,
/// [`AVX2_ONLY`]). The RGB kernel, the resize's x pass (`resample_avx2.rs`) and its vertical
/// sums (`fixed_sum.rs`) ask it.
pub(super) fn avx512_allowed() -> bool {
    #[cfg(test)]
    if AVX2_ONLY.with(|c| c.get()) {
        return false;
    }
    crate::env::settings().rgb_kernel != crate::env::RgbKernel::Avx2
}

/// The first `32 · ⌊w / 32⌋` pixels of the luma rows `luma` (one or two, sharing the
/// chroma samples `c`) into `out`, laid out as `layout`: the AVX-512 kernel's part first
/// where `cpu` has it. Returns how many pixels of each row were converted.
pub(super) fn convert(cpu: Cpu, layout: u8, k: &Fast, luma: &[&[u8]], c: Chroma<'_>, out: &mut [Out<'_>]) -> usize {
    let wide = if cpu.wide { run_wide(layout, k, luma, c, out) } else { 0 };
    if wide == 0 {
        return run_narrow(layout, k, luma, c, out);
    }
    // The pixels from `wide` on: the next 32 where there are.
    let c = match c {
        Chroma::Planar(u, v) => Chroma::Planar(&u[wide / 2..], &v[wide / 2..]),
        Chroma::Interleaved(uv) => Chroma::Interleaved(&uv[wide..]),
    };
    let per = bytes_per_pixel(layout);
    /// `o` from pixel `from` on (`per` bytes a pixel when packed).
    fn rest<'a>(o: &'a mut Out<'_>, from: usize, per: usize) -> Out<'a> {
        match o {
            Out::Packed(row) => Out::Packed(&mut row[from * per..]),
            Out::Planar([r, g, b]) => Out::Planar([&mut r[from..], &mut g[from..], &mut b[from..]]),
        }
    }
    let done = match (luma, out) {
        ([y], [a]) => run_narrow(layout, k, &[&y[wide..]], c, &mut [rest(a, wide, per)]),
        ([y0, y1], [a, b]) => {
            run_narrow(layout, k, &[&y0[wide..], &y1[wide..]], c, &mut [rest(a, wide, per), rest(b, wide, per)])
        }
        _ => 0,
    };
    wide + done
}

/// The AVX2 kernel over the first 32 · ⌊w / 32⌋ pixels; returns how many it did.
fn run_narrow(layout: u8, k: &Fast, luma: &[&[u8]], c: Chroma<'_>, out: &mut [Out<'_>]) -> usize {
    // SAFETY: a `Cpu` is made only where `is_x86_feature_detected!("avx2")` said the CPU
    // has AVX2 (`cpu`), which is all `rows` needs besides its arguments (which it checks
    // itself).
    unsafe {
        match layout {
            RGB => rows::<RGB>(k, luma, c, out),
            BGR => rows::<BGR>(k, luma, c, out),
            RGBA => rows::<RGBA>(k, luma, c, out),
            BGRA => rows::<BGRA>(k, luma, c, out),
            _ => rows::<PLANES>(k, luma, c, out),
        }
    }
}

/// The AVX-512 kernel over the first 64 · ⌊w / 64⌋ pixels; returns how many it did.
fn run_wide(layout: u8, k: &Fast, luma: &[&[u8]], c: Chroma<'_>, out: &mut [Out<'_>]) -> usize {
    use super::rgb_avx512::rows as wide;
    // SAFETY: `wide` is set only where `rgb_avx512::available` said the CPU has
    // AVX-512 F, BW and VBMI, which is all its `rows` needs besides its arguments
    // (which it checks itself).
    unsafe {
        match layout {
            RGB => wide::<RGB>(k, luma, c, out),
            BGR => wide::<BGR>(k, luma, c, out),
            RGBA => wide::<RGBA>(k, luma, c, out),
            BGRA => wide::<BGRA>(k, luma, c, out),
            _ => wide::<PLANES>(k, luma, c, out),
        }
    }
}

/// Converts the first `32 · ⌊w / 32⌋` pixels of each luma row in `luma` (one or two rows of
/// `w` samples that share the chroma row `chroma`) into `out` (one per luma row, laid out
/// as `LAYOUT`); returns how many pixels of each row it converted (0 where the slices are
/// too short for what their lengths promise, which the caller never passes).
///
/// Calling it is `unsafe` where AVX2 is not known at compile time: the caller checks that
/// the CPU has it (`is_x86_feature_detected!("avx2")`).
#[target_feature(enable = "avx2")]
pub(super) fn rows<const LAYOUT: u8>(k: &Fast, luma: &[&[u8]], chroma: Chroma<'_>, out: &mut [Out<'_>]) -> usize {
    let Some(w) = luma.first().map(|y| y.len()) else { return 0 };
    let n = w / 32 * 32;
    // Every slice the loop reads or writes holds what `n` pixels need.
    if n == 0 || !slices_hold(n, LAYOUT, luma, chroma, out) {
        return 0;
    }
    let set = |(n, f): (i16, i16)| (_mm256_set1_epi16(n), _mm256_set1_epi16(f));
    let (rvn, rvf) = set(k.rv);
    let (gun, guf) = set(k.gu);
    let (gvn, gvf) = set(k.gv);
    let (bun, buf) = set(k.bu);
    let (yo, co, yf) = (_mm256_set1_epi16(k.yo), _mm256_set1_epi16(k.co), _mm256_set1_epi16(k.yf));
    let (half, low) = (_mm256_set1_epi16(32), _mm256_set1_epi16(0xff));
    let masks = interleave_masks(false);
    let order = _mm256_broadcastsi128_si256(
        // SAFETY: `IN_ORDER` is 16 bytes.
        unsafe { _mm_loadu_si128(IN_ORDER.as_ptr().cast()) },
    );
    let mut i = 0;
    while i < n {
        let c = i / 2;
        // 16 chroma samples as 16-bit lanes (0–7 in the low half, 8–15 in the high one).
        // SAFETY (loads): `c + 16 ≤ n / 2` samples (`2c + 32 ≤ n` bytes interleaved) lie in
        // the slices, checked above.
        let (u, v) = match chroma {
            Chroma::Planar(u, v) => unsafe {
                (
                    _mm256_cvtepu8_epi16(_mm_loadu_si128(u.as_ptr().add(c).cast())),
                    _mm256_cvtepu8_epi16(_mm_loadu_si128(v.as_ptr().add(c).cast())),
                )
            },
            Chroma::Interleaved(uv) => {
                let pairs = unsafe { _mm256_loadu_si256(uv.as_ptr().add(2 * c).cast()) };
                (_mm256_and_si256(pairs, low), _mm256_srli_epi16(pairs, 8))
            }
        };
        let (u, v) = (_mm256_slli_epi16(_mm256_sub_epi16(u, co), 6), _mm256_slli_epi16(_mm256_sub_epi16(v, co), 6));
        // Lane j of a term serves the even pixel 2j and the odd pixel 2j + 1 of its half,
        // which is where the luma's even and odd samples land below: no lane is moved.
        let r_term = _mm256_add_epi16(term(v, rvn, rvf), half);
        let g_term = _mm256_add_epi16(_mm256_add_epi16(term(u, gun, guf), term(v, gvn, gvf)), half);
        let b_term = _mm256_add_epi16(term(u, bun, buf), half);
        for (y, o) in luma.iter().zip(out.iter_mut()) {
            // SAFETY: `i + 32 ≤ n ≤ y.len()`.
            let y = unsafe { _mm256_loadu_si256(y.as_ptr().add(i).cast()) };
            let luma = |y: __m256i| {
                let x = _mm256_sub_epi16(y, yo);
                _mm256_add_epi16(_mm256_mulhi_epi16(_mm256_slli_epi16(x, 7), yf), _mm256_slli_epi16(x, 6))
            };
            // Even and odd pixels as 16-bit lanes by masking and shifting (ALU work; the
            // shuffle ports are this kernel's bound).
            let (even, odd) = (luma(_mm256_and_si256(y, low)), luma(_mm256_srli_epi16(y, 8)));
            // 32 bytes of one channel, each half its even pixels then its odd ones
            // ([`IN_ORDER`] or the packing's own shuffles put them in order).
            let channel = |t: __m256i| {
                let e = _mm256_srai_epi16(_mm256_adds_epi16(even, t), 6);
                _mm256_packus_epi16(e, _mm256_srai_epi16(_mm256_adds_epi16(odd, t), 6))
            };
            let (r, g, b) = (channel(r_term), channel(g_term), channel(b_term));
            // SAFETY (stores): `i + 32 ≤ n` pixels of `per` bytes, or of each plane, fit
            // the rows, checked above.
            match o {
                Out::Packed(row) if LAYOUT == RGB => unsafe { store3(row.as_mut_ptr().add(3 * i), r, g, b, &masks) },
                Out::Packed(row) if LAYOUT == BGR => unsafe { store3(row.as_mut_ptr().add(3 * i), b, g, r, &masks) },
                Out::Packed(row) => {
                    let (first, third) = if LAYOUT == RGBA { (r, b) } else { (b, r) };
                    let put = |x| _mm256_shuffle_epi8(x, order);
                    unsafe { store4(row.as_mut_ptr().add(4 * i), put(first), put(g), put(third)) }
                }
                Out::Planar([pr, pg, pb]) => unsafe {
                    _mm256_storeu_si256(pr.as_mut_ptr().add(i).cast(), _mm256_shuffle_epi8(r, order));
                    _mm256_storeu_si256(pg.as_mut_ptr().add(i).cast(), _mm256_shuffle_epi8(g, order));
                    _mm256_storeu_si256(pb.as_mut_ptr().add(i).cast(), _mm256_shuffle_epi8(b, order));
                },
            }
        }
        i += 32;
    }
    n
}

/// `c · x` in 1/64 units (`rgb_pairs.rs`'s `term`): the fraction's high product plus the
/// integer part's low one.
#[target_feature(enable = "avx2")]
#[inline]
fn term(x: __m256i, n: __m256i, f: __m256i) -> __m256i {
    _mm256_add_epi16(_mm256_mulhi_epi16(_mm256_add_epi16(x, x), f), _mm256_mullo_epi16(x, n))
}

/// Where pixel `p` of a register of one channel lies as the kernels compute it (here and in
/// `rgb_avx512.rs`): each 128-bit lane of 16 pixels holds its even pixels, then its odd
/// ones (the `packus` of the two).
pub(super) const fn packed_at(p: usize) -> usize {
    p / 16 * 16 + p % 16 / 2 + 8 * (p % 2)
}

/// The byte shuffle (or permute) that puts `N` pixels of a channel back in order: byte `p`
/// takes the byte at [`packed_at`]`(p)`. Here `N` is 16 (a 128-bit half), in
/// `rgb_avx512.rs` 64.
pub(super) const fn in_order<const N: usize>() -> [u8; N] {
    let mut m = [0u8; N];
    let mut p = 0;
    while p < N {
        m[p] = packed_at(p) as u8;
        p += 1;
    }
    m
}

/// [`in_order`]'s mask for a 128-bit half.
const IN_ORDER: [u8; 16] = in_order::<16>();

/// The byte shuffle that moves pixel `i` of a channel (at [`packed_at`]`(i)`, or at `i`
/// where `natural`: channels in pixel order, as `store_avx2.rs` packs them) to byte
/// `(3i + place) mod 16`, for each place of a channel in a 3-byte pixel. Since 3 and 16
/// are coprime, this is a permutation, and it puts every byte where it lands within its
/// 16-byte block of packed output: pixel `i`'s channel at `place` is output byte
/// `3i + place`, in block `⌊(3i + place) / 16⌋` at `(3i + place) mod 16`. So each output
/// block is, byte by byte, one of the three shuffled channels: block `k`'s byte `j` is of
/// the channel at place `(16k + j) mod 3 = (k + j) mod 3` ([`THIRDS`] selects it).
const fn spreads(natural: bool) -> [[i8; 16]; 3] {
    let mut m = [[0i8; 16]; 3];
    let mut place = 0;
    while place < 3 {
        let mut i = 0;
        while i < 16 {
            m[place][(3 * i + place) % 16] = if natural { i as i8 } else { packed_at(i) as i8 };
            i += 1;
        }
        place += 1;
    }
    m
}

/// [`spreads`] for places 0, 1 and 2, in the kernels' order and in pixel order.
const SPREADS: [[[i8; 16]; 3]; 2] = [spreads(false), spreads(true)];

/// Blend masks: `[r]` has the high bit of byte `j` set where `j mod 3 = r`.
const fn thirds() -> [[i8; 16]; 3] {
    let mut m = [[0i8; 16]; 3];
    let mut j = 0;
    while j < 16 {
        m[j % 3][j] = -1;
        j += 1;
    }
    m
}

/// [`thirds`] for residues 0, 1 and 2.
const THIRDS: [[i8; 16]; 3] = thirds();

/// The constants of [`store3`] in registers, each in both 128-bit halves: [`SPREADS`] (in
/// pixel order where `natural`), then [`THIRDS`].
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn interleave_masks(natural: bool) -> [[__m256i; 3]; 2] {
    // SAFETY: each mask is 16 bytes.
    let load = |m: &[i8; 16]| _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(m.as_ptr().cast()) });
    let spread = &SPREADS[usize::from(natural)];
    [[load(&spread[0]), load(&spread[1]), load(&spread[2])], [load(&THIRDS[0]), load(&THIRDS[1]), load(&THIRDS[2])]]
}

/// 32 packed 3-byte pixels from 32 bytes of each channel (each 128-bit half its even
/// pixels, then its odd ones: [`packed_at`], or in pixel order with the masks of
/// `interleave_masks(true)`), in the order they take in a pixel (R, G, B for RGB; B, G, R
/// for BGR).
///
/// Why this way: one shuffle per channel and two blends per 16 bytes of output
/// ([`spreads`]), where shuffling each channel into each block took nine shuffles and six
/// ORs per 48 bytes; the shuffle ports are what bounds this kernel.
///
/// # Safety
///
/// `dst` writable for 96 bytes.
#[target_feature(enable = "avx2")]
#[inline]
pub(super) unsafe fn store3(dst: *mut u8, first: __m256i, second: __m256i, third: __m256i, m: &[[__m256i; 3]; 2]) {
    let [spread, third_of] = m;
    // Each 128-bit half interleaves its own 16 pixels: half 0 of the three blocks is
    // pixels 0–15, half 1 pixels 16–31.
    let (a, b, c) = (
        _mm256_shuffle_epi8(first, spread[0]),
        _mm256_shuffle_epi8(second, spread[1]),
        _mm256_shuffle_epi8(third, spread[2]),
    );
    // Block k: place (k + j) mod 3 at byte j, so the second channel where j mod 3 is
    // (1 - k) mod 3 and the third where it is (2 - k) mod 3.
    let block =
        |second_at: __m256i, third_at: __m256i| _mm256_blendv_epi8(_mm256_blendv_epi8(a, b, second_at), c, third_at);
    let o0 = block(third_of[1], third_of[2]);
    let o1 = block(third_of[0], third_of[1]);
    let o2 = block(third_of[2], third_of[0]);
    // SAFETY: 96 bytes from `dst` are writable (the caller's promise).
    unsafe {
        _mm256_storeu_si256(dst.cast(), _mm256_permute2x128_si256(o0, o1, 0x20));
        _mm256_storeu_si256(dst.add(32).cast(), _mm256_permute2x128_si256(o2, o0, 0x30));
        _mm256_storeu_si256(dst.add(64).cast(), _mm256_permute2x128_si256(o1, o2, 0x31));
    }
}

/// 32 packed 4-byte pixels (`first`, G, `third`, 255) from 32 bytes of each channel.
///
/// # Safety
///
/// `dst` writable for 128 bytes.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn store4(dst: *mut u8, first: __m256i, g: __m256i, third: __m256i) {
    let opaque = _mm256_set1_epi8(-1);
    // Halves: pixels 0–7 | 16–23 (lo) and 8–15 | 24–31 (hi).
    let (fg_lo, fg_hi) = (_mm256_unpacklo_epi8(first, g), _mm256_unpackhi_epi8(first, g));
    let (ta_lo, ta_hi) = (_mm256_unpacklo_epi8(third, opaque), _mm256_unpackhi_epi8(third, opaque));
    // Pixels 0–3 | 16–19, 4–7 | 20–23, 8–11 | 24–27, 12–15 | 28–31.
    let p0 = _mm256_unpacklo_epi16(fg_lo, ta_lo);
    let p1 = _mm256_unpackhi_epi16(fg_lo, ta_lo);
    let p2 = _mm256_unpacklo_epi16(fg_hi, ta_hi);
    let p3 = _mm256_unpackhi_epi16(fg_hi, ta_hi);
    // SAFETY: 128 bytes from `dst` are writable (the caller's promise).
    unsafe {
        _mm256_storeu_si256(dst.cast(), _mm256_permute2x128_si256(p0, p1, 0x20));
        _mm256_storeu_si256(dst.add(32).cast(), _mm256_permute2x128_si256(p2, p3, 0x20));
        _mm256_storeu_si256(dst.add(64).cast(), _mm256_permute2x128_si256(p0, p1, 0x31));
        _mm256_storeu_si256(dst.add(96).cast(), _mm256_permute2x128_si256(p2, p3, 0x31));
    }
}
