//! `video-hw decode --indices I,J,… | --start SECONDS [--count N]`: chosen frames of a file,
//! exactly, through the library's frame index and random access reader
//! ([`video_hw::reader::FrameReader`]): each frame is decoded from the random access point
//! it depends on, and each GOP once however many of its frames are asked for. Also the
//! default for a whole file NVDEC decodes: read front to back with the GOPs ahead decoding
//! on several sessions (the reader's read-ahead), one per NVDEC engine.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use video_hw::media::{Demuxer, Track};
use video_hw::pipeline::{recommended_run_sessions, recommended_sessions};
use video_hw::reader::FrameReader;
use video_hw::{Codec, Error, Frame, Rational};

use crate::exit::{CliResult, Failure, usage};
use crate::io::output::FrameSink;
use crate::options::decode::{DecodeArgs, Sessions};
use crate::report::summary::Summary;

/// Runs `decode` with `--indices`, `--start` or `--count`, or a whole file read ahead on
/// several sessions (`sessions`).
pub fn run(args: &DecodeArgs, quiet: bool, started: Instant, sessions: Sessions) -> CliResult<ExitCode> {
    if args.input.as_os_str() == "-" {
        return Err(usage("--indices, --start and --count need a file (it is read out of order), not stdin"));
    }
    if args.start.is_some_and(|s| !s.is_finite() || s < 0.0) {
        return Err(usage("--start takes a time in seconds, 0 or more"));
    }
    let (mut demuxer, track) = open_video(&args.input)?;
    let codec = track.codec.video().unwrap_or(Codec::H264);
    let cfg = args.decoder_config(codec, track.time_base, track.video.map_or(0, |v| v.rotation));
    cfg.validate().map_err(|e| match e {
        Error::InvalidInput(why) => usage(why),
        other => Failure::Video(other),
    })?;
    // The framemd5 time base as one session gives it: the stream's own rate (VUI) first.
    let stream_info = demuxer.stream_info(track.index).ok().flatten();
    let (cfg, bands) = match args.pix_fmt.exact {
        None => crate::options::transform::rgb_in_sink(cfg, || stream_info.clone()),
        Some(_) => (cfg, None),
    };
    let mut reader = on_sessions(FrameReader::new(demuxer, track.index, cfg)?, sessions, &track, args.engine.device)?;
    if let Some(bytes) = args.read_ahead {
        reader = reader.read_ahead(bytes);
    }
    let sar = track.video.and_then(|v| v.sample_aspect).or((codec == Codec::Av1).then(|| Rational::new(1, 1)));
    let mut sink = FrameSink::create(&args.output, args.framemd5, sar, args.pix_fmt.exact)?.rgb_in_bands(bands);
    let tb = crate::commands::decode::pipeline::frame_timebase(stream_info, track.frame_rate);
    let (mut frames, mut bytes, mut size) = (0u64, 0u64, None);
    let mut write = |frame: &video_hw::Frame| -> video_hw::Result<()> {
        size.get_or_insert((frame.width, frame.height));
        bytes += sink.write(frame, tb)?;
        frames += 1;
        Ok(())
    };
    let limit = args.count.unwrap_or(u64::MAX);
    let mut lost = 0u64;
    let damage = match &args.indices {
        Some(indices) => {
            let wanted: Vec<usize> = indices.iter().copied().take(limit.min(usize::MAX as u64) as usize).collect();
            match reader.frames_at(&wanted) {
                Ok(got) => {
                    for frame in got {
                        write(&frame)?;
                    }
                    None
                }
                Err(e @ Error::InvalidInput(_)) => return Err(usage(e.to_string())),
                Err(e) => Some(e),
            }
        }
        None => {
            let iter = match args.start {
                Some(s) => reader.frames_from(s).map_err(|e| match e {
                    Error::InvalidInput(why) => usage(why),
                    other => Failure::Video(other),
                })?,
                None if reader.is_empty() => {
                    return Err(Error::invalid_bitstream(0, "the video track has no frame").into());
                }
                None => reader.frames_from_index(0)?,
            };
            let (written, mut damage);
            (written, lost, damage) = take_frames(iter, limit, |f| Ok(write(&f)?))?;
            // Read to the end of an index that ends early (a truncated or damaged file): the
            // frames before the damage came out, and the damage is reported as a straight
            // decode reports it.
            if written < limit && damage.is_none() {
                damage = reader.index().damage_error();
            }
            damage
        }
    };
    let (w, h) = size.unwrap_or((0, 0));
    sink.finish(w, h, tb)?;
    let stats = reader.stats();
    let summary = Summary {
        size,
        frames,
        decoder: described(&reader),
        bytes_out: bytes,
        dropped: lost,
        concealed: stats.concealed,
        damage: damage.as_ref().map(|e| e.to_string()),
        ..args.summary(codec, started)
    };
    summary.emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    if frames == 0 && args.count == Some(0) && damage.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    verdict(damage, stats.concealed, frames)
}

