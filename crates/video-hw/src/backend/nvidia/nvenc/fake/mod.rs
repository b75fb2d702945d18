//! A FAKE NVENC for tests (no GPU has an NVENC unit here): an
//! `NV_ENCODE_API_FUNCTION_LIST` made of `unsafe extern "C" fn` stubs that record every
//! call in a log and enforce the rules of `nvEncodeAPI.h` the session must follow —
//! struct versions, initialise before creating buffers, never lock an output whose
//! `nvEncEncodePicture` returned `NV_ENC_ERR_NEED_MORE_INPUT`, never reuse an input or
//! output buffer before its output was locked and unlocked, unmap before unregistering.
//!
//! It encodes nothing: a "picture" is a few bytes of Annex-B (parameter sets on IDRs,
//! then one slice NAL unit whose payload is `T<inputTimeStamp>`), and it reorders like
//! NVENC with `frameIntervalP` − 1 B-frames: a B picture is held (`NEED_MORE_INPUT`) until
//! the next reference picture arrives, then the output buffers submitted so far receive,
//! in submission order, the reference picture followed by the held ones.
//!
//! The session reaches the fake through the `device` pointer of
//! `nvEncOpenEncodeSessionEx` (a `*const Fake`); the encoder handle it returns is that same
//! pointer, so every stub finds its fake from its first argument. The `Arc<Fake>` is kept
//! alive by the session's [`FakeDevice`].

use std::collections::{HashMap, VecDeque};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::super::cuda::DeviceRegion;
use super::super::sys::nvenc::*;
use super::super::sys::nvenc_versions::*;
use super::api::Api;
use super::caps::same_guid;
use super::config::{h264, hevc};

/// What the fake answers; tests change it before or between calls.
#[derive(Clone, Debug)]
pub(crate) struct Script {
    /// Status of `nvEncOpenEncodeSessionEx`.
    pub(crate) open: NVENCSTATUS,
    /// The codecs `nvEncGetEncodeGUIDs` lists.
    pub(crate) codecs: Vec<GUID>,
    /// Capability values that differ from [`default_cap`].
    pub(crate) caps: Vec<(NV_ENC_CAPS, i32)>,
    /// Status of `nvEncInitializeEncoder`.
    pub(crate) init: NVENCSTATUS,
    /// Statuses the next `nvEncEncodePicture` calls return instead of encoding.
    pub(crate) encode: VecDeque<NVENCSTATUS>,
    /// Statuses the next `nvEncLockBitstream` calls return instead of locking.
    pub(crate) lock: VecDeque<NVENCSTATUS>,
    /// Statuses the next `nvEncReconfigureEncoder` calls return instead of reconfiguring.
    pub(crate) reconfigure: VecDeque<NVENCSTATUS>,
    /// `nvEncGetLastErrorString`.
    pub(crate) last_error: &'static CStr,
    /// `gopLength` of the preset configurations.
    pub(crate) preset_gop: u32,
    /// `lookaheadDepth` of the preset configurations (0: look-ahead off).
    pub(crate) preset_lookahead: u16,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            open: NV_ENC_SUCCESS,
            codecs: vec![NV_ENC_CODEC_H264_GUID, NV_ENC_CODEC_HEVC_GUID],
            caps: Vec::new(),
            init: NV_ENC_SUCCESS,
            encode: VecDeque::new(),
            lock: VecDeque::new(),
            reconfigure: VecDeque::new(),
            last_error: c"fake: something went wrong",
            preset_gop: 250,
            preset_lookahead: 0,
        }
    }
}

/// What a Turing-class GPU answers (`NV_ENC_CAPS_SUPPORT_10BIT_ENCODE` for HEVC only).
pub(crate) fn default_cap(codec: GUID, cap: NV_ENC_CAPS) -> i32 {
    match cap {
        NV_ENC_CAPS_NUM_MAX_BFRAMES => 4,
        NV_ENC_CAPS_SUPPORTED_RATECONTROL_MODES => (NV_ENC_PARAMS_RC_VBR | NV_ENC_PARAMS_RC_CBR) as i32,
        NV_ENC_CAPS_WIDTH_MAX | NV_ENC_CAPS_HEIGHT_MAX => 4096,
        NV_ENC_CAPS_WIDTH_MIN => 145,
        NV_ENC_CAPS_HEIGHT_MIN => 49,
        NV_ENC_CAPS_MB_NUM_MAX => 65_536,
        NV_ENC_CAPS_SUPPORT_10BIT_ENCODE => i32::from(same_guid(&codec, &NV_ENC_CODEC_HEVC_GUID)),
        NV_ENC_CAPS_SUPPORT_LOOKAHEAD
        | NV_ENC_CAPS_SUPPORT_LOSSLESS_ENCODE
        | NV_ENC_CAPS_SUPPORT_YUV444_ENCODE
        | NV_ENC_CAPS_SUPPORT_DYN_BITRATE_CHANGE
        | NV_ENC_CAPS_SUPPORT_TEMPORAL_AQ
        | NV_ENC_CAPS_NUM_ENCODER_ENGINES => 1,
        _ => 0,
    }
}

