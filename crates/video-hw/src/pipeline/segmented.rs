//! Decoding whole streams held in memory on several sessions at once: each stream is cut
//! at its clean random access points ([`split_at_random_access`]), a fixed set of
//! sessions takes the segments as they come, and the frames reach the caller in each
//! stream's output order.
//!
//! Why: one decode session is paced by one hardware engine (one NVDEC of the seven an H200
//! has), so a single stream decodes no faster than one engine however idle the others are.
//! Segments spread one stream over several engines. (With many streams the engines of the
//! streams that finish first no longer idle at the end either, but on the H200 that gained
//! nothing measurable: the chip's total caps them; docs/nvdec-many-streams.md.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::bitstream::segments::{Segment, split_at_random_access};
use crate::config::DecoderConfig;
use crate::decoder::{Decoder, Input};
use crate::error::{Error, Result};
use crate::frame::Frame;

/// Most sessions one [`SegmentedDecode`] runs.
pub const MAX_SESSIONS: usize = 64;
/// Bytes of frames allowed to wait for an earlier segment before sessions pause (see
/// [`SegmentedDecode::max_held_bytes`]): 4 GiB, about 1,380 frames of 1080p NV12.
pub const DEFAULT_MAX_HELD_BYTES: usize =
    if (usize::MAX as u64) < (4u64 << 30) { usize::MAX } else { (4u64 << 30) as usize };
/// Messages (frames) each session may have on their way to the delivering thread.
const IN_TRANSIT_PER_SESSION: usize = 4;

/// Decodes whole H.264/HEVC Annex-B streams held in memory on several decode sessions
/// at once, cutting each stream at its IDR access units (and HEVC CRA/BLA ones without
/// RASL pictures), and hands every frame to the caller in its stream's output order.
///
/// Use it when the whole input is at hand (a file, a downloaded segment, a batch of clips
/// for training data) and throughput matters: with NVDEC, one stream uses as many of the
/// GPU's decode engines as it has segments in flight (on an H200, 1.5-2.2x one session's
/// speed); many streams get what a session per stream gets, as the chip caps their total.
/// The frames are
/// the ones a single session gives for the whole stream (bit for bit on the corpus),
/// except that a picture whose `no_output_of_prior_pics_flag` asks to drop the pictures
/// before an IDR is not honoured across a cut.
///
/// Memory: frames of a segment that is not next in its stream's order wait until it is;
/// at most `max_held_bytes` of them (default 4 GiB) before the sessions decoding later
/// segments pause, and at most `segments_ahead` segments past the oldest one not yet
/// delivered are started (default twice the sessions). [`run_unordered`](Self::run_unordered)
/// holds no frame back.
///
/// ```no_run
/// use video_hw::pipeline::SegmentedDecode;
/// use video_hw::{Codec, DecoderConfig, Output, PixelFormat};
///
/// let clip = std::fs::read("clip.h265")?;
/// let decode = SegmentedDecode::new(DecoderConfig::new(Codec::Hevc).output(Output::Cuda(PixelFormat::Nv12))).sessions(7);
/// let stats = decode.run(&[&clip[..]], |stream, frame| {
///     // frames of stream 0 in display order, decoded by up to 7 sessions at once
///     let _ = (stream, frame.width);
///     Ok(())
/// })?;
/// println!("{} frames in {} segments, {:.0} fps", stats.frames, stats.segments, stats.fps);
/// # Ok::<(), video_hw::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SegmentedDecode {
    config: DecoderConfig,
    sessions: usize,
    min_segment_pictures: usize,
    segments_ahead: Option<usize>,
    max_held_bytes: usize,
    chunk: usize,
}

/// What one stream gave.
#[derive(Debug, Clone, Default)]
pub struct SegmentedStreamStats {
    /// Frames handed to the caller.
    pub frames: u64,
    /// Segments the stream was cut into.
    pub segments: usize,
    /// Coded pictures the split found (a field pair counts once).
    pub pictures: usize,
    /// Damaged parts the sessions dropped (see [`Decoder::submit`]).
    pub dropped: u64,
    /// Pictures the engine reported damaged and concealed.
    pub concealed: u64,
    /// The first damaged-input error, with its byte offset in the stream.
    pub first_error: Option<String>,
}

