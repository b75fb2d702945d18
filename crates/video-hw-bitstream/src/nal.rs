//! NAL unit headers of H.264 (one byte) and HEVC (two bytes, with layer and temporal id).

use video_hw_types::codec::Codec;
use video_hw_types::error::{Error, Result};

/// True for a parameter-set NAL unit: H.264 SPS, PPS, SPS extension or subset SPS; HEVC
/// VPS, SPS or PPS. `nal` starts with its header (no start code).
///
/// ```
/// use video_hw::bitstream::nal::is_parameter_set;
/// use video_hw::Codec;
/// assert!(is_parameter_set(Codec::H264, &[0x67, 0x64]));
/// assert!(is_parameter_set(Codec::Hevc, &[0x42, 0x01]));
/// assert!(!is_parameter_set(Codec::Hevc, &[0x26, 0x01]));
/// ```
pub fn is_parameter_set(codec: Codec, nal: &[u8]) -> bool {
    let Some(&first) = nal.first() else { return false };
    match codec {
        Codec::H264 => matches!(first & 0x1f, 7 | 8 | 13 | 15),
        Codec::Hevc => matches!((first >> 1) & 0x3f, 32..=34),
        _ => false,
    }
}

/// The one-byte H.264 NAL unit header (H.264 7.3.1).
///
/// ```
/// use video_hw::bitstream::nal::H264NalHeader;
/// let h = H264NalHeader::parse(&[0x67, 0x42]).unwrap();
/// assert_eq!((h.nal_ref_idc, h.nal_unit_type), (3, 7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H264NalHeader {
    /// 0 for non-reference pictures and most SEI; otherwise 1..=3.
    pub nal_ref_idc: u8,
    /// The NAL unit type (see [`h264_type`]).
    pub nal_unit_type: u8,
}

impl H264NalHeader {
    /// Parses the header; fails on an empty NAL or a set forbidden_zero_bit.
    pub fn parse(nal: &[u8]) -> Result<Self> {
        let &b = nal.first().ok_or_else(|| Error::invalid_bitstream(0, "empty NAL unit"))?;
        if b & 0x80 != 0 {
            return Err(Error::invalid_bitstream(0, "forbidden_zero_bit is set in NAL header"));
        }
        Ok(H264NalHeader { nal_ref_idc: (b >> 5) & 3, nal_unit_type: b & 0x1f })
    }

    /// Slice of a coded picture (types 1 and 5).
    pub fn is_vcl(&self) -> bool {
        matches!(self.nal_unit_type, 1..=5)
    }

    /// Header size in bytes (1, or 4 for the SVC/MVC extension types 14 and 20).
    pub fn size(&self) -> usize {
        if matches!(self.nal_unit_type, 14 | 20 | 21) { 4 } else { 1 }
    }
}

/// H.264 `nal_unit_type` values (Table 7-1).
pub mod h264_type {
    /// Coded slice of a non-IDR picture.
    pub const SLICE: u8 = 1;
    /// Coded slice data partition A.
    pub const SLICE_DPA: u8 = 2;
    /// Coded slice data partition B.
    pub const SLICE_DPB: u8 = 3;
    /// Coded slice data partition C.
    pub const SLICE_DPC: u8 = 4;
    /// Coded slice of an IDR picture.
    pub const IDR: u8 = 5;
    /// Supplemental enhancement information.
    pub const SEI: u8 = 6;
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Picture parameter set.
    pub const PPS: u8 = 8;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
    /// End of sequence.
    pub const END_OF_SEQ: u8 = 10;
    /// End of stream.
    pub const END_OF_STREAM: u8 = 11;
    /// Filler data.
    pub const FILLER: u8 = 12;
    /// Sequence parameter set extension.
    pub const SPS_EXT: u8 = 13;
    /// Prefix NAL unit (SVC/MVC).
    pub const PREFIX: u8 = 14;
    /// Subset sequence parameter set (SVC/MVC).
    pub const SUBSET_SPS: u8 = 15;
    /// Coded slice of an auxiliary picture.
    pub const AUX_SLICE: u8 = 19;
    /// Coded slice extension (SVC/MVC).
    pub const SLICE_EXT: u8 = 20;
}

/// The two-byte HEVC NAL unit header (H.265 7.3.1.2).
///
/// ```
/// use video_hw::bitstream::nal::HevcNalHeader;
/// let h = HevcNalHeader::parse(&[0x40, 0x01]).unwrap();
/// assert_eq!((h.nal_unit_type, h.nuh_layer_id, h.temporal_id()), (32, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HevcNalHeader {
    /// The NAL unit type (see [`hevc_type`]).
    pub nal_unit_type: u8,
    /// Layer (0 = base layer; >0 for MV-HEVC/SHVC enhancement layers).
    pub nuh_layer_id: u8,
    /// TemporalId + 1 (never 0 in a valid stream).
    pub nuh_temporal_id_plus1: u8,
}