/// An input buffer of the fake.
#[derive(Debug)]
pub(crate) struct Input {
    pub(crate) format: NV_ENC_BUFFER_FORMAT,
    pub(crate) pitch: usize,
    pub(crate) data: Vec<u8>,
    pub(crate) locked: bool,
    /// Submitted and its output not unlocked yet.
    pub(crate) busy: bool,
}

/// A coded picture placed in an output buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Coded {
    pub(crate) timestamp: u64,
    pub(crate) picture_type: NV_ENC_PIC_TYPE,
    pub(crate) data: Vec<u8>,
}

/// An output bitstream buffer of the fake.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Submitted with a picture and not unlocked yet.
    pub(crate) in_use: bool,
    /// The input (buffer or mapped resource) submitted with it.
    pub(crate) input: usize,
    pub(crate) coded: Option<Coded>,
    pub(crate) locked: bool,
}

/// A registered CUDA resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Registered {
    pub(crate) ptr: u64,
    pub(crate) pitch: u32,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) format: NV_ENC_BUFFER_FORMAT,
}

/// What `nvEncInitializeEncoder` (or the last reconfigure) was given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Initialized {
    pub(crate) h264: bool,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) gop: u32,
    pub(crate) b_frames: u32,
    pub(crate) repeat_sps: bool,
    pub(crate) disable_sps: bool,
    pub(crate) rc_mode: NV_ENC_PARAMS_RC_MODE,
    pub(crate) average_bitrate: u32,
    pub(crate) fps: (u32, u32),
    pub(crate) tuning: NV_ENC_TUNING_INFO,
}

/// One `nvEncEncodePicture` of a picture, as the fake saw it.
#[derive(Clone, Debug)]
pub(crate) struct Encoded {
    pub(crate) timestamp: u64,
    pub(crate) flags: u32,
    pub(crate) input: usize,
    pub(crate) output: usize,
    pub(crate) pitch: u32,
    pub(crate) format: NV_ENC_BUFFER_FORMAT,
    /// The input buffer's bytes at that moment (empty for mapped resources).
    pub(crate) bytes: Vec<u8>,
}

/// A picture waiting for its backward reference.
#[derive(Clone, Debug)]
struct Held {
    output: usize,
    timestamp: u64,
    sets: bool,
}

/// The fake's mutable state.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Every call, in order (`open`, `caps`, `encode flags=…`, …).
    pub(crate) calls: Vec<String>,
    next: usize,
    /// Sessions open now.
    pub(crate) sessions: i32,
    pub(crate) initialized: Option<Initialized>,
    pub(crate) inputs: HashMap<usize, Input>,
    pub(crate) outputs: HashMap<usize, Output>,
    pub(crate) registered: HashMap<usize, Registered>,
    /// Mapped handle → registered handle.
    pub(crate) mapped: HashMap<usize, usize>,
    pub(crate) encoded: Vec<Encoded>,
    /// `(preset P-number, tuning)` of each preset query.
    pub(crate) presets: Vec<(u32, NV_ENC_TUNING_INFO)>,
    held: Vec<Held>,
    since_idr: u32,
    idr_seen: bool,
    force_idr: bool,
    /// Objects still alive when the last session was destroyed: inputs, outputs,
    /// registered, mapped.
    pub(crate) leaked_at_destroy: Option<(usize, usize, usize, usize)>,
}

/// The fake NVENC behind one or more sessions.
#[derive(Debug, Default)]
pub(crate) struct Fake {
    script: Mutex<Script>,
    state: Mutex<State>,
}

impl Fake {
    /// A fake with `script`.
    pub(crate) fn new(script: Script) -> Arc<Fake> {
        Arc::new(Fake { script: Mutex::new(script), state: Mutex::new(State::default()) })
    }

    /// The script, to change what comes next.
    pub(crate) fn script(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, to look at what happened.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The call log, names only (the part before the first space).
    pub(crate) fn call_names(&self) -> Vec<String> {
        self.state().calls.iter().map(|c| c.split(' ').next().unwrap_or_default().to_owned()).collect()
    }

    fn log(&self, call: String) {
        self.state().calls.push(call);
    }
}

/// The process-wide [`Api`] made of the fake entry points (driver API 12.0).
pub(crate) fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| Api::from_list(function_list(), 0xc0))
}

