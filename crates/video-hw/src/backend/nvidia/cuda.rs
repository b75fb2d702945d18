//! Safe, RAII wrappers over the part of the CUDA driver API the NVIDIA engine needs:
//! driver initialisation, device queries, the per-device primary context, streams,
//! events, pitched device memory, page-locked host memory and 2-D copies.
//!
//! Every call that needs a current context makes its own context current for the
//! duration of the call (push/pop), so the wrappers can be used from any thread.
//! Errors map to [`crate::Error`] through [`check`].

use std::ffi::{CStr, c_char, c_int, c_void};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::{Arc, OnceLock};

use super::loader::CudaApi;
use super::sys::cuda::{
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
    CU_EVENT_DISABLE_TIMING, CU_MEMORYTYPE_DEVICE, CU_MEMORYTYPE_HOST, CU_STREAM_NON_BLOCKING,
    CUDA_ERROR_LAUNCH_TIMEOUT, CUDA_ERROR_NOT_READY, CUDA_ERROR_UNKNOWN, CUDA_MEMCPY2D, CUDA_SUCCESS, CUcontext,
    CUdevice, CUdevice_attribute, CUdeviceptr, CUevent, CUresult, CUstream,
};
use super::sys::cuda_ext::*;
use crate::{Error, Result};

// ---------------------------------------------------------------------------------------
// Error mapping

/// What kind of [`Error`] a `CUresult` turns into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// `Error::DeviceLost`: the context is unusable (sticky errors, ECC, Xid-like faults).
    DeviceLost,
    /// `Error::Unsupported`: no device, missing feature, stub library, …
    Unsupported,
    /// `Error::Backend` with the code name.
    Backend,
}

fn classify(code: CUresult) -> Class {
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
const CODE_NAMES: &[(CUresult, &str)] = code_names![
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
fn driver_string(
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
fn error_description(code: CUresult) -> Option<&'static str> {
    driver_string(CudaApi::get().ok()?.cuGetErrorString, code)
}

/// Maps a failed `CUresult` of `engine` (`cuda`, `nvdec`) during `what` to an [`Error`].
fn map_error(engine: &str, code: CUresult, what: &str) -> Error {
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
fn replay(e: &Error) -> Error {
    match e {
        Error::Unsupported { what, why } => Error::Unsupported { what: what.clone(), why: why.clone() },
        Error::DeviceLost(m) => Error::DeviceLost(m.clone()),
        Error::Backend { engine, code, message } => {
            Error::Backend { engine: engine.clone(), code: code.clone(), message: message.clone() }
        }
        other => Error::backend("cuda", "init", other),
    }
}

// ---------------------------------------------------------------------------------------
// Driver and devices

/// The CUDA driver, loaded and initialised (`cuInit`) once per process.
pub(crate) struct CudaDriver {
    api: &'static CudaApi,
    /// The process that initialised the driver: a child forked after that cannot use it.
    pid: u32,
}

impl fmt::Debug for CudaDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CudaDriver").finish_non_exhaustive()
    }
}

/// The CUDA version the driver implements (`cuDriverGetVersion`), e.g. 12.4. This is
/// the driver's CUDA API level, not its release number (e.g. 550.54.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DriverVersion {
    /// Major CUDA version.
    pub(crate) major: u32,
    /// Minor CUDA version.
    pub(crate) minor: u32,
}

impl DriverVersion {
    /// Decodes the `1000 * major + 10 * minor` integer the driver reports.
    pub(crate) fn from_raw(raw: i32) -> Self {
        let raw = raw.max(0).unsigned_abs();
        DriverVersion { major: raw / 1000, minor: (raw % 1000) / 10 }
    }
}

impl fmt::Display for DriverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl CudaDriver {
    /// The process-wide driver: loads `libcuda.so.1` and calls `cuInit(0)` the first
    /// time; the outcome, success or failure, is remembered.
    pub(crate) fn get() -> Result<&'static CudaDriver> {
        static DRIVER: OnceLock<Result<CudaDriver>> = OnceLock::new();
        let r = DRIVER.get_or_init(|| {
            let api = CudaApi::get()?;
            // SAFETY: cuInit takes a flags word (must be 0) and no pointers.
            check(super::call_times::CUDA_INIT.time(|| unsafe { (api.cuInit)(0) }), "cuInit")?;
            Ok(CudaDriver { api, pid: std::process::id() })
        });
        let driver = r.as_ref().map_err(replay)?;
        // CUDA does not survive fork(): in the child every call fails (or worse), so say why
        // once, here, rather than let a data loader's worker fail on an obscure driver code.
        if driver.pid != std::process::id() {
            return Err(Error::unsupported(
                "CUDA in a process forked after its parent used the GPU",
                "start workers with the 'spawn' or 'forkserver' method, or open no GPU decoder before forking",
            ));
        }
        Ok(driver)
    }

    /// The raw entry points, for calls without a wrapper here.
    pub(crate) fn api(&self) -> &'static CudaApi {
        self.api
    }

    /// The CUDA version the driver supports.
    pub(crate) fn version(&self) -> Result<DriverVersion> {
        let mut v: c_int = 0;
        // SAFETY: the out-pointer is a live local.
        check(unsafe { (self.api.cuDriverGetVersion)(&mut v) }, "cuDriverGetVersion")?;
        Ok(DriverVersion::from_raw(v))
    }

    /// How many CUDA devices the driver exposes (after `CUDA_VISIBLE_DEVICES`).
    pub(crate) fn device_count(&self) -> Result<u32> {
        let mut n: c_int = 0;
        // SAFETY: the out-pointer is a live local.
        check(unsafe { (self.api.cuDeviceGetCount)(&mut n) }, "cuDeviceGetCount")?;
        Ok(n.max(0).unsigned_abs())
    }

    /// The device of CUDA ordinal `ordinal` (`0..device_count()`).
    pub(crate) fn device(&self, ordinal: u32) -> Result<Device> {
        let index = c_int::try_from(ordinal).map_err(|_| Error::invalid_input(format!("GPU index {ordinal}")))?;
        let mut raw: CUdevice = 0;
        // SAFETY: the out-pointer is a live local; an out-of-range ordinal is an error return.
        check(unsafe { (self.api.cuDeviceGet)(&mut raw, index) }, "cuDeviceGet")?;
        Ok(Device { api: self.api, raw, ordinal })
    }
}

