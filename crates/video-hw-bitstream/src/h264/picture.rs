//! Per-picture state carried from one picture to the next: picture order count
//! (H.264 8.2.1), field pairing and the output model (after ffmpeg's h264 decoder).

use super::slice::SliceHeader;
use super::sps::Sps;
use crate::access_unit::PictureStructure;

/// The state of the picture order count process (8.2.1) between pictures.
#[derive(Debug, Default, Clone)]
pub(super) struct PocState {
    /// prevPicOrderCntMsb / prevPicOrderCntLsb (type 0): of the previous reference picture.
    prev_msb: i64,
    prev_lsb: i64,
    /// prevFrameNumOffset / prevFrameNum (types 1 and 2): of the previous picture.
    prev_frame_num_offset: i64,
    prev_frame_num: i64,
}

impl PocState {
    /// The picture order count of the picture whose first slice is `sh` (the smaller
    /// of its field counts for a frame), updating the state for the next picture.
    /// `mmco5` says the picture holds memory_management_control_operation 5.
    pub(super) fn compute(&mut self, sh: &SliceHeader, sps: &Sps, mmco5: bool) -> i32 {
        let idr = sh.is_idr();
        let reference = sh.nal_ref_idc != 0;
        let structure = sh.structure();
        let frame_num = sh.frame_num as i64;
        let max_frame_num = 1i64 << sps.log2_max_frame_num;
        let frame_num_offset = if idr {
            0
        } else if self.prev_frame_num > frame_num {
            self.prev_frame_num_offset.wrapping_add(max_frame_num)
        } else {
            self.prev_frame_num_offset
        };
        let (top, bottom) = match sps.pic_order_cnt_type {
            0 => {
                if idr {
                    self.prev_msb = 0;
                    self.prev_lsb = 0;
                }
                let max_lsb = 1i64 << sps.log2_max_pic_order_cnt_lsb;
                let lsb = sh.pic_order_cnt_lsb as i64;
                let msb = if lsb < self.prev_lsb && self.prev_lsb.wrapping_sub(lsb) >= max_lsb / 2 {
                    self.prev_msb.wrapping_add(max_lsb)
                } else if lsb > self.prev_lsb && lsb.wrapping_sub(self.prev_lsb) > max_lsb / 2 {
                    self.prev_msb.wrapping_sub(max_lsb)
                } else {
                    self.prev_msb
                };
                let (top, bottom) = match structure {
                    PictureStructure::Frame => {
                        let top = msb.wrapping_add(lsb);
                        (top, top.wrapping_add(sh.delta_pic_order_cnt_bottom as i64))
                    }
                    _ => (msb.wrapping_add(lsb), msb.wrapping_add(lsb)),
                };
                if reference {
                    if mmco5 {
                        // After mmco 5 the picture counts as having POC 0 (its top field
                        // keeps its distance from the bottom one).
                        self.prev_msb = 0;
                        self.prev_lsb = match structure {
                            PictureStructure::Frame => top.wrapping_sub(top.min(bottom)),
                            _ => 0,
                        };
                    } else {
                        self.prev_msb = msb;
                        self.prev_lsb = lsb;
                    }
                }
                (top, bottom)
            }
            1 => {
                let offsets = &sps.offset_for_ref_frame;
                let cycle_len = offsets.len() as i64;
                let mut abs_frame_num = if cycle_len != 0 { frame_num_offset.wrapping_add(frame_num) } else { 0 };
                if !reference && abs_frame_num > 0 {
                    abs_frame_num -= 1;
                }
                let mut expected = 0i64;
                if abs_frame_num > 0 {
                    let cycle_count = (abs_frame_num - 1) / cycle_len;
                    let in_cycle = ((abs_frame_num - 1) % cycle_len) as usize;
                    let per_cycle: i64 = offsets.iter().map(|&o| o as i64).sum();
                    let partial: i64 = offsets[..=in_cycle].iter().map(|&o| o as i64).sum();
                    expected = cycle_count.wrapping_mul(per_cycle).wrapping_add(partial);
                }
                if !reference {
                    expected = expected.wrapping_add(sps.offset_for_non_ref_pic as i64);
                }
                let d = sh.delta_pic_order_cnt.map(|v| v as i64);
                let t2b = sps.offset_for_top_to_bottom_field as i64;
                match structure {
                    PictureStructure::Frame => {
                        let top = expected.wrapping_add(d[0]);
                        (top, top.wrapping_add(t2b).wrapping_add(d[1]))
                    }
                    PictureStructure::TopField => {
                        let top = expected.wrapping_add(d[0]);
                        (top, top)
                    }
                    PictureStructure::BottomField => {
                        let bottom = expected.wrapping_add(t2b).wrapping_add(d[0]);
                        (bottom, bottom)
                    }
                }
            }
            _ => {
                let temp = if idr {
                    0
                } else {
                    let t = frame_num_offset.wrapping_add(frame_num).wrapping_mul(2);
                    if reference { t } else { t.wrapping_sub(1) }
                };
                (temp, temp)
            }
        };
        self.prev_frame_num_offset = if mmco5 { 0 } else { frame_num_offset };
        self.prev_frame_num = if mmco5 { 0 } else { frame_num };
        let poc = match structure {
            PictureStructure::Frame => top.min(bottom),
            PictureStructure::TopField => top,
            PictureStructure::BottomField => bottom,
        };
        poc.clamp(i32::MIN as i64, i32::MAX as i64) as i32
    }
}

