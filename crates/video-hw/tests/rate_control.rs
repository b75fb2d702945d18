//! Rate control of every software encoder on real camera footage
//! (`testdata/real/camera-640x360.h264`, 3 s, made by `scripts/make-camera-clip.sh`): the
//! built-in OpenH264 and rav1e, and through FFmpeg (where it is loaded) libx264, libx265,
//! SVT-AV1 and libaom-av1 (the AV1 encoder where FFmpeg has no SVT-AV1, and the one that
//! holds every rate where the SVT-AV1 is older than 4.0; run here by name where the FFmpeg
//! has it). rav1e runs on the whole 10 seconds of the same footage at 320x180
//! (`camera-10s-320x180.h264`), at the same bits per pixel: its rate control has no VBV
//! and steers the average over a 1.5-second reservoir (a shorter one costs 1.5-2 dB,
//! `backend/rav1e/encoder.rs`), which a 3-second clip is too short to show.
//!
//! * CBR: the bitrate over the clip within ±5% of the target;
//! * VBR: the average within ±10%, and no one-second window above the peak rate;
//! * both: no overflow of the buffer the stream is meant to fit, one second at the peak
//!   rate (the bitrate for CBR, the maximum for VBR; what the FFmpeg engines are given as
//!   their VBV), checked as a leaky bucket drained at that rate; every frame coded (no
//!   frame skipping), the first a key frame.
//!
//! Rates from 150 kb/s (0.02 bits per pixel; for OpenH264 the rate where the first IDR
//! picture used to fill 1.6 buffers: `backend/openh264/first_idr_qp.rs`) to 2 Mb/s.
//!
//! The FFmpeg encoders run with their own default B-frames (libx264 3, libx265 4), as
//! users get them.
//!
//! Held here (2026-11-25): OpenH264, libx264, libx265, rav1e and libaom-av1 CBR and VBR; of
//! rav1e's, the averages only (it has no VBV: `has_vbv`). libx265's VBR is its strict CBR at
//! the average in a (peak − average) buffer (`encoder_options.rs`): its own ended 8-15% under
//! the average on this clip. SVT-AV1 by its version (`held`, `backend/ffmpeg/svt.rs`): 4.x at
//! every rate; before 4.0 the rates below about 0.09 bits per pixel are left out, measured and
//! not held (its first base-layer pictures overspend: 1.4 CBR +19% and +8% at 150 and 300
//! kb/s, the buffer 1.3 and 1.0 full; 3.1 +20% and +13%; 2.2 +27% to −2% over all five). So
//! SVT-AV1 runs here by name: FFmpeg's AV1 engine gives a bitrate target to libaom-av1
//! instead where the SVT-AV1 is older than 4.0 (a named one says what it may miss:
//! `svt::rate_caveat`). CI loads 1.4 (Debian's FFmpeg 5.1) and 4.1 (PyAV's 8.1); 2.2 and 3.1
//! were run by hand (PyAV 14.2's and 16.0's FFmpeg).

use crate::common;

use video_hw::frame::HostFrame;
use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, Input,
    Output, PixelFormat, Preset, RateControl, Rational,
};

const FPS: Rational = Rational { num: 30_000, den: 1001 };

/// An encoder under test: its engine and codec, the FFmpeg encoder it names (if any), and
/// its name in messages.
#[derive(Clone, Copy)]
struct Under {
    engine: Engine,
    codec: Codec,
    ffmpeg_encoder: Option<&'static str>,
    name: &'static str,
}

const OPENH264: Under = Under { engine: Engine::OpenH264, codec: Codec::H264, ffmpeg_encoder: None, name: "openh264" };
const RAV1E: Under = Under { engine: Engine::Rav1e, codec: Codec::Av1, ffmpeg_encoder: None, name: "rav1e" };
const X264: Under = Under { engine: Engine::Ffmpeg, codec: Codec::H264, ffmpeg_encoder: None, name: "libx264" };
const X265: Under = Under { engine: Engine::Ffmpeg, codec: Codec::Hevc, ffmpeg_encoder: None, name: "libx265" };
/// SVT-AV1 by name: what FFmpeg's AV1 engine opens for a bitrate target where it holds it
/// (4.0 and later), and where it may not, only when named (see
/// [`av1_bitrate_targets_go_to_the_encoder_that_holds_them`]).
const SVT: Under =
    Under { engine: Engine::Ffmpeg, codec: Codec::Av1, ffmpeg_encoder: Some("libsvtav1"), name: "svt-av1" };
