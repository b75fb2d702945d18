//! The NVENC encode session: frames in flight, a reaper thread, reconfiguration.
//!
//! Linux NVENC is synchronous: `nvEncEncodePicture` queues a picture, and
//! `nvEncLockBitstream` on its output buffer blocks until it is coded. The session keeps
//! a pool of *slots* (an input buffer and an output bitstream buffer each; for CUDA frames
//! also a device surface) and:
//!
//! - `submit` copies the frame into a free slot and calls `nvEncEncodePicture` on the
//!   caller's thread. `NV_ENC_SUCCESS` hands every slot submitted so far to the reaper, in
//!   submission order; `NV_ENC_ERR_NEED_MORE_INPUT` (a B-frame or look-ahead picture that
//!   NVENC holds back) keeps the slot pending, and its output is not locked until a later
//!   call succeeds, as the header requires. `NV_ENC_ERR_ENCODER_BUSY` is retried a few
//!   times a millisecond apart, then reported as `Error::Backpressure`.
//! - the reaper thread locks the output buffers in that order (each lock waits for its
//!   picture), copies the bitstream and unlocks; the caller's thread then unmaps a staged
//!   CUDA surface and returns the slot to the pool. Buffers are reused, never reallocated.
//! - `submit` never waits for the GPU: when `b_frames` + look-ahead + `frames_in_flight`
//!   frames are in the session (submitted and their packet not yet reaped), it returns
//!   `Error::Backpressure` and the frame is not taken; reap (`reap_timeout`) and submit it
//!   again.
//! - `flush` sends `NV_ENC_PIC_FLAG_EOS` and drains every packet in order. A submit after
//!   a flush starts a fresh NVENC session (a new coded stream, beginning with an IDR).
//!
//! NVENC writes the k-th coded picture into the k-th output buffer submitted, so a packet
//! is matched to its frame by `outputTimeStamp`, which returns the `inputTimeStamp` the
//! session gave the frame (a sequence number). Each packet carries its own frame's pts and
//! generation; with B-frames, dts is the pts of the k-th submitted frame minus `b_frames`
//! frame durations (monotonic, and not above pts for a constant frame rate).
//!
//! Here: the session, opening, submit, flush and reconfigure. The input side (a frame into
//! a slot, the picture parameters) is in `fill.rs`, the output side (the reaper thread,
//! packets, slots given back) in `reap.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::super::sys::nvenc::*;
use super::super::sys::nvenc_versions::*;
use super::api::{Api, Bitstream, Failure, Handle, Phase};
use super::caps::{Caps, codec_guid};
use super::config::{buffer_format, build_config, pool_size, preset_guid, tuning_info};
use super::device::{Device, Surface};
use crate::backend::EncoderBackend;
use crate::bitstream::annexb;
use crate::codec::{Codec, Rational};
use crate::config::{EncoderConfig, FrameOptions, RateControl};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};
use crate::packet::{Packet, PacketLayout};

mod fill;
mod reap;

use reap::reaper;

/// Extra `nvEncEncodePicture` attempts after `NV_ENC_ERR_ENCODER_BUSY`.
const BUSY_RETRIES: u32 = 3;
/// Pause before each retry ("call again after a few milliseconds").
const BUSY_PAUSE: Duration = Duration::from_millis(2);
/// How long `flush` waits for the pictures still in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long closing waits for the reaper thread before leaking the session.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// `NV_ENC_CONFIG`, movable across threads.
#[derive(Clone, Copy)]
struct NvConfig(NV_ENC_CONFIG);
// SAFETY: the struct is plain data; its only pointers are the `reserved2` array, which is
// always null and never dereferenced.
unsafe impl Send for NvConfig {}

/// One input/output buffer pair.
struct Slot {
    input: Handle,
    output: Handle,
    /// Device surface for CUDA frames, allocated on first use.
    surface: Option<Surface>,
    /// The mapped surface while its picture is in flight.
    mapped: Option<Handle>,
}

/// An output buffer for the reaper to lock.
struct Job {
    slot: usize,
    output: Handle,
}

