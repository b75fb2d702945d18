//! `video-hw transcode` end to end: MP4 and Annex-B in, Annex-B and MP4 out (timestamps
//! carried from an MP4 input, checked with ffprobe where installed), the README's main
//! job, damage, and exit statuses.

use crate::util;

use util::{any_available, expect_exit, ffprobe, ffprobe_json, run, s, testdata, tmpdir};

const MP4: &str = "mp4/high-bpyramid-8x8-wp-cars-320x240.mp4";
const ANNEXB: &str = "h264/cbp-cavlc-cars-320x240.h264";

fn frames_of(path: &std::path::Path) -> u64 {
    let o = run(&["decode", s(path), "-o", "/dev/null", "--json", "-q"]);
    expect_exit(&o, 0, "decode back");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["frames"].as_u64().unwrap()
}

#[test]
fn readme_main_job_works_and_says_what_it_did() {
    let dir = tmpdir("mainjob");
    let out = dir.join("out.h264");
    let o = run(&["transcode", s(&testdata(MP4)), "-o", s(&out), "--codec", "h264"]);
    let stderr = expect_exit(&o, 0, "main job");
    let line = stderr.lines().find(|l| l.starts_with("video-hw: transcoded")).expect("summary line");
    assert!(line.contains("transcoded 30 frames of 320x240"), "{line}");
    assert!(line.contains("decoder ") && line.contains("encoder "), "{line}");
    assert!(line.contains("0 damaged part(s) dropped"), "{line}");
    assert_eq!(frames_of(&out), 30);
}

#[test]
fn mp4_to_mp4_keeps_the_timestamps() {
    let dir = tmpdir("mp4mp4");
    let out = dir.join("out.mp4");
    let o = run(&["transcode", s(&testdata(MP4)), "-o", s(&out), "--gop", "10", "--json", "-q"]);
    expect_exit(&o, 0, "mp4 → mp4");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["job"].as_str(), v["frames"].as_u64()), (Some("transcode"), Some(30)));
    assert_eq!(frames_of(&out), 30);
    if !ffprobe() {
        return;
    }
    let pts = |f: &std::path::Path| {
        let p = ffprobe_json(f, &["-show_entries", "packet=pts_time,flags"]);
        let mut t: Vec<String> =
            p["packets"].as_array().unwrap().iter().map(|p| p["pts_time"].as_str().unwrap().to_string()).collect();
        t.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse::<f64>().unwrap()));
        let keys =
            p["packets"].as_array().unwrap().iter().filter(|p| p["flags"].as_str().unwrap().starts_with('K')).count();
        (t, keys)
    };
    let (src, _) = pts(&testdata(MP4));
    let (got, keys) = pts(&out);
    assert_eq!(got, src, "every picture keeps its presentation time");
    assert_eq!(keys, 3, "--gop 10 over 30 frames");
    let st = &ffprobe_json(&out, &["-count_frames", "-show_streams"])["streams"][0];
    assert_eq!(st["nb_read_frames"], "30", "{st}");
}

#[test]
fn annexb_to_mp4_and_annexb() {
    let dir = tmpdir("annexb");
    for name in ["out.mp4", "out.h264"] {
        let out = dir.join(name);
        expect_exit(&run(&["transcode", s(&testdata(ANNEXB)), "-o", s(&out), "--bitrate", "300k", "-q"]), 0, name);
        assert_eq!(frames_of(&out), 30, "{name}");
    }
    let o = run(&["transcode", s(&testdata(ANNEXB)), "-o", "-", "-q"]);
    expect_exit(&o, 0, "to stdout");
    assert!(o.stdout.starts_with(&[0, 0, 0, 1]), "Annex-B on stdout");
    if ffprobe() {
        let st = &ffprobe_json(&dir.join("out.mp4"), &["-count_frames", "-show_streams"])["streams"][0];
        assert_eq!((st["codec_tag_string"].as_str(), st["nb_read_frames"].as_str()), (Some("avc1"), Some("30")));
        assert_eq!(st["r_frame_rate"], "25/1", "the stream's VUI rate");
    }
}

#[test]
fn damaged_input_still_gives_the_frames_before() {
    let dir = tmpdir("tdamage");
    let mut data = std::fs::read(testdata(ANNEXB)).unwrap();
    let at = data.len() / 2;
    data[at..at + 2000].fill(0x5a);
    let input = dir.join("damaged.h264");
    std::fs::write(&input, data).unwrap();
    let out = dir.join("out.h264");
    // FFmpeg's h264 decoder (where FFmpeg is loaded, Auto's software choice) conceals the
    // picture lost here (a frame_num gap) without any error signal (docs/ffmpeg.md);
    // OpenH264 reports it, which is what this test is about.
    let mut args = vec!["transcode", s(&input), "-o", s(&out)];
    if util::ffmpeg_loaded() {
        args.extend(["--decoder-backend", "openh264"]);
    }
    let e = expect_exit(&run(&args), 4, "damaged");
    assert!(e.contains("damaged part(s) dropped"), "{e}");
    let n = frames_of(&out);
    assert!((5..30).contains(&n), "{n} frames before the damage");
}

