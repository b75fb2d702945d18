//! Which earlier pictures each H.264 picture predicts from: the reference lists of every
//! slice (8.2.4) built over a model of the decoded picture buffer's reference marking
//! (8.2.5), read from slice headers alone.
//!
//! A random access decodes from a random access point to the frames asked for. Of the
//! pictures between, only those the asked frames reach through their reference lists
//! affect them; the others (in an x264 B-pyramid stream, every B reference picture of
//! the mini-GOPs passed over) need their headers seen by the decoder, which keeps its
//! reference marking the stream's, but not their pixels decoded. [`RefTracker`] says
//! which pictures each picture's lists hold; the reader takes the closure.
//!
//! The model covers frame pictures (progressive, and MBAFF frames, whose field
//! macroblocks predict from the fields of the same frames): sliding window and adaptive
//! marking with long-term pictures, and `mmco` 5. Anything it does not model (field
//! pictures, gaps in `frame_num`, a list naming a picture the model has not got) is an
//! error, and the caller decodes
//! everything as before: a wrong answer would change pixels, a refusal only costs time.
//!
//! [`RefTracker::filling_gaps`] models instead a decoder that leaves some reference
//! pictures out altogether (libavcodec given them with `skip_frame`): their `frame_num`
//! is then a gap, which libavcodec fills with frames of its own (8.2.5.2, with the order
//! count of the frame before plus 2), and the order counts after them come from the
//! reference pictures it did decode. The reader compares each decoded picture's lists
//! and order count under that model with the stream's ([`RefTracker::last_picture`]),
//! and leaves a picture out only where they agree.

use std::sync::Arc;

use super::picture::PocState;
use super::pps::{Pps, parse_pps};
use super::slice::{Marking, Mmco, RefSyntax, SliceType, read_ref_syntax, read_slice_header_in};
use super::sps::{Sps, parse_sps};
use crate::nal::{H264NalHeader, h264_type};
use crate::rbsp::BitReader;
pub use crate::refs::PictureRefs;
use video_hw_types::error::{Error, Result};

/// Follows the reference lists of a stretch of H.264 access units in decode order,
/// starting at an IDR picture (see the module docs).
#[derive(Debug, Default)]
pub struct RefTracker {
    sps: Vec<Option<Arc<Sps>>>,
    pps: Vec<Option<Box<Pps>>>,
    poc: PocState,
    dpb: Dpb,
    pictures: usize,
    /// Gaps in `frame_num` are filled as libavcodec does (see the module docs).
    fill_gaps: bool,
    /// The last picture's reference lists, slice by slice, each list ended by
    /// [`LIST_END`], and its order count.
    last: (Vec<usize>, i32),
}

/// Ends each list in [`RefTracker::last_picture`]'s lists.
pub const LIST_END: usize = usize::MAX;

/// The first number of the frames that fill gaps in `frame_num` (counting down): no
/// picture of the stream has one.
const GAP_FRAMES: usize = usize::MAX / 2;

impl RefTracker {
    /// A tracker that knows no parameter sets yet.
    pub fn new() -> RefTracker {
        RefTracker { sps: vec![None; 32], pps: vec![None; 256], ..RefTracker::default() }
    }

    /// A tracker of a decoder that is given only some of the reference pictures: it fills
    /// the gaps in `frame_num` they leave as libavcodec does (see the module docs).
    pub fn filling_gaps() -> RefTracker {
        RefTracker { fill_gaps: true, ..RefTracker::new() }
    }

    /// The reference lists of the last picture taken, slice by slice, each list (the
    /// pictures in index order; fill frames numbered from `usize::MAX / 2` down) ended by
    /// [`LIST_END`]; and its order count.
    pub fn last_picture(&self) -> (&[usize], i32) {
        (&self.last.0, self.last.1)
    }

