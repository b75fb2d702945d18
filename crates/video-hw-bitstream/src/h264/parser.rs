//! [`H264Parser`]: the parameter-set store and the per-NAL-unit state machine that
//! finds access units (H.264 7.4.1.2.3), primary pictures (7.4.1.2.4), field pairs,
//! picture order counts (8.2.1) and which pictures a decoder outputs.

use std::sync::Arc;

use super::picture::{FieldPairing, OutputQueue, PictureFacts, PocState, Recovery};
use super::pps::{Pps, parse_pps};
use super::slice::{SliceHeader, SliceType, read_ref_syntax, read_slice_header_in};
use super::sps::{Sps, parse_sps};
use crate::access_unit::{CodecParser, NalInfo, NalKind, PictureInfo, StreamInfo};
use crate::nal::{H264NalHeader, h264_type};
use crate::rbsp::BitReader;
use video_hw_types::codec::Codec;
use video_hw_types::error::Result;

/// Number of SPS ids (0..=31).
const SPS_COUNT: usize = 32;
/// Number of PPS ids (0..=255).
const PPS_COUNT: usize = 256;
/// SEI messages read from one SEI NAL unit at most.
const MAX_SEI_MESSAGES: usize = 64;
/// `recovery_frame_cnt` values at or above this are ignored (as ffmpeg does).
const MAX_RECOVERY_FRAME_CNT: u32 = 1 << 16;

/// Tracks H.264 parameter sets and finds where each primary coded picture starts.
///
/// Parameter sets are kept by id (32 SPS, 256 PPS). Slice NAL units are read only up to
/// the fields that tell pictures apart (7.4.1.2.4), and the first slice of each picture
/// a little further, to `dec_ref_pic_marking()`, for its picture order count. Nothing is
/// allocated per slice, except for the list modifications and marking operations of a
/// picture's first slice that has them.
///
/// Access units start per 7.4.1.2.3: at the first AUD, SPS, PPS, SEI, subset SPS or
/// reserved type 16..=18 after a picture's slices, or at the first slice of a new
/// primary picture. Redundant slices, data partitions B and C, filler, SPS extensions,
/// auxiliary and MVC/SVC extension slices stay in the unit they are in; a prefix NAL
/// unit (type 14) starts a unit only after extension slices, since it also comes
/// before every base-layer slice of a picture. End of sequence and end of stream close
/// the unit they end.
///
/// [`PictureInfo::output`] models ffmpeg's h264 decoder with default flags, so that
/// counting output pictures gives the frame count ffmpeg decodes:
/// * nothing is output before the stream recovers: at an IDR picture, at the frame a
///   recovery point SEI names, or at an I picture ffmpeg's heuristic takes for a random
///   access point; pictures decoded after such a point but displayed before it are not
///   output either (ffmpeg also forgets the SEI of the picture it initialises on);
/// * ffmpeg's output queue (`has_b_frames`, POC order) is followed, so a picture it drops
///   as out of order when a new SPS raises the reorder depth mid-stream is not output;
/// * of a field pair only the first field counts: the second has
///   [`PictureInfo::second_field`] set and repeats the first field's `output`. A first
///   field is reported as output when the frame it starts is; that it stays unpaired
///   (ffmpeg then drops it) is only known at the next picture.
///
/// [`PictureInfo::irap`] is set for IDR pictures and for intra pictures that carry a
/// recovery point SEI with `recovery_frame_cnt` 0: both are clean places to start decoding.
#[derive(Debug)]
pub struct H264Parser {
    sps: Box<[Option<Arc<Sps>>]>,
    pps: Box<[Option<Box<Pps>>]>,
    /// The SPS parsed last.
    last_sps: Option<Arc<Sps>>,
    /// The SPS of the last picture.
    active_sps: Option<Arc<Sps>>,
    au: AuState,
    /// The last slice of the current primary picture, with its SPS's POC type.
    prev: Option<(SliceHeader, u8)>,
    poc: PocState,
    fields: FieldPairing,
    recovery: Recovery,
    queue: OutputQueue,
    /// Queue id of a first field still waiting for its second field.
    waiting_field: Option<u64>,
    /// `recovery_frame_cnt` of a recovery point SEI waiting for its picture.
    pending_recovery: Option<u32>,
    /// Whether the current picture is output (given again to its second field).
    current_output: bool,
}

