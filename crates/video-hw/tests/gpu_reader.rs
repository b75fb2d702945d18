//! NVDEC behind the container demuxers and the frame reader, on a real GPU: every
//! container fixture (`testdata/media/`: MP4, fragmented MP4, Matroska, WebM, MPEG-TS, M2TS;
//! H.264, HEVC, VP9) decoded straight through and by random access (frames out of order,
//! repeated, around every key frame, on one session and on several; sequentially with the
//! GOPs ahead decoding on several sessions) gives ffmpeg's
//! reference frames bit for bit (`FILE.framemd5`, yuv420p), with the right timestamps.
//! AV1 is skipped where the GPU has no AV1 decoder (the H200's NVDEC has none).
//!
//! Run with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_reader`; without that variable the
//! tests only print a note; with it and no GPU they fail.

mod common;

use std::path::PathBuf;

use video_hw::media::Demuxer;
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, Direction, Engine, EnginePreference, Output, PixelFormat};

fn fixtures() -> Vec<PathBuf> {
    let dir = common::repo_root().join("testdata/media");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.with_extension(""))
        .collect();
    v.sort();
    v
}

fn nvdec_decodes(codec: Codec) -> bool {
    video_hw::registry::probe(Engine::Nvdec, codec, Direction::Decode, 0).available
}

fn reader(path: &PathBuf, sessions: usize) -> Option<FrameReader> {
    reader_as(path, sessions, PixelFormat::Yuv420p)
}

fn reader_as(path: &PathBuf, sessions: usize, format: PixelFormat) -> Option<FrameReader> {
    let d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let codec = t.codec.video().unwrap();
    if !nvdec_decodes(codec) {
        eprintln!("note: {}: this GPU's NVDEC does not decode {codec}", path.display());
        return None;
    }
    let track = t.index;
    let config = DecoderConfig::new(codec).output(Output::Host(format)).engine(EnginePreference::Only(Engine::Nvdec));
    Some(FrameReader::new(d, track, config).unwrap().sessions(sessions))
}

#[test]
fn gpu_reader_matches_the_references() {
    let Some(_gpu) = common::gpu_test() else { return };
    let mut checked = 0;
    for path in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(mut r) = reader(&path, 1) else { continue };
        let want = common::framemd5_hashes(&PathBuf::from(format!("{}.framemd5", path.display())));
        let n = r.len();
        let straight: Vec<String> = r.frames_from_index(0).unwrap().map(|f| common::frame_md5(&f.unwrap()).1).collect();
        assert_eq!(straight, want, "{name}: straight decode against ffmpeg's reference");
        let mut asked = vec![n - 1, 0, n / 2, n / 2, 1];
        for (k, f) in r.index().frames().iter().enumerate() {
            if f.keyframe && k > 0 {
                asked.extend([k - 1, k, k + 1]);
            }
        }
        asked.retain(|&k| k < n);
        // Several sessions: sequential reading decodes the GOPs ahead at once, holding the
        // frames in device memory and copying each to the host as it is taken.
        let mut r4 = reader(&path, 4).unwrap();
        let ahead: Vec<String> = r4.frames_from_index(0).unwrap().map(|f| common::frame_md5(&f.unwrap()).1).collect();
        assert_eq!(ahead, want, "{name}: sequential reading on 4 sessions against ffmpeg's reference");
        assert_eq!(r4.stats().frames_staged, n as u64, "{name}: frames read ahead in device memory");
        // Interrupted by random access halfway (frames queued for their host copies are
        // dropped), then read on from where it was.
        let mut r4 = reader(&path, 4).unwrap();
        let mut resumed = Vec::new();
        while resumed.len() < n / 2 {
            resumed.push(common::frame_md5(&r4.next_frame().unwrap().unwrap()).1);
        }
        let _ = r4.frames_at(&[n - 1, 0]).unwrap();
        while let Some(f) = r4.next_frame().unwrap() {
            resumed.push(common::frame_md5(&f).1);
        }
        assert_eq!(resumed, want, "{name}: sequential reading on 4 sessions, interrupted halfway");
        // NV12 (P010 for 10-bit), RGB24 and planar RGB: the same bytes as one session's,
        // every frame staged (or the same refusal: NVDEC makes no RGB of GBR streams).
        for format in [PixelFormat::Nv12, PixelFormat::Rgb24, PixelFormat::RgbPlanar] {
            let read = |sessions| -> (Result<Vec<String>, String>, u64) {
                let mut r = reader_as(&path, sessions, format).unwrap();
                let md5s = r
                    .frames_from_index(0)
                    .unwrap()
                    .map(|f| f.map(|f| common::frame_md5(&f).1).map_err(|e| e.to_string()))
                    .collect();
                (md5s, r.stats().frames_staged)
            };
            let ((ahead, staged), (one, _)) = (read(4), read(1));
            assert_eq!(ahead, one, "{name}: host {format} on 4 sessions against one session's");
            if one.is_ok() {
                assert_eq!(staged, n as u64, "{name}: host {format} frames read ahead in device memory");
            }
        }
        for sessions in [1, 4] {
            let mut r = reader(&path, sessions).unwrap();
            let frames = r.frames_at(&asked).unwrap();
            for (&k, f) in asked.iter().zip(&frames) {
                assert_eq!(common::frame_md5(f).1, want[k], "{name}: frame {k} by random access ({sessions} sessions)");
                assert_eq!(f.pts, Some(r.index().frames()[k].pts), "{name}: pts of frame {k}");
            }
        }
        checked += 1;
    }
    eprintln!("{checked} container fixtures bit-exact through NVDEC, straight and by random access");
    assert!(checked >= 14, "only {checked} fixtures decoded");
}

