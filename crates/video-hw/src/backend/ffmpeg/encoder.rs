//! Encoding through libavcodec: libx264, libx265, libsvtav1 or else libaom-av1 (engine
//! `ffmpeg`; a bitrate target goes to libaom-av1 where the SVT-AV1 is older than 4.0, and
//! `EncoderConfig::ffmpeg_encoder` names one) and the hardware encoders FFmpeg reaches (QSV,
//! VA-API, VideoToolbox, AMF).
//!
//! - Which encoder (the first of an engine's candidates this FFmpeg has), and how the
//!   neutral [`EncoderConfig`] becomes its options: [`super::encoder_options`] (one table).
//! - Frames: converted into the encoder's software format, and for VA-API uploaded into
//!   a surface of the encoder's `hw_frames_ctx` ([`super::frame_upload`]). QSV takes
//!   system-memory NV12/P010 frames (qsvenc copies them into its surfaces) on a device
//!   opened on the render node (`hw_device_ctx`).
//! - Packets: every encoder opens with `AV_CODEC_FLAG_GLOBAL_HEADER`; parameter sets come
//!   from `extradata` and from any the encoder still writes in band, and the
//!   [`Packetizer`] (`packetizer.rs`) writes them where the configuration asks (before
//!   keyframes, once, or only out of band with length-prefixed output).
//! - Encoding is synchronous: after each frame every ready packet is drained into a
//!   queue, so `avcodec_send_frame` never answers `EAGAIN`.
//! - `reconfigure` in place: libx264 only, and only the rate-control values within the
//!   bitrate modes (CBR ↔ VBR) or within constant quality: FFmpeg 5.1's libx264 wrapper
//!   calls `x264_encoder_reconfig` when `bit_rate`/`rc_max_rate`/`rc_buffer_size`/`crf`
//!   change between frames (checked by a test: the bitrate drops from the next frames
//!   on, without a new IDR). Every other change, and every other encoder, answers
//!   `Ok(false)`: the session drains and opens a new encoder.

use std::collections::{HashMap, VecDeque};

use super::common::{self, AvError, av_error};
use super::encoder_options::{self, Choice, EncoderSpec, ForceKeyframe, FrameInput, Plan};
use super::frame_upload::{self, FrameWriter, HwDevice, HwFrames, Pixel};
use super::packetizer::Packetizer;
use super::sys::Ffmpeg;
use super::sys::codec::{Codec as AvCodec, CodecContext, CtxInt, PKT_FLAG_KEY, Packet as AvPacket};
use super::sys::frame::IntField;
use crate::backend::EncoderBackend;
use crate::backend::software_threads;
use crate::codec::{Codec, PixelFormat, Rational};
use crate::config::{EncoderConfig, FrameOptions, RateControl};
use crate::engine::{Engine, EnginePreference};
use crate::error::{Error, Result};
use crate::frame::{Frame, HostFrame};
use crate::packet::Packet;
use crate::records::probe_info::ProbeInfo;

/// Whether `engine` can encode `codec` here: the encoder is in this FFmpeg build, what
/// it needs is present (render node, runtime), and one 320x240 frame encodes to a keyframe.
pub(crate) fn probe(engine: Engine, codec: Codec, device: u32) -> Result<ProbeInfo> {
    let ff = common::ffmpeg(format!("{codec} encode with {engine}"))?;
    let choice = choose(ff, engine, codec, None)?;
    let spec = choice.spec;
    // A bitrate target, unless this encoder refuses them here (then its constant quality,
    // and a note saying why).
    let refused = refused_bitrate_target(ff, spec);
    let rc = match refused {
        Some(_) => RateControl::ConstQuality { q: 30 },
        None => RateControl::Cbr { bitrate: 1_000_000 },
    };
    let mut config = EncoderConfig::new(codec, 320, 240)
        .engine(EnginePreference::Only(engine))
        .rate_control(rc)
        .input_format(if spec.input == FrameInput::VaapiSurfaces { PixelFormat::Nv12 } else { PixelFormat::Yuv420p });
    config.device_index = device;
    let mut enc = FfmpegEncoder::open_spec(engine, spec, &config)?;
    let mut pixels = HostFrame::new_packed(config.input_format, 320, 240);
    pixels.as_bytes_mut().fill(128);
    let frame = Frame::host(config.input_format, 320, 240, pixels);
    enc.submit(&frame, FrameOptions { pts: Some(0), force_keyframe: false }, 0)?;
    let packets = enc.flush()?;
    match packets.first() {
        Some(p) if p.keyframe && !p.data.is_empty() => {}
        _ => {
            return Err(Error::backend(engine, "probe", format!("{}: one frame gave no keyframe", spec.name)));
        }
    }
    let mut notes = vec![match choice.passed_over.as_slice() {
        [] => format!("encoder {}", spec.name),
        missing => format!("encoder {} ({} not in this FFmpeg build)", spec.name, missing.join(", ")),
    }];
    if let ForceKeyframe::Unsupported(why) = &enc.plan.force_keyframe {
        notes.push(format!("no forced keyframes: {why}"));
    }
    // The probe encodes at a bitrate target: what bitrate targets get is noted.
    match holder_of_bitrate_targets(ff, spec) {
        Some((holder, why)) => notes.push(format!("bitrate targets on {}: {why}", holder.name)),
        None => notes.extend(enc.plan.caveat.clone()),
    }
    notes.extend(refused.map(|why| format!("no bitrate targets: {why}")));
    Ok(ProbeInfo { device: Some(enc.device.clone()), driver: Some(ff.version_string()), notes })
}

