//! The H.264 readers never panic, whatever bytes they are given.

use proptest::collection::vec;
use proptest::prelude::*;
use video_hw::bitstream::access_unit::CodecParser;
use video_hw::bitstream::h264::{H264Parser, parse_pps, parse_slice_header, parse_sps};

/// Real parameter sets (x264 progressive, x264 MBAFF, JM POC type 1) so that random slice
/// bodies get past the PPS lookup and exercise the deeper slice-header paths.
const PARAMETER_SETS: &[&[u8]] = &[
    &[
        0x67, 0x42, 0xc0, 0x15, 0xd9, 0x04, 0x26, 0xc0, 0x5a, 0x83, 0x03, 0x03, 0x52, 0x80, 0x00, 0x00, 0x03, 0x00,
        0x80, 0x00, 0x00, 0x1e, 0x47, 0x8b, 0x17, 0x24,
    ],
    &[0x68, 0xcb, 0x8c, 0xb2],
    &[
        0x67, 0x64, 0x00, 0x15, 0xac, 0xd9, 0x41, 0x41, 0x0f, 0xcb, 0x35, 0x06, 0x01, 0x06, 0xb7, 0x00, 0x00, 0x03,
        0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x1f, 0x14, 0x29, 0x96,
    ],
    &[0x68, 0xfb, 0xa3, 0xcb, 0x22, 0xc0],
    &[0x27, 0x42, 0xe0, 0x14, 0x95, 0x34, 0x98, 0x58, 0x9c, 0x80],
    &[0x28, 0xca, 0x40, 0xb8, 0x80],
];

/// NAL header bytes of every interesting type and reference level.
fn header() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(0x65u8),
        Just(0x25),
        Just(0x41),
        Just(0x21),
        Just(0x01),
        Just(0x02),
        Just(0x03),
        Just(0x06),
        Just(0x67),
        Just(0x68),
        Just(0x09),
        Just(0x0a),
        Just(0x0b),
        Just(0x0c),
        Just(0x0d),
        Just(0x0e),
        Just(0x0f),
        Just(0x14),
        Just(0x15),
        any::<u8>(),
    ]
}

fn nal() -> impl Strategy<Value = Vec<u8>> {
    (header(), vec(any::<u8>(), 0..40)).prop_map(|(h, mut body)| {
        body.insert(0, h);
        body
    })
}

/// A real parameter set with a few bits flipped.
fn damaged_parameter_set() -> impl Strategy<Value = Vec<u8>> {
    (0..PARAMETER_SETS.len(), vec((any::<usize>(), 0u8..8), 0..4)).prop_map(|(i, flips)| {
        let mut p = PARAMETER_SETS[i].to_vec();
        for (pos, bit) in flips {
            let pos = 1 + pos % (p.len() - 1);
            p[pos] ^= 1 << bit;
        }
        p
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn parse_sps_never_panics(body in vec(any::<u8>(), 0..80), damaged in damaged_parameter_set()) {
        let mut nal = vec![0x67];
        nal.extend(body);
        let _ = parse_sps(&nal);
        if let Ok(sps) = parse_sps(&damaged) {
            let _ = sps.stream_info();
            let _ = sps.frame_rate();
        }
    }

    #[test]
    fn parse_pps_never_panics(body in vec(any::<u8>(), 0..80), damaged in damaged_parameter_set()) {
        let sps = parse_sps(PARAMETER_SETS[2]).unwrap();
        let mut nal = vec![0x68];
        nal.extend(body);
        let _ = parse_pps(&nal, |_| None);
        let _ = parse_pps(&nal, |_| Some(&sps));
        let _ = parse_pps(&damaged, |_| Some(&sps));
    }

    #[test]
    fn parse_slice_header_never_panics(body in vec(any::<u8>(), 0..40), h in header()) {
        let sps = parse_sps(PARAMETER_SETS[2]).unwrap();
        let pps = parse_pps(PARAMETER_SETS[3], |_| Some(&sps)).unwrap();
        let mut nal = vec![h];
        nal.extend(body);
        let _ = parse_slice_header(&nal, |_| Some((&pps, &sps)));
    }

    #[test]
    fn inspect_never_panics(
        prefix in vec(damaged_parameter_set(), 0..4),
        nals in vec(nal(), 0..48),
        set in 0..3usize,
    ) {
        let mut p = H264Parser::new();
        let _ = p.inspect(PARAMETER_SETS[2 * set]);
        let _ = p.inspect(PARAMETER_SETS[2 * set + 1]);
        for n in prefix.iter().chain(&nals) {
            let _ = p.inspect(n);
        }
        let _ = p.stream_info();
        p.reset();
        for n in &nals {
            let _ = p.inspect(n);
        }
    }
}
