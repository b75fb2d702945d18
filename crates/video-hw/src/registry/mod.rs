//! Which engines exist, whether each can run here (a real probe, cached per process,
//! with a timeout), and the choice among them with visible fallback.
//!
//! Selection, for each codec and direction, walks the engines best first
//! ([`Engine::ALL`] order). `Auto` takes the first that is built, passes its probe and
//! opens; when that is not the best built engine, one WARN line (tracing) names
//! from / to / reason and `video_hw_fallback_total{from,to,reason}` is incremented.
//! An explicit engine or `require_hardware` never falls back: it fails with the reason.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::backend::descriptor::{AudioHooks, DeviceHooks, EngineDescriptor, Placement};
use crate::backend::{DecoderBackend, EncoderBackend};
use crate::codec::Codec;
use crate::config::{DecoderConfig, EncoderConfig, Output};
use crate::engine::{Direction, Engine, EnginePreference};
use crate::error::{Error, Result};
use crate::frame::DeviceApi;
pub use crate::records::probe_info::ProbeInfo;

mod device_facts;
mod rows;
pub use device_facts::{device_decode_engine, gpu_side, software_decode_engine, software_decode_engines};
use rows::builtin_entries;
pub(crate) use rows::descriptor;
#[cfg(test)]
pub(crate) use rows::ffmpeg_entry;

/// How long a probe may take before its engine is declared unavailable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The functions of an entry get the entry's engine, so that one function can serve
/// several engines (the FFmpeg families).
type ProbeFn = fn(Engine, Codec, Direction, u32) -> Result<ProbeInfo>;
type OpenDecoderFn = fn(Engine, &DecoderConfig) -> Result<Box<dyn DecoderBackend>>;
type OpenEncoderFn = fn(Engine, &EncoderConfig) -> Result<Box<dyn EncoderBackend>>;

/// One engine as the registry knows it.
#[derive(Clone)]
pub(crate) struct EngineEntry {
    pub engine: Engine,
    /// What the engine is and can do (its own folder says it).
    pub descriptor: &'static EngineDescriptor,
    /// `Err(reason)` when this build cannot run the engine at all.
    pub built: std::result::Result<(), String>,
    pub probe: ProbeFn,
    pub open_decoder: Option<OpenDecoderFn>,
    pub open_encoder: Option<OpenEncoderFn>,
}

impl EngineEntry {
    /// An engine this build does not contain, with the reason. (On Apple systems every
    /// engine of the table is built; the tests still use it.)
    #[cfg_attr(target_vendor = "apple", allow(dead_code))]
    pub fn not_built(engine: Engine, reason: impl Into<String>) -> Self {
        EngineEntry {
            engine,
            descriptor: descriptor(engine),
            built: Err(reason.into()),
            probe: |_, _, _, _| Err(Error::unsupported("engine", "not built")),
            open_decoder: None,
            open_encoder: None,
        }
    }
}

/// The FFmpeg the FFmpeg engines run with: where it was found, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FfmpegRuntime {
    /// Whether an FFmpeg is loaded.
    pub loaded: bool,
    /// "FFmpeg 5.1.6-0+deb12u1, libavcodec 59.37.100 from libavcodec.so.59", or why none.
    pub summary: String,
    /// Each place searched, in order, and what came of it.
    pub tried: Vec<String>,
    /// The loaded libavcodec's version (major, minor, micro): libavcodec's behaviour on
    /// damaged input differs between releases.
    pub libavcodec: Option<(u32, u32, u32)>,
}

/// Finds and loads FFmpeg (once per process) and says what was found. Searched in this
/// order: `VIDEO_HW_FFMPEG_DIR` (`none` turns it off), the dynamic loader's search
/// (`libavcodec.so.63` down to `.so.59`), then folders given to
/// [`add_ffmpeg_search_dir`] (docs/ffmpeg.md).
pub fn ffmpeg_runtime() -> FfmpegRuntime {
    let s = crate::backend::ffmpeg::sys::status();
    FfmpegRuntime { loaded: s.loaded, summary: s.summary, tried: s.tried, libavcodec: s.libavcodec }
}

