//! `vui_parameters()` (H.265 E.2.1): aspect ratio, colour description, timing.

use super::hrd::skip_hrd_parameters;
use crate::common::{predefined_sar, reduced_ratio};
use crate::rbsp::BitReader;
use video_hw_types::codec::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, Rational, TransferCharacteristics,
};
use video_hw_types::error::Result;

/// Timing information of a VPS or a VUI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingInfo {
    /// `num_units_in_tick`.
    pub num_units_in_tick: u32,
    /// `time_scale` (ticks per second).
    pub time_scale: u32,
    /// `num_ticks_poc_diff_one_minus1`, when `poc_proportional_to_timing_flag` is set.
    pub num_ticks_poc_diff_one_minus1: Option<u32>,
}

impl TimingInfo {
    #[doc(hidden)]
    pub fn parse(r: &mut BitReader<'_>) -> Result<Self> {
        let num_units_in_tick = r.bits(32, "num_units_in_tick")?;
        let time_scale = r.bits(32, "time_scale")?;
        let num_ticks_poc_diff_one_minus1 = if r.flag("poc_proportional_to_timing_flag")? {
            Some(r.ue("num_ticks_poc_diff_one_minus1")?)
        } else {
            None
        };
        Ok(TimingInfo { num_units_in_tick, time_scale, num_ticks_poc_diff_one_minus1 })
    }

    /// `time_scale / num_units_in_tick` in lowest terms (what ffmpeg reports as the frame
    /// rate); `None` when either is zero.
    ///
    /// ```
    /// use video_hw::bitstream::hevc::vui::TimingInfo;
    /// let t = TimingInfo { num_units_in_tick: 1001, time_scale: 60000, num_ticks_poc_diff_one_minus1: None };
    /// assert_eq!(t.frame_rate(), Some(video_hw::Rational::new(60000, 1001)));
    /// ```
    pub fn frame_rate(&self) -> Option<Rational> {
        reduced_ratio(self.time_scale as u64, self.num_units_in_tick as u64)
    }
}

/// A window given as offsets from each edge, in units of chroma samples (as coded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Left offset.
    pub left: u32,
    /// Right offset.
    pub right: u32,
    /// Top offset.
    pub top: u32,
    /// Bottom offset.
    pub bottom: u32,
}

impl Window {
    #[doc(hidden)]
    pub fn parse(r: &mut BitReader<'_>) -> Result<Self> {
        Ok(Window {
            left: r.ue("window left_offset")?,
            right: r.ue("window right_offset")?,
            top: r.ue("window top_offset")?,
            bottom: r.ue("window bottom_offset")?,
        })
    }
}

/// `bitstream_restriction` fields of the VUI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BitstreamRestriction {
    /// `tiles_fixed_structure_flag`.
    pub tiles_fixed_structure_flag: bool,
    /// `motion_vectors_over_pic_boundaries_flag`.
    pub motion_vectors_over_pic_boundaries_flag: bool,
    /// `restricted_ref_pic_lists_flag`.
    pub restricted_ref_pic_lists_flag: bool,
    /// `min_spatial_segmentation_idc`.
    pub min_spatial_segmentation_idc: u32,
    /// `max_bytes_per_pic_denom`.
    pub max_bytes_per_pic_denom: u32,
    /// `max_bits_per_min_cu_denom`.
    pub max_bits_per_min_cu_denom: u32,
    /// `log2_max_mv_length_horizontal`.
    pub log2_max_mv_length_horizontal: u32,
    /// `log2_max_mv_length_vertical`.
    pub log2_max_mv_length_vertical: u32,
}

