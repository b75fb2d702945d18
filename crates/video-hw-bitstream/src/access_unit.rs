//! Access-unit assembly: groups NAL units into access units (one coded picture each,
//! with its parameter sets, SEI and delimiters), per H.264 7.4.1.2.3 and HEVC 7.4.2.4.4.
//!
//! The codec-specific knowledge (which NAL unit starts a new access unit, what the
//! picture is) lives behind [`CodecParser`], implemented by [`super::h264::H264Parser`]
//! and [`super::hevc::HevcParser`]; this file is the codec-neutral grouping.

use std::collections::VecDeque;
use std::ops::Range;

use super::annexb::{AnnexBSplitter, NalRef};
use video_hw_types::codec::{Codec, ColorInfo, Dimensions};
use video_hw_types::error::{Error, Result};

/// What kind of NAL unit a parser saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalKind {
    /// A slice (segment) of a coded picture.
    Vcl,
    /// VPS, SPS, PPS or an extension of them.
    ParameterSet,
    /// Access unit delimiter.
    Delimiter,
    /// Supplemental enhancement information.
    Sei,
    /// End of sequence.
    EndOfSequence,
    /// End of stream / bitstream.
    EndOfStream,
    /// Filler data.
    Filler,
    /// Anything else (reserved, unspecified, extension layers).
    Other,
}

/// How a coded picture covers the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PictureStructure {
    /// A whole frame (progressive, or MBAFF/PAFF frame picture).
    #[default]
    Frame,
    /// The top field only (H.264 field picture).
    TopField,
    /// The bottom field only (H.264 field picture).
    BottomField,
}

/// Facts about a coded picture, reported with its first VCL NAL unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PictureInfo {
    /// H.264 IDR picture, or HEVC IDR picture.
    pub idr: bool,
    /// Random access point: IDR (H.264), or IRAP (HEVC IDR, CRA, BLA).
    pub irap: bool,
    /// Frame, top field or bottom field.
    pub structure: PictureStructure,
    /// True when this field completes a field pair whose first field came just before,
    /// so it adds no new output frame.
    pub second_field: bool,
    /// Whether a conforming decoder started at the beginning of this stream outputs the
    /// picture (false for RASL pictures after a CRA that starts decoding, for
    /// `pic_output_flag = 0`, …).
    pub output: bool,
    /// Picture order count, where the parser derives it.
    pub poc: Option<i32>,
    /// H.264: the picture holds `memory_management_control_operation` 5, so order counts
    /// restart after it (a decoder outputs every earlier picture before it, and it before
    /// every later one). Always false for HEVC.
    pub memory_reset: bool,
    /// Id of the SPS the picture uses.
    pub sps_id: u8,
}

/// What one NAL unit means for access-unit assembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NalInfo {
    /// The NAL unit's kind.
    pub kind: NalKind,
    /// True when this NAL unit is the first of a new access unit.
    pub starts_access_unit: bool,
    /// Set on the first VCL NAL unit of each new primary coded picture.
    pub picture: Option<PictureInfo>,
}

/// Stream-level facts from the active sequence parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    /// H.264 or HEVC.
    pub codec: Codec,
    /// Profile name as the standards spell it ("High", "Main 10", …).
    pub profile: String,
    /// `profile_idc` (H.264) or `general_profile_idc` (HEVC).
    pub profile_idc: u8,
    /// Level as written by people ("4.1", "1b", "5.1").
    pub level: String,
    /// `level_idc` (H.264) or `general_level_idc` (HEVC).
    pub level_idc: u8,
    /// Coded size and cropping.
    pub dimensions: Dimensions,
    /// Luma bit depth.
    pub bit_depth_luma: u8,
    /// Chroma bit depth.
    pub bit_depth_chroma: u8,
    /// 0 = 4:0:0, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4.
    pub chroma_format_idc: u8,
    /// Colour description from the VUI (defaults when absent).
    pub color: ColorInfo,
    /// Frame rate from VUI timing info, when present.
    pub frame_rate: Option<video_hw_types::codec::Rational>,
    /// Decoded picture buffer size the stream needs (frames).
    pub max_dec_frame_buffering: u32,
    /// Frames a decoder must hold back before output (reorder depth).
    pub num_reorder_frames: u32,
    /// True when pictures may be coded as fields (H.264 `frame_mbs_only_flag = 0`).
    pub interlaced: bool,
}

