//! A `VTDecompressionSession` behind [`DecodeSession`]: samples go in as copies wrapped in
//! Core Media buffers, pictures come out of the output callback as copies in the outbox.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use objc2_core_foundation::CFRetained;
use objc2_core_media::{
    CMBlockBuffer, CMFormatDescription, CMSampleBuffer, CMTime, kCMBlockBufferAssureMemoryNowFlag,
    kCMBlockBufferBadLengthParameterErr, kCMBlockBufferStructureAllocationFailedErr,
    kCMSampleBufferError_AllocationFailed,
};
use objc2_core_video::CVImageBuffer;
use objc2_video_toolbox::{
    VTDecodeFrameFlags, VTDecodeInfoFlags, VTDecompressionOutputCallbackRecord, VTDecompressionSession,
    kVTCouldNotCreateInstanceErr, kVTVideoDecoderMalfunctionErr,
    kVTVideoDecoderSpecification_EnableHardwareAcceleratedVideoDecoder,
};

use super::super::api::{DecodeFormat, DecodeSession, Decoded, OsStatus, SampleTiming};
use super::super::outbox::Outbox;
use super::{Session, cf, format, frame_refcon, frame_tag, pixels, time};

/// An open decompression session.
///
/// Fields drop in order after [`Drop::drop`] has invalidated the session: the session's
/// reference, then the format description, then the outbox the callback wrote to.
pub(super) struct Decoder {
    /// The session.
    session: Session<VTDecompressionSession>,
    /// The format description samples are tagged with: the one the session was made with,
    /// or the last one [`DecodeSession::accept`] accepted.
    format: CFRetained<CMFormatDescription>,
    /// Where the callback leaves pictures; its address is the callback's refcon.
    #[expect(dead_code, reason = "held, never read: it keeps the callback's refcon alive until the session is gone")]
    outbox: Arc<Outbox<Decoded>>,
}

/// `VTDecompressionSessionCreate` for `format`, with hardware decoding enabled and
/// IOSurface-backed destination buffers of `format.pixels`. No width or height is asked
/// for: VideoToolbox would scale its output to them; its own size is the picture's.
pub(super) fn open(format: &DecodeFormat, outbox: Arc<Outbox<Decoded>>) -> Result<Box<dyn DecodeSession>, OsStatus> {
    let description = format::description(format)?;
    // SAFETY: reads VideoToolbox's exported constant key.
    let hardware = unsafe { kVTVideoDecoderSpecification_EnableHardwareAcceleratedVideoDecoder };
    let specification = cf::dictionary(&[(hardware, cf::boolean(true)?)])?;
    let attributes = pixels::attributes(format.pixels, None)?;
    let record = VTDecompressionOutputCallbackRecord {
        decompressionOutputCallback: Some(on_output),
        decompressionOutputRefCon: Arc::as_ptr(&outbox).cast_mut().cast::<c_void>(),
    };
    let mut out: *mut VTDecompressionSession = ptr::null_mut();
    // SAFETY: every argument is live for the call; VideoToolbox copies the callback
    // record, and retains or copies the description and dictionaries. The refcon stays
    // valid for the session's life: it points into `outbox`, which the returned `Decoder`
    // owns and drops only after invalidating the session (see `Drop`).
    let status = unsafe {
        VTDecompressionSession::create(
            None,
            &description,
            Some(&specification),
            Some(&attributes),
            &raw const record,
            NonNull::from(&mut out),
        )
    };
    // SAFETY: a Create function's out parameter: NULL or a +1 reference we now own.
    let session = unsafe { cf::owned(status, out, kVTCouldNotCreateInstanceErr) }?;
    Ok(Box::new(Decoder { session: Session(session), format: description, outbox }))
}

/// A `CMBlockBuffer` that owns a copy of `bytes`: Core Media allocates the block (NULL
/// memory block, default allocator), then `CMBlockBufferReplaceDataBytes` copies into it, so
/// nothing of the caller's is referenced once this returns.
fn block_buffer(bytes: &[u8]) -> Result<CFRetained<CMBlockBuffer>, OsStatus> {
    let source = NonNull::from(bytes).cast::<c_void>();
    if bytes.is_empty() {
        // A block's length must not be zero.
        return Err(kCMBlockBufferBadLengthParameterErr);
    }
    let mut out: *mut CMBlockBuffer = ptr::null_mut();
    // SAFETY: a NULL memory block with no custom source asks Core Media to allocate
    // `bytes.len()` bytes itself (now, with the AssureMemoryNow flag); `out` is a valid
    // out parameter.
    let status = unsafe {
        CMBlockBuffer::create_with_memory_block(
            None,
            ptr::null_mut(),
            bytes.len(),
            None,
            ptr::null(),
            0,
            bytes.len(),
            kCMBlockBufferAssureMemoryNowFlag,
            NonNull::from(&mut out),
        )
    };
    // SAFETY: a Create function's out parameter: NULL or a +1 reference we now own.
    let block = unsafe { cf::owned(status, out, kCMBlockBufferStructureAllocationFailedErr) }?;
    // SAFETY: `source` points to `bytes.len()` readable bytes, and the block holds exactly
    // that many from offset 0.
    cf::check(unsafe { CMBlockBuffer::replace_data_bytes(source, &block, 0, bytes.len()) })?;
    Ok(block)
}

