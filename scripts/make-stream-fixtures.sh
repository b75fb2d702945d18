#!/usr/bin/env bash
# Make the stream-selection fixtures under testdata/streams/ (see testdata/README.md, "Stream
# fixtures"): files with two video streams of different sizes, the smaller first, as
# torchcodec's nasa_13013.mp4 is; then rewrite testdata/SHA256SUMS.
#
#   scripts/make-stream-fixtures.sh
#
# They serve the tests of the default video stream (the largest, then the first, as ffmpeg and
# torchcodec pick it): media_streams.rs and python/tests/test_decoder.py. Needs ffmpeg with
# libx264 (Debian: apt-get install ffmpeg). Deterministic: one thread, -bitexact muxing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/testdata/streams
mkdir -p "$OUT"
FF=(ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -threads 1 -filter_threads 1)
X264=(-c:v libx264 -threads 1 -preset medium -crf 30 -g 5 -bf 1)
IN=(-f lavfi -i testsrc2=size=64x48:rate=25 -f lavfi -i testsrc2=size=96x64:rate=25)
for ext in mp4 mkv; do
    "${FF[@]}" "${IN[@]}" -map 0:v -map 1:v -t 0.2 -pix_fmt yuv420p "${X264[@]}" \
        -map_metadata -1 -fflags +bitexact -flags:v +bitexact "$OUT/two-video.$ext"
done
"$ROOT/scripts/make-fixtures.sh" --sums
ls -l "$OUT"
