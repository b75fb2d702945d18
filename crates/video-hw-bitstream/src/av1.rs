//! The AV1 sequence header (AV1 spec 5.5): what a container's codec record (`av1C`, the
//! MPEG-TS AV1 video descriptor) holds, and the largest picture size and the timing a
//! demuxer reports for a stream that carries no such facts of its own (raw OBU streams,
//! MPEG-TS).
//!
//! ```
//! use video_hw::bitstream::av1::SequenceHeader;
//! // Profile 0, a reduced still-picture header at level 31, 10 and 9 bits for a 640x480
//! // picture, no tools, 8-bit 4:2:0.
//! let payload = [0x1f, 0xe6, 0x27, 0xfe, 0xf8, 0x00, 0x00];
//! let h = SequenceHeader::parse(&payload).unwrap();
//! assert_eq!((h.max_width, h.max_height, h.bit_depth()), (640, 480, 8));
//! ```

use crate::bits::Bits;
use crate::packet::leb128;
use video_hw_types::error::Result;

/// OBU type of a sequence header.
const SEQUENCE_HEADER: u8 = 1;

/// The fields of a sequence header this crate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SequenceHeader {
    /// `seq_profile` (0 main, 1 high, 2 professional).
    pub profile: u8,
    /// `seq_level_idx` of the first operating point.
    pub level: u8,
    /// `seq_tier` of the first operating point.
    pub tier: u8,
    /// `reduced_still_picture_header`.
    pub reduced_still_picture: bool,
    /// `max_frame_width_minus_1 + 1`.
    pub max_width: u32,
    /// `max_frame_height_minus_1 + 1`.
    pub max_height: u32,
    /// `high_bitdepth`.
    pub high_bitdepth: bool,
    /// `twelve_bit`.
    pub twelve_bit: bool,
    /// `mono_chrome`.
    pub mono: bool,
    /// `subsampling_x`.
    pub subsampling_x: u8,
    /// `subsampling_y`.
    pub subsampling_y: u8,
    /// `chroma_sample_position` (0 when not coded).
    pub chroma_sample_position: u8,
    /// The frame rate from `timing_info` when it says every picture lasts the same
    /// (`equal_picture_interval`): `(time_scale, num_units_in_display_tick × ticks)`.
    pub frame_rate: Option<(u32, u64)>,
}

impl SequenceHeader {
    /// 8, 10 or 12.
    pub fn bit_depth(&self) -> u8 {
        match (self.high_bitdepth, self.twelve_bit) {
            (false, _) => 8,
            (true, false) => 10,
            (true, true) => 12,
        }
    }

