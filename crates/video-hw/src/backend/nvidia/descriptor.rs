//! What NVDEC and NVENC tell the generic layers about themselves (see
//! `backend/descriptor.rs`): CUDA device memory and its hooks, sessions spread over GPUs,
//! one session per NVDEC engine, NVML utilisation sampling.

use std::time::Duration;

use crate::backend::descriptor::{DeviceClaim, DeviceHooks, EngineDescriptor, Placement, SessionsAsk};
use crate::engine::Engine;
use crate::frame::DeviceApi;
use crate::frame::memory::PinnedMemory;
use crate::metrics::GpuSampler;

/// NVDEC: decodes on the GPU into CUDA memory (or copies to the host), starts at any I
/// picture, leaves headers-only pictures undecoded, transforms on the GPU, and lets a
/// reader hold frames read ahead in device memory.
pub(crate) static NVDEC: EngineDescriptor = EngineDescriptor {
    encodes: false,
    // NVIDIA's parser starts at any I picture (tests/gpu_reader.rs).
    starts_at_recovery_point: true,
    skips_headers_only_pictures: true,
    // Its parser reads the slice headers of every picture given and marks it.
    keeps_headers_only_references: true,
    transforms_on_device: true,
    reads_ahead_on_device: true,
    device: Some(&CUDA),
    placement: Some(&SPREAD),
    sessions: nvdec_sessions,
    sampler: Some(nvml_sampler),
    ..EngineDescriptor::hardware(Engine::Nvdec)
};

/// NVENC: encodes on the GPU; its pipelines sample the GPU.
pub(crate) static NVENC: EngineDescriptor =
    EngineDescriptor { decodes: false, sampler: Some(nvml_sampler), ..EngineDescriptor::hardware(Engine::Nvenc) };

/// CUDA device memory: the driver's free memory, ring slots, page-locked host memory and
/// the upload of a CPU engine's frames.
static CUDA: DeviceHooks = DeviceHooks {
    api: DeviceApi::Cuda,
    present: cuda_present,
    known_refusal: super::refusals::known,
    free_memory: super::device_frames::free_memory,
    allocator: super::device_frames::ring_allocator,
    pinned_host,
    upload: super::host_upload::open,
};

/// Whether `libcuda.so.1` loads (its entry points resolved; `cuInit` is not called).
fn cuda_present() -> std::result::Result<(), String> {
    super::loader::CudaApi::get().map(|_| ()).map_err(|e| e.to_string())
}

/// NVDEC sessions placed on the least busy GPU.
static SPREAD: Placement = Placement { claim: claim_gpu, devices: super::nvdec::gpus_decoding };

/// Page-locked host memory from `cuMemAllocHost` (in GPU 0's primary context), `None`
/// without a CUDA driver.
fn pinned_host(len: usize) -> Option<Box<dyn PinnedMemory>> {
    let buffer = super::host_mem::alloc(len)?;
    Some(Box::new(buffer))
}

fn claim_gpu(codec: crate::codec::Codec) -> Option<Box<dyn DeviceClaim>> {
    super::nvdec::claim_least_busy_gpu(codec).map(|c| Box::new(c) as Box<dyn DeviceClaim>)
}

impl DeviceClaim for super::nvdec::GpuClaim {
    fn device(&self) -> u32 {
        self.gpu()
    }
}

/// Sessions per NVDEC engine that decode fastest, measured on an H200 (9cfede2, with CUDA
/// frames lent in the decoder's output surfaces): one, for every codec and size. One stream
/// over 7 sessions against 14: H.264 1080p 2,012-2,369 fps against 1,763-1,889, H.264 2160p
/// 426-506 against 277-380, HEVC 2160p 479-484 against 486-490; 7 streams a session each
/// against 14 sessions over them: H.264 1080p 4,301-4,331 against 3,978-4,018, H.264 2160p
/// 981-985 against 845-865, HEVC 2160p 1,261-1,272 against 1,061-1,098. (Before lending, a
/// second session per engine filled the gaps its copies left: H.264 2160p +27 %.)
const SESSIONS_PER_NVDEC_ENGINE: usize = 1;

/// One session per NVDEC engine of the GPU (docs/nvdec-many-streams.md); 4 when the GPU's
/// engines cannot be counted.
fn nvdec_sessions(ask: &SessionsAsk) -> usize {
    sessions_for_engines(super::nvdec::engines_on(ask.device, ask.codec))
}

fn sessions_for_engines(nvdec_engines: u8) -> usize {
    if nvdec_engines == 0 { 4 } else { usize::from(nvdec_engines) * SESSIONS_PER_NVDEC_ENGINE }
}

/// NVML's utilisation of the GPU, sampled every second.
fn nvml_sampler(device: u32) -> Option<GpuSampler> {
    GpuSampler::start(device, Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvdec_gets_one_session_per_engine_and_four_when_uncounted() {
        assert_eq!(sessions_for_engines(7), 7);
        assert_eq!(sessions_for_engines(1), 1);
        assert_eq!(sessions_for_engines(0), 4);
        assert_eq!(sessions_for_engines(200), 200, "the caller bounds it");
    }
}
