//! The raw AV1 OBU stream demuxer (`media/obu.rs`, low-overhead and Annex B formats) on
//! any bytes: opening, reading every temporal unit, the packet table, seeks to its entries
//! and the frame index never panic, never loop without reading, and allocate at most a
//! bounded multiple of the input. Packets start at offset 0 and follow each other; in the
//! low-overhead format each is the input's bytes at its position and they tile the input
//! without gaps (Annex B packets are rewritten units). Damage ends them (then `Ok(None)`),
//! and the table lists the packets a full read gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::{Container, DETECT_BYTES, Demuxer, FrameIndex, detect};
use video_hw_fuzz::{bounded_allocations, uncounted};

fuzz_target!(|data: &[u8]| {
    if detect(&data[..data.len().min(DETECT_BYTES)]) != Some(Container::Obu) {
        return;
    }
    // Low overhead: a temporal delimiter OBU with its size field, of size 0. An Annex B
    // stream that starts with the same byte has a non-zero frame unit size after it.
    let low_overhead = match data {
        [0x12, 0, ..] | [0x16, _, 0, ..] => true,
        _ => false,
    };
    bounded_allocations(data.len(), || {
        let Ok(mut d) = Demuxer::from_bytes(data) else { return };
        assert_eq!(d.container(), Container::Obu);
        let len = data.len() as u64;
        // (pos, size) of every packet read, in order.
        let mut read = Vec::new();
        let mut next = 0u64;
        let mut calls = 0usize;
        loop {
            calls += 1;
            // Every packet is at least one byte of the input; an error ends them.
            assert!(calls <= data.len() + 16, "next_packet does not reach the end");
            match d.next_packet() {
                Ok(Some(p)) => {
                    assert!(!p.data.is_empty());
                    assert_eq!(p.pts, Some(read.len() as i64));
                    if low_overhead {
                        assert_eq!(p.pos, next, "a gap or overlap before the packet");
                        let end = p.pos + p.data.len() as u64;
                        assert!(end <= len);
                        assert_eq!(&data[p.pos as usize..end as usize], &p.data[..]);
                        next = end;
                    } else {
                        assert!(p.pos == 0 || p.pos > next, "packets out of order");
                        assert!(p.pos < len);
                        next = p.pos;
                    }
                    uncounted(|| read.push((p.pos, p.data.len())));
                }
                Ok(None) => break,
                Err(_) => {
                    assert!(matches!(d.next_packet(), Ok(None)), "packets after the damage");
                    break;
                }
            }
        }
        if d.video_track().is_none() {
            return;
        }
        let Ok(table) = d.packet_table(0) else { return };
        assert_eq!(table.entries.len(), read.len(), "the table and a full read differ");
        for (e, &(pos, size)) in table.entries.iter().zip(&read) {
            assert_eq!((e.pos, e.size as usize), (pos, size));
        }
        let n = table.entries.len();
        for entry in [0, n / 2, n.wrapping_sub(1)].into_iter().filter_map(|i| table.entries.get(i)) {
            if d.seek_to(0, entry).is_err() {
                continue;
            }
            match d.next_packet() {
                Ok(Some(p)) => assert_eq!((p.pos, p.pts), (entry.pos, entry.pts), "the seek found another packet"),
                other => panic!("no packet at a table entry: {:?}", other.map(|p| p.map(|p| p.pos))),
            }
        }
        if let Ok(index) = FrameIndex::build(&mut d, 0) {
            for k in 0..index.len().min(64) {
                assert!(index.start_packet(k) <= index.frames()[k].packet as usize);
            }
        }
    });
});
