//! Input rav1d 1.1.0 would abort on, taken out before it sees it.
//!
//! rav1d reads an ITU-T T.35 metadata OBU's payload size in `usize` where dav1d uses
//! `int`: a payload too short for its country code (and the trailing one bit) makes the
//! size wrap, and the slice it then takes panics inside `dav1d_send_data`, which cannot
//! unwind: the process aborts, whatever the session's settings (`obu.rs`, found by
//! `fuzz/fuzz_targets/av1_decode.rs`; docs/fuzzing.md, "AV1"). dav1d logs such an OBU as
//! malformed and goes on without it, and so does this: the OBU is dropped from the
//! temporal unit, the rest is decoded as dav1d decodes it.

use crate::bitstream::packet::leb128;

/// `OBU_METADATA` (AV1 spec 6.2.2).
const OBU_METADATA: u8 = 5;
/// `METADATA_TYPE_ITUT_T35` (AV1 spec 6.7.1).
const METADATA_ITUT_T35: u64 = 4;

/// The temporal unit without the T.35 metadata OBUs rav1d 1.1.0 would abort on, or
/// `None` when it has none (nearly always: then nothing is copied). OBUs whose sizes do
/// not fit the unit end the scan; rav1d reports those as damage itself.
pub(super) fn without_fatal_metadata(tu: &[u8]) -> Option<Vec<u8>> {
    let mut drop: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    while pos < tu.len() {
        let Some((payload, end)) = obu_at(tu, pos) else { break };
        if tu[pos] >> 3 & 0xf == OBU_METADATA && t35_too_short(&tu[payload..end]) {
            drop.push((pos, end));
        }
        pos = end;
    }
    if drop.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(tu.len());
    let mut from = 0;
    for (start, end) in drop {
        out.extend_from_slice(&tu[from..start]);
        from = end;
    }
    out.extend_from_slice(&tu[from..]);
    Some(out)
}

/// The OBU starting at `pos`: where its payload starts and where it ends. An OBU without
/// a size field runs to the end of the unit.
fn obu_at(tu: &[u8], pos: usize) -> Option<(usize, usize)> {
    let header = *tu.get(pos)?;
    let has_extension = header & 0x04 != 0;
    let has_size = header & 0x02 != 0;
    let mut at = pos + 1 + usize::from(has_extension);
    if at > tu.len() {
        return None;
    }
    if !has_size {
        return Some((at, tu.len()));
    }
    let (size, n) = leb128(&tu[at..])?;
    at += n;
    let end = at.checked_add(usize::try_from(size).ok()?)?;
    (end <= tu.len()).then_some((at, end))
}

/// Whether a metadata OBU's `payload` is T.35 metadata too short for rav1d's size
/// arithmetic: after its trailing zero bytes are left out, the bytes after the metadata
/// type must hold the trailing one bit's byte, the country code and, for code 0xff, its
/// extension byte, or the size wraps.
fn t35_too_short(payload: &[u8]) -> bool {
    let Some((kind, n)) = leb128(payload) else {
        // No complete type: rav1d reads zeros past the end, a type it does not act on.
        return false;
    };
    if kind != METADATA_ITUT_T35 {
        return false;
    }
    let rest = &payload[n..];
    let significant = rest.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let extension = rest.first() == Some(&0xff);
    significant < 2 + usize::from(extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_t35_metadata_is_dropped_and_the_rest_kept() {
        // The fuzzer's unit: a metadata OBU without a size field, type T.35 (`04`), then
        // only the trailing-bit byte: nothing is left of the unit.
        assert_eq!(without_fatal_metadata(&[0x28, 0x04, 0x80]), Some(vec![]));
        let td = [0x12, 0x00];
        let bad = [0x2a, 0x02, 0x04, 0x80];
        let tu: Vec<u8> = [&td[..], &bad[..], &td[..]].concat();
        assert_eq!(without_fatal_metadata(&tu), Some([td, td].concat()));
        // Country code 0xff needs its extension byte too.
        assert!(t35_too_short(&[0x04, 0xff, 0x80]));
        assert!(!t35_too_short(&[0x04, 0xff, 0x01, 0x80]));
        assert!(!t35_too_short(&[0x04, 0xb5, 0x80]));
        // Trailing zero bytes do not count; an empty payload does not either.
        assert!(t35_too_short(&[0x04, 0xb5, 0x00, 0x00]));
        assert!(t35_too_short(&[0x04]));
        // Other metadata types are rav1d's to read.
        assert!(!t35_too_short(&[0x01]));
        // A well-formed unit is left alone.
        assert_eq!(without_fatal_metadata(&[0x12, 0x00, 0x2a, 0x04, 0x04, 0xb5, 0x01, 0x80]), None);
    }

    #[test]
    fn an_obu_without_a_size_field_runs_to_the_end() {
        // Metadata OBU, no size field: the payload is the rest of the unit.
        assert_eq!(without_fatal_metadata(&[0x12, 0x00, 0x28, 0x04, 0x80]), Some(vec![0x12, 0x00]));
        assert_eq!(obu_at(&[0x28, 0x04, 0x80], 0), Some((1, 3)));
        assert_eq!(leb128(&[0x80; 9]), None);
    }
}
