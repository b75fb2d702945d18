//! Test support (compiled only for tests): run a closure with a metrics recorder and a
//! WARN-level tracing subscriber on this thread, and read back the counters and log lines
//! — how the fallback tests see the WARN line and `video_hw_fallback_total`.
//!
//! One file serves the unit tests (`crate::test_observe`) and the integration tests
//! (`tests/common/mod.rs` includes it by path): it uses only public APIs.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Counters by name and labels, as `name{k=v,...}` (labels sorted).
#[derive(Default)]
pub struct TestRecorder {
    counters: Mutex<Vec<(String, Arc<AtomicU64>)>>,
}

impl TestRecorder {
    /// Every counter registered so far with its value.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        self.counters.lock().unwrap().iter().map(|(k, c)| (k.clone(), c.load(Ordering::SeqCst))).collect()
    }
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

/// Runs `f` with a [`TestRecorder`] and a WARN-level tracing subscriber installed on this
/// thread; returns its result, the counters and the log lines.
pub fn observe<T>(f: impl FnOnce() -> T) -> (T, Vec<(String, u64)>, Vec<String>) {
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
