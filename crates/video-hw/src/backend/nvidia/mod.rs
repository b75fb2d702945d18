//! The NVIDIA engines: NVDEC decoding and NVENC encoding through the CUDA driver API.
//!
//! Nothing links against the NVIDIA libraries: [`loader`] opens `libcuda.so.1`,
//! `libnvcuvid.so.1` and `libnvidia-encode.so.1` at run time, so the crate builds and
//! runs on machines without a driver and reports [`crate::Error::Unsupported`] there.
//!
//! This is the only place in the crate where `unsafe` is allowed; every unsafe block
//! carries a `// SAFETY:` comment (enforced by `clippy::undocumented_unsafe_blocks`).
#![allow(dead_code, reason = "the FFI wrappers and capability records cover more than the engines use")]
#![deny(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block)]

pub(crate) mod call_time_records;
pub(crate) mod call_times;
pub(crate) mod cuda;
pub(crate) mod descriptor;
pub(crate) mod device_frames;
pub(crate) mod diagnostics;
pub(crate) mod gpu_caps;
pub(crate) mod gpu_transform;
pub(crate) mod host_mem;
pub(crate) mod host_upload;
pub(crate) mod kernels;
pub(crate) mod loader;
pub(crate) mod nvdec;
pub(crate) mod nvenc;
pub(crate) mod refusals;
/// The generated FFI declarations, in their own crate (`crates/video-hw-nvidia-sys`), at
/// the path the engines have always named them by.
pub(crate) use video_hw_nvidia_sys as sys;
