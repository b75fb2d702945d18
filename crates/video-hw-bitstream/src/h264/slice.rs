//! Slice header essentials (H.264 7.3.3): what picture-boundary detection and picture
//! order counting need, read no further than necessary.

use super::pps::Pps;
use super::sps::Sps;
use crate::access_unit::PictureStructure;
use crate::nal::{H264NalHeader, h264_type};
use crate::rbsp::BitReader;
use video_hw_types::error::{Error, Result};

/// The start of a slice header, up to `redundant_pic_cnt`: every field that
/// H.264 7.4.1.2.4 compares to find the first slice of a new picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SliceHeader {
    /// `nal_unit_type` of the slice's NAL unit (1, 2 or 5).
    pub nal_unit_type: u8,
    /// `nal_ref_idc` of the slice's NAL unit.
    pub nal_ref_idc: u8,
    /// `first_mb_in_slice`.
    pub first_mb_in_slice: u32,
    /// `slice_type` as coded (0..=9; values 5..=9 say every slice of the picture has it).
    pub slice_type: u8,
    /// `pic_parameter_set_id`.
    pub pps_id: u8,
    /// `colour_plane_id` (separately coded 4:4:4 planes; else 0).
    pub colour_plane_id: u8,
    /// `frame_num`.
    pub frame_num: u16,
    /// `field_pic_flag`.
    pub field_pic: bool,
    /// `bottom_field_flag`.
    pub bottom_field: bool,
    /// `idr_pic_id` (IDR pictures; else 0).
    pub idr_pic_id: u16,
    /// `pic_order_cnt_lsb` (POC type 0; else 0).
    pub pic_order_cnt_lsb: u16,
    /// `delta_pic_order_cnt_bottom` (POC type 0; else 0).
    pub delta_pic_order_cnt_bottom: i32,
    /// `delta_pic_order_cnt[0..2]` (POC type 1; else 0).
    pub delta_pic_order_cnt: [i32; 2],
    /// `redundant_pic_cnt` (0 for slices of the primary picture).
    pub redundant_pic_cnt: u8,
}

/// What a slice's slice type says, with the "all slices alike" variants folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceType {
    /// P slice.
    P,
    /// B slice.
    B,
    /// I slice.
    I,
    /// SP (switching P) slice.
    Sp,
    /// SI (switching I) slice.
    Si,
}

impl SliceHeader {
    /// True for a slice of an IDR picture.
    pub fn is_idr(&self) -> bool {
        self.nal_unit_type == h264_type::IDR
    }

    /// The slice type, modulo 5.
    pub fn kind(&self) -> SliceType {
        match self.slice_type % 5 {
            0 => SliceType::P,
            1 => SliceType::B,
            2 => SliceType::I,
            3 => SliceType::Sp,
            _ => SliceType::Si,
        }
    }

    /// True for I and SI slices.
    pub fn is_intra(&self) -> bool {
        matches!(self.kind(), SliceType::I | SliceType::Si)
    }

    /// Frame, top field or bottom field.
    pub fn structure(&self) -> PictureStructure {
        match (self.field_pic, self.bottom_field) {
            (false, _) => PictureStructure::Frame,
            (true, false) => PictureStructure::TopField,
            (true, true) => PictureStructure::BottomField,
        }
    }

    /// True when this slice, following `prev` (a slice of the current primary picture),
    /// is the first slice of a new primary picture: H.264 7.4.1.2.4. `prev_poc_type` and
    /// `poc_type` are the `pic_order_cnt_type` of the SPS each slice used.
    pub fn starts_new_picture(&self, prev: &SliceHeader, prev_poc_type: u8, poc_type: u8) -> bool {
        self.frame_num != prev.frame_num
            || self.pps_id != prev.pps_id
            || self.field_pic != prev.field_pic
            || (self.field_pic && self.bottom_field != prev.bottom_field)
            || ((self.nal_ref_idc == 0) != (prev.nal_ref_idc == 0))
            || (poc_type == 0
                && prev_poc_type == 0
                && (self.pic_order_cnt_lsb != prev.pic_order_cnt_lsb
                    || self.delta_pic_order_cnt_bottom != prev.delta_pic_order_cnt_bottom))
            || (poc_type == 1 && prev_poc_type == 1 && self.delta_pic_order_cnt != prev.delta_pic_order_cnt)
            || self.is_idr() != prev.is_idr()
            || (self.is_idr() && prev.is_idr() && self.idr_pic_id != prev.idr_pic_id)
    }
}

