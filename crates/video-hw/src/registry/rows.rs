//! The registry's rows: every engine of this build, best first, with its descriptor
//! (`backend/descriptor.rs`), probe and open functions. This file and `backend/` are the
//! only places in the library that name an engine (`tests/layering.rs` checks it); the
//! rest asks the engine's descriptor.

use super::{EngineEntry, OpenDecoderFn};
use crate::backend::descriptor::EngineDescriptor;
use crate::backend::{audio, ffmpeg, nvidia, openh264, rav1d, rav1e, videotoolbox};
#[cfg(target_vendor = "apple")]
use crate::codec::Codec;
use crate::engine::{Direction, Engine};

/// The descriptor of `engine`: what it is and can do, from its own folder.
pub(crate) fn descriptor(engine: Engine) -> &'static EngineDescriptor {
    match engine {
        Engine::Nvdec => &nvidia::descriptor::NVDEC,
        Engine::Nvenc => &nvidia::descriptor::NVENC,
        Engine::Qsv => &ffmpeg::QSV,
        Engine::Vaapi => &ffmpeg::VAAPI,
        Engine::VideoToolbox => &videotoolbox::DESCRIPTOR,
        Engine::Amf => &ffmpeg::AMF,
        Engine::Ffmpeg => &ffmpeg::FFMPEG,
        Engine::Rav1d => &rav1d::DESCRIPTOR,
        Engine::Rav1e => &rav1e::DESCRIPTOR,
        Engine::OpenH264 => &openh264::DESCRIPTOR,
        Engine::Symphonia => &audio::SYMPHONIA,
        Engine::Ropus => &audio::ROPUS,
        #[cfg(test)]
        Engine::Toy => &crate::backend::toy::DESCRIPTOR,
    }
}

/// What [`Engine`] says of itself is what its descriptor says.
impl Engine {
    /// Whether the engine runs on dedicated hardware.
    pub fn is_hardware(self) -> bool {
        descriptor(self).hardware
    }

    /// The device API the engine's own frames can be in ([`crate::Output::Device`]), if
    /// any. Other engines give device frames by an upload of their host frames.
    pub fn device_api(self) -> Option<crate::frame::DeviceApi> {
        descriptor(self).device.map(|hooks| hooks.api)
    }

    /// Whether the engine's own frames can be in CUDA device memory ([`crate::Output::Cuda`]).
    /// Other engines give CUDA frames by an upload of their host frames.
    pub fn gives_cuda_frames(self) -> bool {
        self.device_api() == Some(crate::frame::DeviceApi::Cuda)
    }

    /// Whether the engine runs through FFmpeg's libraries (loaded at run time), for some
    /// codecs at least: VideoToolbox on Apple systems decodes VP9 and AV1 through FFmpeg
    /// (H.264 and HEVC natively, unless `VIDEO_HW_VIDEOTOOLBOX=ffmpeg`).
    pub fn uses_ffmpeg(self) -> bool {
        descriptor(self).uses_ffmpeg
    }

    /// Whether the engine works in this direction at all.
    pub fn handles(self, direction: Direction) -> bool {
        let d = descriptor(self);
        match direction {
            Direction::Decode => d.decodes,
            Direction::Encode => d.encodes,
        }
    }
}

impl EngineEntry {
    /// The row of the engine `descriptor` describes, built in this build.
    fn of(
        descriptor: &'static EngineDescriptor,
        probe: super::ProbeFn,
        open_decoder: Option<OpenDecoderFn>,
        open_encoder: Option<super::OpenEncoderFn>,
    ) -> EngineEntry {
        EngineEntry { engine: descriptor.engine, descriptor, built: Ok(()), probe, open_decoder, open_encoder }
    }
}

/// An FFmpeg-based engine: libavcodec through `engine`'s hardware (or software for
/// [`Engine::Ffmpeg`]); `decodes` is false for the encode-only families (AMF). FFmpeg is
/// loaded at run time: where it is missing, the probe says so.
pub(crate) fn ffmpeg_entry(engine: Engine, decodes: bool) -> EngineEntry {
    EngineEntry::of(
        descriptor(engine),
        ffmpeg::probe,
        decodes.then_some(ffmpeg::decoder::open as OpenDecoderFn),
        Some(ffmpeg::encoder::open),
    )
}

