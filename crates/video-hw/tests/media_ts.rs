//! The MPEG-TS / M2TS demuxer against ffprobe's view of the fixtures in
//! `testdata/media/` (`NAME.json`: streams, and every packet of the first video stream)
//! and ffmpeg's decode (`NAME.framemd5`), and on damaged files.
//!
//! ffprobe's timestamps: ffmpeg moves a stream's timestamps that lie before a 33-bit wrap
//! below zero (`h264-wrap.ts` starts at -186992), where this demuxer counts up from the
//! file's first timestamp and goes past 2^33. So timestamps are compared modulo 2^33,
//! and ours must be monotonic across the wrap.

use crate::common;

use serde_json::Value;
use video_hw::media::{AudioCodec, CodecConfig, Container, Demuxer, MediaPacket, TrackCodec, TrackKind};
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Error, Input, Output, Rational};

const WRAP: i64 = 1 << 33;

use common::{media, media_facts as facts, read_all};

/// Checks the video packets of track `t` against ffprobe's list: count, pts and dts
/// (modulo 2^33), keyframe flags, positions, sizes.
fn check_video(name: &str, packets: &[MediaPacket], t: usize) {
    let f = facts(name);
    let hevc = f["streams"][t]["codec_name"] == "hevc";
    let want = f["video_packets"].as_array().unwrap();
    let got: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == t).collect();
    assert_eq!(got.len(), want.len(), "{name}: video packets");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let at = format!("{name}: video packet {i}");
        let same = |ours: Option<i64>, theirs: &Value| (ours.unwrap() - theirs.as_i64().unwrap()).rem_euclid(WRAP) == 0;
        assert!(same(g.pts, &w["pts"]), "{at}: pts {:?} vs {}", g.pts, w["pts"]);
        assert!(same(g.dts, &w["dts"]), "{at}: dts {:?} vs {}", g.dts, w["dts"]);
        assert_eq!(g.keyframe, w["flags"].as_str().unwrap().contains('K'), "{at}: keyframe");
        assert_eq!(g.pos, w["pos"].as_u64().unwrap(), "{at}: pos");
        // ffmpeg's HEVC parser hands the leading zero byte of each 4-byte start code to
        // the packet before: its first packet is one byte longer, its last one shorter.
        let shift = match (hevc, i) {
            (true, 0) => 1,
            (true, i) if i + 1 == want.len() => -1,
            _ => 0,
        };
        assert_eq!(g.data.len() as i64 + shift, w["size"].as_i64().unwrap(), "{at}: size");
    }
    // Decode order: dts never goes back, across a wrap too.
    assert!(got.windows(2).all(|w| w[0].dts < w[1].dts), "{name}: dts not increasing");
}

/// The stream facts of ffprobe's stream `i`.
fn stream(name: &str, i: usize) -> Value {
    facts(name)["streams"][i].clone()
}

/// Opens `name`, checks its tracks against ffprobe, reads every packet and checks the
/// video packets and the audio count; returns the demuxer and the packets.
fn check_file(name: &str, container: Container, video: Codec) -> (Demuxer, Vec<MediaPacket>) {
    let mut d = Demuxer::open(media(name)).unwrap();
    assert_eq!(d.container(), container);
    let f = facts(name);
    let streams = f["streams"].as_array().unwrap();
    assert_eq!(d.tracks().len(), streams.len(), "{name}: tracks");
    let v = d.tracks()[0].clone();
    assert_eq!((v.kind, v.codec.clone()), (TrackKind::Video, TrackCodec::Video(video)));
    assert_eq!(v.time_base, Rational::new(1, 90_000));
    let vi = v.video.expect("video facts");
    assert_eq!(u64::from(vi.width), stream(name, 0)["width"].as_u64().unwrap());
    assert_eq!(u64::from(vi.height), stream(name, 0)["height"].as_u64().unwrap());
    assert_eq!(v.frame_rate, Some(Rational::new(25, 1)), "{name}: frame rate");
    assert_eq!(v.duration, stream(name, 0)["duration_ts"].as_i64(), "{name}: video duration");
    let (packets, errors) = read_all(&mut d);
    assert!(errors.is_empty(), "{name}: {errors:?}");
    check_video(name, &packets, 0);
    for (i, s) in streams.iter().enumerate().skip(1) {
        let a = &d.tracks()[i];
        assert_eq!(a.id, d.tracks()[i].id);
        assert_eq!(a.codec, TrackCodec::Audio(AudioCodec::Aac));
        let info = a.audio.expect("audio facts");
        assert_eq!(u64::from(info.sample_rate), s["sample_rate"].as_u64().unwrap());
        assert_eq!(u64::from(info.channels), s["channels"].as_u64().unwrap());
        assert_eq!(a.language.as_deref(), s["language"].as_str());
        assert!(matches!(&a.config, CodecConfig::AudioSpecificConfig(c) if c.len() == 2));
        let n = packets.iter().filter(|p| p.track == i).count() as u64;
        assert_eq!(n, s["nb_read_packets"].as_u64().unwrap(), "{name}: audio packets");
        // Raw AAC frames: no ADTS sync word in front, one frame's time apart.
        let audio: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == i).collect();
        assert!(audio.iter().all(|p| p.keyframe && !(p.data[0] == 0xff && p.data[1] & 0xf0 == 0xf0)));
        let step = 1024 * 90_000 / i64::from(info.sample_rate);
        assert!(audio.windows(2).all(|w| w[1].pts.unwrap() - w[0].pts.unwrap() == step), "{name}: audio pts");
    }
    (d, packets)
}

