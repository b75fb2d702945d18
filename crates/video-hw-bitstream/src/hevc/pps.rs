//! The picture parameter set (H.265 7.3.2.3).

use super::payload_reader;
use super::scaling::ScalingList;
use super::sps::{MAX_PICTURE_SIZE, Sps};
use crate::nal::hevc_type;
use crate::rbsp::BitReader;
use video_hw_types::error::{Error, Result};

/// Most tile columns (and rows) accepted; the level limits allow at most 20 columns and 22 rows.
pub const MAX_TILE_COLUMNS_OR_ROWS: usize = 64;

/// Tile layout (`tiles_enabled_flag` set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiles {
    /// `num_tile_columns_minus1` (0..=63).
    pub num_tile_columns_minus1: u8,
    /// `num_tile_rows_minus1` (0..=63).
    pub num_tile_rows_minus1: u8,
    /// `uniform_spacing_flag`.
    pub uniform_spacing_flag: bool,
    /// `column_width_minus1[i]` in CTBs, for `i < num_tile_columns_minus1` when not uniform.
    pub column_width_minus1: [u16; MAX_TILE_COLUMNS_OR_ROWS],
    /// `row_height_minus1[i]` in CTBs, for `i < num_tile_rows_minus1` when not uniform.
    pub row_height_minus1: [u16; MAX_TILE_COLUMNS_OR_ROWS],
    /// `loop_filter_across_tiles_enabled_flag`.
    pub loop_filter_across_tiles_enabled_flag: bool,
}

/// Deblocking filter control (`deblocking_filter_control_present_flag` set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeblockingControl {
    /// `deblocking_filter_override_enabled_flag`.
    pub override_enabled_flag: bool,
    /// `pps_deblocking_filter_disabled_flag`.
    pub disabled_flag: bool,
    /// `pps_beta_offset_div2` (-6..=6).
    pub beta_offset_div2: i8,
    /// `pps_tc_offset_div2` (-6..=6).
    pub tc_offset_div2: i8,
}

/// `pps_range_extension()` (RExt profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PpsRangeExtension {
    /// `log2_max_transform_skip_block_size_minus2`.
    pub log2_max_transform_skip_block_size_minus2: u8,
    /// `cross_component_prediction_enabled_flag`.
    pub cross_component_prediction_enabled_flag: bool,
    /// `chroma_qp_offset_list_enabled_flag`.
    pub chroma_qp_offset_list_enabled_flag: bool,
    /// `diff_cu_chroma_qp_offset_depth`.
    pub diff_cu_chroma_qp_offset_depth: u8,
    /// `chroma_qp_offset_list_len_minus1` (0..=5).
    pub chroma_qp_offset_list_len_minus1: u8,
    /// `cb_qp_offset_list[i]` (-12..=12).
    pub cb_qp_offset_list: [i8; 6],
    /// `cr_qp_offset_list[i]` (-12..=12).
    pub cr_qp_offset_list: [i8; 6],
    /// `log2_sao_offset_scale_luma`.
    pub log2_sao_offset_scale_luma: u8,
    /// `log2_sao_offset_scale_chroma`.
    pub log2_sao_offset_scale_chroma: u8,
}

