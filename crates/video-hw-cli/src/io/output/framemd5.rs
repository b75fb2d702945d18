//! ffmpeg's `framemd5` format (`ffmpeg -f framemd5`, version 2): a header, then one line
//! per frame with the MD5 of its tightly packed planes, in the same column widths as
//! ffmpeg, so the output diffs against ffmpeg's and the committed references.

use std::io::Write;

use md5::{Digest, Md5};
use video_hw::{Rational, Result};

/// The header lines for one video stream; `sar` is the sample aspect ratio (`0/1` unknown).
pub fn header(width: u32, height: u32, tb: Rational, sar: Rational) -> String {
    format!(
        "#format: frame checksums\n#version: 2\n#hash: MD5\n#tb 0: {}/{}\n#media_type 0: video\n\
         #codec_id 0: rawvideo\n#dimensions 0: {width}x{height}\n#sar 0: {}/{}\n\
         #stream#, dts,        pts, duration,     size, hash\n",
        tb.num, tb.den, sar.num, sar.den
    )
}

/// One frame line: stream 0, timestamps `index` (one tick per frame), `size` bytes.
pub fn line(index: u64, size: usize, md5: &str) -> String {
    format!("0, {index:>10}, {index:>10}, {:>8}, {size:>8}, {md5}\n", 1)
}

/// Lower-case hex of a digest.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// One frame's checksum, made piece by piece, and its size.
#[derive(Default)]
pub struct Hash {
    md5: Md5,
    size: usize,
}

impl Hash {
    /// Nothing hashed yet.
    pub fn new() -> Self {
        Hash::default()
    }

    /// Hashes the frame's next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.size += bytes.len();
    }
}

/// Writes frame checksums; the header goes out with the first frame (or at the end).
pub struct FrameMd5Writer<W: Write> {
    out: W,
    sar: Rational,
    frames: u64,
    header_done: bool,
}

impl<W: Write> FrameMd5Writer<W> {
    /// A writer onto `out`; `sar` goes into the header (`0/1` when unknown).
    pub fn new(out: W, sar: Rational) -> Self {
        FrameMd5Writer { out, sar, frames: 0, header_done: false }
    }

    /// Writes the header unless it was written; `tb` is the timebase (1/frame rate).
    /// Returns the bytes written.
    pub fn ensure_header(&mut self, width: u32, height: u32, tb: Rational) -> Result<u64> {
        if self.header_done {
            return Ok(0);
        }
        let text = header(width, height, tb, self.sar);
        self.out.write_all(text.as_bytes())?;
        self.header_done = true;
        Ok(text.len() as u64)
    }

    /// Writes one frame's line for its packed bytes, given as consecutive runs; returns
    /// the bytes written.
    pub fn frame(&mut self, runs: &[&[u8]]) -> Result<u64> {
        let mut hash = Hash::new();
        for run in runs {
            hash.update(run);
        }
        self.frame_hashed(hash)
    }

    /// Writes one frame's line for bytes already hashed (given to `hash` piece by piece);
    /// returns the bytes written.
    pub fn frame_hashed(&mut self, hash: Hash) -> Result<u64> {
        let text = line(self.frames, hash.size, &hex(&hash.md5.finalize()));
        self.out.write_all(text.as_bytes())?;
        self.frames += 1;
        Ok(text.len() as u64)
    }

    /// Flushes the output.
    pub fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_match_ffmpeg() {
        assert_eq!(
            super::line(0, 115200, "6be823af88d305c0d455100c0c0c7d68"),
            "0,          0,          0,        1,   115200, 6be823af88d305c0d455100c0c0c7d68\n"
        );
        assert_eq!(super::hex(&<md5::Md5 as md5::Digest>::digest(b"")), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
