//! YUV → RGB on the CPU at the source's own size: the one conversion every host path uses
//! (the engines' plain RGB output, `convert::i420_to_host`, and a transform that crops but
//! does not resize), so that a frame comes out the same whichever way it was asked for.
//!
//! What it computes: each pixel takes its nearest chroma sample at the stream's siting
//! (4:2:0 and 4:2:2; 4:4:4 is read as it is, at full resolution), as swscale does, from the
//! source's own samples (10-bit ones are not rounded to 8 bits first), through the H.273
//! equations of [`Coeffs`]. 8-bit output is one expression in 16-bit lanes
//! (`rgb_pairs.rs`), within 1 LSB of float64 and the same bytes on every path and CPU;
//! float output applies the matrix in fixed point (20 fractional bits).
//!
//! Speed: 8-bit output from 8-bit 4:2:0/4:2:2 sources (planar or NV12) goes through an
//! explicit kernel (`rgb_kernel.rs`, chosen once per conversion by `Kernel::for_job`) for
//! the first pixels of each row, two rows at a time where they share a chroma row: on
//! x86-64 CPUs with AVX2, `rgb_avx2.rs` (and `rgb_avx512.rs` where the CPU has AVX-512
//! VBMI), 32·⌊w/32⌋ pixels; on aarch64, `rgb_neon.rs`, 16·⌊w/16⌋ (run under QEMU user
//! emulation, bit-exact to the portable loops; speed never measured on aarch64
//! hardware). They compute the same bytes as the portable loops (`rgb_kernel_tests.rs`).
//! Everything else (and the rest of each row) goes through
//! loops over contiguous slices (widening reads, luma terms, chroma terms once per chroma
//! sample, the sums, the interleave of packed RGB), which the compiler vectorises; they
//! are compiled for AVX2 and SSE4.1 besides the baseline on x86-64 and the build the CPU
//! can run is chosen at run time (`rows`). Large pictures are split into bands of rows
//! across threads.

use half::f16;

use super::Rect;
use super::plan::Coeffs;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use super::rgb_kernel::Kernel;
use super::rgb_pairs::Pairs;
use crate::codec::{ColorInfo, PixelFormat, SampleType};
use crate::error::{Error, Result};
use crate::frame::HostFrame;

pub(crate) use super::rgb_source::{Src, Store, YuvSource};

/// Fractional bits of the fixed-point matrix.
const SHIFT: u32 = 20;

/// The matrix in fixed point, on code values, giving R, G, B on the 0–255 scale × 2^20.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    identity: bool,
    y: i32,
    rv: i32,
    gu: i32,
    gv: i32,
    bu: i32,
    /// What each channel adds (the offsets folded in), without rounding.
    k: [i32; 3],
}

impl Fixed {
    fn new(c: &Coeffs) -> Fixed {
        let one = f64::from(1u32 << SHIFT);
        let fx = |v: f64| (v * one).round() as i32;
        let (yo, ys, co, cs) = (f64::from(c.y_off), f64::from(c.y_scale), f64::from(c.c_off), f64::from(c.c_scale));
        let y = 255.0 * ys;
        if c.k.is_none() {
            // Identity (GBR): every channel scaled as luma.
            let k = fx(-yo * y);
            return Fixed { identity: true, y: fx(y), rv: fx(y), gu: 0, gv: 0, bu: fx(y), k: [k; 3] };
        }
        let (rv, gu, gv, bu) = c.rgb_factors();
        let s = 255.0 * cs;
        let (rv, gu, gv, bu) = (f64::from(rv) * s, f64::from(gu) * s, f64::from(gv) * s, f64::from(bu) * s);
        let ky = -yo * y;
        Fixed {
            identity: false,
            y: fx(y),
            rv: fx(rv),
            gu: fx(gu),
            gv: fx(gv),
            bu: fx(bu),
            k: [fx(ky - rv * co), fx(ky - (gu + gv) * co), fx(ky - bu * co)],
        }
    }
}

