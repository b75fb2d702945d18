//! Hand-written supplement to the generated `cuda.rs`.
//!
//! nv-codec-headers' `dynlink_cuda.h` declares only the subset of the CUDA driver API
//! that FFmpeg uses: four `CUresult` codes and no typedef for several entry points this
//! crate needs. The missing pieces are transcribed here from the CUDA driver API
//! (`cuda.h`, whose values and signatures are ABI-stable across driver releases).

use core::ffi::{c_int, c_uint, c_void};

use super::cuda::{CUcontext, CUdevice, CUevent, CUresult, CUstream};

/// `CUDA_ERROR_INVALID_VALUE`.
pub const CUDA_ERROR_INVALID_VALUE: CUresult = 1;
/// `CUDA_ERROR_OUT_OF_MEMORY`.
pub const CUDA_ERROR_OUT_OF_MEMORY: CUresult = 2;
/// `CUDA_ERROR_NOT_INITIALIZED`.
pub const CUDA_ERROR_NOT_INITIALIZED: CUresult = 3;
/// `CUDA_ERROR_DEINITIALIZED`.
pub const CUDA_ERROR_DEINITIALIZED: CUresult = 4;
/// `CUDA_ERROR_PROFILER_DISABLED`.
pub const CUDA_ERROR_PROFILER_DISABLED: CUresult = 5;
/// `CUDA_ERROR_PROFILER_NOT_INITIALIZED`.
pub const CUDA_ERROR_PROFILER_NOT_INITIALIZED: CUresult = 6;
/// `CUDA_ERROR_PROFILER_ALREADY_STARTED`.
pub const CUDA_ERROR_PROFILER_ALREADY_STARTED: CUresult = 7;
/// `CUDA_ERROR_PROFILER_ALREADY_STOPPED`.
pub const CUDA_ERROR_PROFILER_ALREADY_STOPPED: CUresult = 8;
/// `CUDA_ERROR_STUB_LIBRARY`.
pub const CUDA_ERROR_STUB_LIBRARY: CUresult = 34;
/// `CUDA_ERROR_DEVICE_UNAVAILABLE`.
pub const CUDA_ERROR_DEVICE_UNAVAILABLE: CUresult = 46;
/// `CUDA_ERROR_NO_DEVICE`.
pub const CUDA_ERROR_NO_DEVICE: CUresult = 100;
/// `CUDA_ERROR_INVALID_DEVICE`.
pub const CUDA_ERROR_INVALID_DEVICE: CUresult = 101;
/// `CUDA_ERROR_DEVICE_NOT_LICENSED`.
pub const CUDA_ERROR_DEVICE_NOT_LICENSED: CUresult = 102;
/// `CUDA_ERROR_INVALID_IMAGE`.
pub const CUDA_ERROR_INVALID_IMAGE: CUresult = 200;
/// `CUDA_ERROR_INVALID_CONTEXT`.
pub const CUDA_ERROR_INVALID_CONTEXT: CUresult = 201;
/// `CUDA_ERROR_CONTEXT_ALREADY_CURRENT`.
pub const CUDA_ERROR_CONTEXT_ALREADY_CURRENT: CUresult = 202;
/// `CUDA_ERROR_MAP_FAILED`.
pub const CUDA_ERROR_MAP_FAILED: CUresult = 205;
/// `CUDA_ERROR_UNMAP_FAILED`.
pub const CUDA_ERROR_UNMAP_FAILED: CUresult = 206;
/// `CUDA_ERROR_ARRAY_IS_MAPPED`.
pub const CUDA_ERROR_ARRAY_IS_MAPPED: CUresult = 207;
/// `CUDA_ERROR_ALREADY_MAPPED`.
pub const CUDA_ERROR_ALREADY_MAPPED: CUresult = 208;
/// `CUDA_ERROR_NO_BINARY_FOR_GPU`.
pub const CUDA_ERROR_NO_BINARY_FOR_GPU: CUresult = 209;
/// `CUDA_ERROR_ALREADY_ACQUIRED`.
pub const CUDA_ERROR_ALREADY_ACQUIRED: CUresult = 210;
/// `CUDA_ERROR_NOT_MAPPED`.
pub const CUDA_ERROR_NOT_MAPPED: CUresult = 211;
/// `CUDA_ERROR_NOT_MAPPED_AS_ARRAY`.
pub const CUDA_ERROR_NOT_MAPPED_AS_ARRAY: CUresult = 212;
/// `CUDA_ERROR_NOT_MAPPED_AS_POINTER`.
pub const CUDA_ERROR_NOT_MAPPED_AS_POINTER: CUresult = 213;
/// `CUDA_ERROR_ECC_UNCORRECTABLE`.
pub const CUDA_ERROR_ECC_UNCORRECTABLE: CUresult = 214;
/// `CUDA_ERROR_UNSUPPORTED_LIMIT`.
pub const CUDA_ERROR_UNSUPPORTED_LIMIT: CUresult = 215;
/// `CUDA_ERROR_CONTEXT_ALREADY_IN_USE`.
pub const CUDA_ERROR_CONTEXT_ALREADY_IN_USE: CUresult = 216;
/// `CUDA_ERROR_PEER_ACCESS_UNSUPPORTED`.
pub const CUDA_ERROR_PEER_ACCESS_UNSUPPORTED: CUresult = 217;
/// `CUDA_ERROR_INVALID_PTX`.
pub const CUDA_ERROR_INVALID_PTX: CUresult = 218;
/// `CUDA_ERROR_INVALID_GRAPHICS_CONTEXT`.
pub const CUDA_ERROR_INVALID_GRAPHICS_CONTEXT: CUresult = 219;
/// `CUDA_ERROR_NVLINK_UNCORRECTABLE`.
pub const CUDA_ERROR_NVLINK_UNCORRECTABLE: CUresult = 220;
/// `CUDA_ERROR_JIT_COMPILER_NOT_FOUND`.
pub const CUDA_ERROR_JIT_COMPILER_NOT_FOUND: CUresult = 221;
/// `CUDA_ERROR_UNSUPPORTED_PTX_VERSION`.
pub const CUDA_ERROR_UNSUPPORTED_PTX_VERSION: CUresult = 222;
/// `CUDA_ERROR_JIT_COMPILATION_DISABLED`.
pub const CUDA_ERROR_JIT_COMPILATION_DISABLED: CUresult = 223;
/// `CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY`.
pub const CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY: CUresult = 224;
/// `CUDA_ERROR_INVALID_SOURCE`.
pub const CUDA_ERROR_INVALID_SOURCE: CUresult = 300;
/// `CUDA_ERROR_FILE_NOT_FOUND`.
pub const CUDA_ERROR_FILE_NOT_FOUND: CUresult = 301;
/// `CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND`.
pub const CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND: CUresult = 302;
/// `CUDA_ERROR_SHARED_OBJECT_INIT_FAILED`.
pub const CUDA_ERROR_SHARED_OBJECT_INIT_FAILED: CUresult = 303;
/// `CUDA_ERROR_OPERATING_SYSTEM`.
pub const CUDA_ERROR_OPERATING_SYSTEM: CUresult = 304;
/// `CUDA_ERROR_INVALID_HANDLE`.
pub const CUDA_ERROR_INVALID_HANDLE: CUresult = 400;
/// `CUDA_ERROR_ILLEGAL_STATE`.
pub const CUDA_ERROR_ILLEGAL_STATE: CUresult = 401;
/// `CUDA_ERROR_NOT_FOUND`.
pub const CUDA_ERROR_NOT_FOUND: CUresult = 500;
/// `CUDA_ERROR_ILLEGAL_ADDRESS`.
pub const CUDA_ERROR_ILLEGAL_ADDRESS: CUresult = 700;
/// `CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES`.
pub const CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: CUresult = 701;
/// `CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING`.
pub const CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING: CUresult = 703;
/// `CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED`.
pub const CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED: CUresult = 704;
/// `CUDA_ERROR_PEER_ACCESS_NOT_ENABLED`.
pub const CUDA_ERROR_PEER_ACCESS_NOT_ENABLED: CUresult = 705;
/// `CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE`.
pub const CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE: CUresult = 708;
/// `CUDA_ERROR_CONTEXT_IS_DESTROYED`.
pub const CUDA_ERROR_CONTEXT_IS_DESTROYED: CUresult = 709;
/// `CUDA_ERROR_ASSERT`.
pub const CUDA_ERROR_ASSERT: CUresult = 710;
/// `CUDA_ERROR_TOO_MANY_PEERS`.
pub const CUDA_ERROR_TOO_MANY_PEERS: CUresult = 711;
/// `CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED`.
pub const CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED: CUresult = 712;
/// `CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED`.
pub const CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED: CUresult = 713;
/// `CUDA_ERROR_HARDWARE_STACK_ERROR`.
pub const CUDA_ERROR_HARDWARE_STACK_ERROR: CUresult = 714;
/// `CUDA_ERROR_ILLEGAL_INSTRUCTION`.
pub const CUDA_ERROR_ILLEGAL_INSTRUCTION: CUresult = 715;
/// `CUDA_ERROR_MISALIGNED_ADDRESS`.
pub const CUDA_ERROR_MISALIGNED_ADDRESS: CUresult = 716;
/// `CUDA_ERROR_INVALID_ADDRESS_SPACE`.
pub const CUDA_ERROR_INVALID_ADDRESS_SPACE: CUresult = 717;
/// `CUDA_ERROR_INVALID_PC`.
pub const CUDA_ERROR_INVALID_PC: CUresult = 718;
/// `CUDA_ERROR_LAUNCH_FAILED`.
pub const CUDA_ERROR_LAUNCH_FAILED: CUresult = 719;
/// `CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE`.
pub const CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE: CUresult = 720;
/// `CUDA_ERROR_NOT_PERMITTED`.
pub const CUDA_ERROR_NOT_PERMITTED: CUresult = 800;
/// `CUDA_ERROR_NOT_SUPPORTED`.
pub const CUDA_ERROR_NOT_SUPPORTED: CUresult = 801;
/// `CUDA_ERROR_SYSTEM_NOT_READY`.
pub const CUDA_ERROR_SYSTEM_NOT_READY: CUresult = 802;
/// `CUDA_ERROR_SYSTEM_DRIVER_MISMATCH`.
pub const CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: CUresult = 803;
/// `CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE`.
pub const CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE: CUresult = 804;
/// `CUDA_ERROR_TIMEOUT`.
pub const CUDA_ERROR_TIMEOUT: CUresult = 909;

