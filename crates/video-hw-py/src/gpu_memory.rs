//! The GPU memory budget from Python: `video_hw.gpu_memory()` reads the ledger,
//! `video_hw.set_max_gpu_memory()` sets the process-wide budget (see
//! `video_hw::gpu_memory`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// GPU `device`'s memory as this process's sessions hold it: `in_use` and `peak` (bytes
/// counted against the budget), `delivered` and `peak_with_delivered` (batches handed out),
/// `by_use` (bytes per use), `limit` (None: unbounded), `waits` and `waited_seconds`
/// (jobs that waited for admission).
#[pyfunction]
#[pyo3(signature = (device = 0))]
pub fn gpu_memory(py: Python<'_>, device: u32) -> PyResult<Bound<'_, PyDict>> {
    let u = video_hw::gpu_memory::usage(device);
    let d = PyDict::new(py);
    d.set_item("in_use", u.in_use)?;
    d.set_item("peak", u.peak)?;
    d.set_item("delivered", u.delivered)?;
    d.set_item("peak_with_delivered", u.peak_with_delivered)?;
    let by_use = PyDict::new(py);
    for (k, v) in &u.by_use {
        by_use.set_item(k.name(), v)?;
    }
    d.set_item("by_use", by_use)?;
    d.set_item("limit", u.limit)?;
    d.set_item("waits", u.waits)?;
    d.set_item("waited_seconds", u.waited.as_secs_f64())?;
    Ok(d)
}

/// Starts GPU `device`'s peaks again from what is held now.
#[pyfunction]
#[pyo3(signature = (device = 0))]
pub fn reset_gpu_memory_peak(device: u32) {
    video_hw::gpu_memory::reset_peak(device);
}

/// Whether a job reserving `reserve` bytes on GPU `device` would start at once under
/// `budget` (bytes; None: the process's; 0: none): `device="auto"` asks it before it routes
/// a file of `decode_many` to a GPU whose budget may be full (private to the package).
#[pyfunction(name = "_gpu_memory_would_admit")]
#[pyo3(signature = (reserve, budget = None, device = 0))]
pub fn gpu_memory_would_admit(reserve: u64, budget: Option<u64>, device: u32) -> bool {
    video_hw::gpu_memory::would_admit_now(device, reserve, budget)
}

/// Reads a budget as Python callers give it: bytes (int), a string (`"8G"`, `"512M"`), or
/// None (none set here).
pub fn budget_bytes(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    let Some(v) = value.filter(|v| !v.is_none()) else { return Ok(None) };
    if let Ok(n) = v.extract::<u64>() {
        return Ok(Some(n));
    }
    let text: String =
        v.extract().map_err(|_| PyValueError::new_err("max_gpu_memory: bytes (an int) or a size such as \"8G\""))?;
    video_hw::env::parse_bytes(&text)
        .ok_or_else(|| PyValueError::new_err(format!("max_gpu_memory: {text:?} is not a size (\"8G\", \"512M\")")))
        .map(Some)
}

/// Sets the budget of every GPU for this process's sessions: bytes or a size string
/// (`"8G"`); 0 for none; None goes back to `VIDEO_HW_MAX_GPU_MEMORY` (or none).
#[pyfunction]
#[pyo3(signature = (limit))]
pub fn set_max_gpu_memory(limit: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    video_hw::gpu_memory::set_limit(budget_bytes(limit)?);
    Ok(())
}

/// A size as `max_gpu_memory=` takes it, in bytes (None stays None).
#[pyfunction]
#[pyo3(signature = (value))]
pub fn parse_gpu_budget(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    budget_bytes(value)
}
