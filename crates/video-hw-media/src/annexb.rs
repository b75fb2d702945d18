//! Raw H.264/HEVC elementary streams (Annex-B): one packet per access unit, cut by the
//! bitstream layer's access-unit assembler. The stream carries no timestamps, so the
//! packets have none; the frame index derives presentation order from the pictures'
//! order counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::io::ByteSource;
use super::types::{CodecConfig, Container, MediaPacket, PacketEntry, Track, TrackCodec, TrackKind, VideoInfo};
use super::{ContainerDemuxer, PacketTable, SeekPoints};
use video_hw_bitstream::access_unit::{AccessUnit, AccessUnitAssembler};
use video_hw_bitstream::detect::detect_codec;
use video_hw_bitstream::nal::is_parameter_set;
use video_hw_bitstream::param_sets::ParameterSetLog;
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::{Error, Result};

/// Bytes read from the file per step.
const CHUNK: u64 = 1 << 20;

/// A raw H.264/HEVC stream.
pub(crate) struct AnnexBDemuxer {
    src: ByteSource,
    codec: Codec,
    tracks: Vec<Track>,
    asm: AccessUnitAssembler,
    /// Everything was pushed into the assembler.
    eof: bool,
    /// Added to the assembler's offsets to give file offsets (the assembler counts from
    /// the first byte it was given, which after a seek is a parameter-set prefix).
    base: i64,
    /// Access units starting before this file offset are skipped (after a seek, those
    /// still owed by the prefix).
    skip_before: u64,
    /// Parameter sets seen so far while reading in order.
    sets: ParameterSetLog,
    /// The parameter sets in force at each key frame read so far (by file offset), to
    /// start the assembler and the decoder there after a seek.
    at_keyframes: BTreeMap<u64, Arc<Vec<u8>>>,
    /// How far reading in order has got without a seek (snapshots are known up to here).
    known_until: u64,
    /// True while reading in order from the file's start.
    in_order: bool,
    /// Bytes of a picture-less unit (the seek prefix) owed to the next packet.
    carry: Vec<u8>,
}

impl AnnexBDemuxer {
    /// Detects the codec and reads up to the first picture for the stream's facts.
    pub fn open(mut src: ByteSource) -> Result<Self> {
        let prefix = src.peek(super::DETECT_BYTES)?.to_vec();
        let codec =
            detect_codec(&prefix).ok_or_else(|| Error::invalid_bitstream(0, "not an H.264 or HEVC Annex-B stream"))?;
        let mut probe = AccessUnitAssembler::new(codec)?.collect_data(false);
        probe.push_annexb(&prefix, None);
        probe.finish();
        while let Some(item) = probe.pop() {
            if item.is_ok_and(|au| au.picture.is_some()) {
                break;
            }
        }
        let info = probe.first_stream_info().cloned();
        let video = info.as_ref().map(|i| VideoInfo {
            width: i.dimensions.width(),
            height: i.dimensions.height(),
            rotation: 0,
            sample_aspect: None,
        });
        let track = Track {
            index: 0,
            id: 0,
            kind: TrackKind::Video,
            codec: TrackCodec::Video(codec),
            config: CodecConfig::None,
            time_base: Rational::MPEG_90K,
            duration: None,
            packets: None,
            frame_rate: info.and_then(|i| i.frame_rate),
            video: video.or(Some(VideoInfo::default())),
            audio: None,
            language: None,
            window: None,
            is_default: true,
        };
        src.seek(0);
        Ok(AnnexBDemuxer {
            src,
            codec,
            tracks: vec![track],
            asm: AccessUnitAssembler::new(codec)?,
            eof: false,
            base: 0,
            skip_before: 0,
            sets: ParameterSetLog::default(),
            at_keyframes: BTreeMap::new(),
            known_until: 0,
            in_order: true,
            carry: Vec::new(),
        })
    }

    /// The next access unit (or damage) from the assembler, reading more as needed.
    fn next_unit(&mut self) -> Option<Result<AccessUnit>> {
        loop {
            if let Some(item) = self.asm.pop() {
                return Some(item);
            }
            if self.eof {
                return None;
            }
            let n = CHUNK.min(self.src.remaining());
            let mut chunk = Vec::new();
            if let Err(e) = self.src.read_into(n, &mut chunk, "the stream") {
                self.eof = true;
                return Some(Err(e));
            }
            if chunk.is_empty() {
                self.asm.finish();
                self.eof = true;
            } else {
                self.asm.push_annexb(&chunk, None);
            }
        }
    }

