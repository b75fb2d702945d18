//! A `VTCompressionSession` behind [`EncodeSession`]: pictures are copied into pixel
//! buffers from the session's pool, samples come out of the output callback as copies in
//! the outbox.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use objc2_core_foundation::{CFBoolean, CFDictionary};
use objc2_core_media::{CMSampleBuffer, kCMSampleAttachmentKey_NotSync};
use objc2_core_video::{CVPixelBuffer, CVPixelBufferPool, kCVReturnPoolAllocationFailed};
use objc2_video_toolbox::{
    VTCompressionSession, VTEncodeInfoFlags, kVTCouldNotCreateInstanceErr, kVTCouldNotFindVideoEncoderErr,
    kVTEncodeFrameOptionKey_ForceKeyFrame, kVTInvalidSessionErr, kVTParameterErr, kVTVideoEncoderMalfunctionErr,
    kVTVideoEncoderSpecification_EnableHardwareAcceleratedVideoEncoder,
    kVTVideoEncoderSpecification_RequireHardwareAcceleratedVideoEncoder,
};

use super::super::api::{
    EncodeSession, EncodeSetup, Encoded, EncodedSample, InputPicture, OsStatus, SampleTiming, VtPixels,
};
use super::super::outbox::Outbox;
use super::super::properties::Property;
use super::super::status::describe;
use super::property::set_property;
use super::{Session, cf, codec_type, format, frame_refcon, frame_tag, pixels, time};

/// An open compression session.
///
/// Fields drop in order after [`Drop::drop`] has invalidated the session: the session's
/// reference, then the outbox the callback wrote to.
pub(super) struct Encoder {
    /// The session.
    session: Session<VTCompressionSession>,
    /// The source pixel buffers' format (for the row sizes of the copy in).
    pixels: VtPixels,
    /// Where the callback leaves samples; its address is the callback's refcon.
    #[expect(dead_code, reason = "held, never read: it keeps the callback's refcon alive until the session is gone")]
    outbox: Arc<Outbox<Encoded>>,
}

/// `VTCompressionSessionCreate`, each of `setup.properties`, then
/// `VTCompressionSessionPrepareToEncodeFrames`. A refused hint is logged and skipped; any
/// other refusal fails the open with its status.
pub(super) fn open(setup: &EncodeSetup, outbox: Arc<Outbox<Encoded>>) -> Result<Box<dyn EncodeSession>, OsStatus> {
    let codec = codec_type(setup.codec).ok_or(kVTCouldNotFindVideoEncoderErr)?;
    let width = i32::try_from(setup.width).map_err(|_| kVTParameterErr)?;
    let height = i32::try_from(setup.height).map_err(|_| kVTParameterErr)?;
    // SAFETY: reads VideoToolbox's exported constant keys.
    let hardware = unsafe {
        if setup.require_hardware {
            kVTVideoEncoderSpecification_RequireHardwareAcceleratedVideoEncoder
        } else {
            kVTVideoEncoderSpecification_EnableHardwareAcceleratedVideoEncoder
        }
    };
    let specification = cf::dictionary(&[(hardware, cf::boolean(true)?)])?;
    let attributes = pixels::attributes(setup.pixels, Some((setup.width, setup.height)))?;
    let mut out: *mut VTCompressionSession = ptr::null_mut();
    // SAFETY: every argument is live for the call; VideoToolbox retains or copies the
    // dictionaries. The refcon stays valid for the session's life: it points into
    // `outbox`, which the `Encoder` built below owns and drops only after invalidating the
    // session (see `Drop`).
    let status = unsafe {
        VTCompressionSession::create(
            None,
            width,
            height,
            codec,
            Some(&specification),
            Some(&attributes),
            None,
            Some(on_output),
            Arc::as_ptr(&outbox).cast_mut().cast::<c_void>(),
            NonNull::from(&mut out),
        )
    };
    // SAFETY: a Create function's out parameter: NULL or a +1 reference we now own.
    let session = unsafe { cf::owned(status, out, kVTCouldNotCreateInstanceErr) }?;
    // Owned from here on: an early return below drops (and so invalidates) the session.
    let encoder = Encoder { session: Session(session), pixels: setup.pixels, outbox };
    for property in &setup.properties {
        let status = set_property(&encoder.session, property);
        if status == cf::NO_ERR {
            continue;
        }
        if !property.is_hint() {
            return Err(status);
        }
        tracing::debug!(
            key = property.key(),
            status = %describe(status),
            "videotoolbox: encoder refused an optional property, going on without it"
        );
    }
    // SAFETY: a plain call on the live session.
    cf::check(unsafe { encoder.session.prepare_to_encode_frames() })?;
    Ok(Box::new(encoder))
}