    /// Whether a picture can be left out of a decoder modelled by [`Self::filling_gaps`]
    /// (then it is not given to the tracker either):
    /// a non-IDR frame of a stream with order count type 0 (the model's reach), in an
    /// access unit of slices, delimiters and SEI only (libavcodec reads parameter sets
    /// even in pictures it skips, but the model would not). `nals`: the access unit.
    pub fn can_leave_out<'a>(&self, nals: impl IntoIterator<Item = &'a [u8]>) -> bool {
        let mut slice = None;
        for nal in nals {
            let Ok(header) = H264NalHeader::parse(nal) else { return false };
            match header.nal_unit_type {
                h264_type::SLICE => {
                    slice.get_or_insert((nal, header));
                }
                // SEI, access unit delimiter.
                6 | 9 => {}
                _ => return false,
            }
        }
        let Some((nal, header)) = slice else { return false };
        let mut r = BitReader::new(nal);
        if r.skip(8, "nal_unit_header").is_err() {
            return false;
        }
        match read_slice_header_in(&mut r, header, &self.sps, &self.pps) {
            Ok((sh, _, sps)) => !sh.field_pic && sps.pic_order_cnt_type == 0 && self.pictures > 0,
            Err(_) => false,
        }
    }

    /// Takes the NAL units of one access unit (parameter sets are kept for the slices
    /// after them). Returns `None` for a unit without a picture. Fails where the model
    /// stops (see the module docs) or a header is unreadable; the tracker is of no further
    /// use after an error.
    pub fn access_unit<'a>(&mut self, nals: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<PictureRefs>> {
        let mut picture: Option<Current> = None;
        for nal in nals {
            let Ok(header) = H264NalHeader::parse(nal) else { continue };
            match header.nal_unit_type {
                h264_type::SPS => {
                    let sps = parse_sps(nal)?;
                    let id = sps.sps_id as usize;
                    self.sps[id] = Some(Arc::new(sps));
                }
                h264_type::PPS => {
                    let sps = &self.sps;
                    let pps = parse_pps(nal, |id| sps.get(id as usize).and_then(|s| s.as_deref()))?;
                    let id = pps.pps_id as usize;
                    self.pps[id] = Some(Box::new(pps));
                }
                h264_type::SLICE | h264_type::SLICE_DPA | h264_type::IDR => {
                    self.slice(nal, header, &mut picture)?;
                }
                _ => {}
            }
        }
        let Some(current) = picture else { return Ok(None) };
        self.dpb.mark(&current)?;
        self.last.1 = current.poc;
        let mut refs = current.refs;
        refs.retain(|&r| r != LIST_END);
        refs.sort_unstable();
        refs.dedup();
        self.pictures += 1;
        Ok(Some(PictureRefs { picture: current.picture, reference: current.reference, refs }))
    }

    fn slice(&mut self, nal: &[u8], header: H264NalHeader, picture: &mut Option<Current>) -> Result<()> {
        let mut r = BitReader::new(nal);
        r.skip(8, "nal_unit_header")?;
        let (sh, pps, sps) = read_slice_header_in(&mut r, header, &self.sps, &self.pps)?;
        if sh.redundant_pic_cnt > 0 {
            return Ok(());
        }
        if sh.field_pic {
            return Err(Error::unsupported("reference tracking of field pictures", "only frames are modelled"));
        }
        let syntax = read_ref_syntax(&mut r, &sh, pps, sps)?;
        let current = match picture {
            Some(c) => {
                if c.frame_num != sh.frame_num as u32 || c.idr != sh.is_idr() {
                    return Err(Error::invalid_bitstream(0, "two pictures in one access unit"));
                }
                c
            }
            None => {
                // A packet holding the rest of a picture begun in the one before would be
                // taken for a picture of its own, and the first part's lists for the whole.
                if sh.first_mb_in_slice != 0 {
                    return Err(Error::unsupported(
                        "reference tracking of a picture split over packets (or in arbitrary slice order)",
                        "each packet must start with its picture's first slice",
                    ));
                }
                let max_frame_num = 1u32 << sps.log2_max_frame_num;
                if sh.is_idr() {
                    self.dpb.clear();
                } else if self.pictures == 0 {
                    return Err(Error::unsupported("reference tracking from a non-IDR picture", "starts at IDRs only"));
                } else if self.fill_gaps {
                    let max_refs = u32::from(sps.max_num_ref_frames).max(1);
                    self.dpb.fill_gap(sh.frame_num as u32, max_frame_num, max_refs)?;
                } else {
                    self.dpb.gap(sh.frame_num as u32, max_frame_num)?;
                }
                self.last.0.clear();
                let poc = self.poc.compute(&sh, sps, syntax.has_mmco5());
                picture.insert(Current {
                    picture: self.pictures,
                    idr: sh.is_idr(),
                    reference: sh.nal_ref_idc != 0,
                    frame_num: sh.frame_num as u32,
                    max_frame_num,
                    poc,
                    max_refs: u32::from(sps.max_num_ref_frames).max(1),
                    marking: syntax.marking.clone(),
                    refs: Vec::new(),
                })
            }
        };
        let kind = sh.kind();
        let lists = self.dpb.lists(current, kind, &syntax)?;
        self.last.0.extend(&lists);
        current.refs.extend(lists);
        Ok(())
    }
}

