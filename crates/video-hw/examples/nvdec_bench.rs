//! NVDEC benchmark driver: many decode sessions in one process, one thread each.
//!
//! ```text
//! nvdec_bench [run] --input FILE [--streams N] [--repeat-input K] [--chunk BYTES] [--device N]
//!             [--output cuda-nv12|host-nv12|host-yuv420p|metadata] [--max-frames N] ...
//! nvdec_bench soak  --input FILE [--input FILE...] [--streams 14] [--duration 120] [--seed 1] [--corrupt 13]
//! nvdec_bench probe FILE...                 stream facts from headers (no GPU needed)
//! nvdec_bench cut   IN --out OUT [--gops G] [--max-bytes B]   keep the first whole GOPs of IN
//! ```
//!
//! `run` reads every input into memory before the timer starts; the timer then covers
//! `Decoder::open` of every session (the first one creates the CUDA context), decoding
//! `--repeat-input` passes over the input, the final flush and dropping the sessions. CUDA
//! frames are dropped right after they are reaped (they stay on the GPU). One JSON object
//! goes to stdout (see `RunReport`), a human summary to stderr.
//!
//! `soak` (also `--only soak`) runs sessions for `--duration` seconds with random restarts
//! (seeded), one session fed a corrupted copy of its input, and checks that every clean pass
//! decoded exactly the expected frames and that NVDEC sessions and free device memory
//! return to their starting values. It prints PASS or FAIL and exits 1 on FAIL.
// The report is one large `json!` literal.
#![recursion_limit = "256"]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use video_hw::bitstream::access_unit::AccessUnitAssembler;
use video_hw::bitstream::detect::{codec_from_extension, detect_codec};
use video_hw::bitstream::summary::summarize;
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Error, Input, Output, PixelFormat};

const USAGE: &str = "\
usage: nvdec_bench [run|soak|probe|cut] [options] [FILE...]
  modes (or --only MODE):
    run     decode --streams sessions concurrently, one thread each; JSON report on stdout (default)
    soak    sessions for --duration s with random restarts and one corrupt stream; PASS/FAIL
    probe   stream facts of each FILE from headers (codec, size, frames); no GPU needed
    cut     write the first whole GOPs of FILE to --out (--gops G and/or --max-bytes B)
  options:
    --input FILE          input Annex-B H.264/HEVC stream (repeatable; bare FILE arguments too)
    --streams N           sessions (threads) [run: 1, soak: 14]
    --repeat-input K      passes over the input per session [1]
    --chunk BYTES         bytes per submit call, suffixes k/m allowed [64k]
    --device N            GPU index [0]
    --spread-over-gpus    each session opens on the GPU with the fewest NVDEC sessions of the
                          process per NVDEC engine (DecoderConfig::spread_over_gpus; --device
                          is then ignored;
                          the report counts the sessions per GPU; no memory reading)
    --output KIND         cuda-nv12 | host-nv12 | host-yuv420p | metadata [cuda-nv12]
    --engine NAME         nvdec | auto | openh264 ... [nvdec]
    --max-frames N        stop each session after N frames (1: time to first frame) [0 = all]
    --flush-each-pass     flush after every pass (default: passes form one continuous stream)
    --low-latency         no display delay
    --display-delay N     the parser's display delay (0..=8; default 4)
    --warm                Decoder::prepare before the timer (CUDA context and libraries
                          loaded: the time to first frame of a service's later sessions)
    --warm-decode         as --warm, but one warm-up session per --streams decodes the input
                          and is flushed: their decoder objects are parked and the timed
                          sessions reuse them (a service's stream restart or next batch)
    --warm-parallel       as --warm-decode, the warm-up sessions decoding at once on threads
                          of their own (so each decoder is created while others decode):
                          tells whether a decoder created under load stays slower
    --stagger-ms N        session i opens i*N ms after the start (counted in its time)
    --segmented N         decode the --streams streams (each --repeat-input passes of the input,
                          one byte buffer) with SegmentedDecode: N sessions take segments cut at
                          random access points, frames in each stream's order
    --min-segment P       segmented: fewest pictures per segment [60]
    --unordered           segmented: frames handed out as sessions output them (run_unordered:
                          nothing waits for an earlier segment), not in each stream's order
    --no-mem              do not sample device memory
    --cpu-split           also time the CPU spent in each NVDEC call and per session thread
                          (report's cpu_split: NVIDIA's parser, decode, map, copy-out, start-up,
                          threads other than the sessions'); adds ~1 us of CPU per call
    --duration S          soak length in seconds [120]
    --seed N              soak random seed [1]
    --corrupt I|none      soak: index of the session fed a corrupted copy [last]
    --corrupt-every B     soak: one bit flipped every ~B bytes [1000]
    --mem-tolerance-mib M soak: allowed drop of free device memory [64]
    --out FILE            cut: output file
    --gops G              cut: whole GOPs to keep
    --max-bytes B         cut: keep whole GOPs while the output stays under B bytes
    --quiet               no summary on stderr
";

// ---------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Soak,
    Probe,
    Cut,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "run" | "throughput" | "single" | "multi" => Ok(Mode::Run),
            "soak" => Ok(Mode::Soak),
            "probe" => Ok(Mode::Probe),
            "cut" => Ok(Mode::Cut),
            other => Err(format!("unknown mode '{other}' (run, soak, probe, cut)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Args {
    mode: Mode,
    inputs: Vec<PathBuf>,
    streams: Option<usize>,
    repeat_input: u32,
    chunk: usize,
    device: u32,
    spread_over_gpus: bool,
    output: Output,
    engine: EnginePreference,
    max_frames: u64,
    flush_each_pass: bool,
    low_latency: bool,
    display_delay: Option<u32>,
    warm: bool,
    /// The warm-up session also decodes the input's first pass and flushes (its decoder
    /// object is then parked and reused by the timed session).
    warm_decode: bool,
    /// The warm-up sessions of `warm_decode` run at once, each on its thread (their
    /// decoders are then created while the others decode), instead of one after another.
    warm_parallel: bool,
    cpu_split: bool,
    stagger_ms: u64,
    /// Sessions of a `SegmentedDecode` instead of a session per stream.
    segmented: Option<usize>,
    min_segment: usize,
    unordered: bool,
    measure_mem: bool,
    duration: Duration,
    seed: u64,
    /// `None` = last session; `Some(None)` = no corrupt session.
    corrupt: Option<Option<usize>>,
    corrupt_every: usize,
    mem_tolerance: u64,
    out: Option<PathBuf>,
    gops: Option<usize>,
    max_bytes: Option<usize>,
    quiet: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            mode: Mode::Run,
            inputs: Vec::new(),
            streams: None,
            repeat_input: 1,
            chunk: 64 << 10,
            device: 0,
            spread_over_gpus: false,
            output: Output::CUDA_NV12,
            engine: EnginePreference::Only(Engine::Nvdec),
            max_frames: 0,
            flush_each_pass: false,
            low_latency: false,
            display_delay: None,
            warm: false,
            warm_decode: false,
            warm_parallel: false,
            cpu_split: false,
            stagger_ms: 0,
            segmented: None,
            min_segment: 60,
            unordered: false,
            measure_mem: true,
            duration: Duration::from_secs(120),
            seed: 1,
            corrupt: None,
            corrupt_every: 1000,
            mem_tolerance: 64 << 20,
            out: None,
            gops: None,
            max_bytes: None,
            quiet: false,
        }
    }
}

impl Args {
    fn streams(&self) -> usize {
        self.streams.unwrap_or(if self.mode == Mode::Soak { 14 } else { 1 })
    }

    /// Index of the corrupt soak session, if any.
    fn corrupt_session(&self) -> Option<usize> {
        match self.corrupt {
            None => Some(self.streams() - 1),
            Some(c) => c,
        }
    }

    fn config(&self, codec: Codec) -> DecoderConfig {
        let c = DecoderConfig::new(codec)
            .engine(self.engine)
            .output(self.output)
            .device_index(self.device)
            .spread_over_gpus(self.spread_over_gpus)
            .low_latency(self.low_latency);
        match self.display_delay {
            Some(d) => c.max_display_delay(d),
            None => c,
        }
    }
}

/// How many sessions ran on each backend ("nvdec (GPU 1: ...)"): where `--spread-over-gpus`
/// put them.
fn sessions_per_backend<'a>(backends: impl Iterator<Item = &'a str>) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for b in backends.filter(|b| !b.is_empty()) {
        *counts.entry(b.to_string()).or_insert(0) += 1;
    }
    counts
}

/// How long to wait for dropped NVDEC sessions to be destroyed before a leak or memory reading.
const CLOSE_WAIT: Duration = Duration::from_secs(20);

/// Waits for the dropped sessions' closes and destroys the decoders parked for reuse, so
/// that sessions and device memory read as with nothing open; whether the closes finished.
fn settle_nvdec() -> bool {
    let closed = video_hw::diagnostics::wait_for_nvdec_closes(CLOSE_WAIT);
    video_hw::diagnostics::release_parked_nvdec_decoders();
    closed
}

/// `1234`, `64k`, `1m`, `2MiB` → bytes.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.trim_end_matches("ib").trim_end_matches('b');
    let (num, mul) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1usize << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: usize = num.parse().map_err(|_| format!("bad size '{s}' (e.g. 65536, 64k, 1m)"))?;
    n.checked_mul(mul).filter(|&v| v > 0).ok_or_else(|| format!("size '{s}' must be positive"))
}

