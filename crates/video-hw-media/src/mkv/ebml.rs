//! EBML, the binary form Matroska is written in: element IDs, variable-length integers,
//! element headers, and a bounds-checked walk over the children of a master element
//! held in memory that reports every overrun with its byte offset in the file.

use crate::io::ByteSource;
use video_hw_types::error::{Error, Result};

pub use super::ids::*;

/// True for the IDs of the top two levels (EBML header, Segment and the Segment's
/// children): an unknown-size Cluster ends where one of these starts.
pub fn is_upper_level(id: u32) -> bool {
    matches!(id, EBML | SEGMENT | SEEK_HEAD | INFO | TRACKS | CLUSTER | CUES | CHAPTERS | TAGS | ATTACHMENTS)
}

/// A name for messages.
pub fn name(id: u32) -> String {
    let known = match id {
        EBML => "EBML header",
        SEGMENT => "Segment",
        SEEK_HEAD => "SeekHead",
        INFO => "Info",
        TRACKS => "Tracks",
        TRACK_ENTRY => "TrackEntry",
        CLUSTER => "Cluster",
        SIMPLE_BLOCK => "SimpleBlock",
        BLOCK_GROUP => "BlockGroup",
        BLOCK => "Block",
        TIMESTAMP => "Timestamp",
        CUES => "Cues",
        TAGS => "Tags",
        VOID => "Void",
        CRC32 => "CRC-32",
        _ => return format!("element 0x{id:X}"),
    };
    known.to_string()
}

/// The error for a malformed Matroska structure at `offset`.
pub fn malformed(offset: u64, what: impl std::fmt::Display) -> Error {
    Error::invalid_bitstream(offset, format!("malformed Matroska: {what}"))
}

/// An element header: its ID, where it starts and how long its data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The ID, marker bits kept (`0x1A45DFA3`, `0xA3`, …).
    pub id: u32,
    /// File offset of the ID's first byte.
    pub start: u64,
    /// Bytes of ID and size (2 to 12).
    pub header_len: u8,
    /// Bytes of data; `None` for the unknown size (all value bits set).
    pub size: Option<u64>,
}

impl Header {
    /// Offset of the first byte of data.
    pub fn data(&self) -> u64 {
        self.start + u64::from(self.header_len)
    }

    /// Offset after the data, for a known size.
    pub fn end(&self) -> Option<u64> {
        self.size.map(|s| self.data().saturating_add(s))
    }
}

/// A variable-length integer at the start of `b`, marker bit removed: (value, length),
/// with `None` as the value when every value bit is set (the unknown size). `Ok(None)`
/// when `b` is too short; an error (the reason) when the first byte is zero (a length
/// over 8 bytes).
pub fn vint(b: &[u8]) -> std::result::Result<Option<(Option<u64>, usize)>, &'static str> {
    let Some(&first) = b.first() else { return Ok(None) };
    if first == 0 {
        return Err("a variable-length integer longer than 8 bytes");
    }
    let len = first.leading_zeros() as usize + 1;
    if b.len() < len {
        return Ok(None);
    }
    let mut v = u64::from(first) & (0xff >> len);
    for &x in &b[1..len] {
        v = (v << 8) | u64::from(x);
    }
    let all_ones = (1u64 << (7 * len)) - 1;
    Ok(Some(((v != all_ones).then_some(v), len)))
}

/// A variable-length integer as a plain number (all-ones included), for block headers
/// and lace sizes: (value, length), `Ok(None)` when `b` is too short.
pub fn vint_value(b: &[u8]) -> std::result::Result<Option<(u64, usize)>, &'static str> {
    Ok(vint(b)?.map(|(v, len)| (v.unwrap_or((1u64 << (7 * len)) - 1), len)))
}

/// Parses the element header at the start of `b` (file offset `start`); `Ok(None)`
/// when `b` ends inside it.
pub fn parse_header(b: &[u8], start: u64) -> Result<Option<Header>> {
    let Some(&first) = b.first() else { return Ok(None) };
    let id_len = first.leading_zeros() as usize + 1;
    if id_len > 4 {
        return Err(malformed(start, format!("invalid element ID (first byte 0x{first:02X})")));
    }
    if b.len() < id_len {
        return Ok(None);
    }
    let id = b[..id_len].iter().fold(0u32, |v, &x| (v << 8) | u32::from(x));
    match vint(&b[id_len..]) {
        Err(why) => Err(malformed(start, format!("{} with {why} as its size", name(id)))),
        Ok(None) => Ok(None),
        Ok(Some((size, size_len))) => Ok(Some(Header { id, start, header_len: (id_len + size_len) as u8, size })),
    }
}

/// Reads the element header at `pos` from `src`; at the end of the input, or when it
/// ends inside the header, an error naming `pos`.
pub fn read_header(src: &mut ByteSource, pos: u64) -> Result<Header> {
    src.seek(pos);
    let b = src.peek(12)?;
    match parse_header(b, pos)? {
        Some(h) => Ok(h),
        None => Err(header_cut(pos, src.len())),
    }
}

/// The error for an element header at `pos` that the end of the file (at `file_len`)
/// cuts.
pub fn header_cut(pos: u64, file_len: u64) -> Error {
    malformed(pos, format!("truncated: an element header at {pos}, the file ends at {file_len}"))
}

