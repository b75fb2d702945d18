//! What one GPU's NVENC can do for one codec: `nvEncGetEncodeGUIDs`,
//! `nvEncGetEncodeProfileGUIDs` and `nvEncGetEncodeCaps`, summarised for the probe's notes
//! and checked against a configuration by [`super::config::build_config`].

use super::super::sys::nvenc::*;
use super::api::{Api, CallResult, Handle};
use crate::codec::Codec;

/// Whether two GUIDs are equal (bindgen's `GUID` has no `PartialEq`).
pub(crate) fn same_guid(a: &GUID, b: &GUID) -> bool {
    (a.Data1, a.Data2, a.Data3, a.Data4) == (b.Data1, b.Data2, b.Data3, b.Data4)
}

/// `{6BC82762-4E63-4CA4-AA85-1E50F321F6BF}` style text.
pub(crate) fn guid_text(g: &GUID) -> String {
    let d = g.Data4;
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        g.Data1, g.Data2, g.Data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
    )
}

/// The NVENC codec GUID of `codec`, or why this build cannot encode it with NVENC.
pub(crate) fn codec_guid(codec: Codec) -> std::result::Result<GUID, &'static str> {
    match codec {
        Codec::H264 => Ok(NV_ENC_CODEC_H264_GUID),
        Codec::Hevc => Ok(NV_ENC_CODEC_HEVC_GUID),
        Codec::Av1 => Err("AV1 encode is not in NVENC API 11.1, the version this build speaks (it needs API 12.0)"),
        Codec::Vp9 => Err("NVENC has no VP9 encoder"),
        _ => Err("NVENC encodes H.264 and HEVC only"),
    }
}

/// Names of the profile GUIDs of API 11.1.
const PROFILE_NAMES: [(GUID, &str); 10] = [
    (NV_ENC_CODEC_PROFILE_AUTOSELECT_GUID, "autoselect"),
    (NV_ENC_H264_PROFILE_BASELINE_GUID, "baseline"),
    (NV_ENC_H264_PROFILE_MAIN_GUID, "main"),
    (NV_ENC_H264_PROFILE_HIGH_GUID, "high"),
    (NV_ENC_H264_PROFILE_HIGH_444_GUID, "high444"),
    (NV_ENC_H264_PROFILE_STEREO_GUID, "stereo"),
    (NV_ENC_H264_PROFILE_PROGRESSIVE_HIGH_GUID, "progressive-high"),
    (NV_ENC_H264_PROFILE_CONSTRAINED_HIGH_GUID, "constrained-high"),
    (NV_ENC_HEVC_PROFILE_MAIN_GUID, "main"),
    (NV_ENC_HEVC_PROFILE_MAIN10_GUID, "main10"),
];

/// The name of a profile GUID (`main10`, …), or the GUID itself.
pub(crate) fn profile_name(g: &GUID) -> String {
    if same_guid(g, &NV_ENC_HEVC_PROFILE_FREXT_GUID) {
        return "rext".to_owned();
    }
    match PROFILE_NAMES.iter().find(|(p, _)| same_guid(p, g)) {
        Some((_, n)) => (*n).to_owned(),
        None => guid_text(g),
    }
}

