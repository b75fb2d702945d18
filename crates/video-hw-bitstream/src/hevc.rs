//! HEVC parameter sets (VPS, SPS, PPS), slice-header essentials and picture-boundary detection.
//!
//! Everything here reads straight from NAL units with emulation prevention in place (see
//! [`super::rbsp::BitReader`]); error offsets are byte offsets inside the NAL unit, header
//! included. Each syntax structure of H.265 lives in its own file:
//!
//! * [`ptl`] reads `profile_tier_level()` and names profiles and levels;
//! * [`hrd`] reads past `hrd_parameters()`;
//! * [`vui`] reads `vui_parameters()`;
//! * [`scaling`] reads `scaling_list_data()`;
//! * [`rps`] reads `st_ref_pic_set()`;
//! * [`vps`], [`sps`] and [`pps`] read the parameter sets;
//! * [`slice`](mod@slice) reads the start of `slice_segment_header()`, up to the reference picture lists;
//! * [`refs`] follows which pictures each picture predicts from ([`RefTracker`]);
//! * [`parser`] holds [`HevcParser`], which finds access units and pictures and derives POC and output.

pub mod hrd;
pub mod parser;
pub mod pps;
pub mod ptl;
pub mod refs;
pub mod rps;
pub mod scaling;
pub mod slice;
pub mod sps;
pub mod vps;
pub mod vui;

#[cfg(test)]
mod testutil;

pub use parser::HevcParser;
pub use pps::{Pps, parse_pps};
pub use ptl::ProfileTierLevel;
pub use refs::RefTracker;
pub use slice::{SliceHeader, SliceRefs, SliceType, parse_slice_header, parse_slice_refs};
pub use sps::{Sps, parse_sps};
pub use vps::{Vps, parse_vps};
pub use vui::Vui;

use super::nal::HevcNalHeader;
use super::rbsp::BitReader;
use video_hw_types::error::{Error, Result};

/// Parses the NAL unit header of `nal`, checks it has type `expected` (named `what` in
/// errors) and returns a reader positioned on the first payload bit.
fn payload_reader<'a>(nal: &'a [u8], expected: u8, what: &str) -> Result<(HevcNalHeader, BitReader<'a>)> {
    let header = HevcNalHeader::parse(nal)?;
    if header.nal_unit_type != expected {
        return Err(Error::invalid_bitstream(
            0,
            format!("{what}: NAL unit type is {}, expected {expected}", header.nal_unit_type),
        ));
    }
    let mut r = BitReader::new(nal);
    r.skip(16, "nal_unit_header")?;
    Ok((header, r))
}

/// `Ceil(Log2(n))` for `n >= 1` (0 for 0 and 1).
fn ceil_log2(n: u32) -> u32 {
    if n <= 1 { 0 } else { 32 - (n - 1).leading_zeros() }
}

/// An error at the reader's current position.
fn err_at(r: &BitReader<'_>, reason: impl std::fmt::Display) -> Error {
    Error::invalid_bitstream(r.byte_offset(), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_log2_values() {
        assert_eq!(ceil_log2(0), 0);
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(4), 2);
        assert_eq!(ceil_log2(5), 3);
        assert_eq!(ceil_log2(510), 9);
        assert_eq!(ceil_log2(u32::MAX), 32);
    }

    #[test]
    fn payload_reader_checks_type() {
        assert!(payload_reader(&[0x40, 0x01, 0xff], 32, "VPS").is_ok());
        let Err(e) = payload_reader(&[0x42, 0x01, 0xff], 32, "VPS") else { panic!("accepted an SPS as VPS") };
        assert!(e.to_string().contains("expected 32"), "{e}");
        assert!(payload_reader(&[0x40], 32, "VPS").is_err());
    }
}