impl StreamInfo {
    /// What an engine needs of it to tell whether it can decode the stream.
    pub fn format(&self) -> video_hw_types::StreamFormat {
        video_hw_types::StreamFormat {
            chroma_format_idc: self.chroma_format_idc,
            bit_depth: self.bit_depth_luma,
            width: self.dimensions.coded_width,
            height: self.dimensions.coded_height,
        }
    }

    /// "4:2:0" and friends.
    pub fn chroma_format_name(&self) -> &'static str {
        super::common::chroma_format_name(self.chroma_format_idc)
    }
}

/// Codec-specific NAL unit classification, fed one NAL unit at a time in stream order.
pub trait CodecParser: Send {
    /// The codec this parser reads.
    fn codec(&self) -> Codec;

    /// Parses what is needed of `nal` (header included, emulation prevention in place):
    /// parameter sets are stored, slice headers are read far enough to find picture
    /// boundaries. An error offset is relative to the start of `nal`.
    fn inspect(&mut self, nal: &[u8]) -> Result<NalInfo>;

    /// The active SPS's facts (of the last picture seen, or else the last SPS parsed).
    fn stream_info(&self) -> Option<StreamInfo>;

    /// Forgets the picture-boundary state (keeps parameter sets), e.g. after a seek.
    fn reset(&mut self);
}

/// A coded picture with everything that belongs to it, ready for a decoder.
///
/// For AV1 and VP9 the decode session builds one per packet, without the assembler:
/// `data` is the packet as submitted (a temporal unit, a frame or superframe), `nals` is
/// empty, `nal_count` counts OBUs (AV1) or frames (VP9), and `picture` carries only
/// `irap`/`idr` (a shown key frame) and `output` (the packet shows a picture).
#[derive(Debug, Clone, Default)]
pub struct AccessUnit {
    /// The NAL units in Annex-B form, each after a 4-byte start code `00 00 00 01`
    /// (empty when the assembler was told not to collect data); for AV1/VP9, the packet.
    pub data: Vec<u8>,
    /// Where each NAL unit (without its start code) lies in `data` (empty for AV1/VP9).
    pub nals: Vec<Range<usize>>,
    /// Stream offset of the access unit's first NAL unit.
    pub offset: u64,
    /// Timestamp carried from the input chunk the access unit started in.
    pub pts: Option<i64>,
    /// The primary coded picture; `None` for a trailing unit with no picture
    /// (parameter sets or end-of-stream only).
    pub picture: Option<PictureInfo>,
    /// Number of NAL units, also when `data` is not collected.
    pub nal_count: usize,
    /// True when an end-of-sequence or end-of-stream NAL unit closes this unit.
    pub ends_sequence: bool,
    /// Facts of the sequence parameter set the picture uses (coded size, crop, bit depth,
    /// colour), shared between access units of one sequence. Set when the assembler
    /// collects data (the decode path), `None` in headers-only mode.
    pub stream: Option<std::sync::Arc<StreamInfo>>,
}

impl AccessUnit {
    /// True for random access points (H.264 IDR, HEVC IRAP, AV1/VP9 shown key frames).
    pub fn is_keyframe(&self) -> bool {
        self.picture.is_some_and(|p| p.irap)
    }

    /// The NAL units (without start codes).
    pub fn nal_units(&self) -> impl Iterator<Item = &[u8]> {
        self.nals.iter().map(|r| &self.data[r.clone()])
    }
}

/// Limits that keep a damaged stream from growing an access unit without bound.
#[derive(Debug, Clone, Copy)]
pub struct AssemblerLimits {
    /// Largest access unit in bytes.
    pub max_au_bytes: usize,
    /// Most NAL units in one access unit.
    pub max_au_nals: usize,
}

impl Default for AssemblerLimits {
    fn default() -> Self {
        AssemblerLimits { max_au_bytes: 256 << 20, max_au_nals: 200_000 }
    }
}

/// The codec parser for a NAL-based codec; `Unsupported` for the others.
pub fn parser_for(codec: Codec) -> Result<Box<dyn CodecParser>> {
    match codec {
        Codec::H264 => Ok(Box::new(super::h264::H264Parser::new())),
        Codec::Hevc => Ok(Box::new(super::hevc::HevcParser::new())),
        other => Err(Error::unsupported(
            format!("access-unit assembly for {other}"),
            "only H.264 and HEVC are NAL-unit streams",
        )),
    }
}

