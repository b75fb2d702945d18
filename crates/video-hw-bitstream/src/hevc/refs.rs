//! Which earlier pictures each HEVC picture predicts from: the pictures its slices'
//! reference picture lists hold (8.3.4), drawn from those its reference picture set marks
//! as used by the current picture (8.3.2), read from slice segment headers.
//!
//! As for H.264 (`h264::RefTracker`), a random access decodes from a random access point
//! to the frames asked for, and of the pictures between only those the asked frames reach
//! matter. HEVC states them outright: a picture's RPS lists every picture kept in the
//! decoded picture buffer, and which of them (`UsedByCurrPic`) its slices may predict from;
//! each slice's lists take the first `num_ref_idx_active` of those, in a fixed order or as
//! `list_entry` picks (x265 marks every picture of the set used and lists one or two: the
//! lists are what narrows it). The collocated picture of temporal motion vector prediction
//! is in the lists. The buffer after a picture is the pictures of its RPS and the picture
//! itself.
//!
//! Picture order counts and the RASL pictures a decoder skips come from [`HevcParser`], as
//! for the frame index. Long-term pictures, a picture the RPS uses that the buffer has not
//! got, and a start that is not an IRAP picture are errors, and the caller decodes
//! everything as before: a wrong answer would change pixels, a refusal only costs time.

use super::parser::HevcParser;
use super::slice::parse_slice_refs;
use crate::access_unit::CodecParser;
use crate::nal::{HevcNalHeader, hevc_is_sub_layer_non_reference};
use crate::refs::PictureRefs;
use video_hw_types::error::{Error, Result};

/// Follows the reference picture sets of a stretch of HEVC access units in decode order,
/// starting at an IRAP picture (see the module docs).
#[derive(Debug, Default)]
pub struct RefTracker {
    parser: HevcParser,
    /// The decoded picture buffer: (POC, picture number) of the pictures kept.
    dpb: Vec<(i32, usize)>,
    /// Pictures numbered so far.
    pictures: usize,
    /// The last picture's order count.
    last_poc: i32,
}

/// The number the buffer gives a picture left out ([`RefTracker::leave_out`]): no picture
/// of the stream has it.
const LEFT_OUT: usize = usize::MAX - 1;

impl RefTracker {
    /// A tracker that knows no parameter sets yet.
    pub fn new() -> RefTracker {
        RefTracker::default()
    }

    /// Takes a picture of order count `poc` that the decoder is not given (libavcodec
    /// with `skip_frame`): a later picture whose reference picture set names it is an
    /// error. libavcodec 5.1 makes such a picture up (grey) and decodes on; later ones
    /// (`add_candidate_ref`, FFmpeg 7.1 and 8) refuse the picture naming it, even among
    /// the pictures kept only for later ones.
    pub fn leave_out(&mut self, poc: i32) {
        self.dpb.push((poc, LEFT_OUT));
    }

    /// The order count of the last picture taken.
    pub fn last_poc(&self) -> i32 {
        self.last_poc
    }

