//! The Matroska/WebM demuxer against ffprobe on the fixtures of `testdata/media/` (made
//! by `scripts/make-media-fixtures.sh`, each with its ffprobe facts in `FILE.json`):
//! tracks, every video packet (pts, duration, key flag, position, size), packet counts
//! per track, packet tables, seeking to every packet, the damaged files, and decoding
//! the video through `Input::from_media` to the reference frame MD5s.

use crate::common;

use video_hw::media::{Container, Demuxer, MediaPacket, TrackKind};
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Error, Input, Output};

const GOOD: [&str; 5] = ["hevc-aac.mkv", "vp9-opus.webm", "av1-opus.webm", "h264-vfr.mkv", "h264-opengop.mkv"];

use common::{media, media_facts as facts, rational};

/// Every packet, then the damage that ended them (Matroska ends at its damage).
fn read_all(d: &mut Demuxer) -> (Vec<MediaPacket>, Option<Error>) {
    let (packets, mut errors) = common::read_all(d);
    assert!(errors.len() <= 1, "damage is the end");
    (packets, errors.pop())
}

#[test]
fn tracks_match_ffprobe() {
    for name in GOOD {
        let f = facts(name);
        let d = Demuxer::open(media(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let webm = name.ends_with(".webm");
        assert_eq!(d.container(), if webm { Container::WebM } else { Container::Matroska }, "{name}");
        let streams = f["streams"].as_array().unwrap();
        assert_eq!(d.tracks().len(), streams.len(), "{name}");
        for (t, s) in d.tracks().iter().zip(streams) {
            let what = format!("{name} track {}", t.index);
            assert_eq!(t.kind.name(), s["codec_type"].as_str().unwrap(), "{what}");
            assert_eq!(t.codec.name(), s["codec_name"].as_str().unwrap(), "{what}");
            assert_eq!(t.time_base, rational(s["time_base"].as_str().unwrap()), "{what}");
            assert_eq!(t.language.as_deref(), s["language"].as_str(), "{what}");
            assert_eq!(t.packets, None, "{what}");
            assert_eq!(t.window, None, "{what}");
            match t.kind {
                TrackKind::Video => {
                    let v = t.video.unwrap();
                    assert_eq!(u64::from(v.width), s["width"].as_u64().unwrap(), "{what}");
                    assert_eq!(u64::from(v.height), s["height"].as_u64().unwrap(), "{what}");
                    assert_eq!(t.frame_rate, Some(rational(s["r_frame_rate"].as_str().unwrap())), "{what}");
                    assert!(t.codec.video().is_some(), "{what}");
                }
                TrackKind::Audio => {
                    let a = t.audio.unwrap();
                    assert_eq!(u64::from(a.sample_rate), s["sample_rate"].as_u64().unwrap(), "{what}");
                    assert_eq!(u64::from(a.channels), s["channels"].as_u64().unwrap(), "{what}");
                }
                _ => {}
            }
            // Info Duration, in the tracks' time base (1 ms here).
            let seconds: f64 = f["duration"].as_str().unwrap().parse().unwrap();
            assert_eq!(t.duration, Some((seconds * 1000.0).round() as i64), "{what}");
        }
    }
}

#[test]
fn packets_match_ffprobe() {
    for name in GOOD {
        let f = facts(name);
        let mut d = Demuxer::open(media(name)).unwrap();
        let (packets, damage) = read_all(&mut d);
        assert!(damage.is_none(), "{name}: {damage:?}");
        for (i, s) in f["streams"].as_array().unwrap().iter().enumerate() {
            let n = packets.iter().filter(|p| p.track == i).count() as u64;
            assert_eq!(n, s["nb_read_packets"].as_u64().unwrap(), "{name} track {i} packet count");
        }
        let video = d.video_track().unwrap().index;
        let mine: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == video).collect();
        let theirs = f["video_packets"].as_array().unwrap();
        assert_eq!(mine.len(), theirs.len(), "{name}");
        for (k, (p, q)) in mine.iter().zip(theirs).enumerate() {
            let what = format!("{name} video packet {k}");
            assert_eq!(p.pts, q["pts"].as_i64(), "{what} pts");
            assert_eq!(p.dts, None, "{what} dts");
            assert_eq!(p.duration, q["duration"].as_i64(), "{what} duration");
            assert_eq!(p.keyframe, q["flags"].as_str().unwrap().contains('K'), "{what} key");
            assert_eq!(p.pos, q["pos"].as_u64().unwrap(), "{what} pos");
            assert_eq!(p.data.len() as u64, q["size"].as_u64().unwrap(), "{what} size");
        }
    }
}

#[test]
fn tables_and_seeks_agree_with_the_packets() {
    for name in GOOD {
        let mut d = Demuxer::open(media(name)).unwrap();
        let (packets, _) = read_all(&mut d);
        for track in 0..d.tracks().len() {
            let table = d.packet_table(track).unwrap();
            assert!(table.damage.is_none(), "{name}");
            let mine: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == track).collect();
            let entries: Vec<_> = mine.iter().map(|p| p.entry()).collect();
            assert_eq!(table.entries, entries, "{name} track {track}");
            // Reading starts from the first packet after a table.
            assert_eq!(d.next_packet().unwrap().as_ref(), packets.first(), "{name}");
            // Seek to every packet, last first, and read it back.
            for (i, e) in table.entries.iter().enumerate().rev() {
                d.seek_to(track, e).unwrap_or_else(|err| panic!("{name} track {track} entry {i}: {err}"));
                let next = std::iter::from_fn(|| d.next_packet().unwrap()).find(|p| p.track == track);
                assert_eq!(next.as_ref(), Some(mine[i]), "{name} track {track} entry {i}");
            }
        }
    }
}

