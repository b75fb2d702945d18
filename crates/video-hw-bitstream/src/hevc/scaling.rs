//! `scaling_list_data()` (H.265 7.3.4) and the default lists (Tables 7-5 and 7-6).

use crate::rbsp::BitReader;
use video_hw_types::error::{Error, Result};

/// Table 7-6, `matrixId` 0..=2 (intra), in up-right diagonal scan order.
const DEFAULT_INTRA: [u8; 64] = [
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 16, 17, 16, 17, 18, 17, 18, 18, 17, 18, 21, 19, 20, 21, 20, 19, 21, 24,
    22, 22, 24, 24, 22, 22, 24, 25, 25, 27, 30, 27, 25, 25, 29, 31, 35, 35, 31, 29, 36, 41, 44, 41, 36, 47, 54, 54, 47,
    65, 70, 65, 88, 88, 115,
];

/// Table 7-6, `matrixId` 3..=5 (inter), in up-right diagonal scan order.
const DEFAULT_INTER: [u8; 64] = [
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 18, 18, 18, 18, 18, 18, 20, 20, 20, 20, 20, 20, 20, 24,
    24, 24, 24, 24, 24, 24, 24, 25, 25, 25, 25, 25, 25, 25, 28, 28, 28, 28, 28, 28, 33, 33, 33, 33, 33, 41, 41, 41, 41,
    54, 54, 54, 71, 71, 91,
];

/// The scaling lists of an SPS or PPS, resolved (prediction and defaults applied).
///
/// Lists are in coded order (up-right diagonal scan), as `ScalingList[sizeId][matrixId][i]`
/// of the standard. `matrixId` 0..=2 are intra Y/Cb/Cr, 3..=5 inter Y/Cb/Cr. The 32x32
/// chroma lists (`matrixId` 1, 2, 4, 5), used only for 4:4:4, are copies of the 16x16 ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingList {
    /// 4x4 lists (sizeId 0).
    pub list_4x4: [[u8; 16]; 6],
    /// 8x8 lists (sizeId 1).
    pub list_8x8: [[u8; 64]; 6],
    /// 16x16 lists (sizeId 2), 8x8 coefficients upsampled by the decoder.
    pub list_16x16: [[u8; 64]; 6],
    /// 32x32 lists (sizeId 3), 8x8 coefficients upsampled by the decoder.
    pub list_32x32: [[u8; 64]; 6],
    /// DC values of the 16x16 lists.
    pub dc_16x16: [u8; 6],
    /// DC values of the 32x32 lists.
    pub dc_32x32: [u8; 6],
}

impl Default for ScalingList {
    /// The default lists of Tables 7-5 and 7-6 (flat 16 for 4x4, DC 16).
    fn default() -> Self {
        let big = [DEFAULT_INTRA, DEFAULT_INTRA, DEFAULT_INTRA, DEFAULT_INTER, DEFAULT_INTER, DEFAULT_INTER];
        ScalingList {
            list_4x4: [[16; 16]; 6],
            list_8x8: big,
            list_16x16: big,
            list_32x32: big,
            dc_16x16: [16; 6],
            dc_32x32: [16; 6],
        }
    }
}

impl ScalingList {
    /// Parses `scaling_list_data()`.
    pub fn parse(r: &mut BitReader<'_>) -> Result<Self> {
        let mut sl = ScalingList::default();
        for size_id in 0..4usize {
            let step = if size_id == 3 { 3 } else { 1 };
            for matrix_id in (0..6usize).step_by(step) {
                let off = r.byte_offset();
                if !r.flag("scaling_list_pred_mode_flag")? {
                    let delta = r.ue("scaling_list_pred_matrix_id_delta")? as usize;
                    if delta == 0 {
                        sl.set_entry(size_id, matrix_id, ScalingList::default().entry(size_id, matrix_id));
                    } else {
                        let delta = delta.saturating_mul(step);
                        if delta > matrix_id {
                            return Err(Error::invalid_bitstream(
                                off,
                                format!("scaling_list_pred_matrix_id_delta points before matrix 0 (sizeId {size_id})"),
                            ));
                        }
                        sl.set_entry(size_id, matrix_id, sl.entry(size_id, matrix_id - delta));
                    }
                } else {
                    let coef_num = if size_id == 0 { 16 } else { 64 };
                    let mut next: i32 = 8;
                    if size_id > 1 {
                        let dc = r.se_range("scaling_list_dc_coef_minus8", -7, 247)? + 8;
                        next = dc;
                        sl.dc_mut(size_id)[matrix_id] = dc as u8;
                    }
                    let list = sl.list_mut(size_id, matrix_id);
                    for v in list.iter_mut().take(coef_num) {
                        let delta = r.se_range("scaling_list_delta_coef", -128, 127)?;
                        next = (next + delta + 256) % 256;
                        *v = next as u8;
                    }
                }
            }
        }
        // 32x32 chroma (4:4:4 only) follows the 16x16 chroma lists.
        for m in [1, 2, 4, 5] {
            sl.list_32x32[m] = sl.list_16x16[m];
            sl.dc_32x32[m] = sl.dc_16x16[m];
        }
        Ok(sl)
    }

