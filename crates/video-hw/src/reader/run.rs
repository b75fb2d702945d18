//! Reading a run's packets from the file and decoding them on one session.

use std::sync::Arc;

use super::plan::Run;
use crate::bitstream::annexb::split_all;
use crate::bitstream::avcc::{DecoderConfigRecord, LengthPrefixedNals};
use crate::codec::Codec;
use crate::decoder::{Decoder, Input};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{CodecConfig, Demuxer, FrameIndex};

/// A run's packets: (decode-order number, bytes).
pub type Packets = Vec<(usize, Vec<u8>)>;

/// Reads the packets of `run` from `demuxer`, the parameter sets in force put in front of
/// the first one where the track keeps them in band, leaving out the pictures `skip` says
/// nothing refers to unless they code a frame the run delivers. Damage the demuxer reports
/// and goes on from (MPEG-TS) is skipped; the run ends early if the file does.
pub fn read_run(demuxer: &mut Demuxer, index: &FrameIndex, run: &Run, skip: &Skipper) -> Result<Packets> {
    let wanted: Vec<usize> = run.frames.iter().map(|&f| index.frames()[f].packet as usize).collect();
    let track = index.track().index;
    let entry = index.packets().get(run.start).ok_or_else(|| Error::invalid_input("run outside the index"))?;
    demuxer.seek_to(track, entry)?;
    let mut out: Packets = Vec::with_capacity(run.packets());
    let mut k = run.start;
    let mut errors = 0;
    while k <= run.end {
        match demuxer.next_packet() {
            Ok(Some(p)) if p.track == track => {
                if k == run.start || wanted.contains(&k) || !skip.droppable(&p.data) {
                    out.push((k, p.data));
                }
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

/// Tells the pictures no other picture refers to (H.264 `nal_ref_idc` 0; HEVC sub-layer
/// non-reference pictures of a stream with one temporal sub-layer): a run leaves those out
/// unless it delivers them, which saves decoding about half the pictures of an x264
/// B-pyramid stream and changes no other picture.
#[derive(Debug, Clone, Copy)]
pub struct Skipper {
    codec: Option<Codec>,
    /// Length-prefixed packets' length size (MP4, Matroska); `None` for Annex-B packets.
    length_size: Option<u8>,
}

impl Skipper {
    /// For `index`'s track; skips nothing for codecs or streams where that is not known
    /// to be safe (AV1, VP9, HEVC with temporal sub-layers or unknown ones).
    pub fn new(index: &FrameIndex) -> Skipper {
        let record = index.track().config.record();
        let codec = match index.track().codec.video() {
            Some(Codec::H264) => Some(Codec::H264),
            Some(Codec::Hevc) => {
                // A sub-layer non-reference picture may be referred to by pictures of higher
                // sub-layers: only a stream of one sub-layer lets them go.
                let in_band =
                    index.parameter_sets_at(0).map(|s| split_all(s).into_iter().map(<[u8]>::to_vec).collect());
                let sets: Vec<Vec<u8>> = record.map(|r| r.parameter_sets.clone()).or(in_band).unwrap_or_default();
                let sps: Vec<_> = sets.iter().filter(|n| n.first().is_some_and(|b| (b >> 1) & 0x3f == 33)).collect();
                let one_layer = !sps.is_empty()
                    && sps
                        .iter()
                        .all(|n| crate::bitstream::hevc::parse_sps(n).is_ok_and(|s| s.max_sub_layers_minus1 == 0));
                one_layer.then_some(Codec::Hevc)
            }
            _ => None,
        };
        Skipper { codec, length_size: record.map(|r| r.length_size) }
    }

    /// True when every picture NAL unit of the packet is a non-reference picture.
    pub fn droppable(&self, data: &[u8]) -> bool {
        let Some(codec) = self.codec else { return false };
        let mut vcl = 0;
        let mut check = |nal: &[u8]| -> bool {
            let Some(&h) = nal.first() else { return true };
            match codec {
                Codec::H264 => match h & 0x1f {
                    1..=5 => {
                        vcl += 1;
                        h & 0x60 == 0
                    }
                    _ => true,
                },
                _ => match (h >> 1) & 0x3f {
                    t @ 0..=31 => {
                        vcl += 1;
                        t <= 14 && t % 2 == 0
                    }
                    _ => true,
                },
            }
        };
        let all = match self.length_size {
            Some(n) => LengthPrefixedNals::new(data, n).all(|nal| nal.is_ok_and(&mut check)),
            None => split_all(data).into_iter().all(&mut check),
        };
        all && vcl > 0
    }
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
    decode_run_with(decoder, feed, packets, |packet, frame| {
        if let Some(f) = index.frame_of_packet(packet) {
            if wanted.binary_search(&f).is_ok() {
                let mut frame = frame;
                frame.pts = Some(index.frames()[f].pts);
                out.push((f, frame));
            }
        }
        true
    })?;
    Ok(out)
}

/// Decodes a run's `packets` on `decoder`, handing each frame with the decode-order
/// number of the packet that coded it to `emit`, until the run ends or `emit` returns
/// false (the rest is not fed). The session is flushed at the end either way.
pub fn decode_run_with(
    decoder: &mut Decoder,
    feed: &Feed,
    packets: &Packets,
    mut emit: impl FnMut(usize, Frame) -> bool,
) -> Result<()> {
    let mut wanted = true;
    let mut give = |frame: Frame, wanted: &mut bool| {
        if let (true, Some(tag)) = (*wanted, frame.pts) {
            *wanted = emit(tag as usize, frame);
        }
    };
    for (k, data) in packets {
        if !wanted {
            break;
        }
        feed.submit(decoder, *k, data)?;
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
