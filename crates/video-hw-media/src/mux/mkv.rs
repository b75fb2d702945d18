//! Matroska and WebM.
//!
//! Layout: the EBML header (DocType `matroska` or `webm`), then a Segment holding a
//! SeekHead in reserved room, Info (TimestampScale 1 ms), Tracks, the Clusters, and Cues.
//! On a seekable output the Segment's and every Cluster's size, the Duration, and the
//! SeekHead (now pointing at the Cues too) are filled in as they become known; on a
//! stream they stay "unknown size" and there are no Cues or Duration, which players
//! accept for live input.
//!
//! A Cluster starts at each key frame of the first video track, after 5 s, or when a
//! block's timestamp would not fit the Cluster's signed 16-bit offset. Packets are
//! SimpleBlocks (with the key frame flag); a track's last packet is a BlockGroup with its
//! BlockDuration, so the file's end is known without a guess. Cues point at the first
//! video track's key frames (without video: at each Cluster's first block).
//!
//! Block timestamps are the packets' `pts` in milliseconds from the output's time zero, as
//! FFmpeg writes and reads them: its 5.1 demuxer does not subtract CodecDelay, so adding it
//! here would shift Opus by its pre-skip on every round trip through FFmpeg or our demuxer.
//! Packets before zero (audio priming, hidden pre-roll) keep negative timestamps, written
//! as negative offsets from a Cluster at 0. Opus gets CodecDelay (its pre-skip) and
//! SeekPreRoll (80 ms), as the Matroska Opus mapping asks.

use super::config::nal_record_bytes;
use super::ebml::*;
use super::interleave::Emitted;
use super::sink::Sink;
use super::{ContainerWriter, OutCodec, OutConfig, OutTrack, Start};
use crate::types::TrackKind;
use video_hw_types::codec::Rational;
use video_hw_types::error::{Error, Result};

/// Block timestamps' unit.
const MS: Rational = Rational::new(1, 1000);
/// Bytes kept for the SeekHead (three entries need about 70).
const SEEK_HEAD_ROOM: usize = 96;
/// A Cluster spans at most this many milliseconds.
const MAX_CLUSTER_MS: i64 = 5000;
/// Cue points kept (a 24-hour film with a key frame a second has 86 400).
const MAX_CUES: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
struct Cluster {
    /// Where its ID starts.
    at: u64,
    /// Where its data starts.
    data_at: u64,
    /// Its timestamp (ms).
    ts: i64,
    blocks: u64,
}

#[derive(Debug, Clone, Copy)]
struct Cue {
    time: u64,
    track: u32,
    cluster: u64,
    relative: u64,
}

/// The Matroska/WebM writer.
pub(crate) struct MkvWriter {
    webm: bool,
    origin_ms: i64,
    segment_at: u64,
    segment_data: u64,
    info_rel: u64,
    tracks_rel: u64,
    duration_at: Option<u64>,
    cluster: Option<Cluster>,
    cues: Vec<Cue>,
    end_ms: i64,
    video: Option<usize>,
    last_ts: Vec<Option<i64>>,
    last_duration: Vec<Option<i64>>,
    /// The end of the last cluster closed and handed to the output.
    durable: Option<u64>,
}

impl MkvWriter {
    pub fn new(webm: bool, tracks: usize) -> Self {
        MkvWriter {
            webm,
            origin_ms: 0,
            segment_at: 0,
            segment_data: 0,
            info_rel: 0,
            tracks_rel: 0,
            duration_at: None,
            cluster: None,
            cues: Vec::new(),
            end_ms: 0,
            video: None,
            last_ts: vec![None; tracks],
            last_duration: vec![None; tracks],
            durable: None,
        }
    }

    fn seek_head(&self, cues: Option<u64>) -> Ebml {
        let mut e = Ebml::default();
        e.master(SEEK_HEAD, |e| {
            let mut entry = |id: u32, pos: u64| {
                e.master(SEEK, |e| {
                    e.bytes(SEEK_ID, &id.to_be_bytes());
                    e.uint(SEEK_POSITION, pos);
                })
            };
            entry(INFO, self.info_rel);
            entry(TRACKS, self.tracks_rel);
            if let Some(c) = cues {
                entry(CUES, c);
            }
        });
        let room = SEEK_HEAD_ROOM - e.buf.len();
        e.void(room);
        e
    }

    fn close_cluster(&mut self, sink: &mut Sink) -> Result<()> {
        if let Some(c) = self.cluster.take() {
            if sink.is_seekable() {
                sink.patch(c.at + 4, &size8(sink.pos() - c.data_at)?)?;
            }
            // A live reader gets each cluster whole and at once; a file killed or out of
            // space is readable up to it.
            sink.flush()?;
            self.durable = Some(sink.pos());
        }
        Ok(())
    }

    fn open_cluster(&mut self, sink: &mut Sink, ts: i64) -> Result<Cluster> {
        self.close_cluster(sink)?;
        let at = sink.pos();
        let cluster_ts = ts.max(0);
        let mut e = Ebml::default();
        e.id(CLUSTER);
        e.buf.extend_from_slice(&UNKNOWN_SIZE);
        let data_at = at + e.buf.len() as u64;
        e.uint(TIMESTAMP, cluster_ts as u64);
        sink.write(&e.buf)?;
        let c = Cluster { at, data_at, ts: cluster_ts, blocks: 0 };
        self.cluster = Some(c);
        Ok(c)
    }
}

