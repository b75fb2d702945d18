//! The sequence parameter set (H.265 7.3.2.2).

use super::payload_reader;
use super::ptl::{MAX_SUB_LAYERS, ProfileTierLevel};
use super::rps::{MAX_SHORT_TERM_RPS, ShortTermRps};
use super::scaling::ScalingList;
use super::vps::{SubLayerOrdering, Vps};
use super::vui::{Vui, Window};
use crate::access_unit::StreamInfo;
use crate::nal::hevc_type;
use crate::rbsp::BitReader;
use video_hw_types::codec::{Codec, ColorInfo, Crop, Dimensions, Rational};
use video_hw_types::error::{Error, Result};

/// Largest picture width or height accepted, in luma samples (`Sqrt(MaxLumaPs * 8)` of level 6.2).
pub const MAX_PICTURE_SIZE: u32 = 16888;

/// Most long-term reference pictures an SPS can list.
pub const MAX_LONG_TERM_REF_PICS_SPS: usize = 32;

/// PCM sample settings (`pcm_enabled_flag` set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmInfo {
    /// `PcmBitDepthY`.
    pub bit_depth_luma: u8,
    /// `PcmBitDepthC`.
    pub bit_depth_chroma: u8,
    /// `Log2MinIpcmCbSizeY`.
    pub log2_min_cb_size: u8,
    /// `Log2MaxIpcmCbSizeY`.
    pub log2_max_cb_size: u8,
    /// `pcm_loop_filter_disabled_flag`.
    pub loop_filter_disabled_flag: bool,
}

/// `sps_range_extension()` flags (RExt profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpsRangeExtension {
    /// `transform_skip_rotation_enabled_flag`.
    pub transform_skip_rotation_enabled_flag: bool,
    /// `transform_skip_context_enabled_flag`.
    pub transform_skip_context_enabled_flag: bool,
    /// `implicit_rdpcm_enabled_flag`.
    pub implicit_rdpcm_enabled_flag: bool,
    /// `explicit_rdpcm_enabled_flag`.
    pub explicit_rdpcm_enabled_flag: bool,
    /// `extended_precision_processing_flag`.
    pub extended_precision_processing_flag: bool,
    /// `intra_smoothing_disabled_flag`.
    pub intra_smoothing_disabled_flag: bool,
    /// `high_precision_offsets_enabled_flag`.
    pub high_precision_offsets_enabled_flag: bool,
    /// `persistent_rice_adaptation_enabled_flag`.
    pub persistent_rice_adaptation_enabled_flag: bool,
    /// `cabac_bypass_alignment_enabled_flag`.
    pub cabac_bypass_alignment_enabled_flag: bool,
}

