//! The frame index saved once and read back (`video_hw::media::IndexCache`): on an MPEG-TS
//! file and raw H.264 streams, frames asked for at random are bit for bit the same with no
//! cache, a cold cache, a warm one, and a stale one (the file rewritten with other content
//! of the same size, with its modification time changed or put back as it was); a saved
//! index that is damaged in any way — truncated, bytes flipped, garbage — is built again,
//! never trusted and never a panic; workers opening the same file at once all succeed.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use video_hw::media::{CacheUse, Demuxer, FrameIndex, IndexCache};
use video_hw::reader::FrameReader;
use video_hw::{DecoderConfig, EnginePreference, Output, PixelFormat};

use common::XorShift;
use common::readers::{engine, md5};

/// A file's modification time an hour ago: older than the cache's racy window.
fn age(path: &Path, when: SystemTime) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(when).unwrap();
}

fn an_hour_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

/// A reader of `path`'s default video track on the test engine, with its index through
/// `cache` (None: built, no cache).
fn open(path: &Path, cache: Option<&IndexCache>) -> (FrameReader, CacheUse) {
    let mut d = Demuxer::open(path).unwrap();
    let t = d.video_track().unwrap();
    let (codec, track) = (t.codec.video().unwrap(), t.index);
    let config =
        DecoderConfig::new(codec).output(Output::Host(PixelFormat::Yuv420p)).engine(EnginePreference::Only(engine()));
    match cache {
        None => (FrameReader::new(d, track, config).unwrap(), CacheUse::Off),
        Some(c) => {
            let (index, used) = c.index(&mut d, track, path).unwrap();
            (FrameReader::with_index(d, index, config).unwrap(), used)
        }
    }
}

/// Frames asked out of order and repeated, both ends and around every key frame.
fn asked(index: &FrameIndex) -> Vec<usize> {
    let n = index.len();
    let mut v = vec![n - 1, 0, n / 2, n / 3, n / 2, 1];
    for (k, f) in index.frames().iter().enumerate() {
        if f.keyframe && k > 0 {
            v.extend([k + 1, k - 1, k]);
        }
    }
    v.retain(|&k| k < n);
    v
}

fn md5s(r: &mut FrameReader, frames: &[usize]) -> Vec<String> {
    r.frames_at(frames).unwrap().iter().map(|f| md5(f)).collect()
}

fn same_index(a: &FrameIndex, b: &FrameIndex, what: &str) {
    assert_eq!(a.frames(), b.frames(), "{what}: frames");
    assert_eq!(a.packets(), b.packets(), "{what}: packets");
    assert_eq!(a.track(), b.track(), "{what}: track");
    assert_eq!(a.damage(), b.damage(), "{what}: damage");
    for k in 0..a.len() {
        assert_eq!(a.start_packet(k), b.start_packet(k), "{what}: start of frame {k}");
        assert_eq!(a.start_packet_at_idr(k), b.start_packet_at_idr(k), "{what}: IDR start of frame {k}");
        assert_eq!(a.last_packet(k), b.last_packet(k), "{what}: last packet of frame {k}");
    }
    for p in 0..a.packets().len() {
        assert_eq!(a.parameter_sets_at(p), b.parameter_sets_at(p), "{what}: parameter sets at packet {p}");
        assert_eq!(a.frame_of_packet(p), b.frame_of_packet(p), "{what}: frame of packet {p}");
    }
}

/// `name` copied into a scratch folder (an hour old), with a cache folder beside it.
struct Case {
    _dir: tempfile::TempDir,
    file: PathBuf,
    cache: IndexCache,
}

fn case(src: &Path) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(src.file_name().unwrap());
    std::fs::copy(src, &file).unwrap();
    age(&file, an_hour_ago());
    let cache = IndexCache::Dir(dir.path().join("cache"));
    Case { _dir: dir, file, cache }
}

/// `bytes` padded to `len` with what the container ignores: MPEG-TS null packets, or zero
/// bytes after a raw stream (trailing_zero_8bits).
fn padded(mut bytes: Vec<u8>, len: usize, ts: bool) -> Vec<u8> {
    assert!(bytes.len() <= len);
    if ts {
        assert_eq!((len - bytes.len()) % 188, 0);
        while bytes.len() < len {
            bytes.extend_from_slice(&[0x47, 0x1f, 0xff, 0x10]);
            bytes.resize(bytes.len() + 184, 0xff);
        }
    }
    bytes.resize(len, 0);
    bytes
}

