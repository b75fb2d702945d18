//! `SegmentedDecode` on NVDEC: streams cut at random access points and decoded by several
//! NVDEC sessions at once give the frames one NVDEC session gives (device and host
//! output), many streams share seven sessions, one stream spreads over every GPU, and
//! sessions and device memory are back where they were afterwards. Run with
//! `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_segmented`; without that variable these tests
//! only print a note; with it and no GPU they fail.

mod common;

use video_hw::pipeline::SegmentedDecode;
use video_hw::{Codec, DecoderConfig, Engine, EnginePreference, Output, PixelFormat};

fn nvdec(codec: Codec, output: Output) -> DecoderConfig {
    DecoderConfig::new(codec).engine(EnginePreference::Only(Engine::Nvdec)).output(output)
}

/// Fixtures (320x240, above NVDEC's minimum size) and how many times each is repeated.
const STREAMS: &[(&str, Codec, usize)] = &[
    ("h264/gop12-idr-cars-320x240.h264", Codec::H264, 3),
    ("h264/high-bpyramid-8x8-wp-cars-320x240.h264", Codec::H264, 3),
    ("h264/main-cabac-bframes-testsrc2-320x240.h264", Codec::H264, 3),
    ("h264/open-gop-cars-320x240.h264", Codec::H264, 3),
    ("h264/mbaff-tff-testsrc2-320x240.h264", Codec::H264, 3),
    ("hevc/main-bframes-cars-320x240.h265", Codec::Hevc, 3),
    ("hevc/open-gop-cra-rasl-cars-320x240.h265", Codec::Hevc, 3),
    ("hevc/main10-mandelbrot-320x240.h265", Codec::Hevc, 3),
    ("hevc/slices2-testsrc2-320x240.h265", Codec::Hevc, 3),
];

fn stream(rel: &str, copies: usize) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join(rel)).unwrap().repeat(copies)
}

#[test]
fn gpu_segmented_nvdec_gives_the_frames_of_one_session() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let mut checked = 0;
    for &(rel, codec, copies) in STREAMS {
        let data = stream(rel, copies);
        for output in [Output::Cuda(PixelFormat::Nv12), Output::Host(PixelFormat::Yuv420p)] {
            let config = nvdec(codec, output);
            let (want, _) = common::decode_bytes_md5s(&data, config.clone(), 64 << 10).expect("one NVDEC session");
            let decode = SegmentedDecode::new(config).sessions(4).min_segment_pictures(1);
            let (got, stats) = common::segmented_md5s(std::slice::from_ref(&data), &decode).expect("segmented");
            eprintln!(
                "{rel} x{copies} {output:?}: {} frames, {} segments over {} sessions ({})",
                got[0].len(),
                stats.segments,
                stats.sessions,
                stats.backend
            );
            assert!(stats.backend.contains("nvdec"), "{}", stats.backend);
            assert!(stats.segments >= copies, "{rel}: {} segments", stats.segments);
            assert_eq!(got[0].len(), want.len(), "{rel} {output:?}: frame count");
            assert!(got[0] == want, "{rel} {output:?}: frames differ from one session's");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * STREAMS.len());
}

#[test]
fn gpu_segmented_many_streams_over_seven_sessions_release_everything() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    // Warm up: the first session creates the context and the driver's own pools.
    drop(video_hw::Decoder::open(nvdec(Codec::H264, Output::CUDA_NV12)).expect("nvdec opens"));
    let baseline = common::GpuBaseline::take();
    for codec in [Codec::H264, Codec::Hevc] {
        let picks: Vec<_> = STREAMS.iter().filter(|s| s.1 == codec).collect();
        let streams: Vec<Vec<u8>> = (0..14).map(|i| stream(picks[i % picks.len()].0, 2 + i % 3)).collect();
        let want: Vec<_> = streams
            .iter()
            .map(|s| common::decode_bytes_md5s(s, nvdec(codec, Output::CUDA_NV12), 64 << 10).unwrap().0)
            .collect();
        let decode = SegmentedDecode::new(nvdec(codec, Output::CUDA_NV12)).sessions(7).min_segment_pictures(1);
        let (got, stats) = common::segmented_md5s(&streams, &decode).expect("segmented");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                g == w,
                "{codec} stream {i}: {} frames vs {} from one session, or different pixels",
                g.len(),
                w.len()
            );
        }
        eprintln!(
            "{codec}: 14 streams, {} segments over {} sessions, {} frames, peak {} frames held back",
            stats.segments, stats.sessions, stats.frames, stats.peak_buffered_frames
        );
        assert_eq!(stats.sessions, 7);
    }
    baseline.assert_restored("segmented");
}

/// One stream split over the NVDEC engines of every GPU (`spread_over_gpus`): its segments
/// decode on sessions of each GPU and come out as one session gives them, host and CUDA
/// output (CUDA frames then live on the GPU that decoded them). On a machine of one GPU
/// this is the plain segmented decode; with several, every GPU must have had sessions.
#[test]
fn gpu_segmented_one_stream_over_every_gpu() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let gpus = video_hw::diagnostics::gpus().expect("GPU tests need an NVIDIA GPU");
    for &(rel, codec) in
        &[("hevc/main-bframes-cars-320x240.h265", Codec::Hevc), ("h264/gop12-idr-cars-320x240.h264", Codec::H264)]
    {
        let data = stream(rel, 6 * gpus.len());
        for output in [Output::Cuda(PixelFormat::Nv12), Output::Host(PixelFormat::Yuv420p)] {
            let (want, _) = common::decode_bytes_md5s(&data, nvdec(codec, output), 64 << 10).expect("one session");
            let config = nvdec(codec, output).spread_over_gpus(true);
            let decode = SegmentedDecode::new(config).sessions(3 * gpus.len()).min_segment_pictures(1);
            let (got, stats) = common::segmented_md5s(std::slice::from_ref(&data), &decode).expect("segmented");
            let per_gpu: Vec<usize> = gpus
                .iter()
                .map(|g| stats.session_backends.iter().filter(|b| b.contains(&format!("GPU {}:", g.index))).count())
                .collect();
            eprintln!(
                "{rel} {output:?}: {} frames, {} segments over {} sessions, per GPU {per_gpu:?}",
                got[0].len(),
                stats.segments,
                stats.sessions
            );
            assert_eq!(stats.session_backends.len(), stats.sessions);
            assert!(per_gpu.iter().all(|&n| n >= 1), "{rel}: a GPU without sessions: {per_gpu:?}");
            assert_eq!(got[0].len(), want.len(), "{rel} {output:?}: frame count");
            assert!(got[0] == want, "{rel} {output:?}: frames differ from one session's");
        }
    }
}
