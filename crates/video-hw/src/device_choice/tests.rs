//! The model's decisions on synthetic jobs (each test has a fresh model: the process's is
//! shared and learns).

use super::*;

/// `frames` frames asked of a `width` x `height` stream of GOPs of `gop` packets, decoded
/// in whole GOPs (`frames` a multiple of `gop`) or one frame each from its GOP's start.
fn job(codec: Codec, width: u32, height: u32, packets: u64, runs: u64, frames: u64) -> Job {
    Job { codec, width, height, packets, runs, frames, output: Processor::Cpu, bytes_per_pixel: 3.0, rgb: true }
}

fn cpu() -> CpuSide {
    CpuSide { decodes: true, threads: 16, sessions: 1 }
}

/// A GPU of 7 engines that decodes the stream, CUDA not started.
fn gpu_cold() -> GpuSide {
    GpuSide { present: true, decodes: Some(true), engines: 7, ..GpuSide::default() }
}

#[test]
fn one_frame_of_a_short_clip_with_cuda_not_started_is_the_cpu() {
    // Frame 60 of a 5 s 720p clip, GOP of 30: the GOP's 31 packets.
    let c = CostModel::default().choose(&job(Codec::Hevc, 1280, 720, 31, 1, 1), &cpu(), &gpu_cold());
    assert_eq!(c.processor, Processor::Cpu, "{c:?}");
    assert!(c.why.starts_with("CPU estimated faster"), "{}", c.why);
    assert!(c.estimate.gpu_s.unwrap() > 0.29, "CUDA's start is counted: {c:?}");
    // Not asked whether the GPU decodes it (asking starts CUDA): still the CPU, unprobed.
    let unprobed = GpuSide { decodes: None, ..gpu_cold() };
    let c = CostModel::default().choose(&job(Codec::Hevc, 1280, 720, 31, 1, 1), &cpu(), &unprobed);
    assert_eq!((c.processor, c.needs_probe), (Processor::Cpu, false), "{c:?}");
    assert!(c.why.contains("not asked"), "{}", c.why);
}

#[test]
fn a_whole_ten_minute_1080p_file_is_the_gpu() {
    // 18,000 frames at 30 fps, GOPs of 60: 300 runs.
    let whole = job(Codec::Hevc, 1920, 1080, 18_000, 300, 18_000);
    let c = CostModel::default().choose(&whole, &cpu(), &gpu_cold());
    assert_eq!(c.processor, Processor::Gpu, "{c:?}");
    assert!(!c.needs_probe);
    // Not asked yet: the GPU would win, so the caller is told to ask first.
    let unprobed = GpuSide { decodes: None, ..gpu_cold() };
    let c = CostModel::default().choose(&whole, &cpu(), &unprobed);
    assert_eq!((c.processor, c.needs_probe), (Processor::Gpu, true), "{c:?}");
    // H.264 too, and with frames landing on the GPU.
    let h264 = Job { codec: Codec::H264, output: Processor::Gpu, ..whole };
    assert_eq!(CostModel::default().choose(&h264, &cpu(), &gpu_cold()).processor, Processor::Gpu);
}

#[test]
fn av1_on_a_gpu_without_av1_is_the_cpu_and_says_why() {
    let gpu = GpuSide {
        decodes: Some(false),
        why_not: Some("nvdec cannot decode av1: not on this GPU".into()),
        cuda_started: true,
        ..gpu_cold()
    };
    // Even a whole file, with CUDA started and frames wanted on the GPU.
    let whole = Job { output: Processor::Gpu, ..job(Codec::Av1, 1920, 1080, 18_000, 300, 18_000) };
    let c = CostModel::default().choose(&whole, &cpu(), &gpu);
    assert_eq!(c.processor, Processor::Cpu);
    assert!(c.why.contains("cannot decode av1"), "{}", c.why);
    assert_eq!(c.estimate.gpu_s, None);
}

