//! Copy-out of a mapped NVDEC surface into the frame the caller asked for: host NV12 /
//! YUV420P (8 or 10 bit) through page-locked staging, or CUDA NV12/P010/RGB frames.
//! Cropping is applied here, exactly.
//!
//! Where a CUDA frame goes: a free device slot of the frame ring the current thread
//! produces into (a [`crate::pipeline::DecodePipeline`] with a device-memory ring), so the
//! one copy out of the mapped surface writes the ring's memory directly; otherwise a
//! buffer of this session's pool, which takes it back when the frame is dropped.

use crate::gpu_memory::MemoryUse;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::backend::nvidia::call_times;

use super::super::cuda::{
    Context, DeviceBuffer, DeviceRegion, Event, PinnedHostBuffer, Stream, copy_to_host, next_nap,
};
use super::super::device_frames::{Downloader, downloaded};
use super::super::kernels::{Kernels, RgbLayout, YuvToRgb};
use super::zero_copy_frames::LentSurface;
use crate::codec::{ColorInfo, PixelFormat};
use crate::config::Output;
use crate::error::{Error, Result};
use crate::frame::memory::DeviceLayout;
use crate::frame::output::{has_output_ring, take_output_device_slot, take_output_slot};
use crate::frame::pool::DeviceSlot;
use crate::frame::{DeviceApi, DeviceFrame, DeviceFrameOwner, FrameData, HostFrame, PlaneLayout};
use crate::pixels::convert::YuvMatrix;

/// The longest a copy-out may take before the device is declared stuck.
pub(crate) const COPY_TIMEOUT: Duration = Duration::from_secs(10);

/// Device memory the CUDA frames a caller holds may take per session before decoding
/// answers `Backpressure` (frames waiting to be reaped count too).
const MAX_LENT_BYTES: usize = 4 << 30;
/// Free buffers kept for reuse at least; more when the caller has held more at once (a
/// submit of megabytes yields hundreds of frames before they are reaped): the free list
/// then keeps up to that peak, so the next burst allocates nothing. Bounded in bytes by
/// `MAX_LENT_BYTES`, as the lent frames are.
const MIN_FREE_BUFFERS: usize = 16;

/// The visible rectangle of a mapped surface.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Crop {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

/// A mapped surface: luma at `ptr`, interleaved chroma at `ptr + chroma_offset`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Surface {
    pub ptr: u64,
    pub pitch: usize,
    pub chroma_offset: usize,
    /// Bytes per sample (1 for NV12, 2 for P016).
    pub bytes_per_sample: usize,
}

impl Surface {
    /// The crop's luma rows.
    pub(crate) fn luma(&self, c: Crop) -> DeviceRegion {
        DeviceRegion {
            ptr: self.ptr + (c.top as usize * self.pitch + c.left as usize * self.bytes_per_sample) as u64,
            pitch: self.pitch,
            width_bytes: c.width as usize * self.bytes_per_sample,
            height: c.height as usize,
        }
    }

    /// The crop's interleaved chroma rows.
    pub(crate) fn chroma(&self, c: Crop) -> DeviceRegion {
        let base = self.ptr + self.chroma_offset as u64;
        DeviceRegion {
            // 4:2:0: one interleaved UV row per two luma rows; `left` is even, and a
            // pair of U,V samples covers two luma columns, so the byte offset is `left`.
            ptr: base + ((c.top / 2) as usize * self.pitch + c.left as usize * self.bytes_per_sample) as u64,
            pitch: self.pitch,
            width_bytes: c.width.div_ceil(2) as usize * 2 * self.bytes_per_sample,
            height: c.height.div_ceil(2) as usize,
        }
    }
}

impl Surface {
    /// Queues on `stream` the copy of the crop as tightly packed NV12/P016 (luma rows, then
    /// the interleaved chroma rows) into the start of `dst`; returns its byte count. Stops
    /// at the first copy refused (the luma may then be queued).
    ///
    /// # Safety
    ///
    /// The surface must stay mapped, and `dst` be neither read, written nor freed, until
    /// the stream has run the copies (an event recorded after them says so).
    pub(crate) unsafe fn queue_packed_to_host(
        &self,
        c: Crop,
        stream: &Stream,
        dst: &mut PinnedHostBuffer,
    ) -> Result<usize> {
        let (luma, chroma) = (self.luma(c), self.chroma(c));
        let luma_bytes = luma.width_bytes * luma.height;
        // SAFETY: the copy writes inside `dst` (bounds-checked by the wrapper); the source
        // lies in the mapped surface (the crop is within the coded size); the caller keeps
        // both until the copies ran.
        unsafe { stream.copy_to_host_async(luma, dst, 0, luma.width_bytes)? };
        // SAFETY: as above.
        unsafe { stream.copy_to_host_async(chroma, dst, luma_bytes, chroma.width_bytes)? };
        Ok(luma_bytes + chroma.width_bytes * chroma.height)
    }
}

