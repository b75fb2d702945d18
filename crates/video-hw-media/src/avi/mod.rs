//! AVI (RIFF `AVI `): the header list's streams ([`header`]), then the packets of the
//! `movi` lists in file order, located by OpenDML's indexes where every stream has one
//! ([`odml`]: they cover the follow-on `RIFF AVIX` lists too), else by the legacy `idx1`
//! index (the first `movi` list) and a walk over the chunk headers of the rest
//! ([`chunks`]). A damaged index is passed over for the next way.
//!
//! AVI stores no timestamps: chunk `k` of a stream is at `k` in its time base
//! (`dwScale/dwRate`), counting the empty chunks a muxer writes to skip a frame slot
//! (which carry no packet, as ffmpeg skips them); a constant-rate audio stream
//! (`dwSampleSize` > 0) counts samples instead. Video packets come in decode order: MPEG-4
//! Part 2's presentation times follow its VOP types (a B-VOP shows before the I/P-VOP
//! sent ahead of it; DivX's packed bitstreams, two VOPs in one chunk, are unpacked into one
//! VOP a packet first, as ffmpeg's `mpeg4_unpack_bframes` does: [`packed`]), H.264
//! and HEVC (Annex-B in AVI) have none, and the frame index orders their pictures by
//! their order counts. Key frames come from `idx1`'s `AVIIF_KEYFRAME` flags, or without
//! an index from the bitstream (an IDR, an I-VOP; every picture of intra-only codecs).

mod chunks;
mod header;
mod odml;
mod packed;

use super::io::{ByteSource, truncated};
use super::types::{Container, MediaPacket, PacketEntry, Track, TrackKind};
use super::{ContainerDemuxer, PacketTable};
use chunks::{Chunk, HEADER};
use header::{Stream, reduced};
use odml::SuperIndex;
use tracing::debug;
use video_hw_types::codec::Codec;
use video_hw_types::error::{Error, Result};

/// The most streams an AVI names (chunk ids number them with two digits).
const MAX_STREAMS: usize = 100;

/// The most bytes of the header list read (real ones are a few KiB).
const MAX_HEADER_LIST: u64 = 16 << 20;

/// Bytes of a video chunk read to find its picture type where no index says it.
const SNIFF_BYTES: u64 = 4096;

/// One packet: a non-empty stream chunk, with its timestamps.
#[derive(Debug, Clone, Copy)]
struct Packet {
    chunk: Chunk,
    dts: i64,
    pts: Option<i64>,
    duration: i64,
    key: bool,
}

/// An AVI file.
pub(crate) struct AviDemuxer {
    src: ByteSource,
    tracks: Vec<Track>,
    packets: Vec<Packet>,
    /// The damage that ended the walk of a `movi` list (returned after the packets).
    damage: Option<(u64, String)>,
    next: usize,
    /// Set once reading reported damage.
    done: bool,
    /// How the packets were found.
    located: Located,
}

/// How an AVI's packets were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Located {
    /// From the OpenDML indexes.
    OpenDml,
    /// From `idx1`, which covers the one `movi` list the file has.
    Idx1,
    /// Some `movi` list was walked (no index covered it): a saved frame index spares later
    /// opens that walk.
    Walk,
}

/// The top-level lists of the file.
#[derive(Default)]
struct Layout {
    /// The `hdrl` list's children: `[start, end)`.
    hdrl: Option<(u64, u64)>,
    /// Each `movi` list: the offset of its `movi` FourCC, and its children's `[start, end)`.
    movi: Vec<(u64, u64, u64)>,
    /// The `idx1` chunk's payload offset and size.
    idx1: Option<(u64, u64)>,
}

