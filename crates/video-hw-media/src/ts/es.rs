//! What the demuxer reads inside elementary streams: whether an H.264/HEVC access unit
//! is a random access point (from its NAL unit types, as ffmpeg's parsers flag it), the
//! picture size and frame rate from the first sequence parameter set, and the layer,
//! rate and channels of an MPEG audio frame header.

use memchr::memmem;

use super::adts::AdtsHeader;
use crate::types::{AudioCodec, VideoInfo};
use video_hw_bitstream::{h264, hevc, rbsp};
use video_hw_types::codec::{Codec, Rational};

/// The NAL units of an Annex-B access unit, lazily: (NAL unit without start code and
/// with trailing zero bytes kept).
fn nal_units(au: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = memmem::find_iter(au, &[0u8, 0, 1]).map(|i| i + 3).peekable();
    std::iter::from_fn(move || {
        let s = starts.next()?;
        let end = starts.peek().map_or(au.len(), |&n| n - 3);
        Some(&au[s.min(end)..end])
    })
}

/// True when the access unit `au` (Annex-B) is a random access point, read from its NAL
/// unit types up to the first slice:
///
/// * H.264: an IDR slice, or any slice after a recovery point SEI in the same access unit
///   (ffmpeg's H.264 parser flags those as key frames: a non-IDR I picture that starts
///   an open GOP, or the start of a gradual decoding refresh).
/// * HEVC: an IRAP picture (NAL unit types 16..=23: BLA, IDR, CRA and the reserved IRAP
///   types, as ffmpeg's HEVC parser has it).
///
/// `None` when `au` holds no slice (a prefix cut before it).
pub fn is_keyframe(codec: Codec, au: &[u8]) -> Option<bool> {
    if matches!(codec, Codec::Mpeg2 | Codec::Mpeg4 | Codec::Other("mpeg1video")) {
        return mpeg_video_keyframe(codec == Codec::Mpeg4, au);
    }
    let finder = memmem::Finder::new(&[0u8, 0, 1]);
    let mut recovery = false;
    let mut at = 0;
    // Only the NAL unit types are looked at, so the search for the next start code runs
    // over SEI alone (where the end is needed), never over slice data.
    while let Some(k) = finder.find(&au[at..]) {
        let start = at + k + 3;
        let Some(&b0) = au.get(start) else { break };
        at = start;
        match codec {
            Codec::H264 => match b0 & 0x1f {
                5 => return Some(true),
                1..=4 => return Some(recovery),
                6 => {
                    let end = finder.find(&au[start..]).map_or(au.len(), |e| start + e);
                    recovery |= has_recovery_point(&au[start + 1..end]);
                    at = end;
                }
                _ => {}
            },
            Codec::Hevc => {
                let t = (b0 >> 1) & 0x3f;
                if t < 32 {
                    return Some((16..=23).contains(&t));
                }
            }
            _ => return None,
        }
    }
    None
}

/// Whether an MPEG-1/2 or MPEG-4 Part 2 access unit is a random access point: its first
/// picture is intra coded (MPEG-1/2: `picture_coding_type` 1 in the picture header,
/// start code 0x00; MPEG-4: `vop_coding_type` 0 in the VOP header, 0xB6) and the headers
/// a decoder starting there needs come before it (a sequence header, 0xB3; a video object
/// layer, 0x20-0x2F), as MPEG-TS muxers repeat them at each GOP. `None` when the unit
/// ends before its first picture header.
fn mpeg_video_keyframe(mpeg4: bool, au: &[u8]) -> Option<bool> {
    let mut headers = false;
    for i in memmem::find_iter(au, &[0u8, 0, 1]) {
        let code = *au.get(i + 3)?;
        match (mpeg4, code) {
            (false, 0xb3) | (true, 0x20..=0x2f) => headers = true,
            // temporal_reference (10 bits), then picture_coding_type (3 bits).
            (false, 0x00) => return au.get(i + 5).map(|b| headers && (b >> 3) & 7 == 1),
            (true, 0xb6) => return au.get(i + 4).map(|b| headers && b >> 6 == 0),
            _ => {}
        }
    }
    None
}

