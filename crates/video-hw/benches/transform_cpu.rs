//! The CPU transform against FFmpeg's swscale, in one run, on the same pictures.
//!
//! `cargo bench -p video-hw --bench transform_cpu [-- TEXT]` (TEXT: only the cases whose name
//! holds it, with no record written)
//!
//! swscale is the libswscale the FFmpeg engines load at run time (the search of
//! docs/ffmpeg.md: `VIDEO_HW_FFMPEG_DIR`, the loader's search, …), called through its C
//! API. Where no FFmpeg (or no libswscale beside it) is loaded, the bench says so and
//! measures nothing.
//!
//! Each case converts a 1080p (or 4K) picture many times with both, alternating rounds so
//! both see the same machine state; the clocks are `std::time::Instant` (monotonic wall time)
//! and the process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`, all its threads; what a shared
//! machine's other work disturbs less) around each conversion. swscale runs on one thread; ours on the calling thread, except
//! that a conversion at the source's size splits a large picture into bands of rows on up
//! to all the cores (`pixels/transform/rgb.rs`). The table gives medians per conversion and the
//! ratio ours / swscale (below 1.0: ours is faster). The run of record is written to
//! `bench/results/transform-cpu-DATE-COMMIT.md`.

mod common;

use std::time::Instant;

use video_hw::frame::HostFrame;
use video_hw::pixels::transform::{Filter, Transform, Transformer};
use video_hw::{Channels, ColorInfo, Frame, PixelFormat, SampleType};

const ROUNDS: usize = 15;
const PER_ROUND: usize = 20;

/// swscale's flags (libswscale/swscale.h; unchanged since FFmpeg 0.5).
const SWS_BILINEAR: i32 = 2;
const SWS_AREA: i32 = 0x20;

/// libswscale and libavutil, as the FFmpeg engines loaded them, through their C API.
mod sws {
    use std::ffi::{CString, c_char, c_int, c_uint, c_void};
    use std::path::PathBuf;

    type GetContext = unsafe extern "C" fn(
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        c_int,
        *mut c_void,
        *mut c_void,
        *const f64,
    ) -> *mut c_void;
    type Scale = unsafe extern "C" fn(
        *mut c_void,
        *const *const u8,
        *const c_int,
        c_int,
        c_int,
        *const *mut u8,
        *const c_int,
    ) -> c_int;
    type FreeContext = unsafe extern "C" fn(*mut c_void);
    type GetPixFmt = unsafe extern "C" fn(*const c_char) -> c_int;
    type Version = unsafe extern "C" fn() -> c_uint;
    type ImageAlloc = unsafe extern "C" fn(*mut *mut u8, *mut c_int, c_int, c_int, c_int, c_int) -> c_int;
    type Freep = unsafe extern "C" fn(*mut c_void);

    /// The functions the bench calls. The libraries stay loaded for the process.
    pub struct Api {
        get_context: GetContext,
        scale: Scale,
        free_context: FreeContext,
        get_pix_fmt: GetPixFmt,
        avutil_version: Version,
        image_alloc: ImageAlloc,
        freep: Freep,
        /// Where libswscale was loaded from.
        pub swscale: PathBuf,
    }