/// A picture parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pps {
    /// `pps_pic_parameter_set_id` (0..=63).
    pub id: u8,
    /// `pps_seq_parameter_set_id` (0..=15).
    pub sps_id: u8,
    /// `dependent_slice_segments_enabled_flag`.
    pub dependent_slice_segments_enabled_flag: bool,
    /// `output_flag_present_flag`: slice headers carry `pic_output_flag`.
    pub output_flag_present_flag: bool,
    /// `num_extra_slice_header_bits` (0..=7).
    pub num_extra_slice_header_bits: u8,
    /// `sign_data_hiding_enabled_flag`.
    pub sign_data_hiding_enabled_flag: bool,
    /// `cabac_init_present_flag`.
    pub cabac_init_present_flag: bool,
    /// `num_ref_idx_l0_default_active_minus1` (0..=14).
    pub num_ref_idx_l0_default_active_minus1: u8,
    /// `num_ref_idx_l1_default_active_minus1` (0..=14).
    pub num_ref_idx_l1_default_active_minus1: u8,
    /// `init_qp_minus26`.
    pub init_qp_minus26: i8,
    /// `constrained_intra_pred_flag`.
    pub constrained_intra_pred_flag: bool,
    /// `transform_skip_enabled_flag`.
    pub transform_skip_enabled_flag: bool,
    /// `cu_qp_delta_enabled_flag`.
    pub cu_qp_delta_enabled_flag: bool,
    /// `diff_cu_qp_delta_depth` (0 when `cu_qp_delta_enabled_flag` is not set).
    pub diff_cu_qp_delta_depth: u8,
    /// `pps_cb_qp_offset` (-12..=12).
    pub cb_qp_offset: i8,
    /// `pps_cr_qp_offset` (-12..=12).
    pub cr_qp_offset: i8,
    /// `pps_slice_chroma_qp_offsets_present_flag`.
    pub slice_chroma_qp_offsets_present_flag: bool,
    /// `weighted_pred_flag`.
    pub weighted_pred_flag: bool,
    /// `weighted_bipred_flag`.
    pub weighted_bipred_flag: bool,
    /// `transquant_bypass_enabled_flag`.
    pub transquant_bypass_enabled_flag: bool,
    /// `tiles_enabled_flag`.
    pub tiles_enabled_flag: bool,
    /// `entropy_coding_sync_enabled_flag` (wavefront parallel processing).
    pub entropy_coding_sync_enabled_flag: bool,
    /// The tile layout, when `tiles_enabled_flag` is set.
    pub tiles: Option<Tiles>,
    /// `pps_loop_filter_across_slices_enabled_flag`.
    pub loop_filter_across_slices_enabled_flag: bool,
    /// Deblocking control, when `deblocking_filter_control_present_flag` is set.
    pub deblocking: Option<DeblockingControl>,
    /// Coded scaling lists, when `pps_scaling_list_data_present_flag` is set.
    pub scaling_list: Option<Box<ScalingList>>,
    /// `lists_modification_present_flag`.
    pub lists_modification_present_flag: bool,
    /// `Log2ParMrgLevel` (`log2_parallel_merge_level_minus2 + 2`).
    pub log2_parallel_merge_level: u8,
    /// `slice_segment_header_extension_present_flag`.
    pub slice_segment_header_extension_present_flag: bool,
    /// `pps_range_extension()`, when `pps_range_extension_flag` is set.
    pub range_extension: Option<PpsRangeExtension>,
    /// `pps_multilayer_extension_flag` (extension not read).
    pub multilayer_extension_flag: bool,
    /// `pps_3d_extension_flag` (extension not read).
    pub extension_3d_flag: bool,
    /// `pps_scc_extension_flag` (extension not read).
    pub scc_extension_flag: bool,
}

