//! The H.264 PPS parser never panics, with a real SPS preloaded (Constrained Baseline,
//! High, High 10 or High 4:4:4, chosen by the PPS's `seq_parameter_set_id`) or none.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::h264::{Sps, parse_pps, parse_sps};
use video_hw_fuzz::{H264_SPS, bounded_allocations, hex};

static SPS: LazyLock<Vec<Sps>> =
    LazyLock::new(|| H264_SPS.iter().map(|h| parse_sps(&hex(h)).expect("preloaded SPS parses")).collect());

fuzz_target!(|data: &[u8]| {
    let table = &*SPS;
    bounded_allocations(data.len(), || {
        let with = parse_pps(data, |id| table.get(id as usize % table.len()));
        let without = parse_pps(data, |_| None);
        // Without the SPS only the scaling lists and what follows them can be missing.
        if let Ok(p) = &with {
            let q = without.as_ref().expect("a PPS that parses with its SPS parses without it");
            assert_eq!(
                (p.pps_id, p.sps_id, p.num_ref_idx_l0_default_active),
                (q.pps_id, q.sps_id, q.num_ref_idx_l0_default_active)
            );
        }
    });
});
