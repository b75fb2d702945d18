//! The built-in AV1 decoder (rav1d) through the public [`Decoder`] API, with no FFmpeg
//! needed: every AV1 IVF fixture under `testdata/av1/` (and the conformance vectors under
//! `testdata/av1/conformance/`) decodes bit-exact against its libdav1d reference, with
//! the exact frame count, each packet's timestamp and key-frame flag; in every output
//! format, on one thread and several, in low-latency mode, and again after a flush.
//! Damaged packets give typed errors and the frames before the damage.

use crate::common;

use std::path::{Path, PathBuf};

use common::XorShift;
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Error, Frame, Input, Output, PixelFormat};

fn rav1d(output: Output) -> DecoderConfig {
    DecoderConfig::new(Codec::Av1).output(output).engine(EnginePreference::Only(Engine::Rav1d))
}

/// Every frame of `packets` decoded by `dec`, in output order.
fn decode_all(dec: &mut Decoder, packets: &[(i64, Vec<u8>)]) -> Vec<Frame> {
    let mut frames = Vec::new();
    for (pts, data) in packets {
        dec.submit(Input::packet(data, *pts)).unwrap_or_else(|e| panic!("packet pts {pts}: {e}"));
        while let Some(f) = dec.try_reap().expect("reap") {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().expect("flush"));
    frames
}

/// The AV1 IVF fixtures with a planar reference decode beside them.
fn ivf_fixtures() -> Vec<PathBuf> {
    let dir = common::fixtures_dir().join("av1");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ivf") && reference(p, "yuv").exists())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no AV1 fixtures in {}", dir.display());
    out
}

fn reference(path: &Path, tag: &str) -> PathBuf {
    path.with_file_name(format!("{}.{tag}.framemd5", path.file_name().unwrap().to_string_lossy()))
}

fn md5s(frames: &[Frame]) -> Vec<(usize, String)> {
    frames.iter().map(common::frame_md5).collect()
}

fn want(path: &Path) -> Vec<(usize, String)> {
    common::read_framemd5(path).into_iter().map(|r| (r.size, r.md5)).collect()
}

#[test]
fn every_av1_fixture_decodes_bit_exact_with_rav1d() {
    for path in ivf_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (fourcc, packets) = common::read_ivf(&path);
        assert_eq!(&fourcc, b"AV01", "{name}");
        // 8-bit fixtures have an NV12 reference, 10-bit ones a P010 reference.
        let semi =
            ["nv12", "p010"].into_iter().find(|t| reference(&path, t).exists()).expect("a semi-planar reference");
        for (format, tag) in [(PixelFormat::Yuv420p, "yuv"), (PixelFormat::Nv12, semi)] {
            let mut dec = Decoder::open(rav1d(Output::Host(format))).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(dec.engine(), Engine::Rav1d);
            let frames = decode_all(&mut dec, &packets);
            let expected = want(&reference(&path, tag));
            assert_eq!(frames.len(), expected.len(), "{name} {tag}: frame count");
            assert_eq!(md5s(&frames), expected, "{name} {tag}: frames differ from the libdav1d reference");
            let stats = dec.stats();
            assert_eq!(stats.frames_out as usize, expected.len(), "{name}: {stats:?}");
            assert_eq!(stats.dropped, 0, "{name}: {stats:?}");
        }
    }
}

#[test]
fn timestamps_key_frames_and_restart_after_flush() {
    let path = common::fixtures_dir().join("av1/svtav1-cars-320x240.ivf");
    let (_, packets) = common::read_ivf(&path);
    let expected = want(&reference(&path, "yuv"));
    let mut dec = Decoder::open(rav1d(Output::HOST_YUV420P)).unwrap();
    assert!(dec.backend().contains("rav1d"), "{}", dec.backend());
    for round in 0..2 {
        let frames = decode_all(&mut dec, &packets);
        assert_eq!(md5s(&frames), expected, "round {round}");
        // Display order is packet order: each frame carries its packet's pts.
        let pts: Vec<Option<i64>> = frames.iter().map(|f| f.pts).collect();
        assert_eq!(pts, packets.iter().map(|p| Some(p.0)).collect::<Vec<_>>());
        let keys: Vec<usize> = frames.iter().enumerate().filter(|(_, f)| f.keyframe).map(|(i, _)| i).collect();
        assert_eq!(keys, [0, 8], "key frames (-g 8)");
        assert!(frames.iter().all(|f| (f.width, f.height) == (320, 240)));
    }
}

