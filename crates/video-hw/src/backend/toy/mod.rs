//! A toy GPU engine, compiled for the crate's unit tests only: it shows (and checks) that
//! an engine with frames in device memory comes in by one folder and one registry row
//! (docs/adding-an-engine.md), and decodes through [`Decoder`](crate::Decoder) and
//! [`FrameReader`](crate::reader::FrameReader) like a real one.
//!
//! Its "device" is host memory behind fake device addresses (as the frame ring's fake
//! device does): a frame asked for in the toy device's memory
//! (`Output::Device(DeviceApi::Toy, _)`, an API of its own, so the generic layers are
//! seen to take a device that is not CUDA) is the OpenH264 engine's host frame,
//! copied into a device allocation of the toy's, pitched and stacked as a device frame of
//! this crate is; downloading it reads the allocation back. So its frames must equal
//! OpenH264's bit for bit, and its device memory must all be given back.
//!
//! Its descriptor says it is hardware with device frames, and by name only: `Auto` never
//! picks it, so the other unit tests see the registry they always saw.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::backend::DecoderBackend;
use crate::backend::descriptor::{DeviceHooks, EngineDescriptor};
use crate::bitstream::access_unit::AccessUnit;
use crate::codec::{Codec, PixelFormat};
use crate::config::{DecoderConfig, Output};
use crate::engine::{Direction, Engine, EnginePreference};
use crate::error::{Error, Result};
use crate::frame::memory::DeviceLayout;
use crate::frame::{DeviceApi, DeviceFrame, DeviceFrameOwner, Frame, FrameData, HostFrame};
use crate::records::probe_info::ProbeInfo;

#[cfg(test)]
mod tests;

/// Hardware with frames in (its own) device memory, H.264 decode, named only.
pub(crate) static DESCRIPTOR: EngineDescriptor = EngineDescriptor {
    encodes: false,
    by_name_only: true,
    device: Some(&TOY_DEVICE),
    ..EngineDescriptor::hardware(Engine::Toy)
};

/// The toy device: plenty of free memory, no ring slots, no page-locked memory and no
/// upload of other engines' frames (nothing asks for them: `Auto` never reaches it).
static TOY_DEVICE: DeviceHooks = DeviceHooks {
    api: DeviceApi::Toy,
    present: || Ok(()),
    known_refusal: |_| None,
    free_memory: |_| Some(1 << 30),
    allocator: |device| {
        Err(Error::unsupported(format!("a frame ring on toy device {device}"), "the toy device lends no ring slots"))
    },
    pinned_host: |_| None,
    upload: |inner, _, _| {
        Err(Error::unsupported(format!("uploading {} frames to the toy device", inner.engine()), "not modelled"))
    },
};

/// The registry's probe: H.264 decode only.
pub(crate) fn probe(codec: Codec, direction: Direction, device: u32) -> Result<ProbeInfo> {
    if direction != Direction::Decode || codec != Codec::H264 {
        return Err(Error::unsupported(format!("{codec} {direction} on the toy engine"), "it decodes H.264 only"));
    }
    Ok(ProbeInfo { device: Some(format!("toy device {device}")), ..ProbeInfo::default() })
}

/// Opens a session: OpenH264 decoding to host memory, its frames moved to the toy device
/// when the configuration asks for output in the toy device's memory.
pub(crate) fn open_decoder(config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
    let (host_output, device) = match config.output {
        Output::Device(DeviceApi::Toy, format) => (Output::Host(format), Some(ToyMemory::default())),
        other => (other, None),
    };
    let inner = super::openh264::open_decoder(&DecoderConfig {
        output: host_output,
        engine: EnginePreference::Only(Engine::OpenH264),
        ..config.clone()
    })?;
    Ok(Box::new(ToyDecoder { inner, device: device.map(Arc::new), device_index: config.device_index }))
}

/// The toy device's allocations by fake address, and the next address to give.
#[derive(Default)]
pub(crate) struct ToyMemory {
    blocks: Mutex<BTreeMap<u64, Vec<u8>>>,
    next: AtomicU64,
}

