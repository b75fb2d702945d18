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
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use video_hw::media::Demuxer;
use video_hw::pipeline::{CopySender, TranscodeEnd};
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, EncoderConfig, Error, Frame};

use super::job;
use crate::commands::decode::indexed::{described, on_sessions, open_video};
use crate::exit::CliResult;
use crate::io::input::Source;
use crate::options::decode::Sessions;
use crate::options::transcode::TranscodeArgs;
use crate::report::summary::Summary;

/// Audio packets read ahead of the output at most (AAC: about 5 seconds).
const AUDIO_AHEAD: usize = 256;

/// What [`run`] takes from the command's set-up.
pub struct Job {
    /// The encoder's configuration (its `fps` set when the first frame comes).
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

/// What the reading of the frames met: frames lost to damage, and the first damage.
#[derive(Default)]
struct Tally {
    lost: u64,
    damage: Option<Error>,
}

/// Transcodes `args.input` (a file) with the read-ahead; `src` is the input as opened by
/// the command (its facts: audio tracks, rates, time base), dropped before decoding.
pub fn run(args: &TranscodeArgs, quiet: bool, src: Source, job: Job) -> CliResult<ExitCode> {
    let Job { encoder: cfg, decoder, sessions, codec_out, started } = job;
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
    if reader.is_empty() {
        return Err(Error::invalid_bitstream(0, "the video track has no frame").into());
    }
    // From the first frame; the reader then goes to the transcode's feeder thread.
    let _ = reader.frames_from_index(0)?;
    let reader = Arc::new(Mutex::new(reader));
    let tally = Arc::new(Mutex::new(Tally::default()));

    // A raw stream has no timestamps: the reader's are its index's own numbering, and the
    // encoder spaces untimed frames at the rate, as on one session.
    let mut builder = job::builder(args, cfg, stream_rate.or(container_rate), timebase, None, timebase.is_none());
    if !audio_tracks.is_empty() {
        let wanted: Vec<usize> = audio_tracks.iter().map(|t| t.index).collect();
        let tx = builder.copy_sender(Some(AUDIO_AHEAD));
        let path = args.input.clone();
        // Ends at the end of the file, at its first read error (the video side reports
        // the damage), or when the output is gone.
        std::thread::Builder::new()
            .name("transcode-audio".into())
            .spawn(move || read_audio(&path, &wanted, &tx))
            .map_err(Error::from)?;
    }
    let output = job::Output::new(args, audio_tracks);
    let transcode = builder.start_from_frames(frames(reader.clone(), tally.clone()), output)?;
    let (end, size) = job::wait(transcode, quiet, || (0, None));
    let encoder = job::encoder_name(&end);
    let TranscodeEnd { stats: all, decode_error, encode_error, .. } = end;
    if let Some(e) = decode_error.or(encode_error) {
        return Err(e.into());
    }
    let reader = reader.lock().unwrap_or_else(PoisonError::into_inner);
    let Tally { lost, mut damage } = std::mem::take(&mut *tally.lock().unwrap_or_else(PoisonError::into_inner));
    // An index that ends early (a truncated or damaged file): the frames before the damage
    // were encoded, and the damage is reported as a straight decode reports it.
    if damage.is_none() {
        damage = reader.index().damage_error();
    }
    crate::report::stats::emit(&[("encode", &all.encode)]);
    let stats = reader.stats();
    Summary {
        job: "transcode",
        input: args.input.display().to_string(),
        output: args.output.display().to_string(),
        codec_in: Some(codec_in.to_string()),
        codec_out: Some(codec_out.to_string()),
        size,
        frames: all.frames,
        elapsed: started.elapsed(),
        decoder: described(&reader),
        encoder,
        dropped: lost,
        concealed: stats.concealed,
        bytes_out: all.bytes,
        damage: damage.as_ref().map(|e| e.to_string()),
        quality: all.encode.quality.clone(),
        reconnects: None,
        interrupted: None,
    }
    .emit(args.json, quiet);
    if let Some(code) = crate::signals::exit_status() {
        return Ok(code);
    }
    crate::commands::decode::indexed::verdict(damage, stats.concealed, all.frames)
}

/// The frames of `reader` in order, for the transcode's feeder: a frame lost to damage
/// is counted in `tally` and the frames after it still come (as a straight decode goes
/// on after damage); another error ends the frames there, kept in `tally`. SIGINT/SIGTERM
/// ends them too: the frames taken so far are the output.
fn frames(
    reader: Arc<Mutex<FrameReader>>,
    tally: Arc<Mutex<Tally>>,
) -> impl Iterator<Item = video_hw::Result<Frame>> + Send + 'static {
    std::iter::from_fn(move || {
        loop {
            if crate::signals::requested().is_some() {
                return None;
            }
            let next = reader.lock().unwrap_or_else(PoisonError::into_inner).next_frame();
            let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
            match next {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => return None,
                Err(e @ Error::InvalidBitstream { .. }) => {
                    tally.lost += 1;
                    tally.damage.get_or_insert(e);
                }
                Err(e) => {
                    tally.damage.get_or_insert(e);
                    return None;
                }
            }
        }
    })
}

/// Sends the packets of the `wanted` tracks of the file at `path`, in file order, going on
/// after damage where the container reads on (`Container::damage_skips`), as the decode
/// side does.
fn read_audio(path: &std::path::Path, wanted: &[usize], tx: &CopySender) {
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
