//! Session configuration, validated once when a session opens.

use crate::codec::{Codec, ColorInfo, PixelFormat, Rational};
use crate::engine::EnginePreference;
use crate::error::{Error, Result};
use crate::frame::DeviceApi;
use crate::packet::PacketLayout;
use crate::pixels::transform::Transform;
/// What an engine needs to know of a stream (in the plain-types crate, below the bitstream
/// layer that reads it from the parameter sets).
pub use video_hw_types::StreamFormat;

/// What a decoder hands back.
///
/// Non-exhaustive. Device memory is named by its API ([`DeviceApi`]), so memory of
/// another API is a new `DeviceApi`, not a new variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Output {
    /// Frame metadata only (timestamps, sizes, keyframe flags), no pixels.
    Metadata,
    /// Pixels in host memory in this format: `Nv12`, `Yuv420p`, `Rgb24`, `RgbPlanar` or
    /// `Bgra`. For 10-bit streams `Nv12` becomes `P010` and `Yuv420p` becomes `Yuv420p10`.
    Host(PixelFormat),
    /// Pixels in the memory of a device of this API, in this format: for CUDA `Nv12`
    /// (`P010` for 10-bit), `Rgb24` or `RgbPlanar`. [`Output::Cuda`] builds the CUDA one.
    Device(DeviceApi, PixelFormat),
}

impl Output {
    /// Pixels in CUDA device memory in `format`: `Output::Device(DeviceApi::Cuda, format)`.
    ///
    /// Named like the variant it was before device output named its API, so that code
    /// that builds `Output::Cuda(format)` reads and compiles as it did (code that
    /// matched on that variant matches `Output::Device(DeviceApi::Cuda, format)` now).
    #[allow(non_snake_case)]
    pub const fn Cuda(format: PixelFormat) -> Output {
        Output::Device(DeviceApi::Cuda, format)
    }

    /// The device API frames will be in, for device output.
    pub fn device_api(self) -> Option<DeviceApi> {
        match self {
            Output::Device(api, _) => Some(api),
            _ => None,
        }
    }

    /// The pixel format asked for (None for metadata), before a 10-bit stream widens it
    /// ([`format_for_depth`](Self::format_for_depth)).
    pub fn format(self) -> Option<PixelFormat> {
        match self {
            Output::Metadata => None,
            Output::Host(f) | Output::Device(_, f) => Some(f),
        }
    }

    /// Host NV12 (P010 for 10-bit streams).
    pub const HOST_NV12: Output = Output::Host(PixelFormat::Nv12);
    /// Host planar YUV 4:2:0.
    pub const HOST_YUV420P: Output = Output::Host(PixelFormat::Yuv420p);
    /// Host packed RGB.
    pub const HOST_RGB24: Output = Output::Host(PixelFormat::Rgb24);
    /// CUDA NV12 (P010 for 10-bit streams).
    pub const CUDA_NV12: Output = Output::Cuda(PixelFormat::Nv12);
    /// CUDA packed RGB.
    pub const CUDA_RGB24: Output = Output::Cuda(PixelFormat::Rgb24);

    /// The pixel format frames will have for a stream of `bit_depth` (None for metadata).
    pub fn format_for_depth(self, bit_depth: u8) -> Option<PixelFormat> {
        let f = self.format()?;
        Some(match (f, bit_depth > 8) {
            (PixelFormat::Nv12, true) => PixelFormat::P010,
            (PixelFormat::Yuv420p, true) => PixelFormat::Yuv420p10,
            (f, _) => f,
        })
    }

    /// Whether engines hand frames back in host memory in `format` themselves (NV12,
    /// YUV420P, RGB24, planar RGB, BGRA); the other formats come from a
    /// [`Transform`].
    pub fn engines_make_on_host(format: PixelFormat) -> bool {
        use PixelFormat as P;
        matches!(format, P::Nv12 | P::Yuv420p | P::Rgb24 | P::RgbPlanar | P::Bgra)
    }

