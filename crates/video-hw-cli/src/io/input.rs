//! Streams to decode: raw Annex-B (`.h264`, `.h265`, …; the codec from the name, else
//! from the content) read in chunks, or the default video track (the largest) of a container the library
//! reads (MP4/MOV, fragmented MP4, Matroska, WebM, MPEG-TS, M2TS, AVI, IVF; found from the
//! content) fed packet by packet as the container gives it. `-` reads Annex-B or IVF from
//! standard input (a container needs a file: it is read out of order). The source becomes
//! the input of a decode pipeline ([`Source::into_inputs`]), read on the pipeline's thread.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use video_hw::bitstream::access_unit::StreamInfo;
use video_hw::bitstream::avcc::DecoderConfigRecord;
use video_hw::bitstream::detect::{codec_from_extension, detect_codec};
use video_hw::media::{Container, Demuxer, IvfStream, Track};
use video_hw::pipeline::DecodeInput;
use video_hw::{Codec, Error, Rational, Result};

use crate::exit::{CliResult, usage};
use crate::io::follow::{self, FollowState, GrowingFile};

/// Bytes of Annex-B handed to the decoder at a time.
const CHUNK: usize = 256 << 10;

enum Kind {
    AnnexB {
        reader: Box<dyn Read + Send>,
        first: Option<Vec<u8>>,
        path: Option<PathBuf>,
        /// Each read hands on what is there, not a whole chunk: `--follow` (the reader
        /// waits at the end) and stdin with `--timeout` (bytes before a stall are kept).
        as_it_comes: bool,
    },
    /// A container read by the library's demuxer: its default video track (the largest).
    Media {
        demuxer: Box<Demuxer>,
        track: Box<Track>,
        /// `--follow`: read again as the file grows (the video, and the audio a transcode
        /// copies).
        follow: Option<Box<FollowState>>,
    },
    /// IVF from standard input (files go through the demuxer), read front to back.
    Ivf(Box<IvfStream<Box<dyn Read + Send>>>),
}

/// A stream to decode.
pub struct Source {
    kind: Kind,
    codec: Codec,
    position: u64,
    total: Option<u64>,
    sar: Option<Rational>,
    /// A container spooled from stdin whose sender stalled past `--timeout`: the error
    /// that ends the input after what came (reported as the input's break).
    stalled: Option<Error>,
}

/// The sample aspect ratio of the first H.264 SPS among `nals` (VUI), if it gives one.
fn h264_sar<'a>(nals: impl IntoIterator<Item = &'a [u8]>) -> Option<Rational> {
    let sps = nals.into_iter().find(|n| n.first().is_some_and(|b| b & 0x1f == 7))?;
    let (w, h) = video_hw::bitstream::h264::parse_sps(sps).ok()?.vui?.sar?;
    (w > 0 && h > 0).then(|| Rational::new(w as i64, h as i64).reduced())
}

/// The NAL units of an Annex-B prefix (the last one may be cut short).
fn annexb_nals(prefix: &[u8]) -> Vec<Vec<u8>> {
    let mut nals = Vec::new();
    let mut splitter = video_hw::bitstream::annexb::AnnexBSplitter::new();
    let _ = splitter.push(prefix, None, |n| nals.push(n.data.to_vec()));
    splitter.finish(|n| nals.push(n.data.to_vec()));
    nals
}

fn is_mp4_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "mp4" | "mov" | "m4v" | "3gp"))
}

/// Copies `first` and the rest of `rest` into an anonymous temporary file (removed when
/// closed) and rewinds it; its length in bytes, and the `--timeout` error that ended the
/// copy early (a sender that stalled: what came is kept, to be read as a cut file).
fn spool(first: Vec<u8>, rest: &mut dyn Read) -> CliResult<(File, u64, Option<Error>)> {
    use std::io::{ErrorKind, Seek, SeekFrom, Write};
    let io = |e: std::io::Error| {
        Error::Io(std::io::Error::new(e.kind(), format!("spooling stdin to a temporary file: {e}")))
    };
    let mut file = tempfile::tempfile().map_err(io)?;
    file.write_all(&first).map_err(io)?;
    let mut len = first.len() as u64;
    let mut buf = vec![0u8; 256 << 10];
    let stalled = loop {
        match rest.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => {
                file.write_all(&buf[..n]).map_err(io)?;
                len += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::TimedOut => break Some(Error::Io(e)),
            Err(e) => return Err(io(e).into()),
        }
    };
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok((file, len, stalled))
}

