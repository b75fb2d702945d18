//! The start of `slice_segment_header()` (H.265 7.3.6.1): what picture boundaries, POC
//! and output decisions need, and, for random access, the reference picture set (the rest
//! of the header is not read).

use super::pps::Pps;
use super::rps::ShortTermRps;
use super::sps::Sps;
use super::{ceil_log2, err_at};
use crate::nal::HevcNalHeader;
use crate::rbsp::BitReader;
use video_hw_types::error::{Error, Result};

/// `slice_type` (Table 7-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceType {
    /// Bi-predictive (0).
    B,
    /// Predictive (1).
    P,
    /// Intra (2).
    I,
}

/// The leading fields of a slice segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceHeader {
    /// `first_slice_segment_in_pic_flag`.
    pub first_slice_segment_in_pic_flag: bool,
    /// `no_output_of_prior_pics_flag` (IRAP pictures only; false otherwise).
    pub no_output_of_prior_pics_flag: bool,
    /// `slice_pic_parameter_set_id`.
    pub pps_id: u8,
    /// `dependent_slice_segment_flag`.
    pub dependent_slice_segment_flag: bool,
    /// `slice_segment_address` (0 for the first slice segment).
    pub slice_segment_address: u32,
    /// `slice_type`; `None` for a dependent slice segment, which takes it (and the fields
    /// below) from the preceding independent slice segment.
    pub slice_type: Option<SliceType>,
    /// `pic_output_flag` (true when absent).
    pub pic_output_flag: bool,
    /// `colour_plane_id` (separate colour planes only).
    pub colour_plane_id: u8,
    /// `slice_pic_order_cnt_lsb` (0 for IDR pictures, which do not code it).
    pub pic_order_cnt_lsb: u32,
}

/// Parses the start of the slice segment header of VCL NAL unit `nal` (header included,
/// emulation prevention in place). `lookup(pps_id, offset)` gives the PPS and its SPS,
/// or the error to report (at `offset`) when either is missing.
///
/// Checks what ffmpeg checks in these fields: a slice segment address inside the
/// picture, a known slice type, and intra slices only in IRAP pictures.
pub fn parse_slice_header<'p>(
    nal: &[u8],
    lookup: impl FnOnce(u8, u64) -> Result<(&'p Pps, &'p Sps)>,
) -> Result<SliceHeader> {
    let mut r = BitReader::new(nal);
    read_slice_header_in(&mut r, nal, lookup).map(|(sh, _, _)| sh)
}

/// What a slice segment predicts from (8.3.2, 8.3.4): its picture's short-term reference
/// picture set, whether it names long-term pictures, and how its reference picture lists
/// are drawn from the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceRefs {
    /// The leading fields, as [`parse_slice_header`] gives them.
    pub header: SliceHeader,
    /// The short-term set: the SPS's (`short_term_ref_pic_set_idx`) or the slice's own;
    /// empty for IDR pictures.
    pub short_term: ShortTermRps,
    /// `num_long_term_sps + num_long_term_pics`: long-term pictures named. Their POCs, and
    /// everything after them (the fields below), are not read when there are any.
    pub long_term_pics: u32,
    /// `num_ref_idx_l0_active_minus1 + 1` and `num_ref_idx_l1_active_minus1 + 1` (0 for the
    /// lists an I or P slice does not have).
    pub num_ref_idx: [u32; 2],
    /// `list_entry_l0` / `list_entry_l1` of `ref_pic_lists_modification()`, where present.
    pub list_entry: [Option<Vec<u32>>; 2],
}

impl SliceRefs {
    /// `NumPicTotalCurr` without long-term pictures: the short-term pictures the current
    /// picture may predict from.
    pub fn num_pic_total_curr(&self) -> u32 {
        self.short_term.s0().chain(self.short_term.s1()).filter(|&(_, used)| used).count() as u32
    }
}

