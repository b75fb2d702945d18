//! Fragmented MP4: `ftyp`, a `moov` with empty sample tables and `mvex/trex`, then one
//! `moof`+`mdat` per fragment. Nothing is ever patched, so the output may be a stream.
//!
//! A fragment starts at each key frame of the first video track (or about every 2 s
//! when there is no video, or when the held fragment passes 32 MiB), and when it would
//! last longer than the muxer's fragment duration, if one is set
//! ([`Muxer::fragment_duration`](super::Muxer::fragment_duration)): then a fragment may
//! start on a frame that is not a key frame, which its `trun` flags say (each sample's
//! flags are its own: only key frames are sync samples). A fragment is held in memory
//! until the next one starts, because the `moof` giving its samples' sizes comes first;
//! each is flushed to the output whole, so a process killed while writing leaves a file
//! that plays up to its last complete fragment.
//! Each `traf` has a `tfhd` with default-base-is-moof, a `tfdt` (version 1) and a `trun`
//! (version 1: signed composition offsets) with the data offset and every sample's
//! duration, size, flags and composition offset.
//!
//! Timeline: the `moov` is written when the first packet leaves the interleaver, which
//! by then holds the first packets of every track (unless one lags by more than its
//! limits). A track known then gets an edit list like the MP4 writer's, for its
//! B-frame delay, priming or late start (its media edit lasts "to the end": duration 0),
//! and its decode times start at 0. A track whose first packet comes later has no edit
//! list: its decode times are moved later just enough not to start before time zero, and
//! its composition offsets shrink by as much (going negative where needed: `trun`
//! version 1).

use super::interleave::{Emitted, cmp_time};
use super::mp4::{timescale, to_media};
use super::mp4_boxes::{Bw, Edit, MOVIE_TIMESCALE, TrakHead, brands, ftyp, mvhd, trak};
use super::sink::Sink;
use super::{ContainerWriter, Origin, OutTrack, Start};
use video_hw_types::codec::Rational;
use video_hw_types::error::{Error, Result};

/// A fragment is cut when it holds this much media data.
const MAX_FRAGMENT_BYTES: usize = 32 << 20;
/// Or this many samples.
const MAX_FRAGMENT_SAMPLES: usize = 100_000;
/// Seconds per fragment without video.
const SECONDS_WITHOUT_VIDEO: i64 = 2;

/// `trun` sample flags of a sync sample (depends on nothing).
const SYNC: u32 = 0x0200_0000;
/// Of another sample (depends on others, not a sync sample).
const NON_SYNC: u32 = 0x0101_0000;

#[derive(Debug, Clone, Copy)]
struct FragSample {
    duration: u32,
    size: u32,
    flags: u32,
    cts: i32,
}

#[derive(Debug, Default)]
struct TrackRun {
    /// Decode time of the first sample (media timescale).
    base: i64,
    /// Decode time of the last sample.
    last_dts: i64,
    samples: Vec<FragSample>,
    data: Vec<u8>,
}

/// The fragmented MP4 writer.
pub(crate) struct FragmentWriter {
    origin: Origin,
    sequence: u32,
    /// Per track, subtracted from decode and from presentation times (media timescale):
    /// set at the header for tracks known then, else by the track's first packet.
    shift: Vec<Option<(i64, i64)>>,
    runs: Vec<TrackRun>,
    /// The first packet of the held fragment: decode time and time base.
    started_at: Option<(i64, Rational)>,
    bytes: usize,
    samples: usize,
    last_duration: Vec<Option<i64>>,
    video: Option<usize>,
    /// The longest a fragment may last (`None`: cut at key frames only).
    max_duration: Option<std::time::Duration>,
    /// The end of the header and the fragments handed to the output whole.
    durable: Option<u64>,
}

impl FragmentWriter {
    pub fn new(tracks: usize) -> Self {
        FragmentWriter {
            origin: Origin { value: 0, time_base: Rational::new(1, 1) },
            sequence: 0,
            shift: vec![None; tracks],
            runs: (0..tracks).map(|_| TrackRun::default()).collect(),
            started_at: None,
            bytes: 0,
            samples: 0,
            last_duration: vec![None; tracks],
            video: None,
            max_duration: None,
            durable: None,
        }
    }

