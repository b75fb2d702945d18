//! Options shared by the subcommands (engine choice, encoder settings) and the value
//! parsers that turn option values that make no sense (`--size 0x0`, `--fps 0`,
//! `--bitrate 0`, an unknown pixel format) into usage errors (exit 2).

use clap::Args;
use video_hw::{Codec, EncoderConfig, EnginePreference, PixelFormat, Preset, RateControl, Rational, Tuning};

use crate::exit::{CliResult, usage};
use crate::io::y4m::MAX_RATE_TERM;

/// Which engine runs a job.
#[derive(Args, Debug, Clone)]
pub struct EngineOpts {
    /// Engine: `auto` (the best one available here; a fallback is logged) or one by name
    /// (nvdec, nvenc, openh264, …), which never falls back. `video-hw probe` lists them.
    #[arg(long, default_value = "auto", value_name = "ENGINE", value_parser = parse_engine)]
    pub backend: EnginePreference,
    /// Refuse software engines (exit 3 instead of falling back to one).
    #[arg(long)]
    pub require_hardware: bool,
    /// GPU index for hardware engines.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub device: u32,
    /// Threads of each software session (FFmpeg's frame and slice threads, as
    /// `ffmpeg -threads N`). Default: every core for one session, shared by sessions open
    /// at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: Option<u32>,
}

/// Encoder settings.
#[derive(Args, Debug, Clone)]
pub struct EncodeOpts {
    /// Output codec (default: from the output name, `.h265`/`.hevc` → hevc, `.ivf`/`.obu`/`.webm` → av1, else h264).
    #[arg(long, value_parser = parse_codec)]
    pub codec: Option<Codec>,
    /// Target bitrate in bit/s (`800k`, `2.5M`); constant bitrate unless --max-bitrate is given.
    #[arg(long, value_name = "RATE", value_parser = parse_bitrate, conflicts_with_all = ["qp", "quality"])]
    pub bitrate: Option<u64>,
    /// Peak bitrate in bit/s: variable bitrate averaging --bitrate.
    #[arg(long, value_name = "RATE", value_parser = parse_bitrate, requires = "bitrate")]
    pub max_bitrate: Option<u64>,
    /// Constant quantiser 0..=51 (every picture at this QP).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=51), conflicts_with = "quality")]
    pub qp: Option<u8>,
    /// Constant quality 0 (best) ..= 51 (worst), the engine's quality mode.
    #[arg(long, value_name = "Q", value_parser = clap::value_parser!(u8).range(0..=51))]
    pub quality: Option<u8>,
    /// Frames from one keyframe to the next (1 = all intra).
    #[arg(long, value_name = "FRAMES", value_parser = clap::value_parser!(u32).range(1..))]
    pub gop: Option<u32>,
    /// Consecutive B-frames (0: none). Default: the encoder's own, as ffmpeg gives it
    /// (libx264 3, libx265 4; none on NVENC, OpenH264, VideoToolbox and the AV1 encoders).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=16))]
    pub bframes: Option<u32>,
    /// Speed/quality trade-off: fastest, faster, fast, medium, slow, slower, slowest (or p1..p7).
    #[arg(long, value_parser = parse_preset)]
    pub preset: Option<Preset>,
    /// What to optimise for: hq, low-latency, ultra-low-latency, lossless.
    #[arg(long, value_parser = parse_tune)]
    pub tune: Option<Tuning>,
    /// The FFmpeg encoder by name, as `ffmpeg -c:v` takes it (libaom-av1, libsvtav1,
    /// libx264, libx265, h264_qsv, …; `video-hw probe` names the default ones). Only the
    /// engine that drives it opens: with `--backend auto`, that engine.
    #[arg(long, value_name = "NAME")]
    pub encoder: Option<String>,
    /// Frames the encoder may hold in flight before a submit waits for output (NVENC: the
    /// input/output buffer pairs beyond B-frames and look-ahead; default 4). The
    /// in-flight depth experiment of `scripts/bench_encode_quality.py` varies it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub in_flight: Option<u32>,
    /// Measure the output's PSNR against the input (each packet is decoded in-process and
    /// compared with its picture); the summary gives the means as x264 prints them (Y, U,
    /// V, Avg, Global), `--json` carries them. 8-bit input only.
    #[arg(long)]
    pub psnr: bool,
    /// Measure the output's luma SSIM against the input too (as x264's `--ssim`; implies
    /// the PSNR figures).
    #[arg(long)]
    pub ssim: bool,
}

impl EncodeOpts {
    /// What the encode pipeline measures of the output's quality (`--psnr`, `--ssim`).
    pub fn quality(&self) -> Option<video_hw::pipeline::QualityOptions> {
        (self.psnr || self.ssim).then_some(video_hw::pipeline::QualityOptions { psnr: true, ssim: self.ssim })
    }

