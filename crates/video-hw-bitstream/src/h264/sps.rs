//! Sequence parameter set (H.264 7.3.2.1.1) and the stream facts derived from it.

use super::vui::{Vui, parse_vui};
use crate::access_unit::StreamInfo;
use crate::common::reduced_ratio;
use crate::nal::{H264NalHeader, h264_type};
use crate::rbsp::BitReader;
use video_hw_types::codec::TransferCharacteristics;
use video_hw_types::codec::{
    ChromaLocation, Codec, ColorInfo, ColorPrimaries, ColorRange, Crop, Dimensions, MatrixCoefficients, Rational,
};
use video_hw_types::error::{Error, Result};

/// Largest picture width or height accepted, in luma samples (in macroblocks: 1024).
pub const MAX_PICTURE_SIDE: u32 = 16384;

/// Most entries of `offset_for_ref_frame` kept (the spec allows 255).
pub const MAX_REF_FRAMES_IN_POC_CYCLE: u32 = 255;

/// A parsed H.264 sequence parameter set.
///
/// Scaling lists are read and skipped; only whether they are present is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc` (66 Baseline, 77 Main, 100 High, …).
    pub profile_idc: u8,
    /// The byte holding `constraint_set0_flag` (bit 7) to `constraint_set5_flag` (bit 2).
    pub constraint_flags: u8,
    /// `level_idc` (ten times the level number; 9 is level 1b).
    pub level_idc: u8,
    /// `seq_parameter_set_id` (0..=31).
    pub sps_id: u8,
    /// 0 = 4:0:0, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4.
    pub chroma_format_idc: u8,
    /// 4:4:4 coded as three separate colour planes.
    pub separate_colour_plane: bool,
    /// Luma bit depth (8..=14).
    pub bit_depth_luma: u8,
    /// Chroma bit depth (8..=14).
    pub bit_depth_chroma: u8,
    /// `qpprime_y_zero_transform_bypass_flag`.
    pub qpprime_y_zero_transform_bypass: bool,
    /// `seq_scaling_matrix_present_flag` (the lists themselves are skipped).
    pub seq_scaling_matrix_present: bool,
    /// log2(MaxFrameNum), 4..=16.
    pub log2_max_frame_num: u8,
    /// `pic_order_cnt_type` (0, 1 or 2).
    pub pic_order_cnt_type: u8,
    /// log2(MaxPicOrderCntLsb), 4..=16 (POC type 0 only).
    pub log2_max_pic_order_cnt_lsb: u8,
    /// `delta_pic_order_always_zero_flag` (POC type 1).
    pub delta_pic_order_always_zero: bool,
    /// `offset_for_non_ref_pic` (POC type 1).
    pub offset_for_non_ref_pic: i32,
    /// `offset_for_top_to_bottom_field` (POC type 1).
    pub offset_for_top_to_bottom_field: i32,
    /// `offset_for_ref_frame[]` (POC type 1), at most 255 entries.
    pub offset_for_ref_frame: Vec<i32>,
    /// `max_num_ref_frames` (0..=16).
    pub max_num_ref_frames: u8,
    /// `gaps_in_frame_num_value_allowed_flag`.
    pub gaps_in_frame_num_allowed: bool,
    /// `pic_width_in_mbs_minus1 + 1`.
    pub pic_width_in_mbs: u32,
    /// `pic_height_in_map_units_minus1 + 1` (map units are field MB rows when
    /// `frame_mbs_only` is false).
    pub pic_height_in_map_units: u32,
    /// `frame_mbs_only_flag`: no field pictures and no MBAFF.
    pub frame_mbs_only: bool,
    /// `mb_adaptive_frame_field_flag` (MBAFF).
    pub mb_adaptive_frame_field: bool,
    /// `direct_8x8_inference_flag`.
    pub direct_8x8_inference: bool,
    /// Frame cropping in luma samples (`frame_crop_*_offset` times CropUnitX/Y).
    pub crop: Crop,
    /// Video usability information, when present (and as far as it could be read).
    pub vui: Option<Vui>,
}

