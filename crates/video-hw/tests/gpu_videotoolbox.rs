//! The native VideoToolbox engine on a Mac: decode of the project's H.264 and HEVC
//! fixtures bit-exact with their references (frame count included), a resolution change,
//! damaged input, and H.264/HEVC encode (rate, quality, a bitrate change in place, forced
//! keyframes), decoded back.
//!
//! Run on a Mac with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_videotoolbox`. Without
//! that variable these tests only print a note; with it they fail where VideoToolbox does
//! not work. On other systems there is no VideoToolbox to run: asked for there (the NVIDIA
//! machines run every GPU test binary), the one test that runs checks that the engine is
//! refused by name for every codec and direction, and the Mac tests say they did not run.
//!
//! Compiled for macOS in CI (`.ci/apple-check`), never run: docs/videotoolbox.md says what
//! a first run is expected to show.

mod common;

use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, Input,
    Output, PixelFormat, RateControl, SwitchMode,
};

/// True when the tests should run: asked for, on an Apple system.
fn enabled() -> bool {
    if !cfg!(target_vendor = "apple") {
        eprintln!("note: VideoToolbox test not run (VideoToolbox exists only on macOS)");
        return false;
    }
    common::gpu_tests_enabled()
}

/// Off macOS, asked for: VideoToolbox is listed by `probe` as not available ("only on
/// macOS") for every codec and direction, and a session that names it is refused with
/// `Unsupported` naming the engine, never opened on another engine.
#[test]
fn gpu_videotoolbox_is_refused_by_name_off_macos() {
    if cfg!(target_vendor = "apple") || !common::gpu_tests_enabled() {
        return;
    }
    let rows: Vec<_> =
        video_hw::registry::probe_all(0).into_iter().filter(|r| r.engine == Engine::VideoToolbox).collect();
    assert!(rows.len() >= 4, "probe lists VideoToolbox for H.264 and HEVC, decode and encode: {}", rows.len());
    for r in &rows {
        assert!(!r.available && r.reason.contains("only on macOS"), "{} {:?}: {}", r.codec, r.direction, r.reason);
    }
    let refused = Decoder::open(vt_decoder(Codec::H264, Output::HOST_NV12)).expect_err("no VideoToolbox decoder");
    assert!(matches!(refused, video_hw::Error::Unsupported { .. }), "{refused}");
    assert!(refused.to_string().contains("videotoolbox"), "{refused}");
    let config = EncoderConfig::new(Codec::Hevc, 640, 360).engine(EnginePreference::Only(Engine::VideoToolbox));
    let refused = Encoder::open(config).expect_err("no VideoToolbox encoder");
    assert!(matches!(refused, video_hw::Error::Unsupported { .. }), "{refused}");
    assert!(refused.to_string().contains("videotoolbox"), "{refused}");
}

fn vt_decoder(codec: Codec, output: Output) -> DecoderConfig {
    DecoderConfig::new(codec).engine(EnginePreference::Only(Engine::VideoToolbox)).output(output)
}

/// The fixtures Apple's hardware decoders take: progressive 4:2:0, H.264 in 8 bits,
/// HEVC in 8 or 10.
fn vt_fixtures() -> Vec<common::Fixture> {
    common::fixtures()
        .into_iter()
        .filter(|f| f.rel.ends_with(".h264") || f.rel.ends_with(".h265"))
        .filter(|f| !f.interlaced && (f.codec == "hevc" || f.bit_depth == 8))
        .filter(|f| !f.profile.contains("4:2:2") && !f.profile.contains("4:4:4"))
        .collect()
}

fn codec_of(f: &common::Fixture) -> Codec {
    if f.codec == "hevc" { Codec::Hevc } else { Codec::H264 }
}

