//! Host frames (NV12, P010, YUV420P, yuv420p10le) copied out of mapped surfaces without
//! the decode thread waiting for the copy.
//!
//! Why: the copy-out used to run on the decode thread and wait — map, copy to a staging
//! buffer, wait, reorder the chroma on the CPU into a fresh allocation — so the engine sat
//! idle while the CPU worked, and one session delivered host frames at ~60% of the rate it
//! decodes at with frames left on the GPU (bench/results/host-20261122-3d36a88.md).
//!
//! Here the bytes the caller receives are made on the GPU and copied once, by DMA, into
//! page-locked memory that becomes the frame itself:
//! - NV12 / P010: luma and chroma straight from the surface;
//! - YUV420P: luma straight, chroma split into U and V by a kernel into device scratch
//!   memory, then copied;
//! - yuv420p10le: both planes shifted (P016 keeps the value in the high bits) by kernels
//!   into scratch, then copied.
//!
//! The destination is a page-locked slot of the pipeline ring the decode thread produces
//! into, else one of the session's own page-locked slots. When the caller holds all of
//! those (a reader decoding GOPs ahead holds hundreds of frames), the copy goes to a
//! page-locked staging buffer and the frame is new memory filled from it once the copy is
//! done: pinning memory for every frame held would cost more than it saves (page-locking
//! runs at a few GB/s, and the reader's frames are not reused). The copies are queued on the
//! session's copy stream with an event after them, the surface stays mapped (lent, as for
//! CUDA frames) until the event completes, and the decode thread goes back to feeding the
//! engine. The session hands the frame out once its event completed, in display order
//! (see `session`). One stream orders everything, so one scratch buffer serves every
//! frame: the next frame's kernels run after this frame's copy.
//!
//! The rest — low latency, no output surface to spare, slots turned off — takes the
//! copy-out that waits (`output::CopyOut::copy`).

use crate::gpu_memory::MemoryUse;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::super::call_times;
use super::super::cuda::{Context, DeviceBuffer, DeviceRegion, Event, PinnedHostBuffer, Stream};
use super::super::device_frames::downloaded;
use super::super::kernels::Kernels;
use super::output::{COPY_TIMEOUT, Crop, Surface, packed_host_frame};
use crate::codec::PixelFormat;
use crate::config::Output;
use crate::error::{Error, Result};
use crate::frame::HostFrame;
use crate::frame::memory::HostBuffer;
use crate::frame::output::take_output_slot;
use crate::frame::pool::FrameSlots;

/// Page-locked memory a session may keep for its own host frames: enough for a consumer
/// that drops frames as it goes, with a queue between (about 20 frames of 1080p YUV420P).
const SLOT_BYTES: usize = 64 << 20;
/// Slots made before any has come back.
const FIRST_SLOTS: usize = 2;
/// Slots at least and at most, whatever the frame size.
const MIN_SLOTS: usize = 4;
const MAX_SLOTS: usize = 64;

