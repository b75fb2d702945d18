//! A file read at stated offsets (`pread`), with the read position kept here rather than
//! in the operating system's open file.
//!
//! Why: a process made by `fork` shares its parent's open files, and with them one read
//! position. A reader opened before a fork (a decoder a PyTorch `Dataset` opens in its
//! `__init__`, read in each DataLoader worker) would have its seeks and reads interleaved
//! with the other processes': each would read bytes from wherever another one left the
//! position, silently. Positioned reads share nothing, and cost the same system call.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// A file whose reads give their offset ([`Read`] and [`Seek`] over `pread`).
#[derive(Debug)]
pub struct PositionedFile {
    file: File,
    pos: u64,
}

impl PositionedFile {
    /// Reads `file` from its start.
    pub fn new(file: File) -> Self {
        PositionedFile { file, pos: 0 }
    }
}

impl Read for PositionedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PositionedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.file.metadata()?.len().checked_add_signed(d),
        };
        self.pos =
            target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a seek before the file's start"))?;
        Ok(self.pos)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    // Moves the file's own position too, but every read here states its offset.
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}

#[cfg(not(any(unix, windows)))]
fn read_at(mut file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    file.seek(SeekFrom::Start(at))?;
    file.read(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_where_it_is_whatever_the_shared_position() {
        let mut tmp = tempfile::tempfile().unwrap();
        tmp.write_all(b"0123456789").unwrap();
        let mut other = tmp.try_clone().unwrap(); // shares the open file, as a forked child does
        let mut f = PositionedFile::new(tmp);
        let mut two = [0u8; 2];
        f.seek(SeekFrom::Start(4)).unwrap();
        other.seek(SeekFrom::Start(0)).unwrap(); // the other process moves the shared position
        f.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"45");
        assert_eq!(f.seek(SeekFrom::Current(-1)).unwrap(), 5);
        assert_eq!(f.seek(SeekFrom::End(-2)).unwrap(), 8);
        f.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"89");
        assert_eq!(f.read(&mut two).unwrap(), 0, "the end");
        assert!(f.seek(SeekFrom::Current(-11)).is_err());
    }
}
