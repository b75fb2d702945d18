//! The built-in Opus engine: ropus, libopus ported to Rust, bit-exact against its
//! fixed-point build. Mono, stereo and multistream (surround, RFC 7845 mapping family 1)
//! at 48 kHz, the rate Opus decodes at and FFmpeg gives.

use ropus::OpusMSDecoder;

use super::{AudioEngine, AudioParams, Planar};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::media::CodecConfig;

/// Opus decodes at 48 kHz; other rates are the resampler's job, as in FFmpeg.
const RATE: u32 = 48_000;
/// The longest Opus packet: 120 ms.
const MAX_FRAME: usize = 5760;

/// One multistream decoder (a single stream for mono and stereo).
pub(crate) struct OpusEngine {
    decoder: OpusMSDecoder,
    head: Head,
    pcm: Vec<i16>,
}

/// What the engine reads of the `OpusHead`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    channels: u16,
    streams: u8,
    coupled: u8,
    mapping: Vec<u8>,
    /// Output gain in Q7.8 dB.
    gain: i16,
    /// Channel mapping family (0: mono/stereo, 1: Vorbis order surround).
    family: u8,
}

impl Head {
    /// Parses an `OpusHead` (RFC 7845 section 5.1); with none, a stereo or mono default.
    fn parse(config: &CodecConfig, channels: u16) -> Result<Head> {
        let b = match config {
            CodecConfig::OpusHead(b) | CodecConfig::Raw(b) => b.as_slice(),
            _ => &[],
        };
        let bad = |why: &str| Error::invalid_bitstream(0, format!("OpusHead: {why}"));
        if b.is_empty() {
            let ch = channels.clamp(1, 2);
            return Ok(Head {
                channels: ch,
                streams: 1,
                coupled: u8::from(ch == 2),
                mapping: (0..ch as u8).collect(),
                gain: 0,
                family: 0,
            });
        }
        if b.len() < 19 || &b[..8] != b"OpusHead" {
            return Err(bad("shorter than 19 bytes or without its magic"));
        }
        let ch = u16::from(b[9]);
        let gain = i16::from_le_bytes([b[16], b[17]]);
        if ch == 0 {
            return Err(bad("0 channels"));
        }
        if b[18] == 0 {
            if ch > 2 {
                return Err(bad("mapping family 0 with more than 2 channels"));
            }
            return Ok(Head {
                channels: ch,
                streams: 1,
                coupled: u8::from(ch == 2),
                mapping: (0..ch as u8).collect(),
                gain,
                family: 0,
            });
        }
        if b.len() < 21 + ch as usize {
            return Err(bad("channel mapping table cut short"));
        }
        let (streams, coupled) = (b[19], b[20]);
        Ok(Head { channels: ch, streams, coupled, mapping: b[21..21 + ch as usize].to_vec(), gain, family: b[18] })
    }
}

impl OpusEngine {
    /// Opens a decoder for the track's `OpusHead`.
    pub(crate) fn open(params: &AudioParams) -> Result<Self> {
        let head = Head::parse(&params.config, params.channels)?;
        let decoder = OpusMSDecoder::new(
            RATE as i32,
            i32::from(head.channels),
            i32::from(head.streams),
            i32::from(head.coupled),
            &head.mapping,
        )
        .map_err(|code| Error::Unsupported {
            what: "opus audio decode".into(),
            why: format!(
                "ropus refused the stream layout ({} channels, {} streams): code {code}",
                head.channels, head.streams
            ),
        })?;
        Ok(OpusEngine { decoder, pcm: vec![0; MAX_FRAME * head.channels as usize], head })
    }
}

impl AudioEngine for OpusEngine {
    fn engine(&self) -> Engine {
        Engine::Ropus
    }

    fn describe(&self) -> String {
        "ropus opus".into()
    }

    fn decode(&mut self, packet: &[u8], out: &mut Planar) -> Result<()> {
        let ch = self.head.channels as usize;
        out.ensure_channels(ch);
        // A port of C may panic where the C had undefined behaviour on crafted input: such a
        // packet is damage, and the decoder starts again for the next one.
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.decoder.decode(Some(packet), packet.len() as i32, &mut self.pcm, MAX_FRAME as i32, false)
        }));
        let what = || format!("opus packet of {} bytes", packet.len());
        let n = match decoded {
            Ok(r) => r.map_err(|code| Error::invalid_bitstream(0, format!("{}: ropus code {code}", what())))?,
            Err(_) => {
                self.reset();
                return Err(Error::invalid_bitstream(0, format!("{}: the decoder failed on it", what())));
            }
        };
        let n = usize::try_from(n).unwrap_or(0).min(MAX_FRAME);
        // The header's output gain (Q7.8 dB), applied as decoders must (RFC 7845 5.1).
        let gain = if self.head.gain == 0 { 1.0 } else { 10f32.powf(f32::from(self.head.gain) / (20.0 * 256.0)) };
        let order = ffmpeg_order(ch, self.head.family);
        for (dst, &c) in out.channels.iter_mut().zip(order) {
            dst.extend(self.pcm[..n * ch].iter().skip(c).step_by(ch).map(|&s| f32::from(s) * (1.0 / 32768.0) * gain));
        }
        Ok(())
    }

    fn reset(&mut self) {
        if let Ok(d) = OpusMSDecoder::new(
            RATE as i32,
            i32::from(self.head.channels),
            i32::from(self.head.streams),
            i32::from(self.head.coupled),
            &self.head.mapping,
        ) {
            self.decoder = d;
        }
    }

    fn output(&self) -> (u32, u16) {
        (RATE, self.head.channels)
    }
}

/// The Vorbis channel order of mapping family 1 (RFC 7845 5.1.1.2) in FFmpeg's order: output
/// channel `i` is decoded channel `order[i]` (FFmpeg's `ff_vorbis_channel_layout_offsets`).
fn ffmpeg_order(channels: usize, family: u8) -> &'static [usize] {
    const IDENTITY: [usize; 255] = {
        let mut a = [0usize; 255];
        let mut i = 0;
        while i < 255 {
            a[i] = i;
            i += 1;
        }
        a
    };
    if family != 1 {
        return &IDENTITY[..channels.min(255)];
    }
    match channels {
        3 => &[0, 2, 1],
        5 => &[0, 2, 1, 3, 4],
        6 => &[0, 2, 1, 5, 3, 4],
        7 => &[0, 2, 1, 6, 5, 3, 4],
        8 => &[0, 2, 1, 7, 5, 6, 3, 4],
        n => &IDENTITY[..n.min(255)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_head_is_checked() {
        let mut h = b"OpusHead".to_vec();
        h.extend([1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0]);
        let head = Head::parse(&CodecConfig::OpusHead(h.clone()), 2).unwrap();
        assert_eq!((head.channels, head.streams, head.coupled), (2, 1, 1));
        h[18] = 1;
        assert!(Head::parse(&CodecConfig::OpusHead(h), 2).is_err(), "family 1 needs its table");
        assert!(Head::parse(&CodecConfig::OpusHead(b"OpusHea".to_vec()), 2).is_err());
    }
}