fn track_entry(e: &mut Ebml, t: &OutTrack) -> Result<()> {
    let (codec_id, private): (&str, Option<Vec<u8>>) = match (&t.config, t.codec) {
        (OutConfig::Nal(r), OutCodec::H264) => ("V_MPEG4/ISO/AVC", Some(nal_record_bytes(r)?)),
        (OutConfig::Nal(r), OutCodec::Hevc) => ("V_MPEGH/ISO/HEVC", Some(nal_record_bytes(r)?)),
        (OutConfig::Av1C(c), OutCodec::Av1) => ("V_AV1", Some(c.clone())),
        (_, OutCodec::Vp9) => ("V_VP9", None),
        (OutConfig::Aac(asc), OutCodec::Aac) => ("A_AAC", Some(asc.clone())),
        (OutConfig::Opus(head, _), OutCodec::Opus) => ("A_OPUS", Some(head.clone())),
        _ => return Err(Error::invalid_input(format!("track {}: no configuration record", t.index))),
    };
    e.master(TRACK_ENTRY, |e| {
        e.uint(TRACK_NUMBER, u64::from(t.number));
        e.uint(TRACK_UID, u64::from(t.number));
        e.uint(TRACK_TYPE, if t.kind == TrackKind::Video { 1 } else { 2 });
        e.uint(FLAG_LACING, 0);
        match t.language.as_deref() {
            Some(l) if l.len() == 3 && l.bytes().all(|c| c.is_ascii_lowercase()) => e.bytes(LANGUAGE, l.as_bytes()),
            Some(l) if !l.is_empty() && l.len() < 64 => {
                e.bytes(LANGUAGE, b"und");
                e.bytes(LANGUAGE_BCP47, l.as_bytes());
            }
            // Matroska's default language is English: say "undetermined" outright.
            _ => e.bytes(LANGUAGE, b"und"),
        }
        e.bytes(CODEC_ID, codec_id.as_bytes());
        if let Some(p) = &private {
            e.bytes(CODEC_PRIVATE, p);
        }
        if let OutConfig::Opus(_, head) = &t.config {
            e.uint(CODEC_DELAY, codec_delay_ns(head) as u64);
            e.uint(SEEK_PRE_ROLL, 80_000_000);
        }
        if t.kind == TrackKind::Video {
            e.master(VIDEO, |e| {
                e.uint(PIXEL_WIDTH, u64::from(t.video.width));
                e.uint(PIXEL_HEIGHT, u64::from(t.video.height));
                let (dw, dh) = super::mp4_boxes::display_size(t);
                if (dw, dh) != (t.video.width, t.video.height) {
                    e.uint(DISPLAY_WIDTH, u64::from(dw));
                    e.uint(DISPLAY_HEIGHT, u64::from(dh));
                }
            });
        } else {
            let rate = if t.codec == OutCodec::Opus { 48_000 } else { t.audio.sample_rate };
            e.master(AUDIO, |e| {
                e.float(SAMPLING_FREQUENCY, f64::from(rate));
                e.uint(CHANNELS, u64::from(t.audio.channels));
            });
        }
    });
    Ok(())
}

impl ContainerWriter for MkvWriter {
    fn begin(&mut self, sink: &mut Sink, tracks: &[OutTrack], start: &Start) -> Result<()> {
        self.origin_ms = start.origin.in_base(MS);
        self.video = OutTrack::primary_video(tracks);
        let mut head = Ebml::default();
        head.master(EBML, |e| {
            e.uint(EBML_VERSION, 1);
            e.uint(EBML_READ_VERSION, 1);
            e.uint(EBML_MAX_ID_LENGTH, 4);
            e.uint(EBML_MAX_SIZE_LENGTH, 8);
            e.bytes(DOC_TYPE, if self.webm { b"webm" } else { b"matroska" });
            e.uint(DOC_TYPE_VERSION, 4);
            e.uint(DOC_TYPE_READ_VERSION, 2);
        });
        self.segment_at = sink.pos() + head.buf.len() as u64;
        head.id(SEGMENT);
        head.buf.extend_from_slice(&UNKNOWN_SIZE);
        self.segment_data = sink.pos() + head.buf.len() as u64;

        let mut info = Ebml::default();
        let seekable = sink.is_seekable();
        info.master(INFO, |e| {
            e.uint(TIMESTAMP_SCALE, 1_000_000);
            e.bytes(MUXING_APP, b"video-hw");
            e.bytes(WRITING_APP, b"video-hw");
            if seekable {
                e.float(DURATION, 0.0); // patched at the end; last, so its place is known
            }
        });
        let mut tr = Ebml::default();
        let mut entries = Ebml::default();
        for t in tracks {
            track_entry(&mut entries, t)?;
        }
        tr.id(TRACKS);
        tr.size(entries.buf.len() as u64);
        tr.buf.extend_from_slice(&entries.buf);

        self.info_rel = SEEK_HEAD_ROOM as u64;
        self.tracks_rel = self.info_rel + info.buf.len() as u64;
        if seekable {
            self.duration_at = Some(self.segment_data + self.tracks_rel - 8);
        }
        head.buf.extend_from_slice(&self.seek_head(None).buf);
        head.buf.extend_from_slice(&info.buf);
        head.buf.extend_from_slice(&tr.buf);
        sink.write(&head.buf)
    }

