//! Configuration from the environment: every `VIDEO_HW_*` variable the library, the
//! `video-hw` command and the Python package's native module read at run time, read here
//! and nowhere else, each parsed once into a typed field of [`Settings`]
//! (docs/environment.md has the table).
//!
//! Rules for every variable:
//! - an empty value (or one of blanks) means unset: the default holds;
//! - a value that does not parse is not used: the default holds, and the first call of
//!   [`settings`] logs one WARN line per such variable naming it, its value and the
//!   default ([`Settings::problems`] lists them too);
//! - switches take `0`/`1` (also `false`/`true`, `off`/`on`, `no`/`yes`).
//!
//! The values are read once per process, at the first call of [`settings`]: a variable set
//! after that (by the program itself) changes nothing. Variables read by tests, benches and
//! build scripts only are not here; docs/environment.md lists them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// Where the FFmpeg engine looks for FFmpeg's libraries (`VIDEO_HW_FFMPEG_DIR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FfmpegSearch {
    /// The loader's search path (the default; docs/ffmpeg.md).
    System,
    /// This folder only.
    Dir(PathBuf),
    /// Nowhere: FFmpeg is off (`none` or `off`).
    Off,
}

/// How NVDEC sessions wait while others are being created (`VIDEO_HW_NVDEC_CREATE_BARRIER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateBarrier {
    /// A session waits while creations are under way and the sessions fit the engines
    /// (the default).
    FitsEngines,
    /// No waiting (`0`).
    Off,
    /// Every session waits while any creation is under way on its GPU (`all`).
    All,
}

/// The CUDA context NVDEC sessions decode in (`VIDEO_HW_NVDEC_CONTEXT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NvdecContext {
    /// The GPU's primary context, shared by every session (the default).
    Shared,
    /// A context per session (`own`; for measurements, slower).
    Own,
}

/// Which explicit YUV → RGB kernel the CPU conversions use (`VIDEO_HW_RGB_KERNEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RgbKernel {
    /// The widest this CPU runs: AVX-512 VBMI, else AVX2 on x86-64; NEON on aarch64 (the
    /// default).
    Widest,
    /// AVX2 even where the CPU has AVX-512 (`avx2`): the RGB kernel, and the resize's x
    /// pass and vertical sums, as a CPU without AVX-512 (VBMI for the RGB kernel) runs
    /// them, for measuring that on one that has it.
    Avx2,
    /// No explicit kernel: the portable loops alone, and resizes in their baseline build,
    /// not their AVX2 one (`portable`).
    Portable,
}

