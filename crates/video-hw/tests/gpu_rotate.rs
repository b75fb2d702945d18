//! Rotation on NVDEC (issue #57): a transform that turns the picture
//! (`Transform::rotate`, what a display matrix asks) runs in the GPU transform kernels,
//! which store each sample at its turned place, and gives the CPU path's frames: RGB (packed,
//! planar float) within 1 LSB / 1e-3, YUV renditions sample for sample, for host and CUDA
//! output, with a crop and a resize of the turned picture. Needs an NVIDIA GPU:
//! `VIDEO_HW_TEST_GPU=1 cargo test -p video-hw --release --test gpu_rotate`.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use video_hw::media::Demuxer;
use video_hw::pixels::transform::Transform;
use video_hw::reader::FrameReader;
use video_hw::{Channels, DecoderConfig, Engine, EnginePreference, Frame, Output, PixelFormat, SampleType};

/// Every frame of `path` on `engine`, with `output` and `transform`.
fn decode(path: &PathBuf, engine: EnginePreference, output: Output, transform: Transform) -> Vec<Arc<Frame>> {
    let d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let config = DecoderConfig::new(t.codec.video().unwrap()).output(output).engine(engine).transform(transform);
    let track = t.index;
    let mut r = FrameReader::new(d, track, config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let n = r.len();
    r.frames_in_range(0, n, 1).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The frames' samples as f64 (uint8 as is, float32 × 255), packed, in host memory.
fn samples(frames: &[Arc<Frame>]) -> Vec<f64> {
    let mut out = Vec::new();
    for f in frames {
        let mut bytes = Vec::new();
        f.to_host().expect("download").write_packed(&mut bytes);
        match f.format.sample_type() {
            SampleType::U8 => out.extend(bytes.iter().map(|&b| f64::from(b))),
            _ => {
                out.extend(bytes.chunks_exact(4).map(|c| f64::from(f32::from_ne_bytes(c.try_into().unwrap())) * 255.0))
            }
        }
    }
    out
}

#[test]
fn gpu_rotation_in_the_transform_kernels_equals_the_cpu_path() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let path = common::repo_root().join("testdata/media/h264-rotate90.mp4");
    let rotation = Demuxer::open(&path).unwrap().video_track().unwrap().video.unwrap().rotation;
    assert_eq!(rotation, 90);
    let rgb = Transform::new().rgb(Channels::Rgb, false, SampleType::U8);
    let cases: Vec<(&str, Transform, Output, f64)> = vec![
        ("rgb24", rgb, Output::Cuda(PixelFormat::Rgb24), 1.0),
        ("rgb24, crop and resize", rgb.crop(10, 20, 200, 100).resize(57, 33), Output::Cuda(PixelFormat::Rgb24), 1.0),
        ("planar float32", Transform::new().rgb(Channels::Rgb, true, SampleType::F32), Output::CUDA_NV12, 0.255),
        ("yuv420p", Transform::new().format(PixelFormat::Yuv420p), Output::CUDA_NV12, 0.0),
        ("nv12", Transform::new().format(PixelFormat::Nv12), Output::CUDA_NV12, 0.0),
    ];
    for q in 1..4u16 {
        for (what, t, output, tolerance) in &cases {
            let t = t.rotate(90 * q);
            let cpu = decode(&path, EnginePreference::Auto, Output::HOST_NV12, t);
            let host_output = match output {
                Output::Device(_, f) if !f.is_yuv() => Output::Host(*f),
                _ => Output::HOST_NV12,
            };
            for out in [*output, host_output] {
                let gpu = decode(&path, EnginePreference::Only(Engine::Nvdec), out, t);
                assert_eq!(gpu.len(), cpu.len(), "{what} {q}: frames");
                let (a, b) = (&gpu[0], &cpu[0]);
                assert_eq!((a.width, a.height, a.format), (b.width, b.height, b.format), "{what} {q} {out:?}");
                let worst = samples(&gpu).iter().zip(samples(&cpu)).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
                println!("{what}, {} degrees, {out:?}: largest difference {worst}", 90 * q);
                assert!(worst <= *tolerance, "{what}, {} degrees, {out:?}: {worst}", 90 * q);
            }
        }
    }
}
