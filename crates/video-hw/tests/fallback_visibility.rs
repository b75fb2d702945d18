//! Fallback visibility: an `Auto` decoder on a machine where NVDEC cannot run falls back
//! to OpenH264 with exactly one WARN line (tracing) and one increment of
//! `video_hw_fallback_total{from="nvdec",to="openh264",reason="unavailable"}` (metrics).
//! Where NVDEC is available (a GPU machine) it is picked and no fallback is reported.
//! An explicit engine never reports a fallback.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use video_hw::registry::probe_all;
use video_hw::{Codec, Decoder, DecoderConfig, Direction, Engine, EnginePreference};

/// Counters by name and labels, as `name{k=v,...}`.
#[derive(Default)]
struct TestRecorder {
    counters: Mutex<Vec<(String, Arc<AtomicU64>)>>,
}

struct Count(Arc<AtomicU64>);
impl CounterFn for Count {
    fn increment(&self, v: u64) {
        self.0.fetch_add(v, Ordering::SeqCst);
    }
    fn absolute(&self, v: u64) {
        self.0.store(v, Ordering::SeqCst);
    }
}

fn key_text(key: &Key) -> String {
    let mut labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let text = key_text(key);
        let mut counters = self.counters.lock().unwrap();
        let cell = match counters.iter().find(|(k, _)| *k == text) {
            Some((_, c)) => c.clone(),
            None => {
                let c = Arc::new(AtomicU64::new(0));
                counters.push((text, c.clone()));
                c
            }
        };
        Counter::from_arc(Arc::new(Count(cell)))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

impl TestRecorder {
    fn snapshot(&self) -> Vec<(String, u64)> {
        self.counters.lock().unwrap().iter().map(|(k, c)| (k.clone(), c.load(Ordering::SeqCst))).collect()
    }
}

/// A `Write` into a shared buffer, for the tracing subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with a test metrics recorder and a WARN-level tracing subscriber installed
/// on this thread; returns its result, the counters and the log lines.
fn observe<T>(f: impl FnOnce() -> T) -> (T, Vec<(String, u64)>, Vec<String>) {
    let recorder = TestRecorder::default();
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let out = metrics::with_local_recorder(&recorder, || tracing::subscriber::with_default(subscriber, f));
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    (out, recorder.snapshot(), text.lines().map(str::to_string).collect())
}

fn nvdec_available(codec: Codec) -> bool {
    probe_all(0)
        .iter()
        .any(|r| r.engine == Engine::Nvdec && r.codec == codec && r.direction == Direction::Decode && r.available)
}

#[test]
fn auto_decoder_fallback_is_logged_once_and_counted() {
    let gpu = nvdec_available(Codec::H264);
    let (engine, counters, lines) =
        observe(|| Decoder::open(DecoderConfig::new(Codec::H264)).expect("an H.264 decoder opens").engine());
    let fallbacks: Vec<_> = counters.iter().filter(|(k, _)| k.starts_with("video_hw_fallback_total")).collect();
    let warns: Vec<_> = lines.iter().filter(|l| l.contains("WARN")).collect();
    if gpu {
        assert_eq!(engine, Engine::Nvdec, "NVDEC is available, so Auto picks it");
        assert!(fallbacks.iter().all(|(_, n)| *n == 0), "no fallback expected: {fallbacks:?}");
        assert!(warns.is_empty(), "no WARN expected: {warns:?}");
        return;
    }
    // The software engine: FFmpeg's when it is compiled in, else OpenH264.
    let sw = if cfg!(feature = "ffmpeg") { Engine::Ffmpeg } else { Engine::OpenH264 };
    assert_eq!(engine, sw);
    assert_eq!(
        fallbacks,
        vec![&(format!("video_hw_fallback_total{{from=nvdec,reason=unavailable,to={sw}}}"), 1)],
        "counters: {counters:?}"
    );
    assert_eq!(warns.len(), 1, "one WARN line: {lines:?}");
    assert!(warns[0].contains(&format!("falling back from nvdec to {sw}")), "{}", warns[0]);
}

#[test]
fn explicit_engine_reports_no_fallback() {
    let cfg = DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::OpenH264));
    let (engine, counters, lines) = observe(|| Decoder::open(cfg).expect("openh264 opens").engine());
    assert_eq!(engine, Engine::OpenH264);
    assert!(counters.iter().all(|(k, n)| !k.starts_with("video_hw_fallback_total") || *n == 0), "{counters:?}");
    assert!(lines.iter().all(|l| !l.contains("WARN")), "{lines:?}");
}

#[test]
fn require_hardware_without_gpu_fails_without_fallback() {
    if nvdec_available(Codec::H264) {
        return;
    }
    let cfg = DecoderConfig::new(Codec::H264).require_hardware(true);
    let (result, counters, lines) = observe(|| Decoder::open(cfg).map(|d| d.engine()));
    let e = result.expect_err("no hardware engine here");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(counters.iter().all(|(_, n)| *n == 0), "{counters:?}");
    assert!(lines.iter().all(|l| !l.contains("WARN")), "{lines:?}");
}
