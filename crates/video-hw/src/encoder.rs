//! The encode session: frames in, packets out, with live reconfiguration.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::EncoderBackend;
use crate::bitstream::avcc::DecoderConfigRecord;
use crate::config::{EncoderConfig, FrameOptions, SwitchMode};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};
use crate::metrics::{Scope, Stage, Telemetry, Timings};
use crate::packet::{Packet, PacketLayout};
use crate::process::InProcess;
use crate::registry::Registry;

/// Counters of an encode session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncoderStats {
    /// Frames submitted.
    pub frames_in: u64,
    /// Packets returned.
    pub packets_out: u64,
    /// Bytes of packets returned.
    pub bytes_out: u64,
    /// Keyframes among the packets returned.
    pub keyframes: u64,
    /// Time spent inside the engine's submit calls.
    pub engine_time: Duration,
    /// Configuration generation now in force.
    pub generation: u64,
    /// Per-stage times (encode, reap, upload, map), fps and bytes copied between host
    /// and device.
    pub timings: Timings,
}

/// A reconfiguration waiting for the next keyframe.
struct PendingSwitch {
    config: EncoderConfig,
    generation: u64,
}

/// An encode session.
///
/// ```no_run
/// use video_hw::{Codec, Encoder, EncoderConfig, FrameOptions, Frame, PixelFormat, RateControl, SwitchMode};
/// use video_hw::frame::HostFrame;
/// let cfg = EncoderConfig::new(Codec::H264, 640, 360).fps(30, 1).rate_control(RateControl::Cbr { bitrate: 1_000_000 });
/// let mut enc = Encoder::open(cfg.clone())?;
/// for i in 0..60 {
///     let pixels = HostFrame::new_packed(PixelFormat::Yuv420p, 640, 360);
///     let frame = Frame::host(PixelFormat::Yuv420p, 640, 360, pixels);
///     enc.submit(&frame, FrameOptions { pts: Some(i * 3000), force_keyframe: false })?;
///     while let Some(packet) = enc.try_reap()? {
///         println!("{} bytes, key {}", packet.data.len(), packet.keyframe);
///     }
///     if i == 30 {
///         let g = enc.reconfigure(cfg.clone().rate_control(RateControl::Cbr { bitrate: 500_000 }), SwitchMode::Immediate)?;
///         println!("packets from now on carry generation {g}");
///     }
/// }
/// let rest = enc.flush()?;
/// # Ok::<(), video_hw::Error>(())
/// ```
pub struct Encoder {
    config: EncoderConfig,
    /// The engine's session; leaked, not closed, if dropped in a child made by `fork`.
    backend: InProcess<Box<dyn EncoderBackend>>,
    /// Opens the engine session a drain-and-swap moves to: the registry's, except in tests
    /// of an engine behind a fake vendor layer, which the registry cannot open.
    reopen: Reopen,
    description: String,
    generation: u64,
    /// Generations handed out so far (a pending switch reserves one).
    last_generation: u64,
    pending: Option<PendingSwitch>,
    /// Packets of a drained backend, returned before the new backend's.
    drained: VecDeque<Packet>,
    frames_since_keyframe: u64,
    stats: EncoderStats,
    telemetry: Arc<Telemetry>,
}

/// Opens a new engine session for a configuration (see [`Encoder::drain_then_swap`]).
type Reopen = Arc<dyn Fn(&EncoderConfig) -> Result<Box<dyn EncoderBackend>> + Send + Sync>;

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("config", &self.config).field("backend", &self.description).finish()
    }
}

impl Encoder {
    /// Validates `config` and opens the best engine it allows (see [`crate::registry`]).
    pub fn open(config: EncoderConfig) -> Result<Self> {
        config.validate()?;
        let backend = Registry::global().open_encoder(&config)?;
        Ok(Self::with_backend(config, backend))
    }

    pub(crate) fn with_backend(config: EncoderConfig, backend: Box<dyn EncoderBackend>) -> Self {
        Self::with_backend_and_reopen(config, backend, Arc::new(|c| Registry::global().open_encoder(c)))
    }

