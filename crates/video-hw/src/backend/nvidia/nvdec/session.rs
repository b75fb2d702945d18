//! The NVDEC decode session: NVIDIA's parser (`cuvidCreateVideoParser`) fed one whole
//! access unit per packet (`CUVID_PKT_ENDOFPICTURE`), and the `DecoderBackend` the public
//! `Decoder` drives. The state the parser's three callbacks work on, and the callbacks, are
//! `parser_state.rs`.
//!
//! Why NVIDIA's parser rather than our own slice-level feeding of `cuvidDecodePicture`:
//! the picture parameters NVDEC needs (reference lists, DPB state, weighted prediction
//! tables, scaling lists for every codec) are exactly what that parser computes; our own
//! assembler already finds access-unit boundaries, so the parser gets whole pictures and
//! never waits for the next start code, which keeps latency at one access unit.

use std::collections::VecDeque;
use std::ptr;

use super::host_copy::HostCopies;
use super::output::{CopyOut, Crop};
use super::parser_state::{State, check_format, decode_callback, display_callback, sequence_callback};
use crate::backend::DecoderBackend;
use crate::backend::nvidia::call_times;
use crate::backend::nvidia::cuda::{Context, CudaDriver, check_cuvid};
use crate::backend::nvidia::gpu_caps::{cuvid_codec, decode_caps_of};
use crate::backend::nvidia::loader::CuvidApi;
use crate::backend::nvidia::sys::cuvid::*;
use crate::bitstream::access_unit::AccessUnit;
use crate::bitstream::h264::RecoveryStart;
use crate::codec::ColorInfo;
use crate::config::{DecoderConfig, Output};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::frame::Frame;

/// Pictures the parser holds back before display when the caller did not ask for low
/// latency: the copy-out of picture N then maps a surface decoded long ago instead of
/// waiting for the hardware, so decode and copy-out overlap (NVIDIA suggests 2..4).
const DEFAULT_DISPLAY_DELAY: u32 = 4;
/// The NVDEC backend of a `Decoder`.
pub(crate) struct NvdecDecoder {
    cuvid: &'static CuvidApi,
    ctx: Context,
    parser: CUvideoparser,
    /// Owned; freed in `Drop` after the parser is destroyed.
    state: *mut State,
    next_ts: i64,
    /// H.264: which pictures the reference decoder shows (reset at each flush).
    start: Option<RecoveryStart>,
    description: String,
    display_delay: u32,
    device_index: u32,
}

// SAFETY: the parser handle and the state pointer are owned exclusively by this value and
// used only through `&mut self`; the driver allows using a parser from any thread.
unsafe impl Send for NvdecDecoder {}

impl NvdecDecoder {
    /// Parses one access unit; `decode` false leaves its picture undecoded and unshown,
    /// `pixels` false decodes it but displays it without pixels.
    fn feed(&mut self, au: &AccessUnit, decode: bool, pixels: bool) -> Result<()> {
        if au.data.is_empty() {
            return Ok(());
        }
        if self.parser.is_null() {
            self.create_parser()?;
        }
        let ts = self.next_ts;
        self.next_ts += 1;
        let keyframe = au.is_keyframe();
        let au_crop = au.stream.as_deref().map(|s| {
            let d = s.dimensions;
            Crop { left: d.crop.left, top: d.crop.top, width: d.width(), height: d.height() }
        });
        // H.264: which pictures the reference decoder shows, as the other engines do (the
        // NVIDIA parser shows a recovery point's leading pictures, which reference a GOP
        // the stream does not have).
        let show = match (&mut self.start, au.picture) {
            (Some(start), Some(p)) => start.shows_picture(&p),
            _ => true,
        };
        let state = self.state();
        state.current = (au.pts, keyframe, show, decode, pixels);
        state.au_crop = au_crop;
        let mut packet = CUVIDSOURCEDATAPACKET {
            flags: (CUVID_PKT_ENDOFPICTURE | CUVID_PKT_TIMESTAMP).into(),
            payload_size: au.data.len() as _,
            payload: au.data.as_ptr(),
            timestamp: ts,
        };
        match self.parse(&mut packet) {
            Err(Error::InvalidBitstream { reason, .. }) => Err(Error::invalid_bitstream(au.offset, reason)),
            Err(Error::Backend { engine, code, message }) => Err(Error::Backend {
                engine,
                code,
                message: format!("{message} (access unit at byte {} with {} NAL units)", au.offset, au.nal_count),
            }),
            other => other,
        }
    }

