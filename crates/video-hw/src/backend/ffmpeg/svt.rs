//! SVT-AV1's rate control through FFmpeg's libsvtav1: which SVT-AV1 the loaded libavcodec
//! uses, and the `svtav1-params` that hold a bitrate target on it.
//!
//! Why by version: SVT-AV1 does CBR only in its low-delay prediction structure, and how
//! that structure meets a target changed. Measured on the 3-second camera clip (640x360,
//! 2026-11-25; SVT-AV1 1.4.1 from Debian's FFmpeg 5.1, 4.1.0 from PyAV 18.1's FFmpeg 8.1):
//!
//! * 1.x: `rc=2:pred-struct=1` alone overshot +49% at 150 kb/s and +22% at 300 kb/s, and
//!   ended 6% under at 2 Mb/s. With the buffer starting 80% full and aimed at 90%, and
//!   undershoot allowed, +19%, +8.2%, +2.5%, −3.1%, −3.1% at 150k-2M: better, but 1.x
//!   keeps three hierarchical levels in low delay and re-aims only every 8 frames, so its
//!   first base-layer frames at the lowest rates overspend a one-second buffer (no flat
//!   structure, no `rtc`, in 1.x).
//! * 4.x: the same settings overshot +81% at 150 kb/s; a flat IPP structure (`rtc=1`,
//!   `hierarchical-levels=0`) with the buffer starting at 100 ms and aimed at 300 ms held
//!   every rate within ±1.6% (buffer at most 0.54 full), at about 12% more CPU. 1.x's set
//!   misses there and 4.x's on 1.x (+13% at 150k, −13% at 2M): the two need their own.
//! * 3.x (3.1.0 from PyAV 16.0's FFmpeg 8.0, 2026-11-25) takes `rtc` and gets 4.x's set:
//!   +20%, +13% at 150k and 300k, +0.7%, −2.3%, −4.0% from 600k up, where 1.x's set gave
//!   +42%, +27%, +17.5%, +10%, +4.6%.
//! * 2.x (2.2.0 from PyAV 14.2's FFmpeg 7.1) has no `rtc` (the key is ignored) and keeps
//!   1.x's set: +27%, +12%, +8.3%, +5.6%, −2.1%. No buffer setting held it at both ends (a
//!   sweep of six initial/optimal pairs: 150k always +12% or more, 2M −6% to −10% wherever
//!   600k and 1.2M were within ±5%), and its threads make runs differ by a few percent.
//!
//! Before 4.0 a bitrate target below about 0.09 bits per pixel is not held, and 2.x misses
//! above it too: the first base-layer pictures after the key frame overspend (at 150k on
//! 1.4 the one after it took 0.93 s of the buffer, at quantizer index 180, while every other
//! layer sat at 255, the most there is).
//! [`rate_caveat`] says so where it applies.
//!
//! VBR: SVT-AV1's own (`rc=1`) keeps a 240-second buffer and takes a peak only in
//! capped-CRF mode (3.x and later refuse a peak with `rc=1`), and its average missed by
//! 2-24% on short clips. So a VBR target is low-delay CBR at the average with a buffer of
//! (peak − average) for one second: no second can then carry more than the peak. On the clip:
//! within −8.3..+2.5% (1.x) and −0.5..−0.3% (4.x), busiest second 0.69-0.90 of the peak. The
//! price is SVT's random-access structure: about 2.3 dB of PSNR at 600 kb/s on 1.x.

use std::sync::OnceLock;

/// The major version of the SVT-AV1 library loaded in this process (by libavcodec), read
/// from its file name (`libSvtAv1Enc.so.1.4.1`, PyAV's `libSvtAv1Enc-<hash>.so.4.1.0`);
/// `None` where none is loaded or the platform has no `/proc/self/maps`.
pub(crate) fn loaded_major() -> Option<u32> {
    static FOUND: OnceLock<u32> = OnceLock::new();
    if let Some(m) = FOUND.get() {
        return Some(*m);
    }
    let major = super::common::loaded_library_version("libSvtAv1Enc")?[0];
    Some(*FOUND.get_or_init(|| major))
}