const AOM: Under =
    Under { engine: Engine::Ffmpeg, codec: Codec::Av1, ffmpeg_encoder: Some("libaom-av1"), name: "libaom-av1" };

/// Whether FFmpeg is loaded with SVT-AV1 (PyAV 12's and 13's FFmpeg have none).
fn svt_here() -> bool {
    let svt = EncoderConfig::new(Codec::Av1, 64, 64)
        .engine(EnginePreference::Only(Engine::Ffmpeg))
        .rate_control(RateControl::ConstQuality { q: 30 })
        .ffmpeg_encoder("libsvtav1");
    match Encoder::open(svt) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("note: {e}");
            false
        }
    }
}

/// Whether this engine's rate control is held to the targets in `mode` ("cbr" or "vbr") at
/// `rate`; the module's doc gives the misses of the others.
fn held(e: Under, mode: &str, rate: u64) -> bool {
    match (e.name, mode) {
        ("openh264" | "libx264" | "libx265" | "rav1e" | "libaom-av1", _) => true,
        // `backend/ffmpeg/svt.rs`: 4.x holds every rate. CBR: 1.x and 3.x from 0.09 bits per
        // pixel (600 kb/s here), 2.x not for certain. VBR: 1.x every rate, 2.x and 3.x from
        // 600 kb/s (at 300k/450k a second came to 1.03 and 1.05 times the peak).
        ("svt-av1", mode) => match (svt_major(), mode) {
            (Some(m), _) if m >= 4 => true,
            (Some(2), "cbr") => false,
            (Some(1) | None, "vbr") => true,
            _ => rate >= 600_000,
        },
        _ => false,
    }
}

/// The major version of the SVT-AV1 loaded with FFmpeg (from its file name, as the
/// library reads it: `libSvtAv1Enc.so.1.4.1`, PyAV's `libSvtAv1Enc-<hash>.so.4.1.0`).
fn svt_major() -> Option<u32> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.rsplit('/').next())
        .find_map(|f| f.strip_prefix("libSvtAv1Enc")?.split_once(".so.")?.1.split('.').next()?.parse().ok())
}

/// Whether this engine is given a buffer (a VBV) to keep its stream in: rav1e has none,
/// only a reservoir that steers its average, so its one-second windows and VBR peaks are
/// measured and printed, not held (10-second clip, 2026-11-25: the CBR buffer up to 1.5
/// times full at the lowest rate, 1.0-1.2 above it; the busiest VBR second up to 1.3
/// times the peak).
fn has_vbv(e: Under) -> bool {
    e.name != "rav1e"
}

/// rav1e runs at its `fastest` preset (speed 10): its rate control is the same at every
/// speed, and these 8 encodes of the 10-second clip take about a minute of one core there,
/// against two at `faster` and over three at the default (speed 6).
const RAV1E_PRESET: Preset = Preset::Fastest;

/// The clip `e` is measured on: its frames, decoded (checked against the reference).
fn clip_for(e: Under) -> &'static [Frame] {
    static THREE: std::sync::OnceLock<Vec<Frame>> = std::sync::OnceLock::new();
    static TEN: std::sync::OnceLock<Vec<Frame>> = std::sync::OnceLock::new();
    match e.name {
        "rav1e" => TEN.get_or_init(|| camera("camera-10s-320x180.h264", 303)),
        _ => THREE.get_or_init(|| camera("camera-640x360.h264", 90)),
    }
}

