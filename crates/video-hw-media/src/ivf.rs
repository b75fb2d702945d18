//! IVF: a 32-byte file header (`DKIF`, version, header size, FourCC, width, height, time
//! base, frame count), then per packet a 12-byte header (32-bit little-endian size,
//! 64-bit timestamp) and the packet (an AV1 temporal unit, a VP9 or VP8 frame).

use std::io::Read;

use super::io::{ByteSource, truncated};
use super::types::{Container, MediaPacket, PacketEntry, Track, TrackCodec, TrackKind, VideoInfo};
use super::{ContainerDemuxer, PacketTable};
use video_hw_bitstream::packet::PacketPeek;
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::{Error, Result};

/// The largest packet read (a damaged size field cannot make us allocate more than the
/// file holds anyway; this keeps one packet sane).
const MAX_PACKET: u64 = 256 << 20;

/// Bytes of the file header IVF states (a header may say it is longer).
const FILE_HEADER_LEN: usize = 32;

/// Bytes of each packet's header: its size and its timestamp.
const PACKET_HEADER_LEN: usize = 12;

/// What an IVF file header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfHeader {
    /// From the FourCC: `AV01` AV1, `VP90` VP9, `VP80` VP8; another FourCC is kept,
    /// lower-cased, as [`TrackCodec::Other`].
    pub codec: TrackCodec,
    /// Of the packet timestamps (90 kHz where the header gives none).
    pub time_base: Rational,
    /// The picture size the header states.
    pub width: u32,
    /// The picture size the header states.
    pub height: u32,
    /// Bytes before the first packet (32 at least).
    pub header_len: u64,
}

impl IvfHeader {
    /// Bytes [`IvfHeader::parse`] needs.
    pub const LEN: usize = FILE_HEADER_LEN;

    /// Parses the file header at the start of `prefix`.
    pub fn parse(prefix: &[u8]) -> Result<Self> {
        let Some(h) = prefix.get(..FILE_HEADER_LEN) else {
            return Err(truncated(0, "the IVF file header", FILE_HEADER_LEN as u64, prefix.len() as u64));
        };
        if !h.starts_with(b"DKIF") {
            return Err(Error::invalid_bitstream(0, "not IVF: the file does not start with DKIF"));
        }
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let codec = match &h[8..12] {
            b"AV01" => TrackCodec::Video(Codec::Av1),
            b"VP90" => TrackCodec::Video(Codec::Vp9),
            b"VP80" => TrackCodec::Video(Codec::Vp8),
            other => TrackCodec::Other(String::from_utf8_lossy(other).to_lowercase()),
        };
        let (den, num) = (u32_at(16), u32_at(20));
        let time_base =
            if den > 0 && num > 0 { Rational::new(i64::from(num), i64::from(den)) } else { Rational::MPEG_90K };
        Ok(IvfHeader {
            codec,
            time_base,
            width: u32::from(u16_at(12)),
            height: u32::from(u16_at(14)),
            header_len: u64::from(u16_at(6)).max(FILE_HEADER_LEN as u64),
        })
    }
}

/// A packet header's size and timestamp.
fn packet_header(h: &[u8; PACKET_HEADER_LEN]) -> (u64, i64) {
    let size = u64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]]));
    let pts = i64::from_le_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]);
    (size, pts)
}

/// The packet of `data` read at `pos`, its key-frame flag from its own headers.
fn packet(data: Vec<u8>, pts: i64, pos: u64, peek: &mut Option<PacketPeek>) -> MediaPacket {
    let keyframe = match peek {
        Some(p) => p.inspect(&data).is_some_and(|i| i.keyframe),
        // VP8: bit 0 of the first byte is 0 on key frames.
        None => data.first().is_some_and(|b| b & 1 == 0),
    };
    MediaPacket {
        track: 0,
        data,
        pts: Some(pts),
        dts: Some(pts),
        duration: None,
        keyframe,
        pos,
        seek: pos,
        discard_padding_ns: 0,
    }
}

/// IVF read front to back from a stream that cannot seek (standard input, a pipe): the
/// file header, then packet after packet as [`MediaPacket`]s of track 0 (a file is read
/// through [`Demuxer`](super::Demuxer), which also seeks). Damage ends the stream: the
/// packets before it come, then an [`Error::InvalidBitstream`] at its offset.
pub struct IvfStream<R> {
    reader: R,
    header: IvfHeader,
    /// Bytes consumed from the start of the stream.
    position: u64,
    peek: Option<PacketPeek>,
    done: bool,
}

