//! Frame indexes saved once and read back by later opens of the same file: in other
//! processes, DataLoader workers and later epochs, the scan that MPEG-TS and raw streams
//! need (every packet read and its picture parsed), or the walk of an AVI without an
//! index, is then skipped.
//!
//! An index is saved in a cache directory, under a name made from the file's canonical
//! path and track, or beside the file (`<file>.vhidx`) on request. It is tagged with the
//! file's identity — canonical path, size, modification time (ns), inode and device, a
//! hash of its first and last 64 KiB — with the track as the demuxer reads it on opening,
//! the library's version and the index's format version. Reading it back, any difference
//! in any of these, a damaged or truncated file (a checksum covers it whole) or anything
//! that does not parse means the index is built again and the saved one replaced: a saved
//! index is never trusted past its tag. Writes go to a temporary file renamed into place,
//! so a reader in another process sees the old file or the new one, never half of one.
//!
//! A file modified less than [`RACY_SECONDS`] before it is indexed is indexed but not
//! saved: a second write within the file system's timestamp tick would leave size and
//! time as they were, and its content could change outside the hashed ends.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::debug;

use super::FrameIndex;
use super::persist::{self, FORMAT_VERSION};
use crate::cache_file::write_atomic;
use crate::{Container, Demuxer};
use video_hw_types::error::Result;

/// The environment variable that sets the process-wide default (read by the library:
/// `video_hw::media::index_cache(None)`).
pub const INDEX_CACHE_ENV: &str = "VIDEO_HW_INDEX_CACHE";

/// Where [`IndexCache::Auto`], `IndexCache::parse("on")` and the deprecated
/// [`IndexCache::from_env`] and [`IndexCache::default_dir`] get the process's defaults.
/// This crate reads no environment: the library (`video_hw`), whose `env` module
/// is the one reader of the `VIDEO_HW_*` variables, installs its readers here
/// ([`install_environment`]) before it resolves a cache setting
/// (`video_hw::media::index_cache`, `FrameReader::open`; a program may call
/// `video_hw::media::install_cache_environment` first). Until then the setting is unset and
/// there is no default directory.
#[derive(Debug, Clone, Copy)]
pub struct CacheEnvironment {
    /// The raw value of [`INDEX_CACHE_ENV`] (`None`: unset or empty).
    pub setting: fn() -> Option<OsString>,
    /// [`IndexCache::Auto`]'s directory (`None`: none is known).
    pub default_dir: fn() -> Option<PathBuf>,
}

static ENVIRONMENT: OnceLock<CacheEnvironment> = OnceLock::new();

/// Installs the process's [`CacheEnvironment`]; the first call wins (the library makes it,
/// see [`CacheEnvironment`]).
pub fn install_environment(environment: CacheEnvironment) {
    let _ = ENVIRONMENT.set(environment);
}

/// The installed [`CacheEnvironment`], or one where nothing is set.
fn environment() -> CacheEnvironment {
    ENVIRONMENT.get().copied().unwrap_or(CacheEnvironment { setting: || None, default_dir: || None })
}

/// [`IndexCache::Auto`]'s directory as installed ([`CacheEnvironment::default_dir`]).
fn installed_default_dir() -> Option<PathBuf> {
    (environment().default_dir)()
}

/// Bytes hashed at each end of a file for its fingerprint.
const FINGERPRINT_BYTES: u64 = 64 * 1024;

/// A file modified less than this many seconds before it is indexed is not saved.
pub const RACY_SECONDS: u64 = 2;

/// A cache directory past this many bytes drops its oldest indexes (by modification time)
/// down to three quarters of it.
pub const MAX_CACHE_BYTES: u64 = 1 << 30;

/// Saved indexes larger than this are not read (no index of a real file comes near).
const MAX_INDEX_BYTES: u64 = 1 << 30;

/// The extension of saved indexes.
const EXTENSION: &str = "vhidx";

/// Where frame indexes are saved and read back (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IndexCache {
    /// Never read or saved.
    Off,
    /// The default: the default directory (`video_hw::env::index_dir()`), for files whose
    /// index is a scan of the whole file (MPEG-TS and M2TS, raw H.264/HEVC and AV1
    /// streams, an AVI whose `movi` list was walked for want of an index of its own).
    /// Files with tables (MP4, Matroska, IVF, an AVI with its index) are indexed from them
    /// as fast as a saved index reads, so none is saved for them.
    #[default]
    Auto,
    /// In this directory (made if missing), for every container.
    Dir(PathBuf),
    /// Beside the file: `<file>.vhidx` (`<file>.<track>.vhidx` for a track other than the
    /// default video track), for every container.
    Beside,
}

