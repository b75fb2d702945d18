//! What happens to a packet between [`Muxer::write`](super::Muxer::write) and the
//! interleaver: Annex-B H.264/HEVC becomes length-prefixed, a missing configuration is
//! looked for in the packets, and every packet gets a decode timestamp.
//!
//! Timestamps, by what a track's first packet has:
//! * `dts` (MP4, MPEG-TS, IVF, encoders): kept; each must be later than the one
//!   before (a packet without one then uses its `pts`).
//! * only `pts` (Matroska): decode timestamps are derived. A window of
//!   [`REORDER_WINDOW`] packets is held; the i-th packet gets the i-th smallest `pts`,
//!   shifted back by the largest amount the first window needs so that `dts ≤ pts`
//!   (B-frames: the first `dts` are negative, as an encoder would have made them). A
//!   `pts` earlier than a decode timestamp already given out means the track is
//!   reordered deeper than the window allows, and is refused.
//! * neither (raw Annex-B streams): one frame after the other, by the packet's
//!   duration, else the track's frame rate; `pts = dts` (a raw stream's display order
//!   is not known here; [`FrameIndex`](crate::FrameIndex) finds it).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::OutCodec;
use super::config::{av1c_from_temporal_unit, record_from_annexb, vpcc_from_vp9_frame};
use super::interleave::Ready;
use crate::types::MediaPacket;
use video_hw_bitstream::avcc::{DecoderConfigRecord, annexb_to_length_prefixed};
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::{Error, Result};

/// Packets held to derive decode timestamps from presentation timestamps (deeper than
/// any B-frame pyramid encoders make: x264/x265 reorder at most 16).
pub const REORDER_WINDOW: usize = 32;

/// How a track's packets are timed (chosen by its first packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timing {
    Given,
    Derived,
    Counted,
}

/// A configuration found in a track's packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// From the parameter sets of an Annex-B access unit.
    Nal(DecoderConfigRecord),
    /// An `av1C` from a sequence header.
    Av1C(Vec<u8>),
    /// A `vpcC` body from a key frame.
    VpcC(Vec<u8>),
}

/// One track's input side.
#[derive(Debug)]
pub(crate) struct TrackInput {
    slot: usize,
    /// The track's number in error messages (its `Track::index`).
    index: usize,
    codec: OutCodec,
    /// H.264/HEVC packets come as Annex-B and are converted.
    annexb: bool,
    /// Look for a configuration in the packets.
    find_config: bool,
    /// What was found.
    pub found: Option<Found>,
    timing: Option<Timing>,
    /// One frame in ticks (from the frame rate), for counted timing.
    frame_ticks: Option<i64>,
    last_dts: Option<i64>,
    last_step: Option<i64>,
    window: VecDeque<Ready>,
    unused_pts: BinaryHeap<Reverse<i64>>,
    delay: Option<i64>,
    /// The largest `pts` given out as a decode timestamp so far (before the shift).
    used_up_to: Option<i64>,
    /// Packets taken.
    pub packets: u64,
}

impl TrackInput {
    /// A track's input: `annexb` when its H.264/HEVC packets need converting,
    /// `find_config` when its configuration is to be found in its packets.
    pub fn new(
        slot: usize,
        index: usize,
        codec: OutCodec,
        annexb: bool,
        find_config: bool,
        time_base: Rational,
        frame_rate: Option<Rational>,
    ) -> Self {
        // One frame lasts 1 tick of the time base den/num (seconds per frame).
        let frame_ticks = frame_rate.filter(|r| r.num > 0 && r.den > 0).and_then(|r| {
            let ticks = time_base.rescale(1, Rational::new(r.den, r.num));
            (ticks > 0).then_some(ticks)
        });
        TrackInput {
            slot,
            index,
            codec,
            annexb,
            find_config,
            found: None,
            timing: None,
            frame_ticks,
            last_dts: None,
            last_step: None,
            window: VecDeque::new(),
            unused_pts: BinaryHeap::new(),
            delay: None,
            used_up_to: None,
            packets: 0,
        }
    }

    fn err(&self, what: impl std::fmt::Display) -> Error {
        Error::invalid_input(format!("track {}: {what}", self.index))
    }

