//! `video-hw`: probe engines, inspect streams, decode, encode and transcode video.
//!
//! Exit status: 0 ok (also when the reader of stdout closed it), 2 usage error, 3
//! unsupported (no engine can do the job), 4 invalid input or bitstream, 5 an output that
//! cannot be written, 6 out of space, 7 a live input silent past `--timeout` (no byte from
//! its sender, a network one or stdin, or no sender), 130/143 stopped by SIGINT/SIGTERM (the output
//! finished), 1 anything else. Errors are one line on stderr (docs/reliability.md).

mod commands;
mod exit;
mod io;
mod options;
mod process_env;
mod report;
mod signals;

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
    #[arg(long, global = true, value_name = "ADDR", value_parser = report::metrics::parse_addr)]
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
    Probe(commands::probe::ProbeArgs),
    /// Describe what a file holds from its headers and tables (fast: no decoding): the
    /// container, its tracks, and the default video track's stream facts and frame counts.
    Info(commands::info::InfoArgs),
    /// Decode video from a container (MP4/MOV, Matroska/WebM, MPEG-TS, AVI, IVF) or a raw
    /// H.264/HEVC/AV1 stream to raw frames or framemd5 checksums; or audio to WAV or raw
    /// samples.
    Decode(options::decode::DecodeArgs),
    /// Encode Y4M, raw YUV (a file, stdin or tcp://) or a synthetic test pattern to H.264, HEVC
    /// or AV1 (raw, or in MP4, Matroska, WebM or IVF).
    Encode(options::encode::EncodeArgs),
    /// Decode and re-encode in one pass: any input `decode` reads to H.264, HEVC or AV1 (raw,
    /// or in MP4, Matroska, WebM or IVF, the input's audio copied).
    Transcode(options::transcode::TranscodeArgs),
}

fn main() -> ExitCode {
    process_env::set_cuda_connections();
    process_env::quiet_svt_av1();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit::clap_error(e),
    };
    report::logging::init(&cli.log_level, cli.quiet);
    // The metrics endpoint lives until the job is over (dropped at the end of `main`).
    let _metrics = match cli.metrics_addr {
        Some(addr) => match report::metrics::serve(addr, 0) {
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
            report::fallbacks::install();
            None
        }
    };
    if cli.stats {
        report::stats::enable();
    }
    exit::quiet_panics();
    if matches!(cli.command, Command::Decode(_) | Command::Encode(_) | Command::Transcode(_)) {
        signals::install(cli.quiet);
    }
    let run = std::panic::catch_unwind(|| match &cli.command {
        Command::Probe(args) => commands::probe::run(args).map_err(exit::Failure::from),
        Command::Info(args) => commands::info::run(args).map_err(exit::Failure::from),
        Command::Decode(args) => commands::decode::run(args, cli.quiet),
        Command::Encode(args) => commands::encode::run(args, cli.quiet),
        Command::Transcode(args) => commands::transcode::run(args, cli.quiet),
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
