//! [`HevcParser`]: parameter-set store, access-unit boundaries (H.265 7.4.2.4.4), picture
//! order count and the output decisions of ffmpeg's HEVC decoder.

use std::sync::Arc;

use super::pps::{Pps, parse_pps};
use super::slice::parse_slice_header;
use super::sps::{Sps, parse_sps};
use super::vps::{Vps, parse_vps};
use crate::access_unit::{CodecParser, NalInfo, NalKind, PictureInfo, PictureStructure, StreamInfo};
use crate::nal::{HevcNalHeader, hevc_type};
use video_hw_types::codec::Codec;
use video_hw_types::error::{Error, Result};

/// Which RASL pictures ffmpeg skips: its `max_ra`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MaxRa {
    /// `INT_MAX`: decoding (re)starts; every RASL picture is skipped until an IRAP says more.
    Start,
    /// RASL pictures with a POC up to this one belong to the CRA/BLA decoding started at.
    Poc(i32),
    /// `INT_MIN`: no RASL picture is skipped.
    None,
}

/// Tracks HEVC parameter sets (VPS, SPS, PPS) and finds where each primary coded picture starts.
///
/// Only the base layer (`nuh_layer_id == 0`) is interpreted; NAL units of other layers
/// (MV-HEVC, SHVC) stay in the access unit of the base-layer picture they follow.
/// Picture order counts and `output` follow ffmpeg's HEVC decoder (`pocTid0`, `max_ra`,
/// `pic_output_flag`), so counting the pictures with `output` set gives the number of
/// frames it outputs. One case is out of reach of a per-picture decision: when an IRAP
/// picture with NoOutputOfPriorPicsFlag (a CRA after an end of sequence, or
/// `no_output_of_prior_pics_flag = 1`) arrives, ffmpeg drops the earlier pictures still
/// waiting in its reorder buffer, which were already reported with `output` set.
///
/// A few ffmpeg habits are not copied: it refuses an SPS whose VPS has not arrived, and
/// forgets the PPSs of an SPS (and the SPSs of a VPS) whose content changes; here those
/// parameter sets stay usable, as the standard has it.
#[derive(Debug)]
pub struct HevcParser {
    vps: Vec<Option<Arc<Vps>>>,
    sps: Vec<Option<Arc<Sps>>>,
    pps: Vec<Option<Box<Pps>>>,
    /// The SPS parsed last (stream facts before the first picture).
    last_sps: Option<Arc<Sps>>,
    /// The SPS of the latest picture, and the VPS it named when it became active.
    active_sps: Option<Arc<Sps>>,
    active_vps: Option<Arc<Vps>>,
    /// An access unit has started (and not been ended by EOS/EOB).
    au_open: bool,
    /// The current access unit has a base-layer VCL NAL unit.
    au_has_vcl: bool,
    /// The first slice segment of the current picture was read; later ones may follow.
    picture_ok: bool,
    /// PPS id of the current picture.
    picture_pps: u8,
    /// POC of the previous TemporalId-0 picture that is not RASL, RADL or a sub-layer
    /// non-reference picture (ffmpeg's `pocTid0`).
    poc_tid0: i32,
    max_ra: MaxRa,
}

impl Default for HevcParser {
    fn default() -> Self {
        Self::new()
    }
}

impl HevcParser {
    /// A parser with no parameter sets yet.
    pub fn new() -> Self {
        HevcParser {
            vps: vec![None; 16],
            sps: vec![None; 16],
            pps: vec![None; 64],
            last_sps: None,
            active_sps: None,
            active_vps: None,
            au_open: false,
            au_has_vcl: false,
            picture_ok: false,
            picture_pps: 0,
            poc_tid0: 0,
            max_ra: MaxRa::Start,
        }
    }

    /// The stored VPS with id `id`.
    pub fn vps(&self, id: u8) -> Option<&Vps> {
        self.vps.get(id as usize)?.as_deref()
    }

    /// The stored SPS with id `id`.
    pub fn sps(&self, id: u8) -> Option<&Sps> {
        self.sps.get(id as usize)?.as_deref()
    }

    /// The stored PPS with id `id`.
    pub fn pps(&self, id: u8) -> Option<&Pps> {
        self.pps.get(id as usize)?.as_deref()
    }