/// Two fixtures of one kind: the one cached, then the other rewritten over it.
fn pairs() -> Vec<(PathBuf, PathBuf, bool)> {
    let root = common::repo_root().join("testdata");
    vec![
        (root.join("media/h264-aac.ts"), root.join("media/h264-noidr.ts"), true),
        (root.join("h264/gop12-idr-cars-320x240.h264"), root.join("h264/open-gop-cars-320x240.h264"), false),
        (root.join("h264/open-gop-cars-320x240.h264"), root.join("h264/gop12-idr-cars-320x240.h264"), false),
    ]
}

#[test]
fn frames_are_the_same_with_a_cold_warm_and_stale_cache() {
    for (first, second, ts) in pairs() {
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        let c = case(&first);
        let (mut plain, _) = open(&c.file, None);
        let frames = asked(plain.index());
        let want = md5s(&mut plain, &frames);

        let (mut cold, used) = open(&c.file, Some(&c.cache));
        assert_eq!(used, CacheUse::Built { stale: None, stored: true }, "{name}: cold");
        same_index(plain.index(), cold.index(), &format!("{name} cold"));
        assert_eq!(md5s(&mut cold, &frames), want, "{name}: frames, cold cache");

        let (mut warm, used) = open(&c.file, Some(&c.cache));
        assert_eq!(used, CacheUse::Hit, "{name}: warm");
        same_index(plain.index(), warm.index(), &format!("{name} warm"));
        assert_eq!(md5s(&mut warm, &frames), want, "{name}: frames, warm cache");
        // A fresh warm reader, frames asked in another order (the seeks from a saved
        // index's seek points, not from reading the file in order).
        let (mut warm, _) = open(&c.file, Some(&c.cache));
        let reversed: Vec<usize> = frames.iter().rev().copied().collect();
        let want_reversed: Vec<String> = want.iter().rev().cloned().collect();
        assert_eq!(md5s(&mut warm, &reversed), want_reversed, "{name}: frames in reverse, warm cache");

        // Rewritten with other content of the same size: first with a new modification
        // time, then with the old one put back (only the content hash tells).
        let original_len = std::fs::metadata(&first).unwrap().len() as usize;
        let other = std::fs::read(&second).unwrap();
        let len = original_len.max(other.len());
        let mut rounds = vec![("new mtime", padded(other.clone(), len, ts))];
        if len == original_len {
            rounds.push(("same size and mtime", padded(std::fs::read(&first).unwrap(), len, ts)));
            rounds.push(("same size and mtime", padded(other, len, ts)));
        }
        for (what, bytes) in rounds {
            let before = std::fs::metadata(&c.file).unwrap().modified().unwrap();
            std::fs::write(&c.file, &bytes).unwrap();
            let when = if what == "new mtime" { an_hour_ago() + Duration::from_secs(60) } else { before };
            age(&c.file, when);
            let (mut fresh, _) = open(&c.file, None);
            let frames = asked(fresh.index());
            let want = md5s(&mut fresh, &frames);
            let (mut stale, used) = open(&c.file, Some(&c.cache));
            assert!(
                matches!(&used, CacheUse::Built { stale: Some(_), stored: true }),
                "{name} rewritten ({what}): {used:?}"
            );
            same_index(fresh.index(), stale.index(), &format!("{name} rewritten ({what})"));
            assert_eq!(md5s(&mut stale, &frames), want, "{name}: frames after the rewrite ({what})");
            let (mut warm, used) = open(&c.file, Some(&c.cache));
            assert_eq!(used, CacheUse::Hit, "{name}: the remade index is saved ({what})");
            assert_eq!(md5s(&mut warm, &frames), want, "{name}: frames, remade cache ({what})");
        }
    }
}

#[test]
fn beside_the_file_and_off() {
    let root = common::repo_root().join("testdata");
    let c = case(&root.join("media/h264-aac.ts"));
    let (_, used) = open(&c.file, Some(&IndexCache::Beside));
    assert_eq!(used, CacheUse::Built { stale: None, stored: true });
    let saved = PathBuf::from(format!("{}.vhidx", c.file.display()));
    assert!(saved.is_file(), "{} saved", saved.display());
    let (_, used) = open(&c.file, Some(&IndexCache::Beside));
    assert_eq!(used, CacheUse::Hit);
    let (_, used) = open(&c.file, Some(&IndexCache::Off));
    assert_eq!(used, CacheUse::Off);
    // A file modified just now is indexed, not saved.
    age(&c.file, SystemTime::now());
    let (_, used) = open(&c.file, Some(&c.cache));
    assert_eq!(used, CacheUse::Built { stale: None, stored: false });
    // An MP4 (tables) under the default setting: the cache is not used.
    let mp4 = case(&root.join("media/h264-aac.mp4"));
    let (_, used) = open(&mp4.file, Some(&IndexCache::Auto));
    assert_eq!(used, CacheUse::Off);
    let (_, used) = open(&mp4.file, Some(&mp4.cache));
    assert_eq!(used, CacheUse::Built { stale: None, stored: true }, "an explicit directory takes every container");
    let (_, used) = open(&mp4.file, Some(&mp4.cache));
    assert_eq!(used, CacheUse::Hit);
}

