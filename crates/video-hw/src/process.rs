//! The process a session belongs to, so that code can notice a `fork`.
//!
//! A child made by `fork` (a PyTorch DataLoader worker; `multiprocessing`'s default on
//! Linux before Python 3.14) starts with a copy of its parent's memory and one thread: the
//! one that forked. Every other thread of the parent is gone in the child, with whatever
//! locks it held: FFmpeg's frame threads, the read-ahead sessions, the NVDEC closer. A call
//! that hands work to one of them, or waits for one (closing an FFmpeg decoder joins its
//! threads), waits forever. And a CUDA context cannot be used in the child at all.
//!
//! So a session remembers the process it was opened in ([`Process::current`]). Used in
//! another one it refuses with [`Process::check`]'s error instead of hanging, and dropped
//! there it is leaked rather than closed: its memory is a copy the child never touches
//! again, while closing it would wait on threads that do not exist. A
//! [`FrameReader`](crate::reader::FrameReader), which can open sessions again from its
//! frame index, does so by itself in the child.
//!
//! A process-wide lock that worker threads take often (the recycled frame buffers') is a
//! [`ProcessMutex`]: a child has its own, never the parent's copy that a thread which no
//! longer exists may hold.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::error::{Error, Result};

/// Set in a child made by `fork` after [`watch_forks`]: this process is one.
static FORKED: AtomicBool = AtomicBool::new(false);
/// How many `fork`s deep this process is below the first that called [`watch_forks`]
/// (0 there; a child's is its parent's plus one): which of a [`ProcessMutex`]'s mutexes is
/// this process's.
static FORK_DEPTH: AtomicUsize = AtomicUsize::new(0);
/// Set in the parent just before each `fork` (so the child inherits it): the CUDA driver
/// was loaded and initialised then.
static CUDA_AT_FORK: AtomicBool = AtomicBool::new(false);

/// Starts noting forks (once per process; later calls do nothing): afterwards a child made
/// by `fork` knows it is one ([`forked_child`]) and whether its parent had loaded the CUDA
/// driver when it forked ([`cuda_loaded_before_fork`]).
///
/// Why: a parent that used CUDA through another library (`torch.cuda`) before its
/// DataLoader forked leaves the child a driver that must not be touched (its calls fail,
/// or wait on the parent's threads). The child then refuses CUDA with an error that says
/// to start workers with `spawn`, without calling the driver. The Python module calls this
/// when it is imported; the CUDA driver's first use calls it too.
pub fn watch_forks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    #[cfg(unix)]
    ONCE.call_once(|| {
        // SAFETY: the handlers are plain functions that only load and store atomics (and,
        // in the parent before the fork, ask the loader whether the CUDA driver is loaded
        // and the driver whether it was initialised: `cuda_initialised`).
        unsafe { libc::pthread_atfork(Some(before_fork), None, Some(in_child)) };
    });
    #[cfg(not(unix))]
    ONCE.call_once(|| {});
}

#[cfg(unix)]
unsafe extern "C" fn before_fork() {
    CUDA_AT_FORK.store(cuda_initialised(), Ordering::SeqCst);
}

/// Whether the CUDA driver is loaded in this process and initialised (`cuInit` called, by
/// this library or another): only then is the child's CUDA unusable. A driver only loaded
/// is not: `import torch` loads libcuda without initialising it, and a DataLoader's forked
/// workers may then use the GPU themselves.
#[cfg(unix)]
fn cuda_initialised() -> bool {
    /// `CUDA_ERROR_NOT_INITIALIZED`: what the driver answers before `cuInit`.
    const NOT_INITIALIZED: libc::c_int = 3;
    for name in [c"libcuda.so.1", c"libcuda.so"] {
        // SAFETY: RTLD_NOLOAD only looks the name up (nothing is loaded or initialised);
        // the handle, when there is one, is given back below.
        let h = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
        if h.is_null() {
            continue;
        }
        // SAFETY: `h` is a live handle; dlsym only looks a symbol up.
        let sym = unsafe { libc::dlsym(h, c"cuDeviceGetCount".as_ptr()) };
        let initialised = if sym.is_null() {
            // A library without the call: assume the worst.
            true
        } else {
            // SAFETY: `cuDeviceGetCount` is `CUresult cuDeviceGetCount(int *count)` in every
            // driver since CUDA 2; it only writes the count, and answers NOT_INITIALIZED
            // before `cuInit` without touching any context.
            let count: extern "C" fn(*mut libc::c_int) -> libc::c_int = unsafe { std::mem::transmute(sym) };
            let mut n: libc::c_int = 0;
            count(&mut n) != NOT_INITIALIZED
        };
        // SAFETY: gives back the reference RTLD_NOLOAD took.
        unsafe { libc::dlclose(h) };
        return initialised;
    }
    false
}

