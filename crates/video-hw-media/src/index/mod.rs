//! The frame index of a video track: every frame a decoder shows, in presentation order,
//! with its timestamp, duration, whether decoding can start at its packet, and which packet
//! codes it — built from the container's tables without decoding where it has them, and
//! from the bitstream where it does not.
//!
//! - MP4, Matroska, IVF: the packet table (sample tables and fragments; a cluster scan
//!   that skips payloads; IVF headers). One frame per packet, in presentation order by
//!   pts; the MP4 edit list's window drops pre-roll. For H.264/HEVC the first GOP's
//!   pictures are read too, so RASL pictures of a leading CRA and the leading pictures of
//!   a recovery point that starts the stream, which no decoder outputs, are not counted.
//! - MPEG-TS and raw Annex-B: every packet's picture is read by the bitstream layer
//!   (whether it is output, its order count, whether decoding can start there) and the
//!   parameter sets in force at each random access point are kept, so a decoder can start
//!   at any of them. Raw streams have no timestamps: presentation order comes from the
//!   order counts, and times from the stream's frame rate (25 fps when it states none).
//!
//! Frame counts equal `ffprobe -count_frames` on the fixtures (`tests/media_index.rs`).

mod analysis;
mod cache;
mod persist;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::types::{CodecConfig, PacketEntry, Track, TrackKind};
use super::{Container, Demuxer, PacketTable};
use analysis::{Analyzer, PacketPicture, starts_with_idr};
pub use cache::{
    CacheEnvironment, CacheUse, INDEX_CACHE_ENV, IndexCache, MAX_CACHE_BYTES, RACY_SECONDS, install_environment,
};
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::{Error, Result};

/// Packets of an MP4/Matroska H.264/HEVC track read from the start to settle which of the
/// first pictures are shown (up to the second random access point).
const FIRST_GOP_PACKETS: usize = 1024;

/// One frame of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedFrame {
    /// Presentation timestamp, in the track's time base.
    pub pts: i64,
    /// How long it is shown, in the track's time base.
    pub duration: i64,
    /// Its packet is a random access point (decoding can start there).
    pub keyframe: bool,
    /// The decode-order number of the packet that codes it (an index into
    /// [`FrameIndex::packets`]).
    pub packet: u32,
}

/// A video track's frames in presentation order, and its packets in decode order.
#[derive(Debug, Clone)]
pub struct FrameIndex {
    track: Track,
    container: Container,
    packets: Vec<PacketEntry>,
    /// Per packet: the presentation number of the frame it codes, if it shows one.
    frame_of_packet: Vec<Option<u32>>,
    /// Per frame: the last packet it needs (its own, or the packet of its second field
    /// where a raw stream or MPEG-TS codes the two fields as two packets).
    frame_end: Vec<u32>,
    /// Per packet: decoding can start there.
    random_access: Vec<bool>,
    /// Per packet: an IDR picture (H.264/HEVC random access points only; `true` for
    /// every random access point of other codecs).
    idr: Vec<bool>,
    frames: Vec<IndexedFrame>,
    /// For tracks without out-of-band configuration (MPEG-TS, raw): the parameter sets in
    /// force at each random access packet, by packet number.
    parameter_sets: SetsAtPackets,
    damage: Option<String>,
    damage_offset: Option<u64>,
    /// The reason of an `InvalidBitstream` damage, without its offset.
    damage_reason: Option<String>,
}

impl FrameIndex {
    /// Builds the index of `track` (a video track) of `demuxer`. Reading restarts from the
    /// first packet afterwards.
    ///
    /// A file damaged part-way gives the index of what lies before the damage
    /// ([`damage`](Self::damage) says where it stopped).
    pub fn build(demuxer: &mut Demuxer, track: usize) -> Result<FrameIndex> {
        let t = demuxer.track(track).cloned().ok_or_else(|| {
            Error::invalid_input(format!("no track {track} (the file has {})", demuxer.tracks().len()))
        })?;
        if t.kind != TrackKind::Video {
            return Err(Error::invalid_input(format!("track {track} is {}, not video", t.kind.name())));
        }
        let container = demuxer.container();
        let codec = t.codec.video();
        let nal = matches!(codec, Some(Codec::H264 | Codec::Hevc));
        let scan = nal && matches!(t.config, CodecConfig::None);
        let (table, pictures, parameter_sets) = if scan {
            scan_pictures(demuxer, &t, codec.unwrap_or(Codec::H264))?
        } else {
            let table = demuxer.packet_table(track)?;
            let pictures = match (codec, t.config.record()) {
                (Some(c @ (Codec::H264 | Codec::Hevc)), Some(record)) => first_gop(demuxer, &t, c, record, &table)?,
                _ => Vec::new(),
            };
            (table, pictures, BTreeMap::new())
        };
        let idr = match (scan, codec, t.config.record()) {
            (true, _, _) => pictures.iter().map(|p| p.idr).collect(),
            (false, Some(c @ (Codec::H264 | Codec::Hevc)), Some(record)) => {
                key_idr_flags(demuxer, track, c, record, &table)?
            }
            _ => table.entries.iter().map(|e| e.keyframe).collect(),
        };
        demuxer.rewind()?;
        let damage = table.damage.as_ref().map(|e| e.to_string());
        let (damage_offset, damage_reason) = match &table.damage {
            Some(Error::InvalidBitstream { offset, reason }) => (Some(*offset), Some(reason.clone())),
            _ => (None, None),
        };
        let mut index = Self::assemble(t, container, table.entries, &pictures, parameter_sets, damage, scan);
        index.damage_offset = damage_offset;
        index.damage_reason = damage_reason;
        index.idr = idr;
        Ok(index)
    }

