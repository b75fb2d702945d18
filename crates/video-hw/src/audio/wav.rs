//! WAV output: a RIFF WAVE header and interleaved samples, as ffmpeg writes `-f wav`
//! (16-bit integer by default; 32-bit float with `pcm_f32le`). Streamed: the header's sizes
//! are written first as the largest value and fixed at the end when the output can seek.

use std::io::{Seek, SeekFrom, Write};

use super::AudioSamples;
use crate::error::Result;

/// How samples are stored in the WAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    /// Signed 16-bit integers (`pcm_s16le`, ffmpeg's default for WAV).
    S16,
    /// IEEE 32-bit floats (`pcm_f32le`).
    F32,
}

/// Writes a WAV stream.
pub struct WavWriter<W: Write> {
    out: W,
    format: WavFormat,
    channels: u16,
    data_bytes: u64,
    /// The bytes of the chunk being written (kept from chunk to chunk).
    buf: Vec<u8>,
}

impl<W: Write> WavWriter<W> {
    /// Writes the header for `channels` channels at `rate`.
    pub fn new(mut out: W, format: WavFormat, rate: u32, channels: u16) -> Result<Self> {
        out.write_all(&header(format, rate, channels, u32::MAX - 36))?;
        Ok(WavWriter { out, format, channels, data_bytes: 0, buf: Vec::new() })
    }

    /// Appends samples (their channel count must be the header's).
    pub fn write(&mut self, s: &AudioSamples) -> Result<()> {
        s.interleave_le_into(self.format == WavFormat::S16, &mut self.buf);
        debug_assert_eq!(s.channels, usize::from(self.channels));
        self.out.write_all(&self.buf)?;
        self.data_bytes += self.buf.len() as u64;
        Ok(())
    }

    /// Flushes, and gives back the writer and the data size.
    pub fn finish(mut self) -> Result<(W, u64)> {
        self.out.flush()?;
        Ok((self.out, self.data_bytes))
    }
}

/// Writes the real sizes into the header of a finished WAV of `data_bytes` sample bytes
/// (a file whose header went out before its length was known).
pub fn fix_sizes<W: Write + Seek>(
    mut out: W,
    format: WavFormat,
    rate: u32,
    channels: u16,
    data_bytes: u64,
) -> Result<()> {
    let size = u32::try_from(data_bytes).unwrap_or(u32::MAX - 36);
    out.seek(SeekFrom::Start(0))?;
    out.write_all(&header(format, rate, channels, size))?;
    out.flush()?;
    Ok(())
}

/// The 44-byte header (WAVE_FORMAT_PCM or WAVE_FORMAT_IEEE_FLOAT).
fn header(format: WavFormat, rate: u32, channels: u16, data: u32) -> Vec<u8> {
    let (tag, bits) = match format {
        WavFormat::S16 => (1u16, 16u16),
        WavFormat::F32 => (3, 32),
    };
    let block = channels * (bits / 8);
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&data.saturating_add(36).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&tag.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    h.extend_from_slice(&block.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    h
}
