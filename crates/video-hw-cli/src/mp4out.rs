//! Writing one H.264/HEVC video track to an MP4 file: `ftyp`, then `mdat` (streamed, its
//! size patched at the end), then `moov` with an `avc1`+`avcC` or `hvc1`+`hvcC` sample
//! entry and the sample tables (`stts`, `ctts` when pts ≠ dts, `stss` when not every
//! sample is a keyframe, `stsz`, `stsc`, `stco`/`co64`) and an edit list that starts the
//! presentation at the first picture. The boxes are encoded by `mp4-atom`; the tables are
//! built here.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use mp4_atom::{
    Atom, Avc1, Avcc, Co64, Ctts, CttsEntry, Dinf, Dref, DrefEntry, Edts, Elst, ElstEntry, Encode, FixedPoint, FourCC,
    Ftyp, Hdlr, Hvc1, Hvcc, Mdhd, Mdia, Minf, Moov, Mvhd, Stbl, Stco, Stsc, StscEntry, Stsd, Stss, Stsz, StszSamples,
    Stts, SttsEntry, Tkhd, Trak, Url, Visual, Vmhd,
};
use video_hw::bitstream::avcc::DecoderConfigRecord;
use video_hw::{Codec, Error, Result};

/// One sample written so far.
#[derive(Debug, Clone, Copy)]
struct MuxSample {
    offset: u64,
    size: u32,
    dts: i64,
    pts: i64,
    sync: bool,
}

/// An MP4 file being written.
pub struct Mp4Writer {
    file: BufWriter<File>,
    codec: Codec,
    width: u32,
    height: u32,
    timescale: u32,
    frame_delta: u32,
    mdat_start: u64,
    pos: u64,
    samples: Vec<MuxSample>,
}

fn mux_error(e: impl std::fmt::Display) -> Error {
    Error::backend("mp4 writer", "encode", e)
}

