//! Reading the video track of an MP4/MOV file. `mp4-atom` decodes the boxes; the walk over
//! the top-level boxes, the choice of track and the sample table (where each sample lies
//! and its timestamps) are built here, with a bound on everything a file can claim (box
//! sizes, sample counts and sizes), so a malicious file costs at most what it holds. A
//! panic inside the box decoder is caught and becomes invalid input (exit 4).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use mp4_atom::{Atom, Codec as SampleEntry, Encode, Stbl, StszSamples, Trak};
use video_hw::bitstream::avcc::DecoderConfigRecord;
use video_hw::{Codec, Error, Rational, Result};

/// The largest `moov` box read (a two-hour film's is a few MB).
pub const MAX_MOOV_BYTES: u64 = 256 << 20;
/// The most samples a track may list.
pub const MAX_SAMPLES: usize = 20_000_000;
/// The largest sample read (one access unit).
pub const MAX_SAMPLE_BYTES: u32 = 64 << 20;
/// The most top-level boxes walked before the file is declared malformed.
const MAX_TOP_LEVEL_BOXES: usize = 100_000;

/// One sample (access unit) of the track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Byte offset in the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
    /// Decode timestamp, in the track's timescale.
    pub dts: i64,
    /// Presentation timestamp (dts plus the composition offset).
    pub pts: i64,
    /// A sync sample (keyframe), per `stss` (all when there is none).
    pub sync: bool,
}

/// The video track of an MP4: codec, configuration record and sample table.
#[derive(Debug, Clone)]
pub struct Mp4Track {
    /// H.264 or HEVC.
    pub codec: Codec,
    /// The `avcC` / `hvcC` record, parsed by the library.
    pub record: DecoderConfigRecord,
    /// Ticks per second of the timestamps.
    pub timescale: u32,
    /// Every sample in decode order.
    pub samples: Vec<Sample>,
}

impl Mp4Track {
    /// The frame rate the first sample duration implies, if there is one.
    pub fn frame_rate(&self) -> Option<Rational> {
        let delta = self.samples.windows(2).next().map(|w| w[1].dts - w[0].dts)?;
        (delta > 0).then(|| reduce(Rational::new(self.timescale as i64, delta)))
    }
}

/// `num/den` in lowest terms.
pub fn reduce(r: Rational) -> Rational {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a.abs().max(1) } else { gcd(b, a % b) }
    }
    let g = gcd(r.num, r.den);
    Rational::new(r.num / g, r.den / g)
}

/// True when `prefix` starts like an ISO-BMFF file (a known top-level box first).
pub fn looks_like_mp4(prefix: &[u8]) -> bool {
    prefix.len() >= 8 && matches!(&prefix[4..8], b"ftyp" | b"moov" | b"mdat" | b"free" | b"skip" | b"wide" | b"styp")
}

fn malformed(what: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!("malformed MP4: {what}"))
}

