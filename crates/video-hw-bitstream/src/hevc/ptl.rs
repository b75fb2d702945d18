//! `profile_tier_level()` (H.265 7.3.3), with the profile and level names people use.

use crate::rbsp::BitReader;
use video_hw_types::error::Result;

/// Most temporal sub-layers a bitstream can have (`max_sub_layers_minus1` is at most 6).
pub const MAX_SUB_LAYERS: usize = 7;

/// The profile part of a `profile_tier_level()` for the whole stream or for one sub-layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProfileInfo {
    /// `profile_space` (0 in every published profile).
    pub profile_space: u8,
    /// `tier_flag`: false for Main tier, true for High tier.
    pub tier_flag: bool,
    /// `profile_idc` as coded (see [`ProfileTierLevel::profile_idc`] for the one to use).
    pub profile_idc: u8,
    /// `profile_compatibility_flag[j]` at bit `31 - j` (as coded, first flag in the top bit).
    pub compatibility_flags: u32,
    /// `progressive_source_flag`.
    pub progressive_source_flag: bool,
    /// `interlaced_source_flag`.
    pub interlaced_source_flag: bool,
    /// `non_packed_constraint_flag`.
    pub non_packed_constraint_flag: bool,
    /// `frame_only_constraint_flag`.
    pub frame_only_constraint_flag: bool,
    /// The 44 bits that follow (`max_12bit_constraint_flag` … `inbld_flag`/reserved), right-aligned.
    pub constraint_flags: u64,
}

impl ProfileInfo {
    /// `profile_compatibility_flag[j]` (false for `j >= 32`).
    pub fn compatible_with(&self, j: u32) -> bool {
        j < 32 && self.compatibility_flags & (1 << (31 - j)) != 0
    }

    fn parse(r: &mut BitReader<'_>) -> Result<Self> {
        let profile_space = r.bits(2, "profile_space")? as u8;
        let tier_flag = r.flag("tier_flag")?;
        let profile_idc = r.bits(5, "profile_idc")? as u8;
        let compatibility_flags = r.bits(32, "profile_compatibility_flag")?;
        let progressive_source_flag = r.flag("progressive_source_flag")?;
        let interlaced_source_flag = r.flag("interlaced_source_flag")?;
        let non_packed_constraint_flag = r.flag("non_packed_constraint_flag")?;
        let frame_only_constraint_flag = r.flag("frame_only_constraint_flag")?;
        let hi = r.bits(32, "constraint flags")? as u64;
        let lo = r.bits(12, "constraint flags")? as u64;
        Ok(ProfileInfo {
            profile_space,
            tier_flag,
            profile_idc,
            compatibility_flags,
            progressive_source_flag,
            interlaced_source_flag,
            non_packed_constraint_flag,
            frame_only_constraint_flag,
            constraint_flags: (hi << 12) | lo,
        })
    }
}

/// What a `profile_tier_level()` says about one temporal sub-layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubLayerPtl {
    /// The sub-layer's profile, when `sub_layer_profile_present_flag` is set.
    pub profile: Option<ProfileInfo>,
    /// `sub_layer_level_idc`, when `sub_layer_level_present_flag` is set.
    pub level_idc: Option<u8>,
}

/// A parsed `profile_tier_level(1, maxNumSubLayersMinus1)`.
///
/// ```
/// use video_hw::bitstream::hevc::ProfileTierLevel;
/// let mut ptl = ProfileTierLevel::default();
/// ptl.general.profile_idc = 2;
/// ptl.general_level_idc = 93;
/// assert_eq!((ptl.profile_name(), ptl.level_name().as_str()), ("Main 10", "3.1"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProfileTierLevel {
    /// The profile of the whole bitstream.
    pub general: ProfileInfo,
    /// `general_level_idc`: 30 times the level number (93 = level 3.1).
    pub general_level_idc: u8,
    /// Number of sub-layer entries (`maxNumSubLayersMinus1`, at most 6).
    pub num_sub_layers: u8,
    /// Sub-layers `0..num_sub_layers`.
    pub sub_layers: [SubLayerPtl; MAX_SUB_LAYERS - 1],
}

impl ProfileTierLevel {
    /// Parses `profile_tier_level(1, max_sub_layers_minus1)`; `max_sub_layers_minus1` must be at most 6.
    pub fn parse(r: &mut BitReader<'_>, max_sub_layers_minus1: u8) -> Result<Self> {
        let n = (max_sub_layers_minus1 as usize).min(MAX_SUB_LAYERS - 1);
        let general = ProfileInfo::parse(r)?;
        let general_level_idc = r.bits(8, "general_level_idc")? as u8;
        let mut present = [(false, false); MAX_SUB_LAYERS - 1];
        for p in present.iter_mut().take(n) {
            p.0 = r.flag("sub_layer_profile_present_flag")?;
            p.1 = r.flag("sub_layer_level_present_flag")?;
        }
        if n > 0 {
            for _ in n..8 {
                r.bits(2, "reserved_zero_2bits")?;
            }
        }
        let mut sub_layers = [SubLayerPtl::default(); MAX_SUB_LAYERS - 1];
        for (sub, &(profile_present, level_present)) in sub_layers.iter_mut().zip(&present).take(n) {
            if profile_present {
                sub.profile = Some(ProfileInfo::parse(r)?);
            }
            if level_present {
                sub.level_idc = Some(r.bits(8, "sub_layer_level_idc")? as u8);
            }
        }
        Ok(ProfileTierLevel { general, general_level_idc, num_sub_layers: n as u8, sub_layers })
    }

