//! Independent runs decoded on several sessions at once (a batch over several GOPs, a
//! sampler's clips): the file is read on the calling thread in decode order, longest run
//! first, and each session takes the next run from one queue as it comes free.
//!
//! Sessions the reader does not have yet are opened by their own workers, and those make
//! their decoders one at a time, each taking its first run only when its turn comes. Why:
//! NVDEC makes decoders one at a time whoever asks (~50 ms each on an H200, made when a
//! session feeds its first packet), and decoding slows while one is made. Before, seven
//! workers each took a run at once and then waited their turn, so the run a session got
//! did not depend on when its decoder would exist: the first call of a reader over eight
//! clips of a 10-minute 1080p file took ~400 ms, of which ~360 ms was seven creations one
//! after the other (H200, `examples/reader_loops --loop clips`;
//! bench/results/runs-at-once-h200-20261128-5eb1926). Now the longest runs go to the sessions whose
//! decoders come first, sessions that come free take the next runs, and a new session
//! whose turn comes when no run is left makes no decoder. A worker whose session cannot be
//! opened leaves the runs to the others (a warning, not an error: the call needs one).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, TrySendError, channel, sync_channel};
use std::sync::{Mutex, mpsc::Receiver};

use super::plan::{self, Run};
use super::run_decode::{Feed, Packets, decode_run, read_run};
use super::{FrameReader, interrupt, interrupted};
use crate::backend::software_threads;
use crate::config::DecoderConfig;
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::FrameIndex;

/// Runs read ahead per session while they decode.
const RUNS_AHEAD_PER_SESSION: usize = 2;

/// A run's packets and the frames it delivers.
type Job<'a> = (Packets, &'a [usize]);

/// A session of one call: one the reader has, or one its worker opens.
enum Slot<'a> {
    Open(&'a mut Decoder),
    ToOpen(Box<DecoderConfig>),
}

/// What a worker gives back: the frames it decoded, the session it opened (to be kept by
/// the reader), and the engine failure that stopped it.
#[derive(Default)]
struct Worked {
    frames: Vec<(usize, Frame)>,
    opened: Option<Decoder>,
    failed: Option<Error>,
}

