//! The NVENC function table (`NV_ENCODE_API_FUNCTION_LIST`) behind thin, typed wrappers.
//!
//! The table is an injected dependency of the encode engine: [`Api::get`] fills it once per
//! process from `libnvidia-encode.so.1` (`NvEncodeAPIGetMaxSupportedVersion`, checked
//! against the API version this build speaks, then `NvEncodeAPICreateInstance`); the tests
//! build one from the FAKE entry points of `fake.rs` instead. Every wrapper returns a
//! [`Failure`] carrying the raw `NVENCSTATUS`, which the session turns into a typed
//! [`Error`] with [`Failure::into_error`] (it knows which GPU and which phase).

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use super::super::loader::NvencApi;
use super::super::sys::nvenc::*;
use super::super::sys::nvenc_versions::*;
use crate::error::{Error, Result};

/// The API version this build speaks, encoded as `NvEncodeAPIGetMaxSupportedVersion`
/// reports versions: `(major << 4) | minor` (11.1 → `0xb1`).
pub(crate) const BUILD_API_VERSION: u32 = (NVENCAPI_MAJOR_VERSION << 4) | NVENCAPI_MINOR_VERSION;

/// The oldest Linux driver release with NVENC API 11.1 (Video Codec SDK 11.1).
pub(crate) const MIN_LINUX_DRIVER: &str = "470.57.02";

/// "NVENC API 11.1" for a version encoded as `(major << 4) | minor`.
pub(crate) fn version_name(v: u32) -> String {
    format!("NVENC API {}.{}", v >> 4, v & 0xf)
}

/// `Err(DriverTooOld)` when the driver's highest NVENC API version (`(major << 4) | minor`)
/// is older than the one this build speaks.
pub(crate) fn check_version(driver: u32) -> Result<()> {
    if driver < BUILD_API_VERSION {
        return Err(Error::DriverTooOld { required: required_version(), found: version_name(driver) });
    }
    Ok(())
}

/// What `DriverTooOld` says is required.
pub(crate) fn required_version() -> String {
    format!("{} (Linux driver {MIN_LINUX_DRIVER} or newer)", version_name(BUILD_API_VERSION))
}

/// Builds a `(code, "NAME")` table from constant names.
macro_rules! status_names {
    ($($name:ident),* $(,)?) => {
        &[$(($name, stringify!($name))),*]
    };
}

/// Every `NVENCSTATUS` of API 11.1 by name.
const STATUS_NAMES: &[(NVENCSTATUS, &str)] = status_names![
    NV_ENC_SUCCESS,
    NV_ENC_ERR_NO_ENCODE_DEVICE,
    NV_ENC_ERR_UNSUPPORTED_DEVICE,
    NV_ENC_ERR_INVALID_ENCODERDEVICE,
    NV_ENC_ERR_INVALID_DEVICE,
    NV_ENC_ERR_DEVICE_NOT_EXIST,
    NV_ENC_ERR_INVALID_PTR,
    NV_ENC_ERR_INVALID_EVENT,
    NV_ENC_ERR_INVALID_PARAM,
    NV_ENC_ERR_INVALID_CALL,
    NV_ENC_ERR_OUT_OF_MEMORY,
    NV_ENC_ERR_ENCODER_NOT_INITIALIZED,
    NV_ENC_ERR_UNSUPPORTED_PARAM,
    NV_ENC_ERR_LOCK_BUSY,
    NV_ENC_ERR_NOT_ENOUGH_BUFFER,
    NV_ENC_ERR_INVALID_VERSION,
    NV_ENC_ERR_MAP_FAILED,
    NV_ENC_ERR_NEED_MORE_INPUT,
    NV_ENC_ERR_ENCODER_BUSY,
    NV_ENC_ERR_EVENT_NOT_REGISTERD,
    NV_ENC_ERR_GENERIC,
    NV_ENC_ERR_INCOMPATIBLE_CLIENT_KEY,
    NV_ENC_ERR_UNIMPLEMENTED,
    NV_ENC_ERR_RESOURCE_REGISTER_FAILED,
    NV_ENC_ERR_RESOURCE_NOT_REGISTERED,
    NV_ENC_ERR_RESOURCE_NOT_MAPPED,
];

/// The name of an `NVENCSTATUS` (`NV_ENC_ERR_INVALID_PARAM`, …; unknown codes as
/// `NVENCSTATUS(n)`).
pub(crate) fn status_name(status: NVENCSTATUS) -> String {
    match STATUS_NAMES.iter().find(|(c, _)| *c == status) {
        Some((_, name)) => (*name).to_owned(),
        None => format!("NVENCSTATUS({status})"),
    }
}

