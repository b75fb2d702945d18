//! `video-hw encode` end to end: the synthetic pattern, Y4M and raw YUV in; Annex-B, MP4
//! (checked with ffprobe where it is installed, and by decoding it back) and stdout out;
//! strict Y4M errors; every exit status.

use crate::util;

use std::path::Path;

use util::{any_available, available, expect_exit, ffprobe, ffprobe_json, run, run_stdin, s, testdata, tmpdir};

/// Decodes `path` to raw yuv420p and returns the bytes.
fn decode(path: &Path) -> Vec<u8> {
    let out = path.with_extension("decoded.yuv");
    expect_exit(&run(&["decode", s(path), "-o", s(&out), "-q"]), 0, "decode back");
    std::fs::read(out).unwrap()
}

/// PSNR of the luma planes of two equally sized sequences of I420 frames.
fn luma_psnr(a: &[u8], b: &[u8], w: usize, h: usize) -> f64 {
    let frame = w * h * 3 / 2;
    assert_eq!(a.len(), b.len());
    let mut se = 0f64;
    let mut n = 0f64;
    for (fa, fb) in a.chunks(frame).zip(b.chunks(frame)) {
        for (x, y) in fa[..w * h].iter().zip(&fb[..w * h]) {
            se += (*x as f64 - *y as f64).powi(2);
            n += 1.0;
        }
    }
    10.0 * (255.0f64 * 255.0 / (se / n).max(1e-9)).log10()
}

/// The frames of the y4m fixture, without headers.
fn y4m_frames() -> Vec<u8> {
    std::fs::read(testdata("real/cars-320x240-25fps.yuv")).unwrap()
}

#[test]
fn encoded_h264_states_its_frame_rate() {
    // OpenH264 writes the rate as VUI timing (patch 0005); `info` reads it back.
    let dir = tmpdir("rate");
    let out = dir.join("rate.h264");
    let args = ["encode", "--synthetic", "4", "--fps", "30000/1001", "-o", s(&out), "-q", "--backend", "openh264"];
    expect_exit(&run(&args), 0, "encode");
    let i: serde_json::Value = serde_json::from_slice(&run(&["info", "--json", s(&out)]).stdout).unwrap();
    let rate = i["frame_rate"].as_f64().expect("a frame rate");
    assert!((rate - 30000.0 / 1001.0).abs() < 1e-6, "{rate}");
}