    /// Takes the NAL units of one access unit (base layer; parameter sets are kept for the
    /// slices after them). Returns `None` for a unit without a picture, and for a RASL
    /// picture the decoder skips (it follows the CRA decoding started at). Fails where the
    /// model stops (see the module docs) or a header is unreadable; the tracker is of no
    /// further use after an error.
    pub fn access_unit<'a>(&mut self, nals: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<PictureRefs>> {
        let mut first: Option<(&[u8], HevcNalHeader, i32, bool)> = None;
        let mut slices: Vec<&[u8]> = Vec::new();
        for nal in nals {
            let info = self.parser.inspect(nal)?;
            if let Some(p) = info.picture {
                if first.is_some() {
                    return Err(Error::invalid_bitstream(0, "two pictures in one access unit"));
                }
                if !slices.is_empty() {
                    return Err(split_picture());
                }
                let poc = p.poc.ok_or_else(|| Error::invalid_bitstream(0, "a picture without an order count"))?;
                first = Some((nal, HevcNalHeader::parse(nal)?, poc, p.output));
            }
            let h = HevcNalHeader::parse(nal)?;
            if h.nuh_layer_id == 0 && matches!(h.nal_unit_type, 0..=9 | 16..=21) {
                slices.push(nal);
            }
        }
        let Some((nal, header, poc, output)) = first else {
            // Slices of a picture begun in the packet before: its lists would go unread.
            return if slices.is_empty() { Ok(None) } else { Err(split_picture()) };
        };
        if self.pictures == 0 && !header.is_irap() {
            return Err(Error::invalid_bitstream(0, "the pictures do not start at a random access point"));
        }
        if header.is_rasl() && !output {
            // Skipped by the decoder (its CRA started decoding): never in the buffer.
            return Ok(None);
        }
        let parser = &self.parser;
        let lookup = |id: u8, off: u64| {
            let pps = parser.pps(id).ok_or_else(|| Error::invalid_bitstream(off, format!("no PPS {id}")))?;
            let sps = parser.sps(pps.sps_id).ok_or_else(|| Error::invalid_bitstream(off, "no SPS"))?;
            Ok((pps, sps))
        };
        let picture_refs = parse_slice_refs(nal, lookup)?;
        if picture_refs.long_term_pics > 0 {
            return Err(Error::unsupported(
                "tracking HEVC references",
                "long-term reference pictures are not modelled",
            ));
        }
        let st = &picture_refs.short_term;
        // The pictures it may predict from (StCurrBefore, StCurrAfter), and those kept.
        let (mut before, mut after) = (Vec::new(), Vec::new());
        let mut kept = Vec::with_capacity(st.num_delta_pocs() + 1);
        for (i, (delta, used)) in st.s0().chain(st.s1()).enumerate() {
            let want = poc.wrapping_add(delta);
            match self.dpb.iter().find(|(p, _)| *p == want) {
                Some(&(_, LEFT_OUT)) => {
                    return Err(Error::unsupported(
                        "tracking HEVC references",
                        format!("picture {poc} names picture {want}, which the decoder was not given"),
                    ));
                }
                Some(&entry) => {
                    kept.push(entry);
                    if used {
                        if i < st.num_negative_pics as usize { before.push(entry.1) } else { after.push(entry.1) }
                    }
                }
                // A picture kept only for later ones may be missing (8.3.2: "no reference
                // picture"); one this picture may predict from may not.
                None if used => {
                    return Err(Error::invalid_bitstream(
                        0,
                        format!("picture {poc} predicts from picture {want}, which is not in the buffer"),
                    ));
                }
                None => {}
            }
        }
        // What the slices' reference picture lists hold (8.3.4), each slice its own lists,
        // drawn in turn from these (RefPicListTemp0 and RefPicListTemp1).
        let orders: [Vec<usize>; 2] =
            [before.iter().chain(&after).copied().collect(), after.iter().chain(&before).copied().collect()];
        let mut refs = Vec::new();
        for &slice in &slices {
            let other;
            let s = if std::ptr::eq(slice, nal) {
                &picture_refs
            } else {
                other = parse_slice_refs(slice, lookup)?;
                if other.header.dependent_slice_segment_flag {
                    continue;
                }
                if other.short_term != picture_refs.short_term || other.long_term_pics > 0 {
                    return Err(Error::invalid_bitstream(0, "slices of one picture with different reference sets"));
                }
                &other
            };
            for ((&count, order), entries) in s.num_ref_idx.iter().zip(&orders).zip(&s.list_entry) {
                if count == 0 || order.is_empty() {
                    continue;
                }
                match entries {
                    Some(entries) => refs.extend(entries.iter().map(|&e| order[e as usize % order.len()])),
                    None => refs.extend((0..count as usize).map(|i| order[i % order.len()])),
                }
            }
        }
        let picture = self.pictures;
        self.pictures += 1;
        self.last_poc = poc;
        kept.push((poc, picture));
        self.dpb = kept;
        refs.sort_unstable();
        refs.dedup();
        let reference = !hevc_is_sub_layer_non_reference(header.nal_unit_type);
        Ok(Some(PictureRefs { picture, reference, refs }))
    }
}

/// The refusal of a packet that does not start with its picture's first slice segment.
fn split_picture() -> Error {
    Error::unsupported(
        "reference tracking of a picture split over packets",
        "each packet must start with its picture's first slice segment",
    )
}
