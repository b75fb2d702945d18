//! The old async names (`async_session`, kept for a release as wrappers over the pipelines'
//! handles) under three executors: tokio's multi-thread and
//! current-thread runtimes and `futures::executor`. Frames must equal the blocking API's,
//! bit for bit and in number; a full pipeline must make the sink pending without spinning;
//! items the sink accepted are decoded even when their send futures are dropped; dropped
//! sessions end their threads, and a session after another runs on the thread kept from it.

use crate::common;
use crate::streams;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::{FutureExt, SinkExt, StreamExt};
use video_hw::async_session::{AsyncDecoder, AsyncEncoder, AsyncInput, EncodeItem, live_sessions};
use video_hw::pipeline::{DecodeInput, RingMemory};
use video_hw::worker_threads;
use video_hw::{
    Codec, Decoder, DecoderConfig, EncoderConfig, Engine, EnginePreference, Frame, HostFrame, Input, Output,
    PixelFormat,
};

/// The tests count session threads: one at a time.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

fn config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264)
        .output(Output::Host(PixelFormat::Yuv420p))
        .engine(EnginePreference::Only(Engine::OpenH264))
}

/// The packets of the B-pyramid MP4 fixture, as async input items.
fn packets() -> Vec<AsyncInput> {
    common::bpyramid_mp4_samples().into_iter().map(AsyncInput::from).collect()
}

/// MD5s of the blocking decoder's frames for the same packets.
fn blocking_md5s(items: &[AsyncInput]) -> Vec<String> {
    let mut dec = Decoder::open(config()).unwrap();
    let mut got = Vec::new();
    for item in items {
        let AsyncInput::Data(DecodeInput::LengthPrefixed { sample, record, pts }) = item else { panic!("MP4 samples") };
        dec.submit(Input::length_prefixed(sample, record, *pts)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            got.push(common::frame_md5(&f).1);
        }
    }
    got.extend(dec.flush().unwrap().iter().map(|f| common::frame_md5(f).1));
    got
}

/// Feeds `items` and closes, while taking every frame; returns their MD5s.
async fn decode(depth: usize, items: Vec<AsyncInput>) -> Vec<String> {
    let (input, frames) = AsyncDecoder::open(config(), depth).unwrap().split();
    streams::feed_and_take(input, frames, items, streams::md5_of).await
}

fn wait_for_sessions(n: usize) {
    let start = Instant::now();
    while live_sessions() > n {
        assert!(start.elapsed() < Duration::from_secs(10), "{} async sessions still running", live_sessions());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn tokio_multi_thread_gives_the_blocking_frames() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = blocking_md5s(&items);
    assert_eq!(want.len(), 30);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    // Feeding and taking on two tasks of the runtime.
    let got = rt.block_on(async {
        let (input, frames) = AsyncDecoder::open(config(), 4).unwrap().split();
        streams::feed_on_a_task_and_take(input, frames, items, streams::md5_of).await
    });
    assert_eq!(got, want);
    wait_for_sessions(0);
}

#[test]
fn tokio_current_thread_gives_the_blocking_frames() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = blocking_md5s(&items);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    for depth in [1, 2, 16] {
        assert_eq!(rt.block_on(decode(depth, items.clone())), want, "depth {depth}");
    }
    wait_for_sessions(0);
}

#[test]
fn futures_executor_and_a_drain_between_two_streams() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = blocking_md5s(&items);
    // The file twice, with a drain between: the second pass decodes as a new stream.
    let mut twice = items.clone();
    twice.push(AsyncInput::Flush);
    twice.extend(items);
    let got = futures::executor::block_on(decode(3, twice));
    assert_eq!(got.len(), 2 * want.len());
    assert_eq!(got[..want.len()], want[..]);
    assert_eq!(got[want.len()..], want[..]);
    wait_for_sessions(0);
}

#[test]
fn a_session_after_another_runs_on_its_kept_thread_with_pageable_buffers() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = blocking_md5s(&items);
    assert_eq!(futures::executor::block_on(decode(4, items.clone())), want);
    wait_for_sessions(0);
    // The ended session's thread waits for the next (once the count has settled: threads
    // of earlier tests may still be parking).
    let (mut kept, mut since) = (worker_threads::idle_threads(), Instant::now());
    let start = Instant::now();
    while kept == 0 || since.elapsed() < Duration::from_millis(100) {
        assert!(start.elapsed() < Duration::from_secs(10), "no session thread was kept");
        std::thread::sleep(Duration::from_millis(5));
        let now = worker_threads::idle_threads();
        if now != kept {
            (kept, since) = (now, Instant::now());
        }
    }
    let decoder = Decoder::open(config()).unwrap();
    let before = worker_threads::idle_threads();
    let (input, frames) = AsyncDecoder::with_memory(decoder, 4, RingMemory::Pageable).unwrap().split();
    assert!(worker_threads::idle_threads() < before, "the new session took a kept thread");
    let got = futures::executor::block_on(streams::feed_and_take(input, frames, items, streams::md5_of));
    assert_eq!(got, want);
    wait_for_sessions(0);
}

