//! The frame index against ffprobe: frame counts equal `-count_frames` and frame times equal
//! what ffprobe shows, for every container fixture (`testdata/media/`) and every raw
//! elementary stream (`testdata/h264`, `testdata/hevc`); lookups by time; start points.

use crate::common;

use std::path::PathBuf;

use serde_json::Value;
use video_hw::media::{Container, Demuxer, FrameIndex};

fn media_fixtures() -> Vec<(PathBuf, Value)> {
    let dir = common::repo_root().join("testdata/media");
    let mut out: Vec<(PathBuf, Value)> = std::fs::read_dir(&dir)
        .expect("testdata/media")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let facts: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            (p.with_extension(""), facts)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn index_of(path: &std::path::Path) -> FrameIndex {
    let mut d = Demuxer::open(path).unwrap();
    let track = d.video_track().unwrap().index;
    FrameIndex::build(&mut d, track).unwrap()
}

#[test]
fn frame_counts_and_times_match_ffprobe() {
    for (path, facts) in media_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let index = index_of(&path);
        let v = facts["video"]["stream_index"].as_u64().unwrap() as usize;
        let expected = facts["streams"][v]["nb_read_frames"].as_u64().unwrap() as usize;
        assert_eq!(index.len(), expected, "{name}: frames");
        assert!(index.damage().is_none(), "{name}: {:?}", index.damage());
        // ffprobe's frames in presentation order; MPEG-TS times may wrap (compare mod 2^33).
        let ts = index.container() == Container::MpegTs;
        let theirs = facts["video_frames"].as_array().unwrap();
        assert_eq!(theirs.len(), index.len(), "{name}");
        for (k, (ours, f)) in index.frames().iter().zip(theirs).enumerate() {
            // AVI has no presentation times: ffprobe shows none (ours: chunk slots).
            let Some(pts) = f["pts"].as_i64() else {
                assert_eq!(index.container(), Container::Avi, "{name}: frame {k} without pts");
                continue;
            };
            let same = if ts { (ours.pts - pts).rem_euclid(1 << 33) == 0 } else { ours.pts == pts };
            assert!(same, "{name}: frame {k}: pts {} != ffprobe {pts}", ours.pts);
        }
        // Presentation order is strictly increasing, and every frame has a duration.
        assert!(index.frames().windows(2).all(|w| w[0].pts < w[1].pts), "{name}: order");
        assert!(index.frames().iter().all(|f| f.duration > 0), "{name}: durations");
        assert!(index.frames()[0].keyframe || index.start_packet(0) == 0, "{name}: first frame");
    }
}

#[test]
fn lookups_by_time() {
    for (path, _) in media_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let index = index_of(&path);
        for (k, f) in index.frames().iter().enumerate() {
            assert_eq!(index.frame_at(f.pts), Some(k), "{name}: frame at its own pts");
            assert_eq!(index.frame_at(f.pts + f.duration - 1), Some(k), "{name}: frame at its last tick");
            let start = index.start_packet(k);
            assert!(index.is_random_access(start) || start == 0, "{name}: start of {k}");
            assert!(start <= f.packet as usize, "{name}: start after the frame's packet");
        }
        let first = index.frames()[0].pts;
        assert_eq!(index.frame_at(first - 1), None, "{name}: before the first frame");
        assert_eq!(index.frame_at_seconds(index.seconds(first)), Some(0), "{name}: seconds");
    }
}

/// Raw H.264/HEVC streams: the index's frame and key frame counts equal the reference
/// decodes' (testdata/fixtures.json), and times follow presentation order.
#[test]
fn raw_streams_frame_counts() {
    for fx in common::fixtures() {
        let index = index_of(&fx.path);
        let name = fx.rel.clone();
        assert_eq!(index.container(), Container::AnnexB, "{name}");
        assert_eq!(index.len() as u64, fx.frames, "{name}: frames");
        assert!(index.frames().windows(2).all(|w| w[0].pts < w[1].pts), "{name}: order");
        assert_eq!(index.keyframes() as u64, fx.keyframes, "{name}: key frames");
    }
}
