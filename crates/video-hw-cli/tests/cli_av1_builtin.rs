//! AV1 with FFmpeg turned off (`VIDEO_HW_FFMPEG_DIR=none`): the built-in rav1d decodes
//! every AV1 fixture, in every container (IVF, MP4, fragmented MP4, Matroska, WebM,
//! MPEG-TS in both forms, a raw OBU stream), to the libdav1d reference, frame for frame
//! and count for count; random access gives a straight decode's frames; damaged files
//! exit 4 with the frames before the damage.

mod util;

use std::process::Output;

use util::{expect_exit, frame_lines, testdata};

fn run_builtin(args: &[&str]) -> Output {
    util::run_env(args, &[("VIDEO_HW_FFMPEG_DIR", "none")])
}

/// The md5 column of a framemd5 text.
fn md5s(text: &str) -> Vec<String> {
    frame_lines(text).into_iter().map(|(_, md5)| md5).collect()
}

fn reference(file: &str, tag: &str) -> Vec<String> {
    md5s(&std::fs::read_to_string(testdata(&format!("{file}.{tag}.framemd5"))).unwrap())
}

#[test]
fn every_container_decodes_exactly_with_rav1d() {
    let files = [
        "av1/libaom-kf8-cars-320x240.ivf",
        "av1/libaom-kf8-cars-320x240.mp4",
        "av1/libaom-kf8-cars-320x240-frag.mp4",
        "av1/libaom-kf8-cars-320x240.mkv",
        "av1/libaom-kf8-cars-320x240.webm",
        "av1/libaom-kf8-cars-320x240.obu",
        "av1/svtav1-10bit-cars-320x240.ivf",
        "av1/svtav1-filmgrain-cars-320x240.ivf",
        "av1/libaom-odd-317x179-cars.ivf",
        "av1/svtav1-reschange-320x240-240x180-cars.ivf",
    ];
    // MPEG-TS files hold the IVF files' units: theirs are the references (no ffmpeg reads
    // AV1 in MPEG-TS as video).
    let in_ts = [
        ("av1/libaom-kf8-cars-320x240.ts", "av1/libaom-kf8-cars-320x240.ivf"),
        ("av1/libaom-kf8-cars-320x240-split.ts", "av1/libaom-kf8-cars-320x240.ivf"),
        ("av1/libaom-kf8-cars-320x240-ffmpeg.ts", "av1/libaom-kf8-cars-320x240.ivf"),
        ("av1/aomenc-fwdkf-cars-320x240-split.ts", "av1/aomenc-fwdkf-cars-320x240.ivf"),
    ];
    for (file, reference_of) in files.iter().map(|f| (*f, *f)).chain(in_ts) {
        for (pix_fmt, tag) in [("yuv420p", "yuv"), ("nv12", "nv12")] {
            // ffmpeg's names state the depth: the 10-bit file's references are 10-bit.
            let (pix_fmt, tag) = match (file.contains("10bit"), tag) {
                (true, "nv12") => ("p010le", "p010"),
                (true, _) => ("yuv420p10le", tag),
                _ => (pix_fmt, tag),
            };
            let path = testdata(file);
            let out = run_builtin(&["decode", util::s(&path), "--pix-fmt", pix_fmt, "--framemd5", "-o", "-"]);
            let stderr = expect_exit(&out, 0, file);
            assert!(stderr.contains("rav1d"), "{file}: {stderr}");
            let got = md5s(&String::from_utf8_lossy(&out.stdout));
            assert_eq!(got, reference(reference_of, tag), "{file} {pix_fmt}");
        }
    }
}

/// AV1 in MPEG-TS on whatever engine Auto picks (FFmpeg's where it is loaded, else
/// rav1d): the same frames, and random access gives a straight decode's; a file cut
/// short exits 4 with the frames before the cut.
#[test]
fn av1_in_mpeg_ts_decodes_exactly_on_auto() {
    for (file, reference_of) in [
        ("av1/libaom-kf8-cars-320x240-split.ts", "av1/libaom-kf8-cars-320x240.ivf"),
        ("av1/aomenc-fwdkf-cars-320x240-split.ts", "av1/aomenc-fwdkf-cars-320x240.ivf"),
    ] {
        let all = reference(reference_of, "yuv");
        let out = util::run(&["decode", util::s(&testdata(file)), "--framemd5", "-o", "-"]);
        expect_exit(&out, 0, file);
        assert_eq!(md5s(&String::from_utf8_lossy(&out.stdout)), all, "{file}");
        let picks = [all.len() - 1, 3, 9, 17, 3];
        let list = picks.map(|i| i.to_string()).join(",");
        let out = util::run(&["decode", util::s(&testdata(file)), "--indices", &list, "--framemd5", "-o", "-"]);
        expect_exit(&out, 0, file);
        assert_eq!(md5s(&String::from_utf8_lossy(&out.stdout)), picks.map(|i| all[i].clone()), "{file} {list}");
    }
    let file = "av1/libaom-kf8-cars-320x240.ts";
    let bytes = std::fs::read(testdata(file)).unwrap();
    let dir = util::tmpdir("av1-ts-cut");
    let cut = dir.join("cut.ts");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let out = util::run(&["decode", util::s(&cut), "--framemd5", "-o", "-"]);
    let stderr = expect_exit(&out, 4, "cut");
    assert!(stderr.contains("byte"), "{stderr}");
    let got = md5s(&String::from_utf8_lossy(&out.stdout));
    let all = reference("av1/libaom-kf8-cars-320x240.ivf", "yuv");
    assert!(!got.is_empty() && got[..] == all[..got.len()], "cut: {} frames, not the first ones", got.len());
}

