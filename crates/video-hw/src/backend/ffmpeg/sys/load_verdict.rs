//! FFmpeg library sets a child process has loaded cleanly before, remembered on disk, so a
//! new process can skip that child.
//!
//! Why: the child (`load::loads_in_child`) keeps a broken FFmpeg from crashing the caller,
//! but it costs a fork of the caller and a load of FFmpeg's hundred-odd dependencies, which
//! was most of a fresh process's first open on the CPU: 0.06-0.08 s against torchcodec's
//! 0.005 s on a quiet 2-core machine (bench/results/python-loops-cpu-20261126-de1a1a0), more
//! from a process holding torch (its fork copies a larger address space).
//!
//! A verdict is an empty-named file under `$XDG_CACHE_HOME/video-hw/ffmpeg-loads/` (else
//! `~/.cache/...`) whose name is a hash of everything that decides what loading the set
//! runs: each library's resolved path, size, modification and change times and inode; the
//! dynamic loader's cache (`/etc/ld.so.cache`, rewritten whenever a system library is
//! installed or upgraded); `LD_LIBRARY_PATH` and `LD_PRELOAD`; and this library's version.
//! Only sets that loaded are remembered; anything else is checked again each time. A
//! dependency replaced in place without `ldconfig` and outside `LD_LIBRARY_PATH` is not
//! seen: `VIDEO_HW_FFMPEG_CHECK_CACHE=0` turns the memory off (every process checks).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The folder verdicts are kept in, when the memory is on and a cache folder is known.
fn folder() -> Option<PathBuf> {
    if !crate::env::settings().ffmpeg_check_cache {
        return None;
    }
    Some(crate::env::cache_home()?.join("ffmpeg-loads"))
}

/// Whether a child process loaded `paths` cleanly before, as they are now.
pub(super) fn known_good(paths: &[PathBuf]) -> bool {
    folder().is_some_and(|dir| known_good_in(&dir, paths))
}

/// Remembers that a child process loaded `paths` cleanly. Failures to write are ignored:
/// the next process then checks again.
pub(super) fn remember_good(paths: &[PathBuf]) {
    if let Some(dir) = folder() {
        remember_good_in(&dir, paths);
    }
}

fn known_good_in(dir: &Path, paths: &[PathBuf]) -> bool {
    key(paths).is_some_and(|k| dir.join(k).is_file())
}

fn remember_good_in(dir: &Path, paths: &[PathBuf]) {
    let Some(k) = key(paths) else { return };
    // The libraries' names as content, for whoever looks (only the name matters to us).
    let text: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    let _ = video_hw_media::cache_file::write_atomic(&dir.join(k), text.as_bytes());
}

/// The hash naming `paths`' verdict, or `None` when a library cannot be looked at (then
/// nothing is remembered or trusted).
fn key(paths: &[PathBuf]) -> Option<String> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    for p in paths {
        let real = std::fs::canonicalize(p).ok()?;
        real.hash(&mut h);
        identity(&real)?.hash(&mut h);
    }
    // What decides where the libraries' own dependencies come from.
    identity(Path::new("/etc/ld.so.cache")).hash(&mut h);
    for var in ["LD_LIBRARY_PATH", "LD_PRELOAD"] {
        std::env::var_os(var).hash(&mut h);
    }
    Some(format!("{:016x}", h.finish()))
}

/// A file's size, times and (on Unix) device and inode: what changes when it is replaced.
fn identity(path: &Path) -> Option<(u64, Option<std::time::SystemTime>, [u64; 3])> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ids = {
        use std::os::unix::fs::MetadataExt;
        [m.dev(), m.ino(), (m.ctime() as u64).wrapping_mul(1_000_000_000).wrapping_add(m.ctime_nsec() as u64)]
    };
    #[cfg(not(unix))]
    let ids = [0; 3];
    Some((m.len(), m.modified().ok(), ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("video-hw-verdict-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_remembered_set_is_known_until_a_library_changes() {
        let d = scratch("change");
        let (lib, cache) = (d.join("libfake.so.59"), d.join("cache"));
        std::fs::write(&lib, b"one").unwrap();
        let set = vec![lib.clone()];
        assert!(!known_good_in(&cache, &set), "nothing remembered yet");
        remember_good_in(&cache, &set);
        assert!(known_good_in(&cache, &set));
        // Replaced (another size, another inode): checked again.
        std::fs::remove_file(&lib).unwrap();
        std::fs::write(&lib, b"three").unwrap();
        assert!(!known_good_in(&cache, &set), "a replaced library is not trusted");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_missing_library_or_unwritable_folder_is_never_trusted() {
        let d = scratch("missing");
        let set = vec![d.join("absent.so")];
        remember_good_in(&d.join("cache"), &set);
        assert!(!known_good_in(&d.join("cache"), &set));
        // A folder that cannot be made (a file in its place): nothing remembered, no error.
        let lib = d.join("lib.so");
        std::fs::write(&lib, b"x").unwrap();
        std::fs::write(d.join("blocked"), b"").unwrap();
        remember_good_in(&d.join("blocked").join("cache"), std::slice::from_ref(&lib));
        assert!(!known_good_in(&d.join("blocked").join("cache"), &[lib]));
        let _ = std::fs::remove_dir_all(&d);
    }
}
