//! Codec configuration records a muxer writes and where it finds them when a track
//! comes without one: the `av1C` from an AV1 sequence header, the `vpcC` from a VP9 key
//! frame's header, the `avcC`/`hvcC` parameter sets from Annex-B access units; and the
//! other direction of what the demuxers give: AAC's AudioSpecificConfig and Opus's
//! `OpusHead` read for their rate and channels, `OpusHead` as MP4's `dOps`.

use video_hw_bitstream::annexb::split_all;
use video_hw_bitstream::av1;
use video_hw_bitstream::avcc::DecoderConfigRecord;
use video_hw_bitstream::bits::Bits;
use video_hw_bitstream::nal::is_parameter_set;
use video_hw_types::codec::Codec;
use video_hw_types::error::{Error, Result};

/// Builds an `av1C` record (AV1-ISOBMFF 2.3) from the sequence header in an AV1 temporal
/// unit (OBUs in the low-overhead format): profile, level, tier, bit depth and chroma
/// fields from the header, which is then the record's configOBUs. `Ok(None)` when the
/// unit has no sequence header (only key frames are sure to).
pub fn av1c_from_temporal_unit(tu: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some((obu, payload_at)) = av1::sequence_header_obu(tu) else { return Ok(None) };
    let h = av1::SequenceHeader::parse(&obu[payload_at..])?;
    let mut out = vec![
        0x81, // marker, version 1
        (h.profile << 5) | (h.level & 0x1f),
        (h.tier << 7)
            | (u8::from(h.high_bitdepth) << 6)
            | (u8::from(h.twelve_bit) << 5)
            | (u8::from(h.mono) << 4)
            | (h.subsampling_x << 3)
            | (h.subsampling_y << 2)
            | h.chroma_sample_position,
        0, // no initial_presentation_delay
    ];
    // configOBUs: the sequence header with a size field (the record needs one).
    if obu[0] & 0x02 != 0 {
        out.extend_from_slice(obu);
    } else {
        let payload = &obu[payload_at..];
        out.push(obu[0] | 0x02);
        out.extend_from_slice(&obu[1..payload_at]);
        let mut n = payload.len() as u64;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n > 0 { b | 0x80 } else { b });
            if n == 0 {
                break;
            }
        }
        out.extend_from_slice(payload);
    }
    Ok(Some(out))
}

