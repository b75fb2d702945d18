//! The chunks of an AVI file's `movi` lists where no OpenDML index gives them
//! ([`super::odml`]): from the legacy `idx1` index where the file has a usable one,
//! otherwise (and for OpenDML's `RIFF AVIX` follow-on lists) from a walk over the chunk
//! headers that skips the payloads.

use crate::io::{ByteSource, truncated};
use video_hw_types::error::{Error, Result};

/// `idx1` flag: the chunk is a key frame.
const AVIIF_KEYFRAME: u32 = 0x10;

/// Bytes of a chunk header (FourCC, 32-bit little-endian size).
pub(super) const HEADER: u64 = 8;

/// One stream chunk of a `movi` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Chunk {
    /// The stream number (`NN` of the chunk id `NNdc`, `NNwb`, …).
    pub stream: u32,
    /// Offset of the payload (after the 8-byte header), as ffmpeg reports packet positions.
    pub pos: u64,
    /// Bytes of payload.
    pub size: u32,
    /// The index says it is a key frame; `None` where the chunk came from a walk (the
    /// demuxer then reads the bitstream).
    pub key: Option<bool>,
}

/// The stream number of a chunk id: two ASCII digits, then the chunk type (a palette
/// change `NNpc` carries no packet).
pub(super) fn stream_of(id: [u8; 4]) -> Option<u32> {
    if !id[0].is_ascii_digit() || !id[1].is_ascii_digit() || &id[2..] == b"pc" {
        return None;
    }
    Some(u32::from(id[0] - b'0') * 10 + u32::from(id[1] - b'0'))
}

pub(super) fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// A chunk header: its id and size.
pub(super) fn header(src: &mut ByteSource, at: u64) -> Result<([u8; 4], u64)> {
    let mut h = [0u8; HEADER as usize];
    src.seek(at);
    src.read_exact(&mut h, "an AVI chunk header")?;
    Ok(([h[0], h[1], h[2], h[3]], u64::from(le32(&h[4..]))))
}

/// The chunks of the `idx1` at `at` (`size` bytes), for a `movi` list whose FourCC is at
/// `movi`: `None` where its offsets point at no chunk of the id they name, either from the
/// `movi` FourCC (the usual form) or from the file's start (some writers), so the caller
/// walks the list instead. Entries past the file's end are kept: reading them reports the
/// damage. `idx1` is cut to what the file holds (it is read whole: at most the file).
pub(super) fn from_idx1(src: &mut ByteSource, at: u64, size: u64, movi: u64) -> Result<Option<Vec<Chunk>>> {
    src.seek(at);
    let size = size.min(src.remaining()) / 16 * 16;
    let idx = src.read_vec(size, "the AVI idx1 index")?;
    let entries: Vec<(u32, u32, u32, u32)> = idx
        .chunks_exact(16)
        .filter_map(|e| {
            let id = [e[0], e[1], e[2], e[3]];
            stream_of(id).map(|s| (s, le32(&e[4..]), le32(&e[8..]), le32(&e[12..])))
        })
        .collect();
    let Some(&(_, _, first_off, _)) = entries.first() else {
        return Ok(None);
    };
    let first_id: [u8; 4] = idx
        .chunks_exact(16)
        .find(|e| stream_of([e[0], e[1], e[2], e[3]]).is_some())
        .map(|e| [e[0], e[1], e[2], e[3]])
        .unwrap_or_default();
    let mut base = None;
    for b in [movi, 0] {
        let h = u64::from(first_off) + b;
        if h + HEADER <= src.len() && header(src, h)?.0 == first_id {
            base = Some(b);
            break;
        }
    }
    let Some(base) = base else {
        return Ok(None);
    };
    Ok(Some(
        entries
            .into_iter()
            .map(|(stream, flags, off, size)| Chunk {
                stream,
                pos: u64::from(off) + base + HEADER,
                size,
                key: Some(flags & AVIIF_KEYFRAME != 0),
            })
            .collect(),
    ))
}

