//! The Matroska/WebM demuxer on any bytes: opening, reading every packet (going on
//! after errors to the end), every track's packet table, and seeking to entries of it
//! never panic, never hang, and stay inside the fuzzer's memory limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::Demuxer;

// Linked for its AddressSanitizer options (see `__asan_default_options` there).
extern crate video_hw_fuzz;

/// The EBML magic: inputs without it are another container's business.
const EBML: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];

fuzz_target!(|data: &[u8]| {
    if !data.starts_with(&EBML) {
        return;
    }
    let Ok(mut d) = Demuxer::from_bytes(data.to_vec()) else { return };
    // Errors (damage, a track whose encoding is refused) do not end the loop; `Ok(None)`
    // does, and must come: every block is a few bytes of the input at least.
    let mut ended = false;
    for _ in 0..1_000_000 {
        if let Ok(None) = d.next_packet() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the packets never end");
    // Each table is a scan of the whole input; a few tracks are enough.
    for track in 0..d.tracks().len().min(8) {
        let Ok(table) = d.packet_table(track) else { continue };
        let step = (table.entries.len() / 8).max(1);
        for entry in table.entries.iter().step_by(step).take(8) {
            if d.seek_to(track, entry).is_ok() {
                let _ = d.next_packet();
            }
        }
    }
});