fn parse_output(s: &str) -> Result<Output, String> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "cuda-nv12" | "cuda" | "device" => Output::CUDA_NV12,
        "host-nv12" | "host" => Output::HOST_NV12,
        "host-yuv420p" => Output::HOST_YUV420P,
        "metadata" | "none" => Output::Metadata,
        other => return Err(format!("unknown output '{other}' (cuda-nv12, host-nv12, host-yuv420p, metadata)")),
    })
}

fn output_name(o: Output) -> String {
    match o {
        Output::Metadata => "metadata".into(),
        Output::Cuda(f) => format!("cuda-{}", pixel_name(f)),
        Output::Host(f) => format!("host-{}", pixel_name(f)),
    }
}

fn pixel_name(f: PixelFormat) -> String {
    format!("{f}").to_ascii_lowercase()
}

fn parse_args<I: IntoIterator<Item = String>>(argv: I) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.into_iter().peekable();
    let mut first = true;
    while let Some(arg) = it.next() {
        let is_first = std::mem::take(&mut first);
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |name: &str, v: String| v.parse::<u64>().map_err(|_| format!("{name}: '{v}' is not a number"));
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--only" | "--mode" => a.mode = value(&arg)?.parse()?,
            "--input" | "-i" => a.inputs.push(value(&arg)?.into()),
            "--streams" | "-n" => {
                let n = num(&arg, value(&arg)?)?;
                if n == 0 || n > 256 {
                    return Err("--streams must be 1..=256".into());
                }
                a.streams = Some(n as usize);
            }
            "--repeat-input" | "--passes" => {
                let k = num(&arg, value(&arg)?)?;
                if k == 0 || k > 100_000 {
                    return Err("--repeat-input must be 1..=100000".into());
                }
                a.repeat_input = k as u32;
            }
            "--chunk" => a.chunk = parse_size(&value(&arg)?)?,
            "--device" | "--gpu" => a.device = num(&arg, value(&arg)?)? as u32,
            "--spread-over-gpus" => a.spread_over_gpus = true,
            "--output" => a.output = parse_output(&value(&arg)?)?,
            "--engine" => a.engine = value(&arg)?.parse().map_err(|e: Error| e.to_string())?,
            "--max-frames" => a.max_frames = num(&arg, value(&arg)?)?,
            "--flush-each-pass" => a.flush_each_pass = true,
            "--low-latency" => a.low_latency = true,
            "--display-delay" => a.display_delay = Some(num(&arg, value(&arg)?)?.min(8) as u32),
            "--warm" => a.warm = true,
            "--warm-decode" => a.warm_decode = true,
            "--warm-parallel" => {
                a.warm_decode = true;
                a.warm_parallel = true;
            }
            "--cpu-split" => a.cpu_split = true,
            "--stagger-ms" => a.stagger_ms = num(&arg, value(&arg)?)?.min(10_000),
            "--segmented" => a.segmented = Some(num(&arg, value(&arg)?)?.clamp(1, 64) as usize),
            "--min-segment" => a.min_segment = num(&arg, value(&arg)?)?.max(1) as usize,
            "--unordered" => a.unordered = true,
            "--no-mem" => a.measure_mem = false,
            "--duration" => {
                let v = value(&arg)?;
                let s: f64 = v.parse().map_err(|_| format!("--duration: '{v}' is not a number of seconds"))?;
                if !(s > 0.0 && s < 86_400.0) {
                    return Err("--duration must be 0..86400 seconds".into());
                }
                a.duration = Duration::from_secs_f64(s);
            }
            "--seed" => a.seed = num(&arg, value(&arg)?)?,
            "--corrupt" => {
                let v = value(&arg)?;
                a.corrupt = Some(if v == "none" { None } else { Some(num("--corrupt", v)? as usize) });
            }
            "--corrupt-every" => a.corrupt_every = parse_size(&value(&arg)?)?.max(8),
            "--mem-tolerance-mib" => a.mem_tolerance = num(&arg, value(&arg)?)? << 20,
            "--out" | "-o" => a.out = Some(value(&arg)?.into()),
            "--gops" => a.gops = Some(num(&arg, value(&arg)?)?.max(1) as usize),
            "--max-bytes" => a.max_bytes = Some(parse_size(&value(&arg)?)?),
            "--quiet" | "-q" => a.quiet = true,
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if is_first && s.parse::<Mode>().is_ok() => a.mode = s.parse()?,
            s => a.inputs.push(s.into()),
        }
    }
    if a.inputs.is_empty() {
        return Err("no input (--input FILE)".into());
    }
    if a.segmented.is_some() && (a.max_frames > 0 || a.flush_each_pass || a.stagger_ms > 0) {
        return Err("--segmented decodes whole streams: no --max-frames, --flush-each-pass or --stagger-ms".into());
    }
    if a.mode == Mode::Cut && a.out.is_none() {
        return Err("cut needs --out FILE".into());
    }
    if a.mode == Mode::Soak {
        if let Some(c) = a.corrupt_session() {
            if c >= a.streams() {
                return Err(format!("--corrupt {c}: only {} sessions", a.streams()));
            }
        }
        if a.corrupt_session().is_some() && a.streams() < 2 {
            return Err("soak with a corrupt session needs --streams >= 2".into());
        }
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------
// Small helpers: statistics, random numbers, CPU time
// ---------------------------------------------------------------------------------------

/// Median (mean of the middle two for an even count); `None` when empty.
fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `total` spread over `n` (calls, frames) in µs, rounded; 0 when there were none.
fn us_each(total: Duration, n: u64) -> f64 {
    if n > 0 { round3(total.as_secs_f64() * 1e6 / n as f64) } else { 0.0 }
}

/// xorshift64* — small, seeded, good enough to pick restart points.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that nearby seeds give unrelated sequences; never 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

/// A copy of `data` with one random bit flipped every ~`every` bytes (`every/2 ..
/// 3*every/2` apart), starting somewhere in the first `every` bytes.
fn corrupt_copy(data: &[u8], seed: u64, every: usize) -> (Vec<u8>, usize) {
    let mut rng = XorShift::new(seed ^ 0xC0FF_EE00);
    let mut out = data.to_vec();
    let every = every.max(8) as u64;
    let mut pos = rng.below(every) as usize;
    let mut flips = 0;
    while pos < out.len() {
        out[pos] ^= 1 << rng.below(8);
        flips += 1;
        pos += rng.range(every / 2, every * 3 / 2) as usize;
    }
    (out, flips)
}

/// User + system CPU seconds of this process (all its threads, ended ones included) and
/// its peak resident set in KiB, from `/proc/self/stat` and `/proc/self/status` (Linux).
/// The kernel counts CPU time in clock ticks: USER_HZ, 100 on every mainstream Linux, so
/// the resolution is 10 ms.
fn process_cpu() -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    parse_proc_cpu(&stat, &status)
}

fn parse_proc_cpu(stat: &str, status: &str) -> Option<(f64, u64)> {
    const USER_HZ: f64 = 100.0;
    // Fields after the command name (which may hold spaces, hence the last ')'):
    // state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Some(((utime + stime) as f64 / USER_HZ, hwm))
}

fn mib(bytes: u64) -> f64 {
    round3(bytes as f64 / (1u64 << 20) as f64)
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

struct InputFile {
    path: PathBuf,
    data: Vec<u8>,
    codec: Codec,
    /// Frames one pass outputs, from the headers.
    frames: u64,
    facts: Value,
}

fn load_input(path: &Path) -> Result<InputFile, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let codec = codec_from_extension(path)
        .or_else(|| detect_codec(&data[..data.len().min(1 << 20)]))
        .ok_or_else(|| format!("{}: not an H.264 or HEVC Annex-B stream", path.display()))?;
    let s = summarize(&data[..], Some(codec)).map_err(|e| format!("{}: {e}", path.display()))?;
    let (width, height) = s.info.as_ref().map_or((0, 0), |i| (i.dimensions.width(), i.dimensions.height()));
    let facts = json!({
        "path": path.display().to_string(),
        "bytes": data.len(),
        "codec": codec.name(),
        "profile": s.info.as_ref().map(|i| i.profile.clone()),
        "level": s.info.as_ref().map(|i| i.level.clone()),
        "width": width,
        "height": height,
        "bit_depth": s.info.as_ref().map(|i| i.bit_depth_luma),
        "frames": s.frames,
        "keyframes": s.keyframes,
        "access_units": s.access_units,
        "header_errors": s.errors,
    });
    Ok(InputFile { path: path.to_path_buf(), data, codec, frames: s.frames, facts })
}

// ---------------------------------------------------------------------------------------
// run: throughput
// ---------------------------------------------------------------------------------------

/// What one session did.
#[derive(Debug, Default, Clone)]
struct SessionResult {
    frames: u64,
    pass_frames: Vec<u64>,
    open: Duration,
    ttff: Option<Duration>,
    wall: Duration,
    bitstream_errors: u64,
    first_error: Option<String>,
    fatal: Option<String>,
    backend: String,
    /// CPU time of the session's thread from its start to after its drop (`--cpu-split`).
    cpu: Option<Duration>,
}

/// Counts frames as they come out, dropping them at once.
struct Tally {
    start: Instant,
    frames: u64,
    first: Option<Duration>,
}