    /// Takes one packet; what is ready goes to `out`.
    pub fn push(&mut self, p: MediaPacket, out: &mut Vec<Ready>) -> Result<()> {
        if self.find_config && self.found.is_none() {
            self.found = self.look_for_config(&p.data, p.keyframe)?;
        }
        let data = if self.annexb {
            annexb_to_length_prefixed(&p.data, 4).map_err(|e| e.context(format!("track {}", self.index)))?
        } else {
            p.data
        };
        let timing = *self.timing.get_or_insert(match (p.dts, p.pts) {
            (Some(_), _) => Timing::Given,
            (None, Some(_)) => Timing::Derived,
            (None, None) => Timing::Counted,
        });
        let (slot, duration, keyframe) = (self.slot, p.duration, p.keyframe);
        let ready = move |pts, dts| Ready { slot, data, pts, dts, duration, keyframe };
        match timing {
            Timing::Given => {
                let Some(dts) = p.dts.or(p.pts) else {
                    return Err(self.err(format!("packet {} has no timestamp (the earlier ones had)", self.packets)));
                };
                if let Some(last) = self.last_dts
                    && dts <= last
                {
                    return Err(self.err(format!(
                            "decode timestamp {dts} is not after the previous one ({last}): packets must come in decode order"
                        )));
                }
                self.last_dts = Some(dts);
                out.push(ready(p.pts.unwrap_or(dts), dts));
            }
            Timing::Derived => {
                let Some(pts) = p.pts else {
                    return Err(self.err(format!("packet {} has no timestamp (the earlier ones had)", self.packets)));
                };
                if self.used_up_to.is_some_and(|u| pts < u) {
                    return Err(self.err(format!(
                        "presentation timestamp {pts} goes back before packets already written \
                         (reordered by more than {REORDER_WINDOW} packets, or timestamps out of order)"
                    )));
                }
                self.unused_pts.push(Reverse(pts));
                self.window.push_back(ready(pts, 0));
                if self.window.len() > REORDER_WINDOW {
                    self.release(out);
                }
            }
            Timing::Counted => {
                let step = p.duration.filter(|&d| d > 0).or(self.frame_ticks).or(self.last_step);
                let dts = match (self.last_dts, step) {
                    (None, _) => 0,
                    (Some(last), Some(step)) => last.saturating_add(step),
                    (Some(_), None) => {
                        return Err(self.err("packets without timestamps need a duration or the track's frame rate"));
                    }
                };
                self.last_step = step;
                self.last_dts = Some(dts);
                out.push(ready(dts, dts));
            }
        }
        self.packets += 1;
        Ok(())
    }

    /// Gives the oldest held packet its decode timestamp.
    fn release(&mut self, out: &mut Vec<Ready>) {
        let Some(mut p) = self.window.pop_front() else { return };
        let delay = *self.delay.get_or_insert_with(|| {
            let mut sorted: Vec<i64> = std::iter::once(p.pts).chain(self.window.iter().map(|w| w.pts)).collect();
            sorted.sort_unstable();
            let order = std::iter::once(p.pts).chain(self.window.iter().map(|w| w.pts));
            sorted.iter().zip(order).map(|(s, pts)| s.saturating_sub(pts)).max().unwrap_or(0).max(0)
        });
        let Reverse(smallest) = self.unused_pts.pop().unwrap_or(Reverse(p.pts));
        self.used_up_to = Some(self.used_up_to.map_or(smallest, |u| u.max(smallest)));
        let mut dts = smallest.saturating_sub(delay);
        if let Some(last) = self.last_dts {
            dts = dts.max(last.saturating_add(1));
        }
        self.last_dts = Some(dts);
        p.dts = dts;
        out.push(p);
    }

    /// Gives out every held packet (the track ended).
    pub fn flush(&mut self, out: &mut Vec<Ready>) {
        while !self.window.is_empty() {
            self.release(out);
        }
    }

    fn look_for_config(&self, data: &[u8], keyframe: bool) -> Result<Option<Found>> {
        Ok(match self.codec {
            OutCodec::H264 | OutCodec::Hevc => {
                let codec = if self.codec == OutCodec::H264 { Codec::H264 } else { Codec::Hevc };
                record_from_annexb(codec, data).map(Found::Nal)
            }
            OutCodec::Av1 => av1c_from_temporal_unit(data).ok().flatten().map(Found::Av1C),
            OutCodec::Vp9 if keyframe => vpcc_from_vp9_frame(data)
                .map_err(|e| e.context(format!("track {}: reading the VP9 key frame header", self.index)))?
                .map(Found::VpcC),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(pts: Option<i64>, dts: Option<i64>) -> MediaPacket {
        MediaPacket::new(0, vec![1], pts, dts, false)
    }

    fn input() -> TrackInput {
        TrackInput::new(0, 0, OutCodec::Vp9, false, false, Rational::new(1, 1000), Some(Rational::new(25, 1)))
    }

    #[test]
    fn decode_timestamps_derived_from_b_frame_order() {
        // I P B B, P B B: pts 0 120 40 80 240 160 200 (40 ms frames): one frame of delay.
        let mut t = input();
        let mut out = Vec::new();
        for pts in [0, 120, 40, 80, 240, 160, 200] {
            t.push(pkt(Some(pts), None), &mut out).unwrap();
        }
        assert!(out.is_empty());
        t.flush(&mut out);
        let dts: Vec<i64> = out.iter().map(|p| p.dts).collect();
        assert_eq!(dts, [-40, 0, 40, 80, 120, 160, 200]);
        assert!(out.iter().all(|p| p.dts <= p.pts));
    }

    #[test]
    fn timestamps_out_of_order_are_refused() {
        let mut t = input();
        let mut out = Vec::new();
        t.push(pkt(Some(0), Some(0)), &mut out).unwrap();
        let e = t.push(pkt(Some(40), Some(0)), &mut out).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
        // Derived: a pts behind what was already given out.
        let mut t = input();
        for i in 0..40 {
            t.push(pkt(Some(1000 + i * 40), None), &mut out).unwrap();
        }
        assert!(t.push(pkt(Some(0), None), &mut out).is_err());
    }

    #[test]
    fn counted_timing_uses_the_frame_rate() {
        let mut t = input();
        let mut out = Vec::new();
        for _ in 0..3 {
            t.push(pkt(None, None), &mut out).unwrap();
        }
        assert_eq!(out.iter().map(|p| (p.pts, p.dts)).collect::<Vec<_>>(), [(0, 0), (40, 40), (80, 80)]);
    }
}
