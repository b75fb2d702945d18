//! Timestamps between a session's timebase and Core Media's `CMTime`.
//!
//! A timebase of 1/N with N fitting a `CMTime` timescale (an `i32`) maps tick for tick,
//! so nothing is rounded (1/90000, 1/1000, 1001/30000 does not: it is rescaled to
//! 1/90000 ticks, exact for every rate of the NTSC family).

use crate::codec::Rational;

use super::api::MediaTime;

/// The timescale used when the timebase is not 1/N.
const FALLBACK_TIMESCALE: i32 = 90_000;

/// `ts` ticks of `timebase` as a `CMTime`; `None` when it does not fit.
pub(crate) fn to_media(ts: i64, timebase: Rational) -> Option<MediaTime> {
    if timebase.num <= 0 || timebase.den <= 0 {
        return None;
    }
    if timebase.num == 1
        && let Ok(timescale) = i32::try_from(timebase.den)
    {
        return Some(MediaTime { value: ts, timescale });
    }
    let value = i128::from(ts) * i128::from(timebase.num) * i128::from(FALLBACK_TIMESCALE) / i128::from(timebase.den);
    Some(MediaTime { value: i64::try_from(value).ok()?, timescale: FALLBACK_TIMESCALE })
}

/// A `CMTime` in ticks of `timebase`, rounded to the nearest; `None` when it does not fit.
pub(crate) fn from_media(t: MediaTime, timebase: Rational) -> Option<i64> {
    if t.timescale <= 0 || timebase.num <= 0 || timebase.den <= 0 {
        return None;
    }
    let num = i128::from(t.value) * i128::from(timebase.den);
    let den = i128::from(t.timescale) * i128::from(timebase.num);
    let rounded = if num >= 0 { (num + den / 2) / den } else { (num - den / 2) / den };
    i64::try_from(rounded).ok()
}

/// One frame's duration at `fps`, as a `CMTime` (`None` for an unusable rate).
pub(crate) fn frame_duration(fps: Rational) -> Option<MediaTime> {
    let timescale = i32::try_from(fps.num).ok().filter(|t| *t > 0)?;
    (fps.den > 0).then_some(MediaTime { value: fps.den, timescale })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_over_n_maps_tick_for_tick_and_others_rescale() {
        let tb = Rational::new(1, 90_000);
        assert_eq!(to_media(3003, tb), Some(MediaTime { value: 3003, timescale: 90_000 }));
        assert_eq!(from_media(MediaTime { value: 3003, timescale: 90_000 }, tb), Some(3003));
        let ntsc = Rational::new(1001, 30_000);
        let t = to_media(7, ntsc).unwrap();
        assert_eq!(t, MediaTime { value: 7 * 3003, timescale: 90_000 });
        assert_eq!(from_media(t, ntsc), Some(7));
        assert_eq!(from_media(MediaTime { value: 1, timescale: 3 }, Rational::new(1, 1000)), Some(333));
        assert_eq!(from_media(MediaTime { value: -1, timescale: 3 }, Rational::new(1, 1000)), Some(-333));
        assert_eq!(to_media(1, Rational::new(0, 1)), None);
        assert_eq!(to_media(i64::MAX, Rational::new(3, 2)), None);
        assert_eq!(from_media(MediaTime { value: 1, timescale: 0 }, tb), None);
        assert_eq!(frame_duration(Rational::new(30_000, 1001)), Some(MediaTime { value: 1001, timescale: 30_000 }));
    }
}
