//! ADTS headers on any bytes: `AdtsHeader::parse` never panics; a header that parses has
//! a frame length past its header, and its AudioSpecificConfig parses to the same rate
//! and channels wherever the header's object type is one the config can carry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::audio::{AdtsHeader, AudioSpecificConfig};
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        // Every offset, as a demuxer hunting for the sync word tries them.
        for at in 0..data.len().min(64) {
            let Ok(h) = AdtsHeader::parse(&data[at..]) else { continue };
            assert!(h.frame_len > h.header_len && (h.header_len == 7 || h.header_len == 9));
            assert_eq!(h.layout().channels, h.channels());
            let asc = h.audio_specific_config();
            assert_eq!(asc.len(), 2);
            // AAC Main, LC, SSR, LTP: a GASpecificConfig with channels from the header.
            if let Ok(c) = AudioSpecificConfig::parse(&asc) {
                assert_eq!(c.sample_rate, h.sample_rate);
                if h.channel_config != 0 {
                    assert_eq!(c.channels, h.channels());
                }
            }
        }
    });
});
