//! Display order kept on this side of an engine's FFI, for engines that hand pictures
//! back in decoding order: OpenH264 (below) and VideoToolbox (whose own reordering,
//! `kVTDecodeFrame_EnableTemporalProcessing`, is left off so that every picture comes
//! back at once and in a known order).
//!
//! OpenH264 reorders pictures itself, but its reorder buffer is emptied without output
//! whenever it reallocates its picture buffers (a new picture size, a new DPB size: its
//! `DestroyPicBuff` and `DecreasePicBuff` reset the queue), so the pictures it still held
//! at a resolution change were lost; it also derives order counts for
//! `pic_order_cnt_type` 0 only (types 1 and 2 count as 0). The engine therefore takes
//! every picture out of OpenH264 in decoding order (see `decoder.rs`), copies it, and
//! puts it in display order here with the standard's output process (H.264 C.4.5.3,
//! "bumping"): a picture waits until more than `max_num_reorder_frames` pictures are
//! waiting, then the lowest order count leaves first; an IDR picture or one with
//! `memory_management_control_operation` 5 first outputs every picture before it.
//! `no_output_of_prior_pics_flag` is not honoured, as in the reference decoder (ffmpeg
//! reads past it), so those pictures are output too.

use std::collections::VecDeque;

use crate::frame::Frame;

/// Where a decoded picture goes in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    /// Picture order count; `None` when unknown (the picture is output at once).
    pub poc: Option<i32>,
    /// Every picture decoded before this one is output before it, and none after it
    /// before it (an IDR picture, a picture with mmco 5, the picture after one).
    pub barrier: bool,
    /// How many pictures may wait for reordering (the active SPS's
    /// `max_num_reorder_frames`, signalled or inferred).
    pub depth: usize,
}

/// Decoded pictures waiting for their turn in display order.
#[derive(Default)]
pub(crate) struct Reorder {
    /// Waiting pictures with their order count, in decoding order.
    held: Vec<(i32, Frame)>,
}

impl Reorder {
    /// Takes the next picture in decoding order and appends to `out` the pictures now
    /// due, in display order.
    pub fn push(&mut self, frame: Frame, place: Placement, out: &mut VecDeque<Frame>) {
        if place.barrier {
            self.drain(out);
        }
        let Some(poc) = place.poc else {
            self.drain(out);
            out.push_back(frame);
            return;
        };
        self.held.push((poc, frame));
        while self.held.len() > place.depth {
            self.bump(out);
        }
    }

    /// Outputs every waiting picture (end of stream), in display order.
    pub fn drain(&mut self, out: &mut VecDeque<Frame>) {
        while !self.held.is_empty() {
            self.bump(out);
        }
    }

    /// Outputs the waiting picture with the lowest order count (the earliest decoded of
    /// equal ones).
    fn bump(&mut self, out: &mut VecDeque<Frame>) {
        let lowest = self.held.iter().enumerate().min_by_key(|(i, (poc, _))| (*poc, *i)).map(|(i, _)| i);
        if let Some(i) = lowest {
            out.push_back(self.held.remove(i).1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::PixelFormat;
    use crate::frame::FrameData;

    fn frame(pts: i64) -> Frame {
        Frame {
            format: PixelFormat::Yuv420p,
            width: 16,
            height: 16,
            pts: Some(pts),
            keyframe: false,
            color: Default::default(),
            data: FrameData::None,
        }
    }

    /// Pushes (pts, poc, barrier) in decoding order with `depth`; returns the output pts.
    fn run(depth: usize, pics: &[(i64, Option<i32>, bool)]) -> Vec<i64> {
        let mut r = Reorder::default();
        let mut out = VecDeque::new();
        for &(pts, poc, barrier) in pics {
            r.push(frame(pts), Placement { poc, barrier, depth }, &mut out);
        }
        r.drain(&mut out);
        assert!(r.held.is_empty());
        out.iter().map(|f| f.pts.unwrap()).collect()
    }

    #[test]
    fn b_frames_come_out_in_order_count_order() {
        // I0 P3 B1 B2 P6 B4 B5 (pts = display index, POC = 2 x pts).
        let pics = [(0, 0), (3, 6), (1, 2), (2, 4), (6, 12), (4, 8), (5, 10)];
        let pics: Vec<_> = pics.iter().map(|&(p, c)| (p, Some(c), p == 0)).collect();
        assert_eq!(run(2, &pics), [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(run(16, &pics), [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_new_sequence_outputs_everything_before_it() {
        // The second IDR's POC 0 is lower than the held P's: without the barrier it would
        // jump ahead; with it the first sequence ends first, nothing is lost.
        let pics =
            [(0, Some(0), true), (2, Some(4), false), (1, Some(2), false), (3, Some(0), true), (4, Some(2), false)];
        assert_eq!(run(4, &pics), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn unknown_order_counts_go_out_at_once() {
        assert_eq!(run(4, &[(0, None, false), (1, None, false), (2, None, false)]), [0, 1, 2]);
    }
}
