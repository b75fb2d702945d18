//! Reading frames in presentation order from any frame on, as they are asked for: the
//! reader keeps its position between calls ([`FrameReader::next_frame`]), so a caller that
//! cannot hold a borrow (a Python iterator) reads a file frame by frame. One session decodes
//! as the frames are asked for; several decode the GOPs ahead at once ([`super::read_ahead`]).

use std::sync::Arc;

use super::FrameReader;
use super::read_ahead::{DEFAULT_READ_AHEAD_BYTES, ReadAhead, Session, Source, device_held, jobs_from_at_most};
use super::run_decode::missing;
use super::start_packet;
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};

/// Where sequential reading is. With one session it shares the session's position with
/// random access (`live.rs`): iteration asks for its next frame as an index would.
#[derive(Debug)]
pub(super) struct Cursor {
    /// The next frame to hand out (presentation number).
    next: usize,
    /// Reading ended early (a session failed).
    done: bool,
    /// The sessions decoding ahead, when the reader has several.
    pub(super) ahead: Option<ReadAhead>,
}

impl Cursor {
    /// Leaves the read-ahead (the parent's, in a child made by `fork`) without stopping it:
    /// stopping joins threads this process does not have.
    pub(super) fn forget_read_ahead(&mut self) {
        std::mem::forget(self.ahead.take());
    }
}

impl FrameReader {
    /// Positions sequential reading at presentation index `first`: the next
    /// [`next_frame`](Self::next_frame) gives that frame, going on from where the session
    /// is when that is ahead and close, else decoding from the random access point it
    /// depends on.
    pub fn seek_frame(&mut self, first: usize) -> Result<()> {
        if first >= self.index.len() {
            return Err(Error::invalid_input(format!("frame {first} of a track of {} frames", self.index.len())));
        }
        self.ensure_first_session()?;
        self.cursor = Some(Cursor { next: first, done: false, ahead: None });
        Ok(())
    }

