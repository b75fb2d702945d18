//! Run-time loading of the NVIDIA driver libraries.
//!
//! `libcuda.so.1` and `libnvcuvid.so.1` (NVDEC) and `libnvidia-encode.so.1` (NVENC) ship
//! with the driver, not with a toolkit, so they are opened with `dlopen` the first time
//! they are needed, once per process, and every entry point the engine uses is resolved
//! right then. A missing library or symbol becomes [`Error::Unsupported`] (e.g.
//! "unsupported: nvdec: libcuda.so.1 not found …"), never a panic, and a machine
//! without a driver simply has no NVIDIA engine.
//!
//! The tables hold plain function pointers; the [`Library`] handle lives in the same
//! `'static` value, so the pointers stay valid for the rest of the process.

use std::sync::OnceLock;

use libloading::Library;

use super::sys::{cuda, cuda_ext, cuvid, nvenc_ext};
use crate::{Error, Result};

/// Takes the function-pointer type out of the `Option<fn>` that bindgen makes of a C
/// function-pointer typedef.
pub(crate) trait FnPtrTypedef {
    /// The bare `unsafe extern "C" fn(..)` type.
    type Fn: Copy;
}

impl<F: Copy> FnPtrTypedef for Option<F> {
    type Fn = F;
}

/// The bare function-pointer type of a bindgen typedef such as `sys::cuda::tcuInit`.
pub(crate) type Pfn<T> = <T as FnPtrTypedef>::Fn;

/// Opens `name` (a soname, searched the way `dlopen` does).
fn open(what: &'static str, name: &str) -> Result<Library> {
    // SAFETY: loading a shared library runs its initialisers. The NVIDIA driver
    // libraries are designed to be dlopen'ed by applications (their own SDK samples and
    // FFmpeg do exactly this) and have no initialiser with preconditions on the caller.
    let lib = unsafe { Library::new(name) };
    lib.map_err(|e| Error::unsupported(what, format!("{name} not found (is the NVIDIA driver installed?): {e}")))
}

/// Resolves `symbol` (NUL-terminated) in `lib`.
///
/// # Safety
///
/// `F` must be the function-pointer type whose signature matches the C declaration of
/// `symbol` in the loaded library's ABI.
unsafe fn resolve<F: Copy>(lib: &Library, lib_name: &str, symbol: &[u8]) -> std::result::Result<F, String> {
    let printable = String::from_utf8_lossy(&symbol[..symbol.len().saturating_sub(1)]).into_owned();
    // SAFETY: `Option<F>` of a function-pointer type `F` has the size and
    // representation of a nullable C pointer, which is what `dlsym` yields; the caller
    // guarantees that `F` matches the C signature of the symbol.
    let sym = unsafe { lib.get::<Option<F>>(symbol) };
    match sym {
        Ok(s) => (*s).ok_or_else(|| format!("{lib_name} exports {printable} as a null pointer")),
        Err(e) => Err(format!("{lib_name} lacks {printable} (driver too old?): {e}")),
    }
}

/// Declares a table of entry points of one library and its loader.
///
/// Fields are named as the exported symbols, typed by the matching typedef of
/// [`super::sys`] (the typedef fixes the signature, so the symbol name and type are the
/// only things written by hand here). `optional` entries are `None` when the installed
/// driver does not export them.
macro_rules! entry_points {
    (
        $(#[$meta:meta])*
        struct $name:ident;
        library: $soname:literal, $what:literal;
        required { $($req:ident: $req_ty:ty,)* }
        optional { $($opt:ident: $opt_ty:ty,)* }
    ) => {
        $(#[$meta])*
        #[allow(non_snake_case, reason = "fields are named as the C symbols they hold")]
        pub(crate) struct $name {
            $(
                #[doc = concat!("`", stringify!($req), "`.")]
                pub(crate) $req: Pfn<$req_ty>,
            )*
            $(
                #[doc = concat!("`", stringify!($opt), "`, if the driver exports it.")]
                pub(crate) $opt: Option<Pfn<$opt_ty>>,
            )*
            /// Keeps the library mapped while the pointers above are in use.
            _lib: Library,
        }

        impl $name {
            /// The soname this table is loaded from.
            pub(crate) const LIBRARY: &'static str = $soname;

            /// Opens the library and resolves every entry point; `Err` names the first
            /// thing missing.
            fn load() -> Result<Self> {
                let lib = open($what, $soname)?;
                let missing = |why: String| Error::unsupported($what, why);
                Ok(Self {
                    $(
                        // SAFETY: the field type is the header's typedef for this very symbol.
                        $req: unsafe { resolve::<Pfn<$req_ty>>(&lib, $soname, concat!(stringify!($req), "\0").as_bytes()) }
                            .map_err(missing)?,
                    )*
                    $(
                        // SAFETY: the field type is the header's typedef for this very symbol.
                        $opt: unsafe { resolve::<Pfn<$opt_ty>>(&lib, $soname, concat!(stringify!($opt), "\0").as_bytes()) }
                            .ok(),
                    )*
                    _lib: lib,
                })
            }

            /// The process-wide table, loaded on first use. A failure is remembered too:
            /// the library is not searched for again.
            pub(crate) fn get() -> Result<&'static Self> {
                static CELL: OnceLock<std::result::Result<$name, String>> = OnceLock::new();
                match CELL.get_or_init(|| {
                    Self::load_timer().time(Self::load).map_err(|e| match e {
                        Error::Unsupported { why, .. } => why,
                        other => other.to_string(),
                    })
                }) {
                    Ok(api) => Ok(api),
                    Err(why) => Err(Error::unsupported($what, why)),
                }
            }

            /// How long opening the library and resolving its entry points took, once
            /// [`Self::get`] has tried (a start-up figure for reports).
            pub(crate) fn load_time() -> Option<std::time::Duration> {
                Self::load_timer().read()
            }

            fn load_timer() -> &'static super::call_times::Once {
                static LOAD_TIME: super::call_times::Once = super::call_times::Once::new();
                &LOAD_TIME
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).field("library", &$soname).finish_non_exhaustive()
            }
        }
    };
}

