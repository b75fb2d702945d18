//! ISO BMFF boxes for the MP4 and fragmented MP4 writers, written by hand into a byte
//! buffer with sizes patched when each box closes.
//!
//! Why not `mp4-atom` (which the CLI's old writer used): it orders children
//! non-canonically (`mvex` before `trak`, `dinf`/`stbl` before `vmhd`), needs most
//! defaults overridden to make a playable file, cannot encode unknown codecs, and panics
//! encoding some `av1C` values; it would also raise the crate's minimum Rust version.
//! The handful of boxes a muxer writes are plain big-endian fields, and writing them here
//! keeps every size checked and every failure an error.

use super::config::{esds_body, nal_record_bytes};
use super::{OutCodec, OutConfig, OutTrack};
use crate::types::TrackKind;
use video_hw_types::error::{Error, Result};

/// The movie timescale (of `mvhd`, `tkhd` and edit list durations), as ffmpeg writes.
pub const MOVIE_TIMESCALE: u32 = 1000;

/// A byte buffer of boxes.
#[derive(Debug, Default)]
pub(crate) struct Bw {
    /// The bytes.
    pub buf: Vec<u8>,
}

impl Bw {
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    pub fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    /// A box: header, then what `f` writes, then its size.
    pub fn boxed(&mut self, kind: &[u8; 4], f: impl FnOnce(&mut Bw) -> Result<()>) -> Result<()> {
        let at = self.buf.len();
        self.u32(0);
        self.bytes(kind);
        f(self)?;
        let size = u32::try_from(self.buf.len() - at)
            .map_err(|_| Error::invalid_input(format!("'{}' box over 4 GiB", String::from_utf8_lossy(kind))))?;
        self.buf[at..at + 4].copy_from_slice(&size.to_be_bytes());
        Ok(())
    }

    /// A full box (version and flags after the header).
    pub fn full(
        &mut self,
        kind: &[u8; 4],
        version: u8,
        flags: u32,
        f: impl FnOnce(&mut Bw) -> Result<()>,
    ) -> Result<()> {
        self.boxed(kind, |b| {
            b.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
            f(b)
        })
    }
}

/// `ftyp`.
pub fn ftyp(b: &mut Bw, major: &[u8; 4], minor: u32, compatible: &[&[u8; 4]]) -> Result<()> {
    b.boxed(b"ftyp", |b| {
        b.bytes(major);
        b.u32(minor);
        for c in compatible {
            b.bytes(*c);
        }
        Ok(())
    })
}

/// The brands a file with these tracks is compatible with (besides the major one).
pub fn brands(tracks: &[OutTrack], fragmented: bool) -> Vec<&'static [u8; 4]> {
    let mut v: Vec<&'static [u8; 4]> = if fragmented { vec![b"iso5", b"iso6"] } else { vec![b"isom", b"iso2"] };
    if tracks.iter().any(|t| t.codec == OutCodec::H264) {
        v.push(b"avc1");
    }
    if tracks.iter().any(|t| t.codec == OutCodec::Av1) {
        v.push(b"av01");
    }
    if tracks.iter().any(|t| t.codec == OutCodec::Opus) {
        v.push(b"opus");
    }
    v.push(b"mp41");
    v
}

/// A 3×3 display matrix (16.16, with 2.30 in the last column) whose rotation is
/// `rotation` degrees counter-clockwise as the demuxer (and ffmpeg) read it back.
fn matrix(rotation: u16) -> [i32; 9] {
    const ONE: i32 = 1 << 16;
    let (cos, sin) = match rotation {
        90 => (0, ONE),
        180 => (-ONE, 0),
        270 => (0, -ONE),
        _ => (ONE, 0),
    };
    [cos, -sin, 0, sin, cos, 0, 0, 0, 1 << 30]
}