/// An unsigned integer element's value (0 to 8 bytes, big-endian).
pub fn uint(b: &[u8], at: u64) -> Result<u64> {
    if b.len() > 8 {
        return Err(malformed(at, format!("an unsigned integer of {} bytes", b.len())));
    }
    Ok(b.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// A float element's value (0, 4 or 8 bytes).
pub fn float(b: &[u8], at: u64) -> Result<f64> {
    match b.len() {
        0 => Ok(0.0),
        4 => Ok(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
        8 => Ok(f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
        n => Err(malformed(at, format!("a float of {n} bytes"))),
    }
}

/// A string element's value (up to the first NUL; invalid UTF-8 replaced).
pub fn string(b: &[u8]) -> String {
    let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// The children of a master element whose data is in memory: each child's header, its
/// data and that data's file offset. A child that runs past its parent, or has the
/// unknown size, is an error, after which the walk stops.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    data: &'a [u8],
    at: usize,
    base: u64,
    parent: u32,
}

impl<'a> Children<'a> {
    /// The children in `data` (the data of element `parent`, at file offset `base`).
    pub fn new(data: &'a [u8], base: u64, parent: u32) -> Self {
        Children { data, at: 0, base, parent }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<(Header, &'a [u8], u64)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.data.len() {
            return None;
        }
        let start = self.base + self.at as u64;
        let rest = &self.data[self.at..];
        let parent_end = self.base + self.data.len() as u64;
        let fail = |this: &mut Self, e: Error| {
            this.at = this.data.len();
            Some(Err(e))
        };
        let h = match parse_header(rest, start) {
            Ok(Some(h)) => h,
            Ok(None) => {
                let e = malformed(
                    start,
                    format!("an element header at {start} runs past the end of its parent {}", name(self.parent)),
                );
                return fail(self, e);
            }
            Err(e) => return fail(self, e),
        };
        let Some(size) = h.size else {
            let e = malformed(start, format!("{} of unknown size inside {}", name(h.id), name(self.parent)));
            return fail(self, e);
        };
        let body_at = h.header_len as usize;
        if size > (rest.len() - body_at) as u64 {
            let e = malformed(
                start,
                format!(
                    "{} at {start} of {size} bytes ends at {}, past the end of its parent {} at {parent_end}",
                    name(h.id),
                    h.data().saturating_add(size),
                    name(self.parent)
                ),
            );
            return fail(self, e);
        }
        let body = &rest[body_at..body_at + size as usize];
        self.at += body_at + size as usize;
        Some(Ok((h, body, h.data())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_length_integers() {
        assert_eq!(vint(&[0x81]), Ok(Some((Some(1), 1))));
        assert_eq!(vint(&[0x40, 0x02]), Ok(Some((Some(2), 2))));
        assert_eq!(vint(&[0x10, 0, 0, 5]), Ok(Some((Some(5), 4))));
        assert_eq!(vint(&[0x01, 0, 0, 0, 0, 0, 0, 9]), Ok(Some((Some(9), 8))));
        // Too short, then a zero first byte (over 8 bytes).
        assert_eq!(vint(&[0x40]), Ok(None));
        assert_eq!(vint(&[]), Ok(None));
        assert!(vint(&[0x00, 0xff]).is_err());
        // The largest known 8-byte size is 2^56 - 2.
        let mut big = [0xffu8; 8];
        big[0] = 0x01;
        big[7] = 0xfe;
        assert_eq!(vint(&big), Ok(Some((Some((1 << 56) - 2), 8))));
        assert_eq!(vint_value(&big), Ok(Some(((1 << 56) - 2, 8))));
    }

    #[test]
    fn unknown_sizes_of_every_length() {
        for len in 1..=8usize {
            let mut b = vec![0xffu8; len];
            b[0] = 0xff >> (len - 1);
            assert_eq!(vint(&b), Ok(Some((None, len))), "{len}-byte unknown size");
            assert_eq!(vint_value(&b), Ok(Some(((1 << (7 * len)) - 1, len))));
        }
        // Segment with the 8-byte all-ones unknown size.
        let h = parse_header(&[0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40).unwrap();
        assert_eq!(h, Some(Header { id: SEGMENT, start: 40, header_len: 12, size: None }));
    }

    #[test]
    fn headers() {
        assert_eq!(
            parse_header(&[0xA3, 0x42, 0x10], 7).unwrap(),
            Some(Header { id: SIMPLE_BLOCK, start: 7, header_len: 3, size: Some(0x210) })
        );
        assert_eq!(parse_header(&[0x1A, 0x45], 0).unwrap(), None);
        let e = parse_header(&[0x08, 0, 0, 0, 0], 9).unwrap_err();
        assert!(matches!(e, Error::InvalidBitstream { offset: 9, .. }), "{e}");
        let e = parse_header(&[0xEC, 0x00], 3).unwrap_err();
        assert!(e.to_string().contains("Void"), "{e}");
    }

    #[test]
    fn values() {
        assert_eq!(uint(&[], 0).unwrap(), 0);
        assert_eq!(uint(&[0x0f, 0x42, 0x40], 0).unwrap(), 1_000_000);
        assert!(uint(&[0; 9], 0).is_err());
        assert_eq!(float(&4032f64.to_be_bytes(), 0).unwrap(), 4032.0);
        assert_eq!(float(&2.5f32.to_be_bytes(), 0).unwrap(), 2.5);
        assert!(float(&[0; 3], 0).is_err());
        assert_eq!(string(b"eng\0\0"), "eng");
    }

    #[test]
    fn children_stop_at_an_overrun() {
        // Void(1 byte), then an element claiming 5 bytes where 2 remain.
        let data = [0xEC, 0x81, 0x00, 0xD7, 0x85, 1, 2];
        let mut c = Children::new(&data, 100, TRACK_ENTRY);
        let (h, body, at) = c.next().unwrap().unwrap();
        assert_eq!((h.id, body, at), (VOID, &[0u8][..], 102));
        let e = c.next().unwrap().unwrap_err();
        assert!(matches!(e, Error::InvalidBitstream { offset: 103, .. }), "{e}");
        assert!(c.next().is_none());
    }
}
