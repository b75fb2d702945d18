//! The VideoToolbox [`Layer`] on macOS: calls into VideoToolbox, Core Media, Core Video and
//! Core Foundation through the objc2 project's generated bindings.
//!
//! This is the only place the engine has `unsafe` code. Objects Apple creates are held in
//! `CFRetained` (released on drop; Create/Copy results are taken over, Get results
//! retained), pictures and samples cross as copies, and the output callbacks never unwind
//! into Apple's code.

use std::ffi::c_void;
use std::ops::Deref;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use objc2_core_foundation::{CFArray, CFDictionary, CFRetained, Type};
use objc2_core_media::{CMVideoCodecType, kCMVideoCodecType_H264, kCMVideoCodecType_HEVC};
use objc2_video_toolbox::{
    VTCompressionSession, VTCopyVideoEncoderList, VTDecompressionSession, VTIsHardwareDecodeSupported,
    kVTCouldNotFindVideoDecoderErr, kVTParameterErr, kVTVideoEncoderList_CodecType, kVTVideoEncoderList_DisplayName,
    kVTVideoEncoderList_EncoderID, kVTVideoEncoderList_IsHardwareAccelerated, kVTVideoEncoderMalfunctionErr,
};

use crate::codec::Codec;

use super::api::{
    DecodeFormat, DecodeSession, Decoded, EncodeSession, EncodeSetup, Encoded, EncoderInfo, Layer, OsStatus,
};
use super::outbox::Outbox;

mod cf;
mod decode;
mod encode;
mod format;
mod pixels;
mod property;
mod time;

/// Apple's VideoToolbox.
pub(crate) struct Apple;

impl Layer for Apple {
    fn hardware_decode_supported(&self, codec: Codec) -> bool {
        // SAFETY: a query taking a plain codec type.
        codec_type(codec).is_some_and(|codec| unsafe { VTIsHardwareDecodeSupported(codec) })
    }

    fn encoders(&self) -> Result<Vec<EncoderInfo>, OsStatus> {
        let mut out: *const CFArray = ptr::null();
        // SAFETY: no options (NULL); `out` is a valid out parameter.
        let status = unsafe { VTCopyVideoEncoderList(None, NonNull::from(&mut out)) };
        // SAFETY: a Copy function's out parameter: NULL or a +1 reference we now own.
        let list = unsafe { cf::owned(status, out, kVTVideoEncoderMalfunctionErr) }?;
        Ok((0..usize::try_from(list.count()).unwrap_or(0))
            .filter_map(|index| cf::item(&list, index))
            .filter_map(|entry| entry.downcast_ref::<CFDictionary>().and_then(encoder_info))
            .collect())
    }

    fn open_decoder(
        &self,
        format: &DecodeFormat,
        outbox: Arc<Outbox<Decoded>>,
    ) -> Result<Box<dyn DecodeSession>, OsStatus> {
        if codec_type(format.codec).is_none() {
            return Err(kVTCouldNotFindVideoDecoderErr);
        }
        decode::open(format, outbox)
    }

    fn open_encoder(
        &self,
        setup: &EncodeSetup,
        outbox: Arc<Outbox<Encoded>>,
    ) -> Result<Box<dyn EncodeSession>, OsStatus> {
        encode::open(setup, outbox)
    }
}

/// One entry of `VTCopyVideoEncoderList`; an entry without a codec type or an ID (which
/// nothing could select it by) is left out.
fn encoder_info(entry: &CFDictionary) -> Option<EncoderInfo> {
    // SAFETY: reads VideoToolbox's exported constant keys.
    let (codec_key, id_key, name_key, hardware_key) = unsafe {
        (
            kVTVideoEncoderList_CodecType,
            kVTVideoEncoderList_EncoderID,
            kVTVideoEncoderList_DisplayName,
            kVTVideoEncoderList_IsHardwareAccelerated,
        )
    };
    // A codec type is an OSType stored as an SInt32 CFNumber: one at or above 0x8000_0000
    // reads back negative, and keeps its 32 bits as they are.
    let codec = cf::get(entry, codec_key)?;
    let number = cf::to_i64(&codec)?;
    let codec_type = u32::try_from(number)
        .or_else(|_| i32::try_from(number).map(|signed| u32::from_ne_bytes(signed.to_ne_bytes())))
        .ok()?;
    let id = cf::get(entry, id_key)?;
    let id = cf::to_string(&id)?;
    let name = cf::get(entry, name_key).and_then(|name| cf::to_string(&name)).unwrap_or_else(|| id.clone());
    // Absent on software encoders (and on systems older than the key).
    let hardware = cf::get(entry, hardware_key).and_then(|flag| cf::to_bool(&flag)).unwrap_or(false);
    Some(EncoderInfo { codec_type, id, name, hardware })
}

/// The `CMVideoCodecType` of the codecs this engine drives.
fn codec_type(codec: Codec) -> Option<CMVideoCodecType> {
    match codec {
        Codec::H264 => Some(kCMVideoCodecType_H264),
        Codec::Hevc => Some(kCMVideoCodecType_HEVC),
        // AV1 and VP9 go through FFmpeg on Apple systems; the codecs only FFmpeg decodes
        // too (VideoToolbox's MPEG-2/MPEG-4/ProRes decoders are not driven here).
        _ => None,
    }
}

/// A frame's tag as the `sourceFrameRefCon` VideoToolbox hands back to the callback: an
/// integer in a pointer (VideoToolbox never dereferences it). macOS is 64-bit, so every
/// `u64` fits; on a 32-bit Apple target a tag that does not is `kVTParameterErr`.
fn frame_refcon(tag: u64) -> Result<*mut c_void, OsStatus> {
    usize::try_from(tag).map(ptr::without_provenance_mut).map_err(|_| kVTParameterErr)
}

/// The tag [`frame_refcon`] put in the pointer.
fn frame_tag(refcon: *mut c_void) -> u64 {
    refcon.addr() as u64
}

/// A retained VideoToolbox session that moves between threads with the engine session
/// that owns it.
struct Session<T: Type>(CFRetained<T>);

impl<T: Type> Deref for Session<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

// SAFETY: VideoToolbox sessions may be called from any thread (their callbacks already run
// on VideoToolbox's own); what they need is one caller at a time, which the engine's
// `&mut self` methods (and `Session` not being `Sync`) ensure. Retain and release are
// atomic, so the last reference may be dropped on any thread.
unsafe impl Send for Session<VTDecompressionSession> {}

// SAFETY: as for the decompression session above.
unsafe impl Send for Session<VTCompressionSession> {}
