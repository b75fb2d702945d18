//! The FFmpeg engine: FFmpeg's libavcodec in process, loaded at run time (any of FFmpeg
//! 5.1 to 9.x; see `sys/`), in every build. Where no FFmpeg is found its engines are
//! unavailable, with the reason, and the others run as before.
//!
//! One module serves several registry engines: [`Engine::Ffmpeg`] (software: libavcodec's
//! h264/hevc/av1 decoders, libx264, libx265, libsvtav1 or else libaom-av1), and the
//! hardware families FFmpeg reaches — [`Engine::Qsv`], [`Engine::Vaapi`],
//! [`Engine::VideoToolbox`], [`Engine::Amf`].
//! NVIDIA hardware is served by the native NVDEC/NVENC engines, which come first.
//!
//! - `sys/`: finding and loading the libraries, their entry points and per-major layouts.
//! - `common.rs`: the loaded FFmpeg or why there is none, FFmpeg errors as this crate's.
//! - `audio.rs`: audio decoding (every audio codec of the loaded libavcodec).
//! - `decoder.rs`: decoding (software, and hardware through `hw_device_ctx`).
//! - `decode_hw.rs`: the hardware devices of decoding; `frame_convert.rs`: decoded
//!   pictures to this crate's frames.
//!
//! Shared with the other software engines: `backend/software_threads.rs` (how many
//! threads each session runs, so sessions share the cores), `backend/probe_streams.rs`
//! (the one-frame probe keyframes) and `pixels/planar.rs` (decoded planes to the output
//! format).
//! - `encoder.rs`: encoding; `encoder_options.rs`: which encoder, and the neutral-config →
//!   encoder-options table (its tests in `encoder_options_tests.rs`); `frame_upload.rs`:
//!   host frames into the encoder's format (and VA-API surfaces); `packetizer.rs`:
//!   parameter sets put where the configuration asks; `svt.rs`: SVT-AV1's rate control by
//!   the version loaded; `aom.rs`: libaom's.

mod aom;
pub(crate) mod audio;
pub(crate) mod common;
mod decode_hw;
pub(crate) mod decoder;
pub(crate) mod encoder;
pub(crate) mod encoder_options;
mod encoder_rate;
mod frame_convert;
pub(crate) mod frame_upload;
mod packetizer;
mod svt;
pub(crate) mod sys;

use crate::backend::descriptor::EngineDescriptor;
use crate::codec::Codec;
use crate::engine::{Direction, Engine};
use crate::error::Result;
use crate::records::probe_info::ProbeInfo;

/// Probes `engine` (one of the FFmpeg families) for `codec` in `direction`.
pub(crate) fn probe(engine: Engine, codec: Codec, direction: Direction, device: u32) -> Result<ProbeInfo> {
    match direction {
        Direction::Decode => decoder::probe(engine, codec, device),
        Direction::Encode => encoder::probe(engine, codec, device),
    }
}

/// CPU threads an FFmpeg software decoder of this crate uses at most (frame threading with
/// libavcodec's automatic count, which stops at 16).
const THREADS_PER_SESSION: usize = 16;

/// FFmpeg's software codecs: each session threads over up to 16 CPU threads, so one
/// session per 16 ([`sessions`]). H.264 and HEVC pictures given for their headers only are
/// left out (`skip_frame`), out of the decoded picture buffer too (decoder.rs).
/// Audio through libavcodec: every codec the loaded FFmpeg has a decoder for.
static FFMPEG_AUDIO: crate::backend::descriptor::AudioHooks = crate::backend::descriptor::AudioHooks {
    takes: |p| audio::ffmpeg_has_audio_decoder(p.codec, p.pcm),
    open: crate::backend::audio::open_ffmpeg,
};

pub(crate) static FFMPEG: EngineDescriptor = EngineDescriptor {
    uses_ffmpeg: true,
    decodes_whole_packets: true,
    audio: Some(&FFMPEG_AUDIO),
    skips_headers_only_pictures: true,
    sessions,
    run_sessions,
    ..EngineDescriptor::software(Engine::Ffmpeg)
};

/// Sessions of FFmpeg's software decoders: one per 16 CPU threads, where libavcodec's own
/// frame threads keep a session's cores busy; for AV1, rav1d's four. FFmpeg decodes AV1
/// through libdav1d, whose own threads run one session as rav1d runs one: on a single-tile
/// 1080p stream it kept 2.3 of an H200 machine's 16 cores busy (240 fps,
/// bench/results/gpu/av1-sessions-20261127-01dfa17.txt); four sessions over the stream's
/// GOPs decode it 2x faster (av1-sessions-after-20261127-affc11d.txt there).
fn sessions(ask: &crate::backend::descriptor::SessionsAsk) -> usize {
    if ask.codec == Codec::Av1 {
        return crate::backend::descriptor::four_sessions(ask);
    }
    ask.cpus / THREADS_PER_SESSION.min(ask.cpus.max(1))
}

/// Sessions for the independent runs of one reader call (a sampler's clips): one per CPU
/// thread, each given its share of the cores by the reader. A clip's run is short (75-95
/// packets from its key frame here), and one session of frame threads decoding the runs
/// one after the other keeps the cores busy only part of the time: on the 2-core VM, 8
/// clips x 16 frames of a 10-minute 1080p H.264 file took 1.95-2.01 s (regular) and
/// 2.11-2.21 s (random) on it, against 1.38-1.48 s and 1.78-1.95 s on two sessions of one
/// thread each (`scripts/sampler_passes.py --sessions 2 --threads 1`, first passes, two
/// processes each); the sampler bench: 1.28x / 1.27x faster
/// (bench/results/run-sessions-cpu-20261128-d100752). AV1 keeps the reader's sessions
/// (libdav1d's own threads, as [`sessions`]).
fn run_sessions(ask: &crate::backend::descriptor::SessionsAsk) -> Option<usize> {
    (ask.codec != Codec::Av1).then_some(ask.cpus)
}

/// Intel Quick Sync Video through FFmpeg.
pub(crate) static QSV: EngineDescriptor =
    EngineDescriptor { uses_ffmpeg: true, ..EngineDescriptor::hardware(Engine::Qsv) };

/// VA-API through FFmpeg.
pub(crate) static VAAPI: EngineDescriptor =
    EngineDescriptor { uses_ffmpeg: true, ..EngineDescriptor::hardware(Engine::Vaapi) };

/// AMD AMF through FFmpeg: encode only.
pub(crate) static AMF: EngineDescriptor =
    EngineDescriptor { uses_ffmpeg: true, decodes: false, ..EngineDescriptor::hardware(Engine::Amf) };

/// The loaded FFmpeg for unit tests: `None` (the test then checks nothing) where none is
/// found or `VIDEO_HW_FFMPEG_DIR=none` turns it off, unless `VIDEO_HW_REQUIRE_FFMPEG=1`
/// (CI's runs with FFmpeg set it), which makes a missing FFmpeg a failure.
#[cfg(test)]
pub(crate) fn test_ffmpeg() -> Option<&'static sys::Ffmpeg> {
    match sys::get() {
        Ok(ff) => Some(ff),
        Err(why) if std::env::var("VIDEO_HW_REQUIRE_FFMPEG").is_ok_and(|v| v == "1") => {
            panic!("VIDEO_HW_REQUIRE_FFMPEG=1 but no FFmpeg: {why}")
        }
        Err(why) => {
            eprintln!("note: no FFmpeg here ({why}); this test checks nothing");
            None
        }
    }
}
