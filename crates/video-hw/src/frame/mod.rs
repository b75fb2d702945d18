//! Decoded pictures and pictures to encode, in host memory or in a device's memory (CUDA
//! today; the shape is the device API plus the pixel format, so that another API's memory
//! is one more [`DeviceApi`], not another set of types).

use std::fmt;

use crate::codec::{ColorInfo, PixelFormat};
use crate::error::{Error, Result};

pub(crate) mod memory;
pub(crate) mod output;
pub(crate) mod pool;
pub(crate) mod recycle;

pub use recycle::HostBuffer;
pub(crate) mod staging;

use memory::DeviceLayout;
use pool::{DeviceSlot, Slot};

/// One picture: its format, size, timestamp and where its pixels are.
#[derive(Debug)]
pub struct Frame {
    /// Pixel layout.
    pub format: PixelFormat,
    /// Displayed width (cropping applied).
    pub width: u32,
    /// Displayed height (cropping applied).
    pub height: u32,
    /// Presentation timestamp in the session's timebase, when known.
    pub pts: Option<i64>,
    /// True for a random access point (IDR / IRAP).
    pub keyframe: bool,
    /// Colour description.
    pub color: ColorInfo,
    /// The pixels.
    pub data: FrameData,
}

/// The programming interface a device's memory belongs to: what a [`DeviceFrame`]'s
/// pointers and handles mean, and what [`crate::Output::Device`] asks an engine for.
///
/// Non-exhaustive: Vulkan, Metal or VA-API memory would be further variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceApi {
    /// NVIDIA CUDA: pointers are `CUdeviceptr`, streams `CUstream`, events `CUevent`.
    Cuda,
    /// The toy engine's pretend device (unit tests only): that an engine of another
    /// device API comes in without the generic layers naming it.
    #[cfg(test)]
    Toy,
}

impl fmt::Display for DeviceApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceApi::Cuda => "CUDA",
            #[cfg(test)]
            DeviceApi::Toy => "toy",
        })
    }
}

/// Where a frame's pixels live.
#[non_exhaustive]
pub enum FrameData {
    /// In host memory.
    Host(HostFrame),
    /// In a device's memory (decoder output with [`crate::Output::Device`]); which API's
    /// memory is [`DeviceFrame::api`].
    Device(DeviceFrame),
    /// No pixels: the session was opened with [`crate::Output::Metadata`].
    None,
}

impl fmt::Debug for FrameData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameData::Host(h) => f.debug_tuple("Host").field(&h.planes).finish(),
            FrameData::Device(c) => f.debug_tuple("Device").field(c).finish(),
            FrameData::None => f.write_str("None"),
        }
    }
}

/// Layout of one plane inside a [`HostFrame`]'s buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaneLayout {
    /// Byte offset of the plane's first row.
    pub offset: usize,
    /// Bytes from one row to the next (≥ `row_bytes`).
    pub stride: usize,
    /// Bytes of picture data in one row.
    pub row_bytes: usize,
    /// Number of rows.
    pub rows: usize,
}

/// Pixels in host memory: one buffer and up to three planes in it.
///
/// ```
/// use video_hw::{frame::HostFrame, PixelFormat};
/// let f = HostFrame::new_packed(PixelFormat::Yuv420p, 4, 2);
/// assert_eq!(f.planes().len(), 3);
/// assert_eq!(f.plane(1).row_bytes, 2);
/// assert_eq!(f.as_bytes().len(), 4 * 2 + 2 * 1 * 2);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HostFrame {
    buffer: Storage,
    planes: Planes,
}

impl fmt::Debug for HostFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostFrame")
            .field("bytes", &self.buffer.len())
            .field("pooled", &self.is_pooled())
            .field("lent", &self.is_lent())
            .field("planes", &self.planes)
            .finish()
    }
}

/// Up to [`MAX_PLANES`] plane layouts, kept inline (no allocation per frame).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Planes {
    list: [PlaneLayout; MAX_PLANES],
    len: usize,
}

/// The most planes a [`HostFrame`] has.
pub const MAX_PLANES: usize = 4;

