//! Decoder state kept between calls (`reader/live.rs`, `reader/store.rs`): the loops people
//! write — one frame at a time, ranges in chunks, looking back a frame, iteration mixed
//! with indexing, random jumps — give the frames of a straight decode bit for bit, and the
//! packets decoded are pinned: a forward loop decodes each packet about once (not from the
//! key frame at every call), and a random jump costs no more than decoding from its random
//! access point did.

use crate::common;

use std::path::Path;

use common::readers::{inputs, md5, reader, skip};
use video_hw::reader::FrameReader;

/// Runs `check` on every input the test engine decodes, with its name and the frames of a
/// straight decode (by hash).
fn each_input(mut check: impl FnMut(&Path, &str, &[String])) {
    for path in inputs() {
        if skip(&path) {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let straight: Vec<String> = reader(&path).frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
        check(&path, &name, &straight);
    }
}

/// Packets from frame `f`'s random access point to its last packet: what decoding `f`
/// alone costs (the software engines start H.264 at IDR pictures).
fn span(r: &FrameReader, f: usize) -> u64 {
    let index = r.index();
    let h264 = index.track().codec.video() == Some(video_hw::Codec::H264);
    let start = if h264 { index.start_packet_at_idr(f) } else { index.start_packet(f) };
    (index.last_packet(f) + 1 - start) as u64
}

/// The most packets a forward loop may decode: every packet once, the first request's run
/// and the second's again (where going on cannot serve the second: the first request's
/// session is kept, see `a_loops_second_call_goes_on_from_the_first`), and a session's
/// reorder delay at the end.
fn forward_bound(r: &FrameReader, first: usize, second: usize) -> u64 {
    r.index().packets().len() as u64 + span(r, first) + span(r, second) + 16
}

/// The first request of a reader keeps its session (it is most often a loop's first) where
/// the session is not frame-threaded: the second call goes on from it instead of decoding
/// the GOP again from its key frame. A frame-threaded session ends the first request with a
/// flush (its first frame would otherwise wait for a frame a thread).
#[test]
fn a_loops_second_call_goes_on_from_the_first() {
    each_input(|path, name, want| {
        if want.len() < 3 {
            return;
        }
        for threads in [1, 3] {
            let d = video_hw::media::Demuxer::open(path).unwrap();
            let track = d.video_track().unwrap();
            let config = video_hw::DecoderConfig::new(track.codec.video().unwrap())
                .output(video_hw::Output::Host(video_hw::PixelFormat::Yuv420p))
                .engine(video_hw::EnginePreference::Only(common::readers::engine()))
                .threads(threads);
            let track = track.index;
            let mut r = FrameReader::new(d, track, config).unwrap();
            for (i, w) in want.iter().enumerate().take(3) {
                let f = r.frames_at(&[i]).unwrap();
                assert_eq!(&md5(&f[0]), w, "{name}: dec[{i}], {threads} threads");
            }
            let s = r.stats();
            if r.decode_threads().is_some_and(|t| t <= 1) {
                assert_eq!(s.runs, 1, "{name}: dec[0], dec[1], dec[2] started {} runs", s.runs);
                let bound = span(&r, 2) + 16;
                assert!(
                    s.packets_decoded <= bound,
                    "{name}: {} packets for three frames, at most {bound}",
                    s.packets_decoded
                );
            } else {
                assert!(s.runs <= 2, "{name}: {threads} threads: {} runs for dec[0..3]", s.runs);
            }
        }
    });
}

#[test]
fn index_loop_decodes_each_packet_about_once() {
    each_input(|path, name, want| {
        for sessions in [1, 3] {
            let mut r = reader(path).sessions(sessions);
            for (i, w) in want.iter().enumerate() {
                let f = r.frames_at(&[i]).unwrap();
                assert_eq!(&md5(&f[0]), w, "{name}: dec[{i}] ({sessions} sessions)");
                assert_eq!(f[0].pts, Some(r.index().frames()[i].pts), "{name}: pts of frame {i}");
            }
            let s = r.stats();
            let bound = forward_bound(&r, 0, 1);
            assert!(s.packets_decoded <= bound, "{name}: {} packets decoded, at most {bound}", s.packets_decoded);
            assert!(s.runs <= 3, "{name}: {} runs from a random access point for a forward loop", s.runs);
        }
    });
}

#[test]
fn ranges_in_chunks_decode_each_packet_about_once() {
    each_input(|path, name, want| {
        let n = want.len();
        for chunk in [8, 32] {
            let mut r = reader(path);
            for start in (0..n).step_by(chunk) {
                let got = r.frames_in_range(start, start + chunk, 1).unwrap();
                let hashes: Vec<String> = got.iter().map(|f| md5(f)).collect();
                assert_eq!(hashes, want[start..(start + chunk).min(n)].to_vec(), "{name}: chunk at {start}");
            }
            let s = r.stats();
            let bound = forward_bound(&r, chunk.min(n) - 1, (2 * chunk).min(n) - 1);
            assert!(
                s.packets_decoded <= bound,
                "{name}: chunks of {chunk}: {} packets, at most {bound}",
                s.packets_decoded
            );
        }
    });
}

/// Every second frame, then every third: the frames skipped are not converted, and the
/// loop still goes on from where the session is.
/// On several sessions, a loop over the file (one frame or a chunk at a time) has the GOPs
/// after the first session's decoded at once on the others: frames exact, nothing decoded
/// twice, and a jump back in the middle of it served as before.
#[test]
fn loops_on_several_sessions_read_the_next_gops_ahead() {
    each_input(|path, name, want| {
        let n = want.len();
        let gops = {
            let r = reader(path);
            let starts: std::collections::BTreeSet<usize> = (0..n).map(|f| span_start(&r, f)).collect();
            starts.len()
        };
        for chunk in [1, 8] {
            let mut r = reader(path).sessions(3);
            for start in (0..n).step_by(chunk) {
                let got: Vec<String> =
                    r.frames_in_range(start, start + chunk, 1).unwrap().iter().map(|f| md5(f)).collect();
                assert_eq!(got, want[start..(start + chunk).min(n)].to_vec(), "{name}: chunk of {chunk} at {start}");
            }
            let s = r.stats();
            if gops > 1 && n > 2 * chunk + 2 {
                assert!(s.frames_read_ahead > 0, "{name}: chunks of {chunk}: no frame was read ahead ({gops} GOPs)");
            }
            let bound = forward_bound(&r, chunk.min(n) - 1, (2 * chunk).min(n) - 1);
            assert!(
                s.packets_decoded <= bound,
                "{name}: chunks of {chunk}: {} packets, at most {bound}",
                s.packets_decoded
            );
        }
        // A look back in the middle of a loop stops the read-ahead (what it decoded is
        // dropped) and is served as before; the loop then goes on, exact.
        if n > 20 {
            let mut r = reader(path).sessions(3);
            for i in 0..n {
                assert_eq!(md5(&r.frames_at(&[i]).unwrap()[0]), want[i], "{name}: dec[{i}]");
                if i == n / 2 {
                    assert_eq!(md5(&r.frames_at(&[3]).unwrap()[0]), want[3], "{name}: back to 3");
                    assert_eq!(md5(&r.frames_at(&[i]).unwrap()[0]), want[i], "{name}: again at {i}");
                }
            }
        }
    });
}

/// The packet frame `f` decodes from (its random access point, at an IDR for H.264).
fn span_start(r: &FrameReader, f: usize) -> usize {
    let index = r.index();
    let h264 = index.track().codec.video() == Some(video_hw::Codec::H264);
    if h264 { index.start_packet_at_idr(f) } else { index.start_packet(f) }
}

/// Strided loops, short strides and strides longer than the reader's seek gap (8 packets):
/// each packet is still decoded about once.
#[test]
fn strided_loops_go_on() {
    each_input(|path, name, want| {
        for step in [2, 3, 11, 17, 23] {
            if step >= want.len() {
                continue;
            }
            let mut r = reader(path);
            for i in (0..want.len()).step_by(step) {
                assert_eq!(md5(&r.frames_at(&[i]).unwrap()[0]), want[i], "{name}: dec[{i}], step {step}");
            }
            let bound = forward_bound(&r, 0, step);
            let s = r.stats();
            assert!(s.packets_decoded <= bound, "{name}: step {step}: {} packets, at most {bound}", s.packets_decoded);
        }
    });
}

/// A strided loop's jump into a GOP past the seek gap starts a run at its key frame, and the
/// session is kept where the next jump of the same stride lands in that GOP: that jump goes
/// on from it (no new run).
#[test]
fn a_jump_into_a_gop_the_next_stride_stays_in_keeps_its_session() {
    let mut checked = 0;
    each_input(|path, name, want| {
        let r = reader(path);
        let n = want.len();
        let key = (13..n).find(|&k| {
            span_start(&r, k) > span_start(&r, k - 1)
                && span_start(&r, k - 12) < span_start(&r, k)
                && k + 25 < n
                && span_start(&r, k + 25) == span_start(&r, k)
        });
        let Some(k) = key else { return };
        let (m, first) = (k - 12, k + 1);
        let next = first + (first - m);
        let mut r = reader(path);
        for f in [m, first] {
            assert_eq!(md5(&r.frames_at(&[f]).unwrap()[0]), want[f], "{name}: dec[{f}]");
        }
        let runs = r.stats().runs;
        assert_eq!(md5(&r.frames_at(&[next]).unwrap()[0]), want[next], "{name}: dec[{next}]");
        assert_eq!(r.stats().runs, runs, "{name}: dec[{m}], dec[{first}] (GOP at {k}), dec[{next}] started a run");
        checked += 1;
    });
    // h264-ref1.mp4 (GOPs of 50 frames) has such a GOP, and every engine decodes it.
    assert!(checked > 0, "no fixture has a GOP long enough for the check");
}

/// `dec[i-1]` beside `dec[i]` (frame differences, optical flow): after the first look
/// back, the frames handed out are kept, so nothing is decoded twice.
#[test]
fn looking_back_a_frame_is_served_from_the_kept_frames() {
    each_input(|path, name, want| {
        let mut r = reader(path);
        for i in 1..want.len() {
            let pair = [r.frames_at(&[i - 1]).unwrap(), r.frames_at(&[i]).unwrap()];
            assert_eq!((md5(&pair[0][0]), md5(&pair[1][0])), (want[i - 1].clone(), want[i].clone()), "{name}: {i}");
            // The same frame twice in a row.
            assert_eq!(md5(&r.frames_at(&[i]).unwrap()[0]), want[i], "{name}: dec[{i}] again");
        }
        let s = r.stats();
        // The first look back decodes from the random access point again; after it, all
        // frames asked again come from the kept frames.
        let bound = forward_bound(&r, 0, 1) + span(&r, 0) + span(&r, 1);
        assert!(s.packets_decoded <= bound, "{name}: {} packets, at most {bound}", s.packets_decoded);
        assert!(s.frames_kept >= 2 * (want.len() as u64 - 3), "{name}: {} frames from the kept ones", s.frames_kept);
    });
}

/// Random frames one call at a time: exact, and each costs at most its decode from its
/// random access point (as before the state was kept).
#[test]
fn random_jumps_cost_no_more_than_before() {
    each_input(|path, name, want| {
        let n = want.len();
        let mut r = reader(path);
        let mut x: u64 = 20261126;
        let mut budget = 0;
        for _ in 0..40 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let f = (x >> 33) as usize % n;
            budget += span(&r, f) + 4;
            assert_eq!(md5(&r.frames_at(&[f]).unwrap()[0]), want[f], "{name}: dec[{f}]");
        }
        let s = r.stats();
        assert!(s.packets_decoded <= budget, "{name}: {} packets for 40 jumps, at most {budget}", s.packets_decoded);
    });
}

