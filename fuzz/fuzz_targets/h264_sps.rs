//! The H.264 SPS parser never panics, and everything derived from a parsed SPS (stream
//! facts, sizes, DPB needs) is computed without overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::h264::parse_sps;
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        if let Ok(sps) = parse_sps(data) {
            let info = sps.stream_info();
            assert!(info.dimensions.coded_width > 0 && info.dimensions.coded_height > 0);
            let _ = (sps.frame_size_in_mbs(), sps.max_dpb_frames(), sps.max_frame_num(), sps.chroma_array_type());
        }
    });
});
