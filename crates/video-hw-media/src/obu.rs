//! Raw AV1 OBU streams in the low-overhead format (AV1 spec section 5; `ffmpeg -f obu`,
//! `aomenc --obu`): OBUs one after the other, each with its size field. A temporal unit
//! starts at each temporal delimiter OBU; one packet per temporal unit. The stream carries
//! no timestamps: each packet's pts is its number (time base 1/1, one tick per unit).
//!
//! A stream is recognised by its first bytes: a temporal delimiter OBU (`12 00`, with or
//! without an extension header) and then a sequence header OBU.
//!
//! Streams in the length-delimited format of Annex B are read too (`obu_annexb.rs`
//! recognises them and rewrites each temporal unit into the low-overhead format, which is
//! what decoders take); their packets hold the rewritten unit, at the position of its
//! size field.

use super::io::ByteSource;
use super::obu_annexb;
use super::types::{CodecConfig, Container, MediaPacket, PacketEntry, Track, TrackCodec, TrackKind, VideoInfo};
use super::{ContainerDemuxer, PacketTable};
use video_hw_bitstream::packet::{PacketPeek, leb128};
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::{Error, Result};

/// OBU types this module looks at.
const TEMPORAL_DELIMITER: u8 = 2;
const SEQUENCE_HEADER: u8 = 1;
const FRAME_HEADER: u8 = 3;
const FRAME: u8 = 6;

/// The largest temporal unit read (as IVF's largest packet).
const MAX_UNIT: u64 = 256 << 20;

/// One OBU's header: its type, total length (header, size field and payload) and
/// payload size, or `None` when the bytes are not an OBU with a size field.
fn obu_at(data: &[u8]) -> Option<(u8, usize, usize)> {
    let header = *data.first()?;
    // obu_forbidden_bit, obu_has_size_field.
    if header & 0x80 != 0 || header & 0x02 == 0 {
        return None;
    }
    let at = 1 + usize::from(header & 0x04 != 0);
    let (size, len) = leb128(data.get(at..)?)?;
    let size = usize::try_from(size).ok()?;
    let total = (at + len).checked_add(size)?;
    Some(((header >> 3) & 0x0f, total, size))
}

/// Whether `prefix` starts like a low-overhead OBU stream: a temporal delimiter (empty
/// payload), then a sequence header.
pub(crate) fn looks_like_obu_stream(prefix: &[u8]) -> bool {
    match obu_at(prefix) {
        Some((TEMPORAL_DELIMITER, len, _)) if len <= 3 => {
            prefix.get(len..).and_then(obu_at).is_some_and(|(t, _, _)| t == SEQUENCE_HEADER)
        }
        _ => false,
    }
}

/// A raw AV1 OBU stream.
pub(crate) struct ObuDemuxer {
    src: ByteSource,
    tracks: Vec<Track>,
    peek: PacketPeek,
    /// Number of the next temporal unit (its pts).
    next: i64,
    /// Set once the damage that ends the stream was reported.
    done: bool,
    /// The length-delimited format of Annex B (else the low-overhead format).
    annexb: bool,
}

impl ObuDemuxer {
    /// Checks the stream's start.
    pub fn open(mut src: ByteSource) -> Result<Self> {
        src.seek(0);
        let prefix = src.peek(64)?.to_vec();
        let annexb = !looks_like_obu_stream(&prefix);
        if annexb && !obu_annexb::looks_like_annexb_stream(&prefix) {
            return Err(Error::invalid_bitstream(
                0,
                "not an AV1 OBU stream (no temporal delimiter and sequence header)",
            ));
        }
        let mut d =
            ObuDemuxer { src, tracks: Vec::new(), peek: PacketPeek::new(Codec::Av1), next: 0, done: false, annexb };
        // The picture size and frame rate from the first unit's sequence header.
        let first = d.unit_at(0).ok().and_then(|(tu, _)| video_hw_bitstream::av1::sequence_header(&tu));
        d.src.seek(0);
        let track = Track {
            index: 0,
            id: 0,
            kind: TrackKind::Video,
            codec: TrackCodec::Video(Codec::Av1),
            config: CodecConfig::None,
            // One tick per temporal unit: the stream has no timing of its own.
            time_base: Rational::new(1, 1),
            duration: None,
            packets: None,
            frame_rate: first
                .and_then(|h| h.frame_rate)
                .and_then(|(n, d)| Some(Rational::new(i64::from(n), i64::try_from(d).ok()?))),
            video: Some(first.map_or_else(VideoInfo::default, |h| VideoInfo::of_av1(&h))),
            audio: None,
            language: None,
            window: None,
            is_default: true,
        };
        d.tracks.push(track);
        Ok(d)
    }

