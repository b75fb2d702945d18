//! FFmpeg found at run time: the libraries `VIDEO_HW_FFMPEG_DIR` names are refused with the
//! reason in `video-hw probe`, never with a crash, when their major is unknown, when they
//! report another version than their file name, or when loading them crashes; `none`
//! turns the FFmpeg engines off, and an empty value is unset.

use std::path::{Path, PathBuf};
use std::process::Command;

fn probe(dir: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .arg("probe")
        .env("VIDEO_HW_FFMPEG_DIR", dir)
        .output()
        .expect("video-hw runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The system's FFmpeg 5.1 libraries (Debian's libavcodec59), if installed.
fn debian_ffmpeg() -> Option<(PathBuf, PathBuf)> {
    let dir = Path::new("/usr/lib/x86_64-linux-gnu");
    let (codec, util) = (dir.join("libavcodec.so.59"), dir.join("libavutil.so.57"));
    (codec.exists() && util.exists()).then_some((codec, util))
}

#[test]
fn none_turns_the_ffmpeg_engines_off() {
    let (ok, text) = probe("none");
    assert!(ok, "{text}");
    assert!(text.starts_with("FFmpeg: turned off by VIDEO_HW_FFMPEG_DIR=none"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("ffmpeg ") && l.contains("turned off")), "{text}");
}

/// An empty value is unset (docs/environment.md): the search is the one without the
/// variable (it used to search the folder "" and find nothing). A value of another variable
/// that does not parse is named in one warning and the default kept.
#[test]
fn an_empty_value_is_unset_and_a_bad_one_is_named() {
    let unset = Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .arg("probe")
        .env_remove("VIDEO_HW_FFMPEG_DIR")
        .output()
        .expect("video-hw runs");
    let unset = String::from_utf8_lossy(&unset.stdout).into_owned();
    let (ok, empty) = probe("");
    assert!(ok, "{empty}");
    assert_eq!(empty.lines().next(), unset.lines().next(), "{empty}");
    assert!(!empty.contains("VIDEO_HW_FFMPEG_DIR="), "{empty}");
    let out = Command::new(env!("CARGO_BIN_EXE_video-hw"))
        .args(["probe", "--json"])
        .env("VIDEO_HW_FFMPEG_DIR", "none")
        .env("VIDEO_HW_STOP_GRACE", "soon")
        .output()
        .expect("video-hw runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("VIDEO_HW_STOP_GRACE=soon: not seconds (0 or more); 10 seconds instead"), "{stderr}");
}

#[test]
fn an_empty_folder_and_an_unknown_major_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, text) = probe(tmp.path().to_str().unwrap());
    assert!(ok && text.contains("no libavcodec there"), "{text}");
    std::fs::write(tmp.path().join("libavcodec.so.58"), b"not a library").unwrap();
    let (ok, text) = probe(tmp.path().to_str().unwrap());
    assert!(ok && text.contains("FFmpeg 4.x (libavcodec 58) is not a major this build knows"), "{text}");
    // A major after the newest measured one (FFmpeg 9's 63) is refused the same way.
    std::fs::remove_file(tmp.path().join("libavcodec.so.58")).unwrap();
    std::fs::write(tmp.path().join("libavcodec.so.64"), b"not a library").unwrap();
    let (ok, text) = probe(tmp.path().to_str().unwrap());
    assert!(ok, "{text}");
    assert!(
        text.contains("(libavcodec 64) is not a major this build knows (libavcodec 59-63, FFmpeg 5.x-9.x)"),
        "{text}"
    );
}

#[test]
fn a_library_reporting_another_major_is_refused() {
    let Some((codec, util)) = debian_ffmpeg() else {
        eprintln!("note: no Debian FFmpeg 5.1 here; this test checks nothing");
        return;
    };
    // FFmpeg 5.1's files under FFmpeg 7's names.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(codec, tmp.path().join("libavcodec.so.61")).unwrap();
    std::fs::copy(util, tmp.path().join("libavutil.so.59")).unwrap();
    let (ok, text) = probe(tmp.path().to_str().unwrap());
    assert!(ok, "{text}");
    assert!(text.contains("the file says libavcodec 61 but the library reports libavcodec 59."), "{text}");
    assert!(text.lines().any(|l| l.starts_with("ffmpeg ") && l.contains(" no ")), "{text}");
}

#[test]
fn a_library_that_crashes_on_load_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("crash.c");
    std::fs::write(&src, "#include <stdlib.h>\n__attribute__((constructor)) static void boom(void) { abort(); }\n")
        .unwrap();
    for name in ["libavcodec.so.61", "libavutil.so.59"] {
        let built = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(tmp.path().join(name)).arg(&src).status();
        if !built.is_ok_and(|s| s.success()) {
            eprintln!("note: no C compiler here; this test checks nothing");
            return;
        }
    }
    let (ok, text) = probe(tmp.path().to_str().unwrap());
    assert!(ok, "the probe itself must not crash: {text}");
    assert!(text.contains("crashed while loading (signal 6), refused"), "{text}");
}
