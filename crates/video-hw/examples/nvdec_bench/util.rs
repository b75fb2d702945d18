//! Small helpers: statistics, random numbers and corruption, CPU time, and reading an input.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use video_hw::Codec;
use video_hw::bitstream::detect::{codec_from_extension, detect_codec};
use video_hw::bitstream::summary::summarize;

/// Median (mean of the middle two for an even count); `None` when empty.
pub(crate) fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 })
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `total` spread over `n` (calls, frames) in µs, rounded; 0 when there were none.
pub(crate) fn us_each(total: Duration, n: u64) -> f64 {
    if n > 0 { round3(total.as_secs_f64() * 1e6 / n as f64) } else { 0.0 }
}

/// xorshift64* — small, seeded, good enough to pick restart points.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that nearby seeds give unrelated sequences; never 0.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    pub(crate) fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

/// A copy of `data` with one random bit flipped every ~`every` bytes (`every/2 ..
/// 3*every/2` apart), starting somewhere in the first `every` bytes.
pub(crate) fn corrupt_copy(data: &[u8], seed: u64, every: usize) -> (Vec<u8>, usize) {
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
pub(crate) fn process_cpu() -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    parse_proc_cpu(&stat, &status)
}

pub(crate) fn parse_proc_cpu(stat: &str, status: &str) -> Option<(f64, u64)> {
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

pub(crate) fn mib(bytes: u64) -> f64 {
    round3(bytes as f64 / (1u64 << 20) as f64)
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

pub(crate) struct InputFile {
    pub(crate) path: PathBuf,
    pub(crate) data: Vec<u8>,
    pub(crate) codec: Codec,
    /// Frames one pass outputs, from the headers.
    pub(crate) frames: u64,
    pub(crate) facts: Value,
}

pub(crate) fn load_input(path: &Path) -> Result<InputFile, String> {
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
