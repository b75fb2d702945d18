//! Decoding whole streams held in memory on several sessions at once: each stream is cut
//! at its clean random access points ([`split_at_random_access`]), a fixed set of
//! sessions takes the segments as they come, and the frames reach the caller in each
//! stream's output order.
//!
//! Why: one decode session is paced by one hardware engine (one NVDEC of the seven an H200
//! has), so a single stream decodes no faster than one engine however idle the others are.
//! Segments spread one stream over several engines. With many streams, the sessions can
//! outnumber the streams: two sessions per engine fill the gaps one leaves (on an H200,
//! H.264 2160p +27 %, H.264 1080p and HEVC 2160p +5 %); for 1080p HEVC the chip's total
//! caps them and more sessions gain nothing (docs/nvdec-many-streams.md).

mod delivery;
mod sessions;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::bitstream::segments::{Segment, split_at_random_access};
use crate::config::DecoderConfig;
use crate::error::{Error, Result};
use crate::frame::Frame;
use delivery::{Delivery, deliver};
pub use sessions::{recommended_run_sessions, recommended_sessions};
use worker::{Job, Message, Shared, Worker};

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
    /// Damaged parts the sessions dropped (see [`Decoder::submit`](crate::Decoder::submit)).
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
    /// Sessions opened: at most the sessions asked for; a session's thread opens it when it
    /// takes its first segment, so one that found every segment taken opens none.
    pub sessions: usize,
    /// The engine of the first session opened, described.
    pub backend: String,
    /// Every session's engine, described, in the order they opened: with
    /// [`spread_over_gpus`](crate::DecoderConfig::spread_over_gpus) it names the GPU each
    /// session decodes on, so one stream's segments can be seen spread over several GPUs.
    pub session_backends: Vec<String>,
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

    /// Sets how many sessions decode at once (1..=64); [`recommended_sessions`] gives the
    /// measured best for an engine, codec and size. For NVDEC, the GPU's number of decode
    /// engines (7 on an H100/H200, `nvidia-smi -q` lists them): a second session per engine
    /// was slower for every codec and size measured on an H200 (one H.264 2160p stream 426-506
    /// fps over 7 sessions against 277-380 over 14; docs/nvdec-many-streams.md).
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

    /// Sets the bytes handed to a session per [`Decoder::submit`](crate::Decoder::submit) call.
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