/// The fake's function table.
pub(crate) fn function_list() -> NV_ENCODE_API_FUNCTION_LIST {
    NV_ENCODE_API_FUNCTION_LIST {
        version: NV_ENCODE_API_FUNCTION_LIST_VER,
        nvEncOpenEncodeSessionEx: Some(open),
        nvEncGetEncodeGUIDCount: Some(guid_count),
        nvEncGetEncodeGUIDs: Some(guids),
        nvEncGetEncodeProfileGUIDCount: Some(profile_count),
        nvEncGetEncodeProfileGUIDs: Some(profiles),
        nvEncGetEncodeCaps: Some(caps),
        nvEncGetEncodePresetConfigEx: Some(preset_config_ex),
        nvEncInitializeEncoder: Some(initialize),
        nvEncCreateInputBuffer: Some(create_input),
        nvEncDestroyInputBuffer: Some(destroy_input),
        nvEncCreateBitstreamBuffer: Some(create_bitstream),
        nvEncDestroyBitstreamBuffer: Some(destroy_bitstream),
        nvEncLockInputBuffer: Some(lock_input),
        nvEncUnlockInputBuffer: Some(unlock_input),
        nvEncEncodePicture: Some(encode),
        nvEncLockBitstream: Some(lock_bitstream),
        nvEncUnlockBitstream: Some(unlock_bitstream),
        nvEncRegisterResource: Some(register),
        nvEncUnregisterResource: Some(unregister),
        nvEncMapInputResource: Some(map),
        nvEncUnmapInputResource: Some(unmap),
        nvEncReconfigureEncoder: Some(reconfigure),
        nvEncGetSequenceParams: Some(sequence_params),
        nvEncGetLastErrorString: Some(last_error),
        nvEncDestroyEncoder: Some(destroy),
        ..Default::default()
    }
}

/// The fake behind an encoder handle (or the `device` of an open call).
fn fake<'a>(handle: *mut c_void) -> Option<&'a Fake> {
    // SAFETY: the only handles the session passes to this table are the `device` pointer
    // it was given by `FakeDevice::session_device` (a `*const Fake` of an `Arc<Fake>` the
    // session keeps alive through its `FakeDevice`) and the encoder handle `open` returned,
    // which is that same pointer. The fake is only read through its mutexes.
    unsafe { handle.cast::<Fake>().as_ref() }
}

/// Runs `f` on the fake behind `handle`; `NV_ENC_ERR_INVALID_ENCODERDEVICE` for a null one.
fn with(handle: *mut c_void, f: impl FnOnce(&Fake) -> NVENCSTATUS) -> NVENCSTATUS {
    match fake(handle) {
        Some(fk) => f(fk),
        None => NV_ENC_ERR_INVALID_ENCODERDEVICE,
    }
}

fn new_handle(st: &mut State, base: usize) -> usize {
    st.next += 1;
    base + st.next
}

fn bytes_per_sample(format: NV_ENC_BUFFER_FORMAT) -> usize {
    match format {
        NV_ENC_BUFFER_FORMAT_YUV420_10BIT => 2,
        NV_ENC_BUFFER_FORMAT_ARGB => 4,
        _ => 1,
    }
}

unsafe extern "C" fn open(params: *mut NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS, encoder: *mut *mut c_void) -> NVENCSTATUS {
    // SAFETY: the session passes a live, initialised params struct.
    let Some(p) = (unsafe { params.as_ref() }) else { return NV_ENC_ERR_INVALID_PTR };
    with(p.device, |fk| {
        fk.log(format!("open version={:#x} api={:#x}", p.version, p.apiVersion));
        if p.version != NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER || p.apiVersion != NVENCAPI_VERSION {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        if p.deviceType != NV_ENC_DEVICE_TYPE_CUDA {
            return NV_ENC_ERR_INVALID_PARAM;
        }
        let status = fk.script().open;
        if status != NV_ENC_SUCCESS {
            return status;
        }
        let mut st = fk.state();
        st.sessions += 1;
        st.initialized = None;
        st.held.clear();
        st.since_idr = 0;
        st.idr_seen = false;
        st.force_idr = false;
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *encoder = p.device };
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn guid_count(encoder: *mut c_void, count: *mut u32) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("guid_count".into());
        let n = fk.script().codecs.len() as u32;
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *count = n };
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn guids(encoder: *mut c_void, out: *mut GUID, size: u32, count: *mut u32) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("guids".into());
        let codecs = fk.script().codecs.clone();
        let n = codecs.len().min(size as usize);
        for (i, g) in codecs.iter().take(n).enumerate() {
            // SAFETY: the session's array has `size` entries and `i < size`.
            unsafe { *out.wrapping_add(i) = *g };
        }
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *count = n as u32 };
        NV_ENC_SUCCESS
    })
}

fn profile_list(codec: &GUID) -> Vec<GUID> {
    if same_guid(codec, &NV_ENC_CODEC_H264_GUID) {
        vec![
            NV_ENC_CODEC_PROFILE_AUTOSELECT_GUID,
            NV_ENC_H264_PROFILE_BASELINE_GUID,
            NV_ENC_H264_PROFILE_MAIN_GUID,
            NV_ENC_H264_PROFILE_HIGH_GUID,
        ]
    } else {
        vec![NV_ENC_CODEC_PROFILE_AUTOSELECT_GUID, NV_ENC_HEVC_PROFILE_MAIN_GUID, NV_ENC_HEVC_PROFILE_MAIN10_GUID]
    }
}

