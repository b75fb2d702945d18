//! Audio decoding through the loaded libavcodec: every audio codec this FFmpeg has (AAC,
//! MP3, MP2, AC-3, E-AC-3, FLAC, Vorbis, Opus, PCM of any storage).
//!
//! The decoder is the one the ffmpeg tool picks for the codec (`avcodec_find_decoder` of
//! its id), given the track's configuration as FFmpeg's demuxers give it (`extradata`,
//! `sample_rate`, `ch_layout`). Its samples are converted to planar `f32` here, as
//! libswresample converts them for `ffmpeg -f f32le` (float copied, double rounded, integers
//! times an exact power of two), so the output equals the tool's bit for bit without
//! loading libswresample.
//!
//! Each packet is sent and every frame it completes taken at once; a packet libavcodec
//! refuses is an error for that packet only, and the decoder goes on with the next.

use super::common::{self, AvError};
use super::sys::audio::{AudioFields, FrameInfo, SampleFormat, SampleKind};
use super::sys::codec::{Codec as AvCodec, CodecContext, Packet};
use super::sys::frame::Frame;
use super::sys::{self, Ffmpeg};
use crate::backend::audio::{AudioEngine, AudioParams, Planar, int_to_f32, symphonia};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::media::PcmFormat;
use crate::media::{AudioCodec, CodecConfig};

/// The FFmpeg audio engine: one libavcodec decoder opened for one track.
pub(crate) struct FfmpegAudioEngine {
    ctx: CodecContext,
    frame: Frame,
    fields: AudioFields,
    /// The decoder's name ("aac", "mp3float", "pcm_s16le", …).
    name: String,
    ff: &'static Ffmpeg,
    rate: u32,
    channels: u16,
    /// The packet each one's bytes are sent in (one `AVPacket` for the track, not one
    /// allocated and freed per packet).
    packet: Packet,
}

impl FfmpegAudioEngine {
    /// Opens the decoder the ffmpeg tool would use for `params`.
    pub(crate) fn open(params: &AudioParams) -> Result<Self> {
        let what = format!("{} audio decode with ffmpeg", params.codec.name());
        let ff = common::ffmpeg(what.clone())?;
        let fields = AudioFields::of(ff.layout).map_err(|why| Error::unsupported(&what, why))?;
        let codec = find_decoder(ff, params.codec, params.pcm).map_err(|why| Error::unsupported(&what, why))?;
        let name = codec.name();
        let mut ctx = CodecContext::new(codec)
            .map_err(|e| common::backend_error(Engine::Ffmpeg, "allocating an audio decoder", e))?;
        fields.set_rate_and_channels(&mut ctx, params.sample_rate, params.channels);
        if let Some(extra) = extradata(params) {
            ctx.set_extradata(&extra)
                .map_err(|e| common::backend_error(Engine::Ffmpeg, &format!("giving {name} its extradata"), e))?;
        }
        // Every engine gives Opus's pre-skip and the session drops it (so that a seek can
        // tell which samples are priming): libavcodec would drop it itself, which
        // `skip_manual` leaves to the caller. Other codecs keep libavcodec's own skipping:
        // from FFmpeg 8 on, the Vorbis decoder asks to skip its first frame's samples
        // rather than withholding the frame as 5.1 does (128 samples more without it).
        if params.codec == AudioCodec::Opus {
            ctx.set_option("flags2", "+skip_manual")
                .map_err(|e| common::backend_error(Engine::Ffmpeg, "setting flags2 +skip_manual", e))?;
        }
        ctx.open().map_err(|e| common::av_error(Engine::Ffmpeg, &format!("opening libavcodec decoder {name}"), e))?;
        let frame = Frame::empty(ff).map_err(|e| common::backend_error(Engine::Ffmpeg, "allocating a frame", e))?;
        let packet = Packet::empty(ff).map_err(|e| common::backend_error(Engine::Ffmpeg, "allocating a packet", e))?;
        // What the decoder says after opening (AAC, Opus, Vorbis and FLAC read it from
        // the extradata); what the container says where it is silent until the first frame.
        let (rate, channels) = fields.rate_and_channels(&ctx);
        let rate = if rate > 0 { rate } else { params.sample_rate };
        let channels = if channels > 0 { channels } else { params.channels };
        Ok(FfmpegAudioEngine { ctx, frame, fields, name, ff, rate, channels, packet })
    }

