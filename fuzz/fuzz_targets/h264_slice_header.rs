//! The H.264 slice-header reader never panics. Input: a framed SPS, PPS and slice NAL
//! unit (see `video_hw_fuzz::framed`); the slice is read with that SPS and PPS.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::h264::{parse_pps, parse_slice_header, parse_sps};
use video_hw_fuzz::{bounded_allocations, framed};

fuzz_target!(|data: &[u8]| {
    let Some((sps, pps, slice)) = framed(data) else { return };
    bounded_allocations(data.len(), || {
        let Ok(sps) = parse_sps(sps) else { return };
        let Ok(pps) = parse_pps(pps, |_| Some(&sps)) else { return };
        if let Ok(sh) = parse_slice_header(slice, |_| Some((&pps, &sps))) {
            let _ = (sh.kind(), sh.is_intra(), sh.structure());
            assert!(!sh.starts_new_picture(&sh, sps.pic_order_cnt_type, sps.pic_order_cnt_type));
        }
    });
});
