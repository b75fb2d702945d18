//! Metrics: what the sessions and pipelines measure, emitted through the [`metrics`]
//! facade and kept in bounded in-process histograms for `stats()`.
//!
//! The library only emits; the application picks a recorder (for example
//! `metrics-exporter-prometheus`, as `video-hw --metrics-addr` does) and installs it
//! *before* opening sessions, whose metric handles are registered when they open.
//! Without a recorder every emission is a no-op and the same figures are still
//! available from [`Decoder::stats`](crate::Decoder::stats),
//! [`Encoder::stats`](crate::Encoder::stats) and the pipelines' `stats()`.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `video_hw_frames_total` | counter | `direction` (decode/encode), `codec`, `backend` |
//! | `video_hw_fps` | gauge (frames over the last second) | `direction`, `codec`, `backend` |
//! | `video_hw_queue_depth` | gauge | `queue`, `direction`, `codec`, `backend` |
//! | `video_hw_stage_seconds` | histogram | `stage`, `direction`, `codec`, `backend` |
//! | `video_hw_bytes_copied_total` | counter | `direction` (h2d/d2h), `codec`, `backend` |
//! | `video_hw_fallback_total` | counter | `from`, `to`, `reason` |
//! | `video_hw_gpu_utilization` | gauge (percent) | `kind` (decoder/encoder/sm), `device` |
//! | `video_hw_gpu_memory_bytes` | gauge (bytes this process's sessions hold, [`crate::gpu_memory`]) | `use`, `device` |
//! | `video_hw_gpu_memory_peak_bytes` | gauge (the most held at once, batches handed out aside) | `device` |
//! | `video_hw_gpu_memory_limit_bytes` | gauge (the budget; absent when unbounded) | `device` |
//!
//! `backend` is the engine that actually runs (`nvdec`, `openh264`, …). Stages are
//! listed by [`Stage`]. GPU utilisation comes from NVML where `libnvidia-ml.so.1` is
//! installed (see [`GpuSampler`]); elsewhere there is no such gauge and no error.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

mod nvml;

use crate::codec::Codec;
use crate::engine::{Direction, Engine};

/// `video_hw_frames_total`.
pub const FRAMES_TOTAL: &str = "video_hw_frames_total";
/// `video_hw_fps`.
pub const FPS: &str = "video_hw_fps";
/// `video_hw_queue_depth`.
pub const QUEUE_DEPTH: &str = "video_hw_queue_depth";
/// `video_hw_stage_seconds`.
pub const STAGE_SECONDS: &str = "video_hw_stage_seconds";
/// `video_hw_bytes_copied_total`.
pub const BYTES_COPIED_TOTAL: &str = "video_hw_bytes_copied_total";
/// `video_hw_fallback_total`.
pub const FALLBACK_TOTAL: &str = "video_hw_fallback_total";
/// `video_hw_gpu_utilization`.
pub const GPU_UTILIZATION: &str = "video_hw_gpu_utilization";
/// `video_hw_gpu_memory_bytes`.
pub const GPU_MEMORY: &str = "video_hw_gpu_memory_bytes";
/// `video_hw_gpu_memory_peak_bytes`.
pub const GPU_MEMORY_PEAK: &str = "video_hw_gpu_memory_peak_bytes";
/// `video_hw_gpu_memory_limit_bytes`.
pub const GPU_MEMORY_LIMIT: &str = "video_hw_gpu_memory_limit_bytes";

/// Registers a description and unit for every metric with the installed recorder
/// (optional; exporters show them as `# HELP` lines).
pub fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(FRAMES_TOTAL, Unit::Count, "Frames decoded (out of decoders) or encoded (into encoders)");
    describe_gauge!(FPS, "Frames per second over the last second");
    describe_gauge!(QUEUE_DEPTH, Unit::Count, "Frames waiting in a pipeline queue");
    describe_histogram!(STAGE_SECONDS, Unit::Seconds, "Time per call of each session stage");
    describe_counter!(BYTES_COPIED_TOTAL, Unit::Bytes, "Bytes copied between host and device memory");
    describe_counter!(FALLBACK_TOTAL, Unit::Count, "Sessions that fell back from the best engine to another");
    describe_gauge!(GPU_UTILIZATION, Unit::Percent, "GPU engine utilisation read from NVML");
    describe_gauge!(GPU_MEMORY, Unit::Bytes, "GPU memory this process's sessions hold, by use");
    describe_gauge!(GPU_MEMORY_PEAK, Unit::Bytes, "The most GPU memory held at once (batches handed out aside)");
    describe_gauge!(GPU_MEMORY_LIMIT, Unit::Bytes, "The GPU memory budget of this process's sessions");
}

