//! The demuxers' audio facts against ffmpeg's, on the audio fixtures of `testdata/audio/`
//! (made by `scripts/make-audio-fixtures.sh`; `reference.json` holds ffprobe's facts and
//! ffmpeg's decode of every audio stream): every fixture in a container video-hw reads
//! opens and reads to its end (audio-only files through Symphonia's readers); each audio track's codec, sample rate, channels and
//! channel layout are ffprobe's; its packets last about as long as ffmpeg's decode; the
//! damaged and truncated files give packets and typed errors, never a panic. With ffprobe
//! on the PATH the same facts are compared with a live ffprobe too.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::read_all;
use serde_json::Value;
use video_hw::Error;
use video_hw::media::audio::ItunSmpb;
use video_hw::media::{Demuxer, Track, TrackKind};

fn audio_dir() -> PathBuf {
    common::repo_root().join("testdata/audio")
}

fn reference() -> Value {
    let path = audio_dir().join("reference.json");
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/make-audio-fixtures.sh)", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn damaged(name: &str) -> bool {
    name.starts_with("damaged-") || name.starts_with("truncated-")
}

/// ffprobe's codec name as video-hw's (`pcm_s16le` is `pcm`).
fn codec_name(ffprobe: &str) -> &str {
    if ffprobe.starts_with("pcm_") { "pcm" } else { ffprobe }
}

/// Checks a track's facts against one ffprobe stream; the mismatches, as text.
fn compare(name: &str, t: &Track, s: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let Some(a) = t.audio else {
        return vec![format!("{name}: track {} ({}) has no audio facts", t.index, t.codec)];
    };
    let want_codec = codec_name(s["codec"].as_str().or(s["codec_name"].as_str()).unwrap_or(""));
    if t.codec.name() != want_codec {
        bad.push(format!("{name}: codec {} vs ffprobe {want_codec}", t.codec.name()));
    }
    let num = |k: &str| s[k].as_u64().or_else(|| s[k].as_str().and_then(|v| v.parse().ok())).unwrap_or(0);
    if u64::from(a.sample_rate) != num("sample_rate") {
        bad.push(format!("{name}: sample rate {} vs ffprobe {}", a.sample_rate, num("sample_rate")));
    }
    if u64::from(a.channels) != num("channels") {
        bad.push(format!("{name}: channels {} vs ffprobe {}", a.channels, num("channels")));
    }
    let layout = s["channel_layout"].as_str().unwrap_or("unknown");
    // ffprobe prints "unknown" for an unspecified order; video-hw names it "N channels".
    let ours = if a.layout.is_specified() { a.layout.name() } else { "unknown".to_string() };
    if ours != layout {
        bad.push(format!("{name}: layout {ours} vs ffprobe {layout}"));
    }
    bad
}