/// Iteration, indexing and batches share one session: mixed, every frame is exact, and
/// iteration goes on from its own place.
#[test]
fn iteration_mixed_with_indexing_is_exact() {
    each_input(|path, name, want| {
        let n = want.len();
        if n < 40 {
            return;
        }
        let mut r = reader(path);
        r.seek_frame(5).unwrap();
        let mut seq: Vec<String> = (0..3).map(|_| md5(&r.next_frame().unwrap().unwrap())).collect();
        // Ahead of iteration, behind it, a batch spanning it, then iteration again.
        assert_eq!(md5(&r.frames_at(&[12]).unwrap()[0]), want[12], "{name}: ahead");
        assert_eq!(md5(&r.frames_at(&[2]).unwrap()[0]), want[2], "{name}: behind");
        let batch: Vec<String> = r.frames_at(&[9, 7, 30]).unwrap().iter().map(|f| md5(f)).collect();
        assert_eq!(batch, vec![want[9].clone(), want[7].clone(), want[30].clone()], "{name}: batch");
        seq.extend((0..10).map(|_| md5(&r.next_frame().unwrap().unwrap())));
        assert_eq!(seq, want[5..18].to_vec(), "{name}: iteration from 5");
        let rest: Vec<String> = r.frames_from_index(n - 6).unwrap().map(|f| md5(&f.unwrap())).collect();
        assert_eq!(rest, want[n - 6..].to_vec(), "{name}: the last frames");
    });
}

