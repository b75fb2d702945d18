//! `video-hw transcode IN -o OUT`: decode and encode in one pass (pictures converted as
//! needed), from any container or raw stream to Annex-B or a container (MP4, Matroska,
//! WebM) that keeps the source's audio tracks, copied untouched. `--follow` reads a file
//! still being written, its audio with its video (`io::follow`).

pub mod read_ahead;

use std::process::ExitCode;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use video_hw::media::{MediaPacket, Track};
use video_hw::{DecoderConfig, EncoderConfig, Engine, Rational};

use crate::commands::decode::pipeline;
use crate::commands::encode::job::EncodeJob;
use crate::exit::{CliResult, usage};
use crate::io::input::Source;
use crate::options::decode::Sessions;
use crate::options::transcode::TranscodeArgs;
use crate::report::progress::Progress;
use crate::report::summary::Summary;

/// Runs `transcode`.
pub fn run(args: &TranscodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    let codec = args.encode.codec_for(&args.output)?;
    let mut cfg = args.encode.config(codec, &args.engine)?;
    args.frag.check(&args.output)?;
    let Some(src) = open_input(args)? else {
        // Stopped while waiting for a followed file's first bytes: nothing was written.
        return Ok(crate::signals::exit_status().unwrap_or(ExitCode::FAILURE));
    };
    if let Some((w, h)) = args.transform.size.filter(|(w, h)| w % 2 != 0 || h % 2 != 0) {
        return Err(usage(format!("--size {w}x{h}: encoders take 4:2:0 pictures, with an even width and height")));
    }
    let dec_cfg = args
        .transform
        .apply(DecoderConfig::new(src.codec()), args.decoder_format())
        .engine(args.decoder_backend)
        .require_hardware(args.engine.require_hardware)
        .device_index(args.engine.device)
        .timebase(src.timebase())
        .threads_opt(args.engine.threads);
    crate::options::transform::check_picture(&dec_cfg, src.picture_size())?;
    if args.sessions.is_some_and(|s| s != Sessions::Count(1)) {
        if args.input.as_os_str() == "-" {
            return Err(usage("--sessions reads the input through its frame index: a file, not stdin"));
        }
        if !src.codec().is_nal_based() {
            return Err(usage(crate::io::input::NOT_NAL_STREAM));
        }
    }
    // The route depends on the engine, which the registry names without opening one.
    let engine = pipeline::decode_engine(&src, &dec_cfg)?;
    let read_ahead = match args.sessions {
        Some(s) => s != Sessions::Count(1),
        None => !args.follow && args.input.as_os_str() != "-" && src.codec().is_nal_based() && engine == Engine::Nvdec,
    };
    if read_ahead {
        // One NVDEC session is paced by one engine of several: the file is read through its
        // index with the GOPs ahead decoding on the others.
        let sessions = args.sessions.unwrap_or(Sessions::Auto);
        let job = read_ahead::Job { encoder: cfg, decoder: dec_cfg, sessions, codec_out: codec, started };
        return read_ahead::run(args, quiet, src, job);
    }
    let dec = pipeline::open_decoder(&src, dec_cfg.clone())?;
    let container_rate = src.frame_rate();
    let codec_in = src.codec();
    let shown = src.window();
    // Timestamps travel from a container input to the output; Annex-B input has none.
    let timebase = (src.container() != "annexb").then(|| src.timebase());
    // The input's audio goes into a container output, copied; it is read with the video.
    let audio_tracks = if args.no_audio || !args.container_out() { Vec::new() } else { src.audio_tracks() };
    let (tap, audio_rx) = if audio_tracks.is_empty() {
        (None, None)
    } else {
        let (tx, rx) = std::sync::mpsc::channel();
        (
            Some(crate::io::input::AudioTap { tracks: audio_tracks.iter().map(|t| t.index).collect(), packets: tx }),
            Some(rx),
        )
    };
    let mut audio = audio_rx.map(|rx| (audio_tracks, rx));
    // Decoding runs on the decode pipeline's thread, encoding on the encode pipeline's:
    // the two overlap; this thread converts pictures where needed and writes packets.
    let decoding = pipeline::Decoding::start_with_audio(src, dec, tap)?;
    let mut job: Option<EncodeJob> = None;
    let mut progress = Progress::new(quiet, "bytes");
    let mut size = None;
    let end = pipeline::run(&decoding, &mut progress, |d, frame| {
        // Pre-roll an MP4 edit list skips is decoded, not encoded.
        if !shown.shows(frame.pts) {
            return Ok(());
        }
        let job = job.get_or_insert_with(|| {
            let rate = d.stream_info().and_then(|i| i.frame_rate).or(container_rate);
            first_job(args, &mut cfg, rate, timebase, &mut audio)
        });
        size.get_or_insert((frame.width, frame.height));
        job.push(frame)?;
        Ok(())
    })?;
    let decoder = decoding.backend().to_string();
    let (decode_stats, stats) = decoding.finish()?;
    let (frames, encoder, bytes) = crate::commands::encode::job::finish_job(job.as_mut())?;
    let mut tables = vec![("decode", &decode_stats)];
    if let Some(encode_stats) = job.as_ref().and_then(EncodeJob::stats) {
        tables.push(("encode", encode_stats));
    }
    crate::report::stats::emit(&tables);
    Summary {
        job: "transcode",
        input: args.input.display().to_string(),
        output: args.output.display().to_string(),
        codec_in: Some(codec_in.to_string()),
        codec_out: Some(codec.to_string()),
        size,
        frames,
        elapsed: started.elapsed(),
        decoder: Some(decoder),
        encoder,
        dropped: stats.dropped,
        concealed: stats.concealed,
        bytes_out: bytes,
        damage: end.broken.as_ref().or(end.damage.as_ref()).map(|e| e.to_string()),
        quality: job.as_ref().and_then(EncodeJob::stats).and_then(|s| s.quality.clone()),
        reconnects: None,
        interrupted: None,
    }
    .emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    pipeline::verdict(end, &stats, frames)?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the input: a file, stdin (`--timeout` bounding its sender's silences), or with
/// `--follow` a file still being written (`io::follow`). `None` when a signal came while
/// a followed file had not yet its first bytes.
fn open_input(args: &TranscodeArgs) -> CliResult<Option<Source>> {
    let stdin = args.input.as_os_str() == "-";
    if !args.follow {
        if args.timeout.is_some() && !stdin {
            return Err(usage("--timeout takes --follow, or stdin (`-`) as the input"));
        }
        return Source::open(&args.input, args.timeout).map(Some);
    }
    if stdin {
        return Err(usage(
            "--follow reads a file (stdin ends when its writer closes it; --timeout bounds its silences)",
        ));
    }
    if args.sessions.is_some_and(|s| s != Sessions::Count(1)) {
        return Err(usage("--follow reads the file front to back on one session: not with --sessions"));
    }
    let timeout = args.timeout.unwrap_or(crate::io::follow::DEFAULT_TIMEOUT);
    let audio = !args.no_audio && args.container_out();
    match Source::open_followed(&args.input, timeout, audio) {
        Err(_) if crate::signals::requested().is_some() => Ok(None),
        other => other.map(Some),
    }
}

/// The input's audio tracks and where their packets arrive.
pub(crate) type AudioIn = (Vec<Track>, Receiver<MediaPacket>);

/// The encode job, opened at the first frame: at `--fps`, else `rate` (the stream's own,
/// else the container's), else 25; copying the input's `audio` (taken) into a container.
pub(crate) fn first_job(
    args: &TranscodeArgs,
    cfg: &mut EncoderConfig,
    rate: Option<Rational>,
    timebase: Option<Rational>,
    audio: &mut Option<AudioIn>,
) -> EncodeJob {
    let fps = args.fps.or(rate);
    cfg.fps = fps.filter(|r| r.num > 0 && r.den > 0 && r.as_f64() <= 1000.0).unwrap_or(Rational::new(25, 1));
    let job = EncodeJob::new(cfg.clone(), &args.output, timebase)
        .quality(args.encode.quality())
        .pix_fmt(args.pix_fmt)
        .fragmented(&args.frag);
    match audio.take() {
        Some((tracks, rx)) => job.with_audio(tracks, rx),
        None => job,
    }
}
