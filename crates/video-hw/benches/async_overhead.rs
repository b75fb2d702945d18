//! What the async surface costs per frame over the blocking API:
//! `cargo bench -p video-hw --bench async_overhead`.
//!
//! Two workloads, both OpenH264 to host yuv420p:
//! - `64x64`: 600 frames the bench encodes itself (OpenH264, a moving pattern). A frame
//!   decodes in tens of microseconds, so the cost of the hand-over between threads is
//!   not lost in the engine's own time.
//! - `64x64` ×10: the same 600 frames ten times over (a drain between repetitions for the
//!   decoders, one stream for the pipelines), so that what opening a session costs is
//!   spread over 6,000 frames: the steady per-frame cost.
//! - `320x240`: the B-pyramid MP4 fixture (30 frames) repeated as separate streams with a
//!   drain between them, the engine's time dominating.
//!
//! Five ways, each fed the same packets and draining every frame:
//! - `blocking`: `Decoder` on the calling thread (the reference);
//! - `blocking, thread of its own`: the same on a thread spawned for the run, as a tokio
//!   service runs a blocking session (`spawn_blocking`): what moving the engine off the
//!   caller's thread costs by itself (memory arenas, caches, scheduling);
//! - `AsyncDecoder`: fed and drained by one `futures::executor` thread (depth 8); since
//!   2026-11-27 the old name's wrapper over a `DecodePipeline`'s handles, so the next row
//!   but one plus the wrapper (and its drains between streams);
//! - `DecodePipeline`, blocking: `submit` from one thread, `recv` on another;
//! - `DecodePipeline`, async: its sink fed and its stream drained on one executor thread.
//!
//! And the encode side, OpenH264 encoding the 600 64x64 frames: the blocking `Encoder`,
//! `AsyncEncoder`, and an `EncodePipeline` by threads and by its async handles.
//!
//! Runs alternate; the table gives, per frame, the median and the least wall time
//! (`Instant` around the whole run, session opening included), the median CPU time of the
//! process (user + system, `getrusage`), and the excess over the blocking decoder: the
//! median over rounds of each round's difference (every way runs once a round), which a
//! machine whose speed drifts between runs disturbs less than a difference of medians; and
//! the threads' waits per frame (voluntary context switches of the process): a hand-over
//! that finds its consumer asleep wakes it, and it counts one when it sleeps again. The
//! machine's load moves that count far less than it moves the times. And the process's
//! minor page faults per frame: what a session pays for memory first touched on its
//! thread (a new thread's malloc arena), which the load does not move either.
//! `ASYNC_BENCH_RUNS=N` sets the rounds (15), `ASYNC_BENCH_ONLY=320x240` keeps the
//! workloads whose name has that in it (`encode`: the encode side only); `ASYNC_BENCH_KEEP_THREADS=0`
//! starts every session on a new thread (`worker_threads::configure(0, …)`), for comparison. Written to
//! `bench/results/async-overhead-DATE-COMMIT.md`.

mod common;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use video_hw::async_session::{AsyncDecoder, AsyncEncoder, AsyncInput, EncodeItem};
use video_hw::frame::HostFrame;
use video_hw::media::Demuxer;
use video_hw::pipeline::{DecodeInput, DecodePipeline, EncodePipeline, PipelineOptions, RingMemory};
use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, Input,
    Output, PixelFormat,
};

/// Runs of each way per workload: `ASYNC_BENCH_RUNS`, or 15.
fn runs() -> usize {
    std::env::var("ASYNC_BENCH_RUNS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(15).max(1)
}

/// Only the workloads whose name contains `ASYNC_BENCH_ONLY`, if set.
fn wanted(workload: &str) -> bool {
    std::env::var("ASYNC_BENCH_ONLY").map_or(true, |only| workload.contains(only.trim()))
}
const DEPTH: usize = 8;

/// One workload: packets for one stream, how many times a run decodes it, and its name.
struct Workload {
    name: &'static str,
    packets: Vec<DecodeInput>,
    repeat: usize,
}

fn config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264)
        .output(Output::Host(PixelFormat::Yuv420p))
        .engine(EnginePreference::Only(Engine::OpenH264))
}

const TINY: u32 = 64;

fn encoder_config() -> EncoderConfig {
    EncoderConfig::new(Codec::H264, TINY, TINY).engine(EnginePreference::Only(Engine::OpenH264))
}

/// 600 frames of a moving pattern at 64x64, with their timestamps.
fn tiny_frames() -> Vec<Frame> {
    let (w, h) = (TINY, TINY);
    (0..600usize)
        .map(|t| {
            let mut raw = vec![128u8; PixelFormat::Yuv420p.frame_size(w, h)];
            for y in 0..h as usize {
                for x in 0..w as usize {
                    raw[y * w as usize + x] = ((x + 2 * t) ^ (y + t)) as u8;
                }
            }
            let pixels = HostFrame::from_packed(PixelFormat::Yuv420p, w, h, raw).expect("frame");
            let mut frame = Frame::host(PixelFormat::Yuv420p, w, h, pixels);
            frame.pts = Some(t as i64);
            frame
        })
        .collect()
}

