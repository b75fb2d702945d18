//! Sequential reading on several sessions: the GOPs ahead of the reader decode at once, on
//! their own threads, while the caller takes the frames of the first in order.
//!
//! Why: one session is paced by one engine (one NVDEC of an H200's seven: ~650 fps of 1080p
//! H.264), so reading a file front to back on one session leaves the other engines idle.
//! The frame index knows where every GOP starts, so the GOPs ahead are independent jobs:
//! `sessions` workers take them in decode order, and the caller receives the frames of the
//! oldest job as they come, then the next job's (already decoded, or being decoded).
//!
//! Memory: a job's frames wait until the reader reaches them. Jobs are started only while
//! the frames they may hold (the job's frame count times the output frame size) fit
//! `read_ahead_bytes` together with the jobs in flight (at most two per session); the
//! oldest job always runs. With frames in host memory and 1080p NV12 (3.1 MB a frame) in
//! GOPs of 250 frames, the default 4 GiB lets five GOPs decode at once; with frames in
//! device memory the default grows to one job per session and two more ([`device_held`]).
//!
//! Host frames from NVDEC (NV12, YUV420P, RGB) are held in device memory: the sessions give
//! CUDA frames while they read ahead, and each frame is copied to the host (by DMA, into
//! page-locked buffers the caller gives back by dropping its frames) only when the reader
//! takes it, with the copies of the next few frames already decoded running meanwhile
//! ([`Staged`]). Held in host memory, every frame was copied twice and faulted in (~0.7 ms
//! of CPU per 1080p frame, gigabytes resident), which bounded the rate below the engines'
//! (bench/results/host-default-20261122-2581d58.md, host-device-held-20261123-d2f3328.md).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use super::plan::plan;
use super::prune::Skipper;
use super::run_decode::{Feed, Packets, decode_run_with, missing, read_run};
use crate::codec::PixelFormat;
use crate::config::{DecoderConfig, Output};
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::frame::staging::HostStaging;
use crate::frame::{Frame, FrameData};
use crate::media::{Demuxer, FrameIndex};
use crate::worker_threads::{self, Worker};

/// Default bound on the bytes of frames decoded ahead of the reader (4 GiB).
pub const DEFAULT_READ_AHEAD_BYTES: usize =
    if (usize::MAX as u64) < (4u64 << 30) { usize::MAX } else { (4u64 << 30) as usize };
/// A job holds whole GOPs and at least this many frames (short GOPs, all-intra streams):
/// each job ends with a flush, which costs a few pictures' time on NVDEC.
const MIN_JOB_FRAMES: usize = 48;

/// A decoded frame of a job (its decode-order packet tag), or the job's failure.
type Delivery = Result<(usize, Frame)>;

/// The longest job whose frames are held in device memory (and at most a quarter of the
/// GPU's free memory): the oldest job always runs, whatever the bound, and device memory
/// is scarcer than host memory (a file of one GOP is read with host frames, as before).
/// 2 GiB holds a 250-frame GOP of 1080p RGB.
const DEVICE_JOB_BYTES: usize = 2 << 30;
/// Frames already decoded whose copies to the host are queued ahead of the one the
/// caller takes.
const STAGED_AHEAD: usize = 8;

/// A session of a read-ahead: one the reader has, or one its worker opens.
///
/// Why the worker: an NVDEC session takes milliseconds to make, and a loop by index
/// starts the read-ahead at its second call, when the reader's first session is going on
/// with its GOP. Made there, six sessions cost the caller ~20 ms between two frames
/// (bench/results/gpu-loops-timeline-h200-20261127-92e9941: frame 0 to 1 took 33 ms
/// against PyNvVideoCodec's 14); made by their workers, they are made at once, while the
/// first session decodes the frames the caller asks for next.
pub(super) enum Session {
    /// A session the reader had (boxed: a session and a configuration are both large).
    Open(Box<Decoder>),
    /// A session to open with this configuration (the reader's, its engine pinned to the
    /// first session's, so that every session gives the same frames and starts at the
    /// same points).
    ToOpen(Box<DecoderConfig>),
}

