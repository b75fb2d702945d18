//! AV1 encoding with rav1e, built in.
//!
//! How [`EncoderConfig`] maps onto rav1e's `EncoderConfig`:
//!
//! | setting | rav1e |
//! |---|---|
//! | `RateControl::Cbr { bitrate }` | `bitrate`, a reservoir (rate buffer) of 1.5 seconds of frames (12-240; see [`CBR_RESERVOIR_SECONDS`]: shorter ones cost quality; rav1e has no VBV, so no buffer is enforced); `quantizer` 255 (in bitrate mode rav1e reads it as the highest quantiser allowed, 100 by default, which made it overshoot low targets several times over) |
//! | `RateControl::Vbr { avg, max }` | `bitrate = avg`, a reservoir of 2 seconds of frames (12-240; rav1e's default of up to 240 let a 3-second clip end 40% over), `quantizer` 255; rav1e has no peak rate, so `max` is not enforced |
//! | `RateControl::ConstQp { i, p, .. }` | constant quantiser: `quantizer` = `p` on the 0-51 scale mapped to AV1's 0-255 (x5), `min_quantizer` = `i` mapped the same way (rav1e derives each frame type's quantiser from the base; B has no AV1 counterpart) |
//! | `RateControl::ConstQuality { q }` | constant quantiser `q` x 5, rav1e's quality mode |
//! | `tuning` Lossless | `quantizer` 0 (AV1 lossless) |
//! | `gop: Some(n)` / `None` | key frames every `n` frames exactly (`min` = `max_key_frame_interval` = `n`) / rav1e's defaults (scene cuts from 12 frames apart, at most 240) |
//! | `FrameOptions::force_keyframe` | `FrameTypeOverride::Key` |
//! | `qp_range: Some((lo, hi))` | `min_quantizer` = `lo` x 5; in bitrate modes `quantizer` (the maximum there) = `hi` x 5 |
//! | `preset` Fastest … Slowest | speed 10, 9, 8, 6 (rav1e's default), 5, 3, 1 |
//! | `tuning` LowLatency | `low_latency`: no frame reordering (rav1e still looks ahead: the preset's 10-40 frames) |
//! | `tuning` UltraLowLatency | `low_latency` and the shortest look-ahead rav1e has (one frame of RDO look-ahead; its scene-cut look-ahead stays): each packet comes four frames after its frame |
//! | `b_frames` | not used: AV1 has no B-frames; rav1e reorders (hidden frames) unless low latency |
//! | `color` | the sequence header's colour description and range, when specified |
//! | input Yuv420p / Nv12 / RGB | 8-bit 4:2:0 (NV12 and RGB converted with [`crate::pixels::convert`]) |
//! | input Yuv420p10 / P010 | 10-bit 4:2:0 |
//! | threads | [`DecoderConfig::threads`](crate::DecoderConfig::threads)' rule: alone, every core (0: rav1e's choice); sessions at once share them |
//!
//! Packets are temporal units (a temporal delimiter, the sequence header on key frames,
//! then the frames), in display order: pts = dts. `reconfigure` is not in place (rav1e
//! cannot change its settings): the session drains and opens a new encoder.

use std::collections::VecDeque;

use num_traits::FromPrimitive;
use video_hw_rav1e::rav1e::prelude::{
    ChromaSampling, ColorDescription, ColorPrimaries, Config, EncoderConfig as RaEncoderConfig, FrameParameters,
    FrameTypeOverride, MatrixCoefficients, Opaque, PixelRange, Rational, SpeedSettings, TransferCharacteristics,
};
use video_hw_rav1e::{Encoder as Ctx, Received};

use crate::backend::{EncoderBackend, software_threads};
use crate::codec::{Codec, ColorInfo, ColorRange, PixelFormat};
use crate::config::{EncoderConfig, FrameOptions, Preset, RateControl, Tuning};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, HostFrame};
use crate::packet::Packet;
use crate::pixels::convert::{self, YuvMatrix};

/// AV1's largest picture side in rav1e (16-bit sizes in the sequence header).
const MAX_SIDE: u32 = 65_536;

/// What travels with each frame through rav1e, back on its packet.
struct Meta {
    pts: Option<i64>,
    generation: u64,
}

/// The rav1e encode engine.
pub(crate) struct Rav1eEncoder {
    config: EncoderConfig,
    /// `None` after a flush: the next frame opens a new context (rav1e takes no frames
    /// after its flush).
    ctx: Option<Ctx>,
    /// For RGB input.
    matrix: Option<YuvMatrix>,
    scratch: Vec<u8>,
    packets: VecDeque<Packet>,
    /// The sequence header OBU of the first key frame.
    sequence_header: Option<Vec<u8>>,
    /// Counts this session among those sharing the cores.
    _session: software_threads::Session,
}

