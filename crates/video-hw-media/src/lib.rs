//! Containers: open a file or any `Read + Seek`, find its tracks, read its packets.
//!
//! The container is found from the content, never the name ([`detect`]): MP4/MOV
//! (fragmented too), Matroska and WebM, MPEG-TS and M2TS, AVI, IVF, and raw H.264/HEVC
//! Annex-B streams. A [`Demuxer`] gives the [`Track`]s (codec, configuration, time base,
//! duration, frame rate, size, rotation, language) and the [`MediaPacket`]s of every
//! track in file order, each with its timestamps as the container has them (B-frames:
//! `dts` ≠ `pts`; MP4 edit lists applied; MPEG-TS 33-bit wraps unwrapped).
//!
//! ```no_run
//! use video_hw::media::Demuxer;
//! use video_hw::{Decoder, DecoderConfig, Input};
//!
//! let mut demuxer = Demuxer::open("clip.mkv")?;
//! let track = demuxer.video_track().expect("a video track").clone();
//! // The codec, and what the codecs only the FFmpeg engine decodes need (extradata, size).
//! let mut decoder = Decoder::open(DecoderConfig::for_track(&track).expect("a codec the decoders know"))?;
//! while let Some(packet) = demuxer.next_packet()? {
//!     if packet.track == track.index {
//!         decoder.submit(Input::from_media(&track, &packet))?;
//!         while let Some(frame) = decoder.try_reap()? { /* … */ }
//!     }
//! }
//! for frame in decoder.flush()? { /* … */ }
//! # Ok::<(), video_hw::Error>(())
//! ```
//!
//! Audio tracks report what ffprobe reports ([`AudioInfo`]: the decoder's sample rate,
//! channels and channel layout, from the codec configuration over the container's fields;
//! MP4 `iTunSMPB` gapless information); the parsers behind them are in [`audio`].
//!
//! Damage: a demuxer returns every packet before the damage, then an
//! [`Error::InvalidBitstream`] with the byte offset where it is (MPEG-TS resynchronises
//! and goes on). Every size or count a file claims is checked against what the file
//! holds before anything is allocated, and nothing a file says can make a demuxer loop
//! without reading.
//!
//! Everything here is safe Rust over the bitstream layer; the sessions sit above it.
//!
//! This is the crate `video-hw-media`; `video-hw` re-exports it as `video_hw::media`: use
//! it from there. It is built on the plain records (`video-hw-types`) and the bitstream
//! layer (`video-hw-bitstream`) alone, so Cargo keeps it from naming anything above, and it
//! reads no environment (the frame-index cache's defaults come from the library:
//! [`index::CacheEnvironment`]). Items marked `#[doc(hidden)]` are the library's internals
//! (crate-private when this was a module of `video-hw`); they are no part of the API.

#![warn(missing_docs)]

mod annexb;
pub mod audio;
mod audio_file;
mod avi;
pub mod cache_file;
mod codec_ids;
mod detect;
mod file;
pub mod index;
pub mod io;
mod ivf;
mod mkv;
mod mp4;
pub mod mux;
mod obu;
mod obu_annexb;
mod pcm;
mod stream_info;
mod ts;
mod types;

/// Helpers for tests of the containers (the `test-support` feature; never in a release
/// build): an AVI given an OpenDML index made from its `idx1`.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod test_support {
    pub use crate::avi::opendml_copy::with_opendml_index;
}

pub use detect::{DETECT_BYTES, detect, ts_packet_size};
pub use index::{CacheUse, FrameIndex, IndexCache, IndexedFrame};
pub use ivf::{IvfHeader, IvfStream};
pub use pcm::PcmFormat;
pub use types::{
    AudioCodec, AudioContainer, AudioInfo, CodecConfig, Container, MediaPacket, PacketEntry, Track, TrackCodec,
    TrackKind, VideoInfo,
};

use std::io::{Read, Seek};
use std::path::Path;

use io::{ByteSource, ReadSeek};
use video_hw_types::error::{Error, Result};