/// The capabilities of one NVENC for one codec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caps {
    /// The codec asked about.
    pub(crate) codec: Codec,
    /// Profiles (`nvEncGetEncodeProfileGUIDs`), by name.
    pub(crate) profiles: Vec<String>,
    /// `NV_ENC_CAPS_NUM_MAX_BFRAMES`.
    pub(crate) max_bframes: u32,
    /// `NV_ENC_CAPS_SUPPORTED_RATECONTROL_MODES`: a mask of `NV_ENC_PARAMS_RC_*` values
    /// (constant QP is 0 and always available).
    pub(crate) rc_modes: u32,
    /// `NV_ENC_CAPS_WIDTH_MAX`.
    pub(crate) max_width: u32,
    /// `NV_ENC_CAPS_HEIGHT_MAX`.
    pub(crate) max_height: u32,
    /// `NV_ENC_CAPS_WIDTH_MIN`.
    pub(crate) min_width: u32,
    /// `NV_ENC_CAPS_HEIGHT_MIN`.
    pub(crate) min_height: u32,
    /// `NV_ENC_CAPS_MB_NUM_MAX` (0 when the driver gives no limit).
    pub(crate) max_mbs: u32,
    /// `NV_ENC_CAPS_SUPPORT_LOOKAHEAD`.
    pub(crate) lookahead: bool,
    /// `NV_ENC_CAPS_SUPPORT_10BIT_ENCODE`.
    pub(crate) ten_bit: bool,
    /// `NV_ENC_CAPS_SUPPORT_LOSSLESS_ENCODE`.
    pub(crate) lossless: bool,
    /// `NV_ENC_CAPS_SUPPORT_YUV444_ENCODE`.
    pub(crate) yuv444: bool,
    /// `NV_ENC_CAPS_ASYNC_ENCODE_SUPPORT` (asynchronous mode exists on Windows only; this
    /// engine encodes synchronously everywhere).
    pub(crate) async_encode: bool,
    /// `NV_ENC_CAPS_SUPPORT_DYN_BITRATE_CHANGE`.
    pub(crate) dyn_bitrate: bool,
    /// `NV_ENC_CAPS_SUPPORT_DYN_RCMODE_CHANGE`.
    pub(crate) dyn_rc_mode: bool,
    /// `NV_ENC_CAPS_SUPPORT_TEMPORAL_AQ`.
    pub(crate) temporal_aq: bool,
    /// `NV_ENC_CAPS_NUM_ENCODER_ENGINES`.
    pub(crate) engines: u32,
}

impl Caps {
    /// Nothing supported (a placeholder until the real caps are queried).
    pub(crate) fn none(codec: Codec) -> Caps {
        Caps {
            codec,
            profiles: Vec::new(),
            max_bframes: 0,
            rc_modes: 0,
            max_width: 0,
            max_height: 0,
            min_width: 0,
            min_height: 0,
            max_mbs: 0,
            lookahead: false,
            ten_bit: false,
            lossless: false,
            yuv444: false,
            async_encode: false,
            dyn_bitrate: false,
            dyn_rc_mode: false,
            temporal_aq: false,
            engines: 0,
        }
    }

    /// Queries `codec` on an open session whose codec list is `guids`; `None` when the
    /// codec is not in it.
    pub(crate) fn query(api: &Api, encoder: Handle, codec: Codec, guids: &[GUID]) -> CallResult<Option<Caps>> {
        let Ok(guid) = codec_guid(codec) else { return Ok(None) };
        if !guids.iter().any(|g| same_guid(g, &guid)) {
            return Ok(None);
        }
        let profiles = api.profile_guids(encoder, guid)?.iter().map(profile_name).collect();
        let cap = |c: NV_ENC_CAPS| api.cap(encoder, guid, c);
        let count = |c: NV_ENC_CAPS| cap(c).map(|v| v.max(0).unsigned_abs());
        let flag = |c: NV_ENC_CAPS| cap(c).map(|v| v > 0);
        Ok(Some(Caps {
            codec,
            profiles,
            max_bframes: count(NV_ENC_CAPS_NUM_MAX_BFRAMES)?,
            rc_modes: count(NV_ENC_CAPS_SUPPORTED_RATECONTROL_MODES)?,
            max_width: count(NV_ENC_CAPS_WIDTH_MAX)?,
            max_height: count(NV_ENC_CAPS_HEIGHT_MAX)?,
            min_width: count(NV_ENC_CAPS_WIDTH_MIN)?,
            min_height: count(NV_ENC_CAPS_HEIGHT_MIN)?,
            max_mbs: count(NV_ENC_CAPS_MB_NUM_MAX)?,
            lookahead: flag(NV_ENC_CAPS_SUPPORT_LOOKAHEAD)?,
            ten_bit: flag(NV_ENC_CAPS_SUPPORT_10BIT_ENCODE)?,
            lossless: flag(NV_ENC_CAPS_SUPPORT_LOSSLESS_ENCODE)?,
            yuv444: flag(NV_ENC_CAPS_SUPPORT_YUV444_ENCODE)?,
            async_encode: flag(NV_ENC_CAPS_ASYNC_ENCODE_SUPPORT)?,
            dyn_bitrate: flag(NV_ENC_CAPS_SUPPORT_DYN_BITRATE_CHANGE)?,
            dyn_rc_mode: flag(NV_ENC_CAPS_SUPPORT_DYN_RCMODE_CHANGE)?,
            temporal_aq: flag(NV_ENC_CAPS_SUPPORT_TEMPORAL_AQ)?,
            engines: count(NV_ENC_CAPS_NUM_ENCODER_ENGINES)?,
        }))
    }

