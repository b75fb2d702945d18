//! The arithmetic of 8-bit RGB output (`rgb.rs`), in 16-bit lanes, and its one-pass form
//! for the common case: 8-bit 4:2:0 to packed 8-bit RGB (RGB24, BGR24, RGBA, BGRA), 32
//! pixels at a time, each chroma sample's terms computed once for its pair of pixels.
//!
//! Values are carried in 1/64 of an output code value: a sample enters as
//! `(x − offset) << (14 − depth)` (at most 2^14 in magnitude), and a coefficient `c` (per
//! 8-bit unit) is applied as `n·x + (2x·f) >> 16`, with `n` the integer nearest `c` and
//! `f = c − n` in 15 fractional bits (what a 16-bit high multiply takes). Each product is
//! floored to 1/64, so the sum is within 3/64 + 1/128 of the exact value before the one
//! rounding: within 1 LSB of a float64 evaluation (`rgb_tests.rs`). Sums saturate, which
//! clamps as the rounding to 8 bits does. Every path that makes 8-bit RGB computes this
//! same expression, so all of them, on every CPU, give the same bytes.
//!
//! The one-pass loop is written so that the compiler vectorises a whole chunk (16-bit
//! multiplies, the pair duplication and the 3- or 4-way interleave as shuffles); that
//! happens well with 512-bit vectors, so it is taken where the CPU has AVX-512 (BW), and
//! the general path (rows of samples, then this arithmetic, then the interleave) elsewhere.

#![cfg_attr(
    not(target_arch = "x86_64"),
    allow(dead_code, reason = "the one-pass form runs on x86-64 CPUs with AVX-512 only")
)]

use super::plan::Coeffs;

/// Chroma samples per chunk (twice as many pixels).
const PAIRS: usize = 16;

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

    /// Whether the one-pass form applies (8-bit samples, not the identity matrix).
    pub(super) fn pairs(&self) -> bool {
        self.shift == 6 && !self.identity
    }

    /// One row of samples (`y`, `u`, `v` one per pixel, as values) to 8-bit R, G, B rows.
    #[inline(always)]
    pub(super) fn pixels(&self, y: &[u16], u: &[u16], v: &[u16], [r, g, b]: [&mut [u8]; 3]) {
        let sh = self.shift;
        let rows = r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut());
        if self.identity {
            for (((r, g), b), ((&y, &u), &v)) in rows.zip(y.iter().zip(u).zip(v)) {
                let luma = |s: u16| term((s as i16 - self.yo) << sh, self.y).saturating_add(32);
                (*r, *g, *b) = (code(luma(v)), code(luma(y)), code(luma(u)));
            }
            return;
        }
        for (((r, g), b), ((&y, &u), &v)) in rows.zip(y.iter().zip(u).zip(v)) {
            let (u, v) = ((u as i16 - self.co) << sh, (v as i16 - self.co) << sh);
            let l = term((y as i16 - self.yo) << sh, self.y).saturating_add(32);
            *r = code(l.saturating_add(term(v, self.rv)));
            *g = code(l.saturating_add(term(u, self.gu).wrapping_add(term(v, self.gv))));
            *b = code(l.saturating_add(term(u, self.bu)));
        }
    }

    /// One row: `y` (the row's luma), `u`, `v` (its chroma, one sample per pair of pixels,
    /// rounded up) into `out`, `N` bytes per pixel with R, G, B at `R`, `G`, `B` (and
    /// opaque alpha at the remaining place when `N` is 4).
    #[inline(always)]
    pub(super) fn row<const N: usize, const R: usize, const G: usize, const B: usize>(
        &self,
        y: &[u8],
        u: &[u8],
        v: &[u8],
        out: &mut [u8],
    ) {
        let w = y.len();
        let full = w / (2 * PAIRS);
        let (y_body, y_tail) = y.split_at(full * 2 * PAIRS);
        let (out_body, out_tail) = out[..w * N].split_at_mut(full * 2 * PAIRS * N);
        let chunks = out_body.chunks_exact_mut(2 * PAIRS * N).zip(y_body.chunks_exact(2 * PAIRS));
        for (k, (o, ys)) in chunks.enumerate() {
            let (us, vs) = (&u[k * PAIRS..][..PAIRS], &v[k * PAIRS..][..PAIRS]);
            self.chunk::<N, R, G, B>(ys.try_into().unwrap_or(&[0; 2 * PAIRS]), us, vs, o);
        }
        if y_tail.is_empty() {
            return;
        }
        // The last pixels through a padded chunk.
        let (mut ys, mut us, mut vs) = ([0u8; 2 * PAIRS], [0u8; PAIRS], [0u8; PAIRS]);
        let n = y_tail.len();
        let c = n.div_ceil(2);
        ys[..n].copy_from_slice(y_tail);
        us[..c].copy_from_slice(&u[full * PAIRS..][..c]);
        vs[..c].copy_from_slice(&v[full * PAIRS..][..c]);
        let mut o = [0u8; 2 * PAIRS * 4];
        self.chunk::<N, R, G, B>(&ys, &us, &vs, &mut o[..2 * PAIRS * N]);
        out_tail.copy_from_slice(&o[..n * N]);
    }

    #[inline(always)]
    fn chunk<const N: usize, const R: usize, const G: usize, const B: usize>(
        &self,
        ys: &[u8; 2 * PAIRS],
        us: &[u8],
        vs: &[u8],
        o: &mut [u8],
    ) {
        let (mut tr, mut tg, mut tb) = ([0i16; PAIRS], [0i16; PAIRS], [0i16; PAIRS]);
        for i in 0..PAIRS {
            let u = (i16::from(us[i]) - self.co) << 6;
            let v = (i16::from(vs[i]) - self.co) << 6;
            tr[i] = term(v, self.rv);
            tg[i] = term(u, self.gu).wrapping_add(term(v, self.gv));
            tb[i] = term(u, self.bu);
        }
        let (mut r, mut g, mut b) = ([0u8; 2 * PAIRS], [0u8; 2 * PAIRS], [0u8; 2 * PAIRS]);
        for i in 0..2 * PAIRS {
            // Half a code value (32/64) for the rounding.
            let l = term((i16::from(ys[i]) - self.yo) << 6, self.y).saturating_add(32);
            r[i] = code(l.saturating_add(tr[i / 2]));
            g[i] = code(l.saturating_add(tg[i / 2]));
            b[i] = code(l.saturating_add(tb[i / 2]));
        }
        for (i, px) in o.chunks_exact_mut(N).enumerate() {
            px[R] = r[i];
            px[G] = g[i];
            px[B] = b[i];
            if N == 4 {
                px[6 - R - G - B] = 255;
            }
        }
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
