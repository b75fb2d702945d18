//! `device="auto"`'s native half: the library's cost model (`video_hw::device_choice`) and
//! the facts it decides from, for the Python decoder (`python/video_hw/_auto.py`), which
//! routes each call to a CPU or a GPU decoder of the same file.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use video_hw::Codec;
use video_hw::device_choice::{CostModel, CpuSide, GpuSide, Job, Processor, choose};

use crate::errors::IntoPy;

fn processor(name: &str) -> PyResult<Processor> {
    match name {
        "cpu" => Ok(Processor::Cpu),
        "cuda" => Ok(Processor::Gpu),
        other => Err(pyo3::exceptions::PyValueError::new_err(format!("processor '{other}': cpu or cuda"))),
    }
}

/// One job as Python describes it: `(codec, width, height, packets, runs, frames, output,
/// bytes_per_pixel, rgb)`.
type JobArgs = (String, u32, u32, u64, u64, u64, String, f64, bool);

fn job(args: &JobArgs) -> PyResult<Job> {
    let (codec, width, height, packets, runs, frames, output, bytes_per_pixel, rgb) = args;
    let codec: Codec = codec.parse().py_err()?;
    Ok(Job {
        codec,
        width: *width,
        height: *height,
        packets: *packets,
        runs: *runs,
        frames: *frames,
        output: processor(output)?,
        bytes_per_pixel: *bytes_per_pixel,
        rgb: *rgb,
    })
}

/// Decides one job: `job` (see `JobArgs`), on GPU `device`, `session_open` when the
/// decoder already has a GPU session, `cpu_decodes` when a software engine decodes the
/// stream, with `threads` CPU worker threads over `cpu_sessions` sessions (default 1). The
/// GPU's engine is asked whether it decodes the stream only where the GPU would otherwise
/// win (asking starts CUDA). `sessions`, where given, caps the GPU engines the job may use
/// (a decoder of one session, as `decode_many` opens each file's, uses one). Returns
/// `{"device", "why", "estimate_s": {"cpu", "cuda"}, "cpu_parallel", "gpu": {...the facts}}`,
/// `cpu_parallel` being the threads the CPU side keeps busy on the job (what a CPU call's
/// rate is observed over).
#[pyfunction]
#[pyo3(signature = (job_args, *, device, session_open, cpu_decodes, threads, sessions = None, cpu_sessions = None))]
#[allow(clippy::too_many_arguments, reason = "keyword arguments of a Python function")]
pub fn device_choice<'py>(
    py: Python<'py>,
    job_args: JobArgs,
    device: u32,
    session_open: bool,
    cpu_decodes: bool,
    threads: u32,
    sessions: Option<u32>,
    cpu_sessions: Option<u32>,
) -> PyResult<Bound<'py, PyDict>> {
    let job = job(&job_args)?;
    let cpu = CpuSide { decodes: cpu_decodes, threads, sessions: cpu_sessions.unwrap_or(1) };
    let (choice, gpu) = py.detach(|| {
        let facts = |ask| {
            let side = video_hw::registry::gpu_side(job.codec, job.width, job.height, device, ask);
            let engines = sessions.map_or(side.engines, |n| side.engines.min(n.max(1)));
            GpuSide { session_open, engines, ..side }
        };
        let gpu = facts(false);
        let choice = choose(&job, &cpu, &gpu);
        if !choice.needs_probe {
            return (choice, gpu);
        }
        let gpu = facts(true);
        (choose(&job, &cpu, &gpu), gpu)
    });
    let d = PyDict::new(py);
    d.set_item("device", choice.processor.name())?;
    d.set_item("why", choice.why)?;
    let estimate = PyDict::new(py);
    estimate.set_item("cpu", choice.estimate.cpu_s)?;
    estimate.set_item("cuda", choice.estimate.gpu_s)?;
    d.set_item("estimate_s", estimate)?;
    d.set_item("cpu_parallel", cpu.parallel(&job))?;
    let g = PyDict::new(py);
    g.set_item("present", gpu.present)?;
    g.set_item("decodes", gpu.decodes)?;
    g.set_item("why_not", gpu.why_not)?;
    g.set_item("cuda_started", gpu.cuda_started)?;
    g.set_item("session_open", gpu.session_open)?;
    g.set_item("engines", gpu.engines)?;
    g.set_item("free_memory", gpu.free_memory)?;
    d.set_item("gpu", g)?;
    Ok(d)
}

/// What a finished job took on `device` ("cpu" or "cuda"), with `parallel` engines or
/// threads at work: the model refines its rates from it.
#[pyfunction]
pub fn observe_decode(device: &str, job_args: JobArgs, parallel: u32, seconds: f64) -> PyResult<()> {
    CostModel::global().observe(processor(device)?, &job(&job_args)?, parallel, seconds);
    Ok(())
}

/// The model's per-pixel decode rates now, `{"cpu": {codec: pixels/s per thread}, "cuda":
/// {codec: pixels/s per engine}}`, with the jobs observed of each.
#[pyfunction]
pub fn device_rates<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let model = CostModel::global();
    let rates = model.rates();
    let d = PyDict::new(py);
    for (p, processor) in [Processor::Cpu, Processor::Gpu].into_iter().enumerate() {
        let side = PyDict::new(py);
        for (c, codec) in [Codec::H264, Codec::Hevc, Codec::Av1, Codec::Vp9].into_iter().enumerate() {
            let observed = model.observations(processor, codec);
            side.set_item(codec.name(), (rates.pixels_per_s[p][c], observed))?;
        }
        d.set_item(processor.name(), side)?;
    }
    Ok(d)
}

/// The engine that decodes `codec` on the CPU here (what `engine="software"` opens), or
/// None.
#[pyfunction]
pub fn software_engine(codec: &str) -> PyResult<Option<&'static str>> {
    let codec: Codec = codec.parse().py_err()?;
    Ok(video_hw::registry::software_decode_engine(codec).map(|e| e.name()))
}

/// The engine that decodes into GPU memory here, where its driver loads (nothing is
/// started), or None: the GPU side of `device="auto"`.
#[pyfunction]
pub fn device_engine() -> Option<&'static str> {
    video_hw::registry::device_decode_engine().map(|e| e.name())
}
