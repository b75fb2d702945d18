//! Stopping a call of a [`FrameReader`] part-way, when its caller asks (a Python
//! `KeyboardInterrupt`, a loader shutting down).
//!
//! Why: a request for hundreds of frames runs for seconds with nothing of the caller's
//! running meanwhile; a caller that must answer a signal within a bound needs the reader
//! to ask it between packets. The reader asks the caller's [`Interrupt`] on the calling
//! thread only: between the packets it feeds there, between the runs it hands to sessions
//! on their threads, and at least every [`POLL`] while it waits on them. Sessions on their
//! threads stop at their next frame once it says stop. Every session is flushed on the
//! way out (a planned run is flushed at its end either way; the first session, stopped
//! part-way, is marked to be flushed before its next use), so the next call starts clean.

use std::time::Duration;

use super::FrameReader;
use crate::error::Error;

/// Asked between packets whether to stop the call in progress: true stops it. Called on
/// the thread that made the call, so it should be cheap (a flag, a clock read); a check
/// that costs more (taking Python's GIL) should itself be spaced out in time.
pub type Interrupt = Box<dyn FnMut() -> bool + Send>;

/// The longest the calling thread waits on sessions decoding on their threads before it
/// asks again.
pub(super) const POLL: Duration = Duration::from_millis(10);

/// The error of a call that was stopped.
pub fn interrupted() -> Error {
    Error::Closed("interrupted: the caller stopped the call before its frames were all decoded".into())
}

impl FrameReader {
    /// Sets (or with `None` removes) the check that can stop a call part-way (module
    /// docs). A stopped call returns [`Error::Closed`] ([`interrupted`]); the reader can be
    /// used again at once, and gives the same frames as if nothing had been stopped.
    pub fn set_interrupt(&mut self, check: Option<Interrupt>) {
        self.interrupt = check;
    }

    /// Whether the caller asks to stop (false without a check).
    pub(super) fn interrupt_asked(&mut self) -> bool {
        self.interrupt.as_mut().is_some_and(|check| check())
    }
}
