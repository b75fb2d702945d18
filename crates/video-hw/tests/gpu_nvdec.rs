//! NVDEC on a real GPU: bit-exact decode of every clean corpus stream the GPU supports
//! (and the project's fixtures) through each output path, bad streams without leaks,
//! and the probe. Run with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_nvdec`; without
//! that variable these tests only print a note; with it and no GPU they fail.

mod common;

use std::path::Path;

use video_hw::{Codec, DecoderConfig, Engine, EnginePreference, Output, PixelFormat};

fn nvdec(codec: Codec, output: Output) -> DecoderConfig {
    DecoderConfig::new(codec).engine(EnginePreference::Only(Engine::Nvdec)).output(output)
}

/// (label, output, which reference file) for one output path.
fn paths(bit_depth: u32) -> Vec<(&'static str, Output, &'static str)> {
    let nv12_ref = if bit_depth > 8 { "p010" } else { "nv12" };
    vec![
        ("cuda-nv12", Output::Cuda(PixelFormat::Nv12), nv12_ref),
        ("host-yuv420p", Output::Host(PixelFormat::Yuv420p), "yuv"),
        ("host-nv12", Output::Host(PixelFormat::Nv12), nv12_ref),
    ]
}

struct Case {
    name: String,
    path: std::path::PathBuf,
    codec: Codec,
    bit_depth: u32,
}

fn check_case(case: &Case, failures: &mut Vec<String>, passes: &mut usize) {
    for (label, output, tag) in paths(case.bit_depth) {
        let reference =
            case.path.with_file_name(format!("{}.{tag}.framemd5", case.path.file_name().unwrap().to_string_lossy()));
        if !reference.is_file() {
            failures.push(format!("{} [{label}]: no reference {}", case.name, reference.display()));
            continue;
        }
        let want = common::read_framemd5(&reference);
        match common::decode_md5s(&case.path, nvdec(case.codec, output), 100_003) {
            Err(e) => failures.push(format!("{} [{label}]: {e}", case.name)),
            Ok((got, _errors)) => {
                let bad: Vec<usize> = (0..want.len().max(got.len()))
                    .filter(|&i| got.get(i).map(|g| &g.1) != want.get(i).map(|w| &w.md5))
                    .collect();
                if bad.is_empty() {
                    *passes += 1;
                } else {
                    failures.push(format!(
                        "{} [{label}]: {} frames vs {} reference, {} differ (first at {})",
                        case.name,
                        got.len(),
                        want.len(),
                        bad.len(),
                        bad[0]
                    ));
                }
            }
        }
    }
}

/// Clean corpus streams NVDEC on this GPU should decode: H.264 8-bit 4:2:0 (progressive
/// and interlaced), HEVC 8/10-bit.
fn corpus_cases(dir: &Path) -> Vec<Case> {
    common::corpus_streams(dir)
        .into_iter()
        .filter(|s| !s.bad)
        .filter_map(|s| {
            let codec = match s.codec.as_deref()? {
                "h264" => Codec::H264,
                "hevc" => Codec::Hevc,
                _ => return None,
            };
            if codec == Codec::H264 && s.bit_depth != 8 {
                return None;
            }
            Some(Case { name: s.rel.clone(), path: s.path.clone(), codec, bit_depth: s.bit_depth })
        })
        .collect()
}

