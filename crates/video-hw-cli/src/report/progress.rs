//! A progress bar on stderr for jobs that take more than a second, only when stderr is a
//! terminal and `--quiet` is off: nothing at all on a pipe.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a job runs before its bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A progress bar that appears after a second.
pub struct Progress {
    enabled: bool,
    started: Instant,
    bar: Option<ProgressBar>,
    unit: &'static str,
}

impl Progress {
    /// A bar counting `unit` ("bytes" or "frames"); off when `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool, unit: &'static str) -> Self {
        Progress { enabled: !quiet && std::io::stderr().is_terminal(), started: Instant::now(), bar: None, unit }
    }

    /// Reports `done` of `total` units and the frames so far.
    pub fn update(&mut self, done: u64, total: Option<u64>, frames: u64) {
        if !self.enabled || self.started.elapsed() < SHOW_AFTER {
            return;
        }
        let unit = self.unit;
        let started = self.started;
        let bar = self.bar.get_or_insert_with(|| {
            let bar =
                ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr()).with_elapsed(started.elapsed());
            let template = match (total.is_some(), unit) {
                (true, "bytes") => "{bar:30} {percent:>3}% {bytes}/{total_bytes} {msg} [{elapsed_precise}, eta {eta}]",
                (true, _) => "{bar:30} {pos}/{len} frames {msg} [{elapsed_precise}, eta {eta}]",
                (false, "bytes") => "{spinner} {bytes} {msg} [{elapsed_precise}]",
                (false, _) => "{spinner} {pos} frames {msg} [{elapsed_precise}]",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        bar.set_position(done);
        if unit == "bytes" {
            let fps = frames as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{frames} frames, {fps:.1} fps"));
        }
    }

    /// Removes the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
