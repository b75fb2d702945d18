//! The CLI on container files (`testdata/media/`): `info` of every container (JSON with
//! `container` and `tracks`), `decode` of every container, `decode --indices/--start/--count`
//! (exact frames), and `transcode` into MP4, Matroska and WebM keeping the audio (or not,
//! with `--no-audio`), checked with ffprobe where it is installed.

use crate::util;

use std::path::PathBuf;

use util::*;

fn media(name: &str) -> PathBuf {
    testdata(&format!("media/{name}"))
}

/// The fixture's ffprobe facts.
fn facts(name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(media(&format!("{name}.json"))).unwrap()).unwrap()
}

const CONTAINERS: &[(&str, &str)] = &[
    ("h264-aac.mp4", "mp4"),
    ("h264-aac-frag.mp4", "mp4"),
    ("hevc-aac.mkv", "matroska"),
    ("vp9-opus.webm", "webm"),
    ("h264-aac.ts", "mpegts"),
    ("hevc-aac.m2ts", "mpegts"),
    ("h264-editlist.mp4", "mp4"),
];

#[test]
fn info_reads_every_container() {
    for (name, container) in CONTAINERS {
        let o = run(&["info", "--json", s(&media(name))]);
        let (code, out, err) = parts(&o);
        assert_eq!(code, 0, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let f = facts(name);
        assert_eq!(v["container"], *container, "{name}");
        let tracks = v["tracks"].as_array().unwrap();
        let streams = f["streams"].as_array().unwrap();
        assert_eq!(tracks.len(), streams.len(), "{name}: tracks");
        for (t, s) in tracks.iter().zip(streams) {
            assert_eq!(t["kind"], s["codec_type"], "{name}");
            assert_eq!(t["codec"], s["codec_name"], "{name}");
            if t["kind"] == "video" {
                assert_eq!(t["frames"], s["nb_read_frames"], "{name}: frames");
                assert_eq!(t["width"], s["width"], "{name}");
            }
            if t["kind"] == "audio" {
                assert_eq!(t["sample_rate"], s["sample_rate"], "{name}");
                assert_eq!(t["channels"], s["channels"], "{name}");
            }
        }
        // The raw-stream keys describe the first video track.
        assert_eq!(v["frames"], tracks[0]["frames"], "{name}");
        assert_eq!(v["codec"], tracks[0]["codec"], "{name}");
    }
}

#[test]
fn decode_reads_every_container() {
    let dir = tmpdir("media-decode");
    for (name, _) in CONTAINERS {
        let f = facts(name);
        let codec = f["streams"][0]["codec_name"].as_str().unwrap();
        if !any_available(codec, "decode") {
            eprintln!("note: no engine decodes {codec} here; {name} not decoded");
            continue;
        }
        let out = dir.join("out.framemd5");
        let o = run(&["decode", s(&media(name)), "-o", s(&out), "--framemd5", "-q"]);
        expect_exit(&o, 0, name);
        let got = frame_lines(&std::fs::read_to_string(&out).unwrap()).len();
        assert_eq!(got as u64, f["streams"][0]["nb_read_frames"].as_u64().unwrap(), "{name}: frames");
    }
}

#[test]
fn decode_indices_start_and_count() {
    let dir = tmpdir("media-select");
    let input = media("h264-aac.mp4");
    let all = dir.join("all.framemd5");
    expect_exit(&run(&["decode", s(&input), "-o", s(&all), "--framemd5", "-q"]), 0, "straight");
    let all = frame_lines(&std::fs::read_to_string(&all).unwrap());
    assert_eq!(all.len(), 100);
    let md5 = |lines: &[(String, String)]| lines.iter().map(|l| l.1.clone()).collect::<Vec<_>>();

    let picked = dir.join("picked.framemd5");
    let o = run(&["decode", s(&input), "-o", s(&picked), "--framemd5", "--indices", "99,3,50,3,24,25", "--json"]);
    expect_exit(&o, 0, "indices");
    let got = md5(&frame_lines(&std::fs::read_to_string(&picked).unwrap()));
    let want: Vec<String> = [99, 3, 50, 3, 24, 25].iter().map(|&i| all[i].1.clone()).collect();
    assert_eq!(got, want, "--indices gives exactly those frames in that order");

    let from = dir.join("from.framemd5");
    // 2.0 s at 25 fps is frame 50.
    expect_exit(
        &run(&["decode", s(&input), "-o", s(&from), "--framemd5", "--start", "2.0", "--count", "7", "-q"]),
        0,
        "start",
    );
    assert_eq!(md5(&frame_lines(&std::fs::read_to_string(&from).unwrap())), md5(&all[50..57]));

    let first = dir.join("first.framemd5");
    expect_exit(&run(&["decode", s(&input), "-o", s(&first), "--framemd5", "--count", "3", "-q"]), 0, "count");
    assert_eq!(md5(&frame_lines(&std::fs::read_to_string(&first).unwrap())), md5(&all[..3]));

    // Out of range, and stdin: usage errors.
    expect_exit(&run(&["decode", s(&input), "-o", s(&first), "--indices", "100"]), 2, "index past the end");
    expect_exit(&run(&["decode", s(&input), "-o", s(&first), "--start", "9.5"]), 2, "start past the end");
    expect_exit(&run_stdin(&["decode", "-", "-o", s(&first), "--count", "1"], b""), 2, "stdin");
}

#[test]
fn transcode_keeps_the_audio() {
    if !any_available("h264", "encode") {
        eprintln!("note: no H.264 encoder here");
        return;
    }
    let dir = tmpdir("media-transcode");
    for (input, out, audio) in [
        ("h264-aac.mp4", "out.mp4", "aac"),
        ("h264-aac.ts", "out.mkv", "aac"),
        ("hevc-aac.mkv", "out2.mkv", "aac"),
        ("h264-editlist.mp4", "cut.mp4", "aac"),
    ] {
        let f = facts(input);
        let codec = f["streams"][0]["codec_name"].as_str().unwrap();
        if !any_available(codec, "decode") {
            continue;
        }
        let output = dir.join(out);
        let o = run(&["transcode", s(&media(input)), "-o", s(&output), "--codec", "h264", "-q"]);
        expect_exit(&o, 0, input);
        // Every audio track of the input, copied: same packet count per track.
        let o = run(&["info", "--json", s(&output)]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let tracks = v["tracks"].as_array().unwrap();
        let in_audio: Vec<_> = f["streams"].as_array().unwrap().iter().filter(|s| s["codec_type"] == "audio").collect();
        assert_eq!(tracks.len(), 1 + in_audio.len(), "{input} -> {out}: tracks {tracks:?}");
        assert_eq!(tracks[1]["codec"], audio);
        assert_eq!(tracks[0]["frames"], f["streams"][0]["nb_read_frames"], "{input}: every shown frame encoded");
        if ffprobe() {
            let p = ffprobe_json(&output, &["-count_packets", "-show_entries", "stream=codec_name,nb_read_packets"]);
            let packets: Vec<u64> = p["streams"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["nb_read_packets"].as_str().unwrap().parse().unwrap())
                .collect();
            for (k, s) in in_audio.iter().enumerate() {
                assert_eq!(packets[1 + k], s["nb_read_packets"].as_u64().unwrap(), "{input} -> {out}: audio packets");
            }
            let check = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-i", s(&output), "-f", "null", "-"])
                .output()
                .unwrap();
            assert!(
                check.status.success() && check.stderr.is_empty(),
                "{out}: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    // --no-audio: video alone.
    let output = dir.join("silent.mp4");
    expect_exit(&run(&["transcode", s(&media("h264-aac.mp4")), "-o", s(&output), "--no-audio", "-q"]), 0, "no audio");
    let v: serde_json::Value = serde_json::from_slice(&run(&["info", "--json", s(&output)]).stdout).unwrap();
    assert_eq!(v["tracks"].as_array().unwrap().len(), 1);
    // WebM cannot hold H.264 or AAC: a clear refusal.
    let o = run(&["transcode", s(&media("h264-aac.mp4")), "-o", s(&dir.join("x.webm")), "-q"]);
    let err = expect_exit(&o, 3, "h264 in webm");
    assert!(err.contains("WebM"), "{err}");
}

/// A container on stdin: spooled to a temporary file, then read as the file is (an MP4's
/// index may come after its samples): the same frames, and the audio kept by `transcode`.
#[test]
fn containers_from_stdin_decode_as_their_files() {
    let dir = tmpdir("media-stdin");
    for name in
        ["h264-aac.mp4", "h264-aac-frag.mp4", "h264-aac.ts", "h264-opengop.mkv", "h264-editlist.mp4", "hevc-aac.mkv"]
    {
        let f = facts(name);
        let codec = f["streams"][0]["codec_name"].as_str().unwrap();
        if !any_available(codec, "decode") {
            eprintln!("note: no engine decodes {codec} here; {name} not decoded from stdin");
            continue;
        }
        let from_file = dir.join("file.framemd5");
        expect_exit(&run(&["decode", s(&media(name)), "-o", s(&from_file), "--framemd5", "-q"]), 0, name);
        let o = run_stdin(&["decode", "-", "-o", "-", "--framemd5", "-q"], &std::fs::read(media(name)).unwrap());
        expect_exit(&o, 0, &format!("{name} from stdin"));
        let want = frame_lines(&std::fs::read_to_string(&from_file).unwrap());
        let got = frame_lines(&String::from_utf8_lossy(&o.stdout));
        assert_eq!(got.len(), want.len(), "{name} from stdin: frame count");
        assert!(got == want, "{name} from stdin: frames differ from the file's");
    }
    if any_available("h264", "encode") {
        let out = dir.join("from-stdin.mp4");
        let o = run_stdin(
            &["transcode", "-", "-o", s(&out), "--codec", "h264", "-q"],
            &std::fs::read(media("h264-aac.ts")).unwrap(),
        );
        expect_exit(&o, 0, "transcode from stdin");
        let v: serde_json::Value = serde_json::from_slice(&run(&["info", "--json", s(&out)]).stdout).unwrap();
        let tracks = v["tracks"].as_array().unwrap();
        assert_eq!(tracks.len(), 2, "video and the copied audio: {tracks:?}");
        assert_eq!(tracks[0]["frames"], facts("h264-aac.ts")["streams"][0]["nb_read_frames"]);
    }
    // Damaged input fails on stdin as it does from the file.
    let bad = testdata("media/bad/absurd-stsz.mp4");
    let from_file = run(&["decode", s(&bad), "-o", "-", "-q"]);
    let from_stdin = run_stdin(&["decode", "-", "-o", "-", "-q"], &std::fs::read(&bad).unwrap());
    assert_eq!(from_stdin.status.code(), from_file.status.code(), "{}", String::from_utf8_lossy(&from_stdin.stderr));
    assert_ne!(from_stdin.status.code(), Some(0));
}