/// The picture being read.
#[derive(Debug)]
struct Current {
    picture: usize,
    idr: bool,
    reference: bool,
    frame_num: u32,
    max_frame_num: u32,
    poc: i32,
    max_refs: u32,
    marking: Marking,
    refs: Vec<usize>,
}

/// A frame held for reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    /// Its picture number.
    picture: usize,
    frame_num: u32,
    poc: i32,
    /// `LongTermFrameIdx` of a long-term frame.
    long: Option<u32>,
}

/// The reference frames of the decoded picture buffer.
#[derive(Debug, Default)]
struct Dpb {
    held: Vec<Held>,
    /// `PrevRefFrameNum`.
    prev_ref_frame_num: u32,
}

impl Dpb {
    fn clear(&mut self) {
        self.held.clear();
        self.prev_ref_frame_num = 0;
    }

    /// Refuses a gap in `frame_num` (8.2.5.2): decoders fill it with frames whose pixels
    /// are their own (ffmpeg copies the previous reference frame), so what a picture that
    /// predicts from one depends on is not the stream's to say.
    fn gap(&self, frame_num: u32, max_frame_num: u32) -> Result<()> {
        let prev = self.prev_ref_frame_num;
        if frame_num == prev || frame_num == (prev + 1) % max_frame_num {
            return Ok(());
        }
        Err(Error::unsupported("reference tracking over a gap in frame_num", "decoders fill gaps their own way"))
    }

    /// Fills the gap in `frame_num` before `frame_num` as libavcodec does (`h264_field_start`):
    /// a frame per missing number, marked by the sliding window, with the order count of
    /// the latest short-term frame plus 2. Gaps longer than the buffer, which libavcodec
    /// shortens, and gaps with no short-term frame before them are refused.
    fn fill_gap(&mut self, frame_num: u32, max_frame_num: u32, max_refs: u32) -> Result<()> {
        let mut prev = self.prev_ref_frame_num;
        if frame_num == prev {
            return Ok(());
        }
        let missing = (frame_num + max_frame_num - prev - 1) % max_frame_num;
        if missing > max_refs {
            return Err(Error::unsupported("reference tracking over a gap in frame_num", "longer than the buffer"));
        }
        for _ in 0..missing {
            prev = (prev + 1) % max_frame_num;
            let poc = self.held.iter().rev().find(|h| h.long.is_none()).map(|h| h.poc).ok_or_else(|| {
                Error::unsupported("reference tracking over a gap in frame_num", "no short-term frame before it")
            })?;
            self.slide(prev, max_frame_num, max_refs)?;
            let picture = GAP_FRAMES - prev as usize;
            self.held.push(Held { picture, frame_num: prev, poc: poc.wrapping_add(2), long: None });
            self.prev_ref_frame_num = prev;
        }
        Ok(())
    }

