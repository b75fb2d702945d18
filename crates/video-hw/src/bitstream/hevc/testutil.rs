//! Test helpers: a bit writer for hand-made NAL units.

use crate::bitstream::rbsp::escape;

/// Writes bits most significant first, with exp-Golomb codes.
#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the low `n` bits of `v`.
    pub fn u(&mut self, n: u32, v: u64) -> &mut Self {
        for i in (0..n).rev() {
            if self.bits % 8 == 0 {
                self.bytes.push(0);
            }
            if (v >> i) & 1 == 1 {
                *self.bytes.last_mut().unwrap() |= 0x80 >> (self.bits % 8);
            }
            self.bits += 1;
        }
        self
    }

    pub fn flag(&mut self, b: bool) -> &mut Self {
        self.u(1, b as u64)
    }

    pub fn ue(&mut self, v: u32) -> &mut Self {
        let x = v as u64 + 1;
        let len = 64 - x.leading_zeros();
        self.u(len - 1, 0).u(len, x)
    }

    pub fn se(&mut self, v: i32) -> &mut Self {
        let k = if v > 0 { 2 * v as i64 - 1 } else { -2 * v as i64 };
        self.ue(k as u32)
    }

    /// Bits written so far.
    pub fn len(&self) -> usize {
        self.bits
    }

    /// rbsp_trailing_bits(), then the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.u(1, 1);
        while self.bits % 8 != 0 {
            self.u(1, 0);
        }
        self.bytes
    }

    /// The bytes, padded with zero bits, no stop bit.
    pub fn raw(self) -> Vec<u8> {
        self.bytes
    }

    /// A NAL unit of type `nal_type` (layer 0, TemporalId 0) carrying this payload with
    /// rbsp_trailing_bits() and emulation prevention.
    pub fn nal(self, nal_type: u8) -> Vec<u8> {
        let mut out = vec![nal_type << 1, 1];
        out.extend_from_slice(&escape(&self.finish()));
        out
    }
}