/// `mvhd`.
pub fn mvhd(b: &mut Bw, duration: u64, next_track_id: u32) -> Result<()> {
    let v1 = duration > u64::from(u32::MAX);
    b.full(b"mvhd", u8::from(v1), 0, |b| {
        if v1 {
            b.zeros(16);
            b.u32(MOVIE_TIMESCALE);
            b.u64(duration);
        } else {
            b.zeros(8);
            b.u32(MOVIE_TIMESCALE);
            b.u32(duration as u32);
        }
        b.u32(0x0001_0000); // rate 1.0
        b.u16(0x0100); // volume 1.0
        b.zeros(10);
        for m in matrix(0) {
            b.i32(m);
        }
        b.zeros(24);
        b.u32(next_track_id);
        Ok(())
    })
}

/// One edit list entry: `media_time` -1 is an empty edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    /// Duration in the movie timescale.
    pub segment_duration: u64,
    /// Start in the media timescale, or -1.
    pub media_time: i64,
}

/// What a `trak` box says besides its sample table.
#[derive(Debug, Clone)]
pub struct TrakHead<'a> {
    /// The track.
    pub track: &'a OutTrack,
    /// Media timescale (ticks per second).
    pub timescale: u32,
    /// Media duration (media timescale).
    pub media_duration: u64,
    /// Presentation duration (movie timescale).
    pub duration: u64,
    /// The edit list (empty: none).
    pub edits: &'a [Edit],
    /// Bit rates for `esds`: buffer size, maximum, average.
    pub rates: (u32, u32, u32),
}

/// A `trak`; `tables` writes the sample table boxes after `stsd`.
pub fn trak(b: &mut Bw, h: &TrakHead<'_>, tables: impl FnOnce(&mut Bw) -> Result<()>) -> Result<()> {
    let t = h.track;
    b.boxed(b"trak", |b| {
        let v1 = h.duration > u64::from(u32::MAX);
        b.full(b"tkhd", u8::from(v1), 0x3, |b| {
            if v1 {
                b.zeros(16);
                b.u32(t.number);
                b.u32(0);
                b.u64(h.duration);
            } else {
                b.zeros(8);
                b.u32(t.number);
                b.u32(0);
                b.u32(h.duration as u32);
            }
            b.zeros(8);
            b.u16(0); // layer
            b.u16(u16::from(t.kind == TrackKind::Audio)); // alternate group
            b.u16(if t.kind == TrackKind::Audio { 0x0100 } else { 0 });
            b.u16(0);
            for m in matrix(t.video.rotation) {
                b.i32(m);
            }
            let (w, hgt) = display_size(t);
            b.u32(w << 16);
            b.u32(hgt << 16);
            Ok(())
        })?;
        if !h.edits.is_empty() {
            b.boxed(b"edts", |b| elst(b, h.edits))?;
        }
        b.boxed(b"mdia", |b| {
            let v1 = h.media_duration > u64::from(u32::MAX);
            b.full(b"mdhd", u8::from(v1), 0, |b| {
                if v1 {
                    b.zeros(16);
                    b.u32(h.timescale);
                    b.u64(h.media_duration);
                } else {
                    b.zeros(8);
                    b.u32(h.timescale);
                    b.u32(h.media_duration as u32);
                }
                b.u16(language(t.language.as_deref()));
                b.u16(0);
                Ok(())
            })?;
            b.full(b"hdlr", 0, 0, |b| {
                b.u32(0);
                b.bytes(if t.kind == TrackKind::Video { b"vide" } else { b"soun" });
                b.zeros(12);
                b.bytes(if t.kind == TrackKind::Video { b"VideoHandler\0" } else { b"SoundHandler\0" });
                Ok(())
            })?;
            b.boxed(b"minf", |b| {
                if t.kind == TrackKind::Video {
                    b.full(b"vmhd", 0, 1, |b| {
                        b.zeros(8);
                        Ok(())
                    })?;
                } else {
                    b.full(b"smhd", 0, 0, |b| {
                        b.zeros(4);
                        Ok(())
                    })?;
                }
                b.boxed(b"dinf", |b| {
                    b.full(b"dref", 0, 0, |b| {
                        b.u32(1);
                        b.full(b"url ", 0, 1, |_| Ok(()))
                    })
                })?;
                b.boxed(b"stbl", |b| {
                    b.full(b"stsd", 0, 0, |b| {
                        b.u32(1);
                        sample_entry(b, t, h.rates)
                    })?;
                    tables(b)
                })
            })
        })
    })
}

