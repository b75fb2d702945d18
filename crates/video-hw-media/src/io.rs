//! Reading a container's bytes: a buffered, position-tracking reader over any
//! `Read + Seek`, whose every read is checked against the file's length before anything
//! is allocated, so a size a file claims can never make us reserve more than it holds.

use std::io::{Read, Seek, SeekFrom};

use video_hw_types::error::{Error, Result};

/// What a demuxer reads from: a file, a cursor over bytes, any `Read + Seek`.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// Bytes read ahead at a time: large enough that sequential parsing (Matroska element
/// headers, transport packets) costs one system call per many elements.
const BUFFER: usize = 256 << 10;

/// Bytes the first refill after a seek away from the buffer reads. A demuxer that jumps
/// over payloads (a Matroska scan, MP4 top-level boxes) looks at a few header bytes at
/// each landing place; reading a whole buffer there would cost a copy of 256 KiB for a
/// dozen bytes. Each further refill in sequence reads four times more, up to [`BUFFER`],
/// so sequential reading soon goes at full size again; a hop forward shorter than the
/// next refill counts as reading in sequence (skipping small payloads).
const FIRST_READ: usize = 4 << 10;

/// A buffered reader that knows the input's length and where it is.
pub struct ByteSource {
    inner: Box<dyn ReadSeek>,
    len: u64,
    /// File offset of `buf[0]`.
    buf_start: u64,
    buf: Vec<u8>,
    /// Read position inside `buf`.
    at: usize,
    /// Where `inner`'s own cursor is (so a seek that lands there costs nothing).
    inner_pos: u64,
    /// Bytes the next refill reads (see [`FIRST_READ`]).
    readahead: usize,
}

impl std::fmt::Debug for ByteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteSource").field("len", &self.len).field("pos", &self.position()).finish()
    }
}

