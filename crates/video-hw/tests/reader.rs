//! Exact random access (`video_hw::reader::FrameReader`): on every container fixture and on
//! raw streams with open GOPs, the frames asked for — in any order, repeated, by index or
//! by time, on one session or several — are bit for bit the frames of a straight decode
//! of the whole file, and only the packets the GOP structure needs are decoded. The
//! straight decode also equals ffmpeg's reference (`FILE.framemd5`), with either engine.

use crate::common;

use std::path::PathBuf;

use video_hw::media::Demuxer;
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, EnginePreference, Output, PixelFormat};

use common::readers::{decodable, engine, inputs, md5, reader, skip};

#[test]
fn straight_decode_gives_every_indexed_frame() {
    for path in inputs() {
        if skip(&path) {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut r = reader(&path);
        let n = r.len();
        let frames: Vec<video_hw::Frame> = r.frames_from_index(0).unwrap().map(|f| f.unwrap()).collect();
        assert_eq!(frames.len(), n, "{name}: frames of a straight decode");
        let pts: Vec<i64> = r.index().frames().iter().map(|f| f.pts).collect();
        assert_eq!(frames.iter().map(|f| f.pts.unwrap()).collect::<Vec<_>>(), pts, "{name}: pts");
        let reference = PathBuf::from(format!("{}.framemd5", path.display()));
        let reference =
            if reference.exists() { reference } else { PathBuf::from(format!("{}.yuv.framemd5", path.display())) };
        let want = common::framemd5_hashes(&reference);
        let got: Vec<String> = frames.iter().map(md5).collect();
        assert_eq!(got, want, "{name}: frames against ffmpeg's reference ({:?})", engine());
    }
}

#[test]
fn random_access_is_exact() {
    for path in inputs() {
        if skip(&path) {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut r = reader(&path);
        let n = r.len();
        let straight: Vec<String> = r.frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
        // Out of order, repeated, both ends, every key frame and the frame before it,
        // open-GOP leading pictures among them.
        let mut asked = vec![n - 1, 0, n / 2, n / 2, 1, n - 2];
        for (k, f) in r.index().frames().iter().enumerate() {
            if f.keyframe && k > 0 {
                asked.push(k - 1);
                asked.push(k);
                asked.push(k + 1);
            }
        }
        asked.retain(|&k| k < n);
        for sessions in [1, 3] {
            let mut r = reader(&path).sessions(sessions);
            let frames = r.frames_at(&asked).unwrap();
            assert_eq!(frames.len(), asked.len());
            for (&k, f) in asked.iter().zip(&frames) {
                assert_eq!(md5(f), straight[k], "{name}: frame {k} ({sessions} sessions)");
                assert_eq!(f.pts, Some(r.index().frames()[k].pts), "{name}: pts of frame {k}");
            }
            // Only the packets the GOP structure needs: at most the union of [start, packet]
            // over the frames asked (software engines start H.264 at IDRs only), less the
            // non-reference pictures no frame asked for needs.
            let index = r.index();
            let h264 = index.track().codec.video() == Some(Codec::H264);
            let mut needed = vec![false; index.packets().len()];
            for &k in &asked {
                let start = if h264 { index.start_packet_at_idr(k) } else { index.start_packet(k) };
                needed[start..=index.frames()[k].packet as usize].iter_mut().for_each(|x| *x = true);
            }
            let union = needed.iter().filter(|&&x| x).count() as u64;
            assert!(
                r.stats().packets_decoded <= union,
                "{name}: {} packets decoded, the union is {union}",
                r.stats().packets_decoded
            );
        }
    }
}

/// A frame deep in a GOP of an x264 B-pyramid stream: the non-reference B-pictures before
/// it are left out (half the pictures), and the frame is still exact.
#[test]
fn non_reference_pictures_are_not_decoded() {
    let path = common::repo_root().join("testdata/media/h264-aac.mp4");
    let mut r = reader(&path);
    let straight: Vec<String> = r.frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
    let mut r = reader(&path);
    let last = r.len() - 1;
    let f = r.frames_at(&[last]).unwrap();
    assert_eq!(md5(&f[0]), straight[last]);
    let index = r.index();
    let span = (index.frames()[last].packet as usize + 1 - index.start_packet_at_idr(last)) as u64;
    let decoded = r.stats().packets_decoded;
    assert!(decoded * 10 <= span * 7, "{decoded} of the {span} packets from the key frame decoded");
}

/// HEVC random access with the pictures no asked frame reaches fed for their headers only
/// (`FrameReader::headers_only`): on FFmpeg's decoder, which leaves them out where that
/// changes no decoded picture (`tests/reader_left_out.rs`), every frame alone still equals
/// the straight decode's, and the reader counts them.
#[test]
fn hevc_headers_only_pictures_are_counted_and_frames_unchanged() {
    if !common::need_ffmpeg() {
        return;
    }
    let path = common::repo_root().join("testdata/media/hevc-ref1.mp4");
    let straight: Vec<String> = reader(&path).frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
    let mut r = reader(&path).headers_only(true);
    // Last to first: each request jumps back, so each decodes from its random access point
    // (a forward loop would go on from where the session is).
    for (k, want) in straight.iter().enumerate().rev() {
        assert_eq!(&md5(&r.frames_at(&[k]).unwrap()[0]), want, "frame {k} alone");
    }
    let s = r.stats();
    // FFmpeg leaves out every picture it is fed for its headers only; x265's reference
    // picture sets name them later, which libavcodec 7.1 and later refuse, so none is
    // here. NVDEC, which keeps them, is fed hundreds (tests/gpu_reader.rs).
    assert_eq!(s.packets_headers_only, s.pictures_left_out, "{s:?}");
    // Off, as HEVC is by default: everything a frame refers to is decoded.
    let mut off = reader(&path).headers_only(false);
    off.frames_at(&[straight.len() - 1]).unwrap();
    assert_eq!(off.stats().packets_headers_only, 0);
}

/// Sequential reading keeps its place when random access uses the session in between.
#[test]
fn sequential_reading_survives_random_access() {
    let path = common::repo_root().join("testdata/media/h264-aac.mp4");
    let mut r = reader(&path);
    let straight: Vec<String> = r.frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
    let mut r = reader(&path);
    r.seek_frame(10).unwrap();
    let mut got: Vec<String> = (0..5).map(|_| md5(&r.next_frame().unwrap().unwrap())).collect();
    let picked = r.frames_at(&[80, 2]).unwrap();
    assert_eq!((md5(&picked[0]), md5(&picked[1])), (straight[80].clone(), straight[2].clone()));
    got.extend((0..5).map(|_| md5(&r.next_frame().unwrap().unwrap())));
    assert_eq!(got, straight[10..20].to_vec());
    r.seek_frame(98).unwrap();
    assert_eq!(md5(&r.next_frame().unwrap().unwrap()), straight[98]);
    assert_eq!(md5(&r.next_frame().unwrap().unwrap()), straight[99]);
    assert!(r.next_frame().unwrap().is_none());
}

#[test]
fn by_time_and_ranges() {
    for path in inputs() {
        if skip(&path) {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut r = reader(&path);
        let straight: Vec<String> = r.frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
        let n = r.len();
        let index = r.index().clone();
        for k in [0, n / 3, n - 1] {
            let f = index.frames()[k];
            // The start of the frame's interval, its middle, and its last moment.
            for t in [f.pts, f.pts + f.duration / 2, f.pts + f.duration - 1] {
                let s = index.seconds(t) + 1e-9;
                let got = r.frame_played_at(s).unwrap();
                assert_eq!(md5(&got), straight[k], "{name}: frame played at {s} s");
            }
        }
        let range = r.frames_in_range(2, n, 7).unwrap();
        let want: Vec<&String> = (2..n).step_by(7).map(|k| &straight[k]).collect();
        assert_eq!(range.iter().map(|f| md5(f)).collect::<Vec<_>>().iter().collect::<Vec<_>>(), want, "{name}: range");
        // Iteration from a time in the middle gives the rest, in order.
        let mid = index.frames()[n / 2];
        let rest: Vec<String> =
            r.frames_from(index.seconds(mid.pts) + 1e-9).unwrap().map(|f| md5(&f.unwrap())).collect();
        assert_eq!(rest, straight[n / 2..].to_vec(), "{name}: frames from the middle");
        assert!(r.frame_played_at(-1.0).is_err());
        assert!(r.frames_at(&[n]).is_err());
    }
}

/// Sequential reading on several sessions (the GOPs ahead decoding at once) gives the
/// frames of one session, in order, with their timestamps, from the start or any frame.
#[test]
fn sequential_reading_on_several_sessions_is_exact() {
    for path in inputs() {
        if skip(&path) {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut one = reader(&path);
        let straight: Vec<(String, Option<i64>)> =
            one.frames_from_index(0).unwrap().map(|f| f.unwrap()).map(|f| (md5(&f), f.pts)).collect();
        for (sessions, budget) in [(3, video_hw::reader::DEFAULT_READ_AHEAD_BYTES), (4, 1)] {
            let mut r = reader(&path).sessions(sessions).read_ahead(budget);
            let got: Vec<(String, Option<i64>)> =
                r.frames_from_index(0).unwrap().map(|f| f.unwrap()).map(|f| (md5(&f), f.pts)).collect();
            assert_eq!(got, straight, "{name}: {sessions} sessions, {budget} bytes ahead");
            let from = straight.len() / 3;
            let rest: Vec<String> = r.frames_from_index(from).unwrap().map(|f| md5(&f.unwrap())).collect();
            let want: Vec<String> = straight[from..].iter().map(|(m, _)| m.clone()).collect();
            assert_eq!(rest, want, "{name}: from frame {from}");
        }
    }
}

/// Random access in the middle of reading ahead stops the sessions, uses them, and
/// sequential reading goes on from where it was.
#[test]
fn reading_ahead_survives_random_access_and_drops() {
    let path = common::repo_root().join("testdata/h264/gop12-idr-cars-320x240.h264");
    let straight: Vec<String> = reader(&path).frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
    let n = straight.len();
    let mut r = reader(&path).sessions(3);
    let mut got: Vec<String> = (0..7).map(|_| md5(&r.next_frame().unwrap().unwrap())).collect();
    let picked = r.frames_at(&[n - 1, 1, 30]).unwrap();
    assert_eq!(
        picked.iter().map(|f| md5(f)).collect::<Vec<_>>(),
        vec![straight[n - 1].clone(), straight[1].clone(), straight[30].clone()]
    );
    while let Some(f) = r.next_frame().unwrap() {
        got.push(md5(&f));
    }
    assert_eq!(got, straight);
    assert!(r.stats().sessions >= 3);
    // A reader dropped while its sessions decode ahead stops them (no hang, no leak).
    for _ in 0..20 {
        let mut r = reader(&path).sessions(4);
        r.next_frame().unwrap().unwrap();
        drop(r);
    }
}

/// A read-ahead opens no more sessions than it has jobs (GOPs, joined up to a few dozen
/// frames) ahead, however many the reader may have: one past them would decode nothing and
/// its making (~50 ms for a process's first NVDEC decoders) delayed a short file's first
/// pass. Iteration and an index loop both.
#[test]
fn reading_ahead_opens_no_more_sessions_than_jobs_ahead() {
    let path = common::repo_root().join("testdata/media/h264-aac.mp4");
    let straight: Vec<String> = reader(&path).frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
    let mut r = reader(&path).sessions(64);
    let jobs = r.sequential_work(0).0;
    assert!((2..64).contains(&jobs), "{jobs} jobs: the file must have a few");
    let got: Vec<String> = r.frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
    assert_eq!(got, straight);
    assert_eq!(r.stats().sessions, jobs, "iteration opened a session for each job, no more");
    // `dec[i]` in a loop: the first session goes on with its GOP, the read-ahead takes the
    // jobs after it.
    let mut r = reader(&path).sessions(64);
    for (i, want) in straight.iter().enumerate() {
        assert_eq!(&md5(&r.frames_at(&[i]).unwrap()[0]), want, "frame {i}");
    }
    assert!(r.stats().frames_read_ahead > 0, "the loop read ahead");
    assert!(r.stats().sessions <= jobs + 1, "{} sessions for {jobs} jobs", r.stats().sessions);
}

/// Damaged files: reading ahead reports each frame lost to the damage as an
/// `InvalidBitstream` error and goes on, nothing hangs, and the result does not depend on
/// how the jobs fell to the sessions (two runs with different session counts agree).
/// Against one session reading straight through, only the frames of a group of pictures
/// with damage in it may differ: a job starts on a fresh session, so what a decoder
/// conceals a damaged picture with (the pictures it decoded before) is not the same.
#[test]
fn reading_ahead_reports_damage() {
    let bad = common::repo_root().join("testdata/media/bad");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&bad)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "json"))
        .collect();
    names.sort();
    let mut read = 0;
    for path in names {
        let Ok(d) = Demuxer::open(&path) else { continue };
        let Some(t) = d.video_track() else { continue };
        let codec = t.codec.video().unwrap();
        if !decodable(codec) {
            continue;
        }
        let track = t.index;
        let config = DecoderConfig::new(codec)
            .output(Output::Host(PixelFormat::Yuv420p))
            .engine(EnginePreference::Only(engine()));
        let Ok(one) = FrameReader::new(d, track, config.clone()) else { continue };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Each indexed frame in presentation order: its MD5, or None where it was an error.
        let all = |mut r: FrameReader| {
            let mut got: Vec<Option<String>> = Vec::new();
            for _ in 0..100_000 {
                match r.next_frame() {
                    Ok(Some(f)) => got.push(Some(md5(&f))),
                    Ok(None) => break,
                    Err(e) => {
                        assert!(matches!(e, video_hw::Error::InvalidBitstream { .. }), "{name}: {e}");
                        got.push(None);
                    }
                }
            }
            got
        };
        // The group of pictures (from one key frame to the next, presentation order) of each frame.
        let group: Vec<usize> = one
            .index()
            .frames()
            .iter()
            .scan(0, |g, f| {
                *g += usize::from(f.keyframe);
                Some(*g)
            })
            .collect();
        let single = all(one);
        assert_eq!(single.len(), group.len(), "{name}: one session: every indexed frame is a frame or an error");
        let ahead = |sessions| {
            FrameReader::new(Demuxer::open(&path).unwrap(), track, config.clone()).unwrap().sessions(sessions)
        };
        let got = all(ahead(3));
        assert_eq!(got.len(), group.len(), "{name}: reading ahead: every indexed frame is a frame or an error");
        assert_eq!(got, all(ahead(2)), "{name}: reading ahead does not depend on the sessions' timing");
        // A group is damaged where a frame of it was an error, or where the damage the
        // demuxer skipped (MPEG-TS goes on after it) lies between its packets.
        let index = FrameReader::new(Demuxer::open(&path).unwrap(), track, config.clone()).unwrap().index().clone();
        let packets = index.packets();
        let skipped_at = |g: usize| {
            let pos: Vec<u64> = (0..group.len())
                .filter(|&i| group[i] == g)
                .map(|i| packets[index.frames()[i].packet as usize].pos)
                .collect();
            let end = |p: u64| packets.iter().map(|e| e.pos).filter(|&q| q > p).min().unwrap_or(u64::MAX);
            index.damage_offset().is_some_and(|d| pos.iter().any(|&p| p <= d) && pos.iter().any(|&p| d < end(p)))
        };
        let damaged = |g: usize| {
            skipped_at(g) || (0..group.len()).any(|i| group[i] == g && (single[i].is_none() || got[i].is_none()))
        };
        for i in 0..group.len() {
            if got[i] != single[i] {
                assert!(damaged(group[i]), "{name}: frame {i} differs from one session's, in a group without damage");
            }
        }
        read += 1;
    }
    assert!(read >= 3, "damaged fixtures read: {read}");
}

/// The shared corpus's raw H.264 streams that the test engine decodes straight to ffmpeg's
/// reference (`FILE.yuv.framemd5`): the last frame of each GOP and a few more, each asked
/// for alone, equal the reference too. This checks the raw stream's frame index against
/// ffmpeg's output order (MR2_TANDBERG_E.264 restarts its order counts with
/// `memory_management_control_operation` 5, which the index once numbered wrongly).
#[test]
fn corpus_random_access_matches_the_references() {
    let Some(dir) = common::corpus_dir() else { return };
    let (mut checked, mut mmco5) = (0, false);
    let mut failures = Vec::new();
    for (path, reference) in common::corpus_h264_with_references(&dir) {
        let want = common::framemd5_hashes(&reference);
        let Ok(mut r) = std::panic::catch_unwind(|| reader(&path)) else { continue };
        let straight: Vec<Option<String>> = match r.frames_from_index(0) {
            Ok(frames) => frames.map(|f| f.ok().map(|f| md5(&f))).collect(),
            Err(_) => continue,
        };
        if straight.len() != want.len() || straight.iter().zip(&want).any(|(s, w)| s.as_ref() != Some(w)) {
            continue;
        }
        let n = r.len();
        let ends: Vec<usize> = (1..n).filter(|&k| r.index().frames()[k].keyframe).map(|k| k - 1).collect();
        for k in ends.into_iter().chain([n - 1, n / 2, n / 3, 1.min(n - 1)]) {
            match r.frames_at(&[k]).map(|f| md5(&f[0])) {
                Ok(m) if m == want[k] => {}
                other => failures.push(format!("{}: frame {k} alone: {other:?}", path.display())),
            }
        }
        mmco5 |= path.ends_with("MR2_TANDBERG_E.264");
        checked += 1;
    }
    eprintln!("{checked} corpus H.264 streams: random access equals the references");
    assert!(failures.is_empty(), "{} frames differ:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= 20, "only {checked} corpus streams decode straight to their references");
    assert!(mmco5, "MR2_TANDBERG_E.264 was not checked");
}

/// The reader says how many threads each session keeps busy, from the engine itself: the
/// FFmpeg engine's frame threads as asked, one for OpenH264 (one thread a session), and
/// nothing before a session is open. `device="auto"` in Python weighs the CPU by it.
#[test]
fn decode_threads_are_the_engines_own_figure() {
    let path = common::media("h264-aac.mp4");
    let open = |engine: video_hw::Engine, threads: Option<u32>| {
        let d = Demuxer::open(&path).unwrap();
        let track = d.video_track().unwrap().index;
        let config = DecoderConfig::new(Codec::H264)
            .output(Output::Host(PixelFormat::Yuv420p))
            .engine(EnginePreference::Only(engine))
            .threads_opt(threads);
        FrameReader::new(d, track, config).unwrap()
    };
    let mut r = open(video_hw::Engine::OpenH264, None);
    assert_eq!(r.decode_threads(), None, "before a session is open");
    r.prepare().unwrap();
    assert_eq!(r.decode_threads(), Some(1), "OpenH264: one thread a session");
    if !common::need_ffmpeg() {
        return;
    }
    for (threads, want) in [(Some(1), 1), (Some(3), 3)] {
        let mut r = open(video_hw::Engine::Ffmpeg, threads);
        r.prepare().unwrap();
        assert_eq!(r.decode_threads(), Some(want), "FFmpeg with threads {threads:?}");
        assert!(r.backend().unwrap().contains(&format!("{want} frame threads")) == (want > 1));
    }
}

#[test]
fn av1_decoders_count_their_own_threads() {
    // dav1d runs its own worker threads, in rav1d and in FFmpeg's libdav1d: a session keeps
    // as many busy as it was given, not one (what device="auto" weighs the CPU side by).
    let path = common::media("av1-opus.webm");
    let open = |engine: video_hw::Engine, threads: u32| {
        let d = Demuxer::open(&path).unwrap();
        let track = d.video_track().unwrap().index;
        let config = DecoderConfig::new(Codec::Av1)
            .output(Output::Host(PixelFormat::Yuv420p))
            .engine(EnginePreference::Only(engine))
            .threads_opt(Some(threads));
        let mut r = FrameReader::new(d, track, config).unwrap();
        r.prepare().unwrap();
        (r.decode_threads(), r.backend().unwrap().to_string())
    };
    assert_eq!(open(video_hw::Engine::Rav1d, 3).0, Some(3));
    if !common::need_ffmpeg() {
        return;
    }
    let (threads, backend) = open(video_hw::Engine::Ffmpeg, 3);
    if backend.contains("libdav1d") {
        assert_eq!(threads, Some(3), "{backend}");
    } else {
        eprintln!("note: FFmpeg decodes AV1 here with {backend}, not libdav1d");
    }
}