    /// Opens a session on `config.device_index` for `config.codec`.
    pub fn open(config: &DecoderConfig) -> Result<NvdecDecoder> {
        let driver = CudaDriver::get()?;
        let count = driver.device_count()?;
        if config.device_index >= count {
            return Err(Error::unsupported(
                format!("nvdec on GPU {}", config.device_index),
                format!("this machine has {count} GPU(s)"),
            ));
        }
        let device = driver.device(config.device_index)?;
        let name = device.name()?;
        // 8-bit 4:2:0 stands for the codec (every NVDEC that decodes 10-bit decodes 8-bit);
        // the stream's own format is checked at its first sequence header.
        let caps = decode_caps_of(device, config.codec, 8)?;
        if !caps.supported {
            return Err(Error::unsupported(
                format!("nvdec {}", config.codec),
                format!("GPU {} ({name}) NVDEC cannot decode {}", config.device_index, config.codec),
            ));
        }
        // A stream known before its first picture is checked now, so that the registry
        // can pick another engine instead of this session failing at the first sequence.
        if let Some(format) = config.stream {
            check_format(device, config.device_index, &name, config.codec, format)?;
        }
        let cuvid = CuvidApi::get()?;
        // One shared (primary) context per GPU. A context per session
        // (`VIDEO_HW_NVDEC_CONTEXT=own`, for measurements: scripts/nvdec-ablation.sh) was
        // measured at 0.71x the throughput with 7 sessions and 0.57x with 14, and adds
        // ~100 ms of creation to every open (bench/results/nvdec-ablation.md).
        let ctx = match crate::env::settings().nvdec_context {
            crate::env::NvdecContext::Own => device.own_context()?,
            crate::env::NvdecContext::Shared => device.primary_context()?,
        };
        let copy = call_times::SESSION_SETUP.time(|| CopyOut::new(&ctx, config.device_index))?;
        let display_delay =
            if config.low_latency { 0 } else { config.max_display_delay.unwrap_or(DEFAULT_DISPLAY_DELAY).min(8) };
        let state = Box::new(State {
            ctx: ctx.clone(),
            device_index: config.device_index,
            device_name: name.clone(),
            codec: config.codec,
            output: config.output,
            decoder: None,
            generation: 0,
            retired: Vec::new(),
            pictures: vec![None; 64],
            au_crop: None,
            crop: Crop { left: 0, top: 0, width: 0, height: 0 },
            bit_depth: 8,
            color: ColorInfo::default(),
            host: HostCopies::new(&ctx),
            copy,
            ready: VecDeque::new(),
            in_flight: VecDeque::new(),
            current: (None, false, true, true, true),
            error: None,
            damaged: 0,
            display_delay,
            poisoned: false,
            decoding: None,
            engines: caps.num_engines,
            start_at_once: config.start_at_once,
        });
        let mut dec = NvdecDecoder {
            cuvid,
            ctx,
            parser: ptr::null_mut(),
            state: Box::into_raw(state),
            next_ts: 0,
            start: (config.codec == crate::Codec::H264).then(RecoveryStart::default),
            description: format!("nvdec (GPU {}: {name})", config.device_index),
            display_delay,
            device_index: config.device_index,
        };
        super::session_counted(config.device_index);
        dec.create_parser()?;
        Ok(dec)
    }

    fn create_parser(&mut self) -> Result<()> {
        // SAFETY: no parser call is running; the state is ours.
        let codec = unsafe { &*self.state }.codec;
        let mut params = CUVIDPARSERPARAMS {
            CodecType: cuvid_codec(codec),
            ulMaxNumDecodeSurfaces: 1,
            ulClockRate: 0,
            // Decode even damaged pictures: NVDEC conceals, and the stream recovers at
            // the next random access point instead of stalling.
            ulErrorThreshold: 100,
            ulMaxDisplayDelay: self.display_delay,
            pUserData: self.state.cast(),
            pfnSequenceCallback: Some(sequence_callback),
            pfnDecodePicture: Some(decode_callback),
            pfnDisplayPicture: Some(display_callback),
            ..CUVIDPARSERPARAMS::default()
        };
        let mut parser: CUvideoparser = ptr::null_mut();
        // SAFETY: `params` is fully initialised; the callbacks match the C signatures;
        // the user data outlives the parser (freed only after it is destroyed).
        let r =
            call_times::CREATE_PARSER.time(|| unsafe { (self.cuvid.cuvidCreateVideoParser)(&mut parser, &mut params) });
        check_cuvid(r, "cuvidCreateVideoParser")?;
        self.parser = parser;
        Ok(())
    }

