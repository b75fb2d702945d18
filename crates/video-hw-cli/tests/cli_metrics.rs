//! `--metrics-addr` and `--stats`: an HTTP scrape during a running job returns the frame
//! counter (loopback only, bounded in time), and the stage table at the end.

use crate::util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills the child (ours) if the test fails half-way.
struct Job(Child);

impl Drop for Job {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scrape(addr: SocketAddr) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
    let mut page = String::new();
    s.read_to_string(&mut page)?;
    Ok(page)
}

/// The value of the first sample of `name` whose labels contain every one of `labels`.
fn sample(page: &str, name: &str, labels: &[&str]) -> Option<f64> {
    page.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn scrape_during_a_job_returns_the_frame_counter() {
    let dir = util::tmpdir("metrics");
    let out = dir.join("long.h264");
    // Far more frames than the test waits for: it is stopped once scraped.
    let child = Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .args(["--metrics-addr", "127.0.0.1:0", "encode", "--synthetic", "1000000", "--size", "320x240"])
        .args(["--backend", "openh264", "-o", util::s(&out)])
        .env_remove("VIDEO_HW_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run video-hw");
    let mut job = Job(child);
    let stderr = job.0.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("video-hw: metrics at http://") {
                let _ = tx.send(rest.trim_end_matches("/metrics").to_string());
            }
        }
    });
    let addr: SocketAddr = rx.recv_timeout(Duration::from_secs(30)).expect("metrics address line").parse().unwrap();
    assert!(addr.ip().is_loopback(), "{addr}");

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    let frames = loop {
        assert!(Instant::now() < deadline, "no frame counter within 60 s; last page:\n{last}");
        assert!(job.0.try_wait().unwrap().is_none(), "the job ended before it was scraped");
        if let Ok(page) = scrape(addr) {
            assert!(page.starts_with("HTTP/1.1 200"), "{page}");
            let labels = ["direction=\"encode\"", "codec=\"h264\"", "backend=\"openh264\""];
            if let Some(n) = sample(&page, "video_hw_frames_total", &labels).filter(|&n| n > 0.0) {
                assert!(page.contains("video_hw_queue_depth{"), "{page}");
                assert!(page.contains("video_hw_stage_seconds"), "{page}");
                break n;
            }
            last = page;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(frames >= 1.0);
    // A second scrape later sees more frames: the counter moves while the job runs.
    std::thread::sleep(Duration::from_millis(500));
    let later = scrape(addr).expect("second scrape");
    let more = sample(&later, "video_hw_frames_total", &["direction=\"encode\""]).unwrap_or(0.0);
    assert!(more > frames, "{more} after {frames}");
    drop(job);
}

#[test]
fn stats_prints_the_stage_table() {
    let dir = util::tmpdir("stats");
    let out = dir.join("t.h264");
    let input = util::testdata("h264/gop12-idr-cars-320x240.h264");
    let o = util::run(&[
        "--stats",
        "transcode",
        util::s(&input),
        "-o",
        util::s(&out),
        "--backend",
        "openh264",
        "--decoder-backend",
        "openh264",
    ]);
    let stderr = util::expect_exit(&o, 0, "transcode --stats");
    for part in [
        "video-hw: stats: decode (openh264",
        "video-hw: stats: encode (openh264",
        "queue: 8 deep",
        "frame interval:",
        "p99 us",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    let stage_rows: Vec<&str> = stderr
        .lines()
        .filter(|l| ["decode ", "encode ", "reap "].iter().any(|s| l.trim_start().starts_with(s)))
        .collect();
    assert!(stage_rows.len() >= 3, "{stderr}");
}

#[test]
fn a_bad_metrics_address_is_a_usage_error() {
    let o = util::run(&["--metrics-addr", "not an address", "probe"]);
    util::expect_exit(&o, 2, "bad --metrics-addr");
}
