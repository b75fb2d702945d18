//! Untagged streams on NVDEC convert with BT.601, as on the CPU and as FFmpeg does (issue
//! #57): NVDEC's own RGB kernel (host and CUDA output) gives, on untagged 1280x720 fixtures,
//! the CPU engine's RGB within 1 LSB; the GPU transform gives the matrix named for it (BT.601
//! untagged, the tag otherwise) and, as its chroma is interpolated (issue #56), the CPU's
//! RGB within a PSNR floor; a named matrix (`ColorMatrix`) changes it on the GPU as on the
//! CPU; a tagged BT.709 stream keeps its tag. Needs an NVIDIA GPU:
//! `VIDEO_HW_TEST_GPU=1 cargo test -p video-hw --release --test gpu_colour`.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use video_hw::media::Demuxer;
use video_hw::pixels::transform::Transform;
use video_hw::reader::FrameReader;
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

/// PSNR of `a` against `b` (8-bit samples), in dB.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "frame bytes");
    let se: f64 = a.iter().zip(b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum();
    let mse = se / a.len().max(1) as f64;
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
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
        // The CPU engine's RGB (OpenH264: "auto" would be NVDEC here; the default rule is
        // checked against ffmpeg by tests/colour.rs).
        let cpu_engine = EnginePreference::Only(Engine::OpenH264);
        let cpu = packed(&decode(&path, cpu_engine, Output::HOST_RGB24, None));
        let cpu_bt709 = packed(&decode(&path, cpu_engine, Output::HOST_NV12, rgb(Transform::new().matrix(M::BT709))));
        let cpu_bt601 =
            packed(&decode(&path, cpu_engine, Output::HOST_NV12, rgb(Transform::new().matrix(M::SMPTE170M))));
        // NVDEC's own RGB kernel takes the nearest chroma sample, as the CPU does: within 1.
        for (what, output) in [("NVDEC host rgb24", Output::HOST_RGB24), ("NVDEC cuda rgb24", Output::CUDA_RGB24)] {
            let got = packed(&decode(&path, nvdec, output, None));
            let d = largest_difference(&got, &cpu);
            println!("{name}: {what}: largest difference to the CPU's RGB {d}");
            assert!(d <= 1, "{name}: {what} differs from the CPU's RGB by {d}");
        }
        // The GPU transform (a same-size resize) still interpolates chroma where the CPU takes
        // the nearest sample (issue #56: its kernels are not yet the CPU's expression), so
        // against the CPU it holds a PSNR floor; its matrix is checked exactly against the
        // same kernel with the matrix named.
        let resize = Transform::new().resize(1280, 720);
        let named = |m: M| Some(resize.color_matrix(ColorMatrix::Fixed(m)));
        let gpu_601 = packed(&decode(&path, nvdec, Output::CUDA_RGB24, named(M::SMPTE170M)));
        let gpu_709 = packed(&decode(&path, nvdec, Output::CUDA_RGB24, named(M::BT709)));
        let gpu_tag = if tag == M::BT709 { &gpu_709 } else { &gpu_601 };
        for (what, output) in [("GPU transform, host", Output::HOST_RGB24), ("GPU transform, cuda", Output::CUDA_RGB24)]
        {
            let got = packed(&decode(&path, nvdec, output, Some(resize)));
            let (d, p) = (largest_difference(&got, gpu_tag), psnr(&got, &cpu));
            println!("{name}: {what}: {d} from the kernel with matrix {} named, {p:.1} dB from the CPU", tag.0);
            assert_eq!(d, 0, "{name}: {what} is not matrix {}", tag.0);
            // 52.7 dB on the footage, 29.7 dB on the saturated pattern (H100, 2026-11-26).
            assert!(p >= 25.0, "{name}: {what} is {p:.1} dB from the CPU's RGB");
        }
        for (m, gpu, cpu_m) in [(M::BT709, &gpu_709, &cpu_bt709), (M::SMPTE170M, &gpu_601, &cpu_bt601)] {
            let p = psnr(gpu, cpu_m);
            assert!(p >= 25.0, "{name}: matrix {} on the GPU is {p:.1} dB from the CPU's", m.0);
        }
        assert!(largest_difference(&gpu_601, &gpu_709) > 10, "{name}: the matrices do not differ on the GPU");
        // The default is the tag, or BT.601 untagged: the other matrix is far from it.
        let (same, other) = if tag == M::BT709 { (&cpu_bt709, &cpu_bt601) } else { (&cpu_bt601, &cpu_bt709) };
        assert!(largest_difference(&cpu, same) <= 1, "{name}: default is not matrix {}", tag.0);
        assert!(largest_difference(&cpu, other) > 10, "{name}: the matrices do not differ");
    }
}
