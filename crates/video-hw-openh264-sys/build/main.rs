//! Builds OpenH264 from the sources bundled in `openh264-sys2` (which is used with no
//! feature, for its bindings only): each `patches/*.patch` is applied to a copy of the
//! files it touches in `OUT_DIR`, the copies are compiled in place of the originals, and
//! the x86 assembly is assembled with nasm where it is installed (else the C++ versions
//! are built). The four libraries and their flags follow `openh264-sys2`'s own build
//! (itself after OpenH264's Makefiles), plus `NDEBUG` as in OpenH264's release builds.
//!
//! Environment: `VIDEO_HW_OPENH264_PATCHES=none` builds the unpatched sources (to check
//! that a test fails without the patches); `VIDEO_HW_OPENH264_NO_ASM=1` or no nasm builds
//! without assembly; `NASM` names the assembler; `VIDEO_HW_OPENH264_SYS2_DIR` points at
//! the `openh264-sys2` package if cargo cannot say where it is. `VIDEO_HW_CHECK_ONLY=1`
//! compiles nothing (the patches are still applied and checked): for `cargo check` and
//! `cargo clippy`, which link nothing, of targets without a C++ compiler here
//! (`.ci/apple-check` type-checks macOS on Linux that way).

mod asm;
mod locate;
mod patch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One of OpenH264's libraries: its directory under `upstream/codec`, the subdirectory
/// whose `arm`/`arm64` folders hold its NEON assembly, and its include directories.
struct Library {
    name: &'static str,
    root: &'static str,
    arm_dir: &'static str,
    includes: &'static [&'static str],
}

const LIBRARIES: [Library; 4] = [
    Library { name: "common", root: "common", arm_dir: ".", includes: &[] },
    Library {
        name: "processing",
        root: "processing",
        arm_dir: "src",
        includes: &["processing/src/common", "processing/interface"],
    },
    Library { name: "decoder", root: "decoder", arm_dir: "core", includes: &["decoder/core/inc", "decoder/plus/inc"] },
    Library {
        name: "encoder",
        root: "encoder",
        arm_dir: "core",
        includes: &["encoder/core/inc", "encoder/plus/inc", "processing/interface"],
    },
];