fn elst(b: &mut Bw, edits: &[Edit]) -> Result<()> {
    let v1 = edits.iter().any(|e| e.segment_duration > u64::from(u32::MAX) || e.media_time > i64::from(i32::MAX));
    b.full(b"elst", u8::from(v1), 0, |b| {
        b.u32(edits.len() as u32);
        for e in edits {
            if v1 {
                b.u64(e.segment_duration);
                b.u64(e.media_time as u64);
            } else {
                b.u32(e.segment_duration as u32);
                b.i32(e.media_time as i32);
            }
            b.u32(0x0001_0000); // rate 1.0
        }
        Ok(())
    })
}

/// Width and height to display: the coded size stretched by the sample aspect ratio.
pub fn display_size(t: &OutTrack) -> (u32, u32) {
    if t.kind != TrackKind::Video {
        return (0, 0);
    }
    let (w, h) = (t.video.width, t.video.height);
    match t.video.sample_aspect {
        Some(r) if r.num > 0 && r.den > 0 && r.num != r.den => {
            let dw = (i128::from(w) * i128::from(r.num) + i128::from(r.den) / 2) / i128::from(r.den);
            (dw.clamp(1, 65535) as u32, h)
        }
        _ => (w, h),
    }
}

/// The packed ISO 639-2/T code `mdhd` holds (`und` unless a three-letter code is given).
fn language(lang: Option<&str>) -> u16 {
    let code = lang.filter(|l| l.len() == 3 && l.bytes().all(|c| c.is_ascii_lowercase())).unwrap_or("und");
    code.bytes().fold(0u16, |acc, c| (acc << 5) | u16::from(c - 0x60))
}

/// The `stsd` entry.
fn sample_entry(b: &mut Bw, t: &OutTrack, rates: (u32, u32, u32)) -> Result<()> {
    let kind: &[u8; 4] = match t.codec {
        OutCodec::H264 => b"avc1",
        OutCodec::Hevc => b"hvc1",
        OutCodec::Av1 => b"av01",
        OutCodec::Vp9 => b"vp09",
        OutCodec::Aac => b"mp4a",
        OutCodec::Opus => b"Opus",
    };
    b.boxed(kind, |b| {
        b.zeros(6);
        b.u16(1); // data_reference_index
        if t.kind == TrackKind::Video {
            b.zeros(16);
            b.u16(t.video.width as u16);
            b.u16(t.video.height as u16);
            b.u32(0x0048_0000);
            b.u32(0x0048_0000);
            b.u32(0);
            b.u16(1); // frame_count
            b.zeros(32); // compressorname
            b.u16(0x0018);
            b.u16(0xffff);
            match (&t.config, t.codec) {
                (OutConfig::Nal(r), OutCodec::H264) => {
                    let avcc = nal_record_bytes(r)?;
                    b.boxed(b"avcC", |b| {
                        b.bytes(&avcc);
                        Ok(())
                    })?;
                }
                (OutConfig::Nal(r), OutCodec::Hevc) => {
                    let hvcc = nal_record_bytes(r)?;
                    b.boxed(b"hvcC", |b| {
                        b.bytes(&hvcc);
                        Ok(())
                    })?;
                }
                (OutConfig::Av1C(c), _) => b.boxed(b"av1C", |b| {
                    b.bytes(c);
                    Ok(())
                })?,
                (OutConfig::VpcC(c), _) => b.full(b"vpcC", 1, 0, |b| {
                    b.bytes(c);
                    Ok(())
                })?,
                _ => return Err(Error::invalid_input(format!("track {}: no configuration record", t.index))),
            }
            if let Some(r) = t.video.sample_aspect.filter(|r| r.num > 0 && r.den > 0 && r.num != r.den) {
                b.boxed(b"pasp", |b| {
                    b.u32(u32::try_from(r.num).unwrap_or(u32::MAX));
                    b.u32(u32::try_from(r.den).unwrap_or(u32::MAX));
                    Ok(())
                })?;
            }
        } else {
            let (channels, rate) = match &t.config {
                OutConfig::Opus(_, h) => (u16::from(h.channels), 48000),
                _ => (t.audio.channels, t.audio.sample_rate),
            };
            b.zeros(8);
            b.u16(channels);
            b.u16(16);
            b.zeros(4);
            b.u32(if rate <= 0xffff { rate << 16 } else { 0 });
            match &t.config {
                OutConfig::Aac(asc) => {
                    let body = esds_body(t.number.min(0xffff) as u16, asc, rates.0, rates.1, rates.2);
                    b.full(b"esds", 0, 0, |b| {
                        b.bytes(&body);
                        Ok(())
                    })?;
                }
                OutConfig::Opus(_, head) => b.boxed(b"dOps", |b| {
                    b.bytes(&head.to_dops());
                    Ok(())
                })?,
                _ => return Err(Error::invalid_input(format!("track {}: no audio configuration", t.index))),
            }
        }
        Ok(())
    })
}

