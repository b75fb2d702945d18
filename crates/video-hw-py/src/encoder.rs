//! `video_hw.Encoder`: frames from numpy arrays (any object with the buffer protocol), the
//! package's own arrays or CUDA arrays in; packets out, and optionally a file (MP4, Matroska,
//! WebM through the library's muxers, or a raw Annex-B stream).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::array::{Array, Place};
use crate::errors::IntoPy;
use video_hw::media::mux::{MuxFormat, Muxer};
use video_hw::media::{MediaPacket, Track};
use video_hw::{
    Codec, EncoderConfig, EnginePreference, FrameOptions, HostFrame, PixelFormat, Preset, RateControl, Rational, Tuning,
};

/// One encoded access unit.
#[pyclass(module = "video_hw._video_hw", frozen)]
pub struct Packet {
    /// The access unit (Annex-B).
    #[pyo3(get)]
    data: Py<PyBytes>,
    /// Presentation time in seconds.
    #[pyo3(get)]
    pts_seconds: Option<f64>,
    /// Decode time in seconds (before `pts_seconds` with B-frames).
    #[pyo3(get)]
    dts_seconds: Option<f64>,
    /// A random access point (IDR).
    #[pyo3(get)]
    key_frame: bool,
}

#[pymethods]
impl Packet {
    fn __bytes__(&self, py: Python<'_>) -> Py<PyBytes> {
        self.data.clone_ref(py)
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.data.bind(py).as_bytes().len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Packet({} bytes, pts {:?} s, key {})",
            self.data.bind(py).as_bytes().len(),
            self.pts_seconds,
            self.key_frame
        )
    }
}

/// Where packets go besides the caller.
enum Sink {
    None,
    Raw(std::io::BufWriter<std::fs::File>),
    Mux(Box<Muxer>),
}

struct Open {
    encoder: video_hw::Encoder,
    sink: Sink,
    config: EncoderConfig,
}

/// The encoder behind `video_hw.Encoder`.
#[pyclass(module = "video_hw._video_hw")]
pub struct NativeEncoder {
    open: Mutex<Option<Open>>,
    /// The figures at close, for `stats` after it.
    closed: Mutex<Option<video_hw::EncoderStats>>,
    device: u32,
}

fn parse<T: std::str::FromStr<Err = video_hw::Error>>(s: &str) -> PyResult<T> {
    s.parse::<T>().py_err()
}

/// The bytes of one picture from `frame`: a buffer (numpy, bytes), a `video_hw.Array` or
/// `Frame`, or an object with `__cuda_array_interface__` (copied from the GPU).
fn pixels(py: Python<'_>, frame: &Bound<'_, PyAny>, device: u32) -> PyResult<Vec<u8>> {
    // A decoded `Frame` stands for its pixels.
    let frame = match frame.cast::<crate::batch::Frame>() {
        Ok(f) => f.borrow().data.bind(py).clone().into_any(),
        Err(_) => frame.clone(),
    };
    if let Ok(a) = frame.cast::<Array>()
        && a.get().place() == Place::Cpu
    {
        return a.get().host_bytes();
    }
    if let Ok(cai) = frame.getattr("__cuda_array_interface__") {
        return download(py, &cai, device);
    }
    // The buffer protocol through `memoryview` (pyo3's buffer API is outside the stable ABI
    // before Python 3.11); `tobytes` copies in C order whatever the strides.
    let view = py
        .import("builtins")?
        .getattr("memoryview")?
        .call1((&frame,))
        .map_err(|e| PyValueError::new_err(format!("a frame must be a uint8 array (buffer protocol): {e}")))?;
    let item: usize = view.getattr("itemsize")?.extract()?;
    if item != 1 {
        return Err(PyValueError::new_err(format!("a frame of {item}-byte elements: uint8 is taken")));
    }
    Ok(view.call_method0("tobytes")?.cast_into::<PyBytes>()?.as_bytes().to_vec())
}