    /// The file of the mapped library whose name starts with `stem` (`libswscale`), from
    /// this process's memory map.
    #[cfg(target_os = "linux")]
    fn mapped(stem: &str) -> Option<PathBuf> {
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        maps.lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .map(PathBuf::from)
            .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(stem) && n.contains(".so")))
    }

    #[cfg(not(target_os = "linux"))]
    fn mapped(_stem: &str) -> Option<PathBuf> {
        None
    }

    impl Api {
        /// The libswscale and libavutil the FFmpeg engines loaded, or why there are none.
        pub fn load() -> Result<Api, String> {
            let rt = video_hw::registry::ffmpeg_runtime();
            if !rt.loaded {
                return Err(format!("no FFmpeg loaded: {}", rt.summary));
            }
            let swscale = mapped("libswscale").ok_or_else(|| format!("no libswscale loaded beside {}", rt.summary))?;
            let avutil = mapped("libavutil").ok_or_else(|| format!("no libavutil mapped beside {}", rt.summary))?;
            // SAFETY: both are already loaded in this process (by the FFmpeg engines); this
            // takes another reference to each, and the symbols' types are the C API's.
            unsafe {
                let s = Box::leak(Box::new(libloading::Library::new(&swscale).map_err(|e| e.to_string())?));
                let u = Box::leak(Box::new(libloading::Library::new(&avutil).map_err(|e| e.to_string())?));
                let sym = |lib: &'static libloading::Library, name: &str| -> Result<*mut c_void, String> {
                    lib.get::<*mut c_void>(name.as_bytes()).map(|f| *f).map_err(|e| format!("{name}: {e}"))
                };
                Ok(Api {
                    get_context: std::mem::transmute::<*mut c_void, GetContext>(sym(s, "sws_getContext")?),
                    scale: std::mem::transmute::<*mut c_void, Scale>(sym(s, "sws_scale")?),
                    free_context: std::mem::transmute::<*mut c_void, FreeContext>(sym(s, "sws_freeContext")?),
                    get_pix_fmt: std::mem::transmute::<*mut c_void, GetPixFmt>(sym(u, "av_get_pix_fmt")?),
                    avutil_version: std::mem::transmute::<*mut c_void, Version>(sym(u, "avutil_version")?),
                    image_alloc: std::mem::transmute::<*mut c_void, ImageAlloc>(sym(u, "av_image_alloc")?),
                    freep: std::mem::transmute::<*mut c_void, Freep>(sym(u, "av_freep")?),
                    swscale,
                })
            }
        }

        /// libavutil's major version.
        pub fn avutil_major(&self) -> u32 {
            // SAFETY: no arguments, returns a number.
            unsafe { (self.avutil_version)() >> 16 }
        }

        /// The `AVPixelFormat` named `name` (as `ffmpeg -pix_fmts` lists it).
        pub fn pix_fmt(&self, name: &str) -> c_int {
            let c = CString::new(name).unwrap();
            // SAFETY: a NUL-terminated string.
            let f = unsafe { (self.get_pix_fmt)(c.as_ptr()) };
            assert!(f >= 0, "no pixel format {name} in this libavutil");
            f
        }
    }

    /// A picture in buffers from `av_image_alloc` (aligned as `AVFrame`'s, 32 bytes).
    pub struct Picture<'a> {
        api: &'a Api,
        pub data: [*mut u8; 4],
        pub linesize: [c_int; 4],
    }

    impl<'a> Picture<'a> {
        pub fn new(api: &'a Api, format: c_int, w: u32, h: u32) -> Picture<'a> {
            let mut p = Picture { api, data: [std::ptr::null_mut(); 4], linesize: [0; 4] };
            // SAFETY: four pointers and four line sizes, as av_image_alloc writes.
            let r =
                unsafe { (api.image_alloc)(p.data.as_mut_ptr(), p.linesize.as_mut_ptr(), w as _, h as _, format, 32) };
            assert!(r >= 0, "av_image_alloc: {r}");
            p
        }

        /// Row `r` of plane `i`, `len` bytes.
        pub fn row_mut(&mut self, i: usize, r: usize, len: usize) -> &mut [u8] {
            assert!(len <= self.linesize[i] as usize);
            // SAFETY: the plane holds at least `r + 1` rows of `linesize[i]` bytes (the
            // caller asks only for rows of the picture's plane).
            unsafe { std::slice::from_raw_parts_mut(self.data[i].add(r * self.linesize[i] as usize), len) }
        }
    }

    impl Drop for Picture<'_> {
        fn drop(&mut self) {
            // SAFETY: data[0] holds the one buffer av_image_alloc made.
            unsafe { (self.api.freep)((&mut self.data[0]) as *mut *mut u8 as *mut c_void) }
        }
    }

    /// One `SwsContext`.
    pub struct Scaler<'a> {
        api: &'a Api,
        ctx: *mut c_void,
        src_h: c_int,
    }

    impl<'a> Scaler<'a> {
        pub fn new(api: &'a Api, src: (c_int, u32, u32), dst: (c_int, u32, u32), flags: c_int) -> Scaler<'a> {
            // SAFETY: sizes and formats by value; no filters, no parameters.
            let ctx = unsafe {
                (api.get_context)(
                    src.1 as _,
                    src.2 as _,
                    src.0,
                    dst.1 as _,
                    dst.2 as _,
                    dst.0,
                    flags,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null(),
                )
            };
            assert!(!ctx.is_null(), "sws_getContext refused the conversion");
            Scaler { api, ctx, src_h: src.2 as _ }
        }

        /// Converts the whole of `src` into `dst`.
        pub fn run(&mut self, src: &Picture, dst: &mut Picture) {
            let planes = src.data.map(|p| p as *const u8);
            // SAFETY: both pictures were allocated for the sizes and formats of the context.
            let r = unsafe {
                (self.api.scale)(
                    self.ctx,
                    planes.as_ptr(),
                    src.linesize.as_ptr(),
                    0,
                    self.src_h,
                    dst.data.as_ptr(),
                    dst.linesize.as_ptr(),
                )
            };
            assert!(r > 0, "sws_scale: {r}");
        }
    }

    impl Drop for Scaler<'_> {
        fn drop(&mut self) {
            // SAFETY: made by sws_getContext, freed once.
            unsafe { (self.api.free_context)(self.ctx) }
        }
    }
}

