//! A strict YUV4MPEG2 (`.y4m`) reader. The header must give `W`, `H` and `F`; only 4:2:0
//! colour spaces are taken (`C420jpeg`, `C420mpeg2`, `C420paldv`, `C420`, and `C420p10`
//! for 10-bit); every frame must start with `FRAME` and hold exactly one picture. A header
//! whose size does not match the data is found at the first frame that does not fit
//! (invalid input). Memory grows only with the bytes actually read, so a header that
//! claims a huge picture on a small file costs nothing.

use std::io::{BufRead, Read};

use video_hw::{Error, PixelFormat, Rational, Result};

/// Largest numerator or denominator of a frame rate.
pub const MAX_RATE_TERM: i64 = 1 << 30;

/// Longest header line read.
const MAX_HEADER: usize = 4096;
/// Longest `FRAME` line read (the marker and its optional parameters).
const MAX_FRAME_HEADER: usize = 1024;
/// Largest side accepted.
const MAX_SIDE: u32 = 16384;

/// The stream header of a Y4M file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Y4mHeader {
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Frame rate.
    pub fps: Rational,
    /// `Yuv420p` or `Yuv420p10`.
    pub format: PixelFormat,
}

/// Reads the frames of a Y4M stream.
pub struct Y4mReader<R> {
    reader: R,
    /// The header.
    pub header: Y4mHeader,
    frame_size: usize,
    frames: u64,
    offset: u64,
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!("y4m: {what}"))
}

/// Reads bytes up to and including `\n`, at most `max`; `None` at a clean end of input.
fn read_line(r: &mut impl BufRead, max: usize, what: &str) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = r.take(max as u64 + 1).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if n > max {
            bad(format!("{what} longer than {max} bytes"))
        } else {
            bad(format!("{what} cut short by the end of the file"))
        });
    }
    line.pop();
    Ok(Some(line))
}

impl<R: BufRead> Y4mReader<R> {
    /// Reads and checks the header.
    pub fn open(mut reader: R) -> Result<Self> {
        let line = read_line(&mut reader, MAX_HEADER, "header")?.ok_or_else(|| bad("empty input"))?;
        let header = parse_header(&line)?;
        let frame_size = header.format.frame_size(header.width, header.height);
        Ok(Y4mReader { reader, header, frame_size, frames: 0, offset: line.len() as u64 + 1 })
    }

    /// Bytes of one picture.
    pub fn frame_size(&self) -> usize {
        self.frame_size
    }

    /// Reads the next picture into `buf` (replacing its contents); false at the end.
    pub fn read_frame(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        let at = self.offset;
        let Some(line) = read_line(&mut self.reader, MAX_FRAME_HEADER, "FRAME line")? else {
            return Ok(false);
        };
        let marker_ok = line.starts_with(b"FRAME") && matches!(line.get(5), None | Some(b' '));
        if !marker_ok {
            return Err(bad(format!(
                "frame {} at byte {at}: no FRAME marker (the header's {}x{} {} does not match the data?)",
                self.frames, self.header.width, self.header.height, self.header.format
            )));
        }
        buf.clear();
        let n = (&mut self.reader).take(self.frame_size as u64).read_to_end(buf)?;
        if n != self.frame_size {
            return Err(bad(format!(
                "frame {} is {n} bytes, the header's {}x{} {} needs {}",
                self.frames, self.header.width, self.header.height, self.header.format, self.frame_size
            )));
        }
        self.offset += line.len() as u64 + 1 + n as u64;
        self.frames += 1;
        Ok(true)
    }
}

fn parse_ratio(v: &str) -> Option<(i64, i64)> {
    let (n, d) = v.split_once(':')?;
    Some((n.parse().ok()?, d.parse().ok()?))
}

