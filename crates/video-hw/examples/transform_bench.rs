//! Transform throughput: the GPU path (one kernel launch per frame on a CUDA frame) and the
//! CPU path, on the same synthetic picture, for the issue's two cases:
//! - `ml`: 1080p NV12 → 224×224 planar RGB float32, area, normalised (ImageNet mean/std);
//! - `4k`: 2160p P010 → 1080p packed RGB24, bilinear;
//! - `rendition`: 2160p NV12 → 1080p NV12, bilinear (a lower rendition to encode again).
//!
//! ```text
//! transform_bench [--frames N] [--cpu-frames N] [--runs R] [--case ml|4k|rendition]...
//! ```
//!
//! Each GPU call is what a decoder does per frame: `Transformer::apply` allocates the
//! output, launches the kernel and waits for it (the output is freed when the frame
//! drops). Clock: `Instant` around `--frames` calls, after 20 warm-up calls; the median of
//! `--runs` runs is printed, one JSON object per case on stdout. Needs an NVIDIA GPU for
//! the GPU figures (the CPU path runs anywhere).

use std::time::Instant;

use video_hw::frame::HostFrame;
use video_hw::pipeline::{FrameRing, RingConfig, RingMemory};
use video_hw::pixels::transform::{Filter, Transform, Transformer};
use video_hw::{Channels, Frame, FrameData, PixelFormat, SampleType};

struct Case {
    name: &'static str,
    format: PixelFormat,
    size: (u32, u32),
    transform: Transform,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "ml",
            format: PixelFormat::Nv12,
            size: (1920, 1080),
            transform: Transform::new()
                .resize(224, 224)
                .filter(Filter::Area)
                .rgb(Channels::Rgb, true, SampleType::F32)
                .normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        },
        Case {
            name: "4k",
            format: PixelFormat::P010,
            size: (3840, 2160),
            transform: Transform::new().resize(1920, 1080).rgb(Channels::Rgb, false, SampleType::U8),
        },
        Case {
            name: "rendition",
            format: PixelFormat::Nv12,
            size: (3840, 2160),
            transform: Transform::new().resize(1920, 1080),
        },
    ]
}

/// A picture with texture in every plane (the values do not change the cost).
fn picture(format: PixelFormat, (w, h): (u32, u32)) -> Frame {
    let mut host = HostFrame::new_packed(format, w, h);
    let wide = format == PixelFormat::P010;
    for (k, b) in host.as_bytes_mut().iter_mut().enumerate() {
        // P010 keeps its value in the high bits: any byte pattern is a valid sample.
        *b = if wide { (k * 7 % 251) as u8 } else { (k * 13 % 219 + 16) as u8 };
    }
    Frame::host(format, w, h, host)
}

/// Median frames per second of `runs` timed loops of `frames` calls of `f`.
fn fps(runs: usize, frames: usize, mut f: impl FnMut() -> video_hw::Result<()>) -> video_hw::Result<f64> {
    for _ in 0..20.min(frames) {
        f()?;
    }
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        for _ in 0..frames {
            f()?;
        }
        rates.push(frames as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[rates.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut frames, mut cpu_frames, mut runs, mut only) = (2000usize, 50usize, 3usize, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--frames" => frames = value()?.parse()?,
            "--cpu-frames" => cpu_frames = value()?.parse()?,
            "--runs" => runs = value()?.parse::<usize>()?.max(1),
            "--case" => only.push(value()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let ring = FrameRing::with_config(RingConfig::new(1).memory(RingMemory::Cuda { device: 0 })).ok();
    for case in cases().into_iter().filter(|c| only.is_empty() || only.iter().any(|o| o == c.name)) {
        let host = picture(case.format, case.size);
        let mut cpu = Transformer::new(case.transform)?;
        let cpu_fps = fps(runs, cpu_frames, || cpu.apply(&host).map(drop))?;
        let gpu_fps = match &ring {
            Some(ring) => {
                let mut cuda = ring.acquire_cuda(case.format, case.size.0, case.size.1, None)?;
                let FrameData::Host(h) = &host.data else { unreachable!("a host picture") };
                cuda.cuda_data_mut().ok_or("a CUDA frame")?.upload(h)?;
                let mut gpu = Transformer::new(case.transform)?;
                Some(fps(runs, frames, || gpu.apply(&cuda).map(drop))?)
            }
            None => None,
        };
        eprintln!(
            "{}: {}x{} {} -> {:?}: GPU {} fps, CPU {:.0} fps (one thread)",
            case.name,
            case.size.0,
            case.size.1,
            case.format,
            case.transform.output_size(case.size.0, case.size.1)?,
            gpu_fps.map_or("-".to_string(), |f| format!("{f:.0}")),
            cpu_fps
        );
        println!(
            "{{\"case\":\"{}\",\"gpu_fps\":{},\"cpu_fps\":{:.1},\"frames\":{},\"runs\":{}}}",
            case.name,
            gpu_fps.map_or("null".to_string(), |f| format!("{f:.1}")),
            cpu_fps,
            frames,
            runs
        );
    }
    Ok(())
}
