//! Matroska and WebM demuxing.
//!
//! The EBML structure is read by our own bounded reader ([`ebml`]) rather than one of
//! the Matroska crates: those we tried panic, loop or allocate what a hostile file
//! claims, or mishandle unknown sizes; a demuxer needs only the header elements and a
//! forward walk over clusters, and reading them ourselves lets every size be checked
//! against its parent and the file before anything is read or allocated.
//!
//! At open: the EBML header (its DocType tells Matroska from WebM), the Segment (known
//! or unknown size), then the Segment's children up to the first Cluster for `Info`,
//! `Tracks` and `SeekHead`; when `Tracks` or `Info` come later, the SeekHead entries
//! for them are followed (each place once), else the rest of the level-1 elements are
//! walked. `Cues` are not read: packet positions come from the clusters themselves
//! ([`PacketEntry::seek`] is the Cluster's offset), and a scan of block headers is fast.
//!
//! Packets come block by block in file order ([`cluster`]), each laced frame as its own
//! packet. Timestamps are in ticks of `TimestampScale` nanoseconds, the tracks' time
//! base: `pts` = cluster timestamp + the block's signed relative timestamp, kept
//! negative where it is; later frames of a lace add `DefaultDuration`s when the track
//! has one, else have none. Matroska stores no decode timestamps (`dts` is `None`).
//! `pos` is where ffprobe puts a packet: the block's data (its track number) for a
//! block's first frame; a later laced frame's own first byte.
//!
//! Damage (an element running past its parent or the file, a cut file, a lying block
//! size, an unknown ID length) ends the packets: everything before it, then an
//! [`Error::InvalidBitstream`] at its offset, then `Ok(None)`.

mod cluster;
mod ebml;
pub(crate) mod ids;
mod tracks;

use std::collections::{HashMap, HashSet};

use super::io::ByteSource;
use super::types::{Container, MediaPacket, PacketEntry, Track};
use super::{ContainerDemuxer, PacketTable};
use cluster::{BlockInfo, Scanner, SegmentBounds};
use ebml::{Children, Header, malformed, name, read_header, string, uint};
use tracks::{SegmentInfo, TrackSpec, parse_info, parse_tracks};
use video_hw_types::error::{Error, Result};

/// The largest `Info`, `Tracks` or `SeekHead` element read (real ones are kilobytes;
/// CodecPrivate of a few megabytes at most).
pub const MAX_HEADER_BYTES: u64 = 64 << 20;

/// The largest EBML header read.
const MAX_EBML_HEADER: u64 = 64 << 10;

/// The most SeekHead entries followed when `Info` or `Tracks` is not before the first
/// Cluster.
const MAX_SEEKS: usize = 256;

/// The most packets one track's table holds (a 24-hour 240 fps video has 21 million).
pub const MAX_PACKETS: usize = 25_000_000;

/// The frames of the block being given out.
#[derive(Debug)]
struct Pending {
    block: BlockInfo,
    track: usize,
    frames: Vec<(u64, u32)>,
    next: usize,
}

/// A Matroska or WebM file: its tracks, read at open, and a scan over its clusters.
pub(crate) struct MkvDemuxer {
    src: ByteSource,
    container: Container,
    tracks: Vec<Track>,
    specs: Vec<TrackSpec>,
    by_number: HashMap<u64, usize>,
    info: SegmentInfo,
    seg: SegmentBounds,
    /// Where reading starts: the first Cluster, or the Segment's first child.
    first: u64,
    scan: Scanner,
    pending: Option<Pending>,
}

