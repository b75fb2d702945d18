//! MPEG-TS and M2TS demuxing.
//!
//! Our own reader rather than a transport-stream crate: the one we looked at drops what
//! a demuxer needs (the PID of each PES, random access and continuity information),
//! panics on a bad PMT length and rejects unknown stream types, PES extensions and
//! sections that span packets. This one reads:
//!
//! * **Framing** ([`packet`]): 188-byte packets, or M2TS's 192-byte units (a 4-byte
//!   arrival timestamp, then the packet), from the first sync byte (a file may start
//!   mid-packet). When sync is lost, the next place where three packets in a row have
//!   their sync byte is searched for; [`next_packet`](ContainerDemuxer::next_packet)
//!   returns one [`Error::InvalidBitstream`] for the damage (its offset, the bytes
//!   skipped) and the calls after it go on with the packets after it, as broadcast
//!   receivers do. A cut last packet is reported after the packets before it.
//! * **Programs** ([`psi`]): the PAT, then the PMT of the *first* program the PAT lists
//!   (other programs are not read); its elementary streams become the tracks, in PMT
//!   order, with the PID as [`Track::id`], the codec from the stream type (private data,
//!   0x06, from its descriptors, else from what its first PES holds, as ffmpeg probes
//!   it: Blu-ray muxers write AAC so) and never an error (`ts-0xNN` for a type this crate
//!   does not know). The PMT must appear in the first [`PSI_PROBE`] bytes. Later PMT
//!   versions are not followed: the tracks are fixed at open.
//! * **Streams** ([`stream`], [`pes`]): PES reassembled per PID; a continuity gap does not
//!   drop the PES (decoders conceal), it is logged at debug level. PTS/DTS are in
//!   1/90000 s, 33-bit wraps unwrapped per track starting from the file's first
//!   timestamp (so after a wrap they go on past 2^33); DTS is the PTS when a PES has
//!   none. H.264/HEVC PES become one packet each (an Annex-B access unit; keyframes from
//!   NAL unit types, see [`es::is_keyframe`]); AAC in ADTS becomes one packet per frame
//!   with the header stripped and an AudioSpecificConfig on the track ([`adts`]); Opus
//!   one packet per access unit with its control header stripped and an `OpusHead`
//!   built from the PMT's channel configuration ([`opus`]; trims are not applied); any
//!   other stream one packet per PES (random access from the adaptation field for
//!   video and data, every packet for audio and subtitles).
//! * **Facts**: picture size and frame rate from the first SPS, sample rate and channels
//!   from the first ADTS (or MPEG audio) header, read from the first [`STREAM_PROBE`]
//!   bytes at open; each track's duration from its first PTS there and its last PTS in
//!   the last [`TAIL_PROBE`] bytes (as ffmpeg estimates it).
//! * **Packet tables**: one scan of the file makes every track's table (reading the
//!   packets costs the same for one track as for all), each kept until asked for; it keeps
//!   only the first [`stream::TABLE_KEEP`] bytes of each video PES (for the keyframe
//!   test). Damage does not end a table: the scan goes on and [`PacketTable::damage`]
//!   holds the first damage met in the file.
//! * **Seeking** to a packet entry goes to the transport packet its PES starts in,
//!   forgets every PES being gathered, and passes over the sought track's packets before
//!   the entry's (the AAC frames of the same PES before it). Every track's timestamps are
//!   unwrapped from the entry's there. An AAC frame that began in the PES before the
//!   sought one is not read again: in a well-formed stream the sought PES's frames are
//!   found as in a full read; in damaged data they may be found at other places.
//!
//! Memory: a PES is dropped (and reported) past 64 MiB; every buffer holds bytes read
//! from the file, and the AAC frames of a PES become packets one at a time as they are
//! asked for, so memory stays within a small multiple of the file's size.

mod adts;
mod av1;
mod es;
mod opus;
mod packet;
mod pes;
mod psi;
mod stream;

use std::fmt::Display;

use tracing::debug;

use super::detect::{DETECT_BYTES, ts_sync};
use super::io::ByteSource;
use super::types::{
    AudioCodec, AudioInfo, CodecConfig, Container, PacketEntry, Track, TrackCodec, TrackKind, VideoInfo,
};
use super::{ContainerDemuxer, MediaPacket, PacketTable};
use packet::{Framer, Step};
use pes::WRAP;
use psi::{Pmt, SectionBuffer};
use stream::{Form, Item, Queued, Skip, Stream, Streams};
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::{Error, Result};

