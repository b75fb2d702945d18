//! Which engine takes AV1 and VP9 on Auto, with and without FFmpeg loaded (none found, or
//! `VIDEO_HW_FFMPEG_DIR=none`). AV1 always has an engine: FFmpeg's where it is loaded, else
//! the built-in rav1d. VP9 has none without FFmpeg (or a GPU that decodes it), and the
//! refusal names every engine and why (FFmpeg's reason: why none is loaded).

use crate::common;

use video_hw::{Codec, Decoder, DecoderConfig, Engine, Error, Output};

#[test]
fn av1_opens_on_ffmpeg_where_loaded_else_on_the_built_in_rav1d() {
    let ffmpeg = common::ffmpeg_loaded();
    let dec =
        Decoder::open(DecoderConfig::new(Codec::Av1).output(Output::HOST_YUV420P)).expect("AV1 always has an engine");
    match dec.engine() {
        // A GPU whose NVDEC decodes AV1 may take it (never the case on CI).
        Engine::Nvdec => {}
        Engine::Ffmpeg => assert!(ffmpeg, "{}", dec.backend()),
        Engine::Rav1d => {
            // A loaded FFmpeg is passed over only when it cannot decode AV1 itself.
            let only_ffmpeg = DecoderConfig::new(Codec::Av1)
                .output(Output::HOST_YUV420P)
                .engine(video_hw::EnginePreference::Only(Engine::Ffmpeg));
            assert!(
                !ffmpeg || Decoder::open(only_ffmpeg).is_err(),
                "FFmpeg decodes AV1, yet Auto took {}",
                dec.backend()
            );
        }
        other => panic!("AV1 opened on {other}: {}", dec.backend()),
    }
}

#[test]
fn vp9_without_ffmpeg_is_unsupported_naming_the_engines() {
    let ffmpeg = common::ffmpeg_loaded();
    match Decoder::open(DecoderConfig::new(Codec::Vp9).output(Output::HOST_YUV420P)) {
        // A GPU whose NVDEC decodes VP9 takes it.
        Ok(dec) if dec.engine() == Engine::Nvdec => {}
        Ok(dec) => {
            assert!(ffmpeg, "VP9 opened on {} with no FFmpeg loaded", dec.backend());
            assert_eq!(dec.engine(), Engine::Ffmpeg, "{}", dec.backend());
        }
        Err(Error::Unsupported { what, why }) => {
            assert!(!ffmpeg, "FFmpeg is loaded, yet VP9 is refused: {what}: {why}");
            assert!(what.contains("vp9"), "{what}");
            for engine in ["nvdec", "ffmpeg", "rav1d", "openh264"] {
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
