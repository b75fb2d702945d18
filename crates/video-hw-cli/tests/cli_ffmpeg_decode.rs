//! `video-hw decode` and `video-hw probe` with the FFmpeg engine, FFmpeg loaded at run
//! time (each test checks nothing where none is loaded; see `util::need_ffmpeg`): HEVC decodes end to end with no GPU, bit-exact with the ffmpeg references
//! of the fixtures, from Annex-B and from MP4, 8- and 10-bit; AV1 and VP9 from IVF.

use crate::util;

use util::{expect_exit, frame_lines, run, s, testdata, tmpdir};

/// Decodes `input` to framemd5 text with `args` added; `name` must be unique per call
/// (tests run in parallel). Returns the text and stderr.
fn framemd5(input: &str, name: &str, args: &[&str]) -> (String, String) {
    let scratch = tmpdir(&format!("ffmpeg-{name}"));
    let out = scratch.join("out.framemd5");
    let input_path = testdata(input);
    let mut argv = vec!["decode", s(&input_path), "-o", s(&out), "--framemd5"];
    argv.extend_from_slice(args);
    let o = run(&argv);
    let stderr = expect_exit(&o, 0, input);
    (std::fs::read_to_string(&out).unwrap(), stderr)
}

#[test]
fn hevc_decodes_end_to_end_bit_exact() {
    if !util::need_ffmpeg() {
        return;
    }
    for rel in [
        "hevc/main-bframes-cars-320x240.h265",
        "hevc/crop-318x178-cars.h265",
        "hevc/open-gop-cra-rasl-cars-320x240.h265",
    ] {
        for (fmt, tag) in [("yuv420p", "yuv"), ("nv12", "nv12")] {
            let name = format!("{}-{tag}", rel.replace('/', "_"));
            let (got, stderr) = framemd5(rel, &name, &["--pix-fmt", fmt]);
            let want = std::fs::read_to_string(testdata(&format!("{rel}.{tag}.framemd5"))).unwrap();
            // The whole file: header (timebase, size, aspect ratio) and every column.
            assert_eq!(got, want, "{rel} as {fmt}");
            assert!(stderr.contains("decoder ffmpeg hevc"), "{stderr}");
        }
    }
}

#[test]
fn hevc_10bit_decodes_to_p010_and_yuv420p10() {
    if !util::need_ffmpeg() {
        return;
    }
    let rel = "hevc/main10-mandelbrot-320x240.h265";
    // ffmpeg's names state the depth; the -auto names keep the stream's.
    for (fmt, tag) in [("yuv420p10le", "yuv"), ("p010le", "p010"), ("yuv420p-auto", "yuv"), ("nv12-auto", "p010")] {
        let (got, _) = framemd5(rel, &format!("main10-{tag}"), &["--pix-fmt", fmt, "-q"]);
        let want = std::fs::read_to_string(testdata(&format!("{rel}.{tag}.framemd5"))).unwrap();
        // Every frame's size and MD5 (the header's aspect ratio comes from the CLI's own
        // stream parse, not from the engine).
        assert_eq!(frame_lines(&got), frame_lines(&want), "{rel} as {fmt}");
    }
}

#[test]
fn explicit_ffmpeg_backend_and_mp4_input() {
    if !util::need_ffmpeg() {
        return;
    }
    let (from_mp4, stderr) = framemd5("mp4/main-bframes-cars-320x240.mp4", "mp4", &["--backend", "ffmpeg"]);
    assert!(!stderr.contains("falling back"), "an explicit engine never falls back: {stderr}");
    let want = std::fs::read_to_string(testdata("hevc/main-bframes-cars-320x240.h265.yuv.framemd5")).unwrap();
    assert_eq!(frame_lines(&from_mp4), frame_lines(&want));

    // H.264 with B-frames: bit-exact here, where OpenH264 is not.
    let rel = "h264/main-cabac-bframes-testsrc2-320x240.h264";
    let (got, _) = framemd5(rel, "h264-bframes", &["--backend", "ffmpeg", "-q"]);
    let want = std::fs::read_to_string(testdata(&format!("{rel}.yuv.framemd5"))).unwrap();
    assert_eq!(frame_lines(&got), frame_lines(&want), "{rel}");
}

#[test]
fn probe_lists_the_ffmpeg_decoders() {
    if !util::need_ffmpeg() {
        return;
    }
    let o = run(&["probe", "--json"]);
    expect_exit(&o, 0, "probe");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let line = |engine: &str, codec: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["engine"] == engine && r["codec"] == codec && r["direction"] == "decode")
            .cloned()
            .unwrap_or_else(|| panic!("no probe line for {engine} {codec}"))
    };
    for codec in ["h264", "hevc", "av1", "vp9"] {
        let r = line("ffmpeg", codec);
        assert_eq!(r["available"], true, "{r}");
        assert!(r["driver"].as_str().unwrap().contains("libavcodec"), "{r}");
    }
    if !std::path::Path::new("/dev/dri").exists() {
        let r = line("vaapi", "hevc");
        assert_eq!(r["available"], false);
        // An FFmpeg built without VA-API (a PyAV wheel's) says that first.
        let reason = r["reason"].as_str().unwrap_or("");
        assert!(reason == "no /dev/dri/renderD* device" || reason.contains("no vaapi path in this build"), "{r}");
    }
}

