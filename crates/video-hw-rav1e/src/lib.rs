//! rav1e's encoder context behind a non-generic interface.
//!
//! rav1e's `Context<T>` is generic over the sample type, so its whole encoder is compiled
//! in the crate that names `Context<u8>` or `Context<u16>`. Naming them here, in a crate
//! the workspace builds optimised in every profile, keeps a debug build of video-hw (its
//! tests) from running an unoptimised encoder at a frame or two a second. video-hw maps
//! its configuration onto rav1e's `Config` and drives this.

use std::sync::Arc;

pub use rav1e;
use rav1e::prelude::{Config, Context, EncoderStatus, FrameParameters, FrameType, InvalidConfig, Opaque, Pixel};

/// An encoder context of 8- or 10-bit samples.
pub enum Encoder {
    /// 8-bit samples.
    Eight(Context<u8>),
    /// 10-bit samples in 16-bit words.
    Ten(Context<u16>),
}

/// One packet out of rav1e.
pub struct Packet {
    /// The temporal unit.
    pub data: Vec<u8>,
    /// It holds a key frame.
    pub keyframe: bool,
    /// What was sent with the frame.
    pub opaque: Option<Opaque>,
}

/// What [`Encoder::receive`] found.
pub enum Received {
    /// A packet.
    Packet(Packet),
    /// Nothing until more frames come.
    NeedMoreData,
    /// The last packet after a flush was given.
    Done,
}

impl Encoder {
    /// A context for `config`, 10-bit when `ten_bit`.
    pub fn new(config: &Config, ten_bit: bool) -> Result<Encoder, InvalidConfig> {
        Ok(if ten_bit { Encoder::Ten(config.new_context()?) } else { Encoder::Eight(config.new_context()?) })
    }

    /// Sends one picture: tightly packed planar 4:2:0 samples (one byte each, or two
    /// little-endian bytes at 10 bits), `width` x `height`.
    pub fn send(
        &mut self,
        data: &[u8],
        width: usize,
        height: usize,
        params: FrameParameters,
    ) -> Result<(), EncoderStatus> {
        match self {
            Encoder::Eight(c) => send(c, data, width, height, 1, params),
            Encoder::Ten(c) => send(c, data, width, height, 2, params),
        }
    }

    /// The next packet, or why there is none.
    pub fn receive(&mut self) -> Result<Received, EncoderStatus> {
        loop {
            let got = match self {
                Encoder::Eight(c) => c.receive_packet().map(|p| (p.data, p.frame_type, p.opaque)),
                Encoder::Ten(c) => c.receive_packet().map(|p| (p.data, p.frame_type, p.opaque)),
            };
            return match got {
                Ok((data, frame_type, opaque)) => {
                    Ok(Received::Packet(Packet { data, keyframe: frame_type == FrameType::KEY, opaque }))
                }
                Err(EncoderStatus::Encoded) => continue,
                Err(EncoderStatus::NeedMoreData) => Ok(Received::NeedMoreData),
                Err(EncoderStatus::LimitReached) => Ok(Received::Done),
                Err(e) => Err(e),
            };
        }
    }

    /// No more frames: what is held is coded and given by [`receive`](Self::receive).
    pub fn flush(&mut self) {
        match self {
            Encoder::Eight(c) => c.flush(),
            Encoder::Ten(c) => c.flush(),
        }
    }
}

fn send<T: Pixel>(
    ctx: &mut Context<T>,
    data: &[u8],
    w: usize,
    h: usize,
    bytes: usize,
    params: FrameParameters,
) -> Result<(), EncoderStatus> {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (luma, chroma) = (w * h * bytes, cw * ch * bytes);
    if data.len() < luma + 2 * chroma {
        return Err(EncoderStatus::Failure);
    }
    let mut frame = ctx.new_frame();
    frame.planes[0].copy_from_raw_u8(&data[..luma], w * bytes, bytes);
    frame.planes[1].copy_from_raw_u8(&data[luma..luma + chroma], cw * bytes, bytes);
    frame.planes[2].copy_from_raw_u8(&data[luma + chroma..luma + 2 * chroma], cw * bytes, bytes);
    ctx.send_frame((Arc::new(frame), params))
}