/// Finished items the assembler queues before it pauses splitting Annex-B input: this
/// many, or one per [`BYTES_PER_READY`] bytes of the chunk being split if that is more.
///
/// An access unit can be as short as 4 input bytes (a run of end-of-stream NAL units,
/// say) while a queued one takes over 100 bytes, so a queue that took every access unit
/// of a chunk at once could need some 30 times the chunk's size in memory. Past the
/// limit, the rest of the chunk waits (copied, at most the chunk's size) and is split as
/// [`AccessUnitAssembler::pop`] drains the queue; what comes out is the same. Real
/// streams, whose access units are far longer than 32 bytes, never pause.
const MAX_READY: usize = 256;

/// See [`MAX_READY`]: the queue may hold one item (~112 bytes) per this many input bytes.
const BYTES_PER_READY: usize = 32;

/// Groups NAL units into [`AccessUnit`]s, from Annex-B bytes split anywhere or from
/// NAL units handed in one by one.
///
/// Splitting pauses while 256 items, or one per 32 bytes of the chunk if that is more,
/// wait in the queue, so memory stays in proportion to the input however short its access
/// units are; [`pop`](Self::pop) goes on splitting as the queue drains.
///
/// ```no_run
/// use video_hw::bitstream::access_unit::AccessUnitAssembler;
/// use video_hw::Codec;
/// let stream = std::fs::read("clip.h264").unwrap();
/// let mut asm = AccessUnitAssembler::new(Codec::H264)?;
/// asm.push_annexb(&stream, Some(0));
/// asm.finish();
/// while let Some(item) = asm.pop() {
///     match item {
///         Ok(au) => println!("AU at {} with {} NAL units", au.offset, au.nal_count),
///         Err(e) => eprintln!("skipped: {e}"),
///     }
/// }
/// # Ok::<(), video_hw::Error>(())
/// ```
pub struct AccessUnitAssembler {
    splitter: AnnexBSplitter,
    grouper: Grouper,
    /// Input not split yet because the queue was full, in order.
    deferred: VecDeque<Deferred>,
    /// Queue length at which splitting pauses: [`MAX_READY`], or one item per
    /// `bytes_per_ready` bytes of the chunk if that is more (other values in tests).
    max_ready: usize,
    bytes_per_ready: usize,
}

/// Input held back while the queue is full.
enum Deferred {
    /// Annex-B bytes from `pos` on, with the timestamp of their chunk (if still owed).
    Bytes { data: Vec<u8>, pos: usize, pts: Option<i64> },
    /// [`AccessUnitAssembler::finish`] was called after them.
    Finish,
}

/// The NAL-unit-to-access-unit half of the assembler (kept apart from the splitter so
/// the splitter can lend NAL units straight into it).
struct Grouper {
    parser: Box<dyn CodecParser>,
    limits: AssemblerLimits,
    collect_data: bool,
    current: Option<AccessUnit>,
    /// Timestamp of a chunk whose first NAL unit did not start an access unit.
    carried_pts: Option<i64>,
    out: VecDeque<Result<AccessUnit>>,
    /// Set while an oversized access unit is being dropped.
    overflowed: bool,
    /// The stream facts in force at the first picture (captured when its first slice is
    /// parsed, before later parameter sets can replace them).
    first_info: Option<StreamInfo>,
    /// The facts of the latest picture's SPS, shared by the access units that use it.
    current_info: Option<std::sync::Arc<StreamInfo>>,
}

impl AccessUnitAssembler {
    /// An assembler for `codec` that collects NAL data; `Unsupported` unless the codec
    /// is H.264 or HEVC.
    pub fn new(codec: Codec) -> Result<Self> {
        Ok(Self::with_parser(parser_for(codec)?))
    }

    /// An assembler around a given parser.
    pub fn with_parser(parser: Box<dyn CodecParser>) -> Self {
        AccessUnitAssembler {
            splitter: AnnexBSplitter::new(),
            grouper: Grouper {
                parser,
                limits: AssemblerLimits::default(),
                collect_data: true,
                current: None,
                carried_pts: None,
                out: VecDeque::new(),
                overflowed: false,
                first_info: None,
                current_info: None,
            },
            deferred: VecDeque::new(),
            max_ready: MAX_READY,
            bytes_per_ready: BYTES_PER_READY,
        }
    }

