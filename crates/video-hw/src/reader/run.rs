//! Reading a run's packets from the file and decoding them on one session.

use std::sync::Arc;

use super::plan::Run;
use crate::bitstream::avcc::DecoderConfigRecord;
use crate::decoder::{Decoder, Input};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{CodecConfig, Demuxer, FrameIndex};

/// A run's packets: (decode-order number, bytes).
pub type Packets = Vec<(usize, Vec<u8>)>;

/// Reads the packets of `run` from `demuxer`, the parameter sets in force put in front of
/// the first one where the track keeps them in band. Damage the demuxer reports and goes
/// on from (MPEG-TS) is skipped; the run ends early if the file does.
pub fn read_run(demuxer: &mut Demuxer, index: &FrameIndex, run: &Run) -> Result<Packets> {
    let track = index.track().index;
    let entry = index.packets().get(run.start).ok_or_else(|| Error::invalid_input("run outside the index"))?;
    demuxer.seek_to(track, entry)?;
    let mut out: Packets = Vec::with_capacity(run.packets());
    let mut k = run.start;
    let mut errors = 0;
    while k <= run.end {
        match demuxer.next_packet() {
            Ok(Some(p)) if p.track == track => {
                out.push((k, p.data));
                k += 1;
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) if errors < 1000 => errors += 1,
            Err(e) => return Err(e),
        }
    }
    if let (Some(sets), Some((_, first))) = (index.parameter_sets_at(run.start), out.first_mut()) {
        let mut data = Vec::with_capacity(sets.len() + first.len());
        data.extend_from_slice(sets);
        data.extend_from_slice(first);
        *first = data;
    }
    Ok(out)
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
    /// come back with the tag of the packet that coded them). A damaged packet is the
    /// decoder's to conceal or drop; only engine failures are returned.
    pub fn submit(&self, decoder: &mut Decoder, k: usize, data: &[u8]) -> Result<()> {
        let tag = Some(k as i64);
        let input = match &self.record {
            Some(record) => Input::LengthPrefixed { sample: data, record, pts: tag },
            None => Input::Packet { data, pts: tag },
        };
        match decoder.submit(input) {
            Ok(()) | Err(Error::InvalidBitstream { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Decodes a run's `packets` on `decoder` and returns the frames among `wanted`
/// (presentation numbers, ascending) with their container timestamps, as (number, frame).
/// The session is flushed at the end, ready for the next run.
pub fn decode_run(
    decoder: &mut Decoder,
    feed: &Feed,
    index: &FrameIndex,
    packets: &Packets,
    wanted: &[usize],
) -> Result<Vec<(usize, Frame)>> {
    let mut out = Vec::with_capacity(wanted.len());
    let keep = |frame: Frame, out: &mut Vec<(usize, Frame)>| {
        if let Some(f) = frame.pts.and_then(|t| index.frame_of_packet(t as usize)) {
            if wanted.binary_search(&f).is_ok() {
                let mut frame = frame;
                frame.pts = Some(index.frames()[f].pts);
                out.push((f, frame));
            }
        }
    };
    for (k, data) in packets {
        feed.submit(decoder, *k, data)?;
        while let Some(frame) = decoder.try_reap()? {
            keep(frame, &mut out);
        }
    }
    for frame in decoder.flush()? {
        keep(frame, &mut out);
    }
    Ok(out)
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
