//! [`QualityMeter`]: the objective quality of an encode, measured as it runs. Each source
//! picture is kept (as 8-bit I420) until the encoder's packet for it has been decoded by
//! a software decoder of the same codec in this process; the two are then compared
//! ([`crate::pixels::quality`]). Pictures are matched by timestamp (in order when they have
//! none). What the encoder's own reconstruction would give is the same picture: H.264,
//! HEVC and AV1 decoding is exact.
//!
//! The encode pipeline runs one when [`PipelineOptions::quality`](super::PipelineOptions)
//! asks for it; its summary is in [`PipelineStats::quality`](super::PipelineStats).

use std::collections::VecDeque;

use crate::bitstream::avcc::DecoderConfigRecord;
use crate::codec::{Codec, ColorRange, MatrixCoefficients, PixelFormat};
use crate::config::{DecoderConfig, Output};
use crate::decoder::{Decoder, Input};
use crate::engine::EnginePreference;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};
use crate::packet::{Packet, PacketLayout};
use crate::pixels::convert::{YuvMatrix, host_to_i420};
use crate::pixels::quality::{FrameQuality, QualitySummary};

/// Source pictures kept waiting for their decoded picture at most: past this the oldest
/// is counted as unmatched (an encoder holds fewer: B-frames plus look-ahead).
const MAX_WAITING: usize = 256;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QualityOptions {
    /// Per-plane PSNR (always measured when the meter runs; cheap).
    pub psnr: bool,
    /// Luma SSIM too.
    pub ssim: bool,
}

/// The quality of an encode: the means, and the pictures that could not be compared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QualityReport {
    /// PSNR and SSIM means over the compared pictures.
    pub summary: QualitySummary,
    /// Source pictures no decoded picture was found for (or decoded pictures with no
    /// source): 0 for a complete encode.
    pub unmatched: u64,
    /// Why pictures were not measured (device-memory input, a decode error), if any.
    pub note: Option<String>,
}

/// A decoder of `codec` with host I420 output, on a software engine (each is exact), the
/// registry's in order, tried one by one with no fallback: the measurement is no engine
/// choice of the job's and must not show as one.
fn software_decoder(codec: Codec) -> Result<Decoder> {
    let mut last = None;
    for engine in crate::registry::software_decode_engines(codec) {
        let config = DecoderConfig::new(codec).output(Output::HOST_YUV420P).engine(EnginePreference::Only(engine));
        match Decoder::open(config) {
            Ok(d) => return Ok(d),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::unsupported(format!("{codec} decode"), "no software decoder")))
}

/// A source picture waiting for its decoded picture.
struct Waiting {
    pts: Option<i64>,
    width: u32,
    height: u32,
    i420: Vec<u8>,
}

/// Measures an encode's output against its input; see the module documentation.
pub struct QualityMeter {
    options: QualityOptions,
    codec: Codec,
    decoder: Option<Decoder>,
    waiting: VecDeque<Waiting>,
    report: QualityReport,
    scratch: Vec<u8>,
}

impl QualityMeter {
    /// A meter for an encode to `codec`.
    pub fn new(codec: Codec, options: QualityOptions) -> Self {
        QualityMeter {
            options,
            codec,
            decoder: None,
            waiting: VecDeque::new(),
            report: QualityReport::default(),
            scratch: Vec::new(),
        }
    }

    /// Keeps a source picture (converted to I420) until its packet is decoded.
    pub fn push_source(&mut self, frame: &Frame, pts: Option<i64>) {
        let FrameData::Host(host) = &frame.data else {
            self.note("device-memory pictures are not measured");
            return;
        };
        if frame.format.bit_depth() > 8 {
            self.note("pictures of more than 8 bits are not measured");
            return;
        }
        let matrix = match YuvMatrix::new(MatrixCoefficients::BT709, ColorRange::Limited) {
            Ok(m) => m,
            Err(e) => return self.note(&e.to_string()),
        };
        let i420 = if frame.format == PixelFormat::Yuv420p && host.planes().len() == 3 && host.is_packed() {
            host.as_bytes().to_vec()
        } else {
            match host_to_i420(host, frame.format, frame.width, frame.height, &matrix, &mut self.scratch) {
                Ok(()) => self.scratch.clone(),
                Err(e) => return self.note(&format!("a source picture: {e}")),
            }
        };
        if self.waiting.len() >= MAX_WAITING {
            self.waiting.pop_front();
            self.report.unmatched += 1;
        }
        self.waiting.push_back(Waiting { pts, width: frame.width, height: frame.height, i420 });
    }

