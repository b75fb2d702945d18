//! `run`: sessions decoding at once, one thread each, timed; the JSON report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use video_hw::{Codec, Decoder, Engine, EnginePreference, Error, Input, Output};

use crate::args::{Args, CLOSE_WAIT, output_name, sessions_per_backend};
use crate::util::{InputFile, load_input, median, mib, parse_proc_cpu, process_cpu, round3, us_each};

/// What one session did.
#[derive(Debug, Default, Clone)]
pub(crate) struct SessionResult {
    pub(crate) frames: u64,
    pub(crate) pass_frames: Vec<u64>,
    pub(crate) open: Duration,
    pub(crate) ttff: Option<Duration>,
    pub(crate) wall: Duration,
    pub(crate) bitstream_errors: u64,
    pub(crate) first_error: Option<String>,
    pub(crate) fatal: Option<String>,
    pub(crate) backend: String,
    /// CPU time of the session's thread from its start to after its drop (`--cpu-split`).
    pub(crate) cpu: Option<Duration>,
}

/// Counts frames as they come out, dropping them at once.
pub(crate) struct Tally {
    pub(crate) start: Instant,
    pub(crate) frames: u64,
    pub(crate) first: Option<Duration>,
}

impl Tally {
    pub(crate) fn take(&mut self, frame: video_hw::Frame) {
        if self.frames == 0 {
            self.first = Some(self.start.elapsed());
        }
        self.frames += 1;
        drop(frame);
    }
}

/// Decodes `passes` passes over `data` in one session. `start` releases all sessions at
/// once; the session's clock starts there, before `Decoder::open`.
pub(crate) fn run_session(a: &Args, input: &InputFile, start: &Barrier, index: usize) -> SessionResult {
    start.wait();
    // The session's clock starts at the barrier, so a stagger counts against it.
    let t0 = Instant::now();
    let cpu0 = video_hw::diagnostics::thread_cpu_time().filter(|_| a.cpu_split);
    if a.stagger_ms > 0 {
        std::thread::sleep(Duration::from_millis(a.stagger_ms * index as u64));
    }
    let mut r = SessionResult::default();
    let mut dec = match Decoder::open(a.config(input.codec)) {
        Ok(d) => d,
        Err(e) => {
            r.fatal = Some(format!("open: {e}"));
            r.wall = t0.elapsed();
            return r;
        }
    };
    r.open = t0.elapsed();
    r.backend = dec.backend().to_string();
    let mut t = Tally { start: t0, frames: 0, first: None };
    let done = |t: &Tally| a.max_frames > 0 && t.frames >= a.max_frames;
    'passes: for pass in 0..a.repeat_input {
        let before = t.frames;
        for piece in input.data.chunks(a.chunk) {
            match dec.submit(Input::annexb(piece, None)) {
                Ok(()) => {}
                Err(e @ Error::InvalidBitstream { .. }) => {
                    r.bitstream_errors += 1;
                    r.first_error.get_or_insert(e.to_string());
                }
                Err(e) => {
                    r.fatal = Some(format!("submit (pass {pass}): {e}"));
                    break 'passes;
                }
            }
            while !done(&t) {
                match dec.try_reap() {
                    Ok(Some(f)) => t.take(f),
                    Ok(None) => break,
                    Err(e) => {
                        r.fatal = Some(format!("reap (pass {pass}): {e}"));
                        break 'passes;
                    }
                }
            }
            if done(&t) {
                r.pass_frames.push(t.frames - before);
                break 'passes;
            }
        }
        if a.flush_each_pass || pass + 1 == a.repeat_input {
            match dec.flush() {
                Ok(frames) => frames.into_iter().for_each(|f| {
                    if !done(&t) {
                        t.take(f)
                    }
                }),
                Err(e @ Error::InvalidBitstream { .. }) => {
                    r.bitstream_errors += 1;
                    r.first_error.get_or_insert(e.to_string());
                }
                Err(e) => {
                    r.fatal = Some(format!("flush (pass {pass}): {e}"));
                    break 'passes;
                }
            }
        }
        r.pass_frames.push(t.frames - before);
    }
    r.frames = t.frames;
    r.ttff = t.first;
    drop(dec);
    r.wall = t0.elapsed();
    r.cpu = cpu0.zip(video_hw::diagnostics::thread_cpu_time()).map(|(c0, c1)| c1.saturating_sub(c0));
    r
}

