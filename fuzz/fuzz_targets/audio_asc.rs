//! AudioSpecificConfig on any bytes: `parse` never panics; a config that parses has a
//! layout of its own channel count, and what `to_bytes` writes parses again to the same
//! object type, rates, channels, frame length and SBR/PS flags.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::audio::AudioSpecificConfig;
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        let Ok(c) = AudioSpecificConfig::parse(data) else { return };
        assert_eq!(c.layout.channels, c.channels);
        let bytes = c.to_bytes();
        let again = AudioSpecificConfig::parse(&bytes).expect("a written config parses");
        assert_eq!(again.object_type, c.object_type, "{c:?} {bytes:02x?}");
        assert_eq!((again.sample_rate & 0xff_ffff, again.output_rate & 0xff_ffff), (c.sample_rate, c.output_rate));
        assert_eq!((again.sbr, again.ps), (c.sbr, c.ps));
        // A PCE's channels come back as front elements (its layout may not).
        assert_eq!(again.channels, c.channels.min(30));
        let _ = c.layout.name();
    });
});