/// A slot count set by [`set_slots`] (`usize::MAX`: none).
static SLOTS_SET: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Sets the page-locked slots of sessions opened from now on (`None`: sized by the frame,
/// or `VIDEO_HW_NVDEC_HOST_SLOTS`). `Some(0)` turns the copies that do not wait off, so a
/// benchmark can measure what they bring; a small count makes a test reach the staging.
pub(crate) fn set_slots(slots: Option<usize>) {
    SLOTS_SET.store(slots.unwrap_or(usize::MAX), Ordering::Relaxed);
}

/// The slots a session keeps for frames of `frame_bytes`.
fn slots_for(frame_bytes: usize) -> usize {
    let set = SLOTS_SET.load(Ordering::Relaxed);
    if set != usize::MAX {
        return set;
    }
    crate::env::settings()
        .nvdec_host_slots
        .unwrap_or_else(|| (SLOT_BYTES / frame_bytes.max(1)).clamp(MIN_SLOTS, MAX_SLOTS))
}

/// Where a host frame's bytes are copied to.
pub(crate) enum Dest {
    /// Page-locked memory that is the frame itself.
    Frame(HostFrame),
    /// A staging buffer of the session; the frame is new memory filled from it.
    Staging(PinnedHostBuffer),
}

impl Dest {
    fn pinned(&mut self) -> Option<&mut PinnedHostBuffer> {
        match self {
            Dest::Frame(f) => f.pinned_mut::<PinnedHostBuffer>(),
            Dest::Staging(b) => Some(b),
        }
    }
}

/// What a copy reads from, kept until the copy is done: a mapped surface (unmapped when
/// dropped) or a CUDA frame (its memory given back when dropped).
pub(crate) type CopySource = Box<dyn std::any::Any + Send>;

/// A frame whose bytes are still being copied: complete once `event` has; the surface it
/// is copied from is unmapped (or the frame dropped) then.
pub(crate) struct InFlight {
    event: Event,
    source: CopySource,
    dest: Dest,
    format: PixelFormat,
    size: (u32, u32),
    start: Instant,
}

impl InFlight {
    /// The format the host frame will have.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Whether the copies finished (without waiting).
    pub fn is_done(&self) -> Result<bool> {
        self.event.is_complete()
    }

    /// Waits for the copies, unmaps the surface, and returns the frame (filled from the
    /// staging buffer, which goes back for reuse, when it went there). After a timeout the
    /// copies may still run: the surface stays mapped and the memory is never released
    /// (the device is stuck).
    pub fn finish(self, copies: &mut HostCopies) -> Result<HostFrame> {
        let InFlight { event, source, dest, format, size: (w, h), start } = self;
        // Timed only when the copies are still running: what the session waits for them.
        let waited = match event.is_complete() {
            Ok(true) => Ok(()),
            _ => call_times::HOST_WAIT.time(|| event.wait_timeout(COPY_TIMEOUT)),
        };
        if let Err(e) = waited {
            if matches!(e, Error::Timeout(_)) {
                std::mem::forget((source, dest, event));
            }
            return Err(e);
        }
        drop(source);
        copies.spare_events.push(event);
        let frame = match dest {
            Dest::Frame(frame) => frame,
            Dest::Staging(buf) => {
                let frame = packed_host_frame(format, w, h, &buf.as_slice()[..format.frame_size(w, h)])?;
                call_times::HOST_STAGED.add(start.elapsed());
                copies.staging.push(buf);
                frame
            }
        };
        downloaded(start, frame.as_bytes().len());
        Ok(frame)
    }
}

/// The session's means of copying host frames without waiting.
pub(crate) struct HostCopies {
    ctx: Context,
    /// The session's own page-locked frames, made at the first frame that needs one.
    slots: Option<FrameSlots>,
    /// Device memory for the planar conversions.
    scratch: Option<DeviceBuffer>,
    /// Free page-locked staging buffers (one per copy running at most).
    staging: Vec<PinnedHostBuffer>,
    /// Slots that may be made so far (grows as slots come back; see `destination`).
    allowed: usize,
    /// Events of finished copies, for reuse.
    spare_events: Vec<Event>,
}

impl HostCopies {
    pub fn new(ctx: &Context) -> HostCopies {
        HostCopies {
            ctx: ctx.clone(),
            slots: None,
            scratch: None,
            staging: Vec::new(),
            allowed: FIRST_SLOTS,
            spare_events: Vec::new(),
        }
    }

    /// The host format `output` gives for a `bit_depth` picture, when it is one these
    /// copies make.
    pub fn format(output: Output, bit_depth: u8) -> Option<PixelFormat> {
        let Output::Host(_) = output else { return None };
        output.format_for_depth(bit_depth).filter(|f| {
            matches!(f, PixelFormat::Nv12 | PixelFormat::P010 | PixelFormat::Yuv420p | PixelFormat::Yuv420p10)
        })
    }

    /// Where to copy a frame of `format` and size, without waiting: a page-locked slot of
    /// the pipeline ring this thread produces into, else one of the session's own, else a
    /// staging buffer; `None` when the slots are turned off.
    pub fn destination(&mut self, format: PixelFormat, width: u32, height: u32) -> Result<Option<Dest>> {
        if let Some(mut slot) = take_output_slot(format, width, height) {
            if slot.pinned_mut::<PinnedHostBuffer>().is_some() {
                return Ok(Some(Dest::Frame(slot)));
            }
            // Ordinary memory: not a DMA target; the session's own memory is used instead.
            drop(slot);
        }
        let bytes = format.frame_size(width, height);
        let slots = self.slots.get_or_insert_with(|| FrameSlots::host("nvdec host frames", slots_for(bytes), None));
        if slots.slots() == 0 {
            return Ok(None);
        }
        // Slots are made only as frames come back: a caller that holds every frame (a
        // reader decoding GOPs ahead) would otherwise make the session pin memory for
        // frames it never reuses. Each slot found free again lets one more be made.
        let f = slots.figures();
        let returned = f.allocations as usize > f.in_use;
        if returned || (f.allocations as usize) < self.allowed {
            let ctx = &self.ctx;
            let frame = slots.try_acquire_host_from(format, width, height, |bytes| {
                Ok(HostBuffer::Pinned(Box::new(PinnedHostBuffer::new(ctx, bytes)?)))
            })?;
            if let Some(frame) = frame {
                if returned {
                    self.allowed = (self.allowed + 1).min(slots.slots());
                }
                return Ok(Some(Dest::Frame(frame)));
            }
        }
        self.staging_buffer(bytes).map(Some)
    }

    /// A page-locked staging buffer of at least `bytes` (a free one, else a new one).
    pub fn staging_buffer(&mut self, bytes: usize) -> Result<Dest> {
        self.staging.retain(|b| b.len() >= bytes);
        let buf = match self.staging.pop() {
            Some(b) => b,
            None => PinnedHostBuffer::new(&self.ctx, bytes)?,
        };
        Ok(Dest::Staging(buf))
    }

    /// Queues the copy of `crop` of `surface` (mapped, its post-processing queued on
    /// `stream`) into `dest` (from [`destination`](Self::destination)) as `format`, and
    /// returns without waiting; the surface stays mapped until the copy is done.
    pub fn start(
        &mut self,
        stream: &Stream,
        (surface, source): (Surface, CopySource),
        crop: Crop,
        (format, bit_depth): (PixelFormat, u8),
        mut dest: Dest,
    ) -> Result<InFlight> {
        let start = Instant::now();
        let queued = match dest.pinned() {
            Some(dst) => self.queue(stream, surface, crop, format, bit_depth, dst),
            None => Err(Error::backend("nvdec", "copy-out", "host frame is not page-locked")),
        };
        self.in_flight(stream, queued, source, dest, (format, (crop.width, crop.height)), start)
    }

    /// Queues the copy of a `format` picture's planes as they are (`planes`: each plane's
    /// rows in device memory of this context, written one after the other, tightly
    /// packed, into `dest`) on `stream`, and returns without waiting; `source` (which
    /// owns the planes' memory) is kept until the copy is done. For pictures that need no
    /// conversion on the way (RGB made on the GPU).
    pub fn start_planes(
        &mut self,
        stream: &Stream,
        source: CopySource,
        planes: &[DeviceRegion],
        shape: (PixelFormat, (u32, u32)),
        mut dest: Dest,
    ) -> Result<InFlight> {
        let start = Instant::now();
        let queued = match dest.pinned() {
            Some(dst) => {
                let mut at = 0;
                planes.iter().try_for_each(|plane| {
                    // SAFETY: the copy writes inside `dst` (bounds-checked by the wrapper);
                    // the source lies in memory `source` keeps alive; `dst` is left alone
                    // until the event recorded after the copies completes (`in_flight`).
                    unsafe { stream.copy_to_host_async(*plane, dst, at, plane.width_bytes)? };
                    at += plane.width_bytes * plane.height;
                    Ok(())
                })
            }
            None => Err(Error::backend("nvdec", "copy-out", "host frame is not page-locked")),
        };
        self.in_flight(stream, queued, source, dest, shape, start)
    }

    /// The copy queued on `stream` (`queued`: whether all of it was), with an event
    /// recorded after it; on a failure, waits for what was queued and returns the error.
    fn in_flight(
        &mut self,
        stream: &Stream,
        queued: Result<()>,
        source: CopySource,
        dest: Dest,
        (format, size): (PixelFormat, (u32, u32)),
        start: Instant,
    ) -> Result<InFlight> {
        let event = match self.spare_events.pop() {
            Some(e) => Ok(e),
            None => Event::new(&self.ctx),
        };
        let recorded = event.and_then(|event| event.record(stream).map(|()| event));
        match (queued, recorded) {
            (Ok(()), Ok(event)) => Ok(InFlight { event, source, dest, format, size, start }),
            (queued, recorded) => {
                // Part of the work may be queued: it must finish before the surface is
                // unmapped and the memory reused. After a timeout both are kept.
                let waited = match &recorded {
                    Ok(event) => event.wait_timeout(COPY_TIMEOUT),
                    Err(_) => stream.synchronize(),
                };
                if let Err(e @ Error::Timeout(_)) = waited {
                    std::mem::forget((source, dest));
                    return Err(e);
                }
                Err(queued
                    .err()
                    .or(recorded.err())
                    .or(waited.err())
                    .unwrap_or_else(|| Error::backend("nvdec", "copy-out", "a queued copy failed without an error")))
            }
        }
    }

    /// Queues the kernels and copies of [`start`](Self::start) into `dst` (tightly
    /// packed `format`).
    fn queue(
        &mut self,
        stream: &Stream,
        s: Surface,
        c: Crop,
        format: PixelFormat,
        bit_depth: u8,
        dst: &mut PinnedHostBuffer,
    ) -> Result<()> {
        let bps = s.bytes_per_sample;
        let (w, h) = (c.width as usize, c.height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let luma = s.luma(c);
        let chroma = s.chroma(c);
        let luma_bytes = w * h * bps;
        match format {
            PixelFormat::Nv12 | PixelFormat::P010 => {
                // SAFETY: the caller leaves `dst` alone, and the surface mapped, until the
                // event recorded after the copies completes.
                unsafe { s.queue_packed_to_host(c, stream, dst)? };
            }
            PixelFormat::Yuv420p | PixelFormat::Yuv420p10 => {
                let kernels = Kernels::get(&self.ctx)?;
                let wide = bit_depth > 8;
                // Scratch: (10-bit only) the shifted luma, then the U rows, then the V rows.
                let luma_rows = if wide { h } else { 0 };
                let scratch = self.scratch(stream, w * bps, luma_rows + 2 * ch)?;
                let (base, pitch) = (scratch.ptr(), scratch.pitch());
                let u = base + (luma_rows * pitch) as u64;
                let v = u + (ch * pitch) as u64;
                let planes = DeviceRegion { ptr: u, pitch, width_bytes: cw * bps, height: 2 * ch };
                let shift = 16 - u32::from(bit_depth.clamp(9, 16));
                let csize = (cw as u32, ch as u32);
                // The kernels read the mapped surface inside the crop and write the scratch
                // buffer inside the rows sized above. Both stay allocated until the stream
                // has run them: the surface stays mapped until the event after the copies;
                // the scratch buffer lives with `self`, and the next frame's kernels are
                // ordered after these copies on the same stream.
                if wide {
                    // SAFETY: see above.
                    unsafe {
                        kernels.shift_luma16(stream, (luma.ptr, s.pitch), (base, pitch), (c.width, c.height), shift)?
                    };
                    // SAFETY: see above.
                    unsafe {
                        kernels.deinterleave_uv(stream, (chroma.ptr, s.pitch), (u, v, pitch), csize, Some(shift))?
                    };
                } else {
                    // SAFETY: see above.
                    unsafe { kernels.deinterleave_uv(stream, (chroma.ptr, s.pitch), (u, v, pitch), csize, None)? };
                }
                let luma_src =
                    if wide { DeviceRegion { ptr: base, pitch, width_bytes: w * bps, height: h } } else { luma };
                // SAFETY: the copy writes inside `dst` (bounds-checked by the wrapper); the
                // caller leaves it alone until the event recorded after the copies completes.
                // The source is the mapped surface (8-bit luma) or scratch rows written by the
                // kernels queued before on the same stream.
                unsafe { stream.copy_to_host_async(luma_src, dst, 0, w * bps)? };
                // SAFETY: as above.
                unsafe { stream.copy_to_host_async(planes, dst, luma_bytes, cw * bps)? };
            }
            other => return Err(Error::unsupported(format!("nvdec host copy to {other}"), "not a YUV 4:2:0 format")),
        }
        Ok(())
    }

    /// The scratch buffer, at least `width_bytes` x `rows` (grown, never shrunk).
    fn scratch(&mut self, stream: &Stream, width_bytes: usize, rows: usize) -> Result<&DeviceBuffer> {
        let fits = self.scratch.as_ref().is_some_and(|b| b.width_bytes() >= width_bytes && b.height() >= rows);
        if !fits {
            if let Some(old) = self.scratch.take() {
                // Copies queued for earlier frames may still read it: free it after them.
                let event = Event::new(&self.ctx)?;
                event.record(stream)?;
                if let Err(e) = event.wait_timeout(COPY_TIMEOUT) {
                    std::mem::forget(old);
                    return Err(e);
                }
            }
            self.scratch = Some(DeviceBuffer::alloc_pitched(&self.ctx, width_bytes, rows, MemoryUse::Staging)?);
        }
        Ok(self.scratch.as_ref().expect("allocated above"))
    }
}