/// The size, aspect ratio and frame rate of an MPEG-1/2 sequence header (start code
/// 0xB3) in `au`: 12-bit width and height, then `aspect_ratio_information` and
/// `frame_rate_code` (ISO/IEC 13818-2 6.2.2.1; the sequence extension's high bits, for
/// pictures of 4096 or more, are not read). `None` without one.
fn mpeg2_sequence_facts(au: &[u8]) -> Option<VideoFacts> {
    let i = memmem::find_iter(au, &[0u8, 0, 1, 0xb3]).next()?;
    let h = au.get(i + 4..i + 8)?;
    let width = (u32::from(h[0]) << 4) | u32::from(h[1] >> 4);
    let height = (u32::from(h[1] & 0x0f) << 8) | u32::from(h[2]);
    let frame_rate = match h[3] & 0x0f {
        1 => Some(Rational::new(24000, 1001)),
        2 => Some(Rational::new(24, 1)),
        3 => Some(Rational::new(25, 1)),
        4 => Some(Rational::new(30000, 1001)),
        5 => Some(Rational::new(30, 1)),
        6 => Some(Rational::new(50, 1)),
        7 => Some(Rational::new(60000, 1001)),
        8 => Some(Rational::new(60, 1)),
        _ => None,
    };
    (width > 0 && height > 0)
        .then_some(VideoFacts { info: VideoInfo { width, height, rotation: 0, sample_aspect: None }, frame_rate })
}

/// True when an H.264 SEI payload (after the NAL header) holds a recovery point message
/// (payloadType 6). Damage ends the search.
fn has_recovery_point(sei: &[u8]) -> bool {
    let rbsp = rbsp::unescape(sei);
    let mut b = &rbsp[..];
    // Each message: payloadType and payloadSize as runs of 0xff plus a last byte.
    let number = |b: &mut &[u8]| -> Option<usize> {
        let mut v = 0usize;
        loop {
            let (&x, rest) = b.split_first()?;
            *b = rest;
            v += usize::from(x);
            if x != 0xff {
                return Some(v);
            }
        }
    };
    while b.len() >= 2 && b[0] != 0x80 {
        let (Some(kind), Some(size)) = (number(&mut b), number(&mut b)) else { return false };
        if kind == 6 {
            return true;
        }
        let Some(rest) = b.get(size..) else { return false };
        b = rest;
    }
    false
}

/// Facts of a video stream from its parameter sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VideoFacts {
    /// Size and sample aspect ratio.
    pub info: VideoInfo,
    /// Frame rate from the VUI (HEVC: the VPS's timing first).
    pub frame_rate: Option<Rational>,
}

/// The facts of the first SPS in `au` that parses (HEVC: with the VPS before it, if
/// any, for its timing); `None` when the access unit has none.
pub fn video_facts(codec: Codec, au: &[u8]) -> Option<VideoFacts> {
    match codec {
        Codec::Mpeg2 | Codec::Other("mpeg1video") => return mpeg2_sequence_facts(au),
        // MPEG-4 Part 2's VOL is not read: its size comes from the decoded pictures.
        Codec::Mpeg4 => return None,
        _ => {}
    }
    let mut vps = None;
    for nal in nal_units(au) {
        let nal = strip_zeros(nal);
        let Some(&b0) = nal.first() else { continue };
        match codec {
            Codec::H264 if b0 & 0x1f == 7 => {
                let Ok(sps) = h264::parse_sps(nal) else { continue };
                let d = sps.dimensions();
                let sar = sps.vui.as_ref().and_then(|v| v.sar).filter(|&(w, h)| w > 0 && h > 0);
                return Some(VideoFacts {
                    info: VideoInfo {
                        width: d.width(),
                        height: d.height(),
                        rotation: 0,
                        sample_aspect: sar.map(|(w, h)| Rational::new(i64::from(w), i64::from(h))),
                    },
                    frame_rate: sps.frame_rate(),
                });
            }
            Codec::Hevc if (b0 >> 1) & 0x3f == 32 => vps = hevc::parse_vps(nal).ok(),
            Codec::Hevc if (b0 >> 1) & 0x3f == 33 => {
                let Ok(sps) = hevc::parse_sps(nal) else { continue };
                let d = sps.dimensions();
                return Some(VideoFacts {
                    info: VideoInfo {
                        width: d.width(),
                        height: d.height(),
                        rotation: 0,
                        sample_aspect: sps.vui.as_ref().and_then(|v| v.sample_aspect_ratio()),
                    },
                    frame_rate: sps.stream_info(vps.as_ref()).frame_rate,
                });
            }
            _ => {}
        }
    }
    None
}