/// The offset a damage error names.
fn offset(e: &Error) -> u64 {
    match e {
        Error::InvalidBitstream { offset, .. } => *offset,
        other => panic!("not InvalidBitstream: {other}"),
    }
}

#[test]
fn truncated_file_gives_every_whole_packet() {
    let f = facts("bad/truncated.mkv");
    let len = std::fs::metadata(media("bad/truncated.mkv")).unwrap().len();
    let mut d = Demuxer::open(media("bad/truncated.mkv")).unwrap();
    let (packets, damage) = read_all(&mut d);
    let damage = damage.expect("damage reported");
    assert!(damage.to_string().contains("truncated"), "{damage}");
    // The cut block: it starts before the end of the file, after every packet given.
    let at = offset(&damage);
    assert!(at < len && packets.iter().all(|p| p.pos < at), "{damage}");
    for (i, s) in f["streams"].as_array().unwrap().iter().enumerate() {
        let n = packets.iter().filter(|p| p.track == i).count() as u64;
        assert_eq!(n, s["nb_read_packets"].as_u64().unwrap(), "track {i}");
    }
    // The same packets, against the intact file.
    let mut whole = Demuxer::open(media("hevc-aac.mkv")).unwrap();
    let (all, _) = read_all(&mut whole);
    assert_eq!(packets[..], all[..packets.len()]);
    let table = d.packet_table(0).unwrap();
    assert_eq!(table.entries.len(), 36);
    assert_eq!(table.damage.as_ref().map(offset), Some(at));
}

#[test]
fn lying_cluster_size_ends_the_packets_there() {
    // The Cluster at 0x5640 claims 2 MiB: past the end of its Segment (and the file).
    let mut d = Demuxer::open(media("bad/lying-size.mkv")).unwrap();
    let (packets, damage) = read_all(&mut d);
    let damage = damage.expect("damage reported");
    assert_eq!(offset(&damage), 0x5640, "{damage}");
    assert!(damage.to_string().contains("past the end of its parent Segment"), "{damage}");
    assert!(!packets.is_empty() && packets.iter().all(|p| p.pos < 0x5640));
    // What comes before the damage is the intact file's.
    let mut whole = Demuxer::open(media("h264-opengop.mkv")).unwrap();
    let (all, _) = read_all(&mut whole);
    assert_eq!(packets[..], all[..packets.len()]);
    let table = d.packet_table(0).unwrap();
    assert_eq!(table.damage.as_ref().map(offset), Some(0x5640));
    assert_eq!(table.entries.len(), packets.iter().filter(|p| p.track == 0).count());
}

/// Decodes `name`'s video track with `engine` through `Input::from_media`: every
/// frame's MD5, in output order.
fn decode(name: &str, engine: Engine) -> Result<Vec<String>, Error> {
    let mut d = Demuxer::open(media(name))?;
    let track = d.video_track().unwrap().clone();
    let codec: Codec = track.codec.video().unwrap();
    let config = DecoderConfig::new(codec).output(Output::HOST_YUV420P).engine(EnginePreference::Only(engine));
    let mut dec = Decoder::open(config)?;
    let mut md5s = Vec::new();
    while let Some(p) = d.next_packet()? {
        if p.track == track.index {
            dec.submit(Input::from_media(&track, &p))?;
            while let Some(frame) = dec.try_reap()? {
                md5s.push(common::frame_md5(&frame).1);
            }
        }
    }
    for frame in dec.flush()? {
        md5s.push(common::frame_md5(&frame).1);
    }
    Ok(md5s)
}

fn reference(name: &str) -> Vec<String> {
    common::read_framemd5(&media(&format!("{name}.framemd5"))).into_iter().map(|f| f.md5).collect()
}

/// OpenH264 gives the reference decode, frame for frame (B-pictures and open GOPs
/// included), and the same decode as the same stream in MP4 (read by the MP4 demuxer).
#[test]
fn h264_decodes_with_openh264_like_the_reference() {
    for name in ["h264-vfr.mkv", "h264-opengop.mkv"] {
        let got = decode(name, Engine::OpenH264).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, reference(name), "{name}");
    }
    // h264-vfr.mp4 holds the same stream (the same reference MD5s).
    assert_eq!(reference("h264-vfr.mkv"), reference("h264-vfr.mp4"));
    assert_eq!(decode("h264-vfr.mkv", Engine::OpenH264).unwrap(), decode("h264-vfr.mp4", Engine::OpenH264).unwrap());
}

#[test]
fn every_fixture_decodes_bit_exact_with_ffmpeg() {
    if !common::need_ffmpeg() {
        return;
    }
    for name in GOOD {
        let got = decode(name, Engine::Ffmpeg).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, reference(name), "{name}");
    }
}
