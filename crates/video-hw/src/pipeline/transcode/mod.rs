//! [`Transcode`]: a decode pipeline feeding an encode pipeline through one ring, so the
//! two sessions run at the same time on their own threads; built with a
//! [`TranscodeBuilder`] when frames are transformed on the way, the encoder configured
//! from the first frame, tracks of the source copied to the output, or the frames decoded
//! elsewhere.

mod frames;
mod output;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::decode::{DecodeInput, DecodePipeline, FrameTransform};
use super::encode::{EncodePipeline, OpenHooks, Session};
use super::ring::RingConfig;
use super::{FrameRing, PipelineOptions, PipelineStats};
use crate::bitstream::access_unit::StreamInfo;
use crate::config::{DecoderConfig, EncoderConfig};
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::packet::Packet;
pub use output::{CopySender, PacketFn, TranscodeOutput};

/// Figures of a transcode.
#[derive(Debug, Clone, Default)]
pub struct TranscodeStats {
    /// The decode side (its queue is the ring between the two).
    pub decode: PipelineStats,
    /// The encode side (the same ring, seen by its consumer).
    pub encode: PipelineStats,
    /// Frames that went from the decoder to the encoder.
    pub frames: u64,
    /// Bytes of encoded video handed to the output.
    pub bytes: u64,
    /// Packets of copied tracks handed to the output.
    pub copied: u64,
    /// Since the transcode started.
    pub elapsed: Duration,
    /// `frames / elapsed`.
    pub fps: f64,
}

/// How a transcode ended, side by side: what [`Transcode::end`] returns.
#[derive(Debug)]
pub struct TranscodeEnd {
    /// The figures at the end.
    pub stats: TranscodeStats,
    /// The decode side's error (the decoder, its source, the transform), if it failed.
    pub decode_error: Option<Error>,
    /// The encode side's error (the encoder, or the output's own error as it is), if it
    /// failed.
    pub encode_error: Option<Error>,
    /// The first damaged part of the input the decoder dropped and went on after.
    pub damage: Option<Error>,
}

impl TranscodeEnd {
    /// The figures, or the first error (the decoder's if both sides failed).
    pub fn result(self) -> Result<TranscodeStats> {
        if let (Some(d), Some(e)) = (&self.decode_error, &self.encode_error) {
            tracing::debug!("transcode: encoder also failed after the decoder: {e} (decoder: {d})");
        }
        match self.decode_error.or(self.encode_error) {
            Some(e) => Err(e),
            None => Ok(self.stats),
        }
    }
}

/// What the encoder's configuration is completed from, once the first frame is there
/// (see [`TranscodeBuilder::configure`]).
#[derive(Debug)]
pub struct FirstFrame<'a> {
    /// The first frame, as the transform left it.
    pub frame: &'a Frame,
    /// The decoder's stream facts (frame rate, colour, …), once it has seen a sequence
    /// header; `None` for frames decoded elsewhere.
    pub stream: Option<StreamInfo>,
}