/// Copies a CUDA array interface's picture to the host: the outer dimension may be pitched,
/// the inner ones packed.
fn download(py: Python<'_>, cai: &Bound<'_, PyAny>, device: u32) -> PyResult<Vec<u8>> {
    let shape: Vec<usize> = cai.get_item("shape")?.extract()?;
    let typestr: String = cai.get_item("typestr")?.extract()?;
    let (ptr, _): (u64, bool) = cai.get_item("data")?.extract()?;
    if !typestr.ends_with("u1") {
        return Err(PyValueError::new_err(format!("a CUDA frame of {typestr}: uint8 (|u1) is taken")));
    }
    let Some((&rows, inner)) = shape.split_first() else { return Ok(Vec::new()) };
    let row_bytes: usize = inner.iter().product();
    let strides: Option<Vec<usize>> = cai.get_item("strides").ok().and_then(|s| s.extract().ok());
    let pitch = match &strides {
        Some(s) => {
            let mut want = 1;
            for (k, &n) in inner.iter().enumerate().rev() {
                if s[k + 1] != want {
                    return Err(PyValueError::new_err("a CUDA frame whose rows are not packed"));
                }
                want *= n;
            }
            s[0]
        }
        None => row_bytes,
    };
    let mut out = vec![0u8; rows * row_bytes];
    py.detach(|| video_hw::device_array::download(device, ptr, pitch, row_bytes, rows, &mut out)).py_err()?;
    Ok(out)
}

impl NativeEncoder {
    fn packets<'py>(py: Python<'py>, open: &mut Open, got: Vec<video_hw::Packet>) -> PyResult<Bound<'py, PyList>> {
        let tb = open.config.timebase;
        let list = PyList::empty(py);
        for p in got {
            match &mut open.sink {
                Sink::None => {}
                Sink::Raw(w) => w.write_all(&p.data)?,
                Sink::Mux(m) => {
                    m.write(MediaPacket::new(0, p.data.clone(), p.pts, p.dts, p.keyframe)).py_err()?;
                }
            }
            let seconds = |t: Option<i64>| t.map(|t| t as f64 * tb.as_f64());
            list.append(Packet {
                data: PyBytes::new(py, &p.data).unbind(),
                pts_seconds: seconds(p.pts),
                dts_seconds: seconds(p.dts),
                key_frame: p.keyframe,
            })?;
        }
        Ok(list)
    }

    fn with<R>(&self, f: impl FnOnce(&mut Open) -> PyResult<R>) -> PyResult<R> {
        let mut guard = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let open = guard.as_mut().ok_or_else(|| PyRuntimeError::new_err("the encoder is closed"))?;
        f(open)
    }
}

