//! `device="auto"`: which processor, the CPU or the GPU, decodes one job faster, from what
//! each would cost.
//!
//! Why: a GPU decoder is fast once running, but short or sparse jobs are decided by fixed
//! costs (measured on an H100: `cuInit` 95-220 ms, the primary context 100-180 ms,
//! `cuvidCreateDecoder` 40-75 ms, a parked decoder reused in µs), and a stream the GPU's
//! engine does not decode at all (AV1 on an H100 or H200) is faster on the CPU than
//! decoded there and uploaded. A user should not have to guess.
//!
//! The model is engine-neutral: it speaks of a [`Processor`], and the facts of each side
//! ([`CpuSide`], [`GpuSide`]) come from the registry (`registry::gpu_side`). A job's
//! estimate on each side is
//!
//! - fixed costs: on the GPU starting CUDA where it is not started in the process, the
//!   primary context where this process has not used the GPU yet, a decoder session where
//!   the job has none open; on the CPU opening a session (a few ms);
//! - decoding: the packets the job must decode (the frame index's GOP layout: every packet
//!   from each random access point to the last frame asked of it) times the pixels of a
//!   picture, at a rate per codec and processor, spread over the GPU's engines (one run per
//!   engine at a time) or the CPU's worker threads;
//! - the output: colour conversion to RGB on the CPU, and the copy to where the frames
//!   must land (GPU frames to host memory, host frames to the GPU).
//!
//! The per-pixel rates start from measured priors ([`Rates::PRIOR`]) and are refined from
//! what finished jobs in this process took ([`CostModel::observe`]): the model's "measured
//! costs" are literal after the first jobs.

use std::sync::{Mutex, OnceLock};

use crate::codec::Codec;

/// Where a job is decoded (and, for [`Job::output`], where its frames must land).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Processor {
    /// A software engine, frames in host memory.
    Cpu,
    /// The GPU's decode engine, frames in device memory.
    Gpu,
}

impl Processor {
    /// `"cpu"` or `"cuda"`, as Python's `device` names them.
    pub fn name(self) -> &'static str {
        match self {
            Processor::Cpu => "cpu",
            Processor::Gpu => "cuda",
        }
    }

    fn slot(self) -> usize {
        match self {
            Processor::Cpu => 0,
            Processor::Gpu => 1,
        }
    }
}

/// One job: the frames of one call on one stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The stream's codec.
    pub codec: Codec,
    /// Coded picture size.
    pub width: u32,
    /// Coded picture size.
    pub height: u32,
    /// Packets decoded (from the frame index's plan of the frames asked).
    pub packets: u64,
    /// Independent runs (GOPs decoded from their random access points): the parallelism
    /// across sessions the job offers.
    pub runs: u64,
    /// Frames handed back.
    pub frames: u64,
    /// Where the frames must land.
    pub output: Processor,
    /// Bytes per pixel of a frame handed back (3 for RGB, 1.5 for NV12 and YUV 4:2:0).
    pub bytes_per_pixel: f64,
    /// Frames are converted to RGB (a cost per frame on the CPU; the GPU's is in its rate).
    pub rgb: bool,
}

impl Job {
    fn pixels(&self) -> f64 {
        f64::from(self.width.max(1)) * f64::from(self.height.max(1))
    }
}

/// What the CPU side can do for a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuSide {
    /// A software engine decodes the codec here.
    pub decodes: bool,
    /// Worker threads the decode may use (sessions × threads each).
    pub threads: u32,
    /// Sessions among those threads: independent runs decode on that many at once, and
    /// each run on its session's share of the threads (FFmpeg's frame threads work on
    /// consecutive pictures of one run; an OpenH264 session decodes on one thread).
    pub sessions: u32,
}

