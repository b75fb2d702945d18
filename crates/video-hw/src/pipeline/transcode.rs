//! [`Transcode`]: a decode pipeline feeding an encode pipeline through one ring, so the
//! two sessions run at the same time on their own threads.

use std::time::{Duration, Instant};

use super::decode::{DecodeInput, DecodePipeline};
use super::encode::{EncodePipeline, Session};
use super::ring::RingConfig;
use super::{FrameRing, PipelineOptions, PipelineStats};
use crate::config::{DecoderConfig, EncoderConfig};
use crate::decoder::Decoder;
use crate::error::Result;
use crate::packet::Packet;

/// Figures of a transcode.
#[derive(Debug, Clone, Default)]
pub struct TranscodeStats {
    /// The decode side (its queue is the ring between the two).
    pub decode: PipelineStats,
    /// The encode side (the same ring, seen by its consumer).
    pub encode: PipelineStats,
    /// Frames that went from the decoder to the encoder.
    pub frames: u64,
    /// Since the transcode started.
    pub elapsed: Duration,
    /// `frames / elapsed`.
    pub fps: f64,
}

/// Decoding and encoding at the same time: the decoder's worker pulls the source and
/// pushes frames into a [`FrameRing`], the encoder's worker takes them from it (opening
/// the encoder with the first frame's size and pixel format) and hands packets to the
/// sink. A full ring holds the decoder back; an error on either side stops both.
///
/// ```no_run
/// use std::io::Write;
/// use video_hw::pipeline::{DecodeInput, PipelineOptions, Transcode};
/// use video_hw::{Codec, DecoderConfig, EncoderConfig, Output, RateControl};
///
/// let source = DecodeInput::read_annexb(std::fs::File::open("in.h264")?, 1 << 16);
/// let mut out = std::io::BufWriter::new(std::fs::File::create("out.h264")?);
/// let job = Transcode::start(
///     DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P),
///     EncoderConfig::new(Codec::H264, 16, 16).rate_control(RateControl::Cbr { bitrate: 2_000_000 }), // size from the stream
///     PipelineOptions::default(),
///     source,
///     move |packet| Ok(out.write_all(&packet.data)?),
/// )?;
/// let stats = job.wait()?;
/// println!("{} frames, {:.1} fps, ring peak {}", stats.frames, stats.fps, stats.decode.queue.peak);
/// # Ok::<(), video_hw::Error>(())
/// ```
#[derive(Debug)]
pub struct Transcode {
    decode: DecodePipeline,
    encode: EncodePipeline,
    started: Instant,
}

impl Transcode {
    /// Opens the decoder (errors come back here), then starts both workers. The
    /// encoder's width, height and input format come from the first decoded frame; the
    /// rest of `encoder` is used as given. `sink` is called on the encoder's thread.
    pub fn start<I>(
        decoder: DecoderConfig,
        encoder: EncoderConfig,
        options: PipelineOptions,
        source: I,
        sink: impl FnMut(Packet) -> Result<()> + Send + 'static,
    ) -> Result<Transcode>
    where
        I: IntoIterator<Item = Result<DecodeInput>>,
        I::IntoIter: Send + 'static,
    {
        options.validate()?;
        let decoder = Decoder::open(decoder)?;
        let memory = super::decode::output_memory(options.memory, &decoder);
        let ring = FrameRing::with_config(RingConfig::new(options.queue_depth).memory(memory).name("transcode ring"))?;
        let encode = EncodePipeline::spawn(
            Session::SizedByFirstFrame(encoder),
            options.clone(),
            Some(Box::new(sink)),
            Some(ring.clone()),
        )?;
        let decode = DecodePipeline::spawn_into(decoder, options, Some(Box::new(source.into_iter())), ring)?;
        Ok(Transcode { decode, encode, started: Instant::now() })
    }

    /// Waits for both workers to finish and joins them. The first error of either side
    /// (the decoder's if both failed) is returned.
    pub fn wait(mut self) -> Result<TranscodeStats> {
        let joined_decode = self.decode.join();
        let joined_encode = self.encode.join();
        let decode_error = self.decode.status().outcome.lock().error.take();
        let encode_error = self.encode.status().outcome.lock().error.take();
        if let (Some(d), Some(e)) = (&decode_error, &encode_error) {
            tracing::debug!("transcode: encoder also failed after the decoder: {e} (decoder: {d})");
        }
        joined_decode?;
        joined_encode?;
        match decode_error.or(encode_error) {
            Some(e) => Err(e),
            None => Ok(self.stats()),
        }
    }

    /// Figures so far.
    pub fn stats(&self) -> TranscodeStats {
        let decode = self.decode.stats();
        let encode = self.encode.stats();
        let elapsed = self.started.elapsed();
        let frames = encode.frames;
        TranscodeStats { frames, elapsed, fps: super::decode::rate(frames, elapsed), decode, encode }
    }

    /// The decoder that runs, described.
    pub fn decoder_backend(&self) -> &str {
        self.decode.backend()
    }

    /// The encoder that runs, described (empty until the first frame opened it).
    pub fn encoder_backend(&self) -> String {
        self.encode.backend()
    }

    /// The decode side's status (for [`finished`](Self::finished)).
    pub(super) fn decode_status(&self) -> &super::Status {
        self.decode.status()
    }

    /// The encode side's status.
    pub(super) fn encode_status(&self) -> &super::Status {
        self.encode.status()
    }

    /// Stops both sides without finishing (queued frames and packets are dropped) and
    /// joins both threads.
    pub fn cancel(self) -> TranscodeStats {
        let stats = self.stats();
        drop(self);
        stats
    }
}