/// A sequence parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// `sps_video_parameter_set_id`.
    pub vps_id: u8,
    /// `sps_max_sub_layers_minus1` (0..=6).
    pub max_sub_layers_minus1: u8,
    /// `sps_temporal_id_nesting_flag`.
    pub temporal_id_nesting_flag: bool,
    /// Profile, tier and level.
    pub ptl: ProfileTierLevel,
    /// `sps_seq_parameter_set_id` (0..=15).
    pub id: u8,
    /// `chroma_format_idc`: 0 = 4:0:0, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4.
    pub chroma_format_idc: u8,
    /// `separate_colour_plane_flag` (4:4:4 coded as three monochrome planes).
    pub separate_colour_plane_flag: bool,
    /// `pic_width_in_luma_samples`.
    pub pic_width_in_luma_samples: u32,
    /// `pic_height_in_luma_samples`.
    pub pic_height_in_luma_samples: u32,
    /// `conf_win_*_offset` in chroma units, when `conformance_window_flag` is set (and the
    /// window leaves something visible; ffmpeg ignores a window that crops everything).
    pub conformance_window: Option<Window>,
    /// `BitDepthY` (8..=16).
    pub bit_depth_luma: u8,
    /// `BitDepthC` (8..=16).
    pub bit_depth_chroma: u8,
    /// `log2_max_pic_order_cnt_lsb_minus4 + 4` (4..=16).
    pub log2_max_pic_order_cnt_lsb: u8,
    /// `sps_sub_layer_ordering_info_present_flag`.
    pub sub_layer_ordering_info_present_flag: bool,
    /// `sps_max_dec_pic_buffering_minus1` and friends for sub-layers `0..=max_sub_layers_minus1`.
    pub sub_layer_ordering: [SubLayerOrdering; MAX_SUB_LAYERS],
    /// `MinCbLog2SizeY`.
    pub log2_min_luma_coding_block_size: u8,
    /// `log2_diff_max_min_luma_coding_block_size`.
    pub log2_diff_max_min_luma_coding_block_size: u8,
    /// `MinTbLog2SizeY`.
    pub log2_min_luma_transform_block_size: u8,
    /// `log2_diff_max_min_luma_transform_block_size`.
    pub log2_diff_max_min_luma_transform_block_size: u8,
    /// `max_transform_hierarchy_depth_inter`.
    pub max_transform_hierarchy_depth_inter: u8,
    /// `max_transform_hierarchy_depth_intra`.
    pub max_transform_hierarchy_depth_intra: u8,
    /// `scaling_list_enabled_flag`.
    pub scaling_list_enabled_flag: bool,
    /// The lists when scaling lists are enabled: coded ones when
    /// `sps_scaling_list_data_present_flag` is set, else the defaults.
    pub scaling_list: Option<Box<ScalingList>>,
    /// `sps_scaling_list_data_present_flag`.
    pub scaling_list_data_present_flag: bool,
    /// `amp_enabled_flag`.
    pub amp_enabled_flag: bool,
    /// `sample_adaptive_offset_enabled_flag`.
    pub sample_adaptive_offset_enabled_flag: bool,
    /// PCM settings, when `pcm_enabled_flag` is set.
    pub pcm: Option<PcmInfo>,
    /// The `num_short_term_ref_pic_sets` short-term RPS (at most 64).
    pub short_term_ref_pic_sets: Vec<ShortTermRps>,
    /// `long_term_ref_pics_present_flag`.
    pub long_term_ref_pics_present_flag: bool,
    /// `num_long_term_ref_pics_sps` (0..=32).
    pub num_long_term_ref_pics_sps: u8,
    /// `lt_ref_pic_poc_lsb_sps[i]`.
    pub lt_ref_pic_poc_lsb_sps: [u16; MAX_LONG_TERM_REF_PICS_SPS],
    /// `used_by_curr_pic_lt_sps_flag[i]` at bit `i`.
    pub used_by_curr_pic_lt_sps: u32,
    /// `sps_temporal_mvp_enabled_flag`.
    pub temporal_mvp_enabled_flag: bool,
    /// `strong_intra_smoothing_enabled_flag`.
    pub strong_intra_smoothing_enabled_flag: bool,
    /// Video usability information, when present.
    pub vui: Option<Vui>,
    /// `sps_range_extension()`, when `sps_range_extension_flag` is set.
    pub range_extension: Option<SpsRangeExtension>,
    /// `sps_multilayer_extension_flag` (extension not read).
    pub multilayer_extension_flag: bool,
    /// `sps_3d_extension_flag` (extension not read).
    pub extension_3d_flag: bool,
    /// `sps_scc_extension_flag` (extension not read).
    pub scc_extension_flag: bool,
}

impl Sps {
    /// `ChromaArrayType`: 0 for monochrome or separately coded colour planes.
    pub fn chroma_array_type(&self) -> u8 {
        if self.separate_colour_plane_flag { 0 } else { self.chroma_format_idc }
    }

    /// `SubWidthC` (Table 6-1).
    pub fn sub_width_c(&self) -> u32 {
        chroma_subsampling(self.chroma_array_type()).0
    }

    /// `SubHeightC` (Table 6-1).
    pub fn sub_height_c(&self) -> u32 {
        chroma_subsampling(self.chroma_array_type()).1
    }

