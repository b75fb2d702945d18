//! Finding and opening FFmpeg's libraries at run time.
//!
//! Where, in this order (the first set that loads wins; every place tried is reported by
//! `video-hw probe`):
//! 1. `VIDEO_HW_FFMPEG_DIR`: only that folder (`none` or `off` turns the FFmpeg engines
//!    off; empty is unset; read by [`crate::env`]);
//! 2. the dynamic loader's own search: `libavcodec.so.63` down to `.so.59`;
//! 3. folders added by [`add_search_dir`]: the Python package adds the libraries a PyAV
//!    wheel bundles (`site-packages/av.libs/`, names such as `libavcodec-1a2b3c4d.so.62`).
//!
//! A set is refused, with the reason, when its libavcodec major is not one of the layout
//! tables, when libavutil of the matching major is missing, when a library reports
//! another version than its file name says, or when loading it in a child process
//! crashes or hangs (so a broken library is a refusal, never a crash of this process). A
//! set that loaded cleanly in a child is remembered on disk (`load_verdict`), and later
//! processes load it without the child.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use libloading::Library;

use super::layout::Layout;
use crate::env::FfmpegSearch;

/// The environment variable naming the folder FFmpeg's libraries are taken from, or
/// `none` to turn the FFmpeg engines off.
pub const DIR_ENV: &str = "VIDEO_HW_FFMPEG_DIR";

/// Folders searched after the loader's own search.
static EXTRA_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Adds a folder to search for FFmpeg's libraries after the loader's own search; it
/// counts only when added before the engine's first use in the process.
pub fn add_search_dir(dir: PathBuf) {
    let mut dirs = EXTRA_DIRS.lock().unwrap_or_else(|p| p.into_inner());
    if !dirs.contains(&dir) {
        dirs.push(dir);
    }
}

/// The libavutil and libswscale majors released with each libavcodec major.
pub(crate) fn companion_majors(avcodec: u32) -> Option<(u32, u32)> {
    Some(match avcodec {
        59 => (57, 6),
        60 => (58, 7),
        61 => (59, 8),
        62 => (60, 9),
        63 => (61, 10),
        _ => return None,
    })
}

/// The FFmpeg release of a libavcodec major, for messages.
pub(crate) fn release_of(avcodec: u32) -> &'static str {
    match avcodec {
        58 => "4.x",
        59 => "5.x",
        60 => "6.x",
        61 => "7.x",
        62 => "8.x",
        63 => "9.x",
        _ => "unknown",
    }
}

/// One library set found and opened.
pub(crate) struct Opened {
    /// libavcodec.
    pub avcodec: Library,
    /// libavutil.
    pub avutil: Library,
    /// libswscale, where present (only odd pixel layouts need it).
    pub swscale: Option<Library>,
    /// Bundled libraries loaded before them (their dependencies from the same folder).
    pub deps: Vec<Library>,
    /// Where libavcodec was taken from (a path, or the soname the loader found).
    pub avcodec_path: String,
    /// Its major.
    pub major: u32,
    /// Where it was found: "VIDEO_HW_FFMPEG_DIR", "the loader's search path", "…".
    pub place: String,
}

/// The outcome of the search: the set opened, or none, with every place tried.
pub(crate) struct Search {
    /// The set opened.
    pub opened: Option<Opened>,
    /// Each place tried and why it was not taken ("…: ok" for the one taken).
    pub tried: Vec<String>,
    /// Set when the search was turned off, with the reason.
    pub disabled: Option<String>,
}