/// A textured picture (gradients and noise) in `format`, and the same in swscale's buffers.
fn picture(api: &sws::Api, format: PixelFormat, w: u32, h: u32) -> (Frame, sws::Picture<'_>, i32) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 40) as u32
    };
    let ten = format.bit_depth() > 8;
    let mut host = HostFrame::new_packed(format, w, h);
    let planes: Vec<_> = host.planes().to_vec();
    let bytes = host.as_bytes_mut();
    for (i, p) in planes.iter().enumerate() {
        for r in 0..p.rows {
            for c in 0..p.row_bytes / if ten { 2 } else { 1 } {
                let v = ((r * 3 + c * 2) as u32 % 200 + noise()) as u16;
                let at = p.offset + r * p.stride + c * if ten { 2 } else { 1 };
                if ten {
                    let v = if format == PixelFormat::P010 { (v * 4) << 6 } else { v * 4 };
                    bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
                } else {
                    bytes[at] = v as u8 + (i as u8) * 3;
                }
            }
        }
    }
    let av_format = api.pix_fmt(match format {
        PixelFormat::Nv12 => "nv12",
        PixelFormat::P010 => "p010le",
        PixelFormat::Yuv420p10 => "yuv420p10le",
        _ => "yuv420p",
    });
    let mut av_frame = sws::Picture::new(api, av_format, w, h);
    let src = host.as_bytes();
    for (i, p) in planes.iter().enumerate() {
        for r in 0..p.rows {
            av_frame
                .row_mut(i, r, p.row_bytes)
                .copy_from_slice(&src[p.offset + r * p.stride..p.offset + r * p.stride + p.row_bytes]);
        }
    }
    (Frame::host(format, w, h, host), av_frame, av_format)
}

/// CPU time of the whole process (every thread), in ms (NaN where there is no such clock).
#[cfg(not(unix))]
fn cpu_ms() -> f64 {
    f64::NAN
}

