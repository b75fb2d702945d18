//! The fake's session calls: opening, what it encodes (GUIDs, profiles, caps, presets),
//! initialising, reconfiguring, sequence parameters, the last error, destroying.

use std::ffi::{c_char, c_int, c_void};

use super::super::caps::same_guid;
use super::super::config::{h264, hevc};
use super::*;

pub(super) unsafe extern "C" fn open(
    params: *mut NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS,
    encoder: *mut *mut c_void,
) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn guid_count(encoder: *mut c_void, count: *mut u32) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("guid_count".into());
        let n = fk.script().codecs.len() as u32;
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *count = n };
        NV_ENC_SUCCESS
    })
}

pub(super) unsafe extern "C" fn guids(encoder: *mut c_void, out: *mut GUID, size: u32, count: *mut u32) -> NVENCSTATUS {
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

pub(super) fn profile_list(codec: &GUID) -> Vec<GUID> {
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

pub(super) unsafe extern "C" fn profile_count(encoder: *mut c_void, codec: GUID, count: *mut u32) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("profile_count".into());
        // SAFETY: the out-pointer is the session's live local.
        unsafe { *count = profile_list(&codec).len() as u32 };
        NV_ENC_SUCCESS
    })
}

pub(super) unsafe extern "C" fn profiles(
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

pub(super) unsafe extern "C" fn caps(
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

pub(super) unsafe extern "C" fn preset_config_ex(
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
pub(super) fn read_init(p: &NV_ENC_INITIALIZE_PARAMS) -> Result<Initialized, NVENCSTATUS> {
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

pub(super) unsafe extern "C" fn initialize(encoder: *mut c_void, params: *mut NV_ENC_INITIALIZE_PARAMS) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn reconfigure(
    encoder: *mut c_void,
    params: *mut NV_ENC_RECONFIGURE_PARAMS,
) -> NVENCSTATUS {
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
        if let Some(status) = fk.script().reconfigure.pop_front()
            && status != NV_ENC_SUCCESS
        {
            return status;
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

pub(super) unsafe extern "C" fn sequence_params(
    encoder: *mut c_void,
    params: *mut NV_ENC_SEQUENCE_PARAM_PAYLOAD,
) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn last_error(encoder: *mut c_void) -> *const c_char {
    match fake(encoder) {
        Some(fk) => fk.script().last_error.as_ptr(),
        None => std::ptr::null(),
    }
}

pub(super) unsafe extern "C" fn destroy(encoder: *mut c_void) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("destroy".into());
        let mut st = fk.state();
        st.sessions -= 1;
        st.leaked_at_destroy = Some((st.inputs.len(), st.outputs.len(), st.registered.len(), st.mapped.len()));
        st.initialized = None;
        NV_ENC_SUCCESS
    })
}
