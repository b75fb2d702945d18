//! CUDA and NVDEC result codes to [`crate::Error`]: names, descriptions, and which codes mean
//! a lost device or a missing feature.

use std::ffi::{CStr, c_char};
use std::ptr;

use super::super::loader::CudaApi;
use super::super::sys::cuda::{
    CUDA_ERROR_LAUNCH_TIMEOUT, CUDA_ERROR_NOT_READY, CUDA_ERROR_UNKNOWN, CUDA_SUCCESS, CUresult,
};
use super::super::sys::cuda_ext::*;
use crate::{Error, Result};

/// What kind of [`Error`] a `CUresult` turns into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// `Error::DeviceLost`: the context is unusable (sticky errors, ECC, Xid-like faults).
    DeviceLost,
    /// `Error::Unsupported`: no device, missing feature, stub library, …
    Unsupported,
    /// `Error::Backend` with the code name.
    Backend,
}

pub(crate) fn classify(code: CUresult) -> Class {
    match code {
        CUDA_ERROR_ECC_UNCORRECTABLE
        | CUDA_ERROR_NVLINK_UNCORRECTABLE
        | CUDA_ERROR_ILLEGAL_ADDRESS
        | CUDA_ERROR_LAUNCH_TIMEOUT
        | CUDA_ERROR_ASSERT
        | CUDA_ERROR_HARDWARE_STACK_ERROR
        | CUDA_ERROR_ILLEGAL_INSTRUCTION
        | CUDA_ERROR_MISALIGNED_ADDRESS
        | CUDA_ERROR_INVALID_ADDRESS_SPACE
        | CUDA_ERROR_INVALID_PC
        | CUDA_ERROR_LAUNCH_FAILED
        | CUDA_ERROR_CONTEXT_IS_DESTROYED
        | CUDA_ERROR_DEINITIALIZED => Class::DeviceLost,
        CUDA_ERROR_NO_DEVICE
        | CUDA_ERROR_NOT_FOUND
        | CUDA_ERROR_NOT_SUPPORTED
        | CUDA_ERROR_STUB_LIBRARY
        | CUDA_ERROR_SYSTEM_DRIVER_MISMATCH
        | CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE
        | CUDA_ERROR_DEVICE_NOT_LICENSED => Class::Unsupported,
        _ => Class::Backend,
    }
}

/// Builds a `(code, "NAME")` table from constant names.
macro_rules! code_names {
    ($($name:ident),* $(,)?) => {
        &[$(($name, stringify!($name))),*]
    };
}

/// Names of the `CUresult` codes known to this build, for when the driver cannot be
/// asked (`cuGetErrorName` needs a loaded `libcuda`).
pub(crate) const CODE_NAMES: &[(CUresult, &str)] = code_names![
    CUDA_SUCCESS,
    CUDA_ERROR_INVALID_VALUE,
    CUDA_ERROR_OUT_OF_MEMORY,
    CUDA_ERROR_NOT_INITIALIZED,
    CUDA_ERROR_DEINITIALIZED,
    CUDA_ERROR_PROFILER_DISABLED,
    CUDA_ERROR_PROFILER_NOT_INITIALIZED,
    CUDA_ERROR_PROFILER_ALREADY_STARTED,
    CUDA_ERROR_PROFILER_ALREADY_STOPPED,
    CUDA_ERROR_STUB_LIBRARY,
    CUDA_ERROR_DEVICE_UNAVAILABLE,
    CUDA_ERROR_NO_DEVICE,
    CUDA_ERROR_INVALID_DEVICE,
    CUDA_ERROR_DEVICE_NOT_LICENSED,
    CUDA_ERROR_INVALID_IMAGE,
    CUDA_ERROR_INVALID_CONTEXT,
    CUDA_ERROR_CONTEXT_ALREADY_CURRENT,
    CUDA_ERROR_MAP_FAILED,
    CUDA_ERROR_UNMAP_FAILED,
    CUDA_ERROR_ARRAY_IS_MAPPED,
    CUDA_ERROR_ALREADY_MAPPED,
    CUDA_ERROR_NO_BINARY_FOR_GPU,
    CUDA_ERROR_ALREADY_ACQUIRED,
    CUDA_ERROR_NOT_MAPPED,
    CUDA_ERROR_NOT_MAPPED_AS_ARRAY,
    CUDA_ERROR_NOT_MAPPED_AS_POINTER,
    CUDA_ERROR_ECC_UNCORRECTABLE,
    CUDA_ERROR_UNSUPPORTED_LIMIT,
    CUDA_ERROR_CONTEXT_ALREADY_IN_USE,
    CUDA_ERROR_PEER_ACCESS_UNSUPPORTED,
    CUDA_ERROR_INVALID_PTX,
    CUDA_ERROR_INVALID_GRAPHICS_CONTEXT,
    CUDA_ERROR_NVLINK_UNCORRECTABLE,
    CUDA_ERROR_JIT_COMPILER_NOT_FOUND,
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION,
    CUDA_ERROR_JIT_COMPILATION_DISABLED,
    CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY,
    CUDA_ERROR_INVALID_SOURCE,
    CUDA_ERROR_FILE_NOT_FOUND,
    CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND,
    CUDA_ERROR_SHARED_OBJECT_INIT_FAILED,
    CUDA_ERROR_OPERATING_SYSTEM,
    CUDA_ERROR_INVALID_HANDLE,
    CUDA_ERROR_ILLEGAL_STATE,
    CUDA_ERROR_NOT_FOUND,
    CUDA_ERROR_NOT_READY,
    CUDA_ERROR_ILLEGAL_ADDRESS,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES,
    CUDA_ERROR_LAUNCH_TIMEOUT,
    CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING,
    CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED,
    CUDA_ERROR_PEER_ACCESS_NOT_ENABLED,
    CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE,
    CUDA_ERROR_CONTEXT_IS_DESTROYED,
    CUDA_ERROR_ASSERT,
    CUDA_ERROR_TOO_MANY_PEERS,
    CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED,
    CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED,
    CUDA_ERROR_HARDWARE_STACK_ERROR,
    CUDA_ERROR_ILLEGAL_INSTRUCTION,
    CUDA_ERROR_MISALIGNED_ADDRESS,
    CUDA_ERROR_INVALID_ADDRESS_SPACE,
    CUDA_ERROR_INVALID_PC,
    CUDA_ERROR_LAUNCH_FAILED,
    CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE,
    CUDA_ERROR_NOT_PERMITTED,
    CUDA_ERROR_NOT_SUPPORTED,
    CUDA_ERROR_SYSTEM_NOT_READY,
    CUDA_ERROR_SYSTEM_DRIVER_MISMATCH,
    CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE,
    CUDA_ERROR_TIMEOUT,
    CUDA_ERROR_UNKNOWN,
];

