//! Channel layouts as FFmpeg names them: a channel count and a mask of speaker positions
//! in `AV_CH_*` bit order, the standard layouts' names (`mono`, `stereo`, `5.1(side)`, …)
//! and each codec's default layout for a channel count.

use crate::types::AudioCodec;

/// Speaker position bits in FFmpeg's `AV_CH_*` order (libavutil/channel_layout.h): the
/// order of a native-order layout's channels in decoded frames.
pub mod ch {
    /// Front left.
    pub const FL: u64 = 0x1;
    /// Front right.
    pub const FR: u64 = 0x2;
    /// Front centre.
    pub const FC: u64 = 0x4;
    /// Low-frequency effects.
    pub const LFE: u64 = 0x8;
    /// Back left.
    pub const BL: u64 = 0x10;
    /// Back right.
    pub const BR: u64 = 0x20;
    /// Front left of centre.
    pub const FLC: u64 = 0x40;
    /// Front right of centre.
    pub const FRC: u64 = 0x80;
    /// Back centre.
    pub const BC: u64 = 0x100;
    /// Side left.
    pub const SL: u64 = 0x200;
    /// Side right.
    pub const SR: u64 = 0x400;
    /// Top centre.
    pub const TC: u64 = 0x800;
    /// Top front left.
    pub const TFL: u64 = 0x1000;
    /// Top front centre.
    pub const TFC: u64 = 0x2000;
    /// Top front right.
    pub const TFR: u64 = 0x4000;
    /// Top back left.
    pub const TBL: u64 = 0x8000;
    /// Top back centre.
    pub const TBC: u64 = 0x10000;
    /// Top back right.
    pub const TBR: u64 = 0x20000;
    /// Downmix left (stereo downmix).
    pub const DL: u64 = 0x2000_0000;
    /// Downmix right.
    pub const DR: u64 = 0x4000_0000;
    /// Wide left.
    pub const WL: u64 = 0x8000_0000;
    /// Wide right.
    pub const WR: u64 = 0x1_0000_0000;
    /// Surround direct left.
    pub const SDL: u64 = 0x2_0000_0000;
    /// Surround direct right.
    pub const SDR: u64 = 0x4_0000_0000;
    /// Second low-frequency effects channel.
    pub const LFE2: u64 = 0x8_0000_0000;
    /// Top side left.
    pub const TSL: u64 = 0x10_0000_0000;
    /// Top side right.
    pub const TSR: u64 = 0x20_0000_0000;
    /// Bottom front centre.
    pub const BFC: u64 = 0x40_0000_0000;
    /// Bottom front left.
    pub const BFL: u64 = 0x80_0000_0000;
    /// Bottom front right.
    pub const BFR: u64 = 0x100_0000_0000;
}

use ch::*;

/// FFmpeg's 22.2 layout (`AV_CH_LAYOUT_22POINT2`), which AAC's channel configuration 13 also
/// names.
pub(crate) const LAYOUT_22_2: u64 = FL
    | FR
    | FC
    | LFE
    | BL
    | BR
    | FLC
    | FRC
    | BC
    | SL
    | SR
    | TC
    | TFL
    | TFC
    | TFR
    | TBL
    | TBC
    | TBR
    | LFE2
    | TSL
    | TSR
    | BFC
    | BFL
    | BFR;

/// The names of the speaker bits, lowest first, as `av_channel_layout_describe` writes
/// them for a layout that has no standard name (`FL+FR+TC`).
const CHANNEL_NAMES: [(u64, &str); 30] = [
    (FL, "FL"),
    (FR, "FR"),
    (FC, "FC"),
    (LFE, "LFE"),
    (BL, "BL"),
    (BR, "BR"),
    (FLC, "FLC"),
    (FRC, "FRC"),
    (BC, "BC"),
    (SL, "SL"),
    (SR, "SR"),
    (TC, "TC"),
    (TFL, "TFL"),
    (TFC, "TFC"),
    (TFR, "TFR"),
    (TBL, "TBL"),
    (TBC, "TBC"),
    (TBR, "TBR"),
    (DL, "DL"),
    (DR, "DR"),
    (WL, "WL"),
    (WR, "WR"),
    (SDL, "SDL"),
    (SDR, "SDR"),
    (LFE2, "LFE2"),
    (TSL, "TSL"),
    (TSR, "TSR"),
    (BFC, "BFC"),
    (BFL, "BFL"),
    (BFR, "BFR"),
];