/// One CUDA device (a handle; cheap to copy).
#[derive(Clone, Copy)]
pub(crate) struct Device {
    api: &'static CudaApi,
    raw: CUdevice,
    ordinal: u32,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device").field("ordinal", &self.ordinal).finish()
    }
}

impl Device {
    /// The CUDA ordinal of the device.
    pub(crate) fn ordinal(&self) -> u32 {
        self.ordinal
    }

    /// The raw `CUdevice`.
    pub(crate) fn raw(&self) -> CUdevice {
        self.raw
    }

    /// The marketing name (`NVIDIA H200`, …).
    pub(crate) fn name(&self) -> Result<String> {
        let mut buf = [0 as c_char; 256];
        let len = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        // SAFETY: the driver writes at most `len` bytes, NUL included, into `buf`.
        check(unsafe { (self.api.cuDeviceGetName)(buf.as_mut_ptr(), len, self.raw) }, "cuDeviceGetName")?;
        let bytes: Vec<u8> = buf.iter().take_while(|&&c| c != 0).map(|&c| c.to_ne_bytes()[0]).collect();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Total device memory in bytes.
    pub(crate) fn total_memory(&self) -> Result<u64> {
        let mut bytes = 0usize;
        // SAFETY: the out-pointer is a live local.
        check(unsafe { (self.api.cuDeviceTotalMem_v2)(&mut bytes, self.raw) }, "cuDeviceTotalMem")?;
        Ok(bytes as u64)
    }

    /// A device attribute (`CU_DEVICE_ATTRIBUTE_*`).
    pub(crate) fn attribute(&self, attribute: CUdevice_attribute) -> Result<i32> {
        let mut v: c_int = 0;
        // SAFETY: the out-pointer is a live local; an unknown attribute is an error return.
        check(unsafe { (self.api.cuDeviceGetAttribute)(&mut v, attribute, self.raw) }, "cuDeviceGetAttribute")?;
        Ok(v)
    }

    /// The compute capability `(major, minor)`, e.g. `(9, 0)` for Hopper.
    pub(crate) fn compute_capability(&self) -> Result<(u32, u32)> {
        let major = self.attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?;
        let minor = self.attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?;
        Ok((major.max(0).unsigned_abs(), minor.max(0).unsigned_abs()))
    }

    /// The device's primary context (the one the CUDA runtime and other libraries in the
    /// process share), retained once per process and kept: creating a context costs
    /// hundreds of milliseconds, and releasing the last retain would destroy it between
    /// sessions (a probe, then the session that follows, would each pay for one).
    pub(crate) fn primary_context(&self) -> Result<Context> {
        static RETAINED: OnceLock<std::sync::Mutex<Vec<(CUdevice, Context)>>> = OnceLock::new();
        let cache = RETAINED.get_or_init(|| std::sync::Mutex::new(Vec::new()));
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, ctx)) = cache.iter().find(|(d, _)| *d == self.raw) {
            return Ok(ctx.clone());
        }
        let ctx = self.retain_primary_context()?;
        cache.push((self.raw, ctx.clone()));
        Ok(ctx)
    }

    /// Retains the primary context; released when the last clone is dropped.
    fn retain_primary_context(&self) -> Result<Context> {
        let mut raw: CUcontext = ptr::null_mut();
        // SAFETY: the out-pointer is a live local.
        let r = super::call_times::CONTEXT.time(|| unsafe { (self.api.cuDevicePrimaryCtxRetain)(&mut raw, self.raw) });
        check(r, "cuDevicePrimaryCtxRetain")?;
        if raw.is_null() {
            return Err(Error::backend("cuda", "CUDA_ERROR_INVALID_CONTEXT", "cuDevicePrimaryCtxRetain returned null"));
        }
        Ok(Context(Arc::new(ContextInner { device: *self, raw, primary: true })))
    }

    /// Creates a context of this session's own (not the primary one); destroyed when the
    /// last clone is dropped. Costs the creation time and memory of a context per session
    /// (what each ffmpeg process pays); measured against the shared primary context in
    /// scripts/nvdec-ablation.sh.
    pub(crate) fn own_context(&self) -> Result<Context> {
        let mut raw: CUcontext = std::ptr::null_mut();
        // SAFETY: out-pointer to a live local; `self.raw` is a valid device; flags 0 =
        // automatic scheduling.
        let r = super::call_times::CONTEXT.time(|| unsafe { (self.api.cuCtxCreate_v2)(&mut raw, 0, self.raw) });
        check(r, "cuCtxCreate")?;
        if raw.is_null() {
            return Err(Error::backend("cuda", "CUDA_ERROR_INVALID_CONTEXT", "cuCtxCreate returned null"));
        }
        let ctx = Context(Arc::new(ContextInner { device: *self, raw, primary: false }));
        let mut popped: CUcontext = std::ptr::null_mut();
        // SAFETY: cuCtxCreate made the new context current on this thread; pop it so the
        // thread's context stack is as before (it is pushed around each use).
        check(unsafe { (self.api.cuCtxPopCurrent_v2)(&mut popped) }, "cuCtxPopCurrent")?;
        Ok(ctx)
    }
}

