//! Live senders that go and come back, and senders that stall: `encode --reconnect`
//! continues the same output with the next sender (its frames after the last one
//! written, timestamps monotonic), dropping a frame a sender broke off; `--timeout` ends a
//! silent input as a disconnect does (the output finished, exit 7). Each output is read
//! back with the crate's demuxer, and with ffprobe where it is installed.
#![cfg(unix)]

use crate::util;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use util::{demuxed_frames, expect_exit, ffprobe_frames, parts, s, send_signal, spawn, tmpdir, wait_child};

const W: usize = 64;
const H: usize = 48;
/// One frame at 25 fps in the 90 kHz clock the MP4 output uses.
const TICKS: i64 = 3600;

/// A Y4M header, and `n` frames (each a gradient of its own, from `first`) after it.
fn y4m(first: usize, n: usize) -> (Vec<u8>, Vec<u8>) {
    let header = format!("YUV4MPEG2 W{W} H{H} F25:1 Ip A1:1 C420jpeg\n").into_bytes();
    let mut frames = Vec::new();
    for i in first..first + n {
        frames.extend_from_slice(b"FRAME\n");
        frames.extend((0..W * H).map(|p| ((p % W) * 3 + i * 7) as u8));
        frames.extend(std::iter::repeat_n(128u8, W * H / 2));
    }
    (header, frames)
}

/// Bytes of one Y4M frame (its `FRAME` line and picture).
const FRAME: usize = 6 + W * H * 3 / 2;

/// Sends `frames` whole frames (from `first`), one per `pace`, and then `extra` bytes of
/// the next one; returns the stream (closing it is the caller's).
fn send(mut stream: TcpStream, first: usize, frames: usize, extra: usize, pace: Duration) -> TcpStream {
    let (header, data) = y4m(first, frames + 1);
    stream.write_all(&header).unwrap();
    for f in 0..frames {
        stream.write_all(&data[f * FRAME..(f + 1) * FRAME]).unwrap();
        std::thread::sleep(pace);
    }
    stream.write_all(&data[frames * FRAME..frames * FRAME + extra]).unwrap();
    stream.flush().unwrap();
    stream
}

/// Connects to `port` on loopback, retrying for up to 20 s while the CLI starts.
fn connect(port: u16) -> TcpStream {
    let start = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return s,
            Err(_) if start.elapsed() < Duration::from_secs(20) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("video-hw never listened on {port}: {e}"),
        }
    }
}

/// The video packets' timestamps of `file`, in presentation order, in the track's clock.
fn video_pts(file: &Path) -> Vec<i64> {
    let mut d = video_hw::media::Demuxer::open(file).unwrap();
    let video = d.video_track().unwrap().index;
    let mut pts = Vec::new();
    while let Some(p) = d.next_packet().unwrap() {
        if p.track == video {
            pts.push(p.pts.unwrap());
        }
    }
    pts.sort_unstable();
    pts
}

