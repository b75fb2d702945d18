//! CUDA driver settings of the `video-hw` process, made before anything starts CUDA.
//!
//! The CLI's process uses CUDA only for video: NVDEC and NVENC sessions, their copy-outs
//! and the colour-conversion kernels. The driver gives each context 8 hardware work queues
//! by default (`CUDA_DEVICE_MAX_CONNECTIONS`), and making them is most of the context's
//! set-up; with 2 the context takes ~70 ms instead of 100-150 ms on an H200 (driver 580),
//! so a decode's first frame comes ~40 ms sooner, and 1 and 7 NVDEC streams decode as fast
//! or faster (its raw log is in git history: commit c4c440b added it under bench/results/gpu/).
//! Two queues, not one, so that two CUDA streams of the process (a transcode's decode
//! copy-out and encode upload) still run side by side. A value the user set is kept.

/// The variable the CUDA driver reads when it makes a context.
const MAX_CONNECTIONS: &str = "CUDA_DEVICE_MAX_CONNECTIONS";
/// Hardware work queues per CUDA context for this process, unless the user set some.
const CONNECTIONS: &str = "2";

/// Sets [`MAX_CONNECTIONS`] to [`CONNECTIONS`] unless the environment has it. Call first
/// thing in `main`, while the process has one thread.
pub(crate) fn set_cuda_connections() {
    if std::env::var_os(MAX_CONNECTIONS).is_none() {
        // SAFETY: called at the start of `main`, before any other thread exists and before
        // the CUDA driver is loaded, so nothing reads or writes the environment meanwhile.
        unsafe { std::env::set_var(MAX_CONNECTIONS, CONNECTIONS) };
    }
}

/// SVT-AV1 (the AV1 encoder FFmpeg loads) prints its banner and configuration to stderr
/// at every encoder it opens, `probe` included, unless `SVT_LOG` says otherwise.
const SVT_LOG: &str = "SVT_LOG";

/// Keeps SVT-AV1 to its errors (level 1) unless the user set `SVT_LOG`: every failure
/// reaches the user as a typed error anyway.
pub(crate) fn quiet_svt_av1() {
    if std::env::var_os(SVT_LOG).is_none() {
        // SAFETY: called at the start of `main`, before any other thread exists and before
        // any library that reads the environment is loaded.
        unsafe { std::env::set_var(SVT_LOG, "1") };
    }
}
