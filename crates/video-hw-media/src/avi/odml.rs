//! OpenDML (AVI 2.0) indexes. Each stream's `strl` may hold a super index (`indx`,
//! `AVI_INDEX_OF_INDEXES`) listing standard indexes (`ix##` chunks, `AVI_INDEX_OF_CHUNKS`,
//! one per RIFF list as muxers write them), which together locate every chunk of the
//! stream in every RIFF list: files past 1 GiB carry their whole index only so (their
//! `idx1` covers the first RIFF list). An `indx` may also be a standard index itself.
//!
//! Everything is checked before it is trusted: sizes and counts against the bytes that
//! hold them, chunk ids against the stream, each standard index's first entry against
//! the chunk header it points at (as `from_idx1` checks its first), entries in file order
//! inside a `movi` list, every `movi` list covered, and no more entries than the file has
//! bytes for (allocations stay within the file's size). Any failure is an error at its
//! offset, and the caller reads `idx1` or walks the lists instead.

use super::chunks::{self, Chunk, HEADER, le32, stream_of};
use crate::io::ByteSource;
use video_hw_types::error::{Error, Result};

/// `bIndexType` of a super index: its entries locate standard indexes.
const INDEX_OF_INDEXES: u8 = 0x00;
/// `bIndexType` of a standard index: its entries locate chunks.
const INDEX_OF_CHUNKS: u8 = 0x01;
/// Bytes of the fields before an index's entries (both kinds).
const INDEX_HEADER: usize = 24;
/// A standard index entry's size has this bit set for a chunk that is not a key frame.
const DELTA_FRAME: u32 = 1 << 31;

/// One stream's `indx`.
pub(super) struct SuperIndex {
    /// The stream's number (its `strl`'s place in the header list).
    pub stream: u32,
    /// The file offset of the payload.
    pub at: u64,
    /// The payload.
    pub bytes: Vec<u8>,
}

fn malformed(at: u64, what: impl std::fmt::Display) -> Error {
    Error::invalid_bitstream(at, format!("malformed AVI OpenDML index: {what}"))
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The fields every index starts with: `wLongsPerEntry`, `bIndexSubType`, `bIndexType`,
/// `nEntriesInUse` (checked against the bytes after the header) and `dwChunkId`
/// (checked to name `stream`); `bytes` is the index's payload, at file offset `at`.
fn index_header(bytes: &[u8], at: u64, stream: u32) -> Result<(usize, u8, u8, usize)> {
    if bytes.len() < INDEX_HEADER {
        return Err(malformed(at, format!("an index of {} bytes ({INDEX_HEADER} at least)", bytes.len())));
    }
    let longs = usize::from(le16(bytes));
    let (sub, kind) = (bytes[2], bytes[3]);
    let n = le32(&bytes[4..]) as usize;
    let id = [bytes[8], bytes[9], bytes[10], bytes[11]];
    if stream_of(id) != Some(stream) {
        return Err(malformed(at + 8, format!("stream {stream}'s index names chunk id '{}'", id.escape_ascii())));
    }
    if longs == 0 || n > (bytes.len() - INDEX_HEADER) / (longs * 4) {
        return Err(malformed(at, format!("{n} entries of {} bytes in an index of {} bytes", longs * 4, bytes.len())));
    }
    Ok((longs, sub, kind, n))
}

/// Whether a chunk id is stream `stream`'s standard index: `ix##` (or `##ix`).
fn is_standard_index(id: [u8; 4], stream: u32) -> bool {
    let digits =
        |d: &[u8]| d.iter().all(u8::is_ascii_digit) && u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0') == stream;
    (&id[..2] == b"ix" && digits(&id[2..])) || (&id[2..] == b"ix" && digits(&id[..2]))
}

/// Reads the indexes; `movi` is each `movi` list's children's `[start, end)`.
struct Reader<'a> {
    src: &'a mut ByteSource,
    movi: &'a [(u64, u64)],
    /// Entries still allowed: one per 8 bytes of the file.
    budget: u64,
    /// Chunks found in each `movi` list.
    covered: Vec<usize>,
}