/// A track's packets in decode order, without their bytes, as far as the file could be
/// read: the container's tables where it has them (MP4 sample tables and fragments,
/// IVF), otherwise a scan of the file that reads headers and skips payloads.
#[derive(Debug, Default)]
pub struct PacketTable {
    /// The packets, in decode order.
    pub entries: Vec<PacketEntry>,
    /// The damage that ended the table early, if any (the entries before it stand).
    pub damage: Option<Error>,
}

/// What every container's demuxer does (one implementation per container).
pub(crate) trait ContainerDemuxer: Send {
    /// The container.
    fn container(&self) -> Container;
    /// The tracks, in the container's order.
    fn tracks(&self) -> &[Track];
    /// The next packet of any track, in file order; `Ok(None)` at the end.
    fn next_packet(&mut self) -> Result<Option<MediaPacket>>;
    /// Positions reading so that the next packet of `track` is `entry`'s.
    fn seek_to(&mut self, track: usize, entry: &PacketEntry) -> Result<()>;
    /// Back to the first packet.
    fn rewind(&mut self) -> Result<()>;
    /// `track`'s packets in decode order; reading restarts from the first packet after.
    fn packet_table(&mut self, track: usize) -> Result<PacketTable>;
    /// What reading the file in order taught this demuxer that its seeks need, saved with
    /// a frame index ([`index::IndexCache`]); `None` where a seek needs nothing learnt.
    fn seek_points(&self) -> Option<SeekPoints> {
        None
    }
    /// Takes back what [`seek_points`](Self::seek_points) gave, from a saved index of the
    /// same file, so that seeks do not read the file in order again to learn it.
    fn restore_seek_points(&mut self, _points: SeekPoints) {}
    /// Whether this file's packets were found by reading through it rather than from tables
    /// it holds: a saved frame index then spares later opens that scan, so
    /// [`index::IndexCache::Auto`] saves one. The files without tables by default.
    fn located_by_scan(&self) -> bool {
        matches!(self.container(), Container::MpegTs | Container::AnnexB | Container::Obu)
    }
}

/// What a demuxer learnt by reading a whole file in order that its seeks need: for a raw
/// H.264/HEVC stream, the parameter sets in force at each key frame (by file offset) and
/// how far the file was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SeekPoints {
    /// Reading in order got this far (file offset of the last packet read).
    pub known_until: u64,
    /// The parameter sets (Annex-B) in force at each key frame, by file offset, ascending.
    pub at: Vec<(u64, std::sync::Arc<Vec<u8>>)>,
}

/// Reads a container: its tracks and its packets.
///
/// Open a path ([`open`](Self::open)) or any reader ([`from_reader`](Self::from_reader)),
/// then read packets of every track in file order ([`next_packet`](Self::next_packet)),
/// list a track's packets without reading them ([`packet_table`](Self::packet_table)),
/// or jump to one ([`seek_to`](Self::seek_to)).
pub struct Demuxer {
    inner: Box<dyn ContainerDemuxer>,
}

impl std::fmt::Debug for Demuxer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demuxer").field("container", &self.container()).field("tracks", &self.tracks()).finish()
    }
}

