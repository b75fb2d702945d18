//! GPU utilisation through NVML (`libnvidia-ml.so.1`), loaded at run time like the rest of
//! the NVIDIA libraries. Where the library or a GPU is missing every query answers `None`
//! (no gauge, no error); the reason is logged once at debug level.
//!
//! Only five entry points are used, declared here by hand from `nvml.h` (they have kept
//! these signatures since NVML 5): `nvmlInit_v2`, `nvmlDeviceGetHandleByIndex_v2`,
//! `nvmlDeviceGetDecoderUtilization`, `nvmlDeviceGetEncoderUtilization` and
//! `nvmlDeviceGetUtilizationRates`.
//!
//! It is no engine: it sits beside the metric it feeds, below the backends. Every unsafe
//! block carries a `// SAFETY:` comment, as in the NVIDIA backend.
#![deny(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block)]

use std::ffi::{c_uint, c_void};
use std::sync::OnceLock;

use libloading::Library;

/// `nvmlReturn_t`; 0 is `NVML_SUCCESS`.
type NvmlReturn = c_uint;
/// `nvmlDevice_t`, an opaque handle.
type NvmlDevice = *mut c_void;

/// `nvmlUtilization_t`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
struct NvmlUtilization {
    /// Percent of time a kernel ran on the GPU over the last sample period.
    gpu: c_uint,
    /// Percent of time device memory was read or written.
    memory: c_uint,
}

const NVML_SUCCESS: NvmlReturn = 0;
const LIBRARY: &str = "libnvidia-ml.so.1";

type InitFn = unsafe extern "C" fn() -> NvmlReturn;
type HandleByIndexFn = unsafe extern "C" fn(c_uint, *mut NvmlDevice) -> NvmlReturn;
type EngineUtilFn = unsafe extern "C" fn(NvmlDevice, *mut c_uint, *mut c_uint) -> NvmlReturn;
type UtilRatesFn = unsafe extern "C" fn(NvmlDevice, *mut NvmlUtilization) -> NvmlReturn;

/// The loaded library and its entry points.
struct Nvml {
    handle_by_index: HandleByIndexFn,
    decoder_utilization: EngineUtilFn,
    encoder_utilization: EngineUtilFn,
    utilization_rates: UtilRatesFn,
    /// Keeps the library mapped while the pointers above are in use.
    _lib: Library,
}

/// Percent utilisation of one GPU's engines, each where NVML reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Utilization {
    /// NVDEC engines, percent.
    pub decoder: Option<u32>,
    /// NVENC engines, percent.
    pub encoder: Option<u32>,
    /// Streaming multiprocessors (kernels), percent.
    pub sm: Option<u32>,
}

/// Resolves `name` (NUL-terminated) in `lib` as a function pointer of type `F`.
///
/// # Safety
///
/// `F` must be the function-pointer type matching the C declaration of `name`.
unsafe fn symbol<F: Copy>(lib: &Library, name: &[u8]) -> Option<F> {
    // SAFETY: `Option<F>` of a function-pointer type is a nullable C pointer, which is
    // what `dlsym` yields; the caller guarantees the signature.
    let sym = unsafe { lib.get::<Option<F>>(name) };
    sym.ok().and_then(|s| *s)
}

