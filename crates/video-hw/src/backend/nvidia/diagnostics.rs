//! The NVIDIA engines' process-wide figures and switches, public through
//! [`crate::diagnostics`]: live NVDEC sessions, pending closes and parked decoder objects,
//! call times, host slots, GPU memory and the GPUs' NVDEC limits.

use std::time::Duration;

use crate::backend::nvidia::call_time_records::{NvdecCallTimes, NvdecSetupTimes};
use crate::error::Result;

/// NVDEC decoder objects alive in this process: those of open sessions, of dropped
/// sessions not yet destroyed, and those kept for reuse (see [`wait_for_nvdec_closes`]).
pub fn nvdec_sessions() -> usize {
    super::nvdec::live_decoders()
}

/// Waits until every NVDEC session already dropped is destroyed (or its decoder object
/// parked for reuse), at most `timeout`; whether it got there.
///
/// Dropping a [`Decoder`](crate::Decoder) on NVDEC returns at once: its decoder object,
/// stream and frames are destroyed on a closer thread (`cuvidDestroyDecoder` takes 25-230
/// ms). A session that ended cleanly (flushed, no error) instead leaves its decoder object
/// parked for a few seconds, at most one per NVDEC engine of the GPU and at least 4
/// (`VIDEO_HW_NVDEC_KEEP=N` changes it, 0 turns it off), and the next session of the same
/// codec and bit depth, no larger, takes it instead of creating one (~40 ms saved per
/// open). Before a leak check ([`nvdec_sessions`], [`gpu_memory`]) call this and
/// [`release_parked_nvdec_decoders`]. A process exiting waits for pending destroys by
/// itself (at most 10 s, from a C `atexit` handler), so the driver is not torn down under
/// one.
///
/// ```
/// // ... decoders dropped ...
/// assert!(video_hw::diagnostics::wait_for_nvdec_closes(std::time::Duration::from_secs(5)));
/// video_hw::diagnostics::release_parked_nvdec_decoders();
/// // now nvdec_sessions() counts only open sessions
/// ```
pub fn wait_for_nvdec_closes(timeout: Duration) -> bool {
    super::nvdec::background_close::wait_idle(timeout)
}

/// Destroys the NVDEC decoder objects kept for reuse (see [`wait_for_nvdec_closes`]) on
/// this thread; how many there were. Frees their device memory at once (~100 MiB each at
/// 1080p); otherwise each goes after 5 s unused.
pub fn release_parked_nvdec_decoders() -> usize {
    super::nvdec::decoder_reuse::release_all()
}

/// Sets how many page-locked host frames each NVDEC session opened from now on keeps for
/// host YUV output (`None`, the default: 64 MiB's worth, 4 to 64 frames, or
/// `VIDEO_HW_NVDEC_HOST_SLOTS=N`). A session queues each frame's copy and decodes on,
/// handing the frame out once the copy is done: into one of these slots (the frame is
/// that memory), or, while the caller holds them all, into a staging buffer from which
/// the frame is filled. `Some(0)` turns that off: every frame is copied while the
/// session waits (for measuring what it brings, and for tests).
///
/// ```
/// video_hw::diagnostics::set_nvdec_host_slots(Some(0));
/// video_hw::diagnostics::set_nvdec_host_slots(None);
/// ```
pub fn set_nvdec_host_slots(slots: Option<usize>) {
    super::nvdec::set_host_slots(slots);
}

/// The NVDEC call times of this process so far (all zero before any NVDEC session).
pub fn nvdec_call_times() -> NvdecCallTimes {
    super::nvdec::call_times()
}