/// What the cache did for one open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheUse {
    /// Not used: off, a source that is not a file, or under [`IndexCache::Auto`] a
    /// file indexed from its tables.
    Off,
    /// The index was read from the cache; the file was not scanned.
    Hit,
    /// The index was built from the file.
    Built {
        /// Why a saved index was not used (`None`: there was none).
        stale: Option<String>,
        /// Whether the index was saved (not where the place is not writable, or the file
        /// was modified within [`RACY_SECONDS`]).
        stored: bool,
    },
}

impl CacheUse {
    /// A short name: `off`, `hit`, `built` (none was saved before), `remade` (a saved one
    /// was stale or damaged).
    pub fn name(&self) -> &'static str {
        match self {
            CacheUse::Off => "off",
            CacheUse::Hit => "hit",
            CacheUse::Built { stale: None, .. } => "built",
            CacheUse::Built { stale: Some(_), .. } => "remade",
        }
    }
}

impl IndexCache {
    /// The process-wide default: [`INDEX_CACHE_ENV`] read as [`IndexCache::from_value`]
    /// reads it. The variable is read by the library (`video_hw::env`, the one reader of
    /// `VIDEO_HW_*` variables) and handed here through [`CacheEnvironment`]; before the
    /// library has installed it, this is `Auto` whatever the variable says, which is why
    /// it is deprecated.
    #[deprecated(
        note = "sees VIDEO_HW_INDEX_CACHE only after the library installed it; use `video_hw::media::index_cache(None)`"
    )]
    pub fn from_env() -> IndexCache {
        IndexCache::from_value((environment().setting)().as_deref())
    }

    /// The setting an [`INDEX_CACHE_ENV`] value names: [`IndexCache::parse`] of it,
    /// a directory where it is not UTF-8, and [`IndexCache::Auto`] where it is unset
    /// (`None`). Reads no environment.
    pub fn from_value(value: Option<&OsStr>) -> IndexCache {
        match value {
            Some(v) => match v.to_str() {
                Some(s) => IndexCache::parse(s),
                None => IndexCache::Dir(PathBuf::from(v)),
            },
            None => IndexCache::Auto,
        }
    }

    /// A setting by name: `off` (or `0`, `false`, `no`), `auto`, `on` (or `1`, `true`,
    /// `yes`: the default directory, every container), `beside`; anything else is a
    /// directory.
    pub fn parse(s: &str) -> IndexCache {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "0" | "false" | "no" | "none" => IndexCache::Off,
            "auto" => IndexCache::Auto,
            "on" | "1" | "true" | "yes" => installed_default_dir().map_or(IndexCache::Off, IndexCache::Dir),
            "beside" => IndexCache::Beside,
            _ => IndexCache::Dir(PathBuf::from(s)),
        }
    }

    /// The default directory: `$XDG_CACHE_HOME/video-hw/index`, else
    /// `~/.cache/video-hw/index` (`%LOCALAPPDATA%\\video-hw\\index` on Windows); `None`
    /// where none of these is set. The library (`video_hw::env`) reads these and hands the
    /// directory here through [`CacheEnvironment`]; before it has, `None`, which is why it
    /// is deprecated.
    #[deprecated(note = "is None until the library installed the environment; use `video_hw::env::index_dir()`")]
    pub fn default_dir() -> Option<PathBuf> {
        installed_default_dir()
    }

    /// The index of `track` of `demuxer`, opened on the file at `path`: read from the
    /// cache where a saved one matches the file, otherwise built
    /// ([`FrameIndex::build`]) and saved. The demuxer reads from the first packet after,
    /// as after a build. Nothing about the cache is ever an error: an unreadable or
    /// unwritable place means the index is built (and [`CacheUse`] says so).
    pub fn index(&self, demuxer: &mut Demuxer, track: usize, path: &Path) -> Result<(FrameIndex, CacheUse)> {
        self.index_in(demuxer, track, path, installed_default_dir)
    }

    /// [`index`](Self::index), with [`IndexCache::Auto`]'s directory from `auto_dir`
    /// instead of the installed default directory (the library passes its own, read from the
    /// environment; the tests a scratch folder, not the user's cache).
    pub fn index_in(
        &self,
        demuxer: &mut Demuxer,
        track: usize,
        path: &Path,
        auto_dir: impl FnOnce() -> Option<PathBuf>,
    ) -> Result<(FrameIndex, CacheUse)> {
        let container = demuxer.container();
        let default_track = demuxer.video_track().map(|t| t.index) == Some(track);
        let Some(place) = self.place(path, track, default_track, demuxer.located_by_scan(), auto_dir) else {
            return Ok((FrameIndex::build(demuxer, track)?, CacheUse::Off));
        };
        let Some(t) = demuxer.track(track).cloned() else {
            return Ok((FrameIndex::build(demuxer, track)?, CacheUse::Off));
        };
        let identity = match Identity::of(path, track, &t, container) {
            Ok(id) => id,
            Err(e) => {
                debug!(path = %path.display(), error = %e, "index cache: the file's identity cannot be read");
                return Ok((FrameIndex::build(demuxer, track)?, CacheUse::Off));
            }
        };
        let tag = identity.tag();
        let stale = match read_saved(&place, &tag, &t, container) {
            Ok((index, seek)) => {
                if let Some(points) = seek {
                    demuxer.restore_seek_points(points);
                }
                demuxer.rewind()?;
                return Ok((index, CacheUse::Hit));
            }
            Err(None) => None,
            Err(Some(why)) => Some(why),
        };
        if let Some(why) = &stale {
            debug!(file = %place.display(), why = %why, "index cache: saved index not used; building it again");
        }
        let index = FrameIndex::build(demuxer, track)?;
        let stored = if identity.racy() {
            false
        } else {
            // The file must be as it was when the identity was taken, or the index built
            // may be of other content than the tag says.
            match Identity::of(path, track, &t, container) {
                Ok(after) if after == identity => {
                    let bytes = persist::encode(&tag, &index, demuxer.seek_points().as_ref());
                    match write_atomic(&place, &bytes) {
                        Ok(()) => {
                            if matches!(self, IndexCache::Auto | IndexCache::Dir(_)) {
                                prune(place.parent().unwrap_or(Path::new(".")), MAX_CACHE_BYTES);
                            }
                            true
                        }
                        Err(e) => {
                            debug!(file = %place.display(), error = %e, "index cache: the index cannot be saved");
                            false
                        }
                    }
                }
                _ => false,
            }
        };
        Ok((index, CacheUse::Built { stale, stored }))
    }

    /// The saved index's file for `track` of the file at `path`, if this setting saves one
    /// for a file whose packets were (`scanned`) or were not found by a scan; `auto_dir`
    /// gives [`IndexCache::Auto`]'s directory.
    fn place(
        &self,
        path: &Path,
        track: usize,
        default_track: bool,
        scanned: bool,
        auto_dir: impl FnOnce() -> Option<PathBuf>,
    ) -> Option<PathBuf> {
        let canonical = std::fs::canonicalize(path).ok()?;
        let in_dir = |dir: &Path| {
            let mut key = canonical.as_os_str().as_encoded_bytes().to_vec();
            key.push(0);
            key.extend_from_slice(&(track as u64).to_le_bytes());
            dir.join(format!("{:016x}.{EXTENSION}", persist::checksum(&key)))
        };
        match self {
            IndexCache::Off => None,
            IndexCache::Auto => scanned.then(|| auto_dir().map(|d| in_dir(&d))).flatten(),
            IndexCache::Dir(d) => Some(in_dir(d)),
            IndexCache::Beside => {
                let mut name = canonical.into_os_string();
                if !default_track {
                    name.push(format!(".{track}"));
                }
                name.push(format!(".{EXTENSION}"));
                Some(PathBuf::from(name))
            }
        }
    }
}