#[test]
fn every_fixture_matches_ffmpeg() {
    let reference = reference();
    let files = reference["files"].as_object().expect("files");
    assert!(files.len() >= 35, "fixtures missing: run scripts/make-audio-fixtures.sh");
    let mut bad = Vec::new();
    let mut compared = 0;
    for (name, facts) in files {
        let path = audio_dir().join(name);
        let opened = Demuxer::open(&path);
        let mut d = match opened {
            Ok(d) => d,
            Err(e) => {
                // A truncated file may lose what the container needs to open at all.
                assert!(damaged(name), "{name}: {e}");
                assert!(matches!(e, Error::InvalidBitstream { .. } | Error::Io(_)), "{name}: {e}");
                continue;
            }
        };
        let tracks: Vec<Track> = d.tracks().iter().filter(|t| t.kind == TrackKind::Audio).cloned().collect();
        let streams = facts["audio"].as_array().unwrap();
        assert_eq!(tracks.len(), streams.len(), "{name}: audio tracks");
        for (t, s) in tracks.iter().zip(streams) {
            bad.extend(compare(name, t, s));
            compared += 1;
        }
        let (packets, errors) = read_all(&mut d);
        if !damaged(name) {
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
        for e in &errors {
            assert!(matches!(e, Error::InvalidBitstream { .. } | Error::Io(_)), "{name}: {e}");
        }
        for (t, s) in tracks.iter().zip(streams) {
            let mine: Vec<_> = packets.iter().filter(|p| p.track == t.index).collect();
            assert!(!mine.is_empty(), "{name}: no packets of track {}", t.index);
            // The packets' durations, or where the container states none (Matroska
            // blocks without BlockDuration), the span of their timestamps and one step.
            let mut total: i64 = mine.iter().map(|p| p.duration.unwrap_or(0)).sum();
            let pts: Vec<i64> = mine.iter().filter_map(|p| p.pts).collect();
            let (lo, hi) = (pts.iter().min().copied().unwrap_or(0), pts.iter().max().copied().unwrap_or(0));
            let step = if pts.len() > 1 { (hi - lo) / (pts.len() as i64 - 1) } else { 0 };
            if total == 0 {
                total = hi - lo + step;
            }
            let seconds = t.seconds(total);
            let frame = t.seconds(if step > 0 { step } else { total / mine.len() as i64 });
            let rate = s["sample_rate"].as_f64().unwrap();
            let decoded = s["samples"].as_f64().unwrap() / rate;
            // Whole frames (AAC priming and the last frame's padding are in the
            // packets' durations, Opus's pre-skip too): within a frame and 50 ms.
            if damaged(name) {
                assert!(
                    seconds <= decoded + frame + 0.05,
                    "{name}: packets last {seconds:.3} s, ffmpeg decoded {decoded:.3} s"
                );
            } else if (seconds - decoded).abs() > frame + 0.05 {
                bad.push(format!("{name}: packets last {seconds:.3} s, ffmpeg decoded {decoded:.3} s"));
            }
            if name.starts_with("av-") {
                // Where the audio starts against the video, as ffprobe's start_time.
                let first = mine.iter().filter_map(|p| p.pts).min().map(|p| t.seconds(p));
                let want = s["start_time"].as_str().and_then(|v| v.parse::<f64>().ok());
                if let (Some(a), Some(b)) = (first, want)
                    && (a - b).abs() > 0.03
                {
                    bad.push(format!("{name}: audio starts at {a:.3} s, ffprobe says {b:.3} s"));
                }
            }
        }
    }
    assert!(compared >= 25, "only {compared} audio tracks compared");
    assert!(bad.is_empty(), "{} mismatches:\n{}", bad.len(), bad.join("\n"));
}

/// The same facts against ffprobe as installed (another ffmpeg version than the one that
/// made reference.json may differ in details; rate, channels and layout should not).
#[test]
fn facts_match_live_ffprobe() {
    if Command::new("ffprobe").arg("-version").output().is_err() {
        eprintln!("note: no ffprobe on the PATH; skipped");
        return;
    }
    let mut bad = Vec::new();
    for (name, _) in reference()["files"].as_object().unwrap() {
        if damaged(name) {
            continue;
        }
        let path = audio_dir().join(name);
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-show_streams", "-select_streams", "a", "-of", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = Demuxer::open(&path).unwrap();
        let tracks: Vec<&Track> = d.tracks().iter().filter(|t| t.kind == TrackKind::Audio).collect();
        let streams = v["streams"].as_array().unwrap();
        assert_eq!(tracks.len(), streams.len(), "{name}");
        for (t, s) in tracks.into_iter().zip(streams) {
            bad.extend(compare(name, t, s));
        }
    }
    assert!(bad.is_empty(), "{} mismatches:\n{}", bad.len(), bad.join("\n"));
}

/// Every prefix and a damaged copy of a few fixtures: packets or typed errors, no panic.
#[test]
fn cut_and_damaged_never_panic() {
    for name in ["aac-stereo-44k.mp4", "aac-mono-16k-frag.mp4", "opus-stereo.webm", "aac-5.1-48k.ts", "opus-5.1.mp4"] {
        let bytes = std::fs::read(audio_dir().join(name)).unwrap();
        let step = bytes.len() / 40 + 1;
        for cut in (0..bytes.len()).step_by(step) {
            if let Ok(mut d) = Demuxer::from_bytes(bytes[..cut].to_vec()) {
                let _ = read_all(&mut d);
            }
        }
        for at in (0..bytes.len()).step_by(step + 13) {
            let mut copy = bytes.clone();
            for b in copy.iter_mut().skip(at).take(16) {
                *b ^= 0x5a;
            }
            if let Ok(mut d) = Demuxer::from_bytes(copy) {
                let _ = read_all(&mut d);
            }
        }
    }
}

/// MP4 `iTunSMPB` gapless information reaches the track; files without it have none.
#[test]
fn itunes_gapless_information() {
    let d = Demuxer::open(audio_dir().join("aac-stereo-44k-itunsmpb.mp4")).unwrap();
    let a = d.tracks()[0].audio.unwrap();
    assert_eq!(a.gapless, Some(ItunSmpb { priming: 1024, padding: 832, samples: 44100 }));
    assert_eq!((a.sample_rate, a.channels), (44100, 2));
    let d = Demuxer::open(audio_dir().join("aac-stereo-44k.mp4")).unwrap();
    assert_eq!(d.tracks()[0].audio.unwrap().gapless, None);
}
