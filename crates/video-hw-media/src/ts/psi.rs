//! Program-specific information: the sections of the program association table (PAT)
//! and program map table (PMT), reassembled from packets (pointer_field, sections that
//! span packets, several sections in one packet), checked (lengths, CRC-32), and read
//! into the elementary streams of a program with what their descriptors say.

use crate::types::{AudioCodec, TrackCodec, TrackKind};
use video_hw_types::codec::Codec;

/// The largest PSI section (ISO/IEC 13818-1 2.4.4: `section_length` ≤ 1021 for PAT and
/// PMT, ≤ 4093 for private sections).
const MAX_SECTION: usize = 4096;

/// `table_id` of the PAT.
pub const TABLE_PAT: u8 = 0x00;
/// `table_id` of a PMT section.
pub const TABLE_PMT: u8 = 0x02;

/// The CRC-32 of MPEG-2 sections (polynomial 0x04C11DB7, MSB first, initial value all
/// ones, no final XOR), by table.
const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 { (c << 1) ^ 0x04C1_1DB7 } else { c << 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The MPEG-2 CRC-32 of `data`; a section with its CRC included gives 0.
pub fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0xffff_ffff, |crc, &b| (crc << 8) ^ CRC_TABLE[((crc >> 24) as u8 ^ b) as usize])
}

/// Reassembles the sections of one PID from its packets' payloads.
#[derive(Debug, Default)]
pub struct SectionBuffer {
    /// The bytes of the section being collected (empty when none is).
    buf: Vec<u8>,
}

impl SectionBuffer {
    /// Takes one packet's payload; calls `section` with each section it completes (CRC not
    /// yet checked). Damage (a pointer past the payload, a section longer than
    /// [`MAX_SECTION`]) drops what is being collected.
    pub fn push(&mut self, unit_start: bool, payload: &[u8], mut section: impl FnMut(&[u8])) {
        if !unit_start {
            if !self.buf.is_empty() {
                // A section cannot start in a packet without payload_unit_start_indicator,
                // so the bytes after this one's end are stuffing.
                self.extend(payload, &mut section);
            }
            return;
        }
        let Some((&pointer, rest)) = payload.split_first() else {
            self.buf.clear();
            return;
        };
        let pointer = usize::from(pointer);
        if pointer > rest.len() {
            self.buf.clear();
            return;
        }
        // The bytes before the pointer end the section collected so far.
        if !self.buf.is_empty() {
            self.extend(&rest[..pointer], &mut section);
        }
        // Whatever was not completed by them never will be.
        self.buf.clear();
        let mut data = &rest[pointer..];
        while let Some(&table_id) = data.first() {
            if table_id == 0xff {
                break; // stuffing to the end of the packet
            }
            if data.len() < 3 {
                self.buf.extend_from_slice(data);
                break;
            }
            let len = section_len(data);
            if len > MAX_SECTION {
                break;
            }
            if data.len() < len {
                self.buf.extend_from_slice(data);
                break;
            }
            section(&data[..len]);
            data = &data[len..];
        }
    }

    /// Adds bytes to the section being collected, handing it out once whole.
    fn extend(&mut self, bytes: &[u8], section: &mut impl FnMut(&[u8])) {
        let need = if self.buf.len() >= 3 { section_len(&self.buf) } else { 3 };
        let take = need.saturating_sub(self.buf.len()).min(bytes.len());
        self.buf.extend_from_slice(&bytes[..take]);
        if self.buf.len() == 3 && bytes.len() > take {
            // The length just became known: take the rest of the section.
            self.extend(&bytes[take..], section);
            return;
        }
        if self.buf.len() >= 3 {
            let len = section_len(&self.buf);
            if len > MAX_SECTION {
                self.buf.clear();
            } else if self.buf.len() == len {
                section(&self.buf);
                self.buf.clear();
            }
        }
    }
}

/// A section's whole length from its first 3 bytes (header and CRC included).
fn section_len(head: &[u8]) -> usize {
    3 + ((usize::from(head[1] & 0x0f) << 8) | usize::from(head[2]))
}