/// Figures of one [`SegmentedDecode::run`].
#[derive(Debug, Clone, Default)]
pub struct SegmentedStats {
    /// Per input stream, in input order.
    pub streams: Vec<SegmentedStreamStats>,
    /// Segments decoded, all streams together.
    pub segments: usize,
    /// Sessions opened.
    pub sessions: usize,
    /// The engine of the first session opened, described.
    pub backend: String,
    /// Frames handed to the caller, all streams together.
    pub frames: u64,
    /// Time spent cutting the streams (before any decoding).
    pub split_time: Duration,
    /// From the call to its return.
    pub elapsed: Duration,
    /// `frames / elapsed`.
    pub fps: f64,
    /// Most frames held at once waiting for an earlier segment of their stream.
    pub peak_buffered_frames: usize,
}

impl SegmentedDecode {
    /// Segmented decoding with sessions opened from `config` (its codec must be H.264 or
    /// HEVC); 4 sessions, segments of at least 60 pictures, 64 KiB per submit.
    pub fn new(config: DecoderConfig) -> Self {
        SegmentedDecode {
            config,
            sessions: 4,
            min_segment_pictures: 60,
            segments_ahead: None,
            max_held_bytes: DEFAULT_MAX_HELD_BYTES,
            chunk: 64 << 10,
        }
    }

    /// Sets how many sessions decode at once (1..=64). For NVDEC, the GPU's number of
    /// decode engines (7 on an H100/H200, `nvidia-smi -q` lists them) or a few more.
    pub fn sessions(mut self, n: usize) -> Self {
        self.sessions = n;
        self
    }

    /// Sets the fewest pictures per segment: random access points closer than this are
    /// not cut at. Longer segments cost fewer session drains (each waits for the last
    /// pictures in flight); shorter ones balance the sessions better.
    pub fn min_segment_pictures(mut self, n: usize) -> Self {
        self.min_segment_pictures = n.max(1);
        self
    }

    /// Sets how many segments past the oldest undelivered one may be decoded at once
    /// (at least the sessions; default twice the sessions).
    pub fn segments_ahead(mut self, n: usize) -> Self {
        self.segments_ahead = Some(n);
        self
    }

    /// Sets how many bytes of frames (their packed size) may wait for an earlier segment
    /// of their stream (in-order [`run`](Self::run)) before the sessions decoding later
    /// segments pause; the next segment of each stream never pauses. Default 4 GiB (about
    /// 1,380 frames of 1080p NV12, 340 of 2160p); up to five frames per session more can be
    /// on their way when the limit is reached. Smaller saves memory and costs speed when
    /// one stream is spread over several sessions.
    pub fn max_held_bytes(mut self, bytes: usize) -> Self {
        self.max_held_bytes = bytes;
        self
    }

    /// Sets the bytes handed to a session per [`Decoder::submit`] call.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// Decodes every stream of `streams` (whole Annex-B streams of the configured codec)
    /// and calls `sink(stream index, frame)` with each stream's frames in output order;
    /// streams progress side by side. An error from `sink` stops the run and is returned.
    ///
    /// Damaged input is dropped and counted per stream (the run goes on); an engine
    /// failure (no session could open, device lost) stops the run and is returned.
    pub fn run<S: AsRef<[u8]> + Sync>(
        &self,
        streams: &[S],
        mut sink: impl FnMut(usize, Frame) -> Result<()>,
    ) -> Result<SegmentedStats> {
        self.run_with(streams, true, &mut |f: SegmentFrame| sink(f.stream, f.frame))
    }

