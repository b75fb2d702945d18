//! AAC configuration: the AudioSpecificConfig that MP4's `esds` and Matroska's
//! CodecPrivate hold (ISO/IEC 14496-3 1.6.2.1), the program_config_element it may carry
//! (4.4.1.1), and the ADTS header MPEG-TS and raw `.aac` files put before every frame
//! (ISO/IEC 13818-7 6.2, ISO/IEC 14496-3 1.A.2).

use super::bits::{BitWriter, Bits};
use super::layout::{ChannelLayout, LAYOUT_22_2, ch::*};
use video_hw_types::error::{Error, Result};

/// Samples per second by `samplingFrequencyIndex` (13 and 14 are reserved, 15 means an
/// explicit 24-bit frequency follows).
pub const SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/// Channels by `channelConfiguration` (0: a program_config_element says; 8 to 10 and 15
/// reserved), ISO/IEC 14496-3:2019 table 1.19.
const CONFIG_CHANNELS: [u16; 16] = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0];

/// The layout FFmpeg's AAC decoder outputs for a `channelConfiguration` (libavcodec
/// `aac_channel_layout`: 5 and 6 are the *back* 5.0/5.1, 7 is `7.1(wide)`); `None` for
/// 0 and the reserved ones.
pub fn layout_of_config(config: u8) -> Option<ChannelLayout> {
    let mask = match config {
        1 => FC,
        2 => FL | FR,
        3 => FL | FR | FC,
        4 => FL | FR | FC | BC,
        5 => FL | FR | FC | BL | BR,
        6 => FL | FR | FC | LFE | BL | BR,
        7 => FL | FR | FC | LFE | BL | BR | FLC | FRC,
        11 => FL | FR | FC | LFE | BL | BR | BC,
        12 => FL | FR | FC | LFE | BL | BR | SL | SR,
        13 => LAYOUT_22_2,
        _ => return None,
    };
    Some(ChannelLayout::from_mask(mask))
}

/// The index of a standard rate in [`SAMPLE_RATES`].
fn rate_index(rate: u32) -> Option<u32> {
    SAMPLE_RATES.iter().position(|&r| r == rate).map(|i| i as u32)
}

/// An AudioSpecificConfig, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioSpecificConfig {
    /// The audio object type of the core coder (2 = AAC LC, 1 = Main, 4 = LTP, 23 = LD,
    /// 39 = ELD, …); with explicit SBR/PS signalling, the type after the extension's
    /// (so HE-AAC reports 2 with [`sbr`](Self::sbr) set).
    pub object_type: u8,
    /// The core coder's samples per second.
    pub sample_rate: u32,
    /// Channels the decoder outputs: from the channel configuration or the
    /// program_config_element, 2 when parametric stereo makes stereo of mono.
    pub channels: u16,
    /// Their layout, as FFmpeg's decoder gives it.
    pub layout: ChannelLayout,
    /// Samples per channel in a frame at the core rate: 1024 or 960 (512 or 480 for
    /// the low-delay types).
    pub frame_length: u32,
    /// Spectral band replication signalled explicitly (HE-AAC).
    pub sbr: bool,
    /// Parametric stereo signalled explicitly (HE-AAC v2).
    pub ps: bool,
    /// Samples per second after SBR (twice the core rate, or the extension's rate);
    /// `sample_rate` without SBR. This is what ffprobe reports as `sample_rate`.
    pub output_rate: u32,
    /// `channelConfiguration` as coded (0: a program_config_element gave the channels).
    pub channel_config: u8,
}

