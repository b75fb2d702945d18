//! The AVI fixtures of `testdata/media/` (`scripts/make-media-fixtures.sh`) decoded through
//! [`FrameReader`]: every frame bit-exact against ffmpeg's `.framemd5`, the frame count
//! exact, and frames asked for out of order equal to the straight decode; the same for a
//! copy of each located only by an OpenDML index (made from its `idx1`, which is then
//! renamed). H.264 with OpenH264 and FFmpeg; MPEG-4 Part 2 (B-frames, and DivX's packed
//! bitstream, which the demuxer unpacks) and MJPEG with FFmpeg only. Their frames' pts are
//! ffmpeg's. The audio tracks decode too (PCM and MP3 with the built-in engine).

use crate::common;

use video_hw::audio::{AudioDecoder, AudioOptions};
use video_hw::media::{AudioCodec, Container, Demuxer, TrackCodec};
use video_hw::reader::FrameReader;
use video_hw::{Codec, DecoderConfig, Engine, EnginePreference, Output, PixelFormat};

use std::path::{Path, PathBuf};

/// Each clip's fixture, and its copy located only by an OpenDML index (in `dir`).
fn variants(clip: &Clip, dir: &Path) -> [(String, PathBuf); 2] {
    let fixture = common::media(clip.file);
    let copy = dir.join(format!("odml-{}", clip.file));
    std::fs::write(&copy, video_hw_media::test_support::with_opendml_index(&std::fs::read(&fixture).unwrap(), false))
        .unwrap();
    [(clip.file.to_string(), fixture), (format!("{} (OpenDML index only)", clip.file), copy)]
}

struct Clip {
    file: &'static str,
    codec: Codec,
    audio: AudioCodec,
    engines: &'static [Engine],
}

const CLIPS: [Clip; 4] = [
    Clip {
        file: "h264-aac.avi",
        codec: Codec::H264,
        audio: AudioCodec::Aac,
        engines: &[Engine::OpenH264, Engine::Ffmpeg],
    },
    Clip { file: "mpeg4-mp3.avi", codec: Codec::Mpeg4, audio: AudioCodec::Mp3, engines: &[Engine::Ffmpeg] },
    Clip { file: "mpeg4-packed.avi", codec: Codec::Mpeg4, audio: AudioCodec::Mp3, engines: &[Engine::Ffmpeg] },
    Clip { file: "mjpeg-pcm.avi", codec: Codec::Mjpeg, audio: AudioCodec::Pcm, engines: &[Engine::Ffmpeg] },
];

fn reader(clip: &Clip, path: &Path, engine: Engine) -> FrameReader {
    let d = Demuxer::open(path).unwrap();
    assert_eq!(d.container(), Container::Avi);
    let track = d.video_track().unwrap_or_else(|| panic!("{}: no video track", clip.file)).index;
    let config = DecoderConfig::new(clip.codec)
        .output(Output::Host(PixelFormat::Yuv420p))
        .engine(EnginePreference::Only(engine));
    FrameReader::new(d, track, config).unwrap_or_else(|e| panic!("{}: {e}", clip.file))
}

#[test]
fn tracks_name_codecs() {
    for clip in &CLIPS {
        let d = Demuxer::open(common::media(clip.file)).unwrap();
        assert_eq!(d.tracks()[0].codec.video(), Some(clip.codec), "{}", clip.file);
        assert_eq!(d.tracks()[1].codec, TrackCodec::Audio(clip.audio), "{}", clip.file);
    }
}

#[test]
fn every_frame_is_exact_in_order_and_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    for clip in &CLIPS {
        let mut p = common::media(clip.file).into_os_string();
        p.push(".framemd5");
        let reference = common::read_framemd5(std::path::Path::new(&p));
        let want: Vec<(usize, String)> = reference.iter().map(|r| (r.size, r.md5.clone())).collect();
        let want_pts: Vec<Option<i64>> = reference.iter().map(|r| Some(r.pts)).collect();
        for ((name, path), &engine) in
            variants(clip, dir.path()).iter().flat_map(|v| clip.engines.iter().map(move |e| (v, e)))
        {
            if engine == Engine::Ffmpeg && !common::ffmpeg_loaded() {
                eprintln!("{name}: no FFmpeg here, its decode is not checked");
                continue;
            }
            let what = format!("{name} with {engine:?}");
            let mut r = reader(clip, path, engine);
            assert_eq!(r.len(), want.len(), "{what}: frames in the index");
            let mut frames = Vec::new();
            while let Some(f) = r.next_frame().unwrap_or_else(|e| panic!("{what}: {e}")) {
                frames.push(f);
            }
            let got: Vec<(usize, String)> = frames.iter().map(common::frame_md5).collect();
            assert_eq!(got.len(), want.len(), "{what}: frame count");
            assert_eq!(got, want, "{what}: frames differ from ffmpeg's");
            let index_pts: Vec<Option<i64>> = r.index().frames().iter().map(|f| Some(f.pts)).collect();
            assert_eq!(frames.iter().map(|f| f.pts).collect::<Vec<_>>(), index_pts, "{what}: pts");
            // H.264 in AVI has no presentation times: ffmpeg's are its own guess (two
            // frame slots late, at half the clock), the frame index orders by order counts.
            if clip.codec != Codec::H264 {
                assert_eq!(index_pts, want_pts, "{what}: pts against ffmpeg's");
            }

            let n = want.len();
            let mut fresh = reader(clip, path, engine);
            let asked: Vec<usize> = [n - 1, 7, 3, n / 2, 0, n / 2 + 1].into_iter().filter(|&i| i < n).collect();
            let got = fresh.frames_at(&asked).unwrap_or_else(|e| panic!("{what}: {e}"));
            for (&i, f) in asked.iter().zip(&got) {
                assert_eq!(common::frame_md5(f), want[i], "{what}: frame {i} among {asked:?}");
            }
            let mut fresh = reader(clip, path, engine);
            for i in (0..n).rev().step_by(7) {
                let f = fresh.frames_at(&[i]).unwrap_or_else(|e| panic!("{what}: frame {i}: {e}"));
                assert_eq!(common::frame_md5(&f[0]), want[i], "{what}: frame {i} alone");
            }
        }
    }
}

#[test]
fn pcm_and_mp3_audio_decode() {
    for clip in CLIPS.iter().filter(|c| matches!(c.audio, AudioCodec::Pcm | AudioCodec::Mp3)) {
        let options = AudioOptions { engine: EnginePreference::Only(Engine::Symphonia), ..AudioOptions::default() };
        let mut dec =
            AudioDecoder::open(common::media(clip.file), options).unwrap_or_else(|e| panic!("{}: {e}", clip.file));
        let all = dec.get_all_samples().unwrap_or_else(|e| panic!("{}: {e}", clip.file));
        let seconds = all.data.len() as f64 / all.channels as f64 / f64::from(all.sample_rate);
        // 0.4 s of PCM, 2 s of MP3 (the encoder's delay dropped).
        let want = if clip.audio == AudioCodec::Pcm { 0.4 } else { 2.0 };
        assert!((seconds - want).abs() < 0.05, "{}: {seconds} s of audio", clip.file);
        assert_eq!(dec.damaged_packets(), 0, "{}", clip.file);
    }
}
