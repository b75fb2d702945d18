//! Exact random access to the frames of a video file: by presentation index, by time, by
//! range, or sequentially from any point.
//!
//! A [`FrameReader`] holds a file's [`FrameIndex`] and a few decode sessions. Asked for
//! frames, it plans the decode ([`plan`](mod@plan)): each frame needs the packets from the random
//! access point it depends on up to its own, the ranges that touch are merged, and every
//! GOP is decoded once however many of its frames are wanted. Runs that do not touch are
//! independent, so with several sessions they decode at once — on NVDEC, one file then
//! uses several of the GPU's engines. The frames are those of a straight decode of the
//! whole file, bit for bit: the runs start only at clean random access points (never at a
//! frame's leading pictures' key), and each frame is matched to its packet, not counted.
//!
//! ```no_run
//! use video_hw::reader::FrameReader;
//! use video_hw::{Output, PixelFormat};
//!
//! let mut reader = FrameReader::open("clip.mp4", Output::Host(PixelFormat::Nv12))?;
//! println!("{} frames, {} key frames", reader.len(), reader.index().keyframes());
//! let frames = reader.frames_at(&[250, 3, 99, 3])?; // in the order asked, repeats allowed
//! let at_2s = reader.frame_played_at(2.0)?;
//! for frame in reader.frames_from(10.0)?.take(30) {
//!     let frame = frame?;
//! }
//! # Ok::<(), video_hw::Error>(())
//! ```

mod at_once;
mod auto;
mod interrupt;
mod live;
pub mod plan;
mod prune;
#[cfg(test)]
mod prune_tests;
mod read_ahead;
mod run_decode;
mod sequential;
mod sequential_index;
mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::backend::software_threads;
use crate::config::{DecoderConfig, Output};
use crate::decoder::Decoder;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{CacheUse, Demuxer, FrameIndex, IndexCache};
use crate::pixels::transform::Transform;
use crate::process::Process;
pub use auto::AutoReader;
pub use interrupt::{Interrupt, interrupted};
use live::Live;
use plan::{Run, plan};
use prune::Skipper;
pub use read_ahead::DEFAULT_READ_AHEAD_BYTES;
use run_decode::{Feed, Packets, missing};
use sequential::Cursor;
pub use sequential::FramesFrom;
use sequential_index::SeqAhead;
use store::FrameStore;

/// Most sessions one reader runs.
pub const MAX_SESSIONS: usize = 64;

/// What a [`FrameReader`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Runs decoded (each from a random access point).
    pub runs: u64,
    /// Packets decoded.
    pub packets_decoded: u64,
    /// Packets fed for their headers only: H.264 and HEVC reference pictures that no frame
    /// asked for depends on. NVDEC and the FFmpeg engine leave their decoding out
    /// (`pictures_left_out`); the other engines decode them.
    pub packets_headers_only: u64,
    /// Frames handed out (a frame asked for twice in one call counts once).
    pub frames_returned: u64,
    /// Frames handed out from those kept between calls, without decoding (decoded ahead
    /// of the caller, or asked for again).
    pub frames_kept: u64,
    /// Sessions opened.
    pub sessions: usize,
    /// Frames of sequential reading on several sessions that were held in device memory
    /// and copied to host memory as they were handed out (host NV12, YUV420P and RGB on NVDEC).
    pub frames_staged: u64,
    /// Frames of index calls walking the file in order that the other sessions decoded
    /// ahead, while the first went on with its GOP (`sequential_index.rs`).
    pub frames_read_ahead: u64,
    /// Pictures the engines found damaged and concealed themselves (NVDEC), summed over the
    /// sessions the reader holds (those of a read-ahead once it has stopped).
    pub concealed: u64,
    /// Pictures fed for their headers only that the engines left undecoded, summed over
    /// the sessions the reader holds: the FFmpeg engine leaves out H.264 and HEVC ones
    /// (`packets_headers_only` counts those fed).
    pub pictures_left_out: u64,
}

impl ReaderStats {
    /// Counts a run's packets as they are fed.
    pub(crate) fn count(&mut self, packets: &Packets) {
        let decoded = packets.iter().filter(|p| p.decode).count() as u64;
        self.packets_decoded += decoded;
        self.packets_headers_only += packets.len() as u64 - decoded;
    }
}

