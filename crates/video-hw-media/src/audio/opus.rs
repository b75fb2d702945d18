//! The Opus identification header (`OpusHead`, RFC 7845 5.1): what Ogg's first packet,
//! Matroska's CodecPrivate and (converted from MP4's `dOps`) this crate's
//! [`CodecConfig::OpusHead`](crate::CodecConfig::OpusHead) hold.

use super::layout::{ChannelLayout, vorbis_order};
use video_hw_types::error::{Error, Result};

/// An `OpusHead`, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OpusHead {
    /// Output channels (1 to 255).
    pub channels: u16,
    /// Samples at 48 kHz to drop from the start of the decoded output (the encoder's
    /// priming).
    pub pre_skip: u16,
    /// The sample rate of the encoder's input (informational: Opus decodes at 48 kHz).
    pub input_rate: u32,
    /// Gain to apply to the output, in Q7.8 dB.
    pub output_gain: i16,
    /// Channel mapping family: 0 (mono/stereo), 1 (Vorbis order, up to 8), 2 and 3
    /// (ambisonics), 255 (no defined meaning).
    pub mapping_family: u8,
    /// Opus streams in each packet (1 for family 0).
    pub streams: u8,
    /// Of those, the coupled (stereo) ones (`channels - 1` for family 0).
    pub coupled: u8,
    /// For each output channel, the decoded channel it takes (255: silence); for
    /// family 0 the identity.
    pub mapping: Vec<u8>,
}

/// The shortest header: magic, version, channels, pre-skip, rate, gain, family.
const MIN_LEN: usize = 19;

impl OpusHead {
    /// Parses the header (bytes from `OpusHead` on). Errors carry the byte offset inside
    /// `bytes`. Versions 0.x (major 0) are read; later fields are ignored as RFC 7845 asks.
    pub fn parse(bytes: &[u8]) -> Result<OpusHead> {
        let err = |at: u64, why: &str| Error::invalid_bitstream(at, format!("OpusHead: {why}"));
        if bytes.len() < MIN_LEN {
            return Err(err(0, "shorter than 19 bytes"));
        }
        if &bytes[..8] != b"OpusHead" {
            return Err(err(0, "no 'OpusHead' magic"));
        }
        if bytes[8] & 0xf0 != 0 {
            return Err(err(8, "unsupported major version"));
        }
        let channels = bytes[9];
        if channels == 0 {
            return Err(err(9, "0 channels"));
        }
        let pre_skip = u16::from_le_bytes([bytes[10], bytes[11]]);
        let input_rate = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let output_gain = i16::from_le_bytes([bytes[16], bytes[17]]);
        let mapping_family = bytes[18];
        if mapping_family == 0 {
            if channels > 2 {
                return Err(err(9, "mapping family 0 with more than 2 channels"));
            }
            return Ok(OpusHead {
                channels: u16::from(channels),
                pre_skip,
                input_rate,
                output_gain,
                mapping_family,
                streams: 1,
                coupled: channels - 1,
                mapping: (0..channels).collect(),
            });
        }
        let n = usize::from(channels);
        let Some(table) = bytes.get(MIN_LEN..MIN_LEN + 2 + n) else {
            return Err(err(MIN_LEN as u64, "channel mapping table cut short"));
        };
        let (streams, coupled) = (table[0], table[1]);
        if streams == 0 {
            return Err(err(19, "0 streams"));
        }
        if coupled > streams || usize::from(streams) + usize::from(coupled) > 255 {
            return Err(err(20, "more coupled streams than streams, or over 255 decoded channels"));
        }
        let decoded = streams + coupled;
        if let Some(i) = table[2..].iter().position(|&m| m != 255 && m >= decoded) {
            return Err(err((21 + i) as u64, "channel mapping past the decoded channels"));
        }
        if mapping_family == 1 && channels > 8 {
            return Err(err(9, "mapping family 1 with more than 8 channels"));
        }
        Ok(OpusHead {
            channels: u16::from(channels),
            pre_skip,
            input_rate,
            output_gain,
            mapping_family,
            streams,
            coupled,
            mapping: table[2..].to_vec(),
        })
    }

    /// The layout FFmpeg's decoder outputs: mono or stereo for family 0, the Vorbis
    /// channel order for family 1 (RFC 7845 5.1.1.2: 3.0, quad, 5.0, 5.1, 6.1, 7.1 in
    /// FFmpeg's names), unspecified for the others.
    pub fn layout(&self) -> ChannelLayout {
        match self.mapping_family {
            0 | 1 => vorbis_order(self.channels),
            _ => ChannelLayout::unspecified(self.channels),
        }
    }

    /// The header's bytes (version 1), as Ogg and Matroska store it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = b"OpusHead".to_vec();
        b.push(1);
        b.push(self.channels.min(255) as u8);
        b.extend(self.pre_skip.to_le_bytes());
        b.extend(self.input_rate.to_le_bytes());
        b.extend(self.output_gain.to_le_bytes());
        b.push(self.mapping_family);
        if self.mapping_family != 0 {
            b.push(self.streams);
            b.push(self.coupled);
            b.extend(&self.mapping);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, family: u8, tail: &[u8]) -> Vec<u8> {
        let mut b = b"OpusHead".to_vec();
        b.extend([1, channels, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, family]);
        b.extend(tail);
        b
    }

    #[test]
    fn stereo_family_0() {
        let h = OpusHead::parse(&head(2, 0, &[])).unwrap();
        assert_eq!((h.channels, h.pre_skip, h.input_rate, h.streams, h.coupled), (2, 312, 48000, 1, 1));
        assert_eq!(h.layout().name(), "stereo");
        assert_eq!(h.to_bytes(), head(2, 0, &[]));
    }

    #[test]
    fn surround_family_1() {
        let bytes = head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5]);
        let h = OpusHead::parse(&bytes).unwrap();
        assert_eq!((h.streams, h.coupled, h.layout().name()), (4, 2, "5.1".into()));
        assert_eq!(h.to_bytes(), bytes);
        assert_eq!(OpusHead::parse(&head(3, 255, &[3, 0, 0, 1, 2])).unwrap().layout().name(), "3 channels");
    }

    #[test]
    fn bad_headers() {
        for (bytes, what) in [
            (head(3, 0, &[]), "family 0"),
            (head(6, 1, &[4, 2, 0, 4]), "cut short"),
            (head(2, 1, &[1, 2, 0, 1]), "coupled"),
            (head(2, 1, &[1, 0, 0, 1]), "past the decoded"),
            (head(0, 0, &[]), "0 channels"),
            (b"OpusTags".to_vec(), "shorter"),
        ] {
            let e = OpusHead::parse(&bytes).unwrap_err().to_string();
            assert!(e.contains(what), "{what}: {e}");
        }
    }
}