/// Every variable's value, parsed. Field docs name the variable; docs/environment.md says
/// what each is for and who reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `VIDEO_HW_FFMPEG_DIR`: a folder holding FFmpeg's shared libraries, or `none`/`off`.
    pub ffmpeg_dir: FfmpegSearch,
    /// `VIDEO_HW_FFMPEG_LOG`: FFmpeg's own log level on stderr, by its name (`quiet`,
    /// `panic`, `fatal`, `error`, `warning`, `info`, `verbose`, `debug`, `trace`), as the
    /// `AV_LOG_*` number; `None`: quiet.
    pub ffmpeg_log: Option<i32>,
    /// `VIDEO_HW_FFMPEG_THREADS`: threads of an FFmpeg software encoder whose
    /// configuration names none (`None`: FFmpeg's `auto`).
    pub ffmpeg_threads: Option<u32>,
    /// `VIDEO_HW_FFMPEG_DIRECT`: FFmpeg decoders write into buffers the library lends
    /// (default on; `0` copies out of FFmpeg's own).
    pub ffmpeg_direct: bool,
    /// `VIDEO_HW_FFMPEG_CHECK_CACHE`: a library set a child process loaded cleanly is
    /// remembered on disk, so later processes skip that child (default on).
    pub ffmpeg_check_cache: bool,
    /// `VIDEO_HW_HOST_RECYCLE`: host frame memory is recycled (default on).
    pub host_recycle: bool,
    /// `VIDEO_HW_NVDEC_KEEP`: NVDEC decoders kept open per GPU for reuse (`0`: none;
    /// `None`: the measured default).
    pub nvdec_keep: Option<usize>,
    /// `VIDEO_HW_NVDEC_HOST_SLOTS`: host copy slots per NVDEC session (`None`: by frame size).
    pub nvdec_host_slots: Option<usize>,
    /// `VIDEO_HW_NVDEC_EXTRA_SURFACES`: decode surfaces beyond the stream's needs (0-8;
    /// `None`: 2).
    pub nvdec_extra_surfaces: Option<u32>,
    /// `VIDEO_HW_NVDEC_LEND`: NVDEC lends its mapped surfaces as frames (default on).
    pub nvdec_lend: bool,
    /// `VIDEO_HW_NVDEC_CONTEXT`: `own` gives each session a CUDA context of its own.
    pub nvdec_context: NvdecContext,
    /// `VIDEO_HW_NVDEC_CREATE_BARRIER`: `0` or `all`.
    pub nvdec_create_barrier: CreateBarrier,
    /// `VIDEO_HW_CUDA_PTX`: a PTX file loaded instead of the built-in kernels.
    pub cuda_ptx: Option<PathBuf>,
    /// `VIDEO_HW_OPENH264_THREADS`: the most threads an OpenH264 encoder takes by itself.
    pub openh264_threads: Option<u32>,
    /// `VIDEO_HW_OPENH264_STUDY`: the encoder-settings study's `key=value` pairs
    /// (docs/openh264.md; applied by the OpenH264 encoder, which reports bad ones).
    pub openh264_study: String,
    /// `VIDEO_HW_VIDEOTOOLBOX`: `ffmpeg` sends every VideoToolbox codec through FFmpeg.
    pub videotoolbox_through_ffmpeg: bool,
    /// `VIDEO_HW_READER_HEADERS_ONLY`: the frame reader feeds packets it only needs for
    /// their headers as headers (default on).
    pub reader_headers_only: bool,
    /// `VIDEO_HW_READ_AHEAD_DEVICE`: read-ahead frames wait in GPU memory where they can
    /// (default on).
    pub read_ahead_device: bool,
    /// `VIDEO_HW_AUTO`: `cpu` or `cuda` sends every call of a `device="auto"` reader
    /// (`reader::AutoReader`) to that side without asking the cost model (`None`: the model
    /// decides). Python's `device="auto"` reads the variable itself, at each call.
    pub auto_side: Option<crate::device_choice::Processor>,
    /// `VIDEO_HW_READER_SEEK_GAP`: frames past which the reader seeks instead of decoding on.
    pub reader_seek_gap: Option<usize>,
    /// `VIDEO_HW_INDEX_CACHE`: where frame indexes are saved and read back (`off`,
    /// `auto`, `on`, `beside` or a directory, as `media::IndexCache::parse` reads it;
    /// `None`: `auto`).
    pub index_cache: Option<OsString>,
    /// `VIDEO_HW_LOG`: the `video-hw` command's log filter (`tracing` directives, as
    /// `RUST_LOG`); over `--log-level`.
    pub log: Option<String>,
    /// `VIDEO_HW_STOP_GRACE`: seconds the `video-hw` command takes to finish after SIGINT or
    /// SIGTERM (fractions allowed; `None`: 10).
    pub stop_grace: Option<Duration>,
    /// `VIDEO_HW_RGB_KERNEL`: `avx2` or `portable` narrows the CPU's RGB conversion kernel.
    pub rgb_kernel: RgbKernel,
    /// `VIDEO_HW_MAX_GPU_MEMORY`: the GPU memory budget of this process's sessions
    /// ([`crate::gpu_memory`]; bytes, `K`/`M`/`G` binary suffixes; `None`: unbounded).
    pub max_gpu_memory: Option<u64>,
    /// One line per variable whose value was not used, and why.
    pub problems: Vec<String>,
}

/// The process's settings, read from the environment at the first call.
pub fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let s = Settings::from_lookup(|name| std::env::var_os(name));
        for p in &s.problems {
            tracing::warn!("{p}");
        }
        s
    })
}

