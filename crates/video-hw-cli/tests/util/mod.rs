//! Helpers for the CLI tests: run the built binary, temporary files, fixtures, framemd5
//! lines, and whether optional things (ffprobe, a GPU engine) are here.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository's `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(rel)
}

/// The shared corpus, if present (`VIDEO_HW_CORPUS` or `../shared/testdata/corpus`);
/// panics when absent and `VIDEO_HW_REQUIRE_CORPUS=1`.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIDEO_HW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/corpus"));
    if dir.join("metadata.json").is_file() {
        return Some(dir);
    }
    if std::env::var("VIDEO_HW_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("VIDEO_HW_REQUIRE_CORPUS=1 but no corpus at {}", dir.display());
    }
    eprintln!("note: shared corpus not found at {}; corpus test passes without checking", dir.display());
    None
}

/// Runs `video-hw` with `args`; the log filter is left to the binary's defaults.
/// A run that outlives [`RUN_LIMIT`] is killed and the test fails naming it.
pub fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

/// Runs `video-hw` with `args` and the environment variables `env` (the log filter is
/// the binary's default unless `env` sets `VIDEO_HW_LOG`), within [`RUN_LIMIT`].
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .args(args)
        .env_remove("VIDEO_HW_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn video-hw");
    wait_bounded(child, args)
}

