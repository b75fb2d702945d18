//! [`AsyncDecoder`]: a decode session as a `Sink` of [`AsyncInput`] and a `Stream` of
//! frames.

use std::sync::Arc;

use super::session::{AsyncSession, SessionInput, SessionOutput};
use super::worker::{BACKPRESSURE_RETRIES, BACKPRESSURE_WAIT, Ends, spawn};
use crate::bitstream::avcc::DecoderConfigRecord;
use crate::codec::Codec;
use crate::config::DecoderConfig;
use crate::decoder::{Decoder, Input};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{CodecConfig, MediaPacket, Track};

/// An owned input item: what [`Input`] borrows, plus a drain marker.
#[derive(Debug, Clone)]
pub enum AsyncInput {
    /// Annex-B bytes (any split: the session assembles access units).
    AnnexB {
        /// The bytes.
        data: Vec<u8>,
        /// Timestamp carried to the frame.
        pts: Option<i64>,
    },
    /// One length-prefixed H.264/HEVC sample with its `avcC`/`hvcC` record.
    LengthPrefixed {
        /// The sample.
        sample: Vec<u8>,
        /// The track's record (shared between the samples of a track).
        record: Arc<DecoderConfigRecord>,
        /// Timestamp carried to the frame.
        pts: Option<i64>,
    },
    /// One complete packet (AV1 temporal unit, VP9 frame, Annex-B access unit).
    Packet {
        /// The packet.
        data: Vec<u8>,
        /// Timestamp carried to the frame.
        pts: Option<i64>,
    },
    /// Drain: every frame of the input before it comes out before any frame after it; the
    /// session then takes a new stream (as [`Decoder::flush`]).
    Flush,
}

impl AsyncInput {
    /// Annex-B bytes with an optional timestamp.
    pub fn annexb(data: impl Into<Vec<u8>>, pts: impl Into<Option<i64>>) -> Self {
        AsyncInput::AnnexB { data: data.into(), pts: pts.into() }
    }

    /// One complete packet with an optional timestamp.
    pub fn packet(data: impl Into<Vec<u8>>, pts: impl Into<Option<i64>>) -> Self {
        AsyncInput::Packet { data: data.into(), pts: pts.into() }
    }

    /// A demuxed packet of `track`, in the form its container gives it (as
    /// [`Input::from_media`]): length-prefixed samples with the track's record where it has
    /// one, whole packets otherwise. `record` is the track's record, shared: pass the same
    /// `Arc` for every packet of the track ([`AsyncInput::track_record`] makes it).
    pub fn from_media(track: &Track, record: Option<&Arc<DecoderConfigRecord>>, packet: MediaPacket) -> Self {
        match (record, track.codec.video()) {
            (Some(record), Some(Codec::H264 | Codec::Hevc)) => {
                AsyncInput::LengthPrefixed { sample: packet.data, record: Arc::clone(record), pts: packet.pts }
            }
            _ => AsyncInput::Packet { data: packet.data, pts: packet.pts },
        }
    }

    /// The `avcC`/`hvcC` record of `track`, if it has one, for [`AsyncInput::from_media`].
    pub fn track_record(track: &Track) -> Option<Arc<DecoderConfigRecord>> {
        match &track.config {
            CodecConfig::Nal(record) => Some(Arc::new(record.clone())),
            _ => None,
        }
    }

    fn as_input(&self) -> Option<Input<'_>> {
        match self {
            AsyncInput::AnnexB { data, pts } => Some(Input::annexb(data, *pts)),
            AsyncInput::LengthPrefixed { sample, record, pts } => Some(Input::length_prefixed(sample, record, *pts)),
            AsyncInput::Packet { data, pts } => Some(Input::packet(data, *pts)),
            AsyncInput::Flush => None,
        }
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
pub type DecodeInput = SessionInput<AsyncInput>;

/// The output half of an [`AsyncDecoder`]: a [`Stream`](futures::Stream) of frames.
pub type DecodeOutput = SessionOutput<Frame>;

impl AsyncSession<AsyncInput, Frame> {
    /// Opens a session for `config` (blocking: call it where blocking is allowed, e.g. in
    /// `spawn_blocking`, or before the runtime starts) with channels of `depth` items.
    pub fn open(config: DecoderConfig, depth: usize) -> Result<Self> {
        Self::new(Decoder::open(config)?, depth)
    }

    /// Runs an open `decoder` on its own thread, with channels of `depth` items (at least 1):
    /// at most `depth` input items wait for the engine and `depth` frames for the consumer.
    pub fn new(decoder: Decoder, depth: usize) -> Result<Self> {
        let engine = decoder.engine();
        let backend = decoder.backend().to_string();
        let handles = spawn("video-hw async decode", depth, move |ends| run(decoder, ends))?;
        Ok(AsyncSession::from_handles(handles, "decode", engine, backend))
    }
}

/// The session thread: input in order, frames out as the engine gives them.
fn run(mut decoder: Decoder, mut ends: Ends<AsyncInput, Frame>) {
    while let Some(item) = ends.next_input() {
        let go_on = match item.as_input() {
            Some(input) => submit(&mut decoder, input, &mut ends),
            None => drain(&mut decoder, &mut ends),
        };
        if !go_on {
            return;
        }
    }
    drain(&mut decoder, &mut ends);
}

/// Feeds one item, then hands out the frames ready. False when the session should end.
fn submit(decoder: &mut Decoder, input: Input<'_>, ends: &mut Ends<AsyncInput, Frame>) -> bool {
    let mut waits = 0;
    loop {
        match decoder.submit(input) {
            Ok(()) => break,
            // Too many frames held: hand some out (waiting for the consumer), then retry.
            Err(Error::Backpressure(_)) if waits < BACKPRESSURE_RETRIES => {
                waits += 1;
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
