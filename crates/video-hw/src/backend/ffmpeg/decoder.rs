//! Decoding through libavcodec, in process.
//!
//! [`Engine::Ffmpeg`] runs libavcodec's software decoders: `h264`, `hevc`, `vp9`, and
//! for AV1 `libdav1d` (else `libaom-av1`; libavcodec's own `av1` decoder only drives
//! hardware accelerators). [`Engine::Vaapi`], [`Engine::Qsv`] and
//! [`Engine::VideoToolbox`] decode on hardware through a `hw_device_ctx` (see
//! `decode_hw.rs`) and download every picture to host memory.
//!
//! Each access unit (Annex-B bytes for H.264/HEVC, a temporal unit for AV1, a frame for
//! VP9) becomes one `AVPacket`. Its pts field carries a sequence number, so every
//! picture that comes out, in display order, is matched with its own access unit's
//! timestamp and keyframe flag.
//!
//! libavcodec conceals damage and skips what it cannot decode, mostly without an error
//! code. So besides its error codes (`AVERROR_INVALIDDATA` → [`Error::InvalidBitstream`]
//! at the access unit's offset), two signals become bitstream errors: a picture output
//! with `decode_error_flags` (concealed), and a picture the stream says is output (the
//! parser's `PictureInfo::output`, first fields and frames) that never came out. Both are
//! found after the access unit was accepted, so they are returned by the next `decode`
//! (or after the flush, through `take_stream_error`), with the offending unit's offset.
//! The concealed pictures themselves are still returned, as the ffmpeg tool shows them.
//!
//! A picture given for its headers only (`decode_headers_only`) is left out by the
//! software engine for H.264 and HEVC: `skip_frame` is set to `AVDISCARD_ALL` for its
//! packet alone (frame threads copy it from the context as each packet is handed to a
//! thread, `update_context_from_user`). libavcodec then decodes nothing of it: the H.264
//! decoder checks `skip_frame` after reading the slice header but before the picture
//! enters the decoded picture buffer, so its `frame_num` becomes a gap the decoder fills
//! with a frame of its own; the HEVC decoder skips every NAL unit of the packet. The
//! reader feeds so only pictures whose leaving out changes no picture it decodes
//! (`reader::prune`); nothing comes out of them, and nothing is expected to.
//!
//! Software decoders use frame and slice threads; low-latency mode uses slice threads
//! only (frame threads hold one picture per thread), and still reorders as the stream
//! needs (libavcodec's `LOW_DELAY` flag would drop B-pictures instead).
//! `max_display_delay` has no libavcodec counterpart and is ignored. Cropping is applied
//! here, to the exact sample (libavcodec's own cropping keeps pointers aligned and may
//! crop less on the left).

use std::collections::{BTreeMap, VecDeque};

use super::common::{self, AvError};
use super::decode_hw::{self, HwDevice};
use super::frame_convert;
use super::sys::Ffmpeg;
use super::sys::buffers;
use super::sys::codec::{Codec as AvCodec, CodecContext, CtxInt, PKT_FLAG_KEY, Packet as AvPacket};
use super::sys::frame::{FLAG_CORRUPT, Frame as AvFrame, IntField};
use crate::backend::DecoderBackend;
use crate::backend::{probe_streams, software_threads};
use crate::bitstream::access_unit::{AccessUnit, PictureInfo};
use crate::bitstream::h264::RecoveryStart;
use crate::codec::Codec;
use crate::config::{DecoderConfig, Output};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};
use crate::records::probe_info::ProbeInfo;

/// An access unit whose picture has not come out after this many later access units
/// never will: libavcodec holds at most 16 reordered pictures plus one per frame thread
/// (at most 16), and a field pair spans two access units. The picture was skipped.
const LOST_AFTER: i64 = 128;