/// The file's top-level chunks: the `RIFF AVI ` list, then any `RIFF AVIX` lists, walked
/// through (a RIFF size that is wrong does not hide what follows).
fn layout(src: &mut ByteSource) -> Result<Layout> {
    let mut l = Layout::default();
    let (id, _) = chunks::header(src, 0)?;
    let mut form = [0u8; 4];
    src.read_exact(&mut form, "the AVI form type")?;
    if &id != b"RIFF" || &form != b"AVI " {
        return Err(Error::invalid_bitstream(0, "not AVI: the file does not start with RIFF....AVI "));
    }
    let len = src.len();
    let mut at = 12;
    while at + HEADER <= len {
        let (id, size) = chunks::header(src, at)?;
        let payload = at + HEADER;
        let end = payload.saturating_add(size);
        if &id == b"RIFF" {
            // A follow-on `AVIX` list: its children are top-level lists too.
            at = payload + 4;
            continue;
        }
        if &id == b"LIST" && payload + 4 <= len {
            let mut kind = [0u8; 4];
            src.read_exact(&mut kind, "an AVI list type")?;
            match &kind {
                b"hdrl" => l.hdrl = Some((payload + 4, end.min(len))),
                // A cut file's last movi runs past the end: its walk reports where.
                b"movi" => l.movi.push((payload, payload + 4, end)),
                _ => {}
            }
        } else if &id == b"idx1" {
            l.idx1 = Some((payload, size));
        }
        if end > len {
            break;
        }
        at = end + (size & 1);
    }
    Ok(l)
}

/// The streams of the `hdrl` list's children in `[start, end)`, and the OpenDML `indx` of
/// those that have one.
fn streams(src: &mut ByteSource, start: u64, end: u64) -> Result<(Vec<Stream>, Vec<SuperIndex>)> {
    // A list shorter than its own type holds nothing.
    let end = end.max(start);
    if end - start > MAX_HEADER_LIST {
        return Err(Error::invalid_bitstream(start, format!("malformed AVI: a header list of {} bytes", end - start)));
    }
    src.seek(start);
    let list = src.read_vec(end - start, "the AVI header list")?;
    let mut out = Vec::new();
    let mut indexes = Vec::new();
    let mut at = 0usize;
    while at + 12 <= list.len() && out.len() < MAX_STREAMS {
        let size = chunks::le32(&list[at + 4..]) as usize;
        let body = &list[at + 8..(at + 8).saturating_add(size).min(list.len())];
        if &list[at..at + 4] == b"LIST" && body.starts_with(b"strl") {
            let (mut strh, mut strf): (&[u8], &[u8]) = (&[], &[]);
            // A stream's first `indx` only (a second would list its chunks twice).
            let mut indexed = false;
            let mut k = 4;
            while k + 8 <= body.len() {
                let n = chunks::le32(&body[k + 4..]) as usize;
                let sub = &body[k + 8..(k + 8).saturating_add(n).min(body.len())];
                match &body[k..k + 4] {
                    b"strh" => strh = sub,
                    b"strf" => strf = sub,
                    b"indx" if !indexed => {
                        indexed = true;
                        let at = start + (at + 8 + k + 8) as u64;
                        indexes.push(SuperIndex { stream: out.len() as u32, at, bytes: sub.to_vec() });
                    }
                    _ => {}
                }
                k = (k + 8).saturating_add(n).saturating_add(n & 1);
            }
            out.push(header::stream(out.len(), strh, strf));
        }
        at = (at + 8).saturating_add(size).saturating_add(size & 1);
    }
    Ok((out, indexes))
}

/// Whether a video chunk's first bytes start a picture decoding can begin at, where no
/// index says: an H.264 IDR or HEVC IRAP NAL unit, an MPEG-4 I-VOP; every picture of the
/// other codecs (MJPEG and the rest are intra-only or say nothing we read).
fn sniff_key(codec: Option<Codec>, data: &[u8]) -> bool {
    let nal_types = || data.windows(4).filter(|w| w[..3] == [0, 0, 1]).map(|w| w[3]);
    match codec {
        Some(Codec::H264) => nal_types().any(|b| b & 0x1f == 5),
        Some(Codec::Hevc) => nal_types().any(|b| (16..=23).contains(&((b >> 1) & 0x3f))),
        Some(Codec::Mpeg4) => vop_type(data) == Some(0),
        _ => true,
    }
}

