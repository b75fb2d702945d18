//! Mapping errors to exit statuses and one-line messages.

use std::process::ExitCode;

/// Prints `error: …` as one line on stderr and returns the exit status for it:
/// 3 unsupported, 4 invalid input or bitstream, 1 anything else.
pub fn report(e: &video_hw::Error) -> ExitCode {
    eprintln!("video-hw: error: {}", one_line(&e.to_string()));
    ExitCode::from(e.exit_code() as u8)
}

/// Collapses any newlines so an error is always one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Opens an input file, naming it in the error (an input that cannot be opened is
/// invalid input: exit 4).
pub fn open_input(path: &std::path::Path) -> video_hw::Result<std::fs::File> {
    std::fs::File::open(path)
        .map_err(|e| video_hw::Error::invalid_input(format!("cannot open {}: {e}", path.display())))
}