/// `FF_THREAD_FRAME`: decode several pictures at once.
const THREAD_FRAME: i32 = 1;
/// `FF_THREAD_SLICE`: decode the slices of one picture at once.
const THREAD_SLICE: i32 = 2;
/// `AV_CODEC_CAP_OTHER_THREADS`: the decoder threads itself (libdav1d), outside libavcodec's
/// frame and slice threads.
const CAP_OTHER_THREADS: i32 = 1 << 15;

/// The largest picture a stream may declare (8192 x 8192 luma samples): a damaged
/// header cannot make libavcodec allocate more.
const MAX_PIXELS: i64 = 8192 * 8192;

/// Whether `engine` can decode `codec` here: a real one-frame decode of a tiny embedded
/// keyframe (`probe_streams.rs`) with the decoder (and device) a session would use.
pub(crate) fn probe(engine: Engine, codec: Codec, device: u32) -> Result<ProbeInfo> {
    let ff = common::ffmpeg(format!("{engine} {codec} decode"))?;
    let mut reasons = Vec::new();
    if !codec.is_parsed() {
        // No probe keyframe for these: libavcodec having the decoder is the answer (it
        // decodes in software, with no device to fail).
        return match candidates(engine, codec)?.into_iter().find(|n| AvCodec::decoder(ff, n).is_some()) {
            Some(name) => Ok(ProbeInfo {
                device: Some("software".into()),
                driver: Some(ff.version_string()),
                notes: vec![format!("libavcodec decoder {name}; {codec} input: whole packets from the container")],
            }),
            None => Err(Error::unsupported(
                format!("{engine} {codec} decode"),
                format!("decoder {} not in this FFmpeg build", codec.name()),
            )),
        };
    }
    for name in candidates(engine, codec)? {
        match probe_decoder(ff, engine, codec, name, device) {
            Ok(info) => return Ok(info),
            Err(Error::Unsupported { why, .. }) => reasons.push(why),
            Err(e) => reasons.push(format!("{name}: {e}")),
        }
    }
    Err(Error::unsupported(format!("{engine} {codec} decode"), reasons.join("; ")))
}

/// Opens a decoder of the `engine` family for `config`.
pub(crate) fn open(engine: Engine, config: &DecoderConfig) -> Result<Box<dyn DecoderBackend>> {
    let ff = common::ffmpeg(format!("{engine} {} decode", config.codec))?;
    let names = candidates(engine, config.codec)?;
    let mut reasons = Vec::new();
    for name in names {
        if AvCodec::decoder(ff, name).is_none() {
            reasons.push(not_in_build(name));
            continue;
        }
        return Ok(Box::new(FfmpegDecoder::open(engine, name, config)?));
    }
    Err(Error::unsupported(format!("{engine} {} decode", config.codec), reasons.join("; ")))
}

/// The libavcodec decoders `engine` may use for `codec`, preferred first.
fn candidates(engine: Engine, codec: Codec) -> Result<Vec<&'static str>> {
    Ok(match (engine, codec) {
        (Engine::Ffmpeg, Codec::H264) => vec!["h264"],
        (Engine::Ffmpeg, Codec::Hevc) => vec!["hevc"],
        (Engine::Ffmpeg, Codec::Vp9) => vec!["vp9"],
        // libavcodec's native av1 decoder needs a hardware accelerator.
        (Engine::Ffmpeg, Codec::Av1) => vec!["libdav1d", "libaom-av1"],
        // libavcodec's native VP8 decoder, else libvpx's.
        (Engine::Ffmpeg, Codec::Vp8) => vec!["vp8", "libvpx"],
        // The codecs only this engine decodes: libavcodec's decoder of FFmpeg's own name.
        (Engine::Ffmpeg, c) => vec![c.name()],
        (Engine::Vaapi | Engine::Qsv | Engine::VideoToolbox, c) => match decode_hw::decoder_name(engine, c) {
            Some(name) => vec![name],
            None => {
                return Err(Error::unsupported(
                    format!("{engine} {c} decode"),
                    format!("{engine} decodes h264, hevc, av1 and vp9 only (the ffmpeg engine decodes {c})"),
                ));
            }
        },
        (other, _) => {
            return Err(Error::unsupported(format!("{other} decode"), format!("{other} does not decode")));
        }
    })
}