impl DecodeSession for Decoder {
    fn accept(&mut self, format: &DecodeFormat) -> bool {
        let Ok(description) = format::description(format) else {
            return false;
        };
        // SAFETY: a query on the live session with a live format description.
        let accepted = unsafe { self.session.can_accept_format_description(&description) };
        // The samples that follow carry the new parameter sets: they are tagged with the
        // new description.
        if accepted {
            self.format = description;
        }
        accepted
    }

    fn decode(&mut self, sample: &[u8], timing: SampleTiming, tag: u64) -> Result<(), OsStatus> {
        let refcon = frame_refcon(tag)?;
        let block = block_buffer(sample)?;
        let timing = time::timing_info(timing);
        let size = sample.len();
        let description: &CMFormatDescription = &self.format;
        let mut out: *mut CMSampleBuffer = ptr::null_mut();
        // SAFETY: one sample with one timing entry and one size entry, each pointing to a
        // live local; the block and description are live (Core Media retains them);
        // `out` is a valid out parameter.
        let status = unsafe {
            CMSampleBuffer::create_ready(
                None,
                Some(&block),
                Some(description),
                1,
                1,
                &raw const timing,
                1,
                &raw const size,
                NonNull::from(&mut out),
            )
        };
        // SAFETY: a Create function's out parameter: NULL or a +1 reference we now own.
        let buffer = unsafe { cf::owned(status, out, kCMSampleBufferError_AllocationFailed) }?;
        // No temporal processing: every picture comes back as soon as it is decoded, in
        // decoding order; the engine puts them in display order itself.
        let flags = VTDecodeFrameFlags::Frame_EnableAsynchronousDecompression;
        // SAFETY: the session and sample buffer are live (VideoToolbox retains the buffer
        // for as long as it decodes it); the frame refcon is an integer VideoToolbox only
        // hands back, never dereferences; the info-flags output is optional (NULL).
        cf::check(unsafe { self.session.decode_frame(&buffer, flags, refcon, ptr::null_mut()) })
    }

    fn finish(&mut self) -> Result<(), OsStatus> {
        // SAFETY: plain calls on the live session.
        cf::check(unsafe { self.session.finish_delayed_frames() })?;
        // SAFETY: as above; returns once every pending callback has run.
        cf::check(unsafe { self.session.wait_for_asynchronous_frames() })
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // Waits for every callback still due (Apple documents that none comes after this
        // returns), then tears the session down before the fields drop, so the outbox
        // (dropped last) is never reached through the refcon.
        // SAFETY: plain calls on the live session; later calls on it would fail cleanly.
        unsafe {
            let _ = self.session.wait_for_asynchronous_frames();
            self.session.invalidate();
        }
    }
}

/// The decompression output callback (`VTDecompressionOutputCallback`): copies the picture
/// and pushes the result to the outbox. Runs on VideoToolbox's threads; never unwinds.
///
/// # Safety
///
/// Only VideoToolbox calls it, for a session made by [`open`]: `refcon` is then the address
/// of that session's live `Outbox<Decoded>`, and `image` is NULL or a pixel buffer valid for
/// the duration of the call.
unsafe extern "C-unwind" fn on_output(
    refcon: *mut c_void,
    frame_refcon: *mut c_void,
    status: OsStatus,
    flags: VTDecodeInfoFlags,
    image: *mut CVImageBuffer,
    pts: CMTime,
    _duration: CMTime,
) {
    // SAFETY: `refcon` is `Arc::as_ptr` of the outbox the `Decoder` owns; the Decoder drops
    // that Arc only after `VTDecompressionSessionInvalidate`, after which no callback comes.
    let Some(outbox) = (unsafe { refcon.cast::<Outbox<Decoded>>().as_ref() }) else {
        return;
    };
    let tag = frame_tag(frame_refcon);
    // SAFETY: VideoToolbox passes NULL or an image buffer it keeps alive for this call; it
    // is only read (copied) before the callback returns, never retained past it.
    let image = unsafe { image.as_ref() };
    // A panic must not unwind into VideoToolbox: it becomes a malfunction status.
    let decoded = catch_unwind(AssertUnwindSafe(|| decoded(tag, status, flags, image, pts))).unwrap_or(Decoded {
        tag,
        status: kVTVideoDecoderMalfunctionErr,
        dropped: false,
        picture: None,
        pts: None,
    });
    // Pushing only locks and appends; should even that panic, it must not unwind either.
    let _ = catch_unwind(AssertUnwindSafe(|| outbox.push(decoded)));
}

/// The callback's result: the picture copied out when the decode succeeded and the frame
/// was not dropped; a copy failure (or a missing image) becomes the status.
fn decoded(
    tag: u64,
    status: OsStatus,
    flags: VTDecodeInfoFlags,
    image: Option<&CVImageBuffer>,
    pts: CMTime,
) -> Decoded {
    let dropped = flags.contains(VTDecodeInfoFlags::FrameDropped);
    let mut result = Decoded { tag, status, dropped, picture: None, pts: time::media_time(pts) };
    if status != cf::NO_ERR || dropped {
        return result;
    }
    match image.ok_or(kVTVideoDecoderMalfunctionErr).and_then(pixels::copy_out) {
        Ok(picture) => result.picture = Some(picture),
        Err(error) => result.status = error,
    }
    result
}