/// Runs the search (see the module's documentation).
pub(crate) fn search() -> Search {
    let mut tried = Vec::new();
    match &crate::env::settings().ffmpeg_dir {
        FfmpegSearch::System => {}
        FfmpegSearch::Off => {
            let why = format!("turned off by {DIR_ENV}=none");
            return Search { opened: None, tried: vec![why.clone()], disabled: Some(why) };
        }
        FfmpegSearch::Dir(dir) => {
            let place = format!("{DIR_ENV}={}", dir.display());
            let opened = search_dir(dir, &place, &mut tried);
            if opened.is_none() && tried.is_empty() {
                tried.push(format!("{place}: no libavcodec there"));
            }
            return Search { opened, tried, disabled: None };
        }
    }
    let majors: Vec<u32> = Layout::known_majors().collect();
    // The loader's folders, read once (its configuration files) for every major, and only if needed.
    let mut loader_dirs = None;
    for &major in majors.iter().rev() {
        let name = soname("avcodec", major);
        let place = "the loader's search path".to_string();
        // Only names the loader finds are tried; one it cannot find is not a refusal.
        if !loader_finds(&name, &mut loader_dirs) {
            continue;
        }
        let (util, scale) = companion_majors(major).expect("every known major has companions");
        let set = Candidate {
            avcodec: PathBuf::from(&name),
            avutil: PathBuf::from(soname("avutil", util)),
            swscale: Some(PathBuf::from(soname("swscale", scale))),
            preload: Vec::new(),
            major,
        };
        match open_set(&set, &place) {
            Ok(opened) => {
                tried.push(format!("{name} ({place}): ok"));
                return Search { opened: Some(opened), tried, disabled: None };
            }
            Err(why) => tried.push(format!("{name} ({place}): {why}")),
        }
    }
    if tried.is_empty() {
        tried.push(format!(
            "the loader's search path: no {} found",
            majors.iter().rev().map(|&m| soname("avcodec", m)).collect::<Vec<_>>().join(", ")
        ));
    }
    let extra = EXTRA_DIRS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for dir in extra {
        let place = dir.display().to_string();
        let before = tried.len();
        if let Some(opened) = search_dir(&dir, &place, &mut tried) {
            return Search { opened: Some(opened), tried, disabled: None };
        }
        if tried.len() == before {
            tried.push(format!("{place}: no libavcodec there"));
        }
    }
    Search { opened: None, tried, disabled: None }
}

/// The platform's file name of library `lib` (without `lib`) of `major`.
fn soname(lib: &str, major: u32) -> String {
    if cfg!(target_os = "macos") {
        format!("lib{lib}.{major}.dylib")
    } else if cfg!(windows) {
        format!("{lib}-{major}.dll")
    } else {
        format!("lib{lib}.so.{major}")
    }
}

/// Whether the dynamic loader finds `name` (checked without running its initialisers
/// in this process: the child that opens it does). `dirs` caches the loader's folders
/// between calls.
fn loader_finds(name: &str, dirs: &mut Option<Vec<PathBuf>>) -> bool {
    #[cfg(target_os = "linux")]
    {
        // RTLD_NOLOAD first: already loaded (by the Python process, say) counts.
        // SAFETY: RTLD_NOLOAD never loads or initialises a library; it only looks.
        let loaded = unsafe {
            let c = std::ffi::CString::new(name).unwrap_or_default();
            let h = libc::dlopen(c.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD);
            if !h.is_null() {
                libc::dlclose(h);
            }
            !h.is_null()
        };
        if loaded {
            return true;
        }
        let places = dirs.get_or_insert_with(loader_dirs);
        places.iter().any(|d| d.join(name).exists())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (name, dirs);
        true
    }
}

/// The folders the dynamic loader searches, in its order: `LD_LIBRARY_PATH`, then those
/// its configuration names, then its defaults.
#[cfg(target_os = "linux")]
fn loader_dirs() -> Vec<PathBuf> {
    let paths = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
    let mut places: Vec<PathBuf> = paths.split(':').filter(|d| !d.is_empty()).map(PathBuf::from).collect();
    for d in ld_conf_dirs(Path::new("/etc/ld.so.conf"), 0).into_iter().chain(default_dirs()) {
        if !places.contains(&d) {
            places.push(d);
        }
    }
    places
}

/// The file a library path stands for: itself when it names a folder, else (a bare name
/// the loader searches for) the first of the loader's folders that holds it; `None` where
/// that is not known (then no verdict about the set is trusted or kept). `dirs` caches the
/// loader's folders between calls, as for [`loader_finds`].
fn file_of(path: &Path, dirs: &mut Option<Vec<PathBuf>>) -> Option<PathBuf> {
    if path.is_absolute() {
        return Some(path.to_path_buf());
    }
    #[cfg(target_os = "linux")]
    {
        dirs.get_or_insert_with(loader_dirs).iter().map(|d| d.join(path)).find(|p| p.is_file())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dirs;
        None
    }
}

/// The folders a loader configuration file names (`/etc/ld.so.conf` and the files its
/// `include` lines name, as ldconfig reads them), read directly: running `ldconfig -p`
/// took a process of its own, 10-40 ms of every process's first open.
#[cfg(target_os = "linux")]
fn ld_conf_dirs(file: &Path, depth: u32) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    // Includes nest rarely; a loop of them ends here.
    let Ok(text) = std::fs::read_to_string(file) else { return dirs };
    if depth > 4 {
        return dirs;
    }
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(pattern) = line.strip_prefix("include").filter(|r| r.starts_with([' ', '\t'])) {
            for f in conf_glob(pattern.trim(), file.parent().unwrap_or(Path::new("/"))) {
                dirs.extend(ld_conf_dirs(&f, depth + 1));
            }
        } else if line.starts_with('/') {
            dirs.push(PathBuf::from(line));
        }
    }
    dirs
}