#[test]
fn random_access_gives_the_straight_decodes_frames() {
    for file in
        ["av1/libaom-kf8-cars-320x240.mkv", "av1/libaom-kf8-cars-320x240.obu", "av1/aomenc-fwdkf-cars-320x240.ivf"]
    {
        let all = reference(file, "yuv");
        let picks = [all.len() - 1, 3, 9, 17, 3];
        let list = picks.map(|i| i.to_string()).join(",");
        let out = run_builtin(&["decode", util::s(&testdata(file)), "--indices", &list, "--framemd5", "-o", "-"]);
        expect_exit(&out, 0, file);
        let got = md5s(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(got, picks.map(|i| all[i].clone()), "{file} --indices {list}");
    }
}

#[test]
fn damaged_files_exit_4_with_the_frames_before() {
    let good = reference("av1/libaom-kf8-cars-320x240.ivf", "yuv");
    // Cut in the middle of temporal unit 9: its 9 frames before, then exit 4.
    let out = run_builtin(&[
        "decode",
        util::s(&testdata("av1/bad/truncated-libaom-kf8-cars-320x240.ivf")),
        "--framemd5",
        "-o",
        "-",
    ]);
    let stderr = expect_exit(&out, 4, "truncated");
    assert!(stderr.contains("byte"), "{stderr}");
    let got = md5s(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(got, good[..9], "truncated: the frames before the cut");
    // Bits flipped in the tile data of units 1 and 17: frame 0 intact, then damage.
    let out = run_builtin(&[
        "decode",
        util::s(&testdata("av1/bad/bitflip-libaom-kf8-cars-320x240.ivf")),
        "--framemd5",
        "-o",
        "-",
    ]);
    expect_exit(&out, 4, "bit-flipped");
    let got = md5s(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(got[0], good[0], "bit-flipped: the frame before the damage");
}

#[test]
fn probe_lists_the_builtin_av1_engines() {
    let out = run_builtin(&["probe"]);
    let (_, stdout, _) = util::parts(&out);
    assert!(stdout.lines().any(|l| l.starts_with("rav1d") && l.contains("av1") && l.contains("decode")), "{stdout}");
}

/// Average luma PSNR of 320x240 I420 frames against the y4m fixture's frames.
fn luma_psnr_cars(decoded: &[u8]) -> f64 {
    let source = std::fs::read(testdata("real/cars-320x240-25fps.yuv")).unwrap();
    let (y, frame) = (320 * 240, 320 * 240 * 3 / 2);
    assert_eq!(decoded.len(), source.len(), "frame count");
    let frames = source.len() / frame;
    (0..frames)
        .map(|i| {
            let (a, b) = (&source[i * frame..][..y], &decoded[i * frame..][..y]);
            let mse = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>() / y as f64;
            10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
        })
        .sum::<f64>()
        / frames as f64
}

#[test]
fn encode_and_transcode_to_av1_with_rav1e_in_every_container() {
    let dir = util::tmpdir("av1enc");
    let y4m = testdata("real/cars-320x240.y4m");
    for ext in ["mp4", "mkv", "webm", "ivf"] {
        let out = dir.join(format!("cars.{ext}"));
        // The fastest preset: a debug build of rav1e is slow.
        let args =
            ["encode", util::s(&y4m), "--codec", "av1", "--quality", "20", "--preset", "fastest", "-o", util::s(&out)];
        let stderr = expect_exit(&run_builtin(&args), 0, ext);
        assert!(stderr.contains("rav1e"), "{ext}: {stderr}");
        // Decoded back by rav1d: every frame, close to the source.
        let back = run_builtin(&["decode", util::s(&out), "-o", "-", "-q"]);
        expect_exit(&back, 0, ext);
        let db = luma_psnr_cars(&back.stdout);
        assert!(db >= 35.0, "{ext}: {db:.2} dB");
        if util::ffprobe() {
            let v = util::ffprobe_json(&out, &["-count_frames", "-show_streams"]);
            assert_eq!(v["streams"][0]["codec_name"], "av1", "{ext}");
            assert_eq!(v["streams"][0]["nb_read_frames"], "8", "{ext}: ffmpeg decodes every frame");
        }
    }
    // Transcode AV1 to AV1, FFmpeg off: rav1d in, rav1e out.
    let out = dir.join("tx.mkv");
    let src = testdata("av1/libaom-kf8-cars-320x240.webm");
    let args = ["transcode", util::s(&src), "--codec", "av1", "--preset", "fastest", "-o", util::s(&out)];
    let stderr = expect_exit(&run_builtin(&args), 0, "transcode");
    assert!(stderr.contains("rav1d") && stderr.contains("rav1e"), "{stderr}");
    let back = run_builtin(&["decode", util::s(&out), "--framemd5", "-o", "-"]);
    expect_exit(&back, 0, "transcoded file");
    assert_eq!(md5s(&String::from_utf8_lossy(&back.stdout)).len(), 24);
}

/// dav1d's feature stream in both raw OBU formats: the Annex B (length-delimited) file
/// and its low-overhead twin are recognised and give the same frames (their md5 against
/// dav1d's is checked in `crates/video-hw/tests/rav1d_av1.rs`).
#[test]
fn annexb_and_section5_obu_streams_decode_alike() {
    let mut outs = Vec::new();
    for name in ["annexb.obu", "section5.obu"] {
        let path = testdata(&format!("av1/dav1d-features/{name}"));
        let o = run_builtin(&["decode", path.to_str().unwrap(), "--framemd5", "-o", "-", "-q"]);
        expect_exit(&o, 0, name);
        let lines = md5s(&String::from_utf8_lossy(&o.stdout));
        assert_eq!(lines.len(), 10, "{name}");
        outs.push(lines);
        let o = run_builtin(&["info", "--json", path.to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["container"], "obu", "{name}: {v}");
    }
    assert_eq!(outs[0], outs[1]);
}
