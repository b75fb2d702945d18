//! The fake's buffers: input and bitstream buffers, locking inputs, and registered and
//! mapped CUDA resources.

use std::ffi::c_void;

use super::*;

pub(super) unsafe extern "C" fn create_input(
    encoder: *mut c_void,
    params: *mut NV_ENC_CREATE_INPUT_BUFFER,
) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn destroy_input(encoder: *mut c_void, buffer: NV_ENC_INPUT_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("destroy_input".into());
        if fk.state().inputs.remove(&(buffer as usize)).is_some() { NV_ENC_SUCCESS } else { NV_ENC_ERR_INVALID_PTR }
    })
}

pub(super) unsafe extern "C" fn create_bitstream(
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

pub(super) unsafe extern "C" fn destroy_bitstream(encoder: *mut c_void, buffer: NV_ENC_OUTPUT_PTR) -> NVENCSTATUS {
    with(encoder, |fk| {
        fk.log("destroy_bitstream".into());
        if fk.state().outputs.remove(&(buffer as usize)).is_some() { NV_ENC_SUCCESS } else { NV_ENC_ERR_INVALID_PTR }
    })
}

pub(super) unsafe extern "C" fn lock_input(encoder: *mut c_void, params: *mut NV_ENC_LOCK_INPUT_BUFFER) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn unlock_input(encoder: *mut c_void, buffer: NV_ENC_INPUT_PTR) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn register(encoder: *mut c_void, params: *mut NV_ENC_REGISTER_RESOURCE) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn unregister(encoder: *mut c_void, registered: NV_ENC_REGISTERED_PTR) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn map(encoder: *mut c_void, params: *mut NV_ENC_MAP_INPUT_RESOURCE) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn unmap(encoder: *mut c_void, mapped: NV_ENC_INPUT_PTR) -> NVENCSTATUS {
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
