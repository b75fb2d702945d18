//! `soak`: sessions with random restarts and one corrupt stream for a while, then the
//! leak checks (sessions and device memory back where they started).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use video_hw::{Decoder, Engine, EnginePreference, Error, Input};

use crate::args::{Args, output_name, settle_nvdec};
use crate::run::run_session;
use crate::util::{InputFile, XorShift, corrupt_copy, load_input, mib, round3};

/// Chunk sizes a soak pass picks from (exercise splits anywhere, small and large).
pub(crate) const SOAK_CHUNKS: [usize; 4] = [4093, 65536, 262_144, 1 << 20];

#[derive(Debug, Default)]
pub(crate) struct SoakSession {
    pub(crate) corrupt: bool,
    pub(crate) opens: u64,
    pub(crate) passes_checked: u64,
    pub(crate) passes_mismatched: u64,
    /// The first few mismatches, described.
    pub(crate) mismatches: Vec<String>,
    pub(crate) interrupted: u64,
    pub(crate) frames: u64,
    pub(crate) bitstream_errors: u64,
    /// NAL or access units the decoder dropped as damaged, and pictures NVDEC concealed
    /// (`DecoderStats`), summed over the session's lives.
    pub(crate) dropped_units: u64,
    pub(crate) concealed: u64,
    /// Errors other than damaged input (for the corrupt session: reopened after them).
    pub(crate) other_errors: Vec<String>,
    pub(crate) other_error_count: u64,
}

impl SoakSession {
    /// Counts an error, keeping the first few messages.
    pub(crate) fn note(&mut self, e: String) {
        self.other_error_count += 1;
        if self.other_errors.len() < 8 {
            self.other_errors.push(e);
        }
    }
}

pub(crate) struct SoakShared {
    pub(crate) deadline: Instant,
    pub(crate) passes: AtomicU64,
    pub(crate) restarts: AtomicU64,
    pub(crate) frames: AtomicU64,
}

pub(crate) fn soak_session(
    a: &Args,
    idx: usize,
    input: &InputFile,
    data: &[u8],
    corrupt: bool,
    sh: &SoakShared,
) -> SoakSession {
    let mut rng = XorShift::new(a.seed.wrapping_mul(1_000_003).wrapping_add(idx as u64));
    let mut st = SoakSession { corrupt, ..Default::default() };
    let expected = input.frames;
    'life: while Instant::now() < sh.deadline {
        let mut dec = match Decoder::open(a.config(input.codec)) {
            Ok(d) => d,
            Err(e) => {
                st.note(format!("open: {e}"));
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        st.opens += 1;
        let mut out_of_time = false;
        // One life of the session; every way out ends here, so the decoder's own counters
        // are added up once.
        'body: {
            let chunk = SOAK_CHUNKS[rng.below(SOAK_CHUNKS.len() as u64) as usize];
            let chunks_per_pass = data.len().div_ceil(chunk) as u64;
            // Half the lives end at a random chunk (mid-pass, usually); the others after 1..=4
            // whole passes.
            let restart_at = rng.chance(1, 2).then(|| rng.range(1, 2 * chunks_per_pass));
            let passes = rng.range(1, 4);
            let mut submitted = 0u64;
            for _ in 0..passes {
                let mut frames = 0u64;
                for piece in data.chunks(chunk) {
                    if Instant::now() >= sh.deadline {
                        out_of_time = true;
                        break 'body;
                    }
                    match dec.submit(Input::annexb(piece, None)) {
                        Ok(()) => {}
                        Err(e @ Error::InvalidBitstream { .. }) => {
                            st.bitstream_errors += 1;
                            if !corrupt {
                                st.note(format!("clean stream reported {e}"));
                            }
                        }
                        Err(e) => {
                            st.note(format!("submit: {e}"));
                            break 'body;
                        }
                    }
                    loop {
                        match dec.try_reap() {
                            Ok(Some(f)) => {
                                frames += 1;
                                drop(f);
                            }
                            Ok(None) => break,
                            Err(e) => {
                                st.note(format!("reap: {e}"));
                                break 'body;
                            }
                        }
                    }
                    submitted += 1;
                    if restart_at == Some(submitted) {
                        st.interrupted += 1;
                        st.frames += frames;
                        break 'body; // drops the session mid-pass
                    }
                }
                match dec.flush() {
                    Ok(rest) => frames += rest.len() as u64,
                    Err(e @ Error::InvalidBitstream { .. }) => {
                        st.bitstream_errors += 1;
                        if !corrupt {
                            st.note(format!("clean stream reported {e} at flush"));
                        }
                    }
                    Err(e) => {
                        st.note(format!("flush: {e}"));
                        break 'body;
                    }
                }
                st.frames += frames;
                sh.frames.fetch_add(frames, Ordering::Relaxed);
                sh.passes.fetch_add(1, Ordering::Relaxed);
                if !corrupt {
                    st.passes_checked += 1;
                    if frames != expected {
                        st.passes_mismatched += 1;
                        if st.mismatches.len() < 8 {
                            st.mismatches.push(format!("{chunk}-byte chunks: {frames} frames, expected {expected}"));
                        }
                    }
                }
            }
        }
        let stats = dec.stats();
        st.dropped_units += stats.dropped;
        st.concealed += stats.concealed;
        if out_of_time {
            break 'life;
        }
        // Every other way out (error, planned restart, passes done) reopens the session.
        sh.restarts.fetch_add(1, Ordering::Relaxed);
    }
    st
}