impl Planes {
    fn push(&mut self, p: PlaneLayout) {
        if let Some(slot) = self.list.get_mut(self.len) {
            *slot = p;
            self.len += 1;
        }
    }
}

impl std::ops::Deref for Planes {
    type Target = [PlaneLayout];
    fn deref(&self) -> &[PlaneLayout] {
        &self.list[..self.len]
    }
}

impl fmt::Debug for Planes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Where a [`HostFrame`]'s bytes live: its own vector, a recycled one (kept for the next
/// frame when dropped, `recycle`), or a slot lent by a [`crate::pipeline::FrameRing`]
/// (given back when the frame is dropped).
enum Storage {
    Owned(Vec<u8>),
    Recycled(recycle::Recycled),
    Slot(Slot),
    /// An engine's own reference-counted picture buffer, read-only while shared (the
    /// engine may still predict from it): mutable access copies it first.
    Lent(Box<dyn LentBytes>),
}

/// Bytes an engine lends to a [`HostFrame`] without a copy: its decoded picture's buffer,
/// given back to the engine when the frame drops. The bytes must not change while the
/// frame lives.
pub(crate) trait LentBytes: Send + Sync {
    /// The whole buffer.
    fn bytes(&self) -> &[u8];
}

impl std::ops::Deref for Storage {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Storage::Owned(v) => v,
            Storage::Recycled(r) => r.bytes(),
            Storage::Slot(s) => s.bytes(),
            Storage::Lent(l) => l.bytes(),
        }
    }
}

impl std::ops::DerefMut for Storage {
    fn deref_mut(&mut self) -> &mut [u8] {
        // Lent bytes are shared with their engine: writes go to a copy.
        if let Storage::Lent(l) = self {
            *self = Storage::Recycled(recycle::Recycled::copy_of(l.bytes()));
        }
        match self {
            Storage::Owned(v) => v,
            Storage::Recycled(r) => r.bytes_mut(),
            Storage::Slot(s) => s.bytes_mut(),
            Storage::Lent(_) => unreachable!("replaced by a copy above"),
        }
    }
}

impl Clone for Storage {
    /// A clone owns its bytes (a ring slot is never shared).
    fn clone(&self) -> Self {
        Storage::Owned(self.to_vec())
    }
}

impl PartialEq for Storage {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Storage {}

impl HostFrame {
    /// A zeroed, tightly packed picture of `format` and size.
    pub fn new_packed(format: PixelFormat, width: u32, height: u32) -> Self {
        let (planes, bytes) = packed_planes(format, width, height);
        HostFrame { buffer: Storage::Owned(vec![0; bytes]), planes }
    }

    /// A copy of the tightly packed picture `bytes` (exactly one picture of `format` and
    /// size) in a recycled buffer (`recycle`), or new memory.
    pub(crate) fn copy_packed(format: PixelFormat, width: u32, height: u32, bytes: &[u8]) -> Result<Self> {
        check_packed_len(format, width, height, bytes.len())?;
        let (planes, _) = packed_planes(format, width, height);
        Ok(HostFrame { buffer: Storage::Recycled(recycle::Recycled::copy_of(bytes)), planes })
    }

    /// Wraps an existing tightly packed buffer; fails when its length is not exactly one
    /// picture of `format` and size.
    pub fn from_packed(format: PixelFormat, width: u32, height: u32, buffer: Vec<u8>) -> Result<Self> {
        check_packed_len(format, width, height, buffer.len())?;
        let mut f = HostFrame::new_packed(format, width, height);
        f.buffer = Storage::Owned(buffer);
        Ok(f)
    }

    /// Wraps a buffer with explicit plane layouts; fails when a plane lies outside it
    /// or there are more than [`MAX_PLANES`].
    pub fn from_planes(buffer: Vec<u8>, planes: Vec<PlaneLayout>) -> Result<Self> {
        let planes = checked_planes(buffer.len(), &planes)?;
        Ok(HostFrame { buffer: Storage::Owned(buffer), planes })
    }

    /// A picture in an engine's own buffer, lent without a copy (see [`LentBytes`]);
    /// fails as [`from_planes`](Self::from_planes) does.
    pub(crate) fn lent(buffer: Box<dyn LentBytes>, planes: &[PlaneLayout]) -> Result<Self> {
        let planes = checked_planes(buffer.bytes().len(), planes)?;
        Ok(HostFrame { buffer: Storage::Lent(buffer), planes })
    }

