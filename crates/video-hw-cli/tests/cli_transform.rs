//! `decode --size/--crop/--scale-filter/--letterbox` and the transform-only `--pix-fmt`
//! values: the frames are the library's transform of the decoded ones, every frame comes
//! out, and bad values exit 2 before any frame; `transcode --size` encodes a rendition.

mod util;

use std::process::Command;

use util::*;
use video_hw::frame::HostFrame;
use video_hw::transform::{Filter, Transform};
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
