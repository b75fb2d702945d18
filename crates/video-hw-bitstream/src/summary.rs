//! Whole-stream facts from headers only (what `video-hw info` prints): codec, profile,
//! level, size, bit depth, and the number of frames and keyframes a decoder would output.

use std::io::Read;
use std::path::Path;

use super::access_unit::{AccessUnitAssembler, StreamInfo};
use super::detect::{codec_from_extension, detect_codec};
use video_hw_types::codec::Codec;
use video_hw_types::error::{Error, Result};

/// Bytes read per call while summarising (large enough that the per-chunk copy of the
/// NAL unit open at a chunk's end is negligible).
const READ_CHUNK: usize = 4 << 20;

/// What [`summarize`] found.
#[derive(Debug)]
pub struct StreamSummary {
    /// H.264 or HEVC.
    pub codec: Codec,
    /// The first picture's sequence parameter set facts (None when no picture was found).
    pub info: Option<StreamInfo>,
    /// Frames a decoder outputs: pictures that are output, a field pair counted once.
    pub frames: u64,
    /// Output frames that are random access points (H.264 IDR, HEVC IRAP).
    pub keyframes: u64,
    /// Access units seen (including ones not output).
    pub access_units: u64,
    /// Bytes read.
    pub bytes: u64,
    /// NAL units or access units dropped as damaged.
    pub errors: u64,
    /// The first such error, with its byte offset.
    pub first_error: Option<Error>,
}

/// Summarises an Annex-B stream read from `reader`. `codec` may be given; otherwise it
/// is detected from the first chunk's content.
///
/// Damage does not stop the scan: it is counted in `errors` (first one kept) and the
/// counts cover what could be parsed. An input with no NAL units at all is an error.
pub fn summarize(mut reader: impl Read, codec: Option<Codec>) -> Result<StreamSummary> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut filled = read_full(&mut reader, &mut buf)?;
    let codec = match codec {
        Some(c) => c,
        None => detect_codec(&buf[..filled]).ok_or_else(|| {
            Error::invalid_bitstream(0, "not an H.264 or HEVC Annex-B stream (no plausible NAL units found)")
        })?,
    };
    let mut asm = AccessUnitAssembler::new(codec)?.collect_data(false);
    let mut s = StreamSummary {
        codec,
        info: None,
        frames: 0,
        keyframes: 0,
        access_units: 0,
        bytes: 0,
        errors: 0,
        first_error: None,
    };
    loop {
        if filled == 0 {
            break;
        }
        s.bytes += filled as u64;
        asm.push_annexb(&buf[..filled], None);
        drain(&mut asm, &mut s);
        filled = read_full(&mut reader, &mut buf)?;
    }
    asm.finish();
    drain(&mut asm, &mut s);
    s.info = asm.first_stream_info().cloned();
    if s.access_units == 0 && s.errors == 0 {
        return Err(Error::invalid_bitstream(0, format!("no {codec} NAL units found")));
    }
    Ok(s)
}

/// Summarises a file; the codec comes from the extension, else from the content.
pub fn summarize_file(path: &Path) -> Result<StreamSummary> {
    let file = std::fs::File::open(path)?;
    summarize(file, codec_from_extension(path))
}

fn drain(asm: &mut AccessUnitAssembler, s: &mut StreamSummary) {
    while let Some(item) = asm.pop() {
        match item {
            Ok(au) => {
                s.access_units += 1;
                let Some(p) = au.picture else { continue };
                if p.output && !p.second_field {
                    s.frames += 1;
                    if p.irap {
                        s.keyframes += 1;
                    }
                }
            }
            Err(e) => {
                s.errors += 1;
                if s.first_error.is_none() {
                    s.first_error = Some(e);
                }
            }
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}