fn main() {
    if let Err(e) = build() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn build() -> Result<(), String> {
    for path in ["build", "patches"] {
        println!("cargo:rerun-if-changed={path}");
    }
    for var in [
        "VIDEO_HW_OPENH264_PATCHES",
        "VIDEO_HW_OPENH264_NO_ASM",
        "NASM",
        "VIDEO_HW_OPENH264_SYS2_DIR",
        "VIDEO_HW_CHECK_ONLY",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let codec = locate::sys2_dir()?.join("upstream/codec");
    // Not a cargo directive: kept in the build script's output, for whoever debugs the build.
    println!("openh264 sources: {}", codec.display());

    let (replaced, applied) = apply_patches(&codec, &out.join("patched"))?;
    println!("cargo:rustc-env=VIDEO_HW_OPENH264_PATCHES={}", applied.join(","));
    if std::env::var("VIDEO_HW_CHECK_ONLY").as_deref() == Ok("1") {
        // Nothing links in a check: no library, so no compiler for the target is needed.
        println!(
            "cargo:warning=VIDEO_HW_CHECK_ONLY=1: OpenH264 not compiled (type-checking only; this build cannot link)"
        );
        println!("cargo:rustc-env=VIDEO_HW_OPENH264_ASM=none");
        return Ok(());
    }

    let nasm = match asm::find() {
        Ok(n) => Some(n),
        Err(asm::NoAsm::NotWanted) => None,
        Err(asm::NoAsm::Missing(why)) => {
            println!("cargo:warning=OpenH264 built without its x86 assembly (slower): {why}; install nasm");
            None
        }
    };
    let mut with_asm = nasm.is_some();
    let mut objects: HashMap<&str, Vec<PathBuf>> = HashMap::new();
    if let Some(nasm) = &nasm {
        for lib in &LIBRARIES {
            let files = find_files(&codec.join(lib.root), "asm", "asm_inc.asm");
            match nasm.assemble(&files, &codec.join("common/x86"), &out.join("asm").join(lib.name)) {
                Ok(o) => {
                    objects.insert(lib.name, o);
                }
                Err(e) => {
                    println!("cargo:warning=OpenH264 built without its x86 assembly: nasm failed: {e}");
                    with_asm = false;
                    break;
                }
            }
        }
    }
    println!("cargo:rustc-env=VIDEO_HW_OPENH264_ASM={}", if with_asm { "x86" } else { "none" });

    let header_dirs = patched_header_dirs(&replaced)?;
    for lib in &LIBRARIES {
        let mut b = cc::Build::new();
        b.cpp(true)
            .warnings(false)
            .pic(true)
            .define("NDEBUG", None)
            // Upstream sets these; without them the decoder crashes on Linux and macOS.
            .flag_if_supported("-fno-strict-aliasing")
            .flag_if_supported("-fno-common")
            .flag_if_supported("-fstack-protector-strong");
        // An include directory with a patched header is replaced by its patched copy, so
        // that every source of the library sees the same definitions.
        for inc in ["api/wels", "common/inc"].iter().chain(lib.includes) {
            let dir = codec.join(inc);
            b.include(header_dirs.get(&dir).unwrap_or(&dir));
        }
        if with_asm {
            for d in nasm.as_ref().map(|n| n.cpp_defines.as_slice()).unwrap_or_default() {
                b.define(d, None);
            }
            for o in objects.get(lib.name).into_iter().flatten() {
                b.object(o);
            }
        }
        add_arm_assembly(&mut b, &codec, lib);
        for file in find_files(&codec.join(lib.root), "cpp", "DllEntry.cpp") {
            match replaced.get(&file) {
                Some(patched) => {
                    // The copy still includes headers beside the original.
                    b.include(file.parent().unwrap_or(&codec));
                    b.file(patched);
                }
                None => {
                    b.file(&file);
                }
            }
        }
        b.try_compile(&format!("openh264_{}", lib.name))
            .map_err(|e| format!("compiling openh264 {}: {e}", lib.name))?;
    }
    Ok(())
}

/// NEON assembly (`.S`, through the C compiler) on 32- and 64-bit ARM, as upstream.
fn add_arm_assembly(b: &mut cc::Build, codec: &Path, lib: &Library) {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // cl.exe cannot assemble .S files.
    if os == "windows" {
        return;
    }
    let (define, dir, exclude) = match arch.as_str() {
        "arm" => ("HAVE_NEON", "arm", "arm_arch_common_macro.S"),
        "aarch64" => ("HAVE_NEON_AARCH64", "arm64", "arm_arch64_common_macro.S"),
        _ => return,
    };
    b.define(define, None).include(codec.join("common").join(dir));
    b.files(find_files(&codec.join(lib.root).join(lib.arm_dir).join(dir), "S", exclude));
}

/// Applies every `patches/*.patch` (in name order) unless `VIDEO_HW_OPENH264_PATCHES` is
/// `none`; returns original file → patched copy, and the names of the patches applied.
fn apply_patches(codec: &Path, dir: &Path) -> Result<(HashMap<PathBuf, PathBuf>, Vec<String>), String> {
    let mut replaced = HashMap::new();
    let mut applied = Vec::new();
    if std::env::var("VIDEO_HW_OPENH264_PATCHES").is_ok_and(|v| v == "none") {
        return Ok((replaced, applied));
    }
    let patches_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?).join("patches");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&patches_dir)
        .map_err(|e| format!("{}: {e}", patches_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    names.sort();
    // The text of each touched file so far (a later patch applies on an earlier one's result).
    let mut texts: HashMap<PathBuf, String> = HashMap::new();
    for name in &names {
        let text = std::fs::read_to_string(name).map_err(|e| format!("{}: {e}", name.display()))?;
        for fp in patch::parse(&text).map_err(|e| format!("{}: {e}", name.display()))? {
            // Patch paths are relative to upstream's root: codec/decoder/...
            let rel = fp.path.strip_prefix("codec/").ok_or_else(|| format!("{}: not under codec/", fp.path))?;
            let original = codec.join(rel);
            let current = match texts.remove(&original) {
                Some(t) => t,
                None => std::fs::read_to_string(&original).map_err(|e| format!("{}: {e}", original.display()))?,
            };
            let new = fp.apply(&current).map_err(|e| format!("{}: {e}", name.display()))?;
            texts.insert(original, new);
        }
        applied.push(name.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string());
    }
    for (original, text) in texts {
        let rel = original.strip_prefix(codec).map_err(|e| e.to_string())?;
        let copy = dir.join(rel);
        if let Some(parent) = copy.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&copy, text).map_err(|e| format!("{}: {e}", copy.display()))?;
        replaced.insert(original, copy);
    }
    Ok((replaced, applied))
}

/// The directories holding a patched header: original → copy in `OUT_DIR`, a full copy of
/// the original directory's headers (a header includes its neighbours from its own
/// directory first, and they must see the patched ones too).
fn patched_header_dirs(replaced: &HashMap<PathBuf, PathBuf>) -> Result<HashMap<PathBuf, PathBuf>, String> {
    let mut dirs = HashMap::new();
    for (original, copy) in replaced.iter().filter(|(original, _)| original.extension().is_some_and(|x| x == "h")) {
        if let (Some(from), Some(to)) = (original.parent(), copy.parent()) {
            dirs.insert(from.to_path_buf(), to.to_path_buf());
        }
    }
    for (original, copy) in &dirs {
        for header in find_files(original, "h", "") {
            let target = copy.join(header.strip_prefix(original).map_err(|e| e.to_string())?);
            if !replaced.contains_key(&header) {
                std::fs::copy(&header, &target).map_err(|e| format!("{}: {e}", header.display()))?;
            }
        }
    }
    Ok(dirs)
}

/// Files under `dir` (recursively) with extension `ext`, except those named `except`,
/// sorted.
fn find_files(dir: &Path, ext: &str, except: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == ext) && path.file_name().is_some_and(|n| n != except) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
