//! IVF: a 32-byte header (`DKIF`, version 0, header size 32, FourCC `AV01` or `VP90`,
//! width, height, time base as rate and scale, frame count), then each packet after a
//! 12-byte header (32-bit size, 64-bit timestamp, little-endian). One video track, AV1
//! or VP9: what `aomenc`, `vpxenc` and `ffmpeg -f ivf` write.
//!
//! AV1 temporal units start with a temporal delimiter in IVF; packets that come without
//! one (MP4 and Matroska leave them out) get it. The frame count is written at the end
//! where the output can seek (0, "unknown", on a stream).

use super::interleave::Emitted;
use super::sink::Sink;
use super::{ContainerWriter, OutCodec, OutTrack, Start};
use video_hw_types::error::{Error, Result};

/// An AV1 temporal delimiter OBU (type 2, with its size field: 0).
const TEMPORAL_DELIMITER: [u8; 2] = [0x12, 0x00];

/// Writes IVF.
pub(crate) struct IvfWriter {
    frames: u32,
}

impl IvfWriter {
    pub(crate) fn new() -> Self {
        IvfWriter { frames: 0 }
    }
}

/// Refuses what IVF cannot hold: anything but one AV1 or VP9 video track.
pub(super) fn check_tracks(codecs: &[OutCodec]) -> Result<()> {
    match codecs {
        [OutCodec::Av1 | OutCodec::Vp9] => Ok(()),
        [one] => Err(Error::unsupported(
            format!("{} in IVF", super::codec_name(*one)),
            "IVF holds one AV1 or VP9 video track; use MP4 or Matroska",
        )),
        more => Err(Error::unsupported(
            format!("{} tracks in IVF", more.len()),
            "IVF holds one video track and no audio; use MP4 or Matroska",
        )),
    }
}

impl ContainerWriter for IvfWriter {
    fn begin(&mut self, sink: &mut Sink, tracks: &[OutTrack], _start: &Start) -> Result<()> {
        let t = &tracks[0];
        let fourcc = if t.codec == OutCodec::Av1 { b"AV01" } else { b"VP90" };
        let side = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        let mut h = Vec::with_capacity(32);
        h.extend_from_slice(b"DKIF");
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&32u16.to_le_bytes());
        h.extend_from_slice(fourcc);
        h.extend_from_slice(&side(t.video.width).to_le_bytes());
        h.extend_from_slice(&side(t.video.height).to_le_bytes());
        // Rate (time base denominator), then scale (numerator); checked to fit 31 bits.
        h.extend_from_slice(&(t.time_base.den as u32).to_le_bytes());
        h.extend_from_slice(&(t.time_base.num as u32).to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        sink.write(&h)
    }

    fn packet(&mut self, sink: &mut Sink, tracks: &[OutTrack], e: Emitted) -> Result<()> {
        let p = e.packet;
        let delimiter = tracks[0].codec == OutCodec::Av1 && p.data.first().is_none_or(|b| (b >> 3) & 0x0f != 2);
        let extra = if delimiter { TEMPORAL_DELIMITER.len() } else { 0 };
        let size = u32::try_from(p.data.len() + extra)
            .map_err(|_| Error::invalid_input(format!("a {}-byte packet (IVF sizes are 32-bit)", p.data.len())))?;
        let mut h = [0u8; 12];
        h[..4].copy_from_slice(&size.to_le_bytes());
        h[4..].copy_from_slice(&p.pts.to_le_bytes());
        sink.write(&h)?;
        if delimiter {
            sink.write(&TEMPORAL_DELIMITER)?;
        }
        sink.write(&p.data)?;
        self.frames = self.frames.saturating_add(1);
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink, _tracks: &[OutTrack]) -> Result<()> {
        if sink.is_seekable() {
            sink.patch(24, &self.frames.to_le_bytes())?;
        }
        Ok(())
    }
}
