//! PES packets: reassembling one PID's packetized elementary stream from transport
//! packets, and reading each PES header (the 33-bit PTS and DTS).

/// The largest PES kept (a PES is one access unit; an 8K intra picture is far smaller).
/// A longer one is dropped and reported.
pub const MAX_PES: usize = 64 << 20;

/// One bit past the largest 33-bit timestamp.
pub const WRAP: i64 = 1 << 33;

/// What a PES header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PesHeader {
    /// Presentation timestamp (33 bits, 90 kHz).
    pub pts: Option<u64>,
    /// Decoding timestamp, when it differs from the PTS.
    pub dts: Option<u64>,
    /// Bytes before the payload (6, or 9 + `PES_header_data_length`).
    pub len: usize,
    /// Payload bytes `PES_packet_length` promises; `None` for 0 (unbounded: video).
    pub payload_len: Option<usize>,
}

/// Reading a PES header from the bytes gathered so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderRead {
    /// Not enough bytes yet.
    More,
    /// The header.
    Done(PesHeader),
    /// Not a PES header: why.
    Bad(&'static str),
}

/// Stream ids whose PES carry no optional header (ISO/IEC 13818-1 2.4.3.7): program
/// stream map, padding, private stream 2, ECM, EMM, program stream directory, DSM-CC,
/// H.222.1 type E.
fn headerless(stream_id: u8) -> bool {
    matches!(stream_id, 0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff)
}

/// A 33-bit timestamp from its 5-byte PES form (marker bits not checked, as decoders do).
pub fn timestamp(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 7) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

/// Reads the PES header at the start of `b`.
pub fn parse_header(b: &[u8]) -> HeaderRead {
    let n = b.len().min(3);
    if b[..n] != [0, 0, 1][..n] {
        return HeaderRead::Bad("no packet_start_code_prefix");
    }
    if b.len() < 6 {
        return HeaderRead::More;
    }
    let packet_len = usize::from(u16::from_be_bytes([b[4], b[5]]));
    if headerless(b[3]) {
        return HeaderRead::Done(PesHeader { pts: None, dts: None, len: 6, payload_len: Some(packet_len) });
    }
    if b.len() < 9 {
        return HeaderRead::More;
    }
    if b[6] & 0xc0 != 0x80 {
        return HeaderRead::Bad("PES header without its '10' marker bits");
    }
    let flags = b[7] >> 6;
    let data_len = usize::from(b[8]);
    let len = 9 + data_len;
    if packet_len != 0 && packet_len + 6 < len {
        return HeaderRead::Bad("PES_packet_length shorter than the PES header");
    }
    let need = match flags {
        2 => 5,
        3 => 10,
        _ => 0,
    };
    if data_len < need {
        return HeaderRead::Bad("PES_header_data_length too short for its PTS/DTS");
    }
    if b.len() < len {
        return HeaderRead::More;
    }
    let pts = (flags >= 2).then(|| timestamp(&b[9..14]));
    let dts = (flags == 3).then(|| timestamp(&b[14..19]));
    let payload_len = (packet_len != 0).then(|| packet_len + 6 - len);
    HeaderRead::Done(PesHeader { pts, dts, len, payload_len })
}

/// The timestamp ≡ `raw` (mod 2^33) nearest to `reference`: undoes 33-bit wraps for a
/// stream whose timestamps move by less than half the range (13 hours) between calls.
pub fn unwrap(raw: u64, reference: i64) -> i64 {
    let raw = (raw as i64) & (WRAP - 1);
    let mut v = reference.div_euclid(WRAP) * WRAP + raw;
    if v - reference > WRAP / 2 {
        v -= WRAP;
    } else if reference - v > WRAP / 2 {
        v += WRAP;
    }
    v
}

/// A PES being gathered from a PID's packets.
#[derive(Debug, Default)]
pub struct Pes {
    /// File offset of the transport packet it started in.
    pub pos: u64,
    /// The first packet had `random_access_indicator` set.
    pub random_access: bool,
    /// The header, once read whole.
    pub header: Option<PesHeader>,
    /// Before the header is read: the PES bytes so far. After: the payload kept.
    pub data: Vec<u8>,
    /// Payload bytes received (kept or not).
    pub payload: usize,
    /// Payload bytes kept at most (the rest are counted, not stored).
    pub keep: usize,
    /// A packet of it was lost (continuity gap) or flagged by the transport.
    pub damaged: bool,
}

/// What adding bytes to a [`Pes`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fed {
    /// Still gathering.
    Open,
    /// `PES_packet_length` is reached: the PES is whole (bytes past it are dropped).
    Full,
    /// Not a PES, or past [`MAX_PES`]: drop it.
    Bad(&'static str),
}

impl Pes {
    /// Starts a PES at the transport packet at `pos`.
    pub fn start(&mut self, pos: u64, random_access: bool, keep: usize) {
        self.pos = pos;
        self.random_access = random_access;
        self.header = None;
        self.data.clear();
        self.payload = 0;
        self.keep = keep;
        self.damaged = false;
    }

