//! Where results go: decoded frames (raw, or as frame checksums) and encoded packets
//! (Annex-B, or a container written by the library's muxer: MP4, Matroska, WebM, with the
//! source's audio copied in). `-` is standard output.

pub mod framemd5;

use std::fs::File;
use std::io::{BufWriter, IoSlice, Write};
use std::path::Path;

use video_hw::media::mux::{MuxFormat, Muxer};
use video_hw::media::{MediaPacket, Track};
use video_hw::{Codec, Frame, Packet, PacketLayout, Rational, Result};

use crate::exit::output_fault;
use framemd5::FrameMd5Writer;
use video_hw::PixelFormat;
use video_hw::pixels::pix_fmt::{self, Exact};
use video_hw::pixels::transform::rgb_bands;

pub use crate::exit::output_fault::is_stdout;

/// The container the name asks for (`.mp4`/`.mov`/`.m4v` MP4, `.mkv` Matroska, `.webm`
/// WebM); `None` for Annex-B output.
pub fn container_for(path: &Path) -> Option<MuxFormat> {
    if is_stdout(path) { None } else { MuxFormat::from_path(path) }
}

/// Opens `path` for writing (`-` is stdout), buffered; it may move to another thread (a
/// transcode writes on its encoder's).
pub fn create(path: &Path) -> Result<Box<dyn Write + Send>> {
    Ok(Box::new(buffered(path)?))
}

/// [`create`]'s writer as its own type, whose file a caller may write past the buffer.
fn buffered(path: &Path) -> Result<BufWriter<Box<dyn Write + Send>>> {
    if is_stdout(path) {
        #[cfg(unix)]
        return Ok(BufWriter::with_capacity(1 << 20, Box::new(stdout_file()?)));
        #[cfg(not(unix))]
        return Ok(BufWriter::with_capacity(1 << 20, Box::new(std::io::stdout())));
    }
    let f = File::create(path).map_err(|e| output_fault::io(path, e))?;
    Ok(BufWriter::with_capacity(1 << 20, Box::new(f)))
}

/// Where whole units (frames, framemd5 lines, packets) of a file output end, so that a
/// failed write can cut the file back to the last unit written in full (a partial frame
/// would shift every later reader's frame grid). Ends older than the writer's buffer
/// and then some are let go: the file cannot fall back further than what was buffered.
struct WholeUnits {
    path: std::path::PathBuf,
    at: u64,
    ends: std::collections::VecDeque<u64>,
}

impl WholeUnits {
    /// Ends are kept for this many bytes back (eight times the writers' 1 MiB buffer).
    const KEEP: u64 = 8 << 20;

    fn new(path: &Path) -> Self {
        WholeUnits { path: path.to_path_buf(), at: 0, ends: std::collections::VecDeque::from([0]) }
    }

    /// A unit of `bytes` was handed to the writer.
    fn unit(&mut self, bytes: u64) {
        self.at += bytes;
        self.ends.push_back(self.at);
        while self.ends.len() > 1 && self.ends[1] + Self::KEEP < self.at {
            self.ends.pop_front();
        }
    }

    /// After a failed write (its writer dropped): cuts the file to the last whole unit in it.
    fn cut(&self) {
        let Ok(len) = std::fs::metadata(&self.path).map(|m| m.len()) else { return };
        let whole = self.ends.iter().copied().take_while(|&e| e <= len).last().unwrap_or(0);
        output_fault::truncate(&self.path, whole);
    }
}

/// Standard output as a file of its own (a duplicate of descriptor 1), so frames of
/// megabytes go to the kernel in one write each instead of through Rust's line-buffered
/// `Stdout`; when it is a pipe, its buffer is raised to 1 MiB (Linux), so that a reader
/// keeping up receives a 1080p frame in three wake-ups rather than fifty (a pipe holds
/// 64 KiB by default, and each refill is a context switch on both sides).
#[cfg(unix)]
fn stdout_file() -> std::io::Result<File> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor we own, with an int argument, as F_SETPIPE_SZ takes;
        // on anything but a pipe, or past the user's limit, it fails and changes nothing.
        let _ = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
    }
    Ok(File::from(fd))
}