    fn packet(&mut self, sink: &mut Sink, tracks: &[OutTrack], e: Emitted) -> Result<()> {
        let slot = e.packet.slot;
        let t = &tracks[slot];
        let ts = MS.rescale(e.packet.pts, t.time_base) - self.origin_ms;
        let is_video_key = self.video == Some(slot) && e.packet.keyframe;
        let mut cluster = match self.cluster {
            Some(c)
                if !(is_video_key && c.blocks > 0)
                    && (-32768..=32767).contains(&(ts - c.ts))
                    && ts - c.ts < MAX_CLUSTER_MS =>
            {
                c
            }
            _ => self.open_cluster(sink, ts)?,
        };
        let rel = i16::try_from(ts - cluster.ts).map_err(|_| {
            Error::invalid_input(format!("track {}: timestamp {ts} ms too far before time zero", t.index))
        })?;
        let ticks = e.duration(self.last_duration[slot]);
        self.last_duration[slot] = ticks;
        let duration_ms = ticks.map(|d| MS.rescale(d, t.time_base).max(0));
        let block_at = sink.pos();
        let mut h = Ebml::default();
        let body = 4 + e.packet.data.len() as u64;
        match duration_ms.filter(|_| e.last) {
            Some(d) => {
                let mut group = Ebml::default();
                group.uint(BLOCK_DURATION, d as u64);
                if !e.packet.keyframe {
                    let back = self.last_ts[slot].map_or(-1, |p| (p - ts).min(-1));
                    group.int(REFERENCE_BLOCK, back);
                }
                let mut block = Ebml::default();
                block.id(BLOCK);
                block.size(body);
                h.id(BLOCK_GROUP);
                h.size(block.buf.len() as u64 + body + group.buf.len() as u64);
                h.buf.extend_from_slice(&block.buf);
                push_block_header(&mut h, t.number, rel, 0);
                sink.write(&h.buf)?;
                sink.write(&e.packet.data)?;
                sink.write(&group.buf)?;
            }
            None => {
                h.id(SIMPLE_BLOCK);
                h.size(body);
                push_block_header(&mut h, t.number, rel, if e.packet.keyframe { 0x80 } else { 0 });
                sink.write(&h.buf)?;
                sink.write(&e.packet.data)?;
            }
        }
        let cue = if self.video.is_some() { is_video_key } else { cluster.blocks == 0 };
        if cue && self.cues.len() < MAX_CUES {
            self.cues.push(Cue {
                time: ts.max(0) as u64,
                track: t.number,
                cluster: cluster.at - self.segment_data,
                relative: block_at - cluster.data_at,
            });
        }
        cluster.blocks += 1;
        self.cluster = Some(cluster);
        self.last_ts[slot] = Some(ts);
        self.end_ms = self.end_ms.max(ts + duration_ms.unwrap_or(0));
        Ok(())
    }

    fn durable(&self) -> Option<u64> {
        self.durable
    }

    fn finish(&mut self, sink: &mut Sink, _tracks: &[OutTrack]) -> Result<()> {
        self.close_cluster(sink)?;
        if !sink.is_seekable() {
            return Ok(());
        }
        let mut cues_rel = None;
        if !self.cues.is_empty() {
            cues_rel = Some(sink.pos() - self.segment_data);
            let mut e = Ebml::default();
            e.master(CUES, |e| {
                for c in &self.cues {
                    e.master(CUE_POINT, |e| {
                        e.uint(CUE_TIME, c.time);
                        e.master(CUE_TRACK_POSITIONS, |e| {
                            e.uint(CUE_TRACK, u64::from(c.track));
                            e.uint(CUE_CLUSTER_POSITION, c.cluster);
                            e.uint(CUE_RELATIVE_POSITION, c.relative);
                        });
                    });
                }
            });
            sink.write(&e.buf)?;
        }
        sink.patch(self.segment_data, &self.seek_head(cues_rel).buf)?;
        if let Some(at) = self.duration_at {
            sink.patch(at, &(self.end_ms.max(0) as f64).to_be_bytes())?;
        }
        sink.patch(self.segment_at + 4, &size8(sink.pos() - self.segment_data)?)
    }
}

/// Opus's pre-skip as a CodecDelay.
fn codec_delay_ns(head: &super::OpusHead) -> i64 {
    i64::from(head.pre_skip) * 1_000_000_000 / 48_000
}

/// A (Simple)Block's header: track number, timestamp offset, flags.
fn push_block_header(h: &mut Ebml, track: u32, rel: i16, flags: u8) {
    h.size(u64::from(track));
    h.buf.extend_from_slice(&rel.to_be_bytes());
    h.buf.push(flags);
}
