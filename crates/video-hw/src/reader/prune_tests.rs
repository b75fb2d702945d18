//! The pictures a run feeds for their headers only are needed by nothing it delivers. The
//! embedded engine decodes them anyway, so here their slice data is damaged on purpose:
//! every frame asked for must still come out with the pixels of a straight decode. The
//! same damage to a picture the run decodes changes frames, which shows the damage bites.

use std::path::{Path, PathBuf};

use super::plan::plan;
use super::prune::Skipper;
use super::run_decode::{Feed, Packets, RunPacket, decode_run, read_run};
use crate::codec::Codec;
use crate::config::{DecoderConfig, Output};
use crate::decoder::Decoder;
use crate::media::{Demuxer, FrameIndex};

/// A software session for `codec`: the embedded engine for H.264, FFmpeg for HEVC.
fn session(codec: Codec) -> Decoder {
    let engine = match codec {
        Codec::H264 => crate::Engine::OpenH264,
        _ => crate::Engine::Ffmpeg,
    };
    let config = DecoderConfig::new(codec).output(Output::HOST_YUV420P).engine(crate::EnginePreference::Only(engine));
    Decoder::open(config).unwrap()
}

/// True for a slice NAL unit of `codec` whose header byte is `h`.
fn is_slice(codec: Codec, h: u8) -> bool {
    match codec {
        Codec::H264 => matches!(h & 0x1f, 1 | 5),
        _ => (h >> 1) & 0x3f <= 31,
    }
}

/// Overwrites the back half of every slice NAL unit in `data` (length-prefixed with
/// `length_size` bytes, or Annex-B), leaving its header as it was.
fn damage(codec: Codec, data: &mut [u8], length_size: Option<u8>) {
    let mut slices: Vec<std::ops::Range<usize>> = Vec::new();
    match length_size {
        Some(n) => {
            let n = n as usize;
            let mut at = 0;
            while at + n <= data.len() {
                let len = data[at..at + n].iter().fold(0usize, |v, &b| v << 8 | b as usize);
                slices.push(at + n..(at + n + len).min(data.len()));
                at += n + len;
            }
        }
        None => {
            let base = data.as_ptr() as usize;
            for nal in crate::bitstream::annexb::split_all(data) {
                let start = nal.as_ptr() as usize - base;
                slices.push(start..start + nal.len());
            }
        }
    }
    for r in slices {
        if data.get(r.start).is_some_and(|&h| is_slice(codec, h)) {
            let mid = r.start + r.len() / 2;
            data[mid..r.end].fill(0xff);
        }
    }
}

/// The MD5 of each frame of `wanted` from decoding `packets`, every packet decoded; `None`
/// where the engine fails the run.
fn try_decode_all(index: &FrameIndex, packets: &Packets, wanted: &[usize]) -> Option<Vec<(usize, String)>> {
    let feed = Feed::new(index);
    let mut decoder = session(index.track().codec.video().unwrap_or(Codec::H264));
    let mut all: Packets = Vec::new();
    for p in packets {
        all.push(RunPacket { number: p.number, data: p.data.clone(), decode: true, shown: true });
    }
    let frames = decode_run(&mut decoder, &feed, index, &all, wanted, None, || {}).ok()?;
    use md5::{Digest, Md5};
    let hex = |b: &[u8]| Md5::digest(b).iter().map(|b| format!("{b:02x}")).collect::<String>();
    Some(frames.into_iter().map(|(k, f)| (k, hex(f.to_host().unwrap().as_bytes()))).collect())
}

fn decode_all(index: &FrameIndex, packets: &Packets, wanted: &[usize]) -> Vec<(usize, String)> {
    try_decode_all(index, packets, wanted).expect("the embedded engine decodes the run")
}

/// What [`check`] saw.
#[derive(Default)]
struct Tally {
    /// Pictures fed for their headers only (damaged here).
    headers_only: usize,
    /// Runs where a decoded picture was damaged instead, and those where that changed frames.
    controls: usize,
    bitten: usize,
    /// Runs whose frames decoded without damage differ from the straight decode's.
    unlike_straight: usize,
}

