//! Every demuxer against ffprobe, on the container fixtures of `testdata/media/` (made by
//! `scripts/make-media-fixtures.sh`, each with its ffprobe facts in `FILE.json`): the
//! tracks (kind, codec, time base, size, sample rate, channels, language, rotation), every
//! video packet in file order (pts, dts, duration, key flag, byte position, size), packet
//! counts per track, the packet tables, seeking to every key frame, and the damaged files.

use crate::common;

use common::{rational, read_all};

use std::path::{Path, PathBuf};

use serde_json::Value;
use video_hw::Error;
use video_hw::media::{Container, Demuxer, MediaPacket, TrackKind};

fn media_dir() -> PathBuf {
    common::repo_root().join("testdata/media")
}

/// Every good fixture and its facts.
fn fixtures() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(media_dir()).expect("testdata/media") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let facts: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            out.push((path.with_extension(""), facts));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 17, "fixtures missing: run scripts/make-media-fixtures.sh");
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn tracks_match_ffprobe() {
    for (path, facts) in fixtures() {
        let d = Demuxer::open(&path).unwrap_or_else(|e| panic!("{}: {e}", name(&path)));
        let expected = match facts["format_name"].as_str().unwrap() {
            "mpegts" => [Container::MpegTs, Container::MpegTs],
            "matroska,webm" => [Container::Matroska, Container::WebM],
            "avi" => [Container::Avi, Container::Avi],
            _ => [Container::Mp4, Container::Mp4],
        };
        assert!(expected.contains(&d.container()), "{}: {:?}", name(&path), d.container());
        let streams = facts["streams"].as_array().unwrap();
        assert_eq!(d.tracks().len(), streams.len(), "{}: track count", name(&path));
        for (t, s) in d.tracks().iter().zip(streams) {
            let what = format!("{} track {}", name(&path), t.index);
            let kind = match t.kind {
                TrackKind::Video => "video",
                TrackKind::Audio => "audio",
                TrackKind::Subtitle => "subtitle",
                TrackKind::Data => "data",
            };
            assert_eq!(kind, s["codec_type"].as_str().unwrap(), "{what}: kind");
            // PCM by its storage, as ffprobe names it (`pcm_s16le`).
            let codec = match &t.config {
                video_hw::media::CodecConfig::Pcm(f) => f.ffmpeg_name(),
                _ => t.codec.name().to_string(),
            };
            assert_eq!(codec, s["codec_name"].as_str().unwrap(), "{what}: codec");
            assert_eq!(
                t.time_base.reduced(),
                rational(s["time_base"].as_str().unwrap()).reduced(),
                "{what}: time base"
            );
            let lang = s["language"].as_str().filter(|l| *l != "und");
            assert_eq!(t.language.as_deref(), lang, "{what}: language");
            if let Some(v) = t.video {
                assert_eq!(u64::from(v.width), s["width"].as_u64().unwrap(), "{what}: width");
                assert_eq!(u64::from(v.height), s["height"].as_u64().unwrap(), "{what}: height");
                let rotation = s["rotation"].as_i64().unwrap_or(0).rem_euclid(360);
                assert_eq!(i64::from(v.rotation), rotation, "{what}: rotation");
            }
            if let Some(a) = t.audio {
                assert_eq!(u64::from(a.sample_rate), s["sample_rate"].as_u64().unwrap(), "{what}: rate");
                assert_eq!(u64::from(a.channels), s["channels"].as_u64().unwrap(), "{what}: channels");
            }
            if matches!(t.codec.video(), Some(video_hw::Codec::H264 | video_hw::Codec::Hevc))
                && matches!(d.container(), Container::Mp4 | Container::Matroska)
            {
                assert!(t.config.record().is_some(), "{what}: avcC/hvcC");
            }
        }
    }
}

