//! Process-wide figures for leak checks and reports: live engine sessions and device
//! memory.

use crate::error::Result;

/// NVDEC decoder objects alive in this process.
pub fn nvdec_sessions() -> usize {
    crate::backend::nvidia::nvdec::live_decoders()
}

/// Free and total memory of GPU `device`, in bytes (needs the NVIDIA driver).
pub fn gpu_memory(device: u32) -> Result<(u64, u64)> {
    let driver = crate::backend::nvidia::cuda::CudaDriver::get()?;
    let ctx = driver.device(device)?.primary_context()?;
    let m = ctx.mem_info()?;
    Ok((m.free, m.total))
}
