//! Throughput of the bitstream layer on a ≥ 100 MB stream: Annex-B splitting alone,
//! and splitting + access-unit assembly (headers only, as `video-hw info` does).
//!
//! Input: `$VIDEO_HW_BENCH_INPUT` (an .h264/.h265 file), else
//! `bench/inputs/hevc-1080p-big.h265` (made by scripts/make-bench-inputs.sh), else an
//! in-memory stream built by repeating a committed fixture until it is ≥ 100 MB
//! (concatenated IDR-started streams are valid streams).

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use video_hw::Codec;
use video_hw::bitstream::access_unit::AccessUnitAssembler;
use video_hw::bitstream::annexb::AnnexBSplitter;
use video_hw::bitstream::detect::codec_from_extension;

const MIN_BYTES: usize = 100 << 20;
const CHUNK: usize = 4 << 20;

fn load_input() -> (String, Codec, Vec<u8>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates: Vec<PathBuf> = std::env::var_os("VIDEO_HW_BENCH_INPUT")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join("bench/inputs/hevc-1080p-big.h265")])
        .collect();
    for path in candidates {
        if let Ok(data) = std::fs::read(&path) {
            let codec = codec_from_extension(&path).unwrap_or(Codec::Hevc);
            return (path.display().to_string(), codec, data);
        }
    }
    // Fall back to the largest committed HEVC fixture, repeated.
    let dir = root.join("testdata");
    let mut best: Option<(PathBuf, u64)> = None;
    for entry in walk(&dir) {
        if entry.extension().is_some_and(|e| e == "h265") {
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if best.as_ref().is_none_or(|b| len > b.1) {
                best = Some((entry, len));
            }
        }
    }
    let (path, _) = best.expect("no bench input: run scripts/make-bench-inputs.sh or commit fixtures");
    let one = std::fs::read(&path).unwrap();
    let mut data = Vec::with_capacity(MIN_BYTES + one.len());
    while data.len() < MIN_BYTES {
        data.extend_from_slice(&one);
    }
    (format!("{} x{}", path.display(), data.len() / one.len()), Codec::Hevc, data)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let (name, codec, data) = load_input();
    eprintln!("bitstream bench input: {name}, {} MB, {codec}", data.len() >> 20);
    let mut g = c.benchmark_group("bitstream");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    g.bench_function("annexb_split", |b| {
        b.iter(|| {
            let mut s = AnnexBSplitter::new();
            let mut n = 0usize;
            for chunk in data.chunks(CHUNK) {
                s.push(chunk, None, |_| n += 1).unwrap();
            }
            s.finish(|_| n += 1);
            n
        })
    });
    g.bench_function("split_and_assemble_headers_only", |b| {
        b.iter(|| {
            let mut asm = AccessUnitAssembler::new(codec).unwrap().collect_data(false);
            let mut aus = 0usize;
            for chunk in data.chunks(CHUNK) {
                asm.push_annexb(chunk, None);
                while asm.pop().is_some() {
                    aus += 1;
                }
            }
            asm.finish();
            while asm.pop().is_some() {
                aus += 1;
            }
            aus
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