pub(crate) fn soak(a: &Args) -> Result<(Value, bool), String> {
    let inputs: Vec<InputFile> = a.inputs.iter().map(|p| load_input(p)).collect::<Result<_, _>>()?;
    let n = a.streams();
    let corrupt_idx = a.corrupt_session();
    let corrupt_input = corrupt_idx.map(|c| &inputs[c % inputs.len()]);
    let (corrupted, flips) = corrupt_input.map_or((Vec::new(), 0), |i| corrupt_copy(&i.data, a.seed, a.corrupt_every));
    let mut failures: Vec<String> = Vec::new();

    // Warm-up: one clean pass of each input (creates the context and the driver's pools),
    // which must give the frame count the headers promise.
    let mut warm = Vec::new();
    for input in &inputs {
        let one = Args { repeat_input: 1, max_frames: 0, ..a.clone() };
        let r = run_session(&one, input, &Barrier::new(1), 0);
        if let Some(f) = &r.fatal {
            failures.push(format!("warm-up {}: {f}", input.path.display()));
        } else if r.frames != input.frames {
            failures.push(format!(
                "warm-up {}: {} frames decoded, headers say {}",
                input.path.display(),
                r.frames,
                input.frames
            ));
        }
        warm.push(json!({"input": input.path.display().to_string(), "frames": r.frames, "expected": input.frames,
                         "wall_s": round3(r.wall.as_secs_f64())}));
    }
    let keeper = Decoder::open(a.config(inputs[0].codec)).map_err(|e| format!("keeper session: {e}"))?;
    // Device memory is checked only on NVDEC (other engines run here for tests, without a GPU).
    let on_gpu = a.engine == EnginePreference::Only(Engine::Nvdec);
    let mem = |what: &str| -> Result<Option<u64>, String> {
        if !on_gpu {
            return Ok(None);
        }
        video_hw::diagnostics::gpu_memory(a.device).map(|m| Some(m.0)).map_err(|e| format!("{what}: {e}"))
    };
    if !settle_nvdec() {
        failures.push("the warm-up sessions were not destroyed in time".into());
    }
    let sessions_start = video_hw::diagnostics::nvdec_sessions();
    let free_start = mem("device memory at start");
    if !a.quiet {
        eprintln!(
            "nvdec_bench soak: {n} sessions for {:.0} s, seed {}, corrupt session {:?} ({flips} bit flips); NVDEC sessions {sessions_start}, free {} MiB at start",
            a.duration.as_secs_f64(),
            a.seed,
            corrupt_idx,
            free_start.clone().ok().flatten().map_or(f64::NAN, mib)
        );
    }

    let started = Instant::now();
    let sh = SoakShared {
        deadline: started + a.duration,
        passes: AtomicU64::new(0),
        restarts: AtomicU64::new(0),
        frames: AtomicU64::new(0),
    };
    let stop = AtomicBool::new(false);
    let peak = Mutex::new((0usize, u64::MAX));
    let sessions: Vec<SoakSession> = std::thread::scope(|s| {
        let monitor = s.spawn(|| {
            let mut last_print = Instant::now();
            while !stop.load(Ordering::SeqCst) {
                let live = video_hw::diagnostics::nvdec_sessions();
                let free = if on_gpu {
                    video_hw::diagnostics::gpu_memory(a.device).map(|m| m.0).unwrap_or(u64::MAX)
                } else {
                    u64::MAX
                };
                {
                    let mut p = peak.lock().unwrap_or_else(|e| e.into_inner());
                    p.0 = p.0.max(live);
                    p.1 = p.1.min(free);
                }
                if !a.quiet && last_print.elapsed() >= Duration::from_secs(15) {
                    last_print = Instant::now();
                    eprintln!(
                        "  {:>5.0} s: {} passes, {} restarts, {} frames; NVDEC sessions {live}, free {} MiB",
                        started.elapsed().as_secs_f64(),
                        sh.passes.load(Ordering::Relaxed),
                        sh.restarts.load(Ordering::Relaxed),
                        sh.frames.load(Ordering::Relaxed),
                        mib(free)
                    );
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let input = &inputs[i % inputs.len()];
                let is_corrupt = corrupt_idx == Some(i);
                let data: &[u8] = if is_corrupt { &corrupted } else { &input.data };
                let sh = &sh;
                std::thread::Builder::new()
                    .name(format!("soak-{i}"))
                    .spawn_scoped(s, move || soak_session(a, i, input, data, is_corrupt, sh))
                    .expect("spawn soak thread")
            })
            .collect();
        let out = handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                h.join().unwrap_or_else(|_| SoakSession {
                    corrupt: corrupt_idx == Some(i),
                    other_errors: vec!["thread panicked".into()],
                    other_error_count: 1,
                    ..Default::default()
                })
            })
            .collect();
        stop.store(true, Ordering::SeqCst);
        let _ = monitor.join();
        out
    });
    let elapsed = started.elapsed();
    if !settle_nvdec() {
        failures.push("the soak's sessions were not destroyed in time".into());
    }
    let sessions_end = video_hw::diagnostics::nvdec_sessions();
    let free_end = mem("device memory at end");
    drop(keeper);
    let (sessions_peak, free_min) = *peak.lock().unwrap_or_else(|e| e.into_inner());

    if elapsed + Duration::from_millis(500) < a.duration {
        failures.push(format!("ran {:.1} s, asked {:.1} s", elapsed.as_secs_f64(), a.duration.as_secs_f64()));
    }
    for (i, st) in sessions.iter().enumerate() {
        if st.corrupt {
            if st.other_errors.iter().any(|e| e.contains("panicked")) {
                failures.push(format!("session {i} (corrupt): thread panicked"));
            }
            continue;
        }
        if st.passes_checked == 0 {
            failures.push(format!("session {i}: no complete pass to check"));
        }
        if st.passes_mismatched > 0 {
            failures.push(format!(
                "session {i}: {} of {} passes with a wrong frame count: {:?}",
                st.passes_mismatched, st.passes_checked, st.mismatches
            ));
        }
        if st.other_error_count > 0 {
            failures.push(format!("session {i}: {} errors: {:?}", st.other_error_count, st.other_errors));
        }
        // The corrupt stream must not disturb the clean ones: nothing dropped or concealed.
        if st.dropped_units > 0 || st.concealed > 0 {
            failures.push(format!(
                "session {i} (clean): {} units dropped as damaged, {} pictures concealed",
                st.dropped_units, st.concealed
            ));
        }
    }
    if sessions_end != sessions_start {
        failures.push(format!("NVDEC sessions {sessions_start} at start, {sessions_end} at end"));
    }
    match (&free_start, &free_end) {
        (Ok(Some(s)), Ok(Some(e))) if e + a.mem_tolerance < *s => failures.push(format!(
            "free device memory {} MiB at start, {} MiB at end (tolerance {} MiB)",
            mib(*s),
            mib(*e),
            mib(a.mem_tolerance)
        )),
        (Err(e), _) | (_, Err(e)) => failures.push(e.clone()),
        _ => {}
    }
    let pass = failures.is_empty();
    let corrupt_stats = sessions.iter().enumerate().find(|(_, s)| s.corrupt).map(|(i, s)| {
        json!({"session": i, "input": inputs[i % inputs.len()].path.display().to_string(), "bit_flips": flips,
               "opens": s.opens, "frames": s.frames, "bitstream_errors": s.bitstream_errors,
               "dropped_units": s.dropped_units, "concealed": s.concealed,
               "other_errors": s.other_error_count, "first_other_errors": s.other_errors})
    });
    let report = json!({
        "tool": "video-hw",
        "mode": "soak",
        "pass": pass,
        "failures": failures,
        "streams": n,
        "duration_s": round3(elapsed.as_secs_f64()),
        "seed": a.seed,
        "output": output_name(a.output),
        "inputs": inputs.iter().map(|i| i.facts.clone()).collect::<Vec<_>>(),
        "warm_up": warm,
        "sessions_start": sessions_start,
        "sessions_end": sessions_end,
        "sessions_peak": sessions_peak,
        "free_start_mib": free_start.clone().ok().flatten().map(mib),
        "free_end_mib": free_end.clone().ok().flatten().map(mib),
        "free_min_mib": (free_min != u64::MAX).then(|| mib(free_min)),
        "mem_tolerance_mib": mib(a.mem_tolerance),
        "passes_checked": sessions.iter().filter(|s| !s.corrupt).map(|s| s.passes_checked).sum::<u64>(),
        "passes_mismatched": sessions.iter().map(|s| s.passes_mismatched).sum::<u64>(),
        "interrupted_passes": sessions.iter().map(|s| s.interrupted).sum::<u64>(),
        "opens": sessions.iter().map(|s| s.opens).sum::<u64>(),
        "frames": sessions.iter().map(|s| s.frames).sum::<u64>(),
        "corrupt": corrupt_stats,
        "decoders_created": video_hw::diagnostics::nvdec_setup_times().create_decoder.calls,
        "decoders_reused": video_hw::diagnostics::nvdec_setup_times().reuse_decoder.calls,
        "per_session": sessions.iter().map(|s| json!({"corrupt": s.corrupt, "opens": s.opens,
            "passes_checked": s.passes_checked, "interrupted": s.interrupted, "frames": s.frames,
            "bitstream_errors": s.bitstream_errors, "dropped_units": s.dropped_units, "concealed": s.concealed,
            "other_errors": s.other_error_count})).collect::<Vec<_>>(),
    });
    if !a.quiet {
        eprintln!(
            "nvdec_bench soak: {:.0} s, {} clean passes checked, {} restarts/reopens, NVDEC sessions {sessions_start} -> {sessions_end} (peak {sessions_peak}), free {} -> {} MiB (min {})",
            elapsed.as_secs_f64(),
            report["passes_checked"],
            report["opens"],
            report["free_start_mib"],
            report["free_end_mib"],
            report["free_min_mib"],
        );
        for f in &report["failures"].as_array().cloned().unwrap_or_default() {
            eprintln!("  FAIL {}", f.as_str().unwrap_or_default());
        }
        eprintln!("{}", if pass { "PASS" } else { "FAIL" });
    }
    Ok((report, pass))
}
