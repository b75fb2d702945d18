//! The MPEG-TS demuxer on any bytes: opening, reading every packet (on after damage, as
//! MPEG-TS goes on), every track's packet table and seeks to table entries never panic,
//! never loop without reading, and allocate at most a bounded multiple of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw_media::{AudioCodec, Container, DETECT_BYTES, Demuxer, TrackCodec, detect};
use video_hw_fuzz::bounded_allocations;

fuzz_target!(|data: &[u8]| {
    // Other containers have their own targets: only what is taken for a transport stream.
    if detect(&data[..data.len().min(DETECT_BYTES)]) != Some(Container::MpegTs) {
        return;
    }
    bounded_allocations(data.len(), || {
        let Ok(mut d) = Demuxer::from_bytes(data) else { return };
        assert_eq!(d.container(), Container::MpegTs);
        let len = data.len() as u64;
        // Every packet or damage report consumes input: more calls than bytes is a loop.
        let mut calls = 0usize;
        loop {
            calls += 1;
            assert!(calls <= data.len() + 16, "next_packet does not reach the end");
            match d.next_packet() {
                Ok(Some(p)) => assert!(p.pos < len && p.track < d.tracks().len()),
                Ok(None) => break,
                Err(_) => {}
            }
        }
        for t in 0..d.tracks().len() {
            let Ok(table) = d.packet_table(t) else { continue };
            let n = table.entries.len();
            for entry in [0, n / 2, n.wrapping_sub(1)].into_iter().filter_map(|i| table.entries.get(i)) {
                assert!(entry.pos < len);
                d.seek_to(t, entry).expect("seek to a table entry");
                // The first packet of the track after the seek is the entry's. (AAC: the
                // PES's frames, at least; in damaged data a frame carried over from the
                // PES before, which a seek does not read, can shift where frames are found.)
                let aac = d.tracks()[t].codec == TrackCodec::Audio(AudioCodec::Aac);
                for _ in 0..data.len() + 16 {
                    match d.next_packet() {
                        Ok(Some(p)) if p.track == t => {
                            assert!(p.pos == entry.pos || aac && p.pos > entry.pos, "seek to an entry");
                            break;
                        }
                        Ok(Some(_)) | Err(_) => {}
                        Ok(None) => break,
                    }
                }
            }
        }
    });
});
