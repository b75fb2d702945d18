//! `hrd_parameters()` (H.265 E.2.2): read past, since nothing in it is needed here.

use super::err_at;
use crate::rbsp::BitReader;
use video_hw_types::error::Result;

/// Reads past `hrd_parameters(common_inf_present, max_sub_layers_minus1)`.
pub fn skip_hrd_parameters(r: &mut BitReader<'_>, common_inf_present: bool, max_sub_layers_minus1: u8) -> Result<()> {
    let mut nal_hrd = false;
    let mut vcl_hrd = false;
    let mut sub_pic_hrd_params = false;
    if common_inf_present {
        nal_hrd = r.flag("nal_hrd_parameters_present_flag")?;
        vcl_hrd = r.flag("vcl_hrd_parameters_present_flag")?;
        if nal_hrd || vcl_hrd {
            sub_pic_hrd_params = r.flag("sub_pic_hrd_params_present_flag")?;
            if sub_pic_hrd_params {
                // tick_divisor_minus2, du_cpb_removal_delay_increment_length_minus1,
                // sub_pic_cpb_params_in_pic_timing_sei_flag, dpb_output_delay_du_length_minus1
                r.skip(8 + 5 + 1 + 5, "sub_pic_hrd_params")?;
            }
            // bit_rate_scale, cpb_size_scale
            r.skip(4 + 4, "bit_rate_scale")?;
            if sub_pic_hrd_params {
                r.skip(4, "cpb_size_du_scale")?;
            }
            // initial_cpb_removal_delay_length_minus1, au_cpb_removal_delay_length_minus1,
            // dpb_output_delay_length_minus1
            r.skip(5 + 5 + 5, "initial_cpb_removal_delay_length_minus1")?;
        }
    }
    for _ in 0..=max_sub_layers_minus1.min(6) {
        let fixed_pic_rate_general = r.flag("fixed_pic_rate_general_flag")?;
        let fixed_pic_rate_within_cvs = fixed_pic_rate_general || r.flag("fixed_pic_rate_within_cvs_flag")?;
        let mut low_delay_hrd = false;
        if fixed_pic_rate_within_cvs {
            r.ue_max("elemental_duration_in_tc_minus1", 2047)?;
        } else {
            low_delay_hrd = r.flag("low_delay_hrd_flag")?;
        }
        let mut cpb_cnt_minus1 = 0;
        if !low_delay_hrd {
            cpb_cnt_minus1 = r.ue_max("cpb_cnt_minus1", 31)?;
        }
        for present in [nal_hrd, vcl_hrd] {
            if present {
                skip_sub_layer_hrd_parameters(r, cpb_cnt_minus1, sub_pic_hrd_params)?;
            }
        }
    }
    Ok(())
}

/// Reads past `sub_layer_hrd_parameters()` for `cpb_cnt_minus1 + 1` CPBs.
fn skip_sub_layer_hrd_parameters(r: &mut BitReader<'_>, cpb_cnt_minus1: u32, sub_pic_hrd_params: bool) -> Result<()> {
    for _ in 0..=cpb_cnt_minus1 {
        let bit_rate_value_minus1 = r.ue("bit_rate_value_minus1")?;
        if bit_rate_value_minus1 == u32::MAX {
            return Err(err_at(r, "bit_rate_value_minus1 is out of range"));
        }
        r.ue("cpb_size_value_minus1")?;
        if sub_pic_hrd_params {
            r.ue("cpb_size_du_value_minus1")?;
            r.ue("bit_rate_du_value_minus1")?;
        }
        r.flag("cbr_flag")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::testutil::BitWriter;

    #[test]
    fn skips_nal_hrd_with_one_sub_layer() {
        let mut w = BitWriter::new();
        w.flag(true).flag(false).flag(false); // nal, vcl, sub_pic
        w.u(8, 0).u(15, 0); // scales, lengths
        w.flag(true).ue(0).ue(0); // fixed_pic_rate_general, elemental_duration, cpb_cnt_minus1
        w.ue(5).ue(7).flag(false); // bit_rate, cpb_size, cbr
        let len = w.len();
        let data = w.finish();
        let mut r = BitReader::new(&data);
        skip_hrd_parameters(&mut r, true, 0).unwrap();
        assert_eq!(r.bit_position() as usize, len);
    }

    #[test]
    fn skips_sub_pic_and_low_delay() {
        let mut w = BitWriter::new();
        w.flag(true).flag(true).flag(true); // nal, vcl, sub_pic
        w.u(19, 0).u(8, 0).u(4, 0).u(15, 0);
        // sub-layer 0: not fixed, not within cvs, low_delay=1 → no cpb_cnt (1 CPB)
        w.flag(false).flag(false).flag(true);
        for _ in 0..2 {
            w.ue(1).ue(2).ue(3).ue(4).flag(true);
        }
        // sub-layer 1: fixed general, elemental 3, cpb_cnt_minus1 = 1 → 2 CPBs, nal and vcl
        w.flag(true).ue(3).ue(1);
        for _ in 0..4 {
            w.ue(0).ue(0).ue(0).ue(0).flag(false);
        }
        let len = w.len();
        let data = w.finish();
        let mut r = BitReader::new(&data);
        skip_hrd_parameters(&mut r, true, 1).unwrap();
        assert_eq!(r.bit_position() as usize, len);
    }

    #[test]
    fn truncated_is_an_error() {
        let mut r = BitReader::new(&[0xc0]);
        assert!(skip_hrd_parameters(&mut r, true, 6).is_err());
    }

    #[test]
    fn cpb_count_is_bounded() {
        let mut w = BitWriter::new();
        w.flag(false).flag(false); // no nal/vcl hrd
        w.flag(false).flag(false).flag(false).ue(32);
        let data = w.finish();
        let mut r = BitReader::new(&data);
        let e = skip_hrd_parameters(&mut r, true, 0).unwrap_err();
        assert!(e.to_string().contains("cpb_cnt_minus1"), "{e}");
    }
}
