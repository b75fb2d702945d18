//! Signals in the middle of a job: SIGINT/SIGTERM stop reading, drain what is in flight
//! and finish the output (MP4 with its moov, Matroska with its cues, raw frames whole,
//! fragmented MP4 to stdout), exit 130/143 with the summary saying so; a second signal, or
//! a job that cannot stop within `VIDEO_HW_STOP_GRACE`, ends the process at once; SIGKILL
//! leaves a fragmented MP4 readable up to its last complete fragment. Each output is
//! checked with the crate's own demuxer, and with ffprobe where it is installed.
#![cfg(unix)]

use crate::util;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use util::{demuxed_frames, ffprobe_frames, long_mp4, parts, s, send_signal, spawn, tmpdir, wait_child, wait_for_file};

/// The `--json` summary on stdout.
fn summary(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("summary JSON: {e}: {}", parts(out).2))
}

/// Sends `signal` to `pid` while it is paused (SIGSTOP, then SIGCONT): the signal is
/// handled the moment it runs again, wherever it was, however fast the job runs here.
fn signal_paused(pid: u32, signal: &str) {
    send_signal(pid, "STOP");
    send_signal(pid, signal);
    send_signal(pid, "CONT");
}

/// Runs `args` (writing `output`), sends `signal` once `output` holds `bytes` (an
/// encoder's output exists from its first frame; raw frames are buffered, 1 MiB), and
/// returns what the job said; checks the exit status and the summary's interruption.
fn interrupted(args: &[&str], output: &Path, bytes: u64, signal: &str, code: i32) -> (Output, u64) {
    let child = spawn(args, &[], Stdio::null());
    wait_for_file(output, bytes);
    signal_paused(child.id(), signal);
    let out = wait_child(child, args[0]);
    let (got, _, stderr) = parts(&out);
    assert_eq!(got, code, "{args:?}: exit {got}: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("video-hw: error"), "{stderr}");
    assert!(stderr.contains(&format!("SIG{signal}: finishing the output")), "{stderr}");
    let json = summary(&out);
    assert_eq!(json["interrupted"], format!("SIG{signal}"), "{json}");
    let frames = json["frames"].as_u64().unwrap();
    assert!(frames > 0 && frames < 600, "{frames} frames: the signal came mid-job");
    (out, frames)
}

/// The container at `path` reads back `frames` video frames, whole, with our demuxer and
/// with ffprobe.
fn reads_back(path: &Path, frames: u64) {
    let (n, err) = demuxed_frames(path);
    assert!(err.is_none(), "{}: {err:?}", path.display());
    assert_eq!(n, frames, "{}: frames demuxed", path.display());
    if let Some(n) = ffprobe_frames(path) {
        assert_eq!(n, frames, "{}: frames ffprobe decodes", path.display());
    }
}

#[test]
fn sigint_mid_transcode_finishes_the_mp4() {
    let dir = tmpdir("sigint-mp4");
    let out = dir.join("out.mp4");
    let input = long_mp4();
    let args = ["transcode", s(&input), "-o", s(&out), "--codec", "h264", "--json"];
    let (_, frames) = interrupted(&args, &out, 0, "INT", 130);
    reads_back(&out, frames);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.windows(4).any(|w| w == b"moov"), "the moov was written");
}

#[test]
fn sigterm_mid_transcode_finishes_the_matroska_with_cues() {
    let dir = tmpdir("sigterm-mkv");
    let out = dir.join("out.mkv");
    let input = long_mp4();
    let args = ["transcode", s(&input), "-o", s(&out), "--codec", "h264", "--json"];
    let (_, frames) = interrupted(&args, &out, 0, "TERM", 143);
    reads_back(&out, frames);
    // Cues (0x1C53BB6B), written at the end.
    assert!(std::fs::read(&out).unwrap().windows(4).any(|w| w == [0x1c, 0x53, 0xbb, 0x6b]), "cues");
}

#[test]
fn sigterm_mid_decode_keeps_whole_raw_frames() {
    let dir = tmpdir("sigterm-raw");
    let out = dir.join("out.yuv");
    let input = long_mp4();
    let args = ["decode", s(&input), "-o", s(&out), "--json"];
    let (_, frames) = interrupted(&args, &out, 1, "TERM", 143);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), frames * 320 * 240 * 3 / 2, "whole frames, all flushed");
}

