//! Writing containers: MP4 (`moov` first, like ffmpeg's `+faststart`), fragmented MP4,
//! Matroska and WebM, with video and audio tracks copied packet by packet.
//!
//! A [`Muxer`] takes the output's tracks as [`Track`]s (what a [`Demuxer`](super::Demuxer)
//! gives, or one made for an encoder's output) and then [`MediaPacket`]s of any track, each
//! track's in its decode order, as the demuxers give them:
//!
//! | codec | packets | configuration ([`Track::config`]) |
//! |---|---|---|
//! | H.264, HEVC | length-prefixed samples, or Annex-B access units | [`CodecConfig::Nal`] for length-prefixed packets; [`CodecConfig::None`] for Annex-B ones, whose parameter sets then make the record (and which are converted to 4-byte lengths, in-band parameter sets kept) |
//! | AV1 | temporal units (low-overhead OBUs) | [`CodecConfig::Av1C`], or none: built from the first sequence header |
//! | VP9 | frames or superframes | [`CodecConfig::VpcC`], or none: built from the first key frame's header (profile, bit depth, chroma, range) |
//! | AAC | raw frames (no ADTS) | [`CodecConfig::AudioSpecificConfig`] (required) |
//! | Opus | packets | [`CodecConfig::OpusHead`] (required) |
//!
//! Containers and codecs:
//!
//! | | H.264 | HEVC | AV1 | VP9 | AAC | Opus |
//! |---|---|---|---|---|---|---|
//! | [`MuxFormat::Mp4`], [`MuxFormat::FragmentedMp4`] | `avc1`+`avcC` | `hvc1`+`hvcC` | `av01`+`av1C` | `vp09`+`vpcC` | `mp4a`+`esds` | `Opus`+`dOps` |
//! | [`MuxFormat::Matroska`] | `V_MPEG4/ISO/AVC` | `V_MPEGH/ISO/HEVC` | `V_AV1` | `V_VP9` | `A_AAC` | `A_OPUS` |
//! | [`MuxFormat::WebM`] | — | — | `V_AV1` | `V_VP9` | — | `A_OPUS` |
//! | [`MuxFormat::Ivf`] (one track) | — | — | `AV01` | `VP90` | — | — |
//!
//! Anything else (other audio codecs, subtitles, data) is refused with
//! [`Error::Unsupported`] when the muxer is made.
//!
//! Timestamps are in each track's `time_base`. A packet without `dts` gets one (see
//! [`Muxer::write`]). Time zero of the output is the earliest
//! presentation start of any track, where a track's start is its
//! [`window`](Track::window) start when it has one, else its earliest `pts` (0 for audio
//! whose first `pts` is negative while no other track's is: encoder priming stays
//! hidden); offsets between tracks are kept. MP4 edit lists then show each track from its start: B-frame delay, an edit
//! list's hidden pre-roll, audio priming, a track starting late (an empty edit).
//!
//! Packets are interleaved by decode time across tracks, holding at most about 2 s (and
//! 64 MiB) of them: a track that runs further ahead, or one that ends
//! ([`Muxer::end_track`]), no longer holds back the others.
//!
//! ```no_run
//! use video_hw::media::Demuxer;
//! use video_hw::media::mux::{MuxFormat, Muxer};
//!
//! let mut demuxer = Demuxer::open("in.mp4")?;
//! let mut muxer = Muxer::create("out.mkv", MuxFormat::Matroska, demuxer.tracks())?;
//! while let Some(packet) = demuxer.next_packet()? {
//!     muxer.write(packet)?;
//! }
//! let stats = muxer.finish()?;
//! println!("{} bytes", stats.bytes);
//! # Ok::<(), video_hw::Error>(())
//! ```

mod config;
mod ebml;
mod fmp4;
mod interleave;
mod ivf;
mod mkv;
mod mp4;
mod mp4_boxes;
mod prepare;
mod sink;