/// Decodes every stream with one `SegmentedDecode` of `sessions` sessions; one result
/// per stream (all with the run's wall time), plus the run's segment figures.
pub(crate) fn run_segmented(
    a: &Args,
    streams: &[Vec<u8>],
    codec: Codec,
    sessions: usize,
    start: &Barrier,
) -> (Vec<SessionResult>, Value) {
    start.wait();
    let t0 = Instant::now();
    let mut tallies: Vec<Tally> = streams.iter().map(|_| Tally { start: t0, frames: 0, first: None }).collect();
    let decode = video_hw::pipeline::SegmentedDecode::new(a.config(codec))
        .sessions(sessions)
        .min_segment_pictures(a.min_segment)
        .chunk_size(a.chunk);
    let outcome = if a.unordered {
        decode.run_unordered(streams, |f| {
            tallies[f.stream].take(f.frame);
            Ok(())
        })
    } else {
        decode.run(streams, |stream, frame| {
            tallies[stream].take(frame);
            Ok(())
        })
    };
    let wall = t0.elapsed();
    match outcome {
        Ok(stats) => {
            let results = tallies
                .iter()
                .zip(&stats.streams)
                .map(|(t, s)| SessionResult {
                    frames: t.frames,
                    ttff: t.first,
                    wall,
                    bitstream_errors: s.dropped,
                    first_error: s.first_error.clone(),
                    backend: stats.backend.clone(),
                    ..SessionResult::default()
                })
                .collect();
            let facts = json!({"sessions": sessions, "sessions_opened": stats.sessions, "segments": stats.segments,
                               "sessions_per_backend": sessions_per_backend(stats.session_backends.iter().map(String::as_str)),
                               "segments_per_stream": stats.streams.iter().map(|s| s.segments).collect::<Vec<_>>(),
                               "min_segment_pictures": a.min_segment, "ordered": !a.unordered,
                               "split_ms": round3(stats.split_time.as_secs_f64() * 1e3),
                               "peak_buffered_frames": stats.peak_buffered_frames});
            (results, facts)
        }
        Err(e) => {
            let failed =
                SessionResult { fatal: Some(format!("segmented decode: {e}")), wall, ..SessionResult::default() };
            (vec![failed; streams.len()], Value::Null)
        }
    }
}

/// The NVDEC probe's view of GPU `device` for `codec`: device name, driver, notes (engine
/// count, size limits), or why it is unavailable.
pub(crate) fn nvdec_facts(device: u32, codec: Codec) -> Value {
    // NVDEC alone: the report needs nothing else, and probing every engine (NVENC on a GPU
    // without it among them) runs after the timed part but lengthens every process.
    let r = video_hw::registry::probe(Engine::Nvdec, codec, video_hw::Direction::Decode, device);
    json!({"available": r.available, "device": r.info.device, "driver": r.info.driver,
           "notes": r.info.notes, "reason": r.reason})
}

/// Samples free device memory until told to stop; returns the smallest value seen.
pub(crate) fn sample_min_free(device: u32, stop: &AtomicBool, period: Duration) -> Option<u64> {
    let mut min: Option<u64> = None;
    loop {
        if let Ok((free, _)) = video_hw::diagnostics::gpu_memory(device) {
            min = Some(min.map_or(free, |m| m.min(free)));
        }
        if stop.load(Ordering::SeqCst) {
            return min;
        }
        std::thread::sleep(period);
    }
}

