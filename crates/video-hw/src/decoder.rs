//! The decode session: bytes in, frames out, on whichever engine the registry picked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::DecoderBackend;
use crate::bitstream::access_unit::{AccessUnit, AccessUnitAssembler, PictureInfo};
use crate::bitstream::annexb::{NalRef, split_all};
use crate::bitstream::avcc::{DecoderConfigRecord, LengthPrefixedNals};
use crate::bitstream::packet::PacketPeek;
use crate::codec::{Codec, PixelFormat};
use crate::config::{DecoderConfig, Output};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::media::{CodecConfig, MediaPacket, Track};
use crate::metrics::{Scope, Stage, Telemetry, Timings};
use crate::pixels::transform::Transformer;
use crate::process::InProcess;
use crate::registry::Registry;

/// What can be submitted to a [`Decoder`].
///
/// H.264 and HEVC take every form. AV1 and VP9 have no Annex-B form: they take
/// [`Input::Packet`] only (the others give [`Error::InvalidInput`]).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// Annex-B bytes, split anywhere (inside a NAL unit or a start code too).
    /// H.264 and HEVC only.
    AnnexB {
        /// The bytes.
        data: &'a [u8],
        /// Timestamp of the first access unit that starts in these bytes.
        pts: Option<i64>,
    },
    /// One whole access unit as raw NAL units (no start codes, no length prefixes).
    /// H.264 and HEVC only.
    AccessUnit {
        /// The NAL units, headers included.
        nals: &'a [&'a [u8]],
        /// The access unit's timestamp.
        pts: Option<i64>,
    },
    /// One length-prefixed sample (MP4 style) and its decoder configuration record.
    /// The record's parameter sets are sent before the first sample and again whenever
    /// the record changes. H.264 and HEVC only.
    LengthPrefixed {
        /// The sample.
        sample: &'a [u8],
        /// Its `avcC` / `hvcC` record.
        record: &'a DecoderConfigRecord,
        /// The sample's timestamp.
        pts: Option<i64>,
    },
    /// One complete coded unit as a container (MP4, Matroska, IVF) gives it: an AV1
    /// temporal unit (OBUs in the low-overhead format, with or without a temporal
    /// delimiter), a VP9 frame (a superframe too), or one whole H.264/HEVC access unit
    /// in Annex-B form (start codes).
    ///
    /// AV1 and VP9 packets go to the engine as they are: the session reads only the
    /// frame headers' first bits, for the output frames' keyframe flag
    /// ([`crate::bitstream::packet`]). Damage is the engine's to find, reported as
    /// [`Error::InvalidBitstream`] at the packet's offset.
    Packet {
        /// The packet.
        data: &'a [u8],
        /// Its timestamp (carried to the frame it shows).
        pts: Option<i64>,
    },
}

impl<'a> Input<'a> {
    /// Annex-B bytes with an optional timestamp.
    pub fn annexb(data: &'a [u8], pts: impl Into<Option<i64>>) -> Self {
        Input::AnnexB { data, pts: pts.into() }
    }

    /// One access unit of raw NAL units.
    pub fn access_unit(nals: &'a [&'a [u8]], pts: impl Into<Option<i64>>) -> Self {
        Input::AccessUnit { nals, pts: pts.into() }
    }

    /// One length-prefixed sample.
    pub fn length_prefixed(sample: &'a [u8], record: &'a DecoderConfigRecord, pts: impl Into<Option<i64>>) -> Self {
        Input::LengthPrefixed { sample, record, pts: pts.into() }
    }

    /// One complete packet (AV1 temporal unit, VP9 frame, or an Annex-B access unit).
    pub fn packet(data: &'a [u8], pts: impl Into<Option<i64>>) -> Self {
        Input::Packet { data, pts: pts.into() }
    }

    /// A demuxed packet of `track` in the form its container gives it: a length-prefixed
    /// sample with the track's `avcC`/`hvcC` record (MP4, Matroska), or a whole packet
    /// (an Annex-B access unit from MPEG-TS or a raw stream, an AV1 temporal unit, a VP9
    /// frame, a packet of a codec only the FFmpeg engine decodes, whose session was opened
    /// with [`DecoderConfig::for_track`](crate::DecoderConfig::for_track)). The packet's pts goes with it.
    pub fn from_media(track: &'a Track, packet: &'a MediaPacket) -> Self {
        match (&track.config, track.codec.video()) {
            (CodecConfig::Nal(record), Some(Codec::H264 | Codec::Hevc)) => {
                Input::LengthPrefixed { sample: &packet.data, record, pts: packet.pts }
            }
            _ => Input::Packet { data: &packet.data, pts: packet.pts },
        }
    }
}