/// Parses an SPS NAL unit (`nal` starts with the one-byte NAL header).
///
/// A damaged VUI at the end does not fail the SPS: the VUI keeps the parts read
/// before the damage (see [`Vui::truncated`]), as ffmpeg does.
///
/// ```
/// use video_hw::bitstream::h264::parse_sps;
/// // x264 Constrained Baseline 64x64, level 2.1
/// let sps = parse_sps(&[0x67, 0x42, 0xc0, 0x15, 0xd9, 0x04, 0x26, 0xc0, 0x5a, 0x83, 0x03, 0x03, 0x52, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x47, 0x8b, 0x17, 0x24]).unwrap_or_else(|e| panic!("{e}"));
/// assert_eq!((sps.profile_idc, sps.level_idc), (66, 21));
/// assert_eq!(sps.profile_name(), "Constrained Baseline");
/// assert_eq!((sps.dimensions().width(), sps.dimensions().height()), (64, 64));
/// ```
pub fn parse_sps(nal: &[u8]) -> Result<Sps> {
    let header = H264NalHeader::parse(nal)?;
    if header.nal_unit_type != h264_type::SPS {
        return Err(Error::invalid_bitstream(0, format!("NAL type {} is not an SPS", header.nal_unit_type)));
    }
    let mut r = BitReader::new(nal);
    r.skip(8, "nal_unit_header")?;
    parse_sps_body(&mut r)
}

fn parse_sps_body(r: &mut BitReader<'_>) -> Result<Sps> {
    let profile_idc = r.bits(8, "profile_idc")? as u8;
    let constraint_flags = r.bits(8, "constraint_set_flags")? as u8;
    let level_idc = r.bits(8, "level_idc")? as u8;
    let sps_id = r.ue_max("seq_parameter_set_id", 31)? as u8;

    let mut sps = Sps {
        profile_idc,
        constraint_flags,
        level_idc,
        sps_id,
        chroma_format_idc: 1,
        separate_colour_plane: false,
        bit_depth_luma: 8,
        bit_depth_chroma: 8,
        qpprime_y_zero_transform_bypass: false,
        seq_scaling_matrix_present: false,
        log2_max_frame_num: 4,
        pic_order_cnt_type: 0,
        log2_max_pic_order_cnt_lsb: 4,
        delta_pic_order_always_zero: false,
        offset_for_non_ref_pic: 0,
        offset_for_top_to_bottom_field: 0,
        offset_for_ref_frame: Vec::new(),
        max_num_ref_frames: 0,
        gaps_in_frame_num_allowed: false,
        pic_width_in_mbs: 1,
        pic_height_in_map_units: 1,
        frame_mbs_only: true,
        mb_adaptive_frame_field: false,
        direct_8x8_inference: false,
        crop: Crop::default(),
        vui: None,
    };

    if has_chroma_info(profile_idc) {
        sps.chroma_format_idc = r.ue_max("chroma_format_idc", 3)? as u8;
        if sps.chroma_format_idc == 3 {
            sps.separate_colour_plane = r.flag("separate_colour_plane_flag")?;
        }
        sps.bit_depth_luma = 8 + r.ue_max("bit_depth_luma_minus8", 6)? as u8;
        sps.bit_depth_chroma = 8 + r.ue_max("bit_depth_chroma_minus8", 6)? as u8;
        sps.qpprime_y_zero_transform_bypass = r.flag("qpprime_y_zero_transform_bypass_flag")?;
        sps.seq_scaling_matrix_present = r.flag("seq_scaling_matrix_present_flag")?;
        if sps.seq_scaling_matrix_present {
            let lists = if sps.chroma_format_idc == 3 { 12 } else { 8 };
            skip_scaling_lists(r, lists)?;
        }
    }

    sps.log2_max_frame_num = 4 + r.ue_max("log2_max_frame_num_minus4", 12)? as u8;
    sps.pic_order_cnt_type = r.ue_max("pic_order_cnt_type", 2)? as u8;
    match sps.pic_order_cnt_type {
        0 => {
            sps.log2_max_pic_order_cnt_lsb = 4 + r.ue_max("log2_max_pic_order_cnt_lsb_minus4", 12)? as u8;
        }
        1 => {
            sps.delta_pic_order_always_zero = r.flag("delta_pic_order_always_zero_flag")?;
            sps.offset_for_non_ref_pic = r.se("offset_for_non_ref_pic")?;
            sps.offset_for_top_to_bottom_field = r.se("offset_for_top_to_bottom_field")?;
            let n = r.ue_max("num_ref_frames_in_pic_order_cnt_cycle", MAX_REF_FRAMES_IN_POC_CYCLE)?;
            let mut offsets = Vec::with_capacity(n as usize);
            for _ in 0..n {
                offsets.push(r.se("offset_for_ref_frame")?);
            }
            sps.offset_for_ref_frame = offsets;
        }
        _ => {}
    }
    sps.max_num_ref_frames = r.ue_max("max_num_ref_frames", 16)? as u8;
    sps.gaps_in_frame_num_allowed = r.flag("gaps_in_frame_num_value_allowed_flag")?;
    let max_mbs = MAX_PICTURE_SIDE / 16;
    sps.pic_width_in_mbs = r.ue_max("pic_width_in_mbs_minus1", max_mbs - 1)? + 1;
    let height_off = r.byte_offset();
    sps.pic_height_in_map_units = r.ue_max("pic_height_in_map_units_minus1", max_mbs - 1)? + 1;
    sps.frame_mbs_only = r.flag("frame_mbs_only_flag")?;
    if !sps.frame_mbs_only {
        if sps.pic_height_in_map_units > max_mbs / 2 {
            return Err(Error::invalid_bitstream(
                height_off,
                format!(
                    "picture height of {} field MB rows exceeds {MAX_PICTURE_SIDE} lines",
                    sps.pic_height_in_map_units
                ),
            ));
        }
        sps.mb_adaptive_frame_field = r.flag("mb_adaptive_frame_field_flag")?;
    }
    sps.direct_8x8_inference = r.flag("direct_8x8_inference_flag")?;
    if r.flag("frame_cropping_flag")? {
        let left = r.ue("frame_crop_left_offset")?;
        let right = r.ue("frame_crop_right_offset")?;
        let top = r.ue("frame_crop_top_offset")?;
        let bottom = r.ue("frame_crop_bottom_offset")?;
        sps.crop = crop_in_samples(&sps, [left, right, top, bottom]);
    }
    if r.flag("vui_parameters_present_flag")? {
        let mut vui = Vui::default();
        if parse_vui(r, &mut vui).is_err() {
            vui.truncated = true;
        }
        sps.vui = Some(vui);
    }
    Ok(sps)
}

