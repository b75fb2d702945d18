//! The movie box: tracks (`trak`: header, media header, handler, edit list, sample
//! table) and the fragment defaults (`mvex/trex`).

use std::collections::HashMap;

use super::boxes::{MAX_DEPTH, Reader, malformed};
use super::tables::{Table, parse_stbl};
use crate::types::TrackKind;
use video_hw_types::codec::Rational;
use video_hw_types::error::Result;

/// `trex`: a track's defaults for samples in movie fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackDefaults {
    /// Default sample duration.
    pub duration: u32,
    /// Default sample size.
    pub size: u32,
    /// Default sample flags.
    pub flags: u32,
}

/// One edit list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditEntry {
    /// Duration in the movie timescale.
    pub segment_duration: u64,
    /// Start in the media timescale; `None` for an empty edit (a pause).
    pub media_time: Option<i64>,
    /// Playback rate (1 for normal play, 0 for a dwell).
    pub rate: i16,
}

/// What a `trak` says.
#[derive(Debug)]
pub struct TrakInfo {
    /// `track_ID`.
    pub id: u32,
    /// From the handler type.
    pub kind: TrackKind,
    /// Media timescale (ticks per second).
    pub timescale: u32,
    /// Media duration in the media timescale (0 when unknown or fragmented).
    pub duration: u64,
    /// ISO 639-2/T language, unless undetermined.
    pub language: Option<String>,
    /// Clockwise display rotation in degrees (0, 90, 180, 270).
    pub rotation: u16,
    /// The `tkhd` flags' `track_enabled` bit (ffmpeg's default disposition).
    pub enabled: bool,
    /// Track header size (pixels), for visual tracks.
    pub width: u32,
    /// Track header height.
    pub height: u32,
    /// The edit list, if any.
    pub edits: Vec<EditEntry>,
    /// Sample description and samples listed in the movie box.
    pub table: Table,
}

/// The movie box's contents.
#[derive(Debug)]
pub struct Movie {
    /// Movie timescale (of edit list durations).
    pub timescale: u32,
    /// The tracks, in order.
    pub traks: Vec<TrakInfo>,
    /// Fragment defaults by `track_ID`; present only in fragmented files.
    pub trex: Option<HashMap<u32, TrackDefaults>>,
    /// The movie's iTunes gapless information (`udta/meta/ilst`, `iTunSMPB`).
    pub gapless: Option<crate::audio::ItunSmpb>,
}

/// Reads a `moov` body (its bytes start at file offset `r.offset()`).
pub fn parse_moov(r: Reader<'_>, file_len: u64) -> Result<Movie> {
    let at = r.offset();
    let mut timescale = 0;
    let mut traks = Vec::new();
    let mut trex = None;
    let mut gapless = None;
    for child in r.children() {
        let (h, mut body) = child?;
        match &h.kind {
            b"mvhd" => {
                let (v, _) = body.full_box("mvhd")?;
                body.u32_or_u64(v, "mvhd creation time")?;
                body.u32_or_u64(v, "mvhd modification time")?;
                timescale = body.u32("mvhd timescale")?;
            }
            b"trak" => traks.push(parse_trak(body, file_len)?),
            b"udta" => gapless = gapless.or(super::metadata::gapless(body)),
            b"mvex" => {
                let mut map = HashMap::new();
                for c in body.children() {
                    let (ch, mut cb) = c?;
                    if &ch.kind == b"trex" {
                        cb.full_box("trex")?;
                        let id = cb.u32("trex track_ID")?;
                        cb.u32("trex description index")?;
                        let d = TrackDefaults {
                            duration: cb.u32("trex duration")?,
                            size: cb.u32("trex size")?,
                            flags: cb.u32("trex flags")?,
                        };
                        map.insert(id, d);
                    }
                }
                trex = Some(map);
            }
            _ => {}
        }
    }
    if timescale == 0 {
        timescale = 1000;
    }
    if traks.is_empty() {
        return Err(malformed(at, "moov without a track"));
    }
    Ok(Movie { timescale, traks, trex, gapless })
}

/// Finds the boxes on `path` below `r` (e.g. `mdia/minf/stbl`).
fn find<'a>(r: Reader<'a>, path: &[&[u8; 4]]) -> Result<Option<Reader<'a>>> {
    if path.len() > MAX_DEPTH {
        return Ok(None);
    }
    let Some((first, rest)) = path.split_first() else { return Ok(Some(r)) };
    for child in r.children() {
        let (h, body) = child?;
        if &h.kind == *first {
            return find(body, rest);
        }
    }
    Ok(None)
}

