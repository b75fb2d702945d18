//! Property tests: the HEVC parsers never panic, whatever the bytes.

use proptest::prelude::*;
use video_hw::bitstream::access_unit::CodecParser;
use video_hw::bitstream::hevc::{HevcParser, parse_pps, parse_slice_header, parse_sps, parse_vps};

/// Real NAL units (cros-codecs/64x64-I-P-B-P.h265) to mutate, so the parsers get deep.
const VPS: &[u8] = &[
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
    0x00, 0x3f, 0x95, 0x98, 0x09,
];
const SPS: &[u8] = &[
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0,
    0x20, 0x81, 0x05, 0x96, 0x44, 0xe4, 0x93, 0x2b, 0xff, 0xc0, 0x00, 0x40, 0x00, 0x5a, 0x83, 0x03, 0x03, 0x02, 0x00,
    0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x10,
];
const PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40];
const SLICES: [&[u8]; 3] = [
    &[0x28, 0x01, 0xaf, 0x05, 0x38, 0xc0, 0xe4, 0x11, 0x1e, 0xed, 0x95, 0x4f, 0x12, 0x34, 0x0d, 0x99],
    &[0x02, 0x01, 0xd0, 0x11, 0x57, 0x84, 0x31, 0x82, 0xb4, 0xa1, 0x23, 0xaa, 0xe5, 0x91, 0xef, 0x12],
    &[0x00, 0x01, 0xe0, 0x24, 0xbf, 0x86, 0x09, 0x70, 0xfb, 0xb8, 0xfe, 0x83, 0x6d, 0x10, 0xac, 0x11],
];

/// A real NAL unit with some bits flipped, some bytes overwritten and possibly truncated.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let bases: Vec<&'static [u8]> = vec![VPS, SPS, PPS, SLICES[0], SLICES[1], SLICES[2]];
    (
        proptest::sample::select(bases),
        proptest::collection::vec((any::<usize>(), any::<u8>(), any::<bool>()), 0..6),
        any::<usize>(),
        any::<bool>(),
    )
        .prop_map(|(base, edits, cut, truncate)| {
            let mut v = base.to_vec();
            for (pos, byte, flip) in edits {
                // Keep the 2-byte header most of the time so the payload parsers are reached.
                let i = 2 + pos % (v.len() - 2);
                if flip { v[i] ^= 1 << (byte % 8) } else { v[i] = byte }
            }
            if truncate {
                v.truncate(cut % (v.len() + 1));
            }
            v
        })
}

/// Arbitrary bytes behind a header of a chosen NAL unit type and layer.
fn with_header() -> impl Strategy<Value = Vec<u8>> {
    (0u8..64, 0u8..3, 1u8..8, proptest::collection::vec(any::<u8>(), 0..96)).prop_map(|(t, layer, tid, body)| {
        let mut v = vec![(t << 1) | (layer >> 5), (layer << 3) | tid];
        v.extend(body);
        v
    })
}

fn any_nal() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![mutated(), with_header(), proptest::collection::vec(any::<u8>(), 0..64)]
}

proptest! {
    // 2000 cases by default; PROPTEST_CASES sets more for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn parameter_set_parsers_never_panic(nal in any_nal()) {
        let _ = parse_vps(&nal);
        let _ = parse_sps(&nal);
        let _ = parse_pps(&nal);
        if let (Ok(sps), Ok(pps)) = (parse_sps(SPS), parse_pps(PPS)) {
            let _ = parse_slice_header(&nal, |_, _| Ok((&pps, &sps)));
        }
    }

    #[test]
    fn inspect_never_panics(nals in proptest::collection::vec(any_nal(), 0..24), with_real_sets in any::<bool>()) {
        let mut p = HevcParser::new();
        if with_real_sets {
            for nal in [VPS, SPS, PPS] {
                p.inspect(nal).expect("real parameter sets parse");
            }
        }
        for nal in &nals {
            if let Ok(info) = p.inspect(nal)
                && let Some(pic) = info.picture {
                    prop_assert!(pic.poc.is_some());
                }
            let _ = p.stream_info();
        }
        p.reset();
        for nal in &nals {
            let _ = p.inspect(nal);
        }
    }
}
