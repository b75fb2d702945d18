//! Sample descriptions (`stsd`): which codec a track holds and its configuration
//! (`avcC`, `hvcC`, `av1C`, `vpcC`, AAC's `esds`, Opus's `dOps`), size and sample rate.

use super::boxes::{FourCc, Reader, fourcc_name, malformed};
use crate::codec_ids;
use crate::types::{AudioCodec, AudioInfo, CodecConfig, TrackCodec, VideoInfo};
use video_hw_bitstream::avcc::DecoderConfigRecord;
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::Result;

/// What the first sample description of a track says.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEntry {
    /// The sample entry's type (`avc1`, `mp4a`, …).
    pub format: FourCc,
    /// The codec.
    pub codec: TrackCodec,
    /// Its configuration.
    pub config: CodecConfig,
    /// Size and aspect ratio (visual entries).
    pub video: Option<VideoInfo>,
    /// Sample rate and channels (audio entries).
    pub audio: Option<AudioInfo>,
}

/// Reads the first entry of an `stsd` box body.
pub fn parse_stsd(mut r: Reader<'_>) -> Result<SampleEntry> {
    r.full_box("stsd")?;
    let count = r.u32("stsd entry count")?;
    let first = r.children().next();
    match (count, first) {
        (0, _) | (_, None) => Err(malformed(r.offset(), "stsd without a sample entry")),
        (_, Some(entry)) => {
            let (h, body) = entry?;
            parse_entry(h.kind, body)
        }
    }
}

fn parse_entry(format: FourCc, r: Reader<'_>) -> Result<SampleEntry> {
    match &format {
        b"avc1" | b"avc3" | b"hvc1" | b"hev1" | b"av01" | b"vp09" | b"vp08" | b"mp4v" | b"jpeg" | b"mjpa" | b"apcn"
        | b"apch" | b"apcs" | b"apco" | b"ap4h" | b"dvh1" | b"dvhe" | b"dva1" | b"dvav" | b"s263" => visual(format, r),
        f if codec_ids::mp4_sample_entry(f).is_some() => visual(format, r),
        b"mp4a" | b"Opus" | b"ac-3" | b"ec-3" | b"fLaC" | b".mp3" | b"lpcm" | b"sowt" | b"twos" | b"in24" | b"in32"
        | b"fl32" | b"fl64" | b"raw " | b"ulaw" | b"alaw" | b"samr" | b"sawb" => audio(format, r),
        _ => Ok(SampleEntry {
            format,
            codec: TrackCodec::Other(fourcc_name(&format)),
            config: CodecConfig::None,
            video: None,
            audio: None,
        }),
    }
}

/// A VisualSampleEntry: 78 bytes of fields, then child boxes.
fn visual(format: FourCc, mut r: Reader<'_>) -> Result<SampleEntry> {
    r.skip(6 + 2 + 16, "visual sample entry")?;
    let width = u32::from(r.u16("width")?);
    let height = u32::from(r.u16("height")?);
    r.skip(50, "visual sample entry")?;
    let mut video = VideoInfo { width, height, rotation: 0, sample_aspect: None };
    let codec = match &format {
        b"avc1" | b"avc3" | b"dva1" | b"dvav" => TrackCodec::Video(Codec::H264),
        b"hvc1" | b"hev1" | b"dvh1" | b"dvhe" => TrackCodec::Video(Codec::Hevc),
        b"av01" => TrackCodec::Video(Codec::Av1),
        b"vp09" => TrackCodec::Video(Codec::Vp9),
        // The codec is the `esds` object type's (below); MPEG-4 Part 2 until it says.
        b"mp4v" => TrackCodec::Video(Codec::Mpeg4),
        other => {
            codec_ids::mp4_sample_entry(other).map_or_else(|| TrackCodec::Other(fourcc_name(other)), TrackCodec::Video)
        }
    };
    let mut codec = codec;
    let mut config = CodecConfig::None;
    for child in r.children() {
        let (h, mut body) = child?;
        let at = body.offset();
        match (&h.kind, &codec) {
            (b"avcC", TrackCodec::Video(Codec::H264)) => {
                config = CodecConfig::Nal(
                    DecoderConfigRecord::parse(Codec::H264, body.rest()).map_err(|e| e.at_offset(at))?,
                );
            }
            (b"hvcC", TrackCodec::Video(Codec::Hevc)) => {
                config = CodecConfig::Nal(
                    DecoderConfigRecord::parse(Codec::Hevc, body.rest()).map_err(|e| e.at_offset(at))?,
                );
            }
            (b"av1C", _) => config = CodecConfig::Av1C(body.rest().to_vec()),
            (b"vpcC", _) => config = CodecConfig::VpcC(body.rest().to_vec()),
            // MPEG-4 Part 2 (or MPEG-1/2, MJPEG) in `mp4v`: the object type names the codec,
            // the DecoderSpecificInfo (VOS and VOL headers) is the decoder's extradata.
            (b"esds", _) if &format == b"mp4v" => {
                if let Some((object_type, dsi)) = es_decoder_config(body)? {
                    codec = match codec_ids::mp4_object_type(object_type) {
                        Some(c) if c.is_parsed() => TrackCodec::Other(format!("mp4v-0x{object_type:02x}")),
                        Some(c) => TrackCodec::Video(c),
                        None => TrackCodec::Other(format!("mp4v-0x{object_type:02x}")),
                    };
                    config = dsi.map_or(CodecConfig::None, CodecConfig::Raw);
                }
            }
            // QuickTime's `glbl`: the global header (extradata) of a codec FFmpeg's muxer
            // writes one for (FFV1, and others that keep their configuration out of band).
            (b"glbl", TrackCodec::Video(c)) if !c.is_parsed() => config = CodecConfig::Raw(body.rest().to_vec()),
            (b"pasp", _) => {
                let h_spacing = body.u32("pasp")?;
                let v_spacing = body.u32("pasp")?;
                if h_spacing > 0 && v_spacing > 0 {
                    video.sample_aspect = Some(Rational::new(i64::from(h_spacing), i64::from(v_spacing)));
                }
            }
            _ => {}
        }
    }
    if matches!(codec, TrackCodec::Video(Codec::H264 | Codec::Hevc)) && config == CodecConfig::None {
        return Err(malformed(r.offset(), format!("'{}' sample entry without its avcC/hvcC", fourcc_name(&format))));
    }
    Ok(SampleEntry { format, codec, config, video: Some(video), audio: None })
}