fn parse_trak(r: Reader<'_>, file_len: u64) -> Result<TrakInfo> {
    let at = r.offset();
    let mut tkhd = find(r, &[b"tkhd"])?.ok_or_else(|| malformed(at, "trak without tkhd"))?;
    let (v, flags) = tkhd.full_box("tkhd")?;
    tkhd.u32_or_u64(v, "tkhd creation time")?;
    tkhd.u32_or_u64(v, "tkhd modification time")?;
    let id = tkhd.u32("tkhd track_ID")?;
    tkhd.skip(4, "tkhd reserved")?;
    tkhd.u32_or_u64(v, "tkhd duration")?;
    tkhd.skip(8 + 2 + 2 + 2 + 2, "tkhd fields")?;
    let mut matrix = [0i32; 9];
    for m in &mut matrix {
        *m = tkhd.u32("tkhd matrix")? as i32;
    }
    let width = tkhd.u32("tkhd width")? >> 16;
    let height = tkhd.u32("tkhd height")? >> 16;

    let mut mdhd = find(r, &[b"mdia", b"mdhd"])?.ok_or_else(|| malformed(at, "trak without mdia/mdhd"))?;
    let (v, _) = mdhd.full_box("mdhd")?;
    mdhd.u32_or_u64(v, "mdhd creation time")?;
    mdhd.u32_or_u64(v, "mdhd modification time")?;
    let timescale = mdhd.u32("mdhd timescale")?;
    let duration = mdhd.u32_or_u64(v, "mdhd duration")?;
    let language = language(mdhd.u16("mdhd language")?);
    if timescale == 0 {
        return Err(malformed(mdhd.offset(), format!("track {id}: media timescale 0")));
    }

    let kind = match find(r, &[b"mdia", b"hdlr"])? {
        Some(mut hdlr) => {
            hdlr.full_box("hdlr")?;
            hdlr.skip(4, "hdlr pre_defined")?;
            match hdlr.bytes(4, "hdlr handler type")? {
                b"vide" => TrackKind::Video,
                b"soun" => TrackKind::Audio,
                b"sbtl" | b"subt" | b"text" | b"clcp" => TrackKind::Subtitle,
                _ => TrackKind::Data,
            }
        }
        None => TrackKind::Data,
    };

    let edits = match find(r, &[b"edts", b"elst"])? {
        Some(elst) => edit_list(elst)?,
        None => Vec::new(),
    };
    let stbl =
        find(r, &[b"mdia", b"minf", b"stbl"])?.ok_or_else(|| malformed(at, format!("track {id} without stbl")))?;
    let table = parse_stbl(stbl, file_len)?;
    Ok(TrakInfo {
        id,
        kind,
        timescale,
        duration: if duration == u64::from(u32::MAX) || duration == u64::MAX { 0 } else { duration },
        language,
        rotation: rotation(&matrix),
        enabled: flags & 1 != 0,
        width,
        height,
        edits,
        table,
    })
}

fn edit_list(mut r: Reader<'_>) -> Result<Vec<EditEntry>> {
    let (v, _) = r.full_box("elst")?;
    let n = r.count(if v == 1 { 20 } else { 12 }, "elst entry count")?;
    let mut edits = Vec::with_capacity(n);
    for _ in 0..n {
        let segment_duration = r.u32_or_u64(v, "elst segment duration")?;
        let media_time =
            if v == 1 { r.u64("elst media time")? as i64 } else { i64::from(r.u32("elst media time")? as i32) };
        let rate = r.u16("elst rate")? as i16;
        r.skip(2, "elst rate fraction")?;
        edits.push(EditEntry { segment_duration, media_time: (media_time >= 0).then_some(media_time), rate });
    }
    Ok(edits)
}

/// The packed ISO 639-2/T code of `mdhd` (three 5-bit letters), unless it is `und` or a
/// QuickTime language number.
fn language(packed: u16) -> Option<String> {
    if packed < 0x400 || packed == 0x7fff {
        return None;
    }
    let code: String = [10, 5, 0].iter().map(|s| char::from(((packed >> s) & 0x1f) as u8 + 0x60)).collect();
    (code.chars().all(|c| c.is_ascii_lowercase()) && code != "und").then_some(code)
}

/// The rotation of a display matrix in degrees counter-clockwise, to the nearest quarter
/// turn, as ffmpeg's `av_display_rotation_get` reads it (and torchcodec reports it):
/// `{a, b, c, d} = {0, -1, 1, 0}` is 90, which ffmpeg's autorotate shows turned 90°
/// counter-clockwise (ffmpeg 5.1 writes its `rotate=90` tag so).
fn rotation(m: &[i32; 9]) -> u16 {
    let (a, b) = (f64::from(m[0]), f64::from(m[1]));
    if a == 0.0 && b == 0.0 {
        return 0;
    }
    let deg = -b.atan2(a).to_degrees();
    (((deg / 90.0).round() as i64).rem_euclid(4) * 90) as u16
}

/// `ts` in `from` units as `to` units, for edit list durations (movie → media timescale).
pub fn movie_to_media(ts: u64, movie: u32, media: u32) -> i64 {
    Rational::new(1, i64::from(media))
        .rescale(ts.min(i64::MAX as u64) as i64, Rational::new(1, i64::from(movie.max(1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        // "eng" = e(5) n(14) g(7) packed as 5-bit letters minus 0x60.
        let eng = (5 << 10) | (14 << 5) | 7;
        assert_eq!(language(eng).as_deref(), Some("eng"));
        let und = (21 << 10) | (14 << 5) | 4;
        assert_eq!(language(und), None);
        assert_eq!(language(0), None);
    }

    #[test]
    fn rotations() {
        let one = 1 << 16;
        assert_eq!(rotation(&[one, 0, 0, 0, one, 0, 0, 0, 1 << 30]), 0);
        assert_eq!(rotation(&[0, -one, 0, one, 0, 0, 0, 0, 1 << 30]), 90);
        assert_eq!(rotation(&[-one, 0, 0, 0, -one, 0, 0, 0, 1 << 30]), 180);
        assert_eq!(rotation(&[0, one, 0, -one, 0, 0, 0, 0, 1 << 30]), 270);
    }
}
