//! `--fragmented` and `--frag-duration` of `encode` and `transcode`: fragmented MP4, which
//! plays while it grows and survives the process being killed (SIGKILL, a power cut) up to
//! its last complete fragment; a plain MP4 has no index until it is finished.

use std::path::Path;
use std::time::Duration;

use clap::Args;

use crate::exit::{CliResult, usage};

/// Fragmented MP4 output.
#[derive(Args, Debug, Clone)]
pub struct FragmentOpts {
    /// Write fragmented MP4: each fragment complete when written, so a reader can play the
    /// file while it grows (and `-o -` streams it to stdout), and a process killed outright
    /// (SIGKILL) leaves it playable up to its last complete fragment. A plain MP4 is only
    /// playable once finished (SIGINT/SIGTERM finish it; SIGKILL does not).
    #[arg(long)]
    pub fragmented: bool,
    /// With --fragmented: the longest a fragment lasts, in seconds (default 1). A fragment
    /// starts at each key frame and at the latest after this long (then on a frame that is
    /// not a key frame): what a live reader lags by, and the most a kill can lose.
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_seconds)]
    pub frag_duration: Duration,
}

impl FragmentOpts {
    /// Checks the options against the output: `--fragmented` writes MP4 (a file named so,
    /// or stdout).
    pub fn check(&self, output: &Path) -> CliResult<()> {
        if self.fragmented && !is_mp4_or_stdout(output) {
            return Err(usage("--fragmented writes MP4: name the output .mp4/.m4v/.mov, or - for stdout"));
        }
        Ok(())
    }
}

/// A positive number of seconds, at most a day.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("'{s}' is not a duration in seconds (above 0, at most 86400)")),
    }
}

/// Whether `--fragmented` can write to `path`: an MP4 name, or stdout.
fn is_mp4_or_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["mp4", "m4v", "mov"].contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("2"), Ok(Duration::from_secs(2)));
        for bad in ["0", "-1", "nan", "inf", "x", "86401"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
