//! Live input to `encode`: frames from a TCP sender (`tcp://`, `tcp-listen://`) that
//! delivers in bursts, into a fragmented MP4 (a file, or stdout) that is complete whenever
//! the input stops; a sender gone mid-frame leaves every frame before it playable, exit 4.

use crate::util;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{expect_exit, run, s, tmpdir};

const W: usize = 64;
const H: usize = 48;

/// A Y4M stream of `n` frames (each a different gradient), and where each frame starts.
fn y4m(n: usize) -> (Vec<u8>, Vec<usize>) {
    let mut out = format!("YUV4MPEG2 W{W} H{H} F25:1 Ip A1:1 C420jpeg\n").into_bytes();
    let mut starts = Vec::new();
    for i in 0..n {
        starts.push(out.len());
        out.extend_from_slice(b"FRAME\n");
        out.extend((0..W * H).map(|p| ((p % W) * 3 + i * 7) as u8));
        out.extend(std::iter::repeat_n(128u8, W * H / 2));
    }
    (out, starts)
}

/// Writes `data` in bursts with pauses of 0-40 ms (a fixed seed, so every run is alike).
fn send_in_bursts(mut stream: TcpStream, data: &[u8]) {
    let mut seed = 0x2545_f491_u32;
    let mut at = 0;
    while at < data.len() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed as usize % 20_000 + 1).min(data.len() - at);
        stream.write_all(&data[at..at + n]).unwrap();
        at += n;
        std::thread::sleep(Duration::from_millis(u64::from(seed % 41)));
    }
}

/// Frames in `file` as `video-hw info` counts them (its frame index).
fn frames_in(file: &Path) -> u64 {
    let out = run(&["info", s(file), "--json"]);
    expect_exit(&out, 0, "info of the output");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["container"], "mp4", "{v}");
    v["frames"].as_u64().unwrap()
}

#[test]
fn tcp_sender_in_bursts_to_fragmented_mp4() {
    let dir = tmpdir("live-connect");
    let out = dir.join("live.mp4");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (data, _) = y4m(40);
    let sender = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        send_in_bursts(stream, &data);
    });
    let result =
        run(&["--stats", "encode", &format!("tcp://{addr}"), "-o", s(&out), "--fragmented", "--ring-depth", "5", "-q"]);
    sender.join().unwrap();
    let stderr = expect_exit(&result, 0, "encode from tcp://");
    assert_eq!(frames_in(&out), 40);
    // The ring that absorbs the bursts: its depth, peak and waits in --stats.
    assert!(stderr.contains("queue: 5 deep, peak"), "{stderr}");
}

#[test]
fn tcp_listen_accepts_one_sender() {
    let dir = tmpdir("live-listen");
    let out = dir.join("live.mp4");
    // A port free a moment ago.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .args(["encode", &format!("tcp-listen://127.0.0.1:{port}"), "-o", s(&out), "--fragmented", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if start.elapsed() < Duration::from_secs(20) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("video-hw never listened on {port}: {e}"),
        }
    };
    let (data, _) = y4m(25);
    send_in_bursts(stream, &data);
    let result = child.wait_with_output().unwrap();
    expect_exit(&result, 0, "encode from tcp-listen://");
    assert_eq!(frames_in(&out), 25);
}

#[test]
fn a_sender_gone_mid_frame_leaves_the_frames_before_playable() {
    let dir = tmpdir("live-cut");
    let out = dir.join("cut.mp4");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (data, starts) = y4m(20);
    // 12 whole frames, then half of the 13th.
    let cut = starts[12] + (starts[13] - starts[12]) / 2;
    let sender = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        send_in_bursts(stream, &data[..cut]);
    });
    let result = run(&["encode", &format!("tcp://{addr}"), "-o", s(&out), "--fragmented", "-q", "--json"]);
    sender.join().unwrap();
    let stderr = expect_exit(&result, 4, "sender gone mid-frame");
    assert!(stderr.contains("frame 12"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], 12, "{summary}");
    assert!(summary["damage"].is_string(), "{summary}");
    assert_eq!(frames_in(&out), 12);
}

#[test]
fn fragmented_mp4_streams_to_stdout() {
    let dir = tmpdir("live-stdout");
    let (data, _) = y4m(15);
    let input = dir.join("in.y4m");
    std::fs::write(&input, &data).unwrap();
    let result = run(&["encode", s(&input), "-o", "-", "--fragmented", "-q"]);
    expect_exit(&result, 0, "fragmented MP4 to stdout");
    let file = dir.join("from-stdout.mp4");
    std::fs::write(&file, &result.stdout).unwrap();
    assert_eq!(frames_in(&file), 15);
    // Only MP4 names (or stdout) take --fragmented.
    let refused = run(&["encode", s(&input), "-o", s(&dir.join("x.h264")), "--fragmented"]);
    expect_exit(&refused, 2, "--fragmented with an Annex-B name");
    // Network addresses are checked.
    let bad = run(&["encode", "tcp://no-port", "-o", s(&dir.join("x.mp4"))]);
    expect_exit(&bad, 2, "tcp:// without a port");
}

#[test]
fn arrival_timestamps_follow_the_sender() {
    let dir = tmpdir("live-arrival");
    let out = dir.join("arrival.mp4");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The header says 100 fps (0.2 s for 20 frames); the sender sends one frame per 40 ms.
    let (data, starts) = y4m(20);
    let data = String::from_utf8_lossy(&data[..starts[0]])
        .replace("F25:1", "F100:1")
        .into_bytes()
        .into_iter()
        .chain(data[starts[0]..].iter().copied())
        .collect::<Vec<u8>>();
    let offset = data.len() - (starts[19] - starts[0]) - (starts[1] - starts[0]);
    let sender = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        for i in 0..20 {
            let from = if i == 0 { 0 } else { offset + (starts[i] - starts[0]) };
            let to = if i == 19 { data.len() } else { offset + (starts[i + 1] - starts[0]) };
            stream.write_all(&data[from..to]).unwrap();
            std::thread::sleep(Duration::from_millis(40));
        }
    });
    let result =
        run(&["encode", &format!("tcp://{addr}"), "-o", s(&out), "--fragmented", "--timestamps", "arrival", "-q"]);
    sender.join().unwrap();
    expect_exit(&result, 0, "arrival timestamps");
    let info = run(&["info", s(&out), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let duration = v["tracks"][0]["duration"].as_f64().unwrap();
    assert_eq!(v["frames"], 20);
    // 19 gaps of about 40 ms, not 10.
    assert!(duration > 0.5, "duration {duration} s: {v}");
}