#[test]
fn gpu_videotoolbox_decodes_every_fixture_bit_exact_in_nv12_and_yuv420p() {
    if !enabled() {
        return;
    }
    let fixtures = vt_fixtures();
    assert!(fixtures.len() >= 8, "the H.264/HEVC fixtures are missing");
    let mut failures = Vec::new();
    for f in &fixtures {
        let semi = if f.bit_depth > 8 { "p010" } else { "nv12" };
        for (output, tag) in [(Output::HOST_NV12, semi), (Output::HOST_YUV420P, "yuv")] {
            let want = common::fixture_reference_md5s(f, tag);
            match common::decode_md5s(&f.path, vt_decoder(codec_of(f), output), 4096) {
                Ok((got, errors)) => {
                    let got: Vec<String> = got.into_iter().map(|(_, m)| m).collect();
                    if got != want || errors != 0 {
                        let first = got.iter().zip(&want).position(|(a, b)| a != b);
                        failures.push(format!(
                            "{} {tag}: {} frames for {}, first difference at {first:?}, {errors} errors",
                            f.rel,
                            got.len(),
                            want.len()
                        ));
                    }
                }
                Err(e) => failures.push(format!("{} {tag}: {e}", f.rel)),
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures differ:\n{}", failures.len(), fixtures.len(), failures.join("\n"));
}

#[test]
fn gpu_videotoolbox_follows_a_resolution_change_and_survives_damage() {
    if !enabled() {
        return;
    }
    let root = common::repo_root().join("testdata/h264");
    let a = std::fs::read(root.join("crop-318x178-cars.h264")).unwrap();
    let b = std::fs::read(root.join("cbp-cavlc-cars-320x240.h264")).unwrap();
    let frames_a = common::framemd5_hashes(&root.join("crop-318x178-cars.h264.nv12.framemd5"));
    let frames_b = common::framemd5_hashes(&root.join("cbp-cavlc-cars-320x240.h264.nv12.framemd5"));
    let (got, errors) =
        common::decode_bytes_md5s(&[a.clone(), b].concat(), vt_decoder(Codec::H264, Output::HOST_NV12), 4096)
            .expect("a resolution change decodes");
    let got: Vec<String> = got.into_iter().map(|(_, m)| m).collect();
    assert_eq!(errors, 0);
    assert_eq!(got, [frames_a, frames_b].concat(), "both parts, every frame, in order");

    // Damage: bytes flipped in the middle of every slice after the first picture; the
    // session reports typed errors or conceals, never panics or hangs, and flushes.
    let mut damaged = a;
    for i in (2000..damaged.len()).step_by(997) {
        damaged[i] ^= 0x5a;
    }
    let mut dec = Decoder::open(vt_decoder(Codec::H264, Output::HOST_NV12)).unwrap();
    for (i, piece) in damaged.chunks(4096).enumerate() {
        if let Err(e) = dec.submit(Input::annexb(piece, i as i64)) {
            assert!(matches!(e, video_hw::Error::InvalidBitstream { .. } | video_hw::Error::Backend { .. }), "{e}");
        }
        while dec.try_reap().unwrap().is_some() {}
    }
    let _ = dec.flush();
}

/// 60 frames of the camera fixture, decoded by the built-in decoder, as YUV420P (the
/// encoder interleaves the chroma into its NV12 pixel buffers).
fn camera_frames() -> Vec<Frame> {
    let path = common::repo_root().join("testdata/real/camera-640x360.h264");
    let mut dec = Decoder::open(
        DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::OpenH264)).output(Output::HOST_YUV420P),
    )
    .unwrap();
    let mut frames = Vec::new();
    for (i, piece) in std::fs::read(path).unwrap().chunks(1 << 16).enumerate() {
        dec.submit(Input::annexb(piece, i as i64)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    frames.truncate(60);
    for (i, f) in frames.iter_mut().enumerate() {
        f.pts = Some(i as i64);
    }
    frames
}

#[test]
fn gpu_videotoolbox_encodes_h264_and_hevc_at_the_rate_asked_and_changes_it_in_place() {
    if !enabled() {
        return;
    }
    let frames = camera_frames();
    assert_eq!(frames.len(), 60);
    for codec in [Codec::H264, Codec::Hevc] {
        let config = EncoderConfig::new(codec, 640, 360)
            .fps(30, 1)
            .input_format(PixelFormat::Yuv420p)
            .rate_control(RateControl::Cbr { bitrate: 1_000_000 })
            .gop(30)
            .engine(EnginePreference::Only(Engine::VideoToolbox));
        let mut enc = Encoder::open(config.clone()).expect("a VideoToolbox encoder");
        let mut packets = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            if i == 30 {
                let g = enc
                    .reconfigure(
                        config.clone().rate_control(RateControl::Cbr { bitrate: 500_000 }),
                        SwitchMode::Immediate,
                    )
                    .unwrap();
                assert_eq!(g, 1);
            }
            enc.submit(f, FrameOptions { pts: f.pts, force_keyframe: i == 45 }).unwrap();
            while let Some(p) = enc.try_reap().unwrap() {
                packets.push(p);
            }
        }
        packets.extend(enc.flush().unwrap());
        assert_eq!(packets.len(), 60, "{codec}: a packet per frame");
        assert!(packets[0].keyframe);
        assert!(packets.iter().any(|p| p.keyframe && p.pts == Some(45)), "{codec}: the forced keyframe");
        // Packets carry the frames' pts (frame indices here, in a 1/30 s timebase).
        let bits = |g: u64| packets.iter().filter(|p| p.generation == g).map(|p| p.data.len() * 8).sum::<usize>();
        let (first, second) = (bits(0) as f64, bits(1) as f64);
        // One second each: within 15% of 1 Mb/s, then of 500 kb/s.
        assert!((first / 1e6 - 1.0).abs() < 0.15, "{codec}: {first} bits in the first second");
        assert!((second / 5e5 - 1.0).abs() < 0.15, "{codec}: {second} bits in the second second");

        // Decoded back (VideoToolbox, in display order), near the source.
        let stream: Vec<u8> = packets.iter().flat_map(|p| p.data.clone()).collect();
        let mut dec = Decoder::open(vt_decoder(codec, Output::HOST_YUV420P)).unwrap();
        dec.submit(Input::annexb(&stream, 0)).unwrap();
        let mut decoded = Vec::new();
        while let Some(f) = dec.try_reap().unwrap() {
            decoded.push(f);
        }
        decoded.extend(dec.flush().unwrap());
        assert_eq!(decoded.len(), 60, "{codec}: every frame decodes back");
        let mut quality = video_hw::pixels::quality::QualitySummary::default();
        for (src, out) in frames.iter().zip(&decoded) {
            let q = video_hw::pixels::quality::FrameQuality::measure(
                src.host_data().unwrap().as_bytes(),
                out.host_data().unwrap().as_bytes(),
                640,
                360,
                false,
            );
            quality.add(&q);
        }
        let psnr = quality.psnr_y().unwrap();
        assert!(psnr > 30.0, "{codec}: luma PSNR {psnr:.2} dB");
    }
}
