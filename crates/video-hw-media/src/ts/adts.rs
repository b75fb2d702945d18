//! AAC in ADTS form (ISO/IEC 13818-7 6.2, ISO/IEC 14496-3 1.A.2): the headers MPEG-TS
//! carries before every AAC frame. The demuxer strips them, so that the frames copy
//! straight into MP4 or Matroska, and builds the AudioSpecificConfig those need from
//! the first header.

pub use crate::audio::{ADTS_MIN_HEADER as MIN_HEADER, AdtsHeader};

/// A frame's duration in 90 kHz ticks.
pub fn duration_90k(h: &AdtsHeader) -> i64 {
    ticks(h.samples(), h.sample_rate)
}

/// `samples` at `rate` in 90 kHz ticks, rounded to nearest.
pub fn ticks(samples: u32, rate: u32) -> i64 {
    if rate == 0 {
        return 0;
    }
    (i64::from(samples) * 90_000 + i64::from(rate) / 2) / i64::from(rate)
}

/// Where the next ADTS frame of `b` starts at or after `from`: the first byte pair that
/// looks like a sync word and whose header reads (or `b.len()` when none does).
pub fn find_sync(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(k) = b.get(i..).and_then(|t| memchr::memchr(0xff, t)) {
        let at = i + k;
        match AdtsHeader::read(&b[at..]) {
            Ok(_) => return at,
            // A sync-like start too short to read: it may go on in the next PES.
            Err(_) if b.len() - at < MIN_HEADER && b.get(at + 1).is_none_or(|&x| x & 0xf6 == 0xf0) => return at,
            Err(_) => i = at + 1,
        }
    }
    b.len()
}

/// One frame found by [`next_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Where the frame starts in the buffer split.
    pub start: usize,
    /// Its header.
    pub header: AdtsHeader,
}

/// The next whole ADTS frame of `b` at or after `*at` (bytes that are no frame are
/// skipped), moving `*at` past it. `None` when no whole frame is left; `*at` is then where
/// a frame cut off by the end of `b` starts, or `b.len()`.
pub fn next_frame(b: &[u8], at: &mut usize) -> Option<Frame> {
    if *at >= b.len() {
        *at = b.len();
        return None;
    }
    if AdtsHeader::read(&b[*at..]).is_err() {
        *at = find_sync(b, *at);
    }
    match b.get(*at..).and_then(|t| AdtsHeader::read(t).ok()) {
        Some(h) if h.frame_len <= b.len() - *at => {
            let f = Frame { start: *at, header: h };
            *at += h.frame_len;
            Some(f)
        }
        // Cut off by the end of the buffer (or nothing left).
        _ => None,
    }
}

/// The whole ADTS frames of `b` in order, and where the part of a frame cut off by the
/// end of `b` starts (`b.len()` when none is). Bytes that are no frame are skipped.
#[cfg(test)]
pub fn split(b: &[u8], mut out: impl FnMut(Frame)) -> usize {
    let mut at = 0;
    while let Some(f) = next_frame(b, &mut at) {
        out(f);
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ADTS frame: AAC LC, 48 kHz, stereo, `body` after a 7-byte header.
    pub fn frame(body: &[u8]) -> Vec<u8> {
        let len = 7 + body.len();
        let mut f = vec![0xff, 0xf1, 0x4c, 0x80 | (len >> 11) as u8, (len >> 3) as u8, ((len as u8) << 5) | 0x1f, 0xfc];
        f.extend(body);
        f
    }

    #[test]
    fn header_and_config() {
        let f = frame(&[1, 2, 3]);
        let h = AdtsHeader::parse(&f).unwrap();
        assert_eq!((h.object_type, h.sample_rate, h.channels(), h.frame_len, h.header_len), (2, 48000, 2, 10, 7));
        assert_eq!(h.audio_specific_config(), [0x11, 0x90]);
        assert_eq!(duration_90k(&h), 1920);
        assert_eq!(ticks(1024, 44100), 2090);
        assert!(AdtsHeader::parse(&f[..6]).is_err());
        assert!(AdtsHeader::parse(&[0xff, 0xf1, 0x3c, 0x80, 0, 0x20, 0]).is_err(), "sampling index 15");
    }

    #[test]
    fn splitting_with_garbage_and_a_cut_frame() {
        let (a, b, c) = (frame(&[1; 20]), frame(&[2; 30]), frame(&[3; 40]));
        let mut buf = vec![0x12, 0xff, 0x00];
        buf.extend(&a);
        buf.extend([0xff, 0xfe, 9, 9]);
        buf.extend(&b);
        buf.extend(&c[..15]);
        let mut frames = Vec::new();
        let rest = split(&buf, |f| frames.push(f));
        let starts: Vec<usize> = frames.iter().map(|f| f.start).collect();
        assert_eq!(starts, vec![3, 3 + a.len() + 4]);
        assert_eq!(rest, buf.len() - 15);
        // A cut header at the end is kept for the next PES too.
        let mut buf = a.clone();
        buf.extend(&c[..3]);
        assert_eq!(split(&buf, |_| {}), a.len());
        assert_eq!(split(&[], |_| {}), 0);
    }
}
