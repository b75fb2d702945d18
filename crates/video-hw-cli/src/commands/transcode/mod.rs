//! `video-hw transcode IN -o OUT`: decode and encode in one pass (pictures converted as
//! needed), from any container or raw stream to Annex-B or a container (MP4, Matroska,
//! WebM) that keeps the source's audio tracks, copied untouched. `--follow` reads a file
//! still being written, its audio with its video (`io::follow`). Both routes run on the
//! library's [`video_hw::pipeline::Transcode`] ([`job`] says what they hand it).

pub mod job;
pub mod read_ahead;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use video_hw::pipeline::TranscodeEnd;
use video_hw::{DecoderConfig, Engine};

use crate::commands::decode::pipeline;
use crate::exit::{CliResult, usage};
use crate::io::input::Source;
use crate::options::decode::Sessions;
use crate::options::transcode::TranscodeArgs;
use crate::report::summary::Summary;

/// Runs `transcode`.
pub fn run(args: &TranscodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    let codec = args.encode.codec_for(&args.output)?;
    let cfg = args.encode.config(codec, &args.engine)?;
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
    let dec = pipeline::open_decoder(&src, dec_cfg)?;
    let codec_in = src.codec();
    // Timestamps travel from a container input to the output; Annex-B input has none.
    let timebase = (src.container() != "annexb").then(|| src.timebase());
    let mut builder = job::builder(args, cfg, src.frame_rate(), timebase, Some(src.window()), false);
    // The input's audio goes into a container output, copied; it is read with the video.
    let audio_tracks = if args.no_audio || !args.container_out() { Vec::new() } else { src.audio_tracks() };
    let tap = (!audio_tracks.is_empty()).then(|| crate::io::input::AudioTap {
        tracks: audio_tracks.iter().map(|t| t.index).collect(),
        packets: builder.copy_sender(None),
    });
    let headers = src.header_check();
    let (done, total) = src.progress();
    let position = Arc::new(AtomicU64::new(done));
    let broken = Arc::new(Mutex::new(None));
    let inputs = src.into_inputs(position.clone(), broken.clone(), tap);
    // Decoding runs on the decoder's thread (the transform with it), encoding and writing
    // on the encoder's: the library's transcode.
    let output = job::Output::new(args, audio_tracks);
    let transcode = builder.start_with_decoder(dec, inputs, output)?;
    let decoder = transcode.decoder_backend().to_string();
    let (end, size) = job::wait(transcode, quiet, || (position.load(Ordering::Relaxed), total));
    let encoder = job::encoder_name(&end);
    let TranscodeEnd { stats: all, decode_error, encode_error, damage } = end;
    if let Some(e) = decode_error {
        return Err(pipeline::prefer_input_error_of(&headers, e).into());
    }
    if let Some(e) = encode_error {
        return Err(e.into());
    }
    let stats = all.decode.decoder.clone().unwrap_or_default();
    crate::report::stats::emit(&[("decode", &all.decode), ("encode", &all.encode)]);
    let end = pipeline::DecodeEnd { damage, broken: broken.lock().unwrap_or_else(|p| p.into_inner()).take() };
    Summary {
        job: "transcode",
        input: args.input.display().to_string(),
        output: args.output.display().to_string(),
        codec_in: Some(codec_in.to_string()),
        codec_out: Some(codec.to_string()),
        size,
        frames: all.frames,
        elapsed: started.elapsed(),
        decoder: Some(decoder),
        encoder,
        dropped: stats.dropped,
        concealed: stats.concealed,
        bytes_out: all.bytes,
        damage: end.broken.as_ref().or(end.damage.as_ref()).map(|e| e.to_string()),
        quality: all.encode.quality.clone(),
        reconnects: None,
        interrupted: None,
    }
    .emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    pipeline::verdict(end, &stats, all.frames)?;
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