/// The next nap for [`Event::wait_after_nap`]: shorter by a tenth when the last one was
/// long enough (the work may finish sooner than we slept), 10 µs longer when it was not;
/// so it settles just under the work's usual duration. At most 2 ms.
pub(crate) fn next_nap(nap: std::time::Duration, long_enough: bool) -> std::time::Duration {
    let next = if long_enough { nap.mul_f32(0.9) } else { nap + std::time::Duration::from_micros(10) };
    next.min(std::time::Duration::from_millis(2))
}

// ---------------------------------------------------------------------------------------
// Context

struct ContextInner {
    device: Device,
    raw: CUcontext,
    /// The device's primary context (released on drop) or one of our own (destroyed).
    primary: bool,
}

// SAFETY: a CUDA context is a driver object usable from any thread (the driver API is
// thread-safe; a context may be current on several threads at once). The handle is
// only passed to the driver, never dereferenced here.
unsafe impl Send for ContextInner {}
// SAFETY: as above; no method mutates Rust-side state.
unsafe impl Sync for ContextInner {}

impl Drop for ContextInner {
    fn drop(&mut self) {
        let r = if self.primary {
            // SAFETY: balances the retain in `Device::primary_context`; every resource
            // created in the context holds a clone, so none outlives this release.
            unsafe { (self.device.api.cuDevicePrimaryCtxRelease)(self.device.raw) }
        } else {
            // SAFETY: created by `Device::own_context` and destroyed once, after every
            // resource made in it (each holds a clone).
            unsafe { (self.device.api.cuCtxDestroy_v2)(self.raw) }
        };
        if let Err(e) = check(r, "releasing a CUDA context") {
            tracing::warn!("{e}");
        }
    }
}

/// A retained primary context of one device. Clones share the retain; `Send + Sync`.
#[derive(Clone)]
pub(crate) struct Context(Arc<ContextInner>);

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("device", &self.0.device.ordinal).finish()
    }
}

/// Free and total memory of a device, in bytes (`cuMemGetInfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemInfo {
    /// Bytes free.
    pub(crate) free: u64,
    /// Bytes in total.
    pub(crate) total: u64,
}

impl Context {
    fn api(&self) -> &'static CudaApi {
        self.0.device.api
    }

    /// The raw `CUcontext` (for `cuvidCtxLockCreate`, NVENC's `device` field, …).
    pub(crate) fn raw(&self) -> CUcontext {
        self.0.raw
    }

    /// The device the context belongs to.
    pub(crate) fn device(&self) -> Device {
        self.0.device
    }

    /// Makes the context current on this thread until the guard drops (push/pop, so
    /// whatever was current before is current again afterwards).
    pub(crate) fn push(&self) -> Result<CurrentGuard<'_>> {
        // SAFETY: `raw` is a live context (retained by `self`, which the guard borrows).
        check(unsafe { (self.api().cuCtxPushCurrent_v2)(self.0.raw) }, "cuCtxPushCurrent")?;
        Ok(CurrentGuard { ctx: self, _thread_bound: PhantomData })
    }

    /// Waits for all work in the context.
    pub(crate) fn synchronize(&self) -> Result<()> {
        let _current = self.push()?;
        // SAFETY: no arguments; the context is current.
        check(unsafe { (self.api().cuCtxSynchronize)() }, "cuCtxSynchronize")
    }

    /// Free and total memory of the context's device.
    pub(crate) fn mem_info(&self) -> Result<MemInfo> {
        let _current = self.push()?;
        let (mut free, mut total) = (0usize, 0usize);
        // SAFETY: both out-pointers are live locals; the context is current.
        check(unsafe { (self.api().cuMemGetInfo_v2)(&mut free, &mut total) }, "cuMemGetInfo")?;
        Ok(MemInfo { free: free as u64, total: total as u64 })
    }
}

/// Keeps a context current on this thread; pops it on drop. Not `Send`: the context
/// stack is per thread.
pub(crate) struct CurrentGuard<'a> {
    ctx: &'a Context,
    _thread_bound: PhantomData<*const ()>,
}

impl Drop for CurrentGuard<'_> {
    fn drop(&mut self) {
        let mut popped: CUcontext = ptr::null_mut();
        // SAFETY: pops the entry `Context::push` pushed on this same thread (the guard
        // is neither Send nor outlives the borrow); the out-pointer is a live local.
        let r = unsafe { (self.ctx.api().cuCtxPopCurrent_v2)(&mut popped) };
        if let Err(e) = check(r, "cuCtxPopCurrent") {
            tracing::warn!("{e}");
        } else if popped != self.ctx.raw() {
            tracing::warn!("cuCtxPopCurrent popped another context than the one pushed");
        }
    }
}

/// Runs `f` (a destroy call) with `ctx` current, logging instead of failing: used by
/// `Drop` impls.
fn destroy_in(ctx: &Context, what: &str, f: impl FnOnce() -> CUresult) {
    let _current = match ctx.push() {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!("{what}: {e}");
            None
        }
    };
    if let Err(e) = check(f(), what) {
        tracing::warn!("{e}");
    }
}

