//! Threaded pipelines: a [`Decoder`](crate::Decoder) or [`Encoder`](crate::Encoder) on its
//! own thread behind a [`FrameRing`], and a [`Transcode`] that runs one of each so
//! decoding and encoding overlap.
//!
//! - Backpressure reaches the producer: a full ring blocks `submit` (or the decode
//!   worker), an unread packet queue blocks the encode worker, and so on back to the
//!   input. Every blocking call takes the pipeline's [`PipelineOptions::timeout`].
//! - Errors reach the caller with context (`"decode pipeline, input #12: …"`), after the
//!   frames or packets produced before them. Damaged input is not an error of the
//!   pipeline: the decoder drops it and goes on, and the first such error is kept in
//!   [`PipelineStats::bitstream_error`].
//! - A panic in a worker is caught and becomes [`Error::Panicked`]; the process goes on.
//! - [`Shutdown::Drain`] finishes what was submitted, [`Shutdown::Cancel`] drops it;
//!   either way, and on drop, every thread is joined.
//!
//! ```no_run
//! use video_hw::pipeline::{DecodeInput, DecodePipeline, PipelineOptions};
//! use video_hw::{Codec, DecoderConfig};
//!
//! let file = std::fs::File::open("clip.h264")?;
//! let source = DecodeInput::read_annexb(file, 1 << 16);
//! let pipeline = DecodePipeline::open_with_source(DecoderConfig::new(Codec::H264), PipelineOptions::default(), source)?;
//! for frame in pipeline.frames() {
//!     let frame = frame?; // decoded on the pipeline's thread while this one works
//!     println!("{}x{} pts {:?}", frame.width, frame.height, frame.pts);
//! }
//! let stats = pipeline.stats();
//! println!("{} frames, {:.1} fps, queue peak {}", stats.frames, stats.fps, stats.queue.peak);
//! # Ok::<(), video_hw::Error>(())
//! ```
//!
//! # Async
//!
//! The pipelines have handles that poll their queues instead of blocking on them, so a task
//! of any executor (tokio, async-std, smol, `futures::executor`) feeds a pipeline and takes
//! its output while the engine runs on the pipeline's own thread. They are the crate's one
//! async surface, in every build (the traits are `futures-core`'s `Stream` and
//! `futures-sink`'s `Sink`, which every executor's ecosystem accepts):
//!
//! - [`DecodePipeline::input_sink`]: a `Sink` of [`DecodeInput`] (with
//!   [`DecodeInput::Flush`] to drain between two streams);
//!   [`DecodePipeline::frame_stream`]: a `Stream` of frames.
//! - [`EncodePipeline::frame_sink`]: a `Sink` of `(Frame, FrameOptions)`;
//!   [`EncodePipeline::packet_stream`]: a `Stream` of packets.
//! - [`Transcode::finished`]: a future that is ready when both sides have finished.
//!
//! The handles own what they poll (the pipeline's queues are shared), so they move into
//! tasks of their own while the pipeline itself stays where its figures and
//! [`shutdown`](DecodePipeline::shutdown) are wanted. They behave as the blocking calls:
//!
//! - Backpressure: a full queue makes `poll_ready` pending (the task is woken once the
//!   queue has drained to half, not once per item taken); an empty one makes `poll_next`
//!   pending. Nothing spins.
//! - Cancel safety: an item a sink accepted (`start_send` returned) is in the pipeline's
//!   queue, whatever becomes of the future that sent it. Closing the sink is
//!   [`end_input`](DecodePipeline::end_input): the worker finishes what is queued, flushes
//!   and ends the stream. Dropping a handle neither ends the input nor cancels the
//!   pipeline; dropping (or shutting down) the pipeline does, and the handles then end.
//!   Dropping a pipeline waits for its worker to stop at its next step.
//! - Errors: the worker's error is the stream's last item, after the output made before
//!   it; a sink fails with it once the worker has stopped on one. In a child made by
//!   `fork`, where the worker thread is not, a handle fails (a stream once, then ends).
//! - Figures: the pipeline's [`stats`](DecodePipeline::stats) count what the handles
//!   moved; [`running_workers`] counts the worker threads still running.
//!
//! ```no_run
//! # async fn example(chunks: Vec<Vec<u8>>) -> video_hw::Result<()> {
//! use futures::{SinkExt, StreamExt};
//! use video_hw::pipeline::{DecodeInput, DecodePipeline, PipelineOptions, Shutdown};
//! use video_hw::{Codec, DecoderConfig};
//!
//! let pipeline = DecodePipeline::open(DecoderConfig::new(Codec::H264), PipelineOptions::default())?;
//! let (mut input, mut frames) = (pipeline.input_sink()?, pipeline.frame_stream());
//! let feed = async move {
//!     for chunk in chunks {
//!         input.send(DecodeInput::annexb(chunk, None)).await?; // pending while the queue is full
//!     }
//!     input.close().await // end of input: the frame stream ends after the last frame
//! };
//! let take = async move {
//!     let mut n = 0;
//!     while let Some(frame) = frames.next().await {
//!         frame?;
//!         n += 1;
//!     }
//!     Ok::<_, video_hw::Error>(n)
//! };
//! let (fed, taken) = futures::future::join(feed, take).await;
//! fed?;
//! println!("{} frames, {:.1} fps", taken?, pipeline.stats().fps);
//! pipeline.shutdown(Shutdown::Drain)?;
//! # Ok(()) }
//! ```

