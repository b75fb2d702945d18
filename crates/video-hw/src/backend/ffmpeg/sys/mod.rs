//! FFmpeg's libraries, loaded at run time: no header, pkg-config or library is needed to
//! build, and one build runs with FFmpeg 5.1, 6.x, 7.x, 8.x and 9.x (libavcodec 59-63).
//!
//! - `load.rs`: where the libraries are looked for, and the checks before one is used.
//! - `fns.rs`: the entry points, resolved once.
//! - `layout.rs`, `layouts.rs`: where the fields used lie in each major's structs
//!   (measured by the C compiler from each major's headers; `layouts.rs` is generated).
//! - `audio.rs`: the audio fields of codec contexts and frames (rate, channels, samples).
//! - `buffers.rs`: decoded pictures in buffers of this crate's, lent out without a copy.
//! - `frame.rs`, `codec.rs`, `scale.rs`: small owners of FFmpeg objects (frames, packets,
//!   codec contexts, scalers) that free them on drop and read their fields through the
//!   layout of the loaded major.
//!
//! The loaded libraries stay loaded for the life of the process.

pub(crate) mod audio;
pub(crate) mod buffers;
pub(crate) mod codec;
pub(crate) mod fns;
pub(crate) mod frame;
pub(crate) mod layout;
#[rustfmt::skip]
mod layouts;
pub(crate) mod load;
mod load_verdict;
mod needed;
pub(crate) mod scale;

use std::ffi::{CStr, CString, c_int, c_void};
use std::sync::OnceLock;

use libloading::Library;

pub(crate) use self::fns::Fns;
use self::layout::Layout;

/// `AV_NOPTS_VALUE`.
pub(crate) const NOPTS: i64 = i64::MIN;

/// The loaded FFmpeg: its entry points, the layouts of its major, and where it came from.
pub(crate) struct Ffmpeg {
    /// The entry points.
    pub fns: Fns,
    /// Field offsets of the loaded major.
    pub layout: &'static Layout,
    /// `avcodec_version()`: major << 16 | minor << 8 | micro.
    pub avcodec_version: u32,
    /// `av_version_info()`, e.g. "5.1.6-0+deb12u1".
    pub release: String,
    /// Where libavcodec was loaded from.
    pub path: String,
    /// How it was found.
    pub place: String,
    /// Whether libswscale was found (odd pixel layouts need it).
    pub has_swscale: bool,
    /// Keeps the libraries loaded for the pointers above.
    _libs: Vec<Library>,
}

/// What the search for FFmpeg found, for `video-hw probe`.
#[derive(Debug, Clone)]
pub(crate) struct Status {
    /// "FFmpeg 5.1.6 (libavcodec 59.37.100) from /usr/lib/…/libavcodec.so.59", or why none.
    pub summary: String,
    /// Each place tried, in order, and what came of it.
    pub tried: Vec<String>,
    /// Whether an FFmpeg is loaded.
    pub loaded: bool,
    /// The loaded libavcodec's version: major, minor, micro.
    pub libavcodec: Option<(u32, u32, u32)>,
}

static LOADED: OnceLock<(Result<Ffmpeg, String>, Vec<String>)> = OnceLock::new();

/// The process's FFmpeg, loaded on first use; `Err` says why there is none. A failure is
/// remembered: the search is not run again.
pub(crate) fn get() -> Result<&'static Ffmpeg, &'static str> {
    match &loaded().0 {
        Ok(f) => Ok(f),
        Err(why) => Err(why.as_str()),
    }
}

/// What the search found.
pub(crate) fn status() -> Status {
    let (result, tried) = loaded();
    let summary = match result {
        Ok(f) => {
            let scale = if f.has_swscale {
                ""
            } else {
                "; no libswscale beside it (4:2:2, 4:4:4 and 4:0:0 pictures are refused)"
            };
            format!("{} from {} ({}){scale}", f.version_string(), f.path, f.place)
        }
        Err(why) => why.clone(),
    };
    let libavcodec = result.as_ref().ok().map(|f| {
        let v = f.avcodec_version;
        (v >> 16, (v >> 8) & 0xff, v & 0xff)
    });
    Status { summary, tried: tried.clone(), loaded: result.is_ok(), libavcodec }
}

fn loaded() -> &'static (Result<Ffmpeg, String>, Vec<String>) {
    LOADED.get_or_init(|| {
        let search = load::search();
        let mut tried = search.tried;
        let result = match (search.opened, search.disabled) {
            (_, Some(why)) => Err(why),
            (Some(opened), None) => {
                let path = opened.avcodec_path.clone();
                let result = Ffmpeg::new(opened);
                if let Err(why) = &result {
                    // The set loaded but failed its checks: say so in the list too.
                    if let Some(last) = tried.last_mut() {
                        *last = format!("{path}: {why}");
                    }
                }
                result
            }
            (None, None) => Err(format!(
                "no FFmpeg found ({}): install FFmpeg's libraries (apt install libavcodec59, or 'pip install av' for Python), or set {}",
                load::known_range(),
                load::DIR_ENV
            )),
        };
        (result, tried)
    })
}

