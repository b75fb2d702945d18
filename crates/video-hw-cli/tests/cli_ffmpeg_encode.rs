//! `video-hw encode` and `transcode` with the FFmpeg engine (FFmpeg loaded at run time; the tests
//! that need it check nothing where none is loaded, see `util::need_ffmpeg`):
//! libx264 and libx265 through `--backend ffmpeg`, B-frames into MP4, and an explicit
//! `--backend vaapi` that refuses with its reason (no render node; where no FFmpeg is
//! loaded, why not) instead of falling back; an FFmpeg encoder named with `--encoder`.

use crate::util;

use std::path::Path;
use std::process::Command;

use util::{expect_exit, ffprobe, ffprobe_json, run, s, testdata, tmpdir};

const W: usize = 320;
const H: usize = 240;

/// The y4m fixture's 8 frames, without headers.
fn source_frames() -> Vec<u8> {
    std::fs::read(testdata("real/cars-320x240-25fps.yuv")).unwrap()
}

fn luma_psnr(a: &[u8], b: &[u8]) -> f64 {
    let frame = W * H * 3 / 2;
    assert_eq!(a.len(), b.len(), "same number of frames");
    let (mut se, mut n) = (0f64, 0f64);
    for (fa, fb) in a.chunks(frame).zip(b.chunks(frame)) {
        for (x, y) in fa[..W * H].iter().zip(&fb[..W * H]) {
            se += (*x as f64 - *y as f64).powi(2);
            n += 1.0;
        }
    }
    10.0 * (255.0f64 * 255.0 / (se / n).max(1e-9)).log10()
}

