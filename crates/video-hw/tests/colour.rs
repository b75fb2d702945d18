//! One conversion whatever the path (issue #56): the same decoded frame as plain RGB output,
//! through an identity crop, a resize to its own size, BGR, BGRA, planar RGB and float32
//! scaled back by 255 agrees within 1 LSB, on the colour fixtures (8-bit and 10-bit 4:2:0,
//! an odd size); 4:2:2 and 4:4:4 pictures come out at their full chroma resolution.

use crate::common;

use std::path::PathBuf;
use std::sync::Arc;

use video_hw::media::Demuxer;
use video_hw::pixels::transform::Transform;
use video_hw::reader::FrameReader;
use video_hw::{Channels, DecoderConfig, EnginePreference, Frame, FrameData, Output, PixelFormat, SampleType};

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("testdata").join(name)
}

/// Every frame of `path` with `output` and `transform`.
fn decode(path: &PathBuf, output: Output, transform: Option<Transform>) -> Vec<Arc<Frame>> {
    let d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let mut config = DecoderConfig::new(t.codec.video().unwrap()).output(output).engine(EnginePreference::Auto);
    if let Some(t) = transform {
        config = config.transform(t);
    }
    let track = t.index;
    let mut r = FrameReader::new(d, track, config).unwrap();
    let n = r.len();
    r.frames_in_range(0, n, 1).unwrap()
}

/// R, G, B of pixel `k` of an RGB frame, on the 0–255 scale.
fn pixel(f: &Frame, k: usize) -> [f64; 3] {
    let FrameData::Host(h) = &f.data else { panic!("host frame") };
    let bytes = h.as_bytes();
    let (channels, planar) = f.format.rgb_layout().unwrap();
    let n = (f.width * f.height) as usize;
    let size = f.format.bytes_per_sample();
    channels.rgb_positions().map(|pos| {
        let at = if planar { (pos * n + k) * size } else { (k * channels.count() + pos) * size };
        match f.format.sample_type() {
            SampleType::U8 => f64::from(bytes[at]),
            _ => f64::from(f32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap())) * 255.0,
        }
    })
}

/// The largest difference of any channel of any pixel between two decodes.
fn largest_difference(a: &[Arc<Frame>], b: &[Arc<Frame>]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut worst: f64 = 0.0;
    for (x, y) in a.iter().zip(b) {
        assert_eq!((x.width, x.height), (y.width, y.height));
        for k in 0..(x.width * x.height) as usize {
            for (p, q) in pixel(x, k).into_iter().zip(pixel(y, k)) {
                worst = worst.max((p - q).abs());
            }
        }
    }
    worst
}

#[test]
fn every_host_path_gives_the_same_rgb() {
    let mut names = vec!["colour/yuv420p-cars-96x64.mp4"];
    if common::ffmpeg_loaded() {
        // 10-bit H.264 needs FFmpeg; the odd-sized AV1 stream decodes with rav1d too.
        names.push("colour/yuv420p10-cars-96x64.mp4");
    }
    names.push("av1/libaom-odd-317x179-cars.ivf");
    for name in names {
        let path = fixture(name);
        let plain = decode(&path, Output::HOST_RGB24, None);
        assert!(!plain.is_empty(), "{name}");
        let (w, h) = (plain[0].width, plain[0].height);
        let rgb = |t: Transform| t.rgb(Channels::Rgb, false, SampleType::U8);
        let paths: Vec<(&str, Output, Option<Transform>)> = vec![
            ("bgra", Output::Host(PixelFormat::Bgra), None),
            ("planar rgb", Output::Host(PixelFormat::RgbPlanar), None),
            ("identity crop", Output::HOST_RGB24, Some(rgb(Transform::new().crop(0, 0, w, h)))),
            ("resize to the same size", Output::HOST_RGB24, Some(rgb(Transform::new().resize(w, h)))),
            ("bgr24", Output::HOST_NV12, Some(Transform::new().rgb(Channels::Bgr, false, SampleType::U8))),
            ("rgba", Output::HOST_NV12, Some(Transform::new().rgb(Channels::Rgba, false, SampleType::U8))),
            ("float32 × 255", Output::HOST_NV12, Some(Transform::new().rgb(Channels::Rgb, true, SampleType::F32))),
        ];
        for (what, output, t) in paths {
            let got = decode(&path, output, t);
            let d = largest_difference(&plain, &got);
            assert!(d <= 1.0, "{name}: {what} differs from plain rgb24 by {d}");
        }
    }
}

/// 4:2:2 and 4:4:4 (FFmpeg decodes them) keep their chroma in plain RGB output: a 4:4:4
/// picture of sharp colour edges differs a lot from the same picture taken down to 4:2:0
/// first (what plain RGB did before, and what the transform paths, which read 4:2:0 YUV,
/// still do: when they read 4:4:4 this becomes the first test's equality), and plain RGB in
/// every layout agrees.
#[test]
fn full_chroma_layouts_keep_their_resolution() {
    if !common::ffmpeg_loaded() {
        eprintln!("note: no FFmpeg here; 4:2:2 and 4:4:4 not decoded");
        return;
    }
    for name in
        ["colour/yuv422p-cars-96x64.mp4", "colour/yuv444p-testsrc2-96x64.mp4", "colour/yuv444p-odd-testsrc2-65x49.mp4"]
    {
        let path = fixture(name);
        let plain = decode(&path, Output::HOST_RGB24, None);
        for format in [PixelFormat::Bgra, PixelFormat::RgbPlanar] {
            assert_eq!(largest_difference(&plain, &decode(&path, Output::Host(format), None)), 0.0, "{name} {format}");
        }
        if name.contains("444") {
            // Through 4:2:0: sharp chroma edges are lost.
            let through_420 =
                decode(&path, Output::HOST_NV12, Some(Transform::new().rgb(Channels::Rgb, false, SampleType::U8)));
            assert!(largest_difference(&plain, &through_420) > 30.0, "{name}: 4:4:4 chroma kept");
        }
    }
}