    /// The length of the temporal unit at `pos`: its OBUs up to the next temporal
    /// delimiter that follows a frame. A temporal unit holds a frame (spec section 7.5):
    /// delimiters with none between them (a damaged or padded stream) start no unit of
    /// their own but join the next, so that every packet, and every entry of the packet
    /// table, stands for at least a frame header's bytes. Leaves the position anywhere.
    fn unit_len(&mut self, pos: u64) -> Result<u64> {
        let end = self.src.len();
        let mut len = 0u64;
        let mut has_frame = false;
        while pos + len < end {
            self.src.seek(pos + len);
            // An OBU header, its extension and an 8-byte size field at most.
            let head = self.src.peek(10)?.to_vec();
            let Some((obu_type, obu_len, payload)) = obu_at(&head) else {
                return Err(Error::invalid_bitstream(pos + len, "AV1 OBU stream: not an OBU with a size field"));
            };
            if has_frame && obu_type == TEMPORAL_DELIMITER {
                break;
            }
            has_frame |= matches!(obu_type, FRAME_HEADER | FRAME) && payload > 0;
            len += obu_len as u64;
            if len > MAX_UNIT || pos + len > end {
                return Err(Error::invalid_bitstream(
                    pos,
                    format!("AV1 OBU stream: temporal unit of {len} bytes runs past the end of the stream"),
                ));
            }
        }
        Ok(len)
    }

    /// Annex B: the temporal unit at `pos` (with the frame-less ones before the next
    /// frame, as in `unit_len`), rewritten in the low-overhead format, and the bytes it
    /// took in the stream. Leaves the position anywhere.
    fn annexb_unit(&mut self, pos: u64) -> Result<(Vec<u8>, u64)> {
        let end = self.src.len();
        let mut data = Vec::new();
        let mut len = 0u64;
        while pos + len < end {
            let at = pos + len;
            self.src.seek(at);
            let head = self.src.peek(8)?;
            let Some((n, size)) = obu_annexb::temporal_unit_size(head) else {
                return Err(Error::invalid_bitstream(at, "AV1 Annex B stream: temporal unit size cut short"));
            };
            let total = n as u64 + size;
            if len + total > MAX_UNIT || at + total > end {
                return Err(Error::invalid_bitstream(
                    at,
                    format!("AV1 Annex B stream: temporal unit of {total} bytes runs past the end of the stream"),
                ));
            }
            self.src.seek(at + n as u64);
            let unit = self.src.read_vec(size, "an AV1 temporal unit")?;
            let (low, has_frame) =
                obu_annexb::to_low_overhead(&unit).map_err(|d| obu_annexb::damage(at + n as u64, d))?;
            data.extend(low);
            len += total;
            if has_frame {
                break;
            }
        }
        Ok((data, len))
    }

    /// The unit at `pos` as decoders take it, and the bytes it took in the stream.
    /// Leaves the position anywhere.
    fn unit_at(&mut self, pos: u64) -> Result<(Vec<u8>, u64)> {
        if self.annexb {
            return self.annexb_unit(pos);
        }
        let len = self.unit_len(pos)?;
        self.src.seek(pos);
        Ok((self.src.read_vec(len, "an AV1 temporal unit")?, len))
    }

    /// Reads the temporal unit at the position; `Ok(None)` at the end.
    fn read(&mut self) -> Result<Option<MediaPacket>> {
        if self.done || self.src.remaining() == 0 {
            return Ok(None);
        }
        let pos = self.src.position();
        let (data, len) = match self.unit_at(pos) {
            Ok(unit) => unit,
            Err(e) => {
                self.done = true;
                self.src.seek(pos);
                return Err(e);
            }
        };
        self.src.seek(pos + len);
        let keyframe = self.peek.inspect(&data).is_some_and(|i| i.keyframe);
        let pts = self.next;
        self.next += 1;
        Ok(Some(MediaPacket {
            track: 0,
            data,
            pts: Some(pts),
            dts: Some(pts),
            duration: Some(1),
            keyframe,
            pos,
            seek: pos,
            discard_padding_ns: 0,
        }))
    }
}

impl ContainerDemuxer for ObuDemuxer {
    fn container(&self) -> Container {
        Container::Obu
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        self.read()
    }

