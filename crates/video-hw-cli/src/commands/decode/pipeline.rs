//! Running a decoder over a [`Source`] in a decode pipeline (the source is read and
//! decoded on the pipeline's thread while this one writes or encodes the frames), and
//! keeping account of damage, so that a stream that breaks midway still yields every
//! frame before the break and the job ends with exit 4 saying what was lost.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use video_hw::bitstream::access_unit::StreamInfo;
use video_hw::pipeline::{DecodePipeline, PipelineOptions, PipelineStats, Shutdown};
use video_hw::{Decoder, DecoderConfig, DecoderStats, Engine, Error, Frame, Rational};

use crate::exit::{CliResult, Failure, usage};
use crate::io::input::{HeaderCheck, Source};
use crate::report::progress::Progress;

/// How the input ended.
#[derive(Debug, Default)]
pub struct DecodeEnd {
    /// The first damaged part the decoder dropped (it went on after it).
    pub damage: Option<Error>,
    /// Why the input stopped early (truncated MP4, read error).
    pub broken: Option<Error>,
}

/// Opens the decoder `cfg` asks for. Options that make no sense for decoding (an encoder
/// as `--backend`, software with `--require-hardware`) are usage errors; when no engine
/// can decode the stream but its headers are broken anyway, the input is reported (exit 4).
pub fn open_decoder(src: &Source, cfg: DecoderConfig) -> CliResult<Decoder> {
    validate(&cfg)?;
    match Decoder::open(cfg) {
        Ok(dec) => Ok(dec),
        Err(e) => Err(prefer_input_error(src, e).into()),
    }
}

/// The engine that would decode `src` with `cfg`, asked of the registry from the engines'
/// probes without opening a decoder (the route of a job depends on it: NVDEC reads a file
/// ahead on several sessions). Errors as [`open_decoder`]'s.
pub fn decode_engine(src: &Source, cfg: &DecoderConfig) -> CliResult<Engine> {
    validate(cfg)?;
    video_hw::registry::decode_engine(cfg).map_err(|e| prefer_input_error(src, e).into())
}

/// Options that make no sense for decoding are usage errors (exit 2).
fn validate(cfg: &DecoderConfig) -> CliResult<()> {
    cfg.validate().map_err(|e| match e {
        Error::InvalidInput(why) => usage(why),
        other => Failure::Video(other),
    })
}

/// When an engine refuses the stream (`Unsupported`) but the stream's headers are broken
/// anyway, the input is the problem: its error (exit 4) is reported, the refusal noted.
fn prefer_input_error(src: &Source, e: Error) -> Error {
    prefer_input_error_of(&src.header_check(), e)
}

/// [`prefer_input_error`] with the input's [`HeaderCheck`] (once the source has gone to
/// a pipeline).
pub fn prefer_input_error_of(headers: &HeaderCheck, e: Error) -> Error {
    let Error::Unsupported { what, .. } = &e else { return e };
    match headers.header_error() {
        Some(bad) => with_note(bad, &format!("also unsupported here: {what}")),
        None => e,
    }
}

/// Adds `note` to the message of an input error (same kind, same exit status).
pub fn with_note(e: Error, note: &str) -> Error {
    match e {
        Error::InvalidBitstream { offset, reason } => Error::invalid_bitstream(offset, format!("{reason} ({note})")),
        Error::InvalidInput(reason) => Error::invalid_input(format!("{reason} ({note})")),
        other => other,
    }
}

/// How long the job waits for a frame at a time: how soon it sees a stop.
pub(crate) const POLL: Duration = Duration::from_millis(100);
/// After SIGINT/SIGTERM, how long without a frame before the pipeline is given up on: its
/// thread is blocked reading an input that sends nothing (stdin, a pipe), which no signal
/// interrupts; the frames received are the output, which is then finished.
pub(crate) const STUCK: Duration = Duration::from_secs(1);

/// A decode running in a pipeline.
pub struct Decoding {
    pipeline: DecodePipeline,
    /// Given up on after a stop (see [`STUCK`]): not drained, not joined.
    abandoned: AtomicBool,
    position: Arc<AtomicU64>,
    total: Option<u64>,
    broken: Arc<Mutex<Option<Error>>>,
    headers: HeaderCheck,
}

