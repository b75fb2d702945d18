//! The built-in audio engine for AAC-LC, MP3 (MP1, MP2), FLAC, Vorbis and PCM: Symphonia's
//! pure-Rust decoders (PCM is read here directly: it needs no decoder).

use symphonia::core::audio::{Audio, GenericAudioBufferRef};
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_FLAC, CODEC_ID_MP2, CODEC_ID_MP3, CODEC_ID_VORBIS,
};
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::packet::Packet;
use symphonia::core::units::{Duration, Timestamp};

use super::{AudioEngine, AudioParams, Planar, int_to_f32};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::media::{AudioCodec, CodecConfig, PcmFormat};

/// A Symphonia decoder, or the PCM reader, for one track.
pub(crate) struct SymphoniaEngine {
    inner: Inner,
    codec: AudioCodec,
    rate: u32,
    channels: u16,
}

enum Inner {
    Decoder(Box<dyn AudioDecoder>),
    Pcm(PcmFormat),
}

impl SymphoniaEngine {
    /// Opens the decoder for `params.codec`.
    pub(crate) fn open(params: &AudioParams) -> Result<Self> {
        let unsupported =
            |why: String| Error::Unsupported { what: format!("{} audio decode", params.codec.name()), why };
        if params.codec == AudioCodec::Pcm {
            let pcm = params.pcm.ok_or_else(|| unsupported("the track does not say how its PCM is stored".into()))?;
            if !matches!((pcm.bits, pcm.float), (8 | 16 | 24 | 32, false) | (32 | 64, true)) {
                return Err(unsupported(format!(
                    "{}-bit {} PCM",
                    pcm.bits,
                    if pcm.float { "float" } else { "integer" }
                )));
            }
            if params.channels == 0 || params.sample_rate == 0 {
                return Err(unsupported("PCM without a channel count or sample rate".into()));
            }
            return Ok(SymphoniaEngine {
                inner: Inner::Pcm(pcm),
                codec: params.codec,
                rate: params.sample_rate,
                channels: params.channels,
            });
        }
        let id = match params.codec {
            AudioCodec::Aac => CODEC_ID_AAC,
            AudioCodec::Mp3 => CODEC_ID_MP3,
            AudioCodec::Mp2 => CODEC_ID_MP2,
            AudioCodec::Flac => CODEC_ID_FLAC,
            AudioCodec::Vorbis => CODEC_ID_VORBIS,
            other => return Err(unsupported(format!("the built-in engines have no {} decoder", other.name()))),
        };
        let mut cp = AudioCodecParameters::new();
        cp.for_codec(id);
        if params.sample_rate > 0 {
            cp.with_sample_rate(params.sample_rate);
        }
        if let Some(extra) = extra_data(params)? {
            cp.with_extra_data(extra.into_boxed_slice());
        }
        if params.codec == AudioCodec::Vorbis && params.channels > 2 {
            // Symphonia's Vorbis decoder gets more than two channels wrong (22 dB and less
            // from FFmpeg's on the 5.1 fixture): refused rather than given out.
            return Err(unsupported(format!(
                "Vorbis of {} channels (Symphonia decodes mono and stereo right; FFmpeg decodes more)",
                params.channels
            )));
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&cp, &AudioDecoderOptions::default())
            .map_err(|e| unsupported(format!("symphonia: {e}")))?;
        let out = decoder.codec_params();
        let rate = out.sample_rate.unwrap_or(params.sample_rate);
        let channels = out.channels.as_ref().map_or(params.channels, |c| c.count() as u16);
        Ok(SymphoniaEngine { inner: Inner::Decoder(decoder), codec: params.codec, rate, channels })
    }
}