unsafe extern "C" fn profile_count(encoder: *mut c_void, codec: GUID, count: *mut u32) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("profile_count".into());
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *count = profile_list(&codec).len() as u32 };
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn profiles(
    encoder: *mut c_void,
    codec: GUID,
    out: *mut GUID,
    size: u32,
    count: *mut u32,
) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("profiles".into());
        let list = profile_list(&codec);
        let n = list.len().min(size as usize);
        for (i, g) in list.iter().take(n).enumerate() {
            // SAFETY: the session's array has `size` entries and `i < size`.
            unsafe { *out.wrapping_add(i) = *g };
        }
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *count = n as u32 };
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn caps(
    encoder: *mut c_void,
    codec: GUID,
    param: *mut NV_ENC_CAPS_PARAM,
    value: *mut c_int,
) -> NVENCSTATUS {
    with(encoder, |fk| {
        // SAFETY: the session passes a live caps param.
        let Some(p) = (unsafe { param.as_ref() }) else { return NV_ENC_ERR_INVALID_PTR };
        fk.log(format!("caps {}", p.capsToQuery));
        if p.version != NV_ENC_CAPS_PARAM_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let v = fk
            .script()
            .caps
            .iter()
            .find(|(c, _)| *c == p.capsToQuery)
            .map_or_else(|| default_cap(codec, p.capsToQuery), |(_, v)| *v);
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *value = v };
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn preset_config_ex(
    encoder: *mut c_void,
    codec: GUID,
    preset: GUID,
    tuning: NV_ENC_TUNING_INFO,
    out: *mut NV_ENC_PRESET_CONFIG,
) -> NVENCSTATUS {
    with(encoder, |fk| {
        // SAFETY: the session passes a live preset config struct.
        let Some(p) = (unsafe { out.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        let presets = [
            NV_ENC_PRESET_P1_GUID,
            NV_ENC_PRESET_P2_GUID,
            NV_ENC_PRESET_P3_GUID,
            NV_ENC_PRESET_P4_GUID,
            NV_ENC_PRESET_P5_GUID,
            NV_ENC_PRESET_P6_GUID,
            NV_ENC_PRESET_P7_GUID,
        ];
        let Some(n) = presets.iter().position(|g| same_guid(g, &preset)) else { return NV_ENC_ERR_INVALID_PARAM };
        fk.log(format!("preset P{} tuning={tuning}", n + 1));
        if p.version != NV_ENC_PRESET_CONFIG_VER || p.presetCfg.version != NV_ENC_CONFIG_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        if !(NV_ENC_TUNING_INFO_HIGH_QUALITY..=NV_ENC_TUNING_INFO_LOSSLESS).contains(&tuning) {
            return NV_ENC_ERR_INVALID_PARAM;
        }
        let script = fk.script().clone();
        let mut c = NV_ENC_CONFIG {
            version: NV_ENC_CONFIG_VER,
            gopLength: script.preset_gop,
            frameIntervalP: 1,
            ..Default::default()
        };
        c.rcParams.rateControlMode = NV_ENC_PARAMS_RC_VBR;
        c.rcParams.averageBitRate = 5_000_000;
        c.rcParams.maxBitRate = 10_000_000;
        c.rcParams.set_enableLookahead(u32::from(script.preset_lookahead > 0));
        c.rcParams.lookaheadDepth = script.preset_lookahead;
        if same_guid(&codec, &NV_ENC_CODEC_H264_GUID) {
            let mut h = h264(&c);
            h.idrPeriod = script.preset_gop;
            c.encodeCodecConfig.h264Config = h;
        } else {
            let mut h = hevc(&c);
            h.idrPeriod = script.preset_gop;
            c.encodeCodecConfig.hevcConfig = h;
        }
        p.presetCfg = c;
        fk.state().presets.push((n as u32 + 1, tuning));
        NV_ENC_SUCCESS
    })
}

/// What an init or reconfigure was given, after checking the versions.
fn read_init(p: &NV_ENC_INITIALIZE_PARAMS) -> Result<Initialized, NVENCSTATUS> {
    if p.version != NV_ENC_INITIALIZE_PARAMS_VER {
        return Err(NV_ENC_ERR_INVALID_VERSION);
    }
    // SAFETY: the session points `encodeConfig` at a live config for the call.
    let Some(c) = (unsafe { p.encodeConfig.as_ref() }) else { return Err(NV_ENC_ERR_INVALID_PTR) };
    if c.version != NV_ENC_CONFIG_VER || c.rcParams.version != NV_ENC_RC_PARAMS_VER {
        return Err(NV_ENC_ERR_INVALID_VERSION);
    }
    if p.enablePTD != 1 || p.enableEncodeAsync != 0 {
        return Err(NV_ENC_ERR_UNSUPPORTED_PARAM);
    }
    let is_h264 = same_guid(&p.encodeGUID, &NV_ENC_CODEC_H264_GUID);
    let (repeat, disable) = if is_h264 {
        let h = h264(c);
        (h.repeatSPSPPS(), h.disableSPSPPS())
    } else {
        let h = hevc(c);
        (h.repeatSPSPPS(), h.disableSPSPPS())
    };
    Ok(Initialized {
        h264: is_h264,
        width: p.encodeWidth,
        height: p.encodeHeight,
        gop: c.gopLength,
        b_frames: (c.frameIntervalP - 1).max(0).unsigned_abs(),
        repeat_sps: repeat != 0,
        disable_sps: disable != 0,
        rc_mode: c.rcParams.rateControlMode,
        average_bitrate: c.rcParams.averageBitRate,
        fps: (p.frameRateNum, p.frameRateDen),
        tuning: p.tuningInfo,
    })
}

unsafe extern "C" fn initialize(encoder: *mut c_void, params: *mut NV_ENC_INITIALIZE_PARAMS) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("initialize".into());
        // SAFETY: the session passes live init params.
        let Some(p) = (unsafe { params.as_ref() }) else { return NV_ENC_ERR_INVALID_PTR };
        let seen = match read_init(p) {
            Ok(s) => s,
            Err(status) => return status,
        };
        let status = fk.script().init;
        if status == NV_ENC_SUCCESS {
            fk.state().initialized = Some(seen);
        }
        status
    })
}

unsafe extern "C" fn create_input(encoder: *mut c_void, params: *mut NV_ENC_CREATE_INPUT_BUFFER) -> NVENCSTATUS {
    with(encoder, |fk| {
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        fk.log(format!("create_input {}x{} format={:#x}", p.width, p.height, p.bufferFmt));
        if p.version != NV_ENC_CREATE_INPUT_BUFFER_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let mut st = fk.state();
        if st.initialized.is_none() {
            return NV_ENC_ERR_ENCODER_NOT_INITIALIZED;
        }
        let pitch = (p.width as usize * bytes_per_sample(p.bufferFmt)).next_multiple_of(256);
        let data = vec![0u8; pitch * p.height as usize * 2];
        let h = new_handle(&mut st, 0x1000_0000);
        st.inputs.insert(h, Input { format: p.bufferFmt, pitch, data, locked: false, busy: false });
        p.inputBuffer = h as *mut c_void;
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn destroy_input(encoder: *mut c_void, buffer: NV_ENC_INPUT_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("destroy_input".into());
        if fk.state().inputs.remove(&(buffer as usize)).is_some() { NV_ENC_SUCCESS } else { NV_ENC_ERR_INVALID_PTR }
    })
}

unsafe extern "C" fn create_bitstream(
    encoder: *mut c_void,
    params: *mut NV_ENC_CREATE_BITSTREAM_BUFFER,
) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("create_bitstream".into());
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        if p.version != NV_ENC_CREATE_BITSTREAM_BUFFER_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let mut st = fk.state();
        if st.initialized.is_none() {
            return NV_ENC_ERR_ENCODER_NOT_INITIALIZED;
        }
        let h = new_handle(&mut st, 0x2000_0000);
        st.outputs.insert(h, Output::default());
        p.bitstreamBuffer = h as *mut c_void;
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn destroy_bitstream(encoder: *mut c_void, buffer: NV_ENC_OUTPUT_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("destroy_bitstream".into());
        if fk.state().outputs.remove(&(buffer as usize)).is_some() { NV_ENC_SUCCESS } else { NV_ENC_ERR_INVALID_PTR }
    })
}

