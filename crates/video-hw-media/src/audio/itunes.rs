//! iTunes gapless information: the `iTunSMPB` text Apple's encoders write into an MP4's
//! metadata (and as an ID3/Vorbis comment elsewhere), which says how many samples of
//! encoder priming to drop at the start and of padding at the end.

use video_hw_types::error::{Error, Result};

/// The `iTunSMPB` fields that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ItunSmpb {
    /// Samples (per channel, at the output rate) of encoder delay before the audio.
    pub priming: u32,
    /// Samples after the audio to the end of the last frame.
    pub padding: u32,
    /// Samples of audio between the two (the original length).
    pub samples: u64,
}

impl ItunSmpb {
    /// Parses the text: hexadecimal words separated by spaces, the second the priming,
    /// the third the padding and the fourth the sample count (`" 00000000 00000840
    /// 000001CC 00000000000AC1F4 …"`). Errors carry the byte offset in `text` of the bad
    /// word.
    pub fn parse(text: &str) -> Result<ItunSmpb> {
        let mut words = Vec::with_capacity(4);
        let mut at = 0usize;
        for w in text.split([' ', '\t', '\n', '\r', '\0']) {
            if !w.is_empty() {
                words.push((at, w));
                if words.len() == 4 {
                    break;
                }
            }
            at += w.len() + 1;
        }
        if words.len() < 4 {
            return Err(Error::invalid_bitstream(0, "iTunSMPB: fewer than 4 words"));
        }
        let hex = |(at, w): (usize, &str)| -> Result<u64> {
            u64::from_str_radix(w, 16).map_err(|_| {
                Error::invalid_bitstream(at as u64, format!("iTunSMPB: '{w}' is not a hexadecimal number"))
            })
        };
        let small = |(at, w): (usize, &str)| -> Result<u32> {
            u32::try_from(hex((at, w))?).map_err(|_| Error::invalid_bitstream(at as u64, "iTunSMPB: over 32 bits"))
        };
        Ok(ItunSmpb { priming: small(words[1])?, padding: small(words[2])?, samples: hex(words[3])? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_example() {
        let s = " 00000000 00000840 000001CC 00000000000AC1F4 00000000 00000000 00000000 00000000";
        assert_eq!(ItunSmpb::parse(s).unwrap(), ItunSmpb { priming: 0x840, padding: 0x1cc, samples: 0xac1f4 });
        let e = ItunSmpb::parse(" 0 840 zz 10").unwrap_err().to_string();
        assert!(e.contains("at byte 7") && e.contains("'zz'"), "{e}");
        assert!(ItunSmpb::parse("0 1 2").is_err());
        assert!(ItunSmpb::parse("0 100000000 0 0").is_err());
        assert!(ItunSmpb::parse("").is_err());
    }
}