/// Field pairing as ffmpeg's `h264_field_start` does it: a field completes the previous
/// picture when that was a lone field of the other parity with the same `frame_num`.
#[derive(Debug, Default, Clone)]
pub(super) struct FieldPairing {
    /// The last picture was a first field waiting for its second.
    first_field: bool,
    last_structure: PictureStructure,
    last_reference: bool,
    /// `frame_num` of the frame being built.
    frame_num: u16,
    /// The first field went to output on its own (ffmpeg's `missing_fields > 1`).
    output_alone: bool,
    /// Unpaired fields in a row.
    missing_fields: u32,
}

/// What [`FieldPairing::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pairing {
    /// The picture is the second field of a pair.
    pub(super) second: bool,
    /// The previous picture was a first field that now stays unpaired (ffmpeg never
    /// outputs it).
    pub(super) previous_unpaired: bool,
}

impl FieldPairing {
    /// Takes the next primary picture.
    pub(super) fn next(&mut self, structure: PictureStructure, frame_num: u16, idr: bool, reference: bool) -> Pairing {
        let field = structure != PictureStructure::Frame;
        let waiting = self.first_field && !self.output_alone;
        let mut second = false;
        if self.first_field {
            if !field || structure == self.last_structure {
                // The previous field stays unpaired.
                self.missing_fields = self.missing_fields.saturating_add(1);
                self.first_field = field;
            } else {
                self.missing_fields = 0;
                // An IDR field, or one whose frame_num or reference-ness differs, starts a new frame.
                if self.frame_num != frame_num || idr || reference != self.last_reference || self.output_alone {
                    self.first_field = true;
                } else {
                    self.first_field = false;
                    second = true;
                }
            }
        } else {
            self.first_field = field;
        }
        if !second {
            self.frame_num = frame_num;
            self.output_alone = field && self.missing_fields > 1;
        }
        self.last_structure = structure;
        self.last_reference = reference;
        Pairing { second, previous_unpaired: waiting && !second }
    }
}