/// An opaque NVENC object: the encoder session, an input or bitstream buffer, a
/// registered or mapped resource. Never dereferenced in Rust.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Handle(pub(crate) *mut c_void);

// SAFETY: the pointer is an opaque driver handle that Rust never dereferences; NVENC
// accepts its handles from any thread (the session serialises the calls it documents as
// needing it: encode and parameter queries on one thread, bitstream locks on another).
unsafe impl Send for Handle {}
// SAFETY: as above; a `&Handle` only gives out the pointer value.
unsafe impl Sync for Handle {}

impl Handle {
    /// The null handle.
    pub(crate) const NULL: Handle = Handle(ptr::null_mut());

    /// Whether the handle is null.
    pub(crate) fn is_null(self) -> bool {
        self.0.is_null()
    }
}

/// When in a session's life a call failed: a few codes mean something else at open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// `nvEncOpenEncodeSessionEx` (a refused session is a session limit).
    Open,
    /// Anything after the session is open.
    Run,
}

/// A failed NVENC call: which one, its status, and the driver's last error string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The entry point that failed (`nvEncEncodePicture`, …).
    pub(crate) call: &'static str,
    /// Its return value.
    pub(crate) status: NVENCSTATUS,
    /// `nvEncGetLastErrorString`, when the driver has it and said something.
    pub(crate) detail: Option<String>,
}

/// Result of an NVENC call before it is given a GPU and a phase.
pub(crate) type CallResult<T> = std::result::Result<T, Failure>;

impl Failure {
    /// The typed [`Error`] of this failure on `gpu` ("GPU 0 (NVIDIA H200)"):
    ///
    /// | status | error |
    /// |---|---|
    /// | `NV_ENC_ERR_NO_ENCODE_DEVICE`, `NV_ENC_ERR_UNSUPPORTED_DEVICE` | `Unsupported` ("GPU 0 (…) has no NVENC (…)") |
    /// | `NV_ENC_ERR_OUT_OF_MEMORY`, `NV_ENC_ERR_INCOMPATIBLE_CLIENT_KEY` at open | `SessionLimit` |
    /// | `NV_ENC_ERR_INVALID_VERSION` | `DriverTooOld` |
    /// | `NV_ENC_ERR_DEVICE_NOT_EXIST` | `DeviceLost` |
    /// | `NV_ENC_ERR_UNIMPLEMENTED` with no such entry point in the driver's table | `Unsupported` |
    /// | anything else | `Backend { engine: "nvenc", code: <status name>, .. }` |
    pub(crate) fn into_error(self, gpu: &str, driver_version: u32, phase: Phase) -> Error {
        let name = status_name(self.status);
        let detail = match &self.detail {
            Some(d) if !d.is_empty() => format!("{}: {d}", self.call),
            _ => self.call.to_owned(),
        };
        match (self.status, phase) {
            (NV_ENC_ERR_NO_ENCODE_DEVICE | NV_ENC_ERR_UNSUPPORTED_DEVICE, _) => {
                Error::unsupported("nvenc", format!("{gpu} has no NVENC ({name})"))
            }
            (NV_ENC_ERR_OUT_OF_MEMORY | NV_ENC_ERR_INCOMPATIBLE_CLIENT_KEY, Phase::Open) => {
                Error::SessionLimit(format!(
                    "{gpu} refused another NVENC session ({name}; consumer GPUs allow only a few concurrent encode sessions)"
                ))
            }
            (NV_ENC_ERR_INVALID_VERSION, _) => Error::DriverTooOld {
                required: required_version(),
                found: format!(
                    "{} (the driver rejected a structure version in {})",
                    version_name(driver_version),
                    self.call
                ),
            },
            (NV_ENC_ERR_DEVICE_NOT_EXIST, _) => Error::DeviceLost(format!("nvenc: {gpu}: {detail} ({name})")),
            (NV_ENC_ERR_UNIMPLEMENTED, _) if self.detail.as_deref() == Some(MISSING) => Error::unsupported(
                "nvenc",
                format!("the driver's NVENC function table has no {} (driver too old?)", self.call),
            ),
            _ => Error::backend("nvenc", name, detail),
        }
    }
}

/// The detail of a [`Failure`] for an entry point the driver's table lacks.
const MISSING: &str = "entry point missing from the function table";

/// The entry point `f`, or a failure naming it.
fn entry<F: Copy>(f: Option<F>, call: &'static str) -> CallResult<F> {
    f.ok_or(Failure { call, status: NV_ENC_ERR_UNIMPLEMENTED, detail: Some(MISSING.to_owned()) })
}

