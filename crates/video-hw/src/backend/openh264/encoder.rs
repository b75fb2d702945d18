//! H.264 encoding with OpenH264: every submitted frame gives one packet at once (no
//! B-frames, no look-ahead, frame skipping off), so pts = dts.
//!
//! How [`EncoderConfig`] maps onto OpenH264's `SEncParamExt`:
//!
//! | setting | OpenH264 |
//! |---|---|
//! | `RateControl::Cbr { bitrate }` | `RC_BITRATE_MODE`, target = max = `bitrate` |
//! | `RateControl::Vbr { avg, max }` | `RC_BITRATE_MODE`, target `avg`, max bitrate `max` |
//! | `RateControl::ConstQp { p, .. }` | `RC_OFF_MODE` (no rate control), every picture at QP `p`, adaptive quantisation off; OpenH264 has one QP for I and P pictures, so `i` and `b` are not used |
//! | `RateControl::ConstQuality { q }` | `RC_OFF_MODE` at base QP `q` with adaptive quantisation on (P pictures vary around `q`); OpenH264 has no CRF-like mode |
//! | `gop: Some(n)` / `None` | `uiIntraPeriod = n` (an IDR every `n` frames) / 0 (IDR on the first frame, on scene changes and when forced) |
//! | `FrameOptions::force_keyframe` | `ForceIntraFrame(true)` before the frame (an IDR) |
//! | `qp_range: Some((lo, hi))` | `iMinQp = lo`, `iMaxQp = hi`; else 12..51 (OpenH264 turns a minimum of 0 into 12..42, and at 42 its rate control could not reach low rates: 720p camera footage asked for 500 kb/s came out at 611) |
//! | first frame, `Cbr`/`Vbr` | a trial encode sizes the first IDR picture to half a one-second buffer at the peak rate ([`first_idr_qp`](super::first_idr_qp), patch 0012) |
//! | `fps` | `fMaxFrameRate` and the layer's `fFrameRate`; the SPS's VUI timing (patch 0005) |
//! | `preset` Fastest | `LOW_COMPLEXITY`, CAVLC (Constrained Baseline), a slice per thread |
//! | `preset` Faster | `LOW_COMPLEXITY`, CABAC (High profile), a slice per thread |
//! | `preset` Fast | `MEDIUM_COMPLEXITY`, CABAC, a slice per thread |
//! | `preset` Medium | `MEDIUM_COMPLEXITY`, CABAC, one slice |
//! | `preset` Slow, Slower, Slowest | `HIGH_COMPLEXITY`, CABAC, one slice, background detection off |
//! | `tuning` HighQuality, LowLatency | `CAMERA_VIDEO_REAL_TIME`, scene-change detection on (OpenH264 accepts only the real-time usage types) |
//! | `tuning` UltraLowLatency | `CAMERA_VIDEO_REAL_TIME`, one reference frame, scene-change IDRs off |
//! | `tuning` Lossless | `Unsupported` |
//! | `b_frames > 0` | `Unsupported` ("openh264 has no B-frames") |
//! | `color` | VUI `video_signal_type` / `colour_description` when anything is specified; RGB/BGRA input is converted with the effective matrix, which is then signalled |
//! | `repeat_parameter_sets` | Annex-B: SPS/PPS before every IDR (OpenH264 always makes them), or only before the first when false |
//! | `layout` LengthPrefixed | 4-byte lengths; SPS/PPS only in [`parameter_sets`](crate::backend::EncoderBackend::parameter_sets) |
//! | `lookahead`, `frames_in_flight`, `device_index` | not used (no look-ahead; encoding is synchronous) |
//! | input Yuv420p / Nv12 / Bgra / Rgb24 / RgbPlanar | I420 natively / converted with [`crate::pixels::convert`] |
//! | input P010 / Yuv420p10 | `Unsupported` ("openh264 encodes 8-bit 4:2:0 only") |
//!
//! Threads: one per slice. The quality presets (Medium, the default, and slower) code one
//! slice on one thread, as slices cost OpenH264 up to 43% more bits; the fast presets use
//! up to 4 (the CPU count, `VIDEO_HW_OPENH264_THREADS` when set); `threads` sets the count.
//! Each thread codes a fixed slice of the picture (load balancing off, so output is
//! reproducible on a given machine). The slow presets also turn background detection off.
//! `reconfigure` changes bitrate (same rate-control kind) and GOP in place; a new frame
//! rate reopens (the SPS's VUI timing changes).