// ---------------------------------------------------------------------------------------
// Streams and events

/// A CUDA stream (non-blocking with respect to the legacy default stream).
pub(crate) struct Stream {
    ctx: Context,
    raw: CUstream,
}

// SAFETY: stream handles may be used from any thread with their context current,
// which every method here arranges; the handle is never dereferenced in Rust.
unsafe impl Send for Stream {}
// SAFETY: as above; the driver serialises concurrent use of a stream.
unsafe impl Sync for Stream {}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream").field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

impl Stream {
    /// Creates a stream in `ctx`.
    pub(crate) fn new(ctx: &Context) -> Result<Stream> {
        let _current = ctx.push()?;
        let mut raw: CUstream = ptr::null_mut();
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuStreamCreate)(&mut raw, CU_STREAM_NON_BLOCKING) }, "cuStreamCreate")?;
        Ok(Stream { ctx: ctx.clone(), raw })
    }

    /// The raw `CUstream` (for `CUVIDPROCPARAMS::output_stream`, NVENC, …).
    pub(crate) fn raw(&self) -> CUstream {
        self.raw
    }

    /// The context the stream belongs to.
    pub(crate) fn context(&self) -> &Context {
        &self.ctx
    }

    /// Waits until all work queued on the stream is done.
    pub(crate) fn synchronize(&self) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: `raw` is a live stream of the current context.
        check(unsafe { (self.ctx.api().cuStreamSynchronize)(self.raw) }, "cuStreamSynchronize")
    }

    /// Makes later work on this stream wait for `event` (recorded on any stream).
    pub(crate) fn wait_event(&self, event: &Event) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: both handles are live; flags must be 0.
        check(unsafe { (self.ctx.api().cuStreamWaitEvent)(self.raw, event.raw, 0) }, "cuStreamWaitEvent")
    }

    /// Queues a 2-D copy of `src` into `dst` (rows of `src.width_bytes` bytes, `dst_pitch`
    /// apart, starting at byte `dst_offset`) on this stream and returns at once.
    ///
    /// # Safety
    ///
    /// The copy runs after this call returns: until [`Stream::synchronize`] (or an
    /// event recorded after it) says it finished, `dst` must be neither read, written
    /// nor dropped. `src` must describe memory of this stream's context.
    pub(crate) unsafe fn copy_to_host_async(
        &self,
        src: DeviceRegion,
        dst: &mut PinnedHostBuffer,
        dst_offset: usize,
        dst_pitch: usize,
    ) -> Result<()> {
        let dst_slice = dst.as_mut_slice();
        let dst_slice = dst_slice
            .get_mut(dst_offset..)
            .ok_or_else(|| Error::invalid_input(format!("copy offset {dst_offset} past a host buffer")))?;
        let desc = copy_desc(src, dst_slice, dst_pitch)?;
        let _current = self.ctx.push()?;
        // SAFETY: `desc` was bounds-checked by `copy_desc` against `dst`, which is
        // page-locked (required for a truly asynchronous copy); the caller keeps it
        // alive and untouched until the stream has finished.
        check(unsafe { (self.ctx.api().cuMemcpy2DAsync_v2)(&desc, self.raw) }, "cuMemcpy2DAsync")
    }
}

impl Stream {
    /// Queues a 2-D device-to-device copy of `src` into `dst` (same row size and count)
    /// on this stream and returns at once.
    ///
    /// # Safety
    ///
    /// Both regions must be device memory of this stream's context that stays allocated
    /// until the copy has finished, and `dst` must not be in use by other work meanwhile.
    pub(crate) unsafe fn copy_device_async(&self, src: DeviceRegion, dst: DeviceRegion) -> Result<()> {
        if src.width_bytes != dst.width_bytes
            || src.height != dst.height
            || src.width_bytes > src.pitch
            || dst.width_bytes > dst.pitch
        {
            return Err(Error::invalid_input(format!(
                "device copy of {}x{} into {}x{} (pitches {} / {})",
                src.width_bytes, src.height, dst.width_bytes, dst.height, src.pitch, dst.pitch
            )));
        }
        let desc = CUDA_MEMCPY2D {
            srcMemoryType: CU_MEMORYTYPE_DEVICE,
            srcDevice: src.ptr,
            srcPitch: src.pitch,
            dstMemoryType: CU_MEMORYTYPE_DEVICE,
            dstDevice: dst.ptr,
            dstPitch: dst.pitch,
            WidthInBytes: src.width_bytes,
            Height: src.height,
            ..CUDA_MEMCPY2D::default()
        };
        let _current = self.ctx.push()?;
        // SAFETY: the descriptor is fully initialised with sizes checked above; the
        // caller guarantees both regions are live device memory of this context.
        check(unsafe { (self.ctx.api().cuMemcpy2DAsync_v2)(&desc, self.raw) }, "cuMemcpy2DAsync")
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let (api, raw) = (self.ctx.api(), self.raw);
        // SAFETY: the stream is live and dropped exactly once; queued work completes
        // before the driver releases it.
        destroy_in(&self.ctx, "cuStreamDestroy", || unsafe { (api.cuStreamDestroy_v2)(raw) });
    }
}

/// A CUDA event without timing (cheap; used for ordering and completion polling).
pub(crate) struct Event {
    ctx: Context,
    raw: CUevent,
}

// SAFETY: event handles may be used from any thread with their context current, which
// every method here arranges; the handle is never dereferenced in Rust.
unsafe impl Send for Event {}
// SAFETY: as above; the driver serialises concurrent use of an event.
unsafe impl Sync for Event {}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

