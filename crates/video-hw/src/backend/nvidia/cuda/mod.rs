//! Safe, RAII wrappers over the part of the CUDA driver API the NVIDIA engine needs:
//! driver initialisation, device queries, the per-device primary context, streams,
//! events, pitched device memory, page-locked host memory and 2-D copies.
//!
//! Every call that needs a current context makes its own context current for the
//! duration of the call (push/pop), so the wrappers can be used from any thread.
//! Errors map to [`crate::Error`] through [`check`].
//!
//! The wrappers are split by what they wrap: [`error`] (result codes), this file (the driver,
//! devices and contexts), [`stream`] (streams and events), [`memory`] (device and host memory
//! and copies).

use std::ffi::{c_char, c_int};
use std::fmt;
use std::marker::PhantomData;
use std::ptr;
use std::sync::{Arc, OnceLock};

use super::loader::CudaApi;
use super::sys::cuda::{
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, CUcontext, CUdevice,
    CUdevice_attribute, CUresult,
};
use crate::{Error, Result};

mod error;
mod memory;
mod stream;
#[cfg(test)]
mod tests;

pub(crate) use error::*;
pub(crate) use memory::*;
pub(crate) use stream::*;

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
        crate::process::watch_forks();
        // A child forked after its parent loaded the driver (torch.cuda, say, before a
        // DataLoader's workers started) must not call it: say why, without touching it.
        if DRIVER.get().is_none() && crate::process::cuda_loaded_before_fork() {
            return Err(crate::process::cuda_after_fork_error());
        }
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
    ///
    /// Each device has its own slot, made under the cache's lock and filled outside it: a
    /// process that starts on several GPUs at once makes their contexts at the same time
    /// (one lock over the creation made a second GPU's first session wait for the first
    /// GPU's context).
    pub(crate) fn primary_context(&self) -> Result<Context> {
        type Slot = Arc<std::sync::Mutex<Option<Context>>>;
        static RETAINED: OnceLock<std::sync::Mutex<Vec<(CUdevice, Slot)>>> = OnceLock::new();
        let slot = {
            let cache = RETAINED.get_or_init(|| std::sync::Mutex::new(Vec::new()));
            let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
            match cache.iter().find(|(d, _)| *d == self.raw) {
                Some((_, slot)) => slot.clone(),
                None => {
                    let slot = Slot::default();
                    cache.push((self.raw, slot.clone()));
                    slot
                }
            }
        };
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ctx) = slot.as_ref() {
            return Ok(ctx.clone());
        }
        let ctx = self.retain_primary_context()?;
        *slot = Some(ctx.clone());
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

/// A value made once per CUDA context and kept for the process (a context's loaded
/// kernels, its transform workers): a `static` of this type caches it by context.
pub(crate) struct PerContext<T>(OnceLock<std::sync::Mutex<std::collections::HashMap<usize, Arc<T>>>>);

impl<T> PerContext<T> {
    /// An empty cache (for a `static`).
    pub(crate) const fn new() -> Self {
        PerContext(OnceLock::new())
    }

    /// `ctx`'s value, made by `make` the first time it is asked for.
    pub(crate) fn get_or_make(&self, ctx: &Context, make: impl FnOnce(&Context) -> Result<T>) -> Result<Arc<T>> {
        let map = self.0.get_or_init(Default::default);
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        let key = ctx.raw() as usize;
        if let Some(v) = map.get(&key) {
            return Ok(v.clone());
        }
        let v = Arc::new(make(ctx)?);
        map.insert(key, v.clone());
        Ok(v)
    }
}

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