fn not_in_build(name: &str) -> String {
    format!("decoder {name} not in this FFmpeg build")
}

/// Decodes the embedded keyframe of `codec` with decoder `name` and checks the picture.
fn probe_decoder(
    ff: &'static Ffmpeg,
    engine: Engine,
    codec: Codec,
    name: &'static str,
    device: u32,
) -> Result<ProbeInfo> {
    if AvCodec::decoder(ff, name).is_none() {
        let mut why = not_in_build(name);
        if name == "libaom-av1" {
            why.push_str(" (and libavcodec's native av1 decoder needs a hardware accelerator)");
        }
        return Err(Error::unsupported(format!("{engine} {codec} decode"), why));
    }
    let config = DecoderConfig::new(codec).output(Output::HOST_YUV420P).device_index(device);
    let mut dec = FfmpegDecoder::open(engine, name, &config)?;
    dec.decode(&probe_access_unit(codec))?;
    let mut frames: Vec<Frame> = dec.ready.drain(..).collect();
    frames.extend(dec.flush()?);
    let wrong = |why: &str| Error::backend(engine.name(), "probe", format!("{name}: the probe keyframe {why}"));
    let frame = frames.first().ok_or_else(|| wrong("gave no picture"))?;
    let host = frame.host_data().ok_or_else(|| wrong("gave no pixels"))?;
    // Hardware decoders may round the flat picture by one.
    let host = host.to_packed(frame.format, frame.width, frame.height)?;
    if !probe_streams::is_flat_picture(frame.width, frame.height, host.as_bytes(), 1) {
        return Err(wrong("decoded to the wrong picture"));
    }
    let mut notes = vec![format!("libavcodec decoder {name}{}", dec.threads_note())];
    if !codec.is_nal_based() {
        notes.push(format!("{codec} input: one packet at a time (Input::packet)"));
    }
    Ok(ProbeInfo { device: Some(dec.device_label()), driver: Some(ff.version_string()), notes })
}

/// The probe keyframe of `codec` as one access unit.
fn probe_access_unit(codec: Codec) -> AccessUnit {
    let data: &[u8] = match codec {
        Codec::H264 => &probe_streams::H264,
        Codec::Hevc => &probe_streams::HEVC,
        Codec::Av1 => &probe_streams::AV1,
        Codec::Vp9 => &probe_streams::VP9,
        // `probe` asks libavcodec for the others' decoders instead.
        _ => &[],
    };
    AccessUnit {
        data: data.to_vec(),
        pts: Some(0),
        picture: Some(PictureInfo { idr: true, irap: true, output: true, ..PictureInfo::default() }),
        ..AccessUnit::default()
    }
}

/// Whether an H.264/HEVC access unit holds nothing but delimiters and SEI: what is left of
/// a unit whose slices the session dropped as damaged. Such a unit is not sent: it gives no
/// picture, and libavcodec 61 (FFmpeg 7.x) counts any packet as the stream's start, so
/// one before a stream's first CRA made it output that CRA's RASL pictures from missing
/// references (`loewe_tunein.h265`: 9 frames where every other FFmpeg, and FFmpeg 7.1 on
/// the file cut at its first parameter sets, gives 6).
fn only_aud_and_sei(codec: Codec, data: &[u8]) -> bool {
    let nals = crate::bitstream::annexb::split_all(data);
    !nals.is_empty()
        && nals.iter().all(|nal| match codec {
            // 6 SEI, 9 access unit delimiter.
            Codec::H264 => matches!(nal[0] & 0x1f, 6 | 9),
            // 35 AUD, 39/40 prefix/suffix SEI.
            Codec::Hevc => matches!((nal[0] >> 1) & 0x3f, 35 | 39 | 40),
            _ => false,
        })
}