/// Where frame indexes are saved by default (`IndexCache::Auto`, and `on`): `index` in
/// [`cache_home`].
pub fn index_dir() -> Option<PathBuf> {
    Some(cache_home()?.join("index"))
}

/// A byte count as people write it: digits, optionally followed by `K`, `M`, `G` or `T`
/// (powers of 1024; `KiB`, `MB`... read the same, and `B` alone is bytes), or `none`
/// (0: no bound). `None` for anything else or a count that overflows.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    if t == "none" {
        return Some(0);
    }
    let digits = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().trim_end_matches('b').trim_end_matches('i') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    let bytes = value * 2f64.powi(shift);
    (value.is_finite() && value >= 0.0 && bytes < u64::MAX as f64).then_some(bytes.round() as u64)
}

/// This library's folder in the user's cache: `$XDG_CACHE_HOME/video-hw`, else
/// `~/.cache/video-hw` (`%LOCALAPPDATA%\video-hw` on Windows); `None` where none of these
/// is set. Frame indexes (`media::IndexCache`) and FFmpeg load checks are kept under it.
/// (Not `VIDEO_HW_*` variables: the platform's own, read as every program reads them.)
pub fn cache_home() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base =
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))).or_else(|| var("LOCALAPPDATA"))?;
    Some(base.join("video-hw"))
}

/// One variable's value as read: `None` when unset or empty.
struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<OsString>,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn raw(&self, name: &str) -> Option<OsString> {
        (self.lookup)(name).filter(|v| !v.to_string_lossy().trim().is_empty())
    }

    fn text(&mut self, name: &str) -> Option<String> {
        let raw = self.raw(name)?;
        match raw.into_string() {
            Ok(s) => Some(s.trim().to_string()),
            Err(raw) => {
                self.problems.push(format!("{name}={}: not UTF-8; unset instead", raw.to_string_lossy()));
                None
            }
        }
    }

    /// The value parsed by `parse`, else (with a problem noted) `None`; `default` says what
    /// holds then.
    fn parsed<T>(&mut self, name: &str, what: &str, default: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let text = self.text(name)?;
        let value = parse(&text);
        if value.is_none() {
            self.problems.push(format!("{name}={text}: not {what}; {default} instead"));
        }
        value
    }

    fn switch(&mut self, name: &str, default: bool) -> bool {
        let d = if default { "on (1)" } else { "off (0)" };
        self.parsed(name, "0 or 1", d, |v| match v.to_ascii_lowercase().as_str() {
            "0" | "false" | "off" | "no" => Some(false),
            "1" | "true" | "on" | "yes" => Some(true),
            _ => None,
        })
        .unwrap_or(default)
    }

    fn number<T: std::str::FromStr>(&mut self, name: &str, default: &str) -> Option<T> {
        self.parsed(name, "a whole number", default, |v| v.parse().ok())
    }

    fn path(&mut self, name: &str) -> Option<PathBuf> {
        self.raw(name).map(PathBuf::from)
    }
}

/// FFmpeg's log level number for its name.
fn ffmpeg_log_level(name: &str) -> Option<i32> {
    Some(match name.to_ascii_lowercase().as_str() {
        "quiet" => -8,
        "panic" => 0,
        "fatal" => 8,
        "error" => 16,
        "warning" => 24,
        "info" => 32,
        "verbose" => 40,
        "debug" => 48,
        "trace" => 56,
        _ => return None,
    })
}