    /// Decodes one of the encoder's packets and compares what it shows with its source;
    /// `record` is the encoder's configuration record for length-prefixed packets.
    pub fn push_packet(&mut self, packet: &Packet, record: Option<&DecoderConfigRecord>) {
        if let Err(e) = self.decode(packet, record) {
            self.note(&format!("decoding the output to measure it: {e}"));
        }
    }

    /// Decodes what is left and returns the report.
    pub fn finish(mut self) -> QualityReport {
        if let Some(dec) = self.decoder.as_mut() {
            match dec.flush() {
                Ok(frames) => {
                    for f in frames {
                        self.compare(&f);
                    }
                }
                Err(e) => self.note(&format!("decoding the output to measure it: {e}")),
            }
        }
        self.report.unmatched += self.waiting.len() as u64;
        self.report
    }

    fn decode(&mut self, packet: &Packet, record: Option<&DecoderConfigRecord>) -> Result<()> {
        if self.decoder.is_none() {
            self.decoder = Some(software_decoder(self.codec)?);
        }
        let Some(dec) = self.decoder.as_mut() else { return Ok(()) };
        let input = match (packet.layout, record) {
            (PacketLayout::LengthPrefixed, Some(r)) if matches!(self.codec, Codec::H264 | Codec::Hevc) => {
                Input::length_prefixed(&packet.data, r, packet.pts)
            }
            (PacketLayout::LengthPrefixed, None) if matches!(self.codec, Codec::H264 | Codec::Hevc) => {
                return Err(Error::invalid_input("a length-prefixed packet without its configuration record"));
            }
            _ => Input::packet(&packet.data, packet.pts),
        };
        dec.submit(input)?;
        let mut decoded = Vec::new();
        while let Some(f) = dec.try_reap()? {
            decoded.push(f);
        }
        for f in decoded {
            self.compare(&f);
        }
        Ok(())
    }

    /// Compares a decoded picture with its source: the one with its timestamp, or the
    /// oldest when the sources had none (the encoder then numbered them itself).
    fn compare(&mut self, decoded: &Frame) {
        let oldest = self.waiting.front().map(|w| w.pts);
        let at = match (decoded.pts, oldest) {
            (_, None) => None,
            (None, Some(_)) | (Some(_), Some(None)) => Some(0),
            (Some(pts), Some(Some(_))) => self.waiting.iter().position(|w| w.pts == Some(pts)),
        };
        let Some(at) = at else {
            self.report.unmatched += 1;
            return;
        };
        // Sources before the match never had a picture of their own.
        for _ in 0..at {
            self.waiting.pop_front();
            self.report.unmatched += 1;
        }
        let Some(src) = self.waiting.pop_front() else { return };
        let Some(host) = decoded.host_data() else { return };
        if (decoded.width, decoded.height) != (src.width, src.height) {
            self.report.unmatched += 1;
            return;
        }
        // A decoder may lend its own buffer, planes apart: measured packed.
        let host = match host.to_packed(decoded.format, decoded.width, decoded.height) {
            Ok(h) => h,
            Err(e) => return self.note(&format!("a decoded picture: {e}")),
        };
        let q = FrameQuality::measure(&src.i420, host.as_bytes(), src.width, src.height, self.options.ssim);
        self.report.summary.add(&q);
    }

    fn note(&mut self, why: &str) {
        if self.report.note.is_none() {
            tracing::warn!("quality measurement: {why}");
            self.report.note = Some(why.to_string());
        }
    }
}
