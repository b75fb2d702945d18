//! The HEVC parser against every HEVC stream of the shared corpus: access units, output
//! pictures (compared with ffmpeg's reference decode), display size, profile and bit depth.

use crate::common;

use common::XorShift;

use std::path::Path;

use video_hw::Codec;
use video_hw::bitstream::access_unit::{AccessUnit, AccessUnitAssembler, CodecParser, StreamInfo};
use video_hw::bitstream::annexb::split_all;
use video_hw::bitstream::hevc::HevcParser;

/// What one pass of the assembler over a file gives.
struct Parsed {
    aus: Vec<AccessUnit>,
    errors: Vec<String>,
}

/// Stream facts as the parser reports them right after the first picture's first slice
/// (or after the whole stream when it has no picture).
fn first_picture_info(data: &[u8]) -> Option<StreamInfo> {
    let mut parser = HevcParser::new();
    for nal in split_all(data) {
        if parser.inspect(nal).is_ok_and(|info| info.picture.is_some()) {
            return parser.stream_info();
        }
    }
    parser.stream_info()
}

/// Runs the assembler over `data`, in chunks of `chunk` bytes.
fn assemble(data: &[u8], chunk: usize) -> Parsed {
    let mut asm = AccessUnitAssembler::new(Codec::Hevc).expect("hevc assembler").collect_data(false);
    let mut parsed = Parsed { aus: Vec::new(), errors: Vec::new() };
    let drain = |asm: &mut AccessUnitAssembler, parsed: &mut Parsed| {
        while let Some(item) = asm.pop() {
            match item {
                Ok(au) => parsed.aus.push(au),
                Err(e) => parsed.errors.push(e.to_string()),
            }
        }
    };
    for piece in data.chunks(chunk.max(1)) {
        asm.push_annexb(piece, None);
        drain(&mut asm, &mut parsed);
    }
    asm.finish();
    drain(&mut asm, &mut parsed);
    parsed
}

fn output_count(aus: &[AccessUnit]) -> usize {
    aus.iter().filter(|au| au.picture.is_some_and(|p| p.output)).count()
}

#[test]
fn corpus_hevc_streams_match_reference() {
    let Some(dir) = common::corpus_dir() else { return };
    let streams = common::clean_streams(&dir, "hevc");
    assert!(!streams.is_empty(), "no clean HEVC streams listed in {}", dir.display());
    let mut mismatches = Vec::new();
    let mut rows = Vec::new();
    for s in &streams {
        let data = std::fs::read(&s.path).unwrap_or_else(|e| panic!("{}: {e}", s.path.display()));
        let parsed = assemble(&data, data.len());
        let pictures = parsed.aus.iter().filter(|au| au.picture.is_some()).count();
        let outputs = output_count(&parsed.aus);
        let reference = s.reference_frames();
        let info = first_picture_info(&data);
        let mut problems = Vec::new();
        if Some(outputs) != reference {
            problems.push(format!("output pictures {outputs} (of {pictures}), reference {reference:?}"));
        }
        match &info {
            None => problems.push("no stream info".to_string()),
            Some(info) => {
                let (w, h) = (info.dimensions.width(), info.dimensions.height());
                if (w, h) != (s.width, s.height) {
                    problems.push(format!("size {w}x{h}, metadata {}x{}", s.width, s.height));
                }
                if Some(info.profile.as_str()) != s.profile.as_deref() {
                    problems.push(format!("profile {:?}, metadata {:?}", info.profile, s.profile));
                }
                if info.bit_depth_luma as u32 != s.bit_depth {
                    problems.push(format!("bit depth {}, metadata {}", info.bit_depth_luma, s.bit_depth));
                }
                if info.level_idc as i64 != s.level {
                    problems.push(format!("level_idc {}, metadata {}", info.level_idc, s.level));
                }
            }
        }
        if !parsed.errors.is_empty() {
            problems.push(format!("{} errors, first: {}", parsed.errors.len(), parsed.errors[0]));
        }
        // Chunked input must give the same access units.
        let chunked = assemble(&data, 4093);
        let offsets = |p: &Parsed| p.aus.iter().map(|a| (a.offset, a.nal_count, a.picture)).collect::<Vec<_>>();
        if offsets(&chunked) != offsets(&parsed) {
            problems.push("chunked input gives different access units".to_string());
        }
        rows.push(format!(
            "{:<45} {:>5} {:>5} {:>8} {:>10} {:<20}",
            s.rel,
            pictures,
            outputs,
            reference.map_or("-".to_string(), |r| r.to_string()),
            info.as_ref().map_or("-".to_string(), |i| format!("{}x{}", i.dimensions.width(), i.dimensions.height())),
            info.as_ref().map_or("-".to_string(), |i| i.profile.clone()),
        ));
        if !problems.is_empty() {
            mismatches.push(format!("{}: {}", s.rel, problems.join("; ")));
        }
    }
    println!("{:<45} {:>5} {:>5} {:>8} {:>10} {:<20}", "stream", "pics", "out", "ref", "size", "profile");
    for row in &rows {
        println!("{row}");
    }
    println!("agreement: {}/{}", streams.len() - mismatches.len(), streams.len());
    for m in &mismatches {
        println!("MISMATCH {m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} HEVC streams disagree:\n{}",
        mismatches.len(),
        streams.len(),
        mismatches.join("\n")
    );
}

fn hevc_files(dir: &Path) -> Vec<std::path::PathBuf> {
    common::corpus_streams(dir)
        .into_iter()
        .filter(|s| s.codec.as_deref() == Some("hevc") || s.rel.ends_with(".h265") || s.rel.ends_with(".265"))
        .map(|s| s.path)
        .filter(|p| p.is_file())
        .collect()
}

#[test]
fn corpus_hevc_damaged_streams_do_not_panic() {
    let Some(dir) = common::corpus_dir() else { return };
    let files = hevc_files(&dir);
    assert!(files.iter().any(|p| p.to_string_lossy().contains("/bad/")), "no bad/ HEVC stream found");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for path in &files {
        let data = std::fs::read(path).expect("read");
        // As is (bad/ streams are damaged already), and in small chunks.
        let parsed = assemble(&data, data.len());
        assert!(parsed.aus.len() <= data.len());
        assemble(&data, 1 + rng.below(700));
        first_picture_info(&data);
        // Truncated at random points.
        for _ in 0..4 {
            let cut = rng.below(data.len() + 1);
            assemble(&data[..cut], 1 + rng.below(5000));
        }
        // Random bytes flipped, dropped and zeroed (keep the files small enough to stay fast).
        let prefix = &data[..data.len().min(300_000)];
        for round in 0..6 {
            let mut damaged = prefix.to_vec();
            for _ in 0..1 + rng.below(40) {
                let i = rng.below(damaged.len());
                match round % 3 {
                    0 => damaged[i] ^= 1 << rng.below(8),
                    1 => damaged[i] = rng.next() as u8,
                    _ => {
                        let end = (i + rng.below(64)).min(damaged.len());
                        damaged.drain(i..end);
                        if damaged.is_empty() {
                            break;
                        }
                    }
                }
            }
            assemble(&damaged, 1 + rng.below(9000));
        }
    }
}
