#!/usr/bin/env bash
# `video-hw transcode` of a 1080p H.264 MP4 (with AAC audio, copied) to MP4: whole-process
# wall time, median of REPEATS (5) runs, for two builds of the CLI side by side (a change
# against its base), with the built-in OpenH264 encoder and with FFmpeg's (libx264).
#
#   scripts/bench-cli-transcode.sh BEFORE_BINARY AFTER_BINARY
#   REPEATS=7 SECONDS_OF_VIDEO=20 scripts/bench-cli-transcode.sh old/video-hw target/release/video-hw
#
# The input, made once by ffmpeg (testsrc2 at 1920x1080, 30 fps, libx264 `fast`, an IDR every
# 60 frames; a 440 Hz sine as AAC), is kept as bench/inputs/transcode-1080p-SECONDS.mp4
# (git-ignored). Runs alternate between the two builds (the first on odd rounds, the second on
# even). Prints a markdown table of the medians. Needs ffmpeg with libx264.
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE=${1:?usage: $0 BEFORE_BINARY AFTER_BINARY}
AFTER=${2:?usage: $0 BEFORE_BINARY AFTER_BINARY}
REPEATS=${REPEATS:-5}
SECS=${SECONDS_OF_VIDEO:-10}
INPUTS=${BENCH_INPUTS:-bench/inputs}
IN=$INPUTS/transcode-1080p-$SECS.mp4
mkdir -p "$INPUTS"
if [[ ! -s $IN ]]; then
  ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t "$SECS" \
    -c:v libx264 -preset fast -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$IN"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# Seconds of wall time of one run of BINARY with the encoder ENGINE.
run() {
  local bin=$1 engine=$2 t0 t1
  t0=$(date +%s.%N)
  "$bin" -q transcode "$IN" -o "$OUT/out.mp4" --backend "$engine" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "| encoder | before (s) | after (s) | after / before |"
echo "|---|---|---|---|"
for engine in openh264 ffmpeg; do
  # A warm-up of each (page cache, FFmpeg's libraries).
  run "$BEFORE" "$engine" >/dev/null
  run "$AFTER" "$engine" >/dev/null
  before=() after=()
  for ((i = 1; i <= REPEATS; i++)); do
    if ((i % 2)); then
      before+=("$(run "$BEFORE" "$engine")")
      after+=("$(run "$AFTER" "$engine")")
    else
      after+=("$(run "$AFTER" "$engine")")
      before+=("$(run "$BEFORE" "$engine")")
    fi
  done
  b=$(printf '%s\n' "${before[@]}" | median)
  a=$(printf '%s\n' "${after[@]}" | median)
  printf '| %s | %.3f | %.3f | %.3f |\n' "$engine" "$b" "$a" "$(echo "$a / $b" | bc -l)"
  echo "  runs before: ${before[*]}; after: ${after[*]}" >&2
done
