//! Segment information (`Info`) and the tracks (`Tracks`): each TrackEntry's number,
//! type, codec and configuration, video and audio settings, language and content
//! encodings, turned into [`Track`]s.

use super::ebml::{self, Children, float, malformed, string, uint};
use crate::codec_ids;
use crate::types::{AudioCodec, AudioInfo, CodecConfig, Track, TrackCodec, TrackKind, VideoInfo};
use video_hw_bitstream::avcc::DecoderConfigRecord;
use video_hw_types::codec::{Codec, Rational};
use video_hw_types::error::Result;

/// Nanoseconds per tick when `Info` does not say (1 ms).
pub const DEFAULT_TIMESTAMP_SCALE: u64 = 1_000_000;

/// The largest `TimestampScale` taken (a tick of about 11.6 days; real files use 1 ms
/// or finer). Keeps every tick count times the scale inside 128-bit arithmetic and the
/// time base's numerator inside an `i64`.
const MAX_TIMESTAMP_SCALE: u64 = 1_000_000_000_000_000;

/// What `Info` says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentInfo {
    /// Nanoseconds per tick (the unit of cluster and block timestamps).
    pub timestamp_scale: u64,
    /// The duration in ticks, when stated.
    pub duration: Option<f64>,
}

impl Default for SegmentInfo {
    fn default() -> Self {
        SegmentInfo { timestamp_scale: DEFAULT_TIMESTAMP_SCALE, duration: None }
    }
}

impl SegmentInfo {
    /// The unit of every track's timestamps: one tick, `TimestampScale` nanoseconds.
    pub fn time_base(&self) -> Rational {
        Rational::new(self.timestamp_scale as i64, 1_000_000_000).reduced()
    }

    /// `ns` nanoseconds in ticks, rounded to the nearest.
    pub fn ticks(&self, ns: u64) -> i64 {
        let s = u128::from(self.timestamp_scale);
        ((u128::from(ns) * 2 + s) / (2 * s)).min(i64::MAX as u128) as i64
    }
}

/// Reads the data of an `Info` element (at file offset `base`).
pub fn parse_info(data: &[u8], base: u64) -> Result<SegmentInfo> {
    let mut info = SegmentInfo::default();
    for child in Children::new(data, base, ebml::INFO) {
        let (h, body, at) = child?;
        match h.id {
            ebml::TIMESTAMP_SCALE => {
                let scale = uint(body, at)?;
                if scale == 0 || scale > MAX_TIMESTAMP_SCALE {
                    return Err(malformed(h.start, format!("TimestampScale of {scale} ns")));
                }
                info.timestamp_scale = scale;
            }
            ebml::DURATION => {
                let d = float(body, at)?;
                info.duration = (0.0..9.0e18).contains(&d).then_some(d);
            }
            _ => {}
        }
    }
    Ok(info)
}

/// A track as the demuxer keeps it: the public [`Track`] and what reading its blocks
/// needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSpec {
    /// The `TrackNumber` blocks name it by.
    pub number: u64,
    /// The track.
    pub track: Track,
    /// `DefaultDuration` in nanoseconds.
    pub default_duration: Option<u64>,
    /// Bytes header stripping removed from the front of every frame.
    pub strip: Vec<u8>,
    /// Why its frames cannot be given as stored (compression other than header
    /// stripping, encryption); reading one of its packets fails with this.
    pub unsupported: Option<String>,
}

/// The fields of one TrackEntry.
#[derive(Debug, Default)]
struct Entry<'a> {
    number: u64,
    kind: u64,
    codec_id: String,
    private: Option<(&'a [u8], u64)>,
    default_duration: Option<u64>,
    language: Option<String>,
    bcp47: Option<String>,
    pixel: (u64, u64),
    display: (Option<u64>, Option<u64>),
    /// Degrees counter-clockwise from the video projection's pose (see `projection_rotation`).
    rotation: u16,
    sampling: Option<f64>,
    channels: Option<u64>,
    /// CodecDelay, nanoseconds.
    codec_delay: u64,
    /// FlagDefault (1 where absent).
    default: bool,
    encoding: Encoding,
}