/// Exact random access to one video track of a file (see the module docs).
pub struct FrameReader {
    demuxer: Demuxer,
    index: FrameIndex,
    config: DecoderConfig,
    feed: Feed,
    skip: Skipper,
    sessions: usize,
    decoders: Vec<Decoder>,
    /// Sessions of their own for a call's independent runs ([`run_sessions`](Self::run_sessions));
    /// 0: the runs decode on `decoders`.
    run_sessions: usize,
    /// The sessions opened for runs at once, where `run_sessions` is set (`at_once.rs`).
    run_decoders: Vec<Decoder>,
    /// The engine can start H.264 decoding only at IDR pictures (the software engines),
    /// not at every random access point.
    idr_only: bool,
    /// Where sequential reading ([`next_frame`](Self::next_frame)) is.
    cursor: Option<Cursor>,
    /// The sessions reading ahead of index calls that walk the file in order
    /// (`sequential_index.rs`).
    seq: Option<SeqAhead>,
    /// Where the first session is in the track, kept between calls (`live.rs`).
    live: Option<Live>,
    /// The packet the demuxer reads next, when known.
    demuxer_at: Option<usize>,
    /// Frames decoded ahead of the caller, and frames it may ask for again (`store.rs`).
    store: FrameStore,
    /// The highest frame of the last request: a request starting right after it follows on.
    last_asked: Option<usize>,
    /// Bound on the frames decoded ahead of sequential reading on several sessions, when
    /// the caller set one.
    read_ahead_bytes: Option<usize>,
    /// The first session's engine and its description (kept while the sessions work on
    /// read-ahead threads).
    engine: Option<(Engine, String)>,
    /// Threads the first session keeps busy ([`Decoder::threads`]), once it is open.
    threads: Option<u32>,
    /// The software sessions open beside the first session when it was opened with its
    /// share of the cores, until it decodes (`reopen_first_if_starved`).
    opened_beside: Option<usize>,
    /// Why the first session decodes where the request did not prefer (see
    /// [`Decoder::fallback`]).
    fallback: Option<String>,
    stats: ReaderStats,
    /// The process the sessions were opened in: in a child made by `fork` since, they are
    /// forgotten and opened again ([`after_fork`](Self::after_fork)).
    process: Process,
    /// Whether the index came from a cache ([`open_with_cache`](Self::open_with_cache)).
    index_cache: CacheUse,
    /// The caller's check that stops a call part-way, when it set one (`interrupt.rs`).
    interrupt: Option<Interrupt>,
}

impl std::fmt::Debug for FrameReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReader")
            .field("frames", &self.index.len())
            .field("sessions", &self.sessions)
            .field("stats", &self.stats)
            .finish()
    }
}

impl FrameReader {
    /// Opens the default video track ([`Demuxer::video_track`]: the largest) of the file at `path`, with sessions that give `output`
    /// frames (the best engine for the track's codec).
    ///
    /// The index is read from, and saved to, the process-wide default cache
    /// ([`video_hw::media::index_cache(None)`](crate::media::index_cache): `VIDEO_HW_INDEX_CACHE`,
    /// `auto` where unset; see [`open_with_cache`](Self::open_with_cache)).
    pub fn open(path: impl AsRef<Path>, output: Output) -> Result<Self> {
        Self::open_with_cache(path, output, &crate::media_glue::index_cache(None))
    }

    /// [`open`](Self::open), with the frame index read from and saved to `cache`
    /// ([`IndexCache`]: a directory, beside the file, or off). A saved index that does not
    /// match the file as it is now is built again and replaced;
    /// [`index_cache`](Self::index_cache) says what happened.
    pub fn open_with_cache(path: impl AsRef<Path>, output: Output, cache: &IndexCache) -> Result<Self> {
        let path = path.as_ref();
        let mut demuxer = Demuxer::open(path)?;
        let track = demuxer.video_track().ok_or_else(|| demuxer.no_video_error())?;
        let config =
            DecoderConfig::for_track(track).ok_or_else(|| Error::unsupported(track.codec.to_string(), "no decoder"))?;
        let track = track.index;
        let config = config.output(output);
        Self::check_crop(&demuxer, track, &config)?;
        let (index, used) = cache.index_in(&mut demuxer, track, path, crate::env::index_dir)?;
        let mut reader = Self::with_index(demuxer, index, config)?;
        reader.index_cache = used;
        Ok(reader)
    }