/// Run-length pairs `(count, value)` of a sequence.
pub fn runs<T: PartialEq + Copy>(values: impl IntoIterator<Item = T>) -> Vec<(u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some((c, last)) if *last == v && *c < u32::MAX => *c += 1,
            _ => out.push((1, v)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_patched_and_languages_packed() {
        let mut b = Bw::default();
        b.boxed(b"moov", |b| {
            b.full(b"mvex", 0, 0, |b| {
                b.u32(7);
                Ok(())
            })
        })
        .unwrap();
        assert_eq!(b.buf.len(), 8 + 16);
        assert_eq!(&b.buf[..4], &24u32.to_be_bytes());
        assert_eq!(&b.buf[8..12], &16u32.to_be_bytes());
        assert_eq!(language(Some("eng")), (5 << 10) | (14 << 5) | 7);
        assert_eq!(language(Some("en-US")), language(None));
        assert_eq!(runs([3, 3, 5]), vec![(2, 3), (1, 5)]);
        assert_eq!(matrix(90)[..5], [0, -(1 << 16), 0, 1 << 16, 0]);
    }

    #[test]
    fn aspect_ratio_and_rotation_in_the_track() {
        use crate::types::{AudioInfo, VideoInfo};
        use video_hw_bitstream::avcc::DecoderConfigRecord;
        use video_hw_types::codec::Rational;
        let record = DecoderConfigRecord::h264(4, vec![vec![0x67, 0x64, 0, 0x1e]], vec![vec![0x68, 0xee]]);
        let t = OutTrack {
            index: 0,
            number: 1,
            kind: TrackKind::Video,
            codec: OutCodec::H264,
            config: OutConfig::Nal(record),
            time_base: Rational::new(1, 90000),
            video: VideoInfo { width: 720, height: 576, rotation: 270, sample_aspect: Some(Rational::new(16, 15)) },
            audio: AudioInfo::default(),
            language: Some("fra".into()),
            window: None,
        };
        let head =
            TrakHead { track: &t, timescale: 90000, media_duration: 0, duration: 0, edits: &[], rates: (0, 0, 0) };
        let mut b = Bw::default();
        trak(&mut b, &head, |_| Ok(())).unwrap();
        let at = |kind: &[u8]| b.buf.windows(4).position(|w| w == kind).unwrap() + 4;
        let pasp = at(b"pasp");
        assert_eq!(&b.buf[pasp..pasp + 8], &[0, 0, 0, 16, 0, 0, 0, 15]);
        // tkhd: width 768 (720 * 16/15) after the matrix, which turns 270 degrees.
        let tkhd = at(b"tkhd");
        let matrix_at = tkhd + 4 + 20 + 8 + 8;
        assert_eq!(&b.buf[matrix_at..matrix_at + 8], &[0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(&b.buf[matrix_at + 36..matrix_at + 40], &(768u32 << 16).to_be_bytes());
        let mdhd = at(b"mdhd");
        assert_eq!(&b.buf[mdhd + 20..mdhd + 22], &language(Some("fra")).to_be_bytes());
    }
}