impl Tally {
    fn take(&mut self, frame: video_hw::Frame) {
        if self.frames == 0 {
            self.first = Some(self.start.elapsed());
        }
        self.frames += 1;
        drop(frame);
    }
}

/// Decodes `passes` passes over `data` in one session. `start` releases all sessions at
/// once; the session's clock starts there, before `Decoder::open`.
fn run_session(a: &Args, input: &InputFile, start: &Barrier, index: usize) -> SessionResult {
    start.wait();
    // The session's clock starts at the barrier, so a stagger counts against it.
    let t0 = Instant::now();
    let cpu0 = video_hw::diagnostics::thread_cpu_time().filter(|_| a.cpu_split);
    if a.stagger_ms > 0 {
        std::thread::sleep(Duration::from_millis(a.stagger_ms * index as u64));
    }
    let mut r = SessionResult::default();
    let mut dec = match Decoder::open(a.config(input.codec)) {
        Ok(d) => d,
        Err(e) => {
            r.fatal = Some(format!("open: {e}"));
            r.wall = t0.elapsed();
            return r;
        }
    };
    r.open = t0.elapsed();
    r.backend = dec.backend().to_string();
    let mut t = Tally { start: t0, frames: 0, first: None };
    let done = |t: &Tally| a.max_frames > 0 && t.frames >= a.max_frames;
    'passes: for pass in 0..a.repeat_input {
        let before = t.frames;
        for piece in input.data.chunks(a.chunk) {
            match dec.submit(Input::annexb(piece, None)) {
                Ok(()) => {}
                Err(e @ Error::InvalidBitstream { .. }) => {
                    r.bitstream_errors += 1;
                    r.first_error.get_or_insert(e.to_string());
                }
                Err(e) => {
                    r.fatal = Some(format!("submit (pass {pass}): {e}"));
                    break 'passes;
                }
            }
            while !done(&t) {
                match dec.try_reap() {
                    Ok(Some(f)) => t.take(f),
                    Ok(None) => break,
                    Err(e) => {
                        r.fatal = Some(format!("reap (pass {pass}): {e}"));
                        break 'passes;
                    }
                }
            }
            if done(&t) {
                r.pass_frames.push(t.frames - before);
                break 'passes;
            }
        }
        if a.flush_each_pass || pass + 1 == a.repeat_input {
            match dec.flush() {
                Ok(frames) => frames.into_iter().for_each(|f| {
                    if !done(&t) {
                        t.take(f)
                    }
                }),
                Err(e @ Error::InvalidBitstream { .. }) => {
                    r.bitstream_errors += 1;
                    r.first_error.get_or_insert(e.to_string());
                }
                Err(e) => {
                    r.fatal = Some(format!("flush (pass {pass}): {e}"));
                    break 'passes;
                }
            }
        }
        r.pass_frames.push(t.frames - before);
    }
    r.frames = t.frames;
    r.ttff = t.first;
    drop(dec);
    r.wall = t0.elapsed();
    r.cpu = cpu0.zip(video_hw::diagnostics::thread_cpu_time()).map(|(c0, c1)| c1.saturating_sub(c0));
    r
}

/// Decodes every stream with one `SegmentedDecode` of `sessions` sessions; one result
/// per stream (all with the run's wall time), plus the run's segment figures.
fn run_segmented(
    a: &Args,
    streams: &[Vec<u8>],
    codec: Codec,
    sessions: usize,
    start: &Barrier,
) -> (Vec<SessionResult>, Value) {
    start.wait();
    let t0 = Instant::now();
    let mut tallies: Vec<Tally> = streams.iter().map(|_| Tally { start: t0, frames: 0, first: None }).collect();
    let decode = video_hw::pipeline::SegmentedDecode::new(a.config(codec))
        .sessions(sessions)
        .min_segment_pictures(a.min_segment)
        .chunk_size(a.chunk);
    let outcome = if a.unordered {
        decode.run_unordered(streams, |f| {
            tallies[f.stream].take(f.frame);
            Ok(())
        })
    } else {
        decode.run(streams, |stream, frame| {
            tallies[stream].take(frame);
            Ok(())
        })
    };
    let wall = t0.elapsed();
    match outcome {
        Ok(stats) => {
            let results = tallies
                .iter()
                .zip(&stats.streams)
                .map(|(t, s)| SessionResult {
                    frames: t.frames,
                    ttff: t.first,
                    wall,
                    bitstream_errors: s.dropped,
                    first_error: s.first_error.clone(),
                    backend: stats.backend.clone(),
                    ..SessionResult::default()
                })
                .collect();
            let facts = json!({"sessions": sessions, "sessions_opened": stats.sessions, "segments": stats.segments,
                               "segments_per_stream": stats.streams.iter().map(|s| s.segments).collect::<Vec<_>>(),
                               "min_segment_pictures": a.min_segment, "ordered": !a.unordered,
                               "split_ms": round3(stats.split_time.as_secs_f64() * 1e3),
                               "peak_buffered_frames": stats.peak_buffered_frames});
            (results, facts)
        }
        Err(e) => {
            let failed =
                SessionResult { fatal: Some(format!("segmented decode: {e}")), wall, ..SessionResult::default() };
            (vec![failed; streams.len()], Value::Null)
        }
    }
}

/// The NVDEC probe's view of GPU `device` for `codec`: device name, driver, notes (engine
/// count, size limits), or why it is unavailable.
fn nvdec_facts(device: u32, codec: Codec) -> Value {
    // NVDEC alone: the report needs nothing else, and probing every engine (NVENC on a GPU
    // without it among them) runs after the timed part but lengthens every process.
    let r = video_hw::registry::probe(Engine::Nvdec, codec, video_hw::Direction::Decode, device);
    json!({"available": r.available, "device": r.info.device, "driver": r.info.driver,
           "notes": r.info.notes, "reason": r.reason})
}

/// Samples free device memory until told to stop; returns the smallest value seen.
fn sample_min_free(device: u32, stop: &AtomicBool, period: Duration) -> Option<u64> {
    let mut min: Option<u64> = None;
    loop {
        if let Ok((free, _)) = video_hw::diagnostics::gpu_memory(device) {
            min = Some(min.map_or(free, |m| m.min(free)));
        }
        if stop.load(Ordering::SeqCst) {
            return min;
        }
        std::thread::sleep(period);
    }
}