impl Settings {
    /// The settings `lookup` gives (a variable's value by name; `None`: unset): what
    /// [`settings`] reads from the process's environment, and what tests feed by hand.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Settings {
        let mut r = Reader { lookup: &lookup, problems: Vec::new() };
        let ffmpeg_dir = match r.raw("VIDEO_HW_FFMPEG_DIR") {
            None => FfmpegSearch::System,
            Some(v) if ["none", "off"].contains(&v.to_string_lossy().trim().to_ascii_lowercase().as_str()) => {
                FfmpegSearch::Off
            }
            Some(v) => FfmpegSearch::Dir(PathBuf::from(v)),
        };
        let ffmpeg_log =
            r.parsed("VIDEO_HW_FFMPEG_LOG", "an FFmpeg log level (quiet … trace)", "quiet", ffmpeg_log_level);
        let ffmpeg_threads = r.number("VIDEO_HW_FFMPEG_THREADS", "auto");
        let ffmpeg_direct = r.switch("VIDEO_HW_FFMPEG_DIRECT", true);
        let ffmpeg_check_cache = r.switch("VIDEO_HW_FFMPEG_CHECK_CACHE", true);
        let host_recycle = r.switch("VIDEO_HW_HOST_RECYCLE", true);
        let nvdec_keep = r.number("VIDEO_HW_NVDEC_KEEP", "the measured default");
        let nvdec_host_slots = r.number("VIDEO_HW_NVDEC_HOST_SLOTS", "slots by frame size");
        let nvdec_extra_surfaces = r.parsed("VIDEO_HW_NVDEC_EXTRA_SURFACES", "a number from 0 to 8", "2", |v| {
            v.parse().ok().filter(|n| *n <= 8)
        });
        let nvdec_lend = r.switch("VIDEO_HW_NVDEC_LEND", true);
        let nvdec_context = r
            .parsed("VIDEO_HW_NVDEC_CONTEXT", "own or shared", "shared", |v| match v {
                "own" => Some(NvdecContext::Own),
                "shared" => Some(NvdecContext::Shared),
                _ => None,
            })
            .unwrap_or(NvdecContext::Shared);
        let nvdec_create_barrier = r
            .parsed("VIDEO_HW_NVDEC_CREATE_BARRIER", "0 or all", "the default barrier", |v| match v {
                "0" => Some(CreateBarrier::Off),
                "all" => Some(CreateBarrier::All),
                _ => None,
            })
            .unwrap_or(CreateBarrier::FitsEngines);
        let cuda_ptx = r.path("VIDEO_HW_CUDA_PTX");
        let openh264_threads = r.number("VIDEO_HW_OPENH264_THREADS", "every core");
        let openh264_study = r.text("VIDEO_HW_OPENH264_STUDY").unwrap_or_default();
        let videotoolbox_through_ffmpeg = r
            .parsed("VIDEO_HW_VIDEOTOOLBOX", "ffmpeg", "the native engine", |v| {
                v.eq_ignore_ascii_case("ffmpeg").then_some(true)
            })
            .unwrap_or(false);
        let reader_headers_only = r.switch("VIDEO_HW_READER_HEADERS_ONLY", true);
        let read_ahead_device = r.switch("VIDEO_HW_READ_AHEAD_DEVICE", true);
        let auto_side = r.parsed("VIDEO_HW_AUTO", "cpu or cuda", "the cost model's choice", |v| {
            match v.to_ascii_lowercase().as_str() {
                "cpu" => Some(crate::device_choice::Processor::Cpu),
                "cuda" => Some(crate::device_choice::Processor::Gpu),
                _ => None,
            }
        });
        let reader_seek_gap = r.number("VIDEO_HW_READER_SEEK_GAP", "the built-in gap");
        let index_cache = r.raw("VIDEO_HW_INDEX_CACHE");
        let log = r.text("VIDEO_HW_LOG");
        let rgb_kernel = r
            .parsed("VIDEO_HW_RGB_KERNEL", "avx2 or portable", "the widest kernel", |v| {
                match v.to_ascii_lowercase().as_str() {
                    "avx2" => Some(RgbKernel::Avx2),
                    "portable" => Some(RgbKernel::Portable),
                    _ => None,
                }
            })
            .unwrap_or(RgbKernel::Widest);
        let max_gpu_memory = r
            .parsed("VIDEO_HW_MAX_GPU_MEMORY", "bytes (8G, 512M, 0 or none)", "no budget", |v| {
                parse_bytes(v).map(|b| (b > 0).then_some(b))
            })
            .flatten();
        let stop_grace = r.parsed("VIDEO_HW_STOP_GRACE", "seconds (0 or more)", "10 seconds", |v| {
            v.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9).map(Duration::from_secs_f64)
        });
        Settings {
            ffmpeg_dir,
            ffmpeg_log,
            ffmpeg_threads,
            ffmpeg_direct,
            ffmpeg_check_cache,
            host_recycle,
            nvdec_keep,
            nvdec_host_slots,
            nvdec_extra_surfaces,
            nvdec_lend,
            nvdec_context,
            nvdec_create_barrier,
            cuda_ptx,
            openh264_threads,
            openh264_study,
            videotoolbox_through_ffmpeg,
            reader_headers_only,
            read_ahead_device,
            auto_side,
            reader_seek_gap,
            index_cache,
            log,
            stop_grace,
            rgb_kernel,
            max_gpu_memory,
            problems: r.problems,
        }
    }
}