/// The end of a job read through the frame index: the first damage met (exit 4), else
/// pictures the engine concealed (exit 4: every frame was written, the input is damaged
/// all the same), else no frame at all (exit 4), else success.
pub fn verdict(damage: Option<Error>, concealed: u64, frames: u64) -> CliResult<ExitCode> {
    if let Some(e) = damage {
        return Err(e.into());
    }
    if concealed > 0 {
        let e = Error::invalid_bitstream(0, "damaged input");
        let note = format!("{concealed} damaged picture(s) concealed by the decoder; {frames} frame(s) written");
        return Err(crate::commands::decode::pipeline::with_note(e, &note).into());
    }
    if frames == 0 {
        return Err(Error::invalid_bitstream(0, "no picture could be decoded from the input").into());
    }
    Ok(ExitCode::SUCCESS)
}

/// The file at `path` opened, with its video track.
pub fn open_video(path: &Path) -> CliResult<(Demuxer, Track)> {
    let demuxer = Demuxer::open(path).map_err(|e| e.context(path.display()))?;
    let track = demuxer
        .video_track()
        .cloned()
        .ok_or_else(|| Error::unsupported(format!("{}: no video track to decode", path.display()), "none found"))?;
    Ok((demuxer, track))
}

/// `reader` set to decode on `sessions` (`auto`: the measured best for its engine, the
/// track's codec and size on GPU `device`).
pub fn on_sessions(mut reader: FrameReader, sessions: Sessions, track: &Track, device: u32) -> CliResult<FrameReader> {
    let (n, runs) = match sessions {
        Sessions::Count(n) => (usize::from(n), 0),
        Sessions::Auto => {
            let (w, h) = track.video.map_or((1920, 1080), |v| (v.width, v.height));
            let codec = track.codec.video().unwrap_or(Codec::H264);
            // The reader's first session tells the engine (and is kept for decoding).
            let engine = reader.prepare()?;
            let runs = recommended_run_sessions(engine, codec, w, h, device).unwrap_or(0);
            (recommended_sessions(engine, codec, w, h, device), runs)
        }
    };
    Ok(reader.sessions(n).run_sessions(runs))
}

/// Hands the frames of `frames` to `take`, `limit` at most. A frame lost to damage is an
/// error in its place and the frames after it still come (as a straight decode goes on
/// after damage); other errors end the reading. Returns the frames taken, the frames lost
/// and the first error.
pub fn take_frames(
    frames: impl Iterator<Item = video_hw::Result<Frame>>,
    limit: u64,
    mut take: impl FnMut(Frame) -> CliResult<()>,
) -> CliResult<(u64, u64, Option<Error>)> {
    let (mut taken, mut lost, mut damage) = (0u64, 0u64, None);
    for frame in frames {
        // SIGINT/SIGTERM: the frames taken so far are the output.
        if taken >= limit || crate::signals::requested().is_some() {
            break;
        }
        match frame {
            Ok(f) => {
                take(f)?;
                taken += 1;
            }
            Err(e @ Error::InvalidBitstream { .. }) => {
                lost += 1;
                damage.get_or_insert(e);
            }
            Err(e) => {
                damage.get_or_insert(e);
                break;
            }
        }
    }
    Ok((taken, lost, damage))
}

/// The summary's decoder line for a job read through the frame index.
pub fn described(reader: &FrameReader) -> Option<String> {
    let stats = reader.stats();
    reader.backend().map(|b| {
        format!(
            "{b}, {} run(s), {} packet(s) decoded and {} needed for their headers only ({} left undecoded) over {} session(s)",
            stats.runs, stats.packets_decoded, stats.packets_headers_only, stats.pictures_left_out, stats.sessions
        )
    })
}
