//! `Frame` and `FrameBatch`: decoded pictures with their times, their pixels an [`Array`].
//!
//! Shapes (the pixel format and dimension order the decoder was opened with):
//! - `nv12`, `yuv420p`: one `(H*3/2, W)` plane (luma rows, then the chroma rows), uint8
//!   (uint16 for 10-bit); 1-D when the size is odd and the planes cannot stack that way;
//! - `rgb24`: `(H, W, 3)` (NHWC) or `(3, H, W)` (NCHW); `bgra`: `(H, W, 4)`;
//! - `gray`, `gray10le`: `(H, W)`, uint8 or uint16.
//!
//! Batches add a first dimension `N`.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::array::{Array, Owner, Place, compact_strides};
use video_hw::pixels::pix_fmt::{self, Exact};
use video_hw::{FrameData, PixelFormat, SampleType};

/// The shape of one frame's pixels, and the element size.
pub fn frame_shape(format: PixelFormat, width: u32, height: u32, total_bytes: usize) -> (Vec<i64>, SampleType) {
    let (w, h) = (i64::from(width), i64::from(height));
    let elem = format.sample_type();
    let elements = (total_bytes / elem.size()) as i64;
    let shape = match format.rgb_layout() {
        Some((channels, false)) => vec![h, w, channels.count() as i64],
        Some((_, true)) => vec![3, h, w],
        // Luma rows then chroma rows, stacked as one plane when they are as wide.
        None if w > 0 && elements % w == 0 && width.is_multiple_of(2) => vec![elements / w, w],
        None => vec![elements],
    };
    (shape, elem)
}

/// The shape and element of one frame converted to `exact`.
fn exact_shape(exact: Exact, width: u32, height: u32, total_bytes: usize) -> (Vec<i64>, SampleType) {
    let elem = if exact.bit_depth() > 8 { SampleType::U16 } else { SampleType::U8 };
    match exact.format() {
        Some(f) => frame_shape(f, width, height, total_bytes),
        None if exact == Exact::Gbrp => (vec![3, i64::from(height), i64::from(width)], elem),
        None => (vec![i64::from(height), i64::from(width)], elem),
    }
}

/// `bytes` (one tightly packed frame of `frame`'s format) in `exact`'s form, when they
/// are not in it already: `Some(converted)`.
fn converted(frame: &video_hw::Frame, bytes: &[u8], exact: Option<Exact>) -> PyResult<Option<Vec<u8>>> {
    let Some(exact) = exact.filter(|e| e.converts(frame.format)) else { return Ok(None) };
    let mut out = Vec::new();
    let changed = pix_fmt::convert(frame.format, frame.width, frame.height, bytes, exact, &mut out)
        .map_err(crate::errors::to_py)?;
    Ok(changed.then_some(out))
}

/// A frame's pixels as an array over its own memory when they are packed (and in the
/// form `exact` names, when it names one), else over a packed (converted) copy. Host
/// frames only; GPU frames go through [`crate::decoder`]'s batch path.
pub fn host_array(frame: Arc<video_hw::Frame>, exact: Option<Exact>) -> PyResult<Array> {
    let FrameData::Host(host) = &frame.data else {
        return Err(PyValueError::new_err("not a host frame"));
    };
    if !host.is_packed() {
        // A decoder's own buffer lent as it is (planes with padding rows between them):
        // packed once, into a recycled buffer, which the array then lies over.
        if let Ok(packed) = host.to_packed(frame.format, frame.width, frame.height) {
            let f = frame.same_over(FrameData::Host(packed.into_owned()));
            return host_array(Arc::new(f), exact);
        }
    }
    if let Some(e) = exact {
        let mut packed = Vec::new();
        let bytes = if host.is_packed() {
            host.as_bytes()
        } else {
            host.write_packed(&mut packed);
            &packed
        };
        if let Some(out) = converted(&frame, bytes, Some(e))? {
            let (shape, elem) = exact_shape(e, frame.width, frame.height, out.len());
            return Ok(Array::from_bytes(out.into_boxed_slice(), shape, elem));
        }
    }
    let (shape, elem) = frame_shape(frame.format, frame.width, frame.height, host.as_bytes().len());
    // A frame the reader also keeps (to serve it again) is copied: an array lent over it
    // could be written through, and the next request for the frame would see the writes.
    if host.is_packed() && Arc::strong_count(&frame) == 1 {
        let ptr = host.as_bytes().as_ptr() as u64;
        let strides = compact_strides(&shape);
        return Ok(Array::new(Owner::Frame(frame.clone()), ptr, shape, strides, elem, Place::Cpu));
    }
    let mut packed = Vec::new();
    host.write_packed(&mut packed);
    let (shape, elem) = frame_shape(frame.format, frame.width, frame.height, packed.len());
    Ok(Array::from_bytes(packed.into_boxed_slice(), shape, elem))
}

