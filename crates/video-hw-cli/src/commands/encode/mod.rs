//! `video-hw encode IN -o OUT`: pictures (Y4M, raw YUV, or the synthetic pattern) to an
//! H.264/HEVC stream (`.h264`/`.h265`, or `-` for stdout) or an MP4 file.

pub mod job;

use std::process::ExitCode;
use std::time::Instant;

use video_hw::Rational;

use crate::exit::{CliResult, usage};
use crate::io::net::LiveOpts;
use crate::io::pictures::{FrameSource, FrameSourceSpec, FramesAhead};
use crate::options::encode::EncodeArgs;
use crate::report::progress::Progress;
use crate::report::summary::Summary;
use job::EncodeJob;

/// Runs `encode`.
pub fn run(args: &EncodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    let codec = args.encode.codec_for(&args.output)?;
    let mut cfg = args.encode.config(codec, &args.engine)?;
    let live = LiveOpts { reconnect: args.reconnect, timeout: args.timeout };
    let network = args.input.as_ref().and_then(|p| p.to_str()).is_some_and(|p| p.starts_with("tcp"));
    let stdin = args.input.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if live.reconnect && !network {
        return Err(usage("--reconnect takes a network input (tcp://, tcp-listen://)"));
    }
    if live.timeout.is_some() && !network && !stdin {
        return Err(usage("--timeout takes a live input: stdin (`-`) or the network (tcp://, tcp-listen://)"));
    }
    let opened = FrameSource::open(&FrameSourceSpec {
        path: args.input.as_deref(),
        synthetic: args.synthetic,
        size: args.size,
        fps: args.fps,
        format: args.pix_fmt,
        live,
    });
    let src = match opened {
        // Stopped while waiting for the first sender: nothing was written.
        Err(_) if crate::signals::requested().is_some() => {
            return Ok(crate::signals::exit_status().unwrap_or(ExitCode::FAILURE));
        }
        other => other?,
    };
    // One frame's duration in 90 kHz ticks: where a reconnected sender's first arrival
    // time goes after the last frame's.
    let frame_ticks = (90_000 * src.fps.den / src.fps.num.max(1)).max(1);
    cfg.fps = src.fps;
    args.frag.check(&args.output)?;
    // Arrival times are kept in 90 kHz ticks (MPEG's clock; whole milliseconds fit).
    let arrival = args.timestamps == "arrival";
    let timebase = arrival.then_some(Rational::MPEG_90K);
    let mut job = EncodeJob::new(cfg, &args.output, timebase)
        .fragmented(&args.frag)
        .ring_depth(args.ring_depth.map(|d| d as usize))
        .quality(args.encode.quality());
    // Arrival times: ticks since the current sender's first frame, from `base`.
    let (mut first_arrival, mut last_pts, mut base, mut sender) = (None::<Instant>, -1i64, 0i64, 1u64);
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
                    if frames_in.sender() != sender {
                        // A new sender (--reconnect): its frames follow the last one
                        // written by one frame, not by the time without a sender.
                        sender = frames_in.sender();
                        first_arrival = None;
                        base = last_pts + frame_ticks;
                    }
                    let t0 = *first_arrival.get_or_insert_with(Instant::now);
                    // Strictly increasing, whatever the clock's resolution.
                    let ticks = base + (t0.elapsed().as_secs_f64() * 90_000.0) as i64;
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
    let reconnects = frames_in.sender().saturating_sub(1);
    progress.finish();
    let (frames, encoder) = (job.frames(), job.backend());
    let bytes = job.finish()?;
    if let Some(stats) = job.stats() {
        crate::report::stats::emit(&[("encode", stats)]);
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
        reconnects: network.then_some(reconnects),
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
