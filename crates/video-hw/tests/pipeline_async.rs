//! The pipelines' async surface (the crate's one; in every build): `DecodePipeline::input_sink` /
//! `frame_stream`, `EncodePipeline::frame_sink` / `packet_stream`, `Transcode::finished`,
//! under tokio (multi-thread and current-thread) and `futures::executor`. Frames and
//! packets must equal the blocking API's, bit for bit and in number; a full pipeline makes
//! the sink pending without spinning; the worker's error ends the stream after the frames
//! made before it; a dropped pipeline ends its handles.

use crate::common;
use crate::streams;

use futures::{SinkExt, StreamExt};
use video_hw::pipeline::{
    DecodeInput, DecodePipeline, EncodePipeline, FrameStream, InputSink, PipelineOptions, RingMemory, Shutdown,
    Transcode,
};
use video_hw::{
    Codec, Decoder, DecoderConfig, EncoderConfig, Engine, EnginePreference, Error, Frame, FrameOptions, HostFrame,
    Input, Output, PixelFormat,
};

/// One test at a time: the stall test measures the process's CPU time.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

fn config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264)
        .output(Output::Host(PixelFormat::Yuv420p))
        .engine(EnginePreference::Only(Engine::OpenH264))
}

fn options(depth: usize) -> PipelineOptions {
    PipelineOptions::default().queue_depth(depth).input_depth(depth).memory(RingMemory::Pageable)
}

/// The B-pyramid MP4 fixture's samples (30 frames, reordered).
fn packets() -> Vec<DecodeInput> {
    common::bpyramid_mp4_samples()
}

/// The blocking decoder's frames for `items`.
fn blocking_frames(items: &[DecodeInput]) -> Vec<Frame> {
    let mut dec = Decoder::open(config()).unwrap();
    let mut got = Vec::new();
    for item in items {
        let DecodeInput::LengthPrefixed { sample, record, pts } = item else { panic!("MP4 samples") };
        dec.submit(Input::length_prefixed(sample, record, *pts)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            got.push(f);
        }
    }
    got.extend(dec.flush().unwrap());
    got
}

fn md5s(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(|f| common::frame_md5(f).1).collect()
}

/// Feeds `items` to `input` and closes it, while taking every frame; the frames' MD5s.
async fn feed_and_take(input: InputSink, frames: FrameStream, items: Vec<DecodeInput>) -> Vec<String> {
    streams::feed_and_take(input, frames, items, streams::md5_of).await
}

#[test]
fn decode_pipeline_under_tokio_multi_thread_gives_the_blocking_frames() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = md5s(&blocking_frames(&items));
    assert_eq!(want.len(), 30);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let pipeline = DecodePipeline::open(config(), options(4)).unwrap();
    let (input, frames) = (pipeline.input_sink().unwrap(), pipeline.frame_stream());
    // Feeding and taking on two tasks of the runtime.
    let got = rt.block_on(streams::feed_on_a_task_and_take(input, frames, items, streams::md5_of));
    assert_eq!(got, want);
    let stats = pipeline.shutdown(Shutdown::Drain).unwrap().stats;
    assert_eq!(stats.frames, 30);
}

#[test]
fn decode_pipeline_under_current_thread_and_futures_executors() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = md5s(&blocking_frames(&items));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for depth in [1, 2, 16] {
        let p = DecodePipeline::open(config(), options(depth)).unwrap();
        let got = rt.block_on(feed_and_take(p.input_sink().unwrap(), p.frame_stream(), items.clone()));
        assert_eq!(got, want, "tokio current-thread, depth {depth}");
        let p = DecodePipeline::open(config(), options(depth)).unwrap();
        let got = futures::executor::block_on(feed_and_take(p.input_sink().unwrap(), p.frame_stream(), items.clone()));
        assert_eq!(got, want, "futures executor, depth {depth}");
    }
}

#[test]
fn a_flush_between_two_streams_gives_both_whole_through_the_sink_and_submit() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = md5s(&blocking_frames(&items));
    // The file twice with a drain between: the second pass decodes as a new stream.
    let mut twice = items.clone();
    twice.push(DecodeInput::Flush);
    twice.extend(items);
    let p = DecodePipeline::open(config(), options(3)).unwrap();
    let got = futures::executor::block_on(feed_and_take(p.input_sink().unwrap(), p.frame_stream(), twice.clone()));
    assert_eq!(got.len(), 2 * want.len());
    assert_eq!((&got[..want.len()], &got[want.len()..]), (&want[..], &want[..]));
    // The blocking calls take the same marker, and a source may yield it.
    let p = DecodePipeline::open_with_source(config(), options(3), twice.into_iter().map(Ok)).unwrap();
    let got: Vec<String> = p.frames().map(|f| common::frame_md5(&f.unwrap()).1).collect();
    assert_eq!(got.len(), 2 * want.len());
    assert_eq!((&got[..want.len()], &got[want.len()..]), (&want[..], &want[..]));
}

#[test]
fn a_source_fed_pipeline_streams_its_frames_and_refuses_a_sink() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = md5s(&blocking_frames(&items));
    let p = DecodePipeline::open_with_source(config(), options(3), items.into_iter().map(Ok)).unwrap();
    assert!(matches!(p.input_sink(), Err(Error::InvalidInput(_))));
    let got: Vec<String> =
        futures::executor::block_on(p.frame_stream().map(|f| common::frame_md5(&f.unwrap()).1).collect());
    assert_eq!(got, want);
}