use std::collections::VecDeque;
use std::ffi::c_int;

use video_hw_openh264_sys as sys;

use super::ffi::{EncodedFrame, RawEncoder, SourcePicture};
use crate::backend::EncoderBackend;
use crate::codec::{Codec, ColorInfo, ColorRange, PixelFormat, Rational};
use crate::config::{EncoderConfig, FrameOptions, Preset, RateControl, Tuning};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::packet::{Packet, PacketLayout};
use crate::pixels::convert::{self, YuvMatrix};

/// Level 5.2's frame size limit in macroblocks, the largest OpenH264 encodes.
const MAX_FRAME_MBS: u64 = 36_864;

/// The OpenH264 encode engine.
pub(crate) struct OpenH264Encoder {
    raw: RawEncoder,
    config: EncoderConfig,
    /// For RGB/BGRA input.
    matrix: Option<YuvMatrix>,
    scratch: Vec<u8>,
    packets: VecDeque<Packet>,
    parameter_sets: Vec<Vec<u8>>,
    sent_parameter_sets: bool,
    frames: u64,
}

/// Refuses what OpenH264 cannot encode, naming the setting.
pub(super) fn check_config(config: &EncoderConfig) -> Result<()> {
    if config.codec != Codec::H264 {
        return Err(Error::unsupported(
            format!("{} encode with openh264", config.codec),
            "openh264 encodes H.264 only",
        ));
    }
    if config.b_frame_count() > 0 {
        return Err(Error::unsupported(
            format!("{} B-frames with openh264", config.b_frame_count()),
            "openh264 has no B-frames",
        ));
    }
    if config.tuning == Tuning::Lossless {
        return Err(Error::unsupported("lossless tuning with openh264", "openh264 has no lossless mode"));
    }
    match config.input_format {
        PixelFormat::Yuv420p | PixelFormat::Nv12 | PixelFormat::Bgra | PixelFormat::Rgb24 | PixelFormat::RgbPlanar => {}
        other => {
            return Err(Error::unsupported(
                format!("{other} input with openh264"),
                "openh264 encodes 8-bit 4:2:0 only",
            ));
        }
    }
    if !config.width.is_multiple_of(2) || !config.height.is_multiple_of(2) {
        return Err(Error::unsupported(
            format!("odd picture size {}x{} with openh264", config.width, config.height),
            "openh264 needs even width and height",
        ));
    }
    let mbs = (config.width as u64).div_ceil(16) * (config.height as u64).div_ceil(16);
    if mbs > MAX_FRAME_MBS {
        return Err(Error::unsupported(
            format!("{}x{} encode with openh264", config.width, config.height),
            "openh264 encodes up to level 5.2 (36864 macroblocks, e.g. 4096x2304)",
        ));
    }
    Ok(())
}

fn bitrate(bps: u64) -> c_int {
    bps.min(c_int::MAX as u64) as c_int
}

/// The colour description to signal: the configured one, with the matrix RGB input is
/// converted with filled in.
fn signalled_color(config: &EncoderConfig) -> ColorInfo {
    let mut color = config.color;
    if is_rgb(config.input_format) {
        color.matrix = color.effective_matrix();
    }
    color
}

fn is_rgb(f: PixelFormat) -> bool {
    matches!(f, PixelFormat::Bgra | PixelFormat::Rgb24 | PixelFormat::RgbPlanar)
}

/// Encoder threads (= slices): `config.threads` when given; else one for the quality
/// presets (Medium and slower: slices cost quality, see [`apply_config`]) and, for the fast
/// ones, up to 4 and the CPU count (`VIDEO_HW_OPENH264_THREADS=N` caps it); always at
/// least four macroblock rows per slice.
fn thread_count(config: &EncoderConfig) -> u32 {
    let wanted = match config.threads {
        Some(n) => n,
        None if config.preset >= Preset::Medium => 1,
        None => {
            let cpus = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
            match crate::env::settings().openh264_threads {
                Some(cap) => cpus.min(cap.max(1)),
                None => cpus,
            }
        }
    };
    let by_rows = (config.height.div_ceil(16) / 4).max(1);
    wanted.min(4).min(by_rows).max(1)
}

