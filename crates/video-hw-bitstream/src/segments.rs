//! Cutting a whole H.264/HEVC Annex-B stream into segments that decode on their own, so
//! several decode sessions can work on one stream at once
//! (`video_hw::pipeline::SegmentedDecode`).
//!
//! A segment starts at a random access point after which nothing refers back: an IDR
//! access unit (H.264, HEVC), or an HEVC CRA/BLA access unit not followed by RASL pictures
//! (those predict from pictures before it, so a segment starting there would lose them).
//! An IDR also makes a decoder output every earlier picture first, so the segments'
//! frames, one after the other, are the whole stream's frames in output order.
//!
//! Parameter sets sent before a segment are carried in its `prefix`, so a segment whose
//! random access point does not repeat them still decodes.
//!
//! ```
//! use video_hw::bitstream::segments::split_at_random_access;
//! use video_hw::Codec;
//!
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/h264/gop12-idr-cars-320x240.h264");
//! let stream = std::fs::read(path)?; // 48 pictures
//! let segments = split_at_random_access(&stream, Codec::H264, 1)?;
//! assert_eq!(segments.len(), 4); // an IDR every 12 frames
//! assert_eq!(segments.iter().map(|s| s.pictures).sum::<usize>(), 48);
//! # Ok::<(), video_hw::Error>(())
//! ```

use std::ops::Range;

use super::access_unit::{NalKind, parser_for};
use super::annexb::split_all;
use super::nal::{HevcNalHeader, hevc_type};
use super::param_sets::ParameterSetLog;
use video_hw_types::codec::Codec;
use video_hw_types::error::Result;

/// A piece of an Annex-B stream that decodes on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Where the piece lies in the stream.
    pub range: Range<usize>,
    /// Parameter sets sent before `range` (Annex-B, each after a start code), to feed
    /// first; empty for the first segment.
    pub prefix: Vec<u8>,
    /// Coded pictures in the piece (a field pair counts once).
    pub pictures: usize,
}

/// A cut being considered: an HEVC CRA/BLA waits until its leading pictures show that
/// none is RASL.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    at: usize,
    pictures_before: usize,
    /// True once decided (an IDR, or a CRA/BLA whose leading pictures were all seen).
    clean: bool,
}

/// Cuts `stream` (a whole H.264 or HEVC Annex-B stream) at its clean random access
/// points into segments of at least `min_pictures` pictures each (the last one may be
/// shorter). A stream without such a point after its start gives one segment.
///
/// Damaged NAL units are not cut at but do not stop the search; the segments always
/// cover the whole stream. `Unsupported` for codecs other than H.264 and HEVC.
pub fn split_at_random_access(stream: &[u8], codec: Codec, min_pictures: usize) -> Result<Vec<Segment>> {
    let mut parser = parser_for(codec)?;
    let base = stream.as_ptr() as usize;
    let mut sets = ParameterSetLog::default();
    let mut cuts: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    let mut pictures = 0usize;
    let mut au_start = 0usize;
    let mut pending: Option<Candidate> = None;
    let mut last_cut_pictures = 0usize;

    for nal in split_all(stream) {
        let at = nal.as_ptr() as usize - base;
        // The NAL unit begins at its start code, 4 bytes (`00 00 00 01`) or 3.
        let nal_start = if at >= 4 && stream[at - 4] == 0 { at - 4 } else { at.saturating_sub(3) };
        let Ok(info) = parser.inspect(nal) else { continue };
        if info.starts_access_unit {
            au_start = nal_start;
        }
        if info.kind == NalKind::ParameterSet {
            sets.note(nal_start as u64, nal);
            continue;
        }
        let Some(picture) = info.picture else { continue };
        // Settle a CRA/BLA waiting for its leading pictures.
        if let Some(c) = pending.filter(|c| !c.clean) {
            let kind = hevc_header(nal);
            if kind.is_some_and(|h| h.is_rasl()) {
                pending = None;
            } else if !kind.is_some_and(|h| matches!(h.nal_unit_type, hevc_type::RADL_N | hevc_type::RADL_R)) {
                pending = Some(Candidate { clean: true, ..c });
            }
        }
        if let Some(c) = pending.filter(|c| c.clean) {
            commit(&mut cuts, &mut counts, &sets, c, &mut last_cut_pictures, min_pictures);
            pending = None;
        }
        let random_access = match codec {
            Codec::Hevc => hevc_header(nal).is_some_and(|h| h.is_irap()),
            _ => picture.idr,
        };
        if random_access && au_start > 0 && sets.fits() {
            let c = Candidate { at: au_start, pictures_before: pictures, clean: picture.idr };
            if c.clean {
                commit(&mut cuts, &mut counts, &sets, c, &mut last_cut_pictures, min_pictures);
            } else {
                pending = Some(c);
            }
        }
        if !picture.second_field {
            pictures += 1;
        }
    }
    if let Some(c) = pending {
        // A CRA/BLA with no picture after it has no RASL picture.
        commit(&mut cuts, &mut counts, &sets, Candidate { clean: true, ..c }, &mut last_cut_pictures, min_pictures);
    }
    counts.push(pictures);

    // Merge a short last segment into the one before it.
    if !cuts.is_empty() && counts[counts.len() - 1] - counts[counts.len() - 2] < min_pictures {
        cuts.pop();
        counts.remove(counts.len() - 2);
    }
    let mut segments = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0usize;
    let mut prefix = Vec::new();
    let mut before = 0usize;
    for ((at, next_prefix), &count) in cuts.into_iter().zip(&counts) {
        segments.push(Segment { range: start..at, prefix: std::mem::take(&mut prefix), pictures: count - before });
        (start, prefix, before) = (at, next_prefix, count);
    }
    segments.push(Segment {
        range: start..stream.len(),
        prefix,
        pictures: counts.last().copied().unwrap_or(0) - before,
    });
    Ok(segments)
}

