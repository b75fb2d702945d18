//! The MP4/MOV demuxer (fragmented too) and the frame index on any bytes: opening, reading
//! every packet, every track's packet table, seeks to table entries and the index of the
//! video track never panic, never loop without reading, and allocate at most a bounded
//! multiple of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::{Container, DETECT_BYTES, Demuxer, FrameIndex, TrackKind, detect};
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    if detect(&data[..data.len().min(DETECT_BYTES)]) != Some(Container::Mp4) {
        return;
    }
    bounded_allocations(data.len(), || {
        let Ok(mut d) = Demuxer::from_bytes(data) else { return };
        let len = data.len() as u64;
        let mut calls = 0usize;
        loop {
            calls += 1;
            assert!(calls <= data.len() + 16, "next_packet does not reach the end");
            match d.next_packet() {
                // An empty sample (size 0, legal in MP4) may sit at the very end of the file.
                Ok(Some(p)) => assert!(p.track < d.tracks().len() && p.pos + p.data.len() as u64 <= len),
                Ok(None) => break,
                // MP4 ends at its damage.
                Err(_) => assert!(matches!(d.next_packet(), Ok(None))),
            }
        }
        for t in 0..d.tracks().len() {
            let Ok(table) = d.packet_table(t) else { continue };
            let n = table.entries.len();
            for entry in [0, n / 2, n.wrapping_sub(1)].into_iter().filter_map(|i| table.entries.get(i)) {
                d.seek_to(t, entry).expect("seek to a table entry");
                for _ in 0..n + d.tracks().len() * 16 + 16 {
                    match d.next_packet() {
                        Ok(Some(p)) if p.track == t => {
                            assert_eq!(p.pos, entry.pos, "seek to an entry");
                            break;
                        }
                        Ok(Some(_)) => {}
                        Ok(None) | Err(_) => break,
                    }
                }
            }
            if d.tracks()[t].kind == TrackKind::Video {
                if let Ok(index) = FrameIndex::build(&mut d, t) {
                    for k in 0..index.len().min(64) {
                        let start = index.start_packet(k);
                        assert!(start <= index.frames()[k].packet as usize);
                        let _ = index.frame_at(index.frames()[k].pts);
                    }
                }
            }
        }
    });
});