/// What an RGB output looks like: this conversion's, and the resampling path's
/// (`apply.rs`), which writes the same formats.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub(super) format: PixelFormat,
    /// Channels per pixel (3 or 4) and where R, G, B go.
    pub(super) channels: usize,
    pub(super) positions: [usize; 3],
    pub(super) planar: bool,
    /// Float output: value = v01 · mul[c] + add[c] (channel c in R, G, B order).
    pub(super) mul: [f32; 3],
    pub(super) add: [f32; 3],
}

impl Layout {
    /// `format` (packed RGB's layout if it is not an RGB format) with the normalisation
    /// `(scale, mean, std)` of [`Transform::normalization`](super::Transform::normalization).
    pub(super) fn new(format: PixelFormat, (scale, mean, std): (f32, [f32; 3], [f32; 3])) -> Layout {
        let (channels, planar) = format.rgb_layout().unwrap_or((crate::codec::Channels::Rgb, false));
        Layout {
            format,
            channels: channels.count(),
            positions: channels.rgb_positions(),
            planar,
            mul: [0, 1, 2].map(|c| 255.0 * scale / std[c]),
            add: [0, 1, 2].map(|c| -mean[c] / std[c]),
        }
    }
}

/// Work rows of one band.
struct Scratch {
    y: Vec<u16>,
    cb: Vec<u16>,
    cr: Vec<u16>,
    /// One source chroma row, under the output.
    chroma: Vec<u16>,
    rgb: [Vec<i32>; 3],
    /// Chroma terms under each pixel (8-bit output), from the pair's left pixel on.
    terms: [Vec<i16>; 3],
    /// The source chroma row `terms` hold (4:2:0 reads each for two output rows).
    terms_row: Option<usize>,
    /// 8-bit R, G, B of the row.
    rgb8: [Vec<u8>; 3],
}

impl Scratch {
    fn new(w: usize) -> Scratch {
        Scratch {
            y: vec![0; w],
            cb: vec![0; w + 2],
            cr: vec![0; w + 2],
            chroma: vec![0; w / 2 + 2],
            rgb: [vec![0; w], vec![0; w], vec![0; w]],
            terms: [vec![0; w + 2], vec![0; w + 2], vec![0; w + 2]],
            terms_row: None,
            rgb8: [vec![0; w], vec![0; w], vec![0; w]],
        }
    }
}

/// Converts `rect` of `src` (chroma interpolated at `color`'s siting; the matrix already
/// resolved) to a new host frame of the RGB `format`; float formats are normalised with
/// `(scale, mean, std)` as [`Transform::normalization`](super::Transform::normalization)
/// gives them.
pub(crate) fn convert(
    src: &YuvSource<'_>,
    rect: Rect,
    color: &ColorInfo,
    format: PixelFormat,
    norm: (f32, [f32; 3], [f32; 3]),
) -> Result<HostFrame> {
    convert_in(src, rect, color, format, norm, Spread::Cores)
}

/// The normalisation of an engine's own RGB output: float formats scaled to [0, 1], no
/// mean subtracted, no deviation divided.
pub(crate) const UNNORMALISED: (f32, [f32; 3], [f32; 3]) = (1.0 / 255.0, [0.0; 3], [1.0; 3]);

/// How the engines convert a whole `width`×`height` picture: `color` with its matrix
/// resolved as they resolve it ([`ColorInfo::effective_matrix`]: unspecified is BT.601),
/// and the whole rectangle.
pub(crate) fn as_engines(color: &ColorInfo, width: u32, height: u32) -> (ColorInfo, Rect) {
    (ColorInfo { matrix: color.effective_matrix(), ..*color }, Rect { x: 0, y: 0, width, height })
}

/// The whole of `src` to a new host frame of the RGB `format`, as the engines give their
/// own RGB output ([`as_engines`], [`UNNORMALISED`]), its rows computed as `spread` says.
pub(crate) fn convert_whole(
    src: &YuvSource<'_>,
    color: &ColorInfo,
    format: PixelFormat,
    spread: Spread,
) -> Result<HostFrame> {
    let (color, whole) = as_engines(color, src.width, src.height);
    convert_in(src, whole, &color, format, UNNORMALISED, spread)
}