impl Event {
    /// Creates an event in `ctx`.
    pub(crate) fn new(ctx: &Context) -> Result<Event> {
        let _current = ctx.push()?;
        let mut raw: CUevent = ptr::null_mut();
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuEventCreate)(&mut raw, CU_EVENT_DISABLE_TIMING) }, "cuEventCreate")?;
        Ok(Event { ctx: ctx.clone(), raw })
    }

    /// The raw `CUevent`.
    pub(crate) fn raw(&self) -> CUevent {
        self.raw
    }

    /// Records the event at the current end of `stream`.
    pub(crate) fn record(&self, stream: &Stream) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: both handles are live.
        check(unsafe { (self.ctx.api().cuEventRecord)(self.raw, stream.raw) }, "cuEventRecord")
    }

    /// Waits until the work before the last `record` is done.
    pub(crate) fn synchronize(&self) -> Result<()> {
        let _current = self.ctx.push()?;
        // SAFETY: the event is live.
        check(unsafe { (self.ctx.api().cuEventSynchronize)(self.raw) }, "cuEventSynchronize")
    }

    /// Waits at most `timeout` for the work before the last `record`: spins briefly
    /// (copies take microseconds), then sleeps in short steps. `Error::Timeout` when the
    /// device does not finish in time, so no wait on the GPU can hang the caller.
    pub(crate) fn wait_timeout(&self, timeout: std::time::Duration) -> Result<()> {
        let start = std::time::Instant::now();
        let mut nap = std::time::Duration::from_micros(5);
        let mut polls = 0u32;
        loop {
            if self.is_complete()? {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(Error::Timeout(timeout));
            }
            polls += 1;
            if polls < 4 {
                std::thread::yield_now();
            } else {
                // Back off: short copies finish within the first naps; long waits cost
                // little CPU (at most one poll per millisecond).
                std::thread::sleep(nap);
                nap = (nap * 2).min(std::time::Duration::from_millis(1));
            }
        }
    }

    /// Like [`Event::wait_timeout`], for work that usually takes about `nap`: if the
    /// first poll finds it running, sleeps `nap` at once, then polls with short naps. A
    /// copy that takes ~80 µs then costs one or two wake-ups instead of six or seven (each
    /// a syscall and a context switch: CPU time per decoded frame). Returns whether the
    /// work was done by the first poll after the nap (the nap was long enough), so the
    /// caller can tune it ([`next_nap`]).
    pub(crate) fn wait_after_nap(&self, timeout: std::time::Duration, nap: std::time::Duration) -> Result<bool> {
        if self.is_complete()? {
            return Ok(true);
        }
        if nap.is_zero() {
            self.wait_timeout(timeout)?;
            return Ok(false);
        }
        std::thread::sleep(nap);
        if self.is_complete()? {
            return Ok(true);
        }
        self.wait_timeout(timeout.saturating_sub(nap))?;
        Ok(false)
    }

    /// Whether the work before the last `record` is done, without blocking.
    pub(crate) fn is_complete(&self) -> Result<bool> {
        let _current = self.ctx.push()?;
        // SAFETY: the event is live.
        let r = unsafe { (self.ctx.api().cuEventQuery)(self.raw) };
        if r == CUDA_ERROR_NOT_READY {
            return Ok(false);
        }
        check(r, "cuEventQuery").map(|()| true)
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        let (api, raw) = (self.ctx.api(), self.raw);
        // SAFETY: the event is live and dropped exactly once.
        destroy_in(&self.ctx, "cuEventDestroy", || unsafe { (api.cuEventDestroy_v2)(raw) });
    }
}

// ---------------------------------------------------------------------------------------
// Memory

/// A 2-D region of device memory: `height` rows of `width_bytes`, `pitch` bytes apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeviceRegion {
    /// Device address of the first byte of the first row.
    pub(crate) ptr: CUdeviceptr,
    /// Distance between rows in bytes.
    pub(crate) pitch: usize,
    /// Bytes per row to copy.
    pub(crate) width_bytes: usize,
    /// Number of rows.
    pub(crate) height: usize,
}

/// Checks a 2-D copy between `device` and a host buffer of `host_len` bytes whose rows
/// are `host_pitch` apart: each row fits both pitches (`(source, destination)` pitch, for
/// the message) and every row lies inside the host buffer.
fn check_host_rows(device: &DeviceRegion, host_len: usize, host_pitch: usize, pitches: (usize, usize)) -> Result<()> {
    if device.width_bytes > device.pitch || device.width_bytes > host_pitch {
        return Err(Error::invalid_input(format!(
            "2-D copy of {}-byte rows with source pitch {} and destination pitch {}",
            device.width_bytes, pitches.0, pitches.1
        )));
    }
    let needed = match device.height {
        0 => 0,
        h => (h - 1)
            .checked_mul(host_pitch)
            .and_then(|n| n.checked_add(device.width_bytes))
            .ok_or_else(|| Error::invalid_input("2-D copy size overflows"))?,
    };
    if needed > host_len {
        return Err(Error::invalid_input(format!("2-D copy needs {needed} bytes, the host buffer has {host_len}")));
    }
    Ok(())
}

