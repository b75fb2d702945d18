//! `video-hw decode IN -o OUT`: a raw Annex-B stream, an MP4 or an IVF file to raw frames (or to
//! ffmpeg-style frame checksums with `--framemd5`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use video_hw::pipeline::{SegmentedDecode, recommended_sessions};
use video_hw::{DecoderConfig, EnginePreference, PixelFormat};

use crate::decode_loop;
use crate::exit::{CliResult, usage};
use crate::input::Source;
use crate::opts::{EngineOpts, parse_output_format};
use crate::output::FrameSink;
use crate::progress::Progress;
use crate::summary::Summary;
use crate::transform_opts::TransformOpts;

/// Arguments of `decode` (also read by [`crate::decode_select`]).
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Input: a raw H.264/HEVC Annex-B stream (.h264/.264/.h265/.hevc/…; other names are
    /// recognised from their content), an MP4/MOV file, or an IVF file (AV1, VP9; from its
    /// `DKIF` signature). `-` reads stdin: Annex-B and IVF as they come, a container
    /// (MP4, Matroska, MPEG-TS) after spooling it to a temporary file.
    pub(crate) input: PathBuf,
    /// Output: raw frames, one after the other (or frame checksums with --framemd5); `-` for stdout.
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: PathBuf,
    /// Pixel format of the output: yuv420p, nv12 (10-bit streams give yuv420p10le and
    /// p010le), rgb24, bgr24, rgba, bgra, gbrp (planar R, G, B), bgrp, or float RGB for
    /// models: rgbf32, bgrf32, rgbpf32 (planar, 3×H×W), bgrpf32 and the f16 forms (values
    /// 0-1). RGB uses the stream's matrix, range and chroma siting.
    #[arg(long, default_value = "yuv420p", value_parser = parse_output_format)]
    pub(crate) pix_fmt: PixelFormat,
    /// Write ffmpeg's framemd5 format (one MD5 per frame) instead of the frames.
    #[arg(long)]
    pub(crate) framemd5: bool,
    /// Print the summary as JSON (on stdout; on stderr when the output is stdout).
    #[arg(long)]
    pub(crate) json: bool,
    /// Decode with N sessions at once (1-64, or `auto`): the stream (raw Annex-B or MP4) is
    /// read into memory, cut at its IDR pictures (and HEVC CRAs without RASL pictures) and
    /// the pieces decoded side by side, frames written in order. With NVDEC one stream then
    /// uses several decode engines (7 on an H200). `auto`: the measured best for the engine,
    /// codec and size (NVDEC: one per engine; software: one per CPU thread).
    ///
    /// Without this option, an H.264/HEVC file (not stdin) that NVDEC decodes is read
    /// through its frame index with the GOPs ahead decoding on `auto` sessions at once
    /// (frames written in order, identical to one session's; the frames waiting bounded by
    /// 4 GiB, or a GOP per session and two more where the frames wait in GPU memory);
    /// anything else is decoded by one session.
    #[arg(long, value_name = "N|auto", value_parser = parse_sessions)]
    pub(crate) sessions: Option<Sessions>,
    /// Bound on the frames that reading ahead (the default for a file NVDEC decodes) holds
    /// decoded before they are written: `512m`, `16g` (default 4g). More lets more
    /// sessions decode at once; the bound is counted in output frame bytes.
    #[arg(long, value_name = "SIZE", value_parser = crate::opts::parse_bytes)]
    pub(crate) read_ahead: Option<usize>,
    /// Output only these frames, by presentation index (0 is the first frame shown), in
    /// the order given (repeats allowed): `--indices 250,3,99`. Each is decoded exactly,
    /// from the random access point it depends on; a GOP is decoded once however many of
    /// its frames are asked for. Needs a file (not stdin).
    #[arg(long, value_name = "I,J,…", value_delimiter = ',', conflicts_with = "start")]
    pub(crate) indices: Option<Vec<usize>>,
    /// Start at the frame shown at this time (seconds from the start of the timeline the
    /// container gives), decoding from the random access point it depends on. Needs a file.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) start: Option<f64>,
    /// Stop after N frames.
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    #[command(flatten)]
    pub(crate) engine: EngineOpts,
    #[command(flatten)]
    pub(crate) transform: TransformOpts,
}

/// `--sessions`: a count, or `auto` (decided once the engine and the stream's size are known).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    /// This many sessions (1-64).
    Count(u16),
    /// [`video_hw::pipeline::recommended_sessions`] for the engine, codec and size.
    Auto,
}

impl Sessions {
    /// Whether a stream of `codec` is cut and decoded by several sessions: a count above 1
    /// asks for it (and is refused for AV1/VP9, which cannot be cut here); `auto` does it
    /// where it can and decodes AV1/VP9 with one session.
    fn segmented(self, codec: video_hw::Codec) -> bool {
        match self {
            Sessions::Count(n) => n > 1,
            Sessions::Auto => codec.is_nal_based(),
        }
    }
}

pub(crate) fn parse_sessions(s: &str) -> Result<Sessions, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Sessions::Auto);
    }
    match s.parse::<u16>() {
        Ok(n @ 1..=64) => Ok(Sessions::Count(n)),
        _ => Err(format!("'{s}': a number of sessions from 1 to 64, or auto")),
    }
}

impl DecodeArgs {
    /// The summary's fields that come from the arguments and the clock.
    pub(crate) fn summary(&self, codec_in: video_hw::Codec, started: Instant) -> Summary {
        Summary {
            job: "decode",
            input: self.input.display().to_string(),
            output: self.output.display().to_string(),
            codec_in: Some(codec_in.to_string()),
            elapsed: started.elapsed(),
            ..Default::default()
        }
    }
}

/// Runs `decode`.
pub fn run(args: &DecodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    if args.indices.is_some() || args.start.is_some() || args.count.is_some() {
        return crate::decode_select::run(args, quiet, started, args.sessions.unwrap_or(Sessions::Count(1)));
    }
    let src = Source::open(&args.input)?;
    let cfg = DecoderConfig::new(src.codec());
    let cfg = args
        .transform
        .apply(cfg, args.pix_fmt)
        .engine(args.engine.backend)
        .require_hardware(args.engine.require_hardware)
        .device_index(args.engine.device)
        .timebase(src.timebase())
        .threads_opt(args.engine.threads);
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
    let mut sink = FrameSink::create(&args.output, args.framemd5, src.sar())?;
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
    let mut sink = FrameSink::create(&args.output, args.framemd5, sar)?;
    let (mut frames, mut bytes, mut size) = (0u64, 0u64, None);
    let sessions = match sessions {
        Sessions::Count(n) => usize::from(n),
        Sessions::Auto => {
            let (w, h) = info.as_ref().map_or((1920, 1080), |i| (i.dimensions.width(), i.dimensions.height()));
            recommended_sessions(engine, codec_in, w, h, args.engine.device)
        }
    };
    let decode = SegmentedDecode::new(cfg.engine(EnginePreference::Only(engine))).sessions(sessions);
    let stats = decode.run(&[&data[..]], |_, frame| {
        size.get_or_insert((frame.width, frame.height));
        bytes += sink.write(&frame, tb)?;
        frames += 1;
        Ok(())
    })?;
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