    /// Orders the shown frames and fills in timestamps and durations.
    fn assemble(
        track: Track,
        container: Container,
        mut packets: Vec<PacketEntry>,
        pictures: &[PacketPicture],
        parameter_sets: SetsAtPackets,
        damage: Option<String>,
        scanned: bool,
    ) -> FrameIndex {
        let n = packets.len();
        let shows = |i: usize| pictures.get(i).is_none_or(|p| p.shows);
        let random_access: Vec<bool> = (0..n)
            .map(|i| if scanned { pictures.get(i).is_some_and(|p| p.random_access) } else { packets[i].keyframe })
            .collect();
        if scanned && packets.iter().all(|p| p.pts.is_none()) {
            synthesize_times(&track, &mut packets, pictures);
        }
        // Packets without a timestamp (a damaged PES header) keep their place in decode order.
        let mut last = i64::MIN;
        for p in &mut packets {
            match p.pts {
                Some(t) => last = t,
                None => p.pts = Some(last.saturating_add(1)),
            }
        }
        let mut order: Vec<u32> =
            (0..n).filter(|&i| shows(i) && track.shows(packets[i].pts.unwrap_or(0))).map(|i| i as u32).collect();
        order.sort_by_key(|&i| (packets[i as usize].pts, i));
        let default_duration = track
            .frame_rate
            .filter(|r| r.num > 0 && r.den > 0)
            .map(|r| track.time_base.rescale(1, Rational::new(r.den, r.num)).max(1))
            .unwrap_or(1);
        let mut frames: Vec<IndexedFrame> = order
            .iter()
            .map(|&i| {
                let p = &packets[i as usize];
                IndexedFrame { pts: p.pts.unwrap_or(0), duration: 0, keyframe: random_access[i as usize], packet: i }
            })
            .collect();
        for k in 0..frames.len() {
            let own = packets[frames[k].packet as usize].duration.filter(|d| *d > 0);
            let next = frames.get(k + 1).and_then(|f| f.pts.checked_sub(frames[k].pts)).filter(|d| *d > 0);
            let prev = k.checked_sub(1).map(|j| frames[j].duration).filter(|d| *d > 0);
            // The gap to the next frame in presentation order is how long a frame shows
            // (a packet's own duration is a decode-time delta with B-frames, and Matroska
            // states none for video); the last frame keeps its packet's.
            frames[k].duration = next.or(own).or(prev).unwrap_or(default_duration);
        }
        let mut frame_of_packet = vec![None; n];
        for (k, f) in frames.iter().enumerate() {
            frame_of_packet[f.packet as usize] = Some(k as u32);
        }
        let second_field = |i: usize| pictures.get(i).is_some_and(|p| p.second_field);
        let frame_end = frames.iter().map(|f| f.packet + u32::from(second_field(f.packet as usize + 1))).collect();
        FrameIndex {
            track,
            container,
            packets,
            frame_of_packet,
            frame_end,
            random_access,
            idr: Vec::new(),
            frames,
            parameter_sets,
            damage,
            damage_offset: None,
            damage_reason: None,
        }
    }

    /// The track indexed.
    pub fn track(&self) -> &Track {
        &self.track
    }

    /// The container the track is in.
    pub fn container(&self) -> Container {
        self.container
    }

    /// Unit of every timestamp here.
    pub fn time_base(&self) -> Rational {
        self.track.time_base
    }

