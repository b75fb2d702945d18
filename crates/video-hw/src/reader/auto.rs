//! A frame reader that picks the processor call by call: [`AutoReader`], the library's
//! `device="auto"`. Each call's frames are a job for the cost model
//! ([`crate::device_choice`]): the packets and runs the frame index plans for them, the
//! stream's size and codec, the CPU side's threads and the GPU's facts. The call goes to
//! the side estimated faster, and what it took refines the model. Frames land in host
//! memory either way (the GPU's converted there and copied back, as a reader with
//! `Output::Host` on the GPU's engine gives them), so callers see one reader.
//!
//! The file is opened on a software engine at once (the index and the GOP layout come
//! from it); a reader on the GPU's engine only when a call is first sent there. Asking the
//! GPU whether it decodes the stream starts CUDA, so it is asked only where the GPU could
//! win ([`Choice::needs_probe`]). `VIDEO_HW_AUTO=cpu|cuda` or [`AutoReader::force`]
//! forces a side (measurements, tests), as for Python.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::codec::Codec;
use crate::config::{DecoderConfig, Output};
use crate::device_choice::{Choice, CostModel, CpuSide, Estimate, GpuSide, Job, Processor};
use crate::engine::{Engine, EnginePreference};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{Demuxer, FrameIndex};
use crate::pixels::PixelFormat;
use crate::registry;

use super::FrameReader;

/// A reader of `path`'s default video track on the engine `engine` names for its codec,
/// frames in host memory as `format`, with `index` where one is made already (else read
/// from, or saved to, the process's index cache as [`FrameReader::open`] does).
fn open_reader(
    path: &Path,
    index: Option<FrameIndex>,
    format: PixelFormat,
    engine: impl FnOnce(Codec) -> Result<Engine>,
    device: u32,
) -> Result<FrameReader> {
    let mut demuxer = Demuxer::open(path)?;
    let track = demuxer.video_track().ok_or_else(|| demuxer.no_video_error())?;
    let config =
        DecoderConfig::for_track(track).ok_or_else(|| Error::unsupported(track.codec.to_string(), "no decoder"))?;
    let engine = engine(config.codec)?;
    let config = config.output(Output::Host(format)).engine(EnginePreference::Only(engine)).device_index(device);
    let track = track.index;
    let index = match index {
        Some(i) => i,
        None => crate::media_glue::index_cache(None).index_in(&mut demuxer, track, path, crate::env::index_dir)?.0,
    };
    FrameReader::with_index(demuxer, index, config)
}

/// A [`FrameReader`] over a software engine and, once a call is sent there, one over the
/// GPU's engine, each call on the side the cost model estimates faster (module docs).
pub struct AutoReader {
    path: PathBuf,
    format: PixelFormat,
    device: u32,
    cpu: FrameReader,
    gpu: Option<FrameReader>,
    /// The GPU reader could not open (its engine refused the stream): the CPU from then on.
    gpu_refused: Option<String>,
    last: Option<Choice>,
    calls: [u64; 2],
    /// A side forced ([`force`](AutoReader::force), else `VIDEO_HW_AUTO`).
    force: Option<Processor>,
}

impl std::fmt::Debug for AutoReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoReader")
            .field("path", &self.path)
            .field("frames", &self.cpu.len())
            .field("gpu_open", &self.gpu.is_some())
            .field("calls", &self.calls)
            .finish()
    }
}

impl AutoReader {
    /// Opens the default video track of the file at `path` on the CPU's best engine for
    /// its codec, frames in host memory as `format`. Fails as [`FrameReader::open`] does,
    /// or where no software engine decodes the codec here.
    pub fn open(path: impl AsRef<Path>, format: PixelFormat) -> Result<Self> {
        Self::open_on(path, format, 0)
    }

