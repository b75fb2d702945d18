//! Audio-only files (WAV, FLAC, Ogg, MP3, ADTS AAC) through Symphonia's demuxers, as a
//! [`ContainerDemuxer`] like the others: their tracks and packets in this crate's types,
//! so the audio session reads them as it reads an MP4's audio track.
//!
//! Symphonia finds the format from the content (its probe reads each format's signature);
//! nothing is taken from the file's name.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Mutex;

use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::codecs::audio::well_known as ids;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

use super::io::{ByteSource, ReadSeek};
use super::pcm::PcmFormat;
use super::types::{
    AudioCodec, AudioContainer, CodecConfig, Container, MediaPacket, PacketEntry, Track, TrackCodec, TrackKind,
};
use super::{ContainerDemuxer, PacketTable};
use video_hw_types::codec::Rational;
use video_hw_types::error::{Error, Result};

/// True when `prefix` starts as a WAV (`RIFF….WAVE`), FLAC (`fLaC`), Ogg (`OggS`) or
/// ID3-tagged (MP3) file does.
pub(crate) fn has_signature(prefix: &[u8]) -> bool {
    (prefix.len() >= 12 && &prefix[..4] == b"RIFF" && &prefix[8..12] == b"WAVE")
        || prefix.starts_with(b"fLaC")
        || prefix.starts_with(b"OggS")
        || prefix.starts_with(b"ID3")
}

/// The reader, shared with Symphonia (which asks for `Sync`; one reader at a time uses it).
struct Source {
    inner: Mutex<Box<dyn ReadSeek>>,
    len: u64,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.get_mut().map_err(|_| std::io::Error::other("reader poisoned"))?.read(buf)
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.get_mut().map_err(|_| std::io::Error::other("reader poisoned"))?.seek(pos)
    }
}

impl MediaSource for Source {
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// An audio-only file open through Symphonia.
pub(crate) struct AudioFileDemuxer {
    reader: Box<dyn FormatReader>,
    container: Container,
    tracks: Vec<Track>,
    /// Symphonia's track ids, by our track index.
    ids: Vec<u32>,
    /// The end was reached (or damage ended reading).
    done: bool,
    /// The first packet, read at open to place the tracks' windows, given out first.
    peeked: Option<MediaPacket>,
    /// The first packet's timestamp: where a rewind seeks to.
    first_pts: i64,
    /// Subtracted from each track's packet timestamps: Opus's pre-skip, so that the first
    /// sample shown is at the first packet's time, as FFmpeg's Ogg demuxer places it.
    shift: Vec<i64>,
}

impl AudioFileDemuxer {
    /// A WAV file's channel layout as FFmpeg reads it from the header (`header`, the
    /// file's first bytes): the `WAVE_FORMAT_EXTENSIBLE` channel mask, or unspecified
    /// without one (Symphonia assumes a layout; ffprobe says `unknown`).
    pub(crate) fn set_wav_layout(&mut self, header: &[u8]) {
        if self.container != Container::Audio(AudioContainer::Wav) {
            return;
        }
        for a in self.tracks.iter_mut().filter_map(|t| t.audio.as_mut()) {
            if let Some(layout) = super::audio::wav_layout(header, a.channels) {
                a.layout = layout;
            }
        }
    }

