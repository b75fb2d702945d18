//! The arguments of `encode`.

use std::path::PathBuf;

use clap::Args;
use video_hw::{PixelFormat, Rational};

use crate::options::common::{EncodeOpts, EngineOpts, parse_fps, parse_input_format, parse_seconds, parse_size};
use crate::options::fragment::FragmentOpts;

/// Arguments of `encode`.
#[derive(Args, Debug)]
pub struct EncodeArgs {
    /// Input: a .y4m file, or headerless raw frames (give --size and --fps); `-` reads stdin,
    /// `tcp://HOST:PORT` connects to a sender, `tcp-listen://HOST:PORT` waits for one.
    #[arg(required_unless_present = "synthetic", conflicts_with = "synthetic")]
    pub(crate) input: Option<PathBuf>,
    /// Output: .h264/.h265 (Annex-B), .mp4/.mov/.m4v (MP4), .mkv (Matroska), .webm (WebM:
    /// AV1), .ivf (IVF: AV1), .obu (raw AV1 OBUs), or `-` (the raw stream on stdout).
    #[arg(short, long, value_name = "OUT")]
    pub(crate) output: PathBuf,
    #[command(flatten)]
    pub(crate) frag: FragmentOpts,
    /// Frame timestamps: `input` (frame number / frame rate) or `arrival` (when each frame
    /// arrived, from the first; for live input whose sender paces the frames).
    #[arg(long, value_name = "input|arrival", default_value = "input", value_parser = ["input", "arrival"])]
    pub(crate) timestamps: String,
    /// With a network input (`tcp://`, `tcp-listen://`): when the sender goes (closes the
    /// connection, drops, stalls past --timeout, or breaks off inside a frame, which is
    /// dropped), wait for the next sender and go on with the same output, its frames
    /// following the last one written (`tcp-listen://` accepts the next; `tcp://` connects
    /// again, retrying with a backoff up to 2 s). Each reconnect is logged and counted in
    /// the summary. The input ends at SIGINT/SIGTERM, or when no sender comes within
    /// --timeout.
    #[arg(long)]
    pub(crate) reconnect: bool,
    /// With a network input or stdin (`-`): end the input after SECONDS without a byte
    /// from the sender, or without a sender (as a disconnect: the output finished with
    /// every whole frame received; then exit 7 unless --reconnect waits for the next
    /// sender of a network input).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub(crate) timeout: Option<std::time::Duration>,
    /// Frames the ring between the input and the encoder holds (default 8): the buffer that
    /// absorbs a live sender's bursts. `--stats` shows its depth, peak and waits.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(crate) ring_depth: Option<u32>,
    /// Encode N frames of a moving test pattern made in-process instead of reading input.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub(crate) synthetic: Option<u64>,
    /// Picture size of raw input or of the synthetic pattern (default 640x360).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub(crate) size: Option<(u32, u32)>,
    /// Frame rate (raw input needs it; overrides a y4m header's; synthetic default 30).
    #[arg(long, value_parser = parse_fps)]
    pub(crate) fps: Option<Rational>,
    /// Pixel format of raw input: yuv420p (default), nv12, rgb24 or bgra.
    #[arg(long, value_parser = parse_input_format)]
    pub(crate) pix_fmt: Option<PixelFormat>,
    /// Print the summary as JSON (on stdout; on stderr when the output is stdout).
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) encode: EncodeOpts,
    #[command(flatten)]
    pub(crate) engine: EngineOpts,
}
