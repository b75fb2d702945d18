//! Reading a run's packets from the file and decoding them on one session.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::plan::Run;
use super::prune::{Skipper, Use};
use crate::bitstream::avcc::DecoderConfigRecord;
use crate::decoder::{Decoder, Input};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{CodecConfig, Demuxer, FrameIndex};

/// One packet of a run, as the run feeds it.
#[derive(Debug)]
pub struct RunPacket {
    /// Its decode-order number in the track.
    pub number: usize,
    /// Its bytes (the first packet of a run has the parameter sets in force in front).
    pub data: Vec<u8>,
    /// False for a reference picture no frame the run delivers depends on: fed for its
    /// headers only ([`Use::HeadersOnly`]).
    pub decode: bool,
    /// True for a packet of a frame the run delivers; a decoded packet that is not (a
    /// picture on the way to those) is fed unshown ([`Decoder::submit_unshown`]): its
    /// frame may come out without pixels, sparing their copy and conversion.
    pub shown: bool,
}

/// A run's packets, in decode order.
pub type Packets = Vec<RunPacket>;

/// Reads the packets of `run` from `demuxer`, the parameter sets in force put in front of
/// the first one where the track keeps them in band, and settles what each is fed for
/// ([`Skipper::uses`]): pictures nothing delivered depends on are left out or fed for
/// their headers only. Damage the demuxer reports and goes on from (MPEG-TS) is skipped;
/// the run ends early if the file does.
pub fn read_run(demuxer: &mut Demuxer, index: &FrameIndex, run: &Run, skip: &Skipper) -> Result<Packets> {
    read_run_to(demuxer, index, run, skip).map(|(packets, _)| packets)
}

/// [`read_run`], with the number of the packet the demuxer reads next (`run.end + 1`, or
/// where the file ended).
pub fn read_run_to(demuxer: &mut Demuxer, index: &FrameIndex, run: &Run, skip: &Skipper) -> Result<(Packets, usize)> {
    // A frame's packet, and its second field's where that is a packet of its own.
    let mut wanted: Vec<usize> =
        run.frames.iter().flat_map(|&f| index.frames()[f].packet as usize..=index.last_packet(f)).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let track = index.track().index;
    let entry = index.packets().get(run.start).ok_or_else(|| Error::invalid_input("run outside the index"))?;
    demuxer.seek_to(track, entry)?;
    let mut read: Vec<(usize, Vec<u8>)> = Vec::with_capacity(run.packets());
    let mut k = run.start;
    let mut errors = 0;
    while k <= run.end {
        match demuxer.next_packet() {
            Ok(Some(p)) if p.track == track => {
                read.push((k, p.data));
                k += 1;
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) if errors < 1000 => errors += 1,
            Err(e) => return Err(e),
        }
    }
    if let (Some(sets), Some((_, first))) = (index.parameter_sets_at(run.start), read.first_mut()) {
        let mut data = Vec::with_capacity(sets.len() + first.len());
        data.extend_from_slice(sets);
        data.extend_from_slice(first);
        *first = data;
    }
    let uses = skip.uses(index.track().config.record(), &read, &wanted);
    let packets = read.into_iter().zip(uses).filter(|(_, u)| *u != Use::Leave);
    let packets = packets
        .map(|((number, data), u)| {
            let shown = wanted.binary_search(&number).is_ok();
            RunPacket { number, data, decode: u == Use::Decode, shown }
        })
        .collect();
    Ok((packets, k))
}

/// What a session needs to feed a track's packets.
#[derive(Debug, Clone)]
pub struct Feed {
    /// The `avcC`/`hvcC` record of length-prefixed tracks.
    record: Option<Arc<DecoderConfigRecord>>,
}

impl Feed {
    /// For `index`'s track.
    pub fn new(index: &FrameIndex) -> Feed {
        let record = match &index.track().config {
            CodecConfig::Nal(r) => Some(Arc::new(r.clone())),
            _ => None,
        };
        Feed { record }
    }