#[test]
fn the_workers_error_is_the_streams_last_item_after_the_frames_before_it() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = md5s(&blocking_frames(&items));
    // The source breaks after every packet: the decoder is flushed, then the error comes.
    let source = items.into_iter().map(Ok).chain(std::iter::once(Err(Error::invalid_input("the source broke"))));
    let p = DecodePipeline::open_with_source(config(), options(2), source).unwrap();
    let mut stream = p.frame_stream();
    let (mut got, mut error) = (Vec::new(), None);
    futures::executor::block_on(async {
        while let Some(item) = stream.next().await {
            match item {
                Ok(f) => got.push(common::frame_md5(&f).1),
                Err(e) => error = Some(e),
            }
        }
    });
    assert_eq!(got, want, "every frame before the break");
    assert!(error.unwrap().to_string().contains("the source broke"));
    assert!(futures::executor::block_on(stream.next()).is_none(), "the stream stays ended");
}

#[test]
fn a_full_pipeline_makes_the_sink_pending_without_spinning_then_resumes() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = md5s(&blocking_frames(&items));
    let p = DecodePipeline::open(config(), options(2)).unwrap();
    let mut input = p.input_sink().unwrap();
    // Nobody takes frames: the sink accepts a bounded number of items, then is pending.
    let stalled_at = streams::fill_until_pending(&mut input, &items).expect("the sink never became pending");
    assert!(stalled_at <= 12, "{stalled_at} items accepted with nobody taking frames");
    common::assert_not_spinning();
    let stats = p.stats();
    assert!(stats.queue.depth <= 2, "the ring holds at most its depth: {}", stats.queue.depth);
    let rest = items.into_iter().skip(stalled_at).collect();
    let got = futures::executor::block_on(feed_and_take(input, p.frame_stream(), rest));
    assert_eq!(got, want);
}

#[test]
fn handles_end_when_the_pipeline_is_dropped() {
    let _turn = one_at_a_time();
    let items = packets();
    let p = DecodePipeline::open(config(), options(2)).unwrap();
    let (mut input, mut frames) = (p.input_sink().unwrap(), p.frame_stream());
    // Dropping the handles' pipeline mid-stream cancels it: both handles end, no hang.
    futures::executor::block_on(input.send(items[0].clone())).unwrap();
    drop(p);
    let next = futures::executor::block_on(frames.next());
    assert!(matches!(next, None | Some(Err(Error::Closed(_)))), "{next:?}");
    assert!(futures::executor::block_on(input.send(items[1].clone())).is_err());
}

/// The fixture's frames as packed yuv420p host frames with pts 0, 1, ...
fn raw_frames() -> (u32, u32, Vec<Frame>) {
    let frames = blocking_frames(&packets());
    let (w, h) = (frames[0].width, frames[0].height);
    let frames = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let mut raw = Vec::new();
            f.to_host().unwrap().write_packed(&mut raw);
            let pixels = HostFrame::from_packed(PixelFormat::Yuv420p, w, h, raw).unwrap();
            let mut frame = Frame::host(PixelFormat::Yuv420p, w, h, pixels);
            frame.pts = Some(i as i64);
            frame
        })
        .collect();
    (w, h, frames)
}

#[test]
fn encode_pipeline_under_tokio_gives_the_blocking_packets() {
    let _turn = one_at_a_time();
    let (w, h, frames) = raw_frames();
    let enc = EncoderConfig::new(Codec::H264, w, h).engine(EnginePreference::Only(Engine::OpenH264)).gop(10);
    let want = common::encode_all(enc.clone(), &frames);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let pipeline = EncodePipeline::open(enc, options(3)).unwrap();
    let (input, output) = (pipeline.frame_sink(), pipeline.packet_stream().unwrap());
    let items = frames
        .into_iter()
        .map(|f| {
            let options = FrameOptions { pts: f.pts, ..FrameOptions::default() };
            (f, options)
        })
        .collect();
    let packets = rt.block_on(streams::feed_on_a_task_and_take(input, output, items, |p| p));
    assert_eq!(packets.len(), want.len());
    for (i, (a, b)) in packets.iter().zip(&want).enumerate() {
        assert_eq!((a.pts, a.keyframe, &a.data), (b.pts, b.keyframe, &b.data), "packet {i}");
    }
    assert_eq!(pipeline.shutdown(Shutdown::Drain).unwrap().stats.frames, 30);
}

#[test]
fn transcode_finished_is_a_future_and_wait_then_returns_at_once() {
    let _turn = one_at_a_time();
    let items = packets();
    let packets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = packets.clone();
    let job = Transcode::start(
        config(),
        EncoderConfig::new(Codec::H264, 16, 16).engine(EnginePreference::Only(Engine::OpenH264)),
        options(4),
        items.into_iter().map(Ok),
        move |p| {
            sink.lock().unwrap().push(p);
            Ok(())
        },
    )
    .unwrap();
    futures::executor::block_on(job.finished());
    let stats = job.wait().unwrap();
    assert_eq!(stats.frames, 30);
    let mut dec = Decoder::open(config()).unwrap();
    let mut n = 0;
    for p in packets.lock().unwrap().iter() {
        dec.submit(Input::annexb(&p.data, p.pts)).unwrap();
        while dec.try_reap().unwrap().is_some() {
            n += 1;
        }
    }
    assert_eq!(n + dec.flush().unwrap().len(), 30, "the transcode's packets decode to every frame");
}
