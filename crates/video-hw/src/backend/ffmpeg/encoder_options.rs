//! The one table of the FFmpeg encode engine: which libavcodec encoders serve each
//! engine and codec ([`ENCODERS`], in order of preference; [`choose`] takes the first the
//! loaded FFmpeg has), and how every neutral [`EncoderConfig`] setting becomes that
//! encoder's `AVCodecContext` options and private `AVOptions` ([`plan`]), or a typed
//! [`Error::Unsupported`] naming the encoder and the setting.
//!
//! Everything is expressed as FFmpeg option names and values, exactly what `ffmpeg
//! -c:v <encoder> -<name> <value>` would set (`b` is `-b:v`), so a [`Plan`] reads as an
//! ffmpeg command line ([`Plan::cli_args`]). The encoder sets them with `av_opt_set`
//! before `avcodec_open2`; an option this FFmpeg build lacks fails the open with
//! `Unsupported` ("option 'forced_idr' (force keyframe) is not in this FFmpeg build").
//!
//! | setting | libx264 | libx265 | libsvtav1 | libaom-av1 | h264/hevc/av1_qsv | h264/hevc_vaapi | h264/hevc_videotoolbox | h264/hevc_amf |
//! |---|---|---|---|---|---|---|---|---|
//! | `Cbr { b }` | `b`=`maxrate`=`bufsize`=b, `nal-hrd cbr` (filler up to the rate), `vbv-init=1.0` | `b`=`maxrate`=`bufsize`=b, `strict-cbr=1`, `vbv-init=0.95` (the VBV starts 95% full: at x265's 90% short clips ended 4-7% under) | `b`=b, `rc=2` (CBR) in the low-delay `pred-struct=1` (SVT-AV1 has CBR only there), with buffer settings for the SVT-AV1 version loaded (`svt.rs`; a flat `rtc` structure from 4.0) | `b`=`minrate`=`maxrate`=`bufsize`=b (libaomenc picks CBR when `minrate` = `maxrate` = `b`), `rc_init_occupancy`=0.6·b, `undershoot-pct 100`, `lag-in-frames 0`, `max-intra-rate=150` (`aom.rs`) | `b`=`maxrate`=b, `bufsize`=b (qsvenc picks CBR) | `rc_mode CBR`, `b`=`maxrate`=`bufsize`=b | `b`=`maxrate`=b (average + data-rate limit; no strict CBR in 5.1) | `rc cbr`, `b`=`maxrate`=`bufsize`=b, `filler_data 1` |
//! | `Vbr { avg, max }` | `b`=avg, `maxrate`=`bufsize`=max, `ratetol=0.1` (x264's default 1.0 ended short clips 7-16% under) | max > avg: CBR at avg as above (`strict-cbr=1`, `vbv-init=0.95`), `maxrate`=avg, `bufsize`=max − avg (x265's own VBR ended short clips 8-15% under, and let a second carry 1.47 times the peak); max = avg: `b`=`maxrate`=`bufsize`=avg | CBR at avg as above, in a buffer of (max − avg) for one second (`svt.rs`: SVT's own VBR holds no peak) | libaom's CBR at avg as above, in a buffer of (max − avg) (`aom.rs`: its one-pass VBR overshot 20-60%) | `b`=avg, `maxrate`=max, `bufsize`=max | `rc_mode VBR`, `b`, `maxrate`, `bufsize`=max | `b`=avg, `maxrate`=max | `rc vbr_peak`, `b`, `maxrate`, `bufsize`=max |
//! | `ConstQp { i, p, b }` | `qp`=p, `i_qfactor`=2^((i−p)/6), `b_qfactor`=2^((b−p)/6) | `qp`=p, `ipratio`, `pbratio` (same ratios) | Unsupported (SVT varies QP over its hierarchy) | i = p = b: `b`=0, `crf`=`qmin`=`qmax`=p scaled to 0..63 (one quantizer for every frame); else Unsupported | `flags +qscale`, `global_quality`=p·118, `i_qfactor 1`, `i_qoffset`=i−p, `b_qfactor 1`, `b_qoffset`=b−p | `rc_mode CQP`, `qp`=p, I/B by qfactor 1 / qoffset as QSV | Unsupported | `rc cqp`, `qp_i`, `qp_p`, `qp_b` (H.264) |
//! | `ConstQuality { q }` | `crf`=q | `crf`=q | `crf`=round(q·63/51) | `b`=0, `crf`=round(q·63/51) (libaom's constant-quality mode) | `global_quality`=max(q,1) (ICQ) | `rc_mode ICQ`, `global_quality`=max(q,1) | `flags +qscale`, `global_quality`=(100−q·100/51)·118 | Unsupported |
//! | `qp_range (lo, hi)` | `qmin`, `qmax` | `qpmin`, `qpmax` | `min-qp`, `max-qp` scaled to 0..63 | `qmin`, `qmax` scaled to 0..63; Unsupported with constant QP, or with a `crf` outside them | `qmin`, `qmax` | `qmin`, `qmax` | Unsupported | `qmin`, `qmax` |
//! | `gop: Some(n)` | `g`=n, `keyint_min`=n, `sc_threshold 0` (an IDR exactly every n frames) | `g`, `keyint_min`, `scenecut=0` | `g`=n | `g`=n, `keyint_min`=n (a key frame exactly every n frames) | `g`=n, `idr_interval 0` (av1_qsv: `g` only) | `g`=n, `idr_interval 0` | `g`=n | `g`=n |
//! | `gop: None` | x264's default (250, scene cuts on) | x265's (250) | SVT's | libaom's (scene cuts on) | the runtime's | FFmpeg's (120) | VideoToolbox's | AMF's |
//! | always (keyframes are IDR) | closed GOP (x264 default) | `open-gop=0` | SVT default (key frames) | libaom default (key frames) | — | — | — | — |
//! | `b_frames` n | `bf`=n | `bf`=n | n > 0 → Unsupported (no reordering exposed) | n > 0 → Unsupported (no reordering exposed) | `bf`=n | `bf`=n | `bf`=n | H.264 `bf`=n; HEVC n > 0 → Unsupported |
//! | `b_frames: None` | x264's default (3, adaptive, pyramid) | x265's (4) | none | none | FFmpeg's default | FFmpeg's default | FFmpeg's default | H.264 FFmpeg's default; HEVC none |
//! | `b_frames: None` with a low-latency tuning | `bf`=0 | `bf`=0 | none | none | `bf`=0 | `bf`=0 | `bf`=0 | H.264 `bf`=0; HEVC none |
//! | `preset` Fastest … Slowest | `preset` ultrafast, veryfast, fast, medium, slow, slower, veryslow | same names | `preset` 12, 11, 10, 8, 6, 4, 2 | `cpu-used` 8, 7, 6, 5, 4, 2, 1 (libaom 3.6 runs 7 and 8 as 6 in its good-quality usage) | `preset` veryfast, faster, fast, medium, slow, slower, veryslow | `compression_level` 7 … 1 (driver quality level) | Fastest/Faster/Fast `realtime 1`, else default | `quality` speed, speed, balanced, balanced, quality, quality, quality |
//! | `tuning` HighQuality | — | — | — | — | — | — | — | `usage transcoding` |
//! | `tuning` LowLatency / UltraLowLatency | `tune zerolatency` | `tune zerolatency` | `pred-struct=1` | `usage realtime`, `lag-in-frames 0` (unless `lookahead` is set) | `async_depth 1` | `async_depth 1` | `realtime 1` | `usage lowlatency` / `ultralowlatency` |
//! | `tuning` Lossless | `qp 0` (rate control not used) | `lossless=1` | Unsupported | `lossless=1` (rate control not used) | Unsupported | Unsupported | Unsupported | Unsupported |
//! | `lookahead: Some(n)` | `rc-lookahead`=n | `rc-lookahead`=n | `lookahead`=n | `lag-in-frames`=n | h264: `look_ahead 1`, `look_ahead_depth`=n; n = 0 nothing; HEVC/AV1 n > 0 → Unsupported | n > 0 → Unsupported | n > 0 → Unsupported | n > 0 → Unsupported |
//! | force keyframe | frame `pict_type` I, `forced-idr 1` | `pict_type` I, `forced-idr 1` | Unsupported after the first frame (FFmpeg 5.1's wrapper ignores `pict_type`) | `pict_type` I (libaomenc sets `AOM_EFLAG_FORCE_KF`); libaom before 3.6 with `lag-in-frames 0`: Unsupported after the first frame (it makes none: `aom.rs`) | `pict_type` I, `forced_idr 1` | `pict_type` I (vaapi_encode forces an IDR) | `pict_type` I (a forced key frame) | Unsupported after the first frame (amfenc of this era ignores `pict_type`) |
//! | `repeat_parameter_sets`, `layout` | `flags +global_header` for every encoder: parameter sets from `extradata` (and any in band), re-inserted before keyframes by the packetizer as the config asks; LengthPrefixed: 4-byte lengths, parameter sets only out of band. AV1: sequence header OBUs the same way; LengthPrefixed → Unsupported | | | | | | | |
//! | `color` | `color_primaries`, `color_trc`, `colorspace`, `color_range` (H.273 code points) when not unspecified/limited | same | same | same | same | same | same | same |
//! | threads | `threads` auto (0), or `VIDEO_HW_FFMPEG_THREADS` | same | same | same, and `row-mt 1` | — | — | — | — |
//! | `fps`, `timebase` | `AVCodecContext.framerate`, `.time_base` (fields, not options); x264 also `force-cfr=1`, so that its SPS's VUI timing states `fps` rather than the time base | | | | | | | |
//! | `frames_in_flight` | not used: encoding is synchronous, packets are drained after each frame | | | | | | | |
//! | `device_index` | — | — | — | — | `/dev/dri/renderD(128+i)` as the QSV child device | `/dev/dri/renderD(128+i)` | — | — |
//!
//! x265 settings marked "through x265" go into one `x265-params` option (with
//! `log-level=error`), x264's `force-cfr` and `ratetol` into `x264-params`, SVT-AV1's into
//! `svtav1-params`, libaom's `lossless` into `aom-params`.

