//! AV1 in MPEG-TS, in the two forms found in files:
//!
//! * **AOM's "Carriage of AV1 in MPEG-2 TS"** (v1.0): stream type 0x06 with a
//!   registration descriptor `AV01` (`AV1 ` in the 2018 draft), each PES one access unit
//!   whose OBUs are each preceded by a start code `00 00 01` and escaped against start
//!   code emulation as H.264 NAL units are (`00 00 03`); an OBU may lack its size field
//!   and temporal delimiters may be left out.
//! * **FFmpeg before it knew that specification** (5.1 to 8.1 write AV1 so): stream type
//!   0x06 with no descriptor at all, each PES one temporal unit in the low-overhead format
//!   of the AV1 specification's section 5, as IVF holds it. Nothing names the codec; the
//!   first PES tells ([`sniff`]).
//!
//! Either way each PES becomes one packet in the low-overhead format, every OBU with its
//! size field, which is what the decoders and the other containers' packets hold. A PES
//! in the start-code form is told apart by its first byte: a low-overhead unit never
//! starts with a zero byte (OBU type 0 is reserved).

use memchr::memmem;

use crate::obu_annexb::rewrite_obu;
use video_hw_bitstream::packet::{PacketPeek, leb128};
use video_hw_bitstream::rbsp;
use video_hw_types::codec::Codec;

/// The registration descriptor's `format_identifier` for AV1: the specification's, and
/// its 2018 draft's.
pub fn is_av1_registration(format_identifier: [u8; 4]) -> bool {
    &format_identifier == b"AV01" || &format_identifier == b"AV1 "
}

/// Whether a PES payload is in the start-code form.
fn start_code_form(pes: &[u8]) -> bool {
    pes.first() == Some(&0)
}

/// Whether the first PES of a private-data stream nothing names is AV1: a temporal
/// delimiter (`12 00`) first, in either form, and frame headers that read.
pub fn sniff(pes: &[u8]) -> bool {
    let low = if start_code_form(pes) {
        let zeros = pes.iter().take_while(|&&b| b == 0).count();
        if zeros < 2 || pes.get(zeros) != Some(&1) {
            return false;
        }
        match to_low_overhead(pes.to_vec()) {
            Ok(v) => v,
            Err(_) => return false,
        }
    } else {
        pes.to_vec()
    };
    low.starts_with(&[0x12, 0x00]) && PacketPeek::new(Codec::Av1).inspect(&low).is_some()
}

/// A PES payload as one low-overhead unit: returned as it is when already so, else each
/// OBU of the start-code form unescaped and given its size field. Errors give the offset
/// of the damage within the payload.
pub fn to_low_overhead(pes: Vec<u8>) -> Result<Vec<u8>, (usize, &'static str)> {
    if !start_code_form(&pes) {
        return Ok(pes);
    }
    let finder = memmem::Finder::new(&[0u8, 0, 1]);
    let mut starts = finder.find_iter(&pes).peekable();
    let first = starts.peek().copied().ok_or((0, "no start code in an AV1 PES that starts with a zero byte"))?;
    if pes[..first].iter().any(|&b| b != 0) {
        return Err((0, "bytes before the first start code of an AV1 PES"));
    }
    let mut out = Vec::with_capacity(pes.len() + 16);
    while let Some(at) = starts.next() {
        let body = at + 3;
        let end = starts.peek().copied().unwrap_or(pes.len());
        let obu = rbsp::unescape(&pes[body..end]);
        let obu = trim(&obu).map_err(|why| (body, why))?;
        rewrite_obu(obu, &mut out).map_err(|why| (body, why))?;
    }
    Ok(out)
}