/// Adds a folder to search for FFmpeg's libraries after the loader's own search (the
/// Python package adds the one a PyAV wheel bundles). It counts only before the FFmpeg
/// engines are first used in the process.
pub fn add_ffmpeg_search_dir(dir: impl Into<std::path::PathBuf>) {
    crate::backend::ffmpeg::sys::load::add_search_dir(dir.into());
}

/// Test hook, not API (hidden from the docs; it may change or go at any time): from now on
/// this process treats the FFmpeg encoders `names` (libavcodec's names, as `libsvtav1`) as
/// absent from the loaded FFmpeg, replacing any earlier list, and forgets the probes made
/// so far. An engine with several candidate encoders then takes the next, as it would with
/// an FFmpeg built without them: FFmpeg's AV1 encode goes from libsvtav1 to libaom-av1.
/// The tests use it to run libaom-av1 on machines whose FFmpeg has both.
#[doc(hidden)]
pub fn __hide_ffmpeg_encoders(names: &[&str]) {
    crate::backend::ffmpeg::encoder_options::hide(names);
    Registry::global().cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// One line of `video-hw probe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The engine.
    pub engine: Engine,
    /// The codec.
    pub codec: Codec,
    /// Decode or encode.
    pub direction: Direction,
    /// Whether a session can be opened.
    pub available: bool,
    /// Why not (or caveats when available).
    pub reason: String,
    /// What the probe learnt.
    pub info: ProbeInfo,
}

/// Probe results by engine, codec, direction and device index.
type ProbeCache = HashMap<(Engine, Codec, Direction, u32), Arc<Result<ProbeInfo, String>>>;

/// Engines, their probe cache, and selection.
pub(crate) struct Registry {
    entries: Vec<EngineEntry>,
    cache: Mutex<ProbeCache>,
    timeout: Duration,
}

impl Registry {
    pub fn new(entries: Vec<EngineEntry>, timeout: Duration) -> Self {
        Registry { entries, cache: Mutex::new(HashMap::new()), timeout }
    }

