//! The OpenH264 engine through the public API: probe, output formats, timestamps,
//! refusals with `Unsupported`, damaged input, and an encode → decode round trip.

use crate::common;

use common::clip::psnr;

use std::path::PathBuf;

use video_hw::frame::HostFrame;
use video_hw::pixels::convert::{I420Ref, YuvMatrix, i420_to_host, i420_to_rgb};
use video_hw::registry::probe_all;
use video_hw::{
    Codec, Decoder, DecoderConfig, Direction, Encoder, EncoderConfig, Engine, EnginePreference, Error, Frame,
    FrameData, FrameOptions, Input, Output, PixelFormat, Tuning,
};

const ONLY: EnginePreference = EnginePreference::Only(Engine::OpenH264);

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/openh264").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A progressive stream with B-frames (display order differs from decode order) and an
/// IDR every 12 frames: 48 frames, 4 keyframes.
fn bframe_stream() -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("h264/gop12-idr-cars-320x240.h264")).expect("fixture")
}
const BFRAME_STREAM_FRAMES: usize = 48;
const BFRAME_STREAM_KEYFRAMES: usize = 4;

fn decode_all(stream: &[u8], output: Output) -> Result<Vec<Frame>, Error> {
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(output).engine(ONLY))?;
    let mut frames = Vec::new();
    for chunk in stream.chunks(1000) {
        dec.submit(Input::annexb(chunk, None))?;
        while let Some(f) = dec.try_reap()? {
            frames.push(f);
        }
    }
    frames.extend(dec.flush()?);
    Ok(frames)
}

#[test]
fn probe_names_version_device_and_caveat() {
    let reports = probe_all(0);
    let find = |codec: Codec, direction: Direction| {
        reports.iter().find(|r| r.engine == Engine::OpenH264 && r.codec == codec && r.direction == direction).unwrap()
    };
    let dec = find(Codec::H264, Direction::Decode);
    assert!(dec.available, "{}", dec.reason);
    assert_eq!(dec.info.device.as_deref(), Some("software"));
    assert!(dec.info.driver.as_deref().is_some_and(|d| d.starts_with("openh264 2.")), "{:?}", dec.info.driver);
    // The patched build says so (docs/openh264-patches.md); no caveat on B-frames any more.
    assert!(dec.info.notes.iter().any(|n| n.starts_with("patched: 0001")), "{:?}", dec.info.notes);
    assert!(!dec.info.notes.iter().any(|n| n.contains("bit-exact")), "{:?}", dec.info.notes);
    let enc = find(Codec::H264, Direction::Encode);
    assert!(enc.available, "{}", enc.reason);
    for codec in [Codec::Hevc, Codec::Av1, Codec::Vp9] {
        let r = find(codec, Direction::Decode);
        assert!(!r.available && r.reason == "openh264 decodes H.264 only", "{codec}: {}", r.reason);
        let r = find(codec, Direction::Encode);
        assert!(!r.available && r.reason == "openh264 encodes H.264 only", "{codec}: {}", r.reason);
    }
}

#[test]
fn refuses_what_it_cannot_decode() {
    let e = Decoder::open(DecoderConfig::new(Codec::Hevc).engine(ONLY)).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }) && e.to_string().contains("H.264 only"), "{e}");
    // CUDA output without a GPU: no engine gives CUDA frames, and a CPU engine's frames
    // cannot be uploaded either; the error says both.
    let e = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::CUDA_NV12)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Unsupported { .. }) && msg.contains("CUDA") && msg.contains("nvdec"), "{msg}");
    for (file, feature) in
        [("high10.h264", "10-bit"), ("high422.h264", "4:2:2"), ("high444.h264", "4:4:4"), ("mbaff.h264", "interlaced")]
    {
        match decode_all(&data(file), Output::HOST_YUV420P) {
            Err(e @ Error::Unsupported { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(feature) && msg.contains("openh264"), "{file}: {msg}");
            }
            other => panic!("{file}: expected Unsupported, got {:?}", other.map(|f| f.len())),
        }
    }
}