/// Builds a `vpcC` record body (VP-codec-ISO-media 2.2, version 1 without the full-box
/// header) from a VP9 key frame (or a superframe holding one): profile, bit depth,
/// chroma subsampling and range from its uncompressed header; colour description
/// unspecified (2), level 0 (undefined). `Ok(None)` when the packet holds no key frame.
pub fn vpcc_from_vp9_frame(packet: &[u8]) -> Result<Option<Vec<u8>>> {
    for frame in vp9_frames(packet) {
        if let Some(v) = vp9_key_frame_config(frame)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// The frames of a VP9 packet (a superframe's, or the packet itself).
fn vp9_frames(data: &[u8]) -> Vec<&[u8]> {
    let whole = vec![data];
    let Some(&last) = data.last() else { return whole };
    if last & 0xe0 != 0xc0 {
        return whole;
    }
    let count = usize::from(last & 0x07) + 1;
    let width = usize::from((last >> 3) & 0x03) + 1;
    let Some(index_start) = data.len().checked_sub(2 + width * count) else { return whole };
    if data[index_start] != last {
        return whole;
    }
    let mut frames = Vec::with_capacity(count);
    let mut at = 0usize;
    for f in 0..count {
        let bytes = &data[index_start + 1 + f * width..][..width];
        let size = bytes.iter().rev().fold(0usize, |s, &b| (s << 8) | usize::from(b));
        match at.checked_add(size).filter(|&e| e <= index_start) {
            Some(end) => frames.push(&data[at..end]),
            None => return whole,
        }
        at += size;
    }
    frames
}

fn vp9_key_frame_config(frame: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut r = Bits::new(frame, "VP9 frame header");
    if r.read(2, "frame_marker")? != 2 {
        return Err(Error::invalid_bitstream(0, "VP9 frame header: frame_marker is not 2"));
    }
    let low = r.read(1, "profile_low_bit")?;
    let high = r.read(1, "profile_high_bit")?;
    let profile = (high << 1) | low;
    if profile == 3 {
        r.read(1, "reserved_zero")?;
    }
    if r.flag("show_existing_frame")? || r.flag("frame_type")? {
        return Ok(None); // not a key frame
    }
    r.read(2, "show_frame, error_resilient_mode")?;
    if r.read(24, "frame_sync_code")? != 0x49_83_42 {
        return Err(Error::invalid_bitstream(1, "VP9 key frame without its sync code"));
    }
    let bit_depth = if profile >= 2 { if r.flag("ten_or_twelve_bit")? { 12 } else { 10 } } else { 8 };
    let color_space = r.read(3, "color_space")?;
    // vpcC chromaSubsampling: 0 = 4:2:0 vertical, 1 = 4:2:0 colocated, 2 = 4:2:2, 3 = 4:4:4.
    let (chroma, full_range) = if color_space != 7 {
        let range = r.read(1, "color_range")?;
        let chroma = if profile == 1 || profile == 3 {
            match (r.read(1, "subsampling_x")?, r.read(1, "subsampling_y")?) {
                (1, 0) => 2,
                (0, 0) => 3,
                _ => 1,
            }
        } else {
            1
        };
        (chroma, range)
    } else {
        (3, 1) // RGB: 4:4:4, full range
    };
    let mut out = vec![profile as u8, 0, (bit_depth << 4) | (chroma << 1) | full_range as u8];
    out.extend_from_slice(&[2, 2, 2, 0, 0]); // primaries, transfer, matrix unspecified; no init data
    Ok(Some(out))
}

/// The parameter sets of an Annex-B access unit as a decoder configuration record with
/// 4-byte lengths, or `None` when the unit lacks the ones the record needs (H.264: an
/// SPS and a PPS; HEVC: a VPS, an SPS and a PPS).
pub fn record_from_annexb(codec: Codec, access_unit: &[u8]) -> Option<DecoderConfigRecord> {
    let sets: Vec<Vec<u8>> =
        split_all(access_unit).into_iter().filter(|n| is_parameter_set(codec, n)).map(<[u8]>::to_vec).collect();
    let has = |t: u8| {
        sets.iter().any(|n| match codec {
            Codec::H264 => n[0] & 0x1f == t,
            _ => (n[0] >> 1) & 0x3f == t,
        })
    };
    let complete = match codec {
        Codec::H264 => has(7) && has(8),
        Codec::Hevc => has(32) && has(33) && has(34),
        _ => false,
    };
    // Only SPS/PPS (and VPS) go in the record: SPS extensions and subset SPS stay in band.
    let keep = |n: &Vec<u8>| match codec {
        Codec::H264 => matches!(n[0] & 0x1f, 7 | 8),
        _ => true,
    };
    complete.then(|| DecoderConfigRecord {
        codec,
        length_size: 4,
        parameter_sets: sets.into_iter().filter(keep).collect(),
    })
}

/// The `avcC`/`hvcC` bytes of a record, with what [`DecoderConfigRecord::to_bytes`] leaves
/// generic filled in from the SPS: `avcC`'s High-profile extension (chroma format and bit
/// depths, which ISO/IEC 14496-15 asks for with profiles 100, 110, 122 and 144) and
/// `hvcC`'s chroma format and bit depths (written as 4:2:0 8-bit otherwise). An SPS that
/// does not parse leaves the record as it is.
pub(crate) fn nal_record_bytes(record: &DecoderConfigRecord) -> Result<Vec<u8>> {
    let mut out = record.to_bytes()?;
    match record.codec {
        Codec::H264 => {
            let sps = record.parameter_sets.iter().find(|n| n.first().is_some_and(|b| b & 0x1f == 7));
            if let Some(Ok(sps)) = sps.map(|n| video_hw_bitstream::h264::parse_sps(n))
                && matches!(sps.profile_idc, 100 | 110 | 122 | 144)
            {
                out.push(0xfc | sps.chroma_format_idc);
                out.push(0xf8 | sps.bit_depth_luma.saturating_sub(8));
                out.push(0xf8 | sps.bit_depth_chroma.saturating_sub(8));
                out.push(0); // no SPS extensions
            }
        }
        Codec::Hevc => {
            let sps = record.parameter_sets.iter().find(|n| n.first().is_some_and(|b| (b >> 1) & 0x3f == 33));
            if let (Some(Ok(sps)), true) = (sps.map(|n| video_hw_bitstream::hevc::parse_sps(n)), out.len() > 18) {
                out[16] = 0xfc | sps.chroma_format_idc;
                out[17] = 0xf8 | sps.bit_depth_luma.saturating_sub(8);
                out[18] = 0xf8 | sps.bit_depth_chroma.saturating_sub(8);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// Sample rate and channels an AAC AudioSpecificConfig states (ISO/IEC 14496-3 1.6.2.1),
/// when it states them plainly (an explicit rate or a rate index; channel configuration
/// 1 to 7).
pub fn aac_rate_channels(asc: &[u8]) -> Option<(u32, u16)> {
    const RATES: [u32; 13] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
    let mut r = Bits::new(asc, "AudioSpecificConfig");
    if r.read(5, "audioObjectType").ok()? == 31 {
        r.read(6, "audioObjectTypeExt").ok()?;
    }
    let index = r.read(4, "samplingFrequencyIndex").ok()?;
    let rate = if index == 15 { r.read(24, "samplingFrequency").ok()? } else { *RATES.get(index as usize)? };
    let channels = match r.read(4, "channelConfiguration").ok()? {
        c @ 1..=6 => c as u16,
        7 => 8,
        _ => return None,
    };
    Some((rate, channels))
}

/// The fields of an Opus identification header (`OpusHead`, RFC 7845 5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    /// Output channels.
    pub channels: u8,
    /// Samples (at 48 kHz) to drop at the start.
    pub pre_skip: u16,
    /// The input's sample rate (informative).
    pub input_rate: u32,
    /// Output gain, Q7.8 dB.
    pub gain: i16,
    /// Channel mapping family.
    pub family: u8,
    /// Family ≠ 0: stream count, coupled count, then one mapping byte per channel.
    pub mapping: Vec<u8>,
}

impl OpusHead {
    /// Reads an `OpusHead` packet.
    pub fn parse(head: &[u8]) -> Result<Self> {
        let bad = |why: &str| Error::invalid_input(format!("OpusHead: {why}"));
        if head.len() < 19 || &head[..8] != b"OpusHead" {
            return Err(bad("not an OpusHead packet (19 bytes or more starting with \"OpusHead\")"));
        }
        if head[8] >> 4 != 0 {
            return Err(bad("unknown major version"));
        }
        let channels = head[9];
        let family = head[18];
        let mapping = if family != 0 {
            head.get(19..21 + usize::from(channels)).ok_or_else(|| bad("channel mapping table cut short"))?.to_vec()
        } else {
            Vec::new()
        };
        if channels == 0 || (family == 0 && channels > 2) {
            return Err(bad("channel count does not fit the mapping family"));
        }
        Ok(OpusHead {
            channels,
            pre_skip: u16::from_le_bytes([head[10], head[11]]),
            input_rate: u32::from_le_bytes([head[12], head[13], head[14], head[15]]),
            gain: i16::from_le_bytes([head[16], head[17]]),
            family,
            mapping,
        })
    }

    /// The `dOps` box body (Opus in ISOBMFF 4.3.2: big-endian, version 0).
    pub fn to_dops(&self) -> Vec<u8> {
        let mut out = vec![0, self.channels];
        out.extend_from_slice(&self.pre_skip.to_be_bytes());
        out.extend_from_slice(&self.input_rate.to_be_bytes());
        out.extend_from_slice(&self.gain.to_be_bytes());
        out.push(self.family);
        out.extend_from_slice(&self.mapping);
        out
    }
}

/// An MPEG-4 descriptor: tag, size in the 7-bit continuation form, body.
fn descriptor(tag: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let n = body.len();
    for shift in [21, 14, 7] {
        if n >> shift > 0 {
            out.push(0x80 | ((n >> shift) & 0x7f) as u8);
        }
    }
    out.push((n & 0x7f) as u8);
    out.extend_from_slice(body);
}

/// The `esds` box body (after the full-box header) for AAC: an ES descriptor holding the
/// decoder configuration (object type 0x40, audio stream, buffer size and bit rates)
/// with the AudioSpecificConfig as its decoder-specific info.
pub fn esds_body(track_id: u16, asc: &[u8], buffer_size: u32, max_rate: u32, avg_rate: u32) -> Vec<u8> {
    let mut dsi = Vec::new();
    descriptor(0x05, asc, &mut dsi);
    let mut dc = vec![0x40, 0x15];
    dc.extend_from_slice(&buffer_size.min(0x00ff_ffff).to_be_bytes()[1..]);
    dc.extend_from_slice(&max_rate.to_be_bytes());
    dc.extend_from_slice(&avg_rate.to_be_bytes());
    dc.extend_from_slice(&dsi);
    let mut es = track_id.to_be_bytes().to_vec();
    es.push(0); // no dependency, URL or OCR stream
    descriptor(0x04, &dc, &mut es);
    descriptor(0x06, &[0x02], &mut es); // SLConfigDescriptor: predefined MP4
    let mut out = Vec::new();
    descriptor(0x03, &es, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp9_key_frame_profile_0() {
        // frame_marker 2, profile 0, show_existing 0, key, shown, not error resilient,
        // sync code, color_space 2 (BT.709), limited range.
        let frame = [0x82, 0x49, 0x83, 0x42, 0x40, 0, 0];
        assert_eq!(vpcc_from_vp9_frame(&frame).unwrap().unwrap(), [0, 0, 0x82, 2, 2, 2, 0, 0]);
        // An inter frame has no configuration.
        assert_eq!(vpcc_from_vp9_frame(&[0x86, 0, 0]).unwrap(), None);
    }

    #[test]
    fn av1c_from_reduced_still_picture_header() {
        // seq_profile 0, still 1, reduced 1, seq_level_idx 8; widths of 1 bit; then the
        // color config: high_bitdepth 0, mono 0, no description, range 0, position 0.
        let mut bits = String::from("000" /* profile */) + "1" + "1" + "01000";
        bits += "0000_0000_0_0"; // width/height bits 1, max size 1x1
        bits += "000_000"; // sb, filter intra, edge; superres, cdef, restoration
        bits += "0_0_0_0_00"; // high_bitdepth, mono, desc, range, position
        bits.retain(|c| c != '_');
        while !bits.len().is_multiple_of(8) {
            bits.push('0');
        }
        let payload: Vec<u8> = bits
            .as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect();
        let mut tu = vec![0x12, 0x00]; // temporal delimiter
        tu.push(0x0a);
        tu.push(payload.len() as u8);
        tu.extend_from_slice(&payload);
        let c = av1c_from_temporal_unit(&tu).unwrap().unwrap();
        assert_eq!(&c[..4], &[0x81, 0x08, 0b0000_1100, 0]);
        assert_eq!(&c[4..], &tu[2..]);
        assert_eq!(av1c_from_temporal_unit(&[0x12, 0x00]).unwrap(), None);
    }

    #[test]
    fn annexb_parameter_sets() {
        let au = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x64, 0, 0x1e, 0, 0, 1, 0x68, 0xee, 0, 0, 1, 0x65, 0x88];
        let rec = record_from_annexb(Codec::H264, &au).unwrap();
        assert_eq!(rec.parameter_sets, vec![vec![0x67, 0x64, 0, 0x1e], vec![0x68, 0xee]]);
        assert_eq!(record_from_annexb(Codec::H264, &au[16..]), None);
    }

    #[test]
    fn opus_head_and_aac_config() {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
        let h = OpusHead::parse(&head).unwrap();
        assert_eq!((h.channels, h.pre_skip, h.input_rate), (2, 312, 48000));
        assert_eq!(h.to_dops(), [0, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0]);
        assert!(OpusHead::parse(&head[..10]).is_err());
        assert_eq!(aac_rate_channels(&[0x11, 0x90]), Some((48000, 2)));
        let esds = esds_body(1, &[0x11, 0x90], 0, 0, 0);
        assert_eq!(&esds[..2], &[0x03, 25]);
    }
}