    /// The process-wide registry of this build's engines.
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(|| Registry::new(builtin_entries(), PROBE_TIMEOUT))
    }

    fn candidates(&self, direction: Direction) -> impl Iterator<Item = &EngineEntry> {
        self.entries.iter().filter(move |e| e.engine.handles(direction))
    }

    /// Probes (once per process) whether `entry` can do `codec` in `direction`.
    fn probe(&self, entry: &EngineEntry, codec: Codec, direction: Direction, device: u32) -> Result<ProbeInfo, String> {
        if let Err(reason) = &entry.built {
            return Err(reason.clone());
        }
        if let Some(why) = unparsed_refusal(entry.engine, codec, direction) {
            return Err(why);
        }
        let key = (entry.engine, codec, direction, device);
        if let Some(hit) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return (**hit).clone();
        }
        let result = Arc::new(run_probe(entry.probe, entry.engine, codec, direction, device, self.timeout));
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key, result.clone());
        (*result).clone()
    }

    /// Every engine × codec × direction with its availability ([`Codec::ALL`]; for the
    /// FFmpeg engine's decode also [`Codec::FFMPEG_ONLY`]).
    pub fn probe_all(&self, device: u32) -> Vec<ProbeReport> {
        let mut out = Vec::new();
        for entry in &self.entries {
            for direction in [Direction::Decode, Direction::Encode] {
                if !entry.engine.handles(direction) {
                    continue;
                }
                for codec in Codec::ALL {
                    out.push(self.report(entry, codec, direction, device));
                }
                // The codecs only engines that decode whole packets take: one line each,
                // there alone.
                if entry.descriptor.decodes_whole_packets && direction == Direction::Decode {
                    for codec in Codec::FFMPEG_ONLY {
                        out.push(self.report(entry, codec, direction, device));
                    }
                }
            }
        }
        out
    }

    /// One engine × codec × direction with its availability.
    pub fn probe_one(&self, engine: Engine, codec: Codec, direction: Direction, device: u32) -> ProbeReport {
        match self.entries.iter().find(|e| e.engine == engine && e.engine.handles(direction)) {
            Some(entry) => self.report(entry, codec, direction, device),
            None => ProbeReport {
                engine,
                codec,
                direction,
                available: false,
                reason: format!("{engine} cannot {direction}"),
                info: ProbeInfo::default(),
            },
        }
    }

    fn report(&self, entry: &EngineEntry, codec: Codec, direction: Direction, device: u32) -> ProbeReport {
        let (available, reason, info) = match self.probe(entry, codec, direction, device) {
            Ok(info) => (true, info.notes.join("; "), info),
            Err(reason) => (false, reason, ProbeInfo::default()),
        };
        ProbeReport { engine: entry.engine, codec, direction, available, reason, info }
    }

    /// Opens the engine a decoder configuration asks for.
    ///
    /// Device output from an engine that decodes on the CPU: where a named engine has no
    /// frames of that device API of its own, and, with [`EnginePreference::Auto`] and
    /// hardware not required, where no engine can give device frames of the stream (AV1
    /// on an H100 or H200), a CPU engine decodes and its frames are uploaded to the
    /// device (the device hooks' `upload` of the engine whose frames are in that API's
    /// memory). That fallback is logged and counted like any other, and the session says
    /// why (`Decoder::fallback`).
    pub fn open_decoder(&self, config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
        let Output::Device(api, format) = config.output else { return self.open_decoder_direct(config) };
        let job = format!("{} decode", config.codec);
        // The engine whose device memory the frames are in, and its upload of host frames.
        let device = self.device_entry(api).and_then(|e| e.descriptor.device.map(|hooks| (e.engine, hooks)));
        if let EnginePreference::Only(engine) = config.engine
            && engine.device_api() != Some(api)
        {
            let Some((_, hooks)) = device else {
                return Err(Error::unsupported(
                    format!("{job} into {api} memory"),
                    "no engine here has such device frames",
                ));
            };
            let host = self.open_decoder_direct(&config.clone().output(Output::Host(format)))?;
            return (hooks.upload)(host, config.device_index, None);
        }
        let error = match self.open_decoder_direct(config) {
            Ok(backend) => return Ok(backend),
            Err(e) => e,
        };
        if config.engine != EnginePreference::Auto
            || config.require_hardware
            || !matches!(error, Error::Unsupported { .. })
        {
            return Err(error);
        }
        let Some((gpu_engine, hooks)) = device else { return Err(error) };
        let gpu = self.probe_one(gpu_engine, config.codec, Direction::Decode, config.device_index);
        let why = if gpu.available {
            format!("{gpu_engine} could not open a session: {error}")
        } else {
            format!("{gpu_engine} cannot decode {}: {}", config.codec, gpu.reason)
        };
        let host = self.open_decoder_direct(&config.clone().output(Output::Host(format))).map_err(|e| {
            Error::unsupported(format!("{job} into {api} memory"), format!("{why}; and on the CPU: {e}"))
        })?;
        let to = host.engine();
        let backend = (hooks.upload)(host, config.device_index, Some(why.clone()))
            .map_err(|e| Error::unsupported(format!("{job} into {api} memory"), format!("{why}; and {e}")))?;
        report_fallback(gpu_engine, to, &format!("unavailable: {why}"), &job);
        Ok(backend)
    }

    /// The first decode engine, best first, whose frames can be in `api`'s device memory
    /// and that `Auto` may pick: the one such output is asked of, whose device hooks
    /// upload a CPU engine's frames.
    fn device_entry(&self, api: DeviceApi) -> Option<&EngineEntry> {
        self.candidates(Direction::Decode).find(|e| e.engine.device_api() == Some(api) && !e.descriptor.by_name_only)
    }

    /// The engine [`Registry::open_decoder`] would open for `config`, from the probes alone
    /// (cached per process): nothing is opened. The engine named by
    /// [`EnginePreference::Only`], else the first in order whose probe takes the codec (with
    /// CUDA output, the first that gives CUDA frames, then, hardware not required, a CPU
    /// engine whose frames would be uploaded). An engine whose probe passes may still refuse
    /// a stream when it opens (a profile or size its hardware lacks) and `open_decoder` then
    /// falls back to the next: this is the engine that would be tried first.
    pub fn decode_engine(&self, config: &DecoderConfig) -> Result<Engine> {
        let (codec, device) = (config.codec, config.device_index);
        let job = format!("{codec} decode");
        let takes = |entry: &EngineEntry| -> std::result::Result<(), String> {
            if entry.open_decoder.is_none() {
                return Err(format!("{} cannot decode", entry.engine));
            }
            self.probe(entry, codec, Direction::Decode, device).map(|_| ())
        };
        if let EnginePreference::Only(engine) = config.engine {
            let what = format!("{job} with {engine}");
            let entry = self
                .candidates(Direction::Decode)
                .find(|e| e.engine == engine)
                .ok_or_else(|| Error::unsupported(what.clone(), format!("{engine} cannot decode")))?;
            return takes(entry).map(|()| engine).map_err(|why| Error::unsupported(what, why));
        }
        let api = config.output.device_api();
        let own_frames = |e: &&EngineEntry| api.is_none() || e.engine.device_api() == api;
        let auto = || self.candidates(Direction::Decode).filter(|e| !e.descriptor.by_name_only);
        let first = auto().filter(own_frames);
        let uploaded = auto().filter(|e| api.is_some() && !config.require_hardware && !own_frames(e));
        let mut reasons = Vec::new();
        for entry in first.chain(uploaded) {
            let engine = entry.engine;
            if unparsed_refusal(engine, codec, Direction::Decode).is_some() {
                continue;
            }
            if config.require_hardware && !engine.is_hardware() {
                reasons.push(format!("{engine}: software, but hardware is required"));
                continue;
            }
            if let Err(why) = &entry.built {
                reasons.push(format!("{engine}: {why}"));
                continue;
            }
            match takes(entry) {
                Ok(()) => return Ok(engine),
                Err(why) => reasons.push(format!("{engine}: {why}")),
            }
        }
        Err(Error::unsupported(job, format!("no engine can decode {codec} here — {}", reasons.join("; "))))
    }

    /// Opens the engine a decoder configuration asks for, with the output it names.
    fn open_decoder_direct(&self, config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
        self.select(config.codec, Direction::Decode, config.engine, config.require_hardware, config.device_index, |e| {
            e.open_decoder.map(|open| open(e.engine, config))
        })
    }

    /// Opens the engine an encoder configuration asks for. An FFmpeg encoder named in the
    /// configuration (`ffmpeg_encoder`) opens only on the engine that drives it.
    pub fn open_encoder(&self, config: &EncoderConfig) -> Result<Box<dyn EncoderBackend>> {
        let preference = match &config.ffmpeg_encoder {
            Some(name) => named_encoder_engine(config, name)?,
            None => config.engine,
        };
        self.select(config.codec, Direction::Encode, preference, config.require_hardware, config.device_index, |e| {
            e.open_encoder.map(|open| open(e.engine, config))
        })
    }

    fn select<B>(
        &self,
        codec: Codec,
        direction: Direction,
        preference: EnginePreference,
        require_hardware: bool,
        device: u32,
        open: impl Fn(&EngineEntry) -> Option<Result<B>>,
    ) -> Result<B> {
        let job = format!("{codec} {direction}");
        if let EnginePreference::Only(engine) = preference {
            let entry = self.candidates(direction).find(|e| e.engine == engine).ok_or_else(|| {
                Error::unsupported(format!("{job} with {engine}"), format!("{engine} cannot {direction}"))
            })?;
            self.probe(entry, codec, direction, device)
                .map_err(|why| Error::unsupported(format!("{job} with {engine}"), why))?;
            return open(entry).unwrap_or_else(|| {
                Err(Error::unsupported(format!("{job} with {engine}"), format!("{engine} cannot {direction}")))
            });
        }

        let mut reasons: Vec<String> = Vec::new();
        // The best engine this build has: the one a fallback is "from".
        let mut best: Option<(Engine, String)> = None;
        for entry in self.candidates(direction).filter(|e| !e.descriptor.by_name_only) {
            let engine = entry.engine;
            // Engines that never take this codec are no fallback "from", and the error
            // names the codec instead of listing them.
            if unparsed_refusal(engine, codec, direction).is_some() {
                continue;
            }
            if require_hardware && !engine.is_hardware() {
                reasons.push(format!("{engine}: software, but hardware is required"));
                continue;
            }
            if let Err(why) = &entry.built {
                reasons.push(format!("{engine}: {why}"));
                continue;
            }
            let attempt = match self.probe(entry, codec, direction, device) {
                Err(why) => Err((why, "unavailable")),
                Ok(_) => match open(entry) {
                    None => Err((format!("cannot {direction}"), "unsupported")),
                    Some(Err(e)) => Err((e.to_string(), "open_failed")),
                    Some(Ok(backend)) => Ok(backend),
                },
            };
            match attempt {
                Ok(backend) => {
                    if let Some((from, why)) = &best {
                        report_fallback(*from, engine, why, &job);
                    }
                    return Ok(backend);
                }
                Err((why, code)) => {
                    reasons.push(format!("{engine}: {why}"));
                    if best.is_none() {
                        best = Some((engine, format!("{code}: {why}")));
                    }
                }
            }
        }
        if !codec.is_parsed() {
            let only = match direction {
                Direction::Decode => format!("only {} decodes it", whole_packet_decoders()),
                Direction::Encode => "it is decoded only, never encoded".to_string(),
            };
            let why = if reasons.is_empty() { String::new() } else { format!(" — {}", reasons.join("; ")) };
            return Err(Error::unsupported(job, format!("no engine can {direction} {codec} here: {only}{why}")));
        }
        Err(Error::unsupported(job, format!("no engine can {direction} {codec} here — {}", reasons.join("; "))))
    }
}