impl ByteSource {
    /// Wraps `inner`; finds its length by seeking to its end.
    pub fn new(mut inner: Box<dyn ReadSeek>) -> Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(ByteSource { inner, len, buf_start: 0, buf: Vec::new(), at: 0, inner_pos: 0, readahead: BUFFER })
    }

    /// The reader, positioned at the start (for a parser of another crate's, such as the
    /// audio-only files' demuxer).
    pub(crate) fn into_inner(mut self) -> Result<Box<dyn ReadSeek>> {
        self.inner.seek(SeekFrom::Start(0))?;
        Ok(self.inner)
    }

    /// The input's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty input.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The offset the next read starts at.
    pub fn position(&self) -> u64 {
        self.buf_start + self.at as u64
    }

    /// Bytes from the position to the end of the input.
    pub fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.position())
    }

    /// Moves the read position to `pos` (kept inside the buffer when it lies there).
    pub fn seek(&mut self, pos: u64) {
        let end = self.buf_start + self.buf.len() as u64;
        if pos >= self.buf_start && pos <= end {
            self.at = (pos - self.buf_start) as usize;
        } else {
            // A short hop forward (less than the next refill would have read anyway) is
            // still reading in sequence; anything else starts small again.
            if pos < end || pos - end >= self.readahead as u64 {
                self.readahead = FIRST_READ;
            }
            self.buf.clear();
            self.buf_start = pos;
            self.at = 0;
        }
    }

    /// Skips `n` bytes (may go past the end; the next read then fails).
    pub fn skip(&mut self, n: u64) {
        self.seek(self.position().saturating_add(n));
    }

    /// The size of the next refill when at least `need` bytes are wanted, and the one
    /// after it.
    fn next_read(&mut self, need: usize) -> usize {
        let n = self.readahead.max(need).min(BUFFER);
        self.readahead = (self.readahead * 4).min(BUFFER);
        n
    }

    /// Refills the buffer from the current position, reading at least `need` bytes
    /// where the input has them; false at the end of the input.
    fn fill(&mut self, need: usize) -> Result<bool> {
        let pos = self.position();
        if pos >= self.len {
            return Ok(false);
        }
        if self.inner_pos != pos {
            self.inner.seek(SeekFrom::Start(pos))?;
            self.inner_pos = pos;
        }
        let want = (self.len - pos).min(self.next_read(need) as u64) as usize;
        self.buf.resize(want, 0);
        let mut got = 0;
        while got < want {
            match self.inner.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.clear();
                    self.buf_start = pos;
                    self.at = 0;
                    return Err(e.into());
                }
            }
        }
        self.buf.truncate(got);
        self.buf_start = pos;
        self.at = 0;
        self.inner_pos = pos + got as u64;
        if got == 0 {
            // The input is shorter than it said (it shrank while open): believe the read.
            self.len = pos;
        }
        Ok(got > 0)
    }

    /// Up to `n` bytes at the position without moving it (fewer only at the end of the
    /// input; at most the buffer's size).
    #[inline]
    pub fn peek(&mut self, n: usize) -> Result<&[u8]> {
        let n = n.min(BUFFER);
        if self.buf.len() - self.at < n && self.remaining() > (self.buf.len() - self.at) as u64 {
            self.refill_for_peek(n)?;
        }
        let end = (self.at + n).min(self.buf.len());
        Ok(&self.buf[self.at..end])
    }

    /// Moves what is left of the buffer to its front and reads more behind it, `n` bytes
    /// at least (the slow path of [`peek`](Self::peek), kept out of line so that the fast
    /// path inlines: transport packets peek every 188 bytes).
    #[cold]
    fn refill_for_peek(&mut self, n: usize) -> Result<()> {
        // Move what is left to the front, then read more behind it.
        let pos = self.position();
        self.buf.copy_within(self.at.., 0);
        self.buf.truncate(self.buf.len() - self.at);
        self.buf_start = pos;
        self.at = 0;
        let have = self.buf.len();
        let read = self.next_read(n - have);
        // `n` at least, more when the read-ahead allows, never past the input's end
        // (which lies past `have`: more remains than the buffer holds).
        let want = (have + read).max(n).min(BUFFER).min((self.len - pos) as usize);
        if self.inner_pos != pos + have as u64 {
            self.inner.seek(SeekFrom::Start(pos + have as u64))?;
            self.inner_pos = pos + have as u64;
        }
        self.buf.resize(want, 0);
        let mut got = have;
        while got < want {
            match self.inner.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(have);
                    return Err(e.into());
                }
            }
        }
        self.buf.truncate(got);
        self.inner_pos = pos + got as u64;
        Ok(())
    }

    /// Up to `n` bytes at the position (fewer only at the end of the input; at most the
    /// buffer's size), moving the position past them: what [`peek`](Self::peek) gives,
    /// consumed. Lets a parser of small fixed-size units (transport packets) read each
    /// one straight out of the buffer without copying it.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&[u8]> {
        let len = self.peek(n)?.len();
        let start = self.at;
        self.at += len;
        Ok(&self.buf[start..start + len])
    }

    /// Fills `out` from the position, or fails with `InvalidBitstream` at the position
    /// when the input ends first (`what` names what was being read).
    pub fn read_exact(&mut self, out: &mut [u8], what: &str) -> Result<()> {
        let start = self.position();
        if (out.len() as u64) > self.remaining() {
            return Err(truncated(start, what, out.len() as u64, self.remaining()));
        }
        let mut done = 0;
        while done < out.len() {
            if self.at == self.buf.len() {
                // Large reads go straight into `out`, past the buffer.
                let left = out.len() - done;
                if left >= BUFFER {
                    let pos = self.position();
                    if self.inner_pos != pos {
                        self.inner.seek(SeekFrom::Start(pos))?;
                    }
                    self.inner.read_exact(&mut out[done..]).map_err(|e| match e.kind() {
                        std::io::ErrorKind::UnexpectedEof => truncated(start, what, out.len() as u64, 0),
                        _ => e.into(),
                    })?;
                    let end = pos + left as u64;
                    self.inner_pos = end;
                    self.buf.clear();
                    self.buf_start = end;
                    self.at = 0;
                    return Ok(());
                }
                if !self.fill(left)? {
                    return Err(truncated(start, what, out.len() as u64, done as u64));
                }
            }
            let n = (self.buf.len() - self.at).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.at..self.at + n]);
            self.at += n;
            done += n;
        }
        Ok(())
    }

    /// Reads `n` bytes into a new vector; fails before allocating when fewer remain.
    pub fn read_vec(&mut self, n: u64, what: &str) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.read_into(n, &mut v, what)?;
        Ok(v)
    }

    /// Reads `n` bytes into `out` (replacing its contents); fails before allocating when
    /// fewer remain.
    pub fn read_into(&mut self, n: u64, out: &mut Vec<u8>, what: &str) -> Result<()> {
        if n > self.remaining() {
            return Err(truncated(self.position(), what, n, self.remaining()));
        }
        out.clear();
        out.resize(n as usize, 0);
        self.read_exact(out, what)
    }

    /// Reads `n` bytes at `offset` into `out` (the position ends after them).
    pub fn read_at(&mut self, offset: u64, n: u64, out: &mut Vec<u8>, what: &str) -> Result<()> {
        self.seek(offset);
        self.read_into(n, out, what)
    }

    /// One byte.
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b, what)?;
        Ok(b[0])
    }
}