unsafe extern "C" fn lock_input(encoder: *mut c_void, params: *mut NV_ENC_LOCK_INPUT_BUFFER) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("lock_input".into());
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        if p.version != NV_ENC_LOCK_INPUT_BUFFER_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let mut st = fk.state();
        let Some(input) = st.inputs.get_mut(&(p.inputBuffer as usize)) else { return NV_ENC_ERR_INVALID_PTR };
        if input.locked || input.busy {
            // Locked twice, or reused while NVENC still owns it.
            return NV_ENC_ERR_INVALID_CALL;
        }
        input.locked = true;
        p.bufferDataPtr = input.data.as_mut_ptr().cast::<c_void>();
        p.pitch = input.pitch as u32;
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn unlock_input(encoder: *mut c_void, buffer: NV_ENC_INPUT_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("unlock_input".into());
        let mut st = fk.state();
        match st.inputs.get_mut(&(buffer as usize)) {
            Some(i) if i.locked => {
                i.locked = false;
                NV_ENC_SUCCESS
            }
            _ => NV_ENC_ERR_INVALID_CALL,
        }
    })
}

/// Annex-B bytes of a picture: parameter sets when asked, then one slice NAL unit whose
/// payload is `T<timestamp>` (no zero bytes, so no emulation prevention is needed).
fn picture_bytes(h264: bool, picture_type: NV_ENC_PIC_TYPE, timestamp: u64, sets: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let nal = |out: &mut Vec<u8>, body: &[u8]| {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(body);
    };
    if sets {
        for body in parameter_sets(h264) {
            nal(&mut out, body);
        }
    }
    let header: &[u8] = match (h264, picture_type) {
        (true, NV_ENC_PIC_TYPE_IDR) => &[0x65],
        (true, NV_ENC_PIC_TYPE_B) => &[0x01],
        (true, _) => &[0x41],
        (false, NV_ENC_PIC_TYPE_IDR) => &[0x26, 0x01],
        (false, _) => &[0x02, 0x01],
    };
    let mut body = header.to_vec();
    body.push(b'T');
    body.extend_from_slice(timestamp.to_string().as_bytes());
    nal(&mut out, &body);
    out
}