    /// Restarts reading at the access unit whose first NAL unit is at file offset
    /// `offset`, with the parameter sets `prefix` fed first.
    fn restart(&mut self, offset: u64, prefix: &[u8]) -> Result<()> {
        self.asm = AccessUnitAssembler::new(self.codec)?;
        // From the start code before the NAL unit: 3 bytes back is always `00 00 01`.
        let from = offset.saturating_sub(3);
        self.asm.push_annexb(prefix, None);
        self.base = from as i64 - prefix.len() as i64;
        self.skip_before = offset;
        self.carry.clear();
        self.src.seek(from);
        self.eof = false;
        Ok(())
    }
}

/// Moves an assembler error's offset to the file offset it stands for.
fn shift(e: Error, base: i64) -> Error {
    match e {
        Error::InvalidBitstream { offset, reason } => {
            Error::InvalidBitstream { offset: (offset as i64).saturating_add(base).max(0) as u64, reason }
        }
        other => other,
    }
}

impl ContainerDemuxer for AnnexBDemuxer {
    fn container(&self) -> Container {
        Container::AnnexB
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        loop {
            let au = match self.next_unit() {
                None => return Ok(None),
                Some(Err(e)) => return Err(shift(e, self.base)),
                Some(Ok(au)) => au,
            };
            let mapped = au.offset as i64 + self.base;
            // After a seek, the parameter-set prefix arrives with (or just before) the
            // access unit at the seek point: it is that packet's, and starts there.
            if mapped < self.skip_before as i64 && au.picture.is_none() {
                self.carry.extend_from_slice(&au.data);
                continue;
            }
            let pos = (mapped.max(0) as u64).max(self.skip_before);
            let mut au = au;
            if !self.carry.is_empty() {
                let mut data = std::mem::take(&mut self.carry);
                data.extend_from_slice(&au.data);
                au.data = data;
            }
            let keyframe = au.is_keyframe();
            if self.in_order {
                for nal in au.nal_units() {
                    if is_parameter_set(self.codec, nal) {
                        self.sets.note(pos, nal);
                    }
                }
                if keyframe && self.sets.fits() && !self.sets.is_empty() {
                    let snap = self.sets.all();
                    let same =
                        self.at_keyframes.values().next_back().filter(|s| s.as_slice() == snap.as_slice()).cloned();
                    self.at_keyframes.insert(pos, same.unwrap_or_else(|| Arc::new(snap)));
                }
                self.known_until = self.known_until.max(pos);
            }
            return Ok(Some(MediaPacket {
                track: 0,
                data: au.data,
                pts: None,
                dts: None,
                duration: None,
                keyframe,
                pos,
                seek: pos,
                discard_padding_ns: 0,
            }));
        }
    }

    fn seek_to(&mut self, _track: usize, entry: &PacketEntry) -> Result<()> {
        let target = entry.seek;
        if target >= self.src.len() {
            return Err(Error::invalid_input(format!("no access unit at offset {target}")));
        }
        if target > self.known_until {
            // Read in order up to there once, to learn the parameter sets in force.
            self.rewind()?;
            while self.known_until < target {
                match self.next_packet() {
                    Ok(Some(_)) | Err(_) => {}
                    Ok(None) => break,
                }
            }
        }
        let prefix = self.at_keyframes.range(..=target).next_back().map(|(_, s)| s.clone()).unwrap_or_default();
        self.in_order = false;
        self.restart(target, &prefix)
    }

    fn seek_points(&self) -> Option<SeekPoints> {
        let at = self.at_keyframes.iter().map(|(&k, s)| (k, s.clone())).collect();
        Some(SeekPoints { known_until: self.known_until, at })
    }

    fn restore_seek_points(&mut self, points: SeekPoints) {
        // Only ever more than this demuxer knows: a saved index of the whole file.
        if points.known_until > self.known_until {
            self.at_keyframes.extend(points.at);
            self.known_until = points.known_until;
        }
    }

    fn rewind(&mut self) -> Result<()> {
        self.sets = ParameterSetLog::default();
        self.in_order = true;
        self.restart(0, &[])?;
        self.base = 0;
        self.src.seek(0);
        self.skip_before = 0;
        Ok(())
    }

    fn packet_table(&mut self, _track: usize) -> Result<PacketTable> {
        self.rewind()?;
        let mut table = PacketTable::default();
        loop {
            match self.next_packet() {
                Ok(Some(p)) => table.entries.push(p.entry()),
                Ok(None) => break,
                Err(e) => {
                    // Damage inside a raw stream is local: note the first, keep going.
                    table.damage.get_or_insert(e);
                }
            }
        }
        self.rewind()?;
        Ok(table)
    }
}
