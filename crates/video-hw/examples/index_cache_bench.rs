//! Time to open a file and get one frame, with the frame index built by a scan or read
//! from a saved index (`video_hw::media::IndexCache`); driven by
//! `scripts/bench_index_cache.py`, which also times whole processes of it.
//!
//! ```text
//! index_cache_bench FILE CACHE RUNS [FRAME]
//!   CACHE: off | beside | DIR (a cache directory)
//!   RUNS:  opens in this process, one line each: `open_ms frame_ms total_ms cache_use`
//!   FRAME: the frame asked for (default: the middle one); `-`: none (open only)
//! ```
//!
//! Frames are host YUV 4:2:0 from the default engine (FFmpeg where it is loaded).

use std::time::Instant;

use video_hw::media::IndexCache;
use video_hw::reader::FrameReader;
use video_hw::{Output, PixelFormat};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: index_cache_bench FILE off|beside|DIR RUNS [FRAME]");
        std::process::exit(2);
    }
    let cache = match args[1].as_str() {
        "off" => IndexCache::Off,
        "beside" => IndexCache::Beside,
        dir => IndexCache::Dir(dir.into()),
    };
    let runs: usize = args[2].parse()?;
    let open_only = args.get(3).is_some_and(|s| s == "-");
    let frame: Option<usize> = args.get(3).filter(|_| !open_only).map(|s| s.parse()).transpose()?;
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut reader = FrameReader::open_with_cache(&args[0], Output::Host(PixelFormat::Yuv420p), &cache)?;
        let t1 = Instant::now();
        let k = frame.unwrap_or(reader.len() / 2);
        if !open_only {
            assert_eq!(reader.frames_at(&[k])?.len(), 1);
        }
        let t2 = Instant::now();
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        println!("{:.3} {:.3} {:.3} {}", ms(t1 - t0), ms(t2 - t1), ms(t2 - t0), reader.index_cache().name());
    }
    Ok(())
}