/// What the session knows about an access unit until its picture comes out.
#[derive(Debug, Clone, Copy)]
struct AuMeta {
    pts: Option<i64>,
    keyframe: bool,
    /// Stream offset of the access unit, for errors found later.
    offset: u64,
    /// The stream says a picture comes out of this unit (a frame or a first field that a
    /// decoder started at the stream's beginning outputs). H.264 pictures it does not
    /// show are not returned (see `FfmpegDecoder::start`).
    expect_output: bool,
    /// The caller takes its frame's pixels: false for a picture decoded only for those
    /// that predict from it (`decode_unshown`, `decode_headers_only`), whose frame comes
    /// out without them (no copy, no conversion).
    pixels: bool,
}

/// A libavcodec decode session.
pub(crate) struct FfmpegDecoder {
    engine: Engine,
    /// The libavcodec decoder's name ("hevc", "libdav1d", "hevc_qsv", …).
    name: &'static str,
    /// The codec decoded.
    codec: Codec,
    decoder: CodecContext,
    /// The hardware surface format, for hardware engines.
    hw_format: Option<i32>,
    /// "software" or the device opened.
    device_label: String,
    output: Output,
    /// Frames may be the decoder's own buffers (`DecoderConfig::lend_frames`).
    lend_frames: bool,
    next_id: i64,
    /// Access units sent whose picture has not come out yet, by packet id.
    pending: BTreeMap<i64, AuMeta>,
    /// The first damage found after its access unit was accepted, not reported yet.
    damage: Option<Error>,
    /// Pictures output with concealed errors so far.
    concealed: u64,
    /// Pictures given for their headers only and left undecoded so far.
    left_out: u64,
    /// H.264: which pictures the reference decoder shows. The parser's
    /// `PictureInfo::output` models it (with the recovery point start rule of the
    /// demuxers), and pictures it does not show are dropped: strict compliance outputs
    /// pictures the reference drops as out of order after a mid-stream SPS raises the
    /// reorder depth (14 in `attachment631-small.h264`), and every engine returns the
    /// reference's frames. `None` for other codecs.
    start: Option<RecoveryStart>,
    ready: VecDeque<Frame>,
    /// Reused: the decoder's picture, and its download from hardware.
    picture: AvFrame,
    downloaded: AvFrame,
    ff: &'static Ffmpeg,
    /// Counts this session among those sharing the cores (software only matters).
    _session: software_threads::Session,
}

