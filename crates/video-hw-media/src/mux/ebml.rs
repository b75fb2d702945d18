//! EBML writing (RFC 8794): element IDs, variable-length sizes, and the element types
//! Matroska uses, built into a byte buffer; a master element's size is filled in when
//! its children are done.

use video_hw_types::error::{Error, Result};

/// The 8-byte size that means "unknown" (a live segment or cluster).
pub const UNKNOWN_SIZE: [u8; 8] = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/// The largest size an 8-byte length holds.
pub const MAX_SIZE: u64 = (1 << 56) - 2;

/// `n` as an 8-byte EBML size (what a patched placeholder needs).
pub fn size8(n: u64) -> Result<[u8; 8]> {
    if n > MAX_SIZE {
        return Err(Error::invalid_input(format!("EBML element of {n} bytes")));
    }
    let mut b = n.to_be_bytes();
    b[0] = 0x01;
    Ok(b)
}

/// Elements being built.
#[derive(Debug, Default)]
pub(crate) struct Ebml {
    /// The bytes.
    pub buf: Vec<u8>,
}

impl Ebml {
    /// An element ID (its marker bits included, as the specification writes IDs).
    pub fn id(&mut self, id: u32) {
        let b = id.to_be_bytes();
        let skip = b.iter().take(3).take_while(|&&x| x == 0).count();
        self.buf.extend_from_slice(&b[skip..]);
    }

    /// A size in the fewest bytes (all-ones values are reserved for "unknown").
    pub fn size(&mut self, n: u64) {
        let mut len = 1;
        while len < 8 && n >= (1u64 << (7 * len)) - 1 {
            len += 1;
        }
        let marked = n | (1u64 << (7 * len));
        self.buf.extend_from_slice(&marked.to_be_bytes()[8 - len..]);
    }

    /// An unsigned integer element.
    pub fn uint(&mut self, id: u32, v: u64) {
        let b = v.to_be_bytes();
        let skip = b.iter().take(7).take_while(|&&x| x == 0).count();
        self.id(id);
        self.size((8 - skip) as u64);
        self.buf.extend_from_slice(&b[skip..]);
    }

    /// A signed integer element.
    pub fn int(&mut self, id: u32, v: i64) {
        let b = v.to_be_bytes();
        let mut skip = 0;
        while skip < 7 {
            let (x, next) = (b[skip], b[skip + 1]);
            if (x == 0 && next & 0x80 == 0) || (x == 0xff && next & 0x80 != 0) {
                skip += 1;
            } else {
                break;
            }
        }
        self.id(id);
        self.size((8 - skip) as u64);
        self.buf.extend_from_slice(&b[skip..]);
    }

    /// An 8-byte float element.
    pub fn float(&mut self, id: u32, v: f64) {
        self.id(id);
        self.size(8);
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A string or binary element.
    pub fn bytes(&mut self, id: u32, v: &[u8]) {
        self.id(id);
        self.size(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    /// A master element holding what `f` writes.
    pub fn master(&mut self, id: u32, f: impl FnOnce(&mut Ebml)) {
        let mut inner = Ebml::default();
        f(&mut inner);
        self.id(id);
        self.size(inner.buf.len() as u64);
        self.buf.extend_from_slice(&inner.buf);
    }

    /// A Void element filling exactly `n` bytes (`n` ≥ 2).
    pub fn void(&mut self, n: usize) {
        debug_assert!(n >= 2);
        self.id(VOID);
        if n - 2 < 127 {
            self.size((n - 2) as u64);
            self.buf.resize(self.buf.len() + n - 2, 0);
        } else {
            // An 8-byte size, so that any length from 10 up fits exactly.
            self.buf.extend_from_slice(&size8((n - 9) as u64).unwrap_or(UNKNOWN_SIZE));
            self.buf.resize(self.buf.len() + n - 9, 0);
        }
    }
}

pub use crate::mkv::ids::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sizes_and_numbers() {
        let mut e = Ebml::default();
        e.id(SEGMENT);
        e.id(TRACK_NUMBER);
        assert_eq!(e.buf, [0x18, 0x53, 0x80, 0x67, 0xD7]);
        let sized = |n| {
            let mut e = Ebml::default();
            e.size(n);
            e.buf
        };
        assert_eq!(sized(0), [0x80]);
        assert_eq!(sized(126), [0xFE]);
        assert_eq!(sized(127), [0x40, 0x7F]); // 0xFF would mean unknown
        assert_eq!(sized(16382), [0x7F, 0xFE]);
        let mut e = Ebml::default();
        e.uint(TRACK_NUMBER, 0);
        e.uint(TIMESTAMP, 0x1234);
        e.int(REFERENCE_BLOCK, -40);
        e.int(REFERENCE_BLOCK, 200);
        assert_eq!(e.buf, [0xD7, 0x81, 0, 0xE7, 0x82, 0x12, 0x34, 0xFB, 0x81, 0xD8, 0xFB, 0x82, 0x00, 0xC8]);
        for n in [2, 3, 128, 129, 130, 1000] {
            let mut e = Ebml::default();
            e.void(n);
            assert_eq!(e.buf.len(), n, "void of {n}");
        }
        assert_eq!(size8(5).unwrap(), [1, 0, 0, 0, 0, 0, 0, 5]);
    }
}
