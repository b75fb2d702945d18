//! The H.264 reference tracker never panics, and what it reports is consistent: each
//! picture's references are earlier pictures, ascending. Input: an Annex-B stream; every
//! NAL unit is given as an access unit of its own, so parameter sets, slices and their
//! reference marking come in any order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::h264::RefTracker;
use video_hw_fuzz::{bounded_allocations, check_ref_tracker};

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        let mut tracker = RefTracker::new();
        check_ref_tracker(data, |nal| tracker.access_unit([nal]));
    });
});