    /// `CtbLog2SizeY` (4..=6).
    pub fn ctb_log2_size(&self) -> u32 {
        self.log2_min_luma_coding_block_size as u32 + self.log2_diff_max_min_luma_coding_block_size as u32
    }

    /// `CtbSizeY`.
    pub fn ctb_size(&self) -> u32 {
        1 << self.ctb_log2_size().min(31)
    }

    /// `PicWidthInCtbsY`.
    pub fn pic_width_in_ctbs(&self) -> u32 {
        self.pic_width_in_luma_samples.div_ceil(self.ctb_size())
    }

    /// `PicHeightInCtbsY`.
    pub fn pic_height_in_ctbs(&self) -> u32 {
        self.pic_height_in_luma_samples.div_ceil(self.ctb_size())
    }

    /// `PicSizeInCtbsY`.
    pub fn pic_size_in_ctbs(&self) -> u32 {
        self.pic_width_in_ctbs().saturating_mul(self.pic_height_in_ctbs())
    }

    /// The conformance window in luma samples.
    pub fn conformance_crop(&self) -> Crop {
        let Some(w) = self.conformance_window else { return Crop::default() };
        let (sw, sh) = (self.sub_width_c(), self.sub_height_c());
        // parse_sps keeps only windows that fit the picture; saturate for hand-made values.
        Crop {
            left: w.left.saturating_mul(sw),
            right: w.right.saturating_mul(sw),
            top: w.top.saturating_mul(sh),
            bottom: w.bottom.saturating_mul(sh),
        }
    }

    /// Coded size and the conformance-window crop (the default display window is not
    /// applied, as ffmpeg does by default).
    pub fn dimensions(&self) -> Dimensions {
        Dimensions {
            coded_width: self.pic_width_in_luma_samples,
            coded_height: self.pic_height_in_luma_samples,
            crop: self.conformance_crop(),
        }
    }

    /// The ordering info of the highest sub-layer.
    pub fn highest_sub_layer_ordering(&self) -> SubLayerOrdering {
        self.sub_layer_ordering[(self.max_sub_layers_minus1 as usize).min(MAX_SUB_LAYERS - 1)]
    }

    /// `sps_max_dec_pic_buffering_minus1 + 1` of the highest sub-layer.
    pub fn max_dec_pic_buffering(&self) -> u32 {
        self.highest_sub_layer_ordering().max_dec_pic_buffering_minus1 as u32 + 1
    }

    /// `sps_max_num_reorder_pics` of the highest sub-layer.
    pub fn num_reorder_pics(&self) -> u32 {
        self.highest_sub_layer_ordering().max_num_reorder_pics as u32
    }

    /// Colour description from the VUI (defaults when absent).
    pub fn color_info(&self) -> ColorInfo {
        self.vui.map(|v| v.color_info()).unwrap_or_default()
    }

    /// Frame rate from the VUI timing information.
    pub fn frame_rate(&self) -> Option<Rational> {
        self.vui?.timing?.frame_rate()
    }

    /// Profile name as ffprobe spells it ("Main", "Main 10", "Rext", …).
    pub fn profile_name(&self) -> &'static str {
        self.ptl.profile_name()
    }

    /// Level as people write it ("4.0", "5.1").
    pub fn level_name(&self) -> String {
        self.ptl.level_name()
    }

    /// The chroma format as "4:2:0" and friends.
    pub fn chroma_format_name(&self) -> &'static str {
        crate::common::chroma_format_name(self.chroma_format_idc)
    }

    /// Stream facts from this SPS; the frame rate comes from the VPS timing information
    /// when `vps` has it (as ffmpeg prefers it), else from the VUI.
    pub fn stream_info(&self, vps: Option<&Vps>) -> StreamInfo {
        let frame_rate = vps.and_then(|v| v.timing).and_then(|t| t.frame_rate()).or_else(|| self.frame_rate());
        StreamInfo {
            codec: Codec::Hevc,
            profile: self.profile_name().to_string(),
            profile_idc: self.ptl.profile_idc(),
            level: self.level_name(),
            level_idc: self.ptl.general_level_idc,
            dimensions: self.dimensions(),
            bit_depth_luma: self.bit_depth_luma,
            bit_depth_chroma: self.bit_depth_chroma,
            chroma_format_idc: self.chroma_format_idc,
            color: self.color_info(),
            frame_rate,
            max_dec_frame_buffering: self.max_dec_pic_buffering(),
            num_reorder_frames: self.num_reorder_pics(),
            interlaced: false,
        }
    }
}