/// The long-form section header common to PAT and PMT, with the section's body (the
/// bytes between the header and the CRC). `Err` says what is wrong.
fn long_section(s: &[u8], table_id: u8) -> Result<(u16, &[u8]), String> {
    if s.len() < 12 {
        return Err(format!("section of {} bytes is too short", s.len()));
    }
    if s[0] != table_id {
        return Err(format!("table_id 0x{:02x} where 0x{table_id:02x} was expected", s[0]));
    }
    if s[1] & 0x80 == 0 {
        return Err("section_syntax_indicator is 0".into());
    }
    if crc32(s) != 0 {
        return Err("CRC-32 mismatch".into());
    }
    let id = u16::from_be_bytes([s[3], s[4]]);
    if s[5] & 1 == 0 {
        return Err("current_next_indicator is 0 (a table not yet in force)".into());
    }
    Ok((id, &s[8..s.len() - 4]))
}

/// The programs a PAT section lists: (program_number, PMT PID), network PID left out.
pub fn parse_pat(s: &[u8]) -> Result<Vec<(u16, u16)>, String> {
    let (_, body) = long_section(s, TABLE_PAT)?;
    Ok(body
        .chunks_exact(4)
        .map(|e| (u16::from_be_bytes([e[0], e[1]]), u16::from_be_bytes([e[2] & 0x1f, e[3]])))
        .filter(|&(program, _)| program != 0)
        .collect())
}

/// An elementary stream of a PMT, with what its descriptors say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// `stream_type`.
    pub stream_type: u8,
    /// `elementary_PID`.
    pub pid: u16,
    /// The registration descriptor's (tag 0x05) `format_identifier`.
    pub registration: Option<[u8; 4]>,
    /// The ISO 639 language descriptor's (tag 0x0A) code, unless "und".
    pub language: Option<String>,
    /// The extension descriptor's (tag 0x7F, extension 0x80) Opus `channel_config_code`.
    pub opus_channels: Option<u8>,
    /// Tags of every descriptor of the stream, in order.
    pub tags: Vec<u8>,
}

/// A program's PMT: its number and elementary streams in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pmt {
    /// `program_number`.
    pub program: u16,
    /// The program-level registration descriptor's `format_identifier` (Blu-ray's
    /// "HDMV", …).
    pub registration: Option<[u8; 4]>,
    /// The elementary streams.
    pub streams: Vec<Stream>,
}

/// Reads a PMT section. Lengths that overrun the section are errors, never panics.
pub fn parse_pmt(s: &[u8]) -> Result<Pmt, String> {
    let (program, body) = long_section(s, TABLE_PMT)?;
    if body.len() < 4 {
        return Err("PMT body shorter than PCR_PID and program_info_length".into());
    }
    let info_len = (usize::from(body[2] & 0x0f) << 8) | usize::from(body[3]);
    let Some(info) = body.get(4..4 + info_len) else {
        return Err(format!("program_info_length {info_len} overruns the section"));
    };
    let mut registration = None;
    for (tag, d) in descriptors(info) {
        if tag == 0x05 && d.len() >= 4 {
            registration = Some([d[0], d[1], d[2], d[3]]);
        }
    }
    let mut rest = &body[4 + info_len..];
    let mut streams = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 5 {
            return Err(format!("{} stray bytes at the end of the PMT's stream loop", rest.len()));
        }
        let stream_type = rest[0];
        let pid = u16::from_be_bytes([rest[1] & 0x1f, rest[2]]);
        let es_len = (usize::from(rest[3] & 0x0f) << 8) | usize::from(rest[4]);
        let Some(es_info) = rest.get(5..5 + es_len) else {
            return Err(format!("ES_info_length {es_len} of PID {pid} overruns the section"));
        };
        let mut st =
            Stream { stream_type, pid, registration: None, language: None, opus_channels: None, tags: Vec::new() };
        for (tag, d) in descriptors(es_info) {
            st.tags.push(tag);
            match tag {
                0x05 if d.len() >= 4 => st.registration = Some([d[0], d[1], d[2], d[3]]),
                0x0a if d.len() >= 3 => st.language = language(&d[..3]),
                0x7f if d.len() >= 2 && d[0] == 0x80 => st.opus_channels = Some(d[1]),
                _ => {}
            }
        }
        streams.push(st);
        rest = &rest[5 + es_len..];
    }
    Ok(Pmt { program, registration, streams })
}