#[test]
fn no_gpu_is_the_cpu() {
    let gpu = GpuSide { why_not: Some("no CUDA driver".into()), ..GpuSide::default() };
    let c = CostModel::default().choose(&job(Codec::H264, 3840, 2160, 18_000, 300, 18_000), &cpu(), &gpu);
    assert_eq!((c.processor, c.needs_probe), (Processor::Cpu, false));
    assert!(c.why.starts_with("no GPU here") && c.why.contains("no CUDA driver"), "{}", c.why);
}

#[test]
fn no_cpu_engine_is_the_gpu() {
    let c = CostModel::default().choose(
        &job(Codec::Hevc, 1280, 720, 31, 1, 1),
        &CpuSide { decodes: false, threads: 16, sessions: 1 },
        &gpu_cold(),
    );
    assert_eq!(c.processor, Processor::Gpu);
    assert!(c.why.contains("no CPU engine"), "{}", c.why);
}

#[test]
fn cuda_started_and_a_session_open_make_short_jobs_the_gpus() {
    // 8 frames of a 1080p clip's first GOP: on a cold GPU the CPU; with the process's GPU
    // side warm and the decoder's session open, the GPU.
    let clip = job(Codec::Hevc, 1920, 1080, 30, 1, 8);
    let model = CostModel::default();
    assert_eq!(model.choose(&clip, &cpu(), &gpu_cold()).processor, Processor::Cpu);
    model.gpu_used();
    let warm = GpuSide { cuda_started: true, session_open: true, ..gpu_cold() };
    assert_eq!(
        model.choose(&clip, &CpuSide { decodes: true, threads: 2, sessions: 1 }, &warm).processor,
        Processor::Gpu
    );
}

#[test]
fn too_little_gpu_memory_left_is_the_cpu() {
    let gpu = GpuSide { free_memory: Some(10 << 20), cuda_started: true, ..gpu_cold() };
    let c = CostModel::default().choose(&job(Codec::Hevc, 3840, 2160, 18_000, 300, 18_000), &cpu(), &gpu);
    assert_eq!(c.processor, Processor::Cpu);
    assert!(c.why.contains("GPU memory left"), "{}", c.why);
}

#[test]
fn observations_move_the_rates_within_bounds() {
    let model = CostModel::default();
    let whole = job(Codec::H264, 1920, 1080, 3_000, 50, 3_000);
    let prior = Rates::PRIOR.pixels_per_s[0][0];
    // A CPU four times slower than the prior (two threads at work).
    let t = 3_000.0 * 1920.0 * 1080.0 / (prior / 4.0 * 2.0) + output_cost(Processor::Cpu, &whole, 2.0);
    model.observe(Processor::Cpu, &whole, 2, t);
    let seen = model.rates().pixels_per_s[0][0];
    assert!((seen / (prior / 4.0) - 1.0).abs() < 1e-6, "{seen} against {}", prior / 4.0);
    assert_eq!(model.observations(Processor::Cpu, Codec::H264), 1);
    // An absurd time is clamped; a tiny job is not observed.
    model.observe(Processor::Cpu, &whole, 2, 1e-9);
    assert!(model.rates().pixels_per_s[0][0] <= prior * CLAMP);
    model.observe(Processor::Cpu, &job(Codec::H264, 64, 64, 1, 1, 1), 1, 10.0);
    assert_eq!(model.observations(Processor::Cpu, Codec::H264), 2);
    // A GPU job marks the GPU side used.
    model.observe(Processor::Gpu, &job(Codec::H264, 64, 64, 1, 1, 1), 1, 0.5);
    assert!(model.state().gpu_used);
}

#[test]
fn a_slow_cpu_learned_moves_the_choice_to_the_gpu() {
    // 120 frames of a 1080p H.264 file over 2 GOPs, CUDA started: close; once the CPU was
    // measured slow, the GPU.
    let model = CostModel::default();
    let job = job(Codec::H264, 1920, 1080, 120, 2, 120);
    let gpu = GpuSide { cuda_started: true, ..gpu_cold() };
    let cpu = CpuSide { decodes: true, threads: 2, sessions: 1 };
    let before = model.choose(&job, &cpu, &gpu);
    let slow = 20.0 * job.packets as f64 * 1920.0 * 1080.0 / (Rates::PRIOR.pixels_per_s[0][0] * 2.0);
    model.observe(Processor::Cpu, &job, 2, slow);
    let after = model.choose(&job, &cpu, &gpu);
    assert!(after.estimate.cpu_s.unwrap() > before.estimate.cpu_s.unwrap() * 5.0);
    assert_eq!(after.processor, Processor::Gpu, "{after:?}");
}