/// Parses an SPS NAL unit (header included, emulation prevention in place).
///
/// Only SPS of the base layer (`nuh_layer_id == 0`) have this syntax; the range extension
/// is read, the multilayer, 3D and SCC extensions are not.
pub fn parse_sps(nal: &[u8]) -> Result<Sps> {
    let (_, mut r) = payload_reader(nal, hevc_type::SPS, "SPS")?;
    let r = &mut r;
    let vps_id = r.bits(4, "sps_video_parameter_set_id")? as u8;
    let off = r.byte_offset();
    let max_sub_layers_minus1 = r.bits(3, "sps_max_sub_layers_minus1")? as u8;
    if max_sub_layers_minus1 > 6 {
        return Err(Error::invalid_bitstream(off, "sps_max_sub_layers_minus1 = 7 is out of range (max 6)"));
    }
    let temporal_id_nesting_flag = r.flag("sps_temporal_id_nesting_flag")?;
    let ptl = ProfileTierLevel::parse(r, max_sub_layers_minus1)?;
    let id = r.ue_max("sps_seq_parameter_set_id", 15)? as u8;
    let chroma_format_idc = r.ue_max("chroma_format_idc", 3)? as u8;
    let separate_colour_plane_flag = chroma_format_idc == 3 && r.flag("separate_colour_plane_flag")?;
    let size_off = r.byte_offset();
    let width = r.ue_max("pic_width_in_luma_samples", MAX_PICTURE_SIZE)?;
    let height = r.ue_max("pic_height_in_luma_samples", MAX_PICTURE_SIZE)?;
    if width == 0 || height == 0 {
        return Err(Error::invalid_bitstream(size_off, format!("SPS: picture size {width}x{height} is empty")));
    }
    let mut conformance_window = if r.flag("conformance_window_flag")? { Some(Window::parse(r)?) } else { None };
    let bit_depth_luma = r.ue_max("bit_depth_luma_minus8", 8)? as u8 + 8;
    let bit_depth_chroma = r.ue_max("bit_depth_chroma_minus8", 8)? as u8 + 8;
    let log2_max_pic_order_cnt_lsb = r.ue_max("log2_max_pic_order_cnt_lsb_minus4", 12)? as u8 + 4;
    let sub_layer_ordering_info_present_flag = r.flag("sps_sub_layer_ordering_info_present_flag")?;
    let sub_layer_ordering =
        SubLayerOrdering::parse_all(r, max_sub_layers_minus1, sub_layer_ordering_info_present_flag)?;

    let off = r.byte_offset();
    let min_cb = r.ue_max("log2_min_luma_coding_block_size_minus3", 3)? + 3;
    let diff_cb = r.ue_max("log2_diff_max_min_luma_coding_block_size", 3)?;
    let ctb = min_cb + diff_cb;
    if !(4..=6).contains(&ctb) {
        return Err(Error::invalid_bitstream(off, format!("SPS: CTB size 2^{ctb} is out of range (16..=64)")));
    }
    if width % (1 << min_cb) != 0 || height % (1 << min_cb) != 0 {
        return Err(Error::invalid_bitstream(
            size_off,
            format!("SPS: picture size {width}x{height} is not a multiple of the minimum CB size {}", 1 << min_cb),
        ));
    }
    let off = r.byte_offset();
    let min_tb = r.ue_max("log2_min_luma_transform_block_size_minus2", 3)? + 2;
    let diff_tb = r.ue_max("log2_diff_max_min_luma_transform_block_size", 3)?;
    let max_tb = min_tb + diff_tb;
    if min_tb >= min_cb || max_tb > ctb.min(5) {
        return Err(Error::invalid_bitstream(
            off,
            format!("SPS: transform block sizes 2^{min_tb}..2^{max_tb} do not fit CB sizes 2^{min_cb}..2^{ctb}"),
        ));
    }
    let max_transform_hierarchy_depth_inter = r.ue_max("max_transform_hierarchy_depth_inter", ctb - min_tb)? as u8;
    let max_transform_hierarchy_depth_intra = r.ue_max("max_transform_hierarchy_depth_intra", ctb - min_tb)? as u8;

    let scaling_list_enabled_flag = r.flag("scaling_list_enabled_flag")?;
    let mut scaling_list = None;
    let mut scaling_list_data_present_flag = false;
    if scaling_list_enabled_flag {
        scaling_list_data_present_flag = r.flag("sps_scaling_list_data_present_flag")?;
        let list = if scaling_list_data_present_flag { ScalingList::parse(r)? } else { ScalingList::default() };
        scaling_list = Some(Box::new(list));
    }
    let amp_enabled_flag = r.flag("amp_enabled_flag")?;
    let sample_adaptive_offset_enabled_flag = r.flag("sample_adaptive_offset_enabled_flag")?;
    let pcm =
        if r.flag("pcm_enabled_flag")? { Some(parse_pcm(r, bit_depth_luma, bit_depth_chroma, ctb)?) } else { None };

    let num_sets = r.ue_max("num_short_term_ref_pic_sets", MAX_SHORT_TERM_RPS as u32)? as usize;
    let mut short_term_ref_pic_sets: Vec<ShortTermRps> = Vec::with_capacity(num_sets);
    for i in 0..num_sets {
        let rps = ShortTermRps::parse(r, i, num_sets, &short_term_ref_pic_sets)?;
        short_term_ref_pic_sets.push(rps);
    }
    let long_term_ref_pics_present_flag = r.flag("long_term_ref_pics_present_flag")?;
    let mut num_long_term_ref_pics_sps = 0;
    let mut lt_ref_pic_poc_lsb_sps = [0u16; MAX_LONG_TERM_REF_PICS_SPS];
    let mut used_by_curr_pic_lt_sps = 0u32;
    if long_term_ref_pics_present_flag {
        num_long_term_ref_pics_sps = r.ue_max("num_long_term_ref_pics_sps", MAX_LONG_TERM_REF_PICS_SPS as u32)? as u8;
        for (i, lsb) in lt_ref_pic_poc_lsb_sps.iter_mut().take(num_long_term_ref_pics_sps as usize).enumerate() {
            *lsb = r.bits(log2_max_pic_order_cnt_lsb as u32, "lt_ref_pic_poc_lsb_sps")? as u16;
            if r.flag("used_by_curr_pic_lt_sps_flag")? {
                used_by_curr_pic_lt_sps |= 1 << i;
            }
        }
    }
    let temporal_mvp_enabled_flag = r.flag("sps_temporal_mvp_enabled_flag")?;
    let strong_intra_smoothing_enabled_flag = r.flag("strong_intra_smoothing_enabled_flag")?;
    let vui = if r.flag("vui_parameters_present_flag")? { Some(Vui::parse(r, max_sub_layers_minus1)?) } else { None };

    let mut range_extension = None;
    let (mut multilayer_extension_flag, mut extension_3d_flag, mut scc_extension_flag) = (false, false, false);
    if r.flag("sps_extension_present_flag")? {
        let range = r.flag("sps_range_extension_flag")?;
        multilayer_extension_flag = r.flag("sps_multilayer_extension_flag")?;
        extension_3d_flag = r.flag("sps_3d_extension_flag")?;
        scc_extension_flag = r.flag("sps_scc_extension_flag")?;
        r.bits(4, "sps_extension_4bits")?;
        if range {
            range_extension = Some(parse_range_extension(r)?);
        }
    }

    // ffmpeg shows the whole picture when the conformance window would leave nothing.
    if let Some(w) = conformance_window {
        let (sw, sh) = if separate_colour_plane_flag {
            (1u64, 1u64)
        } else {
            match chroma_format_idc {
                1 => (2, 2),
                2 => (2, 1),
                _ => (1, 1),
            }
        };
        if (w.left as u64 + w.right as u64) * sw >= width as u64
            || (w.top as u64 + w.bottom as u64) * sh >= height as u64
        {
            conformance_window = None;
        }
    }

    Ok(Sps {
        vps_id,
        max_sub_layers_minus1,
        temporal_id_nesting_flag,
        ptl,
        id,
        chroma_format_idc,
        separate_colour_plane_flag,
        pic_width_in_luma_samples: width,
        pic_height_in_luma_samples: height,
        conformance_window,
        bit_depth_luma,
        bit_depth_chroma,
        log2_max_pic_order_cnt_lsb,
        sub_layer_ordering_info_present_flag,
        sub_layer_ordering,
        log2_min_luma_coding_block_size: min_cb as u8,
        log2_diff_max_min_luma_coding_block_size: diff_cb as u8,
        log2_min_luma_transform_block_size: min_tb as u8,
        log2_diff_max_min_luma_transform_block_size: diff_tb as u8,
        max_transform_hierarchy_depth_inter,
        max_transform_hierarchy_depth_intra,
        scaling_list_enabled_flag,
        scaling_list,
        scaling_list_data_present_flag,
        amp_enabled_flag,
        sample_adaptive_offset_enabled_flag,
        pcm,
        short_term_ref_pic_sets,
        long_term_ref_pics_present_flag,
        num_long_term_ref_pics_sps,
        lt_ref_pic_poc_lsb_sps,
        used_by_curr_pic_lt_sps,
        temporal_mvp_enabled_flag,
        strong_intra_smoothing_enabled_flag,
        vui,
        range_extension,
        multilayer_extension_flag,
        extension_3d_flag,
        scc_extension_flag,
    })
}