#[test]
fn threads_low_latency_metadata_and_rgb() {
    let path = common::fixtures_dir().join("av1/svtav1-cars-320x240.ivf");
    let (_, packets) = common::read_ivf(&path);
    let expected = want(&reference(&path, "yuv"));
    for config in [
        rav1d(Output::HOST_YUV420P).threads(1),
        rav1d(Output::HOST_YUV420P).threads(4),
        rav1d(Output::HOST_YUV420P).low_latency(true),
    ] {
        let mut dec = Decoder::open(config.clone()).unwrap();
        assert_eq!(md5s(&decode_all(&mut dec, &packets)), expected, "{config:?}");
    }
    // Low latency: each packet's picture comes out with the packet.
    let mut dec = Decoder::open(rav1d(Output::HOST_YUV420P).low_latency(true)).unwrap();
    for (pts, data) in &packets {
        dec.submit(Input::packet(data, *pts)).unwrap();
        assert!(dec.try_reap().unwrap().is_some(), "pts {pts}: no picture at once in low-latency mode");
    }
    let mut dec = Decoder::open(rav1d(Output::Metadata)).unwrap();
    let frames = decode_all(&mut dec, &packets);
    assert_eq!(frames.len(), expected.len());
    assert!(frames.iter().all(|f| f.host_data().is_none() && f.format == PixelFormat::Yuv420p));
    let mut dec = Decoder::open(rav1d(Output::HOST_RGB24)).unwrap();
    let frames = decode_all(&mut dec, &packets);
    assert!(frames.iter().all(|f| f.format == PixelFormat::Rgb24 && f.host_data().is_some()));
}

#[test]
fn cuda_output_is_uploaded_where_cuda_is_and_other_codecs_are_refused() {
    // rav1d named with CUDA output: its frames uploaded to the GPU, or, without CUDA, refused
    // saying so.
    match Decoder::open(rav1d(Output::CUDA_NV12)) {
        Ok(d) => assert!(d.backend().contains("uploaded to GPU"), "{}", d.backend()),
        Err(e) => assert!(matches!(e, video_hw::Error::Unsupported { .. }) && e.to_string().contains("CUDA"), "{e}"),
    }
    let config = DecoderConfig::new(Codec::Hevc).engine(EnginePreference::Only(Engine::Rav1d));
    assert!(Decoder::open(config).is_err());
}

