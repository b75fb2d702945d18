//! IVF input (AV1, VP9): a 32-byte file header (`DKIF`, version, header size, FourCC,
//! width, height, timebase denominator and numerator, frame count), then per packet a
//! 12-byte header (32-bit little-endian size, 64-bit timestamp) and the packet, which is
//! fed to the decoder whole (`DecodeInput::Packet`).

use std::io::Read;

use video_hw::{Codec, Error, Rational, Result};

/// The largest packet accepted (a damaged size field cannot make us allocate more).
const MAX_PACKET: usize = 256 << 20;

/// True when `prefix` starts with the IVF signature.
pub fn looks_like_ivf(prefix: &[u8]) -> bool {
    prefix.starts_with(b"DKIF")
}

/// What the file header says.
#[derive(Debug, Clone, Copy)]
pub struct IvfHeader {
    /// From the FourCC (`AV01`, `VP90`).
    pub codec: Codec,
    /// Of the packet timestamps.
    pub timebase: Rational,
    /// Bytes before the first packet header.
    pub header_len: usize,
}

/// Reads the file header from the start of the file.
pub fn parse_header(prefix: &[u8]) -> Result<IvfHeader> {
    if prefix.len() < 32 || !looks_like_ivf(prefix) {
        return Err(Error::invalid_input("malformed IVF: file header shorter than 32 bytes"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([prefix[i], prefix[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([prefix[i], prefix[i + 1], prefix[i + 2], prefix[i + 3]]);
    let header_len = usize::from(u16_at(6)).max(32);
    let codec = match &prefix[8..12] {
        b"AV01" => Codec::Av1,
        b"VP90" => Codec::Vp9,
        other => {
            return Err(Error::invalid_input(format!(
                "IVF with FourCC '{}': only AV01 (AV1) and VP90 (VP9) are decoded",
                String::from_utf8_lossy(other)
            )));
        }
    };
    let (den, num) = (u32_at(16), u32_at(20));
    let timebase = if den > 0 && num > 0 { Rational::new(num as i64, den as i64) } else { Rational::MPEG_90K };
    Ok(IvfHeader { codec, timebase, header_len })
}

/// Reads the next packet (its timestamp, and the packet into `buf`) and returns the
/// bytes consumed; `Ok(None)` at the end of the file.
pub fn read_packet(reader: &mut dyn Read, buf: &mut Vec<u8>) -> Result<Option<(i64, u64)>> {
    let mut header = [0u8; 12];
    let mut got = 0;
    while got < header.len() {
        match reader.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(Error::invalid_input("truncated IVF: the file ends inside a packet header")),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let size = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if size > MAX_PACKET {
        return Err(Error::invalid_input(format!("malformed IVF: packet of {size} bytes")));
    }
    let pts = i64::from_le_bytes(header[4..12].try_into().expect("8 bytes"));
    buf.clear();
    reader.take(size as u64).read_to_end(buf)?;
    if buf.len() < size {
        return Err(Error::invalid_input(format!(
            "truncated IVF: packet of {size} bytes has only {} before the end",
            buf.len()
        )));
    }
    Ok(Some((pts, 12 + size as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_packets() {
        let mut file = b"DKIF\0\0\x20\0AV01\x40\x01\xf0\0\x19\0\0\0\x01\0\0\0\x02\0\0\0\0\0\0\0".to_vec();
        file.extend([3, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0x12, 0, 0x0a]);
        file.extend([2, 0, 0, 0, 8]);
        let h = parse_header(&file).unwrap();
        assert_eq!((h.codec, h.timebase, h.header_len), (Codec::Av1, Rational::new(1, 25), 32));
        let mut r = &file[32..];
        let mut buf = Vec::new();
        assert_eq!(read_packet(&mut r, &mut buf).unwrap(), Some((7, 15)));
        assert_eq!(buf, [0x12, 0, 0x0a]);
        assert!(read_packet(&mut r, &mut buf).is_err());
        assert_eq!(read_packet(&mut &[][..], &mut buf).unwrap(), None);
        let mut vp8 = file.clone();
        vp8[8..12].copy_from_slice(b"VP80");
        assert!(parse_header(&vp8).unwrap_err().to_string().contains("VP80"));
    }
}
