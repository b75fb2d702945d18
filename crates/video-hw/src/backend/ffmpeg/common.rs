//! What the FFmpeg decoder and encoder share: one-time library set-up, the library
//! version, and turning an `AVERROR` into the crate's [`Error`].

use std::sync::OnceLock;

use ffmpeg_next as ff;

use crate::engine::Engine;
use crate::error::{Error, Result};

/// Initialises FFmpeg once per process: registers the hardware device types and sets
/// libav*'s log level to errors only (libx264 and friends otherwise print their
/// banners and statistics on stderr). `VIDEO_HW_FFMPEG_LOG=info|verbose|debug|warning`
/// keeps more.
pub(crate) fn init() -> Result<()> {
    static INIT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        ff::init().map_err(|e| e.to_string())?;
        let level = match std::env::var("VIDEO_HW_FFMPEG_LOG").as_deref() {
            Ok("quiet") => ff::util::log::Level::Quiet,
            Ok("warning") => ff::util::log::Level::Warning,
            Ok("info") => ff::util::log::Level::Info,
            Ok("verbose") => ff::util::log::Level::Verbose,
            Ok("debug") => ff::util::log::Level::Debug,
            _ => ff::util::log::Level::Error,
        };
        ff::util::log::set_level(level);
        Ok(())
    })
    .clone()
    .map_err(|why| Error::backend(Engine::Ffmpeg, "init", format!("FFmpeg initialisation failed: {why}")))
}

/// "libavcodec 59.37.100": the version of the libavcodec this process runs with.
pub(crate) fn libavcodec_version() -> String {
    let v = ff::codec::version();
    format!("libavcodec {}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// The symbolic name of an FFmpeg error code, e.g. `AVERROR(EINVAL)` or `AVERROR_EOF`.
fn code_name(e: ff::Error) -> String {
    use ff::Error as E;
    match e {
        E::Eof => "AVERROR_EOF".into(),
        E::InvalidData => "AVERROR_INVALIDDATA".into(),
        E::EncoderNotFound => "AVERROR_ENCODER_NOT_FOUND".into(),
        E::DecoderNotFound => "AVERROR_DECODER_NOT_FOUND".into(),
        E::OptionNotFound => "AVERROR_OPTION_NOT_FOUND".into(),
        E::External => "AVERROR_EXTERNAL".into(),
        E::Bug | E::Bug2 => "AVERROR_BUG".into(),
        E::PatchWelcome => "AVERROR_PATCHWELCOME".into(),
        E::Experimental => "AVERROR_EXPERIMENTAL".into(),
        E::Unknown => "AVERROR_UNKNOWN".into(),
        E::Other { errno } => {
            let name = match errno {
                ff::util::error::EINVAL => "EINVAL",
                ff::util::error::ENOMEM => "ENOMEM",
                ff::util::error::EAGAIN => "EAGAIN",
                ff::util::error::ENOSYS => "ENOSYS",
                ff::util::error::ENODEV => "ENODEV",
                ff::util::error::ENOENT => "ENOENT",
                ff::util::error::EIO => "EIO",
                ff::util::error::EPERM => "EPERM",
                ff::util::error::EACCES => "EACCES",
                ff::util::error::ERANGE => "ERANGE",
                ff::util::error::ENOTSUP => "ENOTSUP",
                _ => return format!("AVERROR({errno})"),
            };
            format!("AVERROR({name})")
        }
        other => format!("{other:?}"),
    }
}

/// An FFmpeg error as the crate's [`Error`]: a missing encoder or decoder, or an option
/// this build lacks, is [`Error::Unsupported`]; `ENOMEM` and the rest are
/// [`Error::Backend`] with the code's name, and `context` (what the call was doing) in
/// the message.
pub(crate) fn av_error(engine: Engine, context: &str, e: ff::Error) -> Error {
    match e {
        ff::Error::EncoderNotFound | ff::Error::DecoderNotFound | ff::Error::OptionNotFound => {
            Error::unsupported(context, format!("{e} (in this FFmpeg build, {})", libavcodec_version()))
        }
        _ => Error::backend(engine, code_name(e), format!("{context}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_code() {
        let e = av_error(Engine::Ffmpeg, "avcodec_open2 libx264", ff::Error::Other { errno: ff::util::error::EINVAL });
        let s = e.to_string();
        assert!(s.contains("AVERROR(EINVAL)") && s.contains("avcodec_open2 libx264"), "{s}");
        let e = av_error(Engine::Qsv, "h264_qsv", ff::Error::EncoderNotFound);
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    }

    #[test]
    fn init_is_idempotent_and_version_reads() {
        init().unwrap();
        init().unwrap();
        assert!(libavcodec_version().starts_with("libavcodec "), "{}", libavcodec_version());
    }
}
