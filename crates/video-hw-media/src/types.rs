//! The plain data of the media layer: containers, tracks, packets and packet tables.

use std::fmt;

use video_hw_bitstream::avcc::DecoderConfigRecord;
use video_hw_types::codec::{Codec, Rational};

/// The container a file is, found from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// ISO base media (MP4, MOV, fragmented MP4).
    Mp4,
    /// Matroska.
    Matroska,
    /// WebM (Matroska with the `webm` doc type).
    WebM,
    /// MPEG transport stream, 188-byte packets, or M2TS (192-byte packets with a
    /// 4-byte timestamp before each).
    MpegTs,
    /// IVF (AV1, VP9 and VP8 packets with a 12-byte header each).
    Ivf,
    /// AVI (RIFF `AVI `, with OpenDML `AVIX` follow-on lists): no timestamps of its own,
    /// chunk `k` of a stream is at `k` in the stream's time base.
    Avi,
    /// A raw H.264 or HEVC elementary stream in Annex-B form (start codes).
    AnnexB,
    /// A raw AV1 stream of OBUs in the low-overhead format (section 5 of the spec).
    Obu,
    /// An audio-only file: WAV, FLAC, Ogg (Vorbis, Opus, FLAC), MP3 or ADTS AAC, read by
    /// Symphonia's demuxers.
    Audio(AudioContainer),
}

/// The kinds of audio-only file ([`Container::Audio`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioContainer {
    /// RIFF WAVE.
    Wav,
    /// Native FLAC.
    Flac,
    /// Ogg (Vorbis, Opus or FLAC inside).
    Ogg,
    /// MPEG audio frames (MP3, MP2).
    Mp3,
    /// AAC in ADTS frames (`.aac`).
    Adts,
}

impl Container {
    /// The short name used in JSON and on the command line: `mp4`, `matroska`, `webm`,
    /// `mpegts`, `avi`, `ivf`, `annexb`, `obu`; for audio-only files ffprobe's names: `wav`,
    /// `flac`, `ogg`, `mp3`, `aac`.
    pub fn name(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Matroska => "matroska",
            Container::WebM => "webm",
            Container::MpegTs => "mpegts",
            Container::Ivf => "ivf",
            Container::Avi => "avi",
            Container::AnnexB => "annexb",
            Container::Obu => "obu",
            Container::Audio(AudioContainer::Wav) => "wav",
            Container::Audio(AudioContainer::Flac) => "flac",
            Container::Audio(AudioContainer::Ogg) => "ogg",
            Container::Audio(AudioContainer::Mp3) => "mp3",
            Container::Audio(AudioContainer::Adts) => "aac",
        }
    }

    /// Read errors a reader may go on past in this container: its demuxer reads on after
    /// damage (MPEG-TS resynchronises on the next packet, a raw stream skips an access unit
    /// it cannot read, such as slices before the first parameter sets), as a decoder goes
    /// on past damage; capped, so that a file of nothing but damage is not read forever.
    /// 0 for the others, whose demuxers stop at their first error.
    pub fn damage_skips(self) -> u32 {
        match self {
            Container::MpegTs | Container::AnnexB => 100_000,
            Container::Mp4
            | Container::Matroska
            | Container::WebM
            | Container::Ivf
            | Container::Avi
            | Container::Obu
            | Container::Audio(_) => 0,
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// Pictures.
    Video,
    /// Sound.
    Audio,
    /// Subtitles or captions.
    Subtitle,
    /// Anything else (timed metadata, hint tracks, private data).
    Data,
}

impl TrackKind {
    /// `video`, `audio`, `subtitle` or `data`.
    pub fn name(self) -> &'static str {
        match self {
            TrackKind::Video => "video",
            TrackKind::Audio => "audio",
            TrackKind::Subtitle => "subtitle",
            TrackKind::Data => "data",
        }
    }
}

