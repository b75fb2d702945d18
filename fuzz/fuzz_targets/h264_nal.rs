//! The H.264 parser never panics, whatever NAL units it is fed (parameter sets, slice
//! headers, SEI, in any order).
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw::bitstream::access_unit::CodecParser;
use video_hw::bitstream::h264::H264Parser;

fuzz_target!(|data: &[u8]| {
    let mut p = H264Parser::new();
    // Split on 0xff bytes so the fuzzer can build several NAL units in one input.
    for nal in data.split(|&b| b == 0xff) {
        let _ = p.inspect(nal);
        let _ = p.stream_info();
    }
});