/// Also counts the CPU time spent in the NVDEC calls ([`CallTime::cpu`](crate::diagnostics::CallTime::cpu), and
/// [`NvdecSetupTimes::cuda_init_cpu`]) from now on, or stops. Off by default: it reads the
/// thread's CPU clock around every timed call, two system calls (~1 µs) per call.
/// Benchmarks turn it on to split a session's CPU time between NVIDIA's parser, the
/// decode and map calls and the copy-out; the clock reads of the calls made inside the
/// parse call's callbacks then count in the parse call's CPU (a few µs per frame).
///
/// ```
/// video_hw::diagnostics::set_nvdec_cpu_timing(true);
/// // ... decode ...
/// let t = video_hw::diagnostics::nvdec_call_times();
/// // The parse call runs the callbacks, which make the other calls (and, at a stream's
/// // first sequence, create the decoder: `nvdec_setup_times().create_decoder.cpu`).
/// let callbacks = t.decode_picture.cpu + t.map.cpu + t.copy.cpu + t.unmap.cpu + t.decode_status.cpu;
/// let parser_only = t.parse.cpu.saturating_sub(callbacks);
/// println!("NVIDIA's parser: {parser_only:?} of CPU");
/// ```
pub fn set_nvdec_cpu_timing(on: bool) {
    super::call_times::set_cpu_timing(on);
}

/// The NVDEC set-up and tear-down times of this process so far (see [`NvdecSetupTimes`]).
pub fn nvdec_setup_times() -> NvdecSetupTimes {
    super::call_times::setup()
}

/// NVDEC sessions this process has open on GPU `device` (what
/// [`DecoderConfig::spread_over_gpus`](crate::DecoderConfig::spread_over_gpus) balances).
pub fn nvdec_sessions_on(device: u32) -> usize {
    super::nvdec::sessions_on(device)
}

/// Free and total memory of GPU `device`, in bytes (needs the NVIDIA driver).
pub fn gpu_memory(device: u32) -> Result<(u64, u64)> {
    let driver = super::cuda::CudaDriver::get()?;
    let ctx = driver.device(device)?.primary_context()?;
    let m = ctx.mem_info()?;
    Ok((m.free, m.total))
}

/// What NVDEC can do for one codec and bit depth on one GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvdecCodecCaps {
    /// The codec.
    pub codec: crate::Codec,
    /// 8 or 10.
    pub bit_depth: u8,
    /// Whether the hardware decodes it (4:2:0).
    pub supported: bool,
    /// NVDEC engines that can.
    pub engines: u8,
    /// Smallest coded size.
    pub min_size: (u32, u32),
    /// Largest coded size.
    pub max_size: (u32, u32),
}

/// One NVIDIA GPU as `video-hw probe --gpus` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuSummary {
    /// CUDA device index.
    pub index: u32,
    /// Marketing name.
    pub name: String,
    /// Device memory in bytes.
    pub memory: u64,
    /// Compute capability (major, minor).
    pub compute_capability: (u32, u32),
    /// Kernel driver release, where readable, and the CUDA version the driver implements.
    pub driver: String,
    /// NVDEC engines (the most any codec reports).
    pub nvdec_engines: u8,
    /// Per-codec NVDEC limits (empty with the reason in `nvdec_error` when NVDEC is unusable).
    pub nvdec: Vec<NvdecCodecCaps>,
    /// Why NVDEC cannot be used on this GPU, if it cannot.
    pub nvdec_error: Option<String>,
}

/// Every NVIDIA GPU with its NVDEC limits; `Unsupported` without the driver.
pub fn gpus() -> Result<Vec<GpuSummary>> {
    let gpus = super::gpu_caps::probe_gpus()?;
    Ok(gpus
        .into_iter()
        .map(|g| {
            let driver = match &g.kernel_driver {
                Some(k) => format!("{k} (CUDA {})", g.driver_version),
                None => format!("CUDA {}", g.driver_version),
            };
            let (nvdec, nvdec_error) = match g.decode {
                Ok(caps) => (
                    caps.iter()
                        .map(|c| NvdecCodecCaps {
                            codec: c.codec,
                            bit_depth: c.bit_depth,
                            supported: c.supported,
                            engines: c.num_engines,
                            min_size: (u32::from(c.min_width), u32::from(c.min_height)),
                            max_size: (c.max_width, c.max_height),
                        })
                        .collect::<Vec<_>>(),
                    None,
                ),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            GpuSummary {
                index: g.index,
                name: g.name,
                memory: g.total_memory,
                compute_capability: g.compute_capability,
                driver,
                nvdec_engines: nvdec.iter().map(|c| c.engines).max().unwrap_or(0),
                nvdec,
                nvdec_error,
            }
        })
        .collect())
}