impl CpuSide {
    /// Threads this side keeps busy on `job`: its runs on as many sessions at once, each on
    /// its session's share of the threads, which a run of few packets cannot all use (frame
    /// threads work on consecutive pictures). One run on OpenH264 (one thread a session) is
    /// one thread however many sessions there are: counting the machine's threads for it
    /// put one 4K frame at a few ms of a 16-core CPU. Also what a finished CPU job's rate is
    /// observed over.
    pub fn parallel(&self, job: &Job) -> u32 {
        let threads = self.threads.max(1);
        let sessions = self.sessions.clamp(1, threads);
        let per_session = threads / sessions;
        let runs = job.runs.max(1);
        let packets_a_run = job.packets.max(1).div_ceil(runs);
        let at_once = u64::from(sessions).min(runs);
        u32::try_from(at_once * u64::from(per_session).min(packets_a_run)).unwrap_or(u32::MAX).max(1)
    }
}

/// What the GPU side can do for a job. Asking whether its engine decodes the stream starts
/// CUDA, so [`GpuSide::decodes`] is `None` until someone asked; [`choose`] then says
/// whether asking is worth it ([`Choice::needs_probe`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GpuSide {
    /// A GPU decode engine and its driver are in this process's reach (the cheap probe:
    /// the driver library loads; nothing is started).
    pub present: bool,
    /// Whether the engine decodes this stream (`None`: not asked yet).
    pub decodes: Option<bool>,
    /// Why it cannot, when it cannot (or why the GPU is not present).
    pub why_not: Option<String>,
    /// CUDA is initialised in this process (by this library or another: torch).
    pub cuda_started: bool,
    /// The job has a decoder session open already (a decoder reused from call to call).
    pub session_open: bool,
    /// Decode engines on the GPU (runs decode on that many at once).
    pub engines: u32,
    /// Bytes free on the GPU now, where known.
    pub free_memory: Option<u64>,
}

/// The model's estimates of one job, in seconds (`None`: that side cannot run it).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Estimate {
    /// On the CPU.
    pub cpu_s: Option<f64>,
    /// On the GPU.
    pub gpu_s: Option<f64>,
}

/// What [`choose`] decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The processor that decodes.
    pub processor: Processor,
    /// Why, in words (for `stats()`).
    pub why: String,
    /// Both estimates.
    pub estimate: Estimate,
    /// The GPU wins only if its engine decodes the stream, which nobody asked yet: ask
    /// (`registry::gpu_side` with the probe) and choose again.
    pub needs_probe: bool,
}

/// Per-pixel decode rates (pixels per second) of each processor and codec: on the CPU per
/// worker thread, on the GPU per decode engine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// `[processor][codec]`: processor 0 the CPU, 1 the GPU; codecs H.264, HEVC, AV1, VP9,
    /// then every other codec.
    pub pixels_per_s: [[f64; CODECS]; 2],
}

/// Codecs the rates tell apart.
pub const CODECS: usize = 5;

fn codec_slot(codec: Codec) -> usize {
    match codec {
        Codec::H264 => 0,
        Codec::Hevc => 1,
        Codec::Av1 => 2,
        Codec::Vp9 => 3,
        _ => 4,
    }
}

impl Rates {
    /// The priors. CPU, per thread: FFmpeg 5.1 on the 2-core development VM decoded
    /// 1080p HEVC at 226 fps and H.264 at 246 fps over 2 threads (bench/results/
    /// cpu-decode-20261125-8dfc369.md: ~235 and ~255 Mpixel/s a thread); AV1 (rav1d) and
    /// VP9 about half of that. GPU, per NVDEC engine: ~1,800 fps for one 1080p HEVC
    /// session alone and ~8,470 fps over an H100/H200's 7 engines (~2.5 Gpixel/s each
    /// when all run); H.264 a little slower.
    pub const PRIOR: Rates =
        Rates { pixels_per_s: [[255e6, 235e6, 120e6, 140e6, 100e6], [2.2e9, 2.5e9, 2.5e9, 2.5e9, 2.0e9]] };
}

