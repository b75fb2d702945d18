//! `NativeDecoder`: one video track of a file, bytes or file object, with exact random
//! access through the library's frame index and [`FrameReader`]; the Python class
//! `video_hw.VideoDecoder` wraps it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use video_hw::media::{CacheUse, Demuxer, FrameIndex};
use video_hw::pipeline::{recommended_run_sessions, recommended_sessions};
use video_hw::pixels::pix_fmt::{self, Exact};
use video_hw::pixels::transform::{Filter, Transform};
use video_hw::reader::FrameReader;
use video_hw::{Channels, ColorMatrix, DecoderConfig, EnginePreference, Output, PixelFormat, SampleType};

use crate::array::Place;
use crate::batch::{Frame, FrameBatch, host_array, host_batch};
use crate::errors::{IntoPy, to_py};
use crate::interrupt::Stoppable;

/// The decoder behind `video_hw.VideoDecoder`. Weakly referable, so that a test (or a
/// pool) can see it freed.
#[pyclass(module = "video_hw._video_hw", weakref)]
pub struct NativeDecoder {
    reader: Mutex<FrameReader>,
    /// The process whose thread last took `reader`'s lock: in a child made by `fork` while
    /// a thread of the parent held it, the lock never frees ([`NativeDecoder::lock`]).
    holder: AtomicU32,
    /// What was opened, kept for pickling (bytes are shared with the demuxer, not copied).
    source: Source,
    index: Arc<FrameIndex>,
    metadata: Py<PyDict>,
    place: Place,
    /// `on_error="skip"`: frames the damage keeps from decoding are left out.
    skip: bool,
    /// Sessions the reader may use at once.
    sessions: usize,
    /// The named form host frames are converted to (`yuv420p` is 8-bit, as in ffmpeg).
    exact: Option<Exact>,
    /// What the index cache did at open: `off`, `hit`, `built` or `remade`.
    index_cache: &'static str,
    /// Ctrl-C and [`NativeDecoder::interrupt`] stop a call part-way (`interrupt.rs`).
    stoppable: Stoppable,
    /// The most GPU memory the last call run as a job of the budget held (bytes).
    last_job_peak: std::sync::atomic::AtomicU64,
}

/// What `VideoDecoder` hands back: the output (pixel format) and the transform its
/// options ask for, and the form host frames are converted to after decoding.
struct Shape {
    format: PixelFormat,
    transform: Option<Transform>,
    /// A name with a stated depth (`yuv420p` is 8-bit): host frames are converted to it.
    exact: Option<Exact>,
    /// `device="cuda"` with such a name: the transform that makes it on the GPU, unless
    /// the stream's own depth and layout are already it (see [`Shape::for_depth`]).
    on_gpu: Option<Exact>,
    /// No resize, crop or normalisation was asked for.
    plain: bool,
}

/// The names `pixel_format` takes.
const PIXEL_FORMATS: &str = "rgb24, bgr24, rgba, bgra, gbrp, yuv420p, nv12, yuv420p10le, p010le, gray, \
                             gray10le, yuv420p-auto or nv12-auto";

/// The options that shape frames: `pixel_format`, `dimension_order`, `dtype`, `resize`,
/// `crop`, `interpolation`, `mean`, `std`, `color_matrix`.
struct ShapeOptions<'a> {
    pixel_format: &'a str,
    dimension_order: &'a str,
    dtype: &'a str,
    resize: Option<(u32, u32)>,
    crop: Option<(u32, u32, u32, u32)>,
    interpolation: &'a str,
    mean: Option<[f32; 3]>,
    std: Option<[f32; 3]>,
    color_matrix: &'a str,
}

