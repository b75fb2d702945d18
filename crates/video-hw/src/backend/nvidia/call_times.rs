//! Process-wide time spent in the NVIDIA driver calls that bound throughput, start-up and tear-down,
//! so a benchmark can show where a session's time goes (`diagnostics::nvdec_call_times`,
//! `diagnostics::nvdec_setup_times`). Two clock reads per call: noise next to the calls
//! themselves (tens of microseconds and more). The calling thread's CPU time is read too
//! only while CPU timing is on ([`set_cpu_timing`]): those are system calls, and the
//! benchmark that wants the split asks for it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Whether [`Counter::time`] also reads the thread's CPU clock.
static CPU_TIMING: AtomicBool = AtomicBool::new(false);

/// Turns the CPU side of the call timing on or off (`diagnostics::set_nvdec_cpu_timing`).
pub(crate) fn set_cpu_timing(on: bool) {
    CPU_TIMING.store(on, Ordering::Relaxed);
}

/// The calling thread's CPU time when CPU timing is on.
fn cpu_now() -> Option<Duration> {
    if CPU_TIMING.load(Ordering::Relaxed) { crate::backend::nvidia::call_time_records::thread_cpu_time() } else { None }
}

/// Runs `f`: its result, how long it took and, while CPU timing is on, the CPU time the
/// calling thread spent in it.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let cpu0 = cpu_now();
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    (r, took, cpu0.zip(cpu_now()).map(|(a, b)| b.saturating_sub(a)))
}

/// Calls, nanoseconds and CPU nanoseconds (while CPU timing is on) of one kind of call.
pub(crate) struct Counter {
    calls: AtomicU64,
    nanos: AtomicU64,
    cpu_nanos: AtomicU64,
    longest_nanos: AtomicU64,
    long_calls: AtomicU64,
    long_nanos: AtomicU64,
}

impl Counter {
    const fn new() -> Counter {
        Counter {
            calls: AtomicU64::new(0),
            nanos: AtomicU64::new(0),
            cpu_nanos: AtomicU64::new(0),
            longest_nanos: AtomicU64::new(0),
            long_calls: AtomicU64::new(0),
            long_nanos: AtomicU64::new(0),
        }
    }

    /// Runs `f`, adding its duration (and, while CPU timing is on, the CPU time the
    /// calling thread spent in it) to this counter.
    pub(crate) fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let (r, took, cpu) = timed(f);
        self.add(took);
        if let Some(cpu) = cpu {
            self.cpu_nanos.fetch_add(cpu.as_nanos() as u64, Ordering::Relaxed);
        }
        r
    }

    /// Counts one call that took `took` (timed by the caller: only calls that succeeded).
    pub(crate) fn add(&self, took: Duration) {
        let nanos = took.as_nanos() as u64;
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.longest_nanos.fetch_max(nanos, Ordering::Relaxed);
        if took > crate::backend::nvidia::call_time_records::CallTime::LONG {
            self.long_calls.fetch_add(1, Ordering::Relaxed);
            self.long_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
    }

    fn read(&self) -> crate::backend::nvidia::call_time_records::CallTime {
        crate::backend::nvidia::call_time_records::CallTime {
            calls: self.calls.load(Ordering::Relaxed),
            total: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
            cpu: Duration::from_nanos(self.cpu_nanos.load(Ordering::Relaxed)),
            longest: Duration::from_nanos(self.longest_nanos.load(Ordering::Relaxed)),
            long_calls: self.long_calls.load(Ordering::Relaxed),
            long_total: Duration::from_nanos(self.long_nanos.load(Ordering::Relaxed)),
        }
    }
}

/// A one-time step of the process (loading a driver library, `cuInit`): how long it took
/// and, while CPU timing was on, the CPU time the calling thread spent in it.
pub(crate) struct Once(OnceLock<(Duration, Option<Duration>)>);

impl Once {
    pub(crate) const fn new() -> Once {
        Once(OnceLock::new())
    }

