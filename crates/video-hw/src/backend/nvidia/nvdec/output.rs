//! Copy-out of a mapped NVDEC surface into the frame the caller asked for: host NV12 /
//! YUV420P (8 or 10 bit) through page-locked staging, or CUDA NV12/P010 frames lent
//! from a pool that takes them back when dropped. Cropping is applied here, exactly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::super::cuda::{Context, DeviceBuffer, DeviceRegion, Event, PinnedHostBuffer, Stream, copy_to_host};
use super::super::kernels::{Kernels, RgbLayout, YuvToRgb};
use crate::codec::{ColorInfo, PixelFormat};
use crate::config::Output;
use crate::convert::YuvMatrix;
use crate::error::{Error, Result};
use crate::frame::{CudaFrame, DeviceFrameOwner, FrameData, HostFrame, PlaneLayout};
use crate::metrics::{CopyDirection, Stage, record_copy, record_stage};

/// The longest a copy-out may take before the device is declared stuck.
pub(crate) const COPY_TIMEOUT: Duration = Duration::from_secs(10);

/// Device memory the CUDA frames a caller holds may take per session before decoding
/// answers `Backpressure` (frames waiting to be reaped count too).
const MAX_LENT_BYTES: usize = 4 << 30;
/// Free buffers kept for reuse.
const MAX_FREE_BUFFERS: usize = 16;

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
    fn luma(&self, c: Crop) -> DeviceRegion {
        DeviceRegion {
            ptr: self.ptr + (c.top as usize * self.pitch + c.left as usize * self.bytes_per_sample) as u64,
            pitch: self.pitch,
            width_bytes: c.width as usize * self.bytes_per_sample,
            height: c.height as usize,
        }
    }

    fn chroma(&self, c: Crop) -> DeviceRegion {
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

/// Device buffers for CUDA output, reused across frames.
pub(crate) struct DevicePool {
    ctx: Context,
    free: Mutex<Vec<DeviceBuffer>>,
    /// Bytes of the buffers now lent out.
    lent: std::sync::atomic::AtomicUsize,
}

impl DevicePool {
    pub fn new(ctx: &Context) -> Arc<DevicePool> {
        Arc::new(DevicePool { ctx: ctx.clone(), free: Mutex::new(Vec::new()), lent: 0.into() })
    }

    /// A buffer of at least `width_bytes` x `rows`; buffers of another size are freed.
    fn take(&self, width_bytes: usize, rows: usize) -> Result<DeviceBuffer> {
        use std::sync::atomic::Ordering;
        if self.lent.load(Ordering::SeqCst) + width_bytes * rows > MAX_LENT_BYTES {
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
                DeviceBuffer::alloc_pitched(&self.ctx, width_bytes, rows)?
            }
        };
        self.lent.fetch_add(buf.pitch() * buf.height(), Ordering::SeqCst);
        Ok(buf)
    }

    fn give_back(&self, buf: DeviceBuffer) {
        self.lent.fetch_sub(buf.pitch() * buf.height(), std::sync::atomic::Ordering::SeqCst);
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if free.len() < MAX_FREE_BUFFERS {
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

/// Downloads CUDA frames to host memory.
struct Downloader {
    ctx: Context,
}

impl DeviceFrameOwner for Downloader {
    fn download(&self, frame: &CudaFrame) -> Result<HostFrame> {
        let (w, h) = frame.size();
        let format = frame.format();
        let start = std::time::Instant::now();
        let mut host = HostFrame::new_packed(format, w, h);
        for i in 0..format.plane_count() {
            let layout = host.plane(i);
            let src = DeviceRegion {
                ptr: frame.plane_ptr(i).unwrap_or(0),
                pitch: frame.pitch(),
                width_bytes: layout.row_bytes,
                height: layout.rows,
            };
            let dst = &mut host.as_bytes_mut()[layout.offset..layout.offset + layout.row_bytes * layout.rows];
            copy_to_host(&self.ctx, src, dst, layout.row_bytes)?;
        }
        downloaded(start, host.as_bytes().len());
        Ok(host)
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
}

impl CopyOut {
    pub fn new(ctx: &Context, device_index: u32) -> Result<CopyOut> {
        Ok(CopyOut {
            ctx: ctx.clone(),
            stream: Stream::new(ctx)?,
            done: Event::new(ctx)?,
            staging: None,
            pool: DevicePool::new(ctx),
            owner: Arc::new(Downloader { ctx: ctx.clone() }),
            device_index,
        })
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
            (Output::Cuda(_), Some(f @ (PixelFormat::Rgb24 | PixelFormat::RgbPlanar | PixelFormat::Bgra))) => {
                let (buf, pitch, rows) = self.rgb_on_device(surface, crop, f, color)?;
                Ok((f, FrameData::Cuda(self.lend(buf, pitch, rows, crop, f))))
            }
            (Output::Host(_), Some(f @ (PixelFormat::Rgb24 | PixelFormat::RgbPlanar | PixelFormat::Bgra))) => {
                let (buf, pitch, rows) = self.rgb_on_device(surface, crop, f, color)?;
                let lease = Lease { pool: self.pool.clone(), buf: Some(buf) };
                let device = lease.buf.as_ref().map(DeviceBuffer::region).expect("leased");
                let row_bytes = f.plane_size(0, crop.width, crop.height).0;
                let start = std::time::Instant::now();
                let mut host = HostFrame::for_output(f, crop.width, crop.height);
                let src = DeviceRegion { ptr: device.ptr, pitch, width_bytes: row_bytes, height: rows };
                copy_to_host(&self.ctx, src, host.as_bytes_mut(), row_bytes)?;
                downloaded(start, row_bytes * rows);
                Ok((f, FrameData::Host(host)))
            }
            (Output::Cuda(_), Some(f @ (PixelFormat::Nv12 | PixelFormat::P010))) => {
                Ok((f, FrameData::Cuda(self.copy_to_device(surface, crop, f)?)))
            }
            (
                Output::Host(_),
                Some(f @ (PixelFormat::Nv12 | PixelFormat::P010 | PixelFormat::Yuv420p | PixelFormat::Yuv420p10)),
            ) => Ok((f, FrameData::Host(self.copy_to_host(surface, crop, f, bit_depth)?))),
            (_, Some(f)) => {
                Err(Error::unsupported(format!("nvdec output {f}"), "ask for nv12, yuv420p, rgb24, gbrp or bgra"))
            }
        }
    }

    /// Converts the visible rectangle to RGB in a pooled device buffer (rows of the
    /// packed pixels, or three planes one under the other). Waits for the kernel.
    fn rgb_on_device(
        &mut self,
        s: Surface,
        c: Crop,
        format: PixelFormat,
        color: &ColorInfo,
    ) -> Result<(DeviceBuffer, usize, usize)> {
        let [y_off, y_mul, r_cr, g_cb, g_cr, b_cb] =
            YuvMatrix::for_color(color, c.height)?.fixed_point().ok_or_else(|| {
                Error::unsupported("nvdec RGB output of identity-matrix (GBR) streams", "not implemented")
            })?;
        let coefficients = YuvToRgb { y_off, y_mul, r_cr, g_cb, g_cr, b_cb };
        let (layout, row_bytes, rows) = match format {
            PixelFormat::Rgb24 => (RgbLayout::Packed, c.width as usize * 3, c.height as usize),
            PixelFormat::Bgra => (RgbLayout::Bgra, c.width as usize * 4, c.height as usize),
            _ => (RgbLayout::Planar, c.width as usize, 3 * c.height as usize),
        };
        let kernels = Kernels::get(&self.ctx)?;
        let buf = self.pool.take(row_bytes, rows)?;
        let pitch = buf.pitch();
        let luma = s.luma(c);
        let chroma = s.chroma(c);
        // SAFETY: luma/chroma lie inside the mapped surface (the crop is within the coded
        // size); the output is `buf` (rows x pitch, planes `pitch * height` apart), alive
        // until `wait` below returns after the kernel ran.
        let launched = unsafe {
            kernels.nv12_to_rgb(
                &self.stream,
                (luma.ptr, luma.pitch),
                (chroma.ptr, chroma.pitch),
                (buf.ptr(), pitch, pitch * c.height as usize),
                (c.width, c.height),
                coefficients,
                layout,
                s.bytes_per_sample == 2,
            )
        };
        // The buffer goes back to the pool unless the kernel ran and finished.
        if let Err(e) = launched.and_then(|()| self.wait()) {
            self.pool.give_back(buf);
            return Err(e);
        }
        Ok((buf, pitch, rows))
    }

    /// Wraps a pooled buffer holding a finished picture as a CUDA frame.
    fn lend(&self, buf: DeviceBuffer, pitch: usize, rows: usize, c: Crop, format: PixelFormat) -> CudaFrame {
        let base = buf.ptr();
        let planes = format.plane_count();
        let plane_rows = rows / planes.max(1);
        let lease = Lease { pool: self.pool.clone(), buf: Some(buf) };
        CudaFrame {
            device_index: self.device_index,
            device_ptr: base,
            pitch,
            plane_offsets: [0, pitch * plane_rows, 2 * pitch * plane_rows],
            plane_count: planes,
            stream: self.stream.raw() as usize,
            event: 0,
            format,
            width: c.width,
            height: c.height,
            owner: self.owner.clone(),
            lease: Some(Box::new(lease)),
        }
    }

    fn wait(&self) -> Result<()> {
        self.done.record(&self.stream)?;
        self.done.wait_timeout(COPY_TIMEOUT)
    }

    fn copy_to_device(&mut self, s: Surface, c: Crop, format: PixelFormat) -> Result<CudaFrame> {
        let luma = s.luma(c);
        let chroma = s.chroma(c);
        let buf = self.pool.take(luma.width_bytes.max(chroma.width_bytes), luma.height + chroma.height)?;
        let pitch = buf.pitch();
        let dst_luma = DeviceRegion { ptr: buf.ptr(), pitch, width_bytes: luma.width_bytes, height: luma.height };
        let chroma_at = pitch * luma.height;
        let dst_chroma = DeviceRegion {
            ptr: buf.ptr() + chroma_at as u64,
            pitch,
            width_bytes: chroma.width_bytes,
            height: chroma.height,
        };
        let lease = Lease { pool: self.pool.clone(), buf: Some(buf) };
        // SAFETY: source regions lie inside the mapped surface (crop within the coded
        // size); destinations inside `buf`, which the lease keeps alive; `wait` below
        // returns only after both copies finished.
        unsafe {
            self.stream.copy_device_async(luma, dst_luma)?;
        }
        // SAFETY: as above.
        unsafe {
            self.stream.copy_device_async(chroma, dst_chroma)?;
        }
        self.wait()?;
        let base = lease.buf.as_ref().map_or(0, DeviceBuffer::ptr);
        Ok(CudaFrame {
            device_index: self.device_index,
            device_ptr: base,
            pitch,
            plane_offsets: [0, chroma_at, 0],
            plane_count: 2,
            stream: self.stream.raw() as usize,
            event: 0,
            format,
            width: c.width,
            height: c.height,
            owner: self.owner.clone(),
            lease: Some(Box::new(lease)),
        })
    }

    fn copy_to_host(&mut self, s: Surface, c: Crop, format: PixelFormat, bit_depth: u8) -> Result<HostFrame> {
        let start = std::time::Instant::now();
        let luma = s.luma(c);
        let chroma = s.chroma(c);
        let luma_bytes = luma.width_bytes * luma.height;
        let need = luma_bytes + chroma.width_bytes * chroma.height;
        if matches!(format, PixelFormat::Nv12 | PixelFormat::P010) {
            // A pipeline's page-locked ring slot: DMA straight into it, no staging copy.
            let mut out = HostFrame::for_output(format, c.width, c.height);
            if out.as_bytes().len() == need {
                if let Some(dst) = out.pinned_mut() {
                    // SAFETY: both copies write inside `dst` (bounds-checked by the wrapper),
                    // within its first `need` bytes, which are this frame's; nothing reads or
                    // frees `dst` before `wait` below says the copies finished.
                    let queued = unsafe { self.stream.copy_to_host_async(luma, dst, 0, luma.width_bytes) };
                    let queued = queued.and_then(|()| {
                        // SAFETY: as above.
                        unsafe { self.stream.copy_to_host_async(chroma, dst, luma_bytes, chroma.width_bytes) }
                    });
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
        }
        if self.staging.as_ref().is_none_or(|b| b.len() < need) {
            self.staging = Some(PinnedHostBuffer::new(&self.ctx, need)?);
        }
        let staging = self.staging.as_mut().expect("allocated above");
        // SAFETY: both copies write inside `staging` (bounds-checked by the wrapper) and
        // nothing touches it until `wait` returns, after both finished.
        unsafe {
            self.stream.copy_to_host_async(luma, staging, 0, luma.width_bytes)?;
        }
        // SAFETY: as above.
        unsafe {
            self.stream.copy_to_host_async(chroma, staging, luma_bytes, chroma.width_bytes)?;
        }
        self.wait()?;
        let staged = &self.staging.as_ref().expect("allocated above").as_slice()[..need];
        let frame = repack_nv12(staged, c.width, c.height, format, bit_depth);
        downloaded(start, need);
        Ok(frame)
    }
}

/// Reports a device-to-host copy of `bytes` that began at `start` (the `download` stage
/// and `video_hw_bytes_copied_total{direction="d2h"}` of the session on this thread).
fn downloaded(start: std::time::Instant, bytes: usize) {
    record_stage(Stage::Download, start.elapsed());
    record_copy(CopyDirection::DeviceToHost, bytes as u64);
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
        PixelFormat::Nv12 | PixelFormat::P010 => {
            // Straight into a slot of the pipeline ring this thread produces into, if any.
            let mut out = HostFrame::for_output(format, width, height);
            let dst = out.as_bytes_mut();
            if dst.len() == nv12.len() {
                dst.copy_from_slice(nv12);
            }
            out
        }
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
