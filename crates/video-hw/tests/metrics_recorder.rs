//! What reaches an installed `metrics` recorder: names and labels (every session metric
//! carries the engine as `backend`). Its own test binary, so the global recorder it
//! installs is not shared with other tests.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use video_hw::pipeline::{DecodeInput, DecodePipeline, PipelineOptions, Transcode};
use video_hw::{Codec, DecoderConfig, EncoderConfig, Engine, EnginePreference, Output};

#[derive(Default)]
struct Cell {
    counter: AtomicU64,
    gauge: AtomicU64,
    samples: Mutex<Vec<f64>>,
}

impl CounterFn for Cell {
    fn increment(&self, v: u64) {
        self.counter.fetch_add(v, Ordering::SeqCst);
    }
    fn absolute(&self, v: u64) {
        self.counter.store(v, Ordering::SeqCst);
    }
}

impl GaugeFn for Cell {
    fn increment(&self, v: f64) {
        self.set(f64::from_bits(self.gauge.load(Ordering::SeqCst)) + v);
    }
    fn decrement(&self, v: f64) {
        self.set(f64::from_bits(self.gauge.load(Ordering::SeqCst)) - v);
    }
    fn set(&self, v: f64) {
        self.gauge.store(v.to_bits(), Ordering::SeqCst);
    }
}

impl HistogramFn for Cell {
    fn record(&self, v: f64) {
        self.samples.lock().unwrap().push(v);
    }
}

/// Keeps every metric by its rendered key: `name{a=x,b=y}` with labels sorted.
#[derive(Default, Clone)]
struct Capture(Arc<Mutex<BTreeMap<String, Arc<Cell>>>>);

impl Capture {
    fn cell(&self, key: &Key) -> Arc<Cell> {
        let mut labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().unwrap().entry(name).or_default().clone()
    }

    fn find(&self, name: &str, labels: &[&str]) -> Option<Arc<Cell>> {
        let map = self.0.lock().unwrap();
        map.iter()
            .find(|(k, _)| k.starts_with(&format!("{name}{{")) && labels.iter().all(|l| k.contains(l)))
            .map(|(_, c)| c.clone())
    }
}

impl Recorder for Capture {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.cell(key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.cell(key))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.cell(key))
    }
}

#[test]
fn sessions_and_pipelines_emit_labelled_metrics() {
    let capture = Capture::default();
    metrics::set_global_recorder(capture.clone()).expect("first recorder");
    video_hw::metrics::describe();

    let stream = std::fs::read(common::fixtures_dir().join("h264/gop12-idr-cars-320x240.h264")).unwrap();
    let only = EnginePreference::Only(Engine::OpenH264);
    let dec = DecoderConfig::new(Codec::H264).engine(only).output(Output::HOST_YUV420P);
    let source = || stream.chunks(4096).map(|c| Ok(DecodeInput::annexb(c, None))).collect::<Vec<_>>();
    let p = DecodePipeline::open_with_source(dec.clone(), PipelineOptions::default(), source()).unwrap();
    assert_eq!(p.frames().count(), 48);
    drop(p);

    let job = Transcode::start(
        dec,
        EncoderConfig::new(Codec::H264, 2, 2).engine(only),
        PipelineOptions::default(),
        source(),
        |_| Ok(()),
    )
    .unwrap();
    job.wait().unwrap();

    let decoded = capture
        .find("video_hw_frames_total", &["backend=openh264", "codec=h264", "direction=decode"])
        .expect("decode frame counter");
    assert_eq!(decoded.counter.load(Ordering::SeqCst), 96);
    let encoded =
        capture.find("video_hw_frames_total", &["backend=openh264", "direction=encode"]).expect("encode frame counter");
    assert_eq!(encoded.counter.load(Ordering::SeqCst), 48);
    let stage = capture
        .find("video_hw_stage_seconds", &["stage=decode", "backend=openh264", "direction=decode"])
        .expect("decode stage histogram");
    assert!(stage.samples.lock().unwrap().iter().all(|&s| (0.0..10.0).contains(&s)));
    assert!(capture.find("video_hw_stage_seconds", &["stage=encode", "backend=openh264"]).is_some());
    assert!(capture.find("video_hw_queue_depth", &["queue=decode_out", "backend=openh264"]).is_some());
    assert!(capture.find("video_hw_queue_depth", &["queue=encode_in", "direction=encode"]).is_some());
    assert!(capture.find("video_hw_fps", &["direction=decode", "backend=openh264"]).is_some());
}
