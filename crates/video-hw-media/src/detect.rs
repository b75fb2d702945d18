//! Which container a file is, from its first bytes (never from its name).

use super::types::{AudioContainer, Container};
use video_hw_bitstream::detect::detect_codec;

/// Bytes [`detect`] looks at (at most; fewer for short files).
pub const DETECT_BYTES: usize = 64 << 10;

/// Top-level ISO-BMFF boxes a file may start with.
const MP4_FIRST_BOXES: [&[u8; 4]; 12] =
    [b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"styp", b"sidx", b"moof", b"pnot", b"uuid", b"junk"];

/// The container `prefix` (a file's first bytes) starts like, or `None`.
///
/// Order matters where signatures could collide: the fixed magic numbers (IVF, EBML)
/// first, then ISO-BMFF box types, then the transport-stream sync pattern (which needs
/// several packets to agree), then audio-only files by their signatures
/// ([`Container::Audio`]: WAV, Ogg, FLAC, MP3, ADTS), and raw Annex-B H.264/HEVC last
/// (any file has start-code like bytes somewhere, so it needs plausible NAL units).
///
/// ```
/// use video_hw::media::{Container, detect};
/// assert_eq!(detect(b"DKIF\0\0\x20\0AV01"), Some(Container::Ivf));
/// assert_eq!(detect(&[0x1a, 0x45, 0xdf, 0xa3, 0x80]), Some(Container::Matroska));
/// assert_eq!(detect(b"\0\0\0\x18ftypisom"), Some(Container::Mp4));
/// assert_eq!(detect(b"RIFF\0\0\0\0AVI LIST"), Some(Container::Avi));
/// assert_eq!(detect(b"hello"), None);
/// ```
pub fn detect(prefix: &[u8]) -> Option<Container> {
    if prefix.starts_with(b"DKIF") {
        return Some(Container::Ivf);
    }
    // RIFF holds AVI and WAV alike: the form type tells them apart.
    if prefix.len() >= 12 && &prefix[..4] == b"RIFF" && &prefix[8..12] == b"AVI " {
        return Some(Container::Avi);
    }
    if prefix.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        return Some(if ebml_doc_type(prefix).as_deref() == Some(b"webm") {
            Container::WebM
        } else {
            Container::Matroska
        });
    }
    if prefix.len() >= 8 && MP4_FIRST_BOXES.iter().any(|b| &prefix[4..8] == *b) {
        return Some(Container::Mp4);
    }
    // A temporal delimiter then a sequence header: no start code, no 0x47 sync byte.
    if super::obu::looks_like_obu_stream(prefix) || super::obu_annexb::looks_like_annexb_stream(prefix) {
        return Some(Container::Obu);
    }
    // A stream that opens with a start code is an elementary stream, whatever 0x47 bytes
    // its payload happens to hold at a 188-byte stride.
    let start_code = prefix.starts_with(&[0, 0, 1]) || prefix.starts_with(&[0, 0, 0, 1]);
    if start_code && detect_codec(prefix).is_some() {
        return Some(Container::AnnexB);
    }
    if ts_packet_size(prefix).is_some() {
        return Some(Container::MpegTs);
    }
    // Audio-only files, whose samples can hold start-code-like bytes (PCM in a WAV file):
    // never read as a raw video stream.
    if let Some(kind) = audio_only_signature(prefix) {
        return Some(Container::Audio(kind));
    }
    if detect_codec(prefix).is_some() {
        return Some(Container::AnnexB);
    }
    None
}

/// The kind of audio-only file `prefix` starts (WAV, Ogg, FLAC, MP3 with an ID3v2 tag or
/// a frame sync, raw AAC in ADTS form): [`detect`] names these rather than take their
/// samples for a raw video stream, and the demuxer reads them with Symphonia's readers.
pub fn audio_only_signature(prefix: &[u8]) -> Option<AudioContainer> {
    if prefix.len() >= 12 && &prefix[..4] == b"RIFF" && &prefix[8..12] == b"WAVE" {
        return Some(AudioContainer::Wav);
    }
    if prefix.starts_with(b"OggS") {
        return Some(AudioContainer::Ogg);
    }
    if prefix.starts_with(b"fLaC") {
        return Some(AudioContainer::Flac);
    }
    if prefix.starts_with(b"ID3") {
        return Some(AudioContainer::Mp3);
    }
    match prefix {
        [0xff, b, ..] if b & 0xf6 == 0xf0 => Some(AudioContainer::Adts),
        [0xff, b, ..] if b & 0xe0 == 0xe0 && b & 0x06 != 0 => Some(AudioContainer::Mp3),
        _ => None,
    }
}

/// The transport packet size (188, or 192 for M2TS) when `prefix` holds sync bytes
/// (0x47) at that stride: from the first byte, 3 packets in a row agree (or every whole
/// packet of a shorter file); a file that starts mid-packet (a cut capture) needs 5.
pub fn ts_packet_size(prefix: &[u8]) -> Option<usize> {
    ts_sync(prefix).map(|(size, _)| size)
}