/// Sets the `video_hw_gpu_memory_*` gauges of GPU `device` from [`crate::gpu_memory`]'s
/// ledger (what [`GpuSampler`] does every period) and returns the figures.
pub fn gpu_memory(device: u32) -> crate::gpu_memory::GpuMemory {
    let m = crate::gpu_memory::usage(device);
    let label = device.to_string();
    for (use_, bytes) in &m.by_use {
        ::metrics::gauge!(GPU_MEMORY, "use" => use_.name(), "device" => label.clone()).set(*bytes as f64);
    }
    ::metrics::gauge!(GPU_MEMORY_PEAK, "device" => label.clone()).set(m.peak as f64);
    if let Some(limit) = m.limit {
        ::metrics::gauge!(GPU_MEMORY_LIMIT, "device" => label).set(limit as f64);
    }
    m
}

// ---------------------------------------------------------------------------------------
// Stages

/// A timed step of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Handing an access unit to a decoder (`Decoder::submit`, per access unit).
    Decode,
    /// Taking a finished frame or packet out of a session (counted when one came out).
    Reap,
    /// Copying a host frame into a GPU encoder's input (NVENC with host frames); engines
    /// that encode from host memory (OpenH264) have no such stage.
    Upload,
    /// Handing a frame to an encoder (`Encoder::submit`).
    Encode,
    /// Locking or mapping an engine's output (NVDEC map, NVENC bitstream lock).
    Map,
    /// Copying a picture out of device memory to the host.
    Download,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 6] = [Stage::Decode, Stage::Reap, Stage::Upload, Stage::Encode, Stage::Map, Stage::Download];

    /// The `stage` label value.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Reap => "reap",
            Stage::Upload => "upload",
            Stage::Encode => "encode",
            Stage::Map => "map",
            Stage::Download => "download",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which way bytes went between host and device memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyDirection {
    /// Host to device (`h2d`).
    HostToDevice,
    /// Device to host (`d2h`).
    DeviceToHost,
}

impl CopyDirection {
    fn name(self) -> &'static str {
        match self {
            CopyDirection::HostToDevice => "h2d",
            CopyDirection::DeviceToHost => "d2h",
        }
    }
}

// ---------------------------------------------------------------------------------------
// The histogram

/// Sub-buckets per power of two (5 bits: buckets are at most 1/32 ≈ 3% wide).
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// The largest exponent kept apart; longer times (≥ 2^41 ns ≈ 37 min) share the top bucket.
const MAX_EXP: u32 = 40;
const BUCKETS: usize = ((MAX_EXP + 1 - SUB_BITS) as u64 * SUB + SUB) as usize;

/// A latency histogram of bounded size (about 9.5 KiB, whatever the number of samples):
/// log-linear buckets over 1 ns … 37 min, each at most 1/32 of its value wide, so a
/// percentile is within about 3% of the exact one. Min, max, count and sum are exact.
///
/// ```
/// use std::time::Duration;
/// use video_hw::metrics::LatencyHistogram;
/// let mut h = LatencyHistogram::new();
/// for us in 1..=1000 {
///     h.record(Duration::from_micros(us));
/// }
/// let p99 = h.percentile(0.99).as_secs_f64() * 1e6;
/// assert!((p99 - 990.0).abs() < 990.0 * 0.04, "{p99}");
/// assert_eq!(h.count(), 1000);
/// assert_eq!(h.max(), Duration::from_micros(1000));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: Box<[u64]>,
    count: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.count)
            .field("p50", &self.percentile(0.5))
            .field("p99", &self.percentile(0.99))
            .field("max", &self.max())
            .finish()
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < SUB {
        return ns as usize;
    }
    let exp = (63 - ns.leading_zeros()).min(MAX_EXP);
    let ns = ns.min((1u64 << (MAX_EXP + 1)) - 1);
    let sub = (ns >> (exp - SUB_BITS)) - SUB;
    ((exp - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// The lowest value of bucket `i` and its width.
fn bucket_range(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, 1);
    }
    let exp = (i / SUB - 1) as u32 + SUB_BITS;
    let sub = i % SUB;
    let width = 1u64 << (exp - SUB_BITS);
    ((SUB + sub) * width, width)
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    /// Adds one sample.
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        if let Some(c) = self.counts.get_mut(bucket_of(ns)) {
            *c += 1;
        }
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of all samples.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(u64::try_from(self.sum_ns).unwrap_or(u64::MAX))
    }

    /// Mean sample (zero when empty).
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(u64::try_from(self.sum_ns / u128::from(self.count)).unwrap_or(u64::MAX))
    }

    /// Smallest sample (zero when empty).
    pub fn min(&self) -> Duration {
        if self.count == 0 { Duration::ZERO } else { Duration::from_nanos(self.min_ns) }
    }

    /// Largest sample (zero when empty).
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// The sample at quantile `q` (0.5 for the median, 0.99 for p99; clamped to 0..=1),
    /// within about 3%; zero when empty.
    pub fn percentile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank == self.count {
            return self.max();
        }
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                if i == BUCKETS - 1 {
                    // The overflow bucket has no upper bound.
                    return self.max();
                }
                let (low, width) = bucket_range(i);
                let mid = low.saturating_add(width / 2);
                return Duration::from_nanos(mid.clamp(self.min_ns, self.max_ns));
            }
        }
        self.max()
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// The usual summary of this histogram as stage `stage`.
    pub fn summary(&self, stage: Stage) -> StageStats {
        StageStats {
            stage,
            count: self.count,
            total: self.total(),
            mean: self.mean(),
            p50: self.percentile(0.50),
            p95: self.percentile(0.95),
            p99: self.percentile(0.99),
            max: self.max(),
        }
    }
}

