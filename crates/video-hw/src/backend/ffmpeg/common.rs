//! What the FFmpeg decoder and encoder share: one-time initialisation (with FFmpeg's
//! own logging), FFmpeg error codes turned into this crate's [`Error`], and the version
//! of the linked libraries.

use std::ffi::CStr;
use std::sync::Once;

use ffmpeg_next as av;
use ffmpeg_next::ffi;

use crate::engine::Engine;
use crate::error::Error;

/// The environment variable that sets FFmpeg's own log level (`quiet`, `error`,
/// `warning`, `info`, `verbose`, `debug`, `trace`); FFmpeg then logs to stderr itself.
pub(crate) const LOG_ENV: &str = "VIDEO_HW_FFMPEG_LOG";

/// Initialises FFmpeg once per process. FFmpeg's own stderr logging is silenced unless
/// [`LOG_ENV`] asks for a level: a library must not write to stderr, and every failure
/// reaches the caller as a typed error anyway.
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // `init` registers devices on old FFmpeg versions and cannot fail on 5.x.
        let _ = av::init();
        let level = std::env::var(LOG_ENV).ok().and_then(|v| parse_level(&v)).unwrap_or(av::util::log::Level::Quiet);
        av::util::log::set_level(level);
    });
}

/// FFmpeg's log level by its `-loglevel` name.
fn parse_level(name: &str) -> Option<av::util::log::Level> {
    use av::util::log::Level;
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "quiet" => Level::Quiet,
        "panic" => Level::Panic,
        "fatal" => Level::Fatal,
        "error" => Level::Error,
        "warning" => Level::Warning,
        "info" => Level::Info,
        "verbose" => Level::Verbose,
        "debug" => Level::Debug,
        "trace" => Level::Trace,
        _ => return None,
    })
}

/// The symbolic name of an FFmpeg error code: `AVERROR_INVALIDDATA`, `AVERROR(ENOMEM)`, …
pub(crate) fn error_name(e: av::Error) -> String {
    use av::Error as E;
    let fixed = match e {
        E::Bug | E::Bug2 => "AVERROR_BUG",
        E::Unknown => "AVERROR_UNKNOWN",
        E::Experimental => "AVERROR_EXPERIMENTAL",
        E::BufferTooSmall => "AVERROR_BUFFER_TOO_SMALL",
        E::Eof => "AVERROR_EOF",
        E::Exit => "AVERROR_EXIT",
        E::External => "AVERROR_EXTERNAL",
        E::InvalidData => "AVERROR_INVALIDDATA",
        E::PatchWelcome => "AVERROR_PATCHWELCOME",
        E::InputChanged => "AVERROR_INPUT_CHANGED",
        E::OutputChanged => "AVERROR_OUTPUT_CHANGED",
        E::DecoderNotFound => "AVERROR_DECODER_NOT_FOUND",
        E::EncoderNotFound => "AVERROR_ENCODER_NOT_FOUND",
        E::OptionNotFound => "AVERROR_OPTION_NOT_FOUND",
        E::Other { errno } => {
            let name = match errno {
                av::error::EAGAIN => "EAGAIN",
                av::error::ENOMEM => "ENOMEM",
                av::error::EINVAL => "EINVAL",
                av::error::ENOSYS => "ENOSYS",
                av::error::ENOENT => "ENOENT",
                av::error::ENODEV => "ENODEV",
                av::error::EIO => "EIO",
                av::error::EPERM => "EPERM",
                av::error::EACCES => "EACCES",
                av::error::ERANGE => "ERANGE",
                av::error::ENOTSUP => "ENOTSUP",
                other => return format!("AVERROR({other})"),
            };
            return format!("AVERROR({name})");
        }
        other => return format!("AVERROR({})", i32::from(other)),
    };
    fixed.to_string()
}

/// An FFmpeg failure while doing `what`, as [`Error::Backend`] with the code's name and
/// FFmpeg's text for it.
pub(crate) fn backend_error(engine: Engine, what: &str, e: av::Error) -> Error {
    // The error texts are filled in by the initialisation.
    init();
    Error::backend(engine.name(), error_name(e), format!("{what}: {e}"))
}

/// An FFmpeg failure while doing `context`: a missing encoder or decoder, or an option this
/// build lacks, is [`Error::Unsupported`] (naming the build); anything else is
/// [`backend_error`].
pub(crate) fn av_error(engine: Engine, context: &str, e: av::Error) -> Error {
    match e {
        av::Error::EncoderNotFound | av::Error::DecoderNotFound | av::Error::OptionNotFound => {
            Error::unsupported(context, format!("{e} (in this FFmpeg build, {})", libavcodec_version()))
        }
        _ => backend_error(engine, context, e),
    }
}

/// The same for a raw (negative) FFmpeg return code.
pub(crate) fn backend_error_code(engine: Engine, what: &str, code: i32) -> Error {
    backend_error(engine, what, av::Error::from(code))
}

/// "libavcodec 59.37.100": the codec library this process runs with.
pub(crate) fn libavcodec_version() -> String {
    let v = av::codec::version();
    format!("libavcodec {}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// "FFmpeg 5.1.6-0+deb12u1, libavcodec 59.37.100": the release and the codec library
/// this process runs with (not the headers it was built against).
pub(crate) fn version_string() -> String {
    // SAFETY: av_version_info returns a pointer to a static NUL-terminated string.
    let release = unsafe { CStr::from_ptr(ffi::av_version_info()) }.to_string_lossy().into_owned();
    format!("FFmpeg {release}, {}", libavcodec_version())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_are_symbolic() {
        assert_eq!(error_name(av::Error::InvalidData), "AVERROR_INVALIDDATA");
        assert_eq!(error_name(av::Error::Other { errno: av::error::ENOMEM }), "AVERROR(ENOMEM)");
        let e = backend_error(Engine::Ffmpeg, "decoding", av::Error::InvalidData);
        assert!(e.to_string().starts_with("ffmpeg error AVERROR_INVALIDDATA: decoding: Invalid data"), "{e}");
    }

    #[test]
    fn missing_codecs_are_unsupported_and_other_errors_name_their_code() {
        let e = av_error(Engine::Ffmpeg, "avcodec_open2 libx264", av::Error::Other { errno: av::error::EINVAL });
        let s = e.to_string();
        assert!(s.contains("AVERROR(EINVAL)") && s.contains("avcodec_open2 libx264"), "{s}");
        let e = av_error(Engine::Qsv, "h264_qsv", av::Error::EncoderNotFound);
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    }

    #[test]
    fn version_names_libavcodec() {
        init();
        let v = version_string();
        assert!(v.starts_with("FFmpeg ") && v.contains("libavcodec "), "{v}");
    }
}
