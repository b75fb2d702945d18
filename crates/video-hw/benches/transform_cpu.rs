//! The CPU transform against FFmpeg's swscale, in one run, on the same pictures.
//!
//! `cargo bench -p video-hw --features ffmpeg --bench transform_cpu`
//!
//! Each case converts a 1080p (or 4K) picture many times with both, alternating rounds so
//! both see the same machine state; the clock is `std::time::Instant` (monotonic wall time)
//! around each conversion on one thread. The table gives medians per conversion and the
//! ratio ours / swscale (below 1.0: ours is faster). The run of record is written to
//! `bench/results/transform-cpu-DATE-COMMIT.md`.

mod common;

use std::time::Instant;

use av::format::Pixel;
use av::software::scaling::{Context, Flags};
use ffmpeg_next as av;
use video_hw::frame::HostFrame;
use video_hw::transform::{Filter, Transform, Transformer};
use video_hw::{Channels, ColorInfo, Frame, PixelFormat, SampleType};

const ROUNDS: usize = 15;
const PER_ROUND: usize = 20;

/// A textured picture (gradients and noise) in `format`.
fn picture(format: PixelFormat, w: u32, h: u32) -> (Frame, av::frame::Video) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 40) as u32
    };
    let ten = format.bit_depth() > 8;
    let mut host = HostFrame::new_packed(format, w, h);
    let planes: Vec<_> = host.planes().to_vec();
    let bytes = host.as_bytes_mut();
    for (i, p) in planes.iter().enumerate() {
        for r in 0..p.rows {
            for c in 0..p.row_bytes / if ten { 2 } else { 1 } {
                let v = ((r * 3 + c * 2) as u32 % 200 + noise()) as u16;
                let at = p.offset + r * p.stride + c * if ten { 2 } else { 1 };
                if ten {
                    let v = if format == PixelFormat::P010 { (v * 4) << 6 } else { v * 4 };
                    bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
                } else {
                    bytes[at] = v as u8 + (i as u8) * 3;
                }
            }
        }
    }
    let av_format = match format {
        PixelFormat::Nv12 => Pixel::NV12,
        PixelFormat::P010 => Pixel::P010LE,
        PixelFormat::Yuv420p10 => Pixel::YUV420P10LE,
        _ => Pixel::YUV420P,
    };
    let mut av_frame = av::frame::Video::new(av_format, w, h);
    for (i, p) in planes.iter().enumerate() {
        let stride = av_frame.stride(i);
        let src = host.as_bytes();
        let dst = av_frame.data_mut(i);
        for r in 0..p.rows {
            dst[r * stride..r * stride + p.row_bytes]
                .copy_from_slice(&src[p.offset + r * p.stride..p.offset + r * p.stride + p.row_bytes]);
        }
    }
    (Frame::host(format, w, h, host), av_frame)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Case {
    name: &'static str,
    format: PixelFormat,
    size: (u32, u32),
    transform: Transform,
    peer: (Pixel, u32, u32, Flags),
}

fn main() {
    av::init().expect("ffmpeg init");
    let rgb = |t: Transform| t.rgb(Channels::Rgb, false, SampleType::U8);
    let cases = vec![
        Case {
            name: "1080p yuv420p → 224×224 rgb24, bilinear",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: rgb(Transform::new().resize(224, 224)),
            peer: (Pixel::RGB24, 224, 224, Flags::BILINEAR),
        },
        Case {
            name: "1080p yuv420p → 224×224 rgb24, area",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: rgb(Transform::new().resize(224, 224).filter(Filter::Area)),
            peer: (Pixel::RGB24, 224, 224, Flags::AREA),
        },
        Case {
            name: "1080p nv12 → 224×224 planar float32 normalised (peer: gbrpf32le)",
            format: PixelFormat::Nv12,
            size: (1920, 1080),
            transform: Transform::new()
                .resize(224, 224)
                .rgb(Channels::Rgb, true, SampleType::F32)
                .normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            peer: (Pixel::GBRPF32LE, 224, 224, Flags::BILINEAR),
        },
        Case {
            name: "1080p nv12 → 1280×720 nv12, bilinear",
            format: PixelFormat::Nv12,
            size: (1920, 1080),
            transform: Transform::new().resize(1280, 720),
            peer: (Pixel::NV12, 1280, 720, Flags::BILINEAR),
        },
        Case {
            name: "4K p010 → 1080p rgb24, bilinear",
            format: PixelFormat::P010,
            size: (3840, 2160),
            transform: rgb(Transform::new().resize(1920, 1080)),
            peer: (Pixel::RGB24, 1920, 1080, Flags::BILINEAR),
        },
    ];
    let (date, commit) = common::date_and_commit();
    let mut table = format!(
        "# CPU transform against swscale ({date}, commit {commit})\n\n\
         `cargo bench -p video-hw --features ffmpeg --bench transform_cpu`; one thread, wall clock \
         (`Instant`) per conversion, medians of {ROUNDS} alternating rounds of {PER_ROUND}; libavutil {} (the system FFmpeg).\n\n\
         | conversion | ours (ms) | swscale (ms) | ours / swscale |\n|---|---|---|---|\n",
        av::util::version() >> 16
    );
    for case in cases {
        let (frame, av_frame) = picture(case.format, case.size.0, case.size.1);
        let mut ours = Transformer::new(case.transform).expect("valid transform");
        let (pix, w, h, flags) = case.peer;
        let mut scaler = Context::get(av_frame.format(), case.size.0, case.size.1, pix, w, h, flags).expect("swscale");
        let mut out = av::frame::Video::empty();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            for _ in 0..PER_ROUND {
                let t = Instant::now();
                std::hint::black_box(ours.apply(&frame).expect("transform"));
                a.push(t.elapsed().as_secs_f64() * 1e3);
                let t = Instant::now();
                scaler.run(&av_frame, &mut out).expect("swscale run");
                std::hint::black_box(&out);
                b.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        let _ = ColorInfo::default();
        let (ma, mb) = (median(a), median(b));
        let line = format!("| {} | {ma:.3} | {mb:.3} | {:.2}x |\n", case.name, ma / mb);
        print!("{line}");
        table.push_str(&line);
    }
    common::write_record("transform-cpu", &date, &commit, &table);
}