impl AudioSpecificConfig {
    /// Parses `bytes` (an `esds` DecoderSpecificInfo, a Matroska CodecPrivate). Errors
    /// carry the byte offset inside `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut b = Bits::new(bytes, "AudioSpecificConfig");
        let mut object_type = object_type(&mut b)?;
        let sample_rate = frequency(&mut b)?;
        let channel_config = b.read(4, "channelConfiguration")? as u8;
        let (mut sbr, mut ps) = (false, false);
        let mut ext_rate = None;
        if object_type == 5 || object_type == 29 {
            // Explicit hierarchical signalling: the extension first, then the core.
            sbr = true;
            ps = object_type == 29;
            ext_rate = Some(frequency(&mut b)?);
            object_type = self::object_type(&mut b)?;
            if object_type == 22 {
                b.skip(4, "extensionChannelConfiguration")?;
            }
        }
        let mut frame_length = 1024;
        let mut pce_channels = None;
        match object_type {
            1 | 2 | 3 | 4 | 6 | 7 | 17 | 19 | 20 | 21 | 22 | 23 => {
                let short = b.flag("frameLengthFlag")?;
                frame_length = match (object_type, short) {
                    (23, false) => 512,
                    (23, true) => 480,
                    (_, false) => 1024,
                    (_, true) => 960,
                };
                if b.flag("dependsOnCoreCoder")? {
                    b.skip(14, "coreCoderDelay")?;
                }
                let extension = b.flag("extensionFlag")?;
                if channel_config == 0 {
                    pce_channels = Some(program_config_element(&mut b)?);
                }
                if object_type == 6 || object_type == 20 {
                    b.skip(3, "layerNr")?;
                }
                if extension {
                    if object_type == 22 {
                        b.skip(16, "numOfSubFrame and layer_length")?;
                    }
                    if matches!(object_type, 17 | 19 | 20 | 23) {
                        b.skip(3, "resilience flags")?;
                    }
                    b.skip(1, "extensionFlag3")?;
                }
            }
            // ELD, USAC and the rest: their own configs; the channels stand as coded.
            _ => {}
        }
        if !sbr && object_type != 5 {
            // Backward-compatible explicit signalling after the core config.
            let _ = extension_tail(&mut b, &mut sbr, &mut ps, &mut ext_rate);
        }
        let (channels, layout) = match pce_channels {
            Some(l) => (l.channels, l),
            None => {
                let n = CONFIG_CHANNELS[usize::from(channel_config)];
                (n, layout_of_config(channel_config).unwrap_or(ChannelLayout::unspecified(n)))
            }
        };
        // Parametric stereo turns a mono core into stereo output.
        let (channels, layout) = if ps && channels == 1 { (2, ChannelLayout::STEREO) } else { (channels, layout) };
        let output_rate = match (sbr, ext_rate) {
            (true, Some(r)) => r,
            (true, None) => sample_rate.saturating_mul(2),
            (false, _) => sample_rate,
        };
        Ok(AudioSpecificConfig {
            object_type,
            sample_rate,
            channels,
            layout,
            frame_length,
            sbr,
            ps,
            output_rate,
            channel_config,
        })
    }

    /// The config written back: 2 bytes for a core config at a standard rate (object
    /// type < 31, channel configuration, frame length flag), longer for an escaped
    /// object type or an explicit frequency, and with SBR/PS the explicit hierarchical
    /// form (object type 5 or 29 and the output rate first). A program_config_element
    /// is not written (the channel configuration stays 0).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = BitWriter::default();
        let put_type = |w: &mut BitWriter, t: u8| {
            if t >= 31 {
                w.put(5, 31);
                w.put(6, u32::from(t - 32));
            } else {
                w.put(5, u32::from(t));
            }
        };
        let put_rate = |w: &mut BitWriter, r: u32| match rate_index(r) {
            Some(i) => w.put(4, i),
            None => {
                w.put(4, 15);
                w.put(24, r & 0xff_ffff);
            }
        };
        // A config that came with a program_config_element: the channel configuration
        // of the same layout where one exists, else a PCE of front elements.
        let config = match self.channel_config {
            0 => (1..16).find(|&c| layout_of_config(c) == Some(self.layout)).unwrap_or(0),
            c => c & 15,
        };
        if self.sbr {
            put_type(&mut w, if self.ps { 29 } else { 5 });
            put_rate(&mut w, self.sample_rate);
            w.put(4, u32::from(config));
            put_rate(&mut w, self.output_rate);
            put_type(&mut w, self.object_type);
            if self.object_type == 22 {
                w.put(4, u32::from(config)); // extensionChannelConfiguration
            }
        } else {
            put_type(&mut w, self.object_type);
            put_rate(&mut w, self.sample_rate);
            w.put(4, u32::from(config));
        }
        if matches!(self.object_type, 1 | 2 | 3 | 4 | 6 | 7 | 17 | 19 | 20 | 21 | 22 | 23) {
            // GASpecificConfig: frameLengthFlag, dependsOnCoreCoder 0, extensionFlag 0.
            let short = matches!(self.frame_length, 960 | 480);
            w.put(3, u32::from(short) << 2);
            if config == 0 {
                self.write_pce(&mut w);
            }
            if matches!(self.object_type, 6 | 20) {
                w.put(3, 0); // layerNr
            }
        }
        w.finish()
    }

    /// A program_config_element with the channels as front elements (pairs, then a
    /// single for an odd count; at most 15 elements, so 30 channels).
    fn write_pce(&self, w: &mut BitWriter) {
        let channels = self.channels.min(30);
        let (pairs, single) = (channels / 2, channels % 2);
        w.put(4 + 2, 1); // element_instance_tag, object_type (LC)
        w.put(4, rate_index(self.sample_rate).unwrap_or(0));
        w.put(4, u32::from(pairs + single));
        w.put(4 + 4 + 2 + 3 + 4 + 3, 0); // no side, back, LFE, assoc, cc; no mixdowns
        for i in 0..pairs + single {
            w.put(1, u32::from(i < pairs));
            w.put(4, u32::from(i));
        }
        // byte_alignment() counts from the config's first byte, which is the writer's.
        w.align();
        w.put(8, 0); // comment_field_bytes
    }
}

