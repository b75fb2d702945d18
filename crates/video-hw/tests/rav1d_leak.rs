//! rav1d's C API leaks the metadata reference of the empty picture it writes back after
//! each picture is released (48 bytes a picture: ~10 MB an hour of 60 fps video per
//! session, found by the fuzzer's LeakSanitizer). The session frees it: memory held
//! after many decodes is what it was after the first. A binary of its own, because it
//! counts every allocation of the process.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Input, Output};

/// Bytes allocated and not yet freed, by anyone in the process.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn decoding_holds_no_more_memory_after_many_pictures() {
    let (_, packets) = common::read_ivf(&common::fixtures_dir().join("av1/svtav1-cars-320x240.ivf"));
    let decode = |low_latency: bool| {
        let config = DecoderConfig::new(Codec::Av1)
            .output(Output::HOST_YUV420P)
            .engine(EnginePreference::Only(Engine::Rav1d))
            .low_latency(low_latency);
        let mut dec = Decoder::open(config).unwrap();
        let mut n = 0;
        for _ in 0..20 {
            for (pts, data) in &packets {
                dec.submit(Input::packet(data, *pts)).unwrap();
                while dec.try_reap().unwrap().is_some() {
                    n += 1;
                }
            }
            n += dec.flush().unwrap().len();
        }
        n
    };
    for low_latency in [false, true] {
        // The first run fills what lives for the process (the registry, rav1d's tables).
        decode(low_latency);
        let before = LIVE.load(Ordering::Relaxed);
        let mut pictures = 0;
        for _ in 0..3 {
            pictures += decode(low_latency);
        }
        assert!(pictures > 500, "{pictures} pictures");
        // 48 bytes a picture was the leak; allow far less than one byte a picture.
        let grown = settled(before);
        if grown >= 256 {
            // rav1d's workers free their buffers as they wind down, after the session is
            // gone: on a loaded machine (CI) megabytes can still be held for a moment. What
            // is held for good does not grow with more pictures; a leak does.
            let again = LIVE.load(Ordering::Relaxed);
            let mut more = 0;
            for _ in 0..3 {
                more += decode(low_latency);
            }
            let grown_again = settled(again);
            assert!(
                grown_again < 256,
                "low latency {low_latency}: {grown} bytes more held after {pictures} pictures, \
                 and {grown_again} more after {more} more"
            );
        }
    }
}

/// The bytes held beyond `before`, once they stop falling (up to 2 s).
fn settled(before: isize) -> isize {
    let mut grown = LIVE.load(Ordering::Relaxed) - before;
    for _ in 0..200 {
        if grown < 256 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        grown = LIVE.load(Ordering::Relaxed) - before;
    }
    grown
}