/// Where one conversion's rows are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spread {
    /// Large pictures in bands of rows on the cores (at most 8), the first on the calling
    /// thread: for a caller whose cores are otherwise idle.
    Cores,
    /// All on the calling thread: for a caller whose other threads already keep the cores
    /// busy (a software decoder's frame threads), where band threads would only take
    /// turns with them and add their start and wait to every frame.
    Caller,
    /// In bands on at most this many threads (the calling thread one of them; at most
    /// [`Cores`](Spread::Cores)' count): for one of several single-threaded sessions
    /// converting at once, each taking its share of the cores.
    Bands(usize),
}

/// [`convert`], its rows computed as `spread` says.
pub(crate) fn convert_in(
    src: &YuvSource<'_>,
    rect: Rect,
    color: &ColorInfo,
    format: PixelFormat,
    norm: (f32, [f32; 3], [f32; 3]),
    spread: Spread,
) -> Result<HostFrame> {
    convert_with(src, rect, color, format, norm, spread, true)
}

/// [`convert`] through the portable loops alone, without the explicit kernel (for the
/// tests that hold the kernels to them).
#[cfg(test)]
pub(crate) fn convert_portable(
    src: &YuvSource<'_>,
    rect: Rect,
    color: &ColorInfo,
    format: PixelFormat,
    norm: (f32, [f32; 3], [f32; 3]),
) -> Result<HostFrame> {
    convert_with(src, rect, color, format, norm, Spread::Cores, false)
}

/// Whether the explicit kernel (`rgb_kernel.rs`) converts (part of) `rect` of `src` to `format` on this CPU.
#[cfg(test)]
pub(crate) fn kernel_applies(src: &YuvSource<'_>, rect: Rect, color: &ColorInfo, format: PixelFormat) -> bool {
    let layout = Layout::new(format, UNNORMALISED);
    Coeffs::new(color, src.depth)
        .is_ok_and(|c| Kernel::for_job(src, rect, &layout, &Pairs::new(&c, src.depth)).is_some())
}

/// [`convert_in`], with the explicit kernel where it applies and `kernel` allows it.
fn convert_with(
    src: &YuvSource<'_>,
    rect: Rect,
    color: &ColorInfo,
    format: PixelFormat,
    norm: (f32, [f32; 3], [f32; 3]),
    spread: Spread,
    kernel: bool,
) -> Result<HostFrame> {
    let job = Job::new(src, rect, color, format, norm, kernel)?;
    let mut out = HostFrame::for_output(format, rect.width, rect.height);
    let (w, h) = (rect.width as usize, rect.height as usize);
    let buf = out.as_bytes_mut();
    // Bands of rows on the cores for pictures large enough that a band is worth a thread
    // (about 0.1 ms of work per band); each band writes only its own rows of each plane.
    let min_rows = (65_536 / w.max(1)).max(8);
    let cores = match spread {
        Spread::Cores => threads(),
        Spread::Caller => 1,
        Spread::Bands(n) => n.clamp(1, threads()),
    };
    let threads = cores.min(h / min_rows).max(1);
    let band = h.div_ceil(threads);
    let planes = if job.layout.planar { 3 } else { 1 };
    let plane_bytes = buf.len() / planes;
    let band_bytes = band * (plane_bytes / h.max(1));
    // Band b's rows of every plane, in the order of the planes in memory.
    let mut bands: Vec<Vec<&mut [u8]>> = (0..threads).map(|_| Vec::with_capacity(planes)).collect();
    for plane in buf.chunks_mut(plane_bytes.max(1)) {
        for (b, part) in plane.chunks_mut(band_bytes.max(1)).enumerate() {
            bands[b].push(part);
        }
    }
    let mut bands = bands.into_iter().enumerate();
    let Some((_, first)) = bands.next() else { return Ok(out) };
    std::thread::scope(|s| {
        for (b, mut part) in bands {
            let job = &job;
            s.spawn(move || rows(job, b * band, (b * band + band).min(h), &mut part));
        }
        // The first band on the calling thread.
        let mut first = first;
        rows(&job, 0, band.min(h), &mut first);
    });
    Ok(out)
}