/// Parses the slice header essentials of a slice NAL unit (types 1, 2 and 5; `nal`
/// starts with the NAL header). `lookup` gives the PPS with a given id and its SPS.
///
/// ```
/// use video_hw::bitstream::h264::{parse_pps, parse_slice_header, parse_sps};
/// let sps = parse_sps(&[0x67, 0x42, 0xc0, 0x15, 0xd9, 0x04, 0x26, 0xc0, 0x5a, 0x83, 0x03, 0x03, 0x52,
///     0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x47, 0x8b, 0x17, 0x24]).unwrap();
/// let pps = parse_pps(&[0x68, 0xcb, 0x8c, 0xb2], |_| Some(&sps)).unwrap();
/// let sh = parse_slice_header(&[0x65, 0x88, 0x84, 0x05, 0xff], |_| Some((&pps, &sps))).unwrap();
/// assert!(sh.is_idr() && sh.is_intra());
/// assert_eq!((sh.first_mb_in_slice, sh.frame_num), (0, 0));
/// ```
pub fn parse_slice_header<'a>(
    nal: &[u8],
    lookup: impl FnOnce(u8) -> Option<(&'a Pps, &'a Sps)>,
) -> Result<SliceHeader> {
    let header = H264NalHeader::parse(nal)?;
    if !matches!(header.nal_unit_type, h264_type::SLICE | h264_type::SLICE_DPA | h264_type::IDR) {
        return Err(Error::invalid_bitstream(0, format!("NAL type {} has no slice header", header.nal_unit_type)));
    }
    let mut r = BitReader::new(nal);
    r.skip(8, "nal_unit_header")?;
    let (sh, _, _) = read_slice_header(&mut r, header, |id| lookup(id).ok_or(id))?;
    Ok(sh)
}

/// [`read_slice_header`] with the PPS and SPS looked up in tables indexed by id.
pub(super) fn read_slice_header_in<'a>(
    r: &mut BitReader<'_>,
    header: H264NalHeader,
    sps_table: &'a [Option<std::sync::Arc<Sps>>],
    pps_table: &'a [Option<Box<Pps>>],
) -> Result<(SliceHeader, &'a Pps, &'a Sps)> {
    read_slice_header(r, header, |id| {
        let pps = pps_table.get(id as usize).and_then(|p| p.as_deref()).ok_or(id)?;
        let sps = sps_table.get(pps.sps_id as usize).and_then(|s| s.as_deref()).ok_or(id)?;
        Ok((pps, sps))
    })
}