/// `GetAudioObjectType()`: 5 bits, 31 escapes to 32 + 6 more.
fn object_type(b: &mut Bits<'_>) -> Result<u8> {
    let t = b.read(5, "audioObjectType")? as u8;
    if t == 31 { Ok(32 + b.read(6, "audioObjectTypeExt")? as u8) } else { Ok(t) }
}

/// A sampling frequency index, or 15 and an explicit 24-bit frequency.
fn frequency(b: &mut Bits<'_>) -> Result<u32> {
    match b.read(4, "samplingFrequencyIndex")? {
        15 => b.read(24, "samplingFrequency"),
        i => SAMPLE_RATES.get(i as usize).copied().ok_or_else(|| b.error(format_args!("reserved frequency index {i}"))),
    }
}

/// The backward-compatible extension after the core config: sync 0x2b7, SBR's object
/// type and rate, then sync 0x548 and the PS flag. Damage here leaves the core config
/// standing (decoders ignore what they cannot read there).
fn extension_tail(b: &mut Bits<'_>, sbr: &mut bool, ps: &mut bool, ext_rate: &mut Option<u32>) -> Result<()> {
    if b.left() < 16 || b.read(11, "syncExtensionType")? != 0x2b7 {
        return Ok(());
    }
    let ext = object_type(b)?;
    if (ext == 5 || ext == 22) && b.flag("sbrPresentFlag")? {
        let rate = frequency(b)?;
        *sbr = true;
        *ext_rate = Some(rate);
        if ext == 5 && b.left() >= 12 && b.read(11, "syncExtensionType")? == 0x548 {
            *ps = b.flag("psPresentFlag")?;
        }
    }
    Ok(())
}

