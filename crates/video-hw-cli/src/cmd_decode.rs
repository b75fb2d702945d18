//! `video-hw decode IN -o OUT`: a raw Annex-B stream, an MP4 or an IVF file to raw frames (or to
//! ffmpeg-style frame checksums with `--framemd5`).

use std::process::ExitCode;
use std::time::Instant;

use video_hw::pipeline::{SegmentedDecode, recommended_sessions};
use video_hw::{DecoderConfig, EnginePreference};

use crate::decode_args::{DecodeArgs, Sessions};
use crate::decode_loop;
use crate::exit::{CliResult, usage};
use crate::input::Source;
use crate::output::FrameSink;
use crate::progress::Progress;
use crate::summary::Summary;

/// Runs `decode`.
pub fn run(args: &DecodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    if crate::cmd_decode_audio::wanted(args) {
        return crate::cmd_decode_audio::run(args, quiet);
    }
    if args.indices.is_some() || args.start.is_some() || args.count.is_some() {
        return crate::decode_select::run(args, quiet, started, args.sessions.unwrap_or(Sessions::Count(1)));
    }
    let src = Source::open(&args.input)?;
    let cfg = args
        .decoder_config(src.codec(), src.timebase(), src.rotation())
        .extradata(src.extradata())
        .picture_size(src.stated_size());
    crate::transform_opts::check_picture(&cfg, src.picture_size())?;
    if matches!(args.sessions, Some(Sessions::Count(n)) if n > 1) && !src.codec().is_nal_based() {
        return Err(usage(crate::input::NOT_NAL_STREAM));
    }
    let dec = decode_loop::open_decoder(&src, cfg.clone())?;
    if args.sessions.is_none()
        && args.input.as_os_str() != "-"
        && src.codec().is_nal_based()
        && dec.engine() == video_hw::Engine::Nvdec
    {
        // One NVDEC session is paced by one engine of several: a file read through its
        // index decodes the GOPs ahead on the others (`FrameReader`'s read-ahead).
        drop((dec, src));
        return crate::decode_select::run(args, quiet, started, Sessions::Auto);
    }
    let sessions = args.sessions.unwrap_or(Sessions::Count(1));
    if sessions.segmented(src.codec()) {
        return run_segmented(args, quiet, started, src, cfg, dec, sessions);
    }
    let mut sink = FrameSink::create(&args.output, args.framemd5, src.sar(), args.pix_fmt.exact)?;
    let container_rate = src.frame_rate();
    let codec_in = src.codec();
    let shown = src.window();
    // The source is read and decoded on the pipeline's thread; this one writes.
    let decoding = decode_loop::Decoding::start(src, dec)?;
    let mut progress = Progress::new(quiet, "bytes");
    let (mut frames, mut bytes, mut size, mut tb) = (0u64, 0u64, None, None);
    let end = decode_loop::run(&decoding, &mut progress, |d, frame| {
        // Pre-roll an MP4 edit list skips is decoded (later pictures need it), not output.
        if !shown.shows(frame.pts) {
            return Ok(());
        }
        let tb = *tb.get_or_insert_with(|| decode_loop::frame_timebase(d.stream_info(), container_rate));
        size.get_or_insert((frame.width, frame.height));
        bytes += sink.write(&frame, tb)?;
        frames += 1;
        Ok(())
    })?;
    let info = decoding.stream_info();
    let (w, h) = size.or_else(|| info.clone().map(|i| (i.dimensions.width(), i.dimensions.height()))).unwrap_or((0, 0));
    sink.finish(w, h, tb.unwrap_or_else(|| decode_loop::frame_timebase(info, container_rate)))?;
    let decoder = decoding.backend().to_string();
    let (pipeline, stats) = decoding.finish()?;
    crate::stage_table::emit(&[("decode", &pipeline)]);
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
    decode_loop::verdict(end, &stats, frames)?;
    Ok(ExitCode::SUCCESS)
}

/// `decode --sessions N`: the whole stream through a [`SegmentedDecode`] of N sessions of
/// the engine `probe` opened (so every piece is decoded by the same engine).
fn run_segmented(
    args: &DecodeArgs,
    quiet: bool,
    started: Instant,
    src: Source,
    cfg: DecoderConfig,
    probe: video_hw::Decoder,
    sessions: Sessions,
) -> CliResult<ExitCode> {
    let engine = probe.engine();
    drop(probe);
    let codec_in = src.codec();
    let sar = src.sar();
    let (data, broken) = src.into_annexb_bytes()?;
    let info = video_hw::bitstream::summary::summarize(&data[..], Some(codec_in)).ok().and_then(|s| s.info);
    let tb = decode_loop::frame_timebase(info.clone(), None);
    let mut sink = FrameSink::create(&args.output, args.framemd5, sar, args.pix_fmt.exact)?;
    let (mut frames, mut bytes, mut size) = (0u64, 0u64, None);
    let sessions = match sessions {
        Sessions::Count(n) => usize::from(n),
        Sessions::Auto => {
            let (w, h) = info.as_ref().map_or((1920, 1080), |i| (i.dimensions.width(), i.dimensions.height()));
            recommended_sessions(engine, codec_in, w, h, args.engine.device)
        }
    };
    let decode = SegmentedDecode::new(cfg.engine(EnginePreference::Only(engine))).sessions(sessions);
    let run = decode.run(&[&data[..]], |_, frame| {
        if crate::signals::requested().is_some() {
            // Ends the run: the frames written so far are the output, finished below.
            return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "stopped by a signal").into());
        }
        size.get_or_insert((frame.width, frame.height));
        bytes += sink.write(&frame, tb)?;
        frames += 1;
        Ok(())
    });
    let stats = match run {
        Ok(stats) => stats,
        Err(_) if crate::signals::requested().is_some() => Default::default(),
        Err(e) => return Err(e.into()),
    };
    let (w, h) = size.or_else(|| info.map(|i| (i.dimensions.width(), i.dimensions.height()))).unwrap_or((0, 0));
    sink.finish(w, h, tb)?;
    let stream = stats.streams.first().cloned().unwrap_or_default();
    let summary = Summary {
        size,
        frames,
        decoder: Some(format!("{}, {} segment(s) over {} session(s)", stats.backend, stats.segments, stats.sessions)),
        dropped: stream.dropped,
        concealed: stream.concealed,
        bytes_out: bytes,
        damage: broken.as_ref().map(|e| e.to_string()).or(stream.first_error.clone()),
        ..args.summary(codec_in, started)
    };
    summary.emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    let decoder_stats = video_hw::DecoderStats {
        dropped: stream.dropped,
        concealed: stream.concealed,
        last_error: stream.first_error,
        ..Default::default()
    };
    let end = decode_loop::DecodeEnd { damage: None, broken };
    decode_loop::verdict(end, &decoder_stats, frames)?;
    Ok(ExitCode::SUCCESS)
}