/// Reads the slice header essentials from `r` (placed just after the NAL header) and
/// returns them with the PPS and SPS they use. `lookup` fails with the PPS id when
/// that PPS or its SPS is missing.
pub(super) fn read_slice_header<'a>(
    r: &mut BitReader<'_>,
    header: H264NalHeader,
    lookup: impl FnOnce(u8) -> std::result::Result<(&'a Pps, &'a Sps), u8>,
) -> Result<(SliceHeader, &'a Pps, &'a Sps)> {
    let first_mb_off = r.byte_offset();
    let first_mb_in_slice = r.ue("first_mb_in_slice")?;
    let type_off = r.byte_offset();
    let slice_type = r.ue_max("slice_type", 9)? as u8;
    let pps_off = r.byte_offset();
    let pps_id = r.ue_max("pic_parameter_set_id", 255)? as u8;
    let (pps, sps) = lookup(pps_id).map_err(|id| {
        Error::invalid_bitstream(pps_off, format!("slice refers to PPS {id} (or its SPS), which has not been received"))
    })?;
    let mut sh = SliceHeader {
        nal_unit_type: header.nal_unit_type,
        nal_ref_idc: header.nal_ref_idc,
        first_mb_in_slice,
        slice_type,
        pps_id,
        ..SliceHeader::default()
    };
    if sh.is_idr() && !sh.is_intra() {
        return Err(Error::invalid_bitstream(type_off, format!("slice_type {slice_type} in an IDR picture")));
    }
    if first_mb_in_slice >= sps.frame_size_in_mbs() {
        return Err(Error::invalid_bitstream(
            first_mb_off,
            format!("first_mb_in_slice = {first_mb_in_slice} is beyond the picture's {} MBs", sps.frame_size_in_mbs()),
        ));
    }
    if sps.separate_colour_plane {
        sh.colour_plane_id = r.bits(2, "colour_plane_id")? as u8;
    }
    sh.frame_num = r.bits(sps.log2_max_frame_num as u32, "frame_num")? as u16;
    if !sps.frame_mbs_only {
        sh.field_pic = r.flag("field_pic_flag")?;
        if sh.field_pic {
            sh.bottom_field = r.flag("bottom_field_flag")?;
        }
    }
    if sh.is_idr() {
        sh.idr_pic_id = r.ue_max("idr_pic_id", 65535)? as u16;
    }
    let bottom_present = pps.bottom_field_pic_order_in_frame_present && !sh.field_pic;
    match sps.pic_order_cnt_type {
        0 => {
            sh.pic_order_cnt_lsb = r.bits(sps.log2_max_pic_order_cnt_lsb as u32, "pic_order_cnt_lsb")? as u16;
            if bottom_present {
                sh.delta_pic_order_cnt_bottom = r.se("delta_pic_order_cnt_bottom")?;
            }
        }
        1 if !sps.delta_pic_order_always_zero => {
            sh.delta_pic_order_cnt[0] = r.se("delta_pic_order_cnt[0]")?;
            if bottom_present {
                sh.delta_pic_order_cnt[1] = r.se("delta_pic_order_cnt[1]")?;
            }
        }
        _ => {}
    }
    if pps.redundant_pic_cnt_present {
        sh.redundant_pic_cnt = r.ue_max("redundant_pic_cnt", 127)? as u8;
    }
    Ok((sh, pps, sps))
}

/// One `memory_management_control_operation` (7.3.3.3) with its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub enum Mmco {
    /// 1: a short-term picture `difference_of_pic_nums_minus1 + 1` below the current one is
    /// no longer a reference.
    ForgetShort(u32),
    /// 2: the long-term picture with this `long_term_pic_num` is no longer a reference.
    ForgetLong(u32),
    /// 3: a short-term picture (difference as for 1) becomes long-term with this index.
    ShortToLong(u32, u32),
    /// 4: `max_long_term_frame_idx_plus1`.
    MaxLongIdx(u32),
    /// 5: every reference is forgotten; frame numbers and counts start again.
    Reset,
    /// 6: the current picture becomes long-term with this index.
    CurrentToLong(u32),
}

/// How a reference picture marks the pictures held for reference (7.3.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[doc(hidden)]
pub enum Marking {
    /// A non-reference picture: no marking.
    #[default]
    None,
    /// An IDR picture, and whether it is itself long-term (`long_term_reference_flag`).
    Idr { long_term: bool },
    /// The sliding window (8.2.5.3).
    SlidingWindow,
    /// `adaptive_ref_pic_marking_mode_flag` with its operations, in order.
    Adaptive(Vec<Mmco>),
}

/// The slice header's reference syntax after [`read_slice_header`]: active list sizes,
/// list modifications (7.3.3.1) and reference marking (7.3.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[doc(hidden)]
pub struct RefSyntax {
    /// `num_ref_idx_l0/l1_active_minus1 + 1` (0 for lists the slice type has not).
    pub active: [u32; 2],
    /// `modification_of_pic_nums_idc` (0..=2) with its value, per list.
    pub modifications: [Vec<(u32, u32)>; 2],
    /// Reference marking.
    pub marking: Marking,
}

impl RefSyntax {
    /// True when the marking holds `memory_management_control_operation` 5.
    #[doc(hidden)]
    pub fn has_mmco5(&self) -> bool {
        matches!(&self.marking, Marking::Adaptive(ops) if ops.contains(&Mmco::Reset))
    }
}

