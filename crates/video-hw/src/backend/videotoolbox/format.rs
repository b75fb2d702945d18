//! Access units as VideoToolbox takes them: the parameter sets go into the session's
//! format description (`CMVideoFormatDescriptionCreateFromH264ParameterSets` /
//! `…HEVCParameterSets`), the rest of the unit becomes one sample of NAL units with
//! 4-byte length prefixes (AVCC/HVCC). A parameter set that changes makes a new format
//! description; the decoder asks the session whether it can take it and otherwise drains
//! it and opens a new one.

use std::collections::BTreeMap;

use crate::bitstream::access_unit::AccessUnit;
use crate::codec::{Codec, ColorRange};
use crate::error::{Error, Result};

use super::api::{DecodeFormat, VtPixels};

/// Bytes of each NAL unit's length prefix in the samples.
pub(crate) const NAL_LENGTH_SIZE: u8 = 4;

/// Parameter sets kept per kind at most (H.264 allows 32 SPS and 256 PPS ids; HEVC 16
/// VPS, 16 SPS, 64 PPS): a stream cannot make the format description grow past them.
const MAX_IDS: usize = 256;

/// What kind of NAL unit, as far as the sample and format description care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Vps,
    Sps,
    Pps,
    /// An access unit delimiter: dropped (the sample is the unit).
    Delimiter,
    /// Everything else goes into the sample.
    Other,
}

fn kind(codec: Codec, nal: &[u8]) -> Kind {
    let Some(&first) = nal.first() else { return Kind::Other };
    match codec {
        Codec::H264 => match first & 0x1f {
            7 => Kind::Sps,
            8 => Kind::Pps,
            9 => Kind::Delimiter,
            _ => Kind::Other,
        },
        _ => match (first >> 1) & 0x3f {
            32 => Kind::Vps,
            33 => Kind::Sps,
            34 => Kind::Pps,
            35 => Kind::Delimiter,
            _ => Kind::Other,
        },
    }
}

/// The id a parameter set is known by, read through emulation prevention: H.264 SPS
/// `seq_parameter_set_id` and PPS `pic_parameter_set_id` are Exp-Golomb after fixed
/// fields; HEVC's VPS id is 4 bits, its SPS and PPS ids Exp-Golomb. `None` where it cannot
/// be read (an HEVC SPS with sub-layers keeps its id after a longer header: such a set is
/// kept by its bytes instead).
fn id(codec: Codec, kind: Kind, nal: &[u8]) -> Option<u32> {
    let mut r = crate::bitstream::rbsp::BitReader::new(nal);
    match (codec, kind) {
        (Codec::H264, Kind::Sps) => {
            r.skip(8 + 24, "header, profile, constraints, level").ok()?;
            r.ue("seq_parameter_set_id").ok()
        }
        (Codec::H264, Kind::Pps) => {
            r.skip(8, "header").ok()?;
            r.ue("pic_parameter_set_id").ok()
        }
        (_, Kind::Vps) => {
            r.skip(16, "header").ok()?;
            r.bits(4, "vps_video_parameter_set_id").ok()
        }
        (_, Kind::Sps) => {
            r.skip(16 + 4, "header, sps_video_parameter_set_id").ok()?;
            if r.bits(3, "sps_max_sub_layers_minus1").ok()? != 0 {
                return None;
            }
            r.skip(1 + 88 + 8, "temporal_id_nesting, general profile, level").ok()?;
            r.ue("sps_seq_parameter_set_id").ok()
        }
        (_, Kind::Pps) => {
            r.skip(16, "header").ok()?;
            r.ue("pps_pic_parameter_set_id").ok()
        }
        _ => None,
    }
}

/// The parameter sets in force, by kind and id.
#[derive(Debug, Default)]
pub(crate) struct ParameterSets {
    sets: BTreeMap<(Kind, u32), Vec<u8>>,
    /// Sets whose id could not be read, kept by their bytes (at most `MAX_IDS`).
    unnamed: Vec<(Kind, Vec<u8>)>,
    changed: bool,
}