/// Where the stream stands with respect to access units.
#[derive(Debug, Default, Clone, Copy)]
struct AuState {
    /// An access unit has been started and not closed by end of sequence or stream.
    open: bool,
    /// It holds a slice of its primary picture.
    has_vcl: bool,
    /// It holds an MVC/SVC extension slice (types 20, 21).
    has_ext_slice: bool,
}

impl Default for H264Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl H264Parser {
    /// A parser with no parameter sets yet.
    pub fn new() -> Self {
        H264Parser {
            sps: vec![None; SPS_COUNT].into_boxed_slice(),
            pps: (0..PPS_COUNT).map(|_| None).collect(),
            last_sps: None,
            active_sps: None,
            au: AuState::default(),
            prev: None,
            poc: PocState::default(),
            fields: FieldPairing::default(),
            recovery: Recovery::default(),
            queue: OutputQueue::default(),
            waiting_field: None,
            pending_recovery: None,
            current_output: false,
        }
    }

    /// The stored SPS with this id.
    pub fn sps(&self, id: u8) -> Option<&Sps> {
        self.sps.get(id as usize)?.as_deref()
    }

    /// The stored PPS with this id.
    pub fn pps(&self, id: u8) -> Option<&Pps> {
        self.pps.get(id as usize)?.as_deref()
    }

    /// The SPS of the last picture seen (kept even if an SPS with its id was replaced since).
    pub fn active_sps(&self) -> Option<&Sps> {
        self.active_sps.as_deref()
    }

    /// A NAL unit that begins a new access unit when it follows the primary picture's
    /// slices (AUD, SPS, PPS, SEI, types 14..=18).
    fn prefix(&mut self, kind: NalKind) -> NalInfo {
        let starts = !self.au.open || self.au.has_vcl;
        if starts {
            self.au = AuState { open: true, has_vcl: false, has_ext_slice: false };
        }
        NalInfo { kind, starts_access_unit: starts, picture: None }
    }

    /// A NAL unit that belongs to the access unit it is in (it starts one only at the
    /// very beginning or after an end of sequence).
    fn attach(&mut self, kind: NalKind) -> NalInfo {
        let starts = !self.au.open;
        self.au.open = true;
        NalInfo { kind, starts_access_unit: starts, picture: None }
    }

    fn store_sps(&mut self, sps: Sps) {
        let slot = &mut self.sps[sps.sps_id as usize];
        match slot {
            // A repeated SPS keeps its allocation (and the active SPS stays the same object).
            Some(old) if **old == sps => {}
            _ => *slot = Some(Arc::new(sps)),
        }
        self.last_sps = slot.clone();
    }

    fn store_pps(&mut self, pps: Pps) {
        match &mut self.pps[pps.pps_id as usize] {
            Some(old) => **old = pps,
            slot => *slot = Some(Box::new(pps)),
        }
    }

    /// Reads SEI messages for a recovery point; damaged SEI is ignored.
    fn read_sei(&mut self, nal: &[u8]) {
        let mut r = BitReader::new(nal);
        if r.skip(8, "nal_unit_header").is_err() {
            return;
        }
        for _ in 0..MAX_SEI_MESSAGES {
            if !r.more_rbsp_data() {
                break;
            }
            let (Ok(payload_type), Ok(payload_size)) = (sei_number(&mut r), sei_number(&mut r)) else {
                break;
            };
            if payload_type == 6 {
                let mut p = r.clone();
                if let Ok(cnt) = p.ue("recovery_frame_cnt")
                    && cnt < MAX_RECOVERY_FRAME_CNT
                {
                    self.pending_recovery = Some(cnt);
                }
            }
            if r.skip(payload_size as u64 * 8, "sei_payload").is_err() {
                break;
            }
        }
    }

    fn end_sequence(&mut self, kind: NalKind) -> NalInfo {
        let starts = !self.au.open;
        self.au = AuState::default();
        self.prev = None;
        self.fields = FieldPairing::default();
        NalInfo { kind, starts_access_unit: starts, picture: None }
    }