mod decode;
mod encode;
mod quality;
pub mod ring;
mod segmented;
mod stream;
mod transcode;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

pub use decode::{DecodeInput, DecodePipeline};
pub use encode::EncodePipeline;
pub use quality::{QualityMeter, QualityOptions, QualityReport};
pub use ring::{FrameRing, HostMemory, RingConfig, RingMemory, RingStats};
pub use segmented::{
    SegmentFrame, SegmentedDecode, SegmentedStats, SegmentedStreamStats, recommended_run_sessions, recommended_sessions,
};
pub use stream::{FrameSink, FrameStream, InputSink, PacketStream, TranscodeFinished};
pub use transcode::{
    CopySender, FirstFrame, PacketFn, Transcode, TranscodeBuilder, TranscodeEnd, TranscodeOutput, TranscodeStats,
};

use crate::decoder::DecoderStats;
use crate::encoder::EncoderStats;
use crate::error::{Error, Result};
use crate::metrics::{LatencyHistogram, Timings};
use crate::process::Process;
use crate::worker_threads::Worker;

/// How a pipeline is set up.
///
/// ```
/// use std::time::Duration;
/// use video_hw::pipeline::PipelineOptions;
/// let o = PipelineOptions::default().queue_depth(4).timeout(Duration::from_secs(10));
/// assert_eq!(o.queue_depth, 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineOptions {
    /// Frames the ring between the session and the caller holds (default 8).
    pub queue_depth: usize,
    /// Decode: input chunks queued before `submit` blocks. Encode: packets queued before
    /// the worker waits for the caller to read them (at least `queue_depth + 4`).
    /// Default 16.
    pub input_depth: usize,
    /// Memory of the ring's buffers. [`RingMemory::Auto`] (the default): device memory
    /// of the decoder's GPU for a decode pipeline (or transcode) whose NVDEC decoder
    /// outputs CUDA frames, so the device memory decoded frames wait in is bounded by the
    /// ring; page-locked host memory where a CUDA driver is present otherwise.
    pub memory: RingMemory,
    /// Encode: when a frame's size differs from the encoder's, drain the encoder and
    /// reopen it at the new size (`SwitchMode::DrainThenSwap`) instead of failing.
    /// Default false.
    pub follow_size_changes: bool,
    /// How long a blocking call of the caller's may wait (`None`: until the pipeline
    /// ends). The worker itself waits as long as it takes, unless cancelled.
    pub timeout: Option<Duration>,
    /// Encode: measure the output's quality against the input as it is made (PSNR, and
    /// SSIM when asked), by decoding each packet in this process ([`QualityMeter`]); the
    /// means are in [`PipelineStats::quality`]. Costs a decode and a comparison per
    /// frame. Default `None`.
    pub quality: Option<QualityOptions>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            queue_depth: 8,
            input_depth: 16,
            memory: RingMemory::Auto,
            follow_size_changes: false,
            timeout: None,
            quality: None,
        }
    }
}

impl PipelineOptions {
    /// Sets the ring's depth.
    pub fn queue_depth(mut self, frames: usize) -> Self {
        self.queue_depth = frames;
        self
    }

    /// Sets the input (decode) or packet (encode) queue depth.
    pub fn input_depth(mut self, items: usize) -> Self {
        self.input_depth = items;
        self
    }

    /// Sets the ring's buffer memory.
    pub fn memory(mut self, memory: RingMemory) -> Self {
        self.memory = memory;
        self
    }

    /// Sets whether an encode pipeline follows frame size changes.
    pub fn follow_size_changes(mut self, on: bool) -> Self {
        self.follow_size_changes = on;
        self
    }

