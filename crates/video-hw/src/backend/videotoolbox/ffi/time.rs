//! [`MediaTime`] and [`SampleTiming`] as Core Media's `CMTime` and `CMSampleTimingInfo`:
//! `None` is `kCMTimeInvalid`, and only numeric times (valid, not infinite or indefinite,
//! with a positive timescale) come back as `Some`.

use objc2_core_media::{CMSampleTimingInfo, CMTime, CMTimeFlags, kCMTimeInvalid};

use super::super::api::{MediaTime, SampleTiming};

/// `kCMTimeInvalid`.
pub(super) fn invalid() -> CMTime {
    // SAFETY: reads Core Media's exported constant, an immutable plain-data struct that
    // lives for the whole process.
    unsafe { kCMTimeInvalid }
}

/// A numeric `CMTime` (`kCMTimeFlags_Valid`, epoch 0), or `kCMTimeInvalid` for `None` or a
/// time whose timescale is not positive (which Core Media would treat as malformed).
pub(super) fn cm_time(time: Option<MediaTime>) -> CMTime {
    match time {
        Some(MediaTime { value, timescale }) if timescale > 0 => {
            CMTime { value, timescale, flags: CMTimeFlags::Valid, epoch: 0 }
        }
        _ => invalid(),
    }
}

/// The time, when it is numeric.
pub(super) fn media_time(time: CMTime) -> Option<MediaTime> {
    // Copy the fields out: `CMTime` is `packed(4)`, so they cannot be borrowed in place.
    let CMTime { value, timescale, flags, .. } = time;
    let not_numeric = CMTimeFlags::PositiveInfinity | CMTimeFlags::NegativeInfinity | CMTimeFlags::Indefinite;
    let numeric = flags.contains(CMTimeFlags::Valid) && !flags.intersects(not_numeric) && timescale > 0;
    numeric.then_some(MediaTime { value, timescale })
}

/// One sample's `CMSampleTimingInfo`.
pub(super) fn timing_info(timing: SampleTiming) -> CMSampleTimingInfo {
    CMSampleTimingInfo {
        duration: cm_time(timing.duration),
        presentationTimeStamp: cm_time(timing.pts),
        decodeTimeStamp: cm_time(timing.dts),
    }
}
