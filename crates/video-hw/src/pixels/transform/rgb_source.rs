//! A decoded YUV picture as the YUV → RGB conversion (`rgb.rs`) reads it: its planes, how
//! their samples are stored, and the reads of one row's samples as values.

use crate::error::{Error, Result};

/// How the samples of a plane are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// One byte per sample.
    U8,
    /// 16-bit little-endian words, value in the low bits (yuv420p10le).
    U16Low,
    /// 16-bit little-endian words, value in the high 10 bits (p010le).
    U16High,
}

impl Store {
    pub(super) fn bytes(self) -> usize {
        if self == Store::U8 { 1 } else { 2 }
    }
}

/// One source plane: rows, and where along a row the samples of one component are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Src<'a> {
    /// The bytes the plane lies in.
    pub data: &'a [u8],
    /// Where its first row starts.
    pub offset: usize,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// How samples are stored.
    pub store: Store,
    /// Samples of this component are `step` samples apart starting at `phase` (2 and
    /// 0/1 for the interleaved UV plane of NV12/P010).
    pub step: usize,
    /// See `step`.
    pub phase: usize,
}

impl Src<'_> {
    /// Row `r` from its first byte to the end of the data.
    pub(crate) fn row(&self, r: usize) -> &[u8] {
        &self.data[self.offset + r * self.stride..]
    }

    /// Whether `cols` samples of this component on each of `rows` rows lie in the data.
    pub(super) fn fits(&self, cols: usize, rows: usize) -> bool {
        if cols == 0 || rows == 0 {
            return true;
        }
        let row_bytes = ((cols - 1) * self.step + self.phase + 1) * self.store.bytes();
        let need = self.stride.checked_mul(rows - 1).and_then(|n| n.checked_add(self.offset + row_bytes));
        need.is_some_and(|n| n <= self.data.len())
    }

    /// Samples `first..first + n` of row `r` as the bytes they are, where they are bytes
    /// next to each other.
    #[inline(always)]
    pub(super) fn bytes(&self, r: usize, first: usize, n: usize) -> Option<&[u8]> {
        (self.store == Store::U8 && self.step == 1).then(|| &self.row(r)[first..first + n])
    }

    /// Samples `first..first + out.len()` of row `r`, as values (inlined, so that it is
    /// compiled for the row loop's instruction set).
    #[inline(always)]
    pub(super) fn read(&self, r: usize, first: usize, out: &mut [u16]) {
        let row = self.row(r);
        let (step, n) = (self.step, out.len());
        let bytes = self.store.bytes();
        let span = &row[bytes * first * step..bytes * (first + n) * step];
        let shift = if self.store == Store::U16High { 6 } else { 0 };
        // The layouts there are (planes of their own, NV12/P010's interleaved pairs) with
        // constant strides and places, so that each loop is a vectorisable shuffle rather
        // than a gather of single samples.
        match (self.store, step, self.phase) {
            (Store::U8, 1, _) => samples::<1, 0, 1>(span, out, 0),
            (Store::U8, 2, 0) => samples::<1, 0, 2>(span, out, 0),
            (Store::U8, 2, _) => samples::<1, 1, 2>(span, out, 0),
            (_, 1, _) => samples::<2, 0, 1>(span, out, shift),
            (_, 2, 0) => samples::<2, 0, 2>(span, out, shift),
            (_, 2, _) => samples::<2, 1, 2>(span, out, shift),
            (_, _, phase) => {
                for (o, s) in out.iter_mut().zip(span.chunks_exact(bytes * step)) {
                    let s = &s[bytes * phase..][..bytes];
                    *o = if bytes == 1 { u16::from(s[0]) } else { u16::from_le_bytes([s[0], s[1]]) >> shift };
                }
            }
        }
    }
}

/// Samples of `BYTES` bytes (16-bit ones little-endian, shifted right by `shift`), one at
/// place `PHASE` of every `STEP`, from `span` into `out`.
///
/// Interleaved pairs are read as words twice a sample's size, the sample taken by a mask or
/// a shift of each: the compiler vectorises that as a load and one operation, where picking
/// every other byte had become one insert per sample.
#[inline(always)]
fn samples<const BYTES: usize, const PHASE: usize, const STEP: usize>(span: &[u8], out: &mut [u16], shift: u32) {
    match (BYTES, STEP) {
        (1, 2) => {
            for (o, s) in out.iter_mut().zip(span.chunks_exact(2)) {
                let pair = u16::from_le_bytes([s[0], s[1]]);
                *o = if PHASE == 0 { pair & 0xff } else { pair >> 8 };
            }
        }
        (2, 2) => {
            for (o, s) in out.iter_mut().zip(span.chunks_exact(4)) {
                let pair = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                *o = (if PHASE == 0 { pair & 0xffff } else { pair >> 16 }) as u16 >> shift;
            }
        }
        _ => {
            for (o, s) in out.iter_mut().zip(span.chunks_exact(BYTES * STEP)) {
                *o = if BYTES == 1 {
                    u16::from(s[PHASE])
                } else {
                    u16::from_le_bytes([s[2 * PHASE], s[2 * PHASE + 1]]) >> shift
                };
            }
        }
    }
}

/// A decoded YUV picture as the conversion reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YuvSource<'a> {
    /// Y, Cb, Cr.
    pub planes: [Src<'a>; 3],
    /// Bits per sample (8 or 10).
    pub depth: u8,
    /// Chroma has half the columns (4:2:0, 4:2:2).
    pub half_width: bool,
    /// Chroma has half the rows (4:2:0).
    pub half_height: bool,
    /// Picture width (interpolation clamps at the picture's edges).
    pub width: u32,
    /// Picture height.
    pub height: u32,
}

impl YuvSource<'_> {
    pub(super) fn chroma_size(&self) -> (usize, usize) {
        let (w, h) = (self.width as usize, self.height as usize);
        (if self.half_width { w.div_ceil(2) } else { w }, if self.half_height { h.div_ceil(2) } else { h })
    }

    pub(super) fn check(&self) -> Result<()> {
        let (cw, ch) = self.chroma_size();
        let luma = self.planes[0].fits(self.width as usize, self.height as usize);
        if !luma || !self.planes[1].fits(cw, ch) || !self.planes[2].fits(cw, ch) {
            return Err(Error::invalid_input(format!(
                "a {}x{} picture's planes are smaller than the picture",
                self.width, self.height
            )));
        }
        Ok(())
    }
}