/// The decoder's extra data from the container's configuration: the AudioSpecificConfig for
/// AAC, the Vorbis identification and setup headers (Xiph-laced, as Matroska keeps them, or
/// back to back), FLAC's STREAMINFO (without the `fLaC` marker and block header).
fn extra_data(params: &AudioParams) -> Result<Option<Vec<u8>>> {
    Ok(match (&params.config, params.codec) {
        (CodecConfig::AudioSpecificConfig(b), _) => Some(b.clone()),
        (CodecConfig::Raw(b), AudioCodec::Flac) => Some(flac_streaminfo(b).to_vec()),
        (CodecConfig::Raw(b), _) if !b.is_empty() => Some(b.clone()),
        (CodecConfig::None, AudioCodec::Aac) => {
            // MPEG-TS gives ADTS frames' payloads without a configuration: build one from
            // the container's facts (AAC-LC, as ADTS carries only the four base profiles).
            Some(aac_lc_config(params.sample_rate, params.channels))
        }
        _ => None,
    })
}

/// FLAC's STREAMINFO block: Matroska and MP4 keep `fLaC` and a 4-byte block header (or
/// just the block header) before its 34 bytes.
fn flac_streaminfo(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"fLaC").unwrap_or(b);
    if b.len() >= 38 && b[0] & 0x7f == 0 { &b[4..38] } else { b }
}

/// A 2-byte AudioSpecificConfig of AAC-LC at `rate` with `channels`.
pub(crate) fn aac_lc_config(rate: u32, channels: u16) -> Vec<u8> {
    const RATES: [u32; 13] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
    let idx = RATES.iter().position(|&r| r == rate).unwrap_or(4) as u16;
    let v: u16 = (2 << 11) | (idx << 7) | ((channels.min(7)) << 3);
    v.to_be_bytes().to_vec()
}

impl AudioEngine for SymphoniaEngine {
    fn engine(&self) -> Engine {
        Engine::Symphonia
    }

    fn describe(&self) -> String {
        format!("symphonia {}", self.codec.name())
    }