    fn inspect_slice(&mut self, nal: &[u8], header: H264NalHeader) -> Result<NalInfo> {
        let mut r = BitReader::new(nal);
        r.skip(8, "nal_unit_header")?;
        let (sh, pps, sps) = read_slice_header_in(&mut r, header, &self.sps, &self.pps)?;
        let pps_table = &self.pps;
        // Redundant pictures never start a picture; they stay with the primary one.
        if sh.redundant_pic_cnt > 0 {
            return Ok(self.attach(NalKind::Vcl));
        }
        let poc_type = sps.pic_order_cnt_type;
        let new_picture = match &self.prev {
            None => true,
            Some((prev, prev_poc_type)) => sh.starts_new_picture(prev, *prev_poc_type, poc_type),
        };
        if !new_picture {
            let info = self.attach(NalKind::Vcl);
            self.au.has_vcl = true;
            return Ok(info);
        }

        // The first slice of a new primary picture.
        let mmco5 = read_ref_syntax(&mut r, &sh, pps, sps).is_ok_and(|s| s.has_mmco5());
        let poc = self.poc.compute(&sh, sps, mmco5);
        let pairing = self.fields.next(sh.structure(), sh.frame_num, sh.is_idr(), sh.nal_ref_idc != 0);
        if pairing.previous_unpaired
            && let Some(id) = self.waiting_field.take()
        {
            self.queue.forget(id);
        }
        let second_field = pairing.second;
        let sei_recovery_cnt = self.pending_recovery.take();
        let irap = sh.is_idr() || (sei_recovery_cnt == Some(0) && sh.is_intra());
        if !second_field {
            let mut recovery_cnt = sei_recovery_cnt;
            // ffmpeg (re)initialises its decoder on the first picture and on a change of
            // picture format; that flush also forgets the SEI that came with the picture.
            if self.active_sps.as_deref().is_none_or(|a| !same_picture_format(a, sps)) {
                self.queue.flush_change();
                self.recovery.flush_change();
                recovery_cnt = None;
            }
            if sh.is_idr() {
                self.queue.idr();
            }
            let reorder = sps.vui.as_ref().and_then(|v| v.bitstream_restriction).map(|b| b.max_num_reorder_frames);
            let (id, dropped) = self.queue.select(poc, sh.is_idr(), sh.kind() == SliceType::B, reorder);
            if mmco5 {
                self.queue.mmco_reset(id);
            }
            self.waiting_field = sh.field_pic.then_some(id);
            let pps_ref_max = if self.recovery.needs_pps_refs() {
                pps_table.iter().flatten().fold((0, 0), |(a, b), p| {
                    (a.max(p.num_ref_idx_l0_default_active), b.max(p.num_ref_idx_l1_default_active))
                })
            } else {
                (0, 0)
            };
            let facts = PictureFacts {
                idr: sh.is_idr(),
                reference: sh.nal_ref_idc != 0,
                intra: sh.is_intra(),
                field: sh.field_pic,
                frame_num: sh.frame_num as u32,
                max_frame_num: sps.max_frame_num(),
                max_num_ref_frames: sps.max_num_ref_frames as u32,
                has_b_frames: self.queue.has_b_frames(),
                recovery_frame_cnt: recovery_cnt,
                poc,
                pps_ref_max: (pps_ref_max.0 as u32, pps_ref_max.1 as u32),
            };
            self.current_output = self.recovery.picture_output(&facts) && !dropped;
        } else {
            self.waiting_field = None;
        }
        let sps_id = sps.sps_id;

        let sps_arc = &self.sps[pps.sps_id as usize];
        if let Some(arc) = sps_arc
            && !self.active_sps.as_ref().is_some_and(|a| Arc::ptr_eq(a, arc))
        {
            self.active_sps = Some(arc.clone());
        }
        self.prev = Some((sh, poc_type));
        let starts = !self.au.open || self.au.has_vcl;
        if starts {
            self.au = AuState { open: true, has_vcl: true, has_ext_slice: false };
        } else {
            self.au.has_vcl = true;
        }
        Ok(NalInfo {
            kind: NalKind::Vcl,
            starts_access_unit: starts,
            picture: Some(PictureInfo {
                idr: sh.is_idr(),
                irap,
                structure: sh.structure(),
                second_field,
                output: self.current_output,
                poc: Some(poc),
                memory_reset: mmco5,
                sps_id,
            }),
        })
    }
}

/// True when a decoder can go on from `a` to `b` without reinitialising (ffmpeg flushes
/// its output queue on a change of picture size or sample format).
fn same_picture_format(a: &Sps, b: &Sps) -> bool {
    a.dimensions() == b.dimensions()
        && a.chroma_format_idc == b.chroma_format_idc
        && a.bit_depth_luma == b.bit_depth_luma
        && a.bit_depth_chroma == b.bit_depth_chroma
}

