//! The HEVC PPS parser never panics, nor does checking a parsed PPS against real SPSs
//! (Main, Main 10, Main 4:4:4).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::hevc::{Sps, parse_pps, parse_sps};
use video_hw_fuzz::{HEVC_SPS, bounded_allocations, hex};

static SPS: LazyLock<Vec<Sps>> =
    LazyLock::new(|| HEVC_SPS.iter().map(|h| parse_sps(&hex(h)).expect("preloaded SPS parses")).collect());

fuzz_target!(|data: &[u8]| {
    let table = &*SPS;
    bounded_allocations(data.len(), || {
        if let Ok(pps) = parse_pps(data) {
            for sps in table {
                let mut sps = sps.clone();
                sps.id = pps.sps_id;
                let _ = pps.check_against(&sps, 0);
            }
        }
    });
});
