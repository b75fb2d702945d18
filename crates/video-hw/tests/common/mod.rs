//! Shared helpers for tests that read the shared test corpus (`../shared/testdata/corpus`,
//! beside the checkout) or the project's own fixtures (`testdata/`).
//!
//! Tests that need the shared corpus have `corpus` in their name. Where the corpus is
//! absent they print why and pass, unless `VIDEO_HW_REQUIRE_CORPUS=1` is set (CI sets it),
//! in which case they fail.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Metrics recorder + WARN log capture (the same file the unit tests use).
#[path = "../../src/test_observe.rs"]
pub mod observe;

/// The committed real clip as I420 pictures, for the encoder tests.
pub mod clip;

/// Readers over the fixtures, for the random-access tests.
pub mod readers;

/// Scratch folders and files that remove themselves.
pub mod scratch;
#[allow(unused_imports)] // not every test binary writes files
pub use scratch::{Scratch, scratch_dir, scratch_file};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// The project's own fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("testdata")
}

/// `../shared/testdata/corpus` beside the checkout (or `$VIDEO_HW_CORPUS`), if present.
/// Panics when absent and `VIDEO_HW_REQUIRE_CORPUS=1`.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIDEO_HW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/testdata/corpus"));
    if dir.join("metadata.json").is_file() {
        return Some(dir);
    }
    if std::env::var("VIDEO_HW_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("VIDEO_HW_REQUIRE_CORPUS=1 but no corpus at {}", dir.display());
    }
    eprintln!("note: shared corpus not found at {}; corpus test passes without checking", dir.display());
    None
}

/// One stream of the corpus, as `metadata.json` describes it.
#[derive(Debug, Clone)]
pub struct CorpusStream {
    /// Path relative to the corpus root, e.g. `openh264/BA1_FT_C.264`.
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// "h264" or "hevc" (None for streams ffprobe could not read).
    pub codec: Option<String>,
    /// ffprobe's profile name.
    pub profile: Option<String>,
    /// Display size.
    pub width: u32,
    /// Display size.
    pub height: u32,
    /// Bit depth (8 or 10).
    pub bit_depth: u32,
    /// ffprobe's level (H.264: level_idc; HEVC: general_level_idc).
    pub level: i64,
    /// Under `bad/`.
    pub bad: bool,
    /// "progressive", "tt", "bb", … (H.264 only).
    pub field_order: Option<String>,
    /// Reference decode: framemd5 file for yuv420p / yuv420p10le output.
    pub yuv_framemd5: Option<PathBuf>,
    /// Reference decode: framemd5 for nv12 / p010le output.
    pub nv12_framemd5: Option<PathBuf>,
}

impl CorpusStream {
    /// Number of frames in the reference decode.
    pub fn reference_frames(&self) -> Option<usize> {
        let f = self.yuv_framemd5.as_ref()?;
        Some(read_framemd5(f).len())
    }

    /// True for an interlaced H.264 stream (MBAFF or PAFF).
    pub fn interlaced(&self) -> bool {
        matches!(self.field_order.as_deref(), Some("tt" | "bb" | "tb" | "bt"))
    }
}

/// Every stream listed in the corpus metadata.
pub fn corpus_streams(dir: &Path) -> Vec<CorpusStream> {
    let text = std::fs::read_to_string(dir.join("metadata.json")).expect("metadata.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("metadata.json parses");
    let mut out = Vec::new();
    for e in v.as_array().expect("array") {
        let rel = e["path"].as_str().unwrap().to_string();
        let reference = |tag: &str| e["refs"][tag]["file"].as_str().map(|f| dir.join(f)).filter(|p| p.is_file());
        out.push(CorpusStream {
            path: dir.join(&rel),
            rel,
            codec: e["codec"].as_str().map(str::to_string),
            profile: e["profile"].as_str().map(str::to_string),
            width: e["width"].as_u64().unwrap_or(0) as u32,
            height: e["height"].as_u64().unwrap_or(0) as u32,
            bit_depth: e["bit_depth"].as_u64().unwrap_or(0) as u32,
            level: e["level"].as_i64().unwrap_or(0),
            bad: e["bad"].as_bool().unwrap_or(false),
            field_order: e["field_order"].as_str().map(str::to_string),
            yuv_framemd5: reference("yuv"),
            nv12_framemd5: reference("nv12"),
        });
    }
    out
}

/// `f` over every item, on as many threads as the machine has cores (at most one per item),
/// the results in the items' order; a panic in `f` is the caller's panic. The corpus tests
/// decode one stream after another and each stream is independent: one thread per test
/// left a core idle for the minute the longest of them takes.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = items.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        for worker in workers {
            let done = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (i, r) in done {
                out[i] = Some(r);
            }
        }
    });
    out.into_iter().map(|r| r.expect("every item is mapped once")).collect()
}

