//! The NVDEC decode engine: registry glue (probe, open) over [`session`].

pub(crate) mod background_close;
mod decoder_creation;
pub(crate) mod decoder_reuse;
mod host_copy;
mod hw;
pub(crate) mod output;
mod parser_state;
mod session;
pub(crate) mod staging;
mod zero_copy_frames;

use std::sync::atomic::Ordering;

use super::cuda::CudaDriver;
use super::gpu_caps::{decode_caps_of, kernel_driver_version};
use crate::backend::DecoderBackend;
use crate::codec::Codec;
use crate::config::DecoderConfig;
use crate::engine::Direction;
use crate::error::{Error, Result};
use crate::records::probe_info::ProbeInfo;

/// NVDEC decoder objects alive in this process (those parked for reuse included).
pub(crate) fn live_decoders() -> usize {
    hw::LIVE_DECODERS.load(Ordering::SeqCst)
}

/// NVDEC sessions open in this process, per GPU ordinal (GPUs past the table are not
/// counted: 64 is more than any machine has).
static SESSIONS_PER_GPU: [std::sync::atomic::AtomicUsize; 64] = [const { std::sync::atomic::AtomicUsize::new(0) }; 64];

/// NVDEC sessions open in this process on GPU `device`.
pub(crate) fn sessions_on(device: u32) -> usize {
    SESSIONS_PER_GPU.get(device as usize).map_or(0, |n| n.load(Ordering::Relaxed))
}

/// Counts a session of GPU `gpu` closed.
fn session_closed(gpu: u32) {
    if let Some(n) = SESSIONS_PER_GPU.get(gpu as usize) {
        n.fetch_sub(1, Ordering::Relaxed);
    }
}

/// NVDEC engines of GPU `device` that decode 8-bit `codec`; 0 when the GPU, its driver or
/// NVDEC cannot be reached (the answer is cached per GPU and codec).
pub(crate) fn engines_on(device: u32, codec: Codec) -> u8 {
    let Ok(driver) = CudaDriver::get() else { return 0 };
    driver.device(device).and_then(|d| decode_caps_of(d, codec, 8)).map_or(0, |c| c.num_engines)
}

/// Sessions placed on each GPU by [`claim_least_busy_gpu`] whose open has not finished
/// yet (their [`GpuClaim`] is alive): counted with the open sessions, so that sessions
/// opened at once on several threads spread as if opened one after another.
static CLAIMED_PER_GPU: [std::sync::atomic::AtomicUsize; 64] = [const { std::sync::atomic::AtomicUsize::new(0) }; 64];