/// The fake's parameter sets (NAL unit bodies).
pub(crate) fn parameter_sets(h264: bool) -> &'static [&'static [u8]] {
    if h264 {
        &[&[0x67, 0x64, 0x11, 0x28, 0xac], &[0x68, 0xee, 0x3c, 0x80]]
    } else {
        &[&[0x40, 0x01, 0x0c], &[0x42, 0x01, 0x01], &[0x44, 0x01, 0xc1]]
    }
}

/// Places the pictures `coded` (in coding order) into `outputs` (in submission order).
fn assign(st: &mut State, h264: bool, outputs: &[usize], coded: Vec<(u64, NV_ENC_PIC_TYPE, bool)>) {
    for (&o, (timestamp, picture_type, sets)) in outputs.iter().zip(coded) {
        let data = picture_bytes(h264, picture_type, timestamp, sets);
        if let Some(out) = st.outputs.get_mut(&o) {
            out.coded = Some(Coded { timestamp, picture_type, data });
        }
    }
}

/// Codes the held pictures (last one as P, the others as B), for EOS or an IDR.
fn code_held(st: &mut State) -> (Vec<usize>, Vec<(u64, NV_ENC_PIC_TYPE, bool)>) {
    let held = std::mem::take(&mut st.held);
    let outputs: Vec<usize> = held.iter().map(|h| h.output).collect();
    let mut coded = Vec::new();
    if let Some((last, rest)) = held.split_last() {
        coded.push((last.timestamp, NV_ENC_PIC_TYPE_P, last.sets));
        coded.extend(rest.iter().map(|h| (h.timestamp, NV_ENC_PIC_TYPE_B, h.sets)));
    }
    (outputs, coded)
}

unsafe extern "C" fn encode(encoder: *mut c_void, params: *mut NV_ENC_PIC_PARAMS) -> NVENCSTATUS {
    with(encoder, |fk| {
        // SAFETY: the session passes live picture params.
        let Some(p) = (unsafe { params.as_ref() }) else { return NV_ENC_ERR_INVALID_PTR };
        fk.log(format!("encode flags={} ts={}", p.encodePicFlags, p.inputTimeStamp));
        if p.version != NV_ENC_PIC_PARAMS_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let mut st = fk.state();
        let Some(init) = st.initialized.clone() else { return NV_ENC_ERR_ENCODER_NOT_INITIALIZED };
        if p.encodePicFlags & NV_ENC_PIC_FLAG_EOS != 0 {
            let (outputs, coded) = code_held(&mut st);
            assign(&mut st, init.h264, &outputs, coded);
            return NV_ENC_SUCCESS;
        }
        let (input, output) = (p.inputBuffer as usize, p.outputBitstream as usize);
        let (format, bytes) = match (st.inputs.get(&input), st.mapped.get(&input)) {
            (Some(i), _) if !i.locked && !i.busy => (i.format, i.data.clone()),
            (None, Some(reg)) => match st.registered.get(reg) {
                Some(r) => (r.format, Vec::new()),
                None => return NV_ENC_ERR_RESOURCE_NOT_REGISTERED,
            },
            _ => return NV_ENC_ERR_INVALID_PARAM,
        };
        if format != p.bufferFmt || (p.inputWidth, p.inputHeight) != (init.width, init.height) {
            return NV_ENC_ERR_INVALID_PARAM;
        }
        match st.outputs.get(&output) {
            Some(o) if !o.in_use => {}
            _ => return NV_ENC_ERR_INVALID_PARAM,
        }
        if let Some(status) = fk.script().encode.pop_front() {
            if status != NV_ENC_SUCCESS {
                return status;
            }
        }
        st.encoded.push(Encoded {
            timestamp: p.inputTimeStamp,
            flags: p.encodePicFlags,
            input,
            output,
            pitch: p.inputPitch,
            format,
            bytes,
        });
        if let Some(i) = st.inputs.get_mut(&input) {
            i.busy = true;
        }
        if let Some(o) = st.outputs.get_mut(&output) {
            *o = Output { in_use: true, input, coded: None, locked: false };
        }
        let gop_due = init.gop > 0 && init.gop != NVENC_INFINITE_GOPLENGTH && st.since_idr >= init.gop;
        let idr = !st.idr_seen || p.encodePicFlags & NV_ENC_PIC_FLAG_FORCEIDR != 0 || st.force_idr || gop_due;
        let want_sets = p.encodePicFlags & NV_ENC_PIC_FLAG_OUTPUT_SPSPPS != 0;
        if idr {
            let sets = want_sets || (!init.disable_sps && (init.repeat_sps || !st.idr_seen));
            st.idr_seen = true;
            st.force_idr = false;
            st.since_idr = 1;
            let (mut outputs, mut coded) = code_held(&mut st);
            outputs.push(output);
            coded.push((p.inputTimeStamp, NV_ENC_PIC_TYPE_IDR, sets));
            assign(&mut st, init.h264, &outputs, coded);
            return NV_ENC_SUCCESS;
        }
        st.since_idr += 1;
        if st.held.len() as u32 == init.b_frames {
            // A reference picture: coded first, then the held B pictures.
            let held = std::mem::take(&mut st.held);
            let mut outputs: Vec<usize> = held.iter().map(|h| h.output).collect();
            outputs.push(output);
            let mut coded = vec![(p.inputTimeStamp, NV_ENC_PIC_TYPE_P, want_sets)];
            coded.extend(held.iter().map(|h| (h.timestamp, NV_ENC_PIC_TYPE_B, h.sets)));
            assign(&mut st, init.h264, &outputs, coded);
            return NV_ENC_SUCCESS;
        }
        st.held.push(Held { output, timestamp: p.inputTimeStamp, sets: want_sets });
        NV_ENC_ERR_NEED_MORE_INPUT
    })
}