impl ParameterSets {
    /// Notes a parameter set; returns whether it is new or differs from the one it
    /// replaces.
    fn note(&mut self, codec: Codec, kind: Kind, nal: &[u8]) -> bool {
        let changed = match id(codec, kind, nal) {
            Some(id) => {
                let count = self.sets.keys().filter(|(k, _)| *k == kind).count();
                let known = self.sets.get(&(kind, id));
                if known.is_some_and(|k| k == nal) || (known.is_none() && count >= MAX_IDS) {
                    false
                } else {
                    self.sets.insert((kind, id), nal.to_vec());
                    true
                }
            }
            None if self.unnamed.iter().any(|(k, n)| *k == kind && n == nal) => false,
            None if self.unnamed.len() < MAX_IDS => {
                self.unnamed.push((kind, nal.to_vec()));
                true
            }
            None => false,
        };
        self.changed |= changed;
        changed
    }

    /// Whether any set changed since the last [`Self::take_changed`].
    pub(crate) fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Every set, VPS first, then SPS, then PPS, as the format description wants them.
    fn ordered(&self) -> Vec<Vec<u8>> {
        let mut all: Vec<(Kind, &Vec<u8>)> = self.sets.iter().map(|((k, _), v)| (*k, v)).collect();
        all.extend(self.unnamed.iter().map(|(k, v)| (*k, v)));
        all.sort_by_key(|(k, _)| *k);
        all.into_iter().map(|(_, v)| v.clone()).collect()
    }

    fn has(&self, kind: Kind) -> bool {
        self.sets.keys().any(|(k, _)| *k == kind) || self.unnamed.iter().any(|(k, _)| *k == kind)
    }
}

/// One access unit split for VideoToolbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sample {
    /// The NAL units other than parameter sets and delimiters, each after a 4-byte
    /// big-endian length.
    pub data: Vec<u8>,
    /// Whether the unit carried a parameter set that is new or changed.
    pub new_parameter_sets: bool,
}

/// Splits `au` (Annex-B NAL units) into parameter sets, noted in `sets`, and a sample.
pub(crate) fn split(codec: Codec, au: &AccessUnit, sets: &mut ParameterSets) -> Result<Sample> {
    let mut data = Vec::with_capacity(au.data.len());
    let mut new_parameter_sets = false;
    for nal in au.nal_units() {
        match kind(codec, nal) {
            k @ (Kind::Vps | Kind::Sps | Kind::Pps) => new_parameter_sets |= sets.note(codec, k, nal),
            Kind::Delimiter => {}
            Kind::Other => {
                let len = u32::try_from(nal.len())
                    .map_err(|_| Error::invalid_bitstream(au.offset, "NAL unit longer than 4 GiB"))?;
                data.extend_from_slice(&len.to_be_bytes());
                data.extend_from_slice(nal);
            }
        }
    }
    Ok(Sample { data, new_parameter_sets })
}