#[test]
fn frames_wanted_on_the_gpu_cost_the_cpu_side_the_device_start_too() {
    // One frame, CUDA not started, frames to land on the GPU: both sides pay CUDA's start,
    // so it decides nothing; the CPU still wins (no session, no first-frame latency).
    let one = Job { output: Processor::Gpu, ..job(Codec::Hevc, 1280, 720, 31, 1, 1) };
    let c = CostModel::default().choose(&one, &cpu(), &gpu_cold());
    assert_eq!(c.processor, Processor::Cpu, "{c:?}");
    assert!(c.estimate.cpu_s.unwrap() > fixed::CUDA_INIT_S + fixed::CONTEXT_S, "{c:?}");
}

#[test]
fn the_cpus_parallelism_is_its_runs_on_sessions_and_each_runs_threads() {
    let openh264 = CpuSide { decodes: true, threads: 16, sessions: 16 };
    let ffmpeg = CpuSide { decodes: true, threads: 16, sessions: 1 };
    // One frame: one run of 16 packets. One OpenH264 session decodes it on one thread;
    // FFmpeg's frame threads work on its 16 pictures.
    let one = job(Codec::H264, 3840, 2160, 16, 1, 1);
    assert_eq!((openh264.parallel(&one), ffmpeg.parallel(&one)), (1, 16));
    // A file read ahead in 25 jobs: every OpenH264 session busy.
    let file = job(Codec::H264, 1280, 720, 1_200, 25, 1_200);
    assert_eq!(openh264.parallel(&file), 16);
    // Four sessions of four threads, two runs of 3 packets: 2 runs x 3 threads.
    let four = CpuSide { decodes: true, threads: 16, sessions: 4 };
    assert_eq!(four.parallel(&job(Codec::H264, 1280, 720, 6, 2, 2)), 6);
    // Nonsense counts stay at least one thread.
    assert_eq!(CpuSide { decodes: true, threads: 0, sessions: 0 }.parallel(&one), 1);
    // One 4K frame on OpenH264 is estimated as one thread's work, not sixteen's.
    let m = CostModel::default();
    let gpu = GpuSide { cuda_started: true, ..gpu_cold() };
    let (a, b) = (m.choose(&one, &openh264, &gpu), m.choose(&one, &ffmpeg, &gpu));
    assert!(a.estimate.cpu_s.unwrap() > 5.0 * b.estimate.cpu_s.unwrap(), "{a:?} {b:?}");
}

#[test]
fn a_cold_gpu_pays_a_decoder_for_each_engine_the_job_uses() {
    let m = CostModel::default();
    let gpu = GpuSide { cuda_started: true, ..gpu_cold() };
    let one_run = m.choose(&job(Codec::Hevc, 1280, 720, 8, 1, 8), &cpu(), &gpu).estimate.gpu_s.unwrap();
    let seven = m.choose(&job(Codec::Hevc, 1280, 720, 56, 7, 56), &cpu(), &gpu).estimate.gpu_s.unwrap();
    // Seven runs decode at once on seven engines (the same time each), but open seven decoders.
    assert!(seven - one_run > 6.0 * fixed::GPU_SESSION_S * 0.99, "{one_run} {seven}");
    // With the process's GPU side warm, decoders are parked: a few ms each.
    m.gpu_used();
    let warm = m.choose(&job(Codec::Hevc, 1280, 720, 56, 7, 56), &cpu(), &gpu).estimate.gpu_s.unwrap();
    assert!(warm < seven - 6.0 * fixed::GPU_SESSION_S, "{warm} {seven}");
}
