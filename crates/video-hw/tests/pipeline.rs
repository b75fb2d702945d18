//! The frame ring and the threaded pipelines: stress with random delays (nothing lost,
//! duplicated or reordered), backpressure with bounded memory, shutdown mid-stream,
//! worker panics, error propagation, and pipelines giving the same output as the
//! sessions called directly.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use video_hw::frame::HostFrame;
use video_hw::pipeline::{
    DecodeInput, DecodePipeline, EncodePipeline, FrameRing, PipelineOptions, RingConfig, RingMemory, Shutdown,
    Transcode,
};
use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Engine, EnginePreference, Error, Frame, FrameOptions, Input,
    Output, PixelFormat,
};

const ONLY: EnginePreference = EnginePreference::Only(Engine::OpenH264);
/// Every test is bounded in time: a hang fails instead of blocking CI.
const LIMIT: Duration = Duration::from_secs(60);

/// 48 frames, B-frames, an IDR every 12.
fn stream() -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("h264/gop12-idr-cars-320x240.h264")).expect("fixture")
}
const STREAM_FRAMES: usize = 48;

fn decoder_config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264).engine(ONLY).output(Output::HOST_YUV420P)
}

/// A small deterministic PRNG (xorshift64*), so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn delay(&mut self, max_us: u64) -> Duration {
        Duration::from_micros(self.next() % (max_us + 1))
    }
}

fn stamped(ring: &FrameRing, pts: i64) -> Frame {
    let mut pixels = ring.acquire(PixelFormat::Nv12, 32, 16, Some(LIMIT)).expect("acquire");
    pixels.as_bytes_mut()[..8].copy_from_slice(&pts.to_le_bytes());
    let mut f = Frame::host(PixelFormat::Nv12, 32, 16, pixels);
    f.pts = Some(pts);
    f
}

fn stamp_of(f: &Frame) -> i64 {
    let bytes = f.host_data().expect("host").as_bytes();
    i64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
}

#[test]
fn ring_stress_with_random_delays_keeps_every_frame_once_in_order() {
    const N: i64 = 3000;
    let ring = FrameRing::with_config(RingConfig::new(4).memory(RingMemory::Pageable)).unwrap();
    let start = Instant::now();
    let producer = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            let mut rng = Rng(0x1234_5678);
            for i in 0..N {
                if rng.next().is_multiple_of(4) {
                    std::thread::sleep(rng.delay(200));
                }
                ring.push(stamped(&ring, i), Some(LIMIT)).expect("push");
            }
            ring.close();
        })
    };
    let mut rng = Rng(0x9abc_def0);
    let mut expected = 0;
    while let Some(frame) = ring.pop(Some(LIMIT)).expect("pop") {
        assert_eq!(frame.pts, Some(expected), "lost, duplicated or reordered");
        assert_eq!(stamp_of(&frame), expected, "pixels do not belong to their frame");
        expected += 1;
        if rng.next().is_multiple_of(4) {
            std::thread::sleep(rng.delay(200));
        }
        assert!(start.elapsed() < LIMIT, "stress test ran too long");
    }
    producer.join().unwrap();
    assert_eq!(expected, N);
    let s = ring.stats();
    assert_eq!((s.pushed, s.popped, s.depth, s.in_use), (N as u64, N as u64, 0, 0));
    assert!(s.peak <= 4 && s.peak >= 1, "{s:?}");
    // Buffers were recycled: never more than the ring's slots.
    assert!(s.allocations <= s.slots as u64, "{s:?}");
}

