//! The transform on the GPU: one launch of `transform_rgb` (RGB output) or `transform_yuv`
//! (a resized 4:2:0 rendition) of kernels/transform.cu per frame, reading the CUDA frame's
//! NV12/P016 planes where they are (a frame NVDEC lends is its output surface) and writing
//! the output into pooled device memory, its planes one under the other at one pitch (as
//! every CUDA frame of this crate's making).
//!
//! The kernel runs the CPU path's [`Plan`]: its tap tables go to device memory once per
//! plan (they change only with the source's format, size or colour) and the kernel sums
//! them in the CPU path's order, so both paths give the same values within float rounding.
//!
//! Per context, sessions share a few workers (a stream, an event, the last plan's
//! tables), each used by one frame at a time, so sessions transforming at once do not
//! wait on each other; and a pool of output buffers, so a frame costs no `cuMemAlloc` or
//! `cuMemFree` (which waits for the whole device). A first version with one worker and
//! an allocation per frame ran 7 HEVC streams with a 224×224 transform at 85% of the
//! decode-only rate, and one frame of 1080p → 224×224 at 13,300 frames/s (H200).

use crate::gpu_memory::MemoryUse;
use std::sync::{Arc, Mutex};

use super::cuda::{Context, DeviceBuffer, Event, PerContext, Stream, copy_from_host};
use super::kernels::{DeviceTaps, Kernels, TransformParams};
use crate::codec::{PixelFormat, SampleType};
use crate::error::{Error, Result};
use crate::frame::memory::DeviceLayout;
use crate::frame::{DeviceFrame, DeviceFrameOwner};
use crate::pixels::transform::{AxisTaps, Plan, Transform};

/// The longest one frame's transform may take before it counts as a device failure.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a plan is made from: the transform, and the source's format, size and colour as
/// resolved (`Transform::plan` reads the stream's colour only through that resolution,
/// which it keeps as `Plan::color`). Compared per frame instead of the plan itself, whose
/// tap tables run to tens of thousands of entries for a 1080p output.
#[derive(Clone, Copy, PartialEq)]
struct PlanKey {
    transform: Transform,
    source: PixelFormat,
    size: (u32, u32),
    color: crate::codec::ColorInfo,
}

/// A plan's tap tables in device memory and the kernel parameters they give.
struct Uploaded {
    key: PlanKey,
    /// Keeps the tables allocated while `params` points into them.
    _tables: DeviceBuffer,
    params: TransformParams,
}

/// How long a transform's wait polls before it sleeps.
const SPIN: std::time::Duration = std::time::Duration::from_micros(300);

/// Output buffers kept for reuse, per size: at most this many, and at most
/// [`POOLED_BYTES`] of them (a frame consumer holds a few at a time).
const POOLED_PER_SIZE: usize = 64;
/// Device memory the kept output buffers of one size may hold.
const POOLED_BYTES: usize = 256 << 20;

/// Workers kept for reuse (more run at once when more sessions transform at once).
const KEPT_WORKERS: usize = 16;

/// One frame's transform at a time: a stream, its completion event, the last plan.
struct Worker {
    stream: Stream,
    done: Event,
    last: Option<Uploaded>,
    /// A kernel it launched did not finish (or could not be waited for): the worker and
    /// that frame's output are leaked, not reused or freed, since the kernel may still
    /// read the tables and write the output (as the NVDEC copy-out does after a timeout).
    stuck: bool,
}

/// Device buffers of finished outputs, by size.
type Pool = Mutex<std::collections::HashMap<usize, Vec<DeviceBuffer>>>;

/// A pooled output buffer, given back to its pool when the frame holding it drops.
pub(crate) struct PooledBuffer {
    buffer: Option<DeviceBuffer>,
    pool: Arc<Pool>,
}

impl PooledBuffer {
    fn ptr(&self) -> u64 {
        self.buffer.as_ref().map_or(0, |b| b.ptr())
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let Some(b) = self.buffer.take() else { return };
        // Past the GPU memory budget the buffer is freed rather than kept for reuse.
        if crate::gpu_memory::over_budget(b.context().device().ordinal()) {
            return;
        }
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = b.width_bytes();
        let kept = pool.entry(bytes).or_default();
        if kept.len() < (POOLED_BYTES / bytes.max(1)).clamp(2, POOLED_PER_SIZE) {
            kept.push(b);
        }
    }
}

/// Runs transforms on one GPU context.
pub(crate) struct GpuTransformer {
    ctx: Context,
    kernels: Arc<Kernels>,
    workers: Mutex<Vec<Worker>>,
    pool: Arc<Pool>,
}

impl GpuTransformer {
    /// A transformer for frames of `ctx`.
    pub(crate) fn new(ctx: &Context) -> Result<GpuTransformer> {
        Ok(GpuTransformer {
            ctx: ctx.clone(),
            kernels: Kernels::get(ctx)?,
            workers: Mutex::new(Vec::new()),
            pool: Arc::new(Mutex::new(std::collections::HashMap::new())),
        })
    }