/// The engines that decode whole container packets, for messages: "the ffmpeg engine".
fn whole_packet_decoders() -> String {
    let names: Vec<String> = Engine::ALL
        .into_iter()
        .filter(|e| descriptor(*e).decodes_whole_packets)
        .map(|e| format!("the {e} engine"))
        .collect();
    if names.is_empty() { "no engine of this build".into() } else { names.join(" or ") }
}

/// Why `engine` does not take `codec` in `direction` before any probe: the codecs this
/// crate does not parse (VP8, MPEG-2, MPEG-4 Part 2, MJPEG, ProRes, others) are decoded
/// only by engines that decode whole container packets (the FFmpeg engine), and encoded by
/// none. NVDEC and VA-API have decoders for some of them, not wired here (the reader's feed
/// and their sessions' bookkeeping are written for the parsed codecs).
fn unparsed_refusal(engine: Engine, codec: Codec, direction: Direction) -> Option<String> {
    if codec.is_parsed() {
        return None;
    }
    match direction {
        Direction::Decode if descriptor(engine).decodes_whole_packets => None,
        Direction::Decode => Some(format!("{engine} does not decode {codec} (only {} does)", whole_packet_decoders())),
        Direction::Encode => Some(format!("{codec} is decoded only, never encoded")),
    }
}

