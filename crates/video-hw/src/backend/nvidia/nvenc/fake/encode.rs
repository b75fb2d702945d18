//! The fake's encoding: a made-up Annex-B picture per input, B-frame reordering like NVENC,
//! and locking the coded output.

use std::ffi::c_void;

use super::*;

/// Annex-B bytes of a picture: parameter sets when asked, then one slice NAL unit whose
/// payload is `T<timestamp>` (no zero bytes, so no emulation prevention is needed).
pub(super) fn picture_bytes(h264: bool, picture_type: NV_ENC_PIC_TYPE, timestamp: u64, sets: bool) -> Vec<u8> {
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
pub(super) fn assign(st: &mut State, h264: bool, outputs: &[usize], coded: Vec<(u64, NV_ENC_PIC_TYPE, bool)>) {
    for (&o, (timestamp, picture_type, sets)) in outputs.iter().zip(coded) {
        let data = picture_bytes(h264, picture_type, timestamp, sets);
        if let Some(out) = st.outputs.get_mut(&o) {
            out.coded = Some(Coded { timestamp, picture_type, data });
        }
    }
}

/// Codes the held pictures (last one as P, the others as B), for EOS or an IDR.
pub(super) fn code_held(st: &mut State) -> (Vec<usize>, Vec<(u64, NV_ENC_PIC_TYPE, bool)>) {
    let held = std::mem::take(&mut st.held);
    let outputs: Vec<usize> = held.iter().map(|h| h.output).collect();
    let mut coded = Vec::new();
    if let Some((last, rest)) = held.split_last() {
        coded.push((last.timestamp, NV_ENC_PIC_TYPE_P, last.sets));
        coded.extend(rest.iter().map(|h| (h.timestamp, NV_ENC_PIC_TYPE_B, h.sets)));
    }
    (outputs, coded)
}

pub(super) unsafe extern "C" fn encode(encoder: *mut c_void, params: *mut NV_ENC_PIC_PARAMS) -> NVENCSTATUS {
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
        if let Some(status) = fk.script().encode.pop_front()
            && status != NV_ENC_SUCCESS
        {
            return status;
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

pub(super) unsafe extern "C" fn lock_bitstream(
    encoder: *mut c_void,
    params: *mut NV_ENC_LOCK_BITSTREAM,
) -> NVENCSTATUS {
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

pub(super) unsafe extern "C" fn unlock_bitstream(encoder: *mut c_void, buffer: NV_ENC_OUTPUT_PTR) -> NVENCSTATUS {
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