/// The `vop_coding_type` of the first VOP header (start code 0xB6) in `data`: 0 I, 1 P,
/// 2 B, 3 S (sprite).
fn vop_type(data: &[u8]) -> Option<u8> {
    let at = data.windows(4).position(|w| w == [0, 0, 1, 0xb6])?;
    data.get(at + 4).map(|b| b >> 6)
}

/// Presentation times of an MPEG-4 Part 2 stream's packets from their decode times and
/// VOP types, as ffmpeg gives them: each I/P/S-VOP shows after the B-VOPs that follow it
/// in decode order, so the presentation order is the decode order with every anchor moved
/// past its B-VOPs; with B-VOPs the decoder holds one picture back, and the k-th shown
/// picture takes the decode time of packet k + 1 (a B-VOP's own), without them its own.
fn reorder_vops(kinds: &[Option<u8>], dts: &[i64]) -> Vec<i64> {
    if !kinds.contains(&Some(2)) {
        return dts.to_vec();
    }
    let mut shown: Vec<usize> = Vec::with_capacity(kinds.len());
    let mut anchor: Option<usize> = None;
    for (i, k) in kinds.iter().enumerate() {
        if *k == Some(2) {
            shown.push(i);
        } else if let Some(a) = anchor.replace(i) {
            shown.push(a);
        }
    }
    shown.extend(anchor);
    let mut pts = vec![0; kinds.len()];
    for (rank, &i) in shown.iter().enumerate() {
        pts[i] = match dts.get(rank + 1) {
            Some(&t) => t,
            // The last picture: one slot after the last decode time.
            None => dts[rank].saturating_add(1),
        };
    }
    pts
}

impl AviDemuxer {
    /// Reads the header list and locates every packet (from the OpenDML indexes, `idx1`,
    /// or a walk).
    pub fn open(src: ByteSource) -> Result<Self> {
        Self::open_with(src, true)
    }

