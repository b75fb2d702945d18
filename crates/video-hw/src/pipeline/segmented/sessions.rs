//! How many sessions a [`SegmentedDecode`](super::SegmentedDecode) should run, from what
//! was measured (docs/nvdec-many-streams.md).

use crate::codec::Codec;
use crate::engine::Engine;

use super::MAX_SESSIONS;

/// Sessions per NVDEC engine that decode fastest, measured on an H200 (9cfede2, with CUDA
/// frames lent in the decoder's output surfaces): one, for every codec and size. One stream
/// over 7 sessions against 14: H.264 1080p 2,012-2,369 fps against 1,763-1,889, H.264 2160p
/// 426-506 against 277-380, HEVC 2160p 479-484 against 486-490; 7 streams a session each
/// against 14 sessions over them: H.264 1080p 4,301-4,331 against 3,978-4,018, H.264 2160p
/// 981-985 against 845-865, HEVC 2160p 1,261-1,272 against 1,061-1,098. (Before lending, a
/// second session per engine filled the gaps its copies left: H.264 2160p +27 %.)
fn sessions_per_nvdec_engine(_codec: Codec, _width: u32, _height: u32) -> usize {
    1
}

/// The sessions to give a [`SegmentedDecode`](super::SegmentedDecode) of `codec` streams
/// of `width` x `height` whose sessions run on `engine`, on GPU `device_index` for NVDEC:
/// one per NVDEC engine of that GPU (see `sessions_per_nvdec_engine`); for OpenH264,
/// whose session decodes on one thread, one per CPU thread; for FFmpeg's software decoders,
/// which thread each session over up to 16 CPU threads, one per 16; 4 for other hardware
/// engines and when the GPU's engines cannot be counted. Always within `1..=MAX_SESSIONS`.
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
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let nvdec_engines =
        if engine == Engine::Nvdec { crate::backend::nvidia::nvdec::engines_on(device_index, codec) } else { 0 };
    sessions_for(engine, nvdec_engines, cpus, codec, width, height)
}

/// CPU threads an FFmpeg software decoder of this crate uses at most (frame threading with
/// libavcodec's automatic count, which stops at 16).
const FFMPEG_THREADS_PER_SESSION: usize = 16;

/// [`recommended_sessions`] with the GPU's engine count and the CPU count given.
fn sessions_for(engine: Engine, nvdec_engines: u8, cpus: usize, codec: Codec, width: u32, height: u32) -> usize {
    let n = match engine {
        Engine::Nvdec if nvdec_engines > 0 => {
            usize::from(nvdec_engines) * sessions_per_nvdec_engine(codec, width, height)
        }
        Engine::Nvdec => 4,
        Engine::OpenH264 => cpus,
        Engine::Ffmpeg => cpus / FFMPEG_THREADS_PER_SESSION.min(cpus.max(1)),
        _ => 4,
    };
    n.clamp(1, MAX_SESSIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvdec_gets_one_session_per_engine() {
        assert_eq!(sessions_for(Engine::Nvdec, 7, 2, Codec::Hevc, 1920, 1080), 7);
        assert_eq!(sessions_for(Engine::Nvdec, 7, 2, Codec::Hevc, 1280, 720), 7);
        assert_eq!(sessions_for(Engine::Nvdec, 7, 2, Codec::Hevc, 3840, 2160), 7);
        assert_eq!(sessions_for(Engine::Nvdec, 7, 2, Codec::H264, 1920, 1080), 7);
        assert_eq!(sessions_for(Engine::Nvdec, 7, 2, Codec::H264, 3840, 2160), 7);
        assert_eq!(sessions_for(Engine::Nvdec, 1, 64, Codec::H264, 3840, 2160), 1);
    }

    #[test]
    fn uncounted_engines_get_four_and_software_one_per_cpu_within_bounds() {
        assert_eq!(sessions_for(Engine::Nvdec, 0, 16, Codec::H264, 1920, 1080), 4);
        assert_eq!(sessions_for(Engine::OpenH264, 0, 2, Codec::H264, 1920, 1080), 2);
        assert_eq!(sessions_for(Engine::OpenH264, 0, 0, Codec::H264, 1920, 1080), 1);
        assert_eq!(sessions_for(Engine::OpenH264, 0, 500, Codec::H264, 1920, 1080), MAX_SESSIONS);
        assert_eq!(sessions_for(Engine::Nvdec, 200, 2, Codec::H264, 3840, 2160), MAX_SESSIONS);
    }

    #[test]
    fn ffmpeg_sessions_leave_each_its_threads() {
        assert_eq!(sessions_for(Engine::Ffmpeg, 0, 2, Codec::H264, 1920, 1080), 1);
        assert_eq!(sessions_for(Engine::Ffmpeg, 0, 16, Codec::H264, 1920, 1080), 1);
        assert_eq!(sessions_for(Engine::Ffmpeg, 0, 64, Codec::H264, 1920, 1080), 4);
        assert_eq!(sessions_for(Engine::Ffmpeg, 0, 0, Codec::H264, 1920, 1080), 1);
        assert_eq!(sessions_for(Engine::VideoToolbox, 0, 64, Codec::H264, 1920, 1080), 4);
    }
}
