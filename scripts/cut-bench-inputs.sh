#!/usr/bin/env bash
# Cut the 4K benchmark inputs to whole GOPs small enough to travel to the GPU machine with both
# benchmark peers (one call carries at most 64 MiB; ffmpeg + the PyNvVideoCodec wheel take 38).
# Same encode, same content and bitrate, fewer frames: scripts/bench-nvdec.sh loops every input
# (--repeat-input / -stream_loop / --passes) to the frame counts it wants anyway.
#
#   scripts/cut-bench-inputs.sh        writes, under bench/inputs/ (git-ignored):
#     hevc-2160p-4s.h265   the first 2 GOPs of hevc-2160p-10s.h265 (117 frames: the cut before the
#                          open-GOP CRA drops its 3 leading pictures; ~12.5 MB)
#     h264-2160p-2s.h264   the first GOP of h264-2160p-10s.h264 (60 frames, ~12.9 MB)
#
# Cuts are made by `nvdec_bench cut` (before a keyframe access unit, found by the library's own
# access-unit assembler); the frame counts it prints come from the headers. Needs
# scripts/make-bench-inputs.sh's outputs (or copies of them) in bench/inputs/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_INPUTS:-bench/inputs}
bin=target/release/examples/nvdec_bench
[[ -x $bin ]] || cargo build --release -q --example nvdec_bench
cut_gops() { # SRC DST GOPS
    [[ -f $dir/$1 ]] || { echo "cut-bench-inputs: no $dir/$1 (scripts/make-bench-inputs.sh makes it)" >&2; return 1; }
    "$bin" cut "$dir/$1" --out "$dir/$2" --gops "$3" | python3 -c '
import json, sys
j = json.load(sys.stdin)["to"]
print("cut-bench-inputs: %s: %d frames, %d bytes, %d keyframes, %dx%d" % (j["path"], j["frames"], j["bytes"], j["keyframes"], j["width"], j["height"]))'
}
cut_gops hevc-2160p-10s.h265 hevc-2160p-4s.h265 2
cut_gops h264-2160p-10s.h264 h264-2160p-2s.h264 1