#[test]
fn a_damaged_saved_index_is_rebuilt_never_trusted() {
    let root = common::repo_root().join("testdata");
    for src in [root.join("media/h264-aac.ts"), root.join("h264/open-gop-cars-320x240.h264")] {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let c = case(&src);
        let (plain, _) = open(&c.file, None);
        let (_, used) = open(&c.file, Some(&c.cache));
        assert_eq!(used, CacheUse::Built { stale: None, stored: true });
        let IndexCache::Dir(dir) = &c.cache else { unreachable!() };
        let saved = std::fs::read_dir(dir).unwrap().next().unwrap().unwrap().path();
        let good = std::fs::read(&saved).unwrap();
        let mut rng = XorShift(0x1dea_5eed ^ good.len() as u64);
        let mut damaged: Vec<(String, Vec<u8>)> = vec![
            ("empty".into(), Vec::new()),
            ("magic only".into(), good[..8].to_vec()),
            ("garbage".into(), (0..good.len()).map(|_| rng.next() as u8).collect()),
        ];
        for cut in [1, 9, 12, 40, good.len() / 3, good.len() / 2, good.len() - 9, good.len() - 1] {
            damaged.push((format!("truncated to {cut}"), good[..cut].to_vec()));
        }
        for _ in 0..48 {
            let at = rng.below(good.len());
            let mut b = good.clone();
            b[at] ^= 1 << rng.below(8);
            damaged.push((format!("bit flipped at {at}"), b));
        }
        let mut longer = good.clone();
        longer.extend_from_slice(b"tail");
        damaged.push(("bytes appended".into(), longer));
        for (what, bytes) in damaged {
            std::fs::write(&saved, &bytes).unwrap();
            let (r, used) = open(&c.file, Some(&c.cache));
            assert!(matches!(&used, CacheUse::Built { stale: Some(_), stored: true }), "{name}, {what}: {used:?}");
            same_index(plain.index(), r.index(), &format!("{name}, {what}"));
            assert_eq!(std::fs::read(&saved).unwrap(), good, "{name}, {what}: the saved index is replaced");
        }
    }
}

#[test]
fn workers_opening_at_once_all_read_a_whole_index() {
    let root = common::repo_root().join("testdata");
    let c = case(&root.join("media/h264-aac.ts"));
    let (plain, _) = open(&c.file, None);
    let want = plain.index().clone();
    let (want, file, cache) = (&want, &c.file, &c.cache);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    let mut uses = Vec::new();
                    for _ in 0..4 {
                        let (r, used) = open(file, Some(cache));
                        same_index(want, r.index(), "concurrent open");
                        uses.push(used);
                    }
                    uses
                })
            })
            .collect();
        for h in handles {
            for used in h.join().unwrap() {
                assert!(matches!(used, CacheUse::Hit | CacheUse::Built { stale: None, .. }), "{used:?}");
            }
        }
    });
    let (_, used) = open(&c.file, Some(&c.cache));
    assert_eq!(used, CacheUse::Hit);
}

#[test]
fn every_container_fixture_reads_back_the_same_index_and_frames() {
    // An explicit directory saves every container's index (tables too): each fixture's
    // index read back equals the one built, and the frames from it are the same.
    for src in common::readers::inputs() {
        if common::readers::skip(&src) {
            continue;
        }
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let c = case(&src);
        let (mut plain, _) = open(&c.file, None);
        let frames = asked(plain.index());
        let want = md5s(&mut plain, &frames);
        let (_, used) = open(&c.file, Some(&c.cache));
        assert_eq!(used, CacheUse::Built { stale: None, stored: true }, "{name}: cold");
        let (mut warm, used) = open(&c.file, Some(&c.cache));
        assert_eq!(used, CacheUse::Hit, "{name}: warm");
        same_index(plain.index(), warm.index(), &name);
        assert_eq!(md5s(&mut warm, &frames), want, "{name}: frames, warm cache");
    }
}