/// One decoded frame.
#[pyclass(frozen, module = "video_hw._video_hw")]
pub struct Frame {
    /// The pixels.
    #[pyo3(get)]
    pub data: Py<Array>,
    /// Presentation time in seconds.
    #[pyo3(get)]
    pub pts_seconds: f64,
    /// How long it is shown, in seconds.
    #[pyo3(get)]
    pub duration_seconds: f64,
    /// Its presentation index in the file.
    #[pyo3(get)]
    pub index: usize,
    /// Decoding can start at it (IDR / IRAP / key frame).
    #[pyo3(get)]
    pub key_frame: bool,
}

#[pymethods]
impl Frame {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Frame(index={}, pts_seconds={:.6}, duration_seconds={:.6}, data={})",
            self.index,
            self.pts_seconds,
            self.duration_seconds,
            self.data.borrow(py).__repr__()
        )
    }

    /// DLPack export of the pixels (see `Array.__dlpack__`).
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<Bound<'py, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(u32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        self.data
            .bind(py)
            .call_method("__dlpack__", (), Some(&kwargs(py, stream, max_version, dl_device, copy)?))
            .map(Bound::unbind)
    }

    /// Where the pixels are (see `Array.__dlpack_device__`).
    fn __dlpack_device__(&self, py: Python<'_>) -> PyResult<(i32, i32)> {
        self.data.bind(py).call_method0("__dlpack_device__")?.extract()
    }
}

/// Frames decoded together, their pixels in one array with a first dimension N.
#[pyclass(frozen, module = "video_hw._video_hw")]
pub struct FrameBatch {
    /// The pixels: `(N, …)`.
    #[pyo3(get)]
    pub data: Py<Array>,
    /// Presentation times in seconds.
    #[pyo3(get)]
    pub pts_seconds: Py<PyList>,
    /// Durations in seconds.
    #[pyo3(get)]
    pub duration_seconds: Py<PyList>,
    /// Presentation indices in the file.
    #[pyo3(get)]
    pub indices: Py<PyList>,
    /// Why these frames were not decoded where the decoder's `device` asked (a stream the
    /// GPU's decoder cannot take, decoded on the CPU and copied to the GPU), or None.
    #[pyo3(get)]
    pub fallback: Option<String>,
    /// The sound played with these frames, where it was asked for (`audio=` of
    /// `decode_many` and the samplers): an `AudioSamples`, a list of them (one per clip),
    /// or None.
    #[pyo3(get)]
    pub audio: Option<Py<PyAny>>,
    pub len: usize,
}

#[pymethods]
impl FrameBatch {
    /// A batch made of parts: `data` (an `Array`), and `pts_seconds`, `duration_seconds`
    /// and `indices` (lists; nested lists for a batch of clips). The time ranges resampled
    /// with `fps` and the clip samplers build their results this way. `len` is the
    /// length of `pts_seconds` (clips, for a batch of clips). `fallback` is the
    /// decoder's, where the parts come from one that fell back. `audio`: the sound of
    /// the frames (see the attribute), None by default.
    #[new]
    #[pyo3(signature = (data, pts_seconds, duration_seconds, indices, fallback = None, audio = None))]
    fn py_new(
        py: Python<'_>,
        data: Py<Array>,
        pts_seconds: Py<PyList>,
        duration_seconds: Py<PyList>,
        indices: Py<PyList>,
        fallback: Option<String>,
        audio: Option<Py<PyAny>>,
    ) -> Self {
        let len = pts_seconds.bind(py).len();
        // None from Python arrives as Some(None): keep one spelling of "no audio".
        let audio = audio.filter(|a| !a.is_none(py));
        FrameBatch { data, pts_seconds, duration_seconds, indices, fallback, audio, len }
    }

