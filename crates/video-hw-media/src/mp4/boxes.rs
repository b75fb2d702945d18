//! ISO-BMFF boxes: headers, and a bounds-checked big-endian reader over a box's bytes
//! that reports every overrun with its byte offset in the file.

use video_hw_types::error::{Error, Result};

/// A four-character code.
pub type FourCc = [u8; 4];

/// The most levels of boxes inside boxes followed (real files use 7 or 8).
pub const MAX_DEPTH: usize = 16;

/// A box header: its type, where it starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    /// The type.
    pub kind: FourCc,
    /// File offset of the header's first byte.
    pub start: u64,
    /// Header length (8, 16 with a 64-bit size, +16 for `uuid`).
    pub header_len: u64,
    /// Whole box length, header included; `None` for a size-0 box (to the end of the file).
    pub size: Option<u64>,
}

impl BoxHeader {
    /// Offset of the first byte after the header.
    pub fn body_start(&self) -> u64 {
        self.start + self.header_len
    }

    /// Offset of the first byte after the box (`file_len` for a size-0 box).
    pub fn end(&self, file_len: u64) -> u64 {
        self.size.map_or(file_len, |s| self.start.saturating_add(s))
    }

    /// The type as text, for messages.
    pub fn name(&self) -> String {
        fourcc_name(&self.kind)
    }
}

/// A four-character code as text (non-printable bytes escaped).
pub fn fourcc_name(k: &FourCc) -> String {
    k.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '?' }).collect()
}

/// Reads a box header from `b` (the bytes at file offset `start`); `Ok(None)` when `b` is
/// too short to hold one.
pub fn parse_header(b: &[u8], start: u64) -> Result<Option<BoxHeader>> {
    if b.len() < 8 {
        return Ok(None);
    }
    let size32 = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let kind: FourCc = [b[4], b[5], b[6], b[7]];
    let (size, mut header_len) = match size32 {
        0 => (None, 8),
        1 => {
            if b.len() < 16 {
                return Ok(None);
            }
            let large = u64::from_be_bytes(b[8..16].try_into().expect("8 bytes"));
            if large < 16 {
                return Err(malformed(start, format!("box '{}' with 64-bit size {large}", fourcc_name(&kind))));
            }
            (Some(large), 16)
        }
        s if s < 8 => return Err(malformed(start, format!("box '{}' of size {s}", fourcc_name(&kind)))),
        s => (Some(u64::from(s)), 8),
    };
    if &kind == b"uuid" {
        header_len += 16;
        if size.is_some_and(|s| s < header_len) {
            return Err(malformed(start, "uuid box shorter than its header"));
        }
    }
    Ok(Some(BoxHeader { kind, start, header_len, size }))
}

/// The error for a malformed MP4 structure at `offset`.
pub fn malformed(offset: u64, what: impl std::fmt::Display) -> Error {
    Error::invalid_bitstream(offset, format!("malformed MP4: {what}"))
}

/// A bounds-checked reader over bytes that lie at file offset `base`.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    base: u64,
}

impl<'a> Reader<'a> {
    /// Reads `data`, which starts at file offset `base`.
    pub fn new(data: &'a [u8], base: u64) -> Self {
        Reader { data, at: 0, base }
    }