/// The saved index at `place` if its tag is `tag`: `Err(None)` where there is none,
/// `Err(Some(why))` where there is one that cannot be used.
#[allow(clippy::type_complexity)]
fn read_saved(
    place: &Path,
    tag: &[u8],
    track: &crate::Track,
    container: Container,
) -> std::result::Result<(FrameIndex, Option<crate::SeekPoints>), Option<String>> {
    let mut file = match std::fs::File::open(place) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("cannot be read: {e}"))),
    };
    let mut bytes = Vec::new();
    if let Err(e) = (&mut file).take(MAX_INDEX_BYTES).read_to_end(&mut bytes) {
        return Err(Some(format!("cannot be read: {e}")));
    }
    let saved = persist::identity(&bytes).map_err(|u| Some(u.0.to_string()))?;
    if saved != tag {
        return Err(Some(Identity::difference(saved, tag)));
    }
    persist::decode(&bytes, track.clone(), container).map_err(|u| Some(u.0.to_string()))
}

/// What a saved index is tagged with: the file, the track and the library.
#[derive(Debug, Clone)]
struct Identity {
    lines: Vec<(&'static str, String)>,
    /// When the file was last modified, against when its identity was taken.
    modified_ago: Option<Duration>,
}

impl Identity {
    fn of(path: &Path, track: usize, t: &crate::Track, container: Container) -> std::io::Result<Identity> {
        let canonical = std::fs::canonicalize(path)?;
        let mut file = std::fs::File::open(&canonical)?;
        let meta = file.metadata()?;
        let modified = meta.modified().ok();
        let mtime_ns = modified.and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let (ino, dev) = inode(&meta);
        let fingerprint = fingerprint(&mut file, meta.len())?;
        let lines = vec![
            ("library", format!("video-hw {} index {FORMAT_VERSION}", env!("CARGO_PKG_VERSION"))),
            ("path", canonical.display().to_string()),
            ("size", meta.len().to_string()),
            ("mtime_ns", mtime_ns.to_string()),
            ("inode", format!("{dev}:{ino}")),
            ("content", format!("{fingerprint:016x}")),
            ("container", container.name().to_string()),
            ("track", format!("{track} {:016x}", persist::checksum(format!("{t:?}").as_bytes()))),
        ];
        let modified_ago = modified.and_then(|m| SystemTime::now().duration_since(m).ok());
        Ok(Identity { lines, modified_ago })
    }

