//! The built-in AV1 engine (rav1d, through `backend/rav1d`) on any bytes taken as a
//! sequence of temporal units: decoding, reaping and flushing never crash, abort, hang
//! or exhaust memory (any `Err` is fine), and every frame out has the size its format
//! says. rav1d is Rust, so cargo-fuzz's AddressSanitizer and coverage reach it (the
//! `asm` feature's assembly, which the default build uses, is not instrumented).
//!
//! Input: a flags byte, then temporal units, each a 2-byte little-endian length and that
//! many bytes (a length past the end takes what is left). A unit of length 0 flushes the
//! session there (which also resets rav1d: what follows is decoded as a new stream).
//! Flags: bit 0 low latency, bit 1 film grain off, bits 2-3 the output (NV12, planar
//! 4:2:0, RGB24, metadata only). fuzz/seed.py writes real AV1 streams in this form.
//! Build it with `cargo fuzz build -O` (docs/fuzzing.md, "AV1": rav1d's debug assertions
//! make it too slow to fuzz).
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Frame, FrameData, Input, Output, PixelFormat};

// Linked for its AddressSanitizer options (see `__asan_default_options` there).
extern crate video_hw_fuzz;

/// The largest picture the session lets rav1d make (`MAX_PIXELS` in backend/rav1d).
const MAX_PIXELS: u64 = 8192 * 8192;

fn check(frame: &Frame) {
    assert!(frame.width > 0 && frame.height > 0, "{}x{} frame", frame.width, frame.height);
    assert!(u64::from(frame.width) * u64::from(frame.height) <= MAX_PIXELS, "{}x{} frame", frame.width, frame.height);
    match &frame.data {
        FrameData::Host(host) => {
            let want = frame.format.frame_size(frame.width, frame.height);
            assert_eq!(host.as_bytes().len(), want, "{}x{} {:?} frame", frame.width, frame.height, frame.format);
        }
        FrameData::None => {}
        _ => panic!("a rav1d frame outside host memory"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let output = match (flags >> 2) & 3 {
        0 => Output::HOST_NV12,
        1 => Output::HOST_YUV420P,
        2 => Output::Host(PixelFormat::Rgb24),
        _ => Output::Metadata,
    };
    let config = DecoderConfig::new(Codec::Av1)
        .engine(EnginePreference::Only(Engine::Rav1d))
        .threads(1)
        .low_latency(flags & 1 != 0)
        .film_grain(flags & 2 == 0)
        .output(output);
    let Ok(mut decoder) = Decoder::open(config) else { return };
    let mut pts = 0i64;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (unit, tail) = rest[2..].split_at(len);
        rest = tail;
        if unit.is_empty() {
            if let Ok(frames) = decoder.flush() {
                frames.iter().for_each(check);
            }
            continue;
        }
        let _ = decoder.submit(Input::packet(unit, pts));
        pts += 1;
        while let Ok(Some(frame)) = decoder.try_reap() {
            check(&frame);
        }
    }
    if let Ok(frames) = decoder.flush() {
        frames.iter().for_each(check);
    }
});