/// An AudioSampleEntry (ISO version 0, or QuickTime sound description version 1 or 2),
/// then child boxes.
fn audio(format: FourCc, mut r: Reader<'_>) -> Result<SampleEntry> {
    r.skip(6 + 2, "audio sample entry")?;
    let version = r.u16("sound description version")?;
    r.skip(6, "audio sample entry")?;
    let mut channels = r.u16("channel count")?;
    r.skip(6, "audio sample entry")?;
    let mut sample_rate = r.u32("sample rate")? >> 16;
    match version {
        1 => r.skip(16, "sound description v1")?,
        2 => {
            r.skip(4, "sound description v2")?;
            let rate = f64::from_bits(r.u64("sound description v2 rate")?);
            channels = r.u32("sound description v2 channels")?.min(u32::from(u16::MAX)) as u16;
            r.skip(20, "sound description v2")?;
            if rate.is_finite() && rate > 0.0 && rate < 1e7 {
                sample_rate = rate.round() as u32;
            }
        }
        _ => {}
    }
    let mut codec = match &format {
        b"mp4a" => TrackCodec::Other("mp4a".into()),
        b"Opus" => TrackCodec::Audio(AudioCodec::Opus),
        b"ac-3" => TrackCodec::Audio(AudioCodec::Ac3),
        b"ec-3" => TrackCodec::Audio(AudioCodec::Eac3),
        b"fLaC" => TrackCodec::Audio(AudioCodec::Flac),
        b".mp3" => TrackCodec::Audio(AudioCodec::Mp3),
        b"lpcm" | b"sowt" | b"twos" | b"in24" | b"in32" | b"fl32" | b"fl64" | b"raw " => {
            TrackCodec::Audio(AudioCodec::Pcm)
        }
        other => TrackCodec::Other(fourcc_name(other)),
    };
    let mut config = CodecConfig::None;
    for child in r.children() {
        let (h, body) = child?;
        match &h.kind {
            b"esds" => esds(body, &mut codec, &mut config)?,
            // QuickTime wraps the esds in a 'wave' box.
            b"wave" => {
                for inner in body.children() {
                    let (ih, ibody) = inner?;
                    if &ih.kind == b"esds" {
                        esds(ibody, &mut codec, &mut config)?;
                    }
                }
            }
            b"dOps" => config = CodecConfig::OpusHead(opus_head(body)?),
            // FLAC's `dfLa`: a full box (version, flags) around FLAC's metadata blocks, the
            // first of them STREAMINFO; kept as the blocks, as Matroska keeps them.
            b"dfLa" => {
                let mut body = body;
                config = CodecConfig::Raw(body.rest().get(4..).unwrap_or_default().to_vec());
            }
            _ => {}
        }
    }
    let audio = crate::audio::facts(&codec, &config, sample_rate, channels);
    Ok(SampleEntry { format, codec, config, video: None, audio: Some(audio) })
}

