//! Cutting a stream into independently decodable segments never panics, covers the whole
//! stream with segments in order and without gaps, starts every later segment at a start
//! code, counts every picture once, and allocates only in proportion to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::segments::split_at_random_access;
use video_hw_fuzz::bounded_allocations;
use video_hw_types::Codec;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let codec = if data[0] & 1 == 0 { Codec::H264 } else { Codec::Hevc };
    let min_pictures = usize::from(data[1] % 8);
    let stream = &data[2..];
    let segments =
        bounded_allocations(data.len(), || split_at_random_access(stream, codec, min_pictures)).expect("nal codec");
    assert!(!segments.is_empty());
    assert_eq!(segments[0].range.start, 0);
    assert!(segments[0].prefix.is_empty());
    assert_eq!(segments.last().map(|s| s.range.end), Some(stream.len()));
    for pair in segments.windows(2) {
        assert_eq!(pair[0].range.end, pair[1].range.start);
        assert!(pair[0].range.start < pair[0].range.end, "empty segment");
        assert!(
            stream[pair[1].range.start..].starts_with(&[0, 0, 1])
                || stream[pair[1].range.start..].starts_with(&[0, 0, 0, 1])
        );
    }
    // Without a cut, every picture is in the one segment; with cuts, none is lost.
    let whole =
        bounded_allocations(data.len(), || split_at_random_access(stream, codec, usize::MAX)).expect("nal codec");
    assert_eq!(whole.len(), 1);
    assert_eq!(segments.iter().map(|s| s.pictures).sum::<usize>(), whole[0].pictures);
});