    fn validate(self) -> Result<()> {
        use PixelFormat as P;
        match self {
            Output::Metadata => Ok(()),
            Output::Host(f) if Output::engines_make_on_host(f) => Ok(()),
            Output::Device(_, P::Nv12 | P::Rgb24 | P::RgbPlanar) => Ok(()),
            Output::Host(f) => Err(Error::invalid_input(format!(
                "host output format {f}: ask for nv12 or yuv420p (10-bit streams give p010 / yuv420p10), rgb24, rgbp or bgra"
            ))),
            Output::Device(api, f) => {
                Err(Error::invalid_input(format!("{api} output format {f}: use nv12, rgb24 or rgbp")))
            }
        }
    }
}

/// How to open a [`crate::Decoder`].
///
/// ```
/// use video_hw::{Codec, DecoderConfig, Output};
/// let cfg = DecoderConfig::new(Codec::Hevc).output(Output::HOST_NV12).low_latency(true);
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderConfig {
    /// The stream's codec.
    pub codec: Codec,
    /// What frames to hand back.
    pub output: Output,
    /// Hand frames back as soon as they are decodable (no reordering delay beyond what
    /// the stream needs; engines that support it skip display-delay buffering).
    pub low_latency: bool,
    /// Most frames an engine may hold before output, where it has such a knob.
    pub max_display_delay: Option<u32>,
    /// Which engine to use.
    pub engine: EnginePreference,
    /// Refuse software engines (error instead of falling back).
    pub require_hardware: bool,
    /// GPU index for device engines.
    pub device_index: u32,
    /// Let the session take the least busy GPU instead of `device_index`: among the GPUs
    /// whose NVDEC decodes the codec, the one with the fewest NVDEC sessions of this process
    /// per NVDEC engine once it takes this one (lowest index on a tie). Sessions, whether
    /// opened one after another or at once on many threads, thus spread over every GPU in
    /// proportion to its engines; within a GPU the driver spreads them over its engines.
    pub spread_over_gpus: bool,
    /// Timebase of the timestamps given to `submit` and returned on frames.
    pub timebase: Rational,
    /// Crop, resize, colour conversion and normalisation applied to every frame (see
    /// [`crate::pixels::transform`]). Frames then come out in the transform's format, or where
    /// it names none, in `output`'s: `output(Output::HOST_RGB24)` with a resize gives
    /// resized RGB, `Output::HOST_YUV420P` a resized 4:2:0 rendition (10-bit streams
    /// stay 10-bit). With NVDEC the transform runs on the GPU, from the decoder's own
    /// surface, for host output and for CUDA output (frames of the transform's format:
    /// RGB, NV12/P010 or planar YUV420P of 8 or 10 bits; with no format named, NV12/P010).
    pub transform: Option<Transform>,
    /// Start decoding as soon as this session's own decoder exists (NVDEC; other engines
    /// ignore it). By default a burst of NVDEC sessions no larger than the GPU's engines
    /// starts together once all their decoders exist: more frames a second for the burst,
    /// but its first frames come only after every creation (~45 ms each, one at a time).
    /// A caller that waits on this session's first frames wants them early instead, as
    /// [`FrameReader`](crate::reader::FrameReader)'s read-ahead does (its first GOP gates
    /// every frame after it).
    pub start_at_once: bool,
    /// Threads of a software engine's session (FFmpeg's frame and slice threads).
    /// `None`: one session uses every core, and sessions open at once share them (see
    /// docs/ffmpeg.md). Hardware engines and OpenH264 ignore it.
    pub threads: Option<u32>,
    /// Apply AV1 film grain to output pictures, as the stream asks (default true). Off,
    /// the pictures are the decoded ones before grain synthesis: rav1d and FFmpeg's
    /// libdav1d leave it out (FFmpeg exports it instead), libaom through FFmpeg refuses
    /// to open. NVDEC applies the grain whatever this says.
    pub film_grain: bool,
    /// Let host frames be the engine's own picture buffers, lent without a copy (FFmpeg's
    /// software decoders, for output in the decoded layout: 8/10-bit 4:2:0 planar). Such a
    /// frame's planes keep the decoder's strides and padding rows, so it is not packed
    /// ([`HostFrame::is_packed`](crate::frame::HostFrame::is_packed)): read it through
    /// `planes()`/`rows()`, or take [`to_packed`](crate::frame::HostFrame::to_packed). Writing
    /// to it writes a copy. Off by default: frames are tightly packed, one plane after the
    /// other. It saves one copy of every picture (on 1080p HEVC, 2 threads, about 8% of the
    /// wall time: `video-hw decode` turns it on).
    pub lend_frames: bool,
    /// What the stream is known to be before its first picture (from the container or
    /// the parameter sets a reader read ahead), or None. Engines that decode only some
    /// chroma formats, depths or sizes refuse a session they could not finish at open
    /// (NVDEC otherwise finds out at the first sequence header), so that the registry
    /// can pick another: with CUDA output, a CPU engine whose frames are uploaded.
    pub stream: Option<StreamFormat>,
    /// The codec's out-of-band configuration, given to the FFmpeg engine's decoder as its
    /// `extradata`, for the codecs only that engine decodes: MPEG-4 Part 2's
    /// DecoderSpecificInfo (MP4 `esds`; Matroska CodecPrivate: the VOS and VOL headers),
    /// a Matroska CodecPrivate or the bytes after a `V_MS/VFW/FOURCC` BITMAPINFOHEADER.
    /// Readers set it from the track ([`Track::extradata`](crate::media::Track::extradata)).
    /// H.264/HEVC records go through [`Input::length_prefixed`](crate::Input::length_prefixed)
    /// instead; other engines ignore it.
    pub extradata: Option<Vec<u8>>,
    /// The picture size the container states, given to the FFmpeg engine's decoder before
    /// it opens, for the codecs only that engine decodes: libavcodec's intra codecs
    /// (`huffyuv`, `ffv1`, `utvideo`, …) refuse to open without it. Readers set it from
    /// the track; other engines ignore it.
    pub picture_size: Option<(u32, u32)>,
}

