//! Audio files and tracks on any bytes, decoded by the built-in engines: WAV, FLAC, Ogg
//! (Vorbis, Opus; our first-page scan), MP3/MP2 (our frame splitter), ADTS, and the audio
//! tracks of MP4, Matroska and MPEG-TS. Opening, every sample, a range after the end and a
//! seek back never panic and never hang; damage ends a track early or is skipped, counted.
//! FFmpeg is kept out (`fuzz/run.sh` sets `VIDEO_HW_FFMPEG_DIR=none` for this target): its
//! decoders are not ours to fuzz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use video_hw::audio::{AudioDecoder, AudioOptions};

// Linked for its AddressSanitizer options (see `__asan_default_options` there).
extern crate video_hw_fuzz;

/// libFuzzer's panic hook aborts on every panic, even one the library catches: the built-in
/// engines run Symphonia's and ropus's decoders under `catch_unwind` and count a packet that
/// panics as damage (a port of C panics where the C had undefined behaviour). Panics raised
/// in those crates go on unwinding to that guard without the hook's abort; a panic anywhere
/// else, or one of theirs that escapes the guard (libfuzzer-sys aborts on a panic that
/// reaches the fuzz target), is still a crash.
fn let_engine_guards_catch_decoder_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map_or("", |l| l.file());
            if !(file.contains("/symphonia") || file.contains("/ropus")) {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_engine_guards_catch_decoder_panics();
    let Ok(mut d) = AudioDecoder::from_bytes(data.to_vec(), AudioOptions::default()) else { return };
    if let Ok(all) = d.get_all_samples() {
        assert_eq!(all.data.len(), all.frames() * all.channels, "whole frames of every channel");
        // Decoders make finite samples; float PCM is passed on as the file has it.
        if !d.metadata().codec.starts_with("pcm_f") {
            assert!(all.data.iter().all(|s| s.is_finite()), "finite samples");
        }
    }
    let _ = d.get_samples_played_in_range(1.0e6, Some(1.0e6 + 1.0));
    let _ = d.get_samples_played_in_range(0.0, Some(0.05));
});