unsafe extern "C" fn lock_bitstream(encoder: *mut c_void, params: *mut NV_ENC_LOCK_BITSTREAM) -> NVENCSTATUS {
    with(encoder, |fk| {
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        fk.log("lock".into());
        if p.version != NV_ENC_LOCK_BITSTREAM_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let injected = fk.script().lock.pop_front();
        let mut st = fk.state();
        let key = p.outputBitstream as usize;
        if let Some(status) = injected.filter(|&s| s != NV_ENC_SUCCESS) {
            // The picture is lost; its buffers are free again.
            let input = st.outputs.get_mut(&key).map(|o| {
                let input = o.input;
                *o = Output::default();
                input
            });
            if let Some(i) = input.and_then(|i| st.inputs.get_mut(&i)) {
                i.busy = false;
            }
            return status;
        }
        let Some(out) = st.outputs.get_mut(&key) else { return NV_ENC_ERR_INVALID_PTR };
        let Some(coded) = out.coded.as_mut() else {
            // Locking an output whose encode returned NEED_MORE_INPUT (or never ran).
            return NV_ENC_ERR_INVALID_CALL;
        };
        if out.locked {
            return NV_ENC_ERR_INVALID_CALL;
        }
        p.bitstreamBufferPtr = coded.data.as_mut_ptr().cast::<c_void>();
        p.bitstreamSizeInBytes = coded.data.len() as u32;
        p.outputTimeStamp = coded.timestamp;
        p.pictureType = coded.picture_type;
        out.locked = true;
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn unlock_bitstream(encoder: *mut c_void, buffer: NV_ENC_OUTPUT_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("unlock".into());
        let mut st = fk.state();
        let input = match st.outputs.get_mut(&(buffer as usize)) {
            Some(o) if o.locked => {
                let input = o.input;
                *o = Output::default();
                input
            }
            _ => return NV_ENC_ERR_INVALID_CALL,
        };
        if let Some(i) = st.inputs.get_mut(&input) {
            i.busy = false;
        }
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn register(encoder: *mut c_void, params: *mut NV_ENC_REGISTER_RESOURCE) -> NVENCSTATUS {
    with(encoder, |fk| {
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        fk.log(format!("register ptr={:#x} pitch={}", p.resourceToRegister as usize, p.pitch));
        if p.version != NV_ENC_REGISTER_RESOURCE_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        if p.resourceType != NV_ENC_INPUT_RESOURCE_TYPE_CUDADEVICEPTR
            || p.bufferUsage != NV_ENC_INPUT_IMAGE
            || p.resourceToRegister.is_null()
            || p.pitch % 4 != 0
        {
            return NV_ENC_ERR_INVALID_PARAM;
        }
        let mut st = fk.state();
        let h = new_handle(&mut st, 0x3000_0000);
        let r = Registered {
            ptr: p.resourceToRegister as u64,
            pitch: p.pitch,
            width: p.width,
            height: p.height,
            format: p.bufferFormat,
        };
        st.registered.insert(h, r);
        p.registeredResource = h as *mut c_void;
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn unregister(encoder: *mut c_void, registered: NV_ENC_REGISTERED_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("unregister".into());
        let mut st = fk.state();
        let key = registered as usize;
        if st.mapped.values().any(|&r| r == key) {
            return NV_ENC_ERR_INVALID_CALL;
        }
        if st.registered.remove(&key).is_some() { NV_ENC_SUCCESS } else { NV_ENC_ERR_RESOURCE_NOT_REGISTERED }
    })
}

unsafe extern "C" fn map(encoder: *mut c_void, params: *mut NV_ENC_MAP_INPUT_RESOURCE) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("map".into());
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        if p.version != NV_ENC_MAP_INPUT_RESOURCE_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let mut st = fk.state();
        let reg = p.registeredResource as usize;
        let Some(format) = st.registered.get(&reg).map(|r| r.format) else {
            return NV_ENC_ERR_RESOURCE_NOT_REGISTERED;
        };
        if st.mapped.values().any(|&r| r == reg) {
            return NV_ENC_ERR_MAP_FAILED;
        }
        let h = new_handle(&mut st, 0x4000_0000);
        st.mapped.insert(h, reg);
        p.mappedResource = h as *mut c_void;
        p.mappedBufferFmt = format;
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn unmap(encoder: *mut c_void, mapped: NV_ENC_INPUT_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("unmap".into());
        let mut st = fk.state();
        let key = mapped as usize;
        if st.outputs.values().any(|o| o.in_use && o.input == key) {
            // Unmapped while its picture is still with NVENC.
            return NV_ENC_ERR_INVALID_CALL;
        }
        if st.mapped.remove(&key).is_some() { NV_ENC_SUCCESS } else { NV_ENC_ERR_RESOURCE_NOT_MAPPED }
    })
}

unsafe extern "C" fn reconfigure(encoder: *mut c_void, params: *mut NV_ENC_RECONFIGURE_PARAMS) -> NVENCSTATUS {
    with(encoder, |fk| {
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_ref() }) else { return NV_ENC_ERR_INVALID_PTR };
        fk.log(format!("reconfigure reset={} idr={}", p.resetEncoder(), p.forceIDR()));
        if p.version != NV_ENC_RECONFIGURE_PARAMS_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let seen = match read_init(&p.reInitEncodeParams) {
            Ok(s) => s,
            Err(status) => return status,
        };
        if let Some(status) = fk.script().reconfigure.pop_front() {
            if status != NV_ENC_SUCCESS {
                return status;
            }
        }
        let mut st = fk.state();
        if st.initialized.as_ref().is_some_and(|i| i.b_frames != seen.b_frames) {
            return NV_ENC_ERR_INVALID_PARAM; // "change in GOP structure" is not supported
        }
        st.initialized = Some(seen);
        if p.forceIDR() != 0 {
            st.force_idr = true;
        }
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn sequence_params(encoder: *mut c_void, params: *mut NV_ENC_SEQUENCE_PARAM_PAYLOAD) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("sequence_params".into());
        // SAFETY: the session passes a live struct.
        let Some(p) = (unsafe { params.as_mut() }) else { return NV_ENC_ERR_INVALID_PTR };
        if p.version != NV_ENC_SEQUENCE_PARAM_PAYLOAD_VER {
            return NV_ENC_ERR_INVALID_VERSION;
        }
        let Some(init) = fk.state().initialized.clone() else { return NV_ENC_ERR_ENCODER_NOT_INITIALIZED };
        let mut bytes = Vec::new();
        for body in parameter_sets(init.h264) {
            bytes.extend_from_slice(&[0, 0, 0, 1]);
            bytes.extend_from_slice(body);
        }
        if bytes.len() > p.inBufferSize as usize || p.spsppsBuffer.is_null() || p.outSPSPPSPayloadSize.is_null() {
            return NV_ENC_ERR_NOT_ENOUGH_BUFFER;
        }
        // SAFETY: the session's buffer holds `inBufferSize` ≥ `bytes.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.spsppsBuffer.cast::<u8>(), bytes.len()) };
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *p.outSPSPPSPayloadSize = bytes.len() as u32 };
        NV_ENC_SUCCESS
    })
}