pub(crate) fn run(a: &Args) -> Result<(Value, bool), String> {
    let inputs: Vec<InputFile> = a.inputs.iter().map(|p| load_input(p)).collect::<Result<_, _>>()?;
    let n = a.streams();
    let uses_gpu = a.engine == EnginePreference::Only(Engine::Nvdec) || matches!(a.output, Output::Device(..));
    let stop = AtomicBool::new(false);
    let session_input = |i: usize| &inputs[i % inputs.len()];
    video_hw::diagnostics::set_nvdec_cpu_timing(a.cpu_split);
    if a.warm_decode {
        // One warm-up session per timed session, all open at once, each fed a whole pass
        // and flushed: they end cleanly, so their decoder objects are parked for the timed
        // sessions (as when a service's streams restart, or its next batch starts).
        let warm_up = |input: &InputFile| -> Result<Decoder, String> {
            let mut session = Decoder::open(a.config(input.codec)).map_err(|e| format!("warm-up session: {e}"))?;
            session.submit(Input::annexb(&input.data, None)).map_err(|e| format!("warm-up decode: {e}"))?;
            session.flush().map_err(|e| format!("warm-up flush: {e}"))?;
            Ok(session)
        };
        let count = a.segmented.unwrap_or(n);
        // Every warm-up session stays open until all are done, so none is parked and taken
        // by another warm-up session.
        let warm: Vec<Decoder> = if a.warm_parallel {
            std::thread::scope(|s| {
                let threads: Vec<_> = (0..count).map(|i| s.spawn(move || warm_up(session_input(i)))).collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap_or_else(|_| Err("warm-up thread panicked".into())))
                    .collect::<Result<Vec<_>, String>>()
            })?
        } else {
            (0..count).map(|i| warm_up(session_input(i))).collect::<Result<_, _>>()?
        };
        drop(warm);
        // Let the closer thread park them before the clock starts.
        video_hw::diagnostics::wait_for_nvdec_closes(CLOSE_WAIT);
    } else if a.warm {
        // What a service does at start-up: the process's one-time CUDA set-up, no stream.
        Decoder::prepare(&a.config(inputs[0].codec)).map_err(|e| format!("warm-up (Decoder::prepare): {e}"))?;
    }

    // Segmented: each stream is its passes over the input in one buffer, made before the clock.
    let whole_streams: Vec<Vec<u8>> = match a.segmented {
        Some(_) => (0..n).map(|i| session_input(i).data.repeat(a.repeat_input as usize)).collect(),
        None => Vec::new(),
    };
    let threads = if a.segmented.is_some() { 1 } else { n };
    let start = Barrier::new(threads + 1);
    let segment_facts = Mutex::new(Value::Null);
    let (results, wall, cpu0, cpu1, min_free, free_after, calls, setup0) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (start, streams, segment_facts) = (&start, &whole_streams, &segment_facts);
                let input = session_input(i);
                std::thread::Builder::new()
                    .name(format!("session-{i}"))
                    .spawn_scoped(s, move || match a.segmented {
                        Some(sessions) => {
                            let (results, facts) = run_segmented(a, streams, input.codec, sessions, start);
                            *segment_facts.lock().unwrap_or_else(|p| p.into_inner()) = facts;
                            results
                        }
                        None => vec![run_session(a, input, start, i)],
                    })
                    .expect("spawn session thread")
            })
            .collect();
        let cpu0 = process_cpu();
        let calls0 = video_hw::diagnostics::nvdec_call_times();
        let setup0 = video_hw::diagnostics::nvdec_setup_times();
        start.wait();
        let t0 = Instant::now();
        // A session without input keeps the CUDA context alive after the others end, so that
        // the memory left after them (the baseline) can be read without recreating it.
        // The reading is of one GPU's free memory: meaningless once sessions spread.
        let keeper = if a.measure_mem && uses_gpu && !a.spread_over_gpus {
            Decoder::open(a.config(inputs[0].codec).engine(EnginePreference::Only(Engine::Nvdec))).ok()
        } else {
            None
        };
        let monitor = keeper.as_ref().map(|_| {
            let stop = &stop;
            s.spawn(move || sample_min_free(a.device, stop, Duration::from_millis(100)))
        });
        let results: Vec<SessionResult> = handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![SessionResult { fatal: Some("session thread panicked".into()), ..Default::default() }]
                })
            })
            .collect();
        let wall = t0.elapsed();
        // The sessions' decoders are destroyed on the closer thread after their drop
        // returned: how long until the last one is gone (reported next to the wall time;
        // CPU read after it, so the destroys' CPU counts).
        let closed = video_hw::diagnostics::wait_for_nvdec_closes(CLOSE_WAIT).then(|| t0.elapsed());
        // Sessions that ended cleanly parked their decoders for the next stream; the
        // reading before those are destroyed is reported beside the one after.
        let cpu_parked = process_cpu();
        // The memory left after the sessions is read without the decoders they parked.
        video_hw::diagnostics::release_parked_nvdec_decoders();
        let cpu1 = process_cpu();
        let calls1 = video_hw::diagnostics::nvdec_call_times();
        stop.store(true, Ordering::SeqCst);
        let min_free = monitor.and_then(|m| m.join().ok().flatten());
        let free_after = keeper
            .as_ref()
            .filter(|_| closed.is_some())
            .and_then(|_| video_hw::diagnostics::gpu_memory(a.device).ok())
            .map(|m| m.0);
        drop(keeper);
        (results, (wall, closed), (cpu0, cpu_parked), cpu1, min_free, free_after, (calls0, calls1), setup0)
    });
    let (wall, closed) = wall;
    let (cpu0, cpu_parked) = cpu0;

    // Read before the probe below, which asks NVDEC more than the sessions did.
    let setup_times = video_hw::diagnostics::nvdec_setup_times();
    // After the timed part (a probe before it would warm the registry's cache): what the
    // NVDEC probe says about the GPU, for the report.
    let nvdec = (a.engine == EnginePreference::Only(Engine::Nvdec)).then(|| nvdec_facts(a.device, inputs[0].codec));
    let frames: u64 = results.iter().map(|r| r.frames).sum();
    let expected: Vec<u64> = (0..n)
        .map(|i| {
            let per_pass = session_input(i).frames * u64::from(a.repeat_input);
            if a.max_frames > 0 { per_pass.min(a.max_frames) } else { per_pass }
        })
        .collect();
    let frames_ok = results.iter().zip(&expected).all(|(r, e)| r.frames == *e);
    let fatal: Vec<String> =
        results.iter().enumerate().filter_map(|(i, r)| r.fatal.as_ref().map(|f| format!("session {i}: {f}"))).collect();
    let secs = wall.as_secs_f64();
    let ttff_ms: Vec<f64> = results.iter().filter_map(|r| r.ttff).map(|d| d.as_secs_f64() * 1e3).collect();
    let open_ms: Vec<f64> = results.iter().map(|r| r.open.as_secs_f64() * 1e3).collect();
    let session_fps: Vec<f64> = results
        .iter()
        .map(|r| if r.wall.is_zero() { 0.0 } else { round3(r.frames as f64 / r.wall.as_secs_f64()) })
        .collect();
    // Each session's rate from its own first frame to its end, summed: the steady rate of the
    // whole run, its start-up (contexts, decoder creations, first GOPs) left out.
    let steady_of = |r: &SessionResult| -> Option<f64> {
        let after_first = r.wall.checked_sub(r.ttff?)?;
        (!after_first.is_zero() && r.frames > 1).then(|| (r.frames - 1) as f64 / after_first.as_secs_f64())
    };
    let steady_fps: f64 = results.iter().filter_map(steady_of).sum();
    // The same per engine (per GPU with --spread-over-gpus): whether one GPU lags.
    let mut steady_per_backend = std::collections::BTreeMap::<String, f64>::new();
    for r in results.iter().filter(|r| !r.backend.is_empty()) {
        *steady_per_backend.entry(r.backend.clone()).or_default() += steady_of(r).unwrap_or(0.0);
    }
    let cpu_since_start = |c: Option<(f64, u64)>| cpu0.zip(c).map(|(c0, c1)| c1.0 - c0.0);
    let (cpu_s, cpu_before_parked_release_s) = (cpu_since_start(cpu1), cpu_since_start(cpu_parked));
    let decode_sessions = a.segmented.unwrap_or(n);
    let mem_per_session = match (free_after, min_free) {
        (Some(after), Some(min)) => Some(mib(after.saturating_sub(min)) / decode_sessions as f64),
        _ => None,
    };
    let ok = fatal.is_empty() && frames_ok;
    // Where the sessions' time went: driver calls per frame (summed over threads).
    let call = |f: fn(&video_hw::diagnostics::NvdecCallTimes) -> video_hw::diagnostics::CallTime| {
        let (a, b) = (f(&calls.0), f(&calls.1));
        let (n_calls, total) = (b.calls - a.calls, b.total.saturating_sub(a.total));
        json!({"calls": n_calls,
               "us_per_call": us_each(total, n_calls),
               "us_per_frame": us_each(total, frames),
               // Stalls: calls over CallTime::LONG in the span, and the process's longest call.
               "long_calls": b.long_calls - a.long_calls,
               "long_ms": round3(b.long_total.saturating_sub(a.long_total).as_secs_f64() * 1e3),
               "longest_ms": round3(b.longest.as_secs_f64() * 1e3)})
    };
    let driver_calls = json!({
        "parse": call(|t| t.parse),
        "decode_picture": call(|t| t.decode_picture),
        "map": call(|t| t.map),
        "copy": call(|t| t.copy),
        "lent": call(|t| t.lent),
        "host_async": call(|t| t.host_async),
        "host_staged": call(|t| t.host_staged),
        "copy_wait": call(|t| t.copy_wait),
        "host_wait": call(|t| t.host_wait),
        "unmap": call(|t| t.unmap),
        "decode_status": call(|t| t.decode_status),
    });
    let cpu_split = a.cpu_split.then(|| cpu_split(&results, &calls, &(setup0, setup_times), cpu_s, frames));
    // Where start-up went (process-wide: with --warm the warm-up session paid the one-time steps;
    // the keeper session of the memory reading is included).
    let startup = {
        let t = setup_times;
        let ms = |d: Duration| round3(d.as_secs_f64() * 1e3);
        let once = |d: Option<Duration>| d.map(ms);
        let each = |c: video_hw::diagnostics::CallTime| json!({"calls": c.calls, "ms": ms(c.total)});
        json!({
            "cuda_load_ms": once(t.cuda_load),
            "cuda_init_ms": once(t.cuda_init),
            "cuvid_load_ms": once(t.cuvid_load),
            "context": each(t.context),
            "decoder_caps": each(t.decoder_caps),
            "session_setup": each(t.session_setup),
            "create_parser": each(t.create_parser),
            "create_decoder": each(t.create_decoder),
            "reuse_decoder": each(t.reuse_decoder),
            "creation_barrier": each(t.creation_barrier),
            "alloc": each(t.alloc),
            "destroy_parser": each(t.destroy_parser),
            "destroy_decoder": each(t.destroy_decoder),
            "close": each(t.close),
        })
    };
    let report = json!({
        "tool": "video-hw",
        "mode": "run",
        "version": env!("CARGO_PKG_VERSION"),
        "backend": results.iter().find(|r| !r.backend.is_empty()).map(|r| r.backend.clone()),
        "sessions_per_backend": sessions_per_backend(results.iter().map(|r| r.backend.as_str())),
        "nvdec": nvdec,
        "inputs": inputs.iter().map(|i| i.facts.clone()).collect::<Vec<_>>(),
        "streams": n,
        "sessions": decode_sessions,
        "segmented": segment_facts.into_inner().unwrap_or_else(|p| p.into_inner()),
        "repeat_input": a.repeat_input,
        "loop": if a.flush_each_pass { "flush-each-pass" } else { "continuous" },
        "chunk": a.chunk,
        "device": a.device,
        "output": output_name(a.output),
        "max_frames": a.max_frames,
        "frames_total": frames,
        "frames_per_session": results.iter().map(|r| r.frames).collect::<Vec<_>>(),
        "expected_frames_per_session": expected,
        "frames_ok": frames_ok,
        "wall_s": round3(secs),
        "fps": if secs > 0.0 { round3(frames as f64 / secs) } else { 0.0 },
        "closes_done_s": closed.map(|d| round3(d.as_secs_f64())),
        "session_fps": session_fps,
        "steady_fps": round3(steady_fps),
        "steady_fps_per_backend": steady_per_backend.into_iter().map(|(b, f)| (b, round3(f))).collect::<std::collections::BTreeMap<_, _>>(),
        "ttff_ms_median": median(&ttff_ms).map(round3),
        "ttff_ms_max": ttff_ms.iter().copied().reduce(f64::max).map(round3),
        "open_ms_median": median(&open_ms).map(round3),
        "open_ms_max": open_ms.iter().copied().reduce(f64::max).map(round3),
        "cpu_s": cpu_s.map(round3),
        "cpu_ms_per_frame": cpu_s.filter(|_| frames > 0).map(|c| round3(c * 1e3 / frames as f64)),
        // The same without destroying the decoders the sessions parked for reuse (which
        // `cpu_ms_per_frame` counts: the benchmark releases them to read the memory left).
        "cpu_ms_per_frame_before_parked_release": cpu_before_parked_release_s
            .filter(|_| frames > 0)
            .map(|c| round3(c * 1e3 / frames as f64)),
        "max_rss_kib": cpu1.map(|c| c.1),
        "mem_per_session_mib": mem_per_session.map(round3),
        "mem_free_after_mib": free_after.map(mib),
        "mem_free_min_mib": min_free.map(mib),
        "bitstream_errors": results.iter().map(|r| r.bitstream_errors).sum::<u64>(),
        "first_bitstream_error": results.iter().find_map(|r| r.first_error.clone()),
        "driver_calls": driver_calls,
        "cpu_split": cpu_split,
        "startup": startup,
        "errors": fatal,
        "ok": ok,
    });
    if !a.quiet {
        eprintln!(
            "nvdec_bench: {n} session(s) x {} pass(es) of {}: {frames} frames in {secs:.3} s = {:.1} fps; ttff median {} ms; cpu {} ms/frame; mem/session {} MiB; {}",
            a.repeat_input,
            inputs.iter().map(|i| i.path.display().to_string()).collect::<Vec<_>>().join(", "),
            frames as f64 / secs.max(1e-9),
            median(&ttff_ms).map_or("-".into(), |v| format!("{v:.1}")),
            report["cpu_ms_per_frame"],
            report["mem_per_session_mib"],
            if ok { "ok".to_string() } else { format!("NOT OK (frames_ok {frames_ok}, {} fatal)", report["errors"]) },
        );
        if let Some(split) = report["cpu_split"].as_object() {
            for (group, values) in split {
                let parts: Vec<String> =
                    values.as_object().into_iter().flatten().map(|(k, v)| format!("{k} {v}")).collect();
                eprintln!("nvdec_bench: cpu split, {group}: {}", parts.join(", "));
            }
        }
    }
    Ok((report, ok))
}