/// Fills OpenH264's parameters from `config` (see the module table).
pub(super) fn apply_config(p: &mut sys::SEncParamExt, config: &EncoderConfig) {
    let (w, h) = (config.width as c_int, config.height as c_int);
    let fps = config.fps.as_f64().clamp(1.0, 1000.0) as f32;
    p.iUsageType = sys::CAMERA_VIDEO_REAL_TIME;
    p.iPicWidth = w;
    p.iPicHeight = h;
    p.fMaxFrameRate = fps;
    p.iSpatialLayerNum = 1;
    p.iTemporalLayerNum = 1;
    p.eSpsPpsIdStrategy = sys::CONSTANT_ID;
    p.bEnableFrameSkip = false;
    p.bEnableDenoise = false;
    p.bEnableFrameCroppingFlag = true;
    p.bEnableLongTermReference = false;
    p.bPrefixNalAddingCtrl = false;
    p.bEnableSSEI = false;
    p.uiIntraPeriod = config.gop.unwrap_or(0);
    let (target, max) = match config.rate_control {
        RateControl::Cbr { bitrate: b } => (bitrate(b), bitrate(b)),
        RateControl::Vbr { avg, max } => (bitrate(avg), bitrate(max)),
        RateControl::ConstQp { .. } | RateControl::ConstQuality { .. } => (0, 0),
    };
    p.iTargetBitrate = target;
    p.iMaxBitrate = max;
    match config.rate_control {
        RateControl::Cbr { .. } | RateControl::Vbr { .. } => {
            p.iRCMode = sys::RC_BITRATE_MODE;
            p.bEnableAdaptiveQuant = true;
        }
        RateControl::ConstQp { p: qp, .. } => {
            p.iRCMode = sys::RC_OFF_MODE;
            p.bEnableAdaptiveQuant = false;
            p.sSpatialLayers[0].iDLayerQp = qp as c_int;
        }
        RateControl::ConstQuality { q } => {
            p.iRCMode = sys::RC_OFF_MODE;
            p.bEnableAdaptiveQuant = true;
            p.sSpatialLayers[0].iDLayerQp = q as c_int;
        }
    }
    let (lo, hi) = config.qp_range.unwrap_or((12, 51));
    p.iMinQp = lo as c_int;
    p.iMaxQp = hi as c_int;
    let (complexity, cabac) = match config.preset {
        Preset::Fastest => (sys::LOW_COMPLEXITY, false),
        Preset::Faster => (sys::LOW_COMPLEXITY, true),
        Preset::Fast | Preset::Medium => (sys::MEDIUM_COMPLEXITY, true),
        Preset::Slow | Preset::Slower | Preset::Slowest => (sys::HIGH_COMPLEXITY, true),
    };
    p.iComplexityMode = complexity;
    p.iEntropyCodingModeFlag = cabac as c_int;
    match config.tuning {
        Tuning::UltraLowLatency => {
            p.iNumRefFrame = 1;
            p.bEnableSceneChangeDetect = false;
        }
        _ => {
            p.iNumRefFrame = sys::AUTO_REF_PIC_COUNT;
            p.bEnableSceneChangeDetect = true;
        }
    }
    // Slices cost quality here: OpenH264's rate control spends the bits of each slice on
    // its own, and 2 slices against 1 made 720p camera footage need up to 43% more bits
    // (BD-rate, the settings study in docs/openh264.md). The quality presets code one
    // slice on one thread; the fast ones keep a slice per thread for speed. An explicit
    // thread count is the slice count.
    let threads = thread_count(config);
    p.iMultipleThreadIdc = threads as u16;
    // Background detection skips macroblocks it takes for static background; on camera
    // footage that costs 3-8% more bits at the same quality (the study), so the slow
    // presets look at every macroblock.
    p.bEnableBackgroundDetection = config.preset < Preset::Slow;
    p.bUseLoadBalancing = false;
    p.iLoopFilterDisableIdc = 0;

    let layer = &mut p.sSpatialLayers[0];
    layer.iVideoWidth = w;
    layer.iVideoHeight = h;
    layer.fFrameRate = fps;
    layer.iSpatialBitrate = target;
    layer.iMaxSpatialBitrate = max;
    layer.uiProfileIdc = if cabac { sys::PRO_HIGH } else { sys::PRO_BASELINE };
    layer.uiLevelIdc = sys::LEVEL_UNKNOWN;
    if threads > 1 {
        layer.sSliceArgument.uiSliceMode = sys::SM_FIXEDSLCNUM_SLICE;
        layer.sSliceArgument.uiSliceNum = threads;
    } else {
        layer.sSliceArgument.uiSliceMode = sys::SM_SINGLE_SLICE;
        layer.sSliceArgument.uiSliceNum = 1;
    }
    let color = signalled_color(config);
    if color != ColorInfo::default() {
        layer.bVideoSignalTypePresent = true;
        layer.uiVideoFormat = sys::VF_UNDEF as u8;
        layer.bFullRange = color.range == ColorRange::Full;
        layer.bColorDescriptionPresent = true;
        layer.uiColorPrimaries = color.primaries.0;
        layer.uiTransferCharacteristics = color.transfer.0;
        layer.uiColorMatrix = color.matrix.0;
    }
    study_overrides(p, &crate::env::settings().openh264_study);
}