/// How long one `video-hw` run may take in a test. A hang fails that test at once
/// instead of holding the whole suite (and CI) until its own limit; the slowest run in
/// the suite takes seconds.
pub const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Waits for `child` at most [`RUN_LIMIT`], collecting its output; kills it and panics
/// with the arguments where it runs longer.
fn wait_bounded(mut child: std::process::Child, args: &[&str]) -> Output {
    use std::io::Read;
    let mut pipes = (child.stdout.take(), child.stderr.take());
    let read = |p: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = p {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = read(pipes.0.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(pipes.1.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for video-hw") {
            break status;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("video-hw {} ran past {} s: killed (a hang)", args.join(" "), RUN_LIMIT.as_secs());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

/// Runs `video-hw` with `stdin` as its standard input.
pub fn run_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .args(args)
        .env_remove("VIDEO_HW_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn video-hw");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = wait_bounded(child, args);
    let _ = feeder.join();
    out
}

/// Exit status, stdout as text, stderr as text.
pub fn parts(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts the exit status, that stderr holds at most one `error:` line, and no panic.
#[track_caller]
pub fn expect_exit(out: &Output, code: i32, what: &str) -> String {
    let (got, _, stderr) = parts(out);
    assert_eq!(got, code, "{what}: exit {got}, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    let errors = stderr.lines().filter(|l| l.contains("error")).count();
    if code != 0 {
        assert_eq!(errors, 1, "{what}: one error line expected: {stderr:?}");
        let line = stderr.lines().find(|l| l.contains("error")).unwrap();
        assert!(line.starts_with("video-hw: error: "), "{what}: {line}");
    }
    stderr
}

#[path = "../../../video-hw/tests/common/scratch.rs"]
mod scratch;
#[allow(unused_imports)] // not every test binary names the type
pub use scratch::Scratch;

/// A fresh temporary directory for one test, removed when dropped; `name` shows in its path.
pub fn tmpdir(name: &str) -> Scratch {
    scratch::scratch_dir(&format!("cli-{name}"))
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The frame lines of framemd5 text: (size, md5) per frame.
pub fn frame_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split(',').map(str::trim).collect();
            (cols[4].to_string(), cols[5].to_string())
        })
        .collect()
}

/// Sessions a `--json` summary's decoder line names ("… over N session(s)"), 1 when it
/// names none.
pub fn decoder_sessions(summary: &serde_json::Value) -> usize {
    let d = summary["decoder"].as_str().unwrap_or_default();
    d.split(" over ").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or(1)
}

/// True when ffprobe runs here (tests that use it say so and pass without it).
pub fn ffprobe() -> bool {
    let ok = Command::new("ffprobe").arg("-version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("note: ffprobe not found; the MP4 check with ffprobe is skipped");
    }
    ok
}

/// ffprobe's JSON for `args` on `file`.
pub fn ffprobe_json(file: &Path, args: &[&str]) -> serde_json::Value {
    let out =
        Command::new("ffprobe").args(["-v", "error", "-of", "json"]).args(args).arg(file).output().expect("ffprobe");
    assert!(out.status.success(), "ffprobe {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// Whether FFmpeg loads here (at run time, as the binary under test, which runs with this
/// process's environment, finds it; see `video_hw::registry::ffmpeg_runtime`). Panics
/// where it is not loaded and `VIDEO_HW_REQUIRE_FFMPEG=1` (CI's runs with FFmpeg set it),
/// so that no test that needs FFmpeg, or picks the engine it expects by it, passes
/// without it there.
pub fn ffmpeg_loaded() -> bool {
    let rt = video_hw::registry::ffmpeg_runtime();
    if !rt.loaded && std::env::var("VIDEO_HW_REQUIRE_FFMPEG").as_deref() == Ok("1") {
        panic!("VIDEO_HW_REQUIRE_FFMPEG=1 but no FFmpeg: {}; searched: {:?}", rt.summary, rt.tried);
    }
    rt.loaded
}

/// The major and minor of the libavcodec the FFmpeg engines loaded ((0, 0): none).
pub fn libavcodec_version() -> (u32, u32) {
    video_hw::registry::ffmpeg_runtime().libavcodec.map_or((0, 0), |(major, minor, _)| (major, minor))
}

/// Whether the ffmpeg tool on the PATH runs the same libavcodec (major.minor) as the one
/// the FFmpeg engines loaded: tests that compare the two need the same library.
pub fn ffmpeg_tool_matches_loaded() -> bool {
    let Ok(o) = std::process::Command::new("ffmpeg").arg("-version").output() else { return false };
    let text = String::from_utf8_lossy(&o.stdout);
    let Some(line) = text.lines().find(|l| l.trim_start().starts_with("libavcodec")) else { return false };
    // "libavcodec     59. 37.100 / 59. 37.100": the run-time version is after the slash.
    let runtime = line.rsplit('/').next().unwrap_or("");
    let nums: Vec<u32> = runtime.split(['.', ' ']).filter_map(|p| p.trim().parse().ok()).collect();
    nums.len() >= 2 && (nums[0], nums[1]) == libavcodec_version()
}

/// For a test that needs FFmpeg: true where it is loaded; false, with a note that the
/// test checks nothing, where it is not (the test then returns and passes), unless
/// `VIDEO_HW_REQUIRE_FFMPEG=1`, which makes that a failure.
pub fn need_ffmpeg() -> bool {
    let loaded = ffmpeg_loaded();
    if !loaded {
        eprintln!("note: no FFmpeg here ({}); this test checks nothing", video_hw::registry::ffmpeg_runtime().summary);
    }
    loaded
}

/// Whether `engine` can do `codec` in `direction` here (from `video-hw probe --json`).
pub fn available(engine: &str, codec: &str, direction: &str) -> bool {
    let out = run(&["probe", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe JSON");
    v.as_array()
        .unwrap()
        .iter()
        .any(|r| r["engine"] == engine && r["codec"] == codec && r["direction"] == direction && r["available"] == true)
}

/// Whether any engine can do `codec` in `direction` here.
pub fn any_available(codec: &str, direction: &str) -> bool {
    let out = run(&["probe", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe JSON");
    v.as_array().unwrap().iter().any(|r| r["codec"] == codec && r["direction"] == direction && r["available"] == true)
}

/// A 600-frame 320x240 H.264 MP4 (20 s at 30 fps; a few seconds to transcode), made once
/// per build with `video-hw encode --synthetic` under the tests' temporary directory: long
/// enough for the tests that stop, kill or cut a job while it runs.
pub fn long_mp4() -> PathBuf {
    static MADE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("long-320x240-600.mp4");
        if !path.is_file() {
            // Made beside and renamed: test binaries running at once never see half a file.
            let part = path.with_extension(format!("{}.mp4", std::process::id()));
            let out = run(&["encode", "--synthetic", "600", "--size", "320x240", "-o", s(&part), "-q"]);
            assert!(out.status.success(), "making {}: {}", part.display(), String::from_utf8_lossy(&out.stderr));
            std::fs::rename(&part, &path).unwrap();
        }
        path
    })
    .clone()
}

/// Starts `video-hw` with `args` (stdout and stderr piped, stdin null unless `stdin`).
pub fn spawn(args: &[&str], env: &[(&str, &str)], stdin: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .args(args)
        .env_remove("VIDEO_HW_LOG")
        .envs(env.iter().copied())
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn video-hw")
}

/// Waits for a child [`spawn`] started, within [`RUN_LIMIT`], collecting its output.
pub fn wait_child(child: std::process::Child, what: &str) -> Output {
    wait_bounded(child, &[what])
}

/// Sends `signal` (`INT`, `TERM`, `KILL`, `STOP`, `CONT`) to `pid` with kill(1).
pub fn send_signal(pid: u32, signal: &str) {
    let ok = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().is_ok_and(|s| s.success());
    assert!(ok, "kill -{signal} {pid}");
}

/// Waits until `path` exists and holds at least `bytes`, at most 60 s (panics then).
pub fn wait_for_file(path: &Path, bytes: u64) {
    let start = std::time::Instant::now();
    while !std::fs::metadata(path).is_ok_and(|m| m.len() >= bytes) {
        assert!(start.elapsed().as_secs() < 60, "{} never reached {bytes} bytes", path.display());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The video packets the crate's own demuxer reads from `path` before its end or its first
/// error, and that error.
pub fn demuxed_frames(path: &Path) -> (u64, Option<video_hw::Error>) {
    let mut d = match video_hw::media::Demuxer::open(path) {
        Ok(d) => d,
        Err(e) => return (0, Some(e)),
    };
    let Some(video) = d.tracks().iter().find(|t| t.kind == video_hw::media::TrackKind::Video).map(|t| t.index) else {
        return (0, None);
    };
    let mut n = 0;
    loop {
        match d.next_packet() {
            Ok(Some(p)) => n += u64::from(p.track == video),
            Ok(None) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}

/// The frames ffprobe decodes from the first video stream of `path` (`None`: no ffprobe).
pub fn ffprobe_frames(path: &Path) -> Option<u64> {
    if !ffprobe() {
        return None;
    }
    let v = ffprobe_json(path, &["-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames"]);
    v["streams"][0]["nb_read_frames"].as_str().and_then(|n| n.parse().ok())
}

/// Waits until process `pid` catches SIGINT and SIGTERM (its handlers installed: Linux's
/// `SigCgt` in /proc), at most 60 s; where /proc does not say, waits a second.
pub fn wait_for_handlers(pid: u32) {
    let want = (1u64 << (2 - 1)) | (1u64 << (15 - 1));
    let start = std::time::Instant::now();
    loop {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            std::thread::sleep(std::time::Duration::from_secs(1));
            return;
        };
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or(0);
        if caught & want == want {
            return;
        }
        assert!(start.elapsed().as_secs() < 60, "process {pid} never caught SIGINT and SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
