//! `NativeAudioDecoder`: one audio track, decoded to float32 `(channels, samples)` arrays
//! (the Python side wraps it as `video_hw.AudioDecoder`).

use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use video_hw::audio::{AudioDecoder, AudioOptions};
use video_hw::engine::EnginePreference;

use crate::array::Array;
use crate::decoder::{Source, source};
use crate::errors::{IntoPy, to_py};
use crate::interrupt::Stoppable;

/// How long a call waits for a decoder another thread is using before it says so: a lock
/// held when the process forked never frees in the child.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// One audio track of a file or of bytes in memory.
#[pyclass(module = "video_hw._video_hw")]
pub struct NativeAudioDecoder {
    decoder: Mutex<AudioDecoder>,
    source: Source,
    /// Ctrl-C stops a long range between packets (`interrupt.rs`).
    stoppable: Stoppable,
}

impl NativeAudioDecoder {
    fn lock(&self) -> video_hw::Result<MutexGuard<'_, AudioDecoder>> {
        let start = Instant::now();
        loop {
            match self.decoder.try_lock() {
                Ok(g) => return Ok(g),
                // A panic inside a call leaves the decoder as it was between packets.
                Err(TryLockError::Poisoned(p)) => return Ok(p.into_inner()),
                Err(TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(video_hw::Error::Unsupported {
                        what: "this AudioDecoder".into(),
                        why: "another thread has used it for 30 s (or held it when this process forked): open a decoder per thread or worker".into(),
                    });
                }
            }
        }
    }
}

#[pymethods]
impl NativeAudioDecoder {
    #[new]
    #[pyo3(signature = (source_obj, stream_index=None, sample_rate=None, num_channels=None, engine="auto"))]
    fn new(
        py: Python<'_>,
        source_obj: &Bound<'_, PyAny>,
        stream_index: Option<usize>,
        sample_rate: Option<u32>,
        num_channels: Option<u16>,
        engine: &str,
    ) -> PyResult<Self> {
        let src = source(source_obj)?;
        let engine: EnginePreference = engine.parse().map_err(to_py)?;
        let options = AudioOptions { stream_index, sample_rate, channels: num_channels, engine };
        let s = src.clone();
        let decoder = py.detach(move || AudioDecoder::with_demuxer(s.demuxer()?, options)).py_err()?;
        Ok(NativeAudioDecoder { decoder: Mutex::new(decoder), source: src, stoppable: Stoppable::default() })
    }

    /// The track's metadata as a dict.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.lock().py_err()?.metadata().clone();
        let d = PyDict::new(py);
        d.set_item("codec", m.codec)?;
        d.set_item("stream_index", m.stream_index)?;
        d.set_item("sample_rate", m.sample_rate)?;
        d.set_item("num_channels", m.channels)?;
        d.set_item("channel_layout", m.layout)?;
        d.set_item("duration_seconds", m.duration_seconds)?;
        d.set_item("begin_stream_seconds", m.begin_stream_seconds)?;
        d.set_item("engine", m.engine.name())?;
        d.set_item("decoder", m.decoder)?;
        d.set_item("output_sample_rate", m.output_sample_rate)?;
        d.set_item("output_num_channels", m.output_channels)?;
        Ok(d)
    }

    /// Samples played in `[start, stop)` seconds: `(data, pts_seconds, sample_rate)`,
    /// `data` a float32 `(channels, samples)` array.
    #[pyo3(signature = (start, stop=None))]
    fn samples(&self, py: Python<'_>, start: f64, stop: Option<f64>) -> PyResult<(Array, f64, u32)> {
        // Stoppable between packets: Ctrl-C raises KeyboardInterrupt within a fraction of
        // a second, and the decoder gives the same samples afterwards.
        let s = self.stoppable.run_with(py, |check| {
            let mut decoder = self.lock().map_err(to_py)?;
            decoder.set_interrupt(Some(check));
            let got = decoder.get_samples_played_in_range(start, stop);
            decoder.set_interrupt(None);
            got.map_err(to_py)
        })?;
        let (channels, frames) = (s.channels as i64, s.frames() as i64);
        let (pts, rate) = (s.pts_seconds, s.sample_rate);
        Ok((Array::from_f32(s.data, vec![channels, frames]), pts, rate))
    }

    /// Packets that could not be decoded (damage) so far; their samples are missing.
    #[getter]
    fn damaged_packets(&self) -> PyResult<u64> {
        Ok(self.lock().py_err()?.damaged_packets())
    }

    /// The bytes the decoder reads, when it was opened from bytes (for pickling).
    fn source_bytes<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        match &self.source {
            Source::Bytes(b) => Some(PyBytes::new(py, b)),
            Source::Path(_) => None,
        }
    }
}