    /// The file was modified too recently for its size and time to tell another write.
    fn racy(&self) -> bool {
        self.modified_ago.is_none_or(|d| d < Duration::from_secs(RACY_SECONDS))
    }

    /// The tag's bytes: one `name value` line each.
    fn tag(&self) -> Vec<u8> {
        self.lines.iter().map(|(k, v)| format!("{k} {v}\n")).collect::<String>().into_bytes()
    }

    /// Which lines of two tags differ, for the log and [`CacheUse::Built::stale`].
    fn difference(saved: &[u8], now: &[u8]) -> String {
        let saved = String::from_utf8_lossy(saved);
        let now = String::from_utf8_lossy(now);
        let mut differ: Vec<&str> = Vec::new();
        for (a, b) in saved.lines().zip(now.lines()) {
            if a != b {
                differ.push(b.split(' ').next().unwrap_or(""));
            }
        }
        if differ.is_empty() {
            return "saved for another file".to_string();
        }
        format!("the file or library changed since it was saved ({})", differ.join(", "))
    }
}

impl PartialEq for Identity {
    fn eq(&self, other: &Self) -> bool {
        self.lines == other.lines
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.ino(), meta.dev())
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// A hash of the file's first and last [`FINGERPRINT_BYTES`] (the whole file when it is
/// smaller than both).
fn fingerprint(file: &mut std::fs::File, len: u64) -> std::io::Result<u64> {
    let mut buf = Vec::with_capacity(2 * FINGERPRINT_BYTES as usize);
    file.seek(SeekFrom::Start(0))?;
    (&mut *file).take(FINGERPRINT_BYTES).read_to_end(&mut buf)?;
    let tail = len.saturating_sub(FINGERPRINT_BYTES).max(buf.len() as u64);
    file.seek(SeekFrom::Start(tail))?;
    (&mut *file).take(FINGERPRINT_BYTES).read_to_end(&mut buf)?;
    Ok(persist::checksum(&buf))
}

/// Keeps a cache directory under `limit` bytes: past it, the oldest saved indexes go
/// until three quarters are left. Temporary files of writers that died go after an hour.
pub(crate) fn prune(dir: &Path, limit: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let now = SystemTime::now();
    let mut files: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        let modified = meta.modified().unwrap_or(now);
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            if now.duration_since(modified).is_ok_and(|d| d > Duration::from_secs(3600)) {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        if meta.is_file() && path.extension().is_some_and(|x| x == EXTENSION) {
            files.push((modified, meta.len(), path));
        }
    }
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    if total <= limit {
        return;
    }
    files.sort();
    for (_, len, path) in files {
        if total <= limit / 4 * 3 {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_directory_drops_its_oldest_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for i in 0..8u64 {
            let p = dir.path().join(format!("{i:016x}.{EXTENSION}"));
            std::fs::write(&p, vec![0u8; 1000]).unwrap();
            let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            f.set_modified(now - Duration::from_secs(100 - i)).unwrap();
        }
        // Not ours: kept whatever its size.
        std::fs::write(dir.path().join("other.bin"), vec![0u8; 5000]).unwrap();
        prune(dir.path(), 8000);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 9, "under the limit: nothing goes");
        prune(dir.path(), 7999);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        left.sort();
        // Down to three quarters of the limit (5,999 bytes): the oldest go until 5 are left.
        assert_eq!(left.len(), 6, "{left:?}");
        assert!(left.contains(&"other.bin".to_string()));
        assert!(left.contains(&format!("{:016x}.{EXTENSION}", 7)), "the newest stays: {left:?}");
        assert!(!left.contains(&format!("{:016x}.{EXTENSION}", 0)), "the oldest goes: {left:?}");
    }

    /// An AVI fixture copied into `dir` (an hour old), its `idx1` renamed `JUNK` when
    /// `cut_idx1` (so that its open walks the `movi` list).
    fn avi_copy(dir: &Path, cut_idx1: bool) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/media/h264-aac.avi");
        let mut bytes = std::fs::read(src).unwrap();
        if cut_idx1 {
            let at = bytes.windows(4).rposition(|w| w == b"idx1").unwrap();
            bytes[at..at + 4].copy_from_slice(b"JUNK");
        }
        let file = dir.join(if cut_idx1 { "walked.avi" } else { "indexed.avi" });
        std::fs::write(&file, &bytes).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
        file
    }

