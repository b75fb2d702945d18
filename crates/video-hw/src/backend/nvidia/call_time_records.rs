//! What NVDEC driver calls cost this process: plain records the NVIDIA backend fills
//! (`call_times.rs`) and [`crate::diagnostics`] hands out (re-exported there), and the
//! thread CPU clock both read. They are the NVIDIA engine's own, so they live in its
//! folder; the diagnostics module, above the backends, names them here.

use std::time::Duration;

/// Calls of one kind and the time spent in them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTime {
    /// Number of calls.
    pub calls: u64,
    /// Time spent in them, summed over threads.
    pub total: Duration,
    /// CPU time the calling threads spent in them, counted only while
    /// [`set_nvdec_cpu_timing`](crate::diagnostics::set_nvdec_cpu_timing) is on (zero
    /// otherwise). For a call with callbacks (`cuvidParseVideoData`) the callbacks' calls
    /// are inside it.
    pub cpu: Duration,
    /// The longest single call since the process started (a high-water mark: not made
    /// smaller by subtracting an earlier reading).
    pub longest: Duration,
    /// Calls that took longer than [`CallTime::LONG`]: a call stalled behind another
    /// thread's driver work (a decoder creation) shows up here.
    pub long_calls: u64,
    /// Time spent in those long calls.
    pub long_total: Duration,
}

impl CallTime {
    /// What counts as a long call for [`long_calls`](Self::long_calls): far above any
    /// NVDEC call's usual tens of microseconds, below a decoder creation's tens of ms.
    pub const LONG: Duration = Duration::from_millis(5);

    /// Mean time per call (zero when there were none).
    pub fn mean(&self) -> Duration {
        if self.calls == 0 { Duration::ZERO } else { self.total / self.calls as u32 }
    }
}

/// Time this process spent in the NVDEC driver calls that bound decode throughput,
/// summed over sessions since the process started (subtract two readings for a span).
///
/// ```
/// let t = video_hw::diagnostics::nvdec_call_times();
/// println!("cuvidDecodePicture: {} calls, mean {:?}", t.decode_picture.calls, t.decode_picture.mean());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NvdecCallTimes {
    /// `cuvidParseVideoData`, the parser's callbacks included.
    pub parse: CallTime,
    /// `cuvidDecodePicture` (handing one picture to the engine).
    pub decode_picture: CallTime,
    /// `cuvidMapVideoFrame` (waiting for a decoded picture and its post-processing).
    pub map: CallTime,
    /// Handing a mapped picture out, waited for: copied into the output frame, or (see
    /// [`lent`](Self::lent)) a CUDA frame that is the decoder's output surface itself.
    pub copy: CallTime,
    /// Of [`copy`](Self::copy), the CUDA NV12/P010 frames handed out in the decoder's own
    /// output surface, without a copy (unmapped when the caller drops the frame; a
    /// caller holding several frames gets copies beyond the decoder's spare surfaces).
    pub lent: CallTime,
    /// Of [`copy`](Self::copy), the host YUV frames whose copies were queued without
    /// waiting (into page-locked memory; the session decodes on while they run, and hands
    /// each frame out once its copy finished).
    pub host_async: CallTime,
    /// Of [`host_async`](Self::host_async), the frames that went through a page-locked
    /// staging buffer into new memory, the session's own page-locked frames being all held
    /// by the caller (time from the copy's start to the frame filled).
    pub host_staged: CallTime,
    /// Of [`copy`](Self::copy), the wait for the copies to finish (a nap, then polling).
    pub copy_wait: CallTime,
    /// The wait for a host frame's copies queued without waiting (see
    /// [`host_async`](Self::host_async)) that had not finished when the session needed
    /// them: the frame due to be handed out, its output surface needed for the next
    /// picture, or the session closing.
    pub host_wait: CallTime,
    /// `cuvidUnmapVideoFrame64` (handing the picture's surface back after the copy).
    pub unmap: CallTime,
    /// `cuvidGetDecodeStatus` (asked after each map whether NVDEC concealed errors).
    pub decode_status: CallTime,
}

