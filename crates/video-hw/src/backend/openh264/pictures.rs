//! From OpenH264's pictures to the session's frames: each picture is matched with the
//! access unit it came from (by the sequence number given to OpenH264 as its
//! timestamp), copied out in the session's output format, put in display order, and
//! checked off; a picture the stream outputs that never came, or came concealed, is
//! recorded as damage at its access unit's offset.

use std::collections::{BTreeMap, VecDeque};

use super::ffi::DecodedPicture;
use crate::backend::reorder::{Placement, Reorder};
use crate::backend::software_threads;
use crate::codec::{ColorInfo, PixelFormat};
use crate::config::Output;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};
use crate::pixels::convert::{self, I420Ref, PlaneRef, YuvMatrix};

/// What the session knows about an access unit until its picture comes out.
#[derive(Debug, Clone, Copy)]
pub(super) struct AuMeta {
    /// The access unit's timestamp.
    pub pts: Option<i64>,
    /// An IDR picture.
    pub keyframe: bool,
    /// Colour description of the active SPS.
    pub color: ColorInfo,
    /// The stream shows this access unit's picture.
    pub output: bool,
    /// Where the picture goes in display order.
    pub place: Placement,
    /// Byte offset of the access unit, for errors.
    pub offset: u64,
    /// OpenH264 concealed macroblocks of the picture.
    pub concealed: bool,
    /// The caller takes the picture's pixels: false for an access unit fed unshown or
    /// for its headers only, whose frame comes out without them (no copy or conversion).
    pub pixels: bool,
}

/// Pictures on their way out.
pub(super) struct Outbox {
    output: Output,
    /// Access units whose picture has not come out yet, by sequence number.
    pending: BTreeMap<u64, AuMeta>,
    reorder: Reorder,
    /// Frames in display order, ready to be reaped.
    pub ready: VecDeque<Frame>,
    /// Pictures output with concealed macroblocks.
    pub concealed: u64,
    /// The first damage found since it was last taken.
    damage: Option<Error>,
}

impl Outbox {
    /// An empty outbox for frames in `output` format.
    pub fn new(output: Output) -> Self {
        Outbox {
            output,
            pending: BTreeMap::new(),
            reorder: Reorder::default(),
            ready: VecDeque::new(),
            concealed: 0,
            damage: None,
        }
    }

    /// Expects the picture of access unit `id`.
    pub fn expect(&mut self, id: u64, meta: AuMeta) {
        self.pending.insert(id, meta);
    }

    /// OpenH264 just completed a picture with concealed macroblocks: the oldest one
    /// pending, as pictures complete in decoding order.
    pub fn completed_concealed(&mut self) {
        if let Some(meta) = self.pending.values_mut().next() {
            meta.concealed = true;
        }
    }

    /// Copies a picture out of OpenH264 and puts it in display order, if the stream shows
    /// it (OpenH264 also outputs, e.g., the leading pictures of the recovery point a
    /// stream starts at, which the reference decoder does not show).
    pub fn take(&mut self, pic: &DecodedPicture<'_>) -> Result<()> {
        let Some(meta) = self.pending.remove(&pic.timestamp) else {
            tracing::debug!(target: "video_hw::openh264", id = pic.timestamp, "picture of an unknown access unit dropped");
            return Ok(());
        };
        if !meta.output {
            return Ok(());
        }
        if meta.concealed {
            self.concealed += 1;
            self.note(Error::invalid_bitstream(meta.offset, "openh264 concealed damaged macroblocks of this picture"));
        }
        let output = if meta.pixels { self.output } else { Output::Metadata };
        self.reorder.push(picture_to_frame(pic, &meta, output)?, meta.place, &mut self.ready);
        Ok(())
    }

    /// Pictures of access units before `id` that have not come out never will (OpenH264
    /// completes a picture at the latest when the next one starts): damage, if shown.
    pub fn lose_before(&mut self, id: u64) {
        let later = self.pending.split_off(&id);
        let lost = std::mem::replace(&mut self.pending, later);
        if let Some(meta) = lost.into_values().find(|m| m.output) {
            self.note(Error::invalid_bitstream(meta.offset, "openh264 output no picture for this access unit"));
        }
    }

    /// Records damage (the first is kept until taken).
    pub fn note(&mut self, e: Error) {
        self.damage.get_or_insert(e);
    }

    /// The damage found since the last call.
    pub fn take_damage(&mut self) -> Option<Error> {
        self.damage.take()
    }

    /// End of stream: every waiting picture is ready; pictures still missing are lost.
    pub fn finish(&mut self) {
        self.lose_before(u64::MAX);
        self.reorder.drain(&mut self.ready);
    }
}

/// Builds the output frame of `pic` in the session's output format.
fn picture_to_frame(pic: &DecodedPicture<'_>, meta: &AuMeta, output: Output) -> Result<Frame> {
    let (format, data) = match output {
        Output::Metadata => (PixelFormat::Yuv420p, FrameData::None),
        Output::Host(format) => {
            let src = I420Ref::new(
                PlaneRef::new(pic.y, pic.y_stride),
                PlaneRef::new(pic.u, pic.uv_stride),
                PlaneRef::new(pic.v, pic.uv_stride),
                pic.width,
                pic.height,
            )?;
            let data = if format.is_yuv() {
                // The matrix is not used for YUV outputs.
                let matrix = YuvMatrix::new(crate::codec::MatrixCoefficients::BT709, meta.color.range)?;
                convert::i420_to_host(&src, format, &matrix)?
            } else {
                convert::i420_to_rgb_spread(&src, format, &meta.color, software_threads::single_thread_spread())?
            };
            (format, FrameData::Host(data))
        }
        Output::Device(api, f) => {
            return Err(Error::unsupported(
                format!("{api} {f} output with openh264"),
                "openh264 decodes to host memory only",
            ));
        }
    };
    Ok(Frame {
        format,
        width: pic.width,
        height: pic.height,
        pts: meta.pts,
        keyframe: meta.keyframe,
        color: meta.color,
        data,
    })
}