/// Records a cut when the segment it ends is long enough.
fn commit(
    cuts: &mut Vec<(usize, Vec<u8>)>,
    counts: &mut Vec<usize>,
    sets: &ParameterSetLog,
    c: Candidate,
    last_cut_pictures: &mut usize,
    min_pictures: usize,
) {
    if c.pictures_before - *last_cut_pictures < min_pictures.max(1) {
        return;
    }
    cuts.push((c.at, sets.before(c.at as u64)));
    counts.push(c.pictures_before);
    *last_cut_pictures = c.pictures_before;
}

fn hevc_header(nal: &[u8]) -> Option<HevcNalHeader> {
    HevcNalHeader::parse(nal).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../../testdata/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn pieces(stream: &[u8], codec: Codec, min: usize) -> Vec<Segment> {
        let s = split_at_random_access(stream, codec, min).unwrap();
        // The pieces cover the stream, in order, without gaps.
        assert_eq!(s.first().unwrap().range.start, 0);
        assert_eq!(s.last().unwrap().range.end, stream.len());
        for w in s.windows(2) {
            assert_eq!(w[0].range.end, w[1].range.start);
        }
        s
    }

    #[test]
    fn h264_cuts_at_every_idr() {
        let s = fixture("h264/gop12-idr-cars-320x240.h264");
        let segs = pieces(&s, Codec::H264, 1);
        assert_eq!(segs.iter().map(|s| s.pictures).collect::<Vec<_>>(), vec![12, 12, 12, 12]);
        assert!(segs[0].prefix.is_empty());
        // Each later segment starts at an access unit with its own SPS/PPS here.
        for seg in &segs[1..] {
            assert_eq!(&s[seg.range.start..seg.range.start + 4], &[0, 0, 0, 1]);
        }
    }

    #[test]
    fn min_pictures_merges_short_segments() {
        let s = fixture("h264/gop12-idr-cars-320x240.h264");
        let segs = pieces(&s, Codec::H264, 20);
        assert_eq!(segs.iter().map(|s| s.pictures).collect::<Vec<_>>(), vec![24, 24]);
        let segs = pieces(&s, Codec::H264, 30);
        // 36 + 12: the short tail joins the segment before it.
        assert_eq!(segs.iter().map(|s| s.pictures).collect::<Vec<_>>(), vec![48]);
    }

    #[test]
    fn open_gop_h264_is_not_cut() {
        let s = fixture("h264/open-gop-cars-320x240.h264");
        assert_eq!(pieces(&s, Codec::H264, 1).len(), 1);
    }

    #[test]
    fn hevc_cra_with_rasl_is_not_cut_but_a_repeated_stream_is() {
        let s = fixture("hevc/open-gop-cra-rasl-cars-320x240.h265");
        let one = pieces(&s, Codec::Hevc, 1);
        assert_eq!(one.len(), 1, "CRAs followed by RASL pictures must not start a segment");
        let twice = [s.clone(), s.clone()].concat();
        let segs = pieces(&twice, Codec::Hevc, 1);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[1].range.start, s.len());
        assert_eq!(segs[0].pictures, segs[1].pictures);
    }

    #[test]
    fn garbage_gives_one_segment_and_no_panic() {
        let mut x = 0x1234_5678u32;
        let data: Vec<u8> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if x.is_multiple_of(7) { 0 } else { x as u8 }
            })
            .collect();
        for codec in [Codec::H264, Codec::Hevc] {
            let segs = pieces(&data, codec, 1);
            assert!(!segs.is_empty());
        }
        assert_eq!(pieces(&[], Codec::H264, 1).len(), 1);
        assert!(split_at_random_access(&data, Codec::Av1, 1).is_err());
    }
}