#[test]
fn ring_stress_many_producers_and_consumers_lose_and_duplicate_nothing() {
    const PRODUCERS: i64 = 3;
    const PER: i64 = 700;
    let ring = FrameRing::new(3).unwrap();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let ring = ring.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(77 + p as u64);
                for i in 0..PER {
                    if rng.next().is_multiple_of(8) {
                        std::thread::sleep(rng.delay(100));
                    }
                    ring.push(stamped(&ring, p * PER + i), Some(LIMIT)).expect("push");
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|c| {
            let ring = ring.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(1000 + c);
                let mut seen = Vec::new();
                let mut last = vec![-1i64; PRODUCERS as usize];
                while let Some(f) = ring.pop(Some(LIMIT)).expect("pop") {
                    let v = stamp_of(&f);
                    // Each producer's frames reach each consumer in the producer's order.
                    let p = (v / PER) as usize;
                    assert!(v > last[p], "reordered: {v} after {}", last[p]);
                    last[p] = v;
                    seen.push(v);
                    if rng.next().is_multiple_of(8) {
                        std::thread::sleep(rng.delay(100));
                    }
                }
                seen
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    ring.close();
    let mut all: Vec<i64> = consumers.into_iter().flat_map(|c| c.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..PRODUCERS * PER).collect::<Vec<_>>());
    assert!(ring.stats().allocations <= ring.slots() as u64);
}

#[test]
fn slow_consumer_blocks_the_producer_and_memory_stays_bounded() {
    let ring = FrameRing::with_config(RingConfig::new(2).slots(3)).unwrap();
    let consumer = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while let Some(f) = ring.pop(Some(LIMIT)).expect("pop") {
                std::thread::sleep(Duration::from_millis(3));
                let s = ring.stats();
                assert!(s.in_use <= 3 && s.depth <= 2, "{s:?}");
                drop(f);
                n += 1;
            }
            n
        })
    };
    let start = Instant::now();
    for i in 0..40 {
        ring.push(stamped(&ring, i), Some(LIMIT)).unwrap();
    }
    let produced_in = start.elapsed();
    ring.close();
    assert_eq!(consumer.join().unwrap(), 40);
    // The producer went at the consumer's pace (40 frames x 3 ms, less the ring's depth).
    assert!(produced_in >= Duration::from_millis(3 * 35), "{produced_in:?}");
    let s = ring.stats();
    assert!(s.producer_waits > 30, "{s:?}");
    assert_eq!(s.peak, 2);
    assert!(s.allocations <= 3, "{s:?}");
}

fn decode_directly(stream: &[u8]) -> Vec<(Option<i64>, Vec<u8>)> {
    let mut dec = Decoder::open(decoder_config()).unwrap();
    let mut out = Vec::new();
    for (i, chunk) in stream.chunks(4096).enumerate() {
        dec.submit(Input::annexb(chunk, i as i64)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            out.push((f.pts, f.host_data().unwrap().as_bytes().to_vec()));
        }
    }
    out.extend(dec.flush().unwrap().into_iter().map(|f| (f.pts, f.host_data().unwrap().as_bytes().to_vec())));
    out
}

fn chunks(stream: &[u8]) -> Vec<DecodeInput> {
    stream.chunks(4096).enumerate().map(|(i, c)| DecodeInput::annexb(c, i as i64)).collect()
}

#[test]
fn decode_pipeline_gives_what_the_decoder_gives() {
    let stream = stream();
    let want = decode_directly(&stream);
    assert_eq!(want.len(), STREAM_FRAMES);
    let source = chunks(&stream).into_iter().map(Ok);
    let p =
        DecodePipeline::open_with_source(decoder_config(), PipelineOptions::default().queue_depth(3), source).unwrap();
    let mut got = Vec::new();
    for f in p.frames() {
        let f = f.unwrap();
        let host = f.host_data().unwrap();
        got.push((f.pts, host.as_bytes().to_vec()));
    }
    assert_eq!(got, want);
    let stats = p.stats();
    assert_eq!(stats.frames, STREAM_FRAMES as u64);
    assert!(stats.queue.peak <= 3);
    // The engine wrote into the ring's buffers: a handful of allocations, not one per frame.
    assert!(stats.queue.allocations <= stats.queue.slots as u64, "{:?}", stats.queue);
    let report = p.shutdown(Shutdown::Drain).unwrap();
    assert!(report.items.is_empty());
    let dec = report.stats.decoder.expect("final decoder stats");
    assert_eq!(dec.frames_out, STREAM_FRAMES as u64);
    let decode = dec.timings.stage(video_hw::metrics::Stage::Decode).expect("decode stage timed");
    assert!(decode.count > 0 && decode.p50 <= decode.p99 && decode.p99 <= decode.max);
    assert!(!report.stats.running);
    assert_eq!(report.stats.interval.count(), STREAM_FRAMES as u64 - 1);
}