/// One conversion, for any band of its rows.
pub(super) struct Job<'a> {
    src: &'a YuvSource<'a>,
    rect: Rect,
    fixed: Fixed,
    layout: Layout,
    /// Chroma siting: twice its vertical offset in luma samples.
    twice_oy: i64,
    /// The arithmetic of 8-bit output (`rgb_pairs.rs`).
    q: Pairs,
    /// The explicit kernel (`rgb_kernel.rs`) for the first pixels of each row, where it
    /// applies.
    fast: Option<Kernel>,
}

/// Where there is no explicit kernel (neither x86-64 nor aarch64): never made.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[derive(Debug, Clone, Copy)]
enum Kernel {}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
impl Kernel {
    fn for_job(_: &YuvSource<'_>, _: Rect, _: &Layout, _: &Pairs) -> Option<Kernel> {
        None
    }

    fn pixels(&self) -> usize {
        match *self {}
    }
}

/// Output rows `first..end` of `job` into `buf`: the rows of each plane (one for packed
/// output), from row `first` on, in the order of the planes in memory. Compiled for AVX2
/// and for SSE4.1 on x86-64 besides the baseline (SSE2), the build the CPU can run chosen
/// at run time (`multiversion`: the loops of `rgb_pairs.rs` and the interleave of packed
/// RGB vectorise in 16-bit lanes and byte shuffles, which SSE2 lacks); aarch64's baseline
/// has NEON.
#[multiversion::multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn rows<'a>(job: &Job<'a>, first: usize, end: usize, buf: &mut [&mut [u8]]) {
    job.rows_body(first, end, buf);
}

impl<'a> Job<'a> {
    /// The checks every conversion makes (the planes hold the picture, `rect` lies in it,
    /// `format` is RGB), and its job; the explicit kernel where it applies and `kernel`
    /// allows.
    pub(super) fn new(
        src: &'a YuvSource<'a>,
        rect: Rect,
        color: &ColorInfo,
        format: PixelFormat,
        norm: (f32, [f32; 3], [f32; 3]),
        kernel: bool,
    ) -> Result<Job<'a>> {
        src.check()?;
        let fits = |a: u32, n: u32, total: u32| a.checked_add(n).is_some_and(|e| e <= total);
        if !fits(rect.x, rect.width, src.width) || !fits(rect.y, rect.height, src.height) {
            return Err(Error::invalid_input("conversion rectangle outside the picture"));
        }
        if rect.width == 0 || rect.height == 0 {
            return Err(Error::invalid_input(format!("an empty {}x{} conversion rectangle", rect.width, rect.height)));
        }
        if format.rgb_layout().is_none() {
            return Err(Error::unsupported(format!("YUV to {format}"), "not an RGB format"));
        }
        let layout = Layout::new(format, norm);
        let coeffs = Coeffs::new(color, src.depth)?;
        let fixed = Fixed::new(&coeffs);
        let (_, oy) = color.chroma_location.offset();
        let twice_oy = (2.0 * oy) as i64;
        let q = Pairs::new(&coeffs, src.depth);
        let fast = if kernel { Kernel::for_job(src, rect, &layout, &q) } else { None };
        Ok(Job { src, rect, fixed, q, layout, twice_oy, fast })
    }

    /// Output rows `first..end` into `buf` (see [`rows`]).
    pub(super) fn rows(&self, first: usize, end: usize, buf: &mut [&mut [u8]]) {
        rows(self, first, end, buf);
    }

    /// Bytes of one output row of one plane (of the picture, for packed output).
    pub(super) fn row_bytes(&self) -> usize {
        let l = &self.layout;
        let size = l.format.bytes_per_sample();
        if l.planar { self.rect.width as usize * size } else { self.rect.width as usize * l.channels * size }
    }
}