/// Asks frames of the H.264 or HEVC file at `path` (every frame alone, or with `sample` the last
/// of each GOP and a few more), then a few together: with the pictures fed for their
/// headers only damaged, each frame equals the straight decode's. Returns false, checking
/// nothing, where the engine cannot decode the file straight.
///
/// With `sample` (the corpus-wide runs) no control run is made: the fixtures' runs show
/// that the damage bites, and the corpus runs are the slowest tests of the library (each
/// control is one more decode from the start of a GOP).
fn check(path: &Path, sample: bool, tally: &mut Tally) -> bool {
    let name = path.display();
    let mut demuxer = Demuxer::open(path).unwrap();
    let track = demuxer.video_track().unwrap().index;
    let index = FrameIndex::build(&mut demuxer, track).unwrap();
    let length_size = index.track().config.record().map(|r| r.length_size);
    let codec = index.track().codec.video().unwrap_or(Codec::H264);
    // The closure as an engine keeping such pictures in its buffer is fed it (NVDEC): the
    // pictures it feeds for their headers only are damaged here, so it must need none of
    // them; the FFmpeg engine's narrower set is checked in tests/reader_left_out.rs.
    let skip = Skipper::new(&index).with_headers_only(true).for_engine_keeping_references(true);
    let n = index.len();
    let start_of = |f: usize| index.start_packet_at_idr(f);
    let end_of = |f: usize| index.last_packet(f);
    let every: Vec<usize> = (0..n).collect();
    let mut straight: Vec<Option<String>> = vec![None; n];
    for run in plan(&every, start_of, end_of) {
        let packets = read_run(&mut demuxer, &index, &run, &skip).unwrap();
        let Some(frames) = try_decode_all(&index, &packets, &run.frames) else { return false };
        for (k, md5) in frames {
            straight[k] = Some(md5);
        }
    }
    let singles: Vec<usize> = match sample {
        false => (0..n).collect(),
        true => {
            let ends = (1..n).filter(|&k| index.frames()[k].keyframe).map(|k| k - 1);
            ends.chain([n - 1, n / 2, n / 3, 1]).collect()
        }
    };
    let asks: Vec<Vec<usize>> =
        singles.into_iter().map(|k| vec![k]).chain([vec![3, 40, 41], vec![n - 1, n / 2]]).collect();
    for ask in asks {
        let ask: Vec<usize> = ask.into_iter().filter(|&k| k < n && straight[k].is_some()).collect();
        for run in plan(&ask, start_of, end_of) {
            let packets = read_run(&mut demuxer, &index, &run, &skip).unwrap();
            let mut damaged: Packets = Vec::new();
            for p in &packets {
                let mut data = p.data.clone();
                if !p.decode {
                    damage(codec, &mut data, length_size);
                    tally.headers_only += 1;
                }
                damaged.push(RunPacket { number: p.number, data, decode: true, shown: true });
            }
            let expected: Vec<(usize, String)> =
                run.frames.iter().map(|&k| (k, straight[k].clone().unwrap_or_default())).collect();
            let got = try_decode_all(&index, &damaged, &run.frames);
            if got.as_ref() != Some(&expected) {
                // A run the engine cannot decode alone as it decodes the stream straight (a
                // stream that changes size, Error_I_P.264) says nothing about what it skips:
                // only where the run undamaged gives the straight frames is the damage at fault.
                // (The undamaged run is decoded only here: where the damaged run already gives
                // the straight frames, it has nothing to add.)
                let plain = try_decode_all(&index, &packets, &run.frames);
                if plain.as_ref() != Some(&expected) {
                    tally.unlike_straight += 1;
                    continue;
                }
                assert_eq!(got, plain, "{name}: frames {:?} asked for with {ask:?}", run.frames);
            }
            // The control: damage the last decoded picture before the first frame's
            // packet, which that frame (or one it needs) predicts from.
            let last = end_of(run.frames[0]);
            let control_at = match sample {
                true => None,
                false => packets.iter().rposition(|p| p.decode && p.number < last && p.number > run.start),
            };
            if let Some(i) = control_at {
                let mut control: Packets = Vec::new();
                for (j, p) in packets.iter().enumerate() {
                    let mut data = p.data.clone();
                    if j == i {
                        damage(codec, &mut data, length_size);
                    }
                    control.push(RunPacket { number: p.number, data, decode: true, shown: true });
                }
                tally.controls += 1;
                let got = decode_all(&index, &control, &run.frames);
                let changed = got.iter().any(|(k, m)| Some(m) != straight[*k].as_ref());
                tally.bitten += usize::from(changed || got.len() != run.frames.len());
            }
        }
    }
    true
}

#[test]
fn pictures_fed_for_headers_only_change_no_frame_asked_for() {
    let mut tally = Tally::default();
    for name in ["h264-ref1.mp4", "h264-ref2.mkv", "h264-aac.mp4", "h264-aac.ts", "h264-vfr.mkv", "h264-editlist.mp4"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media").join(name);
        assert!(check(&path, false, &mut tally), "{name}: the embedded engine decodes it");
    }
    let Tally { headers_only, controls, bitten, unlike_straight } = tally;
    assert_eq!(unlike_straight, 0, "runs that differ from the straight decode without damage");
    assert!(headers_only > 1000, "only {headers_only} pictures were fed for their headers only");
    assert!(
        bitten * 10 >= controls * 9,
        "damage to decoded pictures changed frames in only {bitten} of {controls} runs"
    );
}

