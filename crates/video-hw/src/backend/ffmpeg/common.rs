//! What the FFmpeg decoder and encoder share: the loaded FFmpeg (or why there is none, as
//! an [`Error::Unsupported`]), FFmpeg error codes turned into this crate's [`Error`], and
//! the version of the libraries loaded.

use super::sys::{self, Ffmpeg};
use crate::engine::Engine;
use crate::error::Error;

pub(crate) use super::sys::LOG_ENV;
pub(crate) use super::sys::codec::AvError;

/// The process's FFmpeg, loaded on first use; `Err` is [`Error::Unsupported`] naming what
/// `what` needed and why no FFmpeg is there.
pub(crate) fn ffmpeg(what: impl Into<String>) -> Result<&'static Ffmpeg, Error> {
    sys::get().map_err(|why| Error::unsupported(what.into(), why.to_string()))
}

/// An FFmpeg failure while doing `what`, as [`Error::Backend`] with the code's name and
/// FFmpeg's text for it.
pub(crate) fn backend_error(engine: Engine, what: &str, e: AvError) -> Error {
    Error::backend(engine.name(), e.name(), format!("{what}: {e}"))
}

/// An FFmpeg failure while doing `context`: a missing encoder or decoder, or an option this
/// build lacks, is [`Error::Unsupported`] (naming the build); anything else is
/// [`backend_error`].
pub(crate) fn av_error(engine: Engine, context: &str, e: AvError) -> Error {
    if [AvError::ENCODER_NOT_FOUND, AvError::DECODER_NOT_FOUND, AvError::OPTION_NOT_FOUND].contains(&e) {
        let build = sys::get().map(Ffmpeg::libavcodec_version).unwrap_or_default();
        return Error::unsupported(context, format!("{e} (in this FFmpeg build, {build})"));
    }
    backend_error(engine, context, e)
}

/// The same for a raw (negative) FFmpeg return code.
pub(crate) fn backend_error_code(engine: Engine, what: &str, code: i32) -> Error {
    backend_error(engine, what, AvError(code))
}

/// The version numbers of the first shared library in this process whose file name is
/// `stem` followed by `.so.` or by `-` (PyAV's hashed names): `libSvtAv1Enc.so.1.4.1` gives
/// `[1, 4, 1]`, `libaom-e9efed4a.so.3.2.0` `[3, 2, 0]`. `None` where none is loaded, or the
/// platform has no `/proc/self/maps`: the versions are read from the loaded files' names,
/// as FFmpeg's encoder wrappers expose none of their libraries'.
pub(crate) fn loaded_library_version(stem: &str) -> Option<Vec<u32>> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| library_version(l.rsplit('/').next()?, stem))
}

/// The version numbers in the shared library file name `file`, where it is `stem`'s.
fn library_version(file: &str, stem: &str) -> Option<Vec<u32>> {
    let rest = file.strip_prefix(stem)?;
    if !(rest.starts_with(".so.") || rest.starts_with('-')) {
        return None;
    }
    let (_, version) = rest.split_once(".so.")?;
    let numbers: Vec<u32> = version.split('.').map_while(|n| n.parse().ok()).collect();
    (!numbers.is_empty()).then_some(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_library_file_names() {
        let major = |file: &str| library_version(file, "libSvtAv1Enc").map(|v| v[0]);
        assert_eq!(major("libSvtAv1Enc.so.1.4.1"), Some(1));
        assert_eq!(major("libSvtAv1Enc-6a1b5f2e.so.4.1.0"), Some(4));
        assert_eq!(major("libSvtAv1Enc.so.2"), Some(2));
        assert_eq!(major("libavcodec.so.59.37.100"), None);
        assert_eq!(major("libSvtAv1Dec.so.0.9"), None);
        let aom = |file: &str| library_version(file, "libaom");
        assert_eq!(aom("libaom.so.3.6.0"), Some(vec![3, 6, 0]));
        assert_eq!(aom("libaom-e9efed4a.so.3.2.0"), Some(vec![3, 2, 0]));
        assert_eq!(aom("libavcodec.so.59.37.100"), None);
        assert_eq!(aom("libaomdec.so.1.0"), None);
    }

    #[test]
    fn missing_codecs_are_unsupported_and_other_errors_name_their_code() {
        let e = av_error(Engine::Ffmpeg, "avcodec_open2 libx264", AvError::EINVAL);
        let s = e.to_string();
        assert!(s.contains("AVERROR(EINVAL)") && s.contains("avcodec_open2 libx264"), "{s}");
        let e = av_error(Engine::Qsv, "h264_qsv", AvError::ENCODER_NOT_FOUND);
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        let e = backend_error(Engine::Ffmpeg, "decoding", AvError::INVALIDDATA);
        assert!(e.to_string().starts_with("ffmpeg error AVERROR_INVALIDDATA: decoding: "), "{e}");
    }
}