#[test]
fn sigint_mid_fragmented_stream_to_stdout() {
    let dir = tmpdir("sigint-fmp4-stdout");
    let out = dir.join("out.mp4");
    let input = long_mp4();
    let args = ["transcode", s(&input), "-o", "-", "--fragmented", "--codec", "h264"];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .args(args)
        .env_remove("VIDEO_HW_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_file(&out, 1);
    signal_paused(child.id(), "INT");
    let stderr = child.stderr.take().unwrap();
    let text = std::io::read_to_string(stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{text}");
    let said = text.split("interrupted by SIGINT: ").nth(1).expect(&text);
    let frames: u64 = said.split(' ').next().unwrap().parse().unwrap();
    assert!(frames > 0 && frames < 600, "{text}");
    reads_back(&out, frames);
}

#[test]
fn sigkill_leaves_a_fragmented_mp4_playable() {
    let dir = tmpdir("sigkill-fmp4");
    let out = dir.join("out.mp4");
    let args = ["encode", "--synthetic", "100000", "--size", "320x240", "-o", s(&out), "--fragmented", "-q"];
    let mut child = spawn(&args, &[], Stdio::null());
    // Some fragments in (200 KB: a few seconds of the pattern), then killed outright.
    wait_for_file(&out, 200_000);
    send_signal(child.id(), "KILL");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by the signal");
    let (n, err) = demuxed_frames(&out);
    assert!(n >= 10, "{n} frames before {err:?}");
    if let Some(probed) = ffprobe_frames(&out) {
        assert!(probed >= n.min(10), "ffprobe decodes {probed} frames");
    }
}

/// `encode -` with the Y4M header and one frame written and the pipe kept open (a live
/// sender that sends nothing more), once the output is opened.
fn waiting_encode(dir: &Path) -> (std::process::Child, std::process::ChildStdin, std::path::PathBuf) {
    let out = dir.join("out.mp4");
    let mut child = spawn(&["encode", "-", "-o", s(&out)], &[], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\nFRAME\n").unwrap();
    stdin.write_all(&[128u8; 64 * 48 * 3 / 2]).unwrap();
    stdin.flush().unwrap();
    // The MP4 is created (empty) when the encoder opens at the first frame.
    wait_for_file(&out, 0);
    (child, stdin, out)
}

#[test]
fn sigint_while_a_live_input_sends_nothing_finishes_the_output() {
    let dir = tmpdir("sigint-live");
    let (child, _stdin, out) = waiting_encode(&dir);
    let sent = Instant::now();
    send_signal(child.id(), "INT");
    let got = wait_child(child, "encode");
    assert!(sent.elapsed() < Duration::from_secs(10), "ended {:?} after the signal", sent.elapsed());
    let (code, _, stderr) = parts(&got);
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("interrupted by SIGINT: 1 frames written"), "{stderr}");
    reads_back(&out, 1);
}

/// `decode -` of a raw H.264 stream whose sender sends less than the 256 KiB the input is
/// probed with and then nothing, the pipe kept open: the job blocks in that read before
/// it starts, which no signal interrupts (the stop then waits for the grace, or a second
/// signal).
fn blocked_decode(dir: &Path, env: &[(&str, &str)]) -> (std::process::Child, std::process::ChildStdin) {
    let out = dir.join("out.yuv");
    let mut child = spawn(&["decode", "-", "-o", s(&out)], env, Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&std::fs::read(util::testdata("h264/gop12-idr-cars-320x240.h264")).unwrap()).unwrap();
    stdin.flush().unwrap();
    // Its handlers in, then time to read what was sent and block on the pipe.
    util::wait_for_handlers(child.id());
    std::thread::sleep(Duration::from_millis(500));
    (child, stdin)
}

#[test]
fn a_second_signal_ends_the_process_at_once() {
    let dir = tmpdir("second-signal");
    let (mut child, _stdin) = blocked_decode(&dir, &[("VIDEO_HW_STOP_GRACE", "120")]);
    send_signal(child.id(), "INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "still waiting on its input after the first signal");
    let sent = Instant::now();
    send_signal(child.id(), "TERM");
    let out = wait_child(child, "decode");
    assert!(sent.elapsed() < Duration::from_secs(10), "ended {:?} after the second signal", sent.elapsed());
    assert_eq!(out.status.code(), Some(143), "{}", parts(&out).2);
}

#[test]
fn a_stop_that_cannot_finish_is_bounded() {
    let dir = tmpdir("stop-grace");
    let (child, _stdin) = blocked_decode(&dir, &[("VIDEO_HW_STOP_GRACE", "0.5")]);
    let sent = Instant::now();
    send_signal(child.id(), "INT");
    let out = wait_child(child, "decode");
    assert!(sent.elapsed() < Duration::from_secs(20), "ended {:?} after the signal", sent.elapsed());
    let (code, _, stderr) = parts(&out);
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("did not finish within 0.5 s of SIGINT"), "{stderr}");
}

#[test]
fn sigint_while_stdin_sends_nothing_finishes_the_decode() {
    let dir = tmpdir("sigint-stdin");
    let out = dir.join("out.yuv");
    let args = ["decode", "-", "-o", s(&out), "--json"];
    let mut child = spawn(&args, &[("VIDEO_HW_STOP_GRACE", "60")], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    // Ten copies of a short stream (620 KiB), then nothing: the decode pipeline's thread
    // blocks reading the pipe, with every frame before decoded.
    let clip = std::fs::read(util::testdata("h264/gop12-idr-cars-320x240.h264")).unwrap();
    stdin.write_all(&clip.repeat(10)).unwrap();
    stdin.flush().unwrap();
    wait_for_file(&out, 1);
    let sent = Instant::now();
    send_signal(child.id(), "INT");
    let got = wait_child(child, "decode");
    assert!(sent.elapsed() < Duration::from_secs(20), "ended {:?} after the signal", sent.elapsed());
    drop(stdin);
    let (code, _, stderr) = parts(&got);
    assert_eq!(code, 130, "{stderr}");
    let json = summary(&got);
    assert_eq!(json["interrupted"], "SIGINT", "{json}");
    let frames = json["frames"].as_u64().unwrap();
    assert!(frames > 0, "{frames}");
    assert_eq!(std::fs::metadata(&out).unwrap().len(), frames * 320 * 240 * 3 / 2, "whole frames, all flushed");
}
