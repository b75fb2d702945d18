//! Faults of the output, typed: the disk (or quota, or file size limit) full, an output
//! that cannot be created or written, and the reader of standard output gone. Each keeps
//! the output's name and the system's error; it travels inside the [`std::io::Error`] of a
//! [`video_hw::Error::Io`], so every `Result` on the way to `main` carries it unchanged,
//! and `main` picks the exit status by it (docs/reliability.md has the table).

use std::fmt;
use std::io::ErrorKind;
use std::path::Path;

/// What went wrong with the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No space left: the disk or the user's quota is full, or the file reached the size
    /// limit (`ulimit -f`). Exit 6.
    Full,
    /// The output cannot be created or written: a missing directory, no permission, a
    /// read-only file system, a directory in its place, an I/O error. Exit 5.
    Unwritable,
    /// The reader of standard output closed it (`| head`): the job ends there, exit 0.
    ReaderGone,
}

impl Fault {
    /// The fault an I/O error of the output is.
    pub fn of(e: &std::io::Error) -> Fault {
        match e.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge => Fault::Full,
            ErrorKind::BrokenPipe => Fault::ReaderGone,
            _ => Fault::Unwritable,
        }
    }

    /// The exit status for it.
    pub fn exit_code(self) -> u8 {
        match self {
            Fault::Full => 6,
            Fault::Unwritable => 5,
            Fault::ReaderGone => 0,
        }
    }
}

/// An output's fault: which output, what went wrong, and the system's error.
#[derive(Debug)]
pub struct OutputError {
    /// The kind of fault.
    pub fault: Fault,
    /// The output: its path, or "stdout".
    pub output: String,
    /// The system's error.
    pub source: std::io::Error,
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.fault {
            Fault::Full => "out of space",
            Fault::Unwritable => "cannot write",
            Fault::ReaderGone => "its reader closed it",
        };
        write!(f, "output {}: {what} ({})", self.output, self.source)
    }
}

impl std::error::Error for OutputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The name an output goes by in messages.
fn name(path: &Path) -> String {
    if is_stdout(path) { "stdout".into() } else { path.display().to_string() }
}

/// `e`, an I/O error writing `path`, as that output's fault (an error already typed is
/// kept as it is).
pub fn io(path: &Path, e: std::io::Error) -> std::io::Error {
    if e.get_ref().is_some_and(|inner| inner.is::<OutputError>()) {
        return e;
    }
    let kind = e.kind();
    let fault = Fault::of(&e);
    std::io::Error::new(kind, OutputError { fault, output: name(path), source: e })
}

/// A library error from writing `path`: its I/O errors become the output's fault, the
/// others (a muxer refusing a packet) stay as they are.
pub fn video(path: &Path, e: video_hw::Error) -> video_hw::Error {
    match e {
        video_hw::Error::Io(e) => video_hw::Error::Io(io(path, e)),
        other => other,
    }
}

/// The output fault `e` carries, if it is one.
pub fn find(e: &video_hw::Error) -> Option<&OutputError> {
    match e {
        video_hw::Error::Io(e) => e.get_ref().and_then(|inner| inner.downcast_ref::<OutputError>()),
        _ => None,
    }
}

/// Cuts the file at `path` to `len` bytes: what is after it is a part written when the
/// output failed, which would make it unreadable. Errors are ignored: the file is then
/// as the failure left it, and the failure is what is reported.
pub fn truncate(path: &Path, len: u64) {
    if is_stdout(path) {
        return;
    }
    if let Ok(f) = std::fs::OpenOptions::new().write(true).open(path)
        && f.metadata().is_ok_and(|m| m.is_file() && m.len() > len)
    {
        let _ = f.set_len(len);
    }
}

/// True for `-`.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_kept_through_the_library_error() {
        let full = std::io::Error::from_raw_os_error(28); // ENOSPC
        let e = video(Path::new("/tmp/x.mp4"), video_hw::Error::Io(full));
        let f = find(&e).expect("typed");
        assert_eq!((f.fault, f.fault.exit_code()), (Fault::Full, 6));
        assert!(e.to_string().contains("/tmp/x.mp4: out of space"), "{e}");
        // Wrapping twice keeps the first.
        let again = video(Path::new("-"), e);
        assert_eq!(find(&again).map(|f| f.output.as_str()), Some("/tmp/x.mp4"));
        let pipe = io(Path::new("-"), std::io::Error::from(ErrorKind::BrokenPipe));
        assert_eq!(find(&video_hw::Error::Io(pipe)).map(|f| f.fault), Some(Fault::ReaderGone));
        let denied = io(Path::new("/x"), std::io::Error::from(ErrorKind::PermissionDenied));
        assert_eq!(find(&video_hw::Error::Io(denied)).map(|f| f.fault.exit_code()), Some(5));
        assert!(find(&video_hw::Error::invalid_input("x")).is_none());
    }
}
