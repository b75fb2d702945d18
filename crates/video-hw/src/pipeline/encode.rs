//! [`EncodePipeline`]: an encoder on its own thread, frames in through a [`FrameRing`].

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::quality::{QualityMeter, QualityOptions, QualityReport};
use super::ring::{Coalescer, Queue, RingConfig};
use super::{Drained, FrameRing, PipelineOptions, PipelineStats, Shutdown, Status};
use crate::bitstream::avcc::DecoderConfigRecord;
use crate::config::{EncoderConfig, FrameOptions, SwitchMode};
use crate::encoder::{Encoder, EncoderStats};
use crate::error::{Error, Result};
use crate::frame::{Frame, HostFrame};
use crate::metrics::Telemetry;
use crate::packet::{Packet, PacketLayout};

/// The ring of frames an encode worker takes its input from.
type FrameQueue = Queue<(Frame, FrameOptions)>;

/// Where an encode worker's packets go.
pub(crate) enum Sink {
    /// A queue the caller reads (`recv_packet`).
    Queue(Arc<Queue<Packet>>),
    /// A function called on the worker's thread.
    Call(Box<dyn FnMut(Packet) -> Result<()> + Send>),
}

impl Sink {
    /// The caller's queue, where packets go to one.
    fn queue(&self) -> Option<&Queue<Packet>> {
        match self {
            Sink::Queue(q) => Some(q),
            Sink::Call(_) => None,
        }
    }

    /// Delivers a packet, to a queue quietly where `coalescer` allows it for `input` (see
    /// `Coalescer`); `Ok(false)` when the caller cancelled.
    fn send(&mut self, packet: Packet, coalescer: &mut Coalescer, input: Option<&FrameQueue>) -> Result<bool> {
        match self {
            Sink::Queue(q) => match coalescer.push(input, q, packet) {
                Ok(()) => Ok(true),
                Err((Error::Closed(_), _)) => Ok(false),
                Err((e, _)) => Err(e),
            },
            Sink::Call(f) => f(packet).map(|()| true).map_err(|e| e.context("encode pipeline, packet sink")),
        }
    }
}

/// How the worker gets its encoder.
pub(crate) enum Session {
    /// Opened already.
    Open(Box<Encoder>),
    /// Opened on the first frame, with that frame's size and pixel format.
    SizedByFirstFrame(EncoderConfig),
    /// Opened on the first frame as [`Session::SizedByFirstFrame`], with the hooks of a
    /// [`super::Transcode`] around the opening.
    SizedWith(EncoderConfig, OpenHooks),
}

/// Completes an encoder's configuration from its first frame.
pub(crate) type ConfigureHook = Box<dyn FnOnce(&Frame, &mut EncoderConfig) -> Result<()> + Send>;
/// Told the configuration an encoder opened with.
pub(crate) type OpenedHook = Box<dyn FnOnce(&EncoderConfig) -> Result<()> + Send>;

/// What a [`super::Transcode`] adds to the opening of an encoder sized by its first frame.
pub(crate) struct OpenHooks {
    /// Completes the configuration from the first frame (its size and format already set)
    /// before the encoder opens.
    pub(crate) configure: ConfigureHook,
    /// Told the configuration the encoder opened with, before its first packet.
    pub(crate) opened: OpenedHook,
}

/// What the caller side and the worker share.
pub(super) struct Shared {
    pub(super) status: Status,
    telemetry: Mutex<Option<Arc<Telemetry>>>,
    description: Mutex<String>,
    final_stats: Mutex<Option<EncoderStats>>,
    final_record: Mutex<Option<DecoderConfigRecord>>,
    final_quality: Mutex<Option<QualityReport>>,
    follow_size_changes: bool,
    quality: Option<QualityOptions>,
}

