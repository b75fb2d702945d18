//! The explicit 8-bit YUV → RGB kernels' common part: which jobs they take
//! ([`Kernel::for_job`], one decision for every CPU), the constants of their expression
//! ([`Fast`]), and where their rows come from and go to ([`Chroma`], [`Out`]). The
//! arithmetic and the packing are each architecture's own: `rgb_avx2.rs` (with
//! `rgb_avx512.rs`) on x86-64, `rgb_neon.rs` on aarch64; `rgb_kernel_tests.rs` holds them
//! to the portable loops (`rgb_pairs.rs`) bit for bit.
//!
//! What they cover (else `for_job` says no and the portable loops run): 8-bit luma in a
//! plane of its own, chroma in two planes or interleaved (NV12), half the columns, a
//! non-identity matrix, output packed RGB/BGR (3 bytes), RGBA/BGRA (4) or three planes, a
//! crop from an even column. A kernel converts the first `STEP · ⌊w / STEP⌋` pixels of a
//! row (`STEP`: 32 on x86-64, 16 on aarch64); the caller does the rest with the portable
//! loops.
//!
//! Exactness of the folded rounding half (every kernel adds it to the chroma term once per
//! chroma sample): the reference adds 32 to the luma term with saturation and then the
//! chroma term with saturation. With the luma factor's integer part 1 and a sample within
//! 0–255, the luma term is within ±32,640 and adding 32 never saturates; with every chroma
//! factor (G's two together) below 3.5 in magnitude, a chroma term is within ±28,672 and
//! adding 32 never wraps. Then `sat(sat(l + 32) + t) = sat(l + (t + 32))`; [`Fast::new`]
//! checks both bounds.

#[cfg(target_arch = "x86_64")]
use super::rgb_avx2 as arch;
#[cfg(target_arch = "aarch64")]
use super::rgb_neon as arch;

use super::Rect;
use super::rgb::{Layout, Src, Store, YuvSource};
use super::rgb_pairs::Pairs;
use crate::codec::SampleType;

/// Pixels a kernel converts at a time on this CPU architecture: each row's kernel part is
/// a multiple of it.
pub(super) const STEP: usize = arch::STEP;

/// Whether this CPU can run its architecture's kernel (x86-64: AVX2; aarch64: always) and
/// `VIDEO_HW_RGB_KERNEL` lets it.
#[cfg(test)]
pub(super) fn cpu_has_one() -> bool {
    arch::cpu().is_some()
}

/// The expression's constants for one matrix and range at 8 bits (`rgb_pairs.rs`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Fast {
    /// Luma offset.
    pub yo: i16,
    /// Chroma offset.
    pub co: i16,
    /// The fraction of the luma factor (its integer part is 1).
    pub yf: i16,
    /// Chroma factors as (integer, fraction in 15 bits).
    pub rv: (i16, i16),
    pub gu: (i16, i16),
    pub gv: (i16, i16),
    pub bu: (i16, i16),
}

impl Fast {
    /// The constants, where the folded rounding is exact (module docs): `shift` 6 (8-bit
    /// samples), the luma factor's integer part 1, chroma factors below 3.5.
    pub(super) fn new(shift: u32, y: (i16, i16), [rv, gu, gv, bu]: [(i16, i16); 4], yo: i16, co: i16) -> Option<Fast> {
        let value = |(n, f): (i16, i16)| f64::from(n) + f64::from(f) / 32768.0;
        let small = value(rv).abs() < 3.5 && value(bu).abs() < 3.5 && value(gu).abs() + value(gv).abs() < 3.5;
        (shift == 6 && y.0 == 1 && small && (0..=255).contains(&yo) && (0..=255).contains(&co)).then_some(Fast {
            yo,
            co,
            yf: y.1,
            rv,
            gu,
            gv,
            bu,
        })
    }
}

/// Where the chroma samples of one row are.
#[derive(Debug, Clone, Copy)]
pub(super) enum Chroma<'a> {
    /// Cb and Cr in planes of their own, from the first sample the row needs.
    Planar(&'a [u8], &'a [u8]),
    /// Cb, Cr pairs (NV12), from the first pair the row needs.
    Interleaved(&'a [u8]),
}