/// Packet size and the offset of the first packet's sync byte (see [`ts_packet_size`]).
pub(crate) fn ts_sync(prefix: &[u8]) -> Option<(usize, usize)> {
    for (size, sync_at) in [(188usize, 0usize), (192, 4)] {
        // Look for the first sync among the first packet's bytes.
        for start in 0..size.min(prefix.len()) {
            let first = start + sync_at;
            if prefix.get(first) != Some(&0x47) {
                continue;
            }
            let whole = (prefix.len() - start) / size;
            if whole == 0 {
                break;
            }
            let need = if start == 0 { whole.min(3) } else { 5 };
            if whole >= need && (0..need).all(|k| prefix.get(first + k * size) == Some(&0x47)) {
                return Some((size, start));
            }
        }
    }
    None
}

/// The `DocType` string of an EBML header at the start of `prefix`, if it can be read.
fn ebml_doc_type(prefix: &[u8]) -> Option<Vec<u8>> {
    let id_len = 4;
    let (size, size_len) = vint(prefix.get(4..)?)?;
    let body = prefix.get(id_len + size_len..)?;
    let body = &body[..(size as usize).min(body.len())];
    let mut at = 0;
    while at + 3 <= body.len() {
        // DocType is the 2-byte ID 0x4282.
        let (id, idl) = element_id(&body[at..])?;
        let (len, lenl) = vint(&body[at + idl..])?;
        let start = at + idl + lenl;
        let end = start.checked_add(len as usize)?;
        if id == 0x4282 {
            return body.get(start..end.min(body.len())).map(|d| d.iter().copied().take_while(|&b| b != 0).collect());
        }
        at = end;
    }
    None
}

/// An EBML variable-length integer (marker bit removed): (value, length in bytes).
fn vint(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || b.len() < len {
        return None;
    }
    let mut v = u64::from(first) & (0xff >> len);
    for &x in &b[1..len] {
        v = (v << 8) | u64::from(x);
    }
    Some((v, len))
}

/// An EBML element ID (marker bit kept): (id, length).
fn element_id(b: &[u8]) -> Option<(u32, usize)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 || b.len() < len {
        return None;
    }
    Some((b[..len].iter().fold(0u32, |v, &x| (v << 8) | u32::from(x)), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(size: usize, packets: usize, skew: usize) -> Vec<u8> {
        let mut v = vec![0u8; skew];
        for _ in 0..packets {
            let mut p = vec![0xffu8; size];
            p[size - 188] = 0x47;
            v.extend(p);
        }
        v
    }

    #[test]
    fn transport_streams() {
        assert_eq!(ts_sync(&ts(188, 5, 0)), Some((188, 0)));
        assert_eq!(ts_sync(&ts(192, 5, 0)), Some((192, 0)));
        assert_eq!(ts_sync(&ts(188, 5, 17)), Some((188, 17)));
        assert_eq!(ts_sync(&ts(188, 4, 17)), None, "mid-packet start needs 5 packets");
        assert_eq!(ts_sync(&ts(188, 1, 0)), Some((188, 0)));
        assert_eq!(detect(&ts(188, 4, 0)), Some(Container::MpegTs));
        // A lone 0x47 in a longer file is not a transport stream.
        let mut v = vec![0u8; 1000];
        v[0] = 0x47;
        assert_eq!(ts_sync(&v), None);
    }

    #[test]
    fn audio_files() {
        assert_eq!(detect(b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0"), Some(Container::Audio(AudioContainer::Wav)));
        // PCM samples that look like start codes do not make it a raw stream.
        let mut wav = b"RIFF\0\0\0\0WAVEdata".to_vec();
        wav.extend([0, 0, 0, 1, 0x67, 0x42, 0, 0x1e, 0, 0, 0, 1, 0x68]);
        assert_eq!(detect(&wav), Some(Container::Audio(AudioContainer::Wav)));
        assert_eq!(detect(&[0xff, 0xf1, 0x50, 0x80]), Some(Container::Audio(AudioContainer::Adts)));
        assert_eq!(detect(&[0xff, 0xfb, 0x90, 0x64]), Some(Container::Audio(AudioContainer::Mp3)));
        assert_eq!(detect(b"OggS\0\x02"), Some(Container::Audio(AudioContainer::Ogg)));
        assert_eq!(detect(b"fLaC\0\0\0\x22"), Some(Container::Audio(AudioContainer::Flac)));
    }

    #[test]
    fn webm_doc_type() {
        // EBML header with DocType "webm".
        let mut h = vec![0x1a, 0x45, 0xdf, 0xa3, 0x87, 0x42, 0x82, 0x84];
        h.extend(b"webm");
        assert_eq!(detect(&h), Some(Container::WebM));
        h[8..12].copy_from_slice(b"mat\0");
        assert_eq!(detect(&h), Some(Container::Matroska));
    }
}