/// Time spent in one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageStats {
    /// The stage.
    pub stage: Stage,
    /// Calls timed.
    pub count: u64,
    /// Their total time.
    pub total: Duration,
    /// Mean call.
    pub mean: Duration,
    /// Median call.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest call.
    pub max: Duration,
}

// ---------------------------------------------------------------------------------------
// Per-session telemetry

/// What a session measured so far (part of `DecoderStats` / `EncoderStats`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    /// Per-stage times, for the stages that ran, in [`Stage::ALL`] order.
    pub stages: Vec<StageStats>,
    /// Frames per second from the first call into the session to the last frame.
    pub fps: f64,
    /// Bytes copied from host to device memory: host frames an NVENC session uploaded
    /// (0 for engines that work in host memory, and for CUDA input, which is copied
    /// device to device).
    pub bytes_h2d: u64,
    /// Bytes copied from device to host memory.
    pub bytes_d2h: u64,
}

impl Timings {
    /// The figures of one stage, if it ran.
    pub fn stage(&self, stage: Stage) -> Option<&StageStats> {
        self.stages.iter().find(|s| s.stage == stage)
    }
}

struct Handles {
    frames: ::metrics::Counter,
    fps: ::metrics::Gauge,
    stages: [::metrics::Histogram; 6],
    bytes: [::metrics::Counter; 2],
}

struct State {
    stages: [Option<LatencyHistogram>; 6],
    bytes: [u64; 2],
    frames: u64,
    start: Option<Instant>,
    last: Option<Instant>,
    window_start: Option<Instant>,
    window_frames: u64,
}

/// One session's measurements: emitted as metrics with the session's labels and kept
/// for `stats()`. Shared (`Arc`) so a pipeline can read it while its worker runs.
pub(crate) struct Telemetry {
    direction: Direction,
    codec: Codec,
    backend: Engine,
    handles: Handles,
    state: Mutex<State>,
}

impl Telemetry {
    pub(crate) fn new(direction: Direction, codec: Codec, backend: Engine) -> Arc<Telemetry> {
        let labels = [("direction", direction.name()), ("codec", codec.name()), ("backend", backend.name())];
        let stage = |s: Stage| {
            ::metrics::histogram!(STAGE_SECONDS, "stage" => s.name(), "direction" => direction.name(),
                "codec" => codec.name(), "backend" => backend.name())
        };
        let bytes = |d: CopyDirection| {
            ::metrics::counter!(BYTES_COPIED_TOTAL, "direction" => d.name(), "codec" => codec.name(),
                "backend" => backend.name())
        };
        Arc::new(Telemetry {
            direction,
            codec,
            backend,
            handles: Handles {
                frames: ::metrics::counter!(FRAMES_TOTAL, &labels),
                fps: ::metrics::gauge!(FPS, &labels),
                stages: Stage::ALL.map(stage),
                bytes: [bytes(CopyDirection::HostToDevice), bytes(CopyDirection::DeviceToHost)],
            },
            state: Mutex::new(State {
                stages: Default::default(),
                bytes: [0; 2],
                frames: 0,
                start: None,
                last: None,
                window_start: None,
                window_frames: 0,
            }),
        })
    }

    /// The labels of this session's metrics, for other metrics about it (queue depth).
    pub(crate) fn labels(&self) -> [(&'static str, &'static str); 3] {
        [("direction", self.direction.name()), ("codec", self.codec.name()), ("backend", self.backend.name())]
    }

