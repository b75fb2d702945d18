//! From transport packets to media packets: per PID, continuity checks, PES assembly,
//! timestamps unwrapped past their 33-bit wraps, and each PES turned into packets (one
//! per access unit for video; one per AAC frame, ADTS header stripped, for AAC; one per
//! PES otherwise) handed to a queue or, for packet tables, to lists of entries.

use std::collections::VecDeque;

use tracing::debug;

use super::adts::{self, AdtsHeader};
use super::av1;
use super::es;
use super::opus;
use super::packet::{TS_PACKET, parse_header};
use super::pes::{Fed, MAX_PES, Pes, WRAP, unwrap};
use crate::types::{MediaPacket, PacketEntry};
use video_hw_bitstream::packet::PacketPeek;
use video_hw_types::codec::Codec;
use video_hw_types::error::Error;

/// The longest ADTS frame (13-bit `frame_length`): the most carried from one PES to the
/// next.
const MAX_CARRY: usize = 1 << 13;

/// How a stream's PES become packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Start-code video, H.264/HEVC and MPEG-1/2/4 Part 2: one packet per PES (an access
    /// unit), keyframes from NAL unit types or picture headers ([`es::is_keyframe`]).
    Nal(Codec),
    /// AAC in ADTS: one packet per frame, headers stripped.
    Adts,
    /// Opus: one packet per access unit, control headers stripped.
    Opus,
    /// AV1: one packet per PES, in the low-overhead format (see [`av1`]), keyframes
    /// from the frame headers.
    Av1,
    /// Anything else: one packet per PES.
    Whole {
        /// Every packet is a random access point (audio, subtitles); otherwise the
        /// adaptation field's `random_access_indicator` says.
        always_key: bool,
    },
}

/// Timing and place of a packet being made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Meta {
    pts: Option<i64>,
    dts: Option<i64>,
    duration: Option<i64>,
    keyframe: bool,
    pos: u64,
}

/// One elementary stream being demuxed.
#[derive(Debug)]
pub struct Stream {
    /// Its track.
    pub track: usize,
    /// How its PES become packets.
    pub form: Form,
    pes: Pes,
    /// A PES is being gathered (a start was seen since the last reset).
    open: bool,
    /// The last continuity counter of a packet with payload.
    cc: Option<u8>,
    /// The last timestamp given out (unwrapped): where the next is unwrapped from.
    reference: Option<i64>,
    /// The start of an ADTS frame the last PES ended inside, and the frame's timing.
    carry: Vec<u8>,
    carry_meta: Meta,
    /// The PTS the next ADTS frame has when its PES carries none.
    next_pts: Option<i64>,
    /// The first ADTS header seen (the track's configuration).
    pub first_adts: Option<AdtsHeader>,
    /// AV1: access units that show no picture (a hidden frame the specification lets a
    /// muxer put in a PES of its own), with the first one's timing and place, waiting to
    /// join the next unit that shows one: a packet is a temporal unit, as elsewhere.
    av1_pending: Option<(Meta, Vec<u8>)>,
}

impl Stream {
    /// A stream of `track` whose PES become packets as `form` says.
    pub fn new(track: usize, form: Form) -> Self {
        Stream {
            track,
            form,
            pes: Pes::default(),
            open: false,
            cc: None,
            reference: None,
            carry: Vec::new(),
            carry_meta: Meta::default(),
            next_pts: None,
            first_adts: None,
            av1_pending: None,
        }
    }

    /// Forgets everything about where reading was; timestamps are unwrapped from
    /// `reference` next (from the file's first timestamp when `None`).
    fn reset(&mut self, reference: Option<i64>) {
        self.open = false;
        self.cc = None;
        self.reference = reference;
        self.carry.clear();
        self.next_pts = None;
        self.av1_pending = None;
    }
}

/// What the demuxer hands out: a packet, or the damage before the packets after it.
#[derive(Debug)]
pub enum Item {
    /// A packet.
    Packet(MediaPacket),
    /// Damage found; reading goes on after it.
    Damage(Error),
}