/// Runs of one job, each with the packets (decode order) of the frames it delivers.
struct Job {
    runs: Vec<(Packets, Vec<usize>)>,
    out: Sender<Delivery>,
}

/// A job handed to the workers whose frames the reader has not all taken.
struct InFlight {
    frames: Receiver<Delivery>,
    /// A frame received after a gap was reported, handed out by the next call.
    pending: Option<(usize, Frame)>,
    /// The frames it delivers (presentation numbers, ascending) and the next one due.
    wanted: Vec<usize>,
    due: usize,
    bytes: usize,
}

/// What making jobs reads from: the reader's file, index and rules, and its packet count.
pub(super) struct Source<'a> {
    pub demuxer: &'a mut Demuxer,
    pub index: &'a FrameIndex,
    pub skip: &'a Skipper,
    /// The packet decoding starts at for a frame (on the reader's engine).
    pub start_of: &'a dyn Fn(usize) -> usize,
    /// The reader's statistics (packets fed are counted).
    pub stats: &'a mut super::ReaderStats,
}

/// The workers and the jobs in flight of one sequential read.
pub(super) struct ReadAhead {
    jobs: Option<Sender<Job>>,
    /// Each worker gives its session back when it stops (none where it could not open
    /// one).
    workers: Vec<Worker<Option<Decoder>>>,
    in_flight: VecDeque<InFlight>,
    /// The first frame no job was made for yet.
    next_job: usize,
    held: usize,
    budget: usize,
    frame_bytes: usize,
    sessions: usize,
    /// Why no session started, when none did: the error reading ends with.
    start_error: Option<Error>,
    /// The host copies of frames held in device memory, when they are.
    staged: Option<Staged>,
}

/// Host frames held in device memory while they wait for the reader: the sessions give
/// CUDA frames, and each is copied to the host as the reader reaches it, the copies of
/// the next few decoded frames queued behind it.
struct Staged {
    /// The host format the reader's caller asked for (`Nv12`, `Yuv420p`, `Rgb24` or
    /// `RgbPlanar`).
    format: PixelFormat,
    /// The copy queue, made at the first CUDA frame (for its GPU).
    staging: Option<Box<dyn HostStaging>>,
    /// Frames copied and handed out since [`ReadAhead::take_staged`] last asked.
    handed_out: u64,
    /// The sessions were switched to CUDA frames (and go back to host frames at the end).
    switched: bool,
    /// What the reader hands out next, in order: each with the frame reading was due at
    /// when it was taken from the jobs.
    queue: VecDeque<(usize, Next)>,
}

impl Staged {
    /// Starts the copy of a CUDA frame (making the copy queue for its GPU at the first).
    fn start(&mut self, frame: Frame) -> Result<()> {
        if self.staging.is_none()
            && let FrameData::Device(cuda) = &frame.data
        {
            self.staging = Some(cuda.host_staging()?);
        }
        match &mut self.staging {
            Some(staging) => staging.start(frame, self.format),
            None => Err(Error::invalid_input("a host copy of a frame that is not in CUDA memory")),
        }
    }
}

/// Gives `decoders` host frames in `format` again.
fn restore_output<'a>(decoders: impl IntoIterator<Item = &'a mut Decoder>, format: PixelFormat) {
    for d in decoders {
        if let Err(e) = d.set_output(Output::Host(format), false) {
            tracing::warn!(error = %e, "a read-ahead session keeps giving CUDA frames");
        }
    }
}

/// One thing the reader hands out.
enum Next {
    /// A frame whose copy is queued on the staging (the next one it finishes).
    Copying(usize),
    /// A frame, the end, or an error, as the jobs gave it (boxed: rare, and large).
    Given(Box<Result<Option<(usize, Frame)>>>),
}