/// VideoToolbox on Apple systems. H.264 and HEVC go to the native engine
/// (`backend/videotoolbox/`: its own sessions, changes in place, generations), VP9 and AV1
/// to FFmpeg's VideoToolbox hardware decoding, which the native engine does not cover.
/// `VIDEO_HW_VIDEOTOOLBOX=ffmpeg` sends every codec through FFmpeg, the path before the
/// native engine: a way back while the native engine has not yet run on a Mac in CI.
#[cfg(target_vendor = "apple")]
fn videotoolbox_entry() -> EngineEntry {
    if crate::env::settings().videotoolbox_through_ffmpeg {
        return ffmpeg_entry(Engine::VideoToolbox, true);
    }
    EngineEntry {
        engine: Engine::VideoToolbox,
        descriptor: &videotoolbox::DESCRIPTOR,
        built: Ok(()),
        probe: |e, c, d, i| {
            if matches!(c, Codec::H264 | Codec::Hevc) {
                videotoolbox::probe(c, d, i)
            } else {
                ffmpeg::probe(e, c, d, i)
            }
        },
        open_decoder: Some(|e, c| {
            if matches!(c.codec, Codec::H264 | Codec::Hevc) {
                videotoolbox::open_decoder(c)
            } else {
                ffmpeg::decoder::open(e, c)
            }
        }),
        open_encoder: Some(|e, c| {
            // A named FFmpeg encoder (h264_videotoolbox) is FFmpeg's, not the native engine.
            if matches!(c.codec, Codec::H264 | Codec::Hevc) && c.ffmpeg_encoder.is_none() {
                videotoolbox::open_encoder(c)
            } else {
                ffmpeg::encoder::open(e, c)
            }
        }),
    }
}

/// The engines of this build, best first.
pub(super) fn builtin_entries() -> Vec<EngineEntry> {
    vec![
        EngineEntry::of(
            &nvidia::descriptor::NVDEC,
            |_, c, d, i| nvidia::nvdec::probe(c, d, i),
            Some(|_, c| nvidia::nvdec::open(c)),
            None,
        ),
        EngineEntry::of(
            &nvidia::descriptor::NVENC,
            |_, c, d, i| nvidia::nvenc::probe(c, d, i),
            None,
            Some(|_, c| nvidia::nvenc::open(c)),
        ),
        ffmpeg_entry(Engine::Qsv, true),
        ffmpeg_entry(Engine::Vaapi, true),
        #[cfg(target_vendor = "apple")]
        videotoolbox_entry(),
        #[cfg(not(target_vendor = "apple"))]
        EngineEntry::not_built(Engine::VideoToolbox, "only on macOS"),
        ffmpeg_entry(Engine::Amf, false),
        ffmpeg_entry(Engine::Ffmpeg, true),
        EngineEntry::of(
            &rav1d::DESCRIPTOR,
            |_, c, d, i| rav1d::probe(c, d, i),
            Some(|_, c| rav1d::open_decoder(c)),
            None,
        ),
        EngineEntry::of(
            &rav1e::DESCRIPTOR,
            |_, c, d, i| rav1e::probe(c, d, i),
            None,
            Some(|_, c| rav1e::open_encoder(c)),
        ),
        EngineEntry::of(
            &openh264::DESCRIPTOR,
            |_, c, d, i| openh264::probe(c, d, i),
            Some(|_, c| openh264::open_decoder(c)),
            Some(|_, c| openh264::open_encoder(c)),
        ),
        // The unit tests' toy GPU engine (by name only: `Auto` never picks it).
        #[cfg(test)]
        EngineEntry::of(
            &crate::backend::toy::DESCRIPTOR,
            |_, c, d, i| crate::backend::toy::probe(c, d, i),
            Some(|_, c| crate::backend::toy::open_decoder(c)),
            None,
        ),
    ]
}