    /// True when the packet at `dts` (in `tb`) would make the held fragment last longer
    /// than [`max_duration`](Self::max_duration).
    fn too_long(&self, dts: i64, tb: Rational) -> bool {
        let (Some(max), Some((start, start_tb))) = (self.max_duration, self.started_at) else { return false };
        // In microseconds of the held fragment's time base (whole ticks, rounded).
        let us = i64::try_from(max.as_micros()).unwrap_or(i64::MAX);
        let limit = start.saturating_add(start_tb.rescale(us, Rational::new(1, 1_000_000)).max(1));
        cmp_time(dts, tb, limit, start_tb).is_ge()
    }

    fn flush(&mut self, sink: &mut Sink, tracks: &[OutTrack]) -> Result<()> {
        if self.samples == 0 {
            return Ok(());
        }
        self.sequence = self.sequence.wrapping_add(1);
        let mut b = Bw::default();
        let mut offsets = Vec::new();
        b.boxed(b"moof", |b| {
            b.full(b"mfhd", 0, 0, |b| {
                b.u32(self.sequence);
                Ok(())
            })?;
            for (t, run) in tracks.iter().zip(&self.runs) {
                if run.samples.is_empty() {
                    continue;
                }
                b.boxed(b"traf", |b| {
                    b.full(b"tfhd", 0, 0x02_0000, |b| {
                        b.u32(t.number);
                        Ok(())
                    })?;
                    b.full(b"tfdt", 1, 0, |b| {
                        b.u64(run.base as u64);
                        Ok(())
                    })?;
                    b.full(b"trun", 1, 0x000f01, |b| {
                        b.u32(run.samples.len() as u32);
                        offsets.push(b.buf.len());
                        b.i32(0); // data offset, patched below
                        for s in &run.samples {
                            b.u32(s.duration);
                            b.u32(s.size);
                            b.u32(s.flags);
                            b.i32(s.cts);
                        }
                        Ok(())
                    })
                })?;
            }
            Ok(())
        })?;
        let data: u64 = self.runs.iter().map(|r| r.data.len() as u64).sum();
        let large = data + 8 > u64::from(u32::MAX);
        let head_len = if large { 16 } else { 8 };
        let mut at = b.buf.len() as u64 + head_len;
        for (slot, run) in self.runs.iter().filter(|r| !r.samples.is_empty()).enumerate() {
            let off = i32::try_from(at).map_err(|_| Error::invalid_input("fragment header over 2 GiB"))?;
            let p = offsets[slot];
            b.buf[p..p + 4].copy_from_slice(&off.to_be_bytes());
            at += run.data.len() as u64;
        }
        sink.write(&b.buf)?;
        if large {
            let mut h = 1u32.to_be_bytes().to_vec();
            h.extend_from_slice(b"mdat");
            h.extend_from_slice(&(data + 16).to_be_bytes());
            sink.write(&h)?;
        } else {
            let mut h = ((data + 8) as u32).to_be_bytes().to_vec();
            h.extend_from_slice(b"mdat");
            sink.write(&h)?;
        }
        for run in &mut self.runs {
            sink.write(&run.data)?;
            run.samples.clear();
            run.data.clear();
        }
        sink.flush()?; // a live reader gets each fragment whole and at once
        self.durable = Some(sink.pos());
        self.samples = 0;
        self.bytes = 0;
        self.started_at = None;
        Ok(())
    }
}