/// The engine an encoder configuration naming the FFmpeg encoder `name` opens on: the one
/// that drives it, which the configuration's engine preference must allow.
fn named_encoder_engine(config: &EncoderConfig, name: &str) -> Result<EnginePreference> {
    use crate::backend::ffmpeg::encoder_options;
    let what = format!("{} encode with {name}", config.codec);
    let Some((engine, codec)) = encoder_options::engine_of(name) else {
        let drives = encoder_options::names().join(", ");
        return Err(Error::unsupported(
            what,
            format!("video-hw drives no FFmpeg encoder of that name (it drives {drives})"),
        ));
    };
    if codec != config.codec {
        return Err(Error::unsupported(what, format!("{name} encodes {codec}, not {}", config.codec)));
    }
    if config.require_hardware && !engine.is_hardware() {
        return Err(Error::unsupported(what, format!("{name} is software ({engine}), but hardware is required")));
    }
    match config.engine {
        EnginePreference::Only(other) if other != engine => {
            Err(Error::unsupported(what, format!("{name} is an encoder of {engine}, not of {other}")))
        }
        _ => Ok(EnginePreference::Only(engine)),
    }
}

/// The engines that decode audio, best first, with their hooks: the registry's order
/// ([`Engine::ALL`], then [`Engine::AUDIO`]), so FFmpeg's decoders (whose samples are
/// ffmpeg's own) come before the built-in ones.
fn audio_engines() -> impl Iterator<Item = (Engine, &'static AudioHooks)> {
    Engine::ALL.into_iter().chain(Engine::AUDIO).filter_map(|e| descriptor(e).audio.map(|hooks| (e, hooks)))
}

