//! Standard input with `--timeout` (`decode -`, `transcode -`, `encode -` fed by a pipe):
//! a sender that sends no byte for that long ends the input as a network sender that
//! stalls does — a read error of kind [`ErrorKind::TimedOut`] (exit 7), after the frames
//! received are written and the output finished.
//!
//! Each read first waits for stdin to be readable with poll(2), in waits of at most
//! [`MAX_NAP`] that look at SIGINT/SIGTERM between them: a stop is seen within that,
//! without a busy loop, and ends the input there (a read of 0 bytes), so the job drains
//! and finishes its output as at the end of its input. Reads go to descriptor 0 directly
//! (a duplicate of it), not through Rust's buffered `Stdin`, so that what poll(2) says
//! readable is what the next read gets. Nothing is buffered here.

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

/// The longest wait between two looks at the signals.
const MAX_NAP: Duration = Duration::from_millis(50);

/// Standard input whose reads fail after `timeout` without a byte (module docs).
pub struct TimedStdin {
    #[cfg(unix)]
    file: std::fs::File,
    timeout: Duration,
}

/// Standard input, as the input of a job: with `timeout`, a [`TimedStdin`]; without it,
/// the process's `Stdin` (a read then waits as long as the sender is silent).
pub fn open(timeout: Option<Duration>) -> std::io::Result<Box<dyn Read + Send>> {
    match timeout {
        None => Ok(Box::new(std::io::stdin())),
        Some(t) => Ok(Box::new(TimedStdin::new(t)?)),
    }
}

impl TimedStdin {
    /// Standard input, silent for at most `timeout` at a time.
    #[cfg(unix)]
    pub fn new(timeout: Duration) -> std::io::Result<Self> {
        use std::os::fd::AsFd;
        let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
        Ok(TimedStdin { file: std::fs::File::from(fd), timeout })
    }

    /// No poll(2) here: `--timeout` on stdin is refused.
    #[cfg(not(unix))]
    pub fn new(_timeout: Duration) -> std::io::Result<Self> {
        Err(std::io::Error::new(ErrorKind::Unsupported, "--timeout on stdin needs a Unix system (poll)"))
    }

    /// Waits until a read would not block (bytes, the end, or an error are there): true;
    /// false when a signal asked the job to stop first. Fails with `TimedOut` after
    /// `timeout`.
    #[cfg(unix)]
    fn wait_readable(&self) -> std::io::Result<bool> {
        use std::os::fd::AsRawFd;
        let started = Instant::now();
        loop {
            if crate::signals::requested().is_some() {
                return Ok(false);
            }
            let Some(left) = self.timeout.checked_sub(started.elapsed()).filter(|d| !d.is_zero()) else {
                return Err(std::io::Error::new(
                    ErrorKind::TimedOut,
                    format!("stdin: no byte from the sender for {} s (--timeout)", self.timeout.as_secs_f64()),
                ));
            };
            let ms = left.min(MAX_NAP).as_millis().max(1) as libc::c_int;
            let mut fds = libc::pollfd { fd: self.file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one pollfd, valid for the call, for a descriptor this struct owns;
            // poll(2) writes only its `revents`.
            let n = unsafe { libc::poll(&mut fds, 1, ms) };
            if n > 0 {
                // POLLIN, or POLLHUP/POLLERR: the read says which (bytes, 0 or an error).
                return Ok(true);
            }
            if n < 0 {
                let e = std::io::Error::last_os_error();
                // A signal handler ran (SIGINT, SIGTERM): look at the signals again.
                if e.kind() != ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

impl Read for TimedStdin {
    #[cfg(unix)]
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() || !self.wait_readable()? {
            // Stopped: the input ends here.
            return Ok(0);
        }
        loop {
            match self.file.read(buf) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    #[cfg(not(unix))]
    fn read(&mut self, _buf: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::new(ErrorKind::Unsupported, "--timeout on stdin needs a Unix system (poll)"))
    }
}

/// A reader that gives `first`'s error at its first read, then reads `inner`: the bytes
/// read before an error were handed on, and the error comes after them.
pub struct ErrorNext<R> {
    /// The error still to give.
    pub error: Option<std::io::Error>,
    /// What is read after it.
    pub inner: R,
}

impl<R: Read> Read for ErrorNext<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.error.take() {
            Some(e) => Err(e),
            None => self.inner.read(buf),
        }
    }
}

/// Reads up to `n` bytes (fewer at the end of the input or at an error): the bytes, and
/// the error that stopped the reading early, if any. An error with nothing read is an
/// error.
pub fn read_upto(r: &mut dyn Read, n: usize) -> std::io::Result<(Vec<u8>, Option<std::io::Error>)> {
    let mut buf = vec![0; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if got == 0 => return Err(e),
            Err(e) => {
                buf.truncate(got);
                return Ok((buf, Some(e)));
            }
        }
    }
    buf.truncate(got);
    Ok((buf, None))
}
