//! MP4/MOV demuxing, fragmented MP4 too.
//!
//! The boxes are read by our own bounded parser ([`boxes`]) rather than a general box
//! library: a demuxer only needs the structure and the tables, and reading them
//! ourselves lets every count be checked against the bytes that back it, stops at a
//! fixed nesting depth, and keeps a file with an odd or unknown box elsewhere readable.
//! The top level is walked box by box without loading `mdat`; `moov` and each `moof` are
//! read whole (up to [`MAX_MOOV_BYTES`] / [`MAX_MOOF_BYTES`]).
//!
//! Timestamps: `pts = dts + composition offset`, both shifted by the track's edit list
//! (leading empty edits delay the track, the first media edit's start becomes time
//! zero); frames the edit skips (pre-roll) or cuts at the end are outside
//! [`Track::window`].

mod boxes;
mod fragments;
mod metadata;
mod moov;
mod sample_entry;
mod tables;

use std::collections::HashMap;

use super::io::ByteSource;
use super::types::{AudioInfo, Container, MediaPacket, PacketEntry, Track, TrackKind, VideoInfo};
use super::{ContainerDemuxer, PacketTable};
use boxes::{Reader, malformed, parse_header};
use fragments::{FragmentState, parse_moof};
use moov::{EditEntry, Movie, movie_to_media, parse_moov};
use tables::{MAX_SAMPLES, Sample};
use video_hw_types::codec::Rational;
use video_hw_types::error::{Error, Result};

/// The largest `moov` read (a two-hour film's is a few MB).
pub const MAX_MOOV_BYTES: u64 = 256 << 20;
/// The largest `moof` read.
pub const MAX_MOOF_BYTES: u64 = 64 << 20;

/// Where and why a file stops making sense (kept so it can be reported more than once).
#[derive(Debug, Clone)]
struct Damage {
    offset: u64,
    reason: String,
}

impl Damage {
    fn of(e: &Error) -> Damage {
        match e {
            Error::InvalidBitstream { offset, reason } => Damage { offset: *offset, reason: reason.clone() },
            other => Damage { offset: 0, reason: other.to_string() },
        }
    }

    fn error(&self) -> Error {
        Error::invalid_bitstream(self.offset, &self.reason)
    }
}

/// An MP4 file: its tracks and every sample's place, read at open.
pub(crate) struct Mp4Demuxer {
    src: ByteSource,
    tracks: Vec<Track>,
    samples: Vec<Vec<Sample>>,
    /// Added to each track's timestamps (its edit list).
    shift: Vec<i64>,
    /// Every sample of every track by file offset: (track, sample number).
    order: Vec<(u32, u32)>,
    next: usize,
    /// What ended the readable samples, reported after the last of them.
    damage: Option<Damage>,
    damage_told: bool,
}