/// The format description's inputs for the sets in force and the stream `au` belongs
/// to; `None` until the sets a picture needs (HEVC: VPS, SPS and PPS; H.264: SPS and
/// PPS) and the stream's facts are known.
pub(crate) fn decode_format(codec: Codec, sets: &ParameterSets, au: &AccessUnit) -> Option<DecodeFormat> {
    let stream = au.stream.as_ref()?;
    let needed: &[Kind] =
        if codec == Codec::Hevc { &[Kind::Vps, Kind::Sps, Kind::Pps] } else { &[Kind::Sps, Kind::Pps] };
    if !needed.iter().all(|k| sets.has(*k)) {
        return None;
    }
    Some(DecodeFormat {
        codec,
        parameter_sets: sets.ordered(),
        nal_length_size: NAL_LENGTH_SIZE,
        width: stream.dimensions.coded_width,
        height: stream.dimensions.coded_height,
        pixels: VtPixels { ten_bit: stream.bit_depth_luma > 8, full_range: stream.color.range == ColorRange::Full },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn au(nals: &[&[u8]]) -> AccessUnit {
        let mut data = Vec::new();
        let mut ranges = Vec::new();
        for n in nals {
            data.extend_from_slice(&[0, 0, 0, 1]);
            ranges.push(data.len()..data.len() + n.len());
            data.extend_from_slice(n);
        }
        AccessUnit { data, nals: ranges, nal_count: nals.len(), offset: 100, ..AccessUnit::default() }
    }

    // H.264: SPS id 0 (ue "1"), SPS id 1 (ue "010"), PPS id 0.
    const SPS0: &[u8] = &[0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9];
    const SPS0B: &[u8] = &[0x67, 0x64, 0x00, 0x1f, 0xac, 0xd8];
    const SPS1: &[u8] = &[0x67, 0x64, 0x00, 0x1f, 0x40];
    const PPS0: &[u8] = &[0x68, 0xee, 0x3c, 0x80];
    const AUD: &[u8] = &[0x09, 0xf0];
    const IDR: &[u8] = &[0x65, 0x88, 0x84, 0x00];

    #[test]
    fn parameter_sets_leave_the_sample_and_slices_get_length_prefixes() {
        let mut sets = ParameterSets::default();
        let s = split(Codec::H264, &au(&[AUD, SPS0, PPS0, IDR]), &mut sets).unwrap();
        assert_eq!(s.data, [&[0, 0, 0, 4][..], IDR].concat());
        assert!(s.new_parameter_sets);
        assert_eq!(sets.ordered(), vec![SPS0.to_vec(), PPS0.to_vec()]);
        // Repeated unchanged (as before every IDR): nothing new.
        let s = split(Codec::H264, &au(&[SPS0, PPS0, IDR]), &mut sets).unwrap();
        assert!(!s.new_parameter_sets);
        // A second id is added, the same id with other bytes replaces.
        assert!(split(Codec::H264, &au(&[SPS1, IDR]), &mut sets).unwrap().new_parameter_sets);
        assert!(split(Codec::H264, &au(&[SPS0B, IDR]), &mut sets).unwrap().new_parameter_sets);
        assert_eq!(sets.ordered(), vec![SPS0B.to_vec(), SPS1.to_vec(), PPS0.to_vec()]);
        assert!(sets.take_changed());
        assert!(!sets.take_changed());
    }

    #[test]
    fn hevc_sets_come_vps_sps_pps() {
        // type 32/33/34 headers; ids after 16 bits (VPS: 4 bits; SPS: after ptl; PPS: ue).
        let vps: &[u8] = &[0x40, 0x01, 0x0c, 0x01, 0xff];
        let mut sps = vec![0x42, 0x01, 0x01];
        sps.extend_from_slice(&[0; 12]);
        sps.push(0x80); // sps id 0 (ue "1")
        let pps: &[u8] = &[0x44, 0x01, 0xc1];
        let slice: &[u8] = &[0x26, 0x01, 0xaf];
        let mut sets = ParameterSets::default();
        let s = split(Codec::Hevc, &au(&[pps, &sps, vps, slice]), &mut sets).unwrap();
        assert_eq!(s.data, [&[0, 0, 0, 3][..], slice].concat());
        assert_eq!(sets.ordered(), vec![vps.to_vec(), sps.clone(), pps.to_vec()]);
        assert!(sets.has(Kind::Vps) && sets.has(Kind::Sps) && sets.has(Kind::Pps));
    }

    proptest::proptest! {
        /// Any NAL units, damaged parameter sets included, split without a panic, and the
        /// sets kept stay bounded.
        #[test]
        fn any_nal_units_split_without_panic(
            nals in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 0..40),
            hevc in proptest::bool::ANY,
        ) {
            let codec = if hevc { Codec::Hevc } else { Codec::H264 };
            let refs: Vec<&[u8]> = nals.iter().map(|n| n.as_slice()).collect();
            let mut sets = ParameterSets::default();
            let unit = au(&refs);
            let sample = split(codec, &unit, &mut sets).unwrap();
            proptest::prop_assert!(sample.data.len() <= unit.data.len());
            proptest::prop_assert!(sets.ordered().len() <= nals.len());
            let _ = decode_format(codec, &sets, &unit);
        }
    }

    #[test]
    fn no_format_before_the_sets_and_the_stream_facts() {
        let mut sets = ParameterSets::default();
        let unit = au(&[SPS0, IDR]);
        split(Codec::H264, &unit, &mut sets).unwrap();
        assert_eq!(decode_format(Codec::H264, &sets, &unit), None, "no PPS yet, no stream facts");
    }
}