#[test]
fn gpu_corpus_nvdec_bitexact_every_output_path() {
    if !common::gpu_tests_enabled() {
        return;
    }
    let dir = common::corpus_dir().expect("GPU tests need the shared corpus (../shared/testdata/corpus)");
    let cases = corpus_cases(&dir);
    assert!(cases.len() >= 60, "only {} corpus streams", cases.len());
    let mut failures = Vec::new();
    let mut passes = 0;
    for case in &cases {
        check_case(case, &mut failures, &mut passes);
    }
    eprintln!("nvdec corpus: {passes} stream x output paths bit-exact, {} failed", failures.len());
    for f in &failures {
        eprintln!("  FAIL {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}

#[test]
fn gpu_nvdec_fixtures_bitexact_every_output_path() {
    if !common::gpu_tests_enabled() {
        return;
    }
    let mut failures = Vec::new();
    let mut passes = 0;
    for f in common::fixtures() {
        let codec = if f.codec == "h264" { Codec::H264 } else { Codec::Hevc };
        let case = Case { name: f.rel.clone(), path: f.path.clone(), codec, bit_depth: f.bit_depth };
        if codec == Codec::H264 && f.bit_depth > 8 {
            // NVDEC has no H.264 High 10: opening must say so, not decode garbage.
            match common::decode_md5s(&f.path, nvdec(codec, Output::HOST_NV12), 1 << 16) {
                Err(video_hw::Error::Unsupported { .. }) => passes += 1,
                other => failures.push(format!("{}: expected Unsupported, got {:?}", f.rel, other.map(|o| o.0.len()))),
            }
            continue;
        }
        check_case(&case, &mut failures, &mut passes);
    }
    eprintln!("nvdec fixtures: {passes} checks passed, {} failed", failures.len());
    for f in &failures {
        eprintln!("  FAIL {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}

#[test]
fn gpu_nvdec_bad_streams_do_not_leak() {
    if !common::gpu_tests_enabled() {
        return;
    }
    let dir = common::corpus_dir().expect("GPU tests need the shared corpus");
    let bad: Vec<_> = common::corpus_streams(&dir).into_iter().filter(|s| s.bad).collect();
    // Warm up: the first session creates the context and the driver's own pools.
    let warm = DecoderConfig::new(Codec::H264).engine(EnginePreference::Only(Engine::Nvdec));
    drop(video_hw::Decoder::open(warm).expect("nvdec opens"));
    let (free_before, _) = video_hw::diagnostics::gpu_memory(0).expect("GPU memory");
    let sessions_before = video_hw::diagnostics::nvdec_sessions();
    for round in 0..20 {
        for s in &bad {
            let data = std::fs::read(&s.path).unwrap();
            for codec in [Codec::H264, Codec::Hevc] {
                let cfg = nvdec(codec, if round % 2 == 0 { Output::HOST_YUV420P } else { Output::CUDA_NV12 });
                let Ok(mut dec) = video_hw::Decoder::open(cfg) else { continue };
                // Truncated and bit-flipped variants too.
                let mut flipped = data.clone();
                for i in (97..flipped.len()).step_by(997) {
                    flipped[i] ^= 0x5a;
                }
                for input in [&data[..], &data[..data.len() / 2], &flipped[..]] {
                    for piece in input.chunks(4099) {
                        let _ = dec.submit(video_hw::Input::annexb(piece, None));
                        while let Ok(Some(_)) = dec.try_reap() {}
                    }
                    let _ = dec.flush();
                }
            }
        }
    }
    let (free_after, _) = video_hw::diagnostics::gpu_memory(0).expect("GPU memory");
    let sessions_after = video_hw::diagnostics::nvdec_sessions();
    eprintln!(
        "bad set x20: NVDEC sessions {sessions_before} -> {sessions_after}; free device memory {} -> {} MiB",
        free_before >> 20,
        free_after >> 20
    );
    assert_eq!(sessions_after, sessions_before, "NVDEC sessions leaked");
    assert!(free_after + (64 << 20) >= free_before, "device memory leaked: {free_before} -> {free_after}");
}

#[test]
fn gpu_probe_lists_nvdec() {
    if !common::gpu_tests_enabled() {
        return;
    }
    let reports = video_hw::registry::probe_all(0);
    let nv = |c: Codec| reports.iter().find(|r| r.engine == Engine::Nvdec && r.codec == c).unwrap();
    for r in &reports {
        if r.engine == Engine::Nvdec {
            eprintln!(
                "{} {} {}: {} {:?} {:?} {}",
                r.engine, r.codec, r.direction, r.available, r.info.device, r.info.driver, r.reason
            );
        }
    }
    assert!(nv(Codec::H264).available, "{}", nv(Codec::H264).reason);
    assert!(nv(Codec::Hevc).available, "{}", nv(Codec::Hevc).reason);
}