#[test]
fn refuses_what_it_cannot_encode() {
    let base = EncoderConfig::new(Codec::H264, 64, 64).engine(ONLY);
    let cases = [
        (base.clone().b_frames(2), "openh264 has no B-frames"),
        (EncoderConfig::new(Codec::Hevc, 64, 64).engine(ONLY), "H.264 only"),
        (base.clone().input_format(PixelFormat::P010), "openh264 encodes 8-bit 4:2:0 only"),
        (base.clone().input_format(PixelFormat::Yuv420p10), "openh264 encodes 8-bit 4:2:0 only"),
        (base.clone().tuning(Tuning::Lossless), "lossless"),
    ];
    for (config, needle) in cases {
        match Encoder::open(config) {
            Err(e @ Error::Unsupported { .. }) => assert!(e.to_string().contains(needle), "{e}"),
            other => panic!("{needle}: expected Unsupported, got {other:?}"),
        }
    }
}

#[test]
fn every_output_format_agrees_with_yuv420p() {
    let stream = bframe_stream();
    let yuv = decode_all(&stream, Output::HOST_YUV420P).unwrap();
    assert_eq!(yuv.len(), BFRAME_STREAM_FRAMES);
    for output in [
        Output::HOST_NV12,
        Output::HOST_RGB24,
        Output::Host(PixelFormat::Bgra),
        Output::Host(PixelFormat::RgbPlanar),
        Output::Metadata,
    ] {
        let frames = decode_all(&stream, output).unwrap();
        assert_eq!(frames.len(), yuv.len(), "{output:?}");
        for (i, (a, b)) in yuv.iter().zip(&frames).enumerate().step_by(7) {
            assert_eq!((a.width, a.height, a.keyframe), (b.width, b.height, b.keyframe));
            let FrameData::Host(h) = &a.data else { panic!() };
            let (w, hh) = (a.width, a.height);
            let (cw, ch) = (w.div_ceil(2) as usize, hh.div_ceil(2) as usize);
            let bytes = h.as_bytes();
            let (y, rest) = bytes.split_at((w * hh) as usize);
            let (u, v) = rest.split_at(cw * ch);
            let src = I420Ref::packed(y, u, v, w, hh).unwrap();
            match (output, &b.data) {
                (Output::Metadata, FrameData::None) => {}
                (Output::Host(f), FrameData::Host(got)) => {
                    assert_eq!(b.format, f);
                    let want = if f.is_yuv() {
                        let matrix = YuvMatrix::for_color(&b.color).unwrap();
                        i420_to_host(&src, f, &matrix).unwrap()
                    } else {
                        i420_to_rgb(&src, f, &b.color).unwrap()
                    };
                    assert_eq!(got.as_bytes(), want.as_bytes(), "{output:?} frame {i}");
                }
                other => panic!("{output:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn timestamps_and_keyframes_follow_their_access_units() {
    let stream = bframe_stream();
    let nals = video_hw::bitstream::annexb::split_all(&stream);
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::Metadata).engine(ONLY)).unwrap();
    let mut frames = Vec::new();
    // Feed NAL by NAL; each access unit's first NAL unit carries pts = index * 3600.
    let mut au_index = 0i64;
    let mut last_was_vcl = false;
    for (i, nal) in nals.iter().enumerate() {
        let t = nal[0] & 0x1f;
        let first_slice = matches!(t, 1 | 5) && nal.len() > 1 && nal[1] & 0x80 != 0;
        let starts = i == 0 || (last_was_vcl && (matches!(t, 6..=9) || first_slice));
        let mut bytes = vec![0, 0, 0, 1];
        bytes.extend_from_slice(nal);
        let pts = starts.then(|| au_index * 3600);
        au_index += starts as i64;
        dec.submit(Input::annexb(&bytes, pts)).unwrap();
        last_was_vcl = matches!(t, 1 | 5);
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    assert_eq!(frames.len(), BFRAME_STREAM_FRAMES);
    // Every pts comes out once; IDRs are the keyframes and the first frame is one.
    let mut pts: Vec<i64> = frames.iter().filter_map(|f| f.pts).collect();
    pts.sort_unstable();
    pts.dedup();
    assert_eq!(au_index as usize, BFRAME_STREAM_FRAMES);
    assert_eq!(pts.len(), BFRAME_STREAM_FRAMES, "one pts per access unit");
    assert!(frames[0].keyframe);
    assert_eq!(frames.iter().filter(|f| f.keyframe).count(), BFRAME_STREAM_KEYFRAMES);
    // B-frames: output order is not decode order.
    assert!(frames.windows(2).any(|w| w[0].pts > w[1].pts));
}

#[test]
fn damaged_input_gives_errors_or_fewer_frames_never_a_panic() {
    // Garbage, with start codes sprinkled in.
    let mut garbage = Vec::new();
    let mut x = 0x1234_5678u32;
    for i in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(if i % 997 < 4 { [0, 0, 1, 0x65][i % 997] } else { x as u8 });
    }
    let r = decode_all(&garbage, Output::HOST_YUV420P);
    assert!(r.as_ref().map_or(true, |f| f.len() < 50), "garbage gave {:?} frames", r.map(|f| f.len()));
    // Truncated in the middle of a picture, and with a hole punched in it.
    let stream = bframe_stream();
    let cut = &stream[..stream.len() / 3 + 17];
    let frames = decode_tolerant(cut);
    assert!(frames > 0 && frames < BFRAME_STREAM_FRAMES, "{frames}");
    let mut holed = stream.clone();
    let mid = holed.len() / 2;
    holed.drain(mid..mid + 3000);
    assert!(decode_tolerant(&holed) <= BFRAME_STREAM_FRAMES);
}

/// Decodes, ignoring bitstream errors; returns the number of frames.
fn decode_tolerant(stream: &[u8]) -> usize {
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)).unwrap();
    let mut n = 0;
    for chunk in stream.chunks(777) {
        match dec.submit(Input::annexb(chunk, None)) {
            Ok(()) | Err(Error::InvalidBitstream { .. }) => {}
            Err(e) => panic!("{e}"),
        }
        while let Ok(Some(_)) = dec.try_reap() {
            n += 1;
        }
    }
    n + dec.flush().map(|f| f.len()).unwrap_or(0)
}