/// Frames held in device memory while reading ahead: the host format asked for, and the
/// bound on bytes held that reading uses unless the caller set one.
#[derive(Debug, Clone, Copy)]
pub(super) struct DeviceHeld {
    pub format: PixelFormat,
    pub default_budget: usize,
}

/// Whether the frames of a read of `index` on `sessions` sessions are held in device memory
/// (see [`Staged`]): the caller asked for host NV12, YUV420P, RGB24 or planar RGB without a
/// transform, every session is NVDEC's (`decoders`: those open, the first session among
/// them; the sessions still to open are pinned to its engine), and the longest job fits
/// [`DEVICE_JOB_BYTES`] and a quarter of the GPU's free memory.
/// `VIDEO_HW_READ_AHEAD_DEVICE=0` holds them in host memory (for measuring the
/// difference).
///
/// The default bound then lets every session hold a job and have one more queued (a worker
/// that finished its job starts the next while the reader waits on the oldest: with 4 GiB,
/// 1080p GOPs of 250 frames kept 5 of the H200's 7 engines busy), within a quarter of the
/// GPU's free memory, and never below [`DEFAULT_READ_AHEAD_BYTES`] unless that quarter is.
pub(super) fn device_held(
    decoders: &[&Decoder],
    sessions: usize,
    index: &FrameIndex,
    start_of: &dyn Fn(usize) -> usize,
    frame_bytes: usize,
) -> Option<DeviceHeld> {
    if !crate::env::settings().read_ahead_device {
        return None;
    }
    let config = decoders.first()?.config();
    let format =
        match config.output {
            Output::Host(
                f @ (PixelFormat::Nv12 | PixelFormat::Yuv420p | PixelFormat::Rgb24 | PixelFormat::RgbPlanar),
            ) if config.transform.is_none() => f,
            _ => return None,
        };
    let on_device = |d: &Decoder| {
        let descriptor = crate::registry::descriptor(d.engine());
        descriptor.device.filter(|_| descriptor.reads_ahead_on_device)
    };
    let device = on_device(decoders.first()?)?;
    if !decoders.iter().all(|d| on_device(d).is_some()) {
        return None;
    }
    let job_bytes = longest_job(index, start_of).saturating_mul(frame_bytes);
    let free = (device.free_memory)(config.device_index).unwrap_or(0);
    // Within the GPU memory budget too, where one is set: what it leaves beside what the
    // process holds now.
    let left = crate::gpu_memory::limit(config.device_index)
        .map_or(u64::MAX, |l| l.saturating_sub(crate::gpu_memory::usage(config.device_index).in_use));
    let quarter = usize::try_from((free / 4).min(left)).unwrap_or(usize::MAX);
    if job_bytes > DEVICE_JOB_BYTES.min(quarter) {
        return None;
    }
    let wanted = job_bytes.saturating_mul(sessions + 2).max(DEFAULT_READ_AHEAD_BYTES);
    Some(DeviceHeld { format, default_budget: wanted.min(quarter) })
}

/// The most frames one job of `index` can have (its longest run of frames decoding from
/// the same random access point, or [`MIN_JOB_FRAMES`] and a bit).
fn longest_job(index: &FrameIndex, start_of: &dyn Fn(usize) -> usize) -> usize {
    let (mut longest, mut from) = (0, 0);
    while from < index.len() {
        let (frames, end) = job_frames(index.len(), from, start_of);
        longest = longest.max(frames.len());
        from = end;
    }
    longest
}

/// The jobs a read-ahead from frame `first` of `n` makes: the independent pieces its
/// sessions decode at once.
pub(super) fn jobs_from(n: usize, first: usize, start_of: &dyn Fn(usize) -> usize) -> usize {
    jobs_from_at_most(n, first, start_of, usize::MAX)
}

