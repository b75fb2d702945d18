//! What `transcode` hands the library's [`Transcode`]: the transform between the sessions
//! (the edit list's pre-roll left out, pictures converted to `--pix-fmt` and to the
//! encoder's first format), the encoder's configuration completed from the first frame
//! (rate and time base), the output ([`Output`]: Annex-B or a container with the source's
//! audio copied in), and the wait for the end (progress, SIGINT/SIGTERM).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use video_hw::frame::HostFrame;
use video_hw::media::mux::MuxFormat;
use video_hw::media::{MediaPacket, Track};
use video_hw::pipeline::{PipelineOptions, Transcode, TranscodeBuilder, TranscodeEnd, TranscodeOutput};
use video_hw::pixels::pix_fmt::{self, Exact};
use video_hw::{EncoderConfig, Error, Frame, FrameData, Packet, PixelFormat, Rational, Result};

use crate::commands::decode::pipeline::{POLL, STUCK};
use crate::commands::encode::job::{conform, mp4_timebase};
use crate::io::input::Window;
use crate::io::output::{PacketSink, container_for, layout_for};
use crate::options::transcode::TranscodeArgs;
use crate::report::progress::Progress;

/// The container written, `None` for Annex-B.
fn container(args: &TranscodeArgs) -> Option<MuxFormat> {
    if args.frag.fragmented { Some(MuxFormat::FragmentedMp4) } else { container_for(&args.output) }
}

/// The transcode of `args`, encoding with `cfg`: the encoder opens with the first frame,
/// at `--fps`, else the stream's rate (the decoder's, else `rate`), else 25; timestamps
/// in `timebase` when the input has some. `window` leaves out the frames an edit list
/// hides; `untimed` drops the frames' timestamps (the encoder then spaces them at the rate).
pub fn builder(
    args: &TranscodeArgs,
    cfg: EncoderConfig,
    rate: Option<Rational>,
    timebase: Option<Rational>,
    window: Option<Window>,
    untimed: bool,
) -> TranscodeBuilder {
    let in_container = container(args).is_some();
    let fps = args.fps;
    let layout = layout_for(&args.output);
    // A size change mid-stream reopens the encoder (Annex-B output; a container refuses it
    // in the transform).
    let options = PipelineOptions::default().follow_size_changes(true).quality(args.encode.quality());
    let mut convert = Convert { exact: args.pix_fmt, in_container, first: None, scratch: Vec::new() };
    Transcode::builder(cfg)
        .options(options)
        .transform(move |mut frame| {
            // Pre-roll an MP4 edit list skips is decoded, not encoded.
            if window.is_some_and(|w| !w.shows(frame.pts)) {
                return Ok(None);
            }
            if untimed {
                frame.pts = None;
            }
            convert.apply(frame).map(Some)
        })
        .configure(move |first, cfg| {
            let rate = first.stream.as_ref().and_then(|s| s.frame_rate).or(rate);
            cfg.fps =
                fps.or(rate).filter(|r| r.num > 0 && r.den > 0 && r.as_f64() <= 1000.0).unwrap_or(Rational::new(25, 1));
            cfg.layout = layout;
            cfg.timebase = match (timebase, in_container) {
                (Some(tb), _) => tb,
                (None, true) => mp4_timebase(cfg.fps),
                (None, false) => Rational::MPEG_90K,
            };
            Ok(())
        })
}

/// Pictures made fit for the encoder: to `--pix-fmt`'s depth and layout, and to the
/// format of the first (the encoder's).
struct Convert {
    exact: Option<Exact>,
    in_container: bool,
    first: Option<((u32, u32), PixelFormat)>,
    scratch: Vec<u8>,
}

impl Convert {
    fn apply(&mut self, frame: Frame) -> Result<Frame> {
        let frame = match self.exact {
            Some(exact) if frame.format.is_yuv() => to_exact(frame, exact, &mut self.scratch)?,
            _ => frame,
        };
        let (size, format) = *self.first.get_or_insert(((frame.width, frame.height), frame.format));
        if (frame.width, frame.height) != size && self.in_container {
            return Err(Error::unsupported(
                format!("a picture size change ({}x{}) in container output", frame.width, frame.height),
                "one video size per file; write .h264/.h265 instead",
            ));
        }
        Ok(conform(&frame, format, &mut self.scratch)?.unwrap_or(frame))
    }
}

