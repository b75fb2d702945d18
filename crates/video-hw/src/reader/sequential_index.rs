//! Index calls that walk the file in order (`dec[i]` in a loop, ranges in chunks) on a
//! reader with several sessions: the GOPs after the one the first session is in decode at
//! once on the other sessions, as iteration's read-ahead does ([`super::read_ahead`]).
//!
//! Why: one session is paced by one engine (one NVDEC: ~630 frames/s of 1080p H.264 on an
//! H100), so an index loop over a file ran at one engine's pace where iteration, reading
//! the GOPs ahead on every session, ran 1.24x faster on the same two-GOP file
//! (bench/results/gpu/loops-h100-20261126-db164b6/report.md).
//!
//! How: when a call asks for the frames right after the last call's (the second call of a
//! loop), the first session goes on with its GOP as before (`live.rs`), and a read-ahead
//! starts on the other sessions at the next GOP: nothing is decoded twice. Calls whose frames
//! reach that GOP take them from the read-ahead in order. Anything else (a jump, a look
//! back, a stride) stops the read-ahead and is served as before; so do iteration and a batch
//! spread over several GOPs, which take the sessions back. The first session and the
//! read-ahead share the file: after the read-ahead reads packets, the demuxer is put back
//! where the first session reads next.

use std::collections::HashMap;
use std::sync::Arc;

use super::FrameReader;
use super::read_ahead::{ReadAhead, Source};
use super::start_packet;
use crate::error::{Error, Result};
use crate::frame::Frame;

/// A read-ahead serving index calls from frame `from` on.
pub(super) struct SeqAhead {
    ahead: ReadAhead,
    /// The first frame it gives (the first of the GOP after the first session's).
    from: usize,
    /// The next frame it gives.
    next: usize,
}

/// Frames the read-ahead may be passed over to reach a request (a loop that skips a few);
/// further, it is stopped and the request served from its random access point.
const SKIP_AHEAD: usize = 8;

impl FrameReader {
    /// Takes from the read-ahead of index calls the frames of `wanted` (ascending, no
    /// repeats) that it serves, into `got`; starts it when `wanted` follows the last call
    /// on; stops it when `wanted` does not go on from where it is. Returns the frames of
    /// `rest` still to be decoded otherwise.
    pub(super) fn take_sequential(
        &mut self,
        wanted: &[usize],
        rest: Vec<usize>,
        got: &mut HashMap<usize, Arc<Frame>>,
    ) -> Result<Vec<usize>> {
        let (Some(&first), Some(&last)) = (wanted.first(), wanted.last()) else { return Ok(rest) };
        let contiguous = last - first + 1 == wanted.len();
        let follows = self.last_asked.is_some_and(|m| first == m + 1);
        if let Some(s) = &self.seq {
            let reaches = last >= s.from;
            let in_order = first <= s.next && s.next <= last || first > s.next && first - s.next <= SKIP_AHEAD;
            if !contiguous || !follows || (reaches && !in_order) {
                self.stop_sequential()?;
                return Ok(rest);
            }
        } else if self.sessions > 1 && contiguous && follows && !rest.is_empty() && !self.reading_ahead() {
            self.start_sequential(last)?;
        }
        let Some(from) = self.seq.as_ref().map(|s| s.from) else { return Ok(rest) };
        let (mine, before): (Vec<usize>, Vec<usize>) = rest.into_iter().partition(|&f| f >= from);
        if !mine.is_empty() {
            self.take_from_ahead(&mine, got)?;
        }
        Ok(before)
    }

    /// Whether iteration's read-ahead holds the sessions.
    fn reading_ahead(&self) -> bool {
        self.cursor.as_ref().is_some_and(|c| c.ahead.is_some())
    }