/// Reads the static string `f` returns for `code` (`cuGetErrorName`/`cuGetErrorString`).
pub(crate) fn driver_string(
    f: unsafe extern "C" fn(CUresult, *mut *const c_char) -> CUresult,
    code: CUresult,
) -> Option<&'static str> {
    let mut p: *const c_char = ptr::null();
    // SAFETY: both functions take any code and an out-pointer to a `const char *`; on
    // success they store a pointer to a static string, otherwise they leave it alone.
    let r = unsafe { f(code, &mut p) };
    if r != CUDA_SUCCESS || p.is_null() {
        return None;
    }
    // SAFETY: the driver documents the string as NUL-terminated and static (it lives in
    // the library, which is never unloaded: the loader keeps it in a `'static`).
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().ok()
}

/// The name of a `CUresult` (`CUDA_ERROR_OUT_OF_MEMORY`, …).
pub(crate) fn error_name(code: CUresult) -> String {
    if let Some((_, name)) = CODE_NAMES.iter().find(|(c, _)| *c == code) {
        return (*name).to_owned();
    }
    match CudaApi::get().ok().and_then(|api| driver_string(api.cuGetErrorName, code)) {
        Some(name) => name.to_owned(),
        None => format!("CUresult({code})"),
    }
}

/// The driver's description of a `CUresult`, when the driver is loaded.
pub(crate) fn error_description(code: CUresult) -> Option<&'static str> {
    driver_string(CudaApi::get().ok()?.cuGetErrorString, code)
}

/// Maps a failed `CUresult` of `engine` (`cuda`, `nvdec`) during `what` to an [`Error`].
pub(crate) fn map_error(engine: &str, code: CUresult, what: &str) -> Error {
    let name = error_name(code);
    let detail = match error_description(code) {
        Some(d) => format!("{what}: {d}"),
        None => what.to_owned(),
    };
    match classify(code) {
        Class::DeviceLost => Error::DeviceLost(format!("{engine}: {detail} ({name})")),
        Class::Unsupported => Error::unsupported(engine, format!("{detail} ({name})")),
        Class::Backend => Error::backend(engine, name, detail),
    }
}

/// `Ok(())` for `CUDA_SUCCESS`, else the [`Error`] a CUDA driver call failing during
/// `what` means: out of memory → `Backend` (code `CUDA_ERROR_OUT_OF_MEMORY`); ECC,
/// illegal address, launch failure and the other sticky faults → `DeviceLost`; no
/// device, not found, not supported, stub library → `Unsupported`; anything else →
/// `Backend { engine: "cuda", code: <cuGetErrorName>, .. }`.
pub(crate) fn check(result: CUresult, what: &str) -> Result<()> {
    if result == CUDA_SUCCESS { Ok(()) } else { Err(map_error("cuda", result, what)) }
}

/// [`check`] for the NVDEC (`cuvid*`) calls, which report `CUresult`s too; the engine
/// of `Backend` and `Unsupported` errors is `nvdec`.
pub(crate) fn check_cuvid(result: CUresult, what: &str) -> Result<()> {
    if result == CUDA_SUCCESS { Ok(()) } else { Err(map_error("nvdec", result, what)) }
}

/// Rebuilds an error remembered in a `static` (Error is not `Clone`: it can hold an
/// `io::Error`; the kinds this module produces are copied exactly).
pub(crate) fn replay(e: &Error) -> Error {
    match e {
        Error::Unsupported { what, why } => Error::Unsupported { what: what.clone(), why: why.clone() },
        Error::DeviceLost(m) => Error::DeviceLost(m.clone()),
        Error::Backend { engine, code, message } => {
            Error::Backend { engine: engine.clone(), code: code.clone(), message: message.clone() }
        }
        other => Error::backend("cuda", "init", other),
    }
}