    fn __len__(&self) -> usize {
        self.len
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("FrameBatch({} frames, data={})", self.len, self.data.borrow(py).__repr__())
    }

    /// DLPack export of the pixels (see `Array.__dlpack__`).
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<Bound<'py, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(u32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Py<PyAny>> {
        self.data
            .bind(py)
            .call_method("__dlpack__", (), Some(&kwargs(py, stream, max_version, dl_device, copy)?))
            .map(Bound::unbind)
    }

    /// Where the pixels are (see `Array.__dlpack_device__`).
    fn __dlpack_device__(&self, py: Python<'_>) -> PyResult<(i32, i32)> {
        self.data.bind(py).call_method0("__dlpack_device__")?.extract()
    }
}

fn kwargs<'py>(
    py: Python<'py>,
    stream: Option<Bound<'py, PyAny>>,
    max_version: Option<(u32, u32)>,
    dl_device: Option<(u32, i32)>,
    copy: Option<bool>,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    if let Some(s) = stream {
        d.set_item("stream", s)?;
    }
    if let Some(v) = max_version {
        d.set_item("max_version", v)?;
    }
    if let Some(v) = dl_device {
        d.set_item("dl_device", v)?;
    }
    if let Some(v) = copy {
        d.set_item("copy", v)?;
    }
    Ok(d)
}

