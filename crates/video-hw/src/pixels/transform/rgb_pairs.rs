//! The arithmetic of 8-bit RGB output (`rgb.rs`), in 16-bit lanes, a row at a time.
//!
//! Values are carried in 1/64 of an output code value: a sample enters as
//! `(x − offset) << (14 − depth)` (at most 2^14 in magnitude), and a coefficient `c` (per
//! 8-bit unit) is applied as `n·x + (2x·f) >> 16`, with `n` the integer nearest `c` and
//! `f = c − n` in 15 fractional bits (what a 16-bit high multiply takes). Each product is
//! floored to 1/64, so the sum is within 3/64 + 1/128 of the exact value before the one
//! rounding: within 1 LSB of a float64 evaluation (`rgb_tests.rs`). Sums saturate, which
//! clamps as the rounding to 8 bits does. Every 8-bit output computes this same
//! expression, so every path, on every CPU, gives the same bytes (`rgb_exact_tests.rs`
//! pins them against a scalar evaluation).
//!
//! A row goes through three loops over contiguous slices (luma terms; chroma terms, once
//! per chroma sample and stored once per pixel; the sums and their rounding), each a plain
//! loop that the compiler vectorises in 16-bit lanes for whichever instruction set the
//! caller is compiled for (`rgb.rs` dispatches at run time).

use super::plan::Coeffs;

/// One coefficient as `(n, f)`: `c = n + f / 2^15`.
type Coef = (i16, i16);

/// The matrix in 16-bit lanes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pairs {
    /// `14 − depth`: what a sample is shifted left by.
    shift: u32,
    /// Identity (GBR): every channel scaled as luma, R from Cr, B from Cb.
    identity: bool,
    yo: i16,
    co: i16,
    y: Coef,
    rv: Coef,
    gu: Coef,
    gv: Coef,
    bu: Coef,
}

impl Pairs {
    /// For `c` at `depth` bits (8 or 10).
    pub(super) fn new(c: &Coeffs, depth: u8) -> Pairs {
        let split = |v: f64| -> Coef {
            let n = v.round();
            (n as i16, ((v - n) * 32768.0).round() as i16)
        };
        // Coefficients per 8-bit unit of the shifted samples.
        let unit = f64::from(1u32 << (depth - 8));
        let (rv, gu, gv, bu) = c.rgb_factors();
        let s = 255.0 * f64::from(c.c_scale) * unit;
        Pairs {
            shift: 14 - u32::from(depth),
            identity: c.k.is_none(),
            yo: c.y_off as i16,
            co: c.c_off as i16,
            y: split(255.0 * f64::from(c.y_scale) * unit),
            rv: split(f64::from(rv) * s),
            gu: split(f64::from(gu) * s),
            gv: split(f64::from(gv) * s),
            bu: split(f64::from(bu) * s),
        }
    }

    /// A luma sample's term: `c_y · (y − offset)` plus half a code value for the rounding
    /// (identity: any channel's).
    #[inline(always)]
    fn luma<T: Into<u16>>(&self, y: T) -> i16 {
        term((y.into() as i16 - self.yo) << self.shift, self.y).saturating_add(32)
    }

    /// One row's chroma terms, `PER` copies of each sample's (2 where a sample serves a
    /// pair of pixels): what R, G and B add to luma (identity: R from Cr and B from Cb,
    /// scaled as luma, rounding included).
    #[inline(always)]
    pub(super) fn chroma<const PER: usize, T: Copy + Into<u16>>(
        &self,
        u: &[T],
        v: &[T],
        [tr, tg, tb]: [&mut [i16]; 3],
    ) {
        let sh = self.shift;
        let out = tr.chunks_exact_mut(PER).zip(tg.chunks_exact_mut(PER)).zip(tb.chunks_exact_mut(PER));
        if self.identity {
            for (((tr, _), tb), (&u, &v)) in out.zip(u.iter().zip(v)) {
                let (r, b) = (self.luma(v), self.luma(u));
                for j in 0..PER {
                    (tr[j], tb[j]) = (r, b);
                }
            }
            return;
        }
        for (((tr, tg), tb), (&u, &v)) in out.zip(u.iter().zip(v)) {
            let (u, v) = ((u.into() as i16 - self.co) << sh, (v.into() as i16 - self.co) << sh);
            let (r, g, b) = (term(v, self.rv), term(u, self.gu).wrapping_add(term(v, self.gv)), term(u, self.bu));
            for j in 0..PER {
                (tr[j], tg[j], tb[j]) = (r, g, b);
            }
        }
    }