    /// Turns a libavcodec failure on a packet into a typed error: damaged input is a
    /// bitstream error (the session drops the packet and goes on), anything else a backend
    /// error naming the code and FFmpeg's text for it.
    fn error(&self, e: AvError, bytes: usize) -> Error {
        match e {
            AvError::INVALIDDATA => Error::invalid_bitstream(
                0,
                format!("ffmpeg {}: packet of {bytes} bytes: {e} (AVERROR_INVALIDDATA)", self.name),
            ),
            other => common::backend_error(
                Engine::Ffmpeg,
                &format!("{} decoding a packet of {bytes} bytes", self.name),
                other,
            ),
        }
    }

    /// Sends the packet in `self.packet` (`filled` false: the end of the stream), taking
    /// frames first whenever the decoder asks for it.
    fn send(&mut self, filled: bool, bytes: usize, out: &mut Planar) -> Result<()> {
        for _ in 0..3 {
            match self.ctx.send_packet(filled.then_some(&self.packet)) {
                Ok(()) => return self.receive_all(bytes, out),
                Err(AvError::EAGAIN) => self.receive_all(bytes, out)?,
                // Already drained: nothing more comes out.
                Err(AvError::EOF) if !filled => return Ok(()),
                Err(e) => {
                    let err = self.error(e, bytes);
                    // Frames finished before the failure are still good.
                    let _ = self.receive_all(bytes, out);
                    return Err(err);
                }
            }
        }
        Err(Error::backend("ffmpeg", "AVERROR(EAGAIN)", format!("{} takes no input although drained", self.name)))
    }

    /// Takes every frame the decoder has ready, appending its samples to `out`.
    fn receive_all(&mut self, bytes: usize, out: &mut Planar) -> Result<()> {
        loop {
            match self.ctx.receive_frame(&mut self.frame) {
                Ok(()) => {
                    let appended = self.append_frame(out);
                    self.frame.unref();
                    appended?;
                }
                Err(AvError::EAGAIN | AvError::EOF) => return Ok(()),
                Err(e) => return Err(self.error(e, bytes)),
            }
        }
    }

    /// Converts the current frame's samples and appends them to `out`.
    fn append_frame(&mut self, out: &mut Planar) -> Result<()> {
        let info = self.fields.frame_info(&self.frame);
        let fmt = SampleFormat::from_av(info.format).ok_or_else(|| {
            Error::backend(
                "ffmpeg",
                "sample format",
                format!("{} gave samples of format {} (not one this engine converts)", self.name, info.format),
            )
        })?;
        if info.channels == 0 || info.channels > usize::from(u16::MAX) {
            return Err(Error::backend(
                "ffmpeg",
                "channels",
                format!("{} gave a frame of {} channels", self.name, info.channels),
            ));
        }
        if !out.is_empty() && out.channels.len() != info.channels {
            return Err(Error::unsupported(
                format!("ffmpeg {} audio", self.name),
                format!("the channel count changed mid-stream ({} to {})", out.channels.len(), info.channels),
            ));
        }
        out.ensure_channels(info.channels);
        append_samples(&self.fields, &self.frame, &info, fmt, out);
        if info.rate > 0 {
            self.rate = info.rate;
        }
        self.channels = info.channels as u16;
        Ok(())
    }
}

/// Appends the samples of `frame` (described by `info`, of format `fmt`) to `out`'s
/// channels, converted as libswresample converts them to `f32`.
fn append_samples(fields: &AudioFields, frame: &Frame, info: &FrameInfo, fmt: SampleFormat, out: &mut Planar) {
    let ch = info.channels;
    if fmt.planar {
        for (c, dst) in out.channels.iter_mut().enumerate().take(ch) {
            convert(fields.plane(frame, info, c), fmt.kind, 1, 0, dst);
        }
    } else {
        let interleaved = fields.plane(frame, info, 0);
        for (c, dst) in out.channels.iter_mut().enumerate().take(ch) {
            convert(interleaved, fmt.kind, ch, c, dst);
        }
    }
}