/// The 600 frames encoded by OpenH264 (Annex-B access units).
fn tiny() -> Workload {
    let mut enc = Encoder::open(encoder_config()).expect("openh264 encoder");
    let mut packets = Vec::new();
    for (t, frame) in tiny_frames().iter().enumerate() {
        enc.submit(frame, FrameOptions { pts: Some(t as i64), force_keyframe: false }).expect("encode");
        while let Some(p) = enc.try_reap().expect("packet") {
            packets.push(DecodeInput::annexb(p.data, p.pts));
        }
    }
    packets.extend(enc.flush().expect("flush").into_iter().map(|p| DecodeInput::annexb(p.data, p.pts)));
    Workload { name: "64x64, 600 frames", packets, repeat: 1 }
}

/// The B-pyramid MP4 fixture's 30 samples, as length-prefixed input.
fn fixture() -> Workload {
    // The checkout it was built in, else the current directory's (a copy of the repository
    // on another machine).
    let name = "testdata/mp4/high-bpyramid-8x8-wp-cars-320x240.mp4";
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(name);
    let path = if built.is_file() { built } else { std::path::PathBuf::from(name) };
    let mut d = Demuxer::open(&path).expect("fixture");
    let track = d.video_track().expect("video").clone();
    let record = DecodeInput::track_record(&track);
    let mut packets = Vec::new();
    while let Some(p) = d.next_packet().expect("packet") {
        if p.track == track.index {
            packets.push(DecodeInput::from_media(record.as_ref(), p));
        }
    }
    Workload { name: "320x240, 30 frames x 20", packets, repeat: 20 }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Blocking,
    BlockingOwnThread,
    AsyncDecoder,
    Pipeline,
    PipelineAsync,
}

const WAYS: [(Way, &str); 5] = [
    (Way::Blocking, "Decoder (blocking)"),
    (Way::BlockingOwnThread, "Decoder (blocking, thread of its own)"),
    (Way::AsyncDecoder, "AsyncDecoder"),
    (Way::Pipeline, "DecodePipeline, blocking"),
    (Way::PipelineAsync, "DecodePipeline, async"),
];

fn blocking(w: &Workload) -> usize {
    let mut dec = Decoder::open(config()).expect("decoder");
    let mut frames = 0;
    for _ in 0..w.repeat {
        for item in &w.packets {
            let AsyncInput::Data(input) = AsyncInput::Data(item.clone()) else { unreachable!() };
            submit(&mut dec, &input);
            while dec.try_reap().expect("reap").is_some() {
                frames += 1;
            }
        }
        frames += dec.flush().expect("flush").len();
    }
    frames
}

fn submit(dec: &mut Decoder, input: &DecodeInput) {
    let r = match input {
        DecodeInput::LengthPrefixed { sample, record, pts } => dec.submit(Input::length_prefixed(sample, record, *pts)),
        DecodeInput::AnnexB { data, pts } => dec.submit(Input::annexb(data, *pts)),
        _ => unreachable!("the bench makes only these"),
    };
    r.expect("submit");
}

/// The items an async run sends: the packets, a drain after each repetition.
fn async_items(w: &Workload) -> Vec<AsyncInput> {
    let mut all = Vec::with_capacity((w.packets.len() + 1) * w.repeat);
    for _ in 0..w.repeat {
        all.extend(w.packets.iter().cloned().map(AsyncInput::Data));
        all.push(AsyncInput::Flush);
    }
    all
}

/// Feeds `items` into `sink` and closes it, while taking everything `stream` gives, on one
/// `futures` executor thread: how every async way is driven. Returns the count taken.
fn drive<I, O, S, T>(mut sink: S, stream: T, items: Vec<I>) -> usize
where
    S: futures::Sink<I, Error = video_hw::Error> + Unpin,
    T: futures::Stream<Item = video_hw::Result<O>> + Unpin,
{
    futures::executor::block_on(async move {
        let feed = async move {
            for item in items {
                sink.send(item).await.expect("send");
            }
            sink.close().await.expect("close");
        };
        let take = stream.fold(0usize, |n, item| async move {
            item.expect("output");
            n + 1
        });
        futures::future::join(feed, take).await.1
    })
}

