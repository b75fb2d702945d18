//! NVDEC reading through a saved frame index (`video_hw::media::IndexCache`), on a real GPU:
//! MPEG-TS fixtures and raw H.264/HEVC streams opened with a cold cache and a warm one give
//! the same frames, bit for bit, as without a cache — host YUV 4:2:0 against ffmpeg's
//! references — and a warm open for CUDA output (which reads the stream's format before the
//! first decode) gives the frames at the same timestamps.
//!
//! Run with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_index_cache`; without that variable
//! the tests only print a note; with it and no GPU they fail.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use video_hw::media::{CacheUse, Demuxer, IndexCache};
use video_hw::reader::FrameReader;
use video_hw::{DecoderConfig, Engine, EnginePreference, Output, PixelFormat};

fn inputs() -> Vec<PathBuf> {
    let root = common::repo_root().join("testdata");
    vec![
        root.join("media/h264-aac.ts"),
        root.join("media/h264-noidr.ts"),
        root.join("media/h264-reschange.ts"),
        root.join("h264/open-gop-cars-320x240.h264"),
        root.join("h264/gop12-idr-cars-320x240.h264"),
        root.join("hevc/open-gop-cra-rasl-cars-320x240.h265"),
    ]
}

fn open(path: &Path, cache: &IndexCache, output: Output) -> (FrameReader, CacheUse) {
    let mut d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let (codec, track) = (t.codec.video().unwrap(), t.index);
    let config = DecoderConfig::new(codec).output(output).engine(EnginePreference::Only(Engine::Nvdec));
    let (index, used) = cache.index(&mut d, track, path).unwrap();
    (FrameReader::with_index(d, index, config).unwrap(), used)
}

#[test]
fn gpu_frames_through_a_saved_index_are_the_same() {
    let Some(_gpu) = common::gpu_test() else { return };
    for src in inputs() {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(&name);
        std::fs::copy(&src, &file).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
        let cache = IndexCache::Dir(dir.path().join("cache"));
        let host = Output::Host(PixelFormat::Yuv420p);

        let (mut plain, _) = open(&file, &IndexCache::Off, host);
        let n = plain.len();
        let mut asked = vec![n - 1, 0, n / 2, 1, n / 3];
        for (k, f) in plain.index().frames().iter().enumerate() {
            if f.keyframe && k > 0 {
                asked.extend([k - 1, k, k + 1]);
            }
        }
        asked.retain(|&k| k < n);
        let md5s = |r: &mut FrameReader| -> Vec<String> {
            r.frames_at(&asked).unwrap().iter().map(|f| common::frame_md5(f).1).collect()
        };
        let want = md5s(&mut plain);
        let reference = PathBuf::from(format!("{}.framemd5", src.display()));
        let reference =
            if reference.exists() { reference } else { PathBuf::from(format!("{}.yuv.framemd5", src.display())) };
        let all = common::framemd5_hashes(&reference);
        let expected: Vec<String> = asked.iter().map(|&k| all[k].clone()).collect();
        assert_eq!(want, expected, "{name}: NVDEC without a cache against ffmpeg's reference");

        let (mut cold, used) = open(&file, &cache, host);
        assert_eq!(used, CacheUse::Built { stale: None, stored: true }, "{name}: cold");
        assert_eq!(md5s(&mut cold), want, "{name}: cold cache");
        for sessions in [1, 4] {
            let (warm, used) = open(&file, &cache, host);
            assert_eq!(used, CacheUse::Hit, "{name}: warm");
            let mut warm = warm.sessions(sessions);
            assert_eq!(md5s(&mut warm), want, "{name}: warm cache, {sessions} sessions");
        }
        let (mut cuda, used) = open(&file, &cache, Output::Cuda(PixelFormat::Nv12));
        assert_eq!(used, CacheUse::Hit, "{name}: warm, CUDA output");
        let pts: Vec<Option<i64>> = cuda.frames_at(&asked).unwrap().iter().map(|f| f.pts).collect();
        let want_pts: Vec<Option<i64>> = asked.iter().map(|&k| Some(plain.index().frames()[k].pts)).collect();
        assert_eq!(pts, want_pts, "{name}: CUDA frames through the saved index");
    }
}