/// Reads the first H.264/HEVC video track of the file. A panic in the box decoder is
/// caught and reported as invalid input.
pub fn read_track(file: &mut File) -> Result<Mp4Track> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_track_inner(file))) {
        Ok(r) => r,
        Err(panic) => Err(malformed(format!("the box decoder failed ({})", panic_text(&panic)))),
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

fn read_track_inner(file: &mut File) -> Result<Mp4Track> {
    let len = file.metadata()?.len();
    let moov = read_moov(file, len)?;
    let (trak, fragmented) = video_trak(&moov)?;
    let entry = trak.mdia.minf.stbl.stsd.codecs.first().ok_or_else(|| malformed("empty sample description"))?;
    let (codec, record) = match entry {
        SampleEntry::Avc1(a) => (Codec::H264, record_bytes(&a.avcc)?),
        SampleEntry::Avc3(a) => (Codec::H264, record_bytes(&a.avcc)?),
        SampleEntry::Hvc1(h) => (Codec::Hevc, record_bytes(&h.hvcc)?),
        SampleEntry::Hev1(h) => (Codec::Hevc, record_bytes(&h.hvcc)?),
        _ => return Err(malformed("no H.264/HEVC sample entry")),
    };
    let record = DecoderConfigRecord::parse(codec, &record)?;
    let timescale = trak.mdia.mdhd.timescale;
    if timescale == 0 {
        return Err(malformed("media timescale 0"));
    }
    let samples = sample_table(&trak.mdia.minf.stbl, len)?;
    if samples.is_empty() && fragmented {
        return Err(Error::unsupported("fragmented MP4 (samples in moof boxes)", "not read by video-hw"));
    }
    Ok(Mp4Track { codec, record, timescale, samples })
}

/// The body of an `avcC`/`hvcC` atom (what `DecoderConfigRecord::parse` reads).
fn record_bytes<A: Atom>(atom: &A) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    atom.encode(&mut buf).map_err(|e| malformed(format!("{}: {e}", A::KIND)))?;
    Ok(buf.split_off(8.min(buf.len())))
}

/// (kind, header length, total size) of the box at the start of `data`, whose size must
/// fit in `data`.
fn box_header(data: &[u8]) -> Result<([u8; 4], usize, usize)> {
    if data.len() < 8 {
        return Err(malformed("box header truncated"));
    }
    let size32 = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as u64;
    let kind = [data[4], data[5], data[6], data[7]];
    let (header, size) = match size32 {
        0 => (8, data.len() as u64),
        1 => {
            let b = data.get(8..16).ok_or_else(|| malformed("64-bit box size truncated"))?;
            (16, u64::from_be_bytes(b.try_into().unwrap_or_default()))
        }
        n => (8, n),
    };
    if size < header as u64 || size > data.len() as u64 {
        return Err(malformed(format!("'{}' box of {size} bytes in {} bytes", fourcc(kind), data.len())));
    }
    Ok((kind, header, size as usize))
}

fn fourcc(k: [u8; 4]) -> String {
    k.iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '?' }).collect()
}

/// Walks the top-level boxes and reads the body of `moov`.
fn read_moov(file: &mut File, len: u64) -> Result<Vec<u8>> {
    let mut pos = 0u64;
    let mut fragmented = false;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        if pos.saturating_add(8) > len {
            break;
        }
        let mut head = [0u8; 16];
        let n = (len - pos).min(16) as usize;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut head[..n])?;
        let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as u64;
        let kind = [head[4], head[5], head[6], head[7]];
        let (header, size) = match size32 {
            0 => (8, len - pos),
            1 if n == 16 => (16, u64::from_be_bytes(head[8..16].try_into().unwrap_or_default())),
            1 => return Err(malformed("64-bit box size truncated")),
            s => (8, s),
        };
        if size < header {
            return Err(malformed(format!("'{}' box at byte {pos} claims {size} bytes", fourcc(kind))));
        }
        match &kind {
            b"moov" => {
                let body = size - header;
                if body > MAX_MOOV_BYTES {
                    return Err(malformed(format!("moov box of {body} bytes (at most {MAX_MOOV_BYTES} read)")));
                }
                if pos + size > len {
                    return Err(malformed(format!("moov box at byte {pos} runs past the end of the file")));
                }
                let mut buf = Vec::new();
                file.seek(SeekFrom::Start(pos + header))?;
                file.take(body).read_to_end(&mut buf)?;
                return Ok(buf);
            }
            b"moof" => fragmented = true,
            _ => {}
        }
        pos = pos.saturating_add(size);
    }
    if fragmented {
        return Err(Error::unsupported("fragmented MP4 without a moov box", "not read by video-hw"));
    }
    Err(malformed("no moov box (not an MP4 file, or a truncated one)"))
}

