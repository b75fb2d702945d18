//! The OpenH264 engine across reconfigurations: a resolution change mid-stream, a new SPS
//! at the same size, an end-of-sequence NAL unit, an IDR with
//! `no_output_of_prior_pics_flag`, and a stream that starts at a recovery point instead
//! of an IDR. Every picture the stream outputs comes out, in display order, and nothing
//! is counted as dropped. (OpenH264's own reorder buffer lost the pictures it held when it
//! reallocated its picture buffers, so the engine reorders on its side, see
//! `backend/openh264/reorder.rs`; a start at a recovery point needs OpenH264 patch 0002.)

use crate::common;

use video_hw::bitstream::annexb::split_all;
use video_hw::bitstream::h264::{Pps, Sps, parse_pps, parse_sps};
use video_hw::bitstream::rbsp::{BitReader, escape, unescape};
use video_hw::media::Demuxer;
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Input, Output};

const ONLY: EnginePreference = EnginePreference::Only(Engine::OpenH264);

fn config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)
}

/// A raw H.264 fixture of `testdata/h264/`.
fn raw(name: &str) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("h264").join(name)).expect("fixture")
}

/// Decodes `stream` (Annex-B, fed in uneven chunks); returns the frames' (size, md5) and
/// the session's dropped count.
fn decode(stream: &[u8]) -> (Vec<(usize, String)>, u64) {
    let mut dec = Decoder::open(config()).unwrap();
    let mut out = Vec::new();
    for (_, piece) in common::uneven_chunks(stream, &[4093, 1, 777, 65537]) {
        dec.submit(Input::annexb(piece, None)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            out.push(common::frame_md5(&f));
        }
    }
    out.extend(dec.flush().unwrap().iter().map(common::frame_md5));
    (out, dec.stats().dropped)
}