/// What the output model needs to know of a new frame or first field.
#[derive(Debug, Clone, Copy)]
pub(super) struct PictureFacts {
    pub(super) idr: bool,
    pub(super) reference: bool,
    /// The first slice is I or SI.
    pub(super) intra: bool,
    pub(super) field: bool,
    pub(super) frame_num: u32,
    pub(super) max_frame_num: u32,
    pub(super) max_num_ref_frames: u32,
    /// The reorder depth ffmpeg assumes (`has_b_frames`).
    pub(super) has_b_frames: u32,
    /// `recovery_frame_cnt` of a recovery point SEI in this access unit.
    pub(super) recovery_frame_cnt: Option<u32>,
    pub(super) poc: i32,
    /// The largest default reference list sizes of all known PPS.
    pub(super) pps_ref_max: (u32, u32),
}

/// Which pictures ffmpeg's h264 decoder outputs when it starts at the beginning of the
/// stream (its `frame_recovered` / `recovery_frame` logic, approximated without a DPB).
#[derive(Debug, Default, Clone)]
pub(super) struct Recovery {
    /// Every picture decoded from now on is output (ffmpeg's `frame_recovered`).
    recovered: bool,
    /// `frame_num` at which a recovery point SEI says decoding is clean.
    recovery_frame: Option<u32>,
    valid_recovery_point: bool,
    has_recovery_point: bool,
    /// POC of a recovery point picture: pictures decoded after it that display before it
    /// are not output, until a later reference picture displays after it.
    leading_before: Option<i32>,
    /// Short-term reference frames ffmpeg would hold (for its random access heuristic).
    short_refs: u32,
    /// `frame_num` of the previous picture (for frame_num gaps).
    prev_frame_num: u32,
}

impl Recovery {
    /// A decoder reinit (new picture size or format) forgets that the stream had recovered.
    pub(super) fn flush_change(&mut self) {
        self.recovered = false;
        self.recovery_frame = None;
        self.leading_before = None;
    }

    /// True while the largest PPS reference counts matter (before recovery).
    pub(super) fn needs_pps_refs(&self) -> bool {
        !self.recovered
    }

    /// Whether the frame (or field pair) that starts with this picture is output.
    pub(super) fn picture_output(&mut self, p: &PictureFacts) -> bool {
        let mask = p.max_frame_num.max(1) - 1;
        if p.idr {
            self.has_recovery_point = true;
        }
        if let Some(cnt) = p.recovery_frame_cnt {
            self.has_recovery_point = true;
            if p.frame_num != cnt || !p.intra {
                self.valid_recovery_point = true;
            }
            let later = self.recovery_frame.is_none_or(|rf| (rf.wrapping_sub(p.frame_num) & mask) > cnt);
            if later {
                self.recovery_frame =
                    Some(if self.valid_recovery_point { p.frame_num.wrapping_add(cnt) & mask } else { p.frame_num });
            }
        }

        // ffmpeg's count of short-term references, frame_num gaps filled in.
        let max_refs = p.max_num_ref_frames.max(1);
        if p.idr {
            self.short_refs = 0;
        } else if p.frame_num != self.prev_frame_num && p.frame_num != ((self.prev_frame_num + 1) & mask) {
            let gap = (p.frame_num.wrapping_sub(self.prev_frame_num) & mask).saturating_sub(1);
            self.short_refs = (self.short_refs + gap.min(max_refs)).min(max_refs);
        }
        self.prev_frame_num = p.frame_num;
        if p.reference {
            self.short_refs = (self.short_refs + 1).min(max_refs);
        }

        if p.idr {
            self.recovered = true;
            self.leading_before = None;
            return true;
        }
        let mut point = false;
        if p.reference && self.recovery_frame == Some(p.frame_num) {
            self.recovery_frame = None;
            point = true;
        }
        if self.recovered {
            return true;
        }
        // ffmpeg's "unmarked random access point" heuristic (h264_refs.c).
        if p.reference && p.intra {
            let field = p.field as u32;
            let (l0, l1) = p.pps_ref_max;
            let few_refs =
                self.short_refs <= 2 || (l0 <= 2 && l1 <= 1 && p.has_b_frames > 0) || (l0 <= 1 + field && l1 <= 1);
            // ffmpeg treats every later picture as recovered at once when it thinks the
            // stream has no reordering; its reorder estimate comes from probing the stream
            // first, which a one-pass parser cannot do. Pictures that display before this
            // one are dropped either way, and without reordering there are none.
            if few_refs && l0 <= 2 + field + if self.has_recovery_point { 0 } else { 2 } {
                point = true;
            }
        }
        if point {
            self.leading_before = Some(p.poc);
            return true;
        }
        match self.leading_before {
            Some(r) if p.poc > r => {
                if p.reference {
                    self.recovered = true;
                    self.leading_before = None;
                }
                true
            }
            _ => false,
        }
    }
}

