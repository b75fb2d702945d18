//! Pipeline costs.
//!
//! - `ring_hop/stream_1080p_nv12`: a producer thread takes a 1080p NV12 buffer from a
//!   `FrameRing`, wraps it as a frame and pushes it; a consumer thread pops and drops it
//!   (its buffer goes back). No pixel copies. Time per frame in a continuous stream.
//! - `ring_hop/pingpong_1080p_nv12`: one frame sent to a thread and back through two
//!   rings; time per one-way hop (wake-up latency included).
//! - `transcode/direct` and `transcode/pipeline`: the same OpenH264 transcode (640x360,
//!   120 frames) by calling `Decoder` and `Encoder` in one thread, and by `Transcode`
//!   (decoder and encoder on their own threads, joined by a ring).
//!
//! After the criterion groups, a summary runs the two transcodes interleaved (same input,
//! same run), prints both medians and their ratio, and writes
//! `bench/results/pipeline-DATE-COMMIT.md` (named by the day and the checkout's commit).
//!
//! Run: `cargo bench -p video-hw --bench pipeline`.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use video_hw::frame::HostFrame;
use video_hw::pipeline::{DecodeInput, FrameRing, PipelineOptions, RingConfig, RingMemory, Transcode};
use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, Input,
    Output, PixelFormat,
};

const ONLY: EnginePreference = EnginePreference::Only(Engine::OpenH264);
const W: u32 = 1920;
const H: u32 = 1080;

fn ring() -> FrameRing {
    let ring = FrameRing::with_config(RingConfig::new(8).memory(RingMemory::Auto).name("bench")).expect("ring");
    // Allocate every buffer before timing.
    let held: Vec<_> = (0..ring.slots()).map(|_| ring.acquire(PixelFormat::Nv12, W, H, None).expect("slot")).collect();
    drop(held);
    ring
}

/// `iters` frames streamed through one ring between two threads.
fn stream(iters: u64) -> Duration {
    let ring = ring();
    let consumer = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            for _ in 0..iters {
                let f = ring.pop(None).expect("pop").expect("frame");
                black_box(&f);
            }
        })
    };
    let start = Instant::now();
    for i in 0..iters {
        let pixels = ring.acquire(PixelFormat::Nv12, W, H, None).expect("acquire");
        let mut f = Frame::host(PixelFormat::Nv12, W, H, pixels);
        f.pts = Some(i as i64);
        ring.push(f, None).expect("push");
    }
    consumer.join().expect("consumer");
    start.elapsed()
}

/// `iters` round trips of one frame to another thread and back; time per one-way hop.
fn pingpong(iters: u64) -> Duration {
    let there = ring();
    let back = FrameRing::new(1).expect("ring");
    let echo = {
        let (there, back) = (there.clone(), back.clone());
        std::thread::spawn(move || {
            while let Some(f) = there.pop(None).expect("pop") {
                back.push(f, None).expect("push");
            }
        })
    };
    let start = Instant::now();
    for _ in 0..iters {
        let pixels = there.acquire(PixelFormat::Nv12, W, H, None).expect("acquire");
        there.push(Frame::host(PixelFormat::Nv12, W, H, pixels), None).expect("push");
        black_box(back.pop(None).expect("pop").expect("frame"));
    }
    let elapsed = start.elapsed();
    there.close();
    echo.join().expect("echo");
    elapsed / 2
}

fn bench_ring(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring_hop");
    group.throughput(Throughput::Elements(1));
    group.bench_function("stream_1080p_nv12", |b| b.iter_custom(stream));
    group.bench_function("pingpong_1080p_nv12", |b| b.iter_custom(pingpong));
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Transcode

const TW: u32 = 640;
const TH: u32 = 360;
const TFRAMES: usize = 120;

/// The transcode input: a moving pattern with texture, encoded once with OpenH264.
fn input_stream() -> Vec<u8> {
    let cfg = EncoderConfig::new(Codec::H264, TW, TH).engine(ONLY).gop(30);
    let mut enc = Encoder::open(cfg).expect("encoder");
    let mut out = Vec::new();
    let (w, h) = (TW as usize, TH as usize);
    for t in 0..TFRAMES {
        let mut px = vec![128u8; PixelFormat::Yuv420p.frame_size(TW, TH)];
        for y in 0..h {
            for x in 0..w {
                let v = ((x + 3 * t) ^ (y + t)) as u8;
                px[y * w + x] = v.wrapping_add(((x * y + t) % 7) as u8 * 9);
            }
        }
        for (i, c) in px[w * h..].iter_mut().enumerate() {
            *c = (96 + (i + t) % 64) as u8;
        }
        let f = Frame::host(
            PixelFormat::Yuv420p,
            TW,
            TH,
            HostFrame::from_packed(PixelFormat::Yuv420p, TW, TH, px).unwrap(),
        );
        enc.submit(&f, FrameOptions { pts: Some(t as i64 * 3000), force_keyframe: false }).expect("encode");
        while let Some(p) = enc.try_reap().expect("reap") {
            out.extend_from_slice(&p.data);
        }
    }
    for p in enc.flush().expect("flush") {
        out.extend_from_slice(&p.data);
    }
    out
}

fn decoder_config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264).engine(ONLY).output(Output::HOST_YUV420P)
}

fn encoder_config() -> EncoderConfig {
    EncoderConfig::new(Codec::H264, TW, TH).engine(ONLY).gop(60)
}