/// What the reaper read from one output buffer.
struct Done {
    slot: usize,
    result: Result<Bitstream>,
    /// How long `nvEncLockBitstream` (and the copy out) took on the reaper thread: the
    /// wait for the GPU, recorded as the session's `map` stage when the slot comes back
    /// (the reaper thread belongs to no session's metrics scope).
    lock: Duration,
}

/// What a submitted frame needs on its packet.
#[derive(Clone, Copy, Debug)]
struct Meta {
    pts: Option<i64>,
    generation: u64,
}

/// The NVENC backend of an `Encoder`.
pub(crate) struct NvencEncoder {
    api: &'static Api,
    device: Arc<Device>,
    encoder: Handle,
    /// "GPU 0 (NVIDIA …)".
    gpu: String,
    description: String,
    config: EncoderConfig,
    caps: Caps,
    /// What the preset gave; every configuration is built from it.
    preset: NvConfig,
    nv: NvConfig,
    host_format: NV_ENC_BUFFER_FORMAT,
    slots: Vec<Slot>,
    free: VecDeque<usize>,
    /// Submitted with `NV_ENC_ERR_NEED_MORE_INPUT`, not handed to the reaper yet.
    pending: Vec<usize>,
    /// Handed to the reaper, not back yet.
    in_reaper: usize,
    jobs: Option<Sender<Job>>,
    done: Option<Receiver<Done>>,
    reaper: Option<JoinHandle<()>>,
    metas: HashMap<u64, Meta>,
    /// pts of the accepted frames, in submission order (for dts).
    dts: VecDeque<Option<i64>>,
    ready: VecDeque<Packet>,
    next_seq: u64,
    /// Frames accepted by this NVENC session.
    accepted: u64,
    /// Registered device surfaces, by device pointer.
    registered: HashMap<u64, Handle>,
    parameter_sets: Vec<Vec<u8>>,
    /// Ask for the parameter sets in band on the next picture.
    sets_next: bool,
    /// EOS was sent: the next submit opens a fresh session.
    ended: bool,
    last_generation: u64,
}

impl std::fmt::Debug for NvencEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvencEncoder").field("gpu", &self.gpu).field("slots", &self.slots.len()).finish_non_exhaustive()
    }
}

/// The packet layout's NAL units that are parameter sets.
fn is_parameter_set(codec: Codec, nal: &[u8]) -> bool {
    match (codec, nal.first()) {
        (Codec::H264, Some(b)) => matches!(b & 0x1f, 7 | 8),
        (Codec::Hevc, Some(b)) => matches!((b >> 1) & 0x3f, 32..=34),
        _ => false,
    }
}

/// Opens a session on `device` and lists what it can do for `codec`, then closes it
/// (the probe).
pub(crate) fn probe_on(api: &'static Api, device: &Device, gpu: &str, codec: Codec) -> Result<Caps> {
    let _current = device.enter()?;
    let dv = api.driver_version();
    let encoder = api.open_session(device.session_device()).map_err(|f| f.into_error(gpu, dv, Phase::Open))?;
    let caps = api.encode_guids(encoder).and_then(|guids| Caps::query(api, encoder, codec, &guids));
    api.destroy(encoder);
    match caps.map_err(|f| f.into_error(gpu, dv, Phase::Run))? {
        Some(c) => Ok(c),
        None => Err(Error::unsupported("nvenc", format!("{gpu} NVENC cannot encode {codec}"))),
    }
}

