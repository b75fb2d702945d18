//! The first session's decoding, kept between calls: a request for frames ahead of where
//! the session is goes on decoding from there instead of starting again at a random access
//! point.
//!
//! Why: the loops people write ask for one frame, or a short range, at a time (`dec[i]`
//! over a file, ranges in chunks, iteration mixed with indexing). Started again at the
//! key frame each time, a loop over a GOP of `g` frames decodes about `g²/2` packets; going
//! on, `g`. A session gives its pictures in presentation order a few packets after their
//! own, so serving frame `i` decodes on until `i` comes out; the frames after it that come
//! out meanwhile wait in the [`FrameStore`](super::store::FrameStore) for the next call.
//!
//! Going on is exact only for frames the session can still give with their pixels:
//! - not yet out of the session (a session gives frames once, in presentation order);
//! - not fed without pixels (a picture no frame asked for needs is fed unshown, and one
//!   nothing refers to is left out, as a planned run does: [`super::prune`]);
//! - on NVDEC, not decoded from a reference picture fed for its headers only (NVDEC leaves
//!   those undecoded): the frame's random access point must come after it.
//!
//! Otherwise, or when the frames asked for start more than [`seek_gap`] packets past where
//! the session is (a random access point that close is cheaper to decode from), the session
//! is flushed and starts at the run's random access point, and is kept from there on.
//! A frame that does not come out going on (damage, or a stream whose pictures come out of
//! order) is decoded from its random access point on a flushed session, as before: the
//! frames are those of a straight decode of the whole file, bit for bit, in every order of
//! access (`tests/reader_state.rs`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::FrameReader;
use super::plan::{Run, plan};
use super::prune::Skipper;
use super::run_decode::read_run_to;
use super::store::FrameStore;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::FrameIndex;

/// Packets a request may start past the session's position and still be served by going
/// on: decoding them costs about what a flush, a seek and the pictures lost in the session's
/// reorder queue cost. Measured (bench/results/seek-gap-20261128-7fdf4de, strided `dec[i]`
/// loops over 30- and 120-frame GOPs, FFmpeg on 2 cores and NVDEC on an H200): the loops'
/// total time is flat within 1.1 % for gaps 0 to 8 and rises from 16 (+3 %), 32 (+11-13 %)
/// and always going on (+21-30 %).
const SEEK_GAP: usize = 8;
/// Packets decoded past the last one a request needs before the frames that did not come
/// out are taken from their random access point instead (a session holds at most 16
/// pictures for reordering, and a frame-threaded FFmpeg session up to 16 more in flight).
const REORDER_SLACK: usize = 48;

/// [`SEEK_GAP`], or `VIDEO_HW_READER_SEEK_GAP` (for measuring the crossover).
pub(super) fn seek_gap() -> usize {
    crate::env::settings().reader_seek_gap.unwrap_or(SEEK_GAP)
}

/// Where the first session is in the track (see the module docs).
#[derive(Debug, Default)]
pub(super) struct Live {
    /// The next packet to feed (decode order).
    next_packet: usize,
    /// The highest frame the session has given: it gives frames in presentation order.
    given: Option<usize>,
    /// Frames whose packets were fed without pixels or left out, not yet passed.
    without_pixels: BTreeSet<usize>,
    /// The last packet NVDEC was fed for its headers only (its picture left undecoded).
    headers_only: Option<usize>,
    /// Every packet went in and the session was flushed: it takes a new start only.
    ended: bool,
    /// Feeding failed part-way: the session is flushed before it is used again.
    broken: bool,
}

/// What a request wants: its frames (ascending) and the highest of them.
struct Want<'a> {
    frames: &'a [usize],
    last: usize,
}

impl Want<'_> {
    fn has(&self, f: usize) -> bool {
        self.frames.binary_search(&f).is_ok()
    }
}

