//! Interleaving: packets of several tracks, each arriving in its own decode order and at
//! its own pace, leave in decode-time order across tracks (compared in seconds, exactly).
//!
//! A packet leaves when every track still going has a packet waiting (so nothing earlier
//! can still come) and its own track has the next packet waiting too (so the writer
//! learns its exact duration, and which packet is a track's last). Waiting is bounded: when
//! the newest waiting packet is more than [`Limits::max_lead`] ahead of the oldest, or
//! the waiting packets pass [`Limits::max_bytes`] or [`Limits::max_packets`], the oldest
//! leaves anyway (a track that lags, say an encoder's output behind copied audio, then
//! has its packets written a little out of order, which every container allows).

use std::cmp::Ordering;
use std::collections::VecDeque;

use video_hw_types::codec::Rational;

/// One packet, ready to be written: data in the container's form, both timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ready {
    /// The track's position in the muxer's track list.
    pub slot: usize,
    /// The bytes.
    pub data: Vec<u8>,
    /// Presentation timestamp (track time base).
    pub pts: i64,
    /// Decode timestamp (track time base), increasing within the track.
    pub dts: i64,
    /// Duration as the packet gave it.
    pub duration: Option<i64>,
    /// A random access point.
    pub keyframe: bool,
}

/// A packet leaving the interleaver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Emitted {
    /// The packet.
    pub packet: Ready,
    /// The decode timestamp of its track's next packet, when already known.
    pub next_dts: Option<i64>,
    /// It is its track's last packet.
    pub last: bool,
}

impl Emitted {
    /// The packet's duration: up to its track's next packet when known, else as given,
    /// else `fallback` (the track's previous duration).
    pub fn duration(&self, fallback: Option<i64>) -> Option<i64> {
        match self.next_dts {
            Some(next) => Some(next - self.packet.dts),
            None => self.packet.duration.filter(|&d| d >= 0).or(fallback),
        }
    }
}

/// How much the interleaver may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Seconds the newest waiting packet may be ahead of the oldest.
    pub max_lead: Rational,
    /// Bytes of waiting packets.
    pub max_bytes: usize,
    /// Waiting packets.
    pub max_packets: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_lead: Rational::new(2, 1), max_bytes: 64 << 20, max_packets: 20_000 }
    }
}

/// Compares `a` ticks of `ta` with `b` ticks of `tb` exactly. Time bases are positive with
/// numerator and denominator below 2^31 (checked when the muxer is made), so the products
/// stay far inside `i128`.
pub(crate) fn cmp_time(a: i64, ta: Rational, b: i64, tb: Rational) -> Ordering {
    (i128::from(a) * i128::from(ta.num) * i128::from(tb.den))
        .cmp(&(i128::from(b) * i128::from(tb.num) * i128::from(ta.den)))
}

/// True when `b` (in `tb`) is more than `limit` seconds after `a` (in `ta`).
fn later_by_more(a: i64, ta: Rational, b: i64, tb: Rational, limit: Rational) -> bool {
    // b*tb - a*ta > limit  ⇔  (b*tb.num*ta.den - a*ta.num*tb.den) * limit.den > limit.num * ta.den * tb.den
    let lhs = (i128::from(b) * i128::from(tb.num) * i128::from(ta.den))
        .saturating_sub(i128::from(a) * i128::from(ta.num) * i128::from(tb.den));
    let rhs = i128::from(limit.num) * i128::from(ta.den) * i128::from(tb.den);
    lhs.saturating_mul(i128::from(limit.den)) > rhs
}

/// Packets of every track, waiting to leave in decode-time order.
#[derive(Debug)]
pub(crate) struct Interleaver {
    time_bases: Vec<Rational>,
    queues: Vec<VecDeque<Ready>>,
    ended: Vec<bool>,
    bytes: usize,
    packets: usize,
    limits: Limits,
}

impl Interleaver {
    /// One queue per track, with the tracks' time bases.
    pub fn new(time_bases: Vec<Rational>, limits: Limits) -> Self {
        let n = time_bases.len();
        Interleaver {
            time_bases,
            queues: (0..n).map(|_| VecDeque::new()).collect(),
            ended: vec![false; n],
            bytes: 0,
            packets: 0,
            limits,
        }
    }

    /// Queues a packet (its track's packets come in decode order).
    pub fn push(&mut self, p: Ready) {
        self.bytes += p.data.len();
        self.packets += 1;
        self.queues[p.slot].push_back(p);
    }

    /// Marks a track as ended: nothing is waited for from it any more.
    pub fn end(&mut self, slot: usize) {
        self.ended[slot] = true;
    }