/// A program_config_element's channels and, where its elements map onto FFmpeg's
/// speakers without doubt, their layout (front: a single element is the centre, pairs
/// are left/right then left/right of centre; side and back pairs; a back single is the
/// back centre; LFE elements).
fn program_config_element(b: &mut Bits<'_>) -> Result<ChannelLayout> {
    b.skip(4 + 2 + 4, "program_config_element header")?;
    let front = b.read(4, "num_front_channel_elements")?;
    let side = b.read(4, "num_side_channel_elements")?;
    let back = b.read(4, "num_back_channel_elements")?;
    let lfe = b.read(2, "num_lfe_channel_elements")?;
    let assoc = b.read(3, "num_assoc_data_elements")?;
    let cc = b.read(4, "num_valid_cc_elements")?;
    for field in ["mono_mixdown", "stereo_mixdown"] {
        if b.flag(field)? {
            b.skip(4, field)?;
        }
    }
    if b.flag("matrix_mixdown_idx_present")? {
        b.skip(3, "matrix_mixdown_idx")?;
    }
    let mut channels = 0u16;
    let mut mask = 0u64;
    let mut ambiguous = false;
    let mut take = |b: &mut Bits<'_>, n: u32, singles: &[u64], pairs: &[u64], field: &str| -> Result<()> {
        let (mut s, mut p) = (0, 0);
        for _ in 0..n {
            let cpe = b.flag(field)?;
            b.skip(4, field)?;
            if cpe {
                channels += 2;
                match pairs.get(p) {
                    Some(m) => mask |= m,
                    None => ambiguous = true,
                }
                p += 1;
            } else {
                channels += 1;
                match singles.get(s) {
                    Some(m) => mask |= m,
                    None => ambiguous = true,
                }
                s += 1;
            }
        }
        Ok(())
    };
    take(b, front, &[FC], &[FL | FR, FLC | FRC], "front element")?;
    take(b, side, &[], &[SL | SR], "side element")?;
    take(b, back, &[BC], &[BL | BR], "back element")?;
    for _ in 0..lfe {
        b.skip(4, "lfe_element_tag_select")?;
        channels += 1;
        mask |= LFE;
    }
    b.skip(assoc as usize * 4, "assoc_data_element_tag_select")?;
    b.skip(cc as usize * 5, "cc_element")?;
    b.align();
    let comment = b.read(8, "comment_field_bytes")?;
    b.skip(comment as usize * 8, "comment_field_data")?;
    if ambiguous || mask.count_ones() != u32::from(channels) {
        return Ok(ChannelLayout::unspecified(channels));
    }
    Ok(ChannelLayout { channels, mask })
}

/// An ADTS header, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// The MPEG-4 audio object type (`profile` + 1: 2 = AAC LC).
    pub object_type: u8,
    /// Samples per second.
    pub sample_rate: u32,
    /// `channel_configuration` (0: a program_config_element in the frame says).
    pub channel_config: u8,
    /// The whole frame's length, header included.
    pub frame_len: usize,
    /// The header's length: 7, or 9 with a CRC.
    pub header_len: usize,
    /// A CRC follows the fixed header (`protection_absent` is 0).
    pub crc: bool,
    /// `number_of_raw_data_blocks_in_frame`: the frame holds this many plus one blocks.
    pub raw_blocks: u8,
}

/// The shortest ADTS header (no CRC).
pub const ADTS_MIN_HEADER: usize = 7;

impl AdtsHeader {
    /// Reads the header at the start of `bytes`: sync word, layer 0, a sampling index
    /// ADTS allows, a frame length that holds the header. Errors carry the byte offset
    /// inside `bytes` of the bad field.
    pub fn parse(bytes: &[u8]) -> Result<AdtsHeader> {
        Self::read(bytes).map_err(|(at, why)| Error::invalid_bitstream(at, format!("ADTS header: {why}")))
    }

