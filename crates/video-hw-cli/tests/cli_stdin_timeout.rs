//! `--timeout` on stdin: a sender on a pipe that stalls (sends part of its stream, then
//! nothing, the pipe kept open) ends `decode -`, `transcode -` and `encode -` like a
//! network sender that stalls: every whole frame received is written, the output finished
//! and readable, one error line naming the timeout, exit 7 (a container, spooled to a
//! temporary file first, is read as far as it came). A stop while waiting on the
//! silent pipe is seen at once (poll(2) in waits of 50 ms), and the frames the decoder
//! held are drained, not lost.
#![cfg(unix)]

use crate::util;

use std::io::Write;
use std::process::{ChildStdin, Stdio};
use std::time::{Duration, Instant};

use util::{demuxed_frames, expect_exit, frame_lines, parts, s, send_signal, spawn, testdata, tmpdir, wait_child};

/// The raw H.264 fixture (30 frames with B-frames) and its frames (framemd5 lines).
fn annexb() -> (Vec<u8>, Vec<(String, String)>) {
    let data = std::fs::read(testdata("h264/main-cabac-bframes-testsrc2-320x240.h264")).unwrap();
    let reference =
        std::fs::read_to_string(testdata("h264/main-cabac-bframes-testsrc2-320x240.h264.yuv.framemd5")).unwrap();
    (data, frame_lines(&reference))
}

/// Starts `args` with a pipe as stdin, writes `data` into it and keeps it open (the
/// sender stalls): the child and its stdin.
fn stalled_sender(args: &[&str], data: &[u8]) -> (std::process::Child, ChildStdin) {
    let mut child = spawn(args, &[], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(data).unwrap();
    stdin.flush().unwrap();
    (child, stdin)
}

#[test]
fn decode_of_a_stalled_stdin_ends_after_timeout_with_every_frame() {
    let dir = tmpdir("stdin-stall-decode");
    let out = dir.join("out.framemd5");
    let (data, reference) = annexb();
    let args = ["decode", "-", "-o", s(&out), "--framemd5", "--timeout", "1", "--json"];
    let (child, stdin) = stalled_sender(&args, &data);
    let since = Instant::now();
    let result = wait_child(child, "decode - --timeout");
    drop(stdin);
    let stderr = expect_exit(&result, 7, "a stalled stdin");
    let took = since.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(15), "{took:?}");
    assert!(stderr.contains("stdin: no byte from the sender for 1 s (--timeout)"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], reference.len() as u64, "{summary}");
    // Every frame of what came, the decoder drained: exactly the stream's frames.
    let got = frame_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(got, reference);
}