/// The first H.264/HEVC video track among the `trak` boxes of `moov`, and whether the
/// movie is fragmented (`mvex`). Tracks that fail to decode are skipped if another fits.
fn video_trak(moov: &[u8]) -> Result<(Trak, bool)> {
    let mut rest = moov;
    let mut fragmented = false;
    let mut first_error = None;
    let mut other_video = None;
    while rest.len() >= 8 {
        let (kind, header, size) = box_header(rest)?;
        let mut body = &rest[header..size];
        match &kind {
            b"mvex" => fragmented = true,
            b"trak" => match Trak::decode_body(&mut body) {
                Ok(trak) if trak.mdia.hdlr.handler == mp4_atom::FourCC::new(b"vide") => {
                    match trak.mdia.minf.stbl.stsd.codecs.first() {
                        Some(
                            SampleEntry::Avc1(_) | SampleEntry::Avc3(_) | SampleEntry::Hvc1(_) | SampleEntry::Hev1(_),
                        ) => return Ok((trak, fragmented || has_mvex(rest))),
                        Some(other) => other_video = Some(entry_name(other)),
                        None => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    first_error.get_or_insert_with(|| malformed(format!("trak: {e}")));
                }
            },
            _ => {}
        }
        rest = &rest[size..];
    }
    if let Some(name) = other_video {
        return Err(Error::unsupported(
            format!("MP4 video track of type '{name}'"),
            "video-hw reads H.264/HEVC tracks",
        ));
    }
    Err(first_error.unwrap_or_else(|| malformed("no video track")))
}

/// True when a later sibling box is `mvex` (it may follow the tracks).
fn has_mvex(mut rest: &[u8]) -> bool {
    while let Ok((kind, _, size)) = box_header(rest) {
        if &kind == b"mvex" {
            return true;
        }
        rest = &rest[size..];
    }
    false
}

fn entry_name(e: &SampleEntry) -> String {
    let mut buf = Vec::new();
    match e.encode(&mut buf) {
        Ok(()) if buf.len() >= 8 => fourcc([buf[4], buf[5], buf[6], buf[7]]),
        _ => "unknown".into(),
    }
}

/// Expands run-length `(count, value)` entries one sample at a time; past the end the
/// last value repeats (or `default` when there was none).
struct Runs<'a, T: Copy> {
    entries: &'a [(u32, T)],
    index: usize,
    used: u32,
    last: T,
}

impl<'a, T: Copy> Runs<'a, T> {
    fn new(entries: &'a [(u32, T)], default: T) -> Self {
        Runs { entries, index: 0, used: 0, last: default }
    }

    fn next_value(&mut self) -> T {
        while let Some(&(count, value)) = self.entries.get(self.index) {
            if self.used < count {
                self.used += 1;
                self.last = value;
                return value;
            }
            self.index += 1;
            self.used = 0;
        }
        self.last
    }
}

