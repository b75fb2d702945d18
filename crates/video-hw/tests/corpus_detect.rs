//! Codec detection from content agrees with the corpus metadata on every stream
//! (needs the shared corpus; see tests/common).

use crate::common;

use video_hw::bitstream::detect::detect_codec;

#[test]
fn corpus_detect_codec_from_content() {
    let Some(dir) = common::corpus_dir() else { return };
    let mut wrong = Vec::new();
    let mut checked = 0;
    for s in common::corpus_streams(&dir) {
        let Some(codec) = s.codec.as_deref() else { continue };
        let data = std::fs::read(&s.path).unwrap();
        let got = detect_codec(&data[..data.len().min(64 * 1024)]).map(|c| c.name());
        checked += 1;
        if got != Some(codec) {
            wrong.push(format!("{}: expected {codec}, got {got:?}", s.rel));
        }
    }
    assert!(checked > 60, "only {checked} streams checked");
    assert!(wrong.is_empty(), "{wrong:#?}");
}