    /// Pauses splitting at `n` queued items, whatever the chunk size.
    #[cfg(test)]
    fn max_ready(mut self, n: usize) -> Self {
        self.max_ready = n;
        self.bytes_per_ready = usize::MAX;
        self
    }

    /// The queue length at which splitting a chunk of `len` bytes pauses.
    fn ready_limit(&self, len: usize) -> usize {
        self.max_ready.max(len / self.bytes_per_ready)
    }

    /// When false, access units carry only metadata (no NAL bytes): what `info` needs.
    pub fn collect_data(mut self, collect: bool) -> Self {
        self.grouper.collect_data = collect;
        self
    }

    /// Replaces the size limits.
    pub fn limits(mut self, limits: AssemblerLimits) -> Self {
        self.grouper.limits = limits;
        self
    }

    /// The stream facts of the first picture's sequence parameter set, once a picture
    /// was seen (unaffected by parameter sets that come later). Like [`parser`](Self::parser),
    /// it knows the input as far as it was split: all of it once [`pop`](Self::pop) has
    /// returned `None`.
    pub fn first_stream_info(&self) -> Option<&StreamInfo> {
        self.grouper.first_info.as_ref()
    }

    /// The codec-specific parser (for stream facts).
    pub fn parser(&self) -> &dyn CodecParser {
        self.grouper.parser.as_ref()
    }

    /// Feeds Annex-B bytes; `pts` belongs to the first access unit starting in them.
    pub fn push_annexb(&mut self, chunk: &[u8], pts: Option<i64>) {
        if !self.deferred.is_empty() {
            self.deferred.push_back(Deferred::Bytes { data: chunk.to_vec(), pos: 0, pts });
            return;
        }
        let limit = self.ready_limit(chunk.len());
        let taken = split_some(&mut self.splitter, &mut self.grouper, limit, chunk, pts);
        if taken < chunk.len() {
            self.deferred.push_back(Deferred::Bytes { data: chunk[taken..].to_vec(), pos: 0, pts: None });
        }
    }

    /// Feeds one NAL unit (no start code). Use this for length-prefixed input.
    pub fn push_nal(&mut self, nal: NalRef<'_>) {
        self.split_deferred();
        self.grouper.push_nal(nal);
    }

    /// Ends the input: the last access unit becomes available.
    pub fn finish(&mut self) {
        if self.deferred.is_empty() {
            self.finish_now();
        } else {
            self.deferred.push_back(Deferred::Finish);
        }
    }

    fn finish_now(&mut self) {
        let grouper = &mut self.grouper;
        self.splitter.finish(|nal| grouper.push_nal(nal));
        grouper.close_current();
    }

    /// Declares the access unit being collected complete (for input that arrives in
    /// whole access units), so it is available at once instead of when the next starts.
    pub fn end_access_unit(&mut self) {
        self.split_deferred();
        self.grouper.close_current();
    }

    /// Forgets the position in the stream (splitter state, picture-boundary state) but
    /// keeps the parameter sets: for a new stream after [`finish`](Self::finish) or a seek.
    /// Access units still waiting in [`pop`](Self::pop) stay there.
    pub fn reset_stream(&mut self) {
        self.split_deferred();
        self.splitter.reset();
        self.grouper.current = None;
        self.grouper.carried_pts = None;
        self.grouper.overflowed = false;
        self.grouper.parser.reset();
    }

    /// The next finished access unit, or an error for a NAL unit that was dropped.
    pub fn pop(&mut self) -> Option<Result<AccessUnit>> {
        loop {
            if let Some(item) = self.grouper.out.pop_front() {
                return Some(item);
            }
            if !self.resume() {
                return None;
            }
        }
    }

    /// Number of finished items waiting in [`pop`](Self::pop) (input held back while
    /// the queue was full is not counted: `pop` splits it as the queue drains).
    pub fn ready(&self) -> usize {
        self.grouper.out.len()
    }

