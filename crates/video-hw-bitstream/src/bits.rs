//! A reader of bits, most significant first, for the headers of codecs without emulation
//! prevention (AV1 OBUs, VP9 frames, AAC's AudioSpecificConfig). H.264 and HEVC have
//! [`rbsp::BitReader`](super::rbsp::BitReader).

use video_hw_types::error::{Error, Result};

/// Reads bits most significant first from bytes with no emulation prevention (AV1 OBU
/// payloads, VP9 headers: unlike H.264/HEVC, `00 00 03` is data there).
#[doc(hidden)]
pub struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
    what: &'static str,
}

impl<'a> Bits<'a> {
    /// A reader of `data`; errors name `what` is being read.
    #[doc(hidden)]
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Bits { data, bit: 0, what }
    }

    /// The next `n` bits (at most 32) as a number; `field` names them in the error.
    #[doc(hidden)]
    pub fn read(&mut self, n: u32, field: &str) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = self.data.get(self.bit / 8).ok_or_else(|| {
                Error::invalid_bitstream((self.bit / 8) as u64, format!("{}: truncated reading {field}", self.what))
            })?;
            v = (v << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Ok(v)
    }

    /// The next bit.
    #[doc(hidden)]
    pub fn flag(&mut self, field: &str) -> Result<bool> {
        Ok(self.read(1, field)? == 1)
    }

    /// AV1 `uvlc()` (4.10.3): leading zeros, then that many bits; 32 zeros or more read
    /// as `u32::MAX`, as the specification has it.
    #[doc(hidden)]
    pub fn uvlc(&mut self, field: &str) -> Result<u32> {
        let mut zeros = 0;
        while !self.flag(field)? {
            zeros += 1;
            if zeros >= 32 {
                return Ok(u32::MAX);
            }
        }
        let v = self.read(zeros, field)?;
        Ok(v.saturating_add((1u32 << zeros) - 1))
    }
}