impl ShapeOptions<'_> {
    /// The format and transform for frames on the host (`cuda` false) or the GPU; a value
    /// no layout has is refused here (by name).
    fn resolve(&self, cuda: bool) -> PyResult<Shape> {
        let planar = match self.dimension_order {
            "NCHW" => true,
            "NHWC" => false,
            other => return Err(PyValueError::new_err(format!("dimension_order '{other}': NCHW or NHWC"))),
        };
        let sample: SampleType = self.dtype.parse().py_err()?;
        let filter = match self.interpolation {
            "bilinear" => Filter::Bilinear,
            "area" => Filter::Area,
            "triangle" => Filter::Triangle,
            other => {
                return Err(PyValueError::new_err(format!("interpolation '{other}': bilinear, area or triangle")));
            }
        };
        // ffmpeg's `gbrp`: planar RGB (whatever `dimension_order` says), its planes
        // reordered to G, B, R on the host.
        let gbrp = self.pixel_format == "gbrp";
        if gbrp && (cuda || self.dtype != "uint8") {
            return Err(PyValueError::new_err(
                "pixel_format 'gbrp' is uint8 host output (ffmpeg's plane order G, B, R): ask for it with \
                 device=\"cpu\", or for rgb24 with dimension_order=\"NCHW\" (planes R, G, B) on the GPU",
            ));
        }
        let planar = planar || gbrp;
        let channels = match self.pixel_format {
            "rgb24" | "rgb" | "gbrp" => Some(Channels::Rgb),
            "bgr24" | "bgr" => Some(Channels::Bgr),
            "rgba" => Some(Channels::Rgba),
            "bgra" => Some(Channels::Bgra),
            _ => None,
        };
        let matrix: ColorMatrix = self.color_matrix.parse().py_err()?;
        let mut t = Transform::new().filter(filter).color_matrix(matrix);
        if let Some((x, y, w, h)) = self.crop {
            t = t.crop(x, y, w, h);
        }
        if let Some((w, h)) = self.resize {
            t = t.resize(w, h);
        }
        if self.mean.is_some() || self.std.is_some() {
            t = t.normalize(self.mean.unwrap_or([0.0; 3]), self.std.unwrap_or([1.0; 3]));
        }
        let plain = self.resize.is_none() && self.crop.is_none() && self.mean.is_none() && self.std.is_none();
        if let Some(c) = channels {
            t = t.rgb(c, planar, sample);
            t.validate().py_err()?;
            let format = t.output_format(PixelFormat::Nv12);
            // What the engines make themselves (with the default matrix rule) needs no
            // transform; anything else is one.
            let own = Output::engines_make_on_host(format) && plain && matrix == ColorMatrix::Auto;
            let transform = (!own).then(|| t.format(format));
            let exact = gbrp.then_some(Exact::Gbrp);
            return Ok(Shape { format, transform, exact, on_gpu: None, plain });
        }
        // ffmpeg's YUV and grey names, with ffmpeg's meaning (video_hw::pixels::pix_fmt).
        let name = match pix_fmt::parse(self.pixel_format) {
            Ok(n) if n.request.is_yuv() => n,
            _ => {
                return Err(PyValueError::new_err(format!("pixel_format '{}': {PIXEL_FORMATS}", self.pixel_format)));
            }
        };
        if sample != SampleType::U8 {
            return Err(PyValueError::new_err(format!(
                "dtype '{}': {} frames are integers (uint8, or uint16 for 10-bit samples)",
                self.dtype, self.pixel_format
            )));
        }
        t.validate().py_err()?;
        if !cuda {
            // The engine's own YUV at the stream's depth (resized or cropped in it), then
            // converted to the named form on the host.
            let transform = (!plain).then_some(t);
            return Ok(Shape { format: name.request, transform, exact: name.exact, on_gpu: None, plain });
        }
        match name.exact {
            Some(e @ (Exact::Gray | Exact::Gray10)) => Err(PyValueError::new_err(format!(
                "pixel_format '{}' is host output: ask for it with device=\"cpu\", or take the luma rows \
                 of yuv420p on the GPU",
                e.name()
            ))),
            // The GPU transform makes the named form (depth and layout) from NVDEC's surface.
            Some(e) => Ok(Shape { format: name.request, transform: Some(t), exact: None, on_gpu: Some(e), plain }),
            None => {
                Ok(Shape { format: name.request, transform: (!plain).then_some(t), exact: None, on_gpu: None, plain })
            }
        }
    }
}

impl Shape {
    /// The format and transform for a stream of `depth` bits (`None`: not known before
    /// decoding, as for VP9 and AV1). On the GPU, NVDEC's NV12 (P010 for 10-bit) is
    /// handed over as it is when it already is the named form and nothing else is asked;
    /// anything else runs the GPU transform.
    fn for_depth(self, depth: Option<u8>) -> (PixelFormat, Option<Transform>) {
        let Some(e) = self.on_gpu else { return (self.format, self.transform) };
        let target = e.format().unwrap_or(PixelFormat::Yuv420p);
        let native = match depth {
            Some(8) => Some(PixelFormat::Nv12),
            Some(10) => Some(PixelFormat::P010),
            _ => None,
        };
        if native == Some(target) && self.plain {
            return (PixelFormat::Nv12, None);
        }
        (target, Some(self.transform.unwrap_or_default().format(target)))
    }
}

