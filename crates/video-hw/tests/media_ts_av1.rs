//! AV1 in MPEG-TS, in both forms found in files (`testdata/av1/*.ts`, made by
//! `scripts/make-av1-fixtures.sh` from the IVF fixtures): AOM's specification (registration
//! `AV01`, start codes, OBUs with and without size fields, a PES per temporal unit or per
//! access unit, with and without temporal delimiters) and ffmpeg's private-data form. The
//! demuxer must give back the IVF file's temporal units byte for byte (size fields
//! restored; temporal delimiters where the file kept them), one packet per unit, with the
//! IVF's key frames, the size from the sequence header, a packet table that agrees and
//! seeking to every key frame.

use crate::common;

use common::read_all;
use video_hw::Codec;
use video_hw::media::{Container, Demuxer, MediaPacket, TrackCodec, TrackKind};

/// Temporal delimiter OBUs removed (they are 2 bytes each: `12 00`).
fn without_delimiters(tu: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < tu.len() {
        let header = tu[at];
        let head = 1 + usize::from(header & 0x04 != 0);
        let (mut size, mut n) = (0usize, 0);
        while tu[at + head + n] & 0x80 != 0 {
            size |= usize::from(tu[at + head + n] & 0x7f) << (7 * n);
            n += 1;
        }
        size |= usize::from(tu[at + head + n]) << (7 * n);
        let end = at + head + n + 1 + size;
        if (header >> 3) & 0x0f != 2 {
            out.extend_from_slice(&tu[at..end]);
        }
        at = end;
    }
    out
}

fn packets(rel: &str) -> (Demuxer, Vec<MediaPacket>) {
    let mut d = Demuxer::open(common::fixtures_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let (packets, errors) = read_all(&mut d);
    assert!(errors.is_empty(), "{rel}: {errors:?}");
    d.rewind().unwrap();
    (d, packets)
}

#[test]
fn every_form_gives_back_the_ivf_units() {
    for (ts, ivf, delimiters) in [
        ("av1/libaom-kf8-cars-320x240.ts", "av1/libaom-kf8-cars-320x240.ivf", true),
        ("av1/libaom-kf8-cars-320x240-split.ts", "av1/libaom-kf8-cars-320x240.ivf", false),
        ("av1/libaom-kf8-cars-320x240-ffmpeg.ts", "av1/libaom-kf8-cars-320x240.ivf", true),
        ("av1/aomenc-fwdkf-cars-320x240-split.ts", "av1/aomenc-fwdkf-cars-320x240.ivf", true),
    ] {
        let (mut d, got) = packets(ts);
        let (_, want) = packets(ivf);
        assert_eq!(d.container(), Container::MpegTs, "{ts}");
        let track = &d.tracks()[0];
        assert_eq!((track.kind, &track.codec), (TrackKind::Video, &TrackCodec::Video(Codec::Av1)), "{ts}");
        let v = track.video.unwrap();
        assert_eq!((v.width, v.height), (320, 240), "{ts}");
        assert_eq!(got.len(), want.len(), "{ts}: one packet per temporal unit");
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            let w_data = if delimiters { w.data.clone() } else { without_delimiters(&w.data) };
            assert!(g.data == w_data, "{ts}: unit {k} differs from the IVF's");
            assert_eq!(g.keyframe, w.keyframe, "{ts}: unit {k}'s key flag");
        }
        // Timestamps: 90 kHz, 25 fps (from 1 s, and ffmpeg's from 1.4 s).
        let step = got[1].pts.zip(got[0].pts).map(|(b, a)| b - a);
        assert_eq!(step, Some(3_600), "{ts}");
        // The packet table agrees with the packets, and seeking to each key frame gives it.
        let table = d.packet_table(0).unwrap();
        assert!(table.damage.is_none(), "{ts}: {:?}", table.damage);
        assert_eq!(table.entries.len(), got.len(), "{ts}");
        for (e, p) in table.entries.iter().zip(&got) {
            assert_eq!((e.pts, e.keyframe, e.pos, e.size as usize), (p.pts, p.keyframe, p.pos, p.data.len()), "{ts}");
        }
        for (k, e) in table.entries.iter().enumerate().filter(|(_, e)| e.keyframe) {
            d.seek_to(0, e).unwrap();
            let p = d.next_packet().unwrap().unwrap();
            assert!(p.data == got[k].data && p.pts == e.pts, "{ts}: seek to key frame {k}");
        }
    }
}

#[test]
fn damaged_av1_pes_is_an_error_at_its_offset_and_reading_goes_on() {
    // Overwrite the second PES's first start code (after its PES header) with bytes that
    // cannot start one: the PES is reported, the ones after it are read.
    let rel = "av1/libaom-kf8-cars-320x240.ts";
    let mut bytes = std::fs::read(common::fixtures_dir().join(rel)).unwrap();
    let (_, good) = packets(rel);
    let second = good[1].pos as usize;
    let pes = (second..second + 188).find(|&i| bytes[i..].starts_with(&[0, 0, 1, 0xbd])).unwrap();
    let payload = pes + 9 + usize::from(bytes[pes + 8]);
    assert_eq!(&bytes[payload..payload + 3], &[0, 0, 1]);
    bytes[payload + 1] = 5;
    let dir = common::scratch::scratch_dir("ts-av1-damage");
    let bad = dir.join("bad.ts");
    std::fs::write(&bad, &bytes).unwrap();
    let mut d = Demuxer::open(&bad).unwrap();
    let (got, errors) = read_all(&mut d);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].to_string();
    assert!(e.contains("AV1 PES") && e.contains(&format!("byte {second}")), "{e}");
    assert_eq!(got.len(), good.len() - 1, "only the damaged unit is missing");
}
