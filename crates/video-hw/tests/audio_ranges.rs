//! Random ranges against one whole decode: hundreds of ranges asked for in random order
//! (each one behind or far ahead of the last seeks, with the codec's pre-roll) hold the
//! very samples of `get_all_samples()` at the same indices, bit for bit, for every codec
//! whose decoder a restart reproduces (PCM, FLAC, MP3, Vorbis, AAC-LC without perceptual
//! noise substitution); Opus and AAC with PNS restart with other state (Opus's
//! predictors, AAC's noise generator), and are held to the same indices and a floor on
//! the difference instead.
//!
//! The fixtures are made at test time with the `ffmpeg` tool; without it the tests say
//! so and pass, unless `VIDEO_HW_REQUIRE_FFMPEG=1`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use video_hw::audio::{AudioDecoder, AudioOptions, AudioSamples};
use video_hw::engine::{Engine, EnginePreference};

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var("VIDEO_HW_REQUIRE_FFMPEG").is_err(), "VIDEO_HW_REQUIRE_FFMPEG=1 but no ffmpeg tool");
        eprintln!("no ffmpeg tool: audio range comparisons not run");
    }
    ok
}

/// 20 s of two tones with noise on the second channel (the noise keeps the encoders'
/// bit reservoirs and block switching busy).
fn make(dir: &Path, name: &str, rate: u32, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let src =
        format!("aevalsrc=0.3*sin(2*PI*440*t)+0.1*sin(2*PI*3000*t)|0.3*sin(2*PI*660*t)+0.05*random(0):s={rate}:d=20");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &src])
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(st.success(), "ffmpeg made {name}");
    path
}

/// A small deterministic generator (xorshift), for ranges that are the same on every run.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// torchcodec's index of the sample played at `t`.
fn sample_at(t: f64, rate: u32) -> i64 {
    (t * f64::from(rate) + 0.5).floor() as i64
}

/// How a fixture's ranges must compare with its whole decode.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Bit for bit.
    Exact,
    /// The same indices, and at least this SNR (dB) against the whole decode.
    Snr(f64),
}

/// `ranges` random ranges of `dec`, in random order, each against the same indices of
/// `all`; a failure's text, or `None`. Returns the lowest SNR seen.
fn compare(
    name: &str,
    dec: &mut AudioDecoder,
    all: &AudioSamples,
    ranges: usize,
    expect: Expect,
) -> (Option<String>, f64) {
    let rate = all.sample_rate;
    let first = sample_at(all.pts_seconds, rate);
    let duration = all.duration_seconds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut worst = f64::INFINITY;
    for k in 0..ranges {
        // Starts anywhere (some before the first sample), one range in ten to the end.
        let start = all.pts_seconds - 0.05 + rng.unit() * duration;
        let stop = if k % 10 == 9 { None } else { Some(start + 0.001 + rng.unit() * 1.5) };
        let got = match dec.get_samples_played_in_range(start, stop) {
            Ok(g) => g,
            Err(e) => return (Some(format!("{name}: range {k} [{start}, {stop:?}): {e}")), worst),
        };
        let lo = (sample_at(start, rate).max(first) - first) as usize;
        let hi = stop.map_or(all.frames(), |s| ((sample_at(s, rate) - first).max(0) as usize).min(all.frames()));
        let hi = hi.max(lo.min(all.frames()));
        let lo = lo.min(hi);
        if got.frames() != hi - lo || got.channels != all.channels {
            return (
                Some(format!(
                    "{name}: range {k} [{start}, {stop:?}): {} x {} samples, the whole decode has {} x {} there",
                    got.channels,
                    got.frames(),
                    all.channels,
                    hi - lo
                )),
                worst,
            );
        }
        for c in 0..all.channels {
            let want = &all.channel(c)[lo..hi];
            let ours = got.channel(c);
            match expect {
                Expect::Exact => {
                    if ours != want {
                        let at = ours.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
                        return (
                            Some(format!(
                                "{name}: range {k} [{start}, {stop:?}) channel {c}: sample {} differs ({} against {})",
                                lo + at,
                                ours[at],
                                want[at]
                            )),
                            worst,
                        );
                    }
                }
                Expect::Snr(floor) => {
                    let snr = snr_db(want, ours);
                    worst = worst.min(snr);
                    if snr < floor {
                        return (Some(format!("{name}: range {k} channel {c}: SNR {snr:.1} dB < {floor}")), worst);
                    }
                    // At the same indices: the whole decode shifted by a sample or two
                    // either way matches worse (a range placed a little off would match
                    // a shifted one best).
                    let whole = all.channel(c);
                    for lag in [-2i64, -1, 1, 2] {
                        let (from, to) = (lo as i64 + lag, hi as i64 + lag);
                        if ours.len() < 480 || from < 0 || to > whole.len() as i64 {
                            continue;
                        }
                        let shifted = snr_db(&whole[from as usize..to as usize], ours);
                        if shifted >= snr {
                            return (
                                Some(format!(
                                    "{name}: range {k} channel {c}: matches the whole decode shifted by {lag} ({shifted:.1} dB) better than unshifted ({snr:.1} dB)"
                                )),
                                worst,
                            );
                        }
                    }
                }
            }
        }
    }
    (None, worst)
}

