//! Audio decode engines: a packet in, planar `f32` samples out.
//!
//! - `symphonia.rs`: built in, pure Rust: AAC-LC, MP3 (and MP1/MP2), FLAC, Vorbis, PCM.
//! - `opus.rs`: built in, pure Rust: Opus (mono, stereo and multistream surround).
//! - FFmpeg's libavcodec, where it is loaded: `backend/ffmpeg/audio.rs`.
//!
//! Every engine gives samples as FFmpeg's own decoder of the codec does, before any
//! trimming: the session ([`crate::audio`]) drops priming and padding, cuts ranges,
//! resamples and mixes. Samples are `f32` in [-1, 1]; integer decoders are converted as
//! libswresample converts them (`x / 2^(bits-1)`), so a lossless codec's samples equal
//! `ffmpeg -f f32le`'s bit for bit.

pub(crate) mod mpa;
pub(crate) mod opus;
pub(crate) mod symphonia;

use crate::backend::descriptor::{AudioHooks, EngineDescriptor};
use crate::engine::Engine;
use crate::error::Result;
use crate::media::{AudioCodec, CodecConfig, PcmFormat};

/// Symphonia: software, audio decode only.
pub(crate) static SYMPHONIA: EngineDescriptor = EngineDescriptor {
    encodes: false,
    audio: Some(&AudioHooks {
        takes: |p| builtin_for(p.codec) == Some(Engine::Symphonia),
        open: |p| open_own(Engine::Symphonia, p),
    }),
    ..EngineDescriptor::software(Engine::Symphonia)
};

/// ropus: software, audio decode only.
pub(crate) static ROPUS: EngineDescriptor = EngineDescriptor {
    encodes: false,
    audio: Some(&AudioHooks {
        takes: |p| builtin_for(p.codec) == Some(Engine::Ropus),
        open: |p| open_own(Engine::Ropus, p),
    }),
    ..EngineDescriptor::software(Engine::Ropus)
};

/// Opens the built-in `engine` for `params`, refusing a codec that is another's.
fn open_own(engine: Engine, params: &AudioParams) -> Result<Box<dyn AudioEngine>> {
    if builtin_for(params.codec) != Some(engine) {
        return Err(crate::error::Error::unsupported(
            format!("{} audio decode", params.codec.name()),
            format!("{engine} does not decode it"),
        ));
    }
    if engine == Engine::Ropus {
        Ok(Box::new(opus::OpusEngine::open(params)?))
    } else {
        Ok(Box::new(symphonia::SymphoniaEngine::open(params)?))
    }
}

/// What an engine needs to open a track: the codec, the container's configuration and the
/// container's facts.
#[derive(Debug, Clone)]
pub(crate) struct AudioParams {
    /// The codec.
    pub codec: AudioCodec,
    /// The out-of-band configuration (AudioSpecificConfig, OpusHead, Vorbis or FLAC headers).
    pub config: CodecConfig,
    /// Samples per second, as the container states it.
    pub sample_rate: u32,
    /// Channels, as the container states it.
    pub channels: u16,
    /// PCM only: how the samples are stored.
    pub pcm: Option<PcmFormat>,
}

impl AudioParams {
    /// The parameters of an audio track whose codec is `codec`: the container's rate,
    /// channels and configuration (PCM's storage from [`CodecConfig::Pcm`]).
    pub(crate) fn of_track(track: &crate::media::Track, codec: AudioCodec) -> AudioParams {
        let info = track.audio.unwrap_or_default();
        let pcm = match track.config {
            CodecConfig::Pcm(f) => Some(f),
            _ => None,
        };
        AudioParams { codec, config: track.config.clone(), sample_rate: info.sample_rate, channels: info.channels, pcm }
    }
}

/// Decoded samples: one `Vec<f32>` a channel, all of one length.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Planar {
    /// The channels, in the codec's output order (FFmpeg's for that codec).
    pub channels: Vec<Vec<f32>>,
}

impl Planar {
    /// Empty buffers for `n` channels.
    pub(crate) fn with_channels(n: usize) -> Planar {
        Planar { channels: vec![Vec::new(); n] }
    }

    /// Planar buffers from `channels` rows laid one after another in `data`.
    pub(crate) fn from_flat(data: &[f32], channels: usize) -> Planar {
        let frames = data.len().checked_div(channels).unwrap_or(0);
        Planar { channels: (0..channels).map(|c| data[c * frames..(c + 1) * frames].to_vec()).collect() }
    }

    /// Samples per channel.
    pub(crate) fn len(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// No samples.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes room for `n` channels (a decoder whose channel count shows only in its first
    /// packet); existing samples stay.
    pub(crate) fn ensure_channels(&mut self, n: usize) {
        if self.channels.len() < n {
            let len = self.len();
            self.channels.resize(n, vec![0.0; len]);
        }
    }

    /// Drops every sample, keeping the channels and their memory.
    pub(crate) fn clear(&mut self) {
        for c in &mut self.channels {
            c.clear();
        }
    }
}

/// One audio decode engine opened for one track.
pub(crate) trait AudioEngine: Send {
    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// What runs, e.g. "symphonia aac" or "ffmpeg aac (libavcodec 59.37.100)".
    fn describe(&self) -> String;

    /// Decodes one packet, appending its samples to `out` (which has the engine's channel
    /// count once the first packet is decoded). A damaged packet is an error; the engine
    /// stays usable for the next one.
    fn decode(&mut self, packet: &[u8], out: &mut Planar) -> Result<()>;

    /// The end of the track: appends what the engine still holds.
    fn flush(&mut self, out: &mut Planar) -> Result<()> {
        let _ = out;
        Ok(())
    }

    /// Forgets the state of earlier packets, for a seek into the middle of a track (cheaper
    /// than opening the engine again). Engines whose state a flush leaves (AAC's noise
    /// generator) then decode in their last bits unlike a decode from the start.
    fn reset(&mut self);

    /// The rate and channel count of the samples it gives (known before the first packet
    /// for every codec here but AAC with SBR, where the first packet may change it).
    fn output(&self) -> (u32, u16);
}

/// Converts integer samples the way libswresample converts them to float: `x / 2^(bits-1)`
/// (a product with an exact power of two), so integer codecs match `ffmpeg -f f32le`.
#[inline]
pub(crate) fn int_to_f32(x: i32, bits: u32) -> f32 {
    x as f32 * (1.0 / (1u64 << (bits - 1)) as f32)
}

/// The engines that decode `codec` without FFmpeg, best first.
pub(crate) fn builtin_for(codec: AudioCodec) -> Option<Engine> {
    match codec {
        AudioCodec::Opus => Some(Engine::Ropus),
        AudioCodec::Aac
        | AudioCodec::Mp3
        | AudioCodec::Mp2
        | AudioCodec::Flac
        | AudioCodec::Vorbis
        | AudioCodec::Pcm => Some(Engine::Symphonia),
        AudioCodec::Ac3 | AudioCodec::Eac3 => None,
    }
}

/// Opens FFmpeg's decoder for `params`, where FFmpeg is loaded and has one.
pub(crate) fn open_ffmpeg(params: &AudioParams) -> Result<Box<dyn AudioEngine>> {
    if let Err(why) = crate::backend::ffmpeg::sys::get() {
        return Err(crate::error::Error::Unsupported {
            what: format!("{} audio decode with ffmpeg", params.codec.name()),
            why: format!("unavailable: {why}"),
        });
    }
    // The engine's own refusal says why: no decoder for the codec, or a libavcodec major
    // whose audio fields are not measured.
    Ok(Box::new(crate::backend::ffmpeg::audio::FfmpegAudioEngine::open(params)?))
}
