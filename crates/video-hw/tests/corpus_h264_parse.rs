//! The H.264 parser and access-unit assembler against every H.264 stream of the shared
//! corpus: output frame counts against ffmpeg's reference decodes, first-picture stream
//! facts against ffprobe's metadata, and damaged input without panics.

use crate::common;

use common::XorShift;

use std::path::Path;

use video_hw::Codec;
use video_hw::bitstream::access_unit::{AccessUnitAssembler, CodecParser, StreamInfo};
use video_hw::bitstream::annexb::AnnexBSplitter;
use video_hw::bitstream::h264::H264Parser;

/// What assembling one stream gave.
#[derive(Debug, Default)]
struct Summary {
    access_units: usize,
    pictures: usize,
    /// Access units whose picture is output and is not a second field: output frames.
    output_frames: usize,
    errors: Vec<String>,
}

fn assemble(data: &[u8], chunk: usize) -> Summary {
    let mut asm = AccessUnitAssembler::new(Codec::H264).expect("h264 assembler").collect_data(false);
    let mut s = Summary::default();
    let drain = |asm: &mut AccessUnitAssembler, s: &mut Summary| {
        while let Some(item) = asm.pop() {
            match item {
                Ok(au) => {
                    s.access_units += 1;
                    if let Some(p) = au.picture {
                        s.pictures += 1;
                        if p.output && !p.second_field {
                            s.output_frames += 1;
                        }
                    }
                }
                Err(e) => s.errors.push(e.to_string()),
            }
        }
    };
    for c in data.chunks(chunk.max(1)) {
        asm.push_annexb(c, None);
        drain(&mut asm, &mut s);
    }
    asm.finish();
    drain(&mut asm, &mut s);
    s
}

/// The stream facts as they stand right after the first picture's first slice.
fn first_picture_info(data: &[u8]) -> Option<StreamInfo> {
    let mut parser = H264Parser::new();
    let mut splitter = AnnexBSplitter::new();
    let mut info = None;
    let mut look = |nal: video_hw::bitstream::annexb::NalRef<'_>| {
        if info.is_none()
            && let Ok(i) = parser.inspect(nal.data)
            && i.picture.is_some()
        {
            info = parser.stream_info();
        }
    };
    splitter.push(data, None, &mut look).ok()?;
    splitter.finish(&mut look);
    info
}

#[test]
fn corpus_h264_clean_streams_match_reference() {
    let Some(dir) = common::corpus_dir() else { return };
    let streams = common::clean_streams(&dir, "h264");
    assert!(!streams.is_empty(), "no clean H.264 streams in {}", dir.display());
    let mut mismatches = Vec::new();
    let mut agree = 0;
    for s in &streams {
        let data = std::fs::read(&s.path).unwrap_or_else(|e| panic!("{}: {e}", s.path.display()));
        let sum = assemble(&data, 1 << 20);
        let mut problems = Vec::new();
        match s.reference_frames() {
            Some(n) if n != sum.output_frames => {
                problems.push(format!("frames {} (ffmpeg {n}, pictures {})", sum.output_frames, sum.pictures))
            }
            Some(_) => {}
            None => problems.push("no reference decode".to_string()),
        }
        if !sum.errors.is_empty() {
            problems.push(format!("{} errors, first: {}", sum.errors.len(), sum.errors[0]));
        }
        match first_picture_info(&data) {
            None => problems.push("no stream info".to_string()),
            Some(info) => {
                let (w, h) = (info.dimensions.width(), info.dimensions.height());
                if (w, h) != (s.width, s.height) {
                    problems.push(format!("size {w}x{h} (ffprobe {}x{})", s.width, s.height));
                }
                if Some(info.profile.as_str()) != s.profile.as_deref() {
                    problems.push(format!("profile {:?} (ffprobe {:?})", info.profile, s.profile));
                }
                if info.bit_depth_luma as u32 != s.bit_depth {
                    problems.push(format!("bit depth {} (ffprobe {})", info.bit_depth_luma, s.bit_depth));
                }
                if info.level_idc as i64 != s.level {
                    problems.push(format!("level_idc {} (ffprobe {})", info.level_idc, s.level));
                }
                if s.interlaced() && !info.interlaced {
                    problems.push(format!("not interlaced (ffprobe field order {:?})", s.field_order));
                }
            }
        }
        if problems.is_empty() {
            agree += 1;
        } else {
            mismatches.push(format!("| {} | {} |", s.rel, problems.join("; ")));
        }
    }
    eprintln!("H.264 corpus agreement: {agree}/{}", streams.len());
    if !mismatches.is_empty() {
        eprintln!("| stream | mismatch |\n|---|---|\n{}", mismatches.join("\n"));
    }
    assert!(mismatches.is_empty(), "{} of {} streams mismatch (table above)", mismatches.len(), streams.len());
}