impl Pps {
    /// Checks the values whose range depends on the SPS (tiles, QP, merge level);
    /// `offset` is reported in the error.
    pub fn check_against(&self, sps: &Sps, offset: u64) -> Result<()> {
        let bad = |what: String| Err(Error::invalid_bitstream(offset, format!("PPS {}: {what}", self.id)));
        if self.sps_id != sps.id {
            return bad(format!("refers to SPS {}, not {}", self.sps_id, sps.id));
        }
        let qp_bd_offset = 6 * (sps.bit_depth_luma as i32 - 8);
        if (self.init_qp_minus26 as i32) < -(26 + qp_bd_offset) {
            return bad(format!("init_qp_minus26 = {} is below -(26 + {qp_bd_offset})", self.init_qp_minus26));
        }
        if self.diff_cu_qp_delta_depth > sps.log2_diff_max_min_luma_coding_block_size {
            return bad(format!("diff_cu_qp_delta_depth = {} exceeds the CTB depth", self.diff_cu_qp_delta_depth));
        }
        if self.log2_parallel_merge_level as u32 > sps.ctb_log2_size() {
            return bad(format!("log2_parallel_merge_level = {} exceeds the CTB size", self.log2_parallel_merge_level));
        }
        if let Some(t) = &self.tiles {
            let (cols, rows) = (sps.pic_width_in_ctbs(), sps.pic_height_in_ctbs());
            if t.num_tile_columns_minus1 as u32 >= cols || t.num_tile_rows_minus1 as u32 >= rows {
                return bad(format!(
                    "{}x{} tiles do not fit a picture of {cols}x{rows} CTBs",
                    t.num_tile_columns_minus1 as u32 + 1,
                    t.num_tile_rows_minus1 as u32 + 1
                ));
            }
            if !t.uniform_spacing_flag {
                let sum = |v: &[u16]| v.iter().map(|&x| x as u32 + 1).sum::<u32>();
                if sum(&t.column_width_minus1[..t.num_tile_columns_minus1 as usize]) >= cols
                    || sum(&t.row_height_minus1[..t.num_tile_rows_minus1 as usize]) >= rows
                {
                    return bad("tile sizes exceed the picture".to_string());
                }
            }
        }
        Ok(())
    }
}