/// Parses an independent slice segment header up to its reference picture lists (7.3.6.1:
/// `short_term_ref_pic_set_sps_flag` to `ref_pic_lists_modification()`); `lookup` as in
/// [`parse_slice_header`]. A dependent slice segment has none of its own: its header comes
/// back (`dependent_slice_segment_flag` set) with the rest empty. SPS/PPS extensions
/// (multilayer, 3D, screen content) that change these fields are an error.
pub fn parse_slice_refs<'p>(
    nal: &[u8],
    lookup: impl FnOnce(u8, u64) -> Result<(&'p Pps, &'p Sps)>,
) -> Result<SliceRefs> {
    let mut r = BitReader::new(nal);
    let (header, pps, sps) = read_slice_header_in(&mut r, nal, lookup)?;
    let mut refs = SliceRefs {
        header,
        short_term: ShortTermRps::default(),
        long_term_pics: 0,
        num_ref_idx: [0, 0],
        list_entry: [None, None],
    };
    let Some(slice_type) = header.slice_type else { return Ok(refs) };
    if sps.multilayer_extension_flag || sps.extension_3d_flag || sps.scc_extension_flag || pps.scc_extension_flag {
        return Err(err_at(&r, "reference lists of SPS/PPS extensions are not read"));
    }
    if !HevcNalHeader::parse(nal)?.is_idr() {
        let sets = &sps.short_term_ref_pic_sets;
        refs.short_term = if !r.flag("short_term_ref_pic_set_sps_flag")? {
            ShortTermRps::parse(&mut r, sets.len(), sets.len(), sets)?
        } else {
            let idx = match sets.len() {
                0 => return Err(err_at(&r, "short_term_ref_pic_set_sps_flag = 1 but the SPS has no set")),
                1 => 0,
                n => r.bits(ceil_log2(n as u32), "short_term_ref_pic_set_idx")? as usize,
            };
            *sets.get(idx).ok_or_else(|| err_at(&r, format!("short_term_ref_pic_set_idx = {idx} is out of range")))?
        };
        if sps.long_term_ref_pics_present_flag {
            let from_sps = match sps.num_long_term_ref_pics_sps {
                0 => 0,
                n => r.ue_max("num_long_term_sps", n as u32)?,
            };
            refs.long_term_pics = from_sps + r.ue_max("num_long_term_pics", 32)?;
            if refs.long_term_pics > 0 {
                return Ok(refs);
            }
        }
        if sps.temporal_mvp_enabled_flag {
            r.flag("slice_temporal_mvp_enabled_flag")?;
        }
    }
    if sps.sample_adaptive_offset_enabled_flag {
        r.flag("slice_sao_luma_flag")?;
        let chroma_array_type = if sps.separate_colour_plane_flag { 0 } else { sps.chroma_format_idc };
        if chroma_array_type != 0 {
            r.flag("slice_sao_chroma_flag")?;
        }
    }
    let lists = match slice_type {
        SliceType::I => return Ok(refs),
        SliceType::P => 1,
        SliceType::B => 2,
    };
    refs.num_ref_idx = [
        u32::from(pps.num_ref_idx_l0_default_active_minus1) + 1,
        if lists == 2 { u32::from(pps.num_ref_idx_l1_default_active_minus1) + 1 } else { 0 },
    ];
    if r.flag("num_ref_idx_active_override_flag")? {
        refs.num_ref_idx[0] = r.ue_max("num_ref_idx_l0_active_minus1", 14)? + 1;
        if lists == 2 {
            refs.num_ref_idx[1] = r.ue_max("num_ref_idx_l1_active_minus1", 14)? + 1;
        }
    }
    let total = refs.num_pic_total_curr();
    if total == 0 {
        return Err(err_at(&r, "an inter slice of a picture that may predict from no picture"));
    }
    if pps.lists_modification_present_flag && total > 1 {
        let bits = ceil_log2(total);
        for (l, entries) in refs.list_entry.iter_mut().enumerate().take(lists) {
            if r.flag("ref_pic_list_modification_flag")? {
                let mut v = Vec::with_capacity(refs.num_ref_idx[l] as usize);
                for _ in 0..refs.num_ref_idx[l] {
                    let e = r.bits(bits, "list_entry")?;
                    if e >= total {
                        return Err(err_at(&r, format!("list_entry = {e} is past the {total} pictures")));
                    }
                    v.push(e);
                }
                *entries = Some(v);
            }
        }
    }
    Ok(refs)
}