impl<R: Read> IvfStream<R> {
    /// Reads the file header (and any bytes the header says it has past 32).
    pub fn new(mut reader: R) -> Result<Self> {
        let mut h = [0u8; FILE_HEADER_LEN];
        let got = read_full(&mut reader, &mut h)?;
        let header = IvfHeader::parse(&h[..got])?;
        let extra = header.header_len - FILE_HEADER_LEN as u64;
        let skipped = std::io::copy(&mut (&mut reader).take(extra), &mut std::io::sink())?;
        if skipped < extra {
            return Err(truncated(got as u64, "the IVF file header", extra, skipped));
        }
        let peek = header.codec.video().map(PacketPeek::new);
        Ok(IvfStream { reader, position: header.header_len, header, peek, done: false })
    }

    /// What the file header says.
    pub fn header(&self) -> &IvfHeader {
        &self.header
    }

    /// Bytes read so far, headers included.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The next packet; `Ok(None)` at the end of the stream (and after damage was reported).
    pub fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        if self.done {
            return Ok(None);
        }
        let result = self.read();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    fn read(&mut self) -> Result<Option<MediaPacket>> {
        let pos = self.position;
        let mut h = [0u8; PACKET_HEADER_LEN];
        match read_full(&mut self.reader, &mut h)? {
            0 => return Ok(None),
            PACKET_HEADER_LEN => {}
            got => return Err(truncated(pos, "an IVF packet header", PACKET_HEADER_LEN as u64, got as u64)),
        }
        let (size, pts) = packet_header(&h);
        let at = pos + PACKET_HEADER_LEN as u64;
        if size > MAX_PACKET {
            return Err(Error::invalid_bitstream(at, format!("malformed IVF: a packet of {size} bytes")));
        }
        let mut data = Vec::new();
        (&mut self.reader).take(size).read_to_end(&mut data)?;
        if (data.len() as u64) < size {
            return Err(truncated(at, "an IVF packet", size, data.len() as u64));
        }
        self.position = at + size;
        Ok(Some(packet(data, pts, pos, &mut self.peek)))
    }
}