/// Where one output row goes.
pub(super) enum Out<'a> {
    /// Packed, 3 or 4 bytes a pixel as the kernel's layout says (alpha, where there is
    /// one, opaque).
    Packed(&'a mut [u8]),
    /// R, G and B planes.
    Planar([&'a mut [u8]; 3]),
}

/// The output layouts, as a constant of the kernel.
pub(super) const RGB: u8 = 0;
/// B, G, R.
pub(super) const BGR: u8 = 1;
/// R, G, B, opaque alpha.
pub(super) const RGBA: u8 = 2;
/// B, G, R, opaque alpha.
pub(super) const BGRA: u8 = 3;
/// R, G, B planes.
pub(super) const PLANES: u8 = 4;

/// Bytes a pixel of an output row of `layout` (1: one of each plane).
pub(super) const fn bytes_per_pixel(layout: u8) -> usize {
    match layout {
        RGB | BGR => 3,
        RGBA | BGRA => 4,
        _ => 1,
    }
}

/// Whether the slices of one call of a kernel's `rows` hold what `n` pixels of each row
/// need: one or two luma rows, as many output rows laid out as `layout`, the chroma
/// samples under them.
pub(super) fn slices_hold(n: usize, layout: u8, luma: &[&[u8]], chroma: Chroma<'_>, out: &[Out<'_>]) -> bool {
    let per = bytes_per_pixel(layout);
    let chroma_ok = match chroma {
        Chroma::Planar(u, v) => u.len() >= n / 2 && v.len() >= n / 2,
        Chroma::Interleaved(uv) => uv.len() >= n,
    };
    let out_ok = out.iter().all(|o| match o {
        Out::Packed(row) => layout != PLANES && row.len() >= n * per,
        Out::Planar(p) => layout == PLANES && p.iter().all(|p| p.len() >= n),
    });
    chroma_ok && out_ok && luma.len() == out.len() && luma.len() <= 2 && luma.iter().all(|y| y.len() >= n)
}

/// The kernel for one conversion: its constants, the chroma layout, the output layout,
/// how many pixels of each row it converts (a multiple of [`STEP`]; the portable loops do
/// the rest), and what the CPU offers it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kernel {
    k: Fast,
    /// Cb, Cr interleaved in one plane (NV12).
    interleaved: bool,
    /// The output layout, as this module's constants.
    layout: u8,
    /// Pixels of each row the kernel converts.
    pixels: usize,
    /// What the architecture's kernel found this CPU has.
    cpu: arch::Cpu,
}

impl Kernel {
    /// The kernel where the CPU has one and the job is what it covers: 8-bit luma in a
    /// plane of its own, 8-bit chroma at half the columns in two planes or interleaved,
    /// a crop starting at an even column, 8-bit packed RGB/BGR/RGBA/BGRA or planar
    /// output, a matrix `Pairs::fast` accepts, a row of at least [`STEP`] pixels.
    pub(super) fn for_job(src: &YuvSource<'_>, rect: Rect, layout: &Layout, q: &Pairs) -> Option<Kernel> {
        let [y, u, v] = &src.planes;
        let byte_plane = |p: &Src<'_>| p.store == Store::U8 && p.step == 1;
        let interleaved = u.store == Store::U8
            && (u.step, u.phase, v.step, v.phase) == (2, 0, 2, 1)
            && std::ptr::eq(u.data, v.data)
            && (u.offset, u.stride) == (v.offset, v.stride);
        let out = match (layout.planar, layout.channels, layout.positions) {
            (true, _, _) if layout.format.sample_type() == SampleType::U8 => PLANES,
            (false, 3, [0, 1, 2]) => RGB,
            (false, 3, [2, 1, 0]) => BGR,
            (false, 4, [0, 1, 2]) => RGBA,
            (false, 4, [2, 1, 0]) => BGRA,
            _ => return None,
        };
        let pixels = rect.width as usize / STEP * STEP;
        let fits = byte_plane(y) && (interleaved || (byte_plane(u) && byte_plane(v)));
        if !fits || !src.half_width || rect.x % 2 == 1 || pixels == 0 || layout.format.sample_type() != SampleType::U8 {
            return None;
        }
        let k = q.fast()?;
        let cpu = arch::cpu()?;
        Some(Kernel { k, interleaved, layout: out, pixels, cpu })
    }

    /// The first `self.pixels` pixels of the luma rows `luma` (one or two, sharing the
    /// chroma samples `chroma` from the first one they need) into `out`.
    /// Whether it did (the kernels check their slices; `false` leaves the rows to the
    /// portable loops).
    pub(super) fn run(&self, luma: &[&[u8]], chroma: [&[u8]; 2], out: &mut [Out<'_>]) -> bool {
        let c = if self.interleaved { Chroma::Interleaved(chroma[0]) } else { Chroma::Planar(chroma[0], chroma[1]) };
        arch::convert(self.cpu, self.layout, &self.k, luma, c, out) == self.pixels
    }

    /// Pixels of each row the kernel converts.
    pub(super) fn pixels(&self) -> usize {
        self.pixels
    }

    /// Whether Cb and Cr are interleaved in one plane (NV12).
    pub(super) fn interleaved(&self) -> bool {
        self.interleaved
    }
}
