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

use crate::error::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;

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
