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
//!
//! The stubs: `session.rs` (open, capabilities, initialise, reconfigure, destroy),
//! `buffers.rs` (input, bitstream, registered and mapped resources), `encode.rs` (pictures,
//! reordering, locking the output).

use std::collections::{HashMap, VecDeque};
use std::ffi::{CStr, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::super::cuda::DeviceRegion;
use super::super::sys::nvenc::*;
use super::super::sys::nvenc_versions::*;
use super::api::Api;
use super::caps::same_guid;

mod buffers;
mod encode;
mod session;

use buffers::*;
pub(crate) use encode::parameter_sets;
use encode::*;
use session::*;

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
