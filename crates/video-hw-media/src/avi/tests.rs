//! The AVI demuxer on files built here: the index or a walk, timestamps, key frames,
//! MPEG-4 reordering, OpenDML follow-on lists, and damage.

use super::opendml_copy::{chunk, le32_at, standard_index, super_index, with_opendml_index};
use super::*;
use crate::Demuxer;
use crate::types::TrackCodec;
use video_hw_types::codec::Rational;

fn list(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut inner = kind.to_vec();
    inner.extend(body);
    chunk(b"LIST", &inner)
}

/// A video stream (`fourcc`, 1/25) and a PCM audio stream (8 kHz mono 16-bit).
fn hdrl(fourcc: &[u8; 4]) -> Vec<u8> {
    let mut strh = vec![0u8; 56];
    strh[..4].copy_from_slice(b"vids");
    strh[20..24].copy_from_slice(&1u32.to_le_bytes());
    strh[24..28].copy_from_slice(&25u32.to_le_bytes());
    let mut bih = vec![0u8; 40];
    bih[4..8].copy_from_slice(&64u32.to_le_bytes());
    bih[8..12].copy_from_slice(&48u32.to_le_bytes());
    bih[16..20].copy_from_slice(fourcc);
    let video = list(b"strl", &[chunk(b"strh", &strh), chunk(b"strf", &bih)].concat());
    let mut strh = vec![0u8; 56];
    strh[..4].copy_from_slice(b"auds");
    strh[20..24].copy_from_slice(&1u32.to_le_bytes());
    strh[24..28].copy_from_slice(&8000u32.to_le_bytes());
    strh[44..48].copy_from_slice(&2u32.to_le_bytes());
    let mut wav = Vec::new();
    for v in [1u16, 1] {
        wav.extend(v.to_le_bytes());
    }
    wav.extend(8000u32.to_le_bytes());
    wav.extend(16000u32.to_le_bytes());
    for v in [2u16, 16, 0] {
        wav.extend(v.to_le_bytes());
    }
    let audio = list(b"strl", &[chunk(b"strh", &strh), chunk(b"strf", &wav)].concat());
    list(b"hdrl", &[chunk(b"avih", &[0; 56]), video, audio].concat())
}

/// An AVI of `chunks` (id, payload, idx1 key flag), with an `idx1` when `index`.
fn avi(fourcc: &[u8; 4], chunks: &[(&[u8; 4], Vec<u8>, bool)], index: bool) -> Vec<u8> {
    let head = hdrl(fourcc);
    let movi_fourcc = 12 + head.len() as u64 + 8;
    let mut body = Vec::new();
    let mut idx = Vec::new();
    for (id, payload, key) in chunks {
        idx.extend(*id);
        idx.extend(if *key { 0x10u32 } else { 0 }.to_le_bytes());
        idx.extend((body.len() as u32 + 4).to_le_bytes());
        idx.extend((payload.len() as u32).to_le_bytes());
        body.extend(chunk(*id, payload));
    }
    let mut riff = b"AVI ".to_vec();
    riff.extend(&head);
    riff.extend(list(b"movi", &body));
    if index {
        riff.extend(chunk(b"idx1", &idx));
    }
    let mut f = chunk(b"RIFF", &riff);
    assert_eq!(&f[movi_fourcc as usize..movi_fourcc as usize + 4], b"movi");
    f.truncate(f.len());
    f
}

fn read_all(d: &mut Demuxer) -> (Vec<MediaPacket>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match d.next_packet() {
            Ok(Some(p)) => out.push(p),
            Ok(None) => return (out, None),
            Err(e) => {
                assert!(d.next_packet().unwrap().is_none(), "damage ends the packets");
                return (out, Some(e));
            }
        }
    }
}

/// An MPEG-4 VOP of `kind` (0 I, 1 P, 2 B).
fn vop(kind: u8) -> Vec<u8> {
    vec![0, 0, 1, 0xb6, kind << 6, 0x55, 0xaa]
}