/// Per-frame PSNR (peak 255) of RGB24 frames `ours` against `reference` (packed rgb24
/// frames back to back), the lowest over the frames.
fn lowest_psnr(ours: &[Arc<Frame>], reference: &[u8]) -> f64 {
    let mut lowest = f64::INFINITY;
    let mut at = 0;
    for f in ours {
        let n = (f.width * f.height) as usize;
        let theirs = &reference[at..at + 3 * n];
        at += 3 * n;
        let mut se = 0.0;
        for k in 0..n {
            for (c, v) in pixel(f, k).into_iter().enumerate() {
                se += (v - f64::from(theirs[3 * k + c])).powi(2);
            }
        }
        let mse = se / (3 * n) as f64;
        lowest = lowest.min(if mse == 0.0 { 99.0 } else { 10.0 * (255.0 * 255.0 / mse).log10() });
    }
    assert_eq!(at, reference.len(), "frame count against ffmpeg");
    lowest
}

/// `ffmpeg -i path -pix_fmt rgb24` (swscale, as torchcodec and PyAV convert), when the
/// ffmpeg tool is on the PATH.
fn ffmpeg_rgb24(path: &PathBuf) -> Option<Vec<u8>> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-threads", "1", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// Untagged streams convert with BT.601 at every size, as FFmpeg's swscale (and so
/// `ffmpeg -pix_fmt rgb24`, torchcodec, PyAV) does; `color_matrix` rules change that; a
/// tagged stream keeps its tag unless a matrix is named.
#[test]
fn untagged_hd_converts_with_bt601_as_ffmpeg_does() {
    use video_hw::{ColorMatrix, MatrixCoefficients as M};
    let rgb = |t: Transform| Some(t.rgb(Channels::Rgb, false, SampleType::U8));
    let named = |m: M| rgb(Transform::new().matrix(m));
    for name in ["colour/yuv420p-untagged-cars-1280x720.mp4", "colour/yuv420p-untagged-testsrc2-1280x720.mp4"] {
        let path = fixture(name);
        let plain = decode(&path, Output::HOST_RGB24, None);
        assert_eq!((plain.len(), plain[0].width, plain[0].height), (3, 1280, 720), "{name}");
        assert!(plain[0].color.matrix_is_untagged(), "{name}: the fixture is tagged");
        let bt601 = decode(&path, Output::HOST_NV12, named(M::SMPTE170M));
        let bt709 = decode(&path, Output::HOST_NV12, named(M::BT709));
        let auto_hd = decode(&path, Output::HOST_NV12, rgb(Transform::new().color_matrix(ColorMatrix::AutoHd)));
        assert!(largest_difference(&plain, &bt601) <= 1.0, "{name}: default is not BT.601");
        let d = largest_difference(&plain, &bt709);
        eprintln!("{name}: BT.601 and BT.709 differ by up to {d}");
        assert!(d > 10.0, "{name}: BT.709 changes nothing ({d})");
        assert_eq!(largest_difference(&auto_hd, &bt709), 0.0, "{name}: auto-hd is not BT.709 at 720 lines");
        match ffmpeg_rgb24(&path) {
            Some(reference) => {
                let (ours, other) = (lowest_psnr(&plain, &reference), lowest_psnr(&bt709, &reference));
                eprintln!("{name}: against ffmpeg -pix_fmt rgb24: {ours:.2} dB (BT.709: {other:.2} dB)");
                assert!(ours >= 45.0, "{name}: {ours:.2} dB against ffmpeg");
                assert!(other < 40.0, "{name}: BT.709 is as close to ffmpeg ({other:.2} dB)");
            }
            None => eprintln!("note: no ffmpeg tool on the PATH; {name} not compared with it"),
        }
    }
    // Tagged BT.709: kept by default and by auto-hd; a named matrix overrides it.
    let path = fixture("colour/yuv420p-bt709-testsrc2-1280x720.mp4");
    let plain = decode(&path, Output::HOST_RGB24, None);
    assert_eq!(plain[0].color.matrix, M::BT709);
    assert!(largest_difference(&plain, &decode(&path, Output::HOST_NV12, named(M::BT709))) <= 1.0);
    assert!(largest_difference(&plain, &decode(&path, Output::HOST_NV12, named(M::SMPTE170M))) > 10.0);
    if let Some(reference) = ffmpeg_rgb24(&path) {
        let db = lowest_psnr(&plain, &reference);
        eprintln!("tagged BT.709 against ffmpeg -pix_fmt rgb24: {db:.2} dB");
        assert!(db >= 45.0, "tagged BT.709: {db:.2} dB against ffmpeg");
    }
}