    /// Reads track `track` of `demuxer` with sessions opened from `config` (its codec is
    /// replaced by the track's). Builds the track's index (see [`FrameIndex::build`]). A
    /// transform whose crop does not fit the picture the track states is refused first.
    pub fn new(mut demuxer: Demuxer, track: usize, config: DecoderConfig) -> Result<Self> {
        Self::check_crop(&demuxer, track, &config)?;
        let index = FrameIndex::build(&mut demuxer, track)?;
        Self::with_index(demuxer, index, config)
    }

    /// A crop outside the picture is refused before the file is indexed, where the
    /// container states the size.
    fn check_crop(demuxer: &Demuxer, track: usize, config: &DecoderConfig) -> Result<()> {
        if let (Some(t), Some(v)) = (config.transform, demuxer.track(track).and_then(|t| t.video)) {
            t.output_size(v.width, v.height)?;
        }
        Ok(())
    }

    /// [`new`](Self::new) with the track's index already made: built from `demuxer`
    /// ([`FrameIndex::build`]) or read from a cache ([`IndexCache::index`]). The track is
    /// the index's; `demuxer` must be the one the index was made from or read for.
    pub fn with_index(mut demuxer: Demuxer, index: FrameIndex, mut config: DecoderConfig) -> Result<Self> {
        let track = index.track().index;
        if demuxer.track(track).is_none_or(|t| t.codec != index.track().codec) {
            return Err(Error::invalid_input(format!(
                "the index is of track {track}, which this demuxer does not have"
            )));
        }
        Self::check_crop(&demuxer, track, &config)?;
        // Device output: an engine that cannot take the stream (a 4:4:4 or too wide one
        // on a GPU decoder) must refuse at open, so that the registry decodes it elsewhere
        // and uploads.
        if config.stream.is_none() && matches!(config.output, Output::Device(..)) {
            config.stream = demuxer.stream_info(track).ok().flatten().map(|i| i.format());
            demuxer.rewind()?;
        }
        config.codec = index.track().codec.video().ok_or_else(|| {
            Error::unsupported(
                format!("{} video", index.track().codec),
                format!("no engine decodes {}: this crate does not know the codec", index.track().codec),
            )
        })?;
        config.extradata = index.track().extradata();
        config.picture_size = index.track().video.map(|v| (v.width, v.height)).filter(|&(w, h)| w > 0 && h > 0);
        let feed = Feed::new(&index);
        let skip = Skipper::new(&index);
        let store = FrameStore::new(frame_bytes(&index, config.output, config.transform));
        Ok(FrameReader {
            demuxer,
            index,
            config,
            feed,
            skip,
            sessions: 1,
            decoders: Vec::new(),
            run_sessions: 0,
            run_decoders: Vec::new(),
            idr_only: false,
            cursor: None,
            seq: None,
            live: None,
            demuxer_at: None,
            store,
            last_asked: None,
            read_ahead_bytes: None,
            engine: None,
            fallback: None,
            threads: None,
            opened_beside: None,
            stats: ReaderStats::default(),
            process: Process::current(),
            index_cache: CacheUse::Off,
            interrupt: None,
        })
    }

    /// Decodes independent runs on up to `n` sessions at once (default 1). With NVDEC, one
    /// per engine spreads a file's GOPs over the GPU
    /// ([`recommended_sessions`](crate::pipeline::recommended_sessions) gives the measured
    /// best).
    ///
    /// Sequential reading ([`next_frame`](Self::next_frame), [`frames_from`](Self::frames_from))
    /// with several sessions decodes the GOPs ahead at once, holding at most
    /// [`read_ahead`](Self::read_ahead) bytes of frames the caller has not reached.
    pub fn sessions(mut self, n: usize) -> Self {
        self.sessions = n.clamp(1, MAX_SESSIONS);
        self
    }

    /// Decodes the independent runs of one call (a sampler's clips, frames from several
    /// GOPs) on up to `n` sessions of their own rather than on the reader's
    /// [`sessions`](Self::sessions) (0, the default, or `n` not above them: on those). Each
    /// such session runs its share of the cores (the cores over the sessions the call
    /// uses, at least one thread; the configuration's `threads` where set), and is kept for
    /// the next calls. For software engines whose one session runs frame threads over the
    /// cores: a short run from a key frame fills and drains them, and the cores idle while
    /// one session converts its pictures; several sessions of fewer threads keep the cores
    /// busy ([`recommended_run_sessions`](crate::pipeline::recommended_run_sessions) gives
    /// the engine's count). Calls of one run (`dec[i]`, ranges, iteration) stay on the first
    /// session.
    pub fn run_sessions(mut self, n: usize) -> Self {
        self.run_sessions = n.min(MAX_SESSIONS);
        self
    }

