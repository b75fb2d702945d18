//! [`DecodePipeline`]: a decoder on its own thread, frames out through a [`FrameRing`].

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::ring::{Coalescer, Queue, RingConfig, RingMemory};
use super::{Drained, FrameRing, PipelineOptions, PipelineStats, Shutdown, Status};
use crate::bitstream::access_unit::StreamInfo;
use crate::bitstream::avcc::DecoderConfigRecord;
use crate::config::{DecoderConfig, FrameOptions};
use crate::decoder::{Decoder, DecoderStats, Input};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::output::OutputScope;
use crate::frame::{DeviceApi, Frame};
use crate::media::{MediaPacket, Track};
use crate::metrics::Telemetry;

/// Input of a [`DecodePipeline`]: what [`Input`] describes, owned, so it can cross to
/// the pipeline's thread.
///
/// ```
/// use video_hw::pipeline::DecodeInput;
/// let chunk = DecodeInput::annexb(vec![0, 0, 0, 1, 0x67], 0);
/// assert!(matches!(chunk, DecodeInput::AnnexB { pts: Some(0), .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeInput {
    /// Annex-B bytes, split anywhere.
    AnnexB {
        /// The bytes.
        data: Vec<u8>,
        /// Timestamp of the first access unit that starts in them.
        pts: Option<i64>,
    },
    /// One access unit of raw NAL units.
    AccessUnit {
        /// The NAL units, headers included.
        nals: Vec<Vec<u8>>,
        /// The access unit's timestamp.
        pts: Option<i64>,
    },
    /// One length-prefixed (MP4) sample and its configuration record.
    LengthPrefixed {
        /// The sample.
        sample: Vec<u8>,
        /// Its `avcC`/`hvcC` record (shared: it rarely changes).
        record: Arc<DecoderConfigRecord>,
        /// The sample's timestamp.
        pts: Option<i64>,
    },
    /// One complete packet: an AV1 temporal unit, a VP9 frame, or one Annex-B access
    /// unit (see [`Input::Packet`]).
    Packet {
        /// The packet.
        data: Vec<u8>,
        /// Its timestamp.
        pts: Option<i64>,
    },
    /// Drain: every frame of the input before it comes out before any frame after it, and
    /// the decoder then takes a new stream (as [`Decoder::flush`]); for one pipeline
    /// decoding several streams one after the other.
    Flush,
}

impl DecodeInput {
    /// Annex-B bytes with an optional timestamp.
    pub fn annexb(data: impl Into<Vec<u8>>, pts: impl Into<Option<i64>>) -> Self {
        DecodeInput::AnnexB { data: data.into(), pts: pts.into() }
    }

    /// The `avcC`/`hvcC` record of `track`, if it has one (H.264/HEVC from MP4 or
    /// Matroska), shared between its packets: for [`DecodeInput::from_media`].
    pub fn track_record(track: &Track) -> Option<Arc<DecoderConfigRecord>> {
        track.config.record().cloned().map(Arc::new)
    }

    /// A demuxed packet in the form its container gives it (as [`Input::from_media`]): a
    /// length-prefixed sample with its track's `record` ([`DecodeInput::track_record`]) where
    /// the track has one, a whole packet otherwise.
    pub fn from_media(record: Option<&Arc<DecoderConfigRecord>>, packet: MediaPacket) -> Self {
        match record {
            Some(record) => {
                DecodeInput::LengthPrefixed { sample: packet.data, record: Arc::clone(record), pts: packet.pts }
            }
            None => DecodeInput::Packet { data: packet.data, pts: packet.pts },
        }
    }

