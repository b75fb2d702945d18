//! `st_ref_pic_set()` (H.265 7.3.7 and 7.4.8), with inter-RPS prediction.

use super::err_at;
use crate::rbsp::BitReader;
use video_hw_types::error::Result;

/// Most pictures before (or after) the current one in one short-term RPS.
pub const MAX_PICS_PER_DIRECTION: usize = 16;

/// Most short-term RPS an SPS can carry (`num_short_term_ref_pic_sets` ≤ 64).
pub const MAX_SHORT_TERM_RPS: usize = 64;

/// A short-term reference picture set: POC deltas of the pictures kept for reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShortTermRps {
    /// `NumNegativePics`: pictures before the current one in output order.
    pub num_negative_pics: u8,
    /// `NumPositivePics`: pictures after the current one.
    pub num_positive_pics: u8,
    /// `inter_ref_pic_set_prediction_flag`.
    pub inter_ref_pic_set_prediction_flag: bool,
    /// `DeltaPocS0` then `DeltaPocS1`.
    delta_poc: [i32; 2 * MAX_PICS_PER_DIRECTION],
    /// `UsedByCurrPicS0` then `UsedByCurrPicS1`, bit `i` for entry `i`.
    used: u32,
}

impl ShortTermRps {
    /// `NumDeltaPocs`.
    pub fn num_delta_pocs(&self) -> usize {
        self.num_negative_pics as usize + self.num_positive_pics as usize
    }