/// Takes a frame the session gave: the request's frames go to `got`, the others with
/// their pixels to the store (frames ahead are what a forward loop asks for next).
fn take(
    live: &mut Live,
    index: &FrameIndex,
    store: &mut FrameStore,
    want: &Want<'_>,
    got: &mut HashMap<usize, Arc<Frame>>,
    mut frame: Frame,
) {
    let Some(f) = frame.pts.and_then(|tag| index.frame_of_packet(tag as usize)) else { return };
    live.given = Some(live.given.map_or(f, |g| g.max(f)));
    if live.without_pixels.remove(&f) {
        return;
    }
    frame.pts = Some(index.frames()[f].pts);
    let frame = Arc::new(frame);
    if want.has(f) {
        got.insert(f, frame);
    } else if !store.contains(f) {
        store.put(f, frame);
    }
}

impl Live {
    /// The packet the session reads next, while it can go on (not ended, not broken).
    pub(super) fn going_on_at(&self) -> Option<usize> {
        (!self.ended && !self.broken).then_some(self.next_packet)
    }
}

impl FrameReader {
    /// Serves `runs` (planned for frames the store does not hold) on the first session,
    /// going on from where it is wherever that is exact and cheaper (module docs).
    /// `follows_on`: the request starts a little after the last one (a forward loop), jumps
    /// ahead by a stride whose next step stays in its GOP, or is the reader's first on a
    /// session that is not frame-threaded ([`follows_on`](Self::follows_on)), so the session
    /// is kept where its last run ends; a request that jumps otherwise decodes its runs as
    /// before, each ending with a flush, and costs no more than it did.
    pub(super) fn serve_on_first(
        &mut self,
        runs: &[Run],
        follows_on: bool,
        got: &mut HashMap<usize, Arc<Frame>>,
    ) -> Result<()> {
        for (i, run) in runs.iter().enumerate() {
            if self.can_go_on(run) {
                self.go_on(&run.frames, got)?;
                let missing: Vec<usize> = run.frames.iter().copied().filter(|f| !got.contains_key(f)).collect();
                if missing.is_empty() {
                    continue;
                }
                let index = &self.index;
                for again in plan(&missing, |f| self.start_of(f), |f| index.last_packet(f)) {
                    self.fresh(&again, false, got)?;
                }
            } else {
                self.fresh(run, follows_on && i + 1 == runs.len(), got)?;
            }
        }
        Ok(())
    }

    /// Decodes `frames` that did not come out of a run ending with a flush, again from
    /// their random access points with every packet decoded and decoding going on past
    /// them until they come out: a decoder may hold back a picture when pictures before it
    /// are missing, or give it only once pictures after it went in (FFmpeg's H.264 decoder,
    /// started at a recovery point of a stream without IDR pictures, gives the frames
    /// before the recovery completes only when it completes). What is still missing then
    /// is missing: the file is damaged there.
    pub(super) fn decode_again_whole(&mut self, frames: &[usize], got: &mut HashMap<usize, Arc<Frame>>) -> Result<()> {
        let skip = std::mem::replace(&mut self.skip, Skipper::decode_all());
        let index = &self.index;
        let runs = plan(frames, |f| self.start_of(f), |f| index.last_packet(f));
        let r = runs.iter().try_for_each(|run| self.fresh(run, true, got));
        self.skip = skip;
        r
    }

    /// Whether a request for `first` to `last` (its lowest and highest frames) follows on
    /// from the last request, so that the session is kept where it ends: it is ahead of it
    /// and starts within [`seek_gap`] packets of its last packet (a forward loop), or it
    /// jumps ahead by a stride that, taken once more from `last`, lands in the GOP `last`
    /// is in (a strided loop in long GOPs: the next call goes on instead of starting again
    /// at the key frame). A jump whose next one would land past the GOP ends with a flush,
    /// as a single lookup does: kept, the session would decode pictures after the frame
    /// that nothing takes (bench/results/strided-keep-20261128-7811408).
    pub(super) fn follows_on(&self, first: usize, last: usize) -> bool {
        let n = self.index.len();
        self.last_asked.is_some_and(|m| {
            if first <= m || m >= n {
                return false;
            }
            if self.start_of(first) <= self.index.last_packet(m) + seek_gap() {
                return true;
            }
            let next = last + (first - m);
            next < n && self.start_of(next) == self.start_of(last)
        })
    }