/// Reads the rest of the slice header up to the end of `dec_ref_pic_marking()`
/// (7.3.3.1 – 7.3.3.3). `r` must be just after [`read_slice_header`].
#[doc(hidden)]
pub fn read_ref_syntax(r: &mut BitReader<'_>, sh: &SliceHeader, pps: &Pps, sps: &Sps) -> Result<RefSyntax> {
    let kind = sh.kind();
    if kind == SliceType::B {
        r.flag("direct_spatial_mv_pred_flag")?;
    }
    let mut refs = [pps.num_ref_idx_l0_default_active as u32, pps.num_ref_idx_l1_default_active as u32];
    if matches!(kind, SliceType::P | SliceType::Sp | SliceType::B) && r.flag("num_ref_idx_active_override_flag")? {
        refs[0] = r.ue_max("num_ref_idx_l0_active_minus1", 31)? + 1;
        if kind == SliceType::B {
            refs[1] = r.ue_max("num_ref_idx_l1_active_minus1", 31)? + 1;
        }
    }
    let lists = match kind {
        SliceType::I | SliceType::Si => 0,
        SliceType::B => 2,
        _ => 1,
    };
    let mut syntax = RefSyntax::default();
    syntax.active[..lists].copy_from_slice(&refs[..lists]);
    // ref_pic_list_modification()
    for list in 0..lists {
        if r.flag("ref_pic_list_modification_flag")? {
            let mut done = false;
            for _ in 0..=refs[0].max(refs[1]) + 1 {
                match r.ue_max("modification_of_pic_nums_idc", 5)? {
                    idc @ 0..=2 => {
                        let v = r.ue("abs_diff_pic_num_minus1 or long_term_pic_num")?;
                        syntax.modifications[list].push((idc, v));
                    }
                    3 => {
                        done = true;
                        break;
                    }
                    // 4 and 5 belong to MVC slices, which are not parsed here.
                    _ => return Err(Error::invalid_bitstream(r.byte_offset(), "modification_of_pic_nums_idc > 3")),
                }
            }
            if !done {
                return Err(Error::invalid_bitstream(r.byte_offset(), "too many reference list modifications"));
            }
        }
    }
    if (pps.weighted_pred && matches!(kind, SliceType::P | SliceType::Sp))
        || (pps.weighted_bipred_idc == 1 && kind == SliceType::B)
    {
        skip_pred_weight_table(r, sps, &refs[..lists])?;
    }
    if sh.nal_ref_idc == 0 {
        return Ok(syntax);
    }
    // dec_ref_pic_marking()
    if sh.is_idr() {
        r.flag("no_output_of_prior_pics_flag")?;
        syntax.marking = Marking::Idr { long_term: r.flag("long_term_reference_flag")? };
        return Ok(syntax);
    }
    if !r.flag("adaptive_ref_pic_marking_mode_flag")? {
        syntax.marking = Marking::SlidingWindow;
        return Ok(syntax);
    }
    let mut ops = Vec::new();
    // At most one operation per reference picture and kind, plus the end marker.
    for _ in 0..100 {
        let op = match r.ue_max("memory_management_control_operation", 6)? {
            0 => {
                syntax.marking = Marking::Adaptive(ops);
                return Ok(syntax);
            }
            1 => Mmco::ForgetShort(r.ue("difference_of_pic_nums_minus1")?),
            2 => Mmco::ForgetLong(r.ue("long_term_pic_num")?),
            3 => {
                let diff = r.ue("difference_of_pic_nums_minus1")?;
                Mmco::ShortToLong(diff, r.ue("long_term_frame_idx")?)
            }
            4 => Mmco::MaxLongIdx(r.ue("max_long_term_frame_idx_plus1")?),
            5 => Mmco::Reset,
            _ => Mmco::CurrentToLong(r.ue("long_term_frame_idx")?),
        };
        ops.push(op);
    }
    Err(Error::invalid_bitstream(r.byte_offset(), "too many memory management operations"))
}