entry_points! {
    /// The CUDA driver API entry points the NVIDIA engine uses (`libcuda.so.1`).
    struct CudaApi;
    library: "libcuda.so.1", "nvdec";
    required {
        cuInit: cuda::tcuInit,
        cuDriverGetVersion: cuda_ext::tcuDriverGetVersion,
        cuDeviceGetCount: cuda::tcuDeviceGetCount,
        cuDeviceGet: cuda::tcuDeviceGet,
        cuDeviceGetName: cuda::tcuDeviceGetName,
        cuDeviceGetAttribute: cuda::tcuDeviceGetAttribute,
        cuDeviceTotalMem_v2: cuda_ext::tcuDeviceTotalMem_v2,
        cuDevicePrimaryCtxRetain: cuda::tcuDevicePrimaryCtxRetain,
        cuDevicePrimaryCtxRelease: cuda::tcuDevicePrimaryCtxRelease,
        cuCtxCreate_v2: cuda::tcuCtxCreate_v2,
        cuCtxDestroy_v2: cuda::tcuCtxDestroy_v2,
        cuCtxPushCurrent_v2: cuda::tcuCtxPushCurrent_v2,
        cuCtxPopCurrent_v2: cuda::tcuCtxPopCurrent_v2,
        cuCtxSetCurrent: cuda_ext::tcuCtxSetCurrent,
        cuCtxSynchronize: cuda_ext::tcuCtxSynchronize,
        cuMemAlloc_v2: cuda::tcuMemAlloc_v2,
        cuMemAllocPitch_v2: cuda::tcuMemAllocPitch_v2,
        cuMemFree_v2: cuda::tcuMemFree_v2,
        cuMemAllocHost_v2: cuda_ext::tcuMemAllocHost_v2,
        cuMemFreeHost: cuda_ext::tcuMemFreeHost,
        cuMemcpy2D_v2: cuda::tcuMemcpy2D_v2,
        cuMemcpy2DAsync_v2: cuda::tcuMemcpy2DAsync_v2,
        cuMemcpyDtoH_v2: cuda::tcuMemcpyDtoH_v2,
        cuMemcpyDtoHAsync_v2: cuda::tcuMemcpyDtoHAsync_v2,
        cuMemcpyHtoD_v2: cuda::tcuMemcpyHtoD_v2,
        cuMemcpyHtoDAsync_v2: cuda::tcuMemcpyHtoDAsync_v2,
        cuMemGetInfo_v2: cuda_ext::tcuMemGetInfo_v2,
        cuStreamCreate: cuda::tcuStreamCreate,
        cuStreamDestroy_v2: cuda::tcuStreamDestroy_v2,
        cuStreamSynchronize: cuda::tcuStreamSynchronize,
        cuStreamWaitEvent: cuda_ext::tcuStreamWaitEvent,
        cuEventCreate: cuda::tcuEventCreate,
        cuEventDestroy_v2: cuda::tcuEventDestroy_v2,
        cuEventRecord: cuda::tcuEventRecord,
        cuEventSynchronize: cuda::tcuEventSynchronize,
        cuEventQuery: cuda::tcuEventQuery,
        cuModuleLoadData: cuda::tcuModuleLoadData,
        cuModuleGetFunction: cuda::tcuModuleGetFunction,
        cuModuleUnload: cuda::tcuModuleUnload,
        cuLaunchKernel: cuda::tcuLaunchKernel,
        cuGetErrorName: cuda::tcuGetErrorName,
        cuGetErrorString: cuda::tcuGetErrorString,
    }
    optional {}
}