/// The clean (not `bad/`) streams of one codec ("h264" or "hevc").
pub fn clean_streams(dir: &Path, codec: &str) -> Vec<CorpusStream> {
    corpus_streams(dir).into_iter().filter(|s| !s.bad && s.codec.as_deref() == Some(codec)).collect()
}

/// One line of a framemd5 file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameMd5 {
    /// Presentation time in the stream's time base (column 2).
    pub pts: i64,
    /// Frame size in bytes (column 5).
    pub size: usize,
    /// MD5 of the frame's planes, lower-case hex (column 6).
    pub md5: String,
}

/// The frame lines of a framemd5 file (comments skipped).
pub fn read_framemd5(path: &Path) -> Vec<FrameMd5> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split(',').map(str::trim).collect();
            FrameMd5 {
                pts: cols[1].parse().expect("pts column"),
                size: cols[4].parse().expect("size column"),
                md5: cols[5].to_string(),
            }
        })
        .collect()
}

/// The per-frame MD5s of a framemd5 file, in its order.
pub fn framemd5_hashes(path: &Path) -> Vec<String> {
    read_framemd5(path).into_iter().map(|f| f.md5).collect()
}

/// The per-frame MD5s of a fixture's `<name>.<tag>.framemd5` reference (`nv12`, `p010`, …).
pub fn fixture_reference_md5s(f: &Fixture, tag: &str) -> Vec<String> {
    framemd5_hashes(&f.path.with_file_name(format!("{}.{tag}.framemd5", f.path.file_name().unwrap().to_string_lossy())))
}

/// Whether the FFmpeg engines found and loaded FFmpeg here (at run time; see
/// `video_hw::registry::ffmpeg_runtime`). Panics where it is not loaded and
/// `VIDEO_HW_REQUIRE_FFMPEG=1` (CI's runs with FFmpeg set it), so that no test that
/// needs FFmpeg, or picks the engine it expects by it, passes without it there.
pub fn ffmpeg_loaded() -> bool {
    let rt = video_hw::registry::ffmpeg_runtime();
    if !rt.loaded && std::env::var("VIDEO_HW_REQUIRE_FFMPEG").as_deref() == Ok("1") {
        panic!("VIDEO_HW_REQUIRE_FFMPEG=1 but no FFmpeg: {}; searched: {:?}", rt.summary, rt.tried);
    }
    rt.loaded
}

/// For a test that needs FFmpeg: true where it is loaded; false, with a note that the
/// test checks nothing, where it is not (the test then returns and passes), unless
/// `VIDEO_HW_REQUIRE_FFMPEG=1`, which makes that a failure.
pub fn need_ffmpeg() -> bool {
    let loaded = ffmpeg_loaded();
    if !loaded {
        eprintln!("note: no FFmpeg here ({}); this test checks nothing", video_hw::registry::ffmpeg_runtime().summary);
    }
    loaded
}

/// A GPU test's turn, held for the whole test: the GPU tests of one binary run one at a
/// time, so that a leak check's session and memory counts never include the sessions of
/// another test running beside it. `None` (the test returns, passing with a note) unless
/// GPU tests were asked for (see [`gpu_tests_enabled`]).
pub fn gpu_test() -> Option<std::sync::MutexGuard<'static, ()>> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    gpu_tests_enabled().then(|| TURN.lock().unwrap_or_else(|p| p.into_inner()))
}

/// True when GPU tests were asked for (`VIDEO_HW_TEST_GPU=1`). GPU tests return early
/// (pass, with a note) otherwise; when asked for they must fail without a GPU.
pub fn gpu_tests_enabled() -> bool {
    let on = std::env::var("VIDEO_HW_TEST_GPU").as_deref() == Ok("1");
    if !on {
        eprintln!("note: GPU test not run (set VIDEO_HW_TEST_GPU=1 on a machine with an NVIDIA GPU)");
    }
    on
}