use std::fmt;
use std::sync::Mutex;

use crate::codec::{Codec, ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, TransferCharacteristics};
use crate::config::{EncoderConfig, Preset, RateControl, Tuning};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::packet::PacketLayout;

/// The family of an encoder: encoders of one family share their option names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// libx264.
    X264,
    /// libx265.
    X265,
    /// libsvtav1 (SVT-AV1).
    SvtAv1,
    /// libaom-av1 (libaom, the AV1 reference encoder).
    Aom,
    /// Intel Quick Sync Video (qsvenc).
    Qsv,
    /// VA-API (vaapi_encode).
    Vaapi,
    /// Apple VideoToolbox (videotoolboxenc).
    VideoToolbox,
    /// AMD AMF (amfenc).
    Amf,
}

/// How frames reach an encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameInput {
    /// Host frames in one of the encoder's software pixel formats.
    Software,
    /// Uploaded into a VA-API surface pool (`hw_frames_ctx`, NV12 or P010).
    VaapiSurfaces,
}

/// One libavcodec encoder the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EncoderSpec {
    /// libavcodec's name of the encoder.
    pub name: &'static str,
    /// The registry engine it serves.
    pub engine: Engine,
    /// The codec it makes.
    pub codec: Codec,
    /// Its option family.
    pub family: Family,
    /// How frames reach it.
    pub input: FrameInput,
    /// Whether it takes 10-bit input.
    pub ten_bit: bool,
}