impl Ffmpeg {
    /// Resolves the entry points of an opened set and checks it.
    fn new(opened: load::Opened) -> Result<Ffmpeg, String> {
        let layout =
            Layout::for_major(opened.major).ok_or_else(|| format!("no layout for libavcodec {}", opened.major))?;
        let fns = Fns::resolve(&fns::Libs {
            avutil: &opened.avutil,
            avcodec: &opened.avcodec,
            swscale: opened.swscale.as_ref(),
        })?;
        // SAFETY: version queries take no arguments and return integers.
        let (codec_v, util_v) = unsafe { ((fns.avcodec_version)(), (fns.avutil_version)()) };
        if codec_v >> 16 != layout.avcodec_major || util_v >> 16 != layout.avutil_major {
            return Err(format!(
                "the file says libavcodec {} but the library reports libavcodec {}.{}.{} with libavutil {}.{}.{}: refused",
                layout.avcodec_major,
                codec_v >> 16,
                (codec_v >> 8) & 0xff,
                codec_v & 0xff,
                util_v >> 16,
                (util_v >> 8) & 0xff,
                util_v & 0xff
            ));
        }
        // SAFETY: av_version_info returns a static NUL-terminated string.
        let release = unsafe { CStr::from_ptr((fns.av_version_info)()) }.to_string_lossy().into_owned();
        let has_swscale = fns.sws_getContext.is_some()
            && fns.sws_scale.is_some()
            && fns.sws_freeContext.is_some()
            && fns.sws_getColorspaceDetails.is_some()
            && fns.sws_setColorspaceDetails.is_some();
        let mut libs = vec![opened.avcodec, opened.avutil];
        libs.extend(opened.swscale);
        libs.extend(opened.deps);
        let ff = Ffmpeg {
            fns,
            layout,
            avcodec_version: codec_v,
            release,
            path: opened.avcodec_path,
            place: opened.place,
            has_swscale,
            _libs: libs,
        };
        ff.check_layout()?;
        ff.init_logging();
        Ok(ff)
    }

    /// "FFmpeg 5.1.6-0+deb12u1, libavcodec 59.37.100".
    pub(crate) fn version_string(&self) -> String {
        format!("FFmpeg {}, {}", self.release, self.libavcodec_version())
    }

    /// "libavcodec 59.37.100".
    pub(crate) fn libavcodec_version(&self) -> String {
        let v = self.avcodec_version;
        format!("libavcodec {}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
    }

    /// Silences FFmpeg's own stderr logging unless `VIDEO_HW_FFMPEG_LOG` names a level: a
    /// library must not write to stderr, and every failure reaches the caller as a typed
    /// error anyway.
    fn init_logging(&self) {
        let level = crate::env::settings().ffmpeg_log.unwrap_or(-8);
        // SAFETY: sets a global integer in libavutil.
        unsafe { (self.fns.av_log_set_level)(level) };
    }

    /// Checks the layout table against the library: every `AVCodecContext` field that is
    /// also an AVOption must lie where the option table says.
    fn check_layout(&self) -> Result<(), String> {
        // SAFETY: a context of no codec is valid to allocate, inspect and free.
        let ctx = unsafe { (self.fns.avcodec_alloc_context3)(std::ptr::null()) };
        if ctx.is_null() {
            return Err("avcodec_alloc_context3 failed".into());
        }
        let mut wrong = Vec::new();
        for (name, field) in self.layout.option_fields() {
            let Some(field) = field else { continue };
            let Ok(cname) = CString::new(name) else { continue };
            // SAFETY: `ctx` is a live AVCodecContext (an AVClass object); the name is a
            // NUL-terminated string.
            let opt = unsafe { (self.fns.av_opt_find)(ctx.cast(), cname.as_ptr(), std::ptr::null(), 0, 0) };
            if opt.is_null() {
                continue;
            }
            let off = self.layout.option.offset.expect("AVOption.offset is measured for every major");
            // SAFETY: `opt` points to a static AVOption of the loaded major's layout.
            let at: c_int = unsafe { layout::read(opt.cast::<c_void>(), off) };
            if usize::try_from(at).ok() != Some(field) {
                wrong.push(format!("{name}: option at {at}, table at {field}"));
            }
        }
        let mut p = ctx;
        // SAFETY: frees the context allocated above.
        unsafe { (self.fns.avcodec_free_context)(&mut p) };
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "AVCodecContext's layout differs from libavcodec {}'s ({}): refused",
                self.layout.avcodec_major,
                wrong.join(", ")
            ))
        }
    }

    /// The numeric value of the pixel format named `name` in the loaded major (values
    /// differ between majors; names do not). `None` if this FFmpeg lacks it.
    pub(crate) fn pix_fmt(&self, name: &str) -> Option<c_int> {
        let c = CString::new(name).ok()?;
        // SAFETY: takes a NUL-terminated name and returns an integer.
        let v = unsafe { (self.fns.av_get_pix_fmt)(c.as_ptr()) };
        (v >= 0).then_some(v)
    }

    /// The name of pixel format `fmt` ("?" when unknown).
    pub(crate) fn pix_fmt_name(&self, fmt: c_int) -> &'static str {
        // SAFETY: returns a static NUL-terminated name, or null.
        let p = unsafe { (self.fns.av_get_pix_fmt_name)(fmt) };
        if p.is_null() {
            return "?";
        }
        // SAFETY: non-null: a static string in libavutil, loaded for the process's life.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?")
    }

    /// The numeric hardware device type named `name` ("vaapi", "qsv", …), if known.
    pub(crate) fn hw_device_type(&self, name: &str) -> Option<c_int> {
        let c = CString::new(name).ok()?;
        // SAFETY: takes a NUL-terminated name and returns an integer.
        let v = unsafe { (self.fns.av_hwdevice_find_type_by_name)(c.as_ptr()) };
        (v > 0).then_some(v)
    }
}

/// The environment variable that sets FFmpeg's own log level (`quiet`, `error`,
/// `warning`, `info`, `verbose`, `debug`, `trace`; read by [`crate::env`]); FFmpeg then
/// logs to stderr itself. Named in messages.
pub(crate) const LOG_ENV: &str = "VIDEO_HW_FFMPEG_LOG";
