//! The async surface on NVDEC: `AsyncDecoder` (the old name) and a `DecodePipeline`'s
//! sink and stream, with host NV12 and CUDA output, against the blocking decoder, bit for
//! bit and frame for frame; CUDA frames come from the session's device ring and go back to
//! it. Run with `VIDEO_HW_TEST_GPU=1 cargo test --release --test gpu_async`;
//! without that variable these tests only print a note; with it and no GPU they fail.

mod common;
#[path = "common/streams.rs"]
mod streams;

use futures::StreamExt;
use video_hw::async_session::{AsyncDecoder, AsyncInput};
use video_hw::pipeline::{DecodeInput, DecodePipeline, PipelineOptions, Shutdown};
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Frame, Input, Output};

const STREAMS: [(&str, Codec, usize); 2] = [
    ("h264/high-bpyramid-8x8-wp-cars-320x240.h264", Codec::H264, 30),
    ("hevc/main-bframes-cars-320x240.h265", Codec::Hevc, 30),
];

fn nvdec(codec: Codec, output: Output) -> DecoderConfig {
    DecoderConfig::new(codec).engine(EnginePreference::Only(Engine::Nvdec)).output(output)
}

fn chunks(path: &str) -> Vec<DecodeInput> {
    let data = std::fs::read(common::fixtures_dir().join(path)).unwrap();
    data.chunks(3000).map(|c| DecodeInput::annexb(c, None)).collect()
}

fn md5s(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(|f| common::frame_md5(f).1).collect()
}

/// The blocking decoder's frames (host NV12) for `input`.
fn blocking(codec: Codec, input: &[DecodeInput]) -> Vec<String> {
    let mut dec = Decoder::open(nvdec(codec, Output::HOST_NV12)).unwrap();
    let mut frames = Vec::new();
    for item in input {
        let DecodeInput::AnnexB { data, pts } = item else { unreachable!() };
        dec.submit(Input::annexb(data, *pts)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    md5s(&frames)
}

#[test]
fn async_decoder_on_nvdec_gives_the_blocking_frames_host_and_cuda() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    for (path, codec, count) in STREAMS {
        let input = chunks(path);
        let want = blocking(codec, &input);
        assert_eq!(want.len(), count, "{path}");
        for output in [Output::HOST_NV12, Output::CUDA_NV12] {
            let (sink, frames) = AsyncDecoder::open(nvdec(codec, output), 4).unwrap().split();
            let items: Vec<AsyncInput> = input.iter().cloned().map(AsyncInput::Data).collect();
            let got = rt.block_on(streams::feed_on_a_task_and_take(sink, frames, items, |f| {
                assert_eq!(f.cuda_data().is_some(), output == Output::CUDA_NV12, "{path} {output:?}");
                common::frame_md5(&f).1
            }));
            assert_eq!(got, want, "{path} {output:?}");
        }
    }
}

#[test]
fn decode_pipeline_sink_and_stream_on_nvdec_give_the_blocking_frames() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    for (path, codec, _) in STREAMS {
        let input = chunks(path);
        let want = blocking(codec, &input);
        for output in [Output::HOST_NV12, Output::CUDA_NV12] {
            let p = DecodePipeline::open(nvdec(codec, output), PipelineOptions::default().queue_depth(3)).unwrap();
            let (sink, frames) = (p.input_sink().unwrap(), p.frame_stream());
            let items = input.clone();
            let got = futures::executor::block_on(async move {
                let feed = streams::feed(sink, items);
                // Frames held a while (two at a time) so the ring's slots are lent and reused.
                let take = frames.map(|f| f.unwrap()).chunks(2).fold(Vec::new(), |mut got, pair| async move {
                    got.extend(pair.iter().map(|f| common::frame_md5(f).1));
                    got
                });
                futures::future::join(feed, take).await.1
            });
            assert_eq!(got, want, "{path} {output:?}");
            let stats = p.shutdown(Shutdown::Drain).unwrap().stats;
            assert!(stats.queue.allocations <= stats.queue.slots as u64, "{path} {output:?}: {:?}", stats.queue);
        }
    }
}