#[test]
fn tracks_timestamps_and_key_flags_from_the_index() {
    let chunks = [
        (b"00dc", vec![1; 5], true),
        (b"01wb", vec![0; 8], true),
        (b"00dc", vec![], false),
        (b"00dc", vec![2; 4], false),
        (b"01wb", vec![0; 4], true),
    ];
    for index in [true, false] {
        let mut d = Demuxer::from_bytes(avi(b"MJPG", &chunks, index)).unwrap();
        assert_eq!(d.container(), Container::Avi);
        let t = d.tracks().to_vec();
        assert_eq!((t[0].codec.video(), t[0].time_base), (Some(Codec::Mjpeg), Rational::new(1, 25)));
        assert_eq!(t[0].video.map(|v| (v.width, v.height)), Some((64, 48)));
        // Two slots of three hold a picture: 25 * 2/3 frames a second.
        assert_eq!(t[0].frame_rate, Some(Rational::new(50, 3)));
        assert_eq!(t[1].codec, TrackCodec::Audio(crate::AudioCodec::Pcm));
        assert_eq!(
            (t[1].time_base, t[1].audio.map(|a| (a.sample_rate, a.channels))),
            (Rational::new(1, 8000), Some((8000, 1)))
        );
        let (packets, damage) = read_all(&mut d);
        assert!(damage.is_none());
        let got: Vec<_> = packets.iter().map(|p| (p.track, p.pts, p.duration, p.data.len(), p.keyframe)).collect();
        // The empty chunk holds frame slot 1; audio counts samples (2 bytes each).
        // Without an index, MJPEG pictures are all key frames.
        assert_eq!(
            got,
            [
                (0, Some(0), Some(1), 5, true),
                (1, Some(0), Some(4), 8, true),
                (0, Some(2), Some(1), 4, !index),
                (1, Some(4), Some(2), 4, true)
            ]
        );
        assert_eq!(packets[0].pos, 12 + hdrl(b"MJPG").len() as u64 + 12 + 8);
        // The table, and a seek to an entry, give the same packets.
        let table = d.packet_table(0).unwrap();
        assert!(table.damage.is_none());
        assert_eq!(table.entries.iter().map(|e| e.pos).collect::<Vec<_>>(), [packets[0].pos, packets[2].pos]);
        d.seek_to(0, &table.entries[1]).unwrap();
        assert_eq!(d.next_packet().unwrap().unwrap().data, vec![2; 4]);
        assert!(d.seek_to(0, &PacketEntry { seek: 99, ..table.entries[0] }).is_err());
    }
}

#[test]
fn mpeg4_b_vops_show_before_their_anchor() {
    // Decode order I P B B P B: shown I B B P B P, one slot late (the decoder's delay),
    // a B-VOP at its own decode time as ffmpeg has it.
    let kinds = [0u8, 1, 2, 2, 1, 2];
    let chunks: Vec<(&[u8; 4], Vec<u8>, bool)> = kinds.iter().map(|&k| (b"00dc", vop(k), k == 0)).collect();
    for index in [true, false] {
        let mut d = Demuxer::from_bytes(avi(b"XVID", &chunks, index)).unwrap();
        assert_eq!(d.tracks()[0].codec.video(), Some(Codec::Mpeg4));
        let (packets, _) = read_all(&mut d);
        let pts: Vec<Option<i64>> = packets.iter().map(|p| p.pts).collect();
        assert_eq!(pts, [1, 4, 2, 3, 6, 5].map(Some));
        let keys: Vec<bool> = packets.iter().map(|p| p.keyframe).collect();
        assert_eq!(keys, [true, false, false, false, false, false]);
    }
    assert_eq!(reorder_vops(&[None, Some(2)], &[0, 1]), [2, 1]);
    assert_eq!(reorder_vops(&[Some(0), Some(1)], &[0, 1]), [0, 1]);
}

#[test]
fn h264_has_no_presentation_times_and_idr_keys_without_an_index() {
    let idr = vec![0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x65, 0x88];
    let non = vec![0, 0, 0, 1, 0x41, 0x9a];
    let chunks = [(b"00dc", idr, true), (b"00dc", non, false)];
    let mut d = Demuxer::from_bytes(avi(b"H264", &chunks, false)).unwrap();
    assert_eq!((d.tracks()[0].codec.video(), &d.tracks()[0].config), (Some(Codec::H264), &crate::CodecConfig::None));
    let (packets, _) = read_all(&mut d);
    assert_eq!(
        packets.iter().map(|p| (p.pts, p.dts, p.keyframe)).collect::<Vec<_>>(),
        [(None, Some(0), true), (None, Some(1), false)]
    );
}