    fn list_mut(&mut self, size_id: usize, matrix_id: usize) -> &mut [u8] {
        match size_id {
            0 => &mut self.list_4x4[matrix_id],
            1 => &mut self.list_8x8[matrix_id],
            2 => &mut self.list_16x16[matrix_id],
            _ => &mut self.list_32x32[matrix_id],
        }
    }

    fn list(&self, size_id: usize, matrix_id: usize) -> &[u8] {
        match size_id {
            0 => &self.list_4x4[matrix_id],
            1 => &self.list_8x8[matrix_id],
            2 => &self.list_16x16[matrix_id],
            _ => &self.list_32x32[matrix_id],
        }
    }

    fn dc_mut(&mut self, size_id: usize) -> &mut [u8; 6] {
        if size_id == 2 { &mut self.dc_16x16 } else { &mut self.dc_32x32 }
    }

    /// List `matrix_id` of `size_id` (padded to 64 values) and its DC value (16 for sizes without one).
    fn entry(&self, size_id: usize, matrix_id: usize) -> ([u8; 64], u8) {
        let mut values = [0u8; 64];
        let src = self.list(size_id, matrix_id);
        values[..src.len()].copy_from_slice(src);
        let dc = match size_id {
            2 => self.dc_16x16[matrix_id],
            3 => self.dc_32x32[matrix_id],
            _ => 16,
        };
        (values, dc)
    }

    fn set_entry(&mut self, size_id: usize, matrix_id: usize, (values, dc): ([u8; 64], u8)) {
        let dst = self.list_mut(size_id, matrix_id);
        let n = dst.len();
        dst.copy_from_slice(&values[..n]);
        if size_id > 1 {
            self.dc_mut(size_id)[matrix_id] = dc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::testutil::BitWriter;

    /// All lists predicted from the defaults (pred_mode 0, delta 0).
    fn all_default(w: &mut BitWriter) {
        for size_id in 0..4 {
            let n = if size_id == 3 { 2 } else { 6 };
            for _ in 0..n {
                w.flag(false).ue(0);
            }
        }
    }

    #[test]
    fn all_default_lists() {
        let mut w = BitWriter::new();
        all_default(&mut w);
        let len = w.len();
        let data = w.finish();
        let mut r = BitReader::new(&data);
        let sl = ScalingList::parse(&mut r).unwrap();
        assert_eq!(r.bit_position() as usize, len);
        assert_eq!(sl, ScalingList::default());
        assert_eq!(sl.list_8x8[0][63], 115);
        assert_eq!(sl.list_32x32[3][63], 91);
    }

    #[test]
    fn explicit_and_copied_lists() {
        let mut w = BitWriter::new();
        // sizeId 0: matrix 0 explicit flat 20 (first delta 12, then 0s), matrix 1 copies matrix 0.
        w.flag(true).se(12);
        for _ in 1..16 {
            w.se(0);
        }
        w.flag(false).ue(1);
        for _ in 2..6 {
            w.flag(false).ue(0);
        }
        for _ in 0..6 {
            w.flag(false).ue(0); // sizeId 1
        }
        // sizeId 2: matrix 0 explicit with DC 1, values wrapping: 1 + (-10) + 256 = 247
        w.flag(true).se(-7).se(-10);
        for _ in 1..64 {
            w.se(0);
        }
        for _ in 1..6 {
            w.flag(false).ue(0);
        }
        // sizeId 3: matrix 0 default, matrix 3 copies matrix 0 (delta 1 → refMatrixId 0)
        w.flag(false).ue(0).flag(false).ue(1);
        let data = w.finish();
        let sl = ScalingList::parse(&mut BitReader::new(&data)).unwrap();
        assert_eq!(sl.list_4x4[0], [20; 16]);
        assert_eq!(sl.list_4x4[1], [20; 16]);
        assert_eq!(sl.list_4x4[2], [16; 16]);
        assert_eq!(sl.dc_16x16[0], 1);
        assert_eq!(sl.list_16x16[0], [247; 64]);
        assert_eq!(sl.list_32x32[3], DEFAULT_INTRA);
        assert_eq!(sl.list_32x32[1], DEFAULT_INTRA);
    }

    #[test]
    fn bad_delta_is_an_error() {
        let mut w = BitWriter::new();
        w.flag(false).ue(1); // sizeId 0 matrix 0 cannot copy from matrix -1
        let data = w.finish();
        assert!(ScalingList::parse(&mut BitReader::new(&data)).is_err());
        let mut w = BitWriter::new();
        w.flag(true).se(200); // delta coefficient out of range
        let data = w.finish();
        assert!(ScalingList::parse(&mut BitReader::new(&data)).is_err());
    }
}
