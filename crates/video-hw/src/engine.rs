//! Names of the engines (backends) and the choice a caller makes among them.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Decode or encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Bitstream to pictures.
    Decode,
    /// Pictures to bitstream.
    Encode,
}

impl Direction {
    /// "decode" or "encode".
    pub fn name(self) -> &'static str {
        match self {
            Direction::Decode => "decode",
            Direction::Encode => "encode",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decode or encode engine.
///
/// The priority order, best first, is the order of [`Engine::ALL`]: NVIDIA hardware,
/// Intel QSV, VA-API, VideoToolbox, AMD AMF, then software (FFmpeg's libavcodec / x264 / x265
/// where FFmpeg is found at run time, else the built-in rav1d and rav1e for AV1 and
/// OpenH264 for H.264).
///
/// Non-exhaustive: engines are added (docs/adding-an-engine.md), and a match on this enum
/// outside the crate needs a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Engine {
    /// NVIDIA NVDEC, through the Video Codec SDK (decode).
    Nvdec,
    /// NVIDIA NVENC, through the Video Codec SDK (encode).
    Nvenc,
    /// Intel Quick Sync Video through FFmpeg.
    Qsv,
    /// VA-API (Intel/AMD on Linux) through FFmpeg.
    Vaapi,
    /// Apple VideoToolbox.
    VideoToolbox,
    /// AMD AMF (Advanced Media Framework) through FFmpeg (encode).
    Amf,
    /// FFmpeg's software codecs (libavcodec decoders, libx264, libx265, SVT-AV1).
    Ffmpeg,
    /// rav1d, the dav1d AV1 decoder in Rust, built in (decode).
    Rav1d,
    /// rav1e, the AV1 encoder in Rust, built in (encode).
    Rav1e,
    /// Cisco OpenH264, built in: the software default.
    OpenH264,
    /// Symphonia's pure-Rust audio decoders, built in: AAC-LC, MP3, FLAC, Vorbis, PCM (audio
    /// decode; [`crate::audio`]).
    Symphonia,
    /// ropus, libopus in Rust, built in: Opus (audio decode; [`crate::audio`]).
    Ropus,
    /// The toy GPU engine of the crate's unit tests (`backend/toy/`); no part of the library.
    #[cfg(test)]
    Toy,
}

impl Engine {
    /// Every engine, best first.
    pub const ALL: [Engine; 10] = [
        Engine::Nvdec,
        Engine::Nvenc,
        Engine::Qsv,
        Engine::Vaapi,
        Engine::VideoToolbox,
        Engine::Amf,
        Engine::Ffmpeg,
        Engine::Rav1d,
        Engine::Rav1e,
        Engine::OpenH264,
    ];

    /// The engines that decode audio ([`crate::audio`]), best first; FFmpeg decodes audio
    /// too and comes before them.
    pub const AUDIO: [Engine; 2] = [Engine::Symphonia, Engine::Ropus];

    /// The lower-case name used on the command line, in logs and in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Nvdec => "nvdec",
            Engine::Nvenc => "nvenc",
            Engine::Qsv => "qsv",
            Engine::Vaapi => "vaapi",
            Engine::VideoToolbox => "videotoolbox",
            Engine::Amf => "amf",
            Engine::Ffmpeg => "ffmpeg",
            Engine::Rav1d => "rav1d",
            Engine::Rav1e => "rav1e",
            Engine::OpenH264 => "openh264",
            Engine::Symphonia => "symphonia",
            Engine::Ropus => "ropus",
            #[cfg(test)]
            Engine::Toy => "toy",
        }
    }

    // What an engine is and can do (`is_hardware`, `handles`, `uses_ffmpeg`,
    // `gives_cuda_frames`) is its descriptor's to say: those methods are in `registry/rows.rs`.
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Engine {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let all = Engine::ALL.into_iter().chain(Engine::AUDIO);
        all.clone().find(|e| e.name() == lower).ok_or_else(|| {
            let names: Vec<&str> = all.map(|e| e.name()).collect();
            Error::invalid_input(format!("unknown engine '{s}' (auto, {})", names.join(", ")))
        })
    }
}

/// Which engine a session may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EnginePreference {
    /// The best available engine; falling back is allowed and logged.
    #[default]
    Auto,
    /// Exactly this engine; never falls back.
    Only(Engine),
}

impl FromStr for EnginePreference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("auto") { Ok(EnginePreference::Auto) } else { Ok(EnginePreference::Only(s.parse()?)) }
    }
}