std::thread_local! {
    /// The GPU this thread placed a session on whose open has not counted it there yet.
    static PENDING_CLAIM: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// A session placed on a GPU and not yet counted there by its open; drop it once the open
/// returned. The open, on the same thread, takes the claim over when it counts the session
/// ([`session_counted`]), so no moment counts the session twice; a failed open leaves it
/// to the drop.
pub(crate) struct GpuClaim {
    gpu: u32,
    /// Bound to the thread whose open it is for (the hand-over is thread-local).
    _thread: std::marker::PhantomData<*const ()>,
}

/// Releases this thread's pending claim on `gpu`, if it holds one: from `GpuClaim`'s drop,
/// or when the session's open counts itself.
fn release_claim(gpu: u32) {
    let held = PENDING_CLAIM.with(|c| c.get() == Some(gpu) && c.take().is_some());
    if let Some(n) = CLAIMED_PER_GPU.get(gpu as usize).filter(|_| held) {
        n.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a session opened on `gpu` (and tells `decoder_reuse` how many are open at once); the
/// place this thread claimed there (if any) is now the session's.
fn session_counted(gpu: u32) {
    if let Some(n) = SESSIONS_PER_GPU.get(gpu as usize) {
        let open = n.fetch_add(1, Ordering::SeqCst) + 1;
        decoder_reuse::note_open_sessions(gpu, open);
    }
    release_claim(gpu);
}

impl GpuClaim {
    /// The GPU the session goes to.
    pub(crate) fn gpu(&self) -> u32 {
        self.gpu
    }
}

impl Drop for GpuClaim {
    fn drop(&mut self) {
        release_claim(self.gpu);
    }
}

/// The GPUs whose NVDEC decodes 8-bit `codec`, with their NVDEC engines (empty without a
/// usable driver).
fn gpus_and_engines(codec: Codec) -> Vec<(u32, u8)> {
    let Ok(driver) = CudaDriver::get() else { return Vec::new() };
    let count = driver.device_count().unwrap_or(0);
    let ask = |i: u32| {
        let caps = driver.device(i).and_then(|d| decode_caps_of(d, codec, 8)).ok()?;
        caps.supported.then_some((i, caps.num_engines))
    };
    if count < 2 {
        return (0..count).filter_map(ask).collect();
    }
    // Every GPU at once: the first question to a GPU makes its context (~0.1-0.5 s), and
    // the GPUs' contexts are independent.
    std::thread::scope(|s| {
        let asked: Vec<_> = (0..count).map(|i| s.spawn(move || ask(i))).collect();
        asked.into_iter().filter_map(|h| h.join().ok().flatten()).collect()
    })
}

/// The GPUs whose NVDEC decodes 8-bit `codec` (empty without a usable driver).
pub(crate) fn gpus_decoding(codec: Codec) -> Vec<u32> {
    gpus_and_engines(codec).into_iter().map(|(gpu, _)| gpu).collect()
}

/// Places a session on the GPU whose NVDEC decodes `codec` with the fewest sessions of this
/// process (open, or placed and still opening) per NVDEC engine, and claims a place there;
/// `None` without a usable GPU. Choice and claim happen under one lock: threads opening
/// together (a batch of streams) would otherwise all see the same counts and pick the same
/// GPU — measured on two H200s before this: 7 sessions opened at once all went to GPU 0,
/// 14 split 10/4.
pub(crate) fn claim_least_busy_gpu(codec: Codec) -> Option<GpuClaim> {
    static PLACING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // The process's first placement asks every GPU's NVDEC for its capabilities (making
    // every GPU's context, at once) under the lock; later ones read cached answers.
    let _placing = PLACING.lock().unwrap_or_else(|p| p.into_inner());
    let load = |i: u32| sessions_on(i) + CLAIMED_PER_GPU.get(i as usize).map_or(0, |n| n.load(Ordering::SeqCst));
    let candidates: Vec<GpuLoad> = gpus_and_engines(codec)
        .into_iter()
        .map(|(gpu, engines)| GpuLoad { gpu, sessions: load(gpu), engines })
        .collect();
    claim_on(least_busy(&candidates)?)
}

/// Claims a place for this thread's next session on `gpu` (`None` past the table's GPUs).
fn claim_on(gpu: u32) -> Option<GpuClaim> {
    CLAIMED_PER_GPU.get(gpu as usize)?.fetch_add(1, Ordering::SeqCst);
    // A claim left pending by an earlier open of this thread cannot exist (each is released
    // by its drop before `Decoder::open` returns), so this replaces nothing.
    PENDING_CLAIM.with(|c| c.set(Some(gpu)));
    Some(GpuClaim { gpu, _thread: std::marker::PhantomData })
}

/// A GPU a session may go to: its sessions now and its NVDEC engines.
#[derive(Clone, Copy, Debug)]
struct GpuLoad {
    gpu: u32,
    sessions: usize,
    engines: u8,
}

/// The GPU that is least loaded once it takes one more session: fewest sessions per NVDEC
/// engine, (sessions + 1) / engines, the lowest index on a tie. GPUs alike thus take
/// sessions in turn; a GPU with 7 engines takes 7 of every 11 beside one with 4.
fn least_busy(candidates: &[GpuLoad]) -> Option<u32> {
    let after = |c: &GpuLoad| (c.sessions as u64 + 1, u64::from(c.engines.max(1)));
    candidates
        .iter()
        .min_by(|a, b| {
            let ((na, ea), (nb, eb)) = (after(a), after(b));
            // na/ea against nb/eb without division.
            (na * eb).cmp(&(nb * ea)).then(a.gpu.cmp(&b.gpu))
        })
        .map(|c| c.gpu)
}

/// Page-locked host frames of sessions opened from now on (see `diagnostics::set_nvdec_host_slots`).
pub(crate) fn set_host_slots(slots: Option<usize>) {
    host_copy::set_slots(slots);
}

/// Time spent in NVDEC driver calls so far (see `diagnostics::nvdec_call_times`).
pub(crate) fn call_times() -> crate::backend::nvidia::call_time_records::NvdecCallTimes {
    super::call_times::snapshot()
}

/// Whether GPU `device` can decode `codec` (8-bit 4:2:0), with what it learnt.
pub(crate) fn probe(codec: Codec, direction: Direction, device: u32) -> Result<ProbeInfo> {
    if direction != Direction::Decode {
        return Err(Error::unsupported("nvdec", "nvdec only decodes"));
    }
    let driver = CudaDriver::get()?;
    let count = driver.device_count()?;
    if device >= count {
        return Err(Error::unsupported("nvdec", format!("no GPU {device} (this machine has {count})")));
    }
    let gpu = driver.device(device)?;
    let label = format!("GPU {device}: {}", gpu.name()?);
    // Only what opening needs is asked (each query costs ~8 ms of a cold open); every
    // codec and bit depth: `video-hw probe --gpus`.
    let c8 = decode_caps_of(gpu, codec, 8).map_err(|e| match e {
        Error::Unsupported { why, .. } => Error::unsupported("nvdec", format!("{label}: {why}")),
        other => other,
    })?;
    if !c8.supported {
        let why = format!("{label}: NVDEC has no {codec} decode");
        // Every process on this machine and driver would learn the same, each starting CUDA
        // to ask (device="auto" reads it before asking).
        crate::backend::nvidia::refusals::remember(codec, &why);
        return Err(Error::unsupported("nvdec", why));
    }
    let notes = vec![format!(
        "{} NVDEC engine(s); 8-bit up to {}x{} (10-bit and other codecs: `video-hw probe --gpus`)",
        c8.num_engines, c8.max_width, c8.max_height
    )];
    let driver_version = driver.version()?;
    let driver = match kernel_driver_version() {
        Some(k) => format!("{k} (CUDA {driver_version})"),
        None => format!("CUDA {driver_version}"),
    };
    Ok(ProbeInfo { device: Some(label), driver: Some(driver), notes })
}

/// Opens an NVDEC session for `config`.
pub(crate) fn open(config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
    Ok(Box::new(session::NvdecDecoder::open(config)?))
}

#[cfg(test)]
mod tests {
    use super::{GpuLoad, least_busy};

    fn gpus(loads: &[(u32, usize, u8)]) -> Vec<GpuLoad> {
        loads.iter().map(|&(gpu, sessions, engines)| GpuLoad { gpu, sessions, engines }).collect()
    }

    /// Places `n` sessions one after another on the winner; the sessions each GPU got.
    fn place(mut loads: Vec<GpuLoad>, n: usize) -> Vec<usize> {
        for _ in 0..n {
            let g = least_busy(&loads).unwrap();
            loads.iter_mut().find(|l| l.gpu == g).unwrap().sessions += 1;
        }
        loads.iter().map(|l| l.sessions).collect()
    }

    #[test]
    fn the_least_busy_gpu_wins_and_ties_go_to_the_lowest_index() {
        assert_eq!(least_busy(&[]), None);
        assert_eq!(least_busy(&gpus(&[(0, 3, 7), (1, 1, 7), (2, 2, 7)])), Some(1));
        assert_eq!(least_busy(&gpus(&[(2, 0, 7), (0, 0, 7), (1, 4, 7)])), Some(0));
        // GPUs alike take sessions in turn: 7 spread 3/2/2 over 3.
        assert_eq!(place(gpus(&[(0, 0, 7), (1, 0, 7), (2, 0, 7)]), 7), [3, 2, 2]);
    }

    #[test]
    fn a_claim_is_released_once_by_the_open_that_counts_its_session_or_by_its_drop() {
        use super::{CLAIMED_PER_GPU, claim_on, session_counted};
        use std::sync::atomic::Ordering;
        // GPU 63 of the table: no other test places sessions there.
        let claimed = || CLAIMED_PER_GPU[63].load(Ordering::SeqCst);
        let claim = |gpu| claim_on(gpu).expect("GPU 63 is in the table");
        let placed = claim(63);
        session_counted(62);
        assert_eq!(claimed(), 1, "a session counted on another GPU takes nothing over");
        session_counted(63);
        assert_eq!(claimed(), 0, "the open took the claim over");
        drop(placed);
        assert_eq!(claimed(), 0, "nor does the drop release it a second time");
        drop(claim(63));
        assert_eq!(claimed(), 0, "a failed open's claim goes with its drop");
    }

    #[test]
    fn gpus_with_more_engines_take_more_sessions() {
        // 7 engines beside 4: 11 sessions split 7/4, 22 split 14/8.
        assert_eq!(place(gpus(&[(0, 0, 4), (1, 0, 7)]), 11), [4, 7]);
        assert_eq!(place(gpus(&[(0, 0, 4), (1, 0, 7)]), 22), [8, 14]);
        // A GPU reporting no engine counts as one, never as a division by zero.
        assert_eq!(place(gpus(&[(0, 0, 0), (1, 0, 1)]), 4), [2, 2]);
    }
}