    /// Reads a sequence header OBU's payload up to the end of its colour configuration.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let mut r = Bits::new(payload, "AV1 sequence header");
        let mut h = SequenceHeader { profile: r.read(3, "seq_profile")? as u8, ..Self::default() };
        r.flag("still_picture")?;
        h.reduced_still_picture = r.flag("reduced_still_picture_header")?;
        if h.reduced_still_picture {
            h.level = r.read(5, "seq_level_idx")? as u8;
        } else {
            let mut buffer_delay_bits = 0;
            let mut decoder_model = false;
            if r.flag("timing_info_present_flag")? {
                let tick = r.read(32, "num_units_in_display_tick")?;
                let scale = r.read(32, "time_scale")?;
                if r.flag("equal_picture_interval")? {
                    let ticks = u64::from(r.uvlc("num_ticks_per_picture_minus_1")?) + 1;
                    let den = u64::from(tick) * ticks;
                    h.frame_rate = (scale > 0 && den > 0).then_some((scale, den));
                }
                decoder_model = r.flag("decoder_model_info_present_flag")?;
                if decoder_model {
                    buffer_delay_bits = r.read(5, "buffer_delay_length_minus_1")? + 1;
                    r.read(32, "num_units_in_decoding_tick")?;
                    r.read(10, "buffer_removal_time_length_minus_1, frame_presentation_time_length_minus_1")?;
                }
            }
            let display_delay = r.flag("initial_display_delay_present_flag")?;
            let points = r.read(5, "operating_points_cnt_minus_1")? + 1;
            for i in 0..points {
                r.read(12, "operating_point_idc")?;
                let level = r.read(5, "seq_level_idx")? as u8;
                let tier = if level > 7 { r.read(1, "seq_tier")? as u8 } else { 0 };
                if i == 0 {
                    (h.level, h.tier) = (level, tier);
                }
                if decoder_model && r.flag("decoder_model_present_for_this_op")? {
                    r.read(buffer_delay_bits, "decoder_buffer_delay")?;
                    r.read(buffer_delay_bits, "encoder_buffer_delay")?;
                    r.flag("low_delay_mode_flag")?;
                }
                if display_delay && r.flag("initial_display_delay_present_for_this_op")? {
                    r.read(4, "initial_display_delay_minus_1")?;
                }
            }
        }
        let width_bits = r.read(4, "frame_width_bits_minus_1")? + 1;
        let height_bits = r.read(4, "frame_height_bits_minus_1")? + 1;
        // Up to 16 bits each: the sums cannot overflow.
        h.max_width = r.read(width_bits, "max_frame_width_minus_1")? + 1;
        h.max_height = r.read(height_bits, "max_frame_height_minus_1")? + 1;
        if !h.reduced_still_picture && r.flag("frame_id_numbers_present_flag")? {
            r.read(7, "delta/additional frame id lengths")?;
        }
        r.read(3, "use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter")?;
        if !h.reduced_still_picture {
            r.read(4, "interintra, masked compound, warped motion, dual filter")?;
            let order_hint = r.flag("enable_order_hint")?;
            if order_hint {
                r.read(2, "enable_jnt_comp, enable_ref_frame_mvs")?;
            }
            let force_screen_content = if r.flag("seq_choose_screen_content_tools")? {
                2
            } else {
                r.read(1, "seq_force_screen_content_tools")?
            };
            if force_screen_content > 0 && !r.flag("seq_choose_integer_mv")? {
                r.read(1, "seq_force_integer_mv")?;
            }
            if order_hint {
                r.read(3, "order_hint_bits_minus_1")?;
            }
        }
        r.read(3, "enable_superres, enable_cdef, enable_restoration")?;
        h.color_config(&mut r)?;
        Ok(h)
    }

    /// `color_config()` (5.5.2): bit depth, monochrome, subsampling, sample position.
    fn color_config(&mut self, r: &mut Bits<'_>) -> Result<()> {
        self.high_bitdepth = r.flag("high_bitdepth")?;
        self.twelve_bit = self.profile == 2 && self.high_bitdepth && r.flag("twelve_bit")?;
        self.mono = self.profile != 1 && r.flag("mono_chrome")?;
        let (mut cp, mut tc, mut mc) = (2, 2, 2);
        if r.flag("color_description_present_flag")? {
            cp = r.read(8, "color_primaries")?;
            tc = r.read(8, "transfer_characteristics")?;
            mc = r.read(8, "matrix_coefficients")?;
        }
        let srgb = cp == 1 && tc == 13 && mc == 0;
        let (x, y) = if self.mono {
            r.read(1, "color_range")?;
            (1, 1)
        } else if srgb {
            (0, 0)
        } else {
            r.read(1, "color_range")?;
            match self.profile {
                0 => (1, 1),
                1 => (0, 0),
                _ if self.twelve_bit => {
                    let x = r.read(1, "subsampling_x")?;
                    let y = if x == 1 { r.read(1, "subsampling_y")? } else { 0 };
                    (x as u8, y as u8)
                }
                _ => (1, 0),
            }
        };
        (self.subsampling_x, self.subsampling_y) = (x, y);
        if !self.mono && !srgb && x == 1 && y == 1 {
            self.chroma_sample_position = r.read(2, "chroma_sample_position")? as u8;
        }
        Ok(())
    }
}

/// The first sequence header OBU of a low-overhead temporal unit, whole (header and
/// payload) with its payload's start; `None` when the unit has none before an OBU that
/// cannot be read.
pub fn sequence_header_obu(mut tu: &[u8]) -> Option<(&[u8], usize)> {
    while !tu.is_empty() {
        let header = tu[0];
        let obu_type = (header >> 3) & 0x0f;
        let mut at = 1 + usize::from(header & 0x04 != 0);
        let size = if header & 0x02 != 0 {
            let (size, len) = leb128(tu.get(at..)?)?;
            at += len;
            usize::try_from(size).ok()?
        } else {
            tu.len().checked_sub(at)?
        };
        let end = at.checked_add(size).filter(|&e| e <= tu.len())?;
        if obu_type == SEQUENCE_HEADER {
            return Some((&tu[..end], at));
        }
        tu = &tu[end..];
    }
    None
}

/// The sequence header of a low-overhead temporal unit, if it has one that reads.
pub fn sequence_header(tu: &[u8]) -> Option<SequenceHeader> {
    let (obu, at) = sequence_header_obu(tu)?;
    SequenceHeader::parse(&obu[at..]).ok()
}