/// `file` reads back `frames` frames, whole, with the crate's demuxer and ffprobe.
fn reads_back(file: &Path, frames: u64) {
    let (n, err) = demuxed_frames(file);
    assert!(err.is_none(), "{}: {err:?}", file.display());
    assert_eq!(n, frames, "{}: frames demuxed", file.display());
    if let Some(n) = ffprobe_frames(file) {
        assert_eq!(n, frames, "{}: frames ffprobe decodes", file.display());
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn tcp_listen_reconnect_continues_the_same_output() {
    let dir = tmpdir("live-reconnect-listen");
    let out = dir.join("live.mp4");
    let port = free_port();
    let addr = format!("tcp-listen://127.0.0.1:{port}");
    let args = ["encode", &addr, "-o", s(&out), "--fragmented", "--reconnect", "--timeout", "1.5", "--json"];
    let child = spawn(&args, &[], Stdio::null());
    // Sender 1: 10 whole frames and half of the 11th, then gone.
    drop(send(connect(port), 0, 10, FRAME / 2, Duration::ZERO));
    // Sender 2: 4 whole frames and 100 bytes of the 5th, then silent (held open) past
    // --timeout: the CLI drops it and takes the next.
    let stalled = send(connect(port), 10, 4, 100, Duration::ZERO);
    // Sender 3: 6 whole frames, then closed. Then nobody: the wait ends after 1.5 s.
    drop(send(connect(port), 14, 6, 0, Duration::ZERO));
    let ended = Instant::now();
    let result = wait_child(child, "encode --reconnect");
    drop(stalled);
    let stderr = expect_exit(&result, 7, "no sender within --timeout");
    assert!(ended.elapsed() < Duration::from_secs(20), "{:?}", ended.elapsed());
    assert!(stderr.contains("no sender within 1.5 s (--timeout)"), "{stderr}");
    assert!(stderr.contains("sender 2 connected; its frames follow frame 10"), "{stderr}");
    assert!(stderr.contains("sender 3 connected; its frames follow frame 14"), "{stderr}");
    assert!(stderr.contains("no byte from the sender for 1.5 s"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], 20, "{summary}");
    assert_eq!(summary["reconnects"], 2, "{summary}");
    reads_back(&out, 20);
    // One output, frame after frame: timestamps 0, 1, 2, … frames apart.
    let pts = video_pts(&out);
    let first = pts[0];
    assert_eq!(pts, (0..20).map(|i| first + i * TICKS).collect::<Vec<_>>());
}

#[test]
fn tcp_connect_reconnects_with_backoff_and_arrival_times_follow_on() {
    let dir = tmpdir("live-reconnect-connect");
    let out = dir.join("live.mp4");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let addr = format!("tcp://127.0.0.1:{port}");
    let args = ["encode", &addr, "-o", s(&out), "--fragmented", "--reconnect", "--timestamps", "arrival", "--json"];
    let child = spawn(&args, &[], Stdio::null());
    // Nobody listens once a sender is connected: the CLI's attempts after it are
    // refused, and it retries, backing off.
    let (stream, _) = listener.accept().unwrap();
    drop(listener);
    drop(send(stream, 0, 5, 0, Duration::from_millis(40)));
    std::thread::sleep(Duration::from_secs(1));
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (stream, _) = listener.accept().unwrap();
    drop(listener);
    drop(send(stream, 5, 7, 0, Duration::from_millis(40)));
    // Then a stop while it retries: the output is finished, exit 130.
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    send_signal(child.id(), "INT");
    let result = wait_child(child, "encode tcp:// --reconnect");
    assert!(sent.elapsed() < Duration::from_secs(5), "ended {:?} after SIGINT", sent.elapsed());
    let (code, _, stderr) = parts(&result);
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("sender 2 connected; its frames follow frame 5"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], 12, "{summary}");
    assert_eq!(summary["reconnects"], 1, "{summary}");
    reads_back(&out, 12);
    // Arrival times: strictly increasing; the second sender's first frame one frame after
    // the first sender's last, not a second and more later.
    let pts = video_pts(&out);
    assert!(pts.windows(2).all(|w| w[1] > w[0]), "{pts:?}");
    let gap = pts[5] - pts[4];
    assert!(gap < 45_000, "the reconnect left a gap of {gap} ticks: {pts:?}");
}

#[test]
fn a_stalled_sender_ends_the_job_after_timeout() {
    let dir = tmpdir("live-stall");
    let out = dir.join("live.mp4");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("tcp://{}", listener.local_addr().unwrap());
    let args = ["encode", &addr, "-o", s(&out), "--fragmented", "--timeout", "1", "--json"];
    let child = spawn(&args, &[], Stdio::null());
    let (stream, _) = listener.accept().unwrap();
    // 6 whole frames and a third of the 7th, then nothing, the connection open.
    let stalled = send(stream, 0, 6, FRAME / 3, Duration::ZERO);
    let since = Instant::now();
    let result = wait_child(child, "encode --timeout");
    drop(stalled);
    let stderr = expect_exit(&result, 7, "a stalled sender");
    assert!(since.elapsed() < Duration::from_secs(10), "ended {:?} after the stall", since.elapsed());
    assert!(stderr.contains("no byte from the sender for 1 s (--timeout)"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], 6, "{summary}");
    assert!(summary["damage"].as_str().is_some_and(|d| d.contains("--timeout")), "{summary}");
    reads_back(&out, 6);
}

#[test]
fn reconnect_and_timeout_need_a_network_input() {
    let dir = tmpdir("live-flags");
    let (header, frames) = y4m(0, 2);
    let input = dir.join("in.y4m");
    std::fs::write(&input, [header, frames].concat()).unwrap();
    let out = dir.join("x.mp4");
    for flag in [&["--reconnect"][..], &["--timeout", "2"]] {
        let mut args = vec!["encode", s(&input), "-o", s(&out)];
        args.extend_from_slice(flag);
        expect_exit(&util::run(&args), 2, "--reconnect/--timeout with a file");
    }
    for bad in ["0", "-1", "x"] {
        expect_exit(&util::run(&["encode", "tcp://127.0.0.1:9", "-o", s(&out), "--timeout", bad]), 2, bad);
    }
}

#[test]
fn waiting_for_the_first_sender_is_bounded_and_stoppable() {
    let dir = tmpdir("live-first-sender");
    let out = dir.join("none.mp4");
    // Nobody comes within --timeout: exit 7, nothing written.
    let addr = format!("tcp-listen://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let result = util::run(&["encode", &addr, "-o", s(&out), "--timeout", "1"]);
    let stderr = expect_exit(&result, 7, "no first sender");
    assert!(stderr.contains("no sender within 1 s (--timeout)"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert!(!out.exists());
    // Nor without --timeout: SIGINT ends the wait at once (it is polled), exit 130.
    let addr = format!("tcp-listen://127.0.0.1:{}", free_port());
    let child = spawn(&["encode", &addr, "-o", s(&out)], &[], Stdio::null());
    util::wait_for_handlers(child.id());
    let sent = Instant::now();
    send_signal(child.id(), "INT");
    let result = wait_child(child, "encode tcp-listen:// waiting");
    assert!(sent.elapsed() < Duration::from_secs(3), "ended {:?} after SIGINT", sent.elapsed());
    assert_eq!(parts(&result).0, 130, "{}", parts(&result).2);
    assert!(!out.exists());
}
