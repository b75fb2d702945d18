//! Audio decode against ffmpeg's own decode of the same track (`ffmpeg -i F -map 0:a:N -f
//! f32le -`): the same sample count and first sample for every fixture; bit-exact for the
//! lossless codecs and the FFmpeg engine; SNR figures printed for the built-in lossy
//! decoders, and held to the floors in docs/audio.md.
//!
//! The fixtures are made at test time with the `ffmpeg` tool (Debian's, in CI); without it
//! the tests say so and pass, unless `VIDEO_HW_REQUIRE_FFMPEG=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use video_hw::audio::{AudioDecoder, AudioOptions};
use video_hw::engine::{Engine, EnginePreference};

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var("VIDEO_HW_REQUIRE_FFMPEG").is_err(), "VIDEO_HW_REQUIRE_FFMPEG=1 but no ffmpeg tool");
        eprintln!("no ffmpeg tool: audio comparisons not run");
    }
    ok
}

/// Two tones (440 Hz left, 660 Hz right; more channels get more tones) of 1.3 s.
fn make(dir: &Path, name: &str, rate: u32, channels: u32, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let expr: Vec<String> = (0..channels).map(|c| format!("0.4*sin({}*2*PI*t)", 440 + 220 * c)).collect();
    let src = format!("aevalsrc={}:s={rate}:d=1.3", expr.join("|"));
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &src])
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(st.success(), "ffmpeg made {name}");
    path
}

