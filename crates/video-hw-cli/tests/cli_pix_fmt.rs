//! `decode --pix-fmt` with ffmpeg's names and meaning (`video_hw::pixels::pix_fmt`, `crates/video-hw/src/pixels/pix_fmt.rs`), FFmpeg off
//! (the built-in rav1d decodes the AV1 fixtures):
//!
//! * at the stream's own depth, `yuv420p10le`/`p010le` (10-bit file) and `yuv420p`/`nv12`
//!   (8-bit file) equal the libdav1d references, as do `yuv420p-auto`/`nv12-auto`;
//! * an 8-bit stream as `yuv420p10le`, `p010le` and `gray` equals ffmpeg's framemd5 of
//!   the same file with the same `-pix_fmt`;
//! * a 10-bit stream as `yuv420p`, `nv12` and `gray` is 8-bit (the frame sizes say so)
//!   and, against ffmpeg's (which dithers where this rounds), at least 50 dB PSNR;
//!   `gray10le` too.
//!
//! * the RGB names (`rgb24`, `bgr24`, `rgba`, `bgra`, and `gbrp` in ffmpeg's plane order
//!   G, B, R) are near ffmpeg's conversion of the same file: their bytes are not ffmpeg's
//!   (another conversion), but a channel or plane in the wrong place would be far off.
//!
//! * with no `--pix-fmt`, the output is the stream's own format, as ffmpeg's default:
//!   its framemd5 equals `ffmpeg -i FILE -f framemd5 -` on 8- and 10-bit AV1, H.264, HEVC
//!   and VP9 fixtures.
//!
//! The comparisons with ffmpeg run where the ffmpeg tool is (CI installs it).
//!
//! `transcode --pix-fmt` sets the encoder's depth the same way: a 10-bit source encodes
//! 8-bit with `yuv420p`, an 8-bit one 10-bit with `yuv420p10le`.

use crate::util;

use std::path::Path;
use std::process::Command;

use util::{expect_exit, frame_lines, testdata};

const TEN: &str = "av1/svtav1-10bit-cars-320x240.ivf";
const EIGHT: &str = "av1/libaom-kf8-cars-320x240.ivf";
const PIXELS: usize = 320 * 240;

fn run_builtin(args: &[&str]) -> std::process::Output {
    util::run_env(args, &[("VIDEO_HW_FFMPEG_DIR", "none")])
}

fn md5s(text: &str) -> Vec<String> {
    frame_lines(text).into_iter().map(|(_, md5)| md5).collect()
}

fn ours(file: &str, pix_fmt: &str, framemd5: bool) -> Vec<u8> {
    let path = testdata(file);
    let mut args = vec!["decode", util::s(&path), "--pix-fmt", pix_fmt, "-o", "-", "-q"];
    if framemd5 {
        args.push("--framemd5");
    }
    let out = run_builtin(&args);
    expect_exit(&out, 0, &format!("{file} as {pix_fmt}"));
    out.stdout
}

/// ffmpeg's decode of `file` (libdav1d) as `pix_fmt`: raw bytes, or framemd5 text.
fn ffmpeg(file: &Path, pix_fmt: &str, framemd5: bool) -> Option<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-threads", "1", "-c:v", "libdav1d", "-i"])
        .arg(file)
        .args(["-map", "0:v:0", "-pix_fmt", pix_fmt, "-f", if framemd5 { "framemd5" } else { "rawvideo" }, "-"])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn reference(file: &str, tag: &str) -> Vec<String> {
    md5s(&std::fs::read_to_string(testdata(&format!("{file}.{tag}.framemd5"))).unwrap())
}

#[test]
fn the_streams_own_depth_equals_the_references() {
    for (file, pix_fmt, tag) in [
        (TEN, "yuv420p10le", "yuv"),
        (TEN, "p010le", "p010"),
        (TEN, "yuv420p-auto", "yuv"),
        (TEN, "nv12-auto", "p010"),
        (EIGHT, "yuv420p", "yuv"),
        (EIGHT, "nv12", "nv12"),
        (EIGHT, "yuv420p-auto", "yuv"),
    ] {
        let got = md5s(&String::from_utf8_lossy(&ours(file, pix_fmt, true)));
        assert_eq!(got, reference(file, tag), "{file} as {pix_fmt}");
    }
}

#[test]
fn an_8_bit_stream_widened_equals_ffmpeg() {
    for pix_fmt in ["yuv420p10le", "p010le", "gray"] {
        let got = md5s(&String::from_utf8_lossy(&ours(EIGHT, pix_fmt, true)));
        assert_eq!(got.len(), 24, "{pix_fmt}");
        match ffmpeg(&testdata(EIGHT), pix_fmt, true) {
            Some(want) => assert_eq!(got, md5s(&String::from_utf8_lossy(&want)), "{EIGHT} as {pix_fmt}"),
            None => eprintln!("note: no ffmpeg tool; {pix_fmt} checked for its frame count only"),
        }
    }
}