/// `payloadType` or `payloadSize` of an SEI message: 0xFF bytes add up, then the last byte.
fn sei_number(r: &mut BitReader<'_>) -> Result<u32> {
    let mut v = 0u32;
    loop {
        let b = r.bits(8, "sei_number")?;
        v = v.saturating_add(b);
        if b != 0xff {
            return Ok(v);
        }
    }
}

impl CodecParser for H264Parser {
    fn codec(&self) -> Codec {
        Codec::H264
    }

    fn inspect(&mut self, nal: &[u8]) -> Result<NalInfo> {
        let header = H264NalHeader::parse(nal)?;
        Ok(match header.nal_unit_type {
            h264_type::SLICE | h264_type::SLICE_DPA | h264_type::IDR => return self.inspect_slice(nal, header),
            // Partitions B and C carry no slice header: they follow their partition A.
            h264_type::SLICE_DPB | h264_type::SLICE_DPC => {
                let info = self.attach(NalKind::Vcl);
                self.au.has_vcl = true;
                info
            }
            h264_type::SEI => {
                let info = self.prefix(NalKind::Sei);
                self.read_sei(nal);
                info
            }
            h264_type::SPS => {
                let sps = parse_sps(nal)?;
                self.store_sps(sps);
                self.prefix(NalKind::ParameterSet)
            }
            h264_type::PPS => {
                let sps_table = &self.sps;
                let pps = parse_pps(nal, |id| sps_table.get(id as usize)?.as_deref())?;
                self.store_pps(pps);
                self.prefix(NalKind::ParameterSet)
            }
            h264_type::AUD => self.prefix(NalKind::Delimiter),
            h264_type::END_OF_SEQ => self.end_sequence(NalKind::EndOfSequence),
            h264_type::END_OF_STREAM => self.end_sequence(NalKind::EndOfStream),
            h264_type::FILLER => self.attach(NalKind::Filler),
            h264_type::SPS_EXT => self.attach(NalKind::ParameterSet),
            // A prefix NAL unit comes before every base-layer slice, so after a base slice
            // it may belong to the same picture; only after the extension slices that end
            // an MVC/SVC access unit is it surely the start of the next one.
            h264_type::PREFIX => {
                if self.au.has_ext_slice {
                    self.prefix(NalKind::Other)
                } else {
                    self.attach(NalKind::Other)
                }
            }
            h264_type::SUBSET_SPS => self.prefix(NalKind::ParameterSet),
            16..=18 => self.prefix(NalKind::Other),
            h264_type::SLICE_EXT | 21 => {
                let info = self.attach(NalKind::Other);
                self.au.has_ext_slice = self.au.has_vcl;
                info
            }
            _ => self.attach(NalKind::Other),
        })
    }

    fn stream_info(&self) -> Option<StreamInfo> {
        self.active_sps.as_ref().or(self.last_sps.as_ref()).map(|s| s.stream_info())
    }

    fn reset(&mut self) {
        self.au = AuState::default();
        self.prev = None;
        self.poc = PocState::default();
        self.fields = FieldPairing::default();
        self.recovery = Recovery::default();
        self.queue = OutputQueue::default();
        self.waiting_field = None;
        self.pending_recovery = None;
        self.current_output = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_unit::PictureStructure;
    use crate::h264::test_util::{BitWriter, hex};

    /// Main profile 176x144 (or field-capable 176x144 when `fields`), POC type 0 with
    /// 8-bit lsb, log2_max_frame_num 4.
    fn sps(id: u32, fields: bool, width_mbs: u32) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.bits(0x67, 8);
        w.bits(77, 8);
        w.bits(0, 8);
        w.bits(30, 8);
        w.ue(id);
        w.ue(0);
        w.ue(0);
        w.ue(4);
        w.ue(2);
        w.flag(false);
        w.ue(width_mbs - 1);
        w.ue(if fields { 4 } else { 8 });
        w.flag(!fields);
        if fields {
            w.flag(false);
        }
        w.flag(true);
        w.flag(false);
        w.flag(false);
        w.trailing();
        w.finish()
    }