/// Whether `format` is an input of 10-bit samples.
fn ten_bit(format: PixelFormat) -> bool {
    matches!(format, PixelFormat::Yuv420p10 | PixelFormat::P010)
}

fn is_rgb(f: PixelFormat) -> bool {
    matches!(f, PixelFormat::Bgra | PixelFormat::Rgb24 | PixelFormat::RgbPlanar)
}

/// Refuses what rav1e cannot encode here, naming the setting.
fn check_config(config: &EncoderConfig) -> Result<()> {
    if config.codec != Codec::Av1 {
        return Err(Error::unsupported(format!("{} encode with rav1e", config.codec), "rav1e encodes AV1 only"));
    }
    match config.input_format {
        PixelFormat::Yuv420p
        | PixelFormat::Nv12
        | PixelFormat::Yuv420p10
        | PixelFormat::P010
        | PixelFormat::Bgra
        | PixelFormat::Rgb24
        | PixelFormat::RgbPlanar => {}
        other => {
            return Err(Error::unsupported(
                format!("{other} input with rav1e"),
                "rav1e here encodes 8- and 10-bit 4:2:0 (and RGB converted to it)",
            ));
        }
    }
    if config.width == 0 || config.height == 0 || config.width > MAX_SIDE || config.height > MAX_SIDE {
        return Err(Error::invalid_input(format!("picture size {}x{}", config.width, config.height)));
    }
    Ok(())
}

/// H.264-style 0-51 quantiser to AV1's 0-255 index.
fn qindex(q: u8) -> usize {
    (usize::from(q) * 5).min(255)
}