/// Device buffers for CUDA output, reused across frames.
pub(crate) struct DevicePool {
    ctx: Context,
    free: Mutex<Vec<DeviceBuffer>>,
    /// Bytes of the buffers now lent out.
    lent: std::sync::atomic::AtomicUsize,
    /// Buffers lent out now, and the most lent out at once so far.
    lent_count: std::sync::atomic::AtomicUsize,
    peak_count: std::sync::atomic::AtomicUsize,
    /// The caller bounds the frames it holds itself (a reader's read-ahead): no
    /// `MAX_LENT_BYTES` bound here.
    bounded_by_caller: std::sync::atomic::AtomicBool,
}

impl DevicePool {
    pub fn new(ctx: &Context) -> Arc<DevicePool> {
        Arc::new(DevicePool {
            ctx: ctx.clone(),
            free: Mutex::new(Vec::new()),
            lent: 0.into(),
            lent_count: 0.into(),
            peak_count: 0.into(),
            bounded_by_caller: false.into(),
        })
    }

    /// Lifts (`true`) or restores the bound on buffers lent out. Restoring it also frees
    /// the free buffers past [`MIN_FREE_BUFFERS`]: a read-ahead's peak is not the caller's.
    fn set_bounded_by_caller(&self, on: bool) {
        use std::sync::atomic::Ordering;
        self.bounded_by_caller.store(on, Ordering::SeqCst);
        if !on {
            self.peak_count.store(self.lent_count.load(Ordering::SeqCst), Ordering::SeqCst);
            let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
            free.truncate(MIN_FREE_BUFFERS);
        }
    }

    /// A buffer of at least `width_bytes` x `rows`; buffers of another size are freed.
    fn take(&self, width_bytes: usize, rows: usize) -> Result<DeviceBuffer> {
        use std::sync::atomic::Ordering;
        if !self.bounded_by_caller.load(Ordering::SeqCst)
            && self.lent.load(Ordering::SeqCst) + width_bytes * rows > MAX_LENT_BYTES
        {
            return Err(Error::Backpressure(format!(
                "CUDA frames held by the caller (reaped or not) use {} MiB; drop some to continue",
                MAX_LENT_BYTES >> 20
            )));
        }
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        free.retain(|b| b.width_bytes() == width_bytes && b.height() == rows);
        let buf = match free.pop() {
            Some(b) => b,
            None => {
                drop(free);
                DeviceBuffer::alloc_pitched(&self.ctx, width_bytes, rows, MemoryUse::Frames)?
            }
        };
        self.lent.fetch_add(buf.pitch() * buf.height(), Ordering::SeqCst);
        let now = self.lent_count.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_count.fetch_max(now, Ordering::SeqCst);
        Ok(buf)
    }

    /// Whether some buffer is lent out now.
    fn any_lent(&self) -> bool {
        self.lent.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    fn give_back(&self, buf: DeviceBuffer) {
        use std::sync::atomic::Ordering;
        self.lent.fetch_sub(buf.pitch() * buf.height(), Ordering::SeqCst);
        self.lent_count.fetch_sub(1, Ordering::SeqCst);
        let keep = self.peak_count.load(Ordering::SeqCst).max(MIN_FREE_BUFFERS);
        // Past the GPU memory budget a buffer is freed rather than kept for reuse.
        if crate::gpu_memory::over_budget(self.ctx.device().ordinal()) {
            return;
        }
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if free.len() < keep {
            free.push(buf);
        }
    }
}

/// Returns a CUDA frame's buffer to its pool when the frame is dropped.
struct Lease {
    pool: Arc<DevicePool>,
    buf: Option<DeviceBuffer>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(b) = self.buf.take() {
            self.pool.give_back(b);
        }
    }
}