/// Appends every `step`-th sample of `bytes` from sample `first` on (native-endian
/// samples of kind `kind`) to `dst` as `f32`, as libswresample's `audioconvert.c` does:
/// float copied, double rounded to float, integers times the exact `1 / 2^(bits-1)`
/// (8-bit ones less their 128 zero first).
fn convert(bytes: &[u8], kind: SampleKind, step: usize, first: usize, dst: &mut Vec<f32>) {
    fn each<const N: usize>(bytes: &[u8], step: usize, first: usize, dst: &mut Vec<f32>, f: impl Fn([u8; N]) -> f32) {
        let sample = |s: &[u8]| {
            let mut a = [0u8; N];
            a.copy_from_slice(s);
            f(a)
        };
        if step == 1 {
            // Planar (every decoder of float planar output, AAC and Opus among them): a plain
            // run the compiler vectorises, which `skip`/`step_by` keep it from.
            dst.extend(bytes.get(first * N..).unwrap_or_default().chunks_exact(N).map(sample));
        } else {
            dst.extend(bytes.chunks_exact(N).skip(first).step_by(step).map(sample));
        }
    }
    match kind {
        SampleKind::U8 => each(bytes, step, first, dst, |[b]| int_to_f32(i32::from(b) - 128, 8)),
        SampleKind::S16 => each(bytes, step, first, dst, |b| int_to_f32(i32::from(i16::from_ne_bytes(b)), 16)),
        SampleKind::S32 => each(bytes, step, first, dst, |b| int_to_f32(i32::from_ne_bytes(b), 32)),
        // libswresample: `(float)x * (1.0f / (UINT64_C(1) << 63))`.
        SampleKind::S64 => {
            each(bytes, step, first, dst, |b| i64::from_ne_bytes(b) as f32 * (1.0 / (1u64 << 63) as f32))
        }
        SampleKind::F32 => each(bytes, step, first, dst, f32::from_ne_bytes),
        SampleKind::F64 => each(bytes, step, first, dst, |b| f64::from_ne_bytes(b) as f32),
    }
}

impl AudioEngine for FfmpegAudioEngine {
    fn engine(&self) -> Engine {
        Engine::Ffmpeg
    }

    fn describe(&self) -> String {
        format!("ffmpeg {} ({})", self.name, self.ff.libavcodec_version())
    }

    fn decode(&mut self, packet: &[u8], out: &mut Planar) -> Result<()> {
        if packet.is_empty() {
            // An empty packet would mean the end of the stream to libavcodec.
            return Ok(());
        }
        self.packet.fill(packet).map_err(|e| common::backend_error(Engine::Ffmpeg, "allocating a packet", e))?;
        self.send(true, packet.len(), out)
    }

    fn flush(&mut self, out: &mut Planar) -> Result<()> {
        let drained = self.send(false, 0, out);
        // A drained decoder takes no more packets until flushed: ready it for a later
        // seek's packets.
        self.ctx.flush();
        drained
    }

    fn reset(&mut self) {
        self.ctx.flush();
    }

    fn output(&self) -> (u32, u16) {
        (self.rate, self.channels)
    }
}

/// Whether FFmpeg is loaded, its major's audio fields are measured, and it has a decoder
/// for `codec` (PCM: of storage `pcm`).
pub(crate) fn ffmpeg_has_audio_decoder(codec: AudioCodec, pcm: Option<PcmFormat>) -> bool {
    sys::get().is_ok_and(|ff| AudioFields::of(ff.layout).is_ok() && find_decoder(ff, codec, pcm).is_ok())
}

/// The decoder for `codec` the ffmpeg tool would pick: the codec's id from the decoder of
/// the codec's own name, then `avcodec_find_decoder` of that id (`mp3float` before `mp3`,
/// the native `opus` before `libopus`, as FFmpeg registers them). `Err` says why none.
fn find_decoder(
    ff: &'static Ffmpeg,
    codec: AudioCodec,
    pcm: Option<PcmFormat>,
) -> std::result::Result<AvCodec, String> {
    let name = codec_name(codec, pcm)?;
    let named = AvCodec::decoder(ff, &name)
        .ok_or_else(|| format!("this FFmpeg ({}) has no {name} decoder", ff.libavcodec_version()))?;
    Ok(named.id().and_then(|id| AvCodec::default_decoder(ff, id)).unwrap_or(named))
}

