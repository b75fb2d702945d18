//! An encoder and its output, opened at the first picture (its size and format decide the
//! session). The encoder runs in an encode pipeline on its own thread; this thread
//! converts pictures where needed, queues them (waiting while the pipeline's ring is full)
//! and writes packets to the output as they come out. Pictures in another format than
//! the first are converted with `video_hw::pixels::convert` (`transcode` uses [`conform`] too).

use std::path::{Path, PathBuf};

use video_hw::frame::HostFrame;
use video_hw::pipeline::{EncodePipeline, PipelineOptions, PipelineStats, QualityOptions, Shutdown};
use video_hw::pixels::convert::{YuvMatrix, host_to_i420};
use video_hw::{EncoderConfig, Error, Frame, FrameData, FrameOptions, PixelFormat, Rational, Result};

use video_hw::media::mux::MuxFormat;

use crate::io::output::{PacketSink, container_for, layout_for};
use crate::options::fragment::FragmentOpts;

/// A timebase for container output in which one frame is a whole number of ticks: 90 kHz when
/// it can be, else a multiple of the rate's numerator (at least 1000 ticks per second).
pub fn mp4_timebase(fps: Rational) -> Rational {
    let num = fps.num.clamp(1, u32::MAX as i64);
    if fps.den.checked_mul(90_000).is_some_and(|t| t % num == 0) {
        return Rational::MPEG_90K;
    }
    let k = (999 + num) / num;
    Rational::new(1, num.saturating_mul(k).min(u32::MAX as i64))
}

/// The open side of a job: the pipeline, the output, and the pictures' size and format.
struct Open {
    pipeline: EncodePipeline,
    sink: PacketSink,
    size: (u32, u32),
    format: PixelFormat,
}

/// An encode into one output.
pub struct EncodeJob {
    template: EncoderConfig,
    output: PathBuf,
    timebase: Option<Rational>,
    open: Option<Open>,
    frames: u64,
    bytes: u64,
    scratch: Vec<u8>,
    stats: Option<PipelineStats>,
    /// Write fragmented MP4 (to a file or to stdout) whatever the name says.
    fragmented: bool,
    /// The longest fragment of fragmented MP4 (`None`: cut at key frames only).
    frag_duration: Option<std::time::Duration>,
    /// Frames the ring between the reader and the encoder holds (`None`: the default, 8).
    ring_depth: Option<usize>,
    /// What to measure of the output's quality (`--psnr`, `--ssim`).
    quality: Option<QualityOptions>,
}

impl EncodeJob {
    /// A job that encodes with `template` (codec, rate control, engine, … and `fps`) into
    /// `output`; `timebase` is that of the pictures' timestamps, when they carry some.
    pub fn new(template: EncoderConfig, output: &Path, timebase: Option<Rational>) -> Self {
        EncodeJob {
            template,
            output: output.to_path_buf(),
            timebase,
            open: None,
            frames: 0,
            bytes: 0,
            scratch: Vec::new(),
            stats: None,
            fragmented: false,
            frag_duration: None,
            ring_depth: None,
            quality: None,
        }
    }

    /// Measures the output's quality against the pictures as they are encoded.
    pub fn quality(mut self, quality: Option<QualityOptions>) -> Self {
        self.quality = quality;
        self
    }

    /// Frames the ring between the caller and the encoder's thread holds: what absorbs a
    /// live input's jitter (a burst waits there while the encoder catches up).
    pub fn ring_depth(mut self, frames: Option<usize>) -> Self {
        self.ring_depth = frames;
        self
    }

    /// Writes fragmented MP4 (a `moof`+`mdat` per key frame and at most every
    /// `--frag-duration`, playable while it grows; to stdout too) instead of what the
    /// output's name asks for, when `--fragmented` says so.
    pub fn fragmented(mut self, opts: &FragmentOpts) -> Self {
        self.fragmented = opts.fragmented;
        self.frag_duration = Some(opts.frag_duration);
        self
    }

    /// The container written, `None` for Annex-B.
    fn container(&self) -> Option<MuxFormat> {
        if self.fragmented { Some(MuxFormat::FragmentedMp4) } else { container_for(&self.output) }
    }