#[test]
fn synthetic_pattern_to_annexb_and_back() {
    let dir = tmpdir("synthetic");
    let out = dir.join("pattern.h264");
    let o = run(&["encode", "--synthetic", "12", "--size", "320x240", "-o", s(&out), "--json"]);
    expect_exit(&o, 0, "synthetic");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON summary");
    assert_eq!(
        (v["job"].as_str(), v["frames"].as_u64(), v["input"].as_str()),
        (Some("encode"), Some(12), Some("synthetic"))
    );
    assert!(v["encoder"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    assert_eq!(decode(&out).len(), 12 * 115_200);
    let info = run(&["info", "--json", s(&out)]);
    let i: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!((i["width"].as_u64(), i["height"].as_u64(), i["frames"].as_u64()), (Some(320), Some(240), Some(12)));
    // The default size.
    let o = run(&["encode", "--synthetic", "2", "-o", s(&dir.join("d.h264")), "-q"]);
    expect_exit(&o, 0, "default size");
    let info = run(&["info", "--json", s(&dir.join("d.h264"))]);
    let i: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!((i["width"].as_u64(), i["height"].as_u64()), (Some(640), Some(360)));
}

#[test]
fn y4m_to_mp4_is_valid_and_decodes_back() {
    let dir = tmpdir("y4mmp4");
    let out = dir.join("cars.mp4");
    let y4m = testdata("real/cars-320x240.y4m");
    expect_exit(&run(&["encode", s(&y4m), "-o", s(&out), "--qp", "18", "--gop", "4", "-q"]), 0, "y4m → mp4");
    let decoded = decode(&out);
    assert_eq!(decoded.len(), 8 * 115_200, "8 frames back out of our own MP4");
    let psnr = luma_psnr(&decoded, &y4m_frames(), 320, 240);
    assert!(psnr > 38.0, "QP 18 gives a close copy: {psnr:.1} dB");
    if !ffprobe() {
        return;
    }
    let v = ffprobe_json(&out, &["-count_frames", "-show_streams", "-show_format"]);
    let st = &v["streams"][0];
    assert_eq!(st["codec_name"], "h264");
    assert_eq!(st["codec_tag_string"], "avc1");
    assert_eq!((st["width"].as_u64(), st["height"].as_u64()), (Some(320), Some(240)));
    assert_eq!(st["nb_read_frames"], "8", "ffmpeg decodes every frame: {st}");
    assert_eq!(st["r_frame_rate"], "25/1");
    assert!(v["format"]["format_name"].as_str().unwrap().contains("mp4"));
    let p = ffprobe_json(&out, &["-show_entries", "packet=pts,dts,flags"]);
    let packets = p["packets"].as_array().unwrap();
    assert_eq!(packets.len(), 8);
    let keys: Vec<bool> = packets.iter().map(|p| p["flags"].as_str().unwrap().starts_with('K')).collect();
    assert_eq!(keys, [true, false, false, false, true, false, false, false], "stss: a keyframe every 4");
    // Decode order: libx264 (Auto's choice where FFmpeg is loaded) codes B-frames by
    // default, so presentation times may come out of order, each once, behind rising dts.
    let dts: Vec<i64> = packets.iter().map(|p| p["dts"].as_i64().unwrap()).collect();
    assert!(dts.windows(2).all(|w| w[1] > w[0]), "{dts:?}");
    let mut pts: Vec<i64> = packets.iter().map(|p| p["pts"].as_i64().unwrap()).collect();
    pts.sort_unstable();
    assert!(pts.windows(2).all(|w| w[1] > w[0]), "{pts:?}");
    assert!(pts.iter().zip(&dts).all(|(p, d)| p >= d), "pts {pts:?} dts {dts:?}");
}

#[test]
fn raw_yuv_needs_size_and_rate() {
    let dir = tmpdir("raw");
    let raw = testdata("real/cars-320x240-25fps.yuv");
    let out = dir.join("raw.h264");
    // OpenH264 is deterministic (libx264, the Auto choice where FFmpeg is loaded, is not
    // with VBV and threads), so the two runs can be compared byte for byte.
    let args = ["encode", s(&raw), "--size", "320x240", "--fps", "25", "-o", s(&out), "-q", "--backend", "openh264"];
    expect_exit(&run(&args), 0, "raw");
    assert_eq!(decode(&out).len(), 8 * 115_200);
    // From stdin, to stdout: the same bytes as through files (the encoder is deterministic).
    let o = run_stdin(
        &["encode", "-", "--size", "320x240", "--fps", "25", "-o", "-", "-q", "--backend", "openh264"],
        &y4m_frames(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout == std::fs::read(&out).unwrap(), "stdin → stdout equals file → file");
    // Size and rate are needed; a size the file is not a multiple of is invalid input.
    expect_exit(&run(&["encode", s(&raw), "--size", "320x240", "-o", s(&out)]), 2, "no --fps");
    expect_exit(&run(&["encode", s(&raw), "--fps", "25", "-o", s(&out)]), 2, "no --size");
    expect_exit(&run(&["encode", s(&raw), "--size", "320x238", "--fps", "25", "-o", s(&out)]), 4, "not a multiple");
    let cut = dir.join("cut.yuv");
    std::fs::write(&cut, &y4m_frames()[..115_200 * 2 + 7]).unwrap();
    expect_exit(&run(&["encode", s(&cut), "--size", "320x240", "--fps", "25", "-o", s(&out)]), 4, "partial frame");
    let o = run_stdin(&["encode", "-", "--size", "320x240", "--fps", "25", "-o", s(&out)], &y4m_frames()[..1000]);
    expect_exit(&o, 4, "partial frame on stdin");
}

#[test]
fn y4m_errors() {
    let dir = tmpdir("y4merr");
    let frames = y4m_frames();
    let frame = |i: usize| &frames[i * 115_200..(i + 1) * 115_200];
    let y4m = |header: &str, n: usize| {
        let mut v = header.as_bytes().to_vec();
        for i in 0..n {
            v.extend_from_slice(b"FRAME\n");
            v.extend_from_slice(frame(i));
        }
        v
    };
    let mut truncated = y4m("YUV4MPEG2 W320 H240 F25:1 C420jpeg\n", 3);
    truncated.truncate(truncated.len() - 5000);
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        ("bigger.y4m", y4m("YUV4MPEG2 W640 H480 F25:1\n", 3), 4),
        ("smaller.y4m", y4m("YUV4MPEG2 W160 H120 F25:1\n", 3), 4),
        ("huge.y4m", y4m("YUV4MPEG2 W16384 H16384 F25:1\n", 1), 4),
        ("zero.y4m", y4m("YUV4MPEG2 W0 H240 F25:1\n", 1), 4),
        ("norate.y4m", y4m("YUV4MPEG2 W320 H240\n", 1), 4),
        ("badrate.y4m", y4m("YUV4MPEG2 W320 H240 F25:0\n", 1), 4),
        ("odd.y4m", y4m("YUV4MPEG2 W321 H240 F25:1\n", 0), 4),
        ("truncated.y4m", truncated, 4),
        ("noframes.y4m", y4m("YUV4MPEG2 W320 H240 F25:1\n", 0), 4),
        ("garbage.y4m", vec![7u8; 5000], 4),
        ("c444.y4m", y4m("YUV4MPEG2 W320 H240 F25:1 C444\n", 1), 3),
    ];
    for (name, bytes, code) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        expect_exit(&run(&["encode", s(&p), "-o", s(&dir.join("o.h264"))]), code, name);
    }
    let good = dir.join("good.y4m");
    std::fs::write(&good, y4m("YUV4MPEG2 W320 H240 F25:1 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2\n", 2)).unwrap();
    expect_exit(&run(&["encode", s(&good), "-o", s(&dir.join("o.h264")), "-q"]), 0, "good y4m");
    expect_exit(&run(&["encode", s(&good), "--size", "320x240", "-o", s(&dir.join("o.h264"))]), 2, "y4m with --size");
}

#[test]
fn usage_errors_exit_2() {
    let o = "/tmp/video-hw-never-written.h264";
    for args in [
        vec!["encode", "--synthetic", "2", "-o", o, "--size", "0x0"],
        vec!["encode", "--synthetic", "2", "-o", o, "--size", "321x240"],
        vec!["encode", "--synthetic", "2", "-o", o, "--fps", "0"],
        vec!["encode", "--synthetic", "2", "-o", o, "--bitrate", "0"],
        vec!["encode", "--synthetic", "2", "-o", o, "--gop", "0"],
        vec!["encode", "--synthetic", "2", "-o", o, "--qp", "52"],
        vec!["encode", "--synthetic", "2", "-o", o, "--bframes", "17"],
        vec!["encode", "--synthetic", "2", "-o", o, "--bitrate", "1M", "--qp", "20"],
        vec!["encode", "--synthetic", "2", "-o", o, "--max-bitrate", "2M"],
        vec!["encode", "--synthetic", "2", "-o", o, "--bitrate", "2M", "--max-bitrate", "1M"],
        vec!["encode", "--synthetic", "2", "-o", o, "--tune", "low-latency", "--bframes", "2"],
        vec!["encode", "--synthetic", "2", "-o", o, "--preset", "warp"],
        vec!["encode", "--synthetic", "2", "-o", o, "--backend", "nvdec"],
        vec!["encode", "--synthetic", "2", "-o", "/tmp/x.h265", "--codec", "h264"],
        vec!["encode", "--synthetic", "0", "-o", o],
        vec!["encode", "in.y4m", "--synthetic", "2", "-o", o],
        vec!["encode", "-o", o],
        vec!["encode", "--synthetic", "2"],
    ] {
        expect_exit(&run(&args), 2, &args.join(" "));
    }
    assert!(!Path::new(o).exists(), "no output for a usage error");
}

#[test]
fn unsupported_jobs_exit_3() {
    let dir = tmpdir("enc3");
    let out = dir.join("o.h264");
    let o = s(&out);
    if !any_available("hevc", "encode") {
        let mp4 = dir.join("o.mp4");
        let e = expect_exit(&run(&["encode", "--synthetic", "2", "--codec", "hevc", "-o", s(&mp4)]), 3, "hevc");
        assert!(e.contains("no engine can encode hevc"), "{e}");
        expect_exit(&run(&["encode", "--synthetic", "2", "-o", s(&dir.join("o.h265"))]), 3, "hevc by name");
    }
    let e =
        expect_exit(&run(&["encode", "--synthetic", "2", "--bframes", "2", "--backend", "openh264", "-o", o]), 3, "bf");
    assert!(e.contains("B-frames"), "{e}");
    expect_exit(
        &run(&["encode", "--synthetic", "2", "--tune", "lossless", "--backend", "openh264", "-o", o]),
        3,
        "lossless",
    );
    if !available("nvenc", "h264", "encode") {
        expect_exit(&run(&["encode", "--synthetic", "2", "--backend", "nvenc", "-o", o]), 3, "nvenc");
    }
    if !any_available("h264", "encode") || !available("nvenc", "h264", "encode") {
        expect_exit(&run(&["encode", "--synthetic", "2", "--require-hardware", "-o", o]), 3, "hardware");
    }
}