    /// Whether a reference picture that no frame asked for reaches is fed to the decoder
    /// for its headers only (NVDEC then leaves it undecoded; the software engines decode
    /// it anyway) rather than decoded. On by default unless `VIDEO_HW_READER_HEADERS_ONLY=0`.
    /// No effect on codecs other than H.264 and HEVC, nor on HEVC streams of several
    /// temporal sub-layers (their pictures are all decoded). See `docs/media.md`, random
    /// access.
    pub fn headers_only(mut self, on: bool) -> Self {
        self.skip = self.skip.with_headers_only(on);
        self
    }

    /// Sessions it may run at once ([`sessions`](Self::sessions)).
    pub fn max_sessions(&self) -> usize {
        self.sessions
    }

    /// Bounds the frames sequential reading on several sessions decodes ahead of the caller
    /// (estimated from the track's size and the output format). By default
    /// [`DEFAULT_READ_AHEAD_BYTES`] (4 GiB); where the frames wait in device memory (host
    /// NV12, YUV420P or RGB from NVDEC: each is copied to the host as it is taken), enough for
    /// every session to have its GOPs and one more queued, within a quarter of the GPU's
    /// free memory. The GOP being read always decodes, so a small bound reads on one
    /// session at a time.
    pub fn read_ahead(mut self, bytes: usize) -> Self {
        self.read_ahead_bytes = Some(bytes);
        self
    }

    /// What the index cache did when the reader was opened ([`CacheUse::Off`] unless it
    /// was opened through one).
    pub fn index_cache(&self) -> &CacheUse {
        &self.index_cache
    }

    /// The track's frame index.
    pub fn index(&self) -> &FrameIndex {
        &self.index
    }

    /// Frames in the track.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the track has no frame.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// What was done so far.
    pub fn stats(&self) -> ReaderStats {
        let (concealed, pictures_left_out) = self
            .decoders
            .iter()
            .chain(&self.run_decoders)
            .map(|d| d.stats())
            .fold((0, 0), |(c, l), s| (c + s.concealed, l + s.left_out));
        ReaderStats { concealed, pictures_left_out, ..self.stats }
    }

    /// The engine of the first session, described (after a first decode or
    /// [`prepare`](Self::prepare)).
    pub fn backend(&self) -> Option<&str> {
        self.engine.as_ref().map(|(_, b)| b.as_str())
    }

    /// Threads each session keeps busy decoding ([`Decoder::threads`]; after a first decode
    /// or [`prepare`](Self::prepare)): with [`max_sessions`](Self::max_sessions), how many
    /// cores the reader can keep busy at once.
    pub fn decode_threads(&self) -> Option<u32> {
        self.threads
    }

    /// Why the sessions decode where the request did not prefer, or None (after a first
    /// decode or [`prepare`](Self::prepare)): CUDA output of a stream the GPU's decoder
    /// cannot take, decoded on the CPU and uploaded ([`Decoder::fallback`]).
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Opens the first session now (it is otherwise opened by the first decode) and
    /// returns its engine: for choosing the number of sessions by engine
    /// ([`recommended_sessions`](crate::pipeline::recommended_sessions)).
    pub fn prepare(&mut self) -> Result<Engine> {
        if self.engine.is_none() {
            self.ensure_first_session()?;
        }
        self.engine.as_ref().map(|(e, _)| *e).ok_or_else(|| Error::invalid_input("no session"))
    }

    /// The frames at presentation indices `frames`, in the order asked (a repeated index
    /// gives the same frame again). Each frame's `pts` is its container timestamp.
    ///
    /// `InvalidInput` for an index past the end; `InvalidBitstream` (with the byte offset
    /// of its packet) for a frame the decoder could not give because the file is damaged
    /// there.
    pub fn frames_at(&mut self, frames: &[usize]) -> Result<Vec<Arc<Frame>>> {
        let got = self.frames_at_or_missing(frames)?;
        frames.iter().zip(got).map(|(&f, frame)| frame.ok_or_else(|| missing(&self.index, f))).collect()
    }