/// `nal` without trailing zero bytes (the next start code's leading zeros).
fn strip_zeros(nal: &[u8]) -> &[u8] {
    let end = nal.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &nal[..end]
}

/// An MPEG-1/2 audio frame header: (layer 1..=3, sample rate, channels), found at the
/// first sync word of `b` whose header fields are valid.
pub fn mpeg_audio_header(b: &[u8]) -> Option<(u8, u32, u16)> {
    const RATES: [u32; 3] = [44100, 48000, 32000];
    for i in memchr::memchr_iter(0xff, b) {
        let Some(h) = b.get(i..i + 4) else { break };
        if h[1] & 0xe0 != 0xe0 {
            continue;
        }
        let version = (h[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
        let layer = (h[1] >> 1) & 3; // 3: layer I, 1: layer III
        let rate_index = usize::from((h[2] >> 2) & 3);
        if version == 1 || layer == 0 || rate_index == 3 || h[2] >> 4 == 0x0f {
            continue;
        }
        let rate = RATES[rate_index]
            >> (match version {
                3 => 0,
                2 => 1,
                _ => 2,
            });
        let channels = if h[3] >> 6 == 3 { 1 } else { 2 };
        return Some((4 - layer, rate, channels));
    }
    None
}

/// What a private-data PES (stream type 0x06 with no descriptor that names it) holds,
/// from its first bytes, as ffmpeg finds out by probing: AAC in ADTS (two frames in a
/// row, or one that fills the PES), AC-3 or E-AC-3 (sync word 0x0B77, told apart by
/// `bsid`). Blu-ray muxers, ffmpeg's M2TS mode among them, write AAC this way.
pub fn sniff_private(data: &[u8]) -> Option<AudioCodec> {
    if let Ok(h) = AdtsHeader::read(data) {
        let next = data.get(h.frame_len..).unwrap_or(&[]);
        if next.is_empty() && data.len() == h.frame_len || AdtsHeader::read(next).is_ok() {
            return Some(AudioCodec::Aac);
        }
    }
    if data.len() >= 6 && data[0] == 0x0b && data[1] == 0x77 {
        return match data[5] >> 3 {
            0..=8 => Some(AudioCodec::Ac3),
            11..=16 => Some(AudioCodec::Eac3),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(codec: Codec, au: &[u8]) -> bool {
        is_keyframe(codec, au).unwrap_or(false)
    }

    #[test]
    fn h264_keyframes() {
        // AUD, SPS-less IDR.
        assert!(key(Codec::H264, &[0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88]));
        // Non-IDR slice alone.
        assert!(!key(Codec::H264, &[0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x9a]));
        // Recovery point SEI (type 6, size 1, recovery_frame_cnt 0), then a non-IDR slice.
        assert!(key(Codec::H264, &[0, 0, 1, 0x06, 0x06, 0x01, 0x80, 0x80, 0, 0, 1, 0x01, 0x88]));
        // Another SEI (user data unregistered, type 5) first, then the recovery point.
        let au = [0, 0, 1, 0x06, 0x05, 0x02, 0xaa, 0xbb, 0x06, 0x01, 0x80, 0x80, 0, 0, 1, 0x21, 0x88];
        assert!(key(Codec::H264, &au));
        // An SEI that is not a recovery point.
        assert!(!key(Codec::H264, &[0, 0, 1, 0x06, 0x05, 0x01, 0xaa, 0x80, 0, 0, 1, 0x01, 0x88]));
        // Damaged SEI sizes, empty input, no start code.
        assert!(!key(Codec::H264, &[0, 0, 1, 0x06, 0xff, 0xff, 0, 0, 1, 0x01]));
        assert!(!key(Codec::H264, &[]));
        assert!(!key(Codec::H264, &[0x65, 0x88]));
        // A prefix cut before the first slice cannot tell.
        assert_eq!(is_keyframe(Codec::H264, &[0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x06, 0x05]), None);
    }

    #[test]
    fn mpeg_video_keyframes() {
        // Sequence header (352x288, 25 fps), GOP, I picture.
        let i_pic = [0, 0, 1, 0xb3, 0x16, 0x01, 0x20, 0x13, 0, 0, 1, 0xb8, 0, 0, 1, 0x00, 0x00, 0x0f, 0xff];
        assert!(key(Codec::Mpeg2, &i_pic));
        let facts = video_facts(Codec::Mpeg2, &i_pic).unwrap();
        assert_eq!((facts.info.width, facts.info.height, facts.frame_rate), (352, 288, Some(Rational::new(25, 1))));
        // A P picture (type 2), and an I picture without a sequence header before it.
        assert!(!key(Codec::Mpeg2, &[0, 0, 1, 0x00, 0x00, 0x17, 0xff]));
        assert!(!key(Codec::Mpeg2, &[0, 0, 1, 0x00, 0x00, 0x0f, 0xff]));
        // MPEG-4: VOL then an I-VOP; a P-VOP.
        assert!(key(Codec::Mpeg4, &[0, 0, 1, 0x20, 0x08, 0, 0, 1, 0xb6, 0x10]));
        assert!(!key(Codec::Mpeg4, &[0, 0, 1, 0x20, 0x08, 0, 0, 1, 0xb6, 0x50]));
        // Cut anywhere: no answer or an answer, never a panic.
        for n in 0..i_pic.len() {
            let _ = is_keyframe(Codec::Mpeg2, &i_pic[..n]);
            let _ = video_facts(Codec::Mpeg2, &i_pic[..n]);
        }
        assert_eq!(is_keyframe(Codec::Mpeg2, &i_pic[..17]), None);
    }

    #[test]
    fn hevc_keyframes() {
        // VPS, then a CRA (21) slice; a TRAIL_R (1) slice; an IDR_N_LP (20).
        assert!(key(Codec::Hevc, &[0, 0, 1, 0x40, 0x01, 0x0c, 0, 0, 1, 0x2a, 0x01, 0xaf]));
        assert!(!key(Codec::Hevc, &[0, 0, 1, 0x02, 0x01, 0xd0]));
        assert!(key(Codec::Hevc, &[0, 0, 1, 0x28, 0x01, 0xaf]));
    }

    #[test]
    fn private_data_sniffing() {
        let adts = |len: usize| {
            let mut f = vec![0xff, 0xf1, 0x4c, 0x80, (len >> 3) as u8, ((len as u8) << 5) | 0x1f, 0xfc];
            f.resize(len, 0x21);
            f
        };
        assert_eq!(sniff_private(&adts(20)), Some(AudioCodec::Aac));
        assert_eq!(sniff_private(&[adts(20), adts(30)].concat()), Some(AudioCodec::Aac));
        assert_eq!(sniff_private(&[adts(20), vec![1, 2, 3]].concat()), None);
        assert_eq!(sniff_private(&[0x0b, 0x77, 0, 0, 0, 0x40]), Some(AudioCodec::Ac3));
        assert_eq!(sniff_private(&[0x0b, 0x77, 0, 0, 0, 0x80]), Some(AudioCodec::Eac3));
        assert_eq!(sniff_private(&[0x0b, 0x77, 0, 0, 0, 0xf8]), None);
        assert_eq!(sniff_private(&[]), None);
    }

    #[test]
    fn mpeg_audio_layers() {
        // MPEG-1 layer II, 48 kHz, stereo; MPEG-1 layer III 44.1 kHz mono; MPEG-2 layer III 24 kHz.
        assert_eq!(mpeg_audio_header(&[0x00, 0xff, 0xfd, 0x84, 0x00]), Some((2, 48000, 2)));
        assert_eq!(mpeg_audio_header(&[0xff, 0xfb, 0x90, 0xc0]), Some((3, 44100, 1)));
        assert_eq!(mpeg_audio_header(&[0xff, 0xf3, 0x94, 0x00]), Some((3, 24000, 2)));
        assert_eq!(mpeg_audio_header(&[0xff, 0xfb, 0xfc, 0x00]), None);
    }
}
