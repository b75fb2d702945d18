//! The OpenH264 probe: opens a real session and decodes (or encodes) one tiny picture.

use crate::bitstream::access_unit::{AccessUnit, PictureInfo};
use crate::codec::{Codec, PixelFormat};
use crate::config::{DecoderConfig, EncoderConfig, FrameOptions, Output};
use crate::engine::Direction;
use crate::error::{Error, Result};
use crate::frame::{Frame, HostFrame};
use crate::records::probe_info::ProbeInfo;

/// A 16x16 Constrained Baseline IDR (SPS, PPS, IDR slice) of the colour #336699, made
/// with `ffmpeg -f lavfi -i color=c=0x336699:s=16x16 -frames:v 1 -c:v libx264
/// -profile:v baseline -bsf:v filter_units=remove_types=6 -f h264`. The reference
/// decode is Y = 95, U = 158, V = 102 everywhere.
pub(super) const PROBE_IDR: [u8; 57] = [
    0x00, 0x00, 0x00, 0x01, 0x67, 0x42, 0xc0, 0x0a, 0xd9, 0x1e, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00,
    0x03, 0x00, 0xc8, 0x3c, 0x48, 0x99, 0x20, 0x00, 0x00, 0x00, 0x01, 0x68, 0xcb, 0x83, 0xcb, 0x20, 0x00, 0x00, 0x01,
    0x65, 0x88, 0x84, 0x0a, 0xf1, 0x18, 0xa0, 0x00, 0x22, 0xbf, 0x1c, 0x00, 0x04, 0x2c, 0x23, 0x80, 0x00, 0x84, 0xae,
];

/// The OpenH264 patches built in, by number ("0001, 0002, …"; "none").
fn patch_list() -> String {
    let numbers: Vec<&str> = video_hw_openh264_sys::PATCHES
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('-').next().unwrap_or(p))
        .collect();
    if numbers.is_empty() { "none".to_string() } else { numbers.join(", ") }
}

/// Whether the build has OpenH264's assembly ("x86 assembly") or its C code only.
fn assembly_note() -> String {
    match video_hw_openh264_sys::ASSEMBLY {
        "none" => "no assembly (C code paths; nasm missing or turned off at build time)".to_string(),
        arch => format!("{arch} assembly"),
    }
}

/// The probe of the registry entry.
pub(crate) fn probe(codec: Codec, direction: Direction, _device: u32) -> Result<ProbeInfo> {
    if codec != Codec::H264 {
        let verb = if direction == Direction::Decode { "decodes" } else { "encodes" };
        return Err(Error::unsupported(
            format!("{codec} {direction} with openh264"),
            format!("openh264 {verb} H.264 only"),
        ));
    }
    let mut notes = Vec::new();
    match direction {
        Direction::Decode => {
            probe_decode()?;
            notes.push(format!("patched: {}", patch_list()));
            notes.push(assembly_note());
            notes.push("no interlaced (field/MBAFF), High 10, 4:2:2 or 4:4:4 streams".to_string());
        }
        Direction::Encode => {
            probe_encode()?;
            notes.push("no B-frames, no lossless; 8-bit 4:2:0 only".to_string());
            notes.push(assembly_note());
        }
    }
    Ok(ProbeInfo {
        device: Some("software".into()),
        driver: Some(format!("openh264 {}", super::version_string())),
        notes,
    })
}

/// Decodes [`PROBE_IDR`] and checks the picture.
fn probe_decode() -> Result<()> {
    let mut dec = super::decoder::OpenH264Decoder::open(&DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P))?;
    let au = probe_access_unit();
    crate::backend::DecoderBackend::decode(&mut dec, &au)?;
    let mut frames = crate::backend::DecoderBackend::flush(&mut dec)?;
    let frame = frames.pop().ok_or_else(|| Error::backend("openh264", "probe", "no picture from the probe IDR"))?;
    let ok = frame.width == 16
        && frame.height == 16
        && frame.host_data().is_some_and(|h| {
            let b = h.as_bytes();
            b.len() == 384 && b[..256].iter().all(|&y| y == 95) && b[256..320].iter().all(|&u| u == 158)
        });
    if !ok {
        return Err(Error::backend("openh264", "probe", "the probe IDR decoded to the wrong picture"));
    }
    Ok(())
}

/// [`PROBE_IDR`] as one access unit.
pub(super) fn probe_access_unit() -> AccessUnit {
    let nals = vec![4..26, 30..35, 38..PROBE_IDR.len()];
    AccessUnit {
        data: PROBE_IDR.to_vec(),
        nal_count: nals.len(),
        nals,
        offset: 0,
        pts: Some(0),
        picture: Some(PictureInfo { idr: true, irap: true, output: true, ..PictureInfo::default() }),
        ends_sequence: false,
        stream: None,
    }
}

/// Encodes one grey 16x16 frame and checks that an IDR came out.
fn probe_encode() -> Result<()> {
    let config = EncoderConfig::new(Codec::H264, 16, 16);
    let mut enc = super::encoder::OpenH264Encoder::open(&config)?;
    let mut pixels = HostFrame::new_packed(PixelFormat::Yuv420p, 16, 16);
    pixels.as_bytes_mut().fill(128);
    let frame = Frame::host(PixelFormat::Yuv420p, 16, 16, pixels);
    crate::backend::EncoderBackend::submit(&mut enc, &frame, FrameOptions::default(), 0)?;
    let packets = crate::backend::EncoderBackend::flush(&mut enc)?;
    match packets.first() {
        Some(p) if p.keyframe && !p.data.is_empty() => Ok(()),
        _ => Err(Error::backend("openh264", "probe", "encoding a 16x16 frame gave no IDR")),
    }
}