/// Bytes read from the first packet to find the PAT and the first program's PMT.
pub const PSI_PROBE: u64 = 8 << 20;
/// Bytes read at open (from the first packet) for each track's first parameter set or
/// audio header and first timestamps.
pub const STREAM_PROBE: u64 = 4 << 20;
/// Bytes at the end of the file read for each track's last timestamp.
pub const TAIL_PROBE: u64 = 2 << 20;

/// The error for damage at `offset`: "malformed MPEG-TS: `what`".
pub(crate) fn malformed(offset: u64, what: impl Display) -> Error {
    Error::invalid_bitstream(offset, format!("malformed MPEG-TS: {what}"))
}

/// An MPEG-TS or M2TS file: its first program's streams, read packet by packet.
pub(crate) struct TsDemuxer {
    framer: Framer,
    /// Offset of the first packet's unit.
    first: u64,
    tracks: Vec<Track>,
    streams: Streams,
    /// The end was reached and everything before it given out.
    ended: bool,
    /// Every track's packet table, once one was asked for.
    tables: Option<Tables>,
}

impl TsDemuxer {
    /// Finds the packets, the PAT and PMT, and each track's facts.
    pub fn open(mut src: ByteSource) -> Result<Self> {
        let prefix = src.peek(DETECT_BYTES)?;
        let (unit, first) = ts_sync(prefix).ok_or_else(|| malformed(0, "no transport packets at the start"))?;
        let first = first as u64;
        let mut framer = Framer::new(src, unit);
        framer.seek(first);
        let pmt = find_pmt(&mut framer, first)?;
        let mut tracks = Vec::new();
        let mut list = Vec::new();
        for s in &pmt.streams {
            if s.pid == 0 || s.pid >= packet::NULL_PID || list.iter().any(|(pid, _)| *pid == s.pid) {
                debug!(pid = s.pid, "MPEG-TS: PMT stream on a reserved or repeated PID left out");
                continue;
            }
            let (kind, codec) = s.codec(pmt.registration);
            let form = match (&codec, kind) {
                (TrackCodec::Video(c @ (Codec::H264 | Codec::Hevc | Codec::Mpeg2 | Codec::Mpeg4)), _) => Form::Nal(*c),
                (TrackCodec::Video(c @ Codec::Other("mpeg1video")), _) => Form::Nal(*c),
                (TrackCodec::Video(Codec::Av1), _) => Form::Av1,
                (TrackCodec::Audio(AudioCodec::Aac), _) => Form::Adts,
                (TrackCodec::Audio(AudioCodec::Opus), _) => Form::Opus,
                (_, k) => Form::Whole { always_key: matches!(k, TrackKind::Audio | TrackKind::Subtitle) },
            };
            let index = tracks.len();
            // Opus: the identification header from the PMT's channel configuration.
            let opus_head =
                (codec == TrackCodec::Audio(AudioCodec::Opus)).then(|| s.opus_channels.and_then(opus::opus_head));
            let (config, audio) = match opus_head.flatten() {
                Some(head) => {
                    let config = CodecConfig::OpusHead(head);
                    let info = crate::audio::facts(&codec, &config, 48_000, 0);
                    (config, Some(info))
                }
                None => (CodecConfig::None, None),
            };
            tracks.push(Track {
                index,
                id: u64::from(s.pid),
                kind,
                codec,
                config,
                time_base: Rational::MPEG_90K,
                duration: None,
                packets: None,
                frame_rate: None,
                video: None,
                audio,
                language: s.language.clone(),
                window: None,
                is_default: true,
            });
            list.push((s.pid, Stream::new(index, form)));
        }
        let mut d = TsDemuxer { framer, first, tracks, streams: Streams::new(list), ended: false, tables: None };
        let first_pts = d.probe()?;
        d.durations(&first_pts)?;
        d.rewind()?;
        Ok(d)
    }

