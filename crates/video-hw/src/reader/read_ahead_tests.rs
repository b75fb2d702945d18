//! The read-ahead's hand-out order with its frames staged (held aside and copied to the
//! host as they are taken), without a GPU: a staging that gives host frames back as they
//! came, on the embedded engine's sessions, against the same read without staging.

use std::collections::VecDeque;
use std::path::PathBuf;

use super::*;
use crate::codec::PixelFormat;
use crate::config::{DecoderConfig, Output};
use crate::frame::staging::HostStaging;
use crate::media::{Demuxer, FrameIndex};
use crate::reader::prune::Skipper;
use crate::reader::run_decode::Feed;

/// Hands frames back unchanged, in the order queued.
struct Fifo {
    frames: VecDeque<Frame>,
    format: PixelFormat,
}

impl HostStaging for Fifo {
    fn start(&mut self, frame: Frame, format: PixelFormat) -> Result<()> {
        assert_eq!(format, self.format, "the format asked for is passed on");
        self.frames.push_back(frame);
        Ok(())
    }

    fn finish(&mut self) -> Result<Option<Frame>> {
        Ok(self.frames.pop_front())
    }
}

/// A file, its index and what reading it needs.
struct Open {
    demuxer: Demuxer,
    index: FrameIndex,
    feed: Feed,
    skip: Skipper,
}

fn open(name: &str) -> Open {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media").join(name);
    let mut demuxer = Demuxer::open(&path).unwrap();
    let track = demuxer.video_track().unwrap().index;
    let index = FrameIndex::build(&mut demuxer, track).unwrap();
    let (feed, skip) = (Feed::new(&index), Skipper::new(&index));
    Open { demuxer, index, feed, skip }
}

/// The configuration of the tests' sessions: the embedded engine whatever the build has
/// (FFmpeg conceals damage that OpenH264 reports as lost frames, which the damage test
/// needs).
fn config() -> DecoderConfig {
    DecoderConfig::new(crate::Codec::H264)
        .output(Output::HOST_YUV420P)
        .engine(crate::EnginePreference::Only(crate::Engine::OpenH264))
}

fn sessions(n: usize) -> Vec<Session> {
    (0..n).map(|_| Session::Open(Box::new(Decoder::open(config()).unwrap()))).collect()
}

/// What reading hands out: each frame's number and pixels, or the error in its place.
type Got = Vec<std::result::Result<(usize, Vec<u8>), String>>;

/// Reads from frame `first` until the end or `stop_after` results; returns them, where
/// reading was, and the sessions.
fn read(
    o: &mut Open,
    decoders: Vec<Session>,
    first: usize,
    staged: bool,
    stop_after: usize,
) -> (Got, usize, u64, Vec<Decoder>) {
    let format = PixelFormat::Yuv420p;
    let mut ahead = ReadAhead::start(decoders, &o.feed, first, DEFAULT_READ_AHEAD_BYTES, 1 << 20, None);
    if staged {
        ahead = ahead.with_staging(Box::new(Fifo { frames: VecDeque::new(), format }), format);
    }
    let index = &o.index;
    let start_of = |f: usize| index.start_packet_at_idr(f);
    let mut stats = crate::reader::ReaderStats::default();
    let mut src = Source { demuxer: &mut o.demuxer, index, skip: &o.skip, start_of: &start_of, stats: &mut stats };
    let mut got = Got::new();
    let mut copied = 0;
    while got.len() < stop_after {
        match ahead.next(&mut src) {
            Ok(Some((f, frame))) => {
                let host = frame.to_host().unwrap();
                got.push(Ok((f, host.as_bytes().to_vec())));
            }
            Ok(None) => break,
            Err(e) => got.push(Err(e.to_string())),
        }
        copied += ahead.take_staged();
    }
    let at = ahead.position(index.len());
    (got, at, copied, ahead.stop().unwrap())
}

#[test]
fn staged_frames_come_in_the_order_and_with_the_pixels_of_a_read_without_staging() {
    for name in ["h264-aac.mp4", "h264-reschange.ts", "h264-vfr.mkv"] {
        let mut o = open(name);
        let n = o.index.len();
        let (plain, _, none, _) = read(&mut o, sessions(3), 0, false, usize::MAX);
        assert_eq!(none, 0, "{name}: nothing staged without a staging");
        assert_eq!(plain.len(), n, "{name}: every frame of a read without staging");
        let (staged, at, copied, _) = read(&mut o, sessions(3), 0, true, usize::MAX);
        assert_eq!(staged, plain, "{name}: staged against plain");
        assert_eq!(copied, n as u64, "{name}: every frame went through the staging");
        assert_eq!(at, n, "{name}: position at the end");
    }
}

#[test]
fn a_staged_read_stopped_halfway_restarts_where_it_was_with_nothing_lost() {
    let mut o = open("h264-reschange.ts");
    let n = o.index.len();
    let (all, _, _, _) = read(&mut o, sessions(3), 0, true, usize::MAX);
    for stop in [1, n / 3, n / 2, n - 1] {
        // Frames queued behind the one handed out (copies in flight) are dropped by the
        // stop; the position says where reading goes on.
        let (head, at, _, decoders) = read(&mut o, sessions(3), 0, true, stop);
        assert_eq!(at, stop, "position after {stop} frames");
        let (tail, end, _, _) =
            read(&mut o, decoders.into_iter().map(|d| Session::Open(Box::new(d))).collect(), at, true, usize::MAX);
        assert_eq!(end, n);
        let joined: Got = head.into_iter().chain(tail).collect();
        assert_eq!(joined, all, "stopped after {stop} frames, then read on");
    }
}

