//! The AVI header list (`LIST hdrl`): one `LIST strl` per stream, whose `strh` gives the
//! stream's kind and clock (`dwScale`/`dwRate`, `dwSampleSize`) and whose `strf` gives its
//! format (a BITMAPINFOHEADER for video, a WAVEFORMATEX for audio).

use crate::audio::facts;
use crate::codec_ids;
use crate::pcm::PcmFormat;
use crate::types::{AudioCodec, CodecConfig, Track, TrackCodec, TrackKind, VideoInfo};
use video_hw_types::codec::{Codec, Rational};

/// Bytes of a `strh` this reader needs (up to `dwSampleSize`).
const STRH_LEN: usize = 48;

/// What one `strl` says about its stream, beyond its [`Track`].
#[derive(Debug, Clone)]
pub(super) struct Stream {
    /// The track (time base `dwScale/dwRate`; frame rate and duration filled in later).
    pub track: Track,
    /// `dwSampleSize`: bytes per sample of a constant-rate audio stream, whose timestamps
    /// count samples (bytes over it) rather than chunks; 0 where each chunk is one unit.
    pub sample_size: u32,
    /// `dwRate/dwScale`, when both are set.
    pub rate: Option<Rational>,
    /// MPEG-4 Part 2: packets come in decode order and presentation times follow the
    /// VOP types (the index reads them).
    pub reorder_vops: bool,
    /// H.264/HEVC in Annex-B form: no presentation times (the frame index orders the
    /// pictures from their order counts).
    pub nal: bool,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    b.get(i..i + 2).map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// `num/den` reduced, when both are positive and it fits (i128: a frame rate scaled by
/// counts of chunks). A zero from the header (no scale or rate given) is no value.
pub(super) fn reduced(num: i128, den: i128) -> Option<Rational> {
    if num <= 0 || den <= 0 {
        return None;
    }
    Rational::reduced_from_i128(num, den)
}

/// The stream a `strh` and `strf` describe, as track `index`.
pub(super) fn stream(index: usize, strh: &[u8], strf: &[u8]) -> Stream {
    let kind_code: [u8; 4] = strh.get(..4).and_then(|s| s.try_into().ok()).unwrap_or([0; 4]);
    let (scale, rate) = (u32_at(strh, 20), u32_at(strh, 24));
    let sample_size = if strh.len() >= STRH_LEN { u32_at(strh, 44) } else { 0 };
    // Both zero-checked by `reduced`: a stream without them gets 1/25 and no rate.
    let time_base = reduced(scale.into(), rate.into()).unwrap_or(Rational::new(1, 25));
    let (kind, codec, config, video, audio, reorder_vops, nal) = match &kind_code {
        b"vids" => {
            let (codec, config) = video_codec(strf);
            let width = (u32_at(strf, 4) as i32).unsigned_abs();
            let height = (u32_at(strf, 8) as i32).unsigned_abs();
            let video = VideoInfo { width, height, rotation: 0, sample_aspect: None };
            let reorder = codec.video() == Some(Codec::Mpeg4);
            let nal = matches!(codec.video(), Some(Codec::H264 | Codec::Hevc));
            (TrackKind::Video, codec, config, Some(video), None, reorder, nal)
        }
        b"auds" => {
            let (codec, config) = audio_codec(strf);
            let rate = u32_at(strf, 4);
            let channels = u16_at(strf, 2);
            let info = facts(&codec, &config, rate, channels);
            (TrackKind::Audio, codec, config, None, Some(info), false, false)
        }
        b"txts" => (TrackKind::Subtitle, TrackCodec::Other("txts".into()), CodecConfig::None, None, None, false, false),
        other => {
            let name = codec_ids::fourcc_text(other);
            (TrackKind::Data, TrackCodec::Other(name), CodecConfig::None, None, None, false, false)
        }
    };
    let track = Track {
        index,
        id: index as u64,
        kind,
        codec,
        config,
        time_base,
        duration: None,
        packets: None,
        frame_rate: None,
        video,
        audio,
        language: None,
        window: None,
        is_default: true,
    };
    let rate = reduced(rate.into(), scale.into());
    Stream { track, sample_size, rate, reorder_vops, nal }
}

/// A video `strf` (BITMAPINFOHEADER): the codec from `biCompression`, the bytes after the
/// 40-byte header as the decoder's extradata. H.264 and HEVC in AVI are Annex-B (ffmpeg
/// writes them so), so they keep no configuration: their parameter sets are in band.
fn video_codec(strf: &[u8]) -> (TrackCodec, CodecConfig) {
    let Some((codec, extra)) = codec_ids::vfw(strf) else {
        return (TrackCodec::Other("vfw".into()), CodecConfig::None);
    };
    let code: [u8; 4] = strf.get(16..20).and_then(|s| s.try_into().ok()).unwrap_or([0; 4]);
    match &code.map(|b| b.to_ascii_uppercase()) {
        b"H264" | b"X264" | b"AVC1" | b"DAVC" | b"VSSH" => return (TrackCodec::Video(Codec::H264), CodecConfig::None),
        b"HEVC" | b"H265" | b"HEV1" | b"HVC1" => return (TrackCodec::Video(Codec::Hevc), CodecConfig::None),
        _ => {}
    }
    match codec {
        Ok(c) if !c.is_parsed() => {
            let config = if extra.is_empty() { CodecConfig::None } else { CodecConfig::Raw(extra) };
            (TrackCodec::Video(c), config)
        }
        Ok(c) => (TrackCodec::Video(c), CodecConfig::None),
        // An uncompressed picture (BI_RGB is 0) or a FourCC no table knows.
        Err(_) if code == [0; 4] => (TrackCodec::Other("rawvideo".into()), CodecConfig::None),
        Err(text) => (TrackCodec::Other(text), CodecConfig::None),
    }
}

/// An audio `strf` (WAVEFORMATEX, or WAVEFORMATEXTENSIBLE whose sub-format GUID starts
/// with the format tag): the codec and its configuration (AAC's AudioSpecificConfig is
/// the bytes after the 18-byte header, `cbSize` of them).
fn audio_codec(strf: &[u8]) -> (TrackCodec, CodecConfig) {
    let mut tag = u16_at(strf, 0);
    let bits = u16_at(strf, 14);
    let extra_len = usize::from(u16_at(strf, 16));
    let extra = strf.get(18..).map(|e| &e[..extra_len.min(e.len())]).unwrap_or_default();
    if tag == 0xfffe && extra.len() >= 8 {
        tag = u16_at(extra, 6);
    }
    let pcm = |float: bool| {
        let format = PcmFormat { bits, float, big_endian: false, signed: float || bits != 8 };
        (TrackCodec::Audio(AudioCodec::Pcm), CodecConfig::Pcm(format))
    };
    match tag {
        0x0001 => pcm(false),
        0x0003 => pcm(true),
        0x0055 => (TrackCodec::Audio(AudioCodec::Mp3), CodecConfig::None),
        0x0050 => (TrackCodec::Audio(AudioCodec::Mp2), CodecConfig::None),
        0x2000 => (TrackCodec::Audio(AudioCodec::Ac3), CodecConfig::None),
        0x00ff | 0x706d | 0x4143 | 0xa106 => {
            let config =
                if extra.is_empty() { CodecConfig::None } else { CodecConfig::AudioSpecificConfig(extra.to_vec()) };
            (TrackCodec::Audio(AudioCodec::Aac), config)
        }
        other => (TrackCodec::Other(format!("wave-0x{other:04x}")), CodecConfig::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strh(kind: &[u8; 4], scale: u32, rate: u32, sample_size: u32) -> Vec<u8> {
        let mut h = vec![0u8; 56];
        h[..4].copy_from_slice(kind);
        h[20..24].copy_from_slice(&scale.to_le_bytes());
        h[24..28].copy_from_slice(&rate.to_le_bytes());
        h[44..48].copy_from_slice(&sample_size.to_le_bytes());
        h
    }

    #[test]
    fn video_streams_name_their_codec() {
        let mut bih = vec![0u8; 40];
        bih[4..8].copy_from_slice(&320i32.to_le_bytes());
        bih[8..12].copy_from_slice(&(-240i32).to_le_bytes());
        bih[16..20].copy_from_slice(b"H264");
        let s = stream(0, &strh(b"vids", 1, 25, 0), &bih);
        assert_eq!(s.track.codec, TrackCodec::Video(Codec::H264));
        assert!(s.nal && !s.reorder_vops);
        assert_eq!(s.track.video.map(|v| (v.width, v.height)), Some((320, 240)));
        assert_eq!(s.track.time_base, Rational::new(1, 25));
        bih[16..20].copy_from_slice(b"XVID");
        bih.extend([0, 0, 1, 0xb0]);
        let s = stream(0, &strh(b"vids", 2, 50, 0), &bih);
        assert_eq!(s.track.codec, TrackCodec::Video(Codec::Mpeg4));
        assert_eq!(s.track.config, CodecConfig::Raw(vec![0, 0, 1, 0xb0]));
        assert_eq!((s.track.time_base, s.rate), (Rational::new(1, 25), Some(Rational::new(25, 1))));
        bih[16..20].copy_from_slice(b"ABCD");
        assert_eq!(stream(0, &strh(b"vids", 1, 25, 0), &bih).track.codec, TrackCodec::Other("ABCD".into()));
        // Cut short or zero clock: no panic, a default time base.
        let s = stream(0, &strh(b"vids", 0, 0, 0)[..10], &bih[..8]);
        assert_eq!((s.track.time_base, s.rate), (Rational::new(1, 25), None));
    }

    #[test]
    fn audio_streams_name_their_codec() {
        let wav = |tag: u16, extra: &[u8]| {
            let mut w = Vec::new();
            w.extend(tag.to_le_bytes());
            w.extend(2u16.to_le_bytes());
            w.extend(48000u32.to_le_bytes());
            w.extend(192000u32.to_le_bytes());
            w.extend(4u16.to_le_bytes());
            w.extend(16u16.to_le_bytes());
            w.extend((extra.len() as u16).to_le_bytes());
            w.extend(extra);
            w
        };
        let s = stream(1, &strh(b"auds", 1, 48000, 4), &wav(1, &[]));
        assert_eq!(s.track.codec, TrackCodec::Audio(AudioCodec::Pcm));
        assert_eq!(s.sample_size, 4);
        assert!(matches!(s.track.config, CodecConfig::Pcm(PcmFormat { bits: 16, signed: true, .. })));
        assert_eq!(s.track.audio.map(|a| (a.sample_rate, a.channels)), Some((48000, 2)));
        let s = stream(1, &strh(b"auds", 1024, 48000, 0), &wav(0xff, &[0x11, 0x90]));
        assert_eq!(s.track.codec, TrackCodec::Audio(AudioCodec::Aac));
        assert_eq!(s.track.config, CodecConfig::AudioSpecificConfig(vec![0x11, 0x90]));
        assert_eq!(stream(1, &strh(b"auds", 1, 1, 0), &wav(0x55, &[])).track.codec, TrackCodec::Audio(AudioCodec::Mp3));
        assert_eq!(
            stream(1, &strh(b"auds", 1, 1, 0), &wav(0x2000, &[])).track.codec,
            TrackCodec::Audio(AudioCodec::Ac3)
        );
        assert_eq!(stream(1, &strh(b"auds", 1, 1, 0), &wav(0x1234, &[])).track.codec.name(), "wave-0x1234");
        // A cbSize past the header's end is cut to what is there.
        let mut lying = wav(0xff, &[0x11, 0x90]);
        lying[16..18].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(
            stream(1, &strh(b"auds", 1, 1, 0), &lying).track.config,
            CodecConfig::AudioSpecificConfig(vec![0x11, 0x90])
        );
    }
}
