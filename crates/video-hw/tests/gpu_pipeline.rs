//! The pipeline on a real GPU: page-locked ring buffers, NVDEC writing host frames
//! straight into them, map/download stage times and bytes copied, NVML utilisation;
//! device-memory rings (`RingMemory::Cuda`) with NVDEC's CUDA output written into their
//! slots. Run with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_pipeline`; without that
//! variable these tests only print a note; with it and no GPU they fail.

mod common;

use std::time::Duration;

use video_hw::frame::HostFrame;
use video_hw::metrics::{GpuSampler, Stage, gpu_utilization};
use video_hw::pipeline::{DecodeInput, DecodePipeline, FrameRing, PipelineOptions, RingConfig, RingMemory, Shutdown};
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Error, Input, Output, PixelFormat};

#[test]
fn ring_buffers_are_page_locked_with_a_driver() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let ring = FrameRing::new(2).unwrap();
    let f = ring.acquire(PixelFormat::Nv12, 1920, 1080, None).unwrap();
    assert!(f.is_pooled() && f.is_pinned(), "{f:?}");
    assert!(ring.stats().pinned);
}

#[test]
fn nvml_reports_utilisation() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let u = gpu_utilization(0).expect("NVML on a GPU machine");
    eprintln!("GPU 0 utilisation: {u:?}");
    assert!(u.sm.is_some() && u.decoder.is_some() && u.encoder.is_some(), "{u:?}");
    let sampler = GpuSampler::start(0, Duration::from_millis(50));
    assert!(sampler.is_some());
    std::thread::sleep(Duration::from_millis(120));
    drop(sampler);
}

#[test]
fn nvdec_pipeline_fills_pinned_slots_and_times_map_and_download() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let stream = std::fs::read(common::fixtures_dir().join("h264/gop12-idr-cars-320x240.h264")).unwrap();
    let cfg = DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::Nvdec)).output(Output::HOST_NV12);

    let mut dec = Decoder::open(cfg.clone()).unwrap();
    let mut want = Vec::new();
    for chunk in stream.chunks(4096) {
        dec.submit(Input::annexb(chunk, None)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            want.push(f.host_data().unwrap().as_bytes().to_vec());
        }
    }
    want.extend(dec.flush().unwrap().into_iter().map(|f| f.host_data().unwrap().as_bytes().to_vec()));
    assert_eq!(want.len(), 48);

    let source: Vec<_> = stream.chunks(4096).map(|c| Ok(DecodeInput::annexb(c, None))).collect();
    let p = DecodePipeline::open_with_source(cfg, PipelineOptions::default().queue_depth(4), source).unwrap();
    let mut got = Vec::new();
    let mut pinned = 0;
    for f in p.frames() {
        let f = f.unwrap();
        let h = f.host_data().unwrap();
        pinned += usize::from(h.is_pooled() && h.is_pinned());
        got.push(h.as_bytes().to_vec());
    }
    assert_eq!(got, want);
    let report = p.shutdown(Shutdown::Drain).unwrap();
    let s = report.stats;
    eprintln!("queue {:?}", s.queue);
    assert!(s.queue.pinned && s.queue.allocations <= s.queue.slots as u64, "{:?}", s.queue);
    assert!(pinned >= 40, "{pinned} of 48 frames in pinned ring slots");
    let t = s.timings;
    for stage in [Stage::Decode, Stage::Map, Stage::Download, Stage::Reap] {
        let st = t.stage(stage).unwrap_or_else(|| panic!("{stage} not timed: {t:?}"));
        eprintln!("{stage}: {st:?}");
    }
    assert_eq!(t.stage(Stage::Download).unwrap().count, 48);
    assert_eq!(t.bytes_d2h, 48 * PixelFormat::Nv12.frame_size(320, 240) as u64);
}

// ---------------------------------------------------------------------------------------
// Device-memory rings

const FIXTURE: &str = "h264/gop12-idr-cars-320x240.h264";
const FIXTURE_FRAMES: usize = 48;

fn nvdec_cuda() -> DecoderConfig {
    DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::Nvdec)).output(Output::CUDA_NV12)
}

