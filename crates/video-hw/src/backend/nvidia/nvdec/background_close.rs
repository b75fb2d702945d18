//! Closing NVDEC sessions off the caller's thread.
//!
//! `cuvidDestroyDecoder` takes ~25 ms once a stream has been flushed, and 160–230 ms when a
//! session is dropped with pictures still in the decoder (an H200, driver 580; waiting for
//! those pictures to finish first does not shorten it: bench/results/nvdec-ablation.md). A
//! caller dropping a `Decoder` (a stream that ended, a client that went away) should not
//! stall for that, so the session's remains go to one closer thread that destroys them.
//!
//! Bounded: while [`MAX_PENDING`] closes wait, the next one runs on the dropping thread
//! (each pending close holds its decoder's surfaces in device memory). Leak checks call
//! [`wait_idle`] (`diagnostics::wait_for_nvdec_closes`), then release the parked decoders
//! (`diagnostics::release_parked_nvdec_decoders`), before counting sessions and memory.
//!
//! At process exit the CUDA driver tears itself down; a destroy still running on the closer
//! thread then can deadlock with it (a test binary on an H200 hung at exit that way). So
//! the thread's start also registers a C `atexit` handler that waits for pending closes
//! (at most [`EXIT_WAIT`]). It is registered after the driver's own exit handlers (the
//! driver is initialised before any decoder exists), and C runs exit handlers in reverse
//! order of registration, so ours runs first.
//!
//! The thread also destroys, once a second, the decoders parked for reuse that waited too
//! long (`decoder_reuse`).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Closes that may wait at once before dropping closes inline.
pub(crate) const MAX_PENDING: usize = 16;

/// The longest the process's exit waits for pending closes (16 × 230 ms at most, when
/// every pending session was dropped with pictures in flight, is under 4 s).
pub(crate) const EXIT_WAIT: Duration = Duration::from_secs(10);

/// Closes handed over and not finished.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Set by the exit handler: the closer starts no more destroys of its own.
static EXITING: AtomicBool = AtomicBool::new(false);

/// How often the closer thread destroys parked decoders that waited too long.
const TICK: Duration = Duration::from_secs(1);

/// Destroys the parked decoders that waited [`super::decoder_reuse::IDLE`], counted as pending so
/// that the exit handler waits for them, and never once the process is exiting.
fn release_expired_parked() {
    if super::decoder_reuse::parked() == 0 {
        return;
    }
    // Counted before the exit flag is read: either the exit handler sees this destroy
    // pending and waits, or this sees the flag and starts none.
    PENDING.fetch_add(1, Ordering::SeqCst);
    if !EXITING.load(Ordering::SeqCst) {
        super::decoder_reuse::release_expired();
    }
    PENDING.fetch_sub(1, Ordering::SeqCst);
}

/// Whether the closer thread runs (started on first use; it also retires parked decoders).
pub(crate) fn running() -> bool {
    queue().is_some()
}

/// The process the closer thread was started in.
static CLOSER_PID: OnceLock<u32> = OnceLock::new();

/// True in a child forked after the closer thread started: that thread, and the driver
/// state behind pending closes and parked decoders, stayed with the parent.
pub(crate) fn forked_child() -> bool {
    CLOSER_PID.get().is_some_and(|&pid| pid != std::process::id())
}

/// What is left of a session to destroy.
type Remains = Box<dyn Send>;

/// The closer thread's queue; `None` when the thread could not be started.
fn queue() -> Option<&'static Mutex<Sender<Remains>>> {
    static QUEUE: OnceLock<Option<Mutex<Sender<Remains>>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = channel::<Remains>();
            CLOSER_PID.get_or_init(std::process::id);
            let spawned = std::thread::Builder::new().name("video-hw-nvdec-close".into()).spawn(move || {
                loop {
                    match rx.recv_timeout(TICK) {
                        Ok(remains) => {
                            drop(remains);
                            PENDING.fetch_sub(1, Ordering::SeqCst);
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                    release_expired_parked();
                }
            });
            match spawned {
                Ok(_) => {
                    wait_at_exit();
                    Some(Mutex::new(tx))
                }
                Err(e) => {
                    tracing::warn!("NVDEC sessions close on the caller's thread: no closer thread ({e})");
                    None
                }
            }
        })
        .as_ref()
}