    /// The next packet or damage, in file order; `None` at the end.
    fn next_item(&mut self) -> Result<Option<Item>> {
        loop {
            match self.streams.out.queue.pop_front() {
                Some(Queued::Item(item)) => return Ok(Some(item)),
                Some(Queued::Frames(mut run)) => {
                    let Some(p) = run.next_packet() else { continue };
                    self.streams.out.queue.push_front(Queued::Frames(run));
                    if !self.streams.out.skips(p.track, p.pos, p.pts) {
                        return Ok(Some(Item::Packet(p)));
                    }
                    continue;
                }
                None => {}
            }
            if self.ended {
                return Ok(None);
            }
            match self.framer.next()? {
                Step::Packet(pos, p) => self.streams.packet(pos, p),
                Step::Damage(e) => return Ok(Some(Item::Damage(e))),
                Step::End => {
                    self.streams.flush();
                    if let Some(e) = self.framer.take_tail_damage() {
                        self.streams.out.queue.push_back(Queued::Item(Item::Damage(e)));
                    }
                    self.ended = true;
                }
            }
        }
    }

    /// Reading restarts at `pos` with nothing gathered; timestamps unwrap from `reference`.
    fn restart(&mut self, pos: u64, reference: Option<i64>) {
        self.framer.seek(pos);
        self.streams.reset(reference);
        self.ended = false;
    }

    /// Reads the first [`STREAM_PROBE`] bytes (less when every track's facts are found
    /// sooner) for each track's parameter sets or audio header; returns each track's
    /// lowest PTS there.
    fn probe(&mut self) -> Result<Vec<Option<i64>>> {
        let n = self.tracks.len();
        let mut first_pts: Vec<Option<i64>> = vec![None; n];
        let mut dts: Vec<Vec<i64>> = vec![Vec::new(); n];
        let mut seen = vec![0usize; n];
        let mut facts = vec![false; n];
        self.restart(self.first, None);
        while self.framer.src.position() - self.first < STREAM_PROBE {
            let p = match self.next_item()? {
                None => break,
                Some(Item::Damage(_)) => continue,
                Some(Item::Packet(p)) => p,
            };
            let t = p.track;
            seen[t] += 1;
            if let Some(pts) = p.pts {
                first_pts[t] = Some(first_pts[t].map_or(pts, |f: i64| f.min(pts)));
            }
            if let (Some(d), true) = (p.dts, dts[t].len() < 32) {
                dts[t].push(d);
            }
            if !facts[t] {
                facts[t] = self.learn(t, &p);
            }
            if (0..n).all(|t| facts[t] && seen[t] >= 8) {
                break;
            }
        }
        for (t, d) in dts.iter().enumerate() {
            let track = &mut self.tracks[t];
            if track.kind == TrackKind::Video && track.frame_rate.is_none() {
                // No VUI timing: the smallest step between decode times.
                let step = d.windows(2).map(|w| w[1] - w[0]).filter(|&s| s > 0).min();
                track.frame_rate = step.map(|s| Rational::new(90_000, s).reduced());
            }
        }
        Ok(first_pts)
    }

    /// Fills in what packet `p` of track `t` tells about the track; true once it did.
    fn learn(&mut self, t: usize, p: &MediaPacket) -> bool {
        let stream = self.streams.of_track(t).map(|i| &self.streams.list[i]);
        let track = &mut self.tracks[t];
        match stream.map(|s| s.form) {
            Some(Form::Nal(codec)) => {
                let Some(f) = es::video_facts(codec, &p.data) else { return false };
                track.video = Some(f.info);
                track.frame_rate = f.frame_rate;
                true
            }
            Some(Form::Av1) => av1_facts(track, &p.data),
            Some(Form::Adts) => {
                let Some(h) = stream.and_then(|s| s.first_adts) else { return false };
                adts_facts(track, &h);
                true
            }
            Some(Form::Whole { .. }) if track.codec == TrackCodec::Other("ts-0x06".into()) => {
                // Private data nothing names: what its first PES holds.
                let i = self.streams.of_track(t).unwrap_or(0);
                if av1::sniff(&p.data) {
                    // As FFmpeg 5.1 to 8.1 write AV1: its later PES are read as AV1's.
                    track.kind = TrackKind::Video;
                    track.codec = TrackCodec::Video(Codec::Av1);
                    self.streams.list[i].form = Form::Av1;
                    if let Ok(tu) = av1::to_low_overhead(p.data.clone()) {
                        av1_facts(track, &tu);
                    }
                    return true;
                }
                let Some(codec) = es::sniff_private(&p.data) else { return true };
                track.kind = TrackKind::Audio;
                track.codec = TrackCodec::Audio(codec);
                if codec == AudioCodec::Aac {
                    // Its later PES are split into frames like any AAC's.
                    self.streams.list[i].form = Form::Adts;
                    if let Ok(h) = adts::AdtsHeader::read(&p.data) {
                        adts_facts(track, &h);
                    }
                } else {
                    self.streams.list[i].form = Form::Whole { always_key: true };
                }
                true
            }
            _ if matches!(track.codec, TrackCodec::Audio(AudioCodec::Ac3 | AudioCodec::Eac3)) => {
                let Ok(h) = crate::audio::Ac3Header::parse(&p.data) else { return false };
                let layout = h.layout();
                track.audio = Some(AudioInfo {
                    sample_rate: h.sample_rate,
                    channels: layout.channels,
                    layout,
                    gapless: None,
                    codec_delay_ns: 0,
                });
                true
            }
            _ if track.codec == TrackCodec::Audio(AudioCodec::Mp2) => {
                let Some((layer, rate, channels)) = es::mpeg_audio_header(&p.data) else { return false };
                if layer == 3 {
                    track.codec = TrackCodec::Audio(AudioCodec::Mp3);
                }
                track.audio = Some(AudioInfo::new(AudioCodec::Mp3, rate, channels));
                true
            }
            _ => true,
        }
    }