#[test]
fn decode_pipeline_fed_by_submit_from_another_thread() {
    let stream = stream();
    let p = DecodePipeline::open(decoder_config(), PipelineOptions::default().input_depth(2).timeout(LIMIT)).unwrap();
    let frames = std::thread::scope(|s| {
        s.spawn(|| {
            for input in chunks(&stream) {
                p.submit(input).unwrap();
            }
            p.end_input();
        });
        let mut n = 0;
        while let Some(_f) = p.recv().unwrap() {
            n += 1;
        }
        n
    });
    assert_eq!(frames, STREAM_FRAMES);
    assert!(matches!(p.submit(DecodeInput::annexb(vec![0, 0, 1], None)), Err(Error::Closed(_))));
    p.shutdown(Shutdown::Drain).unwrap();
}

#[test]
fn decode_pipeline_shutdown_mid_stream() {
    let stream = stream();
    // Cancel: stops at once, nothing more comes, the thread is joined.
    let source = chunks(&stream).into_iter().map(Ok);
    let p =
        DecodePipeline::open_with_source(decoder_config(), PipelineOptions::default().queue_depth(2), source).unwrap();
    let first = p.recv().unwrap().expect("a frame");
    assert_eq!(first.pts, Some(0));
    let t = Instant::now();
    let report = p.shutdown(Shutdown::Cancel).unwrap();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(report.items.is_empty() && !report.stats.running);
    assert!(report.stats.frames < STREAM_FRAMES as u64);
    drop(first); // a frame outliving its pipeline keeps its buffer until dropped

    // Drain: everything submitted still comes out, in the decoder's order.
    let source = chunks(&stream).into_iter().map(Ok);
    let p =
        DecodePipeline::open_with_source(decoder_config(), PipelineOptions::default().queue_depth(2), source).unwrap();
    let mut pts = Vec::new();
    for _ in 0..5 {
        pts.push(p.recv().unwrap().unwrap().pts);
    }
    let report = p.shutdown(Shutdown::Drain).unwrap();
    pts.extend(report.items.iter().map(|f| f.pts));
    let want: Vec<Option<i64>> = decode_directly(&stream).into_iter().map(|(pts, _)| pts).collect();
    assert_eq!(pts, want);

    // Drop mid-stream joins the worker (blocked on a full ring) without leaking it.
    let source = chunks(&stream).into_iter().map(Ok);
    let p =
        DecodePipeline::open_with_source(decoder_config(), PipelineOptions::default().queue_depth(1), source).unwrap();
    let _ = p.recv().unwrap();
    let t = Instant::now();
    drop(p);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn worker_panic_becomes_an_error() {
    // A source that panics runs on the decode worker's thread.
    let stream = stream();
    let mut inputs = chunks(&stream).into_iter();
    let source = std::iter::from_fn(move || {
        let next = inputs.next();
        if next.is_none() {
            panic!("source exploded");
        }
        next.map(Ok)
    });
    let p = DecodePipeline::open_with_source(decoder_config(), PipelineOptions::default(), source).unwrap();
    let mut frames = 0;
    let err = loop {
        match p.recv() {
            Ok(Some(_)) => frames += 1,
            Ok(None) => panic!("the panic was lost"),
            Err(e) => break e,
        }
    };
    assert!(matches!(&err, Error::Panicked(m) if m.contains("source exploded") && m.contains("decode")), "{err}");
    assert!(frames > 0);
    // Reported once; later calls say the pipeline is closed and why.
    assert!(matches!(p.recv(), Err(Error::Closed(m)) if m.contains("source exploded")));
    p.shutdown(Shutdown::Drain).unwrap();

    // A packet sink that panics runs on the encode worker's thread.
    let cfg = EncoderConfig::new(Codec::H264, 64, 64).engine(ONLY);
    let p = EncodePipeline::open_with_sink(cfg, PipelineOptions::default().timeout(LIMIT), |_| panic!("sink exploded"))
        .unwrap();
    let mut failed = None;
    for i in 0..50 {
        let submitted = p.acquire().and_then(|pixels| {
            let frame = Frame::host(PixelFormat::Yuv420p, 64, 64, pixels);
            p.submit(frame, FrameOptions { pts: Some(i), force_keyframe: false })
        });
        if let Err(e) = submitted {
            failed = Some(e);
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let err = match failed {
        Some(e) => e,
        None => p.shutdown(Shutdown::Drain).unwrap_err(),
    };
    assert!(matches!(&err, Error::Panicked(m) if m.contains("sink exploded")), "{err}");
}

#[test]
fn encode_errors_reach_the_caller_with_context() {
    let cfg = EncoderConfig::new(Codec::H264, 64, 64).engine(ONLY);
    let p = EncodePipeline::open(cfg, PipelineOptions::default().timeout(LIMIT)).unwrap();
    let wrong = Frame::host(PixelFormat::Yuv420p, 32, 32, HostFrame::new_packed(PixelFormat::Yuv420p, 32, 32));
    p.submit(wrong, FrameOptions::default()).unwrap(); // accepted by the ring; refused by the encoder
    let err = p.recv_packet().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("encode pipeline, frame #1") && m.contains("32x32")),
        "{err}"
    );
    // The producer side now fails too, naming the cause.
    let frame = Frame::host(PixelFormat::Yuv420p, 64, 64, HostFrame::new_packed(PixelFormat::Yuv420p, 64, 64));
    let e = p.submit(frame, FrameOptions::default()).unwrap_err();
    assert!(matches!(&e, Error::Closed(m) if m.contains("32x32")), "{e}");
    assert!(p.shutdown(Shutdown::Drain).is_ok(), "the error was already reported");
}

fn test_frames(n: usize) -> Vec<Vec<u8>> {
    let (w, h) = (160usize, 96usize);
    (0..n)
        .map(|i| {
            let mut f = vec![128u8; w * h * 3 / 2];
            for y in 0..h {
                for x in 0..w {
                    f[y * w + x] = ((x + 2 * i) ^ (y + i)) as u8;
                }
            }
            f
        })
        .collect()
}

#[test]
fn encode_pipeline_gives_what_the_encoder_gives() {
    let cfg = EncoderConfig::new(Codec::H264, 160, 96).engine(ONLY).gop(10);
    let frames = test_frames(30);
    let mut enc = Encoder::open(cfg.clone()).unwrap();
    let mut want = Vec::new();
    for (i, px) in frames.iter().enumerate() {
        let f = Frame::host(
            PixelFormat::Yuv420p,
            160,
            96,
            HostFrame::from_packed(PixelFormat::Yuv420p, 160, 96, px.clone()).unwrap(),
        );
        enc.submit(&f, FrameOptions { pts: Some(i as i64 * 3000), force_keyframe: i == 17 }).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            want.push(p);
        }
    }
    want.extend(enc.flush().unwrap());

    let p = EncodePipeline::open(cfg, PipelineOptions::default().queue_depth(2).timeout(LIMIT)).unwrap();
    let mut got = Vec::new();
    for (i, px) in frames.iter().enumerate() {
        let mut pixels = p.acquire().unwrap();
        assert!(pixels.is_pooled());
        pixels.as_bytes_mut().copy_from_slice(px);
        let f = Frame::host(PixelFormat::Yuv420p, 160, 96, pixels);
        p.submit(f, FrameOptions { pts: Some(i as i64 * 3000), force_keyframe: i == 17 }).unwrap();
        while let Some(packet) = p.try_recv_packet().unwrap() {
            got.push(packet);
        }
    }
    let report = p.shutdown(Shutdown::Drain).unwrap();
    got.extend(report.items);
    assert_eq!(got, want);
    assert!(report.stats.queue.allocations <= report.stats.queue.slots as u64);
    let enc = report.stats.encoder.expect("final encoder stats");
    assert_eq!(enc.frames_in, 30);
    assert!(enc.timings.stage(video_hw::metrics::Stage::Encode).is_some_and(|s| s.count == 30));
}

