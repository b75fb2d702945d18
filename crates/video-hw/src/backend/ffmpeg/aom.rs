//! libaom's rate control through FFmpeg's libaom-av1: the options that hold a bitrate
//! target.
//!
//! Why these: libaomenc picks libaom's CBR when `minrate` = `maxrate` = `b`, and takes the
//! buffer from `bufsize`, but its starting level only from `rc_init_occupancy`; without it
//! libaom starts from its default of 4 seconds, above a one-second buffer, and overspends
//! the key frame. Measured on the 3-second camera clip (640x360, libaom 3.6 in Debian's
//! FFmpeg 5.1, 2026-11-25), CBR with only the three rates ended +59%, +54%, +42%, +22%, +7%
//! over the target at 150k, 300k, 600k, 1.2M, 2M (a one-second buffer 2.0 times full at
//! the lowest). With the buffer starting 60% full, no look-ahead (`lag-in-frames` 0: with
//! the default 600k ended +5.1%), undershoot allowed (`undershoot-pct` 100) and the key
//! frame capped at 1.5 average frames' budget (`max-intra-rate` 150; at 300 600k ended
//! +4.3%, without it 150k +17.7%): +1.9%, +1.8%, +2.7%, −0.9%, −2.6%, the buffer at most
//! 0.46 full, and 5% less CPU. The cap costs the key frame: 0.6 dB at 600k against 300.
//!
//! VBR: libaom's own one-pass VBR overshot the average by 20-60% whatever the caps, so a
//! VBR target is libaom's CBR at the average in a buffer of (peak − average) for one
//! second: no second then carries more than the peak. On the clip at 300k/450k, 600k/1.2M
//! and 1M/1.5M: −0.9%, +2.7%, +2.6%, busiest second 0.61-0.94 of the peak.

/// Option names with their values.
pub(crate) type Pairs = Vec<(&'static str, String)>;

/// Why libaom's CBR (which every bitrate target here is) must not open on the libavcodec of
/// `avcodec_version` (`major << 16 | minor << 8 | micro`), if it must not. FFmpeg 7.1's
/// libaomenc (libavcodec 61.19) writes the CBR rates into the coded-picture-buffer side
/// data after that memory was freed: valgrind shows 8-byte writes into a freed 40-byte
/// block in `avcodec_open2`, and the process aborts on a corrupted heap (PyAV 14.2's FFmpeg
/// 7.1 with libaom 3.11, 2026-11-25; the same libaom under 7.0 and 8.0 is fine). Other
/// 7.1.x point releases were not available to test, so every 61.19 is refused.
pub(crate) fn cbr_refused(avcodec_version: u32) -> Option<&'static str> {
    (avcodec_version >> 8 == (61 << 8 | 19)).then_some(
        "FFmpeg 7.1's libaomenc corrupts the heap when it opens libaom's CBR (libavcodec 61.19); \
         use constant quality with libaom-av1, or SVT-AV1",
    )
}

/// Options (`AVCodecContext` and libaomenc's own) and `aom-params` pairs for libaom's CBR
/// at `rate` bit/s in a buffer of `buffer` bits; `lag_free`: whether the configuration
/// leaves the look-ahead to the rate control (no look-ahead or low-latency tuning of its
/// own, which set `lag-in-frames` themselves).
pub(crate) fn cbr_options(rate: u64, buffer: u64, lag_free: bool) -> (Pairs, Pairs) {
    let mut opts = vec![
        ("minrate", rate.to_string()),
        ("maxrate", rate.to_string()),
        ("bufsize", buffer.to_string()),
        ("rc_init_occupancy", (buffer * 6 / 10).to_string()),
        ("undershoot-pct", "100".to_string()),
    ];
    if lag_free {
        opts.push(("lag-in-frames", "0".to_string()));
    }
    (opts, vec![("max-intra-rate", "150".to_string())])
}

/// The libaom loaded in this process (by libavcodec), as (major, minor), read from its file
/// name (`libaom.so.3.6.0`, PyAV's `libaom-<hash>.so.3.2.0`); `None` where none is loaded
/// or the platform has no `/proc/self/maps`.
pub(crate) fn loaded_version() -> Option<(u32, u32)> {
    match super::common::loaded_library_version("libaom")?[..] {
        [major, minor, ..] => Some((major, minor)),
        _ => None,
    }
}

/// Why forced key frames cannot be made with look-ahead off (`lag-in-frames 0`, which
/// bitrate targets and low latency set) on libaom `version`, if they cannot. libaom 3.2
/// (PyAV 12.3's and 13.1's FFmpeg) ignores `AOM_EFLAG_FORCE_KF` there: a frame forced at
/// 17 of 24 with a GOP of 10 gave key frames at 0, 10, 20, and with no GOP at 0 only,
/// where 3.6 (Debian's FFmpeg 5.1) and 3.11 (PyAV 16.0's) gave 0, 10, 17, 18 (2026-11-25).
/// Versions between 3.2 and 3.6 were not available to test: refused too.
pub(crate) fn forced_key_frames_refused(version: Option<(u32, u32)>) -> Option<&'static str> {
    version.is_some_and(|v| v < (3, 6)).then_some(
        "libaom before 3.6 makes no forced key frame without look-ahead (bitrate targets and low latency \
         run without it; key frames follow the GOP only)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbr_starts_its_buffer_at_sixty_percent() {
        let (opts, params) = cbr_options(400_000, 200_000, true);
        let get = |k: &str| opts.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!((get("minrate"), get("maxrate"), get("bufsize")), (Some("400000"), Some("400000"), Some("200000")));
        assert_eq!((get("rc_init_occupancy"), get("lag-in-frames")), (Some("120000"), Some("0")));
        assert_eq!(params, [("max-intra-rate", "150".to_string())]);
        assert!(cbr_options(1, 1, false).0.iter().all(|(n, _)| *n != "lag-in-frames"));
    }

    #[test]
    fn cbr_is_refused_on_ffmpeg_7_1_only() {
        let v = |major: u32, minor: u32, micro: u32| major << 16 | minor << 8 | micro;
        assert!(cbr_refused(v(61, 19, 100)).is_some_and(|why| why.contains("61.19")));
        assert!(cbr_refused(v(61, 19, 101)).is_some());
        for ok in [v(59, 37, 100), v(60, 31, 102), v(61, 3, 100), v(62, 11, 100)] {
            assert_eq!(cbr_refused(ok), None);
        }
    }

    #[test]
    fn libaom_before_3_6_refuses_forced_key_frames_without_look_ahead() {
        assert!(forced_key_frames_refused(Some((3, 2))).is_some());
        assert_eq!(forced_key_frames_refused(Some((3, 6))), None);
        assert_eq!(forced_key_frames_refused(Some((3, 11))), None);
        assert_eq!(forced_key_frames_refused(None), None);
    }
}