/// Real camera content for the round trip: the fixtures' y4m (8 frames of the cars clip).
fn real_frames() -> (u32, u32, Vec<Vec<u8>>) {
    let y4m = std::fs::read(common::fixtures_dir().join("real/cars-320x240.y4m")).expect("y4m fixture");
    let header_end = y4m.iter().position(|&b| b == b'\n').expect("y4m header");
    let header = String::from_utf8_lossy(&y4m[..header_end]).to_string();
    let field = |tag: char| -> u32 {
        header.split(' ').find_map(|f| f.strip_prefix(tag)).and_then(|v| v.parse().ok()).expect("y4m size")
    };
    let (w, h) = (field('W'), field('H'));
    assert!(!header.contains(" C") || header.contains(" C420"), "{header}");
    let size = PixelFormat::Yuv420p.frame_size(w, h);
    let mut frames = Vec::new();
    let mut at = header_end + 1;
    while at < y4m.len() {
        let line_end = at + y4m[at..].iter().position(|&b| b == b'\n').expect("FRAME line");
        assert!(y4m[at..line_end].starts_with(b"FRAME"));
        frames.push(y4m[line_end + 1..line_end + 1 + size].to_vec());
        at = line_end + 1 + size;
    }
    (w, h, frames)
}

#[test]
fn encode_decode_round_trip_psnr_at_default_settings() {
    let (w, h, input) = real_frames();
    assert!(input.len() >= 8);
    let mut enc = Encoder::open(EncoderConfig::new(Codec::H264, w, h).engine(ONLY)).unwrap();
    let mut stream = Vec::new();
    let mut packets = 0;
    for (i, raw) in input.iter().enumerate() {
        let frame = Frame::host(
            PixelFormat::Yuv420p,
            w,
            h,
            HostFrame::from_packed(PixelFormat::Yuv420p, w, h, raw.clone()).unwrap(),
        );
        enc.submit(&frame, FrameOptions { pts: Some(i as i64 * 3000), force_keyframe: false }).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            assert_eq!((p.pts, p.dts), (Some(i as i64 * 3000), Some(i as i64 * 3000)));
            stream.extend_from_slice(&p.data);
            packets += 1;
        }
    }
    for p in enc.flush().unwrap() {
        stream.extend_from_slice(&p.data);
        packets += 1;
    }
    assert_eq!(packets, input.len());
    let decoded = decode_all(&stream, Output::HOST_YUV420P).unwrap();
    assert_eq!(decoded.len(), input.len());
    let luma = (w * h) as usize;
    let mut sum = 0.0;
    for (a, b) in input.iter().zip(&decoded) {
        let b = b.host_data().unwrap().as_bytes();
        sum += psnr(&a[..luma], &b[..luma]);
    }
    let avg = sum / input.len() as f64;
    eprintln!("OpenH264 round trip at default settings: average Y-PSNR {avg:.2} dB, {} bytes", stream.len());
    assert!(avg >= 35.0, "average Y-PSNR {avg:.2} dB");
}