    /// The next frame in presentation order from where [`seek_frame`](Self::seek_frame)
    /// put reading (the first frame if it was never called); `Ok(None)` after the last.
    /// Random access calls in between do not lose the position.
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        self.after_fork();
        if self.cursor.is_none() {
            self.seek_frame(0)?;
        }
        if self.sessions > 1 {
            return self.next_read_ahead();
        }
        let Some(c) = self.cursor.as_ref() else { return Ok(None) };
        let next = c.next;
        if c.done || next >= self.index.len() {
            return Ok(None);
        }
        let got = self.frames_at_or_missing(&[next]);
        let len = self.index.len();
        let Some(c) = self.cursor.as_mut() else { return Ok(None) };
        match got {
            Ok(mut frames) => {
                c.next = next + 1;
                match frames.pop().flatten() {
                    Some(frame) => self.owned(next, frame).map(Some),
                    // A frame the file's damage kept from decoding is an error, once;
                    // reading goes on after it at the next call.
                    None => Err(missing(&self.index, next)),
                }
            }
            // The session failed (not the file): reading ends here.
            Err(e) => {
                c.done = true;
                c.next = len;
                Err(e)
            }
        }
    }

    /// Frame `f` as the caller's own: the store's copy is dropped, and a frame the caller
    /// also holds from random access is copied (host) or decoded again (device).
    fn owned(&mut self, f: usize, frame: Arc<Frame>) -> Result<Frame> {
        self.store.forget(f);
        let frame = match Arc::try_unwrap(frame) {
            Ok(frame) => return Ok(frame),
            Err(shared) => shared,
        };
        if let FrameData::Host(host) = &frame.data {
            return Ok(frame.same_over(FrameData::Host(host.clone())));
        }
        drop(frame);
        let again = self.frames_at_or_missing(&[f])?.pop().flatten().ok_or_else(|| missing(&self.index, f))?;
        self.store.forget(f);
        Arc::try_unwrap(again).map_err(|_| Error::invalid_input(format!("frame {f} is shared")))
    }

    /// [`next_frame`](Self::next_frame) with the GOPs ahead decoding on every session.
    fn next_read_ahead(&mut self) -> Result<Option<Frame>> {
        let Some(c) = self.cursor.as_ref() else { return Ok(None) };
        if c.done || c.next >= self.index.len() {
            // The end: the sessions come back (their counts, concealed pictures among
            // them, are then in `stats`).
            self.stop_read_ahead()?;
            return Ok(None);
        }
        if c.ahead.is_none() {
            self.ensure_first_session()?;
            self.release_first()?;
            let decoders = std::mem::take(&mut self.decoders);
            let first = self.cursor.as_ref().map_or(0, |c| c.next);
            let ahead = self.start_read_ahead(decoders, self.sessions, first);
            if let Some(c) = self.cursor.as_mut() {
                c.ahead = Some(ahead);
            }
        }
        let (index, idr_only) = (&self.index, self.idr_only);
        let start_of = |f: usize| start_packet(index, idr_only, f);
        let Some(c) = self.cursor.as_mut() else { return Ok(None) };
        let Some(ahead) = c.ahead.as_mut() else { return Ok(None) };
        let mut src =
            Source { demuxer: &mut self.demuxer, index, skip: &self.skip, start_of: &start_of, stats: &mut self.stats };
        let got = ahead.next(&mut src);
        c.next = ahead.position(index.len());
        self.stats.frames_staged += ahead.take_staged();
        match got {
            Ok(Some((_, frame))) => {
                self.stats.frames_returned += 1;
                Ok(Some(frame))
            }
            // The end (an index that ends early included): the sessions come back.
            Ok(None) => {
                self.stop_read_ahead()?;
                Ok(None)
            }
            // A frame lost to damage: reading goes on after it.
            Err(e @ Error::InvalidBitstream { .. }) => Err(e),
            Err(e) => {
                c.done = true;
                self.stop_read_ahead()?;
                Err(e)
            }
        }
    }

    /// Stops decoding ahead (if it runs) and takes the sessions back; sequential reading
    /// restarts where it was at its next call.
    pub(super) fn stop_read_ahead(&mut self) -> Result<()> {
        let Some(c) = self.cursor.as_mut() else { return Ok(()) };
        let Some(ahead) = c.ahead.take() else { return Ok(()) };
        // The read-ahead read the file: where the demuxer is is not known.
        self.demuxer_at = None;
        let mut decoders = ahead.stop()?;
        self.decoders.append(&mut decoders);
        self.stats.sessions = self.sessions_held();
        Ok(())
    }

    /// A read-ahead on `sessions` sessions from frame `first` (iteration's and the index
    /// calls'): `decoders` (at least one, unless the reader's first session is open) and as
    /// many more as it takes, opened by the read-ahead's workers ([`Session::ToOpen`]);
    /// frames held in device memory where they can be ([`device_held`]), within the
    /// caller's bound or the default one.
    pub(super) fn start_read_ahead(&mut self, decoders: Vec<Decoder>, sessions: usize, first: usize) -> ReadAhead {
        let frame_bytes = self.frame_bytes();
        let start_of = |f: usize| self.start_of(f);
        // The sessions open: those given, else the reader's first (the index calls'
        // read-ahead goes on beside it). The sessions to open are its kind: their engine is
        // pinned to the first's.
        let open: Vec<&Decoder> =
            if decoders.is_empty() { self.decoders.first().into_iter().collect() } else { decoders.iter().collect() };
        // No more sessions than jobs ahead: one past them would have nothing to decode, and
        // making it is not free (a process's first NVDEC decoders take ~50 ms each, one at
        // a time per GPU, beside the sessions decoding). A 360-frame 640x360 file read on
        // the default 7 sessions made 6 for its 2-3 GOPs ahead.
        let jobs = jobs_from_at_most(self.index.len(), first, &start_of, sessions).max(1);
        let sessions = sessions.min(jobs).max(decoders.len());
        let held = device_held(&open, sessions, &self.index, &start_of, frame_bytes);
        let like = open.first().map(|d| d.engine());
        let to_open = if like.is_some() { sessions.saturating_sub(decoders.len()) } else { 0 };
        let config = like.map(|e| self.session_config().engine(crate::engine::EnginePreference::Only(e)));
        let budget = self.read_ahead_bytes.unwrap_or(held.map_or(DEFAULT_READ_AHEAD_BYTES, |h| h.default_budget));
        let sessions: Vec<Session> = decoders
            .into_iter()
            .map(|d| Session::Open(Box::new(d)))
            .chain(
                config.into_iter().flat_map(|c| std::iter::repeat_n(c, to_open)).map(|c| Session::ToOpen(Box::new(c))),
            )
            .collect();
        self.stats.sessions = sessions.len() + self.sessions_held();
        ReadAhead::start(sessions, &self.feed, first, budget, frame_bytes, held.map(|h| h.format))
    }

    /// The bytes one output frame takes before any transform (estimated from the track's
    /// size): what a read-ahead job's frames are counted at.
    fn frame_bytes(&self) -> usize {
        super::frame_bytes(&self.index, self.config.output, None)
    }
}

/// Frames in presentation order from a starting frame to the end of the track
/// ([`FrameReader::frames_from`]).
pub struct FramesFrom<'a> {
    pub(super) reader: &'a mut FrameReader,
}

impl Iterator for FramesFrom<'_> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        self.reader.next_frame().transpose()
    }
}
