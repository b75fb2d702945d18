//! `decode --follow`: a file written while it is read (MPEG-TS, fragmented MP4, raw
//! Annex-B), in chunks that cut transport packets, boxes and NAL units anywhere, decodes to
//! exactly the frames of the finished file (framemd5 equal, the same count); the job ends
//! once the file stops growing for `--timeout`, or at SIGINT with the output finished.
//! `transcode --follow` does the same with the audio copied: its output holds the packets,
//! video and audio, of a transcode of the finished file, each audio packet once.
#![cfg(unix)]

use crate::util;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use util::{expect_exit, frame_lines, parts, run, s, send_signal, spawn, testdata, tmpdir, wait_child};

/// Writes `data` into `path` in chunks of `chunk` bytes, one every `pace`.
fn write_slowly(path: &Path, data: &[u8], chunk: usize, pace: Duration) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for part in data.chunks(chunk) {
        f.write_all(part).unwrap();
        f.flush().unwrap();
        std::thread::sleep(pace);
    }
}

/// The framemd5 of `input` decoded whole.
fn whole(input: &Path, out: &Path) -> String {
    expect_exit(&run(&["decode", s(input), "-o", s(out), "--framemd5", "-q"]), 0, "decode of the whole file");
    std::fs::read_to_string(out).unwrap()
}

