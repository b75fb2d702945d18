//! The arguments of `decode`, and `--sessions`, which `transcode` takes too: what the
//! decode command's routes (and the transcode command's) share, below all of them.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use crate::options::common::EngineOpts;
use crate::options::transform::TransformOpts;
use crate::report::summary::Summary;
use video_hw::DecoderConfig;
use video_hw::pixels::pix_fmt::OutFormat;

/// Arguments of `decode` (read by `commands::decode` and its routes).
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Input, recognised from its content: a container (MP4/MOV, fragmented MP4, Matroska,
    /// WebM, MPEG-TS, M2TS, AVI, IVF), a raw H.264/HEVC Annex-B stream (the codec from the name,
    /// .h264/.264/.h265/.hevc, else from the content), a raw AV1 OBU stream, or an audio file
    /// (WAV, FLAC, Ogg, MP3, AAC: written as audio). Video: H.264, HEVC, AV1, VP9; with FFmpeg
    /// also VP8, MPEG-2, MPEG-4 Part 2, MJPEG and ProRes. `-` reads stdin: Annex-B and IVF as
    /// they come, another container after spooling it to a temporary file (audio needs a file).
    pub(crate) input: PathBuf,
    /// Output: raw frames, tightly packed, one after the other (or ffmpeg's framemd5 lines
    /// with --framemd5; audio with -f or a .wav name); `-` for stdout.
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: PathBuf,
    /// Pixel format of the output, by ffmpeg's names and with ffmpeg's meaning. Default: the
    /// stream's own, as ffmpeg's (yuv420p for an 8-bit stream, yuv420p10le for a 10-bit one;
    /// the engines give 4:2:0 only, so a 4:2:2 or 4:4:4 stream comes out converted to 4:2:0).
    /// yuv420p and nv12 are 8-bit (a 10-bit stream is rounded to 8 bits), yuv420p10le and
    /// p010le 10-bit, gray and gray10le the luma plane in full range; yuv420p-auto (the
    /// default) and nv12-auto keep the stream's depth. Also rgb24, bgr24, rgba, bgra, gbrp
    /// (planar G, B, R, as ffmpeg), rgbp (planar R, G, B), bgrp, and float RGB for models:
    /// rgbf32, bgrf32, rgbpf32 (planar, 3×H×W), bgrpf32 and the f16 forms (values 0-1). RGB
    /// uses the stream's matrix, range and chroma siting.
    #[arg(long, value_name = "NAME", default_value = "yuv420p-auto", hide_default_value = true, value_parser = video_hw::pixels::pix_fmt::parse)]
    pub(crate) pix_fmt: OutFormat,
    /// Write ffmpeg's framemd5 format (one MD5 per frame) instead of the frames.
    #[arg(long)]
    pub(crate) framemd5: bool,
    /// AV1: leave the film grain out (the pictures as coded, before the grain synthesis
    /// the stream asks for; ffmpeg's `-export_side_data film_grain` with libdav1d). Grain is
    /// applied by default, as dav1d and ffmpeg apply it.
    #[arg(long)]
    pub(crate) no_film_grain: bool,
    /// Keep the coded orientation: by default frames are turned as the container's display
    /// matrix asks (MP4 `tkhd`), as ffmpeg does (its `-noautorotate` turns that off).
    #[arg(long)]
    pub(crate) no_autorotate: bool,
    /// Print the summary as JSON (on stdout; on stderr when the output is stdout).
    #[arg(long)]
    pub(crate) json: bool,
    /// Decode with N sessions at once (1-64, or `auto`): the stream (raw Annex-B or MP4) is
    /// read into memory, cut at its IDR pictures (and HEVC CRAs without RASL pictures) and
    /// the pieces decoded side by side, frames written in order. With NVDEC one stream then
    /// uses several decode engines (7 on an H200). `auto`: the measured best for the engine,
    /// codec and size (NVDEC: one per engine; software: one per CPU thread).
    ///
    /// Without this option, an H.264/HEVC file (not stdin) that NVDEC decodes is read
    /// through its frame index with the GOPs ahead decoding on `auto` sessions at once
    /// (frames written in order, identical to one session's; the frames waiting bounded by
    /// 4 GiB, or a GOP per session and two more where the frames wait in GPU memory);
    /// anything else is decoded by one session.
    #[arg(long, value_name = "N|auto", value_parser = parse_sessions)]
    pub(crate) sessions: Option<Sessions>,
    /// Bound on the frames that reading ahead (the default for a file NVDEC decodes) holds
    /// decoded before they are written: `512m`, `16g` (default 4g). More lets more
    /// sessions decode at once; the bound is counted in output frame bytes.
    #[arg(long, value_name = "SIZE", value_parser = crate::options::common::parse_bytes)]
    pub(crate) read_ahead: Option<usize>,
    /// Output only these frames, by presentation index (0 is the first frame shown), in
    /// the order given (repeats allowed): `--indices 250,3,99`. Each is decoded exactly,
    /// from the random access point it depends on; a GOP is decoded once however many of
    /// its frames are asked for. Needs a file (not stdin).
    #[arg(long, value_name = "I,J,…", value_delimiter = ',', conflicts_with = "start")]
    pub(crate) indices: Option<Vec<usize>>,
    /// Start at the frame shown at this time (seconds from the start of the timeline the
    /// container gives), decoding from the random access point it depends on. Needs a file.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) start: Option<f64>,
    /// Stop after N frames.
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Audio: write this track's samples (`wav`, or raw `f32le`/`s16le`) instead of frames, as
    /// `ffmpeg -vn -f FORMAT` does. An output named `*.wav`, or an input with audio and no
    /// video, writes audio too (f32le unless `.wav`).
    #[arg(short = 'f', long, value_name = "FORMAT", value_enum)]
    pub(crate) format: Option<AudioFormat>,
    /// Audio: the track to write, by its index in the file (default: the one ffmpeg picks:
    /// of the tracks marked default, the highest bit rate, then the first).
    #[arg(long, value_name = "N")]
    pub(crate) audio_stream: Option<usize>,
    /// Audio: resample to this rate (Hz).
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(1..=768_000))]
    pub(crate) sample_rate: Option<u32>,
    /// Audio: mix to this many channels.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) channels: Option<u16>,
    /// Audio: write this many seconds from `--start` (default: to the end).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) duration: Option<f64>,
    /// Read a file that is still being written, like `tail -f`: at its end, wait for it to
    /// grow and go on. Raw H.264/HEVC Annex-B, MPEG-TS and fragmented MP4 (a plain MP4 is
    /// read once its `moov` is written). Ends when the file has not grown for --timeout
    /// seconds (default 10; exit 0, the frames exactly those of the finished file), or at
    /// SIGINT/SIGTERM (the output finished, exit 130/143). Not with stdin, --sessions,
    /// --indices/--start/--count or audio.
    #[arg(long)]
    pub(crate) follow: bool,
    /// With --follow: end after SECONDS without growth (default 10). With stdin (`-`): end
    /// the input after SECONDS without a byte from its sender, as a disconnect (the frames
    /// received written, the output finished, then exit 7).
    #[arg(long, value_name = "SECONDS", value_parser = crate::options::common::parse_seconds)]
    pub(crate) timeout: Option<std::time::Duration>,
    #[command(flatten)]
    pub(crate) engine: EngineOpts,
    #[command(flatten)]
    pub(crate) transform: TransformOpts,
}