#[test]
fn damaged_packets_give_typed_errors_and_the_frames_before() {
    let path = common::fixtures_dir().join("av1/svtav1-cars-320x240.ivf");
    let (_, packets) = common::read_ivf(&path);
    let expected = want(&reference(&path, "yuv"));
    let mut total_errors = 0;
    for seed in 1..=24u64 {
        let mut rng = XorShift(0x51ed_270b_2a9f_3c11 ^ seed);
        let mut damaged = packets.clone();
        // Damage one packet after the first, so the frames before it are known.
        let at = 1 + rng.below(damaged.len() - 1);
        let p = &mut damaged[at].1;
        match seed % 3 {
            // (An empty packet is no packet: the session skips it.)
            0 => p.truncate(1 + rng.below(p.len() - 1)),
            1 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(p.len());
                    p[i] ^= 1 << rng.below(8);
                }
            }
            _ => {
                let i = rng.below(p.len());
                let end = (i + 1 + rng.below(64)).min(p.len());
                p[i..end].iter_mut().for_each(|b| *b = rng.next() as u8);
            }
        }
        let mut dec = Decoder::open(rav1d(Output::HOST_YUV420P).threads(2)).unwrap();
        let mut errors = 0;
        let mut frames = Vec::new();
        for (pts, data) in &damaged {
            match dec.submit(Input::packet(data, *pts)) {
                Ok(()) => {}
                Err(Error::InvalidBitstream { .. }) => errors += 1,
                Err(e) => panic!("seed {seed}: not a bitstream error: {e}"),
            }
            while let Some(f) = dec.try_reap().expect("reap") {
                frames.push(f);
            }
        }
        match dec.flush() {
            Ok(f) => frames.extend(f),
            Err(Error::InvalidBitstream { .. }) => errors += 1,
            Err(e) => panic!("seed {seed}: flush: {e}"),
        }
        assert!(frames.len() <= packets.len(), "seed {seed}: {} frames", frames.len());
        // The frames before the damaged packet are the reference's.
        let before: Vec<(usize, String)> = md5s(&frames).into_iter().take(at).collect();
        assert_eq!(before, expected[..at.min(frames.len())], "seed {seed}: frames before the damage at {at}");
        // A frame missing is reported: returned by a call, or (found at the end of the
        // stream, with frames to return) counted in the session's dropped parts.
        if frames.len() < packets.len() {
            let dropped = dec.stats().dropped;
            assert!(
                errors > 0 || dropped > 0,
                "seed {seed}: {} frames of {} and no error",
                frames.len(),
                packets.len()
            );
        }
        total_errors += errors;
        // The session recovers: the clean stream decodes completely afterwards.
        assert_eq!(md5s(&decode_all(&mut dec, &packets)), expected, "seed {seed}: after the damage");
    }
    eprintln!("damaged runs: {total_errors} bitstream errors reported");
    assert!(total_errors > 0, "no mutation was reported as damage");
}

#[test]
fn garbage_and_empty_packets() {
    let mut dec = Decoder::open(rav1d(Output::HOST_YUV420P)).unwrap();
    let mut rng = XorShift(7);
    let mut errors = 0;
    for i in 0..200 {
        let len = rng.below(300);
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        match dec.submit(Input::packet(&data, i)) {
            Ok(()) => {}
            Err(Error::InvalidBitstream { .. }) => errors += 1,
            // Garbage that parses as a 4:4:4 or 12-bit key frame.
            Err(Error::Unsupported { what, .. }) if what.contains("with rav1d") => errors += 1,
            Err(e) => panic!("packet {i}: not a bitstream error: {e}"),
        }
        while dec.try_reap().unwrap().is_some() {}
    }
    match dec.flush() {
        Ok(_) | Err(Error::InvalidBitstream { .. }) => {}
        // A picture in flight at the end may be such a key frame too.
        Err(Error::Unsupported { what, .. }) if what.contains("with rav1d") => {}
        Err(e) => panic!("flush: {e}"),
    }
    assert!(errors > 0);
    dec.submit(Input::packet(&[], 0)).unwrap();
}

/// The libaom test vectors of `testdata/av1/conformance/`, each with the md5 libaom
/// publishes for every output frame (planar, 16-bit little-endian samples above 8 bits,
/// film grain applied; operating point 0, its highest spatial layer).
#[test]
fn conformance_vectors_match_their_published_md5s() {
    let dir = common::fixtures_dir().join("av1/conformance");
    let mut checked = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ivf"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // sizeup/sizedown are published as .mkv; the IVF holds the same packets.
        let md5_path = [format!("{name}.md5"), name.replace(".ivf", ".mkv.md5")]
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{name}: no md5 file"));
        let published: Vec<String> = std::fs::read_to_string(&md5_path)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect();
        let (_, packets) = common::read_ivf(&path);
        let mut dec = Decoder::open(rav1d(Output::HOST_YUV420P)).unwrap();
        let frames = decode_all(&mut dec, &packets);
        let got: Vec<String> = frames.iter().map(|f| common::frame_md5(f).1).collect();
        assert_eq!(got.len(), published.len(), "{name}: frame count");
        assert_eq!(got, published, "{name}: frames differ from libaom's md5s");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} conformance vectors found in {}", dir.display());
}