fn run(a: &Args) -> Result<(Value, bool), String> {
    let inputs: Vec<InputFile> = a.inputs.iter().map(|p| load_input(p)).collect::<Result<_, _>>()?;
    let n = a.streams();
    let uses_gpu = a.engine == EnginePreference::Only(Engine::Nvdec) || matches!(a.output, Output::Cuda(_));
    let stop = AtomicBool::new(false);
    let session_input = |i: usize| &inputs[i % inputs.len()];
    video_hw::diagnostics::set_nvdec_cpu_timing(a.cpu_split);
    if a.warm_decode {
        // One warm-up session per timed session, all open at once, each fed a whole pass
        // and flushed: they end cleanly, so their decoder objects are parked for the timed
        // sessions (as when a service's streams restart, or its next batch starts).
        let warm_up = |input: &InputFile| -> Result<Decoder, String> {
            let mut session = Decoder::open(a.config(input.codec)).map_err(|e| format!("warm-up session: {e}"))?;
            session.submit(Input::annexb(&input.data, None)).map_err(|e| format!("warm-up decode: {e}"))?;
            session.flush().map_err(|e| format!("warm-up flush: {e}"))?;
            Ok(session)
        };
        let count = a.segmented.unwrap_or(n);
        // Every warm-up session stays open until all are done, so none is parked and taken
        // by another warm-up session.
        let warm: Vec<Decoder> = if a.warm_parallel {
            std::thread::scope(|s| {
                let threads: Vec<_> = (0..count).map(|i| s.spawn(move || warm_up(session_input(i)))).collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap_or_else(|_| Err("warm-up thread panicked".into())))
                    .collect::<Result<Vec<_>, String>>()
            })?
        } else {
            (0..count).map(|i| warm_up(session_input(i))).collect::<Result<_, _>>()?
        };
        drop(warm);
        // Let the closer thread park them before the clock starts.
        video_hw::diagnostics::wait_for_nvdec_closes(CLOSE_WAIT);
    } else if a.warm {
        // What a service does at start-up: the process's one-time CUDA set-up, no stream.
        Decoder::prepare(&a.config(inputs[0].codec)).map_err(|e| format!("warm-up (Decoder::prepare): {e}"))?;
    }

    // Segmented: each stream is its passes over the input in one buffer, made before the clock.
    let whole_streams: Vec<Vec<u8>> = match a.segmented {
        Some(_) => (0..n).map(|i| session_input(i).data.repeat(a.repeat_input as usize)).collect(),
        None => Vec::new(),
    };
    let threads = if a.segmented.is_some() { 1 } else { n };
    let start = Barrier::new(threads + 1);
    let segment_facts = Mutex::new(Value::Null);
    let (results, wall, cpu0, cpu1, min_free, free_after, calls, setup0) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (start, streams, segment_facts) = (&start, &whole_streams, &segment_facts);
                let input = session_input(i);
                std::thread::Builder::new()
                    .name(format!("session-{i}"))
                    .spawn_scoped(s, move || match a.segmented {
                        Some(sessions) => {
                            let (results, facts) = run_segmented(a, streams, input.codec, sessions, start);
                            *segment_facts.lock().unwrap_or_else(|p| p.into_inner()) = facts;
                            results
                        }
                        None => vec![run_session(a, input, start, i)],
                    })
                    .expect("spawn session thread")
            })
            .collect();
        let cpu0 = process_cpu();
        let calls0 = video_hw::diagnostics::nvdec_call_times();
        let setup0 = video_hw::diagnostics::nvdec_setup_times();
        start.wait();
        let t0 = Instant::now();
        // A session without input keeps the CUDA context alive after the others end, so that
        // the memory left after them (the baseline) can be read without recreating it.
        // The reading is of one GPU's free memory: meaningless once sessions spread.
        let keeper = if a.measure_mem && uses_gpu && !a.spread_over_gpus {
            Decoder::open(a.config(inputs[0].codec).engine(EnginePreference::Only(Engine::Nvdec))).ok()
        } else {
            None
        };
        let monitor = keeper.as_ref().map(|_| {
            let stop = &stop;
            s.spawn(move || sample_min_free(a.device, stop, Duration::from_millis(100)))
        });
        let results: Vec<SessionResult> = handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![SessionResult { fatal: Some("session thread panicked".into()), ..Default::default() }]
                })
            })
            .collect();
        let wall = t0.elapsed();
        // The sessions' decoders are destroyed on the closer thread after their drop
        // returned: how long until the last one is gone (reported next to the wall time;
        // CPU read after it, so the destroys' CPU counts).
        let closed = video_hw::diagnostics::wait_for_nvdec_closes(CLOSE_WAIT).then(|| t0.elapsed());
        // Sessions that ended cleanly parked their decoders for the next stream; the
        // reading before those are destroyed is reported beside the one after.
        let cpu_parked = process_cpu();
        // The memory left after the sessions is read without the decoders they parked.
        video_hw::diagnostics::release_parked_nvdec_decoders();
        let cpu1 = process_cpu();
        let calls1 = video_hw::diagnostics::nvdec_call_times();
        stop.store(true, Ordering::SeqCst);
        let min_free = monitor.and_then(|m| m.join().ok().flatten());
        let free_after = keeper
            .as_ref()
            .filter(|_| closed.is_some())
            .and_then(|_| video_hw::diagnostics::gpu_memory(a.device).ok())
            .map(|m| m.0);
        drop(keeper);
        (results, (wall, closed), (cpu0, cpu_parked), cpu1, min_free, free_after, (calls0, calls1), setup0)
    });
    let (wall, closed) = wall;
    let (cpu0, cpu_parked) = cpu0;

    // Read before the probe below, which asks NVDEC more than the sessions did.
    let setup_times = video_hw::diagnostics::nvdec_setup_times();
    // After the timed part (a probe before it would warm the registry's cache): what the
    // NVDEC probe says about the GPU, for the report.
    let nvdec = (a.engine == EnginePreference::Only(Engine::Nvdec)).then(|| nvdec_facts(a.device, inputs[0].codec));
    let frames: u64 = results.iter().map(|r| r.frames).sum();
    let expected: Vec<u64> = (0..n)
        .map(|i| {
            let per_pass = session_input(i).frames * u64::from(a.repeat_input);
            if a.max_frames > 0 { per_pass.min(a.max_frames) } else { per_pass }
        })
        .collect();
    let frames_ok = results.iter().zip(&expected).all(|(r, e)| r.frames == *e);
    let fatal: Vec<String> =
        results.iter().enumerate().filter_map(|(i, r)| r.fatal.as_ref().map(|f| format!("session {i}: {f}"))).collect();
    let secs = wall.as_secs_f64();
    let ttff_ms: Vec<f64> = results.iter().filter_map(|r| r.ttff).map(|d| d.as_secs_f64() * 1e3).collect();
    let open_ms: Vec<f64> = results.iter().map(|r| r.open.as_secs_f64() * 1e3).collect();
    let session_fps: Vec<f64> = results
        .iter()
        .map(|r| if r.wall.is_zero() { 0.0 } else { round3(r.frames as f64 / r.wall.as_secs_f64()) })
        .collect();
    let cpu_since_start = |c: Option<(f64, u64)>| cpu0.zip(c).map(|(c0, c1)| c1.0 - c0.0);
    let (cpu_s, cpu_before_parked_release_s) = (cpu_since_start(cpu1), cpu_since_start(cpu_parked));
    let decode_sessions = a.segmented.unwrap_or(n);
    let mem_per_session = match (free_after, min_free) {
        (Some(after), Some(min)) => Some(mib(after.saturating_sub(min)) / decode_sessions as f64),
        _ => None,
    };
    let ok = fatal.is_empty() && frames_ok;
    // Where the sessions' time went: driver calls per frame (summed over threads).
    let call = |f: fn(&video_hw::diagnostics::NvdecCallTimes) -> video_hw::diagnostics::CallTime| {
        let (a, b) = (f(&calls.0), f(&calls.1));
        let (n_calls, total) = (b.calls - a.calls, b.total.saturating_sub(a.total));
        json!({"calls": n_calls,
               "us_per_call": us_each(total, n_calls),
               "us_per_frame": us_each(total, frames),
               // Stalls: calls over CallTime::LONG in the span, and the process's longest call.
               "long_calls": b.long_calls - a.long_calls,
               "long_ms": round3(b.long_total.saturating_sub(a.long_total).as_secs_f64() * 1e3),
               "longest_ms": round3(b.longest.as_secs_f64() * 1e3)})
    };
    let driver_calls = json!({
        "parse": call(|t| t.parse),
        "decode_picture": call(|t| t.decode_picture),
        "map": call(|t| t.map),
        "copy": call(|t| t.copy),
        "lent": call(|t| t.lent),
        "copy_wait": call(|t| t.copy_wait),
        "unmap": call(|t| t.unmap),
        "decode_status": call(|t| t.decode_status),
    });
    let cpu_split = a.cpu_split.then(|| cpu_split(&results, &calls, &(setup0, setup_times), cpu_s, frames));
    // Where start-up went (process-wide: with --warm the warm-up session paid the one-time steps;
    // the keeper session of the memory reading is included).
    let startup = {
        let t = setup_times;
        let ms = |d: Duration| round3(d.as_secs_f64() * 1e3);
        let once = |d: Option<Duration>| d.map(ms);
        let each = |c: video_hw::diagnostics::CallTime| json!({"calls": c.calls, "ms": ms(c.total)});
        json!({
            "cuda_load_ms": once(t.cuda_load),
            "cuda_init_ms": once(t.cuda_init),
            "cuvid_load_ms": once(t.cuvid_load),
            "context": each(t.context),
            "decoder_caps": each(t.decoder_caps),
            "session_setup": each(t.session_setup),
            "create_parser": each(t.create_parser),
            "create_decoder": each(t.create_decoder),
            "reuse_decoder": each(t.reuse_decoder),
            "creation_barrier": each(t.creation_barrier),
            "alloc": each(t.alloc),
            "destroy_parser": each(t.destroy_parser),
            "destroy_decoder": each(t.destroy_decoder),
            "close": each(t.close),
        })
    };
    let report = json!({
        "tool": "video-hw",
        "mode": "run",
        "version": env!("CARGO_PKG_VERSION"),
        "backend": results.iter().find(|r| !r.backend.is_empty()).map(|r| r.backend.clone()),
        "sessions_per_backend": sessions_per_backend(results.iter().map(|r| r.backend.as_str())),
        "nvdec": nvdec,
        "inputs": inputs.iter().map(|i| i.facts.clone()).collect::<Vec<_>>(),
        "streams": n,
        "sessions": decode_sessions,
        "segmented": segment_facts.into_inner().unwrap_or_else(|p| p.into_inner()),
        "repeat_input": a.repeat_input,
        "loop": if a.flush_each_pass { "flush-each-pass" } else { "continuous" },
        "chunk": a.chunk,
        "device": a.device,
        "output": output_name(a.output),
        "max_frames": a.max_frames,
        "frames_total": frames,
        "frames_per_session": results.iter().map(|r| r.frames).collect::<Vec<_>>(),
        "expected_frames_per_session": expected,
        "frames_ok": frames_ok,
        "wall_s": round3(secs),
        "fps": if secs > 0.0 { round3(frames as f64 / secs) } else { 0.0 },
        "closes_done_s": closed.map(|d| round3(d.as_secs_f64())),
        "session_fps": session_fps,
        "ttff_ms_median": median(&ttff_ms).map(round3),
        "ttff_ms_max": ttff_ms.iter().copied().reduce(f64::max).map(round3),
        "open_ms_median": median(&open_ms).map(round3),
        "open_ms_max": open_ms.iter().copied().reduce(f64::max).map(round3),
        "cpu_s": cpu_s.map(round3),
        "cpu_ms_per_frame": cpu_s.filter(|_| frames > 0).map(|c| round3(c * 1e3 / frames as f64)),
        // The same without destroying the decoders the sessions parked for reuse (which
        // `cpu_ms_per_frame` counts: the benchmark releases them to read the memory left).
        "cpu_ms_per_frame_before_parked_release": cpu_before_parked_release_s
            .filter(|_| frames > 0)
            .map(|c| round3(c * 1e3 / frames as f64)),
        "max_rss_kib": cpu1.map(|c| c.1),
        "mem_per_session_mib": mem_per_session.map(round3),
        "mem_free_after_mib": free_after.map(mib),
        "mem_free_min_mib": min_free.map(mib),
        "bitstream_errors": results.iter().map(|r| r.bitstream_errors).sum::<u64>(),
        "first_bitstream_error": results.iter().find_map(|r| r.first_error.clone()),
        "driver_calls": driver_calls,
        "cpu_split": cpu_split,
        "startup": startup,
        "errors": fatal,
        "ok": ok,
    });
    if !a.quiet {
        eprintln!(
            "nvdec_bench: {n} session(s) x {} pass(es) of {}: {frames} frames in {secs:.3} s = {:.1} fps; ttff median {} ms; cpu {} ms/frame; mem/session {} MiB; {}",
            a.repeat_input,
            inputs.iter().map(|i| i.path.display().to_string()).collect::<Vec<_>>().join(", "),
            frames as f64 / secs.max(1e-9),
            median(&ttff_ms).map_or("-".into(), |v| format!("{v:.1}")),
            report["cpu_ms_per_frame"],
            report["mem_per_session_mib"],
            if ok { "ok".to_string() } else { format!("NOT OK (frames_ok {frames_ok}, {} fatal)", report["errors"]) },
        );
        if let Some(split) = report["cpu_split"].as_object() {
            for (group, values) in split {
                let parts: Vec<String> =
                    values.as_object().into_iter().flatten().map(|(k, v)| format!("{k} {v}")).collect();
                eprintln!("nvdec_bench: cpu split, {group}: {}", parts.join(", "));
            }
        }
    }
    Ok((report, ok))
}