    /// The SPS of the latest picture.
    pub fn active_sps(&self) -> Option<&Sps> {
        self.active_sps.as_deref()
    }

    /// A NAL unit that may start an access unit when it follows a picture's VCL NAL units.
    fn prefix(&mut self, kind: NalKind) -> NalInfo {
        let starts = !self.au_open || self.au_has_vcl;
        if starts {
            self.picture_ok = false;
        }
        self.au_open = true;
        self.au_has_vcl = false;
        NalInfo { kind, starts_access_unit: starts, picture: None }
    }

    /// A NAL unit that belongs to the current access unit.
    fn join(&mut self, kind: NalKind) -> NalInfo {
        let starts = !self.au_open;
        self.au_open = true;
        NalInfo { kind, starts_access_unit: starts, picture: None }
    }

    fn store_vps(&mut self, vps: Vps) {
        let slot = &mut self.vps[vps.id as usize];
        if slot.as_deref() != Some(&vps) {
            *slot = Some(Arc::new(vps));
        }
    }

    fn store_sps(&mut self, sps: Sps) {
        let slot = &mut self.sps[sps.id as usize];
        // An identical SPS keeps its identity, so it does not start a new sequence (as in ffmpeg).
        if slot.as_deref() != Some(&sps) {
            *slot = Some(Arc::new(sps));
        }
        self.last_sps = slot.clone();
    }

    fn inspect_slice(&mut self, nal: &[u8], header: &HevcNalHeader) -> Result<NalInfo> {
        let &b = nal.get(2).ok_or_else(|| Error::invalid_bitstream(2, "slice segment header is missing"))?;
        let first = b & 0x80 != 0;
        let starts = !self.au_open || (first && self.au_has_vcl);
        // The slice counts as part of a picture even when it is dropped, so the next
        // prefix NAL unit or first slice starts a new access unit.
        self.au_open = true;
        self.au_has_vcl = true;
        if first {
            self.picture_ok = false;
        } else if !self.picture_ok {
            return Err(Error::invalid_bitstream(
                2,
                "slice segment of a picture whose first slice segment is missing or was dropped",
            ));
        }

        let (pps_table, sps_table) = (&self.pps, &self.sps);
        let sh = parse_slice_header(nal, |id, off| {
            let pps = pps_table[id as usize].as_deref().ok_or_else(|| {
                Error::invalid_bitstream(off, format!("slice refers to PPS {id}, which was not received"))
            })?;
            let sps = sps_table[pps.sps_id as usize].as_deref().ok_or_else(|| {
                Error::invalid_bitstream(off, format!("PPS {id} refers to SPS {}, which was not received", pps.sps_id))
            })?;
            if first {
                pps.check_against(sps, off)?;
            }
            Ok((pps, sps))
        })?;

        if !first {
            if sh.pps_id != self.picture_pps {
                return Err(Error::invalid_bitstream(
                    2,
                    format!("PPS changed between slices of a picture ({} → {})", self.picture_pps, sh.pps_id),
                ));
            }
            return Ok(NalInfo { kind: NalKind::Vcl, starts_access_unit: starts, picture: None });
        }

        // The lookup above succeeded, so both parameter sets are present.
        let Some(sps) = self.pps[sh.pps_id as usize].as_deref().and_then(|p| self.sps[p.sps_id as usize].clone())
        else {
            return Err(Error::invalid_bitstream(2, "parameter sets vanished"));
        };
        let t = header.nal_unit_type;
        let (idr, bla, cra) = (header.is_idr(), header.is_bla(), t == hevc_type::CRA_NUT);
        if idr || bla {
            self.max_ra = MaxRa::Start;
        }
        if !self.active_sps.as_ref().is_some_and(|a| Arc::ptr_eq(a, &sps)) {
            // A new SPS starts a new sequence.
            self.max_ra = MaxRa::Start;
            self.active_vps = self.vps[sps.vps_id as usize].clone();
            self.active_sps = Some(sps.clone());
        }
        let poc = if idr {
            0
        } else {
            compute_poc(sps.log2_max_pic_order_cnt_lsb, self.poc_tid0, sh.pic_order_cnt_lsb as i32, t)
        };
        if header.temporal_id() == 0 && !is_sub_layer_non_ref_or_leading(t) {
            self.poc_tid0 = poc;
        }
        if self.max_ra == MaxRa::Start {
            if cra || bla {
                self.max_ra = MaxRa::Poc(poc);
            } else if idr {
                self.max_ra = MaxRa::None;
            }
        }
        let skipped = header.is_rasl()
            && match self.max_ra {
                MaxRa::Start => true,
                MaxRa::Poc(p) => poc <= p,
                MaxRa::None => false,
            };
        if !skipped && t == hevc_type::RASL_R && matches!(self.max_ra, MaxRa::Poc(p) if poc > p) {
            self.max_ra = MaxRa::None;
        }
        self.picture_ok = true;
        self.picture_pps = sh.pps_id;
        let picture = PictureInfo {
            idr,
            irap: header.is_irap(),
            structure: PictureStructure::Frame,
            second_field: false,
            output: !skipped && sh.pic_output_flag,
            poc: Some(poc),
            memory_reset: false,
            sps_id: sps.id,
        };
        Ok(NalInfo { kind: NalKind::Vcl, starts_access_unit: starts, picture: Some(picture) })
    }
}

