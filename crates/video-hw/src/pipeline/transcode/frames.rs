//! The decode side of a [`Transcode`](super::Transcode) whose frames were decoded
//! elsewhere ([`TranscodeBuilder::start_from_frames`](super::TranscodeBuilder::start_from_frames)):
//! a worker that pulls them from an iterator (a [`FrameReader`](crate::reader::FrameReader)
//! reading ahead on several sessions, say) and pushes them into the ring.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::super::decode::FrameTransform;
use super::super::{FrameRing, PipelineStats, Status};
use crate::config::FrameOptions;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::worker_threads::Worker;

/// The boxed iterator of frames a feeder pulls.
pub(super) type Frames = Box<dyn Iterator<Item = Result<Frame>> + Send>;

/// The worker feeding the ring.
pub(super) struct Feeder {
    status: Arc<Status>,
    worker: Option<Worker>,
    ring: FrameRing,
}

impl Feeder {
    /// Starts pulling `frames` into `ring` (each through `transform` first), until they
    /// end, `stop` is set, or the ring's consumer goes.
    pub(super) fn spawn(
        frames: Frames,
        ring: FrameRing,
        transform: Option<FrameTransform>,
        stop: Arc<AtomicBool>,
    ) -> Result<Feeder> {
        let status = Arc::new(Status::new("frame feeder"));
        let (status_run, status_done) = (status.clone(), status.clone());
        let (ring_run, ring_done) = (ring.clone(), ring.clone());
        let worker = super::super::spawn_worker(
            "feed",
            move || feed(frames, &ring_run, transform, &stop, &status_run),
            move |r| {
                if let Err(e) = r {
                    status_done.fail(e);
                }
                status_done.finish();
                ring_done.close();
            },
        )?;
        Ok(Feeder { status, worker: Some(worker), ring })
    }

    pub(super) fn status(&self) -> &Status {
        &self.status
    }

    /// Waits for the worker to end.
    pub(super) fn join(&mut self) -> Result<()> {
        super::super::join("feed", self.worker.take())
    }

    /// Lets the worker go without waiting for it (blocked in its iterator).
    pub(super) fn detach(&mut self) {
        self.status.cancel();
        self.status.finish();
        drop(self.worker.take());
    }

    /// Figures so far: the frames pushed into the ring.
    pub(super) fn stats(&self) -> PipelineStats {
        let queue = self.ring.stats();
        let mut stats = PipelineStats { backend: "frames".into(), frames: queue.pushed, queue, ..Default::default() };
        self.status.fill(&mut stats);
        stats.fps = super::super::decode::rate(stats.frames, stats.elapsed);
        stats
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.status.cancel();
            self.ring.cancel();
            let _ = self.join();
        }
    }
}

/// The worker: frames → transform → ring. Returns quietly when stopped, cancelled or
/// when the consumer went away; an error of the iterator is returned (the frames before
/// it are in the ring and are encoded).
fn feed(
    mut frames: Frames,
    ring: &FrameRing,
    mut transform: Option<FrameTransform>,
    stop: &AtomicBool,
    status: &Status,
) -> Result<()> {
    loop {
        if stop.load(Ordering::SeqCst) || status.is_cancelled() {
            return Ok(());
        }
        let Some(frame) = frames.next() else { return Ok(()) };
        let frame = match transform.as_mut() {
            Some(t) => match t(frame?)? {
                Some(f) => f,
                None => continue,
            },
            None => frame?,
        };
        match ring.push_with(frame, FrameOptions::default(), None) {
            Ok(()) => {}
            Err(Error::Closed(_)) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
