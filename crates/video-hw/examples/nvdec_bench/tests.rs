//! The driver's unit tests (no GPU): argument parsing, statistics, the RNG, corruption,
//! cut points, and `run` and `soak` on OpenH264 with a fixture.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use video_hw::{Engine, EnginePreference, Output};

use crate::args::{Args, Mode, output_name, parse_args, parse_output, parse_size, sessions_per_backend};
use crate::cut::{cut, cut_point, keyframe_offsets, start_code_before};
use crate::run::{SessionResult, cpu_split, run};
use crate::soak::soak;
use crate::util::{XorShift, corrupt_copy, load_input, median, parse_proc_cpu, process_cpu};

fn args(s: &str) -> Result<Args, String> {
    parse_args(s.split_whitespace().map(String::from))
}

#[test]
fn parses_run_options() {
    let a = args("--input a.h265 --streams 7 --repeat-input 10 --chunk 1m --device 1 --output host-nv12").unwrap();
    assert_eq!(a.mode, Mode::Run);
    assert_eq!(a.inputs, vec![PathBuf::from("a.h265")]);
    assert_eq!((a.streams(), a.repeat_input, a.chunk, a.device), (7, 10, 1 << 20, 1));
    assert_eq!(a.output, Output::HOST_NV12);
    assert_eq!(a.engine, EnginePreference::Only(Engine::Nvdec));
    let d = args("x.h264").unwrap();
    assert_eq!((d.streams(), d.repeat_input, d.chunk, d.output), (1, 1, 65536, Output::CUDA_NV12));
    assert!(d.measure_mem && !d.flush_each_pass);
}

#[test]
fn cpu_split_takes_the_callbacks_calls_out_of_the_parser_and_startup_out_of_other_threads() {
    use video_hw::diagnostics::{CallTime, NvdecCallTimes, NvdecSetupTimes};
    let ms = Duration::from_millis;
    let cpu = |m: u64| CallTime { calls: 1, total: ms(m), cpu: ms(m), ..CallTime::default() };
    let after = NvdecCallTimes {
        parse: cpu(500),
        decode_picture: cpu(100),
        map: cpu(80),
        copy: cpu(90),
        lent: CallTime::default(),
        host_async: CallTime::default(),
        host_staged: CallTime::default(),
        copy_wait: cpu(30),
        host_wait: CallTime::default(),
        unmap: cpu(5),
        decode_status: cpu(5),
    };
    let setup1 = NvdecSetupTimes {
        cuda_init: Some(ms(100)),
        cuda_init_cpu: Some(ms(100)),
        context: cpu(100),
        create_decoder: cpu(40),
        destroy_decoder: cpu(20),
        ..NvdecSetupTimes::default()
    };
    let session = SessionResult { cpu: Some(ms(600)), ..SessionResult::default() };
    // 1,000 frames; the process used 900 ms, the session thread 600 ms of it.
    let split = cpu_split(
        &[session],
        &(NvdecCallTimes::default(), after),
        &(NvdecSetupTimes::default(), setup1),
        Some(0.9),
        1000,
    );
    let per_frame = &split["us_per_frame"];
    // 500 - (100 + 80 + 90 + 5 + 5 + 40 created in the sequence callback) = 180 ms.
    assert_eq!(per_frame["parser"], json!(180.0));
    assert_eq!(per_frame["session_other"], json!(100.0));
    // 900 - 600 - (100 cuInit + 100 context + 20 destroy) = 80 ms.
    assert_eq!(per_frame["other_threads"], json!(80.0));
    assert_eq!(split["one_time_ms"]["cuda_init"], json!(100.0));
    // A warm run: cuInit was before the clock, so it is not this run's; a session
    // without a CPU reading (segmented) leaves the session figures out.
    let warm = cpu_split(&[SessionResult::default()], &(after, after), &(setup1, setup1), None, 1000);
    assert_eq!(warm["one_time_ms"]["cuda_init"], json!(0.0));
    assert_eq!(warm["us_per_frame"]["session_other"], Value::Null);
}

#[test]
fn parses_modes_and_soak_defaults() {
    let s = args("--only soak --input a.h265 --input b.h264 --duration 130 --seed 7").unwrap();
    assert_eq!(s.mode, Mode::Soak);
    assert_eq!((s.streams(), s.corrupt_session(), s.seed), (14, Some(13), 7));
    assert_eq!(s.duration, Duration::from_secs(130));
    assert_eq!(args("soak a.h265 --corrupt none").unwrap().corrupt_session(), None);
    assert_eq!(args("soak a.h265 --corrupt 3").unwrap().corrupt_session(), Some(3));
    assert_eq!(args("probe a.h265 b.h264").unwrap().inputs.len(), 2);
    let c = args("cut a.h264 --out b.h264 --gops 2 --max-bytes 12m").unwrap();
    assert_eq!((c.mode, c.gops, c.max_bytes), (Mode::Cut, Some(2), Some(12 << 20)));
    // a file named like a mode is an input when it is not the first argument
    assert_eq!(args("--input a.h264 soak").unwrap().inputs.len(), 2);
}

