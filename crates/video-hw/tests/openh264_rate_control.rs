//! Rate control of the built-in OpenH264 encoder on real camera footage
//! (`testdata/real/camera-640x360.h264`, 3 s, made by `scripts/make-camera-clip.sh`):
//!
//! * CBR: the bitrate over the clip within ±5% of the target;
//! * VBR: the average within ±10%, and no one-second window above the peak rate;
//! * both: no overflow of the buffer the stream is meant to fit, one second at the peak
//!   rate (the bitrate for CBR, the maximum for VBR; what the other engines are given as
//!   their VBV), checked as a leaky bucket drained at that rate; every frame coded (no
//!   frame skipping), the first an IDR.
//!
//! Rates from 150 kb/s (0.07 bits per pixel, where the first IDR picture used to fill 1.6
//! buffers: `backend/openh264/first_idr.rs`) to 2 Mb/s.

mod common;

use video_hw::frame::HostFrame;
use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, Input,
    Output, PixelFormat, RateControl, Rational,
};

const ONLY: EnginePreference = EnginePreference::Only(Engine::OpenH264);
const FPS: Rational = Rational { num: 30_000, den: 1001 };

/// The clip's 90 frames, decoded, checked against its reference.
fn camera() -> Vec<Frame> {
    let path = common::fixtures_dir().join("real/camera-640x360.h264");
    let stream = std::fs::read(&path).expect("camera clip");
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)).unwrap();
    dec.submit(Input::annexb(&stream, None)).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = dec.try_reap().unwrap() {
        frames.push(f);
    }
    frames.extend(dec.flush().unwrap());
    let want: Vec<String> = common::read_framemd5(&path.with_file_name("camera-640x360.h264.yuv.framemd5"))
        .into_iter()
        .map(|r| r.md5)
        .collect();
    let got: Vec<String> = frames.iter().map(|f| common::frame_md5(f).1).collect();
    assert_eq!(got, want, "the camera clip decodes to its reference");
    frames
}

/// Each packet's size in bits, after encoding every frame with `rc`.
fn encode(frames: &[Frame], rc: RateControl) -> Vec<u64> {
    let config = EncoderConfig::new(Codec::H264, 640, 360).engine(ONLY).fps(FPS.num, FPS.den).rate_control(rc);
    let mut enc = Encoder::open(config).unwrap();
    let mut sizes = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let frame = Frame::host(
            PixelFormat::Yuv420p,
            640,
            360,
            HostFrame::from_packed(PixelFormat::Yuv420p, 640, 360, f.host_data().unwrap().as_bytes().to_vec()).unwrap(),
        );
        enc.submit(&frame, FrameOptions { pts: Some(i as i64), force_keyframe: false }).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            if sizes.is_empty() {
                assert!(p.keyframe, "{rc:?}: the first packet is not an IDR");
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

fn average(sizes: &[u64]) -> f64 {
    sizes.iter().sum::<u64>() as f64 / (sizes.len() as f64 * FPS.den as f64 / FPS.num as f64)
}

#[test]
fn cbr_hits_its_target_and_fits_a_one_second_buffer() {
    let frames = camera();
    for rate in [150_000u64, 300_000, 600_000, 1_200_000, 2_000_000] {
        let sizes = encode(&frames, RateControl::Cbr { bitrate: rate });
        let avg = average(&sizes);
        let err = avg / rate as f64 - 1.0;
        let peak = bucket_peak(&sizes, rate as f64, rate as f64);
        eprintln!(
            "CBR {rate}: {avg:.0} bit/s ({:+.1}%), buffer peak {peak:.2}, first picture {:.2} of the buffer",
            err * 100.0,
            sizes[0] as f64 / rate as f64
        );
        assert!(err.abs() <= 0.05, "CBR {rate}: {avg:.0} bit/s is {:+.1}% off", err * 100.0);
        assert!(peak <= 1.0, "CBR {rate}: the one-second buffer overflows ({peak:.2} of it)");
    }
}

#[test]
fn vbr_averages_its_target_under_its_peak() {
    let frames = camera();
    for (avg_rate, max) in [(300_000u64, 450_000u64), (600_000, 1_200_000), (1_000_000, 1_500_000)] {
        let sizes = encode(&frames, RateControl::Vbr { avg: avg_rate, max });
        let avg = average(&sizes);
        let err = avg / avg_rate as f64 - 1.0;
        let second = max_second(&sizes);
        let peak = bucket_peak(&sizes, max as f64, max as f64);
        eprintln!("VBR {avg_rate}/{max}: {avg:.0} bit/s ({:+.1}%), busiest second {second} bits", err * 100.0);
        assert!(err.abs() <= 0.10, "VBR {avg_rate}: {avg:.0} bit/s is {:+.1}% off", err * 100.0);
        assert!(second <= max, "VBR {avg_rate}/{max}: a second of {second} bits is over the peak");
        assert!(peak <= 1.0, "VBR {avg_rate}/{max}: the one-second buffer overflows ({peak:.2} of it)");
    }
}