    /// The default video track's index of `file` under [`IndexCache::Auto`], its directory
    /// `cache`.
    fn auto(file: &Path, cache: &Path) -> (FrameIndex, CacheUse) {
        let mut d = Demuxer::open(file).unwrap();
        let track = d.video_track().unwrap().index;
        IndexCache::Auto.index_in(&mut d, track, file, || Some(cache.to_path_buf())).unwrap()
    }

    #[test]
    fn auto_saves_an_avi_index_only_where_the_movi_list_was_walked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let walked = avi_copy(dir.path(), true);
        assert!(Demuxer::open(&walked).unwrap().located_by_scan());
        let (built, used) = auto(&walked, &cache);
        assert_eq!(used, CacheUse::Built { stale: None, stored: true }, "no idx1: saved");
        let (back, used) = auto(&walked, &cache);
        assert_eq!(used, CacheUse::Hit, "no idx1: read back");
        assert_eq!(back.frames(), built.frames());
        assert_eq!(back.packets(), built.packets());
        assert!(built.len() > 10, "{} frames", built.len());

        // The same size and modification time, other content (a byte of the JUNK before
        // the movi list): only the content hash tells, and the index is made again.
        let before = std::fs::metadata(&walked).unwrap().modified().unwrap();
        let mut bytes = std::fs::read(&walked).unwrap();
        let junk = bytes.windows(4).position(|w| w == b"JUNK").unwrap();
        bytes[junk + 8] ^= 0x5a;
        std::fs::write(&walked, &bytes).unwrap();
        std::fs::OpenOptions::new().write(true).open(&walked).unwrap().set_modified(before).unwrap();
        let (again, used) = auto(&walked, &cache);
        match &used {
            CacheUse::Built { stale: Some(why), stored: true } => assert!(why.contains("content"), "{why}"),
            other => panic!("changed file: {other:?}"),
        }
        assert_eq!(again.frames(), built.frames());
        assert_eq!(auto(&walked, &cache).1, CacheUse::Hit, "the remade index is saved");

        // With its idx1 the file's own index is read as fast: nothing saved.
        let indexed = avi_copy(dir.path(), false);
        assert!(!Demuxer::open(&indexed).unwrap().located_by_scan());
        let before = std::fs::read_dir(&cache).unwrap().count();
        let (from_idx1, used) = auto(&indexed, &cache);
        assert_eq!(used, CacheUse::Off, "idx1: not saved");
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), before, "nothing written for it");
        assert_eq!(from_idx1.len(), built.len(), "idx1 and the walk index the same frames");
    }

    #[test]
    fn settings_by_name() {
        assert_eq!(IndexCache::parse("off"), IndexCache::Off);
        assert_eq!(IndexCache::parse(" 0 "), IndexCache::Off);
        assert_eq!(IndexCache::parse("AUTO"), IndexCache::Auto);
        assert_eq!(IndexCache::parse("beside"), IndexCache::Beside);
        assert_eq!(IndexCache::parse("/tmp/x"), IndexCache::Dir("/tmp/x".into()));
    }

    #[test]
    fn a_variables_value_names_a_setting() {
        assert_eq!(IndexCache::from_value(None), IndexCache::Auto);
        assert_eq!(IndexCache::from_value(Some(OsStr::new("off"))), IndexCache::Off);
        assert_eq!(IndexCache::from_value(Some(OsStr::new("beside"))), IndexCache::Beside);
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let not_utf8 = OsStr::from_bytes(b"/tmp/\xff");
            assert_eq!(IndexCache::from_value(Some(not_utf8)), IndexCache::Dir(PathBuf::from(not_utf8)));
        }
    }
}