/// Where the packets go: Annex-B, or a container holding the video and the source's
/// `copied` tracks, created when the encoder has opened.
pub struct Output {
    path: PathBuf,
    container: Option<MuxFormat>,
    copied: Vec<Track>,
    frag_duration: Option<Duration>,
    sink: Option<PacketSink>,
}

impl Output {
    /// The output of `args`, copying `copied` (source tracks) into a container.
    pub fn new(args: &TranscodeArgs, copied: Vec<Track>) -> Self {
        Output {
            path: args.output.clone(),
            container: container(args),
            copied,
            frag_duration: Some(args.frag.frag_duration),
            sink: None,
        }
    }

    fn sink(&mut self) -> Result<&mut PacketSink> {
        self.sink.as_mut().ok_or_else(|| Error::invalid_input("the output is not open"))
    }
}

impl TranscodeOutput for Output {
    fn start(&mut self, c: &EncoderConfig) -> Result<()> {
        let copied = std::mem::take(&mut self.copied);
        let sink = PacketSink::create(
            &self.path,
            self.container,
            c.codec,
            (c.width, c.height),
            c.timebase,
            c.fps,
            copied,
            self.frag_duration,
        )?;
        self.sink = Some(sink);
        Ok(())
    }

    fn packet(&mut self, packet: Packet) -> Result<()> {
        self.sink()?.write(&packet)
    }

    fn copied(&mut self, packet: MediaPacket) -> Result<()> {
        self.sink()?.write_copied(packet)
    }

    fn finish(&mut self) -> Result<()> {
        self.sink.take().map_or(Ok(()), PacketSink::finish)
    }
}

/// Waits for `job` to end, showing progress (`position` tells the input read so far and
/// its size). SIGINT/SIGTERM stops the input: the frames read are encoded and the output
/// finished; an input that sends nothing (stdin, a pipe) and no frame for [`STUCK`] after
/// the stop is let go of.
/// Returns how it ended, and the picture size the encoder opened with (none without a frame).
pub fn wait(
    mut job: Transcode,
    quiet: bool,
    position: impl Fn() -> (u64, Option<u64>),
) -> (TranscodeEnd, Option<(u32, u32)>) {
    let mut progress = Progress::new(quiet, "bytes");
    let (mut frames, mut last_frame, mut stop_seen) = (0, Instant::now(), None);
    while !job.finished_within(POLL) {
        let now = job.stats().frames;
        if now != frames {
            (frames, last_frame) = (now, Instant::now());
        }
        let (done, total) = position();
        progress.update(done, total, frames);
        if crate::signals::requested().is_some() {
            job.stop();
            let at = *stop_seen.get_or_insert_with(Instant::now);
            if at.elapsed() >= STUCK && last_frame.elapsed() >= STUCK {
                job.abandon_input();
            }
        }
    }
    if crate::signals::requested().is_some() {
        // The copied tracks' readers may be blocked on their input: what came is written.
        job.stop();
    }
    progress.finish();
    let size = job.encoder_config().map(|c| (c.width, c.height));
    (job.end(), size)
}

/// The summary's encoder line: the engine, once a frame opened it.
pub fn encoder_name(end: &TranscodeEnd) -> Option<String> {
    Some(end.stats.encode.backend.clone()).filter(|b| !b.is_empty())
}

/// `frame` (4:2:0 of any depth and layout) as `exact` names it, in host memory.
fn to_exact(frame: Frame, exact: Exact, scratch: &mut Vec<u8>) -> Result<Frame> {
    let Some(format) = exact.format() else {
        return Err(Error::invalid_input(format!("encoding {} pictures (no chroma)", exact.name())));
    };
    let host = frame.to_host()?;
    scratch.clear();
    host.write_packed(scratch);
    let mut out = Vec::new();
    if !pix_fmt::convert(frame.format, frame.width, frame.height, scratch, exact, &mut out)? {
        if matches!(frame.data, FrameData::Host(_)) {
            return Ok(frame);
        }
        out = std::mem::take(scratch);
    }
    let pixels = HostFrame::from_packed(format, frame.width, frame.height, out)?;
    let mut converted = Frame::host(format, frame.width, frame.height, pixels);
    converted.pts = frame.pts;
    converted.color = frame.color;
    Ok(converted)
}
