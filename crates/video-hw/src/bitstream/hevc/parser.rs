//! [`HevcParser`]: parameter-set store, access-unit boundaries (H.265 7.4.2.4.4), picture
//! order count and the output decisions of ffmpeg's HEVC decoder.

use std::sync::Arc;

use super::pps::{Pps, parse_pps};
use super::slice::parse_slice_header;
use super::sps::{Sps, parse_sps};
use super::vps::{Vps, parse_vps};
use crate::bitstream::access_unit::{CodecParser, NalInfo, NalKind, PictureInfo, PictureStructure, StreamInfo};
use crate::bitstream::nal::{HevcNalHeader, hevc_type};
use crate::codec::Codec;
use crate::error::{Error, Result};

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
/// Picture order counts and `output` follow ffmpeg's HEVC decoder, so counting the
/// pictures with `output` set gives the number of frames it outputs.
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
