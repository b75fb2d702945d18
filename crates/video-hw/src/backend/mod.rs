//! The engines behind the sessions. Everything here is crate-private: the public
//! sessions ([`crate::Decoder`], [`crate::Encoder`]) own a boxed backend and the
//! fallback policy; [`crate::registry`] knows which backends exist.
//!
//! A backend is a file or folder that can be deleted without touching the others,
//! except for its row in `registry/rows.rs` (and its name in [`Engine`]). Each says what
//! it is and can do in its descriptor (`descriptor.rs`); the generic layers ask that
//! instead of naming engines (docs/adding-an-engine.md).

pub(crate) mod audio;
pub(crate) mod descriptor;
pub(crate) mod ffmpeg;
pub(crate) mod nvidia;
pub(crate) mod openh264;
pub(crate) mod probe_streams;
pub(crate) mod rav1d;
pub(crate) mod rav1e;
pub(crate) mod reorder;
pub(crate) mod software_threads;
#[cfg(test)]
pub(crate) mod toy;
pub(crate) mod videotoolbox;

use std::time::Duration;

use crate::EncoderConfig;
use crate::bitstream::access_unit::AccessUnit;
use crate::config::FrameOptions;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData, HostFrame};
use crate::packet::Packet;

/// A decode engine fed with whole access units (Annex-B, 4-byte start codes).
pub(crate) trait DecoderBackend: Send {
    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// Human-readable description of what runs, e.g. "nvdec (GPU 0: NVIDIA H200)".
    fn describe(&self) -> String;

    /// Decodes one access unit.
    fn decode(&mut self, au: &AccessUnit) -> Result<()>;

    /// Takes an access unit whose picture nothing will use or show: its headers must reach
    /// the engine (they mark the pictures held for reference), its pixels need not be
    /// decoded, and it need not be output. Engines that cannot leave the decoding out
    /// decode it as usual (the caller drops what comes out); NVDEC leaves it out.
    fn decode_headers_only(&mut self, au: &AccessUnit) -> Result<()> {
        self.decode(au)
    }

    /// Decodes an access unit whose picture the caller needs decoded (later pictures
    /// predict from it) but will not take: the engine may output its frame without pixels
    /// ([`FrameData::None`](crate::frame::FrameData::None), in the metadata form of
    /// [`Output::Metadata`](crate::config::Output::Metadata)), sparing the copy or colour
    /// conversion of a frame that is dropped. Random access decodes many such pictures on
    /// the way to the frames asked for. Engines that cannot tell decode it as usual.
    fn decode_unshown(&mut self, au: &AccessUnit) -> Result<()> {
        self.decode(au)
    }

    /// A decoded frame if one is ready, without waiting.
    fn try_reap(&mut self) -> Result<Option<Frame>>;

    /// Waits up to `timeout` for a decoded frame.
    fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Frame>> {
        let _ = timeout;
        self.try_reap()
    }

    /// Ends the stream: every frame still held is returned, in output order.
    fn flush(&mut self) -> Result<Vec<Frame>>;

    /// Damage the engine noticed only at the end of the stream (e.g. pictures it never
    /// output), taken once; the session reports it after `flush`'s frames.
    fn take_stream_error(&mut self) -> Option<crate::error::Error> {
        None
    }

    /// Pictures the engine reported as damaged and concealed (output anyway, with
    /// its own repair) so far.
    fn concealed(&self) -> u64 {
        0
    }

    /// Pictures given for their headers only ([`Self::decode_headers_only`]) that the
    /// engine left undecoded so far (the FFmpeg engine counts them; NVDEC leaves every
    /// one out).
    fn left_out(&self) -> u64 {
        0
    }

    /// Threads one session of this engine keeps busy decoding: FFmpeg's frame or slice
    /// threads, or the threads a decoder runs itself (dav1d's, in rav1d or through FFmpeg's
    /// libdav1d); 1 for an engine that decodes on one thread or on a device.
    fn threads(&self) -> u32 {
        1
    }

    /// Why this session does not run on the engine its request preferred (a CPU engine
    /// uploading frames for CUDA output because the GPU's decoder cannot take the stream),
    /// or None.
    fn fallback(&self) -> Option<String> {
        None
    }

    /// Gives the frames displayed from now on as `output` (validated by the caller).
    /// `bounded_by_caller`: the caller bounds the frames it holds itself, so the engine
    /// lifts its own bound on them (NVDEC refuses more than 4 GiB of CUDA frames held per
    /// session otherwise). Engines that cannot switch refuse (`Unsupported`); NVDEC
    /// switches between host and CUDA frames, which come from the same decoder object.
    fn set_output(&mut self, output: crate::config::Output, bounded_by_caller: bool) -> Result<()> {
        let _ = bounded_by_caller;
        Err(crate::error::Error::unsupported(
            format!("switching {} to {output:?} frames", self.engine().name()),
            "the engine gives one kind of frame per session",
        ))
    }
}

/// An encode engine.
pub(crate) trait EncoderBackend: Send {
    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// Human-readable description of what runs.
    fn describe(&self) -> String;

    /// Encodes one frame; packets it produces carry `generation`.
    fn submit(&mut self, frame: &Frame, options: FrameOptions, generation: u64) -> Result<()>;

    /// An encoded packet if one is ready, without waiting.
    fn try_reap(&mut self) -> Result<Option<Packet>>;

    /// Waits up to `timeout` for a packet.
    fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Packet>> {
        let _ = timeout;
        self.try_reap()
    }

    /// Ends the stream: every packet still held is returned.
    fn flush(&mut self) -> Result<Vec<Packet>>;

    /// Applies `config` in place if the engine can (bitrate, frame rate, GOP); returns
    /// false when it cannot, so the session drains and opens a new backend instead.
    fn reconfigure(&mut self, config: &EncoderConfig) -> Result<bool> {
        let _ = config;
        Ok(false)
    }

    /// Parameter sets for a decoder configuration record (length-prefixed output).
    fn parameter_sets(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }

    /// The keyframe interval the engine actually uses, when it knows it.
    fn gop_length(&self) -> Option<u32> {
        None
    }
}

/// The check an encode engine's `submit` makes: `frame` has the pixel format and size the
/// encoder was opened with (`Encoder` checks the same before it calls an engine; an engine
/// keeps its own check, being what writes into buffers of that size). `encoder` names it
/// in the error (the engine, or FFmpeg's encoder).
pub(crate) fn check_encoder_input(config: &EncoderConfig, frame: &Frame, encoder: &str) -> Result<()> {
    if frame.format != config.input_format || (frame.width, frame.height) != (config.width, config.height) {
        return Err(Error::invalid_input(format!(
            "frame is {} {}x{}, the {encoder} encoder was opened for {} {}x{}",
            frame.format, frame.width, frame.height, config.input_format, config.width, config.height
        )));
    }
    Ok(())
}

/// [`check_encoder_input`] for an engine that encodes host frames only (`engine`, its name
/// in the error): the frame's host planes.
pub(crate) fn host_encoder_input<'a>(config: &EncoderConfig, frame: &'a Frame, engine: &str) -> Result<&'a HostFrame> {
    let FrameData::Host(host) = &frame.data else {
        return Err(Error::unsupported(
            format!("device-memory input with {engine}"),
            format!("{engine} encodes host frames only"),
        ));
    };
    check_encoder_input(config, frame, engine)?;
    Ok(host)
}