#[test]
fn transcode_overlaps_and_round_trips() {
    let stream = stream();
    let packets = Arc::new(parking_lot_free::Collected::default());
    let sink = packets.clone();
    let job = Transcode::start(
        decoder_config(),
        EncoderConfig::new(Codec::H264, 2, 2).engine(ONLY).gop(12),
        PipelineOptions::default().queue_depth(4),
        chunks(&stream).into_iter().map(Ok),
        move |p| {
            sink.push(p.data);
            Ok(())
        },
    )
    .unwrap();
    let stats = job.wait().unwrap();
    assert_eq!(stats.frames, STREAM_FRAMES as u64);
    assert!(stats.decode.queue.peak <= 4);
    assert!(stats.encode.backend.contains("openh264"), "{}", stats.encode.backend);
    let out = packets.take();
    // Decoding the result gives the same number of frames at the same size.
    let frames = decode_directly(&out);
    assert_eq!(frames.len(), STREAM_FRAMES);
    assert_eq!(frames[0].1.len(), 320 * 240 * 3 / 2);
}

/// Only an engine that copies host frames to a GPU (NVENC) reports the `upload` stage and
/// `h2d` bytes: host-only engines (OpenH264 here) and the pipelines around them never do.
#[test]
fn host_only_engines_upload_nothing() {
    use video_hw::metrics::Stage;
    let no_upload = |what: &str, t: &video_hw::metrics::Timings| {
        assert_eq!(t.bytes_h2d, 0, "{what}: {t:?}");
        assert_eq!(t.bytes_d2h, 0, "{what}: {t:?}");
        assert!(t.stage(Stage::Upload).is_none(), "{what}: {t:?}");
    };
    // Encode pipeline, in page-locked ring buffers where a driver is present.
    let p = EncodePipeline::open(EncoderConfig::new(Codec::H264, 160, 96).engine(ONLY), PipelineOptions::default())
        .unwrap();
    for (i, px) in test_frames(5).iter().enumerate() {
        let mut pixels = p.acquire().unwrap();
        pixels.as_bytes_mut().copy_from_slice(px);
        p.submit(
            Frame::host(PixelFormat::Yuv420p, 160, 96, pixels),
            FrameOptions { pts: Some(i as i64), force_keyframe: false },
        )
        .unwrap();
    }
    let report = p.shutdown(Shutdown::Drain).unwrap();
    assert_eq!(report.stats.encoder.as_ref().map(|e| e.frames_in), Some(5));
    no_upload("encode pipeline", &report.stats.timings);
    no_upload("encoder", &report.stats.encoder.unwrap().timings);

    // Transcode: both sides.
    let stream = stream();
    let job = Transcode::start(
        decoder_config(),
        EncoderConfig::new(Codec::H264, 2, 2).engine(ONLY),
        PipelineOptions::default().queue_depth(4),
        chunks(&stream).into_iter().map(Ok),
        |_| Ok(()),
    )
    .unwrap();
    let stats = job.wait().unwrap();
    assert_eq!(stats.frames, STREAM_FRAMES as u64);
    no_upload("transcode decoder", &stats.decode.timings);
    no_upload("transcode encoder", &stats.encode.timings);
    assert!(stats.encode.timings.stage(Stage::Encode).is_some_and(|s| s.count == STREAM_FRAMES as u64));
}