/// [`jobs_from`], counted no further than `most`: what a read-ahead's start needs to size its
/// sessions, without walking a long file's whole index each time it starts.
pub(super) fn jobs_from_at_most(n: usize, first: usize, start_of: &dyn Fn(usize) -> usize, most: usize) -> usize {
    let (mut jobs, mut from) = (0, first);
    while from < n && jobs < most {
        from = job_frames(n, from, start_of).1;
        jobs += 1;
    }
    jobs
}

impl ReadAhead {
    /// Starts a worker on each of `sessions`, reading from frame `first` (those to open are
    /// opened by their workers). With `device_held` (the format from [`device_held`]) the
    /// sessions give CUDA frames while they read ahead, and the reader copies each to the
    /// host in that format as it takes it.
    pub fn start(
        mut sessions: Vec<Session>,
        feed: &Feed,
        first: usize,
        budget: usize,
        frame_bytes: usize,
        device_held: Option<PixelFormat>,
    ) -> ReadAhead {
        let mut staged = None;
        // What the sessions the workers open switch to, as the open ones did.
        let mut switch_to = None;
        if let Some(format) = device_held {
            // The budget bounds the frames held, so the sessions' own bound is lifted.
            // RGB is made on the GPU either way; YUV comes as NV12 (P010) and is made
            // planar, if asked, on its way to the host.
            let on_gpu = match format {
                PixelFormat::Rgb24 | PixelFormat::RgbPlanar => format,
                _ => PixelFormat::Nv12,
            };
            let switched = open_ones(&mut sessions).try_for_each(|d| d.set_output(Output::Cuda(on_gpu), true));
            match switched {
                Ok(()) => {
                    switch_to = Some(on_gpu);
                    staged =
                        Some(Staged { format, staging: None, handed_out: 0, switched: true, queue: VecDeque::new() })
                }
                Err(e) => {
                    tracing::debug!(error = %e, "read-ahead frames stay in host memory");
                    restore_output(open_ones(&mut sessions), format);
                }
            }
        }
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        // Workers that may still take jobs: the last one whose session cannot open answers
        // every job with its error rather than leaving the jobs to no one.
        let live = Arc::new(AtomicUsize::new(sessions.len()));
        // Kept threads where they wait (crate::worker_threads). A session whose thread
        // cannot start is dropped; with none started, the first job cannot be queued and
        // reading ends with the error that stopped them.
        let mut start_error = None;
        let workers: Vec<Worker<Option<Decoder>>> = sessions
            .into_iter()
            .filter_map(|session| {
                let (rx, feed, mine) = (rx.clone(), feed.clone(), live.clone());
                let started = worker_threads::spawn("video-hw-read-ahead", move || {
                    let decoder = match session {
                        Session::Open(d) => *d,
                        Session::ToOpen(config) => match open_session(config, switch_to) {
                            Ok(d) => d,
                            Err(e) => return without_session(e, &mine, &rx),
                        },
                    };
                    Some(work(decoder, &feed, &rx))
                });
                if started.is_err() {
                    live.fetch_sub(1, Ordering::AcqRel);
                }
                started
                    .inspect_err(|e| tracing::warn!(error = %e, "a read-ahead session did not start"))
                    .map_err(|e| {
                        start_error.get_or_insert(e);
                    })
                    .ok()
            })
            .collect();
        let start_error = if workers.is_empty() { start_error } else { None };
        let sessions = workers.len().max(1);
        ReadAhead {
            jobs: Some(tx),
            workers,
            in_flight: VecDeque::new(),
            next_job: first,
            held: 0,
            budget,
            frame_bytes: frame_bytes.max(1),
            sessions,
            staged,
            start_error,
        }
    }