/// The packet table of every track is what reading gives, without the bytes.
fn check_tables(d: &mut Demuxer, packets: &[MediaPacket]) {
    for t in 0..d.tracks().len() {
        let table = d.packet_table(t).unwrap();
        assert!(table.damage.is_none(), "{:?}", table.damage);
        let read: Vec<_> = packets.iter().filter(|p| p.track == t).map(MediaPacket::entry).collect();
        assert_eq!(table.entries, read, "track {t}");
    }
    // Reading starts over after a table.
    assert_eq!(d.next_packet().unwrap().as_ref(), packets.first());
}

/// Seeking to packets of each track makes that packet the next of its track.
fn check_seeks(d: &mut Demuxer, packets: &[MediaPacket]) {
    for t in 0..d.tracks().len() {
        let mine: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == t).collect();
        for k in [mine.len() - 1, mine.len() / 2, 1, 0, mine.len() / 3] {
            let want = mine[k];
            d.seek_to(t, &want.entry()).unwrap();
            let got = loop {
                let p = d.next_packet().unwrap().expect("the sought packet");
                if p.track == t {
                    break p;
                }
            };
            assert_eq!(&got, want, "track {t} packet {k}");
        }
    }
    d.rewind().unwrap();
    assert_eq!(d.next_packet().unwrap().as_ref(), packets.first());
}

/// Decodes the video packets with OpenH264 and compares the frames with ffmpeg's: the
/// same number, every picture bit-exact (B-pictures included; docs/openh264-conformance.md).
fn check_decode(name: &str, d: &Demuxer, packets: &[MediaPacket]) {
    let track = d.tracks()[0].clone();
    let config =
        DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(EnginePreference::Only(Engine::OpenH264));
    let mut dec = Decoder::open(config).unwrap();
    let mut md5s = Vec::new();
    for p in packets.iter().filter(|p| p.track == 0) {
        dec.submit(Input::from_media(&track, p)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            md5s.push(common::frame_md5(&f).1);
        }
    }
    md5s.extend(dec.flush().unwrap().iter().map(|f| common::frame_md5(f).1));
    let want: Vec<String> =
        common::read_framemd5(&media(&format!("{name}.framemd5"))).into_iter().map(|f| f.md5).collect();
    assert_eq!(md5s.len(), want.len(), "{name}: frames");
    let types = facts(name)["video"]["pict_types"].as_str().unwrap().to_string();
    assert_eq!(types.len(), want.len());
    for (i, ((got, want), kind)) in md5s.iter().zip(&want).zip(types.chars()).enumerate() {
        assert!(got == want, "{name}: frame {i} ({kind}) differs from ffmpeg's");
    }
}

#[test]
fn h264_aac_ts() {
    let (mut d, packets) = check_file("h264-aac.ts", Container::MpegTs, Codec::H264);
    assert_eq!(d.tracks()[0].id, 256);
    assert_eq!(d.tracks()[1].config, CodecConfig::AudioSpecificConfig(vec![0x11, 0x90]));
    check_tables(&mut d, &packets);
    check_seeks(&mut d, &packets);
    check_decode("h264-aac.ts", &d, &packets);
}

#[test]
fn hevc_aac_m2ts() {
    let (mut d, packets) = check_file("hevc-aac.m2ts", Container::MpegTs, Codec::Hevc);
    // 192-byte units: every packet starts at a unit boundary.
    assert!(packets.iter().all(|p| p.pos % 192 == 0));
    check_tables(&mut d, &packets);
    check_seeks(&mut d, &packets);
}

#[test]
fn h264_pts_wrap() {
    let (mut d, packets) = check_file("h264-wrap.ts", Container::MpegTs, Codec::H264);
    let video: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == 0).collect();
    // Starts 186992 ticks before the wrap, ends past it, counted on without a jump.
    assert_eq!(video[0].pts, Some(WRAP - 186_992));
    assert!(video.last().unwrap().pts.unwrap() > WRAP);
    let audio: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == 1).collect();
    assert!(audio.windows(2).all(|w| w[0].pts < w[1].pts));
    check_tables(&mut d, &packets);
    check_seeks(&mut d, &packets);
    check_decode("h264-wrap.ts", &d, &packets);
}

#[test]
fn h264_resolution_change() {
    let mut d = Demuxer::open(media("h264-reschange.ts")).unwrap();
    let v = d.tracks()[0].video.unwrap();
    assert_eq!((v.width, v.height), (320, 240), "the first SPS");
    let (packets, errors) = read_all(&mut d);
    assert!(errors.is_empty(), "{errors:?}");
    check_video("h264-reschange.ts", &packets, 0);
    check_tables(&mut d, &packets);
}