    /// Splits held-back input until the queue is full again or nothing is held back;
    /// false when nothing was.
    fn resume(&mut self) -> bool {
        let limit = match self.deferred.front() {
            None => return false,
            Some(Deferred::Bytes { data, .. }) => self.ready_limit(data.len()),
            Some(Deferred::Finish) => 0,
        };
        let Some(front) = self.deferred.front_mut() else {
            return false;
        };
        match front {
            Deferred::Bytes { data, pos, pts } => {
                *pos += split_some(&mut self.splitter, &mut self.grouper, limit, &data[*pos..], pts.take());
                if *pos == data.len() {
                    self.deferred.pop_front();
                }
            }
            Deferred::Finish => {
                self.deferred.pop_front();
                self.finish_now();
            }
        }
        true
    }

    /// Splits all held-back input at once (before input of another kind, which must
    /// come after it).
    fn split_deferred(&mut self) {
        while let Some(d) = self.deferred.pop_front() {
            match d {
                Deferred::Bytes { data, pos, pts } => {
                    split_some(&mut self.splitter, &mut self.grouper, usize::MAX, &data[pos..], pts);
                }
                Deferred::Finish => self.finish_now(),
            }
        }
    }
}

/// Splits `chunk` into `grouper` until `max_ready` items are queued; returns the bytes taken.
fn split_some(
    splitter: &mut AnnexBSplitter,
    grouper: &mut Grouper,
    max_ready: usize,
    chunk: &[u8],
    pts: Option<i64>,
) -> usize {
    let (result, taken) = splitter.push_until(chunk, pts, |nal| {
        grouper.push_nal(nal);
        grouper.out.len() < max_ready
    });
    if let Err(e) = result {
        grouper.out.push_back(Err(e));
    }
    taken
}

impl Grouper {
    fn push_nal(&mut self, nal: NalRef<'_>) {
        let info = match self.parser.inspect(nal.data) {
            Ok(info) => info,
            Err(e) => {
                // The unit cannot be placed (e.g. a slice whose PPS never came): drop it,
                // say where, and go on with the next one.
                self.out.push_back(Err(e.at_offset(nal.offset)));
                if nal.pts.is_some() {
                    self.carried_pts = nal.pts;
                }
                return;
            }
        };
        if info.starts_access_unit {
            self.close_current();
            self.current = Some(AccessUnit {
                offset: nal.offset,
                pts: nal.pts.or(self.carried_pts.take()),
                ..AccessUnit::default()
            });
            self.carried_pts = None;
            self.overflowed = false;
        } else if nal.pts.is_some() {
            self.carried_pts = nal.pts;
        }
        if info.picture.is_some() {
            if self.first_info.is_none() {
                self.first_info = self.parser.stream_info();
            }
            if self.collect_data {
                // Read now, while the parser's active SPS is this picture's.
                let now = self.parser.stream_info();
                if now.as_ref() != self.current_info.as_deref() {
                    self.current_info = now.map(std::sync::Arc::new);
                }
            }
        }
        let au = self.current.get_or_insert_with(|| AccessUnit { offset: nal.offset, ..AccessUnit::default() });
        if let Some(p) = info.picture
            && au.picture.is_none()
        {
            au.picture = Some(p);
            au.stream = self.current_info.clone();
        }
        if self.overflowed {
            return;
        }
        if au.data.len() + nal.data.len() + 4 > self.limits.max_au_bytes || au.nal_count >= self.limits.max_au_nals {
            self.overflowed = true;
            let off = au.offset;
            self.current = None;
            self.out.push_back(Err(Error::invalid_bitstream(
                off,
                format!(
                    "access unit exceeds {} bytes or {} NAL units; dropped",
                    self.limits.max_au_bytes, self.limits.max_au_nals
                ),
            )));
            return;
        }
        au.nal_count += 1;
        if self.collect_data {
            au.data.extend_from_slice(&[0, 0, 0, 1]);
            let start = au.data.len();
            au.data.extend_from_slice(nal.data);
            au.nals.push(start..au.data.len());
        }
        if matches!(info.kind, NalKind::EndOfSequence | NalKind::EndOfStream) {
            au.ends_sequence = true;
            self.close_current();
        }
    }

    fn close_current(&mut self) {
        if let Some(au) = self.current.take()
            && au.nal_count > 0
        {
            self.out.push_back(Ok(au));
        }
    }
}