/// What waits to be handed out.
#[derive(Debug)]
pub enum Queued {
    /// An item.
    Item(Item),
    /// Audio frames of one PES, made into packets one at a time as they are asked for (a
    /// PES of many tiny frames never becomes as many packets at once).
    Frames(FrameRun),
}

/// One frame of a PES that holds several: where it starts (its header), where its data
/// lies, and its duration in 90 kHz ticks.
fn next_unit(adts_frames: bool, b: &[u8], at: &mut usize) -> Option<(usize, std::ops::Range<usize>, i64)> {
    if adts_frames {
        let f = adts::next_frame(b, at)?;
        let h = f.header;
        Some((f.start, f.start + h.header_len..f.start + h.frame_len, adts::duration_90k(&h)))
    } else {
        let u = opus::next_unit(b, at)?;
        let body = u.body..u.body + u.len;
        Some((u.start, body.clone(), opus::duration_90k(&b[body])))
    }
}

/// The frames of one PES (AAC or Opus) not yet handed out.
#[derive(Debug)]
pub struct FrameRun {
    track: usize,
    /// ADTS frames (else Opus access units).
    adts: bool,
    /// The PES payload, after what the PES before left of a frame.
    buf: Vec<u8>,
    /// Where the next frame is looked for.
    at: usize,
    /// Where the whole frames end.
    end: usize,
    /// Bytes at the start of `buf` carried over from the PES before: frames that start
    /// there take their timing from `carry_meta`.
    carried: usize,
    carry_meta: Meta,
    meta: Meta,
}

impl FrameRun {
    /// The next frame as a packet (ADTS header stripped), or `None` when all are out.
    pub fn next_packet(&mut self) -> Option<MediaPacket> {
        let (start, body, dur) = next_unit(self.adts, &self.buf[..self.end], &mut self.at)?;
        let m = if start < self.carried { &mut self.carry_meta } else { &mut self.meta };
        let pts = m.pts;
        m.pts = pts.map(|p| p + dur);
        Some(MediaPacket {
            track: self.track,
            data: self.buf[body].to_vec(),
            pts,
            dts: pts,
            duration: Some(dur),
            keyframe: true,
            pos: m.pos,
            seek: m.pos,
            discard_padding_ns: 0,
        })
    }
}

/// Packets of a track to pass over after a seek: those before the one sought.
#[derive(Debug, Clone, Copy)]
pub struct Skip {
    /// The track sought in.
    pub track: usize,
    /// The sought packet's [`MediaPacket::pos`].
    pub pos: u64,
    /// Its PTS (tells the AAC frames of one PES apart).
    pub pts: Option<i64>,
}

/// Where made packets go.
#[derive(Debug, Default)]
pub struct Output {
    /// Packets and damage for `next_packet`.
    pub queue: VecDeque<Queued>,
    /// When making packet tables: every track's entries (packets are not queued then).
    pub table: Option<Vec<Vec<PacketEntry>>>,
    /// After a seek: the packet to start the sought track at.
    pub skip: Option<Skip>,
}

/// A packet's bytes: owned (moved into the packet) or borrowed (copied if needed).
enum Bytes<'a> {
    Owned(Vec<u8>),
    Slice(&'a [u8]),
}

impl Output {
    /// Hands out a packet of `track` whose data is `size` bytes (`data` may hold fewer
    /// when making a table: only what was kept).
    fn emit(&mut self, track: usize, m: Meta, size: usize, data: Bytes<'_>) {
        if self.skips(track, m.pos, m.pts) {
            return;
        }
        if let Some(table) = self.table.as_mut().and_then(|t| t.get_mut(track)) {
            table.push(PacketEntry {
                pts: m.pts,
                dts: m.dts,
                duration: m.duration,
                keyframe: m.keyframe,
                pos: m.pos,
                size: size as u32,
                seek: m.pos,
            });
            return;
        }
        let data = match data {
            Bytes::Owned(v) => v,
            Bytes::Slice(s) => s.to_vec(),
        };
        self.queue.push_back(Queued::Item(Item::Packet(MediaPacket {
            track,
            data,
            pts: m.pts,
            dts: m.dts,
            duration: m.duration,
            keyframe: m.keyframe,
            pos: m.pos,
            seek: m.pos,
            discard_padding_ns: 0,
        })));
    }