#[test]
fn video_packets_match_ffprobe() {
    for (path, facts) in fixtures() {
        let mut d = Demuxer::open(&path).unwrap();
        let video = facts["video"]["stream_index"].as_u64().unwrap() as usize;
        let (packets, errors) = read_all(&mut d);
        assert!(errors.is_empty(), "{}: {errors:?}", name(&path));
        for (t, s) in facts["streams"].as_array().unwrap().iter().enumerate() {
            let n = packets.iter().filter(|p| p.track == t).count() as u64;
            assert_eq!(n, s["nb_read_packets"].as_u64().unwrap(), "{}: packets of track {t}", name(&path));
        }
        let ours: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == video).collect();
        let theirs = facts["video_packets"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len());
        let ts = d.container() == Container::MpegTs;
        for (i, (p, f)) in ours.iter().zip(theirs).enumerate() {
            let what = format!("{} video packet {i}", name(&path));
            // ffprobe shows MPEG-TS times before a 33-bit wrap as negative (raw - 2^33),
            // continuous with the rest; ours are unwrapped upwards: compare modulo 2^33.
            let same = |a: i64, b: i64| if ts { (a - b).rem_euclid(1 << 33) == 0 } else { a == b };
            if let Some(pts) = f["pts"].as_i64() {
                assert!(p.pts.is_some_and(|x| same(x, pts)), "{what}: pts {:?} != {pts}", p.pts);
            }
            if let (Some(dts), Some(ours)) = (f["dts"].as_i64(), p.dts) {
                assert!(same(ours, dts), "{what}: dts {ours} != {dts}");
            }
            if let (Some(dur), Some(ours)) = (f["duration"].as_i64(), p.duration) {
                // Matroska stores no video durations; ffprobe's are guesses there.
                if !matches!(d.container(), Container::Matroska | Container::WebM) {
                    assert_eq!(ours, dur, "{what}: duration");
                }
            }
            let key = f["flags"].as_str().unwrap().contains('K');
            assert_eq!(p.keyframe, key, "{what}: key flag");
            // ffmpeg's HEVC parser moves one zero byte of a 4-byte start code from one
            // access unit to the one before it: in MPEG-TS its first packet is a byte
            // longer and its last a byte shorter than the PES payloads we give.
            let slack = if ts && f["size"].as_u64() != Some(p.data.len() as u64) && name(&path).contains("hevc") {
                1
            } else {
                0
            };
            assert_eq!(p.pos, f["pos"].as_u64().unwrap(), "{what}: position");
            assert!(
                p.data.len().abs_diff(f["size"].as_u64().unwrap() as usize) <= slack,
                "{what}: size {} vs {}",
                p.data.len(),
                f["size"]
            );
        }
    }
}

#[test]
fn packet_tables_and_seeks_agree_with_reading() {
    for (path, facts) in fixtures() {
        let mut d = Demuxer::open(&path).unwrap();
        let video = facts["video"]["stream_index"].as_u64().unwrap() as usize;
        let (packets, _) = read_all(&mut d);
        let ours: Vec<MediaPacket> = packets.into_iter().filter(|p| p.track == video).collect();
        let table = d.packet_table(video).unwrap();
        assert!(table.damage.is_none(), "{}: {:?}", name(&path), table.damage);
        assert_eq!(table.entries.len(), ours.len(), "{}", name(&path));
        for (i, (e, p)) in table.entries.iter().zip(&ours).enumerate() {
            let what = format!("{} entry {i}", name(&path));
            assert_eq!((e.pts, e.keyframe, e.pos, e.size as usize), (p.pts, p.keyframe, p.pos, p.data.len()), "{what}");
        }
        // After the table, reading starts again from the first packet.
        let first = d.next_packet().unwrap().unwrap();
        assert_eq!(first.pos, {
            let mut again = Demuxer::open(&path).unwrap();
            again.next_packet().unwrap().unwrap().pos
        });
        // Seeking to each key frame gives that very packet next.
        for (i, e) in table.entries.iter().enumerate().filter(|(_, e)| e.keyframe) {
            d.seek_to(video, e).unwrap();
            let next =
                std::iter::from_fn(|| d.next_packet().transpose()).map(Result::unwrap).find(|p| p.track == video);
            let next = next.unwrap_or_else(|| panic!("{}: nothing after seeking to packet {i}", name(&path)));
            assert_eq!((next.pos, next.pts), (e.pos, e.pts), "{}: seek to packet {i}", name(&path));
            // A raw stream's packet after a seek carries the parameter sets in front.
            assert!(next.data.ends_with(&ours[i].data), "{}: seek data {i}", name(&path));
        }
    }
}