/// Video usability information of an SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vui {
    /// `aspect_ratio_idc`, when signalled.
    pub aspect_ratio_idc: Option<u8>,
    /// `sar_width:sar_height` for `aspect_ratio_idc == 255`.
    pub sar_extended: Option<(u16, u16)>,
    /// `overscan_appropriate_flag`, when signalled.
    pub overscan_appropriate: Option<bool>,
    /// `video_format` (5 = unspecified when absent).
    pub video_format: u8,
    /// `video_full_range_flag`.
    pub video_full_range_flag: bool,
    /// `colour_primaries` (2 = unspecified when absent).
    pub colour_primaries: u8,
    /// `transfer_characteristics` (2 = unspecified when absent).
    pub transfer_characteristics: u8,
    /// `matrix_coeffs` (2 = unspecified when absent).
    pub matrix_coeffs: u8,
    /// `chroma_sample_loc_type_top_field` and `_bottom_field`, when signalled.
    pub chroma_sample_loc: Option<(u32, u32)>,
    /// `neutral_chroma_indication_flag`.
    pub neutral_chroma_indication_flag: bool,
    /// `field_seq_flag`: pictures are fields.
    pub field_seq_flag: bool,
    /// `frame_field_info_present_flag`.
    pub frame_field_info_present_flag: bool,
    /// `def_disp_win_*_offset`, when `default_display_window_flag` is set (chroma units).
    pub default_display_window: Option<Window>,
    /// VUI timing information.
    pub timing: Option<TimingInfo>,
    /// `vui_hrd_parameters_present_flag`.
    pub hrd_parameters_present_flag: bool,
    /// Bitstream restrictions, when signalled.
    pub bitstream_restriction: Option<BitstreamRestriction>,
}

impl Default for Vui {
    fn default() -> Self {
        Vui {
            aspect_ratio_idc: None,
            sar_extended: None,
            overscan_appropriate: None,
            video_format: 5,
            video_full_range_flag: false,
            colour_primaries: 2,
            transfer_characteristics: 2,
            matrix_coeffs: 2,
            chroma_sample_loc: None,
            neutral_chroma_indication_flag: false,
            field_seq_flag: false,
            frame_field_info_present_flag: false,
            default_display_window: None,
            timing: None,
            hrd_parameters_present_flag: false,
            bitstream_restriction: None,
        }
    }
}

impl Vui {
    /// Parses `vui_parameters()` of an SPS with `sps_max_sub_layers_minus1`.
    pub fn parse(r: &mut BitReader<'_>, max_sub_layers_minus1: u8) -> Result<Self> {
        let mut v = Vui::default();
        if r.flag("aspect_ratio_info_present_flag")? {
            let idc = r.bits(8, "aspect_ratio_idc")? as u8;
            v.aspect_ratio_idc = Some(idc);
            if idc == 255 {
                let w = r.bits(16, "sar_width")? as u16;
                let h = r.bits(16, "sar_height")? as u16;
                v.sar_extended = Some((w, h));
            }
        }
        if r.flag("overscan_info_present_flag")? {
            v.overscan_appropriate = Some(r.flag("overscan_appropriate_flag")?);
        }
        if r.flag("video_signal_type_present_flag")? {
            v.video_format = r.bits(3, "video_format")? as u8;
            v.video_full_range_flag = r.flag("video_full_range_flag")?;
            if r.flag("colour_description_present_flag")? {
                v.colour_primaries = r.bits(8, "colour_primaries")? as u8;
                v.transfer_characteristics = r.bits(8, "transfer_characteristics")? as u8;
                v.matrix_coeffs = r.bits(8, "matrix_coeffs")? as u8;
            }
        }
        if r.flag("chroma_loc_info_present_flag")? {
            let top = r.ue("chroma_sample_loc_type_top_field")?;
            let bottom = r.ue("chroma_sample_loc_type_bottom_field")?;
            v.chroma_sample_loc = Some((top, bottom));
        }
        v.neutral_chroma_indication_flag = r.flag("neutral_chroma_indication_flag")?;
        v.field_seq_flag = r.flag("field_seq_flag")?;
        v.frame_field_info_present_flag = r.flag("frame_field_info_present_flag")?;
        // Some old encoders wrote the VUI without default_display_window_flag; ffmpeg
        // recognises that layout by the heuristics below and so do we.
        let backup = (r.clone(), v);
        if has_bits(r, 68) && peek(r, 21) == Some(0x10_0000) {
            // A "window flag" followed by 20 zero bits is really timing info with a
            // num_units_in_tick below 2^12: leave the bit for the timing flag.
        } else if r.flag("default_display_window_flag")? {
            v.default_display_window = Some(Window::parse(r)?);
        }
        let mut alternative = false;
        loop {
            if r.flag("vui_timing_info_present_flag")? {
                if !alternative && !has_bits(r, 66) {
                    (*r, v) = backup.clone();
                    alternative = true;
                    continue;
                }
                v.timing = Some(TimingInfo::parse(r)?);
                v.hrd_parameters_present_flag = r.flag("vui_hrd_parameters_present_flag")?;
                if v.hrd_parameters_present_flag {
                    skip_hrd_parameters(r, true, max_sub_layers_minus1)?;
                }
            }
            if r.flag("bitstream_restriction_flag")? {
                if !alternative && !has_bits(r, 8) {
                    (*r, v) = backup.clone();
                    alternative = true;
                    continue;
                }
                v.bitstream_restriction = Some(BitstreamRestriction {
                    tiles_fixed_structure_flag: r.flag("tiles_fixed_structure_flag")?,
                    motion_vectors_over_pic_boundaries_flag: r.flag("motion_vectors_over_pic_boundaries_flag")?,
                    restricted_ref_pic_lists_flag: r.flag("restricted_ref_pic_lists_flag")?,
                    min_spatial_segmentation_idc: r.ue("min_spatial_segmentation_idc")?,
                    max_bytes_per_pic_denom: r.ue("max_bytes_per_pic_denom")?,
                    max_bits_per_min_cu_denom: r.ue("max_bits_per_min_cu_denom")?,
                    log2_max_mv_length_horizontal: r.ue("log2_max_mv_length_horizontal")?,
                    log2_max_mv_length_vertical: r.ue("log2_max_mv_length_vertical")?,
                });
            }
            break;
        }
        Ok(v)
    }