/// Where the run's CPU went (`--cpu-split`), from the call counters' CPU side and the
/// session threads' CPU clocks, read before and after the timed part. Per frame (µs): NVIDIA's
/// parser (the parse call less the calls its callbacks make — decode, map, copy-out, unmap,
/// status, decoder creation — so our callbacks' bookkeeping, a parked decoder's reuse and the
/// split's own clock reads of those calls count here), those calls, the rest of the session
/// threads (our bitstream layer, the frame hand-off, the session's open and close), and the
/// process's other threads less the one-time steps that ran there (the driver's own threads,
/// the closer). One-time steps (ms): `cuInit`, the primary context and `cuvidGetDecoderCaps`
/// (on the engine probe's thread; a context of a session's own, `VIDEO_HW_NVDEC_CONTEXT=own`,
/// on the session's thread), decoder creations (in the parse call) and destroys (on the closer
/// thread, or the main thread releasing parked decoders). A 10-bit stream's caps query and a
/// decoder replaced at a format change run inside the parse call: such runs overstate
/// `parser` and understate `other_threads` by them. The process CPU has 10 ms resolution.
fn cpu_split(
    results: &[SessionResult],
    calls: &(video_hw::diagnostics::NvdecCallTimes, video_hw::diagnostics::NvdecCallTimes),
    setup: &(video_hw::diagnostics::NvdecSetupTimes, video_hw::diagnostics::NvdecSetupTimes),
    process_cpu_s: Option<f64>,
    frames: u64,
) -> Value {
    use video_hw::diagnostics::{CallTime, NvdecCallTimes, NvdecSetupTimes};
    let per_frame = |d: Duration| us_each(d, frames);
    let ms = |d: Duration| round3(d.as_secs_f64() * 1e3);
    let cpu = |f: fn(&NvdecCallTimes) -> CallTime| f(&calls.1).cpu.saturating_sub(f(&calls.0).cpu);
    let once = |f: fn(&NvdecSetupTimes) -> CallTime| f(&setup.1).cpu.saturating_sub(f(&setup.0).cpu);
    let cuda_init =
        if setup.0.cuda_init.is_none() { setup.1.cuda_init_cpu.unwrap_or_default() } else { Duration::ZERO };
    let (context, caps) = (once(|t| t.context), once(|t| t.decoder_caps));
    let (created, destroyed) = (once(|t| t.create_decoder), once(|t| t.destroy_decoder));
    let parse = cpu(|t| t.parse);
    let (decode, map, copy, copy_wait) =
        (cpu(|t| t.decode_picture), cpu(|t| t.map), cpu(|t| t.copy), cpu(|t| t.copy_wait));
    let (unmap, status) = (cpu(|t| t.unmap), cpu(|t| t.decode_status));
    let parser_only = parse.saturating_sub(decode + map + copy + unmap + status + created);
    let sessions: Option<Duration> = results.iter().map(|r| r.cpu).sum();
    let session_other = sessions.map(|s| s.saturating_sub(parse));
    // Contexts of the sessions' own are made on their threads, not the probe's.
    let off_session_context =
        if std::env::var("VIDEO_HW_NVDEC_CONTEXT").as_deref() == Ok("own") { Duration::ZERO } else { context };
    let off_session_steps = cuda_init + off_session_context + caps + destroyed;
    let other_threads = sessions.zip(process_cpu_s).map(|(s, p)| {
        Duration::try_from_secs_f64(p.max(0.0)).unwrap_or_default().saturating_sub(s + off_session_steps)
    });
    json!({
        "us_per_frame": {
            "parser": per_frame(parser_only),
            "decode_picture": per_frame(decode),
            "map": per_frame(map),
            "copy_out": per_frame(copy),
            "of_which_copy_wait": per_frame(copy_wait),
            "unmap": per_frame(unmap),
            "decode_status": per_frame(status),
            "session_other": session_other.map(per_frame),
            "other_threads": other_threads.map(per_frame),
            "session_threads": sessions.map(per_frame),
        },
        "live_threads_ms": live_thread_cpu_ms(),
        "one_time_ms": {
            "cuda_init": ms(cuda_init),
            "contexts": ms(context),
            "decoder_caps": ms(caps),
            "decoder_creations": ms(created),
            "decoder_destroys": ms(destroyed),
        },
    })
}

/// CPU of this process's threads still alive (the driver's own among them), in ms since
/// each started, by thread name, those over 5 ms (Linux: /proc/self/task; 10 ms ticks).
fn live_thread_cpu_ms() -> Value {
    let mut by_name = serde_json::Map::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default().trim().to_string();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if let Some((cpu_s, _)) = parse_proc_cpu(&stat, "") {
            let ms = by_name.get(&name).and_then(Value::as_f64).unwrap_or(0.0) + cpu_s * 1e3;
            by_name.insert(name, json!(round3(ms)));
        }
    }
    by_name.retain(|_, v| v.as_f64().is_some_and(|ms| ms > 5.0));
    Value::Object(by_name)
}

// ---------------------------------------------------------------------------------------
// soak
// ---------------------------------------------------------------------------------------

/// Chunk sizes a soak pass picks from (exercise splits anywhere, small and large).
const SOAK_CHUNKS: [usize; 4] = [4093, 65536, 262_144, 1 << 20];

#[derive(Debug, Default)]
struct SoakSession {
    corrupt: bool,
    opens: u64,
    passes_checked: u64,
    passes_mismatched: u64,
    /// The first few mismatches, described.
    mismatches: Vec<String>,
    interrupted: u64,
    frames: u64,
    bitstream_errors: u64,
    /// NAL or access units the decoder dropped as damaged, and pictures NVDEC concealed
    /// (`DecoderStats`), summed over the session's lives.
    dropped_units: u64,
    concealed: u64,
    /// Errors other than damaged input (for the corrupt session: reopened after them).
    other_errors: Vec<String>,
    other_error_count: u64,
}

impl SoakSession {
    /// Counts an error, keeping the first few messages.
    fn note(&mut self, e: String) {
        self.other_error_count += 1;
        if self.other_errors.len() < 8 {
            self.other_errors.push(e);
        }
    }
}

struct SoakShared {
    deadline: Instant,
    passes: AtomicU64,
    restarts: AtomicU64,
    frames: AtomicU64,
}

fn soak_session(a: &Args, idx: usize, input: &InputFile, data: &[u8], corrupt: bool, sh: &SoakShared) -> SoakSession {
    let mut rng = XorShift::new(a.seed.wrapping_mul(1_000_003).wrapping_add(idx as u64));
    let mut st = SoakSession { corrupt, ..Default::default() };
    let expected = input.frames;
    'life: while Instant::now() < sh.deadline {
        let mut dec = match Decoder::open(a.config(input.codec)) {
            Ok(d) => d,
            Err(e) => {
                st.note(format!("open: {e}"));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        st.opens += 1;
        let mut out_of_time = false;
        // One life of the session; every way out ends here, so the decoder's own counters
        // are added up once.
        'body: {
            let chunk = SOAK_CHUNKS[rng.below(SOAK_CHUNKS.len() as u64) as usize];
            let chunks_per_pass = data.len().div_ceil(chunk) as u64;
            // Half the lives end at a random chunk (mid-pass, usually); the others after 1..=4
            // whole passes.
            let restart_at = rng.chance(1, 2).then(|| rng.range(1, 2 * chunks_per_pass));
            let passes = rng.range(1, 4);
            let mut submitted = 0u64;
            for _ in 0..passes {
                let mut frames = 0u64;
                for piece in data.chunks(chunk) {
                    if Instant::now() >= sh.deadline {
                        out_of_time = true;
                        break 'body;
                    }
                    match dec.submit(Input::annexb(piece, None)) {
                        Ok(()) => {}
                        Err(e @ Error::InvalidBitstream { .. }) => {
                            st.bitstream_errors += 1;
                            if !corrupt {
                                st.note(format!("clean stream reported {e}"));
                            }
                        }
                        Err(e) => {
                            st.note(format!("submit: {e}"));
                            break 'body;
                        }
                    }
                    loop {
                        match dec.try_reap() {
                            Ok(Some(f)) => {
                                frames += 1;
                                drop(f);
                            }
                            Ok(None) => break,
                            Err(e) => {
                                st.note(format!("reap: {e}"));
                                break 'body;
                            }
                        }
                    }
                    submitted += 1;
                    if restart_at == Some(submitted) {
                        st.interrupted += 1;
                        st.frames += frames;
                        break 'body; // drops the session mid-pass
                    }
                }
                match dec.flush() {
                    Ok(rest) => frames += rest.len() as u64,
                    Err(e @ Error::InvalidBitstream { .. }) => {
                        st.bitstream_errors += 1;
                        if !corrupt {
                            st.note(format!("clean stream reported {e} at flush"));
                        }
                    }
                    Err(e) => {
                        st.note(format!("flush: {e}"));
                        break 'body;
                    }
                }
                st.frames += frames;
                sh.frames.fetch_add(frames, Ordering::Relaxed);
                sh.passes.fetch_add(1, Ordering::Relaxed);
                if !corrupt {
                    st.passes_checked += 1;
                    if frames != expected {
                        st.passes_mismatched += 1;
                        if st.mismatches.len() < 8 {
                            st.mismatches.push(format!("{chunk}-byte chunks: {frames} frames, expected {expected}"));
                        }
                    }
                }
            }
        }
        let stats = dec.stats();
        st.dropped_units += stats.dropped;
        st.concealed += stats.concealed;
        if out_of_time {
            break 'life;
        }
        // Every other way out (error, planned restart, passes done) reopens the session.
        sh.restarts.fetch_add(1, Ordering::Relaxed);
    }
    st
}