/// Where the run's CPU went (`--cpu-split`), from the call counters' CPU side and the
/// session threads' CPU clocks, read before and after the timed part. Per frame (µs): NVIDIA's
/// parser (the parse call less the calls its callbacks make — decode, map, copy-out, unmap,
/// status, decoder creation — so our callbacks' bookkeeping, a parked decoder's reuse and the
/// split's own clock reads of those calls count here), those calls, the rest of the session
/// threads (our bitstream layer, the frame hand-off, the session's open and close), and the
/// process's other threads less the one-time steps that ran there (the driver's own threads,
/// the closer). One-time steps (ms): `cuInit`, the primary context and `cuvidGetDecoderCaps`
/// (on the engine probe's thread; a context of a session's own, `VIDEO_HW_NVDEC_CONTEXT=own`,
/// on the session's thread), decoder creations (in the parse call) and destroys (on the closer
/// thread, or the main thread releasing parked decoders). A 10-bit stream's caps query and a
/// decoder replaced at a format change run inside the parse call: such runs overstate
/// `parser` and understate `other_threads` by them. The process CPU has 10 ms resolution.
pub(crate) fn cpu_split(
    results: &[SessionResult],
    calls: &(video_hw::diagnostics::NvdecCallTimes, video_hw::diagnostics::NvdecCallTimes),
    setup: &(video_hw::diagnostics::NvdecSetupTimes, video_hw::diagnostics::NvdecSetupTimes),
    process_cpu_s: Option<f64>,
    frames: u64,
) -> Value {
    use video_hw::diagnostics::{CallTime, NvdecCallTimes, NvdecSetupTimes};
    let per_frame = |d: Duration| us_each(d, frames);
    let ms = |d: Duration| round3(d.as_secs_f64() * 1e3);
    let cpu = |f: fn(&NvdecCallTimes) -> CallTime| f(&calls.1).cpu.saturating_sub(f(&calls.0).cpu);
    let once = |f: fn(&NvdecSetupTimes) -> CallTime| f(&setup.1).cpu.saturating_sub(f(&setup.0).cpu);
    let cuda_init =
        if setup.0.cuda_init.is_none() { setup.1.cuda_init_cpu.unwrap_or_default() } else { Duration::ZERO };
    let (context, caps) = (once(|t| t.context), once(|t| t.decoder_caps));
    let (created, destroyed) = (once(|t| t.create_decoder), once(|t| t.destroy_decoder));
    let parse = cpu(|t| t.parse);
    let (decode, map, copy, copy_wait) =
        (cpu(|t| t.decode_picture), cpu(|t| t.map), cpu(|t| t.copy), cpu(|t| t.copy_wait));
    let (unmap, status) = (cpu(|t| t.unmap), cpu(|t| t.decode_status));
    let parser_only = parse.saturating_sub(decode + map + copy + unmap + status + created);
    let sessions: Option<Duration> = results.iter().map(|r| r.cpu).sum();
    let session_other = sessions.map(|s| s.saturating_sub(parse));
    // Contexts of the sessions' own are made on their threads, not the probe's.
    let off_session_context =
        if std::env::var("VIDEO_HW_NVDEC_CONTEXT").as_deref() == Ok("own") { Duration::ZERO } else { context };
    let off_session_steps = cuda_init + off_session_context + caps + destroyed;
    let other_threads = sessions.zip(process_cpu_s).map(|(s, p)| {
        Duration::try_from_secs_f64(p.max(0.0)).unwrap_or_default().saturating_sub(s + off_session_steps)
    });
    json!({
        "us_per_frame": {
            "parser": per_frame(parser_only),
            "decode_picture": per_frame(decode),
            "map": per_frame(map),
            "copy_out": per_frame(copy),
            "of_which_copy_wait": per_frame(copy_wait),
            "unmap": per_frame(unmap),
            "decode_status": per_frame(status),
            "session_other": session_other.map(per_frame),
            "other_threads": other_threads.map(per_frame),
            "session_threads": sessions.map(per_frame),
        },
        "live_threads_ms": live_thread_cpu_ms(),
        "one_time_ms": {
            "cuda_init": ms(cuda_init),
            "contexts": ms(context),
            "decoder_caps": ms(caps),
            "decoder_creations": ms(created),
            "decoder_destroys": ms(destroyed),
        },
    })
}

/// CPU of this process's threads still alive (the driver's own among them), in ms since
/// each started, by thread name, those over 5 ms (Linux: /proc/self/task; 10 ms ticks).
pub(crate) fn live_thread_cpu_ms() -> Value {
    let mut by_name = serde_json::Map::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default().trim().to_string();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if let Some((cpu_s, _)) = parse_proc_cpu(&stat, "") {
            let ms = by_name.get(&name).and_then(Value::as_f64).unwrap_or(0.0) + cpu_s * 1e3;
            by_name.insert(name, json!(round3(ms)));
        }
    }
    by_name.retain(|_, v| v.as_f64().is_some_and(|ms| ms > 5.0));
    Value::Object(by_name)
}