    /// Reads Annex-B bytes from `reader` in chunks of `chunk_size` (at least 1 KiB), as
    /// a pipeline source. A read error ends the stream with that error.
    ///
    /// ```
    /// use video_hw::pipeline::DecodeInput;
    /// let chunks: Vec<_> = DecodeInput::read_annexb(&[0u8; 3000][..], 1024).collect::<Result<_, _>>()?;
    /// assert_eq!(chunks.len(), 3);
    /// # Ok::<(), video_hw::Error>(())
    /// ```
    pub fn read_annexb<R: Read + Send + 'static>(
        mut reader: R,
        chunk_size: usize,
    ) -> impl Iterator<Item = Result<DecodeInput>> + Send + 'static {
        let chunk_size = chunk_size.max(1024);
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let mut buf = vec![0u8; chunk_size];
            let mut filled = 0;
            while filled < chunk_size {
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => {
                        done = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        done = true;
                        return Some(Err(Error::Io(e)));
                    }
                }
            }
            buf.truncate(filled);
            (!buf.is_empty()).then(|| Ok(DecodeInput::annexb(buf, None)))
        })
    }

    /// Feeds this input to `decoder`.
    pub(crate) fn submit_to(&self, decoder: &mut Decoder) -> Result<()> {
        match self {
            DecodeInput::AnnexB { data, pts } => decoder.submit(Input::annexb(data, *pts)),
            DecodeInput::AccessUnit { nals, pts } => {
                let refs: Vec<&[u8]> = nals.iter().map(Vec::as_slice).collect();
                decoder.submit(Input::access_unit(&refs, *pts))
            }
            DecodeInput::LengthPrefixed { sample, record, pts } => {
                decoder.submit(Input::length_prefixed(sample, record, *pts))
            }
            DecodeInput::Packet { data, pts } => decoder.submit(Input::packet(data, *pts)),
            // The worker drains the decoder itself (`run`): it delivers the frames.
            DecodeInput::Flush => Err(Error::invalid_input("a flush is the pipeline worker's to carry out")),
        }
    }
}

/// Where a decode worker's input comes from.
pub(crate) enum Source {
    /// `submit` calls.
    Queue(Arc<Queue<DecodeInput>>),
    /// An iterator, pulled on the worker's thread.
    Iter(Box<dyn Iterator<Item = Result<DecodeInput>> + Send>),
}

impl Source {
    /// The queue the input comes from (`None` for an iterator, which may block anywhere).
    fn queue(&self) -> Option<&Queue<DecodeInput>> {
        match self {
            Source::Queue(q) => Some(q),
            Source::Iter(_) => None,
        }
    }

    /// The next input; `Ok(None)` at the end (or when cancelled).
    fn next(&mut self) -> Result<Option<DecodeInput>> {
        match self {
            Source::Queue(q) => match q.pop(None) {
                Err(Error::Closed(_)) => Ok(None),
                other => other,
            },
            Source::Iter(it) => it.next().transpose().map_err(|e| e.context("decode pipeline: reading input")),
        }
    }
}

/// What the caller side and the worker share.
pub(crate) struct Shared {
    pub(crate) status: Status,
    telemetry: Arc<Telemetry>,
    final_stats: Mutex<Option<DecoderStats>>,
    stream_info: Mutex<Option<StreamInfo>>,
}

impl Shared {
    /// Stream facts from the decoder, once it has seen a sequence header.
    pub(crate) fn stream_info(&self) -> Option<StreamInfo> {
        self.stream_info.lock().clone()
    }
}

/// What a [`super::Transcode`] does to each decoded frame on the decode worker, before it
/// goes into the ring: the frame to pass on, or `None` to drop it.
pub(crate) type FrameTransform = Box<dyn FnMut(Frame) -> Result<Option<Frame>> + Send>;

