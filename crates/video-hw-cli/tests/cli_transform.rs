//! `decode --size/--crop/--scale-filter/--letterbox` and the transform-only `--pix-fmt`
//! values: the frames are the library's transform of the decoded ones, every frame comes
//! out, and bad values exit 2 before any frame; `transcode --size` encodes a rendition;
//! `--color-matrix` (an untagged 720-line stream is BT.601 by default, as ffmpeg gives it).

use crate::util;

use std::process::Command;

use util::*;
use video_hw::frame::HostFrame;
use video_hw::pixels::transform::{Filter, Transform};
use video_hw::{Channels, Frame, FrameData, PixelFormat, SampleType};

const INPUT: &str = "media/h264-aac.mp4";
const W: u32 = 320;
const H: u32 = 240;
const FRAMES: usize = 100;

/// The input's frames as NV12, decoded by the CLI at full size.
fn nv12_frames(dir: &std::path::Path) -> Vec<Frame> {
    let raw = dir.join("full.nv12");
    expect_exit(&run(&["decode", s(&testdata(INPUT)), "-o", s(&raw), "--pix-fmt", "nv12", "-q"]), 0, "full size");
    let bytes = std::fs::read(&raw).unwrap();
    let size = PixelFormat::Nv12.frame_size(W, H);
    assert_eq!(bytes.len(), FRAMES * size);
    bytes
        .chunks_exact(size)
        .map(|c| {
            Frame::host(PixelFormat::Nv12, W, H, HostFrame::from_packed(PixelFormat::Nv12, W, H, c.to_vec()).unwrap())
        })
        .collect()
}