/// How long a leak check waits for dropped NVDEC sessions to be destroyed (each takes
/// 25-230 ms on the closer thread).
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Lets the closer thread destroy the sessions dropped so far (failing the test if it
/// cannot in time) and destroys the decoders parked for reuse, so that sessions and memory
/// read as with nothing open.
fn settle_nvdec(label: &str) {
    assert!(video_hw::diagnostics::wait_for_nvdec_closes(CLOSE_WAIT), "{label}: NVDEC closes still pending");
    video_hw::diagnostics::release_parked_nvdec_decoders();
}

/// NVDEC sessions and free memory of GPU 0 before a test's work, to check afterwards that
/// it left none behind.
pub struct GpuBaseline {
    free: u64,
    sessions: usize,
}

impl GpuBaseline {
    /// Reads GPU 0's free memory and this process's NVDEC sessions now.
    pub fn take() -> Self {
        settle_nvdec("baseline");
        let (free, _) = video_hw::diagnostics::gpu_memory(0).expect("GPU memory");
        GpuBaseline { free, sessions: video_hw::diagnostics::nvdec_sessions() }
    }

    /// Prints the change since [`take`](Self::take) (`label: …`) and fails unless the
    /// sessions are back and no more than 64 MiB of device memory is missing.
    pub fn assert_restored(&self, label: &str) {
        settle_nvdec(label);
        let (free, _) = video_hw::diagnostics::gpu_memory(0).expect("GPU memory");
        let sessions = video_hw::diagnostics::nvdec_sessions();
        eprintln!(
            "{label}: NVDEC sessions {} -> {sessions}; free device memory {} -> {} MiB",
            self.sessions,
            self.free >> 20,
            free >> 20
        );
        assert_eq!(sessions, self.sessions, "NVDEC sessions leaked");
        assert!(free + (64 << 20) >= self.free, "device memory leaked: {} -> {free}", self.free);
    }
}

/// MD5 (lower-case hex) of a frame's tightly packed planes, as ffmpeg's framemd5 hashes it.
pub fn frame_md5(frame: &video_hw::Frame) -> (usize, String) {
    use md5::{Digest, Md5};
    let host = frame.to_host().expect("frame pixels");
    let mut packed = Vec::new();
    host.write_packed(&mut packed);
    let digest = Md5::digest(&packed);
    (packed.len(), digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// `data` cut into pieces whose sizes cycle through `sizes` (the last piece may be
/// shorter), each with its number: feeding uneven chunks exercises splits anywhere.
pub fn uneven_chunks<'a>(data: &'a [u8], sizes: &'a [usize]) -> impl Iterator<Item = (usize, &'a [u8])> + 'a {
    let mut at = 0;
    sizes
        .iter()
        .cycle()
        .map_while(move |&size| {
            (at < data.len()).then(|| {
                let end = (at + size.max(1)).min(data.len());
                let piece = &data[at..end];
                at = end;
                piece
            })
        })
        .enumerate()
}

/// Decodes a whole Annex-B file with `config`, feeding it in `chunk`-byte pieces, and
/// returns every frame's (size, md5), plus the bitstream errors `submit` reported.
pub fn decode_md5s(
    path: &Path,
    config: video_hw::DecoderConfig,
    chunk: usize,
) -> video_hw::Result<(Vec<(usize, String)>, usize)> {
    decode_bytes_md5s(&std::fs::read(path)?, config, chunk)
}

/// [`decode_md5s`] of a stream in memory.
pub fn decode_bytes_md5s(
    data: &[u8],
    config: video_hw::DecoderConfig,
    chunk: usize,
) -> video_hw::Result<(Vec<(usize, String)>, usize)> {
    let mut dec = video_hw::Decoder::open(config)?;
    let mut out = Vec::new();
    let mut errors = 0;
    for (i, piece) in data.chunks(chunk.max(1)).enumerate() {
        match dec.submit(video_hw::Input::annexb(piece, i as i64)) {
            Ok(()) => {}
            Err(video_hw::Error::InvalidBitstream { .. }) => errors += 1,
            Err(e) => return Err(e),
        }
        while let Some(f) = dec.try_reap()? {
            out.push(frame_md5(&f));
        }
    }
    for f in dec.flush()? {
        out.push(frame_md5(&f));
    }
    Ok((out, errors))
}

/// Per stream, its frames' (size, md5) in the order they were handed out.
pub type StreamMd5s = Vec<Vec<(usize, String)>>;

/// Runs `decode` over `streams` and returns every stream's frames' (size, md5) in the
/// order they were handed out, and the run's figures.
pub fn segmented_md5s<S: AsRef<[u8]> + Sync>(
    streams: &[S],
    decode: &video_hw::pipeline::SegmentedDecode,
) -> video_hw::Result<(StreamMd5s, video_hw::pipeline::SegmentedStats)> {
    let mut got = vec![Vec::new(); streams.len()];
    let stats = decode.run(streams, |stream, frame| {
        got[stream].push(frame_md5(&frame));
        Ok(())
    })?;
    Ok((got, stats))
}

/// One elementary-stream fixture of `testdata/fixtures.json`.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Path relative to `testdata/`.
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// "h264" or "hevc".
    pub codec: String,
    /// ffprobe's profile name.
    pub profile: String,
    /// Display size.
    pub width: u32,
    /// Display size.
    pub height: u32,
    /// 8 or 10.
    pub bit_depth: u32,
    /// Frames a software decoder outputs.
    pub frames: u64,
    /// Random access points: IDR pictures plus intra pictures carrying a recovery-point
    /// SEI (H.264; not the P pictures of intra refresh), IRAP pictures (HEVC).
    pub keyframes: u64,
    /// Interlaced (MBAFF/PAFF).
    pub interlaced: bool,
}

