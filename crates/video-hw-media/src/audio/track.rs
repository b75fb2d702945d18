//! An audio track's facts from its codec configuration: what a decoder will output,
//! over what the container's own fields claim (an MP4 sample entry's channel count is 2
//! for any AAC ffmpeg writes; Matroska's default sampling frequency is 8000 Hz).

use super::aac::AudioSpecificConfig;
use super::layout::ChannelLayout;
use super::opus::OpusHead;
use crate::types::{AudioCodec, AudioInfo, CodecConfig, TrackCodec};

/// The facts of a track of `codec` whose container says `rate` and `channels`, as
/// corrected by `config`: AAC's AudioSpecificConfig (output rate after SBR, channels
/// from the channel configuration or program_config_element), Opus's header (48 kHz,
/// its mapping's layout), the Vorbis identification header and FLAC's STREAMINFO in a
/// Matroska CodecPrivate. A configuration that does not parse leaves the container's
/// values (the decoder will say what is wrong).
pub(crate) fn facts(codec: &TrackCodec, config: &CodecConfig, rate: u32, channels: u16) -> AudioInfo {
    let TrackCodec::Audio(codec) = *codec else {
        return AudioInfo {
            sample_rate: rate,
            channels,
            layout: ChannelLayout::unspecified(channels),
            gapless: None,
            codec_delay_ns: 0,
        };
    };
    let fallback = AudioInfo::new(codec, rate, channels);
    match (codec, config) {
        (AudioCodec::Aac, CodecConfig::AudioSpecificConfig(b)) => match AudioSpecificConfig::parse(b) {
            Ok(c) if c.channels > 0 && c.output_rate > 0 => AudioInfo {
                sample_rate: c.output_rate,
                channels: c.channels,
                layout: c.layout,
                gapless: None,
                codec_delay_ns: 0,
            },
            // Channel configuration 0 without a PCE, or a reserved one: the rate stands.
            Ok(c) if c.output_rate > 0 => AudioInfo { sample_rate: c.output_rate, ..fallback },
            _ => fallback,
        },
        (AudioCodec::Opus, CodecConfig::OpusHead(b)) => match OpusHead::parse(b) {
            Ok(h) => AudioInfo {
                sample_rate: 48_000,
                channels: h.channels,
                layout: h.layout(),
                gapless: None,
                codec_delay_ns: 0,
            },
            Err(_) => AudioInfo { sample_rate: 48_000, ..fallback },
        },
        (AudioCodec::Opus, _) => AudioInfo { sample_rate: 48_000, ..fallback },
        (AudioCodec::Vorbis, CodecConfig::Raw(b)) => match vorbis_identification(b) {
            Some((rate, channels)) => AudioInfo::new(codec, rate, channels),
            None => fallback,
        },
        (AudioCodec::Flac, CodecConfig::Raw(b)) => match flac_streaminfo(b) {
            Some((rate, channels, mask)) => {
                let mut info = AudioInfo::new(codec, rate, channels);
                if let Some(mask) = mask.filter(|m| m.count_ones() == u32::from(channels)) {
                    info.layout = ChannelLayout::from_mask(mask);
                }
                info
            }
            None => fallback,
        },
        _ => fallback,
    }
}

/// Rate and channels of the Vorbis identification header (`\x01vorbis`, version,
/// channels, rate) inside `b` (Matroska's laced CodecPrivate holds the three headers).
fn vorbis_identification(b: &[u8]) -> Option<(u32, u16)> {
    let at = b.windows(7).position(|w| w == b"\x01vorbis")?;
    let h = b.get(at + 7..at + 16)?;
    let channels = u16::from(h[4]);
    let rate = u32::from_le_bytes([h[5], h[6], h[7], h[8]]);
    (channels > 0 && rate > 0).then_some((rate, channels))
}

/// Rate and channels of the STREAMINFO block after a `fLaC` marker (Matroska's
/// CodecPrivate of `A_FLAC`), and the channel mask a `WAVEFORMATEXTENSIBLE_CHANNEL_MASK`
/// Vorbis comment gives (ffmpeg writes one for layouts other than FLAC's own, and its
/// demuxers read it).
fn flac_streaminfo(b: &[u8]) -> Option<(u32, u16, Option<u64>)> {
    let at = b.windows(4).position(|w| w == b"fLaC")?;
    // The block header (type 0 = STREAMINFO), then 10 bytes of block and frame sizes.
    let block = b.get(at + 4..at + 4 + 4 + 18)?;
    if block[0] & 0x7f != 0 {
        return None;
    }
    let s = &block[4 + 10..];
    let rate = (u32::from(s[0]) << 12) | (u32::from(s[1]) << 4) | (u32::from(s[2]) >> 4);
    let channels = u16::from((s[2] >> 1) & 7) + 1;
    (rate > 0).then_some((rate, channels, flac_channel_mask(b.get(at + 4..)?)))
}