#[test]
fn film_grain_is_applied_unless_turned_off() {
    let path = common::fixtures_dir().join("av1/svtav1-filmgrain-cars-320x240.ivf");
    let (_, packets) = common::read_ivf(&path);
    for (grain, tag) in [(true, "yuv"), (false, "nograin.yuv")] {
        let mut dec = Decoder::open(rav1d(Output::HOST_YUV420P).film_grain(grain)).unwrap();
        assert_eq!(dec.backend().contains("film grain off"), !grain, "{}", dec.backend());
        let frames = decode_all(&mut dec, &packets);
        assert_eq!(md5s(&frames), want(&reference(&path, tag)), "film grain {grain}");
    }
    // The two references differ in every frame: the grain is really there.
    let (a, b) = (want(&reference(&path, "yuv")), want(&reference(&path, "nograin.yuv")));
    assert!(a.iter().zip(&b).all(|(x, y)| x != y));
}

#[test]
fn key_frames_of_every_kind_of_stream() {
    let td = common::fixtures_dir().join("av1");
    // (fixture, frames that are key frames in display order).
    let cases: [(&str, &[usize]); 4] = [
        ("libaom-kf8-cars-320x240.ivf", &[0, 8, 16]),
        ("svtav1-reschange-320x240-240x180-cars.ivf", &[0, 12]),
        // Forward key frames (hidden, shown later by show_existing_frame) are not random
        // access points here: decoding cannot start at the unit that shows them.
        ("aomenc-fwdkf-cars-320x240.ivf", &[0]),
        // S-frames are not key frames.
        ("svtav1-sframe-cars-320x240.ivf", &[0]),
    ];
    for (name, keys) in cases {
        let (_, packets) = common::read_ivf(&td.join(name));
        let mut dec = Decoder::open(rav1d(Output::Metadata)).unwrap();
        let frames = decode_all(&mut dec, &packets);
        assert_eq!(frames.len(), packets.len(), "{name}");
        let got: Vec<usize> = frames.iter().enumerate().filter(|(_, f)| f.keyframe).map(|(i, _)| i).collect();
        assert_eq!(got, keys, "{name}");
    }
    let (_, packets) = common::read_ivf(&td.join("svtav1-reschange-320x240-240x180-cars.ivf"));
    let mut dec = Decoder::open(rav1d(Output::HOST_NV12)).unwrap();
    let sizes: Vec<(u32, u32)> = decode_all(&mut dec, &packets).iter().map(|f| (f.width, f.height)).collect();
    assert_eq!(sizes[11], (320, 240));
    assert_eq!(sizes[12], (240, 180));
}