/// Follows `fixture` while a thread writes it (the file starts empty) and checks the
/// frames against the finished file's.
fn follows_exactly(fixture: &str, name: &str, frames: usize) {
    let dir = tmpdir(&format!("follow-{name}"));
    let data = std::fs::read(testdata(fixture)).unwrap();
    let growing = dir.join(name);
    std::fs::write(&growing, b"").unwrap();
    let followed = dir.join("followed.framemd5");
    let args = ["decode", s(&growing), "-o", s(&followed), "--framemd5", "--follow", "--timeout", "1.5", "--json"];
    // The log says each time the reading caught up with the writing.
    let child = spawn(&args, &[("VIDEO_HW_LOG", "debug")], Stdio::null());
    util::wait_for_handlers(child.id());
    // The file in 40 chunks of an odd size, one every 40 ms (1.6 s): they cut packets,
    // boxes and NAL units at odd places.
    write_slowly(&growing, &data, (data.len() / 40) | 1, Duration::from_millis(40));
    let written = Instant::now();
    let result = wait_child(child, "decode --follow");
    let stderr = expect_exit(&result, 0, "decode --follow");
    // It ended once the file had stopped growing for 1.5 s (not much later).
    let after = written.elapsed();
    assert!(after >= Duration::from_millis(1400) && after < Duration::from_secs(15), "{after:?}: {stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], frames as u64, "{summary}");
    // It read while the file grew: it caught up with the writer many times.
    let waits = stderr.matches("waiting for it to grow").count();
    assert!(waits >= 3, "{name}: caught up with the writer {waits} times: {stderr}");
    let reference = whole(&growing, &dir.join("whole.framemd5"));
    let got = std::fs::read_to_string(&followed).unwrap();
    assert_eq!(frame_lines(&got).len(), frames, "{name}: frames followed");
    assert_eq!(frame_lines(&got), frame_lines(&reference), "{name}: the frames of the finished file");
}

#[test]
fn a_growing_mpeg_ts_decodes_exactly() {
    follows_exactly("media/h264-aac.ts", "growing.ts", 100);
}

#[test]
fn a_growing_fragmented_mp4_decodes_exactly() {
    follows_exactly("media/h264-aac-frag.mp4", "growing.mp4", 100);
}

#[test]
fn a_growing_annexb_stream_decodes_exactly() {
    let frames = frame_lines(
        &std::fs::read_to_string(testdata("h264/main-cabac-bframes-testsrc2-320x240.h264.yuv.framemd5")).unwrap(),
    )
    .len();
    follows_exactly("h264/main-cabac-bframes-testsrc2-320x240.h264", "growing.h264", frames);
}

#[test]
fn sigint_while_following_finishes_the_output() {
    let dir = tmpdir("follow-sigint");
    let data = std::fs::read(testdata("media/h264-aac.ts")).unwrap();
    let growing = dir.join("half.ts");
    // Half the file, then it stops growing; the job waits (--timeout 60) until SIGINT.
    std::fs::write(&growing, &data[..data.len() / 2]).unwrap();
    let out = dir.join("out.framemd5");
    let args = ["decode", s(&growing), "-o", s(&out), "--framemd5", "--follow", "--timeout", "60", "--json"];
    let child = spawn(&args, &[], Stdio::null());
    util::wait_for_handlers(child.id());
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    send_signal(child.id(), "INT");
    let result = wait_child(child, "decode --follow");
    assert!(sent.elapsed() < Duration::from_secs(5), "ended {:?} after SIGINT", sent.elapsed());
    let (code, _, stderr) = parts(&result);
    assert_eq!(code, 130, "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    let frames = summary["frames"].as_u64().unwrap();
    // The whole frames of the first half, each the finished file's frame.
    let got = frame_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(got.len() as u64, frames);
    assert!(frames > 20 && frames < 100, "{frames}");
    let reference = frame_lines(&std::fs::read_to_string(testdata("media/h264-aac.ts.framemd5")).unwrap());
    assert_eq!(got[..], reference[..got.len()]);
}

#[test]
fn follow_options_are_checked() {
    let dir = tmpdir("follow-flags");
    let out = dir.join("x.framemd5");
    let ts = testdata("media/h264-aac.ts");
    expect_exit(&run(&["decode", "-", "-o", s(&out), "--follow"]), 2, "--follow with stdin");
    expect_exit(&run(&["decode", s(&ts), "-o", s(&out), "--follow", "--sessions", "2"]), 2, "--follow --sessions");
    expect_exit(&run(&["decode", s(&ts), "-o", s(&out), "--timeout", "2"]), 2, "--timeout without --follow");
    // A finished file: read to its end, then --timeout without growth, then exit 0.
    let o = run(&["decode", s(&ts), "-o", s(&out), "--framemd5", "--follow", "--timeout", "0.2", "-q"]);
    expect_exit(&o, 0, "--follow of a finished file");
    assert_eq!(frame_lines(&std::fs::read_to_string(&out).unwrap()).len(), 100);
}

/// A packet as compared: its track's kind, its pts, the md5 of its bytes.
type Packet = (String, Option<i64>, String);

/// Every packet of every track of the container at `path`, in file order; and the error
/// that ended the read, if any.
fn packets(path: &Path) -> (Vec<Packet>, Option<video_hw::Error>) {
    let mut d = video_hw::media::Demuxer::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let kinds: Vec<String> = d.tracks().iter().map(|t| t.kind.name().to_string()).collect();
    let mut got = Vec::new();
    loop {
        match d.next_packet() {
            Ok(Some(p)) => got.push((kinds[p.track].clone(), p.pts, format!("{:x}", Md5::digest(&p.data)))),
            Ok(None) => return (got, None),
            Err(e) => return (got, Some(e)),
        }
    }
}

/// How many of `packets` are of tracks of `kind`.
fn count(packets: &[Packet], kind: &str) -> usize {
    packets.iter().filter(|p| p.0 == kind).count()
}

/// `transcode --follow` of `fixture` while a thread writes it: the output's packets, video
/// and audio, track by track (bytes and timestamps), equal those of a transcode of the
/// finished file (the encoder is
/// deterministic; the audio is copied), with `frames` video frames and every audio packet
/// of the source once.
fn transcode_follows_exactly(fixture: &str, name: &str, frames: usize) {
    let dir = tmpdir(&format!("follow-transcode-{name}"));
    let data = std::fs::read(testdata(fixture)).unwrap();
    let growing = dir.join(name);
    std::fs::write(&growing, b"").unwrap();
    let followed = dir.join("followed.mp4");
    let args = [
        "transcode",
        s(&growing),
        "-o",
        s(&followed),
        "--codec",
        "h264",
        "--backend",
        "openh264",
        "--follow",
        "--timeout",
        "1.5",
        "--json",
    ];
    let child = spawn(&args, &[("VIDEO_HW_LOG", "debug")], Stdio::null());
    util::wait_for_handlers(child.id());
    write_slowly(&growing, &data, (data.len() / 40) | 1, Duration::from_millis(40));
    let result = wait_child(child, "transcode --follow");
    let stderr = expect_exit(&result, 0, "transcode --follow");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["frames"], frames as u64, "{summary}");
    let waits = stderr.matches("waiting for it to grow").count();
    assert!(waits >= 3, "{name}: caught up with the writer {waits} times: {stderr}");

    let whole = dir.join("whole.mp4");
    expect_exit(
        // Both with the built-in OpenH264 encoder, whose bytes depend only on the frames it
        // is given: with PyAV's FFmpeg 8, libx264 (the `auto` encoder there) gave packet 3 other
        // bytes for the followed input than for the finished file, on the TS and the fMP4
        // alike, while FFmpeg 5.1's did not: a difference in how that encoder is set up for
        // a growing input, not in the frames (open in the note of 2026-11-26).
        &run(&["transcode", s(&growing), "-o", s(&whole), "--codec", "h264", "--backend", "openh264", "-q"]),
        0,
        "transcode of the whole file",
    );
    let (reference, err) = packets(&whole);
    assert!(err.is_none(), "{err:?}");
    let (got, err) = packets(&followed);
    assert!(err.is_none(), "{name}: the followed output reads to its end: {err:?}");
    let (source, _) = packets(&growing);
    assert_eq!(count(&got, "video"), frames, "{name}: video packets");
    assert_eq!(count(&got, "audio"), count(&source, "audio"), "{name}: each audio packet of the source once");
    assert!(count(&got, "audio") > 0, "{name}: the fixture has audio");
    // Track by track (how the muxer interleaves the two depends on when the audio came).
    for kind in ["video", "audio"] {
        let of = |p: &[Packet]| p.iter().filter(|x| x.0 == kind).cloned().collect::<Vec<_>>();
        let (got, reference) = (of(&got), of(&reference));
        if let Some(i) = (0..got.len().max(reference.len())).find(|&i| got.get(i) != reference.get(i)) {
            panic!(
                "{name}: {kind} packet {i} of {} differs from a transcode of the finished file ({}): {:?} against {:?}",
                got.len(),
                reference.len(),
                got.get(i),
                reference.get(i)
            );
        }
    }
    if let Some(n) = util::ffprobe_frames(&followed) {
        assert_eq!(n, frames as u64, "{name}: frames ffprobe decodes");
    }
}

#[test]
fn a_growing_mpeg_ts_transcodes_with_its_audio_exactly() {
    transcode_follows_exactly("media/h264-aac.ts", "growing.ts", 100);
}

#[test]
fn a_growing_fragmented_mp4_transcodes_with_its_audio_exactly() {
    transcode_follows_exactly("media/h264-aac-frag.mp4", "growing.mp4", 100);
}

#[test]
fn sigterm_while_transcode_follows_finishes_the_mp4() {
    let dir = tmpdir("follow-transcode-sigterm");
    let data = std::fs::read(testdata("media/h264-aac.ts")).unwrap();
    let growing = dir.join("half.ts");
    // Half the file, then it stops growing; the job waits (--timeout 60) until SIGTERM.
    std::fs::write(&growing, &data[..data.len() / 2]).unwrap();
    let out = dir.join("out.mp4");
    let args = ["transcode", s(&growing), "-o", s(&out), "--codec", "h264", "--follow", "--timeout", "60", "--json"];
    let child = spawn(&args, &[], Stdio::null());
    util::wait_for_handlers(child.id());
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    send_signal(child.id(), "TERM");
    let result = wait_child(child, "transcode --follow");
    assert!(sent.elapsed() < Duration::from_secs(5), "ended {:?} after SIGTERM", sent.elapsed());
    let (code, _, stderr) = parts(&result);
    assert_eq!(code, 143, "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(summary["interrupted"], "SIGTERM", "{summary}");
    let frames = summary["frames"].as_u64().unwrap();
    assert!(frames > 20 && frames < 100, "{frames}");
    // A finished MP4 (its moov written) with those frames and the audio read with them.
    let (got, err) = packets(&out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(count(&got, "video") as u64, frames);
    let audio = count(&got, "audio");
    let (source, _) = packets(&testdata("media/h264-aac.ts"));
    assert!(audio > 0 && audio < count(&source, "audio"), "{audio} audio packets");
    if let Some(n) = util::ffprobe_frames(&out) {
        assert_eq!(n, frames, "frames ffprobe decodes");
    }
}

#[test]
fn transcode_follow_options_are_checked() {
    let dir = tmpdir("follow-transcode-flags");
    let out = dir.join("x.mp4");
    let ts = testdata("media/h264-aac.ts");
    expect_exit(&run(&["transcode", "-", "-o", s(&out), "--follow"]), 2, "--follow with stdin");
    expect_exit(&run(&["transcode", s(&ts), "-o", s(&out), "--follow", "--sessions", "2"]), 2, "--follow --sessions");
    expect_exit(
        &run(&["transcode", s(&ts), "-o", s(&out), "--timeout", "2"]),
        2,
        "--timeout of a file without --follow",
    );
}
