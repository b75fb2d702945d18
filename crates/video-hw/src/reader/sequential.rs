//! Reading frames in presentation order from any frame on, one session, as they are asked
//! for: the reader keeps its position between calls ([`FrameReader::next_frame`]), so a
//! caller that cannot hold a borrow (a Python iterator) reads a file frame by frame.

use std::collections::VecDeque;

use super::FrameReader;
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
        if let Err(e) = self.fill() {
            if let Some(c) = &mut self.cursor {
                c.flushed = true;
                c.ready.clear();
            }
            return Err(e);
        }
        let Some(c) = self.cursor.as_mut() else { return Ok(None) };
        let Some((f, frame)) = c.ready.pop_front() else { return Ok(None) };
        c.next = f + 1;
        self.stats.frames_returned += 1;
        Ok(Some(frame))
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
            self.feed.submit(&mut self.decoders[0], k, &data)?;
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