type Configure = Box<dyn FnOnce(&FirstFrame<'_>, &mut EncoderConfig) -> Result<()> + Send>;

/// Sets up a [`Transcode`]: the encoder's configuration, the pipelines' options, and
/// optionally a transform between the sessions, a hook that completes the encoder's
/// configuration from the first frame, and tracks copied from the source to the output.
///
/// ```no_run
/// use video_hw::media::{Demuxer, TrackKind};
/// use video_hw::pipeline::{DecodeInput, PacketFn, Transcode};
/// use video_hw::{Codec, DecoderConfig, EncoderConfig, Output, Rational};
///
/// let mut demuxer = Demuxer::open("in.mp4")?;
/// let video = demuxer.video_track().cloned().expect("a video track");
/// let codec = video.codec.video().expect("a video codec");
/// let audio: Vec<usize> =
///     demuxer.tracks().iter().filter(|t| t.kind == TrackKind::Audio).map(|t| t.index).collect();
/// let mut builder = Transcode::builder(EncoderConfig::new(Codec::H264, 16, 16)) // size from the stream
///     .transform(|frame| Ok(Some(frame))) // convert, scale, drop (None) frames here
///     .configure(|first, config| {
///         // The stream's own rate, else 25.
///         config.fps = first.stream.as_ref().and_then(|s| s.frame_rate).unwrap_or(Rational::new(25, 1));
///         Ok(())
///     });
/// let copies = builder.copy_sender(None);
/// let record = DecodeInput::track_record(&video);
/// let source = std::iter::from_fn(move || loop {
///     let packet = demuxer.next_packet().transpose()?;
///     match packet {
///         Ok(p) if p.track == video.index => return Some(Ok(DecodeInput::from_media(record.as_ref(), p))),
///         Ok(p) if audio.contains(&p.track) => drop(copies.send(p)), // to the output, in order
///         Ok(_) => {}
///         Err(e) => return Some(Err(e)),
///     }
/// });
/// let mut out = Vec::new();
/// let job = builder.start(
///     DecoderConfig::new(codec).output(Output::HOST_YUV420P),
///     source,
///     PacketFn::new(move |packet| Ok(out.extend_from_slice(&packet.data))),
/// )?;
/// let stats = job.wait()?;
/// println!("{} frames, {} bytes, {} audio packets", stats.frames, stats.bytes, stats.copied);
/// # Ok::<(), video_hw::Error>(())
/// ```
pub struct TranscodeBuilder {
    encoder: EncoderConfig,
    options: PipelineOptions,
    transform: Option<FrameTransform>,
    configure: Option<Configure>,
    copies: Option<(CopySender, std::sync::mpsc::Receiver<crate::media::MediaPacket>)>,
}

impl std::fmt::Debug for TranscodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscodeBuilder")
            .field("encoder", &self.encoder)
            .field("options", &self.options)
            .field("transform", &self.transform.is_some())
            .field("configure", &self.configure.is_some())
            .field("copies", &self.copies.is_some())
            .finish()
    }
}