impl FfmpegDecoder {
    /// Opens libavcodec's decoder `name` for `config` (on the engine's device for the
    /// hardware engines).
    pub(crate) fn open(engine: Engine, name: &'static str, config: &DecoderConfig) -> Result<Self> {
        let ff = common::ffmpeg(format!("{engine} {} decode", config.codec))?;
        if let Output::Device(api, f) = config.output {
            return Err(Error::unsupported(
                format!("{api} {f} output with {engine}"),
                format!("{engine} decodes to host memory only"),
            ));
        }
        let codec = AvCodec::decoder(ff, name)
            .ok_or_else(|| Error::unsupported(format!("{engine} {} decode", config.codec), not_in_build(name)))?;
        let hw = match engine {
            Engine::Ffmpeg => None,
            _ => Some(HwDevice::open(engine, &codec, name, config.device_index)?),
        };
        let mut ctx = CodecContext::new(codec).map_err(|e| common::backend_error(engine, "allocating a decoder", e))?;
        if config.codec == Codec::Av1 && !config.film_grain {
            // libdav1d and FFmpeg's own AV1 decoder leave the grain to the caller when it
            // is exported (AV_CODEC_EXPORT_DATA_FILM_GRAIN); libaom always applies it.
            if name == "libaom-av1" {
                return Err(Error::unsupported(
                    format!("AV1 without film grain on {engine}'s {name}"),
                    "libaom applies the grain; libdav1d (FFmpeg) or rav1d leave it out",
                ));
            }
            ctx.set_option("export_side_data", "film_grain")
                .map_err(|e| common::backend_error(engine, &format!("leaving AV1 film grain out on {name}"), e))?;
        }
        {
            // Cropping is done in frame_convert, to the exact sample.
            ctx.set_int(CtxInt::ApplyCropping, 0);
            ctx.set_max_pixels(MAX_PIXELS);
            // An H.264 stream without VUI bitstream_restriction does not say how many
            // pictures it reorders. By default libavcodec guesses, growing its reorder
            // buffer when a picture comes out of order and dropping that picture; the
            // ffmpeg tool hides this by pre-decoding frames when it probes the stream.
            // Strict compliance makes the h264 decoder assume the level's DPB size, so
            // every picture comes out in order (at the cost of that delay, for such
            // streams only).
            if config.codec == Codec::H264 {
                // FF_COMPLIANCE_STRICT.
                ctx.set_int(CtxInt::StrictStdCompliance, 1);
            }
            match &hw {
                Some(dev) => {
                    dev.attach(&mut ctx)?;
                    ctx.set_int(CtxInt::ThreadCount, 1);
                }
                None => {
                    // Pictures in buffers of ours, to be lent out without a copy; where
                    // the decoder cannot, libavcodec's and a copy (the output is the same).
                    if config.lend_frames {
                        let _ = buffers::install(&mut ctx);
                    }
                    ctx.set_int(CtxInt::ThreadCount, software_threads::session_threads(config.threads));
                    ctx.set_int(
                        CtxInt::ThreadType,
                        if config.low_latency { THREAD_SLICE } else { THREAD_FRAME | THREAD_SLICE },
                    );
                }
            }
        }
        if let Some((w, h)) = config.picture_size.filter(|_| !config.codec.is_parsed()) {
            // Larger than any picture is allowed here: left unset, the decoder reads its own.
            if i64::from(w) * i64::from(h) <= MAX_PIXELS {
                ctx.set_int(CtxInt::Width, w as i32);
                ctx.set_int(CtxInt::Height, h as i32);
            }
        }
        if let Some(extra) = config.extradata.as_deref().filter(|_| !config.codec.is_parsed()) {
            ctx.set_extradata(extra)
                .map_err(|e| common::backend_error(engine, &format!("giving {name} its extradata"), e))?;
        }
        ctx.open().map_err(|e| common::backend_error(engine, &format!("opening libavcodec decoder {name}"), e))?;
        let decoder = ctx;
        let frame = |what: &str| {
            AvFrame::empty(ff).map_err(|e| common::backend_error(engine, &format!("allocating the {what} frame"), e))
        };
        Ok(FfmpegDecoder {
            engine,
            name,
            codec: config.codec,
            decoder,
            hw_format: hw.as_ref().map(HwDevice::pix_fmt),
            device_label: hw.as_ref().map_or_else(|| "software".to_string(), |d| d.label.clone()),
            output: config.output,
            lend_frames: config.lend_frames,
            next_id: 0,
            pending: BTreeMap::new(),
            damage: None,
            concealed: 0,
            left_out: 0,
            start: (config.codec == Codec::H264).then(RecoveryStart::default),
            ready: VecDeque::new(),
            picture: frame("picture")?,
            downloaded: frame("download")?,
            ff,
            _session: software_threads::Session::start(),
        })
    }

    /// "software" or the device the decoder runs on.
    fn device_label(&self) -> String {
        self.device_label.clone()
    }

    /// ", 3 frame threads" (empty for one thread).
    fn threads_note(&self) -> String {
        match (self.decoder.int(CtxInt::ActiveThreadType), DecoderBackend::threads(self)) {
            (_, 1) => String::new(),
            (THREAD_FRAME, n) => format!(", {n} frame threads"),
            (THREAD_SLICE, n) => format!(", {n} slice threads"),
            _ => String::new(),
        }
    }

