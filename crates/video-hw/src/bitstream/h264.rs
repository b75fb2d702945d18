//! H.264 parameter sets, slice-header essentials and picture-boundary detection.

use super::access_unit::{CodecParser, NalInfo, StreamInfo};
use crate::codec::Codec;
use crate::error::Result;

/// Tracks H.264 parameter sets and finds where each primary coded picture starts.
#[derive(Debug, Default)]
pub struct H264Parser {}

impl H264Parser {
    /// A parser with no parameter sets yet.
    pub fn new() -> Self {
        H264Parser {}
    }
}

impl CodecParser for H264Parser {
    fn codec(&self) -> Codec {
        Codec::H264
    }
    fn inspect(&mut self, _nal: &[u8]) -> Result<NalInfo> {
        todo!("H.264 parser")
    }
    fn stream_info(&self) -> Option<StreamInfo> {
        None
    }
    fn reset(&mut self) {}
}