    /// True for a packet of the track sought in that comes before the one sought (after a
    /// seek); the sought one ends the skipping.
    pub fn skips(&mut self, track: usize, pos: u64, pts: Option<i64>) -> bool {
        let Some(s) = self.skip else { return false };
        if track != s.track {
            return false;
        }
        let before = pos < s.pos || (pos == s.pos && pts.zip(s.pts).is_some_and(|(a, b)| a < b));
        if !before {
            self.skip = None;
        }
        before
    }
}

/// Every stream, by PID, and where their packets go.
#[derive(Debug)]
pub struct Streams {
    /// The streams, in track order.
    pub list: Vec<Stream>,
    /// PID → index into `list` + 1 (0: not a track's PID).
    by_pid: Vec<u16>,
    /// The file's first timestamp: unwrapping starts from it.
    pub origin: Option<i64>,
    /// Where packets go.
    pub out: Output,
}

/// Payload bytes of a video PES kept when making a packet table: enough for the NAL
/// units before the first slice, which say whether it is a keyframe.
pub const TABLE_KEEP: usize = 16 << 10;

impl Streams {
    /// The streams of `(pid, stream)` pairs.
    pub fn new(streams: Vec<(u16, Stream)>) -> Self {
        let mut by_pid = vec![0u16; 1 << 13];
        let mut list = Vec::new();
        for (pid, s) in streams {
            by_pid[usize::from(pid & 0x1fff)] = (list.len() + 1) as u16;
            list.push(s);
        }
        Streams { list, by_pid, origin: None, out: Output::default() }
    }

    /// The stream of `track`.
    pub fn of_track(&self, track: usize) -> Option<usize> {
        self.list.iter().position(|s| s.track == track)
    }

    /// Forgets every PES being gathered and every queued packet; timestamps are
    /// unwrapped from `reference` next (from the file's first one when `None`).
    pub fn reset(&mut self, reference: Option<i64>) {
        for s in &mut self.list {
            s.reset(reference);
        }
        self.out.queue.clear();
        self.out.skip = None;
    }

    /// Takes one transport packet (its 188 bytes) whose unit starts at `pos`.
    pub fn packet(&mut self, pos: u64, p: &[u8]) {
        let pid = (usize::from(p[1] & 0x1f) << 8) | usize::from(p[2]);
        let slot = usize::from(self.by_pid[pid]);
        if slot == 0 {
            return;
        }
        let i = slot - 1;
        let h = match parse_header(p) {
            Ok(h) => h,
            Err(why) => {
                debug!(pos, pid, "MPEG-TS: packet dropped: {why}");
                self.list[i].pes.damaged = true;
                return;
            }
        };
        let st = &mut self.list[i];
        if h.error {
            debug!(pos, pid, "MPEG-TS: transport_error_indicator set; payload kept");
            st.pes.damaged = true;
        }
        if !h.has_payload {
            return;
        }
        if let Some(last) = st.cc
            && !h.discontinuity
        {
            if h.cc == last {
                debug!(pos, pid, "MPEG-TS: duplicate packet dropped");
                return;
            }
            if h.cc != (last + 1) & 0x0f {
                // The PES still goes out whole as far as it came: decoders conceal.
                debug!(pos, pid, expected = (last + 1) & 0x0f, got = h.cc, "MPEG-TS: continuity gap");
                st.pes.damaged = true;
            }
        }
        st.cc = Some(h.cc);
        let payload = &p[h.payload_start..TS_PACKET];
        if h.unit_start {
            if st.open {
                self.finish(i);
            }
            let table = self.out.table.is_some();
            let st = &mut self.list[i];
            let keep = match (st.form, table) {
                // AV1's key frame test reads whole OBUs.
                (_, false) | (Form::Adts | Form::Opus | Form::Av1, true) => usize::MAX,
                (Form::Nal(_), true) => TABLE_KEEP,
                (Form::Whole { .. }, true) => 0,
            };
            st.pes.start(pos, h.random_access, keep);
            st.open = true;
        } else if !st.open {
            return; // the rest of a PES whose start was not seen
        }
        let st = &mut self.list[i];
        match st.pes.feed(payload) {
            Fed::Open => {}
            Fed::Full => self.finish(i),
            Fed::Bad(why) => {
                st.open = false;
                let at = st.pes.pos;
                if st.pes.payload + payload.len() > MAX_PES {
                    self.out.queue.push_back(Queued::Item(Item::Damage(super::malformed(
                        at,
                        format!("PES of PID {pid} starting at byte {at} is larger than 64 MiB; dropped"),
                    ))));
                } else {
                    debug!(pos = at, pid, "MPEG-TS: PES dropped: {why}");
                }
            }
        }
    }