#[test]
fn decode_size_crop_and_format_give_the_transform_of_every_frame() {
    let dir = tmpdir("transform");
    let frames = nv12_frames(&dir);
    let input = testdata(INPUT);
    let cases: Vec<(Vec<&str>, Transform)> = vec![
        (
            vec!["--pix-fmt", "rgb24", "--size", "64x48"],
            Transform::new().resize(64, 48).rgb(Channels::Rgb, false, SampleType::U8),
        ),
        (
            vec!["--pix-fmt", "rgbpf32", "--size", "33x21", "--crop", "10,20,200,150", "--scale-filter", "area"],
            Transform::new().crop(10, 20, 200, 150).resize(33, 21).filter(Filter::Area).rgb(
                Channels::Rgb,
                true,
                SampleType::F32,
            ),
        ),
        (
            vec!["--pix-fmt", "bgr24", "--size", "50x31", "--scale-filter", "triangle"],
            Transform::new().resize(50, 31).filter(Filter::Triangle).rgb(Channels::Bgr, false, SampleType::U8),
        ),
        (
            vec!["--pix-fmt", "yuv420p", "--size", "100x40", "--letterbox"],
            Transform::new().resize(100, 40).letterbox([0, 0, 0]).format(PixelFormat::Yuv420p),
        ),
        (vec!["--pix-fmt", "bgr24"], Transform::new().rgb(Channels::Bgr, false, SampleType::U8)),
    ];
    for (args, t) in cases {
        let out = dir.join("out.raw");
        let mut cmd = vec!["decode", s(&input), "-o", s(&out), "-q"];
        cmd.extend(&args);
        expect_exit(&run(&cmd), 0, &args.join(" "));
        let got = std::fs::read(&out).unwrap();
        let want: Vec<u8> = frames
            .iter()
            .flat_map(|f| {
                let FrameData::Host(h) = t.apply(f).unwrap().data else { panic!() };
                h.as_bytes().to_vec()
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{args:?}: every frame, at the transformed size");
        assert!(got == want, "{args:?}: the library's transform of each decoded frame");
    }
}

#[test]
fn bad_transform_options_exit_2_before_any_frame() {
    let dir = tmpdir("transform-bad");
    let out = dir.join("o.raw");
    let input = testdata(INPUT);
    for args in [
        vec!["--crop", "400,0,10,10"],
        vec!["--size", "0x10"],
        vec!["--crop", "1,2,3"],
        vec!["--letterbox"],
        vec!["--scale-filter", "lanczos"],
        vec!["--pix-fmt", "yuv444p"],
        vec!["--pix-fmt", "rgb24", "--size", "20000x10"],
    ] {
        let mut cmd = vec!["decode", s(&input), "-o", s(&out), "-q"];
        cmd.extend(&args);
        let o = run(&cmd);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(std::fs::read(&out).map_or(true, |b| b.is_empty()), "{args:?}: no frame written");
    }
    // The crop is checked against the container's picture size before decoding starts.
    let o = run(&["decode", s(&testdata(INPUT)), "-o", s(&out), "--crop", "400,0,10,10", "-q"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("transform.crop") && stderr.contains("320x240"), "{stderr}");
    assert!(!stderr.contains("frames"), "refused before any frame: {stderr}");
}

#[test]
fn transcode_size_encodes_a_rendition() {
    let dir = tmpdir("transform-transcode");
    let out = dir.join("small.mp4");
    expect_exit(&run(&["transcode", s(&testdata(INPUT)), "-o", s(&out), "--size", "160x90", "-q"]), 0, "transcode");
    let odd = run(&["transcode", s(&testdata(INPUT)), "-o", s(&out), "--size", "161x90", "-q"]);
    assert_eq!(odd.status.code(), Some(2), "{}", String::from_utf8_lossy(&odd.stderr));
    if !ffprobe() {
        return;
    }
    let p = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args(["-show_entries", "stream=width,height,nb_read_frames", "-of", "csv=p=0"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&p.stdout).trim(), format!("160,90,{FRAMES}"));
}

/// `ffmpeg -i file -pix_fmt rgb24` (swscale), when the tool is on the PATH.
fn ffmpeg_rgb24(file: &std::path::Path) -> Option<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(file)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// PSNR (peak 255) of two byte buffers of one size.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "output size");
    let se: f64 = a.iter().zip(b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum();
    let mse = se / a.len() as f64;
    if mse == 0.0 { 99.0 } else { 10.0 * (255.0 * 255.0 / mse).log10() }
}

#[test]
fn decode_untagged_hd_to_rgb_as_ffmpeg_and_color_matrix_changes_it() {
    let dir = tmpdir("color-matrix");
    let input = testdata("colour/yuv420p-untagged-testsrc2-1280x720.mp4");
    let decode = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec!["decode", s(&input), "-o", s(&out), "--pix-fmt", "rgb24", "-q"];
        args.extend_from_slice(extra);
        expect_exit(&run(&args), 0, name);
        std::fs::read(&out).unwrap()
    };
    let default = decode("default.rgb", &[]);
    assert_eq!(default.len(), 3 * 1280 * 720 * 3);
    let bt601 = decode("bt601.rgb", &["--color-matrix", "bt601"]);
    let bt709 = decode("bt709.rgb", &["--color-matrix", "bt709"]);
    let auto_hd = decode("auto-hd.rgb", &["--color-matrix", "auto-hd"]);
    let largest = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
    assert!(largest(&default, &bt601) <= 1, "default is BT.601 for an untagged stream");
    assert!(largest(&default, &bt709) > 10, "--color-matrix bt709 changes the colours");
    assert!(largest(&auto_hd, &bt709) <= 1, "auto-hd is BT.709 at 720 lines");
    match ffmpeg_rgb24(&input) {
        Some(reference) => {
            let (ours, other) = (psnr(&default, &reference), psnr(&bt709, &reference));
            assert!(ours >= 45.0, "{ours:.2} dB against ffmpeg -pix_fmt rgb24");
            assert!(other < 40.0, "--color-matrix bt709 is as close to ffmpeg ({other:.2} dB)");
        }
        None => eprintln!("note: no ffmpeg tool on the PATH; not compared with it"),
    }
    let bad = run(&["decode", s(&input), "-o", s(&dir.join("x")), "--pix-fmt", "rgb24", "--color-matrix", "bt2021"]);
    let err = expect_exit(&bad, 2, "a bad --color-matrix");
    assert!(err.contains("auto-hd"), "{err}");
}