    /// True when the bytes are an engine's own buffer, lent (see [`LentBytes`]).
    pub(crate) fn is_lent(&self) -> bool {
        matches!(self.buffer, Storage::Lent(_))
    }

    /// This picture tightly packed: itself when it is, else a packed copy in a recycled
    /// buffer (for consumers that need one picture in one run of bytes).
    pub fn to_packed(&self, format: PixelFormat, width: u32, height: u32) -> Result<std::borrow::Cow<'_, HostFrame>> {
        if self.is_packed() {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let (planes, bytes) = packed_planes(format, width, height);
        if planes.len != self.planes.len
            || planes.iter().zip(self.planes.iter()).any(|(a, b)| (a.row_bytes, a.rows) != (b.row_bytes, b.rows))
        {
            return Err(Error::invalid_input(format!(
                "planes {:?} are not a {format} {width}x{height} picture",
                self.planes
            )));
        }
        let mut buffer = recycle::Recycled::for_overwrite(bytes);
        let mut at = 0;
        for run in self.packed_runs() {
            buffer.bytes_mut()[at..][..run.len()].copy_from_slice(run);
            at += run.len();
        }
        Ok(std::borrow::Cow::Owned(HostFrame { buffer: Storage::Recycled(buffer), planes }))
    }

    /// A tightly packed picture in a ring slot (the slot holds at least its bytes).
    pub(crate) fn in_slot(format: PixelFormat, width: u32, height: u32, slot: Slot) -> Self {
        let (planes, _) = packed_planes(format, width, height);
        HostFrame { buffer: Storage::Slot(slot), planes }
    }

    /// An output picture for an engine to write whole: a slot of the frame ring the
    /// current thread produces into (see [`crate::pipeline`]) when one is free, else a
    /// recycled buffer (`recycle`: an earlier picture's bytes), else new memory.
    ///
    /// Why recycled: a decoder whose frames each took new memory had the kernel fault in
    /// every page of every picture. `video-hw decode` of the corpus's 1080p HEVC camera clip
    /// (raw Annex-B, FFmpeg 5.1, 2 threads, 2026-11-25) took 134 thousand page faults
    /// (glibc handed each 3 MB picture fresh pages, which calloc then zeroed), 33 thousand
    /// with this; the same stream in MP4 16 thousand.
    pub(crate) fn for_output(format: PixelFormat, width: u32, height: u32) -> Self {
        output::take_output_slot(format, width, height).unwrap_or_else(|| {
            let (planes, bytes) = packed_planes(format, width, height);
            HostFrame { buffer: Storage::Recycled(recycle::Recycled::for_overwrite(bytes)), planes }
        })
    }

    /// True when the bytes are a slot lent by a [`crate::pipeline::FrameRing`]: the
    /// slot goes back to the ring when the frame is dropped (a clone owns its bytes).
    pub fn is_pooled(&self) -> bool {
        matches!(self.buffer, Storage::Slot(_))
    }

    /// The page-locked buffer under this frame as the type its engine made (`T`), when it
    /// is a pinned ring slot whose buffer holds the frame's bytes from its start (for DMA
    /// straight into it).
    pub(crate) fn pinned_mut<T: 'static>(&mut self) -> Option<&mut T> {
        match &mut self.buffer {
            Storage::Slot(s) => s.pinned_mut(),
            Storage::Owned(_) | Storage::Recycled(_) | Storage::Lent(_) => None,
        }
    }

    /// True when the bytes are page-locked host memory (a ring slot allocated through
    /// the CUDA driver), which a GPU reads and writes by DMA without a staging copy.
    pub fn is_pinned(&self) -> bool {
        matches!(&self.buffer, Storage::Slot(s) if s.is_pinned())
    }

    /// The plane layouts.
    pub fn planes(&self) -> &[PlaneLayout] {
        &self.planes
    }

    /// Layout of plane `i`.
    ///
    /// # Panics
    /// When `i` is not a plane of this frame.
    pub fn plane(&self, i: usize) -> PlaneLayout {
        self.planes[i]
    }

