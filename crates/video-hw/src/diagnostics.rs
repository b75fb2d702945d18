//! Process-wide figures for leak checks and reports: live engine sessions and device
//! memory. The NVIDIA engines' own figures and switches are theirs
//! (`backend/nvidia/diagnostics.rs`), re-exported here under the names they have always had.

pub use crate::backend::nvidia::call_time_records::{CallTime, NvdecCallTimes, NvdecSetupTimes, thread_cpu_time};
pub use crate::backend::nvidia::diagnostics::{
    GpuSummary, NvdecCodecCaps, gpu_memory, gpus, nvdec_call_times, nvdec_sessions, nvdec_sessions_on,
    nvdec_setup_times, release_parked_nvdec_decoders, set_nvdec_cpu_timing, set_nvdec_host_slots,
    wait_for_nvdec_closes,
};

/// Frees the host frame buffers kept for the next frames (buffers of dropped frames that a
/// decoder copies into, at most 512 MiB; `VIDEO_HW_HOST_RECYCLE=0` keeps none).
pub fn release_recycled_host_buffers() {
    crate::frame::recycle::release();
}