    /// File offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.at as u64
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.at
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(malformed(
                self.offset(),
                format!("{what} needs {n} bytes, the box has {} left", self.remaining()),
            ));
        }
        let s = &self.data[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.data[self.at..];
        self.at = self.data.len();
        s
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, what: &str) -> Result<()> {
        self.bytes(n, what).map(|_| ())
    }

    /// One byte.
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }

    /// Big-endian u16.
    pub fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.bytes(2, what)?.try_into().expect("2 bytes")))
    }

    /// Big-endian u32.
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.bytes(4, what)?.try_into().expect("4 bytes")))
    }

    /// Big-endian u64.
    pub fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.bytes(8, what)?.try_into().expect("8 bytes")))
    }

    /// A u32 in version 0 of a full box, a u64 in version 1.
    pub fn u32_or_u64(&mut self, version: u8, what: &str) -> Result<u64> {
        if version == 1 { self.u64(what) } else { self.u32(what).map(u64::from) }
    }

    /// A full box's version and flags.
    pub fn full_box(&mut self, what: &str) -> Result<(u8, u32)> {
        let v = self.u32(what)?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }

    /// A count of entries each at least `entry_bytes` long: refused when the box cannot
    /// hold that many, so no table is sized from a count the box cannot back.
    pub fn count(&mut self, entry_bytes: usize, what: &str) -> Result<usize> {
        let at = self.offset();
        let n = self.u32(what)? as usize;
        if entry_bytes > 0 && n > self.remaining() / entry_bytes {
            return Err(malformed(
                at,
                format!("{what} claims {n} entries of {entry_bytes} bytes, the box holds {} bytes", self.remaining()),
            ));
        }
        Ok(n)
    }

    /// The child boxes of the rest of these bytes, in order.
    pub fn children(self) -> Children<'a> {
        Children { r: self, failed: false }
    }
}

/// Iterates over the boxes packed in a byte range (see [`Reader::children`]).
#[derive(Debug)]
pub struct Children<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<(BoxHeader, Reader<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.remaining() == 0 {
            return None;
        }
        let start = self.r.offset();
        let rest = &self.r.data[self.r.at..];
        let header = match parse_header(rest, start) {
            Ok(Some(h)) => h,
            Ok(None) => {
                // 1-7 trailing bytes: padding some writers leave; nothing to read there.
                self.r.at = self.r.data.len();
                return None;
            }
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        let len = match header.size {
            None => rest.len() as u64,
            Some(s) => s,
        };
        if len > rest.len() as u64 || header.header_len > len {
            self.failed = true;
            return Some(Err(malformed(
                start,
                format!("box '{}' of {len} bytes overruns its parent ({} bytes left)", header.name(), rest.len()),
            )));
        }
        let body = &rest[header.header_len as usize..len as usize];
        self.r.at += len as usize;
        Some(Ok((header, Reader::new(body, header.body_start()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let h = parse_header(b"\0\0\0\x10moovxxxxxxxx", 100).unwrap().unwrap();
        assert_eq!((h.kind, h.start, h.header_len, h.size), (*b"moov", 100, 8, Some(16)));
        let mut large = b"\0\0\0\x01mdat".to_vec();
        large.extend(20u64.to_be_bytes());
        let h = parse_header(&large, 0).unwrap().unwrap();
        assert_eq!((h.header_len, h.size), (16, Some(20)));
        assert!(parse_header(b"\0\0\0\x04free", 0).is_err());
        assert_eq!(parse_header(b"\0\0", 0).unwrap(), None);
        let h = parse_header(b"\0\0\0\0mdat", 0).unwrap().unwrap();
        assert_eq!(h.size, None);
        assert_eq!(h.end(1000), 1000);
    }

    #[test]
    fn children_stop_at_overruns() {
        let mut b = b"\0\0\0\x0cfree1234".to_vec();
        b.extend(b"\0\0\x01\0skip");
        let mut it = Reader::new(&b, 8).children();
        let (h, body) = it.next().unwrap().unwrap();
        assert_eq!((&h.kind, body.remaining(), h.start), (b"free", 4, 8));
        let e = it.next().unwrap().unwrap_err();
        assert!(e.to_string().contains("overruns its parent"), "{e}");
        assert!(matches!(e, Error::InvalidBitstream { offset: 20, .. }));
        assert!(it.next().is_none());
    }

    #[test]
    fn counts_are_checked_against_the_box() {
        let b = [0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8];
        let mut r = Reader::new(&b, 0);
        assert!(r.count(4, "stco").is_err());
        let mut r = Reader::new(&b, 0);
        assert_eq!(r.count(1, "x").unwrap(), 5);
    }
}