#[test]
fn a_full_pipeline_makes_the_sink_pending_without_spinning() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = blocking_md5s(&items);
    let (mut input, frames) = AsyncDecoder::open(config(), 2).unwrap().split();
    // Nobody takes frames: the sink accepts a bounded number of items, then is pending.
    let stalled_at = streams::fill_until_pending(&mut input, &items).expect("the sink never became pending");
    assert!(stalled_at <= 12, "{stalled_at} items accepted with nobody taking frames");
    // Stalled: the session thread waits (no spinning) while nothing moves.
    common::assert_not_spinning();
    // The item whose send was pending was not accepted: send it and the rest while taking.
    let rest = items.into_iter().skip(stalled_at).collect();
    let got = futures::executor::block_on(streams::feed_and_take(input, frames, rest, streams::md5_of));
    assert_eq!(got, want);
    wait_for_sessions(0);
}

#[test]
fn accepted_items_are_decoded_when_their_send_futures_are_dropped() {
    let _turn = one_at_a_time();
    let items = packets();
    let want = blocking_md5s(&items);
    let (mut input, frames) = AsyncDecoder::open(config(), 64).unwrap().split();
    let taker = std::thread::spawn(move || {
        futures::executor::block_on(frames.map(|f| common::frame_md5(&f.unwrap()).1).collect::<Vec<_>>())
    });
    for item in items {
        // `feed` accepts the item at its first poll when there is room; the future is then
        // dropped before any flush: the item must still be decoded.
        let mut fut = Box::pin(input.feed(item));
        futures::executor::block_on(futures::future::poll_fn(|cx| fut.as_mut().poll(cx))).unwrap();
        drop(fut);
    }
    futures::executor::block_on(input.close()).unwrap();
    assert_eq!(taker.join().unwrap(), want);
    wait_for_sessions(0);
}

#[test]
fn dropped_sessions_end_their_threads() {
    let _turn = one_at_a_time();
    let items = packets();
    wait_for_sessions(0);
    for take_some in [false, true] {
        let mut dec = AsyncDecoder::open(config(), 2).unwrap();
        assert_eq!(live_sessions(), 1);
        futures::executor::block_on(async {
            for item in items.iter().take(12) {
                if dec.send(item.clone()).now_or_never().is_none() {
                    break;
                }
                if take_some {
                    // A frame if one is ready; never waiting (the input stays open).
                    let _ = dec.next().now_or_never();
                }
            }
        });
        // Dropped mid-stream, with input waiting and frames not taken.
        drop(dec);
        wait_for_sessions(0);
    }
    // The halves dropped one after the other, the stream first.
    let (input, frames) = AsyncDecoder::open(config(), 2).unwrap().split();
    drop(frames);
    let mut input = input;
    let sent = futures::executor::block_on(async {
        let mut err = None;
        for item in items {
            if let Err(e) = input.send(item).await {
                err = Some(e);
                break;
            }
        }
        err
    });
    // With the stream gone the session ends; the sink says so instead of hanging.
    assert!(sent.is_some(), "sending to a session whose stream was dropped kept succeeding");
    wait_for_sessions(0);
}

fn real_frames(n: usize) -> (u32, u32, Vec<Frame>) {
    let items = packets();
    let mut dec = Decoder::open(config()).unwrap();
    let mut frames = Vec::new();
    for item in &items {
        let AsyncInput::Data(DecodeInput::LengthPrefixed { sample, record, pts }) = item else { panic!("MP4 samples") };
        dec.submit(Input::length_prefixed(sample, record, *pts)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    frames.truncate(n);
    let (w, h) = (frames[0].width, frames[0].height);
    let frames = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let host = f.to_host().unwrap();
            let mut raw = Vec::new();
            host.write_packed(&mut raw);
            let mut frame = Frame::host(
                PixelFormat::Yuv420p,
                w,
                h,
                HostFrame::from_packed(PixelFormat::Yuv420p, w, h, raw).unwrap(),
            );
            frame.pts = Some(i as i64);
            frame
        })
        .collect();
    (w, h, frames)
}

#[test]
fn async_encoder_under_tokio_gives_every_frame_back() {
    let _turn = one_at_a_time();
    let (w, h, frames) = real_frames(30);
    let enc_config = EncoderConfig::new(Codec::H264, w, h).engine(EnginePreference::Only(Engine::OpenH264)).gop(10);
    // The blocking encoder's packets, for comparison.
    let want = common::encode_all(enc_config.clone(), &frames);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let frames = Arc::new(Mutex::new(Some(frames)));
    let packets = rt.block_on(async move {
        let (input, output) = AsyncEncoder::open(enc_config, 4).unwrap().split();
        let items = frames.lock().unwrap().take().unwrap().into_iter().map(EncodeItem::from).collect();
        streams::feed_on_a_task_and_take(input, output, items, |p| p).await
    });
    assert_eq!(packets.len(), want.len());
    for (i, (a, b)) in packets.iter().zip(&want).enumerate() {
        assert_eq!((a.pts, a.keyframe), (b.pts, b.keyframe), "packet {i}");
        assert_eq!(a.data, b.data, "packet {i}: the same bytes as the blocking encoder's");
    }
    // And they decode to 30 frames.
    let mut dec = Decoder::open(config()).unwrap();
    let mut n = 0;
    for p in &packets {
        dec.submit(Input::annexb(&p.data, p.pts)).unwrap();
        while dec.try_reap().unwrap().is_some() {
            n += 1;
        }
    }
    n += dec.flush().unwrap().len();
    assert_eq!(n, 30);
    wait_for_sessions(0);
}
