//! `video-hw decode IN -o OUT`: a raw Annex-B stream, an MP4 or an IVF file to raw frames (or to
//! ffmpeg-style frame checksums with `--framemd5`).

pub mod audio;
pub mod indexed;
pub mod pipeline;
pub mod segmented;

use std::process::ExitCode;
use std::time::Instant;

use crate::exit::{CliResult, usage};
use crate::io::input::Source;
use crate::io::output::FrameSink;
use crate::options::decode::{DecodeArgs, Sessions};
use crate::report::progress::Progress;
use crate::report::summary::Summary;

/// Runs `decode`.
pub fn run(args: &DecodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    if args.follow {
        return followed(args, quiet, started);
    }
    if args.timeout.is_some() && args.input.as_os_str() != "-" {
        return Err(usage("--timeout takes --follow, or stdin (`-`) as the input"));
    }
    if audio::wanted(args) {
        return audio::run(args, quiet);
    }
    if args.indices.is_some() || args.start.is_some() || args.count.is_some() {
        return indexed::run(args, quiet, started, args.sessions.unwrap_or(Sessions::Count(1)));
    }
    let src = Source::open(&args.input, args.timeout)?;
    decode_with_one_pipeline(args, quiet, started, src)
}

/// `decode --follow` (see `io::follow`): one session, the file read as it grows.
fn followed(args: &DecodeArgs, quiet: bool, started: Instant) -> CliResult<ExitCode> {
    if args.input.as_os_str() == "-" {
        return Err(usage("--follow reads a file (stdin ends when its writer closes it)"));
    }
    if args.sessions.is_some() || args.indices.is_some() || args.start.is_some() || args.count.is_some() {
        return Err(usage("--follow reads the file front to back: not with --sessions, --indices, --start or --count"));
    }
    if audio::wanted(args) {
        return Err(usage("--follow decodes video"));
    }
    let timeout = args.timeout.unwrap_or(crate::io::follow::DEFAULT_TIMEOUT);
    let src = match Source::open_followed(&args.input, timeout, false) {
        // Stopped while waiting for the file's first bytes: nothing was written.
        Err(_) if crate::signals::requested().is_some() => {
            return Ok(crate::signals::exit_status().unwrap_or(ExitCode::FAILURE));
        }
        other => other?,
    };
    decode_with_one_pipeline(args, quiet, started, src)
}

/// Decodes `src` on a decode pipeline (one session unless `--sessions` cuts the stream).
fn decode_with_one_pipeline(args: &DecodeArgs, quiet: bool, started: Instant, mut src: Source) -> CliResult<ExitCode> {
    let cfg = args
        .decoder_config(src.codec(), src.timebase(), src.rotation())
        .extradata(src.extradata())
        .picture_size(src.stated_size());
    crate::options::transform::check_picture(&cfg, src.picture_size())?;
    if matches!(args.sessions, Some(Sessions::Count(n)) if n > 1) && !src.codec().is_nal_based() {
        return Err(usage(crate::io::input::NOT_NAL_STREAM));
    }
    // The route depends on the engine, which the registry names without opening one.
    let engine = pipeline::decode_engine(&src, &cfg)?;
    if args.sessions.is_none()
        && !args.follow
        && args.input.as_os_str() != "-"
        && src.codec().is_nal_based()
        && engine == video_hw::Engine::Nvdec
    {
        // One NVDEC session is paced by one engine of several: a file read through its
        // index decodes the GOPs ahead on the others (`FrameReader`'s read-ahead).
        drop(src);
        return indexed::run(args, quiet, started, Sessions::Auto);
    }
    let sessions = args.sessions.unwrap_or(Sessions::Count(1));
    if sessions.segmented(src.codec()) {
        return segmented::run(args, quiet, started, src, cfg, engine, sessions);
    }
    let (cfg, bands) = match args.pix_fmt.exact {
        None => crate::options::transform::rgb_in_sink(cfg, || src.stream_info()),
        Some(_) => (cfg, None),
    };
    let dec = pipeline::open_decoder(&src, cfg.clone())?;
    let mut sink = FrameSink::create(&args.output, args.framemd5, src.sar(), args.pix_fmt.exact)?.rgb_in_bands(bands);
    let container_rate = src.frame_rate();
    let codec_in = src.codec();
    let shown = src.window();
    // The source is read and decoded on the pipeline's thread; this one writes.
    let decoding = pipeline::Decoding::start(src, dec)?;
    let mut progress = Progress::new(quiet, "bytes");
    let (mut frames, mut bytes, mut size, mut tb) = (0u64, 0u64, None, None);
    let end = pipeline::run(&decoding, &mut progress, |d, frame| {
        // Pre-roll an MP4 edit list skips is decoded (later pictures need it), not output.
        if !shown.shows(frame.pts) {
            return Ok(());
        }
        let tb = *tb.get_or_insert_with(|| pipeline::frame_timebase(d.stream_info(), container_rate));
        size.get_or_insert((frame.width, frame.height));
        bytes += sink.write(&frame, tb)?;
        frames += 1;
        Ok(())
    })?;
    let info = decoding.stream_info();
    let (w, h) = size.or_else(|| info.clone().map(|i| (i.dimensions.width(), i.dimensions.height()))).unwrap_or((0, 0));
    sink.finish(w, h, tb.unwrap_or_else(|| pipeline::frame_timebase(info, container_rate)))?;
    let decoder = decoding.backend().to_string();
    let (pipeline, stats) = decoding.finish()?;
    crate::report::stats::emit(&[("decode", &pipeline)]);
    let summary = Summary {
        size,
        frames,
        decoder: Some(decoder),
        dropped: stats.dropped,
        concealed: stats.concealed,
        bytes_out: bytes,
        damage: end.broken.as_ref().or(end.damage.as_ref()).map(|e| e.to_string()),
        ..args.summary(codec_in, started)
    };
    summary.emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    pipeline::verdict(end, &stats, frames)?;
    Ok(ExitCode::SUCCESS)
}