    /// Frames, in presentation order.
    pub fn frames(&self) -> &[IndexedFrame] {
        &self.frames
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when the track shows no frame.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Frames that are random access points.
    pub fn keyframes(&self) -> usize {
        self.frames.iter().filter(|f| f.keyframe).count()
    }

    /// Packets, in decode order.
    pub fn packets(&self) -> &[PacketEntry] {
        &self.packets
    }

    /// The presentation number of the frame packet `packet` codes, if it shows one.
    pub fn frame_of_packet(&self, packet: usize) -> Option<usize> {
        self.frame_of_packet.get(packet).copied().flatten().map(|f| f as usize)
    }

    /// Whether decoding can start at packet `packet`.
    pub fn is_random_access(&self, packet: usize) -> bool {
        self.random_access.get(packet).copied().unwrap_or(false)
    }

    /// Why the index ends early, if the file is damaged.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// The byte offset of the damage that ends the index early, where known.
    pub fn damage_offset(&self) -> Option<u64> {
        self.damage_offset
    }

    /// The damage that ends the index early as an [`Error::InvalidBitstream`] (offset 0
    /// where it is not known): for reporting it after the frames before it were read.
    pub fn damage_error(&self) -> Option<Error> {
        let why = self.damage_reason.as_ref().or(self.damage.as_ref())?;
        Some(Error::invalid_bitstream(self.damage_offset.unwrap_or(0), why.clone()))
    }

    /// The frame shown at time `t` (track time base): the one whose `[pts, pts + duration)`
    /// holds it; `None` before the first frame or after the last one ends.
    pub fn frame_at(&self, t: i64) -> Option<usize> {
        let k = self.frames.partition_point(|f| f.pts <= t).checked_sub(1)?;
        let f = &self.frames[k];
        (t < f.pts.saturating_add(f.duration)).then_some(k)
    }

    /// The frame shown at `seconds`.
    pub fn frame_at_seconds(&self, seconds: f64) -> Option<usize> {
        self.frame_at(self.ticks(seconds))
    }

    /// `seconds` in the track's time base (rounded down, so a time on a frame boundary
    /// falls in the frame that starts there).
    pub fn ticks(&self, seconds: f64) -> i64 {
        let tb = self.track.time_base;
        if tb.num <= 0 || tb.den <= 0 || !seconds.is_finite() {
            return 0;
        }
        (seconds * tb.den as f64 / tb.num as f64 + 1e-6).floor() as i64
    }

    /// Seconds of a timestamp in the track's time base.
    pub fn seconds(&self, ts: i64) -> f64 {
        self.track.seconds(ts)
    }

    /// The last packet frame `frame` needs in decode order: its own packet, or the one
    /// after it where that holds the frame's second field (a raw stream or MPEG-TS that
    /// codes the fields of a frame as two access units).
    pub fn last_packet(&self, frame: usize) -> usize {
        self.frame_end[frame] as usize
    }

    /// The packet where decoding starts to produce frame `frame` exactly: the last random
    /// access packet at or before the frame's packet whose picture is not shown after the
    /// frame (so the frame is not one of its leading pictures, which may refer to pictures
    /// before it). Packet 0 when there is none.
    pub fn start_packet(&self, frame: usize) -> usize {
        self.start_where(frame, |p| self.random_access[p])
    }

    /// [`start_packet`](Self::start_packet) for engines that can start decoding only at
    /// an IDR picture (OpenH264 cannot start at an H.264 recovery point).
    pub fn start_packet_at_idr(&self, frame: usize) -> usize {
        self.start_where(frame, |p| self.random_access[p] && self.idr.get(p).copied().unwrap_or(true))
    }

    fn start_where(&self, frame: usize, can_start: impl Fn(usize) -> bool) -> usize {
        let Some(f) = self.frames.get(frame) else { return 0 };
        let mut p = f.packet as usize;
        loop {
            while p > 0 && !can_start(p) {
                p -= 1;
            }
            if p == 0 {
                return 0;
            }
            let pts = self.packets[p].pts.unwrap_or(i64::MIN);
            if pts <= f.pts {
                return p;
            }
            p -= 1;
        }
    }

    /// The parameter sets (Annex-B) to send before starting at random access packet
    /// `packet`, for tracks that keep them in band (MPEG-TS, raw); `None` otherwise.
    pub fn parameter_sets_at(&self, packet: usize) -> Option<&Arc<Vec<u8>>> {
        self.parameter_sets.range(..=packet as u32).next_back().map(|(_, s)| s)
    }
}

/// Parameter sets in force at random access packets, by packet number.
type SetsAtPackets = BTreeMap<u32, Arc<Vec<u8>>>;

/// Reads every packet of an in-band H.264/HEVC track (MPEG-TS, raw) with its data.
fn scan_pictures(
    demuxer: &mut Demuxer,
    track: &Track,
    codec: Codec,
) -> Result<(PacketTable, Vec<PacketPicture>, SetsAtPackets)> {
    demuxer.rewind()?;
    let mut analyzer = Analyzer::new(codec, None)?;
    let mut table = PacketTable::default();
    let mut pictures = Vec::new();
    let mut sets = BTreeMap::new();
    // Streams that continue after damage report each (`Container::damage_skips`).
    let mut errors = 0u32;
    loop {
        match demuxer.next_packet() {
            Ok(Some(p)) if p.track == track.index => {
                // A packet without a readable picture shows nothing.
                let pic = analyzer.packet(&p.data).unwrap_or_default();
                if pic.random_access
                    && let Some(s) = analyzer.parameter_sets()
                {
                    sets.insert(table.entries.len() as u32, s);
                }
                pictures.push(pic);
                table.entries.push(p.entry());
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                errors += 1;
                table.damage.get_or_insert(e);
                if errors > demuxer.container().damage_skips() {
                    break;
                }
            }
        }
    }
    Ok((table, pictures, sets))
}

/// The pictures of the first GOP of a length-prefixed H.264/HEVC track (up to its second
/// random access point); the rest are taken as shown.
fn first_gop(
    demuxer: &mut Demuxer,
    track: &Track,
    codec: Codec,
    record: &video_hw_bitstream::avcc::DecoderConfigRecord,
    table: &PacketTable,
) -> Result<Vec<PacketPicture>> {
    let Some(first) = table.entries.first() else { return Ok(Vec::new()) };
    let end = table.entries.iter().skip(1).position(|e| e.keyframe).map_or(table.entries.len(), |i| i + 2);
    let end = end.min(FIRST_GOP_PACKETS).min(table.entries.len());
    demuxer.seek_to(track.index, first)?;
    let mut analyzer = Analyzer::new(codec, Some(record))?;
    let mut pictures = Vec::with_capacity(end);
    while pictures.len() < end {
        match demuxer.next_packet() {
            // A packet whose picture cannot be read keeps the container's word: shown.
            Ok(Some(p)) if p.track == track.index => pictures.push(analyzer.packet(&p.data).unwrap_or(PacketPicture {
                shows: true,
                random_access: p.keyframe,
                ..Default::default()
            })),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    // Packets past the first GOP count as shown.
    Ok(pictures)
}

/// Per packet, whether it is an IDR: read from each random access packet of a
/// length-prefixed track (non-key packets are not IDRs).
fn key_idr_flags(
    demuxer: &mut Demuxer,
    track: usize,
    codec: Codec,
    record: &video_hw_bitstream::avcc::DecoderConfigRecord,
    table: &PacketTable,
) -> Result<Vec<bool>> {
    let mut out = vec![false; table.entries.len()];
    for (i, e) in table.entries.iter().enumerate().filter(|(_, e)| e.keyframe) {
        demuxer.seek_to(track, e)?;
        loop {
            match demuxer.next_packet() {
                Ok(Some(p)) if p.track == track => {
                    out[i] = starts_with_idr(codec, record.length_size, &p.data).unwrap_or(false);
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
    Ok(out)
}

/// Presentation times for a raw stream: frames in order-count order within each coded
/// video sequence, one frame duration apart; the packets that code them take those times.
fn synthesize_times(track: &Track, packets: &mut [PacketEntry], pictures: &[PacketPicture]) {
    let duration = track
        .frame_rate
        .filter(|r| r.num > 0 && r.den > 0)
        .map(|r| track.time_base.rescale(1, Rational::new(r.den, r.num)).max(1))
        .unwrap_or_else(|| track.time_base.rescale(1, Rational::new(1, 25)).max(1));
    let mut sequence = 0u32;
    let mut keys: Vec<(u32, i32, usize)> = Vec::new();
    for (i, p) in pictures.iter().enumerate() {
        if p.new_sequence && i > 0 {
            sequence += 1;
        }
        if p.shows {
            keys.push((sequence, p.poc, i));
        }
    }
    keys.sort_unstable();
    for (rank, &(_, _, i)) in keys.iter().enumerate() {
        packets[i].pts = Some(rank as i64 * duration);
        packets[i].duration = Some(duration);
    }
    for (i, p) in packets.iter_mut().enumerate() {
        p.dts = Some(i as i64 * duration);
    }
}