impl DecoderConfig {
    /// Defaults: host NV12 output, automatic engine, GPU 0, 90 kHz timebase.
    pub fn new(codec: Codec) -> Self {
        DecoderConfig {
            codec,
            output: Output::HOST_NV12,
            low_latency: false,
            max_display_delay: None,
            engine: EnginePreference::Auto,
            require_hardware: false,
            device_index: 0,
            spread_over_gpus: false,
            timebase: Rational::MPEG_90K,
            transform: None,
            start_at_once: false,
            threads: None,
            film_grain: true,
            lend_frames: false,
            stream: None,
            extradata: None,
            picture_size: None,
        }
    }

    /// Sets [`picture_size`](Self#structfield.picture_size) (`None`, or a size with a zero
    /// side, leaves it unset).
    pub fn picture_size(mut self, size: Option<(u32, u32)>) -> Self {
        self.picture_size = size.filter(|&(w, h)| w > 0 && h > 0);
        self
    }

    /// Sets [`extradata`](Self#structfield.extradata).
    pub fn extradata(mut self, bytes: Option<Vec<u8>>) -> Self {
        self.extradata = bytes.filter(|b| !b.is_empty());
        self
    }

    /// Sets [`stream`](Self#structfield.stream).
    pub fn stream_format(mut self, format: Option<StreamFormat>) -> Self {
        self.stream = format;
        self
    }

    /// Sets [`lend_frames`](Self#structfield.lend_frames).
    pub fn lend_frames(mut self, on: bool) -> Self {
        self.lend_frames = on;
        self
    }

    /// Applies AV1 film grain (true, the default) or leaves it out (see
    /// [`film_grain`](Self::film_grain)).
    pub fn film_grain(mut self, on: bool) -> Self {
        self.film_grain = on;
        self
    }

    /// Sets [`start_at_once`](Self#structfield.start_at_once).
    pub fn start_at_once(mut self, yes: bool) -> Self {
        self.start_at_once = yes;
        self
    }

    /// Applies `transform` to every frame (see [`DecoderConfig::transform`](Self#structfield.transform)).
    pub fn transform(mut self, transform: Transform) -> Self {
        self.transform = Some(transform);
        self
    }

    /// Sets the output.
    pub fn output(mut self, output: Output) -> Self {
        self.output = output;
        self
    }

    /// Sets low-latency mode.
    pub fn low_latency(mut self, on: bool) -> Self {
        self.low_latency = on;
        self
    }

    /// Sets the threads of a software engine's session (see [`DecoderConfig::threads`]).
    pub fn threads(mut self, threads: u32) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Sets or clears the threads of a software engine's session (`None`: the default).
    pub fn threads_opt(mut self, threads: Option<u32>) -> Self {
        self.threads = threads;
        self
    }