    /// Rows of plane `i` (without stride padding).
    pub fn rows(&self, i: usize) -> impl Iterator<Item = &[u8]> {
        let p = self.planes.get(i).copied().unwrap_or_default();
        (0..p.rows).map(move |r| &self.buffer[p.offset + r * p.stride..][..p.row_bytes])
    }

    /// Mutable row `row` of plane `plane`.
    pub fn row_mut(&mut self, plane: usize, row: usize) -> &mut [u8] {
        let p = self.planes[plane];
        &mut self.buffer[p.offset + row * p.stride..][..p.row_bytes]
    }

    /// The whole buffer (planes with their stride padding).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buffer
    }

    /// The whole buffer, mutable.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buffer
    }

    /// True when every plane is tightly packed and follows the previous one, so
    /// [`as_bytes`](Self::as_bytes) is the packed picture.
    pub fn is_packed(&self) -> bool {
        let mut offset = 0;
        for p in self.planes.iter() {
            if p.offset != offset || p.stride != p.row_bytes {
                return false;
            }
            offset += p.row_bytes * p.rows;
        }
        offset == self.buffer.len()
    }

    /// The tightly packed picture (rows without padding, planes in order) as runs of this
    /// frame's own bytes: a plane whose rows follow each other (stride = row bytes) is one
    /// run, any other plane a run per row.
    pub fn packed_runs(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.planes.len()).flat_map(move |i| {
            let p = self.planes[i];
            let whole = (p.stride == p.row_bytes).then(|| &self.buffer[p.offset..][..p.row_bytes * p.rows]);
            let rows = whole.is_none().then(|| self.rows(i)).into_iter().flatten();
            whole.into_iter().chain(rows)
        })
    }

    /// Appends the tightly packed picture (rows without padding, planes in order) to `out`.
    pub fn write_packed(&self, out: &mut Vec<u8>) {
        for run in self.packed_runs() {
            out.extend_from_slice(run);
        }
    }

    /// Gives the buffer back (for reuse). A ring-backed frame ([`is_pooled`](Self::is_pooled))
    /// is copied out and its slot goes back to the ring.
    pub fn into_buffer(self) -> Vec<u8> {
        match self.buffer {
            Storage::Owned(v) => v,
            Storage::Recycled(r) => r.into_vec(),
            Storage::Slot(s) => s.bytes().to_vec(),
            Storage::Lent(l) => l.bytes().to_vec(),
        }
    }
}

/// `planes` as a frame's list, or `InvalidInput` when one lies outside a `len` byte
/// buffer or there are more than [`MAX_PLANES`].
fn checked_planes(len: usize, planes: &[PlaneLayout]) -> Result<Planes> {
    if planes.len() > MAX_PLANES {
        return Err(Error::invalid_input(format!("{} planes (at most {MAX_PLANES})", planes.len())));
    }
    let mut list = Planes::default();
    for (i, p) in planes.iter().enumerate() {
        let end = p
            .rows
            .checked_sub(1)
            .map(|r| r.checked_mul(p.stride).and_then(|x| x.checked_add(p.offset)?.checked_add(p.row_bytes)))
            .unwrap_or(Some(p.offset));
        if p.stride < p.row_bytes || end.is_none_or(|e| e > len) {
            return Err(Error::invalid_input(format!("plane {i} does not fit its {len} byte buffer")));
        }
        list.push(*p);
    }
    Ok(list)
}

/// `InvalidInput` unless `len` bytes are exactly one tightly packed `format` picture.
fn check_packed_len(format: PixelFormat, width: u32, height: u32, len: usize) -> Result<()> {
    let want = format.frame_size(width, height);
    if len != want {
        return Err(Error::invalid_input(format!("{format} {width}x{height} needs {want} bytes, got {len}")));
    }
    Ok(())
}

/// The planes of a tightly packed picture and its size in bytes.
fn packed_planes(format: PixelFormat, width: u32, height: u32) -> (Planes, usize) {
    let mut planes = Planes::default();
    let mut offset = 0;
    for i in 0..format.plane_count() {
        let (row_bytes, rows) = format.plane_size(i, width, height);
        planes.push(PlaneLayout { offset, stride: row_bytes, row_bytes, rows });
        offset += row_bytes * rows;
    }
    (planes, offset)
}