    /// Like [`run`](Self::run), but hands every frame out as soon as its session outputs
    /// it, with where it belongs: nothing waits for an earlier segment, so no frames are
    /// held back (no extra memory, however many sessions per stream). Within a segment
    /// frames come in output order; ordering by (`segment`, `index`) gives the stream's.
    ///
    /// ```no_run
    /// use video_hw::pipeline::SegmentedDecode;
    /// use video_hw::{Codec, DecoderConfig};
    ///
    /// let clip = std::fs::read("clip.h264")?;
    /// let mut firsts = Vec::new();
    /// SegmentedDecode::new(DecoderConfig::new(Codec::H264)).sessions(7).run_unordered(&[&clip[..]], |f| {
    ///     if f.index == 0 {
    ///         firsts.push((f.segment, f.frame)); // the first frame of every segment
    ///     }
    ///     Ok(())
    /// })?;
    /// firsts.sort_by_key(|(segment, _)| *segment);
    /// # Ok::<(), video_hw::Error>(())
    /// ```
    pub fn run_unordered<S: AsRef<[u8]> + Sync>(
        &self,
        streams: &[S],
        mut sink: impl FnMut(SegmentFrame) -> Result<()>,
    ) -> Result<SegmentedStats> {
        self.run_with(streams, false, &mut sink)
    }

    fn run_with<S: AsRef<[u8]> + Sync>(
        &self,
        streams: &[S],
        ordered: bool,
        sink: &mut dyn FnMut(SegmentFrame) -> Result<()>,
    ) -> Result<SegmentedStats> {
        let start = Instant::now();
        if !(1..=MAX_SESSIONS).contains(&self.sessions) {
            return Err(Error::invalid_input(format!("{} sessions (1..={MAX_SESSIONS})", self.sessions)));
        }
        self.config.validate()?;
        let cuts = split_all_streams(streams, self.config.codec, self.min_segment_pictures, self.sessions)?;
        let split_time = start.elapsed();
        let jobs = interleave(&cuts);
        let mut stats = SegmentedStats {
            streams: cuts
                .iter()
                .map(|c| SegmentedStreamStats {
                    segments: c.len(),
                    pictures: c.iter().map(|s| s.pictures).sum(),
                    ..SegmentedStreamStats::default()
                })
                .collect(),
            segments: jobs.len(),
            split_time,
            ..SegmentedStats::default()
        };
        let workers = self.sessions.min(jobs.len());
        let shared = Shared {
            next_job: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            delivered_below: Mutex::new(0),
            advanced: Condvar::new(),
            ahead: self.segments_ahead.unwrap_or(2 * self.sessions).max(self.sessions),
            held_bytes: AtomicUsize::new(0),
            max_held_bytes: self.max_held_bytes,
            heads: jobs.iter().map(|j| AtomicBool::new(!ordered || j.nth == 0)).collect(),
        };
        // A few messages per session in transit: frames count against `max_held_bytes` only
        // once received, so the limit may be exceeded by these (plus one frame from each
        // session that checked the limit just before it was reached).
        let (tx, rx) = sync_channel::<Message>(workers * IN_TRANSIT_PER_SESSION);
        let result = std::thread::scope(|scope| {
            for _ in 0..workers {
                let tx = tx.clone();
                let (shared, jobs) = (&shared, &jobs);
                scope.spawn(move || {
                    let worker = Worker { config: &self.config, chunk: self.chunk, shared, tx: &tx };
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.work(jobs, streams)));
                    let message = match outcome {
                        Ok(Ok(())) => Message::Exit,
                        Ok(Err(e)) => Message::Failed(e),
                        Err(_) => Message::Failed(Error::Panicked("segmented decode worker".into())),
                    };
                    let _ = tx.send(message);
                });
            }
            drop(tx);
            let mut delivery = Delivery::new(&jobs, cuts.len(), ordered);
            deliver(&rx, workers, &shared, &mut delivery, &mut stats, sink)
        });
        result?;
        stats.elapsed = start.elapsed();
        stats.fps = stats.frames as f64 / stats.elapsed.as_secs_f64().max(1e-9);
        Ok(stats)
    }
}

/// A frame of [`SegmentedDecode::run_unordered`] and where it belongs in its stream.
#[derive(Debug)]
pub struct SegmentFrame {
    /// Index of the input stream.
    pub stream: usize,
    /// Which segment of the stream (0 = the first).
    pub segment: usize,
    /// Position of the frame within its segment, in output order.
    pub index: usize,
    /// The frame.
    pub frame: Frame,
}