impl ContainerWriter for FragmentWriter {
    fn begin(&mut self, sink: &mut Sink, tracks: &[OutTrack], start: &Start) -> Result<()> {
        self.origin = start.origin;
        self.video = OutTrack::primary_video(tracks);
        let mut edits = Vec::with_capacity(tracks.len());
        for (slot, t) in tracks.iter().enumerate() {
            let mut list = Vec::new();
            if let Some((first_dts, presentation)) = start.tracks[slot] {
                let zero = to_media(t, self.origin.in_base(t.time_base))?;
                let d0 = to_media(t, first_dts)? - zero;
                let p = to_media(t, presentation)? - zero;
                // Decode times from 0; presentation `pts - zero` through the edit.
                self.shift[slot] = Some((zero + d0, zero + d0));
                let media = Rational::new(1, i64::from(timescale(t).0));
                let empty = Rational::new(1, i64::from(MOVIE_TIMESCALE)).rescale(p, media).max(0) as u64;
                if empty > 0 {
                    list.push(Edit { segment_duration: empty, media_time: -1 });
                }
                if empty > 0 || p != d0 {
                    list.push(Edit { segment_duration: 0, media_time: (p - d0).max(0) });
                }
            }
            edits.push(list);
        }
        let mut b = Bw::default();
        ftyp(&mut b, b"iso5", 0x200, &brands(tracks, true))?;
        b.boxed(b"moov", |b| {
            mvhd(b, 0, tracks.len() as u32 + 1)?;
            for (t, edits) in tracks.iter().zip(&edits) {
                let head = TrakHead {
                    track: t,
                    timescale: timescale(t).0,
                    media_duration: 0,
                    duration: 0,
                    edits,
                    rates: (0, 0, 0),
                };
                trak(b, &head, |b| {
                    for kind in [b"stts", b"stsc", b"stco"] {
                        b.full(kind, 0, 0, |b| {
                            b.u32(0);
                            Ok(())
                        })?;
                    }
                    b.full(b"stsz", 0, 0, |b| {
                        b.u64(0);
                        Ok(())
                    })
                })?;
            }
            b.boxed(b"mvex", |b| {
                for t in tracks {
                    b.full(b"trex", 0, 0, |b| {
                        b.u32(t.number);
                        b.u32(1);
                        b.zeros(12);
                        Ok(())
                    })?;
                }
                Ok(())
            })
        })?;
        sink.write(&b.buf)?;
        sink.flush()?;
        self.durable = Some(sink.pos());
        Ok(())
    }

    fn packet(&mut self, sink: &mut Sink, tracks: &[OutTrack], e: Emitted) -> Result<()> {
        let slot = e.packet.slot;
        let t = &tracks[slot];
        let (dts, pts) = (to_media(t, e.packet.dts)?, to_media(t, e.packet.pts)?);
        let (dts_sub, pts_sub) = match self.shift[slot] {
            Some(s) => s,
            None => {
                // A track that came after the header: not before time zero.
                let zero = to_media(t, self.origin.in_base(t.time_base))?;
                *self.shift[slot].insert((zero.min(dts), zero))
            }
        };
        let (dts, pts) = (dts - dts_sub, pts - pts_sub);
        if dts < 0 {
            return Err(Error::invalid_input(format!("track {}: decode time before the start", t.index)));
        }
        let cts = i32::try_from(pts - dts).map_err(|_| {
            Error::invalid_input(format!("track {}: pts and dts {} ticks apart (at most 2^31)", t.index, pts - dts))
        })?;
        let size = u32::try_from(e.packet.data.len())
            .map_err(|_| Error::invalid_input(format!("track {}: a packet over 4 GiB", t.index)))?;
        let cut = match self.video {
            Some(v) => slot == v && e.packet.keyframe,
            None => self.started_at.is_some_and(|(d, tb)| {
                let limit = d.saturating_add(tb.rescale(SECONDS_WITHOUT_VIDEO, Rational::new(1, 1)));
                cmp_time(e.packet.dts, t.time_base, limit, tb).is_ge()
            }),
        } || self.too_long(e.packet.dts, t.time_base);
        if cut {
            self.flush(sink, tracks)?;
        }
        let fallback = self.last_duration[slot];
        let duration = match e.duration(None) {
            Some(d) => Some(to_media(t, d)?),
            None => fallback,
        };
        self.last_duration[slot] = duration;
        let run = &mut self.runs[slot];
        if let Some(prev) = run.samples.last_mut() {
            // The time to this sample is the previous one's exact duration.
            prev.duration = u32::try_from(dts - run.last_dts).unwrap_or(u32::MAX);
        } else {
            run.base = dts;
        }
        run.last_dts = dts;
        run.samples.push(FragSample {
            duration: duration.map_or(0, |d| d.clamp(0, i64::from(u32::MAX)) as u32),
            size,
            flags: if e.packet.keyframe { SYNC } else { NON_SYNC },
            cts,
        });
        run.data.extend_from_slice(&e.packet.data);
        self.started_at.get_or_insert((e.packet.dts, t.time_base));
        self.bytes += e.packet.data.len();
        self.samples += 1;
        if self.bytes >= MAX_FRAGMENT_BYTES || self.samples >= MAX_FRAGMENT_SAMPLES {
            self.flush(sink, tracks)?;
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink, tracks: &[OutTrack]) -> Result<()> {
        self.flush(sink, tracks)
    }

    fn set_fragment_duration(&mut self, max: std::time::Duration) {
        self.max_duration = Some(max);
    }

    fn durable(&self) -> Option<u64> {
        self.durable
    }
}