#[test]
fn ivf_av1_and_vp9_decode_bit_exact() {
    if !util::need_ffmpeg() {
        return;
    }
    for (rel, decoder) in [("av1/svtav1-cars-320x240.ivf", "libdav1d"), ("vp9/libvpx-cars-320x240.ivf", "vp9")] {
        for (fmt, tag) in [("yuv420p", "yuv"), ("nv12", "nv12")] {
            let name = format!("{}-{tag}", rel.replace('/', "_"));
            let (got, stderr) = framemd5(rel, &name, &["--pix-fmt", fmt]);
            let want = std::fs::read_to_string(testdata(&format!("{rel}.{tag}.framemd5"))).unwrap();
            // The whole file: header (IVF timebase 1/25, size) and every frame.
            assert_eq!(got, want, "{rel} as {fmt}");
            assert!(stderr.contains(&format!("decoder ffmpeg {decoder}")), "{stderr}");
            assert!(stderr.contains("decoded 10 frames"), "{stderr}");
        }
    }
}

/// VP9 Profile 2 (10-bit) in IVF and WebM, through libavcodec's vp9: yuv420p10le and
/// p010le equal ffmpeg's framemd5 (header and every frame; the WebM's timebase is its own).
#[test]
fn vp9_10_bit_decodes_bit_exact_in_ivf_and_webm() {
    if !util::need_ffmpeg() {
        return;
    }
    for rel in ["vp9/libvpx-10bit-cars-320x240.ivf", "vp9/libvpx-10bit-cars-320x240.webm"] {
        for (fmt, tag) in [("yuv420p10le", "yuv"), ("p010le", "p010")] {
            let name = format!("{}-{tag}", rel.replace('/', "_"));
            let (got, stderr) = framemd5(rel, &name, &["--pix-fmt", fmt]);
            let want = std::fs::read_to_string(testdata(&format!("{rel}.{tag}.framemd5"))).unwrap();
            assert_eq!(frame_lines(&got), frame_lines(&want), "{rel} as {fmt}");
            assert!(stderr.contains("decoder ffmpeg vp9"), "{stderr}");
            assert!(stderr.contains("decoded 12 frames"), "{stderr}");
        }
    }
}

#[test]
fn truncated_ivf_keeps_the_frames_before_the_break() {
    if !util::need_ffmpeg() {
        return;
    }
    let data = std::fs::read(testdata("vp9/libvpx-cars-320x240.ivf")).unwrap();
    let dir = tmpdir("ivf-truncated");
    let input = dir.join("cut.ivf");
    // Cut inside the last packet.
    std::fs::write(&input, &data[..data.len() - 20]).unwrap();
    let out = dir.join("out.framemd5");
    let o = run(&["decode", s(&input), "-o", s(&out), "--framemd5"]);
    let stderr = expect_exit(&o, 4, "truncated IVF");
    assert!(stderr.contains("an IVF packet needs"), "{stderr}");
    let want = std::fs::read_to_string(testdata("vp9/libvpx-cars-320x240.ivf.yuv.framemd5")).unwrap();
    let got = frame_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(got[..], frame_lines(&want)[..9]);
}

/// The codecs only the FFmpeg engine decodes (`testdata/codecs`): `decode` equals ffmpeg's
/// framemd5 frame for frame (ProRes at 10 bits), with no fallback reported (no other
/// engine takes them); `decode --start/--count` (through the frame index) gives the same
/// frames; `info` and `probe` name them. Without FFmpeg, `decode` exits 3 naming the codec.
#[test]
fn codecs_only_ffmpeg_decodes() {
    let clips = [
        ("codecs/mpeg2-cars-160x120.ts", "mpeg2video", "yuv420p"),
        ("codecs/mpeg4-cars-160x120.mkv", "mpeg4", "yuv420p"),
        ("codecs/vp8-cars-160x120.webm", "vp8", "yuv420p"),
        ("codecs/mjpeg-cars-160x120.mov", "mjpeg", "yuv420p"),
        ("codecs/prores-cars-160x120.mov", "prores", "yuv420p10le"),
    ];
    for (rel, codec, fmt) in clips {
        let o = run(&["info", "--json", s(&testdata(rel))]);
        expect_exit(&o, 0, rel);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["tracks"][0]["codec"], codec, "{v}");
        if !util::ffmpeg_loaded() {
            let o = run(&["decode", s(&testdata(rel)), "--framemd5", "-o", "-"]);
            let stderr = expect_exit(&o, 3, rel);
            assert!(stderr.contains(&format!("no engine can decode {codec} here")), "{stderr}");
            continue;
        }
        let name = rel.replace('/', "_");
        let (got, stderr) = framemd5(rel, &name, &["--pix-fmt", fmt]);
        let want = std::fs::read_to_string(testdata(&format!("{rel}.yuv.framemd5"))).unwrap();
        assert_eq!(frame_lines(&got), frame_lines(&want), "{rel}");
        assert!(stderr.contains(&format!("decoder ffmpeg {codec}")) || codec == "vp8", "{stderr}");
        assert!(stderr.contains("no fallback") && !stderr.contains("falling back"), "{stderr}");
        // Frames 7-11 through the index (a seek): the same lines as the reference's.
        let (sel, _) = framemd5(rel, &format!("{name}-sel"), &["--pix-fmt", fmt, "--indices", "7,8,9,10,11", "-q"]);
        assert_eq!(frame_lines(&sel), frame_lines(&want)[7..12].to_vec(), "{rel} frames 7-11");
    }
    if util::ffmpeg_loaded() {
        let o = run(&["probe", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for codec in ["vp8", "mpeg2video", "mpeg4", "mjpeg", "prores"] {
            let r = v.as_array().unwrap().iter().find(|r| r["engine"] == "ffmpeg" && r["codec"] == codec).cloned();
            assert_eq!(r.as_ref().map(|r| r["available"].clone()), Some(serde_json::Value::Bool(true)), "{r:?}");
        }
    }
}