    /// Starts the read-ahead on sessions 2.. at the first GOP after frame `last`'s (none
    /// when `last` is in the track's last GOP).
    fn start_sequential(&mut self, last: usize) -> Result<()> {
        let n = self.index.len();
        let here = self.start_of(last);
        let mut from = last + 1;
        while from < n && self.start_of(from) <= here {
            from += 1;
        }
        if from >= n {
            return Ok(());
        }
        // The first session goes on with its GOP; the others are opened by the
        // read-ahead's workers, so the caller does not wait for them (`Session`).
        self.ensure_first_session()?;
        let decoders = self.decoders.split_off(1);
        let mut ahead = self.start_read_ahead(decoders, self.sessions - 1, from);
        // The jobs are made now, so the sessions decode while the first one goes on.
        let (index, idr_only) = (&self.index, self.idr_only);
        let start_of = |f: usize| start_packet(index, idr_only, f);
        let mut src =
            Source { demuxer: &mut self.demuxer, index, skip: &self.skip, start_of: &start_of, stats: &mut self.stats };
        let primed = ahead.top_up_now(&mut src);
        self.seq = Some(SeqAhead { ahead, from, next: from });
        self.put_demuxer_back();
        primed
    }

    /// Frames `mine` (ascending, from the read-ahead's position on) from the read-ahead.
    fn take_from_ahead(&mut self, mine: &[usize], got: &mut HashMap<usize, Arc<Frame>>) -> Result<()> {
        let last = *mine.last().unwrap_or(&0);
        let result = (|| -> Result<()> {
            loop {
                // Ctrl-C and the like (interrupt.rs) stop the call between frames; the
                // read-ahead is stopped with it and the reader stays usable.
                if self.interrupt_asked() {
                    return Err(super::interrupted());
                }
                let (index, idr_only) = (&self.index, self.idr_only);
                let start_of = |f: usize| start_packet(index, idr_only, f);
                let Some(s) = self.seq.as_mut() else { return Ok(()) };
                if s.next > last {
                    return Ok(());
                }
                let mut src = Source {
                    demuxer: &mut self.demuxer,
                    index,
                    skip: &self.skip,
                    start_of: &start_of,
                    stats: &mut self.stats,
                };
                let next = s.ahead.next(&mut src);
                s.next = s.ahead.position(index.len());
                self.stats.frames_staged += s.ahead.take_staged();
                match next {
                    Ok(Some((f, frame))) => {
                        if mine.binary_search(&f).is_ok() {
                            self.stats.frames_read_ahead += 1;
                            got.insert(f, Arc::new(frame));
                        }
                    }
                    Ok(None) => return Ok(()),
                    // A frame lost to damage: left out of `got`, so the caller decodes it
                    // again from its random access point and reports it as it always did.
                    Err(Error::InvalidBitstream { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        })();
        self.put_demuxer_back();
        if result.is_err() {
            self.stop_sequential()?;
        }
        result
    }

    /// Stops the read-ahead of index calls (if it runs) and takes its sessions back.
    pub(super) fn stop_sequential(&mut self) -> Result<()> {
        let Some(s) = self.seq.take() else { return Ok(()) };
        self.demuxer_at = None;
        let mut decoders = s.ahead.stop()?;
        self.decoders.append(&mut decoders);
        self.stats.sessions = self.sessions_held();
        Ok(())
    }

    /// In a child made by `fork`: the read-ahead's threads are the parent's, so it is left
    /// as it is, not stopped.
    pub(super) fn forget_sequential(&mut self) {
        std::mem::forget(self.seq.take());
    }

    /// Puts the demuxer back where the first session reads next, after the read-ahead read
    /// the file, so the first session goes on instead of starting again.
    fn put_demuxer_back(&mut self) {
        let Some(next) = self.live.as_ref().and_then(|l| l.going_on_at()) else {
            self.demuxer_at = None;
            return;
        };
        let track = self.index.track().index;
        self.demuxer_at = match self.index.packets().get(next) {
            Some(entry) if self.demuxer.seek_to(track, entry).is_ok() => Some(next),
            _ => None,
        };
    }
}
