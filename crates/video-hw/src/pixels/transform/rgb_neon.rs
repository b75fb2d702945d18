//! 8-bit RGB output from 8-bit 4:2:0 and 4:2:2 sources in NEON registers (aarch64: NVIDIA
//! Grace, Graviton, Apple silicon): the AVX2 kernel's expression (`rgb_avx2.rs`, the same
//! as `rgb_pairs.rs`) lane for lane, 16 pixels of one or two luma rows at a time, for the
//! jobs `rgb_kernel.rs` takes (`Kernel::for_job`, the decision the x86-64 kernels share).
//!
//! Status: run under QEMU user emulation, bit-exact to the portable loops
//! (`rgb_kernel_tests.rs`, `scripts/test-aarch64-qemu.sh`); speed never measured on
//! aarch64 hardware. Nobody working on it has had any, so it makes no claim of a
//! speed-up over the compiler-vectorised loops it stands in for.
//!
//! How it maps the AVX2 kernel's arithmetic (each step gives the same 16-bit lanes):
//! - the high multiply `(2x · f) >> 16` is `sqdmulh` (`vqdmulhq_s16(x, f)`: doubles,
//!   takes the high half, floors as the arithmetic shift does); it saturates only for
//!   `x = f = −32,768`, and `|x| ≤ 255 · 64` here;
//! - the low multiply is `mul`, the wrapping adds `add`, the saturating adds `sqadd`;
//! - the shift right by 6 and the clamp to 0–255 of the pack are one `sqshrun #6`
//!   (truncating, not its rounding form `sqrshrun`);
//! - the two pixels of a chroma pair take one term each through `zip1`/`zip2`;
//! - packed RGB/BGR and RGBA/BGRA are written by `st3`/`st4`, which interleave as they
//!   store; planes by `st1`.
//!
//! NEON is part of the aarch64 baseline (every aarch64 CPU and target has it), so there is
//! no run-time detection: [`cpu`] always says yes.

use core::arch::aarch64::*;

use super::rgb_kernel::{BGR, BGRA, Chroma, Fast, Out, PLANES, RGB, RGBA, slices_hold};

/// Pixels [`rows`] converts at a time: 8 chroma samples, one 128-bit register of 16-bit
/// lanes, under 16 pixels of one 128-bit register of luma bytes.
pub(super) const STEP: usize = 16;

/// What the CPU offers the kernel: NEON, which every aarch64 CPU has.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cpu;

/// The kernel, which every aarch64 CPU can run, unless `VIDEO_HW_RGB_KERNEL` says
/// `portable`.
pub(super) fn cpu() -> Option<Cpu> {
    (crate::env::settings().rgb_kernel != crate::env::RgbKernel::Portable).then_some(Cpu)
}

