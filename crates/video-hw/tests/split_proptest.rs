//! Property: however a stream is cut into chunks, the splitter yields the same NAL units
//! (bytes and offsets) and the assembler the same access units (offsets, NAL counts,
//! bytes, picture facts, timestamps of chunk starts aside), on the project's fixtures.

use crate::common;

use proptest::prelude::*;
use video_hw::Codec;
use video_hw::bitstream::access_unit::AccessUnitAssembler;
use video_hw::bitstream::annexb::AnnexBSplitter;
use video_hw::bitstream::avcc::{annexb_to_length_prefixed, length_prefixed_to_annexb};

fn streams() -> Vec<(Codec, Vec<u8>)> {
    common::fixtures()
        .into_iter()
        .map(|f| (if f.codec == "h264" { Codec::H264 } else { Codec::Hevc }, std::fs::read(&f.path).unwrap()))
        .collect()
}

/// Cuts `data` at the given fractions of its length (sorted, deduplicated).
fn cut<'a>(data: &'a [u8], points: &[u32]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = points.iter().map(|&p| (p as usize * data.len()) / (u32::MAX as usize)).collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

fn nals(chunks: &[&[u8]]) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut s = AnnexBSplitter::new();
    for c in chunks {
        s.push(c, None, |n| out.push((n.data.to_vec(), n.offset))).unwrap();
    }
    s.finish(|n| out.push((n.data.to_vec(), n.offset)));
    out
}

type AuKey = (u64, usize, Vec<u8>, Option<video_hw::bitstream::access_unit::PictureInfo>);

fn access_units(codec: Codec, chunks: &[&[u8]]) -> Vec<AuKey> {
    let mut asm = AccessUnitAssembler::new(codec).unwrap();
    let mut out = Vec::new();
    let mut take = |asm: &mut AccessUnitAssembler| {
        while let Some(item) = asm.pop() {
            let au = item.expect("fixtures are clean");
            out.push((au.offset, au.nal_count, au.data, au.picture));
        }
    };
    for c in chunks {
        asm.push_annexb(c, None);
        take(&mut asm);
    }
    asm.finish();
    take(&mut asm);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_nal_units_and_access_units(
        which in 0usize..64,
        points in proptest::collection::vec(any::<u32>(), 0..40),
    ) {
        let all = streams();
        let (codec, data) = &all[which % all.len()];
        let chunks = cut(data, &points);
        prop_assert_eq!(nals(&chunks), nals(&[data]));
        prop_assert_eq!(access_units(*codec, &chunks), access_units(*codec, &[data]));
    }

    #[test]
    fn annexb_and_length_prefixed_round_trip(which in 0usize..64, length_size in prop_oneof![Just(1u8), Just(2), Just(4)]) {
        let all = streams();
        let (_, data) = &all[which % all.len()];
        match annexb_to_length_prefixed(data, length_size) {
            Ok(lp) => {
                let mut back = Vec::new();
                length_prefixed_to_annexb(&lp, length_size, &mut back).unwrap();
                prop_assert_eq!(nals(&[&back]).into_iter().map(|n| n.0).collect::<Vec<_>>(),
                                nals(&[data]).into_iter().map(|n| n.0).collect::<Vec<_>>());
            }
            // A NAL unit too long for a 1- or 2-byte length is refused, not truncated.
            Err(e) => prop_assert!(length_size < 4, "{}", e),
        }
    }
}