/// Decoder and encoder called directly, one thread. Returns the output size.
fn direct(input: &[u8]) -> usize {
    let mut dec = Decoder::open(decoder_config()).expect("decoder");
    let mut enc: Option<Encoder> = None;
    let mut bytes = 0;
    let mut encode = |f: Frame, bytes: &mut usize| {
        let enc = enc.get_or_insert_with(|| {
            let mut c = encoder_config();
            (c.width, c.height, c.input_format) = (f.width, f.height, f.format);
            Encoder::open(c).expect("encoder")
        });
        enc.submit(&f, FrameOptions { pts: f.pts, force_keyframe: false }).expect("encode");
        while let Some(p) = enc.try_reap().expect("reap") {
            *bytes += p.data.len();
        }
    };
    for chunk in input.chunks(1 << 16) {
        dec.submit(Input::annexb(chunk, None)).expect("decode");
        while let Some(f) = dec.try_reap().expect("reap") {
            encode(f, &mut bytes);
        }
    }
    for f in dec.flush().expect("flush") {
        encode(f, &mut bytes);
    }
    bytes + enc.map_or(0, |mut e| e.flush().expect("flush").iter().map(|p| p.data.len()).sum())
}

/// The same through `Transcode`. Returns the output size.
fn pipelined(input: &Arc<Vec<u8>>) -> usize {
    let bytes = Arc::new(AtomicUsize::new(0));
    let sink = bytes.clone();
    let data = input.clone();
    let source = (0..data.len().div_ceil(1 << 16)).map(move |i| {
        let end = ((i + 1) << 16).min(data.len());
        Ok(DecodeInput::annexb(&data[i << 16..end], None))
    });
    let job = Transcode::start(decoder_config(), encoder_config(), PipelineOptions::default(), source, move |p| {
        sink.fetch_add(p.data.len(), Ordering::Relaxed);
        Ok(())
    })
    .expect("transcode");
    job.wait().expect("transcode");
    bytes.load(Ordering::Relaxed)
}

fn bench_transcode(c: &mut Criterion, input: &Arc<Vec<u8>>) {
    let mut group = c.benchmark_group("transcode");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(TFRAMES as u64));
    group.bench_function("direct", |b| b.iter(|| direct(input)));
    group.bench_function("pipeline", |b| b.iter(|| pipelined(input)));
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Summary

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// CPU time of the whole process so far (all threads, joined ones included), from
/// `/proc/self/stat` (Linux; `None` elsewhere). Resolution: one clock tick (10 ms).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn summary(input: &Arc<Vec<u8>>) {
    const ROUNDS: usize = 9;
    let (mut a, mut b, mut cpu_a, mut cpu_b) = (Vec::new(), Vec::new(), Duration::ZERO, Duration::ZERO);
    let (size_a, size_b) = (direct(input), pipelined(input));
    assert_eq!(size_a, size_b, "both ways give the same output");
    for _ in 0..ROUNDS {
        let (c0, t) = (cpu_time(), Instant::now());
        black_box(direct(input));
        a.push(t.elapsed());
        let (c1, t) = (cpu_time(), Instant::now());
        black_box(pipelined(input));
        b.push(t.elapsed());
        let c2 = cpu_time();
        if let (Some(c0), Some(c1), Some(c2)) = (c0, c1, c2) {
            cpu_a += c1 - c0;
            cpu_b += c2 - c1;
        }
    }
    let streamed: Vec<Duration> = (0..ROUNDS).map(|_| stream(20_000) / 20_000).collect();
    let hops: Vec<Duration> = (0..ROUNDS).map(|_| pingpong(5_000) / 5_000).collect();
    let (ma, mb) = (median(a), median(b));
    let ratio = mb.as_secs_f64() / ma.as_secs_f64();
    let cpu_ratio = if cpu_a.is_zero() { f64::NAN } else { cpu_b.as_secs_f64() / cpu_a.as_secs_f64() };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let table = format!(
        "# Pipeline benchmark\n\n\
         `cargo bench -p video-hw --bench pipeline` on {cores} cores; medians of {ROUNDS} interleaved runs.\n\n\
         | measurement | median |\n|---|---|\n\
         | ring + thread hop, 1080p NV12, streamed (per frame) | {:.2} µs |\n\
         | ring + thread hop, 1080p NV12, ping-pong (per one-way hop) | {:.2} µs |\n\
         | OpenH264 transcode {TW}x{TH}, {TFRAMES} frames, sessions called directly | {:.1} ms |\n\
         | same transcode through `Transcode` (decoder and encoder threads) | {:.1} ms |\n\
         | wall-clock ratio pipeline / direct | {ratio:.3} |\n\
         | CPU-time ratio pipeline / direct (all threads) | {cpu_ratio:.3} |\n",
        median(streamed).as_secs_f64() * 1e6,
        median(hops).as_secs_f64() * 1e6,
        ma.as_secs_f64() * 1e3,
        mb.as_secs_f64() * 1e3,
    );
    println!("\n{table}");
    let (date, commit) = common::date_and_commit();
    common::write_record("pipeline", &date, &commit, &table);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let input = Arc::new(input_stream());
    bench_ring(&mut c);
    bench_transcode(&mut c, &input);
    c.final_summary();
    // `cargo test --benches` / `--list` run in test mode, and a name filter asks for
    // some benchmarks only: no summary then.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let test_mode = args.iter().any(|a| a == "--test" || a == "--list");
    let filtered = args.iter().any(|a| !a.starts_with('-') && a != "summary") && !args.iter().any(|a| a == "summary");
    if !test_mode && !filtered {
        summary(&input);
    }
}
