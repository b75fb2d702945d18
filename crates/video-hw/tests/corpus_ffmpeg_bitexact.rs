//! The FFmpeg engine (FFmpeg loaded at run time; each test checks nothing where none is
//! loaded, see `common::need_ffmpeg`) against the reference decodes of the shared
//! corpus and of the project's fixtures. The references were made by FFmpeg 5.1's own
//! software decoders, the ones this engine runs, so every frame of every clean stream
//! must be bit-exact, 8- and 10-bit, planar and semi-planar, progressive and
//! interlaced. Also here: the damaged streams of `bad/` (typed errors only), Auto's
//! choice of engine, and the probe's answers.

use crate::common;

use std::path::{Path, PathBuf};

use video_hw::{Codec, Decoder, DecoderConfig, Direction, Engine, EnginePreference, Error, Input, Output};

/// Chunk sizes that split start codes, NAL units and access units anywhere.
const CHUNKS: [usize; 5] = [4093, 3, 777, 65_537, 10_007];

#[derive(Debug, Default)]
struct Decoded {
    md5s: Vec<(usize, String)>,
    /// Bitstream errors `submit` / `flush` reported.
    errors: usize,
    /// The first error of any other kind (it ends the stream).
    failure: Option<String>,
    pts: Vec<Option<i64>>,
}

fn codec_of(path: &Path) -> Codec {
    let name = path.to_string_lossy();
    if name.ends_with(".h265") || name.ends_with(".265") || name.ends_with(".hevc") || name.contains("/hevc") {
        Codec::Hevc
    } else {
        Codec::H264
    }
}

/// Decodes `data` with the FFmpeg engine, fed in uneven chunks; the n-th chunk carries
/// pts n.
fn decode(data: &[u8], codec: Codec, output: Output) -> Decoded {
    let config = DecoderConfig::new(codec).output(output).engine(EnginePreference::Only(Engine::Ffmpeg));
    let mut dec = Decoder::open(config).expect("ffmpeg decoder");
    assert_eq!(dec.engine(), Engine::Ffmpeg);
    let mut out = Decoded::default();
    let take = |f: video_hw::Frame, out: &mut Decoded| {
        out.pts.push(f.pts);
        out.md5s.push(common::frame_md5(&f));
    };
    for (i, piece) in common::uneven_chunks(data, &CHUNKS) {
        match dec.submit(Input::annexb(piece, i as i64)) {
            Ok(()) => {}
            Err(Error::InvalidBitstream { .. }) => out.errors += 1,
            Err(e) => {
                out.failure.get_or_insert(e.to_string());
            }
        }
        while let Some(f) = dec.try_reap().expect("reap") {
            take(f, &mut out);
        }
    }
    match dec.flush() {
        Ok(frames) => frames.into_iter().for_each(|f| take(f, &mut out)),
        Err(Error::InvalidBitstream { .. }) => out.errors += 1,
        Err(e) => {
            out.failure.get_or_insert(e.to_string());
        }
    }
    out
}

/// The reference next to `path` with `tag` (`yuv`, `nv12`, `p010`), if it exists.
fn reference(path: &Path, tag: &str) -> Option<Vec<(usize, String)>> {
    let file = path.with_file_name(format!("{}.{tag}.framemd5", path.file_name()?.to_string_lossy()));
    file.is_file().then(|| common::read_framemd5(&file).into_iter().map(|r| (r.size, r.md5)).collect())
}

/// Decodes `path` to planar and to semi-planar output and compares both with the
/// references; returns the problems found (empty when bit-exact).
fn check_stream(rel: &str, path: &Path, bit_depth: u32) -> Vec<String> {
    let data = std::fs::read(path).unwrap();
    let codec = codec_of(path);
    let semi = if bit_depth > 8 { "p010" } else { "nv12" };
    let mut problems = Vec::new();
    for (output, tag) in [(Output::HOST_YUV420P, "yuv"), (Output::HOST_NV12, semi)] {
        let Some(want) = reference(path, tag) else {
            problems.push(format!("{rel}: no {tag} reference"));
            continue;
        };
        let got = decode(&data, codec, output);
        if let Some(f) = &got.failure {
            problems.push(format!("{rel} ({tag}): {f}"));
            continue;
        }
        let differing: Vec<usize> =
            got.md5s.iter().zip(&want).enumerate().filter(|(_, (g, w))| g != w).map(|(i, _)| i).collect();
        if got.errors > 0 {
            problems.push(format!("{rel} ({tag}): {} bitstream errors on a clean stream", got.errors));
        }
        if got.md5s.len() != want.len() || !differing.is_empty() {
            problems.push(format!(
                "{rel} ({tag}): {} frames (reference {}), {} differ, first {:?}, {} bitstream errors",
                got.md5s.len(),
                want.len(),
                differing.len(),
                &differing[..differing.len().min(6)],
                got.errors
            ));
        }
    }
    problems
}

