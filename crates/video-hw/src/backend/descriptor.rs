//! What an engine is and can do, said by the engine itself: the one place the generic
//! layers (sessions, readers, pipelines, diagnostics) learn an engine's capabilities and
//! reach its device hooks, instead of naming the engine. Each engine's folder defines its
//! descriptor; the registry's row for the engine holds it (`registry/rows.rs`), and
//! [`Engine`]'s `is_hardware`, `handles` and `uses_ffmpeg` are read from it.
//!
//! A new engine fills one of these in (docs/adding-an-engine.md): a software engine
//! usually starts from [`EngineDescriptor::software`] and changes a field or two; a GPU
//! engine with frames in device memory also gives [`DeviceHooks`].

use std::sync::Arc;

use super::DecoderBackend;
use super::audio::{AudioEngine, AudioParams};
use crate::codec::Codec;
use crate::engine::Engine;
use crate::error::Result;
use crate::frame::DeviceApi;
use crate::frame::memory::{DeviceAllocator, PinnedAlloc};
use crate::metrics::GpuSampler;

/// An engine's capabilities and the hooks the generic layers call.
pub(crate) struct EngineDescriptor {
    /// Which engine this describes.
    pub engine: Engine,
    /// Runs on dedicated hardware (`require_hardware` accepts it).
    pub hardware: bool,
    /// Decodes video.
    pub decodes: bool,
    /// Encodes video.
    pub encodes: bool,
    /// Runs through FFmpeg's libraries (loaded at run time), for some codecs at least.
    pub uses_ffmpeg: bool,
    /// `EnginePreference::Auto` never picks it: it opens only when named (an engine for
    /// tests, or one not yet trusted by default).
    pub by_name_only: bool,
    /// Decoding may start at an H.264 recovery point (an I picture that is not an IDR) and
    /// output frames from there. Engines that wait for an IDR after a flush say false, and
    /// readers then start their runs at IDRs.
    pub starts_at_recovery_point: bool,
    /// A picture given for its headers only (`decode_headers_only`) is left undecoded and
    /// unshown, so pictures after it cannot be had by decoding on from it: a reader that
    /// will decode on feeds such pictures whole.
    pub skips_headers_only_pictures: bool,
    /// A picture given for its headers only still enters the engine's decoded picture
    /// buffer, marked as the stream marks it (NVDEC's parser). Where not (libavcodec
    /// leaves such a picture out of its buffer), a reader feeds so only the pictures whose
    /// leaving out changes no picture it decodes (`reader::prune`).
    pub keeps_headers_only_references: bool,
    /// Runs a decoder's transform (resize, colour conversion) on its own device frames
    /// when opened with device output, rather than have the CPU transform host frames.
    pub transforms_on_device: bool,
    /// A reader may keep frames read ahead in the engine's device memory and copy each to
    /// the host when it is taken (the session switches output with `set_output`).
    pub reads_ahead_on_device: bool,
    /// The engine's own frames can be in device memory (`Output::Device`), and the hooks for
    /// that memory; `None` for engines whose frames are host memory only.
    pub device: Option<&'static DeviceHooks>,
    /// Places sessions across several devices (`DecoderConfig::spread_over_gpus`).
    pub placement: Option<&'static Placement>,
    /// How many sessions of this engine a segmented decode or a reader should run.
    pub sessions: fn(&SessionsAsk) -> usize,
    /// Sessions of their own for the independent runs of one reader call (a sampler's
    /// clips, frames from several GOPs), where sessions of their own run them faster than
    /// the reader's [`sessions`](Self::sessions); `None`: they run on the reader's.
    pub run_sessions: fn(&SessionsAsk) -> Option<usize>,
    /// Its sessions take their share of the cores when they open
    /// (`software_threads::session_threads`): one opened beside other sessions runs fewer
    /// threads for good (a reader opens it again where those closed before it decoded).
    pub threads_by_share: bool,
    /// Starts sampling the utilisation of device `index` while a pipeline runs on the
    /// engine (`None` from the hook where the device cannot be sampled).
    pub sampler: Option<fn(u32) -> Option<GpuSampler>>,
    /// Decodes the codecs this crate does not parse ([`Codec::is_parsed`] false: VP8,
    /// MPEG-2, MPEG-4 Part 2, MJPEG, ProRes, …) from whole container packets.
    pub decodes_whole_packets: bool,
    /// Decodes audio tracks, and how; `None` for video-only engines.
    pub audio: Option<&'static AudioHooks>,
}