/// TRAIL_N, TSA_N, STSA_N, RADL and RASL pictures do not update `pocTid0` (8.3.1).
fn is_sub_layer_non_ref_or_leading(t: u8) -> bool {
    matches!(
        t,
        hevc_type::TRAIL_N
            | hevc_type::TSA_N
            | hevc_type::STSA_N
            | hevc_type::RADL_N
            | hevc_type::RADL_R
            | hevc_type::RASL_N
            | hevc_type::RASL_R
    )
}

/// PicOrderCntVal from `slice_pic_order_cnt_lsb` (8.3.1), as ffmpeg computes it: the MSB
/// follows the previous TemporalId-0 picture and is 0 for BLA pictures.
fn compute_poc(log2_max_lsb: u8, poc_tid0: i32, lsb: i32, nal_unit_type: u8) -> i32 {
    let max_lsb = 1i32 << log2_max_lsb.clamp(4, 16);
    let prev_lsb = poc_tid0 % max_lsb;
    let prev_msb = poc_tid0.wrapping_sub(prev_lsb);
    let msb = if lsb < prev_lsb && prev_lsb - lsb >= max_lsb / 2 {
        prev_msb.wrapping_add(max_lsb)
    } else if lsb > prev_lsb && lsb - prev_lsb > max_lsb / 2 {
        prev_msb.wrapping_sub(max_lsb)
    } else {
        prev_msb
    };
    let msb = if (hevc_type::BLA_W_LP..=hevc_type::BLA_N_LP).contains(&nal_unit_type) { 0 } else { msb };
    msb.wrapping_add(lsb)
}

/// The kind of a base-layer NAL unit type.
fn kind_of(t: u8) -> NalKind {
    match t {
        0..=9 | 16..=21 => NalKind::Vcl,
        hevc_type::VPS | hevc_type::SPS | hevc_type::PPS => NalKind::ParameterSet,
        hevc_type::AUD => NalKind::Delimiter,
        hevc_type::EOS => NalKind::EndOfSequence,
        hevc_type::EOB => NalKind::EndOfStream,
        hevc_type::FD => NalKind::Filler,
        hevc_type::PREFIX_SEI | hevc_type::SUFFIX_SEI => NalKind::Sei,
        _ => NalKind::Other,
    }
}

impl CodecParser for HevcParser {
    fn codec(&self) -> Codec {
        Codec::Hevc
    }

