//! Counting the library's engine fallbacks for the job summary: a small `metrics`
//! recorder that keeps `video_hw_fallback_total{from,to,reason}` increments (every other
//! metric is dropped). The registry also logs each fallback as one WARN line.

use std::sync::{Arc, Mutex};

use metrics::{Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// One fallback the registry reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The engine that was passed over.
    pub from: String,
    /// The engine used instead.
    pub to: String,
    /// Why (`unavailable`, `open_failed`, …).
    pub reason: String,
}

static SEEN: Mutex<Vec<Fallback>> = Mutex::new(Vec::new());

struct FallbackCounter(Fallback);

impl CounterFn for FallbackCounter {
    fn increment(&self, value: u64) {
        let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..value.min(1000) {
            seen.push(self.0.clone());
        }
    }

    fn absolute(&self, _value: u64) {}
}

/// The recorder that keeps fallbacks (everything else is dropped).
pub struct FallbackRecorder;

impl Recorder for FallbackRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if key.name() != "video_hw_fallback_total" {
            return Counter::noop();
        }
        let label =
            |name: &str| key.labels().find(|l| l.key() == name).map(|l| l.value().to_string()).unwrap_or_default();
        Counter::from_arc(Arc::new(FallbackCounter(Fallback {
            from: label("from"),
            to: label("to"),
            reason: label("reason"),
        })))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// Installs the recorder for the process (once; later calls do nothing).
pub fn install() {
    let _ = metrics::set_global_recorder(FallbackRecorder);
}

/// Every fallback reported so far.
pub fn seen() -> Vec<Fallback> {
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).clone()
}