/// How a track's frames are stored.
#[derive(Debug, Default, Clone, PartialEq)]
enum Encoding {
    /// As they are.
    #[default]
    Plain,
    /// Header stripping: `settings` go back in front of every frame (scope bit 1) and of
    /// CodecPrivate (scope bit 2).
    Strip { settings: Vec<u8>, scope: u64 },
    /// Anything else, named.
    Unsupported(String),
}

/// Reads the data of a `Tracks` element (at file offset `base`) into tracks, in order.
/// Entries without a track number, or repeating one, are left out.
pub fn parse_tracks(data: &[u8], base: u64, info: &SegmentInfo) -> Result<Vec<TrackSpec>> {
    let mut out: Vec<TrackSpec> = Vec::new();
    for child in Children::new(data, base, ebml::TRACKS) {
        let (h, body, at) = child?;
        if h.id != ebml::TRACK_ENTRY {
            continue;
        }
        let entry = parse_entry(body, at)?;
        if entry.number == 0 || out.iter().any(|t| t.number == entry.number) {
            continue;
        }
        out.push(build(entry, out.len(), info)?);
    }
    Ok(out)
}

fn parse_entry(data: &[u8], base: u64) -> Result<Entry<'_>> {
    let mut e = Entry { default: true, ..Entry::default() };
    for child in Children::new(data, base, ebml::TRACK_ENTRY) {
        let (h, body, at) = child?;
        match h.id {
            ebml::TRACK_NUMBER => e.number = uint(body, at)?,
            ebml::TRACK_TYPE => e.kind = uint(body, at)?,
            ebml::CODEC_ID => e.codec_id = string(body),
            ebml::CODEC_PRIVATE => e.private = Some((body, at)),
            ebml::DEFAULT_DURATION => e.default_duration = Some(uint(body, at)?).filter(|&d| d > 0),
            ebml::CODEC_DELAY => e.codec_delay = uint(body, at)?,
            ebml::LANGUAGE => e.language = Some(string(body)),
            ebml::FLAG_DEFAULT => e.default = uint(body, at)? != 0,
            ebml::LANGUAGE_BCP47 => e.bcp47 = Some(string(body)),
            ebml::VIDEO => {
                for v in Children::new(body, at, ebml::VIDEO) {
                    let (h, body, at) = v?;
                    match h.id {
                        ebml::PIXEL_WIDTH => e.pixel.0 = uint(body, at)?,
                        ebml::PIXEL_HEIGHT => e.pixel.1 = uint(body, at)?,
                        ebml::DISPLAY_WIDTH => e.display.0 = Some(uint(body, at)?),
                        ebml::DISPLAY_HEIGHT => e.display.1 = Some(uint(body, at)?),
                        ebml::PROJECTION => e.rotation = projection_rotation(body, at)?,
                        _ => {}
                    }
                }
            }
            ebml::AUDIO => {
                for a in Children::new(body, at, ebml::AUDIO) {
                    let (h, body, at) = a?;
                    match h.id {
                        ebml::SAMPLING_FREQUENCY => e.sampling = Some(float(body, at)?),
                        ebml::CHANNELS => e.channels = Some(uint(body, at)?),
                        _ => {}
                    }
                }
            }
            ebml::CONTENT_ENCODINGS => e.encoding = parse_encodings(body, at)?,
            _ => {}
        }
    }
    Ok(e)
}

/// The rotation a video `Projection` asks for, in degrees counter-clockwise to the nearest
/// quarter turn, as ffmpeg's Matroska demuxer makes a display matrix of it: a rectangular
/// (flat) projection's `ProjectionPoseRoll` (counter-clockwise in the specification) when
/// the pose has no pitch and no yaw. Anything else is 0: a 360° projection (not a display
/// rotation), and a yaw of 180° (ffmpeg reads it as a mirror image, which is not applied).
fn projection_rotation(data: &[u8], base: u64) -> Result<u16> {
    let (mut kind, mut yaw, mut pitch, mut roll) = (0u64, 0.0f64, 0.0f64, 0.0f64);
    for c in Children::new(data, base, ebml::PROJECTION) {
        let (h, body, at) = c?;
        match h.id {
            ebml::PROJECTION_TYPE => kind = uint(body, at)?,
            ebml::PROJECTION_POSE_YAW => yaw = float(body, at)?,
            ebml::PROJECTION_POSE_PITCH => pitch = float(body, at)?,
            ebml::PROJECTION_POSE_ROLL => roll = float(body, at)?,
            _ => {}
        }
    }
    if kind != 0 || yaw != 0.0 || pitch != 0.0 || !roll.is_finite() {
        return Ok(0);
    }
    Ok((((roll / 90.0).round() as i64).rem_euclid(4) * 90) as u16)
}