/// Where every sample lies and its timestamps, from `stsz`, `stsc`, `stco`/`co64`,
/// `stts`, `ctts` and `stss`.
fn sample_table(stbl: &Stbl, file_len: u64) -> Result<Vec<Sample>> {
    let (count, fixed) = match &stbl.stsz.samples {
        StszSamples::Identical { count, size } => (*count as usize, Some(*size)),
        StszSamples::Different { sizes } => (sizes.len(), None),
    };
    if count > MAX_SAMPLES {
        return Err(malformed(format!("{count} samples (at most {MAX_SAMPLES})")));
    }
    if let Some(size) = fixed {
        // Every sample takes room in the file: a count the file cannot hold is a lie.
        if (count as u64).saturating_mul(size.max(1) as u64) > file_len {
            return Err(malformed(format!("{count} samples of {size} bytes in a {file_len} byte file")));
        }
    }
    let size_of = |i: usize| match &stbl.stsz.samples {
        StszSamples::Identical { size, .. } => *size,
        StszSamples::Different { sizes } => sizes[i],
    };
    let chunks: Vec<u64> = match (&stbl.stco, &stbl.co64) {
        (Some(stco), _) => stco.entries.iter().map(|&o| o as u64).collect(),
        (None, Some(co64)) => co64.entries.clone(),
        (None, None) if count == 0 => Vec::new(),
        (None, None) => return Err(malformed("no chunk offsets (stco/co64)")),
    };
    let stsc = &stbl.stsc.entries;
    if let Some(bad) = stsc.windows(2).find(|w| w[1].first_chunk <= w[0].first_chunk) {
        return Err(malformed(format!("stsc first_chunk {} does not increase", bad[1].first_chunk)));
    }
    let mut samples = Vec::with_capacity(count.min(1 << 16));
    let mut entry = 0usize;
    for (ci, &chunk_offset) in chunks.iter().enumerate() {
        if samples.len() == count {
            break;
        }
        let chunk_no = ci as u64 + 1;
        while stsc.get(entry + 1).is_some_and(|e| e.first_chunk as u64 <= chunk_no) {
            entry += 1;
        }
        let e = stsc
            .get(entry)
            .filter(|e| e.first_chunk as u64 <= chunk_no)
            .ok_or_else(|| malformed(format!("chunk {chunk_no} is not described by stsc")))?;
        if e.sample_description_index != 1 {
            return Err(Error::unsupported(
                format!("MP4 sample description {}", e.sample_description_index),
                "only tracks with one sample description are read",
            ));
        }
        let mut offset = chunk_offset;
        for _ in 0..e.samples_per_chunk {
            if samples.len() == count {
                break;
            }
            let size = size_of(samples.len());
            samples.push(Sample { offset, size, dts: 0, pts: 0, sync: stbl.stss.is_none() });
            offset = offset.saturating_add(size as u64);
        }
    }
    if samples.len() < count {
        return Err(malformed(format!("{count} samples but the chunks hold {}", samples.len())));
    }
    let stts: Vec<(u32, u32)> = stbl.stts.entries.iter().map(|e| (e.sample_count, e.sample_delta)).collect();
    let ctts: Vec<(u32, i64)> = stbl
        .ctts
        .as_ref()
        .map(|c| c.entries.iter().map(|e| (e.sample_count, e.sample_offset)).collect())
        .unwrap_or_default();
    let (mut deltas, mut offsets) = (Runs::new(&stts, 0), Runs::new(&ctts, 0));
    let mut dts = 0i64;
    for s in &mut samples {
        s.dts = dts;
        s.pts = dts.saturating_add(offsets.next_value());
        dts = dts.saturating_add(deltas.next_value() as i64);
    }
    if let Some(stss) = &stbl.stss {
        for &n in &stss.entries {
            if let Some(s) = (n as usize).checked_sub(1).and_then(|i| samples.get_mut(i)) {
                s.sync = true;
            }
        }
    }
    Ok(samples)
}

/// Reads one sample into `buf`; a sample that lies outside the file, or one larger than
/// [`MAX_SAMPLE_BYTES`], is invalid (a truncated or lying file).
pub fn read_sample(file: &mut File, file_len: u64, index: usize, s: &Sample, buf: &mut Vec<u8>) -> Result<()> {
    if s.size > MAX_SAMPLE_BYTES {
        return Err(Error::invalid_bitstream(s.offset, format!("MP4 sample {index} claims {} bytes", s.size)));
    }
    let end = s.offset.checked_add(s.size as u64).filter(|&e| e <= file_len);
    if end.is_none() {
        return Err(Error::invalid_bitstream(
            s.offset,
            format!("MP4 sample {index} ({} bytes) runs past the end of the file (truncated?)", s.size),
        ));
    }
    buf.clear();
    file.seek(SeekFrom::Start(s.offset))?;
    file.take(s.size as u64).read_to_end(buf)?;
    if buf.len() != s.size as usize {
        return Err(Error::invalid_bitstream(s.offset, format!("MP4 sample {index} is truncated")));
    }
    Ok(())
}