const fn spec(name: &'static str, engine: Engine, codec: Codec, family: Family, ten_bit: bool) -> EncoderSpec {
    let input = if matches!(family, Family::Vaapi) { FrameInput::VaapiSurfaces } else { FrameInput::Software };
    EncoderSpec { name, engine, codec, family, input, ten_bit }
}

/// Every encoder the engine knows, per engine and codec. Where a pair has several, they
/// are its candidates in order of preference ([`choose`]).
pub(crate) const ENCODERS: &[EncoderSpec] = &[
    spec("libx264", Engine::Ffmpeg, Codec::H264, Family::X264, true),
    spec("libx265", Engine::Ffmpeg, Codec::Hevc, Family::X265, true),
    spec("libsvtav1", Engine::Ffmpeg, Codec::Av1, Family::SvtAv1, true),
    // For FFmpeg builds without SVT-AV1 (some distributions', some PyAV wheels'). libaom
    // comes second: it is several times slower (8 frames of 320x240 at similar sizes, one
    // thread, other work on the machine: 3.3 s at cpu-used 5, SVT-AV1's preset 8 0.6 s).
    spec("libaom-av1", Engine::Ffmpeg, Codec::Av1, Family::Aom, true),
    spec("h264_qsv", Engine::Qsv, Codec::H264, Family::Qsv, false),
    spec("hevc_qsv", Engine::Qsv, Codec::Hevc, Family::Qsv, true),
    spec("av1_qsv", Engine::Qsv, Codec::Av1, Family::Qsv, true),
    spec("h264_vaapi", Engine::Vaapi, Codec::H264, Family::Vaapi, false),
    spec("hevc_vaapi", Engine::Vaapi, Codec::Hevc, Family::Vaapi, true),
    spec("h264_videotoolbox", Engine::VideoToolbox, Codec::H264, Family::VideoToolbox, false),
    spec("hevc_videotoolbox", Engine::VideoToolbox, Codec::Hevc, Family::VideoToolbox, true),
    spec("h264_amf", Engine::Amf, Codec::H264, Family::Amf, false),
    spec("hevc_amf", Engine::Amf, Codec::Hevc, Family::Amf, false),
];