fn async_decoder(w: &Workload) -> usize {
    let all = async_items(w);
    // Pageable buffers, as the pipelines' below: a driver's page-locking is no part of the
    // async surface's cost.
    let decoder = Decoder::open(config()).expect("decoder");
    let (input, output) = AsyncDecoder::with_memory(decoder, DEPTH, RingMemory::Pageable).expect("decoder").split();
    drive(input, output, all)
}

/// The pipeline's input: one stream per repetition would need a drain marker it does not
/// have, so a run is one stream of `repeat` copies (each copy starts with its own
/// parameter sets and an IDR, so the frames are the same).
fn pipeline_items(w: &Workload) -> Vec<DecodeInput> {
    (0..w.repeat).flat_map(|_| w.packets.iter().cloned()).collect()
}

fn pipeline_options() -> PipelineOptions {
    PipelineOptions::default().queue_depth(DEPTH).input_depth(DEPTH).memory(RingMemory::Pageable)
}

fn pipeline(w: &Workload) -> usize {
    let items = pipeline_items(w);
    let p = DecodePipeline::open(config(), pipeline_options()).expect("pipeline");
    std::thread::scope(|s| {
        s.spawn(|| {
            for item in items {
                p.submit(item).expect("submit");
            }
            p.end_input();
        });
        p.frames().inspect(|f| assert!(f.is_ok(), "frame")).count()
    })
}

fn pipeline_async(w: &Workload) -> usize {
    let items = pipeline_items(w);
    let p = DecodePipeline::open(config(), pipeline_options()).expect("pipeline");
    drive(p.input_sink().expect("submit-fed"), p.frame_stream(), items)
}

/// The encode ways, each encoding every frame and taking every packet; their packet count.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EncodeWay {
    Blocking,
    AsyncEncoder,
    Pipeline,
    PipelineAsync,
}

const ENCODE_WAYS: [(EncodeWay, &str); 4] = [
    (EncodeWay::Blocking, "Encoder (blocking)"),
    (EncodeWay::AsyncEncoder, "AsyncEncoder"),
    (EncodeWay::Pipeline, "EncodePipeline, blocking"),
    (EncodeWay::PipelineAsync, "EncodePipeline, async"),
];

fn encode(way: EncodeWay, frames: Vec<Frame>) -> usize {
    match way {
        EncodeWay::Blocking => {
            let mut enc = Encoder::open(encoder_config()).expect("encoder");
            let mut packets = 0;
            for f in &frames {
                enc.submit(f, FrameOptions::default()).expect("encode");
                while enc.try_reap().expect("reap").is_some() {
                    packets += 1;
                }
            }
            packets + enc.flush().expect("flush").len()
        }
        EncodeWay::AsyncEncoder => {
            let (input, output) = AsyncEncoder::open(encoder_config(), DEPTH).expect("encoder").split();
            drive(input, output, frames.into_iter().map(EncodeItem::from).collect())
        }
        EncodeWay::Pipeline => {
            let p = EncodePipeline::open(encoder_config(), pipeline_options()).expect("pipeline");
            std::thread::scope(|s| {
                s.spawn(|| {
                    for f in frames {
                        p.submit(f, FrameOptions::default()).expect("submit");
                    }
                    p.end_input();
                });
                let mut packets = 0;
                while p.recv_packet().expect("packet").is_some() {
                    packets += 1;
                }
                packets
            })
        }
        EncodeWay::PipelineAsync => {
            let p = EncodePipeline::open(encoder_config(), pipeline_options()).expect("pipeline");
            let items = frames.into_iter().map(|f| (f, FrameOptions::default())).collect();
            drive(p.frame_sink(), p.packet_stream().expect("packet queue"), items)
        }
    }
}

/// User + system CPU time of the whole process so far, the times its threads gave up the
/// CPU to wait (voluntary context switches: a thread that sleeps until it is woken), and
/// its minor page faults (memory the kernel mapped and zeroed on first touch).
fn process_usage() -> (Duration, u64, u64) {
    // SAFETY: `getrusage` fills the zeroed `rusage` it is given and keeps no pointer to it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(usage.ru_utime) + tv(usage.ru_stime), usage.ru_nvcsw.max(0) as u64, usage.ru_minflt.max(0) as u64)
}

/// One run of one way, per frame: wall and CPU time in µs, the threads' waits (each
/// hand-over that found its consumer asleep costs one) and the page faults, with the run's
/// output count.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
    waits: f64,
    faults: f64,
    count: usize,
}

/// Times `f` (which gives its output count) per `per` items.
fn sample(per: Option<f64>, f: impl FnOnce() -> usize) -> Sample {
    let ((cpu0, waits0, faults0), start) = (process_usage(), Instant::now());
    let count = f();
    let wall = start.elapsed();
    let (cpu, waits, faults) = process_usage();
    let n = per.unwrap_or(count as f64).max(1.0);
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n;
    let per_item = |a: u64, b: u64| a.saturating_sub(b) as f64 / n;
    Sample {
        wall: us(wall),
        cpu: us(cpu - cpu0),
        waits: per_item(waits, waits0),
        faults: per_item(faults, faults0),
        count,
    }
}