impl Job<'_> {
    #[inline(always)]
    fn rows_body(&self, first: usize, end: usize, buf: &mut [&mut [u8]]) {
        let w = self.rect.width as usize;
        let mut s = Scratch::new(w);
        let l = &self.layout;
        let size = l.format.bytes_per_sample();
        let row_bytes = if l.planar { w * size } else { w * l.channels * size };
        let bytes = l.format.sample_type() == SampleType::U8;
        let mut i = first;
        while i < end {
            let at = (i - first) * row_bytes;
            if bytes {
                // The kernel takes two rows at once where they share their chroma row;
                // the portable loops do the rest of them (all of a row it did not take).
                let (rows, from) = match self.fast {
                    Some(k) => self.kernel_rows(&k, i, end, buf, at, row_bytes).map_or((1, 0), |n| (n, k.pixels())),
                    None => (1, 0),
                };
                for r in i..i + rows {
                    let at = (r - first) * row_bytes;
                    self.bytes_row(r, &mut s, buf, at..at + row_bytes, from);
                }
                i += rows;
                continue;
            }
            self.source_row(i, &mut s);
            self.matrix_row(&mut s);
            if l.planar {
                for (c, values) in s.rgb.iter().enumerate() {
                    self.write_plane(c, values, &mut buf[l.positions[c]][at..][..row_bytes]);
                }
            } else {
                self.write_packed(&s, &mut buf[0][at..][..row_bytes]);
            }
            i += 1;
        }
    }

    /// Rows `i` and `i + 1` (where it is below `end` and shares row `i`'s chroma row), or
    /// row `i` alone, through the kernel: their first `k.pixels()` pixels into `buf`, row
    /// `i` at bytes `at` of each plane. Returns how many rows it took (`None`: none, where
    /// the planes are not what `Kernel::for_job` saw, which does not happen).
    #[inline(always)]
    fn kernel_rows(
        &self,
        k: &Kernel,
        i: usize,
        end: usize,
        buf: &mut [&mut [u8]],
        at: usize,
        row_bytes: usize,
    ) -> Option<usize> {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            use super::rgb_kernel::Out;
            let src = self.src;
            let (x0, w) = (self.rect.x as usize, self.rect.width as usize);
            let (_, ch) = src.chroma_size();
            let chroma_row = |r: usize| {
                let sy = self.rect.y as usize + r;
                if src.half_height { nearest(sy, self.twice_oy, ch) } else { sy }
            };
            let row = chroma_row(i);
            let rows = if i + 1 < end && chroma_row(i + 1) == row { 2 } else { 1 };
            let luma = [0, 1].map(|d| src.planes[0].bytes(self.rect.y as usize + i + d.min(rows - 1), x0, w));
            let [Some(y0), Some(y1)] = luma else { return None };
            let (k0, n) = (x0 / 2, w.div_ceil(2));
            let chroma = if k.interleaved() {
                [&src.planes[1].row(row)[2 * k0..2 * (k0 + n)], &[][..]]
            } else {
                let plane = |i: usize| &src.planes[i].row(row)[k0..k0 + n];
                [plane(1), plane(2)]
            };
            let span = at..at + rows * row_bytes;
            let mut out = if self.layout.planar {
                // Each plane's two rows, in R, G, B order.
                let [p0, p1, p2] = buf else { return None };
                let mut planes = [Some(&mut p0[span.clone()]), Some(&mut p1[span.clone()]), Some(&mut p2[span])];
                let pos = self.layout.positions;
                let mut take = |c: usize| planes.get_mut(pos[c]).and_then(Option::take);
                let (Some(r), Some(g), Some(b)) = (take(0), take(1), take(2)) else { return None };
                let (r0, r1) = r.split_at_mut(row_bytes.min(r.len()));
                let (g0, g1) = g.split_at_mut(row_bytes.min(g.len()));
                let (b0, b1) = b.split_at_mut(row_bytes.min(b.len()));
                [Out::Planar([r0, g0, b0]), Out::Planar([r1, g1, b1])]
            } else {
                let (o0, o1) = buf[0][span].split_at_mut(row_bytes);
                [Out::Packed(o0), Out::Packed(o1)]
            };
            k.run(&[y0, y1][..rows], chroma, &mut out[..rows]).then_some(rows)
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            let _ = (k, i, end, buf, at, row_bytes);
            None
        }
    }

    /// 8-bit output row `i` from its pixel `from` on (those before it are the kernel's)
    /// into bytes `at` of each plane of `buf` (one for packed output): the chroma terms of
    /// its chroma samples (each computed once, stored under each pixel it serves, kept
    /// for the next row where it shares them), then each pixel's luma term, the sums and
    /// their interleave in one loop (`rgb_pairs.rs`).
    #[inline(always)]
    fn bytes_row(&self, i: usize, s: &mut Scratch, buf: &mut [&mut [u8]], at: std::ops::Range<usize>, from: usize) {
        let src = self.src;
        let width = self.rect.width as usize;
        if from >= width {
            return;
        }
        // The kernel leaves an even number of pixels from an even column (`Kernel`), so
        // the rest starts at the left pixel of a chroma pair as the whole row does.
        let (x0, w) = (self.rect.x as usize + from, width - from);
        let at = at.start + from * (at.len() / width)..at.end;
        let sy = self.rect.y as usize + i;
        let (_, ch) = src.chroma_size();
        let row = if src.half_height { nearest(sy, self.twice_oy, ch) } else { sy };
        // Along a row every pixel's nearest chroma sample is its pair's (co-sited: on the
        // left pixel; centred: between the two), so a sample's terms serve both pixels.
        let (k0, n) = if src.half_width { (x0 / 2, (x0 + w - 1) / 2 - x0 / 2 + 1) } else { (x0, w) };
        let [tr, tg, tb] = &mut s.terms;
        if s.terms_row != Some(row) {
            s.terms_row = Some(row);
            let per = if src.half_width { 2 } else { 1 };
            let t = [&mut tr[..per * n], &mut tg[..per * n], &mut tb[..per * n]];
            match (src.planes[1].bytes(row, k0, n), src.planes[2].bytes(row, k0, n), src.half_width) {
                (Some(u), Some(v), true) => self.q.chroma::<2, _>(u, v, t),
                (Some(u), Some(v), false) => self.q.chroma::<1, _>(u, v, t),
                _ => {
                    src.planes[1].read(row, k0, &mut s.cb[..n]);
                    src.planes[2].read(row, k0, &mut s.cr[..n]);
                    if src.half_width {
                        self.q.chroma::<2, _>(&s.cb[..n], &s.cr[..n], t);
                    } else {
                        self.q.chroma::<1, _>(&s.cb[..n], &s.cr[..n], t);
                    }
                }
            }
        }
        // The terms start at the left pixel of the first pair; a crop at an odd column
        // starts one in.
        let skip = usize::from(src.half_width && x0 % 2 == 1);
        let t = [&tr[skip..skip + w], &tg[skip..skip + w], &tb[skip..skip + w]];
        // Bytes in planes of their own (yuv420p, NV12's luma) are read as they are; other
        // layouts into 16-bit values first.
        match src.planes[0].bytes(sy, x0, w) {
            Some(y) => self.emit(y, t, &mut s.rgb8, buf, at),
            None => {
                src.planes[0].read(sy, x0, &mut s.y[..w]);
                self.emit(&s.y[..w], t, &mut s.rgb8, buf, at);
            }
        }
    }

    /// A row of 8-bit output from its luma samples `y` and chroma terms `t` into bytes
    /// `at` of `buf`'s planes. Packed RGB is written by the loop that computes it, the
    /// channel order a constant so that the interleave vectorises (identity goes through
    /// `rgb8`, planes of R, G, B).
    #[inline(always)]
    fn emit<T: Copy + Into<u16>>(
        &self,
        y: &[T],
        t: [&[i16]; 3],
        rgb8: &mut [Vec<u8>; 3],
        buf: &mut [&mut [u8]],
        at: std::ops::Range<usize>,
    ) {
        let (l, q) = (&self.layout, &self.q);
        let w = y.len();
        if l.planar {
            // Plane `positions[c]` (in memory order) takes channel `c`.
            let [p0, p1, p2] = buf else { return };
            let mut planes = [Some(&mut p0[at.clone()]), Some(&mut p1[at.clone()]), Some(&mut p2[at])];
            let mut take = |c: usize| planes.get_mut(l.positions[c]).and_then(Option::take);
            if let (Some(r), Some(g), Some(b)) = (take(0), take(1), take(2)) {
                q.combine(y, t, [r, g, b]);
            }
            return;
        }
        let row = &mut buf[0][at];
        match (l.channels, l.positions, q.identity()) {
            (3, [0, 1, 2], false) => q.combine_packed::<T, 3, 0, 1, 2>(y, t, row),
            (3, [2, 1, 0], false) => q.combine_packed::<T, 3, 2, 1, 0>(y, t, row),
            (4, [0, 1, 2], false) => q.combine_packed::<T, 4, 0, 1, 2>(y, t, row),
            (4, [2, 1, 0], false) => q.combine_packed::<T, 4, 2, 1, 0>(y, t, row),
            _ => {
                let [r, g, b] = rgb8;
                q.combine(y, t, [&mut r[..w], &mut g[..w], &mut b[..w]]);
                self.write_bytes(rgb8, w, row);
            }
        }
    }

    /// Luma and chroma (at full resolution) of output row `i` into `s.y`, `s.cb`, `s.cr`.
    #[inline(always)]
    fn source_row(&self, i: usize, s: &mut Scratch) {
        let src = self.src;
        let (x0, w) = (self.rect.x as usize, self.rect.width as usize);
        let sy = self.rect.y as usize + i;
        src.planes[0].read(sy, x0, &mut s.y);
        let (_, ch) = src.chroma_size();
        let row = if src.half_height { nearest(sy, self.twice_oy, ch) } else { sy };
        // Chroma columns under the output: every pixel's nearest sample at the siting,
        // which along a row is the pair's own for both horizontal sitings (co-sited: on
        // the left pixel; centred: between the two).
        let (k0, k1) = if src.half_width { (x0 / 2, (x0 + w - 1) / 2) } else { (x0, x0 + w - 1) };
        let n = k1 - k0 + 1;
        for (c, plane) in [(0usize, &src.planes[1]), (1, &src.planes[2])] {
            let out = if c == 0 { &mut s.cb } else { &mut s.cr };
            if !src.half_width {
                plane.read(row, k0, &mut out[..w]);
                continue;
            }
            plane.read(row, k0, &mut s.chroma[..n]);
            for (o, &v) in out[..2 * n].chunks_exact_mut(2).zip(&s.chroma[..n]) {
                o[0] = v;
                o[1] = v;
            }
            if x0 % 2 == 1 {
                out.copy_within(1..=w, 0);
            }
        }
    }

    /// R, G, B of the row (× 2^20, on the 0–255 scale, unclamped) into `s.rgb`, for float
    /// output (8-bit output takes `rgb_pairs.rs`'s arithmetic).
    #[inline(always)]
    fn matrix_row(&self, s: &mut Scratch) {
        let f = self.fixed;
        let [r, g, b] = &mut s.rgb;
        let w = s.y.len();
        let (ys, us, vs) = (&s.y[..w], &s.cb[..w], &s.cr[..w]);
        if f.identity {
            for ((((r, g), b), &y), (&u, &v)) in
                r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()).zip(ys).zip(us.iter().zip(vs))
            {
                *r = i32::from(v) * f.rv + f.k[0];
                *g = i32::from(y) * f.y + f.k[1];
                *b = i32::from(u) * f.bu + f.k[2];
            }
            return;
        }
        for ((((r, g), b), &y), (&u, &v)) in
            r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()).zip(ys).zip(us.iter().zip(vs))
        {
            let (y, u, v) = (i32::from(y) * f.y, i32::from(u), i32::from(v));
            *r = y + v * f.rv + f.k[0];
            *g = y + u * f.gu + v * f.gv + f.k[1];
            *b = y + u * f.bu + f.k[2];
        }
    }

    /// One packed 8-bit output row from `s.rgb8`.
    #[inline(always)]
    fn write_bytes(&self, rgb8: &[Vec<u8>; 3], w: usize, row: &mut [u8]) {
        let l = &self.layout;
        let [r, g, b] = rgb8.each_ref().map(|c| &c[..w]);
        let [pr, pg, pb] = l.positions;
        // Channel orders as constants, so that each loop stores to fixed offsets (the
        // compiler then vectorises the interleave).
        match (l.channels, l.positions) {
            (3, [0, 1, 2]) => pack::<3, 0, 1, 2>(row, r, g, b),
            (3, [2, 1, 0]) => pack::<3, 2, 1, 0>(row, r, g, b),
            (4, [0, 1, 2]) => pack::<4, 0, 1, 2>(row, r, g, b),
            (4, [2, 1, 0]) => pack::<4, 2, 1, 0>(row, r, g, b),
            (n, _) => {
                for (((px, &r), &g), &b) in row.chunks_exact_mut(n).zip(r).zip(g).zip(b) {
                    px.fill(255);
                    (px[pr], px[pg], px[pb]) = (r, g, b);
                }
            }
        }
    }

    /// One packed float output row.
    #[inline(always)]
    fn write_packed(&self, s: &Scratch, row: &mut [u8]) {
        let l = &self.layout;
        let [r, g, b] = &s.rgb;
        let [pr, pg, pb] = l.positions;
        let sample = l.format.sample_type();
        let size = sample.size();
        for (((px, &r), &g), &b) in row.chunks_exact_mut(3 * size).zip(r).zip(g).zip(b) {
            for (c, (v, pos)) in [(r, pr), (g, pg), (b, pb)].into_iter().enumerate() {
                let value = to_unit(v) * l.mul[c] + l.add[c];
                put_float(sample, &mut px[pos * size..][..size], value);
            }
        }
    }

    /// One row of the plane of channel `c` (R, G, B) of a planar float output.
    #[inline(always)]
    fn write_plane(&self, c: usize, values: &[i32], row: &mut [u8]) {
        let l = &self.layout;
        let (mul, add) = (l.mul[c], l.add[c]);
        match l.format.sample_type() {
            SampleType::F32 => {
                for (o, &v) in row.chunks_exact_mut(4).zip(values) {
                    o.copy_from_slice(&(to_unit(v) * mul + add).to_ne_bytes());
                }
            }
            sample => {
                for (o, &v) in row.chunks_exact_mut(2).zip(values) {
                    put_float(sample, o, to_unit(v) * mul + add);
                }
            }
        }
    }
}

