//! `video-hw`: probe engines, inspect streams, decode, encode and transcode video.
//!
//! Exit status: 0 ok (also when the reader of stdout closed it), 2 usage error, 3
//! unsupported (no engine can do the job), 4 invalid input or bitstream, 5 an output that
//! cannot be written, 6 out of space, 130/143 stopped by SIGINT/SIGTERM (the output
//! finished), 1 anything else. Errors are one line on stderr (docs/reliability.md).

mod cmd_decode;
mod cmd_decode_audio;
mod cmd_encode;
mod cmd_info;
mod cmd_probe;
mod cmd_transcode;
mod cuda_env;
mod decode_args;
mod decode_loop;
mod decode_select;
mod encoding;
mod exit;
mod fallbacks;
mod fragment_opts;
mod framemd5;
mod frames_in;
mod info_media;
mod input;
mod ivfin;
mod metrics_http;
mod net_in;
mod opts;
mod output;
mod output_fault;
mod progress;
mod signals;
mod stage_table;
mod summary;
mod synthetic;
mod transcode_ahead;
mod transcode_args;
mod transform_opts;
mod y4m;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hardware video decode and encode (NVDEC/NVENC, VideoToolbox, FFmpeg, OpenH264).
#[derive(Parser, Debug)]
#[command(name = "video-hw", version, about, propagate_version = true)]
struct Cli {
    /// Print nothing but errors (no progress, no summary, no warnings).
    #[arg(long, short, global = true)]
    quiet: bool,

    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "warn", value_name = "LEVEL")]
    log_level: String,

    /// Serve the library's metrics (frames, fps, queue depth, stage times, bytes copied,
    /// fallbacks, GPU utilisation) in the Prometheus text format at http://ADDR/metrics
    /// while the job runs. A port alone means 127.0.0.1:PORT; port 0 picks a free one.
    #[arg(long, global = true, value_name = "ADDR", value_parser = metrics_http::parse_addr)]
    metrics_addr: Option<std::net::SocketAddr>,

    /// Print a table of the pipelines' figures at the end (decode, encode, transcode):
    /// per-stage calls and p50/p95/p99 times, queue depth and peak, fps, jitter, bytes copied.
    #[arg(long, global = true)]
    stats: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show every engine x codec x direction and whether it is available here, and why.
    Probe(cmd_probe::ProbeArgs),
    /// Describe a raw H.264/HEVC stream from its headers (fast: no decoding).
    Info(cmd_info::InfoArgs),
    /// Decode a raw H.264/HEVC stream or an MP4 to raw frames (or frame checksums).
    Decode(decode_args::DecodeArgs),
    /// Encode Y4M, raw YUV or a synthetic test pattern to H.264, HEVC or AV1 (raw or in a container).
    Encode(cmd_encode::EncodeArgs),
    /// Decode and re-encode in one pass.
    Transcode(transcode_args::TranscodeArgs),
}

fn main() -> ExitCode {
    cuda_env::set_cuda_connections();
    cuda_env::quiet_svt_av1();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    init_logging(&cli.log_level, cli.quiet);
    // The metrics endpoint lives until the job is over (dropped at the end of `main`).
    let _metrics = match cli.metrics_addr {
        Some(addr) => match metrics_http::serve(addr, 0) {
            Ok(served) => {
                if !cli.quiet {
                    eprintln!("video-hw: metrics at http://{}/metrics", served.local_addr());
                }
                Some(served)
            }
            Err(e) => {
                let e =
                    video_hw::Error::Io(std::io::Error::new(e.kind(), format!("cannot serve metrics on {addr}: {e}")));
                return exit::report(&e, cli.quiet);
            }
        },
        None => {
            fallbacks::install();
            None
        }
    };
    if cli.stats {
        stage_table::enable();
    }
    exit::quiet_panics();
    if matches!(cli.command, Command::Decode(_) | Command::Encode(_) | Command::Transcode(_)) {
        signals::install(cli.quiet);
    }
    let run = std::panic::catch_unwind(|| match &cli.command {
        Command::Probe(args) => cmd_probe::run(args).map_err(exit::Failure::from),
        Command::Info(args) => cmd_info::run(args).map_err(exit::Failure::from),
        Command::Decode(args) => cmd_decode::run(args, cli.quiet),
        Command::Encode(args) => cmd_encode::run(args, cli.quiet),
        Command::Transcode(args) => cmd_transcode::run(args, cli.quiet),
    });
    match run {
        Ok(Ok(code)) => code,
        Ok(Err(f)) => exit::report_failure(&f, cli.quiet),
        Err(_) => {
            eprintln!("video-hw: error: internal error: {}", exit::one_line(&exit::last_panic()));
            ExitCode::from(1)
        }
    }
}

/// Help and version go to stdout (exit 0); a usage error is one line on stderr (exit 2).
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(e.exit_code() as u8);
    }
    let text = e.render().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("usage error");
    let msg = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("video-hw: error: {} (see --help)", exit::one_line(msg));
    ExitCode::from(2)
}

/// Diagnostics on stderr, one line each. At the default levels (warn, error) a line is
/// the level and the message (the registry's fallback WARN names from, to and why in its
/// message); at info and below the structured fields follow.
fn init_logging(level: &str, quiet: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::fmt::format::debug_fn;
    let level = if quiet { "error" } else { level };
    let filter = EnvFilter::try_from_env("VIDEO_HW_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time();
    if matches!(level.to_ascii_lowercase().as_str(), "warn" | "error" | "off") {
        let message_only =
            debug_fn(|w, field, value| if field.name() == "message" { write!(w, "{value:?}") } else { Ok(()) });
        let _ = builder.fmt_fields(message_only).try_init();
    } else {
        let _ = builder.try_init();
    }
}
