//! Mapping errors to exit statuses and one-line messages.

pub mod output_fault;

use std::process::ExitCode;

use output_fault::Fault;

/// Prints `error: …` as one line on stderr and returns the exit status for it:
/// 3 unsupported, 4 invalid input or bitstream, 5 an output that cannot be written, 6 out
/// of space, 7 an input that went silent past `--timeout`, 1 anything else; a reader of stdout that closed it ends the job with 0, saying
/// so unless `quiet`.
pub fn report(e: &video_hw::Error, quiet: bool) -> ExitCode {
    if let Some(fault) = output_fault::find(e) {
        let text = one_line(&fault.to_string());
        match fault.fault {
            Fault::ReaderGone if quiet => {}
            Fault::ReaderGone => eprintln!("video-hw: stopped: {text}"),
            _ => eprintln!("video-hw: error: {text}"),
        }
        return ExitCode::from(fault.fault.exit_code());
    }
    eprintln!("video-hw: error: {}", one_line(&e.to_string()));
    if matches!(e, video_hw::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut) {
        return ExitCode::from(7);
    }
    ExitCode::from(e.exit_code() as u8)
}

/// Collapses whitespace and escapes control characters (which may come from the input,
/// e.g. a Y4M header token) so an error is always one printable line.
pub fn one_line(s: &str) -> String {
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    words.chars().flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] }).collect()
}

/// Opens an input file, naming it in the error (an input that cannot be opened is
/// invalid input: exit 4).
pub fn open_input(path: &std::path::Path) -> video_hw::Result<std::fs::File> {
    std::fs::File::open(path)
        .map_err(|e| video_hw::Error::invalid_input(format!("cannot open {}: {e}", path.display())))
}

/// Why a subcommand failed: options that make no sense (exit 2) or a library error
/// (exit 3, 4 or 1 by its kind).
#[derive(Debug)]
pub enum Failure {
    /// A usage error found after parsing (`--size` missing for raw input, conflicting
    /// codec and file name, …): exit 2.
    Usage(String),
    /// Any other error.
    Video(video_hw::Error),
}

/// Result of a subcommand.
pub type CliResult<T> = Result<T, Failure>;

impl From<video_hw::Error> for Failure {
    fn from(e: video_hw::Error) -> Self {
        Failure::Video(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Video(video_hw::Error::Io(e))
    }
}

/// A usage error (exit 2).
pub fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(msg.into())
}

/// Prints a failure as one line on stderr and returns its exit status.
pub fn report_failure(f: &Failure, quiet: bool) -> ExitCode {
    match f {
        Failure::Usage(msg) => {
            eprintln!("video-hw: error: {} (see --help)", one_line(msg));
            ExitCode::from(2)
        }
        Failure::Video(e) => report(e, quiet),
    }
}

static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Replaces the panic printer: a panic's message is kept (for one error line, or for a
/// caught panic in the MP4 reader to become invalid input) instead of printed.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = format!("{msg}{at}");
    }));
}

/// The message of the last panic (empty if none).
pub fn last_panic() -> String {
    LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Help and version go to stdout (exit 0); a usage error is one line on stderr (exit 2).
pub fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(e.exit_code() as u8);
    }
    let text = e.render().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("usage error");
    let msg = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("video-hw: error: {} (see --help)", one_line(msg));
    ExitCode::from(2)
}
