//! `video-hw probe`: every engine × codec × direction, available or not and why.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use video_hw::registry::probe_all;

/// Arguments of `probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// GPU index to probe for device engines.
    #[arg(long, default_value_t = 0)]
    device: u32,
    /// List the NVIDIA GPUs with their NVDEC engines and per-codec limits instead.
    #[arg(long)]
    gpus: bool,
}

fn run_gpus(json: bool) -> video_hw::Result<ExitCode> {
    let gpus = match video_hw::diagnostics::gpus() {
        Ok(g) => g,
        Err(video_hw::Error::Unsupported { why, .. }) => {
            if json {
                println!("[]");
            } else {
                println!("no NVIDIA GPU: {why}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e),
    };
    if json {
        let rows: Vec<_> = gpus
            .iter()
            .map(|g| {
                json!({
                    "index": g.index,
                    "name": g.name,
                    "memory": g.memory,
                    "compute_capability": format!("{}.{}", g.compute_capability.0, g.compute_capability.1),
                    "driver": g.driver,
                    "nvdec_engines": g.nvdec_engines,
                    "nvdec_error": g.nvdec_error,
                    "nvdec": g.nvdec.iter().map(|c| json!({
                        "codec": c.codec.name(),
                        "bit_depth": c.bit_depth,
                        "supported": c.supported,
                        "engines": c.engines,
                        "min": format!("{}x{}", c.min_size.0, c.min_size.1),
                        "max": format!("{}x{}", c.max_size.0, c.max_size.1),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    for g in &gpus {
        println!(
            "GPU {}: {} ({} GiB, compute {}.{}, driver {}), {} NVDEC engine(s)",
            g.index,
            g.name,
            g.memory >> 30,
            g.compute_capability.0,
            g.compute_capability.1,
            g.driver,
            g.nvdec_engines
        );
        if let Some(e) = &g.nvdec_error {
            println!("  NVDEC unusable: {e}");
        }
        for c in &g.nvdec {
            if c.supported {
                println!(
                    "  {:<5} {:>2}-bit  {}x{} .. {}x{}",
                    c.codec.name(),
                    c.bit_depth,
                    c.min_size.0,
                    c.min_size.1,
                    c.max_size.0,
                    c.max_size.1
                );
            } else {
                println!("  {:<5} {:>2}-bit  not supported", c.codec.name(), c.bit_depth);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `probe`.
pub fn run(args: &ProbeArgs) -> video_hw::Result<ExitCode> {
    if args.gpus {
        return run_gpus(args.json);
    }
    let reports = probe_all(args.device);
    let ffmpeg = video_hw::registry::ffmpeg_runtime();
    if args.json {
        let rows: Vec<_> = reports
            .iter()
            .map(|r| {
                json!({
                    "engine": r.engine.name(),
                    "codec": r.codec.name(),
                    "direction": r.direction.name(),
                    "available": r.available,
                    "reason": r.reason,
                    "device": r.info.device,
                    "driver": r.info.driver,
                    "hardware": r.engine.is_hardware(),
                    // Where the FFmpeg-based engines' libraries came from (or why none).
                    "ffmpeg": r.engine.uses_ffmpeg().then(|| json!({
                        "loaded": ffmpeg.loaded,
                        "summary": ffmpeg.summary,
                        "tried": ffmpeg.tried,
                    })),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        println!("FFmpeg: {}", ffmpeg.summary);
        for place in &ffmpeg.tried {
            println!("  searched {place}");
        }
        println!();
        println!("{:<13} {:<10} {:<7} {:<10} DETAILS", "ENGINE", "CODEC", "DIR", "AVAILABLE");
        for r in &reports {
            let mut details = Vec::new();
            if let Some(d) = &r.info.device {
                details.push(d.clone());
            }
            if let Some(d) = &r.info.driver {
                details.push(format!("driver {d}"));
            }
            if !r.reason.is_empty() {
                details.push(r.reason.clone());
            }
            println!(
                "{:<13} {:<10} {:<7} {:<10} {}",
                r.engine.name(),
                r.codec.name(),
                r.direction.name(),
                if r.available { "yes" } else { "no" },
                details.join("; ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