/// The `WAVEFORMATEXTENSIBLE_CHANNEL_MASK` of the VORBIS_COMMENT block among the FLAC
/// metadata blocks of `b`.
fn flac_channel_mask(mut b: &[u8]) -> Option<u64> {
    let le32 = |b: &[u8], at: usize| b.get(at..at + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize);
    loop {
        let (&head, rest) = b.split_first()?;
        let len = (usize::from(*rest.first()?) << 16) | (usize::from(*rest.get(1)?) << 8) | usize::from(*rest.get(2)?);
        let body = b.get(4..4 + len)?;
        if head & 0x7f == 4 {
            let vendor = le32(body, 0)?;
            let count = le32(body, 4 + vendor)?;
            let mut at = 8 + vendor;
            for _ in 0..count.min(body.len()) {
                let n = le32(body, at)?;
                let text = body.get(at + 4..at + 4 + n)?;
                at += 4 + n;
                let Some(v) = text.strip_prefix(b"WAVEFORMATEXTENSIBLE_CHANNEL_MASK=") else { continue };
                let v = std::str::from_utf8(v).ok()?;
                let v = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"));
                return u64::from_str_radix(v?, 16).ok();
            }
            return None;
        }
        if head & 0x80 != 0 {
            return None;
        }
        b = &b[4 + len..];
    }
}

/// The layout of a WAV file whose first bytes are `header`: the channel mask of a
/// `WAVE_FORMAT_EXTENSIBLE` `fmt ` chunk when it names `channels` speakers, else
/// unspecified, as FFmpeg's WAV demuxer sets it; `None` when `header` holds no `fmt `
/// chunk.
pub(crate) fn wav_layout(header: &[u8], channels: u16) -> Option<ChannelLayout> {
    if header.len() < 12 || &header[..4] != b"RIFF" || &header[8..12] != b"WAVE" {
        return None;
    }
    let mut at = 12usize;
    while let Some(chunk) = header.get(at..at + 8) {
        let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]) as usize;
        if &chunk[..4] == b"fmt " {
            let fmt = header.get(at + 8..at + 8 + size.min(40))?;
            let tag = u16::from_le_bytes([*fmt.first()?, *fmt.get(1)?]);
            let mask = fmt.get(20..24).map(|m| u64::from(u32::from_le_bytes([m[0], m[1], m[2], m[3]])));
            return Some(match (tag, mask) {
                (0xfffe, Some(m)) if m != 0 && m.count_ones() == u32::from(channels) => ChannelLayout::from_mask(m),
                _ => ChannelLayout::unspecified(channels),
            });
        }
        // Chunks are padded to an even size.
        at = at.checked_add(8)?.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_beats_container() {
        let aac = TrackCodec::Audio(AudioCodec::Aac);
        // ffmpeg's mono AAC in MP4: the sample entry says 2 channels, the config 1.
        let a = facts(&aac, &CodecConfig::AudioSpecificConfig(vec![0x11, 0x88]), 48000, 2);
        assert_eq!((a.sample_rate, a.channels, a.layout.name()), (48000, 1, "mono".into()));
        let a = facts(&aac, &CodecConfig::AudioSpecificConfig(vec![0xff]), 44100, 2);
        assert_eq!((a.sample_rate, a.channels, a.layout.name()), (44100, 2, "stereo".into()));
        let mut head = b"OpusHead".to_vec();
        head.extend([1, 1, 0, 0, 0x44, 0xac, 0, 0, 0, 0, 0]);
        let a = facts(&TrackCodec::Audio(AudioCodec::Opus), &CodecConfig::OpusHead(head), 44100, 2);
        assert_eq!((a.sample_rate, a.channels, a.layout.name()), (48000, 1, "mono".into()));
        let mut vorbis = vec![2, 30, 60];
        vorbis.extend(b"\x01vorbis\0\0\0\0\x06\x80\xbb\0\0");
        let a = facts(&TrackCodec::Audio(AudioCodec::Vorbis), &CodecConfig::Raw(vorbis), 8000, 1);
        assert_eq!((a.sample_rate, a.channels, a.layout.name()), (48000, 6, "5.1".into()));
        let mut flac = b"fLaC\x80\0\0\x22".to_vec();
        flac.extend([0x10, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0xc4, 0x42, 0xf0, 0, 0, 0, 0]);
        let a = facts(&TrackCodec::Audio(AudioCodec::Flac), &CodecConfig::Raw(flac), 8000, 1);
        assert_eq!((a.sample_rate, a.channels, a.layout.name()), (44100, 2, "stereo".into()));
    }
}