impl Mp4Demuxer {
    /// Reads the top-level boxes, the movie box and every movie fragment.
    pub fn open(mut src: ByteSource) -> Result<Self> {
        let file_len = src.len();
        let mut movie = None;
        let mut moofs: Vec<(u64, u64, Vec<u8>)> = Vec::new();
        let mut damage: Option<Damage> = None;
        let mut state = FragmentState::default();
        let mut frag_samples: HashMap<u32, Vec<Sample>> = HashMap::new();
        let mut pos = 0u64;
        while pos < file_len {
            src.seek(pos);
            let head = src.peek(16)?.to_vec();
            let h = match parse_header(&head, pos) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    damage.get_or_insert(Damage {
                        offset: pos,
                        reason: format!("truncated MP4: {} stray bytes at the end", file_len - pos),
                    });
                    break;
                }
                Err(e) => {
                    damage.get_or_insert(Damage::of(&e));
                    break;
                }
            };
            let end = h.end(file_len);
            let body_len = end.saturating_sub(h.body_start());
            match &h.kind {
                b"moov" | b"moof" => {
                    let limit = if &h.kind == b"moov" { MAX_MOOV_BYTES } else { MAX_MOOF_BYTES };
                    if body_len > limit {
                        let e = malformed(pos, format!("'{}' box of {body_len} bytes (at most {limit})", h.name()));
                        if movie.is_none() {
                            return Err(e);
                        }
                        damage.get_or_insert(Damage::of(&e));
                        break;
                    }
                    src.seek(h.body_start());
                    let body = match src.read_vec(body_len, &format!("the '{}' box", h.name())) {
                        Ok(b) => b,
                        Err(e) if movie.is_some() || &h.kind == b"moof" => {
                            damage.get_or_insert(Damage::of(&e));
                            break;
                        }
                        Err(e) => return Err(e),
                    };
                    if &h.kind == b"moov" {
                        movie = Some(parse_moov(Reader::new(&body, h.body_start()), file_len)?);
                    } else {
                        moofs.push((pos, h.body_start(), body));
                    }
                }
                _ => {}
            }
            if end > file_len && h.kind != *b"mdat" {
                damage.get_or_insert(Damage {
                    offset: pos,
                    reason: format!("truncated MP4: box '{}' ends past the end of the file", h.name()),
                });
            }
            pos = end;
            // Fragments are placed as soon as the movie box is known (it comes first in
            // fragmented files; a stray moof before it waits).
            if let Some(m) = &movie
                && let Some(defaults) = &m.trex
            {
                for (start, body_start, body) in moofs.drain(..) {
                    let r = Reader::new(&body, body_start);
                    if let Err(e) = parse_moof(r, start, file_len, defaults, &mut state, &mut frag_samples, MAX_SAMPLES)
                    {
                        damage.get_or_insert(Damage::of(&e));
                        pos = file_len;
                        break;
                    }
                }
            }
        }
        let movie = movie.ok_or_else(|| match &damage {
            Some(d) => d.error(),
            None => malformed(0, "no moov box"),
        })?;
        Self::build(src, movie, frag_samples, damage)
    }

    fn build(
        src: ByteSource,
        movie: Movie,
        mut frag_samples: HashMap<u32, Vec<Sample>>,
        mut damage: Option<Damage>,
    ) -> Result<Self> {
        let mut tracks = Vec::new();
        let mut samples = Vec::new();
        let mut shift = Vec::new();
        for (index, trak) in movie.traks.into_iter().enumerate() {
            let mut list = trak.table.samples;
            if let Some(e) = &trak.table.damage {
                let d = Damage::of(e);
                if damage.as_ref().is_none_or(|old| d.offset < old.offset) {
                    damage = Some(d);
                }
            }
            if let Some(more) = frag_samples.remove(&trak.id) {
                list.extend(more);
            }
            let (s, window) = edit(&trak.edits, movie.timescale, trak.timescale, &list);
            let entry = trak.table.entry;
            let video = match (trak.kind, entry.video) {
                (TrackKind::Video, Some(v)) => Some(VideoInfo {
                    width: if v.width > 0 { v.width } else { trak.width },
                    height: if v.height > 0 { v.height } else { trak.height },
                    rotation: trak.rotation,
                    sample_aspect: v.sample_aspect,
                }),
                (TrackKind::Video, None) => Some(VideoInfo {
                    width: trak.width,
                    height: trak.height,
                    rotation: trak.rotation,
                    sample_aspect: None,
                }),
                _ => None,
            };
            let time_base = Rational::new(1, i64::from(trak.timescale));
            let shown: Vec<&Sample> = list
                .iter()
                .filter(|x| {
                    window.is_none_or(|(a, b)| {
                        x.pts().saturating_add(s) >= a && b.is_none_or(|b| x.pts().saturating_add(s) < b)
                    })
                })
                .collect();
            let first = shown.iter().map(|x| x.pts().saturating_add(s)).min();
            let last = shown.iter().map(|x| x.pts().saturating_add(s).saturating_add(i64::from(x.duration))).max();
            let duration = match (first, last) {
                (Some(a), Some(b)) if b > a => Some(b.saturating_sub(a)),
                _ => (trak.duration > 0).then_some(trak.duration as i64),
            };
            let frame_rate = match (trak.kind, duration) {
                (TrackKind::Video, Some(d)) if d > 0 && !shown.is_empty() => {
                    Some(Rational::new(shown.len() as i64 * i64::from(trak.timescale), d).reduced())
                }
                _ => None,
            };
            tracks.push(Track {
                index,
                id: u64::from(trak.id),
                kind: trak.kind,
                codec: entry.codec,
                config: entry.config,
                time_base,
                duration,
                packets: Some(list.len() as u64),
                frame_rate,
                video,
                // The movie's gapless information is the audio's (Apple writes one
                // audio track per file with it).
                audio: entry.audio.map(|a| AudioInfo { gapless: movie.gapless, ..a }),
                language: trak.language,
                window,
                is_default: trak.enabled,
            });
            samples.push(list);
            shift.push(s);
        }
        let mut order: Vec<(u32, u32)> = Vec::with_capacity(samples.iter().map(Vec::len).sum());
        for (t, list) in samples.iter().enumerate() {
            order.extend((0..list.len()).map(|i| (t as u32, i as u32)));
        }
        order.sort_by_key(|&(t, i)| (samples[t as usize][i as usize].offset, t));
        Ok(Mp4Demuxer { src, tracks, samples, shift, order, next: 0, damage, damage_told: false })
    }

    fn entry(&self, track: usize, i: usize) -> PacketEntry {
        let s = &self.samples[track][i];
        let shift = self.shift[track];
        PacketEntry {
            pts: Some(s.pts().saturating_add(shift)),
            dts: Some(s.dts.saturating_add(shift)),
            duration: Some(i64::from(s.duration)),
            keyframe: s.sync,
            pos: s.offset,
            size: s.size,
            seek: i as u64,
        }
    }
}