/// What opening and closing NVDEC sessions cost this process: the one-time steps of the
/// first open (loading the driver libraries, `cuInit`), the calls every open and close
/// makes, summed since the process started. `None` / zero for what has not happened yet.
///
/// A cold open is mostly the CUDA driver's own start-up (`cuInit` and the context); a
/// later session on the same GPU pays only the parser, the decoder and its stream.
///
/// ```
/// let t = video_hw::diagnostics::nvdec_setup_times();
/// if let Some(init) = t.cuda_init {
///     println!("cuInit {init:?}, context {:?}, decoder {:?}", t.context.total, t.create_decoder.total);
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NvdecSetupTimes {
    /// Opening `libcuda.so.1` and resolving its entry points (once per process).
    pub cuda_load: Option<Duration>,
    /// `cuInit` (once per process).
    pub cuda_init: Option<Duration>,
    /// CPU time of `cuInit`, when
    /// [`set_nvdec_cpu_timing`](crate::diagnostics::set_nvdec_cpu_timing) was on before it ran.
    pub cuda_init_cpu: Option<Duration>,
    /// Opening `libnvcuvid.so.1` and resolving its entry points (once per process).
    pub cuvid_load: Option<Duration>,
    /// Retaining a GPU's primary context (once per GPU), or creating a session's own.
    pub context: CallTime,
    /// Asking NVDEC what it decodes (`cuvidGetDecoderCaps`, once per GPU, codec and bit depth).
    pub decoder_caps: CallTime,
    /// A session's CUDA stream and event for copying frames out.
    pub session_setup: CallTime,
    /// `cuvidCreateVideoParser`.
    pub create_parser: CallTime,
    /// `cuvidCreateDecoder` (at a session's first sequence, and when the stream's format changes).
    pub create_decoder: CallTime,
    /// Decoder objects of closed sessions reused instead of created (parked for a few
    /// seconds after a clean close; reconfigured when the new stream's size differs).
    pub reuse_decoder: CallTime,
    /// Streams that waited at the creation barrier before their first picture (a session's
    /// first stream, and each stream after a flush), and the time they waited: sessions
    /// opened together wait for each other's decoder creations (see
    /// [`Decoder::open`](crate::Decoder::open)).
    pub creation_barrier: CallTime,
    /// Of those waits, the ones the barrier's time limit (2 s) ended rather than the
    /// creations: 0 unless a creation hung or failed slowly.
    pub creation_barrier_timeouts: u64,
    /// `cuMemAllocPitch` for output frames the pool did not have.
    pub alloc: CallTime,
    /// `cuvidDestroyVideoParser` (at every flush and close).
    pub destroy_parser: CallTime,
    /// `cuvidDestroyDecoder` (on the closer thread, off the caller's path).
    pub destroy_decoder: CallTime,
    /// Dropping sessions, as the dropping thread waits for it: the parser destroyed, the
    /// rest handed to the closer thread (see
    /// [`wait_for_nvdec_closes`](crate::diagnostics::wait_for_nvdec_closes)).
    pub close: CallTime,
}

/// CPU time (user + system) the calling thread has used so far, in nanosecond units;
/// `None` where the platform has no thread CPU clock (not Unix).
///
/// ```
/// if let Some(before) = video_hw::diagnostics::thread_cpu_time() {
///     let _v: u64 = (0..1_000_000u64).sum();
///     assert!(video_hw::diagnostics::thread_cpu_time().unwrap() >= before);
/// }
/// ```
pub fn thread_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        // SAFETY: timespec is plain integers (and, on some targets, private padding), for
        // which all-zero bytes are a valid value.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is a clock id
        // every supported Unix (Linux, macOS) knows; the call writes only `ts`.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        (r == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }
    #[cfg(not(unix))]
    {
        None
    }
}