/// Random access where NVDEC parses, without decoding, the H.264 reference pictures no
/// frame asked for predicts from (`reader::prune`; the B reference pictures of the
/// mini-GOPs passed over in x264's few-reference streams): every frame of every H.264
/// fixture asked for alone, and every third frame at once on 4 sessions, equals ffmpeg's
/// reference, and the few-reference fixtures have pictures left undecoded.
#[test]
fn gpu_random_access_decodes_only_what_the_frames_need() {
    let Some(_gpu) = common::gpu_test() else { return };
    let checked = fixtures_random_access(Codec::H264, "h264-ref", |r| r);
    assert!(checked >= 10, "only {checked} H.264 fixtures checked");
}

/// The same for HEVC, with its reference pictures that no asked frame reaches fed for their
/// headers only (`FrameReader::headers_only`, on by default; set here whatever the
/// environment says): every frame of every HEVC fixture alone, and every third on 4 sessions.
#[test]
fn gpu_hevc_random_access_with_headers_only() {
    let Some(_gpu) = common::gpu_test() else { return };
    let checked = fixtures_random_access(Codec::Hevc, "hevc-ref", |r| r.headers_only(true));
    assert!(checked >= 4, "only {checked} HEVC fixtures checked");
}

/// Every frame of every `codec` fixture asked for alone (last to first), then every third at once on 4
/// sessions, on readers `setup` adjusts: each equals ffmpeg's reference, and the fixtures
/// named `few_refs…` have more pictures parsed without decoding than frames. Returns the
/// fixtures checked.
fn fixtures_random_access(codec: Codec, few_refs: &str, setup: impl Fn(FrameReader) -> FrameReader) -> usize {
    let mut checked = 0;
    for path in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(r) = reader(&path, 1) else { continue };
        if r.index().track().codec.video() != Some(codec) {
            continue;
        }
        let mut r = setup(r);
        let want = common::framemd5_hashes(&PathBuf::from(format!("{}.framemd5", path.display())));
        let n = r.len();
        assert_eq!(n, want.len(), "{name}: frames indexed against the reference");
        // Last to first: each request jumps back, so each decodes from its random access
        // point (a forward loop would go on from where the session is).
        for (k, want) in want.iter().enumerate().rev() {
            let f = r.frames_at(&[k]).unwrap();
            assert_eq!(f.len(), 1, "{name}: frame {k} alone");
            assert_eq!(&common::frame_md5(&f[0]).1, want, "{name}: frame {k} alone");
        }
        let headers_only = r.stats().packets_headers_only;
        if name.starts_with(few_refs) {
            assert!(headers_only > n as u64, "{name}: only {headers_only} pictures parsed without decoding");
        }
        let mut asked: Vec<usize> = (0..n).step_by(3).rev().collect();
        let half = asked.len() / 2;
        asked.rotate_left(half);
        let mut r4 = setup(reader(&path, 4).unwrap());
        let frames = r4.frames_at(&asked).unwrap();
        assert_eq!(frames.len(), asked.len(), "{name}: every third frame on 4 sessions");
        for (&k, f) in asked.iter().zip(&frames) {
            assert_eq!(common::frame_md5(f).1, want[k], "{name}: frame {k} among every third (4 sessions)");
        }
        eprintln!("{name}: {n} frames alone exact, {headers_only} pictures parsed without decoding");
        checked += 1;
    }
    checked
}