/// `rate` (set for 640x360) at the same bits per pixel for pictures like `frames`'.
fn scaled(rate: u64, frames: &[Frame]) -> u64 {
    rate * u64::from(frames[0].width) * u64::from(frames[0].height) / (640 * 360)
}

/// The clip `name`'s frames (`count` of them), decoded, checked against its reference.
fn camera(name: &str, count: usize) -> Vec<Frame> {
    let path = common::fixtures_dir().join("real").join(name);
    let stream = std::fs::read(&path).expect("camera clip");
    let only = EnginePreference::Only(Engine::OpenH264);
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(only)).unwrap();
    dec.submit(Input::annexb(&stream, None)).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = dec.try_reap().unwrap() {
        frames.push(f);
    }
    frames.extend(dec.flush().unwrap());
    let want: Vec<String> = common::read_framemd5(&path.with_file_name(format!("{name}.yuv.framemd5")))
        .into_iter()
        .map(|r| r.md5)
        .collect();
    let got: Vec<String> = frames.iter().map(|f| common::frame_md5(f).1).collect();
    assert_eq!(got, want, "the camera clip decodes to its reference");
    assert_eq!(frames.len(), count, "{name}");
    frames
}

/// Each packet's size in bits, after encoding every frame with `rc` on `e` (its default
/// preset, except rav1e's: see [`RAV1E_PRESET`]).
fn encode(e: Under, frames: &[Frame], rc: RateControl) -> Vec<u64> {
    let (w, h) = (frames[0].width, frames[0].height);
    let mut config = EncoderConfig::new(e.codec, w, h)
        .engine(EnginePreference::Only(e.engine))
        .fps(FPS.num, FPS.den)
        .rate_control(rc);
    // One tick a frame: the pts below are frame numbers (libaom paces its rate by them).
    config.timebase = Rational { num: FPS.den, den: FPS.num };
    config.ffmpeg_encoder = e.ffmpeg_encoder.map(String::from);
    if e.name == "rav1e" {
        config = config.preset(RAV1E_PRESET);
    }
    let mut enc = Encoder::open(config).unwrap_or_else(|err| panic!("{}: {err}", e.name));
    let rc = (e.name, rc);
    let mut sizes = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let frame = Frame::host(
            PixelFormat::Yuv420p,
            w,
            h,
            HostFrame::from_packed(PixelFormat::Yuv420p, w, h, f.host_data().unwrap().as_bytes().to_vec()).unwrap(),
        );
        enc.submit(&frame, FrameOptions { pts: Some(i as i64), force_keyframe: false }).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            if sizes.is_empty() {
                assert!(p.keyframe, "{rc:?}: the first packet is not a key frame");
            }
            sizes.push(p.data.len() as u64 * 8);
        }
    }
    sizes.extend(enc.flush().unwrap().iter().map(|p| p.data.len() as u64 * 8));
    assert_eq!(sizes.len(), frames.len(), "{rc:?}: a frame was skipped");
    sizes
}

/// The highest fullness of a leaky bucket of `buffer` bits drained at `rate` bit/s, as a
/// share of the buffer.
fn bucket_peak(sizes: &[u64], rate: f64, buffer: f64) -> f64 {
    let fps = FPS.num as f64 / FPS.den as f64;
    let mut fullness = 0.0f64;
    let mut peak = 0.0f64;
    for &s in sizes {
        fullness += s as f64;
        peak = peak.max(fullness);
        fullness = (fullness - rate / fps).max(0.0);
    }
    peak / buffer
}

/// The most bits in any 30 consecutive frames (one second at 29.97 fps, rounded).
fn max_second(sizes: &[u64]) -> u64 {
    sizes.windows(30).map(|w| w.iter().sum()).max().unwrap_or(0)
}

/// Records `what` when `ok` is false: every engine and rate runs, then the test fails
/// listing each miss.
fn check(failed: &mut Vec<String>, ok: bool, what: String) {
    if !ok {
        failed.push(what);
    }
}

fn average(sizes: &[u64]) -> f64 {
    sizes.iter().sum::<u64>() as f64 / (sizes.len() as f64 * FPS.den as f64 / FPS.num as f64)
}