    fn pps(id: u32, sps_id: u32, redundant: bool) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.bits(0x68, 8);
        w.ue(id);
        w.ue(sps_id);
        w.flag(false);
        w.flag(false);
        w.ue(0);
        w.ue(0);
        w.ue(0);
        w.flag(false);
        w.bits(0, 2);
        w.se(0);
        w.se(0);
        w.se(0);
        w.flag(true);
        w.flag(false);
        w.flag(redundant);
        w.trailing();
        w.finish()
    }

    #[derive(Clone, Copy)]
    struct S {
        header: u8,
        first_mb: u32,
        slice_type: u32,
        pps: u32,
        frame_num: u32,
        field: Option<bool>,
        idr_pic_id: u32,
        lsb: u32,
        redundant: Option<u32>,
    }

    const IDR: S = S {
        header: 0x65,
        first_mb: 0,
        slice_type: 7,
        pps: 0,
        frame_num: 0,
        field: None,
        idr_pic_id: 0,
        lsb: 0,
        redundant: None,
    };
    const P: S = S { header: 0x41, slice_type: 5, ..IDR };

    fn slice(s: S) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.bits(s.header as u32, 8);
        w.ue(s.first_mb);
        w.ue(s.slice_type);
        w.ue(s.pps);
        w.bits(s.frame_num, 4);
        if let Some(bottom) = s.field {
            w.flag(true);
            w.flag(bottom);
        }
        if s.header & 0x1f == 5 {
            w.ue(s.idr_pic_id);
        }
        w.bits(s.lsb, 8);
        if let Some(r) = s.redundant {
            w.ue(r);
        }
        // num_ref_idx_active_override_flag = 0 for P slices, no list modification,
        // adaptive marking off (or the IDR flags), then some slice data.
        if s.slice_type.is_multiple_of(5) {
            w.flag(false);
            w.flag(false);
        }
        if s.header & 0x60 != 0 {
            w.flag(false);
            if s.header & 0x1f == 5 {
                w.flag(false);
            }
        }
        w.bits(0xabcd, 16);
        w.trailing();
        w.finish()
    }

    fn run(p: &mut H264Parser, nals: &[Vec<u8>]) -> Vec<NalInfo> {
        nals.iter().map(|n| p.inspect(n).unwrap_or_else(|e| panic!("{e}"))).collect()
    }

    #[test]
    fn access_unit_starts_follow_7_4_1_2_3() {
        let mut p = H264Parser::new();
        let aud = vec![0x09, 0xf0];
        let sei = vec![0x06, 0x05, 0x01, 0x00, 0x80];
        let nals = vec![
            aud.clone(),
            sps(0, false, 11),
            pps(0, 0, false),
            sei.clone(),
            slice(IDR),
            slice(S { first_mb: 50, ..IDR }),
            vec![0x0c, 0xff, 0xff, 0x80], // filler stays
            sei.clone(),                  // SEI after the picture starts the next unit
            slice(S { frame_num: 1, lsb: 2, ..P }),
            slice(S { frame_num: 1, lsb: 2, first_mb: 40, ..P }),
            slice(S { frame_num: 2, lsb: 4, ..P }), // a new picture without any prefix
            vec![0x0a],                             // end of sequence belongs to it
            vec![0x0b],                             // end of stream opens a unit of its own
            sps(0, false, 11),
        ];
        let info = run(&mut p, &nals);
        let starts: Vec<bool> = info.iter().map(|i| i.starts_access_unit).collect();
        assert_eq!(
            starts,
            [true, false, false, false, false, false, false, true, false, false, true, false, true, true]
        );
        let kinds: Vec<NalKind> = info.iter().map(|i| i.kind).collect();
        use NalKind::*;
        assert_eq!(
            kinds,
            [
                Delimiter,
                ParameterSet,
                ParameterSet,
                Sei,
                Vcl,
                Vcl,
                Filler,
                Sei,
                Vcl,
                Vcl,
                Vcl,
                EndOfSequence,
                EndOfStream,
                ParameterSet
            ]
        );
        let pictures: Vec<usize> =
            info.iter().enumerate().filter(|(_, i)| i.picture.is_some()).map(|(n, _)| n).collect();
        assert_eq!(pictures, [4, 8, 10]);
        let idr = info[4].picture.unwrap();
        assert!(idr.idr && idr.irap && idr.output);
        assert_eq!((idr.poc, idr.structure, idr.sps_id), (Some(0), PictureStructure::Frame, 0));
        assert_eq!(info[8].picture.unwrap().poc, Some(2));
        assert!(!info[8].picture.unwrap().irap);
    }

    #[test]
    fn parameter_sets_and_aud_after_a_slice_start_a_unit() {
        for prefix in [sps(0, false, 11), pps(0, 0, false), vec![0x09, 0xf0], vec![0x0f, 0x42], vec![0x10]] {
            let mut p = H264Parser::new();
            run(&mut p, &[sps(0, false, 11), pps(0, 0, false), slice(IDR)]);
            assert!(p.inspect(&prefix).unwrap().starts_access_unit, "{prefix:02x?}");
            // The next slice joins that unit.
            let next = p.inspect(&slice(S { frame_num: 1, lsb: 2, ..P })).unwrap();
            assert!(!next.starts_access_unit && next.picture.is_some());
        }
    }

    #[test]
    fn missing_parameter_sets_are_errors_that_change_nothing() {
        let mut p = H264Parser::new();
        let e = p.inspect(&slice(IDR)).unwrap_err();
        assert!(e.to_string().contains("PPS 0"), "{e}");
        run(&mut p, &[sps(0, false, 11)]);
        assert!(p.inspect(&slice(IDR)).is_err());
        // A PPS whose SPS is unknown is kept, but its slices still fail.
        run(&mut p, &[pps(3, 5, false)]);
        assert!(p.pps(3).is_some());
        assert!(p.inspect(&slice(S { pps: 3, ..IDR })).is_err());
        let info = run(&mut p, &[pps(0, 0, false), slice(IDR)]);
        assert!(info[1].picture.is_some());
        assert!(p.inspect(&[]).is_err());
        assert!(p.inspect(&[0x80]).is_err());
    }

    #[test]
    fn redundant_slices_never_start_a_picture() {
        let mut p = H264Parser::new();
        let info = run(
            &mut p,
            &[
                sps(0, false, 11),
                pps(0, 0, true),
                slice(S { redundant: Some(0), ..IDR }),
                slice(S { redundant: Some(1), ..IDR }),
                slice(S { redundant: Some(1), frame_num: 1, lsb: 2, ..P }),
                slice(S { redundant: Some(0), frame_num: 1, lsb: 2, ..P }),
            ],
        );
        assert!(info[2].picture.is_some());
        assert!(info[3].picture.is_none() && !info[3].starts_access_unit);
        assert!(info[4].picture.is_none() && !info[4].starts_access_unit);
        assert!(info[5].picture.is_some() && info[5].starts_access_unit);
    }

    #[test]
    fn field_pairs_are_two_units_and_one_frame() {
        let mut p = H264Parser::new();
        let top = S { field: Some(false), ..IDR };
        let info = run(
            &mut p,
            &[
                sps(0, true, 11),
                pps(0, 0, false),
                slice(top),
                slice(S { field: Some(true), header: 0x41, slice_type: 5, lsb: 1, ..top }),
                slice(S { field: Some(false), frame_num: 1, lsb: 4, ..P }),
                slice(S { field: Some(true), frame_num: 1, lsb: 5, ..P }),
                // A lone bottom field with a new frame_num, then a frame.
                slice(S { field: Some(true), frame_num: 2, lsb: 9, ..P }),
                slice(S { frame_num: 3, lsb: 12, ..P }),
            ],
        );
        let pics: Vec<PictureInfo> = info.iter().filter_map(|i| i.picture).collect();
        let second: Vec<bool> = pics.iter().map(|p| p.second_field).collect();
        assert_eq!(second, [false, true, false, true, false, false]);
        assert_eq!(pics[0].structure, PictureStructure::TopField);
        assert_eq!(pics[1].structure, PictureStructure::BottomField);
        assert_eq!(pics[1].poc, Some(1));
        assert!(pics.iter().all(|p| p.output));
        assert!(info[3..].iter().all(|i| i.starts_access_unit));
        assert!(p.stream_info().unwrap().interlaced);
    }

    #[test]
    fn pictures_before_the_first_idr_are_not_output() {
        let mut p = H264Parser::new();
        let info = run(
            &mut p,
            &[
                sps(0, false, 11),
                pps(0, 0, false),
                slice(S { frame_num: 5, lsb: 10, ..P }),
                slice(S { frame_num: 6, lsb: 12, ..P }),
                slice(IDR),
                slice(S { frame_num: 1, lsb: 2, ..P }),
            ],
        );
        let out: Vec<bool> = info.iter().filter_map(|i| i.picture).map(|p| p.output).collect();
        assert_eq!(out, [false, false, true, true]);
    }

    #[test]
    fn mvc_prefix_units_stay_with_the_base_picture() {
        let mut p = H264Parser::new();
        run(&mut p, &[sps(0, false, 11), pps(0, 0, false)]);
        let prefix = vec![0x0e, 0x80, 0x00, 0x00, 0x80];
        let ext = vec![0x14, 0x80, 0x00, 0x00, 0x88, 0x80];
        let info = run(
            &mut p,
            &[
                prefix.clone(),
                slice(IDR),
                prefix.clone(),
                slice(S { first_mb: 50, ..IDR }),
                ext.clone(),
                prefix.clone(),
                slice(S { frame_num: 1, lsb: 2, ..P }),
            ],
        );
        let starts: Vec<bool> = info.iter().map(|i| i.starts_access_unit).collect();
        // The SPS opened the first unit; the prefix after the extension slice opens the next.
        assert_eq!(starts, [false, false, false, false, false, true, false]);
        assert_eq!(info[4].kind, NalKind::Other);
        assert!(info[6].picture.is_some());
    }

    #[test]
    fn data_partitions_b_and_c_follow_a() {
        let mut p = H264Parser::new();
        run(&mut p, &[sps(0, false, 11), pps(0, 0, false), slice(IDR)]);
        let dpa = slice(S { header: 0x42, frame_num: 1, lsb: 2, slice_type: 0, ..IDR });
        let info = run(&mut p, &[dpa, vec![0x43, 0x80], vec![0x44, 0x80]]);
        assert!(info[0].starts_access_unit && info[0].picture.is_some());
        assert!(info[1..].iter().all(|i| !i.starts_access_unit && i.kind == NalKind::Vcl && i.picture.is_none()));
    }

    #[test]
    fn real_stream_with_a_b_picture() {
        // cros-codecs/64x64-I-P-B-P-high.h264 (x264 High), SEI left out, slices cut short.
        let nals = [
            "0910",
            "67640014ace4109b016a0c0c0d4a000003000200000300791e285224",
            "68ebecb22c",
            "6588840067ffec74c8135c5101a230e3c6752cbfe720c773",
            "0930",
            "419a29b105bffeb52cd506add220ee000242ac6ad1c6d7e0",
            "0950",
            "019e45e416ff0146e51b18d25934bed507ecef0577f35513",
        ];
        let mut p = H264Parser::new();
        let info = run(&mut p, &nals.map(hex));
        let starts: Vec<bool> = info.iter().map(|i| i.starts_access_unit).collect();
        assert_eq!(starts, [true, false, false, false, true, false, true, false]);
        let pics: Vec<PictureInfo> = info.iter().filter_map(|i| i.picture).collect();
        assert_eq!(pics.len(), 3);
        assert!(pics[0].idr && !pics[1].idr && !pics[2].idr);
        assert!(pics.iter().all(|p| p.output && !p.second_field && p.structure == PictureStructure::Frame));
        // Decoding order I, P, B; display order I, B, P.
        let poc: Vec<i32> = pics.iter().map(|p| p.poc.unwrap()).collect();
        assert!(poc[0] < poc[2] && poc[2] < poc[1], "{poc:?}");
        let si = p.stream_info().unwrap();
        assert_eq!((si.profile.as_str(), si.level.as_str(), si.num_reorder_frames), ("High", "2.0", 1));
    }

    #[test]
    fn stream_info_follows_the_active_sps() {
        let mut p = H264Parser::new();
        assert!(p.stream_info().is_none());
        run(&mut p, &[sps(0, false, 11)]);
        assert_eq!(p.stream_info().unwrap().dimensions.coded_width, 176);
        run(&mut p, &[pps(0, 0, false), slice(IDR)]);
        // A new SPS with the same id does not change the facts of the running picture...
        run(&mut p, &[sps(0, false, 20)]);
        assert_eq!(p.stream_info().unwrap().dimensions.coded_width, 176);
        assert_eq!(p.sps(0).unwrap().pic_width_in_mbs, 20);
        // ...until a picture uses it.
        run(&mut p, &[slice(S { idr_pic_id: 1, ..IDR })]);
        let info = p.stream_info().unwrap();
        assert_eq!((info.dimensions.coded_width, info.profile.as_str(), info.level.as_str()), (320, "Main", "3.0"));
        // reset() keeps parameter sets and the facts.
        p.reset();
        assert!(p.stream_info().is_some() && p.pps(0).is_some());
        assert!(p.inspect(&slice(S { frame_num: 1, lsb: 2, ..P })).unwrap().starts_access_unit);
    }
}