    /// Turns a libavcodec failure on the access unit at `offset` into a typed error:
    /// damaged or unsupported input is a bitstream error (the session drops the unit
    /// and goes on), anything else a backend error.
    fn error(&self, e: AvError, offset: u64) -> Error {
        match e {
            AvError::INVALIDDATA => {
                Error::invalid_bitstream(offset, format!("{} {}: {e} (AVERROR_INVALIDDATA)", self.engine, self.name))
            }
            AvError::PATCHWELCOME => Error::invalid_bitstream(
                offset,
                format!(
                    "{} {}: a feature libavcodec does not implement (AVERROR_PATCHWELCOME)",
                    self.engine, self.name
                ),
            ),
            other => common::backend_error(self.engine, &format!("{} decoding", self.name), other),
        }
    }

    /// Records damage found after its access unit was accepted (the first is kept).
    fn note_damage(&mut self, offset: u64, reason: String) {
        if self.damage.is_none() {
            self.damage = Some(Error::invalid_bitstream(offset, format!("{} {}: {reason}", self.engine, self.name)));
        }
    }

    /// Forgets the access units sent before packet `before` whose picture has not come
    /// out; those that should have given one count as damage.
    fn forget_lost(&mut self, before: i64) {
        let mut lost = 0u64;
        let mut first = None;
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() >= before {
                break;
            }
            let meta = entry.remove();
            if meta.expect_output {
                lost += 1;
                first.get_or_insert(meta.offset);
            }
        }
        if let Some(offset) = first {
            let (what, it) =
                if lost == 1 { ("a picture".to_string(), "it") } else { (format!("{lost} pictures"), "them") };
            self.note_damage(
                offset,
                format!(
                    "{what} never came out: libavcodec skipped {it} (damaged, or missing parameter sets or references)"
                ),
            );
        }
    }

    /// Sends one packet, receiving pictures first whenever the decoder asks for it.
    fn send(&mut self, packet: &AvPacket, offset: u64) -> Result<()> {
        for _ in 0..3 {
            match self.decoder.send_packet(Some(packet)) {
                Ok(()) => return self.receive_all(offset),
                Err(AvError::EAGAIN) => self.receive_all(offset)?,
                Err(e) => {
                    let err = self.error(e, offset);
                    // Pictures finished before the failure are still good.
                    let _ = self.receive_all(offset);
                    return Err(err);
                }
            }
        }
        Err(Error::backend(self.engine.name(), "AVERROR(EAGAIN)", "the decoder takes no input although drained"))
    }

    /// Takes every picture the decoder has ready.
    fn receive_all(&mut self, offset: u64) -> Result<()> {
        loop {
            match self.decoder.receive_frame(&mut self.picture) {
                Ok(()) => {
                    let frame = self.take_picture();
                    // The picture was copied out or lent (a reference of its own): this
                    // drops the decoder's reference.
                    self.picture.unref();
                    self.ready.extend(frame?);
                }
                Err(AvError::EAGAIN | AvError::EOF) => return Ok(()),
                Err(e) => return Err(self.error(e, offset)),
            }
        }
    }

    /// Converts the decoder's current picture into a [`Frame`]; `None` for an H.264
    /// picture the stream does not show.
    /// Sends one access unit; `pixels`: whether its frame is taken with its pixels.
    fn send_unit(&mut self, au: &AccessUnit, pixels: bool) -> Result<()> {
        self.send_unit_as(au, pixels, false)
    }

    /// Whether a picture given for its headers only is left undecoded: by the software
    /// decoders of H.264 and HEVC (see the module docs).
    fn leaves_out(&self) -> bool {
        self.engine == Engine::Ffmpeg && matches!(self.codec, Codec::H264 | Codec::Hevc)
    }

    /// [`Self::send_unit`]; `left_out`: libavcodec skips the whole packet
    /// (`skip_frame` = `AVDISCARD_ALL` for it alone), and no picture is expected of it.
    fn send_unit_as(&mut self, au: &AccessUnit, pixels: bool, left_out: bool) -> Result<()> {
        // A unit with picture information has slices: only the others are looked into.
        if au.data.is_empty() || (au.picture.is_none() && only_aud_and_sei(self.codec, &au.data)) {
            return Ok(());
        }
        let id = self.next_id;
        self.next_id += 1;
        let keyframe = au.is_keyframe();
        if let Some(p) = au.picture {
            // The recovery start model sees the picture even when it is left out: it
            // follows the stream's order counts, as the decoder's output does.
            let shows = match &mut self.start {
                Some(start) => start.shows_picture(&p),
                None => p.output && !p.second_field,
            };
            let expect_output = shows && !left_out;
            self.pending.insert(id, AuMeta { pts: au.pts, keyframe, offset: au.offset, expect_output, pixels });
        }
        let mut packet = AvPacket::copy(self.ff, &au.data)
            .map_err(|e| common::backend_error(self.engine, "allocating a packet", e))?;
        packet.set_pts(Some(id));
        if keyframe {
            packet.set_flags(PKT_FLAG_KEY);
        }
        let sent = if left_out {
            self.set_skip_frame("all")?;
            let sent = self.send(&packet, au.offset);
            self.set_skip_frame("default")?;
            self.left_out += 1;
            sent
        } else {
            self.send(&packet, au.offset)
        };
        self.forget_lost(id - LOST_AFTER);
        sent?;
        self.damage.take().map_or(Ok(()), Err)
    }

    /// Sets `skip_frame` (an `AVDiscard` by its option name) for the packets sent next.
    fn set_skip_frame(&mut self, value: &str) -> Result<()> {
        self.decoder
            .set_option("skip_frame", value)
            .map_err(|e| common::backend_error(self.engine, &format!("setting skip_frame to {value}"), e))
    }

    fn take_picture(&mut self) -> Result<Option<Frame>> {
        let meta = self.picture.pts().and_then(|id| self.pending.remove(&id));
        if self.start.is_some() && meta.is_some_and(|m| !m.expect_output) {
            return Ok(None);
        }
        let (error_flags, flags) = (self.picture.int(IntField::DecodeErrorFlags), self.picture.int(IntField::Flags));
        if error_flags != 0 || flags & FLAG_CORRUPT != 0 {
            self.concealed += 1;
            let offset = meta.map_or(0, |m| m.offset);
            self.note_damage(
                offset,
                format!("picture decoded with errors, concealed (decode_error_flags {error_flags:#x})"),
            );
        }
        let vis = frame_convert::visible(&self.picture);
        let color = frame_convert::color_of(&self.picture);
        let raw_format = self.picture.format();
        // A picture taken without its pixels comes out as its metadata form alone.
        let output = if meta.is_none_or(|m| m.pixels) { self.output } else { Output::Metadata };
        let (format, data) = match self.hw_format {
            Some(hw) if raw_format == hw => match output {
                Output::Metadata => {
                    let sw = self.decoder.int(CtxInt::SwPixFmt);
                    let depth = frame_convert::depth_of(self.ff, sw);
                    (frame_convert::metadata_format(depth), FrameData::None)
                }
                output => {
                    decode_hw::download(self.engine, &self.picture, &mut self.downloaded)?;
                    frame_convert::to_output(&self.downloaded, vis, output, &color)?
                }
            },
            // The decoder's own buffer when it can be lent as it is, else a copy.
            _ => match self.lend_frames.then(|| frame_convert::lend(&self.picture, vis, output)).flatten() {
                Some(lent) => lent,
                None => frame_convert::to_output(&self.picture, vis, output, &color)?,
            },
        };
        Ok(Some(Frame {
            format,
            width: vis.width,
            height: vis.height,
            pts: meta.and_then(|m| m.pts),
            // The codecs this crate does not parse have no keyframe flag of their own on the
            // way in: libavcodec's says (an I picture for MPEG-1/2/4, every JPEG).
            keyframe: match meta {
                Some(m) if self.codec.is_parsed() => m.keyframe,
                _ => self.picture.is_key(),
            },
            color,
            data,
        }))
    }
}

