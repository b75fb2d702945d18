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
//! made by `fork` (a DataLoader worker) starts with no kept thread and a list of its own:
//! the parent's threads do not exist there, and a lock of the parent's list may have been
//! held by one of them at the fork.

use std::cell::Cell;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::process::Process;

/// A job for a worker thread.
type Job = Box<dyn FnOnce() + Send>;

/// How many threads may wait for a session by default.
const MAX_IDLE: usize = 16;
/// How long a thread waits for its next session by default.
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// The Rust name of every worker thread; the OS name follows the job (`set_os_name`).
const THREAD_NAME: &str = "video-hw-worker";
/// The OS name of a thread waiting for its next job.
const IDLE_NAME: &str = "video-hw-idle";

/// Where a waiting thread receives its next job.
#[derive(Default)]
struct Slot {
    job: Mutex<Option<Job>>,
    arrived: Condvar,
}

/// Threads waiting for jobs, and the limits. The process has one per pid ([`pool`]); tests
/// make their own.
struct Pool {
    /// The process whose threads these are.
    pid: u32,
    /// The waiting threads' slots, most recently parked last.
    waiting: Mutex<Vec<Arc<Slot>>>,
    max_idle: AtomicUsize,
    /// In milliseconds.
    keep_alive: AtomicU64,
}

impl Pool {
    fn new(pid: u32, max_idle: usize, keep_alive: Duration) -> Pool {
        Pool {
            pid,
            waiting: Mutex::new(Vec::new()),
            max_idle: AtomicUsize::new(max_idle),
            keep_alive: AtomicU64::new(millis(keep_alive)),
        }
    }