    /// Adds the payload of one transport packet.
    pub fn feed(&mut self, bytes: &[u8]) -> Fed {
        if self.header.is_some() {
            return self.add(bytes);
        }
        // Headers are at most 264 bytes and nearly always inside the first packet.
        self.data.extend_from_slice(bytes);
        match parse_header(&self.data) {
            HeaderRead::More if self.data.len() > 9 + 255 => Fed::Bad("PES header longer than any"),
            HeaderRead::More => Fed::Open,
            HeaderRead::Bad(why) => Fed::Bad(why),
            HeaderRead::Done(h) => {
                let rest = self.data.split_off(h.len);
                self.data.clear();
                self.header = Some(h);
                self.add(&rest)
            }
        }
    }

    /// Adds payload bytes (the header is read).
    fn add(&mut self, mut bytes: &[u8]) -> Fed {
        let limit = self.header.and_then(|h| h.payload_len);
        if let Some(l) = limit {
            bytes = &bytes[..bytes.len().min(l.saturating_sub(self.payload))];
        }
        if self.payload + bytes.len() > MAX_PES {
            return Fed::Bad("PES larger than 64 MiB");
        }
        let room = self.keep.saturating_sub(self.data.len());
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.payload += bytes.len();
        if limit == Some(self.payload) { Fed::Full } else { Fed::Open }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts_bytes(marker: u8, t: u64) -> [u8; 5] {
        [
            marker << 4 | ((t >> 29) as u8 & 0x0e) | 1,
            (t >> 22) as u8,
            ((t >> 14) as u8 & 0xfe) | 1,
            (t >> 7) as u8,
            ((t << 1) as u8) | 1,
        ]
    }

    /// A PES header with `pts`, `dts` and `len` bytes of payload (0: unbounded).
    pub fn header(pts: Option<u64>, dts: Option<u64>, len: usize) -> Vec<u8> {
        let hdl = pts.map_or(0, |_| 5) + dts.map_or(0, |_| 5);
        let packet_len = if len == 0 { 0 } else { len + 3 + hdl };
        let mut h = vec![0, 0, 1, 0xe0, (packet_len >> 8) as u8, packet_len as u8, 0x80];
        h.push(match (pts, dts) {
            (Some(_), Some(_)) => 0xc0,
            (Some(_), None) => 0x80,
            _ => 0,
        });
        h.push(hdl as u8);
        if let Some(p) = pts {
            h.extend(ts_bytes(if dts.is_some() { 3 } else { 2 }, p));
        }
        if let Some(d) = dts {
            h.extend(ts_bytes(1, d));
        }
        h
    }

    #[test]
    fn pts_and_dts() {
        let h = header(Some((1 << 33) - 1), Some(12345), 0);
        let HeaderRead::Done(p) = parse_header(&h) else { panic!() };
        assert_eq!((p.pts, p.dts, p.len, p.payload_len), (Some((1 << 33) - 1), Some(12345), 19, None));
        assert_eq!(parse_header(&h[..10]), HeaderRead::More);
        assert!(matches!(parse_header(&[0, 0, 2]), HeaderRead::Bad(_)));
        // A PES_packet_length shorter than its own header.
        let mut bad = header(Some(1), None, 0);
        bad[5] = 2;
        assert!(matches!(parse_header(&bad), HeaderRead::Bad(_)));
    }

    #[test]
    fn unwrapping_33_bits() {
        assert_eq!(unwrap(500, (1 << 33) - 1000), (1 << 33) + 500);
        assert_eq!(unwrap((1 << 33) - 1000, (1 << 33) + 500), (1 << 33) - 1000);
        assert_eq!(unwrap(90_000, 0), 90_000);
        assert_eq!(unwrap((1 << 33) - 10, 5), -10);
        assert_eq!(unwrap(7, 3 * (1 << 33) + 2), 3 * (1 << 33) + 7);
    }

    #[test]
    fn gathering_with_and_without_a_length() {
        // Length 0 (video): open until the next start.
        let mut pes = Pes::default();
        pes.start(0, true, usize::MAX);
        let mut first = header(Some(900), None, 0);
        first.extend([7; 50]);
        assert_eq!(pes.feed(&first), Fed::Open);
        assert_eq!(pes.feed(&[8; 184]), Fed::Open);
        assert_eq!((pes.data.len(), pes.payload), (234, 234));
        // A length: whole once reached; bytes past it are dropped.
        pes.start(0, false, usize::MAX);
        let mut first = header(Some(900), None, 200);
        first.extend([7; 150]);
        assert_eq!(pes.feed(&first), Fed::Open);
        assert_eq!(pes.feed(&[8; 184]), Fed::Full);
        assert_eq!(pes.data.len(), 200);
        // Only `keep` bytes kept, all counted.
        pes.start(0, false, 10);
        assert_eq!(pes.feed(&first), Fed::Open);
        assert_eq!((pes.data.len(), pes.payload), (10, 150));
        // A header split over packets.
        pes.start(0, false, usize::MAX);
        let h = header(Some(1), Some(0), 0);
        assert_eq!(pes.feed(&h[..4]), Fed::Open);
        assert_eq!(pes.feed(&h[4..12]), Fed::Open);
        assert_eq!(pes.feed(&[&h[12..], &[1, 2, 3][..]].concat()), Fed::Open);
        assert_eq!(pes.header.unwrap().pts, Some(1));
        assert_eq!(pes.data, [1, 2, 3]);
        // Garbage.
        pes.start(0, false, usize::MAX);
        assert!(matches!(pes.feed(&[1, 2, 3, 4]), Fed::Bad(_)));
    }
}
