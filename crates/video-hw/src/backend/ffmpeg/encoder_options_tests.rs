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

/// `choose` against FFmpeg builds described by the encoders they have.
fn chosen(engine: Engine, codec: Codec, present: &[&str]) -> Result<Choice> {
    choose(engine, codec, "libavcodec 59.37.100", |name| present.contains(&name))
}

#[test]
fn the_first_candidate_this_ffmpeg_has_is_chosen() {
    let all = ["libx264", "libx265", "libsvtav1", "libaom-av1", "h264_vaapi"];
    // Only FFmpeg's AV1 has two candidates; every other pair has one.
    for (i, a) in ENCODERS.iter().enumerate() {
        for b in &ENCODERS[i + 1..] {
            let pair = (a.engine, a.codec) == (b.engine, b.codec);
            assert_eq!(pair, (a.name, b.name) == ("libsvtav1", "libaom-av1"), "{} and {}", a.name, b.name);
        }
    }
    let c = chosen(Engine::Ffmpeg, Codec::Av1, &all).unwrap();
    assert_eq!((c.spec.name, c.passed_over.as_slice()), ("libsvtav1", &[][..]));
    // An FFmpeg without SVT-AV1 (some distributions', some PyAV wheels').
    let c = chosen(Engine::Ffmpeg, Codec::Av1, &["libx264", "libaom-av1"]).unwrap();
    assert_eq!((c.spec.name, c.spec.family), ("libaom-av1", Family::Aom));
    assert_eq!(c.passed_over, ["libsvtav1"]);
    // With neither, both are named, with the build.
    let e = chosen(Engine::Ffmpeg, Codec::Av1, &["libx264"]).unwrap_err().to_string();
    assert!(e.contains("encoders libsvtav1, libaom-av1 not in this FFmpeg build (libavcodec 59.37.100)"), "{e}");
    // One candidate: the message the open and the probe always gave.
    assert_eq!(chosen(Engine::Ffmpeg, Codec::H264, &all).unwrap().spec.name, "libx264");
    let e = chosen(Engine::Vaapi, Codec::Hevc, &all).unwrap_err().to_string();
    assert!(e.contains("encoder hevc_vaapi not in this FFmpeg build (libavcodec 59.37.100)"), "{e}");
    // No candidate at all: what the engine does drive.
    let e = chosen(Engine::Ffmpeg, Codec::Vp9, &all).unwrap_err();
    assert!(e.to_string().contains("libx264, libx265, libsvtav1, libaom-av1"), "{e}");
    assert!(chosen(Engine::Nvenc, Codec::H264, &all).unwrap_err().to_string().contains("no FFmpeg encoder"));
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
fn x265_vbr_is_strict_cbr_at_the_average_under_the_peak() {
    let hevc = EncoderConfig::new(Codec::Hevc, 64, 64);
    let vbr = hevc.clone().rate_control(RateControl::Vbr { avg: 600_000, max: 1_000_000 });
    let p = plan(spec_named("libx265"), &vbr).unwrap();
    // A (peak − average) buffer drained at the average: no second holds more than the peak.
    assert_eq!((p.get("b"), p.get("maxrate"), p.get("bufsize")), (Some("600000"), Some("600000"), Some("400000")));
    assert_eq!(p.get("x265-params"), Some("strict-cbr=1:vbv-init=0.95:open-gop=0:log-level=error"));
    // The peak at the average: one second of VBV at it, as x265 takes a maxrate = bitrate.
    let flat = hevc.rate_control(RateControl::Vbr { avg: 600_000, max: 600_000 });
    let p = plan(spec_named("libx265"), &flat).unwrap();
    assert_eq!((p.get("maxrate"), p.get("bufsize")), (Some("600000"), Some("600000")));
    assert_eq!(p.get("x265-params"), Some("open-gop=0:log-level=error"));
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
}

#[test]
fn svt_av1_rate_control_and_quality_scale() {
    let cfg = EncoderConfig::new(Codec::Av1, 64, 64).rate_control(RateControl::ConstQuality { q: 51 });
    assert_eq!(plan(spec_named("libsvtav1"), &cfg).unwrap().get("crf"), Some("63"));
    let cbr = EncoderConfig::new(Codec::Av1, 64, 64);
    let p = plan_with(spec_named("libsvtav1"), &cbr, Some(1)).unwrap();
    assert_eq!(
        p.get("svtav1-params"),
        Some("rc=2:pred-struct=1:undershoot-pct=100:buf-initial-sz=800:buf-optimal-sz=900")
    );
    assert!(matches!(p.force_keyframe, ForceKeyframe::Unsupported(_)));
    let p = plan_with(spec_named("libsvtav1"), &cbr, Some(4)).unwrap();
    assert!(p.get("svtav1-params").unwrap().contains(":rtc=1:hierarchical-levels=0:"), "{}", p.cli_args());
    // VBR: CBR at the average in a buffer of (peak − average): 1 s × (2M − 1M) / 1M.
    let vbr = cbr.rate_control(RateControl::Vbr { avg: 1_000_000, max: 2_000_000 });
    let p = plan_with(spec_named("libsvtav1"), &vbr, Some(1)).unwrap();
    assert_eq!((p.get("b"), p.get("maxrate")), (Some("1000000"), None));
    assert!(p.get("svtav1-params").unwrap().contains("rc=2:pred-struct=1:undershoot-pct=100:buf-sz=1000:"));
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

#[test]
fn aom_rate_control_and_quality_scale() {
    let av1 = EncoderConfig::new(Codec::Av1, 320, 240);
    let mut cbr = av1.clone().rate_control(RateControl::Cbr { bitrate: 400_000 }).gop(4);
    cbr.threads = Some(1);
    let p = plan(spec_named("libaom-av1"), &cbr).unwrap();
    assert_eq!(
        p.cli_args(),
        "-c:v libaom-av1 -cpu-used 5 -b:v 400000 -minrate 400000 -maxrate 400000 -bufsize 400000 \
         -rc_init_occupancy 240000 -undershoot-pct 100 -lag-in-frames 0 -g 4 -keyint_min 4 -threads 1 -row-mt 1 \
         -aom-params max-intra-rate=150 -flags +global_header"
    );
    assert_eq!(p.force_keyframe, ForceKeyframe::PictTypeI);
    let vbr = av1.clone().rate_control(RateControl::Vbr { avg: 1_000_000, max: 2_000_000 });
    let p = plan(spec_named("libaom-av1"), &vbr).unwrap();
    // libaom's CBR at the average in a buffer of (peak − average).
    assert_eq!(
        (p.get("b"), p.get("maxrate"), p.get("bufsize"), p.get("minrate")),
        (Some("1000000"), Some("1000000"), Some("1000000"), Some("1000000"))
    );
    let cq = av1.clone().rate_control(RateControl::ConstQuality { q: 51 });
    let p = plan(spec_named("libaom-av1"), &cq).unwrap();
    assert_eq!((p.get("b"), p.get("crf")), (Some("0"), Some("63")));
    // Constant QP: one quantizer, pinned by the range; I/P/B offsets are refused.
    let cqp = av1.clone().rate_control(RateControl::ConstQp { i: 30, p: 30, b: 30 });
    let p = plan(spec_named("libaom-av1"), &cqp).unwrap();
    assert_eq!(
        (p.get("crf"), p.get("qmin"), p.get("qmax"), p.get("b")),
        (Some("37"), Some("37"), Some("37"), Some("0"))
    );
    let offsets = RateControl::ConstQp { i: 26, p: 30, b: 32 };
    assert!(unsupported("libaom-av1", &av1.clone().rate_control(offsets)).contains("one quantizer"));
    let mut ranged = cqp;
    ranged.qp_range = Some((20, 40));
    assert!(unsupported("libaom-av1", &ranged).contains("QP range"));
    // A QP range on the 0..63 scale, which must hold the crf (libaomenc refuses otherwise).
    let mut ranged = av1.clone().rate_control(RateControl::ConstQuality { q: 30 });
    ranged.qp_range = Some((10, 40));
    let p = plan(spec_named("libaom-av1"), &ranged).unwrap();
    assert_eq!((p.get("qmin"), p.get("qmax"), p.get("crf")), (Some("12"), Some("49"), Some("37")));
    ranged.qp_range = Some((35, 45));
    assert!(unsupported("libaom-av1", &ranged).contains("outside the QP range"));
}

#[test]
fn aom_presets_tunings_and_refusals() {
    let av1 = EncoderConfig::new(Codec::Av1, 320, 240);
    let cpu: Vec<String> = Preset::ALL
        .iter()
        .map(|&pr| {
            plan(spec_named("libaom-av1"), &av1.clone().preset(pr)).unwrap().get("cpu-used").unwrap().to_string()
        })
        .collect();
    assert_eq!(cpu, ["8", "7", "6", "5", "4", "2", "1"]);
    let ll = plan(spec_named("libaom-av1"), &av1.clone().tuning(Tuning::LowLatency)).unwrap();
    assert_eq!((ll.get("usage"), ll.get("lag-in-frames")), (Some("realtime"), Some("0")));
    // An explicit look-ahead wins over the low-latency default of none, set once.
    let mut la = av1.clone().tuning(Tuning::UltraLowLatency);
    la.lookahead = Some(12);
    let p = plan(spec_named("libaom-av1"), &la).unwrap();
    assert_eq!(p.options.iter().filter(|o| o.name == "lag-in-frames").count(), 1, "{}", p.cli_args());
    assert_eq!(p.get("lag-in-frames"), Some("12"));
    let lossless = plan(spec_named("libaom-av1"), &av1.clone().tuning(Tuning::Lossless)).unwrap();
    assert_eq!((lossless.get("aom-params"), lossless.get("b"), lossless.get("crf")), (Some("lossless=1"), None, None));
    assert!(unsupported("libaom-av1", &av1.clone().b_frames(1)).contains("B-frames"));
    assert!(unsupported("libaom-av1", &av1.clone().layout(PacketLayout::LengthPrefixed)).contains("length-prefixed"));
    // 10-bit input is taken (yuv420p10le); colour goes through the common options.
    let mut ten = av1.input_format(PixelFormat::P010);
    ten.color.primaries = ColorPrimaries(9);
    let p = plan(spec_named("libaom-av1"), &ten).unwrap();
    assert_eq!(p.get("color_primaries"), Some("9"));
}

#[test]
fn an_encoder_is_chosen_by_name_among_its_engines() {
    let all = |_: &str| true;
    let aom = choose_named(Engine::Ffmpeg, Codec::Av1, "libaom-av1", "test", all).unwrap();
    assert_eq!((aom.spec.name, aom.passed_over.len()), ("libaom-av1", 0));
    let e = choose_named(Engine::Ffmpeg, Codec::Av1, "libx264", "test", all).unwrap_err().to_string();
    assert!(e.contains("not one of ffmpeg's av1 encoders (libsvtav1, libaom-av1)"), "{e}");
    let e = choose_named(Engine::Ffmpeg, Codec::Av1, "libaom-av1", "test", |n| n != "libaom-av1").unwrap_err();
    assert!(e.to_string().contains("encoder libaom-av1 not in this FFmpeg build (test)"), "{e}");
    assert_eq!(engine_of("h264_qsv"), Some((Engine::Qsv, Codec::H264)));
    assert_eq!(engine_of("libsvtav1"), Some((Engine::Ffmpeg, Codec::Av1)));
    assert_eq!(engine_of("libvpx-vp9"), None);
}