/// FFmpeg's codec name for `codec` ("pcm_s16le" and so on for PCM).
fn codec_name(codec: AudioCodec, pcm: Option<PcmFormat>) -> std::result::Result<String, String> {
    if codec != AudioCodec::Pcm {
        return Ok(codec.name().to_string());
    }
    let f = pcm.ok_or("the track does not say how its PCM is stored")?;
    let kind = match (f.float, f.signed) {
        (true, _) => 'f',
        (false, true) => 's',
        (false, false) => 'u',
    };
    let valid = if f.float { matches!(f.bits, 32 | 64) } else { matches!(f.bits, 8 | 16 | 24 | 32) };
    if !valid {
        return Err(format!("{}-bit {} PCM", f.bits, if f.float { "float" } else { "integer" }));
    }
    // 8-bit samples have no byte order.
    let order = match (f.bits, f.big_endian) {
        (8, _) => "",
        (_, true) => "be",
        (_, false) => "le",
    };
    Ok(format!("pcm_{kind}{}{order}", f.bits))
}

/// The decoder's `extradata`, as FFmpeg's demuxers give it: AAC's AudioSpecificConfig (one
/// built from the container's facts where MPEG-TS gives none), the `OpusHead`, Vorbis'
/// Xiph-laced headers as Matroska's CodecPrivate holds them, FLAC's 34-byte STREAMINFO.
fn extradata(params: &AudioParams) -> Option<Vec<u8>> {
    let bytes = match &params.config {
        CodecConfig::AudioSpecificConfig(b) | CodecConfig::OpusHead(b) | CodecConfig::Raw(b) => b.as_slice(),
        _ => &[],
    };
    match params.codec {
        AudioCodec::Aac if bytes.is_empty() => Some(symphonia::aac_lc_config(params.sample_rate, params.channels)),
        // FFmpeg's flac decoder takes the bare STREAMINFO, or `fLaC` and its block header
        // before it, but reads MP4's block header without `fLaC` as STREAMINFO: give it
        // the 34 bytes alone.
        AudioCodec::Flac if !bytes.is_empty() => Some(flac_streaminfo(bytes).to_vec()),
        AudioCodec::Aac | AudioCodec::Opus | AudioCodec::Vorbis if !bytes.is_empty() => Some(bytes.to_vec()),
        _ => None,
    }
}

/// FLAC's STREAMINFO block out of `fLaC` + block header + STREAMINFO (Matroska), block
/// header + STREAMINFO (MP4's `dfLa`), or STREAMINFO alone.
fn flac_streaminfo(b: &[u8]) -> &[u8] {
    /// STREAMINFO's size.
    const SIZE: usize = 34;
    let b = b.strip_prefix(b"fLaC").unwrap_or(b);
    // A metadata block header of type 0 (STREAMINFO) and length 34.
    if b.len() >= SIZE + 4 && b[0] & 0x7f == 0 && b[1..4] == [0, 0, SIZE as u8] { &b[4..4 + SIZE] } else { b }
}