    /// Submits one packet, tagged with its decode-order number as its timestamp (frames
    /// come back with the tag of the packet that coded them); `decode` false feeds it for
    /// its headers only, `shown` false (a picture decoded for others only) unshown. A
    /// damaged packet is the decoder's to conceal or drop; only engine failures are
    /// returned.
    pub fn submit(&self, decoder: &mut Decoder, k: usize, data: &[u8], decode: bool, shown: bool) -> Result<()> {
        let tag = Some(k as i64);
        let input = match &self.record {
            Some(record) => Input::LengthPrefixed { sample: data, record, pts: tag },
            None => Input::Packet { data, pts: tag },
        };
        let fed = match (decode, shown) {
            (false, _) => decoder.submit_headers_only(input),
            (true, false) => decoder.submit_unshown(input),
            (true, true) => decoder.submit(input),
        };
        match fed {
            Ok(()) | Err(Error::InvalidBitstream { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Decodes a run's `packets` on `decoder` and returns the frames among `wanted`
/// (presentation numbers, ascending) with their container timestamps, as (number, frame).
/// The session is flushed at the end, ready for the next run. Once `stop` is set, the
/// rest of the run is not fed (the caller is stopping the call: interrupt.rs).
///
/// `first_fed` is called once the run's first packet is fed, or dropped uncalled where the
/// run ends before (on NVDEC the session has made its decoder by then: `at_once.rs` makes
/// new sessions' decoders one at a time with it).
pub fn decode_run(
    decoder: &mut Decoder,
    feed: &Feed,
    index: &FrameIndex,
    packets: &Packets,
    wanted: &[usize],
    stop: Option<&AtomicBool>,
    first_fed: impl FnOnce(),
) -> Result<Vec<(usize, Frame)>> {
    let mut out = Vec::with_capacity(wanted.len());
    decode_run_with(decoder, feed, packets, first_fed, |packet, frame| {
        if let Some(f) = index.frame_of_packet(packet)
            && wanted.binary_search(&f).is_ok()
        {
            let mut frame = frame;
            frame.pts = Some(index.frames()[f].pts);
            out.push((f, frame));
        }
        !stop.is_some_and(|s| s.load(Ordering::Relaxed))
    })?;
    Ok(out)
}

/// Decodes a run's `packets` on `decoder`, handing each frame with the decode-order
/// number of the packet that coded it to `emit`, until the run ends or `emit` returns
/// false (the rest is not fed). The session is flushed at the end either way. `first_fed`
/// is called once the first packet is fed; where the run ends before that, it is dropped
/// uncalled (what it holds is released either way).
pub fn decode_run_with(
    decoder: &mut Decoder,
    feed: &Feed,
    packets: &Packets,
    first_fed: impl FnOnce(),
    mut emit: impl FnMut(usize, Frame) -> bool,
) -> Result<()> {
    let mut first_fed = Some(first_fed);
    let mut wanted = true;
    let mut give = |frame: Frame, wanted: &mut bool| {
        if let (true, Some(tag)) = (*wanted, frame.pts) {
            *wanted = emit(tag as usize, frame);
        }
    };
    for p in packets {
        if !wanted {
            break;
        }
        feed.submit(decoder, p.number, &p.data, p.decode, p.shown)?;
        if let Some(f) = first_fed.take() {
            f();
        }
        while let Some(frame) = decoder.try_reap()? {
            give(frame, &mut wanted);
        }
    }
    for frame in decoder.flush()? {
        give(frame, &mut wanted);
    }
    Ok(())
}

/// The error for frames a run should have given and did not.
pub fn missing(index: &FrameIndex, frame: usize) -> Error {
    let f = index.frames()[frame];
    let pos = index.packets().get(f.packet as usize).map_or(0, |p| p.pos);
    Error::invalid_bitstream(
        pos,
        format!(
            "frame {frame} (pts {}, packet {}) did not come out of the decoder: its packet or one it depends on is damaged",
            f.pts, f.packet
        ),
    )
}
