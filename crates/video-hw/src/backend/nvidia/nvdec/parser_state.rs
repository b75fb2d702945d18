//! The state NVIDIA's parser calls back into, and its three callbacks (a new sequence, a
//! picture to decode, a picture to display): where an NVDEC session's pictures are decoded,
//! timed, copied out and handed over. The session that feeds the parser and owns this state
//! is `session.rs`.

use std::collections::VecDeque;
use std::ffi::{c_int, c_void};

use super::decoder_creation;
use super::decoder_reuse;
use super::host_copy::{HostCopies, InFlight};
use super::hw::{HwDecoder, Shape, decode_surfaces};
use super::output::{CopyOut, Crop, Surface, kept_unless_timed_out};
use super::zero_copy_frames;
use crate::backend::nvidia::call_times;
use crate::backend::nvidia::cuda::{Context, Device};
use crate::backend::nvidia::gpu_caps::decode_caps_of;
use crate::backend::nvidia::sys::cuvid::*;
use crate::codec::{
    ChromaLocation, ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, PixelFormat, TransferCharacteristics,
};
use crate::config::{Output, StreamFormat};
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};

/// The longest a closing session waits for the pictures it decoded and did not display to
/// finish decoding, so that its decoder object can be parked (a picture takes ~1-2 ms; a
/// session holds at most a DPB's worth plus the display delay).
const UNDISPLAYED_WAIT: std::time::Duration = std::time::Duration::from_millis(100);
/// Host frames whose copies may run at once while the session decodes on (each holds an
/// output surface mapped until its copy is done; see `host_copy`).
const MAX_IN_FLIGHT: usize = 3;

/// What was known about a picture when it was handed to the hardware: which decoder
/// object (generation) holds it, its visible rectangle, and the timestamp of its access unit.
#[derive(Clone, Copy, Debug)]
pub(super) struct PicRecord {
    generation: u64,
    crop: Crop,
    bit_depth: u8,
    color: ColorInfo,
    /// The pts and keyframe flag of the access unit that coded the picture.
    pts: Option<i64>,
    keyframe: bool,
    /// Whether the reference decoder shows the picture (H.264: not the leading pictures of
    /// the recovery point a stream starts at, see `RecoveryStart`); others are dropped.
    show: bool,
    /// The caller takes the picture's pixels: false for one decoded only for the pictures
    /// that predict from it (`decode_unshown`), which is displayed as a frame without
    /// pixels, never mapped or copied.
    pixels: bool,
}

/// Everything the parser callbacks touch. Lives in a `Box` whose raw pointer is the
/// parser's user data; Rust code touches it only while no parser call is running.
pub(super) struct State {
    pub(super) ctx: Context,
    pub(super) device_index: u32,
    pub(super) device_name: String,
    pub(super) codec: crate::Codec,
    pub(super) output: Output,
    pub(super) decoder: Option<HwDecoder>,
    /// Bumped whenever a new decoder object replaces the current one.
    pub(super) generation: u64,
    /// Replaced decoder objects that still hold pictures waiting for display.
    pub(super) retired: Vec<(u64, HwDecoder)>,
    /// Per parser picture index: the picture decoded into it and not displayed yet.
    pub(super) pictures: Vec<Option<PicRecord>>,
    /// The visible rectangle our own SPS parse gives for the access unit being parsed
    /// (the NVIDIA parser's display area drops an unaligned left crop).
    pub(super) au_crop: Option<Crop>,
    /// Visible rectangle, bit depth and colour of the current sequence (parser's view).
    pub(super) crop: Crop,
    pub(super) bit_depth: u8,
    pub(super) color: ColorInfo,
    pub(super) copy: CopyOut,
    pub(super) host: HostCopies,
    pub(super) ready: VecDeque<Frame>,
    /// Frames behind a host copy still running, in display order: the copied frames with
    /// their copy, and the frames displayed after one of them, which wait their turn.
    pub(super) in_flight: VecDeque<(Frame, Option<InFlight>)>,
    /// The pts, keyframe flag, `show` and `decode` of the access unit being parsed: its
    /// picture's decode callback comes while it is parsed (each packet ends a picture) and
    /// files them with the picture's surface, so the display callback gives each picture
    /// its own pts. (The parser's own timestamps come back sorted, in display order, not
    /// per picture: with B-frames they would give a picture another access unit's pts.)
    /// `decode` false: the picture is parsed for its reference marking only, neither
    /// decoded nor shown (`decode_headers_only`). Then whether its pixels are taken
    /// (false: `decode_unshown`).
    pub(super) current: (Option<i64>, bool, bool, bool, bool),
    /// The first error raised inside a callback (callbacks can only return 0).
    pub(super) error: Option<Error>,
    /// Pictures the hardware reported as damaged (concealed).
    pub(super) damaged: u64,
    /// The parser's display delay (surfaces are added for it).
    pub(super) display_delay: u32,
    /// A call failed in this session (decode, map, copy, parse): its decoder object is not
    /// handed to another session.
    pub(super) poisoned: bool,
    /// Counts the session as decoding on its GPU from its first picture (it waited at the
    /// creation barrier before it, see `decoder_creation`) until the stream is flushed or the
    /// session dropped.
    pub(super) decoding: Option<decoder_creation::DecodingGuard>,
    /// NVDEC engines of the GPU that decode the codec (how many decoders `decoder_reuse` keeps).
    pub(super) engines: u8,
    /// The session does not wait at the creation barrier (`DecoderConfig::start_at_once`).
    pub(super) start_at_once: bool,
}

