//! Ctrl-C during a call that decodes with the GIL released (frames, a batch's assembly
//! into one array, a range of audio samples), and stopping such a call from another
//! thread (`decode_many` shutting down).
//!
//! Why: Python runs a signal's handler (the `KeyboardInterrupt` of SIGINT) only on its
//! main thread, between bytecodes; a call that decodes hundreds of frames with the GIL
//! released would raise it only when the batch is done (seconds later). The reader asks
//! [`Stoppable`]'s check between packets; on the main thread, at most every
//! [`SIGNAL_POLL`], the check takes the GIL briefly and runs the pending handlers
//! (`PyErr_CheckSignals`). An exception a handler raises stops the call, and is what the
//! call raises; the decoder stays usable (`video_hw::reader::Interrupt`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use video_hw::reader::{FrameReader, Interrupt};

use crate::errors::to_py;

/// How often a call on the main thread looks for a pending signal: Ctrl-C is answered
/// within this (plus one packet's decode); the GIL is taken at most this often.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// What makes a decoder's calls stoppable: its flag that another thread sets to stop the
/// call in progress (or, if none is, the next one).
#[derive(Debug, Default)]
pub(crate) struct Stoppable {
    stop: Arc<AtomicBool>,
}

impl Stoppable {
    /// Stops the call in progress, or the next one.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Runs `work` on the reader `lock` gives, with the GIL released, stoppable (module
    /// docs). A call stopped by a signal raises what the handler raised
    /// (`KeyboardInterrupt`); one stopped by [`stop`](Self::stop) raises `VideoHwError`
    /// (kind `closed`).
    pub(crate) fn run<'r, T: Send>(
        &self,
        py: Python<'_>,
        lock: impl FnOnce() -> video_hw::Result<std::sync::MutexGuard<'r, FrameReader>> + Send,
        work: impl FnOnce(&mut FrameReader) -> video_hw::Result<T> + Send,
    ) -> PyResult<T> {
        self.run_with(py, move |check| {
            let mut reader = lock().map_err(to_py)?;
            reader.set_interrupt(Some(check));
            let got = work(&mut reader);
            reader.set_interrupt(None);
            got.map_err(to_py)
        })
    }

    /// Runs `work` with the GIL released, handing it the check to ask between its steps
    /// (true: stop, returning any error; module docs). What a signal's handler raised is
    /// what the call raises; a call stopped by [`stop`](Self::stop) raises the error
    /// `work` returned ([`stopped`] for one of its own).
    pub(crate) fn run_with<T: Send>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(Interrupt) -> PyResult<T> + Send,
    ) -> PyResult<T> {
        let raised: Arc<Mutex<Option<PyErr>>> = Arc::default();
        let check = self.check(on_main_thread(py), raised.clone());
        let got = py.detach(move || work(check));
        // The flag is spent by the call that saw it (or that ended as it was set).
        self.stop.store(false, Ordering::Release);
        // What a handler raised is raised, whatever the call returned: it was taken from
        // Python's pending signals and would otherwise be lost.
        let pending = raised.lock().unwrap_or_else(|p| p.into_inner()).take();
        match (got, pending) {
            (_, Some(e)) => Err(e),
            (got, None) => got,
        }
    }

    fn check(&self, main: bool, raised: Arc<Mutex<Option<PyErr>>>) -> Interrupt {
        let stop = self.stop.clone();
        let mut last = Instant::now();
        Box::new(move || {
            if stop.load(Ordering::Acquire) {
                return true;
            }
            // Handlers run on the main thread only: elsewhere there is nothing to ask.
            if !main || last.elapsed() < SIGNAL_POLL {
                return false;
            }
            last = Instant::now();
            Python::attach(|py| match py.check_signals() {
                Ok(()) => false,
                Err(e) => {
                    *raised.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    true
                }
            })
        })
    }
}

/// The error of a step stopped by its check (replaced by what a signal's handler raised,
/// where one did).
pub(crate) fn stopped() -> PyErr {
    to_py(video_hw::Error::Closed("interrupted: the caller stopped the call".into()))
}

/// Whether this is Python's main thread, the one its signal handlers run on.
fn on_main_thread(py: Python<'_>) -> bool {
    let Ok(threading) = py.import("threading") else { return false };
    match (threading.call_method0("main_thread"), threading.call_method0("current_thread")) {
        (Ok(main), Ok(current)) => main.is(&current),
        _ => false,
    }
}