/// A call stopped part-way by the caller's check (`reader/interrupt.rs`) returns
/// `Error::Closed`, and the reader then gives the frames of a straight decode, on one
/// session (stopped in the first session's run or while it goes on) and on three (stopped
/// while runs decode on the sessions' threads).
#[test]
fn a_stopped_call_leaves_the_reader_exact() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let mut stopped = 0;
    each_input(|path, name, want| {
        let all: Vec<usize> = (0..want.len()).collect();
        for sessions in [1, 3] {
            for after in [1, 5, 40] {
                let mut r = reader(path).sessions(sessions);
                // A forward request first, so the next one goes on from the kept session.
                r.frames_at(&[0]).unwrap();
                let asked = Arc::new(AtomicUsize::new(0));
                let counter = asked.clone();
                r.set_interrupt(Some(Box::new(move || counter.fetch_add(1, Ordering::SeqCst) + 1 >= after)));
                // The first check stops the call at once; a later one only if the call
                // asks that often before it is done (the three-session path asks per run
                // and every 10 ms of waiting), which the inputs' 100 frames mostly do.
                match r.frames_at(&all[1..]) {
                    Err(video_hw::Error::Closed(_)) => stopped += 1,
                    Err(e) => panic!("{name}: {e}"),
                    Ok(_) => assert!(after > 1, "{name}: the first check said stop and the call went on"),
                }
                r.set_interrupt(None);
                let got: Vec<String> = r.frames_at(&all).unwrap().iter().map(|f| md5(f)).collect();
                assert_eq!(got, want, "{name}: after a call stopped at check {after} ({sessions} sessions)");
                let again = r.frames_at(&[want.len() / 2]).unwrap();
                assert_eq!(md5(&again[0]), want[want.len() / 2], "{name}: a frame asked again");
            }
        }
    });
    assert!(stopped > 0, "no call was stopped");
}
