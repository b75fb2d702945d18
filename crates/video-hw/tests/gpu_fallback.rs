//! CUDA output of streams NVDEC cannot decode, on a real GPU: a CPU engine decodes them and
//! its frames are uploaded (`Registry::open_decoder`). Checks, on every AV1 fixture (the
//! H100's and H200's NVDEC has no AV1) and on an H.264 stream wider than NVDEC's limit
//! (testdata/fallback/, made by scripts/make-fallback-fixtures.sh):
//! - the session says why (`FrameReader::fallback`) and names the CPU engine;
//! - its CUDA frames, read back, equal the CPU engine's host frames bit for bit (NV12/P010
//!   and RGB), and ffmpeg's reference where there is one, with the same frame count,
//!   straight through and by random access;
//! - `engine=nvdec` and `require_hardware` refuse instead.
//!
//! Where this GPU's NVDEC does decode AV1, the AV1 files check that nothing falls back.
//!
//! Run with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_fallback`; without that variable the
//! tests only print a note; with it and no GPU they fail.

mod common;

use std::path::{Path, PathBuf};

use video_hw::media::Demuxer;
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, Direction, Engine, EnginePreference, Error, Output, PixelFormat, StreamFormat};

fn reader(path: &Path, output: Output, engine: EnginePreference, sessions: usize) -> video_hw::Result<FrameReader> {
    let mut d = Demuxer::open(path)?;
    let t = d.video_track().expect("a video track");
    let (track, codec) = (t.index, t.codec.video().expect("a video codec"));
    let info = d.stream_info(track)?;
    let config =
        DecoderConfig::new(codec).output(output).engine(engine).stream_format(info.as_ref().map(|i| i.format()));
    Ok(FrameReader::new(d, track, config)?.sessions(sessions))
}

fn md5s(r: &mut FrameReader) -> Vec<String> {
    r.frames_from_index(0).unwrap().map(|f| common::frame_md5(&f.unwrap()).1).collect()
}

fn nvdec_decodes(codec: Codec) -> bool {
    video_hw::registry::probe(Engine::Nvdec, codec, Direction::Decode, 0).available
}

/// The CUDA session of `path` against its CPU engine's host frames, in `format`.
fn check_against_cpu(path: &Path, format: PixelFormat, fallback: bool, reference: Option<&Path>) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut gpu = reader(path, Output::Cuda(format), EnginePreference::Auto, 1).unwrap();
    let engine = gpu.prepare().unwrap();
    assert_eq!(gpu.fallback().is_some(), fallback, "{name}: fallback {:?} ({engine})", gpu.fallback());
    if !fallback {
        return;
    }
    let why = gpu.fallback().unwrap().to_string();
    assert!(why.contains("nvdec"), "{name}: the reason names the GPU's decoder: {why}");
    let backend = gpu.backend().unwrap().to_string();
    assert!(backend.contains("uploaded to GPU"), "{name}: {backend}");
    let mut cpu = reader(path, Output::Host(format), EnginePreference::Only(engine), 1).unwrap();
    let want = md5s(&mut cpu);
    let got = md5s(&mut gpu);
    assert!(!want.is_empty(), "{name}: frames");
    assert_eq!(got, want, "{name}: {format} CUDA frames uploaded from {engine} against its host frames");
    if let Some(reference) = reference {
        assert_eq!(got, common::framemd5_hashes(reference), "{name}: against ffmpeg's reference");
    }
    // Random access on several sessions: the same frames.
    let n = want.len();
    let asked = [n - 1, 0, n / 2, n / 2, 1.min(n - 1)];
    let mut r = reader(path, Output::Cuda(format), EnginePreference::Auto, 3).unwrap();
    for f in r.frames_at(&asked).unwrap().iter().zip(asked) {
        assert!(matches!(f.0.data, video_hw::frame::FrameData::Device(_)), "{name}: frame {} in GPU memory", f.1);
        assert_eq!(common::frame_md5(f.0).1, want[f.1], "{name}: frame {} by random access", f.1);
    }
    eprintln!("{name}: {n} {format} frames through {backend}");
}

fn av1_files() -> Vec<PathBuf> {
    let root = common::repo_root().join("testdata");
    let mut v = vec![
        root.join("av1/svtav1-cars-320x240.ivf"),
        root.join("av1/svtav1-10bit-cars-320x240.ivf"),
        root.join("av1/libaom-kf8-cars-320x240.mp4"),
        root.join("av1/libaom-odd-317x179-cars.ivf"),
        root.join("media/av1-opus.webm"),
    ];
    v.retain(|p| p.exists());
    assert_eq!(v.len(), 5, "the AV1 fixtures are in testdata/");
    v
}

#[test]
fn gpu_cuda_output_of_av1_decodes_on_the_cpu_where_nvdec_cannot() {
    let Some(_gpu) = common::gpu_test() else { return };
    let fallback = !nvdec_decodes(Codec::Av1);
    for path in av1_files() {
        let reference = PathBuf::from(format!("{}.nv12.framemd5", path.display()));
        let p010 = PathBuf::from(format!("{}.p010.framemd5", path.display()));
        let reference = [reference, p010].into_iter().find(|p| p.exists());
        check_against_cpu(&path, PixelFormat::Nv12, fallback, reference.as_deref());
        check_against_cpu(&path, PixelFormat::Rgb24, fallback, None);
        check_against_cpu(&path, PixelFormat::RgbPlanar, fallback, None);
    }
}

#[test]
fn gpu_cuda_output_of_a_stream_past_nvdec_limits_decodes_on_the_cpu() {
    let Some(_gpu) = common::gpu_test() else { return };
    let path = common::repo_root().join("testdata/fallback/h264-wide-4112x64.mp4");
    let reference = PathBuf::from(format!("{}.nv12.framemd5", path.display()));
    check_against_cpu(&path, PixelFormat::Nv12, true, Some(&reference));
    check_against_cpu(&path, PixelFormat::Rgb24, true, None);
}

#[test]
fn gpu_nvdec_named_or_hardware_required_refuses_instead() {
    let Some(_gpu) = common::gpu_test() else { return };
    let path = common::repo_root().join("testdata/fallback/h264-wide-4112x64.mp4");
    let mut r = reader(&path, Output::CUDA_NV12, EnginePreference::Only(Engine::Nvdec), 1).unwrap();
    let e = r.prepare().expect_err("nvdec named: no fallback");
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("4112x64"), "the error says what NVDEC cannot take: {e}");
    let mut d = Demuxer::open(&path).unwrap();
    let track = d.video_track().unwrap().index;
    let info = d.stream_info(track).unwrap().unwrap();
    let config = DecoderConfig::new(Codec::H264)
        .output(Output::CUDA_NV12)
        .require_hardware(true)
        .stream_format(Some(StreamFormat { ..info.format() }));
    let e = FrameReader::new(d, track, config).unwrap().prepare().expect_err("hardware required: no fallback");
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
}