/// The encoder chosen for an engine and codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    /// The first candidate the loaded FFmpeg has.
    pub spec: &'static EncoderSpec,
    /// The candidates before it, which it lacks (the probe names them).
    pub passed_over: Vec<&'static str>,
}

/// The encoder of `engine` for `codec`: the first of its candidates ([`ENCODERS`] order)
/// for which `present` (is this encoder in the loaded FFmpeg?) says yes, or why there is
/// none. `build` names the loaded libavcodec in the error. A pure function of its inputs,
/// so that every choice can be tested without the FFmpeg builds that would make it.
pub(crate) fn choose(engine: Engine, codec: Codec, build: &str, present: impl Fn(&str) -> bool) -> Result<Choice> {
    let what = format!("{codec} encode with {engine}");
    let mut candidates = ENCODERS.iter().filter(|s| s.engine == engine && s.codec == codec).peekable();
    if candidates.peek().is_none() {
        let known: Vec<&str> = ENCODERS.iter().filter(|s| s.engine == engine).map(|s| s.name).collect();
        return Err(Error::unsupported(
            what,
            if known.is_empty() {
                format!("{engine} has no FFmpeg encoder")
            } else {
                format!("video-hw drives no {codec} encoder of {engine} (it has {})", known.join(", "))
            },
        ));
    }
    let mut passed_over = Vec::new();
    for spec in candidates {
        if present(spec.name) {
            return Ok(Choice { spec, passed_over });
        }
        passed_over.push(spec.name);
    }
    let why = match passed_over.as_slice() {
        [one] => format!("encoder {one} not in this FFmpeg build ({build})"),
        all => format!("encoders {} not in this FFmpeg build ({build})", all.join(", ")),
    };
    Err(Error::unsupported(what, why))
}

/// The encoder named `name` (an [`EncoderConfig::ffmpeg_encoder`]) for `engine` and
/// `codec`, if `present` says this FFmpeg has it; else why not: it is not one of the
/// encoders `engine` drives for `codec` (they are listed), or this build lacks it.
pub(crate) fn choose_named(
    engine: Engine,
    codec: Codec,
    name: &str,
    build: &str,
    present: impl Fn(&str) -> bool,
) -> Result<Choice> {
    let what = format!("{codec} encode with {engine} {name}");
    let Some(spec) = ENCODERS.iter().find(|s| s.engine == engine && s.codec == codec && s.name == name) else {
        let drives: Vec<&str> =
            ENCODERS.iter().filter(|s| s.engine == engine && s.codec == codec).map(|s| s.name).collect();
        let why = if drives.is_empty() {
            format!("{engine} drives no {codec} encoder")
        } else {
            format!("not one of {engine}'s {codec} encoders ({})", drives.join(", "))
        };
        return Err(Error::unsupported(what, why));
    };
    if !present(spec.name) {
        return Err(Error::unsupported(what, format!("encoder {name} not in this FFmpeg build ({build})")));
    }
    Ok(Choice { spec, passed_over: Vec::new() })
}

/// The engine that drives the FFmpeg encoder `name` and the codec it encodes, if video-hw
/// drives it at all.
pub(crate) fn engine_of(name: &str) -> Option<(Engine, Codec)> {
    ENCODERS.iter().find(|s| s.name == name).map(|s| (s.engine, s.codec))
}

/// Every FFmpeg encoder name video-hw drives, in [`ENCODERS`] order (for messages).
pub(crate) fn names() -> Vec<&'static str> {
    ENCODERS.iter().map(|s| s.name).collect()
}

/// Encoders treated as absent from the loaded FFmpeg: a test hook
/// (`registry::__hide_ffmpeg_encoders`), empty otherwise.
static HIDDEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Treats `names` as absent from the loaded FFmpeg from now on (replacing any earlier list).
pub(crate) fn hide(names: &[&str]) {
    *HIDDEN.lock().unwrap_or_else(|p| p.into_inner()) = names.iter().map(|n| n.to_string()).collect();
}

/// Whether `name` is hidden by [`hide`].
pub(crate) fn hidden(name: &str) -> bool {
    HIDDEN.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|n| n == name)
}

/// One option to set before `avcodec_open2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opt {
    /// The `AVOption` name (codec context or the encoder's private class).
    pub name: &'static str,
    /// Its value, as text (`av_opt_set` parses it).
    pub value: String,
    /// The neutral setting it comes from, for error messages.
    pub from: &'static str,
}

/// How the encoder is asked for a keyframe on a given frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ForceKeyframe {
    /// `AVFrame.pict_type = AV_PICTURE_TYPE_I` (with the plan's forced-IDR option).
    PictTypeI,
    /// Not possible: the reason.
    Unsupported(&'static str),
}

