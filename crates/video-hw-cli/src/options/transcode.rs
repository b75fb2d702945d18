//! The arguments of `transcode` (read by the command and its read-ahead route).

use std::path::PathBuf;

use clap::Args;
use video_hw::pixels::pix_fmt::Exact;
use video_hw::{EnginePreference, PixelFormat, Rational};

use crate::options::common::{EncodeOpts, EngineOpts, parse_engine, parse_fps};
use crate::options::decode::Sessions;
use crate::options::fragment::FragmentOpts;
use crate::options::transform::TransformOpts;

/// Arguments of `transcode`.
#[derive(Args, Debug)]
pub struct TranscodeArgs {
    /// Input: any video `decode` reads, recognised from its content (MP4/MOV, fragmented MP4,
    /// Matroska, WebM, MPEG-TS, M2TS, AVI, IVF, raw AV1 OBUs, raw H.264/HEVC Annex-B; H.264, HEVC,
    /// AV1, VP9, and with FFmpeg VP8, MPEG-2, MPEG-4 Part 2, MJPEG, ProRes); `-` reads stdin:
    /// Annex-B and IVF as they come, another container after spooling it to a temporary file.
    pub(crate) input: PathBuf,
    /// Output: .h264/.h265 (Annex-B), .mp4/.mov/.m4v (MP4, moov first), .mkv (Matroska),
    /// .webm (WebM: AV1, with Opus audio), .ivf (IVF: AV1, no audio), .obu (raw AV1 OBUs), or
    /// `-` (the raw stream on stdout; fragmented MP4 with --fragmented). A container output
    /// keeps every audio track of the input, copied as it is.
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: PathBuf,
    /// Fragmented MP4 output (`--fragmented`, `--frag-duration`).
    #[command(flatten)]
    pub(crate) frag: FragmentOpts,
    /// Leave the input's audio out of a container output.
    #[arg(long)]
    pub(crate) no_audio: bool,
    /// Frame rate for rate control and timestamps (default: the stream's, else 25).
    #[arg(long, value_parser = parse_fps)]
    pub(crate) fps: Option<Rational>,
    /// Decoder sessions (1-64, or `auto`). Without it, an H.264/HEVC file (not stdin) that
    /// NVDEC decodes is read through its frame index with the GOPs ahead decoding on `auto`
    /// sessions, one per NVDEC engine, the frames encoded in order; `1` decodes on one.
    #[arg(long, value_name = "N|auto", value_parser = crate::options::decode::parse_sessions)]
    pub(crate) sessions: Option<Sessions>,
    /// Decoder engine (auto, nvdec, openh264, …); --backend picks the encoder's.
    #[arg(long, default_value = "auto", value_name = "ENGINE", value_parser = parse_engine)]
    pub(crate) decoder_backend: EnginePreference,
    /// Read a file that is still being written, like `tail -f`: at its end, wait for it to
    /// grow and go on, the video and the audio copied each read once. MPEG-TS, fragmented
    /// MP4 (a plain MP4 once its `moov` is written) and raw H.264/HEVC Annex-B. Ends when
    /// the file has not grown for --timeout seconds (default 10; the output then as a
    /// transcode of the finished file), or at SIGINT/SIGTERM (the output finished, exit
    /// 130/143). One decoder session; not with stdin or --sessions.
    #[arg(long)]
    pub(crate) follow: bool,
    /// With --follow: end after SECONDS without growth (default 10). With stdin (`-`): end
    /// the input after SECONDS without a byte from its sender, as a disconnect (the output
    /// finished with every frame received, then exit 7).
    #[arg(long, value_name = "SECONDS", value_parser = crate::options::common::parse_seconds)]
    pub(crate) timeout: Option<std::time::Duration>,
    /// Print the summary as JSON (on stdout; on stderr when the output is stdout).
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) encode: EncodeOpts,
    /// Encoder engine choice; --require-hardware and --device apply to both engines.
    #[command(flatten)]
    pub(crate) engine: EngineOpts,
    /// A resized (or cropped) rendition: --size WxH (even sides, as encoders take 4:2:0).
    #[command(flatten)]
    pub(crate) transform: TransformOpts,
    /// The pictures the encoder takes, by ffmpeg's name and meaning: yuv420p or nv12
    /// (8-bit: a 10-bit source rounded to 8 bits), yuv420p10le or p010le (10-bit: an
    /// 8-bit source widened). Default: the source's own depth.
    #[arg(long, value_name = "NAME", value_parser = parse_pix_fmt)]
    pub(crate) pix_fmt: Option<Exact>,
}

/// `--pix-fmt` of `transcode`: a 4:2:0 name with a stated depth (`-auto`: the default).
fn parse_pix_fmt(s: &str) -> Result<Exact, String> {
    let name = video_hw::pixels::pix_fmt::parse(s)?;
    match name.exact {
        Some(e @ (Exact::Yuv420p | Exact::Nv12 | Exact::Yuv420p10 | Exact::P010)) => Ok(e),
        _ => Err(format!("'{s}': the encoder takes yuv420p, nv12, yuv420p10le or p010le")),
    }
}

impl TranscodeArgs {
    /// Whether the output is a container (and so keeps the input's audio): its name says
    /// so, or `--fragmented`.
    pub(crate) fn container_out(&self) -> bool {
        self.frag.fragmented || crate::io::output::container_for(&self.output).is_some()
    }

    /// What the decoder is asked for: planar or interleaved 4:2:0 as `--pix-fmt` names it
    /// (the depth follows the stream; the encode job converts it to the named one).
    pub(crate) fn decoder_format(&self) -> PixelFormat {
        match self.pix_fmt {
            Some(Exact::Nv12 | Exact::P010) => PixelFormat::Nv12,
            _ => PixelFormat::Yuv420p,
        }
    }
}