/// Audio codecs the containers name. Audio is never decoded by this crate; it is
/// copied from one container to another as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// AAC (any profile): raw frames with an AudioSpecificConfig (MPEG-TS's ADTS headers
    /// are stripped by its demuxer and turned into the config).
    Aac,
    /// Opus.
    Opus,
    /// MPEG-1/2 Layer III.
    Mp3,
    /// MPEG-1/2 Layer I or II.
    Mp2,
    /// Dolby Digital.
    Ac3,
    /// Dolby Digital Plus.
    Eac3,
    /// FLAC.
    Flac,
    /// Vorbis.
    Vorbis,
    /// Uncompressed PCM (any layout).
    Pcm,
}

impl AudioCodec {
    /// The short lower-case name (`aac`, `opus`, …), as ffprobe says it.
    pub fn name(self) -> &'static str {
        match self {
            AudioCodec::Aac => "aac",
            AudioCodec::Opus => "opus",
            AudioCodec::Mp3 => "mp3",
            AudioCodec::Mp2 => "mp2",
            AudioCodec::Ac3 => "ac3",
            AudioCodec::Eac3 => "eac3",
            AudioCodec::Flac => "flac",
            AudioCodec::Vorbis => "vorbis",
            AudioCodec::Pcm => "pcm",
        }
    }
}

/// The codec of a track.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrackCodec {
    /// A video codec the decoders know.
    Video(Codec),
    /// An audio codec (copied, never decoded).
    Audio(AudioCodec),
    /// Anything else, by the container's own name for it (an MP4 sample entry's
    /// four-character code, a Matroska CodecID, `ts-0xNN` for an MPEG-TS stream type).
    Other(String),
}

impl TrackCodec {
    /// The short name: `h264`, `hevc`, `av1`, `vp9`, `aac`, `opus`, … or the
    /// container's own name for codecs this crate does not know.
    pub fn name(&self) -> &str {
        match self {
            TrackCodec::Video(c) => c.name(),
            TrackCodec::Audio(a) => a.name(),
            TrackCodec::Other(s) => s,
        }
    }

    /// The video codec, if this is one the decoders know.
    pub fn video(&self) -> Option<Codec> {
        match self {
            TrackCodec::Video(c) => Some(*c),
            _ => None,
        }
    }
}

impl fmt::Display for TrackCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The out-of-band codec configuration a container keeps for a track.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CodecConfig {
    /// None given (MPEG-TS, raw streams and IVF carry their configuration in band).
    #[default]
    None,
    /// H.264 `avcC` or HEVC `hvcC`, parsed; its packets are length-prefixed.
    Nal(DecoderConfigRecord),
    /// AV1 `av1C`: the record's bytes (4 bytes of flags, then configuration OBUs).
    Av1C(Vec<u8>),
    /// VP8/VP9 `vpcC`: the record's bytes (profile, level, bit depth, colour).
    VpcC(Vec<u8>),
    /// AAC AudioSpecificConfig bytes (MP4 `esds` decoder-specific info, Matroska
    /// CodecPrivate of `A_AAC`).
    AudioSpecificConfig(Vec<u8>),
    /// Opus identification header (`OpusHead`, as Matroska's CodecPrivate holds it;
    /// MP4's `dOps` box is converted to this form).
    OpusHead(Vec<u8>),
    /// Other bytes the container gives (Matroska CodecPrivate of another codec).
    Raw(Vec<u8>),
    /// How a PCM track's samples are stored.
    Pcm(super::pcm::PcmFormat),
}

impl CodecConfig {
    /// The `avcC`/`hvcC` record, for H.264 and HEVC tracks that have one.
    pub fn record(&self) -> Option<&DecoderConfigRecord> {
        match self {
            CodecConfig::Nal(r) => Some(r),
            _ => None,
        }
    }
}

