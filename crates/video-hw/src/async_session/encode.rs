//! [`AsyncEncoder`]: an encode session as a `Sink` of frames and a `Stream` of packets.

use super::session::{AsyncSession, SessionInput, SessionOutput};
use super::worker::{BACKPRESSURE_RETRIES, BACKPRESSURE_WAIT, Ends, spawn};
use crate::config::{EncoderConfig, FrameOptions};
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::packet::Packet;

/// A frame to encode and its options (a frame alone converts, with its own pts).
#[derive(Debug)]
pub struct EncodeItem {
    /// The frame.
    pub frame: Frame,
    /// Its options; `pts: None` takes the frame's.
    pub options: FrameOptions,
}

impl From<Frame> for EncodeItem {
    fn from(frame: Frame) -> Self {
        EncodeItem { frame, options: FrameOptions::default() }
    }
}

/// An encode session driven from async code: a [`Sink`](futures::Sink) of [`EncodeItem`]
/// (frames) and a [`Stream`](futures::Stream) of packets in decode order, or the error that
/// ended the session. Closing the sink drains the encoder: its last packets come out, then
/// the stream ends (module docs: threads, backpressure, cancel safety).
pub type AsyncEncoder = AsyncSession<EncodeItem, Packet>;

/// The input half of an [`AsyncEncoder`]: a [`Sink`](futures::Sink) of [`EncodeItem`].
pub type EncodeSink = SessionInput<EncodeItem>;

/// The output half of an [`AsyncEncoder`]: a [`Stream`](futures::Stream) of packets.
pub type EncodeStream = SessionOutput<Packet>;

impl AsyncSession<EncodeItem, Packet> {
    /// Opens a session for `config` (blocking) with channels of `depth` items.
    pub fn open(config: EncoderConfig, depth: usize) -> Result<Self> {
        Self::new(Encoder::open(config)?, depth)
    }

    /// Runs an open `encoder` on its own thread, with channels of `depth` items (at least 1).
    pub fn new(encoder: Encoder, depth: usize) -> Result<Self> {
        let engine = encoder.engine();
        let backend = encoder.backend().to_string();
        let handles = spawn("video-hw async encode", depth, move |ends| run(encoder, ends))?;
        Ok(AsyncSession::from_handles(handles, "encode", engine, backend))
    }
}

/// The session thread: frames in order, packets out as the engine gives them; the
/// encoder is drained when the sink closes. Encoder errors end the session (a frame the
/// encoder refused cannot be skipped without changing the output).
fn run(mut encoder: Encoder, mut ends: Ends<EncodeItem, Packet>) {
    while let Some(EncodeItem { frame, options }) = ends.next_input() {
        let options = FrameOptions { pts: options.pts.or(frame.pts), ..options };
        let mut waits = 0;
        loop {
            match encoder.submit(&frame, options) {
                Ok(()) => break,
                Err(Error::Backpressure(_)) if waits < BACKPRESSURE_RETRIES => {
                    waits += 1;
                    ends.wake_consumer();
                    match encoder.reap_timeout(BACKPRESSURE_WAIT) {
                        Ok(Some(p)) => {
                            if !ends.give(Ok(p)) {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            ends.give(Err(e));
                            return;
                        }
                    }
                }
                Err(e) => {
                    ends.give(Err(e));
                    return;
                }
            }
        }
        // The frame's memory is free for its owner again before the packets wait.
        drop(frame);
        loop {
            match encoder.try_reap() {
                Ok(Some(p)) => {
                    if !ends.give(Ok(p)) {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    ends.give(Err(e));
                    return;
                }
            }
        }
    }
    match encoder.flush() {
        Ok(packets) => {
            for p in packets {
                if !ends.give(Ok(p)) {
                    return;
                }
            }
        }
        Err(e) => {
            ends.give(Err(e));
        }
    }
}
