//! Readers over the project's fixtures, for the random-access tests (`reader.rs`,
//! `reader_state.rs`): the engine they decode with, the inputs, and frame hashes.

use std::path::{Path, PathBuf};

use video_hw::media::Demuxer;
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, Engine, EnginePreference, Output, PixelFormat};

/// The engine the tests decode with: FFmpeg's software decoders where FFmpeg is loaded
/// (every codec, bit-exact with the references), OpenH264 where it is not (H.264 only).
pub fn engine() -> Engine {
    if super::ffmpeg_loaded() { Engine::Ffmpeg } else { Engine::OpenH264 }
}

/// Whether the test engine decodes `codec`.
pub fn decodable(codec: Codec) -> bool {
    super::ffmpeg_loaded() || codec == Codec::H264
}

/// A reader of the first video track of `path`, host YUV420P, on the test engine.
pub fn reader(path: &Path) -> FrameReader {
    let d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let codec = t.codec.video().unwrap();
    let track = t.index;
    let config =
        DecoderConfig::new(codec).output(Output::Host(PixelFormat::Yuv420p)).engine(EnginePreference::Only(engine()));
    FrameReader::new(d, track, config).unwrap()
}

/// Inputs: every container fixture, and the raw open-GOP streams.
pub fn inputs() -> Vec<PathBuf> {
    let root = super::repo_root().join("testdata");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root.join("media"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.with_extension(""))
        .collect();
    v.push(root.join("h264/open-gop-cars-320x240.h264"));
    v.push(root.join("hevc/open-gop-cra-rasl-cars-320x240.h265"));
    v.push(root.join("h264/gop12-idr-cars-320x240.h264"));
    v.sort();
    v
}

/// A frame's MD5, as ffmpeg's framemd5 writes it.
pub fn md5(frame: &video_hw::Frame) -> String {
    super::frame_md5(frame).1
}

/// Inputs the test engine cannot decode (OpenH264 decodes H.264 only).
pub fn skip(path: &Path) -> bool {
    let codec = Demuxer::open(path).unwrap().video_track().unwrap().codec.video().unwrap();
    if !decodable(codec) {
        eprintln!("note: {} not decoded by {:?} here", path.display(), engine());
        return true;
    }
    false
}
