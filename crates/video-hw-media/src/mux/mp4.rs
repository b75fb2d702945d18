//! MP4 with the `moov` first ("faststart").
//!
//! The media data is written as it comes, into an `mdat` right after the `ftyp`; only the
//! sample tables are kept in memory (about 32 bytes a sample). At the end the `moov` is
//! built, the media data is moved forward by the `moov`'s size, and the `moov` is written
//! into the gap — the same two passes as ffmpeg's `+faststart`, done in place in bounded
//! chunks. (Reserving room for the `moov` up front would need its size before the
//! packets are known; holding the media data elsewhere would need a temporary file.)
//! The chunk offsets in the `moov` already count the shift; `co64` replaces `stco` when
//! an offset passes 4 GiB.
//!
//! Tables: `stts` from the decode timestamps, `ctts` (version 1 when an offset is
//! negative), `stss` unless every sample is a sync sample, `stsz`, `stsc` with a chunk per
//! run of consecutive samples of one track. Each track's edit list shows it from its
//! presentation start (see [`presentation_starts`]): an empty edit for the time
//! it starts after the output's time zero, then its media from that start for its
//! duration (to its window's end when the source cut it there).

use super::interleave::Emitted;
use super::mp4_boxes::{Bw, Edit, MOVIE_TIMESCALE, TrakHead, brands, ftyp, mvhd, runs, trak};
use super::sink::Sink;
use super::{ContainerWriter, Origin, OutTrack, Start, presentation_starts};
use video_hw_types::codec::Rational;
use video_hw_types::error::{Error, Result};

/// The most samples one track may have (the tables hold `u32` counts).
const MAX_SAMPLES: usize = u32::MAX as usize;

/// One sample written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    /// File offset before the `moov` goes in front.
    pub offset: u64,
    pub size: u32,
    /// Decode time, media timescale.
    pub dts: i64,
    /// Composition offset (`pts - dts`).
    pub cts: i32,
    pub sync: bool,
}

/// A track's media timescale and the factor taking its packets' ticks to it
/// (`num/den` time bases become timescale `den`, ticks times `num`).
pub(crate) fn timescale(t: &OutTrack) -> (u32, i64) {
    (t.time_base.den as u32, t.time_base.num)
}

/// `ticks` of the track's time base in its media timescale.
pub(crate) fn to_media(t: &OutTrack, ticks: i64) -> Result<i64> {
    ticks
        .checked_mul(timescale(t).1)
        .ok_or_else(|| Error::invalid_input(format!("track {}: timestamp {ticks} out of range", t.index)))
}

/// The MP4 writer.
pub(crate) struct Mp4Writer {
    mdat_at: u64,
    samples: Vec<Vec<Sample>>,
    /// Duration of each track's last sample (media timescale).
    last_duration: Vec<Option<i64>>,
}

impl Mp4Writer {
    pub fn new(tracks: usize) -> Self {
        Mp4Writer { mdat_at: 0, samples: vec![Vec::new(); tracks], last_duration: vec![None; tracks] }
    }
}

impl ContainerWriter for Mp4Writer {
    fn begin(&mut self, sink: &mut Sink, tracks: &[OutTrack], _start: &Start) -> Result<()> {
        let mut b = Bw::default();
        ftyp(&mut b, b"isom", 0x200, &brands(tracks, false))?;
        sink.write(&b.buf)?;
        self.mdat_at = sink.pos();
        // A 64-bit mdat header, its size patched at the end.
        let mut head = 1u32.to_be_bytes().to_vec();
        head.extend_from_slice(b"mdat");
        head.extend_from_slice(&0u64.to_be_bytes());
        sink.write(&head)
    }

