//! A bounds-checked MSB-first bit reader for the small audio headers: every read past the
//! end is an error naming the field and its byte offset, never a panic.

use video_hw_types::error::{Error, Result};

/// Reads bits from a byte slice, most significant first.
pub struct Bits<'a> {
    data: &'a [u8],
    /// Bits consumed.
    pos: usize,
    /// What the bytes are, for error messages.
    what: &'static str,
}

impl<'a> Bits<'a> {
    /// A reader at the first bit of `data`, which holds a `what`.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Bits { data, pos: 0, what }
    }

    /// Bits not yet read.
    pub fn left(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    /// Byte offset of the next bit.
    pub fn byte_offset(&self) -> u64 {
        (self.pos / 8) as u64
    }

    /// The error for a bad `field` at the current position.
    pub fn error(&self, field: impl std::fmt::Display) -> Error {
        Error::invalid_bitstream(self.byte_offset(), format!("{}: {field}", self.what))
    }

    /// The next `n` bits (at most 32) as a number.
    pub fn read(&mut self, n: u32, field: &str) -> Result<u32> {
        debug_assert!(n <= 32);
        if (n as usize) > self.left() {
            return Err(self.error(format_args!("ends inside {field}")));
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            let byte = self.data[self.pos / 8];
            let bit = (byte >> (7 - (self.pos % 8))) & 1;
            v = (v << 1) | u64::from(bit);
            self.pos += 1;
        }
        Ok(v as u32)
    }

    /// The next bit as a flag.
    pub fn flag(&mut self, field: &str) -> Result<bool> {
        Ok(self.read(1, field)? == 1)
    }

    /// Skips `n` bits.
    pub fn skip(&mut self, n: usize, field: &str) -> Result<()> {
        if n > self.left() {
            return Err(self.error(format_args!("ends inside {field}")));
        }
        self.pos += n;
        Ok(())
    }

    /// Skips to the next byte boundary.
    pub fn align(&mut self) {
        self.pos = self.pos.div_ceil(8) * 8;
    }
}

/// Writes bits most significant first.
#[derive(Default)]
pub struct BitWriter {
    out: Vec<u8>,
    /// Bits used in the last byte (0 when it is full or there is none).
    used: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `v`.
    pub fn put(&mut self, n: u32, v: u32) {
        for i in (0..n).rev() {
            if self.used == 0 {
                self.out.push(0);
            }
            let bit = ((v >> i) & 1) as u8;
            if let Some(last) = self.out.last_mut() {
                *last |= bit << (7 - self.used);
            }
            self.used = (self.used + 1) % 8;
        }
    }

    /// Pads with zero bits to the next byte boundary.
    pub fn align(&mut self) {
        self.used = 0;
    }

    /// The bytes, the last one padded with zero bits.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}
