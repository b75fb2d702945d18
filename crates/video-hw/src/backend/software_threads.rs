//! How many threads each software session runs (libavcodec, rav1d, rav1e), so that
//! several sessions share the cores instead of each starting one thread per core.
//! OpenH264's sessions decode on one thread each; they are counted too, and their RGB
//! conversion takes its share of the cores ([`single_thread_spread`]).
//!
//! A lone software session lets its library choose (thread count 0: libavcodec takes one
//! thread per core plus one for frame threads, at most 16, exactly as the ffmpeg tool
//! does; dav1d one per core). While `n`
//! software sessions are open, a new one takes `cores / n` threads (at least one). A
//! count the caller sets (`DecoderConfig::threads`, `EncoderConfig::threads`, the CLI's
//! `--threads`, Python's `threads=`) is used as it is.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::pixels::transform::rgb::Spread;

/// Software sessions open now.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// One open session, counted while it lives.
#[derive(Debug)]
pub(crate) struct Session(());

impl Session {
    /// Counts a session until the value is dropped.
    pub(crate) fn start() -> Session {
        OPEN.fetch_add(1, Ordering::Relaxed);
        Session(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The thread count to give a new session: `requested`, else libavcodec's own choice for
/// a lone session (0), else the cores shared by the sessions open (this one included).
pub(crate) fn session_threads(requested: Option<u32>) -> i32 {
    if let Some(n) = requested {
        return i32::try_from(n.clamp(1, 64)).unwrap_or(1);
    }
    share(OPEN.load(Ordering::Relaxed) + 1, cores())
}

/// The share of `cores` for one of `sessions` sessions (0: libavcodec decides).
pub(crate) fn share(sessions: usize, cores: usize) -> i32 {
    if sessions <= 1 {
        return 0;
    }
    i32::try_from((cores / sessions).max(1)).unwrap_or(1)
}

/// Software sessions open now (each running its library's threads).
pub(crate) fn open_sessions() -> usize {
    OPEN.load(Ordering::Relaxed)
}

/// Whether a session opened by the share rule while `open_then` software sessions were
/// open (itself not counted) would get more threads if it were opened again now, with
/// `open_now` open (itself counted): the others closed since.
pub(crate) fn share_grew(open_then: usize, open_now: usize) -> bool {
    let (then, now) = (share(open_then + 1, cores()), share(open_now, cores()));
    then != 0 && (now == 0 || now > then)
}

/// Where a software engine's RGB conversion of a decoded picture runs. An engine converts
/// on its caller's thread while its own threads decode the next frames. Where a software
/// session is open (libavcodec's frame threads, dav1d's: one per core) the cores are
/// theirs, and band threads would only take turns with them at the same CPU cost plus a
/// thread start and a wait on every frame, so the conversion stays on the calling thread;
/// a hardware decoder leaves the cores to the bands.
pub(crate) fn conversion_spread() -> Spread {
    if open_sessions() > 0 { Spread::Caller } else { Spread::Cores }
}

/// Where the RGB conversion of a session that decodes on one thread (OpenH264) runs: in
/// bands on its share of the cores, the cores divided by the software sessions open.
/// Alone, it has the idle cores' bands as before; sixteen such sessions reading a file
/// ahead on a 16-core machine each converted in 8 bands, 128 threads started on every
/// round of frames, and iterating a 720p file to RGB took 0.45-0.73 s where 8 sessions
/// took 0.31 s (bench/results/auto-grid-h200-*).
pub(crate) fn single_thread_spread() -> Spread {
    Spread::Bands(bands(cores(), open_sessions()))
}

/// Band threads for one of `open` single-threaded sessions on `cores` cores: its
/// [`share`] (every core for a lone one; at least one, the calling thread).
fn bands(cores: usize, open: usize) -> usize {
    match share(open, cores) {
        0 => cores.max(1),
        n => usize::try_from(n).unwrap_or(1),
    }
}

/// Logical cores of this machine (1 where unknown).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_share_the_cores() {
        assert_eq!(share(1, 16), 0);
        assert_eq!(share(2, 16), 8);
        assert_eq!(share(3, 16), 5);
        assert_eq!(share(32, 16), 1);
        assert_eq!(session_threads(Some(3)), 3);
        assert_eq!(session_threads(Some(0)), 1);
    }

    #[test]
    fn a_share_grows_when_the_others_closed() {
        // Meaningful only on more than one core: one core gives every session one thread.
        if cores() < 2 {
            return;
        }
        assert!(share_grew(1, 1), "opened beside one, alone now");
        assert!(!share_grew(0, 1), "opened alone: libavcodec's own count already");
        assert!(!share_grew(1, 2), "the other is still open");
    }

    #[test]
    fn single_threaded_sessions_share_the_conversion_bands() {
        assert_eq!(bands(16, 1), 16);
        assert_eq!(bands(16, 0), 16);
        assert_eq!(bands(16, 2), 8);
        assert_eq!(bands(16, 16), 1);
        assert_eq!(bands(2, 16), 1);
    }
}