/// A `CUDA_MEMCPY2D` from device `src` into host `dst` after checking that the rows fit
/// inside `dst`.
fn copy_desc(src: DeviceRegion, dst: &mut [u8], dst_pitch: usize) -> Result<CUDA_MEMCPY2D> {
    check_host_rows(&src, dst.len(), dst_pitch, (src.pitch, dst_pitch))?;
    Ok(CUDA_MEMCPY2D {
        srcMemoryType: CU_MEMORYTYPE_DEVICE,
        srcDevice: src.ptr,
        srcPitch: src.pitch,
        dstMemoryType: CU_MEMORYTYPE_HOST,
        dstHost: dst.as_mut_ptr().cast::<c_void>(),
        dstPitch: dst_pitch,
        WidthInBytes: src.width_bytes,
        Height: src.height,
        ..CUDA_MEMCPY2D::default()
    })
}

/// Copies `src` into `dst` (rows `dst_pitch` apart) and waits for the copy. Device
/// addresses are the driver's to validate; the host side is bounds-checked here.
pub(crate) fn copy_to_host(ctx: &Context, src: DeviceRegion, dst: &mut [u8], dst_pitch: usize) -> Result<()> {
    let desc = copy_desc(src, dst, dst_pitch)?;
    let _current = ctx.push()?;
    // SAFETY: `desc` writes only inside `dst` (checked by `copy_desc`), which the
    // exclusive borrow keeps alive for this synchronous call.
    check(unsafe { (ctx.api().cuMemcpy2D_v2)(&desc) }, "cuMemcpy2D")
}

/// Copies host `src` (rows of `dst.width_bytes`, `src_pitch` apart) into device `dst`
/// and waits for the copy. The host side is bounds-checked here; device addresses are
/// the driver's to validate.
pub(crate) fn copy_from_host(ctx: &Context, src: &[u8], src_pitch: usize, dst: DeviceRegion) -> Result<()> {
    check_host_rows(&dst, src.len(), src_pitch, (src_pitch, dst.pitch))?;
    let desc = CUDA_MEMCPY2D {
        srcMemoryType: CU_MEMORYTYPE_HOST,
        srcHost: src.as_ptr().cast::<c_void>(),
        srcPitch: src_pitch,
        dstMemoryType: CU_MEMORYTYPE_DEVICE,
        dstDevice: dst.ptr,
        dstPitch: dst.pitch,
        WidthInBytes: dst.width_bytes,
        Height: dst.height,
        ..CUDA_MEMCPY2D::default()
    };
    let _current = ctx.push()?;
    // SAFETY: `desc` reads only inside `src` (checked above), which the borrow keeps
    // alive for this synchronous call.
    check(unsafe { (ctx.api().cuMemcpy2D_v2)(&desc) }, "cuMemcpy2D")
}

/// Copies device `src` into device `dst` (the same row count and row bytes) and waits
/// for the copy. Addresses are the driver's to validate; the regions' shapes are checked.
pub(crate) fn copy_device(ctx: &Context, src: DeviceRegion, dst: DeviceRegion) -> Result<()> {
    if src.width_bytes != dst.width_bytes
        || src.height != dst.height
        || src.width_bytes > src.pitch
        || dst.width_bytes > dst.pitch
    {
        return Err(Error::invalid_input(format!(
            "2-D device copy of {}x{} into {}x{} (pitches {} and {})",
            src.width_bytes, src.height, dst.width_bytes, dst.height, src.pitch, dst.pitch
        )));
    }
    let desc = CUDA_MEMCPY2D {
        srcMemoryType: CU_MEMORYTYPE_DEVICE,
        srcDevice: src.ptr,
        srcPitch: src.pitch,
        dstMemoryType: CU_MEMORYTYPE_DEVICE,
        dstDevice: dst.ptr,
        dstPitch: dst.pitch,
        WidthInBytes: src.width_bytes,
        Height: src.height,
        ..CUDA_MEMCPY2D::default()
    };
    let _current = ctx.push()?;
    // SAFETY: device to device; the driver validates both ranges against its allocations.
    check(unsafe { (ctx.api().cuMemcpy2D_v2)(&desc) }, "cuMemcpy2D")
}

/// Device memory: `height` rows of at least `width_bytes`, `pitch` bytes apart (a
/// linear allocation is one row). Freed on drop.
pub(crate) struct DeviceBuffer {
    ctx: Context,
    ptr: CUdeviceptr,
    pitch: usize,
    width_bytes: usize,
    height: usize,
}