fn yuv_frame(w: u32, h: u32, raw: &[u8]) -> Frame {
    Frame::host(PixelFormat::Yuv420p, w, h, HostFrame::from_packed(PixelFormat::Yuv420p, w, h, raw.to_vec()).unwrap())
}

#[test]
fn length_prefixed_output_decodes_with_its_config_record() {
    use video_hw::PacketLayout;
    let (w, h, input) = real_frames();
    let config = EncoderConfig::new(Codec::H264, w, h).engine(ONLY).layout(PacketLayout::LengthPrefixed);
    let mut enc = Encoder::open(config).unwrap();
    let record = enc.config_record().expect("parameter sets known at open");
    assert_eq!(record.parameter_sets.len(), 2);
    for raw in &input {
        enc.submit(&yuv_frame(w, h, raw), FrameOptions::default()).unwrap();
    }
    let mut packets = Vec::new();
    while let Some(p) = enc.try_reap().unwrap() {
        packets.push(p);
    }
    packets.extend(enc.flush().unwrap());
    assert_eq!(packets.len(), input.len());
    assert!(packets.iter().all(|p| p.layout == PacketLayout::LengthPrefixed));
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)).unwrap();
    let mut frames = 0;
    for (i, p) in packets.iter().enumerate() {
        dec.submit(Input::length_prefixed(&p.data, &record, i as i64)).unwrap();
        while dec.try_reap().unwrap().is_some() {
            frames += 1;
        }
    }
    frames += dec.flush().unwrap().len();
    assert_eq!(frames, input.len());
}

#[test]
fn reconfigure_in_place_and_forced_keyframes_through_the_session() {
    use video_hw::{RateControl, SwitchMode};
    let (w, h, input) = real_frames();
    let config = EncoderConfig::new(Codec::H264, w, h).engine(ONLY).gop(4);
    let mut enc = Encoder::open(config.clone()).unwrap();
    let mut packets = Vec::new();
    for (i, raw) in input.iter().enumerate() {
        if i == 3 {
            let g = enc
                .reconfigure(config.clone().rate_control(RateControl::Cbr { bitrate: 300_000 }), SwitchMode::Immediate)
                .unwrap();
            assert_eq!(g, 1);
        }
        enc.submit(&yuv_frame(w, h, raw), FrameOptions { pts: None, force_keyframe: i == 2 }).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            packets.push(p);
        }
    }
    packets.extend(enc.flush().unwrap());
    assert!(enc.backend().starts_with("openh264 2.") && enc.backend().ends_with("(software)"), "{}", enc.backend());
    let keys: Vec<bool> = packets.iter().map(|p| p.keyframe).collect();
    // IDR at 0, forced at 2, then the GOP of 4 counts on from the forced one.
    assert_eq!(keys, [true, false, true, false, false, false, true, false]);
    let generations: Vec<u64> = packets.iter().map(|p| p.generation).collect();
    assert_eq!(&generations[..3], &[0, 0, 0]);
    assert!(generations[3..].iter().all(|&g| g == 1), "{generations:?}");
    // Timestamps were filled in by the session: one frame duration apart, pts == dts.
    assert!(packets.iter().all(|p| p.pts.is_some() && p.pts == p.dts));
    assert!(packets.windows(2).all(|w| w[0].pts < w[1].pts));
}

#[test]
fn corpus_colour_description_reaches_frames_and_rgb() {
    use video_hw::{ColorPrimaries, ColorRange, MatrixCoefficients, TransferCharacteristics};
    let Some(dir) = common::corpus_dir() else { return };
    // A Canon camera IDR: full range, BT.601 matrix on a 1920x1088 picture (where the
    // players' size rule, `ColorMatrix::AutoHd`, would pick BT.709 were it untagged), BT.709
    // primaries and transfer.
    let stream = std::fs::read(dir.join("fate-suite/crop-to-container-dims-canon.h264")).unwrap();
    let yuv = decode_all(&stream, Output::HOST_YUV420P).unwrap();
    let rgb = decode_all(&stream, Output::HOST_RGB24).unwrap();
    assert_eq!((yuv.len(), rgb.len()), (1, 1));
    let color = rgb[0].color;
    assert_eq!(color.range, ColorRange::Full);
    assert_eq!(color.matrix, MatrixCoefficients::SMPTE170M);
    assert_eq!(color.primaries, ColorPrimaries::BT709);
    assert_eq!(color.transfer, TransferCharacteristics::BT709);
    let (w, h) = (yuv[0].width, yuv[0].height);
    assert_eq!((w, h), (1920, 1088));
    let bytes = yuv[0].host_data().unwrap().as_bytes();
    let (y, rest) = bytes.split_at((w * h) as usize);
    let (u, v) = rest.split_at((w * h / 4) as usize);
    let src = I420Ref::packed(y, u, v, w, h).unwrap();
    let want =
        i420_to_host(&src, PixelFormat::Rgb24, &YuvMatrix::new(MatrixCoefficients(6), ColorRange::Full).unwrap())
            .unwrap();
    assert_eq!(rgb[0].host_data().unwrap().as_bytes(), want.as_bytes());
}