/// Skips `pred_weight_table()` (7.3.3.2) for the active reference lists.
fn skip_pred_weight_table(r: &mut BitReader<'_>, sps: &Sps, refs: &[u32]) -> Result<()> {
    r.ue_max("luma_log2_weight_denom", 7)?;
    let chroma = sps.chroma_array_type() != 0;
    if chroma {
        r.ue_max("chroma_log2_weight_denom", 7)?;
    }
    for &n in refs {
        for _ in 0..n {
            if r.flag("luma_weight_flag")? {
                r.se_range("luma_weight", -128, 127)?;
                r.se_range("luma_offset", -128, 127)?;
            }
            if chroma && r.flag("chroma_weight_flag")? {
                for _ in 0..2 {
                    r.se_range("chroma_weight", -128, 127)?;
                    r.se_range("chroma_offset", -128, 127)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h264::test_util::BitWriter;
    use crate::h264::{parse_pps, parse_sps};

    fn sps_pps(poc_type: u32, frame_mbs_only: bool) -> (Sps, Pps) {
        let mut w = BitWriter::new();
        w.bits(0x67, 8);
        w.bits(77, 8);
        w.bits(0, 8);
        w.bits(30, 8);
        w.ue(0);
        w.ue(0); // log2_max_frame_num 4
        w.ue(poc_type);
        match poc_type {
            0 => w.ue(0),
            1 => {
                w.flag(false);
                w.se(-1);
                w.se(0);
                w.ue(2);
                w.se(2);
                w.se(2);
            }
            _ => {}
        }
        w.ue(2);
        w.flag(false);
        w.ue(10);
        w.ue(if frame_mbs_only { 8 } else { 4 });
        w.flag(frame_mbs_only);
        if !frame_mbs_only {
            w.flag(false);
        }
        w.flag(true);
        w.flag(false);
        w.flag(false);
        w.trailing();
        let sps = parse_sps(&w.finish()).unwrap();
        let mut w = BitWriter::new();
        w.bits(0x68, 8);
        w.ue(0);
        w.ue(0);
        w.flag(true); // CABAC
        w.flag(true); // bottom_field_pic_order_in_frame_present
        w.ue(0);
        w.ue(0);
        w.ue(0);
        w.flag(true); // weighted pred
        w.bits(0, 2);
        w.se(0);
        w.se(0);
        w.se(0);
        w.flag(true);
        w.flag(false);
        w.flag(true); // redundant_pic_cnt_present
        w.trailing();
        let pps = parse_pps(&w.finish(), |_| Some(&sps)).unwrap();
        (sps, pps)
    }

    #[test]
    fn reads_the_essentials_and_the_marking() {
        let (sps, pps) = sps_pps(0, false);
        let mut w = BitWriter::new();
        w.bits(0x41, 8); // non-IDR, nal_ref_idc 2
        w.ue(5); // first mb
        w.ue(0); // P
        w.ue(0); // pps
        w.bits(9, 4); // frame_num
        w.flag(true); // field
        w.flag(true); // bottom
        w.bits(7, 4); // poc lsb
        w.ue(0); // redundant_pic_cnt
        w.flag(true); // override
        w.ue(1); // 2 refs
        w.flag(true); // modification
        w.ue(0);
        w.ue(3);
        w.ue(3);
        w.ue(0); // luma denom
        w.ue(0); // chroma denom
        w.flag(true);
        w.se(1);
        w.se(-1);
        w.flag(false);
        w.flag(false);
        w.flag(true);
        for v in [-1, 1, 2, -2] {
            w.se(v);
        }
        w.flag(true); // adaptive marking
        w.ue(1);
        w.ue(0);
        w.ue(5);
        w.ue(0);
        w.trailing();
        let nal = w.finish();
        let sh = parse_slice_header(&nal, |_| Some((&pps, &sps))).unwrap();
        assert_eq!((sh.first_mb_in_slice, sh.frame_num, sh.pic_order_cnt_lsb), (5, 9, 7));
        assert_eq!(sh.structure(), PictureStructure::BottomField);
        assert_eq!(sh.kind(), SliceType::P);
        let mut r = BitReader::new(&nal);
        r.skip(8, "h").unwrap();
        let hdr = H264NalHeader::parse(&nal).unwrap();
        let (sh2, pps2, sps2) = read_slice_header(&mut r, hdr, |_| Ok((&pps, &sps))).unwrap();
        assert_eq!(sh, sh2);
        let syntax = read_ref_syntax(&mut r, &sh2, pps2, sps2).unwrap();
        assert!(syntax.has_mmco5());
        assert_eq!(syntax.marking, Marking::Adaptive(vec![Mmco::ForgetShort(0), Mmco::Reset]));
    }

    #[test]
    fn poc_type_1_deltas_and_idr_fields() {
        let (sps, pps) = sps_pps(1, true);
        let mut w = BitWriter::new();
        w.bits(0x65, 8);
        w.ue(0);
        w.ue(7); // I, all slices
        w.ue(0);
        w.bits(0, 4);
        w.ue(300); // idr_pic_id
        w.se(-3);
        w.se(4);
        w.ue(2); // redundant
        w.trailing();
        let sh = parse_slice_header(&w.finish(), |_| Some((&pps, &sps))).unwrap();
        assert!(sh.is_idr() && sh.is_intra());
        assert_eq!((sh.idr_pic_id, sh.delta_pic_order_cnt, sh.redundant_pic_cnt), (300, [-3, 4], 2));
    }

    #[test]
    fn new_picture_rules() {
        let base = SliceHeader { nal_unit_type: 1, nal_ref_idc: 2, frame_num: 3, ..SliceHeader::default() };
        assert!(!base.starts_new_picture(&base, 0, 0));
        let same_mb = SliceHeader { first_mb_in_slice: 40, ..base };
        assert!(!same_mb.starts_new_picture(&base, 0, 0));
        for other in [
            SliceHeader { frame_num: 4, ..base },
            SliceHeader { pps_id: 1, ..base },
            SliceHeader { field_pic: true, ..base },
            SliceHeader { nal_ref_idc: 0, ..base },
            SliceHeader { pic_order_cnt_lsb: 2, ..base },
            SliceHeader { delta_pic_order_cnt_bottom: 1, ..base },
            SliceHeader { nal_unit_type: 5, ..base },
        ] {
            assert!(other.starts_new_picture(&base, 0, 0), "{other:?}");
        }
        // nal_ref_idc 1 vs 3 is the same picture.
        assert!(!SliceHeader { nal_ref_idc: 3, ..base }.starts_new_picture(&base, 0, 0));
        // POC type 1 deltas only count under POC type 1.
        let d = SliceHeader { delta_pic_order_cnt: [1, 0], ..base };
        assert!(d.starts_new_picture(&base, 1, 1));
        assert!(!d.starts_new_picture(&base, 2, 2));
        let top = SliceHeader { field_pic: true, ..base };
        assert!(SliceHeader { bottom_field: true, ..top }.starts_new_picture(&top, 0, 0));
        let idr = SliceHeader { nal_unit_type: 5, ..base };
        assert!(SliceHeader { idr_pic_id: 1, ..idr }.starts_new_picture(&idr, 0, 0));
    }

    #[test]
    fn errors_name_the_element() {
        let (sps, pps) = sps_pps(2, true);
        let e = parse_slice_header(&[0x65, 0x88, 0x80], |_| None::<(&Pps, &Sps)>).unwrap_err();
        assert!(e.to_string().contains("PPS 0"), "{e}");
        // P slice in an IDR NAL.
        let e = parse_slice_header(&[0x65, 0xe0], |_| Some((&pps, &sps))).unwrap_err();
        assert!(e.to_string().contains("IDR"), "{e}");
        // first_mb beyond the picture (11x9 = 99 MBs).
        let mut w = BitWriter::new();
        w.bits(0x41, 8);
        w.ue(99);
        w.ue(0);
        w.ue(0);
        w.trailing();
        let e = parse_slice_header(&w.finish(), |_| Some((&pps, &sps))).unwrap_err();
        assert!(e.to_string().contains("first_mb_in_slice"), "{e}");
        assert!(parse_slice_header(&[0x67], |_| Some((&pps, &sps))).is_err());
    }
}