/// `H264_MAX_DPB_FRAMES`: the length of ffmpeg's delay queue and POC history.
const MAX_DPB: usize = 16;

/// A picture waiting in ffmpeg's output delay queue.
#[derive(Debug, Clone, Copy, Default)]
struct Queued {
    poc: i64,
    /// An IDR picture or one after a reset (ffmpeg's `key_frame || mmco_reset`):
    /// pictures after it are not reordered across it.
    barrier: bool,
    id: u64,
}

/// ffmpeg's output reordering (`h264_select_output_frame`): pictures wait in a queue
/// of `has_b_frames` entries and leave it lowest POC first; a picture whose POC is
/// below the last one output is dropped as out of order. That happens when the
/// reorder depth grows mid-stream (a new SPS with a larger `max_num_reorder_frames`).
///
/// Drops right after ffmpeg raises `has_b_frames` from its own POC analysis are not
/// reported: ffmpeg's stream probing usually found that depth before decoding began.
#[derive(Debug, Clone)]
pub(super) struct OutputQueue {
    has_b_frames: u32,
    delayed: [Queued; MAX_DPB + 1],
    len: usize,
    next_outputed_poc: i64,
    last_pocs: [i64; MAX_DPB],
    /// The next picture is a barrier (after mmco 5 or a decoder reinit).
    reset_pending: bool,
    next_id: u64,
    /// Select calls since `has_b_frames` was raised by POC analysis.
    since_guess: u32,
}

impl Default for OutputQueue {
    fn default() -> Self {
        OutputQueue {
            has_b_frames: 0,
            delayed: [Queued::default(); MAX_DPB + 1],
            len: 0,
            next_outputed_poc: i64::MIN,
            last_pocs: [i64::MIN; MAX_DPB],
            reset_pending: false,
            next_id: 0,
            since_guess: u32::MAX,
        }
    }
}

impl OutputQueue {
    /// The reorder depth ffmpeg assumes now.
    pub(super) fn has_b_frames(&self) -> u32 {
        self.has_b_frames
    }

    fn remove(&mut self, idx: usize) {
        self.delayed.copy_within(idx + 1..self.len, idx);
        self.len -= 1;
    }

    /// Forgets a picture that will never be selected (an unpaired first field).
    pub(super) fn forget(&mut self, id: u64) {
        if let Some(i) = self.delayed[..self.len].iter().position(|q| q.id == id) {
            self.remove(i);
        }
    }

    /// A decoder reinit (new picture size or format): ffmpeg's `ff_h264_flush_change`.
    pub(super) fn flush_change(&mut self) {
        self.next_outputed_poc = i64::MIN;
        self.last_pocs = [i64::MIN; MAX_DPB];
        self.reset_pending = true;
    }

    /// An IDR picture: ffmpeg's `idr()` clears the POC history.
    pub(super) fn idr(&mut self) {
        self.last_pocs = [i64::MIN; MAX_DPB];
    }

