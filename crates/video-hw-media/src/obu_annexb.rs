//! AV1's length-delimited bitstream format (AV1 spec Annex B; `aomenc --annexb=1`, the
//! conformance suite's `.annexb` streams): each temporal unit is its size and then frame
//! units, each its size and then OBUs, each its length and then the OBU, usually without
//! a size field of its own. Decoders (rav1d, libdav1d through FFmpeg, NVDEC) take the
//! low-overhead format of section 5, so each temporal unit is rewritten into it: every
//! OBU gets its size field, nothing else changes.

use video_hw_bitstream::packet::leb128;
use video_hw_types::error::Error;

/// OBU types looked at.
const TEMPORAL_DELIMITER: u8 = 2;
const SEQUENCE_HEADER: u8 = 1;
const FRAME_HEADER: u8 = 3;
const FRAME: u8 = 6;

/// Whether `prefix` starts like an Annex B stream: a temporal unit size, a frame unit
/// size within it, then a temporal delimiter OBU and a sequence header OBU within that,
/// each with its length.
pub(crate) fn looks_like_annexb_stream(prefix: &[u8]) -> bool {
    let Some((tu, a)) = leb128(prefix) else { return false };
    let Some((fu, b)) = prefix.get(a..).and_then(leb128) else { return false };
    if fu == 0 || fu > tu.saturating_sub(b as u64) {
        return false;
    }
    let at = a + b;
    let Some((td_len, c)) = prefix.get(at..).and_then(leb128) else { return false };
    let td = at + c;
    // A temporal delimiter has an empty payload: header, extension and size field at most.
    if !(1..=3).contains(&td_len) || !obu_type_is(prefix.get(td), TEMPORAL_DELIMITER) {
        return false;
    }
    let next = td + td_len as usize;
    let Some((seq_len, d)) = prefix.get(next..).and_then(leb128) else { return false };
    let in_frame_unit = (c as u64 + td_len + d as u64 + seq_len) <= fu;
    seq_len > 0 && in_frame_unit && obu_type_is(prefix.get(next + d), SEQUENCE_HEADER)
}

/// Whether `header` is the header byte of an OBU of type `kind` (forbidden bit clear).
fn obu_type_is(header: Option<&u8>, kind: u8) -> bool {
    header.is_some_and(|&h| h & 0x80 == 0 && (h >> 3) & 0x0f == kind)
}

/// The size of the temporal unit at the start of `data`: the bytes of its size field,
/// and of the unit after it. `None` when the size field is not complete.
pub(crate) fn temporal_unit_size(data: &[u8]) -> Option<(usize, u64)> {
    let (size, n) = leb128(data)?;
    Some((n, size))
}

/// One temporal unit (its bytes after the size field) in the low-overhead format, and
/// whether it holds a frame (a frame or frame header OBU with a payload). Errors give the
/// offset of the damage within `unit`.
pub(crate) fn to_low_overhead(unit: &[u8]) -> std::result::Result<(Vec<u8>, bool), (usize, &'static str)> {
    let mut out = Vec::with_capacity(unit.len() + unit.len() / 8 + 8);
    let mut has_frame = false;
    let mut pos = 0;
    while pos < unit.len() {
        let (fu_size, n) = leb128(&unit[pos..]).ok_or((pos, "frame unit size cut short"))?;
        let start = pos + n;
        let end = usize::try_from(fu_size)
            .ok()
            .and_then(|s| start.checked_add(s))
            .filter(|&e| e <= unit.len())
            .ok_or((pos, "frame unit runs past its temporal unit"))?;
        let mut at = start;
        while at < end {
            let (obu_len, n) = leb128(&unit[at..end]).ok_or((at, "OBU length cut short"))?;
            let obu_start = at + n;
            let obu_end = usize::try_from(obu_len)
                .ok()
                .and_then(|l| obu_start.checked_add(l))
                .filter(|&e| e <= end && e > obu_start)
                .ok_or((at, "OBU runs past its frame unit, or is empty"))?;
            has_frame |= rewrite_obu(&unit[obu_start..obu_end], &mut out).map_err(|why| (obu_start, why))?;
            at = obu_end;
        }
        pos = end;
    }
    Ok((out, has_frame))
}

