//! Faults of the outside world: the disk full (a small tmpfs where `mount` works here, else
//! a file size limit, which fails writes the same way), an output that cannot be created,
//! the reader of stdout gone, the input cut short while it is read. Each is one typed error
//! line with its exit status, and the output is closed and readable up to the fault.
#![cfg(unix)]

use crate::util;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use util::{
    demuxed_frames, expect_exit, ffprobe_frames, long_mp4, parts, run, s, send_signal, spawn, testdata, tmpdir,
    wait_child, wait_for_file,
};

/// A directory where writing more than 256 KiB fails as a full disk does (what the long
/// input transcodes to is 0.6 MB with OpenH264, 10 MB with libx264).
enum Small {
    /// A 256 KiB tmpfs mounted on the directory (unmounted when dropped).
    Tmpfs(PathBuf),
    /// A plain directory: runs get a file size limit of 512 blocks (256 KiB, or 512 KiB
    /// where the shell counts KiB; `ulimit -f`, SIGXFSZ ignored, so a write past it fails
    /// with EFBIG instead of killing the process).
    Limited(PathBuf),
}

impl Small {
    fn new(dir: &Path) -> Small {
        let mount = dir.join("small");
        std::fs::create_dir_all(&mount).unwrap();
        // VIDEO_HW_TEST_NO_MOUNT=1 tries the file size limit where mounting works too.
        let mounted = std::env::var_os("VIDEO_HW_TEST_NO_MOUNT").is_none()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
                .arg(&mount)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|st| st.success());
        if mounted {
            Small::Tmpfs(mount)
        } else {
            eprintln!("note: no tmpfs mount here: a file size limit stands in for the full disk");
            Small::Limited(mount)
        }
    }

    fn dir(&self) -> &Path {
        match self {
            Small::Tmpfs(p) | Small::Limited(p) => p,
        }
    }

    /// Runs `video-hw args` writing into this directory.
    fn run(&self, args: &[&str]) -> Output {
        match self {
            Small::Tmpfs(_) => run(args),
            Small::Limited(_) => {
                let script = r#"trap '' XFSZ; ulimit -f 512; exec "$0" "$@""#;
                let child = Command::new("sh")
                    .args(["-c", script, env!("CARGO_BIN_EXE_video-hw")])
                    .args(args)
                    .env_remove("VIDEO_HW_LOG")
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                wait_child(child, args[0])
            }
        }
    }
}

impl Drop for Small {
    fn drop(&mut self) {
        if let Small::Tmpfs(p) = self {
            let _ = Command::new("umount").arg(p.as_path()).status();
        }
    }
}

#[test]
fn out_of_space_keeps_every_whole_fragment() {
    let dir = tmpdir("full-fmp4");
    let small = Small::new(&dir);
    let out = small.dir().join("out.mp4");
    let input = long_mp4();
    let got = small.run(&[
        "transcode",
        s(&input),
        "-o",
        s(&out),
        "--fragmented",
        "--frag-duration",
        "0.2",
        "--codec",
        "h264",
        "-q",
    ]);
    let stderr = expect_exit(&got, 6, "transcode onto a full disk");
    assert!(stderr.contains(&format!("output {}: out of space", out.display())), "{stderr}");
    let (frames, err) = demuxed_frames(&out);
    assert!(err.is_none(), "cut to its last whole fragment: {err:?}");
    assert!(frames > 0 && frames < 600, "{frames} frames kept");
    if let Some(n) = ffprobe_frames(&out) {
        assert_eq!(n, frames, "ffprobe");
    }
}

#[test]
fn out_of_space_keeps_whole_raw_frames() {
    let dir = tmpdir("full-raw");
    let small = Small::new(&dir);
    let out = small.dir().join("out.yuv");
    let input = long_mp4();
    let got = small.run(&["decode", s(&input), "-o", s(&out), "-q"]);
    expect_exit(&got, 6, "decode onto a full disk");
    let len = std::fs::metadata(&out).unwrap().len();
    let frame = 320 * 240 * 3 / 2;
    assert!(len > 0 && len.is_multiple_of(frame), "{len} bytes: whole frames only");
}

#[test]
fn dev_full_is_out_of_space() {
    if !Path::new("/dev/full").exists() {
        eprintln!("note: no /dev/full here");
        return;
    }
    let fixture = testdata("mp4/high-bpyramid-8x8-wp-cars-320x240.mp4");
    let got = run(&["decode", s(&fixture), "-o", "/dev/full"]);
    let stderr = expect_exit(&got, 6, "decode to /dev/full");
    assert!(stderr.contains("output /dev/full: out of space"), "{stderr}");
}

#[test]
fn unwritable_outputs_exit_5() {
    let dir = tmpdir("unwritable");
    let fixture = testdata("mp4/high-bpyramid-8x8-wp-cars-320x240.mp4");
    let missing = dir.join("no-such-dir");
    for out in [missing.join("out.yuv"), missing.join("out.mp4"), missing.join("out.mkv"), dir.to_path_buf()] {
        let job = if out.extension().is_some_and(|e| e == "yuv") || out == *dir { "decode" } else { "transcode" };
        let got = run(&[job, s(&fixture), "-o", s(&out)]);
        let stderr = expect_exit(&got, 5, &format!("{job} to {}", out.display()));
        assert!(stderr.contains(&format!("output {}: cannot write", out.display())), "{stderr}");
    }
}

#[test]
fn a_reader_that_closes_stdout_ends_the_job_cleanly() {
    let input = long_mp4();
    let mut child = spawn(&["decode", s(&input), "-o", "-"], &[], Stdio::null());
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; 200_000];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let out = wait_child(child, "decode");
    let (code, _, stderr) = parts(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("video-hw: stopped: output stdout: its reader closed it"), "{stderr}");
    assert!(!stderr.contains("error:") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn input_cut_short_while_read_keeps_the_frames_before() {
    let dir = tmpdir("input-cut");
    let input = dir.join("in.mp4");
    std::fs::copy(long_mp4(), &input).unwrap();
    let out = dir.join("out.mp4");
    let child = spawn(&["transcode", s(&input), "-o", s(&out), "--codec", "h264"], &[], Stdio::null());
    // Paused once its output is open (its first frames read), the input halved, resumed.
    wait_for_file(&out, 0);
    send_signal(child.id(), "STOP");
    let len = std::fs::metadata(&input).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&input).unwrap().set_len(len / 2).unwrap();
    send_signal(child.id(), "CONT");
    let got = wait_child(child, "transcode");
    let stderr = expect_exit(&got, 4, "transcode of an input cut short");
    assert!(stderr.contains("truncated"), "{stderr}");
    let (frames, err) = demuxed_frames(&out);
    assert!(err.is_none(), "{err:?}");
    assert!(frames > 0 && frames < 600, "{frames} frames");
    assert!(stderr.contains(&format!("the {frames} frame(s) before it were written")), "{stderr}");
    if let Some(n) = ffprobe_frames(&out) {
        assert_eq!(n, frames, "ffprobe");
    }
}