/// The damaged files: typed errors with a byte offset inside the file, the packets
/// before the damage, no panic, no hang.
#[test]
fn damaged_files_give_typed_errors() {
    for file in [
        "truncated.mp4",
        "absurd-stsz.mp4",
        "frag-outside.mp4",
        "truncated.mkv",
        "lying-size.mkv",
        "badsync.ts",
        "truncated.avi",
    ] {
        let path = media_dir().join("bad").join(file);
        let len = std::fs::metadata(&path).unwrap().len();
        let facts: Value = serde_json::from_slice(
            &std::fs::read(path.with_extension(format!("{}.json", path.extension().unwrap().to_string_lossy())))
                .unwrap(),
        )
        .unwrap();
        let mut d = match Demuxer::open(&path) {
            Ok(d) => d,
            Err(e) => {
                assert!(matches!(e, Error::InvalidBitstream { offset, .. } if offset <= len), "{file}: {e}");
                // Only a file ffmpeg cannot open either may fail at open.
                assert_eq!(facts["ffprobe_exit"].as_i64(), Some(1), "{file}: {e}");
                continue;
            }
        };
        let (packets, errors) = read_all(&mut d);
        for e in &errors {
            assert!(matches!(e, Error::InvalidBitstream { offset, .. } if *offset <= len), "{file}: {e}");
        }
        let video = d.video_track().unwrap().index;
        let n = packets.iter().filter(|p| p.track == video).count();
        let ffmpeg = facts["streams"][0]["nb_read_packets"].as_u64().unwrap_or(0) as usize;
        eprintln!("{file}: {n} video packets (ffprobe {ffmpeg}), errors {errors:?}");
        assert!(n > 0, "{file}: no packet before the damage");
        // lying-size.mkv: ffmpeg clamps the lying size and reads on; we stop at it.
        if file != "lying-size.mkv" {
            assert!(!errors.is_empty(), "{file}: damage not reported");
        }
    }
}

/// Two video streams, the smaller first (testdata/streams/, scripts/make-stream-fixtures.sh):
/// the track opened by default is the larger, as ffmpeg and torchcodec pick it, in MP4 and
/// Matroska; a reader of it decodes its pictures, and the other stays reachable by index.
#[test]
fn the_default_video_track_is_the_largest() {
    use video_hw::reader::FrameReader;
    use video_hw::{DecoderConfig, Output, PixelFormat};
    for name in ["two-video.mp4", "two-video.mkv"] {
        let path = common::repo_root().join("testdata/streams").join(name);
        let d = Demuxer::open(&path).unwrap();
        let videos: Vec<_> = d.tracks().iter().filter(|t| t.kind == TrackKind::Video).cloned().collect();
        assert_eq!(videos.len(), 2, "{name}");
        let small = videos.iter().find(|t| t.video.as_ref().unwrap().width == 64).unwrap().index;
        let t = d.video_track().unwrap().clone();
        assert_eq!((t.video.as_ref().unwrap().width, t.video.as_ref().unwrap().height), (96, 64), "{name}");
        let mut r = FrameReader::open(&path, Output::Host(PixelFormat::Yuv420p)).unwrap();
        assert_eq!(r.len(), 5, "{name}");
        let f = r.frames_at(&[4]).unwrap();
        assert_eq!((f[0].width, f[0].height), (96, 64), "{name}");
        let config = DecoderConfig::new(video_hw::Codec::H264).output(Output::Host(PixelFormat::Yuv420p));
        let mut other = FrameReader::new(Demuxer::open(&path).unwrap(), small, config).unwrap();
        assert_eq!((other.frames_at(&[0]).unwrap()[0].width, other.len()), (64, 5), "{name}");
    }
}