impl Drop for State {
    /// The host copies still running finish before their memory and surfaces go. The
    /// decoder object, if the session ended cleanly, was parked where the session was
    /// dropped (`park_if_clean`); otherwise it is destroyed with the rest, here (on the
    /// closer thread).
    fn drop(&mut self) {
        self.finish_host_copies();
    }
}

impl State {
    /// Parks the decoder object for the next session if the session ended cleanly (no call
    /// failed; every picture decoded was displayed or has finished decoding), once the
    /// copies into host frames still running are done (their surfaces must not be reused
    /// before). Called where the session is dropped, before the rest goes to the closer
    /// thread: a reader opened right after (a data loader's next clip, the next pass of a
    /// loop) then finds the decoder parked, where, parked by the closer thread behind other
    /// destroys, it was sometimes not there yet and a new one was created on the next
    /// frame's path (45-60 ms on an H100). A decoder the pool refuses stays for the closer.
    pub(super) fn park_if_clean(&mut self) {
        self.finish_host_copies();
        if self.decoder.is_none() || self.poisoned || !self.undisplayed_pictures_finished() {
            return;
        }
        if let Some(dec) = self.decoder.take() {
            self.decoder = decoder_reuse::try_park(dec, self.engines);
        }
    }

    /// Waits for the copies into host frames still running (a closing session's).
    fn finish_host_copies(&mut self) {
        for (_, flight) in self.in_flight.drain(..) {
            if let Some(Err(e)) = flight.map(|f| f.finish(&mut self.host)) {
                tracing::debug!("host copy at session close: {e}");
            }
        }
    }