/// Reads the leading fields of a slice segment header from `r` (at the start of `nal`),
/// and gives the PPS and SPS `lookup` found; `r` is left after `slice_pic_order_cnt_lsb`
/// (or where a dependent slice segment's own fields end).
fn read_slice_header_in<'p>(
    r: &mut BitReader<'_>,
    nal: &[u8],
    lookup: impl FnOnce(u8, u64) -> Result<(&'p Pps, &'p Sps)>,
) -> Result<(SliceHeader, &'p Pps, &'p Sps)> {
    let header = HevcNalHeader::parse(nal)?;
    if !header.is_vcl() {
        return Err(Error::invalid_bitstream(
            0,
            format!("slice header: NAL unit type {} is not a slice", header.nal_unit_type),
        ));
    }
    r.skip(16, "nal_unit_header")?;
    let first_slice_segment_in_pic_flag = r.flag("first_slice_segment_in_pic_flag")?;
    let no_output_of_prior_pics_flag = header.is_irap() && r.flag("no_output_of_prior_pics_flag")?;
    let off = r.byte_offset();
    let pps_id = r.ue_max("slice_pic_parameter_set_id", 63)? as u8;
    let (pps, sps) = lookup(pps_id, off)?;

    let mut sh = SliceHeader {
        first_slice_segment_in_pic_flag,
        no_output_of_prior_pics_flag,
        pps_id,
        dependent_slice_segment_flag: false,
        slice_segment_address: 0,
        slice_type: None,
        pic_output_flag: true,
        colour_plane_id: 0,
        pic_order_cnt_lsb: 0,
    };
    if !first_slice_segment_in_pic_flag {
        if pps.dependent_slice_segments_enabled_flag {
            sh.dependent_slice_segment_flag = r.flag("dependent_slice_segment_flag")?;
        }
        let size = sps.pic_size_in_ctbs();
        let off = r.byte_offset();
        sh.slice_segment_address = r.bits(ceil_log2(size), "slice_segment_address")?;
        if sh.slice_segment_address >= size {
            return Err(Error::invalid_bitstream(
                off,
                format!("slice_segment_address = {} is outside the picture ({size} CTBs)", sh.slice_segment_address),
            ));
        }
        if sh.dependent_slice_segment_flag {
            return Ok((sh, pps, sps));
        }
    }
    r.skip(pps.num_extra_slice_header_bits as u64, "slice_reserved_flag")?;
    let off = r.byte_offset();
    sh.slice_type = Some(match r.ue("slice_type")? {
        0 => SliceType::B,
        1 => SliceType::P,
        2 => SliceType::I,
        t => return Err(Error::invalid_bitstream(off, format!("slice_type = {t} is out of range (0..=2)"))),
    });
    if header.is_irap() && sh.slice_type != Some(SliceType::I) {
        return Err(Error::invalid_bitstream(off, "inter slice in an IRAP picture"));
    }
    if pps.output_flag_present_flag {
        sh.pic_output_flag = r.flag("pic_output_flag")?;
    }
    if sps.separate_colour_plane_flag {
        sh.colour_plane_id = r.bits(2, "colour_plane_id")? as u8;
    }
    if !header.is_idr() {
        sh.pic_order_cnt_lsb = r.bits(sps.log2_max_pic_order_cnt_lsb as u32, "slice_pic_order_cnt_lsb")?;
    }
    Ok((sh, pps, sps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::pps::parse_pps;
    use crate::hevc::sps::parse_sps;
    use crate::hevc::testutil::*;

    fn parse_with(nal: &[u8], pps: &Pps, sps: &Sps) -> Result<SliceHeader> {
        parse_slice_header(nal, |_, _| Ok((pps, sps)))
    }

    #[test]
    fn real_slices() {
        let (sps, pps) = (parse_sps(&SPS_64).unwrap(), parse_pps(&PPS_64).unwrap());
        let idr = parse_with(&SLICE_64_IDR, &pps, &sps).unwrap();
        assert!(idr.first_slice_segment_in_pic_flag && !idr.no_output_of_prior_pics_flag);
        assert_eq!((idr.slice_type, idr.pic_order_cnt_lsb, idr.pps_id), (Some(SliceType::I), 0, 0));
        let p = parse_with(&SLICE_64_P, &pps, &sps).unwrap();
        assert_eq!((p.slice_type, p.pic_order_cnt_lsb), (Some(SliceType::P), 2));
        let b = parse_with(&SLICE_64_B, &pps, &sps).unwrap();
        assert_eq!((b.slice_type, b.pic_order_cnt_lsb, b.pic_output_flag), (Some(SliceType::B), 1, true));
    }

    #[test]
    fn lookup_error_is_reported_at_the_pps_id() {
        let e = parse_slice_header(&SLICE_64_P, |id, off| {
            assert_eq!(id, 0);
            Err(Error::invalid_bitstream(off, "no PPS"))
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("invalid bitstream at byte 2: no PPS"), "{e}");
    }

    #[test]
    fn later_slice_segments() {
        // 1920x1088 in 64x64 CTBs: 510 CTBs, a 9-bit address.
        let sps = parse_sps(&SpsSpec { width: 1920, height: 1088, ..SpsSpec::default() }.nal()).unwrap();
        let mut pps = parse_pps(&pps_nal(0, 0, true)).unwrap();
        pps.dependent_slice_segments_enabled_flag = true;
        pps.num_extra_slice_header_bits = 2;
        let mut w = BitWriter::new();
        w.flag(false).ue(0).flag(true).u(9, 300); // dependent segment at CTB 300
        let dependent = w.nal(1);
        let sh = parse_with(&dependent, &pps, &sps).unwrap();
        assert!(sh.dependent_slice_segment_flag);
        assert_eq!((sh.slice_segment_address, sh.slice_type), (300, None));
        // It has no reference lists of its own: its header, the rest empty.
        let refs = parse_slice_refs(&dependent, |_, _| Ok((&pps, &sps))).unwrap();
        assert_eq!((refs.header, refs.num_ref_idx, refs.list_entry), (sh, [0, 0], [None, None]));
        let mut w = BitWriter::new();
        w.flag(false).ue(0).flag(false).u(9, 17).u(2, 3).ue(1).flag(false).u(4, 9);
        let sh = parse_with(&w.nal(1), &pps, &sps).unwrap();
        assert_eq!((sh.slice_segment_address, sh.slice_type), (17, Some(SliceType::P)));
        assert_eq!((sh.pic_output_flag, sh.pic_order_cnt_lsb), (false, 9));
        let mut w = BitWriter::new();
        w.flag(false).ue(0).flag(false).u(9, 510);
        let e = parse_with(&w.nal(1), &pps, &sps).unwrap_err().to_string();
        assert!(e.contains("slice_segment_address"), "{e}");
    }

    #[test]
    fn reference_lists_of_real_and_written_slices() {
        let refs = |nal: &[u8], pps: &Pps, sps: &Sps| parse_slice_refs(nal, |_, _| Ok((pps, sps)));
        let (sps, pps) = (parse_sps(&SPS_64).unwrap(), parse_pps(&PPS_64).unwrap());
        let idr = refs(&SLICE_64_IDR, &pps, &sps).unwrap();
        assert_eq!((idr.num_ref_idx, idr.num_pic_total_curr(), idr.long_term_pics), ([0, 0], 0, 0));
        let p = refs(&SLICE_64_P, &pps, &sps).unwrap();
        assert!(p.num_ref_idx[0] >= 1 && p.num_ref_idx[1] == 0 && p.num_pic_total_curr() >= 1, "{p:?}");
        let b = refs(&SLICE_64_B, &pps, &sps).unwrap();
        assert!(b.num_ref_idx[0] >= 1 && b.num_ref_idx[1] >= 1, "{b:?}");

        // A B slice with a set of its own (POC -1 and -3 before, +2 after, all used) and
        // lists of 2 and 1 pictures, list 0 reordered by list_entry.
        let sps = parse_sps(&SpsSpec::default().nal()).unwrap();
        assert!(sps.short_term_ref_pic_sets.len() == 1 && !sps.long_term_ref_pics_present_flag);
        let mut pps = parse_pps(&pps_nal(0, 0, false)).unwrap();
        pps.lists_modification_present_flag = true;
        let written = |entry: u64| {
            let mut w = BitWriter::new();
            w.flag(true).ue(0).ue(0); // first slice, PPS 0, B
            w.u(sps.log2_max_pic_order_cnt_lsb as u32, 4).flag(false); // POC lsb; a set of its own,
            w.flag(false).ue(2).ue(1).ue(0).flag(true).ue(1).flag(true).ue(1).flag(true); // not predicted
            if sps.temporal_mvp_enabled_flag {
                w.flag(true);
            }
            if sps.sample_adaptive_offset_enabled_flag {
                w.flag(false).flag(false);
            }
            w.flag(true).ue(1).ue(0); // override: 2 and 1 pictures
            w.flag(true).u(2, entry).u(2, 0).flag(false); // list_entry_l0 (2 bits for 3 pictures)
            w.nal(1)
        };
        let s = refs(&written(2), &pps, &sps).unwrap();
        assert_eq!(s.short_term.s0().collect::<Vec<_>>(), [(-1, true), (-3, true)]);
        assert_eq!(s.short_term.s1().collect::<Vec<_>>(), [(2, true)]);
        assert_eq!((s.num_ref_idx, s.num_pic_total_curr()), ([2, 1], 3));
        assert_eq!(s.list_entry, [Some(vec![2, 0]), None]);
        let e = refs(&written(3), &pps, &sps).unwrap_err().to_string();
        assert!(e.contains("list_entry = 3"), "{e}");
    }

    #[test]
    fn rejects_bad_slice_types() {
        let (sps, pps) = (parse_sps(&SPS_64).unwrap(), parse_pps(&PPS_64).unwrap());
        assert!(parse_with(&slice_nal(1, 0, true, 3, 0, 8), &pps, &sps).is_err());
        // An inter slice in a CRA picture.
        assert!(parse_with(&slice_nal(21, 0, true, 1, 0, 8), &pps, &sps).is_err());
        assert!(parse_with(&slice_nal(21, 0, true, 2, 0, 8), &pps, &sps).is_ok());
        assert!(parse_with(&PPS_64, &pps, &sps).is_err());
        assert!(parse_with(&SLICE_64_P[..3], &pps, &sps).is_err());
    }
}