#[test]
fn flush_then_the_same_stream_again_gives_the_same_frames() {
    let stream = bframe_stream();
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)).unwrap();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let mut md5s = Vec::new();
        for chunk in stream.chunks(4096) {
            dec.submit(Input::annexb(chunk, None)).unwrap();
            while let Some(f) = dec.try_reap().unwrap() {
                md5s.push(common::frame_md5(&f).1);
            }
        }
        md5s.extend(dec.flush().unwrap().iter().map(|f| common::frame_md5(f).1));
        runs.push(md5s);
    }
    assert_eq!(runs[0].len(), BFRAME_STREAM_FRAMES);
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn damage_in_one_big_submit_does_not_lose_the_rest_of_it() {
    // The whole stream in one submit, with a hole in the second GOP: the submit reports
    // the damage, and every GOP after it still decodes (recovery at the next IDR).
    let stream = bframe_stream();
    let mut holed = stream.clone();
    let at = holed.len() * 3 / 8;
    holed.drain(at..at + 2000);
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::Metadata).engine(ONLY)).unwrap();
    let r = dec.submit(Input::annexb(&holed, None));
    assert!(matches!(r, Err(Error::InvalidBitstream { .. })), "{r:?}");
    let mut frames = 0;
    while dec.try_reap().unwrap().is_some() {
        frames += 1;
    }
    frames += dec.flush().unwrap().len();
    assert!((36..BFRAME_STREAM_FRAMES).contains(&frames), "{frames}");
    assert!(dec.stats().dropped > 0);
}

/// One session decodes several streams in a row, each ended by `flush` (a third stream
/// after two flushes used to fail with dsOutOfMemory).
#[test]
fn one_session_decodes_stream_after_stream() {
    let stream = bframe_stream();
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)).unwrap();
    let mut first_pass: Vec<Vec<u8>> = Vec::new();
    for pass in 0..4 {
        let mut frames = Vec::new();
        for chunk in stream.chunks(4096) {
            dec.submit(Input::annexb(chunk, None)).unwrap_or_else(|e| panic!("pass {pass}: {e}"));
            while let Some(f) = dec.try_reap().unwrap() {
                frames.push(f);
            }
        }
        frames.extend(dec.flush().unwrap());
        assert_eq!(frames.len(), BFRAME_STREAM_FRAMES, "pass {pass}");
        let pixels: Vec<Vec<u8>> = frames.iter().map(|f| f.host_data().unwrap().as_bytes().to_vec()).collect();
        if pass == 0 {
            first_pass = pixels;
        } else {
            assert!(pixels == first_pass, "pass {pass} decoded other pixels than pass 0");
        }
    }
}

#[test]
fn sps_carries_the_frame_rate_and_colour_description() {
    // VUI timing is OpenH264 patch 0005; the colour description is its own layer setting.
    use video_hw::bitstream::h264::parse_sps;
    use video_hw::codec::{ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, TransferCharacteristics};
    let color = ColorInfo {
        primaries: ColorPrimaries::BT709,
        transfer: TransferCharacteristics::BT709,
        matrix: MatrixCoefficients::BT709,
        range: ColorRange::Full,
        ..ColorInfo::default()
    };
    for (num, den) in [(30, 1), (30000, 1001), (25, 2)] {
        let mut config = EncoderConfig::new(Codec::H264, 64, 64)
            .engine(ONLY)
            .fps(num, den)
            .layout(video_hw::PacketLayout::LengthPrefixed);
        config.color = color;
        let enc = Encoder::open(config).unwrap();
        let record = enc.config_record().expect("parameter sets known at open");
        let sps = parse_sps(record.parameter_sets.iter().find(|p| p[0] & 0x1f == 7).unwrap()).unwrap();
        assert_eq!(sps.frame_rate(), Some(video_hw::Rational::new(num, den)), "{num}/{den}");
        assert_eq!(sps.color_info(), color);
    }
}