    /// A free worker, or a new one.
    fn worker(&self) -> Result<Worker> {
        if let Some(w) = self.workers.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(w);
        }
        Ok(Worker { stream: Stream::new(&self.ctx)?, done: Event::new(&self.ctx)?, last: None, stuck: false })
    }

    /// An output buffer of `bytes`: a pooled one, or a new allocation.
    fn buffer(&self, bytes: usize) -> Result<PooledBuffer> {
        let kept = self.pool.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&bytes).and_then(Vec::pop);
        let buffer = match kept {
            Some(b) => b,
            None => DeviceBuffer::alloc(&self.ctx, bytes, MemoryUse::Transforms)?,
        };
        Ok(PooledBuffer { buffer: Some(buffer), pool: self.pool.clone() })
    }

    /// Runs `plan` (of `transform`) over `frame` into device memory: the output picture,
    /// its planes one under the other at one pitch (`output_layout`), complete when this
    /// returns.
    pub(crate) fn run(&self, transform: &Transform, plan: &Plan, frame: &DeviceFrame) -> Result<PooledBuffer> {
        let mut worker = self.worker()?;
        let out = self.run_on(&mut worker, transform, plan, frame);
        if worker.stuck {
            std::mem::forget(worker);
        } else if out.is_ok() {
            // A worker whose call failed before its launch is dropped (the next frame gets
            // a fresh one).
            let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
            if workers.len() < KEPT_WORKERS {
                workers.push(worker);
            }
        }
        out
    }

    fn run_on(&self, w: &mut Worker, transform: &Transform, plan: &Plan, frame: &DeviceFrame) -> Result<PooledBuffer> {
        if !matches!(frame.format(), PixelFormat::Nv12 | PixelFormat::P010) {
            return Err(Error::unsupported(
                format!("GPU transform from CUDA {}", frame.format()),
                "it reads NV12 or P010 frames (the decoder's own output)",
            ));
        }
        let (luma, chroma) = (frame.plane_ptr(0).unwrap_or(0), frame.plane_ptr(1).unwrap_or(0));
        let pitch = i32::try_from(frame.pitch()).map_err(|_| Error::invalid_input("frame pitch"))?;
        let (row_bytes, rows) = output_layout(plan);
        let out = self.buffer(row_bytes * rows)?;
        let key = PlanKey { transform: *transform, source: plan.source, size: frame.size(), color: plan.color };
        if w.last.as_ref().is_none_or(|u| u.key != key) {
            w.last = None;
            w.last = Some(self.upload(key, plan)?);
        }
        let Some(up) = w.last.as_ref() else { return Err(Error::invalid_input("no transform plan")) };
        let mut params = up.params;
        params.luma = luma;
        params.chroma = chroma;
        params.luma_pitch = pitch;
        params.chroma_pitch = pitch;
        params.wide = i32::from(frame.format() == PixelFormat::P010);
        params.dst = out.ptr();
        params.dst_pitch = i32::try_from(row_bytes).map_err(|_| Error::invalid_input("output row"))?;
        if frame.ready_event() != 0 {
            // SAFETY: the frame's event is live while the frame is (borrowed here).
            unsafe { w.stream.wait_raw_event(frame.ready_event() as _)? };
        }
        // SAFETY: the planes are the frame's (borrowed until the kernel is waited for
        // below), the tables stay in the worker (held here), `out` holds the whole output
        // (`output_layout`'s rows of `row_bytes`, the planes where `upload` put them).
        unsafe { self.kernels.transform(&w.stream, &params, plan.output.is_yuv())? };
        match finish(w) {
            Ok(()) => Ok(out),
            Err(e) => {
                w.stuck = true;
                std::mem::forget(out);
                Err(e)
            }
        }
    }

    /// Uploads `plan`'s tap tables and fills the parameters that do not change per frame.
    fn upload(&self, key: PlanKey, plan: &Plan) -> Result<Uploaded> {
        let axes = [&plan.luma.x, &plan.luma.y, &plan.chroma.x, &plan.chroma.y];
        let mut bytes: Vec<u8> = Vec::new();
        let mut at = Vec::with_capacity(axes.len());
        for a in axes {
            at.push(append_axis(&mut bytes, a));
        }
        let tables = DeviceBuffer::alloc(&self.ctx, bytes.len(), MemoryUse::Transforms)?;
        copy_from_host(&self.ctx, &bytes, bytes.len(), tables.region())?;
        let base = tables.ptr();
        let taps = |(off, idx, w): (usize, usize, usize)| DeviceTaps {
            off: base + off as u64,
            idx: base + idx as u64,
            w: base + w as u64,
        };
        let c = plan.coeffs;
        let (rv, gu, gv, bu) = c.rgb_factors();
        let (scale, mean, std) = key.transform.normalization();
        let (channels, planar) = plan.output.rgb_layout().unwrap_or((crate::Channels::Rgb, false));
        let positions = channels.rgb_positions();
        // A YUV rendition: its planes one under the other at one pitch, its depth change
        // and the letterbox fill in source code values, as the CPU path computes them.
        // The output as stored: turned (`plan.width`/`height` are the kernel's unturned grid).
        let (out_w, out_h) = plan.output_size();
        let layout = DeviceLayout::of(plan.output, out_w, out_h);
        let row_bytes = layout.width_bytes;
        let (sd, od) = (plan.source.bit_depth(), plan.output.bit_depth());
        let yuv_store = match plan.output {
            PixelFormat::Nv12 => 1,
            PixelFormat::P010 => 3,
            PixelFormat::Yuv420p10 => 2,
            _ => 0,
        };
        let interleaved = matches!(plan.output, PixelFormat::Nv12 | PixelFormat::P010);
        let offset = |plane: usize| layout.plane_rows[plane.min(2)] * row_bytes;
        let pad = if plan.output.is_yuv() { plan.coeffs.yuv_of(plan.pad).map(|v| v as f32) } else { plan.pad };
        let params = TransformParams {
            lx: taps(at[0]),
            ly: taps(at[1]),
            cx: taps(at[2]),
            cy: taps(at[3]),
            width: plan.width as i32,
            height: plan.height as i32,
            y_off: c.y_off,
            y_scale: c.y_scale,
            c_off: c.c_off,
            c_scale: c.c_scale,
            rv,
            gu,
            gv,
            bu,
            identity: i32::from(c.k.is_none()),
            pad,
            mul: [0, 1, 2].map(|k| 255.0 * scale / std[k]),
            add: [0, 1, 2].map(|k| -mean[k] / std[k]),
            sample: match plan.output.sample_type() {
                SampleType::U8 => 0,
                SampleType::F16 => 1,
                _ => 2,
            },
            channels: channels.count() as i32,
            pos: positions.map(|p| p as i32),
            planar: i32::from(planar),
            yuv_store,
            chroma_width: plan.chroma.x.len() as i32,
            chroma_height: plan.chroma.y.len() as i32,
            chroma_pitch_out: row_bytes as i32,
            u_offset: offset(1) as i32,
            v_offset: offset(if interleaved { 1 } else { 2 }) as i32,
            gain: 2f32.powi(i32::from(od) - i32::from(sd)),
            // Read only by the YUV stores (8 or 10 bits); float outputs give a depth of 16
            // or 32, which a u32 cannot shift by.
            max_code: ((1u64 << od) - 1) as f32,
            rotate: i32::from(plan.rotation),
            out_height: out_h as i32,
            ..TransformParams::default()
        };
        Ok(Uploaded { key, _tables: tables, params })
    }
}

