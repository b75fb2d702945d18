//! `video-hw transcode FILE` on NVDEC (and `--sessions N|auto` on any engine): the input is
//! read through its frame index with the GOPs ahead decoding on several sessions at once
//! (the library's [`FrameReader`] read-ahead, as `decode` does by default), and the frames,
//! in order, go to the encoder. One NVDEC session is paced by one engine of several; with
//! the read-ahead the decode side keeps up with an encoder that runs faster than one engine
//! decodes.
//!
//! The input's audio is read by a second demuxer on a thread of its own and handed to the
//! output through a bounded channel, so it stays a few seconds ahead of the video at most.

use std::process::ExitCode;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Instant;

use video_hw::media::{Demuxer, MediaPacket};
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, EncoderConfig, Error};

use super::{AudioIn, first_job};
use crate::commands::decode::indexed::{described, on_sessions, open_video, take_frames};
use crate::commands::encode::job::EncodeJob;
use crate::exit::CliResult;
use crate::io::input::Source;
use crate::options::decode::Sessions;
use crate::options::transcode::TranscodeArgs;
use crate::report::summary::Summary;

/// Audio packets read ahead of the output at most (AAC: about 5 seconds).
const AUDIO_AHEAD: usize = 256;

/// What [`run`] takes from the command's set-up.
pub struct Job {
    /// The encoder's configuration (its `fps` set here).
    pub encoder: EncoderConfig,
    /// The decoder's configuration (engine, output format, transform, time base).
    pub decoder: DecoderConfig,
    /// The sessions asked for.
    pub sessions: Sessions,
    /// The output's codec.
    pub codec_out: Codec,
    /// When the command started.
    pub started: Instant,
}

/// Transcodes `args.input` (a file) with the read-ahead; `src` is the input as opened by
/// the command (its facts: audio tracks, rates, time base), dropped before decoding.
pub fn run(args: &TranscodeArgs, quiet: bool, src: Source, job: Job) -> CliResult<ExitCode> {
    let Job { encoder: mut cfg, decoder, sessions, codec_out, started } = job;
    let codec_in = src.codec();
    let container_rate = src.frame_rate();
    let timebase = (src.container() != "annexb").then(|| src.timebase());
    let container_out = args.container_out();
    let audio_tracks = if args.no_audio || !container_out { Vec::new() } else { src.audio_tracks() };
    drop(src);

    let (mut demuxer, track) = open_video(&args.input)?;
    // The rate the one-session path takes: the stream's own (VUI), else the container's.
    let stream_rate = demuxer.stream_info(track.index).ok().flatten().and_then(|i| i.frame_rate);
    let mut reader =
        on_sessions(FrameReader::new(demuxer, track.index, decoder)?, sessions, &track, args.engine.device)?;

    let audio = (!audio_tracks.is_empty()).then(|| {
        let wanted: Vec<usize> = audio_tracks.iter().map(|t| t.index).collect();
        let (tx, rx) = sync_channel(AUDIO_AHEAD);
        let path = args.input.clone();
        // Ends at the end of the file, at its first read error (the video side reports
        // the damage), or when the output is gone.
        std::thread::Builder::new()
            .name("transcode-audio".into())
            .spawn(move || read_audio(&path, &wanted, &tx))
            .map(|_| (audio_tracks, rx))
    });
    let mut audio: Option<AudioIn> = audio.transpose()?;

    if reader.is_empty() {
        return Err(Error::invalid_bitstream(0, "the video track has no frame").into());
    }
    let mut job: Option<EncodeJob> = None;
    let mut size = None;
    let (_, lost, mut damage) = take_frames(reader.frames_from_index(0)?, u64::MAX, |mut frame| {
        let job =
            job.get_or_insert_with(|| first_job(args, &mut cfg, stream_rate.or(container_rate), timebase, &mut audio));
        size.get_or_insert((frame.width, frame.height));
        if timebase.is_none() {
            // A raw stream has no timestamps: the reader's are its index's own numbering,
            // and the encoder spaces untimed frames at the rate, as on one session.
            frame.pts = None;
        }
        Ok(job.push(frame)?)
    })?;
    // An index that ends early (a truncated or damaged file): the frames before the damage
    // were encoded, and the damage is reported as a straight decode reports it.
    if damage.is_none() {
        damage = reader.index().damage_error();
    }
    let (frames, encoder, bytes) = crate::commands::encode::job::finish_job(job.as_mut())?;
    if let Some(encode_stats) = job.as_ref().and_then(EncodeJob::stats) {
        crate::report::stats::emit(&[("encode", encode_stats)]);
    }
    let stats = reader.stats();
    Summary {
        job: "transcode",
        input: args.input.display().to_string(),
        output: args.output.display().to_string(),
        codec_in: Some(codec_in.to_string()),
        codec_out: Some(codec_out.to_string()),
        size,
        frames,
        elapsed: started.elapsed(),
        decoder: described(&reader),
        encoder,
        dropped: lost,
        concealed: stats.concealed,
        bytes_out: bytes,
        damage: damage.as_ref().map(|e| e.to_string()),
        quality: job.as_ref().and_then(EncodeJob::stats).and_then(|s| s.quality.clone()),
        reconnects: None,
        interrupted: None,
    }
    .emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    crate::commands::decode::indexed::verdict(damage, stats.concealed, frames)
}

/// Sends the packets of the `wanted` tracks of the file at `path`, in file order, going on
/// after damage where the container reads on (`Container::damage_skips`), as the decode
/// side does.
fn read_audio(path: &std::path::Path, wanted: &[usize], tx: &SyncSender<MediaPacket>) {
    let Ok(mut demuxer) = Demuxer::open(path) else { return };
    let mut errors = 0u32;
    // On SIGINT/SIGTERM the video stops where it is: so does its audio.
    while crate::signals::requested().is_none() {
        match demuxer.next_packet() {
            Ok(Some(packet)) => {
                if wanted.contains(&packet.track) && tx.send(packet).is_err() {
                    return;
                }
            }
            Err(_) if errors < demuxer.container().damage_skips() => errors += 1,
            Ok(None) | Err(_) => return,
        }
    }
}
