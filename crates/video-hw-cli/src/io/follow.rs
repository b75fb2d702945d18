//! `decode --follow`: an input file that is still being written, read like `tail -f`.
//! At its end the read waits for it to grow and goes on; it ends when the file has not
//! grown for `--timeout` seconds, or at SIGINT/SIGTERM (which finish the output as ever).
//!
//! - Raw Annex-B: [`GrowingFile`], a reader whose reads wait at the end of the file; the
//!   decoder's splitter takes NAL units cut anywhere, so bytes go to it as they come.
//! - A container (MPEG-TS, fragmented MP4): the library's demuxer reads a file as it stood
//!   when opened. At its end [`FollowState`] waits for growth, opens the file again and
//!   seeks to the first packet not yet handed on, of the video track and of the audio
//!   tracks a transcode copies. The last packet of each of those tracks read before an
//!   end is held back until the next one of its track comes: MPEG-TS gives out its last
//!   PES at the end of the file whole or not (a PES ends where the next begins), so only a
//!   packet with one after it is known whole. After a re-open the packets of every track
//!   come again from the earliest held one on; those already handed on (at or before the
//!   last one of their track, by file position and, for the AAC frames of one PES, time)
//!   are passed over, so each packet goes out once. An error at the end (a cut last TS
//!   packet, a fragment whose bytes are not all there yet) is the writer not being done:
//!   it counts only when it is still there once the file stopped growing. The packets
//!   handed on are then exactly those of a read of the finished file.
//!
//! Waits are polls in sleeps of at most [`MAX_NAP`] that look at the signals between
//! them; a container is opened again at most every [`REOPEN_EVERY`] (each open reads its
//! headers: an MP4's fragment headers, a TS file's first 4 MiB and last 2 MiB). Nothing is
//! buffered while waiting but the one packet held back per track.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use video_hw::media::{Demuxer, MediaPacket, TrackKind};
use video_hw::{Error, Result};

/// `--timeout` when `--follow` is given without it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest sleep between two looks at the file (and at the signals).
const MAX_NAP: Duration = Duration::from_millis(100);
/// The shortest time between two opens of a growing container.
const REOPEN_EVERY: Duration = Duration::from_millis(250);
/// Bytes a followed file must hold (or stop growing first) before it is looked at: what
/// finds its format.
pub const FIRST_BYTES: u64 = 4 << 10;

/// The length of `file` now (0 when it cannot be read).
fn len_of(file: &File) -> u64 {
    file.metadata().map_or(0, |m| m.len())
}

/// Waits until `file` holds more than `len` bytes: true when it does, false when it did
/// not grow for `timeout` or a signal came.
pub fn wait_for_growth(file: &File, len: u64, timeout: Duration) -> bool {
    let started = Instant::now();
    let mut nap = Duration::from_millis(5);
    loop {
        if crate::signals::requested().is_some() {
            return false;
        }
        if len_of(file) > len {
            return true;
        }
        let Some(left) = timeout.checked_sub(started.elapsed()).filter(|d| !d.is_zero()) else { return false };
        std::thread::sleep(nap.min(left));
        nap = (nap * 2).min(MAX_NAP);
    }
}

/// Waits until `file` holds at least `want` bytes, or stopped growing (or a signal
/// came); its length then.
pub fn wait_for_len(file: &File, want: u64, timeout: Duration) -> u64 {
    loop {
        let len = len_of(file);
        if len >= want || !wait_for_growth(file, len, timeout) {
            return len_of(file);
        }
    }
}

/// A file read as it grows: a read at its end waits for more (at most `timeout` without
/// growth), and returns what is there, without waiting to fill the buffer.
pub struct GrowingFile {
    file: File,
    timeout: Duration,
    /// The file's name, for the log.
    name: String,
}

impl GrowingFile {
    /// Reads `file` (named `path`) from its current position on.
    pub fn new(file: File, path: &Path, timeout: Duration) -> Self {
        GrowingFile { file, timeout, name: path.display().to_string() }
    }
}