fn snr_db(reference: &[f32], ours: &[f32]) -> f64 {
    let (mut s, mut n) = (0f64, 0f64);
    for (a, b) in reference.iter().zip(ours) {
        s += f64::from(*a) * f64::from(*a);
        n += (f64::from(*a) - f64::from(*b)).powi(2);
    }
    if n == 0.0 { f64::INFINITY } else { 10.0 * (s / n).log10() }
}

/// FFmpeg's decoders (where the loaded FFmpeg has them). Where no FFmpeg is loaded the
/// fixtures are not made: nothing would read them.
#[test]
fn random_ranges_through_ffmpeg_equal_the_whole_decode() {
    if common::need_ffmpeg() {
        random_ranges_equal_the_whole_decode(&[Engine::Ffmpeg]);
    }
}

/// The built-in decoders: the same in every CI pass, whatever FFmpeg is loaded, so CI runs
/// this once (`.ci/run`'s `once`).
#[test]
fn random_ranges_through_the_built_in_decoders_equal_the_whole_decode() {
    random_ranges_equal_the_whole_decode(&[Engine::Symphonia, Engine::Ropus]);
}

fn random_ranges_equal_the_whole_decode(engines: &[Engine]) {
    if !have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exact_aac: &[&str] = &["-c:a", "aac", "-aac_pns", "0", "-b:a", "128k"];
    let cases: &[(&str, u32, &[&str], Expect)] = &[
        ("s16.wav", 44100, &["-c:a", "pcm_s16le"], Expect::Exact),
        ("a.flac", 48000, &["-c:a", "flac"], Expect::Exact),
        ("a.mp3", 44100, &["-c:a", "libmp3lame", "-b:a", "128k"], Expect::Exact),
        ("low.mp3", 22050, &["-c:a", "libmp3lame", "-b:a", "32k"], Expect::Exact),
        ("a.m4a", 48000, exact_aac, Expect::Exact),
        ("a.ts", 48000, exact_aac, Expect::Exact),
        ("a.ogg", 44100, &["-c:a", "libvorbis"], Expect::Exact),
        // Matroska's millisecond timestamps place packets only to 48 samples: the seek
        // places them on the grid of their constant length.
        ("aac.mka", 48000, exact_aac, Expect::Exact),
        ("mp3.mka", 44100, &["-c:a", "libmp3lame", "-b:a", "128k"], Expect::Exact),
        // The same indices; the samples near a restart differ in their last bits.
        // (PNS's noise itself is random: on the channel with noise, only its power agrees;
        // Opus converges over its 80 ms pre-roll, not to the bit.)
        ("pns.m4a", 48000, &["-c:a", "aac", "-b:a", "96k"], Expect::Snr(15.0)),
        ("a.webm", 48000, &["-c:a", "libopus", "-b:a", "96k"], Expect::Snr(10.0)),
    ];
    let mut failures = Vec::new();
    for &(name, rate, args, expect) in cases {
        let path = make(dir.path(), name, rate, args);
        for &engine in engines {
            let opts = || AudioOptions { engine: EnginePreference::Only(engine), ..AudioOptions::default() };
            let Ok(mut whole) = AudioDecoder::open(&path, opts()) else { continue };
            let all = whole.get_all_samples().unwrap();
            let mut dec = AudioDecoder::open(&path, opts()).unwrap();
            // The built-in lossy decoders restart like FFmpeg's but are held to the SNR
            // their docs state; the exact ones stay exact.
            let expect = match (engine, expect) {
                (Engine::Ffmpeg, e) | (_, e @ Expect::Exact) => e,
                (_, Expect::Snr(f)) => Expect::Snr(f.min(10.0)),
            };
            let (failure, worst) = compare(name, &mut dec, &all, 300, expect);
            eprintln!(
                "{name:10} {:9}: 300 random ranges, {}",
                engine.name(),
                match (&failure, expect) {
                    (Some(_), _) => "FAILED".to_string(),
                    (None, Expect::Exact) => "bit-exact".to_string(),
                    (None, Expect::Snr(_)) => format!("lowest SNR {worst:.1} dB"),
                }
            );
            failures.extend(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
