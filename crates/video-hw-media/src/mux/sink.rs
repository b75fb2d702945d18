//! Where a muxer's bytes go: a seekable output (a file, a `Cursor`), where headers are
//! patched and MP4 media data is moved at the end, or a stream that only takes bytes in
//! order. Both are buffered and count the bytes written.

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};

use super::ReadWriteSeek;
use video_hw_types::error::{Error, Result};

/// Bytes moved per step when MP4 media data is shifted (the only read-back buffer).
const MOVE_CHUNK: u64 = 4 << 20;

enum Output {
    Seekable(BufWriter<Box<dyn ReadWriteSeek>>),
    Stream(BufWriter<Box<dyn Write + Send>>),
}

/// A muxer's output, with the position of the next byte (counted from where the output
/// was when the muxer took it).
pub(crate) struct Sink {
    out: Output,
    /// The writer's own position of our byte 0.
    base: u64,
    pos: u64,
}

impl Sink {
    /// A seekable output; the file starts at its current position.
    pub fn seekable(mut w: Box<dyn ReadWriteSeek>) -> Result<Self> {
        let base = w.stream_position()?;
        Ok(Sink { out: Output::Seekable(BufWriter::with_capacity(1 << 16, w)), base, pos: 0 })
    }

    /// A stream.
    pub fn stream(w: Box<dyn Write + Send>) -> Self {
        Sink { out: Output::Stream(BufWriter::with_capacity(1 << 16, w)), base: 0, pos: 0 }
    }

    /// True when headers can be patched.
    pub fn is_seekable(&self) -> bool {
        matches!(self.out, Output::Seekable(_))
    }

    /// Position of the next byte.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.out {
            Output::Seekable(w) => w.write_all(bytes)?,
            Output::Stream(w) => w.write_all(bytes)?,
        }
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn seekable_writer(&mut self) -> Result<&mut BufWriter<Box<dyn ReadWriteSeek>>> {
        match &mut self.out {
            Output::Seekable(w) => Ok(w),
            Output::Stream(_) => Err(Error::unsupported("patching a streamed output", "the output cannot seek")),
        }
    }

    /// Overwrites bytes at `at` (before the current position) and comes back.
    pub fn patch(&mut self, at: u64, bytes: &[u8]) -> Result<()> {
        if at + bytes.len() as u64 > self.pos {
            return Err(Error::invalid_input("patch past the end of what was written"));
        }
        let (base, end) = (self.base, self.pos);
        let w = self.seekable_writer()?;
        w.seek(SeekFrom::Start(base + at))?;
        w.write_all(bytes)?;
        w.seek(SeekFrom::Start(base + end))?;
        Ok(())
    }

    /// Moves the bytes from `from` to the end forward by `by` bytes (the output grows by
    /// `by`; the gap keeps stale bytes until overwritten), copying from the end backwards
    /// in bounded chunks so that nothing is overwritten before it was moved.
    pub fn shift_tail(&mut self, from: u64, by: u64) -> Result<()> {
        let (base, end) = (self.base, self.pos);
        let w = self.seekable_writer()?;
        w.flush()?;
        let inner = w.get_mut();
        let mut buf = Vec::new();
        let mut hi = end;
        while hi > from {
            let lo = hi.saturating_sub(MOVE_CHUNK).max(from);
            buf.resize((hi - lo) as usize, 0);
            inner.seek(SeekFrom::Start(base + lo))?;
            inner.read_exact(&mut buf)?;
            inner.seek(SeekFrom::Start(base + lo + by))?;
            inner.write_all(&buf)?;
            hi = lo;
        }
        inner.seek(SeekFrom::Start(base + end + by))?;
        self.pos = end + by;
        Ok(())
    }

    /// Hands what is buffered to the output.
    pub fn flush(&mut self) -> Result<()> {
        match &mut self.out {
            Output::Seekable(w) => w.flush()?,
            Output::Stream(w) => w.flush()?,
        }
        Ok(())
    }

    /// Flushes everything and returns the bytes written.
    pub fn finish(&mut self) -> Result<u64> {
        match &mut self.out {
            Output::Seekable(w) => w.flush()?,
            Output::Stream(w) => w.flush()?,
        }
        Ok(self.pos)
    }
}
