//! Video usability information of the SPS (H.264 Annex E.1.1).

use crate::common::predefined_sar;
use crate::rbsp::BitReader;
use video_hw_types::error::Result;

/// VUI parameters. Each part is filled in only once it has been read whole, so a VUI
/// cut short keeps the parts before the damage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vui {
    /// `aspect_ratio_idc` (0 when absent).
    pub aspect_ratio_idc: u8,
    /// Sample aspect ratio from the table or from `sar_width`/`sar_height`.
    pub sar: Option<(u16, u16)>,
    /// `overscan_appropriate_flag`, when `overscan_info_present_flag` is set.
    pub overscan_appropriate: Option<bool>,
    /// `video_format` (5 = unspecified, the default).
    pub video_format: u8,
    /// `video_full_range_flag`.
    pub video_full_range: bool,
    /// Colour primaries, transfer and matrix, when signalled.
    pub colour_description: Option<ColourDescription>,
    /// `chroma_sample_loc_type_top_field` and `_bottom_field`, when signalled.
    pub chroma_sample_loc: Option<(u8, u8)>,
    /// Timing information, when signalled.
    pub timing: Option<TimingInfo>,
    /// NAL HRD parameters, when signalled.
    pub nal_hrd: Option<Hrd>,
    /// VCL HRD parameters, when signalled.
    pub vcl_hrd: Option<Hrd>,
    /// `low_delay_hrd_flag`.
    pub low_delay_hrd: bool,
    /// `pic_struct_present_flag` (picture timing SEI carries `pic_struct`).
    pub pic_struct_present: bool,
    /// Bitstream restriction, when signalled.
    pub bitstream_restriction: Option<BitstreamRestriction>,
    /// True when the VUI ended early or held a value out of range; the parts after
    /// that point keep their defaults.
    pub truncated: bool,
}

impl Default for Vui {
    fn default() -> Self {
        Vui {
            aspect_ratio_idc: 0,
            sar: None,
            overscan_appropriate: None,
            video_format: 5,
            video_full_range: false,
            colour_description: None,
            chroma_sample_loc: None,
            timing: None,
            nal_hrd: None,
            vcl_hrd: None,
            low_delay_hrd: false,
            pic_struct_present: false,
            bitstream_restriction: None,
            truncated: false,
        }
    }
}

/// `colour_primaries`, `transfer_characteristics`, `matrix_coefficients` (H.273 code points).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColourDescription {
    /// `colour_primaries`.
    pub colour_primaries: u8,
    /// `transfer_characteristics`.
    pub transfer_characteristics: u8,
    /// `matrix_coefficients`.
    pub matrix_coefficients: u8,
}

/// `num_units_in_tick`, `time_scale`, `fixed_frame_rate_flag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingInfo {
    /// `num_units_in_tick`.
    pub num_units_in_tick: u32,
    /// `time_scale`.
    pub time_scale: u32,
    /// `fixed_frame_rate_flag`.
    pub fixed_frame_rate: bool,
}

/// The parts of `hrd_parameters()` (E.1.2) that SEI parsing needs; the per-CPB rates are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hrd {
    /// `cpb_cnt_minus1 + 1`.
    pub cpb_cnt: u8,
    /// `initial_cpb_removal_delay_length_minus1 + 1`.
    pub initial_cpb_removal_delay_length: u8,
    /// `cpb_removal_delay_length_minus1 + 1`.
    pub cpb_removal_delay_length: u8,
    /// `dpb_output_delay_length_minus1 + 1`.
    pub dpb_output_delay_length: u8,
    /// `time_offset_length`.
    pub time_offset_length: u8,
}

/// `bitstream_restriction` values that matter for decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitstreamRestriction {
    /// `motion_vectors_over_pic_boundaries_flag`.
    pub motion_vectors_over_pic_boundaries: bool,
    /// `max_num_reorder_frames` (0..=16).
    pub max_num_reorder_frames: u32,
    /// `max_dec_frame_buffering` (0..=16).
    pub max_dec_frame_buffering: u32,
}