    /// Sets what an encode pipeline measures of its output's quality.
    pub fn quality(mut self, quality: Option<QualityOptions>) -> Self {
        self.quality = quality;
        self
    }

    /// Sets the caller-side timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn validate(&self) -> Result<()> {
        if self.input_depth == 0 || self.input_depth > ring::MAX_CAPACITY {
            return Err(Error::invalid_input(format!("input depth {} (1..={})", self.input_depth, ring::MAX_CAPACITY)));
        }
        Ok(())
    }
}

/// What to do with work in flight when a pipeline stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shutdown {
    /// End the input, finish everything already submitted, flush the session and hand
    /// back what it produced.
    #[default]
    Drain,
    /// Drop queued input and output and stop the worker at its next step (no flush).
    Cancel,
}

/// What a pipeline had left when it was shut down, and its figures.
#[derive(Debug)]
pub struct Drained<T> {
    /// Frames (decode) or packets (encode) produced but not yet received.
    pub items: Vec<T>,
    /// The pipeline's figures at the end.
    pub stats: PipelineStats,
}

/// A pipeline's figures, available while it runs (without any metrics recorder).
#[derive(Debug, Clone, Default)]
pub struct PipelineStats {
    /// The engine that runs, described (empty until an encoder sized by its first frame opens).
    pub backend: String,
    /// Frames that went through the ring to its consumer.
    pub frames: u64,
    /// Since the pipeline started (until its worker finished).
    pub elapsed: Duration,
    /// `frames / elapsed`.
    pub fps: f64,
    /// The ring: depth now, peak, buffers, producer and consumer waits.
    pub queue: RingStats,
    /// Time between consecutive frames reaching the consumer.
    pub interval: LatencyHistogram,
    /// Jitter of that interval: the smoothed mean difference between consecutive
    /// intervals (RFC 3550's estimator).
    pub jitter: Duration,
    /// The session's per-stage times, fps and bytes copied.
    pub timings: Timings,
    /// The first damaged-input error the decoder skipped, if any.
    pub bitstream_error: Option<String>,
    /// Whether the worker is still running.
    pub running: bool,
    /// The decoder's counters once the worker has finished.
    pub decoder: Option<DecoderStats>,
    /// The encoder's counters once the worker has finished.
    pub encoder: Option<EncoderStats>,
    /// Encode: the decoder configuration record (`avcC`/`hvcC`) of length-prefixed output,
    /// once the worker has finished.
    pub config_record: Option<crate::bitstream::avcc::DecoderConfigRecord>,
    /// Encode with [`PipelineOptions::quality`]: the output's quality, once the worker
    /// has finished.
    pub quality: Option<QualityReport>,
}

// ---------------------------------------------------------------------------------------
// Shared plumbing of the pipelines

/// Frame arrivals at a consumer: interval histogram and jitter.
struct Arrivals {
    last: Option<Instant>,
    last_interval: Option<Duration>,
    intervals: LatencyHistogram,
    jitter_ns: f64,
}

impl Arrivals {
    fn new() -> Self {
        Arrivals { last: None, last_interval: None, intervals: LatencyHistogram::new(), jitter_ns: 0.0 }
    }

    fn tick(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.last {
            let interval = now.duration_since(last);
            self.intervals.record(interval);
            if let Some(prev) = self.last_interval {
                let d = interval.abs_diff(prev).as_nanos() as f64;
                self.jitter_ns += (d - self.jitter_ns) / 16.0;
            }
            self.last_interval = Some(interval);
        }
        self.last = Some(now);
    }
}

/// How a worker ended, as the caller sees it.
#[derive(Default)]
struct Outcome {
    /// The error, until it has been handed to the caller once.
    error: Option<Error>,
    /// Its text, kept for later calls.
    message: Option<String>,
}

/// When a worker finished, and who waits for it.
#[derive(Default)]
struct Finish {
    at: Option<Instant>,
    wakers: Vec<std::task::Waker>,
}

/// State a pipeline's caller side and its worker share.
pub(crate) struct Status {
    name: &'static str,
    started: Instant,
    cancelled: AtomicBool,
    /// When the worker finished (`None` while it runs), and the tasks waiting for that.
    finished: Mutex<Finish>,
    outcome: Mutex<Outcome>,
    arrivals: Mutex<Arrivals>,
    bitstream_error: Mutex<Option<String>>,
    /// The first damaged-input error itself, until taken.
    damage: Mutex<Option<Error>>,
    /// The process whose thread runs the worker: in a child made by `fork` there is no
    /// such thread, so the async handles fail there instead of waiting for ever.
    process: Process,
}

