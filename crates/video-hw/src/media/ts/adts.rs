//! AAC in ADTS form (ISO/IEC 13818-7 6.2, ISO/IEC 14496-3 1.A.2): the headers MPEG-TS
//! carries before every AAC frame. The demuxer strips them, so that the frames copy
//! straight into MP4 or Matroska, and builds the AudioSpecificConfig those need from
//! the first header.

/// Samples per second by `sampling_frequency_index` (13..=15 are reserved or explicit,
/// which ADTS cannot carry).
const SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/// The shortest header (without CRC).
pub const MIN_HEADER: usize = 7;

/// One ADTS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// `profile` (the MPEG-4 audio object type minus one: 1 = AAC LC).
    pub profile: u8,
    /// `sampling_frequency_index` (< 13).
    pub sampling_index: u8,
    /// `channel_configuration` (0: given by a program config element in the frame).
    pub channel_config: u8,
    /// The whole frame's length, header included.
    pub frame_len: usize,
    /// The header's length: 7, or 9 with a CRC.
    pub header_len: usize,
    /// `number_of_raw_data_blocks_in_frame` (0: one block of 1024 samples).
    pub raw_blocks: u8,
}

impl AdtsHeader {
    /// Reads the header at the start of `b`; `None` unless it is one (sync word, layer 0,
    /// a sampling index ADTS allows, a frame length that holds the header).
    pub fn parse(b: &[u8]) -> Option<AdtsHeader> {
        if b.len() < MIN_HEADER || b[0] != 0xff || b[1] & 0xf6 != 0xf0 {
            return None;
        }
        let protection_absent = b[1] & 1 != 0;
        let sampling_index = (b[2] >> 2) & 0x0f;
        if usize::from(sampling_index) >= SAMPLE_RATES.len() {
            return None;
        }
        let frame_len = (usize::from(b[3] & 3) << 11) | (usize::from(b[4]) << 3) | usize::from(b[5] >> 5);
        let header_len = if protection_absent { 7 } else { 9 };
        if frame_len <= header_len {
            return None;
        }
        Some(AdtsHeader {
            profile: b[2] >> 6,
            sampling_index,
            channel_config: ((b[2] & 1) << 2) | (b[3] >> 6),
            frame_len,
            header_len,
            raw_blocks: b[6] & 3,
        })
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        SAMPLE_RATES[usize::from(self.sampling_index)]
    }

    /// Channels (configuration 7 is 7.1; 0 leaves the count to the frame: reported as 0).
    pub fn channels(&self) -> u16 {
        match self.channel_config {
            7 => 8,
            c => u16::from(c),
        }
    }

    /// Samples per channel in the frame (1024 per raw data block).
    pub fn samples(&self) -> u32 {
        1024 * (u32::from(self.raw_blocks) + 1)
    }

    /// The frame's duration in 90 kHz ticks.
    pub fn duration_90k(&self) -> i64 {
        ticks(self.samples(), self.sample_rate())
    }

    /// The 2-byte AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): audio object type,
    /// sampling frequency index, channel configuration, then GASpecificConfig's three
    /// flags at 0 (1024-sample frames, no core coder, no extension).
    pub fn audio_specific_config(&self) -> [u8; 2] {
        let aot = u16::from(self.profile) + 1;
        let v = (aot << 11) | (u16::from(self.sampling_index) << 7) | (u16::from(self.channel_config) << 3);
        v.to_be_bytes()
    }
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
        match AdtsHeader::parse(&b[at..]) {
            Some(_) => return at,
            // A sync-like start too short to read: it may go on in the next PES.
            None if b.len() - at < MIN_HEADER && b.get(at + 1).is_none_or(|&x| x & 0xf6 == 0xf0) => return at,
            None => i = at + 1,
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
    if AdtsHeader::parse(&b[*at..]).is_none() {
        *at = find_sync(b, *at);
    }
    match b.get(*at..).and_then(AdtsHeader::parse) {
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
        assert_eq!((h.profile, h.sample_rate(), h.channels(), h.frame_len, h.header_len), (1, 48000, 2, 10, 7));
        assert_eq!(h.audio_specific_config(), [0x11, 0x90]);
        assert_eq!(h.duration_90k(), 1920);
        assert_eq!(ticks(1024, 44100), 2090);
        assert!(AdtsHeader::parse(&f[..6]).is_none());
        assert!(AdtsHeader::parse(&[0xff, 0xf1, 0x3c, 0x80, 0, 0x20, 0]).is_none(), "sampling index 15");
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