    fn packet(&mut self, sink: &mut Sink, tracks: &[OutTrack], e: Emitted) -> Result<()> {
        let slot = e.packet.slot;
        let t = &tracks[slot];
        let list = &self.samples[slot];
        if list.len() >= MAX_SAMPLES {
            return Err(Error::invalid_input(format!("track {}: more than {MAX_SAMPLES} samples", t.index)));
        }
        let size = u32::try_from(e.packet.data.len())
            .map_err(|_| Error::invalid_input(format!("track {}: a packet over 4 GiB", t.index)))?;
        let dts = to_media(t, e.packet.dts)?;
        let cts = to_media(t, e.packet.pts)? - dts;
        let cts = i32::try_from(cts).map_err(|_| {
            Error::invalid_input(format!("track {}: pts and dts {} ticks apart (at most 2^31)", t.index, cts))
        })?;
        let fallback = match list.len() {
            n if n >= 2 => Some(list[n - 1].dts - list[n - 2].dts),
            _ => None,
        };
        let duration = match e.duration(None) {
            Some(d) => Some(to_media(t, d)?),
            None => fallback,
        };
        self.last_duration[slot] = duration;
        let offset = sink.pos();
        sink.write(&e.packet.data)?;
        self.samples[slot].push(Sample { offset, size, dts, cts, sync: e.packet.keyframe });
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink, tracks: &[OutTrack]) -> Result<()> {
        let mdat_end = sink.pos();
        sink.patch(self.mdat_at + 8, &(mdat_end - self.mdat_at).to_be_bytes())?;
        let mut plans: Vec<TrackPlan> = tracks
            .iter()
            .zip(&self.samples)
            .zip(&self.last_duration)
            .map(|((t, s), d)| TrackPlan::new(t, s, *d))
            .collect();
        let seen: Vec<(Option<i64>, Option<i64>)> = plans.iter().map(|p| (p.window_start, p.first_pts)).collect();
        for (plan, start) in plans.iter_mut().zip(presentation_starts(tracks, &seen)) {
            plan.start = start;
        }
        let origin = Origin::earliest(
            plans
                .iter()
                .zip(tracks)
                .filter_map(|(p, t)| p.start.map(|s| (s, Rational::new(1, i64::from(timescale(t).0))))),
        );
        // The moov's size depends on stco vs co64, which depends on the moov's size: grow
        // until it holds (at most twice: offsets only move up).
        let mut shift = 0u64;
        let mut moov = Vec::new();
        for _ in 0..4 {
            moov = build_moov(tracks, &self.samples, &plans, origin, shift)?;
            if moov.len() as u64 == shift {
                break;
            }
            shift = moov.len() as u64;
        }
        if moov.len() as u64 != shift {
            return Err(Error::invalid_input("moov size does not settle"));
        }
        sink.shift_tail(self.mdat_at, shift)?;
        sink.patch(self.mdat_at, &moov)
    }
}

/// What a track's tables and edits come to.
#[derive(Debug, Clone)]
struct TrackPlan {
    /// Window start (media timescale).
    window_start: Option<i64>,
    /// Earliest `pts`.
    first_pts: Option<i64>,
    /// Presentation start.
    start: Option<i64>,
    /// Presentation end.
    end: Option<i64>,
    /// Sample durations.
    durations: Vec<u32>,
}

impl TrackPlan {
    fn new(t: &OutTrack, samples: &[Sample], last: Option<i64>) -> TrackPlan {
        let mult = timescale(t).1;
        let mut durations: Vec<u32> =
            samples.windows(2).map(|w| u32::try_from(w[1].dts - w[0].dts).unwrap_or(u32::MAX)).collect();
        if !samples.is_empty() {
            durations.push(last.map_or(0, |d| d.clamp(0, i64::from(u32::MAX)) as u32));
        }
        let first_pts = samples.iter().map(|s| s.dts + i64::from(s.cts)).min();
        let window = t.window.map(|(s, e)| (s.saturating_mul(mult), e.map(|e| e.saturating_mul(mult))));
        let last_end = samples.iter().zip(&durations).map(|(s, d)| s.dts + i64::from(s.cts) + i64::from(*d)).max();
        let end = window.and_then(|(_, e)| e).or(last_end);
        TrackPlan { window_start: window.map(|w| w.0), first_pts, start: None, end, durations }
    }
}