    /// Sets the maximum display delay.
    pub fn max_display_delay(mut self, frames: u32) -> Self {
        self.max_display_delay = Some(frames);
        self
    }

    /// Sets the engine preference.
    pub fn engine(mut self, engine: EnginePreference) -> Self {
        self.engine = engine;
        self
    }

    /// Requires a hardware engine.
    pub fn require_hardware(mut self, on: bool) -> Self {
        self.require_hardware = on;
        self
    }

    /// Sets the GPU index.
    pub fn device_index(mut self, index: u32) -> Self {
        self.device_index = index;
        self
    }

    /// Picks the least busy GPU at open (see [`DecoderConfig::spread_over_gpus`]).
    ///
    /// ```no_run
    /// use video_hw::{Codec, Decoder, DecoderConfig, Output};
    /// // One session per camera, spread over every GPU of the machine.
    /// let sessions: Vec<Decoder> = (0..16)
    ///     .map(|_| Decoder::open(DecoderConfig::new(Codec::Hevc).output(Output::CUDA_NV12).spread_over_gpus(true)))
    ///     .collect::<Result<_, _>>()?;
    /// # Ok::<(), video_hw::Error>(())
    /// ```
    pub fn spread_over_gpus(mut self, on: bool) -> Self {
        self.spread_over_gpus = on;
        self
    }

    /// Sets the timestamp timebase.
    pub fn timebase(mut self, tb: Rational) -> Self {
        self.timebase = tb;
        self
    }

    /// Checks the configuration; every session does this once when it opens.
    pub fn validate(&self) -> Result<()> {
        self.output.validate()?;
        check_timebase(self.timebase)?;
        if let Some(t) = &self.transform {
            t.validate()?;
            // Any format with CUDA output: the GPU transform writes 4:2:0 in every layout
            // and depth (NV12, P010, YUV420P of 8 or 10 bits) and every RGB format.
        }
        if let EnginePreference::Only(e) = self.engine {
            if !e.handles(crate::Direction::Decode) {
                return Err(Error::invalid_input(format!("engine {e} does not decode")));
            }
            if self.require_hardware && !e.is_hardware() {
                return Err(Error::invalid_input(format!("engine {e} is software but hardware is required")));
            }
        }
        // Device output from an engine without frames of that API is its host frames,
        // uploaded (`Registry::open_decoder`): a CPU engine's are, but a hardware engine
        // of another device's world is refused rather than copied through the host.
        if let (Output::Device(api, _), EnginePreference::Only(e)) = (self.output, self.engine)
            && e.is_hardware()
            && e.device_api() != Some(api)
        {
            return Err(Error::invalid_input(format!(
                "{api} output with {e}: ask for an engine with {api} frames, a CPU engine or auto"
            )));
        }
        Ok(())
    }
}

fn check_timebase(tb: Rational) -> Result<()> {
    if tb.num <= 0 || tb.den <= 0 {
        return Err(Error::invalid_input(format!("timebase {tb} must be positive")));
    }
    Ok(())
}

/// Rate control of an encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateControl {
    /// Constant bitrate, bits per second.
    Cbr {
        /// Target bitrate (bit/s).
        bitrate: u64,
    },
    /// Variable bitrate with an average and a peak, bits per second.
    Vbr {
        /// Average bitrate (bit/s).
        avg: u64,
        /// Peak bitrate (bit/s), ≥ avg.
        max: u64,
    },
    /// Constant quantiser per picture type (0..=51).
    ConstQp {
        /// QP of I pictures.
        i: u8,
        /// QP of P pictures.
        p: u8,
        /// QP of B pictures.
        b: u8,
    },
    /// Constant quality (CRF-like, 0 best ..= 51 worst), the engine's own quality mode.
    ConstQuality {
        /// Quality target.
        q: u8,
    },
}

impl RateControl {
    /// Whether this aims at a bitrate (CBR or VBR), not at a quantiser or a quality.
    pub fn targets_bitrate(&self) -> bool {
        matches!(self, RateControl::Cbr { .. } | RateControl::Vbr { .. })
    }
}

