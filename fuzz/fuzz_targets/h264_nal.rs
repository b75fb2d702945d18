//! The H.264 parser never panics, whatever NAL units it is fed (parameter sets, slice
//! headers, SEI, in any order). Input: an Annex-B stream (real streams are seeds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::access_unit::CodecParser;
use video_hw_bitstream::annexb::split_all;
use video_hw_bitstream::h264::H264Parser;
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        let mut p = H264Parser::new();
        for nal in split_all(data) {
            let _ = p.inspect(nal);
            let _ = p.stream_info();
        }
    });
});
