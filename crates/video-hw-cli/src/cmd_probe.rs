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
}

/// Runs `probe`.
pub fn run(args: &ProbeArgs) -> video_hw::Result<ExitCode> {
    let reports = probe_all(args.device);
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
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        println!("{:<13} {:<5} {:<7} {:<10} DETAILS", "ENGINE", "CODEC", "DIR", "AVAILABLE");
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
                "{:<13} {:<5} {:<7} {:<10} {}",
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