/// Device memory for one CUDA output picture.
enum Target {
    /// A slot of the pipeline ring this thread produces into.
    Ring(DeviceSlot),
    /// A buffer of the session's pool.
    Pool(Lease),
}

impl Target {
    /// The allocation: device address and pitch.
    fn memory(&self) -> (u64, usize) {
        let buf = match self {
            Target::Ring(slot) => slot.memory().and_then(|b| b.allocation::<DeviceBuffer>()),
            Target::Pool(lease) => lease.buf.as_ref(),
        };
        buf.map_or((0, 0), |b| (b.ptr(), b.pitch()))
    }
}

/// Turns mapped surfaces into frames of one output kind.
pub(crate) struct CopyOut {
    ctx: Context,
    stream: Stream,
    done: Event,
    staging: Option<PinnedHostBuffer>,
    pool: Arc<DevicePool>,
    owner: Arc<dyn DeviceFrameOwner>,
    device_index: u32,
    /// The nap before polling a copy-out, in nanoseconds (learnt, see `next_nap`).
    nap_ns: std::sync::atomic::AtomicU64,
}

impl CopyOut {
    pub fn new(ctx: &Context, device_index: u32) -> Result<CopyOut> {
        Ok(CopyOut {
            ctx: ctx.clone(),
            stream: Stream::new(ctx)?,
            done: Event::new(ctx)?,
            staging: None,
            pool: DevicePool::new(ctx),
            owner: Arc::new(Downloader::new(ctx)),
            device_index,
            nap_ns: 0.into(),
        })
    }

    /// Lifts (`true`) or restores the pool's bound on CUDA frames held by the caller (see
    /// `DecoderBackend::set_output`).
    pub fn set_bounded_by_caller(&self, on: bool) {
        self.pool.set_bounded_by_caller(on);
    }

    /// The stream mapping and copies run on (`output_stream` of the map call).
    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Copies `surface`'s visible rectangle into a new frame's data. Returns once the
    /// copies finished, so the surface may be unmapped right after.
    pub fn copy(
        &mut self,
        surface: Surface,
        crop: Crop,
        output: Output,
        bit_depth: u8,
        color: &ColorInfo,
    ) -> Result<(PixelFormat, FrameData)> {
        let format = output.format_for_depth(bit_depth);
        match (output, format) {
            (Output::Metadata, _) | (_, None) => Ok((PixelFormat::Nv12, FrameData::None)),
            (
                Output::Device(DeviceApi::Cuda, _),
                Some(f @ (PixelFormat::Rgb24 | PixelFormat::RgbPlanar | PixelFormat::Bgra)),
            ) => {
                let target = self.target(f, crop, true)?;
                let target = settle(target, |(ptr, pitch)| self.rgb_on_device(surface, crop, f, color, ptr, pitch))?;
                Ok((f, FrameData::Device(self.lend(target, crop, f))))
            }
            (Output::Host(_), Some(f @ (PixelFormat::Rgb24 | PixelFormat::RgbPlanar | PixelFormat::Bgra))) => {
                // Scratch device memory of the session's own (the frame goes to the host).
                let target = self.target(f, crop, false)?;
                let target = settle(target, |(ptr, pitch)| self.rgb_on_device(surface, crop, f, color, ptr, pitch))?;
                let (ptr, pitch) = target.memory();
                let (row_bytes, rows) =
                    (f.plane_size(0, crop.width, crop.height).0, DeviceLayout::of(f, crop.width, crop.height).rows);
                let start = std::time::Instant::now();
                let mut host = HostFrame::for_output(f, crop.width, crop.height);
                let src = DeviceRegion { ptr, pitch, width_bytes: row_bytes, height: rows };
                copy_to_host(&self.ctx, src, host.as_bytes_mut(), row_bytes)?;
                downloaded(start, row_bytes * rows);
                Ok((f, FrameData::Host(host)))
            }
            (Output::Device(DeviceApi::Cuda, _), Some(f @ (PixelFormat::Nv12 | PixelFormat::P010))) => {
                Ok((f, FrameData::Device(self.copy_to_device(surface, crop, f)?)))
            }
            (
                Output::Host(_),
                Some(f @ (PixelFormat::Nv12 | PixelFormat::P010 | PixelFormat::Yuv420p | PixelFormat::Yuv420p10)),
            ) => Ok((f, FrameData::Host(self.copy_to_host(surface, crop, f, bit_depth)?))),
            (_, Some(f)) => {
                Err(Error::unsupported(format!("nvdec output {f}"), "ask for nv12, yuv420p, rgb24, rgbp or bgra"))
            }
        }
    }