    /// [`parse`](Self::parse) without building an error: a demuxer hunting for the
    /// next sync word calls this on every `0xff` byte.
    pub(crate) fn read(b: &[u8]) -> std::result::Result<AdtsHeader, (u64, &'static str)> {
        if b.len() < ADTS_MIN_HEADER {
            return Err((0, "shorter than 7 bytes"));
        }
        if b[0] != 0xff || b[1] & 0xf0 != 0xf0 {
            return Err((0, "no sync word"));
        }
        if b[1] & 0x06 != 0 {
            return Err((1, "layer is not 0"));
        }
        let crc = b[1] & 1 == 0;
        let index = (b[2] >> 2) & 0x0f;
        let Some(&sample_rate) = SAMPLE_RATES.get(usize::from(index)) else {
            return Err((2, "reserved sampling frequency index"));
        };
        let frame_len = (usize::from(b[3] & 3) << 11) | (usize::from(b[4]) << 3) | usize::from(b[5] >> 5);
        let header_len = if crc { 9 } else { 7 };
        if frame_len <= header_len {
            return Err((3, "frame length shorter than the header"));
        }
        Ok(AdtsHeader {
            object_type: (b[2] >> 6) + 1,
            sample_rate,
            channel_config: ((b[2] & 1) << 2) | (b[3] >> 6),
            frame_len,
            header_len,
            crc,
            raw_blocks: b[6] & 3,
        })
    }

    /// Channels (configuration 7 is 8 channels; 0 leaves the count to the frame's
    /// program_config_element: reported as 0).
    pub fn channels(&self) -> u16 {
        CONFIG_CHANNELS[usize::from(self.channel_config & 7)]
    }

    /// The layout FFmpeg's decoder gives the channel configuration (unspecified for 0).
    pub fn layout(&self) -> ChannelLayout {
        layout_of_config(self.channel_config).unwrap_or(ChannelLayout::unspecified(self.channels()))
    }

    /// Samples per channel in the frame (1024 per raw data block).
    pub fn samples(&self) -> u32 {
        1024 * (u32::from(self.raw_blocks) + 1)
    }