/// Parses a PPS NAL unit (header included, emulation prevention in place).
///
/// Values whose range depends on the SPS are checked by [`Pps::check_against`].
pub fn parse_pps(nal: &[u8]) -> Result<Pps> {
    let (_, mut r) = payload_reader(nal, hevc_type::PPS, "PPS")?;
    let r = &mut r;
    let id = r.ue_max("pps_pic_parameter_set_id", 63)? as u8;
    let sps_id = r.ue_max("pps_seq_parameter_set_id", 15)? as u8;
    let dependent_slice_segments_enabled_flag = r.flag("dependent_slice_segments_enabled_flag")?;
    let output_flag_present_flag = r.flag("output_flag_present_flag")?;
    let num_extra_slice_header_bits = r.bits(3, "num_extra_slice_header_bits")? as u8;
    let sign_data_hiding_enabled_flag = r.flag("sign_data_hiding_enabled_flag")?;
    let cabac_init_present_flag = r.flag("cabac_init_present_flag")?;
    let num_ref_idx_l0_default_active_minus1 = r.ue_max("num_ref_idx_l0_default_active_minus1", 14)? as u8;
    let num_ref_idx_l1_default_active_minus1 = r.ue_max("num_ref_idx_l1_default_active_minus1", 14)? as u8;
    // The lower bound -(26 + QpBdOffsetY) depends on the SPS; -74 is the lowest possible.
    let init_qp_minus26 = r.se_range("init_qp_minus26", -74, 25)? as i8;
    let constrained_intra_pred_flag = r.flag("constrained_intra_pred_flag")?;
    let transform_skip_enabled_flag = r.flag("transform_skip_enabled_flag")?;
    let cu_qp_delta_enabled_flag = r.flag("cu_qp_delta_enabled_flag")?;
    let diff_cu_qp_delta_depth =
        if cu_qp_delta_enabled_flag { r.ue_max("diff_cu_qp_delta_depth", 3)? as u8 } else { 0 };
    let cb_qp_offset = r.se_range("pps_cb_qp_offset", -12, 12)? as i8;
    let cr_qp_offset = r.se_range("pps_cr_qp_offset", -12, 12)? as i8;
    let slice_chroma_qp_offsets_present_flag = r.flag("pps_slice_chroma_qp_offsets_present_flag")?;
    let weighted_pred_flag = r.flag("weighted_pred_flag")?;
    let weighted_bipred_flag = r.flag("weighted_bipred_flag")?;
    let transquant_bypass_enabled_flag = r.flag("transquant_bypass_enabled_flag")?;
    let tiles_enabled_flag = r.flag("tiles_enabled_flag")?;
    let entropy_coding_sync_enabled_flag = r.flag("entropy_coding_sync_enabled_flag")?;
    let tiles = if tiles_enabled_flag { Some(parse_tiles(r)?) } else { None };
    let loop_filter_across_slices_enabled_flag = r.flag("pps_loop_filter_across_slices_enabled_flag")?;
    let deblocking = if r.flag("deblocking_filter_control_present_flag")? {
        let override_enabled_flag = r.flag("deblocking_filter_override_enabled_flag")?;
        let disabled_flag = r.flag("pps_deblocking_filter_disabled_flag")?;
        let (mut beta_offset_div2, mut tc_offset_div2) = (0, 0);
        if !disabled_flag {
            beta_offset_div2 = r.se_range("pps_beta_offset_div2", -6, 6)? as i8;
            tc_offset_div2 = r.se_range("pps_tc_offset_div2", -6, 6)? as i8;
        }
        Some(DeblockingControl { override_enabled_flag, disabled_flag, beta_offset_div2, tc_offset_div2 })
    } else {
        None
    };
    let scaling_list =
        if r.flag("pps_scaling_list_data_present_flag")? { Some(Box::new(ScalingList::parse(r)?)) } else { None };
    let lists_modification_present_flag = r.flag("lists_modification_present_flag")?;
    let log2_parallel_merge_level = r.ue_max("log2_parallel_merge_level_minus2", 4)? as u8 + 2;
    let slice_segment_header_extension_present_flag = r.flag("slice_segment_header_extension_present_flag")?;

    let mut range_extension = None;
    let (mut multilayer_extension_flag, mut extension_3d_flag, mut scc_extension_flag) = (false, false, false);
    if r.flag("pps_extension_present_flag")? {
        let range = r.flag("pps_range_extension_flag")?;
        multilayer_extension_flag = r.flag("pps_multilayer_extension_flag")?;
        extension_3d_flag = r.flag("pps_3d_extension_flag")?;
        scc_extension_flag = r.flag("pps_scc_extension_flag")?;
        r.bits(4, "pps_extension_4bits")?;
        if range {
            range_extension = Some(parse_range_extension(r, transform_skip_enabled_flag)?);
        }
    }

    Ok(Pps {
        id,
        sps_id,
        dependent_slice_segments_enabled_flag,
        output_flag_present_flag,
        num_extra_slice_header_bits,
        sign_data_hiding_enabled_flag,
        cabac_init_present_flag,
        num_ref_idx_l0_default_active_minus1,
        num_ref_idx_l1_default_active_minus1,
        init_qp_minus26,
        constrained_intra_pred_flag,
        transform_skip_enabled_flag,
        cu_qp_delta_enabled_flag,
        diff_cu_qp_delta_depth,
        cb_qp_offset,
        cr_qp_offset,
        slice_chroma_qp_offsets_present_flag,
        weighted_pred_flag,
        weighted_bipred_flag,
        transquant_bypass_enabled_flag,
        tiles_enabled_flag,
        entropy_coding_sync_enabled_flag,
        tiles,
        loop_filter_across_slices_enabled_flag,
        deblocking,
        scaling_list,
        lists_modification_present_flag,
        log2_parallel_merge_level,
        slice_segment_header_extension_present_flag,
        range_extension,
        multilayer_extension_flag,
        extension_3d_flag,
        scc_extension_flag,
    })
}

