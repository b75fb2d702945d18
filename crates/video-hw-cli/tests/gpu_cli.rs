//! `video-hw decode` (and `transcode`) on a real GPU: a file NVDEC decodes is read by default with the GOPs
//! ahead decoding on several sessions; its output must be identical to one session's
//! (`--sessions=1`), frame for frame, and equal to ffmpeg's references where the fixture
//! has them; a damaged file still gives the frames before the damage and exits 4;
//! `transcode --follow` on NVDEC (one session) gives a transcode of the finished file.
//!
//! Run with `VIDEO_HW_TEST_GPU=1 cargo test -p video-hw-cli --test gpu_cli`; without that
//! variable the tests only print a note; with it and no GPU they fail.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary: the one cargo built, or `video-hw` on `PATH` where the test binary was
/// carried to another machine without it (the GPU machine's staged copy).
fn bin() -> PathBuf {
    let built = PathBuf::from(env!("CARGO_BIN_EXE_video-hw"));
    if built.is_file() { built } else { PathBuf::from("video-hw") }
}

fn gpu_tests_enabled() -> bool {
    let on = std::env::var("VIDEO_HW_TEST_GPU").as_deref() == Ok("1");
    if !on {
        eprintln!("note: GPU test not run (set VIDEO_HW_TEST_GPU=1 on a machine with an NVIDIA GPU)");
    }
    on
}

/// Runs `decode IN --framemd5 --json --backend nvdec [extra]`: exit code, the MD5 column of
/// the framemd5 lines, and the summary.
fn decode(input: &Path, extra: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    // A folder of its own per call: the tests run at once in one process (a name made of
    // the process id and the argument count was shared by two of them, and one test read
    // the file the other had just removed: 0 frames).
    let dir = util::tmpdir("gpu-cli");
    let out = dir.join("out.framemd5");
    let result = Command::new(bin())
        .arg("decode")
        .arg(input)
        // The references are ffmpeg's MD5s of the coded pictures: a rotated fixture's frames
        // are compared unturned.
        .args(["-o", out.to_str().unwrap(), "--framemd5", "--json", "--backend", "nvdec", "--no-autorotate", "-q"])
        .args(extra)
        .output()
        .expect("run video-hw");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let code = result.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    // No summary where the job did not run (exit 2 or 3): the error line instead.
    let summary = if matches!(code, 0 | 4) {
        serde_json::from_slice(&result.stdout)
            .unwrap_or_else(|e| panic!("{}: summary: {e}; stderr: {stderr}", input.display()))
    } else {
        serde_json::json!({ "error": stderr })
    };
    (code, md5s(&text), summary)
}

/// The MD5 column of framemd5 text.
fn md5s(text: &str) -> Vec<String> {
    util::frame_lines(text).into_iter().map(|(_, md5)| md5).collect()
}

fn inputs() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["media", "mp4"] {
        for e in std::fs::read_dir(util::testdata(dir)).unwrap() {
            let p = e.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default().to_string();
            if ["mp4", "mkv", "ts", "m2ts", "mov"].contains(&ext.as_str()) {
                v.push(p);
            }
        }
    }
    if let Some(corpus) = util::corpus_dir() {
        v.push(corpus.join("video-hw/sample-10s.h265"));
    }
    v.sort();
    v
}

#[test]
fn default_decode_reads_ahead_and_equals_one_session() {
    if !gpu_tests_enabled() {
        return;
    }
    let mut several = 0;
    let mut checked = 0;
    for input in inputs() {
        let name = input.display().to_string();
        let (code_one, one, s_one) = decode(&input, &["--sessions", "1"]);
        if code_one == 3 {
            // Not an H.264/HEVC stream NVDEC decodes here (AV1 on an H200, VP8).
            eprintln!("note: {name}: NVDEC refuses it: {}", s_one["error"]);
            continue;
        }
        assert_eq!(code_one, 0, "{name}: one session: {s_one}");
        let (code, got, summary) = decode(&input, &[]);
        assert_eq!(code, 0, "{name}: default: {summary}");
        // Each path against ffmpeg's reference first, so that a failure names the path.
        let reference = PathBuf::from(format!("{name}.framemd5"));
        if reference.is_file() {
            let want = md5s(&std::fs::read_to_string(&reference).unwrap());
            assert_eq!(got.len(), want.len(), "{name}: frame count, default (read ahead) against the reference");
            assert_eq!(got, want, "{name}: frames, default (read ahead) against the reference");
            assert_eq!(one.len(), want.len(), "{name}: frame count, --sessions=1 against the reference");
            assert_eq!(one, want, "{name}: frames, --sessions=1 against the reference");
        }
        assert_eq!(got.len(), one.len(), "{name}: frame count, default against one session");
        assert_eq!(got, one, "{name}: frames, default against one session");
        // A read-ahead bound of one byte: the GOP being read still decodes, one at a time.
        let (code, tight, summary_tight) = decode(&input, &["--read-ahead", "1"]);
        assert_eq!(code, 0, "{name}: --read-ahead 1: {summary_tight}");
        assert_eq!(tight, one, "{name}: frames, --read-ahead 1 against one session");
        let n = util::decoder_sessions(&summary);
        if n > 1 {
            several += 1;
        }
        eprintln!("{name}: {} frames, default on {n} session(s): {}", got.len(), summary["decoder"]);
        checked += 1;
    }
    assert!(checked >= 8, "inputs checked: {checked}");
    assert!(several >= 1, "no input was read on several sessions by default");
}