/// What a device-memory frame needs from the engine that owns its memory.
pub(crate) trait DeviceFrameOwner: Send + Sync {
    /// Whose memory the frames are in.
    fn api(&self) -> DeviceApi;

    /// Copies the frame to host memory (tightly packed).
    fn download(&self, frame: &DeviceFrame) -> Result<HostFrame>;

    /// Copies `host` (planes of the frame's format and size, checked) into the frame.
    fn upload(&self, frame: &DeviceFrame, host: &HostFrame) -> Result<()> {
        let _ = (frame, host);
        Err(Error::unsupported("uploading into this device frame", "its memory is read-only here"))
    }

    /// Runs `plan` (of `transform`) over the frame on its GPU, into new device memory.
    fn transform(
        &self,
        frame: &DeviceFrame,
        transform: &crate::pixels::transform::Transform,
        plan: &crate::pixels::transform::Plan,
    ) -> Result<DeviceFrame> {
        let _ = (frame, transform, plan);
        Err(Error::unsupported("transform of this device frame", "its engine has no GPU transform"))
    }

    /// A [`staging::HostStaging`] for frames of this owner's GPU.
    fn host_staging(&self) -> Result<Box<dyn staging::HostStaging>> {
        Err(Error::unsupported(
            "copying this device frame to host memory in the background",
            "its engine has no copy queue",
        ))
    }
}

/// Checks that `host`'s planes are those of `format` at `width` x `height`.
pub(crate) fn check_host_planes(host: &HostFrame, format: PixelFormat, width: u32, height: u32) -> Result<()> {
    let planes = host.planes();
    let ok = planes.len() == format.plane_count()
        && planes.iter().enumerate().all(|(i, p)| (p.row_bytes, p.rows) == format.plane_size(i, width, height));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!("host frame planes are not those of {format} {width}x{height}")))
    }
}

/// A picture in a device's memory ([`api`](Self::api) says whose: CUDA today), lent from
/// the decoder's pool or from a slot of a device-memory
/// [`FrameRing`](crate::pipeline::FrameRing): it goes back where it came from when
/// dropped. Wait on [`ready_event`](Self::ready_event) (or synchronise
/// [`cuda_stream`](Self::cuda_stream)) before reading it from another stream, and let your
/// own GPU work on it finish before dropping it: its memory is reused at once.
///
/// The planes share one pitch; a frame of this crate's making has them one under the
/// other in a single allocation, luma first. Chroma is right below luma, except in a
/// frame NVDEC lends in its own output surface, where the rows up to the coded height lie
/// between them: find each plane with [`plane_ptr`](Self::plane_ptr).
pub struct DeviceFrame {
    pub(crate) device_index: u32,
    pub(crate) device_ptr: u64,
    pub(crate) pitch: usize,
    pub(crate) plane_offsets: [usize; 3],
    pub(crate) plane_count: usize,
    pub(crate) stream: usize,
    pub(crate) event: usize,
    pub(crate) format: PixelFormat,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) owner: std::sync::Arc<dyn DeviceFrameOwner>,
    /// Returned to the pool (or the ring) on drop.
    pub(crate) lease: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// The CUDA name of [`DeviceFrame`], from before device frames named their API: kept for
/// a release.
pub type CudaFrame = DeviceFrame;

impl fmt::Debug for DeviceFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceFrame")
            .field("api", &self.api())
            .field("device", &self.device_index)
            .field("ptr", &format_args!("{:#x}", self.device_ptr))
            .field("pitch", &self.pitch)
            .field("format", &self.format)
            .finish()
    }
}

impl DeviceFrame {
    /// A `format` picture in a device slot of a ring (planes one under the other, as
    /// [`DeviceLayout`] says), produced on `stream`
    /// (0: complete when handed out). The slot goes back to its ring when the frame drops.
    pub(crate) fn in_slot(
        slot: DeviceSlot,
        device_index: u32,
        format: PixelFormat,
        width: u32,
        height: u32,
        owner: std::sync::Arc<dyn DeviceFrameOwner>,
        stream: usize,
    ) -> DeviceFrame {
        let memory = slot.memory().map_or((0, 0), |b| (b.ptr, b.pitch));
        DeviceFrame::stacked(Box::new(slot), memory, device_index, format, (width, height), owner, stream)
    }