    /// [`open`](Self::open), passing over the OpenDML indexes unless `odml` (the tests
    /// compare both ways on one file).
    fn open_with(mut src: ByteSource, odml: bool) -> Result<Self> {
        let l = layout(&mut src)?;
        let Some((start, end)) = l.hdrl else {
            return Err(Error::invalid_bitstream(12, "malformed AVI: no header list (LIST hdrl)"));
        };
        let (streams, indexes) = streams(&mut src, start, end)?;
        let lists: Vec<(u64, u64)> = l.movi.iter().map(|&(_, start, end)| (start, end)).collect();
        let from_odml = match odml.then(|| odml::chunks(&mut src, &indexes, streams.len(), &lists)) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                debug!(error = %e, "AVI: the OpenDML index is not used; reading idx1 or walking the movi lists");
                None
            }
            None => None,
        };
        let mut damage = None;
        let (mut found, mut located) = match from_odml {
            Some(c) => (c, Located::OpenDml),
            None => (Vec::new(), Located::Idx1),
        };
        let walk_from = if located == Located::OpenDml { l.movi.len() } else { 0 };
        for (n, &(movi, start, end)) in l.movi.iter().enumerate().skip(walk_from) {
            // The legacy index covers the first movi list only.
            let indexed = match (n, l.idx1) {
                (0, Some((at, size))) => chunks::from_idx1(&mut src, at, size, movi)?,
                _ => None,
            };
            match indexed {
                Some(c) => found.extend(c),
                None => {
                    located = Located::Walk;
                    if let Some(e) = chunks::walk_movi(&mut src, start, end, &mut found) {
                        damage = Some(e);
                        break;
                    }
                }
            }
        }
        found.retain(|c| (c.stream as usize) < streams.len());
        found.sort_by_key(|c| c.pos);
        let (tracks, packets) = Self::timestamps(&mut src, streams, &found)?;
        let damage = match damage {
            Some(Error::InvalidBitstream { offset, reason }) => Some((offset, reason)),
            Some(other) => return Err(other),
            None => None,
        };
        Ok(AviDemuxer { src, tracks, packets, damage, next: 0, done: false, located })
    }

    /// Every non-empty chunk as a packet with its timestamps and key flag; the tracks with
    /// their frame rate and duration from what the chunks say.
    fn timestamps(src: &mut ByteSource, streams: Vec<Stream>, found: &[Chunk]) -> Result<(Vec<Track>, Vec<Packet>)> {
        let mut clock = vec![0i64; streams.len()];
        let mut slots = vec![0i64; streams.len()];
        let mut shown = vec![0i64; streams.len()];
        // Each MPEG-4 stream's VOP types, in its packets' order.
        let mut vops: Vec<Vec<Option<u8>>> = vec![Vec::new(); streams.len()];
        // Each MPEG-4 stream: whether its user data says its bitstream is packed.
        let mut packed = vec![false; streams.len()];
        let mut packets = Vec::with_capacity(found.len());
        for c in found {
            let s = c.stream as usize;
            let st = &streams[s];
            let t = clock[s];
            let duration = c.size.checked_div(st.sample_size).map_or(1, i64::from);
            clock[s] += duration;
            slots[s] += 1;
            if c.size == 0 {
                continue;
            }
            shown[s] += 1;
            let video = st.track.kind == TrackKind::Video;
            // The picture's first bytes, read once where its key flag or (MPEG-4) its VOP
            // type is needed; a chunk past the file's end is damage that reading reports.
            let head = if video && (c.key.is_none() || st.reorder_vops) {
                let n = u64::from(c.size).min(SNIFF_BYTES).min(src.len().saturating_sub(c.pos));
                src.seek(c.pos);
                Some(src.read_vec(n, "an AVI chunk")?)
            } else {
                None
            };
            let key = match (&head, c.key) {
                (_, Some(k)) if video => k,
                (Some(head), None) => sniff_key(st.track.codec.video(), head),
                _ => true,
            };
            if st.reorder_vops {
                vops[s].push(head.as_deref().and_then(vop_type));
                packed[s] |= head.as_deref().is_some_and(packed::marked);
            }
            let pts = if st.nal { None } else { Some(t) };
            packets.push(Packet { chunk: *c, dts: t, pts, duration, key });
        }
        for s in (0..streams.len()).filter(|&s| packed[s]) {
            Self::unpack(src, &mut packets, s, &mut vops[s])?;
        }
        // MPEG-4 Part 2: presentation times from the VOP types.
        for s in (0..streams.len()).filter(|&s| streams[s].reorder_vops) {
            let mine: Vec<usize> = (0..packets.len()).filter(|&i| packets[i].chunk.stream as usize == s).collect();
            let kinds = std::mem::take(&mut vops[s]);
            let dts: Vec<i64> = mine.iter().map(|&i| packets[i].dts).collect();
            for (&i, pts) in mine.iter().zip(reorder_vops(&kinds, &dts)) {
                packets[i].pts = Some(pts);
            }
        }
        let tracks = streams
            .into_iter()
            .enumerate()
            .map(|(s, st)| {
                let mut t = st.track;
                if t.kind == TrackKind::Video {
                    t.duration = Some(clock[s]);
                    // Empty chunks hold frame slots: the frames shown per second are the
                    // stream's rate times the share of slots that hold a picture.
                    t.frame_rate = st.rate.and_then(|r| {
                        if slots[s] == 0 {
                            return Some(r);
                        }
                        reduced(i128::from(r.num) * i128::from(shown[s]), i128::from(r.den) * i128::from(slots[s]))
                    });
                } else if t.kind == TrackKind::Audio {
                    t.duration = Some(clock[s]);
                }
                t
            })
            .collect();
        Ok((tracks, packets))
    }

    /// Stream `s`'s packets (one a non-empty chunk, with their VOP types in `kinds`) made
    /// one VOP each: a chunk with two gives its first in its own slot, and its second in the
    /// next one-VOP chunk's ([`packed::unpack`]). Packets keep their slot's timestamps.
    fn unpack(src: &mut ByteSource, packets: &mut [Packet], s: usize, kinds: &mut [Option<u8>]) -> Result<()> {
        let mine: Vec<usize> = (0..packets.len()).filter(|&i| packets[i].chunk.stream as usize == s).collect();
        let chunks: Vec<Chunk> = mine.iter().map(|&i| packets[i].chunk).collect();
        let keys: Vec<bool> = mine.iter().map(|&i| packets[i].key).collect();
        let pieces = packed::pieces(src, &chunks.iter().map(|c| (c.pos, c.size)).collect::<Vec<_>>())?;
        let was = kinds.to_vec();
        for (k, give) in packed::unpack(&pieces).into_iter().enumerate() {
            let p = &mut packets[mine[k]];
            match give {
                packed::Give::Whole => {}
                packed::Give::First(n) => p.chunk.size = n,
                packed::Give::Kept { from, at, len } => {
                    p.chunk = Chunk { pos: chunks[from].pos + u64::from(at), size: len, ..chunks[from] };
                    // A chunk's second VOP (a B-VOP) is no key frame; a whole chunk kept for
                    // the next slot keeps what it was.
                    (p.key, kinds[k]) =
                        if at == 0 { (keys[from], was[from]) } else { (false, pieces[from].second_kind) };
                }
            }
        }
        Ok(())
    }

    /// The packet at `i`, read from the file.
    fn read(&mut self, i: usize) -> Result<MediaPacket> {
        let p = self.packets[i];
        let (pos, size) = (p.chunk.pos, u64::from(p.chunk.size));
        if pos > self.src.len() || size > self.src.len() - pos {
            return Err(truncated(pos, "an AVI chunk", size, self.src.len().saturating_sub(pos)));
        }
        self.src.seek(pos);
        let data = self.src.read_vec(size, "an AVI chunk")?;
        Ok(MediaPacket {
            track: p.chunk.stream as usize,
            data,
            pts: p.pts,
            dts: Some(p.dts),
            duration: Some(p.duration),
            keyframe: p.key,
            pos,
            seek: i as u64,
            discard_padding_ns: 0,
        })
    }

    fn entry(&self, i: usize) -> PacketEntry {
        let p = &self.packets[i];
        PacketEntry {
            pts: p.pts,
            dts: Some(p.dts),
            duration: Some(p.duration),
            keyframe: p.key,
            pos: p.chunk.pos,
            size: p.chunk.size,
            seek: i as u64,
        }
    }
}