impl EncodeSession for Encoder {
    fn set(&mut self, property: &Property) -> Result<(), OsStatus> {
        cf::check(set_property(&self.session, property))
    }

    fn encode(
        &mut self,
        picture: &InputPicture<'_>,
        timing: SampleTiming,
        force_keyframe: bool,
        tag: u64,
    ) -> Result<(), OsStatus> {
        let refcon = frame_refcon(tag)?;
        // The pool can change when properties do, so it is asked for every frame (cheap, as
        // Apple documents); it is NULL only for a session that is no longer valid.
        // SAFETY: a plain getter on the live session; objc2 retains the returned pool.
        let pool = unsafe { self.session.pixel_buffer_pool() }.ok_or(kVTInvalidSessionErr)?;
        let mut out: *mut CVPixelBuffer = ptr::null_mut();
        // SAFETY: the pool is live; `out` is a valid out parameter.
        let status = unsafe { CVPixelBufferPool::create_pixel_buffer(None, &pool, NonNull::from(&mut out)) };
        // SAFETY: a Create function's out parameter: NULL or a +1 reference we now own.
        let buffer = unsafe { cf::owned(status, out, kCVReturnPoolAllocationFailed) }?;
        pixels::copy_in(&buffer, picture, self.pixels)?;
        let options = if force_keyframe {
            // SAFETY: reads VideoToolbox's exported constant key.
            let key = unsafe { kVTEncodeFrameOptionKey_ForceKeyFrame };
            Some(cf::dictionary(&[(key, cf::boolean(true)?)])?)
        } else {
            None
        };
        // SAFETY: the session, pixel buffer and options are live; VideoToolbox retains the
        // buffer for as long as it encodes from it (we drop our reference on return and do
        // not touch its pixels again). The frame refcon is an integer VideoToolbox only
        // hands back; the info-flags output is optional (NULL).
        let status = unsafe {
            self.session.encode_frame(
                &buffer,
                time::cm_time(timing.pts),
                time::cm_time(timing.duration),
                options.as_deref(),
                refcon,
                ptr::null_mut(),
            )
        };
        cf::check(status)
    }

    fn complete(&mut self) -> Result<(), OsStatus> {
        // A non-numeric time (kCMTimeInvalid) completes every pending frame.
        // SAFETY: a plain call on the live session; returns once every callback has run.
        cf::check(unsafe { self.session.complete_frames(time::invalid()) })
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // Completes every frame still in the session (Apple documents that every callback
        // has come when it returns), then tears the session down before the fields drop,
        // so the outbox (dropped last) is never reached through the refcon.
        // SAFETY: plain calls on the live session; later calls on it would fail cleanly.
        unsafe {
            let _ = self.session.complete_frames(time::invalid());
            self.session.invalidate();
        }
    }
}