/// Opens an audio decode engine for a track: the first engine in order (FFmpeg's, where it
/// is loaded and has a decoder for the codec, then the built-in one of the codec). As for
/// video, `Auto` falls back visibly from the first engine to the one that opened (one WARN
/// line and `video_hw_fallback_total`), and a named engine never falls back.
pub(crate) fn open_audio_engine(
    params: &crate::backend::audio::AudioParams,
    preference: EnginePreference,
) -> Result<Box<dyn crate::backend::audio::AudioEngine>> {
    let job = format!("{} audio decode", params.codec.name());
    if let EnginePreference::Only(e) = preference {
        return match audio_engines().find(|(x, _)| *x == e) {
            // The engine's own refusal says why (a codec not its own, a library not loaded).
            Some((_, hooks)) => (hooks.open)(params),
            None => {
                let names: Vec<&str> = audio_engines().map(|(e, _)| e.name()).collect();
                Err(Error::Unsupported {
                    what: job,
                    why: format!("{e} does not decode it (audio engines: {})", names.join(", ")),
                })
            }
        };
    }
    // The first engine is always asked (its refusal is the fallback's reason); the later
    // ones only where they have a decoder for the codec.
    let mut first: Option<(Engine, Error)> = None;
    let mut last = None;
    for (engine, hooks) in audio_engines() {
        if first.is_some() && !(hooks.takes)(params) {
            continue;
        }
        match (hooks.open)(params) {
            Ok(opened) => {
                if let Some((from, why)) = &first {
                    report_fallback(*from, engine, &why.to_string(), &job);
                }
                return Ok(opened);
            }
            Err(e) if first.is_none() => first = Some((engine, e)),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .or(first.map(|(_, e)| e))
        .unwrap_or_else(|| Error::unsupported(job, "no engine of this build decodes audio")))
}

/// The engine that would decode a track (`Auto`'s choice: the first that has a decoder
/// for it and opens), or why none would; for `video-hw info`.
pub(crate) fn audio_engine_for(params: &crate::backend::audio::AudioParams) -> Result<Engine> {
    let mut why = None;
    for (engine, hooks) in audio_engines().filter(|(_, hooks)| (hooks.takes)(params)) {
        match (hooks.open)(params) {
            Ok(_) => return Ok(engine),
            Err(e) => why = Some(e),
        }
    }
    Err(why.unwrap_or_else(|| Error::Unsupported {
        what: format!("{} audio decode", params.codec.name()),
        why: "no engine".into(),
    }))
}

/// One WARN line and one metric increment for a fallback.
fn report_fallback(from: Engine, to: Engine, why: &str, job: &str) {
    let code = why.split(':').next().unwrap_or("unavailable").to_string();
    tracing::warn!(from = from.name(), to = to.name(), reason = why, "{job}: falling back from {from} to {to}: {why}");
    metrics::counter!("video_hw_fallback_total", "from" => from.name(), "to" => to.name(), "reason" => code)
        .increment(1);
}

/// Runs a probe on its own thread so that a hanging or panicking probe cannot take the
/// caller down: a panic becomes an error, a hang becomes "timed out" (the thread is
/// left to finish on its own).
fn run_probe(
    probe: ProbeFn,
    engine: Engine,
    codec: Codec,
    direction: Direction,
    device: u32,
    timeout: Duration,
) -> Result<ProbeInfo, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("video-hw-probe".into()).spawn(move || {
        let r = std::panic::catch_unwind(|| probe(engine, codec, direction, device));
        let _ = tx.send(r);
    });
    if let Err(e) = spawned {
        return Err(format!("could not start probe thread: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(Ok(info))) => Ok(info),
        Ok(Ok(Err(e))) => Err(match e {
            Error::Unsupported { why, .. } => why,
            other => other.to_string(),
        }),
        Ok(Err(_panic)) => Err("probe panicked".to_string()),
        Err(_) => Err(format!("probe timed out after {timeout:?}")),
    }
}

/// The device hooks of the best engine whose frames can be in CUDA memory: what
/// device-memory frame rings (`RingMemory::Cuda`), page-locked host buffers and reads
/// ahead on the device use. `None` where no engine of this build has CUDA frames.
pub(crate) fn device_hooks() -> Option<&'static DeviceHooks> {
    Registry::global().device_entry(DeviceApi::Cuda).and_then(|e| e.descriptor.device)
}

/// How the best decode engine that spreads sessions over several devices does it
/// ([`DecoderConfig::spread_over_gpus`]); `None` where none does.
pub(crate) fn placement() -> Option<&'static Placement> {
    Registry::global().candidates(Direction::Decode).find_map(|e| e.descriptor.placement)
}