/// Stacks host frames (all of one format and size) into one array `(N, …)`, each
/// converted to `exact` where it names a form.
///
/// The whole batch is one buffer from the library's pool ([`video_hw::HostBuffer`]), each
/// frame written straight into its place: a batch of 32 1080p RGB frames is 200 MB, and
/// packing each frame into a scratch buffer, growing the batch by doubling and having the
/// kernel fault in fresh pages every call cost more CPU than the RGB conversion itself.
///
/// `stop` is asked before each frame (Ctrl-C: `interrupt.rs`); true ends the call with
/// [`stopped`](crate::interrupt::stopped).
pub fn host_batch(
    frames: &[Arc<video_hw::Frame>],
    exact: Option<Exact>,
    stop: &mut dyn FnMut() -> bool,
) -> PyResult<Array> {
    let Some(first) = frames.first() else {
        return Ok(Array::from_bytes(Vec::new().into_boxed_slice(), vec![0], SampleType::U8));
    };
    if let Some(f) = frames.iter().find(|f| (f.format, f.width, f.height) != (first.format, first.width, first.height))
    {
        return Err(PyValueError::new_err(format!(
            "frames of different sizes or formats ({}x{} {} and {}x{} {}) cannot form one batch: ask for them apart",
            first.width, first.height, first.format, f.width, f.height, f.format
        )));
    }
    if stop() {
        return Err(crate::interrupt::stopped());
    }
    // The first frame tells the size of one in the form it is written in (all frames have
    // one format, so one form).
    let mut scratch = Vec::new();
    let bytes = FrameBytes::of(first, exact, &mut scratch)?;
    let (one, mut converted) = (bytes.len(), bytes.is_converted());
    let mut buffer = video_hw::HostBuffer::for_overwrite(one * frames.len());
    let mut places = buffer.as_mut_slice().chunks_exact_mut(one.max(1));
    bytes.copy_into(places.next().expect("room for the first frame"));
    let rest: Vec<(usize, &mut [u8])> = places.enumerate().map(|(i, d)| (i + 1, d)).collect();
    // The copies of a large batch on two threads: the decoder's threads are idle by now,
    // and one thread copying 22 MB (32 frames of 640x360 RGB) took about 3 ms of every
    // call of `get_frames_in_range` (python-loops-cpu-20261127-89801dd).
    let mut mine = rest;
    let theirs =
        if one * frames.len() >= (4 << 20) && cores() > 1 { mine.split_off(mine.len() / 2) } else { Vec::new() };
    // Set when either half stops (Ctrl-C seen by this thread, or an error): the other half
    // then stops before its next frame, so a stop takes effect within a frame's copy.
    let halt = std::sync::atomic::AtomicBool::new(false);
    let copy = |part: &mut dyn Iterator<Item = (usize, &mut [u8])>, stop: &mut dyn FnMut() -> bool| {
        let (mut scratch, mut any) = (Vec::new(), false);
        let result = (|| {
            for (i, dest) in part {
                if halt.load(std::sync::atomic::Ordering::Relaxed) || stop() {
                    return Err(crate::interrupt::stopped());
                }
                let bytes = FrameBytes::of(&frames[i], exact, &mut scratch)?;
                if bytes.len() != one {
                    return Err(PyValueError::new_err(format!(
                        "frame {i} of the batch is {} bytes where the first is {one}: ask for them apart",
                        bytes.len()
                    )));
                }
                any |= bytes.is_converted();
                bytes.copy_into(dest);
            }
            Ok::<bool, PyErr>(any)
        })();
        if result.is_err() {
            halt.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        result
    };
    let (theirs_converted, mine_converted) = std::thread::scope(|s| {
        let other = (!theirs.is_empty()).then(|| s.spawn(|| copy(&mut theirs.into_iter(), &mut || false)));
        let mine = copy(&mut mine.into_iter(), stop);
        // This thread's half is done: it goes on asking `stop` (only this thread can) while
        // the other half finishes, and passes a stop on.
        if let Some(h) = &other {
            while !h.is_finished() {
                if stop() {
                    halt.store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        let theirs =
            other.map_or(Ok(false), |h| h.join().unwrap_or_else(|_| Err(PyValueError::new_err("a batch copy failed"))));
        (theirs, mine)
    });
    converted |= theirs_converted? | mine_converted?;
    let form = converted.then_some(exact).flatten();
    let (mut shape, elem) = match form {
        Some(e) => exact_shape(e, first.width, first.height, one),
        None => frame_shape(first.format, first.width, first.height, one),
    };
    shape.insert(0, frames.len() as i64);
    Ok(Array::from_pooled(buffer, shape, elem))
}

/// One frame's bytes as a batch takes them: converted to the batch's form, or the
/// frame's own packed runs (no copy before the one into the batch).
enum FrameBytes<'a> {
    Converted(Vec<u8>),
    Runs(std::borrow::Cow<'a, video_hw::frame::HostFrame>),
}

impl<'a> FrameBytes<'a> {
    /// `f`'s bytes, converted to `exact` where that changes them (`scratch` packs a
    /// padded picture first).
    fn of(f: &'a video_hw::Frame, exact: Option<Exact>, scratch: &mut Vec<u8>) -> PyResult<FrameBytes<'a>> {
        let host = f.to_host().map_err(crate::errors::to_py)?;
        if exact.is_some_and(|e| e.converts(f.format)) {
            let bytes = if host.is_packed() {
                host.as_bytes()
            } else {
                scratch.clear();
                host.write_packed(scratch);
                scratch
            };
            // Already in that form (a YUV form of the picture's own depth): `None`, and the
            // picture's own bytes go into the batch, with no copy in between.
            if let Some(out) = converted(f, bytes, exact)? {
                return Ok(FrameBytes::Converted(out));
            }
        }
        Ok(FrameBytes::Runs(host))
    }

    fn len(&self) -> usize {
        match self {
            FrameBytes::Converted(b) => b.len(),
            FrameBytes::Runs(h) => h.packed_runs().map(<[u8]>::len).sum(),
        }
    }

    fn is_converted(&self) -> bool {
        matches!(self, FrameBytes::Converted(_))
    }

    /// Copies the bytes into `dest` (their size).
    fn copy_into(&self, dest: &mut [u8]) {
        match self {
            FrameBytes::Converted(b) => dest.copy_from_slice(b),
            FrameBytes::Runs(h) => {
                let mut at = 0;
                for run in h.packed_runs() {
                    dest[at..at + run.len()].copy_from_slice(run);
                    at += run.len();
                }
            }
        }
    }
}

/// The cores this process may run on.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A GPU frame's pixels: over the frame's own memory where its planes lie as the shape
/// says (RGB rows; NV12 chroma right under the luma), else over a packed copy in new
/// device memory.
pub fn device_array(frame: Arc<video_hw::Frame>) -> PyResult<Array> {
    let FrameData::Device(cuda) = &frame.data else {
        return Err(PyValueError::new_err("not a GPU frame"));
    };
    let (w, h) = (i64::from(frame.width), i64::from(frame.height));
    let item = frame.format.bytes_per_sample() as i64;
    let pitch = cuda.pitch() as i64;
    let p0 = cuda.plane_ptr(0).unwrap_or(0);
    let stacked = |i: usize, rows: i64| cuda.plane_ptr(i) == Some(p0 + (pitch * rows) as u64);
    let device = Place::Cuda(cuda.device_index());
    if Arc::strong_count(&frame) > 1 {
        // Kept by the reader too: a copy (see `host_array`).
        return device_batch(std::slice::from_ref(&frame)).map(|a| a.squeeze_first());
    }
    let own = |shape: Vec<i64>, strides: Vec<i64>| {
        Array::new(Owner::Frame(frame.clone()), p0, shape, strides, frame.format.sample_type(), device)
    };
    match frame.format {
        PixelFormat::Rgb24 => return Ok(own(vec![h, w, 3], vec![pitch, 3, 1])),
        PixelFormat::Bgra => return Ok(own(vec![h, w, 4], vec![pitch, 4, 1])),
        PixelFormat::RgbPlanar if stacked(1, h) && stacked(2, 2 * h) => {
            return Ok(own(vec![3, h, w], vec![pitch * h, pitch, 1]));
        }
        PixelFormat::Nv12 | PixelFormat::P010
            if stacked(1, h) && frame.width.is_multiple_of(2) && pitch % item == 0 =>
        {
            return Ok(own(vec![h + (h + 1) / 2, w], vec![pitch / item, 1]));
        }
        _ => {}
    }
    device_batch(std::slice::from_ref(&frame)).map(|a| a.squeeze_first())
}

/// Stacks GPU frames (all of one format, size and GPU) into one new device array `(N, …)`.
pub fn device_batch(frames: &[Arc<video_hw::Frame>]) -> PyResult<Array> {
    use video_hw::device_array::DeviceArray;
    let Some(first) = frames.first() else {
        return Ok(Array::from_bytes(Vec::new().into_boxed_slice(), vec![0], SampleType::U8));
    };
    let FrameData::Device(c0) = &first.data else {
        return Err(PyValueError::new_err("not a GPU frame"));
    };
    let one = DeviceArray::packed_size(first);
    let array = DeviceArray::new(c0.device_index(), one * frames.len()).map_err(crate::errors::to_py)?;
    for (i, f) in frames.iter().enumerate() {
        if (f.format, f.width, f.height) != (first.format, first.width, first.height) {
            return Err(PyValueError::new_err(format!(
                "frames of different sizes or formats ({}x{} {} and {}x{} {}) cannot form one batch: ask for them apart",
                first.width, first.height, first.format, f.width, f.height, f.format
            )));
        }
        array.put_packed(i * one, f).map_err(crate::errors::to_py)?;
    }
    let (mut shape, elem) = frame_shape(first.format, first.width, first.height, one);
    shape.insert(0, frames.len() as i64);
    let strides = compact_strides(&shape);
    let ptr = array.ptr();
    let device = Place::Cuda(array.device_index());
    Ok(Array::new(Owner::Device(Arc::new(array)), ptr, shape, strides, elem, device))
}
