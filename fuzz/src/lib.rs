//! Shared pieces of the fuzz targets: an allocation-counting global allocator, the framed
//! input format of the slice-header targets, and preloaded real parameter sets.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The system allocator, remembering the largest single allocation made while counting.
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[inline]
fn note(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on unchanged to `System`; only sizes are recorded.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations up to this size are always allowed: fixed tables (256 PPS slots, …) and
/// error messages do not depend on the input length.
pub const ALLOC_SLACK: usize = 64 << 10;
/// Beyond the slack, one allocation may be at most this many times the input length.
pub const ALLOC_FACTOR: usize = 16;

/// Runs `f` (library work) and asserts that no single allocation it made was larger
/// than `ALLOC_FACTOR * input_len + ALLOC_SLACK` bytes.
pub fn bounded_allocations<R>(input_len: usize, f: impl FnOnce() -> R) -> R {
    LARGEST.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let r = f();
    COUNTING.store(false, Ordering::Relaxed);
    let largest = LARGEST.load(Ordering::Relaxed);
    let limit = ALLOC_FACTOR * input_len + ALLOC_SLACK;
    if *REPORT {
        report(input_len, largest);
    }
    assert!(largest <= limit, "one allocation of {largest} bytes for a {input_len}-byte input (limit {limit})");
    r
}

/// With `FUZZ_ALLOC_REPORT=1` in the environment, every input that needs a new record
/// single allocation, absolute or per input byte, is reported on stderr (run a target over
/// its corpus with `-runs=0` to see how close the corpus comes to the limit).
static REPORT: LazyLock<bool> = LazyLock::new(|| uncounted(|| std::env::var_os("FUZZ_ALLOC_REPORT").is_some()));
static MAX_BYTES: AtomicUsize = AtomicUsize::new(0);
static MAX_RATIO_MILLI: AtomicU64 = AtomicU64::new(0);

fn report(input_len: usize, largest: usize) {
    let ratio_milli = (largest as u64 * 1000) / input_len.max(1) as u64;
    let bytes_record = largest > MAX_BYTES.fetch_max(largest, Ordering::Relaxed);
    // The ratio only means something above the slack.
    let ratio_record =
        largest > ALLOC_SLACK / 16 && ratio_milli > MAX_RATIO_MILLI.fetch_max(ratio_milli, Ordering::Relaxed);
    if bytes_record || ratio_record {
        uncounted(|| {
            eprintln!(
                "alloc report: largest single allocation {largest} B for a {input_len} B input ({}.{:03} x)",
                ratio_milli / 1000,
                ratio_milli % 1000
            )
        });
    }
}

/// Runs `f` (the harness's own bookkeeping) without counting its allocations.
pub fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    let was = COUNTING.swap(false, Ordering::Relaxed);
    let r = f();
    COUNTING.store(was, Ordering::Relaxed);
    r
}

/// Splits the framed input of the slice-header targets: a 2-byte big-endian length and an
/// SPS, a 2-byte length and a PPS, then the slice NAL unit (fuzz/seed.py writes them).
pub fn framed(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (sps, rest) = take_prefixed(data)?;
    let (pps, slice) = take_prefixed(rest)?;
    Some((sps, pps, slice))
}

fn take_prefixed(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u16::from_be_bytes([*data.first()?, *data.get(1)?]) as usize;
    let body = data.get(2..2 + len)?;
    Some((body, &data[2 + len..]))
}

/// Real H.264 SPS NAL units: Constrained Baseline, High, High 10 and High 4:4:4
/// (chroma_format_idc 3, which changes the PPS's scaling-list count).
pub const H264_SPS: [&str; 4] = [
    "6742c00dd90141fa1000000300100000030320f142a480",
    "6764000dacd94141fa1000000300100000030320f1429960",
    "676e000da6cd94141fb011000003000100000300320f142996",
    "67f4000a919b2884d808800000030080000019078912cb",
];

/// Real HEVC SPS NAL units: Main, Main 10 and Main 4:4:4 (RExt).
pub const HEVC_SPS: [&str; 3] = [
    "42010101600000030090000003000003003ca00a080f165959a4932b9a7080000003008000000c84",
    "42010102200000030090000003000003003ca00a080f136595964932bc05a02000000300200000030321",
    "4201010408000003009e0800000300001e90041020b2cacd24995e02d0100000030010000003019080",
];

/// Decodes a hex string (the constants above).
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// Default AddressSanitizer options of every target. The bundled OpenH264 C++ sources
/// (compiled into `video-hw`, instrumented too) define identical constant tables in two
/// files, which ASan reports as a one-definition-rule violation at start-up; it is
/// harmless, and the targets never reach that code.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_default_options() -> *const std::ffi::c_char {
    c"detect_odr_violation=0".as_ptr()
}

/// Feeds every NAL unit of the Annex-B `data` to a reference tracker as an access unit of
/// its own (`access_unit`: `h264::RefTracker` or `hevc::RefTracker`), until it fails, and
/// checks what it reports: pictures numbered without gaps, each one's references earlier
/// pictures, ascending.
pub fn check_ref_tracker(
    data: &[u8],
    mut access_unit: impl FnMut(&[u8]) -> video_hw_types::Result<Option<video_hw_bitstream::refs::PictureRefs>>,
) {
    let mut pictures = 0;
    for nal in video_hw_bitstream::annexb::split_all(data) {
        match access_unit(nal) {
            Ok(Some(p)) => {
                assert_eq!(p.picture, pictures);
                assert!(p.refs.windows(2).all(|w| w[0] < w[1]));
                assert!(p.refs.iter().all(|&r| r < p.picture));
                pictures += 1;
            }
            Ok(None) => {}
            // After an error the tracker is of no further use.
            Err(_) => return,
        }
    }
}