/// Speed/quality trade-off, mapped per engine (NVENC P1–P7, x264 presets, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Preset {
    /// Fastest.
    Fastest,
    /// Faster.
    Faster,
    /// Fast.
    Fast,
    /// Balanced (the default).
    #[default]
    Medium,
    /// Slow.
    Slow,
    /// Slower.
    Slower,
    /// Slowest, best compression.
    Slowest,
}

impl Preset {
    /// Every preset, fastest first.
    pub const ALL: [Preset; 7] =
        [Preset::Fastest, Preset::Faster, Preset::Fast, Preset::Medium, Preset::Slow, Preset::Slower, Preset::Slowest];

    /// 0 for fastest ..= 6 for slowest.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "fastest" | "ultrafast" | "p1" => Preset::Fastest,
            "faster" | "superfast" | "veryfast" | "p2" => Preset::Faster,
            "fast" | "faster-medium" | "p3" => Preset::Fast,
            "medium" | "p4" => Preset::Medium,
            "slow" | "p5" => Preset::Slow,
            "slower" | "p6" => Preset::Slower,
            "slowest" | "veryslow" | "placebo" | "p7" => Preset::Slowest,
            other => return Err(Error::invalid_input(format!("unknown preset '{other}' (fastest … slowest)"))),
        })
    }
}

/// What the encoder optimises for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tuning {
    /// Best quality for the bitrate (the default).
    #[default]
    HighQuality,
    /// Low latency: no B-frames or look-ahead beyond what is asked.
    LowLatency,
    /// Ultra low latency: also no reordering delay anywhere.
    UltraLowLatency,
    /// Mathematically lossless.
    Lossless,
}

impl std::str::FromStr for Tuning {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "hq" | "high-quality" | "quality" => Tuning::HighQuality,
            "ll" | "low-latency" => Tuning::LowLatency,
            "ull" | "ultra-low-latency" => Tuning::UltraLowLatency,
            "lossless" => Tuning::Lossless,
            other => {
                return Err(Error::invalid_input(format!(
                    "unknown tuning '{other}' (hq, low-latency, ultra-low-latency, lossless)"
                )));
            }
        })
    }
}

/// How to open a [`crate::Encoder`].
///
/// ```
/// use video_hw::{Codec, EncoderConfig, RateControl};
/// let cfg = EncoderConfig::new(Codec::H264, 1920, 1080)
///     .fps(30, 1)
///     .rate_control(RateControl::Cbr { bitrate: 8_000_000 })
///     .gop(60)
///     .b_frames(2);
/// assert!(cfg.validate().is_ok());
/// assert!(EncoderConfig::new(Codec::H264, 0, 1080).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Output codec.
    pub codec: Codec,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Frame rate as a rational (30000/1001 for NTSC).
    pub fps: Rational,
    /// Pixel format of the submitted frames.
    pub input_format: PixelFormat,
    /// Rate control.
    pub rate_control: RateControl,
    /// Frames between keyframes (IDR); `None` for the engine's default.
    pub gop: Option<u32>,
    /// Consecutive B-frames (`Some(0)`: none). `None`: the engine's own default, which a
    /// user of that encoder gets elsewhere: libx264's 3 and libx265's 4 (and FFmpeg's
    /// default for its hardware encoders) through FFmpeg; none on NVENC, VideoToolbox and
    /// OpenH264 (which has no B-frames), and none with a low-latency tuning. AV1 has no
    /// B-frames. [`EncoderConfig::b_frame_count`] gives the count where the default is none.
    pub b_frames: Option<u32>,
    /// Speed/quality trade-off.
    pub preset: Preset,
    /// What to optimise for.
    pub tuning: Tuning,
    /// Repeat SPS/PPS (and VPS) before every IDR.
    pub repeat_parameter_sets: bool,
    /// Annex-B or length-prefixed output.
    pub layout: PacketLayout,
    /// Colour description written to the VUI.
    pub color: ColorInfo,
    /// Look-ahead depth in frames, where the engine has one.
    pub lookahead: Option<u32>,
    /// Smallest and largest QP the rate control may use.
    pub qp_range: Option<(u8, u8)>,
    /// Frames the engine may hold in flight before `submit` pushes back.
    pub frames_in_flight: u32,
    /// Which engine to use.
    pub engine: EnginePreference,
    /// Refuse software engines.
    pub require_hardware: bool,
    /// GPU index for device engines.
    pub device_index: u32,
    /// Timebase of the frames' timestamps and of the packets'.
    pub timebase: Rational,
    /// Threads of a software encoder's session (libx264, libx265, SVT-AV1 through
    /// FFmpeg). `None`: the encoder's own default, shared between sessions open at once.
    pub threads: Option<u32>,
    /// The FFmpeg encoder by name, as `ffmpeg -c:v` takes it (`libaom-av1`, `libsvtav1`,
    /// `libx264`, `h264_qsv`, …): one of those video-hw drives, and only the engine that
    /// drives it opens (with [`EnginePreference::Auto`], that engine; any other named
    /// engine refuses). `None`: the engine's first encoder this FFmpeg has (for AV1,
    /// SVT-AV1 before libaom-av1: docs/ffmpeg-encode.md).
    pub ffmpeg_encoder: Option<String>,
}

