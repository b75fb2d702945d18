//! The mapping table of `encoder_options.rs`, per encoder family: option names and values,
//! and every `Unsupported`, as data (no FFmpeg needed).

use super::*;
use crate::codec::PixelFormat;

fn spec_named(name: &str) -> &'static EncoderSpec {
    ENCODERS.iter().find(|s| s.name == name).unwrap()
}

fn unsupported(name: &str, config: &EncoderConfig) -> String {
    match plan(spec_named(name), config) {
        Err(e @ Error::Unsupported { .. }) => {
            let s = e.to_string();
            assert!(s.contains(name), "the error names the encoder: {s}");
            s
        }
        other => panic!("{name}: expected Unsupported, got {other:?}"),
    }
}

#[test]
fn every_engine_codec_pair_has_at_most_one_encoder() {
    for (i, a) in ENCODERS.iter().enumerate() {
        for b in &ENCODERS[i + 1..] {
            assert!((a.engine, a.codec) != (b.engine, b.codec), "{} and {}", a.name, b.name);
        }
    }
    assert_eq!(encoder_for(Engine::Ffmpeg, Codec::H264).unwrap().name, "libx264");
    let e = encoder_for(Engine::Ffmpeg, Codec::Vp9).unwrap_err();
    assert!(e.to_string().contains("libx264, libx265, libsvtav1"), "{e}");
    assert!(encoder_for(Engine::Nvenc, Codec::H264).is_err());
}

#[test]
fn x264_cbr_gop_bframes_preset() {
    let cfg = EncoderConfig::new(Codec::H264, 1920, 1080)
        .rate_control(RateControl::Cbr { bitrate: 8_000_000 })
        .gop(60)
        .b_frames(2)
        .preset(Preset::Fast);
    let p = plan(spec_named("libx264"), &cfg).unwrap();
    for (k, v) in [
        ("preset", "fast"),
        ("b", "8000000"),
        ("maxrate", "8000000"),
        ("bufsize", "8000000"),
        ("g", "60"),
        ("keyint_min", "60"),
        ("sc_threshold", "0"),
        ("bf", "2"),
        ("forced-idr", "1"),
        ("flags", "+global_header"),
    ] {
        assert_eq!(p.get(k), Some(v), "{k}: {}", p.cli_args());
    }
    assert_eq!(p.force_keyframe, ForceKeyframe::PictTypeI);
    assert!(p.cli_args().starts_with("-c:v libx264 -preset fast "), "{}", p.cli_args());
    assert!(p.cli_args().contains(" -b:v 8000000 "), "{}", p.cli_args());
}

#[test]
fn constant_qp_offsets_become_ratios() {
    let cfg = EncoderConfig::new(Codec::H264, 64, 64).rate_control(RateControl::ConstQp { i: 20, p: 26, b: 32 });
    let p = plan(spec_named("libx264"), &cfg).unwrap();
    assert_eq!((p.get("qp"), p.get("i_qfactor"), p.get("b_qfactor")), (Some("26"), Some("0.500000"), Some("2.000000")));
    let p = plan(spec_named("libx265"), &cfg.clone().tuning(Tuning::HighQuality)).unwrap();
    let params = p.get("x265-params").unwrap();
    assert!(params.contains("ipratio=2.000000") && params.contains("pbratio=2.000000"), "{params}");
    let p = plan(spec_named("h264_vaapi"), &cfg).unwrap();
    assert_eq!((p.get("rc_mode"), p.get("i_qoffset"), p.get("b_qoffset")), (Some("CQP"), Some("-6"), Some("6")));
    let p = plan(spec_named("h264_qsv"), &cfg).unwrap();
    assert_eq!((p.get("global_quality"), p.get("flags")), (Some("3068"), Some("+global_header+qscale")));
    let p = plan(spec_named("h264_amf"), &cfg).unwrap();
    assert_eq!((p.get("qp_i"), p.get("qp_p"), p.get("qp_b")), (Some("20"), Some("26"), Some("32")));
}

#[test]
fn x265_parameters_are_collected() {
    let cfg = EncoderConfig::new(Codec::Hevc, 64, 64).gop(30).rate_control(RateControl::ConstQuality { q: 28 });
    let p = plan(spec_named("libx265"), &cfg).unwrap();
    assert_eq!(p.get("crf"), Some("28"));
    assert_eq!(p.get("x265-params"), Some("scenecut=0:open-gop=0:log-level=error"));
    assert_eq!(p.get("keyint_min"), Some("30"));
}