/// Parses the header line (without its newline).
pub fn parse_header(line: &[u8]) -> Result<Y4mHeader> {
    let text = std::str::from_utf8(line).map_err(|_| bad("header is not text"))?;
    let mut tokens = text.split(' ');
    if tokens.next() != Some("YUV4MPEG2") {
        return Err(bad("not a YUV4MPEG2 file (no 'YUV4MPEG2 ' signature)"));
    }
    let (mut width, mut height, mut fps, mut format) = (None, None, None, PixelFormat::Yuv420p);
    for token in tokens.filter(|t| !t.is_empty()) {
        if !token.as_bytes()[0].is_ascii() {
            return Err(bad(format!("unknown header field '{token}'")));
        }
        let (tag, value) = token.split_at(1);
        match tag {
            "W" | "H" => {
                let v: u32 = value.parse().map_err(|_| bad(format!("bad size '{token}'")))?;
                if v == 0 || v > MAX_SIDE {
                    return Err(bad(format!("size '{token}' out of range (1..={MAX_SIDE})")));
                }
                if tag == "W" { width = Some(v) } else { height = Some(v) }
            }
            "F" => {
                let (n, d) = parse_ratio(value).ok_or_else(|| bad(format!("bad frame rate '{token}'")))?;
                let r = Rational::new(n, d);
                let max = MAX_RATE_TERM;
                if n <= 0 || d <= 0 || n > max || d > max || r.as_f64() > 1000.0 {
                    return Err(bad(format!("frame rate '{token}' (positive, at most 1000)")));
                }
                fps = Some(r);
            }
            "I" => {
                if !matches!(value, "p" | "?" | "t" | "b" | "m") {
                    return Err(bad(format!("bad interlacing '{token}'")));
                }
            }
            "A" => {
                parse_ratio(value).ok_or_else(|| bad(format!("bad aspect ratio '{token}'")))?;
            }
            "C" => {
                format = match value {
                    "420" | "420jpeg" | "420mpeg2" | "420paldv" => PixelFormat::Yuv420p,
                    "420p10" => PixelFormat::Yuv420p10,
                    other => {
                        return Err(Error::unsupported(
                            format!("y4m colour space C{other}"),
                            "only 4:2:0 is read (C420jpeg, C420mpeg2, C420paldv, C420, C420p10)",
                        ));
                    }
                }
            }
            "X" => {}
            _ => return Err(bad(format!("unknown header field '{token}'"))),
        }
    }
    match (width, height, fps) {
        (Some(width), Some(height), Some(fps)) => Ok(Y4mHeader { width, height, fps, format }),
        _ => Err(bad("the header needs W, H and F")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &[u8]) -> Result<Y4mReader<&[u8]>> {
        Y4mReader::open(bytes)
    }

    #[test]
    fn reads_frames() {
        let mut data = b"YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".to_vec();
        for i in 0..3u8 {
            data.extend_from_slice(b"FRAME\n");
            data.extend_from_slice(&[i; 12]);
        }
        let mut r = reader(&data).unwrap();
        assert_eq!(
            r.header,
            Y4mHeader { width: 4, height: 2, fps: Rational::new(25, 1), format: PixelFormat::Yuv420p }
        );
        let mut buf = Vec::new();
        let mut n = 0;
        while r.read_frame(&mut buf).unwrap() {
            assert_eq!(buf, vec![n; 12]);
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn lying_headers_are_invalid_input() {
        let mut buf = Vec::new();
        // Claims 8x2 (24 bytes per frame) but frames hold 12 bytes.
        let mut data = b"YUV4MPEG2 W8 H2 F25:1\n".to_vec();
        for _ in 0..3 {
            data.extend_from_slice(b"FRAME\n");
            data.extend_from_slice(&[0; 12]);
        }
        // The lie shows at the latest when the data no longer lines up with FRAME markers.
        let mut r = reader(&data).unwrap();
        let e = loop {
            match r.read_frame(&mut buf) {
                Ok(true) => continue,
                Ok(false) => panic!("the lie went unnoticed"),
                Err(e) => break e,
            }
        };
        assert_eq!(e.exit_code(), 4, "{e}");
        // Claims 2x2 (6 bytes) but frames hold 12: the second FRAME marker is not there.
        let mut r = reader(b"YUV4MPEG2 W2 H2 F25:1\nFRAME\n\0\0\0\0\0\0\0\0\0\0\0\0FRAME\n").unwrap();
        assert!(r.read_frame(&mut buf).unwrap());
        assert_eq!(r.read_frame(&mut buf).err().unwrap().exit_code(), 4);
        // A huge claim on a tiny file: an error, no huge allocation.
        let e = reader(b"YUV4MPEG2 W16384 H16384 F25:1\nFRAME\n\0\0").unwrap().read_frame(&mut buf).err().unwrap();
        assert_eq!(e.exit_code(), 4);
    }

    #[test]
    fn bad_headers() {
        for h in [
            &b"YUV4MPEG2 W0 H2 F25:1\n"[..],
            b"YUV4MPEG2 W99999 H2 F25:1\n",
            b"YUV4MPEG2 W4 H2 F0:1\n",
            b"YUV4MPEG2 W4 H2\n",
            b"YUV4MPEG2 W4 H2 F25:1 Q7\n",
            "YUV4MPEG2 W4 H2 F25:1 \u{e9}\n".as_bytes(),
            b"YUV4MPEG2 W4 H2 F25:1 W\xff\n",
            b"YUV4MPEG W4 H2 F25:1\n",
            b"YUV4MPEG2 W4 H2 F25:1",
            b"",
        ] {
            let e = reader(h).err().unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(h)));
            assert_eq!(e.exit_code(), 4, "{e}");
        }
        let e = reader(b"YUV4MPEG2 W4 H2 F25:1 C444\n").err().unwrap();
        assert_eq!(e.exit_code(), 3, "{e}");
        let long = [b"YUV4MPEG2 ".as_slice(), &[b'X'; 5000], b"\n"].concat();
        assert_eq!(reader(&long).err().unwrap().exit_code(), 4);
    }
}