#[test]
fn transcode_stops_both_sides_on_an_encoder_error() {
    let stream = stream();
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let job = Transcode::start(
        decoder_config(),
        EncoderConfig::new(Codec::H264, 2, 2).engine(ONLY),
        PipelineOptions::default().queue_depth(2),
        chunks(&stream).into_iter().map(Ok),
        move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) == 3 {
                return Err(Error::Io(std::io::Error::other("disk full")));
            }
            Ok(())
        },
    )
    .unwrap();
    let t = Instant::now();
    let err = job.wait().unwrap_err();
    assert!(t.elapsed() < LIMIT);
    assert!(err.to_string().contains("disk full") && err.to_string().contains("packet sink"), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn submit_without_a_consumer_times_out_instead_of_hanging() {
    let cfg = EncoderConfig::new(Codec::H264, 64, 64).engine(ONLY);
    let p = EncodePipeline::open(
        cfg,
        PipelineOptions::default().queue_depth(1).input_depth(1).timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let mut result = Ok(());
    for _ in 0..100 {
        let frame = match p.acquire() {
            Ok(px) => Frame::host(PixelFormat::Yuv420p, 64, 64, px),
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if let Err(e) = p.submit(frame, FrameOptions::default()) {
            result = Err(e);
            break;
        }
    }
    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    drop(p); // cancels and joins the blocked worker
}

/// A tiny collector shared with a sink closure.
mod parking_lot_free {
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Collected(Mutex<Vec<u8>>);

    impl Collected {
        pub fn push(&self, bytes: Vec<u8>) {
            self.0.lock().unwrap().extend_from_slice(&bytes);
        }
        pub fn take(&self) -> Vec<u8> {
            std::mem::take(&mut self.0.lock().unwrap())
        }
    }
}

#[test]
fn damaged_input_is_reported_not_fatal() {
    let mut holed = stream();
    let at = holed.len() * 3 / 8;
    holed.drain(at..at + 2000);
    let source = chunks(&holed).into_iter().map(Ok);
    let p = DecodePipeline::open_with_source(decoder_config(), PipelineOptions::default(), source).unwrap();
    let frames = p.frames().collect::<Result<Vec<_>, _>>().unwrap().len();
    assert!((36..STREAM_FRAMES).contains(&frames), "{frames}");
    assert!(p.stream_info().is_some_and(|i| i.dimensions.width() == 320));
    let damage = p.take_bitstream_error().expect("damage reported");
    assert!(matches!(damage, Error::InvalidBitstream { .. }), "{damage}");
    assert!(p.take_bitstream_error().is_none());
    let report = p.shutdown(Shutdown::Drain).unwrap();
    assert!(report.stats.bitstream_error.is_some());
    assert!(report.stats.decoder.is_some_and(|d| d.dropped > 0));
}

#[test]
fn a_source_error_still_delivers_the_frames_before_it() {
    let stream = stream();
    let inputs = chunks(&stream);
    let half = inputs.len() / 2;
    let source = inputs
        .into_iter()
        .take(half)
        .map(Ok)
        .chain(std::iter::once(Err(Error::Io(std::io::Error::other("cable unplugged")))));
    let p = DecodePipeline::open_with_source(decoder_config(), PipelineOptions::default(), source).unwrap();
    let mut frames = 0;
    let err = loop {
        match p.recv() {
            Ok(Some(_)) => frames += 1,
            Ok(None) => panic!("the source error was lost"),
            Err(e) => break e,
        }
    };
    assert!(err.to_string().contains("cable unplugged") && err.to_string().contains("reading input"), "{err}");
    // Everything in the first half decoded, the decoder flushed before the error.
    let mut dec = Decoder::open(decoder_config()).unwrap();
    dec.submit(Input::annexb(&stream[..half * 4096], None)).unwrap();
    let mut want = 0;
    while dec.try_reap().unwrap().is_some() {
        want += 1;
    }
    want += dec.flush().unwrap().len();
    assert_eq!(frames, want);
}

#[test]
fn one_thread_submits_and_drains_without_wedging() {
    let cfg = EncoderConfig::new(Codec::H264, 64, 64).engine(ONLY);
    let opts = PipelineOptions::default().queue_depth(1).timeout(LIMIT).follow_size_changes(true);
    let p = EncodePipeline::open(cfg, opts).unwrap();
    let mut packets = Vec::new();
    for i in 0..80 {
        // A size change halfway: the worker reopens the encoder at the new size.
        let side = if i < 40 { 64 } else { 48 };
        let pixels = HostFrame::new_packed(PixelFormat::Yuv420p, side, side);
        let frame = Frame::host(PixelFormat::Yuv420p, side, side, pixels);
        p.submit_and_drain(frame, FrameOptions { pts: Some(i), force_keyframe: false }, |pk| {
            packets.push(pk);
            Ok(())
        })
        .unwrap();
    }
    let report = p.shutdown(Shutdown::Drain).unwrap();
    packets.extend(report.items);
    assert_eq!(packets.len(), 80);
    assert_eq!(packets.iter().map(|p| p.pts).collect::<Vec<_>>(), (0..80).map(Some).collect::<Vec<_>>());
    assert_eq!(packets[40].generation, 1, "the size change starts a new generation");
    assert!(packets[40].keyframe);
}