/// The OBU of a start-code unit without what follows it: with a size field, the bytes
/// past it (which must be zeros: the next start code's leading zero byte); without one,
/// its trailing zero bytes (the same, as for H.264 NAL units).
fn trim(unit: &[u8]) -> Result<&[u8], &'static str> {
    let header = *unit.first().ok_or("empty OBU between two start codes")?;
    let head_len = 1 + usize::from(header & 0x04 != 0);
    if header & 0x02 == 0 {
        let end = unit.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        return Ok(&unit[..end.max(head_len.min(unit.len()))]);
    }
    let rest = unit.get(head_len..).ok_or("OBU extension header cut short")?;
    let (size, n) = leb128(rest).ok_or("OBU size field cut short")?;
    let len = usize::try_from(size)
        .ok()
        .and_then(|s| (head_len + n).checked_add(s))
        .filter(|&l| l <= unit.len())
        .ok_or("OBU size field runs past the next start code")?;
    if unit[len..].iter().any(|&b| b != 0) {
        return Err("bytes between an OBU's end and the next start code");
    }
    Ok(&unit[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporal delimiter, a sequence header and a key frame OBU (show_frame set), in
    /// the low-overhead form.
    fn unit() -> Vec<u8> {
        vec![0x12, 0x00, 0x0a, 0x03, 0x00, 0x00, 0x02, 0x32, 0x04, 0x10, 0x00, 0x00, 0x01]
    }

    /// `unit()` in the start-code form: OBUs without size fields, escaped.
    fn start_coded() -> Vec<u8> {
        let mut v = vec![0, 0, 1, 0x10];
        v.extend([0, 0, 1, 0x08, 0x00, 0x00, 0x03, 0x02]);
        v.extend([0, 0, 0, 1, 0x30, 0x10, 0x00, 0x00, 0x03, 0x01]);
        v
    }

    #[test]
    fn start_codes_become_size_fields() {
        // The sequence header's `00 00 02` and the frame's `10 00 00 01` are escaped; a
        // 4-byte start code leaves a zero byte after the sequence header.
        let low = to_low_overhead(start_coded()).unwrap();
        assert_eq!(low, unit());
        // The low-overhead form is passed through.
        assert_eq!(to_low_overhead(unit()).unwrap(), unit());
    }

    #[test]
    fn size_fields_are_kept_and_checked() {
        let mut v = vec![0, 0, 1, 0x12, 0x00];
        v.extend([0, 0, 1, 0x0a, 0x03, 0x00, 0x00, 0x03, 0x02, 0x00]);
        v.extend([0, 0, 1, 0x32, 0x04, 0x10, 0x00, 0x00, 0x03, 0x01]);
        assert_eq!(to_low_overhead(v.clone()).unwrap(), unit());
        // A size past the next start code, and bytes after an OBU's end.
        let mut long = v.clone();
        long[4] = 0x09;
        assert!(to_low_overhead(long).unwrap_err().1.contains("runs past"));
        let mut extra = v;
        extra.insert(5, 0x55);
        assert!(to_low_overhead(extra).unwrap_err().1.contains("between"));
    }

    #[test]
    fn damage_is_an_error_with_its_offset() {
        assert_eq!(to_low_overhead(vec![0, 0, 0]).unwrap_err().0, 0);
        assert!(to_low_overhead(vec![0, 5, 0, 0, 1, 0x12, 0]).is_err());
        assert!(to_low_overhead(vec![0, 0, 1, 0, 0, 1, 0x12, 0]).unwrap_err().1.contains("empty"));
        // The forbidden bit.
        assert_eq!(to_low_overhead(vec![0, 0, 1, 0x90]).unwrap_err(), (3, "OBU forbidden bit set"));
    }

    #[test]
    fn sniffing() {
        assert!(sniff(&unit()));
        assert!(sniff(&start_coded()));
        assert!(!sniff(&unit()[2..]), "no temporal delimiter first");
        assert!(!sniff(&[0x12, 0x00]), "no frame");
        assert!(!sniff(&[0xff, 0xf1, 0x4c, 0x80]));
        assert!(!sniff(&[]));
        assert!(is_av1_registration(*b"AV01") && is_av1_registration(*b"AV1 "));
        assert!(!is_av1_registration(*b"Opus"));
    }
}
