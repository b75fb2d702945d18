//! The FFmpeg engine leaves the pictures a random access feeds for their headers only
//! undecoded: `skip_frame` for their packets alone, which keeps them out of libavcodec's
//! decoded picture buffer too, so the reader (`reader::prune`) feeds so only the pictures
//! whose leaving out changes no picture it decodes. Here, on the B-pyramid fixtures and on
//! the shared corpus, H.264 and HEVC: the frames asked for, each alone and in one batch
//! as the clip samplers ask, are bit for bit the straight decode's (and ffmpeg's
//! reference), the frame count exact, with one thread, the default threads and four
//! frame threads, and no frame has to be decoded again (as many runs as with nothing
//! left out); the pictures are really left out (`ReaderStats::pictures_left_out`); and
//! with feeding for headers only turned off none is.
//!
//! Run with `VIDEO_HW_FFMPEG_DIR` pointing at another FFmpeg (PyAV's FFmpeg 8 libraries)
//! to check that one too.

use crate::common;

use std::path::Path;

use video_hw::media::Demuxer;
use video_hw::reader::FrameReader;
use video_hw::{DecoderConfig, Engine, EnginePreference, Output, PixelFormat};

use common::readers::md5;

/// The thread settings checked: one, the default, four (frame threads).
const THREADS: [Option<u32>; 3] = [Some(1), None, Some(4)];

/// A reader of `path` on the FFmpeg engine with `threads`, host YUV420P.
fn ffmpeg_reader(path: &Path, threads: Option<u32>) -> FrameReader {
    ffmpeg_reader_with(path, threads, true)
}

/// The same with feeding for headers only on or off.
fn ffmpeg_reader_with(path: &Path, threads: Option<u32>, headers_only: bool) -> FrameReader {
    let d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let (codec, track) = (t.codec.video().unwrap(), t.index);
    let config = DecoderConfig::new(codec)
        .output(Output::Host(PixelFormat::Yuv420p))
        .engine(EnginePreference::Only(Engine::Ffmpeg))
        .threads_opt(threads);
    FrameReader::new(d, track, config).unwrap().headers_only(headers_only)
}

