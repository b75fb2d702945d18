//! The registry's tests: selection, fallbacks, probes (cached, timed out, panicking),
//! named FFmpeg encoders, and the engine a configuration would open.

use super::*;
use crate::backend::DecoderBackend;
use crate::bitstream::access_unit::AccessUnit;
use crate::frame::Frame;

struct NullDecoder(Engine);
impl DecoderBackend for NullDecoder {
    fn engine(&self) -> Engine {
        self.0
    }
    fn describe(&self) -> String {
        format!("{} (test)", self.0)
    }
    fn decode(&mut self, _: &AccessUnit) -> Result<()> {
        Ok(())
    }
    fn try_reap(&mut self) -> Result<Option<Frame>> {
        Ok(None)
    }
    fn flush(&mut self) -> Result<Vec<Frame>> {
        Ok(Vec::new())
    }
}

fn entry(engine: Engine, probe: ProbeFn) -> EngineEntry {
    EngineEntry {
        engine,
        descriptor: descriptor(engine),
        built: Ok(()),
        probe,
        open_decoder: Some(|engine, _| Ok(Box::new(NullDecoder(engine)) as Box<dyn DecoderBackend>)),
        open_encoder: None,
    }
}

fn ok_probe(_: Engine, _: Codec, _: Direction, _: u32) -> Result<ProbeInfo> {
    Ok(ProbeInfo::default())
}
fn failing_probe(_: Engine, _: Codec, _: Direction, _: u32) -> Result<ProbeInfo> {
    Err(Error::unsupported("nvdec", "libcuda.so.1 not found"))
}
fn panicking_probe(_: Engine, _: Codec, _: Direction, _: u32) -> Result<ProbeInfo> {
    panic!("probe bug")
}
fn hanging_probe(_: Engine, _: Codec, _: Direction, _: u32) -> Result<ProbeInfo> {
    std::thread::sleep(Duration::from_secs(5));
    Ok(ProbeInfo::default())
}

#[test]
fn auto_falls_back_past_failing_probe() {
    let r = Registry::new(vec![entry(Engine::Nvdec, failing_probe), entry(Engine::OpenH264, ok_probe)], PROBE_TIMEOUT);
    let b = r.open_decoder(&DecoderConfig::new(Codec::H264)).unwrap();
    assert_eq!(b.engine(), Engine::OpenH264);
}

#[test]
fn decode_engine_asks_the_probes_and_opens_nothing() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static OPENED: AtomicUsize = AtomicUsize::new(0);
    let counting = |engine, probe| EngineEntry {
        open_decoder: Some(|engine, _| {
            OPENED.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(NullDecoder(engine)) as Box<dyn DecoderBackend>)
        }),
        ..entry(engine, probe)
    };
    let r = Registry::new(
        vec![counting(Engine::Nvdec, failing_probe), counting(Engine::OpenH264, ok_probe)],
        PROBE_TIMEOUT,
    );
    let auto = DecoderConfig::new(Codec::H264);
    assert_eq!(r.decode_engine(&auto).unwrap(), Engine::OpenH264);
    assert_eq!(r.open_decoder(&auto).unwrap().engine(), r.decode_engine(&auto).unwrap());
    let only = auto.clone().engine(EnginePreference::Only(Engine::Nvdec));
    assert!(r.decode_engine(&only).unwrap_err().to_string().contains("libcuda.so.1 not found"));
    let e = r.decode_engine(&auto.clone().require_hardware(true)).unwrap_err().to_string();
    assert!(e.contains("nvdec: libcuda.so.1 not found") && e.contains("hardware is required"), "{e}");
    // CUDA output: NVDEC first; without it, the CPU engine whose frames are uploaded.
    let ok = Registry::new(vec![entry(Engine::OpenH264, ok_probe), entry(Engine::Nvdec, ok_probe)], PROBE_TIMEOUT);
    let cuda = auto.clone().output(Output::Cuda(crate::PixelFormat::Nv12));
    assert_eq!(ok.decode_engine(&cuda).unwrap(), Engine::Nvdec);
    assert_eq!(ok.decode_engine(&auto).unwrap(), Engine::OpenH264);
    assert_eq!(r.decode_engine(&cuda).unwrap(), Engine::OpenH264);
    assert_eq!(OPENED.load(Ordering::SeqCst), 1, "only the open_decoder call above opened");
}

#[test]
fn explicit_engine_never_falls_back() {
    let r = Registry::new(vec![entry(Engine::Nvdec, failing_probe), entry(Engine::OpenH264, ok_probe)], PROBE_TIMEOUT);
    let cfg = DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::Nvdec));
    let e = r.open_decoder(&cfg).err().unwrap();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("libcuda.so.1 not found"), "{e}");
}