/// `CUresult cuDriverGetVersion(int *driverVersion)`: `1000 * major + 10 * minor`.
pub type tcuDriverGetVersion = Option<unsafe extern "C" fn(driverVersion: *mut c_int) -> CUresult>;
/// `CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)`.
pub type tcuDeviceTotalMem_v2 = Option<unsafe extern "C" fn(bytes: *mut usize, dev: CUdevice) -> CUresult>;
/// `CUresult cuCtxSetCurrent(CUcontext ctx)`.
pub type tcuCtxSetCurrent = Option<unsafe extern "C" fn(ctx: CUcontext) -> CUresult>;
/// `CUresult cuCtxSynchronize(void)`.
pub type tcuCtxSynchronize = Option<unsafe extern "C" fn() -> CUresult>;
/// `CUresult cuMemAllocHost_v2(void **pp, size_t bytesize)`: page-locked host memory.
pub type tcuMemAllocHost_v2 = Option<unsafe extern "C" fn(pp: *mut *mut c_void, bytesize: usize) -> CUresult>;
/// `CUresult cuMemFreeHost(void *p)`.
pub type tcuMemFreeHost = Option<unsafe extern "C" fn(p: *mut c_void) -> CUresult>;
/// `CUresult cuMemGetInfo_v2(size_t *free, size_t *total)`: memory of the current context's device.
pub type tcuMemGetInfo_v2 = Option<unsafe extern "C" fn(free: *mut usize, total: *mut usize) -> CUresult>;
/// `CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags)`.
pub type tcuStreamWaitEvent =
    Option<unsafe extern "C" fn(hStream: CUstream, hEvent: CUevent, Flags: c_uint) -> CUresult>;
