//! Command-line arguments: the modes and options, parsed by hand (no dependency).

use std::path::PathBuf;
use std::time::Duration;

use video_hw::{Codec, DecoderConfig, Engine, EnginePreference, Error, Output, PixelFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
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
pub(crate) struct Args {
    pub(crate) mode: Mode,
    pub(crate) inputs: Vec<PathBuf>,
    pub(crate) streams: Option<usize>,
    pub(crate) repeat_input: u32,
    pub(crate) chunk: usize,
    pub(crate) device: u32,
    pub(crate) spread_over_gpus: bool,
    pub(crate) output: Output,
    pub(crate) engine: EnginePreference,
    pub(crate) max_frames: u64,
    pub(crate) flush_each_pass: bool,
    pub(crate) low_latency: bool,
    pub(crate) display_delay: Option<u32>,
    pub(crate) warm: bool,
    /// The warm-up session also decodes the input's first pass and flushes (its decoder
    /// object is then parked and reused by the timed session).
    pub(crate) warm_decode: bool,
    /// The warm-up sessions of `warm_decode` run at once, each on its thread (their
    /// decoders are then created while the others decode), instead of one after another.
    pub(crate) warm_parallel: bool,
    pub(crate) cpu_split: bool,
    pub(crate) stagger_ms: u64,
    /// Sessions of a `SegmentedDecode` instead of a session per stream.
    pub(crate) segmented: Option<usize>,
    pub(crate) min_segment: usize,
    pub(crate) unordered: bool,
    pub(crate) measure_mem: bool,
    pub(crate) duration: Duration,
    pub(crate) seed: u64,
    /// `None` = last session; `Some(None)` = no corrupt session.
    pub(crate) corrupt: Option<Option<usize>>,
    pub(crate) corrupt_every: usize,
    pub(crate) mem_tolerance: u64,
    pub(crate) out: Option<PathBuf>,
    pub(crate) gops: Option<usize>,
    pub(crate) max_bytes: Option<usize>,
    pub(crate) quiet: bool,
    /// `--resize WxH`: every frame through the ML transform (area resize, planar RGB
    /// float32 normalised as ImageNet models expect), on the GPU with CUDA output.
    pub(crate) resize: Option<(u32, u32)>,
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
            resize: None,
        }
    }
}

impl Args {
    pub(crate) fn streams(&self) -> usize {
        self.streams.unwrap_or(if self.mode == Mode::Soak { 14 } else { 1 })
    }

    /// Index of the corrupt soak session, if any.
    pub(crate) fn corrupt_session(&self) -> Option<usize> {
        match self.corrupt {
            None => Some(self.streams() - 1),
            Some(c) => c,
        }
    }

    pub(crate) fn config(&self, codec: Codec) -> DecoderConfig {
        let c = DecoderConfig::new(codec)
            .engine(self.engine)
            .output(self.output)
            .device_index(self.device)
            .spread_over_gpus(self.spread_over_gpus)
            .low_latency(self.low_latency);
        let c = match self.resize {
            Some((w, h)) => c.transform(
                video_hw::pixels::transform::Transform::new()
                    .resize(w, h)
                    .filter(video_hw::pixels::transform::Filter::Area)
                    .rgb(video_hw::Channels::Rgb, true, video_hw::SampleType::F32)
                    .normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            ),
            None => c,
        };
        match self.display_delay {
            Some(d) => c.max_display_delay(d),
            None => c,
        }
    }
}

/// How many sessions ran on each backend ("nvdec (GPU 1: ...)"): where `--spread-over-gpus`
/// put them.
pub(crate) fn sessions_per_backend<'a>(
    backends: impl Iterator<Item = &'a str>,
) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for b in backends.filter(|b| !b.is_empty()) {
        *counts.entry(b.to_string()).or_insert(0) += 1;
    }
    counts
}

/// How long to wait for dropped NVDEC sessions to be destroyed before a leak or memory reading.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(20);

/// Waits for the dropped sessions' closes and destroys the decoders parked for reuse, so
/// that sessions and device memory read as with nothing open; whether the closes finished.
pub(crate) fn settle_nvdec() -> bool {
    let closed = video_hw::diagnostics::wait_for_nvdec_closes(CLOSE_WAIT);
    video_hw::diagnostics::release_parked_nvdec_decoders();
    closed
}

/// `1234`, `64k`, `1m`, `2MiB` → bytes.
pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
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

pub(crate) fn parse_output(s: &str) -> Result<Output, String> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "cuda-nv12" | "cuda" | "device" => Output::CUDA_NV12,
        "host-nv12" | "host" => Output::HOST_NV12,
        "host-yuv420p" => Output::HOST_YUV420P,
        "metadata" | "none" => Output::Metadata,
        other => return Err(format!("unknown output '{other}' (cuda-nv12, host-nv12, host-yuv420p, metadata)")),
    })
}

pub(crate) fn output_name(o: Output) -> String {
    match o {
        Output::Metadata => "metadata".into(),
        Output::Device(_, f) => format!("cuda-{}", pixel_name(f)),
        Output::Host(f) => format!("host-{}", pixel_name(f)),
        // A kind of output this driver does not know: named as the library prints it.
        other => format!("{other:?}").to_lowercase(),
    }
}

pub(crate) fn pixel_name(f: PixelFormat) -> String {
    format!("{f}").to_ascii_lowercase()
}

pub(crate) fn parse_args<I: IntoIterator<Item = String>>(argv: I) -> Result<Args, String> {
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
            "--resize" => {
                let v = value(&arg)?;
                let (w, h) = v.split_once('x').ok_or_else(|| format!("--resize {v}: WxH"))?;
                let n = |s: &str| s.parse::<u32>().map_err(|_| format!("--resize {v}: WxH"));
                a.resize = Some((n(w)?, n(h)?));
            }
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
        if let Some(c) = a.corrupt_session()
            && c >= a.streams()
        {
            return Err(format!("--corrupt {c}: only {} sessions", a.streams()));
        }
        if a.corrupt_session().is_some() && a.streams() < 2 {
            return Err("soak with a corrupt session needs --streams >= 2".into());
        }
    }
    Ok(a)
}

pub(crate) const USAGE: &str = "\
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
