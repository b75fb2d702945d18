//! Pixels: the formats frames are in ([`PixelFormat`], in [`format`](mod@format)), ffmpeg's names
//! for them and the depth each name means ([`pix_fmt`]), the conversions between formats
//! ([`convert`]), a software decoder's planes to the output a session asked for
//! (`planar`), the CPU transforms of decoded frames: crop, resize, rotate, RGB and
//! normalisation ([`transform`]), and the quality of a decoded picture against its source:
//! PSNR and SSIM ([`quality`]).
//!
//! A plain-types layer (`tests/layering.rs`): everything here needs only frames, codecs
//! and errors, so the sessions' configuration can carry a transform and every engine can
//! convert.

pub mod convert;
/// The pixel formats, in the plain-types crate (`crates/video-hw-types`), below the codecs
/// that name them.
pub use video_hw_types::pixels::format;
pub mod pix_fmt;
pub(crate) mod planar;
pub mod quality;
pub mod transform;

pub use format::{Channels, PixelFormat, SampleType};