    /// `DeltaPocS0[i]` (negative, decreasing) and `UsedByCurrPicS0[i]`.
    pub fn s0(&self) -> impl Iterator<Item = (i32, bool)> + '_ {
        (0..self.num_negative_pics as usize).map(|i| (self.delta_poc[i], self.used & (1 << i) != 0))
    }

    /// `DeltaPocS1[i]` (positive, increasing) and `UsedByCurrPicS1[i]`.
    pub fn s1(&self) -> impl Iterator<Item = (i32, bool)> + '_ {
        let n = self.num_negative_pics as usize;
        (n..self.num_delta_pocs()).map(|i| (self.delta_poc[i], self.used & (1 << i) != 0))
    }

    /// Parses `st_ref_pic_set(idx)`. `previous` holds the sets `0..idx` of the SPS;
    /// `idx == previous.len()`, and `idx == num_short_term_ref_pic_sets` in a slice header.
    pub fn parse(r: &mut BitReader<'_>, idx: usize, num_sets: usize, previous: &[ShortTermRps]) -> Result<Self> {
        let inter = idx != 0 && r.flag("inter_ref_pic_set_prediction_flag")?;
        if inter { Self::parse_predicted(r, idx, num_sets, previous) } else { Self::parse_explicit(r) }
    }

    fn parse_explicit(r: &mut BitReader<'_>) -> Result<Self> {
        let max = MAX_PICS_PER_DIRECTION as u32;
        let num_negative = r.ue_max("num_negative_pics", max)? as usize;
        let num_positive = r.ue_max("num_positive_pics", max)? as usize;
        let mut rps = ShortTermRps {
            num_negative_pics: num_negative as u8,
            num_positive_pics: num_positive as u8,
            ..Self::default()
        };
        let mut poc = 0i32;
        for i in 0..num_negative {
            poc -= r.ue_max("delta_poc_s0_minus1", 32767)? as i32 + 1;
            rps.delta_poc[i] = poc;
            if r.flag("used_by_curr_pic_s0_flag")? {
                rps.used |= 1 << i;
            }
        }
        poc = 0;
        for i in num_negative..num_negative + num_positive {
            poc += r.ue_max("delta_poc_s1_minus1", 32767)? as i32 + 1;
            rps.delta_poc[i] = poc;
            if r.flag("used_by_curr_pic_s1_flag")? {
                rps.used |= 1 << i;
            }
        }
        Ok(rps)
    }

    fn parse_predicted(r: &mut BitReader<'_>, idx: usize, num_sets: usize, previous: &[ShortTermRps]) -> Result<Self> {
        let mut delta_idx = 1;
        if idx == num_sets {
            delta_idx = r.ue_max("delta_idx_minus1", idx.saturating_sub(1) as u32)? as usize + 1;
        }
        let reference = idx
            .checked_sub(delta_idx)
            .and_then(|i| previous.get(i))
            .ok_or_else(|| err_at(r, "st_ref_pic_set: reference set is missing"))?;
        let sign = r.flag("delta_rps_sign")?;
        let abs = r.ue_max("abs_delta_rps_minus1", 32767)? as i32 + 1;
        let delta_rps = if sign { -abs } else { abs };

        let n = reference.num_delta_pocs();
        let mut used_by_curr = [false; 2 * MAX_PICS_PER_DIRECTION + 1];
        let mut use_delta = [true; 2 * MAX_PICS_PER_DIRECTION + 1];
        for j in 0..=n {
            used_by_curr[j] = r.flag("used_by_curr_pic_flag")?;
            if !used_by_curr[j] {
                use_delta[j] = r.flag("use_delta_flag")?;
            }
        }

        // Equations 7-61 and 7-62: the reference set shifted by deltaRps, plus the
        // reference picture itself (index n), split into pictures before and after,
        // each in the order the standard lists them.
        let ref_neg = reference.num_negative_pics as usize;
        let mut s0: [(i32, bool); 2 * MAX_PICS_PER_DIRECTION + 1] = [(0, false); 2 * MAX_PICS_PER_DIRECTION + 1];
        let mut s1 = s0;
        let (mut n0, mut n1) = (0usize, 0usize);
        let push = |list: &mut [(i32, bool)], count: &mut usize, d: i32, j: usize| {
            list[*count] = (d, used_by_curr[j]);
            *count += 1;
        };
        let shifted = |j: usize| if j == n { delta_rps } else { reference.delta_poc[j] + delta_rps };
        let s0_order = (ref_neg..n).rev().chain(std::iter::once(n)).chain(0..ref_neg);
        for j in s0_order {
            let d = shifted(j);
            if d < 0 && use_delta[j] {
                push(&mut s0, &mut n0, d, j);
            }
        }
        let s1_order = (0..ref_neg).rev().chain(std::iter::once(n)).chain(ref_neg..n);
        for j in s1_order {
            let d = shifted(j);
            if d > 0 && use_delta[j] {
                push(&mut s1, &mut n1, d, j);
            }
        }
        if n0 > MAX_PICS_PER_DIRECTION || n1 > MAX_PICS_PER_DIRECTION {
            return Err(err_at(r, "st_ref_pic_set: predicted set has too many pictures"));
        }
        let mut rps = ShortTermRps {
            num_negative_pics: n0 as u8,
            num_positive_pics: n1 as u8,
            inter_ref_pic_set_prediction_flag: true,
            ..Self::default()
        };
        for (i, &(d, used)) in s0[..n0].iter().chain(&s1[..n1]).enumerate() {
            rps.delta_poc[i] = d;
            if used {
                rps.used |= 1 << i;
            }
        }
        Ok(rps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::testutil::BitWriter;

    fn explicit(w: &mut BitWriter, neg: &[(u32, bool)], pos: &[(u32, bool)]) {
        w.ue(neg.len() as u32).ue(pos.len() as u32);
        for &(d, u) in neg.iter().chain(pos) {
            w.ue(d).flag(u);
        }
    }

    #[test]
    fn explicit_set() {
        let mut w = BitWriter::new();
        explicit(&mut w, &[(0, true), (1, false)], &[(3, true)]);
        let data = w.finish();
        let rps = ShortTermRps::parse(&mut BitReader::new(&data), 0, 1, &[]).unwrap();
        assert_eq!(rps.s0().collect::<Vec<_>>(), vec![(-1, true), (-3, false)]);
        assert_eq!(rps.s1().collect::<Vec<_>>(), vec![(4, true)]);
        assert_eq!(rps.num_delta_pocs(), 3);
    }

    #[test]
    fn predicted_set() {
        // Reference: S0 = {-1}, S1 = {2}. deltaRps = -1 → shifted {-2, 1} plus the
        // reference picture at -1: S0 = {-1, -2}, S1 = {1}.
        let mut w = BitWriter::new();
        explicit(&mut w, &[(0, true)], &[(1, true)]);
        w.flag(true); // inter_ref_pic_set_prediction_flag (idx 1)
        w.flag(true).ue(0); // delta_rps_sign = 1, abs_delta_rps_minus1 = 0 → -1
        w.flag(true).flag(true).flag(true); // used_by_curr for j = 0 (-1), 1 (2), 2 (ref itself)
        let data = w.finish();
        let mut r = BitReader::new(&data);
        let first = ShortTermRps::parse(&mut r, 0, 2, &[]).unwrap();
        let second = ShortTermRps::parse(&mut r, 1, 2, &[first]).unwrap();
        assert!(second.inter_ref_pic_set_prediction_flag);
        assert_eq!(second.s0().collect::<Vec<_>>(), vec![(-1, true), (-2, true)]);
        assert_eq!(second.s1().collect::<Vec<_>>(), vec![(1, true)]);
    }

    #[test]
    fn predicted_set_drops_unused_deltas() {
        let mut w = BitWriter::new();
        explicit(&mut w, &[(0, true), (0, true)], &[]); // S0 = {-1, -2}
        w.flag(true).flag(false).ue(1); // deltaRps = +2
        // j=0 (-1 → +1): not used, use_delta 0 (dropped); j=1 (-2 → 0): dropped (d == 0 never kept);
        // j=2 (ref → +2): used
        w.flag(false).flag(false).flag(false).flag(true).flag(true);
        let data = w.finish();
        let mut r = BitReader::new(&data);
        let first = ShortTermRps::parse(&mut r, 0, 2, &[]).unwrap();
        let second = ShortTermRps::parse(&mut r, 1, 2, &[first]).unwrap();
        assert_eq!(second.s0().count(), 0);
        assert_eq!(second.s1().collect::<Vec<_>>(), vec![(2, true)]);
    }

    #[test]
    fn slice_set_uses_delta_idx() {
        let mut w = BitWriter::new();
        w.flag(true).ue(1); // inter, delta_idx_minus1 = 1 → reference set 0 of 2
        w.flag(false).ue(0); // deltaRps = +1
        w.flag(true).flag(true); // reference {} has 0 pictures: j = 0 only (the reference itself)
        let data = w.finish();
        let sets = [ShortTermRps::default(), ShortTermRps::default()];
        // Only one flag pair is read because the reference set is empty.
        let rps = ShortTermRps::parse(&mut BitReader::new(&data), 2, 2, &sets).unwrap();
        assert_eq!(rps.s1().collect::<Vec<_>>(), vec![(1, true)]);
        let mut w = BitWriter::new();
        w.flag(true).ue(2); // delta_idx_minus1 too large
        let data = w.finish();
        assert!(ShortTermRps::parse(&mut BitReader::new(&data), 2, 2, &sets).is_err());
    }

    #[test]
    fn too_many_pictures() {
        let mut w = BitWriter::new();
        w.ue(17).ue(0);
        let data = w.finish();
        assert!(ShortTermRps::parse(&mut BitReader::new(&data), 0, 1, &[]).is_err());
    }
}