/// (`SubWidthC`, `SubHeightC`) for a `ChromaArrayType` (Table 6-1).
fn chroma_subsampling(chroma_array_type: u8) -> (u32, u32) {
    match chroma_array_type {
        1 => (2, 2),
        2 => (2, 1),
        _ => (1, 1),
    }
}

fn parse_pcm(r: &mut BitReader<'_>, bit_depth_luma: u8, bit_depth_chroma: u8, ctb: u32) -> Result<PcmInfo> {
    let off = r.byte_offset();
    let pcm_luma = r.bits(4, "pcm_sample_bit_depth_luma_minus1")? as u8 + 1;
    let pcm_chroma = r.bits(4, "pcm_sample_bit_depth_chroma_minus1")? as u8 + 1;
    if pcm_luma > bit_depth_luma || pcm_chroma > bit_depth_chroma {
        return Err(Error::invalid_bitstream(off, "SPS: PCM bit depth exceeds the sample bit depth"));
    }
    let off = r.byte_offset();
    let min = r.ue_max("log2_min_pcm_luma_coding_block_size_minus3", 2)? + 3;
    let diff = r.ue_max("log2_diff_max_min_pcm_luma_coding_block_size", 2)?;
    if min + diff > ctb.min(5) {
        return Err(Error::invalid_bitstream(off, "SPS: PCM block sizes exceed the CTB size"));
    }
    Ok(PcmInfo {
        bit_depth_luma: pcm_luma,
        bit_depth_chroma: pcm_chroma,
        log2_min_cb_size: min as u8,
        log2_max_cb_size: (min + diff) as u8,
        loop_filter_disabled_flag: r.flag("pcm_loop_filter_disabled_flag")?,
    })
}