/// Reads until `buf` is full or the input ends; the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}

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
        let mut h = [0u8; IvfHeader::LEN];
        src.seek(0);
        src.read_exact(&mut h, "the IVF file header")?;
        let header = IvfHeader::parse(&h)?;
        let video = VideoInfo { width: header.width, height: header.height, ..VideoInfo::default() };
        let peek = header.codec.video().map(PacketPeek::new);
        let track = Track {
            index: 0,
            id: 0,
            kind: TrackKind::Video,
            codec: header.codec.clone(),
            config: super::CodecConfig::None,
            time_base: header.time_base,
            duration: None,
            packets: None,
            frame_rate: None,
            video: Some(video),
            audio: None,
            language: None,
            window: None,
            is_default: true,
        };
        src.seek(header.header_len);
        Ok(IvfDemuxer { src, tracks: vec![track], header_len: header.header_len, peek, done: false })
    }

    /// Reads the packet at the position; `Ok(None)` at the end of the file.
    fn read(&mut self) -> Result<Option<MediaPacket>> {
        if self.done || self.src.remaining() == 0 {
            return Ok(None);
        }
        let pos = self.src.position();
        let mut h = [0u8; PACKET_HEADER_LEN];
        if let Err(e) = self.src.read_exact(&mut h, "an IVF packet header") {
            self.done = true;
            return Err(e);
        }
        let (size, pts) = packet_header(&h);
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
        Ok(Some(packet(data, pts, pos, &mut self.peek)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A file header (`header_len` bytes, AV1, 25 fps, 320x240), then packets of `sizes`
    /// bytes with timestamps 0, 1, 2…
    fn file(header_len: u16, sizes: &[u32]) -> Vec<u8> {
        let mut f = b"DKIF\0\0".to_vec();
        f.extend(header_len.to_le_bytes());
        f.extend(b"AV01");
        f.extend(320u16.to_le_bytes());
        f.extend(240u16.to_le_bytes());
        f.extend(25u32.to_le_bytes());
        f.extend(1u32.to_le_bytes());
        f.extend(sizes.len().to_le_bytes()[..4].iter());
        f.resize(usize::from(header_len), 0);
        for (i, &n) in sizes.iter().enumerate() {
            f.extend(n.to_le_bytes());
            f.extend((i as i64).to_le_bytes());
            f.extend((0..n).map(|b| b as u8));
        }
        f
    }

    #[test]
    fn the_header_says_codec_rate_size_and_length() {
        let h = IvfHeader::parse(&file(32, &[])).unwrap();
        assert_eq!(h.codec, TrackCodec::Video(Codec::Av1));
        assert_eq!((h.time_base, h.width, h.height, h.header_len), (Rational::new(1, 25), 320, 240, 32));
        let mut vp8 = file(32, &[]);
        vp8[8..12].copy_from_slice(b"VP80");
        assert_eq!(IvfHeader::parse(&vp8).unwrap().codec, TrackCodec::Video(Codec::Vp8));
        vp8[8..12].copy_from_slice(b"H264");
        assert_eq!(IvfHeader::parse(&vp8).unwrap().codec, TrackCodec::Other("h264".into()));
        // No rate: 90 kHz.
        let mut no_rate = file(32, &[]);
        no_rate[16..24].fill(0);
        assert_eq!(IvfHeader::parse(&no_rate).unwrap().time_base, Rational::MPEG_90K);
    }

    #[test]
    fn a_short_or_foreign_header_is_an_error() {
        let e = IvfHeader::parse(&file(32, &[])[..20]).unwrap_err();
        assert!(e.to_string().contains("needs 32 bytes"), "{e}");
        let mut riff = file(32, &[]);
        riff[..4].copy_from_slice(b"RIFF");
        assert!(IvfHeader::parse(&riff).unwrap_err().to_string().contains("DKIF"));
        assert!(IvfStream::new(&[][..]).is_err());
    }

    #[test]
    fn a_stream_gives_the_packets_in_order() {
        let data = file(40, &[3, 0, 5]);
        let mut s = IvfStream::new(&data[..]).unwrap();
        assert_eq!(s.position(), 40);
        let mut got = Vec::new();
        while let Some(p) = s.next_packet().unwrap() {
            got.push((p.pts, p.data.len(), p.pos));
        }
        assert_eq!(got, [(Some(0), 3, 40), (Some(1), 0, 55), (Some(2), 5, 67)]);
        assert_eq!(s.position(), data.len() as u64);
        assert!(s.next_packet().unwrap().is_none());
    }

    #[test]
    fn a_cut_stream_gives_the_packets_before_then_where_it_broke() {
        let data = file(32, &[4, 6]);
        for cut in [data.len() - 1, 32 + 16 + 5] {
            let mut s = IvfStream::new(&data[..cut]).unwrap();
            assert_eq!(s.next_packet().unwrap().map(|p| p.data.len()), Some(4));
            match s.next_packet() {
                Err(Error::InvalidBitstream { offset, reason }) => {
                    assert!(offset >= 48 && reason.contains("truncated"), "{offset}: {reason}");
                }
                other => panic!("{other:?}"),
            }
            // Damage ends the stream.
            assert!(s.next_packet().unwrap().is_none());
        }
        // A size no file holds is refused before anything is read.
        let mut huge = file(32, &[1]);
        huge[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(IvfStream::new(&huge[..]).unwrap().next_packet().unwrap_err().to_string().contains("malformed"));
    }

    #[test]
    fn a_stream_reads_what_the_demuxer_reads() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vp9/libvpx-cars-320x240.ivf");
        let bytes = std::fs::read(&path).unwrap();
        let mut demuxer = crate::Demuxer::open(&path).unwrap();
        let mut stream = IvfStream::new(&bytes[..]).unwrap();
        assert_eq!(stream.header().codec, demuxer.tracks()[0].codec);
        let mut n = 0;
        while let Some(want) = demuxer.next_packet().unwrap() {
            let got = stream.next_packet().unwrap().unwrap();
            assert_eq!((got.pts, got.pos, got.keyframe, &got.data), (want.pts, want.pos, want.keyframe, &want.data));
            n += 1;
        }
        assert!(n > 5 && stream.next_packet().unwrap().is_none());
    }
}
