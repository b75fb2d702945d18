//! Scratch paths for tests that write files: each lives in its own fresh temporary folder,
//! removed with everything in it when the value is dropped (also when the test fails), so
//! repeated test runs do not fill the disk. Shared by this crate's tests and the CLI's.

use std::path::{Path, PathBuf};

/// A scratch folder, or a file name inside one (the file itself is not created, so a test
/// can check that something refused to write it).
pub struct Scratch {
    // Held only for its Drop, which removes the folder.
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.path.as_os_str()
    }
}

/// A fresh empty folder; `name` shows in its path.
pub fn scratch_dir(name: &str) -> Scratch {
    let dir = tempfile::Builder::new().prefix(&format!("video-hw-{name}-")).tempdir().expect("temporary folder");
    let path = dir.path().to_path_buf();
    Scratch { _dir: dir, path }
}

/// The path of a file called `name` (not yet created) in a fresh folder of its own.
pub fn scratch_file(name: &str) -> Scratch {
    let dir = tempfile::Builder::new().prefix("video-hw-").tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    Scratch { _dir: dir, path }
}