    /// Sets each track's duration: from its first PTS (`first_pts`) to the end of its
    /// last packet in the last [`TAIL_PROBE`] bytes.
    fn durations(&mut self, first_pts: &[Option<i64>]) -> Result<()> {
        let len = self.framer.src.len();
        let mut from = len.saturating_sub(TAIL_PROBE).max(self.first);
        if from > self.first {
            self.framer.src.seek(from);
            let window = self.framer.src.peek(DETECT_BYTES)?;
            match ts_sync(window) {
                Some((unit, at)) if unit == self.framer.unit => from += at as u64,
                _ => from = self.first,
            }
        }
        // The tail's timestamps are unwrapped from its own first one, then compared
        // with the first PTS modulo 2^33 (a file shorter than 26 hours).
        let origin = self.streams.origin.take();
        self.restart(from, None);
        let mut end: Vec<Option<i64>> = vec![None; self.tracks.len()];
        loop {
            let p = match self.next_item() {
                Ok(Some(Item::Packet(p))) => p,
                Ok(Some(Item::Damage(_))) => continue,
                Ok(None) => break,
                Err(e) => {
                    self.streams.origin = origin;
                    return Err(e);
                }
            };
            let track = &self.tracks[p.track];
            let step = p.duration.or_else(|| {
                let r = track.frame_rate.filter(|r| r.num > 0)?;
                Some(90_000 * r.den / r.num)
            });
            if let Some(pts) = p.pts {
                let e = pts + step.unwrap_or(0);
                end[p.track] = Some(end[p.track].map_or(e, |x: i64| x.max(e)));
            }
        }
        self.streams.origin = origin;
        for (t, track) in self.tracks.iter_mut().enumerate() {
            if let (Some(a), Some(b)) = (first_pts[t], end[t]) {
                let d = (b - a).rem_euclid(WRAP);
                track.duration = (d > 0).then_some(d);
            }
        }
        Ok(())
    }
}

/// Every track's packet table, from one scan of the file, until it is asked for.
struct Tables {
    /// By track; `None` once handed out (a second call for it scans again).
    entries: Vec<Option<Vec<PacketEntry>>>,
    /// The first damage met: offset and reason.
    damage: Option<(u64, String)>,
}