impl Mp4Writer {
    /// Creates `path` for a `width`x`height` track whose timestamps count `timescale`
    /// ticks per second; `frame_delta` ticks is one frame (used where a packet has no
    /// timestamps, and for the last sample's duration).
    pub fn create(
        path: &Path,
        codec: Codec,
        width: u32,
        height: u32,
        timescale: u32,
        frame_delta: u32,
    ) -> Result<Self> {
        if !codec.is_nal_based() {
            return Err(Error::unsupported(format!("{codec} in MP4"), "the MP4 writer takes H.264 and HEVC"));
        }
        let file = File::create(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))?;
        let mut file = BufWriter::new(file);
        let ftyp = Ftyp {
            major_brand: FourCC::new(b"isom"),
            minor_version: 512,
            compatible_brands: [b"isom", b"iso2", if codec == Codec::Hevc { b"hvc1" } else { b"avc1" }, b"mp41"]
                .into_iter()
                .map(FourCC::new)
                .collect(),
        };
        let mut head = Vec::new();
        ftyp.encode(&mut head).map_err(mux_error)?;
        let mdat_start = head.len() as u64;
        // A 64-bit `mdat` header: size patched by `finish`.
        head.extend_from_slice(&1u32.to_be_bytes());
        head.extend_from_slice(b"mdat");
        head.extend_from_slice(&0u64.to_be_bytes());
        file.write_all(&head)?;
        Ok(Mp4Writer {
            file,
            codec,
            width,
            height,
            timescale: timescale.max(1),
            frame_delta: frame_delta.max(1),
            mdat_start,
            pos: head.len() as u64,
            samples: Vec::new(),
        })
    }

    /// Appends one length-prefixed sample. Missing timestamps follow the previous sample
    /// by one frame; a decode timestamp that does not increase is moved one tick past the
    /// previous one.
    pub fn write_sample(&mut self, data: &[u8], dts: Option<i64>, pts: Option<i64>, sync: bool) -> Result<()> {
        let size = u32::try_from(data.len()).map_err(|_| Error::invalid_input("sample larger than 4 GiB"))?;
        let prev = self.samples.last().map(|s| s.dts);
        let next = prev.map_or(0, |p| p.saturating_add(self.frame_delta as i64));
        let dts = match (dts.or(pts), prev) {
            (Some(d), Some(p)) if d <= p => p.saturating_add(1),
            (Some(d), _) => d,
            (None, _) => next,
        };
        let pts = pts.unwrap_or(dts);
        self.file.write_all(data)?;
        self.samples.push(MuxSample { offset: self.pos, size, dts, pts, sync });
        self.pos = self.pos.saturating_add(size as u64);
        Ok(())
    }

    /// Patches the `mdat` size, writes `moov` with `record` as the sample entry's
    /// configuration, and returns the file's size.
    pub fn finish(mut self, record: &DecoderConfigRecord) -> Result<u64> {
        if record.codec != self.codec {
            return Err(Error::invalid_input(format!("{} record for a {} track", record.codec, self.codec)));
        }
        let mut moov = Vec::new();
        self.moov(record)?.encode(&mut moov).map_err(mux_error)?;
        self.file.write_all(&moov)?;
        let mdat_size = self.pos - self.mdat_start;
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(self.mdat_start + 8))?;
        file.write_all(&mdat_size.to_be_bytes())?;
        file.flush()?;
        Ok(self.pos + moov.len() as u64)
    }

    fn moov(&self, record: &DecoderConfigRecord) -> Result<Moov> {
        let n = self.samples.len();
        let base = self.samples.first().map_or(0, |s| s.dts);
        let dts: Vec<i64> = self.samples.iter().map(|s| s.dts.saturating_sub(base)).collect();
        let delta = |i: usize| -> u32 {
            match dts.get(i + 1) {
                Some(&next) => u32::try_from(next.saturating_sub(dts[i])).unwrap_or(u32::MAX),
                None => self.frame_delta,
            }
        };
        let stts = Stts {
            entries: runs((0..n).map(delta)).map(|(c, d)| SttsEntry { sample_count: c, sample_delta: d }).collect(),
        };
        let offsets: Vec<i64> = self.samples.iter().map(|s| s.pts.saturating_sub(s.dts)).collect();
        let ctts = offsets.iter().any(|&o| o != 0).then(|| Ctts {
            entries: runs(offsets.iter().copied())
                .map(|(c, o)| CttsEntry { sample_count: c, sample_offset: o })
                .collect(),
        });
        let stss = (!self.samples.iter().all(|s| s.sync)).then(|| Stss {
            entries: (1..=n as u32).zip(&self.samples).filter(|(_, s)| s.sync).map(|(i, _)| i).collect(),
        });
        let offsets_fit = self.samples.iter().all(|s| s.offset <= u32::MAX as u64);
        let (stco, co64) = if offsets_fit {
            (Some(Stco { entries: self.samples.iter().map(|s| s.offset as u32).collect() }), None)
        } else {
            (None, Some(Co64 { entries: self.samples.iter().map(|s| s.offset).collect() }))
        };
        // Presentation: from the earliest pts to the end of the latest picture.
        let first_pts = self.samples.iter().map(|s| s.pts.saturating_sub(base)).min().unwrap_or(0);
        let end = self
            .samples
            .iter()
            .map(|s| s.pts.saturating_sub(base).saturating_add(self.frame_delta as i64))
            .max()
            .unwrap_or(0);
        let duration = end.saturating_sub(first_pts).max(0) as u64;
        let edts = (first_pts != 0).then(|| Edts {
            elst: Some(Elst {
                entries: vec![ElstEntry {
                    segment_duration: duration,
                    media_time: u64::try_from(first_pts).ok(),
                    media_rate: FixedPoint::from(1i16),
                }],
            }),
        });
        let stbl = Stbl {
            stsd: Stsd { codecs: vec![self.sample_entry(record)?] },
            stts,
            ctts,
            stss,
            stsc: Stsc {
                entries: vec![StscEntry { first_chunk: 1, samples_per_chunk: 1, sample_description_index: 1 }],
            },
            stsz: Stsz { samples: StszSamples::Different { sizes: self.samples.iter().map(|s| s.size).collect() } },
            stco,
            co64,
            ..Default::default()
        };
        let trak = Trak {
            tkhd: Tkhd {
                track_id: 1,
                duration,
                enabled: true,
                in_movie: true,
                width: FixedPoint::from(self.width.min(u16::MAX as u32) as u16),
                height: FixedPoint::from(self.height.min(u16::MAX as u32) as u16),
                ..Default::default()
            },
            edts,
            meta: None,
            mdia: Mdia {
                mdhd: Mdhd { timescale: self.timescale, duration, language: "und".into(), ..Default::default() },
                hdlr: Hdlr { handler: FourCC::new(b"vide"), name: "VideoHandler".into() },
                minf: Minf {
                    vmhd: Some(Vmhd::default()),
                    dinf: Dinf { dref: Dref { entries: vec![DrefEntry::Url(Url { location: String::new() })] } },
                    stbl,
                    ..Default::default()
                },
            },
            senc: None,
            tref: None,
            udta: None,
        };
        Ok(Moov {
            mvhd: Mvhd {
                timescale: self.timescale,
                duration,
                rate: FixedPoint::from(1u16),
                volume: FixedPoint::from(1u8),
                next_track_id: 2,
                ..Default::default()
            },
            trak: vec![trak],
            ..Default::default()
        })
    }

    fn sample_entry(&self, record: &DecoderConfigRecord) -> Result<mp4_atom::Codec> {
        let visual = Visual {
            data_reference_index: 1,
            width: self.width.min(u16::MAX as u32) as u16,
            height: self.height.min(u16::MAX as u32) as u16,
            ..Default::default()
        };
        let bytes = record.to_bytes()?;
        Ok(match self.codec {
            Codec::Hevc => {
                let hvcc = Hvcc::decode_body(&mut bytes.as_slice()).map_err(mux_error)?;
                Hvc1 { visual, hvcc, ..Default::default() }.into()
            }
            _ => {
                let avcc = Avcc::decode_body(&mut bytes.as_slice()).map_err(mux_error)?;
                Avc1 { visual, avcc, ..Default::default() }.into()
            }
        })
    }
}