/// One segment to decode.
struct Job<'a> {
    stream: usize,
    /// Its index among the stream's segments.
    nth: usize,
    segment: &'a Segment,
}

/// What workers tell the delivering thread.
enum Message {
    Opened(String),
    Frame { job: usize, frame: Frame },
    Done { job: usize, dropped: u64, concealed: u64, first_error: Option<Error> },
    Failed(Error),
    Exit,
}

/// State the workers and the delivering thread share.
struct Shared {
    next_job: AtomicUsize,
    stop: AtomicBool,
    /// Every job below this index has been handed to the caller whole.
    delivered_below: Mutex<usize>,
    /// Signalled when `delivered_below`, `held` or `heads` change, and on a stop.
    advanced: Condvar,
    ahead: usize,
    /// Bytes of frames waiting for an earlier segment now, and the most allowed before
    /// the sessions of segments that are not next pause.
    held_bytes: AtomicUsize,
    max_held_bytes: usize,
    /// Per job: whether its frames go out as they come (the next segment of its stream,
    /// or every job when unordered).
    heads: Vec<AtomicBool>,
}

impl Shared {
    /// Waits until job `job` may start; false when the run stops.
    fn wait_for_turn(&self, job: usize) -> bool {
        let mut below = self.delivered_below.lock();
        while !self.stop.load(Ordering::Acquire) && job >= *below + self.ahead {
            self.advanced.wait_for(&mut below, Duration::from_millis(100));
        }
        !self.stop.load(Ordering::Acquire)
    }

    /// Waits, before a frame of `job` is sent, while that frame would have to wait and
    /// the frames already waiting reach the limit: the session pauses instead of piling
    /// up frames. Never waits for the next segment of a stream, so the run goes on.
    fn wait_to_send(&self, job: usize) {
        let may_send = || {
            self.stop.load(Ordering::Acquire)
                || self.heads[job].load(Ordering::Acquire)
                || self.held_bytes.load(Ordering::Acquire) < self.max_held_bytes
        };
        if may_send() {
            return;
        }
        let mut below = self.delivered_below.lock();
        while !may_send() {
            self.advanced.wait_for(&mut below, Duration::from_millis(100));
        }
    }

    fn halt(&self) {
        self.stop.store(true, Ordering::Release);
        let _below = self.delivered_below.lock();
        self.advanced.notify_all();
    }
}

/// Cuts every stream, on up to `threads` threads.
fn split_all_streams<S: AsRef<[u8]> + Sync>(
    streams: &[S],
    codec: crate::Codec,
    min_pictures: usize,
    threads: usize,
) -> Result<Vec<Vec<Segment>>> {
    let per_thread = streams.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = streams
            .chunks(per_thread)
            .map(|group| {
                scope.spawn(move || {
                    group
                        .iter()
                        .map(|s| split_at_random_access(s.as_ref(), codec, min_pictures))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(streams.len());
        for h in handles {
            all.extend(h.join().map_err(|_| Error::Panicked("splitting a stream".into()))??);
        }
        Ok(all)
    })
}

/// Jobs in the order sessions take them: the first segment of every stream, then the
/// second of every stream, …, so all streams progress side by side.
fn interleave(cuts: &[Vec<Segment>]) -> Vec<Job<'_>> {
    let longest = cuts.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|k| {
            cuts.iter()
                .enumerate()
                .filter_map(move |(stream, c)| c.get(k).map(|segment| Job { stream, nth: k, segment }))
        })
        .collect()
}

/// One session's thread.
struct Worker<'a> {
    config: &'a DecoderConfig,
    chunk: usize,
    shared: &'a Shared,
    tx: &'a SyncSender<Message>,
}

