//! Every decode engine this machine has (the probe's available engine × codec pairs:
//! OpenH264 always, FFmpeg where it is loaded at run time, NVDEC on a machine with a GPU)
//! returns exactly the reference decoder's number of frames on every stream it supports:
//! the clean streams of the shared corpus (not `bad/`) and every fixture of `testdata/`
//! (elementary streams, IVF and container files). An engine may refuse a stream only
//! with `Error::Unsupported` (OpenH264: interlaced, more than 8 bits, not 4:2:0). Any
//! other count than the reference's fails, unless the session reported the input as
//! damaged (`DecoderStats::dropped` or `concealed`, which makes the CLI exit 4): then the
//! stream is listed, and a wrong count on an undamaged decode always fails. There is no
//! list of known differences.

use crate::common;

use std::path::{Path, PathBuf};

use video_hw::media::Demuxer;
use video_hw::registry::probe_all;
use video_hw::{Codec, Decoder, DecoderConfig, Direction, Engine, EnginePreference, Error, Input, Output};

/// How a stream is read.
#[derive(Debug, Clone)]
enum Source {
    /// Raw Annex-B H.264/HEVC.
    AnnexB(PathBuf),
    /// IVF (AV1, VP9): one packet per frame.
    Ivf(PathBuf),
    /// A container (MP4, Matroska, MPEG-TS): its first video track.
    Container(PathBuf),
}

/// A stream with its reference frame count.
#[derive(Debug, Clone)]
struct Stream {
    label: String,
    codec: Codec,
    reference: usize,
    source: Source,
}

/// What an engine did with a stream.
enum Outcome {
    /// Frames shown, and whether the session reported damage.
    Frames(usize, bool),
    Refused(String),
    Failed(String),
}

/// The available decode pairs of this build and machine.
fn engines() -> Vec<(Engine, Codec)> {
    probe_all(0)
        .into_iter()
        .filter(|r| r.direction == Direction::Decode && r.available)
        .map(|r| (r.engine, r.codec))
        .collect()
}

fn codec_named(name: &str) -> Option<Codec> {
    match name {
        "h264" => Some(Codec::H264),
        "hevc" => Some(Codec::Hevc),
        "av1" => Some(Codec::Av1),
        "vp9" => Some(Codec::Vp9),
        _ => None,
    }
}

/// Video codecs of `testdata/media/` fixtures that no probed engine × codec pair covers.
const FFMPEG_ONLY: [&str; 2] = ["mpeg4", "mjpeg"];

/// The fixtures: elementary streams (fixtures.json), IVF, and the container files of
/// `testdata/media/` with their ffprobe facts.
fn fixture_streams() -> Vec<Stream> {
    let mut out = Vec::new();
    for f in common::fixtures() {
        let reference =
            f.path.with_file_name(format!("{}.yuv.framemd5", f.path.file_name().unwrap().to_string_lossy()));
        let codec = codec_named(&f.codec).unwrap_or_else(|| panic!("{}: codec {}", f.rel, f.codec));
        let source = if f.rel.ends_with(".ivf") { Source::Ivf(f.path.clone()) } else { Source::AnnexB(f.path.clone()) };
        out.push(Stream { label: f.rel.clone(), codec, reference: common::read_framemd5(&reference).len(), source });
    }
    let media = common::fixtures_dir().join("media");
    let mut names: Vec<String> = std::fs::read_dir(&media)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    for name in names {
        let facts = common::media_facts(&name);
        let Some(video) = facts["streams"].as_array().unwrap().iter().find(|s| s["codec_type"] == "video") else {
            continue;
        };
        let named = video["codec_name"].as_str().unwrap_or_default();
        // The codecs only the FFmpeg engine decodes (no engine × codec pair of the probe):
        // their counts are checked by tests/ffmpeg_codecs.rs and tests/media_avi.rs.
        if FFMPEG_ONLY.contains(&named) {
            continue;
        }
        let codec = codec_named(named).unwrap_or_else(|| panic!("{name}: codec {named}"));
        let reference = common::read_framemd5(&media.join(format!("{name}.framemd5"))).len();
        out.push(Stream {
            label: format!("media/{name}"),
            codec,
            reference,
            source: Source::Container(media.join(&name)),
        });
    }
    out
}

/// The corpus's clean H.264 and HEVC streams that have a reference decode.
fn corpus_streams(dir: &Path) -> Vec<Stream> {
    let mut out = Vec::new();
    for (name, codec) in [("h264", Codec::H264), ("hevc", Codec::Hevc)] {
        for s in common::clean_streams(dir, name) {
            let Some(reference) = s.reference_frames() else { continue };
            out.push(Stream { label: s.rel.clone(), codec, reference, source: Source::AnnexB(s.path.clone()) });
        }
    }
    out
}

