//! AV1 and VP9 where no FFmpeg is loaded (none found, or `VIDEO_HW_FFMPEG_DIR=none`): no
//! engine decodes AV1 without a GPU that has it, and the refusal names every engine and
//! why (FFmpeg's reason: why none is loaded). Where FFmpeg is loaded, Auto takes AV1 to it.

mod common;

use video_hw::{Codec, Decoder, DecoderConfig, Engine, Error, Output};

#[test]
fn av1_without_ffmpeg_is_unsupported_naming_the_engines() {
    let ffmpeg = common::ffmpeg_loaded();
    match Decoder::open(DecoderConfig::new(Codec::Av1).output(Output::HOST_YUV420P)) {
        // A GPU whose NVDEC decodes AV1 may take it (never the case on CI).
        Ok(dec) if dec.engine() == Engine::Nvdec => {}
        Ok(dec) => {
            assert!(ffmpeg, "AV1 opened on {} with no FFmpeg loaded", dec.backend());
            assert_eq!(dec.engine(), Engine::Ffmpeg, "{}", dec.backend());
        }
        Err(Error::Unsupported { what, why }) => {
            assert!(!ffmpeg, "FFmpeg is loaded, yet AV1 is refused: {what}: {why}");
            assert!(what.contains("av1"), "{what}");
            for engine in ["nvdec", "ffmpeg", "openh264"] {
                assert!(why.contains(engine), "{engine} not named: {why}");
            }
            let rt = video_hw::registry::ffmpeg_runtime();
            assert!(
                why.contains(&format!("ffmpeg: {}", rt.summary)),
                "FFmpeg's reason ({}) not given: {why}",
                rt.summary
            );
        }
        Err(e) => panic!("expected Unsupported, got {e}"),
    }
}

#[test]
fn openh264_refuses_av1_and_vp9() {
    for codec in [Codec::Av1, Codec::Vp9] {
        let config = DecoderConfig::new(codec)
            .output(Output::HOST_YUV420P)
            .engine(video_hw::EnginePreference::Only(Engine::OpenH264));
        let e = Decoder::open(config).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{codec}: {e}");
    }
}