    /// What decoding `frames` (presentation indices) takes where none is kept from an
    /// earlier call, from the frame index's GOP layout: `(runs, packets)`, the independent
    /// runs from a random access point and the packets they feed (the least the GOP
    /// structure allows; `device="auto"` estimates its costs from them). Indices past the
    /// end are left out.
    pub fn decode_work(&self, frames: &[usize]) -> (usize, usize) {
        let frames: Vec<usize> = frames.iter().copied().filter(|&f| f < self.index.len()).collect();
        let runs = plan(&frames, |f| self.start_of(f), |f| self.index.last_packet(f));
        (runs.len(), runs.iter().map(Run::packets).sum())
    }

    /// What reading on from frame `first` to the end costs ([`next_frame`](Self::next_frame)
    /// after [`seek_frame`](Self::seek_frame)): the independent pieces of the stretch (the
    /// GOPs ahead that a reader of several sessions decodes at once; one of one session
    /// decodes them one after the other) and the packets. [`decode_work`](Self::decode_work)
    /// of the same frames gives one run, what one session does, and made `device="auto"`
    /// count one GPU engine for a whole file that the GPU reads on seven.
    pub fn sequential_work(&self, first: usize) -> (usize, usize) {
        let n = self.index.len();
        if first >= n {
            return (0, 0);
        }
        let packets = self.decode_work(&(first..n).collect::<Vec<_>>()).1;
        (read_ahead::jobs_from(n, first, &|f| self.start_of(f)), packets)
    }

    /// [`frames_at`](Self::frames_at), with `None` for each frame the decoder could not
    /// give (the file is damaged there) instead of an error: for callers that skip
    /// damage. Errors that are not about the file (an index past the end, a device
    /// failure) are still returned.
    pub fn frames_at_or_missing(&mut self, frames: &[usize]) -> Result<Vec<Option<Arc<Frame>>>> {
        if let Some(&bad) = frames.iter().find(|&&f| f >= self.index.len()) {
            return Err(Error::invalid_input(format!("frame {bad} of a track of {} frames", self.index.len())));
        }
        self.ensure_first_session()?;
        let mut wanted = frames.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        // The first request of a reader keeps its session too, where that costs nothing:
        // it is most often the first of a loop (`dec[0]`, then `dec[1]`), and ended with a
        // flush, the next call decoded its GOP again from the key frame (on the H200 24 ms
        // of the loop's second call; reader_loops). Not on frame-threaded sessions: their
        // first frame comes out only after a frame a thread, which tripled the CPU's
        // first frame (0.068 s to 0.158 s, 1080p, 3 FFmpeg frame threads).
        let first_keeps = self.last_asked.is_none() && self.threads.is_none_or(|t| t <= 1);
        let follows_on = first_keeps || wanted.first().zip(wanted.last()).is_some_and(|(&f, &l)| self.follows_on(f, l));
        self.store.requested(&wanted);
        let mut got: HashMap<usize, Arc<Frame>> = HashMap::with_capacity(wanted.len());
        for &f in &wanted {
            if let Some(frame) = self.store.take(f) {
                got.insert(f, frame);
            }
        }
        self.stats.frames_kept += self.store.take_hits();
        let rest: Vec<usize> = wanted.iter().copied().filter(|f| !got.contains_key(f)).collect();
        let rest = self.take_sequential(&wanted, rest, &mut got)?;
        if !rest.is_empty() {
            let index = &self.index;
            let runs = plan(&rest, |f| self.start_of(f), |f| index.last_packet(f));
            if self.sessions.max(self.run_sessions) > 1 && runs.len() > 1 {
                // Independent runs on several sessions at once; the first session's
                // position is given up.
                self.release_first()?;
                got.extend(self.decode(&runs)?.into_iter().map(|(f, frame)| (f, Arc::new(frame))));
            } else {
                self.serve_on_first(&runs, follows_on, &mut got)?;
            }
            let missing: Vec<usize> = rest.into_iter().filter(|f| !got.contains_key(f)).collect();
            if !missing.is_empty() {
                self.decode_again_whole(&missing, &mut got)?;
            }
        }
        self.last_asked = wanted.last().copied();
        self.stats.frames_returned += got.len() as u64;
        self.store.handed(got.iter().map(|(&f, frame)| (f, frame.clone())));
        Ok(frames.iter().map(|f| got.get(f).cloned()).collect())
    }

