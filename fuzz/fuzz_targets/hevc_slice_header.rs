//! The HEVC slice-segment-header reader never panics. Input: a framed SPS, PPS and slice
//! NAL unit (see `video_hw_fuzz::framed`); the slice is read with that SPS and PPS.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::hevc::{parse_pps, parse_slice_header, parse_sps};
use video_hw_fuzz::{bounded_allocations, framed};

fuzz_target!(|data: &[u8]| {
    let Some((sps, pps, slice)) = framed(data) else { return };
    bounded_allocations(data.len(), || {
        let Ok(sps) = parse_sps(sps) else { return };
        let Ok(pps) = parse_pps(pps) else { return };
        if pps.check_against(&sps, 0).is_err() {
            return;
        }
        if let Ok(sh) = parse_slice_header(slice, |_, _| Ok((&pps, &sps))) {
            assert!(sh.slice_segment_address < sps.pic_size_in_ctbs());
        }
    });
});
