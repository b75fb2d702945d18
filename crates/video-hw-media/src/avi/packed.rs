//! DivX's "packed bitstream" in AVI: MPEG-4 Part 2 with B-VOPs, stored so that every chunk
//! is one frame slot. A chunk holding an anchor (I/P-VOP) carries the B-VOP that follows it
//! in decode order too, and the slot that B-VOP would have had holds a placeholder: an
//! N-VOP (a VOP "not coded", a few bytes). DivX 5 and Xvid write it, and mark it with user
//! data `DivX...p` (start code 0xB2, the string ending in `p`).
//!
//! Read as it is, each chunk is not one picture: a decoder told nothing shows the pictures
//! in the wrong order, and a seek lands between a B-VOP and its anchor. So the demuxer
//! unpacks the stream into one VOP a packet, as ffmpeg's `mpeg4_unpack_bframes` filter
//! does: a chunk with two VOPs gives its first; its second (the B-VOP) is given in place of
//! the next one-VOP chunk, which is then kept for the slot after, or dropped where it is
//! the placeholder. Every piece is a byte range of the file, so packets stay reads of the
//! file, and the B-VOP takes the timestamps of the slot it is given in.

use crate::io::ByteSource;
use memchr::memmem;
use tracing::debug;
use video_hw_types::error::Result;

/// The most bytes of an N-VOP placeholder (ffmpeg's `MAX_NVOP_SIZE`): a one-VOP chunk this
/// small that a stored B-VOP takes the place of is dropped rather than kept for the next
/// slot.
const MAX_NVOP_SIZE: u32 = 19;

/// The most bytes of DivX user data searched for its `p` (ffmpeg reads 255).
const USER_DATA_LEN: usize = 256;

/// What the unpacking needs of one chunk of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece {
    /// Payload bytes.
    pub size: u32,
    /// VOP start codes in the chunk, counted up to 2.
    pub vops: u8,
    /// Where the second VOP's start code is (bytes from the chunk's start).
    pub second: Option<u32>,
    /// The second VOP's `vop_coding_type` (0 I, 1 P, 2 B, 3 S).
    pub second_kind: Option<u8>,
}

/// What the packet given in one chunk's slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Give {
    /// The chunk itself, whole.
    Whole,
    /// The chunk's first VOP: bytes `[0, n)` (its second is kept for a later slot).
    First(u32),
    /// The B-VOP kept from chunk `from`: its bytes `[at, at + len)`.
    Kept { from: usize, at: u32, len: u32 },
}

/// Whether `data` carries DivX user data that marks a packed bitstream: a user data start
/// code (0xB2) whose text ends in `p` before its NUL or the next start code.
pub(super) fn marked(data: &[u8]) -> bool {
    memmem::find_iter(data, &[0, 0, 1, 0xb2]).any(|at| {
        let text = &data[at + 4..data.len().min(at + 4 + USER_DATA_LEN)];
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        text[..end].starts_with(b"DivX") && text[..end].ends_with(b"p")
    })
}

/// The VOP start codes of one chunk's bytes.
pub(super) fn piece(data: &[u8]) -> Piece {
    let mut starts = memmem::find_iter(data, &[0, 0, 1, 0xb6]);
    let first = starts.next();
    let second = starts.next();
    let vops = u8::from(first.is_some()) + u8::from(second.is_some());
    let second_kind = second.and_then(|s| super::vop_type(&data[s..]));
    Piece { size: data.len() as u32, vops, second: second.map(|s| s as u32), second_kind }
}

/// Each chunk's slot's packet, in the order of `pieces` (one stream's non-empty chunks).
///
/// Where a chunk with two VOPs comes while a B-VOP is still kept (a placeholder missing),
/// the kept one is dropped, as ffmpeg's filter drops it; so is a B-VOP still kept after the
/// last chunk (no slot is left for it).
pub(super) fn unpack(pieces: &[Piece]) -> Vec<Give> {
    let mut out = Vec::with_capacity(pieces.len());
    // The B-VOP waiting for a slot: (chunk, offset, length).
    let mut kept: Option<(usize, u32, u32)> = None;
    for (i, p) in pieces.iter().enumerate() {
        if let Some(second) = p.second {
            if let Some((from, ..)) = kept {
                debug!(
                    chunk = from,
                    "AVI packed MPEG-4: a placeholder is missing; one B-VOP is dropped, as ffmpeg drops it"
                );
            }
            kept = Some((i, second, p.size - second));
            out.push(Give::First(second));
        } else if p.vops == 1
            && let Some((from, at, len)) = kept.take()
        {
            out.push(Give::Kept { from, at, len });
            if p.size > MAX_NVOP_SIZE {
                kept = Some((i, 0, p.size));
            }
        } else {
            out.push(Give::Whole);
        }
    }
    if let Some((from, ..)) = kept {
        debug!(chunk = from, "AVI packed MPEG-4: the last B-VOP has no slot left and is dropped, as ffmpeg drops it");
    }
    out
}

