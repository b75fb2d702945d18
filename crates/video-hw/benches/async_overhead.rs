//! What the async sessions cost per frame over the blocking API (feature `async`):
//! `cargo bench -p video-hw --features async --bench async_overhead`.
//!
//! The same packets (the B-pyramid MP4 fixture, 30 frames of 320x240, repeated K times as
//! separate streams with a drain between them) are decoded by OpenH264 through the blocking
//! `Decoder` and through an `AsyncDecoder` fed and drained on one `futures::executor` thread
//! (depth 8). Runs alternate; the table gives the median wall time per frame of each and
//! the difference, with the spread of the blocking runs (their interquartile range per frame)
//! to read it against. Clock: `std::time::Instant` around each whole run. Written to
//! `bench/results/async-overhead-DATE-COMMIT.md`.

mod common;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use video_hw::async_session::{AsyncDecoder, AsyncInput};
use video_hw::media::Demuxer;
use video_hw::pipeline::DecodeInput;
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Input, Output, PixelFormat};

const REPEAT: usize = 20;
const RUNS: usize = 15;

fn config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264)
        .output(Output::Host(PixelFormat::Yuv420p))
        .engine(EnginePreference::Only(Engine::OpenH264))
}

fn packets() -> Vec<AsyncInput> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/mp4/high-bpyramid-8x8-wp-cars-320x240.mp4");
    let mut d = Demuxer::open(path).expect("fixture");
    let track = d.video_track().expect("video").clone();
    let record = DecodeInput::track_record(&track);
    let mut out = Vec::new();
    while let Some(p) = d.next_packet().expect("packet") {
        if p.track == track.index {
            out.push(DecodeInput::from_media(record.as_ref(), p).into());
        }
    }
    out
}

fn blocking(items: &[AsyncInput]) -> (Duration, usize) {
    let start = Instant::now();
    let mut dec = Decoder::open(config()).expect("decoder");
    let mut frames = 0;
    for _ in 0..REPEAT {
        for item in items {
            let AsyncInput::Data(DecodeInput::LengthPrefixed { sample, record, pts }) = item else { unreachable!() };
            dec.submit(Input::length_prefixed(sample, record, *pts)).expect("submit");
            while dec.try_reap().expect("reap").is_some() {
                frames += 1;
            }
        }
        frames += dec.flush().expect("flush").len();
    }
    (start.elapsed(), frames)
}

fn asynchronous(items: &[AsyncInput]) -> (Duration, usize) {
    let start = Instant::now();
    let (mut input, output) = AsyncDecoder::open(config(), 8).expect("decoder").split();
    let mut all = Vec::with_capacity(items.len() * REPEAT + REPEAT);
    for _ in 0..REPEAT {
        all.extend(items.iter().cloned());
        all.push(AsyncInput::Flush);
    }
    let frames = futures::executor::block_on(async move {
        let feed = async move {
            for item in all {
                input.send(item).await.expect("send");
            }
            input.close().await.expect("close");
        };
        let take = output.fold(0usize, |n, f| async move {
            f.expect("frame");
            n + 1
        });
        futures::future::join(feed, take).await.1
    });
    (start.elapsed(), frames)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let items = packets();
    let (mut b, mut a) = (Vec::new(), Vec::new());
    let mut frames = 0;
    blocking(&items);
    asynchronous(&items);
    for run in 0..RUNS {
        let (first, second) = if run % 2 == 0 { (true, false) } else { (false, true) };
        for is_blocking in [first, second] {
            let (t, n) = if is_blocking { blocking(&items) } else { asynchronous(&items) };
            frames = n;
            let per_frame = t.as_secs_f64() * 1e6 / n as f64;
            if is_blocking { b.push(per_frame) } else { a.push(per_frame) }
        }
    }
    let (mb, ma) = (median(b.clone()), median(a.clone()));
    let mut sorted = b.clone();
    sorted.sort_by(f64::total_cmp);
    let iqr = sorted[sorted.len() * 3 / 4] - sorted[sorted.len() / 4];
    let table = format!(
        "| frames per run | blocking µs/frame (median) | async µs/frame (median) | async - blocking | blocking IQR |\n\
         |---|---|---|---|---|\n\
         | {frames} | {mb:.2} | {ma:.2} | {:.2} | {iqr:.2} |\n",
        ma - mb
    );
    println!("{table}");
    let (date, commit) = common::date_and_commit();
    let text = format!(
        "# Async sessions against the blocking API ({date}, {commit}, {} CPU threads)\n\n\
         OpenH264 decoding the B-pyramid fixture (320x240) {REPEAT} times per run, {RUNS} runs each, alternating;\n\
         wall time per frame (`Instant`), medians. `cargo bench -p video-hw --features async --bench async_overhead`.\n\n{table}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    common::write_record("async-overhead", &date, &commit, &text);
}