impl MkvDemuxer {
    /// Reads the EBML header, finds the Segment, and reads `Info` and `Tracks`.
    pub fn open(mut src: ByteSource) -> Result<Self> {
        let file_len = src.len();
        let h = read_header(&mut src, 0)?;
        if h.id != ebml::EBML {
            return Err(malformed(0, "no EBML header"));
        }
        let body = read_whole(&mut src, &h, None, MAX_EBML_HEADER)?;
        let mut doc_type = "matroska".to_string();
        for child in Children::new(&body, h.data(), ebml::EBML) {
            let (c, data, _) = child?;
            if c.id == ebml::DOC_TYPE {
                doc_type = string(data);
            }
        }
        let container = if doc_type == "webm" { Container::WebM } else { Container::Matroska };
        // Level 0: the Segment, after anything else of known size.
        let mut pos = h.data() + body.len() as u64;
        let seg = loop {
            if pos >= file_len {
                return Err(malformed(pos.min(file_len), "no Segment"));
            }
            let h = read_header(&mut src, pos)?;
            if h.id == ebml::SEGMENT {
                break SegmentBounds { start: h.start, data: h.data(), end: h.end() };
            }
            pos = h
                .end()
                .ok_or_else(|| malformed(h.start, format!("{} of unknown size before the Segment", name(h.id))))?;
        };
        let found = find_headers(&mut src, &seg)?;
        let info = found.info.unwrap_or_default();
        let Some((tracks_at, tracks_body)) = found.tracks else {
            return Err(malformed(seg.data, "no Tracks element"));
        };
        let specs = parse_tracks(&tracks_body, tracks_at, &info)?;
        let by_number = specs.iter().enumerate().map(|(i, s)| (s.number, i)).collect();
        let first = found.first_cluster.unwrap_or(seg.data);
        Ok(MkvDemuxer {
            src,
            container,
            tracks: specs.iter().map(|s| s.track.clone()).collect(),
            specs,
            by_number,
            info,
            seg,
            first,
            scan: Scanner::new(first),
            pending: None,
        })
    }

    /// The entry of frame `k` of block `b` of track `t`.
    fn entry(&self, t: usize, b: &BlockInfo, frames: &[(u64, u32)], k: usize) -> PacketEntry {
        frame_entry(&self.specs[t], &self.info, b, frames, k)
    }

    fn unsupported(&self, t: usize) -> Option<Error> {
        let spec = &self.specs[t];
        spec.unsupported
            .as_ref()
            .map(|why| Error::unsupported(format!("Matroska track {} ({})", spec.number, spec.track.codec), why))
    }
}

/// What the walk over the Segment's header elements found.
#[derive(Debug, Default)]
struct Headers {
    info: Option<SegmentInfo>,
    /// The data of `Tracks` and its offset.
    tracks: Option<(u64, Vec<u8>)>,
    first_cluster: Option<u64>,
}

/// Reads `Info` and `Tracks`: from the Segment's children before the first Cluster,
/// else where the SeekHeads say, else from a walk over the rest of the Segment.
/// Damage after `Tracks` is left for the packet scan to report.
fn find_headers(src: &mut ByteSource, seg: &SegmentBounds) -> Result<Headers> {
    let mut found = Headers::default();
    let mut seeks: Vec<(u32, u64)> = Vec::new();
    let mut visited = HashSet::new();
    walk(src, seg, seg.data, true, &mut found, &mut seeks, &mut visited)?;
    let mut followed = 0;
    while found.info.is_none() || found.tracks.is_none() {
        let Some((id, at)) = seeks.pop() else { break };
        if followed >= MAX_SEEKS {
            break;
        }
        followed += 1;
        // Every place is read once: a SeekHead that points at itself or at another
        // that points back adds nothing.
        if !visited.insert(at) || !matches!(id, ebml::INFO | ebml::TRACKS | ebml::SEEK_HEAD) {
            continue;
        }
        let Ok(h) = read_header(src, at) else { continue };
        if h.id == id {
            read_level1(src, seg, &h, &mut found, &mut seeks)?;
        }
    }
    if found.tracks.is_none()
        && let Some(c) = found.first_cluster
    {
        walk(src, seg, c, false, &mut found, &mut seeks, &mut visited)?;
    }
    Ok(found)
}

/// Walks the Segment's children from `pos` reading `Info`, `Tracks` and `SeekHead`:
/// up to the first Cluster (`stop_at_cluster`), else until both are known. Stops
/// quietly at damage: the packet scan reports it.
fn walk(
    src: &mut ByteSource,
    seg: &SegmentBounds,
    mut pos: u64,
    stop_at_cluster: bool,
    found: &mut Headers,
    seeks: &mut Vec<(u32, u64)>,
    visited: &mut HashSet<u64>,
) -> Result<()> {
    let limit = seg.end.map_or(src.len(), |e| e.min(src.len()));
    while pos < limit && (stop_at_cluster || found.info.is_none() || found.tracks.is_none()) {
        let Ok(h) = read_header(src, pos) else { break };
        if h.id == ebml::CLUSTER {
            found.first_cluster.get_or_insert(pos);
            if stop_at_cluster {
                break;
            }
        }
        if matches!(h.id, ebml::INFO | ebml::TRACKS | ebml::SEEK_HEAD) && visited.insert(pos) {
            read_level1(src, seg, &h, found, seeks)?;
        }
        // Unknown size: walk into it (an unknown-size Cluster's blocks are skipped one
        // by one); every step moves past at least a header.
        pos = h.end().unwrap_or(h.data());
    }
    Ok(())
}