entry_points! {
    /// The NVDEC entry points (`libnvcuvid.so.1`): decoder, parser and context lock.
    struct CuvidApi;
    library: "libnvcuvid.so.1", "nvdec";
    required {
        cuvidGetDecoderCaps: cuvid::tcuvidGetDecoderCaps,
        cuvidCreateDecoder: cuvid::tcuvidCreateDecoder,
        cuvidDestroyDecoder: cuvid::tcuvidDestroyDecoder,
        cuvidDecodePicture: cuvid::tcuvidDecodePicture,
        cuvidMapVideoFrame64: cuvid::tcuvidMapVideoFrame64,
        cuvidUnmapVideoFrame64: cuvid::tcuvidUnmapVideoFrame64,
        cuvidCtxLockCreate: cuvid::tcuvidCtxLockCreate,
        cuvidCtxLockDestroy: cuvid::tcuvidCtxLockDestroy,
        cuvidCtxLock: cuvid::tcuvidCtxLock,
        cuvidCtxUnlock: cuvid::tcuvidCtxUnlock,
        cuvidCreateVideoParser: cuvid::tcuvidCreateVideoParser,
        cuvidParseVideoData: cuvid::tcuvidParseVideoData,
        cuvidDestroyVideoParser: cuvid::tcuvidDestroyVideoParser,
    }
    optional {
        // Newer than the rest (Video Codec SDK 9.0 / 8.2 drivers): callers fall back
        // to waiting on the mapped frame / recreating the decoder.
        cuvidGetDecodeStatus: cuvid::tcuvidGetDecodeStatus,
        cuvidReconfigureDecoder: cuvid::tcuvidReconfigureDecoder,
    }
}

entry_points! {
    /// The two entry points `libnvidia-encode.so.1` exports; everything else of NVENC
    /// is reached through the function list `NvEncodeAPICreateInstance` fills.
    struct NvencApi;
    library: "libnvidia-encode.so.1", "nvenc";
    required {
        NvEncodeAPIGetMaxSupportedVersion: Option<nvenc_ext::PNVENCODEAPIGETMAXSUPPORTEDVERSION>,
        NvEncodeAPICreateInstance: Option<nvenc_ext::PNVENCODEAPICREATEINSTANCE>,
    }
    optional {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a machine without the driver each loader reports which library is missing;
    /// on a machine with it, loading succeeds. Either way nothing panics.
    fn ok_or_names_library<T>(r: Result<&'static T>, soname: &str, what: &str) {
        match r {
            Ok(_) => {}
            Err(Error::Unsupported { what: w, why }) => {
                assert_eq!(w, what);
                assert!(why.contains(soname), "{why}");
            }
            Err(e) => panic!("unexpected error kind: {e}"),
        }
    }

    #[test]
    fn loaders_fail_softly_or_load() {
        ok_or_names_library(CudaApi::get(), "libcuda.so.1", "nvdec");
        ok_or_names_library(CuvidApi::get(), "libnvcuvid.so.1", "nvdec");
        ok_or_names_library(NvencApi::get(), "libnvidia-encode.so.1", "nvenc");
        // A second call returns the remembered outcome.
        assert_eq!(CudaApi::get().is_ok(), CudaApi::get().is_ok());
    }

    #[test]
    fn missing_library_message() {
        let e = open("nvdec", "libvideo-hw-does-not-exist.so.1").unwrap_err();
        assert!(e.to_string().starts_with("unsupported: nvdec: libvideo-hw-does-not-exist.so.1 not found"), "{e}");
    }

    /// Where `libnvidia-encode.so.1` exists, its entry points answer and fill a
    /// function list of the version this build declares.
    #[test]
    fn nvenc_entry_points_when_available() {
        use super::super::sys::nvenc::{NV_ENC_SUCCESS, NV_ENCODE_API_FUNCTION_LIST};
        use super::super::sys::nvenc_versions::{NV_ENCODE_API_FUNCTION_LIST_VER, NVENCAPI_VERSION};
        let Ok(api) = NvencApi::get() else { return };
        let mut max = 0u32;
        // SAFETY: the out-pointer is a live local.
        let r = unsafe { (api.NvEncodeAPIGetMaxSupportedVersion)(&mut max) };
        assert_eq!(r, NV_ENC_SUCCESS);
        // `max` is (major << 4) | minor; this build speaks NVENCAPI_VERSION (major | minor << 24).
        let ours = ((NVENCAPI_VERSION & 0xff) << 4) | (NVENCAPI_VERSION >> 24);
        eprintln!("NVENC max supported API {}.{}, built for {}.{}", max >> 4, max & 0xf, ours >> 4, ours & 0xf);
        if max < ours {
            return;
        }
        let mut list = NV_ENCODE_API_FUNCTION_LIST { version: NV_ENCODE_API_FUNCTION_LIST_VER, ..Default::default() };
        // SAFETY: `list` is a zeroed function list whose `version` is set, as required.
        let r = unsafe { (api.NvEncodeAPICreateInstance)(&mut list) };
        assert_eq!(r, NV_ENC_SUCCESS);
        assert!(list.nvEncOpenEncodeSessionEx.is_some() && list.nvEncEncodePicture.is_some());
    }
}