/// The first `16 · ⌊w / 16⌋` pixels of the luma rows `luma` (one or two, sharing the
/// chroma samples `c`) into `out`, laid out as `layout`. Returns how many pixels of each
/// row were converted.
pub(super) fn convert(_: Cpu, layout: u8, k: &Fast, luma: &[&[u8]], c: Chroma<'_>, out: &mut [Out<'_>]) -> usize {
    // SAFETY: `rows` needs NEON, which every aarch64 CPU has (it is in the baseline of
    // every aarch64 target), besides its arguments (which it checks itself).
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

/// Converts the first `16 · ⌊w / 16⌋` pixels of each luma row in `luma` (one or two rows of
/// `w` samples that share the chroma row `chroma`) into `out` (one per luma row, laid out
/// as `LAYOUT`); returns how many pixels of each row it converted (0 where the slices are
/// too short for what their lengths promise, which the caller never passes).
///
/// Calling it is `unsafe` only in name: the intrinsics are declared for code compiled with
/// NEON, which the aarch64 baseline has, and Rust asks for the attribute to call them
/// safely.
#[target_feature(enable = "neon")]
fn rows<const LAYOUT: u8>(k: &Fast, luma: &[&[u8]], chroma: Chroma<'_>, out: &mut [Out<'_>]) -> usize {
    let Some(w) = luma.first().map(|y| y.len()) else { return 0 };
    let n = w / STEP * STEP;
    // Every slice the loop reads or writes holds what `n` pixels need.
    if n == 0 || !slices_hold(n, LAYOUT, luma, chroma, out) {
        return 0;
    }
    let set = |(n, f): (i16, i16)| (vdupq_n_s16(n), vdupq_n_s16(f));
    let (rvn, rvf) = set(k.rv);
    let (gun, guf) = set(k.gu);
    let (gvn, gvf) = set(k.gv);
    let (bun, buf) = set(k.bu);
    let (yo, co, yf, half) = (vdupq_n_s16(k.yo), vdupq_n_s16(k.co), vdupq_n_s16(k.yf), vdupq_n_s16(32));
    let opaque = vdupq_n_u8(255);
    // A sample, less `offset`, in 1/64 units: `(x − offset) << 6`.
    let widen =
        |x: uint8x8_t, offset: int16x8_t| vshlq_n_s16::<6>(vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(x)), offset));
    let mut i = 0;
    while i < n {
        let c = i / 2;
        // 8 chroma samples.
        // SAFETY (loads): `c + 8 ≤ n / 2` samples (`2c + 16 ≤ n` bytes interleaved) lie in
        // the slices, checked above.
        let (u, v) = match chroma {
            Chroma::Planar(u, v) => unsafe { (vld1_u8(u.as_ptr().add(c)), vld1_u8(v.as_ptr().add(c))) },
            Chroma::Interleaved(uv) => {
                // `ld2` splits the Cb, Cr pairs into a register of each.
                let pairs = unsafe { vld2_u8(uv.as_ptr().add(2 * c)) };
                (pairs.0, pairs.1)
            }
        };
        let (u, v) = (widen(u, co), widen(v, co));
        // Each term twice, for the two pixels of its pair, the rounding half folded in
        // (`rgb_kernel.rs`): `a` holds pixels 0–7, `b` pixels 8–15.
        let twice = |t: int16x8_t| {
            let t = vaddq_s16(t, half);
            (vzip1q_s16(t, t), vzip2q_s16(t, t))
        };
        let (ra, rb) = twice(term(v, rvn, rvf));
        let (ga, gb) = twice(vaddq_s16(term(u, gun, guf), term(v, gvn, gvf)));
        let (ba, bb) = twice(term(u, bun, buf));
        for (y, o) in luma.iter().zip(out.iter_mut()) {
            // SAFETY: `i + 16 ≤ n ≤ y.len()`.
            let y = unsafe { vld1q_u8(y.as_ptr().add(i)) };
            // The luma term: the factor's integer part (1) times the sample, plus its
            // fraction's high product.
            let luma_term = |y: uint8x8_t| {
                let x = widen(y, yo);
                vaddq_s16(vqdmulhq_s16(x, yf), x)
            };
            let (la, lb) = (luma_term(vget_low_u8(y)), luma_term(vget_high_u8(y)));
            // 16 bytes of one channel, pixels 0–15 in order.
            let channel = |a: int16x8_t, b: int16x8_t| {
                vcombine_u8(vqshrun_n_s16::<6>(vqaddq_s16(la, a)), vqshrun_n_s16::<6>(vqaddq_s16(lb, b)))
            };
            let (r, g, b) = (channel(ra, rb), channel(ga, gb), channel(ba, bb));
            let (first, third) = if LAYOUT == BGR || LAYOUT == BGRA { (b, r) } else { (r, b) };
            // SAFETY (stores): `i + 16 ≤ n` pixels of 3 or 4 bytes, or of each plane, fit
            // the rows, checked above (`slices_hold` with this layout).
            match o {
                Out::Packed(row) if LAYOUT == RGB || LAYOUT == BGR => unsafe {
                    vst3q_u8(row.as_mut_ptr().add(3 * i), uint8x16x3_t(first, g, third));
                },
                Out::Packed(row) => unsafe {
                    vst4q_u8(row.as_mut_ptr().add(4 * i), uint8x16x4_t(first, g, third, opaque));
                },
                Out::Planar([pr, pg, pb]) => unsafe {
                    vst1q_u8(pr.as_mut_ptr().add(i), r);
                    vst1q_u8(pg.as_mut_ptr().add(i), g);
                    vst1q_u8(pb.as_mut_ptr().add(i), b);
                },
            }
        }
        i += STEP;
    }
    n
}

/// `c · x` in 1/64 units (`rgb_avx2.rs`'s `term`): the fraction's high product
/// (`(2x · f) >> 16`, what `sqdmulh` computes) plus the integer part's low one.
#[target_feature(enable = "neon")]
#[inline]
fn term(x: int16x8_t, n: int16x8_t, f: int16x8_t) -> int16x8_t {
    vaddq_s16(vqdmulhq_s16(x, f), vmulq_s16(x, n))
}