/// The `svtav1-params` (key, value) pairs for a bitrate target: CBR at `rate`, or for VBR
/// CBR at the average with a buffer of `buffer_ms` (see the module's doc), on SVT-AV1 of
/// `major` (`None`: unknown, 1.x's).
pub(crate) fn rate_params(major: Option<u32>, buffer_ms: Option<u64>) -> Vec<(&'static str, String)> {
    let flat = major.is_some_and(|m| m >= 3);
    let mut p = vec![("rc", "2".to_string()), ("pred-struct", "1".to_string())];
    if flat {
        p.push(("rtc", "1".to_string()));
        p.push(("hierarchical-levels", "0".to_string()));
    }
    p.push(("undershoot-pct", "100".to_string()));
    match (buffer_ms, flat) {
        // CBR: SVT's own one-second buffer.
        (None, true) => {
            p.push(("buf-initial-sz", "100".to_string()));
            p.push(("buf-optimal-sz", "300".to_string()));
        }
        (None, false) => {
            p.push(("buf-initial-sz", "800".to_string()));
            p.push(("buf-optimal-sz", "900".to_string()));
        }
        // VBR: SVT takes buffers of 20 ms to 10 s.
        (Some(ms), flat) => {
            let ms = ms.clamp(20, 10_000);
            let (initial, optimal) =
                if flat { ((ms / 10).max(20), (ms * 3 / 10).max(30)) } else { (ms * 8 / 10, ms * 9 / 10) };
            p.push(("buf-sz", ms.to_string()));
            p.push(("buf-initial-sz", initial.min(ms).to_string()));
            p.push(("buf-optimal-sz", optimal.min(ms).to_string()));
        }
    }
    p
}

/// What a bitrate target on SVT-AV1 of `major` may miss (see the module's doc), for the
/// encoder's description and the probe's notes; `None` from 4.0, which holds every target.
pub(crate) fn rate_caveat(major: Option<u32>) -> Option<String> {
    let version = match major {
        Some(m) if m >= 4 => return None,
        Some(m) => format!("SVT-AV1 {m}.x"),
        None => "SVT-AV1 of unknown version".to_string(),
    };
    Some(format!(
        "{version} may miss bitrate targets, most of all below about 0.09 bits per pixel; \
         4.0 and later hold them (docs/ffmpeg-encode.md)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_major_gets_its_own_set() {
        let join = |p: Vec<(&str, String)>| p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(":");
        assert_eq!(
            join(rate_params(Some(1), None)),
            "rc=2:pred-struct=1:undershoot-pct=100:buf-initial-sz=800:buf-optimal-sz=900"
        );
        assert_eq!(join(rate_params(None, None)), join(rate_params(Some(2), None)));
        assert_eq!(join(rate_params(Some(3), None)), join(rate_params(Some(4), None)));
        assert_eq!(
            join(rate_params(Some(4), None)),
            "rc=2:pred-struct=1:rtc=1:hierarchical-levels=0:undershoot-pct=100:buf-initial-sz=100:buf-optimal-sz=300"
        );
        assert_eq!(
            join(rate_params(Some(1), Some(500))),
            "rc=2:pred-struct=1:undershoot-pct=100:buf-sz=500:buf-initial-sz=400:buf-optimal-sz=450"
        );
        assert!(join(rate_params(Some(4), Some(500))).ends_with("buf-sz=500:buf-initial-sz=50:buf-optimal-sz=150"));
        assert!(join(rate_params(Some(4), Some(5))).contains("buf-sz=20:buf-initial-sz=20:buf-optimal-sz=20"));
    }

    #[test]
    fn versions_before_4_carry_a_caveat() {
        assert_eq!(rate_caveat(Some(4)), None);
        assert!(rate_caveat(Some(1)).unwrap().starts_with("SVT-AV1 1.x may miss bitrate targets"));
        assert!(rate_caveat(None).unwrap().contains("unknown version"));
    }
}