/// Fixed costs, seconds (measured on an H100: bench/results/first-frame-h100-20261126-d79b59b
/// and the NVDEC call times).
pub mod fixed {
    /// `cuInit` in a process that has not started CUDA, with the driver's libraries loaded
    /// (95-220 ms measured alone; the whole start counts more, below).
    pub const CUDA_INIT_S: f64 = 0.25;
    /// The primary context, made or retained, where this process's library has not used
    /// the GPU yet (with CUDA started by torch, retaining its context is cheaper: counted
    /// as [`CONTEXT_RETAIN_S`]). With [`CUDA_INIT_S`] and a session, what one frame on the
    /// GPU costs a fresh process more than on the CPU: 0.57 s on an H100 and on an H200
    /// (bench/results/auto-grid-h100-20261126-f5f9b6f, auto-grid-h200-*); 0.29 s counted
    /// here put a 4K frame of a fresh process on the GPU at 0.71 s against the CPU's 0.42 s.
    pub const CONTEXT_S: f64 = 0.2;
    /// Retaining a primary context another library of the process made.
    pub const CONTEXT_RETAIN_S: f64 = 0.03;
    /// Creating a decoder session (`cuvidCreateDecoder` 40-75 ms) the first time in the
    /// process, for each session the job opens: the creations do not overlap (iterating a
    /// file on an H200's 7 engines took 0.34 s more with no decoder parked than with 7
    /// parked, ~48 ms each); later jobs mostly take parked decoders.
    pub const GPU_SESSION_S: f64 = 0.06;
    /// A session where the process's GPU side already runs (a parked decoder, reused).
    pub const GPU_SESSION_WARM_S: f64 = 0.005;
    /// The GPU's first-frame latency (parse, submit, map, sync).
    pub const GPU_FIRST_FRAME_S: f64 = 0.004;
    /// Opening a software decoder session.
    pub const CPU_SESSION_S: f64 = 0.004;
    /// Copies between host and device memory, bytes per second (pinned, PCIe 5 on an H100
    /// or H200: iterating 1,200 frames of 720p RGB, 3.3 GB, from NVDEC to the host took
    /// 0.17 s with the decoders warm on an H200, decode included;
    /// bench/results/auto-grid-h200-20261127-*).
    pub const COPY_BYTES_PER_S: f64 = 20e9;
    /// YUV to RGB on the CPU, pixels per second per thread.
    pub const CPU_RGB_PIXELS_PER_S: f64 = 400e6;
}

/// The process's model: the rates, refined by observation, and whether its GPU side has
/// run (its context made, decoders parked).
pub struct CostModel {
    state: Mutex<State>,
}

#[derive(Clone, Copy)]
struct State {
    rates: Rates,
    gpu_used: bool,
    observed: [[u32; CODECS]; 2],
}

/// How much one observation moves a rate (an exponential moving average).
const LEARN: f64 = 0.5;
/// Observations are kept within this factor of the prior either way (one odd job, a
/// machine under load, must not lock the choice onto one side).
const CLAMP: f64 = 8.0;
/// Jobs smaller than this (decoded pixels) say more about fixed costs than about rates:
/// they are not observed.
const MIN_OBSERVED_PIXELS: f64 = 30.0 * 1920.0 * 1080.0;

impl Default for CostModel {
    fn default() -> Self {
        CostModel::new(Rates::PRIOR)
    }
}

impl CostModel {
    /// A model starting from `rates`.
    pub fn new(rates: Rates) -> CostModel {
        CostModel { state: Mutex::new(State { rates, gpu_used: false, observed: [[0; CODECS]; 2] }) }
    }