#[pymethods]
impl NativeEncoder {
    /// Opens an encoder (and the file at `path`, when given).
    #[new]
    #[pyo3(signature = (path, *, codec, width, height, fps, pixel_format, rate_control, bitrate, max_bitrate,
        qp, gop, b_frames, preset, tuning, engine, device, ffmpeg_encoder = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: Option<PathBuf>,
        codec: &str,
        width: u32,
        height: u32,
        fps: (i64, i64),
        pixel_format: &str,
        rate_control: &str,
        bitrate: Option<u64>,
        max_bitrate: Option<u64>,
        qp: Option<u8>,
        gop: Option<u32>,
        b_frames: Option<u32>,
        preset: &str,
        tuning: &str,
        engine: &str,
        device: u32,
        ffmpeg_encoder: Option<String>,
    ) -> PyResult<Self> {
        let codec: Codec = parse(codec)?;
        if fps.0 <= 0 || fps.1 <= 0 {
            return Err(PyValueError::new_err(format!("fps {}/{} must be positive", fps.0, fps.1)));
        }
        let mut config = EncoderConfig::new(codec, width, height);
        config.fps = Rational::new(fps.0, fps.1);
        config.input_format = parse::<PixelFormat>(pixel_format)?;
        config.rate_control = match rate_control {
            "cbr" => RateControl::Cbr { bitrate: bitrate.unwrap_or(4_000_000) },
            "vbr" => {
                let avg = bitrate.unwrap_or(4_000_000);
                RateControl::Vbr { avg, max: max_bitrate.unwrap_or(avg.saturating_mul(3) / 2) }
            }
            "cqp" => {
                let q = qp.unwrap_or(23);
                RateControl::ConstQp { i: q.saturating_sub(2), p: q, b: q.saturating_add(2).min(51) }
            }
            other => return Err(PyValueError::new_err(format!("rate_control '{other}': cbr, vbr or cqp"))),
        };
        config.gop = gop;
        config.b_frames = b_frames;
        config.preset = parse::<Preset>(preset)?;
        config.tuning = parse::<Tuning>(tuning)?;
        config.engine = parse::<EnginePreference>(engine)?;
        config.device_index = device;
        config.ffmpeg_encoder = ffmpeg_encoder;
        // One tick a frame: packets' times are frame numbers over the rate.
        config.timebase = Rational::new(config.fps.den, config.fps.num);
        let open = py
            .detach(|| -> video_hw::Result<Open> {
                let encoder = video_hw::Encoder::open(config.clone())?;
                let sink = match &path {
                    None => Sink::None,
                    Some(p) => match MuxFormat::from_path(p) {
                        Some(format) => {
                            let mut track = Track::video(0, config.codec, config.timebase, width, height);
                            track.frame_rate = Some(config.fps);
                            Sink::Mux(Box::new(Muxer::create(p, format, &[track])?))
                        }
                        None => Sink::Raw(std::io::BufWriter::new(std::fs::File::create(p)?)),
                    },
                };
                Ok(Open { encoder, sink, config })
            })
            .py_err()?;
        Ok(NativeEncoder { open: Mutex::new(Some(open)), closed: Mutex::new(None), device })
    }

    /// The engine that encodes, described.
    #[getter]
    fn backend(&self) -> PyResult<String> {
        self.with(|o| Ok(o.encoder.backend().to_string()))
    }

    /// Encodes one picture (`frame_number` sets its time: frames since the start); returns
    /// the packets ready.
    #[pyo3(signature = (frame, frame_number = None, key_frame = false))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        frame: &Bound<'py, PyAny>,
        frame_number: Option<i64>,
        key_frame: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let bytes = pixels(py, frame, self.device)?;
        self.with(|open| {
            let c = &open.config;
            let (format, w, h) = (c.input_format, c.width, c.height);
            let need: usize = (0..format.plane_count())
                .map(|i| {
                    let (row, rows) = format.plane_size(i, w, h);
                    row * rows
                })
                .sum();
            if bytes.len() != need {
                return Err(PyValueError::new_err(format!(
                    "a {w}x{h} {format} frame is {need} bytes; this one is {}",
                    bytes.len()
                )));
            }
            let got = py
                .detach(|| -> video_hw::Result<Vec<video_hw::Packet>> {
                    let host = HostFrame::from_packed(format, w, h, bytes)?;
                    let frame = video_hw::Frame::host(format, w, h, host);
                    let options = FrameOptions { pts: frame_number, force_keyframe: key_frame };
                    open.encoder.submit(&frame, options)?;
                    let mut out = Vec::new();
                    while let Some(p) = open.encoder.try_reap()? {
                        out.push(p);
                    }
                    Ok(out)
                })
                .py_err()?;
            Self::packets(py, open, got)
        })
    }

    /// Drains the encoder, finishes the file and returns the last packets.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut guard = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut open) = guard.take() else { return Ok(PyList::empty(py)) };
        let rest = py.detach(|| open.encoder.flush()).py_err()?;
        let list = Self::packets(py, &mut open, rest)?;
        *self.closed.lock().unwrap_or_else(|p| p.into_inner()) = Some(open.encoder.stats());
        match open.sink {
            Sink::None => {}
            Sink::Raw(mut w) => w.flush()?,
            Sink::Mux(m) => {
                py.detach(|| m.finish()).py_err()?;
            }
        }
        Ok(list)
    }

    /// What the encoder did: frames in, packets and bytes out, key frames.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let closed = self.closed.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let s = match closed {
            Some(s) => s,
            None => self.with(|o| Ok(o.encoder.stats()))?,
        };
        {
            let d = PyDict::new(py);
            d.set_item("frames_in", s.frames_in)?;
            d.set_item("packets_out", s.packets_out)?;
            d.set_item("bytes_out", s.bytes_out)?;
            d.set_item("key_frames", s.keyframes)?;
            Ok(d)
        }
    }
}