#[test]
fn opendml_follow_on_lists_are_walked() {
    let mut f = avi(b"MJPG", &[(b"00dc", vec![1; 3], true)], true);
    let mut avix = b"AVIX".to_vec();
    avix.extend(list(b"movi", &[chunk(b"ix00", &[0; 8]), chunk(b"00dc", &[2; 3])].concat()));
    f.extend(chunk(b"RIFF", &avix));
    let mut d = Demuxer::from_bytes(f).unwrap();
    let (packets, damage) = read_all(&mut d);
    assert!(damage.is_none());
    assert_eq!(packets.iter().map(|p| (p.data[0], p.pts)).collect::<Vec<_>>(), [(1, Some(0)), (2, Some(1))]);
}

#[test]
fn damage_gives_the_packets_before_and_a_typed_error() {
    let chunks = [(b"00dc", vec![1; 100], true), (b"00dc", vec![2; 100], true), (b"00dc", vec![3; 100], true)];
    let whole = avi(b"MJPG", &chunks, false);
    let len = whole.len();
    // Cut inside the last chunk: two packets, then where the third broke.
    let mut d = Demuxer::from_bytes(whole[..len - 50].to_vec()).unwrap();
    let (packets, damage) = read_all(&mut d);
    assert_eq!(packets.len(), 2);
    match damage {
        Some(Error::InvalidBitstream { offset, reason }) => {
            assert!(offset < (len - 50) as u64 && reason.contains("truncated"), "{offset}: {reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(d.packet_table(0).unwrap().damage.is_some());
    // An index that points past the file's end: the packets before, then the damage.
    let mut indexed = avi(b"MJPG", &chunks, true);
    let idx = indexed.len() - 48;
    indexed[idx + 16 * 2 + 12..idx + 16 * 2 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut d = Demuxer::from_bytes(indexed).unwrap();
    let (packets, damage) = read_all(&mut d);
    assert_eq!(packets.len(), 2);
    assert!(matches!(damage, Some(Error::InvalidBitstream { .. })), "{damage:?}");
    // Every cut of a small file: no panic, typed errors only.
    for cut in 0..whole.len() {
        match Demuxer::from_bytes(whole[..cut].to_vec()) {
            Ok(mut d) => {
                let _ = read_all(&mut d);
                let _ = d.packet_table(0);
            }
            Err(e) => assert!(matches!(e, Error::InvalidBitstream { .. } | Error::InvalidInput { .. }), "{cut}: {e}"),
        }
    }
    // Lying sizes everywhere in the header, too large or too small: no panic.
    for at in 4..whole.len().min(400) {
        for size in [u32::MAX, 0, 3] {
            let mut f = whole.clone();
            f[at..at + 4].copy_from_slice(&size.to_le_bytes());
            if let Ok(mut d) = Demuxer::from_bytes(f) {
                let _ = read_all(&mut d);
                let _ = d.packet_table(0);
            }
        }
    }
}

#[test]
fn wav_is_not_avi() {
    assert!(!matches!(crate::detect(b"RIFF\0\0\0\0WAVEfmt "), Some(Container::Avi)));
    assert_eq!(crate::detect(b"RIFF\0\0\0\0AVI LIST"), Some(Container::Avi));
    let e = Demuxer::from_bytes(b"RIFF\x04\0\0\0AVI ".to_vec()).unwrap_err();
    assert!(e.to_string().contains("hdrl"), "{e}");
}

/// A packet as (track, data, pts, dts, key, pos): everything a decoder sees, and where.
type Seen = (usize, Vec<u8>, Option<i64>, Option<i64>, bool, u64);

fn packets_of(d: AviDemuxer) -> Vec<Seen> {
    let mut d = Demuxer { inner: Box::new(d) };
    let (packets, damage) = read_all(&mut d);
    assert!(damage.is_none(), "{damage:?}");
    packets.into_iter().map(|p| (p.track, p.data, p.pts, p.dts, p.keyframe, p.pos)).collect()
}

fn open(bytes: &[u8], odml: bool) -> AviDemuxer {
    AviDemuxer::open_with(ByteSource::new(Box::new(std::io::Cursor::new(bytes.to_vec()))).unwrap(), odml).unwrap()
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "avi"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    assert_eq!(out.len(), 4, "the AVI fixtures");
    out
}

#[test]
fn opendml_indexes_give_the_packets_idx1_and_the_walk_give() {
    for (name, plain) in fixtures() {
        let d = open(&plain, true);
        assert_eq!(d.located, Located::Idx1, "{name}: ffmpeg writes no OpenDML index in small files");
        let want = packets_of(d);
        let odml = with_opendml_index(&plain, true);
        let d = open(&odml, true);
        assert_eq!(d.located, Located::OpenDml, "{name}");
        assert_eq!(packets_of(d), want, "{name}: OpenDML");
        let d = open(&odml, false);
        assert_eq!(d.located, Located::Idx1, "{name}");
        assert_eq!(packets_of(d), want, "{name}: idx1 beside OpenDML");
        // Without idx1: OpenDML still, and the walk finds the same packets (key flags
        // then from the bitstream).
        let no_idx1 = with_opendml_index(&plain, false);
        let d = open(&no_idx1, true);
        assert_eq!(d.located, Located::OpenDml, "{name}");
        assert_eq!(packets_of(d), want, "{name}: OpenDML without idx1");
        let d = open(&no_idx1, false);
        assert_eq!(d.located, Located::Walk, "{name}");
        let strip = |v: Vec<Seen>| {
            v.into_iter().map(|(t, data, pts, dts, _, pos)| (t, data, pts, dts, pos)).collect::<Vec<_>>()
        };
        assert_eq!(strip(packets_of(d)), strip(want.clone()), "{name}: walked");
        // One picture a packet: as many as ffmpeg decodes (the fixtures' .framemd5).
        let frames = want.iter().filter(|p| p.0 == 0).count();
        let md5 =
            std::fs::read_to_string(format!("{}/../../testdata/media/{name}.framemd5", env!("CARGO_MANIFEST_DIR")));
        let decoded = md5.unwrap().lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(frames, decoded, "{name}: video packets");
    }
}

#[test]
fn a_damaged_opendml_index_is_passed_over() {
    let (name, plain) = fixtures().swap_remove(0);
    let want = packets_of(open(&plain, true));
    let good = with_opendml_index(&plain, true);
    let indx = good.windows(4).position(|w| w == b"indx").unwrap() + 8;
    let ix = good.windows(4).rposition(|w| w == b"ix00").unwrap() + 8;
    let n = le32_at(&good, ix + 4) as usize;
    let entry = |k: usize| ix + 24 + 8 * k;
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut put = |what, at: usize, v: u32| {
        let mut f = good.clone();
        f[at..at + 4].copy_from_slice(&v.to_le_bytes());
        cases.push((what, f));
    };
    put("super index: entries past its bytes", indx + 4, u32::MAX);
    put("super index: another stream's chunk id", indx + 8, u32::from_le_bytes(*b"01wb"));
    put("super index: a standard index not there", indx + 24, le32_at(&good, indx + 24) + 2);
    put("super index: a standard index past the end", indx + 24, u32::MAX);
    put("super index: of another type", indx, 0x0500_0004);
    put("standard index: entries past its bytes", ix + 4, u32::MAX);
    put("standard index: first entry off its chunk", entry(0), le32_at(&good, entry(0)) + 2);
    put("standard index: first entry's size wrong", entry(0) + 4, le32_at(&good, entry(0) + 4) + 1);
    put("standard index: an entry going backwards", entry(n / 2), le32_at(&good, entry(n / 2 - 1)));
    put("standard index: an entry past the movi list", entry(n - 1), u32::MAX - 8);
    put("standard index: base offset past everything", ix + 12, u32::MAX);
    put("standard index: of another stream", ix + 8, u32::from_le_bytes(*b"01wb"));
    for (what, f) in cases {
        let d = open(&f, true);
        assert_eq!(d.located, Located::Idx1, "{name}, {what}");
        assert_eq!(packets_of(d), want, "{name}, {what}");
    }
    // A stream without an indx: idx1.
    let mut f = good.clone();
    f[indx - 8..indx - 4].copy_from_slice(b"JUNK");
    assert_eq!(open(&f, true).located, Located::Idx1);
    // Every byte of the indexes changed: no panic, and the file always opens.
    let regions = [indx..indx + 64, ix..ix + 64, entry(n - 2)..entry(n) + 8];
    for at in regions.into_iter().flatten() {
        for v in [0u8, 0xff, good[at] ^ 0x80] {
            let mut f = good.clone();
            f[at] = v;
            let mut d = Demuxer { inner: Box::new(open(&f, true)) };
            let _ = read_all(&mut d);
        }
    }
}

#[test]
fn opendml_indexes_cover_follow_on_riff_lists() {
    // Video: one chunk in the first RIFF, two in the AVIX (the second not a key frame,
    // which only the index says: MJPEG without one is all key frames). Audio: none.
    let first = [(b"00dc", vec![1; 3], true)];
    let mut f = avi(b"MJPG", &first, false);
    let mut avix = b"AVIX".to_vec();
    let movi2 = [chunk(b"00dc", &[2; 3]), chunk(b"00dc", &[3; 4])].concat();
    avix.extend(list(b"movi", &movi2));
    let avix_at = f.len();
    f.extend(chunk(b"RIFF", &avix));
    // The AVIX movi's payloads: RIFF(8) AVIX(4) LIST(8) movi(4), then each chunk's header.
    let p2 = (avix_at + 24 + 8) as u64;
    let p3 = p2 + 4 + 8;
    let p1 = (12 + hdrl(b"MJPG").len() + 12 + 8) as u64;
    let ix_a = f.len() as u64;
    f.extend(standard_index(b"00dc", 0, &[(p1 as u32, 3, true)]));
    let ix_b = f.len() as u64;
    f.extend(standard_index(b"00dc", p2 - 100, &[(100, 3, true), (100 + (p3 - p2) as u32, 4, false)]));
    let audio_ix = f.len() as u64;
    f.extend(standard_index(b"01wb", 0, &[]));
    // The indexes go in each strl (the header list grows: offsets after it move).
    let grow = 2 * (8 + 64);
    let shift = |v: u64| v + grow as u64;
    let video = super_index(b"00dc", &[(shift(ix_a), 32, 1), (shift(ix_b), 40, 2)], 64);
    let audio = super_index(b"01wb", &[(shift(audio_ix), 32, 0)], 64);
    let hdrl_at = 12;
    let strl = |n: usize, g: &[u8]| g.windows(8).enumerate().filter(|(_, w)| w == b"strlstrh").nth(n).unwrap().0;
    for (n, indx) in [(1, audio), (0, video)] {
        let at = strl(n, &f);
        let size = le32_at(&f, at - 4);
        f.splice(at - 4..at, (size + 72).to_le_bytes());
        let end = at + size as usize;
        f.splice(end..end, chunk(b"indx", &indx));
    }
    let hsize = le32_at(&f, hdrl_at + 4);
    f.splice(hdrl_at + 4..hdrl_at + 8, (hsize + grow as u32).to_le_bytes());
    let riff = le32_at(&f, 4);
    f.splice(4..8, (riff + grow as u32).to_le_bytes());
    // Everything after the header list moved by `grow`: the payload offsets the standard
    // indexes give too, so rebuild them over (same sizes).
    let fix = |f: &mut Vec<u8>, at: u64, bytes: Vec<u8>| {
        let at = shift(at) as usize;
        f[at..at + bytes.len()].copy_from_slice(&bytes);
    };
    fix(&mut f, ix_a, standard_index(b"00dc", 0, &[(shift(p1) as u32, 3, true)]));
    fix(&mut f, ix_b, standard_index(b"00dc", shift(p2) - 100, &[(100, 3, true), (100 + (p3 - p2) as u32, 4, false)]));
    let d = open(&f, true);
    assert_eq!(d.located, Located::OpenDml);
    let got: Vec<(u8, Option<i64>, bool)> = packets_of(d).iter().map(|p| (p.1[0], p.2, p.4)).collect();
    assert_eq!(got, [(1, Some(0), true), (2, Some(1), true), (3, Some(2), false)]);
    let d = open(&f, false);
    assert_eq!(d.located, Located::Walk);
    let got: Vec<(u8, bool)> = packets_of(d).iter().map(|p| (p.1[0], p.4)).collect();
    assert_eq!(got, [(1, true), (2, true), (3, true)]);
}