unsafe extern "C" fn last_error(encoder: *mut c_void) -> *const c_char {
    match fake(encoder) {
        Some(fk) => fk.script().last_error.as_ptr(),
        None => std::ptr::null(),
    }
}

unsafe extern "C" fn destroy(encoder: *mut c_void) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("destroy".into());
        let mut st = fk.state();
        st.sessions -= 1;
        st.leaked_at_destroy = Some((st.inputs.len(), st.outputs.len(), st.registered.len(), st.mapped.len()));
        st.initialized = None;
        NV_ENC_SUCCESS
    })
}

/// The device of a session on the fake: its `device` pointer is the fake, its surfaces
/// are made-up addresses, and staging a CUDA frame is recorded instead of copied.
#[derive(Debug)]
pub(crate) struct FakeDevice {
    /// The fake NVENC.
    pub(crate) fake: Arc<Fake>,
    next: AtomicU64,
    /// `(source, destination)` of every staged plane.
    pub(crate) copies: Mutex<Vec<(DeviceRegion, DeviceRegion)>>,
}

impl FakeDevice {
    /// A device for `fake`.
    pub(crate) fn new(fake: Arc<Fake>) -> FakeDevice {
        FakeDevice { fake, next: AtomicU64::new(0), copies: Mutex::new(Vec::new()) }
    }

    /// The `device` pointer of `nvEncOpenEncodeSessionEx`: the fake itself.
    pub(crate) fn session_device(&self) -> *mut c_void {
        Arc::as_ptr(&self.fake).cast_mut().cast::<c_void>()
    }

    /// A made-up surface: `(address, pitch)`.
    pub(crate) fn alloc(&self, width_bytes: usize, _rows: usize) -> (u64, usize) {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        (0x7000_0000 + n * 0x100_0000, width_bytes.next_multiple_of(512))
    }

    /// Records a staged plane.
    pub(crate) fn copy(&self, src: DeviceRegion, dst: DeviceRegion) {
        self.copies.lock().unwrap_or_else(|p| p.into_inner()).push((src, dst));
    }
}
