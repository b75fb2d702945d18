//! The HEVC SPS parser never panics, and everything derived from a parsed SPS (stream
//! facts, CTB counts, crop) is computed without overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::hevc::parse_sps;
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        if let Ok(sps) = parse_sps(data) {
            let info = sps.stream_info(None);
            assert!(info.dimensions.coded_width > 0 && info.dimensions.coded_height > 0);
            let _ = (sps.pic_size_in_ctbs(), sps.conformance_crop(), sps.vui.as_ref().map(|v| v.sample_aspect_ratio()));
            for rps in &sps.short_term_ref_pic_sets {
                let _ = (rps.num_delta_pocs(), rps.s0().count(), rps.s1().count());
            }
        }
    });
});