#[test]
fn default_decode_of_damaged_files_exits_4_with_the_frames_before() {
    if !gpu_tests_enabled() {
        return;
    }
    for name in ["truncated.mp4", "lying-size.mkv", "badsync.ts"] {
        let input = util::testdata("media/bad").join(name);
        let (code, got, summary) = decode(&input, &[]);
        assert_eq!(code, 4, "{name}: {summary}");
        assert!(!got.is_empty(), "{name}: the frames before the damage");
        assert!(summary["damage"].is_string(), "{name}: {summary}");
    }
    // Damage inside the pictures (the corpus's broken streams), which NVDEC may conceal
    // itself: what one session reports as damage (exit 4), the default reports too.
    let Some(corpus) = util::corpus_dir() else { return };
    let mut damaged = 0;
    for sub in ["fate-suite", "openh264", "video-hw"] {
        for e in std::fs::read_dir(corpus.join("bad").join(sub)).unwrap() {
            let input = e.unwrap().path();
            let ext = input.extension().and_then(|e| e.to_str()).unwrap_or_default().to_string();
            if !["h264", "264", "h265", "265"].contains(&ext.as_str()) {
                continue;
            }
            let name = input.display().to_string();
            let exit = |extra: &[&str]| {
                let o = Command::new(bin())
                    .arg("decode")
                    .arg(&input)
                    .args(["-o", "/dev/null", "--backend", "nvdec", "-q"])
                    .args(extra)
                    .output()
                    .expect("run video-hw");
                (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
            };
            let ((code_one, err_one), (code, err)) = (exit(&["--sessions", "1"]), exit(&[]));
            eprintln!("{name}: one session exit {code_one}, default exit {code}: {err}");
            if code_one == 4 {
                damaged += 1;
                assert_eq!(code, 4, "{name}: damage one session reports ({err_one}) hidden by the default: {err}");
            }
        }
    }
    assert!(damaged >= 3, "corpus streams one session found damaged: {damaged}");
}

/// `transcode` of a file NVDEC decodes reads it ahead on several sessions by default (as
/// `decode` does); the frames reach the encoder in order, so the encoded bytes equal those
/// of `--sessions 1`; the audio of a container input is kept as on one session.
#[test]
fn default_transcode_reads_ahead_and_equals_one_session() {
    if !gpu_tests_enabled() {
        return;
    }
    let dir = util::tmpdir("gpu-cli-transcode");
    let mut several = 0;
    let mut inputs: Vec<PathBuf> = [
        "media/h264-aac.mp4",
        "media/hevc-aac.mkv",
        "media/h264-opengop.mkv",
        "mp4/high-bpyramid-8x8-wp-cars-320x240.mp4",
    ]
    .iter()
    .map(|n| util::testdata(n))
    .collect();
    inputs.extend(util::corpus_dir().map(|c| c.join("video-hw/sample-10s.h265")));
    for input in inputs {
        let name = input.display().to_string();
        let run = |extra: &[&str], out: &str| {
            let out = dir.join(out);
            let o = Command::new(bin())
                .arg("transcode")
                .arg(&input)
                .args(["-o", out.to_str().unwrap(), "--codec", "h264", "--backend", "openh264", "--json", "-q"])
                .args(extra)
                .output()
                .expect("run video-hw");
            let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
            assert_eq!(o.status.code(), Some(0), "{name} {extra:?}: {}", String::from_utf8_lossy(&o.stderr));
            (std::fs::read(&out).unwrap(), summary)
        };
        let (one, s_one) = run(&["--sessions", "1"], "one.h264");
        let (default, s_default) = run(&[], "default.h264");
        assert!(!one.is_empty(), "{name}");
        assert!(default == one, "{name}: the default's bytes differ from one session's ({s_default} / {s_one})");
        let n = util::decoder_sessions(&s_default);
        several += usize::from(n > 1);
        eprintln!("{name}: {} frames, default on {n} session(s): {}", s_default["frames"], s_default["decoder"]);
        if name.ends_with(".mp4") || name.ends_with(".mkv") {
            let tracks = |out: &str| {
                let o = Command::new(bin()).arg("info").arg("--json").arg(dir.join(out)).output().unwrap();
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
                v["tracks"].as_array().cloned().unwrap_or_default()
            };
            let (_, _) = (run(&["--sessions", "1"], "one.mkv"), run(&[], "default.mkv"));
            let (a, b) = (tracks("one.mkv"), tracks("default.mkv"));
            assert!(!a.is_empty(), "{name}: tracks");
            let frames = |t: &[serde_json::Value]| t.iter().map(|t| t["frames"].clone()).collect::<Vec<_>>();
            assert_eq!(frames(&b), frames(&a), "{name}: tracks (audio copied) against one session");
        }
    }
    assert!(several >= 1, "no input was transcoded on several sessions by default");
}

/// Runs `decode IN -o OUT.rgb --pix-fmt rgb24 --size 224x224 -q --backend B` and returns
/// the raw output.
fn resized_rgb(input: &Path, backend: &str, extra: &[&str]) -> Vec<u8> {
    let dir = util::tmpdir("gpu-cli-size");
    let out = dir.join("out.rgb");
    let result = Command::new(bin())
        .arg("decode")
        .arg(input)
        .args(["-o", out.to_str().unwrap(), "--pix-fmt", "rgb24", "--size", "224x224", "-q", "--backend", backend])
        .args(extra)
        .output()
        .expect("run video-hw");
    assert!(result.status.success(), "{backend}: {}", String::from_utf8_lossy(&result.stderr));
    std::fs::read(&out).unwrap()
}

#[test]
fn decode_size_on_nvdec_resizes_on_the_gpu_as_the_cpu_path_does() {
    if !gpu_tests_enabled() {
        return;
    }
    // NVDEC's frames go through the GPU transform (one session and the read-ahead default);
    // OpenH264's through the CPU path. Both decoders are exact, so within 1 LSB.
    let input = util::testdata("media").join("h264-opengop.mkv");
    let cpu = resized_rgb(&input, "openh264", &[]);
    assert_eq!(cpu.len() % (224 * 224 * 3), 0);
    for extra in [&["--sessions", "1"][..], &[][..], &["--scale-filter", "area"][..]] {
        let gpu = resized_rgb(&input, "nvdec", extra);
        let cpu = if extra.contains(&"area") { resized_rgb(&input, "openh264", extra) } else { cpu.clone() };
        assert_eq!(gpu.len(), cpu.len(), "{extra:?}: frame count");
        let worst = gpu.iter().zip(&cpu).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        assert!(worst <= 1, "{extra:?}: GPU and CPU paths differ by {worst}");
    }
}

/// `transcode --follow` on NVDEC (which reads a finished file ahead on several sessions by
/// default; a followed one on one session): a TS with AAC written in 40 chunks while it
/// is read gives, track by track, the packets of a transcode of the finished file.
#[test]
fn transcode_follow_on_nvdec_equals_the_finished_file() {
    if !gpu_tests_enabled() {
        return;
    }
    let dir = util::tmpdir("gpu-cli-follow");
    let data = std::fs::read(util::testdata("media/h264-aac.ts")).unwrap();
    let growing = dir.join("growing.ts");
    std::fs::write(&growing, b"").unwrap();
    let out = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let common = ["--codec", "h264", "--backend", "openh264", "--decoder-backend", "nvdec", "-q"];
    let child = Command::new(bin())
        .arg("transcode")
        .arg(&growing)
        .args(["-o", &out("followed.mkv"), "--follow", "--timeout", "1.5"])
        .args(common)
        .spawn()
        .expect("run video-hw");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&growing).unwrap();
        for part in data.chunks((data.len() / 40) | 1) {
            f.write_all(part).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(40));
        }
    }
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(0), "transcode --follow on nvdec");
    let o = Command::new(bin()).arg("transcode").arg(&growing).args(["-o", &out("whole.mkv")]).args(common).output();
    assert_eq!(o.unwrap().status.code(), Some(0), "transcode of the finished file");
    // Each track's packets: (track, pts, bytes).
    let packets = |name: &str| {
        let mut d = video_hw::media::Demuxer::open(dir.join(name)).unwrap();
        let mut all = Vec::new();
        while let Some(p) = d.next_packet().unwrap() {
            all.push((p.track, p.pts, p.data));
        }
        all.sort_by_key(|p| p.0);
        all
    };
    let (got, want) = (packets("followed.mkv"), packets("whole.mkv"));
    assert!(want.iter().filter(|p| p.0 != want[0].0).count() > 0, "the output has audio");
    assert!(got == want, "followed: {} packets, the finished file's transcode: {}", got.len(), want.len());
}