    fn destroy_parser(&mut self) {
        if self.parser.is_null() {
            return;
        }
        // SAFETY: the parser is live and destroyed once; no parse call is running.
        let r = call_times::DESTROY_PARSER.time(|| unsafe { (self.cuvid.cuvidDestroyVideoParser)(self.parser) });
        if let Err(e) = check_cuvid(r, "cuvidDestroyVideoParser") {
            tracing::warn!("{e}");
        }
        self.parser = ptr::null_mut();
    }

    fn state(&mut self) -> &mut State {
        // SAFETY: the state is owned by `self` and no parser call is running now (the
        // only other user), so this is the only reference.
        unsafe { &mut *self.state }
    }

    /// Feeds one packet to the parser (callbacks run inside) and surfaces any error a
    /// callback raised.
    fn parse(&mut self, packet: &mut CUVIDSOURCEDATAPACKET) -> Result<()> {
        let ctx = self.ctx.clone();
        let current = ctx.push()?;
        // SAFETY: the parser is live; `packet` and its payload are valid for the call;
        // callbacks reach the state through the user-data pointer only during the call.
        let r = call_times::PARSE.time(|| unsafe { (self.cuvid.cuvidParseVideoData)(self.parser, packet) });
        drop(current);
        if let Some(e) = self.state().error.take() {
            return Err(e);
        }
        if r != crate::backend::nvidia::sys::cuda::CUDA_SUCCESS {
            self.state().poisoned = true;
        }
        check_cuvid(r, "cuvidParseVideoData").map_err(|e| match e {
            // The parser rejects malformed data with an error code: that is the
            // stream's fault, not the device's.
            Error::Backend { code, message, .. } => {
                Error::invalid_bitstream(0, format!("NVDEC parser rejected the data ({code}: {message})"))
            }
            other => other,
        })
    }
}

impl DecoderBackend for NvdecDecoder {
    fn engine(&self) -> Engine {
        Engine::Nvdec
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn decode(&mut self, au: &AccessUnit) -> Result<()> {
        self.feed(au, true, true)
    }

    fn decode_unshown(&mut self, au: &AccessUnit) -> Result<()> {
        self.feed(au, true, false)
    }

    fn decode_headers_only(&mut self, au: &AccessUnit) -> Result<()> {
        self.feed(au, false, false)
    }

    fn concealed(&self) -> u64 {
        // SAFETY: no parser call runs while `self` is borrowed (they need `&mut self`),
        // so nothing writes the state now.
        unsafe { &*self.state }.damaged
    }

    fn set_output(&mut self, output: Output, bounded_by_caller: bool) -> Result<()> {
        // Host and CUDA frames come from the same decoder object (the surface format
        // follows the stream's bit depth, not the output): only the copy-out of the
        // pictures displayed from now on changes. Copies already running finish as they
        // were queued.
        let state = self.state();
        state.output = output;
        state.copy.set_bounded_by_caller(bounded_by_caller);
        Ok(())
    }

    fn try_reap(&mut self) -> Result<Option<Frame>> {
        let state = self.state();
        if state.ready.is_empty() {
            state.harvest(false)?;
        }
        Ok(state.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<Frame>> {
        if !self.parser.is_null() {
            let mut packet =
                CUVIDSOURCEDATAPACKET { flags: CUVID_PKT_ENDOFSTREAM.into(), ..CUVIDSOURCEDATAPACKET::default() };
            let r = self.parse(&mut packet);
            // A fresh parser for the next stream; the decoder object is kept and reused
            // when the next sequence has the same shape.
            self.destroy_parser();
            r?;
        }
        if let Some(start) = &mut self.start {
            *start = RecoveryStart::default();
        }
        let state = self.state();
        state.harvest(true)?;
        // The next stream, if any, is a new start (it may wait at the creation barrier).
        state.decoding = None;
        state.retired.clear();
        state.pictures.iter_mut().for_each(|p| *p = None);
        Ok(state.ready.drain(..).collect())
    }
}

impl Drop for NvdecDecoder {
    fn drop(&mut self) {
        super::session_closed(self.device_index);
        call_times::CLOSE.time(|| {
            self.destroy_parser();
            // SAFETY: the pointer came from `Box::into_raw` in `open`, the parser that used it
            // is destroyed, and it is freed exactly once.
            let mut state = unsafe { Box::from_raw(self.state) };
            // Not decoding any more, whenever the closer gets to the rest.
            state.decoding = None;
            // The decoder object, if the session ended cleanly, is parked now, so a session
            // opened right after finds it.
            state.park_if_clean();
            // Decoder, stream, event and frames are destroyed on the closer thread: the
            // caller does not wait 25-230 ms for cuvidDestroyDecoder.
            super::background_close::close(state);
        });
    }
}
