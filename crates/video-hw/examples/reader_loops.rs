//! The loops of `scripts/bench_loops.py` on the library's `FrameReader` alone (no Python),
//! with where the time goes: per call, per frame and in the NVDEC driver calls. Used to
//! find what bounds the GPU index loop (issue #56).
//!
//! ```text
//! reader_loops FILE [--output cuda-rgb24|cuda-nv12|host-rgb24|host-yuv420p] [--frames 300]
//!              [--loop index|chunks|iterate|clips] [--sessions N] [--passes 2]
//! ```
//!
//! `clips` is one call for the frames of 8 clips of 16 frames at evenly spaced starts over
//! the whole file (the regular clip sampler's layout; `--frames` is not used): the runs
//! of several GOPs decoded at once on the reader's sessions.
//!
//! Each pass opens a new reader over FILE (the first pass includes the process's one-time
//! start) and runs the loop over the first `--frames` frames, dropping each frame at once
//! as a caller that copies it away would. One line per pass: open, first frame and whole
//! loop times (`Instant`, wall clock), the calls' median and slowest, and the NVDEC call
//! times spent in the pass (summed over the sessions' threads).

use std::time::{Duration, Instant};

use video_hw::diagnostics::CallTime;
use video_hw::reader::FrameReader;
use video_hw::{Output, PixelFormat};

struct Args {
    file: String,
    output: Output,
    frames: usize,
    pattern: String,
    sessions: Option<usize>,
    passes: usize,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        file: String::new(),
        output: Output::Cuda(PixelFormat::Rgb24),
        frames: 300,
        pattern: "index".into(),
        sessions: None,
        passes: 2,
    };
    while let Some(s) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{s} needs a value"));
        match s.as_str() {
            "--output" => {
                a.output = match value()?.as_str() {
                    "cuda-rgb24" => Output::Cuda(PixelFormat::Rgb24),
                    "cuda-nv12" => Output::Cuda(PixelFormat::Nv12),
                    "host-rgb24" => Output::Host(PixelFormat::Rgb24),
                    "host-yuv420p" => Output::Host(PixelFormat::Yuv420p),
                    o => return Err(format!("unknown output {o}")),
                }
            }
            "--frames" => a.frames = value()?.parse().map_err(|e| format!("--frames: {e}"))?,
            "--loop" => a.pattern = value()?,
            "--sessions" => a.sessions = Some(value()?.parse().map_err(|e| format!("--sessions: {e}"))?),
            "--passes" => a.passes = value()?.parse().map_err(|e| format!("--passes: {e}"))?,
            f if a.file.is_empty() && !f.starts_with("--") => a.file = f.to_string(),
            o => return Err(format!("unknown argument {o}")),
        }
    }
    if a.file.is_empty() {
        return Err("usage: reader_loops FILE [--output ...] [--frames N] [--loop index|chunks|iterate|clips]".into());
    }
    Ok(a)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `after - before` of one kind of call, as "calls x mean (total)".
fn spent(name: &str, before: CallTime, after: CallTime) -> String {
    let calls = after.calls - before.calls;
    let total = after.total.saturating_sub(before.total);
    let mean = if calls == 0 { Duration::ZERO } else { total / calls as u32 };
    format!("{name} {calls}x{:.3}ms={:.1}ms", ms(mean), ms(total))
}

