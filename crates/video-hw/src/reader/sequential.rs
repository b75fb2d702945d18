//! Reading frames in presentation order from any frame on, as they are asked for: the
//! reader keeps its position between calls ([`FrameReader::next_frame`]), so a caller that
//! cannot hold a borrow (a Python iterator) reads a file frame by frame. One session decodes
//! as the frames are asked for; several decode the GOPs ahead at once ([`super::ahead`]).

use std::collections::VecDeque;

use super::FrameReader;
use super::ahead::{DEFAULT_READ_AHEAD_BYTES, ReadAhead, Source, device_held};
use super::run::missing;
use crate::config::Output;
use crate::error::{Error, Result};
use crate::frame::Frame;

/// Where sequential reading is.
#[derive(Debug)]
pub(super) struct Cursor {
    /// The next frame to hand out (presentation number).
    next: usize,
    /// The next packet to feed (decode order).
    next_packet: usize,
    /// Where decoding started (its parameter sets go in front of it).
    start: usize,
    /// Decoded frames not handed out yet.
    ready: VecDeque<(usize, Frame)>,
    /// The demuxer is positioned at `next_packet`.
    positioned: bool,
    /// Every packet went in and the session was flushed.
    flushed: bool,
    /// Random access used the session meanwhile: decoding restarts at `next`.
    interrupted: bool,
    /// The sessions decoding ahead, when the reader has several.
    ahead: Option<ReadAhead>,
}

impl Cursor {
    /// Random access used the session (flushing it) since the last frame.
    pub(super) fn interrupted(&mut self) {
        self.interrupted = true;
    }
}

impl FrameReader {
    /// Positions sequential reading at presentation index `first`: the next
    /// [`next_frame`](Self::next_frame) decodes from the random access point it depends on.
    pub fn seek_frame(&mut self, first: usize) -> Result<()> {
        if first >= self.index.len() {
            return Err(Error::invalid_input(format!("frame {first} of a track of {} frames", self.index.len())));
        }
        self.ensure_sessions(1)?;
        if self.cursor.as_ref().is_some_and(|c| !c.flushed && !c.interrupted) {
            // Leave nothing of the last position in the session.
            self.decoders[0].flush()?;
        }
        let start = self.start_of(first);
        self.stats.runs += 1;
        self.cursor = Some(Cursor {
            next: first,
            next_packet: start,
            start,
            ready: VecDeque::new(),
            positioned: false,
            flushed: false,
            interrupted: false,
            ahead: None,
        });
        Ok(())
    }