    /// Whether every picture of the current decoder object that was decoded and not
    /// displayed has finished decoding, waiting up to [`UNDISPLAYED_WAIT`] for them.
    ///
    /// Why: a session dropped in the middle of its stream — a data loader's clip read up to
    /// its last wanted frame, an index loop's reader closed mid-GOP — still holds pictures
    /// the parser had not displayed yet. Once the hardware is done with them nothing refers
    /// to them (the parser is gone, no surface of theirs is mapped), so the decoder object
    /// may serve the next session as a flushed one does, instead of that session creating
    /// one (~40-60 ms on an H100, on its first frame's path) while this one is destroyed
    /// (~60-85 ms on the closer thread). A picture the hardware failed, or a driver that
    /// cannot tell, keeps the old rule: the object is destroyed.
    fn undisplayed_pictures_finished(&self) -> bool {
        let pending: Vec<i32> = (self.pictures.iter().enumerate())
            .filter(|(_, p)| p.is_some_and(|p| p.generation == self.generation))
            .map(|(i, _)| i as i32)
            .collect();
        if pending.is_empty() {
            return true;
        }
        let Some(dec) = &self.decoder else { return false };
        let deadline = std::time::Instant::now() + UNDISPLAYED_WAIT;
        pending.into_iter().all(|index| {
            loop {
                match dec.decode_finished(index) {
                    Some(true) => break true,
                    Some(false) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_micros(200))
                    }
                    _ => break false,
                }
            }
        })
    }

    /// Sequence callback: a new or changed sequence. Returns the decode surfaces to use.
    fn on_sequence(&mut self, f: &CUVIDEOFORMAT) -> Result<u32> {
        let bit_depth = 8 + f.bit_depth_luma_minus8;
        let format = StreamFormat {
            chroma_format_idc: f.chroma_format as u8,
            bit_depth,
            width: f.coded_width,
            height: f.coded_height,
        };
        check_format(self.ctx.device(), self.device_index, &self.device_name, self.codec, format)?;
        let (w, h) = (f.coded_width, f.coded_height);
        let surface_format = if bit_depth > 8 { cudaVideoSurfaceFormat_P016 } else { cudaVideoSurfaceFormat_NV12 };
        let shape = Shape {
            codec: f.codec,
            chroma: f.chroma_format,
            bit_depth_minus8: f.bit_depth_luma_minus8.into(),
            surface_format,
        };
        let surfaces = decode_surfaces(f.min_num_decode_surfaces.into(), self.display_delay);

        self.bit_depth = bit_depth;
        let da = f.display_area;
        let left = da.left.clamp(0, w as i32) as u32;
        let top = da.top.clamp(0, h as i32) as u32;
        let right = (da.right.clamp(0, w as i32) as u32).max(left);
        let bottom = (da.bottom.clamp(0, h as i32) as u32).max(top);
        self.crop = Crop { left, top, width: right - left, height: bottom - top };
        let vsd = f.video_signal_description;
        self.color = ColorInfo {
            primaries: ColorPrimaries(vsd.color_primaries),
            transfer: TransferCharacteristics(vsd.transfer_characteristics),
            matrix: MatrixCoefficients(vsd.matrix_coefficients),
            range: if vsd.video_full_range_flag() != 0 { ColorRange::Full } else { ColorRange::Limited },
            // CUVIDEOFORMAT does not carry the siting; unspecified reads as the codecs' default.
            chroma_location: ChromaLocation::Unspecified,
        };

        let pending = self.pictures.iter().flatten().any(|p| p.generation == self.generation);
        if let Some(dec) = &mut self.decoder
            && dec.shape == shape
            && surfaces <= dec.surfaces
        {
            if (dec.width, dec.height) == (w, h) {
                return Ok(dec.surfaces);
            }
            // Reconfigure in place only when no picture of the old size waits for
            // display: its surface would change under it.
            if !pending && w <= dec.max_width && h <= dec.max_height && dec.reconfigure(w, h)? {
                return Ok(dec.surfaces);
            }
        }
        // Shape changed or grew past the maximum: a new decoder object. The old one is
        // kept until the pictures it holds have been displayed.
        if let Some(old) = self.decoder.take()
            && pending
        {
            self.retired.push((self.generation, old));
        }
        let dec = match self.reuse_parked(shape, w, h, surfaces) {
            Some(dec) => dec,
            None => HwDecoder::create(&self.ctx, shape, w, h, surfaces)?,
        };
        let n = dec.surfaces;
        self.decoder = Some(dec);
        self.generation += 1;
        Ok(n)
    }

    /// A decoder another session of this GPU and context parked (see `decoder_reuse`) that fits
    /// a sequence of `shape` at `w` x `h`, moved to that size.
    fn reuse_parked(&self, shape: Shape, w: u32, h: u32, surfaces: u32) -> Option<HwDecoder> {
        let started = std::time::Instant::now();
        let mut dec = decoder_reuse::take(decoder_reuse::home_of(&self.ctx), shape, w, h, surfaces)?;
        if (dec.width, dec.height) != (w, h) {
            match dec.reconfigure(w, h) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    tracing::debug!("parked NVDEC decoder not reused: {e}");
                    return None;
                }
            }
        }
        call_times::REUSE_DECODER.add(started.elapsed());
        Some(dec)
    }

    /// Decode callback: one picture's parameters, in decode order.
    fn on_decode(&mut self, params: *mut CUVIDPICPARAMS) -> Result<()> {
        let dec =
            self.decoder.as_ref().ok_or_else(|| Error::backend("nvdec", "no decoder", "picture before sequence"))?;
        if self.decoding.is_none() {
            let at_once = self.start_at_once;
            self.decoding = Some(decoder_creation::start_decoding(
                self.device_index,
                self.engines,
                decoder_creation::BARRIER_WAIT,
                at_once,
            ));
        }
        // SAFETY: the parser passes valid parameters for the duration of the callback.
        let pic = unsafe { params.as_ref() };
        let index = pic.map_or(-1, |p| p.CurrPicIdx);
        if let Some(p) = pic.filter(|_| tracing::enabled!(tracing::Level::TRACE)) {
            // SAFETY: for HEVC the parser fills the `hevc` member of the union.
            let hevc = if self.codec == crate::Codec::Hevc { Some(unsafe { &p.CodecSpecific.hevc }) } else { None };
            let poc = hevc.map(|h| h.CurrPicOrderCntVal);
            let refs: Vec<(i32, i32)> = hevc.map_or_else(Vec::new, |h| {
                h.RefPicIdx.iter().zip(&h.PicOrderCntVal).filter(|(i, _)| **i >= 0).map(|(i, o)| (*i, *o)).collect()
            });
            tracing::trace!(
                index,
                ?poc,
                ref_pic = p.ref_pic_flag,
                intra = p.intra_pic_flag,
                slices = p.nNumSlices,
                bytes = p.nBitstreamDataLen,
                ?refs,
                "nvdec decode callback"
            );
        }
        // Our SPS's crop when it fits this decoder's coded size, else the parser's.
        let crop = self
            .au_crop
            .filter(|c| c.left + c.width <= dec.width && c.top + c.height <= dec.height && c.width > 0 && c.height > 0)
            .unwrap_or(self.crop);
        let (pts, keyframe, show, decode, pixels) = self.current;
        let mut record = PicRecord {
            generation: self.generation,
            crop,
            bit_depth: self.bit_depth,
            color: self.color,
            pts,
            keyframe,
            show: show && decode,
            pixels,
        };
        let second_field = pic.is_some_and(|p| p.field_pic_flag != 0 && p.second_field != 0);
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| self.pictures.get_mut(i)) {
            // A frame's second field keeps the first field's timestamp.
            if let Some(first) = slot.as_ref().filter(|_| second_field) {
                record.pts = first.pts;
                record.keyframe = first.keyframe;
                record.show = first.show;
                record.pixels = first.pixels;
            }
            *slot = Some(record);
        }
        if !decode {
            // Nothing uses this picture's pixels: the parser has taken its reference
            // marking, and its surface is never mapped.
            return Ok(());
        }
        // SAFETY: `params` is the pointer the parser passed to this callback.
        unsafe { dec.decode(params) }
    }

    /// Display callback: one picture in display order; copied out right away so the
    /// surface returns to the decoder.
    fn on_display(&mut self, info: &CUVIDPARSERDISPINFO) -> Result<()> {
        tracing::trace!(index = info.picture_index, timestamp = info.timestamp, "nvdec display callback");
        self.make_room()?;
        let slot = usize::try_from(info.picture_index).ok().and_then(|i| self.pictures.get_mut(i));
        let record = slot.and_then(Option::take).unwrap_or(PicRecord {
            generation: self.generation,
            crop: self.crop,
            bit_depth: self.bit_depth,
            color: self.color,
            pts: None,
            keyframe: false,
            show: true,
            pixels: true,
        });
        if !record.show {
            tracing::trace!(
                index = info.picture_index,
                "not shown: a leading picture of the recovery point the stream starts at"
            );
            return Ok(());
        }
        if !record.pixels {
            // Decoded for the pictures that predict from it; no one takes its pixels.
            let format = if record.bit_depth > 8 { PixelFormat::P010 } else { PixelFormat::Nv12 };
            let frame = Frame {
                format,
                width: record.crop.width,
                height: record.crop.height,
                pts: record.pts,
                keyframe: record.keyframe,
                color: record.color,
                data: FrameData::None,
            };
            if self.in_flight.is_empty() {
                self.ready.push_back(frame);
            } else {
                self.in_flight.push_back((frame, None));
            }
            return Ok(());
        }
        let dec = if record.generation == self.generation {
            self.decoder.as_ref()
        } else {
            self.retired.iter().find(|(g, _)| *g == record.generation).map(|(_, d)| d)
        }
        .ok_or_else(|| Error::backend("nvdec", "no decoder", "display of a picture whose decoder is gone"))?;
        let mut proc_params = CUVIDPROCPARAMS {
            progressive_frame: info.progressive_frame,
            second_field: info.repeat_first_field + 1,
            top_field_first: info.top_field_first,
            unpaired_field: c_int::from(info.repeat_first_field < 0),
            output_stream: self.copy.stream().raw(),
            ..CUVIDPROCPARAMS::default()
        };
        let map_start = std::time::Instant::now();
        let mapped = dec.map(info.picture_index, &mut proc_params)?;
        crate::metrics::record_stage(crate::metrics::Stage::Map, map_start.elapsed());
        // Asked after the map, which waits for the picture: before it, a picture still being
        // decoded reports "in progress", not its errors.
        if dec.had_errors(info.picture_index) {
            self.damaged += 1;
            tracing::debug!(index = info.picture_index, "NVDEC reports the picture damaged and concealed");
        }
        let surface = Surface {
            ptr: mapped.ptr,
            pitch: mapped.pitch,
            chroma_offset: dec.chroma_offset(mapped.pitch),
            bytes_per_sample: if record.bit_depth > 8 { 2 } else { 1 },
        };
        let lend_as = CopyOut::lend_format(self.output, record.bit_depth)
            .filter(|_| zero_copy_frames::lending_enabled() && dec.can_lend());
        // Host YUV frames are copied without waiting, into page-locked memory, when the
        // caller did not ask for low latency (a frame would wait for the next call).
        let host_as = HostCopies::format(self.output, record.bit_depth).filter(|_| self.display_delay > 0);
        let host_to = match host_as.filter(|_| lend_as.is_none() && dec.can_lend()) {
            Some(f) => self.host.destination(f, record.crop.width, record.crop.height)?.map(|dest| (f, dest)),
            None => None,
        };
        let mut flight = None;
        let (format, data) = match (lend_as, host_to) {
            // The frame is the mapped surface itself, unmapped when the caller drops it.
            (Some(format), _) => {
                let in_surface = || {
                    call_times::LENT.time(|| self.copy.frame_in_surface(mapped.lend(), surface, record.crop, format))
                };
                (format, FrameData::Device(call_times::COPY.time(in_surface)?))
            }
            (None, Some((format, dest))) => {
                let (stream, crop, depth) = (self.copy.stream(), record.crop, record.bit_depth);
                let start = || self.host.start(stream, (surface, Box::new(mapped.lend())), crop, (format, depth), dest);
                flight = Some(call_times::COPY.time(|| call_times::HOST_ASYNC.time(start))?);
                // The frame's pixels come when the copy is done (`deliver_oldest`).
                (format, FrameData::None)
            }
            (None, None) => {
                let copied = call_times::COPY
                    .time(|| self.copy.copy(surface, record.crop, self.output, record.bit_depth, &record.color));
                // After a timeout the copies may still read the surface: it is never unmapped
                // (the device is stuck); otherwise it is unmapped here.
                let (mapped, copied) = kept_unless_timed_out(mapped, copied)?;
                drop(mapped);
                copied
            }
        };
        let (pts, keyframe) = (record.pts, record.keyframe);
        let pictures = &self.pictures;
        self.retired.retain(|(g, _)| pictures.iter().flatten().any(|p| p.generation == *g));
        let frame = Frame {
            format,
            width: record.crop.width,
            height: record.crop.height,
            pts,
            keyframe,
            color: record.color,
            data,
        };
        if flight.is_none() && self.in_flight.is_empty() {
            self.ready.push_back(frame);
        } else {
            self.in_flight.push_back((frame, flight));
        }
        self.harvest(false)
    }

    /// Moves the frames whose copies finished (all of them, waiting, when `wait`) from
    /// `in_flight` to `ready`, in order.
    pub(super) fn harvest(&mut self, wait: bool) -> Result<()> {
        while let Some((_, flight)) = self.in_flight.front() {
            if !wait && !flight.as_ref().map_or(Ok(true), InFlight::is_done)? {
                return Ok(());
            }
            self.deliver_oldest()?;
        }
        Ok(())
    }

    /// Waits for the oldest frame of `in_flight` and moves it to `ready`.
    fn deliver_oldest(&mut self) -> Result<()> {
        let Some((mut frame, flight)) = self.in_flight.pop_front() else { return Ok(()) };
        if let Some(flight) = flight {
            frame.data = FrameData::Host(flight.finish(&mut self.host)?);
        }
        self.ready.push_back(frame);
        Ok(())
    }

    /// Before a picture is mapped: at most `MAX_IN_FLIGHT - 1` copies running, and an
    /// output surface to lend left, finishing the oldest copies if need be.
    fn make_room(&mut self) -> Result<()> {
        loop {
            let running = self.in_flight.iter().filter(|(_, f)| f.is_some()).count();
            let lendable = self.decoder.as_ref().is_none_or(HwDecoder::can_lend);
            if running == 0 || (running < MAX_IN_FLIGHT && lendable) {
                return Ok(());
            }
            self.deliver_oldest()?;
        }
    }

    fn fail(&mut self, e: Error) -> c_int {
        self.poisoned = true;
        if self.error.is_none() {
            self.error = Some(e);
        }
        0
    }
}