/// Reads one `Info`, `Tracks` or `SeekHead`. A broken `Info` or `Tracks` fails the
/// open; a broken SeekHead is ignored (it is only an index).
fn read_level1(
    src: &mut ByteSource,
    seg: &SegmentBounds,
    h: &Header,
    found: &mut Headers,
    seeks: &mut Vec<(u32, u64)>,
) -> Result<()> {
    match h.id {
        ebml::INFO if found.info.is_none() => {
            let body = read_whole(src, h, seg.end, MAX_HEADER_BYTES)?;
            found.info = Some(parse_info(&body, h.data())?);
        }
        ebml::TRACKS if found.tracks.is_none() => {
            found.tracks = Some((h.data(), read_whole(src, h, seg.end, MAX_HEADER_BYTES)?));
        }
        ebml::SEEK_HEAD => {
            if let Ok(body) = read_whole(src, h, seg.end, MAX_HEADER_BYTES) {
                let _ = parse_seek_head(&body, h.data(), seg.data, seeks);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Adds a SeekHead's entries (ID, absolute offset) to `out`.
fn parse_seek_head(data: &[u8], base: u64, seg_data: u64, out: &mut Vec<(u32, u64)>) -> Result<()> {
    for child in Children::new(data, base, ebml::SEEK_HEAD) {
        let (h, body, at) = child?;
        if h.id != ebml::SEEK {
            continue;
        }
        let (mut id, mut pos) = (None, None);
        for c in Children::new(body, at, ebml::SEEK) {
            let (h, body, at) = c?;
            match h.id {
                ebml::SEEK_ID if body.len() <= 4 => id = Some(uint(body, at)? as u32),
                ebml::SEEK_POSITION => pos = Some(uint(body, at)?),
                _ => {}
            }
        }
        if let (Some(id), Some(pos)) = (id, pos) {
            out.push((id, seg_data.saturating_add(pos)));
        }
    }
    Ok(())
}

/// Reads the data of `h` whole: it must have a known size of at most `max` bytes that
/// ends inside its parent (`parent_end`) and the file.
fn read_whole(src: &mut ByteSource, h: &Header, parent_end: Option<u64>, max: u64) -> Result<Vec<u8>> {
    let Some(size) = h.size else {
        return Err(malformed(h.start, format!("{} of unknown size", name(h.id))));
    };
    if size > max {
        return Err(malformed(h.start, format!("{} of {size} bytes (at most {max})", name(h.id))));
    }
    if let Some(p) = parent_end.filter(|&p| h.data() + size > p) {
        return Err(malformed(
            h.start,
            format!("{} at {} ends at {}, past the end of its Segment at {p}", name(h.id), h.start, h.data() + size),
        ));
    }
    src.seek(h.data());
    src.read_vec(size, &name(h.id)).map_err(|e| match e {
        Error::InvalidBitstream { .. } => malformed(
            h.start,
            format!("truncated: {} at {} ends at {}, the file at {}", name(h.id), h.start, h.data() + size, src.len()),
        ),
        other => other,
    })
}

/// The entry of frame `k` of block `b` (whose frames are `frames`) of track `spec`.
fn frame_entry(spec: &TrackSpec, info: &SegmentInfo, b: &BlockInfo, frames: &[(u64, u32)], k: usize) -> PacketEntry {
    let n = frames.len() as u64;
    let dd = spec.default_duration;
    let pts = match (k, dd) {
        (0, _) => Some(b.timestamp),
        (_, Some(d)) => Some(b.timestamp.saturating_add(info.ticks(d.saturating_mul(k as u64)))),
        (_, None) => None,
    };
    let block_duration = b.duration.map(|d| i64::try_from(d).unwrap_or(i64::MAX));
    let duration = match (block_duration, dd) {
        (Some(d), _) if n == 1 => Some(d),
        (_, Some(d)) => Some(info.ticks(d)),
        (Some(d), None) => Some(d / n as i64),
        (None, None) => None,
    };
    let (at, size) = frames[k];
    PacketEntry {
        pts,
        dts: None,
        duration,
        keyframe: b.keyframe,
        pos: if k == 0 { b.body } else { at },
        size: size.saturating_add(u32::try_from(spec.strip.len()).unwrap_or(u32::MAX)),
        seek: b.cluster,
    }
}

impl ContainerDemuxer for MkvDemuxer {
    fn container(&self) -> Container {
        self.container
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        loop {
            if let Some(p) = &mut self.pending {
                if p.next < p.frames.len() {
                    let k = p.next;
                    p.next += 1;
                    let (t, block) = (p.track, p.block);
                    let (at, size) = p.frames[k];
                    let e = frame_entry(&self.specs[t], &self.info, &block, &p.frames, k);
                    let strip = &self.specs[t].strip;
                    let mut data = Vec::new();
                    if let Err(err) = self.src.read_at(at, u64::from(size), &mut data, "a Matroska frame") {
                        self.pending = None;
                        self.scan.finish();
                        return Err(err);
                    }
                    if !strip.is_empty() {
                        data.splice(0..0, strip.iter().copied());
                    }
                    return Ok(Some(MediaPacket {
                        track: t,
                        data,
                        pts: e.pts,
                        dts: None,
                        duration: e.duration,
                        keyframe: e.keyframe,
                        pos: e.pos,
                        seek: e.seek,
                        // The group's padding ends its last frame.
                        discard_padding_ns: if k + 1 == p.frames.len() { block.discard_padding } else { 0 },
                    }));
                }
                // Keep the frame list's allocation for the next block.
                self.scan.frames = std::mem::take(&mut p.frames);
                self.pending = None;
            }
            let by_number = &self.by_number;
            let Some(b) = self.scan.next_block(&mut self.src, &self.seg, &|n| by_number.contains_key(&n))? else {
                return Ok(None);
            };
            let t = self.by_number[&b.track];
            if let Some(e) = self.unsupported(t) {
                return Err(e);
            }
            let frames = std::mem::take(&mut self.scan.frames);
            self.pending = Some(Pending { block: b, track: t, frames, next: 0 });
        }
    }

    fn seek_to(&mut self, track: usize, entry: &PacketEntry) -> Result<()> {
        self.pending = None;
        self.scan.enter_cluster(&mut self.src, &self.seg, entry.seek)?;
        let number = self.specs[track].number;
        loop {
            let by_number = &self.by_number;
            let b = match self.scan.next_block(&mut self.src, &self.seg, &|n| by_number.contains_key(&n)) {
                Ok(Some(b)) if b.cluster == entry.seek => b,
                Ok(_) => break,
                Err(e) => {
                    self.rewind()?;
                    return Err(e);
                }
            };
            if b.end <= entry.pos {
                continue;
            }
            let frames = std::mem::take(&mut self.scan.frames);
            let k = if b.body == entry.pos { Some(0) } else { frames.iter().position(|f| f.0 == entry.pos) };
            match k {
                Some(k) if b.track == number => {
                    let t = self.by_number[&b.track];
                    self.pending = Some(Pending { block: b, track: t, frames, next: k });
                    return Ok(());
                }
                _ => break,
            }
        }
        self.rewind()?;
        Err(Error::invalid_input(format!(
            "no packet of track {track} at {} in the Cluster at {} (reading starts again from the first packet)",
            entry.pos, entry.seek
        )))
    }

    fn rewind(&mut self) -> Result<()> {
        self.pending = None;
        self.scan.reset(self.first);
        Ok(())
    }

    fn packet_table(&mut self, track: usize) -> Result<PacketTable> {
        if let Some(e) = self.unsupported(track) {
            return Err(e);
        }
        self.rewind()?;
        let number = self.specs[track].number;
        let mut entries = Vec::new();
        let mut damage = None;
        loop {
            match self.scan.next_block(&mut self.src, &self.seg, &|n| n == number) {
                Ok(Some(b)) => {
                    if entries.len() + self.scan.frames.len() > MAX_PACKETS {
                        damage = Some(malformed(b.body, format!("more than {MAX_PACKETS} packets in track {track}")));
                        break;
                    }
                    let frames = &self.scan.frames;
                    entries.extend((0..frames.len()).map(|k| self.entry(track, &b, frames, k)));
                }
                Ok(None) => break,
                Err(e @ Error::InvalidBitstream { .. }) => {
                    damage = Some(e);
                    break;
                }
                Err(e) => {
                    self.rewind()?;
                    return Err(e);
                }
            }
        }
        self.rewind()?;
        Ok(PacketTable { entries, damage })
    }
}

#[cfg(test)]
pub(crate) mod tests;
