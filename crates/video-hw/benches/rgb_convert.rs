//! The YUV → RGB conversion alone (`pixels/transform/rgb.rs`), in process, at 1080p: medians of
//! many conversions per case, for comparing builds of the conversion against each other.
//!
//! `cargo bench -p video-hw --bench rgb_convert [-- ROUNDS [NAME]]` (NAME: only the cases
//! whose name contains it; `bands` and `kernel` for the last two groups)
//!
//! The conversion splits a large picture into bands of rows on the cores the process may
//! run on (`std::thread::available_parallelism`), so `taskset -c 0` measures it on one
//! thread and `taskset -c 0,1` on two. Clocks: `std::time::Instant` (monotonic wall time)
//! and the process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`, every thread) around each
//! conversion; the output buffer is recycled between conversions as in a
//! decode loop. Nothing is written to bench/results: swscale's side is `transform_cpu`.

use std::time::Instant;

use video_hw::frame::HostFrame;
use video_hw::pixels::transform::{Transform, Transformer};
use video_hw::{Channels, Frame, PixelFormat, SampleType};

/// A 1920×1080 picture of `format` with gradients and noise.
fn picture(format: PixelFormat) -> Frame {
    picture_of(format, 1080)
}

/// A picture of `format`, 1920 pixels wide and `h` high, with gradients and noise.
fn picture_of(format: PixelFormat, h: u32) -> Frame {
    let w = 1920;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let ten = format.bit_depth() > 8;
    let mut host = HostFrame::new_packed(format, w, h);
    let planes: Vec<_> = host.planes().to_vec();
    let bytes = host.as_bytes_mut();
    for p in &planes {
        for r in 0..p.rows {
            for c in 0..p.row_bytes / if ten { 2 } else { 1 } {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let v = ((r * 3 + c * 2) as u64 % 200 + seed % 40) as u16;
                let at = p.offset + r * p.stride + c * if ten { 2 } else { 1 };
                if ten {
                    bytes[at..at + 2].copy_from_slice(&(v * 4).to_le_bytes());
                } else {
                    bytes[at] = v as u8;
                }
            }
        }
    }
    Frame::host(format, w, h, host)
}

/// CPU time of the whole process (every thread), in ms (NaN where there is no such clock).
#[cfg(not(unix))]
fn cpu_ms() -> f64 {
    f64::NAN
}

/// CPU time of the whole process (every thread), in ms.
#[cfg(unix)]
fn cpu_ms() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec to write; the clock id is a constant Linux defines.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 * 1e-6
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let rounds: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(200);
    let only = args.iter().find(|a| a.parse::<usize>().is_err());
    let cases = [
        ("yuv420p → rgb24", PixelFormat::Yuv420p, Channels::Rgb, false, SampleType::U8),
        ("nv12 → bgr24", PixelFormat::Nv12, Channels::Bgr, false, SampleType::U8),
        ("yuv420p → rgba", PixelFormat::Yuv420p, Channels::Rgba, false, SampleType::U8),
        ("yuv420p → planar rgb", PixelFormat::Yuv420p, Channels::Rgb, true, SampleType::U8),
        ("nv12 → planar f32", PixelFormat::Nv12, Channels::Rgb, true, SampleType::F32),
        ("yuv420p10 → rgb24", PixelFormat::Yuv420p10, Channels::Rgb, false, SampleType::U8),
    ];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("1080p conversions, {threads} core(s) usable, median of {rounds} (ms: wall (Instant), CPU (process))");
    for (name, format, channels, planar, sample) in cases {
        if only.is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let frame = picture(format);
        let mut t = Transformer::new(Transform::new().rgb(channels, planar, sample)).expect("valid transform");
        for _ in 0..10 {
            std::hint::black_box(t.apply(&frame).expect("transform"));
        }
        let (times, cpu): (Vec<f64>, Vec<f64>) = (0..rounds)
            .map(|_| {
                let (start, c) = (Instant::now(), cpu_ms());
                std::hint::black_box(t.apply(&frame).expect("transform"));
                let c = cpu_ms() - c;
                (start.elapsed().as_secs_f64() * 1e3, c)
            })
            .unzip();
        println!("{name:24} wall {:.3}  CPU {:.3}", median(times), median(cpu));
    }
    if only.is_none_or(|o| "bands".contains(o.as_str())) {
        bands(rounds);
    }
    if only.is_none_or(|o| "kernel".contains(o.as_str())) {
        in_cache(rounds);
    }
}

/// yuv420p → rgb24 of a 1920×128 picture, whose source and output (~0.55 MB) stay in a
/// core's L2: the kernel's own speed, with the memory's part left out, given per 1080p
/// picture (×1080/128). Set `VIDEO_HW_RGB_KERNEL=avx2` to measure the AVX2 kernel on a CPU
/// that has AVX-512 VBMI. The lowest time is printed beside the median: on a shared
/// machine it is the steadier figure for comparing builds.
fn in_cache(rounds: usize) {
    let frame = picture_of(PixelFormat::Yuv420p, 128);
    let mut t = Transformer::new(Transform::new().format(PixelFormat::Rgb24)).expect("valid transform");
    for _ in 0..50 {
        std::hint::black_box(t.apply(&frame).expect("transform"));
    }
    let per = 1080.0 / 128.0;
    let times: Vec<f64> = (0..rounds * 10)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(t.apply(&frame).expect("transform"));
            start.elapsed().as_secs_f64() * 1e3 * per
        })
        .collect();
    let lowest = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!("rgb24 kernel, in L2      wall {:.3}  lowest {lowest:.3}  (per 1080p picture)", median(times));
}

/// yuv420p → rgb24 whole and in bands of 256 KiB (`rgb_bands`, each band read once as a
/// writer would), from a source in the caches (the same picture each time) and from one
/// that has left them (16 pictures, 48 MB, taken in turn, as a decoder's output is).
fn bands(rounds: usize) {
    use video_hw::pixels::transform::rgb_bands;
    let pictures: Vec<Frame> = (0..16).map(|_| picture(PixelFormat::Yuv420p)).collect();
    let mut t = Transformer::new(Transform::new().format(PixelFormat::Rgb24)).expect("valid transform");
    let (mut scratch, mut sum) = (Vec::new(), 0u64);
    for (name, cold, banded) in [
        ("whole, warm", false, false),
        ("bands, warm", false, true),
        ("whole, cold", true, false),
        ("bands, cold", true, true),
    ] {
        let (times, cpu): (Vec<f64>, Vec<f64>) = (0..rounds)
            .map(|i| {
                let frame = &pictures[if cold { i % pictures.len() } else { 0 }];
                let (start, c) = (Instant::now(), cpu_ms());
                if banded {
                    rgb_bands(frame, PixelFormat::Rgb24, 256 << 10, &mut scratch, &mut |b| {
                        // What a writer does: read the band (one byte a cache line suffices).
                        sum += b.iter().step_by(64).map(|&v| u64::from(v)).sum::<u64>();
                        Ok(())
                    })
                    .expect("bands");
                } else {
                    std::hint::black_box(t.apply(frame).expect("transform"));
                }
                let c = cpu_ms() - c;
                (start.elapsed().as_secs_f64() * 1e3, c)
            })
            .unzip();
        println!("rgb24 {name:18} wall {:.3}  CPU {:.3}", median(times), median(cpu));
    }
    std::hint::black_box(sum);
}