/// Whether GPU `device`'s NVDEC decodes `codec` streams of `format`: 4:2:0 of its bit
/// depth, within the size limits its capabilities state. `Unsupported` names what and why.
pub(super) fn check_format(
    device: Device,
    index: u32,
    name: &str,
    codec: crate::Codec,
    format: StreamFormat,
) -> Result<()> {
    let StreamFormat { chroma_format_idc, bit_depth, width: w, height: h } = format;
    let caps = if u32::from(chroma_format_idc) == cudaVideoChromaFormat_420 {
        Some(decode_caps_of(device, codec, bit_depth)?)
    } else {
        None
    };
    let gpu = format!("GPU {index} ({name})");
    let Some(caps) = caps.filter(|c| c.supported) else {
        return Err(Error::unsupported(
            format!("nvdec {codec} {bit_depth}-bit {}", chroma_name(chroma_format_idc.into())),
            format!("{gpu} NVDEC cannot decode it"),
        ));
    };
    let mbs = (w.div_ceil(16) * h.div_ceil(16)) as u64;
    if w > caps.max_width
        || h > caps.max_height
        || mbs > caps.max_mb_count as u64
        || w < caps.min_width as u32
        || h < caps.min_height as u32
    {
        return Err(Error::unsupported(
            format!("nvdec {codec} {bit_depth}-bit at {w}x{h}"),
            format!(
                "{gpu} decodes {codec} {bit_depth}-bit from {}x{} up to {}x{} ({} macroblocks)",
                caps.min_width, caps.min_height, caps.max_width, caps.max_height, caps.max_mb_count
            ),
        ));
    }
    Ok(())
}