impl EncoderConfig {
    /// Defaults: 30 fps, I420 input, CBR 4 Mb/s, engine GOP, engine B-frames, medium preset,
    /// high-quality tuning, parameter sets repeated on IDR, Annex-B, automatic engine.
    pub fn new(codec: Codec, width: u32, height: u32) -> Self {
        EncoderConfig {
            codec,
            width,
            height,
            fps: Rational::new(30, 1),
            input_format: PixelFormat::Yuv420p,
            rate_control: RateControl::Cbr { bitrate: 4_000_000 },
            gop: None,
            b_frames: None,
            preset: Preset::Medium,
            tuning: Tuning::HighQuality,
            repeat_parameter_sets: true,
            layout: PacketLayout::AnnexB,
            color: ColorInfo::default(),
            lookahead: None,
            qp_range: None,
            frames_in_flight: 4,
            engine: EnginePreference::Auto,
            require_hardware: false,
            device_index: 0,
            timebase: Rational::MPEG_90K,
            threads: None,
            ffmpeg_encoder: None,
        }
    }

    /// Sets the frame rate `num/den`.
    pub fn fps(mut self, num: i64, den: i64) -> Self {
        self.fps = Rational::new(num, den);
        self
    }

    /// Sets the input pixel format.
    pub fn input_format(mut self, f: PixelFormat) -> Self {
        self.input_format = f;
        self
    }

    /// Sets the rate control.
    pub fn rate_control(mut self, rc: RateControl) -> Self {
        self.rate_control = rc;
        self
    }

    /// Sets the GOP length.
    pub fn gop(mut self, frames: u32) -> Self {
        self.gop = Some(frames);
        self
    }

    /// Sets the number of consecutive B-frames (0: none), instead of the engine's default.
    pub fn b_frames(mut self, n: u32) -> Self {
        self.b_frames = Some(n);
        self
    }

    /// The B-frames asked for, for an engine whose own default is none (NVENC,
    /// VideoToolbox, OpenH264, the AV1 encoders): the count set, else 0.
    pub fn b_frame_count(&self) -> u32 {
        self.b_frames.unwrap_or(0)
    }

    /// Sets the preset.
    pub fn preset(mut self, p: Preset) -> Self {
        self.preset = p;
        self
    }

    /// Sets the tuning.
    pub fn tuning(mut self, t: Tuning) -> Self {
        self.tuning = t;
        self
    }

    /// Sets the output layout.
    pub fn layout(mut self, l: PacketLayout) -> Self {
        self.layout = l;
        self
    }

    /// Sets the engine preference.
    pub fn engine(mut self, e: EnginePreference) -> Self {
        self.engine = e;
        self
    }

    /// Requires a hardware engine.
    pub fn require_hardware(mut self, on: bool) -> Self {
        self.require_hardware = on;
        self
    }

    /// Whether this configuration aims at a bitrate: a CBR or VBR target that the engine
    /// codes to ([`RateControl::targets_bitrate`]), not with lossless tuning, which codes no
    /// rate.
    pub fn targets_bitrate(&self) -> bool {
        self.rate_control.targets_bitrate() && self.tuning != Tuning::Lossless
    }

    /// Names the FFmpeg encoder (see [`EncoderConfig::ffmpeg_encoder`]).
    pub fn ffmpeg_encoder(mut self, name: impl Into<String>) -> Self {
        self.ffmpeg_encoder = Some(name.into());
        self
    }