    /// Notes the first call into the session (the start of its fps figure).
    pub(crate) fn started(&self) {
        let mut s = self.state.lock();
        if s.start.is_none() {
            let now = Instant::now();
            s.start = Some(now);
            s.window_start = Some(now);
        }
    }

    pub(crate) fn stage(&self, stage: Stage, d: Duration) {
        self.handles.stages[stage.index()].record(d.as_secs_f64());
        self.state.lock().stages[stage.index()].get_or_insert_with(LatencyHistogram::new).record(d);
    }

    pub(crate) fn copied(&self, direction: CopyDirection, bytes: u64) {
        let i = direction as usize;
        self.handles.bytes[i].increment(bytes);
        self.state.lock().bytes[i] += bytes;
    }

    /// Counts `n` frames (out of a decoder, into an encoder).
    pub(crate) fn frames(&self, n: u64) {
        if n == 0 {
            return;
        }
        self.handles.frames.increment(n);
        let now = Instant::now();
        let mut s = self.state.lock();
        s.frames += n;
        s.last = Some(now);
        s.window_frames += n;
        let window_start = *s.start.get_or_insert(now);
        let window_start = *s.window_start.get_or_insert(window_start);
        let elapsed = now.duration_since(window_start);
        if elapsed >= Duration::from_secs(1) {
            let fps = s.window_frames as f64 / elapsed.as_secs_f64();
            s.window_frames = 0;
            s.window_start = Some(now);
            drop(s);
            self.handles.fps.set(fps);
        }
    }