fn chroma_name(c: cudaVideoChromaFormat) -> &'static str {
    ["4:0:0", "4:2:0", "4:2:2", "4:4:4"].get(c as usize).copied().unwrap_or("unknown chroma format")
}

/// Runs `f` on the state behind a callback's user-data pointer, turning errors and
/// panics into the callback's failure return (a panic must not unwind into C).
fn with_state(user: *mut c_void, f: impl FnOnce(&mut State) -> Result<c_int>) -> c_int {
    if user.is_null() {
        return 0;
    }
    // SAFETY: `user` is the `Box<State>` pointer given to the parser at creation; the
    // parser calls back only from inside `cuvidParseVideoData`, during which no Rust
    // reference to the state exists (the session touches it only between calls).
    let state = unsafe { &mut *user.cast::<State>() };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(state))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => state.fail(e),
        Err(_) => state.fail(Error::backend("nvdec", "panic", "panic inside a parser callback")),
    }
}

pub(super) unsafe extern "C" fn sequence_callback(user: *mut c_void, format: *mut CUVIDEOFORMAT) -> c_int {
    with_state(user, |s| {
        // SAFETY: the parser passes a valid format for the duration of the callback.
        let f = unsafe { format.as_ref() }.ok_or_else(|| Error::backend("nvdec", "null", "null sequence format"))?;
        s.on_sequence(f).map(|n| n as c_int)
    })
}

pub(super) unsafe extern "C" fn decode_callback(user: *mut c_void, params: *mut CUVIDPICPARAMS) -> c_int {
    with_state(user, |s| s.on_decode(params).map(|()| 1))
}

pub(super) unsafe extern "C" fn display_callback(user: *mut c_void, info: *mut CUVIDPARSERDISPINFO) -> c_int {
    with_state(user, |s| {
        // SAFETY: the parser passes a valid display info, or null at end of stream.
        match unsafe { info.as_ref() } {
            Some(info) => s.on_display(info).map(|()| 1),
            None => Ok(1),
        }
    })
}