#[test]
fn low_latency_and_lossless() {
    let ll = EncoderConfig::new(Codec::H264, 64, 64).tuning(Tuning::LowLatency);
    assert_eq!(plan(spec_named("libx264"), &ll).unwrap().get("tune"), Some("zerolatency"));
    assert_eq!(plan(spec_named("h264_amf"), &ll).unwrap().get("usage"), Some("lowlatency"));
    assert_eq!(plan(spec_named("h264_vaapi"), &ll).unwrap().get("async_depth"), Some("1"));
    let lossless = EncoderConfig::new(Codec::H264, 64, 64).tuning(Tuning::Lossless);
    let p = plan(spec_named("libx264"), &lossless).unwrap();
    assert_eq!((p.get("qp"), p.get("b"), p.get("maxrate")), (Some("0"), None, None));
    for name in ["libsvtav1", "h264_qsv", "h264_vaapi", "h264_videotoolbox", "h264_amf"] {
        let codec = spec_named(name).codec;
        let s = unsupported(name, &EncoderConfig::new(codec, 64, 64).tuning(Tuning::Lossless));
        assert!(s.contains("lossless"), "{s}");
    }
}

#[test]
fn unsupported_settings_are_named() {
    let av1 = EncoderConfig::new(Codec::Av1, 64, 64);
    assert!(unsupported("libsvtav1", &av1.clone().b_frames(2)).contains("B-frames"));
    assert!(unsupported("libsvtav1", &av1.clone().layout(PacketLayout::LengthPrefixed)).contains("length-prefixed"));
    let cqp = RateControl::ConstQp { i: 20, p: 20, b: 20 };
    assert!(unsupported("libsvtav1", &av1.clone().rate_control(cqp)).contains("constant QP"));
    assert!(
        unsupported("h264_videotoolbox", &EncoderConfig::new(Codec::H264, 64, 64).rate_control(cqp))
            .contains("constant QP")
    );
    let cq = RateControl::ConstQuality { q: 20 };
    assert!(unsupported("h264_amf", &EncoderConfig::new(Codec::H264, 64, 64).rate_control(cq)).contains("quality"));
    let mut la = EncoderConfig::new(Codec::Hevc, 64, 64);
    la.lookahead = Some(8);
    assert!(unsupported("hevc_vaapi", &la).contains("look-ahead"));
    assert!(unsupported("hevc_qsv", &la).contains("look-ahead"));
    assert!(unsupported("hevc_amf", &EncoderConfig::new(Codec::Hevc, 64, 64).b_frames(1)).contains("B-frames"));
    let ten = EncoderConfig::new(Codec::H264, 64, 64).input_format(PixelFormat::P010);
    assert!(unsupported("h264_vaapi", &ten).contains("8-bit only"));
    let mut qr = EncoderConfig::new(Codec::H264, 64, 64);
    qr.qp_range = Some((10, 40));
    assert!(unsupported("h264_videotoolbox", &qr).contains("QP"));
    let vbr = RateControl::Vbr { avg: 1_000_000, max: 2_000_000 };
    assert!(unsupported("libsvtav1", &av1.rate_control(vbr)).contains("peak"));
}

#[test]
fn svt_av1_rate_control_and_quality_scale() {
    let cfg = EncoderConfig::new(Codec::Av1, 64, 64).rate_control(RateControl::ConstQuality { q: 51 });
    assert_eq!(plan(spec_named("libsvtav1"), &cfg).unwrap().get("crf"), Some("63"));
    let cbr = EncoderConfig::new(Codec::Av1, 64, 64);
    let p = plan(spec_named("libsvtav1"), &cbr).unwrap();
    assert_eq!(p.get("svtav1-params"), Some("rc=2:pred-struct=1"));
    assert!(matches!(p.force_keyframe, ForceKeyframe::Unsupported(_)));
    let amf = plan(spec_named("h264_amf"), &EncoderConfig::new(Codec::H264, 64, 64)).unwrap();
    assert!(matches!(amf.force_keyframe, ForceKeyframe::Unsupported(_)));
    let vaapi = plan(spec_named("h264_vaapi"), &EncoderConfig::new(Codec::H264, 64, 64)).unwrap();
    assert_eq!(vaapi.force_keyframe, ForceKeyframe::PictTypeI);
}

#[test]
fn every_encoder_plans_the_default_config() {
    for s in ENCODERS {
        let p = plan(s, &EncoderConfig::new(s.codec, 320, 240)).unwrap();
        assert_eq!(p.options.last().map(|o| o.name), Some("flags"), "{}", s.name);
        for preset in Preset::ALL {
            plan(s, &EncoderConfig::new(s.codec, 320, 240).preset(preset)).unwrap();
        }
    }
}