/// One read of at most `n` bytes (fewer when fewer are there; none at the end).
fn read_some(r: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    let got = loop {
        match r.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    buf.truncate(got);
    Ok(buf)
}

fn read_chunk(r: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Why an AV1/VP9 input cannot go through `decode --sessions` (checked before a decoder
/// is opened, and again where the stream is read whole).
pub const NOT_NAL_STREAM: &str = "--sessions needs an H.264/HEVC stream, not AV1 or VP9";

impl Source {
    /// The whole stream in memory as Annex-B (what is left of it), for decoders that need
    /// all of it at once: a raw stream as it is, an MP4 track's parameter sets and samples
    /// converted. A sample that cannot be read or converted ends the stream there and is
    /// returned as the second value (the stream broke); IVF input is a usage error.
    pub fn into_annexb_bytes(self) -> CliResult<(Vec<u8>, Option<Error>)> {
        match self.kind {
            Kind::AnnexB { mut reader, first, .. } => {
                let mut data = first.unwrap_or_default();
                reader.read_to_end(&mut data).map_err(Error::from)?;
                Ok((data, None))
            }
            Kind::Media { mut demuxer, track, .. } if track.codec.video().is_some_and(Codec::is_nal_based) => {
                let record = track.config.record();
                let mut data = record.map(DecoderConfigRecord::parameter_sets_annexb).unwrap_or_default();
                loop {
                    let packet = match demuxer.next_packet() {
                        Ok(Some(p)) => p,
                        Ok(None) => return Ok((data, None)),
                        Err(e) => return Ok((data, Some(e))),
                    };
                    if packet.track != track.index {
                        continue;
                    }
                    let converted = match record {
                        Some(r) => {
                            video_hw::bitstream::avcc::length_prefixed_to_annexb(&packet.data, r.length_size, &mut data)
                        }
                        None => {
                            data.extend_from_slice(&packet.data);
                            Ok(())
                        }
                    };
                    if let Err(e) = converted {
                        return Ok((data, Some(e)));
                    }
                }
            }
            Kind::Media { .. } => Err(usage(NOT_NAL_STREAM)),
            Kind::Ivf(_) => Err(usage(NOT_NAL_STREAM)),
        }
    }

    /// Opens `path` (`-` for stdin) and finds out what it holds. With `timeout`, stdin's sender may be silent for at most that
    /// long at a time (`io::stdin`): then the input ends with a `TimedOut` error (exit 7)
    /// after the frames before it. Raw Annex-B is then handed on as it comes, so that
    /// nothing received before a stall is held back.
    pub fn open(path: &Path, timeout: Option<Duration>) -> CliResult<Source> {
        let stdin = path.as_os_str() == "-";
        let (mut reader, total): (Box<dyn Read + Send>, Option<u64>) = if stdin {
            (crate::io::stdin::open(timeout).map_err(Error::from)?, None)
        } else {
            let f = crate::exit::open_input(path)?;
            let len = f.metadata().ok().map(|m| m.len());
            (Box::new(f), len)
        };
        let first = if timeout.is_some() {
            // What came before a stall is kept; the stall is the next read's error.
            let (first, stalled) = crate::io::stdin::read_upto(&mut *reader, CHUNK)?;
            if stalled.is_some() {
                reader = Box::new(crate::io::stdin::ErrorNext { error: stalled, inner: reader });
            }
            first
        } else {
            read_chunk(&mut *reader, CHUNK)?
        };
        if first.is_empty() {
            return Err(Error::invalid_input(format!("{}: empty input", path.display())).into());
        }
        match video_hw::media::detect(&first) {
            Some(Container::Ivf) if stdin => {
                let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(first).chain(reader));
                let stream = IvfStream::new(reader).map_err(|e| e.context("IVF from stdin"))?;
                let Some(codec) = stream.header().codec.video() else {
                    return Err(Error::invalid_input(format!(
                        "IVF from stdin with FourCC '{}': no video codec the decoders know (AV01, VP90, VP80)",
                        stream.header().codec
                    ))
                    .into());
                };
                // AV1 states no aspect ratio; libdav1d derives it from the render size, 1:1
                // unless the render size differs from the frame size (rare; not read here).
                let sar = (codec == Codec::Av1).then(|| Rational::new(1, 1));
                let position = stream.position();
                return Ok(Source { kind: Kind::Ivf(Box::new(stream)), codec, position, total, sar, stalled: None });
            }
            Some(c) if stdin && c != Container::AnnexB => {
                // A container is read out of order (an MP4's index may come last, after its
                // samples), so stdin goes to an anonymous temporary file first: on disk, not
                // in memory, and gone when the job ends.
                let (spool, len, stalled) = spool(first, &mut *reader)?;
                let demuxer = match Demuxer::from_reader(spool) {
                    Ok(d) => d,
                    // Cut by a stall before its headers (an MP4 whose moov comes last): the
                    // stall is what went wrong.
                    Err(e) => return Err(stalled.unwrap_or_else(|| e.context(format!("{c} from stdin"))).into()),
                };
                let mut src = Self::open_demuxer(demuxer, "stdin", Some(len))?;
                src.stalled = stalled;
                return Ok(src);
            }
            Some(c) if c != Container::AnnexB => {
                drop(reader);
                let demuxer = Demuxer::open(path).map_err(|e| e.context(path.display()))?;
                return Self::open_demuxer(demuxer, &path.display().to_string(), total);
            }
            _ => {}
        }
        Self::annexb(path, reader, first, total, timeout.is_some())
    }

    /// Opens `path`, a file that may still be being written, to be read as it grows
    /// (`decode --follow`, `transcode --follow`; see [`crate::io::follow`]): raw Annex-B,
    /// or a container (MPEG-TS, fragmented MP4) whose packets are read again past each end.
    /// Waits for its first bytes, and for its headers, while it grows; with `audio` (a
    /// transcode copies it) also for its audio tracks' facts.
    pub fn open_followed(path: &Path, timeout: Duration, audio: bool) -> CliResult<Source> {
        let file = crate::exit::open_input(path)?;
        if follow::wait_for_len(&file, follow::FIRST_BYTES, timeout) == 0 {
            let e = format!("{}: empty input (and it did not grow within {} s)", path.display(), timeout.as_secs_f64());
            return Err(Error::invalid_input(e).into());
        }
        let first = read_chunk(&mut &file, CHUNK)?;
        match video_hw::media::detect(&first) {
            Some(c) if c != Container::AnnexB => {
                let demuxer = if audio {
                    follow::open_demuxer_with_facts(path, &file, timeout)
                } else {
                    follow::open_demuxer(path, &file, timeout)
                };
                let demuxer = demuxer.map_err(|e| e.context(path.display()))?;
                let mut src = Self::open_demuxer(demuxer, &path.display().to_string(), None)?;
                if let Kind::Media { track, follow, .. } = &mut src.kind {
                    *follow = Some(Box::new(FollowState::new(path, file, track.index, timeout)));
                }
                Ok(src)
            }
            _ => Self::annexb(path, Box::new(GrowingFile::new(file, path, timeout)), first, None, true),
        }
    }

    /// A raw Annex-B stream whose first bytes, `first`, were read from `reader`.
    fn annexb(
        path: &Path,
        reader: Box<dyn Read + Send>,
        first: Vec<u8>,
        total: Option<u64>,
        as_it_comes: bool,
    ) -> CliResult<Source> {
        let stdin = path.as_os_str() == "-";
        if is_mp4_name(path) {
            return Err(Error::invalid_input(format!("{}: not an MP4 file", path.display())).into());
        }
        let Some(found) = detect_codec(&first) else {
            return Err(Error::invalid_bitstream(
                0,
                format!("{}: no H.264 or HEVC NAL units in the first {} bytes", path.display(), first.len()),
            )
            .into());
        };
        let codec = codec_from_extension(path).unwrap_or(found);
        let sar = (codec == Codec::H264).then(|| h264_sar(annexb_nals(&first).iter().map(|n| &n[..]))).flatten();
        let path = (!stdin).then(|| path.to_path_buf());
        Ok(Source {
            kind: Kind::AnnexB { reader, first: Some(first), path, as_it_comes },
            codec,
            position: 0,
            total,
            stalled: None,
            sar,
        })
    }

    /// Picks the default video track (the largest the decoders know) of an opened container (`name` says
    /// where it came from, for messages).
    fn open_demuxer(demuxer: Demuxer, name: &str, total: Option<u64>) -> CliResult<Source> {
        let Some(track) = demuxer.video_track().cloned() else {
            let what = demuxer.tracks().iter().map(|t| format!("{} {}", t.kind.name(), t.codec)).collect::<Vec<_>>();
            return Err(demuxer
                .no_video_error()
                .context(format!(
                    "{name}: the {} holds {}",
                    demuxer.container(),
                    if what.is_empty() { "no track".into() } else { what.join(", ") }
                ))
                .into());
        };
        let codec = track.codec.video().unwrap_or(Codec::H264);
        let stated = track.video.and_then(|v| v.sample_aspect).map(Rational::reduced);
        let sar = match codec {
            Codec::H264 => {
                stated.or_else(|| track.config.record().and_then(|r| h264_sar(r.parameter_sets.iter().map(|p| &p[..]))))
            }
            Codec::Av1 => Some(Rational::new(1, 1)),
            _ => stated,
        };
        let kind = Kind::Media { demuxer: Box::new(demuxer), track: Box::new(track), follow: None };
        Ok(Source { kind, codec, position: 0, total, sar, stalled: None })
    }

    /// The facts of an H.264/HEVC stream from its parameter sets (chroma format, depth):
    /// a container's from its first picture (read again from the start afterwards), a raw
    /// stream's from the bytes read at open. `None` for other codecs, for a file followed
    /// as it grows, and where the headers are not in those first bytes.
    pub fn stream_info(&mut self) -> Option<StreamInfo> {
        use video_hw::bitstream::access_unit::AccessUnitAssembler;
        use video_hw::bitstream::annexb::NalRef;
        match &mut self.kind {
            Kind::Media { demuxer, track, follow: None } => demuxer.stream_info(track.index).ok().flatten(),
            Kind::AnnexB { first: Some(first), .. } if self.codec.is_nal_based() => {
                let mut asm = AccessUnitAssembler::new(self.codec).ok()?.collect_data(false);
                for nal in annexb_nals(first) {
                    asm.push_nal(NalRef { data: &nal, offset: 0, pts: None });
                }
                asm.end_access_unit();
                while asm.pop().is_some() {}
                asm.first_stream_info().cloned()
            }
            _ => None,
        }
    }

    /// The stream's codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The decoder's extradata for a codec only the FFmpeg engine decodes
    /// ([`Track::extradata`](video_hw::media::Track::extradata)); `None` otherwise.
    pub fn extradata(&self) -> Option<Vec<u8>> {
        match &self.kind {
            Kind::Media { track, .. } => track.extradata(),
            _ => None,
        }
    }

    /// The picture size the container states, for the decoders that need it before their
    /// first packet (`DecoderConfig::picture_size`).
    pub fn stated_size(&self) -> Option<(u32, u32)> {
        match &self.kind {
            Kind::Media { track, .. } => track.video.map(|v| (v.width, v.height)),
            _ => None,
        }
    }

    /// The container: `mp4`, `matroska`, `webm`, `mpegts`, `ivf` or `annexb`.
    pub fn container(&self) -> &'static str {
        match &self.kind {
            Kind::Media { demuxer, .. } => demuxer.container().name(),
            Kind::Ivf(_) => "ivf",
            Kind::AnnexB { .. } => "annexb",
        }
    }

    /// Timebase of the timestamps fed with the input (the container track's; Annex-B
    /// carries none, so 90 kHz).
    pub fn timebase(&self) -> Rational {
        match &self.kind {
            Kind::Media { track, .. } => track.time_base,
            Kind::Ivf(stream) => stream.header().time_base,
            Kind::AnnexB { .. } => Rational::MPEG_90K,
        }
    }

    /// The frame rate the container states (MP4 sample durations, Matroska default
    /// durations), if any.
    pub fn frame_rate(&self) -> Option<Rational> {
        match &self.kind {
            Kind::Media { track, .. } => track.frame_rate,
            Kind::AnnexB { .. } | Kind::Ivf(_) => None,
        }
    }

    /// The audio tracks of a container input.
    pub fn audio_tracks(&self) -> Vec<Track> {
        match &self.kind {
            Kind::Media { demuxer, .. } => {
                demuxer.tracks().iter().filter(|t| t.kind == video_hw::media::TrackKind::Audio).cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    /// Which frames are shown (kept once the source has gone to a pipeline).
    pub fn window(&self) -> Window {
        match &self.kind {
            Kind::Media { track, .. } => Window(track.window),
            _ => Window(None),
        }
    }

    /// The displayed picture size a container states for the video track, if any.
    pub fn picture_size(&self) -> Option<(u32, u32)> {
        match &self.kind {
            Kind::Media { track, .. } => track.video.map(|v| (v.width, v.height)).filter(|&(w, h)| w > 0 && h > 0),
            _ => None,
        }
    }

    /// Degrees counter-clockwise the container's display matrix turns the picture (0 where
    /// it says nothing).
    pub fn rotation(&self) -> u16 {
        match &self.kind {
            Kind::Media { track, .. } => track.video.map_or(0, |v| v.rotation),
            _ => 0,
        }
    }

    /// The sample aspect ratio the stream states (H.264 VUI; 1:1 for AV1), if any.
    pub fn sar(&self) -> Option<Rational> {
        self.sar
    }

    /// Bytes (Annex-B) or file position (MP4) consumed so far, and the total if known.
    pub fn progress(&self) -> (u64, Option<u64>) {
        (self.position, self.total)
    }

    /// What it takes to tell, when no engine can decode the stream, whether its headers
    /// are broken anyway ([`HeaderCheck::header_error`]), kept once the source has gone
    /// to a pipeline.
    pub fn header_check(&self) -> HeaderCheck {
        let path = match &self.kind {
            Kind::AnnexB { path, .. } => path.clone(),
            Kind::Media { .. } | Kind::Ivf(_) => None,
        };
        HeaderCheck { path, codec: self.codec }
    }

    /// The input as a decode pipeline's source: Annex-B chunks, or the video track's
    /// packets (length-prefixed samples with their record, Annex-B access units, AV1/VP9
    /// packets). `position` follows the bytes (Annex-B) or file position (containers)
    /// consumed; when the input itself breaks (truncated file, read error) the error goes
    /// to `broken` and the stream ends there, so the frames before it are still decoded
    /// (MPEG-TS goes on after damage: the first is kept in `broken`).
    pub fn into_inputs(
        self,
        position: Arc<AtomicU64>,
        broken: Arc<Mutex<Option<Error>>>,
        audio: Option<AudioTap>,
    ) -> impl Iterator<Item = Result<DecodeInput>> + Send + 'static {
        let mut kind = self.kind;
        if let (Kind::Media { follow: Some(follow), .. }, Some(tap)) = (&mut kind, &audio) {
            // A followed file's audio is read by the same re-opened demuxer, each packet once.
            follow.also(&tap.tracks);
        }
        let record = match &kind {
            Kind::Media { track, .. } => DecodeInput::track_record(track),
            Kind::AnnexB { .. } | Kind::Ivf(_) => None,
        };
        let mut errors = 0u32;
        let mut consumed = self.position;
        // A spooled container cut by a stalled sender: its end (or the damage the cut
        // leaves) is the stall.
        let mut stalled = self.stalled;
        let broken_at = broken.clone();
        let stop = move |e: Error| {
            *broken_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            None
        };
        std::iter::from_fn(move || match &mut kind {
            // SIGINT/SIGTERM: no more input; what is in flight is drained and written.
            _ if crate::signals::requested().is_some() => None,
            Kind::AnnexB { reader, first, as_it_comes, .. } => {
                let read = match first.take() {
                    Some(c) => Ok(c),
                    // What is there (a followed file's read waits only at its end).
                    None if *as_it_comes => read_some(&mut **reader, CHUNK),
                    None => read_chunk(&mut **reader, CHUNK),
                };
                let chunk = match read {
                    Ok(c) => c,
                    Err(e) => return stop(e.into()),
                };
                if chunk.is_empty() {
                    return None;
                }
                consumed += chunk.len() as u64;
                position.store(consumed, Ordering::Relaxed);
                Some(Ok(DecodeInput::annexb(chunk, None)))
            }
            Kind::Media { demuxer, track, follow: Some(follow) } => loop {
                match follow.next(demuxer)? {
                    Ok(packet) if packet.track != track.index => {
                        if let Some(tap) = audio.as_ref() {
                            // The reader of the other end may be gone (an output failed): fine.
                            let _ = tap.packets.send(packet);
                        }
                    }
                    Ok(packet) => {
                        position.store(packet.pos + packet.data.len() as u64, Ordering::Relaxed);
                        return Some(Ok(DecodeInput::from_media(record.as_ref(), packet)));
                    }
                    // Damage inside the file (see io::follow): kept, and reading goes on.
                    Err(e) => {
                        broken.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                    }
                }
            },
            Kind::Media { demuxer, track, .. } => loop {
                let packet = match demuxer.next_packet() {
                    Ok(Some(p)) => p,
                    // A stall cut the file: that, not the cut it leaves, ended the input.
                    Ok(None) => return stalled.take().and_then(&stop),
                    Err(e) => {
                        // MPEG-TS resynchronises after damage: go on, keeping the first error.
                        let goes_on = errors < demuxer.container().damage_skips();
                        errors += 1;
                        let mut slot = broken.lock().unwrap_or_else(|p| p.into_inner());
                        if slot.is_none() {
                            *slot = Some(e);
                        }
                        if goes_on {
                            continue;
                        }
                        if let Some(e) = stalled.take() {
                            *slot = Some(e);
                        }
                        return None;
                    }
                };
                if packet.track != track.index {
                    if let Some(tap) = audio.as_ref().filter(|t| t.tracks.contains(&packet.track)) {
                        // The reader of the other end may be gone (an output failed): fine.
                        let _ = tap.packets.send(packet);
                    }
                    continue;
                }
                position.store(packet.pos + packet.data.len() as u64, Ordering::Relaxed);
                return Some(Ok(DecodeInput::from_media(record.as_ref(), packet)));
            },
            Kind::Ivf(stream) => match stream.next_packet() {
                Ok(None) => None,
                Err(e) => stop(e),
                Ok(Some(packet)) => {
                    position.store(stream.position(), Ordering::Relaxed);
                    Some(Ok(DecodeInput::Packet { data: packet.data, pts: packet.pts }))
                }
            },
        })
    }
}

/// Where the packets of some of a container's other tracks go while its video is read
/// (a transcode copies the audio).
pub struct AudioTap {
    /// The source tracks whose packets are sent.
    pub tracks: Vec<usize>,
    /// Where they go: the transcode's output.
    pub packets: video_hw::pipeline::CopySender,
}

/// The presentation window of a container's video track: an MP4 edit list hides the
/// pre-roll it skips (decoded, later pictures need it, but not output), as players and
/// ffmpeg do.
#[derive(Debug, Clone, Copy)]
pub struct Window(Option<(i64, Option<i64>)>);

impl Window {
    /// Whether a frame with timestamp `pts` is shown.
    pub fn shows(&self, pts: Option<i64>) -> bool {
        match (self.0, pts) {
            (Some((start, end)), Some(t)) => t >= start && end.is_none_or(|e| t < e),
            _ => true,
        }
    }
}

/// The path and codec of an Annex-B file, to re-read its headers after an engine refused it.
#[derive(Debug, Clone)]
pub struct HeaderCheck {
    path: Option<PathBuf>,
    codec: Codec,
}

impl HeaderCheck {
    /// When no engine can decode the stream, whether its headers are broken anyway (then
    /// the input, not the machine, is the problem: exit 4 rather than 3). Reads the file
    /// again, headers only; Annex-B files only.
    pub fn header_error(&self) -> Option<Error> {
        let file = File::open(self.path.as_ref()?).ok()?;
        match video_hw::bitstream::summary::summarize(file, Some(self.codec)) {
            Ok(s) => s.first_error,
            Err(e) => Some(e),
        }
    }
}