    /// One row's 8-bit R, G, B from its luma samples `y` and the chroma terms under each
    /// pixel (`chroma`).
    #[inline(always)]
    pub(super) fn combine<T: Copy + Into<u16>>(&self, y: &[T], [tr, tg, tb]: [&[i16]; 3], [r, g, b]: [&mut [u8]; 3]) {
        let rows = r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut());
        if self.identity {
            for (((r, g), b), ((&y, &tr), &tb)) in rows.zip(y.iter().zip(tr).zip(tb)) {
                (*r, *g, *b) = (code(tr), code(self.luma(y)), code(tb));
            }
            return;
        }
        for (((r, g), b), ((&y, &tr), (&tg, &tb))) in rows.zip(y.iter().zip(tr).zip(tg.iter().zip(tb))) {
            let l = self.luma(y);
            *r = code(l.saturating_add(tr));
            *g = code(l.saturating_add(tg));
            *b = code(l.saturating_add(tb));
        }
    }

    /// `combine` written straight into a packed row of `N` bytes a pixel,
    /// R, G, B at `R`, `G`, `B` (opaque alpha at the remaining place when `N` is 4); not
    /// for the identity matrix.
    #[inline(always)]
    pub(super) fn combine_packed<
        T: Copy + Into<u16>,
        const N: usize,
        const R: usize,
        const G: usize,
        const B: usize,
    >(
        &self,
        y: &[T],
        [tr, tg, tb]: [&[i16]; 3],
        out: &mut [u8],
    ) {
        let terms = tr.iter().zip(tg).zip(tb);
        for ((px, &y), ((&tr, &tg), &tb)) in out.chunks_exact_mut(N).zip(y).zip(terms) {
            let l = self.luma(y);
            let (r, g, b) = (code(l.saturating_add(tr)), code(l.saturating_add(tg)), code(l.saturating_add(tb)));
            px[R] = r;
            px[G] = g;
            px[B] = b;
            if N == 4 {
                px[6 - R - G - B] = 255;
            }
        }
    }

    /// Whether this is the identity matrix (GBR).
    pub(super) fn identity(&self) -> bool {
        self.identity
    }

    /// The constants of the explicit kernels (`rgb_kernel.rs`: AVX2 and AVX-512 on x86-64,
    /// NEON on aarch64), where they compute this same expression: 8-bit samples, a
    /// non-identity matrix, the bounds they check.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    pub(super) fn fast(&self) -> Option<super::rgb_kernel::Fast> {
        if self.identity {
            return None;
        }
        super::rgb_kernel::Fast::new(self.shift, self.y, [self.rv, self.gu, self.gv, self.bu], self.yo, self.co)
    }
}

/// `c · x` in 1/64 units, `x` already in them (at most 2^14 in magnitude).
#[inline(always)]
fn term(x: i16, (n, f): Coef) -> i16 {
    // A 16-bit high multiply (x ≤ 2^14, so 2x fits).
    let frac = ((i32::from(x.wrapping_mul(2)) * i32::from(f)) >> 16) as i16;
    frac.wrapping_add(x.wrapping_mul(n))
}

/// A value in 1/64 units, rounding already added, to its 8-bit code.
#[inline(always)]
fn code(v: i16) -> u8 {
    (v >> 6).clamp(0, 255) as u8
}
