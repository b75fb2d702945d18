//! The FFmpeg engine's encoders against the ffmpeg tool with the same options: libx264,
//! libx265 and SVT-AV1 through `video-hw encode --backend ffmpeg` give the same bytes (within
//! 1%) and the same quality (luma PSNR within 0.05 dB) as `ffmpeg` given exactly the
//! options video-hw hands the encoder (read from video-hw's own debug line "ffmpeg encoder
//! options: …"), on the same raw frames. libaom-av1 the same way, through the library in
//! this process (see its test).

use crate::util;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use video_hw::{Codec, Direction, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, HostFrame};

use util::{s, testdata, tmpdir};

const W: usize = 320;
const H: usize = 240;

/// Splits the options line the way a shell would (single quotes group).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(cur);
    }
    words
}

/// Total payload bytes of the video packets of `path` (container-independent).
fn payload_bytes(path: &Path) -> u64 {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&o.stdout).lines().filter_map(|l| l.trim().parse::<u64>().ok()).sum()
}

/// The Annex-B stream in `path` (a Matroska file), through ffmpeg's bitstream filter.
fn annexb(path: &Path, codec: &str) -> Vec<u8> {
    let o = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-c", "copy", "-bsf:v", &format!("{codec}_mp4toannexb"), "-f", codec, "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// Bytes of the coded-picture NAL units (H.264 types 1-5, HEVC 0-31) of an Annex-B stream.
fn vcl_bytes(stream: &[u8], codec: &str) -> u64 {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut total = 0;
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(stream.len(), |&next| next - 3);
        let Some(&header) = stream.get(start) else { continue };
        let vcl = if codec == "h264" { (1..=5).contains(&(header & 0x1f)) } else { (header >> 1) & 0x3f < 32 };
        if vcl {
            total += (end - start) as u64;
        }
    }
    total
}

/// Luma PSNR of `path` (decoded by the ffmpeg tool) against the raw source frames.
fn luma_psnr(path: &Path, source: &[u8]) -> f64 {
    let o = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let frame = W * H * 3 / 2;
    assert_eq!(o.stdout.len(), source.len(), "{}: every frame decodes", path.display());
    let (mut se, mut n) = (0f64, 0f64);
    for (a, b) in o.stdout.chunks(frame).zip(source.chunks(frame)) {
        for (x, y) in a[..W * H].iter().zip(&b[..W * H]) {
            se += (f64::from(*x) - f64::from(*y)).powi(2);
            n += 1.0;
        }
    }
    10.0 * (255.0f64 * 255.0 / (se / n).max(1e-9)).log10()
}

#[test]
fn encoders_match_the_ffmpeg_tool_given_the_same_options() {
    if !util::need_ffmpeg() {
        return;
    }
    if !util::ffmpeg_tool_matches_loaded() {
        // Another FFmpeg (a PyAV wheel's, say) carries other encoder versions.
        eprintln!("note: the ffmpeg tool runs another libavcodec than the one loaded; nothing to compare");
        return;
    }
    let raw = testdata("real/cars-320x240-25fps.yuv");
    let dir = tmpdir("ffparity");
    // ffmpeg writes Matroska: with `+global_header` (which video-hw sets) the parameter
    // sets live in the container's codec private data, while video-hw repeats them before
    // each keyframe; so H.264 and HEVC compare their coded pictures (VCL NAL units) only.
    for (codec, ext, encoder) in [("h264", "h264", "libx264"), ("hevc", "h265", "libx265"), ("av1", "ivf", "libsvtav1")]
    {
        let ours = dir.join(format!("ours.{ext}"));
        let o = util::run_env(
            &[
                "encode",
                s(&raw),
                "--size",
                "320x240",
                "--fps",
                "25",
                "--backend",
                "ffmpeg",
                "--codec",
                codec,
                "--bitrate",
                "400k",
                "--gop",
                "4",
                "--threads",
                "1",
                // Each encoder by name: unnamed, an AV1 bitrate target on an SVT-AV1 before
                // 4.0 goes to libaom-av1 (compared by the next test).
                "--encoder",
                encoder,
                "-o",
                s(&ours),
            ],
            &[("VIDEO_HW_LOG", "video_hw=debug"), ("NO_COLOR", "1")],
        );
        let log = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{codec}: {log}");
        // The last such line: the registry's probe opens a small encoder first.
        let Some(line) = log.lines().filter_map(|l| l.split_once("-c:v ")).map(|(_, r)| r).next_back() else {
            panic!("{codec}: no encoder options line in {log}");
        };
        compare_with_ffmpeg_tool(codec, encoder, line, &[], &ours, &raw);
    }
}