impl Demuxer {
    /// Opens the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)
            .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))?;
        // Positioned reads: a process forked from this one shares the open file.
        Self::from_reader(file::PositionedFile::new(file))
    }

    /// Opens a container held by `reader` (a file, `Cursor<Vec<u8>>`, …).
    pub fn from_reader<R: Read + Seek + Send + 'static>(reader: R) -> Result<Self> {
        Self::from_source(ByteSource::new(Box::new(reader) as Box<dyn ReadSeek>)?)
    }

    /// Opens a container held in memory.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self> {
        Self::from_reader(std::io::Cursor::new(bytes.into()))
    }

    fn from_source(mut source: ByteSource) -> Result<Self> {
        if source.is_empty() {
            return Err(Error::invalid_input("empty input"));
        }
        let prefix = source.peek(DETECT_BYTES)?.to_vec();
        // Audio-only files with a signature of their own first: a WAV's PCM can look like
        // anything (a start code, a sync byte) to the video detectors.
        if audio_file::has_signature(&prefix) {
            source.seek(0);
            if let Some(mut d) = audio_file::AudioFileDemuxer::open(source)? {
                d.set_wav_layout(&prefix);
                return Ok(Demuxer { inner: Box::new(d) });
            }
            return Err(Error::invalid_bitstream(0, "an audio file that Symphonia's readers could not open"));
        }
        let Some(container) = detect(&prefix) else {
            // Audio-only files last: Symphonia's probe reads them from their own signatures.
            if let Some(mut d) = audio_file::AudioFileDemuxer::open(source)? {
                d.set_wav_layout(&prefix);
                return Ok(Demuxer { inner: Box::new(d) });
            }
            return Err(Error::invalid_bitstream(
                0,
                "not a container or stream video-hw reads (MP4/MOV, Matroska/WebM, MPEG-TS/M2TS, AVI, IVF, H.264/HEVC Annex-B, AV1 OBUs; WAV, FLAC, Ogg, MP3, ADTS AAC)",
            ));
        };
        source.seek(0);
        let inner: Box<dyn ContainerDemuxer> = match container {
            Container::Mp4 => Box::new(mp4::Mp4Demuxer::open(source)?),
            Container::Ivf => Box::new(ivf::IvfDemuxer::open(source)?),
            Container::Avi => Box::new(avi::AviDemuxer::open(source)?),
            Container::Obu => Box::new(obu::ObuDemuxer::open(source)?),
            Container::AnnexB => Box::new(annexb::AnnexBDemuxer::open(source)?),
            Container::Matroska | Container::WebM => Box::new(mkv::MkvDemuxer::open(source)?),
            Container::MpegTs => Box::new(ts::TsDemuxer::open(source)?),
            // Signatures `audio_file` does not check first (ADTS, MP3 without an ID3 tag).
            Container::Audio(_) => match audio_file::AudioFileDemuxer::open(source)? {
                Some(d) => Box::new(d),
                None => {
                    return Err(Error::invalid_bitstream(0, "an audio file that Symphonia's readers could not open"));
                }
            },
        };
        Ok(Demuxer { inner })
    }

    /// The container.
    pub fn container(&self) -> Container {
        self.inner.container()
    }

    /// Every track, in the container's order (`tracks()[i].index == i`).
    pub fn tracks(&self) -> &[Track] {
        self.inner.tracks()
    }

    /// Track `index`.
    pub fn track(&self, index: usize) -> Option<&Track> {
        self.inner.tracks().get(index)
    }

    /// The video track a reader opens by default: of the tracks whose codec the decoders
    /// know (H.264, HEVC, AV1, VP9), the largest picture, and the first of those, as ffmpeg
    /// and torchcodec pick theirs (a file with a thumbnail or a low-resolution rendition
    /// first, as torchcodec's nasa_13013.mp4, gets its main picture). A track whose size the
    /// container does not state counts as the smallest.
    pub fn video_track(&self) -> Option<&Track> {
        let area = |t: &Track| t.video.as_ref().map_or(0, |v| u64::from(v.width) * u64::from(v.height));
        let mut best: Option<&Track> = None;
        for t in self.tracks().iter().filter(|t| t.kind == TrackKind::Video && t.codec.video().is_some()) {
            if best.is_none_or(|b| area(t) > area(b)) {
                best = Some(t);
            }
        }
        best
    }

    /// The index of the audio track a decoder opens by default: the one ffmpeg's
    /// `av_find_best_stream` (and so torchcodec) picks. Tracks the container marks as
    /// default ([`Track::is_default`]) come first; among those, the highest bit rate, then
    /// the first. A track's bit rate is its bytes over its duration where the container's
    /// tables list its packets (MP4, as FFmpeg computes an MP4 track's); where only a scan
    /// could tell (Matroska, MPEG-TS; FFmpeg knows none there either unless tags state one),
    /// the rates count as equal. `None` without audio.
    pub fn audio_track(&mut self) -> Option<usize> {
        let audio: Vec<usize> = self.tracks().iter().filter(|t| t.kind == TrackKind::Audio).map(|t| t.index).collect();
        let rated = audio.len() > 1 && audio.iter().all(|&i| self.tracks()[i].packets.is_some());
        // (marked default, bit rate), compared in that order: a later track replaces the
        // best only where it ranks strictly higher, so the first of equals stays.
        let mut best: Option<(usize, (bool, f64))> = None;
        for i in audio {
            let rank = (self.tracks()[i].is_default, if rated { self.bit_rate(i) } else { 0.0 });
            if best.is_none_or(|(_, b)| rank > b) {
                best = Some((i, rank));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Track `i`'s bytes over its duration, in bits per second, from its packet table; 0
    /// where the track states no duration or its table cannot be read.
    fn bit_rate(&mut self, i: usize) -> f64 {
        let t = &self.tracks()[i];
        let Some(seconds) = t.duration.filter(|&d| d > 0).map(|d| t.seconds(d)) else { return 0.0 };
        match self.packet_table(i) {
            Ok(table) => table.entries.iter().map(|e| e.size as f64).sum::<f64>() * 8.0 / seconds,
            Err(_) => 0.0,
        }
    }

    /// Why there is no [`video_track`](Self::video_track): no video track at all, or
    /// only video in codecs no engine here can be asked for (named as the container
    /// names them: `V_THEORA`, `ts-0xea`, …).
    pub fn no_video_error(&self) -> Error {
        match self.tracks().iter().find(|t| t.kind == TrackKind::Video) {
            Some(t) => Error::unsupported(
                format!("{} video", t.codec),
                format!("no engine decodes {}: this crate does not know the codec", t.codec),
            ),
            None => Error::unsupported("a file without a video track", "nothing to decode"),
        }
    }

    /// The next packet of any track, in file order; `Ok(None)` at the end.
    ///
    /// Damage ends the packets with an [`Error::InvalidBitstream`] at its byte offset
    /// (after which `Ok(None)`); MPEG-TS skips the damage and goes on.
    pub fn next_packet(&mut self) -> Result<Option<MediaPacket>> {
        self.inner.next_packet()
    }

    /// Positions reading so that the next packet of `track` that
    /// [`next_packet`](Self::next_packet) returns is the one `entry` describes (an entry
    /// of [`packet_table`](Self::packet_table), or [`MediaPacket::entry`]); packets of
    /// other tracks from around that point come too.
    pub fn seek_to(&mut self, track: usize, entry: &PacketEntry) -> Result<()> {
        if track >= self.tracks().len() {
            return Err(Error::invalid_input(format!("no track {track} (the file has {})", self.tracks().len())));
        }
        self.inner.seek_to(track, entry)
    }

    /// Back to the first packet.
    pub fn rewind(&mut self) -> Result<()> {
        self.inner.rewind()
    }

    /// `track`'s packets in decode order, without their bytes, from the container's
    /// tables where it has them or a scan that skips payloads; reading restarts from the
    /// first packet afterwards. Damage ends the table early ([`PacketTable::damage`]).
    pub fn packet_table(&mut self, track: usize) -> Result<PacketTable> {
        if track >= self.tracks().len() {
            return Err(Error::invalid_input(format!("no track {track} (the file has {})", self.tracks().len())));
        }
        self.inner.packet_table(track)
    }

    /// See [`ContainerDemuxer::seek_points`].
    pub(crate) fn seek_points(&self) -> Option<SeekPoints> {
        self.inner.seek_points()
    }

    /// See [`ContainerDemuxer::restore_seek_points`].
    pub(crate) fn restore_seek_points(&mut self, points: SeekPoints) {
        self.inner.restore_seek_points(points)
    }

    /// See [`ContainerDemuxer::located_by_scan`].
    pub(crate) fn located_by_scan(&self) -> bool {
        self.inner.located_by_scan()
    }
}
