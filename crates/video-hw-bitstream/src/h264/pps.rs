//! Picture parameter set (H.264 7.3.2.2).

use super::sps::{Sps, skip_scaling_lists};
use crate::nal::{H264NalHeader, h264_type};
use crate::rbsp::BitReader;
use video_hw_types::error::{Error, Result};

/// Most map units a slice group map of type 6 may list (a 16384x16384 picture).
const MAX_MAP_UNITS: u32 = 1 << 20;

/// A parsed H.264 picture parameter set. Slice group maps and scaling lists are
/// read and skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pps {
    /// `pic_parameter_set_id` (0..=255).
    pub pps_id: u8,
    /// `seq_parameter_set_id` of the SPS it refers to (0..=31).
    pub sps_id: u8,
    /// `entropy_coding_mode_flag`: CABAC when set, else CAVLC.
    pub entropy_coding_mode: bool,
    /// `bottom_field_pic_order_in_frame_present_flag`.
    pub bottom_field_pic_order_in_frame_present: bool,
    /// `num_slice_groups_minus1 + 1` (1..=8; more than one is FMO).
    pub num_slice_groups: u8,
    /// `slice_group_map_type` (0..=6; 0 when there is one slice group).
    pub slice_group_map_type: u8,
    /// `slice_group_change_rate_minus1 + 1` (map types 3..=5; else 0).
    pub slice_group_change_rate: u32,
    /// `num_ref_idx_l0_default_active_minus1 + 1` (1..=32).
    pub num_ref_idx_l0_default_active: u8,
    /// `num_ref_idx_l1_default_active_minus1 + 1` (1..=32).
    pub num_ref_idx_l1_default_active: u8,
    /// `weighted_pred_flag`.
    pub weighted_pred: bool,
    /// `weighted_bipred_idc` (0..=2).
    pub weighted_bipred_idc: u8,
    /// `26 + pic_init_qp_minus26`.
    pub pic_init_qp: i32,
    /// `26 + pic_init_qs_minus26`.
    pub pic_init_qs: i32,
    /// `chroma_qp_index_offset` (-12..=12).
    pub chroma_qp_index_offset: i32,
    /// `deblocking_filter_control_present_flag`.
    pub deblocking_filter_control_present: bool,
    /// `constrained_intra_pred_flag`.
    pub constrained_intra_pred: bool,
    /// `redundant_pic_cnt_present_flag`.
    pub redundant_pic_cnt_present: bool,
    /// `transform_8x8_mode_flag` (High profiles).
    pub transform_8x8_mode: bool,
    /// `pic_scaling_matrix_present_flag` (the lists themselves are skipped).
    pub pic_scaling_matrix_present: bool,
    /// `second_chroma_qp_index_offset`; equal to `chroma_qp_index_offset` when absent.
    pub second_chroma_qp_index_offset: i32,
    /// True when the PPS carries scaling lists that were not read because its SPS
    /// (whose chroma format says how many there are) was not known: the fields after
    /// them keep their defaults. Everything slice headers need comes before.
    pub scaling_lists_unread: bool,
}

