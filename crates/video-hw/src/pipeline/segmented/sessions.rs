//! How many sessions a [`SegmentedDecode`](super::SegmentedDecode) should run: what the
//! engine's descriptor recommends (docs/nvdec-many-streams.md has NVDEC's measurements),
//! within `1..=MAX_SESSIONS`.

use crate::backend::descriptor::SessionsAsk;
use crate::codec::Codec;
use crate::engine::Engine;

use super::MAX_SESSIONS;

/// The sessions to give a [`SegmentedDecode`](super::SegmentedDecode) of `codec` streams
/// of `width` x `height` whose sessions run on `engine`, on device `device_index` for a
/// hardware engine, as the engine recommends: NVDEC one per NVDEC engine of that GPU; for
/// OpenH264, whose session decodes on one thread, one per CPU thread; for FFmpeg's software
/// decoders, which thread each session over up to 16 CPU threads, one per 16 (AV1, through
/// libdav1d's own threads, 4 as rav1d); 4 for other engines and when the GPU's engines
/// cannot be counted. Always within `1..=MAX_SESSIONS`.
///
/// ```
/// use video_hw::pipeline::{SegmentedDecode, recommended_sessions};
/// use video_hw::{Codec, DecoderConfig, Engine};
///
/// let n = recommended_sessions(Engine::OpenH264, Codec::H264, 1920, 1080, 0);
/// assert!((1..=64).contains(&n));
/// let decode = SegmentedDecode::new(DecoderConfig::new(Codec::H264)).sessions(n);
/// # let _ = decode;
/// ```
pub fn recommended_sessions(engine: Engine, codec: Codec, width: u32, height: u32, device_index: u32) -> usize {
    sessions_for(engine, &machine_ask(codec, width, height, device_index))
}

/// What a session count is asked for on this machine (its CPU threads).
fn machine_ask(codec: Codec, width: u32, height: u32, device: u32) -> SessionsAsk {
    SessionsAsk { codec, width, height, device, cpus: crate::backend::software_threads::cores() }
}

/// [`recommended_sessions`] with the machine's facts given.
fn sessions_for(engine: Engine, ask: &SessionsAsk) -> usize {
    (crate::registry::descriptor(engine).sessions)(ask).clamp(1, MAX_SESSIONS)
}

/// The sessions of their own that the independent runs of one
/// [`FrameReader`](crate::reader::FrameReader) call (a sampler's clips, frames from several
/// GOPs) should decode on ([`FrameReader::run_sessions`](crate::reader::FrameReader::run_sessions)),
/// as `engine` recommends for `codec` streams of `width` x `height`: FFmpeg's software
/// decoders one per CPU thread (a session of frame threads decoding short runs one after
/// the other leaves cores idle), except AV1; `None` where the runs are best on the reader's
/// own [`recommended_sessions`] (NVDEC, OpenH264, the AV1 engines, the hardware engines).
/// Within `1..=MAX_SESSIONS` where given.
pub fn recommended_run_sessions(
    engine: Engine,
    codec: Codec,
    width: u32,
    height: u32,
    device_index: u32,
) -> Option<usize> {
    run_sessions_for(engine, &machine_ask(codec, width, height, device_index))
}

/// [`recommended_run_sessions`] with the machine's facts given.
fn run_sessions_for(engine: Engine, ask: &SessionsAsk) -> Option<usize> {
    (crate::registry::descriptor(engine).run_sessions)(ask).map(|n| n.clamp(1, MAX_SESSIONS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(cpus: usize) -> SessionsAsk {
        SessionsAsk { codec: Codec::H264, width: 1920, height: 1080, device: 0, cpus }
    }

    #[test]
    fn software_engines_get_one_per_cpu_thread_within_bounds() {
        assert_eq!(sessions_for(Engine::OpenH264, &ask(2)), 2);
        assert_eq!(sessions_for(Engine::OpenH264, &ask(0)), 1);
        assert_eq!(sessions_for(Engine::OpenH264, &ask(500)), MAX_SESSIONS);
    }

    #[test]
    fn ffmpeg_sessions_leave_each_its_threads() {
        assert_eq!(sessions_for(Engine::Ffmpeg, &ask(2)), 1);
        assert_eq!(sessions_for(Engine::Ffmpeg, &ask(16)), 1);
        assert_eq!(sessions_for(Engine::Ffmpeg, &ask(64)), 4);
        assert_eq!(sessions_for(Engine::Ffmpeg, &ask(0)), 1);
        assert_eq!(sessions_for(Engine::VideoToolbox, &ask(64)), 4);
    }

    #[test]
    fn ffmpeg_runs_get_sessions_of_their_own_except_av1() {
        assert_eq!(run_sessions_for(Engine::Ffmpeg, &ask(2)), Some(2));
        assert_eq!(run_sessions_for(Engine::Ffmpeg, &ask(16)), Some(16));
        assert_eq!(run_sessions_for(Engine::Ffmpeg, &ask(0)), Some(1));
        assert_eq!(run_sessions_for(Engine::Ffmpeg, &ask(500)), Some(MAX_SESSIONS));
        assert_eq!(run_sessions_for(Engine::Ffmpeg, &SessionsAsk { codec: Codec::Av1, ..ask(16) }), None);
        for engine in [Engine::OpenH264, Engine::Nvdec, Engine::Rav1d, Engine::VideoToolbox] {
            assert_eq!(run_sessions_for(engine, &ask(16)), None, "{engine:?}");
        }
    }

    #[test]
    fn av1_through_ffmpeg_runs_as_many_sessions_as_rav1d() {
        for cpus in [2, 16, 64] {
            let av1 = SessionsAsk { codec: Codec::Av1, ..ask(cpus) };
            assert_eq!(sessions_for(Engine::Ffmpeg, &av1), sessions_for(Engine::Rav1d, &av1), "{cpus} CPU threads");
            assert_eq!(sessions_for(Engine::Ffmpeg, &av1), 4);
        }
    }
}