impl Worker<'_> {
    fn work<S: AsRef<[u8]>>(&self, jobs: &[Job<'_>], streams: &[S]) -> Result<()> {
        let mut decoder: Option<Decoder> = None;
        loop {
            let j = self.shared.next_job.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(j) else { return Ok(()) };
            if !self.shared.wait_for_turn(j) {
                return Ok(());
            }
            let dec = match &mut decoder {
                Some(d) => d,
                None => {
                    let d = Decoder::open(self.config.clone())?;
                    self.send(Message::Opened(d.backend().to_string()))?;
                    decoder.insert(d)
                }
            };
            let data = &streams[job.stream].as_ref()[job.segment.range.clone()];
            self.decode_segment(dec, j, &job.segment.prefix, data, job.segment.range.start).map_err(|e| {
                e.context(format!("stream {}, segment at byte {}", job.stream, job.segment.range.start))
            })?;
        }
    }

    /// Feeds one segment and flushes; frames go out as they come.
    fn decode_segment(&self, dec: &mut Decoder, job: usize, prefix: &[u8], data: &[u8], at: usize) -> Result<()> {
        let before = dec.stats();
        let data_base = before.bytes_in + prefix.len() as u64;
        let mut first_error: Option<Error> = None;
        let mut note = |r: Result<()>| match r {
            Err(Error::InvalidBitstream { offset, reason }) => {
                // Offsets count from the session's first byte; the caller wants the stream's.
                let offset = (at as u64 + offset.saturating_sub(data_base)).min(at as u64 + data.len() as u64);
                first_error.get_or_insert(Error::InvalidBitstream { offset, reason });
                Ok(())
            }
            other => other,
        };
        if !prefix.is_empty() {
            note(dec.submit(Input::annexb(prefix, None)))?;
        }
        for piece in data.chunks(self.chunk) {
            if self.shared.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            note(dec.submit(Input::annexb(piece, None)))?;
            while let Some(frame) = dec.try_reap()? {
                self.send_frame(job, frame)?;
            }
        }
        match dec.flush() {
            Ok(frames) => {
                for frame in frames {
                    self.send_frame(job, frame)?;
                }
            }
            Err(e) => note(Err(e))?,
        }
        let after = dec.stats();
        self.send(Message::Done {
            job,
            dropped: after.dropped - before.dropped,
            concealed: after.concealed.saturating_sub(before.concealed),
            first_error,
        })
    }

    fn send_frame(&self, job: usize, frame: Frame) -> Result<()> {
        self.shared.wait_to_send(job);
        self.send(Message::Frame { job, frame })
    }

    fn send(&self, m: Message) -> Result<()> {
        // The receiver goes away only once the run is over.
        self.tx.send(m).map_err(|_| Error::Closed("segmented decode ended".into()))
    }
}

/// Hands frames to the caller: in each stream's order (frames of a segment that is not
/// next wait), or as they come.
struct Delivery {
    ordered: bool,
    /// Per job: its stream, its index among the stream's segments, frames handed out,
    /// frames waiting for their turn, whether its session is done, whether it is all out.
    stream_of: Vec<usize>,
    nth: Vec<usize>,
    handed: Vec<usize>,
    waiting: Vec<VecDeque<Frame>>,
    done: Vec<bool>,
    delivered: Vec<bool>,
    /// Per stream: its jobs in order and the index of the one being delivered.
    order: Vec<Vec<usize>>,
    head: Vec<usize>,
    /// Frames waiting, and their packed bytes.
    held: usize,
    held_bytes: usize,
}