fn soak(a: &Args) -> Result<(Value, bool), String> {
    let inputs: Vec<InputFile> = a.inputs.iter().map(|p| load_input(p)).collect::<Result<_, _>>()?;
    let n = a.streams();
    let corrupt_idx = a.corrupt_session();
    let corrupt_input = corrupt_idx.map(|c| &inputs[c % inputs.len()]);
    let (corrupted, flips) = corrupt_input.map_or((Vec::new(), 0), |i| corrupt_copy(&i.data, a.seed, a.corrupt_every));
    let mut failures: Vec<String> = Vec::new();

    // Warm-up: one clean pass of each input (creates the context and the driver's pools),
    // which must give the frame count the headers promise.
    let mut warm = Vec::new();
    for input in &inputs {
        let one = Args { repeat_input: 1, max_frames: 0, ..a.clone() };
        let r = run_session(&one, input, &Barrier::new(1), 0);
        if let Some(f) = &r.fatal {
            failures.push(format!("warm-up {}: {f}", input.path.display()));
        } else if r.frames != input.frames {
            failures.push(format!(
                "warm-up {}: {} frames decoded, headers say {}",
                input.path.display(),
                r.frames,
                input.frames
            ));
        }
        warm.push(json!({"input": input.path.display().to_string(), "frames": r.frames, "expected": input.frames,
                         "wall_s": round3(r.wall.as_secs_f64())}));
    }
    let keeper = Decoder::open(a.config(inputs[0].codec)).map_err(|e| format!("keeper session: {e}"))?;
    // Device memory is checked only on NVDEC (other engines run here for tests, without a GPU).
    let on_gpu = a.engine == EnginePreference::Only(Engine::Nvdec);
    let mem = |what: &str| -> Result<Option<u64>, String> {
        if !on_gpu {
            return Ok(None);
        }
        video_hw::diagnostics::gpu_memory(a.device).map(|m| Some(m.0)).map_err(|e| format!("{what}: {e}"))
    };
    if !settle_nvdec() {
        failures.push("the warm-up sessions were not destroyed in time".into());
    }
    let sessions_start = video_hw::diagnostics::nvdec_sessions();
    let free_start = mem("device memory at start");
    if !a.quiet {
        eprintln!(
            "nvdec_bench soak: {n} sessions for {:.0} s, seed {}, corrupt session {:?} ({flips} bit flips); NVDEC sessions {sessions_start}, free {} MiB at start",
            a.duration.as_secs_f64(),
            a.seed,
            corrupt_idx,
            free_start.clone().ok().flatten().map_or(f64::NAN, mib)
        );
    }

    let started = Instant::now();
    let sh = SoakShared {
        deadline: started + a.duration,
        passes: AtomicU64::new(0),
        restarts: AtomicU64::new(0),
        frames: AtomicU64::new(0),
    };
    let stop = AtomicBool::new(false);
    let peak = Mutex::new((0usize, u64::MAX));
    let sessions: Vec<SoakSession> = std::thread::scope(|s| {
        let monitor = s.spawn(|| {
            let mut last_print = Instant::now();
            while !stop.load(Ordering::SeqCst) {
                let live = video_hw::diagnostics::nvdec_sessions();
                let free = if on_gpu {
                    video_hw::diagnostics::gpu_memory(a.device).map(|m| m.0).unwrap_or(u64::MAX)
                } else {
                    u64::MAX
                };
                {
                    let mut p = peak.lock().unwrap_or_else(|e| e.into_inner());
                    p.0 = p.0.max(live);
                    p.1 = p.1.min(free);
                }
                if !a.quiet && last_print.elapsed() >= Duration::from_secs(15) {
                    last_print = Instant::now();
                    eprintln!(
                        "  {:>5.0} s: {} passes, {} restarts, {} frames; NVDEC sessions {live}, free {} MiB",
                        started.elapsed().as_secs_f64(),
                        sh.passes.load(Ordering::Relaxed),
                        sh.restarts.load(Ordering::Relaxed),
                        sh.frames.load(Ordering::Relaxed),
                        mib(free)
                    );
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let input = &inputs[i % inputs.len()];
                let is_corrupt = corrupt_idx == Some(i);
                let data: &[u8] = if is_corrupt { &corrupted } else { &input.data };
                let sh = &sh;
                std::thread::Builder::new()
                    .name(format!("soak-{i}"))
                    .spawn_scoped(s, move || soak_session(a, i, input, data, is_corrupt, sh))
                    .expect("spawn soak thread")
            })
            .collect();
        let out = handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                h.join().unwrap_or_else(|_| SoakSession {
                    corrupt: corrupt_idx == Some(i),
                    other_errors: vec!["thread panicked".into()],
                    other_error_count: 1,
                    ..Default::default()
                })
            })
            .collect();
        stop.store(true, Ordering::SeqCst);
        let _ = monitor.join();
        out
    });
    let elapsed = started.elapsed();
    if !settle_nvdec() {
        failures.push("the soak's sessions were not destroyed in time".into());
    }
    let sessions_end = video_hw::diagnostics::nvdec_sessions();
    let free_end = mem("device memory at end");
    drop(keeper);
    let (sessions_peak, free_min) = *peak.lock().unwrap_or_else(|e| e.into_inner());

    if elapsed + Duration::from_millis(500) < a.duration {
        failures.push(format!("ran {:.1} s, asked {:.1} s", elapsed.as_secs_f64(), a.duration.as_secs_f64()));
    }
    for (i, st) in sessions.iter().enumerate() {
        if st.corrupt {
            if st.other_errors.iter().any(|e| e.contains("panicked")) {
                failures.push(format!("session {i} (corrupt): thread panicked"));
            }
            continue;
        }
        if st.passes_checked == 0 {
            failures.push(format!("session {i}: no complete pass to check"));
        }
        if st.passes_mismatched > 0 {
            failures.push(format!(
                "session {i}: {} of {} passes with a wrong frame count: {:?}",
                st.passes_mismatched, st.passes_checked, st.mismatches
            ));
        }
        if st.other_error_count > 0 {
            failures.push(format!("session {i}: {} errors: {:?}", st.other_error_count, st.other_errors));
        }
        // The corrupt stream must not disturb the clean ones: nothing dropped or concealed.
        if st.dropped_units > 0 || st.concealed > 0 {
            failures.push(format!(
                "session {i} (clean): {} units dropped as damaged, {} pictures concealed",
                st.dropped_units, st.concealed
            ));
        }
    }
    if sessions_end != sessions_start {
        failures.push(format!("NVDEC sessions {sessions_start} at start, {sessions_end} at end"));
    }
    match (&free_start, &free_end) {
        (Ok(Some(s)), Ok(Some(e))) if e + a.mem_tolerance < *s => failures.push(format!(
            "free device memory {} MiB at start, {} MiB at end (tolerance {} MiB)",
            mib(*s),
            mib(*e),
            mib(a.mem_tolerance)
        )),
        (Err(e), _) | (_, Err(e)) => failures.push(e.clone()),
        _ => {}
    }
    let pass = failures.is_empty();
    let corrupt_stats = sessions.iter().enumerate().find(|(_, s)| s.corrupt).map(|(i, s)| {
        json!({"session": i, "input": inputs[i % inputs.len()].path.display().to_string(), "bit_flips": flips,
               "opens": s.opens, "frames": s.frames, "bitstream_errors": s.bitstream_errors,
               "dropped_units": s.dropped_units, "concealed": s.concealed,
               "other_errors": s.other_error_count, "first_other_errors": s.other_errors})
    });
    let report = json!({
        "tool": "video-hw",
        "mode": "soak",
        "pass": pass,
        "failures": failures,
        "streams": n,
        "duration_s": round3(elapsed.as_secs_f64()),
        "seed": a.seed,
        "output": output_name(a.output),
        "inputs": inputs.iter().map(|i| i.facts.clone()).collect::<Vec<_>>(),
        "warm_up": warm,
        "sessions_start": sessions_start,
        "sessions_end": sessions_end,
        "sessions_peak": sessions_peak,
        "free_start_mib": free_start.clone().ok().flatten().map(mib),
        "free_end_mib": free_end.clone().ok().flatten().map(mib),
        "free_min_mib": (free_min != u64::MAX).then(|| mib(free_min)),
        "mem_tolerance_mib": mib(a.mem_tolerance),
        "passes_checked": sessions.iter().filter(|s| !s.corrupt).map(|s| s.passes_checked).sum::<u64>(),
        "passes_mismatched": sessions.iter().map(|s| s.passes_mismatched).sum::<u64>(),
        "interrupted_passes": sessions.iter().map(|s| s.interrupted).sum::<u64>(),
        "opens": sessions.iter().map(|s| s.opens).sum::<u64>(),
        "frames": sessions.iter().map(|s| s.frames).sum::<u64>(),
        "corrupt": corrupt_stats,
        "decoders_created": video_hw::diagnostics::nvdec_setup_times().create_decoder.calls,
        "decoders_reused": video_hw::diagnostics::nvdec_setup_times().reuse_decoder.calls,
        "per_session": sessions.iter().map(|s| json!({"corrupt": s.corrupt, "opens": s.opens,
            "passes_checked": s.passes_checked, "interrupted": s.interrupted, "frames": s.frames,
            "bitstream_errors": s.bitstream_errors, "dropped_units": s.dropped_units, "concealed": s.concealed,
            "other_errors": s.other_error_count})).collect::<Vec<_>>(),
    });
    if !a.quiet {
        eprintln!(
            "nvdec_bench soak: {:.0} s, {} clean passes checked, {} restarts/reopens, NVDEC sessions {sessions_start} -> {sessions_end} (peak {sessions_peak}), free {} -> {} MiB (min {})",
            elapsed.as_secs_f64(),
            report["passes_checked"],
            report["opens"],
            report["free_start_mib"],
            report["free_end_mib"],
            report["free_min_mib"],
        );
        for f in &report["failures"].as_array().cloned().unwrap_or_default() {
            eprintln!("  FAIL {}", f.as_str().unwrap_or_default());
        }
        eprintln!("{}", if pass { "PASS" } else { "FAIL" });
    }
    Ok((report, pass))
}