#[test]
fn rejects_bad_arguments() {
    for bad in [
        "",
        "--streams 0 a.h264",
        "--streams x a.h264",
        "--chunk 0 a.h264",
        "--chunk 12q a.h264",
        "--output rgb a.h264",
        "--engine nonesuch a.h264",
        "--bogus a.h264",
        "--repeat-input 0 a.h264",
        "cut a.h264",
        "soak a.h264 --corrupt 14",
        "soak a.h264 --streams 1",
        "--duration -3 a.h264",
        "--input",
    ] {
        assert!(args(bad).is_err(), "accepted: {bad:?}");
    }
    assert_eq!(args("--help"), Err(String::new()));
}

#[test]
fn sizes() {
    assert_eq!(parse_size("65536"), Ok(65536));
    assert_eq!(parse_size("64k"), Ok(65536));
    assert_eq!(parse_size("64KiB"), Ok(65536));
    assert_eq!(parse_size("2M"), Ok(2 << 20));
    assert!(parse_size("k").is_err() && parse_size("0").is_err() && parse_size("-1").is_err());
}

#[test]
fn output_names_round_trip() {
    for o in [Output::CUDA_NV12, Output::HOST_NV12, Output::HOST_YUV420P, Output::Metadata] {
        assert_eq!(parse_output(&output_name(o)), Ok(o), "{}", output_name(o));
    }
}

#[test]
fn stats() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    assert_eq!(median(&[f64::NAN, 1.0]), Some(1.0));
}

#[test]
fn proc_cpu_parsing() {
    let stat = "4242 (nvdec (bench)) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 16 0 100 0 0";
    assert_eq!(parse_proc_cpu(stat, "Name:\tx\nVmHWM:\t  123456 kB\n"), Some((3.75, 123_456)));
    assert_eq!(parse_proc_cpu("garbage", ""), None);
    if cfg!(target_os = "linux") {
        let (cpu, rss) = process_cpu().unwrap();
        assert!(cpu >= 0.0 && rss > 0);
    }
}

#[test]
fn sessions_are_counted_per_backend_and_the_spread_flag_parses() {
    let counts = sessions_per_backend(["nvdec (GPU 0: a)", "", "nvdec (GPU 1: a)", "nvdec (GPU 0: a)"].into_iter());
    assert_eq!(counts.get("nvdec (GPU 0: a)"), Some(&2));
    assert_eq!(counts.get("nvdec (GPU 1: a)"), Some(&1));
    assert_eq!(counts.len(), 2);
    assert!(args("--input a.h265 --spread-over-gpus").unwrap().spread_over_gpus);
    assert!(!args("--input a.h265").unwrap().spread_over_gpus);
}

#[test]
fn xorshift_is_seeded_and_spread() {
    let a: Vec<u64> = {
        let mut r = XorShift::new(1);
        (0..5).map(|_| r.next_u64()).collect()
    };
    let mut r = XorShift::new(1);
    assert_eq!(a, (0..5).map(|_| r.next_u64()).collect::<Vec<_>>());
    let mut r2 = XorShift::new(2);
    assert_ne!(a[0], r2.next_u64());
    let mut r = XorShift::new(0);
    let mut hist = [0u32; 10];
    for _ in 0..10_000 {
        let x = r.range(3, 12);
        assert!((3..=12).contains(&x));
        hist[(x - 3) as usize] += 1;
    }
    assert!(hist.iter().all(|&h| (800..1200).contains(&h)), "{hist:?}");
}

#[test]
fn corrupt_copy_flips_about_every_n_bytes() {
    let data = vec![0u8; 100_000];
    let (c, flips) = corrupt_copy(&data, 5, 1000);
    assert_eq!(c.len(), data.len());
    let changed = c.iter().filter(|&&b| b != 0).count();
    assert_eq!(changed, flips);
    assert!((80..=125).contains(&flips), "{flips} flips");
    assert!(c.iter().all(|b| b.count_ones() <= 1));
    assert_eq!(corrupt_copy(&data, 5, 1000).0, c, "deterministic");
}