    /// `FrameNumWrap` (= `PicNum` for frames) of a short-term frame seen from `frame_num`.
    fn pic_num(h: &Held, frame_num: u32, max_frame_num: u32) -> i64 {
        if h.frame_num > frame_num { h.frame_num as i64 - max_frame_num as i64 } else { h.frame_num as i64 }
    }

    /// The pictures in one slice's final reference lists (8.2.4.2, 8.2.4.3).
    fn lists(&self, cur: &Current, kind: SliceType, syntax: &RefSyntax) -> Result<Vec<usize>> {
        let mut out = Vec::new();
        let (fnum, max) = (cur.frame_num, cur.max_frame_num);
        let shorts = || self.held.iter().enumerate().filter(|(_, h)| h.long.is_none());
        let mut longs: Vec<usize> =
            self.held.iter().enumerate().filter(|(_, h)| h.long.is_some()).map(|(i, _)| i).collect();
        longs.sort_by_key(|&i| self.held[i].long);
        let initial: [Vec<usize>; 2] = match kind {
            SliceType::I | SliceType::Si => return Ok(out),
            SliceType::P | SliceType::Sp => {
                let mut l: Vec<usize> = shorts().map(|(i, _)| i).collect();
                l.sort_by_key(|&i| std::cmp::Reverse(Self::pic_num(&self.held[i], fnum, max)));
                l.extend(&longs);
                [l, Vec::new()]
            }
            SliceType::B => {
                if shorts().any(|(_, h)| h.poc == cur.poc) {
                    return Err(Error::invalid_bitstream(
                        0,
                        "a reference frame with the current picture's order count",
                    ));
                }
                let mut before: Vec<usize> = shorts().filter(|(_, h)| h.poc < cur.poc).map(|(i, _)| i).collect();
                before.sort_by_key(|&i| std::cmp::Reverse(self.held[i].poc));
                let mut after: Vec<usize> = shorts().filter(|(_, h)| h.poc > cur.poc).map(|(i, _)| i).collect();
                after.sort_by_key(|&i| self.held[i].poc);
                let mut l0 = before.clone();
                l0.extend(&after);
                l0.extend(&longs);
                let mut l1 = after;
                l1.extend(&before);
                l1.extend(&longs);
                if l1.len() > 1 && l1 == l0 {
                    l1.swap(0, 1);
                }
                [l0, l1]
            }
        };
        for (list, mut l) in initial.into_iter().enumerate() {
            let active = syntax.active[list] as usize;
            if active == 0 {
                out.push(LIST_END);
                continue;
            }
            l.truncate(active);
            let mut pred = fnum as i64;
            for (idx, &(idc, v)) in syntax.modifications[list].iter().enumerate() {
                let slot = match idc {
                    0 | 1 => {
                        let (abs, max) = (v as i64 + 1, max as i64);
                        let mut no_wrap = if idc == 0 { pred - abs } else { pred + abs };
                        if no_wrap < 0 {
                            no_wrap += max;
                        } else if no_wrap >= max {
                            no_wrap -= max;
                        }
                        pred = no_wrap;
                        let pic_num = if no_wrap > fnum as i64 { no_wrap - max } else { no_wrap };
                        shorts().find(|(_, h)| Self::pic_num(h, fnum, cur.max_frame_num) == pic_num).map(|(i, _)| i)
                    }
                    _ => self.held.iter().position(|h| h.long == Some(v)),
                };
                let slot = slot.ok_or_else(|| {
                    Error::unsupported("reference tracking", "a list modification names a picture not held")
                })?;
                let at = idx.min(l.len());
                l.insert(at, slot);
                if let Some(dup) = l[at + 1..].iter().position(|&s| s == slot) {
                    l.remove(at + 1 + dup);
                }
            }
            l.truncate(active);
            out.extend(l.iter().map(|&i| self.held[i].picture));
            out.push(LIST_END);
        }
        Ok(out)
    }