/// The frame counts the same assembly gives regardless of how the input is chunked.
#[test]
fn corpus_h264_chunking_does_not_change_access_units() {
    let Some(dir) = common::corpus_dir() else { return };
    for s in common::clean_streams(&dir, "h264").iter().filter(|s| s.path.metadata().is_ok_and(|m| m.len() < 200_000)) {
        let data = std::fs::read(&s.path).unwrap();
        let whole = assemble(&data, usize::MAX);
        for chunk in [1, 7, 4096] {
            let parts = assemble(&data, chunk);
            assert_eq!(
                (parts.access_units, parts.pictures, parts.output_frames),
                (whole.access_units, whole.pictures, whole.output_frames),
                "{} in chunks of {chunk}",
                s.rel
            );
        }
    }
}

fn h264_bad_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("bad")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "h264" || x == "264" || x == "jsv") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn corpus_h264_bad_and_damaged_streams_do_not_panic() {
    let Some(dir) = common::corpus_dir() else { return };
    let bad = h264_bad_files(&dir);
    assert!(!bad.is_empty(), "no bad/ H.264 files");
    // How the bad streams compare with ffmpeg (informational: ffmpeg conceals, we only count).
    let meta = common::corpus_streams(&dir);
    let mut report = Vec::new();
    let mut differing = Vec::new();
    for p in &bad {
        let data = std::fs::read(p).unwrap();
        let sum = assemble(&data, 65536);
        let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/");
        let reference = meta.iter().find(|m| m.rel == rel).and_then(|m| m.reference_frames());
        if reference.is_some_and(|n| n != sum.output_frames) {
            differing.push(rel.clone());
        }
        report.push(format!(
            "| {rel} | {} | {} | {reference:?} | {} |",
            sum.pictures,
            sum.output_frames,
            sum.errors.len()
        ));
    }
    eprintln!("| bad stream | pictures | output | ffmpeg | errors |\n|---|---|---|---|---|\n{}", report.join("\n"));
    // The output model follows ffmpeg on every bad stream that has a reference decode;
    // a change here is a change of behaviour worth a look.
    assert!(differing.is_empty(), "bad streams whose output count differs from ffmpeg: {differing:?}");

    // Truncated and damaged variants of bad and clean streams.
    let mut sources = bad.clone();
    sources.extend(
        common::clean_streams(&dir, "h264")
            .into_iter()
            .map(|s| s.path)
            .filter(|p| p.metadata().is_ok_and(|m| m.len() < 100_000)),
    );
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for p in &sources {
        let data = std::fs::read(p).unwrap();
        for round in 0..6 {
            let mut d = data.clone();
            match round {
                0 => d.truncate(rng.below(d.len())),
                1 => d = d[rng.below(d.len())..].to_vec(),
                _ => {
                    let flips = 1 + rng.below(64);
                    for _ in 0..flips {
                        let i = rng.below(d.len());
                        d[i] ^= 1 << rng.below(8);
                    }
                    if round == 5 {
                        // Zero a run of bytes: start codes and emulation prevention vanish or appear.
                        let i = rng.below(d.len());
                        let n = rng.below(64).min(d.len() - i);
                        d[i..i + n].fill(0);
                    }
                }
            }
            let _ = assemble(&d, 1 + rng.below(8192));
        }
    }
}