/// FFmpeg's standard layouts in the order of libavutil's `channel_layout_map` (FFmpeg
/// 5.1 to 7; `ffmpeg -layouts` lists them): the first of a channel count is
/// `av_channel_layout_default`'s choice, and a mask found here is printed by its name.
const STANDARD: [(&str, u64); 29] = [
    ("mono", FC),
    ("stereo", FL | FR),
    ("2.1", FL | FR | LFE),
    ("3.0", FL | FR | FC),
    ("3.0(back)", FL | FR | BC),
    ("4.0", FL | FR | FC | BC),
    ("quad", FL | FR | BL | BR),
    ("quad(side)", FL | FR | SL | SR),
    ("3.1", FL | FR | FC | LFE),
    ("5.0", FL | FR | FC | BL | BR),
    ("5.0(side)", FL | FR | FC | SL | SR),
    ("4.1", FL | FR | FC | LFE | BC),
    ("5.1", FL | FR | FC | LFE | BL | BR),
    ("5.1(side)", FL | FR | FC | LFE | SL | SR),
    ("6.0", FL | FR | FC | BC | SL | SR),
    ("6.0(front)", FL | FR | FLC | FRC | SL | SR),
    ("hexagonal", FL | FR | FC | BL | BR | BC),
    ("6.1", FL | FR | FC | LFE | BC | SL | SR),
    ("6.1(back)", FL | FR | FC | LFE | BL | BR | BC),
    ("6.1(front)", FL | FR | LFE | FLC | FRC | SL | SR),
    ("7.0", FL | FR | FC | BL | BR | SL | SR),
    ("7.0(front)", FL | FR | FC | FLC | FRC | SL | SR),
    ("7.1", FL | FR | FC | LFE | BL | BR | SL | SR),
    ("7.1(wide)", FL | FR | FC | LFE | BL | BR | FLC | FRC),
    ("7.1(wide-side)", FL | FR | FC | LFE | FLC | FRC | SL | SR),
    ("octagonal", FL | FR | FC | BL | BR | BC | SL | SR),
    ("hexadecagonal", FL | FR | FC | BL | BR | BC | SL | SR | TFL | TFC | TFR | TBL | TBC | TBR | WL | WR),
    ("downmix", DL | DR),
    ("22.2", LAYOUT_22_2),
];

/// A channel layout: how many channels and, when known, which speaker each is.
///
/// `mask` holds one `AV_CH_*` bit ([`ch`]) per channel, and the channels of decoded audio
/// come in the order of the bits, lowest first (FFmpeg's native order), whatever order
/// the codec stores them in; `mask == 0` means the order is unspecified (FFmpeg's
/// `AV_CHANNEL_ORDER_UNSPEC`). A mask whose bit count differs from `channels` is never
/// built by this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChannelLayout {
    /// Number of channels.
    pub channels: u16,
    /// Speaker positions (`AV_CH_*` bits), 0 when unspecified.
    pub mask: u64,
}

impl ChannelLayout {
    /// Mono (front centre).
    pub const MONO: ChannelLayout = ChannelLayout { channels: 1, mask: FC };
    /// Stereo (front left, front right).
    pub const STEREO: ChannelLayout = ChannelLayout { channels: 2, mask: FL | FR };

    /// The layout with these speakers (as many channels as bits in `mask`).
    pub fn from_mask(mask: u64) -> ChannelLayout {
        ChannelLayout { channels: mask.count_ones() as u16, mask }
    }

    /// `channels` channels in an unspecified order.
    pub fn unspecified(channels: u16) -> ChannelLayout {
        ChannelLayout { channels, mask: 0 }
    }

    /// FFmpeg's default layout for a channel count (`av_channel_layout_default`): the
    /// first standard layout with that many channels — 1 mono, 2 stereo, 3 `2.1`, 4
    /// `4.0`, 5 `5.0`, 6 `5.1`, 7 `6.1`, 8 `7.1`, 16 `hexadecagonal`, 24 `22.2` —, else
    /// unspecified.
    pub fn default_for(channels: u16) -> ChannelLayout {
        STANDARD
            .iter()
            .find(|(_, m)| m.count_ones() == u32::from(channels))
            .map_or(ChannelLayout::unspecified(channels), |&(_, m)| ChannelLayout::from_mask(m))
    }

    /// The layout FFmpeg's decoder of `codec` gives `channels` channels when the stream
    /// says no more than the count: the codec's own channel order (Vorbis and Opus
    /// families, FLAC, AC-3's full-bandwidth modes with LFE) where it fixes one, else
    /// [`default_for`](Self::default_for).
    pub fn for_codec(codec: AudioCodec, channels: u16) -> ChannelLayout {
        match (codec, channels) {
            (_, 1) => ChannelLayout::MONO,
            (_, 2) => ChannelLayout::STEREO,
            (AudioCodec::Vorbis | AudioCodec::Opus, n) => vorbis_order(n),
            // libavcodec/flac.c `flac_channel_layouts`.
            (AudioCodec::Flac, 3) => ChannelLayout::from_mask(FL | FR | FC),
            (AudioCodec::Flac, 4) => ChannelLayout::from_mask(FL | FR | BL | BR),
            (AudioCodec::Flac, 5) => ChannelLayout::from_mask(FL | FR | FC | SL | SR),
            (AudioCodec::Flac, 6) => ChannelLayout::from_mask(FL | FR | FC | LFE | SL | SR),
            (AudioCodec::Flac, 7) => ChannelLayout::from_mask(FL | FR | FC | LFE | BC | SL | SR),
            (AudioCodec::Flac, 8) => ChannelLayout::from_mask(FL | FR | FC | LFE | BL | BR | SL | SR),
            // AC-3 3/2 with LFE, the usual 6 channels (acmod 7 + lfeon).
            (AudioCodec::Ac3 | AudioCodec::Eac3, 6) => ChannelLayout::from_mask(FL | FR | FC | LFE | SL | SR),
            (AudioCodec::Ac3 | AudioCodec::Eac3, 5) => ChannelLayout::from_mask(FL | FR | FC | SL | SR),
            (AudioCodec::Aac, n) => super::aac::layout_of_config(n.min(8) as u8)
                .filter(|l| l.channels == n)
                .unwrap_or_else(|| ChannelLayout::default_for(n)),
            (_, n) => ChannelLayout::default_for(n),
        }
    }