/// Corpus streams NVDEC does not decode to ffmpeg's reference even straight through
/// (`known_difference` in tests/gpu_nvdec.rs): a picture of 8,160 slices that
/// `cuvidDecodePicture` refuses, slices missing on purpose that NVDEC conceals its own
/// way, and a last picture NVDEC reports damaged and conceals.
const NOT_LIKE_THE_REFERENCE: [&str; 3] = ["jm_1080p_allslice.264", "Error_I_P.264", "loewe.h265"];

/// The same over the shared corpus's H.264 streams whose references count the frames the
/// index has (long-term references, adaptive marking, list modifications, many slices,
/// field pairs coded as two access units, MBAFF): the last frame of each GOP and a few
/// more, each asked for alone.
#[test]
fn gpu_corpus_random_access_decodes_only_what_the_frames_need() {
    let Some(_gpu) = common::gpu_test() else { return };
    let Some(dir) = common::corpus_dir() else { return };
    let (checked, headers_only) = corpus_random_access(common::corpus_h264_with_references(&dir), |r| r);
    eprintln!("{checked} corpus H.264 streams by random access, {headers_only} pictures parsed without decoding");
    assert!(checked >= 20, "only {checked} corpus H.264 streams checked");
}

/// The same over the corpus's HEVC streams, with pictures no asked frame reaches fed for
/// their headers only (multi-slice pictures, 10-bit, CRA with RASL; long-term pictures
/// and streams of several sub-layers are decoded whole).
#[test]
fn gpu_corpus_hevc_random_access_with_headers_only() {
    let Some(_gpu) = common::gpu_test() else { return };
    let Some(dir) = common::corpus_dir() else { return };
    let files = common::corpus_with_references(&dir, &["h265", "265", "hevc"]);
    let (checked, headers_only) = corpus_random_access(files, |r| r.headers_only(true));
    eprintln!("{checked} corpus HEVC streams by random access, {headers_only} pictures parsed without decoding");
    assert!(checked >= 12, "only {checked} corpus HEVC streams checked");
    assert!(headers_only > 0, "no picture parsed without decoding");
}

/// Asks each of `files` (stream, ffmpeg reference) for the last frame of each GOP and a
/// few more, each alone, on a reader `setup` adjusts; fails on any frame unlike the
/// reference. Returns the streams checked and the pictures parsed without decoding.
fn corpus_random_access(files: Vec<(PathBuf, PathBuf)>, setup: impl Fn(FrameReader) -> FrameReader) -> (usize, u64) {
    let (mut checked, mut headers_only) = (0, 0);
    let mut failures = Vec::new();
    for (path, reference) in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if NOT_LIKE_THE_REFERENCE.contains(&file.as_str()) {
            continue;
        }
        let want = common::framemd5_hashes(&reference);
        let Some(r) = reader(&path, 1) else { continue };
        let mut r = setup(r);
        let n = r.len();
        if n != want.len() {
            eprintln!("note: {}: {n} frames indexed, {} in the reference; not checked", path.display(), want.len());
            continue;
        }
        let ends: Vec<usize> = (1..n).filter(|&k| r.index().frames()[k].keyframe).map(|k| k - 1).collect();
        let asked: Vec<usize> = ends.into_iter().chain([n - 1, n / 2, n / 3, 1.min(n - 1)]).collect();
        if let Err(e @ video_hw::Error::Unsupported { .. }) = r.frames_at(&[0]) {
            eprintln!("note: {}: not decoded here ({e})", path.display());
            continue;
        }
        for &k in &asked {
            let got = r.frames_at(&[k]).map(|f| f.iter().map(|f| common::frame_md5(f).1).collect::<Vec<_>>());
            match got {
                Ok(md5s) if md5s == [want[k].clone()] => {}
                other => failures.push(format!("{}: frame {k} alone: {other:?}", path.display())),
            }
        }
        headers_only += r.stats().packets_headers_only;
        checked += 1;
    }
    assert!(failures.is_empty(), "{} frames differ from the references:\n{}", failures.len(), failures.join("\n"));
    (checked, headers_only)
}