/// How the session turns input into access units.
enum Framing {
    /// H.264, HEVC: NAL units grouped by the access-unit assembler.
    Nal(Box<AccessUnitAssembler>),
    /// AV1, VP9: each packet is one access unit.
    Packets(PacketPeek),
}

impl Framing {
    fn for_codec(codec: Codec) -> Result<Self> {
        Ok(if codec.is_nal_based() {
            Framing::Nal(Box::new(AccessUnitAssembler::new(codec)?))
        } else {
            Framing::Packets(PacketPeek::new(codec))
        })
    }
}

/// Counters of a decode session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecoderStats {
    /// Bytes submitted.
    pub bytes_in: u64,
    /// Access units (AV1/VP9: packets) handed to the engine.
    pub access_units: u64,
    /// Frames returned.
    pub frames_out: u64,
    /// NAL units or access units dropped because they were damaged or undecodable.
    pub dropped: u64,
    /// The last bitstream error seen, if any.
    pub last_error: Option<String>,
    /// Pictures the engine found damaged and output concealed (its own repair, e.g.
    /// NVDEC copies the reference picture): they differ from a software decoder's. Both
    /// NVDEC (`cuvidGetDecodeStatus`) and FFmpeg (`decode_error_flags`) count them; FFmpeg
    /// also returns `InvalidBitstream` for the access unit, NVDEC learns of the damage
    /// only when the picture is displayed, so it counts it here alone. The CLI exits with
    /// status 4 (damaged input) when this is not zero.
    pub concealed: u64,
    /// Pictures given for their headers only that the engine left undecoded (the FFmpeg
    /// engine's count; random access feeds such pictures, `FrameReader`).
    pub left_out: u64,
    /// Time spent inside the engine's decode calls.
    pub engine_time: Duration,
    /// When the session was opened → when its first frame came out.
    pub time_to_first_frame: Option<Duration>,
    /// Per-stage times (decode, reap, map, download), fps and bytes copied between host
    /// and device.
    pub timings: Timings,
}

/// How a submitted input's access units reach the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feeding {
    /// Decoded and output (every ordinary submit).
    Shown,
    /// Decoded for the pictures that predict from it, output without pixels if the
    /// engine can ([`DecoderBackend::decode_unshown`]).
    Unshown,
    /// Its headers only ([`DecoderBackend::decode_headers_only`]).
    HeadersOnly,
}

/// A decode session.
///
/// H.264 and HEVC streams may come in any [`Input`] form; AV1 and VP9 come packet by
/// packet ([`Input::packet`]), as a container's demuxer gives them.
///
/// ```no_run
/// use video_hw::{Codec, Decoder, DecoderConfig, Input, Output};
/// let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P))?;
/// let stream = std::fs::read("clip.h264")?;
/// for (i, chunk) in stream.chunks(64 * 1024).enumerate() {
///     dec.submit(Input::annexb(chunk, i as i64))?;
///     while let Some(frame) = dec.try_reap()? {
///         println!("{}x{} pts {:?}", frame.width, frame.height, frame.pts);
///     }
/// }
/// for frame in dec.flush()? {
///     println!("{}x{}", frame.width, frame.height);
/// }
/// eprintln!("decoded by {}", dec.backend());
/// # Ok::<(), video_hw::Error>(())
/// ```
pub struct Decoder {
    config: DecoderConfig,
    /// The engine's session; leaked, not closed, if dropped in a child made by `fork`.
    backend: InProcess<Box<dyn DecoderBackend>>,
    description: String,
    framing: Framing,
    last_record: Option<DecoderConfigRecord>,
    stats: DecoderStats,
    opened: Instant,
    telemetry: Arc<Telemetry>,
    /// The configuration's transform, run on each frame the engine outputs.
    transformer: Option<Transformer>,
    /// The engine outputs CUDA frames only for the transform (on the GPU), and the caller
    /// asked for host frames: each transformed frame is downloaded.
    download_transformed: bool,
    /// How the access units of the input being submitted are fed: set during
    /// [`Decoder::submit_headers_only`] and [`Decoder::submit_unshown`].
    feeding: Feeding,
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // In a child made by `fork`: a GPU transform's kernels and buffers belong to the
        // parent's CUDA context (the engine's session is leaked by `InProcess` likewise).
        if !self.backend.process().is_current() {
            std::mem::forget(self.transformer.take());
        }
    }
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("config", &self.config).field("backend", &self.description).finish()
    }
}

