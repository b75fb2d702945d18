//! The one error type of the crate.
//!
//! Every fallible call returns [`Error`]; each variant is a typed cause a caller can
//! match on (retry on [`Error::Backpressure`], fall back on [`Error::Unsupported`],
//! report the byte offset of an [`Error::InvalidBitstream`], …).

use std::fmt;

/// Shorthand for `Result<T, video_hw::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way a video-hw call can fail.
///
/// ```
/// use video_hw::Error;
/// let e = Error::invalid_bitstream(1234, "SPS: pic_width_in_mbs_minus1 too large");
/// assert_eq!(e.to_string(), "invalid bitstream at byte 1234: SPS: pic_width_in_mbs_minus1 too large");
/// assert_eq!(e.exit_code(), 4);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The asked operation cannot be done by this engine or build: `what` names the
    /// feature or setting, `why` the reason (missing library, hardware limit, …).
    #[error("unsupported: {what}: {why}")]
    Unsupported {
        /// The feature, setting or engine that is not available.
        what: String,
        /// Why it is not available.
        why: String,
    },

    /// The caller passed something that makes no sense (a zero size, an odd pixel
    /// format for the codec, a frame of the wrong size, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A configuration option has a value that cannot work (a zero output size, a crop
    /// outside the picture, normalisation asked of 8-bit output, …). Found when the
    /// configuration is checked, before any frame.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option, as the API names it (`transform.crop`, `transform.size`, …).
        option: String,
        /// What is wrong with its value.
        reason: String,
    },

    /// The bitstream is malformed; `offset` is the byte offset in the stream the
    /// session was fed (counted from the first byte ever submitted).
    #[error("invalid bitstream at byte {offset}: {reason}")]
    InvalidBitstream {
        /// Byte offset of the offending syntax element or NAL unit.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },

    /// The session cannot take more input until output is reaped.
    #[error("backpressure: {0}")]
    Backpressure(String),

    /// The device went away (GPU reset, Xid error, driver unloaded).
    #[error("device lost: {0}")]
    DeviceLost(String),

    /// The engine refused another session (consumer GPUs cap NVENC sessions, …).
    #[error("session limit reached: {0}")]
    SessionLimit(String),

    /// The installed driver is older than the API version this build needs.
    #[error("driver too old: requires {required}, found {found}")]
    DriverTooOld {
        /// The version this build needs.
        required: String,
        /// The version found on the machine.
        found: String,
    },

    /// An engine-specific failure with the engine's own status code.
    #[error("{engine} error {code}: {message}")]
    Backend {
        /// The engine that failed (e.g. `nvdec`, `openh264`).
        engine: String,
        /// The engine's status code, by name where it has one (e.g. `CUDA_ERROR_OUT_OF_MEMORY`).
        code: String,
        /// What the call was doing.
        message: String,
    },

    /// Reading or writing a file or stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// A wait ran out of time (every wait on a device has a timeout).
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),

    /// The queue, ring or pipeline was closed (shut down, cancelled, or its other end
    /// went away) while the call waited on it or before it was made.
    #[error("closed: {0}")]
    Closed(String),

    /// A worker thread panicked; the panic was caught and turned into this error (the
    /// process is not aborted and the session behind the worker is gone).
    #[error("panicked: {0}")]
    Panicked(String),
}

impl Error {
    /// Builds [`Error::Unsupported`].
    pub fn unsupported(what: impl fmt::Display, why: impl fmt::Display) -> Self {
        Error::Unsupported { what: what.to_string(), why: why.to_string() }
    }

    /// Builds [`Error::InvalidBitstream`].
    pub fn invalid_bitstream(offset: u64, reason: impl fmt::Display) -> Self {
        Error::InvalidBitstream { offset, reason: reason.to_string() }
    }

    /// Builds [`Error::InvalidInput`].
    pub fn invalid_input(reason: impl fmt::Display) -> Self {
        Error::InvalidInput(reason.to_string())
    }

    /// Builds [`Error::InvalidOption`].
    pub fn invalid_option(option: impl fmt::Display, reason: impl fmt::Display) -> Self {
        Error::InvalidOption { option: option.to_string(), reason: reason.to_string() }
    }

    /// Builds [`Error::Backend`].
    pub fn backend(engine: impl fmt::Display, code: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Backend { engine: engine.to_string(), code: code.to_string(), message: message.to_string() }
    }

    /// The process exit status the `video-hw` CLI uses for this error:
    /// 2 an option value that cannot work, 3 unsupported, 4 invalid input or bitstream,
    /// 1 anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidOption { .. } => 2,
            Error::Unsupported { .. } | Error::DriverTooOld { .. } => 3,
            Error::InvalidInput(_) | Error::InvalidBitstream { .. } => 4,
            _ => 1,
        }
    }

    /// Puts `context` in front of the message, keeping the variant (so a caller can
    /// still match on the cause): `DeviceLost("x")` becomes `DeviceLost("context: x")`.
    ///
    /// ```
    /// use video_hw::Error;
    /// let e = Error::DeviceLost("Xid 79".into()).context("decode pipeline, frame 12");
    /// assert_eq!(e.to_string(), "device lost: decode pipeline, frame 12: Xid 79");
    /// ```
    pub fn context(self, context: impl fmt::Display) -> Self {
        let add = |m: String| format!("{context}: {m}");
        match self {
            Error::Unsupported { what, why } => Error::Unsupported { what: add(what), why },
            Error::InvalidInput(m) => Error::InvalidInput(add(m)),
            Error::InvalidOption { option, reason } => Error::InvalidOption { option, reason: add(reason) },
            Error::InvalidBitstream { offset, reason } => Error::InvalidBitstream { offset, reason: add(reason) },
            Error::Backpressure(m) => Error::Backpressure(add(m)),
            Error::DeviceLost(m) => Error::DeviceLost(add(m)),
            Error::SessionLimit(m) => Error::SessionLimit(add(m)),
            Error::Backend { engine, code, message } => Error::Backend { engine, code, message: add(message) },
            Error::Io(e) => Error::Io(std::io::Error::new(e.kind(), add(e.to_string()))),
            Error::Closed(m) => Error::Closed(add(m)),
            Error::Panicked(m) => Error::Panicked(add(m)),
            other @ (Error::DriverTooOld { .. } | Error::Timeout(_)) => other,
        }
    }

    /// Adds `base` to the offset of an [`Error::InvalidBitstream`], so an error found
    /// inside a NAL unit reports its position in the whole stream. Other errors pass through.
    pub fn at_offset(self, base: u64) -> Self {
        match self {
            Error::InvalidBitstream { offset, reason } => {
                Error::InvalidBitstream { offset: offset.saturating_add(base), reason }
            }
            other => other,
        }
    }
}