impl Status {
    fn new(name: &'static str) -> Self {
        Status {
            name,
            started: Instant::now(),
            cancelled: AtomicBool::new(false),
            finished: Mutex::new(Finish::default()),
            outcome: Mutex::new(Outcome::default()),
            arrivals: Mutex::new(Arrivals::new()),
            bitstream_error: Mutex::new(None),
            damage: Mutex::new(None),
            process: Process::current(),
        }
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Notes that the worker has finished (its figures stop moving) and wakes the tasks
    /// waiting for that.
    fn finish(&self) {
        let mut f = self.finished.lock();
        f.at.get_or_insert_with(Instant::now);
        let tasks = std::mem::take(&mut f.wakers);
        drop(f);
        ring::wake_all(tasks);
    }

    /// `Ready` once the worker has finished; else the task is woken when it does.
    fn poll_finished(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        let mut f = self.finished.lock();
        if f.at.is_some() {
            return std::task::Poll::Ready(());
        }
        ring::register(&mut f.wakers, cx.waker());
        std::task::Poll::Pending
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    fn fail(&self, e: Error) {
        let mut o = self.outcome.lock();
        if o.message.is_none() {
            o.message = Some(e.to_string());
            o.error = Some(e);
        }
    }

    fn note_bitstream_error(&self, e: Error) {
        let mut text = self.bitstream_error.lock();
        if text.is_none() {
            *text = Some(e.to_string());
            *self.damage.lock() = Some(e);
        }
    }

    /// The worker's error: the error itself the first time, `Closed` naming it later.
    fn take_error(&self) -> Option<Error> {
        let mut o = self.outcome.lock();
        match o.error.take() {
            Some(e) => Some(e),
            None => o.message.as_ref().map(|m| Error::Closed(format!("{} stopped after an error: {m}", self.name))),
        }
    }

    /// For a call that found the pipeline closed: the worker's error if it failed, else `e`.
    fn closed(&self, e: Error) -> Error {
        self.take_error().unwrap_or(e)
    }

    fn fill(&self, stats: &mut PipelineStats) {
        let finished = self.finished.lock().at;
        stats.elapsed = finished.unwrap_or_else(Instant::now).duration_since(self.started);
        stats.running = finished.is_none();
        let a = self.arrivals.lock();
        stats.interval = a.intervals.clone();
        stats.jitter = Duration::from_nanos(a.jitter_ns as u64);
        drop(a);
        stats.bitstream_error = self.bitstream_error.lock().clone();
    }
}

/// The text of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Pipeline workers running now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Pipeline workers (decode, encode, each side of a transcode) still running in this
/// process, each holding an engine session until it ends: for checking that dropped or
/// cancelled pipelines, and their async handles, shut down.
pub fn running_workers() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

/// Starts `body` on a worker thread (a kept one if one waits, see
/// [`crate::worker_threads`]; named `video-hw-NAME` while it runs); a panic in it becomes
/// [`Error::Panicked`]. `done` runs on the thread afterwards with the outcome (it must not
/// panic).
fn spawn_worker(
    name: &'static str,
    body: impl FnOnce() -> Result<()> + Send + 'static,
    done: impl FnOnce(Result<()>) + Send + 'static,
) -> Result<Worker> {
    RUNNING.fetch_add(1, Ordering::SeqCst);
    let spawned = crate::worker_threads::spawn(&format!("video-hw-{name}"), move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or_else(|payload| {
            // What the panicking code left on this thread is unknown: the thread ends
            // rather than run the next pipeline.
            crate::worker_threads::retire_this_thread();
            Err(Error::Panicked(format!("{name} worker: {}", panic_message(payload.as_ref()))))
        });
        done(r);
        // After `done`: what the worker owned (its engine session) is gone by now.
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    });
    if spawned.is_err() {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
    spawned
}

/// Joins a worker; a panic that escaped `done` (never expected) becomes an error.
fn join(name: &'static str, handle: Option<Worker>) -> Result<()> {
    match handle.map(Worker::join) {
        Some(Err(payload)) => Err(Error::Panicked(format!("{name} worker: {}", panic_message(payload.as_ref())))),
        _ => Ok(()),
    }
}

/// A utilisation sampler of device `device` while the pipeline runs, for engines whose
/// descriptor has one (the NVIDIA engines: NVML, every second).
fn gpu_sampler(engine: crate::Engine, device: u32) -> Option<crate::metrics::GpuSampler> {
    crate::registry::descriptor(engine).sampler.and_then(|start| start(device))
}
