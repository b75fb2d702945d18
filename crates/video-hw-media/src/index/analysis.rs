//! What the bitstream says of each packet of an H.264/HEVC track: whether a decoder
//! started at the stream's beginning outputs its picture, the picture order count, whether
//! decoding can start there, and the parameter sets in force at each such point.

use std::sync::Arc;

use video_hw_bitstream::access_unit::AccessUnitAssembler;
use video_hw_bitstream::annexb::{NalRef, split_all};
use video_hw_bitstream::avcc::{DecoderConfigRecord, LengthPrefixedNals};
use video_hw_bitstream::h264::RecoveryStart;
use video_hw_bitstream::nal::is_parameter_set;
use video_hw_bitstream::param_sets::ParameterSetLog;
use video_hw_types::codec::Codec;
use video_hw_types::error::Result;

/// One packet's picture, as the bitstream layer reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketPicture {
    /// A decoder started at the beginning outputs a new frame for this packet (false for
    /// RASL pictures of a CRA that starts the stream, the leading pictures of a recovery
    /// point that starts it, `pic_output_flag = 0`, second fields, packets without a
    /// picture).
    pub shows: bool,
    /// Order counts restart at the picture: an IDR, the first picture, an H.264 picture
    /// with `memory_management_control_operation` 5 and the one after it.
    pub new_sequence: bool,
    /// Picture order count.
    pub poc: i32,
    /// Decoding can start here (H.264 IDR or recovery point, HEVC IRAP).
    pub random_access: bool,
    /// An IDR picture (some engines can start only there).
    pub idr: bool,
    /// The packet holds only the second field of a pair: the frame its first field's
    /// packet starts is complete only with it.
    pub second_field: bool,
}

/// Whether a length-prefixed H.264/HEVC packet's first picture is an IDR, from the NAL
/// unit headers in its first bytes (`None` when no picture starts within them).
pub fn starts_with_idr(codec: Codec, length_size: u8, head: &[u8]) -> Option<bool> {
    let n = usize::from(length_size);
    let mut at = 0usize;
    while at + n < head.len() {
        let len = head[at..at + n].iter().fold(0usize, |v, &b| (v << 8) | usize::from(b));
        let header = *head.get(at + n)?;
        match codec {
            Codec::H264 => match header & 0x1f {
                5 => return Some(true),
                1..=4 => return Some(false),
                _ => {}
            },
            _ => match (header >> 1) & 0x3f {
                19 | 20 => return Some(true),
                0..=31 => return Some(false),
                _ => {}
            },
        }
        at = at.checked_add(n)?.checked_add(len)?;
    }
    None
}

/// Reads packets one by one, in decode order.
pub struct Analyzer {
    codec: Codec,
    asm: AccessUnitAssembler,
    record: Option<DecoderConfigRecord>,
    sets: ParameterSetLog,
    last_snapshot: Option<Arc<Vec<u8>>>,
    first: bool,
    /// The last picture held `memory_management_control_operation` 5.
    after_reset: bool,
    /// H.264 that starts without an IDR (see [`RecoveryStart`]).
    start: RecoveryStart,
}

impl Analyzer {
    /// An analyzer for `codec`; `record` for length-prefixed packets (MP4, Matroska),
    /// `None` for Annex-B packets (MPEG-TS, raw).
    pub fn new(codec: Codec, record: Option<&DecoderConfigRecord>) -> Result<Self> {
        let mut asm = AccessUnitAssembler::new(codec)?.collect_data(false);
        let mut sets = ParameterSetLog::default();
        if let Some(r) = record {
            for ps in &r.parameter_sets {
                asm.push_nal(NalRef { data: ps, offset: 0, pts: None });
                sets.note(0, ps);
            }
        }
        Ok(Analyzer {
            codec,
            asm,
            record: record.cloned(),
            sets,
            last_snapshot: None,
            first: true,
            after_reset: false,
            start: RecoveryStart::default(),
        })
    }

    /// The picture of the next packet; `None` when it holds none that could be read.
    pub fn packet(&mut self, data: &[u8]) -> Option<PacketPicture> {
        match &self.record {
            Some(r) => {
                for nal in LengthPrefixedNals::new(data, r.length_size).map_while(|n| n.ok()) {
                    self.asm.push_nal(NalRef { data: nal, offset: 0, pts: None });
                }
            }
            None => {
                // A whole access unit: its NAL units go in one by one, so the last one is
                // not held back waiting for a start code that only the next packet brings.
                for nal in split_all(data) {
                    if is_parameter_set(self.codec, nal) {
                        self.sets.note(0, nal);
                    }
                    self.asm.push_nal(NalRef { data: nal, offset: 0, pts: None });
                }
            }
        }
        self.asm.end_access_unit();
        let mut out = PacketPicture::default();
        let mut seen = false;
        // A packet holding only the second field of a pair adds no frame.
        let mut new_frame = false;
        while let Some(item) = self.asm.pop() {
            let Ok(au) = item else { continue };
            let Some(p) = au.picture else { continue };
            if !seen {
                seen = true;
                out.poc = p.poc.unwrap_or(0);
                out.random_access = p.irap;
                out.idr = p.idr;
                // A decoder outputs every picture before an mmco 5 picture before it, and it
                // before every picture after it, whose order counts start again: it is a
                // sequence of its own.
                out.new_sequence = p.idr || self.first || p.memory_reset || self.after_reset;
                self.first = false;
                self.after_reset = p.memory_reset;
            }
            out.shows |= p.output && !p.second_field;
            new_frame |= !p.second_field;
        }
        out.second_field = seen && !new_frame;
        if seen && self.codec == Codec::H264 {
            // A stream cut before its first IDR (a transport stream) starts at a recovery
            // point: decoders output that picture and what follows it, except its leading
            // pictures. The parser's output rule follows ffmpeg's raw-stream decoder, which
            // waits for the next recovery point; ffmpeg's demuxers and the hardware
            // decoders do not, so the index follows them.
            out.shows = self.start.shows(out.idr, out.random_access, out.poc, out.shows, new_frame);
        }
        seen.then_some(out)
    }

    /// The parameter sets in force now, in Annex-B form (for a decoder that starts at the
    /// packet just read); shared between points where they did not change. `None` when
    /// the stream sent more than the log keeps.
    pub fn parameter_sets(&mut self) -> Option<Arc<Vec<u8>>> {
        if !self.sets.fits() {
            return None;
        }
        let now = self.sets.all();
        match &self.last_snapshot {
            Some(s) if s.as_slice() == now.as_slice() => Some(s.clone()),
            _ => {
                let s = Arc::new(now);
                self.last_snapshot = Some(s.clone());
                Some(s)
            }
        }
    }
}