// One test per engine family: the built-in engines' give the same figures whatever FFmpeg
// is loaded (CI runs them once), and the engines run side by side.
#[test]
fn cbr_openh264_hits_its_target_and_fits_a_one_second_buffer() {
    cbr_hits_its_target(&[OPENH264]);
}

#[test]
fn cbr_rav1e_hits_its_target() {
    cbr_hits_its_target(&[RAV1E]);
}

// FFmpeg's encoders (where it is loaded: `VIDEO_HW_REQUIRE_FFMPEG=1` makes its absence a
// failure), CBR then VBR, one test each so that they run side by side.
#[test]
fn ffmpeg_libx264_hits_its_targets() {
    if common::ffmpeg_loaded() {
        holds_its_targets(X264);
    }
}

#[test]
fn ffmpeg_libx265_hits_its_targets() {
    if common::ffmpeg_loaded() {
        holds_its_targets(X265);
    }
}

#[test]
fn ffmpeg_svt_av1_hits_its_targets() {
    if !common::ffmpeg_loaded() {
        return;
    }
    av1_bitrate_targets_go_to_the_encoder_that_holds_them();
    if svt_here() {
        holds_its_targets(SVT);
    }
}

/// libaom-av1, named (`ffmpeg_encoder`), where this FFmpeg has it: CBR and VBR in tests of
/// their own, as its eight encodes are the longest of the suite (113 s of CI's first pass
/// in one test, 2026-11-29) and run side by side this way.
#[test]
fn ffmpeg_libaom_av1_cbr_hits_its_target() {
    if aom_here() {
        cbr_hits_its_target(&[AOM]);
    }
}

#[test]
fn ffmpeg_libaom_av1_vbr_averages_its_target() {
    if aom_here() {
        vbr_averages_its_target(&[AOM]);
    }
}

/// Whether FFmpeg is loaded with a libaom-av1 that takes bitrate targets.
fn aom_here() -> bool {
    if !common::ffmpeg_loaded() {
        return false;
    }
    let config = EncoderConfig::new(Codec::Av1, 320, 240).engine(EnginePreference::Only(Engine::Ffmpeg));
    match Encoder::open(config.ffmpeg_encoder("libaom-av1")) {
        Ok(_) => true,
        // Not in this build, or refused with a bitrate target (FFmpeg 7.1: `aom::cbr_refused`).
        Err(e @ video_hw::Error::Unsupported { .. }) => {
            eprintln!("note: {e}");
            false
        }
        Err(e) => panic!("libaom-av1: {e}"),
    }
}

/// FFmpeg's AV1 engine with a bitrate target and no encoder named: SVT-AV1 from 4.0;
/// before it libaom-av1 where this FFmpeg has it and takes its bitrate targets, the
/// description saying why; else SVT-AV1, the description saying what it may miss. SVT-AV1
/// named keeps SVT-AV1 (with that caveat before 4.0); constant quality keeps SVT-AV1.
fn av1_bitrate_targets_go_to_the_encoder_that_holds_them() {
    let open = |rc, name: Option<&str>| {
        let mut config = EncoderConfig::new(Codec::Av1, 320, 240).engine(EnginePreference::Only(Engine::Ffmpeg));
        config.ffmpeg_encoder = name.map(String::from);
        Encoder::open(config.rate_control(rc)).map(|e| e.backend().to_string())
    };
    let cbr = RateControl::Cbr { bitrate: 300_000 };
    let (Ok(crf), Ok(named)) = (open(RateControl::ConstQuality { q: 30 }, None), open(cbr, Some("libsvtav1"))) else {
        eprintln!("note: no libsvtav1 here");
        return;
    };
    let caveat = "may miss bitrate targets";
    assert!(crf.starts_with("ffmpeg libsvtav1") && !crf.contains(caveat), "{crf}");
    let old_svt = svt_major().is_none_or(|m| m < 4);
    assert_eq!(named.contains(caveat), old_svt, "{named}");
    let chosen = open(cbr, None).unwrap();
    // libaom takes bitrate targets wherever it is here at all (FFmpeg 7.1 refuses them).
    let aom = open(cbr, Some("libaom-av1")).is_ok();
    if old_svt && aom {
        assert!(chosen.starts_with("ffmpeg libaom-av1") && chosen.contains("libsvtav1 passed over"), "{chosen}");
    } else {
        assert!(chosen.starts_with("ffmpeg libsvtav1"), "{chosen}");
    }
    eprintln!("AV1 with a bitrate target: {chosen}");
}

