//! `video-hw encode IN -o OUT`: pictures (Y4M, raw YUV, or the synthetic pattern) to an
//! H.264/HEVC stream (`.h264`/`.h265`, or `-` for stdout) or an MP4 file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use video_hw::{PixelFormat, Rational};

use crate::encoding::EncodeJob;
use crate::exit::CliResult;
use crate::fragment_opts::FragmentOpts;
use crate::frames_in::{FrameSource, FrameSourceSpec, FramesAhead};
use crate::opts::{EncodeOpts, EngineOpts, parse_fps, parse_input_format, parse_size};
use crate::progress::Progress;
use crate::summary::Summary;

/// Arguments of `encode`.
#[derive(Args, Debug)]
pub struct EncodeArgs {
    /// Input: a .y4m file, or headerless raw frames (give --size and --fps); `-` reads stdin,
    /// `tcp://HOST:PORT` connects to a sender, `tcp-listen://HOST:PORT` waits for one.
    #[arg(required_unless_present = "synthetic", conflicts_with = "synthetic")]
    input: Option<PathBuf>,
    /// Output: .h264/.h265 (Annex-B), .mp4/.mov/.m4v (MP4), .mkv (Matroska), .webm (WebM:
    /// AV1), .ivf (IVF: AV1), .obu (raw AV1 OBUs), or `-` (the raw stream on stdout).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    #[command(flatten)]
    frag: FragmentOpts,
    /// Frame timestamps: `input` (frame number / frame rate) or `arrival` (when each frame
    /// arrived, from the first; for live input whose sender paces the frames).
    #[arg(long, value_name = "input|arrival", default_value = "input", value_parser = ["input", "arrival"])]
    timestamps: String,
    /// Frames the ring between the input and the encoder holds (default 8): the buffer that
    /// absorbs a live sender's bursts. `--stats` shows its depth, peak and waits.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    ring_depth: Option<u32>,
    /// Encode N frames of a moving test pattern made in-process instead of reading input.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    synthetic: Option<u64>,
    /// Picture size of raw input or of the synthetic pattern (default 640x360).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Frame rate (raw input needs it; overrides a y4m header's; synthetic default 30).
    #[arg(long, value_parser = parse_fps)]
    fps: Option<Rational>,
    /// Pixel format of raw input: yuv420p (default), nv12, rgb24 or bgra.
    #[arg(long, value_parser = parse_input_format)]
    pix_fmt: Option<PixelFormat>,
    /// Print the summary as JSON (on stdout; on stderr when the output is stdout).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    encode: EncodeOpts,
    #[command(flatten)]
    engine: EngineOpts,
}

/// Runs `encode`.
pub fn run(args: &EncodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    let codec = args.encode.codec_for(&args.output)?;
    let mut cfg = args.encode.config(codec, &args.engine)?;
    let src = FrameSource::open(&FrameSourceSpec {
        path: args.input.as_deref(),
        synthetic: args.synthetic,
        size: args.size,
        fps: args.fps,
        format: args.pix_fmt,
    })?;
    cfg.fps = src.fps;
    args.frag.check(&args.output)?;
    // Arrival times are kept in 90 kHz ticks (MPEG's clock; whole milliseconds fit).
    let arrival = args.timestamps == "arrival";
    let timebase = arrival.then_some(Rational::MPEG_90K);
    let mut job = EncodeJob::new(cfg, &args.output, timebase)
        .fragmented(&args.frag)
        .ring_depth(args.ring_depth.map(|d| d as usize))
        .quality(args.encode.quality());
    let (mut first_arrival, mut last_pts) = (None::<Instant>, -1i64);
    let mut progress = Progress::new(quiet, "frames");
    // Input that breaks (a sender gone mid-frame, a truncated file) ends the job after
    // the frames before it are encoded and the output is closed properly; then exit 4.
    let mut broken = None;
    let (width, height, total) = (src.width, src.height, src.total);
    let mut frames_in = FramesAhead::spawn(src)?;
    // SIGINT/SIGTERM: no more input; the frames read are encoded and the output finished.
    // The input is read on a thread of its own, so that a live input sending nothing does
    // not hold the stop (the wait below is the longest a signal waits to be seen).
    while crate::signals::requested().is_none() {
        let Some(next) = frames_in.next(std::time::Duration::from_millis(50)) else { continue };
        match next {
            Ok(Some(mut frame)) => {
                if arrival {
                    let t0 = *first_arrival.get_or_insert_with(Instant::now);
                    // Strictly increasing, whatever the clock's resolution.
                    let ticks = (t0.elapsed().as_secs_f64() * 90_000.0) as i64;
                    last_pts = ticks.max(last_pts + 1);
                    frame.pts = Some(last_pts);
                }
                job.push(frame)?
            }
            Ok(None) => break,
            Err(e) if frames_in.frames_read() > 0 => {
                broken = Some(e);
                break;
            }
            Err(e) => return Err(e.into()),
        }
        progress.update(frames_in.frames_read(), total, frames_in.frames_read());
    }
    progress.finish();
    let (frames, encoder) = (job.frames(), job.backend());
    let bytes = job.finish()?;
    if let Some(stats) = job.stats() {
        crate::stage_table::emit(&[("encode", stats)]);
    }
    Summary {
        job: "encode",
        input: match &args.input {
            Some(p) => p.display().to_string(),
            None => "synthetic".into(),
        },
        output: args.output.display().to_string(),
        codec_out: Some(codec.to_string()),
        size: Some((width, height)),
        frames,
        elapsed: started.elapsed(),
        encoder,
        bytes_out: bytes,
        damage: broken.as_ref().map(|e| e.to_string()),
        quality: job.stats().and_then(|s| s.quality.clone()),
        ..Default::default()
    }
    .emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    match broken {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}