/// A [`Decoder`] running on its own thread; decoded frames wait in a [`FrameRing`]
/// until received. Feed it with [`submit`](Self::submit) (from another thread than the
/// one receiving, or alternating with [`recv_timeout`](Self::recv_timeout)), or give it
/// a source iterator that the worker pulls ([`open_with_source`](Self::open_with_source)).
///
/// Host frames are built by the engine straight in the ring's reusable buffers where it
/// can (OpenH264, NVDEC host NV12), so steady-state decoding allocates no frame memory.
/// With CUDA output on NVDEC (and [`RingMemory::Auto`]) the ring's buffers are device
/// memory of the decoder's GPU: NVDEC's copy out of its surface writes a free slot
/// directly, and a frame it had to put in its own buffer (every slot lent out, in the
/// middle of a call) is copied into a slot before it is queued (counted in
/// [`RingStats::adopted`](super::RingStats::adopted)). So the device memory decoded
/// frames wait in is the ring's `slots`, however long the consumer keeps them: with
/// every slot held, the worker waits.
///
/// ```no_run
/// use video_hw::pipeline::{DecodeInput, DecodePipeline, PipelineOptions, Shutdown};
/// use video_hw::{Codec, DecoderConfig};
///
/// let pipeline = DecodePipeline::open(DecoderConfig::new(Codec::H264), PipelineOptions::default())?;
/// let stream = std::fs::read("clip.h264")?;
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         for chunk in stream.chunks(1 << 16) {
///             pipeline.submit(DecodeInput::annexb(chunk, None))?; // blocks when the ring is full
///         }
///         pipeline.end_input();
///         Ok::<_, video_hw::Error>(())
///     });
///     while let Some(frame) = pipeline.recv()? {
///         println!("pts {:?}", frame.pts);
///     }
///     Ok::<_, video_hw::Error>(())
/// })?;
/// let report = pipeline.shutdown(Shutdown::Drain)?;
/// println!("{} frames at {:.1} fps", report.stats.frames, report.stats.fps);
/// # Ok::<(), video_hw::Error>(())
/// ```
pub struct DecodePipeline {
    input: Option<Arc<Queue<DecodeInput>>>,
    output: FrameRing,
    shared: Arc<Shared>,
    worker: Option<crate::worker_threads::Worker>,
    timeout: Option<Duration>,
    description: String,
    engine: Engine,
    _sampler: Option<crate::metrics::GpuSampler>,
}

impl std::fmt::Debug for DecodePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodePipeline").field("backend", &self.description).field("ring", &self.output).finish()
    }
}

impl DecodePipeline {
    /// Opens a decoder for `config` (on this thread, so opening errors come back here)
    /// and starts its worker, fed by [`submit`](Self::submit).
    pub fn open(config: DecoderConfig, options: PipelineOptions) -> Result<Self> {
        DecodePipeline::spawn(Decoder::open(config)?, options, None)
    }

    /// Opens a decoder for `config` and starts its worker, which pulls its input from
    /// `source` until it ends (see [`DecodeInput::read_annexb`]). A source error stops
    /// the pipeline with that error.
    pub fn open_with_source<I>(config: DecoderConfig, options: PipelineOptions, source: I) -> Result<Self>
    where
        I: IntoIterator<Item = Result<DecodeInput>>,
        I::IntoIter: Send + 'static,
    {
        DecodePipeline::spawn(Decoder::open(config)?, options, Some(Box::new(source.into_iter())))
    }

    /// Starts a worker around an open `decoder`, fed by `source` or, for `None`, by
    /// [`submit`](Self::submit).
    pub fn spawn(
        decoder: Decoder,
        options: PipelineOptions,
        source: Option<Box<dyn Iterator<Item = Result<DecodeInput>> + Send>>,
    ) -> Result<Self> {
        options.validate()?;
        let memory = output_memory(options.memory, &decoder);
        let ring =
            FrameRing::with_config(RingConfig::new(options.queue_depth).memory(memory).name("decode pipeline output"))?;
        DecodePipeline::spawn_into(decoder, options, source, ring, None)
    }

    /// Starts a worker that pushes its frames into `ring` (a [`super::Transcode`]'s),
    /// each through `transform` first when there is one.
    pub(crate) fn spawn_into(
        decoder: Decoder,
        options: PipelineOptions,
        source: Option<Box<dyn Iterator<Item = Result<DecodeInput>> + Send>>,
        ring: FrameRing,
        transform: Option<FrameTransform>,
    ) -> Result<Self> {
        options.validate()?;
        let telemetry = decoder.telemetry().clone();
        let labels = telemetry.labels();
        ring.queue().set_depth_gauge(::metrics::gauge!(crate::metrics::QUEUE_DEPTH,
            "queue" => "decode_out", labels[0].0 => labels[0].1, labels[1].0 => labels[1].1, labels[2].0 => labels[2].1));
        let (input, source) = match source {
            Some(it) => (None, Source::Iter(it)),
            None => {
                let q = Arc::new(Queue::new("decode pipeline input", options.input_depth));
                (Some(q.clone()), Source::Queue(q))
            }
        };
        let description = decoder.backend().to_string();
        let engine = decoder.engine();
        let sampler = super::gpu_sampler(engine, decoder.config().device_index);
        let shared = Arc::new(Shared {
            status: Status::new("decode pipeline"),
            telemetry,
            final_stats: Mutex::new(None),
            stream_info: Mutex::new(None),
        });
        let worker = {
            let (shared, shared_done) = (shared.clone(), shared.clone());
            let (ring, ring_done) = (ring.clone(), ring.clone());
            let input_done = input.clone();
            super::spawn_worker(
                "decode",
                move || {
                    let mut decoder = decoder;
                    let mut source = source;
                    let mut transform = transform;
                    let r = run(&mut decoder, &mut source, &ring, &shared, &mut transform);
                    *shared.final_stats.lock() = Some(decoder.stats());
                    r
                },
                move |r| {
                    if let Err(e) = r {
                        shared_done.status.fail(e);
                    }
                    // Error first, then the end: the consumer drains, then sees the error.
                    shared_done.status.finish();
                    ring_done.close();
                    if let Some(q) = input_done {
                        drop(q.cancel());
                    }
                },
            )?
        };
        Ok(DecodePipeline {
            input,
            output: ring,
            shared,
            worker: Some(worker),
            timeout: options.timeout,
            description,
            engine,
            _sampler: sampler,
        })
    }