    /// The next frame in presentation order (frame number, frame), `Ok(None)` after the
    /// last. A frame the file's damage kept from decoding is an `InvalidBitstream` error;
    /// the reading goes on after it at the next call.
    pub fn next(&mut self, src: &mut Source<'_>) -> Result<Option<(usize, Frame)>> {
        if self.staged.is_none() {
            return self.take(src, true).map_or(Ok(None), |got| got);
        }
        let len = src.index.len();
        if self.staged.as_ref().is_some_and(|s| s.queue.is_empty()) {
            let at = self.take_position(len);
            let got = self.take(src, true).unwrap_or(Ok(None));
            self.stage(at, got);
        }
        // Queue the copies of the frames already decoded behind this one, so they run
        // while the caller works on it; an end or an error is handed out in its turn.
        while self.staged.as_ref().is_some_and(|s| {
            s.queue.len() < STAGED_AHEAD
                && !matches!(s.queue.back(), Some((_, Next::Given(g))) if matches!(**g, Err(_) | Ok(None)))
        }) {
            let at = self.take_position(len);
            match self.take(src, false) {
                Some(got) => self.stage(at, got),
                None => break,
            }
        }
        let Some(staged) = self.staged.as_mut() else { return Ok(None) };
        match staged.queue.pop_front() {
            Some((_, Next::Copying(f))) => match staged.staging.as_mut().map(|s| s.finish()) {
                Some(Ok(Some(frame))) => {
                    staged.handed_out += 1;
                    Ok(Some((f, frame)))
                }
                Some(Err(e)) => Err(e),
                _ => Err(Error::backend("read-ahead", "host copy", "a queued copy is missing")),
            },
            Some((_, Next::Given(got))) => *got,
            None => Ok(None),
        }
    }

    /// Holds the frames read ahead through `staging` (a stand-in for the GPU's copies), for
    /// testing the order in which they are handed out.
    #[cfg(test)]
    fn with_staging(mut self, staging: Box<dyn HostStaging>, format: PixelFormat) -> Self {
        self.staged =
            Some(Staged { format, staging: Some(staging), handed_out: 0, switched: false, queue: VecDeque::new() });
        self
    }

    /// Queues what the jobs gave, taken when reading was due at frame `at`: a CUDA frame's
    /// copy to the host is started.
    fn stage(&mut self, at: usize, got: Result<Option<(usize, Frame)>>) {
        let Some(staged) = self.staged.as_mut() else { return };
        let next = match got {
            // Once the staging exists every frame goes through it (the sessions all give
            // CUDA frames then), so the order is the staging's.
            Ok(Some((f, frame))) if staged.staging.is_some() || matches!(frame.data, FrameData::Device(_)) => {
                match staged.start(frame) {
                    Ok(()) => Next::Copying(f),
                    Err(e) => Next::Given(Box::new(Err(e))),
                }
            }
            other => Next::Given(Box::new(other)),
        };
        staged.queue.push_back((at, next));
    }

    /// Where reading is among the frames the jobs give (before any queued for copying).
    fn take_position(&self, len: usize) -> usize {
        self.in_flight.iter().find_map(|j| j.wanted.get(j.due).copied()).unwrap_or(self.next_job.min(len))
    }

    /// The next frame the jobs give, as [`next`](Self::next) describes it; `None` when
    /// `wait` is false and it is still being decoded.
    fn take(&mut self, src: &mut Source<'_>, wait: bool) -> Option<Result<Option<(usize, Frame)>>> {
        let index = src.index;
        loop {
            if let Err(e) = self.top_up(src) {
                return Some(Err(e));
            }
            let Some(head) = self.in_flight.front_mut() else { return Some(Ok(None)) };
            let got = match head.pending.take() {
                Some(p) => Ok(Ok(p)),
                None if wait => head.frames.recv().map_err(|_| ()),
                None => match head.frames.try_recv() {
                    Ok(d) => Ok(d),
                    Err(std::sync::mpsc::TryRecvError::Empty) => return None,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(()),
                },
            };
            match got {
                Ok(Ok((packet, mut frame))) => {
                    let Some(f) = index.frame_of_packet(packet) else { continue };
                    let Ok(at) = head.wanted[head.due..].binary_search(&f).map(|i| head.due + i) else { continue };
                    if at > head.due {
                        // Frames before this one did not come out: damage. Report the first;
                        // the frame that did come is handed out by the next call.
                        let lost = head.wanted[head.due];
                        head.due += 1;
                        head.pending = Some((packet, frame));
                        return Some(Err(missing(index, lost)));
                    }
                    head.due += 1;
                    frame.pts = Some(index.frames()[f].pts);
                    return Some(Ok(Some((f, frame))));
                }
                Ok(Err(e)) => return Some(Err(e)),
                Err(_) => {
                    // The job is done: what it still owes was lost to damage.
                    if head.due < head.wanted.len() {
                        let lost = head.wanted[head.due];
                        head.due += 1;
                        return Some(Err(missing(index, lost)));
                    }
                    let done = self.in_flight.pop_front().map_or(0, |j| j.bytes);
                    self.held -= done;
                }
            }
        }
    }