#[test]
fn exit_statuses() {
    let dir = tmpdir("tstatus");
    let out = dir.join("o.h264");
    let o = s(&out);
    let mp4 = testdata(MP4);
    for args in [
        vec!["transcode", s(&mp4), "-o", o, "--decoder-backend", "nvenc"],
        vec!["transcode", s(&mp4), "-o", o, "--backend", "nvdec"],
        vec!["transcode", s(&mp4), "-o", "/tmp/x.h265", "--codec", "h264"],
        vec!["transcode", s(&mp4), "-o", o, "--fps", "0"],
        vec!["transcode", s(&mp4)],
    ] {
        expect_exit(&run(&args), 2, &args.join(" "));
    }
    if !any_available("hevc", "decode") {
        let hevc = testdata("mp4/main-bframes-cars-320x240.mp4");
        let e = expect_exit(&run(&["transcode", s(&hevc), "-o", o]), 3, "hevc in");
        assert!(e.contains("no engine can decode hevc"), "{e}");
    }
    if !any_available("hevc", "encode") {
        let e = expect_exit(&run(&["transcode", s(&mp4), "-o", s(&dir.join("o.h265"))]), 3, "hevc out");
        assert!(e.contains("no engine can encode hevc"), "{e}");
    }
    let garbage = dir.join("garbage.mp4");
    std::fs::write(&garbage, [9u8; 4000]).unwrap();
    expect_exit(&run(&["transcode", s(&garbage), "-o", o]), 4, "garbage");
}

/// `--sessions N` (the default for a file NVDEC decodes): the input is read through its
/// frame index with GOPs decoding on several sessions; the frames reach the encoder in
/// order, so the output equals one session's, audio included; damage ends as it does on one.
#[test]
fn transcode_on_several_sessions_equals_one_session() {
    if !any_available("h264", "encode") || !any_available("h264", "decode") {
        eprintln!("note: no H.264 encoder or decoder here");
        return;
    }
    let dir = tmpdir("transcode-sessions");
    let decoded = |path: &std::path::Path| {
        let o = run(&["decode", s(path), "-o", "-", "--framemd5", "-q"]);
        expect_exit(&o, 0, "decode back");
        util::frame_lines(&String::from_utf8_lossy(&o.stdout))
    };
    let media = |name: &str| testdata(&format!("media/{name}"));
    // Inputs read on more than one session: those with several jobs ahead.
    let mut several = 0;
    // (input, output, whether the bytes must be equal: without audio, whose packets may
    // interleave otherwise, they must, timestamps included).
    for (input, out, same_bytes) in [
        (testdata(MP4), "a.h264", true),
        (testdata(ANNEXB), "b.h264", true),
        (testdata(ANNEXB), "g.mp4", true),
        (testdata(MP4), "h.mp4", true),
        (media("h264-aac.mp4"), "c.mkv", false),
        (media("h264-editlist.mp4"), "d.mp4", false),
        (media("h264-aac.ts"), "e.mp4", false),
        (media("h264-opengop.mkv"), "f.h264", true),
    ] {
        let (one, many) = (dir.join(format!("1-{out}")), dir.join(format!("3-{out}")));
        let what = format!("{} -> {out}", input.display());
        for (path, sessions) in [(&one, "1"), (&many, "3")] {
            // OpenH264 encodes the same frames to the same bytes (FFmpeg's libx264 on
            // several threads does not, even run twice alike).
            let args = ["transcode", s(&input), "-o", s(path), "--codec", "h264", "--backend", "openh264"];
            let o = run(&[&args[..], &["--sessions", sessions, "--json"]].concat());
            expect_exit(&o, 0, &format!("{what} on {sessions} session(s)"));
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            if sessions == "3" {
                // At most 3, and no more than the read-ahead has jobs (a 30-frame file of one
                // GOP is one job: one session).
                let n = util::decoder_sessions(&v);
                assert!((1..=3).contains(&n), "{what}: {}", v["decoder"]);
                several += usize::from(n > 1);
            }
        }
        if same_bytes {
            assert!(std::fs::read(&one).unwrap() == std::fs::read(&many).unwrap(), "{what}: the bytes differ");
        }
        let want = decoded(&one);
        assert!(!want.is_empty(), "{what}");
        assert_eq!(decoded(&many), want, "{what}: frames");
        // Every track (the audio copied) with as many packets as on one session.
        let tracks = |path: &std::path::Path| {
            let o = run(&["info", "--json", s(path)]);
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            v["tracks"].as_array().cloned().unwrap_or_default().iter().map(|t| t["frames"].clone()).collect::<Vec<_>>()
        };
        assert_eq!(tracks(&many), tracks(&one), "{what}: tracks");
    }
    assert!(several >= 1, "no input was read on several sessions");
    // Damage (a Matroska file cut short): the frames before it are encoded, exit 4, as on
    // one session.
    let whole = std::fs::read(media("h264-opengop.mkv")).unwrap();
    let bad = dir.join("cut.mkv");
    std::fs::write(&bad, &whole[..whole.len() * 7 / 10]).unwrap();
    for sessions in ["1", "3"] {
        let out = dir.join(format!("bad-{sessions}.h264"));
        let args = ["transcode", s(&bad), "-o", s(&out), "--codec", "h264", "--backend", "openh264"];
        let o = run(&[&args[..], &["--sessions", sessions, "-q"]].concat());
        expect_exit(&o, 4, &format!("cut short, on {sessions} session(s)"));
    }
    let (one, many) = (decoded(&dir.join("bad-1.h264")), decoded(&dir.join("bad-3.h264")));
    assert!(!one.is_empty() && many == one, "cut short: {} frames on one session, {} on three", one.len(), many.len());
    // stdin cannot be read through an index.
    let stream = std::fs::read(testdata(ANNEXB)).unwrap();
    let o = util::run_stdin(&["transcode", "-", "-o", s(&dir.join("x.h264")), "--sessions", "3", "-q"], &stream);
    expect_exit(&o, 2, "--sessions from stdin");
}