    /// Queues `input` for the worker, waiting (up to the pipeline's timeout) while the
    /// input queue is full. Fails with the worker's error once it has stopped on one, or
    /// [`Error::Closed`] after [`end_input`](Self::end_input); `InvalidInput` for a
    /// pipeline fed by a source.
    pub fn submit(&self, input: DecodeInput) -> Result<()> {
        let q = self.input.as_ref().ok_or_else(|| Error::invalid_input("this decode pipeline reads its own source"))?;
        q.push(input, self.timeout).map_err(|(e, _)| match e {
            Error::Closed(_) => self.shared.status.closed(e),
            e => e,
        })
    }

    /// No more input: the worker decodes what is queued, flushes the decoder and ends
    /// the frame stream.
    pub fn end_input(&self) {
        if let Some(q) = &self.input {
            q.close();
        }
    }

    /// The next frame, waiting up to the pipeline's timeout. `Ok(None)` at the end of
    /// the stream. The worker's error comes here, after the frames decoded before it.
    pub fn recv(&self) -> Result<Option<Frame>> {
        self.recv_inner(self.timeout)
    }

    /// The next frame, waiting up to `timeout` ([`Error::Timeout`] when none came).
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<Frame>> {
        self.recv_inner(Some(timeout))
    }

    fn recv_inner(&self, timeout: Option<Duration>) -> Result<Option<Frame>> {
        match self.output.pop(timeout) {
            Ok(Some(frame)) => {
                self.shared.status.arrivals.lock().tick();
                Ok(Some(frame))
            }
            Ok(None) => self.shared.status.take_error().map_or(Ok(None), Err),
            Err(e @ Error::Closed(_)) => Err(self.shared.status.closed(e)),
            Err(e) => Err(e),
        }
    }