/// The same for HEVC reference picture sets, on FFmpeg's decoder.
#[test]
fn hevc_pictures_fed_for_headers_only_change_no_frame_asked_for() {
    if crate::backend::ffmpeg::test_ffmpeg().is_none() {
        return;
    }
    let mut tally = Tally::default();
    for name in ["hevc-ref1.mp4", "hevc-aac.mkv", "hevc-aac.m2ts", "hevc-opengop.mp4"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media").join(name);
        assert!(check(&path, false, &mut tally), "{name}: FFmpeg decodes it");
    }
    let Tally { headers_only, controls, bitten, unlike_straight } = tally;
    eprintln!(
        "hevc: {headers_only} fed for headers only; control damage changed frames in {bitten} of {controls} runs"
    );
    assert_eq!(unlike_straight, 0, "runs that differ from the straight decode without damage");
    assert!(headers_only > 300, "only {headers_only} pictures were fed for their headers only");
    assert!(
        bitten * 10 >= controls * 9,
        "damage to decoded pictures changed frames in only {bitten} of {controls} runs"
    );
}

/// The same over the shared corpus's progressive H.264 streams (long-term references,
/// adaptive marking, list modifications, many slices), where the corpus is present.
#[test]
fn corpus_pictures_fed_for_headers_only_change_no_frame_asked_for() {
    let Some(dir) = corpus_dir() else { return };
    let mut tally = Tally::default();
    let mut files = 0;
    for path in corpus_files(&dir, &["h264", "264", "jsv"]) {
        if is_progressive_h264(&path) {
            files += usize::from(check(&path, true, &mut tally));
        }
    }
    assert!(files >= 20, "only {files} progressive H.264 streams of the corpus decoded");
    assert!(tally.headers_only > 0, "no picture of the corpus was fed for its headers only");
    // OpenH264 restarted at a key frame of a stream that changes size gives other frames.
    assert!(tally.unlike_straight <= 10, "{} runs differ from the straight decode", tally.unlike_straight);
}

/// The same over the shared corpus's HEVC streams (multi-slice pictures, list
/// modifications, long-term pictures the tracker refuses, 10-bit, CRA with RASL), on
/// FFmpeg's decoder, where the corpus is present.
#[test]
fn corpus_hevc_pictures_fed_for_headers_only_change_no_frame_asked_for() {
    if crate::backend::ffmpeg::test_ffmpeg().is_none() {
        return;
    }
    let Some(dir) = corpus_dir() else { return };
    let mut tally = Tally::default();
    let mut files = 0;
    for path in corpus_files(&dir, &["h265", "265", "hevc"]) {
        files += usize::from(check(&path, true, &mut tally));
    }
    eprintln!(
        "hevc corpus: {files} streams, {} fed for headers only, control damage changed frames in {} of {} runs, {} runs unlike the straight decode",
        tally.headers_only, tally.bitten, tally.controls, tally.unlike_straight
    );
    assert!(files >= 15, "only {files} HEVC streams of the corpus decoded");
    assert!(tally.headers_only > 0, "no picture of the corpus was fed for its headers only");
    assert!(tally.unlike_straight <= 10, "{} runs differ from the straight decode", tally.unlike_straight);
}

/// The shared corpus, or `None` (with a note) where it is absent and not required.
fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIDEO_HW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/corpus"));
    if !dir.is_dir() {
        assert_ne!(std::env::var("VIDEO_HW_REQUIRE_CORPUS").as_deref(), Ok("1"), "no corpus at {}", dir.display());
        eprintln!("note: no corpus at {}; nothing checked", dir.display());
        return None;
    }
    Some(dir)
}

/// The corpus's streams with one of `extensions`, outside `bad/`, sorted.
fn corpus_files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for sub in std::fs::read_dir(dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() || sub.ends_with("bad") {
            continue;
        }
        for entry in std::fs::read_dir(&sub).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e)) {
                v.push(path);
            }
        }
    }
    v.sort();
    v
}

/// True for an H.264 stream whose every SPS says frame_mbs_only (OpenH264 decodes no
/// interlaced stream).
fn is_progressive_h264(path: &Path) -> bool {
    let data = std::fs::read(path).unwrap();
    let sps: Vec<_> = crate::bitstream::annexb::split_all(&data)
        .into_iter()
        .filter(|n| n.first().is_some_and(|h| h & 0x1f == 7))
        .map(crate::bitstream::h264::parse_sps)
        .collect();
    !sps.is_empty() && sps.iter().all(|s| s.as_ref().is_ok_and(|s| s.frame_mbs_only))
}