    /// Frames held in device memory and copied to the host as they were handed out, since
    /// the last call.
    pub fn take_staged(&mut self) -> u64 {
        self.staged.as_mut().map_or(0, |s| std::mem::take(&mut s.handed_out))
    }

    /// The next frame reading is due to hand out (`len` at the end).
    pub fn position(&self, len: usize) -> usize {
        match self.staged.as_ref().and_then(|s| s.queue.front()) {
            Some(&(at, _)) => at,
            None => self.take_position(len),
        }
    }

    /// Makes the jobs the budget allows now, so the sessions start decoding before the
    /// reader takes a frame (the index calls' read-ahead, `sequential_index.rs`).
    pub fn top_up_now(&mut self, src: &mut Source<'_>) -> Result<()> {
        self.top_up(src)
    }

    /// Makes jobs for the frames ahead while a worker could take one and they fit the budget.
    fn top_up(&mut self, src: &mut Source<'_>) -> Result<()> {
        let (index, start_of) = (src.index, src.start_of);
        while self.next_job < index.len() && self.in_flight.len() < 2 * self.sessions {
            let (frames, end) = job_frames(index.len(), self.next_job, start_of);
            let bytes = frames.len().saturating_mul(self.frame_bytes);
            if !self.in_flight.is_empty() && self.held.saturating_add(bytes) > self.budget {
                return Ok(());
            }
            let runs = plan(&frames, start_of, |f| index.last_packet(f));
            let mut job_runs = Vec::with_capacity(runs.len());
            for run in &runs {
                let packets = read_run(src.demuxer, index, run, src.skip)?;
                src.stats.count(&packets);
                let mut wanted: Vec<usize> = run.frames.iter().map(|&f| index.frames()[f].packet as usize).collect();
                wanted.sort_unstable();
                job_runs.push((packets, wanted));
            }
            let (out, frames_rx) = channel();
            let sent = self.jobs.as_ref().is_some_and(|jobs| jobs.send(Job { runs: job_runs, out }).is_ok());
            if !sent {
                return Err(self
                    .start_error
                    .take()
                    .unwrap_or_else(|| Error::Panicked("the read-ahead sessions".into())));
            }
            self.in_flight.push_back(InFlight { frames: frames_rx, pending: None, wanted: frames, due: 0, bytes });
            self.held += bytes;
            self.next_job = end;
        }
        Ok(())
    }

    /// Stops the workers (the jobs in flight are abandoned) and returns their sessions,
    /// flushed. A session whose thread panicked is lost (and reported).
    pub fn stop(mut self) -> Result<Vec<Decoder>> {
        self.jobs = None;
        self.in_flight.clear();
        let staged = self.staged.take();
        let mut decoders = Vec::with_capacity(self.workers.len());
        let mut lost = false;
        for w in self.workers.drain(..) {
            match w.join() {
                Ok(Some(d)) => decoders.push(d),
                // Its session never opened (the error went to the jobs it took, if any).
                Ok(None) => {}
                Err(_) => lost = true,
            }
        }
        if lost {
            return Err(Error::Panicked("a read-ahead session".into()));
        }
        if let Some(staged) = staged.filter(|s| s.switched) {
            restore_output(&mut decoders, staged.format);
        }
        Ok(decoders)
    }
}