    /// Gives out every PES still being gathered (at the end of the input).
    pub fn flush(&mut self) {
        for i in 0..self.list.len() {
            if self.list[i].open {
                self.finish(i);
            }
            let st = &mut self.list[i];
            if let Some((m, tu)) = st.av1_pending.take() {
                // Hidden frames at the end: the decoder says that they show nothing.
                let track = st.track;
                self.out.emit(track, m, tu.len(), Bytes::Owned(tu));
            }
            let st = &mut self.list[i];
            if !st.carry.is_empty() {
                debug!(pos = st.carry_meta.pos, "MPEG-TS: ADTS frame cut off by the end dropped");
                st.carry.clear();
            }
        }
    }

    /// The 33-bit `raw` timestamp of stream `i` unwrapped, next to its last one.
    fn unwrap_ts(&mut self, i: usize, raw: u64) -> i64 {
        let st = &mut self.list[i];
        let reference = st.reference.or(self.origin).unwrap_or((raw as i64) & (WRAP - 1));
        let v = unwrap(raw, reference);
        self.origin.get_or_insert(v);
        st.reference = Some(v);
        v
    }

    /// Turns stream `i`'s gathered PES into packets.
    fn finish(&mut self, i: usize) {
        self.list[i].open = false;
        let Some(h) = self.list[i].pes.header else {
            debug!(pos = self.list[i].pes.pos, "MPEG-TS: PES without a whole header dropped");
            return;
        };
        if h.payload_len.is_some_and(|l| l != self.list[i].pes.payload) {
            debug!(pos = self.list[i].pes.pos, "MPEG-TS: PES shorter than its PES_packet_length");
        }
        let dts = h.dts.or(h.pts).map(|raw| self.unwrap_ts(i, raw));
        let pts = match (h.pts, dts) {
            (Some(raw), Some(d)) => Some(unwrap(raw, d)),
            _ => None,
        };
        let st = &mut self.list[i];
        let (track, pos, size) = (st.track, st.pes.pos, st.pes.payload);
        let mut m = Meta { pts, dts, duration: None, keyframe: true, pos };
        match st.form {
            Form::Nal(codec) => {
                // A table keeps only the PES's first bytes: when they end before the first
                // slice, the adaptation field's flag says.
                m.keyframe = es::is_keyframe(codec, &st.pes.data).unwrap_or(st.pes.random_access);
                let data = if self.out.table.is_some() {
                    Bytes::Slice(&st.pes.data)
                } else {
                    Bytes::Owned(std::mem::take(&mut st.pes.data))
                };
                self.out.emit(track, m, size, data);
            }
            Form::Av1 => self.finish_av1(i, m),
            Form::Whole { always_key } => {
                m.keyframe = always_key || st.pes.random_access;
                let data = if self.out.table.is_some() {
                    Bytes::Slice(&[])
                } else {
                    Bytes::Owned(std::mem::take(&mut st.pes.data))
                };
                self.out.emit(track, m, size, data);
            }
            Form::Adts => self.split_frames(i, m, true),
            Form::Opus => self.split_frames(i, m, false),
        }
    }