/// Settings of the encoder-settings study (docs/openh264.md, "Settings study") from
/// `VIDEO_HW_OPENH264_STUDY`: comma-separated `key=value` pairs, applied over the preset's
/// settings: `tl` temporal layers (1-4), `bgd` background detection, `aq` adaptive
/// quantisation, `scd` scene-change detection, `ltr` long-term references (0: off, else
/// their count), `slices` (fixed slices, 1 = one thread), `complexity` (low, medium,
/// high), `cabac`. A study aid, not a stable interface: unknown keys and values are
/// ignored.
fn study_overrides(p: &mut sys::SEncParamExt, spec: &str) {
    for (key, value) in spec.split(',').filter_map(|kv| kv.split_once('=')) {
        let n = value.trim().parse::<c_int>().ok();
        let on = n.map(|n| n != 0);
        match (key.trim(), n, on) {
            ("tl", Some(n), _) if (1..=4).contains(&n) => p.iTemporalLayerNum = n,
            ("bgd", _, Some(b)) => p.bEnableBackgroundDetection = b,
            ("aq", _, Some(b)) => p.bEnableAdaptiveQuant = b,
            ("scd", _, Some(b)) => p.bEnableSceneChangeDetect = b,
            ("ltr", Some(n), _) if (0..=4).contains(&n) => {
                p.bEnableLongTermReference = n > 0;
                p.iLTRRefNum = n;
            }
            ("slices", Some(n), _) if (1..=4).contains(&n) => {
                p.iMultipleThreadIdc = n as u16;
                let slices = &mut p.sSpatialLayers[0].sSliceArgument;
                slices.uiSliceMode = if n > 1 { sys::SM_FIXEDSLCNUM_SLICE } else { sys::SM_SINGLE_SLICE };
                slices.uiSliceNum = n as u32;
            }
            ("complexity", _, _) => match value.trim() {
                "low" => p.iComplexityMode = sys::LOW_COMPLEXITY,
                "medium" => p.iComplexityMode = sys::MEDIUM_COMPLEXITY,
                "high" => p.iComplexityMode = sys::HIGH_COMPLEXITY,
                _ => {}
            },
            ("cabac", _, Some(b)) => {
                p.iEntropyCodingModeFlag = c_int::from(b);
                p.sSpatialLayers[0].uiProfileIdc = if b { sys::PRO_HIGH } else { sys::PRO_BASELINE };
            }
            _ => {}
        }
    }
}

/// The NAL unit type and the payload (start code removed) of an Annex-B NAL unit.
fn strip_start_code(nal: &[u8]) -> (u8, &[u8]) {
    let body = if nal.starts_with(&[0, 0, 0, 1]) {
        &nal[4..]
    } else if nal.starts_with(&[0, 0, 1]) {
        &nal[3..]
    } else {
        nal
    };
    (body.first().map_or(0, |b| b & 0x1f), body)
}