impl Read for GrowingFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::Seek;
        loop {
            let n = self.file.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let at = self.file.stream_position()?;
            tracing::debug!("{}: at its end (byte {at}); waiting for it to grow", self.name);
            if !wait_for_growth(&self.file, at, self.timeout) {
                return Ok(0);
            }
        }
    }
}

/// Opens a container that may be still too short to read (its headers not all written):
/// tries again each time the file grows, until it opens or stops growing.
pub fn open_demuxer(path: &Path, file: &File, timeout: Duration) -> Result<Demuxer> {
    loop {
        let len = len_of(file);
        match Demuxer::open(path) {
            Ok(d) => return Ok(d),
            Err(e) if !wait_for_growth(file, len, timeout) => return Err(e),
            Err(e) => tracing::debug!("{}: not readable yet ({e}); waiting for more", path.display()),
        }
    }
}

/// Where a packet lies, to tell whether it was handed on before a re-open: its file
/// position, then its time (the AAC frames of one MPEG-TS PES share a position).
fn place(p: &MediaPacket) -> (u64, i64) {
    (p.pos, p.pts.unwrap_or(i64::MIN))
}

/// Bytes past which a container's headers are read whole: what MPEG-TS probes for each
/// track's facts (an AAC track's configuration is in its first ADTS header).
const FACTS_WITHIN: u64 = 4 << 20;

/// [`open_demuxer`], then again as the file grows while a track's facts are not all
/// there yet: an MPEG-TS audio track is known from its first frame, which the first bytes
/// may not hold yet (a transcode copies the audio with its configuration). Stops once
/// the file is past [`FACTS_WITHIN`] or stopped growing.
pub fn open_demuxer_with_facts(path: &Path, file: &File, timeout: Duration) -> Result<Demuxer> {
    loop {
        let len = len_of(file);
        let demuxer = open_demuxer(path, file, timeout)?;
        let missing = demuxer.tracks().iter().any(|t| t.kind == TrackKind::Audio && t.audio.is_none());
        if !missing || len >= FACTS_WITHIN || !wait_for_growth(file, len, timeout) {
            return Ok(demuxer);
        }
        tracing::debug!("{}: an audio track's facts are not written yet; waiting for more", path.display());
        if !sleep_unless_stopped(REOPEN_EVERY) {
            return Ok(demuxer);
        }
    }
}

/// How a followed container goes on past the end it was opened with (module docs).
pub struct FollowState {
    path: PathBuf,
    file: File,
    timeout: Duration,
    /// The tracks handed on: the video track, then the audio tracks a transcode copies.
    tracks: Vec<usize>,
    /// Per track (as `tracks`): the last packet read, handed on once the next one of its
    /// track comes (or at the end).
    held: Vec<Option<MediaPacket>>,
    /// Per track: where the last packet handed on lies ([`place`]); packets read again
    /// after a re-open up to there are passed over.
    handed: Vec<Option<(u64, i64)>>,
    /// An error read since the last packet: damage if packets follow, else the end of
    /// what is written so far.
    pending: Option<Error>,
    /// What goes out next, in order.
    ready: VecDeque<Result<MediaPacket>>,
    /// The file stopped growing: what is left in `ready` is the last.
    finished: bool,
    /// When the container was last opened.
    opened: Instant,
    /// The file's length just before it was last opened (what that read could reach).
    seen: u64,
}

impl FollowState {
    /// Follows `path` (its `file` open for its length), whose demuxer is open, for the
    /// packets of track `track` (the video).
    pub fn new(path: &Path, file: File, track: usize, timeout: Duration) -> Self {
        FollowState {
            path: path.to_path_buf(),
            file,
            timeout,
            tracks: vec![track],
            held: vec![None],
            handed: vec![None],
            pending: None,
            ready: VecDeque::new(),
            finished: false,
            opened: Instant::now(),
            // Unknown: the first end opens the file again if it holds anything.
            seen: 0,
        }
    }