    /// The output codec: `--codec`, else the one the output name implies (IVF, raw OBU
    /// and WebM outputs: AV1, the one of them every build encodes), else H.264. A
    /// `--codec` that contradicts the output name is a usage error.
    pub fn codec_for(&self, output: &std::path::Path) -> CliResult<Codec> {
        let named = video_hw::bitstream::detect::codec_from_extension(output);
        match (self.codec, named) {
            (Some(c), Some(n)) if c != n => {
                Err(usage(format!("--codec {c} but the output name {} says {n}", output.display())))
            }
            (Some(c), _) => Ok(c),
            (None, Some(n)) => Ok(n),
            (None, None) => {
                let ext = output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
                Ok(if matches!(ext.as_deref(), Some("ivf" | "obu" | "webm")) { Codec::Av1 } else { Codec::H264 })
            }
        }
    }

    /// An encoder configuration for `codec` with these settings; settings that contradict
    /// each other (B-frames with a low-latency tuning, …) are usage errors.
    pub fn config(&self, codec: Codec, engine: &EngineOpts) -> CliResult<EncoderConfig> {
        let mut cfg =
            EncoderConfig::new(codec, 64, 64).engine(engine.backend).require_hardware(engine.require_hardware);
        cfg.b_frames = self.bframes;
        cfg.device_index = engine.device;
        cfg.threads = engine.threads;
        cfg.rate_control = match (self.bitrate, self.max_bitrate, self.qp, self.quality) {
            (Some(avg), Some(max), _, _) => {
                if max < avg {
                    return Err(usage(format!("--max-bitrate {max} is below --bitrate {avg}")));
                }
                RateControl::Vbr { avg, max }
            }
            (Some(bitrate), None, _, _) => RateControl::Cbr { bitrate },
            (None, _, Some(qp), _) => RateControl::ConstQp { i: qp, p: qp, b: qp },
            (None, _, None, Some(q)) => RateControl::ConstQuality { q },
            (None, _, None, None) => cfg.rate_control,
        };
        if let Some(g) = self.gop {
            cfg = cfg.gop(g);
        }
        if let Some(p) = self.preset {
            cfg = cfg.preset(p);
        }
        if let Some(t) = self.tune {
            cfg = cfg.tuning(t);
        }
        if let Some(n) = self.in_flight {
            cfg.frames_in_flight = n;
        }
        cfg.ffmpeg_encoder = self.encoder.clone();
        // The size is a placeholder here: what is checked is the options themselves.
        cfg.validate().map_err(|e| usage(option_error(&e)))?;
        Ok(cfg)
    }
}

/// The reason of an `InvalidInput` without its "invalid input: " prefix.
fn option_error(e: &video_hw::Error) -> String {
    match e {
        video_hw::Error::InvalidInput(why) => why.clone(),
        other => other.to_string(),
    }
}

/// `--backend`.
pub fn parse_engine(s: &str) -> Result<EnginePreference, String> {
    s.parse().map_err(|e: video_hw::Error| option_error(&e))
}

/// `--codec`.
pub fn parse_codec(s: &str) -> Result<Codec, String> {
    s.parse().map_err(|e: video_hw::Error| option_error(&e))
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse().map_err(|e: video_hw::Error| option_error(&e))
}

fn parse_tune(s: &str) -> Result<Tuning, String> {
    s.parse().map_err(|e: video_hw::Error| option_error(&e))
}

/// `WxH`, each side 1..=16384 (odd sizes allowed: `decode --size`).
pub fn parse_dimensions(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or("expected WIDTHxHEIGHT, e.g. 640x360")?;
    let side = |v: &str| v.trim().parse::<u32>().map_err(|_| format!("'{v}' is not a whole number"));
    let (w, h) = (side(w)?, side(h)?);
    if w == 0 || h == 0 || w > 16384 || h > 16384 {
        return Err(format!("{w}x{h}: each side must be 1..=16384"));
    }
    Ok((w, h))
}

/// A byte count: `4096`, `512k`, `256m`, `16g` (binary multiples), at least 1.
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix("ib").or_else(|| t.strip_suffix('b')).unwrap_or(&t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k')) => (&t[..i], 10),
        Some((i, 'm')) => (&t[..i], 20),
        Some((i, 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().map_err(|_| format!("'{s}' is not a size (4096, 512k, 256m, 16g)"))?;
    let bytes = n.checked_mul(1 << shift).filter(|&b| b > 0 && b <= usize::MAX as u64);
    bytes.map(|b| b as usize).ok_or_else(|| format!("{s}: the size must be at least 1 byte and fit in memory"))
}

/// `--size WxH` of 4:2:0 input: both sides even, 2..=16384.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = parse_dimensions(s)?;
    if w % 2 != 0 || h % 2 != 0 {
        return Err(format!("{w}x{h}: 4:2:0 pictures need an even width and height"));
    }
    Ok((w, h))
}

/// A positive number of seconds (`--timeout`): `2`, `0.5`; at most a day.
pub fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(std::time::Duration::from_secs_f64(v)),
        _ => Err(format!("'{s}' is not a number of seconds (more than 0, at most 86400)")),
    }
}

