//! `video-hw info` end to end: JSON keys and values against the corpus metadata and
//! reference frame counts (tests named `corpus_*` need ../shared/testdata/corpus), against
//! the project's fixtures, and exit statuses on bad input.

// The library tests' helpers, for its corpus and fixture lists. Its scratch-folder module is
// the one `util` also includes by path: two copies of a small module, not one shared by a
// change to both crates' helpers.
#[allow(clippy::duplicate_mod)]
#[path = "../../video-hw/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

fn video_hw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_video-hw")).args(args).output().expect("run video-hw")
}

fn info_json(path: &Path) -> (i32, serde_json::Value, String) {
    let out = video_hw(&["info", "--json", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// "2.1" for H.264 level_idc 21; "4.0" for HEVC general_level_idc 120.
fn level_name(codec: &str, idc: i64) -> String {
    let tenths = if codec == "hevc" { idc / 3 } else { idc };
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[test]
fn corpus_info_matches_reference_on_every_clean_stream() {
    let Some(dir) = common::corpus_dir() else { return };
    let mut checked = 0;
    let mut wrong = Vec::new();
    for s in common::corpus_streams(&dir).into_iter().filter(|s| !s.bad) {
        let (code, v, stderr) = info_json(&s.path);
        let codec = s.codec.clone().unwrap();
        let want_frames = s.reference_frames().unwrap() as u64;
        let mut problems = Vec::new();
        if code != 0 {
            problems.push(format!("exit {code}: {stderr}"));
        }
        let get = |k: &str| v[k].clone();
        if get("codec") != codec.as_str() {
            problems.push(format!("codec {}", get("codec")));
        }
        if get("frames") != want_frames {
            problems.push(format!("frames {} != {want_frames}", get("frames")));
        }
        if get("width") != s.width || get("height") != s.height {
            problems.push(format!("size {}x{} != {}x{}", get("width"), get("height"), s.width, s.height));
        }
        if get("bit_depth") != s.bit_depth {
            problems.push(format!("bit depth {} != {}", get("bit_depth"), s.bit_depth));
        }
        if get("profile") != s.profile.clone().unwrap().as_str() {
            problems.push(format!("profile {} != {:?}", get("profile"), s.profile));
        }
        let level = get("level");
        let want_level = level_name(&codec, s.level);
        if level != want_level.as_str() && !(level == "1b" && s.level == 11) {
            problems.push(format!("level {level} != {want_level}"));
        }
        if get("chroma_format") != "4:2:0" {
            problems.push(format!("chroma {}", get("chroma_format")));
        }
        if !problems.is_empty() {
            wrong.push(format!("{}: {}", s.rel, problems.join("; ")));
        }
        checked += 1;
    }
    eprintln!("info agrees with the reference on {}/{checked} clean corpus streams", checked - wrong.len());
    assert_eq!(checked, 67);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn info_matches_every_fixture() {
    let mut wrong = Vec::new();
    let all = common::fixtures();
    for f in &all {
        let (code, v, stderr) = info_json(&f.path);
        let got = (
            v["codec"].as_str().unwrap_or_default().to_string(),
            v["profile"].as_str().unwrap_or_default().to_string(),
            v["width"].as_u64(),
            v["height"].as_u64(),
            v["bit_depth"].as_u64(),
            v["frames"].as_u64(),
            v["keyframes"].as_u64(),
        );
        let want = (
            f.codec.clone(),
            f.profile.clone(),
            Some(f.width as u64),
            Some(f.height as u64),
            Some(f.bit_depth as u64),
            Some(f.frames),
            Some(f.keyframes),
        );
        if code != 0 || got != want {
            wrong.push(format!("{}: exit {code} {stderr}\n  got  {got:?}\n  want {want:?}", f.rel));
        }
    }
    assert!(all.len() >= 15);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn info_text_output_and_codec_detection_without_extension() {
    let f = &common::fixtures()[0];
    let tmp = tempfile::Builder::new().suffix(".bin").tempfile().unwrap().into_temp_path();
    std::fs::copy(&f.path, &tmp).unwrap();
    let out = video_hw(&["info", tmp.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("codec:         {}", f.codec)), "{text}");
    assert!(text.contains(&format!("frames:        {}", f.frames)), "{text}");
}

#[test]
fn info_bad_input_exits_4_with_one_line() {
    let dir = tempfile::Builder::new().prefix("video-hw-bad-").tempdir().unwrap();
    let dir = dir.path();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.h264", vec![]),
        ("random.h264", (0..100_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()),
        ("startcodes.h265", [0u8, 0, 0, 1].repeat(1000)),
        // An SPS claiming a 1,000,000-macroblock-wide picture.
        ("absurd-sps.h264", vec![0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff]),
    ];
    for (name, bytes) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = video_hw(&["info", "--json", p.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{name}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: one line on stderr, got {stderr:?}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let out = video_hw(&["info", "/nonexistent/file.h264"]);
    assert_eq!(out.status.code(), Some(4));
    let out = video_hw(&["info"]);
    assert_eq!(out.status.code(), Some(2), "missing argument is a usage error");
}

#[test]
fn corpus_info_on_bad_streams_never_panics() {
    let Some(dir) = common::corpus_dir() else { return };
    for s in common::corpus_streams(&dir).into_iter().filter(|s| s.bad) {
        let out = video_hw(&["info", "--json", s.path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(matches!(code, Some(0 | 4)), "{}: exit {code:?} {stderr}", s.rel);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", s.rel);
        assert!(stderr.lines().count() <= 1, "{}: {stderr}", s.rel);
    }
}