/// Everything an encoder is opened with, from one [`EncoderConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The encoder.
    pub spec: EncoderSpec,
    /// Options, in the order they are set.
    pub options: Vec<Opt>,
    /// How a forced keyframe is made.
    pub force_keyframe: ForceKeyframe,
    /// What this encoder may not hold of the configuration (an SVT-AV1 before 4.0 given a
    /// bitrate target: `svt::rate_caveat`), for its description and the probe's notes.
    pub caveat: Option<String>,
}

impl Plan {
    /// The options as an ffmpeg command line fragment (`-preset medium -b:v 4000000 …`),
    /// the same settings the ffmpeg CLI would need for the same encode.
    pub fn cli_args(&self) -> String {
        let mut out = format!("-c:v {}", self.spec.name);
        for o in &self.options {
            let name = if o.name == "b" { "b:v" } else { o.name };
            let value = if o.value.is_empty() || o.value.contains([' ', ':', '+']) && o.name != "flags" {
                format!("'{}'", o.value)
            } else {
                o.value.clone()
            };
            out.push_str(&format!(" -{name} {value}"));
        }
        out
    }

    /// The value of option `name`, if the plan sets it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options.iter().find(|o| o.name == name).map(|o| o.value.as_str())
    }
}

/// Collects options, x265/SVT parameter lists and flags while the table is walked.
pub(super) struct Builder {
    pub(super) spec: EncoderSpec,
    pub(super) options: Vec<Opt>,
    /// `key=value` pairs of `x264-params` / `x265-params` / `svtav1-params`.
    pub(super) params: Vec<(&'static str, String, &'static str)>,
    pub(super) flags: Vec<&'static str>,
    /// The loaded SVT-AV1's major version, for libsvtav1 (its rate control differs: `svt`).
    pub(super) svt_major: Option<u32>,
}

impl Builder {
    pub(super) fn opt(&mut self, from: &'static str, name: &'static str, value: impl fmt::Display) {
        self.options.push(Opt { name, value: value.to_string(), from });
    }

    pub(super) fn param(&mut self, from: &'static str, key: &'static str, value: impl fmt::Display) {
        self.params.push((key, value.to_string(), from));
    }

    pub(super) fn unsupported(&self, setting: impl fmt::Display, why: impl fmt::Display) -> Error {
        Error::unsupported(format!("{setting} with {}", self.spec.name), why)
    }
}

/// x264/x265 preset names for Fastest … Slowest.
const X26X_PRESETS: [&str; 7] = ["ultrafast", "veryfast", "fast", "medium", "slow", "slower", "veryslow"];
/// SVT-AV1 presets (0 slowest … 13 fastest) for Fastest … Slowest.
const SVT_PRESETS: [u8; 7] = [12, 11, 10, 8, 6, 4, 2];
/// libaom `cpu-used` (FFmpeg 5.1 takes 0 slowest … 8) for Fastest … Slowest. libaom 3.6's
/// good-quality usage stops at 6: 7 and 8 gave the same bytes as 6 (8 frames of 320x240,
/// 2026-11-25); they are faster only in its realtime usage (low-latency tuning: 1.76 s,
/// 1.22 s, 1.10 s for 25 frames at 6, 7, 8). In one run of 8 frames: 1.8 s at 5 (the
/// default, Medium), 5.5 s at 3, 13 s at 2, 20 s at 1 (FFmpeg's default).
const AOM_CPU_USED: [u8; 7] = [8, 7, 6, 5, 4, 2, 1];
/// qsvenc preset names for Fastest … Slowest.
const QSV_PRESETS: [&str; 7] = ["veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"];
/// VA-API quality levels (`compression_level`, 1 best … 7 fastest on Intel) for Fastest … Slowest.
const VAAPI_LEVELS: [u8; 7] = [7, 6, 5, 4, 3, 2, 1];
/// AMF `quality` for Fastest … Slowest.
const AMF_QUALITY: [&str; 7] = ["speed", "speed", "balanced", "balanced", "quality", "quality", "quality"];
/// `FF_QP2LAMBDA`: `global_quality` is a QP times this.
pub(super) const QP2LAMBDA: u32 = 118;

/// An H.264-scale QP (0..=51) on AV1's 0..=63 scale.
pub(super) fn av1_q(q: u8) -> u32 {
    (q as u32 * 63 + 25) / 51
}

/// The QP ratio x264/x265 derive an offset of `delta` QP from (6 QP = factor 2).
pub(super) fn qp_ratio(delta: i32) -> String {
    format!("{:.6}", 2f64.powf(delta as f64 / 6.0))
}