    /// The next frame in presentation order from where [`seek_frame`](Self::seek_frame)
    /// put reading (the first frame if it was never called); `Ok(None)` after the last.
    /// Random access calls in between do not lose the position.
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        match &self.cursor {
            None => self.seek_frame(0)?,
            Some(c) if c.interrupted => {
                let next = c.next;
                if next >= self.index.len() {
                    return Ok(None);
                }
                self.seek_frame(next)?;
            }
            Some(_) => {}
        }
        if self.sessions > 1 {
            return self.next_read_ahead();
        }
        if let Err(e) = self.fill() {
            // The session failed (not the file): reading ends here.
            let len = self.index.len();
            if let Some(c) = &mut self.cursor {
                c.flushed = true;
                c.ready.clear();
                c.next = len;
            }
            return Err(e);
        }
        let Some(c) = self.cursor.as_mut() else { return Ok(None) };
        // A frame of the index that did not come out (the file is damaged there) is an
        // error, once; reading goes on after it at the next call.
        let lost = match c.ready.front() {
            Some(&(f, _)) if f > c.next => Some(c.next),
            Some(_) => None,
            None if c.next < self.index.len() => Some(c.next),
            None => return Ok(None),
        };
        if let Some(lost) = lost {
            c.next = lost + 1;
            return Err(missing(&self.index, lost));
        }
        let Some((f, frame)) = c.ready.pop_front() else { return Ok(None) };
        c.next = f + 1;
        self.stats.frames_returned += 1;
        Ok(Some(frame))
    }

    /// [`next_frame`](Self::next_frame) with the GOPs ahead decoding on every session.
    fn next_read_ahead(&mut self) -> Result<Option<Frame>> {
        let Some(c) = self.cursor.as_ref() else { return Ok(None) };
        if c.flushed || c.next >= self.index.len() {
            // The end: the sessions come back (their counts, concealed pictures among
            // them, are then in `stats`).
            self.stop_read_ahead()?;
            return Ok(None);
        }
        if c.ahead.is_none() {
            self.ensure_sessions(self.sessions)?;
            let decoders = std::mem::take(&mut self.decoders);
            let frame_bytes = self.frame_bytes();
            let start_of = |f: usize| self.start_of(f);
            let held = device_held(&decoders, &self.index, &start_of, frame_bytes);
            let default_budget = held.map_or(DEFAULT_READ_AHEAD_BYTES, |h| h.default_budget);
            let budget = self.read_ahead_bytes.unwrap_or(default_budget);
            let (feed, format) = (&self.feed, held.map(|h| h.format));
            if let Some(c) = self.cursor.as_mut() {
                c.ahead = Some(ReadAhead::start(decoders, feed, c.next, budget, frame_bytes, format));
            }
        }
        let (index, idr_only) = (&self.index, self.idr_only);
        let start_of = |f: usize| if idr_only { index.start_packet_at_idr(f) } else { index.start_packet(f) };
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
                c.flushed = true;
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
        c.interrupted();
        let mut decoders = ahead.stop()?;
        self.decoders.append(&mut decoders);
        Ok(())
    }

    /// The bytes one output frame takes (estimated from the track's size).
    fn frame_bytes(&self) -> usize {
        let (w, h) = self.index.track().video.as_ref().map_or((1920, 1080), |v| (v.width, v.height));
        let format = match self.config.output {
            Output::Metadata => return 256,
            Output::Host(f) | Output::Cuda(f) => f,
        };
        (0..format.plane_count())
            .map(|i| {
                let (row, rows) = format.plane_size(i, w, h);
                row * rows
            })
            .sum()
    }

    /// Keeps a decoded frame that is at or after the cursor's next frame.
    fn keep(&mut self, frame: Frame) {
        let Some(c) = self.cursor.as_mut() else { return };
        if let Some(f) = frame.pts.and_then(|t| self.index.frame_of_packet(t as usize)) {
            if f >= c.next {
                let mut frame = frame;
                frame.pts = Some(self.index.frames()[f].pts);
                c.ready.push_back((f, frame));
            }
        }
    }

    /// Feeds packets until a frame is ready or the track ends.
    fn fill(&mut self) -> Result<()> {
        let track = self.index.track().index;
        let total = self.index.packets().len();
        let mut errors = 0;
        loop {
            let Some(c) = self.cursor.as_mut() else { return Ok(()) };
            if !c.ready.is_empty() || c.flushed {
                return Ok(());
            }
            if !c.positioned {
                let entry = self.index.packets()[c.start];
                c.positioned = true;
                self.demuxer.seek_to(track, &entry)?;
            }
            let (k, start) = (c.next_packet, c.start);
            let packet = if k < total { self.demuxer.next_packet() } else { Ok(None) };
            let data = match packet {
                Ok(Some(p)) if p.track == track => p.data,
                Ok(Some(_)) => continue,
                Err(_) if errors < 1000 => {
                    errors += 1;
                    continue;
                }
                Err(e) => return Err(e),
                Ok(None) => {
                    for frame in self.decoders[0].flush()? {
                        self.keep(frame);
                    }
                    if let Some(c) = self.cursor.as_mut() {
                        c.flushed = true;
                    }
                    return Ok(());
                }
            };
            if let Some(c) = self.cursor.as_mut() {
                c.next_packet += 1;
            }
            let data = match self.index.parameter_sets_at(k).filter(|_| k == start) {
                Some(sets) => [&sets[..], &data[..]].concat(),
                None => data,
            };
            self.stats.packets_decoded += 1;
            self.feed.submit(&mut self.decoders[0], k, &data, true, true)?;
            while let Some(frame) = self.decoders[0].try_reap()? {
                self.keep(frame);
            }
        }
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