    /// 8.2.5.3: makes room for one more reference frame.
    fn slide(&mut self, frame_num: u32, max_frame_num: u32, max_refs: u32) -> Result<()> {
        if self.held.len() < max_refs as usize {
            return Ok(());
        }
        let oldest = self
            .held
            .iter()
            .enumerate()
            .filter(|(_, h)| h.long.is_none())
            .min_by_key(|(_, h)| Self::pic_num(h, frame_num, max_frame_num))
            .map(|(i, _)| i)
            .ok_or_else(|| Error::unsupported("reference tracking", "the sliding window finds no short-term frame"))?;
        self.held.remove(oldest);
        if self.held.len() >= max_refs as usize {
            return Err(Error::unsupported("reference tracking", "more reference frames than the SPS allows"));
        }
        Ok(())
    }

    /// 8.2.5: marks the decoded picture `cur` and the frames held.
    fn mark(&mut self, cur: &Current) -> Result<()> {
        if !cur.reference {
            return Ok(());
        }
        let (fnum, max) = (cur.frame_num, cur.max_frame_num);
        let mut this = Held { picture: cur.picture, frame_num: fnum, poc: cur.poc, long: None };
        match &cur.marking {
            Marking::None => return Err(Error::invalid_bitstream(0, "a reference picture without marking")),
            Marking::Idr { long_term } => {
                self.held.clear();
                this.long = long_term.then_some(0);
            }
            Marking::SlidingWindow => self.slide(fnum, max, cur.max_refs)?,
            Marking::Adaptive(ops) => {
                for op in ops {
                    match *op {
                        Mmco::ForgetShort(diff) => {
                            let i = self.short_at(fnum, max, diff)?;
                            self.held.remove(i);
                        }
                        Mmco::ForgetLong(num) => self.held.retain(|h| h.long != Some(num)),
                        Mmco::ShortToLong(diff, idx) => {
                            let i = self.short_at(fnum, max, diff)?;
                            let picture = self.held[i].picture;
                            self.held.retain(|h| h.long != Some(idx) || h.picture == picture);
                            let i = self.short_at(fnum, max, diff)?;
                            self.held[i].long = Some(idx);
                        }
                        Mmco::MaxLongIdx(plus1) => {
                            self.held.retain(|h| h.long.is_none_or(|l| l < plus1));
                        }
                        Mmco::Reset => {
                            self.held.clear();
                            // The picture counts as frame 0 with order count 0 from now on.
                            this.frame_num = 0;
                            this.poc = 0;
                        }
                        Mmco::CurrentToLong(idx) => {
                            self.held.retain(|h| h.long != Some(idx));
                            this.long = Some(idx);
                        }
                    }
                }
                if self.held.len() >= cur.max_refs as usize {
                    return Err(Error::unsupported("reference tracking", "more reference frames than the SPS allows"));
                }
            }
        }
        self.prev_ref_frame_num = this.frame_num;
        self.held.push(this);
        Ok(())
    }