#[test]
fn corpus_ffmpeg_bitexact() {
    if !common::need_ffmpeg() {
        return;
    }
    let Some(dir) = common::corpus_dir() else { return };
    let mut streams = common::clean_streams(&dir, "h264");
    streams.extend(common::clean_streams(&dir, "hevc"));
    let mut problems = Vec::new();
    let (mut exact, mut ten_bit, mut interlaced) = (0, 0, 0);
    let found_per_stream = common::par_map(&streams, |s| check_stream(&s.rel, &s.path, s.bit_depth));
    for (s, found) in streams.iter().zip(found_per_stream) {
        if found.is_empty() {
            exact += 1;
            ten_bit += usize::from(s.bit_depth > 8);
            interlaced += usize::from(s.interlaced());
        }
        problems.extend(found);
    }
    eprintln!("bit-exact: {exact} of {} clean streams ({ten_bit} 10-bit, {interlaced} interlaced)", streams.len());
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(streams.len() >= 60 && ten_bit >= 5 && interlaced >= 1, "corpus smaller than expected");
}

/// The project's fixtures (`testdata/`, made by scripts/make-fixtures.sh): no corpus
/// needed.
#[test]
fn fixtures_ffmpeg_bitexact() {
    if !common::need_ffmpeg() {
        return;
    }
    let mut problems = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for f in common::fixtures() {
        problems.extend(check_stream(&f.rel, &f.path, f.bit_depth));
        seen.push(f.path);
    }
    let real = common::fixtures_dir().join("real/cars-320x240.h264");
    if real.is_file() && !seen.contains(&real) {
        problems.extend(check_stream("real/cars-320x240.h264", &real, 8));
        seen.push(real);
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(seen.iter().any(|p| codec_of(p) == Codec::Hevc), "no HEVC fixture");
    eprintln!("{} fixtures bit-exact", seen.len());
}

/// Low-latency mode (slice threads only) still outputs every picture of a B-frame
/// stream, bit-exact and in display order.
#[test]
fn low_latency_keeps_every_picture() {
    if !common::need_ffmpeg() {
        return;
    }
    for rel in ["h264/main-cabac-bframes-testsrc2-320x240.h264", "hevc/main-bframes-cars-320x240.h265"] {
        let path = common::fixtures_dir().join(rel);
        let config = DecoderConfig::new(codec_of(&path))
            .output(Output::HOST_YUV420P)
            .low_latency(true)
            .engine(EnginePreference::Only(Engine::Ffmpeg));
        let (md5s, errors) = common::decode_md5s(&path, config, 4096).unwrap();
        assert_eq!(errors, 0, "{rel}");
        assert_eq!(md5s, reference(&path, "yuv").unwrap(), "{rel}");
    }
}

/// Timestamps follow the pictures through reordering: each access unit is submitted on
/// its own with pts = its decode-order index, and every picture comes out with its own
/// access unit's pts, in display order (a permutation, not the identity, for a stream
/// with B-frames), the IDR first and marked as a keyframe.
#[test]
fn pts_follow_pictures_through_reordering() {
    if !common::need_ffmpeg() {
        return;
    }
    use video_hw::bitstream::access_unit::AccessUnitAssembler;
    let path = common::fixtures_dir().join("hevc/main-bframes-cars-320x240.h265");
    let mut assembler = AccessUnitAssembler::new(Codec::Hevc).unwrap();
    assembler.push_annexb(&std::fs::read(&path).unwrap(), None);
    assembler.finish();
    let mut units = Vec::new();
    while let Some(au) = assembler.pop() {
        units.push(au.unwrap());
    }
    let config =
        DecoderConfig::new(Codec::Hevc).output(Output::Metadata).engine(EnginePreference::Only(Engine::Ffmpeg));
    let mut dec = Decoder::open(config).unwrap();
    let mut frames = Vec::new();
    for (i, au) in units.iter().enumerate() {
        dec.submit(Input::annexb(&au.data, i as i64)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    let pts: Vec<i64> = frames.iter().map(|f| f.pts.expect("every picture has its pts")).collect();
    assert_eq!(pts.len(), reference(&path, "yuv").unwrap().len());
    let mut sorted = pts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..pts.len() as i64).collect::<Vec<_>>(), "each access unit's pts once");
    assert_ne!(pts, sorted, "B-frames: display order differs from decode order");
    assert_eq!(pts[0], 0);
    assert!(frames[0].keyframe);
    let keyframes = frames.iter().filter(|f| f.keyframe).count();
    assert_eq!(keyframes, units.iter().filter(|u| u.is_keyframe()).count());
}

/// The major and minor of the libavcodec the FFmpeg engines loaded ((0, 0): none).
fn libavcodec_version() -> (u32, u32) {
    video_hw::registry::ffmpeg_runtime().libavcodec.map_or((0, 0), |(major, minor, _)| (major, minor))
}

/// The corpus's damaged and unusual streams (`bad/`): no panic, no hang, typed errors
/// only, and the session keeps decoding after each error. Where the damage is only a
/// missing start (tune-in) or no damage at all, the frames are the reference's.
#[test]
fn corpus_ffmpeg_bad_streams() {
    if !common::need_ffmpeg() {
        return;
    }
    let Some(dir) = common::corpus_dir() else { return };
    let mut checked = 0;
    let mut problems = Vec::new();
    for s in common::corpus_streams(&dir).into_iter().filter(|s| s.bad) {
        let data = std::fs::read(&s.path).unwrap();
        let codec = codec_of(&s.path);
        let started = std::time::Instant::now();
        let got = decode(&data, codec, Output::HOST_YUV420P);
        checked += 1;
        let want = s.yuv_framemd5.as_ref().map(|p| common::read_framemd5(p)).unwrap_or_default();
        let differing = got.md5s.iter().zip(&want).filter(|(g, w)| g.1 != w.md5).count();
        eprintln!(
            "{}: {} frames (reference {}), {differing} differ, {} bitstream errors, failure {:?}, {:?}",
            s.rel,
            got.md5s.len(),
            want.len(),
            got.errors,
            got.failure,
            started.elapsed()
        );
        if let Some(f) = &got.failure {
            problems.push(format!("{}: untyped failure {f}", s.rel));
        }
        // Undamaged or only cut at the start: the same frames as ffmpeg.
        let exact = ["brokensps.h264", "BA_MW_D_IDR_LOST.264", "H264_might_overflow.h264", "mp4-init-nonkeyframe.h264"];
        // H264_might_overflow.h264: the reference (ffmpeg 5.1) shows no picture, and neither
        // do libavcodec 60.31 (FFmpeg 6.1) and 61.3 (7.0); 61.19 (7.1) and 62.28 (8.1)
        // decode 3 from it, and so does that same library under PyAV (checked with PyAV
        // 14.2's FFmpeg 7.1): the count follows the FFmpeg loaded.
        let want_count = if s.rel.ends_with("H264_might_overflow.h264") && libavcodec_version() >= (61, 19) {
            3
        } else {
            want.len()
        };
        if exact.iter().any(|e| s.rel.ends_with(e)) && (got.md5s.len() != want_count || differing > 0) {
            problems.push(format!("{}: {} frames, {differing} differ from the reference", s.rel, got.md5s.len()));
        }
        // Tune-in: the access units before the first CRA reference parameter sets never
        // sent; the session drops them (bitstream errors), so libavcodec starts at the CRA
        // and skips its RASL pictures, as a decoder starting there must. The 6 frames are
        // those `ffmpeg -f hevc` gives for the file cut at its first VPS (the reference's
        // 17 include 11 RASL pictures decoded from missing references).
        if s.rel.ends_with("loewe_tunein.h265") && (got.md5s.len() != 6 || got.errors == 0) {
            problems.push(format!("{}: {} frames, {} errors (want 6, > 0)", s.rel, got.md5s.len(), got.errors));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(checked >= 12, "{checked}");
}

/// Every fixture with bytes flipped, cut or duplicated at pseudo-random places: no panic,
/// only bitstream errors, and the session keeps going to the end. Four manglings per
/// fixture; `VIDEO_HW_MANGLE_ROUNDS=N` runs more.
#[test]
fn mangled_fixtures_give_typed_errors_only() {
    if !common::need_ffmpeg() {
        return;
    }
    let rounds: usize = std::env::var("VIDEO_HW_MANGLE_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for f in common::fixtures() {
        let clean = std::fs::read(&f.path).unwrap();
        for round in 0..rounds {
            let mut data = clean.clone();
            match round % 4 {
                // Flip bits all over.
                0 | 1 => {
                    for _ in 0..1 + data.len() / 500 {
                        let at = next() as usize % data.len();
                        data[at] ^= 1 << (next() % 8);
                    }
                }
                // Cut a piece out.
                2 => {
                    let at = next() as usize % data.len();
                    let len = (next() as usize % 2000).min(data.len() - at);
                    data.drain(at..at + len);
                }
                // Repeat a piece.
                _ => {
                    let at = next() as usize % data.len();
                    let piece = data[at..(at + 1500).min(data.len())].to_vec();
                    let to = next() as usize % data.len();
                    data.splice(to..to, piece);
                }
            }
            let got = decode(&data, codec_of(&f.path), Output::HOST_NV12);
            assert!(got.failure.is_none(), "{} round {round}: {:?}", f.rel, got.failure);
            errors += got.errors;
        }
    }
    assert!(errors > 0, "damage that no test reports");
}

/// With no NVIDIA GPU, VA-API or QSV device, Auto decodes HEVC (and H.264) with FFmpeg,
/// not OpenH264.
#[test]
fn auto_picks_ffmpeg_for_software_decode() {
    if !common::need_ffmpeg() {
        return;
    }
    let reports = video_hw::registry::probe_all(0);
    let hw_can = |codec: Codec| {
        reports
            .iter()
            .any(|r| r.available && r.direction == Direction::Decode && r.codec == codec && r.engine.is_hardware())
    };
    for codec in [Codec::Hevc, Codec::H264] {
        let dec = Decoder::open(DecoderConfig::new(codec)).unwrap();
        if hw_can(codec) {
            assert!(dec.engine().is_hardware(), "{codec}: {}", dec.backend());
        } else {
            assert_eq!(dec.engine(), Engine::Ffmpeg, "{codec}: {}", dec.backend());
            assert!(dec.backend().contains("libavcodec"), "{}", dec.backend());
        }
    }
}

/// `video-hw probe`'s data: FFmpeg's software decoders are available after a real
/// one-frame decode; the hardware families give the real reason where they cannot run.
#[test]
fn probe_reports_ffmpeg_decoders_and_hardware_reasons() {
    if !common::need_ffmpeg() {
        return;
    }
    let reports = video_hw::registry::probe_all(0);
    let find = |engine: Engine, codec: Codec| {
        reports
            .iter()
            .find(|r| r.engine == engine && r.codec == codec && r.direction == Direction::Decode)
            .unwrap_or_else(|| panic!("no probe line for {engine} {codec}"))
    };
    for codec in [Codec::H264, Codec::Hevc, Codec::Av1, Codec::Vp9] {
        let r = find(Engine::Ffmpeg, codec);
        assert!(r.available, "{codec}: {}", r.reason);
        assert!(r.info.driver.as_deref().is_some_and(|d| d.contains("libavcodec")), "{:?}", r.info);
        assert!(r.reason.contains("libavcodec decoder"), "{}", r.reason);
    }
    let av1 = find(Engine::Ffmpeg, Codec::Av1);
    assert!(av1.reason.contains("libdav1d") || av1.reason.contains("libaom-av1"), "{}", av1.reason);
    if !Path::new("/dev/dri").exists() {
        for engine in [Engine::Vaapi, Engine::Qsv] {
            for codec in [Codec::H264, Codec::Hevc] {
                let r = find(engine, codec);
                assert!(!r.available);
                // Where the loaded FFmpeg was built without the path (PyAV's has no VA-API
                // or QSV), that is the reason given first.
                let without = r.reason.contains(&format!("no {engine} path in this build"))
                    || r.reason.contains("not in this FFmpeg build");
                assert!(r.reason.contains("no /dev/dri/renderD* device") || without, "{engine} {codec}: {}", r.reason);
            }
        }
    }
}