/// One run of decode way `way` on `w`.
fn measure(way: Way, w: &Workload) -> Sample {
    sample(None, || match way {
        Way::Blocking => blocking(w),
        Way::BlockingOwnThread => std::thread::scope(|s| s.spawn(|| blocking(w)).join().expect("blocking thread")),
        Way::AsyncDecoder => async_decoder(w),
        Way::Pipeline => pipeline(w),
        Way::PipelineAsync => pipeline_async(w),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs each of `names.len()` ways once to warm up, then [`runs`] rounds in which each
/// runs once, in rotated order (no way always first, or always after the same one), and
/// appends a row per way to `table`: `run(i)` runs way `i` once, and its output count must
/// be the same for every way. The excess over way 0 is the median of the rounds' differences.
fn compare(table: &mut String, workload: &str, names: &[&str], mut run: impl FnMut(usize) -> Sample) {
    if names.is_empty() {
        return;
    }
    let mut results: Vec<Vec<Sample>> = names.iter().map(|_| Vec::new()).collect();
    for i in 0..names.len() {
        run(i);
    }
    for round in 0..runs() {
        for k in 0..names.len() {
            let i = (k + round) % names.len();
            results[i].push(run(i));
        }
    }
    let base = results[0].clone();
    for (name, rounds) in names.iter().zip(&results) {
        let count = rounds[0].count;
        assert!(rounds.iter().chain(&base).all(|r| r.count == count), "{name} gave another count");
        let of = |f: fn(&Sample) -> f64| median(rounds.iter().map(f).collect());
        let least = rounds.iter().map(|r| r.wall).fold(f64::INFINITY, f64::min);
        let over = |f: fn(&Sample) -> f64| median(rounds.iter().zip(&base).map(|(r, b)| f(r) - f(b)).collect());
        table.push_str(&format!(
            "| {workload} | {name} | {count} | {:.2} | {least:.2} | {:.2} | {:+.2} | {:+.2} | {:.2} | {:.2} |\n",
            of(|r| r.wall),
            of(|r| r.cpu),
            over(|r| r.wall),
            over(|r| r.cpu),
            of(|r| r.waits),
            of(|r| r.faults),
        ));
    }
}

fn main() {
    if std::env::var("ASYNC_BENCH_KEEP_THREADS").is_ok_and(|v| v.trim() == "0") {
        // Every session on a new thread, as before threads were kept: for comparison.
        video_hw::worker_threads::configure(0, Duration::ZERO);
    }
    let mut table = String::from(
        "| workload | way | frames | wall µs/frame | least wall | CPU µs/frame | wall over blocking | CPU over blocking | waits/frame | faults/frame |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let long = Workload { name: "64x64, 600 frames x 10", repeat: 10, ..tiny() };
    let names: Vec<&str> = WAYS.iter().map(|w| w.1).collect();
    for w in [tiny(), long, fixture()].into_iter().filter(|w| wanted(w.name)) {
        compare(&mut table, w.name, &names, |i| measure(WAYS[i].0, &w));
    }
    // The encode side: the 64x64 frames (the count column is then packets, one a frame).
    let names: Vec<&str> = ENCODE_WAYS.iter().map(|w| w.1).collect();
    let encode_workload = "encode 64x64, 600 frames";
    compare(&mut table, encode_workload, if wanted(encode_workload) { &names } else { &[] }, |i| {
        let frames = tiny_frames(); // made before the clocks start
        let n = frames.len() as f64;
        sample(Some(n), || encode(ENCODE_WAYS[i].0, frames))
    });
    println!("{table}");
    let (date, commit) = common::date_and_commit();
    let text = format!(
        "# Async surface against the blocking API ({date}, {commit}, {} CPU threads)\n\n\
         OpenH264 to host yuv420p; {} rounds of every way, order rotated; medians per frame of the whole run's\n\
         wall time (`Instant`) and of the process's CPU time (`getrusage`, user + system), the least wall time,\n\
         the median of each round's difference from the blocking decoder, and the threads' waits per frame\n\
         (voluntary context switches, `getrusage`: a hand-over that finds its consumer asleep costs one) and the\n\
         process's minor page faults per frame (memory mapped and zeroed on first touch).\n\
         `cargo bench -p video-hw --features async --bench async_overhead`{}.\n\n{table}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        runs(),
        if video_hw::worker_threads::idle_limit() == 0 {
            ", every session on a new thread (ASYNC_BENCH_KEEP_THREADS=0)"
        } else {
            ""
        }
    );
    common::write_record("async-overhead", &date, &commit, &text);
}
