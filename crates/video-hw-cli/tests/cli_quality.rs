//! `encode --psnr --ssim` and `transcode --psnr`: the summary's quality figures, as x264
//! prints them, agree with ffmpeg's `psnr` and `ssim` filters on the same output (the
//! global PSNR within 0.01 dB, luma SSIM within 1e-4); every frame is measured; the
//! measurement's decoder is no fallback of the job's.

use crate::util;

use std::process::Command;

use util::{expect_exit, testdata};

/// ffmpeg's global PSNR (its "average") and luma SSIM of `encoded` against `source`.
fn ffmpeg_figures(encoded: &std::path::Path, source: &std::path::Path) -> Option<(f64, f64)> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(encoded)
        .arg("-i")
        .arg(source)
        // Frames paired by index (a raw stream's timestamps are the demuxer's guesses).
        .args([
            "-lavfi",
            "[0:v]settb=1,setpts=N,split[a0][a1];[1:v]settb=1,setpts=N,split[b0][b1];[a0][b0]psnr;[a1][b1]ssim",
            "-f",
            "null",
            "-",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let after = |key: &str| -> Option<f64> {
        let at = text.find(key)? + key.len();
        text[at..].split(|c: char| c != '.' && !c.is_ascii_digit()).next()?.parse().ok()
    };
    Some((after("average:")?, after("SSIM Y:")?))
}

/// The camera clip as a y4m file (decoded by video-hw itself, raw I420 frames with a
/// YUV4MPEG2 header and frame markers added).
fn camera_y4m(dir: &std::path::Path) -> std::path::PathBuf {
    let raw = dir.join("camera.yuv");
    let out = util::run(&[
        "decode",
        util::s(&testdata("real/camera-640x360.h264")),
        "-o",
        util::s(&raw),
        "-q",
        "--backend",
        "openh264",
    ]);
    expect_exit(&out, 0, "decode the camera clip");
    let frames = std::fs::read(&raw).unwrap();
    let size = 640 * 360 * 3 / 2;
    assert_eq!(frames.len(), 90 * size);
    let mut y4m = b"YUV4MPEG2 W640 H360 F30000:1001 Ip A1:1 C420jpeg\n".to_vec();
    for f in frames.chunks(size) {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend_from_slice(f);
    }
    let path = dir.join("camera.y4m");
    std::fs::write(&path, y4m).unwrap();
    path
}

#[test]
fn encode_psnr_and_ssim_agree_with_ffmpeg() {
    let dir = util::tmpdir("quality");
    let y4m = camera_y4m(&dir);
    let out_file = dir.join("out.h264");
    let out = util::run(&[
        "encode",
        util::s(&y4m),
        "--backend",
        "openh264",
        "--bitrate",
        "400k",
        "--psnr",
        "--ssim",
        "--json",
        "-o",
        util::s(&out_file),
    ]);
    let stderr = expect_exit(&out, 0, "encode --psnr --ssim");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let q = &v["quality"];
    assert_eq!((q["frames"].as_u64(), q["unmatched"].as_u64()), (Some(90), Some(0)), "{q}");
    assert_eq!(v["fallbacks"].as_array().map(Vec::len), Some(0), "the meter's decoder is no fallback: {v}");
    let global = q["psnr"]["global"].as_f64().unwrap();
    let ssim = q["ssim"]["y"].as_f64().unwrap();
    for key in ["y", "u", "v", "avg"] {
        let p = q["psnr"][key].as_f64().unwrap();
        assert!((20.0..60.0).contains(&p), "PSNR {key} {p}");
    }
    match ffmpeg_figures(&out_file, &y4m) {
        Some((f_global, f_ssim)) => {
            assert!((global - f_global).abs() < 0.01, "global PSNR {global} against ffmpeg's {f_global}");
            assert!((ssim - f_ssim).abs() < 1e-4, "SSIM {ssim} against ffmpeg's {f_ssim}");
        }
        None => eprintln!("note: no ffmpeg tool; the figures were checked for range only"),
    }
    // The text summary as x264 prints it.
    let out = util::run(&[
        "encode",
        util::s(&y4m),
        "--backend",
        "openh264",
        "--qp",
        "30",
        "--ssim",
        "-o",
        util::s(&dir.join("qp.h264")),
    ]);
    let stderr = expect_exit(&out, 0, "encode --ssim");
    assert!(stderr.contains("PSNR Mean Y:") && stderr.contains(" Global:"), "{stderr}");
    assert!(stderr.contains("SSIM Mean Y:0.") && stderr.contains("db)"), "{stderr}");
}

#[test]
fn transcode_measures_against_the_decoded_input() {
    let dir = util::tmpdir("quality-transcode");
    let out_file = dir.join("out.mp4");
    let out = util::run(&[
        "transcode",
        util::s(&testdata("real/camera-640x360.h264")),
        "--backend",
        "openh264",
        "--bitrate",
        "300k",
        "--psnr",
        "--json",
        "-o",
        util::s(&out_file),
    ]);
    let stderr = expect_exit(&out, 0, "transcode --psnr");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let q = &v["quality"];
    assert_eq!((q["frames"].as_u64(), q["unmatched"].as_u64()), (Some(90), Some(0)), "{q}");
    assert!(q["ssim"].is_null(), "no --ssim: {q}");
    let global = q["psnr"]["global"].as_f64().unwrap();
    let y4m = camera_y4m(&dir);
    if let Some((f_global, _)) = ffmpeg_figures(&out_file, &y4m) {
        assert!((global - f_global).abs() < 0.01, "global PSNR {global} against ffmpeg's {f_global}");
    }
}