/// An [`Encoder`] running on its own thread, fed through a [`FrameRing`]: take a
/// reusable (page-locked where possible) buffer with [`acquire`](Self::acquire), fill
/// it, [`submit`](Self::submit) it; packets come out of
/// [`recv_packet`](Self::recv_packet) or go to a function on the worker's thread
/// ([`open_with_sink`](Self::open_with_sink)).
///
/// ```no_run
/// use video_hw::pipeline::{EncodePipeline, PipelineOptions, Shutdown};
/// use video_hw::{Codec, EncoderConfig, Frame, FrameOptions, PixelFormat};
///
/// let cfg = EncoderConfig::new(Codec::H264, 1280, 720);
/// let mut out = Vec::new();
/// let pipeline = EncodePipeline::open(cfg, PipelineOptions::default())?;
/// for i in 0..300 {
///     let mut pixels = pipeline.acquire()?; // blocks while the encoder is `queue_depth` frames behind
///     pixels.as_bytes_mut().fill(i as u8);
///     let frame = Frame::host(PixelFormat::Yuv420p, 1280, 720, pixels);
///     pipeline.submit(frame, FrameOptions { pts: Some(i * 3000), force_keyframe: false })?;
///     while let Some(packet) = pipeline.try_recv_packet()? {
///         out.extend_from_slice(&packet.data);
///     }
/// }
/// for packet in pipeline.shutdown(Shutdown::Drain)?.items {
///     out.extend_from_slice(&packet.data);
/// }
/// # Ok::<(), video_hw::Error>(())
/// ```
pub struct EncodePipeline {
    input: FrameRing,
    packets: Option<Arc<Queue<Packet>>>,
    shared: Arc<Shared>,
    worker: Option<crate::worker_threads::Worker>,
    config: EncoderConfig,
    timeout: Option<Duration>,
    _sampler: Option<crate::metrics::GpuSampler>,
}

impl std::fmt::Debug for EncodePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodePipeline")
            .field("backend", &*self.shared.description.lock())
            .field("ring", &self.input)
            .finish()
    }
}

impl EncodePipeline {
    /// Opens an encoder for `config` (on this thread, so opening errors come back here)
    /// and starts its worker; packets are read with [`recv_packet`](Self::recv_packet).
    pub fn open(config: EncoderConfig, options: PipelineOptions) -> Result<Self> {
        let encoder = Encoder::open(config)?;
        EncodePipeline::spawn(Session::Open(Box::new(encoder)), options, None, None)
    }

    /// Like [`open`](Self::open), but every packet goes to `sink`, called on the
    /// worker's thread (an error from it stops the pipeline with that error).
    pub fn open_with_sink(
        config: EncoderConfig,
        options: PipelineOptions,
        sink: impl FnMut(Packet) -> Result<()> + Send + 'static,
    ) -> Result<Self> {
        let encoder = Encoder::open(config)?;
        EncodePipeline::spawn(Session::Open(Box::new(encoder)), options, Some(Box::new(sink)), None)
    }

    /// Starts a worker around an open `encoder`; `sink` as in
    /// [`open_with_sink`](Self::open_with_sink), or `None` for [`recv_packet`](Self::recv_packet).
    pub fn from_encoder(
        encoder: Encoder,
        options: PipelineOptions,
        sink: Option<Box<dyn FnMut(Packet) -> Result<()> + Send>>,
    ) -> Result<Self> {
        EncodePipeline::spawn(Session::Open(Box::new(encoder)), options, sink, None)
    }

    /// Starts a worker whose encoder opens when the first frame arrives, with that
    /// frame's width, height and pixel format in place of `config`'s (for streams whose
    /// size is known only once decoding started). Opening errors then come back from
    /// later calls.
    pub fn open_sized_by_first_frame(
        config: EncoderConfig,
        options: PipelineOptions,
        sink: Option<Box<dyn FnMut(Packet) -> Result<()> + Send>>,
    ) -> Result<Self> {
        EncodePipeline::spawn(Session::SizedByFirstFrame(config), options, sink, None)
    }

