//! Tables and small helpers that the H.264 and HEVC readers share (the two standards
//! define these the same way).

use video_hw_types::codec::Rational;

/// Sample aspect ratios of `aspect_ratio_idc` 1..=16 (H.264 Table E-1, H.265 Table E-1).
const SAR_TABLE: [(u16, u16); 16] = [
    (1, 1),
    (12, 11),
    (10, 11),
    (16, 11),
    (40, 33),
    (24, 11),
    (20, 11),
    (32, 11),
    (80, 33),
    (18, 11),
    (15, 11),
    (64, 33),
    (160, 99),
    (4, 3),
    (3, 2),
    (2, 1),
];

/// The sample aspect ratio of a predefined `aspect_ratio_idc` (1..=16); `None` for 0
/// (unspecified), 255 (`EXTENDED_SAR`, coded separately) and reserved values.
#[doc(hidden)]
pub fn predefined_sar(aspect_ratio_idc: u8) -> Option<(u16, u16)> {
    SAR_TABLE.get((aspect_ratio_idc as usize).checked_sub(1)?).copied()
}

/// `num / den` in lowest terms; `None` when either is zero.
#[doc(hidden)]
pub fn reduced_ratio(num: u64, den: u64) -> Option<Rational> {
    if num == 0 || den == 0 {
        return None;
    }
    let (mut a, mut b) = (num, den);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    Some(Rational::new((num / a) as i64, (den / a) as i64))
}

/// The chroma format of `chroma_format_idc` as "4:2:0" and friends.
#[doc(hidden)]
pub fn chroma_format_name(chroma_format_idc: u8) -> &'static str {
    match chroma_format_idc {
        0 => "4:0:0",
        1 => "4:2:0",
        2 => "4:2:2",
        _ => "4:4:4",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sar_table_edges() {
        assert_eq!(predefined_sar(0), None);
        assert_eq!(predefined_sar(1), Some((1, 1)));
        assert_eq!(predefined_sar(16), Some((2, 1)));
        assert_eq!(predefined_sar(17), None);
        assert_eq!(predefined_sar(255), None);
    }

    #[test]
    fn ratios_are_reduced() {
        assert_eq!(reduced_ratio(50, 2), Some(Rational::new(25, 1)));
        assert_eq!(reduced_ratio(60000, 2002), Some(Rational::new(30000, 1001)));
        assert_eq!(reduced_ratio(u32::MAX as u64, 2 * u32::MAX as u64), Some(Rational::new(1, 2)));
        assert_eq!(reduced_ratio(0, 1), None);
        assert_eq!(reduced_ratio(1, 0), None);
    }
}