impl OpenH264Encoder {
    /// Opens and initialises an encoder for `config`.
    pub fn open(config: &EncoderConfig) -> Result<Self> {
        check_config(config)?;
        let mut raw = RawEncoder::new()?;
        let mut params = raw.default_params()?;
        apply_config(&mut params, config);
        raw.initialize(&params).map_err(|e| match e {
            Error::Backend { code, .. } => Error::backend(
                "openh264",
                code,
                format!(
                    "InitializeExt rejected {}x{} at {} fps with {:?}",
                    config.width, config.height, config.fps, config.rate_control
                ),
            ),
            other => other,
        })?;
        let matrix = if is_rgb(config.input_format) {
            let color = signalled_color(config);
            Some(YuvMatrix::new(color.matrix, color.range)?)
        } else {
            None
        };
        let mut enc = OpenH264Encoder {
            raw,
            config: config.clone(),
            matrix,
            scratch: Vec::new(),
            packets: VecDeque::new(),
            parameter_sets: Vec::new(),
            sent_parameter_sets: false,
            frames: 0,
        };
        let sets: Vec<Vec<u8>> = enc
            .raw
            .encode_parameter_sets()?
            .layers
            .iter()
            .flat_map(|l| l.nals.iter())
            .map(|nal| strip_start_code(nal))
            .filter(|(t, _)| matches!(t, 7 | 8))
            .map(|(_, body)| body.to_vec())
            .collect();
        enc.parameter_sets = sets;
        Ok(enc)
    }

    /// Turns OpenH264's output for one frame into a packet.
    fn packetize(
        frame: &EncodedFrame<'_>,
        config: &EncoderConfig,
        sent_parameter_sets: &mut bool,
        parameter_sets: &mut Vec<Vec<u8>>,
    ) -> Option<(Vec<u8>, bool)> {
        if frame.frame_type == sys::videoFrameTypeSkip || frame.frame_type == sys::videoFrameTypeInvalid {
            return None;
        }
        let keyframe = frame.frame_type == sys::videoFrameTypeIDR;
        let mut data = Vec::new();
        let mut new_sets = Vec::new();
        for layer in &frame.layers {
            for nal in &layer.nals {
                let (nal_type, body) = strip_start_code(nal);
                let is_ps = !layer.vcl && matches!(nal_type, 7 | 8);
                if is_ps {
                    new_sets.push(body.to_vec());
                }
                match config.layout {
                    PacketLayout::AnnexB => {
                        if is_ps && !config.repeat_parameter_sets && *sent_parameter_sets {
                            continue;
                        }
                        data.extend_from_slice(&[0, 0, 0, 1]);
                        data.extend_from_slice(body);
                    }
                    PacketLayout::LengthPrefixed => {
                        if is_ps {
                            continue;
                        }
                        data.extend_from_slice(&(body.len() as u32).to_be_bytes());
                        data.extend_from_slice(body);
                    }
                }
            }
        }
        if !new_sets.is_empty() {
            *sent_parameter_sets = true;
            *parameter_sets = new_sets;
        }
        (!data.is_empty()).then_some((data, keyframe))
    }

    /// The frame's timestamp in milliseconds (OpenH264's unit).
    fn timestamp_ms(&self, pts: Option<i64>) -> i64 {
        let ms = Rational::new(1, 1000);
        match pts {
            Some(p) => ms.rescale(p, self.config.timebase),
            None => ms.rescale(self.frames as i64, Rational::new(self.config.fps.den, self.config.fps.num)),
        }
    }
}

impl EncoderBackend for OpenH264Encoder {
    fn engine(&self) -> Engine {
        Engine::OpenH264
    }

    fn describe(&self) -> String {
        super::describe()
    }