    /// The name ffprobe prints as `channel_layout`: a standard layout's name (`mono`,
    /// `stereo`, `5.1`, `5.1(side)`, …), the speakers joined with `+` with the count in
    /// front for other masks (`3 channels (FL+FR+TC)`), `N channels` when unspecified.
    pub fn name(&self) -> String {
        if self.mask == 0 || self.mask.count_ones() != u32::from(self.channels) {
            return format!("{} channels", self.channels);
        }
        if let Some((name, _)) = STANDARD.iter().find(|(_, m)| *m == self.mask) {
            return (*name).to_string();
        }
        let names: Vec<&str> = CHANNEL_NAMES.iter().filter(|(b, _)| self.mask & b != 0).map(|(_, n)| *n).collect();
        // Bits past the named ones (FFmpeg names them USRn and others): by number.
        let known = CHANNEL_NAMES.iter().fold(0, |m, (b, _)| m | b);
        let mut parts: Vec<String> = names.into_iter().map(str::to_string).collect();
        for bit in 0..64 {
            if self.mask & known & (1 << bit) == 0 && self.mask & (1 << bit) != 0 {
                parts.push(format!("CH{bit}"));
            }
        }
        format!("{} channels ({})", self.channels, parts.join("+"))
    }

    /// True when the speakers are known.
    pub fn is_specified(&self) -> bool {
        self.mask != 0
    }
}

impl std::fmt::Display for ChannelLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The layouts of Vorbis channel order (Vorbis I spec 4.3.9, RFC 7845 5.1.1.2, mapping
/// family 1) for 1 to 8 channels, as FFmpeg's Vorbis and Opus decoders output them;
/// unspecified beyond.
pub fn vorbis_order(channels: u16) -> ChannelLayout {
    let mask = match channels {
        1 => FC,
        2 => FL | FR,
        3 => FL | FR | FC,
        4 => FL | FR | BL | BR,
        5 => FL | FR | FC | BL | BR,
        6 => FL | FR | FC | LFE | BL | BR,
        7 => FL | FR | FC | LFE | BC | SL | SR,
        8 => FL | FR | FC | LFE | BL | BR | SL | SR,
        n => return ChannelLayout::unspecified(n),
    };
    ChannelLayout::from_mask(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_ffmpeg_table() {
        let names: Vec<String> = (1..=8).map(|n| ChannelLayout::default_for(n).name()).collect();
        assert_eq!(names, ["mono", "stereo", "2.1", "4.0", "5.0", "5.1", "6.1", "7.1"]);
        assert_eq!(ChannelLayout::default_for(16).name(), "hexadecagonal");
        assert_eq!(ChannelLayout::default_for(24).name(), "22.2");
        assert_eq!(ChannelLayout::default_for(9), ChannelLayout::unspecified(9));
        assert_eq!(ChannelLayout::default_for(9).name(), "9 channels");
        assert_eq!(ChannelLayout::default_for(0).name(), "0 channels");
    }

    #[test]
    fn names() {
        assert_eq!(ChannelLayout::from_mask(FL | FR | FC | LFE | SL | SR).name(), "5.1(side)");
        assert_eq!(ChannelLayout::from_mask(FL | FR | TC).name(), "3 channels (FL+FR+TC)");
        assert_eq!(ChannelLayout::from_mask(FL | (1 << 60)).name(), "2 channels (FL+CH60)");
        // A mask that disagrees with the count is not trusted.
        assert_eq!(ChannelLayout { channels: 3, mask: FL | FR }.name(), "3 channels");
        for (name, mask) in STANDARD {
            assert_eq!(ChannelLayout::from_mask(mask).name(), name);
        }
    }

    #[test]
    fn codec_orders() {
        assert_eq!(ChannelLayout::for_codec(AudioCodec::Vorbis, 6).name(), "5.1");
        assert_eq!(ChannelLayout::for_codec(AudioCodec::Flac, 6).name(), "5.1(side)");
        assert_eq!(ChannelLayout::for_codec(AudioCodec::Ac3, 6).name(), "5.1(side)");
        assert_eq!(ChannelLayout::for_codec(AudioCodec::Aac, 6).name(), "5.1");
        assert_eq!(ChannelLayout::for_codec(AudioCodec::Pcm, 3).name(), "2.1");
        assert_eq!(ChannelLayout::for_codec(AudioCodec::Opus, 9).name(), "9 channels");
    }
}