impl ContainerDemuxer for AviDemuxer {
    fn container(&self) -> Container {
        Container::Avi
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        if self.done {
            return Ok(None);
        }
        if self.next >= self.packets.len() {
            self.done = true;
            return match &self.damage {
                Some((offset, reason)) => Err(Error::invalid_bitstream(*offset, reason)),
                None => Ok(None),
            };
        }
        let i = self.next;
        self.next += 1;
        self.read(i).map(Some).inspect_err(|_| self.done = true)
    }

    fn seek_to(&mut self, _track: usize, entry: &PacketEntry) -> Result<()> {
        let i = usize::try_from(entry.seek).unwrap_or(usize::MAX);
        if i >= self.packets.len() || self.packets[i].chunk.pos != entry.pos {
            return Err(Error::invalid_input(format!("no AVI packet at offset {}", entry.pos)));
        }
        self.next = i;
        self.done = false;
        Ok(())
    }

    fn rewind(&mut self) -> Result<()> {
        self.next = 0;
        self.done = false;
        Ok(())
    }

    fn located_by_scan(&self) -> bool {
        self.located == Located::Walk
    }

    fn packet_table(&mut self, track: usize) -> Result<PacketTable> {
        let mut table = PacketTable::default();
        let len = self.src.len();
        for i in (0..self.packets.len()).filter(|&i| self.packets[i].chunk.stream as usize == track) {
            let c = self.packets[i].chunk;
            if c.pos > len || u64::from(c.size) > len - c.pos {
                table.damage = Some(truncated(c.pos, "an AVI chunk", u64::from(c.size), len.saturating_sub(c.pos)));
                break;
            }
            table.entries.push(self.entry(i));
        }
        if table.damage.is_none() {
            table.damage = self.damage.as_ref().map(|(o, r)| Error::invalid_bitstream(*o, r));
        }
        self.rewind()?;
        Ok(table)
    }
}

#[cfg(any(test, feature = "test-support"))]
pub mod opendml_copy;
#[cfg(test)]
mod tests;
