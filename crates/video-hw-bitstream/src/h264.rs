//! H.264 parameter sets, slice-header essentials and picture-boundary detection.
//!
//! * [`parse_sps`] / [`Sps`]: sequence parameter set with VUI, and the stream facts it gives.
//! * [`parse_pps`] / [`Pps`]: picture parameter set.
//! * [`parse_slice_header`] / [`SliceHeader`]: the start of a slice header, as far as
//!   picture boundaries need.
//! * [`RefTracker`]: which earlier pictures each picture's reference lists hold.
//! * [`H264Parser`]: the [`CodecParser`](super::access_unit::CodecParser) that groups
//!   NAL units into access units and describes each picture.
//!
//! Every reader works on the NAL unit as it is in the stream (emulation prevention in
//! place); error offsets are byte offsets inside the NAL unit.

mod parser;
mod picture;
mod pps;
mod refs;
mod slice;
mod sps;
mod start;
#[cfg(test)]
mod test_util;
mod vui;

pub use parser::H264Parser;
pub use pps::{Pps, parse_pps};
pub use refs::{LIST_END, PictureRefs, RefTracker};
pub use slice::{SliceHeader, SliceType, parse_slice_header};
pub use sps::{MAX_PICTURE_SIDE, MAX_REF_FRAMES_IN_POC_CYCLE, Sps, parse_sps};
#[doc(hidden)]
pub use start::RecoveryStart;
pub use vui::{BitstreamRestriction, ColourDescription, Hrd, TimingInfo, Vui};