#[test]
fn h264_starting_without_idr() {
    let mut d = Demuxer::open(media("h264-noidr.ts")).unwrap();
    let (packets, errors) = read_all(&mut d);
    assert!(errors.is_empty(), "{errors:?}");
    // The first packet is a non-IDR I picture with a recovery point SEI: a keyframe.
    check_video("h264-noidr.ts", &packets, 0);
    assert!(packets.iter().find(|p| p.track == 0).unwrap().keyframe);
    let audio = packets.iter().filter(|p| p.track == 1).count() as u64;
    assert_eq!(audio, stream("h264-noidr.ts", 1)["nb_read_packets"].as_u64().unwrap());
    check_tables(&mut d, &packets);
}

#[test]
fn damaged_sync_bytes() {
    // h264-aac.ts with the sync byte of 3 packets in the middle zeroed.
    let mut d = Demuxer::open(media("bad/badsync.ts")).unwrap();
    let (packets, errors) = read_all(&mut d);
    // Two places (one packet, then two in a row), each reported once with its offset.
    let offsets: Vec<u64> = errors
        .iter()
        .map(|e| match e {
            Error::InvalidBitstream { offset, reason } => {
                assert!(reason.contains("lost sync"), "{reason}");
                *offset
            }
            other => panic!("{other}"),
        })
        .collect();
    let n = 136_864 / 188 / 2;
    assert_eq!(offsets, vec![n as u64 * 188, (n + 5) as u64 * 188]);
    // ffprobe reads 99 video packets and every audio frame; the packets after the damage
    // all come.
    let b = facts("bad/badsync.ts");
    let video = packets.iter().filter(|p| p.track == 0).count() as u64;
    let audio = packets.iter().filter(|p| p.track == 1).count() as u64;
    assert_eq!(video, b["streams"][0]["nb_read_packets"].as_u64().unwrap());
    assert_eq!(audio, b["streams"][1]["nb_read_packets"].as_u64().unwrap());
    let table = d.packet_table(0).unwrap();
    assert_eq!(table.entries.len() as u64, video);
    assert!(matches!(table.damage, Some(Error::InvalidBitstream { .. })));
}

#[test]
fn truncated_file() {
    let data = std::fs::read(media("h264-aac.ts")).unwrap();
    let (whole, _) = read_all(&mut Demuxer::from_bytes(data.clone()).unwrap());
    for cut in [data.len() - 100, data.len() / 2 + 7, 40_000] {
        let mut d = Demuxer::from_bytes(&data[..cut]).unwrap();
        let (packets, errors) = read_all(&mut d);
        assert_eq!(errors.len(), 1, "cut at {cut}: {errors:?}");
        assert!(matches!(&errors[0], Error::InvalidBitstream { offset, .. } if *offset == (cut / 188 * 188) as u64));
        // Every packet that ends before the cut is read as in the whole file.
        let before: Vec<&MediaPacket> =
            whole.iter().filter(|p| p.pos + (p.data.len() as u64) < cut as u64 / 2).collect();
        for p in before {
            assert!(packets.contains(p));
        }
    }
}

/// Reads everything a demuxer gives (packets, tables, seeks) without caring what: for
/// damaged input, where only "no panic, no hang" is asked.
fn exercise(d: &mut Demuxer) -> usize {
    let (packets, _) = read_all(d);
    for t in 0..d.tracks().len() {
        let table = d.packet_table(t).unwrap();
        if let Some(e) = table.entries.get(table.entries.len() / 2) {
            d.seek_to(t, e).unwrap();
            let _ = d.next_packet();
        }
    }
    packets.len()
}

#[test]
fn every_damaged_ts_fixture() {
    let dir = media("bad");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.ends_with(".ts") || name.ends_with(".m2ts")) {
            continue;
        }
        n += 1;
        match Demuxer::open(&path) {
            Ok(mut d) => assert!(exercise(&mut d) > 0, "{name}"),
            Err(e) => assert!(matches!(e, Error::InvalidBitstream { .. }), "{name}: {e}"),
        }
    }
    assert!(n > 0, "no damaged TS fixtures in {}", dir.display());
}

#[test]
fn flipped_bytes_never_panic() {
    // Deterministic damage to a real file: bytes flipped at pseudo-random places, in the
    // headers (first 16 bytes of a packet) as often as anywhere.
    let clean = std::fs::read(media("h264-aac.ts")).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..48 {
        let mut bytes = clean.clone();
        for _ in 0..(1 + round % 40) {
            let r = next() as usize;
            let at = if r.is_multiple_of(2) {
                (r >> 8) % bytes.len()
            } else {
                ((r >> 8) % (bytes.len() / 188)) * 188 + (r >> 40) % 16
            };
            bytes[at] ^= (r >> 32) as u8 | 1;
        }
        if round % 5 == 4 {
            bytes.truncate((next() as usize) % bytes.len());
        }
        if let Ok(mut d) = Demuxer::from_bytes(bytes) {
            exercise(&mut d);
        }
    }
}