/// The audio outputs `-f` names, as ffmpeg's muxers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AudioFormat {
    /// RIFF WAVE, 16-bit (ffmpeg's default for `.wav`).
    Wav,
    /// Raw interleaved 32-bit float, little-endian.
    F32le,
    /// Raw interleaved signed 16-bit, little-endian.
    S16le,
}

/// `--sessions`: a count, or `auto` (decided once the engine and the stream's size are known).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    /// This many sessions (1-64).
    Count(u16),
    /// [`video_hw::pipeline::recommended_sessions`] for the engine, codec and size.
    Auto,
}

impl Sessions {
    /// Whether a stream of `codec` is cut and decoded by several sessions: a count above 1
    /// asks for it (and is refused for AV1/VP9, which cannot be cut here); `auto` does it
    /// where it can and decodes AV1/VP9 with one session.
    pub(crate) fn segmented(self, codec: video_hw::Codec) -> bool {
        match self {
            Sessions::Count(n) => n > 1,
            Sessions::Auto => codec.is_nal_based(),
        }
    }
}

pub(crate) fn parse_sessions(s: &str) -> Result<Sessions, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Sessions::Auto);
    }
    match s.parse::<u16>() {
        Ok(n @ 1..=64) => Ok(Sessions::Count(n)),
        _ => Err(format!("'{s}': a number of sessions from 1 to 64, or auto")),
    }
}

impl DecodeArgs {
    /// The decoder configuration these arguments ask for, for a stream of `codec` whose
    /// timestamps count in `timebase` and whose container asks for `rotation` degrees
    /// counter-clockwise (applied unless `--no-autorotate`).
    pub(crate) fn decoder_config(
        &self,
        codec: video_hw::Codec,
        timebase: video_hw::Rational,
        rotation: u16,
    ) -> DecoderConfig {
        let cfg = self.transform.apply(DecoderConfig::new(codec), self.pix_fmt.request);
        let turn = if self.no_autorotate { 0 } else { rotation };
        crate::options::transform::rotated(cfg, turn, self.pix_fmt.request)
            .engine(self.engine.backend)
            .require_hardware(self.engine.require_hardware)
            .device_index(self.engine.device)
            .timebase(timebase)
            .threads_opt(self.engine.threads)
            .film_grain(!self.no_film_grain)
            // The frame sink writes and hashes strided planes as they are.
            .lend_frames(true)
    }

    /// The summary's fields that come from the arguments and the clock.
    pub(crate) fn summary(&self, codec_in: video_hw::Codec, started: Instant) -> Summary {
        Summary {
            job: "decode",
            input: self.input.display().to_string(),
            output: self.output.display().to_string(),
            codec_in: Some(codec_in.to_string()),
            elapsed: started.elapsed(),
            ..Default::default()
        }
    }
}