/// The pieces of the chunks at `(pos, size)`, each read whole: where a second VOP starts is
/// anywhere in the chunk (a packed stream's chunks are read once at open for it).
pub(super) fn pieces(src: &mut ByteSource, chunks: &[(u64, u32)]) -> Result<Vec<Piece>> {
    let len = src.len();
    let mut out = Vec::with_capacity(chunks.len());
    for &(pos, size) in chunks {
        let n = u64::from(size).min(len.saturating_sub(pos));
        src.seek(pos);
        let data = src.read_vec(n, "an AVI chunk")?;
        out.push(Piece { size, ..piece(&data) });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(size: u32, vops: u8, second: Option<u32>) -> Piece {
        Piece { size, vops, second, second_kind: second.map(|_| 2) }
    }

    #[test]
    fn user_data_ending_in_p_marks_a_packed_stream() {
        assert!(marked(b"\0\0\x01\xb2DivX503b1393p\0\0\0\x01\xb2XviD0069\0\0\x01\xb6"));
        assert!(marked(b"\0\0\x01\xb2DivX999b000p"));
        assert!(!marked(b"\0\0\x01\xb2DivX503b1393\0\0\0\x01\xb6"));
        assert!(!marked(b"\0\0\x01\xb2XviD0069p\0"));
        assert!(!marked(b"DivX503b1393p"));
        assert!(!marked(b""));
    }

    #[test]
    fn vop_start_codes_are_counted_to_two() {
        let two = [&[0u8, 0, 1, 0xb6, 0x40, 9, 9][..], &[0, 0, 1, 0xb6, 0x80, 7]].concat();
        assert_eq!(piece(&two), p(13, 2, Some(7)));
        let three = [&two[..], &[0, 0, 1, 0xb6, 0x80]].concat();
        assert_eq!(piece(&three), p(18, 2, Some(7)));
        assert_eq!(piece(&[0, 0, 1, 0xb6, 0x40]), p(5, 1, None));
        // A second start code at the very end: no type byte to read.
        assert_eq!(piece(&[0, 0, 1, 0xb6, 0x40, 0, 0, 1, 0xb6]).second_kind, None);
        assert_eq!(piece(&[0, 0, 1, 0xb2, b'D']), p(5, 0, None));
    }

    #[test]
    fn two_b_vops_between_anchors_unpack_as_ffmpeg_unpacks_them() {
        // Chunks: I, P+B, B, N-VOP, P+B, B, N-VOP (Xvid with 2 B-frames).
        let pieces = [
            p(3000, 1, None),
            p(2000, 2, Some(1500)),
            p(600, 1, None),
            p(6, 1, None),
            p(2100, 2, Some(1600)),
            p(700, 1, None),
            p(6, 1, None),
        ];
        assert_eq!(
            unpack(&pieces),
            [
                Give::Whole,
                Give::First(1500),
                Give::Kept { from: 1, at: 1500, len: 500 },
                Give::Kept { from: 2, at: 0, len: 600 },
                Give::First(1600),
                Give::Kept { from: 4, at: 1600, len: 500 },
                Give::Kept { from: 5, at: 0, len: 700 },
            ]
        );
    }

    #[test]
    fn a_missing_placeholder_or_a_last_b_vop_is_dropped_and_unpacked_streams_pass() {
        // P+B, then P+B again: the first B-VOP has no slot.
        let pieces = [p(100, 1, None), p(90, 2, Some(60)), p(80, 2, Some(50)), p(5, 1, None)];
        assert_eq!(
            unpack(&pieces),
            [Give::Whole, Give::First(60), Give::First(50), Give::Kept { from: 2, at: 50, len: 30 }]
        );
        assert_eq!(unpack(&[p(100, 1, None), p(90, 2, Some(60))]), [Give::Whole, Give::First(60)]);
        // Nothing packed: every chunk whole, placeholders too.
        let plain = [p(100, 1, None), p(6, 1, None), p(0, 0, None), p(50, 1, None)];
        assert_eq!(unpack(&plain), [Give::Whole; 4]);
    }
}
