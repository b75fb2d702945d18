//! Hand-written: the two entry points `libnvidia-encode.so.1` exports. `nvEncodeAPI.h`
//! declares them as functions (no typedef), and this crate never links against them;
//! the loader resolves them with `dlsym` into these pointer types.

use super::nvenc::{NV_ENCODE_API_FUNCTION_LIST, NVENCSTATUS};

/// `NVENCSTATUS NvEncodeAPIGetMaxSupportedVersion(uint32_t *version)`: the highest API
/// version the installed driver supports, encoded as `(major << 4) | minor`.
pub type PNVENCODEAPIGETMAXSUPPORTEDVERSION = unsafe extern "C" fn(version: *mut u32) -> NVENCSTATUS;

/// `NVENCSTATUS NvEncodeAPICreateInstance(NV_ENCODE_API_FUNCTION_LIST *functionList)`: fills
/// the function table (whose `version` must be `NV_ENCODE_API_FUNCTION_LIST_VER`).
pub type PNVENCODEAPICREATEINSTANCE =
    unsafe extern "C" fn(functionList: *mut NV_ENCODE_API_FUNCTION_LIST) -> NVENCSTATUS;