/// Opens an encoder of the `engine` family for `config`.
pub(crate) fn open(engine: Engine, config: &EncoderConfig) -> Result<Box<dyn EncoderBackend>> {
    let ff = common::ffmpeg(format!("{} encode with {engine}", config.codec))?;
    let first = choose(ff, engine, config.codec, config.ffmpeg_encoder.as_deref())?.spec;
    // A bitrate target goes to the encoder that holds it, unless one was named.
    let swap = match (&config.ffmpeg_encoder, config.targets_bitrate()) {
        (None, true) => holder_of_bitrate_targets(ff, first),
        _ => None,
    };
    let (spec, note) = match swap {
        Some((holder, why)) => (holder, Some(format!("{} passed over: {why}", first.name))),
        None => (first, None),
    };
    let mut enc = FfmpegEncoder::open_spec(engine, spec, config)?;
    // Here, not in `open_spec`: the probe's encoder would say it on every probe.
    if let Some(caveat) = &enc.plan.caveat {
        tracing::warn!(encoder = spec.name, "{caveat}");
    }
    enc.note = note;
    Ok(Box::new(enc))
}

/// The encoder to take for a bitrate target instead of `first`, and why, where `first`
/// may miss it and this FFmpeg has one that holds it: an SVT-AV1 known to be older than
/// 4.0 (`svt::rate_caveat`) gives way to libaom-av1, which held every target measured
/// (`aom.rs`), unless this FFmpeg refuses libaom's bitrate targets (`aom::cbr_refused`).
/// An SVT-AV1 of unknown version (no `/proc/self/maps`, or linked into libavcodec) is
/// kept, with its caveat: it may well be 4.x. libaom is about 3.3 times slower here (720p,
/// preset medium): naming libsvtav1 (`EncoderConfig::ffmpeg_encoder`) keeps SVT-AV1.
fn holder_of_bitrate_targets(
    ff: &'static Ffmpeg,
    first: &'static EncoderSpec,
) -> Option<(&'static EncoderSpec, String)> {
    if first.name != "libsvtav1" {
        return None;
    }
    let why = super::svt::rate_caveat(Some(super::svt::loaded_major()?))?;
    let aom = choose(ff, first.engine, first.codec, Some("libaom-av1")).ok()?.spec;
    refused_bitrate_target(ff, aom).is_none().then_some((aom, why))
}

/// The encoder `engine` uses for `codec` with the FFmpeg `ff`: the one `named`
/// (`EncoderConfig::ffmpeg_encoder`), else the first of its candidates that `ff` has and
/// the test hook does not hide (`encoder_options::choose`).
fn choose(ff: &'static Ffmpeg, engine: Engine, codec: Codec, named: Option<&str>) -> Result<Choice> {
    let present = |name: &str| !encoder_options::hidden(name) && AvCodec::encoder(ff, name).is_some();
    match named {
        Some(name) => encoder_options::choose_named(engine, codec, name, &ff.libavcodec_version(), present),
        None => encoder_options::choose(engine, codec, &ff.libavcodec_version(), present),
    }
}