    /// The packets of a track waiting now.
    pub fn queued(&self, slot: usize) -> &VecDeque<Ready> {
        &self.queues[slot]
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The track whose first waiting packet is the earliest.
    fn earliest(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (slot, q) in self.queues.iter().enumerate() {
            let Some(head) = q.front() else { continue };
            let earlier = match best {
                None => true,
                Some(b) => {
                    let bh = &self.queues[b][0];
                    cmp_time(head.dts, self.time_bases[slot], bh.dts, self.time_bases[b]) == Ordering::Less
                }
            };
            if earlier {
                best = Some(slot);
            }
        }
        best
    }

    /// True when the newest waiting packet is more than the lead limit after `slot`'s head.
    fn lead_exceeded(&self, slot: usize) -> bool {
        let head = &self.queues[slot][0];
        self.queues.iter().enumerate().any(|(t, q)| {
            q.back().is_some_and(|last| {
                later_by_more(head.dts, self.time_bases[slot], last.dts, self.time_bases[t], self.limits.max_lead)
            })
        })
    }

    /// The next packet that may leave, if any.
    pub fn pop(&mut self) -> Option<Emitted> {
        let m = self.earliest()?;
        let everyone_here = (0..self.queues.len()).all(|t| self.ended[t] || !self.queues[t].is_empty());
        let next_known = self.queues[m].len() >= 2 || self.ended[m];
        let forced =
            self.bytes > self.limits.max_bytes || self.packets > self.limits.max_packets || self.lead_exceeded(m);
        if !(forced || everyone_here && next_known) {
            return None;
        }
        let packet = self.queues[m].pop_front()?;
        self.bytes -= packet.data.len();
        self.packets -= 1;
        let next_dts = self.queues[m].front().map(|p| p.dts);
        let last = self.ended[m] && next_dts.is_none();
        Some(Emitted { packet, next_dts, last })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(slot: usize, dts: i64, size: usize) -> Ready {
        Ready { slot, data: vec![0; size], pts: dts, dts, duration: None, keyframe: true }
    }

    fn drain(il: &mut Interleaver, out: &mut Vec<(usize, i64)>) {
        while let Some(e) = il.pop() {
            out.push((e.packet.slot, e.packet.dts));
        }
    }

    #[test]
    fn order_by_seconds_across_time_bases() {
        // Video at 1/25 s per tick, audio at 1/48000.
        let mut il = Interleaver::new(vec![Rational::new(1, 25), Rational::new(1, 48000)], Limits::default());
        let mut out = Vec::new();
        for i in 0..25 {
            il.push(packet(0, i, 10));
            drain(&mut il, &mut out);
        }
        for i in 0..47 {
            il.push(packet(1, i * 1024, 10));
            drain(&mut il, &mut out);
        }
        il.end(0);
        il.end(1);
        drain(&mut il, &mut out);
        assert_eq!(out.len(), 72);
        let secs: Vec<f64> =
            out.iter().map(|&(s, d)| if s == 0 { d as f64 / 25.0 } else { d as f64 / 48000.0 }).collect();
        assert!(secs.windows(2).all(|w| w[0] <= w[1]), "{out:?}");
        // Per track, decode order is kept.
        assert!(out.iter().filter(|p| p.0 == 1).map(|p| p.1).collect::<Vec<_>>().windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_last_packet_waits_for_its_successor_and_says_so() {
        let mut il = Interleaver::new(vec![Rational::new(1, 1000)], Limits::default());
        il.push(packet(0, 0, 1));
        assert_eq!(il.pop(), None);
        il.push(packet(0, 40, 1));
        let e = il.pop().unwrap();
        assert_eq!((e.packet.dts, e.next_dts, e.last, e.duration(None)), (0, Some(40), false, Some(40)));
        assert_eq!(il.pop(), None);
        il.end(0);
        let e = il.pop().unwrap();
        assert_eq!((e.packet.dts, e.next_dts, e.last, e.duration(Some(7))), (40, None, true, Some(7)));
    }

    #[test]
    fn a_track_running_ahead_is_bounded_in_time_and_bytes() {
        // Audio comes alone for 10 s (the video encoder lags): at most 2 s are held.
        let tb = Rational::new(1, 1000);
        let mut il = Interleaver::new(vec![tb, tb], Limits::default());
        let mut out = Vec::new();
        for i in 0..500 {
            il.push(packet(1, i * 20, 100));
            drain(&mut il, &mut out);
            let held = il.queued(1);
            let span = held.back().unwrap().dts - held.front().unwrap().dts;
            assert!(span <= 2000, "{span} ms held");
        }
        assert!(out.len() >= 390);
        // The video's first packet, late, still leaves (its track is the earliest now).
        il.push(packet(0, 0, 100));
        il.push(packet(0, 40, 100));
        drain(&mut il, &mut out);
        assert!(out.contains(&(0, 0)));
        // A byte bound: 1 MiB packets with a 2 MiB limit.
        let limits = Limits { max_bytes: 2 << 20, ..Limits::default() };
        let mut il = Interleaver::new(vec![tb, tb], limits);
        for i in 0..50 {
            il.push(packet(0, i, 1 << 20));
            while il.pop().is_some() {}
            assert!(il.bytes() <= 3 << 20);
        }
    }

    #[test]
    fn an_ended_or_empty_track_does_not_block_the_others() {
        let tb = Rational::new(1, 1000);
        let mut il = Interleaver::new(vec![tb, tb], Limits::default());
        il.end(1); // a track with no packets at all
        let mut out = Vec::new();
        il.push(packet(0, 0, 1));
        il.push(packet(0, 1, 1));
        drain(&mut il, &mut out);
        assert_eq!(out, vec![(0, 0)]);
        il.end(0);
        drain(&mut il, &mut out);
        assert_eq!(out, vec![(0, 0), (0, 1)]);
    }
}