/// Facts of a video track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VideoInfo {
    /// Width in pixels as the container states it (display size before rotation).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Degrees the picture is turned counter-clockwise for display: 0, 90, 180 or 270
    /// (the MP4 display matrix's rotation as ffmpeg's `av_display_rotation_get` reads it and
    /// torchcodec reports it; ffmpeg's autorotate turns frames by it; mirrored matrices
    /// give their rotation only; Matroska's projection pose is not read).
    pub rotation: u16,
    /// Sample (pixel) aspect ratio, when the container states one.
    pub sample_aspect: Option<Rational>,
}

impl VideoInfo {
    /// The largest picture an AV1 sequence header allows, for streams that state no size
    /// of their own (raw OBU streams, MPEG-TS).
    pub(crate) fn of_av1(h: &video_hw_bitstream::av1::SequenceHeader) -> Self {
        VideoInfo { width: h.max_width, height: h.max_height, rotation: 0, sample_aspect: None }
    }
}

/// Facts of an audio track, as ffprobe reports them (`sample_rate`, `channels`,
/// `channel_layout`): from the codec's configuration where the container keeps one (AAC's
/// AudioSpecificConfig, Opus's header, Vorbis's identification header) over the
/// container's own fields, which can be wrong (an MP4 sample entry says 2 channels for
/// mono AAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AudioInfo {
    /// Samples per second the decoder outputs (HE-AAC: after SBR; Opus: 48000).
    pub sample_rate: u32,
    /// Channels the decoder outputs.
    pub channels: u16,
    /// Their layout, as FFmpeg's decoder gives it; where the stream says no more than
    /// the count, the codec's usual order for that count
    /// ([`ChannelLayout::for_codec`](super::audio::ChannelLayout::for_codec)).
    pub layout: super::audio::ChannelLayout,
    /// Gapless information from an MP4's `iTunSMPB` metadata (Apple's encoders write
    /// it): samples of priming to drop at the start and of padding at the end. `None`
    /// when the file has none (ffmpeg writes an edit list instead, which
    /// [`Track::window`] and the packet timestamps already apply).
    pub gapless: Option<super::audio::ItunSmpb>,
    /// The container's CodecDelay in nanoseconds (Matroska; 0 where it states none):
    /// FFmpeg's demuxer moves the track's timestamps back by it (rounded to the track's
    /// time base), so ffprobe's start time of an Opus track in Matroska is that much
    /// before its first block, while its first sample shown is at the block's time.
    pub codec_delay_ns: u64,
}

impl AudioInfo {
    /// Facts with the codec's usual layout for `channels` and no gapless information.
    pub fn new(codec: AudioCodec, sample_rate: u32, channels: u16) -> AudioInfo {
        AudioInfo {
            sample_rate,
            channels,
            layout: super::audio::ChannelLayout::for_codec(codec, channels),
            gapless: None,
            codec_delay_ns: 0,
        }
    }
}

/// One track of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Position of the track in [`Demuxer::tracks`](super::Demuxer::tracks), the
    /// number packets carry in [`MediaPacket::track`].
    pub index: usize,
    /// The container's own number for it: MP4 `track_ID`, Matroska `TrackNumber`,
    /// MPEG-TS PID; 0 for IVF and raw streams.
    pub id: u64,
    /// Video, audio, subtitle or data.
    pub kind: TrackKind,
    /// The codec.
    pub codec: TrackCodec,
    /// Out-of-band configuration.
    pub config: CodecConfig,
    /// Unit of every timestamp of this track's packets.
    pub time_base: Rational,
    /// Duration in `time_base` units, when the container states or implies one.
    pub duration: Option<i64>,
    /// Packets the container's tables list, when it has tables (MP4 sample count,
    /// IVF header); `None` where only a scan can tell (Matroska, MPEG-TS, raw).
    pub packets: Option<u64>,
    /// Average frame rate (frames per second), from the tables where they give it
    /// (MP4: samples over the media duration; Matroska `DefaultDuration`; IVF header;
    /// raw H.264/HEVC: VUI timing).
    pub frame_rate: Option<Rational>,
    /// Video facts (video tracks only).
    pub video: Option<VideoInfo>,
    /// Audio facts (audio tracks only).
    pub audio: Option<AudioInfo>,
    /// ISO 639-2 language code (`eng`, `fra`) or BCP 47 tag, when stated and not
    /// "undetermined".
    pub language: Option<String>,
    /// Presentation window: frames whose timestamp is outside `[start, end)` are
    /// decoded (others may need them) but not shown. Set by MP4 edit lists that skip
    /// pre-roll or cut the end; the packets' timestamps already have the edit applied.
    pub window: Option<(i64, Option<i64>)>,
    /// The container marks the track as one to play by default (MP4's `tkhd` enabled
    /// flag, Matroska's `FlagDefault`, which is set where absent): ffmpeg's `default`
    /// disposition, which its choice of a default stream weighs first
    /// ([`Demuxer::audio_track`](super::Demuxer::audio_track)). True where the container has
    /// no such mark (MPEG-TS, AVI, raw streams, audio files): every track stands equal.
    pub is_default: bool,
}