fn pass(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let calls0 = video_hw::diagnostics::nvdec_call_times();
    let setup0 = video_hw::diagnostics::nvdec_setup_times();
    let mut reader = FrameReader::open(&a.file, a.output)?;
    if let Some(n) = a.sessions {
        reader = reader.sessions(n);
    }
    let opened = t0.elapsed();
    // What the Python constructor adds to the open: the first session made at once, and the
    // driver's setup calls it made.
    let t = Instant::now();
    reader.prepare()?;
    let prepared = t.elapsed();
    let su = video_hw::diagnostics::nvdec_setup_times();
    println!(
        "  prepare={:.1}ms | {} | {} | {} | {} | {}",
        ms(prepared),
        spent("context", setup0.context, su.context),
        spent("caps", setup0.decoder_caps, su.decoder_caps),
        spent("session_setup", setup0.session_setup, su.session_setup),
        spent("parser", setup0.create_parser, su.create_parser),
        spent("alloc", setup0.alloc, su.alloc),
    );
    let n = a.frames.min(reader.len());
    let mut per_call = Vec::new();
    let mut first = None;
    let mut got = 0;
    // What the first calls did: runs started, packets decoded, decoder objects created
    // and the time spent waiting at the creation barrier, after each.
    let mut early: Vec<String> = Vec::new();
    let mut timed = |t: Instant, frames: usize, first: &mut Option<Duration>, reader: &FrameReader| {
        per_call.push(t.elapsed());
        got += frames;
        first.get_or_insert(t0.elapsed());
        if early.len() < 4 {
            let (st, su) = (reader.stats(), video_hw::diagnostics::nvdec_setup_times());
            early.push(format!(
                "{:.1}ms runs={} packets={} sessions={} created={} reused={} barrier={:.1}ms",
                ms(t.elapsed()),
                st.runs,
                st.packets_decoded,
                st.sessions,
                su.create_decoder.calls - setup0.create_decoder.calls,
                su.reuse_decoder.calls - setup0.reuse_decoder.calls,
                ms(su.creation_barrier.total.saturating_sub(setup0.creation_barrier.total)),
            ));
        }
    };
    match a.pattern.as_str() {
        "clips" => {
            let (clips, len) = (8, 16);
            let span = reader.len().saturating_sub(len);
            let frames: Vec<usize> =
                (0..clips).flat_map(|c| (0..len).map(move |k| c * span / (clips - 1) + k)).collect();
            let t = Instant::now();
            let f = reader.frames_at(&frames)?;
            timed(t, f.len(), &mut first, &reader);
        }
        "index" => {
            for i in 0..n {
                let t = Instant::now();
                let f = reader.frames_at(&[i])?;
                timed(t, f.len(), &mut first, &reader);
            }
        }
        "chunks" => {
            for s in (0..n).step_by(32) {
                let t = Instant::now();
                let f = reader.frames_in_range(s, (s + 32).min(n), 1)?;
                timed(t, f.len(), &mut first, &reader);
            }
        }
        _ => {
            reader.seek_frame(0)?;
            for _ in 0..n {
                let t = Instant::now();
                let Some(_f) = reader.next_frame()? else { break };
                timed(t, 1, &mut first, &reader);
            }
        }
    }
    let work = t0.elapsed();
    for (i, e) in early.iter().enumerate() {
        println!("  call {i}: {e}");
    }
    let stats = reader.stats();
    drop(reader);
    let calls = video_hw::diagnostics::nvdec_call_times();
    let setup = video_hw::diagnostics::nvdec_setup_times();
    let first_calls: Vec<String> = per_call.iter().take(4).map(|d| format!("{:.1}", ms(*d))).collect();
    per_call.sort();
    let median = per_call.get(per_call.len() / 2).copied().unwrap_or_default();
    let slowest = per_call.last().copied().unwrap_or_default();
    println!(
        "{} frames={got} open={:.1}ms first={:.1}ms work={:.1}ms fps={:.0} call median={:.3}ms max={:.1}ms \
         runs={} packets={} read_ahead={} sessions={}",
        a.pattern,
        ms(opened),
        ms(first.unwrap_or_default()),
        ms(work),
        got as f64 / work.as_secs_f64(),
        ms(median),
        ms(slowest),
        stats.runs,
        stats.packets_decoded,
        stats.frames_read_ahead,
        stats.sessions,
    );
    println!(
        "  first calls ms [{}] | {} | {} | {}",
        first_calls.join(", "),
        spent("create_decoder", setup0.create_decoder, setup.create_decoder),
        spent("reuse_decoder", setup0.reuse_decoder, setup.reuse_decoder),
        spent("destroy_decoder", setup0.destroy_decoder, setup.destroy_decoder),
    );
    println!(
        "  nvdec: {} | {} | {} | {} | {} | {} | {}",
        spent("parse", calls0.parse, calls.parse),
        spent("decode", calls0.decode_picture, calls.decode_picture),
        spent("map", calls0.map, calls.map),
        spent("copy", calls0.copy, calls.copy),
        spent("copy_wait", calls0.copy_wait, calls.copy_wait),
        spent("unmap", calls0.unmap, calls.unmap),
        spent("status", calls0.decode_status, calls.decode_status),
    );
    Ok(())
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("reader_loops: {e}");
            std::process::exit(2);
        }
    };
    video_hw::diagnostics::set_nvdec_cpu_timing(false);
    for _ in 0..a.passes {
        if let Err(e) = pass(&a) {
            eprintln!("reader_loops: {e}");
            std::process::exit(1);
        }
    }
    let s = video_hw::diagnostics::nvdec_setup_times();
    println!(
        "setup: cuda_load={:?} cuvid_load={:?} cuda_init={:?} context={:?} create_decoder {}x{:?} reuse {}x{:?} barrier {}x{:?} alloc {}x{:?}",
        s.cuda_load,
        s.cuvid_load,
        s.cuda_init,
        s.context.total,
        s.create_decoder.calls,
        s.create_decoder.total,
        s.reuse_decoder.calls,
        s.reuse_decoder.total,
        s.creation_barrier.calls,
        s.creation_barrier.total,
        s.alloc.calls,
        s.alloc.total,
    );
}