#[test]
fn a_10_bit_stream_narrowed_is_8_bit_and_near_ffmpeg() {
    // (name, bytes per frame, peak, bytes per sample)
    for (pix_fmt, frame_bytes, peak, width) in [
        ("yuv420p", PIXELS * 3 / 2, 255.0, 1),
        ("nv12", PIXELS * 3 / 2, 255.0, 1),
        ("gray", PIXELS, 255.0, 1),
        ("gray10le", PIXELS * 2, 1023.0, 2),
    ] {
        let got = ours(TEN, pix_fmt, false);
        assert_eq!(got.len(), 20 * frame_bytes, "{pix_fmt}: 20 frames of {frame_bytes} bytes");
        let Some(want) = ffmpeg(&testdata(TEN), pix_fmt, false) else {
            eprintln!("note: no ffmpeg tool; {pix_fmt} checked for its size only");
            continue;
        };
        assert_eq!(want.len(), got.len(), "{pix_fmt}");
        let sample = |b: &[u8], i: usize| -> f64 {
            if width == 2 { f64::from(u16::from_le_bytes([b[2 * i], b[2 * i + 1]])) } else { f64::from(b[i]) }
        };
        let n = got.len() / width;
        let mse = (0..n).map(|i| (sample(&got, i) - sample(&want, i)).powi(2)).sum::<f64>() / n as f64;
        let psnr = if mse == 0.0 { 99.0 } else { 10.0 * (peak * peak / mse).log10() };
        assert!(psnr >= 50.0, "{pix_fmt}: {psnr:.1} dB against ffmpeg's");
    }
}

/// PSNR of 8-bit `got` against `want` (same length).
fn psnr8(got: &[u8], want: &[u8]) -> f64 {
    let mse =
        got.iter().zip(want).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum::<f64>() / got.len() as f64;
    if mse == 0.0 { 99.0 } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

#[test]
fn rgb_names_are_near_ffmpegs_in_its_channel_and_plane_order() {
    for (pix_fmt, bytes_per_pixel) in [("rgb24", 3), ("bgr24", 3), ("rgba", 4), ("bgra", 4), ("gbrp", 3)] {
        let got = ours(EIGHT, pix_fmt, false);
        assert_eq!(got.len(), 24 * PIXELS * bytes_per_pixel, "{pix_fmt}: 24 frames");
        let Some(want) = ffmpeg(&testdata(EIGHT), pix_fmt, false) else {
            eprintln!("note: no ffmpeg tool; {pix_fmt} checked for its size only");
            continue;
        };
        assert_eq!(want.len(), got.len(), "{pix_fmt}");
        let psnr = psnr8(&got, &want);
        eprintln!("{pix_fmt}: {psnr:.1} dB against ffmpeg's");
        assert!(psnr >= 40.0, "{pix_fmt}: {psnr:.1} dB against ffmpeg's");
    }
    // The planes of `gbrp` are those of `rgbp` (R, G, B) reordered.
    let (gbrp, rgbp) = (ours(EIGHT, "gbrp", false), ours(EIGHT, "rgbp", false));
    let frame = 3 * PIXELS;
    for (g, r) in gbrp.chunks(frame).zip(rgbp.chunks(frame)) {
        assert_eq!(g[..PIXELS], r[PIXELS..2 * PIXELS], "G first");
        assert_eq!(g[PIXELS..2 * PIXELS], r[2 * PIXELS..], "then B");
        assert_eq!(g[2 * PIXELS..], r[..PIXELS], "then R");
    }
}

/// `file` decoded at its own depth: its size in 8-bit frames (twice the frame count for a
/// 10-bit stream).
fn eight_bit_frames_at_own_depth(file: &Path) -> usize {
    let out = run_builtin(&["decode", util::s(file), "--pix-fmt", "yuv420p-auto", "-o", "-", "-q"]);
    expect_exit(&out, 0, "decode at the stream's depth");
    let frame = PIXELS * 3 / 2;
    assert_eq!(out.stdout.len() % frame, 0);
    out.stdout.len() / frame
}

#[test]
fn transcode_pix_fmt_sets_the_encoders_depth() {
    let dir = util::tmpdir("transcode-pix-fmt");
    // A 10-bit source into OpenH264, which encodes 8-bit only: refused at its own depth,
    // encoded as `yuv420p` (and `nv12`, the same pictures interleaved).
    let narrow = dir.join("ten.h264");
    let (ten, eight) = (testdata(TEN), testdata(EIGHT));
    let args = ["transcode", util::s(&ten), "--codec", "h264", "-o", util::s(&narrow), "-q"];
    let refused = run_builtin(&args);
    assert_ne!(refused.status.code(), Some(0), "OpenH264 takes no 10-bit pictures");
    for name in ["yuv420p", "nv12"] {
        let mut with = args.to_vec();
        with.extend(["--pix-fmt", name]);
        expect_exit(&run_builtin(&with), 0, &format!("10-bit source as {name}"));
        // 20 frames of one byte per sample: an 8-bit stream.
        assert_eq!(eight_bit_frames_at_own_depth(&narrow), 20, "{name}");
    }
    // An 8-bit source encoded 10-bit by rav1e: two bytes per sample come back.
    let wide = dir.join("eight.ivf");
    let out = run_builtin(&[
        "transcode",
        util::s(&eight),
        "--codec",
        "av1",
        "--preset",
        "fastest",
        "--pix-fmt",
        "yuv420p10le",
        "-o",
        util::s(&wide),
        "-q",
    ]);
    expect_exit(&out, 0, "8-bit source as yuv420p10le");
    assert_eq!(eight_bit_frames_at_own_depth(&wide), 24 * 2, "a 10-bit stream");
    // Names the encoders cannot take are refused as usage errors.
    for name in ["gray", "rgb24", "yuv444p"] {
        let out = run_builtin(&["transcode", util::s(&eight), "-o", util::s(&narrow), "--pix-fmt", name]);
        expect_exit(&out, 2, &format!("--pix-fmt {name}"));
    }
}

/// The frame lines of framemd5 `text` as they are (stream, dts, pts, duration, size, MD5).
fn whole_frame_lines(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(str::to_owned).collect()
}

/// `ffmpeg -i FILE -f framemd5 -` (ffmpeg's default pixel format: the stream's own), its
/// frame lines; `None` where the ffmpeg tool is missing.
fn ffmpeg_default_framemd5(file: &Path) -> Option<Vec<String>> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(file)
        .args(["-map", "0:v:0", "-f", "framemd5", "-"])
        .output()
        .ok()?;
    out.status.success().then(|| whole_frame_lines(&String::from_utf8_lossy(&out.stdout)))
}