pub use config::{OpusHead, aac_rate_channels, av1c_from_temporal_unit, record_from_annexb, vpcc_from_vp9_frame};
pub use prepare::REORDER_WINDOW;

use std::io::{Read, Seek, Write};
use std::path::Path;

use super::types::{AudioCodec, AudioInfo, CodecConfig, MediaPacket, Track, TrackCodec, TrackKind, VideoInfo};
use interleave::{Emitted, Interleaver, Limits, Ready, cmp_time};
use prepare::{Found, TrackInput};
use sink::Sink;
use video_hw_bitstream::avcc::DecoderConfigRecord;
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::{Error, Result};

/// An output the muxer can seek in and read back: a file opened for reading and
/// writing, a `Cursor<Vec<u8>>`. (MP4 reads its media data back once, to move it after
/// the `moov`.)
pub trait ReadWriteSeek: Read + Write + Seek + Send {}
impl<T: Read + Write + Seek + Send> ReadWriteSeek for T {}

/// The container to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MuxFormat {
    /// MP4 with the `moov` before the media data (progressive download, "faststart").
    /// Needs a seekable output.
    Mp4,
    /// Fragmented MP4: an empty `moov`, then a `moof`+`mdat` per fragment (one per video
    /// key frame, or about every 2 s without video; no longer than
    /// [`Muxer::fragment_duration`] when set). Plays while it is written.
    FragmentedMp4,
    /// Matroska (`.mkv`).
    Matroska,
    /// WebM: Matroska with the `webm` doc type, holding only VP9/AV1 and Opus.
    WebM,
    /// IVF (`.ivf`): one AV1 or VP9 video track, no audio.
    Ivf,
}

impl MuxFormat {
    /// The format a file name asks for: `.mp4`, `.m4v`, `.mov` → MP4, `.mkv` → Matroska,
    /// `.webm` → WebM, `.ivf` → IVF (case-insensitive).
    pub fn from_path(path: impl AsRef<Path>) -> Option<Self> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "mp4" | "m4v" | "mov" => Some(MuxFormat::Mp4),
            "mkv" => Some(MuxFormat::Matroska),
            "webm" => Some(MuxFormat::WebM),
            "ivf" => Some(MuxFormat::Ivf),
            _ => None,
        }
    }

    /// `mp4`, `fmp4`, `matroska`, `webm` or `ivf`.
    pub fn name(self) -> &'static str {
        match self {
            MuxFormat::Mp4 => "mp4",
            MuxFormat::FragmentedMp4 => "fmp4",
            MuxFormat::Matroska => "matroska",
            MuxFormat::WebM => "webm",
            MuxFormat::Ivf => "ivf",
        }
    }
}

impl std::fmt::Display for MuxFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a finished muxer wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MuxStats {
    /// Packets written per track, in the order the tracks were given.
    pub packets: Vec<u64>,
    /// Bytes of the output.
    pub bytes: u64,
}

/// The codecs the muxers write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutCodec {
    H264,
    Hevc,
    Av1,
    Vp9,
    Aac,
    Opus,
}

/// A track's configuration as the containers write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OutConfig {
    /// Not known (yet).
    Missing,
    /// `avcC`/`hvcC`.
    Nal(DecoderConfigRecord),
    /// `av1C` record.
    Av1C(Vec<u8>),
    /// `vpcC` body (version 1 fields, no full-box header).
    VpcC(Vec<u8>),
    /// AudioSpecificConfig.
    Aac(Vec<u8>),
    /// `OpusHead` bytes, and read.
    Opus(Vec<u8>, OpusHead),
}