/// Inputs rav1d 1.1.0 aborts the process on (found by `fuzz/fuzz_targets/av1_decode.rs`;
/// docs/fuzzing.md, "AV1"), through every setting that once opened one frame context
/// (one thread, low latency): each gives a typed error or nothing, and the session goes
/// on. A regression here kills the test process instead of failing one test.
#[test]
fn inputs_rav1d_aborts_on_are_survived() {
    // A frame whose references were never decoded (minimised from a real stream's
    // first packets; upstream issue 1497: any decode error with one frame context).
    let lost_references: &[u8] = &[0x0a, 0x0b, 0x1b, 0x01, 0x00, 0x63, 0, 0, 0, 0, 0, 0, 0, 0xb5, 0, 0, 0];
    // An ITU-T T.35 metadata OBU with no room for its country code.
    let short_t35: &[u8] = &[0x28, 0x04, 0x80];
    let path = common::fixtures_dir().join("av1/svtav1-cars-320x240.ivf");
    let (_, packets) = common::read_ivf(&path);
    let expected = want(&reference(&path, "yuv"));
    for config in [
        rav1d(Output::HOST_YUV420P).threads(1),
        rav1d(Output::Metadata).threads(1),
        rav1d(Output::HOST_YUV420P).low_latency(true),
        rav1d(Output::HOST_YUV420P).threads(4).low_latency(true),
        rav1d(Output::HOST_YUV420P),
    ] {
        let mut dec = Decoder::open(config.clone()).unwrap();
        for (i, unit) in [lost_references, short_t35].into_iter().enumerate() {
            match dec.submit(Input::packet(unit, i as i64)) {
                Ok(()) | Err(Error::InvalidBitstream { .. }) => {}
                Err(e) => panic!("{config:?}: not a bitstream error: {e}"),
            }
            while dec.try_reap().unwrap().is_some() {}
        }
        let _ = dec.flush();
        // A real stream with one temporal unit lost in the middle, as on a lossy link:
        // the frames before the loss are exact, the rest is damage, never an abort.
        let mut lossy = packets.clone();
        lossy.remove(packets.len() / 2);
        let mut frames = Vec::new();
        for (pts, data) in &lossy {
            match dec.submit(Input::packet(data, *pts)) {
                Ok(()) | Err(Error::InvalidBitstream { .. }) => {}
                Err(e) => panic!("{config:?}: not a bitstream error: {e}"),
            }
            while let Some(f) = dec.try_reap().unwrap() {
                frames.push(f);
            }
        }
        frames.extend(dec.flush().unwrap_or_default());
        if config.output != Output::Metadata {
            let half = packets.len() / 2;
            assert_eq!(md5s(&frames[..half.min(frames.len())]), expected[..half.min(frames.len())], "{config:?}");
        }
        // And the session decodes the whole stream exactly afterwards.
        let frames = decode_all(&mut dec, &packets);
        assert_eq!(frames.len(), expected.len(), "{config:?}");
        if config.output != Output::Metadata {
            assert_eq!(md5s(&frames), expected, "{config:?}: after the damage");
        }
    }
}

/// dav1d's feature streams (`testdata/av1/dav1d-features/`, from dav1d-test-data), each
/// with the md5 dav1d's test suite expects over all its output pictures (planar 8-bit,
/// row by row, as `dav1d --muxer md5` hashes them): the same stream in the Annex B and
/// the low-overhead (section 5) OBU formats, one carrying ITU-T T.35 metadata (which the
/// guard against rav1d's short-T.35 abort must leave alone), and one with long leb128
/// size fields. Read through the demuxer, as `video-hw decode` reads them.
#[test]
fn dav1d_feature_streams_match_dav1d_md5s() {
    use md5::{Digest, Md5};
    use video_hw::media::{Container, Demuxer};
    let dir = common::fixtures_dir().join("av1/dav1d-features");
    let mut counts = Vec::new();
    for (name, container, want) in [
        ("annexb.obu", Container::Obu, "f7f32af281ac5871d0b5de9de901588d"),
        ("section5.obu", Container::Obu, "f7f32af281ac5871d0b5de9de901588d"),
        ("itut_t35.ivf", Container::Ivf, "cde548be0cf63a965e3c1120c805caf9"),
        ("long_leb.ivf", Container::Ivf, "d685b7961a77692eb4a1a4a22b3ab8ab"),
    ] {
        let mut demuxer = Demuxer::open(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(demuxer.container(), container, "{name}");
        let mut dec = Decoder::open(rav1d(Output::HOST_YUV420P)).unwrap();
        let mut packets = Vec::new();
        while let Some(p) = demuxer.next_packet().unwrap_or_else(|e| panic!("{name}: {e}")) {
            packets.push((p.pts.unwrap_or(0), p.data));
        }
        let frames = decode_all(&mut dec, &packets);
        let mut md5 = Md5::new();
        for f in &frames {
            let mut packed = Vec::new();
            f.host_data().unwrap().write_packed(&mut packed);
            md5.update(&packed);
        }
        let got: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want, "{name}: {} frames from {} packets", frames.len(), packets.len());
        assert_eq!(frames.len(), packets.len(), "{name}: one picture per temporal unit");
        counts.push(frames.len());
    }
    assert_eq!(counts[0], counts[1], "the Annex B and section 5 streams hold the same pictures");
}