/// Every engine × codec × direction of this build with its availability (the data of
/// `video-hw probe`). Probes run once per process and are cached.
pub fn probe_all(device_index: u32) -> Vec<ProbeReport> {
    Registry::global().probe_all(device_index)
}

/// Whether one engine can do one codec in one direction here, without probing the other
/// engines ([`probe_all`] asks every engine, which takes a while where an engine's library
/// is present but its hardware is not). Cached per process like [`probe_all`].
///
/// ```no_run
/// use video_hw::registry::probe;
/// use video_hw::{Codec, Direction, Engine};
///
/// let nvdec = probe(Engine::Nvdec, Codec::Hevc, Direction::Decode, 0);
/// if !nvdec.available {
///     eprintln!("no NVDEC HEVC decode on GPU 0: {}", nvdec.reason);
/// }
/// ```
pub fn probe(engine: Engine, codec: Codec, direction: Direction, device_index: u32) -> ProbeReport {
    Registry::global().probe_one(engine, codec, direction, device_index)
}

/// The engine that would decode `config`, from the engines' probes alone (nothing is
/// opened; [`Decoder::open`](crate::Decoder::open) may still fall back past it where the
/// engine refuses the stream when it opens). Where a caller's route depends on the engine
/// (several NVDEC sessions, say), this asks before opening one.
///
/// ```no_run
/// use video_hw::{Codec, DecoderConfig, Engine};
///
/// let engine = video_hw::registry::decode_engine(&DecoderConfig::new(Codec::Hevc))?;
/// if engine == Engine::Nvdec { /* one session per NVDEC engine */ }
/// # Ok::<(), video_hw::Error>(())
/// ```
pub fn decode_engine(config: &DecoderConfig) -> Result<Engine> {
    Registry::global().decode_engine(config)
}

#[cfg(test)]
mod tests;
