//! The exceptions: one base class, `VideoHwError`, and one subclass per kind of
//! `video_hw::Error`, each carrying the kind (`kind`), the message, and where the library
//! knows them the byte offset of damaged input (`offset`) and the engine's own code.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(_video_hw, VideoHwError, PyException, "Base class of every error video_hw raises.");
create_exception!(_video_hw, UnsupportedError, VideoHwError, "No engine of this build or machine can do it.");
create_exception!(_video_hw, InvalidInputError, VideoHwError, "An argument or setting makes no sense.");
create_exception!(
    _video_hw,
    InvalidBitstreamError,
    VideoHwError,
    "The file or stream is damaged; `offset` is the byte offset of the damage."
);
create_exception!(_video_hw, DeviceLostError, VideoHwError, "The GPU went away (reset, driver unloaded).");
create_exception!(_video_hw, EngineError, VideoHwError, "An engine failed; `engine` and `code` say which and how.");
create_exception!(_video_hw, DecodeTimeoutError, VideoHwError, "A wait on a device ran out of time.");

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("VideoHwError", py.get_type::<VideoHwError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("InvalidBitstreamError", py.get_type::<InvalidBitstreamError>())?;
    m.add("DeviceLostError", py.get_type::<DeviceLostError>())?;
    m.add("EngineError", py.get_type::<EngineError>())?;
    m.add("DecodeTimeoutError", py.get_type::<DecodeTimeoutError>())?;
    Ok(())
}

/// The kind name of an error (`invalid_bitstream`, …), as the exception's `kind`.
fn kind(e: &video_hw::Error) -> &'static str {
    use video_hw::Error as E;
    match e {
        E::Unsupported { .. } => "unsupported",
        E::InvalidInput(_) => "invalid_input",
        E::InvalidOption { .. } => "invalid_option",
        E::InvalidBitstream { .. } => "invalid_bitstream",
        E::Backpressure(_) => "backpressure",
        E::DeviceLost(_) => "device_lost",
        E::SessionLimit(_) => "session_limit",
        E::DriverTooOld { .. } => "driver_too_old",
        E::Backend { .. } => "backend",
        E::Io(_) => "io",
        E::Timeout(_) => "timeout",
        E::Closed(_) => "closed",
        E::Panicked(_) => "panicked",
        _ => "other",
    }
}

/// The Python exception for a library error, with `kind`, `offset`, `engine` and `code`
/// set as attributes (None where they do not apply).
pub fn to_py(e: video_hw::Error) -> PyErr {
    use video_hw::Error as E;
    let message = e.to_string();
    let err = match &e {
        E::Unsupported { .. } | E::DriverTooOld { .. } | E::SessionLimit(_) => UnsupportedError::new_err(message),
        E::InvalidInput(_) | E::InvalidOption { .. } => InvalidInputError::new_err(message),
        E::InvalidBitstream { .. } => InvalidBitstreamError::new_err(message),
        E::DeviceLost(_) => DeviceLostError::new_err(message),
        E::Timeout(_) => DecodeTimeoutError::new_err(message),
        E::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            pyo3::exceptions::PyFileNotFoundError::new_err(message)
        }
        E::Backend { .. } | E::Panicked(_) => EngineError::new_err(message),
        _ => VideoHwError::new_err(message),
    };
    Python::attach(|py| {
        let value = err.value(py);
        let (offset, engine, code) = match &e {
            E::InvalidBitstream { offset, .. } => (Some(*offset), None, None),
            E::Backend { engine, code, .. } => (None, Some(engine.clone()), Some(code.clone())),
            _ => (None, None, None),
        };
        // Attributes on the instance; a failure to set one leaves the error as it is.
        let _ = value.setattr("kind", kind(&e));
        let _ = value.setattr("offset", offset);
        let _ = value.setattr("engine", engine);
        let _ = value.setattr("code", code);
        // The option a configuration error names (`transform.crop`, …).
        let option = if let E::InvalidOption { option, .. } = &e { Some(option.clone()) } else { None };
        let _ = value.setattr("option", option);
    });
    err
}

/// `Result<T, video_hw::Error>` to `PyResult<T>`.
pub trait IntoPy<T> {
    /// The error as a Python exception.
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for video_hw::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