#[test]
fn damaged_files_hand_out_their_errors_in_their_place_when_staged() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media/bad");
    let mut with_errors = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = format!("bad/{}", path.file_name().unwrap().to_string_lossy());
        if path.extension().is_some_and(|e| e == "json") {
            continue;
        }
        let Ok(mut demuxer) = Demuxer::open(&path) else { continue };
        let h264 = demuxer.video_track().filter(|t| t.codec.video() == Some(crate::Codec::H264)).map(|t| t.index);
        let Some(Ok(index)) = h264.map(|track| FrameIndex::build(&mut demuxer, track)) else { continue };
        let mut o = Open { demuxer, feed: Feed::new(&index), skip: Skipper::new(&index), index };
        let (plain, _, _, _) = read(&mut o, sessions(2), 0, false, usize::MAX);
        let (staged, _, _, _) = read(&mut o, sessions(2), 0, true, usize::MAX);
        assert_eq!(staged, plain, "{name}: staged against plain, errors in their place");
        with_errors += usize::from(plain.iter().any(|g| g.is_err()));
    }
    assert!(with_errors >= 1, "no damaged file gave an error in place of a frame");
}

/// Sessions the workers open themselves (the index calls' read-ahead opens all but the
/// reader's first that way) give what open ones give, and come back at the stop.
#[test]
fn sessions_opened_by_their_workers_read_as_open_ones_do() {
    for name in ["h264-aac.mp4", "h264-reschange.ts"] {
        let mut o = open(name);
        let (plain, _, _, _) = read(&mut o, sessions(3), 0, false, usize::MAX);
        let mixed = vec![
            Session::ToOpen(Box::new(config())),
            Session::Open(Box::new(Decoder::open(config()).unwrap())),
            Session::ToOpen(Box::new(config())),
        ];
        let (got, at, _, back) = read(&mut o, mixed, 0, false, usize::MAX);
        assert_eq!(got, plain, "{name}: sessions opened by the workers against open ones");
        assert_eq!(at, o.index.len());
        assert_eq!(back.len(), 3, "{name}: every session comes back");
        let (got, _, _, back) =
            read(&mut o, (0..2).map(|_| Session::ToOpen(Box::new(config()))).collect(), 0, true, 40);
        assert_eq!(got[..], plain[..40], "{name}: only sessions to open, staged, stopped early");
        assert_eq!(back.len(), 2);
    }
}

/// A session that cannot open leaves the jobs to the others; when none opens, reading
/// ends with the error, at once, never waiting for frames that no session decodes.
#[test]
fn sessions_that_do_not_open_leave_the_work_to_others_or_end_reading_with_their_error() {
    // A software engine with hardware required: refused on every machine.
    let refused = || config().require_hardware(true);
    assert!(Decoder::open(refused()).is_err(), "the test's refused configuration opens");
    let mut o = open("h264-aac.mp4");
    let (plain, _, _, _) = read(&mut o, sessions(2), 0, false, usize::MAX);
    let some = vec![
        Session::ToOpen(Box::new(refused())),
        Session::ToOpen(Box::new(config())),
        Session::ToOpen(Box::new(refused())),
    ];
    let (got, _, _, back) = read(&mut o, some, 0, false, usize::MAX);
    assert_eq!(got, plain, "one session of three opened: it reads everything");
    assert_eq!(back.len(), 1, "only the session that opened comes back");
    let none = vec![Session::ToOpen(Box::new(refused())), Session::ToOpen(Box::new(refused()))];
    let started = std::time::Instant::now();
    let (got, _, _, back) = read(&mut o, none, 0, false, 3);
    assert!(back.is_empty());
    assert!(!got.is_empty() && got.iter().all(|g| g.is_err()), "no session: errors, not frames: {got:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "no session: reading ended at once");
}

/// Jobs are whole groups of frames (those decoding from one random access point) of at
/// least `MIN_JOB_FRAMES`, except that a group long enough alone is never joined to the
/// short groups before it.
#[test]
fn jobs_keep_short_groups_together_and_long_groups_apart() {
    let min = super::MIN_JOB_FRAMES;
    // Groups: 28 frames, 249, 34, 4 (a 1080p file's IDR layout), as start packets.
    let starts = |f: usize| match f {
        0..28 => 0,
        28..277 => 28,
        277..311 => 277,
        _ => 311,
    };
    let jobs = |n: usize| {
        let (mut from, mut out) = (0, Vec::new());
        while from < n {
            let (frames, end) = super::job_frames(n, from, &starts);
            assert_eq!(frames, (from..end).collect::<Vec<_>>());
            out.push((from, end));
            from = end;
        }
        out
    };
    // The short first group is a job alone (the long one after it is another); the two
    // short groups at the end go together.
    assert_eq!(jobs(315), vec![(0, 28), (28, 277), (277, 315)]);
    // What device="auto" counts for an iteration: the jobs from where it starts.
    assert_eq!(super::jobs_from(315, 0, &starts), 3);
    assert_eq!(super::jobs_from(315, 30, &starts), 2);
    assert_eq!(super::jobs_from(315, 315, &starts), 0);
    // What a read-ahead's start counts: no further than the sessions it may open.
    assert_eq!(super::jobs_from_at_most(315, 0, &starts, 2), 2);
    assert_eq!(super::jobs_from_at_most(315, 0, &starts, 7), 3);
    // Short groups are joined until the job has the minimum.
    let every_10 = |f: usize| f / 10 * 10;
    let (frames, end) = super::job_frames(100, 0, &every_10);
    assert_eq!((frames.len(), end), (min.div_ceil(10) * 10, min.div_ceil(10) * 10));
}
