//! `decode --pix-fmt rgb24|bgr24|rgba|bgra` where the frame sink converts the engine's YUV
//! itself, band by band (`options::transform::rgb_in_sink`): the bytes are the library's
//! own RGB output of the same file (the engine converting whole pictures), on the route
//! that decodes in a pipeline and on the one that reads through the frame index
//! (`--count`), written raw and as framemd5; and on the streams the sink leaves to the
//! engine (4:2:2, 4:4:4) too.

use crate::util;

use std::path::Path;

use util::{expect_exit, s, testdata};
use video_hw::media::Demuxer;
use video_hw::pixels::transform::Transform;
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, Output, PixelFormat};

/// The library's RGB frames of `file` as the CLI asked for them before the sink made
/// them: the engine converts (rgb24, bgra) or a format-only transform does (bgr24, rgba).
fn library(file: &Path, format: PixelFormat) -> Vec<u8> {
    let demuxer = Demuxer::open(file).unwrap();
    let track = demuxer.video_track().cloned().unwrap();
    let cfg = DecoderConfig::new(track.codec.video().unwrap_or(Codec::H264)).timebase(track.time_base);
    let cfg = match format {
        PixelFormat::Rgb24 | PixelFormat::Bgra => cfg.output(Output::Host(format)),
        _ => cfg.output(Output::HOST_NV12).transform(Transform::new().format(format)),
    };
    let mut reader = FrameReader::new(demuxer, track.index, cfg).unwrap();
    let mut out = Vec::new();
    for frame in reader.frames_from_index(0).unwrap() {
        let frame = frame.unwrap();
        assert_eq!(frame.format, format);
        frame.to_host().unwrap().write_packed(&mut out);
    }
    out
}

/// Our CLI's output of `file` as `pix_fmt`, with `extra` arguments.
fn cli(file: &Path, pix_fmt: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["decode", s(file), "--pix-fmt", pix_fmt, "-o", "-", "-q"];
    args.extend_from_slice(extra);
    let out = util::run(&args);
    expect_exit(&out, 0, &format!("{} as {pix_fmt} {extra:?}", file.display()));
    out.stdout
}

/// MD5 of each frame of `bytes`, frames of `frame_bytes`.
fn md5s(bytes: &[u8], frame_bytes: usize) -> Vec<String> {
    use md5::{Digest, Md5};
    bytes.chunks(frame_bytes).map(|f| Md5::digest(f).iter().map(|b| format!("{b:02x}")).collect()).collect()
}

/// Whether the sink made `pix_fmt` itself (its debug line says so).
fn sink_converts(file: &Path, pix_fmt: &str) -> bool {
    let out = util::run(&["decode", s(file), "--pix-fmt", pix_fmt, "-o", "-", "--log-level", "debug"]);
    expect_exit(&out, 0, &format!("{} as {pix_fmt}", file.display()));
    String::from_utf8_lossy(&out.stderr).contains("made by the frame sink")
}

fn check(rel: &str, banded: bool) {
    let file = testdata(rel);
    assert_eq!(sink_converts(&file, "rgb24"), banded, "{rel}: the sink converts");
    let track = Demuxer::open(&file).unwrap().video_track().cloned().unwrap();
    let v = track.video.unwrap();
    for (name, format, channels) in [
        ("rgb24", PixelFormat::Rgb24, 3),
        ("bgr24", PixelFormat::Bgr24, 3),
        ("rgba", PixelFormat::Rgba, 4),
        ("bgra", PixelFormat::Bgra, 4),
    ] {
        let want = library(&file, format);
        let frame_bytes = (v.width * v.height) as usize * channels;
        assert!(!want.is_empty() && want.len().is_multiple_of(frame_bytes), "{rel}: {} bytes", want.len());
        let frames = want.len() / frame_bytes;
        let plain = cli(&file, name, &[]);
        assert!(plain == want, "{rel} as {name}: {} bytes against the library's {}", plain.len(), want.len());
        let count = frames.to_string();
        let indexed = cli(&file, name, &["--count", &count]);
        assert!(indexed == want, "{rel} as {name} through the index: {} bytes", indexed.len());
        let text = String::from_utf8(cli(&file, name, &["--framemd5"])).unwrap();
        let got: Vec<String> = util::frame_lines(&text).into_iter().map(|(_, m)| m).collect();
        assert_eq!(got, md5s(&want, frame_bytes), "{rel} as {name}, framemd5");
    }
}

#[test]
fn eight_bit_h264_equals_the_engines_own_rgb() {
    for rel in [
        "media/h264-aac.mp4",
        "colour/yuv420p-untagged-cars-1280x720.mp4",
        "colour/yuv420p-bt709-testsrc2-1280x720.mp4",
    ] {
        check(rel, true);
    }
}

#[test]
fn a_raw_stream_equals_the_engines_own_rgb() {
    check("h264/high-bpyramid-8x8-wp-cars-320x240.h264", true);
}

#[test]
fn ten_bit_hevc_and_the_chroma_the_sink_leaves_to_the_engine() {
    if !util::need_ffmpeg() {
        return;
    }
    for (rel, banded) in [
        ("colour/yuv420p10-cars-96x64.mp4", true),
        ("hevc/main10-mandelbrot-320x240.h265", true),
        ("media/hevc-aac.mkv", true),
        ("colour/yuv422p-cars-96x64.mp4", false),
        ("colour/yuv444p-odd-testsrc2-65x49.mp4", false),
    ] {
        check(rel, banded);
    }
}
