//! The video parameter set (H.265 7.3.2.1), read as far as the base layer needs.

use super::hrd::skip_hrd_parameters;
use super::ptl::{MAX_SUB_LAYERS, ProfileTierLevel};
use super::vui::TimingInfo;
use super::{err_at, payload_reader};
use crate::nal::hevc_type;
use crate::rbsp::BitReader;
use video_hw_types::error::{Error, Result};

/// Decoded picture buffer needs of one temporal sub-layer (VPS or SPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubLayerOrdering {
    /// `max_dec_pic_buffering_minus1` (0..=15).
    pub max_dec_pic_buffering_minus1: u8,
    /// `max_num_reorder_pics` (at most `max_dec_pic_buffering_minus1`).
    pub max_num_reorder_pics: u8,
    /// `max_latency_increase_plus1` (0 = no limit).
    pub max_latency_increase_plus1: u32,
}

impl SubLayerOrdering {
    /// Reads the ordering info for sub-layers `0..=max_sub_layers_minus1`; when
    /// `present` is false only the highest is coded and it applies to all.
    #[doc(hidden)]
    pub fn parse_all(
        r: &mut BitReader<'_>,
        max_sub_layers_minus1: u8,
        present: bool,
    ) -> Result<[SubLayerOrdering; MAX_SUB_LAYERS]> {
        let mut out = [SubLayerOrdering::default(); MAX_SUB_LAYERS];
        let last = (max_sub_layers_minus1 as usize).min(MAX_SUB_LAYERS - 1);
        let first = if present { 0 } else { last };
        for slot in &mut out[first..=last] {
            let off = r.byte_offset();
            let mut dpb = r.ue_max("max_dec_pic_buffering_minus1", 15)?;
            let reorder = r.ue("max_num_reorder_pics")?;
            if reorder > dpb {
                // ffmpeg accepts this and grows the DPB to fit the reorder depth.
                if reorder > 15 {
                    return Err(Error::invalid_bitstream(
                        off,
                        format!("max_num_reorder_pics = {reorder} is out of range (max 15)"),
                    ));
                }
                dpb = reorder;
            }
            let latency = r.ue("max_latency_increase_plus1")?;
            *slot = SubLayerOrdering {
                max_dec_pic_buffering_minus1: dpb as u8,
                max_num_reorder_pics: reorder as u8,
                max_latency_increase_plus1: latency,
            };
        }
        let top = out[last];
        for slot in &mut out[..first] {
            *slot = top;
        }
        Ok(out)
    }
}

/// A video parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vps {
    /// `vps_video_parameter_set_id` (0..=15).
    pub id: u8,
    /// `vps_base_layer_internal_flag`.
    pub base_layer_internal_flag: bool,
    /// `vps_base_layer_available_flag`.
    pub base_layer_available_flag: bool,
    /// `vps_max_layers_minus1`.
    pub max_layers_minus1: u8,
    /// `vps_max_sub_layers_minus1` (0..=6).
    pub max_sub_layers_minus1: u8,
    /// `vps_temporal_id_nesting_flag`.
    pub temporal_id_nesting_flag: bool,
    /// Profile, tier and level.
    pub ptl: ProfileTierLevel,
    /// `vps_max_dec_pic_buffering_minus1` and friends, per sub-layer.
    pub sub_layer_ordering: [SubLayerOrdering; MAX_SUB_LAYERS],
    /// `vps_max_layer_id`.
    pub max_layer_id: u8,
    /// `vps_num_layer_sets_minus1` (0..=1023).
    pub num_layer_sets_minus1: u16,
    /// VPS timing information.
    pub timing: Option<TimingInfo>,
    /// `vps_num_hrd_parameters`.
    pub num_hrd_parameters: u16,
    /// `vps_extension_flag` (the extension itself is not read).
    pub extension_flag: bool,
}