/// `"cpu"`, `"cuda"` or `"cuda:N"`.
fn place(device: &str) -> PyResult<Place> {
    match device {
        "cpu" => Ok(Place::Cpu),
        "cuda" => Ok(Place::Cuda(0)),
        d => d
            .strip_prefix("cuda:")
            .and_then(|n| n.parse().ok())
            .map(Place::Cuda)
            .ok_or_else(|| PyValueError::new_err(format!("device '{d}': cpu, cuda or cuda:N"))),
    }
}

/// What `source` is: a path, bytes in memory, or a file object read whole.
#[derive(Clone)]
pub(crate) enum Source {
    /// A path.
    Path(std::path::PathBuf),
    /// Bytes in memory.
    Bytes(Arc<[u8]>),
}

impl Source {
    pub(crate) fn demuxer(&self) -> video_hw::Result<Demuxer> {
        match self {
            Source::Path(p) => Demuxer::open(p),
            Source::Bytes(b) => Demuxer::from_reader(std::io::Cursor::new(b.clone())),
        }
    }
}

/// How long a thread waits for a decoder whose lock the parent process held when it
/// forked, in case the holder is a thread of this process that has not yet said so.
const FORKED_LOCK_GRACE: Duration = Duration::from_millis(200);

pub(crate) fn source(obj: &Bound<'_, PyAny>) -> PyResult<Source> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Source::Bytes(b.as_bytes().into()));
    }
    if obj.hasattr("read")? {
        // A file object: its bytes are read once, whole (the demuxers read out of order).
        let data = obj.call_method0("read")?;
        return Ok(Source::Bytes(data.extract::<Vec<u8>>()?.into()));
    }
    if let Ok(b) = obj.extract::<Vec<u8>>()
        && !obj.is_instance_of::<pyo3::types::PyString>()
    {
        return Ok(Source::Bytes(b.into()));
    }
    let os = obj.py().import("os")?;
    match os.call_method1("fspath", (obj,)) {
        Ok(p) => Ok(Source::Path(p.extract::<std::path::PathBuf>()?)),
        Err(_) => Err(PyTypeError::new_err("source: a path, bytes, or a binary file object")),
    }
}