impl Nvml {
    fn load() -> Result<Nvml, String> {
        // SAFETY: loading runs the library's initialisers; libnvidia-ml is made to be
        // dlopen'ed by monitoring tools and has no preconditions on the caller.
        let lib = unsafe { Library::new(LIBRARY) }.map_err(|e| format!("{LIBRARY} not found: {e}"))?;
        let missing = |name: &str| format!("{LIBRARY} lacks {name}");
        // SAFETY: the type is `nvmlReturn_t nvmlInit_v2(void)`.
        let init: InitFn = unsafe { symbol(&lib, b"nvmlInit_v2\0") }.ok_or_else(|| missing("nvmlInit_v2"))?;
        // SAFETY: `nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int, nvmlDevice_t *)`.
        let handle_by_index: HandleByIndexFn = unsafe { symbol(&lib, b"nvmlDeviceGetHandleByIndex_v2\0") }
            .ok_or_else(|| missing("nvmlDeviceGetHandleByIndex_v2"))?;
        // SAFETY: `nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t, unsigned int *, unsigned int *)`.
        let decoder_utilization: EngineUtilFn = unsafe { symbol(&lib, b"nvmlDeviceGetDecoderUtilization\0") }
            .ok_or_else(|| missing("nvmlDeviceGetDecoderUtilization"))?;
        // SAFETY: `nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t, unsigned int *, unsigned int *)`.
        let encoder_utilization: EngineUtilFn = unsafe { symbol(&lib, b"nvmlDeviceGetEncoderUtilization\0") }
            .ok_or_else(|| missing("nvmlDeviceGetEncoderUtilization"))?;
        // SAFETY: `nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t, nvmlUtilization_t *)`.
        let utilization_rates: UtilRatesFn = unsafe { symbol(&lib, b"nvmlDeviceGetUtilizationRates\0") }
            .ok_or_else(|| missing("nvmlDeviceGetUtilizationRates"))?;
        // SAFETY: takes no arguments; initialising NVML more than once per process is
        // allowed (it is reference counted) and it is never shut down here.
        let r = unsafe { init() };
        if r != NVML_SUCCESS {
            return Err(format!("nvmlInit_v2 returned {r}"));
        }
        Ok(Nvml { handle_by_index, decoder_utilization, encoder_utilization, utilization_rates, _lib: lib })
    }

    /// The process-wide instance, or `None` (the reason is logged once).
    fn get() -> Option<&'static Nvml> {
        static CELL: OnceLock<Option<Nvml>> = OnceLock::new();
        CELL.get_or_init(|| match Nvml::load() {
            Ok(n) => Some(n),
            Err(why) => {
                tracing::debug!("no GPU utilisation metrics: {why}");
                None
            }
        })
        .as_ref()
    }

    fn engine(&self, f: EngineUtilFn, device: NvmlDevice) -> Option<u32> {
        let (mut percent, mut period): (c_uint, c_uint) = (0, 0);
        // SAFETY: `device` came from `nvmlDeviceGetHandleByIndex_v2`; both out-pointers
        // are live locals.
        let r = unsafe { f(device, &mut percent, &mut period) };
        (r == NVML_SUCCESS).then_some(percent)
    }
}

/// Whether NVML could be loaded and initialised.
#[cfg(test)]
fn available() -> bool {
    Nvml::get().is_some()
}

/// Utilisation of GPU `index` (NVML's numbering), or `None` without NVML or that GPU.
pub(crate) fn utilization(index: u32) -> Option<Utilization> {
    let nvml = Nvml::get()?;
    let mut device: NvmlDevice = std::ptr::null_mut();
    // SAFETY: the out-pointer is a live local; an out-of-range index is an error return.
    let r = unsafe { (nvml.handle_by_index)(index, &mut device) };
    if r != NVML_SUCCESS || device.is_null() {
        return None;
    }
    let mut rates = NvmlUtilization::default();
    // SAFETY: `device` is a valid handle (above); `rates` is a live local of the C layout.
    let r = unsafe { (nvml.utilization_rates)(device, &mut rates) };
    Some(Utilization {
        decoder: nvml.engine(nvml.decoder_utilization, device),
        encoder: nvml.engine(nvml.encoder_utilization, device),
        sm: (r == NVML_SUCCESS).then_some(rates.gpu),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn absent_or_sane() {
        match super::utilization(0) {
            None => {}
            Some(u) => {
                for p in [u.decoder, u.encoder, u.sm].into_iter().flatten() {
                    assert!(p <= 100, "{u:?}");
                }
                assert!(super::available());
            }
        }
        assert!(super::utilization(u32::MAX).is_none());
    }
}