fn parse_tiles(r: &mut BitReader<'_>) -> Result<Tiles> {
    let max = MAX_TILE_COLUMNS_OR_ROWS as u32 - 1;
    let num_tile_columns_minus1 = r.ue_max("num_tile_columns_minus1", max)? as u8;
    let num_tile_rows_minus1 = r.ue_max("num_tile_rows_minus1", max)? as u8;
    let uniform_spacing_flag = r.flag("uniform_spacing_flag")?;
    let mut column_width_minus1 = [0u16; MAX_TILE_COLUMNS_OR_ROWS];
    let mut row_height_minus1 = [0u16; MAX_TILE_COLUMNS_OR_ROWS];
    // A CTB is at least 16 samples, so no tile is wider or taller than this many CTBs.
    let max_ctbs = MAX_PICTURE_SIZE.div_ceil(16) - 1;
    if !uniform_spacing_flag {
        for w in column_width_minus1.iter_mut().take(num_tile_columns_minus1 as usize) {
            *w = r.ue_max("column_width_minus1", max_ctbs)? as u16;
        }
        for h in row_height_minus1.iter_mut().take(num_tile_rows_minus1 as usize) {
            *h = r.ue_max("row_height_minus1", max_ctbs)? as u16;
        }
    }
    Ok(Tiles {
        num_tile_columns_minus1,
        num_tile_rows_minus1,
        uniform_spacing_flag,
        column_width_minus1,
        row_height_minus1,
        loop_filter_across_tiles_enabled_flag: r.flag("loop_filter_across_tiles_enabled_flag")?,
    })
}