    /// Runs `f`, recording its duration unless one was recorded already.
    pub(crate) fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let (r, took, cpu) = timed(f);
        let _ = self.0.set((took, cpu));
        r
    }

    pub(crate) fn read(&self) -> Option<Duration> {
        self.0.get().map(|t| t.0)
    }

    pub(crate) fn read_cpu(&self) -> Option<Duration> {
        self.0.get().and_then(|t| t.1)
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
/// Of [`COPY`], the pictures lent in the decoder's output surface instead of copied.
pub(crate) static LENT: Counter = Counter::new();
/// Of [`COPY`], the host frames whose copies were queued without waiting.
pub(crate) static HOST_ASYNC: Counter = Counter::new();
/// Of [`HOST_ASYNC`], the frames copied through a staging buffer into new memory (from
/// the start of the copy to the frame filled).
pub(crate) static HOST_STAGED: Counter = Counter::new();
/// The copy-out's wait for its copies (part of [`COPY`]).
pub(crate) static COPY_WAIT: Counter = Counter::new();
/// Waiting for a host frame's copies that had not finished when the session needed them
/// (the frame handed out, its output surface needed for the next picture, the session closing).
pub(crate) static HOST_WAIT: Counter = Counter::new();
/// `cuvidUnmapVideoFrame64`.
pub(crate) static UNMAP: Counter = Counter::new();
/// `cuvidGetDecodeStatus` (after each map: was the picture concealed?).
pub(crate) static DECODE_STATUS: Counter = Counter::new();

/// `cuInit`.
pub(crate) static CUDA_INIT: Once = Once::new();
/// Retaining a primary context or creating a context of a session's own.
pub(crate) static CONTEXT: Counter = Counter::new();
/// `cuvidGetDecoderCaps` queries (one per GPU, codec and bit depth; answers are cached).
pub(crate) static DECODER_CAPS: Counter = Counter::new();
/// A session's CUDA stream and event for the copy-out.
pub(crate) static SESSION_SETUP: Counter = Counter::new();
/// `cuvidCreateVideoParser`.
pub(crate) static CREATE_PARSER: Counter = Counter::new();
/// `cuvidCreateDecoder`.
pub(crate) static CREATE_DECODER: Counter = Counter::new();
/// A parked decoder taken for a new session (and reconfigured when the size differs);
/// counted only when it was reused.
pub(crate) static REUSE_DECODER: Counter = Counter::new();
/// Waits at the creation barrier before a session's first picture (counted only when
/// the session waited).
pub(crate) static CREATION_BARRIER: Counter = Counter::new();
/// Waits at the creation barrier that its time limit ended.
pub(crate) static CREATION_BARRIER_TIMEOUTS: AtomicU64 = AtomicU64::new(0);
/// `cuMemAllocPitch` (output frames the pool did not have).
pub(crate) static ALLOC: Counter = Counter::new();
/// `cuvidDestroyVideoParser` (at a flush and when a session closes).
pub(crate) static DESTROY_PARSER: Counter = Counter::new();
/// `cuvidDestroyDecoder`.
pub(crate) static DESTROY_DECODER: Counter = Counter::new();
/// Dropping a session, as the dropping thread waits for it (parser destroyed, the rest
/// handed to the closer thread).
pub(crate) static CLOSE: Counter = Counter::new();

/// The throughput counters now.
pub(crate) fn snapshot() -> crate::backend::nvidia::call_time_records::NvdecCallTimes {
    crate::backend::nvidia::call_time_records::NvdecCallTimes {
        parse: PARSE.read(),
        decode_picture: DECODE_PICTURE.read(),
        map: MAP.read(),
        copy: COPY.read(),
        lent: LENT.read(),
        host_async: HOST_ASYNC.read(),
        host_staged: HOST_STAGED.read(),
        copy_wait: COPY_WAIT.read(),
        host_wait: HOST_WAIT.read(),
        unmap: UNMAP.read(),
        decode_status: DECODE_STATUS.read(),
    }
}

/// The set-up and tear-down counters now.
pub(crate) fn setup() -> crate::backend::nvidia::call_time_records::NvdecSetupTimes {
    crate::backend::nvidia::call_time_records::NvdecSetupTimes {
        cuda_load: super::loader::CudaApi::load_time(),
        cuda_init: CUDA_INIT.read(),
        cuda_init_cpu: CUDA_INIT.read_cpu(),
        cuvid_load: super::loader::CuvidApi::load_time(),
        context: CONTEXT.read(),
        decoder_caps: DECODER_CAPS.read(),
        session_setup: SESSION_SETUP.read(),
        create_parser: CREATE_PARSER.read(),
        create_decoder: CREATE_DECODER.read(),
        reuse_decoder: REUSE_DECODER.read(),
        creation_barrier: CREATION_BARRIER.read(),
        creation_barrier_timeouts: CREATION_BARRIER_TIMEOUTS.load(Ordering::Relaxed),
        alloc: ALLOC.read(),
        destroy_parser: DESTROY_PARSER.read(),
        destroy_decoder: DESTROY_DECODER.read(),
        close: CLOSE.read(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_keeps_its_longest_call_and_the_calls_over_the_long_mark() {
        let c = Counter::new();
        let long = crate::backend::nvidia::call_time_records::CallTime::LONG;
        c.add(Duration::from_micros(30));
        c.add(long * 3);
        c.add(long);
        c.add(Duration::from_micros(50));
        let t = c.read();
        assert_eq!(t.calls, 4);
        assert_eq!(t.longest, long * 3);
        assert_eq!((t.long_calls, t.long_total), (1, long * 3), "only calls over the mark count as long");
    }
}
