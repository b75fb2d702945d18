//! Demuxer tests on files built here: unknown sizes, lacing, header stripping, block
//! groups, seeking, damage and hostile structures.

use std::time::{Duration, Instant};

use super::ebml;
use crate::{Container, Demuxer, MediaPacket};
use video_hw_types::error::Error;

/// An element: ID bytes, then a 1-byte size (under 127 bytes of data) or an 8-byte one.
pub(crate) fn el(id: u32, data: &[u8]) -> Vec<u8> {
    let mut v = id_bytes(id);
    if data.len() < 127 {
        v.push(0x80 | data.len() as u8);
    } else {
        v.push(0x01);
        v.extend(&(data.len() as u64).to_be_bytes()[1..]);
    }
    v.extend(data);
    v
}

fn id_bytes(id: u32) -> Vec<u8> {
    id.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect()
}

/// An element header with the 8-byte unknown size.
fn unknown(id: u32) -> Vec<u8> {
    let mut v = id_bytes(id);
    v.extend([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    v
}

/// An unsigned integer's shortest big-endian bytes.
fn u(v: u64) -> Vec<u8> {
    v.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect()
}

fn ebml_header(doc: &str) -> Vec<u8> {
    el(ebml::EBML, &[el(0x4286, &[1]), el(ebml::DOC_TYPE, doc.as_bytes())].concat())
}

fn track(number: u64, kind: u64, codec: &str, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut d =
        [el(ebml::TRACK_NUMBER, &u(number)), el(ebml::TRACK_TYPE, &u(kind)), el(ebml::CODEC_ID, codec.as_bytes())]
            .concat();
    d.extend(extra.concat());
    el(ebml::TRACK_ENTRY, &d)
}

fn simple(track: u8, timecode: i16, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut d = vec![0x80 | track];
    d.extend(timecode.to_be_bytes());
    d.push(flags);
    d.extend(data);
    el(ebml::SIMPLE_BLOCK, &d)
}

fn cluster(ts: u64, blocks: &[Vec<u8>]) -> Vec<u8> {
    el(ebml::CLUSTER, &[el(ebml::TIMESTAMP, &u(ts)), blocks.concat()].concat())
}

/// A file: EBML header, then a Segment of known size holding `children`.
fn file(doc: &str, children: &[Vec<u8>]) -> Vec<u8> {
    [ebml_header(doc), el(ebml::SEGMENT, &children.concat())].concat()
}

/// Tracks: 1 video (VP9, 25 fps), 2 audio (Opus, no DefaultDuration).
fn two_tracks() -> Vec<u8> {
    el(
        ebml::TRACKS,
        &[
            track(1, 1, "V_VP9", &[el(ebml::DEFAULT_DURATION, &u(40_000_000))]),
            track(2, 2, "A_OPUS", &[el(ebml::DEFAULT_DURATION, &u(20_000_000))]),
        ]
        .concat(),
    )
}

/// Every packet, then the error that ended them (if any); `Ok(None)` must follow it.
fn read_all(d: &mut Demuxer) -> (Vec<MediaPacket>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match d.next_packet() {
            Ok(Some(p)) => out.push(p),
            Ok(None) => return (out, None),
            Err(e) => {
                assert!(d.next_packet().unwrap().is_none(), "damage is followed by the end");
                return (out, Some(e));
            }
        }
    }
}

fn offset(e: &Error) -> u64 {
    match e {
        Error::InvalidBitstream { offset, .. } => *offset,
        other => panic!("not InvalidBitstream: {other}"),
    }
}

#[test]
fn webm_doc_type_and_plain_blocks() {
    let bytes = file(
        "webm",
        &[
            two_tracks(),
            cluster(1000, &[simple(1, 0, 0x80, b"key"), simple(2, -5, 0x80, b"aud"), simple(1, 40, 0, b"p")]),
        ],
    );
    let mut d = Demuxer::from_bytes(bytes.clone()).unwrap();
    assert_eq!(d.container(), Container::WebM);
    assert_eq!(d.tracks().len(), 2);
    let (p, e) = read_all(&mut d);
    assert!(e.is_none());
    let summary: Vec<(usize, Option<i64>, bool, &[u8])> =
        p.iter().map(|p| (p.track, p.pts, p.keyframe, p.data.as_slice())).collect();
    assert_eq!(
        summary,
        vec![(0, Some(1000), true, &b"key"[..]), (1, Some(995), true, &b"aud"[..]), (0, Some(1040), false, &b"p"[..])]
    );
    assert_eq!(p[0].duration, Some(40));
    // pos: the block's data (its track number), as ffprobe gives it.
    let at = bytes.windows(4).position(|w| w == [0x81, 0, 0, 0x80]).unwrap() as u64;
    assert_eq!(p[0].pos, at);
    assert_eq!(d.track(1).unwrap().codec.name(), "opus");
}

#[test]
fn negative_timestamps_are_kept() {
    let bytes = file("matroska", &[two_tracks(), cluster(0, &[simple(1, -80, 0x80, b"a")])]);
    let mut d = Demuxer::from_bytes(bytes).unwrap();
    assert_eq!(d.container(), Container::Matroska);
    assert_eq!(d.next_packet().unwrap().unwrap().pts, Some(-80));
}

#[test]
fn unknown_size_segment_and_clusters() {
    // Segment and both clusters of unknown size; a Cues element ends the second.
    let c1 = [unknown(ebml::CLUSTER), el(ebml::TIMESTAMP, &u(0)), simple(1, 0, 0x80, b"one"), simple(1, 40, 0, b"two")]
        .concat();
    let c2 = [unknown(ebml::CLUSTER), el(ebml::TIMESTAMP, &u(80)), el(ebml::VOID, &[0; 3]), simple(1, 0, 0, b"three")]
        .concat();
    let cues = el(ebml::CUES, &[0xEC, 0x80]);
    let bytes = [ebml_header("matroska"), unknown(ebml::SEGMENT), two_tracks(), c1.clone(), c2, cues, c1].concat();
    let mut d = Demuxer::from_bytes(bytes).unwrap();
    let (p, e) = read_all(&mut d);
    assert!(e.is_none(), "{e:?}");
    let got: Vec<(&[u8], Option<i64>)> = p.iter().map(|p| (p.data.as_slice(), p.pts)).collect();
    assert_eq!(
        got,
        vec![
            (&b"one"[..], Some(0)),
            (&b"two"[..], Some(40)),
            (&b"three"[..], Some(80)),
            (&b"one"[..], Some(0)),
            (&b"two"[..], Some(40))
        ]
    );
    let table = d.packet_table(0).unwrap();
    assert!(table.damage.is_none());
    assert_eq!(table.entries.len(), 5);
    assert_eq!(table.entries[2].seek, p[2].entry().seek);
}

#[test]
fn laced_frames_are_packets() {
    // Xiph lacing: 3 audio frames of 2, 3 and 1 bytes.
    let mut xiph = vec![0x82, 0, 10, 0x82, 2, 2, 3];
    xiph.extend(b"aabbbc");
    // Fixed lacing: 2 frames of 2 bytes, track 1 (no DefaultDuration on track 3).
    let mut fixed = vec![0x83, 0, 0, 0x84, 1];
    fixed.extend(b"xxyy");
    let tracks = el(
        ebml::TRACKS,
        &[track(2, 2, "A_OPUS", &[el(ebml::DEFAULT_DURATION, &u(20_000_000))]), track(3, 2, "A_AC3", &[])].concat(),
    );
    let bytes =
        file("matroska", &[tracks, cluster(100, &[el(ebml::SIMPLE_BLOCK, &xiph), el(ebml::SIMPLE_BLOCK, &fixed)])]);
    let mut d = Demuxer::from_bytes(bytes.clone()).unwrap();
    let (p, e) = read_all(&mut d);
    assert!(e.is_none());
    let got: Vec<(&[u8], Option<i64>, Option<i64>)> =
        p.iter().map(|p| (p.data.as_slice(), p.pts, p.duration)).collect();
    assert_eq!(
        got,
        vec![
            (&b"aa"[..], Some(110), Some(20)),
            (&b"bbb"[..], Some(130), Some(20)),
            (&b"c"[..], Some(150), Some(20)),
            (&b"xx"[..], Some(100), None),
            (&b"yy"[..], None, None),
        ]
    );
    // Later laced frames are placed at their own bytes.
    let data_at = bytes.windows(6).position(|w| w == b"aabbbc").unwrap() as u64;
    assert_eq!(p[1].pos, data_at + 2);
    assert_eq!(p[2].pos, data_at + 5);
    // The table agrees with the packets, and seeking to a frame inside a lace works.
    let table = d.packet_table(0).unwrap();
    assert_eq!(table.entries, p[..3].iter().map(MediaPacket::entry).collect::<Vec<_>>());
    d.seek_to(0, &table.entries[2]).unwrap();
    assert_eq!(d.next_packet().unwrap().unwrap(), p[2]);
}

#[test]
fn block_groups_duration_and_reference() {
    let block = |tc: i16, data: &[u8]| {
        let mut d = vec![0x81];
        d.extend(tc.to_be_bytes());
        d.push(0);
        d.extend(data);
        el(ebml::BLOCK, &d)
    };
    let g1 = el(ebml::BLOCK_GROUP, &[block(0, b"I"), el(ebml::BLOCK_DURATION, &u(33))].concat());
    let g2 =
        el(ebml::BLOCK_GROUP, &[el(ebml::REFERENCE_BLOCK, &[0xd8]), el(ebml::VOID, &[]), block(33, b"P")].concat());
    let tracks = el(ebml::TRACKS, &track(1, 1, "V_AV1", &[]));
    let mut d = Demuxer::from_bytes(file("webm", &[tracks, cluster(0, &[g1, g2])])).unwrap();
    let (p, e) = read_all(&mut d);
    assert!(e.is_none());
    assert_eq!((p[0].keyframe, p[0].duration, p[0].data.as_slice()), (true, Some(33), &b"I"[..]));
    assert_eq!((p[1].keyframe, p[1].duration, p[1].pts), (false, None, Some(33)));
}

#[test]
fn header_stripping_puts_the_bytes_back() {
    let enc = el(
        ebml::CONTENT_ENCODINGS,
        &el(
            ebml::CONTENT_ENCODING,
            &el(
                ebml::CONTENT_COMPRESSION,
                &[el(ebml::CONTENT_COMP_ALGO, &[3]), el(ebml::CONTENT_COMP_SETTINGS, b"\x0b\x77")].concat(),
            ),
        ),
    );
    let zlib = el(ebml::CONTENT_ENCODINGS, &el(ebml::CONTENT_ENCODING, &el(ebml::CONTENT_COMPRESSION, &[])));
    let tracks = el(ebml::TRACKS, &[track(1, 2, "A_AC3", &[enc]), track(2, 1, "V_MPEG4/ISO/AVC", &[zlib])].concat());
    let bytes = file(
        "matroska",
        &[tracks, cluster(0, &[simple(1, 0, 0x80, b"rest"), simple(2, 0, 0x80, b"z"), simple(1, 0, 0x80, b"x")])],
    );
    // The zlib track opens fine; only reading its packets fails.
    let mut d = Demuxer::from_bytes(bytes).unwrap();
    assert_eq!(d.track(1).unwrap().codec.name(), "V_MPEG4/ISO/AVC (zlib-compressed)");
    let p = d.next_packet().unwrap().unwrap();
    assert_eq!(p.data, b"\x0b\x77rest");
    assert_eq!(p.entry().size, 6);
    assert!(matches!(d.next_packet(), Err(Error::Unsupported { .. })));
    assert_eq!(d.next_packet().unwrap().unwrap().data, b"\x0b\x77x");
    assert!(d.next_packet().unwrap().is_none());
    let table = d.packet_table(0).unwrap();
    assert_eq!(table.entries.iter().map(|e| e.size).collect::<Vec<_>>(), vec![6, 3]);
    assert!(matches!(d.packet_table(1), Err(Error::Unsupported { .. })));
}

#[test]
fn seek_round_trip() {
    let clusters: Vec<Vec<u8>> = (0..5u64)
        .map(|c| {
            let blocks: Vec<Vec<u8>> = (0..6i16)
                .map(|i| simple(1 + (i % 2) as u8, i * 20, if i == 0 { 0x80 } else { 0 }, &[c as u8, i as u8]))
                .collect();
            cluster(c * 1000, &blocks)
        })
        .collect();
    let mut children = vec![two_tracks()];
    children.extend(clusters);
    let mut d = Demuxer::from_bytes(file("matroska", &children)).unwrap();
    let (all, e) = read_all(&mut d);
    assert!(e.is_none());
    for track in 0..2 {
        let table = d.packet_table(track).unwrap();
        let mine: Vec<&MediaPacket> = all.iter().filter(|p| p.track == track).collect();
        assert_eq!(table.entries.len(), mine.len());
        for (i, entry) in table.entries.iter().enumerate().rev() {
            assert_eq!(*entry, mine[i].entry());
            d.seek_to(track, entry).unwrap();
            let next = std::iter::from_fn(|| d.next_packet().unwrap()).find(|p| p.track == track).unwrap();
            assert_eq!(&next, mine[i], "track {track} entry {i}");
        }
    }
    // A made-up entry is refused, and reading starts over.
    let mut bogus = d.packet_table(0).unwrap().entries[3];
    bogus.pos += 1;
    assert!(matches!(d.seek_to(0, &bogus), Err(Error::InvalidInput(_))));
    assert_eq!(d.next_packet().unwrap().unwrap(), all[0]);
    bogus.seek = 3;
    assert!(matches!(d.seek_to(0, &bogus), Err(Error::InvalidInput(_))));
}

#[test]
fn lying_block_size_ends_the_packets_at_its_offset() {
    let good = simple(1, 0, 0x80, b"good");
    let mut liar = simple(1, 40, 0, b"liar");
    liar[1] = 0x80 | 100; // claims 100 bytes inside a cluster that has 8 left
    let bytes = file("matroska", &[two_tracks(), cluster(0, &[good.clone(), liar.clone(), good])]);
    let liar_at = bytes.windows(liar.len()).position(|w| w == liar).unwrap() as u64;
    let mut d = Demuxer::from_bytes(bytes).unwrap();
    let (p, e) = read_all(&mut d);
    assert_eq!(p.len(), 1);
    let e = e.unwrap();
    assert_eq!(offset(&e), liar_at, "{e}");
    assert!(e.to_string().contains("past the end of its parent Cluster"), "{e}");
    let table = d.packet_table(0).unwrap();
    assert_eq!(table.entries.len(), 1);
    assert_eq!(offset(table.damage.as_ref().unwrap()), liar_at);
    // After a rewind the same packets and the same damage come again.
    d.rewind().unwrap();
    let (again, e2) = read_all(&mut d);
    assert_eq!((again, offset(&e2.unwrap())), (p, liar_at));
}

#[test]
fn truncated_file_gives_what_it_holds() {
    let blocks: Vec<Vec<u8>> = (0..10).map(|i| simple(1, i * 40, 0, &[i as u8; 50])).collect();
    let bytes = file("matroska", &[two_tracks(), cluster(0, &blocks)]);
    // Cut inside the 8th block (each is 2 + 54 bytes).
    let eighth = bytes.len() - 3 * 56;
    let cut = &bytes[..eighth + 20];
    let mut d = Demuxer::from_bytes(cut.to_vec()).unwrap();
    let (p, e) = read_all(&mut d);
    assert_eq!(p.len(), 7);
    let e = e.unwrap();
    assert_eq!(offset(&e), eighth as u64, "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
    // Cut between blocks: the cluster (and segment) end past the file.
    let mut d = Demuxer::from_bytes(bytes[..eighth].to_vec()).unwrap();
    let (p, e) = read_all(&mut d);
    assert_eq!((p.len(), offset(&e.unwrap())), (7, eighth as u64));
}

#[test]
fn info_and_tracks_after_the_clusters_via_seek_head() {
    let info = el(ebml::INFO, &el(ebml::TIMESTAMP_SCALE, &u(100_000)));
    let c = cluster(5, &[simple(1, 0, 0x80, b"v")]);
    let tracks = two_tracks();
    // SeekHead first: it points at itself, at Info and at Tracks (both after the cluster).
    let seek = |id: u32, pos: u64| {
        el(ebml::SEEK, &[el(ebml::SEEK_ID, &id_bytes(id)), el(ebml::SEEK_POSITION, &u(pos))].concat())
    };
    // The SeekHead's own length moves what follows it: settle it in a few rounds.
    let mut head = Vec::new();
    for _ in 0..3 {
        let len = head.len() as u64;
        head = el(
            ebml::SEEK_HEAD,
            &[
                seek(ebml::SEEK_HEAD, 0),
                seek(ebml::INFO, len + c.len() as u64),
                seek(ebml::TRACKS, len + (c.len() + info.len()) as u64),
            ]
            .concat(),
        );
    }
    let mut d = Demuxer::from_bytes(file("matroska", &[head, c, info, tracks])).unwrap();
    assert_eq!(d.tracks().len(), 2);
    assert_eq!(d.track(0).unwrap().time_base, video_hw_types::codec::Rational::new(1, 10_000));
    assert_eq!(d.next_packet().unwrap().unwrap().pts, Some(5));
}

#[test]
fn hostile_structures_finish_quickly() {
    let start = Instant::now();
    let base = [ebml_header("matroska"), unknown(ebml::SEGMENT), two_tracks()].concat();
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // 10,000 nested unknown-size masters, then a block.
    let mut nested = base.clone();
    for _ in 0..10_000 {
        nested.extend(unknown(ebml::TAGS));
    }
    nested.extend(cluster(0, &[simple(1, 0, 0x80, b"x")]));
    inputs.push(nested);
    // 10,000 nested known-size masters.
    let mut inner = cluster(0, &[simple(1, 0, 0x80, b"x")]);
    for _ in 0..10_000 {
        inner = el(0x7373, &inner);
    }
    inputs.push([base.clone(), inner].concat());
    // An element claiming 2^56 - 2 bytes, at level 1 and in a cluster.
    let huge = [0xEC, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe];
    inputs.push([base.clone(), huge.to_vec(), cluster(0, &[])].concat());
    inputs.push([base.clone(), unknown(ebml::CLUSTER), huge.to_vec()].concat());
    // 200,000 empty Voids, at level 1 and inside a cluster.
    inputs.push([base.clone(), [0xEC, 0x80].repeat(200_000)].concat());
    inputs.push([base.clone(), unknown(ebml::CLUSTER), [0xEC, 0x80].repeat(200_000)].concat());
    // 100,000 empty SimpleBlocks of a known track, and as many of an unknown one.
    inputs.push([base.clone(), unknown(ebml::CLUSTER), simple(1, 0, 0, b"").repeat(100_000)].concat());
    inputs.push([base.clone(), unknown(ebml::CLUSTER), simple(9, 0, 0, b"").repeat(100_000)].concat());
    // A SeekHead pointing at itself, and Tracks nowhere.
    let seek = el(ebml::SEEK, &[el(ebml::SEEK_ID, &id_bytes(ebml::SEEK_HEAD)), el(ebml::SEEK_POSITION, &[0])].concat());
    inputs.push(file("matroska", &[el(ebml::SEEK_HEAD, &seek.repeat(1000)), cluster(0, &[])]));
    inputs.push(file("matroska", &[el(ebml::SEEK_HEAD, &seek), two_tracks(), cluster(0, &[simple(1, 0, 0x80, b"x")])]));
    for (i, bytes) in inputs.into_iter().enumerate() {
        let t = Instant::now();
        let Ok(mut d) = Demuxer::from_bytes(bytes) else { continue };
        let mut n = 0;
        while n < 1_000_000 {
            match d.next_packet() {
                Ok(Some(_)) | Err(_) => n += 1,
                Ok(None) => break,
            }
        }
        assert!(n < 1_000_000, "input {i} never ends");
        for track in 0..d.tracks().len() {
            let _ = d.packet_table(track);
        }
        assert!(t.elapsed() < Duration::from_secs(5), "input {i} took {:?}", t.elapsed());
    }
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn no_tracks_or_no_segment_fail_the_open() {
    let e = Demuxer::from_bytes(file("matroska", &[cluster(0, &[])])).unwrap_err();
    assert!(e.to_string().contains("no Tracks"), "{e}");
    let e = Demuxer::from_bytes(ebml_header("webm")).unwrap_err();
    assert!(e.to_string().contains("no Segment"), "{e}");
    let e = Demuxer::from_bytes([0x1a, 0x45, 0xdf, 0xa3, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff].to_vec())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidBitstream { offset: 0, .. }), "{e}");
}
