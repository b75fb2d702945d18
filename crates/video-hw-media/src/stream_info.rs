//! Stream facts of an H.264/HEVC track from its parameter sets: profile, level, coded
//! size and crop, bit depth, chroma format, colour, VUI frame rate — what `info` prints.

use super::types::CodecConfig;
use super::{Demuxer, TrackKind};
use video_hw_bitstream::access_unit::{AccessUnitAssembler, StreamInfo};
use video_hw_bitstream::annexb::{NalRef, split_all};
use video_hw_bitstream::avcc::LengthPrefixedNals;
use video_hw_types::codec::Codec;
use video_hw_types::error::Result;

/// Packets read at most to find the first picture.
const MAX_PACKETS: usize = 256;

impl Demuxer {
    /// The facts of H.264/HEVC track `track` from the sequence parameter set of its first
    /// picture (`None` for other codecs, or when no picture is found in its first packets).
    /// Reading restarts from the first packet afterwards.
    pub fn stream_info(&mut self, track: usize) -> Result<Option<StreamInfo>> {
        let Some(t) = self.track(track).cloned() else { return Ok(None) };
        let codec = match t.codec.video() {
            Some(c @ (Codec::H264 | Codec::Hevc)) if t.kind == TrackKind::Video => c,
            _ => return Ok(None),
        };
        let mut asm = AccessUnitAssembler::new(codec)?.collect_data(false);
        if let CodecConfig::Nal(record) = &t.config {
            for ps in &record.parameter_sets {
                asm.push_nal(NalRef { data: ps, offset: 0, pts: None });
            }
        }
        self.rewind()?;
        let mut seen = 0;
        // Streams whose reader goes on after damage (`Container::damage_skips`: a raw
        // stream's slices before its first parameter sets) are read on past it; each error
        // counts as a packet read.
        let resyncs = self.container().damage_skips() > 0;
        while seen < MAX_PACKETS && asm.first_stream_info().is_none() {
            let packet = match self.next_packet() {
                Ok(Some(p)) => p,
                Err(_) if resyncs => {
                    seen += 1;
                    continue;
                }
                Ok(None) | Err(_) => break,
            };
            if packet.track != track {
                continue;
            }
            seen += 1;
            match t.config.record() {
                Some(r) => {
                    for nal in LengthPrefixedNals::new(&packet.data, r.length_size).map_while(|n| n.ok()) {
                        asm.push_nal(NalRef { data: nal, offset: 0, pts: None });
                    }
                }
                None => {
                    for nal in split_all(&packet.data) {
                        asm.push_nal(NalRef { data: nal, offset: 0, pts: None });
                    }
                }
            }
            asm.end_access_unit();
            while asm.pop().is_some() {}
        }
        self.rewind()?;
        Ok(asm.first_stream_info().cloned())
    }
}
