//! Opus in MPEG-TS (ETSI TS 102 366 style mapping of the Opus working group, as ffmpeg
//! writes and reads it): each access unit in a PES comes after a control header (prefix
//! 0x3FF, trim and extension flags, the unit's size as a run of 0xFF bytes plus a last
//! byte). The demuxer strips the headers, so that packets copy into Matroska or MP4 as
//! they are, and builds the `OpusHead` those need from the PMT's channel configuration.

/// One access unit of a PES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    /// Where its control header starts.
    pub start: usize,
    /// Where the Opus packet starts.
    pub body: usize,
    /// Its length.
    pub len: usize,
}

/// The next access unit of `b` at or after `*at`, moving `*at` past it; `None` when no
/// whole unit is left (bytes that are no control header end the PES: without the header
/// there is no telling where a unit starts).
pub fn next_unit(b: &[u8], at: &mut usize) -> Option<Unit> {
    let start = *at;
    let h = b.get(start..)?;
    if h.len() < 3 || (u16::from_be_bytes([h[0], h[1]]) >> 5) != 0x3ff {
        *at = b.len();
        return None;
    }
    let (start_trim, end_trim, extension) = (h[1] & 0x10 != 0, h[1] & 0x08 != 0, h[1] & 0x04 != 0);
    let mut i = 2;
    let mut len = 0usize;
    loop {
        let &x = h.get(i)?;
        i += 1;
        len += usize::from(x);
        if x != 0xff {
            break;
        }
    }
    i += 2 * usize::from(start_trim) + 2 * usize::from(end_trim);
    if extension {
        i += 1 + usize::from(*h.get(i)?);
    }
    if i + len > h.len() || len == 0 {
        *at = b.len();
        return None;
    }
    *at = start + i + len;
    Some(Unit { start, body: start + i, len })
}

/// The duration of an Opus packet in 90 kHz ticks, from its TOC byte (RFC 6716 3.1)
/// and frame count; 0 when it cannot be read.
pub fn duration_90k(packet: &[u8]) -> i64 {
    let Some(&toc) = packet.first() else { return 0 };
    let config = toc >> 3;
    // Frame sizes in 1/10 ms: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
    let tenths: i64 = match config {
        0..=11 => [100, 200, 400, 600][usize::from(config & 3)],
        12..=15 => [100, 200][usize::from(config & 1)],
        _ => [25, 50, 100, 200][usize::from(config & 3)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |&c| i64::from(c & 0x3f)),
    };
    frames * tenths * 9
}

/// The `OpusHead` (RFC 7845 5.1) for the PMT's `channel_config_code` (1..=8 channels;
/// more than 2 use mapping family 1 in Vorbis order, as the TS mapping defines them).
/// `None` for codes it does not define that way (0x80 dual mono, 0x81 explicit mapping).
pub fn opus_head(code: u8) -> Option<Vec<u8>> {
    const STREAMS: [u8; 9] = [1, 1, 1, 2, 2, 3, 4, 4, 5];
    const COUPLED: [u8; 9] = [1, 0, 1, 1, 2, 2, 2, 3, 3];
    const MAP: [&[u8]; 8] = [
        &[0],
        &[0, 1],
        &[0, 2, 1],
        &[0, 1, 2, 3],
        &[0, 4, 1, 2, 3],
        &[0, 4, 1, 2, 3, 5],
        &[0, 4, 1, 2, 3, 5, 6],
        &[0, 6, 1, 2, 3, 4, 5, 7],
    ];
    let channels = match code {
        1..=8 => code,
        _ => return None,
    };
    let mut head = b"OpusHead".to_vec();
    head.extend([1, channels]);
    head.extend(0u16.to_le_bytes()); // pre-skip: the TS mapping trims with control headers
    head.extend(48_000u32.to_le_bytes());
    head.extend(0i16.to_le_bytes()); // output gain
    if channels <= 2 {
        head.push(0);
    } else {
        let c = usize::from(channels);
        head.extend([1, STREAMS[c], COUPLED[c]]);
        head.extend(MAP[c - 1]);
    }
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_headers() {
        // ffmpeg's: 7f e0 (no flags), size 300 = ff 2d, then the packet; a second unit of 3
        // bytes with start and end trim and a 1-byte extension.
        let mut b = vec![0x7f, 0xe0, 0xff, 0x2d];
        b.extend([0xf8; 300]);
        b.extend([0x7f, 0xfc, 3, 0, 5, 0, 0, 1, 0xaa, 0x08, 0x09, 0x0a]);
        let mut at = 0;
        assert_eq!(next_unit(&b, &mut at), Some(Unit { start: 0, body: 4, len: 300 }));
        assert_eq!(next_unit(&b, &mut at), Some(Unit { start: 304, body: 313, len: 3 }));
        assert_eq!((next_unit(&b, &mut at), at), (None, b.len()));
        // Cut short, or no header: nothing.
        let mut at = 0;
        assert_eq!(next_unit(&b[..100], &mut at), None);
        assert_eq!(next_unit(&[1, 2, 3, 4], &mut 0), None);
        assert_eq!(next_unit(&[0x7f, 0xe0, 0xff], &mut 0), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_90k(&[0xf8]), 1800, "CELT 20 ms, one frame");
        assert_eq!(duration_90k(&[0x09]), 1800 * 2, "SILK 20 ms, two frames");
        assert_eq!(duration_90k(&[0x03, 0x03]), 900 * 3, "SILK 10 ms, code 3, three frames");
        assert_eq!(duration_90k(&[0x80]), 225, "CELT 2.5 ms");
        assert_eq!(duration_90k(&[]), 0);
    }

    #[test]
    fn heads() {
        let mono = opus_head(1).unwrap();
        assert_eq!(&mono[..10], b"OpusHead\x01\x01");
        assert_eq!(mono.len(), 19);
        let six = opus_head(6).unwrap();
        assert_eq!(&six[18..], &[1, 4, 2, 0, 4, 1, 2, 3, 5]);
        assert_eq!(opus_head(0x80), None);
    }
}