    /// The sample aspect ratio, when signalled with a known or extended `aspect_ratio_idc`.
    pub fn sample_aspect_ratio(&self) -> Option<Rational> {
        let (w, h) = match self.aspect_ratio_idc? {
            255 => self.sar_extended?,
            idc => predefined_sar(idc)?,
        };
        if w == 0 || h == 0 { None } else { Some(Rational::new(w as i64, h as i64)) }
    }

    /// The colour description (unspecified values and limited range when absent).
    pub fn color_info(&self) -> ColorInfo {
        ColorInfo {
            primaries: ColorPrimaries(self.colour_primaries),
            transfer: TransferCharacteristics(self.transfer_characteristics),
            matrix: MatrixCoefficients(self.matrix_coeffs),
            range: if self.video_full_range_flag { ColorRange::Full } else { ColorRange::Limited },
            chroma_location: self
                .chroma_sample_loc
                .map_or(ChromaLocation::Unspecified, |(top, _)| ChromaLocation::from_h273(top)),
        }
    }
}

/// True when at least `n` more bits can be read.
fn has_bits(r: &BitReader<'_>, n: u64) -> bool {
    r.clone().skip(n, "").is_ok()
}

/// The next `n` bits, without consuming them.
fn peek(r: &BitReader<'_>, n: u32) -> Option<u32> {
    r.clone().bits(n, "").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::testutil::BitWriter;

    /// The VUI start shared by the layout tests: nothing signalled up to the window flag.
    fn plain_start(w: &mut BitWriter) {
        w.u(7, 0);
    }

    #[test]
    fn vui_without_display_window_flag_is_recognised() {
        // Timing info where default_display_window_flag should be: num_units_in_tick = 1001
        // starts with 20 zero bits after the timing flag.
        let mut w = BitWriter::new();
        plain_start(&mut w);
        w.flag(true).u(32, 1001).u(32, 24000).flag(false).flag(false); // timing, no hrd
        w.flag(false); // no bitstream restriction
        w.flag(false); // (sps_extension_present_flag)
        let data = crate::rbsp::escape(&w.finish());
        let v = Vui::parse(&mut BitReader::new(&data), 0).unwrap();
        assert_eq!(v.default_display_window, None);
        assert_eq!(v.timing.unwrap().frame_rate(), Some(Rational::new(24000, 1001)));
    }

    #[test]
    fn short_timing_falls_back_to_the_alternative_layout() {
        // default_display_window_flag = 0, then a timing flag with too few bits after it:
        // re-read from the window flag as the timing flag (ffmpeg's "Strange VUI timing").
        let mut w = BitWriter::new();
        plain_start(&mut w);
        w.flag(false).flag(true); // window flag 0, timing flag 1 ...
        w.u(3, 0).u(5, 0b11111); // ... but only 8 bits left: a bitstream restriction
        let len = w.len();
        let data = w.finish();
        let mut r = BitReader::new(&data);
        let v = Vui::parse(&mut r, 0).unwrap();
        assert_eq!(r.bit_position() as usize, len);
        assert_eq!(v.timing, None);
        assert_eq!(v.bitstream_restriction, Some(BitstreamRestriction::default()));
    }

    #[test]
    fn empty_vui_is_defaults() {
        let mut w = BitWriter::new();
        w.u(10, 0);
        let data = w.finish();
        let v = Vui::parse(&mut BitReader::new(&data), 0).unwrap();
        assert_eq!(v, Vui::default());
        assert_eq!(v.color_info(), ColorInfo::default());
        assert_eq!(v.sample_aspect_ratio(), None);
    }

    #[test]
    fn full_vui() {
        let mut w = BitWriter::new();
        w.flag(true).u(8, 255).u(16, 4).u(16, 3);
        w.flag(true).flag(false);
        w.flag(true).u(3, 5).flag(true).flag(true).u(8, 9).u(8, 16).u(8, 9);
        w.flag(true).ue(2).ue(2);
        w.flag(false).flag(true).flag(false);
        w.flag(true).ue(0).ue(0).ue(0).ue(4);
        w.flag(true).u(32, 1001).u(32, 60000).flag(true).ue(0);
        w.flag(true);
        w.flag(false).flag(false); // nal, vcl hrd absent
        w.flag(true).ue(0).ue(0); // fixed general, elemental, cpb_cnt
        w.flag(true).flag(false).flag(true).flag(true).ue(0).ue(2).ue(1).ue(15).ue(15);
        let len = w.len();
        let data = w.finish();
        let mut r = BitReader::new(&data);
        let v = Vui::parse(&mut r, 0).unwrap();
        assert_eq!(r.bit_position() as usize, len);
        assert_eq!(v.sample_aspect_ratio(), Some(Rational::new(4, 3)));
        assert_eq!(v.overscan_appropriate, Some(false));
        assert_eq!(
            v.color_info(),
            ColorInfo {
                primaries: ColorPrimaries::BT2020,
                transfer: TransferCharacteristics::PQ,
                matrix: MatrixCoefficients::BT2020_NCL,
                range: ColorRange::Full,
                chroma_location: ChromaLocation::TopLeft,
            }
        );
        assert_eq!(v.chroma_sample_loc, Some((2, 2)));
        assert!(v.field_seq_flag);
        assert_eq!(v.default_display_window, Some(Window { left: 0, right: 0, top: 0, bottom: 4 }));
        assert_eq!(v.timing.unwrap().frame_rate(), Some(Rational::new(60000, 1001)));
        assert_eq!(v.timing.unwrap().num_ticks_poc_diff_one_minus1, Some(0));
        let br = v.bitstream_restriction.unwrap();
        assert!(!br.tiles_fixed_structure_flag && br.motion_vectors_over_pic_boundaries_flag);
        assert!(br.restricted_ref_pic_lists_flag);
        assert_eq!((br.max_bytes_per_pic_denom, br.log2_max_mv_length_vertical), (2, 15));
    }

    #[test]
    fn table_sar_and_zero_timing() {
        let mut v = Vui { aspect_ratio_idc: Some(14), ..Vui::default() };
        assert_eq!(v.sample_aspect_ratio(), Some(Rational::new(4, 3)));
        v.aspect_ratio_idc = Some(17);
        assert_eq!(v.sample_aspect_ratio(), None);
        let t = TimingInfo { num_units_in_tick: 0, time_scale: 25, num_ticks_poc_diff_one_minus1: None };
        assert_eq!(t.frame_rate(), None);
        let t = TimingInfo { num_units_in_tick: 2, time_scale: 50, num_ticks_poc_diff_one_minus1: None };
        assert_eq!(t.frame_rate(), Some(Rational::new(25, 1)));
    }

    #[test]
    fn truncated_vui_is_an_error() {
        let mut w = BitWriter::new();
        w.flag(true).u(8, 255).u(8, 4);
        let data = w.raw();
        assert!(Vui::parse(&mut BitReader::new(&data), 0).is_err());
    }
}