#[test]
fn require_hardware_never_falls_back_to_software() {
    let r = Registry::new(vec![entry(Engine::Nvdec, failing_probe), entry(Engine::OpenH264, ok_probe)], PROBE_TIMEOUT);
    let e = r.open_decoder(&DecoderConfig::new(Codec::H264).require_hardware(true)).err().unwrap();
    let msg = e.to_string();
    assert!(msg.contains("nvdec: libcuda.so.1 not found") && msg.contains("hardware is required"), "{msg}");
}

#[test]
fn not_built_engines_are_named_with_their_reason() {
    let r = Registry::new(vec![EngineEntry::not_built(Engine::Ffmpeg, "not compiled in")], PROBE_TIMEOUT);
    let e = r.open_decoder(&DecoderConfig::new(Codec::Hevc)).err().unwrap();
    assert!(e.to_string().contains("ffmpeg: not compiled in"), "{e}");
    let reports = r.probe_all(0);
    assert!(reports.iter().all(|p| !p.available && p.reason == "not compiled in"));
}

#[test]
fn panicking_probe_is_an_error_not_a_crash() {
    let r = Registry::new(vec![entry(Engine::Nvdec, panicking_probe)], PROBE_TIMEOUT);
    let reports = r.probe_all(0);
    assert!(reports.iter().all(|p| !p.available && p.reason == "probe panicked"));
}

#[test]
fn hanging_probe_times_out() {
    let r = Registry::new(vec![entry(Engine::OpenH264, hanging_probe)], Duration::from_millis(300));
    let reports = r.probe_all(0);
    let sw = reports.iter().find(|p| p.engine == Engine::OpenH264).unwrap();
    assert!(sw.reason.contains("timed out"), "{}", sw.reason);
}

#[test]
fn probe_one_asks_only_the_engine_named() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static OTHER: AtomicUsize = AtomicUsize::new(0);
    fn other(_: Engine, _: Codec, _: Direction, _: u32) -> Result<ProbeInfo> {
        OTHER.fetch_add(1, Ordering::SeqCst);
        Ok(ProbeInfo::default())
    }
    let r = Registry::new(vec![entry(Engine::Nvdec, failing_probe), entry(Engine::OpenH264, other)], PROBE_TIMEOUT);
    let nvdec = r.probe_one(Engine::Nvdec, Codec::Hevc, Direction::Decode, 0);
    assert!(!nvdec.available && nvdec.reason == "libcuda.so.1 not found", "{nvdec:?}");
    assert_eq!((nvdec.engine, nvdec.codec, nvdec.direction), (Engine::Nvdec, Codec::Hevc, Direction::Decode));
    assert_eq!(OTHER.load(Ordering::SeqCst), 0);
    assert!(r.probe_one(Engine::OpenH264, Codec::H264, Direction::Decode, 0).available);
    // An engine this registry does not have, or a direction the engine does not handle.
    let missing = r.probe_one(Engine::Amf, Codec::H264, Direction::Decode, 0);
    assert!(!missing.available && missing.reason == "amf cannot decode", "{missing:?}");
    let nvdec_encode = r.probe_one(Engine::Nvdec, Codec::H264, Direction::Encode, 0);
    assert!(!nvdec_encode.available, "{nvdec_encode:?}");
}

#[test]
fn probes_are_cached() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    fn counting(_: Engine, _: Codec, _: Direction, _: u32) -> Result<ProbeInfo> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        Ok(ProbeInfo::default())
    }
    let r = Registry::new(vec![entry(Engine::OpenH264, counting)], PROBE_TIMEOUT);
    for _ in 0..3 {
        r.open_decoder(&DecoderConfig::new(Codec::H264)).unwrap();
    }
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
}

#[test]
fn a_named_ffmpeg_encoder_opens_only_on_its_engine() {
    let av1 = EncoderConfig::new(Codec::Av1, 64, 64);
    let named = |cfg: EncoderConfig, name: &str| named_encoder_engine(&cfg, name);
    assert_eq!(named(av1.clone(), "libaom-av1").unwrap(), EnginePreference::Only(Engine::Ffmpeg));
    assert_eq!(named(av1.clone(), "av1_qsv").unwrap(), EnginePreference::Only(Engine::Qsv));
    let other = av1.clone().engine(EnginePreference::Only(Engine::Rav1e));
    let e = named(other, "libaom-av1").unwrap_err().to_string();
    assert!(e.contains("libaom-av1 is an encoder of ffmpeg, not of rav1e"), "{e}");
    let e = named(av1.clone(), "libdav1d").unwrap_err().to_string();
    assert!(e.contains("video-hw drives no FFmpeg encoder of that name"), "{e}");
    let e = named(av1.clone(), "libx264").unwrap_err().to_string();
    assert!(e.contains("libx264 encodes h264, not av1"), "{e}");
    let e = named(av1.require_hardware(true), "libaom-av1").unwrap_err().to_string();
    assert!(e.contains("libaom-av1 is software (ffmpeg), but hardware is required"), "{e}");
}
