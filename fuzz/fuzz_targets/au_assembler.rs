//! Access-unit assembly never panics and gives the same access units whatever the
//! chunking of its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw::Codec;
use video_hw::bitstream::access_unit::AccessUnitAssembler;

fn assemble(codec: Codec, chunks: &[&[u8]]) -> Vec<(u64, usize, Vec<u8>, bool)> {
    let mut asm = AccessUnitAssembler::new(codec).expect("nal codec");
    let mut out = Vec::new();
    for c in chunks {
        asm.push_annexb(c, None);
        while let Some(item) = asm.pop() {
            if let Ok(au) = item {
                out.push((au.offset, au.nal_count, au.data, au.picture.is_some()));
            }
        }
    }
    asm.finish();
    while let Some(item) = asm.pop() {
        if let Ok(au) = item {
            out.push((au.offset, au.nal_count, au.data, au.picture.is_some()));
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
    assert_eq!(assemble(codec, &chunks), assemble(codec, &[stream]));
});
