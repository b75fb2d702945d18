//! IVF: a 32-byte file header (`DKIF`, version, header size, FourCC, width, height, time
//! base, frame count), then per packet a 12-byte header (32-bit little-endian size,
//! 64-bit timestamp) and the packet (an AV1 temporal unit, a VP9 or VP8 frame).

use super::io::{ByteSource, truncated};
use super::types::{Container, MediaPacket, PacketEntry, Track, TrackCodec, TrackKind, VideoInfo};
use super::{ContainerDemuxer, PacketTable};
use crate::bitstream::packet::PacketPeek;
use crate::codec::{Codec, Rational};
use crate::error::{Error, Result};

/// The largest packet read (a damaged size field cannot make us allocate more than the
/// file holds anyway; this keeps one packet sane).
const MAX_PACKET: u64 = 256 << 20;

/// An IVF file.
pub(crate) struct IvfDemuxer {
    src: ByteSource,
    tracks: Vec<Track>,
    header_len: u64,
    peek: Option<PacketPeek>,
    /// Set once the damage that ends the file was reported.
    done: bool,
}

impl IvfDemuxer {
    /// Reads the file header.
    pub fn open(mut src: ByteSource) -> Result<Self> {
        let mut h = [0u8; 32];
        src.seek(0);
        src.read_exact(&mut h, "the IVF file header")?;
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let header_len = u64::from(u16_at(6)).max(32);
        let fourcc = [h[8], h[9], h[10], h[11]];
        let codec = match &fourcc {
            b"AV01" => TrackCodec::Video(Codec::Av1),
            b"VP90" => TrackCodec::Video(Codec::Vp9),
            b"VP80" => TrackCodec::Video(Codec::Vp8),
            other => TrackCodec::Other(String::from_utf8_lossy(other).to_lowercase()),
        };
        let (den, num) = (u32_at(16), u32_at(20));
        let time_base =
            if den > 0 && num > 0 { Rational::new(i64::from(num), i64::from(den)) } else { Rational::MPEG_90K };
        let video = VideoInfo { width: u32::from(u16_at(12)), height: u32::from(u16_at(14)), ..VideoInfo::default() };
        let peek = codec.video().map(PacketPeek::new);
        let track = Track {
            index: 0,
            id: 0,
            kind: TrackKind::Video,
            codec,
            config: super::CodecConfig::None,
            time_base,
            duration: None,
            packets: None,
            frame_rate: None,
            video: Some(video),
            audio: None,
            language: None,
            window: None,
        };
        src.seek(header_len);
        Ok(IvfDemuxer { src, tracks: vec![track], header_len, peek, done: false })
    }

    /// Reads the packet at the position; `Ok(None)` at the end of the file.
    fn read(&mut self) -> Result<Option<MediaPacket>> {
        if self.done || self.src.remaining() == 0 {
            return Ok(None);
        }
        let pos = self.src.position();
        let mut h = [0u8; 12];
        if let Err(e) = self.src.read_exact(&mut h, "an IVF packet header") {
            self.done = true;
            return Err(e);
        }
        let size = u64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]]));
        let pts = i64::from_le_bytes(h[4..12].try_into().expect("8 bytes"));
        if size > MAX_PACKET || size > self.src.remaining() {
            self.done = true;
            return Err(truncated(pos + 12, "an IVF packet", size, self.src.remaining()));
        }
        let data = match self.src.read_vec(size, "an IVF packet") {
            Ok(d) => d,
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        let keyframe = match &mut self.peek {
            Some(p) => p.inspect(&data).is_some_and(|i| i.keyframe),
            // VP8: bit 0 of the first byte is 0 on key frames.
            None => data.first().is_some_and(|b| b & 1 == 0),
        };
        Ok(Some(MediaPacket {
            track: 0,
            data,
            pts: Some(pts),
            dts: Some(pts),
            duration: None,
            keyframe,
            pos,
            seek: pos,
            discard_padding_ns: 0,
        }))
    }
}

impl ContainerDemuxer for IvfDemuxer {
    fn container(&self) -> Container {
        Container::Ivf
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        self.read()
    }

    fn seek_to(&mut self, _track: usize, entry: &PacketEntry) -> Result<()> {
        if entry.seek < self.header_len || entry.seek >= self.src.len() {
            return Err(Error::invalid_input(format!("no IVF packet at offset {}", entry.seek)));
        }
        self.src.seek(entry.seek);
        self.done = false;
        Ok(())
    }

    fn rewind(&mut self) -> Result<()> {
        self.src.seek(self.header_len);
        self.done = false;
        Ok(())
    }

    fn packet_table(&mut self, _track: usize) -> Result<PacketTable> {
        self.rewind()?;
        let mut table = PacketTable::default();
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
        // A packet lasts until the next one starts.
        for i in 1..table.entries.len() {
            let (a, b) = (table.entries[i - 1].pts, table.entries[i].pts);
            table.entries[i - 1].duration = a.zip(b).map(|(a, b)| b - a).filter(|d| *d > 0);
        }
        self.rewind()?;
        Ok(table)
    }
}