/// Encoder threads: the configuration's count, else `VIDEO_HW_FFMPEG_THREADS` when set,
/// else `auto` (0; the encoder shares the cores with other sessions, see `software_threads.rs`).
pub(crate) fn software_threads(configured: Option<u32>) -> String {
    configured.or(crate::env::settings().ffmpeg_threads).map_or_else(|| "0".to_string(), |n| n.to_string())
}

/// Maps `config` onto the options of `spec` (see the module table); `Unsupported`
/// names the encoder and the setting it cannot honour.
pub(crate) fn plan(spec: &EncoderSpec, config: &EncoderConfig) -> Result<Plan> {
    let svt_major = if spec.family == Family::SvtAv1 { super::svt::loaded_major() } else { None };
    let mut plan = plan_with(spec, config, svt_major)?;
    // The libaom loaded decides whether it makes forced key frames without look-ahead.
    if spec.family == Family::Aom
        && plan.get("lag-in-frames") == Some("0")
        && let Some(why) = super::aom::forced_key_frames_refused(super::aom::loaded_version())
    {
        plan.force_keyframe = ForceKeyframe::Unsupported(why);
    }
    Ok(plan)
}

/// [`plan`] for the SVT-AV1 of major version `svt_major` (`None`: unknown).
pub(crate) fn plan_with(spec: &EncoderSpec, config: &EncoderConfig, svt_major: Option<u32>) -> Result<Plan> {
    use Family as F;
    let fam = spec.family;
    let mut b =
        Builder { spec: *spec, options: Vec::new(), params: Vec::new(), flags: vec!["global_header"], svt_major };
    let name = spec.name;
    let preset = config.preset.index();
    let lossless = config.tuning == Tuning::Lossless;

    // Input depth.
    if config.input_format.bit_depth() > 8 && !spec.ten_bit {
        return Err(b.unsupported(format!("{} input", config.input_format), format!("{name} encodes 8-bit only")));
    }

    // Preset.
    match fam {
        F::X264 | F::X265 => b.opt("preset", "preset", X26X_PRESETS[preset]),
        F::SvtAv1 => b.opt("preset", "preset", SVT_PRESETS[preset]),
        F::Aom => b.opt("preset", "cpu-used", AOM_CPU_USED[preset]),
        F::Qsv => b.opt("preset", "preset", QSV_PRESETS[preset]),
        F::Vaapi => b.opt("preset", "compression_level", VAAPI_LEVELS[preset]),
        F::VideoToolbox => {
            if config.preset <= Preset::Fast {
                b.opt("preset", "realtime", 1);
            }
        }
        F::Amf => b.opt("preset", "quality", AMF_QUALITY[preset]),
    }

    // Tuning.
    match (config.tuning, fam) {
        (Tuning::HighQuality, F::Amf) => b.opt("tuning", "usage", "transcoding"),
        (Tuning::HighQuality, _) => {}
        (Tuning::LowLatency | Tuning::UltraLowLatency, F::X264 | F::X265) => b.opt("tuning", "tune", "zerolatency"),
        (Tuning::LowLatency | Tuning::UltraLowLatency, F::SvtAv1) => b.param("tuning", "pred-struct", 1),
        (Tuning::LowLatency | Tuning::UltraLowLatency, F::Aom) => {
            b.opt("tuning", "usage", "realtime");
            // No frames held back for alt-ref selection, unless a look-ahead is asked for.
            if config.lookahead.is_none() {
                b.opt("tuning", "lag-in-frames", 0);
            }
        }
        (Tuning::LowLatency | Tuning::UltraLowLatency, F::Qsv | F::Vaapi) => b.opt("tuning", "async_depth", 1),
        (Tuning::LowLatency | Tuning::UltraLowLatency, F::VideoToolbox) => {
            if config.preset > Preset::Fast {
                b.opt("tuning", "realtime", 1);
            }
        }
        (Tuning::LowLatency, F::Amf) => b.opt("tuning", "usage", "lowlatency"),
        (Tuning::UltraLowLatency, F::Amf) => b.opt("tuning", "usage", "ultralowlatency"),
        (Tuning::Lossless, F::X264) => b.opt("tuning", "qp", 0),
        (Tuning::Lossless, F::X265 | F::Aom) => b.param("tuning", "lossless", 1),
        (Tuning::Lossless, F::SvtAv1 | F::Qsv | F::Vaapi | F::VideoToolbox | F::Amf) => {
            return Err(b.unsupported("lossless tuning", format!("{name} has no lossless mode in FFmpeg 5.1")));
        }
    }

    // Rate control (not used with lossless, which fixes QP 0).
    if !lossless {
        super::encoder_rate::rate_control(&mut b, config)?;
    }

    // QP range.
    if let Some((lo, hi)) = config.qp_range {
        match fam {
            F::X264 | F::Qsv | F::Vaapi | F::Amf => {
                b.opt("qp_range", "qmin", lo);
                b.opt("qp_range", "qmax", hi);
            }
            F::X265 => {
                b.param("qp_range", "qpmin", lo);
                b.param("qp_range", "qpmax", hi);
            }
            F::SvtAv1 => {
                b.param("qp_range", "min-qp", av1_q(lo).max(1));
                b.param("qp_range", "max-qp", av1_q(hi).max(1));
            }
            F::Aom => {
                let (qmin, qmax) = (av1_q(lo), av1_q(hi));
                match (config.rate_control, lossless) {
                    (_, true) => {}
                    (RateControl::ConstQp { .. }, false) => {
                        return Err(b.unsupported(
                            "a QP range with constant QP",
                            "libaom-av1's constant QP is qmin = qmax = the QP already",
                        ));
                    }
                    // libaomenc refuses to open otherwise ("CQ level must be between
                    // minimum and maximum quantizer").
                    (RateControl::ConstQuality { q }, false) if !(qmin..=qmax).contains(&av1_q(q)) => {
                        return Err(b.unsupported(
                            format!("constant quality {q} (crf {}) outside the QP range {lo}..{hi}", av1_q(q)),
                            format!("libaom-av1 needs its crf within qmin..qmax ({qmin}..{qmax})"),
                        ));
                    }
                    _ => {}
                }
                b.opt("qp_range", "qmin", qmin);
                b.opt("qp_range", "qmax", qmax);
            }
            F::VideoToolbox => {
                return Err(b.unsupported("a QP range", "videotoolbox takes no QP limits in FFmpeg 5.1"));
            }
        }
    }

    // GOP and keyframes.
    match (config.gop, fam) {
        (Some(n), F::X264) => {
            b.opt("gop", "g", n);
            b.opt("gop", "keyint_min", n);
            b.opt("gop", "sc_threshold", 0);
        }
        (Some(n), F::X265) => {
            b.opt("gop", "g", n);
            b.opt("gop", "keyint_min", n);
            b.param("gop", "scenecut", 0);
        }
        // libaomenc passes keyint_min on only when it equals g: then libaom's minimum and
        // maximum key frame distances are both n, and no scene cut adds one.
        (Some(n), F::Aom) => {
            b.opt("gop", "g", n);
            b.opt("gop", "keyint_min", n);
        }
        (Some(n), F::Qsv | F::Vaapi) => {
            b.opt("gop", "g", n);
            // av1_qsv has no idr_interval (FFmpeg 8's, the first seen with it here): its
            // key frames come every `g` frames already.
            if spec.codec != Codec::Av1 {
                b.opt("gop", "idr_interval", 0);
            }
        }
        (Some(n), F::SvtAv1 | F::VideoToolbox | F::Amf) => b.opt("gop", "g", n),
        (None, _) => {}
    }
    if fam == F::X265 {
        b.param("gop", "open-gop", 0);
    }

    // B-frames.
    match fam {
        F::SvtAv1 if config.b_frame_count() > 0 => {
            return Err(b.unsupported(
                format!("{} B-frames", config.b_frame_count()),
                "AV1 has no B-frames; SVT-AV1 reorders inside its temporal units (use b_frames 0)",
            ));
        }
        F::Aom if config.b_frame_count() > 0 => {
            return Err(b.unsupported(
                format!("{} B-frames", config.b_frame_count()),
                "AV1 has no B-frames; libaom reorders inside its temporal units (use b_frames 0)",
            ));
        }
        F::SvtAv1 | F::Aom => {}
        F::Amf if spec.codec == Codec::Hevc && config.b_frame_count() > 0 => {
            return Err(b.unsupported(
                format!("{} B-frames", config.b_frame_count()),
                "hevc_amf has no B-frames in FFmpeg 5.1",
            ));
        }
        F::Amf if spec.codec == Codec::Hevc => {}
        _ => match config.b_frames {
            Some(n) => b.opt("b_frames", "bf", n),
            // A low-latency tuning holds no picture back, whatever the encoder's default
            // (libx264's zerolatency already means none; QSV's default lets the runtime pick).
            None if matches!(config.tuning, Tuning::LowLatency | Tuning::UltraLowLatency) => b.opt("b_frames", "bf", 0),
            // The encoder's own default, as the ffmpeg tool gives it (libx264 3, libx265 4).
            None => {}
        },
    }

    // Look-ahead.
    match (config.lookahead, fam) {
        (None, _) => {}
        (Some(n), F::X264) => b.opt("lookahead", "rc-lookahead", n),
        (Some(n), F::X265) => b.param("lookahead", "rc-lookahead", n),
        (Some(n), F::SvtAv1) => b.param("lookahead", "lookahead", n),
        (Some(n), F::Aom) => b.opt("lookahead", "lag-in-frames", n),
        (Some(0), F::Qsv | F::Vaapi | F::VideoToolbox | F::Amf) => {}
        (Some(n), F::Qsv) if spec.codec == Codec::H264 => {
            b.opt("lookahead", "look_ahead", 1);
            b.opt("lookahead", "look_ahead_depth", n);
        }
        (Some(n), _) => {
            return Err(b.unsupported(format!("{n} frames of look-ahead"), format!("{name} has no look-ahead setting")));
        }
    }

    // Forced keyframes.
    let force_keyframe = match fam {
        F::X264 | F::X265 => {
            b.opt("force keyframe", "forced-idr", 1);
            ForceKeyframe::PictTypeI
        }
        F::Qsv => {
            b.opt("force keyframe", "forced_idr", 1);
            ForceKeyframe::PictTypeI
        }
        // libaomenc turns a pict_type I frame into AOM_EFLAG_FORCE_KF (a key frame).
        F::Vaapi | F::VideoToolbox | F::Aom => ForceKeyframe::PictTypeI,
        F::Amf => ForceKeyframe::Unsupported("FFmpeg 5.1's amfenc ignores pict_type (keyframes follow the GOP only)"),
        F::SvtAv1 => ForceKeyframe::Unsupported(
            "FFmpeg 5.1's libsvtav1 wrapper ignores pict_type (keyframes follow the GOP only)",
        ),
    };

    // Layout (parameter sets are handled by the packetizer; see the module table).
    if config.layout == PacketLayout::LengthPrefixed && !spec.codec.is_nal_based() {
        return Err(b.unsupported("length-prefixed output", format!("{} packets are OBUs, not NAL units", spec.codec)));
    }

    // Colour description.
    color(&mut b, &config.color);

    // Threads (software encoders).
    if matches!(fam, F::X264 | F::X265 | F::SvtAv1 | F::Aom) {
        b.opt("threads", "threads", software_threads(config.threads));
    }
    if fam == F::Aom {
        // Threads across superblock rows as well as tiles: one 1080p tile column is
        // otherwise one thread (libaom 3.6 turns it on by itself; said here for the reader
        // of the options line and for builds that do not).
        b.opt("threads", "row-mt", 1);
    }

    // Parameter lists and flags, last.
    if fam == F::X265 {
        b.param("logging", "log-level", "error");
    }
    // x264 writes the SPS's VUI timing from its time base, the session's (1/90000 by
    // default: "90000 fps"), unless its input is constant-rate: force-cfr makes it
    // 1/`framerate` (timestamps still pass through, B-frame reordering included).
    if fam == F::X264 {
        b.param("fps", "force-cfr", 1);
    }
    if !b.params.is_empty() {
        let joined: Vec<String> = b.params.iter().map(|(k, v, _)| format!("{k}={v}")).collect();
        let opt = match fam {
            F::X264 => "x264-params",
            F::X265 => "x265-params",
            F::Aom => "aom-params",
            _ => "svtav1-params",
        };
        b.opt("encoder parameters", opt, joined.join(":"));
    }
    let flags: String = b.flags.iter().map(|f| format!("+{f}")).collect();
    b.opt("layout", "flags", flags);
    let caveat = if fam == F::SvtAv1 && config.targets_bitrate() { super::svt::rate_caveat(b.svt_major) } else { None };
    Ok(Plan { spec: *spec, options: b.options, force_keyframe, caveat })
}

/// The colour rows: H.273 code points, only what is specified.
fn color(b: &mut Builder, color: &ColorInfo) {
    if color.primaries != ColorPrimaries::UNSPECIFIED {
        b.opt("color", "color_primaries", color.primaries.0);
    }
    if color.transfer != TransferCharacteristics::UNSPECIFIED {
        b.opt("color", "color_trc", color.transfer.0);
    }
    if color.matrix != MatrixCoefficients::UNSPECIFIED {
        b.opt("color", "colorspace", color.matrix.0);
    }
    if color.range == ColorRange::Full {
        b.opt("color", "color_range", 2);
    }
}

#[cfg(test)]
#[path = "encoder_options_tests.rs"]
mod tests;
