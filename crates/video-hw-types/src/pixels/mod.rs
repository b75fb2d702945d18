//! The pixel formats (`video_hw::pixels::format`, where users name them): here, below the
//! codecs that name them. The rest of the pixels (conversions, transforms) is in
//! `video_hw::pixels`.

pub mod format;

pub use format::{Channels, PixelFormat, SampleType};
