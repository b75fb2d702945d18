//! avcC/hvcC parsing and length-prefixed sample reading never panic; a record that
//! parses writes back to one that parses to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::avcc::{DecoderConfigRecord, LengthPrefixedNals, length_prefixed_to_annexb};
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    bounded_allocations(data.len(), || {
        if let Ok(rec) = DecoderConfigRecord::parse_avcc(data)
            && let Ok(bytes) = rec.to_avcc()
        {
            let again = DecoderConfigRecord::parse_avcc(&bytes).expect("written avcC parses");
            assert_eq!(again.length_size, rec.length_size);
        }
        if let Ok(rec) = DecoderConfigRecord::parse_hvcc(data) {
            let _ = rec.to_hvcc();
        }
        for ls in [1u8, 2, 4] {
            for nal in LengthPrefixedNals::new(data, ls) {
                let _ = nal;
            }
            let mut out = Vec::new();
            let _ = length_prefixed_to_annexb(data, ls, &mut out);
            assert!(out.len() <= data.len() * 4 + 16, "output bounded by a small multiple of the input");
        }
    });
});