/// Whether CUDA is started in this process (the driver loaded and `cuInit` called, by this
/// library or another: torch): a GPU job then pays no `cuInit` (`device_choice`). Asked
/// without loading or initialising anything.
pub fn cuda_started() -> bool {
    #[cfg(unix)]
    {
        cuda_initialised()
    }
    #[cfg(not(unix))]
    {
        false
    }
}

#[cfg(unix)]
unsafe extern "C" fn in_child() {
    FORKED.store(true, Ordering::SeqCst);
    FORK_DEPTH.fetch_add(1, Ordering::SeqCst);
}

/// True in a child made by `fork` (and not since replaced by `exec`) after [`watch_forks`]
/// was called in an ancestor.
pub fn forked_child() -> bool {
    FORKED.load(Ordering::SeqCst)
}

/// True in a child made by `fork` whose parent had loaded and initialised the CUDA driver
/// when it forked (it had used CUDA, through this library or another).
pub fn cuda_loaded_before_fork() -> bool {
    forked_child() && CUDA_AT_FORK.load(Ordering::SeqCst)
}

/// The error for CUDA in a child forked after its parent loaded the driver.
pub fn cuda_after_fork_error() -> Error {
    Error::unsupported(
        format!(
            "CUDA in process {}, made by fork after its parent had loaded the CUDA driver (torch.cuda or a GPU \
             decoder used before the DataLoader's workers started)",
            std::process::id()
        ),
        "CUDA does not survive fork: start workers with the 'spawn' or 'forkserver' method \
         (multiprocessing_context=\"spawn\" for a DataLoader), or decode on the CPU in forked workers",
    )
}

/// The process something was made in (its pid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process {
    pid: u32,
}

impl Process {
    /// The calling process.
    pub fn current() -> Process {
        Process { pid: std::process::id() }
    }

    /// Its process id.
    pub fn pid(self) -> u32 {
        self.pid
    }

    /// True in the process this was made in; false in a child made by `fork` since.
    /// (`getpid` is a system call of tens of nanoseconds: cheap beside any decode call.)
    pub fn is_current(self) -> bool {
        self.pid == std::process::id()
    }

    /// `Ok` in the process this was made in; in a child made by `fork` since, an
    /// `Unsupported` error that says what to do instead. `what` names the session.
    pub fn check(self, what: &str) -> Result<()> {
        if self.is_current() {
            return Ok(());
        }
        Err(Error::unsupported(
            format!(
                "{what} opened in process {} and used in process {} (a child made by fork)",
                self.pid,
                std::process::id()
            ),
            "an engine's threads and GPU context do not survive fork: open the session in the child \
             (a DataLoader worker opens its own on first use), or start workers with the 'spawn' or \
             'forkserver' method",
        ))
    }
}

/// A value that belongs to the process that made it: dropped there as usual, leaked in a
/// child made by `fork` since (see the module docs). It derefs to the value.
pub struct InProcess<T> {
    /// Always `Some` until the drop.
    value: Option<T>,
    process: Process,
}

impl<T> InProcess<T> {
    /// `value`, made in the calling process.
    pub fn new(value: T) -> Self {
        InProcess { value: Some(value), process: Process::current() }
    }

    /// The process it was made in.
    pub fn process(&self) -> Process {
        self.process
    }
}

impl<T> std::ops::Deref for InProcess<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("taken only by the drop")
    }
}

impl<T> std::ops::DerefMut for InProcess<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("taken only by the drop")
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for InProcess<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess").field("value", &self.value).field("process", &self.process).finish()
    }
}

impl<T> Drop for InProcess<T> {
    fn drop(&mut self) {
        if !self.process.is_current() {
            // Closing it would wait on the parent's threads, which the child does not have.
            std::mem::forget(self.value.take());
        }
    }
}

/// Fork depths that have a [`ProcessMutex`] of their own (a DataLoader worker is 1 deep, a
/// worker's own fork 2).
pub const FORK_DEPTHS: usize = 8;