    /// A `format` picture at `ptr` with rows of `pitch` bytes, planes one under the other
    /// (as [`DeviceLayout`] says), produced on
    /// `stream`; `lease` is dropped (its memory given back) when the frame drops.
    pub(crate) fn stacked(
        lease: Box<dyn std::any::Any + Send + Sync>,
        (ptr, pitch): (u64, usize),
        device_index: u32,
        format: PixelFormat,
        (width, height): (u32, u32),
        owner: std::sync::Arc<dyn DeviceFrameOwner>,
        stream: usize,
    ) -> DeviceFrame {
        let layout = DeviceLayout::of(format, width, height);
        DeviceFrame {
            device_index,
            device_ptr: ptr,
            pitch,
            plane_offsets: layout.plane_rows.map(|r| r * pitch),
            plane_count: layout.planes,
            stream,
            event: 0,
            format,
            width,
            height,
            owner,
            lease: Some(lease),
        }
    }

    /// A two-plane 4:2:0 `format` picture (NV12, P010) with luma at `ptr` and chroma
    /// `chroma_offset` bytes after it, rows of `pitch` bytes, produced on `stream`;
    /// `lease` is dropped (the memory given back) when the frame drops.
    pub(crate) fn two_planes(
        lease: Box<dyn std::any::Any + Send + Sync>,
        (ptr, pitch, chroma_offset): (u64, usize, usize),
        device_index: u32,
        format: PixelFormat,
        size: (u32, u32),
        owner: std::sync::Arc<dyn DeviceFrameOwner>,
        stream: usize,
    ) -> DeviceFrame {
        let mut frame = DeviceFrame::stacked(lease, (ptr, pitch), device_index, format, size, owner, stream);
        frame.plane_offsets = [0, chroma_offset, 0];
        frame
    }

    /// The ring slot the frame lies in, if it is one.
    pub(crate) fn slot(&self) -> Option<&DeviceSlot> {
        self.lease.as_ref()?.downcast_ref()
    }

    /// True when the memory is a slot lent by a device-memory
    /// [`FrameRing`](crate::pipeline::FrameRing): it goes back to the ring when the frame
    /// is dropped.
    pub fn is_pooled(&self) -> bool {
        self.slot().is_some()
    }

    /// The programming interface the memory, pointers and handles belong to.
    pub fn api(&self) -> DeviceApi {
        self.owner.api()
    }

    /// Index of the GPU the memory is on.
    pub fn device_index(&self) -> u32 {
        self.device_index
    }

    /// Device pointer of plane `i` (a `CUdeviceptr` for [`DeviceApi::Cuda`]).
    pub fn plane_ptr(&self, i: usize) -> Option<u64> {
        (i < self.plane_count).then(|| self.device_ptr + self.plane_offsets[i] as u64)
    }

    /// Bytes from one row to the next, for every plane.
    pub fn pitch(&self) -> usize {
        self.pitch
    }

    /// The `CUstream` the frame was produced on, as a raw handle (a decoder's: valid while
    /// that decoder is open); the API's stream or queue for another [`DeviceApi`].
    pub fn cuda_stream(&self) -> usize {
        self.stream
    }

    /// A `CUevent` recorded after the frame was written, as a raw handle (0 when the
    /// frame was complete before it was handed out); the API's fence for another
    /// [`DeviceApi`].
    pub fn ready_event(&self) -> usize {
        self.event
    }

    /// Pixel layout of the device memory.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Copies the picture to host memory (tightly packed).
    pub fn download(&self) -> Result<HostFrame> {
        self.owner.download(self)
    }

    /// A copy queue to host memory for frames of this frame's GPU (see [`staging`]).
    pub(crate) fn host_staging(&self) -> Result<Box<dyn staging::HostStaging>> {
        self.owner.host_staging()
    }