    /// The frames as an iterator: ends at the end of the stream; an error is the last item.
    pub fn frames(&self) -> impl Iterator<Item = Result<Frame>> + '_ {
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let r = self.recv().transpose();
            failed = matches!(r, Some(Err(_)));
            r
        })
    }

    /// Stream facts from the active sequence parameter set, once the decoder has seen one
    /// (set before the first frame of that stream is delivered).
    pub fn stream_info(&self) -> Option<StreamInfo> {
        self.shared.stream_info.lock().clone()
    }

    /// The first damaged-input error the decoder dropped and went on after, if any (taken:
    /// a second call returns `None`; [`PipelineStats::bitstream_error`] keeps its text).
    pub fn take_bitstream_error(&self) -> Option<Error> {
        self.shared.status.damage.lock().take()
    }

    /// The ring the frames wait in.
    pub fn ring(&self) -> &FrameRing {
        &self.output
    }

    /// The engine that runs, described.
    pub fn backend(&self) -> &str {
        &self.description
    }

    /// The engine that runs.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Figures so far: frames, fps, queue depth and peak, frame interval and jitter,
    /// the decoder's stage times.
    pub fn stats(&self) -> PipelineStats {
        let mut stats = PipelineStats {
            backend: self.description.clone(),
            queue: self.output.stats(),
            timings: self.shared.telemetry.timings(),
            decoder: self.shared.final_stats.lock().clone(),
            ..PipelineStats::default()
        };
        self.shared.status.fill(&mut stats);
        stats.frames = stats.queue.popped;
        stats.fps = rate(stats.frames, stats.elapsed);
        stats
    }

    /// Stops the pipeline and joins its thread. [`Shutdown::Drain`]: ends the input,
    /// waits for everything submitted to be decoded and returns the frames not yet
    /// received (in order); [`Shutdown::Cancel`]: drops queued input and frames. The
    /// worker's error, if it failed and the error was not yet received, is returned.
    pub fn shutdown(mut self, mode: Shutdown) -> Result<Drained<Frame>> {
        let mut items = Vec::new();
        match mode {
            Shutdown::Drain => {
                self.end_input();
                while let Ok(Some(f)) = self.output.pop(None) {
                    self.shared.status.arrivals.lock().tick();
                    items.push(f);
                }
            }
            Shutdown::Cancel => self.cancel(),
        }
        super::join("decode", self.worker.take())?;
        let stats = self.stats();
        match self.shared.status.outcome.lock().error.take() {
            Some(e) => Err(e),
            None => Ok(Drained { items, stats }),
        }
    }

    /// Waits for the worker to end on its own (a source-fed pipeline whose ring is
    /// consumed elsewhere, as in a [`super::Transcode`]) and joins it.
    pub(crate) fn join(&mut self) -> Result<()> {
        super::join("decode", self.worker.take())
    }

    pub(crate) fn status(&self) -> &Status {
        &self.shared.status
    }

    /// Lets the worker go without waiting for it (blocked in its source, which no signal
    /// interrupts): it ends when its source returns, finding the ring closed. Its figures
    /// stop at what they were.
    pub(crate) fn detach(&mut self) {
        self.shared.status.cancel();
        // Seen as finished from now on (by `Transcode::finished` too).
        self.shared.status.finish();
        drop(self.worker.take());
    }

    /// The input queue `submit` feeds (`None` for a pipeline reading its own source).
    pub(crate) fn input_queue(&self) -> Option<&Arc<Queue<DecodeInput>>> {
        self.input.as_ref()
    }

    /// What the caller side and the worker share.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Cancels the pipeline without waiting for its worker, which stops at its next step
    /// and drops the decoder on its own thread: for a drop in async code, which must not
    /// block.
    pub(crate) fn cancel_detached(mut self) {
        self.cancel();
        drop(self.worker.take());
    }

    fn cancel(&self) {
        self.shared.status.cancel();
        if let Some(q) = &self.input {
            drop(q.cancel());
        }
        self.output.cancel();
    }
}

impl Drop for DecodePipeline {
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.cancel();
            let _ = super::join("decode", self.worker.take());
        }
    }
}

/// The memory of the ring a `decoder` delivers into: for [`RingMemory::Auto`], device
/// memory of its GPU when it gives CUDA frames (NVDEC's own, or a CPU engine's uploaded);
/// `memory` otherwise.
pub(crate) fn output_memory(memory: RingMemory, decoder: &Decoder) -> RingMemory {
    let cuda_output = decoder.config().output.device_api() == Some(DeviceApi::Cuda);
    match memory {
        RingMemory::Auto if cuda_output => RingMemory::Cuda { device: decoder.config().device_index },
        other => other,
    }
}

pub(crate) fn rate(frames: u64, elapsed: Duration) -> f64 {
    let s = elapsed.as_secs_f64();
    if s > 0.0 { frames as f64 / s } else { 0.0 }
}