/// Encodes the raw 320x240 25 fps source `raw` with the ffmpeg tool given `line` (the
/// options video-hw logged, from `-c:v`'s value on) and `extra`, and compares `ours` with
/// what it makes: payload within 1%, luma PSNR within 0.05 dB.
fn compare_with_ffmpeg_tool(codec: &str, encoder: &str, line: &str, extra: &[&str], ours: &Path, raw: &Path) {
    let source = std::fs::read(raw).unwrap();
    let mut args = vec!["-c:v".to_string()];
    args.extend(shell_words(line.trim_end()));
    assert_eq!(args[1], encoder, "{codec}: {line}");
    args.extend(extra.iter().map(|a| a.to_string()));
    let theirs = ours.with_file_name(format!("theirs-{encoder}.mkv"));
    let f = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "320x240", "-r", "25"])
        .arg("-i")
        .arg(raw)
        .args(&args)
        .arg(&theirs)
        .env("SVT_LOG", "1")
        .output()
        .unwrap();
    assert!(f.status.success(), "{codec}: ffmpeg {args:?}: {}", String::from_utf8_lossy(&f.stderr));
    let (a, b) = match codec {
        "av1" => (payload_bytes(ours), payload_bytes(&theirs)),
        _ => (vcl_bytes(&std::fs::read(ours).unwrap(), codec), vcl_bytes(&annexb(&theirs, codec), codec)),
    };
    let size_diff = (a as f64 - b as f64).abs() / b as f64;
    let (pa, pb) = (luma_psnr(ours, &source), luma_psnr(&theirs, &source));
    eprintln!("{encoder}: {a} vs {b} bytes ({:.3}%), {pa:.3} vs {pb:.3} dB", size_diff * 100.0);
    assert!(size_diff <= 0.01, "{encoder}: {a} bytes, ffmpeg {b} bytes ({args:?})");
    assert!((pa - pb).abs() <= 0.05, "{encoder}: {pa:.3} dB, ffmpeg {pb:.3} dB ({args:?})");
}

/// A `Write` into a shared buffer, for a tracing subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with video-hw's debug lines captured on this thread; its result and the lines.
fn with_debug_log<T>(f: impl FnOnce() -> T) -> (T, String) {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

/// The packets as an IVF file (32-byte file header, 12-byte frame headers).
fn ivf(packets: &[video_hw::Packet], frames: u32) -> Vec<u8> {
    let mut out = b"DKIF".to_vec();
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(b"AV01");
    out.extend_from_slice(&(W as u16).to_le_bytes());
    out.extend_from_slice(&(H as u16).to_le_bytes());
    for v in [25u32, 1, frames, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, p) in packets.iter().enumerate() {
        out.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(i as u64).to_le_bytes());
        out.extend_from_slice(&p.data);
    }
    out
}

/// libaom-av1, video-hw's AV1 encoder where FFmpeg has no libsvtav1 (and for bitrate
/// targets where its SVT-AV1 is older than 4.0). video-hw's side runs here, in the test's
/// process, through the library with libsvtav1 hidden by the test hook
/// (`registry::__hide_ffmpeg_encoders`), so that the probe and the open both take libaom:
/// the settings of the CLI runs above, the options read from the same debug line.
#[test]
fn libaom_matches_the_ffmpeg_tool_given_the_same_options() {
    if !util::need_ffmpeg() {
        return;
    }
    if !util::ffmpeg_tool_matches_loaded() {
        eprintln!("note: the ffmpeg tool runs another libavcodec than the one loaded; nothing to compare");
        return;
    }
    video_hw::registry::__hide_ffmpeg_encoders(&["libsvtav1"]);
    let report = video_hw::registry::probe(Engine::Ffmpeg, Codec::Av1, Direction::Encode, 0);
    if !report.available || report.reason.contains("no bitrate targets") {
        // No libaom, or FFmpeg 7.1, which refuses libaom's bitrate targets (`aom::cbr_refused`).
        eprintln!("note: {}; nothing to compare", report.reason);
        return;
    }
    let raw = testdata("real/cars-320x240-25fps.yuv");
    let source = std::fs::read(&raw).unwrap();
    let mut config = EncoderConfig::new(Codec::Av1, W as u32, H as u32)
        .fps(25, 1)
        .rate_control(video_hw::RateControl::Cbr { bitrate: 400_000 })
        .gop(4)
        .engine(EnginePreference::Only(Engine::Ffmpeg));
    config.threads = Some(1);
    let frames: Vec<&[u8]> = source.chunks(W * H * 3 / 2).collect();
    let (packets, log) = with_debug_log(|| {
        let mut enc = Encoder::open(config.clone()).unwrap();
        let mut packets = Vec::new();
        for (i, picture) in frames.iter().enumerate() {
            let host = HostFrame::from_packed(config.input_format, W as u32, H as u32, picture.to_vec()).unwrap();
            let frame = Frame::host(config.input_format, W as u32, H as u32, host);
            enc.submit(&frame, FrameOptions { pts: Some(i as i64 * 3600), force_keyframe: false }).unwrap();
            while let Some(p) = enc.try_reap().unwrap() {
                packets.push(p);
            }
        }
        packets.extend(enc.flush().unwrap());
        packets
    });
    assert_eq!(packets.len(), frames.len());
    let Some(line) = log.lines().filter_map(|l| l.split_once("-c:v ")).map(|(_, r)| r).next_back() else {
        panic!("no encoder options line in {log}");
    };
    // tracing's default format writes the event's field after the message.
    let line = line.split(" encoder=").next().unwrap();
    let dir = tmpdir("ffparity-aom");
    let ours = dir.join("ours-libaom-av1.ivf");
    std::fs::write(&ours, ivf(&packets, frames.len() as u32)).unwrap();
    // The session's time base (1/90000; a field, not an option, so not in the line): FFmpeg
    // 5.1's libaomenc tells libaom that every frame lasts one tick of it, which sets
    // libaom's frame-rate estimate for the first frame. At the tool's default (1/25) the
    // stream was 0.4% smaller and 0.105 dB worse; at the same time base, within 0.1% and
    // equal.
    compare_with_ffmpeg_tool("av1", "libaom-av1", line, &["-enc_time_base", "1:90000"], &ours, &raw);
}
