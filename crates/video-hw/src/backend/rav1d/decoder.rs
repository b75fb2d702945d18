//! AV1 decoding with rav1d, built in.
//!
//! Each temporal unit (the session's access unit for AV1) goes to rav1d as one data
//! buffer whose timestamp is a sequence number, so every picture that comes out is
//! matched with its own temporal unit's pts and key-frame flag. A temporal unit shows
//! exactly one picture (a new frame or, by `show_existing_frame`, one decoded earlier),
//! and AV1 has no reordering: pictures leave in temporal-unit order, at most
//! `max_frame_delay` units late with frame threads.
//!
//! Damage becomes [`Error::InvalidBitstream`] with the byte offset of the temporal unit
//! it came from: a result code of rav1d (found when the unit is sent or when its picture
//! would come out), and a temporal unit whose picture never comes out (every temporal
//! unit shows exactly one picture, spec section 7.5, so one that shows none is damaged,
//! whatever its frame headers claim). Found late, they are returned by the
//! next `decode` or after the flush (`take_stream_error`), never lost.

use std::collections::{BTreeMap, VecDeque};

use super::ffi::{ChromaLayout, Context, Data, Picture, Sent, Settings};
use crate::backend::{DecoderBackend, software_threads};
use crate::bitstream::access_unit::AccessUnit;
use crate::codec::{
    ChromaLocation, Codec, ColorInfo, ColorPrimaries, ColorRange, MatrixCoefficients, PixelFormat,
    TransferCharacteristics,
};
use crate::config::{DecoderConfig, Output};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::{Frame, FrameData};
use crate::pixels::convert::PlaneRef;
use crate::pixels::planar::{self, Layout, Source};

/// The largest picture a stream may declare (8192 x 8192 luma samples), as for the
/// other software engines: a damaged header cannot make rav1d allocate more.
const MAX_PIXELS: u32 = 8192 * 8192;

/// Rounds of send / take-a-picture for one temporal unit before rav1d is declared stuck
/// (each round takes a picture out or consumes the data; a unit shows one picture).
const MAX_ROUNDS: usize = 1024;

/// The fewest threads (and, in low latency, the frame delay) a session opens with: rav1d
/// with one frame context aborts on damage (see `open`).
const MIN_THREADS: u32 = 2;

/// What the session knows about a temporal unit until its picture comes out.
#[derive(Debug, Clone, Copy)]
struct UnitMeta {
    pts: Option<i64>,
    keyframe: bool,
    offset: u64,
    /// The caller takes the picture's pixels: false for a unit fed unshown or for its
    /// headers only, whose frame comes out without them (no copy or conversion).
    pixels: bool,
}

/// A rav1d decode session.
pub(crate) struct Rav1dDecoder {
    ctx: Context,
    output: Output,
    next_id: i64,
    /// Units sent whose picture has not come out yet, by sequence number.
    pending: BTreeMap<i64, UnitMeta>,
    /// The first damage found and not reported yet.
    damage: Option<Error>,
    ready: VecDeque<Frame>,
    /// Frame threads and workers, for `describe`.
    settings: Settings,
    /// Each unit's picture leaves before `decode` returns.
    low_latency: bool,
    /// Counts this session among those sharing the cores.
    _session: software_threads::Session,
}

impl Rav1dDecoder {
    /// Opens a decoder for `config` (AV1, host or metadata output).
    pub(crate) fn open(config: &DecoderConfig) -> Result<Self> {
        if config.codec != Codec::Av1 {
            return Err(Error::unsupported(format!("{} decode with rav1d", config.codec), "rav1d decodes AV1 only"));
        }
        if let Output::Device(api, f) = config.output {
            return Err(Error::unsupported(
                format!("{api} {f} output with rav1d"),
                "rav1d decodes to host memory only",
            ));
        }
        // rav1d 1.1.0 aborts the process on any frame decode error when it has one frame
        // context (memorysafety/rav1d issue 1497: its error path unwraps a header its
        // frame teardown already took, inside an `extern "C"` function). One frame context
        // is what one thread, or a frame delay of 1, gives; so a session always has two
        // threads or more and a delay of 0 (rav1d's choice: 2 or more contexts from 2
        // threads) or 2.
        let asked = software_threads::session_threads(config.threads);
        let threads = if asked > 0 { asked as u32 } else { software_threads::cores() as u32 }.max(MIN_THREADS);
        let settings = Settings {
            threads,
            // Low latency: two contexts, but one unit in flight at a time (`decode`
            // waits for each unit's picture), so each picture leaves with its unit.
            max_frame_delay: if config.low_latency { MIN_THREADS } else { 0 },
            apply_grain: config.film_grain,
            frame_size_limit: MAX_PIXELS,
        };
        let ctx = Context::open(settings)
            .map_err(|code| Error::backend("rav1d", "dav1d_open", super::ffi::describe_code(code)))?;
        Ok(Rav1dDecoder {
            ctx,
            output: config.output,
            next_id: 0,
            pending: BTreeMap::new(),
            damage: None,
            ready: VecDeque::new(),
            settings,
            low_latency: config.low_latency,
            _session: software_threads::Session::start(),
        })
    }