    pub(crate) fn spawn(
        session: Session,
        options: PipelineOptions,
        sink: Option<Box<dyn FnMut(Packet) -> Result<()> + Send>>,
        ring: Option<FrameRing>,
    ) -> Result<Self> {
        options.validate()?;
        let ring = match ring {
            Some(r) => r,
            None => FrameRing::with_config(
                RingConfig::new(options.queue_depth).memory(options.memory).name("encode pipeline input"),
            )?,
        };
        let (packets, sink) = match sink {
            Some(f) => (None, Sink::Call(f)),
            None => {
                let depth = options.input_depth.max(ring.slots() + 4);
                let q = Arc::new(Queue::new("encode pipeline output", depth));
                (Some(q.clone()), Sink::Queue(q))
            }
        };
        let (config, telemetry, description, sampler) = match &session {
            Session::Open(e) => {
                let sampler = super::gpu_sampler(e.engine(), e.config().device_index);
                (e.config().clone(), Some(e.telemetry().clone()), e.backend().to_string(), sampler)
            }
            Session::SizedByFirstFrame(c) | Session::SizedWith(c, _) => (c.clone(), None, String::new(), None),
        };
        if let Some(t) = &telemetry {
            set_depth_gauge(&ring, t);
        }
        let shared = Arc::new(Shared {
            status: Status::new("encode pipeline"),
            telemetry: Mutex::new(telemetry),
            description: Mutex::new(description),
            final_stats: Mutex::new(None),
            final_record: Mutex::new(None),
            final_quality: Mutex::new(None),
            follow_size_changes: options.follow_size_changes,
            quality: options.quality,
        });
        let acquire_config = config.clone();
        let worker = {
            let (shared, shared_done) = (shared.clone(), shared.clone());
            let (ring, ring_done) = (ring.clone(), ring.clone());
            let packets_done = packets.clone();
            super::spawn_worker(
                "encode",
                move || {
                    let (mut encoder, mut hooks) = match session {
                        Session::Open(e) => (Some(*e), None),
                        Session::SizedByFirstFrame(_) => (None, None),
                        Session::SizedWith(_, hooks) => (None, Some(hooks)),
                    };
                    let mut sink = sink;
                    let mut meter = Meter::new(shared.quality.map(|q| QualityMeter::new(config.codec, q)));
                    let mut opening = Opening { config: &config, hooks: &mut hooks };
                    let r = run(&mut encoder, &mut opening, &ring, &mut sink, &shared, &mut meter);
                    *shared.final_stats.lock() = encoder.as_ref().map(Encoder::stats);
                    *shared.final_record.lock() = encoder.as_ref().and_then(Encoder::config_record);
                    *shared.final_quality.lock() = meter.meter.map(QualityMeter::finish);
                    r
                },
                move |r| {
                    let failed = r.is_err();
                    if let Err(e) = r {
                        shared_done.status.fail(e);
                    }
                    shared_done.status.finish();
                    if failed {
                        // Producers blocked on the ring get `Closed` (mapped to the error).
                        ring_done.cancel();
                    }
                    if let Some(q) = packets_done {
                        q.close();
                    }
                },
            )?
        };
        Ok(EncodePipeline {
            input: ring,
            packets,
            shared,
            worker: Some(worker),
            config: acquire_config,
            timeout: options.timeout,
            _sampler: sampler,
        })
    }

    /// A reusable buffer for one input picture in the encoder's input format and size,
    /// waiting (up to the pipeline's timeout) while all are in use. Its contents are
    /// unspecified; fill every byte.
    pub fn acquire(&self) -> Result<HostFrame> {
        let c = &self.config;
        self.input.acquire(c.input_format, c.width, c.height, self.timeout).map_err(|e| self.closed(e))
    }

    /// For a pipeline whose ring is device memory ([`RingMemory::Cuda`](super::RingMemory::Cuda)
    /// in [`PipelineOptions::memory`]): a reusable device buffer for one input picture in
    /// the encoder's input format and size, as a CUDA frame (see
    /// [`FrameRing::acquire_cuda`]), waiting (up to the pipeline's timeout) while all are
    /// in use. Write it from your own CUDA code, finish that work, then
    /// [`submit`](Self::submit) it: NVENC copies it, device to device, into a surface of
    /// its own, so nothing crosses the PCIe bus. `InvalidInput` for a host ring.
    pub fn acquire_cuda(&self) -> Result<Frame> {
        let c = &self.config;
        self.input.acquire_cuda(c.input_format, c.width, c.height, self.timeout).map_err(|e| self.closed(e))
    }