/// The fixture decoded by a `Decoder` called directly (CUDA NV12, downloaded): (size, md5)
/// per frame. Checked against the fixture's reference checksums too.
fn direct_md5s() -> Vec<(usize, String)> {
    let stream = std::fs::read(common::fixtures_dir().join(FIXTURE)).unwrap();
    let mut dec = Decoder::open(nvdec_cuda()).unwrap();
    let mut md5s = Vec::new();
    for chunk in stream.chunks(4096) {
        dec.submit(Input::annexb(chunk, None)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            assert!(!f.cuda_data().unwrap().is_pooled(), "a decoder alone lends its own buffers");
            md5s.push(common::frame_md5(&f));
        }
    }
    md5s.extend(dec.flush().unwrap().iter().map(common::frame_md5));
    let reference = common::read_framemd5(&common::fixtures_dir().join(format!("{FIXTURE}.nv12.framemd5")));
    let reference: Vec<_> = reference.into_iter().map(|r| (r.size, r.md5)).collect();
    assert_eq!(md5s, reference, "direct NVDEC CUDA output against the fixture's checksums");
    md5s
}

fn source() -> Vec<video_hw::Result<DecodeInput>> {
    let stream = std::fs::read(common::fixtures_dir().join(FIXTURE)).unwrap();
    stream.chunks(4096).map(|c| Ok(DecodeInput::annexb(c, None))).collect()
}

/// An NV12 picture whose every byte depends on `i`.
fn pattern(i: u64, w: u32, h: u32) -> HostFrame {
    let mut f = HostFrame::new_packed(PixelFormat::Nv12, w, h);
    for (k, b) in f.as_bytes_mut().iter_mut().enumerate() {
        *b = ((k as u64).wrapping_mul(31).wrapping_add(i * 17) % 251) as u8;
    }
    f
}

/// Producer and consumer threads through a device ring on GPU 0: host pictures uploaded
/// into slots, downloaded and compared on the other side; nothing lost, duplicated or
/// reordered; one size change; never more buffers than slots (twice, across the change).
#[test]
fn cuda_ring_stress_round_trips_every_frame_once_in_order() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    const N: u64 = 400;
    let limit = Some(Duration::from_secs(30));
    let ring = FrameRing::with_config(RingConfig::new(3).slots(4).memory(RingMemory::Cuda { device: 0 })).unwrap();
    assert_eq!(ring.memory(), RingMemory::Cuda { device: 0 });
    let size = |i: u64| if i < N / 2 { (320, 240) } else { (640, 360) };
    let producer = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            for i in 0..N {
                let (w, h) = size(i);
                let mut frame = ring.acquire_cuda(PixelFormat::Nv12, w, h, limit).unwrap();
                let c = frame.cuda_data_mut().unwrap();
                assert!(c.is_pooled() && c.device_index() == 0);
                assert!(c.pitch() >= w as usize);
                assert_eq!(c.plane_ptr(1).unwrap() - c.plane_ptr(0).unwrap(), (c.pitch() * h as usize) as u64);
                c.upload(&pattern(i, w, h)).unwrap();
                frame.pts = Some(i as i64);
                ring.push(frame, limit).unwrap();
                if i % 5 == 0 {
                    std::thread::sleep(Duration::from_micros(300));
                }
            }
            ring.close();
        })
    };
    let mut next = 0u64;
    while let Some(frame) = ring.pop(limit).unwrap() {
        assert_eq!(frame.pts, Some(next as i64), "lost, duplicated or reordered");
        let (w, h) = size(next);
        assert_eq!((frame.width, frame.height), (w, h));
        let c = frame.cuda_data().expect("a CUDA frame");
        assert!(c.is_pooled());
        assert_eq!(c.download().unwrap().as_bytes(), pattern(next, w, h).as_bytes(), "frame {next}");
        if next.is_multiple_of(7) {
            std::thread::sleep(Duration::from_micros(500));
        }
        next += 1;
    }
    producer.join().unwrap();
    assert_eq!(next, N);
    let s = ring.stats();
    eprintln!("device ring: {s:?}");
    assert_eq!((s.pushed, s.popped, s.in_use, s.depth), (N, N, 0, 0));
    assert_eq!((s.device, s.pinned), (Some(0), false));
    assert!(s.allocations <= 2 * s.slots as u64, "{s:?}");
    assert!(s.peak <= 3, "{s:?}");
}