    fn inspect(&mut self, nal: &[u8]) -> Result<NalInfo> {
        let header = HevcNalHeader::parse(nal)?;
        let t = header.nal_unit_type;
        let kind = kind_of(t);
        if header.nuh_layer_id > 0 {
            // Other layers ride along in the base layer's access unit; their end-of-sequence
            // NAL units do not end it.
            let kind =
                if matches!(kind, NalKind::EndOfSequence | NalKind::EndOfStream) { NalKind::Other } else { kind };
            return Ok(self.join(kind));
        }
        match t {
            0..=9 | 16..=21 => self.inspect_slice(nal, &header),
            hevc_type::VPS => {
                let vps = parse_vps(nal)?;
                self.store_vps(vps);
                Ok(self.prefix(kind))
            }
            hevc_type::SPS => {
                let sps = parse_sps(nal)?;
                self.store_sps(sps);
                Ok(self.prefix(kind))
            }
            hevc_type::PPS => {
                let pps = parse_pps(nal)?;
                let id = pps.id as usize;
                self.pps[id] = Some(Box::new(pps));
                Ok(self.prefix(kind))
            }
            hevc_type::AUD | hevc_type::PREFIX_SEI | 41..=44 | 48..=55 => Ok(self.prefix(kind)),
            hevc_type::EOS | hevc_type::EOB => {
                let starts = !self.au_open;
                self.au_open = false;
                self.au_has_vcl = false;
                self.picture_ok = false;
                // Decoding restarts: RASL pictures of the next CRA are skipped (its NoRaslOutputFlag is 1).
                self.max_ra = MaxRa::Start;
                Ok(NalInfo { kind, starts_access_unit: starts, picture: None })
            }
            _ => Ok(self.join(kind)),
        }
    }

    fn stream_info(&self) -> Option<StreamInfo> {
        if let Some(sps) = &self.active_sps {
            return Some(sps.stream_info(self.active_vps.as_deref()));
        }
        let sps = self.last_sps.as_ref()?;
        Some(sps.stream_info(self.vps[sps.vps_id as usize].as_deref()))
    }