/// The files an `include` pattern names: a path, or `*` within its last part (the form
/// distributions use: `/etc/ld.so.conf.d/*.conf`), in name order, as ldconfig reads them.
#[cfg(target_os = "linux")]
fn conf_glob(pattern: &str, base: &Path) -> Vec<PathBuf> {
    let path = base.join(pattern);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let Some((head, tail)) = name.split_once('*') else { return vec![path.clone()] };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.len() >= head.len() + tail.len() && n.starts_with(head) && n.ends_with(tail))
        })
        .collect();
    files.sort();
    files
}

/// The loader's default folders (Debian's multiarch folders included).
#[cfg(target_os = "linux")]
fn default_dirs() -> Vec<PathBuf> {
    let arch = std::env::consts::ARCH;
    [
        format!("/usr/lib/{arch}-linux-gnu"),
        format!("/lib/{arch}-linux-gnu"),
        "/usr/lib".into(),
        "/lib".into(),
        "/usr/lib64".into(),
        "/lib64".into(),
        "/usr/local/lib".into(),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect()
}

/// A library set to try.
struct Candidate {
    avcodec: PathBuf,
    avutil: PathBuf,
    swscale: Option<PathBuf>,
    /// Files of the same folder to load first, dependencies first (bundled libraries
    /// carry no run path: each must be loaded before what needs it).
    preload: Vec<PathBuf>,
    major: u32,
}

/// The major in a library file name: `libavcodec.so.61`, `libavcodec.so.61.19.100`,
/// `libavcodec-1a2b3c4d.so.62.11.100` (a PyAV wheel), `libavcodec.61.dylib`,
/// `avcodec-61.dll`.
pub(crate) fn major_in_name(file: &str, lib: &str) -> Option<u32> {
    let rest = file.strip_prefix("lib").unwrap_or(file).strip_prefix(lib)?;
    let digits = |s: &str| -> Option<u32> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        s[..end].parse().ok()
    };
    if let Some(i) = rest.find(".so.") {
        // Only `libavcodec.so.N` or `libavcodec-HASH.so.N` (not `libavcodec_foo`).
        let head = &rest[..i];
        if head.is_empty() || (head.starts_with('-') && head[1..].chars().all(|c| c.is_ascii_alphanumeric())) {
            return digits(&rest[i + 4..]);
        }
        return None;
    }
    if let Some(v) = rest.strip_prefix('.').and_then(|r| r.strip_suffix(".dylib")) {
        return digits(v);
    }
    if let Some(v) = rest.strip_prefix('-').and_then(|r| r.strip_suffix(".dll")) {
        return digits(v);
    }
    None
}

/// Looks for a library set in `dir`; records each refusal in `tried`.
fn search_dir(dir: &Path, place: &str, tried: &mut Vec<String>) -> Option<Opened> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            tried.push(format!("{place}: cannot read the folder: {e}"));
            return None;
        }
    };
    let mut files: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    files.sort();
    let find = |lib: &str, major: u32| files.iter().find(|f| major_in_name(f, lib) == Some(major)).map(|f| dir.join(f));
    // Newest major first; one file per major (the shortest name: the soname link).
    let mut codecs: Vec<(u32, &String)> =
        files.iter().filter_map(|f| major_in_name(f, "avcodec").map(|m| (m, f))).collect();
    codecs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.len().cmp(&b.1.len())));
    codecs.dedup_by_key(|c| c.0);
    for (major, file) in codecs {
        let path = dir.join(file);
        let Some((util, scale)) = companion_majors(major).filter(|_| Layout::for_major(major).is_some()) else {
            tried.push(format!(
                "{}: FFmpeg {} (libavcodec {major}) is not a major this build knows ({})",
                path.display(),
                release_of(major),
                known_range()
            ));
            continue;
        };
        let Some(avutil) = find("avutil", util) else {
            tried.push(format!("{}: no libavutil of major {util} beside it", path.display()));
            continue;
        };
        let swscale = find("swscale", scale);
        // Everything libavcodec needs from this folder (libavutil among it), in order;
        // libswscale's own needs come with it, later.
        let preload: Vec<PathBuf> =
            super::needed::load_order(dir, std::slice::from_ref(&path)).into_iter().filter(|p| *p != path).collect();
        let set = Candidate { avcodec: path.clone(), avutil, swscale, preload, major };
        match open_set(&set, place) {
            Ok(opened) => {
                tried.push(format!("{} ({place}): ok", path.display()));
                return Some(opened);
            }
            Err(why) => tried.push(format!("{} ({place}): {why}", path.display())),
        }
    }
    None
}

