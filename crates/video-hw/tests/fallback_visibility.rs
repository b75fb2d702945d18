//! Fallback visibility: an `Auto` decoder on a machine where NVDEC cannot run falls back
//! to the software engine (FFmpeg's where FFmpeg is loaded, else OpenH264) with exactly
//! one WARN line (tracing) and one increment of
//! `video_hw_fallback_total{from="nvdec",to=<that engine>,reason="unavailable"}` (metrics).
//! Where NVDEC is available (a GPU machine) it is picked and no fallback is reported.
//! An explicit engine never reports a fallback.

use crate::common;

use common::observe::observe;
use video_hw::registry::probe_all;
use video_hw::{Codec, Decoder, DecoderConfig, Direction, Engine, EnginePreference};

fn nvdec_available(codec: Codec) -> bool {
    probe_all(0)
        .iter()
        .any(|r| r.engine == Engine::Nvdec && r.codec == codec && r.direction == Direction::Decode && r.available)
}

#[test]
fn auto_decoder_fallback_is_logged_once_and_counted() {
    let gpu = nvdec_available(Codec::H264);
    let (engine, counters, lines) =
        observe(|| Decoder::open(DecoderConfig::new(Codec::H264)).expect("an H.264 decoder opens").engine());
    let fallbacks: Vec<_> = counters.iter().filter(|(k, _)| k.starts_with("video_hw_fallback_total")).collect();
    let warns: Vec<_> = lines.iter().filter(|l| l.contains("WARN")).collect();
    if gpu {
        assert_eq!(engine, Engine::Nvdec, "NVDEC is available, so Auto picks it");
        assert!(fallbacks.iter().all(|(_, n)| *n == 0), "no fallback expected: {fallbacks:?}");
        assert!(warns.is_empty(), "no WARN expected: {warns:?}");
        return;
    }
    // The software engine: FFmpeg's where FFmpeg is loaded, else OpenH264.
    let sw = if common::ffmpeg_loaded() { Engine::Ffmpeg } else { Engine::OpenH264 };
    assert_eq!(engine, sw);
    assert_eq!(
        fallbacks,
        vec![&(format!("video_hw_fallback_total{{from=nvdec,reason=unavailable,to={sw}}}"), 1)],
        "counters: {counters:?}"
    );
    assert_eq!(warns.len(), 1, "one WARN line: {lines:?}");
    assert!(warns[0].contains(&format!("falling back from nvdec to {sw}")), "{}", warns[0]);
}

#[test]
fn explicit_engine_reports_no_fallback() {
    let cfg = DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::OpenH264));
    let (engine, counters, lines) = observe(|| Decoder::open(cfg).expect("openh264 opens").engine());
    assert_eq!(engine, Engine::OpenH264);
    assert!(counters.iter().all(|(k, n)| !k.starts_with("video_hw_fallback_total") || *n == 0), "{counters:?}");
    assert!(lines.iter().all(|l| !l.contains("WARN")), "{lines:?}");
}

#[test]
fn require_hardware_without_gpu_fails_without_fallback() {
    if nvdec_available(Codec::H264) {
        return;
    }
    let cfg = DecoderConfig::new(Codec::H264).require_hardware(true);
    let (result, counters, lines) = observe(|| Decoder::open(cfg).map(|d| d.engine()));
    let e = result.expect_err("no hardware engine here");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(counters.iter().all(|(_, n)| *n == 0), "{counters:?}");
    assert!(lines.iter().all(|l| !l.contains("WARN")), "{lines:?}");
}

#[test]
fn prepare_names_the_engine_later_sessions_get() {
    let cfg = DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::OpenH264));
    let engine = Decoder::prepare(&cfg).expect("openh264 prepares");
    assert!(engine.starts_with("openh264"), "{engine}");
    let session = Decoder::open(cfg).expect("openh264 opens after prepare");
    assert_eq!(session.backend(), engine);
    // A configuration no engine can serve fails in prepare, as its open would.
    let av1 = DecoderConfig::new(Codec::Av1).engine(EnginePreference::Only(Engine::OpenH264));
    assert!(Decoder::prepare(&av1).is_err(), "OpenH264 does not decode AV1");
}
