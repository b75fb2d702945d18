//! Configuration from the environment lives in one place: no source file of the library,
//! the CLI or the Python crate reads a `VIDEO_HW_*` variable except `src/env.rs`
//! (`video_hw::env`), test-only variables aside; and docs/environment.md lists every
//! variable that `env.rs` reads and every one named anywhere in the project's code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Variables tests, benches and build scripts read where they are (docs/environment.md,
/// "Tests, benchmarks and builds").
const TEST_AND_BUILD: &[&str] = &[
    "VIDEO_HW_TEST_GPU",
    "VIDEO_HW_REQUIRE_FFMPEG",
    "VIDEO_HW_TEST_TORCH",
    "VIDEO_HW_TEST_RAY",
    "VIDEO_HW_TEST_NO_MOUNT",
    "VIDEO_HW_CORPUS",
    "VIDEO_HW_REQUIRE_CORPUS",
    "VIDEO_HW_MANGLE_ROUNDS",
    "VIDEO_HW_F32LE_REFERENCE",
    "VIDEO_HW_BENCH_INPUT",
    "VIDEO_HW_BENCH_INPUTS",
    "VIDEO_HW_BIN",
    "VIDEO_HW_CHECK_ONLY",
    "VIDEO_HW_OPENH264_NO_ASM",
    "VIDEO_HW_OPENH264_SYS2_DIR",
    "VIDEO_HW_OPENH264_PATCHES",
    "VIDEO_HW_OPENH264_ASM",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "node_modules" | "__pycache__") {
                files(&p, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(p);
        }
    }
}

/// Every `VIDEO_HW_…` name in `text`.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("VIDEO_HW_") {
        let tail = &rest[at..];
        let end =
            tail.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(tail.len());
        let name = &tail[..end];
        // A prefix (`VIDEO_HW_NVDEC_`) names no variable.
        if name.len() > "VIDEO_HW_".len() && !name.ends_with('_') {
            out.insert(name.to_string());
        }
        rest = &tail[end.max(1)..];
    }
    out
}

#[test]
fn only_env_rs_reads_the_environment() {
    let mut sources = Vec::new();
    for krate in ["video-hw", "video-hw-media", "video-hw-cli", "video-hw-py"] {
        files(&root().join("crates").join(krate).join("src"), &[".rs"], &mut sources);
    }
    assert!(sources.len() > 100, "{} files: the scan is broken", sources.len());
    let mut readers = Vec::new();
    for f in &sources {
        if f.ends_with("src/env.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        // Constants holding a variable's name, so that `var(NAME)` is seen too.
        let consts: Vec<(String, BTreeSet<String>)> = text
            .lines()
            .filter(|l| l.contains("const ") && l.contains("\"VIDEO_HW_"))
            .filter_map(|l| {
                let name = l.split("const ").nth(1)?.split(':').next()?.trim().to_string();
                Some((name, names(l)))
            })
            .collect();
        for (i, line) in text.lines().enumerate() {
            let reads = ["env::var(", "env::var_os(", "try_from_env(", "getenv("].iter().any(|r| line.contains(r));
            if !reads {
                continue;
            }
            let mut read = names(line);
            for (c, n) in &consts {
                if line.contains(c.as_str()) {
                    read.extend(n.iter().cloned());
                }
            }
            for name in read.iter().filter(|n| !TEST_AND_BUILD.contains(&n.as_str())) {
                readers.push(format!("{}:{}: {name}", f.strip_prefix(root()).unwrap_or(f).display(), i + 1));
            }
        }
    }
    assert!(readers.is_empty(), "read outside video_hw::env (add a field to env::Settings):\n{}", readers.join("\n"));
}

#[test]
fn the_docs_table_lists_every_variable() {
    let doc = std::fs::read_to_string(root().join("docs/environment.md")).unwrap();
    let listed = names(&doc);
    let mut missing: Vec<String> =
        video_hw::env::VARIABLES.iter().filter(|v| !listed.contains(**v)).map(|v| v.to_string()).collect();
    // Every name the code uses: crates (sources, tests, benches, build scripts), Python,
    // scripts and CI.
    let mut code = Vec::new();
    files(&root().join("crates"), &[".rs"], &mut code);
    files(&root().join("python"), &[".py"], &mut code);
    files(&root().join("scripts"), &[".py", ".sh"], &mut code);
    files(&root().join(".ci"), &[""], &mut code);
    let mut used = BTreeSet::new();
    for f in &code {
        if let Ok(text) = std::fs::read_to_string(f) {
            used.extend(names(&text));
        }
    }
    missing.extend(used.into_iter().filter(|n| !listed.contains(n)));
    for v in TEST_AND_BUILD {
        if !listed.contains(*v) {
            missing.push(v.to_string());
        }
    }
    assert!(missing.is_empty(), "not in docs/environment.md: {missing:?}");
}