    /// Queues `frame` for encoding with `options`, waiting (up to the pipeline's timeout)
    /// while the ring is full. Fails with the worker's error once it has stopped on one.
    /// Any host frame may be submitted; buffers from [`acquire`](Self::acquire) are
    /// recycled when the encoder is done with them.
    pub fn submit(&self, frame: Frame, options: FrameOptions) -> Result<()> {
        self.input.push_with(frame, options, self.timeout).map_err(|e| self.closed(e))
    }

    /// Like [`submit`](Self::submit), for a caller that also reads the packets on this
    /// thread: packets ready now, and those that come while waiting for room in the
    /// ring, go to `on_packet` (so a full packet queue can never wedge the two threads).
    /// `InvalidInput` for a pipeline with a sink.
    pub fn submit_and_drain(
        &self,
        frame: Frame,
        options: FrameOptions,
        mut on_packet: impl FnMut(Packet) -> Result<()>,
    ) -> Result<()> {
        let packets =
            self.packets.as_ref().ok_or_else(|| Error::invalid_input("this encode pipeline has a packet sink"))?;
        let deadline = self.timeout.and_then(|t| std::time::Instant::now().checked_add(t));
        let mut item = (frame, options);
        loop {
            while let Some(p) = self.try_recv_packet()? {
                on_packet(p)?;
            }
            match self.input.queue().push(item, Some(Duration::from_millis(5))) {
                Ok(()) => break,
                Err((Error::Timeout(_), back)) => {
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return Err(Error::Timeout(self.timeout.unwrap_or_default()));
                    }
                    item = back;
                    // Wait a little for a packet rather than spinning.
                    if let Ok(Some(p)) = packets.pop(Some(Duration::from_millis(5))) {
                        on_packet(p)?;
                    }
                }
                Err((e, _)) => return Err(self.closed(e)),
            }
        }
        while let Some(p) = self.try_recv_packet()? {
            on_packet(p)?;
        }
        Ok(())
    }

    fn closed(&self, e: Error) -> Error {
        match e {
            Error::Closed(_) => self.shared.status.closed(e),
            e => e,
        }
    }

    /// No more frames: the worker encodes what is queued, flushes the encoder and ends
    /// the packet stream.
    pub fn end_input(&self) {
        self.input.close();
    }

    /// The next packet, waiting up to the pipeline's timeout. `Ok(None)` at the end of
    /// the stream; the worker's error comes here after the packets made before it.
    /// `InvalidInput` for a pipeline with a sink.
    pub fn recv_packet(&self) -> Result<Option<Packet>> {
        self.recv_inner(self.timeout)
    }

    /// A packet if one is ready, without waiting (`Ok(None)` also at the end).
    pub fn try_recv_packet(&self) -> Result<Option<Packet>> {
        match self.recv_inner(Some(Duration::ZERO)) {
            Err(Error::Timeout(_)) => Ok(None),
            other => other,
        }
    }

    fn recv_inner(&self, timeout: Option<Duration>) -> Result<Option<Packet>> {
        let q = self.packets.as_ref().ok_or_else(|| Error::invalid_input("this encode pipeline has a packet sink"))?;
        match q.pop(timeout) {
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => self.shared.status.take_error().map_or(Ok(None), Err),
            Err(e) => Err(self.closed(e)),
        }
    }

    /// The ring frames wait in (to acquire buffers of another size, for an encoder
    /// sized by its first frame).
    pub fn ring(&self) -> &FrameRing {
        &self.input
    }

    /// The engine that runs, described (empty until an encoder sized by its first frame opened).
    pub fn backend(&self) -> String {
        self.shared.description.lock().clone()
    }

    /// Figures so far: frames, fps, queue depth and peak, frame interval and jitter at
    /// the encoder, the encoder's stage times.
    pub fn stats(&self) -> PipelineStats {
        let telemetry = self.shared.telemetry.lock().clone();
        let mut stats = PipelineStats {
            backend: self.backend(),
            queue: self.input.stats(),
            timings: telemetry.map(|t| t.timings()).unwrap_or_default(),
            encoder: self.shared.final_stats.lock().clone(),
            config_record: self.shared.final_record.lock().clone(),
            quality: self.shared.final_quality.lock().clone(),
            ..PipelineStats::default()
        };
        self.shared.status.fill(&mut stats);
        stats.frames = stats.queue.popped;
        stats.fps = super::decode::rate(stats.frames, stats.elapsed);
        stats
    }

    /// Stops the pipeline and joins its thread. [`Shutdown::Drain`]: ends the input,
    /// waits until every submitted frame is encoded and returns the packets not yet
    /// received (all of them for a pipeline with a sink: none); [`Shutdown::Cancel`]:
    /// drops queued frames and packets. The worker's error, if not yet received, is
    /// returned.
    pub fn shutdown(mut self, mode: Shutdown) -> Result<Drained<Packet>> {
        let mut items = Vec::new();
        match mode {
            Shutdown::Drain => {
                self.end_input();
                if let Some(q) = &self.packets {
                    while let Ok(Some(p)) = q.pop(None) {
                        items.push(p);
                    }
                }
            }
            Shutdown::Cancel => self.cancel(),
        }
        super::join("encode", self.worker.take())?;
        let stats = self.stats();
        match self.shared.status.outcome.lock().error.take() {
            Some(e) => Err(e),
            None => Ok(Drained { items, stats }),
        }
    }

    /// Waits for the worker to end on its own (its ring closed by a producer such as a
    /// [`super::Transcode`]'s decoder) and joins it.
    pub(crate) fn join(&mut self) -> Result<()> {
        super::join("encode", self.worker.take())
    }

    pub(crate) fn status(&self) -> &Status {
        &self.shared.status
    }

    /// The queue `recv_packet` reads (`None` for a pipeline with a packet sink).
    pub(crate) fn packet_queue(&self) -> Option<&Arc<Queue<Packet>>> {
        self.packets.as_ref()
    }

    /// What the caller side and the worker share.
    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Cancels the pipeline without waiting for its worker, which stops at its next step
    /// and drops the encoder on its own thread: for a drop in async code, which must not
    /// block.
    pub(crate) fn cancel_detached(mut self) {
        self.cancel();
        drop(self.worker.take());
    }

    fn cancel(&self) {
        self.shared.status.cancel();
        self.input.cancel();
        if let Some(q) = &self.packets {
            drop(q.cancel());
        }
    }
}