    /// The short-term frame `difference_of_pic_nums_minus1 = diff` below the current one.
    fn short_at(&self, frame_num: u32, max_frame_num: u32, diff: u32) -> Result<usize> {
        let pic_num = frame_num as i64 - (diff as i64 + 1);
        self.held
            .iter()
            .position(|h| h.long.is_none() && Self::pic_num(h, frame_num, max_frame_num) == pic_num)
            .ok_or_else(|| Error::unsupported("reference tracking", "a marking operation names a frame not held"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the model with the syntax of one picture at a time (max_frame_num 16).
    struct Model {
        dpb: Dpb,
        n: usize,
        max_refs: u32,
    }

    impl Model {
        fn new(max_refs: u32) -> Model {
            Model { dpb: Dpb::default(), n: 0, max_refs }
        }

        fn picture(
            &mut self,
            kind: SliceType,
            frame_num: u32,
            poc: i32,
            active: [u32; 2],
            marking: Marking,
        ) -> Vec<usize> {
            self.with_mods(kind, frame_num, poc, active, [vec![], vec![]], marking)
        }

        fn with_mods(
            &mut self,
            kind: SliceType,
            frame_num: u32,
            poc: i32,
            active: [u32; 2],
            modifications: [Vec<(u32, u32)>; 2],
            marking: Marking,
        ) -> Vec<usize> {
            let cur = Current {
                picture: self.n,
                idr: matches!(marking, Marking::Idr { .. }),
                reference: marking != Marking::None,
                frame_num,
                max_frame_num: 16,
                poc,
                max_refs: self.max_refs,
                marking,
                refs: Vec::new(),
            };
            if cur.idr {
                self.dpb.clear();
            }
            let mut refs =
                self.dpb.lists(&cur, kind, &RefSyntax { active, modifications, marking: Marking::None }).unwrap();
            self.dpb.mark(&cur).unwrap();
            self.n += 1;
            refs.retain(|&r| r != LIST_END);
            refs.sort_unstable();
            refs.dedup();
            refs
        }
    }

    const SW: Marking = Marking::SlidingWindow;

    #[test]
    fn p_chain_uses_the_latest_frame() {
        let mut m = Model::new(1);
        assert!(m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false }).is_empty());
        assert_eq!(m.picture(SliceType::P, 1, 2, [1, 0], SW), vec![0]);
        assert_eq!(m.picture(SliceType::P, 2, 4, [1, 0], SW), vec![1]);
        // A non-reference P after them still predicts from frame 2.
        assert_eq!(m.picture(SliceType::P, 3, 6, [1, 0], Marking::None), vec![2]);
        assert_eq!(m.picture(SliceType::P, 3, 8, [1, 0], SW), vec![2]);
    }

    #[test]
    fn b_pyramid_with_one_reference_each_way() {
        // Decode order I0 P8 B4(ref) b2 b6 P16, display order by POC; 2 reference frames.
        let mut m = Model::new(3);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        assert_eq!(m.picture(SliceType::P, 1, 8, [1, 0], SW), vec![0]);
        assert_eq!(m.picture(SliceType::B, 2, 4, [1, 1], SW), vec![0, 1]);
        assert_eq!(m.picture(SliceType::B, 3, 2, [1, 1], Marking::None), vec![0, 2]);
        assert_eq!(m.picture(SliceType::B, 3, 6, [1, 1], Marking::None), vec![1, 2]);
        // The next P's default list starts at the highest PicNum: the B reference.
        assert_eq!(m.picture(SliceType::P, 3, 16, [1, 0], SW), vec![2]);
    }

    #[test]
    fn list_modification_picks_an_older_frame() {
        let mut m = Model::new(3);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        m.picture(SliceType::P, 1, 8, [1, 0], SW);
        m.picture(SliceType::B, 2, 4, [1, 1], SW);
        // P at frame_num 3: abs_diff_pic_num_minus1 1 → PicNum 3 - 2 = 1 (picture 1).
        let refs = m.with_mods(SliceType::P, 3, 16, [1, 0], [vec![(0, 1)], vec![]], SW);
        assert_eq!(refs, vec![1]);
        // Two entries: the modified one first, then the default list without it.
        let refs = m.with_mods(SliceType::P, 4, 24, [2, 0], [vec![(0, 2)], vec![]], SW);
        assert_eq!(refs, vec![1, 3]);
    }

    #[test]
    fn adaptive_marking_and_long_term_frames() {
        let mut m = Model::new(4);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        // Picture 1 becomes long-term 0 (mmco 6); picture 0 is forgotten (mmco 1, diff 0).
        m.picture(SliceType::P, 1, 2, [1, 0], Marking::Adaptive(vec![Mmco::ForgetShort(0), Mmco::CurrentToLong(0)]));
        assert_eq!(m.dpb.held.len(), 1);
        m.picture(SliceType::P, 2, 4, [1, 0], SW);
        m.picture(SliceType::P, 3, 6, [1, 0], SW);
        // Short-term frames first (PicNum descending), the long-term one last.
        assert_eq!(m.picture(SliceType::P, 4, 8, [3, 0], SW), vec![1, 2, 3]);
        // A long-term pick by long_term_pic_num 0 with one entry.
        assert_eq!(m.with_mods(SliceType::P, 5, 10, [1, 0], [vec![(2, 0)], vec![]], SW), vec![1]);
        // max_long_term_frame_idx_plus1 0 drops every long-term frame.
        m.picture(SliceType::P, 6, 12, [1, 0], Marking::Adaptive(vec![Mmco::MaxLongIdx(0)]));
        assert!(m.dpb.held.iter().all(|h| h.long.is_none()));
    }

    #[test]
    fn sliding_window_forgets_the_lowest_frame_num_across_a_wrap() {
        let mut m = Model::new(2);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        for f in 1..20u32 {
            m.picture(SliceType::P, f % 16, 2 * f as i32, [2, 0], SW);
        }
        // Frame numbers 2 and 3 (pictures 18 and 19) are held after the wrap.
        let held: Vec<_> = m.dpb.held.iter().map(|h| (h.picture, h.frame_num)).collect();
        assert_eq!(held, vec![(18, 2), (19, 3)]);
        assert_eq!(m.picture(SliceType::P, 4, 40, [2, 0], SW), vec![18, 19]);
    }

    #[test]
    fn reset_restarts_frame_numbers() {
        let mut m = Model::new(2);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        m.picture(SliceType::P, 1, 2, [1, 0], Marking::Adaptive(vec![Mmco::Reset]));
        assert_eq!(m.dpb.held.len(), 1);
        assert_eq!((m.dpb.held[0].frame_num, m.dpb.held[0].poc), (0, 0));
        assert_eq!(m.picture(SliceType::P, 1, 2, [1, 0], SW), vec![1]);
    }

    #[test]
    fn names_of_frames_not_held_are_refused() {
        let mut m = Model::new(2);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        let cur = Current {
            picture: 1,
            idr: false,
            reference: true,
            frame_num: 1,
            max_frame_num: 16,
            poc: 2,
            max_refs: 2,
            marking: Marking::Adaptive(vec![Mmco::ForgetShort(5)]),
            refs: vec![],
        };
        let syntax = RefSyntax { active: [1, 0], modifications: [vec![(0, 4)], vec![]], marking: Marking::None };
        assert!(m.dpb.lists(&cur, SliceType::P, &syntax).is_err());
        assert!(m.dpb.mark(&cur).is_err());
    }

    #[test]
    fn gaps_are_filled_as_libavcodec_fills_them() {
        // I0 P8 B4(ref) b2 b6 P16 with B4 left out: P16 finds a gap at frame_num 2,
        // filled with a frame of order count 8 + 2, which P16's default list puts first.
        let mut m = Model::new(4);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        m.picture(SliceType::P, 1, 8, [1, 0], SW);
        m.dpb.fill_gap(3, 16, 4).unwrap();
        let fill = m.dpb.held.last().copied().unwrap();
        assert_eq!((fill.frame_num, fill.poc), (2, 10));
        assert!(fill.picture >= GAP_FRAMES - 16);
        m.n += 1;
        assert_eq!(m.picture(SliceType::P, 3, 16, [2, 0], SW), vec![1, fill.picture]);
        // A gap longer than the buffer is not modelled.
        assert!(m.dpb.fill_gap(12, 16, 4).is_err());
    }

    #[test]
    fn gaps_in_frame_num_are_refused() {
        let mut m = Model::new(2);
        m.picture(SliceType::I, 0, 0, [0, 0], Marking::Idr { long_term: false });
        assert!(m.dpb.gap(1, 16).is_ok());
        assert!(m.dpb.gap(0, 16).is_ok());
        assert!(m.dpb.gap(3, 16).is_err());
    }
}
