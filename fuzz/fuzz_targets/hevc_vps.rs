//! The HEVC VPS parser never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::hevc::parse_vps;
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        if let Ok(vps) = parse_vps(data) {
            let _ = (vps.ptl.profile_name(), vps.ptl.level_name(), vps.timing.and_then(|t| t.frame_rate()));
        }
    });
});