    /// Whether `run`'s frames can be had by going on from where the first session is.
    fn can_go_on(&self, run: &Run) -> bool {
        let Some(live) = self.live.as_ref() else { return false };
        if live.ended || live.broken || self.demuxer_at != Some(live.next_packet) {
            return false;
        }
        let reachable = |f: usize| {
            live.given.is_none_or(|g| f > g)
                && !live.without_pixels.contains(&f)
                && live.headers_only.is_none_or(|h| self.start_of(f) > h)
        };
        run.start <= live.next_packet + seek_gap() && run.frames.iter().all(|&f| reachable(f))
    }

    /// Flushes the first session if it is part-way through a stream, taking the frames it
    /// still gives that `want` asks for (or that the store keeps); it then takes a new start.
    fn settle_first(&mut self, want: &Want<'_>, got: &mut HashMap<usize, Arc<Frame>>) -> Result<()> {
        let Some(mut live) = self.live.take() else { return Ok(()) };
        if live.ended {
            return Ok(());
        }
        let frames = match self.decoders[0].flush() {
            Ok(frames) => frames,
            // Damage seen only at the end is the frames' to be missing, not an error here.
            Err(Error::InvalidBitstream { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        // A session that failed part-way gives nothing that can be trusted.
        if !live.broken {
            for frame in frames {
                take(&mut live, &self.index, &mut self.store, want, got, frame);
            }
        }
        Ok(())
    }

    /// The first session is about to be used by other work (runs on several sessions, the
    /// read-ahead): it is flushed, and its position and the demuxer's forgotten.
    pub(super) fn release_first(&mut self) -> Result<()> {
        // The sessions of the index calls' read-ahead come back first: whoever gives up the
        // first session's position wants every session.
        self.stop_sequential()?;
        let mut none = HashMap::new();
        let r = self.settle_first(&Want { frames: &[], last: 0 }, &mut none);
        self.demuxer_at = None;
        r
    }

    /// Decodes `run` from its random access point on the first session, flushed first.
    /// `keep`: the session is kept where the run ends (decoding on until its frames come
    /// out), the pictures past them given with their pixels, and no picture left
    /// undecoded for its headers only (on NVDEC that would keep the frames after it from
    /// being had by going on). Otherwise the run ends with a flush, as a planned run does.
    fn fresh(&mut self, run: &Run, keep: bool, got: &mut HashMap<usize, Arc<Frame>>) -> Result<()> {
        let want = Want { frames: &run.frames, last: run.frames.last().copied().unwrap_or(0) };
        self.settle_first(&want, got)?;
        self.demuxer_at = None;
        // An engine that leaves headers-only pictures undecoded (NVDEC) could not decode on
        // from them.
        let skips =
            self.engine.as_ref().is_some_and(|(e, _)| crate::registry::descriptor(*e).skips_headers_only_pictures);
        let skip = if keep && skips { self.skip.with_headers_only(false) } else { self.skip };
        let (mut packets, read_to) = read_run_to(&mut self.demuxer, &self.index, run, &skip)?;
        self.demuxer_at = Some(read_to);
        self.stats.count(&packets);
        self.stats.runs += 1;
        let mut live = Live { next_packet: read_to, ..Live::default() };
        // Pictures past the frames asked for are given with their pixels: a forward loop
        // asks for them next. Those fed without pixels, or left out, are noted.
        let mut fed = packets.iter().map(|p| p.number).peekable();
        for k in run.start..read_to {
            let left_out = fed.next_if_eq(&k).is_none();
            if left_out {
                live.without_pixels.extend(self.index.frame_of_packet(k));
            }
        }
        for p in &mut packets {
            let frame = self.index.frame_of_packet(p.number);
            if keep && p.decode && frame.is_none_or(|j| j > want.last) {
                p.shown = true;
            }
            if !p.decode || !p.shown {
                live.without_pixels.extend(frame);
            }
            if !p.decode && skips {
                live.headers_only = Some(p.number);
            }
        }
        self.live = Some(live);
        for p in &packets {
            self.stop_if_asked()?;
            if let Err(e) = self.feed.submit(&mut self.decoders[0], p.number, &p.data, p.decode, p.shown) {
                self.break_first();
                return Err(e);
            }
            self.reap_first(&want, got)?;
        }
        if keep {
            self.go_on(&run.frames, got)?;
            if run.frames.iter().all(|f| got.contains_key(f)) {
                return Ok(());
            }
        }
        // A frame still not out: the flush gives what the session holds, as a run that
        // ends there does; what is still missing is missing.
        let r = self.settle_first(&want, got);
        self.live = Some(Live { ended: true, ..Live::default() });
        r
    }

    /// Feeds packets from where the first session is until every frame of `frames`
    /// (ascending) is out, the track ends, or [`REORDER_SLACK`] packets past the last
    /// packet they need went in.
    fn go_on(&mut self, frames: &[usize], got: &mut HashMap<usize, Arc<Frame>>) -> Result<()> {
        let Some(&last) = frames.last() else { return Ok(()) };
        let want = Want { frames, last };
        let need_end = frames.iter().map(|&f| self.index.last_packet(f)).max().unwrap_or(0);
        let track = self.index.track().index;
        let total = self.index.packets().len();
        let mut errors = 0;
        loop {
            if frames.iter().all(|f| got.contains_key(f)) {
                return Ok(());
            }
            self.stop_if_asked()?;
            let Some(live) = self.live.as_mut() else { return Ok(()) };
            let k = live.next_packet;
            if live.ended || live.broken || k > need_end + REORDER_SLACK {
                return Ok(());
            }
            let packet = if k < total { self.demuxer.next_packet() } else { Ok(None) };
            let data = match packet {
                Ok(Some(p)) if p.track == track => p.data,
                Ok(Some(_)) => continue,
                // Damage the demuxer reports and reads on from (MPEG-TS).
                Err(_) if errors < 1000 => {
                    errors += 1;
                    continue;
                }
                Err(e) => {
                    self.break_first();
                    return Err(e);
                }
                Ok(None) => {
                    let r = self.settle_first(&want, got);
                    self.live = Some(Live { ended: true, ..Live::default() });
                    return r;
                }
            };
            live.next_packet += 1;
            self.demuxer_at = Some(k + 1);
            // As a planned run feeds them: frames behind the last one asked for and not
            // asked for are not wanted again by a forward loop.
            let frame = self.index.frame_of_packet(k);
            let behind = frame.filter(|&j| j < last && !want.has(j));
            let (feed, shown) = match behind {
                Some(_) if self.skip.droppable(&data) => (false, false),
                Some(_) => (true, false),
                None => (true, true),
            };
            if let Some(j) = behind {
                live.without_pixels.insert(j);
            }
            if !feed {
                continue;
            }
            self.stats.packets_decoded += 1;
            if let Err(e) = self.feed.submit(&mut self.decoders[0], k, &data, true, shown) {
                self.break_first();
                return Err(e);
            }
            self.reap_first(&want, got)?;
        }
    }

    /// Takes every frame the first session has ready.
    fn reap_first(&mut self, want: &Want<'_>, got: &mut HashMap<usize, Arc<Frame>>) -> Result<()> {
        loop {
            let frame = match self.decoders[0].try_reap() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    self.break_first();
                    return Err(e);
                }
            };
            if let Some(live) = self.live.as_mut() {
                take(live, &self.index, &mut self.store, want, got, frame);
            }
        }
        // Frames fed without pixels that the session has long passed will not come out.
        if let Some(live) = self.live.as_mut()
            && let Some(g) = live.given
        {
            live.without_pixels.retain(|&j| j + 2 * REORDER_SLACK > g);
        }
        Ok(())
    }

    /// Stops the call when the caller asks (interrupt.rs): the first session, stopped
    /// part-way, is flushed before its next use.
    fn stop_if_asked(&mut self) -> Result<()> {
        if self.interrupt_asked() {
            self.break_first();
            return Err(super::interrupted());
        }
        Ok(())
    }

    fn break_first(&mut self) {
        if let Some(live) = self.live.as_mut() {
            live.broken = true;
        }
        self.demuxer_at = None;
    }
}