/// One output track, resolved.
#[derive(Debug, Clone)]
pub(crate) struct OutTrack {
    /// The caller's `Track::index` (what packets name).
    pub index: usize,
    /// 1-based number in the output (MP4 `track_ID`, Matroska `TrackNumber`).
    pub number: u32,
    /// Video or audio.
    pub kind: TrackKind,
    /// The codec.
    pub codec: OutCodec,
    /// Its configuration.
    pub config: OutConfig,
    /// The packets' time base.
    pub time_base: Rational,
    /// Video facts.
    pub video: VideoInfo,
    /// Audio facts.
    pub audio: AudioInfo,
    /// ISO 639-2 or BCP 47.
    pub language: Option<String>,
    /// Presentation window of the source.
    pub window: Option<(i64, Option<i64>)>,
}

impl OutTrack {
    /// The first video track (fragments and clusters start at its key frames).
    pub fn primary_video(tracks: &[OutTrack]) -> Option<usize> {
        tracks.iter().position(|t| t.kind == TrackKind::Video)
    }
}

/// Where each track's presentation starts, from what is known of it: `(its window start,
/// its earliest pts)`, in one unit per track. A track with packets starts at its window
/// start where it has one, else at its earliest `pts`; but audio beginning before 0 while
/// no other track does starts at 0 (encoder priming, the source's edit list for it lost).
/// An MPEG-TS that starts just before a 33-bit wrap has every track before 0, and
/// nothing is hidden.
pub(crate) fn presentation_starts(tracks: &[OutTrack], seen: &[(Option<i64>, Option<i64>)]) -> Vec<Option<i64>> {
    let others_before_zero = tracks
        .iter()
        .zip(seen)
        .any(|(t, &(window, first))| t.kind != TrackKind::Audio && window.or(first).is_some_and(|p| p < 0));
    tracks
        .iter()
        .zip(seen)
        .map(|(t, &(window, first))| {
            let first = first?;
            Some(match window {
                Some(start) => start,
                None if t.kind == TrackKind::Audio && first < 0 && !others_before_zero => 0,
                None => first,
            })
        })
        .collect()
}

/// Time zero of the output: `value` ticks of `time_base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    pub value: i64,
    pub time_base: Rational,
}

impl Origin {
    /// Time zero in ticks of `tb` (rounded).
    pub fn in_base(&self, tb: Rational) -> i64 {
        tb.rescale(self.value, self.time_base)
    }

    /// The earliest of `starts` (value, time base), or 0.
    pub fn earliest(starts: impl Iterator<Item = (i64, Rational)>) -> Origin {
        let mut best: Option<Origin> = None;
        for (value, time_base) in starts {
            if best.is_none_or(|b| cmp_time(value, time_base, b.value, b.time_base).is_lt()) {
                best = Some(Origin { value, time_base });
            }
        }
        best.unwrap_or(Origin { value: 0, time_base: Rational::new(1, 1) })
    }
}

/// How the output starts, known when the header is written: time zero, and for each
/// track whose first packets are already in hand, its first decode timestamp and its
/// presentation start (track time base).
#[derive(Debug, Clone)]
pub(crate) struct Start {
    pub origin: Origin,
    pub tracks: Vec<Option<(i64, i64)>>,
}

/// What every container writer does.
pub(crate) trait ContainerWriter: Send {
    /// Writes the header: the configurations are known, and how the output starts.
    fn begin(&mut self, sink: &mut Sink, tracks: &[OutTrack], start: &Start) -> Result<()>;
    /// Writes one packet.
    fn packet(&mut self, sink: &mut Sink, tracks: &[OutTrack], e: Emitted) -> Result<()>;
    /// Writes what is left (tables, indexes, sizes).
    fn finish(&mut self, sink: &mut Sink, tracks: &[OutTrack]) -> Result<()>;
    /// Bounds a fragment's duration (fragmented MP4; the other containers have none).
    fn set_fragment_duration(&mut self, _max: std::time::Duration) {}
    /// See [`Muxer::durable_len`].
    fn durable(&self) -> Option<u64> {
        None
    }
}

