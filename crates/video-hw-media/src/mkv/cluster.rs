//! Clusters and blocks: a forward scan over the Segment's children that enters each
//! Cluster (of known or unknown size), reads SimpleBlocks and BlockGroups, and gives
//! each block's header and the place and size of every frame in it (lacing undone)
//! without reading the frames' bytes. Reading packets and building packet tables both
//! drive it; the first reads the frames afterwards, the second never does.

use super::ebml::{
    self, Header, header_cut, is_upper_level, malformed, name, parse_header, read_header, uint, vint_value,
};
use crate::io::ByteSource;
use video_hw_types::error::{Error, Result};

/// The longest block header with its lace sizes read (Xiph lacing of 256 large frames
/// needs a few hundred bytes per megabyte of frames; more than this is not a real file).
const MAX_BLOCK_HEAD: u64 = 256 << 10;

/// Bytes looked at for an element header (12 at most) and the track number of a block
/// behind it (8 at most).
const HEADER_WINDOW: usize = 20;

/// Bytes looked at first for a block's header: the track number, timestamp, flags and
/// the lace sizes of a typical laced audio block.
const FIRST_BLOCK_HEAD: u64 = 64;

/// Where the Segment's data lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentBounds {
    /// Offset of the Segment element.
    pub start: u64,
    /// Offset of its first child.
    pub data: u64,
    /// Offset after its data, when its size is known (it may lie past the file's end
    /// when the file was cut).
    pub end: Option<u64>,
}

/// One block: whose it is, where it is, its timing and whether decoding may start at it.
/// Its frames are in [`Scanner::frames`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// The `TrackNumber` it belongs to.
    pub track: u64,
    /// Offset of the block's data (its track number), the packet position ffprobe gives.
    pub body: u64,
    /// Offset after the block.
    pub end: u64,
    /// Offset of the Cluster element holding it.
    pub cluster: u64,
    /// Cluster timestamp plus the block's signed relative timestamp, in ticks.
    pub timestamp: i64,
    /// SimpleBlock keyframe flag; for a Block, no ReferenceBlock beside it.
    pub keyframe: bool,
    /// The BlockGroup's BlockDuration, in ticks.
    pub duration: Option<u64>,
    /// The BlockGroup's DiscardPadding: nanoseconds of decoded audio to drop at its end.
    pub discard_padding: i64,
}

#[derive(Debug, Clone, Copy)]
struct ClusterState {
    start: u64,
    end: Option<u64>,
    timestamp: i64,
}

/// A forward scan over the Segment: where it is, the Cluster it is in, and the frames
/// of the block it read last.
#[derive(Debug)]
pub struct Scanner {
    pos: u64,
    cluster: Option<ClusterState>,
    done: bool,
    /// The last block's frames: (offset of the first byte, size).
    pub frames: Vec<(u64, u32)>,
}

/// What the start of a block says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockHead {
    /// The bytes given end inside the header or the lace sizes.
    NeedMore,
    /// A block of a track not wanted (its frames were not read).
    Skip,
    /// A block: its track, relative timestamp and flags; the frames were filled in.
    Block { track: u64, timecode: i16, flags: u8 },
}

impl Scanner {
    /// A scan starting at `pos`, a child of the Segment.
    pub fn new(pos: u64) -> Self {
        Scanner { pos, cluster: None, done: false, frames: Vec::new() }
    }

    /// Starts again at `pos`, a child of the Segment.
    pub fn reset(&mut self, pos: u64) {
        *self = Scanner { frames: std::mem::take(&mut self.frames), ..Scanner::new(pos) };
    }

    /// Ends the scan: the next block is `Ok(None)`.
    pub fn finish(&mut self) {
        self.done = true;
    }

