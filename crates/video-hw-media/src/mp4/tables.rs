//! The sample table of a track (`stbl`): where each sample lies, its size, its decode
//! and composition times and whether it is a sync sample. Every count is checked
//! against the bytes of the box that states it and against the file, so a table costs
//! at most what the file holds.

use super::boxes::{Reader, malformed};
use super::sample_entry::{SampleEntry, parse_stsd};
use video_hw_types::error::{Error, Result};

/// The most samples one track may have (a 24-hour 240 fps video has 21 million).
pub const MAX_SAMPLES: usize = 25_000_000;

/// One sample (a coded frame or an audio frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// File offset of its first byte.
    pub offset: u64,
    /// Its size.
    pub size: u32,
    /// Decode time, in the media timescale.
    pub dts: i64,
    /// Composition offset (pts = dts + cts).
    pub cts: i32,
    /// Duration (the decode-time delta to the next sample).
    pub duration: u32,
    /// A sync sample (random access point).
    pub sync: bool,
}

impl Sample {
    /// Presentation time, before any edit list.
    pub fn pts(&self) -> i64 {
        self.dts.saturating_add(i64::from(self.cts))
    }
}

/// A track's table: its first sample description, samples, and where the table broke.
#[derive(Debug)]
pub struct Table {
    /// The first sample description.
    pub entry: SampleEntry,
    /// The samples whose bytes lie inside the file, in decode order.
    pub samples: Vec<Sample>,
    /// Why the table ends before what it lists (a sample outside the file, a table that
    /// lists fewer chunks than samples, …), if it does.
    pub damage: Option<Error>,
}

/// Reads `stbl`. `file_len` bounds the samples: those whose bytes lie past the end of
/// the file (a truncated file) end the table there, as damage.
pub fn parse_stbl(stbl: Reader<'_>, file_len: u64) -> Result<Table> {
    let at = stbl.offset();
    let (mut stsd, mut stts, mut ctts, mut stss, mut stsc, mut stsz, mut stz2, mut stco, mut co64) =
        (None, None, None, None, None, None, None, None, None);
    for child in stbl.children() {
        let (h, body) = child?;
        match &h.kind {
            b"stsd" => stsd = Some(body),
            b"stts" => stts = Some(body),
            b"ctts" => ctts = Some(body),
            b"stss" => stss = Some(body),
            b"stsc" => stsc = Some(body),
            b"stsz" => stsz = Some(body),
            b"stz2" => stz2 = Some(body),
            b"stco" => stco = Some(body),
            b"co64" => co64 = Some(body),
            _ => {}
        }
    }
    let entry = parse_stsd(stsd.ok_or_else(|| malformed(at, "stbl without stsd"))?)?;
    let sizes = match (stsz, stz2) {
        (Some(r), _) => sample_sizes(r, file_len)?,
        (None, Some(r)) => compact_sizes(r)?,
        (None, None) => Sizes::Each(Vec::new()),
    };
    let count = sizes.len();
    let mut samples = Vec::new();
    if count == 0 {
        return Ok(Table { entry, samples, damage: None });
    }
    let chunks = chunk_offsets(stco, co64, at)?;
    let runs = sample_to_chunk(stsc.ok_or_else(|| malformed(at, "stbl without stsc"))?)?;
    samples.reserve(count.min(1 << 20));
    let mut damage = None;

    // Place the samples chunk by chunk: a chunk's samples follow each other from its offset.
    'chunks: for (ci, &chunk_offset) in chunks.iter().enumerate() {
        let chunk_no = ci as u64 + 1;
        let run = runs.partition_point(|r| u64::from(r.0) <= chunk_no);
        let per_chunk = if run == 0 { 0 } else { runs[run - 1].1 };
        let mut offset = chunk_offset;
        for _ in 0..per_chunk {
            let i = samples.len();
            if i == count {
                break 'chunks;
            }
            let size = sizes.get(i);
            let end = offset.checked_add(u64::from(size));
            if end.is_none_or(|e| e > file_len) {
                damage = Some(Error::invalid_bitstream(
                    offset.min(file_len),
                    format!(
                        "truncated MP4: sample {} of {count} ({size} bytes at offset {offset}) lies past the end of the file ({file_len} bytes)",
                        i + 1
                    ),
                ));
                break 'chunks;
            }
            samples.push(Sample { offset, size, ..Sample::default() });
            offset = end.unwrap_or(offset);
        }
    }
    if damage.is_none() && samples.len() < count {
        damage = Some(malformed(
            at,
            format!("the sample table lists {count} samples but its chunks hold {}", samples.len()),
        ));
    }
    if let Some(r) = stts {
        decode_times(r, &mut samples)?;
    }
    if let Some(r) = ctts {
        composition_offsets(r, &mut samples)?;
    }
    match stss {
        Some(r) => sync_samples(r, &mut samples)?,
        None => samples.iter_mut().for_each(|s| s.sync = true),
    }
    Ok(Table { entry, samples, damage })
}

/// Sample sizes: one for all, or one each.
enum Sizes {
    Same(u32, usize),
    Each(Vec<u32>),
}