/// Writes a container: tracks first, then packets of any track, then
/// [`finish`](Self::finish). See the [module docs](self) for what it takes.
///
/// After an error from [`write`](Self::write) the output is incomplete; drop the muxer.
pub struct Muxer {
    format: MuxFormat,
    sink: Sink,
    tracks: Vec<OutTrack>,
    inputs: Vec<TrackInput>,
    ended: Vec<bool>,
    interleaver: Interleaver,
    writer: Box<dyn ContainerWriter>,
    started: bool,
    written: Vec<u64>,
    scratch: Vec<Ready>,
}

impl std::fmt::Debug for Muxer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Muxer").field("format", &self.format).field("tracks", &self.tracks.len()).finish()
    }
}

impl Muxer {
    /// Creates (or truncates) the file at `path` and writes `format` into it. The tracks
    /// are checked first: a muxer refused leaves no file behind.
    pub fn create(path: impl AsRef<Path>, format: MuxFormat, tracks: &[Track]) -> Result<Self> {
        let path = path.as_ref();
        let tracks = resolve(format, tracks)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))?;
        Self::build(Sink::seekable(Box::new(file))?, format, tracks)
    }

    /// Writes `format` into a seekable output, from its current position.
    ///
    /// `tracks` are the output's tracks; each one's [`Track::index`] is the number its
    /// packets carry (indices must differ). Used of each: kind, codec, configuration,
    /// time base, frame rate (for packets without timestamps), video size, aspect ratio
    /// and rotation, audio rate and channels, language, and presentation window.
    pub fn new(writer: Box<dyn ReadWriteSeek>, format: MuxFormat, tracks: &[Track]) -> Result<Self> {
        let tracks = resolve(format, tracks)?;
        Self::build(Sink::seekable(writer)?, format, tracks)
    }

    /// Writes `format` into an output that cannot seek (a pipe, a socket, a growing
    /// buffer): fragmented MP4, or Matroska/WebM with an unknown-size segment and
    /// clusters (no cues or duration). What is written plays while it grows.
    pub fn streaming(writer: Box<dyn Write + Send>, format: MuxFormat, tracks: &[Track]) -> Result<Self> {
        if format == MuxFormat::Mp4 {
            return Err(Error::unsupported(
                "MP4 to an output that cannot seek",
                "the moov goes before the media data once it is all known; use FragmentedMp4",
            ));
        }
        let tracks = resolve(format, tracks)?;
        Self::build(Sink::stream(writer), format, tracks)
    }

    fn build(sink: Sink, format: MuxFormat, tracks: Vec<(OutTrack, Option<Rational>, bool)>) -> Result<Self> {
        let writer: Box<dyn ContainerWriter> = match format {
            MuxFormat::Mp4 => Box::new(mp4::Mp4Writer::new(tracks.len())),
            MuxFormat::FragmentedMp4 => Box::new(fmp4::FragmentWriter::new(tracks.len())),
            MuxFormat::Matroska | MuxFormat::WebM => {
                Box::new(mkv::MkvWriter::new(format == MuxFormat::WebM, tracks.len()))
            }
            MuxFormat::Ivf => Box::new(ivf::IvfWriter::new()),
        };
        let inputs = tracks
            .iter()
            .enumerate()
            .map(|(slot, (t, rate, annexb))| {
                let find = t.config == OutConfig::Missing;
                TrackInput::new(slot, t.index, t.codec, *annexb, find, t.time_base, *rate)
            })
            .collect();
        let tracks: Vec<OutTrack> = tracks.into_iter().map(|(t, _, _)| t).collect();
        let interleaver = Interleaver::new(tracks.iter().map(|t| t.time_base).collect(), Limits::default());
        Ok(Muxer {
            format,
            sink,
            ended: vec![false; tracks.len()],
            written: vec![0; tracks.len()],
            tracks,
            inputs,
            interleaver,
            writer,
            started: false,
            scratch: Vec::new(),
        })
    }

    /// Fragmented MP4: a fragment lasts at most `max` (of decode time), cut there even
    /// between key frames (its first sample is then not a sync sample, and says so), so
    /// that a reader, or what is left when the writer is killed, lags by at most `max`.
    /// Without it fragments are cut at the first video track's key frames only. Other
    /// formats ignore it. A zero `max` is taken as one tick.
    pub fn fragment_duration(mut self, max: std::time::Duration) -> Self {
        self.writer.set_fragment_duration(max);
        self
    }

    /// How much of the output is a readable file on its own, should nothing after it be
    /// kept (a write failed: disk full; the process was killed): for fragmented MP4 the
    /// header and every fragment written whole, for Matroska/WebM the header and every
    /// cluster closed (an unknown-size segment, no cues), each handed to the output in
    /// full as it is done. `None` where no prefix is readable yet, or ever: plain MP4
    /// writes its index last, IVF's header counts the frames at the end. Counted from
    /// where the output was when the muxer took it; a caller that owns the file truncates
    /// it to this after a failed write, dropping the muxer first.
    pub fn durable_len(&self) -> Option<u64> {
        self.writer.durable()
    }

    fn slot(&self, index: usize) -> Result<usize> {
        self.tracks.iter().position(|t| t.index == index).ok_or_else(|| {
            let known: Vec<String> = self.tracks.iter().map(|t| t.index.to_string()).collect();
            Error::invalid_input(format!(
                "packet for track {index}, which the muxer does not have ({})",
                known.join(", ")
            ))
        })
    }

    /// Takes one packet of any track; each track's packets must come in its decode order.
    ///
    /// A packet without `dts`: when the track's packets have only `pts` (Matroska),
    /// decode timestamps are derived from their order ([`REORDER_WINDOW`] packets are
    /// held for it); when they have none at all (raw streams), they follow one another
    /// by the packet's duration or the track's frame rate, with `pts = dts`.
    ///
    /// Errors: a track the muxer was not given, a track already ended, decode
    /// timestamps that do not increase, a `pts` reordered further back than the window.
    pub fn write(&mut self, packet: MediaPacket) -> Result<()> {
        let slot = self.slot(packet.track)?;
        if self.ended[slot] {
            return Err(Error::invalid_input(format!("packet for track {} after its end", packet.track)));
        }
        let mut ready = std::mem::take(&mut self.scratch);
        let pushed = self.inputs[slot].push(packet, &mut ready);
        for r in ready.drain(..) {
            self.interleaver.push(r);
        }
        self.scratch = ready;
        pushed?;
        self.pump()
    }

    /// Says that track `index` has no more packets: the others no longer wait for it.
    pub fn end_track(&mut self, index: usize) -> Result<()> {
        let slot = self.slot(index)?;
        self.end_slot(slot);
        self.pump()
    }

    fn end_slot(&mut self, slot: usize) {
        if !self.ended[slot] {
            self.ended[slot] = true;
            let mut ready = Vec::new();
            self.inputs[slot].flush(&mut ready);
            for r in ready {
                self.interleaver.push(r);
            }
            self.interleaver.end(slot);
        }
    }

    /// Writes what the interleaver lets go.
    fn pump(&mut self) -> Result<()> {
        loop {
            if !self.started && !self.begin_ready() {
                return Ok(());
            }
            let Some(e) = self.interleaver.pop() else { return Ok(()) };
            if !self.started {
                self.begin(Some(&e))?;
            }
            self.written[e.packet.slot] += 1;
            self.writer.packet(&mut self.sink, &self.tracks, e)?;
        }
    }

    /// The header waits while a track whose configuration comes from its packets has
    /// none yet and has not ended (bounded by the interleaver's limits all the same).
    fn begin_ready(&self) -> bool {
        let waiting = self.tracks.iter().enumerate().any(|(s, t)| {
            t.config == OutConfig::Missing
                && needs_config(t.codec, self.format)
                && self.inputs[s].found.is_none()
                && !self.ended[s]
        });
        !waiting || self.interleaver.bytes() > Limits::default().max_bytes / 2
    }

    /// Writes the header; `first` is the packet about to be written (the earliest).
    fn begin(&mut self, first: Option<&Emitted>) -> Result<()> {
        for (slot, t) in self.tracks.iter_mut().enumerate() {
            if t.config == OutConfig::Missing {
                t.config = match self.inputs[slot].found.clone() {
                    Some(Found::Nal(r)) => OutConfig::Nal(r),
                    Some(Found::Av1C(c)) => OutConfig::Av1C(c),
                    Some(Found::VpcC(c)) => OutConfig::VpcC(c),
                    None => OutConfig::Missing,
                };
            }
            if needs_config(t.codec, self.format) && t.config == OutConfig::Missing {
                let what = match t.codec {
                    OutCodec::H264 | OutCodec::Hevc => "no parameter sets (SPS/PPS) in its first packets",
                    OutCodec::Av1 => "no sequence header in its first packets",
                    _ => "no key frame among its first packets to read the profile and bit depth from",
                };
                return Err(Error::invalid_input(format!(
                    "track {}: {} needs a configuration record in {}; none was given and {what}",
                    t.index,
                    codec_name(t.codec),
                    self.format
                )));
            }
        }
        let mut first_dts = Vec::with_capacity(self.tracks.len());
        let mut seen = Vec::with_capacity(self.tracks.len());
        for (slot, t) in self.tracks.iter().enumerate() {
            let first = first.filter(|e| e.packet.slot == slot).map(|e| &e.packet);
            let mut queued = first.into_iter().chain(self.interleaver.queued(slot)).peekable();
            first_dts.push(queued.peek().map(|p| p.dts));
            seen.push((t.window.map(|w| w.0), queued.map(|p| p.pts).min()));
        }
        let presentation = presentation_starts(&self.tracks, &seen);
        let starts: Vec<Option<(i64, i64)>> = first_dts.into_iter().zip(presentation).map(|(d, p)| d.zip(p)).collect();
        let origin =
            Origin::earliest(self.tracks.iter().zip(&starts).filter_map(|(t, s)| s.map(|(_, p)| (p, t.time_base))));
        self.started = true;
        self.writer.begin(&mut self.sink, &self.tracks, &Start { origin, tracks: starts })
    }

    /// Writes every packet still held, the indexes and tables, and flushes.
    pub fn finish(mut self) -> Result<MuxStats> {
        for slot in 0..self.tracks.len() {
            self.end_slot(slot);
        }
        self.pump()?;
        if !self.started {
            self.begin(None)?;
        }
        self.writer.finish(&mut self.sink, &self.tracks)?;
        let bytes = self.sink.finish()?;
        Ok(MuxStats { packets: self.written, bytes })
    }
}