    /// The format in which `output` of a `bit_depth` picture may be the mapped surface
    /// itself (a [`LentSurface`]) rather than a copy: CUDA NV12/P010 frames, unless the
    /// current thread produces into a pipeline's frame ring (the frame is copied into a
    /// slot then).
    pub fn lend_format(output: Output, bit_depth: u8) -> Option<PixelFormat> {
        let format = output.format_for_depth(bit_depth)?;
        let lendable = matches!(output, Output::Device(DeviceApi::Cuda, _))
            && matches!(format, PixelFormat::Nv12 | PixelFormat::P010);
        (lendable && !has_output_ring()).then_some(format)
    }

    /// A CUDA frame in the mapped surface itself: waits for the map's post-processing
    /// (queued on [`stream`](Self::stream)), as for a copy-out, so the frame is complete
    /// when handed out; the surface is unmapped when the frame drops.
    pub fn frame_in_surface(
        &self,
        lease: LentSurface,
        s: Surface,
        c: Crop,
        format: PixelFormat,
    ) -> Result<DeviceFrame> {
        // After a timeout the post-processing may still write the surface: it is never
        // unmapped, which leaks the decoder object too (the device is stuck).
        let (lease, ()) = kept_unless_timed_out(lease, self.wait())?;
        let (luma, chroma) = (s.luma(c), s.chroma(c));
        let planes = (luma.ptr, s.pitch, (chroma.ptr - luma.ptr) as usize);
        let (stream, size) = (self.stream.raw() as usize, (c.width, c.height));
        Ok(DeviceFrame::two_planes(
            Box::new(lease),
            planes,
            self.device_index,
            format,
            size,
            self.owner.clone(),
            stream,
        ))
    }

    /// Device memory for a `format` picture of the crop's size, planes one under the
    /// other ([`DeviceLayout`]): a free slot of the current thread's output ring when
    /// `ring` is asked and one is free on this session's context, else a pool buffer.
    ///
    /// Once a frame went to the pool (every slot was lent), the frames after it go there
    /// too until the pipeline has copied it into a slot and dropped it: frames wait in
    /// the session in display order, and one holding a slot behind one waiting for a
    /// slot would keep from the consumer a slot it could otherwise have.
    fn target(&self, format: PixelFormat, c: Crop, ring: bool) -> Result<Target> {
        let layout = DeviceLayout::of(format, c.width, c.height);
        if ring
            && !self.pool.any_lent()
            && let Some(slot) = take_output_device_slot(self.device_index, layout.width_bytes, layout.rows)
        {
            // Only CUDA memory of this session's context (the primary context of its
            // GPU, as ring slots are) is written by the copies and kernels below.
            let ours = slot.memory().and_then(|b| b.allocation::<DeviceBuffer>()).is_some_and(|b| {
                b.context().raw() == self.ctx.raw()
                    && b.width_bytes() >= layout.width_bytes
                    && b.height() >= layout.rows
            });
            if ours {
                return Ok(Target::Ring(slot));
            }
        }
        let buf = self.pool.take(layout.width_bytes, layout.rows)?;
        Ok(Target::Pool(Lease { pool: self.pool.clone(), buf: Some(buf) }))
    }

    /// Converts the visible rectangle to RGB into device memory at `ptr` (rows of the
    /// packed pixels, or three planes one under the other, `pitch` bytes a row; at least
    /// the format's [`DeviceLayout`] of the crop). Waits for the kernel.
    fn rgb_on_device(
        &self,
        s: Surface,
        c: Crop,
        format: PixelFormat,
        color: &ColorInfo,
        ptr: u64,
        pitch: usize,
    ) -> Result<()> {
        let [y_off, y_mul, r_cr, g_cb, g_cr, b_cb] = YuvMatrix::for_color(color)?.fixed_point().ok_or_else(|| {
            Error::unsupported("nvdec RGB output of identity-matrix (GBR) streams", "not implemented")
        })?;
        let coefficients = YuvToRgb { y_off, y_mul, r_cr, g_cb, g_cr, b_cb };
        let layout = match format {
            PixelFormat::Rgb24 => RgbLayout::Packed,
            PixelFormat::Bgra => RgbLayout::Bgra,
            _ => RgbLayout::Planar,
        };
        let kernels = Kernels::get(&self.ctx)?;
        let luma = s.luma(c);
        let chroma = s.chroma(c);
        // SAFETY: luma/chroma lie inside the mapped surface (the crop is within the coded
        // size); the output is device memory of this context (a pool buffer or a ring
        // slot checked by `target`) of at least the format's layout of the crop (rows x
        // pitch, planes `pitch * height` apart), which the caller keeps alive, and gives
        // to no one, until `wait` below returns after the kernel ran (or never, when the
        // wait times out).
        let launched = unsafe {
            kernels.nv12_to_rgb(
                &self.stream,
                (luma.ptr, luma.pitch),
                (chroma.ptr, chroma.pitch),
                (ptr, pitch, pitch * c.height as usize),
                (c.width, c.height),
                coefficients,
                layout,
                s.bytes_per_sample == 2,
            )
        };
        launched.and_then(|()| self.wait())
    }