/// A decode pipeline with NVDEC CUDA output puts every frame in a slot of its
/// device-memory ring, bit-identical to the decoder called directly, moving nothing
/// across PCIe on the worker.
#[test]
fn cuda_ring_nvdec_pipeline_is_bit_identical_to_the_decoder() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let want = direct_md5s();
    assert_eq!(want.len(), FIXTURE_FRAMES);
    let p =
        DecodePipeline::open_with_source(nvdec_cuda(), PipelineOptions::default().queue_depth(4), source()).unwrap();
    assert_eq!(p.ring().memory(), RingMemory::Cuda { device: 0 }, "Auto picks device memory for CUDA output");
    let mut got = Vec::new();
    let mut pooled = 0;
    for f in p.frames() {
        let f = f.unwrap();
        let c = f.cuda_data().expect("a CUDA frame");
        pooled += usize::from(c.is_pooled());
        got.push(common::frame_md5(&f));
    }
    assert_eq!(got, want);
    let s = p.shutdown(Shutdown::Drain).unwrap().stats;
    eprintln!("queue {:?}", s.queue);
    assert_eq!(pooled, FIXTURE_FRAMES, "every frame in a ring slot");
    assert_eq!(s.queue.device, Some(0));
    assert!(s.queue.allocations <= s.queue.slots as u64, "{:?}", s.queue);
    assert_eq!(s.queue.in_use, 0);
    let t = &s.timings;
    assert!(t.stage(Stage::Decode).is_some() && t.stage(Stage::Map).is_some(), "{t:?}");
    assert!(t.stage(Stage::Download).is_none() && t.stage(Stage::Upload).is_none(), "{t:?}");
    assert_eq!((t.bytes_h2d, t.bytes_d2h), (0, 0), "{t:?}");
}

/// A consumer that keeps every frame it receives can hold at most the ring's slots: then
/// the worker waits (device memory stops growing), and once the frames are dropped the
/// rest of the stream comes, still bit-identical.
#[test]
fn cuda_ring_bounds_device_memory_while_the_consumer_holds_frames() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let want = direct_md5s();
    let p =
        DecodePipeline::open_with_source(nvdec_cuda(), PipelineOptions::default().queue_depth(2), source()).unwrap();
    let slots = p.ring().slots();
    let mut held = Vec::new();
    loop {
        match p.recv_timeout(Duration::from_secs(3)) {
            Ok(Some(f)) => held.push(f),
            Err(Error::Timeout(_)) => break,
            other => panic!("{other:?} after {} frames", held.len()),
        }
        assert!(held.len() <= slots, "the consumer holds {} frames, more than the {slots} slots", held.len());
    }
    assert_eq!(held.len(), slots, "every slot held, then the worker waits");
    assert_eq!(p.ring().stats().in_use, slots);
    let (free_then, total) = video_hw::diagnostics::gpu_memory(0).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (free_now, _) = video_hw::diagnostics::gpu_memory(0).unwrap();
    eprintln!("GPU 0: {} MiB free of {} MiB, then {} MiB", free_then >> 20, total >> 20, free_now >> 20);
    assert!(free_then.saturating_sub(free_now) < 16 << 20, "device memory grew while the worker waited");
    let mut got: Vec<_> = held.iter().map(common::frame_md5).collect();
    drop(held);
    for f in p.frames() {
        got.push(common::frame_md5(&f.unwrap()));
    }
    assert_eq!(got, want);
    let s = p.shutdown(Shutdown::Drain).unwrap().stats;
    eprintln!("queue {:?}", s.queue);
    assert!(s.queue.allocations <= slots as u64, "{:?}", s.queue);
    assert!(s.queue.adopted >= 1, "the frame made while every slot was held was copied into one: {:?}", s.queue);
}