/// Run-length encodes a sequence: `(count, value)` pairs.
fn runs<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> impl Iterator<Item = (u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some((c, last)) if *last == v && *c < u32::MAX => *c += 1,
            _ => out.push((1, v)),
        }
    }
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use video_hw::media::{Demuxer, MediaPacket};

    fn fixture(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(rel)
    }

    fn packets(path: &Path) -> (video_hw::media::Track, Vec<MediaPacket>) {
        let mut d = Demuxer::open(path).unwrap();
        let track = d.video_track().unwrap().clone();
        let packets = std::iter::from_fn(|| d.next_packet().unwrap()).collect();
        (track, packets)
    }

    /// Copies every sample of an MP4 fixture through the writer and reads the copy back:
    /// the same record, sizes, timestamps (B-frames: ctts and an edit list) and keyframes.
    fn remux(rel: &str) {
        let src = fixture(rel);
        let (track, samples) = packets(&src);
        assert!(samples.iter().any(|s| s.pts != s.dts), "{rel} has B-frames");
        let codec = track.codec.video().unwrap();
        let record = track.config.record().unwrap().clone();
        let out = std::env::temp_dir().join(format!("video-hw-remux-{}-{codec}.mp4", std::process::id()));
        let delta = (samples[1].dts.unwrap() - samples[0].dts.unwrap()) as u32;
        let timescale = track.time_base.den as u32;
        let mut w = Mp4Writer::create(&out, codec, 320, 240, timescale, delta).unwrap();
        for s in &samples {
            w.write_sample(&s.data, s.dts, s.pts, s.keyframe).unwrap();
        }
        w.finish(&record).unwrap();
        let (copy_track, copy) = packets(&out);
        assert_eq!(copy_track.config.record(), Some(&record));
        assert_eq!(copy_track.time_base, track.time_base);
        let shape = |t: &[MediaPacket]| -> Vec<(usize, Option<i64>, Option<i64>, bool)> {
            t.iter().map(|s| (s.data.len(), s.dts, s.pts, s.keyframe)).collect()
        };
        assert_eq!(shape(&copy), shape(&samples));
        // ffprobe (where installed) agrees on every packet's timestamps and key flag.
        if std::process::Command::new("ffprobe").arg("-version").output().is_ok_and(|o| o.status.success()) {
            let probe = |p: &Path| {
                let o = std::process::Command::new("ffprobe")
                    .args(["-v", "error", "-show_entries", "packet=pts,dts,flags,size", "-of", "csv"])
                    .arg(p)
                    .output()
                    .unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                String::from_utf8(o.stdout).unwrap()
            };
            assert_eq!(probe(&out), probe(&src), "{rel}");
        }
        let _ = std::fs::remove_file(out);
    }

    #[test]
    fn remux_h264_with_b_frames() {
        remux("mp4/high-bpyramid-8x8-wp-cars-320x240.mp4");
    }

    #[test]
    fn remux_hevc_with_b_frames() {
        remux("mp4/main-bframes-cars-320x240.mp4");
    }

    #[test]
    fn run_lengths() {
        assert_eq!(runs([1, 1, 2, 2, 2, 1].into_iter()).collect::<Vec<_>>(), vec![(2, 1), (3, 2), (1, 1)]);
    }
}