    /// Hands on the packets of `tracks` too (the audio a transcode copies), each once.
    pub fn also(&mut self, tracks: &[usize]) {
        for &t in tracks {
            if !self.tracks.contains(&t) {
                self.tracks.push(t);
                self.held.push(None);
                self.handed.push(None);
            }
        }
    }

    /// The next packet of the tracks followed, or damage (an error, after which reading
    /// goes on), or `None` at the end: the file stopped growing, or a signal came.
    pub fn next(&mut self, demuxer: &mut Demuxer) -> Option<Result<MediaPacket>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.finished || crate::signals::requested().is_some() {
                return None;
            }
            match demuxer.next_packet() {
                Ok(Some(p)) => {
                    let Some(i) = self.tracks.iter().position(|&t| t == p.track) else { continue };
                    if self.handed[i].is_some_and(|at| place(&p) <= at) {
                        // Read again after a re-open: it went out before.
                        continue;
                    }
                    // An error with a packet after it was damage inside the file.
                    self.ready.extend(self.pending.take().map(Err));
                    if let Some(before) = self.held[i].replace(p) {
                        self.handed[i] = Some(place(&before));
                        self.ready.push_back(Ok(before));
                    }
                }
                Err(e) => {
                    self.ready.extend(self.pending.replace(e).map(Err));
                }
                Ok(None) => {
                    if let Err(e) = self.grown(demuxer) {
                        // The file could not be read again: what was read stands, the
                        // error after it.
                        self.finish();
                        self.ready.push_back(Err(e));
                    }
                }
            }
        }
    }

    /// At the end of what `demuxer` read: waits for the file to grow and opens it again
    /// at the earliest held packet; or, when it stopped growing, hands on the rest.
    fn grown(&mut self, demuxer: &mut Demuxer) -> Result<()> {
        tracing::debug!("{}: at the end of what was read; waiting for it to grow", self.path.display());
        let waited = self.opened.elapsed();
        if waited < REOPEN_EVERY && !sleep_unless_stopped(REOPEN_EVERY - waited) {
            // A signal: the job stops; the held packets may be cut short, so they are left.
            self.finished = true;
            return Ok(());
        }
        if len_of(&self.file) <= self.seen && !wait_for_growth(&self.file, self.seen, self.timeout) {
            if crate::signals::requested().is_some() {
                self.finished = true;
            } else {
                self.finish();
            }
            return Ok(());
        }
        self.seen = len_of(&self.file);
        // Every packet not handed on lies at or after the earliest one held: the packets
        // before it of every track went out, and those after it come again, read whole.
        let from = self.held.iter().flatten().min_by_key(|p| p.pos);
        tracing::debug!(
            "{}: grew to {} bytes; read again from the packet at byte {:?}",
            self.path.display(),
            self.seen,
            from.map(|p| p.pos)
        );
        let mut again =
            Demuxer::open(&self.path).map_err(|e| e.context(format!("{} read again", self.path.display())))?;
        self.opened = Instant::now();
        if let Some(p) = from {
            again.seek_to(p.track, &p.entry())?;
        }
        self.held.iter_mut().for_each(|h| *h = None);
        self.pending = None;
        *demuxer = again;
        Ok(())
    }

    /// The file stopped growing: the held packets are the last (in file order), then what
    /// ended the read.
    fn finish(&mut self) {
        self.finished = true;
        let mut last: Vec<MediaPacket> = self.held.iter_mut().filter_map(Option::take).collect();
        last.sort_by_key(place);
        self.ready.extend(last.into_iter().map(Ok));
        self.ready.extend(self.pending.take().map(Err));
    }
}

/// Sleeps `d` in naps, looking at the signals: false when one came.
fn sleep_unless_stopped(d: Duration) -> bool {
    let until = Instant::now() + d;
    loop {
        if crate::signals::requested().is_some() {
            return false;
        }
        let Some(left) = until.checked_duration_since(Instant::now()).filter(|l| !l.is_zero()) else { return true };
        std::thread::sleep(left.min(MAX_NAP));
    }
}