    /// As [`with_backend`](Self::with_backend), with new sessions opened by `reopen`.
    pub(crate) fn with_backend_and_reopen(
        config: EncoderConfig,
        backend: Box<dyn EncoderBackend>,
        reopen: Reopen,
    ) -> Self {
        let description = backend.describe();
        tracing::debug!(engine = backend.engine().name(), codec = config.codec.name(), "encoder opened: {description}");
        let telemetry = Telemetry::new(crate::Direction::Encode, config.codec, backend.engine());
        Encoder {
            telemetry,
            config,
            backend: InProcess::new(backend),
            reopen,
            description,
            generation: 0,
            last_generation: 0,
            pending: None,
            drained: VecDeque::new(),
            frames_since_keyframe: 0,
            stats: EncoderStats::default(),
        }
    }

    fn check_frame(&self, frame: &Frame) -> Result<()> {
        let c = &self.config;
        if frame.format != c.input_format {
            return Err(Error::invalid_input(format!(
                "frame is {}, the encoder was opened for {}",
                frame.format, c.input_format
            )));
        }
        if (frame.width, frame.height) != (c.width, c.height) {
            return Err(Error::invalid_input(format!(
                "frame is {}x{}, the encoder was opened for {}x{} (reconfigure with DrainThenSwap to change size)",
                frame.width, frame.height, c.width, c.height
            )));
        }
        if let FrameData::Host(h) = &frame.data {
            crate::frame::check_host_planes(h, frame.format, frame.width, frame.height)?;
        }
        if matches!(frame.data, FrameData::None) {
            return Err(Error::invalid_input("frame carries no pixels"));
        }
        Ok(())
    }

    /// Submits a frame. Packets become available through [`try_reap`](Self::try_reap).
    ///
    /// An engine that keeps frames in flight (NVENC) returns [`Error::Backpressure`] when
    /// `frames_in_flight` frames (plus those it holds for B-frames and look-ahead) wait in it
    /// unreaped; the frame is then not taken: reap ([`reap_timeout`](Self::reap_timeout))
    /// and submit it again.
    pub fn submit(&mut self, frame: &Frame, options: FrameOptions) -> Result<()> {
        self.backend.process().check("an encoder")?;
        self.check_frame(frame)?;
        let mut options = options;
        if options.pts.is_none() {
            // One frame duration per frame, in the session's timebase.
            let frame_ticks =
                self.config.timebase.rescale(1, crate::Rational::new(self.config.fps.den, self.config.fps.num));
            options.pts = Some(self.stats.frames_in as i64 * frame_ticks);
        }
        let gop_due = self
            .config
            .gop
            .or_else(|| self.backend.gop_length())
            .is_some_and(|g| self.frames_since_keyframe >= g as u64);
        if self.pending.is_some() && (options.force_keyframe || gop_due) {
            let switch = self.pending.take().expect("checked");
            self.apply_now(switch.config, switch.generation)?;
            options.force_keyframe = true;
        }
        self.telemetry.started();
        let _scope = Scope::enter(&self.telemetry);
        let start = Instant::now();
        self.backend.submit(frame, options, self.generation)?;
        let took = start.elapsed();
        self.stats.engine_time += took;
        self.telemetry.stage(Stage::Encode, took);
        self.stats.frames_in += 1;
        self.telemetry.frames(1);
        self.frames_since_keyframe = if options.force_keyframe || gop_due || self.stats.frames_in == 1 {
            1
        } else {
            self.frames_since_keyframe + 1
        };
        Ok(())
    }

    fn count(&mut self, p: Option<Packet>, start: Instant) -> Option<Packet> {
        if let Some(p) = &p {
            self.telemetry.stage(Stage::Reap, start.elapsed());
            self.stats.packets_out += 1;
            self.stats.bytes_out += p.data.len() as u64;
            self.stats.keyframes += p.keyframe as u64;
        }
        p
    }

    /// A packet if one is ready, without waiting.
    pub fn try_reap(&mut self) -> Result<Option<Packet>> {
        self.backend.process().check("an encoder")?;
        let start = Instant::now();
        if let Some(p) = self.drained.pop_front() {
            return Ok(self.count(Some(p), start));
        }
        let _scope = Scope::enter(&self.telemetry);
        let p = self.backend.try_reap()?;
        Ok(self.count(p, start))
    }

    /// Waits up to `timeout` for a packet.
    pub fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Packet>> {
        self.backend.process().check("an encoder")?;
        let start = Instant::now();
        if let Some(p) = self.drained.pop_front() {
            return Ok(self.count(Some(p), start));
        }
        let _scope = Scope::enter(&self.telemetry);
        let p = self.backend.reap_timeout(timeout)?;
        Ok(self.count(p, start))
    }

