//! [`AutoReader`] without a GPU (the CI machine): every call goes to the CPU, frames equal to
//! a plain reader's on the software engine, the choice and its reason reported; a side can
//! be forced; a stream no software engine decodes is refused at open. On a GPU the same
//! reader sends calls there: `tests/gpu_reader.rs`.

use crate::common;

use video_hw::device_choice::Processor;
use video_hw::media::Demuxer;
use video_hw::reader::{AutoReader, FrameReader};
use video_hw::{DecoderConfig, EnginePreference, Output, PixelFormat};

fn md5s(frames: &[std::sync::Arc<video_hw::Frame>]) -> Vec<String> {
    frames.iter().map(|f| common::frame_md5(f).1).collect()
}

/// The frames `asked` of `name` through a plain reader on the CPU's engine.
fn plain(name: &str, asked: &[usize]) -> Vec<String> {
    let path = common::media(name);
    let d = Demuxer::open(&path).unwrap();
    let t = d.video_track().unwrap();
    let (track, codec) = (t.index, t.codec.video().unwrap());
    let engine = video_hw::registry::software_decode_engine(codec).unwrap();
    let config =
        DecoderConfig::new(codec).output(Output::Host(PixelFormat::Yuv420p)).engine(EnginePreference::Only(engine));
    md5s(&FrameReader::new(d, track, config).unwrap().frames_at(asked).unwrap())
}

#[test]
fn without_a_gpu_every_call_is_the_cpus_and_exact() {
    if video_hw::registry::device_decode_engine().is_some() {
        eprintln!("note: a GPU engine is here; tests/gpu_reader.rs covers this reader");
        return;
    }
    let mut r = AutoReader::open(common::media("h264-aac.mp4"), PixelFormat::Yuv420p).unwrap().force(None);
    assert_eq!(r.len(), 100);
    assert!(r.last_choice().is_none());
    assert!(r.backend().starts_with("auto -> cpu: "), "{}", r.backend());
    for asked in [vec![0, 5, 9], (0..100).collect::<Vec<_>>(), vec![99, 3, 3, 50]] {
        let got = md5s(&r.frames_at(&asked).unwrap());
        assert_eq!(got, plain("h264-aac.mp4", &asked), "{asked:?}");
        let choice = r.last_choice().unwrap();
        assert_eq!(choice.processor, Processor::Cpu, "{choice:?}");
        assert!(!choice.why.is_empty());
        assert!(choice.estimate.cpu_s.is_some(), "{choice:?}");
    }
    assert_eq!(r.calls(), (3, 0));
    // A forced GPU where there is none: the model decides, and it is the CPU.
    let mut r = r.force(Some(Processor::Gpu));
    r.frames_at(&[1]).unwrap();
    assert_eq!(r.last_choice().unwrap().processor, Processor::Cpu);
    // The CPU forced: said so.
    let mut r = r.force(Some(Processor::Cpu));
    r.frames_at(&[2]).unwrap();
    let choice = r.last_choice().unwrap();
    assert_eq!((choice.processor, choice.why.as_str()), (Processor::Cpu, "VIDEO_HW_AUTO=cpu"));
}

#[test]
fn a_stream_no_software_engine_decodes_is_refused_at_open() {
    // HEVC has a software engine only through FFmpeg.
    if common::ffmpeg_loaded() {
        let mut r = AutoReader::open(common::media("hevc-aac.mkv"), PixelFormat::Yuv420p).unwrap();
        let asked = [0, 10, 20];
        assert_eq!(md5s(&r.frames_at(&asked).unwrap()), plain("hevc-aac.mkv", &asked));
    } else if video_hw::registry::device_decode_engine().is_none() {
        let e = AutoReader::open(common::media("hevc-aac.mkv"), PixelFormat::Yuv420p).unwrap_err();
        assert!(e.to_string().contains("no software engine"), "{e}");
    }
}