/// `keyframes` of fixtures.json counts IDR pictures only; an H.264 recovery point on an
/// I picture (open GOP) is a clean random access point too. The fixtures put recovery
/// points either on every non-IDR I picture (open GOP) or on P pictures (intra refresh),
/// so the I-picture recovery points are min(recovery points, I pictures - IDRs).
fn random_access_points(e: &serde_json::Value) -> u64 {
    let idr = e["keyframes"].as_u64().unwrap();
    if e["codec"] != "h264" {
        return idr;
    }
    let recovery = e["recovery_points"].as_u64().unwrap_or(0);
    let slices = e["slices_per_picture"].as_u64().unwrap_or(1).max(1);
    let i_pictures = e["slice_types"]["I"].as_u64().unwrap_or(0) / slices;
    idr + recovery.min(i_pictures.saturating_sub(idr))
}

/// The project's own elementary-stream fixtures.
pub fn fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let text = std::fs::read_to_string(dir.join("fixtures.json")).expect("testdata/fixtures.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("fixtures.json parses");
    v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|e| {
            let rel = e["path"].as_str().unwrap().to_string();
            Fixture {
                path: dir.join(&rel),
                rel,
                codec: e["codec"].as_str().unwrap().to_string(),
                profile: e["profile"].as_str().unwrap_or_default().to_string(),
                width: e["width"].as_u64().unwrap() as u32,
                height: e["height"].as_u64().unwrap() as u32,
                bit_depth: e["bit_depth"].as_u64().unwrap() as u32,
                frames: e["frames"].as_u64().unwrap(),
                keyframes: random_access_points(e),
                interlaced: e["interlaced"].as_bool().unwrap_or(false),
            }
        })
        .collect()
}

/// The packets of an IVF file (AV1/VP9 fixtures): its FourCC (`AV01`, `VP90`) and each
/// packet with its timestamp. IVF: a 32-byte file header (`DKIF`, version, header size,
/// FourCC, size, rate, frame count), then per packet a 12-byte header (32-bit
/// little-endian size, 64-bit timestamp) and the packet.
pub fn read_ivf(path: &Path) -> ([u8; 4], Vec<(i64, Vec<u8>)>) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&data[..4], b"DKIF", "{}: not an IVF file", path.display());
    let header_len = u16::from_le_bytes([data[6], data[7]]) as usize;
    let fourcc = [data[8], data[9], data[10], data[11]];
    let mut packets = Vec::new();
    let mut at = header_len;
    while at + 12 <= data.len() {
        let size = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let pts = i64::from_le_bytes(data[at + 4..at + 12].try_into().unwrap());
        let start = at + 12;
        assert!(start + size <= data.len(), "{}: truncated packet at byte {at}", path.display());
        packets.push((pts, data[start..start + size].to_vec()));
        at = start + size;
    }
    (fourcc, packets)
}

/// Deterministic pseudo-random numbers (xorshift64) for damaging streams in tests: the same
/// seed gives the same mutations on every run, so a failure reproduces.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A container fixture of `testdata/media/`.
pub fn media(name: &str) -> PathBuf {
    repo_root().join("testdata/media").join(name)
}