impl fmt::Debug for DeviceBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceBuffer")
            .field("pitch", &self.pitch)
            .field("width_bytes", &self.width_bytes)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl DeviceBuffer {
    /// Allocates `bytes` of linear device memory.
    pub(crate) fn alloc(ctx: &Context, bytes: usize) -> Result<DeviceBuffer> {
        if bytes == 0 {
            return Err(Error::invalid_input("zero-sized device allocation"));
        }
        let _current = ctx.push()?;
        let mut ptr: CUdeviceptr = 0;
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuMemAlloc_v2)(&mut ptr, bytes) }, "cuMemAlloc")?;
        Ok(DeviceBuffer { ctx: ctx.clone(), ptr, pitch: bytes, width_bytes: bytes, height: 1 })
    }

    /// Allocates `height` rows of `width_bytes` with the pitch the driver picks for
    /// fast 2-D access (what NVDEC output copies and NVENC input want).
    pub(crate) fn alloc_pitched(ctx: &Context, width_bytes: usize, height: usize) -> Result<DeviceBuffer> {
        if width_bytes == 0 || height == 0 {
            return Err(Error::invalid_input(format!("zero-sized pitched allocation {width_bytes}x{height}")));
        }
        let _current = ctx.push()?;
        let (mut ptr, mut pitch): (CUdeviceptr, usize) = (0, 0);
        // SAFETY: both out-pointers are live locals; 16 is a valid element size (the
        // largest access the kernels make), which sets the pitch alignment.
        let r = super::call_times::ALLOC
            .time(|| unsafe { (ctx.api().cuMemAllocPitch_v2)(&mut ptr, &mut pitch, width_bytes, height, 16) });
        check(r, "cuMemAllocPitch")?;
        Ok(DeviceBuffer { ctx: ctx.clone(), ptr, pitch, width_bytes, height })
    }

    /// The device address.
    pub(crate) fn ptr(&self) -> CUdeviceptr {
        self.ptr
    }

    /// The context the memory was allocated in.
    pub(crate) fn context(&self) -> &Context {
        &self.ctx
    }

    /// Bytes between rows.
    pub(crate) fn pitch(&self) -> usize {
        self.pitch
    }

    /// Bytes per row asked for.
    pub(crate) fn width_bytes(&self) -> usize {
        self.width_bytes
    }

    /// Number of rows.
    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// The whole buffer as a [`DeviceRegion`].
    pub(crate) fn region(&self) -> DeviceRegion {
        DeviceRegion { ptr: self.ptr, pitch: self.pitch, width_bytes: self.width_bytes, height: self.height }
    }

    /// Copies the buffer into `dst` (rows `dst_pitch` apart) and waits.
    pub(crate) fn copy_to_host(&self, dst: &mut [u8], dst_pitch: usize) -> Result<()> {
        copy_to_host(&self.ctx, self.region(), dst, dst_pitch)
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        let (api, ptr) = (self.ctx.api(), self.ptr);
        // SAFETY: the allocation is live and freed exactly once.
        destroy_in(&self.ctx, "cuMemFree", || unsafe { (api.cuMemFree_v2)(ptr) });
    }
}

/// Page-locked host memory (fast, truly asynchronous device↔host copies). Zeroed at
/// allocation; freed on drop.
pub(crate) struct PinnedHostBuffer {
    ctx: Context,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the buffer owns its allocation exclusively (like a `Box<[u8]>`); access goes
// through `&self`/`&mut self`, so the usual borrow rules make sharing sound.
unsafe impl Send for PinnedHostBuffer {}
// SAFETY: as above: `&PinnedHostBuffer` only gives out `&[u8]`.
unsafe impl Sync for PinnedHostBuffer {}

impl fmt::Debug for PinnedHostBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedHostBuffer").field("len", &self.len).finish_non_exhaustive()
    }
}