    /// The list (a poisoned lock is taken as it is: the list is never left half-changed).
    fn waiting(&self) -> MutexGuard<'_, Vec<Arc<Slot>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep_alive(&self) -> Duration {
        Duration::from_millis(self.keep_alive.load(Ordering::Relaxed))
    }

    fn configure(&self, max_idle: usize, keep_alive: Duration) {
        self.max_idle.store(max_idle, Ordering::Relaxed);
        self.keep_alive.store(millis(keep_alive), Ordering::Relaxed);
        let over: Vec<Arc<Slot>> = {
            let mut waiting = self.waiting();
            let over = waiting.len().saturating_sub(max_idle);
            waiting.drain(..over).collect()
        };
        // The oldest waiting get an empty job: run, they find the list full and end.
        for slot in over {
            give(&slot, Box::new(|| {}));
        }
    }

    fn spawn<T: Send + 'static>(
        &'static self,
        name: &str,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Worker<T>> {
        let done = Arc::new((Mutex::new(None), Condvar::new()));
        let finished = done.clone();
        let named = name.to_string();
        let wrapped: Job = Box::new(move || {
            set_os_name(&named);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            if outcome.is_err() {
                // Whatever the job left on this thread (a pushed CUDA context, thread-local
                // state) goes with it.
                retire_this_thread();
            }
            let (lock, cv) = &*finished;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
            cv.notify_all();
        });
        let slot = self.waiting().pop();
        match slot {
            Some(slot) => give(&slot, wrapped),
            None => {
                std::thread::Builder::new()
                    .name(THREAD_NAME.into())
                    .spawn(move || self.serve(wrapped))
                    .map_err(|e| Error::from(e).context(format!("starting a {name} thread")))?;
            }
        }
        Ok(Worker { done, process: Process::current() })
    }

    /// A worker thread: runs `first`, then each job handed to it while it waits, until it
    /// has waited the keep-alive for none, was not kept, or its job retired it.
    fn serve(&'static self, first: Job) {
        let mut job = first;
        loop {
            job();
            if RETIRE.take() {
                return;
            }
            let slot = Arc::new(Slot::default());
            {
                let mut waiting = self.waiting();
                if waiting.len() >= self.max_idle.load(Ordering::Relaxed) {
                    return;
                }
                set_os_name(IDLE_NAME);
                waiting.push(slot.clone());
            }
            match self.wait_for_job(&slot) {
                Some(next) => job = next,
                None => return,
            }
        }
    }

    /// Waits on `slot` for a job up to the keep-alive; `None` once the thread should end.
    fn wait_for_job(&self, slot: &Arc<Slot>) -> Option<Job> {
        // A keep-alive too long to add to now is no limit.
        let deadline = Instant::now().checked_add(self.keep_alive());
        let mut job = slot.job.lock().unwrap_or_else(|e| e.into_inner());
        let mut listed = true;
        loop {
            if let Some(next) = job.take() {
                return Some(next);
            }
            let now = Instant::now();
            if listed && deadline.is_some_and(|d| now >= d) {
                // The list's lock is taken with the slot's held; `spawn` and `configure`
                // never take them the other way round.
                let mut waiting = self.waiting();
                match waiting.iter().position(|s| Arc::ptr_eq(s, slot)) {
                    Some(at) => {
                        waiting.remove(at);
                        return None;
                    }
                    // Someone took this slot off the list: its job is on the way (placed
                    // right after), so it is waited for however long that takes.
                    None => listed = false,
                }
            }
            job = match deadline.filter(|_| listed) {
                Some(d) => {
                    slot.arrived
                        .wait_timeout(job, d.saturating_duration_since(now))
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => slot.arrived.wait(job).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// This process's pool, made anew in a child of `fork` (with the parent's limits): the
/// parent's is left as it was, its threads and perhaps a lock held by one of them.
fn pool() -> &'static Pool {
    static POOL: AtomicPtr<Pool> = AtomicPtr::new(std::ptr::null_mut());
    let pid = std::process::id();
    let current = POOL.load(Ordering::Acquire);
    // SAFETY: POOL only ever holds null or a pointer from `Box::leak` below, never freed.
    let old = unsafe { current.as_ref() };
    if let Some(pool) = old.filter(|p| p.pid == pid) {
        return pool;
    }
    let (max_idle, keep_alive) =
        old.map_or((MAX_IDLE, KEEP_ALIVE), |p| (p.max_idle.load(Ordering::Relaxed), p.keep_alive()));
    let fresh: &'static Pool = Box::leak(Box::new(Pool::new(pid, max_idle, keep_alive)));
    match POOL.compare_exchange(current, fresh as *const Pool as *mut Pool, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        // Another thread of this process made it first (the one made here is left: once
        // per process, a few bytes).
        // SAFETY: as above.
        Err(theirs) => unsafe { &*theirs },
    }
}

std::thread_local! {
    /// Set by a job whose thread must not be kept.
    static RETIRE: Cell<bool> = const { Cell::new(false) };
}

/// Ends the calling worker thread once its job returns instead of keeping it: for a job
/// that caught a panic of code it ran, whose state on the thread is not known.
pub(crate) fn retire_this_thread() {
    RETIRE.set(true);
}

/// Sets how many threads may wait for their next session at once (0: none is kept, each
/// session gets a new thread) and how long each waits before it ends. Threads waiting
/// over the new limit end at once; the keep-alive applies to threads that start waiting
/// from then on.
pub fn configure(max_idle: usize, keep_alive: Duration) {
    pool().configure(max_idle, keep_alive);
}

/// How many threads may wait for a session at once ([`configure`]).
pub fn idle_limit() -> usize {
    pool().max_idle.load(Ordering::Relaxed)
}

/// How many threads are waiting for a session now.
pub fn idle_threads() -> usize {
    pool().waiting().len()
}

/// What a job returned, or the payload of its panic.
type Outcome<T> = std::thread::Result<T>;

/// A job started by [`spawn`]: wait for it with [`join`](Worker::join).
///
/// A lock and condition variable rather than a channel: pipelines holding one are shared
/// between threads (`Sync`), which a channel's receiver is not.
pub(crate) struct Worker<T = ()> {
    done: Arc<(Mutex<Option<Outcome<T>>>, Condvar)>,
    /// The process whose thread runs the job.
    process: Process,
}

impl<T> Worker<T> {
    /// Waits until the job has returned (everything it owned but its result dropped) or
    /// panicked, as `JoinHandle::join` does (thread-local destructors aside: the thread
    /// goes on). In a child made by `fork` since the job started, the thread that runs it
    /// is not there: the outcome is an error at once, never a wait.
    pub fn join(self) -> Outcome<T> {
        if let Err(e) = self.process.check("a worker thread's job") {
            return Err(Box::new(e.to_string()));
        }
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

/// Runs `job` on a waiting thread, or on a new one when none waits. The thread's OS name
/// is `name` while the job runs (Linux).
pub(crate) fn spawn<T: Send + 'static>(name: &str, job: impl FnOnce() -> T + Send + 'static) -> Result<Worker<T>> {
    pool().spawn(name, job)
}

/// `d` in whole milliseconds, `u64::MAX` for anything longer.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Hands `job` to the thread waiting on `slot` (taken off the list by the caller).
fn give(slot: &Slot, job: Job) {
    *slot.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job);
    slot.arrived.notify_one();
}

/// Names the calling thread `name` for the OS (debuggers, `top -H`, profilers): a kept
/// thread runs jobs of several kinds.
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

/// Thread names stay as they were made here.
#[cfg(not(target_os = "linux"))]
fn set_os_name(_name: &str) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A pool of the test's own: the process's is shared with every test that runs
    /// sessions at the same time.
    fn own_pool(max_idle: usize, keep_alive: Duration) -> &'static Pool {
        Box::leak(Box::new(Pool::new(std::process::id(), max_idle, keep_alive)))
    }

    fn thread_id() -> std::thread::ThreadId {
        std::thread::current().id()
    }

    /// Waits until `pool` has `n` threads waiting (they park just after their job's end is
    /// reported).
    fn until_waiting(pool: &Pool, n: usize) {
        let until = Instant::now() + Duration::from_secs(10);
        while pool.waiting().len() != n {
            assert!(Instant::now() < until, "{} threads waiting, not {n}", pool.waiting().len());
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_second_job_runs_on_the_thread_the_first_ended_on() {
        let pool = own_pool(MAX_IDLE, KEEP_ALIVE);
        let a = pool.spawn("video-hw-test", thread_id).unwrap().join().unwrap();
        until_waiting(pool, 1);
        let b = pool.spawn("video-hw-test", thread_id).unwrap().join().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn jobs_at_once_each_get_a_thread_and_all_finish() {
        let pool = own_pool(MAX_IDLE, KEEP_ALIVE);
        let running = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let workers: Vec<Worker> = (0..8)
            .map(|_| {
                let (running, barrier) = (running.clone(), barrier.clone());
                pool.spawn("video-hw-test", move || {
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
        until_waiting(pool, 8);
    }

    #[test]
    fn a_panicking_or_retiring_job_is_reported_and_its_thread_is_not_kept() {
        let pool = own_pool(MAX_IDLE, KEEP_ALIVE);
        let payload = pool.spawn("video-hw-test", || panic!("on purpose")).unwrap().join().unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"on purpose"));
        let retired = pool
            .spawn("video-hw-test", || {
                retire_this_thread();
                7
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(retired, 7);
        // Neither thread parks; a thread that does is counted at once.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(pool.waiting().len(), 0);
        pool.spawn("video-hw-test", || {}).unwrap().join().unwrap();
        until_waiting(pool, 1);
    }

    #[test]
    fn kept_threads_end_after_the_keep_alive_and_over_the_limit() {
        let pool = own_pool(MAX_IDLE, Duration::from_millis(50));
        for w in (0..3).map(|_| pool.spawn("video-hw-test", || {}).unwrap()).collect::<Vec<_>>() {
            w.join().unwrap();
        }
        until_waiting(pool, 0);

        pool.configure(MAX_IDLE, KEEP_ALIVE);
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let workers: Vec<Worker> = (0..4)
            .map(|_| {
                let barrier = barrier.clone();
                pool.spawn("video-hw-test", move || {
                    barrier.wait();
                })
                .unwrap()
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        until_waiting(pool, 4);
        pool.configure(1, KEEP_ALIVE);
        assert_eq!(pool.waiting().len(), 1);
        pool.configure(0, KEEP_ALIVE);
        assert_eq!(pool.waiting().len(), 0);
        // With none kept, every job still runs.
        pool.spawn("video-hw-test", || {}).unwrap().join().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(pool.waiting().len(), 0);
    }

    #[test]
    fn a_keep_alive_past_any_deadline_keeps_threads_without_one() {
        let pool = own_pool(MAX_IDLE, Duration::MAX);
        let a = pool.spawn("video-hw-test", thread_id).unwrap().join().unwrap();
        until_waiting(pool, 1);
        let b = pool.spawn("video-hw-test", thread_id).unwrap().join().unwrap();
        assert_eq!(a, b);
        pool.configure(0, KEEP_ALIVE);
    }

    #[test]
    fn jobs_handed_over_while_kept_threads_time_out_all_run_once() {
        // A keep-alive of 1 ms and callers that pause about as long: spawns keep meeting
        // threads that are giving up (the slot taken off the list as its wait ends).
        let pool = own_pool(4, Duration::from_millis(1));
        let ran = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|s| {
            for caller in 0..4u64 {
                let ran = ran.clone();
                s.spawn(move || {
                    for i in 0..150u64 {
                        let ran = ran.clone();
                        let w = pool.spawn("video-hw-test", move || ran.fetch_add(1, Ordering::SeqCst)).unwrap();
                        w.join().unwrap();
                        std::thread::sleep(Duration::from_micros((i * 7 + caller * 13) % 1500));
                    }
                });
            }
        });
        assert_eq!(ran.load(Ordering::SeqCst), 600);
        until_waiting(pool, 0);
    }

    #[test]
    fn the_process_pool_is_one_per_process() {
        assert!(std::ptr::eq(pool(), pool()));
        assert_eq!(pool().pid, std::process::id());
    }
}