/// "libavcodec 59-63, FFmpeg 5.x-9.x".
pub(crate) fn known_range() -> String {
    let majors: Vec<u32> = Layout::known_majors().collect();
    match (majors.first(), majors.last()) {
        (Some(a), Some(b)) => format!("libavcodec {a}-{b}, FFmpeg {}-{}", release_of(*a), release_of(*b)),
        _ => "none".into(),
    }
}

/// Opens one set: first in a child process (a crash or hang there refuses the set), then
/// here.
fn open_set(set: &Candidate, place: &str) -> Result<Opened, String> {
    let mut paths = set.preload.clone();
    if !set.preload.contains(&set.avutil) {
        paths.push(set.avutil.clone());
    }
    paths.push(set.avcodec.clone());
    // One child loads the whole set, libswscale included (each child costs a fork and a
    // load of FFmpeg's hundred-odd dependencies, the most of a first open's time); only
    // when that fails is the set tried again without libswscale, which is optional.
    let with_swscale = set.swscale.as_ref().map(|p| paths.iter().cloned().chain([p.clone()]).collect::<Vec<_>>());
    let swscale_loads = match &with_swscale {
        Some(all) => match checked_in_child(all) {
            Ok(()) => true,
            Err(_) => {
                checked_in_child(&paths)?;
                false
            }
        },
        None => {
            checked_in_child(&paths)?;
            false
        }
    };
    let open = |p: &Path| -> Result<Library, String> {
        // SAFETY: loading runs the library's initialisers; a child process has just
        // loaded the same files without crashing (`loads_in_child`), and FFmpeg's
        // libraries are made to be loaded by applications.
        unsafe { Library::new(p) }.map_err(|e| format!("does not load: {e}"))
    };
    // Loaded in order: each one's needs are loaded before it (libavutil may be among them;
    // opening it again below gives the same library).
    let deps = set.preload.iter().map(|p| open(p)).collect::<Result<Vec<_>, _>>()?;
    let avutil = open(&set.avutil)?;
    let avcodec = open(&set.avcodec)?;
    // libswscale is optional: a failure only leaves odd pixel layouts unconverted.
    let swscale = set.swscale.as_ref().filter(|_| swscale_loads).and_then(|p| open(p).ok());
    Ok(Opened {
        avcodec,
        avutil,
        swscale,
        deps,
        avcodec_path: set.avcodec.display().to_string(),
        major: set.major,
        place: place.to_string(),
    })
}

/// [`loads_in_child`], unless a child loaded the same set cleanly before (in this or an
/// earlier process: `load_verdict`), which is then remembered.
fn checked_in_child(paths: &[PathBuf]) -> Result<(), String> {
    // The verdict is about files: bare names (the loader's own search) are resolved first.
    let mut dirs = None;
    let files: Option<Vec<PathBuf>> = paths.iter().map(|p| file_of(p, &mut dirs)).collect();
    if files.as_deref().is_some_and(super::load_verdict::known_good) {
        return Ok(());
    }
    loads_in_child(paths)?;
    if let Some(files) = files {
        super::load_verdict::remember_good(&files);
    }
    Ok(())
}

/// How long a child may take to load a library set.
const CHILD_TIMEOUT: Duration = Duration::from_secs(20);