    /// ", 2 threads, film grain off" and the like (empty for the defaults).
    pub(crate) fn settings_note(&self) -> String {
        let mut note = String::new();
        if self.settings.threads > 0 {
            note.push_str(&format!(", {} threads", self.settings.threads));
        }
        if !self.settings.apply_grain {
            note.push_str(", film grain off");
        }
        note
    }

    /// Keeps the first damage found; later ones are counted by the session as they come.
    fn note(&mut self, e: Error) {
        if self.damage.is_none() {
            self.damage = Some(e);
        }
    }

    /// The error rav1d's `code` means for the unit it came from.
    fn decode_error(&mut self, code: i32, offset: u64) -> Error {
        let what = super::ffi::describe_code(code);
        if code == -12 {
            return Error::backend("rav1d", "out of memory", what);
        }
        Error::invalid_bitstream(offset, format!("rav1d: {what}"))
    }

    /// Low latency: takes pictures until unit `id`'s has come out (or rav1d has none in
    /// flight). With nothing more sent, rav1d's second call for a picture waits for the
    /// oldest frame in flight, as at the end of a stream.
    fn wait_for(&mut self, id: i64) -> Result<()> {
        let mut misses = 0;
        for _ in 0..MAX_ROUNDS {
            if !self.pending.contains_key(&id) || misses == 2 {
                break;
            }
            if !self.take_picture()? {
                misses += 1;
            }
        }
        Ok(())
    }

    /// Takes one picture out if rav1d has one; a decode error it reports is noted
    /// against its unit (whose picture then will not come).
    /// Sends one temporal unit; `pixels`: whether its picture is taken with its pixels.
    fn decode_unit(&mut self, au: &AccessUnit, pixels: bool) -> Result<()> {
        let id = self.next_id;

        self.next_id += 1;
        if au.data.is_empty() {
            return self.damage.take().map_or(Ok(()), Err);
        }
        let meta = UnitMeta { pts: au.pts, keyframe: au.is_keyframe(), offset: au.offset, pixels };
        let cleaned = super::guard::without_fatal_metadata(&au.data);
        let bytes = cleaned.as_deref().unwrap_or(&au.data);
        if bytes.is_empty() {
            // Nothing but metadata rav1d would abort on: a unit that shows no picture.
            self.note(Error::invalid_bitstream(au.offset, "rav1d: temporal unit showed no picture"));
            return self.damage.take().map_or(Ok(()), Err);
        }
        let mut data = Data::new(bytes, id, au.offset)
            .ok_or_else(|| Error::backend("rav1d", "dav1d_data_create", "out of memory"))?;
        self.pending.insert(id, meta);
        // dav1d's loop: offer the data; when the decoder holds output, take a picture and
        // offer the rest again.
        for _ in 0..MAX_ROUNDS {
            match self.ctx.send(&mut data) {
                Ok(Sent::Taken) if data.remaining() == 0 => {
                    self.take_picture()?;
                    if self.low_latency {
                        self.wait_for(id)?;
                    }
                    return self.damage.take().map_or(Ok(()), Err);
                }
                Ok(Sent::Taken | Sent::Full) => {
                    self.take_picture()?;
                }
                Err(code) => {
                    // The unit is dropped: its picture will not come.
                    self.pending.remove(&id);
                    let e = self.decode_error(code, au.offset);
                    if matches!(e, Error::Backend { .. }) {
                        return Err(e);
                    }
                    self.note(e);
                    return self.damage.take().map_or(Ok(()), Err);
                }
            }
        }
        Err(Error::backend("rav1d", "dav1d_send_data", "the decoder took neither the data nor gave a picture"))
    }