    /// The next block of a track `want` accepts, its frames in [`frames`](Self::frames);
    /// `Ok(None)` at the end. Damage is returned once, after which the scan is done.
    pub fn next_block(
        &mut self,
        src: &mut ByteSource,
        seg: &SegmentBounds,
        want: &dyn Fn(u64) -> bool,
    ) -> Result<Option<BlockInfo>> {
        if self.done {
            return Ok(None);
        }
        let r = self.step(src, seg, want);
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    fn step(
        &mut self,
        src: &mut ByteSource,
        seg: &SegmentBounds,
        want: &dyn Fn(u64) -> bool,
    ) -> Result<Option<BlockInfo>> {
        // Every pass either moves `pos` forward by at least an element header or leaves
        // the cluster it is in (which entering it had moved past), so the loop ends.
        loop {
            let file_len = src.len();
            if let Some(c) = self.cluster {
                if c.end.is_some_and(|end| self.pos >= end) {
                    self.cluster = None;
                    continue;
                }
                if self.pos >= file_len && c.end.is_some_and(|end| end > file_len) {
                    return Err(cut(file_len, c.start, ebml::CLUSTER, c.end.unwrap_or(0), file_len));
                }
            }
            let limit = seg.end.map_or(file_len, |e| e.min(file_len));
            if self.pos >= limit {
                return match seg.end {
                    Some(end) if end > file_len => Err(cut(file_len, seg.start, ebml::SEGMENT, end, file_len)),
                    _ => Ok(None),
                };
            }
            // The header, and the track number of a block right behind it: a scan for
            // one track skips the others' blocks without looking at them again.
            src.seek(self.pos);
            let window = src.peek(HEADER_WINDOW)?;
            let Some(h) = parse_header(window, self.pos)? else {
                return Err(header_cut(self.pos, src.len()));
            };
            let block_track = match vint_value(&window[usize::from(h.header_len)..]) {
                Ok(Some((track, len))) if h.size.is_some_and(|s| s >= len as u64) => Some(track),
                _ => None,
            };
            let Some(c) = self.cluster else {
                if h.id == ebml::EBML || h.id == ebml::SEGMENT {
                    // A second Segment (a chained file) is not read.
                    return Ok(None);
                }
                check_fits(&h, seg.end, "Segment")?;
                match (h.id, h.end()) {
                    (ebml::CLUSTER, end) => {
                        self.cluster = Some(ClusterState { start: h.start, end, timestamp: 0 });
                        self.pos = h.data();
                    }
                    (_, Some(end)) => self.pos = end,
                    // An unknown-size element other than a Cluster: its children are
                    // walked as if they were the Segment's, skipped unless Clusters.
                    (_, None) => self.pos = h.data(),
                }
                continue;
            };
            if is_upper_level(h.id) {
                if c.end.is_none() {
                    // The end of an unknown-size Cluster.
                    self.cluster = None;
                    continue;
                }
                return Err(malformed(
                    h.start,
                    format!("{} at {} inside the Cluster at {} of known size", name(h.id), h.start, c.start),
                ));
            }
            check_fits(&h, c.end.or(seg.end), "Cluster")?;
            let Some(end) = h.end() else {
                return Err(malformed(
                    h.start,
                    format!("{} of unknown size at {} inside a Cluster", name(h.id), h.start),
                ));
            };
            if end > file_len && matches!(h.id, ebml::SIMPLE_BLOCK | ebml::BLOCK_GROUP | ebml::TIMESTAMP) {
                return Err(cut(h.start, h.start, h.id, end, file_len));
            }
            self.pos = end;
            match h.id {
                ebml::TIMESTAMP => {
                    let t = read_uint(src, &h)?;
                    let ts = i64::try_from(t).unwrap_or(i64::MAX);
                    self.cluster = Some(ClusterState { timestamp: ts, ..c });
                }
                ebml::SIMPLE_BLOCK if block_track.is_some_and(|t| !want(t)) => {}
                ebml::SIMPLE_BLOCK => {
                    if let Some((track, timecode, flags)) = self.block(src, &h, want)? {
                        return Ok(Some(BlockInfo {
                            track,
                            body: h.data(),
                            end,
                            cluster: c.start,
                            timestamp: c.timestamp.saturating_add(i64::from(timecode)),
                            keyframe: flags & 0x80 != 0,
                            duration: None,
                            discard_padding: 0,
                        }));
                    }
                }
                ebml::BLOCK_GROUP => {
                    if let Some(b) = self.group(src, &h, &c, want)? {
                        return Ok(Some(b));
                    }
                }
                _ => {}
            }
        }
    }

    /// A BlockGroup: its Block, BlockDuration and whether it has a ReferenceBlock.
    fn group(
        &mut self,
        src: &mut ByteSource,
        g: &Header,
        c: &ClusterState,
        want: &dyn Fn(u64) -> bool,
    ) -> Result<Option<BlockInfo>> {
        let end = g.end().unwrap_or(g.data());
        let mut pos = g.data();
        let mut block: Option<(Header, u64, i16)> = None;
        let (mut duration, mut referenced, mut discard_padding) = (None, false, 0i64);
        while pos < end {
            let h = read_header(src, pos)?;
            check_fits(&h, Some(end), "BlockGroup")?;
            let Some(child_end) = h.end() else {
                return Err(malformed(h.start, format!("{} of unknown size inside a BlockGroup", name(h.id))));
            };
            match h.id {
                ebml::BLOCK if block.is_none() => match self.block(src, &h, want)? {
                    Some((track, timecode, _)) => block = Some((h, track, timecode)),
                    // Not a wanted track: nothing else in the group matters.
                    None => return Ok(None),
                },
                ebml::BLOCK_DURATION => duration = Some(read_uint(src, &h)?),
                ebml::REFERENCE_BLOCK => referenced = true,
                ebml::DISCARD_PADDING => {
                    // A signed integer, big-endian, of `size` bytes.
                    let size = h.size.unwrap_or(0);
                    let v = read_uint(src, &h)?;
                    discard_padding = if size == 0 || size >= 8 {
                        v as i64
                    } else {
                        ((v << (64 - 8 * size)) as i64) >> (64 - 8 * size)
                    };
                }
                _ => {}
            }
            pos = child_end;
        }
        Ok(block.map(|(h, track, timecode)| BlockInfo {
            track,
            body: h.data(),
            end: h.end().unwrap_or(end),
            cluster: c.start,
            timestamp: c.timestamp.saturating_add(i64::from(timecode)),
            keyframe: !referenced,
            duration,
            discard_padding,
        }))
    }

    /// Reads the header of the SimpleBlock or Block `h` and, for a wanted track, its
    /// frames into [`frames`](Self::frames): (track, relative timestamp, flags).
    fn block(
        &mut self,
        src: &mut ByteSource,
        h: &Header,
        want: &dyn Fn(u64) -> bool,
    ) -> Result<Option<(u64, i16, u8)>> {
        let size = h.size.unwrap_or(0);
        let mut n = FIRST_BLOCK_HEAD.min(size);
        loop {
            src.seek(h.data());
            let b = src.peek(n as usize)?;
            if (b.len() as u64) < n {
                return Err(cut(h.start, h.start, h.id, h.data() + size, src.len()));
            }
            let head = parse_block_head(b, size, h.data(), want, &mut self.frames)
                .map_err(|why| malformed(h.start, format!("{} at {}: {why}", name(h.id), h.start)))?;
            match head {
                BlockHead::Skip => return Ok(None),
                BlockHead::Block { track, timecode, flags } => return Ok(Some((track, timecode, flags))),
                BlockHead::NeedMore if n < size.min(MAX_BLOCK_HEAD) => n = (n * 16).min(size).min(MAX_BLOCK_HEAD),
                BlockHead::NeedMore => {
                    return Err(malformed(
                        h.start,
                        format!("{} at {}: lace sizes longer than {MAX_BLOCK_HEAD} bytes", name(h.id), h.start),
                    ));
                }
            }
        }
    }

    /// Starts the scan at the Cluster element at `pos` (for a seek); an error when there
    /// is none there.
    pub fn enter_cluster(&mut self, src: &mut ByteSource, seg: &SegmentBounds, pos: u64) -> Result<()> {
        let limit = seg.end.map_or(src.len(), |e| e.min(src.len()));
        if pos < seg.data || pos >= limit {
            return Err(Error::invalid_input(format!("no Cluster at {pos}: outside the Segment")));
        }
        let h = read_header(src, pos).map_err(|e| Error::invalid_input(format!("no Cluster at {pos}: {e}")))?;
        if h.id != ebml::CLUSTER {
            return Err(Error::invalid_input(format!("no Cluster at {pos} ({} there)", name(h.id))));
        }
        self.reset(pos);
        Ok(())
    }
}

/// Fails when `h` runs past `parent_end` (the end of the element holding it).
fn check_fits(h: &Header, parent_end: Option<u64>, parent: &str) -> Result<()> {
    match (h.end(), parent_end) {
        (Some(end), Some(p)) if end > p => Err(malformed(
            h.start,
            format!(
                "{} at {} of {} bytes ends at {end}, past the end of its parent {parent} at {p}",
                name(h.id),
                h.start,
                h.size.unwrap_or(0)
            ),
        )),
        _ => Ok(()),
    }
}

/// The error, at `offset`, for the element at `start` that the end of the file cuts:
/// a block's own offset, or the file's end for the Cluster or Segment around it.
fn cut(offset: u64, start: u64, id: u32, end: u64, file_len: u64) -> Error {
    malformed(offset, format!("truncated: {} at {start} ends at {end}, the file at {file_len}", name(id)))
}

/// An unsigned integer element read from `src` (at most 8 bytes).
fn read_uint(src: &mut ByteSource, h: &Header) -> Result<u64> {
    let size = h.size.unwrap_or(0);
    if size > 8 {
        return Err(malformed(h.start, format!("{} of {size} bytes (an integer)", name(h.id))));
    }
    src.seek(h.data());
    let b = src.peek(size as usize)?;
    if (b.len() as u64) < size {
        return Err(cut(h.start, h.start, h.id, h.data() + size, src.len()));
    }
    uint(b, h.data())
}

/// Reads a block's header from `b`, the first bytes of its data (at file offset `base`;
/// `size` bytes in all): the track number, and for a track `want` accepts the relative
/// timestamp, the flags and every frame's offset and size (`frames`, lacing undone).
///
/// Lacing: Xiph (sizes as runs of 255s), EBML (a size, then signed differences) and
/// fixed (equal sizes); the last frame takes what is left. Every frame of a fixed lace
/// must hold a byte, so that no block makes more frames than it has bytes.
pub fn parse_block_head(
    b: &[u8],
    size: u64,
    base: u64,
    want: &dyn Fn(u64) -> bool,
    frames: &mut Vec<(u64, u32)>,
) -> std::result::Result<BlockHead, String> {
    let whole = b.len() as u64 >= size;
    let short =
        |what: &str| if whole { Err(format!("the block ends inside its {what}")) } else { Ok(BlockHead::NeedMore) };
    let Some((track, tl)) = vint_value(b).map_err(str::to_string)? else { return short("track number") };
    if !want(track) {
        return Ok(BlockHead::Skip);
    }
    if b.len() < tl + 3 {
        return short("header");
    }
    let timecode = i16::from_be_bytes([b[tl], b[tl + 1]]);
    let flags = b[tl + 2];
    let mut at = tl + 3;
    frames.clear();
    let lacing = (flags >> 1) & 3;
    if lacing == 0 {
        frames.push((base + at as u64, frame_size(size - at as u64)?));
        return Ok(BlockHead::Block { track, timecode, flags });
    }
    let Some(&count) = b.get(at) else { return short("lace count") };
    let count = usize::from(count) + 1;
    at += 1;
    // Sizes of all frames but the last.
    let mut sizes: Vec<u64> = Vec::with_capacity(count);
    match lacing {
        1 => {
            for _ in 1..count {
                let mut s = 0u64;
                loop {
                    let Some(&x) = b.get(at) else { return short("Xiph lace sizes") };
                    at += 1;
                    s += u64::from(x);
                    if x != 255 {
                        break;
                    }
                }
                sizes.push(s);
            }
        }
        3 => {
            let mut prev = 0i128;
            for i in 1..count {
                let Some((raw, len)) = vint_value(&b[at.min(b.len())..]).map_err(str::to_string)? else {
                    return short("EBML lace sizes");
                };
                at += len;
                let s = if i == 1 { i128::from(raw) } else { prev + i128::from(raw) - ((1i128 << (7 * len - 1)) - 1) };
                if s < 0 {
                    return Err(format!("EBML lace size of frame {i} is negative ({s})"));
                }
                prev = s;
                sizes.push(s.min(u64::MAX as i128) as u64);
            }
        }
        _ => {
            let data = size.saturating_sub(at as u64);
            if !data.is_multiple_of(count as u64) {
                return Err(format!("{data} bytes do not split into {count} equal frames (fixed lacing)"));
            }
            if data < count as u64 {
                return Err(format!("fixed lacing of {count} empty frames"));
            }
            sizes.resize(count - 1, data / count as u64);
        }
    }
    if at as u64 > size {
        return Err("the lace sizes run past the block".into());
    }
    let mut left = size - at as u64;
    let mut off = base + at as u64;
    for (i, s) in sizes.into_iter().enumerate() {
        if s > left {
            return Err(format!("laced frame {i} of {s} bytes, {left} bytes left in the block"));
        }
        frames.push((off, frame_size(s)?));
        off += s;
        left -= s;
    }
    frames.push((off, frame_size(left)?));
    Ok(BlockHead::Block { track, timecode, flags })
}

fn frame_size(n: u64) -> std::result::Result<u32, String> {
    u32::try_from(n).map_err(|_| format!("a frame of {n} bytes (at most 4 GiB)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(b: &[u8], want: bool) -> (std::result::Result<BlockHead, String>, Vec<(u64, u32)>) {
        let mut frames = Vec::new();
        let r = parse_block_head(b, b.len() as u64, 1000, &|_| want, &mut frames);
        (r, frames)
    }

    #[test]
    fn plain_block() {
        let b = [0x81, 0xff, 0xfe, 0x80, 1, 2, 3];
        let (r, f) = head(&b, true);
        assert_eq!(r, Ok(BlockHead::Block { track: 1, timecode: -2, flags: 0x80 }));
        assert_eq!(f, vec![(1004, 3)]);
        assert_eq!(head(&b, false).0, Ok(BlockHead::Skip));
        // Cut inside the header: more is needed, or, with the whole block, an error.
        let mut frames = Vec::new();
        assert_eq!(parse_block_head(&b[..2], 7, 0, &|_| true, &mut frames), Ok(BlockHead::NeedMore));
        assert!(parse_block_head(&b[..2], 2, 0, &|_| true, &mut frames).is_err());
    }

    #[test]
    fn xiph_lacing() {
        // 3 frames: 300 (255 + 45), 2, and the rest (4).
        let mut b = vec![0x82, 0, 0, 0x02, 2, 255, 45, 2];
        let data_at = b.len() as u64;
        b.extend(vec![7u8; 306]);
        let (r, f) = head(&b, true);
        assert_eq!(r, Ok(BlockHead::Block { track: 2, timecode: 0, flags: 2 }));
        assert_eq!(f, vec![(1000 + data_at, 300), (1000 + data_at + 300, 2), (1000 + data_at + 302, 4)]);
        // Sizes larger than the block.
        let (r, _) = head(&[0x82, 0, 0, 0x02, 1, 200, 1, 0], true);
        assert!(r.unwrap_err().contains("laced frame 0"));
    }

    #[test]
    fn ebml_lacing() {
        // 4 frames: 500, 500 - 3 = 497, 497 + 10 = 507, rest 6.
        let mut b = vec![0x81, 0, 10, 0x06, 3, 0x41, 0xf4];
        // -3 as a 1-byte signed difference: raw = -3 + 63 = 60; +10 as 2 bytes: raw = 10 + 8191.
        b.push(0x80 | 60);
        let two = 10u16 + 8191;
        b.extend([0x40 | (two >> 8) as u8, two as u8]);
        let data_at = b.len() as u64;
        b.extend(vec![0u8; 500 + 497 + 507 + 6]);
        let (r, f) = head(&b, true);
        assert_eq!(r, Ok(BlockHead::Block { track: 1, timecode: 10, flags: 6 }));
        let sizes: Vec<u32> = f.iter().map(|x| x.1).collect();
        assert_eq!(sizes, vec![500, 497, 507, 6]);
        assert_eq!(f[0].0, 1000 + data_at);
        assert_eq!(f[3].0, 1000 + data_at + 1504);
        // A difference that goes below zero.
        let (r, _) = head(&[0x81, 0, 0, 0x06, 2, 0x81, 0x80, 9, 9], true);
        assert!(r.unwrap_err().contains("negative"));
    }

    #[test]
    fn fixed_lacing() {
        let mut b = vec![0x81, 0, 0, 0x84, 3];
        b.extend([1u8; 8]);
        let (r, f) = head(&b, true);
        assert_eq!(r, Ok(BlockHead::Block { track: 1, timecode: 0, flags: 0x84 }));
        assert_eq!(f, vec![(1005, 2), (1007, 2), (1009, 2), (1011, 2)]);
        b.push(1);
        assert!(head(&b, true).0.unwrap_err().contains("equal frames"));
        // 256 empty frames from a 5-byte block: refused.
        assert!(head(&[0x81, 0, 0, 0x04, 255], true).0.unwrap_err().contains("empty"));
    }
}
