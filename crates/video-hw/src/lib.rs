//! # video-hw
//!
//! Hardware video decode and encode behind one backend-neutral API.
#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod backend;
pub mod bitstream;
pub mod codec;
pub mod error;

pub use codec::{
    Codec, ColorInfo, ColorPrimaries, ColorRange, Crop, Dimensions, MatrixCoefficients, PixelFormat, Rational,
    TransferCharacteristics,
};
pub use error::{Error, Result};