/// Parses a VPS NAL unit (header included, emulation prevention in place).
pub fn parse_vps(nal: &[u8]) -> Result<Vps> {
    let (_, mut r) = payload_reader(nal, hevc_type::VPS, "VPS")?;
    let r = &mut r;
    let id = r.bits(4, "vps_video_parameter_set_id")? as u8;
    let base_layer_internal_flag = r.flag("vps_base_layer_internal_flag")?;
    let base_layer_available_flag = r.flag("vps_base_layer_available_flag")?;
    let max_layers_minus1 = r.bits(6, "vps_max_layers_minus1")? as u8;
    let off = r.byte_offset();
    let max_sub_layers_minus1 = r.bits(3, "vps_max_sub_layers_minus1")? as u8;
    if max_sub_layers_minus1 > 6 {
        return Err(Error::invalid_bitstream(off, "vps_max_sub_layers_minus1 = 7 is out of range (max 6)"));
    }
    let temporal_id_nesting_flag = r.flag("vps_temporal_id_nesting_flag")?;
    if r.bits(16, "vps_reserved_0xffff_16bits")? != 0xffff {
        return Err(err_at(r, "vps_reserved_0xffff_16bits is not 0xffff"));
    }
    let ptl = ProfileTierLevel::parse(r, max_sub_layers_minus1)?;
    let present = r.flag("vps_sub_layer_ordering_info_present_flag")?;
    let sub_layer_ordering = SubLayerOrdering::parse_all(r, max_sub_layers_minus1, present)?;
    let max_layer_id = r.bits(6, "vps_max_layer_id")? as u8;
    let num_layer_sets_minus1 = r.ue_max("vps_num_layer_sets_minus1", 1023)? as u16;
    // layer_id_included_flag[i][j]: not needed for the base layer.
    let included_bits = num_layer_sets_minus1 as u64 * (max_layer_id as u64 + 1);
    r.skip(included_bits, "layer_id_included_flag")?;
    let mut timing = None;
    let mut num_hrd_parameters = 0;
    if r.flag("vps_timing_info_present_flag")? {
        timing = Some(TimingInfo::parse(r)?);
        num_hrd_parameters = r.ue_max("vps_num_hrd_parameters", num_layer_sets_minus1 as u32 + 1)? as u16;
        for i in 0..num_hrd_parameters {
            r.ue_max("hrd_layer_set_idx", num_layer_sets_minus1 as u32)?;
            let common_inf_present = i == 0 || r.flag("cprms_present_flag")?;
            skip_hrd_parameters(r, common_inf_present, max_sub_layers_minus1)?;
        }
    }
    let extension_flag = r.flag("vps_extension_flag")?;
    Ok(Vps {
        id,
        base_layer_internal_flag,
        base_layer_available_flag,
        max_layers_minus1,
        max_sub_layers_minus1,
        temporal_id_nesting_flag,
        ptl,
        sub_layer_ordering,
        max_layer_id,
        num_layer_sets_minus1,
        timing,
        num_hrd_parameters,
        extension_flag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::testutil::{BitWriter, VPS_64 as VPS_64X64};

    #[test]
    fn parses_real_vps() {
        let vps = parse_vps(&VPS_64X64).unwrap();
        assert_eq!(vps.id, 0);
        assert_eq!(vps.max_sub_layers_minus1, 0);
        assert_eq!(vps.ptl.general.profile_idc, 1);
        assert_eq!(vps.ptl.general_level_idc, 63);
        assert!(vps.timing.is_none());
    }

    fn vps_with_timing() -> BitWriter {
        let mut w = BitWriter::new();
        w.u(4, 3).flag(true).flag(true).u(6, 0).u(3, 1).flag(true).u(16, 0xffff);
        // PTL with one sub-layer: general (88 bits) + level, 2 flags, 7 x 2 reserved bits.
        w.u(8, 0x01).u(32, 0x6000_0000).u(48, 0).u(8, 93).u(2, 0).u(14, 0);
        w.flag(true); // ordering present
        w.ue(4).ue(2).ue(0).ue(5).ue(3).ue(0);
        w.u(6, 0).ue(0);
        w.flag(true).u(32, 1).u(32, 50).flag(false).ue(0);
        w.flag(false);
        w
    }

    #[test]
    fn parses_timing_and_ordering() {
        let vps = parse_vps(&vps_with_timing().nal(32)).unwrap();
        assert_eq!(vps.id, 3);
        assert_eq!(vps.ptl.general_level_idc, 93);
        assert_eq!(vps.sub_layer_ordering[1].max_dec_pic_buffering_minus1, 5);
        assert_eq!(vps.sub_layer_ordering[1].max_num_reorder_pics, 3);
        assert_eq!(vps.timing.unwrap().frame_rate(), Some(video_hw_types::Rational::new(50, 1)));
    }

    #[test]
    fn rejects_bad_vps() {
        assert!(parse_vps(&VPS_64X64[..10]).is_err());
        let mut bad = VPS_64X64;
        bad[4] = 0xfe; // reserved 0xffff
        assert!(parse_vps(&bad).is_err());
        let mut bad = VPS_64X64;
        bad[3] = 0x0f; // max_sub_layers_minus1 = 7
        assert!(parse_vps(&bad).is_err());
        assert!(parse_vps(&[0x42, 0x01, 0x0c]).is_err()); // an SPS header
    }
}
