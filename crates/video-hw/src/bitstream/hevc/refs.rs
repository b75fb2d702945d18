//! Which earlier pictures each HEVC picture predicts from: the pictures its reference
//! picture set marks as used by the current picture (8.3.2), read from the first slice
//! segment header of each picture.
//!
//! As for H.264 (`h264::RefTracker`), a random access decodes from a random access point
//! to the frames asked for, and of the pictures between only those the asked frames reach
//! matter. HEVC states them outright: a picture's RPS lists every picture kept in the
//! decoded picture buffer, and which of them (`UsedByCurrPic`) its slices may predict from
//! (the collocated picture of temporal motion vector prediction is one of those). The
//! buffer after a picture is the pictures of its RPS and the picture itself.
//!
//! Picture order counts and the RASL pictures a decoder skips come from [`HevcParser`], as
//! for the frame index. Long-term pictures, a picture the RPS uses that the buffer has not
//! got, and a start that is not an IRAP picture are errors, and the caller decodes
//! everything as before: a wrong answer would change pixels, a refusal only costs time.

use super::parser::HevcParser;
use super::slice::parse_slice_rps;
use crate::bitstream::access_unit::CodecParser;
use crate::bitstream::nal::HevcNalHeader;
use crate::bitstream::refs::PictureRefs;
use crate::error::{Error, Result};

/// Follows the reference picture sets of a stretch of HEVC access units in decode order,
/// starting at an IRAP picture (see the module docs).
#[derive(Debug, Default)]
pub struct RefTracker {
    parser: HevcParser,
    /// The decoded picture buffer: (POC, picture number) of the pictures kept.
    dpb: Vec<(i32, usize)>,
    /// Pictures numbered so far.
    pictures: usize,
}

impl RefTracker {
    /// A tracker that knows no parameter sets yet.
    pub fn new() -> RefTracker {
        RefTracker::default()
    }

    /// Takes the NAL units of one access unit (base layer; parameter sets are kept for the
    /// slices after them). Returns `None` for a unit without a picture, and for a RASL
    /// picture the decoder skips (it follows the CRA decoding started at). Fails where the
    /// model stops (see the module docs) or a header is unreadable; the tracker is of no
    /// further use after an error.
    pub fn access_unit<'a>(&mut self, nals: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<PictureRefs>> {
        let mut first_slice: Option<(&[u8], i32, bool)> = None;
        for nal in nals {
            let info = self.parser.inspect(nal)?;
            if let Some(p) = info.picture {
                if first_slice.is_some() {
                    return Err(Error::invalid_bitstream(0, "two pictures in one access unit"));
                }
                let poc = p.poc.ok_or_else(|| Error::invalid_bitstream(0, "a picture without an order count"))?;
                first_slice = Some((nal, poc, p.output));
            }
        }
        let Some((nal, poc, output)) = first_slice else { return Ok(None) };
        let header = HevcNalHeader::parse(nal)?;
        if self.pictures == 0 && !header.is_irap() {
            return Err(Error::invalid_bitstream(0, "the pictures do not start at a random access point"));
        }
        if header.is_rasl() && !output {
            // Skipped by the decoder (its CRA started decoding): never in the buffer.
            return Ok(None);
        }
        let parser = &self.parser;
        let rps = parse_slice_rps(nal, |id, off| {
            let pps = parser.pps(id).ok_or_else(|| Error::invalid_bitstream(off, format!("no PPS {id}")))?;
            let sps = parser.sps(pps.sps_id).ok_or_else(|| Error::invalid_bitstream(off, "no SPS"))?;
            Ok((pps, sps))
        })?;
        if rps.long_term_pics > 0 {
            return Err(Error::unsupported(
                "tracking HEVC references",
                "long-term reference pictures are not modelled",
            ));
        }
        let st = &rps.short_term;
        let mut refs = Vec::new();
        let mut kept = Vec::with_capacity(st.num_delta_pocs() + 1);
        for (delta, used) in st.s0().chain(st.s1()) {
            let want = poc.wrapping_add(delta);
            match self.dpb.iter().find(|(p, _)| *p == want) {
                Some(&entry) => {
                    kept.push(entry);
                    if used {
                        refs.push(entry.1);
                    }
                }
                // A picture kept only for later ones may be missing (8.3.2: "no reference
                // picture"); one this picture predicts from may not.
                None if used => {
                    return Err(Error::invalid_bitstream(
                        0,
                        format!("picture {poc} predicts from picture {want}, which is not in the buffer"),
                    ));
                }
                None => {}
            }
        }
        let picture = self.pictures;
        self.pictures += 1;
        kept.push((poc, picture));
        self.dpb = kept;
        refs.sort_unstable();
        refs.dedup();
        let t = header.nal_unit_type;
        let reference = !(t <= 14 && t % 2 == 0);
        Ok(Some(PictureRefs { picture, reference, refs }))
    }
}
