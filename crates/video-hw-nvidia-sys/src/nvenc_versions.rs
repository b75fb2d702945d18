//! Hand-written counterparts of the function-like version macros of `nvEncodeAPI.h`,
//! which bindgen cannot expand. Every value is checked against the C compiler's value
//! by the layout test (`VERSIONS` in `layout_expected.rs`).

use super::nvenc::{NVENCAPI_MAJOR_VERSION, NVENCAPI_MINOR_VERSION};

/// `NVENCAPI_VERSION`: the API version passed in `NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS::apiVersion`
/// and compared with `NvEncodeAPIGetMaxSupportedVersion` (major in the low bits, minor << 24).
pub const NVENCAPI_VERSION: u32 = NVENCAPI_MAJOR_VERSION | (NVENCAPI_MINOR_VERSION << 24);

/// `NVENCAPI_STRUCT_VERSION(ver)`: the `version` field value of an NVENC struct of revision `ver`.
pub const fn nvencapi_struct_version(ver: u32) -> u32 {
    NVENCAPI_VERSION | (ver << 16) | (0x7 << 28)
}

/// The extra bit some struct versions carry (`| (1u << 31)` in the header).
const EXT: u32 = 1 << 31;

/// `NV_ENC_CAPS_PARAM_VER`.
pub const NV_ENC_CAPS_PARAM_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_ENCODE_OUT_PARAMS_VER`.
pub const NV_ENC_ENCODE_OUT_PARAMS_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_CREATE_INPUT_BUFFER_VER`.
pub const NV_ENC_CREATE_INPUT_BUFFER_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_CREATE_BITSTREAM_BUFFER_VER`.
pub const NV_ENC_CREATE_BITSTREAM_BUFFER_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_CREATE_MV_BUFFER_VER`.
pub const NV_ENC_CREATE_MV_BUFFER_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_RC_PARAMS_VER`.
pub const NV_ENC_RC_PARAMS_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_CONFIG_VER`.
pub const NV_ENC_CONFIG_VER: u32 = nvencapi_struct_version(7) | EXT;
/// `NV_ENC_INITIALIZE_PARAMS_VER`.
pub const NV_ENC_INITIALIZE_PARAMS_VER: u32 = nvencapi_struct_version(5) | EXT;
/// `NV_ENC_RECONFIGURE_PARAMS_VER`.
pub const NV_ENC_RECONFIGURE_PARAMS_VER: u32 = nvencapi_struct_version(1) | EXT;
/// `NV_ENC_PRESET_CONFIG_VER`.
pub const NV_ENC_PRESET_CONFIG_VER: u32 = nvencapi_struct_version(4) | EXT;
/// `NV_ENC_PIC_PARAMS_MVC_VER`.
pub const NV_ENC_PIC_PARAMS_MVC_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_PIC_PARAMS_VER`.
pub const NV_ENC_PIC_PARAMS_VER: u32 = nvencapi_struct_version(4) | EXT;
/// `NV_ENC_MEONLY_PARAMS_VER`.
pub const NV_ENC_MEONLY_PARAMS_VER: u32 = nvencapi_struct_version(3);
/// `NV_ENC_LOCK_BITSTREAM_VER`.
pub const NV_ENC_LOCK_BITSTREAM_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_LOCK_INPUT_BUFFER_VER`.
pub const NV_ENC_LOCK_INPUT_BUFFER_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_MAP_INPUT_RESOURCE_VER`.
pub const NV_ENC_MAP_INPUT_RESOURCE_VER: u32 = nvencapi_struct_version(4);
/// `NV_ENC_REGISTER_RESOURCE_VER`.
pub const NV_ENC_REGISTER_RESOURCE_VER: u32 = nvencapi_struct_version(3);
/// `NV_ENC_STAT_VER`.
pub const NV_ENC_STAT_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_SEQUENCE_PARAM_PAYLOAD_VER`.
pub const NV_ENC_SEQUENCE_PARAM_PAYLOAD_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_EVENT_PARAMS_VER`.
pub const NV_ENC_EVENT_PARAMS_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER`.
pub const NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER: u32 = nvencapi_struct_version(1);
/// `NV_ENCODE_API_FUNCTION_LIST_VER`.
pub const NV_ENCODE_API_FUNCTION_LIST_VER: u32 = nvencapi_struct_version(2);
