//! Any split of a byte stream gives the same NAL units (content and offsets) as the
//! whole stream fed at once, also when the splitter is paused and resumed, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_bitstream::annexb::{AnnexBSplitter, split_all};
use video_hw_fuzz::{bounded_allocations, uncounted};

fn split(chunks: &[&[u8]]) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut s = AnnexBSplitter::new();
    for c in chunks {
        s.push(c, None, |n| uncounted(|| out.push((n.data.to_vec(), n.offset)))).expect("no size cap reached");
    }
    s.finish(|n| uncounted(|| out.push((n.data.to_vec(), n.offset))));
    out
}

/// The whole stream, pausing after every NAL unit whose first byte is odd.
fn split_pausing(stream: &[u8]) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut s = AnnexBSplitter::new();
    let mut rest = stream;
    loop {
        let (result, taken) = s.push_until(rest, None, |n| {
            uncounted(|| out.push((n.data.to_vec(), n.offset)));
            n.data[0] & 1 == 0
        });
        result.expect("no size cap reached");
        assert!(taken > 0 || rest.is_empty(), "no progress");
        rest = &rest[taken..];
        if rest.is_empty() {
            break;
        }
    }
    s.finish(|n| uncounted(|| out.push((n.data.to_vec(), n.offset))));
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    // The first two bytes choose the chunk sizes (1..=256), the rest is the stream.
    let (a, b) = (data[0] as usize + 1, data[1] as usize + 1);
    let stream = &data[2..];
    let mut chunks = Vec::new();
    let mut pos = 0;
    let mut turn = 0;
    while pos < stream.len() {
        let n = if turn % 2 == 0 { a } else { b }.min(stream.len() - pos);
        chunks.push(&stream[pos..pos + n]);
        pos += n;
        turn += 1;
    }
    let whole = bounded_allocations(data.len(), || split(&[stream]));
    assert_eq!(bounded_allocations(data.len(), || split(&chunks)), whole);
    assert_eq!(bounded_allocations(data.len(), || split_pausing(stream)), whole);
    let all = bounded_allocations(data.len(), || split_all(stream));
    assert!(all.iter().map(|n| n.to_vec()).eq(whole.into_iter().map(|x| x.0)));
});