    /// Opens the encoder pipeline for pictures like `frame`, then the output.
    fn open(&mut self, frame: &Frame) -> Result<()> {
        let mut cfg = self.template.clone();
        cfg.width = frame.width;
        cfg.height = frame.height;
        cfg.input_format = frame.format;
        cfg.layout = layout_for(&self.output);
        cfg.timebase = match (self.timebase, self.container().is_some()) {
            (Some(tb), _) => tb,
            (None, true) => mp4_timebase(cfg.fps),
            (None, false) => Rational::MPEG_90K,
        };
        // A size change mid-stream reopens the encoder (Annex-B output; MP4 refuses it below).
        let mut options = PipelineOptions::default().follow_size_changes(true).quality(self.quality);
        if let Some(depth) = self.ring_depth {
            // The packet queue must exceed the ring (PipelineOptions::input_depth).
            let packets = options.input_depth.max(depth + 4);
            options = options.queue_depth(depth).input_depth(packets);
        }
        let pipeline = EncodePipeline::open(cfg.clone(), options)?;
        let container = self.container();
        let sink = PacketSink::create(
            &self.output,
            container,
            cfg.codec,
            (cfg.width, cfg.height),
            cfg.timebase,
            cfg.fps,
            Vec::new(),
            self.frag_duration,
        )?;
        self.open = Some(Open { pipeline, sink, size: (cfg.width, cfg.height), format: cfg.input_format });
        Ok(())
    }

    /// Encodes one picture (queued to the encoder's thread; packets ready by then are written).
    pub fn push(&mut self, frame: Frame) -> Result<()> {
        if self.open.is_none() {
            self.open(&frame)?;
        }
        let in_container = self.container().is_some();
        let Some(open) = self.open.as_mut() else { return Ok(()) };
        if (frame.width, frame.height) != open.size && in_container {
            return Err(Error::unsupported(
                format!("a picture size change ({}x{}) in container output", frame.width, frame.height),
                "one video size per file; write .h264/.h265 instead",
            ));
        }
        let frame = match conform(&frame, open.format, &mut self.scratch)? {
            Some(converted) => converted,
            None => frame,
        };
        let options = FrameOptions { pts: frame.pts, force_keyframe: false };
        let (sink, bytes) = (&mut open.sink, &mut self.bytes);
        open.pipeline.submit_and_drain(frame, options, |p| {
            *bytes += p.data.len() as u64;
            sink.write(&p)
        })?;
        self.frames += 1;
        Ok(())
    }

    /// The engine that runs, once open.
    pub fn backend(&self) -> Option<String> {
        self.open.as_ref().map(|o| o.pipeline.backend())
    }

    /// Pictures encoded.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The encode pipeline's figures, once finished.
    pub fn stats(&self) -> Option<&PipelineStats> {
        self.stats.as_ref()
    }

    /// Drains the encoder and finishes the output; returns the bytes written (packets).
    pub fn finish(&mut self) -> Result<u64> {
        let Some(Open { pipeline, mut sink, .. }) = self.open.take() else { return Ok(0) };
        let drained = pipeline.shutdown(Shutdown::Drain)?;
        for p in &drained.items {
            self.bytes += p.data.len() as u64;
            sink.write(p)?;
        }
        sink.finish()?;
        self.stats = Some(drained.stats);
        Ok(self.bytes)
    }
}

/// `frame` in `want` (host memory), when it is not already: device frames are downloaded,
/// 8-bit formats converted to I420 when the encoder takes I420. `None` when usable as is.
pub(crate) fn conform(frame: &Frame, want: PixelFormat, scratch: &mut Vec<u8>) -> Result<Option<Frame>> {
    if frame.format == want && matches!(frame.data, FrameData::Host(_)) {
        return Ok(None);
    }
    let host = frame.to_host()?;
    let converted = if frame.format == want {
        host.into_owned()
    } else if want == PixelFormat::Yuv420p && frame.format.bit_depth() == 8 {
        let matrix = YuvMatrix::for_color(&frame.color)?;
        host_to_i420(&host, frame.format, frame.width, frame.height, &matrix, scratch)?;
        HostFrame::from_packed(want, frame.width, frame.height, std::mem::take(scratch))?
    } else {
        return Err(Error::unsupported(
            format!("converting {} pictures to {want} mid-stream", frame.format),
            "the encoder was opened for the first picture's format",
        ));
    };
    let mut out = Frame::host(want, frame.width, frame.height, converted);
    out.pts = frame.pts;
    out.color = frame.color;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp4_timebases_hold_whole_frames() {
        assert_eq!(mp4_timebase(Rational::new(25, 1)), Rational::MPEG_90K);
        assert_eq!(mp4_timebase(Rational::new(30000, 1001)), Rational::MPEG_90K);
        assert_eq!(mp4_timebase(Rational::new(24000, 1001)), Rational::new(1, 24000));
        assert_eq!(mp4_timebase(Rational::new(7, 1)), Rational::new(1, 1001));
        let odd = mp4_timebase(Rational::new(4_000_000_000, 4_000_000_001));
        assert!(odd.den > 0 && odd.den <= u32::MAX as i64);
    }
}
