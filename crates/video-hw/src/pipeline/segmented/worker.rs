//! The sessions' side of a segmented decode: jobs, what the threads share, and the worker
//! that decodes segments and sends their frames to the delivering thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::bitstream::segments::Segment;
use crate::config::DecoderConfig;
use crate::decoder::{Decoder, Input};
use crate::error::{Error, Result};
use crate::frame::Frame;

/// One segment to decode.
pub(super) struct Job<'a> {
    pub(super) stream: usize,
    /// Its index among the stream's segments.
    pub(super) nth: usize,
    pub(super) segment: &'a Segment,
}

/// What workers tell the delivering thread.
pub(super) enum Message {
    Opened(String),
    Frame { job: usize, frame: Frame },
    Done { job: usize, dropped: u64, concealed: u64, first_error: Option<Error> },
    Failed(Error),
    Exit,
}

/// State the workers and the delivering thread share.
pub(super) struct Shared {
    pub(super) next_job: AtomicUsize,
    pub(super) stop: AtomicBool,
    /// Every job below this index has been handed to the caller whole.
    pub(super) delivered_below: Mutex<usize>,
    /// Signalled when `delivered_below`, `held` or `heads` change, and on a stop.
    pub(super) advanced: Condvar,
    pub(super) ahead: usize,
    /// Bytes of frames waiting for an earlier segment now, and the most allowed before
    /// the sessions of segments that are not next pause.
    pub(super) held_bytes: AtomicUsize,
    pub(super) max_held_bytes: usize,
    /// Per job: whether its frames go out as they come (the next segment of its stream,
    /// or every job when unordered).
    pub(super) heads: Vec<AtomicBool>,
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

    pub(super) fn halt(&self) {
        self.stop.store(true, Ordering::Release);
        let _below = self.delivered_below.lock();
        self.advanced.notify_all();
    }
}

/// One session's thread.
pub(super) struct Worker<'a> {
    pub(super) config: &'a DecoderConfig,
    pub(super) chunk: usize,
    pub(super) shared: &'a Shared,
    pub(super) tx: &'a SyncSender<Message>,
}

impl Worker<'_> {
    pub(super) fn work<S: AsRef<[u8]>>(&self, jobs: &[Job<'_>], streams: &[S]) -> Result<()> {
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
