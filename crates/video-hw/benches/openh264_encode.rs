//! OpenH264 encode speed (frames per second) at 640x360 and 1280x720, default
//! `EncoderConfig` (CBR 4 Mb/s, medium preset) through the public `Encoder`.
//!
//! Input, in order of preference:
//! 1. `$VIDEO_HW_BENCH_INPUTS/in_{W}x{H}.yuv` (raw yuv420p), as
//!    `scripts/bench-openh264-vs-x264.sh` prepares them, so x264 and OpenH264 see the
//!    same frames;
//! 2. the shared corpus clip `libvpl/cars_320x240.h264` (real camera content), scaled
//!    and looped to 60 frames (the script uses 150) with ffmpeg into a temporary folder;
//! 3. a synthetic moving pattern.
//!
//! Run: `cargo bench --bench openh264_encode`. `VIDEO_HW_OPENH264_THREADS=1` runs the
//! encoder on one thread.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use video_hw::frame::HostFrame;
use video_hw::{Codec, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, PixelFormat};

const SIZES: [(u32, u32); 2] = [(640, 360), (1280, 720)];
const FRAMES: usize = 60;

/// Raw yuv420p frames for one size and where they came from.
fn load_frames(width: u32, height: u32) -> (Vec<Vec<u8>>, String) {
    let frame_size = PixelFormat::Yuv420p.frame_size(width, height);
    let split = |data: Vec<u8>| -> Vec<Vec<u8>> { data.chunks_exact(frame_size).map(<[u8]>::to_vec).collect() };
    if let Some(dir) = std::env::var_os("VIDEO_HW_BENCH_INPUTS") {
        let path = Path::new(&dir).join(format!("in_{width}x{height}.yuv"));
        if let Ok(data) = std::fs::read(&path) {
            let frames = split(data);
            if !frames.is_empty() {
                return (frames, path.display().to_string());
            }
        }
    }
    let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/corpus/libvpl/cars_320x240.h264");
    if clip.is_file() {
        let out: PathBuf =
            std::env::temp_dir().join(format!("video-hw-bench-{}-{width}x{height}.yuv", std::process::id()));
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&clip)
            .args(["-vf", &format!("loop=loop=-1:size=300,scale={width}:{height}:flags=bicubic")])
            .args(["-frames:v", &FRAMES.to_string()])
            .args(["-pix_fmt", "yuv420p", "-f", "rawvideo"])
            .arg(&out)
            .status();
        if status.is_ok_and(|s| s.success())
            && let Ok(data) = std::fs::read(&out)
        {
            let _ = std::fs::remove_file(&out);
            let frames = split(data);
            if !frames.is_empty() {
                return (frames, format!("cars_320x240 scaled to {width}x{height}"));
            }
        }
    }
    let frames = (0..FRAMES)
        .map(|t| {
            let mut f = vec![128u8; frame_size];
            for y in 0..height as usize {
                for x in 0..width as usize {
                    f[y * width as usize + x] = ((x + 2 * t) ^ (y + t)) as u8;
                }
            }
            f
        })
        .collect();
    (frames, "synthetic moving pattern".into())
}

fn encode_all(config: &EncoderConfig, frames: &[Vec<u8>]) -> usize {
    let mut enc = Encoder::open(config.clone()).expect("openh264 encoder");
    let mut bytes = 0;
    for (i, raw) in frames.iter().enumerate() {
        let pixels = HostFrame::from_packed(PixelFormat::Yuv420p, config.width, config.height, raw.clone()).unwrap();
        let frame = Frame::host(PixelFormat::Yuv420p, config.width, config.height, pixels);
        enc.submit(&frame, FrameOptions { pts: Some(i as i64 * 3000), force_keyframe: false }).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            bytes += p.data.len();
        }
    }
    bytes + enc.flush().unwrap().iter().map(|p| p.data.len()).sum::<usize>()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("openh264_encode");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(8));
    for (w, h) in SIZES {
        let (frames, source) = load_frames(w, h);
        eprintln!("openh264_encode {w}x{h}: {} frames from {source}", frames.len());
        let config = EncoderConfig::new(Codec::H264, w, h).engine(EnginePreference::Only(Engine::OpenH264));
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function(format!("{w}x{h}"), |b| b.iter(|| encode_all(&config, &frames)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