/// Every variable [`Settings`] reads, by name (the docs table lists each; a test checks it).
pub const VARIABLES: &[&str] = &[
    "VIDEO_HW_FFMPEG_DIR",
    "VIDEO_HW_FFMPEG_LOG",
    "VIDEO_HW_FFMPEG_THREADS",
    "VIDEO_HW_FFMPEG_DIRECT",
    "VIDEO_HW_FFMPEG_CHECK_CACHE",
    "VIDEO_HW_HOST_RECYCLE",
    "VIDEO_HW_NVDEC_KEEP",
    "VIDEO_HW_NVDEC_HOST_SLOTS",
    "VIDEO_HW_NVDEC_EXTRA_SURFACES",
    "VIDEO_HW_NVDEC_LEND",
    "VIDEO_HW_NVDEC_CONTEXT",
    "VIDEO_HW_NVDEC_CREATE_BARRIER",
    "VIDEO_HW_CUDA_PTX",
    "VIDEO_HW_OPENH264_THREADS",
    "VIDEO_HW_OPENH264_STUDY",
    "VIDEO_HW_VIDEOTOOLBOX",
    "VIDEO_HW_READER_HEADERS_ONLY",
    "VIDEO_HW_READ_AHEAD_DEVICE",
    "VIDEO_HW_READER_SEEK_GAP",
    "VIDEO_HW_LOG",
    "VIDEO_HW_STOP_GRACE",
    "VIDEO_HW_RGB_KERNEL",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Settings {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| OsString::from(v)))
    }

    #[test]
    fn nothing_set_is_every_default() {
        let s = with(&[]);
        assert_eq!(s.ffmpeg_dir, FfmpegSearch::System);
        assert_eq!((s.ffmpeg_log, s.ffmpeg_threads, s.nvdec_keep, s.reader_seek_gap), (None, None, None, None));
        assert!(s.ffmpeg_direct && s.host_recycle && s.nvdec_lend && s.reader_headers_only && s.read_ahead_device);
        assert_eq!((s.nvdec_context, s.nvdec_create_barrier), (NvdecContext::Shared, CreateBarrier::FitsEngines));
        assert!(!s.videotoolbox_through_ffmpeg && s.openh264_study.is_empty() && s.log.is_none());
        assert_eq!(s.rgb_kernel, RgbKernel::Widest);
        assert!(s.problems.is_empty());
    }

    #[test]
    fn an_empty_value_means_unset() {
        let empty: Vec<(&str, &str)> = VARIABLES.iter().map(|&n| (n, "")).collect();
        assert_eq!(with(&empty), with(&[]));
        let blanks: Vec<(&str, &str)> = VARIABLES.iter().map(|&n| (n, "  ")).collect();
        assert_eq!(with(&blanks), with(&[]));
        // Empty no longer turns FFmpeg off: `none` does.
        assert_eq!(with(&[("VIDEO_HW_FFMPEG_DIR", "")]).ffmpeg_dir, FfmpegSearch::System);
        assert_eq!(with(&[("VIDEO_HW_FFMPEG_DIR", "none")]).ffmpeg_dir, FfmpegSearch::Off);
        assert_eq!(with(&[("VIDEO_HW_FFMPEG_DIR", " OFF ")]).ffmpeg_dir, FfmpegSearch::Off);
        assert_eq!(with(&[("VIDEO_HW_FFMPEG_DIR", "/opt/ff")]).ffmpeg_dir, FfmpegSearch::Dir("/opt/ff".into()));
    }

    #[test]
    fn values_parse_to_their_types() {
        let s = with(&[
            ("VIDEO_HW_FFMPEG_LOG", "Debug"),
            ("VIDEO_HW_FFMPEG_THREADS", " 4 "),
            ("VIDEO_HW_FFMPEG_DIRECT", "0"),
            ("VIDEO_HW_HOST_RECYCLE", "off"),
            ("VIDEO_HW_NVDEC_KEEP", "0"),
            ("VIDEO_HW_NVDEC_EXTRA_SURFACES", "8"),
            ("VIDEO_HW_NVDEC_CONTEXT", "own"),
            ("VIDEO_HW_NVDEC_CREATE_BARRIER", "all"),
            ("VIDEO_HW_CUDA_PTX", "/tmp/k.ptx"),
            ("VIDEO_HW_VIDEOTOOLBOX", "FFmpeg"),
            ("VIDEO_HW_READ_AHEAD_DEVICE", "false"),
            ("VIDEO_HW_READER_SEEK_GAP", "300"),
            ("VIDEO_HW_LOG", "video_hw=debug"),
            ("VIDEO_HW_STOP_GRACE", "0.5"),
            ("VIDEO_HW_RGB_KERNEL", "AVX2"),
        ]);
        assert_eq!((s.ffmpeg_log, s.ffmpeg_threads, s.nvdec_keep), (Some(48), Some(4), Some(0)));
        assert!(!s.ffmpeg_direct && !s.host_recycle && !s.read_ahead_device);
        assert_eq!(s.nvdec_extra_surfaces, Some(8));
        assert_eq!((s.nvdec_context, s.nvdec_create_barrier), (NvdecContext::Own, CreateBarrier::All));
        assert_eq!(s.cuda_ptx, Some(PathBuf::from("/tmp/k.ptx")));
        assert!(s.videotoolbox_through_ffmpeg);
        assert_eq!((s.reader_seek_gap, s.log.as_deref()), (Some(300), Some("video_hw=debug")));
        assert_eq!(s.stop_grace, Some(Duration::from_millis(500)));
        assert_eq!(s.rgb_kernel, RgbKernel::Avx2);
        assert_eq!(with(&[("VIDEO_HW_RGB_KERNEL", "portable")]).rgb_kernel, RgbKernel::Portable);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    }

    #[test]
    fn a_bad_value_keeps_the_default_and_says_so() {
        let s = with(&[
            ("VIDEO_HW_FFMPEG_THREADS", "many"),
            ("VIDEO_HW_HOST_RECYCLE", "maybe"),
            ("VIDEO_HW_NVDEC_EXTRA_SURFACES", "9"),
            ("VIDEO_HW_NVDEC_CREATE_BARRIER", "some"),
            ("VIDEO_HW_FFMPEG_LOG", "loud"),
            ("VIDEO_HW_STOP_GRACE", "-1"),
        ]);
        assert_eq!(s, Settings { problems: s.problems.clone(), ..with(&[]) });
        assert_eq!(s.problems.len(), 6, "{:?}", s.problems);
        assert!(s.problems[0].starts_with("VIDEO_HW_FFMPEG_LOG=loud: not an FFmpeg log level"), "{:?}", s.problems);
        assert!(s.problems.iter().any(|p| p == "VIDEO_HW_FFMPEG_THREADS=many: not a whole number; auto instead"));
        assert!(s.problems.iter().any(|p| p == "VIDEO_HW_HOST_RECYCLE=maybe: not 0 or 1; on (1) instead"));
        assert!(s.problems.iter().any(|p| p.starts_with("VIDEO_HW_STOP_GRACE=-1: not seconds")));
    }
}