impl Track {
    /// A video track to give a [`Muxer`](super::mux::Muxer) for an encoder's output: no
    /// configuration (H.264/HEVC packets are then Annex-B access units and the muxer
    /// builds the `avcC`/`hvcC` from their parameter sets; AV1's `av1C` and VP9's `vpcC`
    /// come from the stream too). Set [`frame_rate`](Self::frame_rate) when packets
    /// come without timestamps, [`language`](Self::language) and the rest as needed.
    pub fn video(index: usize, codec: Codec, time_base: Rational, width: u32, height: u32) -> Track {
        Track {
            index,
            id: 0,
            kind: TrackKind::Video,
            codec: TrackCodec::Video(codec),
            config: CodecConfig::None,
            time_base,
            duration: None,
            packets: None,
            frame_rate: None,
            video: Some(VideoInfo { width, height, rotation: 0, sample_aspect: None }),
            audio: None,
            language: None,
            window: None,
            is_default: true,
        }
    }

    /// An audio track to give a [`Muxer`](super::mux::Muxer): AAC needs
    /// [`CodecConfig::AudioSpecificConfig`], Opus [`CodecConfig::OpusHead`].
    pub fn audio(
        index: usize,
        codec: AudioCodec,
        config: CodecConfig,
        time_base: Rational,
        sample_rate: u32,
        channels: u16,
    ) -> Track {
        // What the configuration says beats the arguments (as the demuxers report).
        let audio = super::audio::facts(&TrackCodec::Audio(codec), &config, sample_rate, channels);
        Track {
            index,
            id: 0,
            kind: TrackKind::Audio,
            codec: TrackCodec::Audio(codec),
            config,
            time_base,
            duration: None,
            packets: None,
            frame_rate: None,
            video: None,
            audio: Some(audio),
            language: None,
            window: None,
            is_default: true,
        }
    }

    /// Seconds of a timestamp in this track's time base.
    pub fn seconds(&self, ts: i64) -> f64 {
        // (ts * num) / den, as FFmpeg's tools and torchcodec compute it: one rounding where
        // `ts * num` is exact, so 1400 in 1/1000 is 1.4, not 1400 * 0.001 =
        // 1.4000000000000001 (which would put a frame starting at 1.4 s after 1.4 s).
        let Rational { num, den } = self.time_base;
        if den == 0 { 0.0 } else { ts as f64 * num as f64 / den as f64 }
    }

    /// The bytes the FFmpeg engine's decoder takes as `extradata` for a codec this crate
    /// does not parse ([`Codec::is_parsed`]): the container's configuration as it stores
    /// it ([`CodecConfig::Raw`]: MPEG-4 Part 2's DecoderSpecificInfo, a Matroska
    /// CodecPrivate). `None` for the parsed codecs and where the container has none
    /// (MPEG-2 and MPEG-4 in MPEG-TS carry their headers in band).
    pub fn extradata(&self) -> Option<Vec<u8>> {
        match (&self.config, self.codec.video()) {
            (CodecConfig::Raw(bytes), Some(c)) if !c.is_parsed() && !bytes.is_empty() => Some(bytes.clone()),
            _ => None,
        }
    }