/// True when `format` cannot be written without the codec's configuration record
/// (Matroska's VP9 has none, IVF none at all; everything else needs one).
fn needs_config(codec: OutCodec, format: MuxFormat) -> bool {
    format != MuxFormat::Ivf && !(codec == OutCodec::Vp9 && matches!(format, MuxFormat::Matroska | MuxFormat::WebM))
}

fn codec_name(c: OutCodec) -> &'static str {
    match c {
        OutCodec::H264 => "H.264",
        OutCodec::Hevc => "HEVC",
        OutCodec::Av1 => "AV1",
        OutCodec::Vp9 => "VP9",
        OutCodec::Aac => "AAC",
        OutCodec::Opus => "Opus",
    }
}

/// Checks the tracks against the container and resolves them: the output track, its
/// frame rate, and whether its H.264/HEVC packets are Annex-B.
fn resolve(format: MuxFormat, tracks: &[Track]) -> Result<Vec<(OutTrack, Option<Rational>, bool)>> {
    if tracks.is_empty() {
        return Err(Error::invalid_input("a muxer needs at least one track"));
    }
    if tracks.len() > 126 {
        return Err(Error::invalid_input(format!("{} tracks (at most 126)", tracks.len())));
    }
    let mut out = Vec::with_capacity(tracks.len());
    for (n, t) in tracks.iter().enumerate() {
        if tracks[..n].iter().any(|o| o.index == t.index) {
            return Err(Error::invalid_input(format!("two tracks have index {}", t.index)));
        }
        let fail = |why: String| Error::invalid_input(format!("track {}: {why}", t.index));
        let tb = t.time_base;
        if tb.num <= 0 || tb.den <= 0 || tb.num > i64::from(i32::MAX) || tb.den > i64::from(i32::MAX) {
            return Err(fail(format!("time base {tb} (numerator and denominator from 1 to 2^31-1)")));
        }
        let codec = match (&t.kind, &t.codec) {
            (TrackKind::Video, TrackCodec::Video(Codec::H264)) => OutCodec::H264,
            (TrackKind::Video, TrackCodec::Video(Codec::Hevc)) => OutCodec::Hevc,
            (TrackKind::Video, TrackCodec::Video(Codec::Av1)) => OutCodec::Av1,
            (TrackKind::Video, TrackCodec::Video(Codec::Vp9)) => OutCodec::Vp9,
            (TrackKind::Audio, TrackCodec::Audio(AudioCodec::Aac)) => OutCodec::Aac,
            (TrackKind::Audio, TrackCodec::Audio(AudioCodec::Opus)) => OutCodec::Opus,
            (kind, codec) => {
                return Err(Error::unsupported(
                    format!("{} track {} ({codec}) in {format}", kind.name(), t.index),
                    "the muxers write H.264, HEVC, AV1 and VP9 video and AAC and Opus audio",
                ));
            }
        };
        if format == MuxFormat::WebM && !matches!(codec, OutCodec::Av1 | OutCodec::Vp9 | OutCodec::Opus) {
            return Err(Error::unsupported(
                format!("{} in WebM (track {})", codec_name(codec), t.index),
                "WebM holds VP8/VP9/AV1 video and Opus/Vorbis audio; use Matroska or MP4",
            ));
        }
        let mut annexb = false;
        let config = match (codec, &t.config) {
            (OutCodec::H264 | OutCodec::Hevc, CodecConfig::Nal(r)) => {
                let want = if codec == OutCodec::H264 { Codec::H264 } else { Codec::Hevc };
                if r.codec != want {
                    return Err(fail(format!("{} record for a {} track", r.codec, codec_name(codec))));
                }
                OutConfig::Nal(r.clone())
            }
            (OutCodec::H264 | OutCodec::Hevc, CodecConfig::Raw(b)) => {
                let want = if codec == OutCodec::H264 { Codec::H264 } else { Codec::Hevc };
                OutConfig::Nal(
                    DecoderConfigRecord::parse(want, b).map_err(|e| e.context(format!("track {}", t.index)))?,
                )
            }
            (OutCodec::H264 | OutCodec::Hevc, CodecConfig::None) => {
                annexb = true;
                OutConfig::Missing
            }
            (OutCodec::Av1, CodecConfig::Av1C(b) | CodecConfig::Raw(b)) if b.len() >= 4 && b[0] == 0x81 => {
                OutConfig::Av1C(b.clone())
            }
            (OutCodec::Av1, _) => OutConfig::Missing,
            // MP4's vpcC as the demuxer gives it (with its full-box header), or the bare body.
            (OutCodec::Vp9, CodecConfig::VpcC(b)) if b.len() >= 12 && b[0] == 1 => OutConfig::VpcC(b[4..].to_vec()),
            (OutCodec::Vp9, CodecConfig::VpcC(b)) if b.len() >= 8 => OutConfig::VpcC(b.clone()),
            (OutCodec::Vp9, _) => OutConfig::Missing,
            (OutCodec::Aac, CodecConfig::AudioSpecificConfig(b) | CodecConfig::Raw(b)) if b.len() >= 2 => {
                OutConfig::Aac(b.clone())
            }
            (OutCodec::Aac, _) => {
                return Err(fail("AAC needs its AudioSpecificConfig (CodecConfig::AudioSpecificConfig)".into()));
            }
            (OutCodec::Opus, CodecConfig::OpusHead(b) | CodecConfig::Raw(b)) => {
                OutConfig::Opus(b.clone(), OpusHead::parse(b).map_err(|e| e.context(format!("track {}", t.index)))?)
            }
            (OutCodec::Opus, _) => {
                return Err(fail("Opus needs its identification header (CodecConfig::OpusHead)".into()));
            }
            (_, other) => return Err(fail(format!("configuration {other:?} does not fit {}", codec_name(codec)))),
        };
        let mut video = t.video.unwrap_or_default();
        let mut audio = t.audio.unwrap_or_default();
        if t.kind == TrackKind::Video && (video.width == 0 || video.height == 0) {
            return Err(fail("a video track needs its size (Track::video width and height)".into()));
        }
        if video.width > 65535 || video.height > 65535 {
            return Err(fail(format!("size {}x{} (at most 65535 each way)", video.width, video.height)));
        }
        if video.rotation % 90 != 0 {
            video.rotation = 0;
        }
        if t.kind == TrackKind::Audio {
            let stated = match &config {
                OutConfig::Aac(asc) => aac_rate_channels(asc),
                OutConfig::Opus(_, h) => Some((48000, u16::from(h.channels))),
                _ => None,
            };
            if let Some((rate, channels)) = stated {
                if audio.sample_rate == 0 {
                    audio.sample_rate = rate;
                }
                if audio.channels == 0 {
                    audio.channels = channels;
                }
            }
            if audio.sample_rate == 0 || audio.channels == 0 {
                return Err(fail("an audio track needs its sample rate and channels (Track::audio)".into()));
            }
        }
        out.push((
            OutTrack {
                index: t.index,
                number: n as u32 + 1,
                kind: t.kind,
                codec,
                config,
                time_base: tb,
                video,
                audio,
                language: t.language.clone(),
                window: t.window,
            },
            t.frame_rate,
            annexb,
        ));
    }
    if format == MuxFormat::Ivf {
        ivf::check_tracks(&out.iter().map(|(t, _, _)| t.codec).collect::<Vec<_>>())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(kind: TrackKind) -> OutTrack {
        OutTrack {
            index: 0,
            number: 1,
            kind,
            codec: if kind == TrackKind::Audio { OutCodec::Aac } else { OutCodec::H264 },
            config: OutConfig::Missing,
            time_base: Rational::new(1, 1000),
            video: VideoInfo::default(),
            audio: AudioInfo::default(),
            language: None,
            window: None,
        }
    }

    #[test]
    fn audio_priming_is_hidden_unless_everything_starts_before_zero() {
        let tracks = [track(TrackKind::Video), track(TrackKind::Audio)];
        // Encoder priming: audio from -21 ms, video from 0.
        assert_eq!(presentation_starts(&tracks, &[(None, Some(0)), (None, Some(-21))]), [Some(0), Some(0)]);
        // A stream just before a 33-bit wrap: both negative, nothing hidden.
        assert_eq!(
            presentation_starts(&tracks, &[(None, Some(-2080)), (None, Some(-2100))]),
            [Some(-2080), Some(-2100)]
        );
        // A window wins; a track without packets has no start.
        assert_eq!(presentation_starts(&tracks, &[(Some(280), Some(0)), (None, None)]), [Some(280), None]);
        // Audio alone.
        assert_eq!(presentation_starts(&tracks[1..], &[(None, Some(-21))]), [Some(0)]);
        let origin = Origin::earliest([(3, Rational::new(1, 25)), (5000, Rational::new(1, 48000))].into_iter());
        assert_eq!((origin.value, origin.in_base(Rational::new(1, 1000))), (5000, 104));
    }
}