    /// The profile to report: `general_profile_idc`, or when that is 0 the first profile
    /// the compatibility flags name (as ffmpeg does).
    pub fn profile_idc(&self) -> u8 {
        if self.general.profile_idc != 0 {
            return self.general.profile_idc;
        }
        (1..32).find(|&j| self.general.compatible_with(j)).map_or(0, |j| j as u8)
    }

    /// The profile name as ffprobe spells it ("Main", "Main 10", "Main Still Picture",
    /// "Rext", …); "unknown" when no profile is signalled.
    pub fn profile_name(&self) -> &'static str {
        profile_name(self.profile_idc())
    }

    /// The level as people write it: `general_level_idc / 30` with one decimal ("4.0", "3.1").
    pub fn level_name(&self) -> String {
        level_name(self.general_level_idc)
    }
}

/// The name of HEVC profile `profile_idc` as ffprobe spells it where ffmpeg names it
/// (1 to 4, 6, 9), else the name of H.265 Annex A/F/G/H/I; "unknown" for 0 and reserved values.
pub fn profile_name(profile_idc: u8) -> &'static str {
    match profile_idc {
        1 => "Main",
        2 => "Main 10",
        3 => "Main Still Picture",
        4 => "Rext",
        5 => "High Throughput",
        6 => "Multiview Main",
        7 => "Scalable Main",
        8 => "3D Main",
        9 => "Scc",
        10 => "Scalable Rext",
        11 => "High Throughput Scc",
        _ => "unknown",
    }
}

/// `level_idc / 30` with one decimal: 120 → "4.0", 93 → "3.1", 186 → "6.2".
pub fn level_name(level_idc: u8) -> String {
    let tenths = (level_idc as u32 * 10 + 15) / 30;
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Main profile, compatible with Main and Main 10, progressive, frame only, level 4.0,
    /// as x265 writes it.
    const MAIN_L40: [u8; 12] = [0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78];

    #[test]
    fn parses_general_profile_and_level() {
        let mut r = BitReader::new(&MAIN_L40);
        let ptl = ProfileTierLevel::parse(&mut r, 0).unwrap();
        assert_eq!(ptl.general.profile_idc, 1);
        assert!(ptl.general.compatible_with(1) && ptl.general.compatible_with(2));
        assert!(!ptl.general.compatible_with(3));
        assert!(ptl.general.progressive_source_flag && !ptl.general.interlaced_source_flag);
        assert!(ptl.general.frame_only_constraint_flag);
        assert_eq!(ptl.general_level_idc, 120);
        assert_eq!(ptl.level_name(), "4.0");
        assert_eq!(ptl.profile_name(), "Main");
        assert_eq!(r.bit_position(), 96);
    }

    #[test]
    fn sub_layers_are_read() {
        // Two sub-layers (max_sub_layers_minus1 = 2): sub-layer 0 has a level, sub-layer 1 nothing.
        let mut data = MAIN_L40.to_vec();
        // flags: (0,1) (0,0) then 6 x reserved 2 bits = 4 + 12 = 16 bits, then level 8 bits.
        data.extend_from_slice(&[0b0100_0000, 0x00, 90]);
        let mut r = BitReader::new(&data);
        let ptl = ProfileTierLevel::parse(&mut r, 2).unwrap();
        assert_eq!(ptl.num_sub_layers, 2);
        assert_eq!(ptl.sub_layers[0].level_idc, Some(90));
        assert_eq!(ptl.sub_layers[1], SubLayerPtl::default());
        assert_eq!(r.bit_position(), 96 + 16 + 8);
    }

    #[test]
    fn profile_falls_back_to_compatibility_flags() {
        let mut ptl = ProfileTierLevel::default();
        ptl.general.compatibility_flags = 1 << (31 - 2) | 1 << (31 - 4);
        assert_eq!(ptl.profile_idc(), 2);
        assert_eq!(ptl.profile_name(), "Main 10");
        ptl.general.compatibility_flags = 0;
        assert_eq!(ptl.profile_name(), "unknown");
    }

    #[test]
    fn level_names() {
        assert_eq!(level_name(30), "1.0");
        assert_eq!(level_name(60), "2.0");
        assert_eq!(level_name(63), "2.1");
        assert_eq!(level_name(123), "4.1");
        assert_eq!(level_name(186), "6.2");
        assert_eq!(level_name(255), "8.5");
        assert_eq!(level_name(0), "0.0");
    }

    #[test]
    fn truncated_is_an_error() {
        let mut r = BitReader::new(&MAIN_L40[..11]);
        assert!(ProfileTierLevel::parse(&mut r, 0).is_err());
    }
}