/// ffmpeg's decode: interleaved f32 and the channel count.
fn reference(path: &Path, extra: &[&str]) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a:0"])
        .args(extra)
        .args(["-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "ffmpeg decodes {}", path.display());
    out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// The libavcodec version of the `ffmpeg` tool (`libavcodec     59. 37.100 / …`).
fn tool_libavcodec() -> Option<(u32, u32, u32)> {
    let out = Command::new("ffmpeg").arg("-version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("libavcodec"))?;
    let v: Vec<u32> = line
        .split('/')
        .next()?
        .trim_start_matches("libavcodec")
        .split('.')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    (v.len() == 3).then(|| (v[0], v[1], v[2]))
}

fn snr_db(reference: &[f32], ours: &[f32]) -> f64 {
    let (mut s, mut n) = (0f64, 0f64);
    for (a, b) in reference.iter().zip(ours) {
        s += f64::from(*a) * f64::from(*a);
        n += (f64::from(*a) - f64::from(*b)).powi(2);
    }
    if n == 0.0 { f64::INFINITY } else { 10.0 * (s / n).log10() }
}

/// The shift of `ours` against `reference` (in samples per channel) that matches best.
fn best_lag(reference: &[f32], ours: &[f32], channels: usize) -> i64 {
    let n = 4096.min(reference.len() / channels.max(1));
    let mut best = (f64::MAX, 0i64);
    for lag in -2048i64..=2048 {
        let mut e = 0f64;
        for i in 1024..n {
            let j = i as i64 + lag;
            if j < 0 || (j as usize) * channels >= ours.len() {
                continue;
            }
            e += (f64::from(reference[i * channels]) - f64::from(ours[j as usize * channels])).powi(2);
        }
        if e < best.0 {
            best = (e, lag);
        }
    }
    best.1
}

struct Case {
    name: &'static str,
    rate: u32,
    channels: u32,
    args: &'static [&'static str],
    /// The lowest SNR against ffmpeg's decode that passes for the built-in engine
    /// (`INFINITY`: bit-exact); FFmpeg's engine is always held to bit-exact.
    floor: f64,
    /// The built-in engine that decodes it (`None`: only FFmpeg does).
    builtin: Option<Engine>,
}

const CASES: &[Case] = &[
    Case {
        name: "s16.wav",
        rate: 44100,
        channels: 2,
        args: &["-c:a", "pcm_s16le"],
        floor: f64::INFINITY,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "u8-mono.wav",
        rate: 8000,
        channels: 1,
        args: &["-c:a", "pcm_u8"],
        floor: f64::INFINITY,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "s24.wav",
        rate: 48000,
        channels: 2,
        args: &["-c:a", "pcm_s24le"],
        floor: f64::INFINITY,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "f32.wav",
        rate: 48000,
        channels: 1,
        args: &["-c:a", "pcm_f32le"],
        floor: f64::INFINITY,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "flac.flac",
        rate: 44100,
        channels: 2,
        args: &["-c:a", "flac"],
        floor: f64::INFINITY,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "flac24.flac",
        rate: 96000,
        channels: 2,
        args: &["-c:a", "flac", "-sample_fmt", "s32"],
        floor: f64::INFINITY,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "flac.mkv",
        rate: 48000,
        channels: 1,
        args: &["-c:a", "flac"],
        floor: f64::INFINITY,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "aac.mp4",
        rate: 48000,
        channels: 2,
        args: &["-c:a", "aac"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "aac-mono.m4a",
        rate: 22050,
        channels: 1,
        args: &["-c:a", "aac"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case { name: "aac-51.mp4", rate: 48000, channels: 6, args: &["-c:a", "aac"], floor: 60.0, builtin: None },
    Case {
        name: "aac.mkv",
        rate: 44100,
        channels: 2,
        args: &["-c:a", "aac"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "aac.aac",
        rate: 16000,
        channels: 1,
        args: &["-c:a", "aac"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "aac.ts",
        rate: 48000,
        channels: 2,
        args: &["-c:a", "aac", "-f", "mpegts"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "mp3.mp3",
        rate: 44100,
        channels: 2,
        args: &["-c:a", "libmp3lame"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "vorbis.ogg",
        rate: 48000,
        channels: 2,
        args: &["-c:a", "libvorbis"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "vorbis.webm",
        rate: 44100,
        channels: 1,
        args: &["-c:a", "libvorbis"],
        floor: 60.0,
        builtin: Some(Engine::Symphonia),
    },
    Case {
        name: "opus.webm",
        rate: 48000,
        channels: 2,
        args: &["-c:a", "libopus"],
        floor: 60.0,
        builtin: Some(Engine::Ropus),
    },
    Case {
        name: "opus.ogg",
        rate: 48000,
        channels: 1,
        args: &["-c:a", "libopus"],
        floor: 60.0,
        builtin: Some(Engine::Ropus),
    },
    Case {
        name: "opus-51.mkv",
        rate: 48000,
        channels: 6,
        args: &["-c:a", "libopus", "-mapping_family", "1"],
        floor: 60.0,
        builtin: Some(Engine::Ropus),
    },
];

/// Decodes `path` with `engine`, compares with `want`; a failure's text, or `None`.
fn check(case: &Case, path: &Path, want: &[f32], engine: EnginePreference, floor: f64) -> Option<String> {
    let mut dec = match AudioDecoder::open(path, AudioOptions { engine, ..AudioOptions::default() }) {
        Ok(d) => d,
        Err(e) => return Some(format!("{} ({engine:?}): open: {e}", case.name)),
    };
    let meta = dec.metadata().clone();
    let got = match dec.get_all_samples() {
        Ok(s) => s,
        Err(e) => return Some(format!("{} ({engine:?}): decode: {e}", case.name)),
    };
    let ours = got.interleaved();
    let frames_want = want.len() / (case.channels as usize);
    let snr = snr_db(want, &ours);
    let first_ok = want.first().zip(ours.first()).is_some_and(|(a, b)| (a - b).abs() < 1e-3);
    eprintln!(
        "{:14} {:9} {} Hz {} ch: {} frames (ffmpeg {}), SNR {:.1} dB, first sample {}",
        case.name,
        meta.engine.name(),
        meta.sample_rate,
        got.channels,
        got.frames(),
        frames_want,
        snr,
        if first_ok { "equal" } else { "differs" }
    );
    if snr < floor {
        eprintln!("  best alignment: ours shifted by {} samples", best_lag(want, &ours, got.channels));
    }
    if got.frames() != frames_want || got.channels != case.channels as usize {
        Some(format!(
            "{}: {} frames x {} channels, ffmpeg {} x {}",
            case.name,
            got.frames(),
            got.channels,
            frames_want,
            case.channels
        ))
    } else if floor.is_infinite() && ours != want {
        Some(format!("{} ({}): not bit-exact (SNR {snr:.1} dB)", case.name, meta.engine))
    } else if snr < floor {
        Some(format!("{} ({}): SNR {snr:.1} dB < {floor}", case.name, meta.engine))
    } else {
        None
    }
}

#[test]
fn every_fixture_matches_ffmpegs_decode() {
    if !have_ffmpeg() {
        return;
    }
    // FFmpeg's engine where FFmpeg is loaded (as `Auto` picks it), and every built-in one.
    let runtime = video_hw::registry::ffmpeg_runtime();
    let ffmpeg_loaded = runtime.loaded;
    let same_ffmpeg = runtime.libavcodec.is_some_and(|v| tool_libavcodec() == Some(v));
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in CASES {
        let path = make(dir.path(), case.name, case.rate, case.channels, case.args);
        let want = reference(&path, &[]);
        if ffmpeg_loaded {
            // Bit-exact against the same FFmpeg; another version's lossy decoders differ in
            // their last bits.
            let floor = if same_ffmpeg { f64::INFINITY } else { case.floor };
            failures.extend(check(case, &path, &want, EnginePreference::Only(Engine::Ffmpeg), floor));
        }
        match case.builtin {
            Some(e) => failures.extend(check(case, &path, &want, EnginePreference::Only(e), case.floor)),
            None => {
                let opts =
                    AudioOptions { engine: EnginePreference::Only(Engine::Symphonia), ..AudioOptions::default() };
                assert!(
                    AudioDecoder::open(&path, opts).is_err(),
                    "{}: the built-in engines say they cannot",
                    case.name
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_named_engine_never_falls_back() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = make(dir.path(), "a.mp4", 48000, 2, &["-c:a", "aac"]);
    let opts = AudioOptions { engine: EnginePreference::Only(Engine::Ropus), ..AudioOptions::default() };
    let err = AudioDecoder::open(&path, opts).unwrap_err();
    assert!(err.to_string().contains("ropus does not decode it"), "{err}");
    let opts = AudioOptions { engine: EnginePreference::Only(Engine::Symphonia), ..AudioOptions::default() };
    assert_eq!(AudioDecoder::open(&path, opts).unwrap().metadata().engine, Engine::Symphonia);
}

#[test]
fn consecutive_ranges_give_the_samples_of_one_call() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for case in CASES.iter().filter(|c| c.builtin.is_some()) {
        let path = make(dir.path(), case.name, case.rate, case.channels, case.args);
        let whole = AudioDecoder::open(&path, AudioOptions::default()).unwrap().get_all_samples().unwrap();
        let mut dec = AudioDecoder::open(&path, AudioOptions::default()).unwrap();
        let mut t = dec.metadata().begin_stream_seconds;
        let mut parts: Vec<Vec<f32>> = vec![Vec::new(); whole.channels];
        // 0.1 s pieces: boundaries fall inside packets.
        for _ in 0..1000 {
            if dec.at_end() {
                break;
            }
            let s = dec.get_samples_played_in_range(t, Some(t + 0.1)).unwrap();
            for (c, p) in parts.iter_mut().enumerate() {
                p.extend_from_slice(s.channel(c));
            }
            t += 0.1;
        }
        for (c, p) in parts.iter().enumerate() {
            assert_eq!(p.as_slice(), whole.channel(c), "{}: channel {c} in pieces", case.name);
        }
    }
}

#[test]
fn resampled_and_mixed_output_is_within_50_db_of_libswresample() {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = make(dir.path(), "src.mp4", 48000, 2, &["-c:a", "aac"]);
    let wav = make(dir.path(), "src.wav", 44100, 2, &["-c:a", "pcm_s16le"]);
    for (path, rate, channels) in [(&src, 16000u32, 1u16), (&src, 44100, 2), (&wav, 22050, 1), (&wav, 48000, 2)] {
        let want = reference(path, &["-ar", &rate.to_string(), "-ac", &channels.to_string()]);
        let opts = AudioOptions { sample_rate: Some(rate), channels: Some(channels), ..AudioOptions::default() };
        let got = AudioDecoder::open(path, opts).unwrap().get_all_samples().unwrap();
        assert_eq!((got.sample_rate, got.channels), (rate, usize::from(channels)));
        assert_eq!(got.frames(), want.len() / usize::from(channels), "{} at {rate} Hz: sample count", path.display());
        let snr = snr_db(&want, &got.interleaved());
        eprintln!("{} -> {rate} Hz {channels} ch: SNR {snr:.1} dB against libswresample", path.display());
        assert!(snr >= 50.0, "{} -> {rate} Hz: SNR {snr:.1} dB", path.display());
    }
}
