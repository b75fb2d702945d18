//! Encoded output: one access unit per packet.

use crate::codec::Codec;

/// How the NAL units of a packet are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PacketLayout {
    /// Start codes (`00 00 00 01`), parameter sets in band: for `.h264`/`.h265` files and streaming.
    #[default]
    AnnexB,
    /// 4-byte big-endian length prefixes, parameter sets out of band in a decoder
    /// configuration record (`avcC`/`hvcC`): for MP4/MOV.
    LengthPrefixed,
}

/// One encoded access unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Codec of the data.
    pub codec: Codec,
    /// Annex-B or length-prefixed.
    pub layout: PacketLayout,
    /// The access unit's bytes.
    pub data: Vec<u8>,
    /// Presentation timestamp (the submitted frame's).
    pub pts: Option<i64>,
    /// Decode timestamp (≤ pts; differs from pts with B-frames).
    pub dts: Option<i64>,
    /// True for a random access point (IDR / IRAP).
    pub keyframe: bool,
    /// The configuration generation that produced the packet: 0 for the configuration
    /// the encoder was opened with, then one more per `reconfigure`.
    pub generation: u64,
}
