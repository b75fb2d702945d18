//! Finds the OpenH264 sources bundled in the `openh264-sys2` crate (its `upstream/`
//! directory), which this crate compiles instead of letting `openh264-sys2` do it, so that
//! the patches can be applied first.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `openh264-sys2` version whose sources the patches fit (the dependency is pinned to
/// it in Cargo.toml).
pub const SYS2_VERSION: &str = "0.9.9";

/// The directory of the `openh264-sys2` package: `VIDEO_HW_OPENH264_SYS2_DIR` if set, else
/// where `cargo metadata` says the resolved package lives (this works for registries,
/// vendored sources and path overrides alike), else the default registry cache.
pub fn sys2_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("VIDEO_HW_OPENH264_SYS2_DIR") {
        return checked(PathBuf::from(dir)).ok_or_else(|| {
            "VIDEO_HW_OPENH264_SYS2_DIR does not point at an openh264-sys2 package (no upstream/codec)".to_string()
        });
    }
    let mut tried = Vec::new();
    match from_metadata() {
        Ok(dir) => return Ok(dir),
        Err(e) => tried.push(e),
    }
    match from_registry_cache() {
        Ok(dir) => return Ok(dir),
        Err(e) => tried.push(e),
    }
    Err(format!(
        "cannot find the sources of openh264-sys2 {SYS2_VERSION} ({}); set VIDEO_HW_OPENH264_SYS2_DIR to its package directory",
        tried.join("; ")
    ))
}

/// `dir` if it holds OpenH264's sources.
fn checked(dir: PathBuf) -> Option<PathBuf> {
    dir.join("upstream/codec/api/wels/codec_api.h").is_file().then_some(dir)
}

/// Asks cargo where the resolved `openh264-sys2` package is.
fn from_metadata() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(&std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?).join("Cargo.toml");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--manifest-path"])
        .arg(&manifest)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata output: {e}"))?;
    let packages = meta["packages"].as_array().ok_or("cargo metadata lists no packages")?;
    packages
        .iter()
        .filter(|p| p["name"] == "openh264-sys2" && p["version"] == SYS2_VERSION)
        .filter_map(|p| p["manifest_path"].as_str())
        .find_map(|m| checked(Path::new(m).parent()?.to_path_buf()))
        .ok_or_else(|| format!("cargo metadata has no openh264-sys2 {SYS2_VERSION}"))
}

/// Looks in `$CARGO_HOME/registry/src/*/openh264-sys2-<version>`.
fn from_registry_cache() -> Result<PathBuf, String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("no CARGO_HOME or HOME")?;
    let registry = home.join("registry/src");
    let entries = std::fs::read_dir(&registry).map_err(|e| format!("{}: {e}", registry.display()))?;
    entries
        .filter_map(|e| e.ok())
        .find_map(|e| checked(e.path().join(format!("openh264-sys2-{SYS2_VERSION}"))))
        .ok_or_else(|| format!("not in {}", registry.display()))
}
