//! `decode` turns frames as the container's display matrix asks, as ffmpeg does (issue
//! #57): on `testdata/media/h264-rotate90.mp4` (a 320x240 H.264 whose `tkhd` turns it 90°
//! counter-clockwise) and `h264-rotate90.mkv` (the same turn as a Matroska `Projection`'s
//! `ProjectionPoseRoll`), the frames come out 240x320 and equal, plane by plane, the coded
//! frames turned (`--no-autorotate` gives those, equal to the committed `-noautorotate`
//! reference); where the ffmpeg tool is on the PATH, `--framemd5` equals `ffmpeg -f
//! framemd5` (which autorotates) frame for frame, and RGB is within 45 dB of `ffmpeg -pix_fmt
//! rgb24` (swscale's rounding, as for unturned frames: docs/transforms.md).

use crate::util;

use std::path::Path;
use std::process::Command;

use util::*;

const MP4: &str = "media/h264-rotate90.mp4";
const MKV: &str = "media/h264-rotate90.mkv";
const W: usize = 320;
const H: usize = 240;
const FRAMES: usize = 100;

/// The CLI's raw output of `file` in `pix_fmt`, with `extra` arguments.
fn decode(file: &str, dir: &Path, name: &str, pix_fmt: &str, extra: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    let input = testdata(file);
    let mut args = vec!["decode", s(&input), "-o", s(&out), "--pix-fmt", pix_fmt, "-q"];
    args.extend_from_slice(extra);
    expect_exit(&run(&args), 0, name);
    std::fs::read(&out).unwrap()
}

/// A `w` × `h` plane of `size`-byte samples turned 90° counter-clockwise (numpy's rot90):
/// displayed (x, y) is coded column w-1-y, row x.
fn turn_plane(p: &[u8], w: usize, h: usize, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.len());
    for y in 0..w {
        for x in 0..h {
            let at = (x * w + (w - 1 - y)) * size;
            out.extend_from_slice(&p[at..at + size]);
        }
    }
    out
}

/// Each I420 frame of `coded` (w × h) turned 90° counter-clockwise.
fn turn_i420(coded: &[u8], w: usize, h: usize) -> Vec<u8> {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let frame = w * h + 2 * cw * ch;
    let mut out = Vec::with_capacity(coded.len());
    for f in coded.chunks_exact(frame) {
        let (y, rest) = f.split_at(w * h);
        let (u, v) = rest.split_at(cw * ch);
        out.extend(turn_plane(y, w, h, 1));
        out.extend(turn_plane(u, cw, ch, 1));
        out.extend(turn_plane(v, cw, ch, 1));
    }
    out
}

/// ffmpeg's decode of `file` (autorotated), `-f format -pix_fmt pix_fmt`; None without it.
fn ffmpeg(file: &str, format: &str, pix_fmt: &str) -> Option<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-threads", "1", "-i"])
        .arg(testdata(file))
        .args(["-map", "0:v:0", "-pix_fmt", pix_fmt, "-f", format, "-"])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

#[test]
fn decode_turns_frames_as_the_display_matrix_asks() {
    check(MP4, "rotate-mp4");
}

#[test]
fn decode_turns_frames_as_the_matroska_projection_asks() {
    check(MKV, "rotate-mkv");
}

fn check(file: &str, tmp: &str) {
    if !any_available("h264", "decode") {
        eprintln!("note: no engine decodes h264 here");
        return;
    }
    let dir = tmpdir(tmp);
    let coded = decode(file, &dir, "coded.yuv", "yuv420p", &["--no-autorotate"]);
    let turned = decode(file, &dir, "turned.yuv", "yuv420p", &[]);
    assert_eq!(coded.len(), FRAMES * W * H * 3 / 2);
    assert!(turned == turn_i420(&coded, W, H), "turned frames are not the coded ones turned");
    // --no-autorotate is the decoded picture: the committed -noautorotate reference.
    let md5 = dir.join("coded.framemd5");
    let input = testdata(file);
    expect_exit(&run(&["decode", s(&input), "-o", s(&md5), "--framemd5", "--no-autorotate", "-q"]), 0, "md5");
    let want = frame_lines(&std::fs::read_to_string(testdata(&format!("{file}.framemd5"))).unwrap());
    assert!(frame_lines(&std::fs::read_to_string(&md5).unwrap()) == want, "--no-autorotate differs from the reference");
    // RGB is turned in the same pass: the coded RGB turned.
    let coded_rgb = decode(file, &dir, "coded.rgb", "rgb24", &["--no-autorotate"]);
    let turned_rgb = decode(file, &dir, "turned.rgb", "rgb24", &[]);
    let frame = W * H * 3;
    let want: Vec<u8> = coded_rgb.chunks_exact(frame).flat_map(|f| turn_plane(f, W, H, 3)).collect();
    assert!(turned_rgb == want, "turned RGB is not the coded RGB turned");
    // A crop and a size are of the turned picture (240 wide, 320 tall).
    let cropped = decode(file, &dir, "crop.yuv", "yuv420p", &["--crop", "0,0,240,160"]);
    assert_eq!(cropped.len(), FRAMES * 240 * 160 * 3 / 2);
    let top: Vec<u8> = turned.chunks_exact(W * H * 3 / 2).flat_map(|f| f[..240 * 160].to_vec()).collect();
    let luma: Vec<u8> = cropped.chunks_exact(240 * 160 * 3 / 2).flat_map(|f| f[..240 * 160].to_vec()).collect();
    assert!(luma == top, "a crop of the turned picture");
    match ffmpeg(file, "framemd5", "yuv420p") {
        Some(text) => {
            let ours = dir.join("turned.framemd5");
            expect_exit(&run(&["decode", s(&input), "-o", s(&ours), "--framemd5", "-q"]), 0, "framemd5");
            let theirs = frame_lines(&String::from_utf8_lossy(&text));
            assert_eq!(theirs.len(), FRAMES, "ffmpeg's frames");
            assert!(frame_lines(&std::fs::read_to_string(&ours).unwrap()) == theirs, "framemd5 differs from ffmpeg's");
            let rgb = ffmpeg(file, "rawvideo", "rgb24").expect("ffmpeg rgb24");
            assert_eq!(rgb.len(), turned_rgb.len());
            let se: f64 = rgb.iter().zip(&turned_rgb).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum();
            let db = 10.0 * (255.0 * 255.0 / (se / rgb.len() as f64).max(1e-12)).log10();
            eprintln!("turned rgb24 against ffmpeg -pix_fmt rgb24: {db:.2} dB");
            assert!(db >= 45.0, "{db:.2} dB");
        }
        None => eprintln!("note: no ffmpeg tool on the PATH; not compared with it"),
    }
}
