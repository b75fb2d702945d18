//! Raw byte sequence payload helpers: emulation-prevention removal and a bit reader
//! with exp-Golomb codes that skips emulation-prevention bytes on the fly, so headers
//! are parsed straight out of the NAL unit without copying it.

use std::borrow::Cow;

use video_hw_types::error::{Error, Result};

/// Removes emulation-prevention bytes (`00 00 03` → `00 00`) from a NAL unit payload.
///
/// Borrows when there is nothing to remove, which is the common case for headers.
///
/// ```
/// use video_hw::bitstream::rbsp::unescape;
/// assert_eq!(&*unescape(&[0, 0, 3, 1, 0, 0, 3]), &[0, 0, 1, 0, 0]);
/// assert!(matches!(unescape(&[1, 2, 3]), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn unescape(ebsp: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = find_epb(ebsp, 0) else {
        return Cow::Borrowed(ebsp);
    };
    let mut out = Vec::with_capacity(ebsp.len());
    let mut start = 0;
    let mut epb = Some(first);
    while let Some(pos) = epb {
        out.extend_from_slice(&ebsp[start..pos]);
        start = pos + 1;
        epb = find_epb(ebsp, start);
    }
    out.extend_from_slice(&ebsp[start..]);
    Cow::Owned(out)
}

/// Inserts emulation-prevention bytes so that `rbsp` can be carried in a NAL unit.
///
/// ```
/// use video_hw::bitstream::rbsp::{escape, unescape};
/// let raw = [0u8, 0, 1, 0, 0, 0, 0, 0, 2];
/// assert_eq!(&*unescape(&escape(&raw)), &raw);
/// ```
pub fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 1);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    if zeros >= 2 {
        // A payload may not end in 00 00: a trailing 03 keeps the next start code apart.
        out.push(3);
    }
    out
}

/// Position of the next emulation-prevention `03` at or after `from` (the byte after `00 00`).
fn find_epb(data: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(&data[from..], &[0, 0, 3]).map(|rel| from + rel + 2)
}

/// Reads bits, most significant first, from an emulation-prevented NAL payload,
/// dropping each `03` that follows `00 00` as it goes (H.264 7.4.1, HEVC 7.4.2).
///
/// Every read names the syntax element it reads, so an error says what was being read
/// and where (byte offset inside the NAL data given to [`BitReader::new`]).
///
/// ```
/// use video_hw::bitstream::rbsp::BitReader;
/// // 1 | 010 | 011 | 00100 → ue: 0, 1, 2, 3
/// let mut r = BitReader::new(&[0b1010_0110, 0b0100_0000]);
/// assert_eq!(r.ue("a").unwrap(), 0);
/// assert_eq!(r.ue("b").unwrap(), 1);
/// assert_eq!(r.ue("c").unwrap(), 2);
/// assert_eq!(r.ue("d").unwrap(), 3);
/// ```
#[derive(Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Index of the next byte to load into `cache`.
    pos: usize,
    /// Bits not yet consumed, left-aligned.
    cache: u64,
    /// Number of valid bits in `cache`.
    bits: u32,
    /// Zero bytes seen just before `pos` (for emulation-prevention detection).
    zeros: u32,
    /// Emulation-prevention bytes skipped so far (for offset reporting).
    skipped: usize,
}

