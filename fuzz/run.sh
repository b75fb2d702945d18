#!/usr/bin/env bash
# Runs fuzz targets one after another for a given time each, with the options used for
# docs/fuzzing.md, and prints libFuzzer's final statistics. Logs go to fuzz/logs/ and
# crashes to fuzz/artifacts/<target>/ (both git-ignored).
#
# usage: fuzz/run.sh SECONDS TARGET...     (fuzz/seed.sh first, for the seed corpora)
#
# The targets are built once (`cargo fuzz build`) and then run directly, which is what
# `cargo fuzz run TARGET corpus/TARGET -- OPTIONS` does, except that it builds before
# every run. FUZZ_NO_BUILD=1 skips the build (to keep fuzzing the binaries already built
# while the sources change).
set -euo pipefail
cd "$(dirname "$0")"
secs=$1
shift
[[ ${FUZZ_NO_BUILD:-} == 1 ]] || RUSTC_BOOTSTRAP=1 cargo fuzz build
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in "$@"; do
    case $t in
        h264_sps | h264_pps | hevc_vps | hevc_sps | hevc_pps) max_len=1024 ;;
        h264_slice_header | hevc_slice_header) max_len=2048 ;;
        avcc) max_len=4096 ;;
        audio_adts | audio_asc | audio_opus_head) max_len=512 ;;
        audio_decode) max_len=65536 ;;
        split_consistency) max_len=8192 ;;
        demux_mkv) max_len=65536 ;;
        demux_ts) max_len=65536 ;;
        demux_mp4 | demux_avi) max_len=131072 ;;
        demux_raw) max_len=32768 ;;
        *) max_len=16384 ;;
    esac
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t: ${secs}s, max_len $max_len" >&2
    # audio_decode fuzzes the built-in audio engines: FFmpeg stays unloaded.
    env=(); [[ $t == audio_decode ]] && env=(VIDEO_HW_FFMPEG_DIR=none)
    env "${env[@]}" "$bin/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$secs" -rss_limit_mb=2048 \
        -max_len="$max_len" -timeout=5 -print_final_stats=1 "corpus/$t" >"logs/$t.log" 2>&1 || {
        echo "$t stopped: see fuzz/logs/$t.log and fuzz/artifacts/$t/" >&2
        continue
    }
    grep -E '^#[0-9]+ +DONE|^Done|stat::number_of_executed_units|stat::peak_rss_mb' "logs/$t.log" >&2 || true
done