impl Reader<'_> {
    /// The `movi` list whose children hold a chunk header ending at `pos` (the lists come
    /// in file order: a binary search, so that many lists cost no more than a few).
    fn list_of(&self, pos: u64) -> Option<usize> {
        let header = pos.checked_sub(HEADER)?;
        let after = self.movi.partition_point(|&(start, _)| start <= header);
        let list = after.checked_sub(1)?;
        (pos <= self.movi[list].1).then_some(list)
    }

    /// The chunks a standard index (`bytes`, its payload at `at`) of `stream` lists, in
    /// file order from `next` on (where the stream's previous chunk's payload ends, plus
    /// a header; moved past each chunk).
    fn standard(&mut self, bytes: &[u8], at: u64, stream: u32, next: &mut u64, out: &mut Vec<Chunk>) -> Result<()> {
        let (longs, sub, kind, n) = index_header(bytes, at, stream)?;
        // Two longs an entry; three in a field index (sub-type 1: a second field's offset).
        if kind != INDEX_OF_CHUNKS || !matches!((longs, sub), (2, 0) | (3, 1)) {
            return Err(malformed(
                at,
                format!("a standard index of type {kind}, sub-type {sub}, {longs} longs an entry"),
            ));
        }
        if n as u64 > self.budget {
            return Err(malformed(at, format!("{n} entries: more than the file holds chunks")));
        }
        self.budget -= n as u64;
        let base = le64(&bytes[12..]);
        let first = out.len();
        for (i, e) in bytes[INDEX_HEADER..].chunks_exact(longs * 4).take(n).enumerate() {
            let entry_at = at + (INDEX_HEADER + i * longs * 4) as u64;
            let raw = le32(&e[4..]);
            let size = raw & !DELTA_FRAME;
            let pos = base.checked_add(u64::from(le32(e))).filter(|&p| p >= *next);
            let Some(pos) = pos else {
                return Err(malformed(entry_at, "an entry before the stream's previous chunk"));
            };
            // Its header inside a movi list (an empty chunk may end one; a chunk past a cut
            // file's end is kept: reading it reports the damage, as with idx1).
            let Some(list) = self.list_of(pos) else {
                return Err(malformed(entry_at, format!("an entry at {pos}, in no movi list")));
            };
            self.covered[list] += 1;
            *next = pos + u64::from(size) + HEADER;
            out.push(Chunk { stream, pos, size, key: Some(raw & DELTA_FRAME == 0) });
        }
        // The first entry must point just past a header of this stream's chunk of its size.
        if let Some(c) = out.get(first) {
            let id_at = c.pos - HEADER;
            let header = if id_at + HEADER <= self.src.len() { Some(chunks::header(self.src, id_at)?) } else { None };
            match header {
                Some((id, size)) if stream_of(id) == Some(stream) && size == u64::from(c.size) => {}
                _ => {
                    return Err(malformed(
                        at,
                        format!("its first entry points at no chunk of stream {stream} ({id_at})"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The chunks of one stream's `indx`.
    fn stream(&mut self, indx: &SuperIndex, out: &mut Vec<Chunk>) -> Result<()> {
        let (bytes, at, stream) = (&indx.bytes[..], indx.at, indx.stream);
        let (longs, sub, kind, n) = index_header(bytes, at, stream)?;
        // Past a first chunk header at 0 at least, so that every entry has its header.
        let mut next = HEADER;
        if kind == INDEX_OF_CHUNKS {
            return self.standard(bytes, at, stream, &mut next, out);
        }
        if kind != INDEX_OF_INDEXES || longs != 4 || sub != 0 {
            return Err(malformed(at, format!("a super index of type {kind}, sub-type {sub}, {longs} longs an entry")));
        }
        // Where the previous standard index ended: they come in file order, apart.
        let mut next_free = 0u64;
        for (i, e) in bytes[INDEX_HEADER..].chunks_exact(16).take(n).enumerate() {
            let ix = le64(e);
            if ix < next_free || ix.checked_add(HEADER).is_none_or(|end| end > self.src.len()) {
                let entry_at = at + (INDEX_HEADER + 16 * i) as u64;
                return Err(malformed(
                    entry_at,
                    format!("a standard index at {ix}: before the previous one's end or past the file's"),
                ));
            }
            let (id, size) = chunks::header(self.src, ix)?;
            if !is_standard_index(id, stream) {
                return Err(malformed(
                    ix,
                    format!("no standard index of stream {stream} here (id '{}')", id.escape_ascii()),
                ));
            }
            let payload = self.src.read_vec(size, "an AVI OpenDML standard index")?;
            next_free = ix + HEADER + size;
            self.standard(&payload, ix + HEADER, stream, &mut next, out)?;
        }
        Ok(())
    }
}

/// The chunks of every stream from their OpenDML indexes (`indexes`, one per stream that
/// has one, of `streams` in all), for `movi` lists whose children lie in the `[start, end)`
/// of `movi`: `Ok(None)` where not every stream has an index or none lists a chunk (then
/// the file has none to use); an error, at its offset, where they are damaged or do not
/// cover every `movi` list.
pub(super) fn chunks(
    src: &mut ByteSource,
    indexes: &[SuperIndex],
    streams: usize,
    movi: &[(u64, u64)],
) -> Result<Option<Vec<Chunk>>> {
    if indexes.is_empty() || indexes.len() < streams {
        return Ok(None);
    }
    let mut r = Reader { budget: src.len() / HEADER, src, movi, covered: vec![0; movi.len()] };
    let mut out = Vec::new();
    for indx in indexes {
        r.stream(indx, &mut out)?;
    }
    if out.is_empty() {
        return Ok(None);
    }
    if let Some(list) = r.covered.iter().position(|&n| n == 0) {
        return Err(malformed(movi[list].0, "the indexes list no chunk of this movi list"));
    }
    Ok(Some(out))
}