/// The compression output callback (`VTCompressionOutputCallback`): copies the sample and
/// pushes the result to the outbox. Runs on VideoToolbox's threads; never unwinds.
///
/// # Safety
///
/// Only VideoToolbox calls it, for a session made by [`open`]: `refcon` is then the address
/// of that session's live `Outbox<Encoded>`, and `sample` is NULL or a sample buffer valid
/// for the duration of the call.
unsafe extern "C-unwind" fn on_output(
    refcon: *mut c_void,
    frame_refcon: *mut c_void,
    status: OsStatus,
    flags: VTEncodeInfoFlags,
    sample: *mut CMSampleBuffer,
) {
    // SAFETY: `refcon` is `Arc::as_ptr` of the outbox the `Encoder` owns; the Encoder drops
    // that Arc only after `VTCompressionSessionInvalidate`, after which no callback comes.
    let Some(outbox) = (unsafe { refcon.cast::<Outbox<Encoded>>().as_ref() }) else {
        return;
    };
    let tag = frame_tag(frame_refcon);
    // SAFETY: VideoToolbox passes NULL or a sample buffer it keeps alive for this call; we
    // only read (copy) it before returning, and retain nothing of it past that.
    let sample = unsafe { sample.as_ref() };
    // A panic must not unwind into VideoToolbox: it becomes a malfunction status.
    let encoded = catch_unwind(AssertUnwindSafe(|| encoded(tag, status, flags, sample))).unwrap_or(Encoded {
        tag,
        status: kVTVideoEncoderMalfunctionErr,
        dropped: false,
        sample: None,
    });
    // Pushing only locks and appends; should even that panic, it must not unwind either.
    let _ = catch_unwind(AssertUnwindSafe(|| outbox.push(encoded)));
}

/// The callback's result: the sample copied out when the encode succeeded and the frame
/// was not dropped; a copy failure (or a missing sample) becomes the status.
fn encoded(tag: u64, status: OsStatus, flags: VTEncodeInfoFlags, sample: Option<&CMSampleBuffer>) -> Encoded {
    let dropped = flags.contains(VTEncodeInfoFlags::FrameDropped);
    let mut result = Encoded { tag, status, dropped, sample: None };
    if status != cf::NO_ERR || dropped {
        return result;
    }
    match sample.ok_or(kVTVideoEncoderMalfunctionErr).and_then(copy_sample) {
        Ok(sample) => result.sample = Some(sample),
        Err(error) => result.status = error,
    }
    result
}

/// The sample's bytes (from its `CMBlockBuffer`), sync flag, times, NAL length size and, on
/// sync samples, its format description's parameter sets.
fn copy_sample(sample: &CMSampleBuffer) -> Result<EncodedSample, OsStatus> {
    // SAFETY: a getter on the live sample buffer; objc2 retains the block (Get Rule).
    let block = unsafe { sample.data_buffer() }.ok_or(kVTVideoEncoderMalfunctionErr)?;
    // SAFETY: a getter on the live block buffer.
    let len = unsafe { block.data_length() };
    let mut data = vec![0u8; len];
    if len > 0 {
        let destination = NonNull::from(data.as_mut_slice()).cast::<c_void>();
        // SAFETY: `destination` has room for exactly `len` bytes, the block's length; the
        // copy gathers them even when the block is not contiguous.
        cf::check(unsafe { block.copy_data_bytes(0, len, destination) })?;
    }
    let keyframe = is_sync(sample);
    // SAFETY: getters on the live sample buffer.
    let timing = unsafe {
        SampleTiming {
            pts: time::media_time(sample.presentation_time_stamp()),
            dts: time::media_time(sample.decode_time_stamp()),
            duration: time::media_time(sample.duration()),
        }
    };
    // SAFETY: a getter on the live sample buffer; objc2 retains the description.
    let description = unsafe { sample.format_description() }.ok_or(kVTVideoEncoderMalfunctionErr)?;
    let (parameter_sets, nal_length_size) = format::parameter_sets(&description, keyframe)?;
    Ok(EncodedSample { data, nal_length_size, keyframe, timing, parameter_sets })
}

/// A sync sample: its first sample-attachments dictionary has no `kCMSampleAttachmentKey_NotSync`,
/// or has it false (no attachments at all means every sample is sync).
fn is_sync(sample: &CMSampleBuffer) -> bool {
    // SAFETY: a getter on the live sample buffer; `false` creates nothing (the buffer is not
    // mutated), and objc2 retains the returned array.
    let Some(attachments) = (unsafe { sample.sample_attachments_array(false) }) else {
        return true;
    };
    let Some(first) = cf::item(&attachments, 0) else {
        return true;
    };
    let Some(first) = first.downcast_ref::<CFDictionary>() else {
        return true;
    };
    // SAFETY: reads Core Media's exported constant key.
    let not_sync = unsafe { kCMSampleAttachmentKey_NotSync };
    cf::get(first, not_sync).is_none_or(|value| value.downcast_ref::<CFBoolean>().is_some_and(|b| !b.as_bool()))
}