impl NativeDecoder {
    /// The reader, for one call. The reader itself notices a fork and opens sessions of its
    /// own in the child; what it cannot survive is its lock held at the fork by another of
    /// the parent's threads (a decoder in use while the process forked): that thread does
    /// not exist in the child, so the lock never frees. That is an error here, not a hang.
    fn lock(&self) -> video_hw::Result<MutexGuard<'_, FrameReader>> {
        let here = std::process::id();
        let started = Instant::now();
        loop {
            match self.reader.try_lock() {
                Ok(guard) => return Ok(self.held(guard, here)),
                Err(TryLockError::Poisoned(p)) => return Ok(self.held(p.into_inner(), here)),
                Err(TryLockError::WouldBlock) => {}
            }
            if self.holder.load(Ordering::Acquire) == here {
                // Another thread of this process decodes: wait for it.
                let guard = self.reader.lock().unwrap_or_else(|p| p.into_inner());
                return Ok(self.held(guard, here));
            }
            // Held, by the parent's last holder as far as is known: a thread of this process
            // may have just taken it and not yet said so. Past a grace period, it is the
            // parent's, and lost.
            if started.elapsed() > FORKED_LOCK_GRACE {
                return Err(video_hw::Error::unsupported(
                    "a decoder that another thread was using when this process was made by fork",
                    "its state stayed with that thread in the parent: open the decoder in this \
                     process (in the DataLoader worker), or fork only while no thread decodes",
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn held<'a>(&self, guard: MutexGuard<'a, FrameReader>, here: u32) -> MutexGuard<'a, FrameReader> {
        self.holder.store(here, Ordering::Release);
        guard
    }

    /// `i` as an index into the frames (negative counts from the end). Past the end of a
    /// file damaged part-way, the damage is the error (with its offset).
    fn frame_number(&self, i: i64) -> PyResult<usize> {
        let n = self.index.len() as i64;
        let k = if i < 0 { i + n } else { i };
        if k < 0 || k >= n {
            if let (true, Some(d)) = (k >= n, self.index.damage()) {
                let offset = self.index.damage_offset().unwrap_or(0);
                return Err(to_py(video_hw::Error::invalid_bitstream(
                    offset,
                    format!("frame {i}: the file is damaged after frame {} ({d})", n - 1),
                )));
            }
            return Err(PyIndexError::new_err(format!("frame {i} of a video of {n} frames")));
        }
        Ok(k as usize)
    }

    fn frame_at_seconds(&self, t: f64) -> PyResult<usize> {
        self.index.frame_at_seconds(t).ok_or_else(|| {
            let first = self.index.frames().first().map_or(0.0, |f| self.index.seconds(f.pts));
            let last = self.index.frames().last().map_or(0.0, |f| self.index.seconds(f.pts.saturating_add(f.duration)));
            PyIndexError::new_err(format!(
                "no frame is shown at {t} s (frames are shown from {first:.6} s to {last:.6} s)"
            ))
        })
    }

    fn frame(&self, py: Python<'_>, f: usize, frame: Arc<video_hw::Frame>) -> PyResult<Frame> {
        let e = self.index.frames()[f];
        let data = match self.place {
            Place::Cpu => host_array(frame, self.exact)?,
            Place::Cuda(_) => crate::batch::device_array(frame)?,
        };
        Ok(Frame {
            data: Py::new(py, data)?,
            pts_seconds: self.index.seconds(e.pts),
            duration_seconds: self.index.seconds(e.duration),
            index: f,
            key_frame: e.keyframe,
        })
    }

    /// Decodes frame `f` alone (with the GIL released). The reader's own reference is
    /// moved out, not cloned, so the array lends the frame unless the reader keeps it.
    fn single(&self, py: Python<'_>, f: usize) -> PyResult<Frame> {
        let got = self.stoppable.run(py, || self.lock(), |r| r.frames_at(&[f]))?;
        self.frame(py, f, got.into_iter().next().ok_or_else(|| PyIndexError::new_err("no frame"))?)
    }

    /// Decodes `frames` (with the GIL released) and stacks them into a batch. With
    /// `admission` (`(reserve, budget)`, on a GPU) the decode is a job of
    /// `video_hw::gpu_memory`: it waits until `reserve` bytes fit the budget, and its
    /// device memory counts towards it (what `decode_many` runs each file as).
    fn batch(&self, py: Python<'_>, frames: Vec<usize>, admission: Option<(u64, Option<u64>)>) -> PyResult<FrameBatch> {
        let skip = self.skip;
        let device = match self.place {
            Place::Cuda(d) => Some(d),
            Place::Cpu => None,
        };
        // The fallback is read under the same lock as the frames (it is fixed at open).
        let (got, fallback, job) = self.stoppable.run_with(py, |mut check| {
            let job = match (device, admission) {
                (Some(d), Some((reserve, budget))) => Some(
                    video_hw::gpu_memory::admit(d, reserve, budget, &mut *check)
                        .ok_or_else(crate::interrupt::stopped)?,
                ),
                _ => None,
            };
            let _counted = job.as_ref().map(video_hw::gpu_memory::Job::enter);
            let mut r = self.lock().map_err(crate::errors::to_py)?;
            r.set_interrupt(Some(check));
            let got = if skip {
                r.frames_at_or_missing(&frames)
            } else {
                r.frames_at(&frames).map(|v| v.into_iter().map(Some).collect())
            };
            r.set_interrupt(None);
            let got = got.map_err(crate::errors::to_py)?;
            Ok((got, r.fallback().map(str::to_string), job))
        })?;
        let kept: Vec<(usize, Arc<video_hw::Frame>)> =
            frames.iter().zip(got).filter_map(|(&f, frame)| frame.map(|x| (f, x))).collect();
        let pixels: Vec<Arc<video_hw::Frame>> = kept.iter().map(|(_, x)| x.clone()).collect();
        let data = match self.place {
            // A batch of hundreds of large RGB frames takes a while to convert: stoppable too.
            Place::Cpu => self.stoppable.run_with(py, |mut check| host_batch(&pixels, self.exact, &mut *check))?,
            Place::Cuda(_) => py.detach(|| crate::batch::device_batch(&pixels))?,
        };
        let times = |g: &dyn Fn(usize) -> f64| PyList::new(py, kept.iter().map(|(f, _)| g(*f)));
        Ok(FrameBatch {
            data: Py::new(py, data)?,
            pts_seconds: times(&|f| self.index.seconds(self.index.frames()[f].pts))?.unbind(),
            duration_seconds: times(&|f| self.index.seconds(self.index.frames()[f].duration))?.unbind(),
            indices: PyList::new(py, kept.iter().map(|(f, _)| *f))?.unbind(),
            fallback,
            audio: None,
            len: kept.len(),
        })
        .inspect(|_| {
            if let Some(job) = job {
                // The frames are gone by now (moved into the batch or dropped): the job's
                // peak is what the next file of the same kind reserves.
                self.last_job_peak.store(job.peak(), std::sync::atomic::Ordering::Relaxed);
            }
        })
    }
}

#[pymethods]
impl NativeDecoder {
    /// Opens the default video track, the largest (or track `stream_index`), of `source`.
    #[new]
    #[pyo3(signature = (source, *, device = "cpu", pixel_format = "rgb24", dimension_order = "NCHW",
        seek_mode = "exact", sessions = None, engine = "auto", on_error = "raise", stream_index = None,
        read_ahead_bytes = None, dtype = "uint8", resize = None, crop = None, interpolation = "bilinear",
        mean = None, std = None, threads = None, film_grain = true, color_matrix = "auto", autorotate = true,
        index_cache = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        device: &str,
        pixel_format: &str,
        dimension_order: &str,
        seek_mode: &str,
        sessions: Option<usize>,
        engine: &str,
        on_error: &str,
        stream_index: Option<usize>,
        read_ahead_bytes: Option<usize>,
        dtype: &str,
        resize: Option<(u32, u32)>,
        crop: Option<(u32, u32, u32, u32)>,
        interpolation: &str,
        mean: Option<[f32; 3]>,
        std: Option<[f32; 3]>,
        threads: Option<u32>,
        film_grain: bool,
        color_matrix: &str,
        autorotate: bool,
        index_cache: Option<String>,
    ) -> PyResult<Self> {
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1 (None: the default)"));
        }
        let place = self::place(device)?;
        let shape =
            ShapeOptions { pixel_format, dimension_order, dtype, resize, crop, interpolation, mean, std, color_matrix }
                .resolve(matches!(place, Place::Cuda(_)))?;
        let exact = shape.exact;
        if seek_mode != "exact" && seek_mode != "approximate" {
            return Err(PyValueError::new_err(format!("seek_mode '{seek_mode}': exact or approximate")));
        }
        let skip = match on_error {
            "raise" => false,
            "skip" => true,
            other => return Err(PyValueError::new_err(format!("on_error '{other}': raise or skip"))),
        };
        // "software": the best engine that decodes the stream on the CPU (the CPU side of
        // `device="auto"`), known once the codec is.
        let software = engine == "software";
        let preference: EnginePreference = if software { EnginePreference::Auto } else { engine.parse().py_err()? };
        let src = self::source(source)?;
        // `None`: the process-wide default (VIDEO_HW_INDEX_CACHE, else `auto`).
        let cache = video_hw::media::index_cache(index_cache.as_deref());
        let (reader, container, info, turn, used) = py
            .detach(|| -> video_hw::Result<_> {
                let mut demuxer = src.demuxer()?;
                let track = match stream_index {
                    Some(i) => i,
                    None => demuxer.video_track().map(|t| t.index).ok_or_else(|| demuxer.no_video_error())?,
                };
                let codec = demuxer.track(track).and_then(|t| t.codec.video()).ok_or_else(|| {
                    let what = demuxer.track(track).map(|t| format!(" ({} {})", t.kind.name(), t.codec));
                    video_hw::Error::invalid_input(format!(
                        "stream {track}{} is not a video stream the decoders know",
                        what.unwrap_or_default()
                    ))
                })?;
                let info = demuxer.stream_info(track)?;
                let preference = if software {
                    let engine = video_hw::registry::software_decode_engine(codec).ok_or_else(|| {
                        video_hw::Error::unsupported(
                            format!("{codec} decode on the CPU"),
                            "no software engine here decodes it",
                        )
                    })?;
                    EnginePreference::Only(engine)
                } else {
                    preference
                };
                let container = demuxer.container();
                let (format, transform) = shape.for_depth(info.as_ref().map(|i| i.bit_depth_luma));
                // The container's display matrix, applied as ffmpeg and torchcodec apply it:
                // the picture turned first (a crop and a resize are of the turned picture).
                let turn =
                    if autorotate { demuxer.track(track).and_then(|t| t.video).map_or(0, |v| v.rotation) } else { 0 };
                let transform = match (turn, transform) {
                    (0, t) => t,
                    (r, Some(t)) => Some(t.rotate(r)),
                    (r, None) if format.is_yuv() => Some(Transform::new().rotate(r)),
                    (r, None) => Some(Transform::new().format(format).rotate(r)),
                };
                let output = match place {
                    Place::Cpu => Output::Host(format),
                    Place::Cuda(_) => Output::Cuda(format),
                };
                let mut config = DecoderConfig::new(codec)
                    .output(output)
                    .engine(preference)
                    .threads_opt(threads)
                    .film_grain(film_grain)
                    // Known now, so an engine that cannot take the stream says so at open.
                    .stream_format(info.as_ref().map(|i| i.format()));
                if let Some(t) = transform {
                    // YUV in; the transform makes `format` (on the GPU, NVDEC's NV12).
                    config = config.transform(t).output(match place {
                        Place::Cpu if format.is_yuv() => Output::Host(format),
                        Place::Cpu => Output::HOST_NV12,
                        Place::Cuda(_) => Output::CUDA_NV12,
                    });
                }
                if let Place::Cuda(n) = place {
                    config = config.device_index(n);
                }
                // A path's index is read from the cache where a saved one matches the file
                // (no scan), and saved after it is built; bytes have no identity to key it.
                let (mut reader, used) = match &src {
                    Source::Path(p) => {
                        let (index, used) = cache.index(&mut demuxer, track, p)?;
                        (FrameReader::with_index(demuxer, index, config)?, used)
                    }
                    Source::Bytes(_) => (FrameReader::new(demuxer, track, config)?, CacheUse::Off),
                };
                let engine = reader.prepare()?;
                let (w, h) = info.as_ref().map_or((1920, 1080), |i| (i.dimensions.width(), i.dimensions.height()));
                let gpu = if let Place::Cuda(n) = place { n } else { 0 };
                let n = sessions.unwrap_or_else(|| recommended_sessions(engine, codec, w, h, gpu).max(1));
                // `sessions=` given: every call runs on that many. Otherwise a call's
                // independent runs may have sessions of their own (FFmpeg's software
                // decoders: one per CPU thread).
                let runs = match sessions {
                    Some(_) => 0,
                    None => recommended_run_sessions(engine, codec, w, h, gpu).unwrap_or(0),
                };
                let reader = reader.sessions(n).run_sessions(runs);
                let reader = match read_ahead_bytes {
                    Some(b) => reader.read_ahead(b),
                    None => reader,
                };
                Ok((reader, container, info, turn, used))
            })
            .py_err()?;
        let index = Arc::new(reader.index().clone());
        let metadata = crate::metadata::metadata(py, container, &index, info.as_ref())?;
        if turn % 180 == 90 {
            // The size of the frames handed back, as torchcodec reports it: turned.
            let (w, h) = (metadata.get_item("width")?, metadata.get_item("height")?);
            metadata.set_item("width", h)?;
            metadata.set_item("height", w)?;
        }
        metadata.set_item("seek_mode", seek_mode)?;
        let sessions = reader.max_sessions();
        Ok(NativeDecoder {
            reader: Mutex::new(reader),
            holder: AtomicU32::new(std::process::id()),
            source: src,
            index,
            metadata: metadata.unbind(),
            place,
            skip,
            sessions,
            exact,
            index_cache: used.name(),
            stoppable: Stoppable::default(),
            last_job_peak: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Stops the call in progress on another thread (it raises `VideoHwError`, kind
    /// `closed`), or if none is in progress the next call: `decode_many` stops its
    /// workers' decoders with it. The decoder stays usable.
    fn interrupt(&self) {
        self.stoppable.stop();
    }

    fn __len__(&self) -> usize {
        self.index.len()
    }

    /// The bytes decoded, when the source was bytes or a file object (None for a path):
    /// what a pickled decoder carries.
    fn source_bytes<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        match &self.source {
            Source::Bytes(b) => Some(PyBytes::new(py, b)),
            Source::Path(_) => None,
        }
    }

    /// Every frame's presentation time and duration in seconds, in presentation order:
    /// `(pts_seconds, duration_seconds)`, two lists read from the frame index (nothing is
    /// decoded). The time ranges and samplers map seconds to frames with them.
    fn frame_times<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let frames = self.index.frames();
        let pts = PyList::new(py, frames.iter().map(|f| self.index.seconds(f.pts)))?;
        let durations = PyList::new(py, frames.iter().map(|f| self.index.seconds(f.duration)))?;
        Ok((pts, durations))
    }

    /// Every frame's presentation time in the track's time base, in presentation order,
    /// and that time base as `(num, den)` (read from the frame index): what torchcodec's
    /// `custom_frame_mappings` are checked against.
    fn frame_ticks(&self) -> (Vec<i64>, (i64, i64)) {
        let tb = self.index.time_base();
        (self.index.frames().iter().map(|f| f.pts).collect(), (tb.num, tb.den))
    }

    /// The video's metadata (a dict; `video_hw.VideoMetadata` on the Python side).
    #[getter]
    fn metadata(&self, py: Python<'_>) -> Py<PyDict> {
        self.metadata.clone_ref(py)
    }

    /// The engine that decodes, described.
    #[getter]
    fn backend(&self) -> PyResult<Option<String>> {
        Ok(self.lock().py_err()?.backend().map(str::to_string))
    }

    /// Threads each session keeps busy decoding, once the first is open (FFmpeg's frame
    /// or slice threads; 1 for engines that decode on one thread or on the GPU): times
    /// `max_sessions`, the cores this decoder can keep busy (`device="auto"` weighs them).
    #[getter]
    fn decode_threads(&self) -> PyResult<Option<u32>> {
        Ok(self.lock().py_err()?.decode_threads())
    }

    /// Why the frames are not decoded where `device` asked (None when they are): with
    /// `device="cuda"`, a stream the GPU's decoder cannot take (AV1 on an H100 or H200) is
    /// decoded on the CPU and its frames are copied to the GPU.
    #[getter]
    fn fallback(&self) -> PyResult<Option<String>> {
        Ok(self.lock().py_err()?.fallback().map(str::to_string))
    }

    /// What decoding `frames` takes where none is kept: `(runs, packets)` from the frame
    /// index's GOP layout (`device="auto"` estimates its costs from them).
    fn decode_work(&self, frames: Vec<i64>) -> PyResult<(usize, usize)> {
        let frames = frames.into_iter().map(|i| self.frame_number(i)).collect::<PyResult<Vec<usize>>>()?;
        Ok(self.lock().py_err()?.decode_work(&frames))
    }

    /// What iterating from presentation index `first` to the end takes: `(pieces, packets)`,
    /// the pieces being the GOPs ahead that several sessions decode at once;
    /// `device="auto"` weighs an iteration by it.
    fn sequential_work(&self, first: i64) -> PyResult<(usize, usize)> {
        let f = self.frame_number(first)?;
        Ok(self.lock().py_err()?.sequential_work(f))
    }

    /// Sessions the decoder may run at once (GOPs decoding in parallel).
    #[getter]
    fn max_sessions(&self) -> usize {
        self.sessions
    }

    /// What the decoder did so far: runs, packets decoded, packets parsed for their headers
    /// only (H.264 and HEVC reference pictures no frame asked for needs) and the pictures
    /// among them the engine left undecoded, frames returned, sessions.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.lock().py_err()?.stats();
        let d = PyDict::new(py);
        d.set_item("runs", s.runs)?;
        d.set_item("packets_decoded", s.packets_decoded)?;
        d.set_item("packets_headers_only", s.packets_headers_only)?;
        d.set_item("pictures_left_out", s.pictures_left_out)?;
        d.set_item("frames_returned", s.frames_returned)?;
        d.set_item("frames_kept", s.frames_kept)?;
        d.set_item("frames_read_ahead", s.frames_read_ahead)?;
        d.set_item("sessions", s.sessions)?;
        d.set_item("index_cache", self.index_cache)?;
        Ok(d)
    }

    /// The frame at presentation index `index` (negative counts from the end).
    fn get_frame_at(&self, py: Python<'_>, index: i64) -> PyResult<Frame> {
        let f = self.frame_number(index)?;
        self.single(py, f)
    }

    /// The frames at `indices`, in the order given (repeats allowed), as one batch.
    fn get_frames_at(&self, py: Python<'_>, indices: Vec<i64>) -> PyResult<FrameBatch> {
        let frames = indices.into_iter().map(|i| self.frame_number(i)).collect::<PyResult<Vec<_>>>()?;
        self.batch(py, frames, None)
    }

    /// `get_frames_at` as a job of the GPU memory budget (`decode_many`'s files): it waits
    /// until `reserve` bytes fit `budget` (None: the process's) beside the jobs in flight.
    #[pyo3(signature = (indices, reserve, budget = None))]
    fn get_frames_at_admitted(
        &self,
        py: Python<'_>,
        indices: Vec<i64>,
        reserve: u64,
        budget: Option<u64>,
    ) -> PyResult<FrameBatch> {
        let frames = indices.into_iter().map(|i| self.frame_number(i)).collect::<PyResult<Vec<_>>>()?;
        self.batch(py, frames, Some((reserve, budget)))
    }

    /// The most GPU memory the last admitted call's decode held at once (bytes; 0 before
    /// one): what a file like it reserves.
    #[getter]
    fn last_job_peak(&self) -> u64 {
        self.last_job_peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The frame shown at `seconds`.
    fn get_frame_played_at(&self, py: Python<'_>, seconds: f64) -> PyResult<Frame> {
        let f = self.frame_at_seconds(seconds)?;
        self.single(py, f)
    }

    /// The frames shown at each of `seconds`, in the order given.
    fn get_frames_played_at(&self, py: Python<'_>, seconds: Vec<f64>) -> PyResult<FrameBatch> {
        let frames = seconds.into_iter().map(|t| self.frame_at_seconds(t)).collect::<PyResult<Vec<_>>>()?;
        self.batch(py, frames, None)
    }

    /// Frames `start, start + step, …` below `stop`.
    #[pyo3(signature = (start, stop, step = 1))]
    fn get_frames_in_range(&self, py: Python<'_>, start: i64, stop: i64, step: i64) -> PyResult<FrameBatch> {
        if step <= 0 {
            return Err(PyValueError::new_err("step must be positive"));
        }
        let n = self.index.len() as i64;
        let (start, stop) = (start.clamp(0, n), stop.clamp(0, n));
        self.batch(py, (start..stop).step_by(step as usize).map(|i| i as usize).collect(), None)
    }

    /// Positions sequential reading (`next_frame`) at presentation index `index`.
    fn seek(&self, py: Python<'_>, index: i64) -> PyResult<()> {
        let f = self.frame_number(index)?;
        py.detach(|| self.lock()?.seek_frame(f)).py_err()
    }

    /// The next frame of sequential reading, or None after the last. A frame the file's
    /// damage kept from decoding raises `InvalidBitstreamError` (reading goes on after it),
    /// or with `on_error="skip"` is passed over.
    fn next_frame(&self, py: Python<'_>) -> PyResult<Option<Frame>> {
        let skip = self.skip;
        let next = py
            .detach(|| -> video_hw::Result<_> {
                let mut r = self.lock()?;
                let frame = loop {
                    match r.next_frame() {
                        Err(video_hw::Error::InvalidBitstream { .. }) if skip => continue,
                        other => break other?,
                    }
                };
                Ok(frame.map(|f| {
                    let n = f.pts.and_then(|t| r.index().frame_at(t)).unwrap_or(0);
                    (n, Arc::new(f))
                }))
            })
            .map_err(to_py)?;
        next.map(|(n, f)| self.frame(py, n, f)).transpose()
    }
}

/// Destroys the NVDEC decoders kept for reuse after their sessions closed (each holds
/// ~60-100 MiB of GPU memory at 1080p, and otherwise goes after 5 s unused); how many
/// there were. Sessions opened afterwards create new decoders (~40 ms each).
#[pyfunction]
pub fn release_cached_decoders(py: Python<'_>) -> usize {
    py.detach(|| {
        video_hw::diagnostics::wait_for_nvdec_closes(std::time::Duration::from_secs(10));
        video_hw::diagnostics::release_parked_nvdec_decoders()
    })
}

/// The FFmpeg the FFmpeg engines run with: `{"loaded", "summary", "tried"}` (loads it on
/// the first call).
#[pyfunction]
pub fn ffmpeg_info<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let info = py.detach(video_hw::registry::ffmpeg_runtime);
    let d = PyDict::new(py);
    d.set_item("loaded", info.loaded)?;
    d.set_item("summary", info.summary)?;
    d.set_item("tried", info.tried)?;
    Ok(d)
}

/// Adds a folder to search for FFmpeg's libraries after the loader's own search (before
/// FFmpeg is first used in the process).
#[pyfunction]
pub fn add_ffmpeg_search_dir(path: std::path::PathBuf) {
    video_hw::registry::add_ffmpeg_search_dir(path);
}

/// Every engine × codec × direction: whether a session can be opened here, and why not.
#[pyfunction]
pub fn engines<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    let reports = py.detach(|| video_hw::registry::probe_all(0));
    let list = PyList::empty(py);
    for r in reports {
        let d = PyDict::new(py);
        d.set_item("engine", r.engine.name())?;
        d.set_item("codec", r.codec.name())?;
        d.set_item("direction", format!("{:?}", r.direction).to_lowercase())?;
        d.set_item("available", r.available)?;
        d.set_item("reason", r.reason)?;
        list.append(d)?;
    }
    Ok(list)
}