    /// Copies a host picture of this frame's format and size (any plane strides) into
    /// the device memory, and waits until it is there: how a producer with pixels in
    /// host memory fills a slot of a device-memory ring
    /// ([`FrameRing::acquire_cuda`](crate::pipeline::FrameRing::acquire_cuda)).
    /// `InvalidInput` when the planes do not match.
    ///
    /// ```no_run
    /// use video_hw::frame::HostFrame;
    /// use video_hw::pipeline::{FrameRing, RingConfig, RingMemory};
    /// use video_hw::PixelFormat;
    ///
    /// let ring = FrameRing::with_config(RingConfig::new(4).memory(RingMemory::Cuda { device: 0 }))?;
    /// let pixels = HostFrame::new_packed(PixelFormat::Nv12, 64, 32);
    /// let mut frame = ring.acquire_cuda(PixelFormat::Nv12, 64, 32, None)?;
    /// frame.cuda_data_mut().expect("device memory").upload(&pixels)?;
    /// assert_eq!(frame.to_host()?.as_bytes(), pixels.as_bytes());
    /// # Ok::<(), video_hw::Error>(())
    /// ```
    pub fn upload(&mut self, host: &HostFrame) -> Result<()> {
        check_host_planes(host, self.format, self.width, self.height)?;
        self.owner.upload(self, host)
    }

    /// Width and height of the picture.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

impl Frame {
    /// The same frame's description (format, size, timestamp, colour) over other pixels.
    pub fn same_over(&self, data: FrameData) -> Frame {
        Frame {
            format: self.format,
            width: self.width,
            height: self.height,
            pts: self.pts,
            keyframe: self.keyframe,
            color: self.color,
            data,
        }
    }

    /// A host frame.
    pub fn host(format: PixelFormat, width: u32, height: u32, data: HostFrame) -> Self {
        Frame::with_data(format, width, height, FrameData::Host(data))
    }

    /// A frame in device memory.
    pub(crate) fn device(format: PixelFormat, width: u32, height: u32, data: DeviceFrame) -> Self {
        Frame::with_data(format, width, height, FrameData::Device(data))
    }

    /// A frame of `data` without timestamp, keyframe flag or colour information.
    fn with_data(format: PixelFormat, width: u32, height: u32, data: FrameData) -> Self {
        Frame { format, width, height, pts: None, keyframe: false, color: ColorInfo::default(), data }
    }

    /// The device pixels, if the frame is in a device's memory (any [`DeviceApi`]).
    pub fn device_data(&self) -> Option<&DeviceFrame> {
        match &self.data {
            FrameData::Device(c) => Some(c),
            _ => None,
        }
    }

    /// The device pixels, mutably (to [`upload`](DeviceFrame::upload) into them).
    pub fn device_data_mut(&mut self) -> Option<&mut DeviceFrame> {
        match &mut self.data {
            FrameData::Device(c) => Some(c),
            _ => None,
        }
    }

    /// The device pixels, if the frame is in CUDA memory.
    pub fn cuda_data(&self) -> Option<&DeviceFrame> {
        self.device_data().filter(|d| d.api() == DeviceApi::Cuda)
    }

    /// The CUDA pixels, mutably (to [`upload`](DeviceFrame::upload) into them).
    pub fn cuda_data_mut(&mut self) -> Option<&mut DeviceFrame> {
        self.device_data_mut().filter(|d| d.api() == DeviceApi::Cuda)
    }

    /// The host pixels, if the frame is in host memory.
    pub fn host_data(&self) -> Option<&HostFrame> {
        match &self.data {
            FrameData::Host(h) => Some(h),
            _ => None,
        }
    }

    /// The pixels in host memory: borrowed when already there, downloaded from the
    /// device otherwise; `InvalidInput` for a metadata-only frame.
    pub fn to_host(&self) -> Result<std::borrow::Cow<'_, HostFrame>> {
        match &self.data {
            FrameData::Host(h) => Ok(std::borrow::Cow::Borrowed(h)),
            FrameData::Device(c) => Ok(std::borrow::Cow::Owned(c.download()?)),
            FrameData::None => Err(Error::invalid_input("frame carries no pixels (metadata-only output)")),
        }
    }
}