impl FrameReader {
    /// Decodes `runs` on several sessions at once, each run from its random access point
    /// on a flushed session (which is flushed again at its end): the reader's sessions, or
    /// where [`run_sessions`](FrameReader::run_sessions) is above them, sessions of the
    /// runs' own, each with its share of the cores.
    pub(super) fn decode(&mut self, runs: &[Run]) -> Result<Vec<(usize, Frame)>> {
        let own = self.run_sessions > self.sessions;
        let sessions = if own { self.run_sessions } else { self.sessions }.min(runs.len()).max(1);
        // Work for every session takes back those the index calls' read-ahead holds.
        if sessions > 1 {
            self.stop_sequential()?;
        }
        self.ensure_first_session()?;
        let config = if own {
            // Of the first session's engine, as a read-ahead's sessions are; the cores
            // shared by the sessions of this call (fixed once opened).
            // (`sessions` is at least 2 here: one call's runs on one session stay on the
            // reader's.)
            let share = software_threads::share(sessions, software_threads::cores());
            let share = u32::try_from(share).unwrap_or(1).max(1);
            let config = self.session_config().threads(self.config.threads.unwrap_or(share));
            match self.engine.as_ref() {
                Some((engine, _)) => config.engine(crate::engine::EnginePreference::Only(*engine)),
                None => config,
            }
        } else {
            self.session_config()
        };
        let pool = if own { &mut self.run_decoders } else { &mut self.decoders };
        let have = pool.len().min(sessions);
        self.stats.runs += runs.len() as u64;
        self.demuxer_at = None;
        // The caller's check is asked here, on the calling thread; the sessions on their
        // threads see only `stop` (interrupt.rs).
        let mut check = self.interrupt.take();
        let polling = check.is_some();
        let mut asked = || check.as_mut().is_some_and(|c| c());
        let stop = AtomicBool::new(false);
        let (demuxer, index, feed, skip) = (&mut self.demuxer, &self.index, &self.feed, &self.skip);
        let stats = &mut self.stats;
        // The file is read here, in decode order; the sessions decode on their threads.
        let (job_tx, job_rx) = sync_channel::<Job<'_>>(sessions * RUNS_AHEAD_PER_SESSION);
        let job_rx = Mutex::new(job_rx);
        // Held by a new session from taking its first run until that run's first packet
        // is fed (`work`).
        let creating = Mutex::new(());
        // Each session says when it is done, so that the wait for them can ask the check.
        let (done_tx, done_rx) = channel::<()>();
        let slots = pool[..have]
            .iter_mut()
            .map(Slot::Open)
            .chain((have..sessions).map(|_| Slot::ToOpen(Box::new(config.clone()))));
        let (worked, read_error) = std::thread::scope(|scope| {
            let workers: Vec<_> = slots
                .map(|slot| {
                    let (job_rx, creating, stop, done_tx) = (&job_rx, &creating, &stop, done_tx.clone());
                    scope.spawn(move || work(slot, feed, index, job_rx, creating, stop, Done(done_tx)))
                })
                .collect();
            drop(done_tx);
            let mut read_error = None;
            'runs: for run in plan::longest_first(runs) {
                // A session's engine failure ends the call: nothing more is read.
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if asked() {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
                match read_run(demuxer, index, run, skip) {
                    Ok(packets) => {
                        stats.count(&packets);
                        let mut job = (packets, &run.frames[..]);
                        if !polling {
                            // Never blocked for good: a worker that stops takes jobs and
                            // drops them until the queue closes (`work`).
                            if job_tx.send(job).is_err() {
                                break;
                            }
                            continue;
                        }
                        // A full queue is waited on in steps, asking the check between them.
                        loop {
                            match job_tx.try_send(job) {
                                Ok(()) => break,
                                Err(TrySendError::Disconnected(_)) => break 'runs,
                                Err(TrySendError::Full(j)) => job = j,
                            }
                            if asked() {
                                stop.store(true, Ordering::Relaxed);
                                break 'runs;
                            }
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                    }
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
            }
            drop(job_tx);
            // Until every session is done, the check is asked every POLL.
            let mut running = workers.len();
            while running > 0 {
                match done_rx.recv_timeout(interrupt::POLL) {
                    Ok(()) => running -= 1,
                    Err(RecvTimeoutError::Timeout) => {
                        if asked() {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            let worked: Vec<Result<Worked>> = workers
                .into_iter()
                .map(|w| w.join().map_err(|_| Error::Panicked("a frame reader session".into())))
                .collect();
            (worked, read_error)
        });
        self.interrupt = check;
        let mut out = Vec::new();
        let mut first_error = read_error;
        for w in worked {
            match w {
                Ok(w) => {
                    out.extend(w.frames);
                    if let Some(d) = w.opened {
                        if own {
                            self.run_decoders.push(d);
                            self.stats.sessions = self.sessions_held();
                        } else {
                            self.add_session(d);
                        }
                    }
                    if let Some(e) = w.failed {
                        first_error.get_or_insert(e);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None if stop.load(Ordering::Relaxed) => Err(interrupted()),
            None => Ok(out),
        }
    }
}

/// A worker of [`FrameReader::decode`]: decodes runs until the queue closes. A worker
/// without a session opens one, then, holding `creating`, takes its first run and feeds
/// that run's first packet (where NVDEC makes the decoder), so that new sessions make their
/// decoders one after the other and each takes the longest run left when its decoder is
/// being made; where the queue is empty by then, it makes none. After an engine failure it
/// sets `stop` and takes the remaining jobs without decoding them, so that the reading
/// thread never waits on a queue no one empties.
fn work(
    slot: Slot<'_>,
    feed: &Feed,
    index: &FrameIndex,
    jobs: &Mutex<Receiver<Job<'_>>>,
    creating: &Mutex<()>,
    stop: &AtomicBool,
    _done: Done,
) -> Worked {
    let next = || jobs.lock().unwrap_or_else(|p| p.into_inner()).recv().ok();
    let mut opened = None;
    let (decoder, mut turn) = match slot {
        Slot::Open(d) => (d, None),
        // A call already stopping needs no new session.
        Slot::ToOpen(_) if stop.load(Ordering::Relaxed) => return Worked::default(),
        Slot::ToOpen(config) => match Decoder::open(*config) {
            Ok(d) => (opened.insert(d), Some(creating)),
            Err(e) => {
                // The sessions that did open take the runs.
                tracing::warn!(error = %e, "a frame reader session did not open; the others decode its runs");
                return Worked::default();
            }
        },
    };
    let mut frames = Vec::new();
    let mut failed = None;
    loop {
        let held = turn.take().map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
        let Some((packets, wanted)) = next() else { break };
        if stop.load(Ordering::Relaxed) {
            continue;
        }
        match decode_run(decoder, feed, index, &packets, wanted, Some(stop), || drop(held)) {
            Ok(got) => frames.extend(got),
            Err(e) => {
                // The call fails with it; the others stop too rather than decode for
                // nothing.
                stop.store(true, Ordering::Relaxed);
                failed = Some(e);
            }
        }
    }
    Worked { frames, opened, failed }
}

/// Tells the calling thread that a session of [`FrameReader::decode`] is done (when its
/// thread ends, however it ends).
struct Done(Sender<()>);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[cfg(test)]
#[path = "at_once_tests.rs"]
mod tests;
