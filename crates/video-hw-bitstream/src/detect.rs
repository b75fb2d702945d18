//! Telling H.264 from HEVC: by file extension, else by what the NAL headers look like.

use std::path::Path;

use super::annexb::AnnexBSplitter;
use video_hw_types::codec::Codec;

/// The codec a file name's extension names, if it names one.
///
/// ```
/// use video_hw::{bitstream::detect::codec_from_extension, Codec};
/// assert_eq!(codec_from_extension("a/b.JSV".as_ref()), Some(Codec::H264));
/// assert_eq!(codec_from_extension("x.265".as_ref()), Some(Codec::Hevc));
/// assert_eq!(codec_from_extension("x.bin".as_ref()), None);
/// ```
pub fn codec_from_extension(path: &Path) -> Option<Codec> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "h264" | "264" | "jsv" | "avc" | "26l" | "jvt" => Some(Codec::H264),
        "h265" | "265" | "hevc" | "bit" => Some(Codec::Hevc),
        _ => None,
    }
}

/// How much of a stream [`detect_codec`] looks at.
const DETECT_NALS: usize = 256;

/// Guesses the codec of an Annex-B stream from its first NAL units.
///
/// Each NAL unit header is scored as H.264 and as HEVC: parameter sets and IDR/IRAP
/// slices that are well-formed under one reading count a lot, merely legal headers a
/// little, illegal ones against. Returns `None` when neither reading is plausible.
///
/// ```
/// use video_hw::{bitstream::detect::detect_codec, Codec};
/// let h264 = [0, 0, 0, 1, 0x67, 0x64, 0, 0x1f, 0xac, 0, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80];
/// assert_eq!(detect_codec(&h264), Some(Codec::H264));
/// let hevc = [0, 0, 0, 1, 0x40, 0x01, 0x0c, 0, 0, 0, 1, 0x42, 0x01, 0x01, 0, 0, 1, 0x44, 0x01, 0xc1];
/// assert_eq!(detect_codec(&hevc), Some(Codec::Hevc));
/// assert_eq!(detect_codec(&[1, 2, 3, 4]), None);
/// ```
pub fn detect_codec(prefix: &[u8]) -> Option<Codec> {
    let mut h264 = 0i32;
    let mut hevc = 0i32;
    let mut seen = 0usize;
    let mut splitter = AnnexBSplitter::new();
    let mut score = |nal: &[u8]| {
        if seen >= DETECT_NALS || nal.is_empty() {
            return;
        }
        seen += 1;
        h264 += score_h264(nal);
        hevc += score_hevc(nal);
    };
    // A prefix of a file may end mid-NAL; the splitter's result for that last unit is still
    // a usable header, so errors (only size caps) are ignored.
    let _ = splitter.push(prefix, None, |n| score(n.data));
    splitter.finish(|n| score(n.data));
    match (h264.max(0), hevc.max(0)) {
        (0, 0) => None,
        (a, b) if a >= b => Some(Codec::H264),
        _ => Some(Codec::Hevc),
    }
}

fn score_h264(nal: &[u8]) -> i32 {
    let b = nal[0];
    if b & 0x80 != 0 {
        return -4;
    }
    let ref_idc = (b >> 5) & 3;
    match b & 0x1f {
        7 if ref_idc != 0 && nal.len() >= 4 && is_h264_profile(nal[1]) => 8,
        8 if ref_idc != 0 => 3,
        5 if ref_idc != 0 => 4,
        1 => 1,
        6 | 9..=12 if ref_idc == 0 => 1,
        6 | 9..=12 => -2,
        13..=15 | 19 | 20 => 0,
        // Data partitions are rare and their headers look like HEVC SPS/PPS; no vote.
        2..=4 => 0,
        _ => -2,
    }
}

fn score_hevc(nal: &[u8]) -> i32 {
    if nal.len() < 2 || nal[0] & 0x80 != 0 || nal[1] & 7 == 0 {
        return -4;
    }
    let t = (nal[0] >> 1) & 0x3f;
    let layer = ((nal[0] & 1) << 5) | (nal[1] >> 3);
    if layer != 0 {
        return -1;
    }
    let tid0 = nal[1] & 7 == 1;
    match t {
        32..=34 if tid0 => 8,
        16..=21 if tid0 => 4,
        35 | 39 | 40 => 1,
        0..=9 => 1,
        36..=38 | 41..=47 => 0,
        _ => -2,
    }
}

fn is_h264_profile(p: u8) -> bool {
    matches!(p, 44 | 66 | 77 | 83 | 86 | 88 | 100 | 110 | 118 | 122 | 128 | 134 | 135 | 138 | 139 | 244)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_empty_are_none() {
        assert_eq!(detect_codec(&[]), None);
        assert_eq!(detect_codec(&[0, 0, 1]), None);
        assert_eq!(detect_codec(&[0xff; 100]), None);
    }
}