#[test]
fn transcode_of_a_stalled_stdin_finishes_the_container() {
    let dir = tmpdir("stdin-stall-transcode");
    let out = dir.join("out.mkv");
    let (data, reference) = annexb();
    let args = ["transcode", "-", "-o", s(&out), "--codec", "h264", "--timeout", "1", "--json"];
    let (child, stdin) = stalled_sender(&args, &data);
    let result = wait_child(child, "transcode - --timeout");
    drop(stdin);
    let stderr = expect_exit(&result, 7, "a stalled stdin");
    assert!(stderr.contains("(--timeout)"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], reference.len() as u64, "{summary}");
    let (n, err) = demuxed_frames(&out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(n, reference.len() as u64);
    if let Some(n) = util::ffprobe_frames(&out) {
        assert_eq!(n, reference.len() as u64, "frames ffprobe decodes");
    }
}

#[test]
fn a_container_on_a_stalled_stdin_decodes_what_came() {
    // A container on stdin is spooled to a temporary file first; a stall ends the spooling
    // and what came is read as a cut file: its frames written, then exit 7.
    let dir = tmpdir("stdin-stall-ts");
    let out = dir.join("out.framemd5");
    let data = std::fs::read(testdata("media/h264-aac.ts")).unwrap();
    let reference = frame_lines(&std::fs::read_to_string(testdata("media/h264-aac.ts.framemd5")).unwrap());
    let args = ["decode", "-", "-o", s(&out), "--framemd5", "--timeout", "1", "--json"];
    let (child, stdin) = stalled_sender(&args, &data[..data.len() / 2]);
    let result = wait_child(child, "decode - --timeout (MPEG-TS)");
    drop(stdin);
    let stderr = expect_exit(&result, 7, "a stalled stdin");
    assert!(stderr.contains("stdin: no byte from the sender for 1 s (--timeout)"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    let frames = summary["frames"].as_u64().unwrap() as usize;
    assert!(frames > 20 && frames < reference.len(), "{summary}");
    // Exactly what a decode of the cut file gives (its last PES, cut short, decoded as
    // far as it goes), every frame before it the finished file's.
    let cut = dir.join("half.ts");
    std::fs::write(&cut, &data[..data.len() / 2]).unwrap();
    let cut_out = dir.join("cut.framemd5");
    let _ = util::run(&["decode", s(&cut), "-o", s(&cut_out), "--framemd5", "-q"]);
    let got = frame_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(got, frame_lines(&std::fs::read_to_string(&cut_out).unwrap()), "a decode of the cut file");
    assert_eq!(got[..frames - 1], reference[..frames - 1], "the frames of the finished file");
}

#[test]
fn ivf_on_a_stalled_stdin_keeps_the_whole_frames() {
    // IVF from stdin is read as it comes (not spooled): the frames before the one the
    // stall cut, each the stream's own.
    let dir = tmpdir("stdin-stall-ivf");
    let out = dir.join("out.framemd5");
    let data = std::fs::read(testdata("av1/aomenc-fwdkf-cars-320x240.ivf")).unwrap();
    let reference =
        frame_lines(&std::fs::read_to_string(testdata("av1/aomenc-fwdkf-cars-320x240.ivf.yuv.framemd5")).unwrap());
    let args = ["decode", "-", "-o", s(&out), "--framemd5", "--timeout", "1", "--json"];
    let (child, stdin) = stalled_sender(&args, &data[..data.len() * 2 / 3]);
    let result = wait_child(child, "decode - --timeout (IVF)");
    drop(stdin);
    let stderr = expect_exit(&result, 7, "a stalled stdin");
    assert!(stderr.contains("stdin: no byte from the sender for 1 s (--timeout)"), "{stderr}");
    let got = frame_lines(&std::fs::read_to_string(&out).unwrap());
    assert!(got.len() > 5 && got.len() < reference.len(), "{} frames", got.len());
    assert_eq!(got[..], reference[..got.len()]);
}

#[test]
fn encode_of_a_stalled_stdin_keeps_the_whole_frames() {
    let dir = tmpdir("stdin-stall-encode");
    let out = dir.join("out.mp4");
    let (w, h) = (64usize, 48usize);
    let frame = w * h * 3 / 2;
    let mut data = format!("YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\n").into_bytes();
    for i in 0..5 {
        data.extend_from_slice(b"FRAME\n");
        data.extend((0..frame).map(|j| ((i * 40 + j) % 251) as u8));
    }
    // A third of a sixth frame, then nothing.
    data.extend_from_slice(b"FRAME\n");
    data.extend(std::iter::repeat_n(9u8, frame / 3));
    let args = ["encode", "-", "-o", s(&out), "--timeout", "1", "--json"];
    let (child, stdin) = stalled_sender(&args, &data);
    let result = wait_child(child, "encode - --timeout");
    drop(stdin);
    let stderr = expect_exit(&result, 7, "a stalled stdin");
    assert!(stderr.contains("stdin: no byte from the sender for 1 s (--timeout)"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], 5, "{summary}");
    let (n, err) = demuxed_frames(&out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(n, 5);
    if let Some(n) = util::ffprobe_frames(&out) {
        assert_eq!(n, 5, "frames ffprobe decodes");
    }
}

#[test]
fn sigint_while_waiting_on_a_silent_stdin_drains_every_frame() {
    let dir = tmpdir("stdin-wait-sigint");
    let out = dir.join("out.framemd5");
    // 8 copies of the stream (each from its IDR): more than the 256 KiB the input is
    // probed with, so the stop comes while the job waits for more, mid-stream.
    let (one, frames) = annexb();
    let (data, reference) = (one.repeat(8), (0..8).flat_map(|_| frames.iter().cloned()).collect::<Vec<_>>());
    let args = ["decode", "-", "-o", s(&out), "--framemd5", "--timeout", "60", "--json"];
    let (child, stdin) = stalled_sender(&args, &data);
    util::wait_for_handlers(child.id());
    // Everything sent is decoded but what the decoder holds for the next input.
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    send_signal(child.id(), "INT");
    let result = wait_child(child, "decode - --timeout 60");
    let took = sent.elapsed();
    drop(stdin);
    let (code, _, stderr) = parts(&result);
    assert_eq!(code, 130, "{stderr}");
    // The wait ends at the signal (bounded loosely: a loaded machine drains slowly).
    assert!(took < Duration::from_secs(3), "ended {took:?} after SIGINT");
    // The input ended at the stop, so the decoder was drained: every frame, none lost.
    let got = frame_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(got, reference);
}

#[test]
fn timeout_takes_stdin_or_a_followed_file() {
    let dir = tmpdir("stdin-timeout-flags");
    let out = dir.join("x.mp4");
    let ts = testdata("media/h264-aac.ts");
    expect_exit(&util::run(&["decode", s(&ts), "-o", s(&out), "--timeout", "1"]), 2, "decode FILE --timeout");
    expect_exit(&util::run(&["transcode", s(&ts), "-o", s(&out), "--timeout", "1"]), 2, "transcode FILE --timeout");
    expect_exit(&util::run(&["encode", "-", "-o", s(&out), "--reconnect"]), 2, "encode - --reconnect");
    // A sender that sends everything and closes: the timeout never fires (exit 0).
    let (data, reference) = annexb();
    let o = util::run_stdin(&["decode", "-", "-o", s(&out), "--framemd5", "--timeout", "5", "-q"], &data);
    expect_exit(&o, 0, "decode - --timeout of a sender that closes");
    assert_eq!(frame_lines(&std::fs::read_to_string(&out).unwrap()), reference);
}