/// Waits for the worker's launched kernel. It takes tens of microseconds: poll without
/// sleeping first, since the shortest sleep costs ~60 µs of timer slack (1080p → 224×224
/// ran at 13,800 frames/s waiting with `wait_timeout` alone).
fn finish(w: &Worker) -> Result<()> {
    w.done.record(&w.stream)?;
    let spin_until = std::time::Instant::now() + SPIN;
    while !w.done.is_complete()? {
        if std::time::Instant::now() >= spin_until {
            return w.done.wait_timeout(TIMEOUT);
        }
        std::hint::spin_loop();
    }
    Ok(())
}

/// Appends one axis's offsets, indices and weights (4-byte words) to `bytes`; returns
/// their byte offsets.
fn append_axis(bytes: &mut Vec<u8>, a: &AxisTaps) -> (usize, usize, usize) {
    let off = bytes.len();
    a.offsets.iter().for_each(|v| bytes.extend_from_slice(&v.to_ne_bytes()));
    let idx = bytes.len();
    a.index.iter().for_each(|v| bytes.extend_from_slice(&v.to_ne_bytes()));
    let w = bytes.len();
    a.weight.iter().for_each(|v| bytes.extend_from_slice(&v.to_ne_bytes()));
    // An empty table still needs a valid address (the kernel reads none of it).
    if bytes.len() == w {
        bytes.extend_from_slice(&[0; 4]);
    }
    (off, idx, w)
}

/// The transformer of `ctx`'s GPU, made once per process and context.
pub(crate) fn for_context(ctx: &Context) -> Result<Arc<GpuTransformer>> {
    static MADE: PerContext<GpuTransformer> = PerContext::new();
    MADE.get_or_make(ctx, GpuTransformer::new)
}

/// The output's rows: (bytes per row, rows of all planes), planes one under the other.
fn output_layout(plan: &Plan) -> (usize, usize) {
    let (w, h) = plan.output_size();
    let layout = DeviceLayout::of(plan.output, w, h);
    (layout.width_bytes, layout.rows)
}

/// Wraps a transform's output buffer as a CUDA frame of `plan`'s format and size.
pub(crate) fn output_frame(
    buffer: PooledBuffer,
    plan: &Plan,
    device_index: u32,
    owner: Arc<dyn DeviceFrameOwner>,
) -> DeviceFrame {
    let ptr = buffer.ptr();
    let (pitch, _) = output_layout(plan);
    DeviceFrame::stacked(Box::new(buffer), (ptr, pitch), device_index, plan.output, plan.output_size(), owner, 0)
}