    /// The frame shown at `seconds` (the one whose `[pts, pts + duration)` holds it).
    /// `InvalidInput` before the first frame or after the last one ends.
    pub fn frame_played_at(&mut self, seconds: f64) -> Result<Arc<Frame>> {
        let f = self.frame_number_at(seconds)?;
        Ok(self.frames_at(&[f])?.remove(0))
    }

    /// The frames shown at each of `seconds`, in the order asked.
    pub fn frames_played_at(&mut self, seconds: &[f64]) -> Result<Vec<Arc<Frame>>> {
        let frames = seconds.iter().map(|&s| self.frame_number_at(s)).collect::<Result<Vec<_>>>()?;
        self.frames_at(&frames)
    }

    /// Frames `start, start + step, …` below `stop` (presentation indices; `stop` clamped
    /// to the length).
    pub fn frames_in_range(&mut self, start: usize, stop: usize, step: usize) -> Result<Vec<Arc<Frame>>> {
        if step == 0 {
            return Err(Error::invalid_input("a range step of 0"));
        }
        let frames: Vec<usize> = (start..stop.min(self.index.len())).step_by(step).collect();
        self.frames_at(&frames)
    }

    /// Every frame from the one shown at `seconds` to the end, decoded in order on one
    /// session as it is iterated.
    pub fn frames_from(&mut self, seconds: f64) -> Result<FramesFrom<'_>> {
        let first = self.frame_number_at(seconds)?;
        self.frames_from_index(first)
    }

    /// Every frame from presentation index `first` to the end (see [`frames_from`](Self::frames_from)).
    pub fn frames_from_index(&mut self, first: usize) -> Result<FramesFrom<'_>> {
        self.seek_frame(first)?;
        Ok(FramesFrom { reader: self })
    }

    fn frame_number_at(&self, seconds: f64) -> Result<usize> {
        self.index.frame_at_seconds(seconds).ok_or_else(|| {
            let last = self.index.frames().last();
            Error::invalid_input(format!(
                "no frame is shown at {seconds} s (the track shows frames from {:.6} s to {:.6} s)",
                self.index.frames().first().map_or(0.0, |f| self.index.seconds(f.pts)),
                last.map_or(0.0, |f| self.index.seconds(f.pts.saturating_add(f.duration))),
            ))
        })
    }

    /// In a child made by `fork` since the sessions were opened (a DataLoader worker given
    /// a reader its parent opened): the sessions, the read-ahead on their threads and the
    /// frames kept for the caller are the parent's. They are forgotten, not closed (closing
    /// waits on threads the child does not have; the memory is a copy the child never
    /// touches again), and the next call opens sessions of its own. The index, the demuxer
    /// (its file reads give their offsets: `media/file.rs`) and the sequential position stay.
    fn after_fork(&mut self) {
        if self.process.is_current() {
            return;
        }
        self.process = Process::current();
        std::mem::forget(std::mem::take(&mut self.decoders));
        std::mem::forget(std::mem::take(&mut self.run_decoders));
        if let Some(c) = self.cursor.as_mut() {
            c.forget_read_ahead();
        }
        self.forget_sequential();
        let bytes = frame_bytes(&self.index, self.config.output, self.config.transform);
        std::mem::forget(std::mem::replace(&mut self.store, FrameStore::new(bytes)));
        self.live = None;
        self.demuxer_at = None;
        self.last_asked = None;
        self.stats.sessions = 0;
    }

    /// Takes back the sessions iteration's read-ahead holds and opens the first session
    /// where there is none: what every call that decodes needs. The sessions past the
    /// first are opened by the calls that run on them (`at_once.rs`, `read_ahead.rs`), each
    /// on the thread that then decodes on it.
    pub(crate) fn ensure_first_session(&mut self) -> Result<()> {
        self.after_fork();
        self.stop_read_ahead()?;
        // The first session alone: what it opens on says how the reader starts runs.
        if self.decoders.is_empty() {
            let beside = software_threads::open_sessions();
            let decoder = Decoder::open(self.session_config())?;
            let shared = crate::registry::descriptor(decoder.engine()).threads_by_share;
            self.opened_beside = (shared && self.config.threads.is_none()).then_some(beside);
            self.add_session(decoder);
        } else if let Some(beside) = self.opened_beside {
            self.reopen_first_if_starved(beside)?;
        }
        Ok(())
    }

    /// A first session opened beside other software sessions runs its share of the cores
    /// for good (`backend/software_threads.rs`): the loop that opens the next file's decoder
    /// before the last one is dropped (`dec = VideoDecoder(f)` in Python) gave every file's
    /// session one thread on two cores: a clip of 16 frames from each of 20 files took
    /// 1.52-1.75 s, 1.14-1.46 s with the session opened again (2-core VM; bench/results/
    /// reopen-first-session-cpu-20261128-05701d7). Where the others have closed before this
    /// reader decoded anything, the session is opened again, with the share it gets now.
    fn reopen_first_if_starved(&mut self, beside: usize) -> Result<()> {
        let untouched = self.stats.packets_decoded + self.stats.packets_headers_only == 0
            && self.decoders.len() == 1
            && self.run_decoders.is_empty()
            && self.live.is_none();
        if !untouched {
            self.opened_beside = None;
            return Ok(());
        }
        if !software_threads::share_grew(beside, software_threads::open_sessions()) {
            return Ok(());
        }
        self.opened_beside = None;
        let engine = self.decoders[0].engine();
        // Closed first: open, it would be counted against the new one.
        self.decoders.clear();
        let decoder = Decoder::open(self.session_config().engine(crate::engine::EnginePreference::Only(engine)))?;
        self.threads = Some(decoder.threads());
        // Its description says its threads (`backend`).
        self.engine = Some((decoder.engine(), decoder.backend().to_string()));
        self.decoders.push(decoder);
        Ok(())
    }

    /// The configuration of the reader's sessions. The caller waits on these sessions'
    /// frames (a read-ahead's first GOP gates every frame after it): each starts once its
    /// own decoder exists.
    fn session_config(&self) -> DecoderConfig {
        self.config.clone().start_at_once(true)
    }

    /// Takes `decoder` as one of the reader's sessions (the first tells the reader's facts).
    fn add_session(&mut self, decoder: Decoder) {
        // The software engines output nothing when decoding starts at an H.264 recovery
        // point rather than an IDR (OpenH264 waits for an IDR; FFmpeg's h264 decoder,
        // flushed, waits for the next recovery point): they start at IDRs. The engine's
        // descriptor says which start anywhere (NVDEC's parser: at any I picture).
        self.idr_only |= self.config.codec == crate::codec::Codec::H264
            && !crate::registry::descriptor(decoder.engine()).starts_at_recovery_point;
        if self.engine.is_none() {
            let keeps = crate::registry::descriptor(decoder.engine()).keeps_headers_only_references;
            self.skip = self.skip.for_engine_keeping_references(keeps);
            self.engine = Some((decoder.engine(), decoder.backend().to_string()));
            self.fallback = decoder.fallback();
            self.threads = Some(decoder.threads());
        }
        self.decoders.push(decoder);
        self.stats.sessions = self.sessions_held();
    }

    /// The sessions the reader holds: its own and those of runs at once.
    fn sessions_held(&self) -> usize {
        self.decoders.len() + self.run_decoders.len()
    }

    /// The packet decoding starts at for frame `f` on this reader's engine.
    pub(crate) fn start_of(&self, f: usize) -> usize {
        start_packet(&self.index, self.idr_only, f)
    }
}