/// rav1e's speed level for a preset.
fn speed(preset: Preset) -> u8 {
    match preset {
        Preset::Fastest => 10,
        Preset::Faster => 9,
        Preset::Fast => 8,
        Preset::Medium => 6,
        Preset::Slow => 5,
        Preset::Slower => 3,
        Preset::Slowest => 1,
    }
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

/// rav1e's rate control steers the average over a reservoir of frames (it has no VBV):
/// the frames after a key frame repay its bits within the reservoir. A short one holds the
/// average over a short clip but starves those frames: on 10 s of camera footage at
/// 640x360, half a second (15 frames) cost 2.2 dB of luma PSNR at 300 kb/s and 1.5 dB at
/// 1 Mb/s against 1.5 seconds, which lands within 1.3% of the rate; 2 seconds gained
/// 0.2 dB more and overshot by 4% (2026-11-25). Clips of a few reservoirs or more meet
/// the average; shorter ones overshoot (+13% for 3 s at 300 kb/s).
const CBR_RESERVOIR_SECONDS: f64 = 1.5;

/// VBR's reservoir: the average within ±10% is asked, not ±5%, so a longer one buys a
/// little more quality.
const VBR_RESERVOIR_SECONDS: f64 = 2.0;

/// A reservoir of `seconds` at the configured frame rate, in frames (rav1e takes 12-240).
fn reservoir(config: &EncoderConfig, seconds: f64) -> i32 {
    let fps = config.fps.num.max(1) as f64 / config.fps.den.max(1) as f64;
    ((fps * seconds).round() as i32).clamp(12, 240)
}

/// rav1e's configuration for `config` (see the module table).
fn rav1e_config(config: &EncoderConfig) -> Result<Config> {
    let mut enc = RaEncoderConfig::with_speed_preset(speed(config.preset));
    enc.width = config.width as usize;
    enc.height = config.height as usize;
    enc.bit_depth = if ten_bit(config.input_format) { 10 } else { 8 };
    enc.chroma_sampling = ChromaSampling::Cs420;
    // rav1e's time base is seconds per tick: one frame.
    enc.time_base = Rational::new(config.fps.den.max(1) as u64, config.fps.num.max(1) as u64);
    enc.low_latency = matches!(config.tuning, Tuning::LowLatency | Tuning::UltraLowLatency);
    if let Some(n) = config.gop {
        let n = u64::from(n.max(1));
        enc.min_key_frame_interval = n;
        enc.max_key_frame_interval = n;
    }
    match config.rate_control {
        RateControl::Cbr { bitrate } => {
            enc.bitrate = bitrate.min(i32::MAX as u64) as i32;
            enc.reservoir_frame_delay = Some(reservoir(config, CBR_RESERVOIR_SECONDS));
            enc.quantizer = 255;
        }
        RateControl::Vbr { avg, .. } => {
            enc.bitrate = avg.min(i32::MAX as u64) as i32;
            enc.reservoir_frame_delay = Some(reservoir(config, VBR_RESERVOIR_SECONDS));
            enc.quantizer = 255;
        }
        RateControl::ConstQp { i, p, .. } => {
            enc.bitrate = 0;
            enc.quantizer = qindex(p);
            enc.min_quantizer = qindex(i.min(p)) as u8;
        }
        RateControl::ConstQuality { q } => {
            enc.bitrate = 0;
            enc.quantizer = qindex(q);
        }
    }
    if config.tuning == Tuning::Lossless {
        enc.bitrate = 0;
        enc.quantizer = 0;
        enc.min_quantizer = 0;
    }
    if let Some((lo, hi)) = config.qp_range {
        enc.min_quantizer = qindex(lo) as u8;
        if enc.bitrate > 0 {
            enc.quantizer = qindex(hi.max(lo));
        }
    }
    let color = signalled_color(config);
    if color != ColorInfo::default() {
        enc.pixel_range = if color.range == ColorRange::Full { PixelRange::Full } else { PixelRange::Limited };
        let d = ColorDescription {
            color_primaries: ColorPrimaries::from_u8(color.primaries.0).unwrap_or_default(),
            transfer_characteristics: TransferCharacteristics::from_u8(color.transfer.0).unwrap_or_default(),
            matrix_coefficients: MatrixCoefficients::from_u8(color.matrix.0).unwrap_or_default(),
        };
        enc.color_description = Some(d);
    }
    enc.speed_settings = SpeedSettings::from_preset(speed(config.preset));
    if config.tuning == Tuning::UltraLowLatency {
        enc.speed_settings.rdo_lookahead_frames = 1;
    }
    let threads = software_threads::session_threads(config.threads).max(0) as usize;
    let cfg = Config::new().with_encoder_config(enc).with_threads(threads);
    cfg.validate().map_err(|e| Error::invalid_input(format!("rav1e refuses the configuration: {e}")))?;
    Ok(cfg)
}

fn open_ctx(config: &EncoderConfig) -> Result<Ctx> {
    let cfg = rav1e_config(config)?;
    Ctx::new(&cfg, ten_bit(config.input_format)).map_err(|e| Error::invalid_input(format!("rav1e: {e}")))
}

/// The sequence header OBU (type 1) of a temporal unit, if it has one.
fn sequence_header_of(data: &[u8]) -> Option<Vec<u8>> {
    let mut rest = data;
    while let Some(&header) = rest.first() {
        let at = 1 + usize::from(header & 0x04 != 0);
        let (size, len) = crate::bitstream::packet::leb128(rest.get(at..)?)?;
        let end = at + len + usize::try_from(size).ok()?;
        let obu = rest.get(..end)?;
        if (header >> 3) & 0x0f == 1 {
            return Some(obu.to_vec());
        }
        rest = &rest[end..];
    }
    None
}

impl Rav1eEncoder {
    /// Opens an encoder for `config`.
    pub(crate) fn open(config: &EncoderConfig) -> Result<Self> {
        check_config(config)?;
        let ctx = open_ctx(config)?;
        let matrix = if is_rgb(config.input_format) {
            let color = signalled_color(config);
            Some(YuvMatrix::new(color.matrix, color.range)?)
        } else {
            None
        };
        Ok(Rav1eEncoder {
            config: config.clone(),
            ctx: Some(ctx),
            matrix,
            scratch: Vec::new(),
            packets: VecDeque::new(),
            sequence_header: None,
            _session: software_threads::Session::start(),
        })
    }

    /// Takes every packet rav1e has ready; `Ok(true)` once it has given its last.
    fn drain(&mut self) -> Result<bool> {
        loop {
            let Some(ctx) = &mut self.ctx else { return Ok(true) };
            match ctx.receive().map_err(|e| Error::backend("rav1e", "receive_packet", e.to_string()))? {
                Received::Packet(p) => {
                    let meta = p.opaque.and_then(|o| o.downcast::<Meta>().ok());
                    if p.keyframe && self.sequence_header.is_none() {
                        self.sequence_header = sequence_header_of(&p.data);
                    }
                    let pts = meta.as_ref().and_then(|m| m.pts);
                    self.packets.push_back(Packet {
                        codec: Codec::Av1,
                        layout: self.config.layout,
                        data: p.data,
                        pts,
                        dts: pts,
                        keyframe: p.keyframe,
                        generation: meta.map_or(0, |m| m.generation),
                    });
                }
                Received::NeedMoreData => return Ok(false),
                Received::Done => return Ok(true),
            }
        }
    }

    /// The frame's samples as tightly packed planar 4:2:0 in `self.scratch` (8-bit) or
    /// as 16-bit little-endian words (10-bit), or the frame's own buffer when it is
    /// already so.
    fn planar<'a>(&'a mut self, host: &'a HostFrame, format: PixelFormat, w: u32, h: u32) -> Result<&'a [u8]> {
        let (w, h) = (w as usize, h as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        match format {
            PixelFormat::Yuv420p10 | PixelFormat::Yuv420p if host.is_packed() => Ok(host.as_bytes()),
            PixelFormat::P010 => {
                // Y then interleaved UV, values in the high 10 bits: to planar, low bits.
                let bytes = host.as_bytes();
                let planes = host.planes();
                self.scratch.clear();
                self.scratch.reserve(2 * (w * h + 2 * cw * ch));
                let word = |b: &[u8]| u16::from_le_bytes([b[0], b[1]]) >> 6;
                for r in 0..h {
                    let row = &bytes[planes[0].offset + r * planes[0].stride..][..2 * w];
                    self.scratch.extend(row.chunks_exact(2).flat_map(|s| word(s).to_le_bytes()));
                }
                for first in [0, 1] {
                    for r in 0..ch {
                        let row = &bytes[planes[1].offset + r * planes[1].stride..][..4 * cw];
                        self.scratch.extend(row.chunks_exact(4).flat_map(|s| word(&s[2 * first..]).to_le_bytes()));
                    }
                }
                Ok(&self.scratch)
            }
            PixelFormat::Yuv420p10 => {
                self.scratch.clear();
                for (i, p) in host.planes().iter().enumerate() {
                    let (cols, rows) = if i == 0 { (w, h) } else { (cw, ch) };
                    for r in 0..rows {
                        self.scratch.extend_from_slice(&host.as_bytes()[p.offset + r * p.stride..][..2 * cols]);
                    }
                }
                Ok(&self.scratch)
            }
            _ => {
                let default = YuvMatrix::new(crate::codec::MatrixCoefficients::BT709, ColorRange::Limited)?;
                let matrix = self.matrix.unwrap_or(default);
                convert::host_to_i420(host, format, w as u32, h as u32, &matrix, &mut self.scratch)?;
                Ok(&self.scratch)
            }
        }
    }
}

impl EncoderBackend for Rav1eEncoder {
    fn engine(&self) -> Engine {
        Engine::Rav1e
    }

    fn describe(&self) -> String {
        super::describe()
    }

    fn submit(&mut self, frame: &Frame, options: FrameOptions, generation: u64) -> Result<()> {
        let host = crate::backend::host_encoder_input(&self.config, frame, "rav1e")?;
        if self.ctx.is_none() {
            self.ctx = Some(open_ctx(&self.config)?);
        }
        let (w, h) = (frame.width as usize, frame.height as usize);
        let params = FrameParameters {
            frame_type_override: if options.force_keyframe { FrameTypeOverride::Key } else { FrameTypeOverride::No },
            opaque: Some(Opaque::new(Meta { pts: options.pts, generation })),
            ..FrameParameters::default()
        };
        let format = frame.format;
        let data = self.planar(host, format, frame.width, frame.height)?.to_vec();
        let ctx = self.ctx.as_mut().ok_or_else(|| Error::backend("rav1e", "send_frame", "no encoder"))?;
        ctx.send(&data, w, h, params).map_err(|e| Error::backend("rav1e", "send_frame", e.to_string()))?;
        self.drain()?;
        Ok(())
    }

    fn try_reap(&mut self) -> Result<Option<Packet>> {
        Ok(self.packets.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Packet>> {
        match &mut self.ctx {
            Some(ctx) => ctx.flush(),
            None => return Ok(self.packets.drain(..).collect()),
        }
        // rav1e gives its last packet, then LimitReached; a bound keeps a misbehaving
        // encoder from looping.
        let mut done = false;
        for _ in 0..1_000_000 {
            if self.drain()? {
                done = true;
                break;
            }
        }
        self.ctx = None;
        if !done {
            return Err(Error::backend("rav1e", "flush", "the encoder did not finish after its flush"));
        }
        Ok(self.packets.drain(..).collect())
    }

    fn parameter_sets(&self) -> Vec<Vec<u8>> {
        self.sequence_header.iter().cloned().collect()
    }

    fn gop_length(&self) -> Option<u32> {
        self.config.gop
    }
}
