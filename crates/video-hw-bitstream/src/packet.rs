//! A minimal look into AV1 and VP9 packets, the coded units containers carry for codecs
//! that have no Annex-B form: an AV1 temporal unit (OBUs in the low-overhead format,
//! as in MP4, Matroska and IVF) or a VP9 frame (possibly a superframe).
//!
//! Only the first bits of each frame header are read, enough to tell whether the packet
//! is a random access point and whether it shows a picture. Everything else is left to
//! the decoder, which also judges damage: a packet this module cannot read gives `None`,
//! not an error.
//!
//! ```
//! use video_hw::Codec;
//! use video_hw::bitstream::packet::PacketPeek;
//! // A VP9 key frame header: frame_marker 2, profile 0, show_existing_frame 0,
//! // frame_type 0 (key), show_frame 1, error_resilient 0, then the sync code.
//! let mut peek = PacketPeek::new(Codec::Vp9);
//! let info = peek.inspect(&[0x82, 0x49, 0x83, 0x42, 0x00]).unwrap();
//! assert!(info.keyframe && info.shown);
//! assert_eq!(info.frames, 1);
//! ```

use video_hw_types::codec::Codec;

/// What [`PacketPeek::inspect`] learnt about one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketInfo {
    /// The packet holds a key frame that is shown (AV1 `frame_type` KEY_FRAME with
    /// `show_frame`, or a reduced still-picture header; VP9 `frame_type` KEY_FRAME with
    /// `show_frame`): decoding can start here.
    pub keyframe: bool,
    /// The packet shows a picture (`show_frame` or `show_existing_frame` in one of its
    /// frames).
    pub shown: bool,
    /// Frame headers found: AV1 frame (header) OBUs, VP9 frames of a superframe.
    pub frames: usize,
    /// Units found: AV1 OBUs, VP9 frames.
    pub units: usize,
}

/// Reads the frame headers of AV1 or VP9 packets, one packet at a time in stream order
/// (AV1 needs the sequence header's `reduced_still_picture_header`, kept across
/// packets).
#[derive(Debug, Clone)]
pub struct PacketPeek {
    codec: Codec,
    /// AV1: the last sequence header's `reduced_still_picture_header`.
    reduced_still_picture: bool,
}

impl PacketPeek {
    /// A reader for `codec`; for H.264 and HEVC [`inspect`](Self::inspect) always gives
    /// `None` (their packets are Annex-B access units, read by the access-unit assembler).
    pub fn new(codec: Codec) -> Self {
        PacketPeek { codec, reduced_still_picture: false }
    }

    /// The packet's key-frame and show flags, or `None` when its headers cannot be read
    /// (truncated, damaged, or not AV1/VP9/VP8; VP8: its frame tag alone).
    pub fn inspect(&mut self, data: &[u8]) -> Option<PacketInfo> {
        match self.codec {
            Codec::Av1 => self.av1(data),
            Codec::Vp9 => vp9(data),
            Codec::Vp8 => vp8(data),
            // H.264/HEVC go through the assembler; the other FFmpeg-only codecs are not parsed.
            _ => None,
        }
    }

    /// Walks the OBUs of an AV1 temporal unit.
    fn av1(&mut self, mut data: &[u8]) -> Option<PacketInfo> {
        const SEQUENCE_HEADER: u8 = 1;
        const FRAME_HEADER: u8 = 3;
        const FRAME: u8 = 6;
        let mut info = PacketInfo::default();
        while !data.is_empty() {
            let header = data[0];
            if header & 0x80 != 0 {
                return None; // obu_forbidden_bit
            }
            let obu_type = (header >> 3) & 0x0f;
            let extension = header & 0x04 != 0;
            let has_size = header & 0x02 != 0;
            let mut at = 1 + usize::from(extension);
            let size = if has_size {
                let (size, len) = leb128(data.get(at..)?)?;
                at += len;
                usize::try_from(size).ok()?
            } else {
                data.len().checked_sub(at)?
            };
            let end = at.checked_add(size)?;
            let payload = data.get(at..end)?;
            info.units += 1;
            match obu_type {
                // seq_profile (3), still_picture (1), reduced_still_picture_header (1).
                SEQUENCE_HEADER => self.reduced_still_picture = payload.first()? & 0x08 != 0,
                FRAME_HEADER | FRAME => {
                    info.frames += 1;
                    if self.reduced_still_picture {
                        // A key frame, shown.
                        info.keyframe = true;
                        info.shown = true;
                    } else {
                        let b = *payload.first()?;
                        if b & 0x80 != 0 {
                            // show_existing_frame: shows a picture decoded earlier.
                            info.shown = true;
                        } else {
                            let frame_type = (b >> 5) & 0x03;
                            let show_frame = b & 0x10 != 0;
                            info.shown |= show_frame;
                            info.keyframe |= frame_type == 0 && show_frame;
                        }
                    }
                }
                _ => {}
            }
            data = &data[end..];
        }
        (info.frames > 0).then_some(info)
    }
}

/// An unsigned LEB128 number (at most 8 bytes, as AV1 allows) and its length.
#[doc(hidden)]
pub fn leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in data.iter().take(8).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The frames of a VP9 packet: a superframe's (its index, Annex B of the VP9 spec, at
/// the end) or the packet itself.
fn vp9(data: &[u8]) -> Option<PacketInfo> {
    let mut frames = superframe(data).unwrap_or_default();
    if frames.is_empty() {
        frames.push(data);
    }
    let mut info = PacketInfo { units: frames.len(), ..PacketInfo::default() };
    for frame in frames {
        if frame.is_empty() {
            continue;
        }
        info.frames += 1;
        let (shown, key) = vp9_frame(frame)?;
        info.shown |= shown;
        info.keyframe |= key && shown;
    }
    (info.frames > 0).then_some(info)
}