/// ContentEncodings: one header-stripping encoding is undone here; anything else
/// (zlib, bzlib, LZO, encryption, or several encodings stacked) is named as
/// unsupported.
fn parse_encodings(data: &[u8], base: u64) -> Result<Encoding> {
    let mut found = Vec::new();
    for child in Children::new(data, base, ebml::CONTENT_ENCODINGS) {
        let (h, body, at) = child?;
        if h.id != ebml::CONTENT_ENCODING {
            continue;
        }
        let (mut scope, mut kind, mut algo, mut settings) = (1u64, 0u64, 0u64, Vec::new());
        for c in Children::new(body, at, ebml::CONTENT_ENCODING) {
            let (h, body, at) = c?;
            match h.id {
                ebml::CONTENT_ENCODING_SCOPE => scope = uint(body, at)?,
                ebml::CONTENT_ENCODING_TYPE => kind = uint(body, at)?,
                ebml::CONTENT_ENCRYPTION => kind = 1,
                ebml::CONTENT_COMPRESSION => {
                    for x in Children::new(body, at, ebml::CONTENT_COMPRESSION) {
                        let (h, body, at) = x?;
                        match h.id {
                            ebml::CONTENT_COMP_ALGO => algo = uint(body, at)?,
                            ebml::CONTENT_COMP_SETTINGS => settings = body.to_vec(),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        found.push(match (kind, algo) {
            (0, 3) => Encoding::Strip { settings, scope },
            (0, 0) => Encoding::Unsupported("zlib-compressed".into()),
            (0, 1) => Encoding::Unsupported("bzlib-compressed".into()),
            (0, 2) => Encoding::Unsupported("LZO-compressed".into()),
            (0, a) => Encoding::Unsupported(format!("compressed with algorithm {a}")),
            (1, _) => Encoding::Unsupported("encrypted".into()),
            (t, _) => Encoding::Unsupported(format!("content encoding type {t}")),
        });
    }
    Ok(match found.len() {
        0 => Encoding::Plain,
        1 => found.pop().unwrap_or_default(),
        n => Encoding::Unsupported(format!("{n} content encodings")),
    })
}

fn build(mut e: Entry<'_>, index: usize, info: &SegmentInfo) -> Result<TrackSpec> {
    let kind = match e.kind {
        1 => TrackKind::Video,
        2 => TrackKind::Audio,
        0x11 => TrackKind::Subtitle,
        _ => TrackKind::Data,
    };
    let (mut strip, mut unsupported) = (Vec::new(), None);
    let mut private = e.private.map(|(b, at)| (b.to_vec(), at));
    match std::mem::take(&mut e.encoding) {
        Encoding::Plain => {}
        Encoding::Strip { settings, scope } => {
            if scope & 2 != 0
                && let Some((p, _)) = &mut private
            {
                p.splice(0..0, settings.iter().copied());
            }
            if scope & 1 != 0 {
                strip = settings;
            }
        }
        Encoding::Unsupported(why) => unsupported = Some(why),
    }
    let (codec, config) = match &unsupported {
        // The stored bytes are not the codec's: name it, keep nothing that would parse.
        Some(why) => (TrackCodec::Other(format!("{} ({why})", e.codec_id)), CodecConfig::None),
        None => codec(&e.codec_id, private.as_ref().map(|(p, at)| (p.as_slice(), *at)))?,
    };
    let video = (kind == TrackKind::Video).then(|| video_info(&e));
    let audio = (kind == TrackKind::Audio).then(|| {
        let rate = e
            .sampling
            .filter(|f| f.is_finite() && *f > 0.0 && *f < f64::from(u32::MAX))
            .map_or(8000, |f| f.round() as u32);
        let channels = e.channels.map_or(1, |c| c.min(u64::from(u16::MAX)) as u16);
        AudioInfo { codec_delay_ns: e.codec_delay, ..crate::audio::facts(&codec, &config, rate, channels) }
    });
    let frame_rate = match (kind, e.default_duration) {
        (TrackKind::Video, Some(d)) if d <= i64::MAX as u64 => Some(Rational::new(1_000_000_000, d as i64).reduced()),
        _ => None,
    };
    Ok(TrackSpec {
        number: e.number,
        track: Track {
            index,
            id: e.number,
            kind,
            codec,
            config,
            time_base: info.time_base(),
            duration: info.duration.map(|d| d.round() as i64),
            packets: None,
            frame_rate,
            video,
            audio,
            language: language(e.bcp47, e.language),
            window: None,
            is_default: e.default,
        },
        default_duration: e.default_duration,
        strip,
        unsupported,
    })
}

/// The track's language as ffprobe reports it: `Language` (ISO 639-2, the code MP4 and
/// MPEG-TS give too), whose default is `eng`. `LanguageBCP47` where `Language` is "und" (a
/// muxer, ours included, that writes a tag with no ISO 639-2 code says "und" there) or
/// absent, except that an English tag with `Language` absent is that default: mkvmerge
/// writes `LanguageBCP47` for every track and leaves `Language` out where it is `eng`.
/// (The specification lets BCP 47 win where both are set; a language in the same code as
/// ffmpeg's and the other containers' is what callers compare.) Never "und".
fn language(bcp47: Option<String>, iso: Option<String>) -> Option<String> {
    let english = |b: &str| b == "en" || b.starts_with("en-");
    let tag = match (iso, bcp47) {
        (Some(i), _) if !i.is_empty() && i != "und" => i,
        (None, Some(b)) if english(&b) => "eng".to_string(),
        (_, Some(b)) => b,
        (Some(i), None) => i,
        (None, None) => "eng".to_string(),
    };
    (!tag.is_empty() && tag != "und").then_some(tag)
}

/// Size, and the sample aspect ratio when the display size's shape differs from the
/// coded size's (the display size defaults to the coded size).
fn video_info(e: &Entry<'_>) -> VideoInfo {
    let (pw, ph) = e.pixel;
    let (dw, dh) = (e.display.0.unwrap_or(pw), e.display.1.unwrap_or(ph));
    // SAR = (dw / dh) / (pw / ph) = (dw * ph) / (dh * pw).
    let (num, den) = (u128::from(dw) * u128::from(ph), u128::from(dh) * u128::from(pw));
    let sample_aspect = if num == 0 || den == 0 || num == den {
        None
    } else {
        // Products past i128 (sizes past 2^63) give no ratio, as reduced ones past i64 do.
        let wide = |v: u128| i128::try_from(v).ok();
        wide(num).zip(wide(den)).and_then(|(n, d)| Rational::reduced_from_i128(n, d))
    };
    VideoInfo {
        width: pw.min(u64::from(u32::MAX)) as u32,
        height: ph.min(u64::from(u32::MAX)) as u32,
        rotation: e.rotation,
        sample_aspect,
    }
}

/// The codec and configuration a CodecID and CodecPrivate (with its file offset) name.
fn codec(id: &str, private: Option<(&[u8], u64)>) -> Result<(TrackCodec, CodecConfig)> {
    let raw = || private.map_or(CodecConfig::None, |(p, _)| CodecConfig::Raw(p.to_vec()));
    let bytes = |make: fn(Vec<u8>) -> CodecConfig| private.map_or(CodecConfig::None, |(p, _)| make(p.to_vec()));
    let nal = |codec: Codec| -> Result<CodecConfig> {
        match private {
            Some((p, at)) => Ok(CodecConfig::Nal(DecoderConfigRecord::parse(codec, p).map_err(|e| e.at_offset(at))?)),
            None => Ok(CodecConfig::None),
        }
    };
    let audio = |a: AudioCodec, config: CodecConfig| Ok((TrackCodec::Audio(a), config));
    match id {
        "V_MPEG4/ISO/AVC" => Ok((TrackCodec::Video(Codec::H264), nal(Codec::H264)?)),
        "V_MPEGH/ISO/HEVC" => Ok((TrackCodec::Video(Codec::Hevc), nal(Codec::Hevc)?)),
        "V_AV1" => Ok((TrackCodec::Video(Codec::Av1), bytes(CodecConfig::Av1C))),
        "V_VP9" => Ok((TrackCodec::Video(Codec::Vp9), raw())),
        // A Video for Windows BITMAPINFOHEADER: its FourCC names the codec, the bytes after
        // it are the extradata.
        "V_MS/VFW/FOURCC" => Ok(match private.and_then(|(p, _)| codec_ids::vfw(p)) {
            Some((Ok(c), extra)) if !c.is_parsed() => (TrackCodec::Video(c), CodecConfig::Raw(extra)),
            Some((Ok(c), _)) => (TrackCodec::Other(format!("V_MS/VFW/FOURCC {c}")), raw()),
            Some((Err(fourcc), _)) => (TrackCodec::Other(format!("V_MS/VFW/FOURCC {fourcc}")), raw()),
            None => (TrackCodec::Other(id.to_string()), raw()),
        }),
        "A_OPUS" => audio(AudioCodec::Opus, bytes(CodecConfig::OpusHead)),
        "A_AC3" => audio(AudioCodec::Ac3, raw()),
        "A_EAC3" => audio(AudioCodec::Eac3, raw()),
        "A_FLAC" => audio(AudioCodec::Flac, raw()),
        "A_VORBIS" => audio(AudioCodec::Vorbis, raw()),
        "A_MPEG/L3" => audio(AudioCodec::Mp3, raw()),
        "A_MPEG/L2" | "A_MPEG/L1" => audio(AudioCodec::Mp2, raw()),
        a if a.starts_with("A_AAC") => audio(AudioCodec::Aac, bytes(CodecConfig::AudioSpecificConfig)),
        a if a.starts_with("A_PCM/") => audio(AudioCodec::Pcm, raw()),
        "S_TEXT/UTF8" => Ok((TrackCodec::Other("subrip".into()), raw())),
        "S_TEXT/ASS" | "S_TEXT/SSA" | "S_ASS" | "S_SSA" => Ok((TrackCodec::Other("ass".into()), raw())),
        "S_TEXT/WEBVTT" => Ok((TrackCodec::Other("webvtt".into()), raw())),
        "S_VOBSUB" => Ok((TrackCodec::Other("dvd_subtitle".into()), raw())),
        "S_HDMV/PGS" => Ok((TrackCodec::Other("hdmv_pgs_subtitle".into()), raw())),
        // The codecs only the FFmpeg engine decodes: CodecPrivate is the decoder's extradata
        // (MPEG-4 Part 2's VOS and VOL headers; MPEG-1/2 carry theirs in band too).
        other => match codec_ids::matroska(other) {
            Some(c) => Ok((TrackCodec::Video(c), raw())),
            None => Ok((TrackCodec::Other(other.to_string()), raw())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mkv::tests::el;

    fn entry(fields: &[Vec<u8>]) -> Vec<u8> {
        el(ebml::TRACK_ENTRY, &fields.concat())
    }

    #[test]
    fn info_defaults_and_values() {
        assert_eq!(parse_info(&[], 0).unwrap(), SegmentInfo::default());
        let data =
            [el(ebml::TIMESTAMP_SCALE, &[0x0f, 0x42, 0x40]), el(ebml::DURATION, &4032f64.to_be_bytes())].concat();
        let info = parse_info(&data, 0).unwrap();
        assert_eq!(info.duration, Some(4032.0));
        assert_eq!(info.time_base(), Rational::new(1, 1000));
        assert_eq!(info.ticks(40_000_000), 40);
        assert_eq!(SegmentInfo { timestamp_scale: 100_000, duration: None }.time_base(), Rational::new(1, 10_000));
        let bad = el(ebml::TIMESTAMP_SCALE, &[0]);
        assert!(parse_info(&bad, 0).is_err());
    }

    #[test]
    fn a_flat_projections_roll_is_a_rotation() {
        let f = |v: f64| v.to_be_bytes();
        let rotation = |projection: &[Vec<u8>]| {
            let video = entry(&[
                el(ebml::TRACK_NUMBER, &[1]),
                el(ebml::TRACK_TYPE, &[1]),
                el(ebml::CODEC_ID, b"V_VP9"),
                el(
                    ebml::VIDEO,
                    &[
                        el(ebml::PIXEL_WIDTH, &[0x01, 0x40]),
                        el(ebml::PIXEL_HEIGHT, &[0xf0]),
                        el(ebml::PROJECTION, &projection.concat()),
                    ]
                    .concat(),
                ),
            ]);
            let tracks = parse_tracks(&video, 0, &SegmentInfo::default()).unwrap();
            tracks[0].track.video.unwrap().rotation
        };
        assert_eq!(rotation(&[el(ebml::PROJECTION_POSE_ROLL, &f(90.0))]), 90);
        assert_eq!(rotation(&[el(ebml::PROJECTION_TYPE, &[0]), el(ebml::PROJECTION_POSE_ROLL, &f(-90.0))]), 270);
        assert_eq!(rotation(&[el(ebml::PROJECTION_POSE_ROLL, &f(180.4))]), 180);
        // Not a display rotation: a 360° projection, a mirrored pose, a pitch.
        assert_eq!(rotation(&[el(ebml::PROJECTION_TYPE, &[1]), el(ebml::PROJECTION_POSE_ROLL, &f(90.0))]), 0);
        assert_eq!(rotation(&[el(ebml::PROJECTION_POSE_YAW, &f(180.0)), el(ebml::PROJECTION_POSE_ROLL, &f(90.0))]), 0);
        assert_eq!(rotation(&[el(ebml::PROJECTION_POSE_PITCH, &f(10.0))]), 0);
        assert_eq!(rotation(&[]), 0);
    }

    #[test]
    fn tracks_map_codecs_sizes_and_languages() {
        let info = SegmentInfo::default();
        let video = entry(&[
            el(ebml::TRACK_NUMBER, &[1]),
            el(ebml::TRACK_TYPE, &[1]),
            el(ebml::CODEC_ID, b"V_VP9"),
            el(ebml::DEFAULT_DURATION, &41_708_333u32.to_be_bytes()),
            el(ebml::LANGUAGE, b"und"),
            el(
                ebml::VIDEO,
                &[
                    el(ebml::PIXEL_WIDTH, &[0x02, 0xd0]),
                    el(ebml::PIXEL_HEIGHT, &[0x01, 0xe0]),
                    el(ebml::DISPLAY_WIDTH, &[0x02, 0x80]),
                ]
                .concat(),
            ),
        ]);
        let audio = entry(&[
            el(ebml::TRACK_NUMBER, &[2]),
            el(ebml::TRACK_TYPE, &[2]),
            el(ebml::CODEC_ID, b"A_AAC"),
            el(ebml::CODEC_PRIVATE, &[0x11, 0xb0]), // AAC LC, 48 kHz, 5.1
            el(ebml::LANGUAGE, b"fre"),
            el(ebml::LANGUAGE_BCP47, b"fr-CA"),
            el(
                ebml::AUDIO,
                &[el(ebml::SAMPLING_FREQUENCY, &48000f64.to_be_bytes()), el(ebml::CHANNELS, &[6])].concat(),
            ),
        ]);
        let subs =
            entry(&[el(ebml::TRACK_NUMBER, &[3]), el(ebml::TRACK_TYPE, &[0x11]), el(ebml::CODEC_ID, b"S_TEXT/ASS")]);
        let dup = entry(&[el(ebml::TRACK_NUMBER, &[3]), el(ebml::TRACK_TYPE, &[1])]);
        let t = parse_tracks(&[video, audio, subs, dup].concat(), 0, &info).unwrap();
        assert_eq!(t.len(), 3);
        let v = &t[0].track;
        assert_eq!(
            (v.kind, v.codec.clone(), v.language.clone()),
            (TrackKind::Video, TrackCodec::Video(Codec::Vp9), None)
        );
        assert_eq!(v.frame_rate, Some(Rational::new(1_000_000_000, 41_708_333).reduced()));
        // 720x480 shown as 640x480: SAR 8:9.
        assert_eq!(v.video.unwrap().sample_aspect, Some(Rational::new(8, 9)));
        assert_eq!((v.video.unwrap().width, v.video.unwrap().height), (720, 480));
        let a = &t[1].track;
        assert_eq!(a.codec, TrackCodec::Audio(AudioCodec::Aac));
        assert_eq!(a.config, CodecConfig::AudioSpecificConfig(vec![0x11, 0xb0]));
        assert_eq!(a.audio, Some(crate::AudioInfo::new(AudioCodec::Aac, 48000, 6)));
        assert_eq!(a.language.as_deref(), Some("fre"), "Language first, as ffprobe");
        let s = &t[2].track;
        assert_eq!((s.kind, s.codec.name(), s.index), (TrackKind::Subtitle, "ass", 2));
        // No Language element: the Matroska default.
        assert_eq!(s.language.as_deref(), Some("eng"));
    }

    #[test]
    fn header_stripping_and_unsupported_encodings() {
        let info = SegmentInfo::default();
        let strip = el(
            ebml::CONTENT_ENCODINGS,
            &el(
                ebml::CONTENT_ENCODING,
                &el(
                    ebml::CONTENT_COMPRESSION,
                    &[el(ebml::CONTENT_COMP_ALGO, &[3]), el(ebml::CONTENT_COMP_SETTINGS, &[0, 0, 1])].concat(),
                ),
            ),
        );
        let zlib = el(ebml::CONTENT_ENCODINGS, &el(ebml::CONTENT_ENCODING, &el(ebml::CONTENT_COMPRESSION, &[])));
        let a = entry(&[el(ebml::TRACK_NUMBER, &[1]), el(ebml::TRACK_TYPE, &[2]), el(ebml::CODEC_ID, b"A_AC3"), strip]);
        let b = entry(&[
            el(ebml::TRACK_NUMBER, &[2]),
            el(ebml::TRACK_TYPE, &[1]),
            el(ebml::CODEC_ID, b"V_MPEG4/ISO/AVC"),
            zlib,
        ]);
        let t = parse_tracks(&[a, b].concat(), 0, &info).unwrap();
        assert_eq!(t[0].strip, vec![0, 0, 1]);
        assert_eq!(t[0].unsupported, None);
        assert_eq!(t[0].track.codec, TrackCodec::Audio(AudioCodec::Ac3));
        assert_eq!(t[1].unsupported.as_deref(), Some("zlib-compressed"));
        assert_eq!(t[1].track.codec, TrackCodec::Other("V_MPEG4/ISO/AVC (zlib-compressed)".into()));
    }

    #[test]
    fn broken_avcc_names_its_offset() {
        let e = entry(&[
            el(ebml::TRACK_NUMBER, &[1]),
            el(ebml::CODEC_ID, b"V_MPEG4/ISO/AVC"),
            el(ebml::CODEC_PRIVATE, &[1, 2]),
        ]);
        let err = parse_tracks(&e, 1000, &SegmentInfo::default()).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidBitstream { offset, .. } if offset >= 1000), "{err}");
    }

    #[test]
    fn language_is_iso_639_2_first_then_bcp47() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(language(s("en"), s("eng")), s("eng"), "both: ffprobe's");
        assert_eq!(language(s("en"), None), s("eng"), "mkvmerge leaves the default out");
        assert_eq!(language(s("fr-CA"), s("und")), s("fr-CA"), "our muxer: und, then the tag");
        assert_eq!(language(s("de"), None), s("de"));
        assert_eq!(language(None, None), s("eng"), "Matroska's default");
        assert_eq!(language(None, s("und")), None);
    }
}
