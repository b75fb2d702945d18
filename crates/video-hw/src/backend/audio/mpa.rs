//! MPEG audio frames (MP1, MP2, MP3) inside one packet: MPEG-TS carries several per PES
//! packet, and Symphonia's decoder takes one frame at a time (FFmpeg's splits them with its
//! parser).

/// Bit rates in kbit/s by (MPEG-1?, layer), index 1..=14.
const RATES: [[u16; 14]; 5] = [
    [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // V1 L1
    [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],    // V1 L2
    [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],     // V1 L3
    [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],    // V2 L1
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],         // V2 L2, L3
];

/// The length in bytes of the frame whose header starts `b`, if it is a valid header.
pub(crate) fn frame_len(b: &[u8]) -> Option<usize> {
    if b.len() < 4 || b[0] != 0xff || b[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (b[1] >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
    let layer = (b[1] >> 1) & 3; // 1: III, 2: II, 3: I
    let rate_idx = usize::from(b[2] >> 4);
    let sr_idx = usize::from((b[2] >> 2) & 3);
    let pad = usize::from((b[2] >> 1) & 1);
    if version == 1 || layer == 0 || rate_idx == 0 || rate_idx == 15 || sr_idx == 3 {
        return None;
    }
    let v1 = version == 3;
    let table = match (v1, layer) {
        (true, 3) => 0,
        (true, 2) => 1,
        (true, _) => 2,
        (false, 3) => 3,
        (false, _) => 4,
    };
    let kbps = usize::from(RATES[table][rate_idx - 1]);
    let sr = [44100usize, 48000, 32000][sr_idx]
        >> match version {
            3 => 0,
            2 => 1,
            _ => 2,
        };
    let len = match layer {
        3 => (12 * kbps * 1000 / sr + pad) * 4,
        2 => 144 * kbps * 1000 / sr + pad,
        _ if v1 => 144 * kbps * 1000 / sr + pad,
        _ => 72 * kbps * 1000 / sr + pad,
    };
    (len >= 4).then_some(len)
}

/// The frames of `packet`, in order; what does not parse as whole frames is one last piece
/// (the decoder reports its damage).
pub(crate) fn frames(packet: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < packet.len() {
        match frame_len(&packet[at..]) {
            Some(n) if at + n <= packet.len() => {
                out.push(&packet[at..at + n]);
                at += n;
            }
            _ => {
                out.push(&packet[at..]);
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_at_their_lengths() {
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417 bytes.
        let mut f = vec![0u8; 417];
        f[..4].copy_from_slice(&[0xff, 0xfb, 0x90, 0x00]);
        assert_eq!(frame_len(&f), Some(417));
        let two: Vec<u8> = f.iter().chain(f.iter()).copied().collect();
        assert_eq!(frames(&two).len(), 2);
        assert_eq!(frames(&two[..500]).len(), 2, "a cut frame is a last piece");
        assert_eq!(frames(&[1, 2, 3]).len(), 1);
        assert!(frame_len(&[0xff, 0xfb, 0xf0, 0]).is_none(), "bit rate index 15");
    }
}