impl NvencEncoder {
    /// Opens, configures and initialises a session for `config` on `device` through `api`
    /// (the driver's table, or a test's fake), creates the buffer pool, reads the
    /// parameter sets and starts the reaper.
    pub(crate) fn open_on(
        api: &'static Api,
        device: Arc<Device>,
        gpu: String,
        config: &EncoderConfig,
    ) -> Result<NvencEncoder> {
        let codec_id = codec_guid(config.codec)
            .map_err(|why| Error::unsupported(format!("{} encode with nvenc", config.codec), why))?;
        let host_format = buffer_format(config.input_format).ok_or_else(|| {
            Error::unsupported(
                format!("{} input with nvenc", config.input_format),
                "NVENC takes nv12, yuv420p, p010, yuv420p10 or bgra",
            )
        })?;
        let current = device.enter()?;
        let dv = api.driver_version();
        let encoder = api.open_session(device.session_device()).map_err(|f| f.into_error(&gpu, dv, Phase::Open))?;
        let (done_tx, done_rx) = mpsc::channel();
        drop(done_tx);
        // From here on, `Drop` cleans up whatever exists.
        let mut enc = NvencEncoder {
            api,
            device: device.clone(),
            encoder,
            description: format!("nvenc ({})", gpu.replacen(" (", ": ", 1).trim_end_matches(')')),
            gpu,
            config: config.clone(),
            caps: Caps::none(config.codec),
            preset: NvConfig(NV_ENC_CONFIG::default()),
            nv: NvConfig(NV_ENC_CONFIG::default()),
            host_format,
            slots: Vec::new(),
            free: VecDeque::new(),
            pending: Vec::new(),
            in_reaper: 0,
            jobs: None,
            done: Some(done_rx),
            reaper: None,
            metas: HashMap::new(),
            dts: VecDeque::new(),
            ready: VecDeque::new(),
            next_seq: 0,
            accepted: 0,
            registered: HashMap::new(),
            parameter_sets: Vec::new(),
            sets_next: false,
            ended: false,
            last_generation: 0,
        };
        let guids = api.encode_guids(encoder).map_err(|f| enc.fail(f))?;
        enc.caps = Caps::query(api, encoder, config.codec, &guids)
            .map_err(|f| enc.fail(f))?
            .ok_or_else(|| Error::unsupported("nvenc", format!("{} NVENC cannot encode {}", enc.gpu, config.codec)))?;
        let preset = api
            .preset_config(encoder, codec_id, preset_guid(config.preset), tuning_info(config.tuning))
            .map_err(|f| enc.fail(f))?;
        enc.preset = NvConfig(preset);
        let (init, nv) = build_config(config, &enc.caps, preset)?;
        let mut nv = NvConfig(nv);
        let mut params = init;
        params.encodeConfig = &mut nv.0;
        api.initialize(encoder, &mut params).map_err(|f| enc.fail(f))?;
        enc.nv = nv;
        for i in 0..pool_size(&enc.nv.0, config.frames_in_flight) {
            let input = api.create_input_buffer(encoder, config.width, config.height, host_format);
            let input = input.map_err(|f| enc.fail(f))?;
            enc.slots.push(Slot { input, output: Handle::NULL, surface: None, mapped: None });
            let output = api.create_bitstream_buffer(encoder).map_err(|f| enc.fail(f))?;
            enc.slots[i].output = output;
            enc.free.push_back(i);
        }
        enc.refresh_parameter_sets()?;
        drop(current);

        let (jobs_tx, jobs_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let thread_gpu = enc.gpu.clone();
        let spawned = std::thread::Builder::new()
            .name("video-hw-nvenc-reaper".into())
            .spawn(move || reaper(api, device, encoder, thread_gpu, jobs_rx, done_tx))
            .map_err(|e| Error::backend("nvenc", "thread", format!("could not start the reaper thread: {e}")))?;
        enc.jobs = Some(jobs_tx);
        enc.done = Some(done_rx);
        enc.reaper = Some(spawned);
        Ok(enc)
    }

    /// The typed error of a failed call on this running session.
    fn fail(&self, f: Failure) -> Error {
        f.into_error(&self.gpu, self.api.driver_version(), Phase::Run)
    }

    /// Reads the parameter sets (`nvEncGetSequenceParams`, on the encoding thread as the
    /// header requires) as NAL unit bodies.
    fn refresh_parameter_sets(&mut self) -> Result<()> {
        let bytes = self.api.sequence_params(self.encoder).map_err(|f| self.fail(f))?;
        self.parameter_sets = annexb::split_all(&bytes).into_iter().map(<[u8]>::to_vec).collect();
        Ok(())
    }

    /// Frames in the session: held by NVENC, with the reaper, or ready and not reaped.
    fn load(&self) -> usize {
        self.pending.len() + self.in_reaper + self.ready.len()
    }

    /// One frame duration in the session's timebase.
    fn frame_ticks(&self) -> i64 {
        self.config.timebase.rescale(1, Rational::new(self.config.fps.den, self.config.fps.num))
    }

    /// A fresh NVENC session with the same configuration, after an EOS.
    fn restart(&mut self) -> Result<()> {
        // Close first: consumer GPUs allow few sessions at a time.
        self.close();
        let fresh = NvencEncoder::open_on(self.api, self.device.clone(), self.gpu.clone(), &self.config)?;
        let ready = std::mem::take(&mut self.ready);
        let generation = self.last_generation;
        *self = fresh;
        self.ready = ready;
        self.last_generation = generation;
        Ok(())
    }
}

impl EncoderBackend for NvencEncoder {
    fn engine(&self) -> Engine {
        Engine::Nvenc
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn submit(&mut self, frame: &Frame, options: FrameOptions, generation: u64) -> Result<()> {
        crate::backend::check_encoder_input(&self.config, frame, "nvenc")?;
        if self.ended {
            self.restart()?;
        }
        self.last_generation = generation;
        let device = self.device.clone();
        let _current = device.enter()?;
        self.collect_now()?;
        if self.load() >= self.slots.len() {
            return Err(Error::Backpressure(format!(
                "{} frames in the NVENC session (B-frames + look-ahead + frames in flight); reap packets, then submit again",
                self.slots.len()
            )));
        }
        let Some(slot) = self.free.pop_front() else {
            return Err(Error::Backpressure("no free NVENC buffer; reap packets, then submit again".into()));
        };
        let filled = match &frame.data {
            FrameData::Host(h) => self.fill_host(slot, h),
            FrameData::Device(cf) => self.fill_device(slot, cf),
            FrameData::None => Err(Error::invalid_input("frame carries no pixels")),
        };
        let (input, format, pitch) = match filled {
            Ok(x) => x,
            Err(e) => {
                // Undo a map that happened before the failure, keep the slot.
                let _ = self.release(slot);
                return Err(e);
            }
        };
        let seq = self.next_seq;
        let mut flags = 0;
        if options.force_keyframe {
            flags |= NV_ENC_PIC_FLAG_FORCEIDR;
        }
        if self.sets_next {
            flags |= NV_ENC_PIC_FLAG_OUTPUT_SPSPPS;
        }
        let mut pic = NV_ENC_PIC_PARAMS {
            version: NV_ENC_PIC_PARAMS_VER,
            inputWidth: self.config.width,
            inputHeight: self.config.height,
            inputPitch: pitch,
            encodePicFlags: flags,
            frameIdx: seq as u32,
            inputTimeStamp: seq,
            inputBuffer: input.0,
            outputBitstream: self.slots[slot].output.0,
            bufferFmt: format,
            pictureStruct: NV_ENC_PIC_STRUCT_FRAME,
            ..Default::default()
        };
        self.codec_pic_params(&mut pic);
        let status = self.encode_with_retries(&mut pic);
        match status {
            NV_ENC_SUCCESS | NV_ENC_ERR_NEED_MORE_INPUT => {
                self.metas.insert(seq, Meta { pts: options.pts, generation });
                // Entries of pictures lost to a failed lock are never claimed: forget them
                // once they are far behind anything NVENC can still return.
                let horizon = 4 * self.slots.len() as u64;
                if self.metas.len() as u64 > horizon {
                    self.metas.retain(|&s, _| s + horizon > seq);
                }
                self.dts.push_back(options.pts);
                self.next_seq += 1;
                self.accepted += 1;
                self.sets_next = false;
                self.pending.push(slot);
                if status == NV_ENC_SUCCESS {
                    self.dispatch_pending()?;
                }
                Ok(())
            }
            NV_ENC_ERR_ENCODER_BUSY => {
                let _ = self.release(slot);
                Err(Error::Backpressure(format!(
                    "NVENC stayed busy (NV_ENC_ERR_ENCODER_BUSY) over {} attempts; submit the frame again",
                    BUSY_RETRIES + 1
                )))
            }
            other => {
                let failure = self.api.failure(self.encoder, other, "nvEncEncodePicture");
                let _ = self.release(slot);
                Err(self.fail(failure))
            }
        }
    }

    fn try_reap(&mut self) -> Result<Option<Packet>> {
        if self.ready.is_empty() && self.in_reaper > 0 {
            let device = self.device.clone();
            let _current = device.enter()?;
            self.collect_now()?;
        }
        Ok(self.ready.pop_front())
    }

    fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Packet>> {
        if self.ready.is_empty() && self.in_reaper > 0 {
            let device = self.device.clone();
            let _current = device.enter()?;
            self.collect_now()?;
            if self.ready.is_empty() && self.in_reaper > 0 {
                self.wait_one(timeout)?;
            }
        }
        Ok(self.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Packet>> {
        if self.ended || self.accepted == 0 {
            return Ok(self.ready.drain(..).collect());
        }
        let device = self.device.clone();
        let _current = device.enter()?;
        let mut first = self.collect_now();
        let mut eos = NV_ENC_PIC_PARAMS {
            version: NV_ENC_PIC_PARAMS_VER,
            encodePicFlags: NV_ENC_PIC_FLAG_EOS,
            ..Default::default()
        };
        let status = self.api.encode(self.encoder, &mut eos);
        self.ended = true;
        if status == NV_ENC_SUCCESS {
            if let Err(e) = self.dispatch_pending() {
                first = first.and(Err(e));
            }
        } else {
            let e = self.fail(self.api.failure(self.encoder, status, "nvEncEncodePicture (EOS)"));
            first = first.and(Err(e));
            // The held pictures will never come out.
            for slot in std::mem::take(&mut self.pending) {
                let _ = self.release(slot);
            }
        }
        let drained = self.drain_reaper();
        first = first.and(drained);
        self.metas.clear();
        self.dts.clear();
        first?;
        Ok(self.ready.drain(..).collect())
    }

    fn reconfigure(&mut self, config: &EncoderConfig) -> Result<bool> {
        if self.ended {
            return Ok(false);
        }
        let old = &self.config;
        // In place: rate control (same kind, or any kind where the GPU can switch),
        // frame rate and GOP length. Anything else is a new session.
        let mut rest = config.clone();
        rest.rate_control = old.rate_control;
        rest.fps = old.fps;
        rest.gop = old.gop;
        if rest != *old {
            return Ok(false);
        }
        let kind = |rc: RateControl| std::mem::discriminant(&rc);
        let rc_kind_changed = kind(config.rate_control) != kind(old.rate_control);
        let bitrate_changed =
            !rc_kind_changed && config.rate_control != old.rate_control && config.rate_control.targets_bitrate();
        if (rc_kind_changed && !self.caps.dyn_rc_mode) || (bitrate_changed && !self.caps.dyn_bitrate) {
            return Ok(false);
        }
        // A new GOP length, rate-control kind or frame rate (which the SPS carries) starts
        // a new coded sequence: reset the encoder and force an IDR. NVENC resets would drop
        // the pictures it holds for B-frames or look-ahead, so then drain and swap instead.
        let reset = rc_kind_changed || config.gop != old.gop || config.fps != old.fps;
        if reset && !self.pending.is_empty() {
            return Ok(false);
        }
        let (init, nv) = build_config(config, &self.caps, self.preset.0)?;
        if nv.frameIntervalP != self.nv.0.frameIntervalP {
            return Ok(false); // a change of GOP structure (e.g. to all-intra)
        }
        let device = self.device.clone();
        let _current = device.enter()?;
        let mut nv = NvConfig(nv);
        let mut params = NV_ENC_RECONFIGURE_PARAMS {
            version: NV_ENC_RECONFIGURE_PARAMS_VER,
            reInitEncodeParams: init,
            ..Default::default()
        };
        params.reInitEncodeParams.encodeConfig = &mut nv.0;
        params.set_resetEncoder(u32::from(reset));
        params.set_forceIDR(u32::from(reset));
        match self.api.reconfigure(self.encoder, &mut params) {
            Ok(()) => {}
            Err(f) if matches!(f.status, NV_ENC_ERR_UNSUPPORTED_PARAM | NV_ENC_ERR_UNIMPLEMENTED) => {
                tracing::debug!("nvenc cannot reconfigure in place ({}): drain and swap", f.call);
                return Ok(false);
            }
            Err(f) => return Err(self.fail(f)),
        }
        self.config = config.clone();
        self.nv = nv;
        match self.config.layout {
            PacketLayout::LengthPrefixed => {
                // The reconfiguration took effect: a failure here only leaves the previous
                // sets, so it is not reported as a failed reconfiguration.
                if let Err(e) = self.refresh_parameter_sets() {
                    tracing::warn!("parameter sets after reconfiguring: {e}");
                }
            }
            PacketLayout::AnnexB => self.sets_next = reset && !self.config.repeat_parameter_sets,
        }
        Ok(true)
    }

    fn parameter_sets(&self) -> Vec<Vec<u8>> {
        self.parameter_sets.clone()
    }

    fn gop_length(&self) -> Option<u32> {
        let g = self.nv.0.gopLength;
        (g != 0 && g != NVENC_INFINITE_GOPLENGTH).then_some(g)
    }
}

impl Drop for NvencEncoder {
    fn drop(&mut self) {
        self.close();
    }
}

impl NvencEncoder {
    /// Ends the NVENC session: EOS if pictures went in since the last one, lets the reaper
    /// finish, then unmaps, unregisters and destroys everything. Idempotent.
    fn close(&mut self) {
        if self.encoder.is_null() {
            return;
        }
        let device = self.device.clone();
        let current = device.enter();
        if let Err(e) = &current {
            tracing::warn!("closing the NVENC session: {e}");
        }
        // Flush before closing, as NVENC expects, when pictures went in since the last EOS.
        if !self.ended && self.accepted > 0 {
            let mut eos = NV_ENC_PIC_PARAMS {
                version: NV_ENC_PIC_PARAMS_VER,
                encodePicFlags: NV_ENC_PIC_FLAG_EOS,
                ..Default::default()
            };
            if self.api.encode(self.encoder, &mut eos) == NV_ENC_SUCCESS {
                let _ = self.dispatch_pending();
            }
        }
        // Let the reaper finish what it has, then wait for it to end.
        self.jobs = None;
        let mut finished = self.reaper.is_none();
        if let Some(handle) = self.reaper.take() {
            let deadline = Instant::now() + CLOSE_TIMEOUT;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let msg = match &self.done {
                    Some(rx) => rx.recv_timeout(left),
                    None => Err(RecvTimeoutError::Disconnected),
                };
                match msg {
                    Ok(d) => {
                        let _ = self.take_done(d);
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        finished = handle.join().is_ok();
                        break;
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
        }
        if !finished {
            // The reaper may still be inside the driver with these buffers: leaving them
            // alive is the only safe choice.
            tracing::warn!("the NVENC output thread did not end in {CLOSE_TIMEOUT:?}; leaking the session");
            self.encoder = Handle::NULL;
            return;
        }
        for slot in std::mem::take(&mut self.slots) {
            if let Some(m) = slot.mapped
                && let Err(f) = self.api.unmap(self.encoder, m)
            {
                tracing::warn!("nvEncUnmapInputResource: {}", super::api::status_name(f.status));
            }
            if !slot.input.is_null() {
                self.api.destroy_input_buffer(self.encoder, slot.input);
            }
            if !slot.output.is_null() {
                self.api.destroy_bitstream_buffer(self.encoder, slot.output);
            }
        }
        for (_, r) in self.registered.drain() {
            self.api.unregister(self.encoder, r);
        }
        self.api.destroy(self.encoder);
        self.encoder = Handle::NULL;
        self.ended = true;
        drop(current);
    }
}
