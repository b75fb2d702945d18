//! Runs on several sessions where the sessions past the first are opened by their workers.

use std::path::PathBuf;

use super::FrameReader;
use crate::config::{DecoderConfig, Output};
use crate::engine::{Engine, EnginePreference};
use crate::frame::Frame;
use crate::media::Demuxer;

/// A reader of the embedded H.264 engine over a clip with a key frame every 12 frames.
fn reader() -> FrameReader {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/h264/gop12-idr-cars-320x240.h264");
    let d = Demuxer::open(&path).unwrap();
    let track = d.video_track().unwrap().index;
    let config = DecoderConfig::new(crate::codec::Codec::H264)
        .output(Output::HOST_YUV420P)
        .engine(EnginePreference::Only(Engine::OpenH264));
    FrameReader::new(d, track, config).unwrap()
}

/// The picture's bytes, packed: equal for equal pictures.
fn bytes(f: &Frame) -> Vec<u8> {
    let mut packed = Vec::new();
    f.to_host().expect("frame pixels").write_packed(&mut packed);
    packed
}

/// Frames from four GOPs, asked of three sessions of which only the first can open: the
/// call gives every frame, as one session decoding them all would, and keeps one session.
#[test]
fn a_session_that_does_not_open_leaves_its_runs_to_the_others() {
    let asked = [1, 14, 27, 40];
    let mut one = reader();
    let want: Vec<Vec<u8>> = one.frames_at(&asked).unwrap().iter().map(|f| bytes(f)).collect();

    let mut r = reader().sessions(3);
    r.prepare().unwrap();
    // The next sessions ask for an engine this build never has on Linux: they cannot open.
    r.config = r.config.clone().engine(EnginePreference::Only(Engine::VideoToolbox));
    let got: Vec<Vec<u8>> = r.frames_at(&asked).unwrap().iter().map(|f| bytes(f)).collect();
    assert_eq!(got, want);
    assert_eq!(r.stats().runs, 4);
    assert_eq!(r.stats().sessions, 1);
}

/// Sessions opened by their workers stay with the reader: the next call finds them open.
#[test]
fn sessions_opened_for_a_call_stay_with_the_reader() {
    let mut r = reader().sessions(3);
    let first = r.frames_at(&[1, 14, 27, 40]).unwrap().iter().map(|f| bytes(f)).collect::<Vec<_>>();
    assert_eq!(r.stats().sessions, 3);
    let again = r.frames_at(&[40, 27, 14, 1]).unwrap().iter().rev().map(|f| bytes(f)).collect::<Vec<_>>();
    assert_eq!(again, first);
    assert_eq!(r.stats().sessions, 3);
}

/// A call's runs on sessions of their own ([`FrameReader::run_sessions`]): every frame as
/// one session gives it, the sessions kept for the next call beside the first, and a call
/// of one run left on the first session.
#[test]
fn runs_on_sessions_of_their_own_give_every_frame_and_are_kept() {
    let asked = [1, 14, 27, 40];
    let want: Vec<Vec<u8>> = reader().frames_at(&asked).unwrap().iter().map(|f| bytes(f)).collect();
    let mut r = reader().run_sessions(3);
    let got: Vec<Vec<u8>> = r.frames_at(&asked).unwrap().iter().map(|f| bytes(f)).collect();
    assert_eq!(got, want);
    assert_eq!((r.stats().runs, r.stats().sessions, r.run_decoders.len()), (4, 4, 3));
    r.frames_at(&[41]).unwrap();
    assert_eq!(r.stats().sessions, 4, "a call of one run opens nothing");
    let again: Vec<Vec<u8>> = r.frames_at(&asked).unwrap().iter().map(|f| bytes(f)).collect();
    assert_eq!(again, want);
    assert_eq!(r.stats().sessions, 4);
    // Run sessions not above the reader's own: the runs take the reader's sessions.
    let mut r = reader().sessions(3).run_sessions(2);
    r.frames_at(&asked).unwrap();
    assert_eq!((r.stats().sessions, r.run_decoders.len()), (3, 0));
}

/// FFmpeg's run sessions each get their share of the cores (one session of frame threads
/// is what they replace), and give the frames that session gives, bit for bit. Where no
/// FFmpeg loads (`VIDEO_HW_FFMPEG_DIR=none`) it says so and passes, unless
/// `VIDEO_HW_REQUIRE_FFMPEG=1`.
#[test]
fn ffmpeg_run_sessions_share_the_cores_and_give_the_first_sessions_frames() {
    let ffmpeg = || {
        let mut r = reader();
        r.config = r.config.clone().engine(EnginePreference::Only(Engine::Ffmpeg));
        r
    };
    let mut one = ffmpeg();
    if let Err(e) = one.prepare() {
        assert!(!std::env::var("VIDEO_HW_REQUIRE_FFMPEG").is_ok_and(|v| v == "1"), "no FFmpeg: {e}");
        eprintln!("no FFmpeg engine ({e}): FFmpeg's run sessions not tried");
        return;
    }
    let asked = [1, 14, 27, 40, 47];
    let want: Vec<Vec<u8>> = one.frames_at(&asked).unwrap().iter().map(|f| bytes(f)).collect();
    let mut r = ffmpeg().run_sessions(2);
    let got: Vec<Vec<u8>> = r.frames_at(&asked).unwrap().iter().map(|f| bytes(f)).collect();
    assert_eq!(got, want);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let share = u32::try_from((cores / 2).max(1)).unwrap();
    assert_eq!(r.run_decoders.len(), 2);
    for d in &r.run_decoders {
        assert_eq!(d.threads(), share, "{}", d.backend());
    }
}