/// What one locked output bitstream held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bitstream {
    /// The access unit, Annex-B, as NVENC wrote it.
    pub(crate) data: Vec<u8>,
    /// `outputTimeStamp`: the `inputTimeStamp` of the picture coded into this buffer.
    pub(crate) timestamp: u64,
    /// `pictureType` (`NV_ENC_PIC_TYPE_*`).
    pub(crate) picture_type: NV_ENC_PIC_TYPE,
}

/// The NVENC entry points, filled by `NvEncodeAPICreateInstance` (or by a test's fake).
pub(crate) struct Api {
    list: NV_ENCODE_API_FUNCTION_LIST,
    /// The driver's highest API version, `(major << 4) | minor`.
    driver_version: u32,
}

// SAFETY: the table is written once before the `Api` is shared and only read afterwards;
// its function pointers may be called from any thread, and its raw `reserved` pointers
// are never dereferenced.
unsafe impl Send for Api {}
// SAFETY: as above: `&Api` gives read-only access to an immutable table.
unsafe impl Sync for Api {}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("driver", &version_name(self.driver_version)).finish_non_exhaustive()
    }
}

/// A remembered load failure (`Error` is not `Clone`).
#[derive(Clone)]
enum LoadFailure {
    Unsupported(String, String),
    TooOld(String, String),
    Other(String, String, String),
}

impl LoadFailure {
    fn from_error(e: Error) -> Self {
        match e {
            Error::Unsupported { what, why } => LoadFailure::Unsupported(what, why),
            Error::DriverTooOld { required, found } => LoadFailure::TooOld(required, found),
            Error::Backend { engine, code, message } => LoadFailure::Other(engine, code, message),
            other => LoadFailure::Other("nvenc".into(), "load".into(), other.to_string()),
        }
    }

    fn to_error(&self) -> Error {
        match self.clone() {
            LoadFailure::Unsupported(what, why) => Error::Unsupported { what, why },
            LoadFailure::TooOld(required, found) => Error::DriverTooOld { required, found },
            LoadFailure::Other(engine, code, message) => Error::Backend { engine, code, message },
        }
    }
}

impl Api {
    /// Wraps a function table (the real one or a test's fake) and the driver's API version.
    pub(crate) fn from_list(list: NV_ENCODE_API_FUNCTION_LIST, driver_version: u32) -> Api {
        Api { list, driver_version }
    }

