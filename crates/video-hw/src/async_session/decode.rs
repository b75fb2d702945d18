//! [`AsyncDecoder`]: a decode session as a `Sink` of [`AsyncInput`] and a `Stream` of
//! frames.

use super::session::{AsyncSession, SessionInput, SessionOutput};
use super::worker::{BACKPRESSURE_RETRIES, BACKPRESSURE_WAIT, Ends, spawn};
use crate::config::DecoderConfig;
use crate::decoder::Decoder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::frame::output::OutputScope;
use crate::frame::pool::FrameSlots;
use crate::pipeline::{DecodeInput, FrameRing, RingConfig, RingMemory, output_memory};
use std::sync::Arc;

/// An input item: input for the engine (the pipelines' owned [`DecodeInput`]: Annex-B
/// bytes, an access unit, a length-prefixed sample with its record, a whole packet; see
/// [`DecodeInput::from_media`] for a demuxed packet), or a drain marker.
#[derive(Debug, Clone)]
pub enum AsyncInput {
    /// Input for the engine.
    Data(DecodeInput),
    /// Drain: every frame of the input before it comes out before any frame after it; the
    /// session then takes a new stream (as [`Decoder::flush`]).
    Flush,
}

impl From<DecodeInput> for AsyncInput {
    fn from(input: DecodeInput) -> Self {
        AsyncInput::Data(input)
    }
}

impl AsyncInput {
    /// Annex-B bytes with an optional timestamp.
    pub fn annexb(data: impl Into<Vec<u8>>, pts: impl Into<Option<i64>>) -> Self {
        DecodeInput::annexb(data, pts).into()
    }
}

/// A decode session driven from async code: a [`Sink`](futures::Sink) of [`AsyncInput`]
/// and a [`Stream`](futures::Stream) of frames, or of the errors the session met
/// (`InvalidBitstream` for damage, after which it goes on; an engine failure, after which the
/// stream ends). Module docs: threads, backpressure, cancel safety.
/// [`split`](AsyncSession::split) gives the two halves to two tasks.
pub type AsyncDecoder = AsyncSession<AsyncInput, Frame>;

/// The input half of an [`AsyncDecoder`]: a [`Sink`](futures::Sink) of [`AsyncInput`].
/// Closing it drains the engine and ends the frame stream.
pub type DecodeSink = SessionInput<AsyncInput>;

/// The output half of an [`AsyncDecoder`]: a [`Stream`](futures::Stream) of frames.
pub type DecodeStream = SessionOutput<Frame>;

impl AsyncSession<AsyncInput, Frame> {
    /// Opens a session for `config` (blocking: call it where blocking is allowed, e.g. in
    /// `spawn_blocking`, or before the runtime starts) with channels of `depth` items.
    pub fn open(config: DecoderConfig, depth: usize) -> Result<Self> {
        Self::new(Decoder::open(config)?, depth)
    }

    /// Runs an open `decoder` on its own thread, with queues of `depth` items (at least 1):
    /// at most `depth` input items wait for the engine and `depth` frames for the consumer.
    ///
    /// As in a [`DecodePipeline`](crate::pipeline::DecodePipeline), the engine builds its
    /// frames in `depth + 2` reusable buffers (page-locked host memory where a CUDA driver
    /// is present, device memory for NVDEC's CUDA output) while the consumer gives them
    /// back by dropping frames; when it holds them all, frames get memory of their own.
    pub fn new(decoder: Decoder, depth: usize) -> Result<Self> {
        Self::with_memory(decoder, depth, RingMemory::Auto)
    }

    /// As [`new`](Self::new), with the output buffers in `memory`, as a pipeline's
    /// [`PipelineOptions::memory`](crate::pipeline::PipelineOptions::memory) chooses them:
    /// [`RingMemory::Pageable`] spares a session whose frames stay on the host the
    /// page-locking of its buffers (a cost each new session pays where a driver is
    /// present), `Auto` keeps it for frames that go on to the GPU.
    pub fn with_memory(decoder: Decoder, depth: usize, memory: RingMemory) -> Result<Self> {
        let engine = decoder.engine();
        let backend = decoder.backend().to_string();
        let depth = depth.max(1);
        let memory = output_memory(memory, &decoder);
        // Only the ring's buffers are used; its queue stays empty.
        let ring = FrameRing::with_config(RingConfig::new(depth).memory(memory).name("async decode output"))?;
        let slots = ring.frame_slots().clone();
        let handles = spawn("video-hw async decode", depth, move |ends| run(decoder, &slots, ends))?;
        Ok(AsyncSession::from_handles(handles, "decode", engine, backend))
    }
}

/// The session thread: input in order, frames out as the engine gives them (built in
/// `slots` where the engine can).
fn run(mut decoder: Decoder, slots: &Arc<FrameSlots>, mut ends: Ends<AsyncInput, Frame>) {
    let _output = OutputScope::enter(slots);
    while let Some(item) = ends.next_input() {
        let go_on = match &item {
            AsyncInput::Data(input) => submit(&mut decoder, input, &mut ends),
            AsyncInput::Flush => drain(&mut decoder, &mut ends),
        };
        if !go_on {
            return;
        }
    }
    drain(&mut decoder, &mut ends);
}

/// Feeds one item, then hands out the frames ready. False when the session should end.
fn submit(decoder: &mut Decoder, input: &DecodeInput, ends: &mut Ends<AsyncInput, Frame>) -> bool {
    let mut waits = 0;
    loop {
        match input.submit_to(decoder) {
            Ok(()) => break,
            // Too many frames held: hand some out (waiting for the consumer), then retry.
            Err(Error::Backpressure(_)) if waits < BACKPRESSURE_RETRIES => {
                waits += 1;
                ends.wake_consumer();
                let handed = match decoder.reap_timeout(BACKPRESSURE_WAIT) {
                    Ok(Some(frame)) => ends.give(Ok(frame)),
                    Ok(None) => true,
                    Err(e) => ends.give(Err(e)),
                };
                if !handed {
                    return false;
                }
            }
            // Damage: reported; the rest of the input still decodes.
            Err(e @ Error::InvalidBitstream { .. }) => {
                if !ends.give(Err(e)) {
                    return false;
                }
                break;
            }
            Err(e) => {
                ends.give(Err(e));
                return false;
            }
        }
    }
    reap(decoder, ends)
}

/// Hands out every frame ready now.
fn reap(decoder: &mut Decoder, ends: &mut Ends<AsyncInput, Frame>) -> bool {
    loop {
        match decoder.try_reap() {
            Ok(Some(frame)) => {
                if !ends.give(Ok(frame)) {
                    return false;
                }
            }
            Ok(None) => return true,
            Err(e) => return ends.give(Err(e)),
        }
    }
}

/// Drains the engine: every frame of the input so far.
fn drain(decoder: &mut Decoder, ends: &mut Ends<AsyncInput, Frame>) -> bool {
    match decoder.flush() {
        Ok(frames) => frames.into_iter().all(|f| ends.give(Ok(f))),
        Err(e) => ends.give(Err(e)),
    }
}