fn parse_range_extension(r: &mut BitReader<'_>) -> Result<SpsRangeExtension> {
    Ok(SpsRangeExtension {
        transform_skip_rotation_enabled_flag: r.flag("transform_skip_rotation_enabled_flag")?,
        transform_skip_context_enabled_flag: r.flag("transform_skip_context_enabled_flag")?,
        implicit_rdpcm_enabled_flag: r.flag("implicit_rdpcm_enabled_flag")?,
        explicit_rdpcm_enabled_flag: r.flag("explicit_rdpcm_enabled_flag")?,
        extended_precision_processing_flag: r.flag("extended_precision_processing_flag")?,
        intra_smoothing_disabled_flag: r.flag("intra_smoothing_disabled_flag")?,
        high_precision_offsets_enabled_flag: r.flag("high_precision_offsets_enabled_flag")?,
        persistent_rice_adaptation_enabled_flag: r.flag("persistent_rice_adaptation_enabled_flag")?,
        cabac_bypass_alignment_enabled_flag: r.flag("cabac_bypass_alignment_enabled_flag")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::testutil::*;
    use video_hw_types::codec::{ColorPrimaries, ColorRange, MatrixCoefficients, TransferCharacteristics};

    #[test]
    fn real_sps_64x64() {
        let sps = parse_sps(&SPS_64).unwrap();
        assert_eq!((sps.id, sps.vps_id, sps.chroma_format_idc), (0, 0, 1));
        assert_eq!(sps.dimensions(), Dimensions::new(64, 64));
        assert_eq!(sps.log2_max_pic_order_cnt_lsb, 8);
        assert_eq!((sps.max_dec_pic_buffering(), sps.num_reorder_pics()), (4, 1));
        assert_eq!(sps.ctb_log2_size(), 6);
        assert_eq!(sps.pic_size_in_ctbs(), 1);
        assert_eq!((sps.profile_name(), sps.level_name().as_str()), ("Main", "2.1"));
        assert_eq!(sps.color_info().primaries, ColorPrimaries::SMPTE170M);
        assert_eq!(sps.frame_rate(), Some(Rational::new(30, 1)));
        assert!(sps.sample_adaptive_offset_enabled_flag);
        let info = sps.stream_info(None);
        assert_eq!((info.profile_idc, info.level_idc, info.chroma_format_idc), (1, 63, 1));
        assert_eq!(info.chroma_format_name(), "4:2:0");
    }

    #[test]
    fn real_sps_with_conformance_window() {
        let sps = parse_sps(&SPS_BEAR).unwrap();
        let d = sps.dimensions();
        assert_eq!((d.coded_width, d.coded_height, d.width(), d.height()), (320, 184, 320, 180));
        assert_eq!(d.crop, Crop { bottom: 4, ..Crop::default() });
        assert_eq!(sps.frame_rate(), Some(Rational::new(2997, 100)));
        assert_eq!(sps.level_name(), "2.0");
    }

    #[test]
    fn real_sps_main10_hdr() {
        let sps = parse_sps(&SPS_HDR10).unwrap();
        assert_eq!(sps.profile_name(), "Main 10");
        assert_eq!((sps.bit_depth_luma, sps.bit_depth_chroma), (10, 10));
        assert_eq!(sps.level_name(), "3.1");
        assert_eq!(
            sps.color_info(),
            ColorInfo {
                primaries: ColorPrimaries::BT2020,
                transfer: TransferCharacteristics::PQ,
                matrix: MatrixCoefficients::BT2020_NCL,
                range: ColorRange::Limited,
                ..ColorInfo::default()
            }
        );
        assert_eq!(sps.frame_rate(), Some(Rational::new(30000, 1001)));
        assert!(sps.amp_enabled_flag);
    }

    #[test]
    fn real_sps_rext_and_scaling_lists() {
        let sps = parse_sps(&SPS_REXT).unwrap();
        assert_eq!((sps.ptl.profile_idc(), sps.profile_name()), (4, "Rext"));
        assert_eq!(sps.bit_depth_luma, 10);
        let sps = parse_sps(&SPS_DV84).unwrap();
        assert_eq!(sps.dimensions().height(), 1080);
        assert!(sps.scaling_list_enabled_flag && !sps.scaling_list_data_present_flag);
        assert_eq!(sps.scaling_list.as_deref(), Some(&ScalingList::default()));
        assert_eq!(sps.color_info().transfer, TransferCharacteristics::HLG);
        assert_eq!(sps.level_name(), "4.0");
    }

    #[test]
    fn hand_made_sps() {
        let spec = SpsSpec { id: 7, width: 1928, height: 1088, conf_win: Some([4, 0, 0, 4]), ..SpsSpec::default() };
        let sps = parse_sps(&spec.nal()).unwrap();
        assert_eq!(sps.id, 7);
        let d = sps.dimensions();
        assert_eq!((d.width(), d.height()), (1920, 1080));
        assert_eq!(d.crop, Crop { left: 8, right: 0, top: 0, bottom: 8 });
        assert_eq!(sps.short_term_ref_pic_sets.len(), 1);
        assert_eq!(sps.short_term_ref_pic_sets[0].s0().collect::<Vec<_>>(), vec![(-1, true)]);
        assert_eq!(sps.pic_width_in_ctbs(), 31);
        assert_eq!(sps.pic_height_in_ctbs(), 17);
        // 4:2:2 crops vertically in luma rows, 4:4:4 in samples.
        let sps = parse_sps(&SpsSpec { chroma_format_idc: 2, conf_win: Some([1, 1, 1, 1]), ..spec }.nal()).unwrap();
        assert_eq!(sps.conformance_crop(), Crop { left: 2, right: 2, top: 1, bottom: 1 });
        let sps = parse_sps(&SpsSpec { chroma_format_idc: 3, conf_win: Some([1, 1, 1, 1]), ..spec }.nal()).unwrap();
        assert_eq!(sps.conformance_crop(), Crop { left: 1, right: 1, top: 1, bottom: 1 });
    }

    #[test]
    fn window_cropping_everything_is_ignored() {
        let spec = SpsSpec { conf_win: Some([16, 16, 0, 0]), ..SpsSpec::default() };
        let sps = parse_sps(&spec.nal()).unwrap();
        assert_eq!(sps.conformance_window, None);
        assert_eq!(sps.dimensions(), Dimensions::new(64, 64));
    }

    #[test]
    fn rejects_absurd_values() {
        let too_wide = SpsSpec { width: 16896, ..SpsSpec::default() }.nal();
        let e = parse_sps(&too_wide).unwrap_err().to_string();
        assert!(e.contains("pic_width_in_luma_samples"), "{e}");
        assert!(parse_sps(&SpsSpec { width: 0, ..SpsSpec::default() }.nal()).is_err());
        assert!(parse_sps(&SpsSpec { width: 60, ..SpsSpec::default() }.nal()).is_err()); // not a multiple of 8
        assert!(parse_sps(&SpsSpec { id: 16, ..SpsSpec::default() }.nal()).is_err());
        assert!(parse_sps(&SpsSpec { chroma_format_idc: 4, ..SpsSpec::default() }.nal()).is_err());
        assert!(parse_sps(&SpsSpec { bit_depth: 17, ..SpsSpec::default() }.nal()).is_err());
        assert!(parse_sps(&SpsSpec { log2_max_poc_lsb: 17, ..SpsSpec::default() }.nal()).is_err());
        assert!(parse_sps(&SpsSpec { bit_depth: 16, log2_max_poc_lsb: 16, ..SpsSpec::default() }.nal()).is_ok());
    }

    #[test]
    fn truncation_anywhere_is_an_error() {
        for nal in [&SPS_64[..], &SPS_BEAR, &SPS_HDR10, &SPS_REXT, &SPS_DV84] {
            for len in 0..nal.len() - 1 {
                assert!(parse_sps(&nal[..len]).is_err(), "accepted {len} of {} bytes", nal.len());
            }
        }
    }

    #[test]
    fn error_offsets_point_into_the_nal() {
        let nal = SpsSpec { width: 20000, ..SpsSpec::default() }.nal();
        match parse_sps(&nal) {
            Err(Error::InvalidBitstream { offset, .. }) => {
                assert!((15..nal.len() as u64).contains(&offset), "{offset}")
            }
            other => panic!("{other:?}"),
        }
    }
}
