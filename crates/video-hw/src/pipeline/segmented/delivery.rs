//! The caller's side of a segmented decode: frames put back into each stream's order (or
//! handed out as they come), the figures kept, and the workers let on.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;

use super::worker::{Job, Message, Shared};
use super::{SegmentFrame, SegmentedStats};
use crate::error::{Error, Result};
use crate::frame::Frame;

/// Hands frames to the caller: in each stream's order (frames of a segment that is not
/// next wait), or as they come.
pub(super) struct Delivery {
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
    pub(super) fn new(jobs: &[Job<'_>], streams: usize, ordered: bool) -> Self {
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
pub(super) fn deliver(
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
                    stats.backend.clone_from(&backend);
                }
                stats.session_backends.push(backend);
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