/// With no `--pix-fmt`, `decode --framemd5` writes the stream's own format, as ffmpeg does:
/// yuv420p for 8-bit streams, yuv420p10le for 10-bit ones, frame for frame equal to
/// `ffmpeg -i FILE -f framemd5 -` (timestamps, sizes and MD5s). The built-in engines (rav1d, OpenH264)
/// run with FFmpeg off; HEVC, VP9 and 10-bit H.264 need the FFmpeg engine. All the files
/// are 320x240.
#[test]
fn the_default_is_the_streams_own_format_as_ffmpegs() {
    let builtin = [(EIGHT, 8), (TEN, 10), ("h264/cbp-cavlc-cars-320x240.h264", 8)];
    let with_ffmpeg = [
        ("hevc/main10-mandelbrot-320x240.h265", 10),
        ("h264/high10-mandelbrot-320x240.h264", 10),
        ("vp9/libvpx-10bit-cars-320x240.ivf", 10),
        ("vp9/libvpx-10bit-cars-320x240.webm", 10),
        ("hevc/main-bframes-cars-320x240.h265", 8),
    ];
    let no_ffmpeg: &[(&str, &str)] = &[("VIDEO_HW_FFMPEG_DIR", "none")];
    let runs = builtin.iter().map(|&(f, b)| (f, b, no_ffmpeg));
    let runs = runs.chain(with_ffmpeg.iter().filter(|_| util::ffmpeg_loaded()).map(|&(f, b)| (f, b, &[][..])));
    let tool = Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success());
    for (file, bits, env) in runs {
        let path = testdata(file);
        let out = util::run_env(&["decode", util::s(&path), "--framemd5", "-o", "-", "-q"], env);
        expect_exit(&out, 0, file);
        let got = frame_lines(&String::from_utf8_lossy(&out.stdout));
        let frame = PIXELS * 3 / 2 * if bits == 10 { 2 } else { 1 };
        assert!(!got.is_empty() && got.iter().all(|(size, _)| *size == frame.to_string()), "{file}: {got:?}");
        if tool {
            let want = ffmpeg_default_framemd5(&path).unwrap_or_else(|| panic!("ffmpeg could not decode {file}"));
            let got = whole_frame_lines(&String::from_utf8_lossy(&out.stdout));
            assert_eq!(got, want, "{file}: the default output against ffmpeg's");
        }
    }
    // `--pix-fmt yuv420p` still means 8 bits.
    let ten = testdata(TEN);
    let args = ["decode", util::s(&ten), "--pix-fmt", "yuv420p", "--framemd5", "-o", "-", "-q"];
    let out = util::run_env(&args, no_ffmpeg);
    expect_exit(&out, 0, "10-bit as yuv420p");
    let got = frame_lines(&String::from_utf8_lossy(&out.stdout));
    assert!(got.len() == 20 && got.iter().all(|(size, _)| *size == (PIXELS * 3 / 2).to_string()), "{got:?}");
}