/// The error for an input that ends inside something.
pub fn truncated(offset: u64, what: &str, wanted: u64, had: u64) -> Error {
    Error::invalid_bitstream(offset, format!("truncated: {what} needs {wanted} bytes, the input holds {had} more"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(bytes: Vec<u8>) -> ByteSource {
        ByteSource::new(Box::new(std::io::Cursor::new(bytes))).unwrap()
    }

    #[test]
    fn reads_across_buffer_refills() {
        let data: Vec<u8> = (0..(BUFFER * 3 + 17)).map(|i| (i % 251) as u8).collect();
        let mut s = source(data.clone());
        let mut out = vec![0u8; 1000];
        s.seek(BUFFER as u64 - 10);
        s.read_exact(&mut out, "x").unwrap();
        assert_eq!(out, &data[BUFFER - 10..BUFFER + 990]);
        let big = s.read_vec(BUFFER as u64 + 5, "big").unwrap();
        assert_eq!(big, &data[BUFFER + 990..2 * BUFFER + 995]);
        assert_eq!(s.position(), 2 * BUFFER as u64 + 995);
        // 17 + BUFFER - 995 bytes are left; a peek sees as many as it may.
        assert_eq!(s.peek(100).unwrap(), &data[2 * BUFFER + 995..2 * BUFFER + 1095]);
        assert!(s.read_vec(BUFFER as u64 * 2, "too much").is_err());
    }

    #[test]
    fn claims_beyond_the_end_fail_without_allocating() {
        let mut s = source(vec![1, 2, 3]);
        let e = s.read_vec(u64::MAX / 2, "a box").unwrap_err();
        assert!(matches!(e, Error::InvalidBitstream { offset: 0, .. }), "{e}");
        s.seek(2);
        let mut b = [0u8; 2];
        let e = s.read_exact(&mut b, "a field").unwrap_err();
        assert!(e.to_string().contains("a field needs 2 bytes, the input holds 1 more"), "{e}");
    }

    #[test]
    fn peek_does_not_move() {
        let mut s = source((0..100u8).collect());
        s.seek(10);
        assert_eq!(s.peek(3).unwrap(), &[10, 11, 12]);
        assert_eq!(s.position(), 10);
        assert_eq!(s.u8("b").unwrap(), 10);
        s.seek(98);
        assert_eq!(s.peek(10).unwrap(), &[98, 99]);
    }

    /// Counts the bytes read from the inner reader.
    struct Counting {
        inner: std::io::Cursor<Vec<u8>>,
        read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Read for Counting {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(n)
        }
    }

    impl Seek for Counting {
        fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn a_far_seek_reads_little_then_more_in_sequence() {
        let data: Vec<u8> = (0..(4 * BUFFER)).map(|i| (i % 253) as u8).collect();
        let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counting = Counting { inner: std::io::Cursor::new(data.clone()), read: read.clone() };
        let mut s = ByteSource::new(Box::new(counting)).unwrap();
        let taken = || read.load(std::sync::atomic::Ordering::Relaxed);
        // Jumping from header to header reads a few KiB at each.
        for k in 1..4u64 {
            let before = taken();
            s.seek(k * BUFFER as u64 + 7);
            assert_eq!(s.peek(12).unwrap(), &data[k as usize * BUFFER + 7..k as usize * BUFFER + 19]);
            assert_eq!(taken() - before, FIRST_READ);
        }
        // Reading on from there grows the reads back to the whole buffer.
        s.seek(BUFFER as u64);
        let mut out = vec![0u8; 2 * BUFFER];
        s.read_exact(&mut out, "x").unwrap();
        assert_eq!(out, &data[BUFFER..3 * BUFFER]);
        // A large read after a far seek is one read, not a ramp.
        let before = taken();
        s.seek(100);
        assert_eq!(s.read_vec(100_000, "y").unwrap(), &data[100..100_100]);
        assert_eq!(taken() - before, 100_000);
    }

    #[test]
    fn take_consumes_across_refills() {
        let data: Vec<u8> = (0..(BUFFER * 2 + 100)).map(|i| (i % 253) as u8).collect();
        let mut s = source(data.clone());
        let mut at = 0;
        while at < data.len() {
            let got = s.take(188).unwrap().to_vec();
            let end = (at + 188).min(data.len());
            assert_eq!(got, &data[at..end]);
            at = end;
            assert_eq!(s.position(), at as u64);
        }
        assert!(s.take(188).unwrap().is_empty());
    }
}
