//! Where results go: decoded frames (raw, or as frame checksums) and encoded packets
//! (Annex-B, or an MP4 file). `-` is standard output.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use video_hw::bitstream::avcc::DecoderConfigRecord;
use video_hw::{Codec, Frame, Packet, PacketLayout, Rational, Result};

use crate::framemd5::FrameMd5Writer;
use crate::mp4out::Mp4Writer;

/// True for `-`.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// True when the name asks for an MP4 file (`.mp4`, `.mov`, `.m4v`).
pub fn is_mp4(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "mp4" | "mov" | "m4v"))
}

/// Opens `path` for writing (`-` is stdout), buffered.
pub fn create(path: &Path) -> Result<Box<dyn Write>> {
    if is_stdout(path) {
        return Ok(Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())));
    }
    let f = File::create(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 20, f)))
}

/// Decoded frames out: raw planes, or framemd5 lines.
pub enum FrameSink {
    /// Tightly packed planes, frame after frame.
    Raw {
        /// The output.
        out: Box<dyn Write>,
        /// Scratch buffer for one packed frame.
        buf: Vec<u8>,
    },
    /// ffmpeg framemd5 lines.
    Md5(FrameMd5Writer<Box<dyn Write>>),
}

impl FrameSink {
    /// Raw frames or checksums to `path`; `sar` is the framemd5 sample aspect ratio.
    pub fn create(path: &Path, framemd5: bool, sar: Option<Rational>) -> Result<Self> {
        let out = create(path)?;
        Ok(if framemd5 {
            FrameSink::Md5(FrameMd5Writer::new(out, sar.unwrap_or(Rational::new(0, 1))))
        } else {
            FrameSink::Raw { out, buf: Vec::new() }
        })
    }

    /// Writes one frame; `tb` is the framemd5 timebase. Returns the bytes written.
    pub fn write(&mut self, frame: &Frame, tb: Rational) -> Result<u64> {
        let host = frame.to_host()?;
        match self {
            FrameSink::Raw { out, buf } => {
                buf.clear();
                host.write_packed(buf);
                out.write_all(buf)?;
                Ok(buf.len() as u64)
            }
            FrameSink::Md5(w) => {
                let header = w.ensure_header(frame.width, frame.height, tb)?;
                let mut buf = Vec::new();
                host.write_packed(&mut buf);
                Ok(header + w.frame(&buf)?)
            }
        }
    }

    /// Flushes; a framemd5 output with no frame still gets its header (`width`x`height`).
    pub fn finish(self, width: u32, height: u32, tb: Rational) -> Result<()> {
        match self {
            FrameSink::Raw { mut out, .. } => Ok(out.flush()?),
            FrameSink::Md5(mut w) => {
                w.ensure_header(width, height, tb)?;
                w.finish()
            }
        }
    }
}

/// Encoded packets out.
pub enum PacketSink {
    /// Annex-B bytes, packet after packet.
    AnnexB(Box<dyn Write>),
    /// An MP4 file.
    Mp4(Mp4Writer),
}

/// How the output wants the packets laid out.
pub fn layout_for(path: &Path) -> PacketLayout {
    if is_mp4(path) { PacketLayout::LengthPrefixed } else { PacketLayout::AnnexB }
}

impl PacketSink {
    /// The sink for `path`: an MP4 writer for `.mp4`/`.mov`/`.m4v`, Annex-B otherwise.
    pub fn create(
        path: &Path,
        codec: Codec,
        width: u32,
        height: u32,
        timebase: Rational,
        fps: Rational,
    ) -> Result<Self> {
        if is_mp4(path) {
            let timescale = u32::try_from(timebase.den).unwrap_or(90_000);
            let delta = timebase.rescale(1, Rational::new(fps.den, fps.num)).clamp(1, u32::MAX as i64) as u32;
            return Ok(PacketSink::Mp4(Mp4Writer::create(path, codec, width, height, timescale, delta)?));
        }
        Ok(PacketSink::AnnexB(create(path)?))
    }

    /// Writes one packet.
    pub fn write(&mut self, p: &Packet) -> Result<()> {
        match self {
            PacketSink::AnnexB(out) => Ok(out.write_all(&p.data)?),
            PacketSink::Mp4(m) => m.write_sample(&p.data, p.dts, p.pts, p.keyframe),
        }
    }

    /// Finishes the file; an MP4 needs the decoder configuration record.
    pub fn finish(self, record: Option<DecoderConfigRecord>) -> Result<()> {
        match self {
            PacketSink::AnnexB(mut out) => Ok(out.flush()?),
            PacketSink::Mp4(m) => {
                let record = record.ok_or_else(|| {
                    video_hw::Error::backend("encoder", "no-parameter-sets", "no SPS/PPS for the MP4 sample entry")
                })?;
                m.finish(&record).map(|_| ())
            }
        }
    }
}
