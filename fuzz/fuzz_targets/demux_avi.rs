//! The AVI demuxer on any bytes: opening, reading every packet (going on after errors to
//! the end), every track's packet table, and seeking to entries of it never panic, never
//! hang, and allocate no more at once than the bound of `fuzz/src/lib.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::{Container, DETECT_BYTES, Demuxer, detect};
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    // RIFF....AVI : inputs another container's detection takes are not this target's.
    if detect(&data[..data.len().min(DETECT_BYTES)]) != Some(Container::Avi) {
        return;
    }
    bounded_allocations(data.len(), || {
        let Ok(mut d) = Demuxer::from_bytes(data.to_vec()) else { return };
        // Damage ends the packets: after an error the next call gives `Ok(None)`, and every
        // packet is a chunk of 8 bytes of the input at least.
        let mut ended = false;
        for _ in 0..data.len() / 8 + 3 {
            if let Ok(None) = d.next_packet() {
                ended = true;
                break;
            }
        }
        assert!(ended, "the packets never end");
        for track in 0..d.tracks().len().min(8) {
            let Ok(table) = d.packet_table(track) else { continue };
            let step = (table.entries.len() / 8).max(1);
            for entry in table.entries.iter().step_by(step).take(8) {
                d.seek_to(track, entry).expect("an entry of the table");
                // The next packet of the track is the entry's, or damage.
                while let Ok(Some(p)) = d.next_packet() {
                    if p.track == track {
                        assert_eq!((p.pos, p.data.len()), (entry.pos, entry.size as usize));
                        break;
                    }
                }
            }
        }
    });
});