    /// The process-wide table: loads `libnvidia-encode.so.1`, checks the driver's API
    /// version against [`BUILD_API_VERSION`] and creates the instance, once; the outcome,
    /// failure included, is remembered.
    pub(crate) fn get() -> Result<&'static Api> {
        static CELL: OnceLock<std::result::Result<Api, LoadFailure>> = OnceLock::new();
        match CELL.get_or_init(|| Api::load().map_err(LoadFailure::from_error)) {
            Ok(api) => Ok(api),
            Err(f) => Err(f.to_error()),
        }
    }

    fn load() -> Result<Api> {
        let lib = NvencApi::get()?;
        let mut max = 0u32;
        // SAFETY: the out-pointer is a live local; the entry point takes nothing else.
        let r = unsafe { (lib.NvEncodeAPIGetMaxSupportedVersion)(&mut max) };
        if r != NV_ENC_SUCCESS {
            return Err(Error::backend("nvenc", status_name(r), "NvEncodeAPIGetMaxSupportedVersion"));
        }
        check_version(max)?;
        let mut list = NV_ENCODE_API_FUNCTION_LIST { version: NV_ENCODE_API_FUNCTION_LIST_VER, ..Default::default() };
        // SAFETY: `list` is a zeroed function list whose `version` is set, as the header requires.
        let r = unsafe { (lib.NvEncodeAPICreateInstance)(&mut list) };
        match r {
            NV_ENC_SUCCESS => Ok(Api { list, driver_version: max }),
            NV_ENC_ERR_INVALID_VERSION => {
                Err(Error::DriverTooOld { required: required_version(), found: version_name(max) })
            }
            other => Err(Error::backend("nvenc", status_name(other), "NvEncodeAPICreateInstance")),
        }
    }

    /// The driver's highest API version, `(major << 4) | minor`.
    pub(crate) fn driver_version(&self) -> u32 {
        self.driver_version
    }

    /// `nvEncGetLastErrorString` for `encoder`, when the driver has it.
    pub(crate) fn last_error(&self, encoder: Handle) -> Option<String> {
        let f = self.list.nvEncGetLastErrorString?;
        if encoder.is_null() {
            return None;
        }
        // SAFETY: `encoder` is a live session handle; the call takes nothing else.
        let p = unsafe { f(encoder.0) };
        if p.is_null() {
            return None;
        }
        // SAFETY: the driver returns a NUL-terminated string that stays valid until the
        // next call on this session; it is copied out at once.
        let s = unsafe { CStr::from_ptr(p) };
        Some(s.to_string_lossy().trim().to_owned())
    }

    /// `Ok(())` for `NV_ENC_SUCCESS`, else the failure of `call`.
    fn check(&self, encoder: Handle, status: NVENCSTATUS, call: &'static str) -> CallResult<()> {
        if status == NV_ENC_SUCCESS { Ok(()) } else { Err(Failure { call, status, detail: self.last_error(encoder) }) }
    }

    /// The failure of `call` with `status` (for callers that look at the status first).
    pub(crate) fn failure(&self, encoder: Handle, status: NVENCSTATUS, call: &'static str) -> Failure {
        Failure { call, status, detail: self.last_error(encoder) }
    }

    /// `nvEncOpenEncodeSessionEx` on a CUDA context (`device`).
    pub(crate) fn open_session(&self, device: *mut c_void) -> CallResult<Handle> {
        let f = entry(self.list.nvEncOpenEncodeSessionEx, "nvEncOpenEncodeSessionEx")?;
        let mut params = NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS {
            version: NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER,
            deviceType: NV_ENC_DEVICE_TYPE_CUDA,
            device,
            apiVersion: NVENCAPI_VERSION,
            ..Default::default()
        };
        let mut encoder: *mut c_void = ptr::null_mut();
        // SAFETY: `params` is fully initialised with its version set; the out-pointer is a
        // live local; `device` is a CUDA context the caller keeps alive for the session.
        let r = unsafe { f(&mut params, &mut encoder) };
        if r != NV_ENC_SUCCESS {
            // The driver may hand back a half-open session to query errors on; it must
            // still be destroyed.
            let detail = self.last_error(Handle(encoder));
            if !encoder.is_null() {
                self.destroy(Handle(encoder));
            }
            return Err(Failure { call: "nvEncOpenEncodeSessionEx", status: r, detail });
        }
        if encoder.is_null() {
            return Err(Failure { call: "nvEncOpenEncodeSessionEx", status: NV_ENC_ERR_INVALID_PTR, detail: None });
        }
        Ok(Handle(encoder))
    }

    /// `nvEncDestroyEncoder`; failures are logged (it runs from `Drop`).
    pub(crate) fn destroy(&self, encoder: Handle) {
        let Some(f) = self.list.nvEncDestroyEncoder else { return };
        // SAFETY: `encoder` is a live session destroyed exactly once by its owner.
        let r = unsafe { f(encoder.0) };
        if r != NV_ENC_SUCCESS {
            tracing::warn!("nvEncDestroyEncoder: {}", status_name(r));
        }
    }

    /// The codecs the session can encode (`nvEncGetEncodeGUIDCount` + `nvEncGetEncodeGUIDs`).
    pub(crate) fn encode_guids(&self, encoder: Handle) -> CallResult<Vec<GUID>> {
        let count_fn = entry(self.list.nvEncGetEncodeGUIDCount, "nvEncGetEncodeGUIDCount")?;
        let list_fn = entry(self.list.nvEncGetEncodeGUIDs, "nvEncGetEncodeGUIDs")?;
        let mut count = 0u32;
        // SAFETY: live session; the out-pointer is a live local.
        let r = unsafe { count_fn(encoder.0, &mut count) };
        self.check(encoder, r, "nvEncGetEncodeGUIDCount")?;
        let mut guids = vec![GUID::default(); count.min(64) as usize];
        let mut got = 0u32;
        // SAFETY: `guids` holds `guids.len()` writable GUIDs, which is the array size passed.
        let r = unsafe { list_fn(encoder.0, guids.as_mut_ptr(), guids.len() as u32, &mut got) };
        self.check(encoder, r, "nvEncGetEncodeGUIDs")?;
        guids.truncate(got as usize);
        Ok(guids)
    }

    /// The profiles of `codec` (`nvEncGetEncodeProfileGUIDCount` + `nvEncGetEncodeProfileGUIDs`).
    pub(crate) fn profile_guids(&self, encoder: Handle, codec: GUID) -> CallResult<Vec<GUID>> {
        let count_fn = entry(self.list.nvEncGetEncodeProfileGUIDCount, "nvEncGetEncodeProfileGUIDCount")?;
        let list_fn = entry(self.list.nvEncGetEncodeProfileGUIDs, "nvEncGetEncodeProfileGUIDs")?;
        let mut count = 0u32;
        // SAFETY: live session; the GUID is passed by value; the out-pointer is a live local.
        let r = unsafe { count_fn(encoder.0, codec, &mut count) };
        self.check(encoder, r, "nvEncGetEncodeProfileGUIDCount")?;
        let mut guids = vec![GUID::default(); count.min(64) as usize];
        let mut got = 0u32;
        // SAFETY: `guids` holds `guids.len()` writable GUIDs, which is the array size passed.
        let r = unsafe { list_fn(encoder.0, codec, guids.as_mut_ptr(), guids.len() as u32, &mut got) };
        self.check(encoder, r, "nvEncGetEncodeProfileGUIDs")?;
        guids.truncate(got as usize);
        Ok(guids)
    }

    /// One capability value (`nvEncGetEncodeCaps`).
    pub(crate) fn cap(&self, encoder: Handle, codec: GUID, cap: NV_ENC_CAPS) -> CallResult<i32> {
        let f = entry(self.list.nvEncGetEncodeCaps, "nvEncGetEncodeCaps")?;
        let mut param = NV_ENC_CAPS_PARAM { version: NV_ENC_CAPS_PARAM_VER, capsToQuery: cap, ..Default::default() };
        let mut value: c_int = 0;
        // SAFETY: live session; `param` is initialised with its version; the out-pointer is
        // a live local.
        let r = unsafe { f(encoder.0, codec, &mut param, &mut value) };
        self.check(encoder, r, "nvEncGetEncodeCaps")?;
        Ok(value)
    }

    /// The configuration of `preset` tuned for `tuning` (`nvEncGetEncodePresetConfigEx`).
    pub(crate) fn preset_config(
        &self,
        encoder: Handle,
        codec: GUID,
        preset: GUID,
        tuning: NV_ENC_TUNING_INFO,
    ) -> CallResult<NV_ENC_CONFIG> {
        let f = entry(self.list.nvEncGetEncodePresetConfigEx, "nvEncGetEncodePresetConfigEx")?;
        let mut out = NV_ENC_PRESET_CONFIG { version: NV_ENC_PRESET_CONFIG_VER, ..Default::default() };
        out.presetCfg.version = NV_ENC_CONFIG_VER;
        // SAFETY: live session; GUIDs by value; `out` is a zeroed preset config whose own
        // and inner versions are set, as the header requires.
        let r = unsafe { f(encoder.0, codec, preset, tuning, &mut out) };
        self.check(encoder, r, "nvEncGetEncodePresetConfigEx")?;
        Ok(out.presetCfg)
    }

    /// `nvEncInitializeEncoder`. `params.encodeConfig` must point to a live config.
    pub(crate) fn initialize(&self, encoder: Handle, params: &mut NV_ENC_INITIALIZE_PARAMS) -> CallResult<()> {
        let f = entry(self.list.nvEncInitializeEncoder, "nvEncInitializeEncoder")?;
        // SAFETY: live session; `params` is fully initialised and its `encodeConfig`
        // points to a config the caller keeps alive for this call.
        let r = unsafe { f(encoder.0, params) };
        self.check(encoder, r, "nvEncInitializeEncoder")
    }

    /// `nvEncReconfigureEncoder`. `params.reInitEncodeParams.encodeConfig` must point to a
    /// live config.
    pub(crate) fn reconfigure(&self, encoder: Handle, params: &mut NV_ENC_RECONFIGURE_PARAMS) -> CallResult<()> {
        let f = entry(self.list.nvEncReconfigureEncoder, "nvEncReconfigureEncoder")?;
        // SAFETY: live session; `params` is fully initialised and points to a config the
        // caller keeps alive for this call.
        let r = unsafe { f(encoder.0, params) };
        self.check(encoder, r, "nvEncReconfigureEncoder")
    }

    /// An input buffer of `width` x `height` in `format` (`nvEncCreateInputBuffer`).
    pub(crate) fn create_input_buffer(
        &self,
        encoder: Handle,
        width: u32,
        height: u32,
        format: NV_ENC_BUFFER_FORMAT,
    ) -> CallResult<Handle> {
        let f = entry(self.list.nvEncCreateInputBuffer, "nvEncCreateInputBuffer")?;
        let mut p = NV_ENC_CREATE_INPUT_BUFFER {
            version: NV_ENC_CREATE_INPUT_BUFFER_VER,
            width,
            height,
            bufferFmt: format,
            ..Default::default()
        };
        // SAFETY: live, initialised session; `p` is initialised with its version.
        let r = unsafe { f(encoder.0, &mut p) };
        self.check(encoder, r, "nvEncCreateInputBuffer")?;
        Ok(Handle(p.inputBuffer))
    }

    /// `nvEncDestroyInputBuffer`; logged on failure.
    pub(crate) fn destroy_input_buffer(&self, encoder: Handle, buffer: Handle) {
        let Some(f) = self.list.nvEncDestroyInputBuffer else { return };
        // SAFETY: live session; `buffer` came from nvEncCreateInputBuffer and is destroyed once.
        let r = unsafe { f(encoder.0, buffer.0) };
        if r != NV_ENC_SUCCESS {
            tracing::warn!("nvEncDestroyInputBuffer: {}", status_name(r));
        }
    }

    /// An output bitstream buffer (`nvEncCreateBitstreamBuffer`).
    pub(crate) fn create_bitstream_buffer(&self, encoder: Handle) -> CallResult<Handle> {
        let f = entry(self.list.nvEncCreateBitstreamBuffer, "nvEncCreateBitstreamBuffer")?;
        let mut p =
            NV_ENC_CREATE_BITSTREAM_BUFFER { version: NV_ENC_CREATE_BITSTREAM_BUFFER_VER, ..Default::default() };
        // SAFETY: live, initialised session; `p` is initialised with its version.
        let r = unsafe { f(encoder.0, &mut p) };
        self.check(encoder, r, "nvEncCreateBitstreamBuffer")?;
        Ok(Handle(p.bitstreamBuffer))
    }

    /// `nvEncDestroyBitstreamBuffer`; logged on failure.
    pub(crate) fn destroy_bitstream_buffer(&self, encoder: Handle, buffer: Handle) {
        let Some(f) = self.list.nvEncDestroyBitstreamBuffer else { return };
        // SAFETY: live session; `buffer` came from nvEncCreateBitstreamBuffer and is destroyed once.
        let r = unsafe { f(encoder.0, buffer.0) };
        if r != NV_ENC_SUCCESS {
            tracing::warn!("nvEncDestroyBitstreamBuffer: {}", status_name(r));
        }
    }

    /// Locks an input buffer for writing: its address and pitch (`nvEncLockInputBuffer`).
    pub(crate) fn lock_input(&self, encoder: Handle, buffer: Handle) -> CallResult<(*mut u8, usize)> {
        let f = entry(self.list.nvEncLockInputBuffer, "nvEncLockInputBuffer")?;
        let mut p = NV_ENC_LOCK_INPUT_BUFFER {
            version: NV_ENC_LOCK_INPUT_BUFFER_VER,
            inputBuffer: buffer.0,
            ..Default::default()
        };
        // SAFETY: live session; `p` is initialised with its version and a buffer of this session.
        let r = unsafe { f(encoder.0, &mut p) };
        self.check(encoder, r, "nvEncLockInputBuffer")?;
        if p.bufferDataPtr.is_null() {
            return Err(Failure { call: "nvEncLockInputBuffer", status: NV_ENC_ERR_INVALID_PTR, detail: None });
        }
        Ok((p.bufferDataPtr.cast::<u8>(), p.pitch as usize))
    }

    /// `nvEncUnlockInputBuffer`.
    pub(crate) fn unlock_input(&self, encoder: Handle, buffer: Handle) -> CallResult<()> {
        let f = entry(self.list.nvEncUnlockInputBuffer, "nvEncUnlockInputBuffer")?;
        // SAFETY: live session; `buffer` is an input buffer of it locked by `lock_input`.
        let r = unsafe { f(encoder.0, buffer.0) };
        self.check(encoder, r, "nvEncUnlockInputBuffer")
    }

    /// `nvEncEncodePicture`, returning the raw status: `NV_ENC_ERR_NEED_MORE_INPUT` and
    /// `NV_ENC_ERR_ENCODER_BUSY` are not failures to the caller.
    pub(crate) fn encode(&self, encoder: Handle, params: &mut NV_ENC_PIC_PARAMS) -> NVENCSTATUS {
        let Some(f) = self.list.nvEncEncodePicture else { return NV_ENC_ERR_UNIMPLEMENTED };
        // SAFETY: live session; `params` is fully initialised; the buffers it names belong
        // to this session and stay alive until their output has been locked.
        unsafe { f(encoder.0, params) }
    }

    /// Locks `output`, copies what NVENC wrote and unlocks it (`nvEncLockBitstream`, which
    /// waits for the picture, then `nvEncUnlockBitstream`).
    pub(crate) fn read_bitstream(&self, encoder: Handle, output: Handle) -> CallResult<Bitstream> {
        let lock = entry(self.list.nvEncLockBitstream, "nvEncLockBitstream")?;
        let unlock = entry(self.list.nvEncUnlockBitstream, "nvEncUnlockBitstream")?;
        let mut p = NV_ENC_LOCK_BITSTREAM { version: NV_ENC_LOCK_BITSTREAM_VER, ..Default::default() };
        p.outputBitstream = output.0;
        // SAFETY: live session; `p` is initialised with its version (doNotWait = 0: the call
        // blocks until the picture is coded) and names a bitstream buffer of this session.
        let r = unsafe { lock(encoder.0, &mut p) };
        self.check(encoder, r, "nvEncLockBitstream")?;
        let len = p.bitstreamSizeInBytes as usize;
        let data = if len == 0 || p.bitstreamBufferPtr.is_null() {
            Vec::new()
        } else {
            // SAFETY: while locked, `bitstreamBufferPtr` points to `bitstreamSizeInBytes`
            // readable bytes written by NVENC; they are copied before the unlock below.
            unsafe { std::slice::from_raw_parts(p.bitstreamBufferPtr.cast::<u8>(), len) }.to_vec()
        };
        // SAFETY: unlocks the buffer locked above, exactly once; no view of it remains.
        let r = unsafe { unlock(encoder.0, output.0) };
        self.check(encoder, r, "nvEncUnlockBitstream")?;
        Ok(Bitstream { data, timestamp: p.outputTimeStamp, picture_type: p.pictureType })
    }

    /// `nvEncRegisterResource`: the registered handle.
    pub(crate) fn register(&self, encoder: Handle, params: &mut NV_ENC_REGISTER_RESOURCE) -> CallResult<Handle> {
        let f = entry(self.list.nvEncRegisterResource, "nvEncRegisterResource")?;
        // SAFETY: live session; `params` is fully initialised with its version and names a
        // device allocation the caller keeps alive until it is unregistered.
        let r = unsafe { f(encoder.0, params) };
        self.check(encoder, r, "nvEncRegisterResource")?;
        Ok(Handle(params.registeredResource))
    }

    /// `nvEncUnregisterResource`; logged on failure.
    pub(crate) fn unregister(&self, encoder: Handle, registered: Handle) {
        let Some(f) = self.list.nvEncUnregisterResource else { return };
        // SAFETY: live session; `registered` came from nvEncRegisterResource, is not mapped
        // and is unregistered once.
        let r = unsafe { f(encoder.0, registered.0) };
        if r != NV_ENC_SUCCESS {
            tracing::warn!("nvEncUnregisterResource: {}", status_name(r));
        }
    }

    /// `nvEncMapInputResource`: the input pointer to encode from and its buffer format.
    pub(crate) fn map(&self, encoder: Handle, registered: Handle) -> CallResult<(Handle, NV_ENC_BUFFER_FORMAT)> {
        let f = entry(self.list.nvEncMapInputResource, "nvEncMapInputResource")?;
        let mut p = NV_ENC_MAP_INPUT_RESOURCE {
            version: NV_ENC_MAP_INPUT_RESOURCE_VER,
            registeredResource: registered.0,
            ..Default::default()
        };
        // SAFETY: live session; `p` is initialised with its version and a registered resource.
        let r = unsafe { f(encoder.0, &mut p) };
        self.check(encoder, r, "nvEncMapInputResource")?;
        Ok((Handle(p.mappedResource), p.mappedBufferFmt))
    }

    /// `nvEncUnmapInputResource`.
    pub(crate) fn unmap(&self, encoder: Handle, mapped: Handle) -> CallResult<()> {
        let f = entry(self.list.nvEncUnmapInputResource, "nvEncUnmapInputResource")?;
        // SAFETY: live session; `mapped` came from nvEncMapInputResource and the picture
        // encoded from it has been locked out.
        let r = unsafe { f(encoder.0, mapped.0) };
        self.check(encoder, r, "nvEncUnmapInputResource")
    }

    /// The Annex-B sequence header (SPS/PPS, plus VPS for HEVC) the session writes
    /// (`nvEncGetSequenceParams`).
    pub(crate) fn sequence_params(&self, encoder: Handle) -> CallResult<Vec<u8>> {
        let f = entry(self.list.nvEncGetSequenceParams, "nvEncGetSequenceParams")?;
        // NV_MAX_SEQ_HDR_LEN (512) is the header's bound; twice that leaves room.
        let mut buf = vec![0u8; 2 * NV_MAX_SEQ_HDR_LEN as usize];
        let mut size = 0u32;
        let mut p = NV_ENC_SEQUENCE_PARAM_PAYLOAD {
            version: NV_ENC_SEQUENCE_PARAM_PAYLOAD_VER,
            inBufferSize: buf.len() as u32,
            spsppsBuffer: buf.as_mut_ptr().cast::<c_void>(),
            outSPSPPSPayloadSize: &mut size,
            ..Default::default()
        };
        // SAFETY: live session; `p` is initialised with its version and points to `buf`
        // (`inBufferSize` bytes) and to `size`, both alive for the call.
        let r = unsafe { f(encoder.0, &mut p) };
        self.check(encoder, r, "nvEncGetSequenceParams")?;
        buf.truncate((size as usize).min(buf.len()));
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_encoding() {
        assert_eq!(BUILD_API_VERSION, 0xb1);
        assert!(check_version(0xb1).is_ok());
        assert!(check_version(0xc0).is_ok());
        match check_version(0xb0).unwrap_err() {
            Error::DriverTooOld { required, found } => {
                assert_eq!(found, "NVENC API 11.0");
                assert!(required.starts_with("NVENC API 11.1"), "{required}");
            }
            e => panic!("{e}"),
        }
        assert_eq!(check_version(0x90).unwrap_err().exit_code(), 3);
    }

    #[test]
    fn status_names_are_complete_and_unique() {
        for s in 0..=25 {
            assert!(status_name(s).starts_with("NV_ENC_"), "{s}");
        }
        assert_eq!(status_name(8), "NV_ENC_ERR_INVALID_PARAM");
        assert_eq!(status_name(99), "NVENCSTATUS(99)");
        for (i, (c, n)) in STATUS_NAMES.iter().enumerate() {
            assert!(STATUS_NAMES[i + 1..].iter().all(|(c2, _)| c2 != c), "{n} listed twice");
        }
    }

    #[test]
    fn failures_map_to_typed_errors() {
        let gpu = "GPU 0 (NVIDIA H200)";
        let f = |status| Failure { call: "nvEncOpenEncodeSessionEx", status, detail: None };
        match f(NV_ENC_ERR_UNSUPPORTED_DEVICE).into_error(gpu, 0xc0, Phase::Open) {
            Error::Unsupported { what, why } => {
                assert_eq!(what, "nvenc");
                assert_eq!(why, "GPU 0 (NVIDIA H200) has no NVENC (NV_ENC_ERR_UNSUPPORTED_DEVICE)");
            }
            e => panic!("{e}"),
        }
        assert!(matches!(f(NV_ENC_ERR_NO_ENCODE_DEVICE).into_error(gpu, 0xc0, Phase::Run), Error::Unsupported { .. }));
        for s in [NV_ENC_ERR_OUT_OF_MEMORY, NV_ENC_ERR_INCOMPATIBLE_CLIENT_KEY] {
            assert!(matches!(f(s).into_error(gpu, 0xc0, Phase::Open), Error::SessionLimit(_)), "{s}");
        }
        match f(NV_ENC_ERR_OUT_OF_MEMORY).into_error(gpu, 0xc0, Phase::Run) {
            Error::Backend { code, .. } => assert_eq!(code, "NV_ENC_ERR_OUT_OF_MEMORY"),
            e => panic!("{e}"),
        }
        assert!(matches!(f(NV_ENC_ERR_INVALID_VERSION).into_error(gpu, 0xb1, Phase::Run), Error::DriverTooOld { .. }));
        assert!(matches!(f(NV_ENC_ERR_DEVICE_NOT_EXIST).into_error(gpu, 0xc0, Phase::Run), Error::DeviceLost(_)));
        let e =
            Failure { call: "nvEncEncodePicture", status: NV_ENC_ERR_INVALID_PARAM, detail: Some("bad pitch".into()) }
                .into_error(gpu, 0xc0, Phase::Run);
        match e {
            Error::Backend { engine, code, message } => {
                assert_eq!(engine, "nvenc");
                assert_eq!(code, "NV_ENC_ERR_INVALID_PARAM");
                assert_eq!(message, "nvEncEncodePicture: bad pitch");
            }
            e => panic!("{e}"),
        }
        let missing = entry::<fn()>(None, "nvEncGetEncodePresetConfigEx").unwrap_err();
        assert!(
            matches!(missing.into_error(gpu, 0xb1, Phase::Run), Error::Unsupported { why, .. } if why.contains("nvEncGetEncodePresetConfigEx"))
        );
    }

    /// Where `libnvidia-encode.so.1` exists the table loads (or the driver is too old);
    /// elsewhere the error names the library. Never a panic.
    #[test]
    fn loads_or_fails_softly() {
        match Api::get() {
            Ok(api) => assert!(api.driver_version() >= BUILD_API_VERSION),
            Err(Error::Unsupported { why, .. }) => assert!(why.contains("libnvidia-encode.so.1"), "{why}"),
            Err(Error::DriverTooOld { .. }) => {}
            Err(e) => panic!("unexpected error kind: {e}"),
        }
    }
}
