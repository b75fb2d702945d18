//! Movie fragments (`moof`: `traf` = `tfhd` + `tfdt` + `trun`s): the samples of a
//! fragmented MP4, placed by the rules of ISO/IEC 14496-12 §8.8 (base data offsets,
//! `default-base-is-moof`, runs that follow each other).

use std::collections::HashMap;

use super::boxes::{Reader, malformed};
use super::moov::TrackDefaults;
use super::tables::Sample;
use video_hw_types::error::{Error, Result};

/// `tfhd` flags.
const BASE_DATA_OFFSET: u32 = 0x1;
const DESCRIPTION_INDEX: u32 = 0x2;
const DEFAULT_DURATION: u32 = 0x8;
const DEFAULT_SIZE: u32 = 0x10;
const DEFAULT_FLAGS: u32 = 0x20;
const DEFAULT_BASE_IS_MOOF: u32 = 0x2_0000;
/// `trun` flags.
const DATA_OFFSET: u32 = 0x1;
const FIRST_SAMPLE_FLAGS: u32 = 0x4;
const SAMPLE_DURATION: u32 = 0x100;
const SAMPLE_SIZE: u32 = 0x200;
const SAMPLE_FLAGS: u32 = 0x400;
const SAMPLE_CTS: u32 = 0x800;
/// In sample flags: `sample_is_non_sync_sample`.
const NON_SYNC: u32 = 0x1_0000;

/// Where each track's fragments got to: the decode time after its last sample.
#[derive(Debug, Default)]
pub struct FragmentState {
    next_dts: HashMap<u32, i64>,
}

/// Adds the samples of one `moof` (whose header starts at `moof_start`) to `tracks`,
/// keyed by `track_ID`. Samples whose bytes lie outside the file end that track's
/// fragment with an error (the samples before stay).
pub fn parse_moof(
    moof: Reader<'_>,
    moof_start: u64,
    file_len: u64,
    defaults: &HashMap<u32, TrackDefaults>,
    state: &mut FragmentState,
    tracks: &mut HashMap<u32, Vec<Sample>>,
    max_samples: usize,
) -> Result<()> {
    // Without a base offset, the first traf's data starts at the moof and each later
    // traf's data at the end of the one before.
    let mut implicit_base = moof_start;
    for child in moof.children() {
        let (h, traf) = child?;
        if &h.kind != b"traf" {
            continue;
        }
        implicit_base = parse_traf(traf, moof_start, implicit_base, file_len, defaults, state, tracks, max_samples)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn parse_traf(
    traf: Reader<'_>,
    moof_start: u64,
    implicit_base: u64,
    file_len: u64,
    defaults: &HashMap<u32, TrackDefaults>,
    state: &mut FragmentState,
    tracks: &mut HashMap<u32, Vec<Sample>>,
    max_samples: usize,
) -> Result<u64> {
    let at = traf.offset();
    let mut tfhd = None;
    let mut tfdt = None;
    let mut truns = Vec::new();
    for child in traf.children() {
        let (h, body) = child?;
        match &h.kind {
            b"tfhd" => tfhd = Some(body),
            b"tfdt" => tfdt = Some(body),
            b"trun" => truns.push(body),
            _ => {}
        }
    }
    let mut tfhd = tfhd.ok_or_else(|| malformed(at, "traf without tfhd"))?;
    let (_, flags) = tfhd.full_box("tfhd")?;
    let id = tfhd.u32("tfhd track_ID")?;
    let Some(trex) = defaults.get(&id) else {
        return Err(malformed(at, format!("fragment of track {id}, which the movie box does not list")));
    };
    let base = if flags & BASE_DATA_OFFSET != 0 {
        tfhd.u64("tfhd base data offset")?
    } else if flags & DEFAULT_BASE_IS_MOOF != 0 {
        moof_start
    } else {
        implicit_base
    };
    if flags & DESCRIPTION_INDEX != 0 {
        tfhd.u32("tfhd description index")?;
    }
    let default_duration = if flags & DEFAULT_DURATION != 0 { tfhd.u32("tfhd duration")? } else { trex.duration };
    let default_size = if flags & DEFAULT_SIZE != 0 { tfhd.u32("tfhd size")? } else { trex.size };
    let default_flags = if flags & DEFAULT_FLAGS != 0 { tfhd.u32("tfhd flags")? } else { trex.flags };

    let mut dts = match tfdt {
        Some(mut r) => {
            let (v, _) = r.full_box("tfdt")?;
            r.u32_or_u64(v, "tfdt decode time")?.min(i64::MAX as u64) as i64
        }
        None => state.next_dts.get(&id).copied().unwrap_or(0),
    };
    let samples = tracks.entry(id).or_default();
    // Each run's data follows the previous run's unless it says where it is.
    let mut data_end = base;
    for mut trun in truns {
        let run_at = trun.offset();
        let (_version, tflags) = trun.full_box("trun")?;
        let per_sample =
            [SAMPLE_DURATION, SAMPLE_SIZE, SAMPLE_FLAGS, SAMPLE_CTS].iter().filter(|f| tflags & **f != 0).count() * 4;
        let count = trun.count(per_sample, "trun sample count")?;
        let mut offset = if tflags & DATA_OFFSET != 0 {
            let rel = i64::from(trun.u32("trun data offset")? as i32);
            base.checked_add_signed(rel).ok_or_else(|| malformed(run_at, "trun data offset before the file"))?
        } else {
            data_end
        };
        let first_flags =
            if tflags & FIRST_SAMPLE_FLAGS != 0 { Some(trun.u32("trun first sample flags")?) } else { None };
        if samples.len().saturating_add(count) > max_samples {
            return Err(malformed(run_at, format!("more than {max_samples} samples in track {id}")));
        }
        for i in 0..count {
            let duration = if tflags & SAMPLE_DURATION != 0 { trun.u32("trun duration")? } else { default_duration };
            let size = if tflags & SAMPLE_SIZE != 0 { trun.u32("trun size")? } else { default_size };
            let sflags = if tflags & SAMPLE_FLAGS != 0 {
                trun.u32("trun flags")?
            } else if i == 0 {
                first_flags.unwrap_or(default_flags)
            } else {
                default_flags
            };
            let cts = if tflags & SAMPLE_CTS != 0 {
                // Signed in version 1; version 0 is unsigned on paper, but writers put
                // negative values there too, so both are read as signed.
                trun.u32("trun composition offset")? as i32
            } else {
                0
            };
            let end = offset.checked_add(u64::from(size));
            if end.is_none_or(|e| e > file_len) {
                state.next_dts.insert(id, dts);
                return Err(Error::invalid_bitstream(
                    run_at,
                    format!(
                        "malformed MP4: fragment sample of track {id} ({size} bytes at offset {offset}) lies outside the file ({file_len} bytes)"
                    ),
                ));
            }
            samples.push(Sample { offset, size, dts, cts, duration, sync: sflags & NON_SYNC == 0 });
            dts = dts.saturating_add(i64::from(duration));
            offset = end.unwrap_or(offset);
        }
        data_end = offset;
    }
    state.next_dts.insert(id, dts);
    Ok(data_end)
}