/// The chunks of a `movi` list whose children lie in `[start, end)`, walking the headers
/// (into `LIST rec ` groups, past `JUNK`, OpenDML `ix##` indexes and anything else that is
/// not a stream chunk). Damage (a chunk running past the list or the file, a header that
/// is not a chunk's) ends the walk: the chunks before it, and the error at its offset.
pub(super) fn walk_movi(src: &mut ByteSource, start: u64, end: u64, out: &mut Vec<Chunk>) -> Option<Error> {
    let end = end.min(src.len());
    let mut at = start;
    while at + HEADER <= end {
        let (id, size) = match header(src, at) {
            Ok(h) => h,
            Err(e) => return Some(e),
        };
        if &id == b"LIST" || &id == b"RIFF" {
            // A group (`rec `): its children follow its 4-byte type.
            at += HEADER + 4;
            continue;
        }
        if !id.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ' || *b == b'_') {
            return Some(Error::invalid_bitstream(
                at,
                format!("malformed AVI: no chunk at this offset of the movi list (id {:02x?})", id),
            ));
        }
        let payload = at + HEADER;
        if size > end - payload {
            return Some(truncated(payload, "an AVI chunk", size, end - payload));
        }
        if let Some(stream) = stream_of(id) {
            // `size` fits in u32: it came from a 32-bit field.
            out.push(Chunk { stream, pos: payload, size: size as u32, key: None });
        }
        // Chunks are padded to an even length.
        at = payload + size + (size & 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(bytes: Vec<u8>) -> ByteSource {
        ByteSource::new(Box::new(std::io::Cursor::new(bytes))).unwrap()
    }

    fn chunk(id: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend((payload.len() as u32).to_le_bytes());
        c.extend(payload);
        if payload.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    #[test]
    fn chunk_ids_name_streams() {
        assert_eq!(stream_of(*b"00dc"), Some(0));
        assert_eq!(stream_of(*b"12wb"), Some(12));
        assert_eq!(stream_of(*b"00pc"), None);
        assert_eq!(stream_of(*b"ix00"), None);
        assert_eq!(stream_of(*b"JUNK"), None);
    }

    #[test]
    fn a_walk_finds_chunks_in_groups_and_stops_at_damage() {
        let mut movi = chunk(b"00dc", &[1, 2, 3]);
        movi.extend(chunk(b"JUNK", &[0; 4]));
        let mut rec = b"LIST".to_vec();
        let inner = [chunk(b"01wb", &[9; 2]), chunk(b"00dc", &[])].concat();
        rec.extend((inner.len() as u32 + 4).to_le_bytes());
        rec.extend(b"rec ");
        rec.extend(&inner);
        movi.extend(&rec);
        let len = movi.len() as u64;
        let mut src = source(movi.clone());
        let mut out = Vec::new();
        assert!(walk_movi(&mut src, 0, len, &mut out).is_none());
        let got: Vec<(u32, u64, u32)> = out.iter().map(|c| (c.stream, c.pos, c.size)).collect();
        assert_eq!(got, [(0, 8, 3), (1, 44, 2), (0, 54, 0)]);
        // Cut inside the last stream chunk's payload: the chunks before, then where.
        let mut src = source(movi[..45].to_vec());
        let mut out = Vec::new();
        match walk_movi(&mut src, 0, len, &mut out) {
            Some(Error::InvalidBitstream { offset, reason }) => {
                assert_eq!(offset, 44);
                assert!(reason.contains("truncated"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(out.len(), 1);
        // Garbage where a header should be.
        let mut bad = chunk(b"00dc", &[1]);
        bad.extend([0xff; 12]);
        let mut out = Vec::new();
        let e = walk_movi(&mut source(bad), 0, 22, &mut out).unwrap();
        assert!(matches!(e, Error::InvalidBitstream { offset: 10, .. }), "{e}");
    }

    #[test]
    fn idx1_offsets_from_the_movi_fourcc_or_the_file_start() {
        // "movi" at 0, then two chunks; idx1 after them.
        let mut f = b"movi".to_vec();
        f.extend(chunk(b"00dc", &[1, 2]));
        f.extend(chunk(b"01wb", &[3]));
        let idx_at = f.len() as u64;
        for (base, off0, off1) in [(0u64, 4u32, 14u32), (0, 4, 14)] {
            let mut idx = Vec::new();
            for (id, flags, off, size) in [(b"00dc", 0x10u32, off0, 2u32), (b"01wb", 0, off1, 1)] {
                idx.extend(id);
                idx.extend(flags.to_le_bytes());
                idx.extend(off.to_le_bytes());
                idx.extend(size.to_le_bytes());
            }
            let mut file = f.clone();
            file.extend(&idx);
            let mut src = source(file);
            let got = from_idx1(&mut src, idx_at, 32, base).unwrap().unwrap();
            assert_eq!(got[0], Chunk { stream: 0, pos: 12, size: 2, key: Some(true) });
            assert_eq!(got[1], Chunk { stream: 1, pos: 22, size: 1, key: Some(false) });
        }
        // Offsets that point at nothing: no index (the caller walks).
        let mut file = f.clone();
        file.extend(b"00dc");
        file.extend([0x10, 0, 0, 0]);
        file.extend(999u32.to_le_bytes());
        file.extend(2u32.to_le_bytes());
        assert_eq!(from_idx1(&mut source(file), idx_at, 16, 0).unwrap(), None);
        // An idx1 whose size runs past the file: only the whole entries there are read.
        assert_eq!(from_idx1(&mut source(f.clone()), idx_at, u64::from(u32::MAX), 0).unwrap(), None);
    }
}
