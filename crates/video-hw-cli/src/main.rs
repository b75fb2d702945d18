//! `video-hw`: probe engines, inspect streams, decode, encode and transcode video.
//!
//! Exit status: 0 ok, 2 usage error, 3 unsupported (no engine can do the job), 4 invalid
//! input or bitstream, 1 anything else. Errors are one line on stderr.

mod cmd_info;
mod cmd_probe;
mod exit;
mod metrics_http;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hardware video decode and encode (NVDEC/NVENC, VideoToolbox, FFmpeg, OpenH264).
#[derive(Parser, Debug)]
#[command(name = "video-hw", version, about, propagate_version = true)]
struct Cli {
    /// Print nothing but errors (no progress, no summary).
    #[arg(long, short, global = true)]
    quiet: bool,

    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "warn", value_name = "LEVEL")]
    log_level: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show every engine x codec x direction and whether it is available here, and why.
    Probe(cmd_probe::ProbeArgs),
    /// Describe a raw H.264/HEVC stream from its headers (fast: no decoding).
    Info(cmd_info::InfoArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    init_logging(&cli.log_level, cli.quiet);
    let result = match &cli.command {
        Command::Probe(args) => cmd_probe::run(args),
        Command::Info(args) => cmd_info::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => exit::report(&e),
    }
}

fn init_logging(level: &str, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if quiet { "error" } else { level };
    let filter = EnvFilter::try_from_env("VIDEO_HW_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