    /// Wraps device memory holding a finished `format` picture as a CUDA frame.
    fn lend(&self, target: Target, c: Crop, format: PixelFormat) -> DeviceFrame {
        let stream = self.stream.raw() as usize;
        match target {
            Target::Ring(slot) => {
                DeviceFrame::in_slot(slot, self.device_index, format, c.width, c.height, self.owner.clone(), stream)
            }
            Target::Pool(lease) => {
                let memory = lease.buf.as_ref().map_or((0, 0), |b| (b.ptr(), b.pitch()));
                let (size, owner) = ((c.width, c.height), self.owner.clone());
                DeviceFrame::stacked(Box::new(lease), memory, self.device_index, format, size, owner, stream)
            }
        }
    }

    /// Waits for the copies queued so far: sleeps a learnt nap first (see
    /// [`Event::wait_after_nap`]), so a wait costs few wake-ups.
    fn wait(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        self.done.record(&self.stream)?;
        let nap = Duration::from_nanos(self.nap_ns.load(Ordering::Relaxed));
        let long_enough = call_times::COPY_WAIT.time(|| self.done.wait_after_nap(COPY_TIMEOUT, nap))?;
        self.nap_ns.store(next_nap(nap, long_enough).as_nanos() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Copies the visible rectangle into a ring slot or a pool buffer, luma with chroma
    /// right below it, and waits: one device-to-device copy of the picture's bytes.
    fn copy_to_device(&mut self, s: Surface, c: Crop, format: PixelFormat) -> Result<DeviceFrame> {
        let luma = s.luma(c);
        let chroma = s.chroma(c);
        let target = self.target(format, c, true)?;
        let target = settle(target, |(ptr, pitch)| {
            let dst_luma = DeviceRegion { ptr, pitch, width_bytes: luma.width_bytes, height: luma.height };
            let dst_chroma = DeviceRegion {
                ptr: ptr + (pitch * luma.height) as u64,
                pitch,
                width_bytes: chroma.width_bytes,
                height: chroma.height,
            };
            // SAFETY: source regions lie inside the mapped surface (crop within the coded
            // size); destinations inside the target (at least the format's layout of the
            // crop: luma rows, then chroma rows, at its pitch), device memory of this
            // context (a pool buffer, or a ring slot checked by `target`) that the caller
            // keeps, and lends to no one, until `wait` below says both copies finished.
            let queued = unsafe { self.stream.copy_device_async(luma, dst_luma) };
            let queued = queued.and_then(|()| {
                // SAFETY: as above.
                unsafe { self.stream.copy_device_async(chroma, dst_chroma) }
            });
            // Wait even when the second copy was refused: the first may be running.
            match (queued, self.wait()) {
                (_, Err(e @ Error::Timeout(_))) | (Err(e), _) | (Ok(()), Err(e)) => Err(e),
                (Ok(()), Ok(())) => Ok(()),
            }
        })?;
        Ok(self.lend(target, c, format))
    }

    /// Copies a host picture (a CPU engine's frame) into a ring slot or a pool buffer of
    /// the same format and size, planes one under the other, and waits: the CUDA frame a
    /// session with CUDA output hands back when a CPU engine decodes for it
    /// (`backend::nvidia::host_upload`).
    pub fn upload(&mut self, host: &HostFrame, format: PixelFormat, width: u32, height: u32) -> Result<DeviceFrame> {
        let start = std::time::Instant::now();
        let c = Crop { left: 0, top: 0, width, height };
        let layout = DeviceLayout::of(format, width, height);
        let target = self.target(format, c, true)?;
        let target = settle(target, |(ptr, pitch)| {
            let mut queued = Ok(());
            for i in 0..layout.planes {
                let (width_bytes, rows) = format.plane_size(i, width, height);
                let plane = host.plane(i);
                let dst =
                    DeviceRegion { ptr: ptr + (pitch * layout.plane_rows[i]) as u64, pitch, width_bytes, height: rows };
                let src = host.as_bytes().get(plane.offset..).unwrap_or_default();
                // SAFETY: `dst` lies inside the target (at least the format's layout at its
                // pitch: each plane's rows from `plane_rows`), device memory of this context
                // (a pool buffer, or a ring slot checked by `target`) that is kept, and lent
                // to no one, until `wait` below says the copies finished; `host` is borrowed
                // for this whole call, so its bytes stay put until then.
                queued = unsafe { self.stream.copy_from_host_async(src, plane.stride, dst) };
                if queued.is_err() {
                    break;
                }
            }
            // Wait even when a copy was refused: the ones before it may be running.
            match (queued, self.wait()) {
                (_, Err(e @ Error::Timeout(_))) | (Err(e), _) | (Ok(()), Err(e)) => Err(e),
                (Ok(()), Ok(())) => Ok(()),
            }
        })?;
        crate::metrics::record_copy(
            crate::metrics::CopyDirection::HostToDevice,
            (layout.width_bytes * layout.rows) as u64,
        );
        crate::metrics::record_stage(crate::metrics::Stage::Upload, start.elapsed());
        Ok(self.lend(target, c, format))
    }

    fn copy_to_host(&mut self, s: Surface, c: Crop, format: PixelFormat, bit_depth: u8) -> Result<HostFrame> {
        let start = std::time::Instant::now();
        let (luma, chroma) = (s.luma(c), s.chroma(c));
        let need = luma.width_bytes * luma.height + chroma.width_bytes * chroma.height;
        if matches!(format, PixelFormat::Nv12 | PixelFormat::P010) {
            // A pipeline's page-locked ring slot: DMA straight into it, no staging copy.
            let mut out = HostFrame::for_output(format, c.width, c.height);
            if out.as_bytes().len() == need
                && let Some(dst) = out.pinned_mut::<PinnedHostBuffer>()
            {
                // SAFETY: the copies write the frame's first `need` bytes of `dst`;
                // nothing reads or frees `dst` before `wait` below says they finished.
                let queued = unsafe { s.queue_packed_to_host(c, &self.stream, dst) };
                if let Err(e) = self.wait() {
                    // The copies may still be running: never give this buffer back.
                    std::mem::forget(out);
                    return Err(e);
                }
                queued?;
                downloaded(start, need);
                return Ok(out);
            }
        }
        if self.staging.as_ref().is_none_or(|b| b.len() < need) {
            self.staging = Some(PinnedHostBuffer::new(&self.ctx, need)?);
        }
        let staging = self.staging.as_mut().expect("allocated above");
        // SAFETY: nothing touches `staging` until `wait` returns, after both copies finished.
        unsafe { s.queue_packed_to_host(c, &self.stream, staging)? };
        self.wait()?;
        let staged = &self.staging.as_ref().expect("allocated above").as_slice()[..need];
        let frame = repack_nv12(staged, c.width, c.height, format, bit_depth);
        downloaded(start, need);
        Ok(frame)
    }
}

/// Runs `write`, device work that fills `target` (given its address and pitch) and
/// waits for it, and hands the target back once written (see [`kept_unless_timed_out`]:
/// on an error the target goes back to its ring or pool, unless the work timed out).
fn settle(target: Target, write: impl FnOnce((u64, usize)) -> Result<()>) -> Result<Target> {
    let written = write(target.memory());
    kept_unless_timed_out(target, written).map(|(target, ())| target)
}

/// Hands `held` (memory that device work used) back with the work's result once that work,
/// waited for, is `done`. On an error `held` is dropped (released for reuse), except after a
/// timeout: the work may still be using it then, so it is leaked and never reused.
pub(crate) fn kept_unless_timed_out<T, R>(held: T, done: Result<R>) -> Result<(T, R)> {
    match done {
        Ok(r) => Ok((held, r)),
        Err(e @ Error::Timeout(_)) => {
            std::mem::forget(held);
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// A host frame holding `bytes`, a tightly packed `format` picture: in a slot of the
/// pipeline ring this thread produces into when one is free, else in new memory (copied
/// once, not zeroed first). `InvalidInput` when `bytes` is not one such picture.
pub(crate) fn packed_host_frame(format: PixelFormat, width: u32, height: u32, bytes: &[u8]) -> Result<HostFrame> {
    match take_output_slot(format, width, height) {
        Some(mut slot) if slot.as_bytes().len() == bytes.len() => {
            slot.as_bytes_mut().copy_from_slice(bytes);
            Ok(slot)
        }
        // Recycled memory: no page faulted in again for every frame (`frame::recycle`).
        _ => HostFrame::copy_packed(format, width, height, bytes),
    }
}

/// Builds a tightly packed host frame of `format` from tightly packed NV12/P016 bytes
/// (luma rows then interleaved chroma rows).
pub(crate) fn repack_nv12(nv12: &[u8], width: u32, height: u32, format: PixelFormat, bit_depth: u8) -> HostFrame {
    let bps = if bit_depth > 8 { 2 } else { 1 };
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let luma_bytes = w * h * bps;
    let (luma, chroma) = nv12.split_at(luma_bytes);
    match format {
        PixelFormat::Nv12 | PixelFormat::P010 => packed_host_frame(format, width, height, nv12)
            .unwrap_or_else(|_| HostFrame::new_packed(format, width, height)),
        PixelFormat::Yuv420p => {
            let mut out = Vec::with_capacity(luma_bytes + 2 * cw * ch);
            out.extend_from_slice(luma);
            out.extend(chroma.iter().step_by(2));
            out.extend(chroma.iter().skip(1).step_by(2));
            let layout = planar_layout(w, h, 1);
            HostFrame::from_planes(out, layout).unwrap_or_else(|_| HostFrame::new_packed(format, width, height))
        }
        _ => {
            // 10-bit: P016 words hold the value in the high bits; yuv420p10le wants it low.
            let shift = 16 - u32::from(bit_depth.clamp(9, 16));
            let word = |b: &[u8]| u16::from_le_bytes([b[0], b[1]]) >> shift;
            let mut out = Vec::with_capacity(luma_bytes + 2 * cw * ch * 2);
            for px in luma.chunks_exact(2) {
                out.extend_from_slice(&word(px).to_le_bytes());
            }
            for k in 0..2 {
                for pair in chroma.chunks_exact(4) {
                    out.extend_from_slice(&word(&pair[2 * k..2 * k + 2]).to_le_bytes());
                }
            }
            let layout = planar_layout(w, h, 2);
            HostFrame::from_planes(out, layout).unwrap_or_else(|_| HostFrame::new_packed(format, width, height))
        }
    }
}

fn planar_layout(w: usize, h: usize, bps: usize) -> Vec<PlaneLayout> {
    let (cw, ch) = (w.div_ceil(2) * bps, h.div_ceil(2));
    let y = PlaneLayout { offset: 0, stride: w * bps, row_bytes: w * bps, rows: h };
    let u = PlaneLayout { offset: w * bps * h, stride: cw, row_bytes: cw, rows: ch };
    let v = PlaneLayout { offset: u.offset + cw * ch, ..u };
    vec![y, u, v]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repack_8bit_deinterleaves() {
        // 2x2 picture: Y 1 2 3 4, UV 5 6
        let f = repack_nv12(&[1, 2, 3, 4, 5, 6], 2, 2, PixelFormat::Yuv420p, 8);
        assert_eq!(f.as_bytes(), &[1, 2, 3, 4, 5, 6]);
        let f = repack_nv12(&[1, 2, 3, 4, 5, 6], 2, 2, PixelFormat::Nv12, 8);
        assert_eq!(f.as_bytes(), &[1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn repack_10bit_shifts_down() {
        // 2x2, every luma word 0x0040 << 6 (= value 1), U = 2, V = 3 (high-bit aligned)
        let mut p016 = Vec::new();
        for v in [1u16, 1, 1, 1, 2, 3] {
            p016.extend_from_slice(&(v << 6).to_le_bytes());
        }
        let f = repack_nv12(&p016, 2, 2, PixelFormat::Yuv420p10, 10);
        let words: Vec<u16> = f.as_bytes().chunks(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        assert_eq!(words, [1, 1, 1, 1, 2, 3]);
    }
}
