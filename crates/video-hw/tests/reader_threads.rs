//! The threads of a reader's first FFmpeg session: opened while another reader's session
//! was open, it gets its share of the cores (one thread on two); where that reader is
//! dropped before this one decodes (a loop that opens the next file's decoder before the
//! last one goes), it is opened again with the count a lone session gets, and decodes the
//! same frames. A test binary of its own: the count depends on the software sessions open
//! in the whole process, which the other tests' threads would change. Where no FFmpeg loads
//! (`VIDEO_HW_FFMPEG_DIR=none`) it says so and passes, unless `VIDEO_HW_REQUIRE_FFMPEG=1`.

use std::path::PathBuf;

use video_hw::media::Demuxer;
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, Engine, EnginePreference, Output};

fn reader(threads: Option<u32>) -> FrameReader {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/h264/gop12-idr-cars-320x240.h264");
    let d = Demuxer::open(&path).unwrap();
    let track = d.video_track().unwrap().index;
    let config = DecoderConfig::new(Codec::H264)
        .output(Output::HOST_YUV420P)
        .engine(EnginePreference::Only(Engine::Ffmpeg))
        .threads_opt(threads);
    FrameReader::new(d, track, config).unwrap()
}

fn packed(r: &mut FrameReader, frames: &[usize]) -> Vec<Vec<u8>> {
    let got = r.frames_at(frames).unwrap();
    got.iter()
        .map(|f| {
            let mut v = Vec::new();
            f.to_host().unwrap().write_packed(&mut v);
            v
        })
        .collect()
}

#[test]
fn a_first_session_opened_beside_another_gets_the_cores_back_once_that_one_closed() {
    let mut last = reader(None);
    if let Err(e) = last.prepare() {
        assert!(!std::env::var("VIDEO_HW_REQUIRE_FFMPEG").is_ok_and(|v| v == "1"), "no FFmpeg: {e}");
        eprintln!("no FFmpeg engine ({e}): not tried");
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let want = packed(&mut last, &[3, 20]);
    let alone = last.decode_threads().unwrap();
    let described = last.backend().unwrap().to_string();
    if cores < 2 {
        eprintln!("one core: every session runs one thread; nothing to tell apart");
        return;
    }
    assert!(alone > 1, "a lone session runs frame threads ({alone})");

    // Opened beside `last`: its share.
    let mut next = reader(None);
    next.prepare().unwrap();
    let share = u32::try_from(cores / 2).unwrap();
    assert_eq!(next.decode_threads(), Some(share));
    drop(last);
    assert_eq!(packed(&mut next, &[3, 20]), want);
    assert_eq!(next.decode_threads(), Some(alone), "opened again once the other closed");
    assert_eq!(next.backend(), Some(described.as_str()), "described with its threads");

    // Still open beside it: the share stays.
    let mut third = reader(None);
    third.prepare().unwrap();
    assert_eq!(third.decode_threads(), Some(share));
    assert_eq!(packed(&mut third, &[3, 20]), want);
    assert_eq!(third.decode_threads(), Some(share), "the other is still open");

    // A count given is kept, whatever closes.
    let mut fixed = reader(Some(1));
    fixed.prepare().unwrap();
    drop((next, third));
    assert_eq!(packed(&mut fixed, &[3]), want[..1]);
    assert_eq!(fixed.decode_threads(), Some(1));
}
