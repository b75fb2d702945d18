//! The embedded engine (OpenH264, with the project's patches) on any bytes taken as an
//! H.264 Annex-B stream fed in pieces: decoding and flushing never crash, hang or allocate
//! without bound, and every frame out has the size and planes it says. Built with clang's
//! AddressSanitizer and coverage on the C++ too (docs/fuzzing.md, "OpenH264"), so reads
//! and writes out of bounds in the decoder are caught, not only panics on the Rust side.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Input, Output, PixelFormat};

fuzz_target!(|data: &[u8]| {
    let config = DecoderConfig::new(Codec::H264)
        .output(Output::Host(PixelFormat::Yuv420p))
        .engine(EnginePreference::Only(Engine::OpenH264));
    let Ok(mut decoder) = Decoder::open(config) else { return };
    let check = |frame: &video_hw::Frame| {
        let host = frame.host_data().expect("host output");
        let want = PixelFormat::Yuv420p.frame_size(frame.width, frame.height);
        assert_eq!(host.as_bytes().len(), want, "{}x{} frame", frame.width, frame.height);
    };
    // Pieces of 4 KiB, as a socket gives them, then a drain.
    for piece in data.chunks(4096) {
        let _ = decoder.submit(Input::annexb(piece, None));
        while let Ok(Some(frame)) = decoder.try_reap() {
            check(&frame);
        }
    }
    if let Ok(frames) = decoder.flush() {
        frames.iter().for_each(check);
    }
});