    /// True when a frame with timestamp `pts` is shown (inside [`window`](Self::window)).
    pub fn shows(&self, pts: i64) -> bool {
        match self.window {
            None => true,
            Some((start, end)) => pts >= start && end.is_none_or(|e| pts < e),
        }
    }
}

/// One coded packet of a track, as the container stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPacket {
    /// The track it belongs to (an index into the demuxer's tracks).
    pub track: usize,
    /// The bytes: a length-prefixed H.264/HEVC sample (MP4, Matroska), an Annex-B access
    /// unit (MPEG-TS, raw), an AV1 temporal unit, a VP9 frame, an audio frame (AAC
    /// without ADTS headers in every container: MPEG-TS's are stripped, so packets copy
    /// from one container to another as they are).
    pub data: Vec<u8>,
    /// Presentation timestamp in the track's time base (edit lists applied; MPEG-TS
    /// 33-bit wraps unwrapped). `None` where the container has none (raw streams).
    pub pts: Option<i64>,
    /// Decode timestamp (differs from `pts` with B-frames).
    pub dts: Option<i64>,
    /// Duration, where the container states or implies it.
    pub duration: Option<i64>,
    /// A random access point: decoding may start here.
    pub keyframe: bool,
    /// Byte offset in the file where the packet (its first byte of data, or the
    /// container unit that carries it) lies.
    pub pos: u64,
    /// Where a demuxer seeks to read this packet again ([`PacketEntry::seek`]).
    pub(crate) seek: u64,
    /// Decoded audio to drop from the packet's end, in nanoseconds (Matroska's
    /// DiscardPadding: the encoder's padding after the last sample); 0 for none.
    pub(crate) discard_padding_ns: i64,
}

impl MediaPacket {
    /// A packet made outside a demuxer (an encoder's output, for a
    /// [`Muxer`](super::mux::Muxer)): no duration, no file position.
    pub fn new(track: usize, data: Vec<u8>, pts: Option<i64>, dts: Option<i64>, keyframe: bool) -> Self {
        MediaPacket { track, data, pts, dts, duration: None, keyframe, pos: 0, seek: 0, discard_padding_ns: 0 }
    }

    /// Decoded audio to drop from the packet's end, in nanoseconds: Matroska's
    /// DiscardPadding (the encoder's padding after the last sample), an audio file's end
    /// trim; 0 for none. An audio decoder drops it (to the nearest sample).
    pub fn discard_padding_ns(&self) -> i64 {
        self.discard_padding_ns
    }

    /// The same packet with `duration`.
    pub fn with_duration(mut self, duration: Option<i64>) -> Self {
        self.duration = duration;
        self
    }

    /// The packet's entry, for [`Demuxer::seek_to`](super::Demuxer::seek_to).
    pub fn entry(&self) -> PacketEntry {
        PacketEntry {
            pts: self.pts,
            dts: self.dts,
            duration: self.duration,
            keyframe: self.keyframe,
            pos: self.pos,
            size: self.data.len() as u32,
            seek: self.seek,
        }
    }
}

/// One packet of a track's table in decode order: where it is and its timestamps,
/// without its bytes ([`Demuxer::packet_table`](super::Demuxer::packet_table)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketEntry {
    /// Presentation timestamp (see [`MediaPacket::pts`]).
    pub pts: Option<i64>,
    /// Decode timestamp.
    pub dts: Option<i64>,
    /// Duration.
    pub duration: Option<i64>,
    /// A random access point.
    pub keyframe: bool,
    /// Byte offset in the file (see [`MediaPacket::pos`]).
    pub pos: u64,
    /// Size of the packet's data.
    pub size: u32,
    /// Container-private: what the demuxer needs to read the packet again (MP4: the
    /// sample's number in its track; Matroska: the offset of the cluster holding it;
    /// MPEG-TS: the offset of the transport packet where its PES starts).
    pub(crate) seek: u64,
}
