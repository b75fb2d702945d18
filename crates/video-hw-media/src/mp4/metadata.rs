//! iTunes-style metadata (`moov/udta/meta/ilst`): only the gapless information of
//! `----:com.apple.iTunes:iTunSMPB` is read. Metadata never fails a file: a box here that
//! does not read is ignored, as players ignore it.

use super::boxes::Reader;
use crate::audio::ItunSmpb;

/// The `iTunSMPB` of a `udta` body, if it has one that parses.
pub fn gapless(udta: Reader<'_>) -> Option<ItunSmpb> {
    for child in udta.children() {
        let Ok((h, mut meta)) = child else { return None };
        if &h.kind != b"meta" {
            continue;
        }
        // ISO's `meta` is a full box; QuickTime's is not: its first child ('hdlr')
        // starts where ISO's version and flags would be.
        let mut peek = meta;
        if peek.bytes(8, "meta").ok().is_some_and(|b| &b[4..8] != b"hdlr") {
            meta.full_box("meta").ok()?;
        }
        for item in meta.children() {
            let Ok((ih, ilst)) = item else { return None };
            if &ih.kind == b"ilst" {
                return ilst
                    .children()
                    .filter_map(|e| e.ok())
                    .filter(|(h, _)| &h.kind == b"----")
                    .find_map(|(_, b)| free_form(b));
            }
        }
    }
    None
}

/// A `----` item: `mean` (com.apple.iTunes), `name` (iTunSMPB), `data` (the text after
/// a 4-byte type and a 4-byte locale).
fn free_form(item: Reader<'_>) -> Option<ItunSmpb> {
    let (mut name, mut text) = (None, None);
    for child in item.children() {
        let (h, mut body) = child.ok()?;
        match &h.kind {
            b"name" => {
                body.full_box("name").ok()?;
                name = Some(body.rest());
            }
            b"data" => {
                body.skip(8, "data").ok()?;
                text = Some(body.rest());
            }
            _ => {}
        }
    }
    if name? != b"iTunSMPB" {
        return None;
    }
    ItunSmpb::parse(std::str::from_utf8(text?).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A box of `kind` around `body`.
    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend(kind);
        b.extend(body);
        b
    }

    /// A `udta` body with iTunes metadata holding `text` as iTunSMPB (ISO full-box meta
    /// or QuickTime's plain one).
    pub fn udta(text: &str, full_box: bool) -> Vec<u8> {
        let mut item = bx(b"mean", b"\0\0\0\0com.apple.iTunes");
        item.extend(bx(b"name", b"\0\0\0\0iTunSMPB"));
        let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0];
        data.extend(text.as_bytes());
        item.extend(bx(b"data", &data));
        let ilst = bx(b"ilst", &bx(b"----", &item));
        let mut meta = if full_box { vec![0, 0, 0, 0] } else { Vec::new() };
        meta.extend(bx(b"hdlr", &[0; 25]));
        meta.extend(ilst);
        bx(b"meta", &meta)
    }

    #[test]
    fn reads_itunsmpb() {
        let text = " 00000000 00000840 000001CC 00000000000AC1F4 00000000";
        for full in [true, false] {
            let b = udta(text, full);
            let g = gapless(Reader::new(&b, 0)).unwrap();
            assert_eq!((g.priming, g.padding, g.samples), (0x840, 0x1cc, 0xac1f4));
        }
        let b = udta("nonsense", true);
        assert_eq!(gapless(Reader::new(&b, 0)), None);
        assert_eq!(gapless(Reader::new(&b[..20], 0)), None);
    }
}