    fn decode(&mut self, packet: &[u8], out: &mut Planar) -> Result<()> {
        match &mut self.inner {
            Inner::Pcm(f) => {
                out.ensure_channels(self.channels as usize);
                pcm_to_planar(*f, packet, out);
                Ok(())
            }
            Inner::Decoder(d) => {
                // MPEG-TS packs several MPEG audio frames into one packet; the decoder takes one.
                let pieces = if matches!(self.codec, AudioCodec::Mp3 | AudioCodec::Mp2) {
                    super::mpa::frames(packet)
                } else {
                    vec![packet]
                };
                for piece in pieces {
                    let p = Packet::new(0, Timestamp::new(0), Duration::new(0), piece.to_vec());
                    // Symphonia's decoders can panic on crafted packets (FLAC's predictor
                    // overflows where overflow checks are on, found by fuzz/audio_decode):
                    // such a packet is damage, and the decoder is reset for the next one.
                    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        d.decode(&p).map(|buf| {
                            append(&buf, out);
                            (buf.spec().rate(), buf.num_planes() as u16)
                        })
                    }));
                    let name = self.codec.name();
                    match decoded {
                        Ok(Ok((rate, channels))) => (self.rate, self.channels) = (rate, channels),
                        Ok(Err(e)) => return Err(Error::invalid_bitstream(0, format!("{name}: {e}"))),
                        Err(_) => {
                            d.reset();
                            return Err(Error::invalid_bitstream(
                                0,
                                format!("{name}: the decoder failed on this packet"),
                            ));
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn reset(&mut self) {
        if let Inner::Decoder(d) = &mut self.inner {
            d.reset();
        }
    }

    fn output(&self) -> (u32, u16) {
        (self.rate, self.channels)
    }
}

/// Appends a decoded buffer's planes to `out`, converting as libswresample would.
fn append(buf: &GenericAudioBufferRef<'_>, out: &mut Planar) {
    fn planes<S: symphonia::core::audio::sample::Sample, B: Audio<S>>(b: &B, out: &mut Planar, f: impl Fn(S) -> f32) {
        out.ensure_channels(b.num_planes());
        for (i, dst) in out.channels.iter_mut().enumerate().take(b.num_planes()) {
            if let Some(p) = b.plane(i) {
                dst.extend(p.iter().map(|&s| f(s)));
            }
        }
    }
    match buf {
        GenericAudioBufferRef::F32(b) => planes(*b, out, |s| s),
        GenericAudioBufferRef::F64(b) => planes(*b, out, |s| s as f32),
        GenericAudioBufferRef::S16(b) => planes(*b, out, |s| int_to_f32(i32::from(s), 16)),
        GenericAudioBufferRef::S24(b) => planes(*b, out, |s| int_to_f32(s.inner(), 24)),
        GenericAudioBufferRef::S32(b) => planes(*b, out, |s| int_to_f32(s, 32)),
        GenericAudioBufferRef::S8(b) => planes(*b, out, |s| int_to_f32(i32::from(s), 8)),
        GenericAudioBufferRef::U8(b) => planes(*b, out, |s| int_to_f32(i32::from(s) - 128, 8)),
        GenericAudioBufferRef::U16(b) => planes(*b, out, |s| int_to_f32(i32::from(s) - 32768, 16)),
        GenericAudioBufferRef::U24(b) => planes(*b, out, |s| int_to_f32(s.inner() as i32 - (1 << 23), 24)),
        GenericAudioBufferRef::U32(b) => planes(*b, out, |s| int_to_f32((s ^ 0x8000_0000) as i32, 32)),
    }
}

/// Interleaved PCM bytes to planar `f32` (a trailing partial sample frame is dropped).
pub(crate) fn pcm_to_planar(f: PcmFormat, data: &[u8], out: &mut Planar) {
    let n = out.channels.len();
    let width = usize::from(f.bits / 8);
    if n == 0 || width == 0 {
        return;
    }
    let frames = data.len() / (width * n);
    for c in &mut out.channels {
        c.reserve(frames);
    }
    for frame in data.chunks_exact(width * n) {
        for (ch, s) in out.channels.iter_mut().zip(frame.chunks_exact(width)) {
            ch.push(pcm_sample(f, s));
        }
    }
}

fn pcm_sample(f: PcmFormat, s: &[u8]) -> f32 {
    let mut b = [0u8; 8];
    let w = s.len();
    // Little-endian into the low bytes.
    if f.big_endian {
        for (i, &x) in s.iter().rev().enumerate() {
            b[i] = x;
        }
    } else {
        b[..w].copy_from_slice(s);
    }
    let raw = u64::from_le_bytes(b);
    if f.float {
        return if w == 8 { f64::from_bits(raw) as f32 } else { f32::from_bits(raw as u32) };
    }
    let bits = (w * 8) as u32;
    let v = if f.signed {
        ((raw << (64 - bits)) as i64 >> (64 - bits)) as i32
    } else {
        (raw as i64 - (1i64 << (bits - 1))) as i32
    };
    // 24-bit samples reach ffmpeg's float output through s32 (x << 8); the result is x / 2^23.
    int_to_f32(v, bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_conversions_match_libswresample() {
        let mut out = Planar::with_channels(1);
        let s16 = PcmFormat { bits: 16, float: false, big_endian: false, signed: true };
        pcm_to_planar(s16, &[0x00, 0x80, 0xff, 0x7f, 0x00, 0x40], &mut out);
        assert_eq!(out.channels[0], vec![-1.0, 32767.0 / 32768.0, 0.5]);
        let mut out = Planar::with_channels(1);
        let u8f = PcmFormat { bits: 8, float: false, big_endian: false, signed: false };
        pcm_to_planar(u8f, &[0, 128, 255], &mut out);
        assert_eq!(out.channels[0], vec![-1.0, 0.0, 127.0 / 128.0]);
        let mut out = Planar::with_channels(2);
        let s24 = PcmFormat { bits: 24, float: false, big_endian: false, signed: true };
        pcm_to_planar(s24, &[0, 0, 0x80, 0xff, 0xff, 0x7f, 1], &mut out);
        assert_eq!(out.channels[0], vec![-1.0]);
        assert_eq!(out.channels[1], vec![8388607.0 / 8388608.0]);
    }

    #[test]
    fn aac_config_of_container_facts() {
        assert_eq!(aac_lc_config(48000, 2), vec![0x11, 0x90]);
        assert_eq!(aac_lc_config(44100, 1), vec![0x12, 0x08]);
    }
}
