//! The toy GPU engine decodes through the public sessions exactly as the engine it wraps:
//! the same frames, bit for bit, and as many, in device memory that is all given back.

use std::path::PathBuf;
use std::sync::Arc;

use crate::codec::{Codec, PixelFormat};
use crate::config::{DecoderConfig, Output};
use crate::decoder::{Decoder, Input};
use crate::engine::{Direction, Engine, EnginePreference};
use crate::frame::{DeviceApi, Frame, FrameData};
use crate::media::Demuxer;
use crate::reader::FrameReader;

fn media(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media").join(name)
}

/// NV12 in the toy device's memory.
const TOY_NV12: Output = Output::Device(DeviceApi::Toy, PixelFormat::Nv12);

fn only(engine: Engine, output: Output) -> DecoderConfig {
    DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(engine)).output(output)
}

/// Every frame of `name`'s video track decoded by a session of `config`.
fn decode_all(name: &str, config: DecoderConfig) -> (Vec<Frame>, Engine) {
    let mut demuxer = Demuxer::open(media(name)).unwrap();
    let track = demuxer.video_track().unwrap().clone();
    let mut dec = Decoder::open(config).unwrap();
    let mut frames = Vec::new();
    while let Some(packet) = demuxer.next_packet().unwrap() {
        if packet.track != track.index {
            continue;
        }
        dec.submit(Input::from_media(&track, &packet)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    (frames, dec.engine())
}

/// A frame's pixels in host memory, packed.
fn pixels(frame: &Frame) -> Vec<u8> {
    frame.to_host().unwrap().to_packed(frame.format, frame.width, frame.height).unwrap().as_bytes().to_vec()
}

#[test]
fn the_toy_engine_decodes_device_frames_bit_exact_with_the_engine_it_wraps() {
    for name in ["h264-aac.mp4", "h264-ref2.mkv"] {
        let (reference, engine) = decode_all(name, only(Engine::OpenH264, Output::HOST_NV12));
        assert_eq!(engine, Engine::OpenH264);
        let (toy, engine) = decode_all(name, only(Engine::Toy, TOY_NV12));
        assert_eq!(engine, Engine::Toy, "{name}");
        assert!(!reference.is_empty(), "{name}: no frames");
        assert_eq!(toy.len(), reference.len(), "{name}: frame count");
        for (i, (t, r)) in toy.iter().zip(&reference).enumerate() {
            let FrameData::Device(device) = &t.data else { panic!("{name} frame {i}: not a device frame") };
            assert_eq!(device.api(), DeviceApi::Toy, "{name} frame {i}");
            assert_eq!(device.format(), PixelFormat::Nv12);
            assert_eq!((t.pts, t.keyframe, t.width, t.height), (r.pts, r.keyframe, r.width, r.height), "{name} {i}");
            assert!(pixels(t) == pixels(r), "{name} frame {i}: pixels differ");
        }
        let memory = toy.iter().find_map(|f| match &f.data {
            FrameData::Device(c) => {
                c.lease.as_ref().and_then(|l| l.downcast_ref::<super::ToyLease>()).map(|l| l.memory.clone())
            }
            _ => None,
        });
        let memory = memory.expect("toy frames hold toy memory");
        assert_eq!(memory.live(), toy.len(), "{name}: one allocation per frame held");
        drop(toy);
        assert_eq!(memory.live(), 0, "{name}: device memory given back");
    }
}

#[test]
fn the_toy_engine_reads_frames_through_the_frame_reader_like_the_engine_it_wraps() {
    let name = "h264-aac.mp4";
    let reader = |engine: Engine| {
        let demuxer = Demuxer::open(media(name)).unwrap();
        let track = demuxer.video_track().unwrap().index;
        FrameReader::new(demuxer, track, only(engine, Output::HOST_YUV420P)).unwrap()
    };
    let (mut toy, mut reference) = (reader(Engine::Toy), reader(Engine::OpenH264));
    let n = reference.len();
    assert!(n > 10, "{name}: {n} frames");
    // Random access, backwards, repeats and a run forward.
    let wanted: Vec<usize> = vec![n - 1, 0, n / 2, 3, n / 2 + 1, n / 3, 1, n - 2];
    let got: Vec<Arc<Frame>> = toy.frames_at(&wanted).unwrap();
    let want: Vec<Arc<Frame>> = reference.frames_at(&wanted).unwrap();
    assert_eq!(got.len(), want.len());
    for ((g, w), f) in got.iter().zip(&want).zip(&wanted) {
        assert!(pixels(g) == pixels(w), "{name} frame {f}: pixels differ");
    }
    let all_toy: Vec<Vec<u8>> = toy.frames_from_index(0).unwrap().map(|f| pixels(&f.unwrap())).collect();
    let all_ref: Vec<Vec<u8>> = reference.frames_from_index(0).unwrap().map(|f| pixels(&f.unwrap())).collect();
    assert_eq!(all_toy.len(), n);
    assert_eq!(all_toy.len(), all_ref.len());
    assert!(all_toy == all_ref, "{name}: sequential frames differ");
    assert_eq!(toy.prepare().unwrap(), Engine::Toy);
}

#[test]
fn auto_never_picks_the_toy_engine_and_it_says_what_it_is() {
    let auto = DecoderConfig::new(Codec::H264);
    assert_ne!(crate::registry::decode_engine(&auto).unwrap(), Engine::Toy);
    let cuda = auto.clone().output(Output::CUDA_NV12);
    assert_ne!(crate::registry::decode_engine(&cuda).ok(), Some(Engine::Toy));
    let toy_output = auto.clone().output(TOY_NV12);
    assert_ne!(crate::registry::decode_engine(&toy_output).ok(), Some(Engine::Toy));
    assert!(Engine::Toy.is_hardware() && Engine::Toy.device_api() == Some(DeviceApi::Toy));
    assert!(!Engine::Toy.gives_cuda_frames());
    assert!(Engine::Toy.handles(Direction::Decode) && !Engine::Toy.handles(Direction::Encode));
    assert!(crate::registry::probe(Engine::Toy, Codec::H264, Direction::Decode, 0).available);
    assert!(!crate::registry::probe(Engine::Toy, Codec::Hevc, Direction::Decode, 0).available);
    // Named, it opens; output in its device's memory needs no upload.
    assert_eq!(crate::registry::decode_engine(&only(Engine::Toy, TOY_NV12)).unwrap(), Engine::Toy);
    // CUDA output asked of it is refused when the configuration is checked: a hardware
    // engine of another device's world is not copied through the host.
    let err = only(Engine::Toy, Output::CUDA_NV12).validate().unwrap_err();
    assert!(err.to_string().contains("CUDA output with toy"), "{err}");
}
