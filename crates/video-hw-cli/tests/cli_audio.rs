//! `video-hw decode` of audio tracks to raw samples and WAV: the bytes ffmpeg writes.
//! PCM and FLAC are exact on every engine (against ffmpeg's recorded decode in
//! testdata/audio/reference.json); with FFmpeg loaded and the ffmpeg tool on the same
//! libavcodec, lossy codecs are compared byte for byte with `ffmpeg -f f32le` run now.
//! Ranges (`--start`, `--duration`) are slices of the whole decode, whatever the chunks the
//! command decodes in.

use crate::util;

use std::path::Path;
use std::process::Command;

use md5::{Digest, Md5};
use util::{expect_exit, ffmpeg_loaded, ffmpeg_tool_matches_loaded, run, s, testdata, tmpdir};

fn reference(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(testdata("audio/reference.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["files"][name]["audio"][0].clone()
}

fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

fn decode(input: &Path, out: &Path, extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["-q", "decode", s(input), "-o", s(out)];
    args.extend_from_slice(extra);
    expect_exit(&run(&args), 0, "audio decode");
    std::fs::read(out).unwrap()
}

#[test]
fn pcm_and_flac_to_f32le_are_ffmpegs_bytes_on_every_engine() {
    let dir = tmpdir("cli-audio-exact");
    for name in ["pcm-s16-stereo-44k.wav", "pcm-s24-5.1-48k.wav", "pcm-u8-mono-8k.wav", "flac-stereo-44k.flac"] {
        let r = reference(name);
        let out = dir.join(format!("{name}.f32"));
        let bytes = decode(&testdata(&format!("audio/{name}")), &out, &["-f", "f32le"]);
        let (samples, channels) = (r["samples"].as_u64().unwrap(), r["channels"].as_u64().unwrap());
        assert_eq!(bytes.len() as u64, samples * channels * 4, "{name}: every sample of every channel");
        assert_eq!(md5_hex(&bytes), r["md5"].as_str().unwrap(), "{name}: ffmpeg's f32le bytes");
    }
}

#[test]
fn s16le_and_wav_are_the_float_samples_converted_as_libswresample_does() {
    let dir = tmpdir("cli-audio-s16");
    let input = testdata("audio/flac-stereo-44k.flac");
    let f32 = decode(&input, &dir.join("a.f32"), &["-f", "f32le"]);
    let want: Vec<u8> = f32
        .chunks_exact(4)
        .flat_map(|b| video_hw::audio::f32_to_s16(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_le_bytes())
        .collect();
    let s16 = decode(&input, &dir.join("a.s16"), &["-f", "s16le"]);
    assert_eq!(s16, want, "s16le");
    let wav = decode(&input, &dir.join("a.wav"), &[]);
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    let data_len = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
    assert_eq!(data_len, want.len(), "the data chunk's size in the header");
    assert_eq!(u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize, 36 + want.len(), "the RIFF size");
    assert_eq!(&wav[44..], &want[..], "WAV samples");
}

#[test]
fn ranges_are_slices_of_the_whole_decode() {
    let dir = tmpdir("cli-audio-range");
    let input = testdata("audio/pcm-s16-stereo-44k.wav");
    let whole = decode(&input, &dir.join("all.f32"), &["-f", "f32le"]);
    let frame = 2 * 4;
    for (start, duration) in [("0.05", "0.1"), ("0", "0.02"), ("0.2", "5")] {
        let part = decode(&input, &dir.join("part.f32"), &["-f", "f32le", "--start", start, "--duration", duration]);
        let (a, d): (f64, f64) = (start.parse().unwrap(), duration.parse().unwrap());
        let first = (a * 44100.0).round() as usize;
        let last = (((a + d) * 44100.0).round() as usize).min(whole.len() / frame);
        assert_eq!(part, whole[first * frame..last * frame], "--start {start} --duration {duration}");
    }
}

#[test]
fn lossy_codecs_to_f32le_equal_ffmpeg_run_now() {
    if !ffmpeg_loaded() || !ffmpeg_tool_matches_loaded() {
        eprintln!("note: FFmpeg not loaded, or the ffmpeg tool runs another libavcodec: nothing to compare");
        return;
    }
    let dir = tmpdir("cli-audio-ffmpeg");
    for name in
        ["aac-stereo-44k.mp4", "aac-5.1-48k.mp4", "opus-stereo.webm", "mp3-stereo-44k.mp3", "vorbis-stereo-44k.ogg"]
    {
        let input = testdata(&format!("audio/{name}"));
        let ours = decode(&input, &dir.join("ours.f32"), &["-f", "f32le"]);
        let theirs = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i", s(&input), "-map", "0:a:0", "-f", "f32le", "-"])
            .output()
            .expect("ffmpeg");
        assert!(theirs.status.success(), "ffmpeg on {name}");
        assert_eq!(ours.len(), theirs.stdout.len(), "{name}: as many samples as ffmpeg writes");
        assert!(ours == theirs.stdout, "{name}: ffmpeg's bytes");
    }
}