/// `--fps`: `25`, `29.97`, `30000/1001`; positive, at most 1000.
pub fn parse_fps(s: &str) -> Result<Rational, String> {
    let bad = || format!("'{s}' is not a frame rate (25, 29.97 or 30000/1001)");
    let r = if let Some((n, d)) = s.split_once(['/', ':']) {
        Rational::new(n.trim().parse().map_err(|_| bad())?, d.trim().parse().map_err(|_| bad())?)
    } else if let Some((int, frac)) = s.split_once('.') {
        if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let den = 10i64.pow(frac.len() as u32);
        let int: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| bad())? };
        let frac: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
        Rational::new(int.checked_mul(den).and_then(|v| v.checked_add(frac)).ok_or_else(bad)?, den)
    } else {
        Rational::new(s.trim().parse().map_err(|_| bad())?, 1)
    };
    if r.num <= 0 || r.den <= 0 || r.num > MAX_RATE_TERM || r.den > MAX_RATE_TERM || r.as_f64() > 1000.0 {
        return Err(format!("{s}: the frame rate must be positive and at most 1000"));
    }
    Ok(r)
}

/// `--bitrate`: bit/s with an optional `k`/`M` suffix; 1 kbit/s ..= 10 Gbit/s.
pub fn parse_bitrate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1e3),
        Some((i, 'm' | 'M')) => (&t[..i], 1e6),
        _ => (t, 1.0),
    };
    let v: f64 = num.parse().map_err(|_| format!("'{s}' is not a bitrate (e.g. 800k, 2.5M, 4000000)"))?;
    let bits = v * mult;
    if !bits.is_finite() || !(1000.0..=1e10).contains(&bits) {
        return Err(format!("{s}: a bitrate must be 1k..=10000M bit/s"));
    }
    Ok(bits.round() as u64)
}

/// Raw input `--pix-fmt` for `encode`: yuv420p (default), nv12, rgb24 or bgra.
pub fn parse_input_format(s: &str) -> Result<PixelFormat, String> {
    match s.to_ascii_lowercase().as_str() {
        "yuv420p" | "i420" => Ok(PixelFormat::Yuv420p),
        "nv12" => Ok(PixelFormat::Nv12),
        "rgb24" | "rgb" => Ok(PixelFormat::Rgb24),
        "bgra" => Ok(PixelFormat::Bgra),
        other => Err(format!("unknown pixel format '{other}' (yuv420p, nv12, rgb24, bgra)")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_counts_with_binary_suffixes() {
        assert_eq!(super::parse_bytes("4096"), Ok(4096));
        assert_eq!(super::parse_bytes("512k"), Ok(512 << 10));
        assert_eq!(super::parse_bytes("256M"), Ok(256 << 20));
        assert_eq!(super::parse_bytes("16GiB"), Ok(16 << 30));
        assert!(super::parse_bytes("0").is_err());
        assert!(super::parse_bytes("lots").is_err());
        assert!(super::parse_bytes("99999999999g").is_err());
    }

    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("640x360"), Ok((640, 360)));
        assert!(parse_size("0x0").is_err());
        assert!(parse_size("321x240").is_err());
        assert!(parse_size("640").is_err());
        assert!(parse_size("99999x2").is_err());
    }

    #[test]
    fn frame_rates() {
        assert_eq!(parse_fps("25"), Ok(Rational::new(25, 1)));
        assert_eq!(parse_fps("30000/1001"), Ok(Rational::new(30000, 1001)));
        assert_eq!(parse_fps("29.97"), Ok(Rational::new(2997, 100)));
        for bad in ["0", "-1", "0/1", "1/0", "x", "1e9", "2000", "1.2.3", "1/9223372036854775807"] {
            assert!(parse_fps(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bitrates() {
        assert_eq!(parse_bitrate("800k"), Ok(800_000));
        assert_eq!(parse_bitrate("2.5M"), Ok(2_500_000));
        assert_eq!(parse_bitrate("4000000"), Ok(4_000_000));
        for bad in ["0", "-5M", "k", "NaN", "inf", "1"] {
            assert!(parse_bitrate(bad).is_err(), "{bad}");
        }
    }
}