    /// Whether rate-control mode `mode` (`NV_ENC_PARAMS_RC_*`) is available.
    pub(crate) fn has_rc_mode(&self, mode: NV_ENC_PARAMS_RC_MODE) -> bool {
        mode == NV_ENC_PARAMS_RC_CONSTQP || self.rc_modes & mode != 0
    }

    /// One line each, for `video-hw probe`.
    pub(crate) fn notes(&self) -> Vec<String> {
        let yes = |b: bool| if b { "yes" } else { "no" };
        let mut rc = vec!["constqp"];
        if self.has_rc_mode(NV_ENC_PARAMS_RC_VBR) {
            rc.push("vbr");
        }
        if self.has_rc_mode(NV_ENC_PARAMS_RC_CBR) {
            rc.push("cbr");
        }
        let depth = match self.codec {
            Codec::Hevc if self.ten_bit => "8/10-bit",
            _ => "8-bit",
        };
        vec![
            format!(
                "{depth} up to {}x{} (at least {}x{})",
                self.max_width, self.max_height, self.min_width, self.min_height
            ),
            format!("{} NVENC engine(s)", self.engines),
            format!("profiles: {}", self.profiles.join(", ")),
            format!("B-frames: up to {}", self.max_bframes),
            format!("lookahead: {}", yes(self.lookahead)),
            format!("10-bit: {}", yes(self.ten_bit)),
            format!("lossless: {}", yes(self.lossless)),
            format!("rate control: {}", rc.join(", ")),
            format!(
                "async: {} (this engine encodes synchronously with frames in flight; async mode is Windows-only)",
                yes(self.async_encode)
            ),
            "AV1: not in NVENC API 11.1 (this build)".to_owned(),
        ]
    }
}

#[cfg(test)]
impl Caps {
    /// What a Turing-class GPU reports for `codec` (for tests).
    pub(crate) fn turing(codec: Codec) -> Caps {
        Caps {
            codec,
            profiles: vec!["autoselect".into(), "main".into()],
            max_bframes: 4,
            rc_modes: NV_ENC_PARAMS_RC_VBR | NV_ENC_PARAMS_RC_CBR,
            max_width: 8192,
            max_height: 8192,
            min_width: 145,
            min_height: 49,
            max_mbs: 262_144,
            lookahead: true,
            ten_bit: codec == Codec::Hevc,
            lossless: true,
            yuv444: true,
            async_encode: false,
            dyn_bitrate: true,
            dyn_rc_mode: false,
            temporal_aq: true,
            engines: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_helpers() {
        assert!(same_guid(&NV_ENC_CODEC_H264_GUID, &NV_ENC_CODEC_H264_GUID));
        assert!(!same_guid(&NV_ENC_CODEC_H264_GUID, &NV_ENC_CODEC_HEVC_GUID));
        assert_eq!(guid_text(&NV_ENC_CODEC_H264_GUID), "{6BC82762-4E63-4CA4-AA85-1E50F321F6BF}");
        assert_eq!(profile_name(&NV_ENC_HEVC_PROFILE_MAIN10_GUID), "main10");
        assert_eq!(profile_name(&NV_ENC_HEVC_PROFILE_FREXT_GUID), "rext");
        assert_eq!(profile_name(&NV_ENC_PRESET_P1_GUID), guid_text(&NV_ENC_PRESET_P1_GUID));
        assert!(codec_guid(Codec::Av1).unwrap_err().contains("API 11.1"));
        assert!(codec_guid(Codec::Vp9).is_err());
    }

    #[test]
    fn notes_name_the_caps() {
        let notes = Caps::turing(Codec::Hevc).notes().join("; ");
        for needle in ["8/10-bit", "up to 8192x8192", "B-frames: up to 4", "lookahead: yes", "10-bit: yes", "async: no"]
        {
            assert!(notes.contains(needle), "{needle}: {notes}");
        }
        assert!(notes.contains("AV1: not in NVENC API 11.1"), "{notes}");
        let mut c = Caps::turing(Codec::H264);
        c.rc_modes = 0;
        assert!(c.notes().iter().any(|n| n == "rate control: constqp"));
        assert!(c.has_rc_mode(NV_ENC_PARAMS_RC_CONSTQP));
        assert!(!c.has_rc_mode(NV_ENC_PARAMS_RC_CBR));
    }
}