    fn reset(&mut self) {
        self.au_open = false;
        self.au_has_vcl = false;
        self.picture_ok = false;
        self.max_ra = MaxRa::Start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::testutil::*;

    const LSB: u32 = 4;

    /// One NAL unit through the parser: (starts_access_unit, picture).
    fn feed(p: &mut HevcParser, nal: &[u8]) -> (bool, Option<PictureInfo>) {
        let info = p.inspect(nal).unwrap_or_else(|e| panic!("{e}"));
        (info.starts_access_unit, info.picture)
    }

    fn setup() -> HevcParser {
        let mut p = HevcParser::new();
        assert!(feed(&mut p, &VPS_64).0);
        assert!(!feed(&mut p, &SpsSpec::default().nal()).0);
        assert!(!feed(&mut p, &pps_nal(0, 0, false)).0);
        p
    }

    /// A picture of one slice: returns (starts, output, poc).
    fn pic(p: &mut HevcParser, nal_type: u8, tid: u8, lsb: u32) -> (bool, bool, i32) {
        let slice_type = if (16..=23).contains(&nal_type) { 2 } else { 1 };
        let (starts, picture) = feed(p, &slice_nal(nal_type, tid, true, slice_type, lsb, LSB));
        let picture = picture.expect("picture");
        (starts, picture.output, picture.poc.unwrap())
    }

    #[test]
    fn real_stream_start() {
        let mut p = HevcParser::new();
        for nal in [&VPS_64[..], &SPS_64, &PPS_64] {
            p.inspect(nal).unwrap();
        }
        let (starts, idr) = feed(&mut p, &SLICE_64_IDR);
        assert!(!starts);
        let idr = idr.unwrap();
        assert!(idr.idr && idr.irap && idr.output && !idr.second_field);
        assert_eq!((idr.poc, idr.structure, idr.sps_id), (Some(0), PictureStructure::Frame, 0));
        let (starts, pic) = feed(&mut p, &SLICE_64_P);
        assert!(starts);
        assert_eq!(pic.unwrap().poc, Some(2));
        let (starts, pic) = feed(&mut p, &SLICE_64_B);
        assert!(starts);
        assert_eq!(pic.unwrap().poc, Some(1));
        let info = p.stream_info().unwrap();
        assert_eq!((info.profile.as_str(), info.level.as_str()), ("Main", "2.1"));
        assert_eq!((info.max_dec_frame_buffering, info.num_reorder_frames), (4, 1));
        assert_eq!(info.frame_rate, Some(video_hw_types::Rational::new(30, 1)));
    }

    #[test]
    fn access_unit_boundaries() {
        let mut p = setup();
        let sei = [0x4e, 0x01, 0x05, 0x01, 0x00, 0x80];
        let suffix_sei = [0x50, 0x01, 0x05, 0x01, 0x00, 0x80];
        let aud = [0x46, 0x01, 0x50];
        assert!(!feed(&mut p, &sei).0);
        assert!(!pic(&mut p, 20, 0, 0).0);
        // A second slice segment of the same picture.
        let (starts, picture) = feed(&mut p, &slice_nal(20, 0, false, 2, 0, LSB));
        assert!(!starts && picture.is_none());
        assert!(!feed(&mut p, &suffix_sei).0);
        assert!(!feed(&mut p, &[0x4c, 0x01, 0xff]).0); // filler data
        assert!(!feed(&mut p, &[0x7c, 0x01, 0x08, 0x09]).0); // NAL type 62 (Dolby Vision RPU)
        // The AUD starts the next access unit; the slice after it does not.
        assert!(feed(&mut p, &aud).0);
        assert!(!pic(&mut p, 1, 0, 1).0);
        // A first slice right after a picture starts one.
        assert!(pic(&mut p, 1, 0, 2).0);
        // A prefix SEI after the picture starts one, the VPS after it does not.
        assert!(feed(&mut p, &sei).0);
        assert!(!feed(&mut p, &VPS_64).0);
        assert!(!pic(&mut p, 1, 0, 3).0);
        // Reserved types 41..=44 and unspecified 48..=55 start an access unit; 45..=47 and 56..=63 do not.
        for (t, starts) in [(41u8, true), (45, false), (48, true), (56, false)] {
            let _ = pic(&mut p, 1, 0, 4 + t as u32 % 3);
            assert_eq!(feed(&mut p, &[t << 1, 1, 0x80]).0, starts, "type {t}");
        }
    }

    #[test]
    fn other_layers_stay_in_the_base_access_unit() {
        let mut p = setup();
        assert!(!pic(&mut p, 20, 0, 0).0);
        // MV-HEVC layer 1: a CRA slice, a PPS and an EOS of layer 1.
        let mut layer1 = slice_nal(21, 0, true, 2, 0, LSB);
        layer1[1] |= 1 << 3;
        let info = p.inspect(&layer1).unwrap();
        assert!(!info.starts_access_unit && info.picture.is_none() && info.kind == NalKind::Vcl);
        let mut pps1 = pps_nal(1, 0, false);
        pps1[1] |= 1 << 3;
        assert!(!p.inspect(&pps1).unwrap().starts_access_unit);
        assert!(p.pps(1).is_none());
        let info = p.inspect(&[0x48, 0x09]).unwrap();
        assert_eq!(info.kind, NalKind::Other);
        assert!(pic(&mut p, 1, 0, 1).0);
    }

    #[test]
    fn rasl_after_starting_cra_are_skipped() {
        let mut p = setup();
        let (_, out, poc) = pic(&mut p, hevc_type::CRA_NUT, 0, 8);
        assert!(out);
        assert_eq!(poc, 8);
        assert!(!pic(&mut p, hevc_type::RASL_R, 0, 6).1);
        assert!(!pic(&mut p, hevc_type::RASL_N, 0, 5).1);
        assert!(pic(&mut p, hevc_type::RADL_N, 0, 7).1);
        assert!(pic(&mut p, hevc_type::TRAIL_R, 0, 12).1);
        // A later CRA does not restart: its RASL pictures are output.
        assert!(pic(&mut p, hevc_type::CRA_NUT, 0, 0).1);
        assert!(pic(&mut p, hevc_type::RASL_N, 0, 14).1);
    }

    #[test]
    fn rasl_r_after_max_ra_stops_skipping() {
        let mut p = setup();
        pic(&mut p, hevc_type::CRA_NUT, 0, 4);
        // A RASL_R with a POC beyond the CRA (not a real leading picture) ends the skipping.
        assert!(pic(&mut p, hevc_type::RASL_R, 0, 6).1);
        assert!(pic(&mut p, hevc_type::RASL_N, 0, 3).1);
    }

    #[test]
    fn idr_start_outputs_all_rasl() {
        let mut p = setup();
        assert_eq!(pic(&mut p, hevc_type::IDR_W_RADL, 0, 0), (false, true, 0));
        pic(&mut p, hevc_type::TRAIL_R, 0, 4);
        pic(&mut p, hevc_type::CRA_NUT, 0, 8);
        assert!(pic(&mut p, hevc_type::RASL_N, 0, 6).1);
    }

    #[test]
    fn eos_restarts_decoding() {
        let mut p = setup();
        pic(&mut p, hevc_type::IDR_N_LP, 0, 0);
        pic(&mut p, hevc_type::TRAIL_R, 0, 1);
        let info = p.inspect(&[0x48, 0x01]).unwrap();
        assert_eq!(info.kind, NalKind::EndOfSequence);
        assert!(!info.starts_access_unit);
        // After EOS the CRA starts decoding again: its RASL pictures are dropped.
        let (starts, out, poc) = pic(&mut p, hevc_type::CRA_NUT, 0, 9);
        assert!(starts && out);
        assert_eq!(poc, 9);
        assert!(!pic(&mut p, hevc_type::RASL_N, 0, 7).1);
        assert!(pic(&mut p, hevc_type::TRAIL_N, 0, 10).1);
        // EOB likewise.
        assert_eq!(p.inspect(&[0x4a, 0x01]).unwrap().kind, NalKind::EndOfStream);
        pic(&mut p, hevc_type::CRA_NUT, 0, 12);
        assert!(!pic(&mut p, hevc_type::RASL_R, 0, 11).1);
    }

    #[test]
    fn bla_resets_poc_msb_and_skips_rasl() {
        let mut p = setup();
        pic(&mut p, hevc_type::IDR_N_LP, 0, 0);
        for lsb in [4, 8, 12, 0, 4] {
            pic(&mut p, hevc_type::TRAIL_R, 0, lsb);
        }
        assert_eq!(pic(&mut p, hevc_type::TRAIL_R, 0, 8).2, 24);
        let (_, out, poc) = pic(&mut p, hevc_type::BLA_W_LP, 0, 12);
        assert_eq!((out, poc), (true, 12));
        assert!(!pic(&mut p, hevc_type::RASL_N, 0, 10).1);
    }

    #[test]
    fn poc_follows_tid0_pictures() {
        let mut p = setup();
        pic(&mut p, hevc_type::IDR_N_LP, 0, 0);
        // lsb wraps at 16: 14 right after 0 is -2.
        assert_eq!(pic(&mut p, hevc_type::TRAIL_R, 0, 14).2, -2);
        assert_eq!(pic(&mut p, hevc_type::TRAIL_R, 0, 6).2, 6);
        assert_eq!(pic(&mut p, hevc_type::TRAIL_R, 0, 13).2, 13);
        assert_eq!(pic(&mut p, hevc_type::TRAIL_R, 0, 3).2, 19);
        // Non-reference, leading and TemporalId > 0 pictures do not move prevTid0 (19) ...
        assert_eq!(pic(&mut p, hevc_type::TRAIL_N, 0, 7).2, 23);
        assert_eq!(pic(&mut p, hevc_type::RADL_R, 0, 7).2, 23);
        assert_eq!(pic(&mut p, hevc_type::TRAIL_R, 1, 8).2, 24);
        // ... so lsb 13 is still measured from 19 (13), not from 24 (29).
        assert_eq!(pic(&mut p, hevc_type::TRAIL_R, 0, 13).2, 13);
    }

    #[test]
    fn pic_output_flag_zero_is_not_output() {
        let mut p = setup();
        p.inspect(&pps_nal(0, 0, true)).unwrap();
        let (_, picture) = feed(&mut p, &slice_nal_ext(20, 0, true, 2, 0, LSB, Some(false)));
        assert!(!picture.unwrap().output);
        let (_, picture) = feed(&mut p, &slice_nal_ext(1, 0, true, 1, 1, LSB, Some(true)));
        assert!(picture.unwrap().output);
    }

    #[test]
    fn missing_parameter_sets_are_errors() {
        let mut p = HevcParser::new();
        let e = p.inspect(&SLICE_64_IDR).unwrap_err().to_string();
        assert!(e.contains("PPS 0"), "{e}");
        // The next segment of that picture is dropped too.
        let e = p.inspect(&slice_nal(20, 0, false, 2, 0, LSB)).unwrap_err().to_string();
        assert!(e.contains("first slice segment"), "{e}");
        p.inspect(&pps_nal(0, 3, false)).unwrap();
        let e = p.inspect(&SLICE_64_IDR).unwrap_err().to_string();
        assert!(e.contains("SPS 3"), "{e}");
        assert!(p.stream_info().is_none());
        // A prefix NAL unit after the dropped picture starts an access unit.
        assert!(p.inspect(&VPS_64).unwrap().starts_access_unit);
    }

    #[test]
    fn pps_change_inside_a_picture_is_an_error() {
        let mut p = setup();
        p.inspect(&pps_nal(1, 0, false)).unwrap();
        pic(&mut p, 20, 0, 0);
        let mut w = BitWriter::new();
        w.flag(false).ue(1).ue(2).u(8, 0xff);
        assert!(p.inspect(&w.nal(20)).is_err());
    }

    #[test]
    fn new_sps_restarts_and_identical_sps_does_not() {
        let mut p = setup();
        pic(&mut p, hevc_type::IDR_N_LP, 0, 0);
        pic(&mut p, hevc_type::TRAIL_R, 0, 4);
        // The same SPS again: a CRA is an ordinary picture, its RASL are output.
        p.inspect(&SpsSpec::default().nal()).unwrap();
        pic(&mut p, hevc_type::CRA_NUT, 0, 8);
        assert!(pic(&mut p, hevc_type::RASL_N, 0, 6).1);
        // A different SPS (same id) starts a new sequence: RASL are skipped.
        p.inspect(&SpsSpec { width: 128, ..SpsSpec::default() }.nal()).unwrap();
        let info = p.stream_info().unwrap();
        assert_eq!(info.dimensions.width(), 64, "stream info follows the active SPS until a picture uses the new one");
        pic(&mut p, hevc_type::CRA_NUT, 0, 12);
        assert!(!pic(&mut p, hevc_type::RASL_N, 0, 10).1);
        assert_eq!(p.stream_info().unwrap().dimensions.width(), 128);
    }

    #[test]
    fn stream_info_before_any_picture() {
        let mut p = HevcParser::new();
        assert!(p.stream_info().is_none());
        p.inspect(&SPS_BEAR).unwrap();
        let info = p.stream_info().unwrap();
        assert_eq!((info.dimensions.width(), info.dimensions.height()), (320, 180));
        assert_eq!(info.frame_rate, Some(video_hw_types::Rational::new(2997, 100)));
        assert_eq!(p.codec(), Codec::Hevc);
    }

    #[test]
    fn vps_timing_wins_over_vui_timing() {
        let mut p = HevcParser::new();
        let mut w = BitWriter::new();
        w.u(4, 0).flag(true).flag(true).u(6, 0).u(3, 0).flag(true).u(16, 0xffff);
        ptl_main(&mut w);
        w.flag(true).ue(4).ue(2).ue(0).u(6, 0).ue(0);
        w.flag(true).u(32, 1).u(32, 24).flag(false).ue(0).flag(false);
        p.inspect(&w.nal(32)).unwrap();
        p.inspect(&SPS_BEAR).unwrap();
        assert_eq!(p.stream_info().unwrap().frame_rate, Some(video_hw_types::Rational::new(24, 1)));
    }

    #[test]
    fn reset_restarts_rasl_skipping() {
        let mut p = setup();
        pic(&mut p, hevc_type::IDR_N_LP, 0, 0);
        p.reset();
        assert!(p.inspect(&VPS_64).unwrap().starts_access_unit);
        assert!(p.sps(0).is_some() && p.vps(0).is_some() && p.active_sps().is_some());
        pic(&mut p, hevc_type::CRA_NUT, 0, 4);
        assert!(!pic(&mut p, hevc_type::RASL_N, 0, 2).1);
    }

    #[test]
    fn compute_poc_wraps_both_ways() {
        assert_eq!(compute_poc(4, 0, 15, hevc_type::TRAIL_R), -1);
        assert_eq!(compute_poc(4, 14, 1, hevc_type::TRAIL_R), 17);
        assert_eq!(compute_poc(4, 30, 1, hevc_type::BLA_N_LP), 1);
        assert_eq!(compute_poc(16, -5, 65535, hevc_type::TRAIL_R), -1);
        // Extreme values wrap instead of overflowing.
        let _ = compute_poc(16, i32::MAX, 0, hevc_type::TRAIL_R);
        let _ = compute_poc(16, i32::MIN, 65535, hevc_type::TRAIL_R);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut p = setup();
        for nal in [&[][..], &[0x80, 0x01], &[0x40], &[0x42, 0x01], &[0x44, 0x01, 0x00], &[0x02, 0x01]] {
            assert!(p.inspect(nal).is_err(), "{nal:?}");
        }
    }
}