impl Drop for EncodePipeline {
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.cancel();
            let _ = super::join("encode", self.worker.take());
        }
    }
}

fn set_depth_gauge(ring: &FrameRing, t: &Telemetry) {
    let l = t.labels();
    ring.queue().set_depth_gauge(::metrics::gauge!(crate::metrics::QUEUE_DEPTH,
        "queue" => "encode_in", l[0].0 => l[0].1, l[1].0 => l[1].1, l[2].0 => l[2].1));
}

/// The worker: ring → encoder → sink, then flush. Returns quietly when cancelled or
/// when the packet reader went away.
fn run(
    encoder: &mut Option<Encoder>,
    opening: &mut Opening<'_>,
    ring: &FrameRing,
    sink: &mut Sink,
    shared: &Shared,
    meter: &mut Meter,
) -> Result<()> {
    let status = &shared.status;
    let mut frames: u64 = 0;
    // Packets of quick frames with more frames queued go to the caller's queue quietly; it is
    // woken before the worker may wait for a frame, and by the plain pushes of the flush.
    let mut coalescer = Coalescer::new();
    loop {
        if status.is_cancelled() {
            return Ok(());
        }
        if let Some(q) = sink.queue() {
            coalescer.before_input(Some(ring.queue()), q);
        }
        let (frame, options) = match ring.pop_with(None) {
            Ok(Some(item)) => item,
            Ok(None) => break,
            // Cancelled (by the caller, or by the decoder of a transcode that failed).
            Err(Error::Closed(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        status.arrivals.lock().tick();
        coalescer.started();
        frames += 1;
        let enc = match encoder {
            Some(e) => e,
            None => {
                let e = opening.open(&frame)?;
                set_depth_gauge(ring, e.telemetry());
                *shared.telemetry.lock() = Some(e.telemetry().clone());
                *shared.description.lock() = e.backend().to_string();
                encoder.insert(e)
            }
        };
        let options = FrameOptions { pts: options.pts.or(frame.pts), ..options };
        let context = |e: Error| e.context(format!("encode pipeline, frame #{frames}"));
        if shared.follow_size_changes && (frame.width, frame.height) != (enc.config().width, enc.config().height) {
            let mut c = enc.config().clone();
            (c.width, c.height) = (frame.width, frame.height);
            tracing::debug!("encode pipeline: frame size {}x{}: reopening the encoder", c.width, c.height);
            enc.reconfigure(c, SwitchMode::DrainThenSwap).map_err(context)?;
        }
        meter.source(&frame, options.pts);
        // An engine that is full answers `Backpressure`: take its output, then try again.
        let mut waits = 0;
        loop {
            match enc.submit(&frame, options) {
                Ok(()) => break,
                Err(Error::Backpressure(_)) if waits < BACKPRESSURE_RETRIES && !status.is_cancelled() => {
                    waits += 1;
                    // Before waiting: the consumer, woken for what was held back, may be what
                    // the engine waits for.
                    if let Some(q) = sink.queue() {
                        coalescer.flush(q);
                    }
                    if let Some(p) = enc.reap_timeout(Duration::from_millis(10)).map_err(context)? {
                        meter.packet(&p, enc);
                        if !sink.send(p, &mut coalescer, None)? {
                            return Ok(());
                        }
                    }
                }
                Err(e) => return Err(context(e)),
            }
        }
        // The frame's buffer goes back to the ring now.
        drop(frame);
        while let Some(p) = enc.try_reap().map_err(|e| e.context(format!("encode pipeline, frame #{frames}")))? {
            meter.packet(&p, enc);
            if !sink.send(p, &mut coalescer, Some(ring.queue()))? {
                return Ok(());
            }
        }
    }
    if let Some(q) = sink.queue() {
        coalescer.flush(q);
    }
    if status.is_cancelled() {
        return Ok(());
    }
    if let Some(enc) = encoder {
        for p in enc.flush().map_err(|e| e.context(format!("encode pipeline, flush after {frames} frames")))? {
            meter.packet(&p, enc);
            if !sink.send(p, &mut coalescer, None)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The worker's quality meter, if asked for, with the encoder's configuration record
/// (fetched once, for length-prefixed packets).
struct Meter {
    meter: Option<QualityMeter>,
    record: Option<DecoderConfigRecord>,
}

impl Meter {
    fn new(meter: Option<QualityMeter>) -> Self {
        Meter { meter, record: None }
    }

    fn source(&mut self, frame: &Frame, pts: Option<i64>) {
        if let Some(m) = self.meter.as_mut() {
            m.push_source(frame, pts);
        }
    }

    fn packet(&mut self, packet: &Packet, enc: &Encoder) {
        let Some(m) = self.meter.as_mut() else { return };
        if packet.layout == PacketLayout::LengthPrefixed && self.record.is_none() {
            self.record = enc.config_record();
        }
        m.push_packet(packet, self.record.as_ref());
    }
}

/// How many times a frame is offered again to an engine that answers `Backpressure`
/// (10 ms of waiting for output each time) before the error is passed on.
const BACKPRESSURE_RETRIES: u32 = 1000;

/// How the worker opens an encoder sized by its first frame.
struct Opening<'a> {
    config: &'a EncoderConfig,
    hooks: &'a mut Option<OpenHooks>,
}

impl Opening<'_> {
    /// Opens an encoder for the configuration with `frame`'s size and pixel format (then
    /// completed by the hooks, if any, which are told what opened).
    fn open(&mut self, frame: &Frame) -> Result<Encoder> {
        let mut c = self.config.clone();
        c.width = frame.width;
        c.height = frame.height;
        c.input_format = frame.format;
        let Some(hooks) = self.hooks.take() else {
            return Encoder::open(c).map_err(|e| e.context("encode pipeline, opening the encoder"));
        };
        // A transcode's errors come back as they are (its caller's own, or the engine's).
        (hooks.configure)(frame, &mut c)?;
        let encoder = Encoder::open(c)?;
        (hooks.opened)(encoder.config())?;
        Ok(encoder)
    }
}
