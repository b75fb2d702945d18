//! The threads that run sessions for the async sessions, the pipelines and the frame
//! reader's read-ahead, kept for the next session once one ends.
//!
//! Why: a thread's first session pays for memory the allocator gives that thread. Each
//! new thread gets a malloc arena of its own, and an engine's first buffers on it are
//! fresh pages the kernel must fault in and zero: about 1,500 page faults (6 MB) for an
//! OpenH264 decoder of 320x240 frames, 3.6 ms on the 2-core development VM, against none
//! for the same decoder opened again on a thread that had one before
//! (docs/async.md, "Cost"). A service that opens a session per clip, per request or per
//! sender paid that on every one. Kept threads do not: a session started soon after
//! another ended runs on the warm thread that ran it.
//!
//! A thread waits [`keep_alive`](configure) (10 s) for its next session, then ends; at most
//! `max_idle` (16) wait at once, the most recently used first (the warmest). A job that
//! panicked ends its thread (whatever it left on the thread goes with it), and a process
//! made by `fork` (a DataLoader worker) starts with no kept thread: the parent's do not
//! exist there.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A job for a worker thread.
type Job = Box<dyn FnOnce() + Send>;

/// How many threads may wait for a session by default.
const MAX_IDLE: usize = 16;
/// How long a thread waits for its next session by default.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Where a waiting thread receives its next job.
#[derive(Default)]
struct Slot {
    job: Mutex<Option<Job>>,
    arrived: Condvar,
}

/// The threads waiting for a job, and the limits.
struct Idle {
    /// Most recently parked last.
    waiting: Vec<Arc<Slot>>,
    /// The process these threads belong to: a child of `fork` has none of them.
    pid: u32,
    max_idle: usize,
    keep_alive: Duration,
}

static IDLE: Mutex<Idle> = Mutex::new(Idle { waiting: Vec::new(), pid: 0, max_idle: MAX_IDLE, keep_alive: KEEP_ALIVE });

/// The waiting threads of this process (a poisoned lock is taken as it is: the list is
/// never left half-changed).
fn idle() -> MutexGuard<'static, Idle> {
    let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    if idle.pid != pid {
        // Threads do not survive `fork`: the slots listed are of the parent's threads.
        idle.waiting.clear();
        idle.pid = pid;
    }
    idle
}

/// Sets how many threads may wait for their next session at once (0: none is kept, each
/// session gets a new thread) and how long each waits before it ends. Threads waiting
/// over the new limit end at once; the keep-alive applies to threads that start waiting
/// from then on.
pub fn configure(max_idle: usize, keep_alive: Duration) {
    let over: Vec<Arc<Slot>> = {
        let mut idle = idle();
        idle.max_idle = max_idle;
        idle.keep_alive = keep_alive;
        let over = idle.waiting.len().saturating_sub(max_idle);
        idle.waiting.drain(..over).collect()
    };
    // The oldest waiting get an empty job: run, they find the list full and end.
    for slot in over {
        give(&slot, Box::new(|| {}));
    }
}

/// How many threads may wait for a session at once ([`configure`]).
pub fn idle_limit() -> usize {
    idle().max_idle
}

/// How many threads are waiting for a session now.
pub fn idle_threads() -> usize {
    idle().waiting.len()
}

/// What a job returned, or the payload of its panic.
type Outcome<T> = std::thread::Result<T>;

/// A job started by [`spawn`]: wait for it with [`join`](Worker::join).
pub(crate) struct Worker<T = ()> {
    done: Arc<(Mutex<Option<Outcome<T>>>, Condvar)>,
}

impl<T> Worker<T> {
    /// Waits until the job has returned (everything it owned but its result dropped) or
    /// panicked, as `JoinHandle::join` does.
    pub fn join(self) -> Outcome<T> {
        let (lock, cv) = &*self.done;
        let mut done = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(outcome) = done.take() {
                return outcome;
            }
            done = cv.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Runs `job` on a waiting thread, or on a new thread named `name` when none waits.
/// The thread's OS name is `name` while the job runs (Linux).
pub(crate) fn spawn<T: Send + 'static>(name: &str, job: impl FnOnce() -> T + Send + 'static) -> Result<Worker<T>> {
    let done = Arc::new((Mutex::new(None), Condvar::new()));
    let finished = done.clone();
    let named = name.to_string();
    let wrapped: Job = Box::new(move || {
        set_os_name(&named);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        let panicked = outcome.is_err();
        let (lock, cv) = &*finished;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        cv.notify_all();
        if panicked {
            // Whatever the job left on this thread (a pushed CUDA context, thread-local
            // state) goes with it.
            std::panic::resume_unwind(Box::new("a worker thread's job panicked"));
        }
    });
    let slot = idle().waiting.pop();
    match slot {
        Some(slot) => give(&slot, wrapped),
        None => {
            std::thread::Builder::new()
                .name(name.to_string())
                .spawn(move || serve(wrapped))
                .map_err(|e| Error::from(e).context(format!("starting a {name} thread")))?;
        }
    }
    Ok(Worker { done })
}

/// Hands `job` to the thread waiting on `slot` (taken off the list by the caller).
fn give(slot: &Slot, job: Job) {
    *slot.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job);
    slot.arrived.notify_one();
}

/// A worker thread: runs `first`, then each job handed to it while it waits, until it has
/// waited the keep-alive for none (or was not kept).
fn serve(first: Job) {
    let mut job = first;
    loop {
        job();
        let slot = Arc::new(Slot::default());
        let keep_alive = {
            let mut idle = idle();
            if idle.waiting.len() >= idle.max_idle {
                return;
            }
            idle.waiting.push(slot.clone());
            idle.keep_alive
        };
        match wait_for_job(&slot, keep_alive) {
            Some(next) => job = next,
            None => return,
        }
    }
}