/// Where decoded frames go: raw planes, or framemd5 lines.
enum FrameOut {
    /// Tightly packed planes, frame after frame (a band of RGB rows goes to the file
    /// past the buffer, which would only copy it).
    Raw(BufWriter<Box<dyn Write + Send>>),
    /// ffmpeg framemd5 lines.
    Md5(FrameMd5Writer<Box<dyn Write>>),
}

/// Decoded frames out, in the form `--pix-fmt` names (converted to its stated depth).
pub struct FrameSink {
    out: FrameOut,
    /// The stated-depth form to convert to, if any.
    exact: Option<Exact>,
    /// Scratch buffers: one packed frame, and its converted form.
    buf: Vec<u8>,
    converted: Vec<u8>,
    /// The output's path, and the ends of its whole frames (lines).
    path: std::path::PathBuf,
    units: WholeUnits,
    /// Packed RGB this sink makes itself from YUV frames, band by band, and the band.
    rgb_bands: Option<PixelFormat>,
    band: Vec<u8>,
}

/// `host`'s tightly packed bytes: its own memory when it is packed, else `buf` filled.
fn packed<'a>(host: &'a video_hw::frame::HostFrame, buf: &'a mut Vec<u8>) -> &'a [u8] {
    if host.is_packed() {
        return host.as_bytes();
    }
    buf.clear();
    host.write_packed(buf);
    buf
}

/// Writes `runs` one after the other with vectored writes: a run the size of a plane then
/// goes to the file as it is, not through the writer's buffer (which takes a copy of
/// anything smaller than itself). Returns the bytes written.
fn write_runs(out: &mut dyn Write, runs: Vec<&[u8]>) -> std::io::Result<u64> {
    let mut slices: Vec<IoSlice<'_>> = runs.into_iter().map(IoSlice::new).collect();
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match out.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total as u64)
}

impl FrameSink {
    /// Raw frames or checksums to `path`; `sar` is the framemd5 sample aspect ratio;
    /// frames are converted to `exact` when given.
    pub fn create(path: &Path, framemd5: bool, sar: Option<Rational>, exact: Option<Exact>) -> Result<Self> {
        let out = if framemd5 {
            FrameOut::Md5(FrameMd5Writer::new(create(path)?, sar.unwrap_or(Rational::new(0, 1))))
        } else {
            FrameOut::Raw(buffered(path)?)
        };
        let units = WholeUnits::new(path);
        let (buf, converted, band) = (Vec::new(), Vec::new(), Vec::new());
        Ok(FrameSink { out, exact, buf, converted, path: path.to_path_buf(), units, rgb_bands: None, band })
    }

    /// Has the sink convert the YUV frames it is given to the packed RGB `format` itself, a
    /// band of rows at a time, each written or hashed while it is in the cache
    /// ([`rgb_bands`]; see `options::transform::rgb_in_sink` for when the bytes are the
    /// engine's own). Frames in any other format are written as they are.
    pub fn rgb_in_bands(mut self, format: Option<PixelFormat>) -> Self {
        self.rgb_bands = format;
        self
    }

    /// Writes (or hashes) `frame` converted to `format` band by band; returns the bytes
    /// written.
    fn write_bands(&mut self, frame: &Frame, format: PixelFormat, tb: Rational) -> Result<u64> {
        // A band of this size stays in a core's L2 cache between its conversion and its
        // write (256 KiB; L2 is 512 KiB to 2 MiB on the CPUs of the last years).
        const BAND_BYTES: usize = 256 << 10;
        let (mut size, band) = (0u64, &mut self.band);
        match &mut self.out {
            FrameOut::Raw(out) => {
                out.flush()?;
                let file = out.get_mut();
                rgb_bands(frame, format, BAND_BYTES, band, &mut |b| {
                    size += b.len() as u64;
                    Ok(file.write_all(b)?)
                })?;
                Ok(size)
            }
            FrameOut::Md5(md5) => {
                let header = md5.ensure_header(frame.width, frame.height, tb)?;
                let mut hash = framemd5::Hash::new();
                rgb_bands(frame, format, BAND_BYTES, band, &mut |b| {
                    hash.update(b);
                    Ok(())
                })?;
                Ok(header + md5.frame_hashed(hash)?)
            }
        }
    }

