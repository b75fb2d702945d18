//! Process-wide time spent in the NVDEC driver calls that bound throughput, so a
//! benchmark can show where a session's time goes (`diagnostics::nvdec_call_times`).
//! Two clock reads per call: noise next to the calls themselves (tens of microseconds).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Calls and nanoseconds of one kind of call.
pub(crate) struct Counter {
    calls: AtomicU64,
    nanos: AtomicU64,
}

impl Counter {
    const fn new() -> Counter {
        Counter { calls: AtomicU64::new(0), nanos: AtomicU64::new(0) }
    }

    /// Runs `f`, adding its duration to this counter.
    pub(crate) fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let r = f();
        self.nanos.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        r
    }

    fn read(&self) -> crate::diagnostics::CallTime {
        crate::diagnostics::CallTime {
            calls: self.calls.load(Ordering::Relaxed),
            total: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
        }
    }
}

/// `cuvidParseVideoData`, callbacks included (the whole feeding call).
pub(crate) static PARSE: Counter = Counter::new();
/// `cuvidDecodePicture` (inside the decode callback).
pub(crate) static DECODE_PICTURE: Counter = Counter::new();
/// `cuvidMapVideoFrame64` (waits for the picture and its post-processing).
pub(crate) static MAP: Counter = Counter::new();
/// Copy of a mapped picture into the output frame, waited for.
pub(crate) static COPY: Counter = Counter::new();

/// The counters now.
pub(crate) fn snapshot() -> crate::diagnostics::NvdecCallTimes {
    crate::diagnostics::NvdecCallTimes {
        parse: PARSE.read(),
        decode_picture: DECODE_PICTURE.read(),
        map: MAP.read(),
        copy: COPY.read(),
    }
}