impl HevcNalHeader {
    /// Parses the header; fails on a short NAL, a set forbidden bit or a zero temporal id.
    pub fn parse(nal: &[u8]) -> Result<Self> {
        if nal.len() < 2 {
            return Err(Error::invalid_bitstream(0, "HEVC NAL unit shorter than its 2-byte header"));
        }
        if nal[0] & 0x80 != 0 {
            return Err(Error::invalid_bitstream(0, "forbidden_zero_bit is set in NAL header"));
        }
        let h = HevcNalHeader {
            nal_unit_type: (nal[0] >> 1) & 0x3f,
            nuh_layer_id: ((nal[0] & 1) << 5) | (nal[1] >> 3),
            nuh_temporal_id_plus1: nal[1] & 7,
        };
        if h.nuh_temporal_id_plus1 == 0 {
            return Err(Error::invalid_bitstream(1, "nuh_temporal_id_plus1 is 0"));
        }
        Ok(h)
    }

    /// TemporalId.
    pub fn temporal_id(&self) -> u8 {
        self.nuh_temporal_id_plus1.saturating_sub(1)
    }

    /// Coded slice segment (types 0..=31).
    pub fn is_vcl(&self) -> bool {
        self.nal_unit_type < 32
    }

    /// Intra random access point picture (BLA, IDR, CRA and reserved IRAP types 16..=23).
    pub fn is_irap(&self) -> bool {
        (16..=23).contains(&self.nal_unit_type)
    }

    /// IDR picture.
    pub fn is_idr(&self) -> bool {
        matches!(self.nal_unit_type, hevc_type::IDR_W_RADL | hevc_type::IDR_N_LP)
    }

    /// BLA picture.
    pub fn is_bla(&self) -> bool {
        (hevc_type::BLA_W_LP..=hevc_type::BLA_N_LP).contains(&self.nal_unit_type)
    }

    /// RASL picture (skipped after a CRA that starts decoding).
    pub fn is_rasl(&self) -> bool {
        matches!(self.nal_unit_type, hevc_type::RASL_N | hevc_type::RASL_R)
    }
}

/// Sub-layer non-reference picture (TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N and the reserved
/// non-reference types up to 14): no picture of the same temporal sub-layer predicts from
/// it, so in a stream of one sub-layer none does.
pub fn hevc_is_sub_layer_non_reference(nal_unit_type: u8) -> bool {
    nal_unit_type <= 14 && nal_unit_type.is_multiple_of(2)
}

/// HEVC `nal_unit_type` values (Table 7-1).
pub mod hevc_type {
    /// Trailing picture, non-reference.
    pub const TRAIL_N: u8 = 0;
    /// Trailing picture, reference.
    pub const TRAIL_R: u8 = 1;
    /// Temporal sub-layer access, non-reference.
    pub const TSA_N: u8 = 2;
    /// Temporal sub-layer access, reference.
    pub const TSA_R: u8 = 3;
    /// Step-wise temporal sub-layer access, non-reference.
    pub const STSA_N: u8 = 4;
    /// Step-wise temporal sub-layer access, reference.
    pub const STSA_R: u8 = 5;
    /// Random access decodable leading, non-reference.
    pub const RADL_N: u8 = 6;
    /// Random access decodable leading, reference.
    pub const RADL_R: u8 = 7;
    /// Random access skipped leading, non-reference.
    pub const RASL_N: u8 = 8;
    /// Random access skipped leading, reference.
    pub const RASL_R: u8 = 9;
    /// Broken link access with leading pictures.
    pub const BLA_W_LP: u8 = 16;
    /// Broken link access with RADL pictures.
    pub const BLA_W_RADL: u8 = 17;
    /// Broken link access without leading pictures.
    pub const BLA_N_LP: u8 = 18;
    /// IDR with RADL pictures.
    pub const IDR_W_RADL: u8 = 19;
    /// IDR without leading pictures.
    pub const IDR_N_LP: u8 = 20;
    /// Clean random access.
    pub const CRA_NUT: u8 = 21;
    /// Video parameter set.
    pub const VPS: u8 = 32;
    /// Sequence parameter set.
    pub const SPS: u8 = 33;
    /// Picture parameter set.
    pub const PPS: u8 = 34;
    /// Access unit delimiter.
    pub const AUD: u8 = 35;
    /// End of sequence.
    pub const EOS: u8 = 36;
    /// End of bitstream.
    pub const EOB: u8 = 37;
    /// Filler data.
    pub const FD: u8 = 38;
    /// Prefix SEI.
    pub const PREFIX_SEI: u8 = 39;
    /// Suffix SEI.
    pub const SUFFIX_SEI: u8 = 40;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h264_header_rejects_forbidden_bit_and_empty() {
        assert!(H264NalHeader::parse(&[]).is_err());
        assert!(H264NalHeader::parse(&[0x80]).is_err());
        assert_eq!(H264NalHeader::parse(&[0x65]).unwrap().nal_unit_type, 5);
    }

    #[test]
    fn hevc_header_fields() {
        // IDR_W_RADL, layer 0, tid 0: 0x26 0x01
        let h = HevcNalHeader::parse(&[0x26, 0x01]).unwrap();
        assert!(h.is_idr() && h.is_irap() && h.is_vcl());
        // layer 1 slice: type 1, layer 1 → 0x02 0x09
        let h = HevcNalHeader::parse(&[0x02, 0x09]).unwrap();
        assert_eq!((h.nal_unit_type, h.nuh_layer_id), (1, 1));
        assert!(HevcNalHeader::parse(&[0x02, 0x08]).is_err());
        assert!(HevcNalHeader::parse(&[0x02]).is_err());
    }
}