    /// A write failed: the writer is dropped (what it held is lost), the file cut to its
    /// last whole frame, and the error typed as the output's fault.
    fn failed(&mut self, e: video_hw::Error) -> video_hw::Error {
        self.out = FrameOut::Raw(BufWriter::new(Box::new(std::io::sink())));
        self.units.cut();
        output_fault::video(&self.path, e)
    }

    /// Writes one frame; `tb` is the framemd5 timebase. Returns the bytes written. A host
    /// frame is written or hashed straight from its memory, run by run
    /// ([`HostFrame::packed_runs`](video_hw::frame::HostFrame::packed_runs): a decoder's own
    /// buffer lent as it is, with padding rows between the planes, costs no copy); one to
    /// convert is packed into a scratch buffer first.
    pub fn write(&mut self, frame: &Frame, tb: Rational) -> Result<u64> {
        if let Some(format) = self.rgb_bands.filter(|_| frame.format.is_yuv()) {
            return match self.write_bands(frame, format, tb) {
                Ok(bytes) => {
                    self.units.unit(bytes);
                    Ok(bytes)
                }
                Err(e) => Err(self.failed(e)),
            };
        }
        let host = frame.to_host()?;
        let mut converted = false;
        if let Some(exact) = self.exact.filter(|e| e.changes(frame.format)) {
            let bytes = packed(&host, &mut self.buf);
            converted = pix_fmt::convert(frame.format, frame.width, frame.height, bytes, exact, &mut self.converted)?;
        }
        let runs: Vec<&[u8]> = if converted { vec![&self.converted] } else { host.packed_runs().collect() };
        let written = match &mut self.out {
            FrameOut::Raw(out) => write_runs(out, runs).map_err(video_hw::Error::from),
            FrameOut::Md5(md5) => {
                md5.ensure_header(frame.width, frame.height, tb).and_then(|header| Ok(header + md5.frame(&runs)?))
            }
        };
        drop(host);
        match written {
            Ok(bytes) => {
                self.units.unit(bytes);
                Ok(bytes)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Flushes; a framemd5 output with no frame still gets its header (`width`x`height`).
    pub fn finish(mut self, width: u32, height: u32, tb: Rational) -> Result<()> {
        let out = std::mem::replace(&mut self.out, FrameOut::Raw(BufWriter::new(Box::new(std::io::sink()))));
        let done = match out {
            FrameOut::Raw(mut out) => out.flush().map_err(video_hw::Error::from),
            FrameOut::Md5(mut w) => w.ensure_header(width, height, tb).and_then(|_| w.finish()),
        };
        done.map_err(|e| self.failed(e))
    }
}

/// Encoded packets out. A write that fails leaves the output cut to what is readable
/// (whole packets of Annex-B; the fragments or clusters written whole of fragmented MP4
/// and Matroska: [`Muxer::durable_len`]) and the error typed as the output's fault.
pub struct PacketSink {
    path: std::path::PathBuf,
    out: PacketOut,
}

/// Where a [`PacketSink`]'s packets go.
enum PacketOut {
    /// Annex-B bytes, packet after packet, and where the packets end.
    AnnexB(Box<dyn Write + Send>, WholeUnits),
    /// A container: the encoded video (track 0) and the tracks copied from the source.
    Mux {
        /// The muxer.
        muxer: Box<Muxer>,
        /// (source track, output track) for each track copied.
        copied: Vec<(usize, usize)>,
    },
    /// A write failed: nothing more is written.
    Failed,
}

/// How the encoder lays out packets for `path`: Annex-B always (a container's muxer turns
/// them into length-prefixed samples with the record from their parameter sets).
pub fn layout_for(_path: &Path) -> PacketLayout {
    PacketLayout::AnnexB
}

impl PacketSink {
    /// The sink for `path` (`-` is stdout): `format` (see [`container_for`]; the video as
    /// track 0, then the `copied` tracks of the source, whose packets come to
    /// [`write_copied`](Self::write_copied)), Annex-B for `None`. Only
    /// fragmented MP4 goes to stdout as a container (nothing in it is patched afterwards);
    /// its fragments last at most `frag_duration`.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        path: &Path,
        format: Option<MuxFormat>,
        codec: Codec,
        (width, height): (u32, u32),
        timebase: Rational,
        fps: Rational,
        copied: Vec<Track>,
        frag_duration: Option<std::time::Duration>,
    ) -> Result<Self> {
        let sink = |out| PacketSink { path: path.to_path_buf(), out };
        let Some(format) = format else { return Ok(sink(PacketOut::AnnexB(create(path)?, WholeUnits::new(path)))) };
        let mut video = Track::video(0, codec, timebase, width, height);
        video.frame_rate = Some(fps);
        let mut tracks = vec![video];
        let mut map = Vec::new();
        for t in copied {
            let to = tracks.len();
            map.push((t.index, to));
            tracks.push(Track { index: to, ..t });
        }
        let muxer = if is_stdout(path) {
            if format != MuxFormat::FragmentedMp4 {
                return Err(video_hw::Error::invalid_input(format!(
                    "{format} cannot be written to stdout (fragmented MP4 can)"
                )));
            }
            Muxer::streaming(Box::new(std::io::stdout()), format, &tracks)?
        } else {
            Muxer::create(path, format, &tracks).map_err(|e| output_fault::video(path, e))?
        };
        let muxer = match frag_duration {
            Some(d) => muxer.fragment_duration(d),
            None => muxer,
        };
        Ok(sink(PacketOut::Mux { muxer: Box::new(muxer), copied: map }))
    }

    /// Writes one packet of a track copied from the source (numbered as the source's
    /// tracks; one not copied is left out).
    pub fn write_copied(&mut self, mut p: MediaPacket) -> Result<()> {
        let written = match &mut self.out {
            PacketOut::Mux { muxer, copied } => match copied.iter().find(|(from, _)| *from == p.track) {
                Some(&(_, to)) => {
                    p.track = to;
                    muxer.write(p)
                }
                None => Ok(()),
            },
            PacketOut::AnnexB(..) => Ok(()),
            PacketOut::Failed => return Err(failed_earlier()),
        };
        written.map_err(|e| self.failed(e))
    }

    /// Writes one encoded packet.
    pub fn write(&mut self, p: &Packet) -> Result<()> {
        let written = match &mut self.out {
            PacketOut::AnnexB(out, units) => {
                out.write_all(&p.data).map(|()| units.unit(p.data.len() as u64)).map_err(video_hw::Error::from)
            }
            PacketOut::Mux { muxer, .. } => muxer.write(MediaPacket::new(0, p.data.clone(), p.pts, p.dts, p.keyframe)),
            PacketOut::Failed => return Err(failed_earlier()),
        };
        written.map_err(|e| self.failed(e))
    }

    /// Finishes the output: the container's indexes, or the Annex-B bytes flushed.
    pub fn finish(mut self) -> Result<()> {
        let done = match std::mem::replace(&mut self.out, PacketOut::Failed) {
            PacketOut::AnnexB(mut out, _) => out.flush().map_err(video_hw::Error::from),
            PacketOut::Mux { muxer, .. } => muxer.finish().map(|_| ()),
            PacketOut::Failed => Err(failed_earlier()),
        };
        done.map_err(|e| self.failed(e))
    }

    /// A write failed: the writer is dropped (what it held is lost), the file cut to what
    /// is readable, and the error typed as the output's fault.
    fn failed(&mut self, e: video_hw::Error) -> video_hw::Error {
        match std::mem::replace(&mut self.out, PacketOut::Failed) {
            PacketOut::AnnexB(out, units) => {
                drop(out);
                units.cut();
            }
            PacketOut::Mux { muxer, .. } => {
                let keep = muxer.durable_len();
                drop(muxer);
                if let Some(len) = keep {
                    output_fault::truncate(&self.path, len);
                }
            }
            PacketOut::Failed => {}
        }
        output_fault::video(&self.path, e)
    }
}

/// The error of a write after the output failed (the first failure is what is reported).
fn failed_earlier() -> video_hw::Error {
    video_hw::Error::Io(std::io::Error::other("the output failed earlier"))
}