impl Iterator for AccessUnitAssembler {
    type Item = Result<AccessUnit>;
    fn next(&mut self) -> Option<Self::Item> {
        self.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Unit = (u64, Option<i64>, usize, Vec<u8>, Option<PictureInfo>, bool);

    /// Pushes `chunks` (each with a timestamp), popping after every push when `pop_each`,
    /// and returns every item (errors as their message) and the first picture's facts.
    fn run(
        codec: Codec,
        max_ready: usize,
        chunks: &[&[u8]],
        pop_each: bool,
    ) -> (Vec<std::result::Result<Unit, String>>, Option<StreamInfo>) {
        let mut asm = AccessUnitAssembler::new(codec).unwrap().max_ready(max_ready);
        let mut out = Vec::new();
        let mut take = |asm: &mut AccessUnitAssembler| {
            while let Some(item) = asm.pop() {
                out.push(
                    item.map(|au| (au.offset, au.pts, au.nal_count, au.data, au.picture, au.ends_sequence))
                        .map_err(|e| e.to_string()),
                );
            }
        };
        for (i, c) in chunks.iter().enumerate() {
            asm.push_annexb(c, Some(i as i64));
            if pop_each {
                take(&mut asm);
            }
        }
        asm.finish();
        take(&mut asm);
        (out, asm.first_stream_info().cloned())
    }

    #[test]
    fn a_run_of_tiny_access_units_keeps_the_queue_short() {
        // Regression (fuzz allocation check): 4000 end-of-stream NAL units are 4000 access
        // units of 4 bytes each; queued at once they took one 458752-byte allocation for a
        // 16000-byte input.
        for (codec, eos) in [(Codec::H264, &[0u8, 0, 1, 0x0b][..]), (Codec::Hevc, &[0, 0, 1, 0x4a, 0x01][..])] {
            let stream = eos.repeat(4000);
            let limit = MAX_READY.max(stream.len() / BYTES_PER_READY) + 2;
            let mut asm = AccessUnitAssembler::new(codec).unwrap();
            asm.push_annexb(&stream, None);
            assert!(asm.ready() <= limit, "{} items queued", asm.ready());
            asm.finish();
            let mut n = 0;
            while let Some(item) = asm.pop() {
                let au = item.unwrap();
                assert_eq!((au.offset, au.nal_count), ((n * eos.len() + 3) as u64, 1), "{codec}");
                assert!(asm.ready() <= limit);
                n += 1;
            }
            assert_eq!(n, 4000);
        }
    }

    #[test]
    fn paused_splitting_gives_the_same_units() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let files = [
            (Codec::H264, "h264/mbaff-tff-testsrc2-320x240.h264"),
            (Codec::H264, "h264/high-slices4-mandelbrot-320x240.h264"),
            (Codec::Hevc, "hevc/open-gop-cra-rasl-cars-320x240.h265"),
            (Codec::Hevc, "hevc/slices2-testsrc2-320x240.h265"),
        ];
        for (codec, name) in files {
            let stream = std::fs::read(root.join(name)).unwrap();
            let whole = run(codec, usize::MAX, &[&stream], true);
            assert!(whole.0.len() > 10, "{name}");
            for size in [100, 4096, 65536] {
                let chunks: Vec<&[u8]> = stream.chunks(size).collect();
                let unpaused = run(codec, usize::MAX, &chunks, true);
                for max_ready in [1, 3] {
                    for pop_each in [true, false] {
                        assert_eq!(run(codec, max_ready, &chunks, pop_each), unpaused, "{name} {size} {max_ready}");
                    }
                }
            }
        }
    }

    #[test]
    fn held_back_input_comes_before_later_nal_units() {
        let stream = [0u8, 0, 1, 0x0b].repeat(10);
        let mut asm = AccessUnitAssembler::new(Codec::H264).unwrap().max_ready(2);
        asm.push_annexb(&stream, None);
        asm.push_annexb(&[0, 0, 1, 0x0b], Some(7));
        asm.push_nal(NalRef { data: &[0x0a], offset: 1000, pts: None });
        asm.end_access_unit();
        // The last end-of-stream unit is still open in the splitter (no start code after
        // it) until `finish`, as without held-back input.
        asm.finish();
        let units: Vec<(u64, Option<i64>)> = asm.map(|au| au.map(|au| (au.offset, au.pts)).unwrap()).collect();
        let mut expected: Vec<(u64, Option<i64>)> = (0..10).map(|i| (i * 4 + 3, None)).collect();
        expected.extend([(1000, None), (43, Some(7))]);
        assert_eq!(units, expected);
    }
}