    /// Opens `source` if Symphonia knows its format; `Ok(None)` when it does not.
    pub(crate) fn open(mut source: ByteSource) -> Result<Option<Self>> {
        let len = source.len();
        let one_audio_page = ogg_first_audio_page_is_last(source.peek(OGG_SCAN_BYTES)?);
        let src = Source { inner: Mutex::new(source.into_inner()?), len };
        let mss = MediaSourceStream::new(Box::new(src), MediaSourceStreamOptions::default());
        let reader = match symphonia::default::get_probe().probe(
            &Hint::new(),
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        ) {
            Ok(r) => r,
            Err(symphonia::core::errors::Error::Unsupported(_)) => return Ok(None),
            Err(symphonia::core::errors::Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(None);
            }
            Err(e) => return Err(Error::invalid_bitstream(0, format!("audio file: {e}"))),
        };
        let container = Container::Audio(match reader.format_info().short_name {
            "wave" => AudioContainer::Wav,
            "flac" => AudioContainer::Flac,
            "ogg" => AudioContainer::Ogg,
            "aac" => AudioContainer::Adts,
            "mp1" | "mp2" | "mp3" => AudioContainer::Mp3,
            other => return Err(Error::invalid_bitstream(0, format!("audio file format '{other}' is not read here"))),
        });
        let mut tracks = Vec::new();
        let mut ids = Vec::new();
        for t in reader.tracks() {
            let Some(CodecParameters::Audio(p)) = &t.codec_params else { continue };
            tracks.push(track_of(tracks.len(), t, p));
            ids.push(t.id);
        }
        if tracks.is_empty() {
            return Err(Error::invalid_bitstream(0, "audio file without an audio track"));
        }
        let shift = vec![0; tracks.len()];
        let mut d = AudioFileDemuxer { reader, container, tracks, ids, done: false, peeked: None, first_pts: 0, shift };
        // Where the shown samples start depends on the first packet's timestamp: Symphonia
        // starts MP3 and Vorbis at minus the encoder delay, and Opus (whose pre-skip it
        // reports as the delay without decoding Opus) at 0.
        let first = d.next_packet()?;
        let first_pts = first.as_ref().and_then(|p| p.pts).unwrap_or(0);
        let specs: Vec<_> = d
            .reader
            .tracks()
            .iter()
            .filter(|t| matches!(t.codec_params, Some(CodecParameters::Audio(_))))
            .map(|t| (t.delay, t.num_frames))
            .collect();
        let ogg = d.container == Container::Audio(AudioContainer::Ogg) && one_audio_page;
        for ((track, (delay, frames)), shift) in d.tracks.iter_mut().zip(specs).zip(&mut d.shift) {
            let Some(delay) = delay else {
                track.window = Some((first_pts, None));
                continue;
            };
            let (delay, frames) = (i64::from(delay), frames.and_then(|n| i64::try_from(n).ok()));
            track.window = Some(match track.codec {
                // Opus counts its pre-skip in the granule positions: shown from the first
                // packet's time once the packets are moved back by it.
                TrackCodec::Audio(AudioCodec::Opus) => {
                    *shift = delay;
                    (first_pts, frames.map(|n| first_pts + n - delay))
                }
                // Ogg Vorbis whose audio is all on the stream's last page: FFmpeg's Ogg
                // demuxer finds the start from the first audio page's granule position only
                // when that page does not end the stream. Here it counts from 0 instead, with
                // the first packet (which decodes to nothing) one block long, Symphonia's
                // delay; its end trimming then cuts that many samples more off the end. The
                // samples shown are FFmpeg's: the granule count less the delay.
                TrackCodec::Audio(AudioCodec::Vorbis) if ogg => (first_pts + delay, frames.map(|n| first_pts + n)),
                _ => (first_pts + delay, frames.map(|n| first_pts + delay + n)),
            });
        }
        d.peeked = first.map(|mut p| {
            p.pts = p.pts.map(|t| t - d.shift[p.track]);
            p.dts = p.pts;
            p
        });
        d.first_pts = first_pts;
        d.done = false;
        Ok(Some(d))
    }
}

/// Bytes of an Ogg file's start looked at for its first audio page (headers with a large
/// comment, cover art, may push it further: then the usual start is assumed).
const OGG_SCAN_BYTES: usize = 64 << 10;

/// Whether the first page of an Ogg file's first logical stream that ends an audio packet
/// (granule position above 0) is also the stream's last page (end-of-stream flag): a file
/// short enough for one audio page. False for anything else, Ogg or not.
fn ogg_first_audio_page_is_last(prefix: &[u8]) -> bool {
    let mut at = 0;
    let mut serial = None;
    while let Some(h) = prefix.get(at..at + 27) {
        if &h[..4] != b"OggS" {
            return false;
        }
        let flags = h[5];
        let granule = i64::from_le_bytes(h[6..14].try_into().unwrap_or_default());
        let this = u32::from_le_bytes(h[14..18].try_into().unwrap_or_default());
        let segments = usize::from(h[26]);
        let Some(lacing) = prefix.get(at + 27..at + 27 + segments) else { return false };
        let body: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        if *serial.get_or_insert(this) == this && granule > 0 {
            return flags & 0x04 != 0;
        }
        at += 27 + segments + body;
    }
    false
}

/// Our [`Track`] of a Symphonia track.
fn track_of(index: usize, t: &symphonia::core::formats::Track, p: &AudioCodecParameters) -> Track {
    let rate = p.sample_rate.unwrap_or(0);
    let channels = p.channels.as_ref().map_or(0, |c| c.count() as u16);
    let extra = p.extra_data.as_deref().map(<[u8]>::to_vec);
    let pcm = |bits: u16, float: bool, big_endian: bool, signed: bool| {
        (AudioCodec::Pcm, CodecConfig::Pcm(PcmFormat { bits, float, big_endian, signed }))
    };
    let (codec, config) = match p.codec {
        ids::CODEC_ID_AAC => (AudioCodec::Aac, extra.map_or(CodecConfig::None, CodecConfig::AudioSpecificConfig)),
        ids::CODEC_ID_OPUS => (AudioCodec::Opus, extra.map_or(CodecConfig::None, CodecConfig::OpusHead)),
        ids::CODEC_ID_MP3 => (AudioCodec::Mp3, CodecConfig::None),
        ids::CODEC_ID_MP2 | ids::CODEC_ID_MP1 => (AudioCodec::Mp2, CodecConfig::None),
        ids::CODEC_ID_FLAC => (AudioCodec::Flac, extra.map_or(CodecConfig::None, CodecConfig::Raw)),
        ids::CODEC_ID_VORBIS => {
            (AudioCodec::Vorbis, extra.map_or(CodecConfig::None, |e| CodecConfig::Raw(vorbis_xiph(&e))))
        }
        ids::CODEC_ID_PCM_U8 => pcm(8, false, false, false),
        ids::CODEC_ID_PCM_S8 => pcm(8, false, false, true),
        ids::CODEC_ID_PCM_S16LE => pcm(16, false, false, true),
        ids::CODEC_ID_PCM_S16BE => pcm(16, false, true, true),
        ids::CODEC_ID_PCM_S24LE => pcm(24, false, false, true),
        ids::CODEC_ID_PCM_S24BE => pcm(24, false, true, true),
        ids::CODEC_ID_PCM_S32LE => pcm(32, false, false, true),
        ids::CODEC_ID_PCM_S32BE => pcm(32, false, true, true),
        ids::CODEC_ID_PCM_F32LE => pcm(32, true, false, true),
        ids::CODEC_ID_PCM_F32BE => pcm(32, true, true, true),
        ids::CODEC_ID_PCM_F64LE => pcm(64, true, false, true),
        ids::CODEC_ID_PCM_F64BE => pcm(64, true, true, true),
        other => {
            let mut track = Track::audio(
                index,
                AudioCodec::Pcm,
                CodecConfig::None,
                Rational::new(1, i64::from(rate.max(1))),
                rate,
                channels,
            );
            track.codec = TrackCodec::Other(format!("symphonia-{other}"));
            return track;
        }
    };
    let tb = t.time_base.map_or(Rational::new(1, i64::from(rate.max(1))), |tb| {
        Rational::new(i64::from(tb.numer.get()), i64::from(tb.denom.get()))
    });
    let mut track = Track::audio(index, codec, config, tb, rate, channels);
    track.id = u64::from(t.id);
    track.duration = t.num_frames.and_then(|n| i64::try_from(n).ok());
    track.language = t.language.clone();
    track.kind = TrackKind::Audio;
    track
}

/// Vorbis's headers as Matroska's CodecPrivate holds them, the form every Vorbis decoder
/// here takes: Xiph lacing (`2`, the sizes of the first two headers, then the
/// identification, comment and setup headers). Symphonia's Ogg reader gives the
/// identification and setup headers back to back; an empty comment header goes between.
fn vorbis_xiph(extra: &[u8]) -> Vec<u8> {
    const IDENT: usize = 30;
    if extra.first() == Some(&2) || extra.len() < IDENT || &extra[1..7] != b"vorbis" {
        return extra.to_vec();
    }
    let (ident, rest) = extra.split_at(IDENT);
    let comment: Vec<u8> = if rest.get(..7) == Some(b"\x03vorbis".as_slice()) {
        // A comment header is there already: it ends where the setup header starts.
        return match memchr::memmem::find(&rest[7..], b"\x05vorbis") {
            Some(at) => lace(&[ident, &rest[..7 + at], &rest[7 + at..]]),
            None => extra.to_vec(),
        };
    } else {
        let mut c = b"\x03vorbis".to_vec();
        c.extend_from_slice(&0u32.to_le_bytes()); // vendor string length
        c.extend_from_slice(&0u32.to_le_bytes()); // user comments
        c.push(1); // framing bit
        c
    };
    lace(&[ident, &comment, rest])
}

/// Xiph lacing of `parts` (the last one's size implied).
fn lace(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![(parts.len() - 1) as u8];
    for p in &parts[..parts.len() - 1] {
        let mut n = p.len();
        while n >= 255 {
            out.push(255);
            n -= 255;
        }
        out.push(n as u8);
    }
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

impl ContainerDemuxer for AudioFileDemuxer {
    fn container(&self) -> Container {
        self.container
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        if let Some(p) = self.peeked.take() {
            return Ok(Some(p));
        }
        if self.done {
            return Ok(None);
        }
        loop {
            match self.reader.next_packet() {
                Ok(Some(p)) => {
                    let Some(track) = self.ids.iter().position(|&id| id == p.track_id) else { continue };
                    let pts = p.pts.get() - self.shift[track];
                    // The encoder's padding at the end, which Symphonia reads from the last
                    // granule position (Ogg) or the LAME header (MP3), as a discard.
                    let rate = self.tracks[track].audio.map_or(0, |a| a.sample_rate);
                    let trim_end = p.trim_end.get();
                    let mut m = MediaPacket::new(track, p.data.into_vec(), Some(pts), Some(pts), true);
                    m.duration = i64::try_from(p.dur.get()).ok();
                    if trim_end > 0 && rate > 0 {
                        m.discard_padding_ns = (i128::from(trim_end) * 1_000_000_000 / i128::from(rate)) as i64;
                    }
                    m.seek = u64::try_from(pts).unwrap_or(0);
                    return Ok(Some(m));
                }
                Ok(None) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(symphonia::core::errors::Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.done = true;
                    return Ok(None);
                }
                Err(e) => {
                    self.done = true;
                    return Err(Error::invalid_bitstream(0, format!("{}: {e}", self.container.name())));
                }
            }
        }
    }

    fn seek_to(&mut self, track: usize, entry: &PacketEntry) -> Result<()> {
        let ts = entry.pts.unwrap_or(0);
        self.reader
            .seek(SeekMode::Accurate, SeekTo::Timestamp { ts: Timestamp::new(ts), track_id: self.ids[track] })
            .map_err(|e| Error::invalid_bitstream(0, format!("{}: seek: {e}", self.container.name())))?;
        self.done = false;
        self.peeked = None;
        Ok(())
    }

    fn rewind(&mut self) -> Result<()> {
        let id = self.ids[0];
        // To the first packet (MP3 and Vorbis start below 0).
        self.reader
            .seek(SeekMode::Accurate, SeekTo::Timestamp { ts: Timestamp::new(self.first_pts), track_id: id })
            .map_err(|e| Error::invalid_bitstream(0, format!("{}: seek: {e}", self.container.name())))?;
        self.done = false;
        self.peeked = None;
        Ok(())
    }

    fn packet_table(&mut self, track: usize) -> Result<PacketTable> {
        self.rewind()?;
        let mut table = PacketTable::default();
        loop {
            match self.next_packet() {
                Ok(Some(p)) if p.track == track => table.entries.push(p.entry()),
                Ok(Some(_)) => {}
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
    use super::ogg_first_audio_page_is_last;

    /// An Ogg page of stream `serial` with `flags`, `granule` and one packet of `body` bytes.
    fn page(serial: u32, flags: u8, granule: i64, body: usize) -> Vec<u8> {
        let mut p = b"OggS\0".to_vec();
        p.push(flags);
        p.extend(granule.to_le_bytes());
        p.extend(serial.to_le_bytes());
        p.extend([0; 8]); // sequence number, checksum (not looked at)
        p.push(1);
        p.push(body as u8);
        p.extend(vec![0; body]);
        p
    }

    #[test]
    fn finds_whether_the_first_audio_page_ends_the_stream() {
        let headers = [page(7, 2, 0, 30), page(7, 0, 0, 200)].concat();
        let one = [headers.clone(), page(7, 4, 44100, 100)].concat();
        let two = [headers.clone(), page(7, 0, 48704, 100), page(7, 4, 62400, 100)].concat();
        assert!(ogg_first_audio_page_is_last(&one));
        assert!(!ogg_first_audio_page_is_last(&two));
        // Another stream's pages do not count; cut or foreign bytes say no.
        let other = [headers.clone(), page(9, 4, 100, 10), page(7, 0, 48704, 100)].concat();
        assert!(!ogg_first_audio_page_is_last(&other));
        assert!(!ogg_first_audio_page_is_last(&one[..one.len() - 50][..40]));
        assert!(!ogg_first_audio_page_is_last(b"RIFF\0\0\0\0WAVEfmt and more bytes than a header"));
        assert!(!ogg_first_audio_page_is_last(&[]));
    }
}