/// Loads `paths` in a child process (fork, dlopen, exit): `Err` when that crashes, hangs
/// or fails. Unix only; elsewhere the set is trusted.
fn loads_in_child(paths: &[PathBuf]) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::ffi::CString;
        let names: Vec<CString> = paths
            .iter()
            .map(|p| CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| "a NUL in the path".to_string()))
            .collect::<Result<_, _>>()?;
        // The child writes the loader's message (dlerror) here when a load fails.
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` is a valid two-int array for pipe(2).
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Ok(());
        }
        let (read_fd, write_fd) = (fds[0], fds[1]);
        // SAFETY: the child only calls dlopen, dlerror, write and _exit, then never
        // returns into Rust; everything it touches was allocated before the fork. glibc
        // makes malloc and the loader's locks usable in a forked child.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            // SAFETY: closes the pipe this function opened.
            unsafe {
                libc::close(read_fd);
                libc::close(write_fd);
            }
            // No child: trust the set rather than refuse a working FFmpeg.
            return Ok(());
        }
        if pid == 0 {
            for name in &names {
                // SAFETY: see above; a crash here ends the child only.
                let h = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL) };
                if h.is_null() {
                    // SAFETY: dlerror's text is NUL-terminated; write and _exit are
                    // async-signal-safe; the child ends at once, running nothing of the
                    // parent's.
                    unsafe {
                        let e = libc::dlerror();
                        if !e.is_null() {
                            libc::write(write_fd, e.cast(), libc::strlen(e));
                        }
                        libc::_exit(3);
                    }
                }
            }
            // SAFETY: as above.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: the parent's copy of the write end is not used.
        unsafe { libc::close(write_fd) };
        let message = |fd: libc::c_int| {
            let mut buf = vec![0u8; 4096];
            // SAFETY: reads at most the buffer's length into it; the child has exited, so
            // the read ends at once; the read end is closed after.
            let n = unsafe {
                let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
                libc::close(fd);
                n
            };
            buf.truncate(usize::try_from(n).unwrap_or(0));
            String::from_utf8_lossy(&buf).into_owned()
        };
        let start = Instant::now();
        loop {
            let mut status = 0;
            // SAFETY: waits for our own child; `status` is a valid out-pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                    message(read_fd);
                    return Ok(());
                }
                if libc::WIFSIGNALED(status) {
                    message(read_fd);
                    return Err(format!("crashed while loading (signal {}), refused", libc::WTERMSIG(status)));
                }
                let why = message(read_fd);
                return Err(if why.is_empty() { "does not load".into() } else { format!("does not load: {why}") });
            }
            if r < 0 {
                // The child was reaped elsewhere (a SIGCHLD handler): no verdict.
                message(read_fd);
                return Ok(());
            }
            if start.elapsed() > CHILD_TIMEOUT {
                // SAFETY: kills and reaps our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                message(read_fd);
                return Err(format!("loading hung for {} s, refused", CHILD_TIMEOUT.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    #[cfg(not(unix))]
    {
        let _ = paths;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_are_read_from_every_kind_of_file_name() {
        assert_eq!(major_in_name("libavcodec.so.59", "avcodec"), Some(59));
        assert_eq!(major_in_name("libavcodec.so.61.19.100", "avcodec"), Some(61));
        assert_eq!(major_in_name("libavcodec-0a1b2c3d.so.62.11.100", "avcodec"), Some(62));
        assert_eq!(major_in_name("libavcodec.61.dylib", "avcodec"), Some(61));
        assert_eq!(major_in_name("avcodec-60.dll", "avcodec"), Some(60));
        assert_eq!(major_in_name("libavutil.so.57", "avutil"), Some(57));
        assert_eq!(major_in_name("libavcodec.so", "avcodec"), None);
        assert_eq!(major_in_name("libavcodec_extra.so.59", "avcodec"), None);
        assert_eq!(major_in_name("libavutil.so.57", "avcodec"), None);
    }

    #[test]
    fn every_known_major_has_companions() {
        for m in Layout::known_majors() {
            assert!(companion_majors(m).is_some(), "{m}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_loader_configuration_is_read_with_its_includes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("conf.d")).unwrap();
        std::fs::write(d.join("ld.so.conf"), "# comment\n/opt/first\ninclude conf.d/*.conf\n").unwrap();
        std::fs::write(d.join("conf.d/b.conf"), "/opt/b # trailing\n").unwrap();
        std::fs::write(d.join("conf.d/a.conf"), "/opt/a\ninclude ../ld.so.conf\n").unwrap();
        std::fs::write(d.join("conf.d/skip.txt"), "/opt/not-read\n").unwrap();
        let dirs = ld_conf_dirs(&d.join("ld.so.conf"), 0);
        // Files in name order; an include loop ends at the depth limit, never recursing forever.
        assert_eq!(dirs[0], PathBuf::from("/opt/first"));
        assert_eq!(dirs[1], PathBuf::from("/opt/a"));
        assert!(dirs.contains(&PathBuf::from("/opt/b")));
        assert!(!dirs.contains(&PathBuf::from("/opt/not-read")));
        assert!(ld_conf_dirs(&d.join("missing.conf"), 0).is_empty());
    }

    /// A verdict is kept about files: a bare name is the file the loader would find.
    #[cfg(target_os = "linux")]
    #[test]
    fn bare_names_resolve_to_the_loader_s_file() {
        let mut dirs = None;
        let libc = file_of(Path::new("libc.so.6"), &mut dirs).expect("the loader finds libc.so.6");
        assert!(libc.is_absolute() && libc.is_file(), "{}", libc.display());
        assert_eq!(file_of(&libc, &mut dirs), Some(libc.clone()));
        assert_eq!(file_of(Path::new("libno-such-library.so.1"), &mut dirs), None);
    }
}
