//! Clean endings on SIGINT and SIGTERM for `decode`, `encode` and `transcode`.
//!
//! The first signal asks the job to stop: the loops that read input check [`requested`]
//! and stop reading, what is in flight (the decoder's and the encoder's queues) is drained
//! and the output finished (an MP4's `moov`, a fragmented MP4's last fragment, Matroska's
//! cues, raw output flushed); then the job exits 130 (SIGINT) or 143 (SIGTERM) with its
//! summary saying it was interrupted. A second signal ends the process at once, with the
//! same status. Should the job not end within [`grace`] of the first signal (a read that
//! blocks on a live input that sends nothing), the process ends then, saying so.
//!
//! Handlers come from the `signal-hook` crate (MIT/Apache-2.0, kept by its author since
//! 2017, the crate `ctrlc` and tokio's signal support build on the same registry): its
//! handlers only store to atomics and its "second signal exits" action is async-signal-safe
//! (`_exit`), so nothing here runs outside what a signal handler may do. `ctrlc` handles
//! one signal set through one callback and cannot tell SIGINT from SIGTERM, which the exit
//! status must.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Set by the first SIGINT/SIGTERM (in the handler itself): arms the immediate exit on the
/// second one.
static STOPPING: AtomicBool = AtomicBool::new(false);
/// The signal that asked the job to stop (0: none).
static WHICH: AtomicUsize = AtomicUsize::new(0);
/// The notice that the output is being finished was printed (or is not to be: `-q`).
static ANNOUNCED: AtomicBool = AtomicBool::new(false);

/// A signal that ends a job cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT (Ctrl-C): exit 130.
    Interrupt,
    /// SIGTERM: exit 143.
    Terminate,
}

impl Stop {
    /// The exit status: 128 + the signal's number, as a shell reports a job it killed.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
        }
    }

    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
        }
    }

    fn from_signal(sig: i32) -> Option<Stop> {
        match sig {
            #[cfg(unix)]
            signal_hook::consts::SIGINT => Some(Stop::Interrupt),
            #[cfg(unix)]
            signal_hook::consts::SIGTERM => Some(Stop::Terminate),
            _ => None,
        }
    }
}

/// The exit status of a job that a signal stopped (its summary printed, its output
/// finished); `None` when none came, and the job's own verdict stands.
pub fn exit_status() -> Option<std::process::ExitCode> {
    requested().map(|stop| std::process::ExitCode::from(stop.exit_code()))
}

/// The signal that asked the job to stop, once one came.
///
/// The first call that sees it prints the notice `video-hw: SIGINT: finishing the output`
/// (unless `-q`): the job acts on a stop only through this call, so the notice comes
/// before anything the stop changes (the summary, the exit). The handlers' own thread
/// prints it too, whichever comes first: on a loaded machine that thread may not run
/// before a job that stops fast has ended, and the notice would be lost.
pub fn requested() -> Option<Stop> {
    let stop = Stop::from_signal(WHICH.load(Ordering::SeqCst) as i32)?;
    announce(stop);
    Some(stop)
}

/// Prints the notice that the job is finishing its output, once.
fn announce(stop: Stop) {
    // A load first: this runs in every loop that reads input.
    if !ANNOUNCED.load(Ordering::Relaxed) && !ANNOUNCED.swap(true, Ordering::SeqCst) {
        eprintln!("video-hw: {}: finishing the output (a second signal stops at once)", stop.name());
    }
}

/// How long the job may take to finish after the first signal: `VIDEO_HW_STOP_GRACE`
/// seconds (fractions allowed), default 10. Draining a decoder's or an encoder's queue and
/// writing an index take well under a second; the bound is for a read that never returns.
pub fn grace() -> Duration {
    video_hw::env::settings().stop_grace.unwrap_or(Duration::from_secs(10))
}

/// Installs the handlers (once; later calls do nothing). Where they cannot be installed
/// the job runs with the default actions, saying so at debug level.
#[cfg(unix)]
pub fn install(quiet: bool) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Quiet: the notice counts as printed.
        ANNOUNCED.store(quiet, Ordering::SeqCst);
        let registered = || -> std::io::Result<()> {
            for sig in [SIGINT, SIGTERM] {
                let status = 128 + sig;
                // Order matters: the exit is checked before this signal arms it.
                signal_hook::flag::register_conditional_shutdown(sig, status, &STOPPING)?;
                signal_hook::flag::register_usize(sig, &WHICH, sig as usize)?;
                signal_hook::flag::register(sig, &STOPPING)?;
            }
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
            std::thread::Builder::new().name("signals".into()).spawn(move || {
                let Some(sig) = signals.forever().next() else { return };
                let stop = Stop::from_signal(sig).unwrap_or(Stop::Terminate);
                announce(stop);
                let grace = grace();
                std::thread::sleep(grace);
                eprintln!(
                    "video-hw: error: the job did not finish within {:.1} s of {}; the output may be incomplete",
                    grace.as_secs_f64(),
                    stop.name()
                );
                std::process::exit(i32::from(stop.exit_code()));
            })?;
            Ok(())
        };
        if let Err(e) = registered() {
            tracing::debug!("signal handlers not installed: {e}");
        }
    });
}

/// Signals are not handled on this platform: the default actions apply.
#[cfg(not(unix))]
pub fn install(_quiet: bool) {}