/// Decodes the video track of a container fixture packet by packet; returns the frames
/// and the session's dropped count.
fn decode_media(name: &str) -> (Vec<video_hw::Frame>, u64) {
    let mut d = Demuxer::open(common::media(name)).unwrap();
    let track = d.video_track().unwrap();
    let (index, record) = (track.index, track.config.record().cloned());
    let mut dec = Decoder::open(config()).unwrap();
    let mut frames = Vec::new();
    let (packets, errors) = common::read_all(&mut d);
    assert!(errors.is_empty(), "{errors:?}");
    for p in packets.iter().filter(|p| p.track == index) {
        let input = match &record {
            Some(record) => Input::LengthPrefixed { sample: &p.data, record, pts: p.pts },
            None => Input::packet(&p.data, p.pts),
        };
        dec.submit(input).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    (frames, dec.stats().dropped)
}

#[test]
fn resolution_change_in_mpeg_ts_loses_no_frame() {
    // 320x240 → 160x120 → 320x240, each part an IDR with a new SPS/PPS and 2 B-frames.
    let name = "h264-reschange.ts";
    let reference = common::read_framemd5(&common::media(name).with_extension("ts.framemd5"));
    let (frames, dropped) = decode_media(name);
    assert_eq!(dropped, 0);
    assert_eq!(frames.len(), reference.len(), "frames");
    let sizes: Vec<(u32, u32)> = frames.iter().map(|f| (f.width, f.height)).collect();
    let want: Vec<(u32, u32)> =
        [(320, 240), (160, 120), (320, 240)].iter().flat_map(|&s| std::iter::repeat_n(s, 25)).collect();
    assert_eq!(sizes, want);
    let pts: Vec<i64> = frames.iter().map(|f| f.pts.unwrap()).collect();
    assert!(pts.windows(2).all(|w| w[0] < w[1]), "display order: {pts:?}");
    let md5s: Vec<String> = frames.iter().map(|f| common::frame_md5(f).1).collect();
    assert!(md5s.iter().zip(&reference).all(|(g, r)| *g == r.md5), "frames differ from the reference");
}

#[test]
fn a_stream_cut_before_its_first_idr_starts_at_the_recovery_point() {
    // h264-noidr.ts starts at a non-IDR I picture with a recovery point SEI (access unit
    // 21 of h264-opengop.mkv); the reference decoder shows 75 frames, the recovery point
    // and what follows it but not its 4 leading B-pictures: frames 25-99 of the open-GOP
    // file, decoded from its start.
    let (cut, dropped) = decode_media("h264-noidr.ts");
    let (whole, _) = decode_media("h264-opengop.mkv");
    assert_eq!(dropped, 0, "a clean start is no damage");
    assert_eq!(cut.len(), 75);
    let md5s = |f: &[video_hw::Frame]| f.iter().map(|f| common::frame_md5(f).1).collect::<Vec<_>>();
    assert_eq!(md5s(&cut), md5s(&whole[25..]));
    let reference = common::read_framemd5(&common::media("h264-noidr.ts.framemd5"));
    assert_eq!(md5s(&cut), reference.into_iter().map(|r| r.md5).collect::<Vec<_>>(), "against the reference");
}

/// An end-of-sequence NAL unit.
const END_OF_SEQUENCE: [u8; 5] = [0, 0, 0, 1, 0x0a];

#[test]
fn new_sps_end_of_sequence_and_size_change_in_raw_streams() {
    // Two 320x240 streams with B-frames and different SPS (High with an IDR every 12
    // frames / Main), a 318x178 one with B-frames and a Constrained Baseline one: each
    // decoded alone, then spliced.
    let a = raw("gop12-idr-cars-320x240.h264");
    let b = raw("main-cabac-bframes-testsrc2-320x240.h264");
    let c = raw("crop-318x178-cars.h264");
    let p = raw("cbp-cavlc-cars-320x240.h264");
    let eos: &[u8] = &END_OF_SEQUENCE;
    let cases: [(&str, Vec<&[u8]>); 4] = [
        ("new SPS, same size", vec![&a, &b]),
        ("end of sequence between and at the end", vec![&a, eos, &b, eos]),
        ("size change both ways", vec![&c, &a, &c]),
        ("B-frames to P-only and back", vec![&b, &p, &b]),
    ];
    for (what, parts) in cases {
        let (got, dropped) = decode(&parts.concat());
        let want: Vec<(usize, String)> =
            parts.iter().filter(|s| s.len() > eos.len()).flat_map(|s| decode(s).0).collect();
        assert_eq!(dropped, 0, "{what}");
        assert_eq!(got.len(), want.len(), "{what}: frames");
        assert!(got == want, "{what}: frames differ from the parts decoded alone");
    }
}

#[test]
fn idr_with_no_output_of_prior_pics_still_outputs_them() {
    // The reference decoder (ffmpeg) reads past no_output_of_prior_pics_flag and outputs
    // the earlier pictures; so does the engine.
    let a = raw("gop12-idr-cars-320x240.h264");
    let b = set_no_output_of_prior_pics(&raw("main-cabac-bframes-testsrc2-320x240.h264"));
    let (got, dropped) = decode(&[a.as_slice(), &b].concat());
    let mut want = decode(&a).0;
    want.extend(decode(&b).0);
    assert_eq!(dropped, 0);
    assert_eq!(got.len(), 78);
    assert!(got == want, "frames differ from the parts decoded alone");
}

/// `stream` with `no_output_of_prior_pics_flag` set in its first IDR picture's slices.
fn set_no_output_of_prior_pics(stream: &[u8]) -> Vec<u8> {
    let (mut sps, mut pps): (Option<Sps>, Option<Pps>) = (None, None);
    let mut out = Vec::new();
    let mut done = false;
    for nal in split_all(stream) {
        let mut nal = nal.to_vec();
        match nal[0] & 0x1f {
            7 => sps = Some(parse_sps(&nal).unwrap()),
            8 => pps = Some(parse_pps(&nal, |_| sps.as_ref()).unwrap()),
            5 if !done => {
                let mut rbsp = unescape(&nal).into_owned();
                let bit = flag_bit(&rbsp, sps.as_ref().unwrap(), pps.as_ref().unwrap());
                rbsp[bit / 8] |= 0x80 >> (bit % 8);
                nal = escape(&rbsp);
            }
            1 => done = true,
            _ => {}
        }
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&nal);
    }
    out
}

/// Bit position of `no_output_of_prior_pics_flag` in an IDR I-slice's RBSP (7.3.3).
fn flag_bit(rbsp: &[u8], sps: &Sps, pps: &Pps) -> usize {
    let mut r = BitReader::new(rbsp);
    r.skip(8, "nal header").unwrap();
    r.ue("first_mb_in_slice").unwrap();
    let slice_type = r.ue("slice_type").unwrap();
    assert_eq!(slice_type % 5, 2, "an I slice");
    r.ue("pps_id").unwrap();
    assert!(sps.frame_mbs_only && !sps.separate_colour_plane);
    r.skip(sps.log2_max_frame_num as u64, "frame_num").unwrap();
    r.ue("idr_pic_id").unwrap();
    if sps.pic_order_cnt_type == 0 {
        r.skip(sps.log2_max_pic_order_cnt_lsb as u64, "pic_order_cnt_lsb").unwrap();
        if pps.bottom_field_pic_order_in_frame_present {
            r.se("delta_pic_order_cnt_bottom").unwrap();
        }
    }
    assert!(sps.pic_order_cnt_type != 1 && !pps.redundant_pic_cnt_present);
    r.bit_position() as usize
}
