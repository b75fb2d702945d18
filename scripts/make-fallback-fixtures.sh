#!/usr/bin/env bash
# Make the CUDA-fallback fixtures under testdata/fallback/ (see testdata/README.md, "Fallback
# fixtures"): streams that NVDEC cannot decode although it decodes their codec, so that a
# session asked for CUDA frames decodes them on the CPU and uploads its frames; then rewrite
# testdata/SHA256SUMS.
#
#   scripts/make-fallback-fixtures.sh
#
# - h264-wide-4112x64.mp4: 4:2:0 8-bit H.264 wider than NVDEC's 4096-pixel H.264 limit, which
#   OpenH264 (built in) decodes; with its ffmpeg reference (.nv12.framemd5).
# They serve crates/video-hw/tests/gpu_fallback.rs and python/tests/test_gpu.py. Needs ffmpeg
# with libx264 (Debian: apt-get install ffmpeg). Deterministic: one thread, -bitexact muxing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/testdata/fallback
mkdir -p "$OUT"
FF=(ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -threads 1 -filter_threads 1)
f=$OUT/h264-wide-4112x64.mp4
"${FF[@]}" -f lavfi -i testsrc2=size=4112x64:rate=25 -t 0.4 -pix_fmt yuv420p \
    -c:v libx264 -threads 1 -preset medium -crf 30 -g 5 -bf 1 \
    -map_metadata -1 -fflags +bitexact -flags:v +bitexact "$f"
"${FF[@]}" -i "$f" -pix_fmt nv12 -f framemd5 "$f.nv12.framemd5"
"$ROOT/scripts/make-fixtures.sh" --sums
ls -l "$OUT"