/// The worker: input → decoder → ring, then flush. Returns quietly when cancelled or
/// when the ring's consumer went away. A source error still flushes the decoder (the
/// frames before the break come out) and is returned after.
fn run(
    decoder: &mut Decoder,
    source: &mut Source,
    ring: &FrameRing,
    shared: &Shared,
    transform: &mut Option<FrameTransform>,
) -> Result<()> {
    let status = &shared.status;
    // Engines build host frames in the ring's free buffers.
    let _output = OutputScope::enter(ring.frame_slots());
    let mut inputs: u64 = 0;
    let context = |inputs: u64| format!("decode pipeline, input #{inputs} (after {} frames)", ring.stats().pushed);
    let mut broken = None;
    // Frames of quick inputs with more input queued are pushed quietly (see Coalescer); the
    // consumer is woken before the worker may wait, and by the plain pushes of the flush.
    let mut coalescer = Coalescer::new();
    let output = ring.queue();
    loop {
        if status.is_cancelled() {
            return Ok(());
        }
        coalescer.before_input(source.queue(), output);
        let input = match source.next() {
            Ok(Some(input)) => input,
            Ok(None) => break,
            Err(e) => {
                broken = Some(e);
                break;
            }
        };
        inputs += 1;
        coalescer.started();
        if matches!(input, DecodeInput::Flush) {
            if !drain(decoder, ring, shared, &mut coalescer, transform, inputs)? {
                return Ok(());
            }
            continue;
        }
        match input.submit_to(decoder) {
            Ok(()) => {}
            Err(e @ Error::InvalidBitstream { .. }) => status.note_bitstream_error(e),
            Err(e) => return Err(e.context(context(inputs))),
        }
        publish_stream_info(decoder, shared);
        while let Some(frame) = decoder.try_reap().map_err(|e| e.context(context(inputs)))? {
            let Some(frame) = transformed(transform, frame)? else { continue };
            if !deliver(ring, frame, &mut coalescer, source.queue())? {
                return Ok(());
            }
        }
    }
    if !drain(decoder, ring, shared, &mut coalescer, transform, inputs)? {
        return Ok(());
    }
    broken.map_or(Ok(()), Err)
}

/// Flushes the decoder and delivers every frame it still held, each through `transform`
/// (at the end of the input, or for a [`DecodeInput::Flush`]); `Ok(false)` when cancelled
/// or the consumer went away.
fn drain(
    decoder: &mut Decoder,
    ring: &FrameRing,
    shared: &Shared,
    coalescer: &mut Coalescer,
    transform: &mut Option<FrameTransform>,
    inputs: u64,
) -> Result<bool> {
    let status = &shared.status;
    coalescer.flush(ring.queue());
    if status.is_cancelled() {
        return Ok(false);
    }
    let frames = match decoder.flush() {
        Ok(frames) => frames,
        Err(e @ Error::InvalidBitstream { .. }) => {
            status.note_bitstream_error(e);
            Vec::new()
        }
        Err(e) => return Err(e.context(format!("decode pipeline, flush after {inputs} inputs"))),
    };
    publish_stream_info(decoder, shared);
    for frame in frames {
        let Some(frame) = transformed(transform, frame)? else { continue };
        if !deliver(ring, frame, coalescer, None)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `frame` through `transform`, if there is one (its error as it is: the caller's own).
fn transformed(transform: &mut Option<FrameTransform>, frame: Frame) -> Result<Option<Frame>> {
    match transform {
        Some(t) => t(frame),
        None => Ok(Some(frame)),
    }
}

/// Makes the decoder's stream facts visible to the caller (before the frames they describe).
fn publish_stream_info(decoder: &Decoder, shared: &Shared) {
    let info = decoder.stream_info();
    let mut published = shared.stream_info.lock();
    if info.is_some() && *published != info {
        *published = info;
    }
}

/// Pushes a frame (a CUDA frame outside a device ring's slots moved into one first),
/// quietly where `coalescer` allows it for `input` (the worker then wakes the consumer
/// itself); `Ok(false)` when the consumer cancelled the ring.
fn deliver(
    ring: &FrameRing,
    frame: Frame,
    coalescer: &mut Coalescer,
    input: Option<&Queue<DecodeInput>>,
) -> Result<bool> {
    let frame = match ring.adopt_with(frame, None, || coalescer.flush(ring.queue())) {
        Ok(frame) => frame,
        Err(Error::Closed(_)) => return Ok(false),
        Err(e) => return Err(e.context("decode pipeline, copying a CUDA frame into a ring slot")),
    };
    // The frame is dropped here, outside the queue's lock, when the push fails.
    match coalescer.push(input, ring.queue(), (frame, FrameOptions::default())).map_err(|(e, _item)| e) {
        Ok(()) => Ok(true),
        Err(Error::Closed(_)) => Ok(false),
        Err(e) => Err(e),
    }
}
