//! Writing a file of a cache so that readers never see half of it: the frame index cache
//! here, and the library's on-disk memories above (FFmpeg load verdicts, NVDEC refusals),
//! which other processes may read while one writes.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes `bytes` to `place` through a temporary file in the same directory (made where
/// missing) renamed over it: readers see the old file or the new one whole. The temporary
/// file (`.NAME.PID.NANOS.tmp`) is removed when the write fails.
pub fn write_atomic(place: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = place.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = place.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.flush()?;
        std::fs::rename(&tmp, place)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