impl DecoderBackend for FfmpegDecoder {
    fn engine(&self) -> Engine {
        self.engine
    }

    fn describe(&self) -> String {
        format!(
            "{} {} ({}, {}{})",
            self.engine,
            self.name,
            self.ff.libavcodec_version(),
            self.device_label,
            self.threads_note()
        )
    }

    fn threads(&self) -> u32 {
        let (kind, count) = (self.decoder.int(CtxInt::ActiveThreadType), self.decoder.int(CtxInt::ThreadCount));
        match kind {
            THREAD_FRAME | THREAD_SLICE => u32::try_from(count).unwrap_or(1).max(1),
            // A decoder that runs threads of its own (libdav1d) is handed the context's
            // count: 0 lets it take one per core, as dav1d does.
            _ if self.decoder.codec().capabilities() & CAP_OTHER_THREADS != 0 => match u32::try_from(count) {
                Ok(n) if n > 0 => n,
                _ => u32::try_from(software_threads::cores()).unwrap_or(1).max(1),
            },
            _ => 1,
        }
    }

    fn decode(&mut self, au: &AccessUnit) -> Result<()> {
        self.send_unit(au, true)
    }

    fn decode_unshown(&mut self, au: &AccessUnit) -> Result<()> {
        self.send_unit(au, false)
    }