/// Waits on `slot` for a job up to `keep_alive`; `None` once the thread should end.
fn wait_for_job(slot: &Arc<Slot>, keep_alive: Duration) -> Option<Job> {
    let deadline = Instant::now() + keep_alive;
    let mut job = slot.job.lock().unwrap_or_else(|e| e.into_inner());
    let mut listed = true;
    loop {
        if let Some(next) = job.take() {
            return Some(next);
        }
        let now = Instant::now();
        if listed && now >= deadline {
            // The list's lock is taken with the slot's held; `spawn` and `configure` never
            // take them the other way round.
            let mut idle = idle();
            match idle.waiting.iter().position(|s| Arc::ptr_eq(s, slot)) {
                Some(at) => {
                    idle.waiting.remove(at);
                    return None;
                }
                // Someone took this slot off the list: its job is on the way (placed right
                // after), so it is waited for however long that takes.
                None => listed = false,
            }
        }
        job = if listed {
            slot.arrived.wait_timeout(job, deadline.saturating_duration_since(now)).unwrap_or_else(|e| e.into_inner()).0
        } else {
            slot.arrived.wait(job).unwrap_or_else(|e| e.into_inner())
        };
    }
}

/// Names the calling thread `name` for the OS (debuggers, `top -H`, profilers), as a new
/// thread of that name would be: a kept thread runs jobs of several kinds.
#[cfg(target_os = "linux")]
fn set_os_name(name: &str) {
    // Linux keeps 15 bytes of a thread's name; a name with a NUL is left as it was.
    let mut bytes: Vec<u8> = name.bytes().take(15).collect();
    while std::str::from_utf8(&bytes).is_err() {
        bytes.pop();
    }
    let Ok(name) = std::ffi::CString::new(bytes) else { return };
    // SAFETY: `name` is a NUL-terminated string of at most 16 bytes, alive for the call;
    // `pthread_self()` is the calling thread, which is running.
    unsafe {
        libc::pthread_setname_np(libc::pthread_self(), name.as_ptr());
    }
}

/// Thread names stay as their first job set them here.
#[cfg(not(target_os = "linux"))]
fn set_os_name(_name: &str) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The tests change the process-wide limits: one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn thread_id() -> std::thread::ThreadId {
        std::thread::current().id()
    }

    #[test]
    fn a_second_job_runs_on_the_thread_the_first_ended_on() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        configure(MAX_IDLE, KEEP_ALIVE);
        let (tx, rx) = std::sync::mpsc::channel();
        let first = tx.clone();
        spawn("video-hw-test", move || first.send(thread_id()).unwrap()).unwrap().join().unwrap();
        let a = rx.recv().unwrap();
        // The thread parks right after the job's end is reported: wait for it to be listed.
        let until = Instant::now() + Duration::from_secs(5);
        while idle_threads() == 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        spawn("video-hw-test", move || tx.send(thread_id()).unwrap()).unwrap().join().unwrap();
        assert_eq!(rx.recv().unwrap(), a);
    }

    #[test]
    fn jobs_at_once_each_get_a_thread_and_all_finish() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        configure(MAX_IDLE, KEEP_ALIVE);
        let running = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let workers: Vec<Worker> = (0..8)
            .map(|_| {
                let (running, barrier) = (running.clone(), barrier.clone());
                spawn("video-hw-test", move || {
                    running.fetch_add(1, Ordering::SeqCst);
                    // All eight wait for each other: only eight threads get past this.
                    barrier.wait();
                })
                .unwrap()
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(running.load(Ordering::SeqCst), 8);
    }

    #[test]
    fn a_panicking_job_is_reported_and_its_thread_is_not_kept() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        configure(MAX_IDLE, KEEP_ALIVE);
        let (tx, rx) = std::sync::mpsc::channel();
        let w = spawn("video-hw-test", move || {
            tx.send(thread_id()).unwrap();
            panic!("on purpose");
        })
        .unwrap();
        let payload = w.join().unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"on purpose"));
        let gone = rx.recv().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let tx = tx.clone();
            spawn("video-hw-test", move || tx.send(thread_id()).unwrap()).unwrap().join().unwrap();
            assert_ne!(rx.recv().unwrap(), gone);
        }
    }

    #[test]
    fn kept_threads_end_after_the_keep_alive_and_over_the_limit() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // Threads kept by the other tests wait on with the keep-alive they parked with.
        configure(0, KEEP_ALIVE);
        configure(MAX_IDLE, Duration::from_millis(50));
        for w in (0..3).map(|_| spawn("video-hw-test", || {}).unwrap()).collect::<Vec<_>>() {
            w.join().unwrap();
        }
        let until = Instant::now() + Duration::from_secs(5);
        while idle_threads() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(idle_threads(), 0, "kept threads ended after their keep-alive");

        configure(MAX_IDLE, KEEP_ALIVE);
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let workers: Vec<Worker> = (0..4)
            .map(|_| {
                let barrier = barrier.clone();
                spawn("video-hw-test", move || {
                    barrier.wait();
                })
                .unwrap()
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let until = Instant::now() + Duration::from_secs(5);
        while idle_threads() < 4 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        configure(1, KEEP_ALIVE);
        assert!(idle_threads() <= 1);
        configure(0, KEEP_ALIVE);
        assert_eq!(idle_threads(), 0);
        // With none kept, every job still runs.
        spawn("video-hw-test", || {}).unwrap().join().unwrap();
        assert_eq!(idle_threads(), 0);
        configure(MAX_IDLE, KEEP_ALIVE);
    }
}
