//! Running a decoder over a [`Source`]: feed, reap, flush, and keep account of damage, so
//! that a stream that breaks midway still yields every frame before the break and the
//! job ends with exit 4 saying what was lost.

use video_hw::{Decoder, DecoderConfig, DecoderStats, Error, Frame, Rational};

use crate::exit::{CliResult, Failure, usage};
use crate::input::{Feed, Source};
use crate::progress::Progress;

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
    cfg.validate().map_err(|e| match e {
        Error::InvalidInput(why) => usage(why),
        other => Failure::Video(other),
    })?;
    match Decoder::open(cfg) {
        Ok(dec) => Ok(dec),
        Err(e) => Err(prefer_input_error(src, e).into()),
    }
}

/// When an engine refuses the stream (`Unsupported`) but the stream's headers are broken
/// anyway, the input is the problem: its error (exit 4) is reported, the refusal noted.
fn prefer_input_error(src: &Source, e: Error) -> Error {
    let Error::Unsupported { what, .. } = &e else { return e };
    match src.header_error() {
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

/// Decodes the whole source, handing every frame to `on_frame` in output order.
pub fn run(
    src: &mut Source,
    dec: &mut Decoder,
    progress: &mut Progress,
    mut on_frame: impl FnMut(&Decoder, Frame) -> CliResult<()>,
) -> CliResult<DecodeEnd> {
    let mut end = DecodeEnd::default();
    loop {
        let fed = src.feed(dec).map_err(|e| prefer_input_error(src, e))?;
        match fed {
            Feed::More => {}
            Feed::End => break,
            Feed::Damaged(e) => {
                end.damage.get_or_insert(e);
            }
            Feed::Broken(e) => {
                end.broken = Some(e);
                break;
            }
        }
        while let Some(frame) = dec.try_reap()? {
            on_frame(dec, frame)?;
        }
        let (done, total) = src.progress();
        progress.update(done, total, dec.stats().frames_out);
    }
    match dec.flush() {
        Ok(frames) => {
            for frame in frames {
                on_frame(dec, frame)?;
            }
        }
        Err(e @ Error::InvalidBitstream { .. }) => {
            end.damage.get_or_insert(e);
        }
        Err(e) => return Err(e.into()),
    }
    progress.finish();
    Ok(end)
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
    if frames == 0 {
        return Err(Error::invalid_bitstream(0, "no picture could be decoded from the input").into());
    }
    Ok(())
}

/// The framemd5 timebase: 1/frame rate from the stream's VUI, else from the container,
/// else 1/25 (what ffmpeg assumes for raw streams).
pub fn frame_timebase(dec: &Decoder, container_rate: Option<Rational>) -> Rational {
    dec.stream_info()
        .and_then(|i| i.frame_rate)
        .or(container_rate)
        .filter(|r| r.num > 0 && r.den > 0)
        .map(|r| crate::mp4in::reduce(Rational::new(r.den, r.num)))
        .unwrap_or(Rational::new(1, 25))
}