/// The threads one conversion may use: the cores, at most 8 (beyond that a band is
/// bound by memory, not arithmetic). Asked once: the answer can come from reading the
/// cgroup's files, which is not free on every frame.
fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8))
}

/// The chroma row nearest luma row `y` for a siting `twice_offset` / 2 luma samples below
/// the first row: chroma row `k` sits at `2k + offset`, and a luma row halfway between two
/// takes the earlier one (what swscale's 4:2:0 → RGB does for the usual sitings, where every
/// pixel of a 2×2 block shares its chroma sample). Clamped to `0..count`.
#[inline(always)]
fn nearest(y: usize, twice_offset: i64, count: usize) -> usize {
    // In quarter chroma samples: position q = 2y − 2·offset; nearest = ⌈q/4 − ½⌉.
    let q = 2 * y as i64 - twice_offset;
    (q + 1).div_euclid(4).clamp(0, count as i64 - 1) as usize
}

/// One packed 8-bit row of `N` channels, R, G and B at `R`, `G`, `B` (alpha, where there is
/// one, at the remaining place, opaque).
#[inline(always)]
fn pack<const N: usize, const R: usize, const G: usize, const B: usize>(row: &mut [u8], r: &[u8], g: &[u8], b: &[u8]) {
    for (((px, &r), &g), &b) in row.chunks_exact_mut(N).zip(r).zip(g).zip(b) {
        px[R] = r;
        px[G] = g;
        px[B] = b;
        if N == 4 {
            px[6 - R - G - B] = 255;
        }
    }
}

/// A fixed-point channel value to [0, 1].
#[inline(always)]
fn to_unit(v: i32) -> f32 {
    (v as f32 * (1.0 / (255.0 * (1u32 << SHIFT) as f32))).clamp(0.0, 1.0)
}

#[inline(always)]
fn put_float(sample: SampleType, out: &mut [u8], v: f32) {
    if sample == SampleType::F32 {
        out.copy_from_slice(&v.to_ne_bytes());
    } else {
        out.copy_from_slice(&f16::from_f32(v).to_ne_bytes());
    }
}
