//! [`H264Parser`]: the parameter-set store and the per-NAL-unit state machine that
//! finds access units (H.264 7.4.1.2.3), primary pictures (7.4.1.2.4), field pairs,
//! picture order counts (8.2.1) and which pictures a decoder outputs.

use std::sync::Arc;

use super::picture::{FieldPairing, OutputQueue, PictureFacts, PocState, Recovery};
use super::pps::{Pps, parse_pps};
use super::slice::{SliceHeader, SliceType, read_has_mmco5, read_slice_header};
use super::sps::{Sps, parse_sps};
use crate::bitstream::access_unit::{CodecParser, NalInfo, NalKind, PictureInfo, StreamInfo};
use crate::bitstream::nal::{H264NalHeader, h264_type};
use crate::bitstream::rbsp::BitReader;
use crate::codec::Codec;
use crate::error::Result;

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
/// the fields that tell pictures apart, and the first slice of each picture a little
/// further, to `dec_ref_pic_marking()`, for picture order counts. Nothing is allocated
/// per slice.
///
/// [`PictureInfo::output`] models ffmpeg's h264 decoder with default flags: pictures
/// before the first IDR picture are not output, unless a recovery point SEI or ffmpeg's
/// "I picture with few references" heuristic says the stream has recovered; pictures
/// decoded after such a recovery point but displayed before it are not output either.
/// A first field is reported as output when the frame it starts will be (an unpaired
/// field that ffmpeg drops cannot be told apart until the next picture).
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
                if let Ok(cnt) = p.ue("recovery_frame_cnt") {
                    if cnt < MAX_RECOVERY_FRAME_CNT {
                        self.pending_recovery = Some(cnt);
                    }
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
        let (sps_table, pps_table) = (&self.sps, &self.pps);
        let (sh, pps, sps) = read_slice_header(&mut r, header, |id| {
            let pps = pps_table[id as usize].as_deref().ok_or(id)?;
            let sps = sps_table[pps.sps_id as usize].as_deref().ok_or(id)?;
            Ok((pps, sps))
        })?;
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
        let mmco5 = read_has_mmco5(&mut r, &sh, pps, sps).unwrap_or(false);
        let poc = self.poc.compute(&sh, sps, mmco5);
        let pairing = self.fields.next(sh.structure(), sh.frame_num, sh.is_idr(), sh.nal_ref_idc != 0);
        if pairing.previous_unpaired {
            if let Some(id) = self.waiting_field.take() {
                self.queue.forget(id);
            }
        }
        let second_field = pairing.second;
        let mut recovery_cnt = self.pending_recovery.take();
        if !second_field {
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
        let irap = sh.is_idr() || (recovery_cnt == Some(0) && sh.is_intra());
        let sps_id = sps.sps_id;

        let sps_arc = &self.sps[pps.sps_id as usize];
        if let Some(arc) = sps_arc {
            if !self.active_sps.as_ref().is_some_and(|a| Arc::ptr_eq(a, arc)) {
                self.active_sps = Some(arc.clone());
            }
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