/// `Transcode::builder` on the GPU: NVDEC's device frames go through the transform (on
/// the decoder's thread) and the device ring to NVENC, untouched by the host; the packets
/// copied beside them reach the output in order; the output decodes to every frame.
#[test]
fn transcode_builder_keeps_device_frames_from_nvdec_to_nvenc() {
    use std::sync::{Arc, Mutex};
    use video_hw::media::MediaPacket;
    use video_hw::pipeline::{Transcode, TranscodeOutput};
    use video_hw::{EncoderConfig, FrameData, Packet};

    let Some(_turn) = common::gpu_test() else {
        return;
    };
    // A GPU without an encoder (the H100 and H200): an NVENC transcode must refuse by
    // name; the device-frame path itself is checked where NVENC exists.
    let nvenc = video_hw::registry::probe(Engine::Nvenc, Codec::H264, video_hw::Direction::Encode, 0);
    if !nvenc.available {
        let job =
            Transcode::builder(EncoderConfig::new(Codec::H264, 16, 16).engine(EnginePreference::Only(Engine::Nvenc)))
                .start(nvdec_cuda(), source(), video_hw::pipeline::PacketFn::new(|_| Ok(())));
        let refused = match job {
            Err(e) => e,
            Ok(job) => job.wait().expect_err("NVENC is absent, yet the transcode ran"),
        };
        assert!(refused.to_string().contains("nvenc"), "{refused}");
        eprintln!("no NVENC here ({}): the device frames to NVENC are not exercised", nvenc.reason);
        return;
    }
    #[derive(Default)]
    struct Out {
        started: Option<(u32, u32, PixelFormat)>,
        stream: Vec<u8>,
        copied: Vec<Option<i64>>,
        finished: bool,
    }
    struct Shared(Arc<Mutex<Out>>);
    impl TranscodeOutput for Shared {
        fn start(&mut self, c: &EncoderConfig) -> video_hw::Result<()> {
            self.0.lock().unwrap().started = Some((c.width, c.height, c.input_format));
            Ok(())
        }
        fn packet(&mut self, p: Packet) -> video_hw::Result<()> {
            self.0.lock().unwrap().stream.extend_from_slice(&p.data);
            Ok(())
        }
        fn copied(&mut self, p: MediaPacket) -> video_hw::Result<()> {
            self.0.lock().unwrap().copied.push(p.pts);
            Ok(())
        }
        fn finish(&mut self) -> video_hw::Result<()> {
            self.0.lock().unwrap().finished = true;
            Ok(())
        }
    }
    let out = Arc::new(Mutex::new(Out::default()));
    let host_frames = Arc::new(Mutex::new(0u32));
    let seen = host_frames.clone();
    let mut builder =
        Transcode::builder(EncoderConfig::new(Codec::H264, 16, 16).engine(EnginePreference::Only(Engine::Nvenc)))
            .transform(move |frame| {
                if matches!(frame.data, FrameData::Host(_)) {
                    *seen.lock().unwrap() += 1;
                }
                Ok(Some(frame))
            });
    let copies = builder.copy_sender(None);
    let mut inputs = source().into_iter().enumerate();
    let fed = std::iter::from_fn(move || {
        let (i, input) = inputs.next()?;
        copies.send(MediaPacket::new(1, vec![0; 4], Some(i as i64), None, true)).unwrap();
        Some(input)
    });
    let sent = source().len();
    let job = builder.start(nvdec_cuda(), fed, Shared(out.clone())).unwrap();
    let stats = job.wait().unwrap();
    assert_eq!(stats.frames, FIXTURE_FRAMES as u64);
    assert_eq!(*host_frames.lock().unwrap(), 0, "NVDEC's frames stay on the device");
    assert_eq!(stats.decode.queue.device, Some(0), "a device ring: {:?}", stats.decode.queue);
    let out = out.lock().unwrap();
    assert_eq!(out.started.map(|s| (s.0, s.1)), Some((320, 240)));
    assert!(out.finished);
    assert_eq!(out.copied, (0..sent as i64).map(Some).collect::<Vec<_>>());
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P)).unwrap();
    let mut frames = 0;
    dec.submit(Input::annexb(&out.stream, None)).unwrap();
    while dec.try_reap().unwrap().is_some() {
        frames += 1;
    }
    frames += dec.flush().unwrap().len();
    assert_eq!(frames, FIXTURE_FRAMES);
}
