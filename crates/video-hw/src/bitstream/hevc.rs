//! HEVC parameter sets (VPS, SPS, PPS), slice-header essentials and picture-boundary detection.

use super::access_unit::{CodecParser, NalInfo, StreamInfo};
use crate::codec::Codec;
use crate::error::Result;

/// Tracks HEVC parameter sets (VPS, SPS, PPS) and finds where each primary coded picture starts.
#[derive(Debug, Default)]
pub struct HevcParser {}

impl HevcParser {
    /// A parser with no parameter sets yet.
    pub fn new() -> Self {
        HevcParser {}
    }
}

impl CodecParser for HevcParser {
    fn codec(&self) -> Codec {
        Codec::Hevc
    }
    fn inspect(&mut self, _nal: &[u8]) -> Result<NalInfo> {
        todo!("HEVC parser")
    }
    fn stream_info(&self) -> Option<StreamInfo> {
        None
    }
    fn reset(&mut self) {}
}
