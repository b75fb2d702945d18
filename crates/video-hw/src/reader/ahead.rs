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
//! `read_ahead_bytes` together with the jobs in flight; the oldest job always runs. With
//! 1080p NV12 (3.1 MB a frame) and GOPs of 250 frames, the default 4 GiB lets five GOPs
//! decode at once.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::plan::plan;
use super::run::{Feed, Packets, Skipper, decode_run_with, missing, read_run};
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{Demuxer, FrameIndex};

/// Default bound on the bytes of frames decoded ahead of the reader (4 GiB).
pub const DEFAULT_READ_AHEAD_BYTES: usize =
    if (usize::MAX as u64) < (4u64 << 30) { usize::MAX } else { (4u64 << 30) as usize };
/// A job holds whole GOPs and at least this many frames (short GOPs, all-intra streams):
/// each job ends with a flush, which costs a few pictures' time on NVDEC.
const MIN_JOB_FRAMES: usize = 48;

/// A decoded frame of a job (its decode-order packet tag), or the job's failure.
type Delivery = Result<(usize, Frame)>;

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
    /// Packets fed so far (the reader's statistics).
    pub fed: &'a mut u64,
}

/// The workers and the jobs in flight of one sequential read.
pub(super) struct ReadAhead {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<Decoder>>,
    in_flight: VecDeque<InFlight>,
    /// The first frame no job was made for yet.
    next_job: usize,
    held: usize,
    budget: usize,
    frame_bytes: usize,
    sessions: usize,
}

impl ReadAhead {
    /// Starts a worker on each of `decoders`, reading from frame `first`.
    pub fn start(decoders: Vec<Decoder>, feed: &Feed, first: usize, budget: usize, frame_bytes: usize) -> ReadAhead {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let sessions = decoders.len();
        let workers = decoders
            .into_iter()
            .map(|decoder| {
                let (rx, feed) = (rx.clone(), feed.clone());
                std::thread::Builder::new()
                    .name("video-hw-read-ahead".into())
                    .spawn(move || work(decoder, &feed, &rx))
                    .expect("spawning a read-ahead thread")
            })
            .collect();
        ReadAhead {
            jobs: Some(tx),
            workers,
            in_flight: VecDeque::new(),
            next_job: first,
            held: 0,
            budget,
            frame_bytes: frame_bytes.max(1),
            sessions,
        }
    }

    /// The next frame in presentation order (frame number, frame), `Ok(None)` after the
    /// last. A frame the file's damage kept from decoding is an `InvalidBitstream` error;
    /// the reading goes on after it at the next call.
    pub fn next(&mut self, src: &mut Source<'_>) -> Result<Option<(usize, Frame)>> {
        let index = src.index;
        loop {
            self.top_up(src)?;
            let Some(head) = self.in_flight.front_mut() else { return Ok(None) };
            let got = match head.pending.take() {
                Some(p) => Ok(Ok(p)),
                None => head.frames.recv(),
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
                        return Err(missing(index, lost));
                    }
                    head.due += 1;
                    frame.pts = Some(index.frames()[f].pts);
                    return Ok(Some((f, frame)));
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    // The job is done: what it still owes was lost to damage.
                    if head.due < head.wanted.len() {
                        let lost = head.wanted[head.due];
                        head.due += 1;
                        return Err(missing(index, lost));
                    }
                    let done = self.in_flight.pop_front().map_or(0, |j| j.bytes);
                    self.held -= done;
                }
            }
        }
    }

    /// The next frame reading is due to hand out (`len` at the end).
    pub fn position(&self, len: usize) -> usize {
        self.in_flight.iter().find_map(|j| j.wanted.get(j.due).copied()).unwrap_or(self.next_job.min(len))
    }

    /// Makes jobs for the frames ahead while a worker could take one and they fit the budget.
    fn top_up(&mut self, src: &mut Source<'_>) -> Result<()> {
        let (index, start_of) = (src.index, src.start_of);
        while self.next_job < index.len() && self.in_flight.len() <= self.sessions {
            let (frames, end) = job_frames(index, self.next_job, start_of);
            let bytes = frames.len().saturating_mul(self.frame_bytes);
            if !self.in_flight.is_empty() && self.held.saturating_add(bytes) > self.budget {
                return Ok(());
            }
            let runs = plan(&frames, start_of, |f| index.frames()[f].packet as usize);
            let mut job_runs = Vec::with_capacity(runs.len());
            for run in &runs {
                let packets = read_run(src.demuxer, index, run, src.skip)?;
                *src.fed += packets.len() as u64;
                let mut wanted: Vec<usize> = run.frames.iter().map(|&f| index.frames()[f].packet as usize).collect();
                wanted.sort_unstable();
                job_runs.push((packets, wanted));
            }
            let (out, frames_rx) = channel();
            let sent = self.jobs.as_ref().is_some_and(|jobs| jobs.send(Job { runs: job_runs, out }).is_ok());
            if !sent {
                return Err(Error::Panicked("the read-ahead sessions".into()));
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
        let mut decoders = Vec::with_capacity(self.workers.len());
        let mut lost = false;
        for w in self.workers.drain(..) {
            match w.join() {
                Ok(d) => decoders.push(d),
                Err(_) => lost = true,
            }
        }
        if lost {
            return Err(Error::Panicked("a read-ahead session".into()));
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

/// The frames of the job starting at frame `from`: whole groups of frames that decode from
/// the same random access point, until the job has [`MIN_JOB_FRAMES`]; and the frame after.
fn job_frames(index: &FrameIndex, from: usize, start_of: &dyn Fn(usize) -> usize) -> (Vec<usize>, usize) {
    let n = index.len();
    let mut end = from;
    while end < n {
        let start = start_of(end);
        while end < n && start_of(end) == start {
            end += 1;
        }
        if end - from >= MIN_JOB_FRAMES {
            break;
        }
    }
    ((from..end).collect(), end)
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
            if let Err(e) = decode_run_with(&mut decoder, feed, packets, emit) {
                let _ = job.out.send(Err(e));
                break;
            }
        }
    }
}