/// (tag, body) of each descriptor in a descriptor loop; a descriptor that overruns the
/// loop ends it.
fn descriptors(mut b: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 2 {
            return None;
        }
        let (tag, len) = (b[0], usize::from(b[1]));
        let body = b.get(2..2 + len)?;
        b = &b[2 + len..];
        Some((tag, body))
    })
}

/// An ISO 639-2 code as text, unless undetermined or not three letters.
fn language(code: &[u8]) -> Option<String> {
    if !code.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let s = String::from_utf8_lossy(code).to_ascii_lowercase();
    (s != "und").then_some(s)
}

impl Stream {
    /// What the stream is: its kind and codec, from `stream_type` and, for private data
    /// (0x06) and codes outside the standard's, the descriptors. Never fails: a type this
    /// crate does not know is `Other("ts-0xNN")`.
    pub fn codec(&self, program_registration: Option<[u8; 4]>) -> (TrackKind, TrackCodec) {
        use TrackKind::{Audio, Data, Subtitle, Video};
        let reg = self.registration.or(program_registration);
        let audio = |a| (Audio, TrackCodec::Audio(a));
        let other = |kind, name: &str| (kind, TrackCodec::Other(name.to_string()));
        let raw = format!("ts-0x{:02x}", self.stream_type);
        match self.stream_type {
            0x1b => (Video, TrackCodec::Video(Codec::H264)),
            0x24 => (Video, TrackCodec::Video(Codec::Hevc)),
            0x0f => audio(AudioCodec::Aac),
            0x11 => other(Audio, "aac_latm"),
            // Layer I/II or III: the probe of the first frame tells Mp3 apart.
            0x03 | 0x04 => audio(AudioCodec::Mp2),
            0x81 => audio(AudioCodec::Ac3),
            0x87 => audio(AudioCodec::Eac3),
            0x06 => {
                if reg == Some(*b"Opus") {
                    audio(AudioCodec::Opus)
                } else if self.registration.is_some_and(super::av1::is_av1_registration) {
                    (Video, TrackCodec::Video(Codec::Av1))
                } else if self.tags.contains(&0x6a) || self.registration == Some(*b"AC-3") {
                    audio(AudioCodec::Ac3)
                } else if self.tags.contains(&0x7a) || self.registration == Some(*b"EAC3") {
                    audio(AudioCodec::Eac3)
                } else if self.tags.contains(&0x59) {
                    other(Subtitle, "dvb_subtitle")
                } else if self.tags.contains(&0x56) {
                    other(Subtitle, "dvb_teletext")
                } else {
                    (Data, TrackCodec::Other(raw))
                }
            }
            // MPEG-1/2 video, MPEG-4 Part 2: decoded by the FFmpeg engine, their headers in band.
            0x01 | 0x02 | 0x10 => match crate::codec_ids::ts_stream_type(self.stream_type) {
                Some(c) => (Video, TrackCodec::Video(c)),
                None => (Video, TrackCodec::Other(raw)),
            },
            // MVC, VC-1, AVS, Dirac, AV1 in private form.
            0x20 | 0x42 | 0xd1 | 0xea => (Video, TrackCodec::Other(raw)),
            // Blu-ray and ATSC audio (LPCM, DTS, TrueHD, DTS-HD, secondary audio).
            0x80 | 0x82..=0x86 | 0xa1 | 0xa2 => (Audio, TrackCodec::Other(raw)),
            // Blu-ray presentation and text subtitles.
            0x90 | 0x92 => (Subtitle, TrackCodec::Other(raw)),
            _ => (Data, TrackCodec::Other(raw)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long-form section of `table_id` with `id` and `body`, its CRC appended.
    pub fn section(table_id: u8, id: u16, body: &[u8]) -> Vec<u8> {
        let len = 5 + body.len() + 4;
        let mut s = vec![table_id, 0xb0 | (len >> 8) as u8, len as u8];
        s.extend(id.to_be_bytes());
        s.extend([0xc1, 0, 0]);
        s.extend(body);
        let crc = crc32(&s);
        s.extend(crc.to_be_bytes());
        s
    }

    #[test]
    fn crc_of_a_known_pat() {
        // ffmpeg's PAT for program 1 on PID 0x1000.
        let pat = [0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2];
        assert_eq!(crc32(&pat), 0);
        assert_eq!(parse_pat(&pat).unwrap(), vec![(1, 0x1000)]);
        let mut bad = pat;
        bad[10] ^= 1;
        assert!(parse_pat(&bad).unwrap_err().contains("CRC"));
    }

    #[test]
    fn pmt_streams_and_descriptors() {
        let mut body = vec![0xe1, 0x00, 0xf0, 0x00];
        body.extend([0x1b, 0xe1, 0x00, 0xf0, 0x00]);
        body.extend([0x0f, 0xe1, 0x01, 0xf0, 0x06, 0x0a, 0x04, b'e', b'n', b'g', 0]);
        body.extend([0x06, 0xe1, 0x02, 0xf0, 0x0a, 0x05, 0x04, b'O', b'p', b'u', b's', 0x7f, 0x02, 0x80, 0x02]);
        body.extend([0x06, 0xe1, 0x03, 0xf0, 0x03, 0x6a, 0x01, 0x00]);
        body.extend([0x06, 0xe1, 0x04, 0xf0, 0x06, 0x0a, 0x04, b'u', b'n', b'd', 0]);
        body.extend([0x99, 0xe1, 0x05, 0xf0, 0x00]);
        // AV1: the registration descriptor, then the AV1 video descriptor.
        body.extend([
            0x06, 0xe1, 0x06, 0xf0, 0x0c, 0x05, 0x04, b'A', b'V', b'0', b'1', 0x80, 0x04, 0x81, 0x08, 0x0c, 0x00,
        ]);
        let pmt = parse_pmt(&section(TABLE_PMT, 1, &body)).unwrap();
        let got: Vec<_> = pmt.streams.iter().map(|s| (s.pid, s.codec(None).1.name().to_string())).collect();
        let want = [
            (0x100, "h264"),
            (0x101, "aac"),
            (0x102, "opus"),
            (0x103, "ac3"),
            (0x104, "ts-0x06"),
            (0x105, "ts-0x99"),
            (0x106, "av1"),
        ];
        assert_eq!(got, want.map(|(p, n)| (p, n.to_string())));
        assert_eq!(pmt.streams[1].language.as_deref(), Some("eng"));
        assert_eq!(pmt.streams[4].language, None);
        assert_eq!(pmt.streams[2].opus_channels, Some(2));
    }

    #[test]
    fn pmt_lengths_that_overrun_are_errors() {
        // program_info_length 0xfff in a short section (the length that makes a crate panic).
        let e = parse_pmt(&section(TABLE_PMT, 1, &[0xe1, 0x00, 0xff, 0xff, 0x1b])).unwrap_err();
        assert!(e.contains("program_info_length"), "{e}");
        let e = parse_pmt(&section(TABLE_PMT, 1, &[0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x09, 0x0a]))
            .unwrap_err();
        assert!(e.contains("ES_info_length"), "{e}");
        assert!(parse_pmt(&[0x02, 0xb0]).is_err());
    }

    #[test]
    fn sections_across_packets_and_several_in_one() {
        let a = section(TABLE_PMT, 1, &[0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00]);
        let b = section(TABLE_PAT, 1, &[0x00, 0x01, 0xf0, 0x00]);
        let mut got = Vec::new();
        let mut sb = SectionBuffer::default();
        // `a` split over three payloads, byte by byte at first, `b` following in the last.
        let mut p1 = vec![0u8];
        p1.extend(&a[..2]);
        sb.push(true, &p1, |s| got.push(s.to_vec()));
        sb.push(false, &a[2..9], |s| got.push(s.to_vec()));
        let mut p3 = vec![(a.len() - 9) as u8];
        p3.extend(&a[9..]);
        p3.extend(&b);
        p3.extend([0xff; 20]);
        sb.push(true, &p3, |s| got.push(s.to_vec()));
        assert_eq!(got, vec![a.clone(), b.clone()]);
        // A pointer past the payload drops everything; nothing is handed out.
        got.clear();
        sb.push(true, &[200, 0, 1], |s| got.push(s.to_vec()));
        sb.push(false, &a, |s| got.push(s.to_vec()));
        assert!(got.is_empty());
        // A section longer than any PSI section is dropped.
        sb.push(true, &[0, 0x02, 0xbf, 0xff, 0, 0], |s| got.push(s.to_vec()));
        sb.push(false, &[0; 184], |s| got.push(s.to_vec()));
        assert!(got.is_empty());
    }
}
