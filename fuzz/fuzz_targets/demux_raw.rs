//! The IVF and raw H.264/HEVC (Annex-B) demuxers and the frame index on any bytes: opening,
//! reading every packet, the packet table, seeks to table entries (a raw stream restarts
//! its assembler there with the parameter sets in force), the stream facts and the index
//! (both read on past damage in a raw stream) never panic, never loop without reading, and
//! allocate at most a bounded multiple of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::{Container, DETECT_BYTES, Demuxer, FrameIndex, detect};
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    if !matches!(detect(&data[..data.len().min(DETECT_BYTES)]), Some(Container::Ivf | Container::AnnexB)) {
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
                Ok(Some(p)) => assert!(p.pos <= len),
                Ok(None) => break,
                Err(_) => {}
            }
        }
        let Ok(table) = d.packet_table(0) else { return };
        let n = table.entries.len();
        for entry in [0, n / 2, n.wrapping_sub(1)].into_iter().filter_map(|i| table.entries.get(i)) {
            if d.seek_to(0, entry).is_err() {
                continue;
            }
            for _ in 0..n + 16 {
                match d.next_packet() {
                    Ok(Some(p)) => {
                        assert!(p.pos >= entry.pos, "seek went back");
                        break;
                    }
                    Ok(None) => break,
                    Err(_) => {}
                }
            }
        }
        // The stream facts read on past damage too (a bounded number of packets).
        let _ = d.stream_info(0);
        if let Ok(index) = FrameIndex::build(&mut d, 0) {
            for k in 0..index.len().min(64) {
                assert!(index.start_packet(k) <= index.frames()[k].packet as usize);
            }
        }
    });
});
