//! The stream facts a decoder's configuration carries (`video_hw::config::StreamFormat`,
//! where users name it): here, below the bitstream layer that reads them from the
//! parameter sets.

/// What an engine needs to know of a stream to tell whether it can decode it: see
/// `video_hw::config::DecoderConfig::stream` (a reader takes it from the parameter sets:
/// `video_hw::bitstream::access_unit::StreamInfo::format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamFormat {
    /// 0 = 4:0:0, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4 (the H.264/HEVC `chroma_format_idc`).
    pub chroma_format_idc: u8,
    /// Luma bit depth.
    pub bit_depth: u8,
    /// Coded width in pixels.
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
}
