//! Throughput of the bitstream layer on ≥ 100 MB streams: Annex-B splitting alone, and
//! splitting + access-unit assembly (headers only, as `video-hw info` does), fed in 4 MiB
//! chunks as `info` reads them.
//!
//! Inputs: `$VIDEO_HW_BENCH_INPUT` (an .h264/.h265 file; several separated by `:`), else
//! those of `bench/inputs/hevc-1080p-big.h265`, `bench/inputs/h264-1080p-big.h264` (made by
//! scripts/make-bench-inputs.sh; few, large NAL units) and `bench/inputs/hevc-sample10s-x50.h265`
//! (the corpus's 3 Mb/s `video-hw/sample-10s.h265` 50 times: 15,150 pictures, so the
//! parsers' share shows) that exist, each benchmarked as its own group; else an in-memory
//! stream built by repeating a committed fixture until it is ≥ 100 MB (concatenated
//! IDR-started streams are valid streams).

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use video_hw::Codec;
use video_hw::bitstream::access_unit::AccessUnitAssembler;
use video_hw::bitstream::annexb::AnnexBSplitter;
use video_hw::bitstream::detect::codec_from_extension;

const MIN_BYTES: usize = 100 << 20;
const CHUNK: usize = 4 << 20;

/// The benchmark inputs as (label, path); empty when none exists.
fn input_paths(root: &Path) -> Vec<(String, PathBuf)> {
    let paths: Vec<PathBuf> = match std::env::var_os("VIDEO_HW_BENCH_INPUT") {
        Some(v) => std::env::split_paths(&v).collect(),
        None => [
            "bench/inputs/hevc-1080p-big.h265",
            "bench/inputs/h264-1080p-big.h264",
            "bench/inputs/hevc-sample10s-x50.h265",
        ]
        .iter()
        .map(|p| root.join(p))
        .collect(),
    };
    paths
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| (p.file_stem().unwrap_or_default().to_string_lossy().into_owned(), p))
        .collect()
}

fn load(path: &Path) -> (String, Codec, Vec<u8>) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let codec = codec_from_extension(path).unwrap_or(Codec::Hevc);
    (path.display().to_string(), codec, data)
}

fn repeated_fixture(root: &Path) -> (String, Codec, Vec<u8>) {
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let inputs = input_paths(&root);
    if inputs.is_empty() {
        bench_input(c, "repeated-fixture", repeated_fixture(&root));
    }
    for (label, path) in inputs {
        bench_input(c, &label, load(&path));
    }
}

fn bench_input(c: &mut Criterion, label: &str, (name, codec, data): (String, Codec, Vec<u8>)) {
    eprintln!("bitstream bench input: {name}, {} MB, {codec}", data.len() >> 20);
    let mut g = c.benchmark_group(format!("bitstream/{label}"));
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