impl std::fmt::Debug for ReadAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAhead")
            .field("sessions", &self.sessions)
            .field("jobs_in_flight", &self.in_flight.len())
            .field("next_job", &self.next_job)
            .field("held", &self.held)
            .finish()
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.jobs = None;
        self.in_flight.clear();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// The frames of the job starting at frame `from` of `n`: whole groups of frames that decode from
/// the same random access point, until the job has [`MIN_JOB_FRAMES`]; and the frame after.
/// A group that is long enough to be a job alone is never joined to the short ones before
/// it: it starts a job of its own, so another session decodes it while this job's short
/// groups decode (a 28-frame GOP before a 249-frame one kept a 1080p file's first 277 frames
/// on one NVDEC engine).
fn job_frames(n: usize, from: usize, start_of: &dyn Fn(usize) -> usize) -> (Vec<usize>, usize) {
    let mut end = from;
    while end < n {
        let start = start_of(end);
        let mut group_end = end;
        while group_end < n && start_of(group_end) == start {
            group_end += 1;
        }
        if end > from && group_end - end >= MIN_JOB_FRAMES {
            break;
        }
        end = group_end;
        if end - from >= MIN_JOB_FRAMES {
            break;
        }
    }
    ((from..end).collect(), end)
}

/// The sessions of `sessions` the reader had (switched to CUDA frames and back on the
/// caller's thread; the others switch as their workers open them).
fn open_ones(sessions: &mut [Session]) -> impl Iterator<Item = &mut Decoder> {
    sessions.iter_mut().filter_map(|s| match s {
        Session::Open(d) => Some(&mut **d),
        Session::ToOpen(_) => None,
    })
}

/// Opens a read-ahead session on its worker's thread, giving CUDA frames in `switch_to`
/// when the reader's open sessions were switched to them.
fn open_session(config: Box<DecoderConfig>, switch_to: Option<PixelFormat>) -> Result<Decoder> {
    let mut decoder = Decoder::open(*config)?;
    if let Some(on_gpu) = switch_to {
        decoder.set_output(Output::Cuda(on_gpu), true)?;
    }
    Ok(decoder)
}

/// A worker whose session did not open: it stops, and the other workers take the jobs;
/// the last worker left answers each job with the error instead, so the reader gets an
/// error rather than frames that never come. Gives no session back.
fn without_session(e: Error, live: &AtomicUsize, jobs: &Mutex<Receiver<Job>>) -> Option<Decoder> {
    tracing::warn!(error = %e, "a read-ahead session did not open");
    if live.fetch_sub(1, Ordering::AcqRel) != 1 {
        return None;
    }
    let mut first = Some(e);
    loop {
        let job = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = job else { return None };
        let e = first.take().unwrap_or_else(|| Error::backend("read-ahead", "open", "no read-ahead session opened"));
        let _ = job.out.send(Err(e));
    }
}

/// A worker: decodes jobs until the reader stops, then gives its session back.
fn work(mut decoder: Decoder, feed: &Feed, jobs: &Mutex<Receiver<Job>>) -> Decoder {
    loop {
        let job = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = job else { return decoder };
        for (packets, wanted) in &job.runs {
            let emit = |packet: usize, frame: Frame| {
                wanted.binary_search(&packet).is_err() || job.out.send(Ok((packet, frame))).is_ok()
            };
            if let Err(e) = decode_run_with(&mut decoder, feed, packets, || {}, emit) {
                let _ = job.out.send(Err(e));
                break;
            }
        }
    }
}

#[cfg(test)]
#[path = "read_ahead_tests.rs"]
mod tests;