    /// The picture just selected holds mmco 5: it and the next picture are barriers.
    pub(super) fn mmco_reset(&mut self, id: u64) {
        self.last_pocs = [i64::MIN; MAX_DPB];
        self.reset_pending = true;
        if let Some(q) = self.delayed[..self.len].iter_mut().find(|q| q.id == id) {
            q.barrier = true;
        }
    }

    /// Queues a new frame (or lone field); returns its id and whether ffmpeg drops it
    /// at once as out of order. `reorder` is the SPS's `max_num_reorder_frames`, if signalled.
    pub(super) fn select(&mut self, poc: i32, key: bool, is_b: bool, reorder: Option<u32>) -> (u64, bool) {
        let poc = poc as i64;
        let mut barrier = key || std::mem::take(&mut self.reset_pending);
        if let Some(r) = reorder {
            self.has_b_frames = self.has_b_frames.max(r.min(MAX_DPB as u32));
        }
        let mut i = 0;
        loop {
            if i == MAX_DPB || poc < self.last_pocs[i] {
                if i > 0 {
                    self.last_pocs[i - 1] = poc;
                }
                break;
            } else if i > 0 {
                self.last_pocs[i - 1] = self.last_pocs[i];
            }
            i += 1;
        }
        let mut out_of_order = (MAX_DPB - i) as u32;
        let (a, b) = (self.last_pocs[MAX_DPB - 2], self.last_pocs[MAX_DPB - 1]);
        if is_b || (a > i64::MIN && b.wrapping_sub(a) > 2) {
            out_of_order = out_of_order.max(1);
        }
        self.since_guess = self.since_guess.saturating_add(1);
        if out_of_order == MAX_DPB as u32 {
            self.last_pocs = [i64::MIN; MAX_DPB];
            self.last_pocs[0] = poc;
            barrier = true;
        } else if self.has_b_frames < out_of_order && reorder.is_none() {
            self.has_b_frames = out_of_order;
            self.since_guess = 0;
        }

        if self.len > MAX_DPB {
            self.remove(0);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.delayed[self.len] = Queued { poc, barrier, id };
        self.len += 1;
        let pics = self.len;

        let mut out_idx = 0;
        for i in 1..self.len {
            if self.delayed[i].barrier {
                break;
            }
            if self.delayed[i].poc < self.delayed[out_idx].poc {
                out_idx = i;
            }
        }
        if self.has_b_frames == 0 && self.delayed[0].barrier {
            self.next_outputed_poc = i64::MIN;
        }
        let out = self.delayed[out_idx];
        let out_of_order = out.poc < self.next_outputed_poc;
        let leaves = pics > self.has_b_frames as usize;
        if out_of_order || leaves {
            self.remove(out_idx);
        }
        if !out_of_order && leaves {
            self.next_outputed_poc =
                if out_idx == 0 && self.len > 0 && self.delayed[0].barrier { i64::MIN } else { out.poc };
        }
        let dropped = out_of_order && out.id == id && self.since_guess > MAX_DPB as u32;
        (id, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sps(poc_type: u8) -> Sps {
        let mut sps = crate::h264::parse_sps(&[
            0x67, 0x42, 0xc0, 0x15, 0xd9, 0x04, 0x26, 0xc0, 0x5a, 0x83, 0x03, 0x03, 0x52, 0x80, 0x00, 0x00, 0x03, 0x00,
            0x80, 0x00, 0x00, 0x1e, 0x47, 0x8b, 0x17, 0x24,
        ])
        .unwrap();
        sps.pic_order_cnt_type = poc_type;
        sps.log2_max_frame_num = 4;
        sps.log2_max_pic_order_cnt_lsb = 4;
        sps.offset_for_non_ref_pic = -1;
        sps.offset_for_top_to_bottom_field = 1;
        sps.offset_for_ref_frame = vec![2, 4];
        sps
    }

    fn pic(idr: bool, reference: bool, frame_num: u16, lsb: u16) -> SliceHeader {
        SliceHeader {
            nal_unit_type: if idr { 5 } else { 1 },
            nal_ref_idc: reference as u8,
            frame_num,
            pic_order_cnt_lsb: lsb,
            ..SliceHeader::default()
        }
    }

    #[test]
    fn poc_type_0_follows_lsb_wraps_and_mmco5() {
        let sps = sps(0);
        let mut s = PocState::default();
        let pocs: Vec<i32> = [(true, 0), (false, 4), (false, 8), (false, 12), (false, 0), (false, 6), (false, 2)]
            .iter()
            .enumerate()
            .map(|(n, &(idr, lsb))| s.compute(&pic(idr, true, n as u16, lsb), &sps, false))
            .collect();
        assert_eq!(pocs, [0, 4, 8, 12, 16, 22, 18]);
        // Field picture and bottom delta.
        let bottom = SliceHeader { field_pic: true, bottom_field: true, ..pic(false, true, 7, 3) };
        assert_eq!(s.compute(&bottom, &sps, false), 19);
        let frame = SliceHeader { delta_pic_order_cnt_bottom: -1, ..pic(false, true, 8, 8) };
        assert_eq!(s.compute(&frame, &sps, true), 23);
        // After mmco 5 the next picture counts from 0 again.
        assert_eq!(s.compute(&pic(false, true, 1, 2), &sps, false), 2);
    }

    #[test]
    fn poc_type_1_uses_the_cycle() {
        let sps = sps(1);
        let mut s = PocState::default();
        let mut poc = |idr, r, f, d0| {
            let sh = SliceHeader { delta_pic_order_cnt: [d0, 0], ..pic(idr, r, f, 0) };
            s.compute(&sh, &sps, false)
        };
        // Frames: top = expected + d0, bottom = top + 1; the frame POC is the top.
        assert_eq!(poc(true, true, 0, 0), 0);
        assert_eq!(poc(false, true, 1, 0), 2);
        assert_eq!(poc(false, true, 2, 0), 6);
        assert_eq!(poc(false, true, 3, 0), 8);
        // Non-reference: one frame back in the cycle, plus offset_for_non_ref_pic.
        assert_eq!(poc(false, false, 4, 0), 7);
        assert_eq!(poc(false, true, 4, -2), 10);
    }

    #[test]
    fn poc_type_2_doubles_frame_num_across_wraps() {
        let sps = sps(2);
        let mut s = PocState::default();
        assert_eq!(s.compute(&pic(true, true, 0, 0), &sps, false), 0);
        assert_eq!(s.compute(&pic(false, true, 15, 0), &sps, false), 30);
        assert_eq!(s.compute(&pic(false, false, 0, 0), &sps, false), 31);
        assert_eq!(s.compute(&pic(false, true, 1, 0), &sps, false), 34);
        // mmco 5 resets FrameNumOffset and prevFrameNum.
        assert_eq!(s.compute(&pic(false, true, 2, 0), &sps, true), 36);
        assert_eq!(s.compute(&pic(false, true, 1, 0), &sps, false), 2);
    }

    #[test]
    fn pairs_opposite_fields_with_the_same_frame_num() {
        use PictureStructure::*;
        let mut f = FieldPairing::default();
        let second = |f: &mut FieldPairing, s, n, idr, r| f.next(s, n, idr, r).second;
        assert!(!second(&mut f, TopField, 0, true, true));
        assert!(second(&mut f, BottomField, 0, false, true));
        assert!(!second(&mut f, Frame, 1, false, true));
        assert!(!second(&mut f, BottomField, 2, false, false));
        assert!(second(&mut f, TopField, 2, false, false));
        // Different frame_num: a new first field, the previous one stays unpaired.
        assert!(!second(&mut f, TopField, 3, false, true));
        assert_eq!(f.next(BottomField, 4, false, true), Pairing { second: false, previous_unpaired: true });
        assert!(second(&mut f, TopField, 4, false, true));
        // Same parity twice: unpaired.
        assert!(!second(&mut f, TopField, 5, false, true));
        assert!(!second(&mut f, TopField, 5, false, true));
        // An IDR field never completes a pair.
        let mut f = FieldPairing::default();
        assert!(!second(&mut f, TopField, 0, true, true));
        assert!(!second(&mut f, BottomField, 0, true, true));
    }

    fn facts(idr: bool, intra: bool, frame_num: u32, poc: i32) -> PictureFacts {
        PictureFacts {
            idr,
            reference: true,
            intra,
            field: false,
            frame_num,
            max_frame_num: 16,
            max_num_ref_frames: 4,
            has_b_frames: 0,
            recovery_frame_cnt: None,
            poc,
            pps_ref_max: (4, 1),
        }
    }

    #[test]
    fn reorder_growth_mid_stream_drops_earlier_pocs() {
        let mut q = OutputQueue::default();
        for poc in 0..10 {
            assert!(!q.select(poc * 2, poc == 0, false, None).1);
        }
        // A new IDR whose SPS asks for 4 frames of reordering: the queue is empty, so the
        // IDR's POC is compared with the last output and found out of order.
        assert!(q.select(0, true, false, Some(4)).1);
        assert!(q.select(2, false, false, Some(4)).1);
        // Without the reorder growth, an IDR resets the order.
        let mut q = OutputQueue::default();
        for poc in 0..10 {
            q.select(poc * 2, poc == 0, false, None);
        }
        assert!(!q.select(0, true, false, None).1);
    }

    #[test]
    fn b_pyramid_guesses_are_not_drops() {
        let mut q = OutputQueue::default();
        let mut dropped = 0;
        for (poc, b) in [(0, false), (16, false), (8, true), (4, true), (12, true), (32, false), (24, true), (20, true)]
        {
            dropped += q.select(poc, poc == 0, b, None).1 as u32;
        }
        assert_eq!(dropped, 0);
        assert!(q.has_b_frames() >= 2);
    }

    #[test]
    fn nothing_is_output_before_an_idr() {
        let mut r = Recovery::default();
        assert!(!r.picture_output(&facts(false, false, 3, 6)));
        assert!(!r.picture_output(&facts(false, false, 4, 8)));
        assert!(r.picture_output(&facts(true, true, 0, 0)));
        assert!(r.picture_output(&facts(false, false, 1, 2)));
    }

    #[test]
    fn recovery_point_sei_drops_leading_pictures() {
        let mut r = Recovery::default();
        let rp = PictureFacts { recovery_frame_cnt: Some(0), has_b_frames: 2, ..facts(false, true, 5, 20) };
        assert!(r.picture_output(&rp));
        // A leading B picture (displayed before the recovery point) is dropped.
        let b = PictureFacts { reference: false, has_b_frames: 2, ..facts(false, false, 6, 16) };
        assert!(!r.picture_output(&b));
        let p = PictureFacts { has_b_frames: 2, ..facts(false, false, 6, 26) };
        assert!(r.picture_output(&p));
        assert!(r.picture_output(&PictureFacts { has_b_frames: 2, ..facts(false, false, 7, 22) }));
    }

    #[test]
    fn recovery_frame_cnt_waits_for_its_frame() {
        let mut r = Recovery::default();
        let pps_many = (5, 1);
        let first = PictureFacts { recovery_frame_cnt: Some(2), pps_ref_max: pps_many, ..facts(false, false, 1, 2) };
        assert!(!r.picture_output(&first));
        assert!(!r.picture_output(&PictureFacts { pps_ref_max: pps_many, ..facts(false, false, 2, 4) }));
        assert!(r.picture_output(&PictureFacts { pps_ref_max: pps_many, ..facts(false, false, 3, 6) }));
        assert!(r.picture_output(&PictureFacts { pps_ref_max: pps_many, ..facts(false, false, 4, 8) }));
    }
}