/// Why `spec` must not open with a bitrate target on the FFmpeg `ff`, if it must not
/// (FFmpeg 7.1's libaomenc: `aom::cbr_refused`).
fn refused_bitrate_target(ff: &Ffmpeg, spec: &EncoderSpec) -> Option<&'static str> {
    if spec.name == "libaom-av1" { super::aom::cbr_refused(ff.avcodec_version) } else { None }
}

/// Whether the shared library `name` can be loaded here.
fn library_loads(name: &str) -> bool {
    // SAFETY: loading a vendor runtime runs its initialisers; these are the libraries
    // FFmpeg itself would load for the same encoder. The handle is closed at once.
    unsafe { libloading::Library::new(name) }.is_ok()
}

/// What an engine needs besides the encoder being built in, checked before opening.
fn check_runtime(engine: Engine, config: &EncoderConfig) -> Result<Option<String>> {
    let what = format!("{} encode with {engine}", config.codec);
    match engine {
        Engine::Qsv => {
            let node = if cfg!(target_os = "linux") {
                Some(frame_upload::render_node(engine, config.device_index)?)
            } else {
                None
            };
            let runtimes: &[&str] = if cfg!(windows) {
                &["libmfxhw64.dll", "libvpl.dll"]
            } else {
                &["libmfxhw64.so.1", "libmfx-gen.so.1.2", "libvpl.so.2"]
            };
            if !runtimes.iter().any(|r| library_loads(r)) {
                return Err(Error::unsupported(
                    what,
                    format!("QSV runtime missing (none of {} loads)", runtimes.join(", ")),
                ));
            }
            Ok(node)
        }
        Engine::Vaapi => Ok(Some(frame_upload::render_node(engine, config.device_index)?)),
        Engine::Amf => {
            let runtime = if cfg!(windows) { "amfrt64.dll" } else { "libamfrt64.so.1" };
            if !library_loads(runtime) {
                return Err(Error::unsupported(
                    what,
                    format!("AMF runtime {runtime} not found (AMD's driver package provides it)"),
                ));
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// One opened libavcodec encoder with its frame path.
struct Session {
    enc: CodecContext,
    writer: FrameWriter,
    hw_frames: Option<HwFrames>,
    extradata: Vec<u8>,
    /// The end of the stream was sent (`flush`): closing needs no drain.
    eof_sent: bool,
    /// Frames sent since the session opened.
    sent: u64,
    /// SVT-AV1 cannot end a stream that had no frame (see `drop`).
    close_needs_a_frame: bool,
    /// The input pictures (format and size), for the blank one `drop` may send.
    input: (PixelFormat, u32, u32),
}

impl Session {
    fn open(
        engine: Engine,
        spec: &EncoderSpec,
        plan: &Plan,
        config: &EncoderConfig,
        device: Option<&HwDevice>,
        node: Option<&str>,
    ) -> Result<Session> {
        let name = spec.name;
        let ff = common::ffmpeg(format!("{} encode with {engine}", config.codec))?;
        let codec = AvCodec::encoder(ff, name).ok_or_else(|| {
            Error::unsupported(
                format!("{} encode with {engine}", config.codec),
                format!("encoder {name} not in this FFmpeg build ({})", ff.libavcodec_version()),
            )
        })?;
        // Formats FFmpeg names that frame_upload does not write are left out: the choice
        // is among those it can.
        let offered = codec.pix_fmts();
        let supported: Vec<Pixel> = offered.iter().filter_map(|&f| Pixel::from_name(ff.pix_fmt_name(f))).collect();
        if supported.is_empty() && !offered.is_empty() {
            // Only formats this engine does not write (RGB, 4:4:4, …): refused by name.
            let names: Vec<&str> = offered.iter().map(|&f| ff.pix_fmt_name(f)).collect();
            return Err(Error::unsupported(
                format!("{} input with {name}", config.input_format),
                format!("{name} takes {}", names.join(", ")),
            ));
        }
        let mut ctx = CodecContext::new(codec).map_err(|e| av_error(engine, name, e))?;
        let (hw_frames, target) = match spec.input {
            FrameInput::VaapiSurfaces => {
                let node = node.ok_or_else(|| Error::unsupported(format!("{name} encode"), "no render node"))?;
                let sw = frame_upload::surface_format(config.input_format);
                let frames = HwFrames::vaapi(node, sw, config.width, config.height)?;
                frames.attach(&mut ctx)?;
                (Some(frames), sw)
            }
            FrameInput::Software => {
                let target = frame_upload::choose_format(name, config.input_format, &supported)?;
                if let Some(d) = device {
                    d.attach(engine, &mut ctx)?;
                }
                (None, target)
            }
        };
        for o in &plan.options {
            ctx.set_option(o.name, &o.value).map_err(|e| match e {
                AvError::OPTION_NOT_FOUND => Error::unsupported(
                    format!("{} with {name}", o.from),
                    format!("option '{}' is not in this FFmpeg build ({})", o.name, ff.libavcodec_version()),
                ),
                e => Error::unsupported(
                    format!("{} with {name}", o.from),
                    format!("option '{}' rejects '{}': {e}", o.name, o.value),
                ),
            })?;
        }
        ctx.set_int(CtxInt::Width, config.width as i32);
        ctx.set_int(CtxInt::Height, config.height as i32);
        if hw_frames.is_none() {
            ctx.set_int(CtxInt::PixFmt, target.value(ff)?);
        }
        // With no count asked for, a session opened while others run takes its share of
        // the cores instead of the encoder's automatic one thread per core.
        if plan.options.iter().any(|o| o.name == "threads" && o.value == "0") {
            let n = software_threads::session_threads(None);
            if n > 0 {
                ctx.set_option("threads", &n.to_string()).map_err(|e| av_error(engine, name, e))?;
            }
        }
        ctx.set_time_base(config.timebase.num as i32, config.timebase.den as i32);
        ctx.set_framerate(config.fps.num as i32, config.fps.den as i32);
        ctx.open().map_err(|e| {
            av_error(engine, &format!("avcodec_open2 {}x{} with {}", config.width, config.height, plan.cli_args()), e)
        })?;
        let enc = ctx;
        let extradata = enc.extradata();
        let writer = FrameWriter::new(config.input_format, target, config.width, config.height, &config.color)?;
        Ok(Session {
            enc,
            writer,
            hw_frames,
            extradata,
            eof_sent: false,
            sent: 0,
            close_needs_a_frame: name == "libsvtav1",
            input: (config.input_format, config.width, config.height),
        })
    }
}

impl Drop for Session {
    /// Ends the stream before the context is freed. SVT-AV1 (FFmpeg's `libsvtav1`,
    /// SVT-AV1 1.4) waits forever in `avcodec_free_context` for packets of a stream that
    /// never got its end: a session opened and then given up (an output refused after the
    /// encoder opened, an error mid-stream) would hang the process. It also waits forever
    /// for the end of a stream that had no frame at all, so such a session gets one blank
    /// picture first. What comes out is dropped: nobody asked for it.
    fn drop(&mut self) {
        if self.eof_sent {
            return;
        }
        let Ok(ff) = super::sys::get() else { return };
        let Ok(mut pkt) = AvPacket::empty(ff) else { return };
        if self.sent == 0 && self.close_needs_a_frame && self.hw_frames.is_none() {
            let (format, width, height) = self.input;
            let blank = HostFrame::new_packed(format, width, height);
            let sent = match self.writer.write(&blank) {
                Ok(av) => {
                    av.set_pts(Some(0));
                    self.enc.send_frame(Some(av)).is_ok()
                }
                Err(_) => false,
            };
            if !sent {
                // Not seen: a blank picture of the session's own format and size.
                tracing::warn!("libsvtav1: a blank picture to close a session that never encoded was refused");
            }
        }
        if self.enc.send_frame(None).is_err() {
            return;
        }
        // Bounded: an encoder holds at most its look-ahead and delay, far below this.
        for _ in 0..100_000 {
            if self.enc.receive_packet(&mut pkt).is_err() {
                break;
            }
            pkt.unref();
        }
    }
}

/// The FFmpeg encode engine.
pub(crate) struct FfmpegEncoder {
    engine: Engine,
    spec: &'static EncoderSpec,
    plan: Plan,
    config: EncoderConfig,
    session: Session,
    /// QSV: the device the encoder runs on.
    hw_device: Option<HwDevice>,
    /// Where it runs ("software", a render node).
    device: String,
    /// Why this encoder and not the engine's first (`holder_of_bitrate_targets`).
    note: Option<String>,
    packetizer: Packetizer,
    packets: VecDeque<Packet>,
    /// Generation of each frame in flight, by pts.
    generations: HashMap<i64, u64>,
    last_generation: u64,
    frames: u64,
    last_pts: Option<i64>,
    /// The session was flushed: the next frame opens a new one.
    flushed: bool,
    pkt: AvPacket,
    /// Counts this session among those sharing the cores.
    _session: software_threads::Session,
}

impl FfmpegEncoder {
    fn open_spec(engine: Engine, spec: &'static EncoderSpec, config: &EncoderConfig) -> Result<Self> {
        let plan = encoder_options::plan(spec, config)?;
        let ff = common::ffmpeg(format!("{} encode with {engine}", config.codec))?;
        if let (true, Some(why)) = (config.targets_bitrate(), refused_bitrate_target(ff, spec)) {
            return Err(Error::unsupported(format!("{} encode with {engine} {}", config.codec, spec.name), why));
        }
        let node = check_runtime(engine, config)?;
        let hw_device = match (engine, node.as_deref()) {
            (Engine::Qsv, node) => Some(HwDevice::open(
                engine,
                "qsv",
                None,
                &node.map(|n| vec![("child_device", n)]).unwrap_or_default(),
                node.unwrap_or("the default adapter"),
            )?),
            _ => None,
        };
        let session = Session::open(engine, spec, &plan, config, hw_device.as_ref(), node.as_deref())?;
        let device = match &node {
            Some(n) => n.clone(),
            None if engine == Engine::Ffmpeg => "software".to_string(),
            None => engine.name().to_string(),
        };
        tracing::debug!(encoder = spec.name, "ffmpeg encoder options: {}", plan.cli_args());
        let packetizer = Packetizer::new(config, &session.extradata);
        Ok(FfmpegEncoder {
            engine,
            spec,
            plan,
            config: config.clone(),
            session,
            hw_device,
            device,
            note: None,
            packetizer,
            packets: VecDeque::new(),
            generations: HashMap::new(),
            last_generation: 0,
            frames: 0,
            last_pts: None,
            flushed: false,
            pkt: AvPacket::empty(ff).map_err(|e| av_error(engine, "av_packet_alloc", e))?,
            _session: software_threads::Session::start(),
        })
    }

    /// Moves every packet the encoder has ready into the queue.
    fn drain(&mut self) -> Result<()> {
        loop {
            match self.session.enc.receive_packet(&mut self.pkt) {
                Ok(()) => {
                    let data = self.pkt.data();
                    let keyframe = self.pkt.flags() & PKT_FLAG_KEY != 0;
                    let pts = self.pkt.pts();
                    let out = self.packetizer.packet(data, keyframe);
                    let generation = pts.and_then(|p| self.generations.remove(&p)).unwrap_or(self.last_generation);
                    self.packets.push_back(Packet {
                        codec: self.config.codec,
                        layout: self.config.layout,
                        data: out,
                        pts,
                        dts: self.pkt.dts(),
                        keyframe,
                        generation,
                    });
                    self.pkt.unref();
                }
                Err(AvError::EAGAIN | AvError::EOF) => return Ok(()),
                Err(e) => return Err(av_error(self.engine, &format!("{} receive_packet", self.spec.name), e)),
            }
        }
    }

    /// Opens a fresh encoder after a flush (the stream goes on with a keyframe).
    fn reopen(&mut self) -> Result<()> {
        let node = (self.spec.input == FrameInput::VaapiSurfaces).then_some(self.device.as_str());
        self.session = Session::open(self.engine, self.spec, &self.plan, &self.config, self.hw_device.as_ref(), node)?;
        self.frames = 0;
        self.flushed = false;
        Ok(())
    }

    /// One frame duration in the configured timebase.
    fn frame_ticks(&self) -> i64 {
        self.config.timebase.rescale(1, Rational::new(self.config.fps.den, self.config.fps.num)).max(1)
    }
}

impl EncoderBackend for FfmpegEncoder {
    fn engine(&self) -> Engine {
        self.engine
    }

    fn describe(&self) -> String {
        let version = super::sys::get().map(Ffmpeg::libavcodec_version).unwrap_or_default();
        match self.plan.caveat.as_ref().or(self.note.as_ref()) {
            Some(said) => format!("{} {} ({}, {version}) [{said}]", self.engine, self.spec.name, self.device),
            None => format!("{} {} ({}, {version})", self.engine, self.spec.name, self.device),
        }
    }

    fn submit(&mut self, frame: &Frame, options: FrameOptions, generation: u64) -> Result<()> {
        crate::backend::check_encoder_input(&self.config, frame, self.spec.name)?;
        if self.flushed {
            self.reopen()?;
        }
        let force = options.force_keyframe && self.frames > 0;
        if force && let ForceKeyframe::Unsupported(why) = &self.plan.force_keyframe {
            return Err(Error::unsupported(format!("a forced keyframe with {}", self.spec.name), why));
        }
        let host = frame.to_host()?;
        let pts = options.pts.unwrap_or_else(|| self.last_pts.map_or(0, |p| p + self.frame_ticks()));
        let av = self.session.writer.write(&host)?;
        av.set_pts(Some(pts));
        // AV_PICTURE_TYPE_I forces a keyframe; AV_PICTURE_TYPE_NONE (0) lets the encoder pick.
        av.set_int(IntField::PictType, if force { 1 } else { 0 });
        let sent = match &self.session.hw_frames {
            Some(hw) => {
                let surface = hw.upload(av)?;
                self.session.enc.send_frame(Some(&surface))
            }
            None => self.session.enc.send_frame(Some(av)),
        };
        sent.map_err(|e| av_error(self.engine, &format!("{} send_frame (pts {pts})", self.spec.name), e))?;
        self.generations.insert(pts, generation);
        self.last_generation = generation;
        self.last_pts = Some(pts);
        self.frames += 1;
        self.session.sent += 1;
        self.drain()
    }

    fn try_reap(&mut self) -> Result<Option<Packet>> {
        Ok(self.packets.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Packet>> {
        if !self.flushed && self.frames > 0 {
            self.session
                .enc
                .send_frame(None)
                .map_err(|e| av_error(self.engine, &format!("{} send_eof", self.spec.name), e))?;
            self.session.eof_sent = true;
            self.drain()?;
            self.flushed = true;
        }
        self.generations.clear();
        Ok(self.packets.drain(..).collect())
    }

    fn reconfigure(&mut self, config: &EncoderConfig) -> Result<bool> {
        if self.spec.family != encoder_options::Family::X264 || self.flushed {
            return Ok(false);
        }
        let old = &self.config;
        // CBR is x264's HRD signalled as CBR with filler (encoder_options), whose VBV x264
        // does not let change once open: a change to or from it opens a new session.
        if matches!(old.rate_control, RateControl::Cbr { .. }) || matches!(config.rate_control, RateControl::Cbr { .. })
        {
            return Ok(false);
        }
        let mut rest = config.clone();
        rest.rate_control = old.rate_control;
        if rest != *old {
            return Ok(false);
        }
        let updates: Vec<(&str, String)> = match (old.rate_control, config.rate_control) {
            (RateControl::Vbr { .. }, RateControl::Vbr { avg, max }) => {
                vec![("b", avg.to_string()), ("maxrate", max.to_string()), ("bufsize", max.to_string())]
            }
            (RateControl::ConstQuality { .. }, RateControl::ConstQuality { q }) => vec![("crf", q.to_string())],
            _ => return Ok(false),
        };
        let ctx = &mut self.session.enc;
        for (name, value) in &updates {
            if let Err(e) = ctx.set_option(name, value) {
                tracing::debug!(error = %e, "libx264 could not change {name} in place");
                return Ok(false);
            }
        }
        self.config = config.clone();
        self.plan = encoder_options::plan(self.spec, config)?;
        Ok(true)
    }

    fn parameter_sets(&self) -> Vec<Vec<u8>> {
        self.packetizer.parameter_sets().to_vec()
    }

    fn gop_length(&self) -> Option<u32> {
        self.config.gop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option the table sets, for every rate control, preset, tuning and the other
    /// knobs, exists in this FFmpeg build and takes its value, for each encoder the build
    /// has (hardware ones included: options are set on an unopened context, no device
    /// needed). Encoders the build lacks (AMF, VideoToolbox off macOS) are named and skipped.
    #[test]
    fn every_planned_option_is_accepted_by_this_ffmpeg_build() {
        use crate::config::{Preset, Tuning};
        let Some(ff) = crate::backend::ffmpeg::test_ffmpeg() else { return };
        let rcs = [
            RateControl::Cbr { bitrate: 2_000_000 },
            RateControl::Vbr { avg: 1_000_000, max: 1_000_000 },
            RateControl::Vbr { avg: 1_000_000, max: 3_000_000 },
            RateControl::ConstQp { i: 20, p: 24, b: 28 },
            RateControl::ConstQuality { q: 23 },
        ];
        let tunings = [Tuning::HighQuality, Tuning::LowLatency, Tuning::UltraLowLatency, Tuning::Lossless];
        let mut checked = 0;
        for spec in encoder_options::ENCODERS {
            let Some(codec) = AvCodec::encoder(ff, spec.name) else {
                eprintln!("note: {} is not in this FFmpeg build; its rows are checked as data only", spec.name);
                continue;
            };
            for rc in rcs {
                for preset in Preset::ALL {
                    for tuning in tunings {
                        let mut cfg =
                            EncoderConfig::new(spec.codec, 320, 240).rate_control(rc).preset(preset).tuning(tuning);
                        cfg.gop = Some(30);
                        cfg.qp_range = Some((10, 45));
                        cfg.lookahead =
                            Some(if spec.engine == Engine::Ffmpeg || spec.name == "h264_qsv" { 8 } else { 0 });
                        let av1 = matches!(spec.family, encoder_options::Family::SvtAv1 | encoder_options::Family::Aom);
                        if tuning == Tuning::HighQuality && !av1 {
                            cfg.b_frames = Some(if spec.name == "hevc_amf" { 0 } else { 2 });
                        }
                        let Ok(plan) = encoder_options::plan(spec, &cfg) else { continue };
                        let mut ctx = CodecContext::new(codec).unwrap();
                        for o in &plan.options {
                            ctx.set_option(o.name, &o.value)
                                .unwrap_or_else(|e| panic!("{}: -{} {} ({}): {e}", spec.name, o.name, o.value, o.from));
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 0);
    }

    /// A registry where VA-API and QSV come first (as on a machine built with them):
    /// `Auto` falls back from VA-API to libx264 with one WARN line and one
    /// `video_hw_fallback_total{from="vaapi",to="ffmpeg"}`; an explicit VA-API refuses
    /// with the reason and reports no fallback.
    #[test]
    fn fallback_from_unavailable_vaapi_and_qsv_to_libx264_is_visible() {
        use crate::registry::{PROBE_TIMEOUT, Registry};
        use crate::test_observe::observe;

        if crate::backend::ffmpeg::test_ffmpeg().is_none() {
            return;
        }
        if !frame_upload::render_nodes().is_empty() {
            return; // A render node here might make VA-API available.
        }
        let entry = |engine: Engine| crate::registry::ffmpeg_entry(engine, false);
        let registry =
            Registry::new(vec![entry(Engine::Vaapi), entry(Engine::Qsv), entry(Engine::Ffmpeg)], PROBE_TIMEOUT);
        let cfg = EncoderConfig::new(Codec::H264, 320, 240);
        let (engine, counters, lines) = observe(|| registry.open_encoder(&cfg).map(|b| b.engine()));
        assert_eq!(engine.unwrap(), Engine::Ffmpeg);
        let fired: Vec<_> = counters.iter().filter(|(_, n)| *n > 0).collect();
        assert_eq!(fired, vec![&("video_hw_fallback_total{from=vaapi,reason=unavailable,to=ffmpeg}".to_string(), 1)]);
        let warns: Vec<_> = lines.iter().filter(|l| l.contains("WARN")).collect();
        assert_eq!(warns.len(), 1, "{lines:?}");
        // The reason: no render node, or (an FFmpeg built without VA-API, as PyAV's) no encoder.
        let no_vaapi =
            |t: &str| t.contains("no /dev/dri/renderD*") || t.contains("h264_vaapi not in this FFmpeg build");
        assert!(warns[0].contains("falling back from vaapi to ffmpeg") && no_vaapi(warns[0]), "{}", warns[0]);

        let explicit = cfg.engine(EnginePreference::Only(Engine::Vaapi));
        let (result, counters, lines) = observe(|| registry.open_encoder(&explicit).map(|b| b.engine()));
        let e = result.expect_err("VA-API is not here");
        assert!(no_vaapi(&e.to_string()), "{e}");
        assert!(counters.iter().all(|(_, n)| *n == 0) && lines.iter().all(|l| !l.contains("WARN")), "{lines:?}");
    }
}