    /// The 2-byte AudioSpecificConfig of the stream (ISO/IEC 14496-3 1.6.2.1): object
    /// type, sampling frequency index, channel configuration, then GASpecificConfig's
    /// three flags at 0 (1024-sample frames, no core coder, no extension).
    pub fn audio_specific_config(&self) -> Vec<u8> {
        let index = rate_index(self.sample_rate).unwrap_or(0);
        let v =
            (u16::from(self.object_type & 31) << 11) | ((index as u16) << 7) | (u16::from(self.channel_config) << 3);
        v.to_be_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lc_stereo_48k() {
        let c = AudioSpecificConfig::parse(&[0x11, 0x90]).unwrap();
        assert_eq!((c.object_type, c.sample_rate, c.channels, c.frame_length), (2, 48000, 2, 1024));
        assert_eq!((c.sbr, c.ps, c.output_rate, c.layout.name()), (false, false, 48000, "stereo".into()));
        assert_eq!(c.to_bytes(), [0x11, 0x90]);
    }

    #[test]
    fn five_one_and_960() {
        // AAC LC, 44.1 kHz, configuration 6, frameLengthFlag.
        let c = AudioSpecificConfig::parse(&[0x12, 0x34]).unwrap();
        assert_eq!((c.sample_rate, c.channels, c.frame_length, c.layout.name()), (44100, 6, 960, "5.1".into()));
        assert_eq!(c.to_bytes(), [0x12, 0x34]);
    }

    #[test]
    fn he_aac_explicit_hierarchical_and_backward_compatible() {
        // AOT 5, 24 kHz core, stereo, extension 48 kHz, core AOT 2.
        let bytes = [0x2b, 0x11, 0x88, 0x00];
        let c = AudioSpecificConfig::parse(&bytes).unwrap();
        assert_eq!((c.object_type, c.sample_rate, c.output_rate, c.sbr, c.ps), (2, 24000, 48000, true, false));
        assert_eq!(AudioSpecificConfig::parse(&c.to_bytes()).unwrap(), c);
        // AOT 29 (PS), mono core at 24 kHz: stereo out.
        let ps = AudioSpecificConfig { ps: true, channel_config: 1, channels: 1, ..c };
        let back = AudioSpecificConfig::parse(&ps.to_bytes()).unwrap();
        assert_eq!((back.channels, back.layout.name(), back.ps), (2, "stereo".into(), true));
        // Backward compatible: LC 24 kHz stereo, then 0x2b7, AOT 5, SBR, 48 kHz, 0x548, PS.
        let mut w = BitWriter::default();
        for (n, v) in [(5, 2), (4, 6), (4, 2), (3, 0), (11, 0x2b7), (5, 5), (1, 1), (4, 3), (11, 0x548), (1, 1)] {
            w.put(n, v);
        }
        let c = AudioSpecificConfig::parse(&w.finish()).unwrap();
        assert_eq!((c.sbr, c.ps, c.output_rate, c.sample_rate), (true, true, 48000, 24000));
    }

    #[test]
    fn escape_explicit_rate_and_pce() {
        let mut w = BitWriter::default();
        // AOT 31 → 32 + 1 = 33 (not GA: no GASpecificConfig), explicit 12345 Hz, 1 channel.
        for (n, v) in [(5, 31), (6, 1), (4, 15), (24, 12345), (4, 1)] {
            w.put(n, v);
        }
        let c = AudioSpecificConfig::parse(&w.finish()).unwrap();
        assert_eq!((c.object_type, c.sample_rate, c.channels), (33, 12345, 1));
        let again = AudioSpecificConfig::parse(&c.to_bytes()).unwrap();
        assert_eq!((again.object_type, again.sample_rate), (33, 12345));
        // LC 48 kHz, configuration 0, a PCE of front SCE + front CPE + back CPE + LFE.
        let mut w = BitWriter::default();
        for (n, v) in [(5, 2), (4, 3), (4, 0), (3, 0)] {
            w.put(n, v);
        }
        for (n, v) in [(4, 0), (2, 1), (4, 3), (4, 2), (4, 0), (4, 1), (2, 1), (3, 0), (4, 0), (1, 0), (1, 0), (1, 0)] {
            w.put(n, v);
        }
        for (n, v) in [(1, 0), (4, 0), (1, 1), (4, 1), (1, 1), (4, 2), (4, 0)] {
            w.put(n, v);
        }
        // Byte alignment is relative to the config's start here; then no comment.
        let mut bytes = w.finish();
        bytes.push(0);
        let c = AudioSpecificConfig::parse(&bytes).unwrap();
        assert_eq!((c.channels, c.layout.name()), (6, "5.1".into()));
    }

    #[test]
    fn errors_have_offsets() {
        assert!(AudioSpecificConfig::parse(&[]).is_err());
        let e = AudioSpecificConfig::parse(&[0x16, 0x90]).unwrap_err().to_string();
        assert!(e.contains("reserved frequency index 13"), "{e}");
        let e = AudioSpecificConfig::parse(&[0x10, 0x00, 0x00]).unwrap_err();
        assert!(matches!(e, Error::InvalidBitstream { .. }), "{e}");
    }

    /// An ADTS frame: AAC LC, 48 kHz, stereo, `body` after a 7-byte header.
    fn adts(body: &[u8]) -> Vec<u8> {
        let len = 7 + body.len();
        let mut f = vec![0xff, 0xf1, 0x4c, 0x80 | (len >> 11) as u8, (len >> 3) as u8, ((len as u8) << 5) | 0x1f, 0xfc];
        f.extend(body);
        f
    }

    #[test]
    fn adts_header() {
        let h = AdtsHeader::parse(&adts(&[1, 2, 3])).unwrap();
        assert_eq!((h.object_type, h.sample_rate, h.channels(), h.frame_len, h.header_len), (2, 48000, 2, 10, 7));
        assert!(!h.crc);
        assert_eq!(h.audio_specific_config(), [0x11, 0x90]);
        assert_eq!(h.layout(), ChannelLayout::STEREO);
        let asc = AudioSpecificConfig::parse(&h.audio_specific_config()).unwrap();
        assert_eq!((asc.sample_rate, asc.channels), (48000, 2));
        let e = AdtsHeader::parse(&[0xff, 0xf1, 0x3c, 0x80, 0, 0x20, 0]).unwrap_err().to_string();
        assert!(e.contains("at byte 2") && e.contains("frequency"), "{e}");
        assert!(AdtsHeader::parse(&adts(&[])[..6]).is_err());
    }
}
