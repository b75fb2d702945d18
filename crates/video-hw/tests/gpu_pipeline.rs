//! The pipeline on a real GPU: page-locked ring buffers, NVDEC writing host frames
//! straight into them, map/download stage times and bytes copied, NVML utilisation. Run
//! with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_pipeline`; without that variable
//! these tests only print a note; with it and no GPU they fail.

mod common;

use std::time::Duration;

use video_hw::metrics::{GpuSampler, Stage, gpu_utilization};
use video_hw::pipeline::{DecodeInput, DecodePipeline, FrameRing, PipelineOptions, Shutdown};
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Input, Output, PixelFormat};

fn gpu_wanted() -> bool {
    let on = std::env::var("VIDEO_HW_TEST_GPU").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("note: VIDEO_HW_TEST_GPU=1 not set; GPU pipeline test skipped");
    }
    on
}

#[test]
fn ring_buffers_are_page_locked_with_a_driver() {
    if !gpu_wanted() {
        return;
    }
    let ring = FrameRing::new(2).unwrap();
    let f = ring.acquire(PixelFormat::Nv12, 1920, 1080, None).unwrap();
    assert!(f.is_pooled() && f.is_pinned(), "{f:?}");
    assert!(ring.stats().pinned);
}

#[test]
fn nvml_reports_utilisation() {
    if !gpu_wanted() {
        return;
    }
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
    if !gpu_wanted() {
        return;
    }
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
