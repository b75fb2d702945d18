//! The AC-3 frame header (ATSC A/52 5.3: syncinfo and the start of the bit stream
//! information): sample rate, channels and layout, for containers that state no audio
//! facts of their own (MPEG-TS). E-AC-3 frames (bsid 11 to 16) are told apart and read
//! for the same facts (A/52 annex E).

use super::bits::Bits;
use super::layout::{ChannelLayout, ch::*};
use video_hw_types::error::{Error, Result};

/// An AC-3 or E-AC-3 frame header's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ac3Header {
    /// `bsid`: 8 or less for AC-3, 11 to 16 for E-AC-3.
    pub bsid: u8,
    /// Samples per second.
    pub sample_rate: u32,
    /// `acmod`: the full-bandwidth channels' arrangement (0: 1+1 dual mono, 1: 1/0,
    /// 2: 2/0, … 7: 3/2).
    pub acmod: u8,
    /// The low-frequency effects channel is on.
    pub lfe: bool,
}

/// Speakers of each `acmod`, as FFmpeg's decoder lays them out (dual mono as stereo,
/// 2/1's surround as back centre, 2/2 and 3/2's surrounds as sides).
const ACMOD_MASKS: [u64; 8] =
    [FL | FR, FC, FL | FR, FL | FR | FC, FL | FR | BC, FL | FR | FC | BC, FL | FR | SL | SR, FL | FR | FC | SL | SR];

impl Ac3Header {
    /// Reads the header at the start of `bytes` (sync word 0x0B77). Errors carry the byte
    /// offset inside `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Ac3Header> {
        if bytes.len() < 2 || bytes[..2] != [0x0b, 0x77] {
            return Err(Error::invalid_bitstream(0, "AC-3 header: no sync word"));
        }
        let mut b = Bits::new(bytes.get(2..).unwrap_or(&[]), "AC-3 header");
        // bsid is the top 5 bits of byte 5 in both: after AC-3's crc1, fscod and
        // frmsizecod, and after E-AC-3's strmtyp, substreamid, frmsiz, fscod,
        // numblkscod, acmod and lfeon; it says which syntax the rest follows.
        let bsid = bytes.get(5).map(|x| x >> 3).ok_or_else(|| b.error("ends before bsid"))?;
        if bsid <= 10 {
            b.skip(16, "crc1")?;
            let fscod = b.read(2, "fscod")?;
            b.skip(6, "frmsizecod")?;
            let sample_rate = match fscod {
                0 => 48000,
                1 => 44100,
                2 => 32000,
                _ => return Err(b.error("reserved fscod")),
            } >> bsid.saturating_sub(8).min(2);
            b.skip(5 + 3, "bsid and bsmod")?;
            let acmod = b.read(3, "acmod")? as u8;
            if acmod & 1 != 0 && acmod != 1 {
                b.skip(2, "cmixlev")?;
            }
            if acmod & 4 != 0 {
                b.skip(2, "surmixlev")?;
            }
            if acmod == 2 {
                b.skip(2, "dsurmod")?;
            }
            let lfe = b.flag("lfeon")?;
            return Ok(Ac3Header { bsid, sample_rate, acmod, lfe });
        }
        b.skip(2 + 3 + 11, "strmtyp, substreamid and frmsiz")?;
        let fscod = b.read(2, "fscod")?;
        let code2 = b.read(2, "fscod2 or numblkscod")?;
        let sample_rate = match (fscod, code2) {
            (0, _) => 48000,
            (1, _) => 44100,
            (2, _) => 32000,
            (_, 0) => 24000,
            (_, 1) => 22050,
            (_, 2) => 16000,
            _ => return Err(b.error("reserved fscod2")),
        };
        let acmod = b.read(3, "acmod")? as u8;
        let lfe = b.flag("lfeon")?;
        Ok(Ac3Header { bsid, sample_rate, acmod, lfe })
    }

    /// Channels, the LFE channel included.
    pub fn channels(&self) -> u16 {
        self.layout().channels
    }

    /// The layout FFmpeg's decoder outputs.
    pub fn layout(&self) -> ChannelLayout {
        let mask = ACMOD_MASKS[usize::from(self.acmod & 7)] | if self.lfe { LFE } else { 0 };
        ChannelLayout::from_mask(mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ac3_and_eac3() {
        // 48 kHz, bsid 8, acmod 7 (3/2), cmixlev, surmixlev, lfeon.
        let h = Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0x1c, 0x40, 0xe1, 0x08]).unwrap();
        assert_eq!((h.sample_rate, h.acmod, h.lfe, h.channels()), (48000, 7, true, 6));
        assert_eq!(h.layout().name(), "5.1(side)");
        // Stereo: acmod 2, dsurmod, lfeon 0.
        let h = Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0x1c, 0x40, 0x40, 0x00]).unwrap();
        assert_eq!((h.channels(), h.layout().name()), (2, "stereo".into()));
        // E-AC-3, bsid 16, 48 kHz, acmod 2, lfe.
        let h = Ac3Header::parse(&[0x0b, 0x77, 0x00, 0x7f, 0x35, 0x80]).unwrap();
        assert_eq!((h.bsid, h.sample_rate, h.acmod, h.lfe, h.channels()), (16, 48000, 2, true, 3));
        assert!(Ac3Header::parse(&[0x0b, 0x77, 0, 0]).is_err());
        assert!(Ac3Header::parse(&[0x0b, 0x76, 0, 0, 0, 0x40, 0, 0]).is_err());
    }
}