fn parse_range_extension(r: &mut BitReader<'_>, transform_skip_enabled_flag: bool) -> Result<PpsRangeExtension> {
    let mut ext = PpsRangeExtension::default();
    if transform_skip_enabled_flag {
        ext.log2_max_transform_skip_block_size_minus2 = r.ue_max("log2_max_transform_skip_block_size_minus2", 3)? as u8;
    }
    ext.cross_component_prediction_enabled_flag = r.flag("cross_component_prediction_enabled_flag")?;
    ext.chroma_qp_offset_list_enabled_flag = r.flag("chroma_qp_offset_list_enabled_flag")?;
    if ext.chroma_qp_offset_list_enabled_flag {
        ext.diff_cu_chroma_qp_offset_depth = r.ue_max("diff_cu_chroma_qp_offset_depth", 3)? as u8;
        ext.chroma_qp_offset_list_len_minus1 = r.ue_max("chroma_qp_offset_list_len_minus1", 5)? as u8;
        for i in 0..=ext.chroma_qp_offset_list_len_minus1 as usize {
            ext.cb_qp_offset_list[i] = r.se_range("cb_qp_offset_list", -12, 12)? as i8;
            ext.cr_qp_offset_list[i] = r.se_range("cr_qp_offset_list", -12, 12)? as i8;
        }
    }
    ext.log2_sao_offset_scale_luma = r.ue_max("log2_sao_offset_scale_luma", 6)? as u8;
    ext.log2_sao_offset_scale_chroma = r.ue_max("log2_sao_offset_scale_chroma", 6)? as u8;
    Ok(ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::sps::parse_sps;
    use crate::hevc::testutil::*;

    #[test]
    fn real_pps() {
        let pps = parse_pps(&PPS_64).unwrap();
        assert_eq!((pps.id, pps.sps_id), (0, 0));
        assert!(pps.sign_data_hiding_enabled_flag && pps.weighted_pred_flag);
        assert!(!pps.output_flag_present_flag && !pps.dependent_slice_segments_enabled_flag);
        assert_eq!(pps.num_extra_slice_header_bits, 0);
        pps.check_against(&parse_sps(&SPS_64).unwrap(), 0).unwrap();
        for len in 0..PPS_64.len() - 1 {
            assert!(parse_pps(&PPS_64[..len]).is_err());
        }
    }

    /// A PPS with tiles, deblocking control, scaling lists and the range extension.
    fn full_pps(columns: u32, explicit_width: u32) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.ue(63).ue(15).flag(true).flag(true).u(3, 5);
        w.flag(true).flag(true).ue(14).ue(3).se(-30);
        w.flag(true).flag(true).flag(true).ue(2).se(-12).se(12);
        w.flag(true).flag(true).flag(true).flag(true).flag(true).flag(true);
        // tiles: columns x 2 rows, explicit sizes
        w.ue(columns - 1).ue(1).flag(false);
        for _ in 0..columns - 1 {
            w.ue(explicit_width - 1);
        }
        w.ue(3).flag(true);
        w.flag(false); // loop filter across slices
        w.flag(true).flag(true).flag(false).se(-6).se(6); // deblocking control
        w.flag(true); // scaling list data: all predicted from defaults
        for size_id in 0..4 {
            for _ in 0..if size_id == 3 { 2 } else { 6 } {
                w.flag(false).ue(0);
            }
        }
        w.flag(true).ue(4).flag(true);
        w.flag(true).flag(true).flag(false).flag(false).flag(false).u(4, 0); // range extension only
        w.ue(3).flag(true).flag(true).ue(1).ue(1).se(-12).se(12).se(3).se(-3).ue(2).ue(1);
        w.nal(34)
    }

    #[test]
    fn hand_made_pps_with_everything() {
        let pps = parse_pps(&full_pps(3, 2)).unwrap();
        assert_eq!((pps.id, pps.sps_id, pps.num_extra_slice_header_bits), (63, 15, 5));
        assert_eq!((pps.num_ref_idx_l0_default_active_minus1, pps.init_qp_minus26), (14, -30));
        assert_eq!((pps.diff_cu_qp_delta_depth, pps.cb_qp_offset, pps.cr_qp_offset), (2, -12, 12));
        let t = pps.tiles.unwrap();
        assert_eq!((t.num_tile_columns_minus1, t.num_tile_rows_minus1, t.uniform_spacing_flag), (2, 1, false));
        assert_eq!((&t.column_width_minus1[..2], t.row_height_minus1[0]), (&[1, 1][..], 3));
        assert!(t.loop_filter_across_tiles_enabled_flag);
        assert_eq!(
            pps.deblocking,
            Some(DeblockingControl {
                override_enabled_flag: true,
                disabled_flag: false,
                beta_offset_div2: -6,
                tc_offset_div2: 6
            })
        );
        assert!(pps.scaling_list.is_some() && pps.lists_modification_present_flag);
        assert_eq!(pps.log2_parallel_merge_level, 6);
        let ext = pps.range_extension.unwrap();
        assert_eq!(ext.log2_max_transform_skip_block_size_minus2, 3);
        assert_eq!(
            (ext.chroma_qp_offset_list_len_minus1, ext.cb_qp_offset_list[1], ext.cr_qp_offset_list[1]),
            (1, 3, -3)
        );
        assert_eq!((ext.log2_sao_offset_scale_luma, ext.log2_sao_offset_scale_chroma), (2, 1));
    }

    #[test]
    fn checks_against_the_sps() {
        // 1920x1088 with 64x64 CTBs: 30 x 17 CTBs.
        let sps = parse_sps(&SpsSpec { id: 15, width: 1920, height: 1088, bit_depth: 10, ..SpsSpec::default() }.nal())
            .unwrap();
        let pps = parse_pps(&full_pps(3, 2)).unwrap();
        // init_qp_minus26 = -30 needs QpBdOffsetY >= 4 (10-bit: 12), merge level 6 fits CTB 64.
        pps.check_against(&sps, 9).unwrap();
        let e = parse_pps(&full_pps(3, 15)).unwrap().check_against(&sps, 9).unwrap_err().to_string();
        assert!(e.contains("tile sizes") && e.contains("byte 9"), "{e}");
        assert!(parse_pps(&full_pps(31, 1)).unwrap().check_against(&sps, 0).is_err());
        let sps8 = parse_sps(&SpsSpec { id: 15, width: 1920, height: 1088, ..SpsSpec::default() }.nal()).unwrap();
        assert!(pps.check_against(&sps8, 0).is_err());
        let other = parse_sps(&SpsSpec { id: 1, ..SpsSpec::default() }.nal()).unwrap();
        assert!(pps.check_against(&other, 0).is_err());
    }

    #[test]
    fn rejects_out_of_range_values() {
        let mut w = BitWriter::new();
        w.ue(64);
        assert!(parse_pps(&w.nal(34)).is_err());
        let mut w = BitWriter::new();
        w.ue(0).ue(16);
        assert!(parse_pps(&w.nal(34)).is_err());
        assert!(parse_pps(&full_pps(65, 1)).is_err());
        assert!(parse_pps(&SPS_64).is_err());
    }
}