    fn seek_to(&mut self, _track: usize, entry: &PacketEntry) -> Result<()> {
        if entry.seek >= self.src.len() {
            return Err(Error::invalid_input(format!("no temporal unit at offset {}", entry.seek)));
        }
        self.src.seek(entry.seek);
        self.next = entry.pts.unwrap_or(0);
        self.done = false;
        Ok(())
    }

    fn rewind(&mut self) -> Result<()> {
        self.src.seek(0);
        self.next = 0;
        self.done = false;
        Ok(())
    }

    fn packet_table(&mut self, _track: usize) -> Result<PacketTable> {
        // The units are counted first, without reading them, so that the table is
        // allocated once at its size: at most one entry per 5 bytes of stream (a
        // delimiter and a frame header OBU), not twice that as a growing vector can be.
        let mut count = 0usize;
        let mut pos = 0u64;
        while pos < self.src.len() {
            let len = if self.annexb { self.annexb_unit(pos).map(|(_, len)| len) } else { self.unit_len(pos) };
            match len {
                Ok(len) => {
                    count += 1;
                    pos += len;
                }
                Err(_) => break,
            }
        }
        self.rewind()?;
        let mut table = PacketTable::default();
        table.entries.reserve_exact(count);
        loop {
            match self.read() {
                Ok(Some(p)) => table.entries.push(p.entry()),
                Ok(None) => break,
                Err(e) => {
                    table.damage = Some(e);
                    break;
                }
            }
        }
        self.rewind()?;
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporal delimiter, a sequence header (payload `0a 0b`), and a frame OBU.
    fn unit(frame: &[u8]) -> Vec<u8> {
        let mut v = vec![0x12, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x32, frame.len() as u8];
        v.extend_from_slice(frame);
        v
    }

    fn demux(bytes: Vec<u8>) -> (Vec<MediaPacket>, Option<Error>) {
        let src = ByteSource::new(Box::new(std::io::Cursor::new(bytes))).unwrap();
        let mut d = ObuDemuxer::open(src).unwrap();
        let mut out = Vec::new();
        loop {
            match d.next_packet() {
                Ok(Some(p)) => out.push(p),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn recognises_the_stream_start() {
        assert!(looks_like_obu_stream(&unit(&[0x10])));
        assert!(!looks_like_obu_stream(&[0x12, 0x00, 0x32, 0x00]));
        assert!(!looks_like_obu_stream(b"\0\0\0\x01\x67"));
        assert!(!looks_like_obu_stream(&[]));
    }

    #[test]
    fn one_packet_per_temporal_unit() {
        let mut s = unit(&[0x10, 1, 2]);
        s.extend(unit(&[0x10, 3]));
        let (packets, err) = demux(s.clone());
        assert!(err.is_none());
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].data, unit(&[0x10, 1, 2]));
        assert_eq!((packets[1].pos, packets[1].pts), (11, Some(1)));
    }

    #[test]
    fn delimiters_without_a_frame_join_the_next_unit() {
        // A stream start, then 2 048 lone delimiters and a unit: two packets, and a table
        // of two entries (one entry per 2-byte delimiter was 36 times the stream's size).
        let mut s = unit(&[0x10]);
        let lone = [0x12, 0x00].repeat(2048);
        s.extend(&lone);
        s.extend(unit(&[0x10, 7]));
        let (packets, err) = demux(s.clone());
        assert!(err.is_none(), "{err:?}");
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[1].data, [&lone[..], &unit(&[0x10, 7])].concat());
        let src = ByteSource::new(Box::new(std::io::Cursor::new(s))).unwrap();
        let table = ObuDemuxer::open(src).unwrap().packet_table(0).unwrap();
        assert_eq!(table.entries.len(), 2);
        assert_eq!(table.entries.capacity(), 2);
        // An empty frame header is no frame either.
        let mut s = unit(&[0x10]);
        s.extend([0x12, 0x00, 0x1a, 0x00]);
        s.extend(unit(&[0x10]));
        assert_eq!(demux(s).0.len(), 2);
    }

    #[test]
    fn damage_ends_the_stream_with_its_offset() {
        let mut s = unit(&[0x10]);
        s.extend([0x12, 0x00, 0x32, 0x7f, 0x00]);
        let (packets, err) = demux(s);
        assert_eq!(packets.len(), 1);
        assert!(matches!(err, Some(Error::InvalidBitstream { offset: 9, .. })), "{err:?}");
        let mut s = unit(&[0x10]);
        s.push(0x80);
        let (_, err) = demux(s);
        assert!(matches!(err, Some(Error::InvalidBitstream { .. })), "{err:?}");
    }
}
