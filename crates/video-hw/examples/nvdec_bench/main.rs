//! NVDEC benchmark driver: many decode sessions in one process, one thread each.
//!
//! ```text
//! nvdec_bench [run] --input FILE [--streams N] [--repeat-input K] [--chunk BYTES] [--device N]
//!             [--output cuda-nv12|host-nv12|host-yuv420p|metadata] [--resize WxH] [--max-frames N] ...
//! nvdec_bench soak  --input FILE [--input FILE...] [--streams 14] [--duration 120] [--seed 1] [--corrupt 13]
//! nvdec_bench probe FILE...                 stream facts from headers (no GPU needed)
//! nvdec_bench cut   IN --out OUT [--gops G] [--max-bytes B]   keep the first whole GOPs of IN
//! ```
//!
//! `run` reads every input into memory before the timer starts; the timer then covers
//! `Decoder::open` of every session (the first one creates the CUDA context), decoding
//! `--repeat-input` passes over the input, the final flush and dropping the sessions. CUDA
//! frames are dropped right after they are reaped (they stay on the GPU). One JSON object
//! goes to stdout (see `RunReport`), a human summary to stderr.
//!
//! `soak` (also `--only soak`) runs sessions for `--duration` seconds with random restarts
//! (seeded), one session fed a corrupted copy of its input, and checks that every clean pass
//! decoded exactly the expected frames and that NVDEC sessions and free device memory
//! return to their starting values. It prints PASS or FAIL and exits 1 on FAIL.
// The report is one large `json!` literal.
#![recursion_limit = "256"]

mod args;
mod cut;
mod run;
mod soak;
#[cfg(test)]
mod tests;
mod util;

use serde_json::json;

use args::{Mode, USAGE, parse_args};
use cut::{cut, probe};
use run::run;
use soak::soak;

fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("nvdec_bench: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let result = match args.mode {
        Mode::Run => run(&args),
        Mode::Soak => soak(&args),
        Mode::Probe => probe(&args),
        Mode::Cut => cut(&args),
    };
    match result {
        Ok((report, ok)) => {
            println!("{report}");
            if !ok {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("nvdec_bench: {e}");
            println!("{}", json!({"tool": "video-hw", "ok": false, "pass": false, "errors": [e]}));
            std::process::exit(1);
        }
    }
}