impl TranscodeBuilder {
    /// Sets the options of both pipelines (the ring's depth and memory, the encoder's
    /// `follow_size_changes` and `quality`, …).
    pub fn options(mut self, options: PipelineOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs `transform` on every decoded frame, on the decoder's thread, before it goes
    /// into the ring: the frame to encode (converted, scaled, retimed), or `None` to drop
    /// it. The encoder is sized by the first frame it returns. Its error stops the
    /// transcode and comes back as it is.
    pub fn transform(mut self, transform: impl FnMut(Frame) -> Result<Option<Frame>> + Send + 'static) -> Self {
        self.transform = Some(Box::new(transform));
        self
    }

    /// Completes the encoder's configuration from the first frame before the encoder
    /// opens (on the encoder's thread): the width, height and input format are the
    /// frame's already; set the rate, time base, layout, … here. Its error stops the
    /// transcode.
    pub fn configure(
        mut self,
        configure: impl FnOnce(&FirstFrame<'_>, &mut EncoderConfig) -> Result<()> + Send + 'static,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }

    /// A sender for packets of the source's other tracks (audio, subtitles) to copy to
    /// the output ([`TranscodeOutput::copied`]), in the order sent. `ahead` bounds the
    /// packets waiting for the output (the sender then blocks; `None`: no bound), as
    /// the first call sets it; later calls clone that sender. A bound is for a reader on
    /// a thread of its own: the source iterator sending there would block the decoder,
    /// and so the video packets whose arrival hands the copied ones over.
    pub fn copy_sender(&mut self, ahead: Option<usize>) -> CopySender {
        self.copies.get_or_insert_with(|| output::CopySender::channel(ahead)).0.clone()
    }

    /// Opens the decoder (errors come back here) and starts both workers: the decoder's
    /// pulls `source` until it ends. See [`start_with_decoder`](Self::start_with_decoder).
    pub fn start<I>(
        self,
        decoder: DecoderConfig,
        source: I,
        output: impl TranscodeOutput + 'static,
    ) -> Result<Transcode>
    where
        I: IntoIterator<Item = Result<DecodeInput>>,
        I::IntoIter: Send + 'static,
    {
        let decoder = Decoder::open(decoder)?;
        self.start_with_decoder(decoder, source, output)
    }

    /// Starts both workers around an open `decoder`. Its worker pulls `source` (an error
    /// of the source ends the input: the frames before it are decoded and encoded, then
    /// the transcode fails with it and the output is not finished; a source that wants a
    /// finished output after a break ends instead, keeping the error itself) and pushes the frames through the transform into the
    /// ring; the encoder's worker opens the encoder with the first frame, and hands the
    /// packets to `output`.
    pub fn start_with_decoder<I>(
        self,
        decoder: Decoder,
        source: I,
        output: impl TranscodeOutput + 'static,
    ) -> Result<Transcode>
    where
        I: IntoIterator<Item = Result<DecodeInput>>,
        I::IntoIter: Send + 'static,
    {
        self.options.validate()?;
        let memory = super::decode::output_memory(self.options.memory, &decoder);
        let ring =
            FrameRing::with_config(RingConfig::new(self.options.queue_depth).memory(memory).name("transcode ring"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut source = source.into_iter();
        let stopped = stop.clone();
        // A stop ends the input at the next item (an item being read is waited for).
        let inputs = std::iter::from_fn(move || if stopped.load(Ordering::SeqCst) { None } else { source.next() });
        let transform = self.transform;
        let decode =
            DecodePipeline::spawn_into(decoder, self.options.clone(), Some(Box::new(inputs)), ring.clone(), transform)?;
        let shared = decode.shared().clone();
        let stream = move || shared.stream_info();
        let rest =
            Rest { encoder: self.encoder, options: self.options, configure: self.configure, copies: self.copies };
        rest.launch(Producer::Decode(decode), ring, stop, Box::new(stream), Box::new(output))
    }

    /// Starts a transcode of frames decoded elsewhere (a
    /// [`FrameReader`](crate::reader::FrameReader) reading ahead on several sessions, a
    /// [`SegmentedDecode`](super::SegmentedDecode), generated pictures): a worker pulls
    /// `frames` and pushes them through the transform into the ring, the encoder's
    /// worker encodes them as [`start_with_decoder`](Self::start_with_decoder)'s does.
    /// An error of `frames` ends the input there: the frames before it are encoded, then
    /// the transcode fails with it (the output not finished).
    pub fn start_from_frames<I>(self, frames: I, output: impl TranscodeOutput + 'static) -> Result<Transcode>
    where
        I: IntoIterator<Item = Result<Frame>>,
        I::IntoIter: Send + 'static,
    {
        self.options.validate()?;
        let ring = FrameRing::with_config(
            RingConfig::new(self.options.queue_depth).memory(self.options.memory).name("transcode ring"),
        )?;
        let stop = Arc::new(AtomicBool::new(false));
        let feeder = frames::Feeder::spawn(Box::new(frames.into_iter()), ring.clone(), self.transform, stop.clone())?;
        let rest =
            Rest { encoder: self.encoder, options: self.options, configure: self.configure, copies: self.copies };
        rest.launch(Producer::Frames(feeder), ring, stop, Box::new(|| None), Box::new(output))
    }
}

/// What is left of a builder once the decode side runs.
struct Rest {
    encoder: EncoderConfig,
    options: PipelineOptions,
    configure: Option<Configure>,
    copies: Option<(CopySender, std::sync::mpsc::Receiver<crate::media::MediaPacket>)>,
}

impl Rest {
    /// Starts the encoder's worker on `ring`, fed by `producer` (already running: its
    /// frames wait in the ring), its packets to `output`; `stream` tells the decoder's
    /// stream facts.
    fn launch(
        self,
        producer: Producer,
        ring: FrameRing,
        stop: Arc<AtomicBool>,
        stream: Box<dyn Fn() -> Option<StreamInfo> + Send>,
        output: Box<dyn TranscodeOutput>,
    ) -> Result<Transcode> {
        // The builder's sender goes: the end waits only for the caller's.
        let copies = self.copies.map(|(_, rx)| rx);
        let out = output::Shared::new(output, copies);
        let configure = self.configure;
        let hooks = OpenHooks {
            configure: Box::new(move |frame, config| match configure {
                Some(f) => f(&FirstFrame { frame, stream: stream() }, config),
                None => Ok(()),
            }),
            opened: {
                let out = out.clone();
                Box::new(move |config| out.start(config))
            },
        };
        let sink = {
            let out = out.clone();
            move |packet: Packet| out.packet(packet)
        };
        let encode = EncodePipeline::spawn(
            Session::SizedWith(self.encoder, hooks),
            self.options,
            Some(Box::new(sink)),
            Some(ring.clone()),
        )?;
        Ok(Transcode { producer, encode, ring, out, stop, detached: false, started: Instant::now() })
    }
}

/// The decode side of a transcode.
enum Producer {
    /// A decode pipeline pushing into the ring.
    Decode(DecodePipeline),
    /// Frames decoded elsewhere, pushed by a feeder.
    Frames(frames::Feeder),
}

impl Producer {
    fn status(&self) -> &super::Status {
        match self {
            Producer::Decode(d) => d.status(),
            Producer::Frames(f) => f.status(),
        }
    }

    fn join(&mut self) -> Result<()> {
        match self {
            Producer::Decode(d) => d.join(),
            Producer::Frames(f) => f.join(),
        }
    }

    fn detach(&mut self) {
        match self {
            Producer::Decode(d) => d.detach(),
            Producer::Frames(f) => f.detach(),
        }
    }

    fn stats(&self) -> PipelineStats {
        match self {
            Producer::Decode(d) => d.stats(),
            Producer::Frames(f) => f.stats(),
        }
    }

    fn backend(&self) -> &str {
        match self {
            Producer::Decode(d) => d.backend(),
            Producer::Frames(_) => "frames",
        }
    }
}

/// Decoding and encoding at the same time: the decoder's worker pulls the source and
/// pushes frames into a [`FrameRing`], the encoder's worker takes them from it (opening
/// the encoder with the first frame's size and pixel format) and hands packets to the
/// output. A full ring holds the decoder back; an error on either side stops both.
///
/// [`Transcode::start`] takes a function for the packets; [`Transcode::builder`] adds a
/// transform between the sessions, an encoder configured from the first frame, tracks
/// copied from the source, an output that is opened, fed and finished
/// ([`TranscodeOutput`]), and frames decoded elsewhere. While it runs: [`stats`](Self::stats),
/// [`stop`](Self::stop) (finish early, the output complete), [`cancel`](Self::cancel)
/// (drop everything); at the end [`wait`](Self::wait) or [`end`](Self::end).
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
pub struct Transcode {
    // Dropped in this order: the decode side first (cancelling the ring), then the encoder.
    producer: Producer,
    encode: EncodePipeline,
    ring: FrameRing,
    out: Arc<output::Shared>,
    stop: Arc<AtomicBool>,
    /// The decode side was let go ([`abandon_input`](Self::abandon_input)).
    detached: bool,
    started: Instant,
}

impl std::fmt::Debug for Transcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcode")
            .field("decoder", &self.decoder_backend())
            .field("encoder", &self.encode)
            .field("ring", &self.ring)
            .finish()
    }
}

impl Transcode {
    /// A builder for a transcode encoding with `encoder` (its width, height and input
    /// format are replaced by the first frame's).
    pub fn builder(encoder: EncoderConfig) -> TranscodeBuilder {
        TranscodeBuilder {
            encoder,
            options: PipelineOptions::default(),
            transform: None,
            configure: None,
            copies: None,
        }
    }

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
        Transcode::builder(encoder).options(options).start(decoder, source, PacketFn(sink))
    }

    /// Waits for both workers to finish, joins them and finishes the output
    /// ([`TranscodeOutput::finish`]). The first error of either side (the decoder's if
    /// both failed) is returned; see [`end`](Self::end) for both.
    pub fn wait(self) -> Result<TranscodeStats> {
        self.end().result()
    }

    /// Waits for both workers to finish and joins them (not a decode side let go by
    /// [`abandon_input`](Self::abandon_input)); when neither failed, finishes the output.
    /// Returns the figures, each side's error and the first damage the decoder skipped.
    pub fn end(mut self) -> TranscodeEnd {
        let joined_decode = if self.detached { Ok(()) } else { self.producer.join() };
        let joined_encode = self.encode.join();
        let decode_error = joined_decode.err().or_else(|| self.producer.status().outcome.lock().error.take());
        let encode_error = joined_encode.err().or_else(|| self.encode.status().outcome.lock().error.take());
        // The output's own error, as it is, in place of the stand-in the encoder saw.
        let mut encode_error = self.out.take_error().or(encode_error);
        if decode_error.is_none() && encode_error.is_none() {
            let stopped = self.stop.load(Ordering::SeqCst);
            encode_error = self.out.finish(stopped).err();
        }
        let damage = match &self.producer {
            Producer::Decode(d) => d.take_bitstream_error(),
            Producer::Frames(_) => None,
        };
        TranscodeEnd { stats: self.stats(), decode_error, encode_error, damage }
    }

    /// Figures so far.
    pub fn stats(&self) -> TranscodeStats {
        let decode = self.producer.stats();
        let encode = self.encode.stats();
        let elapsed = self.started.elapsed();
        let frames = encode.frames;
        TranscodeStats {
            frames,
            bytes: self.out.bytes(),
            copied: self.out.copied(),
            elapsed,
            fps: super::decode::rate(frames, elapsed),
            decode,
            encode,
        }
    }

    /// Whether both sides have finished (the encoder's worker has: it ends after the
    /// decode side, or after an error of either), so [`wait`](Self::wait) will not block
    /// on them.
    pub fn is_finished(&self) -> bool {
        self.encode.status().finished.lock().at.is_some()
    }

    /// Waits up to `timeout` for [`is_finished`](Self::is_finished); returns it.
    pub fn finished_within(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            if self.is_finished() {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(left.min(Duration::from_millis(5)));
        }
    }

    /// Ends the input early: the decode side reads no more of its source (after the item
    /// it is reading), the frames decoded so far are encoded, and the output is finished
    /// with the copied packets already sent (not waiting for their senders). For a source
    /// that may block indefinitely (a socket, a pipe), follow with
    /// [`abandon_input`](Self::abandon_input) if no frame comes.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Lets the decode side go without waiting for it (it is blocked reading its source,
    /// which nothing interrupts): the frames already in the ring are encoded and the
    /// output finished, as after [`stop`](Self::stop). The decode worker ends by itself
    /// when its source returns; its figures stop where they were.
    pub fn abandon_input(&mut self) {
        self.stop();
        self.producer.detach();
        self.detached = true;
        // The encoder sees the end of its input.
        self.ring.close();
    }

    /// The decoder that runs, described (`frames` for frames decoded elsewhere).
    pub fn decoder_backend(&self) -> &str {
        self.producer.backend()
    }

    /// The encoder that runs, described (empty until the first frame opened it).
    pub fn encoder_backend(&self) -> String {
        self.encode.backend()
    }

    /// The configuration the encoder opened with (`None` until the first frame opened it).
    pub fn encoder_config(&self) -> Option<EncoderConfig> {
        self.out.config()
    }

    /// The decode side's status (for [`finished`](Self::finished)).
    pub(in crate::pipeline) fn decode_status(&self) -> &super::Status {
        self.producer.status()
    }

    /// The encode side's status.
    pub(in crate::pipeline) fn encode_status(&self) -> &super::Status {
        self.encode.status()
    }

    /// Stops both sides without finishing (queued frames and packets are dropped, the
    /// output is not finished) and joins both threads.
    pub fn cancel(self) -> TranscodeStats {
        let stats = self.stats();
        drop(self);
        stats
    }
}