impl Sizes {
    fn len(&self) -> usize {
        match self {
            Sizes::Same(_, n) => *n,
            Sizes::Each(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> u32 {
        match self {
            Sizes::Same(s, _) => *s,
            Sizes::Each(v) => v.get(i).copied().unwrap_or(0),
        }
    }
}

fn too_many(at: u64, n: u64) -> Error {
    malformed(at, format!("{n} samples in one track (at most {MAX_SAMPLES})"))
}

fn sample_sizes(mut r: Reader<'_>, file_len: u64) -> Result<Sizes> {
    let at = r.offset();
    r.full_box("stsz")?;
    let size = r.u32("stsz sample size")?;
    if size != 0 {
        let n = r.u32("stsz sample count")? as u64;
        // Samples of one size must fit in the file side by side.
        if n > MAX_SAMPLES as u64 || n.saturating_mul(u64::from(size)) > file_len {
            return Err(malformed(
                at,
                format!("stsz claims {n} samples of {size} bytes, more than the file's {file_len} bytes hold"),
            ));
        }
        return Ok(Sizes::Same(size, n as usize));
    }
    let n = r.count(4, "stsz sample count")?;
    if n > MAX_SAMPLES {
        return Err(too_many(at, n as u64));
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(r.u32("stsz entry")?);
    }
    Ok(Sizes::Each(v))
}

fn compact_sizes(mut r: Reader<'_>) -> Result<Sizes> {
    let at = r.offset();
    r.full_box("stz2")?;
    r.skip(3, "stz2 reserved")?;
    let field = r.u8("stz2 field size")?;
    let n = r.u32("stz2 sample count")? as usize;
    let bytes_needed = match field {
        4 => n.div_ceil(2),
        8 => n,
        16 => n.saturating_mul(2),
        other => return Err(malformed(at, format!("stz2 field size {other}"))),
    };
    if n > MAX_SAMPLES || bytes_needed > r.remaining() {
        return Err(malformed(at, format!("stz2 claims {n} samples, the box holds {} bytes", r.remaining())));
    }
    let data = r.bytes(bytes_needed, "stz2 entries")?;
    let v = (0..n)
        .map(|i| match field {
            4 => u32::from(if i % 2 == 0 { data[i / 2] >> 4 } else { data[i / 2] & 0x0f }),
            8 => u32::from(data[i]),
            _ => u32::from(u16::from_be_bytes([data[2 * i], data[2 * i + 1]])),
        })
        .collect();
    Ok(Sizes::Each(v))
}

fn chunk_offsets(stco: Option<Reader<'_>>, co64: Option<Reader<'_>>, at: u64) -> Result<Vec<u64>> {
    let (mut r, wide) = match (stco, co64) {
        (Some(r), _) => (r, false),
        (None, Some(r)) => (r, true),
        (None, None) => return Err(malformed(at, "stbl without stco/co64")),
    };
    r.full_box("chunk offsets")?;
    let n = r.count(if wide { 8 } else { 4 }, "chunk count")?;
    (0..n).map(|_| if wide { r.u64("co64 entry") } else { r.u32("stco entry").map(u64::from) }).collect()
}

/// `stsc` as (first chunk, samples per chunk), first chunks increasing.
fn sample_to_chunk(mut r: Reader<'_>) -> Result<Vec<(u32, u32)>> {
    let at = r.offset();
    r.full_box("stsc")?;
    let n = r.count(12, "stsc entry count")?;
    let mut runs: Vec<(u32, u32)> = Vec::with_capacity(n);
    for _ in 0..n {
        let first = r.u32("stsc first chunk")?;
        let per = r.u32("stsc samples per chunk")?;
        r.u32("stsc description index")?;
        if runs.last().is_some_and(|l| l.0 >= first) || first == 0 {
            return Err(malformed(at, format!("stsc first chunks out of order ({first})")));
        }
        runs.push((first, per));
    }
    Ok(runs)
}

fn decode_times(mut r: Reader<'_>, samples: &mut [Sample]) -> Result<()> {
    r.full_box("stts")?;
    let n = r.count(8, "stts entry count")?;
    let mut i = 0usize;
    let mut t: i64 = 0;
    let mut last = 0u32;
    for _ in 0..n {
        let count = r.u32("stts sample count")?;
        let delta = r.u32("stts sample delta")?;
        last = delta;
        for _ in 0..count {
            let Some(s) = samples.get_mut(i) else { return Ok(()) };
            s.dts = t;
            s.duration = delta;
            t = t.saturating_add(i64::from(delta));
            i += 1;
        }
    }
    // Samples the table does not reach keep the last duration (as players do).
    for s in &mut samples[i..] {
        s.dts = t;
        s.duration = last;
        t = t.saturating_add(i64::from(last));
    }
    Ok(())
}

fn composition_offsets(mut r: Reader<'_>, samples: &mut [Sample]) -> Result<()> {
    r.full_box("ctts")?;
    let n = r.count(8, "ctts entry count")?;
    let mut i = 0usize;
    for _ in 0..n {
        let count = r.u32("ctts sample count")?;
        // Version 0 says unsigned, but writers put negative offsets there too: read as
        // signed, as every player does.
        let offset = r.u32("ctts sample offset")? as i32;
        for _ in 0..count {
            let Some(s) = samples.get_mut(i) else { return Ok(()) };
            s.cts = offset;
            i += 1;
        }
    }
    Ok(())
}

fn sync_samples(mut r: Reader<'_>, samples: &mut [Sample]) -> Result<()> {
    r.full_box("stss")?;
    let n = r.count(4, "stss entry count")?;
    for _ in 0..n {
        let k = r.u32("stss entry")? as usize;
        if let Some(s) = k.checked_sub(1).and_then(|i| samples.get_mut(i)) {
            s.sync = true;
        }
    }
    Ok(())
}
