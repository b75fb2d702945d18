//! Frames decoded and not yet asked for, and frames asked for again: a small, bounded
//! store the reader serves from before it decodes.
//!
//! Why: a session gives its pictures in presentation order, several packets after their own
//! (the reorder delay). To hand out frame `i` it decodes on until `i` comes out, and the
//! frames after `i` that come out meanwhile are what a forward loop asks for next: they wait
//! here ("ahead"). Loops that look back (`dec[i-1]` beside `dec[i]`, a frame asked twice)
//! find the frames they were given here too, once such a request has been seen ("kept"):
//! kept frames are shared with the caller, so the Python package copies a shared frame
//! before it lends it out, and a forward loop, which keeps nothing, pays no copy.
//!
//! Bounded by frames and bytes ([`MAX_FRAMES`], [`MAX_BYTES`]): over the bound the frame
//! furthest behind the caller goes first, then the one furthest ahead. A frame that went is
//! decoded again if asked for: the bound costs time, never a wrong frame.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::frame::Frame;

/// Most frames the store holds.
pub(super) const MAX_FRAMES: usize = 48;
/// Most bytes of frames the store holds (at least two frames, whatever their size).
pub(super) const MAX_BYTES: usize = 512 << 20;

/// The frames a reader keeps between calls (see the module docs).
#[derive(Debug, Default)]
pub(super) struct FrameStore {
    frames: BTreeMap<usize, Arc<Frame>>,
    bytes: usize,
    /// The bytes of one frame, estimated from the track (the bound counts these).
    frame_bytes: usize,
    /// Where the caller is: the highest frame of its last request.
    at: usize,
    /// Frames handed out are kept too: the caller asked for a frame at or before one it
    /// had been given.
    keep_handed: bool,
    /// The highest frame handed out so far.
    highest_handed: Option<usize>,
    /// Frames served from the store since the last [`take_hits`](Self::take_hits).
    hits: u64,
}

impl FrameStore {
    /// A store whose frames take about `frame_bytes` each.
    pub fn new(frame_bytes: usize) -> FrameStore {
        FrameStore { frame_bytes: frame_bytes.max(1), ..FrameStore::default() }
    }

    /// Notes a request for `frames` (sorted, distinct): a request at or before a frame
    /// already handed out turns on keeping the frames handed out.
    pub fn requested(&mut self, frames: &[usize]) {
        if let (Some(&first), Some(h)) = (frames.first(), self.highest_handed)
            && first <= h
        {
            self.keep_handed = true;
        }
        if let Some(&last) = frames.last() {
            self.at = last;
        }
    }

    /// Frame `f`, if held. A frame held only because it had not been asked for yet leaves
    /// the store (it is the caller's now) unless handed-out frames are kept.
    pub fn take(&mut self, f: usize) -> Option<Arc<Frame>> {
        let frame = if self.keep_handed { self.frames.get(&f).cloned() } else { self.remove(f) };
        if frame.is_some() {
            self.hits += 1;
        }
        frame
    }

    /// Drops frame `f`, if held.
    pub fn forget(&mut self, f: usize) {
        self.remove(f);
    }

    /// True when frame `f` is held.
    pub fn contains(&self, f: usize) -> bool {
        self.frames.contains_key(&f)
    }

    /// Holds frame `f`, decoded and not asked for yet (or asked for and to be kept).
    pub fn put(&mut self, f: usize, frame: Arc<Frame>) {
        if self.frames.insert(f, frame).is_none() {
            self.bytes += self.frame_bytes;
        }
        self.bound();
    }

    /// Notes the frames handed out by a request, and keeps them where that is on.
    pub fn handed(&mut self, frames: impl IntoIterator<Item = (usize, Arc<Frame>)>) {
        for (f, frame) in frames {
            self.highest_handed = Some(self.highest_handed.map_or(f, |h| h.max(f)));
            if self.keep_handed {
                self.put(f, frame);
            }
        }
    }

    /// True when frames handed out stay in the store (shared with the caller).
    #[cfg(test)]
    pub fn keeps_handed(&self) -> bool {
        self.keep_handed
    }

    /// Frames served from the store since the last call.
    pub fn take_hits(&mut self) -> u64 {
        std::mem::take(&mut self.hits)
    }

    /// Frames held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    fn remove(&mut self, f: usize) -> Option<Arc<Frame>> {
        let frame = self.frames.remove(&f)?;
        self.bytes -= self.frame_bytes;
        Some(frame)
    }

    /// Drops frames past the bound: behind the caller first (oldest first), then ahead
    /// (furthest first).
    fn bound(&mut self) {
        let max_bytes = MAX_BYTES.max(2 * self.frame_bytes);
        while self.frames.len() > MAX_FRAMES || self.bytes > max_bytes {
            let behind = self.frames.range(..self.at).next().map(|(&f, _)| f);
            let victim = behind.or_else(|| self.frames.keys().next_back().copied());
            match victim {
                Some(f) => {
                    self.remove(f);
                }
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::PixelFormat;
    use crate::frame::FrameData;

    fn frame(n: i64) -> Arc<Frame> {
        Arc::new(Frame {
            format: PixelFormat::Nv12,
            width: 2,
            height: 2,
            pts: Some(n),
            keyframe: false,
            color: Default::default(),
            data: FrameData::None,
        })
    }

    #[test]
    fn ahead_frames_leave_when_taken() {
        let mut s = FrameStore::new(6);
        s.requested(&[3]);
        s.put(4, frame(4));
        s.put(5, frame(5));
        assert!(s.take(4).is_some());
        assert!(!s.contains(4));
        assert!(s.take(4).is_none());
        assert_eq!(s.take_hits(), 1);
    }

    #[test]
    fn looking_back_keeps_what_was_handed_out() {
        let mut s = FrameStore::new(6);
        s.requested(&[10]);
        s.handed([(10, frame(10))]);
        assert!(!s.contains(10), "a forward loop keeps nothing it handed out");
        s.requested(&[10]);
        assert!(s.keeps_handed());
        s.handed([(10, frame(10))]);
        assert!(s.take(10).is_some());
        assert!(s.contains(10), "kept frames stay after they are served");
    }

    #[test]
    fn the_bound_drops_frames_behind_first_then_furthest_ahead() {
        let mut s = FrameStore::new(1);
        s.requested(&[100]);
        for f in 60..(60 + MAX_FRAMES) {
            s.put(f, frame(f as i64));
        }
        assert_eq!(s.len(), MAX_FRAMES);
        s.put(200, frame(200));
        assert!(!s.contains(60), "the oldest frame behind the caller goes first");
        assert!(s.contains(200));
        s.requested(&[0]);
        s.put(1, frame(1));
        // Now everything is ahead of the caller: the furthest goes.
        assert!(!s.contains(200));
        assert!(s.contains(1));
    }

    #[test]
    fn large_frames_are_bounded_by_bytes() {
        let mut s = FrameStore::new(MAX_BYTES / 4);
        for f in 0..10 {
            s.put(f, frame(f as i64));
        }
        assert_eq!(s.len(), 4);
    }
}