unsafe extern "C" {
    /// C's `atexit` (every C runtime has it; Rust's std links one).
    fn atexit(handler: extern "C" fn()) -> std::os::raw::c_int;
}

extern "C" fn wait_for_closes_at_exit() {
    EXITING.store(true, Ordering::SeqCst);
    if !wait_idle(EXIT_WAIT) {
        // Nothing else to do: exiting anyway may hang in the driver, waiting longer would too.
        eprintln!("video-hw: {} NVDEC session(s) still closing at exit", pending());
    }
}

/// Registers [`wait_for_closes_at_exit`] with the C runtime (once, with the closer thread).
fn wait_at_exit() {
    // SAFETY: `atexit` only stores the pointer of a handler with the C signature it expects;
    // the handler is a plain function that lives as long as the program.
    let r = unsafe { atexit(wait_for_closes_at_exit) };
    if r != 0 {
        tracing::warn!(
            "could not register the NVDEC exit wait (atexit returned {r}); exit right after dropping a decoder may hang in the driver"
        );
    }
}

/// Drops `remains` (a session's state once its parser is gone: decoder, stream, frames)
/// on the closer thread, or here when [`MAX_PENDING`] closes wait or there is no closer.
pub(crate) fn close(remains: Remains) {
    let reserved = PENDING.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < MAX_PENDING).then_some(n + 1));
    if reserved.is_err() {
        drop(remains);
        return;
    }
    // Reserved before the flag is read, as in `release_expired_parked`: either the exit
    // handler waits for this close, or this sees the flag. Once the process is exiting, a
    // destroy (here or on the closer) would run beside the driver's teardown: the driver
    // frees what the process leaves instead.
    if EXITING.load(Ordering::SeqCst) {
        PENDING.fetch_sub(1, Ordering::SeqCst);
        std::mem::forget(remains);
        return;
    }
    let Some(queue) = queue() else {
        PENDING.fetch_sub(1, Ordering::SeqCst);
        drop(remains);
        return;
    };
    let sent = queue.lock().unwrap_or_else(|p| p.into_inner()).send(remains);
    if let Err(returned) = sent {
        // The closer thread is gone (it has no way to fail but a driver crash, which ends
        // the process): close here.
        PENDING.fetch_sub(1, Ordering::SeqCst);
        drop(returned.0);
    }
}

/// Whether the process is exiting (the exit handler ran): no driver call should start now.
pub(crate) fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// Closes waiting or running on the closer thread.
pub(crate) fn pending() -> usize {
    PENDING.load(Ordering::SeqCst)
}

/// Waits until every session handed to the closer is destroyed, at most `timeout`;
/// whether it got there.
pub(crate) fn wait_idle(timeout: Duration) -> bool {
    let start = Instant::now();
    // In a child forked while closes were pending, the closer thread did not come along:
    // nothing will finish them.
    if pending() > 0 && forked_child() {
        return false;
    }
    while pending() > 0 {
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Something whose drop takes a while and says when it happened.
    struct Slow(Arc<AtomicBool>, Duration);

    impl Drop for Slow {
        fn drop(&mut self) {
            std::thread::sleep(self.1);
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// One test (the closer is process-wide): off the caller, waited for, then bounded.
    #[test]
    fn closes_run_off_the_caller_are_bounded_and_can_be_waited_for() {
        let dropped = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        close(Box::new(Slow(dropped.clone(), Duration::from_millis(50))));
        assert!(start.elapsed() < Duration::from_millis(40), "the caller waited for the close");
        assert!(wait_idle(Duration::from_secs(5)));
        assert!(dropped.load(Ordering::SeqCst));

        let flags: Vec<_> = (0..MAX_PENDING * 2).map(|_| Arc::new(AtomicBool::new(false))).collect();
        for f in &flags {
            close(Box::new(Slow(f.clone(), Duration::from_millis(5))));
            assert!(pending() <= MAX_PENDING);
        }
        assert!(wait_idle(Duration::from_secs(10)));
        assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));
        assert_eq!(pending(), 0);
    }
}
