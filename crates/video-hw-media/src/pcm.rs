//! How uncompressed (PCM) audio samples are stored.

/// The storage of PCM samples: a track's [`CodecConfig::Pcm`](super::CodecConfig::Pcm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PcmFormat {
    /// Bits per sample (8, 16, 24, 32 or 64).
    pub bits: u16,
    /// IEEE float samples.
    pub float: bool,
    /// Big-endian bytes.
    pub big_endian: bool,
    /// Signed integers (8-bit WAV is unsigned).
    pub signed: bool,
}

impl PcmFormat {
    /// FFmpeg's name of the codec: `pcm_s16le`, `pcm_f32le`, `pcm_u8`, `pcm_s24be`, ….
    pub fn ffmpeg_name(self) -> String {
        let kind = if self.float {
            'f'
        } else if self.signed {
            's'
        } else {
            'u'
        };
        let endian = if self.bits == 8 {
            ""
        } else if self.big_endian {
            "be"
        } else {
            "le"
        };
        format!("pcm_{kind}{}{endian}", self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_ffmpegs() {
        let f = |bits, float, big_endian, signed| PcmFormat { bits, float, big_endian, signed }.ffmpeg_name();
        assert_eq!(f(16, false, false, true), "pcm_s16le");
        assert_eq!(f(8, false, false, false), "pcm_u8");
        assert_eq!(f(32, true, false, true), "pcm_f32le");
        assert_eq!(f(24, false, true, true), "pcm_s24be");
    }
}