impl<'a> BitReader<'a> {
    /// A reader over `data` (a NAL payload, emulation prevention still in place).
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0, cache: 0, bits: 0, zeros: 0, skipped: 0 }
    }

    /// Loads bytes until at least 57 bits are cached or the data ends.
    #[inline]
    fn refill(&mut self) {
        while self.bits <= 56 && self.pos < self.data.len() {
            let b = self.data[self.pos];
            self.pos += 1;
            if self.zeros >= 2 && b == 3 {
                self.zeros = 0;
                self.skipped += 1;
                continue;
            }
            self.zeros = if b == 0 { self.zeros + 1 } else { 0 };
            self.cache |= (b as u64) << (56 - self.bits);
            self.bits += 8;
        }
    }

    /// Byte offset (in the escaped input) of the next unread bit.
    pub fn byte_offset(&self) -> u64 {
        (self.pos - (self.bits as usize).div_ceil(8)) as u64
    }

    /// Number of RBSP bits consumed so far (emulation-prevention bytes not counted).
    pub fn bit_position(&self) -> u64 {
        ((self.pos - self.skipped) as u64) * 8 - self.bits as u64
    }

    /// True when no bits are left.
    pub fn is_empty(&mut self) -> bool {
        self.refill();
        self.bits == 0
    }

    fn truncated(&self, name: &str) -> Error {
        Error::invalid_bitstream(self.byte_offset(), format!("truncated while reading {name}"))
    }

    /// Reads `n` bits (0..=32) as an unsigned number.
    #[inline]
    pub fn bits(&mut self, n: u32, name: &str) -> Result<u32> {
        debug_assert!(n <= 32);
        if n == 0 {
            return Ok(0);
        }
        if self.bits < n {
            self.refill();
            if self.bits < n {
                return Err(self.truncated(name));
            }
        }
        let v = (self.cache >> (64 - n)) as u32;
        self.cache <<= n;
        self.bits -= n;
        Ok(v)
    }

    /// Reads one bit as a flag.
    #[inline]
    pub fn flag(&mut self, name: &str) -> Result<bool> {
        Ok(self.bits(1, name)? == 1)
    }

    /// Skips `n` bits (any number).
    pub fn skip(&mut self, mut n: u64, name: &str) -> Result<()> {
        while n > 0 {
            let step = n.min(32) as u32;
            self.bits(step, name)?;
            n -= step as u64;
        }
        Ok(())
    }

    /// Reads an unsigned exp-Golomb code `ue(v)`; codes longer than 32 bits are an error.
    #[inline]
    pub fn ue(&mut self, name: &str) -> Result<u32> {
        if self.bits < 33 {
            self.refill();
        }
        let lz = self.cache.leading_zeros();
        if lz < self.bits && lz <= 31 && 2 * lz < self.bits {
            // Fast path: the whole code is in the cache.
            let len = 2 * lz + 1;
            let v = (self.cache >> (64 - len)) - 1;
            self.cache <<= len;
            self.bits -= len;
            return Ok(v as u32);
        }
        // Slow path: count zeros bit by bit (long codes, or the data ends).
        let mut zeros = 0u32;
        while !self.flag(name)? {
            zeros += 1;
            if zeros > 31 {
                return Err(Error::invalid_bitstream(
                    self.byte_offset(),
                    format!("{name}: exp-Golomb code longer than 32 bits"),
                ));
            }
        }
        let rest = self.bits(zeros, name)? as u64;
        Ok(((1u64 << zeros) - 1 + rest) as u32)
    }

    /// Reads a signed exp-Golomb code `se(v)`.
    #[inline]
    pub fn se(&mut self, name: &str) -> Result<i32> {
        let k = self.ue(name)? as i64;
        let v = if k & 1 == 1 { (k + 1) / 2 } else { -(k / 2) };
        Ok(v as i32)
    }

    /// Reads `ue(v)` and checks it is at most `max`.
    pub fn ue_max(&mut self, name: &str, max: u32) -> Result<u32> {
        let off = self.byte_offset();
        let v = self.ue(name)?;
        if v > max {
            return Err(Error::invalid_bitstream(off, format!("{name} = {v} is out of range (max {max})")));
        }
        Ok(v)
    }

    /// Reads `se(v)` and checks it lies in `min..=max`.
    pub fn se_range(&mut self, name: &str, min: i32, max: i32) -> Result<i32> {
        let off = self.byte_offset();
        let v = self.se(name)?;
        if v < min || v > max {
            return Err(Error::invalid_bitstream(off, format!("{name} = {v} is out of range ({min}..={max})")));
        }
        Ok(v)
    }

    /// True while syntax data remain before the `rbsp_stop_one_bit`
    /// (H.264 7.2 `more_rbsp_data()`).
    pub fn more_rbsp_data(&mut self) -> bool {
        self.refill();
        if self.bits == 0 {
            return false;
        }
        // Anything other than zeros after the next bit in the cache, or any non-zero
        // byte still to come, means the stop bit is further on.
        let rest_cache = self.cache << 1;
        if rest_cache != 0 {
            return true;
        }
        if self.data[self.pos..].iter().any(|&b| b != 0) {
            return true;
        }
        // The next bit must be the stop bit itself: no more data.
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_keeps_plain_data_borrowed() {
        assert!(matches!(unescape(&[0, 0, 1, 2]), Cow::Borrowed(_)));
    }

    #[test]
    fn unescape_removes_each_epb() {
        assert_eq!(&*unescape(&[0, 0, 3, 0, 0, 3, 0]), &[0, 0, 0, 0, 0]);
        assert_eq!(&*unescape(&[5, 0, 0, 3]), &[5, 0, 0]);
    }

    #[test]
    fn reader_skips_epb() {
        // 00 00 03 01 → bits of 00 00 01
        let mut r = BitReader::new(&[0, 0, 3, 1]);
        assert_eq!(r.bits(24, "x").unwrap(), 1);
        assert!(r.is_empty());
    }

    #[test]
    fn se_maps_codes() {
        // ue codes 1,2,3,4 → se 1,-1,2,-2 : 010 011 00100 00101
        let mut r = BitReader::new(&[0b0100_1100, 0b1000_0101, 0]);
        assert_eq!(r.se("a").unwrap(), 1);
        assert_eq!(r.se("b").unwrap(), -1);
        assert_eq!(r.se("c").unwrap(), 2);
        assert_eq!(r.se("d").unwrap(), -2);
    }

    #[test]
    fn long_codes_are_errors_not_panics() {
        let mut r = BitReader::new(&[0; 10]);
        assert!(r.ue("x").is_err());
        // 31 leading zeros is the longest code that fits: 2^32 - 2.
        let mut r = BitReader::new(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.ue("x").unwrap(), u32::MAX - 1);
    }

    #[test]
    fn truncation_is_an_error_with_offset() {
        let mut r = BitReader::new(&[0xff]);
        r.bits(8, "a").unwrap();
        let e = r.bits(1, "b").unwrap_err();
        assert!(e.to_string().contains("truncated while reading b"), "{e}");
    }

    #[test]
    fn more_rbsp_data_stops_at_stop_bit() {
        let mut r = BitReader::new(&[0b1100_0000]);
        assert!(r.more_rbsp_data());
        r.flag("a").unwrap();
        assert!(!r.more_rbsp_data());
    }

    #[test]
    fn escape_round_trips() {
        for raw in [&[0u8, 0, 0][..], &[0, 0, 1, 0, 0, 2, 0, 0, 3], &[1, 2, 3], &[0, 0]] {
            let e = escape(raw);
            assert!(memchr::memmem::find(&e, &[0, 0, 1]).is_none());
            assert_eq!(&*unescape(&e), raw);
        }
    }
}