#[cfg(test)]
#[path = "audio_tests.rs"]
mod clip_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_storage_names_ffmpegs_decoder() {
        let f = |bits, float, big_endian, signed| Some(PcmFormat { bits, float, big_endian, signed });
        assert_eq!(codec_name(AudioCodec::Pcm, f(16, false, false, true)).unwrap(), "pcm_s16le");
        assert_eq!(codec_name(AudioCodec::Pcm, f(24, false, true, true)).unwrap(), "pcm_s24be");
        assert_eq!(codec_name(AudioCodec::Pcm, f(8, false, false, false)).unwrap(), "pcm_u8");
        assert_eq!(codec_name(AudioCodec::Pcm, f(64, true, false, true)).unwrap(), "pcm_f64le");
        assert_eq!(codec_name(AudioCodec::Pcm, f(32, true, true, true)).unwrap(), "pcm_f32be");
        assert!(codec_name(AudioCodec::Pcm, f(12, false, false, true)).is_err());
        assert!(codec_name(AudioCodec::Pcm, None).is_err());
        assert_eq!(codec_name(AudioCodec::Eac3, None).unwrap(), "eac3");
    }

    #[test]
    fn flac_extradata_is_the_bare_streaminfo() {
        let info: Vec<u8> = (0..34).collect();
        let mut mp4 = vec![0x80, 0, 0, 34];
        mp4.extend(&info);
        let mut mkv = b"fLaC".to_vec();
        mkv.extend(&mp4);
        assert_eq!(flac_streaminfo(&mp4), &info[..]);
        assert_eq!(flac_streaminfo(&mkv), &info[..]);
        assert_eq!(flac_streaminfo(&info), &info[..]);
    }

    #[test]
    fn integer_samples_convert_as_libswresample() {
        let mut out = Vec::new();
        convert(&[0, 128, 255], SampleKind::U8, 1, 0, &mut out);
        assert_eq!(out, [-1.0, 0.0, 127.0 / 128.0]);
        out.clear();
        let s16: Vec<u8> = [i16::MIN, 1, i16::MAX, 7].iter().flat_map(|v| v.to_ne_bytes()).collect();
        // Interleaved stereo: the second channel.
        convert(&s16, SampleKind::S16, 2, 1, &mut out);
        assert_eq!(out, [1.0 / 32768.0, 7.0 / 32768.0]);
        out.clear();
        let s32: Vec<u8> = [i32::MIN, i32::MAX].iter().flat_map(|v| v.to_ne_bytes()).collect();
        convert(&s32, SampleKind::S32, 1, 0, &mut out);
        // i32::MAX rounds to 2^31 as a float first, as the C conversion does.
        assert_eq!(out, [-1.0, 1.0]);
        out.clear();
        convert(&0.1f64.to_ne_bytes(), SampleKind::F64, 1, 0, &mut out);
        assert_eq!(out, [0.1f32]);
    }

    /// Every codec this FFmpeg has opens; with none loaded the test checks nothing.
    #[test]
    fn decoders_open_for_each_codec() {
        let Some(ff) = super::super::test_ffmpeg() else { return };
        if AudioFields::of(ff.layout).is_err() {
            let params = AudioParams {
                codec: AudioCodec::Mp3,
                config: CodecConfig::None,
                sample_rate: 44100,
                channels: 2,
                pcm: None,
            };
            let e = FfmpegAudioEngine::open(&params).err().expect("refused without measured fields");
            assert!(matches!(e, Error::Unsupported { .. }), "{e}");
            return;
        }
        let pcm = PcmFormat { bits: 16, float: false, big_endian: false, signed: true };
        for codec in [
            AudioCodec::Aac,
            AudioCodec::Mp3,
            AudioCodec::Mp2,
            AudioCodec::Ac3,
            AudioCodec::Eac3,
            AudioCodec::Flac,
            AudioCodec::Opus,
            AudioCodec::Pcm,
        ] {
            let pcm = (codec == AudioCodec::Pcm).then_some(pcm);
            if !ffmpeg_has_audio_decoder(codec, pcm) {
                eprintln!("note: this FFmpeg has no {} decoder", codec.name());
                continue;
            }
            let params = AudioParams { codec, config: CodecConfig::None, sample_rate: 48000, channels: 2, pcm };
            let engine = FfmpegAudioEngine::open(&params).unwrap_or_else(|e| panic!("{}: {e}", codec.name()));
            assert!(engine.describe().starts_with("ffmpeg "), "{}", engine.describe());
            assert_eq!(engine.output(), (48000, 2), "{}", codec.name());
        }
    }

    /// A packet of garbage is an error for that packet, and the decoder goes on.
    #[test]
    fn damaged_packets_are_errors_and_decoding_goes_on() {
        let Some(ff) = super::super::test_ffmpeg() else { return };
        if AudioFields::of(ff.layout).is_err() || !ffmpeg_has_audio_decoder(AudioCodec::Aac, None) {
            return;
        }
        let params = AudioParams {
            codec: AudioCodec::Aac,
            config: CodecConfig::None,
            sample_rate: 48000,
            channels: 2,
            pcm: None,
        };
        let mut engine = FfmpegAudioEngine::open(&params).unwrap();
        let mut out = Planar::default();
        let e = engine.decode(&[0xff; 64], &mut out).expect_err("garbage refused");
        assert!(matches!(e, Error::InvalidBitstream { .. } | Error::Backend { .. }), "{e}");
        assert!(e.to_string().contains("aac"), "{e}");
        // Still usable: the end of the stream drains cleanly.
        assert!(engine.flush(&mut out).is_ok());
    }
}