/// Decoder state kept between calls on NVDEC (`reader/live.rs`): `dec[i]` over every
/// fixture (on one session and on four), ranges in chunks of 32 and `dec[i-1]` beside
/// `dec[i]` give ffmpeg's reference frames, and a forward loop decodes each packet about
/// once (the bound of `tests/reader_state.rs`).
#[test]
fn gpu_reader_state_kept_between_calls() {
    let Some(_gpu) = common::gpu_test() else { return };
    let mut checked = 0;
    for path in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(probe) = reader(&path, 1) else { continue };
        let want = common::framemd5_hashes(&PathBuf::from(format!("{}.framemd5", path.display())));
        let n = probe.len();
        let index = probe.index();
        let span = |f: usize| (index.last_packet(f) + 1 - index.start_packet(f)) as u64;
        let bound = index.packets().len() as u64 + span(0) + span(1) + span(31.min(n - 1)) + span(63.min(n - 1)) + 16;
        let md5 = |f: &video_hw::Frame| common::frame_md5(f).1;
        for sessions in [1, 4] {
            let mut r = reader(&path, sessions).unwrap();
            for (i, w) in want.iter().enumerate() {
                assert_eq!(&md5(&r.frames_at(&[i]).unwrap()[0]), w, "{name}: dec[{i}] on {sessions} sessions");
            }
            let s = r.stats();
            assert!(s.packets_decoded <= bound, "{name}: dec[i] loop: {} packets, at most {bound}", s.packets_decoded);
            assert!(s.runs <= 3, "{name}: dec[i] loop: {} runs", s.runs);
        }
        let mut r = reader(&path, 4).unwrap();
        for start in (0..n).step_by(32) {
            let got: Vec<String> = r.frames_in_range(start, start + 32, 1).unwrap().iter().map(|f| md5(f)).collect();
            assert_eq!(got, want[start..(start + 32).min(n)].to_vec(), "{name}: chunk at {start}");
        }
        assert!(r.stats().packets_decoded <= bound, "{name}: chunks: {} packets", r.stats().packets_decoded);
        let mut r = reader(&path, 1).unwrap();
        for i in 1..n {
            assert_eq!(md5(&r.frames_at(&[i - 1]).unwrap()[0]), want[i - 1], "{name}: dec[{}]", i - 1);
            assert_eq!(md5(&r.frames_at(&[i]).unwrap()[0]), want[i], "{name}: dec[{i}]");
        }
        assert!(r.stats().frames_kept + 2 >= n as u64, "{name}: {} frames kept", r.stats().frames_kept);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} fixtures checked");
}

/// The library's `device="auto"` reader ([`video_hw::reader::AutoReader`]) on the GPU: sent
/// there, its frames are NVDEC's and equal the CPU side's and ffmpeg's (yuv420p); with the
/// GPU reader open, the model's own choice for the whole file reports both estimates.
#[test]
fn gpu_auto_reader_sends_calls_to_the_gpu_and_stays_exact() {
    use video_hw::device_choice::Processor;
    use video_hw::reader::AutoReader;
    let Some(_gpu) = common::gpu_test() else { return };
    let path = common::media("h264-aac.mp4");
    let md5s = |frames: Vec<std::sync::Arc<video_hw::Frame>>| -> Vec<String> {
        frames.iter().map(|f| common::frame_md5(f).1).collect()
    };
    let mut r = AutoReader::open(&path, PixelFormat::Yuv420p).unwrap().force(Some(Processor::Gpu));
    let asked: Vec<usize> = (0..r.len()).collect();
    let on_gpu = md5s(r.frames_at(&asked).unwrap());
    assert_eq!(r.last_choice().unwrap().processor, Processor::Gpu);
    assert!(r.backend().starts_with("auto -> cuda: "), "{}", r.backend());
    assert_eq!(r.calls(), (0, 1));
    let mut c = AutoReader::open(&path, PixelFormat::Yuv420p).unwrap().force(Some(Processor::Cpu));
    let on_cpu = md5s(c.frames_at(&asked).unwrap());
    assert_eq!(on_gpu, on_cpu);
    let mut reference = path.clone().into_os_string();
    reference.push(".framemd5");
    let want: Vec<String> =
        common::read_framemd5(std::path::Path::new(&reference)).into_iter().map(|f| f.md5).collect();
    assert_eq!(on_gpu, want);
    // Random access on the GPU side too.
    let picks = [97, 3, 50, 3, 0];
    let got = md5s(r.frames_at(&picks).unwrap());
    assert_eq!(got, picks.iter().map(|&i| want[i].clone()).collect::<Vec<_>>());
    let mut m = r.force(None);
    m.frames_at(&asked).unwrap();
    let choice = m.last_choice().unwrap();
    assert!(choice.estimate.gpu_s.is_some() && choice.estimate.cpu_s.is_some(), "{choice:?}");
}