    fn take_picture(&mut self) -> Result<bool> {
        match self.ctx.picture() {
            Ok(Some(p)) => {
                self.emit(p)?;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(code) => {
                let (id, offset) = self.ctx.error_source();
                let offset = self.pending.remove(&id).map_or(offset, |m| m.offset);
                let e = self.decode_error(code, offset);
                if matches!(e, Error::Backend { .. }) {
                    return Err(e);
                }
                self.note(e);
                Ok(true)
            }
        }
    }

    /// Turns a picture into a frame, in display order, and notes the units before it
    /// whose picture never came.
    fn emit(&mut self, p: Picture) -> Result<()> {
        let id = p.timestamp();
        let lost: Vec<i64> = self.pending.range(..id).map(|(&k, _)| k).collect();
        for k in lost {
            if let Some(m) = self.pending.remove(&k) {
                self.note(Error::invalid_bitstream(m.offset, "rav1d: temporal unit showed no picture"));
            }
        }
        let meta = self.pending.remove(&id);
        let frame = self.frame_of(&p, meta)?;
        self.ready.push_back(frame);
        Ok(())
    }

    fn frame_of(&self, p: &Picture, meta: Option<UnitMeta>) -> Result<Frame> {
        let (width, height) = p.size();
        let depth = p.bit_depth();
        let color = color_of(p);
        let (format, data) = if matches!(self.output, Output::Metadata) || meta.is_some_and(|m| !m.pixels) {
            (planar::metadata_format(depth), FrameData::None)
        } else {
            pixels(p, self.output, &color)?
        };
        Ok(Frame {
            format,
            width,
            height,
            pts: meta.and_then(|m| m.pts),
            keyframe: meta.map_or_else(|| p.is_key(), |m| m.keyframe),
            color,
            data,
        })
    }
}

/// The colour description of the picture's sequence header.
fn color_of(p: &Picture) -> ColorInfo {
    let Some(c) = p.color() else { return ColorInfo::default() };
    ColorInfo {
        primaries: ColorPrimaries(c.primaries),
        transfer: TransferCharacteristics(c.transfer),
        matrix: MatrixCoefficients(c.matrix),
        range: if c.full_range { ColorRange::Full } else { ColorRange::Limited },
        // dav1d: 1 vertical (H.273 type 0, "left"), 2 co-located (type 2, "top left").
        chroma_location: match c.chroma_position {
            1 => ChromaLocation::from_h273(0),
            2 => ChromaLocation::from_h273(2),
            _ => ChromaLocation::Unspecified,
        },
    }
}

/// The picture's pixels in the format `output` asks for.
fn pixels(p: &Picture, output: Output, color: &ColorInfo) -> Result<(PixelFormat, FrameData)> {
    let (w, h) = p.size();
    let depth = p.bit_depth();
    let layout = match depth {
        8 => Layout::I420,
        10 => Layout::I420P10,
        d => {
            return Err(Error::unsupported(
                format!("{d}-bit AV1 with rav1d"),
                "rav1d output is 8- and 10-bit 4:2:0 (and 4:0:0)",
            ));
        }
    };
    let chroma = p.layout();
    if matches!(chroma, ChromaLayout::I422 | ChromaLayout::I444) {
        return Err(Error::unsupported(
            format!("{chroma:?} AV1 with rav1d"),
            "rav1d output is 8- and 10-bit 4:2:0 (and 4:0:0)",
        ));
    }
    let bps = layout.bytes_per_sample();
    let (cw, ch) = ((w as usize).div_ceil(2), (h as usize).div_ceil(2));
    let missing = || Error::backend("rav1d", "picture", "a decoded plane is missing or smaller than its picture");
    let (luma, luma_stride) = p.plane(0, h as usize, w as usize * bps).ok_or_else(missing)?;
    // 4:0:0: mid-grey chroma, as a conversion of a grey picture to 4:2:0 gives.
    let grey: Vec<u8>;
    let chroma_planes: [(&[u8], usize); 2] = if chroma == ChromaLayout::I400 {
        let mid = 1u16 << (depth - 1);
        grey = if bps == 2 { mid.to_le_bytes().repeat(cw * ch) } else { vec![mid as u8; cw * ch] };
        [(&grey, cw * bps), (&grey, cw * bps)]
    } else {
        [p.plane(1, ch, cw * bps).ok_or_else(missing)?, p.plane(2, ch, cw * bps).ok_or_else(missing)?]
    };
    let planes = vec![
        PlaneRef::new(luma, luma_stride),
        PlaneRef::new(chroma_planes[0].0, chroma_planes[0].1),
        PlaneRef::new(chroma_planes[1].0, chroma_planes[1].1),
    ];
    planar::to_output(
        &Source { layout, planes, width: w, height: h },
        output,
        color,
        software_threads::conversion_spread(),
        "rav1d",
    )
}

impl DecoderBackend for Rav1dDecoder {
    fn engine(&self) -> Engine {
        Engine::Rav1d
    }

    fn threads(&self) -> u32 {
        // dav1d's own worker threads, as the session opened with them.
        self.settings.threads.max(1)
    }

    fn describe(&self) -> String {
        format!("{}{}", super::describe(), self.settings_note())
    }

    fn decode(&mut self, au: &AccessUnit) -> Result<()> {
        self.decode_unit(au, true)
    }

    fn decode_unshown(&mut self, au: &AccessUnit) -> Result<()> {
        self.decode_unit(au, false)
    }

    fn decode_headers_only(&mut self, au: &AccessUnit) -> Result<()> {
        // rav1d decodes every frame it is given; what comes out is dropped.
        self.decode_unit(au, false)
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        Ok(self.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        // With no more data, each call waits for the pictures in flight, then says none.
        for _ in 0..=self.pending.len() + MAX_ROUNDS {
            if !self.take_picture()? {
                break;
            }
        }
        for (_, m) in std::mem::take(&mut self.pending) {
            self.note(Error::invalid_bitstream(m.offset, "rav1d: temporal unit showed no picture"));
        }
        // The next stream starts clean: no sequence header or references of this one.
        self.ctx.reset();
        Ok(self.ready.drain(..).collect())
    }

    fn take_stream_error(&mut self) -> Option<Error> {
        self.damage.take()
    }
}