/// Decodes `stream` with `engine` only and counts the frames.
fn decode(engine: Engine, stream: &Stream) -> Outcome {
    let config = DecoderConfig::new(stream.codec).output(Output::HOST_YUV420P).engine(EnginePreference::Only(engine));
    let mut dec = match Decoder::open(config) {
        Ok(d) => d,
        Err(Error::Unsupported { what, why }) => return Outcome::Refused(format!("{what}: {why}")),
        Err(e) => return Outcome::Failed(format!("open: {e}")),
    };
    // The frames' timestamps.
    let mut frames: Vec<Option<i64>> = Vec::new();
    // An MP4 edit list's presentation window: frames outside it are decoded, not shown.
    let mut window: Option<(i64, Option<i64>)> = None;
    let mut feed = |input: Input<'_>, dec: &mut Decoder| -> Result<(), Outcome> {
        match dec.submit(input) {
            Ok(()) | Err(Error::InvalidBitstream { .. }) => {}
            Err(Error::Unsupported { what, why }) => return Err(Outcome::Refused(format!("{what}: {why}"))),
            Err(e) => return Err(Outcome::Failed(format!("submit: {e}"))),
        }
        loop {
            match dec.try_reap() {
                Ok(Some(f)) => frames.push(f.pts),
                Ok(None) => return Ok(()),
                Err(e) => return Err(Outcome::Failed(format!("reap: {e}"))),
            }
        }
    };
    let fed = match &stream.source {
        Source::AnnexB(path) => {
            let data = std::fs::read(path).unwrap();
            data.chunks(65_536).try_for_each(|c| feed(Input::annexb(c, None), &mut dec))
        }
        Source::Ivf(path) => {
            let (_, packets) = common::read_ivf(path);
            packets.iter().try_for_each(|(pts, p)| feed(Input::packet(p, *pts), &mut dec))
        }
        Source::Container(path) => {
            let mut d = Demuxer::open(path).unwrap();
            let track = d.video_track().unwrap();
            let (index, record) = (track.index, track.config.record().cloned());
            window = track.window;
            let (packets, _) = common::read_all(&mut d);
            packets.iter().filter(|p| p.track == index).try_for_each(|p| {
                let input = match &record {
                    Some(record) => Input::LengthPrefixed { sample: &p.data, record, pts: p.pts },
                    None => Input::packet(&p.data, p.pts),
                };
                feed(input, &mut dec)
            })
        }
    };
    if let Err(outcome) = fed {
        return outcome;
    }
    match dec.flush() {
        Ok(rest) => frames.extend(rest.iter().map(|f| f.pts)),
        Err(Error::Unsupported { what, why }) => return Outcome::Refused(format!("{what}: {why}")),
        // Damage found at the end: the frames decoded still count.
        Err(Error::InvalidBitstream { .. }) => {}
        Err(e) => return Outcome::Failed(format!("flush: {e}")),
    }
    let shown = |pts: &Option<i64>| match (window, pts) {
        (Some((start, end)), Some(t)) => *t >= start && end.is_none_or(|e| *t < e),
        _ => true,
    };
    let stats = dec.stats();
    Outcome::Frames(frames.iter().filter(|p| shown(p)).count(), stats.dropped + stats.concealed > 0)
}

/// Runs every available engine over `streams`; fails on any count that is not the
/// reference's, and on a refusal the engine's documentation does not allow.
fn check(streams: &[Stream]) {
    let mut problems = Vec::new();
    for (engine, codec) in engines() {
        let (mut exact, mut refused) = (0, 0);
        for s in streams.iter().filter(|s| s.codec == codec) {
            match decode(engine, s) {
                Outcome::Frames(n, _) if n == s.reference => exact += 1,
                Outcome::Frames(n, true) => {
                    eprintln!("{engine:?} {}: {n} frames, reference {}; damage reported", s.label, s.reference);
                }
                Outcome::Frames(n, false) => {
                    problems.push(format!("{engine:?} {}: {n} frames, reference {}", s.label, s.reference))
                }
                Outcome::Refused(why) => {
                    refused += 1;
                    let allowed = ["interlaced", "-bit", "4:2:2", "4:4:4", "4:0:0"];
                    if engine == Engine::OpenH264 && !allowed.iter().any(|a| why.contains(a)) {
                        problems.push(format!("{engine:?} {}: refused: {why}", s.label));
                    }
                }
                Outcome::Failed(why) => problems.push(format!("{engine:?} {}: {why}", s.label)),
            }
        }
        eprintln!("{engine:?} {codec:?}: {exact} streams with the reference's frame count, {refused} refused");
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn fixtures_frame_counts_every_engine() {
    let streams = fixture_streams();
    assert!(streams.len() >= 30, "{} fixtures", streams.len());
    check(&streams);
}

#[test]
fn corpus_frame_counts_every_engine() {
    let Some(dir) = common::corpus_dir() else { return };
    let streams = corpus_streams(&dir);
    assert!(streams.len() >= 50, "{} corpus streams", streams.len());
    check(&streams);
}