    /// Gives out stream `i`'s AV1 PES as a low-overhead unit, joined to the next one when
    /// it shows no picture.
    fn finish_av1(&mut self, i: usize, mut m: Meta) {
        let st = &mut self.list[i];
        let (track, pos, random_access) = (st.track, st.pes.pos, st.pes.random_access);
        let au = match av1::to_low_overhead(std::mem::take(&mut st.pes.data)) {
            Ok(au) => au,
            Err((at, why)) => {
                // What waited for this unit goes out as it is.
                if let Some((pm, tu)) = st.av1_pending.take() {
                    self.out.emit(track, pm, tu.len(), Bytes::Owned(tu));
                }
                // The offset is the transport packet the PES starts in; its payload spans
                // packets, so the place within it is given as a payload offset.
                let what = format!("AV1 PES of track {track} starting at byte {pos}: {why} (payload byte {at})");
                let e = super::malformed(pos, what);
                self.out.queue.push_back(Queued::Item(Item::Damage(e)));
                return;
            }
        };
        let tu = match st.av1_pending.take() {
            Some((first, mut tu)) => {
                tu.extend_from_slice(&au);
                m = Meta { pts: m.pts, ..first };
                tu
            }
            None => au,
        };
        // A unit whose frame headers do not read is the decoder's to judge.
        let info = PacketPeek::new(Codec::Av1).inspect(&tu);
        if info.is_some_and(|i| !i.shown) && tu.len() < MAX_PES {
            st.av1_pending = Some((m, tu));
            return;
        }
        m.keyframe = info.map_or(random_access, |i| i.keyframe);
        self.out.emit(track, m, tu.len(), Bytes::Owned(tu));
    }

    /// Gives out each frame of stream `i`'s PES (ADTS frames after what the last PES left
    /// of one; Opus access units): table entries at once, packets as a [`FrameRun`].
    fn split_frames(&mut self, i: usize, m: Meta, adts_frames: bool) {
        let st = &mut self.list[i];
        let carried = st.carry.len();
        let buf = if carried > 0 {
            let mut joined = std::mem::take(&mut st.carry);
            joined.extend_from_slice(&st.pes.data);
            joined
        } else {
            std::mem::take(&mut st.pes.data)
        };
        let carry_meta = st.carry_meta;
        let meta = Meta { pts: m.pts.or(st.next_pts), ..m };
        // Where the frames end, the timing after them and the first header, without
        // making packets (a table takes its entries here).
        let (mut carry_end, mut end_meta) = (carry_meta, meta);
        let mut at = 0;
        let mut frames = 0usize;
        while let Some((start, body, dur)) = next_unit(adts_frames, &buf, &mut at) {
            if adts_frames && st.first_adts.is_none() {
                st.first_adts = AdtsHeader::read(&buf[start..]).ok();
            }
            let fm = if start < carried { &mut carry_end } else { &mut end_meta };
            let pts = fm.pts;
            fm.pts = pts.map(|p| p + dur);
            st.next_pts = fm.pts;
            frames += 1;
            if self.out.table.is_some() {
                let e = Meta { pts, dts: pts, duration: Some(dur), keyframe: true, pos: fm.pos };
                self.out.emit(st.track, e, body.len(), Bytes::Slice(&[]));
            }
        }
        // What is left of ADTS is the start of a frame that goes on in the next PES (Opus
        // access units do not span PES).
        let rest = at;
        st.carry.clear();
        if adts_frames && buf.len() - rest <= MAX_CARRY && rest < buf.len() {
            st.carry.extend_from_slice(&buf[rest..]);
            st.carry_meta = if rest < carried { carry_end } else { end_meta };
        }
        if self.out.table.is_none() && frames > 0 {
            let run = FrameRun { track: st.track, adts: adts_frames, buf, at: 0, end: rest, carried, carry_meta, meta };
            self.out.queue.push_back(Queued::Frames(run));
        } else if carried == 0 {
            // Keep the allocation for the next PES.
            st.pes.data = buf;
        }
    }
}
