//! AV1 and VP9 without the `ffmpeg` feature: no engine of a default build decodes AV1
//! without a GPU that has it, and the refusal names every engine and why.

use video_hw::{Codec, Decoder, DecoderConfig, Engine, Error, Output};

#[cfg(not(feature = "ffmpeg"))]
#[test]
fn av1_without_ffmpeg_is_unsupported_naming_the_engines() {
    match Decoder::open(DecoderConfig::new(Codec::Av1).output(Output::HOST_YUV420P)) {
        // A GPU whose NVDEC decodes AV1 may take it (never the case on CI).
        Ok(dec) => assert_eq!(dec.engine(), Engine::Nvdec, "{}", dec.backend()),
        Err(Error::Unsupported { what, why }) => {
            assert!(what.contains("av1"), "{what}");
            for engine in ["nvdec", "ffmpeg", "openh264"] {
                assert!(why.contains(engine), "{engine} not named: {why}");
            }
            assert!(why.contains("`ffmpeg` feature"), "{why}");
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