impl Decoding {
    /// Hands the source to a decode pipeline around `dec`.
    pub fn start(src: Source, dec: Decoder) -> CliResult<Decoding> {
        let headers = src.header_check();
        let (done, total) = src.progress();
        let position = Arc::new(AtomicU64::new(done));
        let broken = Arc::new(Mutex::new(None));
        let inputs = src.into_inputs(position.clone(), broken.clone(), None);
        let pipeline = DecodePipeline::spawn(dec, PipelineOptions::default(), Some(Box::new(inputs)))?;
        Ok(Decoding { pipeline, abandoned: AtomicBool::new(false), position, total, broken, headers })
    }

    /// The engine that runs, described.
    pub fn backend(&self) -> &str {
        self.pipeline.backend()
    }

    /// Stream facts from the decoder, once it has seen a sequence header.
    pub fn stream_info(&self) -> Option<StreamInfo> {
        self.pipeline.stream_info()
    }

    /// Ends the pipeline (everything was received) and returns its figures; the
    /// decoder's counters are in `decoder`.
    pub fn finish(self) -> CliResult<(PipelineStats, DecoderStats)> {
        if self.abandoned.load(Ordering::Relaxed) {
            // Its thread is blocked in a read that never returns: draining or dropping the
            // pipeline would join it and wait with it. The process ends right after the
            // job, which ends the thread; its figures are lost with it.
            std::mem::forget(self.pipeline);
            return Ok((PipelineStats::default(), DecoderStats::default()));
        }
        let report = self.pipeline.shutdown(Shutdown::Drain)?;
        let stats = report.stats.decoder.clone().unwrap_or_default();
        Ok((report.stats, stats))
    }
}

/// Receives every frame of the decode in output order and hands it to `on_frame`.
pub fn run(
    d: &Decoding,
    progress: &mut Progress,
    mut on_frame: impl FnMut(&Decoding, Frame) -> CliResult<()>,
) -> CliResult<DecodeEnd> {
    let mut frames = 0;
    let (mut last_frame, mut stop_seen) = (Instant::now(), None);
    loop {
        match d.pipeline.recv_timeout(POLL) {
            Ok(Some(frame)) => {
                on_frame(d, frame)?;
                frames += 1;
                last_frame = Instant::now();
                progress.update(d.position.load(Ordering::Relaxed), d.total, frames);
            }
            Ok(None) => break,
            Err(Error::Timeout(_)) => {
                // Stopped (the input no longer read), and nothing in flight comes out.
                let stopped = crate::signals::requested().map(|_| *stop_seen.get_or_insert_with(Instant::now));
                if stopped.is_some_and(|at| at.elapsed() >= STUCK) && last_frame.elapsed() >= STUCK {
                    d.abandoned.store(true, Ordering::Relaxed);
                    break;
                }
            }
            Err(e) => return Err(prefer_input_error_of(&d.headers, e).into()),
        }
    }
    progress.finish();
    Ok(DecodeEnd {
        damage: d.pipeline.take_bitstream_error(),
        broken: d.broken.lock().unwrap_or_else(|p| p.into_inner()).take(),
    })
}

/// The job's result from how the input ended: an error (exit 4) when it broke, when parts
/// were dropped as damaged, or when not one picture came out.
pub fn verdict(end: DecodeEnd, stats: &DecoderStats, frames: u64) -> CliResult<()> {
    if let Some(e) = end.broken {
        return Err(with_note(e, &format!("stopped there; the {frames} frame(s) before it were written")).into());
    }
    if end.damage.is_some() || stats.dropped > 0 {
        let e = end.damage.unwrap_or_else(|| Error::invalid_bitstream(0, "damaged input"));
        let note = format!("{} damaged part(s) dropped; {frames} frame(s) written", stats.dropped.max(1));
        return Err(with_note(e, &note).into());
    }
    if stats.concealed > 0 {
        // The engine found damage it repaired itself (NVDEC copies the reference
        // picture): every frame was written, but the input is damaged all the same.
        let e = Error::invalid_bitstream(0, "damaged input");
        let note =
            format!("{} damaged picture(s) concealed by the decoder; {frames} frame(s) written", stats.concealed);
        return Err(with_note(e, &note).into());
    }
    if frames == 0 {
        return Err(Error::invalid_bitstream(0, "no picture could be decoded from the input").into());
    }
    Ok(())
}

/// The framemd5 timebase: 1/frame rate from the stream's VUI, else from the container,
/// else 1/25 (what ffmpeg assumes for raw streams).
pub fn frame_timebase(info: Option<StreamInfo>, container_rate: Option<Rational>) -> Rational {
    info.and_then(|i| i.frame_rate)
        .or(container_rate)
        .filter(|r| r.num > 0 && r.den > 0)
        .map(|r| Rational::new(r.den, r.num).reduced())
        .unwrap_or(Rational::new(1, 25))
}
