//! The library's integration tests, in one test binary: each `tests/<name>.rs` listed here
//! is a module of it (`cargo test -p video-hw --test suite <name>::` runs one file's tests).
//!
//! One binary instead of one per file: on CI's two cores, linking 44 test binaries against
//! the library took minutes of the build, and libtest keeps both cores busy across files
//! instead of running the files one after another, each with its slowest test as its tail.
//! Files whose tests change or read what the whole process shares are binaries of their own
//! (`Cargo.toml` lists them): a global metrics recorder (`metrics_recorder.rs`), a counting
//! allocator (`rav1d_leak.rs`), `fork` (`fork.rs`), the thread count a software session gets
//! beside the others open (`reader_threads.rs`), FFmpeg's process-wide log hook
//! (`ffmpeg_encode_aom.rs`), and the GPU tests (`gpu_*.rs`, run by name on a GPU machine);
//! `layering.rs` too, as the docs run it by name.

mod common;
/// The async tests' feeding and draining (`common/streams.rs` says why it is not in `common`).
#[path = "common/streams.rs"]
mod streams;

#[path = "async_session.rs"]
mod async_session;
#[path = "audio_decode.rs"]
mod audio_decode;
#[path = "audio_fixtures.rs"]
mod audio_fixtures;
#[path = "audio_ranges.rs"]
mod audio_ranges;
#[path = "colour.rs"]
mod colour;
#[path = "corpus_detect.rs"]
mod corpus_detect;
#[path = "corpus_ffmpeg_bitexact.rs"]
mod corpus_ffmpeg_bitexact;
#[path = "corpus_h264_parse.rs"]
mod corpus_h264_parse;
#[path = "corpus_hevc_parse.rs"]
mod corpus_hevc_parse;
#[path = "corpus_openh264_bitexact.rs"]
mod corpus_openh264_bitexact;
#[path = "environment.rs"]
mod environment;
#[path = "fallback_visibility.rs"]
mod fallback_visibility;
#[path = "ffmpeg_av1_vp9.rs"]
mod ffmpeg_av1_vp9;
#[path = "ffmpeg_codecs.rs"]
mod ffmpeg_codecs;
#[path = "ffmpeg_encode.rs"]
mod ffmpeg_encode;
#[path = "frame_counts.rs"]
mod frame_counts;
#[path = "h264_proptest.rs"]
mod h264_proptest;
#[path = "hevc_proptest.rs"]
mod hevc_proptest;
#[path = "index_cache.rs"]
mod index_cache;
#[path = "media_audio.rs"]
mod media_audio;
#[path = "media_avi.rs"]
mod media_avi;
#[path = "media_demux.rs"]
mod media_demux;
#[path = "media_index.rs"]
mod media_index;
#[path = "media_mkv.rs"]
mod media_mkv;
#[path = "media_mux.rs"]
mod media_mux;
#[path = "media_ts.rs"]
mod media_ts;
#[path = "media_ts_av1.rs"]
mod media_ts_av1;
#[path = "openh264.rs"]
mod openh264;
#[path = "openh264_reconfig.rs"]
mod openh264_reconfig;
#[path = "packet_input.rs"]
mod packet_input;
#[path = "pipeline.rs"]
mod pipeline;
#[path = "pipeline_async.rs"]
mod pipeline_async;
#[path = "pipeline_quality.rs"]
mod pipeline_quality;
#[path = "rate_control.rs"]
mod rate_control;
#[path = "rav1d_av1.rs"]
mod rav1d_av1;
#[path = "rav1e_av1.rs"]
mod rav1e_av1;
#[path = "reader.rs"]
mod reader;
#[path = "reader_auto.rs"]
mod reader_auto;
#[path = "reader_left_out.rs"]
mod reader_left_out;
#[path = "reader_state.rs"]
mod reader_state;
#[path = "segmented_decode.rs"]
mod segmented_decode;
#[path = "split_proptest.rs"]
mod split_proptest;
#[path = "transcode_builder.rs"]
mod transcode_builder;
#[path = "transform.rs"]
mod transform;

/// With `autotests = false`, a test file that is neither a module here nor a `[[test]]` of
/// its crate's `Cargo.toml` would build nothing and pass unseen: every `tests/*.rs` of the
/// library and the CLI is one of the two, exactly once.
#[test]
fn every_test_file_is_built_once() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in ["video-hw", "video-hw-cli"] {
        let dir = crates.join(krate);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let suite = std::fs::read_to_string(dir.join("tests/suite.rs")).unwrap();
        let quoted = |line: &str, key: &str| {
            let rest = line.trim().strip_prefix(key)?;
            Some(rest.trim_start_matches([' ', '=', '(']).trim_start_matches('"').split('"').next()?.to_string())
        };
        let mut built: Vec<String> = manifest
            .lines()
            .filter_map(|l| quoted(l, "path"))
            .filter(|p| p.starts_with("tests/"))
            .map(|p| p["tests/".len()..].to_string())
            .collect();
        built.extend(suite.lines().filter_map(|l| quoted(l, "#[path")).filter(|p| !p.contains('/')));
        built.sort();
        let mut files: Vec<String> = std::fs::read_dir(dir.join("tests"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rs"))
            .collect();
        files.sort();
        assert_eq!(built, files, "{krate}: tests/*.rs against suite.rs's modules and Cargo.toml's [[test]] paths");
    }
}
