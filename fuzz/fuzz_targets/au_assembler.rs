//! Access-unit assembly never panics, gives the same access units whatever the chunking
//! of its input, and the headers-only mode (what `video-hw info` uses) finds the same
//! access units and pictures as the collecting mode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::access_unit::{AccessUnit, AccessUnitAssembler, PictureInfo};
use video_hw_fuzz::{bounded_allocations, uncounted};
use video_hw_types::Codec;

type Unit = (u64, usize, Vec<u8>, Option<PictureInfo>, bool);

fn assemble(codec: Codec, chunks: &[&[u8]], collect: bool) -> Vec<Unit> {
    let mut asm = AccessUnitAssembler::new(codec).expect("nal codec").collect_data(collect);
    let mut out = Vec::new();
    let mut take = |au: AccessUnit| {
        uncounted(|| out.push((au.offset, au.nal_count, au.data, au.picture, au.ends_sequence)));
    };
    for c in chunks {
        asm.push_annexb(c, None);
        while let Some(item) = asm.pop() {
            if let Ok(au) = item {
                take(au);
            }
        }
    }
    asm.finish();
    while let Some(item) = asm.pop() {
        if let Ok(au) = item {
            take(au);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let codec = if data[0] & 1 == 0 { Codec::H264 } else { Codec::Hevc };
    let chunk = data[1] as usize + 1;
    let stream = &data[2..];
    let chunks: Vec<&[u8]> = stream.chunks(chunk).collect();
    let whole = bounded_allocations(data.len(), || assemble(codec, &[stream], true));
    let chunked = bounded_allocations(data.len(), || assemble(codec, &chunks, true));
    assert_eq!(chunked, whole);
    let headers_only = bounded_allocations(data.len(), || assemble(codec, &chunks, false));
    assert_eq!(headers_only.len(), whole.len());
    for (h, w) in headers_only.iter().zip(&whole) {
        assert!(h.2.is_empty(), "headers-only mode copied NAL data");
        assert_eq!((h.0, h.1, h.3, h.4), (w.0, w.1, w.3, w.4));
    }
});