/// The frames a clip sampler asks of `n` frames in one call: `clips` clips of 4 frames,
/// 3 apart, their starts spread evenly.
fn sampler_frames(n: usize, clips: usize) -> Vec<usize> {
    let span = 10.min(n);
    let mut v: Vec<usize> = (0..clips)
        .flat_map(|c| {
            let start = c * (n - span) / clips.max(1);
            (0..4).map(move |i| start + 3 * i).filter(move |&k| k < n)
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// What one file showed.
#[derive(Default, Debug)]
struct Seen {
    /// Frames compared.
    frames: usize,
    /// Pictures fed for their headers only, and those the engine left out.
    headers_only: u64,
    left_out: u64,
    /// Frames that differ from the straight decode's: "name: frame k (how)".
    wrong: Vec<String>,
}

/// Asks frames of `path` with `threads`: every frame alone, last to first (each a run of
/// its own from its random access point) where `every`, else the last frame of each GOP
/// and a few more; then a sampler's batch in one call. Compares each with `want` (the
/// straight decode's MD5s). Returns the runs decoded: a frame that did not come out of its
/// run (a picture the decoder refused) is decoded again, in a run of its own, so the
/// count shows it where the frames cannot.
fn check(path: &Path, threads: Option<u32>, want: &[String], every: bool, seen: &mut Seen) -> u64 {
    check_with(path, threads, true, want, every, seen)
}

/// [`check`] with feeding for headers only on or off.
fn check_with(path: &Path, threads: Option<u32>, on: bool, want: &[String], every: bool, seen: &mut Seen) -> u64 {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut r = ffmpeg_reader_with(path, threads, on);
    let n = r.len();
    assert_eq!(n, want.len(), "{name}: frame count");
    let alone: Vec<usize> = if every {
        (0..n).rev().collect()
    } else {
        let ends = (1..n).filter(|&k| r.index().frames()[k].keyframe).map(|k| k - 1);
        ends.chain([n - 1, n / 2, n / 3, 1.min(n - 1)]).collect()
    };
    for k in alone {
        match r.frames_at(&[k]) {
            Ok(f) if f.len() == 1 && md5(&f[0]) == want[k] => {}
            Ok(f) => seen.wrong.push(format!("{name}: frame {k} alone ({threads:?} threads, {} frames)", f.len())),
            Err(e) => seen.wrong.push(format!("{name}: frame {k} alone ({threads:?} threads): {e}")),
        }
        seen.frames += 1;
    }
    let batch = sampler_frames(n, 4);
    match r.frames_at(&batch) {
        Ok(frames) => {
            assert_eq!(frames.len(), batch.len(), "{name}: frames of the batch");
            for (&k, f) in batch.iter().zip(&frames) {
                if md5(f) != want[k] {
                    seen.wrong.push(format!("{name}: frame {k} in a batch ({threads:?} threads)"));
                }
            }
        }
        Err(e) => seen.wrong.push(format!("{name}: the batch ({threads:?} threads): {e}")),
    }
    seen.frames += batch.len();
    let s = r.stats();
    assert!(s.pictures_left_out <= s.packets_headers_only, "{name}: {s:?}");
    seen.headers_only += s.packets_headers_only;
    seen.left_out += s.pictures_left_out;
    s.runs
}

#[test]
fn ffmpeg_left_out_pictures_change_no_frame() {
    if !common::need_ffmpeg() {
        return;
    }
    let names = [
        "h264-aac.mp4",
        "h264-ref1.mp4",
        "h264-ref2.mkv",
        "h264-opengop.mkv",
        "h264-vfr.mp4",
        "hevc-ref1.mp4",
        "hevc-aac.mkv",
        "hevc-opengop.mp4",
    ];
    let (mut h264, mut hevc) = (Seen::default(), Seen::default());
    for name in names {
        let path = common::media(name);
        let want = common::framemd5_hashes(&common::media(&format!("{name}.framemd5")));
        let seen = if name.starts_with("hevc") { &mut hevc } else { &mut h264 };
        for threads in THREADS {
            let runs = check(&path, threads, &want, true, seen);
            if threads == Some(1) {
                let off = check_with(&path, threads, false, &want, true, &mut Seen::default());
                assert_eq!(runs, off, "{name}: runs with pictures left out and without");
            }
        }
    }
    for (codec, seen) in [("H.264", &h264), ("HEVC", &hevc)] {
        eprintln!(
            "{codec}: {} frames equal the references; {} pictures fed for their headers only, {} left out",
            seen.frames, seen.headers_only, seen.left_out
        );
        assert!(seen.wrong.is_empty(), "{codec}: {} frames differ:\n{}", seen.wrong.len(), seen.wrong.join("\n"));
        assert_eq!(seen.left_out, seen.headers_only, "{codec}: every picture fed for its headers only is left out");
    }
    // x265 names each reference picture in the reference picture sets of the pictures
    // after it for a while, and libavcodec 7.1 and later refuse a picture whose set names
    // one it was not given: the HEVC fixtures' pictures are all decoded (the corpus has
    // HEVC pictures left out, below).
    assert!(h264.left_out > 1000, "H.264: only {} pictures left out", h264.left_out);
}

/// With feeding for headers only off (`VIDEO_HW_READER_HEADERS_ONLY=0` does the same), no
/// picture is left out and the frames are the same.
#[test]
fn nothing_is_left_out_with_headers_only_off() {
    if !common::need_ffmpeg() {
        return;
    }
    for name in ["h264-aac.mp4", "hevc-ref1.mp4"] {
        let want = common::framemd5_hashes(&common::media(&format!("{name}.framemd5")));
        let mut r = ffmpeg_reader(&common::media(name), None).headers_only(false);
        let asked = sampler_frames(r.len(), 4);
        let frames = r.frames_at(&asked).unwrap();
        for (&k, f) in asked.iter().zip(&frames) {
            assert_eq!(md5(f), want[k], "{name}: frame {k}");
        }
        let s = r.stats();
        assert_eq!((s.packets_headers_only, s.pictures_left_out), (0, 0), "{name}");
    }
}

/// The shared corpus's H.264 streams that FFmpeg decodes straight to their references:
/// GOP ends, a few frames alone and a sampler's batch, with one thread and with four.
#[test]
fn corpus_ffmpeg_left_out_pictures_change_no_frame_h264() {
    corpus_ffmpeg_left_out_pictures_change_no_frame("H.264", &["h264", "264", "jsv"]);
}

/// The same for the corpus's HEVC streams (a test of its own: the two run side by side).
#[test]
fn corpus_ffmpeg_left_out_pictures_change_no_frame_hevc() {
    corpus_ffmpeg_left_out_pictures_change_no_frame("HEVC", &["h265", "265", "hevc"]);
}

fn corpus_ffmpeg_left_out_pictures_change_no_frame(codec: &str, extensions: &[&str]) {
    let Some(dir) = common::corpus_dir() else { return };
    if !common::need_ffmpeg() {
        return;
    }
    let mut seen = Seen::default();
    let mut streams = 0;
    for (path, reference) in common::corpus_with_references(&dir, extensions) {
        let want = common::framemd5_hashes(&reference);
        let Ok(mut r) = std::panic::catch_unwind(|| ffmpeg_reader(&path, Some(1))) else { continue };
        if r.index().track().codec.video().is_none() {
            continue;
        }
        let straight: Vec<Option<String>> = match r.frames_from_index(0) {
            Ok(frames) => frames.map(|f| f.ok().map(|f| md5(&f))).collect(),
            Err(_) => continue,
        };
        if straight.len() != want.len() || straight.iter().zip(&want).any(|(s, w)| s.as_ref() != Some(w)) {
            continue;
        }
        for threads in [Some(1), Some(4)] {
            let runs = check(&path, threads, &want, false, &mut seen);
            let off = check_with(&path, threads, false, &want, false, &mut Seen::default());
            if runs != off {
                seen.wrong.push(format!("{}: {runs} runs, {off} without leaving out", path.display()));
            }
        }
        streams += 1;
    }
    eprintln!(
        "{codec}: {streams} corpus streams, {} frames equal the references; {} fed for headers only, {} left out",
        seen.frames, seen.headers_only, seen.left_out
    );
    assert!(seen.wrong.is_empty(), "{codec}: {} frames differ:\n{}", seen.wrong.len(), seen.wrong.join("\n"));
    assert!(streams >= 5, "{codec}: only {streams} corpus streams decode straight to their references");
    assert!(seen.left_out > 0, "{codec}: no picture of the corpus was left out");
}