    /// Checks the configuration; every session does this once when it opens.
    pub fn validate(&self) -> Result<()> {
        const MAX_DIM: u32 = 16384;
        if self.width == 0 || self.height == 0 || self.width > MAX_DIM || self.height > MAX_DIM {
            return Err(Error::invalid_input(format!("size {}x{} (each side 1..={MAX_DIM})", self.width, self.height)));
        }
        if self.fps.num <= 0 || self.fps.den <= 0 || self.fps.as_f64() > 1000.0 {
            return Err(Error::invalid_input(format!("frame rate {} (positive, at most 1000)", self.fps)));
        }
        check_timebase(self.timebase)?;
        // Engines take 4:2:0 YUV, and convert these 8-bit RGB layouts on the way in.
        if !(self.input_format.is_yuv()
            || matches!(self.input_format, PixelFormat::Rgb24 | PixelFormat::Bgra | PixelFormat::RgbPlanar))
        {
            return Err(Error::unsupported(
                format!("input_format {}", self.input_format),
                "encoders take nv12, yuv420p, p010le, yuv420p10le, rgb24, bgra or rgbp",
            ));
        }
        if matches!(
            self.input_format,
            PixelFormat::Yuv420p | PixelFormat::Nv12 | PixelFormat::Yuv420p10 | PixelFormat::P010
        ) && (!self.width.is_multiple_of(2) || !self.height.is_multiple_of(2))
        {
            return Err(Error::invalid_input(format!(
                "4:2:0 input needs even width and height, got {}x{}",
                self.width, self.height
            )));
        }
        match self.rate_control {
            RateControl::Cbr { bitrate: 0 } => return Err(Error::invalid_input("CBR bitrate 0")),
            RateControl::Vbr { avg, max } if avg == 0 || max < avg => {
                return Err(Error::invalid_input(format!("VBR average {avg} / maximum {max}: need 0 < avg ≤ max")));
            }
            RateControl::ConstQp { i, p, b } if i > 51 || p > 51 || b > 51 => {
                return Err(Error::invalid_input("constant QP values must be 0..=51"));
            }
            RateControl::ConstQuality { q } if q > 51 => {
                return Err(Error::invalid_input("constant quality must be 0..=51"));
            }
            _ => {}
        }
        if let Some((lo, hi)) = self.qp_range
            && (lo > hi || hi > 51)
        {
            return Err(Error::invalid_input(format!("QP range {lo}..{hi} (0 ≤ min ≤ max ≤ 51)")));
        }
        if self.gop == Some(0) {
            return Err(Error::invalid_input("GOP length 0 (use 1 for all-intra)"));
        }
        if self.b_frame_count() > 16 {
            return Err(Error::invalid_input(format!("{} B-frames (at most 16)", self.b_frame_count())));
        }
        if self.frames_in_flight == 0 || self.frames_in_flight > 64 {
            return Err(Error::invalid_input("frames in flight must be 1..=64"));
        }
        if matches!(self.tuning, Tuning::LowLatency | Tuning::UltraLowLatency) && self.b_frame_count() > 0 {
            return Err(Error::invalid_input("low-latency tunings take no B-frames"));
        }
        if let EnginePreference::Only(e) = self.engine {
            if !e.handles(crate::Direction::Encode) {
                return Err(Error::invalid_input(format!("engine {e} does not encode")));
            }
            if self.require_hardware && !e.is_hardware() {
                return Err(Error::invalid_input(format!("engine {e} is software but hardware is required")));
            }
        }
        Ok(())
    }
}

/// Per-frame options for [`crate::Encoder::submit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameOptions {
    /// Presentation timestamp, in the encoder's timebase.
    pub pts: Option<i64>,
    /// Make this frame an IDR.
    pub force_keyframe: bool,
}

/// When a [`crate::Encoder::reconfigure`] takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SwitchMode {
    /// On the next submitted frame (in place where the engine can).
    #[default]
    Immediate,
    /// At the next keyframe (forced by the caller or made by the GOP).
    OnNextKeyframe,
    /// Drain the current session, then open a new one (any change, size included).
    DrainThenSwap,
}