    fn submit(&mut self, frame: &Frame, options: FrameOptions, generation: u64) -> Result<()> {
        let host = crate::backend::host_encoder_input(&self.config, frame, "openh264")?;
        let (w, h) = (frame.width, frame.height);
        let (cw, ch) = ((w as usize).div_ceil(2), (h as usize).div_ceil(2));
        let timestamp_ms = self.timestamp_ms(options.pts);
        if options.force_keyframe {
            self.raw.force_idr()?;
        }
        let planes = host.planes();
        let direct = frame.format == PixelFormat::Yuv420p && planes.len() == 3 && planes[1].stride == planes[2].stride;
        if !direct {
            // RGB input, NV12, or I420 whose chroma planes differ in stride (OpenH264
            // takes one chroma stride): convert or repack into the scratch picture.
            let default = YuvMatrix::new(crate::codec::MatrixCoefficients::BT709, ColorRange::Limited)?;
            let matrix = self.matrix.unwrap_or(default);
            convert::host_to_i420(host, frame.format, w, h, &matrix, &mut self.scratch)?;
        }
        let pic = if direct {
            let bytes = host.as_bytes();
            let plane = |i: usize| bytes.get(planes[i].offset..).unwrap_or(&[]);
            SourcePicture {
                y: plane(0),
                u: plane(1),
                v: plane(2),
                y_stride: planes[0].stride,
                uv_stride: planes[1].stride,
                width: w,
                height: h,
                timestamp_ms,
            }
        } else {
            let (y, rest) = self.scratch.split_at((w as usize) * (h as usize));
            let (u, v) = rest.split_at(cw * ch);
            SourcePicture { y, u, v, y_stride: w as usize, uv_stride: cw, width: w, height: h, timestamp_ms }
        };
        if self.frames == 0 {
            // Size the first IDR picture to the buffer (`first_idr_qp.rs`); a trial that
            // fails leaves OpenH264's own choice.
            match super::first_idr_qp::qp_floor(&self.config, &pic) {
                Ok(Some(qp)) => {
                    if let Err(e) = self.raw.set_first_idr_qp_floor(qp) {
                        tracing::debug!(error = %e, "openh264 without patch 0012: no first IDR QP floor");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "openh264: no trial encode of the first picture"),
            }
        }
        let encoded = self.raw.encode(&pic)?;
        let packet = Self::packetize(&encoded, &self.config, &mut self.sent_parameter_sets, &mut self.parameter_sets);
        self.frames += 1;
        match packet {
            Some((data, keyframe)) => self.packets.push_back(Packet {
                codec: Codec::H264,
                layout: self.config.layout,
                data,
                pts: options.pts,
                dts: options.pts,
                keyframe,
                generation,
            }),
            None => tracing::debug!("openh264 skipped a frame"),
        }
        Ok(())
    }

    fn try_reap(&mut self) -> Result<Option<Packet>> {
        Ok(self.packets.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Packet>> {
        Ok(self.packets.drain(..).collect())
    }

    fn reconfigure(&mut self, config: &EncoderConfig) -> Result<bool> {
        let old = &self.config;
        // Only bitrate (within the bitrate modes) and GOP change in place. A new frame
        // rate needs a new SPS (its VUI timing says the rate; OpenH264 keeps the SPS it
        // made at initialisation), so it reopens.
        let mut rest = config.clone();
        rest.rate_control = old.rate_control;
        rest.gop = old.gop;
        let bitrate_modes = matches!(
            (old.rate_control, config.rate_control),
            (RateControl::Cbr { .. } | RateControl::Vbr { .. }, RateControl::Cbr { .. } | RateControl::Vbr { .. })
        );
        if rest != *old || (config.rate_control != old.rate_control && !bitrate_modes) {
            return Ok(false);
        }
        let applied = (|| -> Result<()> {
            if config.rate_control != old.rate_control {
                let (target, max) = match config.rate_control {
                    RateControl::Cbr { bitrate: b } => (bitrate(b), bitrate(b)),
                    RateControl::Vbr { avg, max } => (bitrate(avg), bitrate(max)),
                    _ => return Err(Error::invalid_input("not a bitrate mode")),
                };
                self.raw.set_bitrate(max, true)?;
                self.raw.set_bitrate(target, false)?;
                self.raw.set_bitrate(max, true)?;
            }
            if config.gop != old.gop {
                self.raw.set_idr_interval(config.gop.unwrap_or(0).min(c_int::MAX as u32) as c_int)?;
            }
            Ok(())
        })();
        match applied {
            Ok(()) => {
                self.config = config.clone();
                Ok(true)
            }
            Err(e) => {
                tracing::debug!(error = %e, "openh264 could not reconfigure in place");
                Ok(false)
            }
        }
    }

    fn parameter_sets(&self) -> Vec<Vec<u8>> {
        self.parameter_sets.clone()
    }

    fn gop_length(&self) -> Option<u32> {
        self.config.gop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::openh264::decoder::tests::decode_stream;
    use crate::config::Output;
    use crate::frame::HostFrame;

    fn cars() -> Option<Vec<Frame>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/testdata/corpus/libvpl/cars_320x240.h264");
        let data = std::fs::read(path).ok()?;
        Some(decode_stream(&data, Output::HOST_YUV420P).0)
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse = a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>() / a.len() as f64;
        if mse == 0.0 { 99.0 } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
    }

    fn encode_all(config: &EncoderConfig, frames: &[Frame]) -> Vec<Packet> {
        let mut enc = OpenH264Encoder::open(config).unwrap();
        for (i, f) in frames.iter().enumerate() {
            enc.submit(f, FrameOptions { pts: Some(i as i64 * 3000), force_keyframe: false }, 0).unwrap();
        }
        enc.flush().unwrap()
    }

    #[test]
    fn rgb_input_is_converted_and_tagged_with_the_decoders_default_matrix() {
        use crate::codec::MatrixCoefficients as M;
        // Untagged HD from RGB: BT.601, the matrix every reader takes for an untagged
        // stream, and signalled; a configured matrix is kept; YUV input signals as configured.
        let rgb = EncoderConfig::new(Codec::H264, 1280, 720).input_format(PixelFormat::Rgb24);
        assert_eq!(signalled_color(&rgb).matrix, M::SMPTE170M);
        let mut tagged = rgb.clone();
        tagged.color.matrix = M::BT709;
        assert_eq!(signalled_color(&tagged).matrix, M::BT709);
        let yuv = EncoderConfig::new(Codec::H264, 1280, 720);
        assert_eq!(signalled_color(&yuv).matrix, M::UNSPECIFIED);
    }

    #[test]
    fn default_config_round_trip() {
        let Some(frames) = cars() else { return };
        let config = EncoderConfig::new(Codec::H264, 320, 240);
        let packets = encode_all(&config, &frames);
        assert_eq!(packets.len(), frames.len());
        assert!(packets[0].keyframe);
        let stream: Vec<u8> = packets.iter().flat_map(|p| p.data.iter().copied()).collect();
        let (decoded, errors) = decode_stream(&stream, Output::HOST_YUV420P);
        assert_eq!(errors, 0);
        assert_eq!(decoded.len(), frames.len());
        let mut total = 0.0;
        for (a, b) in frames.iter().zip(&decoded) {
            total +=
                psnr(&a.host_data().unwrap().as_bytes()[..320 * 240], &b.host_data().unwrap().as_bytes()[..320 * 240]);
        }
        let avg = total / frames.len() as f64;
        println!("average Y-PSNR {avg:.2} dB, {} bytes", stream.len());
        assert!(avg >= 35.0, "{avg}");
    }

    #[test]
    fn unsupported_settings_are_named() {
        let base = EncoderConfig::new(Codec::H264, 64, 64);
        let cases = [
            (base.clone().b_frames(2), "B-frames"),
            (base.clone().tuning(Tuning::Lossless), "lossless"),
            (EncoderConfig::new(Codec::Hevc, 64, 64), "H.264 only"),
            (base.clone().input_format(PixelFormat::P010), "8-bit 4:2:0 only"),
            (base.clone().input_format(PixelFormat::Yuv420p10), "8-bit 4:2:0 only"),
        ];
        for (config, needle) in cases {
            match OpenH264Encoder::open(&config) {
                Err(e @ Error::Unsupported { .. }) => assert!(e.to_string().contains(needle), "{e}"),
                Err(e) => panic!("{needle}: {e}"),
                Ok(_) => panic!("{needle}: opened"),
            }
        }
    }

    #[test]
    fn every_rate_control_and_preset_opens_and_encodes() {
        let mut pixels = HostFrame::new_packed(PixelFormat::Yuv420p, 64, 48);
        for (i, b) in pixels.as_bytes_mut().iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        let frames: Vec<Frame> = (0..4).map(|_| Frame::host(PixelFormat::Yuv420p, 64, 48, pixels.clone())).collect();
        let rcs = [
            RateControl::Cbr { bitrate: 500_000 },
            RateControl::Vbr { avg: 300_000, max: 900_000 },
            RateControl::ConstQp { i: 20, p: 24, b: 26 },
            RateControl::ConstQuality { q: 28 },
        ];
        for rc in rcs {
            for preset in Preset::ALL {
                for tuning in [Tuning::HighQuality, Tuning::LowLatency, Tuning::UltraLowLatency] {
                    let config =
                        EncoderConfig::new(Codec::H264, 64, 48).rate_control(rc).preset(preset).tuning(tuning).gop(3);
                    let packets = encode_all(&config, &frames);
                    assert_eq!(packets.len(), 4, "{rc:?} {preset:?} {tuning:?}");
                    let keys: Vec<bool> = packets.iter().map(|p| p.keyframe).collect();
                    assert_eq!(keys, [true, false, false, true], "{rc:?} {preset:?} {tuning:?}");
                }
            }
        }
    }

    #[test]
    fn rgb_nv12_inputs_and_layouts() {
        let (w, h) = (48u32, 32u32);
        for format in [PixelFormat::Nv12, PixelFormat::Bgra, PixelFormat::Rgb24, PixelFormat::RgbPlanar] {
            let mut pixels = HostFrame::new_packed(format, w, h);
            for (i, b) in pixels.as_bytes_mut().iter_mut().enumerate() {
                *b = (i % 200) as u8;
            }
            let frame = Frame::host(format, w, h, pixels);
            for layout in [PacketLayout::AnnexB, PacketLayout::LengthPrefixed] {
                let config = EncoderConfig::new(Codec::H264, w, h).input_format(format).layout(layout);
                let mut enc = OpenH264Encoder::open(&config).unwrap();
                assert_eq!(enc.parameter_sets().len(), 2, "SPS and PPS known at open");
                enc.submit(&frame, FrameOptions::default(), 7).unwrap();
                enc.submit(&frame, FrameOptions { pts: None, force_keyframe: true }, 7).unwrap();
                let packets = enc.flush().unwrap();
                assert_eq!(packets.len(), 2);
                assert!(packets.iter().all(|p| p.keyframe && p.generation == 7 && p.layout == layout));
                let types: Vec<u8> = match layout {
                    PacketLayout::AnnexB => {
                        crate::bitstream::annexb::split_all(&packets[1].data).iter().map(|n| n[0] & 0x1f).collect()
                    }
                    PacketLayout::LengthPrefixed => {
                        crate::bitstream::avcc::LengthPrefixedNals::new(&packets[1].data, 4)
                            .map(|n| n.unwrap()[0] & 0x1f)
                            .collect()
                    }
                };
                match layout {
                    PacketLayout::AnnexB => assert_eq!(&types[..2], &[7, 8], "{format}: SPS/PPS repeated on IDR"),
                    PacketLayout::LengthPrefixed => assert!(types.iter().all(|&t| t == 5), "{format}: {types:?}"),
                }
            }
        }
    }

    #[test]
    fn parameter_sets_only_once_when_not_repeated() {
        let mut config = EncoderConfig::new(Codec::H264, 32, 32);
        config.repeat_parameter_sets = false;
        let frame = Frame::host(PixelFormat::Yuv420p, 32, 32, HostFrame::new_packed(PixelFormat::Yuv420p, 32, 32));
        let mut enc = OpenH264Encoder::open(&config).unwrap();
        for _ in 0..2 {
            enc.submit(&frame, FrameOptions { pts: None, force_keyframe: true }, 0).unwrap();
        }
        let packets = enc.flush().unwrap();
        let count_ps = |p: &Packet| {
            crate::bitstream::annexb::split_all(&p.data).iter().filter(|n| matches!(n[0] & 0x1f, 7 | 8)).count()
        };
        assert_eq!(count_ps(&packets[0]), 2);
        assert_eq!(count_ps(&packets[1]), 0);
        assert!(packets[1].keyframe);
    }

    #[test]
    fn reconfigure_in_place_for_bitrate_and_gop_only() {
        let config = EncoderConfig::new(Codec::H264, 32, 32);
        let mut enc = OpenH264Encoder::open(&config).unwrap();
        let faster = config.clone().rate_control(RateControl::Vbr { avg: 1_000_000, max: 2_000_000 }).gop(30);
        assert!(enc.reconfigure(&faster).unwrap());
        assert_eq!(enc.gop_length(), Some(30));
        // A new frame rate needs a new SPS (VUI timing).
        assert!(!enc.reconfigure(&faster.clone().fps(60, 1)).unwrap());
        assert!(!enc.reconfigure(&faster.clone().rate_control(RateControl::ConstQp { i: 20, p: 20, b: 20 })).unwrap());
        assert!(!enc.reconfigure(&faster.clone().preset(Preset::Slow)).unwrap());
    }
}