impl ToyMemory {
    /// Allocations not yet given back.
    pub(crate) fn live(&self) -> usize {
        self.blocks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Copies `host` (`format`, `width` x `height`) into a new allocation, stacked and
    /// pitched as [`DeviceLayout`] says; its address and pitch.
    fn store(&self, host: &HostFrame, format: PixelFormat, width: u32, height: u32) -> Result<(u64, usize)> {
        let layout = DeviceLayout::of(format, width, height);
        if host.planes().len() < layout.planes {
            return Err(Error::invalid_input(format!("toy upload: {} planes for {format}", host.planes().len())));
        }
        let pitch = layout.width_bytes.next_multiple_of(64);
        let mut block = vec![0u8; pitch * layout.rows];
        for i in 0..layout.planes {
            let (row_bytes, rows) = format.plane_size(i, width, height);
            let first = layout.plane_rows[i];
            let mut copied = 0;
            for (r, src) in host.rows(i).enumerate().take(rows) {
                let at = (first + r) * pitch;
                let src = src.get(..row_bytes).ok_or_else(|| Error::invalid_input("toy upload: a short row"))?;
                block[at..at + row_bytes].copy_from_slice(src);
                copied += 1;
            }
            if copied != rows {
                return Err(Error::invalid_input(format!("toy upload: plane {i} has {copied} rows, not {rows}")));
            }
        }
        // Fake addresses a page apart, never 0.
        let len = block.len() as u64;
        let ptr = self.next.fetch_add(len.next_multiple_of(4096) + 4096, Ordering::SeqCst) + 4096;
        self.blocks.lock().unwrap_or_else(|p| p.into_inner()).insert(ptr, block);
        Ok((ptr, pitch))
    }
}

/// What downloads the toy's frames: reads their allocation back.
struct ToyOwner(Arc<ToyMemory>);

impl DeviceFrameOwner for ToyOwner {
    fn api(&self) -> DeviceApi {
        DeviceApi::Toy
    }

    fn download(&self, frame: &DeviceFrame) -> Result<HostFrame> {
        let blocks = self.0.blocks.lock().unwrap_or_else(|p| p.into_inner());
        let (width, height) = frame.size();
        let format = frame.format();
        let mut out = Vec::new();
        for i in 0..format.plane_count() {
            let ptr = frame.plane_ptr(i).ok_or_else(|| Error::invalid_input(format!("toy frame without plane {i}")))?;
            let (&base, block) = blocks
                .range(..=ptr)
                .next_back()
                .ok_or_else(|| Error::invalid_input("toy frame outside the toy device's memory"))?;
            let (row_bytes, rows) = format.plane_size(i, width, height);
            let offset = usize::try_from(ptr - base).unwrap_or(usize::MAX);
            for r in 0..rows {
                let at = offset + r * frame.pitch();
                let row = block
                    .get(at..at + row_bytes)
                    .ok_or_else(|| Error::invalid_input("toy frame larger than its allocation"))?;
                out.extend_from_slice(row);
            }
        }
        HostFrame::from_packed(format, width, height, out)
    }
}

/// A frame's hold on its allocation: given back when the frame drops.
struct ToyLease {
    memory: Arc<ToyMemory>,
    ptr: u64,
}

impl Drop for ToyLease {
    fn drop(&mut self) {
        self.memory.blocks.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.ptr);
    }
}

/// A toy session: OpenH264's, with its frames moved to the toy device when asked.
pub(crate) struct ToyDecoder {
    inner: Box<dyn DecoderBackend>,
    /// The device memory frames go to; `None` for host output.
    device: Option<Arc<ToyMemory>>,
    device_index: u32,
}

impl ToyDecoder {
    /// `frame` as the configuration asks: in toy device memory for device output.
    fn out(&self, frame: Frame) -> Result<Frame> {
        let (Some(memory), FrameData::Host(host)) = (&self.device, &frame.data) else { return Ok(frame) };
        let (ptr, pitch) = memory.store(host, frame.format, frame.width, frame.height)?;
        let lease = Box::new(ToyLease { memory: memory.clone(), ptr });
        let owner = Arc::new(ToyOwner(memory.clone()));
        let size = (frame.width, frame.height);
        let data = DeviceFrame::stacked(lease, (ptr, pitch), self.device_index, frame.format, size, owner, 0);
        Ok(frame.same_over(FrameData::Device(data)))
    }
}

impl DecoderBackend for ToyDecoder {
    fn engine(&self) -> Engine {
        Engine::Toy
    }

    fn describe(&self) -> String {
        format!("toy (device frames in host memory, over {})", self.inner.describe())
    }

    fn decode(&mut self, au: &AccessUnit) -> Result<()> {
        self.inner.decode(au)
    }

    fn decode_headers_only(&mut self, au: &AccessUnit) -> Result<()> {
        self.inner.decode_headers_only(au)
    }

    fn decode_unshown(&mut self, au: &AccessUnit) -> Result<()> {
        self.inner.decode_unshown(au)
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        self.inner.try_reap()?.map(|f| self.out(f)).transpose()
    }

    fn reap_timeout(&mut self, timeout: std::time::Duration) -> Result<Option<Frame>> {
        self.inner.reap_timeout(timeout)?.map(|f| self.out(f)).transpose()
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        self.inner.flush()?.into_iter().map(|f| self.out(f)).collect()
    }

    fn take_stream_error(&mut self) -> Option<Error> {
        self.inner.take_stream_error()
    }

    fn concealed(&self) -> u64 {
        self.inner.concealed()
    }

    fn left_out(&self) -> u64 {
        self.inner.left_out()
    }
}
