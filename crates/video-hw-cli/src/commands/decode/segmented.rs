//! `video-hw decode --sessions N|auto`: the whole stream read into memory, cut at its
//! random access points and the pieces decoded side by side by one engine's sessions
//! ([`SegmentedDecode`]), frames written in order.

use std::process::ExitCode;
use std::time::Instant;

use video_hw::pipeline::{SegmentedDecode, recommended_sessions};
use video_hw::{DecoderConfig, EnginePreference};

use super::pipeline;
use crate::exit::CliResult;
use crate::io::input::Source;
use crate::io::output::FrameSink;
use crate::options::decode::{DecodeArgs, Sessions};
use crate::report::summary::Summary;

/// `decode --sessions N`: the whole stream through a [`SegmentedDecode`] of N sessions of
/// `engine` (so every piece is decoded by the same engine).
pub fn run(
    args: &DecodeArgs,
    quiet: bool,
    started: Instant,
    src: Source,
    cfg: DecoderConfig,
    engine: video_hw::Engine,
    sessions: Sessions,
) -> CliResult<ExitCode> {
    let codec_in = src.codec();
    let sar = src.sar();
    let (data, broken) = src.into_annexb_bytes()?;
    let info = video_hw::bitstream::summary::summarize(&data[..], Some(codec_in)).ok().and_then(|s| s.info);
    let tb = pipeline::frame_timebase(info.clone(), None);
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
    let end = pipeline::DecodeEnd { damage: None, broken };
    pipeline::verdict(end, &decoder_stats, frames)?;
    Ok(ExitCode::SUCCESS)
}