    pub(crate) fn timings(&self) -> Timings {
        let s = self.state.lock();
        let stages = Stage::ALL.iter().filter_map(|&st| s.stages[st.index()].as_ref().map(|h| h.summary(st))).collect();
        let fps = match (s.start, s.last) {
            (Some(a), Some(b)) if b > a => s.frames as f64 / b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        Timings { stages, fps, bytes_h2d: s.bytes[0], bytes_d2h: s.bytes[1] }
    }
}

thread_local! {
    /// The session whose engine runs on this thread right now.
    static CURRENT: RefCell<Option<Arc<Telemetry>>> = const { RefCell::new(None) };
}

/// While alive, stage times and copies that engines report on this thread go to a
/// session's telemetry (engines call [`record_stage`] / [`record_copy`] without knowing
/// their session).
pub(crate) struct Scope {
    previous: Option<Arc<Telemetry>>,
}

impl Scope {
    pub(crate) fn enter(t: &Arc<Telemetry>) -> Scope {
        Scope { previous: CURRENT.with(|c| c.borrow_mut().replace(t.clone())) }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Records `d` for `stage` in the session running on this thread, if any.
pub(crate) fn record_stage(stage: Stage, d: Duration) {
    CURRENT.with(|c| {
        if let Some(t) = c.borrow().as_ref() {
            t.stage(stage, d);
        }
    });
}

/// Records `bytes` copied in `direction` by the session running on this thread, if any.
pub(crate) fn record_copy(direction: CopyDirection, bytes: u64) {
    CURRENT.with(|c| {
        if let Some(t) = c.borrow().as_ref() {
            t.copied(direction, bytes);
        }
    });
}

// ---------------------------------------------------------------------------------------
// GPU utilisation

/// Percent utilisation of one GPU, each figure where NVML reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GpuUtilization {
    /// NVDEC engines.
    pub decoder: Option<u32>,
    /// NVENC engines.
    pub encoder: Option<u32>,
    /// Streaming multiprocessors (kernels).
    pub sm: Option<u32>,
}

/// Reads GPU `device`'s utilisation through NVML and sets the
/// `video_hw_gpu_utilization{kind, device}` gauges. `None` (and no gauge) where NVML or
/// the GPU is missing.
///
/// ```
/// // On a machine without an NVIDIA driver this is simply `None`.
/// if let Some(u) = video_hw::metrics::gpu_utilization(0) {
///     println!("NVDEC {:?}% NVENC {:?}% SM {:?}%", u.decoder, u.encoder, u.sm);
/// }
/// ```
pub fn gpu_utilization(device: u32) -> Option<GpuUtilization> {
    let u = nvml::utilization(device)?;
    let device_label = device.to_string();
    for (kind, value) in [("decoder", u.decoder), ("encoder", u.encoder), ("sm", u.sm)] {
        if let Some(v) = value {
            ::metrics::gauge!(GPU_UTILIZATION, "kind" => kind, "device" => device_label.clone()).set(f64::from(v));
        }
    }
    Some(GpuUtilization { decoder: u.decoder, encoder: u.encoder, sm: u.sm })
}

/// A thread that reads [`gpu_utilization`] and [`gpu_memory`] every `period` until dropped (the drop stops
/// and joins it).
///
/// ```
/// use std::time::Duration;
/// // `None` on a machine without NVML: nothing to sample.
/// let sampler = video_hw::metrics::GpuSampler::start(0, Duration::from_secs(1));
/// drop(sampler);
/// ```
pub struct GpuSampler {
    stop: Arc<(Mutex<bool>, parking_lot::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for GpuSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuSampler").finish_non_exhaustive()
    }
}

impl GpuSampler {
    /// Starts sampling GPU `device`; `None` when NVML is not available here (or the
    /// thread could not be started).
    pub fn start(device: u32, period: Duration) -> Option<GpuSampler> {
        gpu_utilization(device)?;
        let period = period.max(Duration::from_millis(10));
        let stop = Arc::new((Mutex::new(false), parking_lot::Condvar::new()));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("video-hw-gpu-sampler".into())
            .spawn(move || {
                let (lock, cv) = &*flag;
                let mut stopped = lock.lock();
                while !*stopped {
                    let _ = cv.wait_for(&mut stopped, period);
                    if !*stopped {
                        gpu_utilization(device);
                        gpu_memory(device);
                    }
                }
            })
            .ok()?;
        Some(GpuSampler { stop, thread: Some(thread) })
    }
}

impl Drop for GpuSampler {
    fn drop(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_cover_their_values() {
        let mut last = 0;
        for ns in (0..100_000u64).chain([1 << 20, (1 << 30) + 12345, 1 << 40, u64::MAX / 2, u64::MAX]) {
            let b = bucket_of(ns);
            assert!(b >= last || ns >= 1 << 20, "{ns}");
            assert!(b < BUCKETS, "{ns} -> {b}");
            last = b;
            if ns < 1 << (MAX_EXP + 1) {
                let (low, width) = bucket_range(b);
                assert!(low <= ns && ns < low + width, "{ns}: bucket {b} = {low}+{width}");
                assert!(width * SUB <= low.max(SUB), "{ns}: width {width} of {low}");
            }
        }
    }

    #[test]
    fn percentiles_within_three_percent() {
        let mut h = LatencyHistogram::new();
        let mut exact = Vec::new();
        let mut x: u64 = 12345;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let ns = 1_000 + (x >> 40) % 50_000_000;
            exact.push(ns);
            h.record(Duration::from_nanos(ns));
        }
        exact.sort_unstable();
        for q in [0.5, 0.95, 0.99] {
            let want = exact[((q * exact.len() as f64).ceil() as usize).clamp(1, exact.len()) - 1] as f64;
            let got = h.percentile(q).as_nanos() as f64;
            assert!((got - want).abs() <= want * 0.03, "q {q}: {got} vs {want}");
        }
        assert_eq!(h.min(), Duration::from_nanos(exact[0]));
        assert_eq!(h.max(), Duration::from_nanos(*exact.last().unwrap()));
        let mut m = LatencyHistogram::new();
        m.merge(&h);
        assert_eq!(m, h);
    }

    #[test]
    fn empty_and_extreme_values() {
        let mut h = LatencyHistogram::new();
        assert_eq!(h.percentile(0.5), Duration::ZERO);
        assert_eq!(h.mean(), Duration::ZERO);
        h.record(Duration::MAX);
        h.record(Duration::ZERO);
        assert_eq!(h.count(), 2);
        assert_eq!(h.percentile(f64::NAN), Duration::ZERO);
        assert_eq!(h.percentile(2.0), h.max());
    }

    #[test]
    fn telemetry_collects_through_the_thread_scope() {
        let t = Telemetry::new(Direction::Decode, Codec::H264, Engine::OpenH264);
        record_stage(Stage::Map, Duration::from_millis(1)); // no scope: dropped
        {
            let _s = Scope::enter(&t);
            record_stage(Stage::Map, Duration::from_millis(2));
            record_copy(CopyDirection::DeviceToHost, 100);
        }
        t.started();
        t.frames(3);
        let timings = t.timings();
        assert_eq!(timings.stage(Stage::Map).map(|s| s.count), Some(1));
        assert_eq!(timings.bytes_d2h, 100);
        assert!(timings.stage(Stage::Decode).is_none());
    }

    #[test]
    fn sampler_is_none_or_stops() {
        let s = GpuSampler::start(0, Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(30));
        drop(s);
    }
}