impl TsDemuxer {
    /// Scans the whole file once for the packet tables of every track (one read costs the
    /// same for one track as for all: the packets are read either way), then restarts.
    fn scan_tables(&mut self) -> Result<Tables> {
        self.restart(self.first, None);
        self.streams.out.table = Some(vec![Vec::new(); self.tracks.len()]);
        let mut damage = None;
        let result = loop {
            match self.next_item() {
                Ok(Some(Item::Damage(e))) => {
                    if damage.is_none() {
                        damage = Some(match e {
                            Error::InvalidBitstream { offset, reason } => (offset, reason),
                            other => (0, other.to_string()),
                        });
                    }
                }
                Ok(Some(Item::Packet(_))) => {}
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        let entries = self.streams.out.table.take().unwrap_or_default();
        self.restart(self.first, None);
        let entries = entries
            .into_iter()
            .map(|mut e| {
                e.shrink_to_fit();
                Some(e)
            })
            .collect();
        result.map(|()| Tables { entries, damage })
    }
}

/// The size and frame rate an AV1 track's sequence header in `tu` states; false when the
/// unit has none.
fn av1_facts(track: &mut Track, tu: &[u8]) -> bool {
    let Some(h) = video_hw_bitstream::av1::sequence_header(tu) else { return false };
    track.video = Some(VideoInfo::of_av1(&h));
    if let Some((num, den)) = h.frame_rate {
        track.frame_rate = i64::try_from(den).ok().map(|den| Rational::new(i64::from(num), den).reduced());
    }
    true
}

/// Reads packets from `first` until the PAT and the PMT of its first program are found.
fn find_pmt(framer: &mut Framer, first: u64) -> Result<Pmt> {
    let mut pat = SectionBuffer::default();
    let mut pmt = SectionBuffer::default();
    // (program, PMT PID) once the PAT is read.
    let mut program: Option<(u16, u16)> = None;
    let mut found = None;
    let mut last_problem = String::new();
    loop {
        let (pos, p) = match framer.next()? {
            Step::Packet(pos, p) => (pos, p),
            Step::Damage(e) => {
                debug!("MPEG-TS: {e}");
                continue;
            }
            Step::End => break,
        };
        if pos - first >= PSI_PROBE {
            break;
        }
        let Ok(h) = packet::parse_header(p) else { continue };
        if !h.has_payload {
            continue;
        }
        let payload = &p[h.payload_start..];
        if h.pid == 0 {
            pat.push(h.unit_start, payload, |s| match psi::parse_pat(s) {
                Ok(programs) if program.is_none() => program = programs.first().copied(),
                Ok(_) => {}
                Err(e) => last_problem = format!("PAT at byte {pos}: {e}"),
            });
        } else if let Some((number, _)) = program.filter(|&(_, pid)| pid == h.pid) {
            pmt.push(h.unit_start, payload, |s| match psi::parse_pmt(s) {
                Ok(m) if m.program == number => found = Some(m),
                Ok(_) => {}
                Err(e) => last_problem = format!("PMT at byte {pos}: {e}"),
            });
            if let Some(m) = found.take() {
                return Ok(m);
            }
        }
    }
    let what = match program {
        None => "no PAT".to_string(),
        Some((n, pid)) => format!("no PMT of program {n} (PID {pid})"),
    };
    let why = if last_problem.is_empty() { String::new() } else { format!(" (last problem: {last_problem})") };
    Err(malformed(first, format!("{what} in the first {} MiB{why}", PSI_PROBE >> 20)))
}

impl ContainerDemuxer for TsDemuxer {
    fn container(&self) -> Container {
        Container::MpegTs
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        match self.next_item()? {
            Some(Item::Packet(p)) => Ok(Some(p)),
            Some(Item::Damage(e)) => Err(e),
            None => Ok(None),
        }
    }

    fn seek_to(&mut self, track: usize, entry: &PacketEntry) -> Result<()> {
        if entry.seek < self.first || entry.seek >= self.framer.src.len() {
            return Err(Error::invalid_input(format!("no transport packet at byte {}", entry.seek)));
        }
        // Every track's timestamps are near the sought one's there.
        self.restart(entry.seek, entry.dts.or(entry.pts));
        self.streams.out.skip = Some(Skip { track, pos: entry.pos, pts: entry.pts });
        Ok(())
    }

    fn rewind(&mut self) -> Result<()> {
        self.restart(self.first, None);
        Ok(())
    }

    fn packet_table(&mut self, track: usize) -> Result<PacketTable> {
        // Each table is handed out once (moved, not copied: a table of millions of
        // packets is large); asking again for a track scans again.
        if self.tables.as_ref().is_none_or(|t| t.entries.get(track).is_none_or(Option::is_none)) {
            self.tables = Some(self.scan_tables()?);
        }
        let Some(t) = &mut self.tables else { return Ok(PacketTable::default()) };
        Ok(PacketTable {
            entries: t.entries.get_mut(track).and_then(Option::take).unwrap_or_default(),
            damage: t.damage.as_ref().map(|(offset, reason)| Error::invalid_bitstream(*offset, reason)),
        })
    }
}

#[cfg(test)]
mod tests;

/// An AAC track's configuration and facts from its first ADTS header: the
/// AudioSpecificConfig MP4 and Matroska need, and what it says of rate and channels.
fn adts_facts(track: &mut Track, h: &adts::AdtsHeader) {
    track.config = CodecConfig::AudioSpecificConfig(h.audio_specific_config());
    track.audio = Some(crate::audio::facts(&track.codec, &track.config, h.sample_rate, h.channels()));
}