/// Reads `vui_parameters()` into `vui`, part by part. An error leaves the parts read
/// so far in place (the caller decides whether that is acceptable).
pub(super) fn parse_vui(r: &mut BitReader<'_>, vui: &mut Vui) -> Result<()> {
    if r.flag("aspect_ratio_info_present_flag")? {
        let idc = r.bits(8, "aspect_ratio_idc")? as u8;
        let sar = match idc {
            255 => {
                let w = r.bits(16, "sar_width")? as u16;
                let h = r.bits(16, "sar_height")? as u16;
                (w != 0 && h != 0).then_some((w, h))
            }
            _ => predefined_sar(idc),
        };
        vui.aspect_ratio_idc = idc;
        vui.sar = sar;
    }
    if r.flag("overscan_info_present_flag")? {
        vui.overscan_appropriate = Some(r.flag("overscan_appropriate_flag")?);
    }
    if r.flag("video_signal_type_present_flag")? {
        let format = r.bits(3, "video_format")? as u8;
        let full = r.flag("video_full_range_flag")?;
        let colour = if r.flag("colour_description_present_flag")? {
            Some(ColourDescription {
                colour_primaries: r.bits(8, "colour_primaries")? as u8,
                transfer_characteristics: r.bits(8, "transfer_characteristics")? as u8,
                matrix_coefficients: r.bits(8, "matrix_coefficients")? as u8,
            })
        } else {
            None
        };
        vui.video_format = format;
        vui.video_full_range = full;
        vui.colour_description = colour;
    }
    if r.flag("chroma_loc_info_present_flag")? {
        let top = r.ue_max("chroma_sample_loc_type_top_field", 5)? as u8;
        let bottom = r.ue_max("chroma_sample_loc_type_bottom_field", 5)? as u8;
        vui.chroma_sample_loc = Some((top, bottom));
    }
    if r.flag("timing_info_present_flag")? {
        let num_units_in_tick = r.bits(32, "num_units_in_tick")?;
        let time_scale = r.bits(32, "time_scale")?;
        let fixed_frame_rate = r.flag("fixed_frame_rate_flag")?;
        vui.timing = Some(TimingInfo { num_units_in_tick, time_scale, fixed_frame_rate });
    }
    let nal_hrd = if r.flag("nal_hrd_parameters_present_flag")? { Some(parse_hrd(r)?) } else { None };
    vui.nal_hrd = nal_hrd;
    let vcl_hrd = if r.flag("vcl_hrd_parameters_present_flag")? { Some(parse_hrd(r)?) } else { None };
    vui.vcl_hrd = vcl_hrd;
    if nal_hrd.is_some() || vcl_hrd.is_some() {
        vui.low_delay_hrd = r.flag("low_delay_hrd_flag")?;
    }
    vui.pic_struct_present = r.flag("pic_struct_present_flag")?;
    if r.flag("bitstream_restriction_flag")? {
        let motion_vectors_over_pic_boundaries = r.flag("motion_vectors_over_pic_boundaries_flag")?;
        r.ue("max_bytes_per_pic_denom")?;
        r.ue("max_bits_per_mb_denom")?;
        r.ue("log2_max_mv_length_horizontal")?;
        r.ue("log2_max_mv_length_vertical")?;
        let max_num_reorder_frames = r.ue_max("max_num_reorder_frames", 16)?;
        let max_dec_frame_buffering = r.ue_max("max_dec_frame_buffering", 16)?;
        vui.bitstream_restriction = Some(BitstreamRestriction {
            motion_vectors_over_pic_boundaries,
            max_num_reorder_frames,
            max_dec_frame_buffering: max_dec_frame_buffering.max(max_num_reorder_frames),
        });
    }
    Ok(())
}

/// `hrd_parameters()` (E.1.2).
fn parse_hrd(r: &mut BitReader<'_>) -> Result<Hrd> {
    let cpb_cnt = r.ue_max("cpb_cnt_minus1", 31)? + 1;
    r.bits(4, "bit_rate_scale")?;
    r.bits(4, "cpb_size_scale")?;
    for _ in 0..cpb_cnt {
        r.ue("bit_rate_value_minus1")?;
        r.ue("cpb_size_value_minus1")?;
        r.flag("cbr_flag")?;
    }
    Ok(Hrd {
        cpb_cnt: cpb_cnt as u8,
        initial_cpb_removal_delay_length: r.bits(5, "initial_cpb_removal_delay_length_minus1")? as u8 + 1,
        cpb_removal_delay_length: r.bits(5, "cpb_removal_delay_length_minus1")? as u8 + 1,
        dpb_output_delay_length: r.bits(5, "dpb_output_delay_length_minus1")? as u8 + 1,
        time_offset_length: r.bits(5, "time_offset_length")? as u8,
    })
}