/// Appends `obu` with a size field; whether it is a frame (or frame header) with a
/// payload.
pub(crate) fn rewrite_obu(obu: &[u8], out: &mut Vec<u8>) -> std::result::Result<bool, &'static str> {
    let header = obu[0];
    if header & 0x80 != 0 {
        return Err("OBU forbidden bit set");
    }
    let kind = (header >> 3) & 0x0f;
    let head_len = 1 + usize::from(header & 0x04 != 0);
    let rest = obu.get(head_len..).ok_or("OBU extension header cut short")?;
    let payload = if header & 0x02 != 0 {
        // A size field of its own: it must agree with the length outside.
        let (size, n) = leb128(rest).ok_or("OBU size field cut short")?;
        let payload = &rest[n..];
        if size != payload.len() as u64 {
            return Err("OBU size field disagrees with its length");
        }
        payload
    } else {
        rest
    };
    out.push(header | 0x02);
    out.extend_from_slice(&obu[1..head_len]);
    write_leb128(payload.len() as u64, out);
    out.extend_from_slice(payload);
    Ok(matches!(kind, FRAME_HEADER | FRAME) && !payload.is_empty())
}

/// `value` as leb128, in as few bytes as it takes.
fn write_leb128(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A damaged unit as the stream's error, at `base` plus the offset within.
pub(crate) fn damage(base: u64, (offset, why): (usize, &'static str)) -> Error {
    Error::invalid_bitstream(base + offset as u64, format!("AV1 Annex B stream: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Annex B temporal unit (size field included) of frame units, each of OBUs given
    /// without size fields.
    fn annexb_unit(frame_units: &[&[&[u8]]]) -> Vec<u8> {
        let mut tu = Vec::new();
        for fu in frame_units {
            let mut f = Vec::new();
            for obu in *fu {
                write_leb128(obu.len() as u64, &mut f);
                f.extend_from_slice(obu);
            }
            write_leb128(f.len() as u64, &mut tu);
            tu.extend(f);
        }
        let mut out = Vec::new();
        write_leb128(tu.len() as u64, &mut out);
        out.extend(tu);
        out
    }

    #[test]
    fn units_are_recognised_and_rewritten_with_size_fields() {
        // TD, sequence header (payload 0a 0b), frame (payload 10 01 02).
        let unit = annexb_unit(&[&[&[0x10], &[0x08, 0x0a, 0x0b]], &[&[0x30, 0x10, 0x01, 0x02]]]);
        assert!(looks_like_annexb_stream(&unit));
        assert!(!looks_like_annexb_stream(&[0x12, 0x00, 0x0a, 0x0b]));
        assert!(!looks_like_annexb_stream(&[0, 0, 0, 1, 0x67]));
        let (n, size) = temporal_unit_size(&unit).unwrap();
        assert_eq!(n as u64 + size, unit.len() as u64);
        let (low, has_frame) = to_low_overhead(&unit[n..]).unwrap();
        assert!(has_frame);
        assert_eq!(low, [0x12, 0x00, 0x0a, 0x02, 0x0a, 0x0b, 0x32, 0x03, 0x10, 0x01, 0x02]);
        // An OBU that has its size field keeps it, if it agrees.
        let unit = annexb_unit(&[&[&[0x12, 0x00], &[0x32, 0x01, 0x10]]]);
        assert_eq!(to_low_overhead(&unit[1..]).unwrap(), (vec![0x12, 0x00, 0x32, 0x01, 0x10], true));
        let unit = annexb_unit(&[&[&[0x32, 0x05, 0x10]]]);
        assert!(to_low_overhead(&unit[1..]).is_err());
    }

    #[test]
    fn damage_is_located() {
        // A frame unit that claims more than its temporal unit holds.
        assert_eq!(to_low_overhead(&[0x09, 0x01, 0x10]).unwrap_err().0, 0);
        // An OBU longer than its frame unit.
        assert_eq!(to_low_overhead(&[0x02, 0x05, 0x10]).unwrap_err().0, 1);
        // An empty OBU and a forbidden bit.
        assert!(to_low_overhead(&[0x01, 0x00]).is_err());
        assert_eq!(to_low_overhead(&[0x02, 0x01, 0x90]).unwrap_err(), (2, "OBU forbidden bit set"));
        // A unit without a frame.
        assert_eq!(to_low_overhead(&[0x02, 0x01, 0x10]).unwrap(), (vec![0x12, 0x00], false));
        let mut v = Vec::new();
        write_leb128(300, &mut v);
        assert_eq!(leb128(&v), Some((300, 2)));
    }
}