impl Drop for FrameReader {
    fn drop(&mut self) {
        // A reader dropped in a forked child (a DataLoader worker ending) must not join the
        // parent's read-ahead threads.
        self.after_fork();
    }
}

/// The packet decoding of frame `f` of `index` starts at: its random access point, or its
/// IDR picture for an engine that starts H.264 only there (`idr_only`). A free function, so
/// that code holding other fields of the reader mutably (the read-aheads' sources) can ask.
pub(super) fn start_packet(index: &FrameIndex, idr_only: bool, f: usize) -> usize {
    if idr_only { index.start_packet_at_idr(f) } else { index.start_packet(f) }
}

/// The bytes one frame of `index`'s track takes as `output`, after `transform` if one is
/// given (estimated from the track's size).
fn frame_bytes(index: &FrameIndex, output: Output, transform: Option<Transform>) -> usize {
    let (w, h) = index.track().video.as_ref().map_or((1920, 1080), |v| (v.width, v.height));
    let (w, h) = transform.and_then(|t| t.output_size(w, h).ok()).unwrap_or((w, h));
    let format = match output {
        Output::Metadata => return 256,
        Output::Host(f) | Output::Device(_, f) => transform.map_or(f, |t| t.output_format(f)),
    };
    (0..format.plane_count())
        .map(|i| {
            let (row, rows) = format.plane_size(i, w, h);
            row * rows
        })
        .sum()
}