impl Delivery {
    fn new(jobs: &[Job<'_>], streams: usize, ordered: bool) -> Self {
        let mut order = vec![Vec::new(); streams];
        for (j, job) in jobs.iter().enumerate() {
            order[job.stream].push(j);
        }
        Delivery {
            ordered,
            stream_of: jobs.iter().map(|j| j.stream).collect(),
            nth: jobs.iter().map(|j| j.nth).collect(),
            handed: vec![0; jobs.len()],
            waiting: (0..jobs.len()).map(|_| VecDeque::new()).collect(),
            done: vec![false; jobs.len()],
            delivered: vec![false; jobs.len()],
            order,
            head: vec![0; streams],
            held: 0,
            held_bytes: 0,
        }
    }

    /// The job whose frames go out now for `stream`.
    fn current(&self, stream: usize) -> Option<usize> {
        self.order[stream].get(self.head[stream]).copied()
    }

    /// Whether a frame of `job` may go out now.
    fn may_hand_out(&self, job: usize) -> bool {
        !self.ordered || self.current(self.stream_of[job]) == Some(job)
    }
}

/// The delivering side of [`SegmentedDecode::run`] (the caller's thread).
fn deliver(
    rx: &Receiver<Message>,
    workers: usize,
    shared: &Shared,
    d: &mut Delivery,
    stats: &mut SegmentedStats,
    sink: &mut dyn FnMut(SegmentFrame) -> Result<()>,
) -> Result<()> {
    let mut failure: Option<Error> = None;
    let mut exited = 0;
    while exited < workers {
        let Ok(message) = rx.recv() else { break };
        if failure.is_some() {
            // Stopping: take what workers still send so none blocks, hand nothing out.
            exited += usize::from(matches!(message, Message::Exit | Message::Failed(_)));
            continue;
        }
        let outcome = match message {
            Message::Opened(backend) => {
                stats.sessions += 1;
                if stats.backend.is_empty() {
                    stats.backend = backend;
                }
                Ok(())
            }
            Message::Frame { job, frame } => {
                if d.may_hand_out(job) {
                    hand_out(d, stats, sink, job, frame)
                } else {
                    d.held_bytes += packed_size(&frame);
                    d.waiting[job].push_back(frame);
                    d.held += 1;
                    shared.held_bytes.store(d.held_bytes, Ordering::Release);
                    stats.peak_buffered_frames = stats.peak_buffered_frames.max(d.held);
                    Ok(())
                }
            }
            Message::Done { job, dropped, concealed, first_error } => {
                let stream = d.stream_of[job];
                let s = &mut stats.streams[stream];
                s.dropped += dropped;
                s.concealed += concealed;
                if s.first_error.is_none() {
                    s.first_error = first_error.map(|e| e.to_string());
                }
                d.done[job] = true;
                if !d.ordered {
                    d.delivered[job] = true;
                }
                advance(d, stats, sink, stream, shared)
            }
            Message::Failed(e) => {
                exited += 1;
                Err(e)
            }
            Message::Exit => {
                exited += 1;
                Ok(())
            }
        };
        if let Err(e) = outcome {
            failure = Some(e);
            shared.halt();
        }
    }
    failure.map_or(Ok(()), Err)
}

fn hand_out(
    d: &mut Delivery,
    stats: &mut SegmentedStats,
    sink: &mut dyn FnMut(SegmentFrame) -> Result<()>,
    job: usize,
    frame: Frame,
) -> Result<()> {
    let stream = d.stream_of[job];
    let index = d.handed[job];
    d.handed[job] += 1;
    stats.frames += 1;
    stats.streams[stream].frames += 1;
    sink(SegmentFrame { stream, segment: d.nth[job], index, frame })
}

/// After a job of `stream` finished: (in order) moves the stream's turn past every
/// finished job, handing out the frames that waited; then lets workers start further
/// jobs.
fn advance(
    d: &mut Delivery,
    stats: &mut SegmentedStats,
    sink: &mut dyn FnMut(SegmentFrame) -> Result<()>,
    stream: usize,
    shared: &Shared,
) -> Result<()> {
    while let Some(job) = d.current(stream).filter(|_| d.ordered) {
        while let Some(frame) = d.waiting[job].pop_front() {
            d.held -= 1;
            d.held_bytes -= packed_size(&frame);
            hand_out(d, stats, sink, job, frame)?;
        }
        if !d.done[job] {
            break;
        }
        d.delivered[job] = true;
        d.head[stream] += 1;
        if let Some(next) = d.current(stream) {
            shared.heads[next].store(true, Ordering::Release);
        }
    }
    shared.held_bytes.store(d.held_bytes, Ordering::Release);
    let mut below = shared.delivered_below.lock();
    while d.delivered.get(*below).copied().unwrap_or(false) {
        *below += 1;
    }
    shared.advanced.notify_all();
    Ok(())
}

/// What a frame counts against [`SegmentedDecode::max_held_bytes`].
fn packed_size(frame: &Frame) -> usize {
    frame.format.frame_size(frame.width, frame.height)
}