impl Decoder {
    /// Validates `config` and opens the best engine it allows (see [`crate::registry`]).
    ///
    /// NVDEC: sessions opened together, no more of them than the GPU has NVDEC engines,
    /// submit their first picture only once no decoder object is still being created on
    /// the GPU (at most 2 s, inside `submit`), because a creation slows the sessions
    /// already decoding (7 streams on an H200: ~7,300 fps instead of ~6,750). A session's
    /// first frame can thus come up to a few hundred milliseconds later in a burst;
    /// `VIDEO_HW_NVDEC_CREATE_BARRIER=0` turns this off (docs/nvdec-many-streams.md).
    pub fn open(mut config: DecoderConfig) -> Result<Self> {
        config.validate()?;
        // Held until this function returns: by then the session counts itself on its GPU
        // (or the open failed and the place is given back).
        let claim = config
            .spread_over_gpus
            .then(crate::registry::placement)
            .flatten()
            .and_then(|placement| (placement.claim)(config.codec));
        if let Some(claim) = &claim {
            config.device_index = claim.device();
        }
        let framing = Framing::for_codec(config.codec)?;
        let (engine_config, mut transformer) = split_transform(&config)?;
        let mut backend = Registry::global().open_decoder(&engine_config)?;
        let mut download_transformed = false;
        if let Some((on_gpu, planar)) = gpu_transform_config(&engine_config, transformer.as_ref(), backend.engine()) {
            // An engine that transforms on its device (NVDEC: from its own surface, one
            // kernel launch) does so instead of copying NV12 out for the CPU. The session
            // has no decoder object yet (it makes one at the stream's first sequence), so
            // reopening costs little; a failure keeps the CPU path.
            match Registry::global().open_decoder(&on_gpu) {
                Ok(b) => {
                    backend = b;
                    download_transformed = true;
                    if planar {
                        transformer = transformer.map(Transformer::planar_like_source);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "GPU transform unavailable; transforming on the CPU"),
            }
        }
        let mut decoder = Self::with_backend(config, backend, framing);
        decoder.transformer = transformer;
        decoder.download_transformed = download_transformed;
        Ok(decoder)
    }

    /// Does now the once-per-process set-up that a process's first [`open`](Self::open) of
    /// a session like `config` would otherwise pay: loading the engine's libraries,
    /// initialising its driver, making the GPU context (NVDEC: the shared primary context,
    /// kept for the process's life) and asking the engine what it decodes. It opens one
    /// session without a stream (so no decoder object is made) and closes it; returns the
    /// engine that session got ([`backend`](Self::backend)), and a fallback is logged and
    /// counted as for any open.
    ///
    /// Call it when a service starts (on a thread of its own if the start must not wait),
    /// so that the first stream opens as fast as later ones. With NVDEC on an H200 a
    /// process's first session reaches its first frame after ~244 ms, ~190 ms of which is
    /// the CUDA driver's start-up; after `prepare`, 42 ms (docs/nvdec-many-streams.md,
    /// "warm process").
    ///
    /// With [`spread_over_gpus`](DecoderConfig::spread_over_gpus) the sessions may go to any
    /// GPU whose NVDEC decodes the codec, so every such GPU is set up, one after another
    /// (finding them asks each GPU's NVDEC, which makes its context; the driver's
    /// capability queries run one at a time anyway), and the engines are returned joined
    /// by `", "`.
    ///
    /// ```no_run
    /// use video_hw::{Codec, Decoder, DecoderConfig, Output};
    /// let config = DecoderConfig::new(Codec::Hevc).output(Output::CUDA_NV12);
    /// let engine = Decoder::prepare(&config)?;
    /// eprintln!("HEVC sessions will run on {engine}");
    /// // ... later, per stream: Decoder::open(config.clone())
    /// # Ok::<(), video_hw::Error>(())
    /// ```
    pub fn prepare(config: &DecoderConfig) -> Result<String> {
        let gpus = match crate::registry::placement() {
            Some(placement) if config.spread_over_gpus => (placement.devices)(config.codec),
            _ => vec![],
        };
        if gpus.len() < 2 {
            let session = Decoder::open(config.clone())?;
            return Ok(session.backend().to_owned());
        }
        // Every GPU at once (each makes its own context and asks its own NVDEC).
        let engines = std::thread::scope(|s| {
            let opening: Vec<_> = gpus
                .into_iter()
                .map(|gpu| {
                    let config = config.clone().spread_over_gpus(false).device_index(gpu);
                    s.spawn(move || Decoder::open(config).map(|session| session.backend().to_owned()))
                })
                .collect();
            opening
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(Error::Panicked("opening a session on a GPU".into()))))
                .collect::<Result<Vec<String>>>()
        });
        Ok(engines?.join(", "))
    }

    fn with_backend(config: DecoderConfig, backend: Box<dyn DecoderBackend>, framing: Framing) -> Self {
        let description = backend.describe();
        tracing::debug!(engine = backend.engine().name(), codec = config.codec.name(), "decoder opened: {description}");
        let telemetry = Telemetry::new(crate::Direction::Decode, config.codec, backend.engine());
        Decoder {
            telemetry,
            config,
            backend: InProcess::new(backend),
            description,
            framing,
            last_record: None,
            stats: DecoderStats::default(),
            opened: Instant::now(),
            transformer: None,
            download_transformed: false,
            feeding: Feeding::Shown,
        }
    }

    /// Feeds input. Access units completed by it go to the engine at once.
    ///
    /// A damaged part of the input is dropped and reported as the returned
    /// [`Error::InvalidBitstream`] (the first one, with its byte offset, counted from the
    /// session's first byte); the rest of the input is still decoded and the session
    /// stays usable, recovering at the next random access point. Engine failures
    /// (device lost, …) are returned as they are.
    pub fn submit(&mut self, input: Input<'_>) -> Result<()> {
        self.backend.process().check("a decoder")?;
        self.telemetry.started();
        let base = self.stats.bytes_in;
        let assembler = match &mut self.framing {
            Framing::Nal(assembler) => assembler,
            Framing::Packets(peek) => {
                let Input::Packet { data, pts } = input else {
                    return Err(Error::invalid_input(format!(
                        "{} has no Annex-B or NAL-unit form: submit each {} with Input::packet",
                        self.config.codec,
                        if self.config.codec == Codec::Av1 { "temporal unit" } else { "frame" }
                    )));
                };
                self.stats.bytes_in += data.len() as u64;
                if data.is_empty() {
                    return Ok(());
                }
                let info = peek.inspect(data);
                let au = AccessUnit {
                    data: data.to_vec(),
                    nals: Vec::new(),
                    offset: base,
                    pts,
                    // Unreadable headers: the engine judges the packet; one that shows
                    // nothing counts as damage.
                    picture: Some(PictureInfo {
                        idr: info.is_some_and(|i| i.keyframe),
                        irap: info.is_some_and(|i| i.keyframe),
                        output: info.is_none_or(|i| i.shown),
                        ..PictureInfo::default()
                    }),
                    nal_count: info.map_or(1, |i| i.units),
                    ends_sequence: false,
                    stream: None,
                };
                // A damaged packet was counted by decode_au; other errors stop.
                return self.decode_au(&au);
            }
        };
        match input {
            Input::AnnexB { data, pts } => {
                self.stats.bytes_in += data.len() as u64;
                assembler.push_annexb(data, pts);
            }
            Input::Packet { data, pts } => {
                let nals = split_all(data);
                if nals.is_empty() {
                    self.stats.bytes_in += data.len() as u64;
                    let e = Error::invalid_bitstream(base, "packet holds no Annex-B NAL unit (no start code)");
                    self.note_error(&e);
                    return Err(e);
                }
                let mut pts = pts;
                for nal in nals {
                    let offset = base + (nal.as_ptr() as usize - data.as_ptr() as usize) as u64;
                    assembler.push_nal(NalRef { data: nal, offset, pts: pts.take() });
                }
                self.stats.bytes_in += data.len() as u64;
                assembler.end_access_unit();
            }
            Input::AccessUnit { nals, pts } => {
                let mut offset = base;
                for (i, nal) in nals.iter().enumerate() {
                    let pts = if i == 0 { pts } else { None };
                    assembler.push_nal(NalRef { data: nal, offset, pts });
                    offset += nal.len() as u64;
                }
                self.stats.bytes_in = offset;
                assembler.end_access_unit();
            }
            Input::LengthPrefixed { sample, record, pts } => {
                if record.codec != self.config.codec {
                    return Err(Error::invalid_input(format!(
                        "{} configuration record for a {} decoder",
                        record.codec, self.config.codec
                    )));
                }
                let mut first_error = None;
                let mut pts = pts;
                if self.last_record.as_ref() != Some(record) {
                    for ps in &record.parameter_sets {
                        assembler.push_nal(NalRef { data: ps, offset: base, pts: pts.take() });
                    }
                    self.last_record = Some(record.clone());
                }
                for nal in LengthPrefixedNals::new(sample, record.length_size) {
                    match nal {
                        Ok(nal) => {
                            let offset = base + (nal.as_ptr() as usize - sample.as_ptr() as usize) as u64;
                            assembler.push_nal(NalRef { data: nal, offset, pts: pts.take() });
                        }
                        Err(e) => first_error = Some(e.at_offset(base)),
                    }
                }
                self.stats.bytes_in += sample.len() as u64;
                assembler.end_access_unit();
                if let Some(e) = first_error {
                    self.note_error(&e);
                    self.drain_assembler()?;
                    return Err(e);
                }
            }
        }
        self.drain_assembler()
    }

    /// Hands every finished access unit to the engine; returns the first bitstream
    /// error among them (the assembler's or the engine's) after all were processed.
    /// Other engine errors (unsupported stream, device lost, …) stop at once.
    fn drain_assembler(&mut self) -> Result<()> {
        let mut first_error = None;
        while let Some(item) = self.next_assembled() {
            match item {
                Ok(au) => match self.decode_au(&au) {
                    Ok(()) => {}
                    // A damaged access unit is dropped (and counted); the rest still decode.
                    Err(e @ Error::InvalidBitstream { .. }) => {
                        first_error.get_or_insert(e);
                    }
                    Err(e) => return Err(e),
                },
                Err(e) => {
                    self.note_error(&e);
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The assembler's next finished item (never any for AV1/VP9: their packets are
    /// decoded as they come).
    fn next_assembled(&mut self) -> Option<Result<AccessUnit>> {
        match &mut self.framing {
            Framing::Nal(assembler) => assembler.pop(),
            Framing::Packets(_) => None,
        }
    }

    fn decode_au(&mut self, au: &AccessUnit) -> Result<()> {
        let _scope = Scope::enter(&self.telemetry);
        let start = Instant::now();
        let r = match self.feeding {
            Feeding::Shown => self.backend.decode(au),
            Feeding::Unshown => self.backend.decode_unshown(au),
            Feeding::HeadersOnly => self.backend.decode_headers_only(au),
        };
        let took = start.elapsed();
        self.stats.engine_time += took;
        self.telemetry.stage(Stage::Decode, took);
        self.stats.access_units += 1;
        match r {
            Err(e @ Error::InvalidBitstream { .. }) => {
                self.note_error(&e);
                Err(e)
            }
            other => other,
        }
    }

    /// Feeds one whole access unit (an [`Input::Packet`] or [`Input::LengthPrefixed`]
    /// sample) whose picture the caller will not use and no picture it uses predicts from
    /// (`reader::prune` works that out): the engine keeps its reference marking and may
    /// leave the picture undecoded and unshown (NVDEC does; the others decode it).
    pub(crate) fn submit_headers_only(&mut self, input: Input<'_>) -> Result<()> {
        self.submit_fed(input, Feeding::HeadersOnly)
    }

    /// Submits `input` (one packet or access unit) whose picture must be decoded, since
    /// later ones predict from it, but will not be taken: its frame may come out without
    /// pixels, and no transform runs on it (random access reaching the frames asked for;
    /// `reader::run_decode`).
    pub(crate) fn submit_unshown(&mut self, input: Input<'_>) -> Result<()> {
        self.submit_fed(input, Feeding::Unshown)
    }

    fn submit_fed(&mut self, input: Input<'_>, feeding: Feeding) -> Result<()> {
        self.feeding = feeding;
        let r = self.submit(input);
        self.feeding = Feeding::Shown;
        r
    }

    fn note_error(&mut self, e: &Error) {
        self.stats.dropped += 1;
        self.stats.last_error = Some(e.to_string());
        tracing::debug!(error = %e, "decoder dropped damaged input");
    }

    /// Runs the transform, if any, on a frame the engine output (not on one it gave
    /// without pixels: an unshown picture's).
    fn transform(&mut self, frame: Frame) -> Result<Frame> {
        let Some(t) = &mut self.transformer else { return Ok(frame) };
        if matches!(frame.data, crate::frame::FrameData::None) {
            return Ok(frame);
        }
        let mut out = t.apply(&frame)?;
        if self.download_transformed
            && let crate::frame::FrameData::Device(c) = &out.data
        {
            out.data = crate::frame::FrameData::Host(c.download()?);
        }
        Ok(out)
    }

    fn count(&mut self, frame: Option<Frame>, start: Instant) -> Option<Frame> {
        if frame.is_some() {
            self.telemetry.stage(Stage::Reap, start.elapsed());
            if self.stats.frames_out == 0 {
                self.stats.time_to_first_frame = Some(self.opened.elapsed());
            }
            self.stats.frames_out += 1;
            self.telemetry.frames(1);
        }
        frame
    }

    /// A decoded frame if one is ready, without waiting.
    pub fn try_reap(&mut self) -> Result<Option<Frame>> {
        let _scope = Scope::enter(&self.telemetry);
        let start = Instant::now();
        self.backend.process().check("a decoder")?;
        let f = self.backend.try_reap()?.map(|f| self.transform(f)).transpose()?;
        Ok(self.count(f, start))
    }

    /// Waits up to `timeout` for a decoded frame.
    pub fn reap_timeout(&mut self, timeout: Duration) -> Result<Option<Frame>> {
        let _scope = Scope::enter(&self.telemetry);
        let start = Instant::now();
        self.backend.process().check("a decoder")?;
        let f = self.backend.reap_timeout(timeout)?.map(|f| self.transform(f)).transpose()?;
        Ok(self.count(f, start))
    }

    /// Ends the stream: decodes what is still buffered and returns every remaining
    /// frame in output order. The session can take a new stream afterwards.
    pub fn flush(&mut self) -> Result<Vec<Frame>> {
        self.backend.process().check("a decoder")?;
        self.telemetry.started();
        if let Framing::Nal(assembler) = &mut self.framing {
            assembler.finish();
        }
        let mut pending = self.drain_assembler();
        let frames = {
            let _scope = Scope::enter(&self.telemetry);
            self.backend.flush()?
        };
        let frames = frames.into_iter().map(|f| self.transform(f)).collect::<Result<Vec<_>>>()?;
        // Damage the engine saw only at the end (pictures it never output) counts as a
        // dropped part; it is returned only when no frame is, like the others.
        if let Some(e) = self.backend.take_stream_error() {
            self.note_error(&e);
            if pending.is_ok() {
                pending = Err(e);
            }
        }
        if let Framing::Nal(assembler) = &mut self.framing {
            assembler.reset_stream();
        }
        // An engine may forget the stream's parameter sets when flushed (OpenH264 does):
        // a length-prefixed stream's record goes again before the next sample, so a
        // stream continued after a flush (a seek) still decodes.
        self.last_record = None;
        self.stats.frames_out += frames.len() as u64;
        self.telemetry.frames(frames.len() as u64);
        if self.stats.time_to_first_frame.is_none() && !frames.is_empty() {
            self.stats.time_to_first_frame = Some(self.opened.elapsed());
        }
        match pending {
            Err(e) if frames.is_empty() => Err(e),
            _ => Ok(frames),
        }
    }

    /// Counters and timings so far.
    pub fn stats(&self) -> DecoderStats {
        DecoderStats {
            timings: self.telemetry.timings(),
            concealed: self.backend.concealed(),
            left_out: self.backend.left_out(),
            ..self.stats.clone()
        }
    }

    pub(crate) fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// The engine that actually runs, described (e.g. "openh264 2.4.1 (software)").
    pub fn backend(&self) -> &str {
        &self.description
    }

    /// The engine that actually runs.
    pub fn engine(&self) -> Engine {
        self.backend.engine()
    }

    /// Threads this session keeps busy decoding: FFmpeg's frame or slice threads where
    /// they run, a decoder's own threads (dav1d's, in rav1d or FFmpeg's libdav1d), else 1
    /// (engines that decode on one thread, or on a device). What a caller
    /// weighing CPU time against another device counts as this session's parallelism.
    pub fn threads(&self) -> u32 {
        self.backend.threads()
    }

    /// Why this session does not decode where its request preferred, or None. Set when
    /// CUDA output was asked for a stream the GPU's decoder cannot take (AV1 on an H100 or
    /// H200): a CPU engine decodes and its frames are uploaded (the WARN line and
    /// `video_hw_fallback_total` say it too).
    pub fn fallback(&self) -> Option<String> {
        self.backend.fallback()
    }

    /// The configuration the session was opened with (its output as last set).
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Gives the frames the engine displays from now on as `output`: how a reader that
    /// holds decoded frames ahead of its caller keeps them in device memory and copies
    /// each to the host only when it is taken (`reader::read_ahead`). `bounded_by_caller`: the
    /// caller bounds the frames it holds, and the engine's own bound is lifted until the
    /// next call. Refused (`Unsupported`) by engines that give one kind of frame per
    /// session, and for a session with a transform (its engine output was chosen for the
    /// transform).
    pub(crate) fn set_output(&mut self, output: Output, bounded_by_caller: bool) -> Result<()> {
        if self.transformer.is_some() || self.download_transformed {
            return Err(Error::unsupported(
                "switching the output of a session with a transform",
                "its engine output serves the transform",
            ));
        }
        DecoderConfig { output, ..self.config.clone() }.validate()?;
        self.backend.set_output(output, bounded_by_caller)?;
        self.config.output = output;
        Ok(())
    }

    /// Stream facts from the active sequence parameter set, once one was seen
    /// (H.264 and HEVC; `None` for AV1 and VP9, whose headers the session does not parse).
    pub fn stream_info(&self) -> Option<crate::bitstream::access_unit::StreamInfo> {
        match &self.framing {
            Framing::Nal(assembler) => assembler.parser().stream_info(),
            Framing::Packets(_) => None,
        }
    }
}

/// The configuration the engine opens with, and the transformer for the caller's
/// transform. The engine decodes to its native host YUV (NV12, P010 for 10-bit) when the
/// transform makes RGB; to `output`'s YUV format when the transform resizes in YUV; and a
/// host RGB `output` with a transform that names no format asks the transform for it.
fn split_transform(config: &DecoderConfig) -> Result<(DecoderConfig, Option<Transformer>)> {
    let Some(mut transform) = config.transform else { return Ok((config.clone(), None)) };
    let mut engine = config.clone();
    engine.transform = None;
    if let (None, Output::Host(f)) = (transform.format_choice(), config.output)
        && !f.is_yuv()
    {
        transform = transform.format(f);
    }
    // Transforms read YUV: the engine converts nothing itself when RGB comes out.
    if let Output::Host(f) = config.output
        && (!f.is_yuv() || transform.format_choice().is_some_and(|f| !f.is_yuv()))
    {
        engine.output = Output::HOST_NV12;
    }
    if let Output::Device(api, f) = config.output {
        // Device output: the transform runs on the device. An RGB output format is the
        // transform's; with NV12 it follows the source (NV12, or P010 for 10-bit).
        if transform.format_choice().is_none() && !f.is_yuv() {
            transform = transform.format(f);
        }
        engine.output = Output::Device(api, PixelFormat::Nv12);
    }
    Ok((engine, Some(Transformer::new(transform)?)))
}

/// The configuration that moves a transform from host frames onto the GPU, when `engine`
/// (opened with `engine_config`, host output) transforms on its device (NVDEC); and whether
/// the transformer must then make planar YUV of the source's depth (the caller asked for
/// host YUV420P, which the engine made itself on the CPU path, and the transform names no
/// format).
fn gpu_transform_config(
    engine_config: &DecoderConfig,
    t: Option<&Transformer>,
    engine: Engine,
) -> Option<(DecoderConfig, bool)> {
    let Output::Host(host) = engine_config.output else { return None };
    if !crate::registry::descriptor(engine).transforms_on_device {
        return None;
    }
    let planar = match t?.transform().format_choice() {
        Some(_) => false,
        // The engine's host NV12 is NV12 or P010 by depth, as its device frames are.
        None if host == crate::codec::PixelFormat::Nv12 => false,
        None if host == crate::codec::PixelFormat::Yuv420p => true,
        None => return None,
    };
    let mut cfg = engine_config.clone();
    cfg.output = Output::CUDA_NV12;
    cfg.engine = crate::engine::EnginePreference::Only(engine);
    Some((cfg, planar))
}