/// A mutex of which each process has its own: in a child made by `fork` it starts again
/// from `init` instead of being the parent's copy.
///
/// Why: a process-wide mutex that the parent's worker threads take all the time (the pool
/// of recycled frame buffers, taken for every decoded frame) is, at the instant of a fork,
/// often held by one of them. The child gets the memory with the lock taken and without
/// the thread that would let it go, so its first use of the mutex waits forever: a
/// DataLoader worker forked while the parent's read-ahead decoded hung so. Here a child
/// never touches the parent's mutex (or what it guarded, a copy that stays behind unused):
/// it takes the one for its own fork depth, made on first use.
///
/// Processes [`FORK_DEPTHS`] or more forks deep have none ([`lock`] gives
/// `None`); its users then do without what it guards (a cache, a pool) rather than risk it.
///
/// [`lock`]: ProcessMutex::lock
pub struct ProcessMutex<T> {
    /// The mutex of the processes at each fork depth. A process at depth d inherits only
    /// from ancestors at depths below d, none of which touched slot d: it is unmade, or
    /// made by this process.
    by_depth: [OnceLock<Mutex<T>>; FORK_DEPTHS],
    init: fn() -> T,
}

impl<T> ProcessMutex<T> {
    /// A mutex whose value, in each process that takes it, starts as `init()`.
    pub const fn new(init: fn() -> T) -> Self {
        ProcessMutex { by_depth: [const { OnceLock::new() }; FORK_DEPTHS], init }
    }

    /// This process's value, locked (a lock poisoned by a panic is taken as is: the values
    /// kept here stay whole between statements), or `None` in a process too many forks deep.
    pub fn lock(&self) -> Option<MutexGuard<'_, T>> {
        // Forks are counted only once the handler is in: before the first value is made.
        watch_forks();
        let slot = self.by_depth.get(FORK_DEPTH.load(Ordering::SeqCst))?;
        let mutex = slot.get_or_init(|| Mutex::new((self.init)()));
        Some(mutex.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_forked_child_knows_it_is_one_and_whether_cuda_was_loaded() {
        watch_forks();
        assert!(!forked_child() && !cuda_loaded_before_fork());
        // The question the handler asks before the fork: on a machine without a GPU the
        // driver is not loaded (where it is, the answer is true only once something
        // initialised it).
        let cuda_here = cuda_initialised();
        // SAFETY: the child calls only async-signal-safe functions and the atomics' loads
        // before `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let ok = forked_child() && cuda_loaded_before_fork() == cuda_here;
            // SAFETY: ends the child without running the test harness's exit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just made; the out-pointer is a live local.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child saw the wrong state: {status}");
        // The parent is not a forked child.
        assert!(!forked_child());
        let e = cuda_after_fork_error().to_string();
        assert!(e.contains("fork") && e.contains("spawn") && e.starts_with("unsupported"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_child_takes_its_own_process_mutex_while_a_parent_thread_holds_the_parent_one() {
        static SHARED: ProcessMutex<u32> = ProcessMutex::new(|| 7);
        *SHARED.lock().unwrap() = 9;
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        // A thread of the parent holds the lock across the fork, as a read-ahead worker
        // taking a frame buffer does.
        let holder = std::thread::spawn(move || {
            let _guard = SHARED.lock();
            held_tx.send(()).unwrap();
            done_rx.recv().ok();
        });
        held_rx.recv().unwrap();
        // SAFETY: the child only takes a mutex (through `Once`'s and `OnceLock`'s fast or
        // first paths and the allocator, which glibc keeps usable after a fork), reads an
        // integer and calls `alarm` and `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: a hang ends the child by SIGALRM, which the parent reads as failure.
            unsafe { libc::alarm(20) };
            let ok = SHARED.lock().is_some_and(|v| *v == 7);
            // SAFETY: ends the child without running the test harness's exit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just made; the out-pointer is a live local.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        done_tx.send(()).unwrap();
        holder.join().unwrap();
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child waited on the parent's lock or saw the parent's value: {status}"
        );
        assert_eq!(*SHARED.lock().unwrap(), 9, "the parent keeps its own");
    }

    #[test]
    fn current_is_current_and_another_is_refused_with_the_way_out() {
        let here = Process::current();
        assert!(here.is_current());
        assert!(here.check("a decoder").is_ok());
        // A process that is not this one (as the parent's pid seen from a forked child).
        let other = Process { pid: here.pid().wrapping_add(1) };
        assert!(!other.is_current());
        let e = other.check("a decoder").unwrap_err().to_string();
        assert!(e.contains("fork") && e.contains("spawn") && e.contains("a decoder"), "{e}");
    }

    /// Counts its drops.
    struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn in_process_drops_here_and_leaks_elsewhere() {
        let drops = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        drop(InProcess::new(Counted(drops.clone())));
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
        let mut elsewhere = InProcess::new(Counted(drops.clone()));
        elsewhere.process = Process { pid: std::process::id().wrapping_add(1) };
        drop(elsewhere);
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1, "leaked, not dropped");
    }
}