/// Profiles whose SPS carries chroma format, bit depths and scaling lists.
fn has_chroma_info(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135)
}

/// Reads and discards `count` optional scaling lists (6 of 16 entries, the rest of 64).
pub(super) fn skip_scaling_lists(r: &mut BitReader<'_>, count: usize) -> Result<()> {
    for i in 0..count {
        if r.flag("scaling_list_present_flag")? {
            skip_scaling_list(r, if i < 6 { 16 } else { 64 })?;
        }
    }
    Ok(())
}

/// One `scaling_list()` (7.3.2.1.1.1): delta-coded until `nextScale` becomes 0.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<()> {
    let mut last = 8i32;
    let mut next = 8i32;
    for _ in 0..size {
        if next != 0 {
            let delta = r.se_range("delta_scale", -128, 127)?;
            next = (last + delta + 256) % 256;
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

/// Converts the four `frame_crop_*_offset` values to luma samples (7.4.2.1.1);
/// cropping that would leave nothing is ignored, as ffmpeg does.
fn crop_in_samples(sps: &Sps, [left, right, top, bottom]: [u32; 4]) -> Crop {
    let (sub_w, sub_h) = match sps.chroma_array_type() {
        1 => (2u64, 2u64),
        2 => (2, 1),
        _ => (1, 1),
    };
    let unit_x = sub_w;
    let unit_y = sub_h * if sps.frame_mbs_only { 1 } else { 2 };
    let width = sps.pic_width_in_mbs as u64 * 16;
    let height = sps.frame_height_in_mbs() as u64 * 16;
    let (l, r) = (left as u64 * unit_x, right as u64 * unit_x);
    let (t, b) = (top as u64 * unit_y, bottom as u64 * unit_y);
    if l + r >= width || t + b >= height {
        return Crop::default();
    }
    // All four are below 16384 here, so they fit in u32.
    Crop { left: l as u32, right: r as u32, top: t as u32, bottom: b as u32 }
}

/// `MaxDpbMbs` of H.264 Table A-1 for a level; `None` for an unknown level.
fn max_dpb_mbs(level_idc: u8, constraint_set3: bool) -> Option<u32> {
    Some(match level_idc {
        9 => 396,
        10 => 396,
        11 if constraint_set3 => 396,
        11 => 900,
        12 | 13 | 20 => 2376,
        21 => 4752,
        22 | 30 => 8100,
        31 => 18000,
        32 => 20480,
        40 | 41 => 32768,
        42 => 34816,
        50 => 110400,
        51 | 52 => 184320,
        60..=62 => 696320,
        _ => return None,
    })
}

impl Sps {
    /// `constraint_set{n}_flag` for n in 0..=5.
    pub fn constraint_set(&self, n: u32) -> bool {
        n < 8 && self.constraint_flags & (0x80 >> n) != 0
    }

    /// ChromaArrayType: 0 for monochrome or separately coded planes, else `chroma_format_idc`.
    pub fn chroma_array_type(&self) -> u8 {
        if self.separate_colour_plane { 0 } else { self.chroma_format_idc }
    }

    /// MaxFrameNum = 2^log2_max_frame_num.
    pub fn max_frame_num(&self) -> u32 {
        1 << self.log2_max_frame_num
    }

    /// FrameHeightInMbs: map units times two when fields are possible.
    pub fn frame_height_in_mbs(&self) -> u32 {
        self.pic_height_in_map_units * if self.frame_mbs_only { 1 } else { 2 }
    }

    /// Macroblocks in a frame.
    pub fn frame_size_in_mbs(&self) -> u32 {
        self.pic_width_in_mbs * self.frame_height_in_mbs()
    }

    /// Coded size in luma samples with the SPS cropping.
    pub fn dimensions(&self) -> Dimensions {
        Dimensions {
            coded_width: self.pic_width_in_mbs * 16,
            coded_height: self.frame_height_in_mbs() * 16,
            crop: self.crop,
        }
    }

    /// The profile as ffprobe names it ("Constrained Baseline", "High 10 Intra", …;
    /// "unknown" for a `profile_idc` it has no name for).
    pub fn profile_name(&self) -> &'static str {
        let intra = self.constraint_set(3);
        match self.profile_idc {
            66 if self.constraint_set(1) => "Constrained Baseline",
            66 => "Baseline",
            77 => "Main",
            88 => "Extended",
            100 => "High",
            110 if intra => "High 10 Intra",
            110 => "High 10",
            122 if intra => "High 4:2:2 Intra",
            122 => "High 4:2:2",
            244 if intra => "High 4:4:4 Intra",
            244 => "High 4:4:4 Predictive",
            44 => "CAVLC 4:4:4",
            118 => "Multiview High",
            128 => "Stereo High",
            _ => "unknown",
        }
    }

    /// True for level 1b (`level_idc` 9, or 11 with `constraint_set3_flag` in the
    /// Baseline, Main and Extended profiles).
    pub fn is_level_1b(&self) -> bool {
        self.level_idc == 9
            || (self.level_idc == 11 && self.constraint_set(3) && matches!(self.profile_idc, 66 | 77 | 88))
    }

    /// The level as people write it, always with one decimal: "3.1", "4.0", or "1b".
    pub fn level_name(&self) -> String {
        if self.is_level_1b() { "1b".to_string() } else { format!("{}.{}", self.level_idc / 10, self.level_idc % 10) }
    }

    /// MaxDpbFrames of the level (A.3.1 item h): at most 16, and 16 for an unknown level.
    pub fn max_dpb_frames(&self) -> u32 {
        match max_dpb_mbs(self.level_idc, self.is_level_1b()) {
            Some(mbs) => (mbs / self.frame_size_in_mbs().max(1)).min(16),
            None => 16,
        }
    }

    /// True for the intra-only profiles (44, and High 10/4:2:2/4:4:4 with
    /// `constraint_set3_flag`), whose DPB size and reorder depth are inferred as 0.
    pub fn is_intra_profile(&self) -> bool {
        matches!(self.profile_idc, 44 | 86 | 100 | 110 | 122 | 244) && self.constraint_set(3)
    }

    /// The VUI's `bitstream_restriction`, when it was present and read.
    fn restriction(&self) -> Option<&super::vui::BitstreamRestriction> {
        self.vui.as_ref().and_then(|v| v.bitstream_restriction.as_ref())
    }

    /// `max_dec_frame_buffering`: signalled, or else inferred per H.264 E.2.1
    /// (MaxDpbFrames, raised to `max_num_ref_frames` for streams that exceed their level).
    pub fn max_dec_frame_buffering(&self) -> u32 {
        if let Some(br) = self.restriction() {
            return br.max_dec_frame_buffering;
        }
        if self.is_intra_profile() {
            return 0;
        }
        self.max_dpb_frames().max(self.max_num_ref_frames as u32).clamp(1, 16)
    }

    /// `max_num_reorder_frames`: signalled, or else inferred per H.264 E.2.1 (equal to
    /// the inferred `max_dec_frame_buffering`), except that POC type 2 means output
    /// order is decoding order (8.2.1.3), so nothing is reordered.
    pub fn num_reorder_frames(&self) -> u32 {
        if let Some(br) = self.restriction() {
            return br.max_num_reorder_frames;
        }
        if self.pic_order_cnt_type == 2 {
            return 0;
        }
        self.max_dec_frame_buffering()
    }

    /// Frame rate from VUI timing info: `time_scale / (2 * num_units_in_tick)`, reduced.
    pub fn frame_rate(&self) -> Option<Rational> {
        let t = self.vui.as_ref()?.timing?;
        reduced_ratio(t.time_scale as u64, 2 * t.num_units_in_tick as u64)
    }

    /// Colour description from the VUI (unspecified, limited range when absent).
    pub fn color_info(&self) -> ColorInfo {
        let mut c = ColorInfo::default();
        if let Some(vui) = &self.vui {
            if let Some(d) = vui.colour_description {
                c.primaries = ColorPrimaries(d.colour_primaries);
                c.transfer = TransferCharacteristics(d.transfer_characteristics);
                c.matrix = MatrixCoefficients(d.matrix_coefficients);
            }
            if vui.video_full_range {
                c.range = ColorRange::Full;
            }
            if let Some((top, _)) = vui.chroma_sample_loc {
                c.chroma_location = ChromaLocation::from_h273(u32::from(top));
            }
        }
        c
    }

    /// The stream facts this SPS gives.
    pub fn stream_info(&self) -> StreamInfo {
        StreamInfo {
            codec: Codec::H264,
            profile: self.profile_name().to_string(),
            profile_idc: self.profile_idc,
            level: self.level_name(),
            level_idc: self.level_idc,
            dimensions: self.dimensions(),
            bit_depth_luma: self.bit_depth_luma,
            bit_depth_chroma: self.bit_depth_chroma,
            chroma_format_idc: self.chroma_format_idc,
            color: self.color_info(),
            frame_rate: self.frame_rate(),
            max_dec_frame_buffering: self.max_dec_frame_buffering(),
            num_reorder_frames: self.num_reorder_frames(),
            interlaced: !self.frame_mbs_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h264::test_util::{BitWriter, hex};

    /// The SPS of cros-codecs/64x64-I.h264 (x264, Constrained Baseline, level 2.1).
    const CB_64X64: &[u8] = &[
        0x67, 0x42, 0xc0, 0x15, 0xd9, 0x04, 0x26, 0xc0, 0x5a, 0x83, 0x03, 0x03, 0x52, 0x80, 0x00, 0x00, 0x03, 0x00,
        0x80, 0x00, 0x00, 0x1e, 0x47, 0x8b, 0x17, 0x24,
    ];

    #[test]
    fn parses_constrained_baseline() {
        let sps = parse_sps(CB_64X64).unwrap();
        assert_eq!(sps.sps_id, 0);
        assert_eq!(sps.chroma_format_idc, 1);
        assert_eq!(sps.pic_order_cnt_type, 2);
        assert_eq!(sps.max_num_ref_frames, 3);
        assert!(sps.frame_mbs_only);
        assert_eq!(sps.level_name(), "2.1");
        assert_eq!(sps.profile_name(), "Constrained Baseline");
        assert_eq!(sps.dimensions(), Dimensions::new(64, 64));
    }

    /// Writes a High-profile SPS with the given pieces.
    fn high_sps(chroma: u32, frame_mbs_only: bool, crop: Option<[u32; 4]>, vui: impl Fn(&mut BitWriter)) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.bits(0x67, 8);
        w.bits(100, 8);
        w.bits(0, 8);
        w.bits(40, 8);
        w.ue(1); // sps id
        w.ue(chroma);
        if chroma == 3 {
            w.flag(false);
        }
        w.ue(2); // bit depth luma 10
        w.ue(2);
        w.flag(false);
        w.flag(true); // scaling matrix present
        let lists = if chroma == 3 { 12 } else { 8 };
        for i in 0..lists {
            w.flag(i % 2 == 0);
            if i % 2 == 0 {
                let n = if i < 6 { 16 } else { 64 };
                // Deltas that end the list early with nextScale 0 after three entries.
                w.se(1);
                w.se(1);
                w.se(-10);
                let _ = n;
            }
        }
        w.ue(0); // log2_max_frame_num 4
        w.ue(0); // poc type 0
        w.ue(2); // log2 max poc lsb 6
        w.ue(4); // refs
        w.flag(false);
        w.ue(119); // 1920
        w.ue(if frame_mbs_only { 67 } else { 33 }); // 1088
        w.flag(frame_mbs_only);
        if !frame_mbs_only {
            w.flag(true);
        }
        w.flag(true);
        match crop {
            Some(c) => {
                w.flag(true);
                for v in c {
                    w.ue(v);
                }
            }
            None => w.flag(false),
        }
        vui(&mut w);
        w.trailing();
        w.finish()
    }

    #[test]
    fn parses_high_with_scaling_lists_and_crop() {
        let nal = high_sps(1, true, Some([0, 0, 0, 4]), |w| w.flag(false));
        let sps = parse_sps(&nal).unwrap();
        assert_eq!((sps.sps_id, sps.bit_depth_luma, sps.bit_depth_chroma), (1, 10, 10));
        assert!(sps.seq_scaling_matrix_present);
        assert_eq!(sps.log2_max_pic_order_cnt_lsb, 6);
        assert_eq!(sps.dimensions().coded_height, 1088);
        assert_eq!((sps.dimensions().width(), sps.dimensions().height()), (1920, 1080));
        assert_eq!(sps.profile_name(), "High");
        assert_eq!(sps.level_name(), "4.0");
        // Level 4: 32768 / 8160 = 4 frames.
        assert_eq!(sps.max_dec_frame_buffering(), 4);
        assert_eq!(sps.num_reorder_frames(), 4);
    }

    #[test]
    fn crop_units_follow_chroma_format_and_fields() {
        // 4:2:0 field-capable: CropUnitY = 2 * 2 = 4.
        let sps = parse_sps(&high_sps(1, false, Some([1, 2, 1, 2]), |w| w.flag(false))).unwrap();
        assert!(sps.mb_adaptive_frame_field);
        assert_eq!(sps.crop, Crop { left: 2, right: 4, top: 4, bottom: 8 });
        // 4:4:4: units of one sample.
        let sps = parse_sps(&high_sps(3, true, Some([1, 2, 3, 4]), |w| w.flag(false))).unwrap();
        assert_eq!(sps.crop, Crop { left: 1, right: 2, top: 3, bottom: 4 });
        // Crop bigger than the picture is ignored.
        let sps = parse_sps(&high_sps(1, true, Some([1000, 0, 0, 0]), |w| w.flag(false))).unwrap();
        assert_eq!(sps.crop, Crop::default());
    }

    #[test]
    fn vui_gives_colour_rate_and_reorder() {
        let nal = high_sps(1, true, None, |w| {
            w.flag(true); // vui
            w.flag(true); // aspect
            w.bits(255, 8);
            w.bits(4, 16);
            w.bits(3, 16);
            w.flag(false); // overscan
            w.flag(true); // video signal
            w.bits(5, 3);
            w.flag(true); // full range
            w.flag(true);
            w.bits(9, 8);
            w.bits(16, 8);
            w.bits(9, 8);
            w.flag(false); // chroma loc
            w.flag(true); // timing
            w.bits(1001, 32);
            w.bits(60000, 32);
            w.flag(true);
            w.flag(true); // nal hrd
            w.ue(1); // cpb_cnt_minus1
            w.bits(4, 4);
            w.bits(6, 4);
            for _ in 0..2 {
                w.ue(1000);
                w.ue(2000);
                w.flag(false);
            }
            w.bits(23, 5);
            w.bits(23, 5);
            w.bits(23, 5);
            w.bits(24, 5);
            w.flag(false); // vcl hrd
            w.flag(false); // low delay
            w.flag(true); // pic struct
            w.flag(true); // restriction
            w.flag(true);
            w.ue(2);
            w.ue(1);
            w.ue(16);
            w.ue(16);
            w.ue(2);
            w.ue(4);
        });
        let sps = parse_sps(&nal).unwrap();
        let vui = sps.vui.as_ref().unwrap();
        assert!(!vui.truncated);
        assert_eq!(vui.sar, Some((4, 3)));
        assert!(vui.pic_struct_present);
        assert_eq!(vui.nal_hrd.unwrap().cpb_removal_delay_length, 24);
        assert_eq!(sps.frame_rate(), Some(Rational::new(30000, 1001)));
        let c = sps.color_info();
        assert_eq!(
            (c.primaries, c.transfer, c.matrix, c.range),
            (ColorPrimaries::BT2020, TransferCharacteristics::PQ, MatrixCoefficients::BT2020_NCL, ColorRange::Full)
        );
        assert_eq!((sps.max_dec_frame_buffering(), sps.num_reorder_frames()), (4, 2));
        let info = sps.stream_info();
        assert_eq!(info.profile, "High");
        assert!(!info.interlaced);
    }

    #[test]
    fn truncated_vui_keeps_the_sps_and_the_parts_read() {
        let nal = high_sps(1, true, None, |w| {
            w.flag(true); // vui
            w.flag(false); // aspect
            w.flag(false); // overscan
            w.flag(true); // video signal
            w.bits(5, 3);
            w.flag(true);
            w.flag(false);
            w.flag(false); // chroma loc
            w.flag(true); // timing, cut short
            w.bits(1, 8);
        });
        // Drop the trailing byte so the timing info is cut.
        let sps = parse_sps(&nal[..nal.len() - 1]).unwrap();
        let vui = sps.vui.as_ref().unwrap();
        assert!(vui.truncated);
        assert!(vui.video_full_range);
        assert_eq!(vui.timing, None);
        assert_eq!(sps.frame_rate(), None);
    }

    #[test]
    fn rejects_absurd_values() {
        // sps id 32
        let mut w = BitWriter::new();
        w.bits(0x67, 8);
        w.bits(66, 8);
        w.bits(0, 8);
        w.bits(30, 8);
        w.ue(32);
        w.trailing();
        let e = parse_sps(&w.finish()).unwrap_err();
        assert!(e.to_string().contains("seq_parameter_set_id"), "{e}");
        // width 16400 pixels
        let mut w = BitWriter::new();
        w.bits(0x67, 8);
        w.bits(66, 8);
        w.bits(0, 8);
        w.bits(30, 8);
        w.ue(0);
        w.ue(0);
        w.ue(2);
        w.ue(1);
        w.flag(false);
        w.ue(1024);
        w.ue(10);
        w.trailing();
        let e = parse_sps(&w.finish()).unwrap_err();
        assert!(e.to_string().contains("pic_width_in_mbs_minus1"), "{e}");
        // bit depth 15
        let nal = {
            let mut w = BitWriter::new();
            w.bits(0x67, 8);
            w.bits(110, 8);
            w.bits(0, 8);
            w.bits(30, 8);
            w.ue(0);
            w.ue(1);
            w.ue(7);
            w.trailing();
            w.finish()
        };
        assert!(parse_sps(&nal).is_err());
        assert!(parse_sps(&[0x68, 0x42]).is_err());
        assert!(parse_sps(&[]).is_err());
    }

    #[test]
    fn real_sps_from_the_corpus() {
        // openh264/CVFC1_Sony_C.jsv: Baseline, no VUI, cropped on all four sides.
        let sps = parse_sps(&hex("2742e01f8d8d302c12e38707c3e8")).unwrap();
        let d = sps.dimensions();
        assert_eq!((d.coded_width, d.coded_height, d.width(), d.height()), (352, 288, 300, 168));
        assert_eq!(d.crop, Crop { left: 26, right: 26, top: 60, bottom: 60 });
        assert_eq!(sps.vui, None);
        // Level 3.1: 18000 / 396 MBs, capped at 16.
        assert_eq!((sps.max_dec_frame_buffering(), sps.num_reorder_frames()), (16, 16));

        // fate-suite/direct-bff.h264: High MBAFF, 720x484 in 720x512, 16 reference frames.
        let sps = parse_sps(&hex("67640029ac720440b420fc442000007d20001d4c13e2c5b08c")).unwrap();
        assert!(!sps.frame_mbs_only && sps.mb_adaptive_frame_field);
        assert_eq!((sps.dimensions().width(), sps.dimensions().height()), (720, 484));
        assert_eq!(sps.dimensions().coded_height, 512);
        assert_eq!(sps.max_num_ref_frames, 16);
        assert_eq!(sps.frame_rate(), Some(Rational::new(30000, 1001)));
        assert_eq!(sps.num_reorder_frames(), 2);
        assert!(sps.stream_info().interlaced);

        // openh264/VID_1920x1080_cabac_temporal_direct.264: full-range 1080p.
        let sps = parse_sps(&hex("67640028acd940780227e59b20000003002000000641e30632c0")).unwrap();
        assert_eq!(sps.color_info().range, ColorRange::Full);
        assert_eq!((sps.dimensions().height(), sps.frame_rate()), (1080, Some(Rational::new(25, 1))));

        // openh264/BAMQ1_JVC_C.264: POC type 1.
        let sps = parse_sps(&hex("2742e014953498589c80")).unwrap();
        assert_eq!((sps.pic_order_cnt_type, sps.max_num_ref_frames), (1, 2));

        // bad/fate-suite/brokensps.h264: its VUI runs into the trailing bits (ffmpeg:
        // "Overread VUI by 2 bits"); the SPS is kept, as ffmpeg keeps it.
        let sps = parse_sps(&hex("6742001eab41827600a0c037e31c601bf18e3da1226a")).unwrap();
        assert_eq!((sps.dimensions().width(), sps.dimensions().height()), (192, 144));
        assert_eq!(sps.profile_name(), "Baseline");
        // POC type 0 here: the bitstream restriction says no reordering.
        assert_eq!(sps.num_reorder_frames(), 0);

        // cros-codecs 64x64: POC type 2 and a restriction of 0 frames.
        let mut sps = parse_sps(CB_64X64).unwrap();
        sps.vui = None;
        assert_eq!((sps.max_dec_frame_buffering(), sps.num_reorder_frames()), (16, 0));
    }

    #[test]
    fn level_and_profile_names() {
        let mut sps = parse_sps(CB_64X64).unwrap();
        sps.level_idc = 11;
        sps.constraint_flags = 0x50; // set1 + set3
        assert_eq!(sps.level_name(), "1b");
        sps.level_idc = 9;
        assert_eq!(sps.level_name(), "1b");
        sps.constraint_flags = 0;
        sps.level_idc = 51;
        assert_eq!((sps.level_name(), sps.profile_name()), ("5.1".to_string(), "Baseline"));
        sps.profile_idc = 110;
        sps.constraint_flags = 0x10;
        sps.vui = None;
        assert_eq!(sps.profile_name(), "High 10 Intra");
        assert_eq!((sps.max_dec_frame_buffering(), sps.num_reorder_frames()), (0, 0));
        sps.profile_idc = 244;
        assert_eq!(sps.profile_name(), "High 4:4:4 Intra");
        sps.constraint_flags = 0;
        assert_eq!(sps.profile_name(), "High 4:4:4 Predictive");
        sps.profile_idc = 44;
        assert_eq!(sps.profile_name(), "CAVLC 4:4:4");
        sps.profile_idc = 1;
        assert_eq!(sps.profile_name(), "unknown");
    }
}