/// A VP8 frame's tag (RFC 6386 9.1): the first byte's bit 0 is 0 for a key frame, bit 4 is
/// `show_frame`; a key frame's start code (0x9d 0x01 0x2a) follows the 3-byte tag. The
/// only VP8 bits read here: the FFmpeg engine decodes VP8 from whole packets.
fn vp8(data: &[u8]) -> Option<PacketInfo> {
    let tag = *data.first()?;
    let shown = tag & 0x10 != 0;
    let key = tag & 1 == 0 && data.get(3..6) == Some(&[0x9d, 0x01, 0x2a][..]);
    Some(PacketInfo { keyframe: key && shown, shown, frames: 1, units: 1 })
}

/// The frames a superframe index lists, or `None` when the packet has no (usable) index.
fn superframe(data: &[u8]) -> Option<Vec<&[u8]>> {
    let last = *data.last()?;
    if last & 0xe0 != 0xc0 {
        return None;
    }
    let count = usize::from(last & 0x07) + 1;
    let width = usize::from((last >> 3) & 0x03) + 1;
    let index_start = data.len().checked_sub(2 + width * count)?;
    if data[index_start] != last {
        return None;
    }
    let mut frames = Vec::with_capacity(count);
    let mut at = 0usize;
    for f in 0..count {
        let bytes = &data[index_start + 1 + f * width..][..width];
        let size = bytes.iter().rev().fold(0usize, |s, &b| (s << 8) | usize::from(b));
        let end = at.checked_add(size).filter(|&e| e <= index_start)?;
        frames.push(&data[at..end]);
        at = end;
    }
    Some(frames)
}

/// `(shown, key frame)` from the start of a VP9 uncompressed header.
fn vp9_frame(frame: &[u8]) -> Option<(bool, bool)> {
    let bit = |n: usize| frame.get(n / 8).map(|b| (b >> (7 - n % 8)) & 1 == 1);
    // frame_marker must be 0b10.
    if (bit(0)?, bit(1)?) != (true, false) {
        return None;
    }
    let profile = u8::from(bit(2)?) | u8::from(bit(3)?) << 1;
    let mut n = 4;
    if profile == 3 {
        n += 1; // reserved_zero
    }
    if bit(n)? {
        return Some((true, false)); // show_existing_frame
    }
    let key = !bit(n + 1)?; // frame_type 0 = KEY_FRAME
    let shown = bit(n + 2)?;
    Some((shown, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An OBU with a size field.
    fn obu(obu_type: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![obu_type << 3 | 0x02, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn av1_key_inter_hidden_and_show_existing() {
        let mut p = PacketPeek::new(Codec::Av1);
        // Temporal delimiter, sequence header (profile 0, not reduced), frame: key, shown.
        let mut tu = obu(2, &[]);
        tu.extend(obu(1, &[0x00, 0x00]));
        tu.extend(obu(6, &[0b0001_0000, 0xff]));
        assert_eq!(p.inspect(&tu), Some(PacketInfo { keyframe: true, shown: true, frames: 1, units: 3 }));
        // Hidden inter frame (frame_type 1, show_frame 0), then show_existing_frame.
        let mut tu = obu(2, &[]);
        tu.extend(obu(6, &[0b0010_0000, 1, 2]));
        tu.extend(obu(3, &[0b1000_0000]));
        assert_eq!(p.inspect(&tu), Some(PacketInfo { keyframe: false, shown: true, frames: 2, units: 3 }));
        // A hidden key frame alone is no random access point.
        let tu = obu(6, &[0b0000_0000, 9]);
        assert_eq!(p.inspect(&tu), Some(PacketInfo { keyframe: false, shown: false, frames: 1, units: 1 }));
        // Reduced still-picture header: every frame is a shown key frame.
        let mut tu = obu(1, &[0x18]);
        tu.extend(obu(6, &[0x00]));
        assert!(p.inspect(&tu).unwrap().keyframe);
    }

    #[test]
    fn av1_truncated_or_without_frames_is_none() {
        let mut p = PacketPeek::new(Codec::Av1);
        let tu = obu(6, &[0b0001_0000, 1, 2, 3]);
        assert_eq!(p.inspect(&tu[..3]), None);
        assert_eq!(p.inspect(&obu(2, &[])), None);
        assert_eq!(p.inspect(&[0x80]), None);
        assert_eq!(p.inspect(&[]), None);
        // Last OBU without a size field runs to the end.
        assert!(p.inspect(&[6 << 3, 0b0001_0000, 5, 5]).unwrap().keyframe);
    }

    #[test]
    fn vp9_superframe() {
        // Hidden inter frame (3 bytes) + shown inter frame (2 bytes), 1-byte sizes.
        let marker = 0xc0 | 0x01;
        let data = [0x84, 0x00, 0x00, 0x86, 0x00, marker, 3, 2, marker];
        let info = vp9(&data).unwrap();
        assert_eq!(info, PacketInfo { keyframe: false, shown: true, frames: 2, units: 2 });
        // Not a frame marker.
        assert_eq!(vp9(&[0x00, 0x00]), None);
        assert_eq!(vp9(&[]), None);
        // A superframe index whose sizes overrun is not used: the packet is one frame.
        assert!(vp9(&[0x82, 0x49, marker, 200, 200, marker]).unwrap().keyframe);
    }
}
