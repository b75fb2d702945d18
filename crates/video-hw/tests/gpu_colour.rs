//! Untagged streams on NVDEC convert with BT.601, as on the CPU and as FFmpeg does (issue
//! #57): every GPU path to RGB (NVDEC's own RGB kernel for host and CUDA output, the GPU
//! transform) gives, on untagged 1280x720 fixtures, the CPU engines' RGB within 1 LSB; a
//! named matrix (`ColorMatrix`) changes it on the GPU as on the CPU; a tagged BT.709 stream
//! keeps its tag. Needs an NVIDIA GPU:
//! `VIDEO_HW_TEST_GPU=1 cargo test -p video-hw --release --test gpu_colour`.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use video_hw::media::Demuxer;
use video_hw::reader::FrameReader;
use video_hw::transform::Transform;
use video_hw::{
    Channels, ColorMatrix, DecoderConfig, Engine, EnginePreference, Frame, MatrixCoefficients as M, Output,
    PixelFormat, SampleType,
};

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("testdata/colour").join(name)
}

/// Every frame of `path` on `engine`, with `output` and `transform`.
fn decode(path: &PathBuf, engine: EnginePreference, output: Output, transform: Option<Transform>) -> Vec<Arc<Frame>> {
    let d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let mut config = DecoderConfig::new(t.codec.video().unwrap()).output(output).engine(engine);
    if let Some(t) = transform {
        config = config.transform(t);
    }
    let track = t.index;
    let mut r = FrameReader::new(d, track, config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let n = r.len();
    r.frames_in_range(0, n, 1).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The frames' RGB24 bytes, packed, in host memory.
fn packed(frames: &[Arc<Frame>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        assert_eq!(f.format, PixelFormat::Rgb24);
        f.to_host().expect("download").write_packed(&mut out);
    }
    out
}

fn largest_difference(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len(), "frame bytes");
    a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0)
}

#[test]
fn gpu_untagged_hd_converts_with_bt601_on_nvdec() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let nvdec = EnginePreference::Only(Engine::Nvdec);
    let rgb = |t: Transform| Some(t.rgb(Channels::Rgb, false, SampleType::U8));
    for (name, tag) in [
        ("yuv420p-untagged-cars-1280x720.mp4", M::SMPTE170M),
        ("yuv420p-untagged-testsrc2-1280x720.mp4", M::SMPTE170M),
        ("yuv420p-bt709-testsrc2-1280x720.mp4", M::BT709),
    ] {
        let path = fixture(name);
        // The CPU engines' RGB (the default rule, checked against ffmpeg by tests/colour.rs).
        let cpu = packed(&decode(&path, EnginePreference::Auto, Output::HOST_RGB24, None));
        let cpu_bt709 =
            packed(&decode(&path, EnginePreference::Auto, Output::HOST_NV12, rgb(Transform::new().matrix(M::BT709))));
        let cpu_bt601 = packed(&decode(
            &path,
            EnginePreference::Auto,
            Output::HOST_NV12,
            rgb(Transform::new().matrix(M::SMPTE170M)),
        ));
        let resize = Transform::new().resize(1280, 720);
        let gpu_paths: Vec<(&str, Output, Option<Transform>)> = vec![
            ("NVDEC host rgb24", Output::HOST_RGB24, None),
            ("NVDEC cuda rgb24", Output::Cuda(PixelFormat::Rgb24), None),
            ("GPU transform, host", Output::HOST_RGB24, Some(resize)),
            ("GPU transform, cuda", Output::Cuda(PixelFormat::Rgb24), Some(resize)),
        ];
        for (what, output, t) in gpu_paths {
            let got = packed(&decode(&path, nvdec, output, t));
            let d = largest_difference(&got, &cpu);
            println!("{name}: {what}: largest difference to the CPU's RGB {d}");
            assert!(d <= 1, "{name}: {what} differs from the CPU's RGB by {d}");
        }
        // A named matrix on the GPU transform: the CPU's conversion with that matrix.
        for (m, want) in [(M::BT709, &cpu_bt709), (M::SMPTE170M, &cpu_bt601)] {
            let t = Transform::new().color_matrix(ColorMatrix::Fixed(m));
            let got = packed(&decode(&path, nvdec, Output::Cuda(PixelFormat::Rgb24), Some(t)));
            let d = largest_difference(&got, want);
            assert!(d <= 1, "{name}: matrix {} on the GPU differs from the CPU's by {d}", m.0);
        }
        // The default is the tag, or BT.601 untagged: the other matrix is far from it.
        let (same, other) = if tag == M::BT709 { (&cpu_bt709, &cpu_bt601) } else { (&cpu_bt601, &cpu_bt709) };
        assert!(largest_difference(&cpu, same) <= 1, "{name}: default is not matrix {}", tag.0);
        assert!(largest_difference(&cpu, other) > 10, "{name}: the matrices do not differ");
    }
}