// ---------------------------------------------------------------------------------------
// probe, cut
// ---------------------------------------------------------------------------------------

fn probe(a: &Args) -> Result<(Value, bool), String> {
    let facts: Vec<Value> = a.inputs.iter().map(|p| load_input(p).map(|i| i.facts)).collect::<Result<_, _>>()?;
    Ok((json!({"tool": "video-hw", "mode": "probe", "inputs": facts}), true))
}

/// Byte offsets (of the start code) where each keyframe access unit starts.
fn keyframe_offsets(data: &[u8], codec: Codec) -> Result<Vec<usize>, String> {
    let mut asm = AccessUnitAssembler::new(codec).map_err(|e| e.to_string())?.collect_data(false);
    let mut out = Vec::new();
    let mut take = |asm: &mut AccessUnitAssembler| {
        while let Some(item) = asm.pop() {
            if let Ok(au) = item {
                if au.is_keyframe() {
                    out.push(start_code_before(data, au.offset as usize));
                }
            }
        }
    };
    for piece in data.chunks(4 << 20) {
        asm.push_annexb(piece, None);
        take(&mut asm);
    }
    asm.finish();
    take(&mut asm);
    Ok(out)
}

/// Moves `offset` (first byte of a NAL unit) back over its start code.
fn start_code_before(data: &[u8], offset: usize) -> usize {
    let offset = offset.min(data.len());
    if offset >= 4 && data[offset - 4..offset] == [0, 0, 0, 1] {
        offset - 4
    } else if offset >= 3 && data[offset - 3..offset] == [0, 0, 1] {
        offset - 3
    } else {
        offset
    }
}

/// Where to cut to keep whole GOPs: before the `gops`-th keyframe after the first, and
/// (with `max_bytes`) at the last keyframe that keeps the output within it — but always
/// at least one GOP. `None` when the stream has a single GOP (nothing to cut).
fn cut_point(keyframes: &[usize], len: usize, gops: Option<usize>, max_bytes: Option<usize>) -> Option<usize> {
    let starts: Vec<usize> = keyframes.iter().copied().filter(|&k| k > 0 && k < len).collect();
    let mut cut = len;
    if let Some(g) = gops {
        if let Some(&k) = starts.get(g.max(1) - 1) {
            cut = k;
        }
    }
    if let Some(max) = max_bytes {
        if cut > max {
            cut = starts.iter().copied().rfind(|&k| k <= max).or(starts.first().copied()).unwrap_or(len);
        }
    }
    (cut < len).then_some(cut)
}

fn cut(a: &Args) -> Result<(Value, bool), String> {
    let input = load_input(&a.inputs[0])?;
    let keys = keyframe_offsets(&input.data, input.codec)?;
    let at = cut_point(&keys, input.data.len(), a.gops, a.max_bytes).unwrap_or(input.data.len());
    let out = a.out.as_ref().expect("checked in parse_args");
    std::fs::write(out, &input.data[..at]).map_err(|e| format!("{}: {e}", out.display()))?;
    let written = load_input(out)?;
    Ok((json!({"tool": "video-hw", "mode": "cut", "from": input.facts, "to": written.facts}), true))
}

// ---------------------------------------------------------------------------------------

fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("nvdec_bench: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let result = match args.mode {
        Mode::Run => run(&args),
        Mode::Soak => soak(&args),
        Mode::Probe => probe(&args),
        Mode::Cut => cut(&args),
    };
    match result {
        Ok((report, ok)) => {
            println!("{report}");
            if !ok {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("nvdec_bench: {e}");
            println!("{}", json!({"tool": "video-hw", "ok": false, "pass": false, "errors": [e]}));
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_run_options() {
        let a = args("--input a.h265 --streams 7 --repeat-input 10 --chunk 1m --device 1 --output host-nv12").unwrap();
        assert_eq!(a.mode, Mode::Run);
        assert_eq!(a.inputs, vec![PathBuf::from("a.h265")]);
        assert_eq!((a.streams(), a.repeat_input, a.chunk, a.device), (7, 10, 1 << 20, 1));
        assert_eq!(a.output, Output::HOST_NV12);
        assert_eq!(a.engine, EnginePreference::Only(Engine::Nvdec));
        let d = args("x.h264").unwrap();
        assert_eq!((d.streams(), d.repeat_input, d.chunk, d.output), (1, 1, 65536, Output::CUDA_NV12));
        assert!(d.measure_mem && !d.flush_each_pass);
    }

    #[test]
    fn cpu_split_takes_the_callbacks_calls_out_of_the_parser_and_startup_out_of_other_threads() {
        use video_hw::diagnostics::{CallTime, NvdecCallTimes, NvdecSetupTimes};
        let ms = Duration::from_millis;
        let cpu = |m: u64| CallTime { calls: 1, total: ms(m), cpu: ms(m), ..CallTime::default() };
        let after = NvdecCallTimes {
            parse: cpu(500),
            decode_picture: cpu(100),
            map: cpu(80),
            copy: cpu(90),
            lent: CallTime::default(),
            copy_wait: cpu(30),
            unmap: cpu(5),
            decode_status: cpu(5),
        };
        let setup1 = NvdecSetupTimes {
            cuda_init: Some(ms(100)),
            cuda_init_cpu: Some(ms(100)),
            context: cpu(100),
            create_decoder: cpu(40),
            destroy_decoder: cpu(20),
            ..NvdecSetupTimes::default()
        };
        let session = SessionResult { cpu: Some(ms(600)), ..SessionResult::default() };
        // 1,000 frames; the process used 900 ms, the session thread 600 ms of it.
        let split = cpu_split(
            &[session],
            &(NvdecCallTimes::default(), after),
            &(NvdecSetupTimes::default(), setup1),
            Some(0.9),
            1000,
        );
        let per_frame = &split["us_per_frame"];
        // 500 - (100 + 80 + 90 + 5 + 5 + 40 created in the sequence callback) = 180 ms.
        assert_eq!(per_frame["parser"], json!(180.0));
        assert_eq!(per_frame["session_other"], json!(100.0));
        // 900 - 600 - (100 cuInit + 100 context + 20 destroy) = 80 ms.
        assert_eq!(per_frame["other_threads"], json!(80.0));
        assert_eq!(split["one_time_ms"]["cuda_init"], json!(100.0));
        // A warm run: cuInit was before the clock, so it is not this run's; a session
        // without a CPU reading (segmented) leaves the session figures out.
        let warm = cpu_split(&[SessionResult::default()], &(after, after), &(setup1, setup1), None, 1000);
        assert_eq!(warm["one_time_ms"]["cuda_init"], json!(0.0));
        assert_eq!(warm["us_per_frame"]["session_other"], Value::Null);
    }

    #[test]
    fn parses_modes_and_soak_defaults() {
        let s = args("--only soak --input a.h265 --input b.h264 --duration 130 --seed 7").unwrap();
        assert_eq!(s.mode, Mode::Soak);
        assert_eq!((s.streams(), s.corrupt_session(), s.seed), (14, Some(13), 7));
        assert_eq!(s.duration, Duration::from_secs(130));
        assert_eq!(args("soak a.h265 --corrupt none").unwrap().corrupt_session(), None);
        assert_eq!(args("soak a.h265 --corrupt 3").unwrap().corrupt_session(), Some(3));
        assert_eq!(args("probe a.h265 b.h264").unwrap().inputs.len(), 2);
        let c = args("cut a.h264 --out b.h264 --gops 2 --max-bytes 12m").unwrap();
        assert_eq!((c.mode, c.gops, c.max_bytes), (Mode::Cut, Some(2), Some(12 << 20)));
        // a file named like a mode is an input when it is not the first argument
        assert_eq!(args("--input a.h264 soak").unwrap().inputs.len(), 2);
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            "",
            "--streams 0 a.h264",
            "--streams x a.h264",
            "--chunk 0 a.h264",
            "--chunk 12q a.h264",
            "--output rgb a.h264",
            "--engine nonesuch a.h264",
            "--bogus a.h264",
            "--repeat-input 0 a.h264",
            "cut a.h264",
            "soak a.h264 --corrupt 14",
            "soak a.h264 --streams 1",
            "--duration -3 a.h264",
            "--input",
        ] {
            assert!(args(bad).is_err(), "accepted: {bad:?}");
        }
        assert_eq!(args("--help"), Err(String::new()));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64k"), Ok(65536));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert!(parse_size("k").is_err() && parse_size("0").is_err() && parse_size("-1").is_err());
    }

    #[test]
    fn output_names_round_trip() {
        for o in [Output::CUDA_NV12, Output::HOST_NV12, Output::HOST_YUV420P, Output::Metadata] {
            assert_eq!(parse_output(&output_name(o)), Ok(o), "{}", output_name(o));
        }
    }

    #[test]
    fn stats() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
    }

    #[test]
    fn proc_cpu_parsing() {
        let stat = "4242 (nvdec (bench)) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 16 0 100 0 0";
        assert_eq!(parse_proc_cpu(stat, "Name:\tx\nVmHWM:\t  123456 kB\n"), Some((3.75, 123_456)));
        assert_eq!(parse_proc_cpu("garbage", ""), None);
        if cfg!(target_os = "linux") {
            let (cpu, rss) = process_cpu().unwrap();
            assert!(cpu >= 0.0 && rss > 0);
        }
    }

    #[test]
    fn sessions_are_counted_per_backend_and_the_spread_flag_parses() {
        let counts = sessions_per_backend(["nvdec (GPU 0: a)", "", "nvdec (GPU 1: a)", "nvdec (GPU 0: a)"].into_iter());
        assert_eq!(counts.get("nvdec (GPU 0: a)"), Some(&2));
        assert_eq!(counts.get("nvdec (GPU 1: a)"), Some(&1));
        assert_eq!(counts.len(), 2);
        assert!(args("--input a.h265 --spread-over-gpus").unwrap().spread_over_gpus);
        assert!(!args("--input a.h265").unwrap().spread_over_gpus);
    }

    #[test]
    fn xorshift_is_seeded_and_spread() {
        let a: Vec<u64> = {
            let mut r = XorShift::new(1);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let mut r = XorShift::new(1);
        assert_eq!(a, (0..5).map(|_| r.next_u64()).collect::<Vec<_>>());
        let mut r2 = XorShift::new(2);
        assert_ne!(a[0], r2.next_u64());
        let mut r = XorShift::new(0);
        let mut hist = [0u32; 10];
        for _ in 0..10_000 {
            let x = r.range(3, 12);
            assert!((3..=12).contains(&x));
            hist[(x - 3) as usize] += 1;
        }
        assert!(hist.iter().all(|&h| (800..1200).contains(&h)), "{hist:?}");
    }

    #[test]
    fn corrupt_copy_flips_about_every_n_bytes() {
        let data = vec![0u8; 100_000];
        let (c, flips) = corrupt_copy(&data, 5, 1000);
        assert_eq!(c.len(), data.len());
        let changed = c.iter().filter(|&&b| b != 0).count();
        assert_eq!(changed, flips);
        assert!((80..=125).contains(&flips), "{flips} flips");
        assert!(c.iter().all(|b| b.count_ones() <= 1));
        assert_eq!(corrupt_copy(&data, 5, 1000).0, c, "deterministic");
    }

    #[test]
    fn cut_points() {
        let keys = [0, 1000, 2000, 3000];
        assert_eq!(cut_point(&keys, 4000, Some(1), None), Some(1000));
        assert_eq!(cut_point(&keys, 4000, Some(3), None), Some(3000));
        assert_eq!(cut_point(&keys, 4000, Some(9), None), None);
        assert_eq!(cut_point(&keys, 4000, None, Some(2500)), Some(2000));
        assert_eq!(cut_point(&keys, 4000, None, Some(500)), Some(1000), "at least one GOP");
        assert_eq!(cut_point(&keys, 4000, Some(3), Some(2500)), Some(2000));
        assert_eq!(cut_point(&keys, 4000, None, Some(9000)), None);
        assert_eq!(cut_point(&[0], 4000, Some(1), Some(10)), None);
        assert_eq!(start_code_before(&[9, 0, 0, 0, 1, 0x65], 5), 1);
        assert_eq!(start_code_before(&[9, 9, 0, 0, 1, 0x65], 5), 2);
        assert_eq!(start_code_before(&[9, 9, 9, 9, 9, 0x65], 5), 5);
    }

    /// The project's own fixtures: probe, cut at a GOP boundary, and a throughput run on
    /// the software engine (no GPU) give consistent frame counts.
    #[test]
    fn fixture_probe_cut_and_software_run() {
        let path = fixture();
        let input = load_input(&path).unwrap();
        assert!(input.frames > 0 && input.facts["width"] == 320, "{}", input.facts);
        let keys = keyframe_offsets(&input.data, input.codec).unwrap();
        assert!(keys.len() >= 2 && keys[0] == 0, "{keys:?}");
        let tmp = std::env::temp_dir().join(format!("nvdec_bench_cut_{}.h264", std::process::id()));
        let a = Args {
            mode: Mode::Cut,
            inputs: vec![path.clone()],
            out: Some(tmp.clone()),
            gops: Some(1),
            ..Args::default()
        };
        let (report, ok) = cut(&a).unwrap();
        assert!(ok);
        let cut_frames = report["to"]["frames"].as_u64().unwrap();
        assert!(cut_frames > 0 && cut_frames < input.frames, "{report}");
        assert_eq!(std::fs::metadata(&tmp).unwrap().len() as usize, keys[1]);

        // Two sessions, two continuous passes of the cut on OpenH264, host output.
        let a = Args {
            inputs: vec![tmp.clone()],
            streams: Some(2),
            repeat_input: 2,
            chunk: 4096,
            output: Output::HOST_NV12,
            engine: EnginePreference::Only(Engine::OpenH264),
            measure_mem: false,
            quiet: true,
            ..Args::default()
        };
        let (r, ok) = run(&a).unwrap();
        assert!(ok, "{r}");
        assert_eq!(r["frames_total"].as_u64(), Some(4 * cut_frames));
        assert!(r["fps"].as_f64().unwrap() > 0.0 && r["ttff_ms_median"].as_f64().is_some());
        // Flushed passes give the same count; max-frames stops early.
        let (r, ok) = run(&Args { flush_each_pass: true, ..a.clone() }).unwrap();
        assert!(ok && r["frames_total"].as_u64() == Some(4 * cut_frames), "{r}");
        let (r, ok) = run(&Args { max_frames: 1, ..a.clone() }).unwrap();
        assert!(ok && r["frames_total"].as_u64() == Some(2), "{r}");
        let _ = std::fs::remove_file(&tmp);
    }

    /// An H.264 fixture with an IDR every 12 frames that OpenH264 decodes.
    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/h264/gop12-idr-cars-320x240.h264")
    }

    /// The soak's bookkeeping on the software engine: short, three sessions, one corrupt.
    #[test]
    fn soak_on_software_engine() {
        let a = Args {
            mode: Mode::Soak,
            inputs: vec![fixture()],
            streams: Some(3),
            duration: Duration::from_millis(1500),
            output: Output::HOST_NV12,
            engine: EnginePreference::Only(Engine::OpenH264),
            corrupt_every: 300,
            quiet: true,
            ..Args::default()
        };
        let (r, pass) = soak(&a).unwrap();
        // Known bug in the OpenH264 backend, not in the soak: a third stream after two
        // flushes in one session fails with dsOutOfMemory (`nvdec_bench --engine openh264
        // --output host-nv12 --repeat-input 3 --flush-each-pass FILE` shows it). Tolerated
        // here so that the soak's bookkeeping is still tested; no other failure is.
        let known = |f: &Value| f.as_str().is_some_and(|s| s.contains("errors: [") && !s.contains("passes with"));
        let failures = r["failures"].as_array().unwrap();
        assert!(pass || failures.iter().all(|f| known(f) && f.to_string().contains("dsOutOfMemory")), "{r:#}");
        assert!(r["passes_checked"].as_u64().unwrap() >= 2, "{r:#}");
        assert_eq!(r["passes_mismatched"].as_u64(), Some(0));
        assert_eq!(r["corrupt"]["session"].as_u64(), Some(2));
        assert!(r["corrupt"]["bit_flips"].as_u64().unwrap() > 10, "{r:#}");
    }
}