    /// Ends the stream: returns every packet still held, in order.
    pub fn flush(&mut self) -> Result<Vec<Packet>> {
        self.backend.process().check("an encoder")?;
        let mut out: Vec<Packet> = self.drained.drain(..).collect();
        {
            let _scope = Scope::enter(&self.telemetry);
            out.extend(self.backend.flush()?);
        }
        for p in &out {
            self.stats.packets_out += 1;
            self.stats.bytes_out += p.data.len() as u64;
            self.stats.keyframes += p.keyframe as u64;
        }
        Ok(out)
    }

    /// Changes the configuration; returns the generation that packets encoded with the
    /// new configuration will carry.
    ///
    /// - [`SwitchMode::Immediate`]: from the next frame on; in place when the engine can
    ///   (bitrate, frame rate, GOP), else as `DrainThenSwap`.
    /// - [`SwitchMode::OnNextKeyframe`]: held until the next keyframe (one the caller
    ///   forces, or the GOP makes), which starts the new generation.
    /// - [`SwitchMode::DrainThenSwap`]: the current engine session is drained (its packets
    ///   still come out, with the old generation) and a new one opened; also for size changes.
    ///
    /// A failed reconfiguration leaves the current session running and returns the error.
    pub fn reconfigure(&mut self, config: EncoderConfig, mode: SwitchMode) -> Result<u64> {
        self.backend.process().check("an encoder")?;
        config.validate()?;
        if config.codec != self.config.codec {
            return Err(Error::invalid_input("reconfigure cannot change the codec; open a new encoder"));
        }
        let generation = self.last_generation + 1;
        match mode {
            SwitchMode::OnNextKeyframe => {
                self.pending = Some(PendingSwitch { config, generation });
            }
            SwitchMode::Immediate | SwitchMode::DrainThenSwap => {
                self.pending = None;
                if mode == SwitchMode::DrainThenSwap {
                    self.drain_then_swap(config, generation)?;
                } else {
                    self.apply_now(config, generation)?;
                }
            }
        }
        self.last_generation = generation;
        Ok(generation)
    }

    /// Applies a configuration in place if the engine can, else by draining and swapping.
    fn apply_now(&mut self, config: EncoderConfig, generation: u64) -> Result<()> {
        let same_size = (config.width, config.height, config.input_format)
            == (self.config.width, self.config.height, self.config.input_format);
        if same_size && self.backend.reconfigure(&config)? {
            self.config = config;
            self.generation = generation;
            self.stats.generation = generation;
            return Ok(());
        }
        self.drain_then_swap(config, generation)
    }

    /// Opens the new engine session first, so a failure leaves the old one running;
    /// then drains the old one and swaps.
    fn drain_then_swap(&mut self, config: EncoderConfig, generation: u64) -> Result<()> {
        let mut pinned = config.clone();
        if pinned.engine == crate::EnginePreference::Auto {
            // Keep the engine that runs now: a silent change of engine mid-stream would surprise.
            pinned.engine = crate::EnginePreference::Only(self.backend.engine());
        }
        let new_backend = (self.reopen)(&pinned)?;
        let old = std::mem::replace(&mut self.backend, InProcess::new(new_backend));
        let mut old = old;
        self.drained.extend(old.flush()?);
        self.description = self.backend.describe();
        self.config = config;
        self.generation = generation;
        self.stats.generation = generation;
        self.frames_since_keyframe = 0;
        Ok(())
    }

    /// The decoder configuration record (`avcC`/`hvcC`) for length-prefixed output, once
    /// the engine has produced its parameter sets.
    pub fn config_record(&self) -> Option<DecoderConfigRecord> {
        if self.config.layout != PacketLayout::LengthPrefixed {
            return None;
        }
        let sets = self.backend.parameter_sets();
        if sets.is_empty() {
            return None;
        }
        Some(DecoderConfigRecord { codec: self.config.codec, length_size: 4, parameter_sets: sets })
    }

    /// Counters and timings so far.
    pub fn stats(&self) -> EncoderStats {
        EncoderStats { timings: self.telemetry.timings(), ..self.stats.clone() }
    }

    pub(crate) fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// The engine that actually runs, described.
    pub fn backend(&self) -> &str {
        &self.description
    }

    /// The engine that actually runs.
    pub fn engine(&self) -> Engine {
        self.backend.engine()
    }

    /// The configuration now in force.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }
}