/// The ffprobe facts of a container fixture (`testdata/media/NAME.json`).
pub fn media_facts(name: &str) -> serde_json::Value {
    let path = media(&format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// Every packet of a demuxer, and the damage errors met on the way (MPEG-TS goes on after
/// damage; the others end there), with a cap against a demuxer that never ends.
pub fn read_all(d: &mut video_hw::media::Demuxer) -> (Vec<video_hw::media::MediaPacket>, Vec<video_hw::Error>) {
    let (mut packets, mut errors) = (Vec::new(), Vec::new());
    for _ in 0..1_000_000 {
        match d.next_packet() {
            Ok(Some(p)) => packets.push(p),
            Ok(None) => return (packets, errors),
            Err(e) => errors.push(e),
        }
    }
    panic!("no end after a million packets");
}

/// `"num/den"` as ffprobe writes a time base or rate.
pub fn rational(s: &str) -> video_hw::Rational {
    let (n, d) = s.split_once('/').unwrap();
    video_hw::Rational::new(n.parse().unwrap(), d.parse().unwrap())
}

/// `frames` encoded by a blocking encoder opened from `config`, each with its own pts (as
/// the async encoders submit them): every packet, the flush's included.
pub fn encode_all(config: video_hw::EncoderConfig, frames: &[video_hw::Frame]) -> Vec<video_hw::Packet> {
    let mut enc = video_hw::Encoder::open(config).expect("encoder");
    let mut packets = Vec::new();
    for f in frames {
        enc.submit(f, video_hw::FrameOptions { pts: f.pts, ..Default::default() }).expect("encode");
        while let Some(p) = enc.try_reap().expect("reap") {
            packets.push(p);
        }
    }
    packets.extend(enc.flush().expect("flush"));
    packets
}

/// The B-pyramid MP4 fixture's samples (30 frames, reordered), as owned decode input.
pub fn bpyramid_mp4_samples() -> Vec<video_hw::pipeline::DecodeInput> {
    use video_hw::pipeline::DecodeInput;
    let mut d = video_hw::media::Demuxer::open(repo_root().join("testdata/mp4/high-bpyramid-8x8-wp-cars-320x240.mp4"))
        .expect("the B-pyramid MP4 fixture");
    let track = d.video_track().expect("a video track").clone();
    let record = DecodeInput::track_record(&track);
    let mut out = Vec::new();
    while let Some(p) = d.next_packet().expect("a packet") {
        if p.track == track.index {
            out.push(DecodeInput::from_media(record.as_ref(), p));
        }
    }
    out
}

/// The process's CPU time (user + system), from /proc: for tests that check a stalled
/// pipeline does not spin.
#[cfg(target_os = "linux")]
pub fn process_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a comm field") + 2..].split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    std::time::Duration::from_millis(ticks * 1000 / hz)
}

/// Asserts that the process, stalled, waits instead of spinning: under 100 ms of CPU in
/// 400 ms (after 50 ms to settle). Linux only (the CPU clock is read from /proc).
pub fn assert_not_spinning() {
    #[cfg(target_os = "linux")]
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let before = process_cpu();
        std::thread::sleep(std::time::Duration::from_millis(400));
        let used = process_cpu() - before;
        assert!(used < std::time::Duration::from_millis(100), "{used:?} of CPU while stalled");
    }
}

/// The corpus's H.264 streams (`.h264`, `.264`, `.jsv`, outside `bad/`) that have an
/// ffmpeg yuv420p reference (`FILE.yuv.framemd5`), with it, sorted.
pub fn corpus_h264_with_references(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    corpus_with_references(dir, &["h264", "264", "jsv"])
}

/// The corpus's streams with one of `extensions` (outside `bad/`) that have an ffmpeg
/// yuv420p reference (`FILE.yuv.framemd5`), with it, sorted.
pub fn corpus_with_references(dir: &Path, extensions: &[&str]) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for sub in std::fs::read_dir(dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() || sub.ends_with("bad") {
            continue;
        }
        for entry in std::fs::read_dir(&sub).unwrap() {
            let path = entry.unwrap().path();
            let wanted = path.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e));
            let reference = PathBuf::from(format!("{}.yuv.framemd5", path.display()));
            if wanted && reference.exists() {
                out.push((path, reference));
            }
        }
    }
    out.sort();
    out
}