fn build_moov(
    tracks: &[OutTrack],
    samples: &[Vec<Sample>],
    plans: &[TrackPlan],
    origin: Origin,
    shift: u64,
) -> Result<Vec<u8>> {
    let mut traks = Vec::with_capacity(tracks.len());
    let mut movie_duration = 0u64;
    for ((t, list), plan) in tracks.iter().zip(samples).zip(plans) {
        let (ts, _) = timescale(t);
        let media = Rational::new(1, i64::from(ts));
        let movie = Rational::new(1, i64::from(MOVIE_TIMESCALE));
        let media_duration: u64 = plan.durations.iter().map(|&d| u64::from(d)).sum();
        let mut edits = Vec::new();
        let mut duration = 0u64;
        if let (Some(start), Some(end), Some(first)) = (plan.start, plan.end, list.first()) {
            let zero = origin.in_base(media);
            let empty = movie.rescale(start.saturating_sub(zero), media).max(0) as u64;
            let media_time = start.saturating_sub(first.dts).max(0);
            let segment = movie.rescale(end.saturating_sub(start), media).max(0) as u64;
            let cut_end = t.window.is_some_and(|(_, e)| e.is_some());
            if empty > 0 {
                edits.push(Edit { segment_duration: empty, media_time: -1 });
            }
            if empty > 0 || media_time != 0 || cut_end {
                edits.push(Edit { segment_duration: segment, media_time });
            }
            duration = empty + segment;
        }
        movie_duration = movie_duration.max(duration);
        let rates = bit_rates(list, &plan.durations, ts);
        let head = TrakHead { track: t, timescale: ts, media_duration, duration, edits: &edits, rates };
        let mut b = Bw::default();
        trak(&mut b, &head, |b| tables(b, list, &plan.durations, shift))?;
        traks.push(b.buf);
    }
    let mut b = Bw::default();
    b.boxed(b"moov", |b| {
        mvhd(b, movie_duration, tracks.len() as u32 + 1)?;
        for t in &traks {
            b.bytes(t);
        }
        Ok(())
    })?;
    Ok(b.buf)
}

/// `esds` rates: the largest sample, the most bits in any one second, the average.
fn bit_rates(samples: &[Sample], durations: &[u32], timescale: u32) -> (u32, u32, u32) {
    let total: u64 = samples.iter().map(|s| u64::from(s.size)).sum();
    let ticks: u64 = durations.iter().map(|&d| u64::from(d)).sum();
    let avg = (total * 8 * u64::from(timescale)).checked_div(ticks).unwrap_or(0);
    let (mut max, mut second, mut bytes) = (0u64, None, 0u64);
    for s in samples {
        let sec = s.dts.div_euclid(i64::from(timescale.max(1)));
        if second != Some(sec) {
            second = Some(sec);
            bytes = 0;
        }
        bytes += u64::from(s.size);
        max = max.max(bytes * 8);
    }
    let buffer = samples.iter().map(|s| s.size).max().unwrap_or(0);
    let clamp = |v: u64| v.min(u64::from(u32::MAX)) as u32;
    (buffer, clamp(max.max(avg)), clamp(avg))
}