    /// [`open`](Self::open), with GPU `device` as the GPU side.
    pub fn open_on(path: impl AsRef<Path>, format: PixelFormat, device: u32) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let software = |codec: Codec| {
            registry::software_decode_engine(codec)
                .ok_or_else(|| Error::unsupported(codec.to_string(), "no software engine decodes it here"))
        };
        let cpu = open_reader(&path, None, format, software, device)?;
        let force = crate::env::settings().auto_side;
        Ok(AutoReader { path, format, device, cpu, gpu: None, gpu_refused: None, last: None, calls: [0; 2], force })
    }

    /// Every call on `side` (where it can decode the stream; the model decides where it
    /// cannot), or `None` for the model's choice: measuring one side, or a test. By
    /// default `VIDEO_HW_AUTO=cpu|cuda` as the reader opened.
    pub fn force(mut self, side: Option<Processor>) -> Self {
        self.force = side;
        self
    }

    /// Frames in the track.
    pub fn len(&self) -> usize {
        self.cpu.len()
    }

    /// Whether the track has no frames.
    pub fn is_empty(&self) -> bool {
        self.cpu.len() == 0
    }

    /// The frames at `frames` (track order indices; any order, repeats allowed), decoded on
    /// the side the model picks for them; see [`FrameReader::frames_at`].
    pub fn frames_at(&mut self, frames: &[usize]) -> Result<Vec<Arc<Frame>>> {
        let job = self.job(frames);
        let (choice, gpu_engines) = self.choose(&job);
        let on_gpu = choice.processor == Processor::Gpu && self.gpu_reader().is_some();
        let choice = if choice.processor == Processor::Gpu && !on_gpu {
            let why = self.gpu_refused.clone().unwrap_or_default();
            Choice { processor: Processor::Cpu, why: format!("the GPU's engine refused the stream: {why}"), ..choice }
        } else {
            choice
        };
        let warm = !on_gpu || self.calls[1] > 0;
        let started = Instant::now();
        let got = match self.gpu.as_mut().filter(|_| on_gpu) {
            Some(gpu) => gpu.frames_at(frames)?,
            None => self.cpu.frames_at(frames)?,
        };
        let seconds = started.elapsed().as_secs_f64();
        let model = CostModel::global();
        if warm {
            let parallel = if on_gpu {
                gpu_engines.min(u32::try_from(job.runs.max(1)).unwrap_or(u32::MAX))
            } else {
                self.cpu_side().parallel(&job)
            };
            model.observe(choice.processor, &job, parallel.max(1), seconds);
        } else {
            // The GPU's first call pays its start: it says the GPU side now runs, not a rate.
            model.gpu_used();
        }
        self.calls[usize::from(on_gpu)] += 1;
        self.last = Some(choice);
        Ok(got)
    }

    /// The last call's choice: the side, why, and both estimates.
    pub fn last_choice(&self) -> Option<&Choice> {
        self.last.as_ref()
    }

    /// Calls decided for the CPU and for the GPU so far.
    pub fn calls(&self) -> (u64, u64) {
        (self.calls[0], self.calls[1])
    }

    /// The engine of the side that ran the last call ("auto -> cpu: …"), or the CPU side's
    /// before any.
    pub fn backend(&self) -> String {
        let gpu_last = self.last.as_ref().is_some_and(|c| c.processor == Processor::Gpu);
        let (side, reader) = match (&self.gpu, gpu_last) {
            (Some(g), true) => ("cuda", g),
            _ => ("cpu", &self.cpu),
        };
        format!("auto -> {side}: {}", reader.backend().unwrap_or("(no session yet)"))
    }

    /// The job the model sees for `frames`.
    fn job(&self, frames: &[usize]) -> Job {
        let (runs, packets) = self.cpu.decode_work(frames);
        let (width, height) = self.size();
        let pixels = f64::from(width) * f64::from(height);
        Job {
            codec: self.codec(),
            width,
            height,
            packets: packets as u64,
            runs: runs as u64,
            frames: frames.len() as u64,
            output: Processor::Cpu,
            bytes_per_pixel: self.format.frame_size(width, height) as f64 / pixels.max(1.0),
            rgb: self.format.rgb_layout().is_some(),
        }
    }

    fn codec(&self) -> Codec {
        self.cpu.index().track().codec.video().unwrap_or(Codec::H264)
    }

    /// The track's picture size (1920x1080 where the container does not say).
    fn size(&self) -> (u32, u32) {
        self.cpu
            .index()
            .track()
            .video
            .map(|v| (v.width, v.height))
            .filter(|&(w, h)| w > 0 && h > 0)
            .unwrap_or((1920, 1080))
    }

    /// The CPU side: its sessions times each one's threads, at most the machine's cores.
    fn cpu_side(&self) -> CpuSide {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let per = self.cpu.decode_threads().unwrap_or(1).max(1) as usize;
        let sessions = self.cpu.max_sessions().max(1);
        let threads = u32::try_from((sessions * per).min(cores)).unwrap_or(1);
        CpuSide { decodes: true, threads, sessions: u32::try_from(sessions).unwrap_or(1) }
    }

    /// The model's choice for `job` (or the forced side), and the GPU engines the facts it
    /// read gave (what a GPU call's rate is observed over).
    fn choose(&self, job: &Job) -> (Choice, u32) {
        let (w, h) = (job.width, job.height);
        let facts =
            |ask| GpuSide { session_open: self.gpu.is_some(), ..registry::gpu_side(job.codec, w, h, self.device, ask) };
        if let Some(p) = self.force {
            let gpu_can = registry::device_decode_engine().is_some() && self.gpu_refused.is_none();
            if p == Processor::Cpu || gpu_can {
                let choice = Choice {
                    processor: p,
                    why: format!("VIDEO_HW_AUTO={}", p.name()),
                    estimate: Estimate::default(),
                    needs_probe: false,
                };
                return (choice, facts(false).engines.max(1));
            }
        }
        let cpu = self.cpu_side();
        let model = CostModel::global();
        let gpu = facts(false);
        let choice = model.choose(job, &cpu, &gpu);
        if !choice.needs_probe || self.gpu_refused.is_some() {
            return (choice, gpu.engines.max(1));
        }
        let gpu = facts(true);
        (model.choose(job, &cpu, &gpu), gpu.engines.max(1))
    }

    /// The GPU side's reader, opened at its first call on the CPU reader's index (None
    /// where its engine refuses the stream).
    fn gpu_reader(&mut self) -> Option<&mut FrameReader> {
        if self.gpu.is_none() && self.gpu_refused.is_none() {
            let engine = registry::device_decode_engine()?;
            let index = Some(self.cpu.index().clone());
            match open_reader(&self.path, index, self.format, |_| Ok(engine), self.device) {
                Ok(r) => self.gpu = Some(r),
                Err(e) => self.gpu_refused = Some(e.to_string()),
            }
        }
        self.gpu.as_mut()
    }
}
