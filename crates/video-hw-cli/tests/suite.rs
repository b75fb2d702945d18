//! The CLI's integration tests, in one test binary: each `tests/<name>.rs` listed here is a
//! module of it (`cargo test -p video-hw-cli --test suite <name>::` runs one file's tests).
//! One binary instead of one per file, as the library's `tests/suite.rs` says why: fewer
//! links of the library, and both cores kept busy across files. `gpu_cli.rs` is a binary of
//! its own, run by name on a GPU machine.

mod util;

#[path = "cli_audio.rs"]
mod cli_audio;
#[path = "cli_av1_builtin.rs"]
mod cli_av1_builtin;
#[path = "cli_decode.rs"]
mod cli_decode;
#[path = "cli_encode.rs"]
mod cli_encode;
#[path = "cli_faults.rs"]
mod cli_faults;
#[path = "cli_ffmpeg_decode.rs"]
mod cli_ffmpeg_decode;
#[path = "cli_ffmpeg_encode.rs"]
mod cli_ffmpeg_encode;
#[path = "cli_ffmpeg_loading.rs"]
mod cli_ffmpeg_loading;
#[path = "cli_ffmpeg_parity.rs"]
mod cli_ffmpeg_parity;
#[path = "cli_follow.rs"]
mod cli_follow;
#[path = "cli_info.rs"]
mod cli_info;
#[path = "cli_live.rs"]
mod cli_live;
#[path = "cli_live_reconnect.rs"]
mod cli_live_reconnect;
#[path = "cli_media.rs"]
mod cli_media;
#[path = "cli_metrics.rs"]
mod cli_metrics;
#[path = "cli_pix_fmt.rs"]
mod cli_pix_fmt;
#[path = "cli_quality.rs"]
mod cli_quality;
#[path = "cli_rgb_bands.rs"]
mod cli_rgb_bands;
#[path = "cli_rotate.rs"]
mod cli_rotate;
#[path = "cli_signals.rs"]
mod cli_signals;
#[path = "cli_stdin_timeout.rs"]
mod cli_stdin_timeout;
#[path = "cli_transcode.rs"]
mod cli_transcode;
#[path = "cli_transform.rs"]
mod cli_transform;