/// Decodes `path` to raw yuv420p with the ffmpeg CLI, when it is installed.
fn ffmpeg_decode(path: &Path) -> Option<Vec<u8>> {
    let out = path.with_extension("ffmpeg.yuv");
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .output()
        .ok()?;
    assert!(o.status.success(), "ffmpeg decode: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out).ok()
}

fn summary(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON summary")
}

#[test]
fn encode_with_libx264_decodes_back() {
    if !util::need_ffmpeg() {
        return;
    }
    let dir = tmpdir("ffx264");
    let out = dir.join("cars.h264");
    let y4m = testdata("real/cars-320x240.y4m");
    let o = run(&["encode", s(&y4m), "-o", s(&out), "--backend", "ffmpeg", "--quality", "18", "--gop", "4", "--json"]);
    expect_exit(&o, 0, "libx264");
    let v = summary(&o);
    assert!(v["encoder"].as_str().is_some_and(|e| e.contains("libx264")), "{v}");
    let decoded = dir.join("back.yuv");
    expect_exit(&run(&["decode", s(&out), "-o", s(&decoded), "-q"]), 0, "decode back");
    let db = luma_psnr(&std::fs::read(&decoded).unwrap(), &source_frames());
    assert!(db > 38.0, "CRF 18 gives a close copy: {db:.1} dB");
}

#[test]
fn encode_with_libx265_and_bframes_into_mp4() {
    if !util::need_ffmpeg() {
        return;
    }
    let dir = tmpdir("ffx265");
    let y4m = testdata("real/cars-320x240.y4m");
    let h265 = dir.join("cars.h265");
    let o = run(&["encode", s(&y4m), "-o", s(&h265), "--backend", "ffmpeg", "--quality", "20", "--json"]);
    expect_exit(&o, 0, "libx265");
    assert!(summary(&o)["encoder"].as_str().is_some_and(|e| e.contains("libx265")));
    let mp4 = dir.join("cars.mp4");
    let o = run(&[
        "encode",
        s(&y4m),
        "-o",
        s(&mp4),
        "--backend",
        "ffmpeg",
        "--codec",
        "hevc",
        "--bframes",
        "2",
        "--gop",
        "8",
        "-q",
    ]);
    expect_exit(&o, 0, "libx265 into MP4");
    if !ffprobe() {
        eprintln!("note: ffprobe not found; skipping the stream checks (CI installs it)");
        return;
    }
    let v = ffprobe_json(&mp4, &["-count_frames", "-show_streams"]);
    let st = &v["streams"][0];
    assert_eq!(st["codec_name"], "hevc");
    assert_eq!(st["nb_read_frames"], "8", "{st}");
    let packets = ffprobe_json(&mp4, &["-show_packets"]);
    let reordered = packets["packets"].as_array().unwrap().iter().any(|p| p["pts"] != p["dts"]);
    assert!(reordered, "B-frames: some dts differ from pts");
    for path in [&h265, &mp4] {
        if let Some(raw) = ffmpeg_decode(path) {
            let db = luma_psnr(&raw, &source_frames());
            assert!(db > 36.0, "{}: {db:.1} dB", path.display());
        }
    }
}

#[test]
fn transcode_encodes_with_the_ffmpeg_engine() {
    if !util::need_ffmpeg() {
        return;
    }
    let dir = tmpdir("fftranscode");
    let out = dir.join("out.h265");
    let input = testdata("h264/cbp-cavlc-cars-320x240.h264");
    let o = run(&["transcode", s(&input), "-o", s(&out), "--backend", "ffmpeg", "--json", "-q"]);
    expect_exit(&o, 0, "transcode to HEVC with libx265");
    let v = summary(&o);
    assert!(v["encoder"].as_str().is_some_and(|e| e.contains("libx265")), "{v}");
    assert!(v["frames"].as_u64().is_some_and(|n| n > 0), "{v}");
}

/// HEVC in, HEVC out, end to end in the CLI: libavcodec decodes (no GPU here), libx265
/// encodes; the output decodes back (ffmpeg CLI) with every frame and a sane PSNR against
/// the input's own decode.
#[test]
fn hevc_transcode_end_to_end_with_ffmpeg_decode_and_libx265() {
    if !util::need_ffmpeg() {
        return;
    }
    let dir = tmpdir("ffhevc2hevc");
    // A copy, so that decoding it back writes beside it in the temporary folder.
    let input = dir.join("in.h265");
    std::fs::copy(testdata("hevc/main-bframes-cars-320x240.h265"), &input).unwrap();
    let out = dir.join("out.h265");
    let o = run(&[
        "transcode",
        s(&input),
        "-o",
        s(&out),
        "--decoder-backend",
        "ffmpeg",
        "--backend",
        "ffmpeg",
        "--bitrate",
        "800k",
        "--json",
        "-q",
    ]);
    expect_exit(&o, 0, "HEVC -> HEVC transcode through the FFmpeg engine");
    let v = summary(&o);
    assert!(v["decoder"].as_str().is_some_and(|d| d.contains("ffmpeg")), "{v}");
    assert!(v["encoder"].as_str().is_some_and(|e| e.contains("libx265")), "{v}");
    let (Some(src), Some(dst)) = (ffmpeg_decode(&input), ffmpeg_decode(&out)) else {
        eprintln!("note: ffmpeg CLI not found; output not decoded back");
        return;
    };
    assert_eq!(src.len(), dst.len(), "same number of frames of the same size");
    assert_eq!(v["frames"].as_u64().unwrap() as usize * 320 * 240 * 3 / 2, dst.len(), "{v}");
    let db = luma_psnr(&src, &dst);
    assert!(db > 34.0, "HEVC transcode PSNR {db:.1} dB");
}

#[test]
fn explicit_vaapi_refuses_with_the_reason() {
    if Path::new("/dev/dri").exists() {
        eprintln!("note: /dev/dri exists here; the refusal is checked where it does not");
        return;
    }
    // VA-API and QSV run through FFmpeg: where none is loaded, the reason is why not.
    let reason = match util::ffmpeg_loaded() {
        true => "no /dev/dri/renderD* device".to_string(),
        false => video_hw::registry::ffmpeg_runtime().summary,
    };
    let dir = tmpdir("ffvaapi");
    let out = dir.join("o.h264");
    for engine in ["vaapi", "qsv"] {
        let o = run(&["encode", "--synthetic", "2", "--backend", engine, "-o", s(&out)]);
        let err = expect_exit(&o, 3, engine);
        // An FFmpeg built without the encoder (a PyAV wheel's) says that first.
        assert!(err.contains(&reason) || err.contains("not in this FFmpeg build"), "{engine}: {err}");
        assert!(!err.contains("falling back"), "an explicit engine never falls back: {err}");
    }
}

/// `--encoder NAME` opens that FFmpeg encoder (on its engine, with `--backend auto`), or
/// exits 3 saying why not: a name of no engine, or an encoder of another codec.
#[test]
fn encoder_by_name() {
    let dir = tmpdir("ffnamed");
    let out = dir.join("o.ivf");
    let err = expect_exit(&run(&["encode", "--synthetic", "2", "--encoder", "nope", "-o", s(&out)]), 3, "nope");
    assert!(err.contains("video-hw drives no FFmpeg encoder of that name"), "{err}");
    // An encoder of another codec (the output name says AV1), refused before any FFmpeg.
    let err = expect_exit(&run(&["encode", "--synthetic", "2", "--encoder", "libx264", "-o", s(&out)]), 3, "libx264");
    assert!(err.contains("libx264 encodes h264, not av1"), "{err}");
    if !util::need_ffmpeg() {
        return;
    }
    let o =
        run(&["encode", "--synthetic", "6", "--encoder", "libaom-av1", "--bitrate", "300k", "--json", "-o", s(&out)]);
    if o.status.code() == Some(3) {
        // An FFmpeg without libaom (PyAV 18's) says so, and FFmpeg 7.1 refuses libaom's
        // bitrate targets (`aom::cbr_refused`).
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("encoder libaom-av1 not in this FFmpeg build") || err.contains("libavcodec 61.19"),
            "{err}"
        );
        return;
    }
    expect_exit(&o, 0, "libaom-av1");
    let v = summary(&o);
    assert!(v["encoder"].as_str().is_some_and(|e| e.starts_with("ffmpeg libaom-av1")), "{v}");
    assert_eq!(v["fallbacks"], serde_json::json!([]), "{v}");
}