/// CPU time of the whole process (every thread), in ms.
#[cfg(unix)]
fn cpu_ms() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec to write; the clock id is a constant Linux defines.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 * 1e-6
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Case {
    name: &'static str,
    format: PixelFormat,
    size: (u32, u32),
    transform: Transform,
    /// swscale's output: pixel format name, size, flags.
    peer: (&'static str, u32, u32, i32),
}

fn main() {
    let api = match sws::Api::load() {
        Ok(api) => api,
        Err(why) => {
            eprintln!("note: swscale is not here ({why}); nothing measured");
            return;
        }
    };
    let rgb = |t: Transform| t.rgb(Channels::Rgb, false, SampleType::U8);
    let cases = vec![
        // At the source's size: the conversion every host path shares (pixels/transform/rgb.rs).
        Case {
            name: "1080p yuv420p → rgb24",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: rgb(Transform::new()),
            peer: ("rgb24", 1920, 1080, SWS_BILINEAR),
        },
        Case {
            name: "1080p nv12 → bgr24",
            format: PixelFormat::Nv12,
            size: (1920, 1080),
            transform: Transform::new().rgb(Channels::Bgr, false, SampleType::U8),
            peer: ("bgr24", 1920, 1080, SWS_BILINEAR),
        },
        Case {
            name: "1080p yuv420p → rgba",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: Transform::new().rgb(Channels::Rgba, false, SampleType::U8),
            peer: ("rgba", 1920, 1080, SWS_BILINEAR),
        },
        Case {
            name: "1080p yuv420p → planar rgb (peer: gbrp)",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: Transform::new().rgb(Channels::Rgb, true, SampleType::U8),
            peer: ("gbrp", 1920, 1080, SWS_BILINEAR),
        },
        Case {
            name: "1080p nv12 → planar float32 (peer: gbrpf32le)",
            format: PixelFormat::Nv12,
            size: (1920, 1080),
            transform: Transform::new().rgb(Channels::Rgb, true, SampleType::F32),
            peer: ("gbrpf32le", 1920, 1080, SWS_BILINEAR),
        },
        Case {
            name: "1080p yuv420p10le → rgb24",
            format: PixelFormat::Yuv420p10,
            size: (1920, 1080),
            transform: rgb(Transform::new()),
            peer: ("rgb24", 1920, 1080, SWS_BILINEAR),
        },
        Case {
            name: "1080p yuv420p → 224×224 rgb24, bilinear",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: rgb(Transform::new().resize(224, 224)),
            peer: ("rgb24", 224, 224, SWS_BILINEAR),
        },
        Case {
            name: "1080p yuv420p → 224×224 rgb24, area",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: rgb(Transform::new().resize(224, 224).filter(Filter::Area)),
            peer: ("rgb24", 224, 224, SWS_AREA),
        },
        Case {
            // swscale's bilinear widens with the shrink: this is the same filter.
            name: "1080p yuv420p → 224×224 rgb24, triangle",
            format: PixelFormat::Yuv420p,
            size: (1920, 1080),
            transform: rgb(Transform::new().resize(224, 224).filter(Filter::Triangle)),
            peer: ("rgb24", 224, 224, SWS_BILINEAR),
        },
        Case {
            name: "1080p nv12 → 224×224 planar float32 normalised (peer: gbrpf32le)",
            format: PixelFormat::Nv12,
            size: (1920, 1080),
            transform: Transform::new()
                .resize(224, 224)
                .rgb(Channels::Rgb, true, SampleType::F32)
                .normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            peer: ("gbrpf32le", 224, 224, SWS_BILINEAR),
        },
        Case {
            name: "1080p nv12 → 1280×720 nv12, bilinear",
            format: PixelFormat::Nv12,
            size: (1920, 1080),
            transform: Transform::new().resize(1280, 720),
            peer: ("nv12", 1280, 720, SWS_BILINEAR),
        },
        Case {
            name: "4K p010 → 1080p rgb24, bilinear",
            format: PixelFormat::P010,
            size: (3840, 2160),
            transform: rgb(Transform::new().resize(1920, 1080)),
            peer: ("rgb24", 1920, 1080, SWS_BILINEAR),
        },
    ];
    // `cargo bench --bench transform_cpu -- TEXT` measures the cases whose name holds TEXT
    // (and writes no record: a record holds every case).
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let cases: Vec<Case> =
        cases.into_iter().filter(|c| only.as_ref().is_none_or(|o| c.name.contains(o.as_str()))).collect();
    let (date, commit) = common::date_and_commit();
    let mut table = format!(
        "# CPU transform against swscale ({date}, commit {commit})\n\n\
         `cargo bench -p video-hw --bench transform_cpu`; swscale on one thread, ours with its bands of rows \
         on the cores at the source's size ({} cores here), wall clock \
         (`Instant`) and the process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`) per conversion, medians of \
         {ROUNDS} alternating rounds of {PER_ROUND}; libavutil {} ({}, as the FFmpeg engines load it).\n\n\
         | conversion | ours, wall (ms) | swscale, wall (ms) | ours / swscale, wall | ours, CPU (ms) | \
         swscale, CPU (ms) | ours / swscale, CPU |\n|---|---|---|---|---|---|---|\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        api.avutil_major(),
        api.swscale.display()
    );
    for case in cases {
        let (frame, av_frame, av_format) = picture(&api, case.format, case.size.0, case.size.1);
        let mut ours = Transformer::new(case.transform).expect("valid transform");
        let (pix, w, h, flags) = case.peer;
        let pix = api.pix_fmt(pix);
        let mut scaler = sws::Scaler::new(&api, (av_format, case.size.0, case.size.1), (pix, w, h), flags);
        let mut out = sws::Picture::new(&api, pix, w, h);
        let (mut a, mut b, mut ca, mut cb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            for _ in 0..PER_ROUND {
                let (t, c) = (Instant::now(), cpu_ms());
                std::hint::black_box(ours.apply(&frame).expect("transform"));
                ca.push(cpu_ms() - c);
                a.push(t.elapsed().as_secs_f64() * 1e3);
                let (t, c) = (Instant::now(), cpu_ms());
                scaler.run(&av_frame, &mut out);
                std::hint::black_box(&out);
                cb.push(cpu_ms() - c);
                b.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        let _ = ColorInfo::default();
        let (ma, mb, mca, mcb) = (median(a), median(b), median(ca), median(cb));
        let line = format!(
            "| {} | {ma:.3} | {mb:.3} | {:.2}x | {mca:.3} | {mcb:.3} | {:.2}x |\n",
            case.name,
            ma / mb,
            mca / mcb
        );
        print!("{line}");
        table.push_str(&line);
    }
    if only.is_none() {
        common::write_record("transform-cpu", &date, &commit, &table);
    }
}
