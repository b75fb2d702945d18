//! The HEVC reference tracker never panics, and what it reports is consistent: each
//! picture's references are earlier pictures, ascending. Input: an Annex-B stream; every
//! NAL unit is given as an access unit of its own, so parameter sets, slices and their
//! reference picture sets come in any order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw::bitstream::annexb::split_all;
use video_hw::bitstream::hevc::RefTracker;
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        let mut tracker = RefTracker::new();
        let mut pictures = 0;
        for nal in split_all(data) {
            match tracker.access_unit([nal]) {
                Ok(Some(p)) => {
                    assert_eq!(p.picture, pictures);
                    assert!(p.refs.windows(2).all(|w| w[0] < w[1]));
                    assert!(p.refs.iter().all(|&r| r < p.picture));
                    pictures += 1;
                }
                Ok(None) => {}
                // After an error the tracker is of no further use.
                Err(_) => return,
            }
        }
    });
});