/// The sample table boxes after `stsd`; chunk offsets moved by `shift`.
fn tables(b: &mut Bw, s: &[Sample], durations: &[u32], shift: u64) -> Result<()> {
    b.full(b"stts", 0, 0, |b| {
        let r = runs(durations.iter().copied());
        b.u32(r.len() as u32);
        for (n, d) in r {
            b.u32(n);
            b.u32(d);
        }
        Ok(())
    })?;
    if s.iter().any(|x| x.cts != 0) {
        let negative = s.iter().any(|x| x.cts < 0);
        b.full(b"ctts", u8::from(negative), 0, |b| {
            let r = runs(s.iter().map(|x| x.cts));
            b.u32(r.len() as u32);
            for (n, c) in r {
                b.u32(n);
                b.i32(c);
            }
            Ok(())
        })?;
    }
    if !s.iter().all(|x| x.sync) {
        b.full(b"stss", 0, 0, |b| {
            b.u32(s.iter().filter(|x| x.sync).count() as u32);
            for (i, _) in s.iter().enumerate().filter(|(_, x)| x.sync) {
                b.u32(i as u32 + 1);
            }
            Ok(())
        })?;
    }
    // Chunks: runs of samples lying back to back.
    let mut chunks: Vec<(u64, u32)> = Vec::new();
    for (i, x) in s.iter().enumerate() {
        let follows = i > 0 && s[i - 1].offset + u64::from(s[i - 1].size) == x.offset;
        match chunks.last_mut() {
            Some((_, n)) if follows => *n += 1,
            _ => chunks.push((x.offset + shift, 1)),
        }
    }
    b.full(b"stsc", 0, 0, |b| {
        let mut entries: Vec<(u32, u32)> = Vec::new();
        for (i, &(_, n)) in chunks.iter().enumerate() {
            if entries.last().is_none_or(|&(_, m)| m != n) {
                entries.push((i as u32 + 1, n));
            }
        }
        b.u32(entries.len() as u32);
        for (first, n) in entries {
            b.u32(first);
            b.u32(n);
            b.u32(1);
        }
        Ok(())
    })?;
    b.full(b"stsz", 0, 0, |b| {
        let same = s.first().filter(|f| s.iter().all(|x| x.size == f.size)).map(|f| f.size);
        b.u32(same.unwrap_or(0));
        b.u32(s.len() as u32);
        if same.is_none() {
            for x in s {
                b.u32(x.size);
            }
        }
        Ok(())
    })?;
    if chunks.iter().all(|&(o, _)| o <= u64::from(u32::MAX)) {
        b.full(b"stco", 0, 0, |b| {
            b.u32(chunks.len() as u32);
            for &(o, _) in &chunks {
                b.u32(o as u32);
            }
            Ok(())
        })
    } else {
        b.full(b"co64", 0, 0, |b| {
            b.u32(chunks.len() as u32);
            for &(o, _) in &chunks {
                b.u64(o);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(offset: u64, dts: i64) -> Sample {
        Sample { offset, size: 100, dts, cts: 0, sync: true }
    }

    fn find<'a>(buf: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
        let at = buf.windows(4).position(|w| w == kind).expect("box present") - 4;
        let size = u32::from_be_bytes(buf[at..at + 4].try_into().unwrap()) as usize;
        &buf[at..at + size]
    }

    #[test]
    fn offsets_past_4_gib_switch_to_co64() {
        // Three samples, the last chunk beyond 4 GiB (a synthetic table: nothing written).
        let s = [sample(48, 0), sample(148, 10), sample((5u64 << 30) + 7, 20)];
        let mut b = Bw::default();
        tables(&mut b, &s, &[10, 10, 10], 1000).unwrap();
        assert!(b.buf.windows(4).all(|w| w != b"stco"));
        let co64 = find(&b.buf, b"co64");
        assert_eq!(u32::from_be_bytes(co64[12..16].try_into().unwrap()), 2);
        assert_eq!(u64::from_be_bytes(co64[16..24].try_into().unwrap()), 1048);
        assert_eq!(u64::from_be_bytes(co64[24..32].try_into().unwrap()), (5u64 << 30) + 1007);
        // Two chunks: samples 1-2 back to back, then 3 alone.
        let stsc = find(&b.buf, b"stsc");
        assert_eq!(&stsc[12..16], &2u32.to_be_bytes());
        // Below 4 GiB it is stco.
        let mut b = Bw::default();
        tables(&mut b, &s[..2], &[10, 10], 0).unwrap();
        assert!(b.buf.windows(4).any(|w| w == b"stco"));
    }

    #[test]
    fn negative_composition_offsets_use_ctts_version_1() {
        let mut s = [sample(0, 0), sample(100, 10)];
        s[1].cts = -5;
        s[0].sync = true;
        s[1].sync = false;
        let mut b = Bw::default();
        tables(&mut b, &s, &[10, 10], 0).unwrap();
        let ctts = find(&b.buf, b"ctts");
        assert_eq!(ctts[8], 1);
        assert_eq!(i32::from_be_bytes(ctts[28..32].try_into().unwrap()), -5);
        let stss = find(&b.buf, b"stss");
        assert_eq!(&stss[12..20], &[0, 0, 0, 1, 0, 0, 0, 1]);
    }
}