    /// The process's model.
    pub fn global() -> &'static CostModel {
        static MODEL: OnceLock<CostModel> = OnceLock::new();
        MODEL.get_or_init(CostModel::default)
    }

    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The rates now.
    pub fn rates(&self) -> Rates {
        self.state().rates
    }

    /// Jobs observed so far for `processor` and `codec`.
    pub fn observations(&self, processor: Processor, codec: Codec) -> u32 {
        self.state().observed[processor.slot()][codec_slot(codec)]
    }

    /// Notes that this process's GPU side has run (its context exists; decoders may be
    /// parked): later GPU jobs pay no context.
    pub fn gpu_used(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).gpu_used = true;
    }

    /// What a finished job took on `processor` (wall seconds, from its start to its last
    /// frame in place), with `parallel` engines or threads at work: refines that codec's
    /// rate from the time left once the model's fixed and output costs are taken off.
    pub fn observe(&self, processor: Processor, job: &Job, parallel: u32, seconds: f64) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if processor == Processor::Gpu {
            s.gpu_used = true;
        }
        let decoded = job.packets as f64 * job.pixels();
        if !seconds.is_finite() || decoded < MIN_OBSERVED_PIXELS {
            return;
        }
        let parallel = f64::from(parallel.max(1));
        let rest = seconds - output_cost(processor, job, parallel);
        let (p, c) = (processor.slot(), codec_slot(job.codec));
        let prior = Rates::PRIOR.pixels_per_s[p][c];
        let seen = (decoded / (rest.max(1e-6) * parallel)).clamp(prior / CLAMP, prior * CLAMP);
        let first = s.observed[p][c] == 0;
        let r = &mut s.rates.pixels_per_s[p][c];
        *r = if first { seen } else { (1.0 - LEARN) * *r + LEARN * seen };
        s.observed[p][c] += 1;
    }

    /// Decides `job` (see the module's documentation).
    pub fn choose(&self, job: &Job, cpu: &CpuSide, gpu: &GpuSide) -> Choice {
        let s = self.state();
        let cpu_s = cpu.decodes.then(|| cpu_estimate(&s.rates, job, cpu, gpu, s.gpu_used));
        let gpu_can = gpu.present && gpu.decodes != Some(false);
        let gpu_s = gpu_can.then(|| gpu_estimate(&s.rates, job, gpu, s.gpu_used));
        let estimate = Estimate { cpu_s, gpu_s };
        let codec = job.codec;
        let pick = |processor: Processor, why: String| Choice { processor, why, estimate, needs_probe: false };
        let (cpu_t, gpu_t) = match (cpu_s, gpu_s) {
            (None, None) => {
                let why = gpu.why_not.clone().unwrap_or_else(|| "no GPU decode engine".to_string());
                return pick(Processor::Cpu, format!("neither side decodes {codec} here ({why}): the CPU's error"));
            }
            (Some(_), None) => {
                let why = gpu.why_not.clone().unwrap_or_else(|| "no GPU decode engine".to_string());
                let why = if gpu.present {
                    format!("the GPU cannot decode this stream: {why}")
                } else {
                    format!("no GPU here ({why})")
                };
                return pick(Processor::Cpu, why);
            }
            (None, Some(_)) => {
                let mut c = pick(Processor::Gpu, format!("no CPU engine decodes {codec} here"));
                c.needs_probe = gpu.decodes.is_none();
                return c;
            }
            (Some(c), Some(g)) => (c, g),
        };
        let need = gpu_memory_need(job, gpu);
        if let Some(free) = gpu.free_memory
            && need > free
        {
            return pick(Processor::Cpu, format!("GPU memory left ({free} bytes) is below the job's ~{need}"));
        }
        if gpu_t < cpu_t {
            let mut c = pick(Processor::Gpu, format!("GPU estimated faster: {gpu_t:.4} s against {cpu_t:.4} s"));
            c.needs_probe = gpu.decodes.is_none();
            return c;
        }
        let mut why = format!("CPU estimated faster: {cpu_t:.4} s against {gpu_t:.4} s");
        if gpu.decodes.is_none() {
            why.push_str(" (the GPU's engine was not asked: that would start CUDA)");
        }
        pick(Processor::Cpu, why)
    }
}