#[test]
fn cut_points() {
    let keys = [0, 1000, 2000, 3000];
    assert_eq!(cut_point(&keys, 4000, Some(1), None), Some(1000));
    assert_eq!(cut_point(&keys, 4000, Some(3), None), Some(3000));
    assert_eq!(cut_point(&keys, 4000, Some(9), None), None);
    assert_eq!(cut_point(&keys, 4000, None, Some(2500)), Some(2000));
    assert_eq!(cut_point(&keys, 4000, None, Some(500)), Some(1000), "at least one GOP");
    assert_eq!(cut_point(&keys, 4000, Some(3), Some(2500)), Some(2000));
    assert_eq!(cut_point(&keys, 4000, None, Some(9000)), None);
    assert_eq!(cut_point(&[0], 4000, Some(1), Some(10)), None);
    assert_eq!(start_code_before(&[9, 0, 0, 0, 1, 0x65], 5), 1);
    assert_eq!(start_code_before(&[9, 9, 0, 0, 1, 0x65], 5), 2);
    assert_eq!(start_code_before(&[9, 9, 9, 9, 9, 0x65], 5), 5);
}

/// The project's own fixtures: probe, cut at a GOP boundary, and a throughput run on
/// the software engine (no GPU) give consistent frame counts.
#[test]
fn fixture_probe_cut_and_software_run() {
    let path = fixture();
    let input = load_input(&path).unwrap();
    assert!(input.frames > 0 && input.facts["width"] == 320, "{}", input.facts);
    let keys = keyframe_offsets(&input.data, input.codec).unwrap();
    assert!(keys.len() >= 2 && keys[0] == 0, "{keys:?}");
    let tmp = std::env::temp_dir().join(format!("nvdec_bench_cut_{}.h264", std::process::id()));
    let a =
        Args { mode: Mode::Cut, inputs: vec![path.clone()], out: Some(tmp.clone()), gops: Some(1), ..Args::default() };
    let (report, ok) = cut(&a).unwrap();
    assert!(ok);
    let cut_frames = report["to"]["frames"].as_u64().unwrap();
    assert!(cut_frames > 0 && cut_frames < input.frames, "{report}");
    assert_eq!(std::fs::metadata(&tmp).unwrap().len() as usize, keys[1]);

    // Two sessions, two continuous passes of the cut on OpenH264, host output.
    let a = Args {
        inputs: vec![tmp.clone()],
        streams: Some(2),
        repeat_input: 2,
        chunk: 4096,
        output: Output::HOST_NV12,
        engine: EnginePreference::Only(Engine::OpenH264),
        measure_mem: false,
        quiet: true,
        ..Args::default()
    };
    let (r, ok) = run(&a).unwrap();
    assert!(ok, "{r}");
    assert_eq!(r["frames_total"].as_u64(), Some(4 * cut_frames));
    assert!(r["fps"].as_f64().unwrap() > 0.0 && r["ttff_ms_median"].as_f64().is_some());
    // Flushed passes give the same count; max-frames stops early.
    let (r, ok) = run(&Args { flush_each_pass: true, ..a.clone() }).unwrap();
    assert!(ok && r["frames_total"].as_u64() == Some(4 * cut_frames), "{r}");
    let (r, ok) = run(&Args { max_frames: 1, ..a.clone() }).unwrap();
    assert!(ok && r["frames_total"].as_u64() == Some(2), "{r}");
    let _ = std::fs::remove_file(&tmp);
}

/// An H.264 fixture with an IDR every 12 frames that OpenH264 decodes.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/h264/gop12-idr-cars-320x240.h264")
}

/// The soak's bookkeeping on the software engine: short, three sessions, one corrupt.
#[test]
fn soak_on_software_engine() {
    let a = Args {
        mode: Mode::Soak,
        inputs: vec![fixture()],
        streams: Some(3),
        duration: Duration::from_millis(1500),
        output: Output::HOST_NV12,
        engine: EnginePreference::Only(Engine::OpenH264),
        corrupt_every: 300,
        quiet: true,
        ..Args::default()
    };
    let (r, pass) = soak(&a).unwrap();
    // Known bug in the OpenH264 backend, not in the soak: a third stream after two
    // flushes in one session fails with dsOutOfMemory (`nvdec_bench --engine openh264
    // --output host-nv12 --repeat-input 3 --flush-each-pass FILE` shows it). Tolerated
    // here so that the soak's bookkeeping is still tested; no other failure is.
    let known = |f: &Value| f.as_str().is_some_and(|s| s.contains("errors: [") && !s.contains("passes with"));
    let failures = r["failures"].as_array().unwrap();
    assert!(pass || failures.iter().all(|f| known(f) && f.to_string().contains("dsOutOfMemory")), "{r:#}");
    assert!(r["passes_checked"].as_u64().unwrap() >= 2, "{r:#}");
    assert_eq!(r["passes_mismatched"].as_u64(), Some(0));
    assert_eq!(r["corrupt"]["session"].as_u64(), Some(2));
    assert!(r["corrupt"]["bit_flips"].as_u64().unwrap() > 10, "{r:#}");
}