/// How an engine decodes audio. Engines are asked in the registry's order (the order of
/// [`Engine::ALL`], then [`Engine::AUDIO`]).
pub(crate) struct AudioHooks {
    /// Whether the engine has a decoder for the track (cheap: nothing is opened; for an
    /// engine loaded at run time, whether the loaded library has one).
    pub takes: fn(&AudioParams) -> bool,
    /// Opens a decoder for the track, or says why it cannot (a codec not its own, a
    /// library not loaded, a configuration it refuses).
    pub open: fn(&AudioParams) -> Result<Box<dyn AudioEngine>>,
}

/// Wraps a host-memory decoder so that its frames come out in device memory (see
/// [`DeviceHooks::upload`]).
pub(crate) type UploadFn = fn(Box<dyn DecoderBackend>, u32, Option<String>) -> Result<Box<dyn DecoderBackend>>;

/// The hooks of an engine whose frames can live in device memory.
pub(crate) struct DeviceHooks {
    /// Whose memory the engine's device frames are in.
    pub api: DeviceApi,
    /// Whether the device's driver is within reach (`Err(why)` where it is not), asked
    /// cheaply: its library loads; nothing is initialised (`device="auto"` asks it before
    /// deciding whether starting the device is worth it).
    pub present: fn() -> std::result::Result<(), String>,
    /// Why the engine does not decode `codec` here, where that is known without starting
    /// the device (an earlier process on this machine and driver found it: `device="auto"`
    /// then weighs no GPU, and starts nothing to ask); `None` where not known.
    pub known_refusal: fn(Codec) -> Option<String>,
    /// Bytes free on device `index` now (`None` without a driver or that device).
    pub free_memory: fn(u32) -> Option<u64>,
    /// Device memory of device `index` for a frame ring's slots.
    pub allocator: fn(u32) -> Result<Arc<dyn DeviceAllocator>>,
    /// Page-locked host memory the device copies to and from without staging.
    pub pinned_host: PinnedAlloc,
    /// Wraps a host-memory decoder so that its frames come out in this device's memory on
    /// device `index` (device output from an engine without device frames); the reason for
    /// the fallback, if it is one, goes with it.
    pub upload: UploadFn,
}

/// How an engine spreads sessions over several devices.
pub(crate) struct Placement {
    /// Claims a place for one session of `codec` on the least busy device that decodes it
    /// (`None` without a usable device); the claim is held until the session has opened.
    pub claim: fn(Codec) -> Option<Box<dyn DeviceClaim>>,
    /// The devices that decode `codec` (empty without a usable driver).
    pub devices: fn(Codec) -> Vec<u32>,
}

/// A session's place on a device, held while it opens (dropped once the open returned).
pub(crate) trait DeviceClaim {
    /// The device the session goes to.
    fn device(&self) -> u32;
}

/// What a session count is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionsAsk {
    /// The codec of the streams.
    pub codec: Codec,
    /// Picture width (no engine's count depends on the size yet).
    #[allow(dead_code, reason = "the public recommended_sessions takes the size; no engine uses it yet")]
    pub width: u32,
    /// Picture height.
    #[allow(dead_code, reason = "the public recommended_sessions takes the size; no engine uses it yet")]
    pub height: u32,
    /// The device the sessions run on (hardware engines).
    pub device: u32,
    /// CPU threads of this machine.
    pub cpus: usize,
}

/// Sessions for engines that say nothing better: 4.
pub(crate) fn four_sessions(_: &SessionsAsk) -> usize {
    4
}

impl EngineDescriptor {
    /// A software engine that decodes and encodes: no device, no placement, 4 sessions,
    /// decoding starts at IDRs. Engines change the fields that differ.
    pub(crate) const fn software(engine: Engine) -> EngineDescriptor {
        EngineDescriptor {
            engine,
            hardware: false,
            decodes: true,
            encodes: true,
            uses_ffmpeg: false,
            by_name_only: false,
            starts_at_recovery_point: false,
            skips_headers_only_pictures: false,
            keeps_headers_only_references: false,
            transforms_on_device: false,
            reads_ahead_on_device: false,
            device: None,
            placement: None,
            sessions: four_sessions,
            run_sessions: |_| None,
            threads_by_share: true,
            sampler: None,
            decodes_whole_packets: false,
            audio: None,
        }
    }

    /// A hardware engine without device frames of its own (FFmpeg's hardware families,
    /// VideoToolbox): as [`software`](Self::software), but hardware.
    pub(crate) const fn hardware(engine: Engine) -> EngineDescriptor {
        EngineDescriptor { hardware: true, threads_by_share: false, ..EngineDescriptor::software(engine) }
    }
}
