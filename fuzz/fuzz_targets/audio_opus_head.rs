//! OpusHead on any bytes (with and without the magic in front): `parse` never panics; a
//! header that parses has a mapping per channel into the decoded channels, writes back
//! to itself, and names its layout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::audio::OpusHead;
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len() + 8, || {
        let mut with_magic = b"OpusHead".to_vec();
        with_magic.extend_from_slice(data);
        for input in [data, &with_magic[..]] {
            let Ok(h) = OpusHead::parse(input) else { continue };
            assert_eq!(h.mapping.len(), usize::from(h.channels));
            let decoded = u16::from(h.streams) + u16::from(h.coupled);
            assert!(h.mapping.iter().all(|&m| m == 255 || u16::from(m) < decoded));
            assert_eq!(OpusHead::parse(&h.to_bytes()).ok().as_ref(), Some(&h));
            assert_eq!(h.layout().channels, h.channels);
            let _ = h.layout().name();
        }
    });
});