#[test]
fn vbr_openh264_averages_its_target_under_its_peak() {
    vbr_averages_its_target(&[OPENH264]);
}

#[test]
fn vbr_rav1e_averages_its_target() {
    vbr_averages_its_target(&[RAV1E]);
}

/// CBR then VBR on `e`: what each FFmpeg encoder's test holds it to.
fn holds_its_targets(e: Under) {
    cbr_hits_its_target(&[e]);
    vbr_averages_its_target(&[e]);
}

/// CBR on each of `engines` held to its target (and its buffer, where it has a VBV).
fn cbr_hits_its_target(engines: &[Under]) {
    let mut failed = Vec::new();
    for &e in engines {
        let frames = clip_for(e);
        for rate in [150_000u64, 300_000, 600_000, 1_200_000, 2_000_000] {
            if !held(e, "cbr", rate) {
                continue;
            }
            let rate = scaled(rate, frames);
            let sizes = encode(e, frames, RateControl::Cbr { bitrate: rate });
            let avg = average(&sizes);
            let err = avg / rate as f64 - 1.0;
            let peak = bucket_peak(&sizes, rate as f64, rate as f64);
            eprintln!(
                "{} CBR {rate}: {avg:.0} bit/s ({:+.1}%), buffer peak {peak:.2}, first picture {:.2} of the buffer",
                e.name,
                err * 100.0,
                sizes[0] as f64 / rate as f64
            );
            check(
                &mut failed,
                err.abs() <= 0.05,
                format!("{} CBR {rate}: {avg:.0} bit/s is {:+.1}% off", e.name, err * 100.0),
            );
            check(
                &mut failed,
                peak <= 1.0 || !has_vbv(e),
                format!("{} CBR {rate}: the one-second buffer overflows ({peak:.2} of it)", e.name),
            );
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// VBR on each of `engines` held to its average (and its peak, where it has a VBV).
fn vbr_averages_its_target(engines: &[Under]) {
    let mut failed = Vec::new();
    for &e in engines {
        let frames = clip_for(e);
        for (avg_rate, max) in [(300_000u64, 450_000u64), (600_000, 1_200_000), (1_000_000, 1_500_000)] {
            if !held(e, "vbr", avg_rate) {
                continue;
            }
            let (avg_rate, max) = (scaled(avg_rate, frames), scaled(max, frames));
            let sizes = encode(e, frames, RateControl::Vbr { avg: avg_rate, max });
            let avg = average(&sizes);
            let err = avg / avg_rate as f64 - 1.0;
            let second = max_second(&sizes);
            let peak = bucket_peak(&sizes, max as f64, max as f64);
            eprintln!(
                "{} VBR {avg_rate}/{max}: {avg:.0} bit/s ({:+.1}%), busiest second {second} bits, buffer peak {peak:.2}",
                e.name,
                err * 100.0
            );
            check(
                &mut failed,
                err.abs() <= 0.10,
                format!("{} VBR {avg_rate}: {avg:.0} bit/s is {:+.1}% off", e.name, err * 100.0),
            );
            check(
                &mut failed,
                second <= max || !has_vbv(e),
                format!("{} VBR {avg_rate}/{max}: a second of {second} bits is over the peak", e.name),
            );
            check(
                &mut failed,
                peak <= 1.0 || !has_vbv(e),
                format!("{} VBR {avg_rate}/{max}: the one-second buffer overflows ({peak:.2} of it)", e.name),
            );
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