/// Parses a PPS NAL unit (`nal` starts with the one-byte NAL header).
///
/// `sps_lookup` gives the SPS with a given id, if known: only the optional High-profile
/// scaling lists need it (their count depends on `chroma_format_idc`). Without it the
/// PPS is still usable for slice headers (see [`Pps::scaling_lists_unread`]).
///
/// ```
/// use video_hw::bitstream::h264::parse_pps;
/// let pps = parse_pps(&[0x68, 0xcb, 0x8c, 0xb2], |_| None).unwrap();
/// assert_eq!((pps.pps_id, pps.sps_id, pps.entropy_coding_mode), (0, 0, false));
/// ```
pub fn parse_pps<'s>(nal: &[u8], sps_lookup: impl FnOnce(u8) -> Option<&'s Sps>) -> Result<Pps> {
    let header = H264NalHeader::parse(nal)?;
    if header.nal_unit_type != h264_type::PPS {
        return Err(Error::invalid_bitstream(0, format!("NAL type {} is not a PPS", header.nal_unit_type)));
    }
    let mut r = BitReader::new(nal);
    r.skip(8, "nal_unit_header")?;
    let pps_id = r.ue_max("pic_parameter_set_id", 255)? as u8;
    let sps_id = r.ue_max("seq_parameter_set_id", 31)? as u8;
    let entropy_coding_mode = r.flag("entropy_coding_mode_flag")?;
    let bottom_field_pic_order_in_frame_present = r.flag("bottom_field_pic_order_in_frame_present_flag")?;
    let num_slice_groups = r.ue_max("num_slice_groups_minus1", 7)? as u8 + 1;
    let mut slice_group_map_type = 0;
    let mut slice_group_change_rate = 0;
    if num_slice_groups > 1 {
        slice_group_map_type = r.ue_max("slice_group_map_type", 6)? as u8;
        match slice_group_map_type {
            0 => {
                for _ in 0..num_slice_groups {
                    r.ue_max("run_length_minus1", MAX_MAP_UNITS - 1)?;
                }
            }
            2 => {
                for _ in 1..num_slice_groups {
                    r.ue_max("top_left", MAX_MAP_UNITS - 1)?;
                    r.ue_max("bottom_right", MAX_MAP_UNITS - 1)?;
                }
            }
            3..=5 => {
                r.flag("slice_group_change_direction_flag")?;
                slice_group_change_rate = r.ue_max("slice_group_change_rate_minus1", MAX_MAP_UNITS - 1)? + 1;
            }
            6 => {
                let units = r.ue_max("pic_size_in_map_units_minus1", MAX_MAP_UNITS - 1)? as u64 + 1;
                let bits_each = u32::BITS - (num_slice_groups as u32 - 1).leading_zeros();
                r.skip(units * bits_each as u64, "slice_group_id")?;
            }
            _ => {}
        }
    }
    let num_ref_idx_l0_default_active = r.ue_max("num_ref_idx_l0_default_active_minus1", 31)? as u8 + 1;
    let num_ref_idx_l1_default_active = r.ue_max("num_ref_idx_l1_default_active_minus1", 31)? as u8 + 1;
    let weighted_pred = r.flag("weighted_pred_flag")?;
    let weighted_bipred_idc = r.bits(2, "weighted_bipred_idc")? as u8;
    if weighted_bipred_idc > 2 {
        return Err(Error::invalid_bitstream(r.byte_offset(), "weighted_bipred_idc = 3 is reserved"));
    }
    // QpBdOffsetY is at most 36 (14-bit video).
    let pic_init_qp = 26 + r.se_range("pic_init_qp_minus26", -62, 25)?;
    let pic_init_qs = 26 + r.se_range("pic_init_qs_minus26", -26, 25)?;
    let chroma_qp_index_offset = r.se_range("chroma_qp_index_offset", -12, 12)?;
    let mut pps = Pps {
        pps_id,
        sps_id,
        entropy_coding_mode,
        bottom_field_pic_order_in_frame_present,
        num_slice_groups,
        slice_group_map_type,
        slice_group_change_rate,
        num_ref_idx_l0_default_active,
        num_ref_idx_l1_default_active,
        weighted_pred,
        weighted_bipred_idc,
        pic_init_qp,
        pic_init_qs,
        chroma_qp_index_offset,
        deblocking_filter_control_present: r.flag("deblocking_filter_control_present_flag")?,
        constrained_intra_pred: r.flag("constrained_intra_pred_flag")?,
        redundant_pic_cnt_present: r.flag("redundant_pic_cnt_present_flag")?,
        transform_8x8_mode: false,
        pic_scaling_matrix_present: false,
        second_chroma_qp_index_offset: chroma_qp_index_offset,
        scaling_lists_unread: false,
    };
    if r.more_rbsp_data() {
        pps.transform_8x8_mode = r.flag("transform_8x8_mode_flag")?;
        pps.pic_scaling_matrix_present = r.flag("pic_scaling_matrix_present_flag")?;
        if pps.pic_scaling_matrix_present {
            let chroma_format_idc = match sps_lookup(sps_id) {
                Some(sps) => Some(sps.chroma_format_idc),
                // Without 8x8 transforms there are six lists whatever the chroma format.
                None if !pps.transform_8x8_mode => Some(1),
                None => None,
            };
            match chroma_format_idc {
                Some(c) => {
                    let lists = 6 + if pps.transform_8x8_mode { if c == 3 { 6 } else { 2 } } else { 0 };
                    skip_scaling_lists(&mut r, lists)?;
                }
                None => {
                    pps.scaling_lists_unread = true;
                    return Ok(pps);
                }
            }
        }
        pps.second_chroma_qp_index_offset = r.se_range("second_chroma_qp_index_offset", -12, 12)?;
    }
    Ok(pps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h264::test_util::BitWriter;

    #[test]
    fn parses_baseline_pps() {
        // cros-codecs/64x64-I.h264
        let pps = parse_pps(&[0x68, 0xcb, 0x8c, 0xb2], |_| None).unwrap();
        assert_eq!(pps.num_slice_groups, 1);
        assert_eq!(pps.num_ref_idx_l0_default_active, 3);
        assert!(pps.deblocking_filter_control_present);
        assert!(!pps.transform_8x8_mode);
        assert!(!pps.scaling_lists_unread);
    }

    fn write_pps(groups: u32, map_type: u32, high: Option<(bool, bool)>) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.bits(0x68, 8);
        w.ue(7);
        w.ue(3);
        w.flag(true);
        w.flag(true);
        w.ue(groups - 1);
        if groups > 1 {
            w.ue(map_type);
            match map_type {
                0 => (0..groups).for_each(|_| w.ue(10)),
                2 => (1..groups).for_each(|_| {
                    w.ue(0);
                    w.ue(20)
                }),
                3..=5 => {
                    w.flag(true);
                    w.ue(4);
                }
                6 => {
                    w.ue(98); // 99 map units
                    (0..99).for_each(|i| w.bits(i % groups, 2));
                }
                _ => {}
            }
        }
        w.ue(1);
        w.ue(0);
        w.flag(true);
        w.bits(2, 2);
        w.se(-3);
        w.se(0);
        w.se(-2);
        w.flag(true);
        w.flag(false);
        w.flag(true);
        if let Some((t8x8, matrix)) = high {
            w.flag(t8x8);
            w.flag(matrix);
            if matrix {
                let n = 6 + if t8x8 { 2 } else { 0 };
                for _ in 0..n {
                    w.flag(false);
                }
            }
            w.se(3);
        }
        w.trailing();
        w.finish()
    }

    #[test]
    fn parses_every_slice_group_map_type() {
        for t in 0..=6 {
            let pps = parse_pps(&write_pps(4, t, None), |_| None).unwrap();
            assert_eq!((pps.pps_id, pps.sps_id, pps.num_slice_groups, pps.slice_group_map_type), (7, 3, 4, t as u8));
            assert_eq!(pps.num_ref_idx_l0_default_active, 2);
            assert_eq!((pps.pic_init_qp, pps.chroma_qp_index_offset), (23, -2));
            assert!(pps.redundant_pic_cnt_present);
            assert_eq!(pps.slice_group_change_rate, if (3..=5).contains(&t) { 5 } else { 0 });
            assert_eq!(pps.second_chroma_qp_index_offset, -2);
        }
    }

    #[test]
    fn reads_high_part_with_or_without_sps() {
        let nal = write_pps(1, 0, Some((true, false)));
        let pps = parse_pps(&nal, |_| None).unwrap();
        assert!(pps.transform_8x8_mode);
        assert_eq!(pps.second_chroma_qp_index_offset, 3);

        let nal = write_pps(1, 0, Some((true, true)));
        let pps = parse_pps(&nal, |_| None).unwrap();
        assert!(pps.scaling_lists_unread);
        assert_eq!(pps.second_chroma_qp_index_offset, -2);

        let sps = crate::h264::parse_sps(&[
            0x67, 0x42, 0xc0, 0x15, 0xd9, 0x04, 0x26, 0xc0, 0x5a, 0x83, 0x03, 0x03, 0x52, 0x80, 0x00, 0x00, 0x03, 0x00,
            0x80, 0x00, 0x00, 0x1e, 0x47, 0x8b, 0x17, 0x24,
        ])
        .unwrap();
        let pps = parse_pps(&nal, |_| Some(&sps)).unwrap();
        assert!(!pps.scaling_lists_unread);
        assert_eq!(pps.second_chroma_qp_index_offset, 3);
    }

    #[test]
    fn rejects_bad_values() {
        assert!(parse_pps(&[0x68], |_| None).is_err());
        assert!(parse_pps(&[0x67, 0x80], |_| None).is_err());
        // pps id 256
        let mut w = BitWriter::new();
        w.bits(0x68, 8);
        w.ue(256);
        w.trailing();
        assert!(parse_pps(&w.finish(), |_| None).is_err());
        // A huge type-6 map in a tiny NAL fails on truncation, not on allocation.
        let mut w = BitWriter::new();
        w.bits(0x68, 8);
        w.ue(0);
        w.ue(0);
        w.flag(false);
        w.flag(false);
        w.ue(7);
        w.ue(6);
        w.ue(MAX_MAP_UNITS - 1);
        w.trailing();
        let e = parse_pps(&w.finish(), |_| None).unwrap_err();
        assert!(e.to_string().contains("slice_group_id"), "{e}");
    }
}