/// The timestamp shift and presentation window an edit list gives (see the module docs).
/// Handles what writers produce: leading empty edits, then one media edit at normal
/// rate. Further edits (rare: a cut-up track) are not applied past the first.
fn edit(edits: &[EditEntry], movie_ts: u32, media_ts: u32, samples: &[Sample]) -> (i64, Option<(i64, Option<i64>)>) {
    let empty =
        edits.iter().take_while(|e| e.media_time.is_none()).fold(0u64, |a, e| a.saturating_add(e.segment_duration));
    let start = movie_to_media(empty, movie_ts, media_ts);
    let Some(first) = edits.iter().find(|e| e.media_time.is_some()) else {
        return (start, None);
    };
    if first.rate != 1 {
        return (start, None);
    }
    let shift = start.saturating_sub(first.media_time.unwrap_or(0));
    let min_pts = samples.iter().map(|s| s.pts().saturating_add(shift)).min();
    let max_end = samples.iter().map(|s| s.pts().saturating_add(shift).saturating_add(i64::from(s.duration))).max();
    let end = (first.segment_duration > 0)
        .then(|| start.saturating_add(movie_to_media(first.segment_duration, movie_ts, media_ts)));
    let cuts_start = min_pts.is_some_and(|p| p < start);
    let cuts_end = match (end, max_end) {
        (Some(e), Some(m)) => e < m,
        _ => false,
    };
    let window = (cuts_start || cuts_end).then_some((start, if cuts_end { end } else { None }));
    (shift, window)
}

impl ContainerDemuxer for Mp4Demuxer {
    fn container(&self) -> Container {
        Container::Mp4
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        let Some(&(t, i)) = self.order.get(self.next) else {
            if let (Some(d), false) = (&self.damage, self.damage_told) {
                self.damage_told = true;
                return Err(d.error());
            }
            return Ok(None);
        };
        let (t, i) = (t as usize, i as usize);
        let e = self.entry(t, i);
        let mut data = Vec::new();
        if let Err(err) = self.src.read_at(e.pos, u64::from(e.size), &mut data, "a sample") {
            self.next = self.order.len();
            self.damage_told = true;
            return Err(err);
        }
        self.next += 1;
        Ok(Some(MediaPacket {
            track: t,
            data,
            pts: e.pts,
            dts: e.dts,
            duration: e.duration,
            keyframe: e.keyframe,
            pos: e.pos,
            seek: e.seek,
            discard_padding_ns: 0,
        }))
    }

    fn seek_to(&mut self, track: usize, entry: &PacketEntry) -> Result<()> {
        let i = entry.seek as usize;
        let Some(s) = self.samples.get(track).and_then(|l| l.get(i)) else {
            return Err(Error::invalid_input(format!("no sample {i} in track {track}")));
        };
        let key = (s.offset, track as u32);
        let samples = &self.samples;
        self.next = self.order.partition_point(|&(t, j)| (samples[t as usize][j as usize].offset, t) < key);
        self.damage_told = false;
        Ok(())
    }

    fn rewind(&mut self) -> Result<()> {
        self.next = 0;
        self.damage_told = false;
        Ok(())
    }

    fn packet_table(&mut self, track: usize) -> Result<PacketTable> {
        self.rewind()?;
        let entries = (0..self.samples[track].len()).map(|i| self.entry(track, i)).collect();
        Ok(PacketTable { entries, damage: self.damage.as_ref().map(Damage::error) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(pts: i64, duration: u32) -> Sample {
        Sample { dts: pts, duration, ..Sample::default() }
    }

    #[test]
    fn extreme_times_saturate() {
        // A fragment's tfdt near 2^63 (found by fuzzing): no overflow anywhere.
        let s = Sample { dts: i64::MAX - 1, cts: 10, duration: u32::MAX, ..Sample::default() };
        assert_eq!(s.pts(), i64::MAX);
        let e = [EditEntry { segment_duration: u64::MAX, media_time: Some(i64::MAX), rate: 1 }];
        let _ = edit(&e, 1, u32::MAX, &[s]);
        let e = [EditEntry { segment_duration: u64::MAX, media_time: None, rate: 1 }; 3];
        let _ = edit(&e, 1, u32::MAX, &[s]);
    }

    #[test]
    fn edit_lists() {
        let s: Vec<Sample> = (0..10).map(|i| sample(1024 + i * 512, 512)).collect();
        // ffmpeg's B-frame shift: media starts at the first pts, nothing hidden.
        let e = [EditEntry { segment_duration: 5120, media_time: Some(1024), rate: 1 }];
        assert_eq!(edit(&e, 1000, 1000, &s), (-1024, None));
        // Pre-roll: the edit starts 1.5 frames in.
        let e = [EditEntry { segment_duration: 0, media_time: Some(1024 + 768), rate: 1 }];
        assert_eq!(edit(&e, 1000, 1000, &s), (-1792, Some((0, None))));
        // An empty edit first delays the track; the end is cut.
        let e = [
            EditEntry { segment_duration: 100, media_time: None, rate: 1 },
            EditEntry { segment_duration: 2000, media_time: Some(1024), rate: 1 },
        ];
        assert_eq!(edit(&e, 1000, 1000, &s), (100 - 1024, Some((100, Some(2100)))));
    }
}