impl PinnedHostBuffer {
    /// Allocates `len` bytes of page-locked memory, zeroed.
    pub(crate) fn new(ctx: &Context, len: usize) -> Result<PinnedHostBuffer> {
        if len == 0 {
            return Err(Error::invalid_input("zero-sized pinned host allocation"));
        }
        let _current = ctx.push()?;
        let mut raw: *mut c_void = ptr::null_mut();
        // SAFETY: the out-pointer is a live local; the context is current.
        check(unsafe { (ctx.api().cuMemAllocHost_v2)(&mut raw, len) }, "cuMemAllocHost")?;
        let ptr = NonNull::new(raw.cast::<u8>())
            .ok_or_else(|| Error::backend("cuda", "CUDA_ERROR_OUT_OF_MEMORY", "cuMemAllocHost returned null"))?;
        // SAFETY: the driver just returned `len` writable bytes at `ptr`; zeroing them
        // makes every later `&[u8]` view read initialised memory.
        unsafe { ptr::write_bytes(ptr.as_ptr(), 0, len) };
        Ok(PinnedHostBuffer { ctx: ctx.clone(), ptr, len })
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty (never: zero-sized buffers are refused).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` initialised bytes owned by `self` for its lifetime.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for PinnedHostBuffer {
    fn drop(&mut self) {
        let (api, p) = (self.ctx.api(), self.ptr.as_ptr().cast::<c_void>());
        // SAFETY: the allocation is live and freed exactly once; no slice of it
        // outlives `self`.
        destroy_in(&self.ctx, "cuMemFreeHost", || unsafe { (api.cuMemFreeHost)(p) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_nap_settles_just_under_the_work_time() {
        use std::time::Duration;
        // Work that takes 70 µs: the nap grows while too short, shrinks once long enough.
        let mut nap = Duration::ZERO;
        let mut naps = Vec::new();
        for _ in 0..60 {
            nap = next_nap(nap, nap >= Duration::from_micros(70));
            naps.push(nap);
        }
        let settled = &naps[40..];
        assert!(
            settled.iter().all(|n| *n >= Duration::from_micros(55) && *n <= Duration::from_micros(90)),
            "{settled:?}"
        );
        assert_eq!(next_nap(Duration::from_secs(1), false), Duration::from_millis(2), "capped");
    }

    #[test]
    fn classification() {
        assert_eq!(classify(CUDA_ERROR_OUT_OF_MEMORY), Class::Backend);
        for c in [CUDA_ERROR_ECC_UNCORRECTABLE, CUDA_ERROR_LAUNCH_FAILED, CUDA_ERROR_ILLEGAL_ADDRESS] {
            assert_eq!(classify(c), Class::DeviceLost, "{c}");
        }
        for c in [CUDA_ERROR_NO_DEVICE, CUDA_ERROR_NOT_FOUND] {
            assert_eq!(classify(c), Class::Unsupported, "{c}");
        }
        assert_eq!(classify(CUDA_ERROR_INVALID_VALUE), Class::Backend);
    }

    #[test]
    fn check_maps_errors() {
        assert!(check(CUDA_SUCCESS, "x").is_ok());
        match check(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc").unwrap_err() {
            Error::Backend { engine, code, message } => {
                assert_eq!(engine, "cuda");
                assert_eq!(code, "CUDA_ERROR_OUT_OF_MEMORY");
                assert!(message.starts_with("cuMemAlloc"), "{message}");
            }
            e => panic!("{e}"),
        }
        assert!(matches!(check(CUDA_ERROR_ECC_UNCORRECTABLE, "x"), Err(Error::DeviceLost(m)) if m.contains("ECC")));
        match check(CUDA_ERROR_NO_DEVICE, "cuInit").unwrap_err() {
            Error::Unsupported { what, why } => {
                assert_eq!(what, "cuda");
                assert!(why.contains("CUDA_ERROR_NO_DEVICE"), "{why}");
            }
            e => panic!("{e}"),
        }
        match check_cuvid(CUDA_ERROR_INVALID_VALUE, "cuvidCreateDecoder").unwrap_err() {
            Error::Backend { engine, code, .. } => {
                assert_eq!(engine, "nvdec");
                assert_eq!(code, "CUDA_ERROR_INVALID_VALUE");
            }
            e => panic!("{e}"),
        }
        assert!(
            matches!(check_cuvid(CUDA_ERROR_NOT_SUPPORTED, "caps"), Err(Error::Unsupported { what, .. }) if what == "nvdec")
        );
    }

    #[test]
    fn unknown_codes_get_a_name() {
        let name = error_name(123_456);
        assert!(name == "CUresult(123456)" || name.starts_with("CUDA_ERROR"), "{name}");
    }

    #[test]
    fn code_names_are_unique() {
        for (i, (c, n)) in CODE_NAMES.iter().enumerate() {
            assert!(CODE_NAMES[i + 1..].iter().all(|(c2, _)| c2 != c), "{n} listed twice");
        }
    }

    #[test]
    fn driver_version_decoding() {
        assert_eq!(DriverVersion::from_raw(12040), DriverVersion { major: 12, minor: 4 });
        assert_eq!(DriverVersion::from_raw(11010).to_string(), "11.1");
    }

    #[test]
    fn copy_bounds_are_checked() {
        let src = DeviceRegion { ptr: 0x1000, pitch: 512, width_bytes: 100, height: 4 };
        let mut dst = vec![0u8; 3 * 128 + 100];
        assert!(copy_desc(src, &mut dst, 128).is_ok());
        assert!(copy_desc(src, &mut dst[1..], 128).is_err());
        assert!(copy_desc(src, &mut dst, 64).is_err());
        let wide = DeviceRegion { width_bytes: 600, ..src };
        assert!(copy_desc(wide, &mut dst, 1024).is_err());
        let empty = DeviceRegion { height: 0, ..src };
        assert!(copy_desc(empty, &mut [], 128).is_ok());
    }

    #[test]
    fn driver_fails_softly_or_loads() {
        match CudaDriver::get() {
            Ok(d) => {
                let v = d.version().expect("cuDriverGetVersion");
                assert!(v.major >= 10, "{v}");
            }
            Err(Error::Unsupported { .. }) => {}
            Err(e) => panic!("unexpected error kind: {e}"),
        }
    }

    /// Exercises context, memory, copies, streams and events on GPU 0 when a driver
    /// is present; returns at once otherwise.
    #[test]
    fn gpu_smoke_when_available() {
        let Ok(driver) = CudaDriver::get() else { return };
        if driver.device_count().unwrap_or(0) == 0 {
            return;
        }
        let device = driver.device(0).expect("cuDeviceGet");
        let ctx = device.primary_context().expect("primary context");
        let info = ctx.mem_info().expect("mem_info");
        assert!(info.free > 0 && info.free <= info.total, "{info:?}");

        let (width, height) = (100usize, 7usize);
        let buf = DeviceBuffer::alloc_pitched(&ctx, width, height).expect("cuMemAllocPitch");
        assert!(buf.pitch() >= width);
        let pattern: Vec<u8> = (0..buf.pitch() * height).map(|i| (i % 251) as u8).collect();
        {
            let _current = ctx.push().expect("push");
            // SAFETY: `buf` holds `pitch * height` bytes, exactly `pattern.len()`.
            let r = unsafe { (driver.api().cuMemcpyHtoD_v2)(buf.ptr(), pattern.as_ptr().cast(), pattern.len()) };
            check(r, "cuMemcpyHtoD").expect("upload");
        }
        let expected: Vec<u8> = (0..height).flat_map(|y| pattern[y * buf.pitch()..][..width].to_vec()).collect();

        let mut host = vec![0u8; width * height];
        buf.copy_to_host(&mut host, width).expect("cuMemcpy2D");
        assert_eq!(host, expected);

        let stream = Stream::new(&ctx).expect("stream");
        let event = Event::new(&ctx).expect("event");
        let mut pinned = PinnedHostBuffer::new(&ctx, width * height + 3).expect("pinned");
        // SAFETY: `pinned` is not touched until the stream is synchronised below.
        unsafe { stream.copy_to_host_async(buf.region(), &mut pinned, 3, width) }.expect("cuMemcpy2DAsync");
        event.record(&stream).expect("record");
        stream.wait_event(&event).expect("wait_event");
        event.synchronize().expect("event sync");
        assert!(event.is_complete().expect("query"));
        stream.synchronize().expect("stream sync");
        assert_eq!(&pinned.as_slice()[3..], &expected[..]);
        ctx.synchronize().expect("ctx sync");
        eprintln!("GPU 0 {}: {info:?}, pitch {}", device.name().unwrap_or_default(), buf.pitch());
    }
}