/// An MPEG-4 descriptor's tag and its body.
fn descriptor<'a>(r: &mut Reader<'a>) -> Result<(u8, Reader<'a>)> {
    let tag = r.u8("descriptor tag")?;
    let mut len = 0usize;
    for _ in 0..4 {
        let b = r.u8("descriptor length")?;
        len = (len << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    let at = r.offset();
    let body = r.bytes(len.min(r.remaining()), "descriptor")?;
    Ok((tag, Reader::new(body, at)))
}

/// `esds`: the ES descriptor's decoder configuration gives the codec (object type) and
/// the decoder-specific info (AAC's AudioSpecificConfig).
fn esds(r: Reader<'_>, codec: &mut TrackCodec, config: &mut CodecConfig) -> Result<()> {
    let Some((object_type, dsi)) = es_decoder_config(r)? else { return Ok(()) };
    *codec = match object_type {
        0x40 | 0x66 | 0x67 | 0x68 => TrackCodec::Audio(AudioCodec::Aac),
        0x69 | 0x6b => TrackCodec::Audio(AudioCodec::Mp3),
        0xa5 => TrackCodec::Audio(AudioCodec::Ac3),
        0xa6 => TrackCodec::Audio(AudioCodec::Eac3),
        0xad => TrackCodec::Audio(AudioCodec::Opus),
        other => TrackCodec::Other(format!("mp4a-0x{other:02x}")),
    };
    if let (TrackCodec::Audio(AudioCodec::Aac), Some(dsi)) = (&*codec, dsi) {
        *config = CodecConfig::AudioSpecificConfig(dsi);
    }
    Ok(())
}

/// An `esds` box's ES_Descriptor: the DecoderConfigDescriptor's `objectTypeIndication`
/// and the DecoderSpecificInfo's bytes, if it has one; `None` when the box holds no
/// ES_Descriptor or no DecoderConfigDescriptor.
fn es_decoder_config(mut r: Reader<'_>) -> Result<Option<(u8, Option<Vec<u8>>)>> {
    r.full_box("esds")?;
    let (tag, mut es) = descriptor(&mut r)?;
    if tag != 0x03 {
        return Ok(None);
    }
    es.skip(2, "ES_ID")?;
    let flags = es.u8("ES flags")?;
    if flags & 0x80 != 0 {
        es.skip(2, "dependsOn_ES_ID")?;
    }
    if flags & 0x40 != 0 {
        let n = es.u8("URL length")?;
        es.skip(usize::from(n), "URL")?;
    }
    if flags & 0x20 != 0 {
        es.skip(2, "OCR_ES_ID")?;
    }
    while es.remaining() > 0 {
        let (tag, mut dc) = descriptor(&mut es)?;
        if tag != 0x04 {
            continue;
        }
        let object_type = dc.u8("objectTypeIndication")?;
        dc.skip(12, "DecoderConfigDescriptor")?;
        let mut dsi = None;
        while dc.remaining() > 0 {
            let (tag, mut body) = descriptor(&mut dc)?;
            if tag == 0x05 && dsi.is_none() {
                dsi = Some(body.rest().to_vec());
            }
        }
        return Ok(Some((object_type, dsi)));
    }
    Ok(None)
}

/// `dOps` (big-endian) as the Ogg `OpusHead` packet (little-endian) that Matroska and
/// decoders use.
fn opus_head(mut r: Reader<'_>) -> Result<Vec<u8>> {
    r.u8("dOps version")?;
    let channels = r.u8("dOps channels")?;
    let pre_skip = r.u16("dOps pre-skip")?;
    let rate = r.u32("dOps sample rate")?;
    let gain = r.u16("dOps gain")?;
    let family = r.u8("dOps mapping family")?;
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(channels);
    head.extend(pre_skip.to_le_bytes());
    head.extend(rate.to_le_bytes());
    head.extend(gain.to_le_bytes());
    head.push(family);
    if family != 0 {
        let streams = r.u8("dOps stream count")?;
        let coupled = r.u8("dOps coupled count")?;
        head.push(streams);
        head.push(coupled);
        head.extend(r.bytes(usize::from(channels), "dOps channel mapping")?);
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_head_from_dops() {
        let dops = [0u8, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0];
        let head = opus_head(Reader::new(&dops, 0)).unwrap();
        assert_eq!(&head[..8], b"OpusHead");
        assert_eq!(head[9], 2);
        assert_eq!(u16::from_le_bytes([head[10], head[11]]), 312);
        assert_eq!(u32::from_le_bytes(head[12..16].try_into().unwrap()), 48_000);
        assert_eq!(head.len(), 19);
    }

    #[test]
    fn aac_esds() {
        // ES_Descriptor(ES_ID 1) > DecoderConfigDescriptor(0x40, audio) > DSI [0x11, 0x90].
        let bytes = [
            0, 0, 0, 0, 0x03, 0x19, 0, 1, 0, 0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 0x02, 0x11,
            0x90, 0x06, 0x01, 0x02,
        ];
        let (mut codec, mut config) = (TrackCodec::Other("mp4a".into()), CodecConfig::None);
        esds(Reader::new(&bytes, 0), &mut codec, &mut config).unwrap();
        assert_eq!(codec, TrackCodec::Audio(AudioCodec::Aac));
        assert_eq!(config, CodecConfig::AudioSpecificConfig(vec![0x11, 0x90]));
    }
}