/// Decides `job` with the process's model ([`CostModel::global`]).
pub fn choose(job: &Job, cpu: &CpuSide, gpu: &GpuSide) -> Choice {
    CostModel::global().choose(job, cpu, gpu)
}

/// The CPU's estimate: a session, the packets over the threads the job can keep busy
/// (frame threads work on consecutive pictures, so a job of few packets uses few), RGB
/// conversion, and the upload where frames must land on the GPU (which needs CUDA started
/// and a context, as the GPU side does).
fn cpu_estimate(rates: &Rates, job: &Job, cpu: &CpuSide, gpu: &GpuSide, gpu_used: bool) -> f64 {
    let threads = f64::from(cpu.parallel(job));
    let rate = rates.pixels_per_s[0][codec_slot(job.codec)];
    let start = if job.output == Processor::Gpu { device_start(gpu, gpu_used) } else { 0.0 };
    start
        + fixed::CPU_SESSION_S
        + job.packets as f64 * job.pixels() / (rate * threads)
        + output_cost(Processor::Cpu, job, threads)
}

/// Starting the device where the process has not: `cuInit` unless CUDA is started, the
/// primary context unless this library's GPU side has run (retained where another library
/// made it).
fn device_start(gpu: &GpuSide, gpu_used: bool) -> f64 {
    match (gpu.cuda_started, gpu_used) {
        (_, true) => 0.0,
        (true, false) => fixed::CONTEXT_RETAIN_S,
        (false, false) => fixed::CUDA_INIT_S + fixed::CONTEXT_S,
    }
}

/// The GPU's estimate: CUDA's start and the context where they are not paid, the sessions
/// the job opens where it has none (one per engine its runs keep busy), the first-frame
/// latency, the packets over those engines, and the copy to the host where frames must
/// land there.
fn gpu_estimate(rates: &Rates, job: &Job, gpu: &GpuSide, gpu_used: bool) -> f64 {
    let start = device_start(gpu, gpu_used);
    let engines = f64::from(gpu.engines.max(1)).min(job.runs.max(1) as f64);
    let session = match (gpu.session_open, gpu_used) {
        (true, _) => 0.0,
        (false, true) => fixed::GPU_SESSION_WARM_S * engines,
        (false, false) => fixed::GPU_SESSION_S * engines,
    };
    let rate = rates.pixels_per_s[1][codec_slot(job.codec)];
    start
        + session
        + fixed::GPU_FIRST_FRAME_S
        + job.packets as f64 * job.pixels() / (rate * engines)
        + output_cost(Processor::Gpu, job, engines)
}

/// What the output costs beyond decoding: RGB on the CPU (over `parallel` threads), and a
/// copy across where the frames must land elsewhere than where they were decoded.
fn output_cost(processor: Processor, job: &Job, parallel: f64) -> f64 {
    let frames = job.frames as f64;
    let mut cost = 0.0;
    if processor == Processor::Cpu && job.rgb {
        cost += frames * job.pixels() / (fixed::CPU_RGB_PIXELS_PER_S * parallel.max(1.0));
    }
    if processor != job.output {
        cost += frames * job.pixels() * job.bytes_per_pixel / fixed::COPY_BYTES_PER_S;
    }
    cost
}

/// GPU memory a job needs at least: a session's surfaces (~24 pictures of NV12) per
/// engine it uses, and its frames where they land on the GPU (at most 64 of them at once:
/// an iteration hands them out as they come).
fn gpu_memory_need(job: &Job, gpu: &GpuSide) -> u64 {
    let engines = f64::from(gpu.engines.max(1)).min(job.runs.max(1) as f64);
    let surfaces = 24.0 * job.pixels() * 1.5 * engines;
    let held = job.frames.min(64) as f64;
    let frames = if job.output == Processor::Gpu { held * job.pixels() * job.bytes_per_pixel } else { 0.0 };
    (surfaces + frames) as u64
}

#[cfg(test)]
mod tests;