    fn decode_headers_only(&mut self, au: &AccessUnit) -> Result<()> {
        // A key frame (IDR, IRAP) resets the decoder's buffer: always decoded. Where the
        // picture is not left out, what comes out is dropped.
        let left_out = self.leaves_out() && !au.is_keyframe();
        self.send_unit_as(au, false, left_out)
    }

    fn left_out(&self) -> u64 {
        self.left_out
    }

    fn take_stream_error(&mut self) -> Option<Error> {
        self.damage.take()
    }

    fn concealed(&self) -> u64 {
        self.concealed
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        Ok(self.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        let mut failure = None;
        match self.decoder.send_packet(None) {
            Ok(()) | Err(AvError::EOF) => {}
            Err(e) => failure = Some(self.error(e, 0)),
        }
        // Drain: each call returns a picture, an error for one picture, or the end.
        // Bounded so that a decoder stuck in an error state cannot hang the flush.
        for _ in 0..4096 {
            match self.decoder.receive_frame(&mut self.picture) {
                Ok(()) => {
                    let frame = self.take_picture();
                    // The picture was copied out or lent (a reference of its own): this
                    // drops the decoder's reference.
                    self.picture.unref();
                    match frame {
                        Ok(f) => self.ready.extend(f),
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    }
                }
                Err(AvError::EOF | AvError::EAGAIN) => break,
                Err(e) => {
                    failure.get_or_insert(self.error(e, 0));
                }
            }
        }
        // Back to the initial state: the session may start a new stream. What did not
        // come out now never will.
        self.decoder.flush();
        self.forget_lost(i64::MAX);
        if let Some(start) = &mut self.start {
            *start = RecoveryStart::default();
        }
        match failure {
            // A damaged last picture loses that picture only; the others are returned.
            Some(e) if !matches!(e, Error::InvalidBitstream { .. }) => {
                self.ready.clear();
                Err(e)
            }
            _ => Ok(self.ready.drain(..).collect()),
        }
    }
}

#[cfg(test)]
#[path = "decoder_tests.rs"]
mod tests;
